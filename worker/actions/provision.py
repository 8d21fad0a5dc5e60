"""`provision`: download the manifest's files for some jobs onto the network volume, from inside a worker.

Input `{"action": "provision", "jobs": ["portrait", ...]}` (or `"jobs": "all"`). The Hugging Face token comes
from the worker's environment (HF_TOKEN) only: a token in the request is refused, and the token never appears
in a log line, a progress update or an error. Files download in parallel into `<path>.part`, resume with a
Range request after a dropped connection (also across runs), are checked for size and sha256, and only then
renamed into place, so a present file is always a complete one and a second run downloads nothing.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import aiohttp

from workflows.catalogue import ModelFile, load_catalogue, load_manifest
from worker import progress
from worker.errors import WorkerError
from worker.volume import is_present, write_hub_ref

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 1 << 20
ATTEMPTS = 6                 # connection drops survived per source before the file fails
INPUT_KEYS = {"action", "jobs"}
TOKEN_KEYS = {"hf_token", "token", "huggingface_token", "HF_TOKEN"}


@dataclass(frozen=True)
class ProvisionSettings:
    models_dir: Path
    endpoint: str = DEFAULT_ENDPOINT
    token: str | None = field(default=None, repr=False)
    concurrency: int = 4
    retry_delay_s: float = 1.0

    @classmethod
    def from_env(cls, volume: Path, env: dict[str, str] | None = None) -> "ProvisionSettings":
        env = os.environ if env is None else env
        return cls(models_dir=Path(volume) / "models",
                   endpoint=(env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/"),
                   token=env.get("HF_TOKEN") or None,
                   concurrency=max(1, int(env.get("PROVISION_CONCURRENCY") or 4)),
                   retry_delay_s=float(env.get("PROVISION_RETRY_DELAY") or 1.0))


class FileFailed(Exception):
    """One file could not be provisioned; the message is for a person and holds no secret."""


class _Gated(Exception):
    pass


class _Dropped(Exception):
    pass


def parse_jobs(inp: dict[str, Any]) -> list[str]:
    """The validated job list (pure)."""
    actions = list(load_catalogue())
    for key in inp:
        if key in TOKEN_KEYS:
            raise WorkerError("forbidden", f"{key}: tokens are not accepted in requests; set HF_TOKEN on the "
                              "endpoint (as a secret) instead", field=key)
        if key not in INPUT_KEYS:
            raise WorkerError("invalid_input", f"{key}: unknown field for provision; allowed fields: jobs",
                              field=key)
    jobs = inp.get("jobs")
    if isinstance(jobs, str):
        jobs = [jobs]
    if jobs == ["all"]:                 # "all" and ["all"] both mean every job, as `deploy provision --jobs all`
        return actions
    if not isinstance(jobs, list) or not jobs or not all(isinstance(j, str) for j in jobs):
        raise WorkerError("invalid_input", f"jobs: expected a list of jobs from {', '.join(actions)} (or \"all\")",
                          field="jobs")
    unknown = [j for j in jobs if j not in actions]
    if unknown:
        raise WorkerError("invalid_input", f"jobs: {', '.join(unknown)} is not a job; choose from "
                          f"{', '.join(actions)}", field="jobs")
    return list(dict.fromkeys(jobs))


def source_url(endpoint: str, source: dict[str, str]) -> str:
    rev = source.get("revision") or "main"
    return f"{endpoint}/{source['repo']}/resolve/{quote(rev, safe='')}/{quote(source['file'])}"


def gated_message(f: ModelFile, status: int, have_token: bool) -> str:
    page = f.licence_url or f"https://huggingface.co/{f.sources[0]['repo']}"
    how = ("accept it with the Hugging Face account whose token is in HF_TOKEN" if have_token else
           "accept it on Hugging Face, then set HF_TOKEN (a read token of that account) on the endpoint")
    return (f"{f.path}: the download was refused (HTTP {status}). This file is gated under the licence "
            f"\"{f.licence}\": open {page}, {how}, and run provision again.")


def legacy_paths(f: ModelFile) -> list[str]:
    """Where earlier versions of the manifest put a hub-cache file: a snapshot named "main" (in the hub cache, or
    in cached_path's folder for F5-TTS). Such a file is moved into place instead of being downloaded again."""
    hub = f.hub
    if hub is None:
        return []
    name = hub.repo_dir.rsplit("/", 1)[-1]
    return [f"{hub.repo_dir}/snapshots/main/{hub.file}", f"cached_path/{name}/snapshots/main/{hub.file}"]


def adopt_legacy(models_dir: Path, f: ModelFile) -> bool:
    """Move a complete file from an old layout to the manifest's path (and point refs/main at it)."""
    for rel in legacy_paths(f):
        old = models_dir / rel
        if old.is_file() and old.stat().st_size > 0 and (not f.size_exact or old.stat().st_size == f.size):
            target = models_dir / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(old, target)
            write_hub_ref(models_dir, f)
            log.info("moved %s to %s (provisioned earlier under the old layout)", rel, f.path)
            return True
    return False


class Progress:
    """Bytes and files across every file of one provision run, reported through worker.progress."""

    def __init__(self, job: dict, files_total: int, bytes_total: int, files_done: int, bytes_done: int,
                 report: Callable[..., Any]):
        self.job, self.report = job, report
        self.files_total, self.bytes_total = files_total, bytes_total
        self.files_done, self.bytes_done = files_done, bytes_done

    def send(self, current: str | None = None, force: bool = False) -> None:
        pct = round(100.0 * self.bytes_done / self.bytes_total, 1) if self.bytes_total else 100.0
        payload = {"stage": "downloading", "node": current, "step": self.files_done, "steps": self.files_total,
                   "percent": min(pct, 100.0), "bytes": self.bytes_done, "bytes_total": self.bytes_total,
                   "files": self.files_done, "files_total": self.files_total,
                   "label": f"downloading {current.rsplit('/', 1)[-1]} {self.files_done + 1}/{self.files_total}"
                   if current else f"downloading models {self.files_done}/{self.files_total}"}
        try:
            self.report(self.job, payload, force=force)
        except Exception:                      # progress is best effort
            log.exception("progress report failed")


async def _hash_file(path: Path) -> "hashlib._Hash":
    def work():
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK * 8):
                h.update(chunk)
        return h
    return await asyncio.to_thread(work)


