"""The five jobs end to end: RunPod's queue API (`python -m worker serve --preview`, a real process) → the
handler → the preview engine, checked the way a person would check the media they get back.

One endpoint for the module. In preview mode its network volume is the preview engine's data folder, which holds
every manifest file as a sparse placeholder, so the worker's "not provisioned" check is live: a test removes one
file and puts it back.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from tests.support import faces
from tests.support.jobs import b64, data, error_of, png_b64, run
from tests.support.procs import Proc
from worker.volume import place_placeholder
from workflows.catalogue import get_spec, load_manifest

READY = "local endpoint ready:"
ENGINE = re.compile(r"preview engine running at (\S+) \(volume (.+)\)")


def place(models: Path, path: str) -> None:
    """A sparse file of the manifest's size where its loader reads it (and refs/main for a hub-cache file)."""
    place_placeholder(models, load_manifest()[path])


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc = Proc(["-m", "worker", "serve", "--preview", "--port", "0"], log)
    try:
        base = proc.wait_for_line(READY, timeout=60).split(READY, 1)[1].strip()
        engine, volume = ENGINE.search(proc.wait_for_line("preview engine running at", timeout=5)).groups()
        yield {"base": base, "engine": engine, "volume": Path(volume)}
    finally:
        proc.stop()


@pytest.fixture
def volume(serve) -> Path:
    return serve["volume"]


def completed(base: str, inp: dict) -> dict:
    job = run(base, inp)
    assert job["status"] == "COMPLETED", job
    out = job["output"]
    assert out["status"] == "success" and out["action"] == inp["action"] and out["preview"] is True
    return out


def speech_b64(seconds: float, rate: int = 16000) -> str:
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.2 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    buf = io.BytesIO()
    sf.write(buf, voice.astype("float32"), rate, format="WAV")
    return b64(buf.getvalue())


def audio_seconds(raw: bytes) -> tuple[float, float]:
    """(duration, RMS in full scale) after a full decode with PyAV: what a player would play."""
    count, squares, values = 0, 0.0, 0
    with av.open(io.BytesIO(raw)) as box:
        stream = box.streams.audio[0]
        for frame in box.decode(stream):
            count += frame.samples
            arr = frame.to_ndarray()
            scale = float(np.iinfo(arr.dtype).max) if arr.dtype.kind == "i" else 1.0
            squares += float(np.sum((arr.astype("float64") / scale) ** 2))
            values += arr.size
        rate = stream.codec_context.sample_rate
    return count / rate, (squares / values) ** 0.5 if values else 0.0


def video_facts(raw: bytes) -> dict:
    """Frames, fps and the decoded length of each stream of an MP4."""
    with av.open(io.BytesIO(raw)) as box:
        facts = {"format": box.format.name, "has_audio": bool(box.streams.audio)}
        v = box.streams.video[0]
        facts["fps"] = float(v.average_rate or v.guessed_rate)
        frames = list(box.decode(v))
        facts["frames"] = len(frames)
        facts["size"] = (frames[0].width, frames[0].height)
        facts["video_s"] = len(frames) / facts["fps"]
    if facts["has_audio"]:
        facts["audio_s"], facts["audio_rms"] = audio_seconds(raw)
    return facts


def non_commercial_note(out: dict) -> None:
    lic = out["licence"]
    assert lic["commercial"] is False and "non-commercial" in lic["note"].lower()


# ---- portrait -------------------------------------------------------------------------------------------

def test_portrait_pngs_at_the_requested_size_and_the_random_seed_is_returned(serve):
    out = completed(serve["base"], {"action": "portrait", "description": "Viking warrior, braided beard",
                                    "width": 256, "height": 384, "steps": 2, "batch_size": 2, "seed": -1})
    assert len(out["files"]) == 2
    for f in out["files"]:
        assert f["type"] == "image" and f["mime"] == "image/png" and f["filename"].endswith(".png")
        with Image.open(io.BytesIO(data(f))) as im:
            im.load()
            assert im.format == "PNG" and im.size == (256, 384)
    assert isinstance(out["seed"], int) and 0 <= out["seed"] <= get_spec("portrait").param("seed").max
    again = completed(serve["base"], {"action": "portrait", "prompt": "Viking", "width": 256, "height": 256,
                                      "steps": 2, "seed": 1234})
    assert again["seed"] == 1234


# ---- tts --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,expected", [("wav", ["audio/wav"]), ("mp3", ["audio/mpeg"]),
                                          ("wav+mp3", ["audio/wav", "audio/mpeg"])])
