"""The HTTP face of the queue: RunPod's routes under /v2/{endpoint_id}/, auth, body limits and test faults."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from worker.local_endpoint import limits
from worker.local_endpoint.faults import Fault, FaultTable, parse_fault
from worker.local_endpoint.model import RequestError, parse_run_request
from worker.local_endpoint.queue import InvalidTransition, JobNotFound, JobQueue

log = logging.getLogger("local_endpoint")

QUEUE_KEY = web.AppKey("queue", JobQueue)
CONFIG_KEY = web.AppKey("config", "AppConfig")
FAULTS_KEY = web.AppKey("faults", FaultTable)
# Bodies beyond this are not even read; below it we read, measure and answer 413 with the numbers.
# How long /cancel waits for a running handler to unwind before answering: the worker's own check that ComfyUI
# let go of the run takes up to COMFYUI_STOP_TIMEOUT (5 s) after /interrupt.
CANCEL_SETTLE_S = 12.0
HARD_BODY_CAP = 4 * limits.RUNSYNC_BODY_LIMIT


@dataclass(frozen=True)
class AppConfig:
    endpoint_id: str
    api_key: str | None = None
    test_hooks: bool = False


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def _drop_connection(request: web.Request) -> None:
    """Close the socket without answering, so the client cannot tell whether the request took effect."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError()


@web.middleware
async def auth_middleware(request: web.Request, handler):
    key = request.app[CONFIG_KEY].api_key
    if key:
        given = request.headers.get("Authorization", "")
        token = given[7:] if given.startswith("Bearer ") else given  # RunPod also accepts the bare key
        if not hmac.compare_digest(token.encode(), key.encode()):
            return _error(401, "unauthorized: send the endpoint's API key as 'Authorization: Bearer <key>'")
    return await handler(request)


@web.middleware
async def fault_middleware(request: web.Request, handler):
    faults = request.app.get(FAULTS_KEY)
    route = (request.match_info.route.name or "").removesuffix("-post")
    if faults is not None and route:
        fault = faults.take(route)
        if fault is not None:
            log.info("test fault on %s: %s", route, "drop" if fault.drop else fault.status)
            if fault.drop_after_enqueue:
                request["fault"] = fault
            elif fault.drop:
                await _drop_connection(request)
            else:
                return _error(fault.status, f"injected fault: HTTP {fault.status}", injected=True)
    return await handler(request)


def _queue(request: web.Request) -> JobQueue:
    config = request.app[CONFIG_KEY]
    if request.match_info.get("endpoint_id") != config.endpoint_id:
        raise web.HTTPNotFound(text=json.dumps({"error": f"endpoint {request.match_info.get('endpoint_id')!r} "
                                                         f"not found; this server serves {config.endpoint_id!r}"}),
                               content_type="application/json")
    return request.app[QUEUE_KEY]


async def _read_json(request: web.Request, limit: int) -> Any:
    size = 0
    chunks: list[bytes] = []
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > HARD_BODY_CAP:
            break
        chunks.append(chunk)
    if size > limit:
        raise web.HTTPRequestEntityTooLarge(
            max_size=limit, actual_size=size,
            text=json.dumps({"error": f"request body is {size} bytes; the limit for {request.match_info.route.name} "
                                      f"is {limit} bytes ({limit // limits.MB} MB)",
                             "size": size, "limit": limit}),
            content_type="application/json")
    try:
        return json.loads(b"".join(chunks) or b"null")
    except ValueError as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"body: not valid JSON ({exc})"}),
                                 content_type="application/json") from None
    except RecursionError:
        # JSON nested thousands deep exhausts the parser's stack: a bad request, not a server fault.
        raise web.HTTPBadRequest(text=json.dumps({"error": "body: the JSON is nested too deeply"}),
                                 content_type="application/json") from None


async def _submit(request: web.Request, *, sync: bool):
    queue = _queue(request)
    body = await _read_json(request, limits.RUNSYNC_BODY_LIMIT if sync else limits.RUN_BODY_LIMIT)
    try:
        run = parse_run_request(body)
    except RequestError as exc:
        return None, _error(400, str(exc), field=exc.field)
    job = queue.submit(run, sync=sync)
    fault: Fault | None = request.get("fault")
    if fault is not None and fault.drop_after_enqueue:
        await _drop_connection(request)
    return job, None


async def run(request: web.Request) -> web.Response:
    job, err = await _submit(request, sync=False)
    return err or web.json_response({"id": job.id, "status": job.status.value})


