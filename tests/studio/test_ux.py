"""Issue 10 in a real Chromium against `python app.py` (preview mode, MCP on), at 1440×900 and 390×844:
the run button and the result in view, errors in the page's words, counters, hand-offs that say what to do,
Jobs/Endpoint in the tabs' words and without costs in preview; the named API and MCP tools through real HTTP."""
from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.page import DESKTOP, PHONE, finished, open_page, pick, tab, upload
from tests.support.studio import running_app

pytestmark = pytest.mark.browser
JOB_TIMEOUT = 120_000
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
# Each job tab: (tab, sub-tab or None, its main input, its run button).
JOB_TABS = [
    ("Portrait", None, "#portrait-prompt textarea", "#portrait-run"),
    ("Voice", None, "#voice-text textarea", "#voice-run"),
    ("Talking head", "From portrait + speech", "#th-image", "#th-run"),
    ("Talking head", "One click", "#pipe-prompt textarea", "#pipe-run"),
    ("Panel animation", None, "#panel-image", "#panel-run"),
    ("Music", None, "#music-tags textarea", "#music-run"),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("studio-ux"), extra_env={"STUDIO_MCP": "1"}) as a:
        yield a


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, app) -> Page:
    pg = open_page(browser, app.url, VIEWPORTS[request.param])
    yield pg
    pg.context.close()


@pytest.fixture
def desktop(browser, app) -> Page:
    pg = open_page(browser, app.url, DESKTOP)
    yield pg
    pg.context.close()


def in_view(page: Page, selector: str, whole: bool = True) -> bool:
    """Is the element inside the viewport (wholly, or at least partly) at the current scroll position?"""
    return page.evaluate("""([sel, whole]) => {
        const el = document.querySelector(sel);
        if (!el) return false;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) return false;
        const h = window.innerHeight, w = window.innerWidth;
        return whole ? (r.top >= 0 && r.bottom <= h && r.left >= 0 && r.right <= w)
                     : (r.bottom > 0 && r.top < h && r.right > 0 && r.left < w);
    }""", [selector, whole])


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


# ---- 2: layout ------------------------------------------------------------------------------------------------

def test_each_job_tab_shows_its_input_and_run_button_without_scrolling(page: Page, artifacts, request):
    size = request.node.callspec.id
    for name, sub, main_input, run in JOB_TABS:
        tab(page, name, sub)
        page.evaluate("() => window.scrollTo(0, 0)")
        expect(page.locator(run)).to_be_visible()
        assert in_view(page, main_input, whole=False), f"{name}/{sub}: main input below the fold ({size})"
        assert in_view(page, run), f"{name}/{sub}: run button not wholly in view ({size})"
        assert no_horizontal_scroll(page), f"{name}/{sub}: the page scrolls sideways ({size})"
        # Cancel is secondary and only clickable while something runs.
        cancel = page.locator(run.replace("-run", "-cancel"))
        expect(cancel).to_be_disabled()
        assert "primary" not in (cancel.get_attribute("class") or "")
        page.screenshot(path=str(artifacts / f"ux-{name.replace(' ', '_')}-{(sub or '').split(':')[0][:8]}-"
                                            f"{size}.png"))
    # A button that cannot act yet is not primary.
    tab(page, "Portrait")
    assert "primary" not in (page.locator("#portrait-use").get_attribute("class") or "")


def test_a_finished_run_is_in_view_and_cancel_is_live_only_while_it_runs(page: Page, request):
    tab(page, "Portrait")
    page.locator("#portrait-prompt textarea").fill("a lighthouse keeper, front-facing, head and shoulders")
    page.locator("#portrait-run").click()
    expect(page.locator("#portrait-cancel")).to_be_enabled(timeout=20_000)
    finished(page, "portrait-status")
    expect(page.locator("#portrait-gallery img").first).to_be_visible(timeout=20_000)
    expect(page.locator("#portrait-cancel")).to_be_disabled()
    page.wait_for_timeout(500)
    assert in_view(page, "#portrait-gallery", whole=False), f"result out of view ({request.node.callspec.id})"
    assert in_view(page, "#portrait-gallery img", whole=False)
    # Now there is a portrait to send: the hand-off button is the primary one.
    expect(page.locator("#portrait-use")).to_have_class(re.compile("primary"))


