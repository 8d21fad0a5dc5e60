"""One ComfyUI run for a job: upload inputs → queue → follow → collect outputs → base64 or bucket.

Shared by the job actions and the raw `workflow` action. Cancellation and the job's deadline both end in
ComfyUI's /interrupt plus a queue delete, so the next job starts on an idle ComfyUI.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from worker import convert, node_errors, node_roles, outputs, progress
from worker.bucket import from_s3_config, upload as bucket_upload
from worker.config import BucketSettings
from worker.inputs import check_public_endpoint
from worker.comfy.client import ComfyClient, ComfyUnreachable, PromptRejected
from worker.comfy.runner import RunFailed, run_prompt
from worker.errors import WorkerError
from worker.runtime import Runtime

log = logging.getLogger("worker")


@dataclass
class JobContext:
    job: dict
    runtime: Runtime
    session: aiohttp.ClientSession
    client: ComfyClient
    prompt_id: str | None = None           # set once queued: what to interrupt on cancel
    timings: dict[str, int] = field(default_factory=dict)
    last_stage: str | None = None
    warnings: list[str] = field(default_factory=list)
    stop_note: str | None = None           # set when ComfyUI did not let go of the prompt after /interrupt
    bucket: BucketSettings | None = None   # where outputs go: the request's s3Config, else the worker's own
    inline_copies: int = 1                 # how often the result carries each inline file (worker-comfyui: 2)
    roles: dict[str, str] = field(default_factory=dict)   # node id -> role, for the running step's label
    last_node: str | None = None

    def report(self, payload: dict, force: bool = False) -> None:
        """Stage and node changes always go out; steps within a node are throttled by worker.progress."""
        force = force or payload.get("stage") != self.last_stage or payload.get("node") != self.last_node
        self.last_stage, self.last_node = payload.get("stage"), payload.get("node")
        body = {"stage": payload.get("stage"), "node": payload.get("node"), "step": payload.get("step", 0),
                "steps": payload.get("steps", 0), "percent": payload.get("percent", 0),
                "label": node_roles.step_label(payload, self.roles)}
        try:
            progress.report(self.job, body, force=force)
        except Exception as exc:           # progress is best effort; never fail a job over it
            log.warning("progress report failed: %s", exc)


async def stop_prompt(client: ComfyClient, prompt_id: str) -> None:
    """Interrupt the prompt if it runs and drop it if it waits; each call is best effort."""
    for call in (client.interrupt, client.delete_from_queue):
        try:
            await asyncio.wait_for(call(prompt_id), 5.0)
        except Exception:
            log.warning("could not %s prompt %s", call.__name__, prompt_id)


async def still_running(client: ComfyClient, prompt_id: str, within_s: float) -> bool:
    """Whether ComfyUI still runs (or holds) the prompt after `within_s` seconds; an unreachable ComfyUI counts
    as still running, since nothing says the GPU is free."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            q = await client.queue()
            held = [e for e in (q or {}).get("queue_running", []) + (q or {}).get("queue_pending", [])
                    if isinstance(e, list) and len(e) > 1 and e[1] == prompt_id]
            if not held:
                return False
        except (ComfyUnreachable, aiohttp.ClientResponseError):
            pass
        if time.monotonic() >= deadline:
            return True
        await asyncio.sleep(0.25)


