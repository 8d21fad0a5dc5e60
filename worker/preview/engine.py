"""The prompt queue and executor: one prompt at a time, ws messages in ComfyUI 0.3.64's order, history."""
from __future__ import annotations

import asyncio
import heapq
import hashlib
import json
import logging
import os
import struct
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import loading
from .datadir import DataDir
from .nodes import EVALUATORS, Ctx, NodeError, passthrough
from .schemas import NodeSchema

log = logging.getLogger("preview")

FEATURES = {"supports_preview_metadata": True, "max_upload_size": 104857600}
SENSITIVE_EXTRA_DATA_KEYS = ("auth_token_comfy_org", "api_key_comfy_org")


def full_type_name(klass: type) -> str:
    """ComfyUI's name for an exception type: module-qualified unless it is a builtin."""
    module = klass.__module__
    return klass.__qualname__ if module == "builtins" else f"{module}.{klass.__qualname__}"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(order=True)
class QueueItem:
    number: float
    seq: int
    prompt_id: str = field(compare=False)
    prompt: dict = field(compare=False)
    extra_data: dict = field(compare=False)
    outputs: list = field(compare=False)

    def as_list(self) -> list:
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


class Interrupted(Exception):
    pass


@dataclass
class Faults:
    """Test faults: crash-mid-job, hang, reject, fail-node:<Class> (never-start is handled before binding)."""
    mode: str | None = None

    def fail_node(self) -> str | None:
        if self.mode and self.mode.startswith("fail-node:"):
            return self.mode.split(":", 1)[1]
        return None


class Client:
    def __init__(self, ws: web.WebSocketResponse):
        self.ws = ws
        self.preview_metadata = False


