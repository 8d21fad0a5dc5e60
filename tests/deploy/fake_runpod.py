"""A local stand-in for RunPod's management API (REST v2), held to RunPod's own OpenAPI document, plus small
stand-ins for the parts that document does not cover (GraphQL, the endpoint's queue API).

REST v2 (`/v2/...`): every request body and query is validated against tests/data/runpod/
runpod-rest-v2-openapi.json.gz (see openapi_oracle.py); a non-conforming request gets RunPod's 422
`{title, status, detail, errors[]}`; every response the stand-in gives is validated too, and a response that breaks
the document is recorded in `violations` (the test fixture fails on any) and answered with a 500. Behaviour the
document describes in prose is modelled as well:
- creates answer 201; deletes 204 with no body;
- an endpoint made from `templateId` takes a snapshot of the template: later template edits do not reach it; only
  `PATCH /v2/serverless/{id}` changes what its workers run (a new release: `endpointVersion` goes up);
- deleting an endpoint deletes its bound template; a bound template cannot be deleted on its own (400);
- `workers.idleTimeout` is refused for a queue endpoint scaling on REQUEST_COUNT, and left out of its responses;
- worker logs are a Server-Sent Events stream (`text/event-stream`) that stays open after the backfill;
- a worker's `uptimeSeconds`, `gpuTypeId`, `dataCenterId` are null until it is placed and running.
Not in the document revision we hold: `POST /v2/account/secrets` (added by newer revisions). It is modelled from the
reference notes (§6 of runpod-serverless.md: body `{name, value, description?}`, 201, 409 when taken, the name
rules) and can be switched off to play the revision we hold, where it is a 404.

GraphQL (`/graphql`) is not v2: it answers `createNetworkVolume` and `secretCreate`, the two fallbacks deploy keeps.
The queue API (`/queue/v2/{id}/...`, api.runpod.ai in production) is not part of the management document either;
its shapes follow §1 of runpod-serverless.md.
"""
from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from aiohttp import web

from tests.deploy.openapi_oracle import OpenApi
from tests.support.procs import free_port

_ORACLE: OpenApi | None = None

# POST /v2/account/secrets as §6 of the reference notes describes it (not in the document revision we hold).
SECRET_BODY = {"type": "object", "additionalProperties": False, "required": ["name", "value"],
               "properties": {"name": {"type": "string", "pattern": r"^[a-zA-Z_][a-zA-Z0-9_.\-/]*$",
                                       "not": {"pattern": "^RUNPOD"}},
                              "value": {"type": "string", "minLength": 1},
                              "description": {"type": "string"}}}
SECRET_PATH = "/v2/account/secrets"
UNPLACED = ("INITIALIZING", "THROTTLED")
RECORDED = web.RequestKey("recorded", object)
CONTAINER_FIELDS = ("image", "args", "disk", "ports", "env", "registry")


def oracle() -> OpenApi:
    global _ORACLE
    if _ORACLE is None:
        _ORACLE = OpenApi()
    return _ORACLE


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    authorization: str | None
    body: str
    status: int = 0


@dataclass
class Scenario:
    key: str = "rp_test_key_0123456789"
    attach_volume: bool = True                  # False: the endpoint comes back without its network volume
    v2_volumes_route: bool = True               # False: /v2/network-volumes answers 404 (GraphQL fallback)
    account_secrets_route: bool = True          # False: the document revision we hold (no secrets route → 404)
    faults: dict[str, int] = field(default_factory=dict)  # "POST /v2/serverless" → answer that many with a 500
    patch_ignores: set[str] = field(default_factory=set)  # PATCH /v2/serverless fields accepted but not applied
    throttle_next: int = 0                      # answer 429 to this many next requests
    workers: list[dict] = field(default_factory=list)     # partial Worker objects; the stand-in completes them
    logs: dict[str, list] = field(default_factory=dict)   # worker id → lines (str = container) or {source, line}
    log_headers_after_s: float = 0.0            # how long the log stream takes to start answering
    log_keepalive: bool = True                  # False: after the backfill the stream stays open and silent
    health: dict = field(default_factory=lambda: {"jobs": {"inQueue": 0}, "workers": {"idle": 1, "ready": 1}})
    debug_output: dict | None = None
    provision_output: dict | None = None
    provision_progress: list[dict] = field(default_factory=list)


def problem(status: int, title: str, detail: str, headers: dict | None = None,
            errors: list[str] | None = None) -> web.Response:
    body = {"title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return web.Response(status=status, content_type="application/problem+json", headers=headers,
                        text=json.dumps(body))


