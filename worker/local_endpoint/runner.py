"""Calling a RunPod-style handler the way the SDK does, and turning what it did into a job result.

Handlers may be async functions, plain functions, or (async) generators, as `runpod.serverless.start` allows.
Plain functions run in a thread so one slow sync handler does not freeze the HTTP server (unlike the SDK's
local server); they cannot be interrupted by /cancel, exactly as on RunPod.
"""
from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from worker import outputs, progress

Handler = Callable[[dict], Any]


@dataclass
class Outcome:
    ok: bool
    output: Any = None
    error: str | None = None


def load_handler(spec: str) -> Handler:
    """Import `module:function` (lazily, so the endpoint starts even while a handler module is being written)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"--handler: {spec!r} is not of the form module:function")
    module = importlib.import_module(module_name)
    try:
        fn = getattr(module, attr)
    except AttributeError:
        raise ValueError(f"--handler: module {module_name!r} has no attribute {attr!r}") from None
    if not callable(fn):
        raise ValueError(f"--handler: {spec!r} is not callable")
    return fn


def exception_error(exc: BaseException, worker_id: str) -> str:
    """The SDK's error string for an uncaught exception (rp_job.py::run_job)."""
    return json.dumps({
        "error_type": str(type(exc)),
        "error_message": str(exc),
        "error_traceback": "".join(traceback.format_exception(exc)),
        "hostname": socket.gethostname(),
        "worker_id": worker_id,
        "runpod_version": "local-endpoint",
    })


def _error_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _split_result(result: Any) -> Outcome:
    """A returned dict with a truthy "error" fails the job; "refresh_worker" is stripped, as in the SDK."""
    if isinstance(result, dict):
        result = dict(result)
        error = result.pop("error", None)
        result.pop("refresh_worker", None)
        if error:
            return Outcome(ok=False, error=_error_string(error))
    return Outcome(ok=True, output=result)


async def run_handler(handler: Handler, job: dict, worker_id: str,
                      on_progress: Callable[[dict], None], on_chunk: Callable[[Any], None],
                      store: outputs.LocalStore | None = None) -> Outcome:
    """Run one job. CancelledError propagates (the caller decides what a cancel means).

    `store` keeps outputs too big to return inline and gives their URLs (see worker/local_endpoint/files.py)."""
    progress.sink.set(lambda _job, payload: on_progress(payload))
    outputs.local_store.set(store)
    try:
        if (inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler)
                or inspect.isgeneratorfunction(handler)):
            result = handler(job)
        else:
            result = await asyncio.to_thread(handler, job)
        if inspect.isawaitable(result):
            result = await result
        if inspect.isasyncgen(result) or inspect.isgenerator(result):
            return await _drain(result, on_chunk)
        return _split_result(result)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 — any handler failure becomes a FAILED job, like the SDK
        return Outcome(ok=False, error=exception_error(exc, worker_id))
    finally:
        progress.forget(job)


async def _drain(gen: Any, on_chunk: Callable[[Any], None]) -> Outcome:
    """Stream every yielded value; the final output is the list of them (return_aggregate_stream=True)."""
    chunks: list[Any] = []
    sentinel = object()
    try:
        while True:
            if inspect.isasyncgen(gen):
                try:
                    item = await gen.__anext__()
                except StopAsyncIteration:
                    break
            else:
                item = await asyncio.to_thread(next, gen, sentinel)
                if item is sentinel:
                    break
            if isinstance(item, dict) and item.get("error"):
                return Outcome(ok=False, error=_error_string(item["error"]))
            chunks.append(item)
            on_chunk(item)
    finally:
        if inspect.isasyncgen(gen):
            await gen.aclose()
        else:
            gen.close()
    return Outcome(ok=True, output=chunks)
