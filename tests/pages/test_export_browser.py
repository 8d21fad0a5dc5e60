"""The Pages view in a real Chromium against `python app.py` in preview mode: a scene typed into the Scenes tab
lays out into two lettered pages, shown as pictures with their balloons, and exports a print PDF to download."""
from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.studio.conftest import VIEW, browser  # noqa: F401  (fixtures)
from tests.support.page import open_page, pick, tab
from tests.support.studio import running_app

pytestmark = pytest.mark.browser

SCRIPT = """Title: Two Pages

EXT. HARBOUR - NIGHT

The harbour at night. Fog over the water.

MARA
The lights are out.

A lantern swings on the pier.

BEN
(whispering)
Keep it low.

Mara climbs down into the boat.

The boat slides into the fog.

MARA
Row, Ben. Row!

The lighthouse beam sweeps over the empty pier.
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages-preview")
    from backend.settings import Settings
    from backend.studio import Studio
    st = Studio(replace(Settings.from_env(env={}, dotenv=None), data_dir=root / "data"))   # the cast, beforehand
    for name in ("Mara", "Ben"):
        st.cast.save(name, look="a sailor")
    st.close()
    with running_app(root) as a:
        yield a


@pytest.mark.timeout(300)
def test_a_scene_shows_two_lettered_pages_and_exports_a_pdf(browser, app):  # noqa: F811
    from PIL import Image
    page = open_page(browser, app.url, VIEW)
    tab(page, "Scenes")
    # The page opens on a saved example scene; typing before it has loaded would be overwritten by it.
    expect(page.locator("#scene-board")).to_contain_text("3 shots", timeout=30_000)
    page.locator("#scene-title input, #scene-title textarea").first.fill("Two Pages")
    page.locator("#scene-script textarea").fill(SCRIPT)
    page.locator("#scene-save").click()
    expect(page.locator("#scene-board")).to_contain_text("5 shots", timeout=20_000)   # saved and planned

    page.locator("#pages-view").get_by_text("Pages: the scene as a lettered comic").click()
    page.locator("#pages-show").click()
    expect(page.locator("#pages-status")).to_contain_text("2 pages, 3 balloons", timeout=60_000)
    pictures = page.locator("#pages-gallery img")
    expect(pictures).to_have_count(2, timeout=20_000)
    expect(page.locator("#pages-edit").first).to_be_visible()          # an owner gets the edit controls
    # Each page is shown whole, not cut off by the gallery's frame below its first panel.
    frame = page.locator("#pages-gallery").bounding_box()
    for n in range(2):
        box = pictures.nth(n).bounding_box()
        assert box["y"] + box["height"] <= frame["y"] + frame["height"] + 1, (n, box, frame)
        assert box["height"] > box["width"]                             # a page's shape, not a square

    # Each balloon of the model is drawn on its page: white inside its body, where the panel is grey (no art yet).
    data = app.root / "data" / "library" / "downloads"
    model = json.loads(next(data.glob("pages-*-us_comic/book.json")).read_text())
    for n in range(2):
        src = pictures.nth(n).get_attribute("src")
        picture = Image.open(io.BytesIO(page.request.get(src if src.startswith("http") else app.url + src).body()))
        scale = picture.width / model["trim"][0]
        for b in model["pages"][n]["balloons"]:
            x, y, w, h = b["box"]
            assert picture.convert("RGB").getpixel((int((x + w / 2) * scale), int((y + h * 0.1) * scale))) == \
                (255, 255, 255), b["text"]

    # An owner re-letters a balloon, and puts it back to automatic.
    pick(page, "pages-balloon", "page 1 · speech · Mara: The lights are out.")
    expect(page.locator("#pages-balloon-text textarea")).to_have_value("The lights are out.")
    page.locator("#pages-balloon-text textarea").fill("The lights are *gone*.")
    page.locator("#pages-balloon-apply").click()
    expect(page.locator("#pages-status")).to_contain_text("The balloon is re-lettered.", timeout=30_000)
    book = next(data.glob("pages-*-us_comic/book.json"))
    assert json.loads(book.read_text())["pages"][0]["balloons"][0]["text"] == "The lights are *gone*."
    pick(page, "pages-balloon", "page 1 · speech · Mara: The lights are *gone*.")
    page.locator("#pages-balloon-reset").click()
    expect(page.locator("#pages-status")).to_contain_text("back to automatic", timeout=30_000)
    assert json.loads(book.read_text())["pages"][0]["balloons"][0]["text"] == "The lights are out."

    # A shot moves to another page: the pages are laid out again around it.
    before = [len(p["panels"]) for p in json.loads(book.read_text())["pages"]]
    page.locator("#pages-move-shot input").fill("4")
    page.locator("#pages-move-page input").fill("1")
    page.locator("#pages-move-panel input, #pages-move-panel textarea").first.fill("1")     # and opens the page
    page.locator("#pages-move-apply").click()
    expect(page.locator("#pages-status")).to_contain_text("Shot 4 is on page 1, panel 1.", timeout=30_000)
    after = json.loads(book.read_text())["pages"]
    assert after[0]["panels"][0]["shot_index"] == 3 and len(after[0]["panels"]) == before[0] + 1

    page.locator("#pages-export-pdf").click()
    expect(page.locator("#pages-status")).to_contain_text("Exported PDF", timeout=60_000)
    link = page.locator("#pages-download a").first
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    body = page.request.get(href if href.startswith("http") else app.url + href).body()
    assert body.startswith(b"%PDF") and Path(href.split("?")[0]).name == "Two-Pages.pdf"
    page.context.close()
