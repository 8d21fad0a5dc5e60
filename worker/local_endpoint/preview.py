"""Running the preview engine (worker.preview, a ComfyUI stand-in) as a child process for `serve --preview`.

Its data folder doubles as the handler's volume (RUNPOD_VOLUME): `<data>/models` holds every manifest file as a
sparse placeholder of the manifest's size, so the worker's readiness check (`debug`, the "not provisioned"
pre-check) sees a provisioned volume without a byte of model data on disk.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from worker.children import die_with_parent
from worker.local_endpoint import scratch
from workflows.catalogue import load_manifest
from worker.volume import place_placeholder

START_TIMEOUT_S = 60.0


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def write_placeholders(models_dir: Path) -> list[str]:
    """Every manifest file as a sparse file of its manifest size (so it counts as present; takes no disk space).

    The preview engine's own `--models-from-manifest` leaves an existing file alone, so these are what it lists."""
    made = []
    for rel, f in load_manifest().items():
        place_placeholder(models_dir, f)
        made.append(rel)
    return made


class PreviewEngine:
    """Starts `python -m worker.preview` on a free loopback port with its data in a temp folder."""

    def __init__(self, step_delay: float | None = None) -> None:
        self._tmp = scratch.make("preview-engine-")
        self.port = _free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(self._tmp.name) / "preview.log"
        self.data_dir = Path(self._tmp.name) / "data"      # also the handler's volume: models/ under it
        self.step_delay = step_delay
        self._proc: subprocess.Popen | None = None

    def start(self) -> str:
        data = self.data_dir
        data.mkdir()
        write_placeholders(data / "models")
        self._log = open(self.log_path, "wb")
        extra = ["--step-delay", str(self.step_delay)] if self.step_delay is not None else []
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "worker.preview", "--host", "127.0.0.1", "--port", str(self.port),
             "--data", str(data), "--models-from-manifest", *extra],
            stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent(),
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the preview engine exited with {self._proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/system_stats", timeout=1.0).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the preview engine did not answer /system_stats within {START_TIMEOUT_S:.0f} s:\n"
                           f"{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        if getattr(self, "_log", None):
            self._log.close()
        self._tmp.cleanup()
