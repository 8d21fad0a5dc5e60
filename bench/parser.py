"""How long does the Fountain parser take on hostile scripts?

Parses each shape of tests/security/parser_shapes.py (each at most the script limit, 200,000 characters) as
the Scenes page does (parse_scene: the Fountain pass, then the scene against a cast) in a forked child with a
time limit, and prints one line per shape (scene_s wall and scene_cpu_s CPU seconds, and fountain_s: the Fountain
pass alone), then one JSON object: {shape: scene_cpu_s} plus max_cpu_s, max_wall_s and load_avg (the machine's
1-minute load at the end: on a busy machine wall seconds stretch, CPU seconds much less). A shape that
does not finish within --limit seconds is shown as null. Before issue 19, nested_notes took 119 s.

    python bench/parser.py [--limit 60]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.security.parser_shapes import SHAPES, measure_in_subprocess  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=60.0, help="seconds a shape may take before it is stopped")
    args = ap.parse_args()
    cpu: dict[str, float | None] = {}
    wall: list[float] = []
    for name in SHAPES:
        got = measure_in_subprocess(name, args.limit)
        if got is None:
            cpu[name] = None
            print(f"{name:28s} did not finish within {args.limit:g} s", flush=True)
            continue
        cpu[name] = got["scene_cpu_s"]
        wall.append(got["scene_s"])
        print(f"{name:28s} {got['chars']:>7,} chars  parse_scene {got['scene_cpu_s']:6.3f} CPU s, "
              f"{got['scene_s']:6.3f} s wall  (fountain pass {got['fountain_s']:6.3f} s wall)", flush=True)
    done = [t for t in cpu.values() if t is not None]
    print(json.dumps({**cpu, "max_cpu_s": max(done) if done else None, "max_wall_s": max(wall) if wall else None,
                      "load_avg": round(os.getloadavg()[0], 2)}))

if __name__ == "__main__":
    main()
