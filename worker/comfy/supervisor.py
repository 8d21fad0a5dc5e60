"""Starting ComfyUI with the worker process, watching it, and restarting it after a crash.

ComfyUI is started when the worker starts (not on the first job) so its ~20 s import time overlaps RunPod's
own start-up. Its output goes to a log file whose tail is attached to every start or crash error: a ComfyUI
that dies with no logs cost our user hours.
"""
from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import time
from collections import deque
from pathlib import Path

import aiohttp

from worker.children import die_with_parent

TAIL_LINES = 50


def read_tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return list(deque(text.splitlines(), maxlen=lines))


class Supervisor:
    def __init__(self, command: str, port: int, log_path: Path, start_timeout_s: float):
        self.argv = shlex.split(command.replace("{port}", str(port)))
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.ready = False
        self.restarts = 0
        self._lock: asyncio.Lock | None = None
        self._lock_loop = None

    # -- process -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Launch ComfyUI (non-blocking); its readiness is awaited by the first job that needs it."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            # Own session: a Ctrl-C to the worker does not hit ComfyUI mid-write; the worker stops it instead,
            # and the kernel does if the worker is killed outright.
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, preexec_fn=die_with_parent())
        except OSError as exc:
            log.write(f"worker: could not start ComfyUI ({' '.join(self.argv)}): {exc}\n".encode())
            self.proc = None
        finally:
            log.close()
        self.started_at = time.monotonic()
        self.ready = False

    @property
    def never_started(self) -> bool:
        return self.proc is None and self.started_at == 0.0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_tail(self, lines: int = TAIL_LINES) -> list[str]:
        return read_tail(self.log_path, lines)

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)
        self.ready = False

    # -- readiness -----------------------------------------------------------------------------------------
    def _get_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def ensure_ready(self, session: aiohttp.ClientSession) -> None:
        """Wait for ComfyUI to answer; restart it first if it died. Raises StartFailed with the log tail."""
        async with self._get_lock():
            if self.proc is None and self.started_at == 0.0:
                self.start()
            elif not self.alive():
                self.restarts += 1
                with open(self.log_path, "ab") as log:
                    log.write(f"worker: ComfyUI exited ({self.exit_code()}); restarting\n".encode())
                self.start()
            elif self.ready:
                return
            await self._wait(session)

    async def _wait(self, session: aiohttp.ClientSession) -> None:
        deadline = self.started_at + self.start_timeout_s
        while True:
            if not self.alive():
                raise StartFailed(f"ComfyUI exited with code {self.exit_code()} while starting", self.log_tail())
            try:
                async with session.get(self.url + "/system_stats", timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        self.ready = True
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() >= deadline:
                raise StartFailed(f"ComfyUI did not answer within {self.start_timeout_s:g} s", self.log_tail())
            await asyncio.sleep(0.2)


class StartFailed(Exception):
    def __init__(self, message: str, tail: list[str]):
        super().__init__(message)
        self.tail = tail
