"""The queue and its state machine: jobs, N worker tasks, timeouts, TTL, retention, cancel, retry.

Everything runs on one event loop, so state changes need no locks. Each job carries an `attempt` number; a
handler task writes its result back only if the job is still on the same attempt, which makes cancel, TTL
expiry and retry safe against a handler that is still unwinding.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from worker.local_endpoint import limits
from worker.local_endpoint.files import FileStore
from worker.local_endpoint.journal import Journal
from worker.local_endpoint.model import Job, RunRequest, Status
from worker.local_endpoint.runner import Handler, Outcome, run_handler

log = logging.getLogger("local_endpoint")

REAP_INTERVAL_S = 0.05


class JobNotFound(LookupError):
    pass


class InvalidTransition(ValueError):
    pass


@dataclass
class Counters:
    completed: int = 0
    failed: int = 0
    retried: int = 0


@dataclass
class WorkerSlot:
    id: str
    job_id: str | None = None


class JobQueue:
    def __init__(self, handler: Handler, *, concurrency: int = 1, retention_s: float = 1800,
                 cold_start_s: float = 0.0, on_terminal: Callable[[Job], Awaitable[None]] | None = None,
                 journal: Journal | None = None, files: FileStore | None = None,
                 unhealthy: Callable[[], str | None] | None = None):
        self.handler = handler
        self.unhealthy = unhealthy        # why the workers cannot take work now (a ComfyUI that would not stop)
        self._cancelled: dict[str, int] = {}   # job id -> the attempt a /cancel ended
        self.concurrency = concurrency
        self.retention_s = retention_s
        self.cold_start_s = cold_start_s
        self.on_terminal = on_terminal
        self.jobs: dict[str, Job] = {}
        self._pending: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._done: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task] = []
        self._running: dict[str, asyncio.Task] = {}
        self.slots = [WorkerSlot(id=f"local-worker-{i + 1}") for i in range(concurrency)]
        self.counters = Counters()
        self._ready_at = 0.0
        self._background: set[asyncio.Task] = set()
        self.journal = journal
        self.files = files
        if journal is not None:
            for job in journal.load():
                self.jobs[job.id] = job
            if self.jobs:
                log.info("kept from the last run: %d job(s)", len(self.jobs))

    def _keep(self, job: Job) -> None:
        if self.journal is not None:
            self.journal.record(job)

    def _drop(self, job_id: str) -> None:
        if self.journal is not None:
            self.journal.forget(job_id)
        if self.files is not None:
            self.files.remove(job_id)

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._ready_at = time.monotonic() + self.cold_start_s
        self._tasks = [asyncio.create_task(self._worker(slot), name=slot.id) for slot in self.slots]
        self._tasks.append(asyncio.create_task(self._reaper(), name="reaper"))

    async def close(self, grace_s: float = 10.0) -> None:
        """Cancel everything; a handler that will not unwind within `grace_s` is abandoned."""
        tasks = [*self._tasks, *self._running.values(), *self._background]
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=grace_s)
            if stuck:
                log.warning("%d task(s) did not stop within %.0f s of shutdown", len(stuck), grace_s)

    # ---- client operations -----------------------------------------------------------------------------------
    def submit(self, request: RunRequest, *, sync: bool = False) -> Job:
        job_id = f"{'sync-' if sync else ''}{uuid.uuid4()}-u1"
        retention = min(self.retention_s, limits.RUNSYNC_RETENTION_S) if sync else self.retention_s
        job = Job(id=job_id, request=request, retention_s=retention)
        self.jobs[job_id] = job
        self._enqueue(job)
        self._keep(job)
        log.info("job %s queued", job_id)
        return job

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status.terminal:
            return job
        was = job.status
        if was is Status.IN_PROGRESS:
            self._cancelled[job_id] = job.attempt
        self._finish(job, Status.CANCELLED)
        if was is Status.IN_QUEUE:
            self._remove_pending(job_id)
        else:
            task = self._running.get(job_id)
            if task is not None:
                task.cancel()
        log.info("job %s cancelled (was %s)", job_id, was.value)
        return job

    async def cancel_and_settle(self, job_id: str, wait_s: float) -> Job:
        """Cancel, then give the handler up to `wait_s` to unwind, so the answer says how the job really ended
        (a handler that returns an error instead of unwinding says the cancel did not take)."""
        job = self.cancel(job_id)
        task = self._running.get(job_id)
        if task is not None:
            await asyncio.wait({task}, timeout=wait_s)
        return job

    def retry(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.status not in (Status.FAILED, Status.TIMED_OUT):
            raise InvalidTransition(f"job {job_id} is {job.status.value}; only FAILED or TIMED_OUT jobs can be retried")
        job.attempt += 1
        job.status = Status.IN_QUEUE
        job.created = time.monotonic()
        job.started = job.finished = None
        job.worker_id = None
        job.output, job.has_output, job.error = None, False, None
        job.stream.clear()
        job.stream_read = 0
        job.handler_outcome = None
        self.counters.retried += 1
        self._enqueue(job)
        log.info("job %s retried", job_id)
        return job

    def purge(self) -> int:
        removed = 0
        while self._pending:
            job = self.jobs.get(self._pending.popleft())
            if job is not None and job.status is Status.IN_QUEUE:
                job.attempt += 1
                del self.jobs[job.id]
                self._drop(job.id)
                self._wake_waiters(job.id)
                removed += 1
        log.info("purged %d queued jobs", removed)
        return removed

    def read_stream(self, job_id: str) -> dict[str, Any]:
        job = self.get(job_id)
        fresh = job.stream[job.stream_read:]
        job.stream_read = len(job.stream)
        return {"status": job.status.value, "stream": [{"output": chunk} for chunk in fresh]}

    async def wait_terminal(self, job: Job, timeout_s: float) -> None:
        if job.status.terminal:
            return
        event = self._done.setdefault(job.id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            pass

    def health(self) -> dict[str, Any]:
        now = time.monotonic()
        statuses = [j.status for j in self.jobs.values()]
        running = sum(1 for s in self.slots if s.job_id is not None)
        initializing = len(self.slots) if now < self._ready_at else 0
        idle = len(self.slots) - running - initializing
        unhealthy = 0
        if self.unhealthy is not None and self.unhealthy():
            unhealthy, idle = idle, 0       # every worker shares the ComfyUI that is still busy
        return {
            "jobs": {"completed": self.counters.completed, "failed": self.counters.failed,
                     "inProgress": statuses.count(Status.IN_PROGRESS), "inQueue": statuses.count(Status.IN_QUEUE),
                     "retried": self.counters.retried},
            "workers": {"idle": idle, "initializing": initializing, "ready": idle, "running": running,
                        "throttled": 0, "unhealthy": unhealthy},
        }

    # ---- internals -------------------------------------------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        self._pending.append(job.id)
        self._wakeup.set()

    def _remove_pending(self, job_id: str) -> None:
        try:
            self._pending.remove(job_id)
        except ValueError:
            pass

    def _finish(self, job: Job, status: Status, *, output: Any = None, has_output: bool = False,
                error: str | None = None) -> None:
        job.status = status
        job.finished = time.monotonic()
        job.attempt += 1  # whatever handler task is still running for this job can no longer write back
        # this replaces the last progress payload: a failed or cancelled job shows no output
        job.output, job.has_output = output, has_output
        job.error = error
        if status is Status.COMPLETED:
            self.counters.completed += 1
        elif status in (Status.FAILED, Status.TIMED_OUT):
            self.counters.failed += 1
        self._keep(job)
        self._wake_waiters(job.id)
        if self.on_terminal is not None and status is not Status.CANCELLED:
            task = asyncio.create_task(self.on_terminal(job))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _wake_waiters(self, job_id: str) -> None:
        event = self._done.pop(job_id, None)
        if event is not None:
            event.set()

    async def _next_job(self) -> Job:
        while True:
            wait = self._ready_at - time.monotonic()
            if wait > 0:  # cold start: the worker is "initializing" and takes nothing yet
                await asyncio.sleep(wait)
                continue
            while self._pending:
                job = self.jobs.get(self._pending.popleft())
                if job is not None and job.status is Status.IN_QUEUE:
                    return job
            self._wakeup.clear()
            await self._wakeup.wait()

    async def _worker(self, slot: WorkerSlot) -> None:
        while True:
            job = await self._next_job()
            if self._pending:
                self._wakeup.set()  # let another idle worker look too
            slot.job_id = job.id
            try:
                await self._run(job, slot)
            finally:
                slot.job_id = None

    async def _run(self, job: Job, slot: WorkerSlot) -> None:
        attempt = job.attempt
        job.status = Status.IN_PROGRESS
        job.started = time.monotonic()
        job.worker_id = slot.id
        self._keep(job)
        log.info("job %s started on %s", job.id, slot.id)

        def current() -> bool:
            return job.attempt == attempt and self.jobs.get(job.id) is job

        def on_progress(payload: dict) -> None:
            if current() and job.status is Status.IN_PROGRESS:
                job.output, job.has_output = payload, True

        def on_chunk(chunk: Any) -> None:
            if current():
                job.stream.append(chunk)

        payload = {"id": job.id, "input": job.request.input}
        if job.request.s3_config is not None:
            payload["s3Config"] = job.request.s3_config
        store = self.files.save if self.files is not None else None
        task = asyncio.create_task(run_handler(self.handler, payload, slot.id, on_progress, on_chunk, store))
        self._running[job.id] = task
        timeout_s = job.request.policy.execution_timeout_ms / 1000
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout_s)
            if not done:
                if current():
                    self._finish(job, Status.TIMED_OUT, error=json.dumps({
                        "error_type": "TimeoutError",
                        "error_message": f"execution timeout of {job.request.policy.execution_timeout_ms} ms exceeded",
                    }))
                    log.warning("job %s timed out after %d ms; cancelling its handler", job.id,
                                job.request.policy.execution_timeout_ms)
                job.handler_outcome = "timed_out"
                task.cancel()
            # A cancelled handler keeps its worker busy until it has cleaned up, as on RunPod.
            try:
                outcome: Outcome | None = await task
            except asyncio.CancelledError:
                if job.handler_outcome is None:
                    job.handler_outcome = "cancelled"
                if asyncio.current_task().cancelling():
                    raise  # the endpoint is shutting down
                return
            job.handler_outcome = job.handler_outcome or ("returned" if outcome.ok else "failed")
            if (not outcome.ok and self._cancelled.get(job.id) == attempt and job.status is Status.CANCELLED
                    and self.jobs.get(job.id) is job):
                # Cancelled, but the handler returned an error instead of unwinding: the cancel did not take
                # (e.g. ComfyUI kept running), and a CANCELLED status would hide that.
                self._finish(job, Status.FAILED, error=outcome.error)
                log.warning("job %s: the cancel did not stop it; FAILED with the handler's error", job.id)
                return
            if not current():
                return
            if not outcome.ok:
                self._finish(job, Status.FAILED, error=outcome.error)
                log.info("job %s failed", job.id)
                return
            size = len(json.dumps(outcome.output, default=str))
            if size > limits.RESULT_LIMIT:
                log.warning("job %s result is %d bytes, over RunPod's %d-byte limit: COMPLETED without output "
                            "(RunPod's job-done POST would be refused with 400)", job.id, size, limits.RESULT_LIMIT)
                self._finish(job, Status.COMPLETED)
            else:
                self._finish(job, Status.COMPLETED, output=outcome.output, has_output=True)
                log.info("job %s completed", job.id)
        finally:
            self._cancelled.pop(job.id, None)
            if self._running.get(job.id) is task:
                del self._running[job.id]

    async def _reaper(self) -> None:
        """Drop jobs past their TTL (even running ones) and results past retention: both then answer 404."""
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            now = time.monotonic()
            for job in list(self.jobs.values()):
                if job.status.terminal:
                    if job.finished is not None and now - job.finished > job.retention_s:
                        del self.jobs[job.id]
                        self._drop(job.id)
                elif now - job.created > job.request.policy.ttl_ms / 1000:
                    log.info("job %s passed its ttl of %d ms; deleted", job.id, job.request.policy.ttl_ms)
                    job.attempt += 1
                    del self.jobs[job.id]
                    self._drop(job.id)
                    self._wake_waiters(job.id)
                    self._remove_pending(job.id)
                    task = self._running.get(job.id)
                    if task is not None:
                        task.cancel()
