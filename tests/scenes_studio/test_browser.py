"""Scenes in a real Chromium against `python app.py` in preview mode: two cast members, a three-shot scene with two
characters (both in its first panel, each conditioning their half of it), make what's missing, render, and the
video playing in the page."""
from __future__ import annotations

import json
import shutil
import subprocess
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.studio.conftest import VIEW, artifacts, browser, media  # noqa: F401  (fixtures)
from tests.support.page import PHONE, open_page, pick, save_voice, tab
from tests.support.studio import running_app

pytestmark = pytest.mark.browser
JOB_TIMEOUT = 120_000

SCRIPT = """Title: Night Mail

EXT. HARBOUR - NIGHT

Fog rolls over the harbour. Rosa and Teo wait on the pier.

ROSA
The lights are out. We go now.

TEO
[[talking head]]
Then we row in the dark.

===

A small rowing boat slides into the fog. [[animate]]
"""


def _panel_job(app, words: str) -> dict:
    """The inputs of the panel-image job whose prompt holds `words`."""
    db = sqlite3.connect(app.root / "data" / "studio.sqlite3")
    rows = [json.loads(r[0]) for r in db.execute("SELECT inputs FROM jobs WHERE action='portrait'")]
    found = [r for r in rows if words in r.get("prompt", "")]
    assert len(found) == 1, [r.get("prompt") for r in rows]
    return found[0]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("scenes-preview"), extra_env={"STUDIO_MCP": "1"}) as a:
        yield a


