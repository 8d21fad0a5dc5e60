"""When to ask RunPod about a job next: a pure function of what we know about it.

Quick at first (most warm jobs start within a second), slow while a cold start keeps it queued, and, once it
runs, timed against the job's predicted end (from its progress, or from how long this action usually takes),
so the end is noticed within a few hundred ms while a long job costs about one request per second or less.
Jobs nobody is watching are looked at more rarely while far from their end.
"""
from __future__ import annotations

from dataclasses import dataclass

FAST_S = 0.25
NEAR_END_S = 0.15
SLOW_S = 1.0
COLD_S = 2.0


@dataclass(frozen=True)
class PollState:
    status: str                     # "queued" | "running" | "uploading"
    since_submit_s: float
    cold_start: bool = False        # /health says workers are initializing or throttled and none is ready
    running_for_s: float | None = None
    predicted_run_s: float | None = None
    watched: bool = True            # someone is showing this job's progress


def remaining_s(percent: float | None, running_for_s: float | None, typical_s: float | None) -> float | None:
    """Seconds until the job probably ends, or None when we cannot tell."""
    if running_for_s is None:
        return None
    if percent is not None and 5.0 <= percent < 100.0 and running_for_s > 0.5:
        return running_for_s * (100.0 / percent - 1.0)
    if typical_s is not None:
        return typical_s - running_for_s
    return None


def next_interval(s: PollState) -> float:
    if s.status == "queued":
        if s.since_submit_s < 2.0:
            return FAST_S * 2 if s.since_submit_s > 0.3 else FAST_S
        return COLD_S if s.cold_start else min(SLOW_S, 0.5 + 0.05 * s.since_submit_s)
    if s.status == "uploading":
        return NEAR_END_S * 2
    running_for = s.running_for_s or 0.0
    if s.predicted_run_s is None:
        # No idea when it ends: brisk at first, then about once a second, sparser for very long jobs.
        return 0.5 if running_for < 3.0 else SLOW_S if running_for < 20.0 else COLD_S
    rem = s.predicted_run_s - running_for
    if not s.watched and rem > 1.5:
        # Nobody is showing its progress, so only the end matters: halve the distance to the predicted end
        # each time (this is what keeps many jobs in flight cheap).
        return min(5.0, rem / 2)
    if rem > 8.0:
        return 2.5            # far from the end; progress every 2.5 s is enough for a person
    if rem > 3.0:
        return 1.5
    if rem > 1.5:
        return rem / 2        # one look half-way, then ...
    if rem > NEAR_END_S:
        return rem            # ... land on the predicted end
    overdue = -rem
    if overdue < 0.6:
        return NEAR_END_S
    return 0.4 if overdue < 3.0 else SLOW_S
