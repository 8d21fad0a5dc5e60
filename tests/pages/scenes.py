"""Scenes built in code for the pages tests (no parser involved: layout and lettering are tested with numbers)."""
from __future__ import annotations

from backend.scenes.model import Appearance, Line, Scene, Shot


def line(who: str, text: str, paren: str | None = None, no: int = 1) -> Line:
    return Line(character=who, text=text, parenthetical=paren, line_no=no)


def shot(index: int, kind: str = "panel", description: str = "A room.", lines=(), **kw) -> Shot:
    return Shot(index=index, kind=kind, line_no=index + 1, description=description, lines=tuple(lines), **kw)


def chapter(n_panels: int = 100, breaks_every: int = 0) -> Scene:
    """A chapter: a title card, then panels with two speakers, captions, sfx, talking heads and landscapes."""
    shots = [shot(0, "title", "Chapter One")]
    for i in range(1, n_panels):
        kind = "talking_head" if i % 9 == 0 else "panel"
        desc = "Establishing: the harbour at dusk." if i % 7 == 0 else f"Mara and Ben in the cabin, beat {i}."
        lines = []
        if i % 3 != 2:
            lines.append(line("Mara", f"We have {i} minutes before the tide turns, *Ben*."))
        if i % 2 == 0:
            lines.append(line("Ben", "Then we row. Now." if i % 4 else "GET DOWN!", None))
        if i % 5 == 0:
            lines.append(line("Mara", "Is anyone out there?", "thinks"))
        shots.append(shot(i, kind, desc, lines, character="Mara" if kind == "talking_head" else None,
                          caption="Meanwhile, on the pier." if i % 6 == 0 else None,
                          sfx=("KRAK",) if i % 8 == 0 else (),
                          page_break=bool(breaks_every and i % breaks_every == 0),
                          appearances=(Appearance("Mara", "left"), Appearance("Ben", "right"))
                          if kind == "panel" else (Appearance("Mara", "full"),)))
    return Scene(heading="INT. BOAT - NIGHT", title="The Mail Boat", shots=tuple(shots))
