"""Progress reports from a running job.

On RunPod a report goes through `runpod.serverless.progress_update`, which shows the latest payload as the job's
`output` while it is IN_PROGRESS. The local endpoint installs its own sink for the duration of a job, so the same
handler reports to whichever queue runs it. Reports are throttled and carry a monotonic `seq`, because RunPod's
updates are fire-and-forget and may arrive out of order.
"""
from __future__ import annotations

import asyncio
import contextvars
import itertools
import time
from collections.abc import Callable
from typing import Any

Sink = Callable[[dict, dict], None]

sink: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("progress_sink", default=None)

MIN_INTERVAL_S = 0.5
# RunPod posts each update from a thread of its own; one that lands after the result leaves the job showing
# IN_PROGRESS (runpod-python #250). The handler keeps this long a quiet gap before it returns.
QUIET_BEFORE_RESULT_S = 1.0
_seq = itertools.count(1)
_last_sent: dict[str, float] = {}


def _runpod_sink(job: dict, payload: dict) -> None:
    import runpod  # only present in the worker image; never imported by the studio's environment

    runpod.serverless.progress_update(job, payload)


def report(job: dict, payload: dict[str, Any], *, force: bool = False) -> bool:
    """Send a progress payload for `job`; returns False when throttled away.

    `force` bypasses the throttle for stage changes, which a person should see even if they come quickly."""
    job_id = str(job.get("id", ""))
    now = time.monotonic()
    if not force and now - _last_sent.get(job_id, 0.0) < MIN_INTERVAL_S:
        return False
    _last_sent[job_id] = now
    body = {**payload, "seq": next(_seq)}
    (sink.get() or _runpod_sink)(job, body)
    return True


def forget(job: dict) -> None:
    _last_sent.pop(str(job.get("id", "")), None)


async def settle(job: dict) -> None:
    """Wait out the quiet gap after the job's last RunPod update, then forget the job.

    Only RunPod's sink needs it: a sink installed by the local endpoint records updates in order, at once."""
    last = _last_sent.pop(str(job.get("id", "")), None)
    if last is None or sink.get() is not None:
        return
    remaining = QUIET_BEFORE_RESULT_S - (time.monotonic() - last)
    if remaining > 0:
        await asyncio.sleep(remaining)
