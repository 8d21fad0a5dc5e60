"""The cast and the scenes are rows in the studio's database: they survive a restart; names are checked."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend.cast import Cast
from backend.errors import InputError
from backend.history import History
from backend.library import Library
from backend.scenes.store import SceneStore
from backend.voices import VoiceLibrary


def open_all(data: Path):
    lib = Library(data / "library")
    hist = History(data / "studio.sqlite3")
    voices = VoiceLibrary(hist, lib)
    return hist, voices, Cast(data / "studio.sqlite3", lib, voices), SceneStore(data / "studio.sqlite3")


def test_cast_and_scenes_survive_a_restart(tmp_path):
    face = tmp_path / "face.png"
    Image.new("RGB", (300, 400), (10, 120, 200)).save(face)
    wav = tmp_path / "v.wav"
    sf.write(wav, 0.1 * np.sin(np.arange(16000 * 4) / 10), 16000)
    hist, voices, cast, scenes = open_all(tmp_path / "data")
    voices.save("Low voice", str(wav), "Hello there.")
    mara = cast.save("Mara", look="red coat", portrait=str(face), voice="Low voice", seed=42, style="Noir")
    sc = scenes.new("Harbour", "EXT. HARBOUR - NIGHT\n\nFog.\n", settings={"aspect": "9:16", "fps": 25},
                    overrides={"0": {"engine": "svd", "duration": 4.5}},
                    music={"source": "job", "tags": "slow strings"})
    scenes.remember("tts:abc", "tts", "job1", [{"type": "audio", "path": "/x.wav"}])
    for x in (hist, cast, scenes):
        x.close()
    face.unlink()       # the cast keeps its own copy in the library

    hist, voices, cast, scenes = open_all(tmp_path / "data")
    again = cast.get("mara")        # names are matched without regard to case, as cues are
    assert again is not None and again.id == mara.id
    assert (again.look, again.voice, again.seed, again.style) == ("red coat", "Low voice", 42, "Noir")
    assert Path(again.portrait).is_file() and Path(again.portrait).is_relative_to(tmp_path / "data" / "library")
    got = scenes.get(sc.id)
    assert got.script.startswith("EXT. HARBOUR") and got.settings == {"aspect": "9:16", "fps": 25}
    assert got.overrides == {"0": {"engine": "svd", "duration": 4.5}}
    assert got.music == {"source": "job", "tags": "slow strings"}
    assert scenes.find("harbour").id == sc.id
    assert scenes.made("tts:abc")["job_id"] == "job1"

    # Renaming and deleting a character touch the cast only.
    renamed = cast.rename("Mara", "Captain Mara")
    assert renamed.id == mara.id and cast.get("Mara") is None and cast.get("Captain Mara").portrait == again.portrait
    assert cast.delete("Captain Mara") and cast.names() == []
    assert Path(again.portrait).is_file() and voices.get("Low voice") is not None
    for x in (hist, cast, scenes):
        x.close()


def test_bad_cast_input_names_the_field(tmp_path):
    hist, voices, cast, scenes = open_all(tmp_path / "data")
    with pytest.raises(InputError, match=r"^name: must be 1–48 characters"):
        cast.save("")
    with pytest.raises(InputError, match=r"^seed: 9999999999 is outside"):
        cast.save("Ben", seed=9_999_999_999)
    with pytest.raises(InputError, match=r"^voice: 'Nobody' is not in the voice library \(saved voices: none"):
        cast.save("Ben", voice="Nobody")
    cast.save("Ben")
    with pytest.raises(InputError, match="already in the cast"):
        cast.save("BEN")
    with pytest.raises(InputError, match=r"^title: must be 1–120"):
        scenes.new("  ")
    for x in (hist, cast, scenes):
        x.close()