async def _download_source(session: aiohttp.ClientSession, url: str, f: ModelFile, part: Path,
                           settings: ProvisionSettings, prog: Progress) -> None:
    """Fetch one source into `part`, resuming across drops; leaves a complete, verified file or raises."""
    headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
    hasher = await _hash_file(part) if part.exists() else hashlib.sha256()
    offset = part.stat().st_size if part.exists() else 0
    prog.bytes_done += offset
    total: int | None = f.size if f.size_exact else None
    drops = 0
    while True:
        req_headers = dict(headers)
        if offset:
            req_headers["Range"] = f"bytes={offset}-"
        try:
            async with session.get(url, headers=req_headers) as resp:
                if resp.status == 404:
                    prog.bytes_done -= offset
                    raise FileNotFoundError(url)
                if resp.status in (401, 403):
                    prog.bytes_done -= offset
                    raise _Gated(resp.status)
                if resp.status == 416 and offset:
                    # The part already holds every byte the server has: verify below.
                    break
                if resp.status == 200 and offset:
                    prog.bytes_done -= offset          # the server ignored Range: start over
                    offset, hasher = 0, hashlib.sha256()
                    part.unlink(missing_ok=True)
                elif resp.status not in (200, 206):
                    raise _Dropped(f"HTTP {resp.status}")
                if resp.status == 206:
                    cr = resp.headers.get("Content-Range", "")
                    if cr.rpartition("/")[2].isdigit() and total is None:
                        total = int(cr.rpartition("/")[2])
                elif resp.content_length is not None and total is None:
                    total = resp.content_length
                with open(part, "ab") as out:
                    async for chunk in resp.content.iter_chunked(CHUNK):
                        out.write(chunk)
                        hasher.update(chunk)
                        offset += len(chunk)
                        prog.bytes_done += len(chunk)
                        prog.send(f.path)
                if total is not None and offset < total:
                    raise _Dropped("connection closed early")
                break
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, asyncio.TimeoutError, _Dropped) as exc:
            drops += 1
            if drops >= ATTEMPTS:
                raise FileFailed(f"{f.path}: the download kept failing ({exc.__class__.__name__}) after "
                                 f"{ATTEMPTS} attempts; {offset} bytes are kept and the next run resumes") from None
            await asyncio.sleep(settings.retry_delay_s * drops)
    if total is not None and offset != total:
        part.unlink(missing_ok=True)
        raise FileFailed(f"{f.path}: downloaded {offset} bytes but expected {total}; the partial file was removed")
    if f.sha256 and hasher.hexdigest() != f.sha256.lower():
        part.unlink(missing_ok=True)
        raise FileFailed(f"{f.path}: sha256 mismatch (got {hasher.hexdigest()[:12]}…, expected "
                         f"{f.sha256[:12]}…); the file was removed")