# ---- 3, 11: earlier results and hand-offs -----------------------------------------------------------------------

def test_use_in_talking_head_with_nothing_chosen_says_what_to_do(desktop: Page):
    tab(desktop, "Portrait")
    desktop.locator("#portrait-use").click()
    expect(desktop.locator("#portrait-use-note")).to_contain_text("No portrait chosen yet")
    expect(desktop.get_by_role("tab", name="Portrait", exact=True)).to_have_attribute("aria-selected", "true")
    tab(desktop, "Voice")
    desktop.locator("#voice-use").click()
    expect(desktop.locator("#voice-use-note")).to_contain_text("No speech yet")
    expect(desktop.get_by_role("tab", name="Voice", exact=True)).to_have_attribute("aria-selected", "true")


def test_earlier_portraits_are_thumbnails_with_their_description_never_paths(desktop: Page):
    tab(desktop, "Portrait")
    desktop.locator("#portrait-prompt textarea").fill("a harbour pilot with a red scarf, front-facing")
    desktop.locator("#portrait-run").click()
    finished(desktop, "portrait-status")
    tab(desktop, "Talking head", "From portrait + speech")
    thumbs = desktop.locator("#th-lib-image img")
    expect(thumbs.first).to_be_visible(timeout=20_000)
    text = desktop.locator("#th-lib-image").inner_text() + desktop.locator("body").inner_text()
    assert "library/outputs" not in text and ".png" not in text
    expect(desktop.locator("#th-lib-image")).to_contain_text("harbour pilot")       # the caption: what it shows
    thumbs.first.click()
    expect(desktop.locator("#th-image img")).to_be_visible(timeout=20_000)


# ---- 4, 5: errors in the page's words, counters --------------------------------------------------------------------

def test_field_errors_use_the_page_labels_and_land_on_their_field(desktop: Page, media):
    tab(desktop, "Portrait")
    desktop.locator("#portrait-run").click()
    expect(desktop.locator("#portrait-prompt").get_by_text("Description: is required")).to_be_visible(timeout=15_000)
    assert "prompt:" not in desktop.locator("body").inner_text()

    tab(desktop, "Voice")
    desktop.locator("#voice-text textarea").fill("Keep the lantern low.")
    upload(desktop, "voice-reference_audio", media["reference"])
    for elem, value in (("#voice-trim-start", "3"), ("#voice-trim-end", "1")):
        box = desktop.locator(f"{elem} input")
        box.fill(value)
        box.press("Tab")
    desktop.locator("#voice-run").click()
    trim_error = desktop.get_by_text(re.compile(r"Trim end .*must be after the start"))
    expect(trim_error.first).to_be_visible(timeout=15_000)
    # The message sits with the trim fields, not on "Text to speak", and covers neither player nor drop zone.
    box = trim_error.first.bounding_box()
    trim_box = desktop.locator("#voice-trim-end").bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (trim_box["y"] + trim_box["height"] / 2)) < trim_box["height"]
    assert desktop.locator("#voice-text").get_by_text("must be after").count() == 0
    audio_box = desktop.locator("#voice-reference_audio").bounding_box()
    assert box["y"] >= audio_box["y"] + audio_box["height"] - 2 or box["y"] + box["height"] <= audio_box["y"] + 2

    # A media field's banner makes room for itself instead of lying over the image.
    tab(desktop, "Talking head", "From portrait + speech")
    upload(desktop, "th-image", media["tiny"])
    upload(desktop, "th-audio", media["reference"])
    desktop.locator("#th-run").click()
    banner = desktop.locator("#th-image .validation-error").filter(has_text="Portrait: the image is 64×64")
    expect(banner).to_be_visible(timeout=15_000)
    desktop.wait_for_timeout(600)
    b, img = banner.bounding_box(), desktop.locator("#th-image img").first.bounding_box()
    assert b["y"] + b["height"] <= img["y"] + 1, (b, img)


