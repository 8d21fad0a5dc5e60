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
    assert app.resolve_auth(ns(auth="ed:pw"), {})[0] == ("ed", "pw")
    assert app.resolve_auth(app.parse_args([]), {"STUDIO_AUTH": "ann:pw2"})[0] == ("ann", "pw2")
    creds, notice = app.resolve_auth(ns(share=True), {})
    assert creds[0] == "studio" and len(creds[1]) >= 12 and creds[1] in notice
    with pytest.raises(SystemExit, match="user:pass"):
        app.resolve_auth(ns(auth="nopassword"), {})


def test_mcp_from_flag_or_environment():
    assert app.mcp_enabled(ns(mcp=True), {})
    assert app.mcp_enabled(app.parse_args([]), {"STUDIO_MCP": "1"})
    assert not app.mcp_enabled(app.parse_args([]), {"STUDIO_MCP": "0"})


def test_running_event_shows_step_and_bar_and_done_shows_the_licence():
    html = progress.render_event("running", "Step 12 of 28", {"step": 12, "steps": 28, "percent": 43})
    assert "Step 12 of 28" in html and '<progress class="job-bar" value="12" max="28"' in html
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
