"""Fixtures for the worker's tests: a ComfyUI double as a real process, the handler configured against it,
and a progress sink that records what the handler reports."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.procs import Proc, free_port, wait_http
from worker import progress, runtime
from worker.config import WorkerSettings

FAKE = str(Path(__file__).with_name("fake_comfyui.py"))


def fake_command(port: int, *extra: str) -> list[str]:
    return [sys.executable, FAKE, "--port", str(port), *extra]


@pytest.fixture
def start_fake(tmp_path):
    procs: list[Proc] = []

    def start(*extra: str) -> str:
        port = free_port()
        proc = Proc(fake_command(port, *extra), tmp_path / f"fake-{port}.log")
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/system_stats", timeout=20, proc=proc.popen)
        return url

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def fake(start_fake) -> str:
    return start_fake("--step-delay", "0.01")


def settings_for(url: str | None, tmp_path: Path, **kw) -> WorkerSettings:
    base = WorkerSettings(comfyui_url=url, allow_raw_workflow=True, volume=tmp_path / "volume",
                          comfyui_log=tmp_path / "comfyui.log")
    return dataclasses.replace(base, **kw)


@pytest.fixture
def use_settings(tmp_path):
    """Install a runtime for the in-process handler; stops a supervised ComfyUI afterwards."""
    installed: list[runtime.Runtime] = []

    def install(settings: WorkerSettings) -> runtime.Runtime:
        rt = runtime.configure(settings)
        installed.append(rt)
        return rt

    yield install
    for rt in installed:
        if rt.supervisor is not None:
            rt.supervisor.stop()


@pytest.fixture
def reports():
    """Collect progress payloads the handler sends (the local endpoint installs a sink the same way)."""
    seen: list[dict] = []
    token = progress.sink.set(lambda job, payload: seen.append(payload))
    yield seen
    progress.sink.reset(token)


def fake_calls(url: str) -> dict:
    return httpx.get(url + "/_fake/calls").json()


def portrait_workflow(ckpt: str = "Deliberate_v5.safetensors", width: int = 512, steps: int = 4, **save) -> dict:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "Viking warrior"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "blurry"}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": 768, "batch_size": 1}},
        "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
              "latent_image": ["4", 0], "seed": 1, "steps": steps, "cfg": 6.0, "sampler_name": "euler",
              "scheduler": "normal", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "portrait", **save}},
    }
