"""Add up pytest's JUnit reports into one closing line: `N passed, N failed, N skipped` (errors count as failed)."""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def totals(paths: list[Path]) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for p in paths:
        if not p.is_file():
            continue
        for suite in ET.parse(p).getroot().iter("testsuite"):
            tests, fails = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skips = int(suite.get("skipped", 0))
            passed += tests - fails - skips
            failed += fails
            skipped += skips
    return passed, failed, skipped


if __name__ == "__main__":
    p, f, s = totals([Path(a) for a in sys.argv[1:]])
    print(f"{p} passed, {f} failed, {s} skipped")
