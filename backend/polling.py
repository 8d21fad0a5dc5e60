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
# The last stretch before a job's predicted end, polled every ENDGAME_POLL_S (median detection ≈ half of it).
ENDGAME_S = 1.0
ENDGAME_POLL_S = 0.3


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
        # (a job's first progress report gives a prediction within a second or two, so no need to hurry).
        if not s.watched and running_for < 3.0:
            return 0.5
        return SLOW_S if running_for < 20.0 else COLD_S
    rem = s.predicted_run_s - running_for
    if not s.watched:
        # Nobody is showing its progress, so only the end matters: halve the distance to the predicted end
        # each time (this is what keeps many jobs in flight cheap), land on it, then look briskly. A job
        # without progress reports is predicted from this action's usual run time, which is exact enough.
        if rem > 1.5:
            return min(5.0, rem / 2)
        if rem > NEAR_END_S:
            return rem
        overdue = -rem
        return NEAR_END_S if overdue < 0.6 else 0.4 if overdue < 3.0 else SLOW_S
    if rem > ENDGAME_S + 5.0:
        # Far from the end: two fifths of the distance (2.5–10 s), so a person sees the bar move every few
        # seconds while a long job costs well under 0.3 requests per second.
        return max(2.5, min(10.0, rem / 2.5))
    if rem > ENDGAME_S + 0.2:
        # Jump to just before the predicted end. Progress seen at a poll is already a little old, so the
        # prediction runs late by up to a progress step: the true end lies in the last ENDGAME_S before it.
        # (never more than 3/4 of the way: an early prediction, from few progress reports, runs later still).
        return min(rem - ENDGAME_S, rem * 0.75)
    overdue = -rem
    if overdue < 1.0:
        return ENDGAME_POLL_S
    return 0.4 if overdue < 3.0 else SLOW_S
