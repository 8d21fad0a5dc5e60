"""An async client for RunPod's queue API (`/v2/{endpoint}/run|status|stream|cancel|retry|purge-queue|health`).

One pooled httpx.AsyncClient; a timeout on every call; exponential backoff with jitter on connection errors,
5xx and 429 for the calls that are safe to repeat. `/run` is special: it is only resent when RunPod certainly
did not take it (429, or the connection was never made); otherwise FateUnknownError says so, because a second
/run could pay for the same job twice.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from dataclasses import dataclass
from collections.abc import AsyncIterator
from typing import Any

import httpx

from backend.errors import (AuthError, BackendError, BadRequestError, FateUnknownError, NotFoundError,
                            NotRetriableError, PayloadTooLargeError, RateLimitedError, ServerError,
                            UnreachableError)
from backend.records import Policy
from backend.settings import Secret

log = logging.getLogger("backend.client")

RUN_BODY_LIMIT = 10 * 1000 * 1000     # RunPod: 10 MB for the whole /run body
WORKER_STATES = ("idle", "initializing", "ready", "running", "throttled", "unhealthy")
JOB_COUNTS = ("completed", "failed", "inProgress", "inQueue", "retried")
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})


@dataclass(frozen=True)
class Health:
    workers: dict[str, int]
    jobs: dict[str, int]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> "Health":
        w, j = body.get("workers") or {}, body.get("jobs") or {}
        return cls(workers={k: int(w.get(k) or 0) for k in WORKER_STATES},
                   jobs={k: int(j.get(k) or 0) for k in JOB_COUNTS})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5            # total tries for idempotent calls
    base_s: float = 0.2
    max_s: float = 5.0

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base·2^attempt)], so many clients do not retry in step."""
        return random.uniform(0, min(self.max_s, self.base_s * 2 ** attempt))


