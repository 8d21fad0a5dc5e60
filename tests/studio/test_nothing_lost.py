"""Issue 23 in a real Chromium against `python app.py` (preview mode), one studio for the module, seeded with real
rows (long errors, a scene render made by three jobs, a cast of two):

- desktop 1440×900: Scenes — the storyboard wraps and names both speakers of a shot; a cue outside the cast
  leaves a draft storyboard with the error on its card, and adding the character in Cast clears it without
  editing the script; the next step is the one primary button; Delete asks once, goes to the trash and Undo
  brings it back; the trash and restore through the named API; "+ New scene" starts from the cast's names and
  leaves no stray scene; Portrait's "Add to cast" with nothing chosen stays and says so.
- phone 390×844: Jobs — readable columns with their headers over their cells, the page 390 wide, the table
  scrolling inside its frame; a scene job's details in the page's words with downloads named by the scene;
  Delete outputs asks once, and the Trash restores them.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from gradio_client import Client
from PIL import Image
from playwright.sync_api import Page, expect

from tests.support.page import DESKTOP, PHONE, finished, open_page, pick, tab
from tests.support.studio import running_app

pytestmark = pytest.mark.browser

LONG_ERROR = ("SONIC_PreData: no face was found in the portrait 'captain_mara_harbour_night_closeup_version_two_"
              "final.png'; use a front-facing head-and-shoulders picture")
SCRIPT = """Title: Harbour

EXT. HARBOUR - NIGHT

Fog rolls over the harbour. A lantern swings on the pier.

MARA
The lights are out. We go now.

BEN
Then we row in the dark, before the harbour master wakes and counts the boats again.

A small rowing boat slides into the fog.

MARA
Quiet now.

The oars dip without a sound.

Lanterns go out one by one along the quay.

A gull lifts off a bollard.

The harbour wall slides past, black and wet.

