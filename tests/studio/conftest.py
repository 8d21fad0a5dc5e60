"""Shared fixtures: the studio started as a real process (`python app.py`), Chromium via Playwright, sample media."""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image, ImageDraw

from tests.support.procs import REPO, Proc, free_port

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
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


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """A spoken reference clip (espeak-ng when installed, else a voiced tone), a too-long clip, a face, a tiny image."""
    d = tmp_path_factory.mktemp("media")
    ref = d / "reference.wav"
    text = "Hello there. My name is Captain Mara, and I fly the night mail over the harbour city."
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(ref), text], check=True, capture_output=True)
    else:
        t = np.linspace(0, 6, 6 * 22050, endpoint=False)
        sf.write(ref, 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2, 22050)
    long_clip = d / "three-minutes.wav"
    sf.write(long_clip, np.zeros(180 * 8000, dtype=np.float32), 8000)
    not_audio = d / "notes.wav"
    not_audio.write_text("these are notes, not a recording")
    face = d / "face.png"
    im = Image.new("RGB", (512, 512), (200, 180, 160))
    dr = ImageDraw.Draw(im)
    dr.ellipse((136, 96, 376, 416), fill=(235, 200, 170))
    dr.ellipse((196, 206, 226, 236), fill=(40, 40, 40))
    dr.ellipse((286, 206, 316, 236), fill=(40, 40, 40))
    dr.arc((206, 296, 306, 356), 0, 180, fill=(120, 30, 30), width=6)
    im.save(face)
    tiny = d / "tiny.png"
    Image.new("RGB", (64, 64), (10, 10, 10)).save(tiny)
    return {"reference": ref, "long": long_clip, "not_audio": not_audio, "face": face, "tiny": tiny}


VIEW = {"width": 1400, "height": 1100}


def set_advanced(page, tab: str, field: str, value: object) -> None:
    """Open a job tab's Advanced accordion and type a number into one of its fields."""
    page.locator(f"#{tab}-advanced").get_by_text("Advanced").first.click()
    box = page.locator(f"#{tab}-{field} input[type=number]")
    box.fill(str(value))
    box.press("Enter")


def find_completed_job(page, job_id: str, timeout: float = 60.0) -> None:
    """Go to Jobs, show only completed jobs, and open `job_id` there."""
    page.get_by_role("tab", name="Jobs", exact=True).click()
    page.locator("#jobs-status input").first.click()
    page.get_by_role("option", name="completed", exact=True).click()
    open_job(page, job_id, timeout=timeout)


def open_job(page, job_id: str, timeout: float = 60.0) -> None:
    """In the Jobs tab, click table rows (newest first) until the details show `job_id`, as a person would."""
    import time
    from playwright.sync_api import expect
    deadline = time.monotonic() + timeout
    while True:
        rows = page.locator("#jobs-table [data-testid^='cell-'][data-testid$='-1']")
        for i in range(min(rows.count(), 5)):
            page.locator(f"#jobs-table [data-testid=cell-{i}-1]").click()
            try:
                expect(page.locator("#jobs-details")).to_contain_text(job_id, timeout=2_000)
                return
            except AssertionError:
                pass
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} never showed up in the Jobs table")
        page.wait_for_timeout(1_000)


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while it is
# open, and pytest-asyncio tests collected after tests/studio (tests/backend) cannot start theirs under it.
@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()
