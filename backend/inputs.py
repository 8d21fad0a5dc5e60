"""Turn a job's validated values into (what the history stores, what goes on the wire).

Media params arrive as local file paths: they are kept in the library (the row stores the library path, never
the bytes) and sent as data URIs. Which params are media comes from the job catalogue; for actions outside it
(tests, tools) any string that names an existing file is treated as media.
"""
from __future__ import annotations

import functools
import os
from typing import Any

from backend.errors import InputError
from backend.library import Library


@functools.lru_cache(maxsize=1)
def _media_params() -> dict[str, frozenset[str]]:
    try:
        from workflows.catalogue import load_catalogue
        return {name: frozenset(p.name for p in spec.media_params) for name, spec in load_catalogue().items()}
    except Exception:       # the catalogue is optional for the backend; the heuristic below still works
        return {}


def _is_media(action: str, name: str, value: Any) -> bool:
    known = _media_params().get(action)
    if known is not None:
        return name in known and value not in (None, "")
    return isinstance(value, (str, os.PathLike)) and os.path.isabs(str(value)) and os.path.isfile(str(value))


def prepare(action: str, values: dict[str, Any], library: Library) -> tuple[dict[str, Any], dict[str, Any]]:
    stored: dict[str, Any] = {}
    wire: dict[str, Any] = {"action": action}
    for name, value in values.items():
        if not isinstance(name, str) or name == "action":
            raise InputError(str(name), "is not a parameter name")
        if name == "characters" and isinstance(value, list):
            stored[name], wire[name] = _characters(value, library)
            continue
        if _is_media(action, name, value):
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                stored[name] = wire[name] = value
                continue
            path, _ = library.keep_input(name, value)
            stored[name] = path
            wire[name] = library.data_uri(path)
        else:
            stored[name] = value
            wire[name] = value
    return stored, wire


def _characters(value: list, library: Library) -> tuple[list, list]:
    """`characters` (reference images for IP-Adapter): each image kept in the library and sent as a data URI,
    like a media param; weight and region as they are."""
    stored, wire = [], []
    for i, c in enumerate(value):
        if not isinstance(c, dict):
            raise InputError(f"characters[{i}]", "expected an object with image, weight and region")
        image = c.get("image")
        if isinstance(image, str) and image.startswith(("http://", "https://", "data:")):
            stored.append(dict(c))
            wire.append(dict(c))
            continue
        path, _ = library.keep_input(f"characters[{i}].image", image)
        stored.append({**c, "image": path})
        wire.append({**c, "image": library.data_uri(path)})
    return stored, wire
