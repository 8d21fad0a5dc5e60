"""The worker's one entry point: `async def handler(job) -> dict`, run by RunPod or by the local endpoint.

It picks the action, checks the input before anything is queued, runs the job through ComfyUI and returns
either the success body or `{"error": "<json>"}` (see ARCHITECTURE.md §2). Cancellation interrupts ComfyUI and
re-raises; the job's own deadline interrupts ComfyUI and returns code `timeout`.
"""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from worker import progress
from worker import runtime as runtime_mod
from worker.comfy.client import ComfyClient
from worker.errors import WorkerError
from worker.pipeline import JobContext, stop_and_confirm, stop_prompt

log = logging.getLogger("worker")

JOB_ACTIONS = ("portrait", "tts", "lipsync", "animate", "music")
CORE_ACTIONS = ("health", "debug", "provision", "workflow")


def pick_action(inp: dict) -> str:
    action = inp.get("action")
    if action is None:
        # The existing client sends a bare portrait request: {"description": ..., "model": ...}.
        if "prompt" in inp or "description" in inp:
            return "portrait"
        # runpod-workers/worker-comfyui 5.x clients send {"workflow": {...}, "images"?: [...]} and no action.
        if "workflow" in inp:
            return "workflow"
        raise WorkerError("invalid_input", "action: is required; one of " + ", ".join(JOB_ACTIONS + CORE_ACTIONS),
                          field="action")
    if not isinstance(action, str) or action not in JOB_ACTIONS + CORE_ACTIONS:
        raise WorkerError("unknown_action", f"action: {action!r} is not an action; one of "
                          + ", ".join(JOB_ACTIONS + CORE_ACTIONS), field="action")
    return action


def deadline_s(job: dict, default: float) -> float:
    """The job's own deadline: the worker setting, shortened by the request's policy.executionTimeout (ms)."""
    policy = job.get("policy") if isinstance(job.get("policy"), dict) else {}
    ms = policy.get("executionTimeout")
    if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms > 0:
        return min(default, ms / 1000.0)
    return default


async def handler(job: dict) -> dict:
    try:
        result = await _run(job)
    except BaseException:
        progress.forget(job)
        raise
    await progress.settle(job)
    return result


async def _run(job: dict) -> dict:
    rt = runtime_mod.get()
    started = time.monotonic()
    inp = job.get("input")
    try:
        if not isinstance(inp, dict):
            raise WorkerError("invalid_input", "input: expected an object with an action and its fields", field="input")
        action = pick_action(inp)
    except WorkerError as exc:
        return exc.to_result()
    connector = aiohttp.TCPConnector(limit=8, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        ctx = JobContext(job=job, runtime=rt, session=session, client=ComfyClient(rt.settings.base_url, session))
        limit = deadline_s(job, rt.settings.job_timeout_s)
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                result = await _dispatch(action, inp, ctx)
        except asyncio.CancelledError:
            # Shielded: the cancel must not also cut short the stop (and a restart of a stuck ComfyUI).
            note = await asyncio.shield(stop_and_confirm(ctx))
            if note and rt.stuck is not None and rt.supervisor is None:
                # Not stopped, and not ours to restart: a "cancelled" job would hide a GPU that is still busy.
                return WorkerError("comfyui_busy", "the cancel did not stop the run: " + note,
                                   details={"comfyui_stop": note}).to_result()
            raise
        except TimeoutError as exc:
            note = await stop_and_confirm(ctx)
            if not deadline.expired():
                return _with_note(WorkerError("internal", f"a request inside the worker timed out ({exc})"), note)
            return _with_note(WorkerError("timeout", f"the job ran longer than its {limit:g} s limit and was "
                                          "stopped"), note)
        except WorkerError as exc:
            note = None
            if exc.code == "comfyui_unavailable" and ctx.prompt_id:
                await stop_prompt(ctx.client, ctx.prompt_id)       # best effort; it does not answer /queue either
            elif exc.code != "comfyui_crashed":
                note = await stop_and_confirm(ctx)
            return _with_note(exc, note)
        except Exception as exc:
            log.exception("job %s failed", job.get("id"))
            note = await stop_and_confirm(ctx)
            return _with_note(WorkerError("internal", f"the worker hit an unexpected error "
                                          f"({exc.__class__.__name__}: {exc})"), note)
    if isinstance(result.get("timings"), dict):
        result["timings"]["total_ms"] = int((time.monotonic() - started) * 1000)
    return result


def _with_note(exc: WorkerError, note: str | None) -> dict:
    """The error as the job's result; when ComfyUI did not let go of the run, the message says what was done."""
    if note:
        exc = WorkerError(exc.code, f"{exc.message}; {note}", field=exc.field,
                          details={**(exc.details or {}), "comfyui_stop": note})
    return exc.to_result()


async def _dispatch(action: str, inp: dict, ctx: JobContext) -> dict:
    if action == "health":
        from worker.actions import health
        return await health.run(ctx)
    if action == "debug":
        from worker.actions import debug
        return await debug.run(ctx)
    if action == "provision":
        try:
            from worker.actions import provision
        except ImportError:
            raise WorkerError("unknown_action", "action: provision is not available in this worker build",
                              field="action") from None
        return await provision.run(ctx.job, inp, ctx.runtime.settings)
    if action == "workflow":
        from worker.actions import workflow
        return await workflow.run(ctx, inp)
    from worker.actions import job as job_action
    return await job_action.run(ctx, action, inp)
