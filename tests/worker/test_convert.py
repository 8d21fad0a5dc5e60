"""FLAC → WAV for the jobs whose format asks for WAV (ComfyUI 0.3.64 has no WAV saver), and the
"not provisioned" check the worker makes before it uploads or queues anything."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from worker.volume import place_placeholder
from workflows.catalogue import get_spec, load_manifest
from worker import convert
from worker.actions.job import check_provisioned
from worker.comfy.client import OutputFile
from worker.errors import WorkerError
from worker.outputs import Collected


def flac(seconds: float, rate: int = 24000, channels: int = 1, subtype: str = "PCM_16") -> tuple[bytes, np.ndarray]:
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32")
    samples = np.stack([tone] * channels, axis=1)
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="FLAC", subtype=subtype)
    return buf.getvalue(), samples


def collected(name: str, mime: str) -> Collected:
    return Collected(OutputFile(name, "audio", "output"), "audio", mime)


@pytest.mark.parametrize("rate,channels,subtype", [(24000, 1, "PCM_16"), (44100, 2, "PCM_16"), (48000, 2, "PCM_24")])
def test_flac_becomes_a_wav_with_the_same_samples(rate, channels, subtype):
    data, samples = flac(1.5, rate, channels, subtype)
    wav = convert.flac_to_wav(data)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    info = sf.info(io.BytesIO(wav))
    assert (info.format, info.samplerate, info.channels, info.subtype) == ("WAV", rate, channels, subtype)
    back, _ = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    original, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    assert back.shape == samples.shape
    assert np.array_equal(back, original)           # lossless: FLAC and WAV decode to the same samples


def test_a_broken_flac_is_an_execution_failure():
    with pytest.raises(WorkerError) as e:
        convert.flac_to_wav(b"fLaC not really")
    assert e.value.code == "execution_failed" and "FLAC" in e.value.message


@pytest.mark.parametrize("action,fmt,expected", [
    ("tts", "wav", {"audio/flac": "audio/wav"}),
    ("tts", "wav+mp3", {"audio/flac": "audio/wav"}),
    ("tts", "mp3", {}),
    ("music", "wav", {"audio/flac": "audio/wav"}),
    ("music", "mp3", {}),
])
def test_conversions_follow_the_requested_format(action, fmt, expected):
    assert convert.wanted(get_spec(action).output.get("convert"), {"format": fmt}) == expected


def test_apply_renames_and_retypes_only_the_converted_files():
    data, _ = flac(0.5)
    mp3 = b"ID3fake mp3"
    out = convert.apply([(collected("tts_00001_.flac", "audio/flac"), data),
                         (collected("tts_00002_.mp3", "audio/mpeg"), mp3)], {"audio/flac": "audio/wav"})
    (wav_c, wav_d), (mp3_c, mp3_d) = out
    assert (wav_c.ref.filename, wav_c.mime, wav_c.type, wav_c.ref.subfolder) == \
        ("tts_00001_.wav", "audio/wav", "audio", "audio")
    assert sf.info(io.BytesIO(wav_d)).format == "WAV"
    assert (mp3_c.ref.filename, mp3_c.mime, mp3_d) == ("tts_00002_.mp3", "audio/mpeg", mp3)


# ---- not provisioned ---------------------------------------------------------------------------------

def place(models: Path, path: str) -> None:
    """A sparse file of the manifest's size where its loader reads it (and refs/main for a hub-cache file)."""
    place_placeholder(models, load_manifest()[path])


def test_no_volume_means_no_check(tmp_path):
    check_provisioned("tts", {"format": "wav"}, tmp_path / "no-volume" / "models")


def test_missing_files_are_named_with_sizes_and_the_command(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    needed = get_spec("tts").required_models({})
    for path in needed[1:]:
        place(models, path)
    with pytest.raises(WorkerError) as e:
        check_provisioned("tts", {"format": "wav"}, models)
    err = e.value
    size = load_manifest()[needed[0]].size
    assert err.code == "model_missing"
    assert err.message.startswith(f"tts: not provisioned: {needed[0]} (")
    assert err.message.endswith(" B, from charactr/vocos-mel-24khz) — run `python -m deploy provision --jobs tts`")
    assert err.details["missing"] == [{"path": needed[0], "size": size, "problem": "not on the volume",
                                       "repo": "charactr/vocos-mel-24khz", "commit": needed[0].split("/")[4]}]
    place(models, needed[0])
    check_provisioned("tts", {"format": "wav"}, models)


def test_a_chosen_checkpoint_replaces_the_default_one(tmp_path):
    models = tmp_path / "models"
    (models / "checkpoints").mkdir(parents=True)
    with pytest.raises(WorkerError) as e:
        check_provisioned("portrait", {"model": "Deliberate_v5.safetensors"}, models)
    assert "checkpoints/Deliberate_v5.safetensors (2.1 GB)" in e.value.message
    # Another checkpoint is ComfyUI's to look up (value_not_in_list → model_missing), not the manifest's.
    check_provisioned("portrait", {"model": "Mine_v1.safetensors"}, models)


def test_animate_needs_only_the_files_of_its_mode(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for path in get_spec("animate").required_models({"mode": "svd"}):
        place(models, path)
    check_provisioned("animate", {"mode": "svd"}, models)
    with pytest.raises(WorkerError) as e:
        check_provisioned("animate", {"mode": "animatelcm"}, models)
    assert e.value.message.startswith("animate: not provisioned: ")
    assert "python -m deploy provision --jobs animate" in e.value.message
