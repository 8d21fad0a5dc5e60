"""The worker image's Dockerfile, parsed (no Docker engine on this machine): platform, pins, no run-time fetches."""
from __future__ import annotations

import json
import re

from tests.support.procs import REPO

TEXT = (REPO / "worker" / "Dockerfile").read_text()
README = REPO / "tests" / "data" / "comfyui" / "README.md"   # where the recordings' server came from


def args() -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", TEXT, re.M))


def test_platform_is_linux_amd64_only():
    froms = re.findall(r"^FROM (.+)$", TEXT, re.M)
    assert froms and all("--platform=linux/amd64" in f for f in froms)
    assert "arm64" not in TEXT.replace("an arm64 image", "")
    assert args()["CUDA_IMAGE"].startswith("nvidia/cuda:") and "runtime" in args()["CUDA_IMAGE"]


def test_comfyui_and_packs_pinned_to_the_recorded_commits():
    a = args()
    assert a["COMFYUI_COMMIT"] == "a125cd84b054a57729b5eecab930ca9408719832"
    expected = {"F5TTS_PACK_COMMIT": "4f09176982ed85edf05f7cd29d2a9428a7d60542",
                "F5TTS_SUBMODULE_COMMIT": "9ae46c8360303417489d2c1071f29972cd8ab171",
                "SONIC_PACK_COMMIT": "85562349dd7714532c5477709f2bb0a70debd213",
                "ADE_PACK_COMMIT": "d8d163cd90b1111f6227495e3467633676fbb346",
                "VHS_PACK_COMMIT": "4ee72c065db22c9d96c2427954dc69e7b908444b",
                "IPADAPTER_PACK_COMMIT": "9d076a3df0d2763cef5510ec5ab807f6632c39f5"}
    for k, v in expected.items():
        assert a[k] == v
        assert re.fullmatch(r"[0-9a-f]{40}", v)
    for v in expected.values():                 # the pins agree with what was recorded (the later pack: its own)
        assert v in README.read_text()
    for var in ("COMFYUI_COMMIT", "F5TTS_PACK_COMMIT", "SONIC_PACK_COMMIT", "ADE_PACK_COMMIT", "VHS_PACK_COMMIT",
                "IPADAPTER_PACK_COMMIT"):
        assert f"checkout ${{{var}}}" in TEXT
    assert "submodule update --init --recursive" in TEXT


def test_torch_family_versions_match():
    a = args()
    assert a["TORCH_VERSION"].startswith("2.9.") and a["TORCHAUDIO_VERSION"].startswith("2.9.")
    assert a["TORCHCODEC_VERSION"].startswith("0.8.")
    assert TEXT.count("-c /opt/constraints.txt") >= 4, "pack requirements cannot move torch"


def test_runpod_pinned_and_entry_and_test_input():
    req = (REPO / "worker" / "requirements.txt").read_text()
    assert re.search(r"^runpod>=1\.10\.1", req, re.M)
    assert "worker/requirements.txt" in TEXT
    assert re.search(r'^CMD \["python", "-u", "-m", "worker"\]', TEXT, re.M)
    body = json.loads((REPO / "worker" / "test_input.json").read_text())
    assert body["input"]["action"] == "portrait"
    from workflows.catalogue import load_catalogue
    load_catalogue()["portrait"].validate({k: v for k, v in body["input"].items() if k != "action"})


def test_no_model_downloads_baked_or_at_start():
    assert "huggingface-cli" not in TEXT and "hf_hub_download" not in TEXT
    assert not re.search(r"(wget|curl)\s+\S*huggingface", TEXT)
