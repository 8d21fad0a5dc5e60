"""A local stand-in for RunPod's management APIs (REST v2 + GraphQL) and the queue API, recording every request.

Shapes follow ../shared/reference/runpod-serverless.md §1 and §3; errors are RFC 9457 problem bodies.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.procs import free_port


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    authorization: str | None
    body: str


@dataclass
class Scenario:
    key: str = "rp_test_key_0123456789"
    attach_volume: bool = True
    v2_volumes_route: bool = True
    throttle_next: int = 0                      # answer 429 to this many next requests
    workers: list[dict] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    health: dict = field(default_factory=lambda: {"jobs": {"inQueue": 0}, "workers": {"idle": 1, "ready": 1}})
    debug_output: dict | None = None
    provision_output: dict | None = None
    provision_progress: list[dict] = field(default_factory=list)


def problem(status: int, title: str, detail: str, headers: dict | None = None) -> web.Response:
    return web.Response(status=status, content_type="application/problem+json", headers=headers,
                        text=json.dumps({"title": title, "status": status, "detail": detail}))


class FakeRunPod:
    def __init__(self) -> None:
        self.s = Scenario()
        self.requests: list[Recorded] = []
        self.volumes: dict[str, dict] = {}
        self.templates: dict[str, dict] = {}
        self.endpoints: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- urls ---------------------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        base = f"http://127.0.0.1:{self.port}"
        return {"RUNPOD_API_KEY": self.s.key, "RUNPOD_REST_BASE": f"{base}/v2",
                "RUNPOD_GRAPHQL_URL": f"{base}/graphql", "RUNPOD_API_BASE": f"{base}/queue/v2"}

    def start(self) -> "FakeRunPod":
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_post("/v2/network-volumes", self.create_volume)
        r.add_get("/v2/network-volumes", self.list_volumes)
        r.add_get("/v2/network-volumes/{id}", self.get_volume)
        r.add_post("/v2/templates", self.create_template)
        r.add_patch("/v2/templates/{id}", self.patch_template)
        r.add_delete("/v2/templates/{id}", self.delete_template)
        r.add_post("/v2/secrets", self.create_secret)
        r.add_post("/v2/serverless", self.create_endpoint)
        r.add_get("/v2/serverless/{id}", self.get_endpoint)
        r.add_patch("/v2/serverless/{id}", self.patch_endpoint)
        r.add_delete("/v2/serverless/{id}", self.delete_endpoint)
        r.add_get("/v2/serverless/{id}/workers", self.list_workers)
        r.add_get("/v2/serverless/{id}/workers/{wid}/logs", self.worker_logs)
        r.add_post("/graphql", self.graphql)
        r.add_get("/queue/v2/{eid}/health", self.q_health)
        r.add_post("/queue/v2/{eid}/run", self.q_run)
        r.add_get("/queue/v2/{eid}/status/{jid}", self.q_status)
        r.add_post("/queue/v2/{eid}/cancel/{jid}", self.q_cancel)
        self._runner = web.AppRunner(app)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def requests_to(self, method: str, path_part: str) -> list[Recorded]:
        return [q for q in self.requests if q.method == method and path_part in q.path]

    def json_body(self, q: Recorded) -> dict:
        return json.loads(q.body)

    # -- plumbing -----------------------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.text()
        self.requests.append(Recorded(request.method, request.path, request.query_string,
                                      request.headers.get("Authorization"), body))
        if self.s.throttle_next > 0:
            self.s.throttle_next -= 1
            return problem(429, "Too Many Requests", "rate limit exceeded for the minute window",
                           {"Retry-After": "0"})
        if request.headers.get("Authorization") != f"Bearer {self.s.key}":
            return problem(401, "Unauthorized", "invalid bearer token")
        return await handler(request)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    # -- REST v2 -----------------------------------------------------------------------------------
    async def create_volume(self, request):
        if not self.s.v2_volumes_route:
            return problem(404, "Not Found", "no route for POST /v2/network-volumes")
        b = await request.json()
        if not isinstance(b.get("size"), int) or not b.get("dataCenter"):
            return problem(422, "Unprocessable Entity", "size and dataCenter are required")
        v = {"id": self._id("vol"), "name": b["name"], "size": b["size"], "dataCenter": b["dataCenter"]}
        self.volumes[v["id"]] = v
        return web.json_response(v)

    async def list_volumes(self, request):
        if not self.s.v2_volumes_route:
            return problem(404, "Not Found", "no route")
        return web.json_response({"networkVolumes": list(self.volumes.values())})

    async def get_volume(self, request):
        v = self.volumes.get(request.match_info["id"])
        return web.json_response(v) if v else problem(404, "Not Found", "network volume not found")

    async def create_template(self, request):
        b = await request.json()
        t = {"id": self._id("tpl"), **b}
        self.templates[t["id"]] = t
        return web.json_response(t)

    async def patch_template(self, request):
        t = self.templates.get(request.match_info["id"])
        if not t:
            return problem(404, "Not Found", "template not found")
        t.update(await request.json())
        return web.json_response(t)

    async def delete_template(self, request):
        self.templates.pop(request.match_info["id"], None)
        return web.Response(status=204)

    async def create_secret(self, request):
        b = await request.json()
        return web.json_response({"id": self._id("sec"), "name": b["name"]})

    async def create_endpoint(self, request):
        b = await request.json()
        if b.get("templateId") not in self.templates:
            return problem(422, "Unprocessable Entity", "templateId does not name a template")
        e = {"id": self._id("ep"), **b}
        if not self.s.attach_volume:
            e["networkVolumes"] = []
        self.endpoints[e["id"]] = e
        return web.json_response(e)

    async def get_endpoint(self, request):
        e = self.endpoints.get(request.match_info["id"])
        return web.json_response(e) if e else problem(404, "Not Found", "endpoint not found")

    async def patch_endpoint(self, request):
        e = self.endpoints.get(request.match_info["id"])
        if not e:
            return problem(404, "Not Found", "endpoint not found")
        e.update(await request.json())
        return web.json_response(e)

    async def delete_endpoint(self, request):
        if not self.endpoints.pop(request.match_info["id"], None):
            return problem(404, "Not Found", "endpoint not found")
        return web.Response(status=204)

    async def list_workers(self, request):
        if request.match_info["id"] not in self.endpoints:
            return problem(404, "Not Found", "endpoint not found")
        summary = {s: sum(1 for w in self.s.workers if w["status"] == s.upper())
                   for s in ("running", "idle", "initializing", "throttled", "unhealthy")}
        return web.json_response({"workers": self.s.workers, "summary": {**summary, "total": len(self.s.workers)}})

    async def worker_logs(self, request):
        return web.Response(text=self.s.logs.get(request.match_info["wid"], ""), content_type="text/plain")

    async def graphql(self, request):
        b = await request.json()
        if "createNetworkVolume" in b["query"]:
            i = b["variables"]["input"]
            v = {"id": self._id("vol"), "name": i["name"], "size": i["size"], "dataCenterId": i["dataCenterId"]}
            self.volumes[v["id"]] = v
            return web.json_response({"data": {"createNetworkVolume": v}})
        return web.json_response({"errors": [{"message": "unknown operation"}]})

    # -- queue API ---------------------------------------------------------------------------------
    async def q_health(self, request):
        return web.json_response(self.s.health)

    async def q_run(self, request):
        b = await request.json()
        jid = f"job-{next(self._ids)}-u1"
        self.jobs[jid] = {"input": b["input"], "polls": 0}
        return web.json_response({"id": jid, "status": "IN_QUEUE"})

    async def q_status(self, request):
        jid = request.match_info["jid"]
        job = self.jobs.get(jid)
        if not job:
            return problem(404, "Not Found", "job not found")
        job["polls"] += 1
        n, action = job["polls"], job["input"].get("action")
        if action == "debug":
            if self.s.debug_output is None:
                return web.json_response({"id": jid, "status": "IN_QUEUE"})
            return web.json_response({"id": jid, "status": "COMPLETED", "output": self.s.debug_output})
        if n == 1:
            return web.json_response({"id": jid, "status": "IN_QUEUE"})
        steps = self.s.provision_progress
        if n - 2 < len(steps):
            return web.json_response({"id": jid, "status": "IN_PROGRESS", "output": steps[n - 2]})
        return web.json_response({"id": jid, "status": "COMPLETED", "delayTime": 10, "executionTime": 20,
                                  "output": self.s.provision_output})

    async def q_cancel(self, request):
        return web.json_response({"id": request.match_info["jid"], "status": "CANCELLED"})
