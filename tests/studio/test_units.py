"""The studio's pure parts: argument/auth handling, status rendering, and forms built from the declarations."""
from __future__ import annotations

import argparse

import gradio as gr
import pytest

import app
from ui import params as P
from ui import progress
from workflows.catalogue import load_catalogue


def ns(**kw) -> argparse.Namespace:
    return app.parse_args([f"--{k}" if v is True else f"--{k}={v}" for k, v in kw.items()])


def test_defaults_bind_loopback_on_7860_without_login():
    args = app.parse_args([])
    assert (args.host, args.port, args.share, args.mcp) == ("127.0.0.1", 7860, False, False)
    assert app.resolve_auth(args, {}) == (None, None)


def test_login_from_flag_or_environment_and_always_with_share():
    assert app.resolve_auth(ns(auth="ed:pw"), {})[0] == [("ed", "pw")]
    assert app.resolve_auth(app.parse_args([]), {"STUDIO_AUTH": "ann:pw2,bo:pw3"})[0] == [("ann", "pw2"), ("bo", "pw3")]
    [creds], notice = app.resolve_auth(ns(share=True), {})
    assert creds[0] == "studio" and len(creds[1]) >= 12 and creds[1] in notice
    with pytest.raises(SystemExit, match="user:pass"):
        app.resolve_auth(ns(auth="nopassword"), {})
    assert app.resolve_auth(app.parse_args([]), {}) == (None, None)          # local use: no login page


def test_reviewers_log_in_beside_owners_and_never_alone():
    logins, notice = app.resolve_auth(app.parse_args([]), {"STUDIO_AUTH": "ann:pw", "STUDIO_REVIEWERS": "rev:pw2"})
    assert logins == [("ann", "pw"), ("rev", "pw2")] and notice is None
    logins, notice = app.resolve_auth(app.parse_args([]), {"STUDIO_REVIEWERS": "rev:pw2"})
    assert logins[0][0] == "studio" and logins[0][1] in notice        # someone must be able to run jobs
    with pytest.raises(SystemExit, match="also an owner"):
        app.resolve_auth(app.parse_args([]), {"STUDIO_AUTH": "ann:pw", "STUDIO_REVIEWERS": "ann:pw2"})


def test_mcp_from_flag_or_environment():
    assert app.mcp_enabled(ns(mcp=True), {})
    assert app.mcp_enabled(app.parse_args([]), {"STUDIO_MCP": "1"})
    assert not app.mcp_enabled(app.parse_args([]), {"STUDIO_MCP": "0"})


def test_running_event_shows_step_and_bar_and_done_shows_the_licence():
    html = progress.render_event("running", "Step 12 of 28", {"step": 12, "steps": 28, "percent": 43})
    assert "Step 12 of 28" in html and 'aria-valuenow="12"' in html and 'aria-valuemax="28"' in html
    assert "width:42.9%" in html
    empty = progress.render_event("running", "Starting", {"step": 0, "steps": 28, "percent": 0})
    assert "width:0.0%" in empty                                          # a 0 % bar is drawn empty
    done = progress.render_event("completed", "Done", licence=load_catalogue()["lipsync"].licence)
    assert "Non-commercial use only" in done and "CC BY-NC-SA 4.0" in done
    failed = progress.render_event("failed", "x", error={"code": "model_missing", "message": "sonic/unet.pth"})
    assert "model_missing: sonic/unet.pth" in failed


def test_status_text_is_escaped():
    assert "<script>" not in progress.render_event("failed", "<script>alert(1)</script>")


@pytest.mark.parametrize("action", ["portrait", "tts", "lipsync", "animate", "music"])
def test_form_fields_take_labels_ranges_and_defaults_from_the_declaration(action):
    spec = load_catalogue()[action]
    with gr.Blocks():
        fields = P.build(spec)
    assert list(fields) == [p.name for p in spec.params if p.group != "advanced"] + \
        [p.name for p in spec.params if p.group == "advanced"]
    for p in spec.params:
        comp = fields[p.name]
        assert comp.label == p.label
        if p.type in ("int", "float") and p.min is not None:
            assert (comp.minimum, comp.maximum, comp.value) == (p.min, p.max, p.default)
        if p.type == "choice":
            assert [c[1] for c in comp.choices] == list(p.choices) and comp.value == p.default


