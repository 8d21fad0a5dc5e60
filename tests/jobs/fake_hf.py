"""A stand-in for Hugging Face's file server, run as a real process by the provision tests and the benchmark.

`python -m tests.jobs.fake_hf --root DIR --port N [--rules rules.json]` serves
GET /{org}/{name}/resolve/{revision}/{path} from DIR/{org}/{name}/{path}, with Range support (206,
Content-Range, 416). rules.json may list:
  "drop":   {"org/name/path": fraction}   the first response for that file stops after that fraction
  "gated":  {"org/name": "token"}           401 unless "Authorization: Bearer token"
  "missing": ["org/name/path", ...]         404 even if the file exists
  "ignore_range": ["org/name/path"]        answer 200 with the whole file even when a Range is asked
  "commits": {"org/name": "<40 hex>"}      GET /api/models/{org}/{name}/revision/{rev} answers {"id", "sha"}
                                           (the hub's model-info API; 404 for a repo not listed)
GET /_stats returns per file the number of requests and bytes sent, and whether a Range was asked.
GET /_requests lists every other request received, `[[method, path], ...]` (also ones no route serves), so a test
can prove that nothing at all asked the hub.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from aiohttp import web

CHUNK = 1 << 20


def make_app(root: Path, rules: dict) -> web.Application:
    dropped: set[str] = set()
    stats: dict[str, dict] = {}
    seen: list[list[str]] = []

    @web.middleware
    async def record(request: web.Request, handler):
        if request.path not in ("/_stats", "/_requests"):
            seen.append([request.method, request.path_qs])
        return await handler(request)

    async def get_requests(request: web.Request) -> web.Response:
        return web.json_response(seen)

    async def serve(request: web.Request) -> web.StreamResponse:
        org, name, path = request.match_info["org"], request.match_info["name"], request.match_info["path"]
        repo, key = f"{org}/{name}", f"{org}/{name}/{path}"
        st = stats.setdefault(key, {"requests": 0, "bytes": 0, "ranges": []})
        st["requests"] += 1
        token = rules.get("gated", {}).get(repo)
        if token and request.headers.get("Authorization") != f"Bearer {token}":
            return web.Response(status=401, text="Access to model is restricted. You must be authenticated.")
        file = root / org / name / path
        if key in rules.get("missing", []) or not file.is_file():
            return web.Response(status=404, text="Entry not found")
        size = file.stat().st_size
        start = 0
        rng = request.headers.get("Range")
        st["ranges"].append(rng)
        status = 200
        if rng and key not in rules.get("ignore_range", []):
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= size:
                return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
            status = 206
        resp = web.StreamResponse(status=status)
        resp.content_length = size - start
        resp.headers["Accept-Ranges"] = "bytes"
        if status == 206:
            resp.headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        await resp.prepare(request)
        drop_at = None
        if key in rules.get("drop", {}) and key not in dropped:
            dropped.add(key)
            drop_at = int(size * rules["drop"][key])
        with open(file, "rb") as fh:
            fh.seek(start)
            pos = start
            while chunk := fh.read(CHUNK):
                if drop_at is not None and pos + len(chunk) > drop_at:
                    chunk = chunk[: max(0, drop_at - pos)]
                    if chunk:
                        await resp.write(chunk)
                        st["bytes"] += len(chunk)
                    request.transport.close()   # the connection drops mid-file
                    return resp
                await resp.write(chunk)
                st["bytes"] += len(chunk)
                pos += len(chunk)
        await resp.write_eof()
        return resp

    async def revision(request: web.Request) -> web.Response:
        repo = f"{request.match_info['org']}/{request.match_info['name']}"
        sha = rules.get("commits", {}).get(repo)
        if not sha:
            return web.json_response({"error": "Repository not found"}, status=404)
        return web.json_response({"id": repo, "sha": sha})

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(stats)

    app = web.Application(middlewares=[record])
    app.router.add_get("/_stats", get_stats)
    app.router.add_get("/_requests", get_requests)
    app.router.add_get("/api/models/{org}/{name}/revision/{rev}", revision)
    app.router.add_get("/{org}/{name}/resolve/{rev}/{path:.+}", serve)
    return app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rules")
    args = ap.parse_args()
    rules = json.loads(Path(args.rules).read_text()) if args.rules else {}
    web.run_app(make_app(Path(args.root), rules), host="127.0.0.1", port=args.port,
                print=lambda *_: print(f"fake hf ready on {args.port}", flush=True))


if __name__ == "__main__":
    main()
