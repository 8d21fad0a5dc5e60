"""Who is in a panel and where they stand (pure): the scene builder's guess, the shot's edits, and the `characters`
input of the panel's image job (each character's reference, placement and likeness strength).

A panel shows the speakers of its lines and the cast members its action text names (matched as cues are:
case-insensitive, whole words, spaces collapsed). One character conditions the whole picture; two or more stand
left, right, then centre by order of appearance, unless a shot's edit places them.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from backend.errors import InputError
from backend.scenes.model import REGIONS, Appearance, Shot

MAX_IN_PANEL = 4           # the worker's limit (workflows/characters.py)
# By order of appearance, for 2, 3 and 4 characters; a fourth shares the middle with the third, top and bottom.
ORDER = {1: ("full",), 2: ("left", "right"), 3: ("left", "right", "center"),
         4: ("left", "right", (0.25, 0.0, 0.5, 0.5), (0.25, 0.5, 0.5, 0.5))}
REGION_WORDS = {"centre": "center", "middle": "center", "whole": "full"}


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def named_in(text: str, cast_names: Iterable[str]) -> list[str]:
    """Cast members the text names, in the order they first occur."""
    flat = " ".join(text.split()).casefold()
    found = []
    for name in cast_names:
        m = re.search(rf"(?<!\w){re.escape(_norm(name))}(?!\w)", flat)
        if m:
            found.append((m.start(), name))
    return [n for _, n in sorted(found)]


def placed(names: Sequence[str]) -> tuple[Appearance, ...]:
    names = list(dict.fromkeys(names))[:MAX_IN_PANEL]
    return tuple(Appearance(n, r) for n, r in zip(names, ORDER.get(len(names), ())))


def appearances_for(description: str, speakers: Iterable[str], cast_names: Iterable[str]) -> tuple[Appearance, ...]:
    """The script's guess: whoever the action names (in its order), then whoever speaks over the panel."""
    return placed([*named_in(description, cast_names), *speakers])


def with_appearances(shots: Iterable[Shot], cast_names: Iterable[str]) -> list[Shot]:
    """Each panel with the cast it shows (the scene builder's last step); other shots as they are."""
    names = list(cast_names)
    return [replace(s, appearances=appearances_for(s.description, [ln.character for ln in s.lines], names))
            if s.kind == "panel" else s for s in shots]


def effective(shot: Shot, override: Mapping[str, Any] | None) -> tuple[Appearance, ...]:
    """A shot's edit (`characters` in its overrides: [{"character", "region"?}]) wins over the script's guess;
    a character without a region of their own is placed by order among those without one."""
    edited = (override or {}).get("characters")
    if edited is None:
        return shot.appearances
    taken = {e.get("region") if isinstance(e.get("region"), str) else None for e in edited}
    free = iter(r for r in ORDER.get(len(edited), ()) if r not in taken)
    out = []
    for e in edited:
        region = e.get("region") or next(free, "full")
        out.append(Appearance(e["character"], tuple(region) if isinstance(region, list) else region))
    return tuple(out)


def _region(text: str, who: str) -> str:
    word = REGION_WORDS.get(text.strip().casefold(), text.strip().casefold())
    if word not in REGIONS:
        raise InputError("characters", f"{who}: {text.strip()!r} is not a place in the panel; use one of "
                                       f"{', '.join(REGIONS)} (or centre)")
    return word


def parse_edit(text: str, cast_names: Iterable[str]) -> list[dict[str, str]] | None:
    """The shot editor's field: "Anna: left, Ben: right" (places optional), "none" for nobody, "" to follow the
    script (None). Names must be in the cast."""
    text = (text or "").strip()
    if not text:
        return None
    if text.casefold() in ("none", "nobody", "-"):
        return []
    cast = {_norm(n): n for n in cast_names}
    out: list[dict[str, str]] = []
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        name, _, where = part.partition(":")
        found = cast.get(_norm(name))
        if found is None:
            known = ", ".join(sorted(cast.values(), key=str.casefold)) or "empty"
            raise InputError("characters", f"{name.strip()!r} is not in the cast (cast: {known})")
        if any(e["character"] == found for e in out):
            raise InputError("characters", f"{found} is listed twice")
        entry = {"character": found}
        if where.strip():
            entry["region"] = _region(where, found)
        out.append(entry)
    if len(out) > MAX_IN_PANEL:
        raise InputError("characters", f"{len(out)} characters; a panel holds at most {MAX_IN_PANEL}")
    return out


def describe(appearances: Sequence[Appearance]) -> str:
    """For a card and the editor: "Anna (left), Ben (right)"; a box reads as its fractions."""
    def where(r: Any) -> str:
        return r if isinstance(r, str) else "[" + ", ".join(f"{v:g}" for v in r) + "]"
    if len(appearances) == 1 and appearances[0].region == "full":
        return appearances[0].character
    return ", ".join(f"{a.character} ({where(a.region)})" for a in appearances)


def characters_input(appearances: Sequence[Appearance], cast: Mapping[str, Any],
                     reference_of: Callable[[str], Any]) -> list[dict[str, Any]]:
    """The panel job's `characters`: each character's reference (a path, or a Ref to the step that makes it),
    their likeness strength as the weight, and their region. Characters without a reference are left out."""
    out = []
    for a in appearances:
        char = cast.get(a.character)
        ref = reference_of(a.character) if char is not None else None
        if ref is None:
            continue
        region = list(a.region) if isinstance(a.region, tuple) else a.region
        out.append({"image": ref, "weight": float(getattr(char, "likeness", 0.8)), "region": region})
    return out
