"""Shared fixtures: the studio started as a real process (`python app.py`), Chromium via Playwright, sample media."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from tests.support.media import drawn_face, spoken_reference
from tests.support.page import CHROMIUM, CHROMIUM_ARGS
from tests.support.procs import REPO
from tests.support.studio import App  # noqa: F401  (the tests import it from here)

ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """A spoken reference clip (espeak-ng when installed, else a voiced tone), a too-long clip, a face, a tiny image."""
    d = tmp_path_factory.mktemp("media")
    ref = spoken_reference(d / "reference.wav")
    long_clip = d / "three-minutes.wav"
    sf.write(long_clip, np.zeros(180 * 8000, dtype=np.float32), 8000)
    not_audio = d / "notes.wav"
    not_audio.write_text("these are notes, not a recording")
    face = drawn_face(d / "face.png")
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
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
