"""The studio's motion comic is rendered from the scene's own book: its page format and the Pages view's layout
and lettering edits, with the faces in its art, so the video and the PDF show the same pages and words. The
voice and the subtitles keep the line as written."""
from __future__ import annotations

from dataclasses import replace

import pytest

from backend.errors import BackendError
from backend.pages import store
from backend.scenes import make as M
from backend.scenes.model import RenderInput
from backend.scenes.render import srt_text
from backend.scenes.timeline import build_timeline
from backend.settings import Settings
from backend.studio import Studio
from worker.preview.render import mark, portrait_card

SCRIPT = "A lighthouse keeper at the window. [[caption: Night, at the lamp.]]\n\nANNA\nThe lamp is out.\n"
CAPTION_ONLY = "A lighthouse keeper at the window. [[caption: Night, at the lamp.]] [[hold 1s]]\n"
EDITS = {"format": "us_trade",
         "lettering": {"balloons": [{"shot": 0, "item": "line", "index": 0, "text": "The lamp is *lit*!"},
                                    {"shot": 0, "item": "caption", "index": 0, "text": "Dawn, at last."}]}}


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    data = tmp_path_factory.mktemp("studio")
    st = Studio(replace(Settings.from_env(env={}, dotenv=None), data_dir=data))   # never started: no jobs
    st.cast.save("Anna", look="a keeper")
    art = data / "keeper.png"
    mark(portrait_card(512, 512, seed=3), "a keeper", 3).save(art)     # a preview picture with a face
    yield st, art
    st.close()


def balloon(book, item: str):
    return next(b for p in book.pages for b in p.balloons
                if b.shot_index == 0 and (b.line_index == 0 if item == "line" else b.kind == "caption"))


def test_the_book_the_motion_comic_gets_is_the_scenes_own_with_its_edits(studio):
    st, art = studio
    rec = st.scenes.new("Lamp", SCRIPT, overrides={"0": {"image": str(art)}}, settings={"pages": EDITS})
    work = M.load(st, rec)
    rinput = M.with_pages(st, work, RenderInput(work.scene, ()))
    book = rinput.book
    assert book.format.name == "us_trade"                       # the scene's page format, not the default
    assert balloon(book, "line").text == "The lamp is *lit*!"   # the Pages view's edits …
    assert balloon(book, "caption").text == "Dawn, at last."
    assert book == store.scene_book(st, rec).book               # … the very book the PDF is made from
    faces = dict(rinput.faces)
    assert faces[0].boxes and book.pages[0].panels[0].faces     # the art's face: the page crops around it
    # the voice and the subtitles say the line as written
    assert work.scene.shots[0].lines[0].text == "The lamp is out."
    assert "ANNA: The lamp is out." in srt_text(build_timeline(work.scene.shots))
    # full frame has no pages to follow
    full = M.load(st, replace(rec, settings={**rec.settings, "mode": "full_frame"}))
    assert M.with_pages(st, full, RenderInput(full.scene, ())).book is None


def test_the_studios_render_passes_that_book_to_the_renderer(studio, monkeypatch):
    import backend.scenes.render as R
    st, art = studio
    rec = st.scenes.new("Dawn", CAPTION_ONLY, overrides={"0": {"image": str(art)}},
                        settings={"pages": {"format": "a4", "lettering": {"balloons": [
                            {"shot": 0, "item": "caption", "text": "Dawn, at last."}]}}})
    given = []

    def render(rinput, settings, out, progress=None, size=None):
        given.append(rinput)
        raise RuntimeError("stop here")
    monkeypatch.setattr(R, "render", render)
    with pytest.raises(BackendError):
        M.render_scene(st, M.load(st, rec))
    book = given[0].book
    assert book.format.name == "a4" and balloon(book, "caption").text == "Dawn, at last."
    job = st.history(action="scene", limit=1)[0]
    assert job.inputs["pages"]["format"] == "a4" and job.inputs["pages"]["lettering"]["balloons"]


def test_pages_that_cannot_be_laid_out_refuse_the_render_naming_why(studio):
    st, art = studio
    rec = st.scenes.new("Broken", CAPTION_ONLY, overrides={"0": {"image": str(art)}},
                        settings={"pages": {"lettering": {"balloons": [{"shot": 7, "item": "caption"}]}}})
    with pytest.raises(BackendError, match=r"pages cannot be laid out \(balloons\[0\]\.shot: the scene has no shot 7"):
        M.render_scene(st, M.load(st, rec))
