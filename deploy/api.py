"""RunPod's management APIs (REST v2, GraphQL) and the queue API, with errors turned into sentences.

The API key goes only into the Authorization header; nothing here formats headers into messages.
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

REST_BASE = "https://api.runpod.io/v2"
GRAPHQL_URL = "https://api.runpod.io/graphql"
QUEUE_BASE = "https://api.runpod.ai/v2"

_HINTS = {
    401: "RunPod rejected the API key. Check RUNPOD_API_KEY (console → Settings → API Keys).",
    403: "The API key is valid but lacks permission for this; give the key read/write access.",
}


class ApiError(Exception):
    """A failed call, as one sentence a person can act on."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ApiConfig:
    key: str
    rest_base: str = REST_BASE
    graphql_url: str = GRAPHQL_URL
    queue_base: str = QUEUE_BASE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ApiConfig":
        key = (env.get("RUNPOD_API_KEY") or "").strip()
        if not key:
            raise ApiError("RUNPOD_API_KEY is not set: export your RunPod API key (console → Settings → API Keys).")
        return cls(key=key,
                   rest_base=(env.get("RUNPOD_REST_BASE") or REST_BASE).rstrip("/"),
                   graphql_url=env.get("RUNPOD_GRAPHQL_URL") or GRAPHQL_URL,
                   queue_base=(env.get("RUNPOD_API_BASE") or QUEUE_BASE).rstrip("/"))


def problem_sentence(method: str, where: str, status: int, body: str) -> str:
    """Turn an RFC 9457 problem (or any error body) into a sentence."""
    title, detail, extra = "", "", ""
    try:
        data = json.loads(body) if body else {}
    except json.JSONDecodeError:
        data = {}
        detail = body.strip()[:300]
    if isinstance(data, dict):
        title = str(data.get("title") or "")
        detail = str(data.get("detail") or data.get("error") or data.get("message") or detail)
        errs = data.get("errors")
        if isinstance(errs, list) and errs:
            parts = []
            for e in errs[:5]:
                if isinstance(e, dict):
                    where_e = e.get("pointer") or e.get("field") or e.get("location") or ""
                    parts.append(f"{where_e}: {e.get('detail') or e.get('message') or ''}".strip(": "))
                else:
                    parts.append(str(e))
            extra = " (" + "; ".join(parts) + ")"
    head = f"RunPod answered {status}{' ' + title if title else ''} to {method} {where}"
    sentence = f"{head}: {detail}{extra}." if detail or extra else f"{head}."
    hint = _HINTS.get(status)
    return f"{sentence} {hint}" if hint else sentence