def test_check_names_the_field_and_what_is_allowed():
    spec = load_catalogue()["portrait"]
    _, err = P.check(spec, {"prompt": "x", "width": 1004.0})
    assert err.field == "width" and "multiple of 8" in err.message
    ok, err = P.check(spec, {"prompt": "x", "width": 512.0, "seed": -1.0})
    assert err is None and ok["width"] == 512 and isinstance(ok["width"], int)


def test_monthly_estimate_includes_the_volume_and_the_default_price():
    from types import SimpleNamespace

    from backend.records import JobRecord
    from backend.settings import Settings
    from ui import endpoint

    done = JobRecord(id="a", endpoint="e", action="portrait", inputs={}, status="completed", execution_ms=20_000)
    studio = SimpleNamespace(settings=Settings(), mode="runpod",
                             history=lambda action=None, status=None: [done] if action == "portrait" else [])
    text = endpoint.monthly_estimate(studio, 100)
    assert "$0.00031/s — the default" in text
    # 100 portraits × 20 s × $0.00031 = $0.62, plus 50 GB × $0.07 = $3.50.
    assert "| Portrait | 20.0 s | $0.62 |" in text
    assert "**Estimated total: $4.12 / month**" in text


def test_jobs_rows_are_readable_and_errors_short():
    from backend.records import JobRecord
    from ui import jobs

    rec = JobRecord(id="j1", endpoint="e", action="tts", inputs={"text": "a | b", "reference_audio": "/lib/x/ref.wav"},
                    status="failed", created_at=1.0, delay_ms=1500, execution_ms=None, cost_usd=0.00012,
                    error={"code": "execution_failed", "message": "The sampler ran out of GPU memory " * 4})
    row = jobs.row(rec)
    assert row[1:6] == ["Voice", "failed", "1.5", "", "$0.0001"]      # the job as its tab names it
    assert jobs.row(rec, show_cost=False)[1:5] == ["Voice", "failed", "1.5", ""]   # preview: no cost column
    assert len(jobs.row(rec, show_cost=False)) == len(jobs.columns(show_cost=False))
    assert "Cost" not in jobs.describe(rec, show_cost=False)
    assert len(row[6]) <= jobs.ERROR_CHARS and row[6].endswith("…")
    text = jobs.describe(rec)
    assert text.startswith("### Voice · failed")
    assert "a \\| b" in text and "ref.wav" in text and "/lib/x" not in text
    assert "**Error:** The sampler ran out" in text and "execution_failed" in text


