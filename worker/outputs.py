"""Turning ComfyUI's output entries into the files a client receives.

ComfyUI reports files under several keys: `images` (also SaveVideo/SaveWEBM/SaveAnimatedWEBP, with `animated`),
`audio`, `gifs` (VideoHelperSuite) and others from custom packs; every entry with a filename is collected.
Small results are returned inline as base64; big ones, or all of them when a bucket is configured, go to
the bucket. A result is never allowed past RunPod's 10 MB limit.
"""
from __future__ import annotations

import base64
import contextvars
import json
import mimetypes
import posixpath
from dataclasses import dataclass

from collections.abc import Callable

from worker.comfy.client import OutputFile
from worker.config import RUNPOD_RESULT_LIMIT
from worker.errors import WorkerError

# Installed by the local endpoint for the duration of a job: (job_id, filename, bytes, mime) -> a URL it serves.
# With no bucket, outputs too big to return inline go there instead of failing the job.
LocalStore = Callable[[str, str, bytes, str], str]
local_store: contextvars.ContextVar[LocalStore | None] = contextvars.ContextVar("local_store", default=None)

# Leave room for the rest of the result (timings, warnings) and RunPod's own wrapping.
RESULT_BUDGET = RUNPOD_RESULT_LIMIT - 64 * 1024

_MIME = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
    ".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime", ".mkv": "video/x-matroska",
}


@dataclass(frozen=True)
class Collected:
    ref: OutputFile
    type: str           # image | audio | video
    mime: str


def mime_for(filename: str) -> str:
    ext = posixpath.splitext(filename)[1].lower()
    return _MIME.get(ext) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _kind(key: str, mime: str, animated: bool) -> str:
    if mime.startswith("audio/"):
        return "audio"
    if mime.startswith("video/") or (animated and mime in ("image/webp", "image/png", "image/gif")) \
            or (key == "gifs" and mime == "image/gif"):
        return "video"
    if mime.startswith("image/"):
        return "image"
    return "file"


def collect(outputs: dict[str, dict], order: list[str] | None = None) -> list[Collected]:
    """Every file in the outputs, saved (`type: output`) ones first; temp previews only when nothing was saved."""
    saved, temp = [], []
    seen = set()
    node_ids = sorted(outputs, key=lambda n: (order.index(n) if order and n in order else 1 << 30, n))
    for node_id in node_ids:
        entry = outputs[node_id] or {}
        animated = any(bool(a) for a in entry.get("animated") or [])
        for key, items in entry.items():
            if not isinstance(items, list):
                continue
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
                    continue
                ref = OutputFile(item["filename"], str(item.get("subfolder") or ""), str(item.get("type") or "output"))
                if ref in seen:
                    continue
                seen.add(ref)
                mime = mime_for(ref.filename)
                col = Collected(ref, _kind(key, mime, animated), mime)
                (temp if ref.type == "temp" else saved).append(col)
    return saved or temp


def inline_entry(c: Collected, data: bytes) -> dict:
    return {"type": c.type, "filename": c.ref.filename, "mime": c.mime, "size": len(data),
            "encoding": "base64", "data": base64.b64encode(data).decode("ascii")}


def url_entry(c: Collected, size: int, url: str) -> dict:
    return {"type": c.type, "filename": c.ref.filename, "mime": c.mime, "size": size, "encoding": "url", "url": url}


def result_size(result: dict) -> int:
    return len(json.dumps(result))


def too_large_error(total: int, inline_max: int) -> WorkerError:
    return WorkerError(
        "output_too_large",
        f"the outputs are {total} bytes, more than the {inline_max} bytes returned inline; set BUCKET_ENDPOINT_URL, "
        "BUCKET_ACCESS_KEY_ID, BUCKET_SECRET_ACCESS_KEY and BUCKET_NAME on the worker, or send s3Config with the "
        "request, to receive them as URLs",
        details={"size": total, "limit": inline_max})
