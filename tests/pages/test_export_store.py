"""A scene of the studio becomes a book and its exports: files in the library, "pages" jobs in the history with
what made them, the page format kept in the scene's settings, and refusals that name the field."""
from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

pypdf = pytest.importorskip("pypdf")
skdata = pytest.importorskip("skimage.data")

from backend.errors import BackendError  # noqa: E402
from backend.pages import store  # noqa: E402
from backend.settings import Settings  # noqa: E402
from backend.studio import Studio  # noqa: E402

SCRIPT = """Title: The Mail Boat

EXT. HARBOUR - NIGHT

The harbour at night. Fog. A lantern swings on the pier.
[[caption: Port Ellery. The last night of the mail boat.]]

MARA
The lights are *out*.

BEN
(whispering)
Keep your lantern low.

A wide shot of the empty sea under the moon.

MARA
Was that the boat?
"""


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    data = tmp_path_factory.mktemp("studio")
    st = Studio(replace(Settings.from_env(env={}, dotenv=None), data_dir=data))   # never started: no jobs
    for name in ("Mara", "Ben"):
        st.cast.save(name, look="a sailor")
    face = data / "astronaut.png"
    Image.fromarray(skdata.astronaut()).save(face)
    rec = st.scenes.new("The Mail Boat", SCRIPT, overrides={"0": {"image": str(face)}},
                        settings={"pages": {"layout": {"moves": [{"shot": 1, "page": 2}]}}})   # a page each
    yield st, rec, face
    st.close()


def test_the_scene_lays_out_into_its_page_format_with_faces_from_its_art(studio):
    st, rec, _ = studio
    sb = store.scene_book(st, rec)
    assert sb.book.format.name == "us_comic" and len(sb.book.pages) == 2   # the second shot moved to page 2
    first = sb.book.pages[0].panels[0]
    assert first.shot_index == 0 and len(first.faces) == 1          # the astronaut's face, in page points
    kinds = [b.kind for p in sb.book.pages for b in p.balloons]
    assert {"caption", "speech", "whisper"} <= set(kinds)
    st.scenes.save(rec)
    rec = store.save_page_settings(st, rec, format="manga_b6")
    assert st.scenes.get(rec.id).settings["pages"]["format"] == "manga_b6"
    assert store.scene_book(st, st.scenes.get(rec.id)).book.format.rtl
    store.save_page_settings(st, rec, format="us_comic")


def test_a_pdf_export_is_a_library_file_and_a_pages_job_with_what_made_it(studio):
    st, rec, face = studio
    from backend.records import JobRecord
    st.history_db.save(JobRecord(id="portrait-of-mara", endpoint="local", action="portrait", inputs={},
                                 status="completed", created_at=1.0, outputs=[{"type": "image", "path": str(face)}]))
    done = store.export_scene(st, st.scenes.get(rec.id), "pdf")
    job = st.get(done.record.id)
    assert job.action == "pages" and job.status == "completed"
    assert job.inputs["format"] == "pdf" and job.inputs["page_format"] == "us_comic"
    assert job.inputs["script"] == SCRIPT and str(face) in job.inputs["media"]
    assert job.inputs["made_by"] == ["portrait-of-mara"]                # the job whose image the book shows
    out = job.outputs[0]
    assert out["mime"] == "application/pdf" and out["path"].startswith(str(st.library.outputs))
    pdf = pypdf.PdfReader(done.path)
    assert len(pdf.pages) == 2 and "Keep your lantern low." in " ".join(pdf.pages[0].extract_text().split())
    assert any("ppi at print size" in n for n in job.warnings)      # the 512 px astronaut is not print art
    assert any("no art yet" in n for n in done.notes)                # the second panel was never made


def test_an_export_into_a_given_folder_is_that_file_only(studio, tmp_path):
    st, rec, _ = studio
    files, jobs = data_files(st), len(st.history(limit=1000))
    done = store.export_scene(st, st.scenes.get(rec.id), "webtoon", into=tmp_path)
    assert done.record is None and Path(done.path).parent == tmp_path and done.path.endswith("-webtoon.zip")
    with zipfile.ZipFile(done.path) as z:
        assert z.namelist()[0].endswith(".jpg") and len(z.namelist()) >= 2
    paths, model, _ = store.page_images(st, st.scenes.get(rec.id), into=tmp_path / "pages")
    assert [Path(p).parent for p in paths] == [tmp_path / "pages"] * len(model["pages"])
    assert data_files(st) == files and len(st.history(limit=1000)) == jobs      # no library file, no job


