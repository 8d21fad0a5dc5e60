"""aiohttp routes speaking ComfyUI 0.3.64's HTTP + websocket API (every route also under /api/)."""
from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from . import info_snapshot
from .datadir import MODEL_FOLDERS, DataDir
from .engine import FEATURES, Client, Engine
from .schemas import NodeSchema
from .faults import FAULT_MODES, VERSION, parse_fault  # noqa: F401 - re-exported
from .validation import validate_prompt

# ComfyUI_IPAdapter_plus registers its folder in ComfyUI's folder list (the other packs keep theirs to themselves),
# so a server with it loaded lists "ipadapter" in GET /models, after the core folders.
PACK_MODEL_FOLDERS = ["ipadapter"]

log = logging.getLogger("preview")

TROUBLE = "500 Internal Server Error\n\nServer got itself in trouble"


def trouble() -> web.Response:
    return web.Response(status=500, text=TROUBLE)


class App:
    def __init__(self, data: DataDir, schemas: dict[str, NodeSchema], engine: Engine, host: str, port: int,
                 object_info: dict[str, Any]):
        self.data = data
        self.schemas = schemas
        self.engine = engine
        self.host, self.port = host, port
        self.info = object_info

    # ---- /prompt -----------------------------------------------------------------------------------
    async def get_prompt(self, request: web.Request) -> web.Response:
        return web.json_response({"exec_info": {"queue_remaining": self.engine.queue_remaining()}})

    async def post_prompt(self, request: web.Request) -> web.Response:
        if self.engine.faults.mode == "reject":
            return trouble()
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return trouble()
        if not isinstance(body, dict):
            return trouble()
        if "number" in body:
            try:
                number: float = float(body["number"])
            except (TypeError, ValueError):
                return trouble()
        else:
            number = self.engine.next_number(bool(body.get("front")))
        if "prompt" not in body:
            err = {"type": "no_prompt", "message": "No prompt provided", "details": "No prompt provided",
                   "extra_info": {}}
            return web.json_response({"error": err, "node_errors": {}}, status=400)
        prompt = body["prompt"]
        prompt_id = str(body.get("prompt_id", uuid.uuid4()))
        try:
            status, result = validate_prompt(prompt, self.schemas, self.data)
        except Exception:  # a shape ComfyUI itself would choke on
            log.exception("validation raised")
            return trouble()
        if status == 500 or result is None:
            return trouble()
        extra = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra["client_id"] = body["client_id"]
        if status != 200:
            log.warning("invalid prompt: %s", result["error"])
            return web.json_response(result, status=status)
        Engine.split_sensitive(extra)
        await self.engine.put(number, prompt_id, prompt, extra, result["outputs"])
        return web.json_response({"prompt_id": prompt_id, "number": number, "node_errors": result["node_errors"]})

    # ---- queue, interrupt, history -----------------------------------------------------------------
    async def get_queue(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.queue_view())

    async def _json_or_empty(self, request: web.Request) -> dict:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return {}
        return body if isinstance(body, dict) else {}

    async def post_queue(self, request: web.Request) -> web.Response:
        body = await self._json_or_empty(request)
        if body.get("clear"):
            await self.engine.clear()
        if isinstance(body.get("delete"), list):
            await self.engine.delete([str(x) for x in body["delete"]])
        return web.Response(status=200)

    async def post_interrupt(self, request: web.Request) -> web.Response:
        body = await self._json_or_empty(request)
        self.engine.interrupt(body.get("prompt_id"))
        return web.Response(status=200)

    async def get_history(self, request: web.Request) -> web.Response:
        q = request.rel_url.query
        max_items = int(q["max_items"]) if q.get("max_items") else None
        offset = int(q.get("offset", -1))
        return web.json_response(self.engine.get_history(None, max_items, offset))

    async def get_history_id(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.get_history(request.match_info["prompt_id"]))

    async def post_history(self, request: web.Request) -> web.Response:
        body = await self._json_or_empty(request)
        if body.get("clear"):
            self.engine.history.clear()
        for pid in body.get("delete", []) if isinstance(body.get("delete"), list) else []:
            self.engine.history.pop(str(pid), None)
        return web.Response(status=200)

    # ---- files -------------------------------------------------------------------------------------
    async def view(self, request: web.Request) -> web.StreamResponse:
        q = request.rel_url.query
        filename = q.get("filename")
        if not filename:
            return web.Response(status=404)
        kind = q.get("type", "output")
        if kind not in ("input", "output", "temp"):
            return web.Response(status=400)
        if filename.startswith("/") or ".." in filename:
            return web.Response(status=400)
        base = self.data.dir(kind).resolve()
        folder = base
        if q.get("subfolder"):
            folder = (base / q["subfolder"]).resolve()
            if os.path.commonpath((str(folder), str(base))) != str(base):
                return web.Response(status=403)
        path = folder / os.path.basename(filename)
        if not path.is_file():
            return web.Response(status=404)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        preview, channel = q.get("preview"), q.get("channel")
        if (preview or channel) and ctype.startswith("image/"):
            return self._reencode(path, preview, channel)
        return web.Response(body=path.read_bytes(), content_type=ctype,
                            headers={"Content-Disposition": f'filename="{path.name}"'})

    def _reencode(self, path: Path, preview: str | None, channel: str | None) -> web.Response:
        import io

        from PIL import Image
        with Image.open(path) as im:
            img = im.convert("RGBA")
        if channel == "rgb":
            img = img.convert("RGB")
        elif channel == "a":
            img = img.getchannel("A").convert("L")
        buf = io.BytesIO()
        if preview:
            fmt, _, quality = preview.partition(";")
            fmt = "jpeg" if fmt not in ("webp", "jpeg") else fmt
            img.convert("RGB").save(buf, fmt.upper(), quality=int(quality or 90))
            ctype = f"image/{fmt}"
        else:
            img.save(buf, "PNG")
            ctype = "image/png"
        return web.Response(body=buf.getvalue(), content_type=ctype,
                            headers={"Content-Disposition": f'filename="{path.name}"'})

    async def upload_image(self, request: web.Request) -> web.Response:
        try:
            post = await request.post()
        except Exception:
            return web.Response(status=400)
        image = post.get("image")
        if image is None or not hasattr(image, "file"):
            return web.Response(status=400)
        kind = post.get("type", "input") or "input"
        if kind not in ("input", "output", "temp"):
            return trouble()
        overwrite = str(post.get("overwrite", "")).lower() in ("true", "1")
        subfolder = str(post.get("subfolder", "") or "")
        filename = os.path.basename(image.filename or "")
        if not filename:
            return web.Response(status=400)
        base = self.data.dir(kind).resolve()
        folder = (base / subfolder).resolve()
        if os.path.commonpath((str(base), str(folder))) != str(base):
            return web.Response(status=400)
        folder.mkdir(parents=True, exist_ok=True)
        content = image.file.read()
        path = folder / filename
        if not overwrite:
            stem, ext = os.path.splitext(filename)
            i = 1
            while path.exists():
                if hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(content).digest():
                    break
                filename = f"{stem} ({i}){ext}"
                path = folder / filename
                i += 1
        path.write_bytes(content)
        return web.json_response({"name": filename, "subfolder": subfolder, "type": kind})

    # ---- info --------------------------------------------------------------------------------------
    def _node_info(self, cls: str) -> dict:
        info = json.loads(json.dumps(self.info[cls]))
        schema = self.schemas.get(cls)
        for name, folder in (schema.files.items() if schema else []):
            for cat in ("required", "optional"):
                spec = info["input"].get(cat, {}).get(name)
                if spec is None:
                    continue
                files = self.data.list(folder)
                if isinstance(spec[0], list):
                    spec[0] = files
                elif len(spec) > 1:
                    spec[1]["options"] = files
        return info

    async def object_info(self, request: web.Request) -> web.Response:
        return web.json_response({cls: self._node_info(cls) for cls in self.info})

    async def object_info_one(self, request: web.Request) -> web.Response:
        cls = request.match_info["node_class"]
        if cls not in self.info:
            return web.json_response({})
        return web.json_response({cls: self._node_info(cls)})

    async def system_stats(self, request: web.Request) -> web.Response:
        total, free = _memory()
        return web.json_response({
            "system": {"os": os.name, "ram_total": total, "ram_free": free, "comfyui_version": VERSION,
                       "required_frontend_version": "1.27.10", "installed_templates_version": "0.1.95",
                       "required_templates_version": "0.1.95", "python_version": sys.version,
                       "pytorch_version": "none (preview engine)", "embedded_python": False,
                       "argv": ["studio-preview-engine", "--listen", self.host, "--port", str(self.port)]},
            "devices": [{"name": "cpu", "type": "cpu", "index": None, "vram_total": total, "vram_free": free,
                         "torch_vram_total": total, "torch_vram_free": free}]})

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response([*MODEL_FOLDERS, *PACK_MODEL_FOLDERS])

    async def models_folder(self, request: web.Request) -> web.Response:
        folder = request.match_info["folder"]
        if folder not in MODEL_FOLDERS and folder not in PACK_MODEL_FOLDERS:
            return web.Response(status=404)
        return web.json_response(self.data.model_files(folder))

    async def experiment_models(self, request: web.Request) -> web.Response:
        return web.json_response([{"name": f, "folders": [str(self.data.root / "models" / f)]}
                                  for f in MODEL_FOLDERS if f not in ("configs", "custom_nodes")])

    async def features(self, request: web.Request) -> web.Response:
        return web.json_response(FEATURES)

    async def embeddings(self, request: web.Request) -> web.Response:
        return web.json_response(sorted(Path(n).stem for n in self.data.model_files("embeddings")))

    async def extensions(self, request: web.Request) -> web.Response:
        return web.json_response([])

    async def free(self, request: web.Request) -> web.Response:
        await self._json_or_empty(request)
        return web.Response(status=200)

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>studio preview engine</title>"
                                 "<p>ComfyUI-compatible preview engine. Media it makes are marked PREVIEW.</p>",
                            content_type="text/html")

    async def faults(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await self._json_or_empty(request)
            try:
                self.engine.faults.mode = parse_fault(body.get("fault"))
            except ValueError as exc:
                return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"fault": self.engine.faults.mode})

    # ---- websocket ---------------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        sid = request.rel_url.query.get("clientId") or uuid.uuid4().hex
        old = self.engine.clients.pop(sid, None)
        if old is not None:
            await old.ws.close()
        client = Client(ws)
        self.engine.clients[sid] = client
        try:
            await self.engine.send_status(sid, with_sid=True)
            if self.engine.client_id == sid and self.engine.last_node_id is not None:
                await self.engine.send("executing", {"node": self.engine.last_node_id}, sid)
            first = True
            async for msg in ws:
                if msg.type.name != "TEXT":
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if first and isinstance(data, dict) and data.get("type") == "feature_flags":
                    client.preview_metadata = bool((data.get("data") or {}).get("supports_preview_metadata"))
                    await self.engine.send("feature_flags", FEATURES, sid)
                first = False
        finally:
            if self.engine.clients.get(sid) is client:
                self.engine.clients.pop(sid, None)
        return ws

    def routes(self) -> list[web.RouteDef]:
        table = [
            ("GET", "/ws", self.websocket), ("GET", "/prompt", self.get_prompt), ("POST", "/prompt", self.post_prompt),
            ("GET", "/queue", self.get_queue), ("POST", "/queue", self.post_queue),
            ("POST", "/interrupt", self.post_interrupt), ("GET", "/history", self.get_history),
            ("GET", "/history/{prompt_id}", self.get_history_id), ("POST", "/history", self.post_history),
            ("GET", "/view", self.view), ("POST", "/upload/image", self.upload_image),
            ("GET", "/object_info", self.object_info), ("GET", "/object_info/{node_class}", self.object_info_one),
            ("GET", "/system_stats", self.system_stats), ("GET", "/models", self.models),
            ("GET", "/models/{folder}", self.models_folder), ("GET", "/experiment/models", self.experiment_models),
            ("GET", "/features", self.features), ("GET", "/embeddings", self.embeddings),
            ("GET", "/extensions", self.extensions), ("POST", "/free", self.free),
            ("GET", "/_preview/faults", self.faults), ("POST", "/_preview/faults", self.faults),
        ]
        out = [web.route(m, p, h) for m, p, h in table]
        out += [web.route(m, "/api" + p, h) for m, p, h in table if not p.startswith("/_preview")]
        out.append(web.get("/", self.index))
        return out


