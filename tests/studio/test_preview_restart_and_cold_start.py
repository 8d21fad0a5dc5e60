"""In a real Chromium: the app in preview mode killed mid-job and started again on the same data finds the job
completed (the detached preview endpoint kept running it); the app in local mode against an endpoint still in
its cold start shows the cold-start status before the job runs."""
from __future__ import annotations

import json
import signal

import httpx
import pytest
from playwright.sync_api import expect

from tests.studio.conftest import VIEW, App, find_completed_job, set_advanced
from tests.support.procs import Proc, free_port, stop_detached_endpoint

pytestmark = pytest.mark.browser


def test_kill_the_app_mid_job_in_preview_mode_then_find_it_completed(browser, tmp_path):
    app = App(tmp_path)
    state_file = tmp_path / "data" / "preview-endpoint" / "endpoint.json"
    try:
        app.start()
        ctx = browser.new_context(viewport=VIEW)
        page = ctx.new_page()
        page.goto(app.url)
        expect(page.locator("#mode-banner")).to_contain_text("Preview mode")
        page.get_by_role("tab", name="Music", exact=True).click()
        page.locator("#music-tags textarea").fill("restart test, a long slow score")
        page.locator("#music-duration input[type=number]").fill("120")      # about 10 s in the preview engine
        page.locator("#music-duration input[type=number]").press("Enter")
        set_advanced(page, "music", "steps", 100)
        page.locator("#music-run").click()
        expect(page.locator("#music-status [data-kind=running]")).to_be_visible(timeout=60_000)
        job_id = page.locator("#music-status .job-id").inner_text().removeprefix("job ").strip()
        ctx.close()

        app.proc.popen.send_signal(signal.SIGKILL)          # no clean shutdown at all
        app.proc.popen.wait(10)
        app.stop()
        state = json.loads(state_file.read_text())
        health = httpx.get(f"{state['url']}/{state['endpoint_id']}/health", timeout=5).json()
        assert health["jobs"]["inProgress"] == 1, health    # the job outlived the app

        app.start()
        ctx = browser.new_context(viewport=VIEW)
        page = ctx.new_page()
        page.goto(app.url)
        find_completed_job(page, job_id, timeout=90)
        expect(page.locator("#jobs-details")).to_contain_text("Music · completed")
        assert json.loads(state_file.read_text())["pid"] == state["pid"]     # the same endpoint, reused
        ctx.close()
    finally:
        app.stop()
        stop_detached_endpoint(state_file)


def test_cold_start_is_shown_before_the_job_runs(browser, tmp_path):
    ep_port = free_port()
    app = App(tmp_path / "app", {"RUNPOD_API_BASE": f"http://127.0.0.1:{ep_port}/v2",
                                 "RUNPOD_ENDPOINT_ID": "cold"})
    (tmp_path / "app").mkdir()
    serve = None
    try:
        app.start()
        ctx = browser.new_context(viewport=VIEW)
        page = ctx.new_page()
        page.goto(app.url)
        expect(page.locator("#mode-banner")).to_contain_text("Local mode")
        page.get_by_role("tab", name="Portrait", exact=True).click()
        page.locator("#portrait-prompt textarea").fill("a sailor at dawn")
        # The endpoint starts only now, so its workers are still initializing when the job arrives.
        serve = Proc(["-m", "worker", "serve", "--preview", "--port", str(ep_port), "--endpoint-id", "cold",
                      "--cold-start", "6"], tmp_path / "serve.log")
        serve.wait_for_line("local endpoint ready", timeout=60)
        page.locator("#portrait-run").click()
        status = page.locator("#portrait-status")
        expect(status.locator("[data-kind=queued]")).to_contain_text("Cold start: 1 worker initializing",
                                                                      timeout=8_000)
        expect(status.locator("[data-kind=completed]")).to_be_visible(timeout=60_000)
        ctx.close()
    finally:
        app.stop()
        if serve:
            serve.stop()
