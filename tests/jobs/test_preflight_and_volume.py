"""Checks before GPU time (decodable media, lengths, sizes) and the volume preparation done at worker start."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from tests.support.procs import REPO
from worker.errors import WorkerError
from worker.jobs import JOBS
from worker.jobs.base import MediaFile
from workflows.catalogue import get_spec, load_manifest
from worker.actions.job import check_provisioned
from worker.volume import VolumeLayout, job_readiness, place_placeholder, prepare


def wav(seconds, rate=24000):
    buf = io.BytesIO()
    sf.write(buf, np.zeros(int(seconds * rate), dtype="float32") + 0.01, rate, format="WAV")
    return MediaFile("x", buf.getvalue(), "audio", "audio/wav", ".wav")


def png(w, h):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), "gray").save(buf, "PNG")
    return MediaFile("x", buf.getvalue(), "image", "image/png", ".png")


def named(m, name):
    m.param = name
    return m


def test_tts_trims_a_long_reference_with_a_warning():
    job = JOBS["tts"]
    media = {"reference_audio": named(wav(20), "reference_audio")}
    warnings = job.preflight(job.spec.validate({"text": "hi", "reference_audio": "x"}), media)
    assert any("20.0 s" in w and "12 s" in w for w in warnings)
    data, rate = sf.read(io.BytesIO(media["reference_audio"].data))
    assert abs(len(data) / rate - 12.0) < 0.01


def test_tts_reference_checks():
    job = JOBS["tts"]
    v = job.spec.validate({"text": "hi", "reference_audio": "x"})
    assert job.preflight(v, {"reference_audio": named(wav(8), "reference_audio")}) == []
    assert any("short" in w for w in job.preflight(v, {"reference_audio": named(wav(3), "reference_audio")}))
    with pytest.raises(WorkerError) as e:
        job.preflight(v, {"reference_audio": named(wav(1), "reference_audio")})
    assert e.value.field == "reference_audio" and "too short" in e.value.message
    with pytest.raises(WorkerError) as e:
        job.preflight(v, {"reference_audio": named(wav(40), "reference_audio")})
    assert e.value.field == "reference_audio" and "too long" in e.value.message and "at most 30 s" in e.value.message
    junk = MediaFile("reference_audio", b"RIFF\x00\x00\x00\x00WAVEjunkjunk", "audio", "audio/wav", ".wav")
    with pytest.raises(WorkerError) as e:
        job.preflight(v, {"reference_audio": junk})
    assert e.value.code == "invalid_input" and "could not be decoded" in e.value.message


def test_lipsync_checks_face_image_size_and_audio_length():
    job = JOBS["lipsync"]
    v = job.spec.validate({"image": "x", "audio": "y", "max_duration": 5})
    with pytest.raises(WorkerError) as e:
        job.preflight(v, {"image": named(png(200, 300), "image"), "audio": named(wav(3), "audio")})
    assert e.value.field == "image" and "200×300" in e.value.message and "256" in e.value.message
    w = job.preflight(v, {"image": named(png(512, 640), "image"), "audio": named(wav(8), "audio")})
    assert any("only the first 5 s" in x for x in w)
    with pytest.raises(WorkerError) as e:
        job.preflight(v, {"image": named(png(512, 512), "image"), "audio": named(png(64, 64), "audio")})
    assert e.value.field == "audio" and "expected an audio file" in e.value.message
    broken = MediaFile("image", b"\x89PNG\r\n\x1a\nbroken", "image", "image/png", ".png")
    with pytest.raises(WorkerError) as e:
        job.preflight(v, {"image": broken, "audio": named(wav(3), "audio")})
    assert e.value.field == "image" and "could not be decoded" in e.value.message


def test_animate_and_music_preflight():
    job = JOBS["animate"]
    assert job.preflight(job.spec.validate({"image": "x"}), {"image": named(png(640, 360), "image")}) == []
    w = job.preflight(job.spec.validate({"image": "x", "mode": "svd", "prompt": "rain"}),
                      {"image": named(png(640, 360), "image")})
    assert any("ignored" in x for x in w)
    m = JOBS["music"]
    assert m.preflight(m.spec.validate({"tags": "pop", "lyrics": "just words"}), {})


def test_prepare_volume(tmp_path):
    layout = VolumeLayout(volume=tmp_path / "runpod-volume", comfyui=tmp_path / "comfyui")
    (layout.comfyui / "models" / "sonic").mkdir(parents=True)              # what the pack mkdirs at import
    (layout.models / "my_extra_folder").mkdir(parents=True)
    env = prepare(layout)
    yaml = (layout.comfyui / "extra_model_paths.yaml").read_text()
    assert f"base_path: {layout.models}" in yaml
    for folder in ("checkpoints", "loras", "animatediff_models", "animatediff_motion_lora", "sonic", "my_extra_folder"):
        assert f"  {folder}: {folder}/" in yaml
    assert "  hf:" not in yaml and "cached_path:" not in yaml
    link = layout.comfyui / "models" / "sonic"
    assert link.is_symlink() and link.resolve() == (layout.models / "sonic").resolve()
    assert env["HF_HOME"] == str(layout.models / "hf")
    assert env["HF_HUB_CACHE"] == str(layout.models / "hf" / "hub")
    assert env["HF_HUB_OFFLINE"] == "1", "ComfyUI reads provisioned hub files from the volume, never the hub"
    assert env["CACHED_PATH_CACHE_ROOT"] == str(layout.models / "cached_path")
    prepare(layout)                                                          # idempotent
    assert link.is_symlink()


def test_sonic_folder_with_files_is_kept_aside(tmp_path):
    layout = VolumeLayout(volume=tmp_path / "v", comfyui=tmp_path / "c")
    (layout.comfyui / "models" / "sonic").mkdir(parents=True)
    (layout.comfyui / "models" / "sonic" / "old.pth").write_bytes(b"x")
    prepare(layout)
    assert (layout.comfyui / "models" / "sonic.image" / "old.pth").exists()
    assert (layout.comfyui / "models" / "sonic").is_symlink()


def test_readiness_reports_missing_files_with_sizes(tmp_path):
    models = tmp_path / "models"
    r = job_readiness(models)
    assert not r["portrait"]["ready"]
    # portrait counts as ready only with the IP-Adapter files its `characters` need (as tts with Whisper)
    assert r["portrait"]["missing"] == [
        {"path": "checkpoints/Deliberate_v5.safetensors", "size": 2132625894, "problem": "not on the volume"},
        {"path": "clip_vision/CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors", "size": 2528373448,
         "problem": "not on the volume"},
        {"path": "ipadapter/ip-adapter-plus-face_sd15.safetensors", "size": 98183288, "problem": "not on the volume"}]
    for path, size in [("checkpoints/Deliberate_v5.safetensors", 2132625894),
                       ("clip_vision/CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors", 2528373448)]:
        (models / path).parent.mkdir(parents=True, exist_ok=True)
        with open(models / path, "wb") as fh:
            fh.truncate(size)                                                # sparse: the right size, no disk used
    assert [m["path"] for m in job_readiness(models)["portrait"]["missing"]] == \
        ["ipadapter/ip-adapter-plus-face_sd15.safetensors"]
    (models / "ipadapter").mkdir()
    with open(models / "ipadapter/ip-adapter-plus-face_sd15.safetensors", "wb") as fh:
        fh.truncate(98183288)
    assert job_readiness(models)["portrait"]["ready"]
    assert not job_readiness(models)["animate"]["ready"]


def test_tts_readiness_checks_what_huggingface_hub_reads(tmp_path):
    """F5-TTS, its vocoder and Whisper are found through the hub cache: the snapshot of the pinned commit, and
    refs/main naming that commit. A file at the right path with a stale refs/main is not ready."""
    models = tmp_path / "models"
    manifest = load_manifest()
    tts = get_spec("tts")
    for path in tts.all_models():
        place_placeholder(models, manifest[path])
    assert job_readiness(models)["tts"] == {"ready": True, "missing": []}
    f5 = next(manifest[p] for p in tts.all_models() if "model_1250000" in p)
    assert f5.path.startswith("hf/hub/models--SWivid--F5-TTS/snapshots/") and f5.commit in f5.path
    refs = models / "hf/hub/models--SWivid--F5-TTS/refs/main"
    refs.write_text("main")
    r = job_readiness(models)["tts"]
    assert not r["ready"] and {m["path"] for m in r["missing"]} == {f5.path, f5.path.replace("model_1250000.safetensors", "vocab.txt")}
    entry = next(m for m in r["missing"] if m["path"] == f5.path)
    assert entry["repo"] == "SWivid/F5-TTS" and entry["commit"] == f5.commit
    assert "refs/main names 'main'" in entry["problem"]
    refs.unlink()
    assert "refs/main is missing" in job_readiness(models)["tts"]["missing"][0]["problem"]


def test_whisper_is_needed_only_when_the_reference_transcript_is_empty(tmp_path):
    models = tmp_path / "models"
    manifest, tts = load_manifest(), get_spec("tts")
    whisper = [p for p in tts.all_models() if "whisper-large-v3-turbo" in p]
    assert whisper and all(manifest[p].hub.repo == "openai/whisper-large-v3-turbo" for p in whisper)
    for path in tts.all_models():
        if path not in whisper:
            place_placeholder(models, manifest[path])
    assert not set(whisper) & set(tts.required_models(tts.validate({"text": "Hi", "reference_audio": "x",
                                                                    "reference_text": "Hello there."})))
    check_provisioned("tts", {"reference_text": "Hello there."}, models)
    with pytest.raises(WorkerError) as e:
        check_provisioned("tts", {"reference_text": "  "}, models)
    assert e.value.code == "model_missing" and "from openai/whisper-large-v3-turbo" in e.value.message
    assert not job_readiness(models)["tts"]["ready"], "readiness covers everything the job may load"


def test_volume_command_prints_exports(tmp_path):
    env = {**os.environ, "RUNPOD_VOLUME": str(tmp_path / "vol"), "COMFYUI_DIR": str(tmp_path / "comfy")}
    out = subprocess.run([sys.executable, "-m", "worker.volume", "--shell"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"export HF_HOME={tmp_path}/vol/models/hf" in out.stdout
    assert (tmp_path / "comfy" / "models" / "sonic").is_symlink()