async def stop_and_confirm(ctx: JobContext) -> str | None:
    """Stop the job's prompt and make sure ComfyUI let go of it. Returns None when it did, else the sentence for
    the job's result: a supervised ComfyUI is restarted (so the GPU is free for the next job), one behind
    COMFYUI_URL can only be reported."""
    prompt_id, ctx.prompt_id = ctx.prompt_id, None
    if not prompt_id:
        return None
    await stop_prompt(ctx.client, prompt_id)
    rt = ctx.runtime
    limit = rt.settings.comfyui_stop_timeout_s
    if not await still_running(ctx.client, prompt_id, limit):
        return None
    if rt.supervisor is not None and rt.supervisor.alive():
        await rt.restart_comfyui(f"prompt {prompt_id} still running {limit:g} s after /interrupt")
        sentence = (f"ComfyUI did not stop the run within {limit:g} s of the interrupt, so the worker restarted "
                    "ComfyUI; the next job waits for it to start")
    elif rt.supervisor is not None:
        sentence = None                     # it exited by itself: restarted before the next job
    else:
        sentence = (f"ComfyUI did not stop the run within {limit:g} s of the interrupt and could not be stopped: "
                    f"this worker does not supervise the ComfyUI at {ctx.client.base_url} (COMFYUI_URL), so the "
                    "GPU may still be busy; restart that ComfyUI, or the next job waits behind the run")
        rt.mark_stuck(prompt_id, sentence)
    if sentence:
        log.warning("job %s: %s", ctx.job.get("id"), sentence)
        ctx.stop_note = sentence
    return sentence


Prepare = Callable[[], Awaitable[tuple[dict, dict[str, str]]]]


async def execute(ctx: JobContext, prepare: Prepare,
                  conversions: dict[str, str] | None = None) -> tuple[list[dict], dict]:
    """Run a prompt; returns (files, facts about ComfyUI).

    `prepare` runs once ComfyUI is ready: it uploads the inputs and returns (prompt, roles), because the
    prompt names the files ComfyUI stored the inputs under. `conversions` (mime -> mime, see worker.convert)
    are applied to the saved files before they are delivered."""
    rt = ctx.runtime
    ctx.bucket = await output_target(ctx)
    await rt.ensure_comfyui(ctx.session)
    try:
        facts = await rt.learn(ctx.client)
    except ComfyUnreachable:
        raise WorkerError("comfyui_unavailable", f"ComfyUI at {ctx.client.base_url} does not answer") from None
    ctx.report({"stage": "uploading_inputs"}, force=True)
    t = time.monotonic()
    try:
        prompt, roles = await prepare()
    except ComfyUnreachable as exc:
        rt.watchdog()
        raise WorkerError("comfyui_unavailable", f"uploading the inputs to ComfyUI failed ({exc})") from None
    except aiohttp.ClientResponseError as exc:
        raise WorkerError("invalid_input", f"ComfyUI refused an input file ({exc.status} {exc.message})") from None
    ctx.timings["input_upload_ms"] = int((time.monotonic() - t) * 1000)
    ctx.roles = ctx.roles or node_roles.for_prompt(prompt)

    def on_queued(prompt_id: str) -> None:
        ctx.prompt_id = prompt_id

    try:
        result = await run_prompt(ctx.client, prompt, on_progress=ctx.report,
                                  watchdog=rt.watchdog, on_queued=on_queued)
    except PromptRejected as exc:
        if exc.status >= 500:
            # ComfyUI's catch-all answer ("Server got itself in trouble"): its own error, not a verdict on the prompt.
            body = exc.body if isinstance(exc.body, dict) else {}
            err = body.get("error") if isinstance(body.get("error"), dict) else {}
            text = " ".join(str(err.get("message") or "").split())
            raise WorkerError("execution_failed", f"ComfyUI failed while taking the workflow (HTTP {exc.status}"
                              + (f": {text[:200]}" if text else "") + "); its log has the cause",
                              details={"log_tail": rt.log_tail()}) from None
        available = {}
        for name, folder in node_errors.missing_model_inputs(exc.body):
            try:
                available[name] = await ctx.client.models(folder)
            except ComfyUnreachable:
                pass
        raise node_errors.from_validation(exc.body, roles, available) from None
    except RunFailed as exc:
        if exc.kind in ("execution_error", "interrupted"):
            ctx.prompt_id = None           # ComfyUI is done with it: nothing to interrupt
        if exc.kind == "execution_error":
            raise node_errors.from_execution(exc.data, roles) from None
        if exc.kind == "interrupted":
            raise WorkerError("execution_failed", "ComfyUI interrupted the run (someone called /interrupt)") from None
        rt.watchdog()
        raise WorkerError("comfyui_crashed", f"ComfyUI stopped answering while running the job ({exc.data.get('message')})",
                          details={"log_tail": rt.log_tail()}) from None
    except ComfyUnreachable as exc:
        rt.watchdog()
        tail = rt.log_tail()
        raise WorkerError("comfyui_unavailable", f"ComfyUI at {ctx.client.base_url} does not answer ({exc})",
                          details={"log_tail": tail} if tail else None) from None
    ctx.timings.update(queue_ms=result.queue_ms, run_ms=result.run_ms)
    if result.dropped:
        skipped = node_errors.from_validation({"node_errors": result.dropped}, roles)
        ctx.warnings += [f"skipped by ComfyUI: {p}" for p in skipped.details["problems"]]
    ctx.prompt_id = None                   # finished: nothing to interrupt any more
    ctx.report({"stage": "uploading_outputs", "percent": 100}, force=True)
    files = await deliver(ctx, outputs.collect(result.outputs, list(prompt)), conversions)
    return files, facts


