"""The Talking head tab in a real Chromium (preview mode): a portrait without a face is flagged at the field, the
job is not sent until the person confirms, and a photographed face clears the warning."""
from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.studio.conftest import VIEW
from tests.support import faces
from tests.support.page import open_page, tab, upload
from tests.support.studio import running_app

pytestmark = pytest.mark.browser
ADVICE = ("no face was found in the portrait; use a front-facing head-and-shoulders image where the face fills a "
          "good part of the frame")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("studio-faces")) as a:
        yield a


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    d = tmp_path_factory.mktemp("pictures")
    return {"landscape": faces.save(faces.landscape(768, 512), d / "landscape.png"),
            "blank": faces.save(faces.blank(512, 512), d / "blank.png"),
            "face": faces.save(faces.face_photo(512, 512), d / "face.png")}


@pytest.fixture
def page(browser, app) -> Page:
    pg = open_page(browser, app.url, VIEW)
    tab(pg, "Talking head")
    yield pg
    pg.context.close()


@pytest.mark.parametrize("picture", ["landscape", "blank"])
def test_a_portrait_without_a_face_is_flagged_and_not_sent_unless_confirmed(page: Page, media, pictures, picture):
    upload(page, "th-image", pictures[picture])
    warning = page.locator("#th-face-warning")
    expect(warning).to_contain_text(ADVICE[1:], timeout=15_000)
    anyway = page.locator("#th-send-anyway")
    expect(anyway).to_be_visible()
    # The warning sits at the portrait field: right below it, not somewhere else on the page.
    img_box = page.locator("#th-image").bounding_box()
    warn_box = warning.bounding_box()
    assert 0 <= warn_box["y"] - (img_box["y"] + img_box["height"]) < 120

    upload(page, "th-audio", media["reference"])
    page.locator("#th-run").click()
    # Refused at the field, in the form's words; nothing was sent.
    expect(page.locator("#th-image")).to_contain_text(f"Portrait: {ADVICE}", timeout=15_000)
    page.wait_for_timeout(1_000)
    expect(page.locator("#th-status .job-status")).to_have_count(0)

    # Confirmed: the job goes out (and, as on RunPod, the lip-sync then fails at finding the face).
    anyway.locator("input[type=checkbox]").check()
    page.locator("#th-run").click()
    expect(page.locator("#th-image")).not_to_contain_text(ADVICE, timeout=15_000)
    expect(page.locator("#th-status .job-status").first).to_be_visible(timeout=30_000)
    expect(page.locator("#th-status [data-kind=failed]")).to_contain_text("face", timeout=90_000)


def test_a_photographed_face_clears_the_warning(page: Page, pictures):
    upload(page, "th-image", pictures["blank"])
    expect(page.locator("#th-face-warning")).to_be_visible(timeout=15_000)
    upload(page, "th-image", pictures["face"])
    expect(page.locator("#th-face-warning")).to_be_hidden(timeout=15_000)
    expect(page.locator("#th-send-anyway")).to_be_hidden()


def test_the_api_refuses_a_portrait_without_a_face_unless_told_to_send_it(app, media, pictures):
    from gradio_client import Client, handle_file
    db = app.root / "data" / "studio.sqlite3"

    def lipsync_jobs() -> int:
        return sqlite3.connect(db).execute("SELECT COUNT(*) FROM jobs WHERE action='lipsync'").fetchone()[0]

    c = Client(app.url, verbose=False)
    before = lipsync_jobs()
    args = {"image": handle_file(str(pictures["landscape"])), "audio": handle_file(str(media["reference"])),
            "steps": 5, "max_duration": 2}
    with pytest.raises(Exception) as refused:
        c.predict(api_name="/lipsync", **args)
    assert f"Portrait (image): {ADVICE}; nothing was sent (pass send_without_face=true" in str(refused.value)
    assert lipsync_jobs() == before
    # Told to send it anyway, the job goes out and fails as SONIC would, with the same advice.
    with pytest.raises(Exception) as failed:
        c.predict(api_name="/lipsync", send_without_face=True, **args)
    assert "invalid_input" in str(failed.value) and "no face was found" in str(failed.value)
    assert lipsync_jobs() == before + 1
    # A face goes through without the flag.
    out = c.predict(api_name="/lipsync", **{**args, "image": handle_file(str(pictures["face"]))})
    assert str(out.get("video") if isinstance(out, dict) else out).endswith(".mp4")