def created(obj: dict) -> web.Response:
    return web.json_response(obj, status=201)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeRunPod:
    def __init__(self) -> None:
        self.s = Scenario()
        self.api = oracle()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.volumes: dict[str, dict] = {}
        self.templates: dict[str, dict] = {}
        self.endpoints: dict[str, dict] = {}
        self.bound_template: dict[str, str] = {}     # endpoint id → the template it was created from
        self.versions: dict[str, int] = {}           # endpoint id → endpointVersion (bumped per container change)
        self.secrets: dict[str, str] = {}
        self.jobs: dict[str, dict] = {}
        self.log_streams_open = 0
        self._ids = itertools.count(1)
        self.port = free_port()
        self._closing = False
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
        r.add_get("/v2/templates", self.list_templates)
        r.add_post("/v2/templates", self.create_template)
        r.add_get("/v2/templates/{id}", self.get_template)
        r.add_patch("/v2/templates/{id}", self.patch_template)
        r.add_delete("/v2/templates/{id}", self.delete_template)
        r.add_post(SECRET_PATH, self.create_secret)
        r.add_get("/v2/serverless", self.list_endpoints)
        r.add_post("/v2/serverless", self.create_endpoint)
        r.add_get("/v2/serverless/{id}", self.get_endpoint)
        r.add_patch("/v2/serverless/{id}", self.patch_endpoint)
        r.add_delete("/v2/serverless/{id}", self.delete_endpoint)
        r.add_get("/v2/serverless/{id}/workers", self.list_workers)
        r.add_get("/v2/serverless/{id}/workers/{workerId}/logs", self.worker_logs)
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
        self._closing = True  # ends the open log streams
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def requests_to(self, method: str, path_part: str) -> list[Recorded]:
        return [q for q in self.requests if q.method == method and path_part in q.path]

    def json_body(self, q: Recorded) -> dict:
        return json.loads(q.body)

    # -- plumbing: auth, the document's request and response rules ----------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.text()
        rec = Recorded(request.method, request.path, request.query_string, request.headers.get("Authorization"), body)
        self.requests.append(rec)
        request[RECORDED] = rec
        resp = await self._answer(request, handler, body)
        rec.status = resp.status
        return resp

    async def _answer(self, request: web.Request, handler, body: str):
        if self.s.throttle_next > 0:
            self.s.throttle_next -= 1
            return problem(429, "Too Many Requests", "rate limit exceeded for the minute window",
                           {"Retry-After": "0"})
        if request.headers.get("Authorization") != f"Bearer {self.s.key}":
            return problem(401, "Unauthorized", "invalid bearer token")
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else None
        rest = request.path.startswith("/v2/")
        absent = ((template == SECRET_PATH and not self.s.account_secrets_route)
                  or (template == "/v2/network-volumes" and not self.s.v2_volumes_route))
        if template is None or absent:
            # RunPod's router answers unknown paths with a problem body too.
            return problem(404, "Not Found", f"no route for {request.method} {request.path}")
        if self.s.faults.get(f"{request.method} {template}", 0) > 0:
            self.s.faults[f"{request.method} {template}"] -= 1
            return problem(500, "Internal Server Error", "upstream error (injected by the test)")
        if rest and template != SECRET_PATH:
            refused = self._check_request(request, template, body)
            if refused is not None:
                return refused
        elif template == SECRET_PATH:
            refused = self._check_body(SECRET_BODY, body)
            if refused is not None:
                return refused
        resp = await handler(request)
        if rest and template != SECRET_PATH and isinstance(resp, web.Response):
            found = self.api.check_response(request.method, template, resp.status,
                                            resp.content_type if resp.body is not None else "", resp.text or "")
            if found:
                self.violations.append(f"{request.method} {request.path} → {resp.status}: {'; '.join(found)}")
                return problem(500, "Internal Server Error", "the stand-in broke RunPod's OpenAPI document: "
                               + "; ".join(found))
        return resp

    def _check_body(self, schema: dict, body: str) -> web.Response | None:
        try:
            data = json.loads(body) if body else None
        except json.JSONDecodeError:
            return problem(400, "Bad Request", "request body is not valid JSON")
        if data is None:
            return problem(400, "Bad Request", "request body is required")
        errors = self.api.errors(schema, data)
        if errors:
            return problem(422, "Unprocessable Entity", "Request validation failed.", errors=errors)
        return None

    def _check_request(self, request: web.Request, template: str, body: str) -> web.Response | None:
        if self.api.operation(request.method, template) is None:
            return problem(405, "Method Not Allowed", "The requested method is not allowed for this path.")
        errors = self.api.check_query(request.method, template, dict(request.query))
        if errors:
            return problem(422, "Unprocessable Entity", "Request validation failed.", errors=errors)
        schema = self.api.request_body_schema(request.method, template)
        return self._check_body(schema, body) if schema else None

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    # -- network volumes ---------------------------------------------------------------------------
    async def create_volume(self, request):
        b = await request.json()
        v = {"id": self._id("vol"), "name": b["name"], "size": b["size"], "dataCenter": b["dataCenter"],
             "type": b.get("type", "STANDARD")}
        self.volumes[v["id"]] = v
        return created(v)

    async def list_volumes(self, request):
        return web.json_response({"networkVolumes": [self._volume_out(v) for v in self.volumes.values()]})

    async def get_volume(self, request):
        v = self.volumes.get(request.match_info["id"])
        return web.json_response(self._volume_out(v)) if v else problem(404, "Not Found", "network volume not found")

    @staticmethod
    def _volume_out(v: dict) -> dict:
        # A volume made through GraphQL is stored in that API's shape; v2 answers in its own.
        return {"id": v["id"], "name": v["name"], "size": v["size"],
                "dataCenter": v.get("dataCenter") or v.get("dataCenterId"), "type": v.get("type", "STANDARD")}

    # -- templates ---------------------------------------------------------------------------------
    async def list_templates(self, request):
        return web.json_response({"templates": list(self.templates.values())})

    async def create_template(self, request):
        b = await request.json()
        t = {"id": self._id("tpl"), "name": b["name"], "image": b["image"], "args": b.get("args", ""),
             "disk": b.get("disk", 50), "mounts": b.get("mounts", {}), "ports": b.get("ports", []),
             "env": b.get("env", {}), "registry": b.get("registry"), "serverless": b.get("serverless", False),
             "public": b.get("public", False), "category": b.get("category", "NVIDIA"),
             "startSsh": b.get("startSsh", True), "startJupyter": b.get("startJupyter", True),
             "allowedCudaVersions": b.get("allowedCudaVersions", [])}
        self.templates[t["id"]] = t
        return created(t)

    async def get_template(self, request):
        t = self.templates.get(request.match_info["id"])
        return web.json_response(t) if t else problem(404, "Not Found", "template not found")

    async def patch_template(self, request):
        t = self.templates.get(request.match_info["id"])
        if not t:
            return problem(404, "Not Found", "template not found")
        # Endpoints made from it keep the snapshot they were made with.
        t.update(await request.json())
        return web.json_response(t)

    async def delete_template(self, request):
        tid = request.match_info["id"]
        if tid not in self.templates:
            return problem(404, "Not Found", "template not found")
        if tid in self.bound_template.values():
            return problem(400, "Bad Request", "template is bound to a serverless endpoint")
        del self.templates[tid]
        return web.Response(status=204)

    # -- secrets (newer schema revisions) ----------------------------------------------------------
    async def create_secret(self, request):
        b = await request.json()
        if b["name"] in self.secrets:
            return problem(409, "Conflict", f"a secret named {b['name']} already exists")
        self.secrets[b["name"]] = b["value"]
        return created({"id": self._id("sec"), "name": b["name"], "description": b.get("description", "")})

    # -- endpoints ---------------------------------------------------------------------------------
    def _endpoint_out(self, e: dict) -> dict:
        out = copy.deepcopy(e)
        if out.get("type") == "QUEUE" and out["scaling"]["type"] == "REQUEST_COUNT":
            out["workers"].pop("idleTimeout", None)
        return out

    @staticmethod
    def _request_urls(eid: str) -> dict:
        base = f"https://api.runpod.ai/v2/{eid}"
        return {"run": f"{base}/run", "runSync": f"{base}/runsync", "status": f"{base}/status/{{job_id}}",
                "stream": f"{base}/stream/{{job_id}}", "cancel": f"{base}/cancel/{{job_id}}",
                "retry": f"{base}/retry/{{job_id}}", "purgeQueue": f"{base}/purge-queue", "health": f"{base}/health"}

    @staticmethod
    def _idle_timeout_refused(ep_type: str, scaling: dict, workers: dict) -> web.Response | None:
        if ep_type == "QUEUE" and scaling.get("type") == "REQUEST_COUNT" and "idleTimeout" in workers:
            return problem(422, "Unprocessable Entity",
                           "idleTimeout does not apply to queue-based endpoints scaling on requestCount",
                           errors=["$.workers.idleTimeout: idleTimeout does not apply to queue-based endpoints "
                                   "scaling on requestCount"])
        return None

    async def list_endpoints(self, request):
        return web.json_response({"endpoints": [self._endpoint_out(e) for e in self.endpoints.values()]})

    async def create_endpoint(self, request):
        b = await request.json()
        if ("gpu" in b) == ("cpu" in b):
            return problem(400, "Bad Request", "specify exactly one of gpu or cpu")
        refused = self._idle_timeout_refused(b["type"], b["scaling"], b.get("workers") or {})
        if refused:
            return refused
        container: dict = {"args": "", "disk": 20, "ports": [], "env": {}, "registry": None}
        tid = b.get("templateId")
        if tid:
            t = self.templates.get(tid)
            if t is None:
                return problem(404, "Not Found", f"template {tid} not found")
            if not t["serverless"]:
                return problem(422, "Unprocessable Entity", f"template {tid} is not a serverless template")
            container.update({k: copy.deepcopy(t[k]) for k in CONTAINER_FIELDS})
        for k in CONTAINER_FIELDS:
            if k in b:
                container[k] = {**container["env"], **b["env"]} if k == "env" else b[k]
        for vid in b.get("networkVolumes") or []:
            if vid not in self.volumes:
                return problem(404, "Not Found", f"network volume {vid} not found")
        eid = self._id("ep")
        gpu = b["gpu"]
        workers = {"min": 0, "max": 3, "idleTimeout": 10, **(b.get("workers") or {})}
        e = {"id": eid, "name": b["name"], "type": b["type"], "requestUrls": self._request_urls(eid), **container,
             "gpu": {"pools": gpu["pools"], "count": gpu.get("count", 1),
                     "allowedCudaVersions": gpu.get("allowedCudaVersions", []),
                     "minCudaVersion": gpu.get("minCudaVersion")},
             "workers": workers, "scaling": b["scaling"], "dataCenterIds": b.get("dataCenterIds", []),
             "networkVolumes": b.get("networkVolumes", []) if self.s.attach_volume else [],
             "timeout": b.get("timeout", 300000), "flashboot": b.get("flashboot", "OFF"), "createdAt": _now()}
        self.endpoints[eid] = e
        self.versions[eid] = 1
        if tid:
            self.bound_template[eid] = tid
        return created(self._endpoint_out(e))

    def seed_endpoint(self, eid: str, *, name: str = "studio", pools: list[str] | None = None,
                      volumes: list[str] | None = None, image: str = "ghcr.io/me/w:seed") -> dict:
        """An endpoint made outside the commands under test (e.g. in the console), in the document's shape."""
        e = {"id": eid, "name": name, "type": "QUEUE", "requestUrls": self._request_urls(eid), "image": image,
             "args": "", "disk": 40, "ports": [], "env": {}, "registry": None,
             "gpu": {"pools": pools or ["ADA_24"], "count": 1, "allowedCudaVersions": [], "minCudaVersion": None},
             "workers": {"min": 0, "max": 1, "idleTimeout": 30}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4},
             "dataCenterIds": [], "networkVolumes": volumes or [], "timeout": 300000, "flashboot": "OFF",
             "createdAt": _now()}
        self.endpoints[eid], self.versions[eid] = e, 1
        return e

    async def get_endpoint(self, request):
        e = self.endpoints.get(request.match_info["id"])
        return web.json_response(self._endpoint_out(e)) if e else problem(404, "Not Found", "endpoint not found")

    async def patch_endpoint(self, request):
        eid = request.match_info["id"]
        e = self.endpoints.get(eid)
        if not e:
            return problem(404, "Not Found", "endpoint not found")
        b = {k: v for k, v in (await request.json()).items() if k not in self.s.patch_ignores}
        scaling = b.get("scaling", e["scaling"])
        refused = self._idle_timeout_refused(e["type"], scaling, b.get("workers") or {})
        if refused:
            return refused
        new = copy.deepcopy(e)
        if b.get("templateId"):
            t = self.templates.get(b["templateId"])
            if t is None:
                return problem(404, "Not Found", "template not found")
            new.update({k: copy.deepcopy(t[k]) for k in CONTAINER_FIELDS})
        for k in ("name", "dataCenterIds", "networkVolumes", "timeout", "flashboot", "scaling", *CONTAINER_FIELDS):
            if k in b:
                new[k] = b[k]
        if "workers" in b:
            new["workers"] = {**new["workers"], **b["workers"]}
        if "gpu" in b:
            new["gpu"] = {**new["gpu"], **b["gpu"]}
        if any(new[k] != e[k] for k in CONTAINER_FIELDS):
            self.versions[eid] += 1  # a new release; workers switch as they cycle
        self.endpoints[eid] = new
        return web.json_response(self._endpoint_out(new))

    async def delete_endpoint(self, request):
        eid = request.match_info["id"]
        if not self.endpoints.pop(eid, None):
            return problem(404, "Not Found", "endpoint not found")
        tid = self.bound_template.pop(eid, None)
        if tid:
            self.templates.pop(tid, None)  # "deletes a serverless endpoint and its bound template"
        return web.Response(status=204)

    # -- workers and their logs --------------------------------------------------------------------
    def _worker_out(self, eid: str, w: dict) -> dict:
        e = self.endpoints[eid]
        out = {"id": w["id"], "status": w["status"], "isStale": w.get("isStale", False),
               "version": w.get("version", self.versions[eid]), "gpuCount": w.get("gpuCount", 1),
               "image": w.get("image", e.get("image")), "uptimeSeconds": w.get("uptimeSeconds"),
               "gpuTypeId": w.get("gpuTypeId"), "dataCenterId": w.get("dataCenterId"),
               "startedAt": w.get("startedAt")}
        out["isStale"] = out["isStale"] or out["version"] != self.versions[eid]
        if w["status"] in UNPLACED:
            # Null until the worker is placed and running, whatever the scenario says.
            out.update(uptimeSeconds=None, gpuTypeId=None, dataCenterId=None if w["status"] == "THROTTLED"
                       else out["dataCenterId"])
        return out

    async def list_workers(self, request):
        eid = request.match_info["id"]
        if eid not in self.endpoints:
            return problem(404, "Not Found", "endpoint not found")
        workers = [self._worker_out(eid, w) for w in self.s.workers]
        summary = {s: sum(1 for w in workers if w["status"] == s.upper())
                   for s in ("running", "idle", "initializing", "throttled", "unhealthy")}
        return web.json_response({"endpointVersion": self.versions[eid], "workers": workers,
                                  "summary": {**summary, "total": len(workers)}})

    async def worker_logs(self, request):
        eid, wid = request.match_info["id"], request.match_info["workerId"]
        if eid not in self.endpoints or wid not in {w["id"] for w in self.s.workers}:
            return problem(404, "Not Found", "worker not found")
        source = request.query.get("source")
        tail = int(request.query.get("tail", 100))
        lines = [ln if isinstance(ln, dict) else {"source": "container", "line": ln}
                 for ln in self.s.logs.get(wid, [])]
        lines = [ln for ln in lines if source in (None, ln["source"])][-tail:] if tail else []
        await asyncio.sleep(self.s.log_headers_after_s)
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream",
                                                       "Cache-Control": "no-cache", "Connection": "keep-alive",
                                                       "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        request[RECORDED].status = resp.status  # the stream is open; the handler returns only when it ends
        start = datetime(2026, 11, 27, 10, 0, 0, tzinfo=timezone.utc)
        self.log_streams_open += 1
        try:
            for n, ln in enumerate(lines):
                ts = (start + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
                data = {"ts": ts, "source": ln["source"], "line": ln["line"]}
                await resp.write(f"id: {ts}/{n:012d}\ndata: {json.dumps(data)}\n\n".encode())
            # The stream stays open for new lines; a comment now and then keeps proxies from closing it.
            while not self._closing:
                await asyncio.sleep(0.2)
                if self.s.log_keepalive:
                    await resp.write(b": keep-alive\n\n")
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.log_streams_open -= 1
        return resp

    # -- GraphQL (not v2) ---------------------------------------------------------------------------
    async def graphql(self, request):
        b = await request.json()
        if "createNetworkVolume" in b["query"]:
            i = b["variables"]["input"]
            v = {"id": self._id("vol"), "name": i["name"], "size": i["size"], "dataCenterId": i["dataCenterId"]}
            self.volumes[v["id"]] = v
            return web.json_response({"data": {"createNetworkVolume": v}})
        if "secretCreate" in b["query"]:
            i = b["variables"]["input"]
            if not re.match(SECRET_BODY["properties"]["name"]["pattern"], i["name"]):
                return web.json_response({"errors": [{"message": f"invalid secret name {i['name']}"}]})
            self.secrets[i["name"]] = i["value"]
            return web.json_response({"data": {"secretCreate": {"id": self._id("sec"), "name": i["name"]}}})
        return web.json_response({"errors": [{"message": "unknown operation"}]})

    # -- queue API (api.runpod.ai; not in the management document) ----------------------------------
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