def test_tts_speaks_in_the_requested_formats_with_the_licence(serve, fmt, expected):
    out = completed(serve["base"], {"action": "tts", "text": "The storm is coming. Close the gates!",
                                    "reference_audio": speech_b64(6), "reference_text": "a test voice",
                                    "format": fmt, "seed": -1})
    assert sorted(f["mime"] for f in out["files"]) == sorted(expected)
    for f in out["files"]:
        raw = data(f)
        assert f["type"] == "audio"
        if f["mime"] == "audio/wav":
            # converted from ComfyUI's FLAC by the worker: a real RIFF file under a .wav name
            assert f["filename"].endswith(".wav") and raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
            assert sf.info(io.BytesIO(raw)).format == "WAV"
        else:
            assert f["filename"].endswith(".mp3")
        seconds, rms = audio_seconds(raw)
        assert seconds > 1.0 and rms > 0.01, (f["filename"], seconds, rms)     # speech, not silence
    assert isinstance(out["seed"], int) and out["seed"] >= 0
    non_commercial_note(out)


# ---- lipsync ----------------------------------------------------------------------------------------------

def test_lipsync_mp4_has_video_and_sound_of_the_same_length(serve):
    # A photographed face: SONIC (and the preview engine, like it) fails on a portrait without one.
    face = b64(faces.png(faces.face_photo(512, 512)))
    out = completed(serve["base"], {"action": "lipsync", "image": face, "audio": speech_b64(5),
                                    "steps": 5, "fps": 25, "max_duration": 3, "seed": -1})
    [f] = out["files"]
    assert f["type"] == "video" and f["mime"] == "video/mp4" and f["filename"].endswith(".mp4")
    facts = video_facts(data(f))
    assert "mp4" in facts["format"] and facts["has_audio"]
    assert facts["fps"] == pytest.approx(25, abs=0.01)
    assert facts["video_s"] == pytest.approx(3, rel=0.1)
    assert facts["audio_s"] == pytest.approx(facts["video_s"], abs=0.15)
    assert facts["audio_rms"] > 0.01
    assert 0 <= out["seed"] <= 2**31 - 1
    non_commercial_note(out)
    assert any("max_duration" in w for w in out["warnings"])    # 5 s of speech, 3 s animated


# ---- animate ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["animatelcm", "svd"])
def test_animate_mp4_has_the_requested_frames_and_fps(serve, mode):
    out = completed(serve["base"], {"action": "animate", "image": png_b64(512, 384), "prompt": "rain falls",
                                    "frames": 12, "fps": 8, "mode": mode, "seed": -1})
    videos = [f for f in out["files"] if f["mime"] == "video/mp4"]
    assert len(videos) == 1 and videos[0]["type"] == "video"
    facts = video_facts(data(videos[0]))
    assert facts["frames"] == 12 and facts["fps"] == pytest.approx(8, abs=0.01)
    assert facts["video_s"] == pytest.approx(12 / 8, rel=0.1)
    assert isinstance(out["seed"], int) and out["seed"] >= 0
    if mode == "svd":
        assert "Stability" in out["licence"]["name"] and out["licence"]["note"]


def test_animate_keeps_a_wide_panel_wide(serve):
    """A 2:1 panel is not centre-cropped to a square: the clip's frame keeps (nearly) the panel's shape."""
    out = completed(serve["base"], {"action": "animate", "image": png_b64(1024, 512), "frames": 8, "fps": 8})
    videos = [f for f in out["files"] if f["mime"] == "video/mp4"]
    assert len(videos) == 1
    w, h = video_facts(data(videos[0]))["size"]
    assert w / h > 1.5, f"the 2:1 panel came back as a {w}×{h} clip"


# ---- music --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,mime,ext", [("mp3", "audio/mpeg", ".mp3"), ("wav", "audio/wav", ".wav")])
def test_music_has_the_requested_duration(serve, fmt, mime, ext):
    out = completed(serve["base"], {"action": "music", "tags": "ambient, piano, calm", "lyrics": "[instrumental]",
                                    "duration": 8, "steps": 10, "format": fmt, "seed": -1})
    [f] = out["files"]
    assert f["type"] == "audio" and f["mime"] == mime and f["filename"].endswith(ext)
    raw = data(f)
    if fmt == "wav":
        assert sf.info(io.BytesIO(raw)).format == "WAV"
    seconds, rms = audio_seconds(raw)
    assert seconds == pytest.approx(8, rel=0.1) and rms > 0.01
    assert isinstance(out["seed"], int) and out["seed"] >= 0


# ---- missing models ---------------------------------------------------------------------------------------------

