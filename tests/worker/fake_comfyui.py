"""A small ComfyUI double for the worker's tests: the routes and ws messages the worker uses, with faults.

Run as a real process: `python tests/worker/fake_comfyui.py --port P [--fault F] [--models a,b]`.
It is not the preview engine (worker/preview); it exists so each worker error path can be forced exactly.
Faults: never-start (log lines, never binds), crash-mid-job (exits during the first step), hang (runs until
interrupted), drop-ws (closes every socket once a prompt starts; the worker must fall back to /history),
ignore-interrupt (runs like hang but never heeds /interrupt: the prompt stays in queue_running until the process
ends, like SONIC's sampling loop, or `POST /_fake/release` lets it end as if interrupted).
Output node `inputs.size_bytes` pads a file to that size (for the oversize paths).
`GET /_fake/calls` lists the interrupt and queue-delete calls received.
`--fail-class C --fail-exception T --fail-message M`: a node of class C fails as a real node raising T(M) does
(execution_error with node_type C); with it, classes the fake does not know pass through, so a job's real
template (e.g. lipsync's SONIC graph) reaches that node.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import struct
import sys
import time
import uuid
import wave
import zlib

from aiohttp import web

KNOWN = {"CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage",
         "LoadImage", "LoadAudio", "SaveAudio", "SaveVideo", "VHS_VideoCombine", "FailNode", "PreviewImage"}
OUTPUT_NODES = {"SaveImage", "SaveAudio", "SaveVideo", "VHS_VideoCombine", "PreviewImage"}


def png(width: int, height: int, pad: int = 0) -> bytes:
    raw = b"".join(b"\x00" + bytes([200, 80, 40]) * width for _ in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
    if pad:
        body += chunk(b"tEXt", b"pad\x00" + os.urandom(pad // 2).hex().encode()[:pad])
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def wav(seconds: float = 0.5) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes(b"\x00\x01" * int(16000 * seconds))
    return buf.getvalue()


class Fake:
    def __init__(self, a):
        self.a = a
        self.models = [m for m in a.models.split(",") if m]
        self.inputs: dict[str, bytes] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.history: dict[str, dict] = {}
        self.sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.queue: list[tuple[str, dict, str]] = []
        self.running: str | None = None
        self.interrupt = asyncio.Event()
        self.release = asyncio.Event()
        self.calls: list[dict] = []
        self.counter = 0
        self.wake = asyncio.Event()

    async def send(self, client_id, kind, data):
        for ws in list(self.sockets.get(client_id, ())):
            try:
                await ws.send_str(json.dumps({"type": kind, "data": data}))
            except Exception:
                pass

    # ---- routes ----
    async def stats(self, r):
        return web.json_response({"system": {"comfyui_version": "0.3.64-fake", "argv": [self.a.argv0]}, "devices": []})

    async def ws(self, r):
        ws = web.WebSocketResponse()
        await ws.prepare(r)
        cid = r.query.get("clientId") or uuid.uuid4().hex
        self.sockets.setdefault(cid, set()).add(ws)
        await ws.send_str(json.dumps({"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": cid}}))
        async for _ in ws:
            pass
        self.sockets[cid].discard(ws)
        return ws

    async def upload(self, r):
        form = await r.post()
        f = form.get("image")
        if f is None:
            return web.Response(status=400)
        self.inputs[f.filename] = f.file.read()
        self.calls.append({"call": "upload", "name": f.filename, "size": len(self.inputs[f.filename])})
        return web.json_response({"name": f.filename, "subfolder": "", "type": "input"})

    def validate(self, prompt):
        errors = {}
        for nid, node in prompt.items():
            ct = node.get("class_type")
            if ct not in KNOWN and not self.a.fail_class:
                return {"error": {"type": "invalid_prompt", "message": f"Cannot execute because node {ct} does not exist.",
                                  "details": f"Node ID '#{nid}'", "extra_info": {}}, "node_errors": {}}
            inputs = node.get("inputs", {})
            if ct == "CheckpointLoaderSimple" and inputs.get("ckpt_name") not in self.models:
                errors[nid] = {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                               "details": f"ckpt_name: '{inputs.get('ckpt_name')}' not in {self.models}",
                               "extra_info": {"input_name": "ckpt_name", "input_config": [self.models, {}],
                                              "received_value": inputs.get("ckpt_name")}}],
                               "dependent_outputs": [], "class_type": ct}
            if ct in ("LoadImage", "LoadAudio"):
                key = "image" if ct == "LoadImage" else "audio"
                if inputs.get(key) not in self.inputs:
                    errors[nid] = {"errors": [{"type": "custom_validation_failed", "message": "Custom validation failed for node",
                                   "details": f"{key} - Invalid file: {inputs.get(key)}", "extra_info": {"input_name": key}}],
                                   "dependent_outputs": [], "class_type": ct}
            if ct == "EmptyLatentImage" and int(inputs.get("width", 512)) > 16384:
                errors[nid] = {"errors": [{"type": "value_bigger_than_max", "message": "Value bigger than max",
                               "details": "width", "extra_info": {"input_name": "width", "input_config": ["INT", {"max": 16384}],
                                                                   "received_value": inputs.get("width")}}],
                               "dependent_outputs": [], "class_type": ct}
        if errors:
            return {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                              "details": "", "extra_info": {}}, "node_errors": errors}
        return None

    async def prompt(self, r):
        try:
            body = await r.json()
        except ValueError:
            return web.Response(status=500, text="500 Internal Server Error")
        prompt = body.get("prompt") or {}
        self.counter += 1
        bad = self.validate(prompt)
        if bad:
            return web.json_response(bad, status=400)
        pid = body.get("prompt_id") or str(uuid.uuid4())
        self.queue.append((pid, prompt, body.get("client_id") or ""))
        self.wake.set()
        return web.json_response({"prompt_id": pid, "number": self.counter, "node_errors": {}})

    async def get_history(self, r):
        pid = r.match_info["pid"]
        return web.json_response({pid: self.history[pid]} if pid in self.history else {})

    async def view(self, r):
        key = (r.query.get("filename", ""), r.query.get("subfolder", ""), r.query.get("type", "output"))
        if key not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[key], content_type="application/octet-stream")

    async def interrupt_route(self, r):
        body = await r.json() if r.can_read_body else {}
        self.calls.append({"call": "interrupt", "prompt_id": body.get("prompt_id"), "running": self.running})
        if self.running and body.get("prompt_id") in (None, self.running):
            self.interrupt.set()
        return web.Response(status=200)

    async def queue_post(self, r):
        body = await r.json()
        for pid in body.get("delete") or []:
            self.calls.append({"call": "delete", "prompt_id": pid})
            self.queue = [q for q in self.queue if q[0] != pid]
        return web.Response(status=200)

    async def queue_get(self, r):
        return web.json_response({"queue_running": [[0, self.running, {}, {}, []]] if self.running else [],
                                  "queue_pending": [[0, q[0], {}, {}, []] for q in self.queue]})

    async def models_route(self, r):
        return web.json_response(self.models if r.match_info["folder"] == "checkpoints" else [])

    async def release_route(self, r):
        self.release.set()
        return web.json_response({"released": self.running})

    async def calls_route(self, r):
        return web.json_response({"calls": self.calls, "running": self.running, "pending": [q[0] for q in self.queue],
                                  "prompts": self.counter})

    # ---- execution ----
    async def worker(self):
        while True:
            while not self.queue:
                self.wake.clear()
                await self.wake.wait()
            pid, prompt, cid = self.queue.pop(0)
            self.running = pid
            self.interrupt.clear()
            try:
                await self.execute(pid, prompt, cid)
            finally:
                self.running = None

    async def execute(self, pid, prompt, cid):
        await self.send(cid, "execution_start", {"prompt_id": pid, "timestamp": int(time.time() * 1000)})
        if self.a.fault == "drop-ws":
            for ws in list(self.sockets.get(cid, ())):
                await ws.close()
        outputs, messages = {}, []
        for nid in sorted(prompt, key=lambda k: (len(k), k)):
            node = prompt[nid]
            ct = node["class_type"]
            await self.send(cid, "executing", {"node": nid, "display_node": nid, "prompt_id": pid})
            if ct == "KSampler":
                steps = int(node["inputs"].get("steps", self.a.steps))
                for i in range(1, steps + 1):
                    if self.a.fault == "crash-mid-job" and not os.path.exists(self.a.crash_marker or "/nonexistent"):
                        if self.a.crash_marker:
                            open(self.a.crash_marker, "w").close()    # crash once: the restarted one runs
                        print("fake: Segmentation fault (core dumped) while sampling", flush=True)
                        os._exit(139)
                    if self.interrupt.is_set():
                        return await self.interrupted(pid, cid, nid)
                    await asyncio.sleep(self.a.step_delay)
                    await self.send(cid, "progress", {"value": i, "max": steps, "prompt_id": pid, "node": nid})
                if self.a.fault == "ignore-interrupt":
                    print("fake: sampling, ignoring interrupts", flush=True)
                    while not self.release.is_set():
                        await asyncio.sleep(0.05)
                    self.release.clear()
                    return await self.interrupted(pid, cid, nid)
                if self.a.fault == "hang":
                    while not self.interrupt.is_set():
                        await asyncio.sleep(0.05)
                    return await self.interrupted(pid, cid, nid)
            if ct == "FailNode" or ct == self.a.fail_class:
                data = {"prompt_id": pid, "node_id": nid, "node_type": ct, "executed": [],
                        "exception_message": "index 3 is out of bounds for dimension 3 with size 3\n",
                        "exception_type": "IndexError", "traceback": [], "current_inputs": {}, "current_outputs": {}}
                if ct == self.a.fail_class:
                    data.update(exception_type=self.a.fail_exception, exception_message=self.a.fail_message)
                await self.send(cid, "execution_error", data)
                messages.append(["execution_error", data])
                self.history[pid] = {"prompt": [0, pid, prompt, {}, []], "outputs": {},
                                     "status": {"status_str": "error", "completed": False, "messages": messages}}
                await self.send(cid, "executing", {"node": None, "prompt_id": pid})
                return
            if ct in OUTPUT_NODES:
                out = self.render(nid, ct, node.get("inputs", {}), prompt)
                outputs[nid] = out
                await self.send(cid, "executed", {"node": nid, "display_node": nid, "output": out, "prompt_id": pid})
        self.history[pid] = {"prompt": [0, pid, prompt, {}, []], "outputs": outputs,
                             "status": {"status_str": "success", "completed": True, "messages": messages}}
        await self.send(cid, "execution_success", {"prompt_id": pid, "timestamp": int(time.time() * 1000)})
        await self.send(cid, "executing", {"node": None, "prompt_id": pid})

    async def interrupted(self, pid, cid, nid):
        data = {"prompt_id": pid, "node_id": nid, "node_type": "KSampler", "executed": []}
        await self.send(cid, "execution_interrupted", data)
        self.history[pid] = {"prompt": [0, pid, {}, {}, []], "outputs": {},
                             "status": {"status_str": "error", "completed": False,
                                        "messages": [["execution_interrupted", data]]}}
        await self.send(cid, "executing", {"node": None, "prompt_id": pid})

    def render(self, nid, ct, inputs, prompt):
        pad = int(inputs.get("size_bytes", 0))
        prefix = str(inputs.get("filename_prefix", "out")).replace("/", "_")
        if ct in ("SaveImage", "PreviewImage"):
            lat = next((n["inputs"] for n in prompt.values() if n["class_type"] == "EmptyLatentImage"), {})
            w, h = int(lat.get("width", 64)) // 8, int(lat.get("height", 64)) // 8
            name, data, kind = f"{prefix}_00001_.png", png(w, h, pad), "output"
            if ct == "PreviewImage":
                kind = "temp"
            self.files[(name, "", kind)] = data
            return {"images": [{"filename": name, "subfolder": "", "type": kind}]}
        if ct == "SaveAudio":
            name = f"{prefix}_00001_.wav"
            self.files[(name, "audio", "output")] = wav() + os.urandom(pad)
            return {"audio": [{"filename": name, "subfolder": "audio", "type": "output"}]}
        data = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(max(pad, 1000))
        if ct == "SaveVideo":
            name = f"{prefix}_00001_.mp4"
            self.files[(name, "video", "output")] = data
            return {"images": [{"filename": name, "subfolder": "video", "type": "output"}], "animated": [True]}
        name = f"{prefix}_00001-audio.mp4"
        self.files[(name, "", "output")] = data
        return {"gifs": [{"filename": name, "subfolder": "", "type": "output", "format": "video/h264-mp4",
                          "frame_rate": 8.0, "fullpath": "/x/" + name}]}


async def main(a):
    print("fake ComfyUI starting", flush=True)
    if a.fault == "never-start":
        print("Traceback: ImportError: libcuda.so.1: cannot open shared object file", flush=True)
        while True:
            await asyncio.sleep(3600)
    fake = Fake(a)
    app = web.Application(client_max_size=200 * 1024 * 1024)
    app.add_routes([web.get("/system_stats", fake.stats), web.get("/ws", fake.ws),
                    web.post("/upload/image", fake.upload), web.post("/prompt", fake.prompt),
                    web.get("/history/{pid}", fake.get_history), web.get("/view", fake.view),
                    web.post("/interrupt", fake.interrupt_route), web.post("/queue", fake.queue_post),
                    web.get("/queue", fake.queue_get), web.get("/models/{folder}", fake.models_route),
                    web.get("/_fake/calls", fake.calls_route), web.post("/_fake/release", fake.release_route)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", a.port).start()
    print(f"To see the GUI go to: http://127.0.0.1:{a.port}", flush=True)
    await fake.worker()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--fault", default="none")
    p.add_argument("--models", default="Deliberate_v5.safetensors")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--step-delay", type=float, default=0.02)
    p.add_argument("--argv0", default="main.py")
    p.add_argument("--crash-marker", default="")
    p.add_argument("--fail-class", default="")
    p.add_argument("--fail-exception", default="RuntimeError")
    p.add_argument("--fail-message", default="failed")
    asyncio.run(main(p.parse_args(sys.argv[1:])))
