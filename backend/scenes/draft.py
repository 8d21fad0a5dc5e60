"""A draft of a script that has errors: the shots that do parse, so the storyboard still shows them while the
errors are marked on the shots they belong to (a script error does not hide the whole storyboard).

Pure: the script text and the errors in, a Scene (or None) out. Cues of names outside the cast are read as if
they were in it, and lines whose errors remain are left out, at most a few rounds.
"""
from __future__ import annotations

from collections.abc import Iterable

from backend.scenes import fountain
from backend.scenes.model import Scene, ScriptError, ScriptErrors

ROUNDS = 4


def draft_scene(script: str, errors: Iterable[ScriptError]) -> Scene | None:
    from backend.scenes.script import parse_scene
    cues = {e.text for e in fountain.parse(script or "").elements if e.kind == "character" and e.text}
    lines = (script or "").split("\n")
    bad = {e.line_no for e in errors}
    for _ in range(ROUNDS):
        text = "\n".join("" if n + 1 in bad and not lines[n].strip().isupper() else ln
                         for n, ln in enumerate(lines))
        try:
            return parse_scene(text, cues)
        except ScriptErrors as errs:
            new = {e.line_no for e in errs.errors} - bad
            if not new:
                return None
            bad |= new
    return None


def errors_by_shot(scene: Scene, errors: Iterable[ScriptError]) -> dict[int, list[ScriptError]]:
    """Each error under the shot whose lines it falls in (before the first shot: the first)."""
    starts = [(s.line_no, s.index) for s in scene.shots]
    out: dict[int, list[ScriptError]] = {}
    for e in errors:
        idx = starts[0][1] if starts else 0
        for line_no, i in starts:
            if line_no <= e.line_no:
                idx = i
        out.setdefault(idx, []).append(e)
    return out