Far out, a foghorn answers.
"""


def seed(data: Path) -> None:
    """A studio that has been used: jobs (one failed with a long error), a scene render, a cast, a scene."""
    from backend.cast import Cast
    from backend.history import History
    from backend.library import Library
    from backend.records import JobRecord
    from backend.scenes.store import SceneStore

    lib = Library(data / "library")
    hist = History(data / "studio.sqlite3")
    now = time.time()
    out = lib.root / "outputs"
    out.mkdir(parents=True, exist_ok=True)
    img = out / "9f2c4e1ab7d03e55-portrait1.png"
    Image.new("RGB", (256, 320), (40, 90, 160)).save(img)
    mp4 = out / "5d0e1c9a77f2b431-scene-render1.mp4"
    mp4.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 64)
    hist.save(JobRecord(id="portrait1", endpoint="local", action="portrait", inputs={"prompt": "Mara, red coat"},
                        status="completed", created_at=now - 600, delay_ms=1200, execution_ms=5400,
                        outputs=[{"type": "image", "path": str(img), "mime": "image/png"}]))
    hist.save(JobRecord(id="lipsync1", endpoint="local", action="lipsync", inputs={"prompt": "x"}, status="failed",
                        created_at=now - 500, delay_ms=123456, execution_ms=9876543,
                        error={"code": "validation_failed", "message": LONG_ERROR}))
    hist.save(JobRecord(id="tts1", endpoint="local", action="tts", inputs={"text": "The lights are out."},
                        status="completed", created_at=now - 400, delay_ms=800, execution_ms=2100))
    hist.save(JobRecord(id="scene-1", endpoint="studio", action="scene", status="completed", created_at=now - 60,
                        inputs={"scene": "Harbour", "script": SCRIPT, "aspect": "16:9", "resolution": 720,
                                "fps": 24, "burn_subtitles": False, "talking_head": "full", "shots": 7,
                                "made_by": ["portrait1", "tts1"], "media": [str(img)]},
                        outputs=[{"type": "video", "path": str(mp4), "mime": "video/mp4"}]))
    import numpy as np
    import soundfile as sf

    from backend.voices import VoiceLibrary
    wav = data / "ref.wav"
    sf.write(wav, 0.1 * np.sin(np.arange(16000 * 6) / 9), 16000)
    VoiceLibrary(hist, lib).save("Harbour master", str(wav), "The lights are out along the quay tonight.")
    cast = Cast(data / "studio.sqlite3", lib)
    cast.save("Mara", look="silver hair, red oilskin coat, scar over the left eye")
    cast.save("Ben", look="a fisherman in a grey jumper")
    scenes = SceneStore(data / "studio.sqlite3")
    scenes.new("Harbour", SCRIPT, settings={"style": "Graphic novel ink"})
    for x in (hist, cast, scenes):
        x.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("nothing-lost")
    seed(root / "data")
    with running_app(root) as a:
        yield a


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def no_error_toast(page: Page) -> None:
    shown = page.locator(".toast-body").all_inner_texts()
    assert not [t for t in shown if "Error" in t], shown


def board_cards(page: Page) -> list[dict]:
    return page.evaluate("""() => { const b = document.querySelector('#scene-board .board').getBoundingClientRect();
        return [...document.querySelectorAll('#scene-board .shot')].map(c => { const r = c.getBoundingClientRect();
          return {left: r.left, right: r.right, boardRight: b.right, text: c.innerText,
                  status: c.dataset.status}; }); }""")


def script_box(page: Page):
    return page.locator("#scene-script textarea")


def test_scenes_cast_and_trash_on_desktop(browser, app, artifacts):
    page = open_page(browser, app.url, DESKTOP)
    try:
        # Portrait → Add to cast with nothing chosen: the page stays and says so there.
        page.locator("#portrait-add-cast").click()
        expect(page.locator("#portrait-use-note")).to_contain_text("No portrait chosen yet")
        expect(page.get_by_role("tab", name="Portrait", exact=True)).to_have_attribute("aria-selected", "true")
        # A portrait's result is shown whole, inside its frame and the window, without scrolling.
        page.locator("#portrait-prompt textarea").fill("an old harbour master, front-facing, head and shoulders")
        page.locator("#portrait-run").click()
        finished(page, "portrait-status")
        img = page.locator("#portrait-gallery .thumbnail-item img").first
        expect(img).to_be_visible()
        page.wait_for_function("() => { const im = document.querySelector('#portrait-gallery .thumbnail-item img');"
                               " return im && im.complete && im.naturalWidth > 0; }")
        page.evaluate("() => window.scrollTo(0, 0)")
        fit = page.evaluate("""() => {
            const im = document.querySelector('#portrait-gallery .thumbnail-item img');
            const frame = document.querySelector('#portrait-gallery .grid-wrap').getBoundingClientRect();
            const r = im.getBoundingClientRect();
            // The drawn picture inside the <img> box (object-fit: contain keeps its whole aspect).
            const k = Math.min(r.width / im.naturalWidth, r.height / im.naturalHeight);
            const w = im.naturalWidth * k, h = im.naturalHeight * k;
            const top = r.top + (r.height - h) / 2, bottom = top + h;
            return {top, bottom, frameTop: frame.top, frameBottom: frame.bottom, win: window.innerHeight,
                    contain: getComputedStyle(im).objectFit};
        }""")
        assert fit["contain"] == "contain"
        assert fit["frameTop"] - 1 <= fit["top"] and fit["bottom"] <= fit["frameBottom"] + 1, fit
        assert fit["bottom"] <= fit["win"], fit

        # A voice: deleting asks once, goes to the trash, Undo brings it back.
        tab(page, "Voice")
        pick(page, "voice-library", "Harbour master")
        page.locator("#voice-delete").click()
        expect(page.locator("#voice-save-status")).to_contain_text("Move Voice “Harbour master” to the trash?")
        page.locator("#voice-delete").click()
        expect(page.locator("#voice-save-status")).to_contain_text("Voice “Harbour master” moved to the trash")
        page.locator("#voice-undo").click()
        expect(page.locator("#voice-save-status")).to_contain_text("Voice “Harbour master” is back")
        expect(page.locator("#voice-library input").first).to_have_value("Harbour master")

        tab(page, "Scenes")
        expect(page.locator("#scene-board .shot")).to_have_count(7, timeout=20_000)
        cards = board_cards(page)
        assert all(c["right"] <= c["boardRight"] + 1 for c in cards), "a card behind a sideways scroll"
        assert "Mara" in cards[0]["text"] and "Ben" in cards[0]["text"], cards[0]["text"]
        # Nothing made yet: making is the next step.
        assert "primary" in page.locator("#scene-make").get_attribute("class")
        assert "primary" not in page.locator("#scene-render").get_attribute("class")
        shot(page, artifacts, "scenes-desktop")

        # A cue outside the cast: the error is listed, the storyboard stays with the error on its card.
        script_box(page).fill(SCRIPT + "\nTEO\nWait for me!\n")
        page.locator("#scene-save").click()
        expect(page.locator("#scene-errors")).to_contain_text("TEO is not in the cast")
        expect(page.locator("#scene-board .shot[data-status=error]")).to_contain_text("TEO is not in the cast")
        assert len(board_cards(page)) == 7
        # Teo joins the cast; back on Scenes the script is checked again without an edit.
        tab(page, "Cast")
        page.locator("#cast-name input, #cast-name textarea").first.fill("Teo")
        page.locator("#cast-look textarea").fill("a boy in a yellow sou'wester")
        page.locator("#cast-save").click()
        expect(page.locator("#cast-status")).to_contain_text("Saved “Teo”")
        expect(page.locator("#cast-lib-portrait img")).to_have_count(2)      # earlier portraits, as thumbnails
        tab(page, "Scenes")
        expect(page.locator("#scene-errors")).not_to_contain_text("not in the cast", timeout=15_000)
        expect(page.locator("#scene-board .shot[data-status=error]")).to_have_count(0)
        expect(page.locator("#scene-board .shot").last).to_contain_text("Wait for me!")

        # Delete asks once, then moves the scene to the trash and says so, with Undo.
        page.locator("#scene-delete").click()
        expect(page.locator("#scene-status")).to_contain_text("Move Scene “Harbour” to the trash?")
        page.locator("#scene-delete").click()
        expect(page.locator("#scene-status")).to_contain_text("Scene “Harbour” moved to the trash")
        expect(page.locator("#scene-title input, #scene-title textarea").first).not_to_have_value("Harbour")
        page.locator("#scene-undo").click()
        expect(page.locator("#scene-status")).to_contain_text("Scene “Harbour” is back")
        expect(page.locator("#scene-title input, #scene-title textarea").first).to_have_value("Harbour")

        # The named API: the trash lists what was deleted, restore brings it back.
        page.locator("#scene-delete").click()
        expect(page.locator("#scene-status")).to_contain_text("to the trash?")
        page.locator("#scene-delete").click()
        expect(page.locator("#scene-status")).to_contain_text("moved to the trash")
        client = Client(app.url, verbose=False)
        items = client.predict(api_name="/trash")
        assert [(i["kind"], i["name"]) for i in items] == [("scene", "Harbour")]
        assert client.predict(items[0]["id"], api_name="/restore") == "Scene “Harbour” is back."
        assert client.predict(api_name="/trash") == []
        with pytest.raises(Exception, match="not in the trash"):
            client.predict("0123456789ab", api_name="/restore")

        # "+ New scene": a script with the cast's names, no errors; leaving it untouched leaves no stray scene.
        pick(page, "scene-pick", "+ New scene")
        expect(script_box(page)).to_have_value(re.compile(r"\nBEN\n[^\n]+\n\nMARA\n"))   # the cast: Ben, Mara, Teo
        expect(page.locator("#scene-errors")).to_have_text("")
        expect(page.locator("#scene-board .shot")).to_have_count(3)      # two panels and a talking head
        pick(page, "scene-pick", "Harbour")
        expect(page.locator("#scene-title input, #scene-title textarea").first).to_have_value("Harbour")
        page.locator("#scene-pick input").first.click()
        expect(page.get_by_role("option", name="Harbour", exact=True)).to_be_visible()
        assert [o for o in page.get_by_role("option").all_inner_texts() if "Untitled" in o] == []
        page.keyboard.press("Escape")
        no_error_toast(page)

        # A cast member: Remove asks once, then goes to the trash; Undo brings them back as they were.
        tab(page, "Cast")
        pick(page, "cast-pick", "Teo")
        expect(page.locator("#cast-look textarea")).to_have_value("a boy in a yellow sou'wester")
        page.locator("#cast-delete").click()
        expect(page.locator("#cast-status")).to_contain_text("Move Cast member “Teo” to the trash?")
        page.locator("#cast-delete").click()
        expect(page.locator("#cast-status")).to_contain_text("Cast member “Teo” moved to the trash")
        expect(page.locator("#cast-cards")).not_to_contain_text("Teo")
        page.locator("#cast-undo").click()
        expect(page.locator("#cast-status")).to_contain_text("Cast member “Teo” is back")
        expect(page.locator("#cast-cards")).to_contain_text("a boy in a yellow sou'wester")
        no_error_toast(page)
    finally:
        page.context.close()


def test_jobs_on_a_phone(browser, app, artifacts):
    page = open_page(browser, app.url, PHONE)
    try:
        tab(page, "Jobs")
        expect(page.locator("#jobs-table .body-cell").first).to_be_visible(timeout=20_000)
        geo = page.evaluate("""() => {
            const heads = [...document.querySelectorAll('#jobs-table th')].map(c => c.getBoundingClientRect());
            const row = [...document.querySelector('#jobs-table .virtual-row').querySelectorAll('.body-cell')]
                .map(c => c.getBoundingClientRect());
            const frame = document.querySelector('#jobs-table .virtual-table-viewport');
            return {heads: heads.map(r => [r.left, r.width]), cells: row.map(r => [r.left, r.width]),
                    page: document.documentElement.scrollWidth, frameScroll: frame.scrollWidth > frame.clientWidth};
        }""")
        assert geo["page"] <= 391, "the page scrolls sideways"
        assert geo["frameScroll"], "the table scrolls inside its frame"
        assert len(geo["heads"]) == len(geo["cells"]) >= 6
        for (hl, hw), (cl, cw) in zip(geo["heads"], geo["cells"]):
            assert abs(hl - cl) < 2 and abs(hw - cw) < 2, f"header off its cell: {geo}"
            assert cw >= 70, f"a column {cw:.0f} px wide"
        status = page.locator("#jobs-table .virtual-row .body-cell:nth-child(3)").first
        assert status.bounding_box()["height"] < 60, "a status word broken one letter a line"
        shot(page, artifacts, "jobs-phone")

        # The scene render's details: readable names, no server paths, downloads named by the scene.
        page.locator("#jobs-table .virtual-row .body-cell", has_text="Scene").first.click()
        details = page.locator("#jobs-details")
        expect(details).to_contain_text("Made by")
        expect(details).to_contain_text("Portrait")
        text = details.inner_text()
        assert "made_by" not in text and "burn_subtitles" not in text and "portrait1" not in text
        assert str(app.root) not in text and "/library/" not in text
        expect(page.locator("#jobs-files")).to_contain_text(re.compile(r"Harbour\s*\.mp4"))

        # Delete outputs asks once, then the outputs go to the trash; the Trash brings them back.
        page.locator("#jobs-delete").click()
        expect(page.locator("#jobs-note")).to_contain_text("to the trash?")
        page.locator("#jobs-delete").click()
        expect(page.locator("#jobs-note")).to_contain_text("moved to the trash")
        expect(page.locator("#jobs-files")).to_be_hidden()
        page.locator("#trash").get_by_text("Trash —").click()
        item = page.locator("#trash-items label").first
        expect(item).to_contain_text("Outputs of job “Scene render of")
        item.click()
        page.locator("#trash-restore").click()
        expect(page.locator("#trash-note")).to_contain_text("is back")
        page.locator("#jobs-table .virtual-row .body-cell", has_text="Scene").first.click()
        expect(page.locator("#jobs-files")).to_contain_text(re.compile(r"Harbour\s*\.mp4"))
        assert geo["page"] <= 391 and page.evaluate("() => document.documentElement.scrollWidth") <= 391
        no_error_toast(page)
        shot(page, artifacts, "jobs-phone-after")
    finally:
        page.context.close()