class SseParser:
    """Server-Sent Events, line by line (WHATWG HTML §9.2): `feed` returns an event at each blank line."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._id: str | None = None
        self._event: str | None = None

    def feed(self, line: str) -> dict | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._data:
                self._event = None
                return None
            event = {"id": self._id, "event": self._event or "message", "data": "\n".join(self._data)}
            self._data, self._event = [], None
            return event
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        elif name == "event":
            self._event = value
        return None


class Api:
    """Synchronous client; 429 and 5xx on reads are retried with backoff, honouring Retry-After."""

    def __init__(self, config: ApiConfig, *, retries: int = 5, sleep: Callable[[float], None] = time.sleep,
                 timeout: float = 30.0, on_retry: Callable[[str], None] | None = None):
        self.config = config
        self._retries = retries
        self._sleep = sleep
        self._on_retry = on_retry
        self._http = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {config.key}",
                                                            "Content-Type": "application/json"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------------------------
    def _send(self, method: str, url: str, where: str, body: Any = None) -> httpx.Response:
        for attempt in range(self._retries + 1):
            try:
                resp = self._http.request(method, url, content=None if body is None else json.dumps(body))
            except httpx.HTTPError as exc:
                raise ApiError(f"Could not reach RunPod for {method} {where}: {type(exc).__name__} {exc}.") from None
            retryable = resp.status_code == 429 or (resp.status_code in (502, 503, 504) and method == "GET")
            if not retryable or attempt == self._retries:
                return resp
            delay = self._backoff(attempt, resp.headers.get("Retry-After"))
            if self._on_retry:
                self._on_retry(f"RunPod answered {resp.status_code} to {method} {where}; retrying in {delay:.1f} s")
            self._sleep(delay)
        raise AssertionError("unreachable")

    @staticmethod
    def _backoff(attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), 60.0)
            except ValueError:
                pass
        # Exponential with jitter so several scripts do not retry in lockstep.
        return min(0.5 * 2 ** attempt, 20.0) * (0.75 + random.random() / 2)

    def _json(self, method: str, url: str, where: str, body: Any = None) -> Any:
        resp = self._send(method, url, where, body)
        if resp.status_code >= 400:
            raise ApiError(problem_sentence(method, where, resp.status_code, resp.text), resp.status_code)
        if not resp.content:
            return None
        try:
            return resp.json()
        except json.JSONDecodeError:
            return resp.text

    # -- the three APIs ----------------------------------------------------------------------------------------
    def rest(self, method: str, path: str, body: Any = None) -> Any:
        """REST v2; `path` is relative to the v2 base, e.g. "/serverless"."""
        return self._json(method, self.config.rest_base + path, path, body)

    def rest_events(self, path: str, params: dict | None = None, *, quiet_s: float = 1.0, max_s: float = 5.0,
                    max_events: int = 1000, clock: Callable[[], float] = time.monotonic) -> list[dict]:
        """Read a REST v2 Server-Sent Events stream (worker logs) for a bounded time and return its events.

        Such a stream stays open after sending what it has, so waiting for its end would never return: stop once
        no event has come for `quiet_s`, after `max_s` in all, or after `max_events`.
        """
        url = self.config.rest_base + path
        for attempt in range(self._retries + 1):
            events: list[dict] = []
            try:
                with self._http.stream("GET", url, params=params, timeout=httpx.Timeout(30.0),
                                       headers={"Accept": "text/event-stream"}) as resp:
                    # The headers may take a while; once they are in, a read that waits quiet_s for the next
                    # bytes means the backfill is over. httpcore takes the body's read timeout from the request's
                    # "timeout" extension when the body is first read (if it did not, reads would wait 30 s).
                    resp.request.extensions["timeout"] = {**resp.request.extensions.get("timeout", {}),
                                                          "read": quiet_s}
                    if resp.status_code == 429 and attempt < self._retries:
                        delay = self._backoff(attempt, resp.headers.get("Retry-After"))
                        if self._on_retry:
                            self._on_retry(f"RunPod answered 429 to GET {path}; retrying in {delay:.1f} s")
                        self._sleep(delay)
                        continue
                    if resp.status_code >= 400:
                        resp.read()
                        raise ApiError(problem_sentence("GET", path, resp.status_code, resp.text), resp.status_code)
                    start = last = clock()
                    parser = SseParser()
                    try:
                        for line in resp.iter_lines():
                            got = parser.feed(line)
                            if got is not None:
                                events.append(got)
                                last = clock()
                            now = clock()
                            if len(events) >= max_events or now - start >= max_s or now - last >= quiet_s:
                                break
                    except httpx.ReadTimeout:
                        pass  # quiet for quiet_s: everything already there has been read
                    return events
            except httpx.HTTPError as exc:
                raise ApiError(f"Could not reach RunPod for GET {path}: {type(exc).__name__} {exc}.") from None
        raise AssertionError("unreachable")

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        data = self._json("POST", self.config.graphql_url, "GraphQL", {"query": query, "variables": variables or {}})
        if not isinstance(data, dict):
            raise ApiError("RunPod's GraphQL API answered something that is not JSON.")
        if data.get("errors"):
            msgs = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in data["errors"])
            raise ApiError(f"RunPod's GraphQL API refused the request: {msgs}.")
        return data.get("data") or {}

    def queue(self, method: str, endpoint_id: str, path: str, body: Any = None) -> Any:
        """The endpoint's queue API (/run, /status/{id}, /health, …)."""
        where = f"/{endpoint_id}{path}"
        return self._json(method, f"{self.config.queue_base}{where}", where, body)
