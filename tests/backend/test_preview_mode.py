"""With no credentials the Studio starts `python -m worker serve --preview` itself and runs real jobs on it."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend.errors import InputError
from backend.settings import Settings
from backend.studio import Studio
from tests.support.procs import stop_detached_endpoint


@pytest.fixture(scope="module")
def preview_studio(tmp_path_factory):
    data = tmp_path_factory.mktemp("preview-data")
    state = data / "preview-endpoint" / "endpoint.json"
    try:
        st = Studio(Settings.from_env(env={"STUDIO_DATA_DIR": str(data)}, dotenv=None)).start()
        yield st
        pid = json.loads(state.read_text())["pid"]
        st.close()          # nothing in flight: the detached endpoint is stopped and its record removed
        assert not state.exists()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        stop_detached_endpoint(state)


def test_preview_mode_runs_a_portrait(preview_studio):
    assert preview_studio.mode == "preview"
    rec = preview_studio.submit("portrait", {"prompt": "a knight in the rain", "width": 256, "height": 256})
    evs = list(preview_studio.watch(rec.id, timeout=120))
    assert evs[-1].kind == "completed", [(e.kind, e.message) for e in evs]
    done = preview_studio.get(rec.id)
    assert done.preview is True and isinstance(done.seed, int)
    [img] = done.outputs
    assert img["type"] == "image" and Image.open(img["path"]).size == (256, 256)


def test_readiness_combines_health_and_debug(preview_studio):
    r = preview_studio.readiness()
    assert r.preview is True and r.comfyui_alive is True
    assert set(r.jobs) >= {"portrait", "tts", "lipsync", "animate", "music"}
    assert r.workers["ready"] + r.workers["running"] >= 1
    assert "inQueue" in r.queue and "worker(s)" in r.summary
    for j in r.jobs.values():
        assert all(isinstance(m["size"], int) and m["path"] for m in j.missing)
    assert "warm-up job" in preview_studio.warm_up()


def test_voices_are_kept_by_name(preview_studio, tmp_path):
    wav = tmp_path / "narrator.wav"
    sf.write(wav, np.zeros(16000, dtype=np.float32), 16000)
    v = preview_studio.voices.save("Narrator", str(wav), "  Once upon a time.  ")
    assert v.transcript == "Once upon a time." and v.audio_path != str(wav)
    wav.unlink()                                  # the library keeps its own copy
    got = preview_studio.voices.get("Narrator")
    assert got and open(got.audio_path, "rb").read(4) == b"RIFF"
    assert [x.name for x in preview_studio.voices.list()] == ["Narrator"]
    img = tmp_path / "face.png"
    Image.new("RGB", (4, 4)).save(img)
    with pytest.raises(InputError, match="audio: is image/png, not an audio file"):
        preview_studio.voices.save("Face", str(img), "hello")
    with pytest.raises(InputError, match="^transcript: is required"):
        preview_studio.voices.save("Other", str(img), " ")
    with pytest.raises(InputError, match="^name: "):
        preview_studio.voices.save("../etc", str(img), "x")
    assert preview_studio.voices.delete("Narrator") and preview_studio.voices.get("Narrator") is None
