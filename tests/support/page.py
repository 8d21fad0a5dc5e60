"""Driving the studio's page in Chromium as a person would: open it, go to a tab, pick an option, upload a file,
wait for a job, save a voice. Shared by the browser tests (tests/studio, tests/scenes_studio) and
docs/screenshots.py, so a change to the page is followed in one place."""
from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
JOB_MS = 120_000          # one preview job, on a loaded 2-core machine


def open_page(browser: Browser, url: str, viewport: dict, timeout: float = 60_000, **ctx_args) -> Page:
    """A new browser context and page on the studio, once it has rendered (preview mode). Close it with
    `page.context.close()`."""
    page = browser.new_context(viewport=viewport, **ctx_args).new_page()
    page.goto(url)
    # A loaded shared machine can take a while to render the page the first time.
    expect(page.locator("#mode-banner")).to_contain_text("Preview mode", timeout=timeout)
    return page


def tab(page: Page, name: str, sub: str | None = None, timeout: float = 30_000) -> None:
    """Open a tab (and a sub-tab); on a narrow screen Gradio puts the tabs that do not fit under "More tabs"."""
    for label in (name, sub) if sub else (name,):
        _open_tab(page, label, timeout)
    page.wait_for_timeout(300)


def _open_tab(page: Page, label: str, timeout: float) -> None:
    direct = page.get_by_role("tab", name=label, exact=True)
    more = page.get_by_role("button", name="More tabs")
    item = page.locator(".overflow-dropdown button",
                        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).filter(visible=True)
    deadline = time.monotonic() + timeout / 1000
    while True:              # the tab bar may still be rendering (a fresh page, a reload)
        if direct.count() and direct.first.is_visible():
            direct.first.click()
            return
        for i in range(more.count()):       # each tab bar (and sub-tab bar) has its own menu
            if not more.nth(i).is_visible():
                continue
            more.nth(i).click()
            try:
                item.first.wait_for(state="visible", timeout=2_000)
            except PlaywrightTimeout:
                more.nth(i).click()          # not in this menu: close it again
                continue
            item.first.click()
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no tab {label!r}")
        page.wait_for_timeout(250)


def pick(page: Page, elem_id: str, option: str) -> None:
    """Choose `option` in the dropdown #elem_id."""
    page.locator(f"#{elem_id} input").first.click()
    page.get_by_role("option", name=option, exact=True).click()


def upload(page: Page, elem_id: str, path: Path | str, timeout: float = 20_000) -> None:
    """Put a file into the image or audio field #elem_id (clearing what is there) and wait until the field shows it."""
    clear = page.locator(f"#{elem_id} button[aria-label=Clear]")
    if clear.count():
        clear.first.click()
        expect(clear).to_have_count(0, timeout=timeout)
    page.locator(f"#{elem_id} input[type=file]").first.set_input_files(str(path))
    shown = ", ".join(f"#{elem_id} {s}" for s in ("button[aria-label=Clear]", "img", "audio",
                                                  "[data-testid=waveform-controls]"))
    expect(page.locator(shown).first).to_be_attached(timeout=timeout)


def finished(page: Page, status_id: str, timeout: float = JOB_MS) -> None:
    """Wait until the job status #status_id shows the job completed."""
    expect(page.locator(f"#{status_id} [data-kind=completed]")).to_be_visible(timeout=timeout)


def save_voice(page: Page, reference: Path | str, name: str,
               transcript: str = "Hello there. My name is Captain Mara.") -> None:
    """Save a voice in the Voice tab's library from a reference clip and what it says."""
    tab(page, "Voice")
    upload(page, "voice-reference_audio", reference)
    page.locator("#voice-reference_text textarea").fill(transcript)
    page.locator("#voice-name textarea, #voice-name input").first.fill(name)
    page.locator("#voice-save").click()
    expect(page.locator("#voice-save-status")).to_contain_text(f"Saved voice “{name}”", timeout=20_000)
