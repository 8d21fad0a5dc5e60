"""Fault names for tests, and the version the engine reports; light to import, so `python -m worker.preview`
prints its first log lines (and a never-start fault stays up) before the heavy imports."""
from __future__ import annotations

FAULT_MODES = ("never-start", "crash-mid-job", "hang", "reject")
VERSION = "0.3.64"


def parse_fault(value: str | None) -> str | None:
    """Validate a fault name; raises ValueError naming what is allowed."""
    if value in (None, "", "none"):
        return None
    if value in FAULT_MODES or (value.startswith("fail-node:") and len(value) > len("fail-node:")):
        return value
    raise ValueError(f"fault: {value!r} is not one of never-start, crash-mid-job, hang, reject, fail-node:<ClassType>, none")
