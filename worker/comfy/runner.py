"""Queue one prompt and follow it to the end: websocket first, /history polling when the socket drops.

`watchdog` is called about once a second; it raises when ComfyUI is known to be gone (the supervised process
exited), so a crash fails the job within seconds instead of waiting for a socket timeout.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from worker.comfy.client import ComfyClient, ComfyUnreachable

POLL_INTERVAL_S = 0.5
UNREACHABLE_GRACE_S = 3.0


@dataclass
class RunFailed(Exception):
    kind: str                  # "execution_error" | "interrupted" | "unreachable"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    prompt_id: str
    outputs: dict[str, dict]               # node id -> ComfyUI output entry
    queue_ms: int
    run_ms: int
    dropped: dict = field(default_factory=dict)   # node_errors of outputs ComfyUI skipped but still queued the rest


ProgressFn = Callable[[dict], None]


async def run_prompt(client: ComfyClient, prompt: dict, *, on_progress: ProgressFn,
                     watchdog: Callable[[], None], prompt_id: str | None = None,
                     on_queued: Callable[[str], None] | None = None) -> RunResult:
    client_id = uuid.uuid4().hex
    prompt_id = prompt_id or str(uuid.uuid4())
    # The socket is opened before queueing so that no message of this prompt is missed.
    ws = None
    try:
        ws = await client.websocket(client_id)
    except ComfyUnreachable:
        ws = None
    t0 = time.monotonic()
    try:
        queued = await client.queue_prompt(prompt, client_id, prompt_id)
        if on_queued:
            on_queued(prompt_id)
        on_progress({"stage": "queued", "node": None, "step": 0, "steps": 0, "percent": 0})
        follower = _Follower(client, prompt_id, on_progress, watchdog, t0)
        if ws is not None:
            await follower.follow_ws(ws)
        if not follower.done:
            await follower.poll_history()
        outputs = await follower.final_outputs()
        t_end = time.monotonic()
        started = follower.started_at or t_end
        return RunResult(prompt_id, outputs, int((started - t0) * 1000), int((t_end - started) * 1000),
                         dropped=(queued or {}).get("node_errors") or {})
    finally:
        if ws is not None and not ws.closed:
            await ws.close()


class _Follower:
    def __init__(self, client: ComfyClient, prompt_id: str, on_progress: ProgressFn,
                 watchdog: Callable[[], None], t0: float):
        self.client = client
        self.prompt_id = prompt_id
        self.on_progress = on_progress
        self.watchdog = watchdog
        self.t0 = t0
        self.started_at: float | None = None
        self.done = False
        self.ws_outputs: dict[str, dict] = {}
        self.node: str | None = None
        self.node_since = 0.0                    # when the current node started
        self.node_steps = False                  # whether the current node has reported steps of its own

    def _mine(self, data: dict) -> bool:
        # After a reconnect ComfyUI may send `executing` without prompt_id; it is still for our client.
        return data.get("prompt_id") in (None, self.prompt_id)

    async def follow_ws(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not self.done:
            self.watchdog()
            try:
                msg = await ws.receive(timeout=1.0)
            except TimeoutError:
                self.tick()
                continue
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.ERROR):
                return                                   # dropped: the caller falls back to /history
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue                                 # binary preview frames
            try:
                event = json.loads(msg.data)
            except ValueError:
                continue
            self.handle(event.get("type"), event.get("data") or {})

    def handle(self, kind: str | None, data: dict) -> None:
        if not isinstance(data, dict) or not self._mine(data):
            return
        if kind == "execution_start":
            self.started_at = time.monotonic()
            self.on_progress({"stage": "running", "node": None, "step": 0, "steps": 0, "percent": 0})
        elif kind == "executing":
            if data.get("node") is None and data.get("prompt_id") == self.prompt_id:
                self.done = True
            elif data.get("node") is not None:
                self.node = str(data.get("node"))
                self.node_since, self.node_steps = time.monotonic(), False
                self.started_at = self.started_at or time.monotonic()
                self.on_progress({"stage": "running", "node": self.node, "step": 0, "steps": 0, "percent": 0})
        elif kind == "progress":
            value, maximum = int(data.get("value") or 0), int(data.get("max") or 0)
            pct = round(100 * value / maximum) if maximum else 0
            node = data.get("node") or self.node
            self.node_steps = self.node_steps or str(node) == self.node
            self.on_progress({"stage": "running", "node": node, "step": value, "steps": maximum, "percent": pct})
        elif kind == "executed":
            if isinstance(data.get("output"), dict):
                self.ws_outputs[str(data.get("node"))] = data["output"]
        elif kind == "execution_success":
            self.done = True
        elif kind == "execution_error":
            raise RunFailed("execution_error", data)
        elif kind == "execution_interrupted":
            raise RunFailed("interrupted", data)

    def tick(self) -> None:
        """A node that reports no steps of its own (a loader, a decode) shows how long it has run instead."""
        if self.node is not None and not self.node_steps:
            self.on_progress({"stage": "running", "node": self.node, "step": 0, "steps": 0, "percent": 0,
                              "elapsed_s": int(time.monotonic() - self.node_since)})

    async def poll_history(self) -> None:
        last_ok = time.monotonic()
        while True:
            self.watchdog()
            try:
                entry = await self.client.history(self.prompt_id)
                last_ok = time.monotonic()
            except ComfyUnreachable as exc:
                if time.monotonic() - last_ok > UNREACHABLE_GRACE_S:
                    raise RunFailed("unreachable", {"message": str(exc)}) from exc
                entry = None
            if entry:
                status = entry.get("status") or {}
                if status.get("completed") or status.get("status_str") in ("success", "error"):
                    self._from_history(entry)
                    return
            await asyncio.sleep(POLL_INTERVAL_S)

    def _from_history(self, entry: dict) -> None:
        status = entry.get("status") or {}
        for event, data in status.get("messages") or []:
            if event in ("execution_error", "execution_interrupted"):
                self.handle(event, data)
        if status.get("status_str") == "error":
            raise RunFailed("execution_error", {"exception_message": "ComfyUI reported an error"})
        self.started_at = self.started_at or time.monotonic()
        self.ws_outputs.update(entry.get("outputs") or {})
        self.done = True

    async def final_outputs(self) -> dict[str, dict]:
        # History is authoritative (it also lists outputs re-sent from cache); the ws copy covers a lost history.
        try:
            entry = await self.client.history(self.prompt_id)
        except ComfyUnreachable:
            entry = None
        outputs = dict(self.ws_outputs)
        if entry and entry.get("outputs"):
            outputs.update(entry["outputs"])
        return outputs
