"""Character references: the `characters` field of a txt2img job (IP-Adapter conditioning).

Each entry is `{"image": base64 | data URI | https URL, "weight": 0–1.5, "region": name | [x, y, w, h]}`; the
region is where in the picture that reference applies (fractions of the picture). Checked here, once, for the
studio, the MCP tools and the worker alike; the worker decodes the images itself (`characters[i].image`).
Standard library only: both the studio and the worker import it.
"""
from __future__ import annotations

import math
from typing import Any

from workflows.catalogue import ParamError

FIELD = "characters"
MAX_CHARACTERS = 4
WEIGHT_MIN, WEIGHT_MAX, WEIGHT_DEFAULT = 0.0, 1.5, 0.8
# Named regions as boxes (x, y, w, h) in fractions of the picture. "center" overlaps both halves: a third
# character between two others.
REGIONS: dict[str, tuple[float, float, float, float]] = {
    "full": (0.0, 0.0, 1.0, 1.0),
    "left": (0.0, 0.0, 0.5, 1.0),
    "right": (0.5, 0.0, 0.5, 1.0),
    "center": (0.25, 0.0, 0.5, 1.0),
    "top": (0.0, 0.0, 1.0, 0.5),
    "bottom": (0.0, 0.5, 1.0, 0.5),
}
ALIASES = {"centre": "center", "middle": "center", "whole": "full"}
KEYS = ("image", "weight", "region")
# A box smaller than this (a fraction of a side) would mask a sliver no face fits in.
MIN_SIDE = 0.05


def allowed() -> str:
    return (f"a list of up to {MAX_CHARACTERS} objects {{\"image\": base64, a data URI or an https URL, "
            f"\"weight\": {WEIGHT_MIN:g}–{WEIGHT_MAX:g} (default {WEIGHT_DEFAULT:g}), \"region\": "
            + " | ".join(f'"{r}"' for r in REGIONS) + " | [x, y, w, h] fractions of the picture}")


def region_box(region: str | list[float] | tuple[float, ...]) -> tuple[float, float, float, float]:
    """The box (x, y, w, h) of a validated region."""
    if isinstance(region, str):
        return REGIONS[region]
    x, y, w, h = (float(v) for v in region)
    return x, y, w, h


def _region(field: str, value: Any) -> str | list[float]:
    if value is None or value == "":
        return "full"
    if isinstance(value, str):
        name = ALIASES.get(value.strip().lower(), value.strip().lower())
        if name in REGIONS:
            return name
        raise ParamError(field, f"{value!r} is not a region; use one of {', '.join(REGIONS)}, "
                                "or [x, y, w, h] as fractions of the picture (0–1)")
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ParamError(field, "expected a region name or [x, y, w, h] (four fractions of the picture, 0–1)")
    nums = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ParamError(field, f"{v!r} is not a number; [x, y, w, h] are fractions of the picture (0–1)")
        nums.append(float(v))
    x, y, w, h = nums
    if not (0 <= x < 1 and 0 <= y < 1 and MIN_SIDE <= w <= 1 and MIN_SIDE <= h <= 1):
        raise ParamError(field, f"{nums} is outside the picture; x and y from 0 to below 1, w and h from "
                                f"{MIN_SIDE:g} to 1")
    if x + w > 1 + 1e-9 or y + h > 1 + 1e-9:
        raise ParamError(field, f"{nums} reaches past the picture's edge (x + w and y + h must be at most 1)")
    return nums


def _weight(field: str, value: Any) -> float:
    if value is None or value == "":
        return WEIGHT_DEFAULT
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ParamError(field, f"{value!r} is not a number; expected {WEIGHT_MIN:g}–{WEIGHT_MAX:g}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParamError(field, f"got {value!r}; expected a number from {WEIGHT_MIN:g}–{WEIGHT_MAX:g}")
    if not WEIGHT_MIN <= value <= WEIGHT_MAX:
        raise ParamError(field, f"{value:g} is out of range; expected a number from {WEIGHT_MIN:g}–{WEIGHT_MAX:g}")
    return float(value)


def validate(value: Any, *, allow_http: bool = False) -> list[dict[str, Any]]:
    """The canonical list, or ParamError naming the entry and key (`characters[1].region`)."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ParamError(FIELD, f"got {type(value).__name__}; expected {allowed()}")
    if len(value) > MAX_CHARACTERS:
        raise ParamError(FIELD, f"{len(value)} characters is too many; at most {MAX_CHARACTERS} per picture")
    out = []
    for i, entry in enumerate(value):
        at = f"{FIELD}[{i}]"
        if isinstance(entry, str):
            entry = {"image": entry}
        if not isinstance(entry, dict):
            raise ParamError(at, f"got {type(entry).__name__}; expected an object with image, weight and region")
        extra = sorted(set(entry) - set(KEYS))
        if extra:
            raise ParamError(f"{at}.{extra[0]}", f"unknown key; allowed keys: {', '.join(KEYS)}")
        image = entry.get("image")
        if not isinstance(image, str) or not image.strip():
            raise ParamError(f"{at}.image", "is required: an image as base64, a data URI or an https URL")
        if image.strip()[:7].lower() == "http://" and not allow_http:
            raise ParamError(f"{at}.image", "plain http URLs are not fetched; use an https URL, base64 or a data URI")
        out.append({"image": image, "weight": _weight(f"{at}.weight", entry.get("weight")),
                    "region": _region(f"{at}.region", entry.get("region"))})
    return out
