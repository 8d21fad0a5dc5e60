"""The named API / MCP `scene_render` takes `mode` (motion_comic | full_frame): it is stored on the scene the
render uses, and anything else is refused naming the field before the scene is saved or a job is sent."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from backend.scenes import make as M
from backend.scenes.store import SceneStore
from ui.api import scene_render_endpoint

SCRIPT = "A lighthouse at dusk.\n\nANNA\nThe lamp is out.\n"


class Stop(Exception):
    """Raised where the endpoint would start making media: everything before it has run."""


@pytest.fixture
def studio(tmp_path, monkeypatch):
    def make_missing(*a, **k):
        raise Stop()
    monkeypatch.setattr(M, "make_missing", make_missing)
    return SimpleNamespace(settings=SimpleNamespace(reviewers=(), login_required=False),
                           scenes=SceneStore(tmp_path / "studio.sqlite3"), cast=SimpleNamespace(names=lambda: ["Anna"]))


@pytest.mark.parametrize("mode", ["full_frame", "motion_comic"])
def test_the_mode_asked_is_the_scenes_render_mode(studio, mode):
    with pytest.raises(Stop):
        scene_render_endpoint(studio)(script=SCRIPT, title="Lamp", mode=mode)
    rec = studio.scenes.find("Lamp")
    assert rec.settings["mode"] == mode
    assert M.render_settings(rec.settings).mode == mode


def test_the_default_is_the_motion_comic(studio):
    with pytest.raises(Stop):
        scene_render_endpoint(studio)(script=SCRIPT, title="Lamp")
    assert studio.scenes.find("Lamp").settings["mode"] == "motion_comic"


@pytest.mark.parametrize("bad", ["sideways", "", "Full Frame"])
def test_another_mode_is_refused_naming_the_field_and_nothing_is_saved(studio, bad):
    with pytest.raises(gr.Error) as err:
        scene_render_endpoint(studio)(script=SCRIPT, title="Lamp", mode=bad)
    assert str(err.value.message).startswith(f"mode: {bad!r} is not one of motion_comic, full_frame")
    assert studio.scenes.find("Lamp") is None
