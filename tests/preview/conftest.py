"""Fixtures: preview engine processes on loopback, and small clients for its HTTP and websocket API."""
from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from tests.support.procs import Proc, free_port, wait_http
from tests.support.recordings import TRANSCRIPTS  # noqa: F401  (the recorded exchanges, tests/data/comfyui)


class Engine:
    def __init__(self, proc: Proc, port: int, data: Path):
        self.proc, self.port, self.data = proc, port, data
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def upload(self, name: str, content: bytes, **fields: str) -> httpx.Response:
        return self.http.post("/upload/image", files={"image": (name, content)}, data=fields)

    def wait_idle(self, timeout: float = 30) -> None:
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            q = self.http.get("/queue").json()
            if not q["queue_running"] and not q["queue_pending"]:
                return
            time.sleep(0.05)
        raise TimeoutError("engine did not become idle")


def start_engine(tmp: Path, *extra: str, wait: bool = True, extra_env: dict[str, str] | None = None) -> Engine:
    port = free_port()
    data = tmp / f"data-{port}"
    proc = Proc(["-m", "worker.preview", "--port", str(port), "--data", str(data), "--step-delay", "0.002", *extra],
                tmp / f"engine-{port}.log", env=extra_env)
    engine = Engine(proc, port, data)
    if wait:
        try:
            wait_http(f"{engine.url}/system_stats", timeout=60, proc=proc.popen)
        except Exception:
            proc.stop()
            raise
    return engine


@pytest.fixture
def engine_factory(tmp_path: Path) -> Iterator:
    started: list[Engine] = []

    def make(*extra: str, wait: bool = True) -> Engine:
        e = start_engine(tmp_path, *extra, wait=wait)
        started.append(e)
        return e

    yield make
    for e in started:
        e.http.close()
        e.proc.stop()


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[Engine]:
    e = start_engine(tmp_path_factory.mktemp("preview"))
    yield e
    e.http.close()
    e.proc.stop()


def png_bytes(w: int = 24, h: int = 16, color=(200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


async def run_ws(engine: Engine, body: dict | None, client_id: str | None = None, *, post_as: str | None = None,
                 feature_flags: bool = False, until_done: bool = True, timeout: float = 60.0,
                 settle: float = 0.3) -> tuple[httpx.Response | None, list[dict]]:
    """Open /ws?clientId=..., optionally POST /prompt, collect frames until executing{node:null} of our prompt."""
    import aiohttp
    client_id = client_id or f"t-{uuid.uuid4().hex[:8]}"
    frames: list[dict] = []
    response = None
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{engine.ws_url}/ws?clientId={client_id}") as ws:
            if feature_flags:
                await ws.send_str(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))
            first = await ws.receive(timeout=10)
            frames.append(_frame(first))
            if body is not None:
                async with httpx.AsyncClient(base_url=engine.url, timeout=30) as http:
                    response = await http.post(post_as or "/prompt", json=body)
                if response.status_code != 200:
                    return response, frames
                pid = response.json()["prompt_id"]
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"no end of prompt within {timeout} s: {[f['type'] for f in frames]}")
                try:
                    msg = await ws.receive(timeout=settle if not until_done else remaining)
                except asyncio.TimeoutError:
                    break
                if msg.type.name not in ("TEXT", "BINARY"):
                    break
                frame = _frame(msg)
                frames.append(frame)
                if until_done and body is not None and frame["type"] == "executing" and \
                        frame["data"].get("node") is None and frame["data"].get("prompt_id") == pid:
                    break
    return response, frames


def _frame(msg) -> dict:
    if msg.type.name == "BINARY":
        import struct
        event = struct.unpack(">I", msg.data[:4])[0]
        return {"type": f"binary:{event}", "data": msg.data}
    data = json.loads(msg.data)
    return {"type": data["type"], "data": data["data"]}


async def run_graph(engine: Engine, graph: dict) -> tuple[str, list[dict]]:
    """Queue `graph` with a client id of its own and follow it on the websocket to its end: (prompt_id, frames)."""
    cid = f"g-{uuid.uuid4().hex[:6]}"
    response, frames = await run_ws(engine, {"prompt": graph, "client_id": cid}, client_id=cid)
    assert response.status_code == 200, response.text
    return response.json()["prompt_id"], frames


def output_of(frames: list[dict]) -> dict:
    """The first `executed` node's output of a run that succeeded."""
    types = [f["type"] for f in frames]
    assert "execution_success" in types, [f["data"] for f in frames if f["type"] == "execution_error"]
    return next(f["data"]["output"] for f in frames if f["type"] == "executed")
