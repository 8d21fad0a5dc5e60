"""The real_comfyui tier: the worker against the real ComfyUI 0.3.64 with its packs (tests/support/real_comfyui.py).

Every test here carries the `real_comfyui` marker. Where the source archives are absent the tests skip with one
line; where only the install is missing, the first test installs it (minutes; `.ci/run` does it beforehand).

A "rig" is what production has on RunPod, in folders of the test's own: a network volume whose models/ holds
every manifest file (sparse placeholders of the manifest's sizes, so the worker's pre-queue check passes and the
loaders fail on the contents), prepared by worker/volume.py exactly as the image does (extra_model_paths.yaml and
the SONIC link written into ComfyUI's folder, here the server's --base-directory; the caches' environment).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.support import jobs
from tests.support import real_comfyui as rcu
from tests.support.jobs import TERMINAL, b64
from tests.support.procs import Proc, free_port
from worker import volume as volume_mod
from workflows.catalogue import load_manifest

HERE = Path(__file__).resolve().parent
TEST_NODES = HERE / "studio_test_nodes"
READY = "local endpoint ready:"
TIER_TIMEOUT_S = 900        # the first test may install the real ComfyUI (minutes)


MISSING = rcu.missing_reason()


def pytest_terminal_summary(terminalreporter):
    # Where the archives are absent the tier is left out (deselected), said once here rather than once per test.
    if MISSING:
        terminalreporter.write_line(f"SKIPPED {MISSING}: the real_comfyui tests did not run")


def pytest_collection_modifyitems(config, items):
    tier = [item for item in items if HERE in Path(str(item.fspath)).resolve().parents]
    if MISSING:
        config.hook.pytest_deselected(items=tier)
        items[:] = [item for item in items if item not in tier]
        return
    for item in tier:
        item.add_marker(pytest.mark.real_comfyui)
        if item.get_closest_marker("timeout") is None:     # a module that knows it is slower says so itself
            item.add_marker(pytest.mark.timeout(TIER_TIMEOUT_S))


@pytest.fixture(scope="session")
def real() -> rcu.RealComfy:
    if MISSING:
        pytest.skip(MISSING)
    return rcu.ensure_installed()


# ---- a volume and a ComfyUI folder as in production ------------------------------------------------------------

def place(models: Path, path: str) -> Path:
    """A sparse placeholder of the manifest's size (with the hub cache's refs/main where the file is in one): the
    pre-queue check passes, the loader fails on the bytes."""
    volume_mod.place_placeholder(models, load_manifest()[path])
    return models / path


@dataclass
class Rig:
    real: rcu.RealComfy
    root: Path
    volume: Path = field(init=False)
    base: Path = field(init=False)          # ComfyUI's --base-directory, and COMFYUI_DIR for worker/volume.py
    cache_env: dict[str, str] = field(init=False)

    def __post_init__(self):
        self.volume = self.root / "volume"
        self.base = rcu.make_base(self.real, self.root / "comfyui", extra_nodes=[TEST_NODES])
        for path in load_manifest():
            place(self.volume / "models", path)
        self.cache_env = volume_mod.prepare(volume_mod.VolumeLayout(self.volume, self.base))

    @property
    def models(self) -> Path:
        return self.volume / "models"

    @property
    def yaml(self) -> Path:
        return self.base / "extra_model_paths.yaml"

    def comfy_env(self) -> dict[str, str]:
        # No job may download at run time here (no hub is reachable); offline, a download fails at once.
        return {**self.cache_env, "HF_HUB_OFFLINE": "1"}

    def start_comfy(self, log_name: str = "comfyui.log") -> rcu.ComfyServer:
        return rcu.ComfyServer.start(self.real, self.base, log_path=self.root / log_name,
                                     extra_model_paths=self.yaml, env=self.comfy_env())

    def worker_env(self, **extra: str) -> dict[str, str]:
        return {"RUNPOD_VOLUME": str(self.volume), "COMFYUI_DIR": str(self.base), "ALLOW_RAW_WORKFLOW": "1",
                **self.comfy_env(), **extra}

    def serve(self, *args: str, env: dict[str, str] | None = None, log_name: str = "serve.log") -> "Served":
        proc = Proc(["-m", "worker", "serve", "--port", "0", "--test-hooks", *args], self.root / log_name,
                    env=self.worker_env(**(env or {})))
        try:
            base = proc.wait_for_line(READY, timeout=60).split(READY, 1)[1].strip()
        except BaseException:
            proc.stop()
            raise
        return Served(proc, base)

    def supervised_env(self, log: Path, **extra: str) -> dict[str, str]:
        """The worker's settings for supervising this real ComfyUI itself (as the image's `python -m worker`)."""
        return {"COMFYUI_COMMAND": rcu.command_line(self.real, self.base, extra_model_paths=self.yaml),
                "COMFYUI_PORT": str(free_port()), "COMFYUI_LOG": str(log), "COMFYUI_START_TIMEOUT": "600",
                "COMFYUI_URL": "", **extra}


@dataclass
class Served:
    proc: Proc
    base: str

    def submit(self, inp: dict, **body) -> str:
        return jobs.submit(self.base, inp, **body)

    def status(self, job_id: str) -> dict:
        return httpx.get(f"{self.base}/status/{job_id}", timeout=30).json()

    def wait(self, job_id: str, timeout: float = 120, until=TERMINAL) -> dict:
        return jobs.wait(self.base, job_id, timeout, until, log=self.proc.log)

    def run(self, inp: dict, timeout: float = 120) -> dict:
        return self.wait(self.submit(inp), timeout)

    def cancel(self, job_id: str) -> dict:
        return httpx.post(f"{self.base}/cancel/{job_id}", timeout=30).json()

    def test_job(self, job_id: str) -> dict:
        """What the local endpoint knows of the handler task (/_test/jobs): e.g. handlerOutcome."""
        jobs = httpx.get(f"{self.base.rsplit('/v2/', 1)[0]}/_test/jobs", timeout=10).json()
        jobs = jobs.get("jobs", jobs) if isinstance(jobs, dict) else jobs
        return next(j for j in jobs if j.get("id") == job_id)

    def stop(self) -> None:
        self.proc.stop(timeout=30)


def output_of(job: dict) -> dict:
    assert job["status"] == "COMPLETED", job
    out = job["output"]
    assert out["status"] == "success" and out["preview"] is False, out
    return out


# ---- inputs and model-free workflows -----------------------------------------------------------------------------

def tone_wav_b64(seconds: float, rate: int = 16000, hz: float = 220.0) -> str:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * hz * t)).astype("float32"), rate, format="WAV")
    return b64(buf.getvalue())


def sleeper(seconds: float, nonce: int, stubborn: bool = False, prefix: str = "sleep") -> dict:
    """A workflow that runs `seconds` in our test node and saves a 64×64 PNG."""
    return {
        "1": {"class_type": "StudioTestStubborn" if stubborn else "StudioTestSleep",
              "inputs": {"seconds": seconds, "nonce": nonce}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}},
    }


def nonce() -> int:
    return int.from_bytes(os.urandom(4), "big") >> 1
