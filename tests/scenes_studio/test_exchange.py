"""A scene exported as one .zip imports into another studio (another data folder) with its cast, voices, media
and what was already made — so the other studio has nothing left to make."""
from __future__ import annotations

import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend.cast import Cast
from backend.errors import InputError
from backend.history import History
from backend.library import Library
from backend.scenes import exchange
from backend.scenes import make as M
from backend.scenes.store import SceneStore
from backend.voices import VoiceLibrary

SCRIPT = """EXT. HARBOUR - NIGHT

Fog over the pier.

MARA
The lights are out.
"""


def studio_at(data: Path) -> SimpleNamespace:
    """The parts of backend.Studio that scenes use, on one data folder (no endpoint: nothing is sent here)."""
    lib = Library(data / "library")
    hist = History(data / "studio.sqlite3")
    voices = VoiceLibrary(hist, lib)
    return SimpleNamespace(library=lib, history_db=hist, voices=voices, cast=Cast(data / "studio.sqlite3", lib, voices),
                           scenes=SceneStore(data / "studio.sqlite3"), get=hist.get,
                           history=lambda **kw: hist.list(**kw))


def close(s: SimpleNamespace) -> None:
    for part in (s.history_db, s.cast, s.scenes):
        part.close()


def test_export_then_import_into_a_new_data_folder(tmp_path):
    a = studio_at(tmp_path / "a")
    wav = tmp_path / "ref.wav"
    sf.write(wav, 0.2 * np.sin(np.arange(16000 * 3) / 7), 16000)
    face = tmp_path / "face.png"
    Image.new("RGB", (400, 400), (90, 30, 30)).save(face)
    a.voices.save("Low voice", str(wav), "Hello there.")
    a.cast.save("Mara", look="red coat", portrait=str(face), voice="Low voice", seed=5, style="Noir")
    rec = a.scenes.new("Harbour", SCRIPT, settings={"aspect": "1:1", "fps": 25},
                       overrides={"0": {"duration": 4.0}}, music={"source": "none"})
    # Pretend the two jobs it needs were made: their content keys point at files in the library.
    work = M.load(a, rec)
    assert {s.step.id: s.state for s in work.settled.values()} == {"speech:0:0": "missing", "image:0": "missing"}
    for i, s in enumerate(work.settled.values()):
        out = Path(a.library.outputs) / f"made{i}.{'wav' if s.step.kind == 'audio' else 'png'}"
        if s.step.kind == "audio":
            sf.write(out, np.zeros(16000), 16000)
        else:
            Image.new("RGB", (768, 768), (i, 9, 9)).save(out)
        a.scenes.remember(s.key, s.step.action, f"job{i}", [{"type": s.step.kind, "path": str(out)}])
    assert M.load(a, rec).all_made()

    zpath = exchange.export_scene(a, rec.id)
    names = zipfile.ZipFile(zpath).namelist()
    assert {"scene.json", "cast.json", "made.json"} <= set(names)
    assert sum(n.startswith("media/") for n in names) == 4      # portrait, voice recording, 2 made files
    close(a)

    b = studio_at(tmp_path / "b")
    got, notes = exchange.import_scene(b, zpath)
    assert notes == []
    assert (got.title, got.script, got.settings, got.overrides) == ("Harbour", SCRIPT, {"aspect": "1:1", "fps": 25},
                                                                    {"0": {"duration": 4.0}})
    mara = b.cast.get("Mara")
    assert (mara.look, mara.voice, mara.seed, mara.style) == ("red coat", "Low voice", 5, "Noir")
    assert Path(mara.portrait).is_relative_to(tmp_path / "b")
    assert b.voices.get("Low voice").transcript == "Hello there."
    # Keys hash media by content, so what was made there counts as made here: nothing would be sent.
    assert M.load(b, got).all_made()

    # Importing again keeps this studio's cast and names the scene apart.
    again, notes = exchange.import_scene(b, zpath)
    assert again.title == "Harbour (imported)"
    assert "Mara was already in the cast; kept this studio's character." in notes
    close(b)


def test_a_file_that_is_not_an_export_is_refused(tmp_path):
    b = studio_at(tmp_path / "b")
    bad = tmp_path / "x.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(InputError, match="^file: has no readable scene.json"):
        exchange.import_scene(b, str(bad))
    notzip = tmp_path / "y.zip"
    notzip.write_text("plain text")
    with pytest.raises(InputError, match="^file: is not a .zip"):
        exchange.import_scene(b, str(notzip))
    close(b)
