"""Output files the local endpoint keeps and serves itself, for results too big to come back inline.

On RunPod such outputs need a bucket; a local or preview endpoint has its own disk, so the handler hands them
here (through `worker.outputs.local_store`) and returns URLs under the endpoint's own API
(`/v2/{endpoint_id}/files/{job_id}/{name}`, behind its API key like every route). They are deleted with the
job's result when its retention ends.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe(part: str) -> str:
    cleaned = _SAFE.sub("_", part).lstrip(".")
    return cleaned[:120] or "file"


class FileStore:
    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.base_url = ""                   # http://HOST:PORT/v2/ENDPOINT_ID, known once the server listens

    def save(self, job_id: str, filename: str, data: bytes, mime: str) -> str:
        job_dir = self.folder / safe(job_id)
        job_dir.mkdir(parents=True, exist_ok=True)
        name = safe(filename)
        tmp = job_dir / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(job_dir / name)
        return f"{self.base_url}/files/{safe(job_id)}/{name}"

    def path(self, job_id: str, name: str) -> Path | None:
        if safe(job_id) != job_id or safe(name) != name:
            return None
        p = self.folder / job_id / name
        return p if p.is_file() else None

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.folder / safe(job_id), ignore_errors=True)
