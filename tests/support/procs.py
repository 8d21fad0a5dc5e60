"""Starting the project's servers as real processes on loopback, and waiting for them."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers any HTTP status (the port is bound and serving)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError as exc:
            last = exc
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s ({last})")


class Proc:
    """A child process whose output goes to a log file; stopped on exit."""

    def __init__(self, args: Sequence[str], log_path: Path, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.log_path = log_path
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(
            [sys.executable, *args] if args and args[0] == "-m" else list(args),
            stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=str(cwd or REPO),
            start_new_session=True,
        )

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for_line(self, needle: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if needle in line:
                    return line
            if self.popen.poll() is not None:
                raise RuntimeError(f"exited with {self.popen.returncode}:\n{self.log()[-3000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"no line with {needle!r} within {timeout} s:\n{self.log()[-3000:]}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, 9)
                self.popen.wait(timeout)
        self._log.close()

    def __enter__(self) -> "Proc":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_detached_endpoint(state_file: Path, timeout: float = 10.0) -> int | None:
    """Kill the detached preview endpoint a studio recorded in `state_file` (<data>/preview-endpoint/endpoint.json),
    so a test leaves no process behind. Returns the pid it stopped, or None."""
    import json
    import signal

    from backend.preview_endpoint import looks_like_endpoint, pid_alive
    try:
        pid = int(json.loads(state_file.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None
    if not pid_alive(pid) or not looks_like_endpoint(pid):     # gone, or the pid was recycled by something else
        return None
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return pid
            time.sleep(0.1)
    return pid


def installed_tool(name: str) -> str | None:
    """A console script installed by pip into this Python's environment, found even where PATH has only pyenv shims
    that were not regenerated after `python -m pip install`."""
    import shutil
    import sysconfig

    scripts = Path(sysconfig.get_path("scripts")) / name
    if scripts.is_file() and os.access(scripts, os.X_OK):
        return str(scripts)
    return shutil.which(name)