async def output_target(ctx: JobContext) -> BucketSettings | None:
    """The request's s3Config (checked before any GPU work: its URL comes from the caller), else the worker's."""
    cfg = ctx.job.get("s3Config")
    if not cfg:
        return ctx.runtime.settings.bucket
    target = from_s3_config(cfg)
    await check_public_endpoint("s3Config.endpointUrl", target.endpoint_url, ctx.runtime.settings)
    return target


async def deliver(ctx: JobContext, collected: list[outputs.Collected],
                  conversions: dict[str, str] | None = None) -> list[dict]:
    t = time.monotonic()
    datas = []
    for c in collected:
        try:
            datas.append(await ctx.client.view(c.ref))
        except (ComfyUnreachable, aiohttp.ClientResponseError) as exc:
            raise WorkerError("execution_failed", f"could not fetch output {c.ref.filename} from ComfyUI ({exc})") from None
    if not collected:
        raise WorkerError("execution_failed", "the workflow finished but saved no files")
    if conversions:
        # Converted before the size checks: a WAV is about twice its FLAC.
        pairs = convert.apply(list(zip(collected, datas)), conversions)
        collected, datas = [c for c, _ in pairs], [d for _, d in pairs]
    settings = ctx.runtime.settings
    target = ctx.bucket
    total = sum(len(d) for d in datas)

    def inline() -> list[dict] | None:
        files = [outputs.inline_entry(c, d) for c, d in zip(collected, datas)]
        # base64 grows 4/3; the JSON size is what RunPod counts.
        if total * ctx.inline_copies > settings.inline_max_bytes \
                or outputs.result_size({"files": files}) * ctx.inline_copies > outputs.RESULT_BUDGET:
            return None
        return files

    if target is None:
        files = inline()
        store = outputs.local_store.get()
        if files is None and store is not None:
            job_id = str(ctx.job.get("id") or "job")
            files = [outputs.url_entry(c, len(d), store(job_id, c.ref.filename, d, c.mime))
                     for c, d in zip(collected, datas)]
        elif files is None:
            raise outputs.too_large_error(total, settings.inline_max_bytes)
    else:
        prefix = str(ctx.job.get("id") or "job").replace("/", "_")
        items = [(f"{prefix}/{c.ref.filename}", d, c.mime) for c, d in zip(collected, datas)]
        try:
            # A bucket the request named is connected to only at a public address, checked again at connect time.
            guard = bool(ctx.job.get("s3Config")) and not settings.allow_private_urls
            uploaded = await bucket_upload(target, items, guard=guard)
            files = [outputs.url_entry(c, len(d), u.url) for c, d, u in zip(collected, datas, uploaded)]
        except WorkerError as exc:
            # The GPU work is done: when the files fit inline, hand them back that way rather than lose them.
            files = inline()
            if files is None:
                raise
            log.warning("bucket upload failed, outputs returned inline: %s", exc.message)
            ctx.warnings.append(f"{exc.message}; the outputs are returned inline instead")
    ctx.timings["upload_ms"] = int((time.monotonic() - t) * 1000)
    return files