class Engine:
    def __init__(self, data: DataDir, schemas: dict[str, NodeSchema], step_delay: float = 0.02,
                 faults: Faults | None = None):
        self.data = data
        self.schemas = schemas
        self.step_delay = step_delay
        self.faults = faults or Faults()
        self.number = 0
        self._seq = 0
        self.pending: list[QueueItem] = []
        self.running: QueueItem | None = None
        self.history: OrderedDict[str, dict] = OrderedDict()
        self.clients: dict[str, Client] = {}
        self.client_id: str | None = None
        self.last_node_id: str | None = None
        self._interrupt = False
        self._wake = asyncio.Event()
        self._cache: dict[str, tuple[tuple, dict | None]] = {}
        self._task: asyncio.Task | None = None

    # ---- messaging ---------------------------------------------------------------------------------
    async def send(self, event: str, data: Any, sid: str | None = None) -> None:
        targets = [self.clients[sid]] if sid is not None and sid in self.clients else (
            list(self.clients.values()) if sid is None else [])
        msg = json.dumps({"type": event, "data": data})
        for c in targets:
            try:
                await c.ws.send_str(msg)
            except (ConnectionError, RuntimeError):
                pass

    async def send_bytes(self, payload: bytes, image_meta: dict, sid: str | None) -> None:
        targets = [self.clients[sid]] if sid is not None and sid in self.clients else (
            list(self.clients.values()) if sid is None else [])
        for c in targets:
            if c.preview_metadata:
                meta = json.dumps(image_meta).encode()
                frame = struct.pack(">I", 4) + struct.pack(">I", len(meta)) + meta + payload
            else:
                frame = struct.pack(">I", 1) + struct.pack(">I", 2) + payload
            try:
                await c.ws.send_bytes(frame)
            except (ConnectionError, RuntimeError):
                pass

    def queue_remaining(self) -> int:
        return len(self.pending) + (1 if self.running else 0)

    async def send_status(self, sid: str | None = None, with_sid: bool = False) -> None:
        data: dict[str, Any] = {"status": {"exec_info": {"queue_remaining": self.queue_remaining()}}}
        if with_sid:
            data["sid"] = sid
        await self.send("status", data, sid)

    # ---- queue -------------------------------------------------------------------------------------
    def next_number(self, front: bool) -> int:
        number = self.number
        self.number += 1
        return -number if front else number

    async def put(self, number: float, prompt_id: str, prompt: dict, extra: dict, outputs: list) -> None:
        self._seq += 1
        heapq.heappush(self.pending, QueueItem(number, self._seq, prompt_id, prompt, extra, outputs))
        await self.send_status()
        self._wake.set()

    async def delete(self, prompt_ids: list[str]) -> None:
        self.pending = [q for q in self.pending if q.prompt_id not in prompt_ids]
        heapq.heapify(self.pending)
        await self.send_status()

    async def clear(self) -> None:
        self.pending = []
        await self.send_status()

    def interrupt(self, prompt_id: str | None = None) -> None:
        if self.running is None:
            return
        if prompt_id is not None and prompt_id != self.running.prompt_id:
            return
        self._interrupt = True

    def start(self) -> None:
        self._task = asyncio.create_task(self._worker())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _worker(self) -> None:
        while True:
            while not self.pending:
                self._wake.clear()
                await self._wake.wait()
            item = heapq.heappop(self.pending)
            self.running = item
            self._interrupt = False
            await self.send_status()
            try:
                await self._execute(item)
            except Exception:  # never let one prompt stop the queue
                log.exception("prompt %s failed unexpectedly", item.prompt_id)
            self.running = None
            self.last_node_id = None
            await self.send_status()
            if item.extra_data.get("client_id") is not None:
                await self.send("executing", {"node": None, "prompt_id": item.prompt_id}, item.extra_data["client_id"])
            self.client_id = None

    # ---- execution ---------------------------------------------------------------------------------
    def _order(self, prompt: dict, outputs: list[str]) -> list[str]:
        """Dependency order of the nodes the outputs need (depth-first, inputs before users)."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(nid: str) -> None:
            if nid in seen:
                return
            seen.add(nid)
            for val in prompt[nid].get("inputs", {}).values():
                if isinstance(val, list) and len(val) == 2 and isinstance(val[0], str) and val[0] in prompt:
                    visit(val[0])
            order.append(nid)

        for out in sorted(outputs, key=lambda x: (len(x), x)):
            visit(out)
        return order

    def _signature(self, prompt: dict, nid: str, sigs: dict[str, str]) -> str:
        entry = prompt[nid]
        inputs = {}
        for k, v in sorted(entry.get("inputs", {}).items()):
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and v[0] in sigs:
                inputs[k] = ["link", sigs[v[0]], v[1]]
            else:
                inputs[k] = v
        # A re-uploaded file under the same name must not hit the cache (ComfyUI hashes the file).
        files = {}
        for name in ("image", "audio"):
            val = entry.get("inputs", {}).get(name)
            if isinstance(val, str):
                path = self.data.resolve_annotated(val)
                if path is not None and path.is_file():
                    st = path.stat()
                    files[name] = [st.st_size, st.st_mtime_ns]
        raw = json.dumps([entry["class_type"], inputs, files], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()

    def _node_state(self, pid: str, nid: str, value: float, maximum: float, state: str) -> dict:
        return {"value": value, "max": maximum, "state": state, "node_id": nid, "prompt_id": pid,
                "display_node_id": nid, "parent_node_id": None, "real_node_id": nid}

    async def _execute(self, item: QueueItem) -> None:
        pid, prompt, cid = item.prompt_id, item.prompt, item.extra_data.get("client_id")
        self.client_id = cid
        messages: list[list] = []

        async def add_message(event: str, data: dict, broadcast: bool) -> None:
            messages.append([event, data])
            if cid is not None or broadcast:
                await self.send(event, data, cid)

        await add_message("execution_start", {"prompt_id": pid, "timestamp": now_ms()}, False)
        order = self._order(prompt, item.outputs)
        sigs: dict[str, str] = {}
        for nid in order:
            sigs[nid] = self._signature(prompt, nid, sigs)
        cached = [nid for nid in order if sigs[nid] in self._cache]
        await add_message("execution_cached", {"nodes": cached, "prompt_id": pid, "timestamp": now_ms()}, False)

        values: dict[str, tuple] = {}
        outputs: dict[str, dict] = {}
        states: dict[str, dict] = {}
        executed: list[str] = []
        new_cache: dict[str, tuple[tuple, dict | None]] = {}

        async def progress_state() -> None:
            await self.send("progress_state", {"prompt_id": pid, "nodes": dict(states)}, cid)

        for nid in order:
            cls = prompt[nid]["class_type"]
            if nid in cached:
                outs, ui = self._cache[sigs[nid]]
                values[nid] = outs
                new_cache[sigs[nid]] = (outs, ui)
                if ui:
                    ui = {k: v for k, v in ui.items() if not k.startswith("__")}
                    outputs[nid] = ui
                    if ui and cid is not None:
                        await self.send("executed", {"node": nid, "display_node": nid, "output": ui, "prompt_id": pid},
                                        cid)
                    states[nid] = self._node_state(pid, nid, 1, 1, "finished")
                    await self.send("progress_state", {"prompt_id": pid, "nodes": {nid: states[nid]}}, cid)
                continue
            states[nid] = self._node_state(pid, nid, 0.0, 1.0, "running")
            await progress_state()
            self.last_node_id = nid
            if cid is not None:
                await self.send("executing", {"node": nid, "display_node": nid, "prompt_id": pid}, cid)
            if self._interrupt:
                await add_message("execution_interrupted", {"prompt_id": pid, "node_id": nid, "node_type": cls,
                                                            "executed": executed, "timestamp": now_ms()}, True)
                self._finish_history(item, {}, "error", messages)
                self._cache = {**self._cache, **new_cache}
                return
            try:
                inputs = self._inputs(prompt[nid], values)
                outs, ui = await self._run_node(pid, nid, cls, inputs, states, cid)
            except Interrupted:
                await add_message("execution_interrupted", {"prompt_id": pid, "node_id": nid, "node_type": cls,
                                                            "executed": executed, "timestamp": now_ms()}, True)
                self._finish_history(item, {}, "error", messages)
                return
            except Exception as exc:
                exc_type = exc.exception_type if isinstance(exc, NodeError) else full_type_name(type(exc))
                frames = exc.frames if isinstance(exc, NodeError) and exc.frames else [
                    f'  File "{f.filename}", line {f.lineno}, in {f.name}\n'
                    for f in traceback.extract_tb(exc.__traceback__)[-2:]]
                tb = ['  File "/comfyui/execution.py", line 496, in execute\n',
                      '  File "/comfyui/execution.py", line 315, in get_output_data\n',
                      '  File "/comfyui/execution.py", line 289, in _async_map_node_over_list\n',
                      '  File "/comfyui/execution.py", line 277, in process_inputs\n', *frames]
                current_inputs = {k: [v if isinstance(v, (str, int, float, bool)) else str(v)]
                                  for k, v in self._inputs(prompt[nid], values).items()}
                await add_message("execution_error", {
                    "prompt_id": pid, "node_id": nid, "node_type": cls, "executed": executed,
                    "exception_message": f"{exc}\n", "exception_type": exc_type, "traceback": tb,
                    "current_inputs": current_inputs, "current_outputs": list(order),
                    "timestamp": now_ms()}, False)
                self._finish_history(item, {}, "error", messages)
                self._cache = {**self._cache, **new_cache}
                return
            values[nid] = outs
            new_cache[sigs[nid]] = (outs, ui)
            executed.append(nid)
            if ui:
                binary = ui.get("__binary_images__")
                public = {k: v for k, v in ui.items() if not k.startswith("__")}
                if binary:
                    meta_client = cid is not None and cid in self.clients and self.clients[cid].preview_metadata
                    for i, png in enumerate(binary):
                        states[nid] = self._node_state(pid, nid, i, len(binary), "running")
                        await progress_state()
                        meta = {"node_id": nid, "prompt_id": pid, "display_node_id": nid, "parent_node_id": None,
                                "real_node_id": nid, "image_type": "image/png"}
                        step = {"value": i, "max": len(binary), "prompt_id": pid, "node": nid}
                        # The recorded order differs: metadata frames go before the step, plain ones after it.
                        if meta_client:
                            await self.send_bytes(png, meta, cid)
                            await self.send("progress", step, cid)
                        else:
                            await self.send("progress", step, cid)
                            await self.send_bytes(png, meta, cid)
                if public:
                    outputs[nid] = public
                    if cid is not None:
                        await self.send("executed", {"node": nid, "display_node": nid, "output": public,
                                                     "prompt_id": pid}, cid)
            # ComfyUI's finish_progress: the last frame reports max/max of the node's own progress bar.
            top = states[nid]["max"]
            states[nid] = self._node_state(pid, nid, top, top, "finished")
            await progress_state()
        await add_message("execution_success", {"prompt_id": pid, "timestamp": now_ms()}, False)
        self._cache = new_cache
        self._finish_history(item, outputs, "success", messages, meta=True)

    def _inputs(self, entry: dict, values: dict[str, tuple]) -> dict[str, Any]:
        out = {}
        for k, v in entry.get("inputs", {}).items():
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and v[0] in values:
                outs = values[v[0]]
                out[k] = outs[v[1]] if v[1] < len(outs) else None
            elif isinstance(v, dict) and "__value__" in v:
                out[k] = v["__value__"]
            else:
                out[k] = v
        return out

    async def _run_node(self, pid: str, nid: str, cls: str, inputs: dict, states: dict, cid: str | None):
        schema = self.schemas[cls]
        for name, spec in schema.inputs.items():
            if name in inputs and inputs[name] is not None and not isinstance(inputs[name], (list, dict)):
                try:
                    if spec.type == "INT":
                        inputs[name] = int(inputs[name])
                    elif spec.type == "FLOAT":
                        inputs[name] = float(inputs[name])
                except (TypeError, ValueError):
                    pass
            elif name not in inputs and "default" in spec.options:
                inputs[name] = spec.options["default"]

        async def steps(n: int) -> None:
            for i in range(1, n + 1):
                await self._tick(pid, nid, i, n)
                # ComfyUI's progress hook updates the node state first, then sends the step.
                states[nid] = self._node_state(pid, nid, i, n, "running")
                await self.send("progress_state", {"prompt_id": pid, "nodes": dict(states)}, cid)
                await self.send("progress", {"value": i, "max": n, "prompt_id": pid, "node": nid}, cid)

        if self.faults.mode == "hang":
            while not self._interrupt:
                await asyncio.sleep(0.05)
            raise Interrupted()
        if self.faults.mode == "crash-mid-job":
            await steps(3)
            log.error("preview engine: simulated crash while node %s (%s) runs", nid, cls)
            logging.shutdown()
            os._exit(1)
        if self.faults.fail_node() == cls:
            await steps(2)
            raise NodeError("RuntimeError", f"preview engine fault: {cls} failed as asked (fail-node:{cls})")
        for name, folder in schema.files.items():
            value = inputs.get(name)
            if folder.startswith("models:") and isinstance(value, str) and value != "none":
                try:   # the loader reads its file as the real one would (a corrupt checkpoint fails here)
                    loading.check_model_file(cls, self.data.root / "models" / folder.split(":", 1)[1] / value)
                except loading.LoadError as exc:
                    raise NodeError(exc.exception_type, str(exc), exc.frames) from None
        evaluator = EVALUATORS.get(cls, passthrough)
        ctx = Ctx(nid, cls, inputs, schema, self.data, steps)
        return await evaluator(ctx)

    async def _tick(self, pid: str, nid: str, i: int, n: int) -> None:
        if self.step_delay > 0:
            await asyncio.sleep(self.step_delay)
        else:
            await asyncio.sleep(0)

    def _finish_history(self, item: QueueItem, outputs: dict, status: str, messages: list, meta: bool = False) -> None:
        self.history[item.prompt_id] = {
            "prompt": item.as_list(),
            "outputs": outputs,
            "status": {"status_str": status, "completed": status == "success", "messages": messages},
            "meta": {nid: {"node_id": nid, "display_node": nid, "parent_node": None, "real_node_id": nid}
                     for nid in outputs} if meta else {},
        }
        # ComfyUI keeps the newest 10000 entries.
        while len(self.history) > 10000:
            self.history.popitem(last=False)

    def get_history(self, prompt_id: str | None = None, max_items: int | None = None, offset: int = -1) -> dict:
        if prompt_id is not None:
            return {prompt_id: self.history[prompt_id]} if prompt_id in self.history else {}
        out = {}
        if offset < 0 and max_items is not None:
            offset = len(self.history) - max_items
        for i, (k, v) in enumerate(self.history.items()):
            if i >= offset:
                out[k] = v
                if max_items is not None and len(out) >= max_items:
                    break
        return out

    def queue_view(self) -> dict:
        return {"queue_running": [self.running.as_list()] if self.running else [],
                "queue_pending": [q.as_list() for q in self.pending]}

    @staticmethod
    def split_sensitive(extra: dict) -> dict:
        return {k: extra.pop(k) for k in SENSITIVE_EXTRA_DATA_KEYS if k in extra}
