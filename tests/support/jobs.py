"""Jobs through the RunPod queue API of a local endpoint (`python -m worker serve`), over real HTTP: submit, wait
until the job ends, read its error or its files, and the base64 payloads a job's input carries."""
from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable

import httpx
from PIL import Image

TERMINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")


def submit(base: str, inp: dict, **body) -> str:
    """POST /run with `inp` (and any other body fields, e.g. policy); the job's id."""
    r = httpx.post(f"{base}/run", json={"input": inp, **body}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def wait(base: str, job_id: str, timeout: float = 120, until=TERMINAL, poll: float = 0.1,
         log: Callable[[], str] | None = None) -> dict:
    """Poll /status until the job's status is one of `until`; `log` (e.g. the server's) goes into a timeout's
    message."""
    deadline = time.monotonic() + timeout
    job: dict = {}
    while time.monotonic() < deadline:
        job = httpx.get(f"{base}/status/{job_id}", timeout=30).json()
        if job.get("status") in until:
            return job
        time.sleep(poll)
    tail = f"\n{log()[-3000:]}" if log else ""
    raise AssertionError(f"job {job_id} not {until} within {timeout} s: {job}{tail}")


def run(base: str, inp: dict, timeout: float = 120, poll: float = 0.05, **body) -> dict:
    """Submit and wait until the job ends."""
    return wait(base, submit(base, inp, **body), timeout, poll=poll)


def error_of(job: dict) -> dict:
    """A failed job's structured error."""
    assert job["status"] == "FAILED", job
    return json.loads(job["error"])


def data(f: dict) -> bytes:
    """The bytes of one output file sent inline (base64), checked against its stated size."""
    assert f["encoding"] == "base64"
    raw = base64.b64decode(f["data"])
    assert len(raw) == f["size"]
    return raw


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def png_b64(w: int, h: int, colour=(150, 110, 90)) -> str:
    """A plain w×h PNG, base64, for an image input."""
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, "PNG")
    return b64(buf.getvalue())