def test_a_long_paste_is_counted_and_said_to_be_cut(browser, app):
    page = open_page(browser, app.url, DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    try:
        tab(page, "Voice")
        box = page.locator("#voice-text textarea")
        limit = int(box.get_attribute("maxlength"))
        counter = page.locator("#voice-text .char-count")
        expect(counter).to_contain_text(f"0 / {limit:,} characters")
        box.fill("Keep the lantern low.")
        expect(counter).to_contain_text(f"21 / {limit:,} characters")
        box.fill("")
        page.evaluate("(n) => navigator.clipboard.writeText('word '.repeat(n))", 55_300 // 5)
        box.focus()
        page.keyboard.press("Control+V")
        expect(box).to_have_value(re.compile("^word "))
        assert len(box.input_value()) == limit
        expect(counter).to_contain_text("cut")
        expect(counter).to_contain_text("55,300 characters pasted")
    finally:
        page.context.close()


# ---- 7, 8, 9, 10, 12, 13 ---------------------------------------------------------------------------------------

def test_reuse_last_seed_before_any_run_keeps_random(desktop: Page):
    tab(desktop, "Portrait")
    desktop.locator("#portrait-advanced").get_by_text("Advanced").first.click()
    seed = desktop.locator("#portrait-seed input")
    expect(seed).to_have_value("-1")
    desktop.locator("#portrait-reuse-seed").click()
    desktop.wait_for_timeout(800)
    expect(seed).to_have_value("-1")


def test_preview_shows_no_costs_and_jobs_use_the_tab_names(desktop: Page):
    tab(desktop, "Music")
    pick(desktop, "music-preset", "Jazz")
    desktop.locator("#music-run").click()
    finished(desktop, "music-status")
    assert "$" not in desktop.locator("#music-status").inner_text()
    tab(desktop, "Jobs")
    table = desktop.locator("#jobs-table")
    expect(table).to_contain_text("Music", timeout=15_000)
    assert not re.search(r"\b(tts|lipsync|animate)\b", table.inner_text())
    assert "cost" not in table.inner_text().lower() and "$" not in table.inner_text()
    desktop.locator("#jobs-table [data-testid=cell-0-1]").click()
    details = desktop.locator("#jobs-details")
    expect(details).to_contain_text("Music · completed")
    assert "Cost" not in details.inner_text() and "$" not in details.inner_text()
    # A clicked cell is read-only: no editor opens, and no row/column handles appear.
    desktop.locator("#jobs-table [data-testid=cell-0-2]").dblclick()
    desktop.wait_for_timeout(300)
    assert desktop.locator("#jobs-table textarea, #jobs-table input[type=text]").count() == 0
    handles = desktop.locator("#jobs-table .selection-button, #jobs-table .cell-menu-button")
    assert all(not handles.nth(i).is_visible() for i in range(handles.count()))
    tab(desktop, "Endpoint")
    desktop.locator("#endpoint-check").click()
    readiness = desktop.locator("#endpoint-readiness")
    expect(readiness).to_contain_text("Talking head", timeout=60_000)
    assert not re.search(r"\b(tts|lipsync|animate)\b", readiness.inner_text())


def test_endpoint_cost_table_counts_earlier_runs_on_page_load(desktop: Page):
    tab(desktop, "Portrait")
    desktop.locator("#portrait-prompt textarea").fill("a ferry captain, front-facing")
    desktop.locator("#portrait-run").click()
    finished(desktop, "portrait-status")
    desktop.reload()
    expect(desktop.locator("#mode-banner")).to_contain_text("Preview mode", timeout=60_000)
    tab(desktop, "Endpoint")
    expect(desktop.locator("#endpoint-cost")).to_contain_text(re.compile(r"Portrait\s+[0-9.]+ s"))


def test_rerun_follows_the_new_job_and_selects_it(desktop: Page):
    tab(desktop, "Portrait")
    desktop.locator("#portrait-prompt textarea").fill("a lamplighter, front-facing")
    desktop.locator("#portrait-run").click()
    finished(desktop, "portrait-status")
    first = desktop.locator("#portrait-status .job-id").inner_text().replace("job ", "").strip()
    tab(desktop, "Jobs")
    desktop.locator("#jobs-table [data-testid=cell-0-1]").click()
    details = desktop.locator("#jobs-details")
    expect(details).to_contain_text(first, timeout=15_000)
    desktop.locator("#jobs-rerun").click()
    expect(desktop.locator("#jobs-note")).to_contain_text("selected", timeout=30_000)   # a busy machine submits slowly
    expect(details).not_to_contain_text(first, timeout=15_000)          # the new job is the selected one ...
    expect(desktop.locator("#jobs-selected")).to_contain_text("completed", timeout=JOB_TIMEOUT)   # ... followed
    expect(desktop.locator("#jobs-images img").first).to_be_visible(timeout=20_000)


def test_voice_library_hint_follows_saves_and_other_formats_stay_hidden(desktop: Page, media):
    tab(desktop, "Voice")
    upload(desktop, "voice-reference_audio", media["reference"])
    desktop.locator("#voice-reference_text textarea").fill("Hello there. My name is Captain Mara.")
    desktop.locator("#voice-name textarea, #voice-name input").first.fill("Harbour master")
    desktop.locator("#voice-save").click()
    expect(desktop.locator("#voice-save-status")).to_contain_text("Saved voice", timeout=30_000)
    expect(desktop.locator("#voice-library")).to_contain_text(re.compile(r"\d+ saved voices?"))
    assert "none until" not in desktop.locator("#voice-library").inner_text()
    tab(desktop, "Panel animation")
    expect(desktop.locator("#panel-files")).to_be_hidden()


# ---- 4, 6, 14: the named API and MCP ------------------------------------------------------------------------

def test_api_marks_required_fields_and_every_refusal_names_its_field(app):
    from gradio_client import Client

    c = Client(app.url, verbose=False)
    info = c.view_api(return_format="dict", print_info=False)["named_endpoints"]
    required = {ep: {p["parameter_name"] for p in v["parameters"] if not p["parameter_has_default"]}
                for ep, v in info.items()}
    assert required["/portrait"] == {"prompt"}
    assert required["/tts"] == {"text", "reference_audio"}
    assert required["/music"] == {"tags"}
    assert {"prompt", "text", "reference_audio"} <= required["/talking_head"]

    for kwargs, field in (({"prompt": "x", "steps": 0}, "Steps (steps)"),
                          ({"prompt": "x", "width": 100}, "Width (width)"),
                          ({"prompt": "x", "sampler": "nope"}, "Sampler (sampler)"),
                          ({"prompt": ""}, "Description (prompt)")):
        with pytest.raises(Exception) as exc:
            c.predict(**kwargs, api_name="/portrait")
        assert field in str(exc.value), (kwargs, str(exc.value))
        assert "Value 0 is less than" not in str(exc.value)
    with pytest.raises(Exception) as exc:
        c.predict(tags="jazz", duration=-5, api_name="/music")
    assert "Length (s) (duration)" in str(exc.value)

    # An input error is one line in the console, not a traceback; the start lines name --share, not share=True.
    log = app.log()
    assert "refused: Steps (steps)" in log
    assert "Traceback" not in log
    assert "share=True" not in log and "--share" in log


def test_mcp_lists_required_fields_and_says_how_files_are_passed(app):
    tools = {t["name"]: t for t in httpx.get(f"{app.url}/gradio_api/mcp/schema", timeout=30).json()}
    assert set(tools) == {"portrait", "tts", "lipsync", "animate", "music", "talking_head", "jobs", "export_studio",
                          "scene_render", "cast", "scene_pages", "scene_export",
                          "comment", "comments", "trash", "restore"}   # no UI event leaks
    assert tools["portrait"]["inputSchema"]["required"] == ["prompt"]
    assert tools["music"]["inputSchema"]["required"] == ["tags"]
    assert set(tools["tts"]["inputSchema"]["required"]) == {"text", "reference_audio"}
    for name in ("tts", "lipsync", "animate", "talking_head"):
        text = tools[name]["description"]
        assert "upload_file_to_gradio" not in text, name
        assert "data URI" in text and "https URL" in text, name
