"""A stand-in for RunPod's worker-facing job API on loopback: job-take hands out queued jobs, job-done records
every POST (progress updates with status IN_PROGRESS, then the result) in the order it received them.

Used by the worker's tests and bench/worker_overhead.py; runs on its own thread and loop, so sync and async
callers alike can use it. `ack_delay_s` delays taking in each IN_PROGRESS update, as a slow network would."""
from __future__ import annotations

import asyncio
import json
import threading
import time

from aiohttp import web


class RunPodStandIn:
    def __init__(self, ack_delay_s: float = 0.0):
        self.ack_delay_s = ack_delay_s
        self.jobs: list[dict] = []
        self.received: list[dict] = []           # {"t": monotonic, "job_id", "body"} in arrival order
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    # ---- what a test calls ----
    def start(self) -> "RunPodStandIn":
        self._thread.start()
        self._ready.wait(10)
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, worker_id: str = "standin-worker") -> dict[str, str]:
        """The variables RunPod sets on a worker; the query string keeps the SDK's `&isStream=` well-formed."""
        return {"RUNPOD_POD_ID": worker_id, "RUNPOD_AI_API_KEY": "standin-key",
                "RUNPOD_WEBHOOK_GET_JOB": f"{self.base}/job-take/$RUNPOD_POD_ID?gpu=standin",
                "RUNPOD_WEBHOOK_POST_OUTPUT": f"{self.base}/job-done/$RUNPOD_POD_ID/$ID?gpu=standin",
                "RUNPOD_WEBHOOK_POST_STREAM": f"{self.base}/job-stream/$RUNPOD_POD_ID/$ID?gpu=standin",
                "RUNPOD_WEBHOOK_PING": f"{self.base}/ping/$RUNPOD_POD_ID?gpu=standin"}

    def progress_url(self) -> str:
        return self.env()["RUNPOD_WEBHOOK_POST_OUTPUT"]

    def add_job(self, job: dict) -> None:
        with self._cond:
            self.jobs.append(job)

    def wait_result(self, job_id: str, timeout: float = 60.0) -> dict:
        """The job's final POST (the one without status IN_PROGRESS)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.received:
                    if r["job_id"] == job_id and r["body"].get("status") != "IN_PROGRESS":
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no result for {job_id} within {timeout} s")
                self._cond.wait(left)

    def for_job(self, job_id: str) -> list[dict]:
        with self._cond:
            return [r for r in self.received if r["job_id"] == job_id]

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    # ---- the server ----
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/job-take/{worker}", self._take)
        app.router.add_post("/job-done/{worker}/{job_id}", self._done)
        app.router.add_post("/job-stream/{worker}/{job_id}", self._done)
        app.router.add_get("/ping/{worker}", self._empty)
        app.router.add_get("/job-stop/{worker}", self._empty)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    async def _empty(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _take(self, request: web.Request) -> web.Response:
        with self._cond:
            job = self.jobs.pop(0) if self.jobs else None
        if job is None:
            await asyncio.sleep(0.2)             # like RunPod's long poll, without spinning the worker
            return web.Response(status=204)
        return web.json_response(job)

    async def _done(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        if body.get("status") == "IN_PROGRESS" and self.ack_delay_s:
            await asyncio.sleep(self.ack_delay_s)   # a slow path: the update is taken in only after this
        with self._cond:
            self.received.append({"t": time.monotonic(), "job_id": request.match_info["job_id"], "body": body})
            self._cond.notify_all()
        return web.Response(text="ok")
