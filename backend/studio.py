"""The facade the studio calls (ARCHITECTURE.md §5).

`Studio` owns one asyncio loop in a background thread where the client, the tracker and the preview endpoint
live. Every public method is synchronous and thread-safe, so Gradio handlers (sync generators) call it directly.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any, Coroutine, TypeVar

from backend.client import RunPodClient
from backend.errors import BackendError, InputError
from backend import provenance
from backend.journal import Journal
from backend.library import Library
from backend import outputsize
from backend.preview_endpoint import PreviewEndpoint
from backend.readiness import Readiness, check_readiness
from backend.recovery import make_backup, open_history
from backend.records import TERMINAL, JobEvent, JobRecord, Policy
from backend.settings import RedactingFilter, Settings
from backend.tracker import JobTracker, describe
from backend.voices import VoiceLibrary
from backend.cast import Cast
from backend.scenes.store import SceneStore
from backend.trash import Trash

log = logging.getLogger("backend.studio")
LOGGERS = ("backend", "backend.studio", "backend.client", "backend.tracker", "backend.library")
T = TypeVar("T")
BACKUP_EVERY_S = 3600


class Studio:
    def __init__(self, settings: Settings | None = None, *, preview_args: tuple[str, ...] = ()):
        """`preview_args`: extra `python -m worker serve --preview` flags for the preview endpoint (tests)."""
        self.settings = settings or Settings.from_env()
        self._preview_args = tuple(preview_args)
        self.mode: str = self.settings.mode
        data = self.settings.data_dir
        bucket = self.settings.bucket
        self.library = Library(data / "library", max_download_bytes=self.settings.max_download_bytes,
                               allow_private_urls=self.settings.allow_private_urls,
                               trusted_origins=(bucket.endpoint_url,) if bucket else ())
        # The history is checked (and repaired from backups and the library's journal) before anything starts.
        opened = open_history(data, Journal(self.library.root / "meta"))
        self.history_db = opened.history
        self.notice: str | None = opened.notice
        self.voices = VoiceLibrary(self.history_db, self.library)
        # Issue 9: the cast and the scenes live in the same database file (one file to back up).
        journal = self.history_db.journal
        self.cast = Cast(data / "studio.sqlite3", self.library, self.voices, journal=journal)
        self.scenes = SceneStore(data / "studio.sqlite3", journal=journal)
        self.trash = Trash(data / "trash")      # deleted things, restorable for 30 days (backend/trash.py)
        if self.notice and journal is not None:      # a repaired history: the cast and scenes come back too
            back = self.cast.restore(journal.rows("cast")), self.scenes.restore(journal.rows("scenes"))
            self.notice += f" Also restored: {back[0]} cast members, {back[1]} scenes."
        if self.notice:
            log.warning("%s", self.notice)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="studio-backend", daemon=True)
        self._watchers: dict[str, list[queue.Queue[JobEvent]]] = {}
        self._watch_lock = threading.Lock()
        self._preview: PreviewEndpoint | None = None
        self._client: RunPodClient | None = None
        self._tracker: JobTracker | None = None
        self._started = False
        self._backups: asyncio.Task[None] | None = None
        # Logger filters are not inherited by child loggers, so each backend logger gets its own.
        self._redactor = RedactingFilter(self.settings.secrets())
        for name in LOGGERS:
            logging.getLogger(name).addFilter(self._redactor)

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> "Studio":
        """Open the database, start the preview endpoint if needed, resume jobs in flight, start the tracker."""
        if self._started:
            return self
        self._thread.start()
        self._started = True
        try:
            self._call(self._astart())
        except BaseException:
            self.close()
            raise
        return self

    async def _astart(self) -> None:
        s = self.settings
        if self.mode == "preview":
            self._preview = PreviewEndpoint(s.data_dir / "preview-endpoint", extra_args=self._preview_args)
            base, endpoint_id = await self._preview.start()
            self._client = RunPodClient(base, endpoint_id, None)
        else:
            self._client = RunPodClient(s.api_base, s.endpoint_id or "", s.api_key)
        self._tracker = JobTracker(self._client, self.history_db, self.library,
                                   # preview jobs run on no paid GPU: no cost anywhere
                                   price_per_second=0.0 if self.mode == "preview" else s.gpu_price_per_second,
                                   on_event=self._publish, stamp=provenance.stamp_outputs)
        if self.mode != "preview" and s.bucket is not None:
            self._tracker.s3_config = s.bucket.to_s3_config
        await self._tracker.start()
        self._backups = asyncio.get_running_loop().create_task(self._backup_hourly())

    async def _backup_hourly(self) -> None:
        while True:
            await asyncio.sleep(BACKUP_EVERY_S)
            try:
                await asyncio.to_thread(make_backup, self.history_db, self.settings.data_dir)
            except Exception as exc:          # a failed backup must never stop the studio
                log.warning("Could not back up the history: %s", exc)

    def close(self) -> None:
        """Stop following jobs (they stay in flight in the database and resume on the next start)."""
        if not self._started:
            return
        self._started = False
        try:
            self._call(self._aclose(), timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            try:
                make_backup(self.history_db, self.settings.data_dir)
            except Exception as exc:
                log.warning("Could not back up the history: %s", exc)
            self.history_db.close()
            self.cast.close()
            self.scenes.close()
            for name in LOGGERS:
                logging.getLogger(name).removeFilter(self._redactor)
        with self._watch_lock:
            for queues in self._watchers.values():
                for q in queues:
                    q.put_nowait(None)  # type: ignore[arg-type]

    async def _aclose(self) -> None:
        if self._backups:
            self._backups.cancel()
        in_flight = bool(self._tracker and self._tracker.in_flight)
        if self._tracker:
            await self._tracker.stop()
        if self._client:
            await self._client.aclose()
        if self._preview:
            # A job in flight keeps the (detached) preview endpoint running for the next start to follow it.
            await self._preview.stop(studio_in_flight=in_flight)

    def __enter__(self) -> "Studio":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- jobs -------------------------------------------------------------------------------------------------
    def submit(self, action: str, inputs: dict[str, Any], *, policy: Policy | None = None) -> JobRecord:
        """Send a job. `inputs` are validated param values with media as local file paths.

        Returns the record after /run answered (status "queued"), or with status "unknown" when the request
        may have reached the endpoint but its answer was lost. Raises BackendError for refused requests."""
        if not isinstance(action, str) or not action:
            raise InputError("action", "must be a job name such as 'portrait'")
        if not isinstance(inputs, dict):
            raise InputError("inputs", "must be a mapping of parameter names to values")
        too_big = self.inline_problem(action, inputs)
        if too_big is not None:                 # refused before a job exists: nothing in Jobs, nothing paid
            raise InputError(*too_big)
        pol = policy or Policy(self.settings.execution_timeout_ms, self.settings.ttl_ms)
        return self._call(self._need_tracker().submit(action, inputs, pol))

    def inline_problem(self, action: str, values: dict[str, Any]) -> tuple[str, str] | None:
        """(field, sentence) when this job's output could not come back from the endpoint, else None.

        Only RunPod without the user's bucket has that limit: preview and local endpoints serve big files."""
        if self.mode != "runpod" or self.settings.bucket is not None:
            return None
        return outputsize.inline_problem(action, values)

    def watch(self, job_id: str, timeout: float | None = None) -> Iterator[JobEvent]:
        """Events for a job until a terminal one. The first event is the job's current state."""
        q: queue.Queue[JobEvent] = queue.Queue()
        with self._watch_lock:
            self._watchers.setdefault(job_id, []).append(q)
        self._mark_watched(job_id, True)
        try:
            rec = self.get(job_id)
            if rec is None:
                raise InputError("job_id", f"no job {job_id!r} in the history")
            current = describe(rec)
            yield current
            if current.terminal:
                return
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    ev = q.get(timeout=wait)
                except queue.Empty:
                    return
                if ev is None:      # the studio closed
                    return
                yield ev
                if ev.terminal:
                    return
        finally:
            self._mark_watched(job_id, False)
            with self._watch_lock:
                lst = self._watchers.get(job_id, [])
                if q in lst:
                    lst.remove(q)
                if not lst:
                    self._watchers.pop(job_id, None)

    def cancel(self, job_id: str) -> JobRecord:
        return self._call(self._need_tracker().cancel(job_id))

    def rerun(self, job_id: str) -> JobRecord:
        """Submit a new job with the same action and inputs (media from the library)."""
        rec = self.get(job_id)
        if rec is None:
            raise InputError("job_id", f"no job {job_id!r} in the history")
        if rec.action == "scene":
            raise InputError("job_id", "a scene render is made again from the Scenes tab (Render video)")
        if rec.action == "pages":
            raise InputError("job_id", "a book export is made again from the Scenes tab's Pages view (or scene_export)")
        return self.submit(rec.action, dict(rec.inputs), policy=Policy(**_policy_args(rec.policy))
                           if rec.policy else None)

    def get(self, job_id: str) -> JobRecord | None:
        return self.history_db.get(job_id)

    def history(self, action: str | None = None, status: str | None = None, limit: int = 200) -> list[JobRecord]:
        return self.history_db.list(action=action, status=status, limit=limit)

    # -- comments and verdicts (reviewers and owners alike) -------------------------------------------------------
    def comment(self, target: str, author: str, text: str, verdict: str | None = None) -> dict[str, Any]:
        """A comment and/or verdict ("approved" | "needs_changes") on a job's outputs (target = job id)."""
        text = (text or "").strip()
        if not text and not verdict:
            raise InputError("comment", "write a comment or choose a verdict")
        if len(text) > 4000:
            raise InputError("comment", f"is {len(text)} characters; at most 4000 are allowed")
        rec = self.get(target)
        if rec is None and not target.startswith("scene:"):
            raise InputError("job", f"no job {target!r} in the history")
        row = self.history_db.add_comment(target, author or "anonymous", text, verdict)
        if rec is not None:
            self._write_sidecars(rec)
        return row

    def comments(self, target: str | None = None) -> list[dict[str, Any]]:
        return self.history_db.comments(target)

    def verdicts(self) -> dict[str, str]:
        """The latest verdict per job (or scene) that has one."""
        return self.history_db.verdicts()

    def _write_sidecars(self, rec: JobRecord) -> None:
        try:
            provenance.write_sidecars(rec, mode=self.mode, comments=self.history_db.comments(rec.id))
        except OSError as exc:
            log.warning("Could not write the provenance of job %s: %s", rec.id, exc)

    # -- endpoint ---------------------------------------------------------------------------------------------
    def readiness(self, timeout: float = 60.0) -> Readiness:
        return self._call(check_readiness(self._need_client(), timeout=timeout), timeout=timeout + 10)

    def warm_up(self) -> str:
        """Ask the endpoint for a worker (a tiny `health` job), so the next real job skips most of a cold start."""
        return self._call(self._need_tracker().warm_up())

    def purge_queue(self) -> int:
        return self._call(self._need_tracker().purge_queue())

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _publish(self, ev: JobEvent) -> None:
        if ev.terminal and ev.record.outputs:
            self._write_sidecars(ev.record)
        with self._watch_lock:
            for q in self._watchers.get(ev.record.id, []):
                q.put_nowait(ev)

    def _mark_watched(self, job_id: str, watching: bool) -> None:
        tracker = self._tracker
        if self._started and tracker is not None:
            self._loop.call_soon_threadsafe(tracker.set_watched, job_id, watching)

    def _need_tracker(self) -> JobTracker:
        if not self._started or self._tracker is None:
            raise BackendError("The studio backend is not started (call Studio.start()).")
        return self._tracker

    def _need_client(self) -> RunPodClient:
        if not self._started or self._client is None:
            raise BackendError("The studio backend is not started (call Studio.start()).")
        return self._client

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 120.0) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return fut.result(timeout)


def _policy_args(p: dict[str, Any]) -> dict[str, int]:
    return {"execution_timeout_ms": int(p.get("executionTimeout", 600_000)), "ttl_ms": int(p.get("ttl", 86_400_000))}


__all__ = ["Studio", "Settings", "JobRecord", "JobEvent", "Policy", "Readiness", "BackendError", "TERMINAL"]
