"""Small RunPod-style handlers for testing the local endpoint (and clients of it) without ComfyUI.

`dispatch` picks one by `input["kind"]`, so one endpoint process can serve every case:
  sleep     {"steps": 5, "step_s": 0.1, "marker": "/tmp/x"}   progress each step; writes "cancelled" to
                                                              `marker` if it receives CancelledError
  fail      {"message": "..."}                                returns a WorkerError result → FAILED
  raise     {"message": "..."}                                raises ValueError → FAILED with the SDK's JSON
  big       {"bytes": 11_000_000}                             returns a result of about that many bytes
  stream    {"chunks": 3, "step_s": 0.1}                      async generator yielding {"chunk": i}
  flaky     {"marker": "/tmp/y"}                              fails the first time (creates `marker`), then succeeds
  env       {}                                                returns the COMFYUI_URL the endpoint set for the handler
  echo      anything                                          returns {"status": "success", "input": ...}
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from worker import progress
from worker.errors import WorkerError


async def sleeper(job: dict) -> dict:
    inp = job["input"]
    steps = int(inp.get("steps", 5))
    step_s = float(inp.get("step_s", 0.1))
    marker = inp.get("marker")
    try:
        for step in range(1, steps + 1):
            progress.report(job, {"stage": "running", "node": "sleep", "step": step, "steps": steps,
                                  "percent": round(100 * step / steps)}, force=True)
            await asyncio.sleep(step_s)
    except asyncio.CancelledError:
        if marker:
            Path(marker).write_text("cancelled")
        raise
    if marker:
        Path(marker).write_text("finished")
    return {"status": "success", "steps": steps}


async def failing(job: dict) -> dict:
    message = job["input"].get("message", "width: 1000 is not a multiple of 8 (256–1024)")
    return WorkerError("invalid_input", message, field="width").to_result()


async def raising(job: dict) -> dict:
    raise ValueError(job["input"].get("message", "the handler broke"))


async def big(job: dict) -> dict:
    size = int(job["input"].get("bytes", 11 * 1024 * 1024))
    return {"status": "success", "data": "x" * size}


async def streamer(job: dict):
    inp = job["input"]
    for i in range(int(inp.get("chunks", 3))):
        await asyncio.sleep(float(inp.get("step_s", 0.1)))
        yield {"chunk": i}


async def flaky(job: dict) -> dict:
    marker = Path(job["input"]["marker"])
    if not marker.exists():
        marker.write_text("failed once")
        return {"error": "flaky: first attempt fails"}
    return {"status": "success", "attempt": 2}


async def comfyui_env(job: dict) -> dict:
    import os
    return {"COMFYUI_URL": os.environ.get("COMFYUI_URL")}


async def echo(job: dict) -> dict:
    return {"status": "success", "input": job["input"], "has_s3Config": "s3Config" in job}


def sync_sleeper(job: dict) -> dict:
    """A plain (non-async) handler: runs in a thread, cannot be interrupted."""
    import time
    time.sleep(float(job["input"].get("seconds", 0.2)))
    return {"status": "success"}


HANDLERS: dict[str, Any] = {
    "sleep": sleeper, "fail": failing, "raise": raising, "big": big, "stream": streamer, "echo": echo,
    "flaky": flaky, "env": comfyui_env,
}


def dispatch(job: dict):
    """Returns the chosen handler's coroutine or async generator; the endpoint awaits or iterates it."""
    kind = job["input"].get("kind", "echo") if isinstance(job["input"], dict) else "echo"
    return HANDLERS[kind](job)