def test_unknown_formats_are_refused_naming_the_field_and_what_exists(studio):
    st, rec, _ = studio
    jobs_before = len(st.history(action="pages"))
    with pytest.raises(BackendError) as err:
        store.export_scene(st, rec, "docx")
    assert err.value.message == "format: 'docx' is not an export format; use one of pdf, cbz, epub, webtoon, json"
    with pytest.raises(BackendError) as err:
        store.export_scene(st, rec, "pdf", "tabloid")
    assert err.value.message.startswith("page_format: 'tabloid' is not a page format; use one of us_comic,")
    assert len(st.history(action="pages")) == jobs_before                      # refused before any job
    with pytest.raises(BackendError) as err:
        store.save_page_settings(st, st.scenes.get(rec.id), layout={"pages": [{"page": 1, "template": "3-by-9"}]})
    assert err.value.message.startswith("overrides.pages[0].template: '3-by-9' is not a template; the templates are:")
    assert "3-by-9" not in str(st.scenes.get(rec.id).settings)                      # nothing was saved


# -- the named API: owners lay out scripts, reviewers fetch what exists ----------------------------------------
def data_files(st) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in Path(st.settings.data_dir).rglob("*")
            if p.is_file() and not p.name.startswith("studio.sqlite3")}


def test_reviewers_fetch_pages_and_exports_but_never_create(studio, monkeypatch, tmp_path):
    gr = pytest.importorskip("gradio")
    from ui import pages_api, roles
    st, rec, _ = studio
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setattr(roles, "current_role", lambda _studio: roles.REVIEWER)
    files, jobs = data_files(st), len(st.history(limit=1000))
    pages = pages_api.scene_pages_endpoint(st)
    export = pages_api.scene_export_endpoint(st)
    paths, model = pages(scene="the mail boat")
    assert len(paths) == len(model["pages"]) == 2 and all(p.endswith(".png") for p in paths)
    assert Image.open(paths[0]).size == (round(477 * 110 / 72), round(738 * 110 / 72))
    assert model["pages"][0]["panels"][0]["faces"] and model["pages"][0]["balloons"][0]["kind"] == "caption"
    assert export(scene="The Mail Boat", format="json").endswith(".json")
    pdf = export(scene="The Mail Boat", format="pdf")
    assert len(pypdf.PdfReader(pdf).pages) == 2
    # A reviewer's pages and exports are only in the studio's pruned exports folder: nothing in the data folder,
    # no "pages" job.
    for path in (*paths, pdf):
        assert (tmp_path / "gradio" / "studio-exports") in Path(path).parents, path
    assert data_files(st) == files and len(st.history(limit=1000)) == jobs
    with pytest.raises(gr.Error) as err:
        pages(script=SCRIPT.replace("Mail Boat", "Other Boat"))
    assert "Reviewers" in err.value.message and st.scenes.find("The Other Boat") is None
    with pytest.raises(gr.Error) as err:
        export(scene="The Mail Boat", format="mobi")
    assert err.value.message == "format: 'mobi' is not an export format; use one of pdf, cbz, epub, webtoon, json"
    with pytest.raises(gr.Error) as err:
        pages(scene="Nowhere")
    assert err.value.message.startswith("scene: no scene is named 'Nowhere'; the scenes are: The Mail Boat")


def test_a_failed_export_is_a_failed_pages_job_without_internals(studio, monkeypatch):
    st, rec, _ = studio
    from backend.pages import export_pdf

    def broken(*args, **kwargs):
        raise OSError(2, "No such file or directory", "/srv/secret/studio-data/x.pdf")
    monkeypatch.setattr(export_pdf, "write_pdf", broken)
    with pytest.raises(BackendError) as err:
        store.export_scene(st, st.scenes.get(rec.id), "pdf")
    assert err.value.message == "The pdf export failed: an unexpected FileNotFoundError (the studio's log has the details)"
    failed = [r for r in st.history(action="pages") if r.status == "failed"]
    assert len(failed) >= 1 and "/srv" not in str(failed[0].error) and failed[0].error["code"] == "export_failed"


def test_panel_images_are_made_at_their_panels_aspect_and_full_frame_keeps_the_video_frame(studio):
    from backend.scenes import make as M
    st, rec, _ = studio
    rec = st.scenes.get(rec.id)
    book = store.scene_book(st, rec).book
    work = M.load(st, rec)
    step = next(s for s in work.plan.steps if s.id == "image:1")      # shot 1 has no image of its own yet
    panel = next(p for page in book.pages for p in page.panels if p.shot_index == 1)
    w, h = step.inputs["width"], step.inputs["height"]
    assert (w, h) == panel.art_size and w % 64 == 0 and h % 64 == 0
    box_aspect = panel.box[2] / panel.box[3]
    assert abs(w / h - box_aspect) / box_aspect < 0.15                 # the panel's shape, not the video's 16:9
    full = replace(rec, settings={**rec.settings, "mode": "full_frame"})
    step = next(s for s in M.load(st, full).plan.steps if s.id == "image:1")
    assert (step.inputs["width"], step.inputs["height"]) == (1024, 576)
