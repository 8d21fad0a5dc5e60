"""The preview media a person would check: sizes, durations, streams; and model files as ComfyUI checks them."""
from __future__ import annotations

import io
import json

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from tests.support import faces

from . import graphs
from .conftest import Engine, output_of, run_graph, start_engine, wav_bytes


@pytest.fixture(scope="module")
def studio(tmp_path_factory) -> Engine:
    e = start_engine(tmp_path_factory.mktemp("media"), "--models-from-manifest", "--step-delay", "0")
    assert e.upload("face.png", faces.png(faces.face_photo(320, 400))).status_code == 200
    assert e.upload("voice.wav", wav_bytes(2.0, 16000)).status_code == 200
    assert e.upload("long.wav", wav_bytes(5.0, 16000)).status_code == 200
    yield e
    e.http.close()
    e.proc.stop()


async def run(e: Engine, graph: dict) -> dict:
    return output_of((await run_graph(e, graph))[1])


def fetch(e: Engine, item: dict) -> tuple[bytes, str]:
    r = e.http.get("/view", params={"filename": item["filename"], "subfolder": item["subfolder"],
                                    "type": item["type"]})
    assert r.status_code == 200
    return r.content, r.headers["content-type"]


def media_info(data: bytes) -> dict:
    with av.open(io.BytesIO(data)) as box:
        out = {}
        for s in box.streams:
            frames = sum(1 for _ in box.decode(s)) if s.type == "video" else None
            box.seek(0)
            dur = float(s.duration * s.time_base) if s.duration else None
            out[s.type] = {"duration": dur, "frames": frames, "rate": getattr(s, "rate", None),
                           "size": (s.width, s.height) if s.type == "video" else None}
        return out


async def test_portrait_png_at_latent_size_marked_preview(studio: Engine):
    out = await run(studio, graphs.portrait("A fierce viking", width=512, height=768, batch=2, seed=77))
    assert len(out["images"]) == 2
    names = [i["filename"] for i in out["images"]]
    assert all(n.startswith("portrait_") and n.endswith("_.png") for n in names) and len(set(names)) == 2
    data, ctype = fetch(studio, out["images"][0])
    assert ctype == "image/png"
    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert img.size == (512, 768)
    r, g, b = img.getpixel((img.width - 3, 3))
    assert r > 150 and g < 80 and b < 80, "the red PREVIEW banner is drawn across the top"


async def test_models_are_checked_like_comfyui(studio: Engine):
    info = studio.http.get("/object_info/CheckpointLoaderSimple").json()["CheckpointLoaderSimple"]
    listed = info["input"]["required"]["ckpt_name"][0]
    assert "Deliberate_v5.safetensors" in listed
    assert "Deliberate_v5.safetensors" in studio.http.get("/models/checkpoints").json()
    r = studio.http.post("/prompt", json={"prompt": graphs.portrait(ckpt="other.safetensors")})
    assert r.status_code == 400
    err = r.json()["node_errors"]["1"]["errors"][0]
    assert err["type"] == "value_not_in_list"
    assert err["details"] == f"ckpt_name: 'other.safetensors' not in {listed}"
    sonic = studio.http.get("/object_info/SONICTLoader").json()["SONICTLoader"]["input"]["required"]["sonic_unet"][0]
    assert sonic[0] == "none" and "unet.pth" in sonic


async def test_tts_speech_length_follows_text_and_is_24khz(studio: Engine):
    short = await run(studio, graphs.tts("voice.wav", "Hello there."))
    long = await run(studio, graphs.tts("voice.wav", "Hello there. " * 8 + "This line is much longer."))
    data_s, ctype = fetch(studio, short["audio"][0])
    data_l, _ = fetch(studio, long["audio"][0])
    assert short["audio"][0]["filename"].endswith(".flac") and ctype == "audio/flac"
    a, rate = sf.read(io.BytesIO(data_s))
    b, _ = sf.read(io.BytesIO(data_l))
    assert rate == 24000
    assert 0.4 < len(a) / rate < 5 and len(b) > 3 * len(a)
    assert np.abs(a).max() > 0.05, "not silence"


async def test_tts_mp3_and_trim(studio: Engine):
    out = await run(studio, graphs.tts("voice.wav", "Short line.", saver="SaveAudioMP3"))
    data, ctype = fetch(studio, out["audio"][0])
    assert out["audio"][0]["filename"].endswith(".mp3") and ctype == "audio/mpeg"
    assert media_info(data)["audio"]["duration"] > 0.3
    trim = {"1": {"class_type": "LoadAudio", "inputs": {"audio": "long.wav"}},
            "2": {"class_type": "TrimAudioDuration", "inputs": {"audio": ["1", 0], "start_index": 1.0,
                                                                "duration": 1.5}},
            "3": {"class_type": "SaveAudio", "inputs": {"audio": ["2", 0], "filename_prefix": "audio/trim"}}}
    out = await run(studio, trim)
    a, rate = sf.read(io.BytesIO(fetch(studio, out["audio"][0])[0]))
    assert abs(len(a) / rate - 1.5) < 0.01


async def test_music_lasts_the_requested_seconds(studio: Engine):
    out = await run(studio, graphs.music(3.0))
    data, _ = fetch(studio, out["audio"][0])
    assert out["audio"][0]["filename"].endswith(".mp3")
    assert abs(media_info(data)["audio"]["duration"] - 3.0) < 0.15


async def test_lipsync_mp4_is_as_long_as_the_shorter_of_duration_and_audio(studio: Engine):
    out = await run(studio, graphs.lipsync("face.png", "voice.wav", duration=10.0, fps=25.0))
    assert out["animated"] == [True] and out["images"][0]["filename"].endswith(".mp4")
    data, ctype = fetch(studio, out["images"][0])
    assert ctype == "video/mp4"
    info = media_info(data)
    assert info["video"]["frames"] == 50 and abs(info["video"]["duration"] - 2.0) < 0.05
    assert abs(info["audio"]["duration"] - info["video"]["duration"]) < 0.1
    short = await run(studio, graphs.lipsync("face.png", "voice.wav", duration=1.0, fps=25.0))
    assert media_info(fetch(studio, short["images"][0])[0])["video"]["frames"] == 25


async def test_animate_clip_has_the_graph_frames_and_fps(studio: Engine):
    out = await run(studio, graphs.animate_svd("face.png", frames=12, fps=8.0, width=256, height=144))
    info = media_info(fetch(studio, out["images"][0])[0])
    assert info["video"]["frames"] == 12 and info["video"]["size"] == (256, 144)
    assert abs(info["video"]["duration"] - 1.5) < 0.05 and "audio" not in info


def test_system_stats_names_the_preview_engine(studio: Engine):
    stats = studio.http.get("/system_stats").json()
    assert stats["system"]["argv"][0] == "studio-preview-engine"
    assert stats["system"]["comfyui_version"] == "0.3.64"
    assert stats["devices"][0]["type"] == "cpu"
    assert "To see the GUI go to: http://127.0.0.1:" in studio.proc.log()
    assert json.dumps(stats).find("Deliberate") == -1