def test_lipsync_preview_caption_does_not_overwrite_the_portraits_own(tmp_path):
    import numpy as np

    from worker.preview import render

    portrait = render.mark(render.base_image(512, 512), "an old lighthouse keeper", 123)
    src = tmp_path / "portrait.png"
    portrait.save(src)
    frame = render.mark(render.base_image(512, 512, source=src), "", 836799212)
    a, b = np.asarray(portrait), np.asarray(frame)
    banner = 512 // 10
    assert (b[: banner // 2, :, 0] > 150).all(), "the PREVIEW banner stays at the top"
    # The band under the banner (where the portrait's caption is) is untouched; the new text is in a footer.
    assert np.array_equal(a[banner + 1: banner + 80], b[banner + 1: banner + 80])
    assert not np.array_equal(a[-30:], b[-30:])


def test_media_checks_refuse_what_the_worker_would_refuse(tmp_path):
    """The form's limits are the declaration's, the same ones the worker's preflight applies."""
    import numpy as np
    import soundfile as sf
    from PIL import Image

    from ui.media_checks import check_media
    from workflows.catalogue import get_spec

    ref = get_spec("tts").param("reference_audio")
    for seconds, ok in ((1.5, False), (ref.min + 0.5, True), (20, True), (ref.max + 5, False)):
        path = tmp_path / f"ref-{seconds}.wav"
        sf.write(path, np.zeros(int(16000 * seconds), dtype="float32"), 16000)
        problem = check_media(ref, str(path))
        assert (problem is None) == ok, (seconds, problem)
        if problem:
            assert problem.startswith("reference_audio:")
    face = get_spec("lipsync").param("image")
    small, big = tmp_path / "small.png", tmp_path / "big.png"
    Image.new("RGB", (int(face.min) - 1, 400)).save(small)
    Image.new("RGB", (int(face.min), 400)).save(big)
    assert f"at least {int(face.min)} pixels" in check_media(face, str(small))
    assert check_media(face, str(big)) is None


def test_endpoint_rows_name_hub_models_by_repository_not_by_cache_path(tmp_path):
    """The readiness table shows a hub-cache file as repository · file (no commit hash), and says when it is on the
    volume but not where the loader looks (a stale refs/main); the worker's own readiness feeds it."""
    from backend.readiness import build
    from ui import endpoint
    from workflows.catalogue import get_spec, load_manifest
    from worker.volume import job_readiness, place_placeholder

    models = tmp_path / "models"
    spec = get_spec("tts")
    for path in spec.all_models():
        if "whisper" not in path:
            place_placeholder(models, load_manifest()[path])
    (models / "hf/hub/models--SWivid--F5-TTS/refs/main").write_text("main")
    ready = endpoint.as_dict(build(None, {"jobs": {"tts": job_readiness(models)["tts"]}}, []))
    [row] = endpoint.readiness_rows(ready)
    assert row[0] == "Voice" and row[1].startswith("missing 13 file(s)")
    assert "SWivid/F5-TTS · F5TTS_v1_Base/model_1250000.safetensors (1.35 GB) — on the volume but not where the " \
           "loader looks; provision again to fix it" in row[2]
    assert "openai/whisper-large-v3-turbo · model.safetensors (1.62 GB)" in row[2]
    assert "snapshots" not in row[2] and "84e5a41" not in row[2]


def test_saving_a_new_name_over_a_picked_character_says_it_renamed_and_how_to_add_one():
    from ui.cast import NEW, saved_note
    assert saved_note(None, "Ben") == "Saved “Ben”."
    assert saved_note("Mara", "mara") == "Saved “mara”."            # a change of case is the same character
    told = saved_note("Mara", "Ben")
    assert told.startswith("Renamed “Mara” to “Ben”") and f"pick “{NEW}” first" in told


def test_a_new_name_over_a_picked_character_is_asked_about_before_anything_is_renamed():
    from ui.cast import NEW, rename_asks, rename_question
    assert rename_asks(None, "Ben", None, None) is None                   # a new character: saved at once
    assert rename_asks("Mara", "mara ", "c1", None) is None               # the same character: saved at once
    first = rename_asks("Mara", "Ben", "c1", None)
    assert first is not None                                              # the first Save only asks
    assert rename_asks("Mara", "Ben", "c1", first) is None                # the second Save of that name renames
    assert rename_asks("Mara", "Teo", "c1", first) is not None            # another name asks again
    assert rename_asks("Mara", "Ben", "c2", first) is not None            # so does another character
    q = rename_question("Mara", "Ben")
    assert "Nothing saved yet" in q and f"pick “{NEW}” first" in q and "again" in q


def test_a_page_exports_settings_read_in_words_without_its_scenes_id():
    from backend.records import JobRecord
    from ui import jobs
    rec = JobRecord(id="pages-1", endpoint="studio", action="pages", status="completed", created_at=1.0,
                    inputs={"scene": "Night Mail", "scene_id": "50449d77ed9d", "format": "pdf",
                            "page_format": "us_comic", "layout": {}, "lettering": {"0:line:0": {"text": "Hi"}}})
    text = jobs.describe(rec)
    assert "50449d77ed9d" not in text and "Scene id" not in text
    assert "| Page format | US comic (6.625 × 10.25 in) |" in text
    assert "| Layout | automatic |" in text and "| Lettering | 1 changed by hand |" in text
    assert "{}" not in text


def test_downloads_are_named_after_the_scene_for_renders_and_book_exports():
    from backend.records import JobRecord
    from ui.jobs import download_name
    made = dict(endpoint="studio", status="completed", created_at=0.0)
    assert download_name(JobRecord(id="r", action="scene", inputs={"scene": "Night Mail"}, **made)) == "Night Mail"
    assert download_name(JobRecord(id="b", action="pages", inputs={"scene": "Night Mail"}, **made)) == "Night Mail"
    other = download_name(JobRecord(id="p", action="portrait", inputs={"prompt": "x"}, **made))
    assert other.startswith("Portrait ") and "p" not in other.split(" ", 1)[1]   # the kind and when, not the id