def test_a_file_missing_from_the_volume_fails_before_anything_is_queued(serve, volume):
    path = get_spec("tts").required_models({})[-1]
    target = volume / "models" / path
    before = len(httpx.get(serve["engine"] + "/history").json())
    target.unlink()
    try:
        err = error_of(run(serve["base"], {"action": "tts", "text": "Hello", "reference_audio": speech_b64(6)}))
    finally:
        place(volume / "models", path)
    assert err["code"] == "model_missing"
    assert err["message"].startswith(f"tts: not provisioned: {path} (")
    assert err["message"].endswith("— run `python -m deploy provision --jobs tts`")
    assert err["details"]["missing"] == [{"path": path, "size": load_manifest()[path].size,
                                          "problem": "not on the volume", "repo": "openai/whisper-large-v3-turbo",
                                          "commit": path.split("/")[4]}]
    assert len(httpx.get(serve["engine"] + "/history").json()) == before      # ComfyUI never saw it
    # and once the file is back the same job runs
    assert completed(serve["base"], {"action": "tts", "text": "Hello", "reference_audio": speech_b64(6)})["files"]


def test_whisper_is_needed_only_to_transcribe_an_empty_reference_transcript(serve, volume):
    """F5-TTS loads Whisper only when the reference transcript is empty: without Whisper on the volume a job with
    a transcript still runs, and one without is refused before queueing, naming the repository to provision."""
    whisper = [p for p in get_spec("tts").all_models() if "whisper-large-v3-turbo" in p]
    model = next(p for p in whisper if p.endswith("model.safetensors"))
    (volume / "models" / model).unlink()
    try:
        done = completed(serve["base"], {"action": "tts", "text": "Hello", "reference_audio": speech_b64(6),
                                         "reference_text": "One two three four five six."})
        assert done["files"]
        err = error_of(run(serve["base"], {"action": "tts", "text": "Hello", "reference_audio": speech_b64(6),
                                           "reference_text": ""}))
    finally:
        place(volume / "models", model)
    assert err["code"] == "model_missing"
    assert f"{model} (1.6 GB, from openai/whisper-large-v3-turbo)" in err["message"]
    assert err["message"].endswith("— run `python -m deploy provision --jobs tts`")


def test_a_checkpoint_comfyui_does_not_have_is_model_missing(serve):
    err = error_of(run(serve["base"], {"action": "portrait", "prompt": "Viking", "model": "Nope_v1.safetensors",
                                       "width": 256, "height": 256, "steps": 2}))
    assert err["code"] == "model_missing"
    assert "Nope_v1.safetensors" in err["message"] and "not provisioned" in err["message"]
    assert "Deliberate_v5.safetensors" in err["message"]       # what is available instead


# ---- portrait with characters (IP-Adapter) ----------------------------------------------------------------

def test_a_two_character_panel_shows_each_reference_in_its_region(serve):
    """Casting is visible in preview: each reference's thumbnail sits in the middle of its own region."""
    from worker.preview.render import reference_rects
    red, blue = png_b64(300, 400, (220, 20, 20)), png_b64(300, 400, (20, 40, 220))
    out = completed(serve["base"], {"action": "portrait", "prompt": "two sailors argue on deck", "width": 512,
                                    "height": 384, "steps": 2, "seed": 5,
                                    "characters": [{"image": red, "region": "left"},
                                                   {"image": f"data:image/png;base64,{blue}", "region": "right",
                                                    "weight": 1.2}]})
    with Image.open(io.BytesIO(data(out["files"][0]))) as im:
        pic = np.asarray(im.convert("RGB"), dtype=float)
    rects = reference_rects((512, 384), [(0, 0, 0.5, 1), (0.5, 0, 0.5, 1)])
    means = []
    for _region, (x0, y0, x1, y1) in rects:
        inset = (x1 - x0) // 5
        means.append(pic[y0 + inset:y1 - inset, x0 + inset:x1 - inset].mean(axis=(0, 1)))
    left, right = means
    assert left[0] > 180 and left[2] < 60, left        # the red reference on the left
    assert right[2] > 180 and right[0] < 60, right     # the blue one on the right


def test_an_unreadable_character_reference_is_refused_naming_it(serve):
    good = png_b64(64, 64)
    job = run(serve["base"], {"action": "portrait", "prompt": "x", "steps": 1,
                              "characters": [{"image": good}, {"image": good[:60]}]})
    err = error_of(job)
    assert err["code"] == "invalid_input" and err["field"] == "characters[1].image", err


def test_the_ip_adapter_files_are_needed_only_by_a_portrait_with_characters(serve, volume):
    adapter = "ipadapter/ip-adapter-plus-face_sd15.safetensors"
    (volume / "models" / adapter).unlink()
    try:
        plain = completed(serve["base"], {"action": "portrait", "prompt": "x", "width": 256, "height": 256,
                                          "steps": 1})
        assert plain["files"]
        err = error_of(run(serve["base"], {"action": "portrait", "prompt": "x", "width": 256, "height": 256,
                                           "steps": 1, "characters": [{"image": png_b64(64, 64)}]}))
    finally:
        place(volume / "models", adapter)
    assert err["code"] == "model_missing"
    assert err["message"].startswith(f"portrait: not provisioned: {adapter} (98.2 MB)"), err["message"]
    assert err["message"].endswith("— run `python -m deploy provision --jobs portrait`")