class RunPodClient:
    def __init__(self, api_base: str, endpoint_id: str, api_key: Secret | None = None, *,
                 timeout_s: float = 15.0, retry: RetryPolicy | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.endpoint_id = endpoint_id
        self.base = f"{api_base.rstrip('/')}/{endpoint_id}"
        self.retry_policy = retry or RetryPolicy()
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key.reveal()}"
        self._http = httpx.AsyncClient(
            headers=headers, transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
        self.requests: Counter[str] = Counter()   # per operation, for the benchmark and tests

    async def aclose(self) -> None:
        await self._http.aclose()

    def http_for(self, url: str) -> httpx.AsyncClient | None:
        """The authorised client for a file the endpoint itself serves (a local endpoint's large outputs); None
        for any other URL, so the API key never goes to a bucket or another host."""
        return self._http if url.startswith(self.base + "/files/") else None

    # -- operations -------------------------------------------------------------------------------------------
    async def run(self, input: dict[str, Any], policy: Policy, *, webhook: str | None = None,
                  s3_config: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"input": input, "policy": policy.to_wire()}
        if webhook:
            body["webhook"] = webhook
        if s3_config:
            body["s3Config"] = s3_config
        raw = json.dumps(body, separators=(",", ":")).encode()
        if len(raw) > RUN_BODY_LIMIT:
            raise PayloadTooLargeError(len(raw), RUN_BODY_LIMIT)
        out = await self._call("run", "POST", "/run", content=raw, idempotent=False)
        if not isinstance(out, dict) or not out.get("id"):
            raise ServerError("RunPod accepted the job but did not return its id.")
        return out

    async def status(self, job_id: str) -> dict[str, Any]:
        return await self._call("status", "GET", f"/status/{job_id}", job_id=job_id)

    async def stream_once(self, job_id: str) -> dict[str, Any]:
        """One /stream read: `{status, stream: [{output}, ...]}` with the chunks produced since the last read."""
        return await self._call("stream", "GET", f"/stream/{job_id}", job_id=job_id)

    async def stream(self, job_id: str, *, poll_s: float = 0.2, max_poll_s: float = 1.0) -> AsyncIterator[Any]:
        """Yield each chunk's `output` of a generator handler, in order, until the job ends.

        Any terminal status ends it, CANCELLED and TIMED_OUT included (the runpod SDK's stream keeps polling a
        cancelled job forever). Chunks that arrive with the terminal status are yielded first. The poll slows
        down while nothing new comes and is quick again once chunks flow; read `status()` for the outcome."""
        interval = poll_s
        while True:
            body = await self.stream_once(job_id)
            if not isinstance(body, dict):
                raise ServerError("The endpoint answered stream with something that is not a JSON object.")
            chunks = body.get("stream") or []
            for chunk in chunks:
                yield chunk.get("output") if isinstance(chunk, dict) else chunk
            if body.get("status") in TERMINAL_STATUSES:
                return
            interval = poll_s if chunks else min(max_poll_s, interval * 1.5)
            await asyncio.sleep(interval)

    async def cancel(self, job_id: str) -> dict[str, Any]:
        # Cancelling twice is harmless, so it may be retried.
        return await self._call("cancel", "POST", f"/cancel/{job_id}", job_id=job_id)

    async def retry(self, job_id: str) -> dict[str, Any]:
        """Requeue a FAILED or TIMED_OUT job under the same id; any other state raises NotRetriableError."""
        return await self._call("retry", "POST", f"/retry/{job_id}", job_id=job_id, idempotent=False)

    async def purge_queue(self) -> dict[str, Any]:
        return await self._call("purge_queue", "POST", "/purge-queue", idempotent=False)

    async def health(self) -> Health:
        return Health.parse(await self._call("health", "GET", "/health"))

    # -- machinery --------------------------------------------------------------------------------------------
    async def _call(self, op: str, method: str, path: str, *, content: bytes | None = None,
                    idempotent: bool = True, job_id: str | None = None) -> Any:
        url = self.base + path
        attempt = 0
        while True:
            self.requests[op] += 1
            try:
                resp = await self._http.request(method, url, content=content)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The connection was never made, so even a /run cannot have reached the server.
                err: BackendError = UnreachableError(
                    f"Could not reach the endpoint at {self._where()} ({type(exc).__name__}).")
            except httpx.TransportError as exc:
                if not idempotent:
                    raise FateUnknownError(
                        f"The connection dropped after the {op} request was sent ({type(exc).__name__}); "
                        "RunPod may or may not have accepted it. Check the endpoint before running it again, "
                        "or a second job could be billed.") from None
                err = UnreachableError(f"The connection to {self._where()} failed ({type(exc).__name__}).")
            else:
                if resp.status_code < 400:
                    try:
                        return resp.json()
                    except ValueError:
                        raise ServerError(f"The endpoint answered {op} with something that is not JSON.",
                                          status=resp.status_code) from None
                err = self._error_for(op, resp, job_id)
                if resp.status_code >= 500 and not idempotent:
                    raise FateUnknownError(
                        f"The endpoint answered {op} with HTTP {resp.status_code}; it may or may not have "
                        "accepted the job. Check before running it again, or a second job could be billed.",
                        status=resp.status_code) from None
            retriable = isinstance(err, (UnreachableError, RateLimitedError)) or (
                isinstance(err, ServerError) and idempotent)
            attempt += 1
            if not retriable or attempt >= self.retry_policy.attempts:
                raise err
            delay = self.retry_policy.delay(attempt)
            log.info("%s: %s; retry %d in %.2f s", op, err.code, attempt, delay)
            await asyncio.sleep(delay)

    def _where(self) -> str:
        return f"{self.base.rsplit('/', 1)[0]}/…"

    def _error_for(self, op: str, resp: httpx.Response, job_id: str | None) -> BackendError:
        code = resp.status_code
        if code in (401, 403):
            return AuthError("The endpoint refused the API key (HTTP %d). Check RUNPOD_API_KEY and that the key "
                             "may use this endpoint." % code, status=code)
        if code == 404:
            if job_id:
                return NotFoundError(f"RunPod has no job {job_id}: the id is unknown, or its result was deleted "
                                     "after the retention time (30 minutes after it ended).", status=code)
            return NotFoundError(f"There is no endpoint '{self.endpoint_id}' here. Check RUNPOD_ENDPOINT_ID.",
                                 status=code)
        if code == 413:
            return PayloadTooLargeError(int(resp.request.headers.get("content-length") or 0), RUN_BODY_LIMIT)
        if code == 429:
            return RateLimitedError(f"RunPod is rate-limiting {op} requests (HTTP 429); try again shortly.",
                                    status=code)
        if code >= 500:
            return ServerError(f"The endpoint had an internal error answering {op} (HTTP {code}).", status=code)
        if op == "retry" and job_id and code in (400, 409):
            return NotRetriableError(f"Job {job_id} cannot be retried: only FAILED or TIMED_OUT jobs can be "
                                     f"(the endpoint said: {_reason(resp)}).", status=code)
        return BadRequestError(f"The endpoint rejected the {op} request (HTTP {code}): {_short(resp.text)}",
                               status=code)


def _reason(resp: httpx.Response) -> str:
    """The endpoint's own error sentence when its body is `{"error": "..."}`, else the body, shortened."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return _short(body["error"])
    return _short(resp.text)


def _short(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"
