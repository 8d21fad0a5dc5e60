"""RunPod mode without a bucket: a music length and format whose output could not come back is refused at the
field, in the page, before anything is sent (issue 10.1); no job appears in Jobs."""
from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.studio.conftest import App


@pytest.fixture(scope="module")
def runpod_app(tmp_path_factory):
    # RunPod mode with an endpoint that is never reached: the refusal must come before any request.
    a = App(tmp_path_factory.mktemp("studio-runpod"),
            {"RUNPOD_API_KEY": "rpa_never_sent_anywhere", "RUNPOD_ENDPOINT_ID": "abc123"})
    try:
        yield a.start()
    finally:
        a.stop()


def test_a_four_minute_wav_is_refused_before_sending(browser, runpod_app, artifacts):
    viewport = {"width": 1440, "height": 900}
    ctx = browser.new_context(viewport=viewport)
    page: Page = ctx.new_page()
    try:
        page.goto(runpod_app.url)
        page.get_by_role("tab", name=re.compile("Music")).first.click()
        page.locator("#music-tags textarea, #music-tags input").first.fill("slow piano, rain")
        box = page.locator("#music-duration input[type=number]")
        box.fill("240")
        box.press("Enter")
        page.locator("#music-format input").first.click()
        page.get_by_role("option", name="wav", exact=True).click()
        page.locator("#music-run").click()
        expect(page.get_by_text(re.compile("more than the 7 MB RunPod can return without a bucket"))
               .first).to_be_visible(timeout=30_000)
        expect(page.get_by_text(re.compile("STUDIO_BUCKET_")).first).to_be_visible()
        page.screenshot(path=str(artifacts / f"music-too-big-{viewport['width']}.png"))
        assert "Sending the job" not in page.content()
    finally:
        ctx.close()
    db = sqlite3.connect(runpod_app.root / "data" / "studio.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0      # nothing in Jobs
    finally:
        db.close()
