"""`python -m worker serve`: RunPod's queue API on this machine, running the worker's handler in-process."""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from worker import runtime as worker_runtime
from worker.local_endpoint import scratch as scratch_dirs, webhook
from worker.local_endpoint.app import AppConfig, build_app
from worker.local_endpoint.files import FileStore
from worker.local_endpoint.idle import IdleClock
from worker.local_endpoint.journal import Journal
from worker.local_endpoint.queue import JobQueue
from worker.local_endpoint.runner import Handler, load_handler

log = logging.getLogger("local_endpoint")

DEFAULT_HANDLER = "worker.handler:handler"
API_KEY_ENV = "LOCAL_ENDPOINT_API_KEY"


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    endpoint_id: str
    api_key: str | None
    concurrency: int
    comfyui_url: str | None
    preview: bool
    retention_s: float
    handler: str
    cold_start_s: float
    test_hooks: bool
    idle_exit_s: float = 0.0
    step_delay_s: float | None = None
    state_dir: str | None = None

    def __repr__(self) -> str:  # keep the key out of any accidental log line
        return f"ServeOptions(host={self.host!r}, port={self.port}, endpoint_id={self.endpoint_id!r}, " \
               f"api_key={'set' if self.api_key else None}, concurrency={self.concurrency})"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv: list[str]) -> ServeOptions:
    p = argparse.ArgumentParser(prog="python -m worker serve",
                                description="Serve RunPod's queue API locally, running the worker's handler.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need --api-key)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("--endpoint-id", default="local", help="the {endpoint_id} in /v2/{endpoint_id}/... (default local)")
    p.add_argument("--api-key", default=None, help=f"require 'Authorization: Bearer KEY' (or set {API_KEY_ENV})")
    p.add_argument("--concurrency", type=int, default=1, help="jobs run at once (default 1)")
    engine = p.add_mutually_exclusive_group()
    engine.add_argument("--comfyui-url", default=None, help="an already-running ComfyUI for the handler")
    engine.add_argument("--preview", action="store_true", help="start the preview engine and use it as ComfyUI")
    p.add_argument("--retention", type=float, default=1800, help="seconds results are kept after a job ends")
    p.add_argument("--handler", default=DEFAULT_HANDLER, help=f"module:function (default {DEFAULT_HANDLER})")
    p.add_argument("--cold-start", type=float, default=0.0,
                   help="seconds the workers show as initializing after start, taking no jobs")
    p.add_argument("--test-hooks", action="store_true", help="add /_test/faults and /_test/jobs (tests only)")
    p.add_argument("--idle-exit", type=float, default=0.0, metavar="SECONDS",
                   help="exit after this many seconds with no job queued or running and no request (default 0: never)")
    p.add_argument("--step-delay", type=float, default=None, metavar="SECONDS",
                   help="with --preview: the preview engine's seconds per sampler step (default the engine's 0.02)")
    p.add_argument("--state-dir", default=None, metavar="DIR",
                   help="keep jobs and results here, so they survive a restart (unfinished ones come back FAILED "
                        "with code endpoint_restarted)")
    a = p.parse_args(argv)
    api_key = a.api_key or os.environ.get(API_KEY_ENV) or None
    if a.concurrency < 1:
        p.error(f"--concurrency: must be at least 1, got {a.concurrency}")
    if not 0 <= a.port <= 65535:
        p.error(f"--port: {a.port} is not in 0–65535")
    if a.retention <= 0:
        p.error(f"--retention: must be a positive number of seconds, got {a.retention}")
    if a.cold_start < 0:
        p.error(f"--cold-start: must be 0 or more seconds, got {a.cold_start}")
    if a.idle_exit < 0:
        p.error(f"--idle-exit: must be 0 (never) or more seconds, got {a.idle_exit}")
    if a.step_delay is not None and (a.step_delay < 0 or not a.preview):
        p.error(f"--step-delay: needs --preview and 0 or more seconds, got {a.step_delay}")
    if not _is_loopback(a.host) and not api_key:
        p.error(f"--host: {a.host} is not a loopback address; serving beyond this machine needs --api-key "
                f"(or {API_KEY_ENV})")
    if not a.endpoint_id or "/" in a.endpoint_id:
        p.error("--endpoint-id: must be a non-empty name without '/'")
    return ServeOptions(host=a.host, port=a.port, endpoint_id=a.endpoint_id, api_key=api_key,
                        concurrency=a.concurrency, comfyui_url=a.comfyui_url, preview=a.preview,
                        retention_s=a.retention, handler=a.handler, cold_start_s=a.cold_start,
                        test_hooks=a.test_hooks, idle_exit_s=a.idle_exit, step_delay_s=a.step_delay,
                        state_dir=a.state_dir)


async def serve(options: ServeOptions, handler: Handler) -> None:
    journal = Journal(Path(options.state_dir)) if options.state_dir else None
    # Outputs too big to return inline are kept and served here (with the state, so they survive a restart).
    scratch = None if options.state_dir else scratch_dirs.make("local-endpoint-files-")
    store = FileStore(Path(options.state_dir) / "files" if options.state_dir else Path(scratch.name))
    queue = JobQueue(handler, concurrency=options.concurrency, retention_s=options.retention_s,
                     cold_start_s=options.cold_start_s, on_terminal=webhook.deliver, journal=journal, files=store,
                     unhealthy=worker_runtime.unhealthy_reason)
    app = build_app(queue, AppConfig(endpoint_id=options.endpoint_id, api_key=options.api_key,
                                     test_hooks=options.test_hooks))
    idle = None
    if options.idle_exit_s > 0:
        idle = IdleClock(options.idle_exit_s, lambda: _busy(queue))
        idle.install(app)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port)
    await site.start()
    queue.start()
    port = runner.addresses[0][1]
    # A wildcard bind is reached by the machine's name; file URLs must be usable by the client.
    named = socket.gethostname() if options.host in ("0.0.0.0", "::") else options.host
    host = f"[{named}]" if ":" in named else named
    store.base_url = f"http://{host}:{port}/v2/{options.endpoint_id}"
    print(f"local endpoint ready: {store.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = [asyncio.create_task(stop.wait())]
    if idle is not None:
        waits.append(asyncio.create_task(idle.wait()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in waits:
            t.cancel()
        log.info("shutting down: cancelling running jobs")
        await queue.close()
        await runner.cleanup()
        if scratch is not None:
            scratch.cleanup()


def _busy(queue: JobQueue) -> bool:
    jobs = queue.health()["jobs"]
    return bool(jobs["inQueue"] or jobs["inProgress"])


def main(argv: list[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO; URLs can carry tokens or presigned signatures in their query.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    engine = None
    supervised = None
    data_tmp = None
    scratch_dirs.sweep()            # folders of endpoints killed outright (kill -9) before this start
    try:
        if options.handler == DEFAULT_HANDLER:
            from worker.config import WorkerSettings
            WorkerSettings.from_env()   # a bad setting (a bucket without its keys) stops the start, in one line
        if options.preview:
            from worker.local_endpoint.preview import PreviewEngine
            engine = PreviewEngine(step_delay=options.step_delay_s)
            os.environ["COMFYUI_URL"] = engine.start()
            # The handler reads its settings (worker.config.WorkerSettings, via worker.runtime) on its first job,
            # from this environment: its volume is the engine's data folder, whose models/ holds the manifest's
            # placeholders, so `debug` and the "not provisioned" pre-check see what the engine serves. With
            # COMFYUI_URL set the runtime supervises no ComfyUI and never prepares (writes into) a ComfyUI install.
            os.environ["RUNPOD_VOLUME"] = str(engine.data_dir)
            log.info("preview engine running at %s (volume %s)", os.environ["COMFYUI_URL"], engine.data_dir)
        elif options.comfyui_url:
            os.environ["COMFYUI_URL"] = options.comfyui_url
        elif options.handler == DEFAULT_HANDLER and not os.environ.get("COMFYUI_URL"):
            if options.state_dir:
                data_dir = Path(options.state_dir)
            else:
                data_tmp = scratch_dirs.make("local-endpoint-comfyui-")
                data_dir = Path(data_tmp.name)
            supervised = _supervise_comfyui(data_dir)
        # Imported only now: the handler may read COMFYUI_URL when its module loads.
        handler = load_handler(options.handler)
        asyncio.run(serve(options, handler))
    except (ValueError, ImportError, RuntimeError, OSError) as exc:
        print(f"local endpoint: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        if engine is not None:
            engine.stop()
        if supervised is not None and supervised.supervisor is not None:
            supervised.supervisor.stop()        # SIGTERM and Ctrl-C end here; kill -9 is the kernel's (children.py)
        if data_tmp is not None:
            data_tmp.cleanup()
    return 0


def in_image(env: dict[str, str] | None = None) -> bool:
    """Whether this runs where ComfyUI is installed as the worker image has it (or COMFYUI_DIR says where)."""
    from worker.volume import DEFAULT_COMFYUI
    env = os.environ if env is None else env
    return bool(env.get("COMFYUI_DIR")) or Path(DEFAULT_COMFYUI).is_dir()


def _supervise_comfyui(data_dir: Path):
    """No --comfyui-url and no --preview: run ComfyUI as `python -m worker` does on RunPod — the volume's model
    folders wired in (extra_model_paths, cache variables) and ComfyUI started now, not on the first job.

    Outside the image (no /comfyui, no COMFYUI_DIR) nothing is written where it was not asked for: ComfyUI's
    files (extra_model_paths.yaml, the SONIC link, its log) go under `data_dir` (the --state-dir, else a temp
    folder), no model folder is created on the volume, and COMFYUI_COMMAND may name the yaml as
    {extra_model_paths}."""
    from worker import runtime
    from worker.__main__ import prepare_volume
    from worker.config import WorkerSettings

    if in_image():
        prepare_volume()        # before the settings are read: it exports the cache variables ComfyUI inherits
    else:
        from worker import volume
        layout = volume.VolumeLayout(volume.VolumeLayout.from_env().volume, data_dir / "comfyui")
        os.environ.update(volume.prepare(layout, create_folders=False))
        if not os.environ.get("COMFYUI_LOG"):
            os.environ["COMFYUI_LOG"] = str(data_dir / "comfyui.log")
        command = os.environ.get("COMFYUI_COMMAND")
        if command and "{extra_model_paths}" in command:
            os.environ["COMFYUI_COMMAND"] = command.replace("{extra_model_paths}",
                                                            str(layout.comfyui / "extra_model_paths.yaml"))
        log.info("outside the worker image: ComfyUI's files are under %s", data_dir)
    settings = WorkerSettings.from_env()
    log.info("supervising ComfyUI: %s", settings.comfyui_command)
    return runtime.configure(settings, start_comfyui=True)
