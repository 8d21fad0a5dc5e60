"""Without RunPod credentials, run the worker's local endpoint with the preview engine as a child process.

The backend talks to it over HTTP exactly as it talks to RunPod; it never imports the worker.
"""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from backend.errors import BackendError

REPO = Path(__file__).resolve().parents[1]
READY = re.compile(r"local endpoint ready: (http://\S+)/v2/(\S+)")


class PreviewEndpoint:
    def __init__(self, folder: Path, *, startup_timeout_s: float = 90.0, extra_args: tuple[str, ...] = ()):
        self.folder = folder
        self.log_path = folder / "endpoint.log"
        self.startup_timeout_s = startup_timeout_s
        self.extra_args = extra_args
        self._proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> tuple[str, str]:
        """Start it and wait for its ready line; returns (api_base, endpoint_id)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for k in ("RUNPOD_API_KEY", "HF_TOKEN"):      # the preview endpoint needs no secrets
            env.pop(k, None)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "worker", "serve", "--preview", "--host", "127.0.0.1", "--port", "0",
             "--endpoint-id", "preview", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, cwd=str(REPO), env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            m = READY.search(self.log_path.read_text(errors="replace"))
            if m:
                return m.group(1) + "/v2", m.group(2)
            if self._proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-1500:]
                raise BackendError(f"The preview endpoint exited with code {self._proc.returncode}:\n{tail}")
            await asyncio.sleep(0.1)
        await self.stop()
        raise BackendError(f"The preview endpoint did not start within {self.startup_timeout_s:.0f} s; "
                           f"see {self.log_path}.")

    async def stop(self) -> None:
        p, self._proc = self._proc, None
        if p is None or p.poll() is not None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            if p.poll() is not None:
                return
            await asyncio.sleep(0.1)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(5)