def _parse_wait(request: web.Request) -> float:
    raw = request.query.get("wait")
    if raw is None:
        return limits.RUNSYNC_WAIT_DEFAULT_MS / 1000
    low, high = limits.RUNSYNC_WAIT_RANGE_MS
    try:
        wait = int(raw)
    except ValueError:
        wait = None
    if wait is None or not low <= wait <= high:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"wait: {raw!r} is not an integer number of "
                                                           f"milliseconds in {low}–{high}", "field": "wait"}),
                                 content_type="application/json")
    return wait / 1000


async def runsync(request: web.Request) -> web.Response:
    wait_s = _parse_wait(request)
    job, err = await _submit(request, sync=True)
    if err:
        return err
    await request.app[QUEUE_KEY].wait_terminal(job, wait_s)
    if job.status.terminal:
        return web.json_response(job.to_object())
    return web.json_response({"id": job.id, "status": job.status.value})


def _job_or_404(queue: JobQueue, job_id: str):
    try:
        return queue.get(job_id)
    except JobNotFound:
        raise web.HTTPNotFound(text=json.dumps({"error": f"job {job_id} not found (unknown, expired or past its ttl)"}),
                               content_type="application/json") from None


async def status(request: web.Request) -> web.Response:
    job = _job_or_404(_queue(request), request.match_info["job_id"])
    return web.json_response(job.to_object())


async def stream(request: web.Request) -> web.Response:
    queue = _queue(request)
    _job_or_404(queue, request.match_info["job_id"])
    return web.json_response(queue.read_stream(request.match_info["job_id"]))


async def cancel(request: web.Request) -> web.Response:
    queue = _queue(request)
    _job_or_404(queue, request.match_info["job_id"])
    job = await queue.cancel_and_settle(request.match_info["job_id"], CANCEL_SETTLE_S)
    return web.json_response({"id": job.id, "status": job.status.value})


async def retry(request: web.Request) -> web.Response:
    queue = _queue(request)
    _job_or_404(queue, request.match_info["job_id"])
    try:
        job = queue.retry(request.match_info["job_id"])
    except InvalidTransition as exc:
        return _error(400, str(exc))
    return web.json_response({"id": job.id, "status": job.status.value})


async def purge_queue(request: web.Request) -> web.Response:
    removed = _queue(request).purge()
    return web.json_response({"removed": removed, "status": "completed"})


async def files(request: web.Request) -> web.StreamResponse:
    queue = _queue(request)
    store = queue.files
    path = store.path(request.match_info["job_id"], request.match_info["name"]) if store is not None else None
    if path is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such output file (unknown, or past the job's "
                                                         "retention)"}), content_type="application/json")
    return web.FileResponse(path)


async def health(request: web.Request) -> web.Response:
    return web.json_response(_queue(request).health())


async def test_faults(request: web.Request) -> web.Response:
    try:
        fault = parse_fault(await _read_json(request, limits.RUN_BODY_LIMIT))
    except ValueError as exc:
        return _error(400, str(exc))
    request.app[FAULTS_KEY].add(fault)
    return web.json_response({"faults": request.app[FAULTS_KEY].snapshot()})


async def test_jobs(request: web.Request) -> web.Response:
    queue = request.app[QUEUE_KEY]
    now = time.monotonic()
    return web.json_response({"jobs": [job.inspect(now) for job in queue.jobs.values()],
                              "faults": request.app[FAULTS_KEY].snapshot(),
                              "health": queue.health()})


def build_app(queue: JobQueue, config: AppConfig) -> web.Application:
    # aiohttp's own cap sits above ours so that we, not aiohttp, answer an oversize body with the numbers.
    app = web.Application(middlewares=[auth_middleware, fault_middleware], client_max_size=HARD_BODY_CAP)
    app[QUEUE_KEY] = queue
    app[CONFIG_KEY] = config
    base = "/v2/{endpoint_id}"
    app.router.add_post(f"{base}/run", run, name="run")
    app.router.add_post(f"{base}/runsync", runsync, name="runsync")
    app.router.add_get(f"{base}/status/{{job_id}}", status, name="status")
    app.router.add_post(f"{base}/status/{{job_id}}", status, name="status-post")
    app.router.add_get(f"{base}/stream/{{job_id}}", stream, name="stream")
    app.router.add_post(f"{base}/stream/{{job_id}}", stream, name="stream-post")
    app.router.add_post(f"{base}/cancel/{{job_id}}", cancel, name="cancel")
    app.router.add_post(f"{base}/retry/{{job_id}}", retry, name="retry")
    app.router.add_post(f"{base}/purge-queue", purge_queue, name="purge-queue")
    app.router.add_get(f"{base}/health", health, name="health")
    app.router.add_get(f"{base}/files/{{job_id}}/{{name}}", files, name="files")
    if config.test_hooks:
        app[FAULTS_KEY] = FaultTable()
        app.router.add_post("/_test/faults", test_faults)
        app.router.add_get("/_test/jobs", test_jobs)
    return app
