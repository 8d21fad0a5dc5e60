"""How long workers have been initializing, judged across checks.

RunPod reports no uptime for a worker until it is placed and running (`uptimeSeconds` is null), so a worker stuck
pulling its image never shows an age. Each check (status, doctor) remembers in the state file when it first saw a
worker initializing; the age is the time since then.
"""
from __future__ import annotations

from deploy.models import Worker


def initializing_ages(seen: dict[str, float], workers: list[Worker], now: float) -> tuple[dict[str, float], dict[str, int]]:
    """(sightings to remember, seconds each initializing worker has been seen initializing).

    Workers no longer initializing are forgotten, so one that restarts initializing later starts from zero.
    """
    remember = {w.id: min(float(seen.get(w.id, now)), now) for w in workers if w.status == "initializing"}
    return remember, {wid: int(now - since) for wid, since in remember.items()}
