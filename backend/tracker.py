"""Follows every job in flight from one asyncio loop and turns RunPod's statuses into JobEvents.

One scheduler task wakes at the earliest due poll; each poll is a short task, so a slow answer for one job
never delays another. Outputs are saved to the library the moment a job ends (RunPod deletes them 30 minutes
later). The SDK's traps are handled here: COMPLETED without output is a failure; a job stuck IN_PROGRESS at
100 % is settled after a grace period; 404 for a job we knew is "expired".
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend import inputs as job_inputs
from backend.client import Health, RunPodClient
from backend.errors import BackendError, FateUnknownError, NotFoundError
from backend.history import History
from backend.library import Library
from backend.polling import PollState, next_interval, remaining_s
from backend.records import JobEvent, JobRecord, Policy

log = logging.getLogger("backend.tracker")

STAGE_WORDS = {"starting": "Starting", "uploading_inputs": "Uploading inputs to ComfyUI",
               "queued": "Waiting for ComfyUI", "running": "Running", "uploading_outputs": "Uploading results",
               "downloading": "Downloading models"}
DEFAULT_COLD_START_S = 60.0
PROGRESS_SAVE_S = 5.0


@dataclass
class _Followed:
    rec: JobRecord
    submitted: float                    # monotonic
    next_poll: float
    running_since: float | None = None
    last_seq: int = -1
    stuck_since: float | None = None
    polling: bool = False
    last_message: str = ""
    saved_at: float = -1e9              # monotonic time of the last progress-only write
    seen_unfinished: bool = False       # this tracker saw it queued or running at its last answered poll


class JobTracker:
    def __init__(self, client: RunPodClient, history: History, library: Library, *, price_per_second: float = 0.0,
                 on_event: Callable[[JobEvent], None] | None = None, stuck_grace_s: float = 30.0,
                 stamp: Callable[[JobRecord], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.client = client
        # The user's bucket (RunPod mode) as the s3Config each job carries; set by the Studio. Never recorded.
        self.s3_config: Callable[[], dict[str, str] | None] = lambda: None
        self.history = history
        self.library = library
        self.price = price_per_second
        self.on_event = on_event or (lambda ev: None)
        self.stuck_grace_s = stuck_grace_s
        self.stamp = stamp              # embeds provenance into finished outputs (in a thread: it may remux)
        self._clock = clock
        self._jobs: dict[str, _Followed] = {}
        self._typical: dict[str, float | None] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._polls: set[asyncio.Task[None]] = set()
        self._health: tuple[float, Health | None] = (-1e9, None)
        self._purged_at = 0.0          # wall time of our last purge-queue: a queued job's 404 after it is a purge
        self._health_lock = asyncio.Lock()
        self._watched: dict[str, int] = {}

    # -- lifecycle --------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Resume the jobs the database says were in flight, then start the scheduler."""
        for rec in self.history.in_flight():
            if rec.remote_id is None:
                self._finish(rec, "unknown", {"code": "fate_unknown", "message":
                             "The studio stopped while sending this job, so RunPod may or may not have it. "
                             "Check the endpoint before running it again."})
            else:
                self._follow(rec)
        self._task = asyncio.create_task(self._schedule(), name="job-tracker")

    async def stop(self) -> None:
        for t in [self._task, *self._polls]:
            if t:
                t.cancel()
        await asyncio.gather(*(t for t in [self._task, *self._polls] if t), return_exceptions=True)
        self._task = None
        self._jobs.clear()

    def set_watched(self, job_id: str, watching: bool) -> None:
        """Count the viewers of a job; a watched job gets more frequent progress while far from its end."""
        n = self._watched.get(job_id, 0) + (1 if watching else -1)
        if n > 0:
            self._watched[job_id] = n
        else:
            self._watched.pop(job_id, None)

    @property
    def in_flight(self) -> list[str]:
        return list(self._jobs)

    # -- commands ---------------------------------------------------------------------------------------------
    async def submit(self, action: str, values: dict[str, Any], policy: Policy) -> JobRecord:
        stored, wire = await asyncio.to_thread(job_inputs.prepare, action, values, self.library)
        rec = JobRecord(id=uuid.uuid4().hex, endpoint=self.client.endpoint_id, action=action, inputs=stored,
                        status="submitted", created_at=time.time(), policy=policy.to_wire())
        # The row exists before /run is sent, so a crash mid-send leaves a trace ("unknown" on restart).
        self.history.save(rec)
        self._emit(rec, "submitted", "Sending the job…")
        try:
            out = await self.client.run(wire, policy, s3_config=self.s3_config())
        except FateUnknownError as exc:
            self._finish(rec, "unknown", exc.to_dict())
            return self.history.get(rec.id) or rec
        except BackendError as exc:
            self._finish(rec, "failed", exc.to_dict())
            raise
        rec.remote_id = str(out["id"])
        rec.status = "queued"
        self.history.save(rec)
        f = self._follow(rec)
        self._emit(rec, "queued", "Queued.")
        f.last_message = "Queued."
        return rec.copy()

    async def purge_queue(self) -> int:
        """Remove every job still waiting in the endpoint's queue; returns how many were removed."""
        out = await self.client.purge_queue()
        self._purged_at = time.time()
        self._wake.set()               # poll the queued jobs now, so their records end as cancelled at once
        return int(out.get("removed") or 0)

    async def cancel(self, job_id: str) -> JobRecord:
        f = self._jobs.get(job_id)
        rec = f.rec if f else self.history.get(job_id)
        if rec is None:
            raise BackendError(f"There is no job {job_id} in the history.")
        if rec.terminal:
            return rec
        if rec.remote_id:
            try:
                out = await self.client.cancel(rec.remote_id)
                if (out or {}).get("status") == "FAILED":
                    # The worker could not stop the run (its ComfyUI kept going): say so, not "cancelled".
                    st = await self.client.status(rec.remote_id)
                    self._finish(rec, "failed", parse_error(st.get("error")))
                    return rec.copy()
            except NotFoundError:
                pass     # already gone at RunPod; cancelled from our side all the same
        self._finish(rec, "cancelled", None)
        return rec.copy()

    async def warm_up(self) -> str:
        """A tiny `health` job wakes a worker; not recorded in the history (it is not the user's work)."""
        out = await self.client.run({"action": "health"}, Policy(60_000, 600_000))
        return f"Asked the endpoint for a worker (warm-up job {out['id']})."

    # -- scheduling -------------------------------------------------------------------------------------------
    def _follow(self, rec: JobRecord) -> _Followed:
        now = self._clock()
        f = _Followed(rec=rec, submitted=now, next_poll=now + 0.1 if rec.status == "queued" else now)
        if rec.action not in self._typical:
            t = self.history.typical_ms(rec.action)
            self._typical[rec.action] = None if t is None else t / 1000
        self._jobs[rec.id] = f
        self._wake.set()
        return f

    async def _schedule(self) -> None:
        while True:
            now = self._clock()
            soonest = now + 3600
            for f in list(self._jobs.values()):
                if f.polling:
                    continue
                if f.next_poll <= now:
                    f.polling = True
                    t = asyncio.create_task(self._poll(f))
                    self._polls.add(t)
                    t.add_done_callback(self._polls.discard)
                else:
                    soonest = min(soonest, f.next_poll)
            self._wake.clear()
            # call_later + Event rather than asyncio.wait_for: on 3.11 wait_for can swallow a cancellation
            # that races with the event being set, which would leave stop() waiting forever.
            timer = asyncio.get_running_loop().call_later(max(0.0, soonest - self._clock()), self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()

    async def _poll(self, f: _Followed) -> None:
        delay: float | None = None
        try:
            if f.rec.terminal or f.rec.id not in self._jobs:
                return
            try:
                st = await self.client.status(f.rec.remote_id or "")
            except NotFoundError:
                if f.rec.status in ("submitted", "queued") and self._purged_at >= f.rec.created_at:
                    self._finish(f.rec, "cancelled", {"code": "purged", "message":
                                 "Removed from the endpoint's queue (purge) before a worker took it."})
                    return
                if f.seen_unfinished:
                    # Seen unfinished at the last poll a few seconds ago: it cannot have ended and outlived its
                    # retention since. The endpoint forgot it (a local endpoint restarted without --state-dir).
                    self._finish(f.rec, "failed", {"code": "lost", "message":
                                 "The endpoint lost this job before it ended: it no longer knows it (a local "
                                 "endpoint that restarts without its state folder forgets its jobs). Run it "
                                 "again."})
                    return
                self._finish(f.rec, "expired", {"code": "expired", "message":
                             "RunPod no longer has this job: its result was deleted after the retention time "
                             "(30 minutes after it ended) or its time-to-live ran out — or the endpoint lost it "
                             "(a local endpoint restarted without its state folder)."})
                return
            except BackendError as exc:
                log.warning("status of %s failed: %s", f.rec.id, exc.message)
                delay = 3.0
                return
            f.seen_unfinished = str(st.get("status", "")) in ("IN_QUEUE", "IN_PROGRESS")
            await self._apply(f, st)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("following job %s", f.rec.id)
            delay = 3.0
        finally:
            f.polling = False
            if f.rec.id in self._jobs and not f.rec.terminal:
                f.next_poll = self._clock() + (delay if delay is not None else self._interval(f))
                self._wake.set()

    def _interval(self, f: _Followed) -> float:
        now = self._clock()
        h = self._health[1]
        cold = bool(h and h.workers["ready"] == 0 and h.workers["idle"] == 0
                    and (h.workers["initializing"] > 0 or h.workers["throttled"] > 0))
        running_for = None if f.running_since is None else now - f.running_since
        pct = (f.rec.progress or {}).get("percent")
        rem = remaining_s(pct if isinstance(pct, (int, float)) else None, running_for, self._typical.get(f.rec.action))
        return next_interval(PollState(status=f.rec.status if f.rec.status != "submitted" else "queued",
                                       since_submit_s=now - f.submitted, cold_start=cold,
                                       running_for_s=running_for, watched=f.rec.id in self._watched,
                                       predicted_run_s=None if rem is None or running_for is None
                                       else running_for + rem))

    # -- interpreting a status --------------------------------------------------------------------------------
    async def _apply(self, f: _Followed, st: dict[str, Any]) -> None:
        rec = f.rec
        status = str(st.get("status", ""))
        if isinstance(st.get("delayTime"), (int, float)):
            rec.delay_ms = int(st["delayTime"])
        if isinstance(st.get("executionTime"), (int, float)):
            rec.execution_ms = int(st["executionTime"])
        if status == "IN_QUEUE":
            rec.status = "queued"
            msg = await self._queued_message(f)
            if msg != f.last_message:
                f.last_message = msg
                self.history.save(rec)
                self._emit(rec, "queued", msg)
        elif status in ("IN_PROGRESS", "RUNNING"):
            self._running(f, st)
        elif status == "COMPLETED":
            await self._completed(f, st)
        elif status == "FAILED":
            self._finish(rec, "failed", parse_error(st.get("error")))
        elif status == "CANCELLED":
            self._finish(rec, "cancelled", None)
        elif status == "TIMED_OUT":
            secs = (rec.policy or {}).get("executionTimeout", 0) / 1000
            ran = rec.started_at is not None or bool(rec.execution_ms)
            self._finish(rec, "timed_out", {"code": "timed_out", "message":
                         f"The job ran past its execution timeout of {secs:.0f} s and was stopped." if ran else
                         "The job's time-to-live ran out before a worker took it."})
        else:
            log.warning("job %s: unexpected status %r", rec.id, status)

    def _running(self, f: _Followed, st: dict[str, Any]) -> None:
        rec, now = f.rec, self._clock()
        changed = rec.status not in ("running", "uploading")
        if f.running_since is None:
            exec_s = (st.get("executionTime") or 0) / 1000
            f.running_since = now - exec_s if exec_s > 0 else now
            rec.started_at = time.time() - (now - f.running_since)
        out = st.get("output")
        if isinstance(out, dict) and ("stage" in out or "percent" in out):
            seq = out.get("seq")
            seq = seq if isinstance(seq, int) else f.last_seq + 1
            if seq > f.last_seq:     # reports are fire-and-forget and may arrive out of order
                f.last_seq = seq
                prog = {k: out.get(k) for k in ("stage", "node", "step", "steps", "percent", "seq", "label")}
                if prog != rec.progress:
                    rec.progress = prog
                    changed = True
        pct = (rec.progress or {}).get("percent")
        if isinstance(pct, (int, float)) and pct >= 100:
            f.stuck_since = f.stuck_since or now
            if now - f.stuck_since >= self.stuck_grace_s:
                self._finish(rec, "failed", {"code": "result_lost", "message":
                             "The job reached 100 % but the endpoint never reported its result (a known RunPod "
                             f"problem); it was given up after {self.stuck_grace_s:.0f} s. Run it again."})
                return
        else:
            f.stuck_since = None
        kind = "uploading" if (rec.progress or {}).get("stage") == "uploading_outputs" else "running"
        status_changed = kind != rec.status
        changed = changed or status_changed
        rec.status = kind
        if changed:
            # Status changes are written at once; progress-only changes at most every few seconds (a restart
            # re-reads progress from RunPod anyway), which keeps 50 jobs in flight cheap.
            if status_changed or now - f.saved_at >= PROGRESS_SAVE_S:
                self.history.save(rec)
                f.saved_at = now
            self._emit(rec, kind, running_message(rec))

    async def _completed(self, f: _Followed, st: dict[str, Any]) -> None:
        rec = f.rec
        out = st.get("output")
        if out is None or out == "":
            self._finish(rec, "failed", {"code": "result_lost", "message":
                         "The job finished but its result never reached RunPod (usually because it was too large; "
                         "large media must go to a bucket). Nothing can be recovered."})
            return
        if isinstance(out, dict) and "error" in out:
            self._finish(rec, "failed", parse_error(out["error"]))
            return
        files = out.get("files", []) if isinstance(out, dict) else []
        saved = []
        try:
            for file in files:
                url = file.get("url") if isinstance(file, dict) else None
                http = self.client.http_for(url) if isinstance(url, str) else None
                saved.append(await self.library.save_output(rec.id, file, http))
        except BackendError as exc:
            self._finish(rec, "failed", {"code": "output_unusable", "message": exc.message})
            return
        rec.outputs = saved
        if isinstance(out, dict):
            rec.seed = out.get("seed") if isinstance(out.get("seed"), int) else None
            rec.licence = out.get("licence") if isinstance(out.get("licence"), dict) else None
            rec.preview = bool(out.get("preview")) if "preview" in out else None
            rec.warnings = [str(w) for w in out.get("warnings") or []]
        if self.stamp and rec.outputs:
            await asyncio.to_thread(self.stamp, rec)
        if rec.execution_ms is not None:
            prev = self._typical.get(rec.action)
            cur = rec.execution_ms / 1000
            self._typical[rec.action] = cur if prev is None else 0.7 * prev + 0.3 * cur
        self._finish(rec, "completed", None)

    async def _queued_message(self, f: _Followed) -> str:
        h = await self._get_health()
        if h is None:
            return "Queued."
        w, queued = h.workers, h.jobs["inQueue"]
        waiting = self._clock() - f.submitted
        if w["ready"] == 0 and w["idle"] == 0 and w["initializing"] > 0:
            typical = self.history.typical_ms(f.rec.action, "delay_ms")
            est = typical / 1000 if typical and typical > 5000 else DEFAULT_COLD_START_S
            left = max(5, int(round(est - waiting)))
            n = w["initializing"]
            return f"Cold start: {n} worker{'s' if n != 1 else ''} initializing (about {left} s)."
        if w["ready"] == 0 and w["idle"] == 0 and w["throttled"] > 0:
            n = w["throttled"]
            return (f"No GPU free: {n} worker{'s' if n != 1 else ''} throttled (the host lacks capacity); "
                    "the job waits until one frees up.")
        if w["running"] > 0 and w["ready"] == 0 and w["idle"] == 0:
            return f"Queued: all {w['running']} worker(s) busy, {queued} job(s) waiting."
        return "Queued, waiting for a worker."

    async def _get_health(self) -> Health | None:
        async with self._health_lock:
            at, h = self._health
            if self._clock() - at < 3.0:
                return h
            try:
                h = await self.client.health()
            except BackendError:
                h = None
            self._health = (self._clock(), h)
            return h

    # -- endings and events -----------------------------------------------------------------------------------
    def _finish(self, rec: JobRecord, status: str, error: dict[str, Any] | None) -> None:
        rec.status = status
        rec.error = error
        rec.finished_at = time.time()
        # A preview job ran on no paid GPU: it has no cost (None, not $0, so nothing shows one).
        if rec.execution_ms is not None and self.price and not rec.preview:
            rec.cost_usd = round(rec.execution_ms / 1000 * self.price, 9)
        self._jobs.pop(rec.id, None)
        self.history.save(rec)
        ev = describe(rec)
        self.on_event(ev)

    def _emit(self, rec: JobRecord, kind: str, message: str) -> None:
        self.on_event(JobEvent(kind=kind, message=message, record=rec.copy(),
                               progress=dict(rec.progress) if rec.progress else None))


def parse_error(raw: Any) -> dict[str, Any]:
    """RunPod's `error` is a string; ours holds JSON {"code","message"}; the SDK's crash JSON has error_message."""
    body: Any = raw
    if isinstance(raw, str):
        try:
            body = json.loads(raw)
        except ValueError:
            return {"code": "failed", "message": raw.strip() or "The job failed without a message."}
    if isinstance(body, dict):
        if isinstance(body.get("code"), str) and isinstance(body.get("message"), str):
            out = {"code": body["code"], "message": body["message"]}
            if body.get("field"):
                out["field"] = body["field"]
            return out
        if "error_message" in body:
            return {"code": "internal", "message": f"The worker crashed: {body.get('error_type', 'error')}: "
                                                   f"{body['error_message']}"}
    return {"code": "failed", "message": str(raw)[:500] if raw else "The job failed without a message."}


def running_message(rec: JobRecord) -> str:
    p = rec.progress or {}
    stage = STAGE_WORDS.get(str(p.get("stage")), "Running")
    step, steps, pct = p.get("step"), p.get("steps"), p.get("percent")
    label = p.get("label")
    if isinstance(label, str) and label.strip():
        # The worker's words for the running step ("sampling 12/25", "loading Sonic · 12 s").
        return f"{stage}: {label.strip()[:120]}" + (f" ({pct:.0f} %)" if isinstance(pct, (int, float))
                                                    and isinstance(steps, int) and steps > 0 else "")
    if isinstance(step, int) and isinstance(steps, int) and steps > 0:
        return f"{stage}: step {step} of {steps}" + (f" ({pct:.0f} %)" if isinstance(pct, (int, float)) else "")
    if isinstance(pct, (int, float)):
        return f"{stage} ({pct:.0f} %)"
    return f"{stage}…"


def describe(rec: JobRecord) -> JobEvent:
    """The event that states a record's current status (the first event of a watch, and every ending)."""
    s = rec.status
    if s == "completed":
        took = f" in {rec.execution_ms / 1000:.1f} s" if rec.execution_ms is not None else ""
        cost = f" (about ${rec.cost_usd:.4f})" if rec.cost_usd else ""
        n = len(rec.outputs)
        msg = f"Done{took}{cost}: {n} file{'s' if n != 1 else ''} saved."
    elif s in ("failed", "expired", "unknown", "timed_out"):
        msg = (rec.error or {}).get("message") or s.replace("_", " ").capitalize() + "."
    elif s == "cancelled":
        msg = "Cancelled."
    elif s in ("running", "uploading"):
        msg = running_message(rec)
    elif s == "queued":
        msg = "Queued."
    else:
        msg = "Sending the job…"
    return JobEvent(kind=s, message=msg, record=rec.copy(), progress=dict(rec.progress) if rec.progress else None)
