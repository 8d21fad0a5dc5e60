"""The studio against a local endpoint that stands in for RunPod (RUNPOD_API_BASE + a fake RUNPOD_API_KEY):
the named API via gradio_client, the MCP tools, cancelling, restarting mid-job, and the key never leaking."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect

from backend.mediatypes import sniff
from tests.studio.conftest import VIEW, App, find_completed_job, set_advanced
from tests.support.procs import Proc, free_port, wait_http

# Made per run, shaped like a real RunPod key so that a leak would look like one; no key is committed.
FAKE_KEY = "rpa_" + secrets.token_hex(16)
SLOW_STEPS = 100          # with --step-delay 0.1: about 10 s of sampling, long enough to cancel or restart


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """A preview engine with slow steps, and the local endpoint (requiring FAKE_KEY) in front of it."""
    d = tmp_path_factory.mktemp("endpoint")
    engine_port, ep_port = free_port(), free_port()
    engine = Proc(["-m", "worker.preview", "--port", str(engine_port), "--data", str(d / "engine"),
                   "--models-from-manifest", "--step-delay", "0.1"], d / "engine.log")
    serve = None
    try:
        wait_http(f"http://127.0.0.1:{engine_port}/system_stats", timeout=60, proc=engine.popen)
        serve = Proc(["-m", "worker", "serve", "--port", str(ep_port), "--endpoint-id", "studio-test",
                      "--api-key", FAKE_KEY, "--concurrency", "2",
                      "--comfyui-url", f"http://127.0.0.1:{engine_port}"], d / "serve.log")
        serve.wait_for_line("local endpoint ready", timeout=60)
        yield f"http://127.0.0.1:{ep_port}/v2"
    finally:
        if serve:
            serve.stop()
        engine.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, endpoint):
    a = App(tmp_path_factory.mktemp("studio-local"),
            {"RUNPOD_API_KEY": FAKE_KEY, "RUNPOD_API_BASE": endpoint, "RUNPOD_ENDPOINT_ID": "studio-test",
             "STUDIO_MCP": "1"}).start()
    yield a
    a.stop()


@pytest.fixture
def page(browser, app) -> Page:
    ctx = browser.new_context(viewport=VIEW)
    pg = ctx.new_page()
    bodies: list[str] = []

    def keep(resp):
        try:
            bodies.append(resp.text())
        except Exception:  # binary bodies and aborted streams have no text
            pass

    pg.on("response", keep)
    pg.bodies = bodies  # type: ignore[attr-defined]
    pg.goto(app.url)
    expect(pg.locator("#mode-banner")).to_contain_text("Local mode")
    yield pg
    ctx.close()


def jobs_row(page: Page, status: str):
    page.get_by_role("tab", name="Jobs", exact=True).click()
    page.locator("#jobs-refresh").click()
    return expect(page.locator("#jobs-table")).to_contain_text(status, timeout=30_000)


def test_each_named_endpoint_returns_a_file_of_its_type(app, media):
    from gradio_client import Client, handle_file
    c = Client(app.url, verbose=False)
    calls = {
        "portrait": ({"prompt": "a lighthouse keeper", "steps": 2, "width": 256, "height": 256}, "image"),
        "tts": ({"text": "Keep the lantern low.", "reference_audio": handle_file(str(media["reference"])),
                 "reference_text": "Hello there."}, "audio"),
        "music": ({"tags": "ambient, piano", "duration": 5, "steps": 10}, "audio"),
        "lipsync": ({"image": handle_file(str(media["face"])), "audio": handle_file(str(media["reference"])),
                     "steps": 5, "max_duration": 2}, "video"),
        "animate": ({"image": handle_file(str(media["face"])), "prompt": "wind", "frames": 8}, "video"),
        "talking_head": ({"prompt": "a sailor", "reference_audio": handle_file(str(media["reference"])),
                          "text": "Ahoy.", "reference_text": "Hello there."}, "video"),
    }
    for name, (kwargs, kind_wanted) in calls.items():
        out = c.predict(api_name=f"/{name}", **kwargs)
        path = out["video"] if isinstance(out, dict) else out
        with open(path, "rb") as f:
            kind = sniff(f.read(32))
        assert kind is not None and kind.kind == kind_wanted, (name, path, kind)


def test_api_refuses_bad_input_naming_the_field(app):
    from gradio_client import Client
    c = Client(app.url, verbose=False)
    with pytest.raises(Exception, match=r"Width \(width\): 1004 is not a multiple of 8"):
        c.predict(prompt="x", width=1004, api_name="/portrait")


def test_mcp_lists_the_tools_and_calls_one(app):
    # Run in a thread of its own: the session-wide sync Playwright already owns this thread's event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _mcp_session(app.url)).result(timeout=120)


async def _mcp_session(url: str) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client
    async with streamablehttp_client(f"{url}/gradio_api/mcp/") as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert set(tools) == {"portrait", "tts", "lipsync", "animate", "music", "talking_head", "jobs",
                                  "export_studio", "scene_render", "cast", "scene_pages", "scene_export",
                          "comment", "comments", "trash", "restore"}
            assert "needs_changes" in tools["jobs"].description
            assert "reference_audio" in tools["tts"].inputSchema["properties"]
            assert "Text to speak" in json.dumps(tools["tts"].inputSchema)
            result = await session.call_tool("music", {"tags": "calm harp", "duration": 5, "steps": 10})
            assert not result.isError, result
            text = json.dumps([c.model_dump() for c in result.content])
            assert ".mp3" in text


def test_cancel_a_running_job_and_see_it_cancelled_in_jobs(page: Page, app):
    page.get_by_role("tab", name="Portrait", exact=True).click()
    page.locator("#portrait-prompt textarea").fill("a slow portrait to cancel")
    set_advanced(page, "portrait", "steps", SLOW_STEPS)
    page.locator("#portrait-run").click()
    expect(page.locator("#portrait-status [data-kind=running]")).to_be_visible(timeout=60_000)
    expect(page.locator("#portrait-status [role=progressbar]")).to_be_attached()
    page.locator("#portrait-cancel").click()
    expect(page.locator("#portrait-status [data-kind=cancelled]")).to_be_visible(timeout=30_000)
    jobs_row(page, "cancelled")
    assert FAKE_KEY not in page.content()


def test_restart_mid_job_then_find_it_completed_in_jobs(browser, app):
    ctx = browser.new_context(viewport=VIEW)
    page = ctx.new_page()
    page.goto(app.url)
    page.get_by_role("tab", name="Music", exact=True).click()
    page.locator("#music-tags textarea").fill("restart test, slow strings")
    set_advanced(page, "music", "steps", SLOW_STEPS)
    page.locator("#music-run").click()
    expect(page.locator("#music-status [data-kind=running]")).to_be_visible(timeout=60_000)
    job_id = page.locator("#music-status .job-id").inner_text().removeprefix("job ").strip()
    ctx.close()

    app.stop()       # the studio goes away while the endpoint keeps running the job
    app.start()
    ctx = browser.new_context(viewport=VIEW)
    page = ctx.new_page()
    page.goto(app.url)
    # The table refreshes itself every few seconds; the resumed job turns up among the completed ones.
    find_completed_job(page, job_id, timeout=60)
    ctx.close()


def test_the_key_never_reaches_the_browser_the_api_or_the_logs(page: Page, app):
    for path in ("/", "/config", "/gradio_api/info", "/gradio_api/mcp/schema"):
        body = httpx.get(app.url + path, timeout=30).text
        assert FAKE_KEY not in body, path
    page.get_by_role("tab", name="Endpoint", exact=True).click()
    page.locator("#endpoint-check").click()
    expect(page.locator("#endpoint-readiness")).to_contain_text("Portrait", timeout=60_000)
    page.get_by_role("tab", name="Jobs", exact=True).click()
    page.locator("#jobs-refresh").click()
    page.wait_for_timeout(1000)
    assert FAKE_KEY not in page.content()
    assert page.bodies and not [b for b in page.bodies if FAKE_KEY in b]  # type: ignore[attr-defined]
    assert FAKE_KEY not in app.log()
