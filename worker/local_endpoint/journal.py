"""Jobs kept on disk (`serve --state-dir DIR`), so a restarted local endpoint still answers for them.

A job that ended keeps its result for its retention time across a restart, as on RunPod. A job that was queued or
running when the endpoint stopped cannot be resumed (its input is not kept: it may hold media and bucket keys), so
it comes back FAILED with the error code `endpoint_restarted` — a client then says what happened instead of
"expired". One small JSON file per job, written atomically; inputs and s3Config are never written.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from worker.local_endpoint.model import Job, RunRequest, Status

log = logging.getLogger("local_endpoint")

RESTARTED = {"code": "endpoint_restarted",
             "message": "The local endpoint restarted while this job was queued or running, so it never finished; "
                        "run it again."}


class Journal:
    def __init__(self, folder: Path):
        self.folder = folder / "jobs"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, job_id: str) -> Path:
        return self.folder / f"{job_id}.json"

    def record(self, job: Job) -> None:
        now_m, now_w = time.monotonic(), time.time()
        wall = (lambda m: None if m is None else now_w - (now_m - m))  # noqa: E731
        body: dict[str, Any] = {"id": job.id, "status": job.status.value, "retention_s": job.retention_s,
                                "created": wall(job.created), "started": wall(job.started),
                                "finished": wall(job.finished), "worker_id": job.worker_id, "error": job.error}
        if job.status.terminal and job.has_output:
            body["output"] = job.output
        tmp = self._path(job.id).with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(body), encoding="utf-8")
            os.replace(tmp, self._path(job.id))
        except (OSError, TypeError, ValueError) as exc:       # never fail a job over its journal entry
            log.warning("could not keep job %s on disk: %s", job.id, exc)

    def forget(self, job_id: str) -> None:
        try:
            self._path(job_id).unlink()
        except OSError:
            pass

    def load(self) -> list[Job]:
        """The jobs of the last run; unfinished ones turned FAILED (and written back so)."""
        now_m, now_w = time.monotonic(), time.time()
        mono = (lambda w: None if w is None else now_m - (now_w - w))  # noqa: E731
        jobs = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                d = json.loads(path.read_text(encoding="utf-8"))
                job = Job(id=d["id"], request=RunRequest(input=None), retention_s=float(d["retention_s"]),
                          created=mono(d["created"]), status=Status(d["status"]), started=mono(d.get("started")),
                          finished=mono(d.get("finished")), worker_id=d.get("worker_id"), error=d.get("error"))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring the unreadable job file %s: %s", path.name, exc)
                continue
            if "output" in d:
                job.output, job.has_output = d["output"], True
            if not job.status.terminal:
                job.status, job.finished = Status.FAILED, now_m
                job.error = json.dumps(RESTARTED)
                self.record(job)
            elif job.finished is not None and now_m - job.finished > job.retention_s:
                self.forget(job.id)
                continue
            jobs.append(job)
        return jobs
