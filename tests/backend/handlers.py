"""Test handlers the backend's tests need beyond tests/support/handlers.py: jobs that return media files."""
from __future__ import annotations

import asyncio
import base64
import io
import time

from PIL import Image

from tests.support import handlers as support
from worker import progress


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buf, "PNG")
    return buf.getvalue()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buf, "JPEG")
    return buf.getvalue()


async def picture(job: dict) -> dict:
    """Progress for `steps` steps, then one PNG (and, with `mislabel`, a JPEG that claims to be a PNG)."""
    inp = job["input"]
    steps, step_s = int(inp.get("steps", 4)), float(inp.get("step_s", 0.1))
    for step in range(1, steps + 1):
        progress.report(job, {"stage": "running", "node": "3", "step": step, "steps": steps,
                              "percent": round(100 * step / steps)}, force=True)
        await asyncio.sleep(step_s)
    files = [{"type": "image", "filename": "portrait_00001_.png", "mime": "image/png", "size": 0,
              "encoding": "base64", "data": base64.b64encode(_png((200, 30, 30))).decode()}]
    if inp.get("mislabel"):
        files.append({"type": "image", "filename": "fake.png", "mime": "image/png", "size": 0,
                      "encoding": "base64", "data": base64.b64encode(_jpeg()).decode()})
    if inp.get("garbage"):
        files.append({"type": "image", "filename": "junk.png", "mime": "image/png", "size": 0,
                      "encoding": "base64", "data": base64.b64encode(b"not an image at all").decode()})
    return {"status": "success", "action": inp.get("action"), "preview": False, "files": files, "seed": 1234,
            "licence": None, "warnings": [], "timings": {}}


async def timed(job: dict) -> dict:
    """Sleeps `seconds` with no progress reports: a job of known length, for the benchmark."""
    await asyncio.sleep(float(job["input"].get("seconds", 1.0)))
    return {"status": "success", "files": [], "finished_at": time.time()}


async def paced(job: dict) -> dict:
    """A job of known length that reports its progress about once a second, like the real worker; for the bench."""
    seconds = float(job["input"].get("seconds", 5.0))
    t0 = time.monotonic()
    steps = max(1, int(seconds))
    for step in range(1, steps + 1):
        progress.report(job, {"stage": "running", "node": "3", "step": step, "steps": steps,
                              "percent": round(100 * (step - 1) / steps)}, force=True)
        await asyncio.sleep(max(0.0, t0 + seconds * step / steps - time.monotonic()))
    return {"status": "success", "files": [], "finished_at": time.time()}


async def silent(job: dict) -> dict:
    """COMPLETED without output: the trap when RunPod drops an oversize result."""
    return None  # type: ignore[return-value]


async def stuck(job: dict) -> dict:
    """Reports 100 % and then never returns: what a lost result looks like from the client (runpod-python #250)."""
    progress.report(job, {"stage": "running", "step": 4, "steps": 4, "percent": 100}, force=True)
    await asyncio.sleep(float(job["input"].get("seconds", 30)))
    return {"status": "success", "files": []}


MINE = {"picture": picture, "timed": timed, "paced": paced, "silent": silent, "stuck": stuck}


def dispatch(job: dict):
    kind = job["input"].get("kind", "echo") if isinstance(job["input"], dict) else "echo"
    if kind in MINE:
        return MINE[kind](job)
    return support.dispatch(job)
