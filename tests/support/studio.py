"""The studio as a real process (`python app.py`) on a free port, with its own data; for the browser tests and
docs/screenshots.py."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.procs import Proc, free_port, stop_detached_endpoint

SECRET_ENV = ("RUNPOD_API_KEY", "RUNPOD_ENDPOINT_ID", "RUNPOD_API_BASE", "HF_TOKEN", "STUDIO_AUTH", "STUDIO_MCP",
              "STUDIO_REVIEWERS")


class App:
    """`python app.py` on a free port with its own data and Gradio temp folders; restartable on the same data."""

    def __init__(self, root: Path, extra_env: dict[str, str] | None = None):
        self.root = root
        self.env = {"STUDIO_DATA_DIR": str(root / "data"), "GRADIO_TEMP_DIR": str(root / "gradio"),
                    "GRADIO_ANALYTICS_ENABLED": "False", **(extra_env or {})}
        self.proc: Proc | None = None
        self.port = 0
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> "App":
        self.port = free_port()
        self.starts += 1
        # Proc merges os.environ: blank out credentials a developer may have set, so the mode is the one asked for
        # (the settings treat an empty variable as unset).
        env = {**{k: "" for k in SECRET_ENV}, **self.env}
        self.proc = Proc([sys.executable, "app.py", "--port", str(self.port)],
                         self.root / f"app-{self.starts}.log", env=env)
        self.proc.wait_for_line("studio ready", timeout=timeout)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=30)
            self.proc = None

    def log(self) -> str:
        return self.proc.log() if self.proc else ""


@contextmanager
def running_app(root: Path, extra_env: dict[str, str] | None = None, timeout: float = 120) -> Iterator[App]:
    """A started studio; afterwards it is stopped, and so is the detached preview endpoint it started (the app stops
    that endpoint itself on a clean exit when idle; this makes sure in every case, so nothing is left running)."""
    app = App(root, extra_env)
    try:
        yield app.start(timeout)
    finally:
        app.stop()
        stop_detached_endpoint(root / "data" / "preview-endpoint" / "endpoint.json")
