"""The studio in a real Chromium against `python app.py` in preview mode: one of each job, hand-offs, bad input."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.studio.conftest import VIEW
from tests.support.page import finished, open_page, pick, save_voice, tab, upload
from tests.support.procs import REPO
from tests.support.studio import running_app

pytestmark = pytest.mark.browser
JOB_TIMEOUT = 90_000


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("studio-preview")) as a:
        yield a


@pytest.fixture
def page(browser, app) -> Page:
    pg = open_page(browser, app.url, VIEW)
    yield pg
    pg.context.close()


def test_portrait_makes_an_image_and_refuses_an_empty_prompt(page: Page, artifacts):
    tab(page, "Portrait")
    page.locator("#portrait-run").click()
    expect(page.locator("#portrait-prompt").get_by_text("Description: is required")).to_be_visible(timeout=10_000)
    expect(page.locator("#portrait-status [data-kind]")).to_have_count(0)

    page.locator("#portrait-prompt textarea").fill("a weathered sky pirate, front-facing, head and shoulders")
    pick(page, "portrait-style", "Graphic novel ink")
    page.locator("#portrait-run").click()
    expect(page.locator("#portrait-status")).to_contain_text(re.compile("Submitted|Queued|Running|Done"))
    finished(page, "portrait-status")
    expect(page.locator("#portrait-gallery img").first).to_be_visible()
    expect(page.locator("#portrait-status .licence-note")).to_contain_text("Licence")
    seed = page.locator("#portrait-seed-used input").input_value()
    assert seed.isdigit()
    page.locator("#portrait-reuse-seed").click()
    expect(page.locator("#portrait-seed input")).to_have_value(seed)
    page.screenshot(path=str(artifacts / "portrait.png"), full_page=True)

    # Hand-off: the portrait becomes the talking head's portrait, and the tab switches.
    page.locator("#portrait-use").click()
    expect(page.get_by_role("tab", name="Talking head", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#th-image img")).to_be_visible(timeout=15_000)


def test_voice_saves_a_voice_and_speaks(page: Page, media, artifacts):
    tab(page, "Voice")
    upload(page, "voice-reference_audio", media["long"])
    page.locator("#voice-name textarea, #voice-name input").first.fill("Too long")
    page.locator("#voice-save").click()
    expect(page.locator("#voice-save-status")).to_contain_text("180 s long", timeout=20_000)

    save_voice(page, media["reference"], "Captain Mara")
    page.locator("#voice-text textarea").fill("The harbour lights are out tonight. Keep your lantern low.")
    page.locator("#voice-run").click()
    finished(page, "voice-status")
    expect(page.locator("#voice-status .licence-note")).to_contain_text("Non-commercial")
    expect(page.locator("#voice-speech audio, #voice-speech [data-testid=waveform-controls]").first
           ).to_be_attached(timeout=15_000)
    page.screenshot(path=str(artifacts / "voice.png"), full_page=True)

    # Hand-off: the speech goes to the talking-head tab.
    page.locator("#voice-use").click()
    expect(page.locator("#th-audio audio, #th-audio [data-testid=waveform-controls]").first
           ).to_be_attached(timeout=15_000)


def test_talking_head_pipeline_reports_three_stages_and_reuses_the_portrait(page: Page, media, artifacts):
    save_voice(page, media["reference"], "Narrator")
    tab(page, "Talking head")
    page.get_by_role("tab", name="One click").click()
    page.locator("#pipe-prompt textarea").fill("an old lighthouse keeper, front-facing, head and shoulders")
    pick(page, "pipe-voice", "Narrator")
    page.locator("#pipe-script textarea").fill("Every night I climb the stairs.")
    page.locator("#pipe-run").click()
    for i, stage in enumerate(["portrait", "speech", "talking head"]):
        expect(page.locator(f"#pipe-stage-{i}")).to_contain_text(f"{stage}: Done", timeout=JOB_TIMEOUT)
    expect(page.locator("#pipe-video video")).to_be_visible(timeout=JOB_TIMEOUT)
    finished(page, "pipe-status")
    page.screenshot(path=str(artifacts / "talking_head.png"), full_page=True)

    # Only the script changes: the portrait is reused, speech and lip-sync run again.
    first_speech_job = page.locator("#pipe-stage-1 .job-id").inner_text()
    page.locator("#pipe-script textarea").fill("Every night I climb the stairs, and every night the sea is waiting.")
    page.locator("#pipe-run").click()
    expect(page.locator("#pipe-stage-0")).to_contain_text("Reused", timeout=JOB_TIMEOUT)
    expect(page.locator("#pipe-stage-2")).to_contain_text("talking head: Done", timeout=JOB_TIMEOUT)
    assert page.locator("#pipe-stage-1 .job-id").inner_text() != first_speech_job


def test_lipsync_refuses_a_tiny_portrait_at_the_field(page: Page, media):
    tab(page, "Talking head")
    upload(page, "th-image", media["tiny"])
    upload(page, "th-audio", media["reference"])
    page.locator("#th-run").click()
    expect(page.get_by_text("at least 256 pixels")).to_be_visible(timeout=15_000)
    expect(page.locator("#th-status [data-kind=submitted]")).to_have_count(0)


def test_panel_animation_shows_video_beside_the_still(page: Page, media, artifacts):
    tab(page, "Panel animation")
    upload(page, "panel-image", media["face"])
    page.locator("#panel-prompt textarea").fill("rain falling, neon sign flickering")
    page.locator("#panel-run").click()
    finished(page, "panel-status")
    expect(page.locator("#panel-video video")).to_be_visible()
    expect(page.locator("#panel-image img")).to_be_visible()
    page.screenshot(path=str(artifacts / "panel.png"), full_page=True)


def test_music_from_a_genre_preset(page: Page, artifacts):
    tab(page, "Music")
    pick(page, "music-preset", "Jazz")
    expect(page.locator("#music-tags textarea, #music-tags input").first).to_have_value(re.compile("saxophone"))
    page.locator("#music-run").click()
    expect(page.locator("#music-status")).to_contain_text(re.compile("Running|Done"), timeout=JOB_TIMEOUT)
    finished(page, "music-status")
    expect(page.locator("#music-audio audio, #music-audio [data-testid=waveform-controls]").first
           ).to_be_attached(timeout=15_000)
    page.screenshot(path=str(artifacts / "music.png"), full_page=True)


def test_jobs_tab_row_click_shows_that_jobs_output_and_survives_a_reload(page: Page, artifacts):
    tab(page, "Jobs")
    table = page.locator("#jobs-table")
    expect(table).to_contain_text("completed", timeout=15_000)
    expect(page.locator("#jobs-selected")).to_contain_text("No job selected")
    pick(page, "jobs-action", "Music")
    expect(table).to_contain_text("Music")
    expect(table).not_to_contain_text("Portrait")

    # Clicking the (newest) music row shows its settings in words and its audio in a player, with a download.
    page.locator("#jobs-table [data-testid=cell-0-1]").click()
    details = page.locator("#jobs-details")
    expect(details).to_contain_text("Music · completed")
    expect(details).to_contain_text("saxophone")                     # the job's own inputs
    expect(details).to_contain_text("Ran for")
    expect(details).to_contain_text("Licence")
    expect(page.locator("#jobs-audio audio, #jobs-audio [data-testid=waveform-controls]").first
           ).to_be_attached(timeout=15_000)
    expect(page.locator("#jobs-files")).to_contain_text(re.compile(r"\.(wav|mp3|flac|ogg)"))
    expect(page.locator("#jobs-images")).to_be_hidden()
    expect(page.locator("#jobs-cancel")).to_be_disabled()               # a finished job cannot be cancelled
    page.screenshot(path=str(artifacts / "jobs.png"), full_page=True)

    # A portrait row shows images instead.
    pick(page, "jobs-action", "Portrait")
    expect(table).not_to_contain_text("Music")
    page.locator("#jobs-table [data-testid=cell-0-1]").click()
    expect(details).to_contain_text("Portrait · completed")
    expect(page.locator("#jobs-images img").first).to_be_visible(timeout=15_000)
    expect(page.locator("#jobs-audio")).to_be_hidden()
    job_line = page.locator("#jobs-details code").first.inner_text()

    # A browser refresh keeps the history and the selected job.
    page.reload()
    tab(page, "Jobs")
    expect(page.locator("#jobs-details")).to_contain_text(job_line, timeout=15_000)
    expect(page.locator("#jobs-images img").first).to_be_visible(timeout=15_000)

    # Re-run acts on the selected job: a new portrait appears at the top and finishes.
    rows_before = page.locator("#jobs-table [data-testid^='cell-'][data-testid$='-1']").count()
    page.locator("#jobs-rerun").click()
    expect(page.locator("#jobs-note")).to_contain_text("Re-run sent")
    expect(page.locator(f"#jobs-table [data-testid=cell-{rows_before}-1]")).to_be_attached(timeout=15_000)


def test_endpoint_tab_summarises_readiness_and_estimates_a_real_monthly_cost(page: Page, artifacts):
    tab(page, "Endpoint")
    summary = page.locator("#endpoint-summary")
    expect(summary).to_contain_text("not checked yet")
    page.locator("#endpoint-check").click()
    expect(summary).to_contain_text("all 5 jobs ready", timeout=60_000)
    expect(summary).to_contain_text("Workers:")
    expect(summary).to_contain_text("Queue:")
    expect(page.locator("#endpoint-readiness")).to_contain_text("Portrait")
    expect(page.locator("#endpoint-workers")).to_be_hidden()            # raw JSON stays in a closed accordion
    page.locator("#endpoint-estimate").click()
    cost = page.locator("#endpoint-cost")
    expect(cost).to_contain_text("per month")
    expect(cost).to_contain_text("0.00031")                            # the default GPU price, said so
    sizes = {f["path"]: f["size"] for f in json.loads((REPO / "workflows" / "models.json").read_text())["files"]}
    needed: set[str] = set()        # every file some job's declaration names, in any of its modes
    for action in ("portrait", "tts", "lipsync", "animate", "music"):
        decl = json.loads((REPO / "workflows" / f"{action}.json").read_text())
        models = decl["models"]
        needed.update(*(models.values() if isinstance(models, dict) else [models]))
        needed.update(*(decl.get("models_when_empty") or {}).values())     # Whisper, for an empty transcript
        needed.update(*(decl.get("models_when_given") or {}).values())     # IP-Adapter, for characters
    expect(cost).to_contain_text(f"{sum(sizes[p] for p in needed) / 1e9:.2f} GB")   # what the jobs' models take
    total = re.search(r"Estimated total: \$([0-9.]+)", cost.inner_text())
    assert total and float(total.group(1)) >= 3.50, cost.inner_text()   # at least the 50 GB volume floor
    page.screenshot(path=str(artifacts / "endpoint.png"), full_page=True)