@pytest.mark.timeout(1200)   # a dozen preview jobs and a render; minutes on a loaded 2-core machine
def test_two_characters_one_scene_made_rendered_and_played(browser, app, media, artifacts):  # noqa: F811
    page = open_page(browser, app.url, VIEW)
    save_voice(page, media["reference"], "Low voice")
    save_voice(page, media["reference"], "High voice")

    # Cast member 1 from the Voice tab's hand-off ("Add to cast"), with an uploaded portrait.
    page.locator("#voice-add-cast").click()
    expect(page.get_by_role("tab", name="Cast", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#cast-voice input")).to_have_value("High voice")
    page.locator("#cast-name textarea, #cast-name input").first.fill("Rosa")
    page.locator("#cast-look textarea").fill("silver hair, red oilskin coat")
    page.locator("#cast-portrait input[type=file]").set_input_files(str(media["face"]))
    expect(page.locator("#cast-portrait img")).to_be_visible(timeout=15_000)
    page.locator("#cast-save").click()
    expect(page.locator("#cast-status")).to_contain_text("Saved “Rosa”", timeout=15_000)

    # A second name typed over Rosa does not rename her on one click: the first Save only asks.
    page.locator("#cast-name textarea, #cast-name input").first.fill("Teo")
    page.locator("#cast-save").click()
    expect(page.locator("#cast-status")).to_contain_text("Nothing saved yet", timeout=15_000)
    expect(page.locator("#cast-cards .cast-card")).to_have_count(1)
    expect(page.locator("#cast-cards .cast-card[data-name=Rosa]")).to_have_count(1)

    # Cast member 2 typed in by hand, without a portrait (the scene makes one from the look).
    pick(page, "cast-pick", "+ New character")
    name = page.locator("#cast-name textarea, #cast-name input").first
    expect(name).to_have_value("")             # the form is cleared for the new character before we type
    name.fill("Teo")
    page.locator("#cast-look textarea").fill("young mechanic, oily cap")
    pick(page, "cast-voice", "Low voice")
    page.locator("#cast-save").click()
    expect(page.locator("#cast-status")).to_contain_text("Saved “Teo”", timeout=15_000)
    expect(page.locator("#cast-cards .cast-card")).to_have_count(2)
    page.screenshot(path=str(artifacts / "cast-1440.png"))

    # A cue that names nobody in the cast is an error with its line number, at the script box.
    tab(page, "Scenes")
    page.locator("#scene-title input, #scene-title textarea").first.fill("Night Mail")
    box = page.locator("#scene-script textarea")
    box.fill(SCRIPT.replace("TEO\n", "TEDDY\n"))
    box.blur()
    expect(page.locator("#scene-errors")).to_contain_text("line 10: TEDDY is not in the cast; the cast is: Rosa, Teo",
                                                          timeout=15_000)
    box.fill(SCRIPT)
    box.blur()
    expect(page.locator("#scene-errors")).not_to_contain_text("line", timeout=15_000)
    cards = page.locator("#scene-board .shot")
    expect(cards).to_have_count(3)
    expect(cards.nth(0)).to_contain_text("Rosa")
    # The first panel names both: each stands in their own half of the picture (issue 22); the last names nobody.
    expect(cards.nth(0).locator(".in-panel")).to_have_text("In the panel: Rosa (left), Teo (right)")
    expect(cards.nth(2).locator(".in-panel")).to_have_count(0)
    expect(cards.nth(1)).to_contain_text("Talking head")
    expect(cards.nth(1)).to_contain_text("Teo")
    expect(page.locator("#scene-board .shot[data-status=missing]")).to_have_count(3)

    page.locator("#scene-make").click()
    expect(page.locator("#scene-board .shot[data-status=making]").first).to_be_visible(timeout=JOB_TIMEOUT)
    expect(page.locator("#scene-status [data-kind=completed]")).to_contain_text("Everything is made",
                                                                              timeout=JOB_TIMEOUT)
    expect(page.locator("#scene-board .shot[data-status=ready]")).to_have_count(3)
    expect(page.locator("#scene-board .shot img")).to_have_count(3)
    expect(cards.nth(0).locator(".in-panel")).to_have_text("In the panel: Rosa (left), Teo (right)")
    # Its picture was made with both references: Rosa's uploaded portrait and the one made for Teo.
    panel = _panel_job(app, "Rosa and Teo")
    assert [c["region"] for c in panel["characters"]] == ["left", "right"]
    assert all(Path(c["image"]).is_file() for c in panel["characters"])
    page.screenshot(path=str(artifacts / "scenes-made-1440.png"))

    # All made: a second press sends nothing (the Jobs history does not grow).
    tab(page, "Jobs")
    page.locator("#jobs-refresh").click()
    rows = page.locator("#jobs-table [data-testid^='cell-'][data-testid$='-1']")    # one "job" cell per row
    expect(rows.first).to_be_visible(timeout=15_000)
    # Exactly what the scene needs: 2 panel images, Teo's portrait, 2 lines of speech, a talking head, an animation.
    assert rows.count() == 7
    before = rows.count()
    tab(page, "Scenes")
    page.locator("#scene-make").click()
    expect(page.locator("#scene-status [data-kind=completed]")).to_contain_text("Everything is made",
                                                                              timeout=30_000)
    tab(page, "Jobs")
    page.locator("#jobs-refresh").click()
    page.wait_for_timeout(1500)
    assert rows.count() == before

    tab(page, "Scenes")
    page.locator("#scene-render").click()
    expect(page.locator("#scene-status progress")).to_be_attached(timeout=30_000)
    expect(page.locator("#scene-status [data-kind=completed]")).to_contain_text("Rendered", timeout=JOB_TIMEOUT)
    video = page.locator("#scene-video video")
    expect(video).to_be_visible(timeout=15_000)
    expect(page.locator("#scene-subs")).to_contain_text(".srt")
    # It plays in the page: the browser decodes it and time moves on.
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => { const v = document.querySelector('#scene-video video'); "
                           "return v && v.currentTime > 0.5 && v.duration > 3; }", timeout=30_000)
    assert video.evaluate("v => v.videoWidth") == 1280
    page.screenshot(path=str(artifacts / "scenes-1440.png"))
    # A motion comic (the default) through the scene's two pages (=== breaks the page): a chapter per page.
    if shutil.which("ffprobe"):
        db = sqlite3.connect(app.root / "data" / "studio.sqlite3")
        mp4 = json.loads(db.execute("SELECT render FROM scenes WHERE render IS NOT NULL "
                                    "ORDER BY updated_at DESC").fetchone()[0])["mp4"]
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_streams", "-of", "json", mp4],
                               capture_output=True, text=True, check=True)
        info = json.loads(probe.stdout)
        pages = [c["tags"]["title"] for c in info["chapters"] if c["tags"]["title"].startswith("Page")]
        assert pages == ["Page 1", "Page 2"], info["chapters"]
        assert any(st.get("codec_name") == "mov_text" for st in info["streams"])   # soft subtitles players show

    # The render is in the Jobs history like any other output, with what made it.
    tab(page, "Jobs")
    page.locator("#jobs-refresh").click()
    expect(page.locator("#jobs-table")).to_contain_text("Scene", timeout=15_000)     # named as the tabs name it
    page.locator("#jobs-table [data-testid=cell-0-1]").click()
    expect(page.locator("#jobs-details")).to_contain_text("Night Mail", timeout=15_000)
    expect(page.locator("#jobs-video video")).to_be_visible(timeout=15_000)

    # Phone width: the same tabs still fit and read.
    phone = open_page(browser, app.url, PHONE)
    tab(phone, "Scenes")
    expect(phone.locator("#scene-board .shot[data-status=ready]")).to_have_count(3, timeout=15_000)
    phone.screenshot(path=str(artifacts / "scenes-390.png"))
    tab(phone, "Cast")
    expect(phone.locator("#cast-cards .cast-card")).to_have_count(2, timeout=15_000)
    # Teo had no portrait; the one the scene made is now his in the cast, for every later scene.
    expect(phone.locator("#cast-cards .cast-card[data-name=Teo] img")).to_have_count(1, timeout=15_000)
    phone.screenshot(path=str(artifacts / "cast-390.png"))


@pytest.mark.timeout(900)
def test_scene_render_and_cast_through_the_named_api_and_mcp(app):
    """After the browser test: the same cast and a made scene, so scene_render only renders."""
    import asyncio
    import concurrent.futures
    import json

    import av
    from gradio_client import Client

    c = Client(app.url, verbose=False)
    cast = c.predict(api_name="/cast")
    assert [(m["name"], m["voice"]) for m in cast] == [("Rosa", "High voice"), ("Teo", "Low voice")]
    with pytest.raises(Exception, match="script: line 10: TEDDY is not in the cast"):
        c.predict(script=SCRIPT.replace("TEO\n", "TEDDY\n"), api_name="/scene_render")
    with pytest.raises(Exception, match="fps: 12 is not one of 24, 25, 30"):
        c.predict(script=SCRIPT, fps=12, api_name="/scene_render")
    with pytest.raises(Exception, match="mode: 'sideways' is not one of motion_comic, full_frame"):
        c.predict(script=SCRIPT, mode="sideways", api_name="/scene_render")
    out = c.predict(script=SCRIPT, title="Night Mail", api_name="/scene_render")
    mp4 = out[0]["video"] if isinstance(out[0], dict) else out[0]
    with av.open(mp4) as container:
        assert container.streams.video[0].width == 1280 and container.streams.audio
    assert open(out[1], encoding="utf-8").read().count("-->") == 2

    async def tools() -> dict:
        from mcp import ClientSession
        from mcp.client.streamable_http import streamablehttp_client
        async with streamablehttp_client(f"{app.url}/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return {t.name: t for t in (await session.list_tools()).tools}

    with concurrent.futures.ThreadPoolExecutor(1) as pool:     # its own loop: Playwright owns this thread's
        found = pool.submit(asyncio.run, tools()).result(timeout=120)
    props = found["scene_render"].inputSchema["properties"]
    assert set(props) == {"script", "aspect", "resolution", "fps", "burn_subtitles", "talking_head", "style",
                          "music_tags", "title", "mode"}
    schema = json.dumps(found["scene_render"].inputSchema)
    for words in ("The scene in Fountain", "Allowed: 720 or 1080", "Allowed: 24, 25 or 30", "full frame",
                  "full_frame", "motion_comic"):
        assert words in schema
    assert "cast" in found
