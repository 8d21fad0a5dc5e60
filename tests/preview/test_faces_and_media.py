"""Preview media that follow the inputs (issue 10.15) and SONIC's face check (issue 15.3), as a person would check
them: the talking head is the uploaded portrait with a mouth that opens when the speech is loud; the panel
animation pushes in over the uploaded panel; the music has a beat and the asked length; a portrait with no face
fails at SONIC_PreData as on ComfyUI."""
from __future__ import annotations

import io

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend.faces import find_face
from tests.support import faces

from . import graphs
from .conftest import Engine, output_of, run_graph, start_engine

NO_BBOX = "cannot access local variable 'bbox_s' where it is not associated with a value"


def speech_like(seconds_loud_quiet: list[tuple[float, bool]], rate: int = 16000) -> bytes:
    """A WAV of loud (voiced, 0.5 amplitude) and silent stretches."""
    parts = []
    for seconds, loud in seconds_loud_quiet:
        t = np.arange(int(seconds * rate)) / rate
        parts.append((0.5 * np.sin(2 * np.pi * 160 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))) if loud
                     else np.zeros_like(t))
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(parts).astype(np.float32), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def eng(tmp_path_factory) -> Engine:
    e = start_engine(tmp_path_factory.mktemp("faces"), "--models-from-manifest", "--step-delay", "0")
    assert e.upload("face.png", faces.png(faces.face_photo(320, 400))).status_code == 200
    assert e.upload("landscape.png", faces.png(faces.landscape(384, 256))).status_code == 200
    assert e.upload("blank.png", faces.png(faces.blank(320, 400))).status_code == 200
    # 1 s quiet, 1 s loud, 1 s quiet, 1 s loud
    assert e.upload("speech.wav", speech_like([(1, False), (1, True), (1, False), (1, True)])).status_code == 200
    yield e
    e.http.close()
    e.proc.stop()


def fetch(e: Engine, item: dict) -> bytes:
    r = e.http.get("/view", params={"filename": item["filename"], "subfolder": item["subfolder"], "type": item["type"]})
    assert r.status_code == 200
    return r.content


def video_frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as box:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in box.decode(video=0)]


def corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def body(frame: np.ndarray) -> np.ndarray:
    """The picture without the PREVIEW banner (top 10 %) and the caption footer (bottom 20 %)."""
    h = frame.shape[0]
    return frame[h // 10 + 2: int(h * 0.8)]


# ---- SONIC's face check ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("picture", ["landscape.png", "blank.png"])
async def test_lipsync_without_a_face_fails_at_sonic_predata_as_comfyui(eng: Engine, picture: str):
    pid, frames = await run_graph(eng, graphs.lipsync(picture, "speech.wav", duration=2.0))
    err = next(f["data"] for f in frames if f["type"] == "execution_error")
    assert (err["node_type"], err["node_id"]) == ("SONIC_PreData", "5")
    assert err["exception_type"] == "UnboundLocalError"
    assert err["exception_message"] == NO_BBOX + "\n"
    assert err["traceback"][-1].endswith("sonic.py\", line 82, in preprocess_face\n")
    entry = eng.http.get(f"/history/{pid}").json()[pid]
    assert entry["status"]["status_str"] == "error" and not entry["outputs"]


async def test_lipsync_without_sonics_files_asks_for_them(tmp_path):
    e = start_engine(tmp_path, "--step-delay", "0", "--models-from-manifest")
    try:
        (e.data / "models" / "sonic" / "yoloface_v5m.pt").unlink()
        assert e.upload("face.png", faces.png(faces.face_photo(256, 256))).status_code == 200
        assert e.upload("speech.wav", speech_like([(1, True)])).status_code == 200
        _, frames = await run_graph(e, graphs.lipsync("face.png", "speech.wav", duration=1.0))
        err = next(f["data"] for f in frames if f["type"] == "execution_error")
        assert (err["node_type"], err["exception_type"]) == ("SONIC_PreData", "Exception")
        assert err["exception_message"] == "Please download the model first\n"
    finally:
        e.http.close()
        e.proc.stop()


# ---- the talking head -----------------------------------------------------------------------------------------
async def test_talking_head_is_the_portrait_with_a_mouth_that_follows_the_speech(eng: Engine):
    _, frames = await run_graph(eng, graphs.lipsync("face.png", "speech.wav", duration=10.0, fps=10.0))
    clip = video_frames(fetch(eng, output_of(frames)["images"][0]))
    assert len(clip) == 40
    portrait = np.asarray(faces.face_photo(320, 400), dtype=np.float32)[: clip[0].shape[0], : clip[0].shape[1]]
    assert corr(body(clip[0]), body(portrait)) > 0.9, "the frames show the uploaded portrait"
    assert clip[0][5, clip[0].shape[1] - 5, 0] > 150 and clip[0][5, clip[0].shape[1] - 5, 1] < 90, "PREVIEW banner"
    x, y, w, h = find_face(io.BytesIO(faces.png(faces.face_photo(320, 400)))).box
    mouth = (slice(y + int(h * 0.6), y + h), slice(x + w // 4, x + 3 * w // 4))
    face_rest = (slice(y, y + int(h * 0.45)), slice(x, x + w))

    def change(i: int) -> float:   # how much the mouth region differs from the portrait itself
        return float(np.abs(clip[i][mouth] - portrait[mouth]).mean())
    quiet = [change(i) for i in (3, 5, 7, 23, 25, 27)]     # inside the silent seconds
    loud = [change(i) for i in (13, 15, 17, 33, 35, 37)]   # inside the loud seconds
    assert min(loud) > 2 * max(max(quiet), 1.0), (quiet, loud)
    # Only the mouth moves: the eyes and forehead stay the portrait's.
    assert max(float(np.abs(clip[i][face_rest] - clip[0][face_rest]).mean()) for i in (15, 35)) < 3


async def test_a_preview_portrait_has_a_face_the_talking_head_can_use(eng: Engine):
    _, frames = await run_graph(eng, graphs.portrait("A smiling lighthouse keeper", width=512, height=640, seed=9))
    png = fetch(eng, output_of(frames)["images"][0])
    assert find_face(io.BytesIO(png)).found
    assert eng.upload("made.png", png).status_code == 200
    _, frames = await run_graph(eng, graphs.lipsync("made.png", "speech.wav", duration=1.0))
    assert output_of(frames)["images"][0]["filename"].endswith(".mp4")


# ---- the panel animation --------------------------------------------------------------------------------------
async def test_panel_animation_pushes_in_over_the_uploaded_panel(eng: Engine):
    _, frames = await run_graph(eng, graphs.animate_svd("landscape.png", frames=12, fps=8.0, width=384, height=256))
    clip = video_frames(fetch(eng, output_of(frames)["images"][0]))
    assert len(clip) == 12 and clip[0].shape[:2] == (256, 384)
    panel = np.asarray(faces.landscape(384, 256), dtype=np.float32)
    first, last = clip[0], clip[-1]
    assert corr(body(first), body(panel)) > 0.95, "the clip starts on the uploaded panel"
    # The last frame is the panel seen closer: it matches a centred crop of the panel scaled up better than the
    # panel itself.
    w, h = 384, 256
    cw, ch = w / 1.25, h / 1.25
    x0, y0 = (w - cw) / 2, (h - ch) * 0.45
    closer = np.asarray(faces.landscape(384, 256).resize((w, h), Image.BICUBIC, box=(x0, y0, x0 + cw, y0 + ch)),
                        dtype=np.float32)
    assert corr(body(last), body(closer)) > 0.9 > corr(body(last), body(panel)) or \
        corr(body(last), body(closer)) > corr(body(last), body(panel)) + 0.05
    steps = [float(np.abs(body(clip[i + 1]) - body(clip[i])).mean()) for i in range(len(clip) - 1)]
    assert all(s < 12 for s in steps) and sum(steps) > 5, "slow, steady motion"
    assert last[5, w - 5, 0] > 150 and last[5, w - 5, 1] < 90, "the PREVIEW banner stays put"


async def test_animatelcm_animates_the_uploaded_face_not_another(eng: Engine):
    """Issue 23 §7: the AnimateLCM template (as the catalogue sends it) shows the uploaded panel's face."""
    import json
    from pathlib import Path
    graph = json.loads((Path(__file__).parents[2] / "workflows" / "animate_animatelcm.api.json").read_text())
    graph["6"]["inputs"]["image"] = "face.png"
    graph["5"]["inputs"].update(width=320, height=400, batch_size=8)
    graph["13"]["inputs"]["steps"] = 2
    _, frames = await run_graph(eng, graph)
    clip = video_frames(fetch(eng, output_of(frames)["images"][0]))
    panel = np.asarray(faces.face_photo(320, 400), dtype=np.float32)
    assert clip[0].shape[:2] == (400, 320)
    assert corr(body(clip[0]), body(panel)) > 0.9, "the clip starts on the uploaded face"


# ---- music ----------------------------------------------------------------------------------------------------
async def test_music_has_the_asked_length_and_a_steady_beat(eng: Engine):
    _, frames = await run_graph(eng, graphs.music(8.0))
    data = fetch(eng, output_of(frames)["audio"][0])
    with av.open(io.BytesIO(data)) as box:
        stream = box.streams.audio[0]
        rate = stream.rate
        samples = np.concatenate([f.to_ndarray().reshape(-1, f.samples).mean(axis=0) for f in box.decode(stream)])
    assert abs(len(samples) / rate - 8.0) < 0.15
    hop = rate // 100                                      # 10 ms energy frames
    energy = np.array([np.sum(samples[i:i + hop] ** 2) for i in range(0, len(samples) - hop, hop)])
    onset = np.maximum(0, np.diff(np.log(energy + 1e-6)))  # rises in loudness
    onset -= onset.mean()
    ac = np.correlate(onset, onset, "full")[len(onset) - 1:]
    ac /= ac[0]
    lags = np.arange(len(ac)) / 100.0
    beat_band = (lags >= 0.44) & (lags <= 0.70)            # 85–135 BPM
    off_band = (lags >= 0.05) & (lags <= 0.15)
    assert ac[beat_band].max() > 0.3 and ac[beat_band].max() > 2 * ac[off_band].max(), \
        "onsets repeat at a beat period"
