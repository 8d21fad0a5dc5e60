"""What the handler keeps between jobs: the settings, the ComfyUI supervisor, and facts learned about ComfyUI.

One Runtime per process, built from the environment on first use or installed by `configure()` (the RunPod
entry and the local endpoint do that). aiohttp sessions are per job, because RunPod and the local endpoint
may run jobs on different event loops.
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import time
from dataclasses import dataclass, field

import aiohttp

from worker.comfy.client import ComfyClient
from worker.comfy.supervisor import StartFailed, Supervisor, read_tail
from worker.config import WorkerSettings
from worker.errors import WorkerError

log = logging.getLogger("worker")
STUCK_POLL_S = 1.0


@dataclass
class Runtime:
    settings: WorkerSettings
    supervisor: Supervisor | None = None
    facts: dict = field(default_factory=dict)      # "preview", "version": from /system_stats, reset on restart
    # Set when /interrupt did not stop a run on a ComfyUI this worker cannot restart (COMFYUI_URL): the worker
    # reports itself unhealthy until that ComfyUI has let go of the prompt. {"prompt_id", "message", "since"}
    stuck: dict | None = None
    _stuck_watch: asyncio.Task | None = field(default=None, repr=False)

    def mark_stuck(self, prompt_id: str, message: str) -> None:
        """Unhealthy from now until ComfyUI no longer holds `prompt_id` (watched on the running loop)."""
        self.stuck = {"prompt_id": prompt_id, "message": message, "since": time.time()}
        if self._stuck_watch is None or self._stuck_watch.done():
            self._stuck_watch = asyncio.get_running_loop().create_task(self._watch_stuck())

    async def still_stuck(self, client: ComfyClient) -> bool:
        """Re-check now: clears the mark once ComfyUI is idle of the stuck prompt."""
        stuck = self.stuck
        if stuck is None:
            return False
        try:
            q = await client.queue() or {}
        except Exception:                   # unreachable or odd: nothing says the GPU is free
            return True
        held = any(isinstance(e, list) and len(e) > 1 and e[1] == stuck["prompt_id"]
                   for e in q.get("queue_running", []) + q.get("queue_pending", []))
        if not held and self.stuck is stuck:
            log.info("ComfyUI let go of prompt %s: healthy again", stuck["prompt_id"])
            self.stuck = None
        return held

    async def _watch_stuck(self) -> None:
        async with aiohttp.ClientSession() as session:
            client = ComfyClient(self.settings.base_url, session)
            while self.stuck is not None and await self.still_stuck(client):
                await asyncio.sleep(STUCK_POLL_S)

    def unhealthy_reason(self) -> str | None:
        return None if self.stuck is None else self.stuck["message"]

    async def ensure_comfyui(self, session: aiohttp.ClientSession) -> None:
        """Make sure ComfyUI is up before a job uses it; restarts a crashed supervised ComfyUI."""
        if self.supervisor is None:
            return
        restarts = self.supervisor.restarts
        try:
            await self.supervisor.ensure_ready(session)
        except StartFailed as exc:
            raise WorkerError("comfyui_unavailable", f"{exc}; last lines of its log are in details.log_tail",
                              details={"log_tail": exc.tail}) from None
        if self.supervisor.restarts != restarts:
            self.facts.clear()

    async def restart_comfyui(self, reason: str) -> None:
        """Kill the supervised ComfyUI and launch it again (its readiness is awaited by the next job)."""
        sup = self.supervisor
        with open(sup.log_path, "ab") as log:
            log.write(f"worker: restarting ComfyUI: {reason}\n".encode())
        await asyncio.to_thread(sup.stop)
        sup.restarts += 1
        sup.start()
        self.facts.clear()
    def log_tail(self) -> list[str]:
        """The end of ComfyUI's log: the supervised one's, or with COMFYUI_URL the file COMFYUI_LOG names (the
        operator points it at the log of the ComfyUI they run)."""
        if self.supervisor is not None:
            return self.supervisor.log_tail()
        if self.settings.comfyui_log_given:
            return read_tail(self.settings.comfyui_log)
        return []

    def watchdog(self) -> None:
        """Raise when the supervised ComfyUI has exited; called about once a second while a job runs."""
        sup = self.supervisor
        if sup is not None and not sup.alive():
            raise WorkerError("comfyui_crashed", f"ComfyUI exited with code {sup.exit_code()} while running the job; "
                              "it will be restarted before the next job",
                              details={"log_tail": sup.log_tail()})

    async def learn(self, client: ComfyClient) -> dict:
        """ComfyUI's version and whether it is the preview engine (cached until a restart)."""
        if "version" not in self.facts:
            stats = await client.system_stats()
            system = (stats or {}).get("system") or {}
            argv = system.get("argv") or [""]
            self.facts.update(version=system.get("comfyui_version"),
                              preview=bool(argv) and argv[0] == "studio-preview-engine")
        return self.facts


_runtime: Runtime | None = None


def configure(settings: WorkerSettings | None = None, *, start_comfyui: bool = False) -> Runtime:
    """Install the process's runtime; with `start_comfyui`, launch the supervised ComfyUI now."""
    global _runtime
    settings = settings or WorkerSettings.from_env()
    supervisor = None
    if settings.supervised:
        supervisor = Supervisor(settings.comfyui_command, settings.comfyui_port, settings.comfyui_log,
                                settings.comfyui_start_timeout_s)
        if start_comfyui:
            supervisor.start()
            # ComfyUI runs in its own session (so a signal to the worker does not hit it mid-write); stop it
            # explicitly when the worker exits, e.g. after `--test_input`.
            atexit.register(supervisor.stop)
    if _runtime is not None and _runtime.supervisor is not None:
        _runtime.supervisor.stop()
    _runtime = Runtime(settings, supervisor)
    return _runtime


def get() -> Runtime:
    return _runtime or configure()


def unhealthy_reason() -> str | None:
    """Why the worker is unhealthy right now (a run ComfyUI would not stop), or None; never builds a runtime."""
    return None if _runtime is None else _runtime.unhealthy_reason()
