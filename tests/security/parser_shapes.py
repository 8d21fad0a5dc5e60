"""Hostile Fountain scripts, each at most the script limit (MAX_SCRIPT characters), and one timed parse of
each in a forked process — shared by tests/security/test_parser.py and bench/parser.py.

Each shape aims at one way a parser goes super-linear: an opener rescanned to the end of the text from
every position (notes, boneyard, emphasis, the cue and scene-number patterns), line numbers counted from
the start for every problem, and a paragraph copied for each of its lines.

    python -m tests.security.parser_shapes NAME   → one JSON line: the parse's seconds and what it found
"""
from __future__ import annotations

import json
import multiprocessing
import sys
import time

from backend.scenes import fountain
from backend.scenes.model import MAX_SCRIPT, ScriptErrors
from backend.scenes.script import parse_scene

N = MAX_SCRIPT

SHAPES: dict[str, str] = {
    "nested_notes": "[[" * (N // 2),                       # issue 19: 50k of these took 119 s
    "unclosed_note_per_line": "[[\n" * (N // 3),           # issue 19: 30k took over 5 minutes
    "unclosed_boneyard_per_line": "/*\n" * (N // 3),
    "boneyard_then_notes": "/*" + "[[" * (N // 2 - 1),
    "empty_notes": "[[]]" * (N // 4),
    "closers_and_openers": "]][[" * (N // 4),
    "notes_across_blank_lines": "[[a\n\n" * (N // 5 - 1) + "]]",
    "stars": "*" * N,
    "star_words": "*a " * (N // 3),
    "underscores": "_" * N,
    "underscore_words": "_a " * (N // 3),
    "stars_and_underscores": "*_" * (N // 2),
    "escaped_stars": "\\*" * (N // 2),
    "one_long_line": "a" * N,
    "blank_lines": "\n" * N,
    "section_lines": "#\n" * (N // 2),
    "cue_with_spaces": "ANNA" + " " * (N - 9) + "(\nHi.",
    "scene_number_with_spaces": "INT. A" + " " * (N - 11) + "#1 x#",     # "#1 x#" is no scene number
    "dialogue_blocks": "ANNA\nHi.\n\n" * (N // 10),
}


def measure(name: str) -> dict:
    """Parse one shape as the page does (the Fountain pass, then the scene against a cast)."""
    text = SHAPES[name]
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        scene = parse_scene(text, ["Anna"])
        errors, shots = [], len(scene.shots)
    except ScriptErrors as err:
        errors, shots = [[e.line_no, e.message] for e in err.errors], 0
    t1, c1 = time.perf_counter(), time.process_time()
    doc = fountain.parse(text)      # the Fountain pass alone (parse_scene ran it first), for what it found
    t2 = time.perf_counter()
    return {"shape": name, "chars": len(text), "scene_s": round(t1 - t0, 4), "scene_cpu_s": round(c1 - c0, 4),
            "fountain_s": round(t2 - t1, 4),
            "kinds": sorted({e.kind for e in doc.elements}), "elements": len(doc.elements),
            "problems": [[p.line_no, p.message] for p in doc.problems[:3]], "problem_count": len(doc.problems),
            "errors": errors, "shots": shots}


def _child(name: str, conn) -> None:
    conn.send(measure(name))
    conn.close()


def measure_in_subprocess(name: str, timeout_s: float) -> dict | None:
    """The measurement from a forked child (the modules are already imported), or None when it did not finish
    within timeout_s — the child is then killed, so a runaway parse cannot hold the run."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(name, send), daemon=True)
    child.start()
    send.close()
    try:
        if not recv.poll(timeout_s):
            return None
        return recv.recv()
    finally:
        child.kill()
        child.join()
        recv.close()


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
