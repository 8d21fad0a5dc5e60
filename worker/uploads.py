"""Putting decoded inputs into ComfyUI's input folder under names we generate.

A client's file name is never used: it could be `../../etc/passwd`, collide with another job's file, or carry
an extension that does not match the bytes. The name is `<param>_<random>.<ext from the sniffed kind>`.
"""
from __future__ import annotations

import re
import uuid

from worker.comfy.client import ComfyClient
from worker.jobs.base import MediaFile

_SAFE = re.compile(r"[^a-z0-9_]+")


def safe_name(param: str, extension: str) -> str:
    stem = _SAFE.sub("_", param.lower()).strip("_")[:32] or "input"
    ext = extension if re.fullmatch(r"\.[a-z0-9]{1,5}", extension or "") else ".bin"
    return f"{stem}_{uuid.uuid4().hex[:16]}{ext}"


async def upload_all(client: ComfyClient, media: dict[str, MediaFile]) -> dict[str, str]:
    """Upload every media input; returns param -> the name to put in LoadImage/LoadAudio."""
    stored: dict[str, str] = {}
    for param, item in media.items():
        stored[param] = await client.upload(safe_name(param, item.extension), item.data, item.mime)
    return stored
