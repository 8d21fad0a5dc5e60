"""Is the endpoint ready for each job? `/health` (workers, queue) plus the worker's `debug` answer (models)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from backend.client import Health, RunPodClient
from backend.errors import BackendError
from backend.records import Policy
from backend.tracker import parse_error


@dataclass(frozen=True)
class JobReadiness:
    action: str
    ready: bool
    missing: list[dict[str, Any]]        # [{"path", "size", "problem"?, "repo"?}]

    @property
    def missing_bytes(self) -> int:
        return sum(int(m.get("size") or 0) for m in self.missing)


@dataclass(frozen=True)
class Readiness:
    workers: dict[str, int]
    queue: dict[str, int]                # {"inQueue", "inProgress", ...} from /health
    jobs: dict[str, JobReadiness] = field(default_factory=dict)
    preview: bool | None = None
    volume_mounted: bool | None = None
    comfyui_alive: bool | None = None
    comfyui_version: str | None = None
    problems: list[str] = field(default_factory=list)   # sentences: why a part could not be checked

    @property
    def summary(self) -> str:
        w = self.workers
        ready = [a for a, j in self.jobs.items() if j.ready]
        parts = [f"{w.get('ready', 0)} ready, {w.get('running', 0)} running, {w.get('initializing', 0)} "
                 f"initializing, {w.get('throttled', 0)} throttled worker(s); {self.queue.get('inQueue', 0)} "
                 "job(s) queued"]
        if self.jobs:
            parts.append(f"jobs ready: {', '.join(ready) or 'none'}")
        return "; ".join(parts + self.problems) + "."


async def check_readiness(client: RunPodClient, timeout: float = 60.0) -> Readiness:
    problems: list[str] = []
    try:
        health: Health | None = await client.health()
    except BackendError as exc:
        health, problems = None, [f"/health failed: {exc.message}"]
    debug: dict[str, Any] | None = None
    try:
        debug = await _debug(client, timeout)
    except BackendError as exc:
        problems.append(f"The worker's debug check failed: {exc.message}")
    return build(health, debug, problems)


def build(health: Health | None, debug: dict[str, Any] | None, problems: list[str]) -> Readiness:
    """Pure: combine the two answers into what the Endpoint tab shows."""
    jobs: dict[str, JobReadiness] = {}
    if isinstance(debug, dict):
        for action, j in (debug.get("jobs") or {}).items():
            if isinstance(j, dict):
                missing = [_missing_file(m) for m in j.get("missing") or [] if isinstance(m, dict)]
                jobs[action] = JobReadiness(action, bool(j.get("ready")) and not missing, missing)
    vol = (debug or {}).get("volume") or {}
    comfy = (debug or {}).get("comfyui") or {}
    return Readiness(
        workers=dict(health.workers) if health else {},
        queue=dict(health.jobs) if health else {},
        jobs=jobs,
        preview=(debug or {}).get("preview") if debug else None,
        volume_mounted=vol.get("mounted") if debug else None,
        comfyui_alive=comfy.get("alive") if debug else None,
        comfyui_version=comfy.get("version") if debug else None,
        # A run the worker's /interrupt did not stop: its GPU may still be busy until ComfyUI is restarted.
        problems=problems + ([f"ComfyUI is busy: {comfy['busy']}"] if isinstance(comfy.get("busy"), str) else []),
    )


def _missing_file(m: dict[str, Any]) -> dict[str, Any]:
    """One missing file from the worker's answer: where it goes, its size, and (newer workers) why a loader would
    not find it — e.g. a hub cache whose refs/main does not name the snapshot — and its Hugging Face repo."""
    out: dict[str, Any] = {"path": str(m.get("path")), "size": int(m.get("size") or 0)}
    for key in ("problem", "repo"):
        if isinstance(m.get(key), str) and m[key]:
            out[key] = m[key]
    return out


async def _debug(client: RunPodClient, timeout: float) -> dict[str, Any]:
    """Run the worker's `debug` action and wait for it (not a user job, so not in the history)."""
    job = await client.run({"action": "debug"}, Policy(max(5_000, int(timeout * 1000)), max(10_000, int(timeout * 2000))))
    deadline = time.monotonic() + timeout
    delay = 0.2
    while time.monotonic() < deadline:
        st = await client.status(job["id"])
        s = st.get("status")
        if s == "COMPLETED":
            out = st.get("output")
            if not isinstance(out, dict):
                raise BackendError("The debug job finished without an answer.")
            return out
        if s in ("FAILED", "CANCELLED", "TIMED_OUT"):
            err = parse_error(st.get("error")) if s == "FAILED" else {"message": s.lower()}
            raise BackendError(f"The debug job ended {s}: {err['message']}")
        await asyncio.sleep(delay)
        delay = min(1.0, delay * 1.5)
    try:
        await client.cancel(job["id"])
    except BackendError:
        pass
    raise BackendError(f"The debug job did not finish within {timeout:.0f} s (a cold start may still be going on).")
