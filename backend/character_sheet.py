"""A character sheet: the views of a turnaround (front, three-quarter, profile, full figure) of one cast member,
each a portrait job conditioned on their reference exactly as their panels are (IP-Adapter, the cast's likeness).

The views and their fixed prompts are data (`workflows/character_sheet.json`); this module only turns a character
into the jobs' inputs. The results are ordinary portraits: the Cast tab offers them as the character's reference.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backend.errors import InputError

SHEET = Path(__file__).resolve().parents[1] / "workflows" / "character_sheet.json"


def sheet() -> dict[str, Any]:
    return json.loads(SHEET.read_text(encoding="utf-8"))


def sheet_jobs(char: Any, styles: Mapping[str, str] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """[(view name, action, inputs)] for one character; their reference (chosen image, else portrait) is required."""
    ref = getattr(char, "reference", None) or char.portrait
    if not ref:
        raise InputError("portrait", f"{char.name} has no portrait yet: make or pick one first, the sheet is drawn "
                                     "from it")
    data = sheet()
    suffix = (styles or {}).get(getattr(char, "style", "None") or "None", "")
    out = []
    for view in data["views"]:
        prompt = ", ".join(p for p in (f"{char.name}, {char.look}" if char.look else char.name, view["prompt"],
                                       suffix) if p)
        inputs = {"prompt": prompt, "width": data["width"], "height": data["height"], "seed": char.seed,
                  "characters": [{"image": ref, "weight": float(char.likeness), "region": "full"}]}
        out.append((view["name"], data["action"], inputs))
    return out


def make_sheet(studio: Any, name: str, styles: Mapping[str, str] | None = None) -> list[Any]:
    """Send the sheet's jobs for a cast member; returns their job records (they finish in the Jobs tab)."""
    char = studio.cast.get(name) if name else None
    if char is None:
        raise InputError("character", "pick a saved character first")
    from workflows.catalogue import load_catalogue
    jobs = [(action, load_catalogue()[action].validate(inputs)) for _view, action, inputs in sheet_jobs(char, styles)]
    return [studio.submit(action, values) for action, values in jobs]