async def provision_file(session: aiohttp.ClientSession, f: ModelFile, settings: ProvisionSettings,
                         prog: Progress) -> None:
    target = settings.models_dir / f.path
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    gated: int | None = None
    for source in f.sources:
        try:
            await _download_source(session, source_url(settings.endpoint, source), f, part, settings, prog)
        except FileNotFoundError:
            continue                            # an alternate may still have it (renamed repos 404 the old path)
        except _Gated as g:
            gated = g.args[0]
            continue
        os.replace(part, target)
        write_hub_ref(settings.models_dir, f)   # huggingface_hub finds the snapshot through refs/main only
        return
    if gated is not None:
        raise FileFailed(gated_message(f, gated, settings.token is not None))
    raise FileFailed(f"{f.path}: not found at any source ({', '.join(s['repo'] + '/' + s['file'] for s in f.sources)})")


def job_files(actions: list[str]) -> dict[str, list[ModelFile]]:
    """Per job, the manifest entries of every template it has."""
    manifest, catalogue = load_manifest(), load_catalogue()
    return {a: [manifest[p] for p in catalogue[a].all_models()] for a in actions}


async def provision(job: dict, per_job: dict[str, list[ModelFile]], settings: ProvisionSettings,
                    report: Callable[..., Any] = progress.report) -> dict[str, Any]:
    by_path = {f.path: f for files in per_job.values() for f in files}
    wanted = list(by_path.values())
    for f in wanted:
        if (settings.models_dir / f.path).is_file():
            write_hub_ref(settings.models_dir, f)     # a complete snapshot whose refs/main was lost or stale
        elif not is_present(settings.models_dir, f):
            adopt_legacy(settings.models_dir, f)
    todo = [f for f in wanted if not is_present(settings.models_dir, f)]
    skipped = {f.path for f in wanted} - {f.path for f in todo}

    settings.models_dir.mkdir(parents=True, exist_ok=True)
    need = sum(f.size for f in todo) - sum(
        (settings.models_dir / (f.path + ".part")).stat().st_size
        for f in todo if (settings.models_dir / (f.path + ".part")).exists())
    free = shutil.disk_usage(settings.models_dir).free
    if need > free:
        raise WorkerError("invalid_input", f"jobs: the volume has {free / 1e9:.1f} GB free but these jobs need "
                          f"{need / 1e9:.1f} GB more; enlarge the network volume", field="jobs",
                          details={"free": free, "needed": need})

    prog = Progress(job, len(wanted), sum(f.size for f in wanted), len(skipped),
                    sum(f.size for f in wanted if f.path in skipped), report)
    prog.send(force=True)
    failures: dict[str, str] = {}
    done: set[str] = set()
    sem = asyncio.Semaphore(settings.concurrency)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)

    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def one(f: ModelFile) -> None:
            async with sem:
                started = time.monotonic()
                try:
                    await provision_file(session, f, settings, prog)
                    done.add(f.path)
                    prog.files_done += 1
                    log.info("provisioned %s (%d bytes in %.1f s)", f.path, f.size, time.monotonic() - started)
                except FileFailed as exc:
                    failures[f.path] = str(exc)
                    log.warning("provision failed: %s", exc)
                prog.send(f.path, force=True)
        await asyncio.gather(*(one(f) for f in todo))

    out = {}
    for a, files in per_job.items():
        paths = [f.path for f in files]
        failed = [{"path": p, "error": failures[p]} for p in paths if p in failures]
        out[a] = {"ready": all(is_present(settings.models_dir, by_path[p]) for p in paths),
                  "downloaded": [p for p in paths if p in done],
                  "skipped": [p for p in paths if p in skipped],
                  "failed": failed}
    return {"status": "success", "jobs": out}


async def run(job: dict, inp: dict[str, Any], worker_settings: Any) -> dict[str, Any]:
    """Entry point for the handler: `worker_settings.volume` is the volume root."""
    actions = parse_jobs(inp)
    volume = Path(getattr(worker_settings, "volume", None) or os.environ.get("RUNPOD_VOLUME") or "/runpod-volume")
    if not volume.is_dir():
        raise WorkerError("invalid_input", f"jobs: no network volume is mounted at {volume}; attach one to the "
                          "endpoint before provisioning", field="jobs")
    return await provision(job, job_files(actions), ProvisionSettings.from_env(volume))
