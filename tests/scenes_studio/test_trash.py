"""The trash (backend/trash.py): a deleted scene, cast member, voice or job's outputs moves there, comes back on
restore with its files, refuses a restore whose place is taken, and is purged after 30 days (injected clock)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend import trash as T
from backend.cast import Cast
from backend.errors import InputError
from backend.history import History
from backend.library import Library
from backend.records import JobRecord
from backend.scenes.store import SceneStore
from backend.voices import VoiceLibrary

DAY = 86400.0


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def studio(tmp_path):
    data = tmp_path / "data"
    lib = Library(data / "library")
    hist = History(data / "studio.sqlite3")
    voices = VoiceLibrary(hist, lib)
    s = SimpleNamespace(library=lib, history_db=hist, voices=voices, cast=Cast(data / "studio.sqlite3", lib, voices),
                        scenes=SceneStore(data / "studio.sqlite3"), get=hist.get,
                        trash=T.Trash(data / "trash", clock=Clock()))
    yield s
    for x in (hist, s.cast, s.scenes):
        x.close()


def test_each_kind_goes_to_the_trash_and_comes_back(studio, tmp_path):
    wav = tmp_path / "v.wav"
    sf.write(wav, 0.1 * np.sin(np.arange(16000 * 3) / 10), 16000)
    studio.voices.save("Harbour voice", str(wav), "The lights are out.")
    mara = studio.cast.save("Mara", look="silver hair, red oilskin coat", voice="Harbour voice", seed=7)
    scene = studio.scenes.new("Harbour", "EXT. HARBOUR - NIGHT\n\nFog.\n", settings={"fps": 25})
    out = studio.library.root / "outputs" / "job1" / "portrait_00001_.png"
    out.parent.mkdir(parents=True)
    Image.new("RGB", (64, 64), (200, 10, 10)).save(out)
    studio.history_db.save(JobRecord(id="job1", endpoint="ep", action="portrait", inputs={"prompt": "Mara"},
                                     status="completed", created_at=1_799_990_000.0,
                                     outputs=[{"type": "image", "path": str(out), "mime": "image/png"}]))

    items = [T.discard(studio, "scene", scene.id), T.discard(studio, "character", "mara"),
             T.discard(studio, "voice", "Harbour voice"), T.discard(studio, "outputs", "job1")]
    assert [i.what for i in items][:3] == ["Scene “Harbour”", "Cast member “Mara”", "Voice “Harbour voice”"]
    assert items[3].what.startswith("Outputs of job “Portrait of ")
    # Gone from where they were: the list, the cast, the library, the job's outputs and its file.
    assert studio.scenes.get(scene.id) is None and studio.cast.get("Mara") is None
    assert studio.voices.get("Harbour voice") is None
    assert studio.get("job1").outputs == [] and not out.exists()
    assert {i.kind for i in studio.trash.list()} == {"scene", "character", "voice", "outputs"}

    for item in items:
        T.restore(studio, item.id)
    assert studio.trash.list() == []
    back = studio.scenes.get(scene.id)
    assert (back.title, back.script, back.settings) == ("Harbour", scene.script, {"fps": 25})
    char = studio.cast.get("Mara")
    assert (char.id, char.look, char.voice, char.seed) == (mara.id, "silver hair, red oilskin coat",
                                                           "Harbour voice", 7)
    assert studio.voices.get("Harbour voice").transcript == "The lights are out."
    assert out.is_file() and studio.get("job1").outputs[0]["path"] == str(out)


def test_a_restore_whose_place_is_taken_is_refused_and_the_item_stays(studio):
    studio.cast.save("Ben", look="a fisherman")
    item = T.discard(studio, "character", "Ben")
    studio.cast.save("Ben", look="someone new")
    with pytest.raises(InputError) as err:
        T.restore(studio, item.id)
    assert err.value.field == "character" and "Ben" in err.value.message
    assert [i.id for i in studio.trash.list()] == [item.id]
    with pytest.raises(InputError) as err:
        T.restore(studio, "nosuchitem")
    assert "not in the trash" in err.value.message


def test_items_are_purged_after_30_days_with_their_files(studio):
    f = studio.library.root / "outputs" / "job2" / "a.wav"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"RIFF0000")
    studio.history_db.save(JobRecord(id="job2", endpoint="ep", action="tts", inputs={}, status="completed",
                                     outputs=[{"type": "audio", "path": str(f)}]))
    old = T.discard(studio, "outputs", "job2")
    kept = Path(studio.trash.root / old.id / old.files[0]["kept"])
    assert kept.is_file() and not f.exists()
    clock = studio.trash.clock
    clock.t += 29 * DAY
    studio.scenes.new("Later", "Fog.\n")
    newer = T.discard(studio, "scene", studio.scenes.find("Later").id)
    assert [i.id for i in studio.trash.list()] == [newer.id, old.id]        # newest first, both kept at 29 days
    clock.t += 1.5 * DAY                                                     # the first is now 30.5 days old
    assert [i.id for i in studio.trash.list()] == [newer.id]
    assert not kept.exists() and not (studio.trash.root / old.id).exists()
    clock.t += 29 * DAY
    assert studio.trash.list() == []


def test_the_api_restores_for_owners_and_refuses_reviewers(studio):
    """The named API/MCP tools `trash` and `restore` (ui/trash.py), called as the logged-in user would."""
    import gradio as gr
    from gradio.context import LocalContext

    from ui import trash as trash_ui

    studio.settings = SimpleNamespace(reviewers={"rita"}, login_required=True)
    studio.scenes.new("Harbour", "Fog.\n")
    item = T.discard(studio, "scene", studio.scenes.find("Harbour").id)
    list_trash, restore = trash_ui.trash_endpoint(studio), trash_ui.restore_endpoint(studio)

    def as_user(name, fn, *args):
        token = LocalContext.request.set(SimpleNamespace(username=name))
        try:
            return fn(*args)
        finally:
            LocalContext.request.reset(token)

    for fn, args in ((list_trash, ()), (restore, (item.id,))):
        with pytest.raises(gr.Error) as err:
            as_user("rita", fn, *args)
        assert "Reviewers" in str(err.value) and "ask an owner" in str(err.value)
    assert studio.scenes.find("Harbour") is None
    listed = as_user("olga", list_trash)
    assert [(i["id"], i["kind"], i["name"]) for i in listed] == [(item.id, "scene", "Harbour")]
    assert listed[0]["expires_at"] > listed[0]["deleted_at"]
    assert as_user("olga", restore, item.id) == "Scene “Harbour” is back."
    assert studio.scenes.find("Harbour") is not None
    with pytest.raises(gr.Error) as err:
        as_user("olga", restore, item.id)
    assert "not in the trash" in str(err.value)