def _memory() -> tuple[int, int]:
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        return int(info["MemTotal"].split()[0]) * 1024, int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0, 0


def load_object_info(comfy_nodes: dict[str, NodeSchema]) -> dict[str, Any]:
    """GET /object_info entries: the recorded ones (worker/preview/object_info.json.gz: tooltips, descriptions and
    display names included), else rebuilt from the extracted schemas (without them)."""
    recorded = info_snapshot.load()
    out = {}
    for cls, s in comfy_nodes.items():
        if cls in recorded:
            out[cls] = recorded[cls]
            continue
        inp: dict[str, dict] = {}
        order: dict[str, list] = {}
        for name, spec in s.inputs.items():
            # A combo keeps its options element even when empty: clients read spec[1].
            keep = spec.options or spec.is_combo
            inp.setdefault(spec.category, {})[name] = [spec.type, dict(spec.options)] if keep else [spec.type]
            order.setdefault(spec.category, []).append(name)
        if s.hidden:
            inp["hidden"] = {h: h.upper() for h in s.hidden}
            order["hidden"] = list(s.hidden)
        out[cls] = {"input": inp, "input_order": order, "output": list(s.output),
                    "output_is_list": list(s.output_is_list), "output_name": list(s.output_name), "name": cls,
                    "display_name": cls, "description": "", "python_module": "nodes", "category": "",
                    "output_node": s.output_node}
    return out


@web.middleware
async def empty_not_found(request: web.Request, handler):
    """Unknown routes answer 404 with an empty body, as ComfyUI's static-file fallback does."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return web.Response(status=404, content_type="application/octet-stream")
    except web.HTTPMethodNotAllowed:
        return web.Response(status=405)


def make_app(data: DataDir, schemas: dict[str, NodeSchema], engine: Engine, host: str, port: int) -> web.Application:
    app = web.Application(client_max_size=104857600, middlewares=[empty_not_found])
    handlers = App(data, schemas, engine, host, port, load_object_info(schemas))
    app.add_routes(handlers.routes())

    async def on_startup(_: web.Application) -> None:
        engine.start()

    async def on_cleanup(_: web.Application) -> None:
        await engine.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


