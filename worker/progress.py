"""Progress reports from a running job.

On RunPod an update is POSTed to the job-done URL with status IN_PROGRESS, and RunPod shows the latest payload as
the job's `output` while it runs. The SDK's own `progress_update` posts each update from a new thread with a new
event loop, so updates may land out of order and one may land after the result, leaving the job IN_PROGRESS
(runpod-python #250). So this module posts through the SDK's same `send_result`, but from one sender per job on
the handler's own loop: updates go out one after another (while one is in flight only the newest waiting one is
kept: RunPod shows only the latest), and `settle()` returns as soon as the one in flight is acknowledged
(bounded by `SETTLE_MAX_S`), dropping a newer one not yet sent: the result supersedes it. So the result is held
back by at most one round trip, and no update can land after it (RunPod would then show the job IN_PROGRESS). The local endpoint installs its own sink for the duration of a job, so the same handler reports
to whichever queue runs it. Reports are throttled and carry a monotonic `seq`.
"""
from __future__ import annotations

import asyncio
import contextvars
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

Sink = Callable[[dict, dict], None]

sink: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("progress_sink", default=None)

log = logging.getLogger("worker")

MIN_INTERVAL_S = 0.5
# The most the result waits for the last RunPod update to be acknowledged (the SDK retries a failed POST).
SETTLE_MAX_S = 5.0
_seq = itertools.count(1)
_last_sent: dict[str, float] = {}


class Channel:
    """One job's ordered RunPod updates."""

    def __init__(self, job: dict, loop: asyncio.AbstractEventLoop):
        self.job, self.loop = job, loop
        self.latest: dict | None = None
        self.task: asyncio.Task | None = None
        self.sent = 0

    def push(self, body: dict) -> None:
        self.latest = body
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        while self.latest is not None:
            body, self.latest = self.latest, None
            try:
                await post(self, body)
                self.sent += 1
            except Exception as exc:            # progress is best effort; never fail a job over it
                log.warning("progress update for job %s failed: %s", self.job.get("id"), exc)

    async def close(self, bound: float | None) -> None:
        # An update not yet sent is dropped: the result supersedes it, and waiting for its round trip too would
        # hold the result back for two acknowledgements instead of at most the one in flight.
        self.latest = None
        if self.task is not None and not self.task.done():
            if bound is None:
                self.task.cancel()
            else:
                try:
                    await asyncio.wait_for(asyncio.shield(self.task), bound)
                except TimeoutError:
                    log.warning("the last progress update of job %s was not acknowledged within %g s",
                                self.job.get("id"), bound)
                    self.task.cancel()


# The SDK's HTTP session per event loop, kept between jobs: building one reads the SDK's credentials file and a
# new one opens a new connection, which together cost more than the update itself.
_sessions: dict[asyncio.AbstractEventLoop, Any] = {}


async def _runpod_post(channel: Channel, body: dict) -> None:
    """RunPod's own progress path (what `runpod.serverless.progress_update` does, minus its thread and loop)."""
    from runpod.http_client import AsyncClientSession   # only in the worker image; never in the studio's env
    from runpod.serverless.modules.rp_http import send_result

    session = _sessions.get(channel.loop)
    if session is None or session.closed:
        for loop in [lp for lp in _sessions if lp.is_closed()]:
            _sessions.pop(loop, None)
        session = _sessions[channel.loop] = AsyncClientSession()
    # send_result sets the session's X-Request-ID header to the job id before each POST; with concurrent jobs on one
    # worker that tracing header may name the other job, but the URL (which RunPod routes by) always names this one.
    await send_result(session, {"status": "IN_PROGRESS", "output": body}, channel.job)


post: Callable[[Channel, dict], Awaitable[None]] = _runpod_post
_channels: dict[str, Channel] = {}


def _runpod_sink(job: dict, payload: dict) -> None:
    job_id = str(job.get("id", ""))
    channel = _channels.get(job_id)
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if channel is None:
        if running is None:
            # Outside any loop (a thread of a job that never reported from its loop): the SDK's own path.
            import runpod
            runpod.serverless.progress_update(job, payload)
            return
        channel = _channels[job_id] = Channel(job, running)
    if running is channel.loop:
        channel.push(payload)
    else:                                       # from a worker thread of the job (e.g. a download)
        channel.loop.call_soon_threadsafe(channel.push, payload)


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
    """The job ended without a result (cancelled, crashed): drop its pending updates."""
    job_id = str(job.get("id", ""))
    _last_sent.pop(job_id, None)
    channel = _channels.pop(job_id, None)
    if channel is not None:
        channel.loop.create_task(channel.close(None))


async def settle(job: dict, bound: float = SETTLE_MAX_S) -> None:
    """Return once the job's last RunPod update is acknowledged (at most `bound` seconds), then forget the job.

    A sink installed by the local endpoint records updates in order, at once: nothing to wait for."""
    job_id = str(job.get("id", ""))
    _last_sent.pop(job_id, None)
    channel = _channels.pop(job_id, None)
    if channel is not None:
        await channel.close(bound)
