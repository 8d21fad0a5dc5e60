"""`python -m worker` as RunPod starts it (in .venv-worker, where the runpod SDK lives), run once with
--test_input: the volume is prepared, ComfyUI supervised from process start, the handler answers."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import REPO, free_port
from tests.worker.conftest import FAKE
from workflows.catalogue import load_manifest

WORKER_PY = REPO / ".venv-worker" / "bin" / "python"


def run_entry(tmp_path: Path, job: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    if not WORKER_PY.exists():
        pytest.fail(".venv-worker is missing; .ci/run creates it from worker/requirements.txt")
    full = {**os.environ, "RUNPOD_VOLUME": str(tmp_path / "volume"), "COMFYUI_DIR": str(tmp_path / "comfyui"),
            "COMFYUI_LOG": str(tmp_path / "comfyui.log"), "PYTHONPATH": str(REPO), **env}
    return subprocess.run([str(WORKER_PY), "-m", "worker", "--test_input", json.dumps(job)], cwd=REPO, env=full,
                          capture_output=True, text=True, timeout=120)


def test_entry_supervises_comfyui_and_runs_the_compatibility_request(tmp_path):
    port = free_port()
    command = shlex.join([sys.executable, FAKE, "--port", "{port}"])
    job = {"input": {"action": "portrait", "description": "Viking warrior with braided beard, fierce expression",
                     "model": "Deliberate_v5.safetensors"}}
    # The job's checkpoint is on the volume (sparse, at the manifest's size), else the worker stops at "not provisioned".
    ckpt = tmp_path / "volume" / "models" / "checkpoints" / "Deliberate_v5.safetensors"
    ckpt.parent.mkdir(parents=True)
    with open(ckpt, "wb") as fh:
        fh.truncate(load_manifest()["checkpoints/Deliberate_v5.safetensors"].size)
    done = run_entry(tmp_path, job, {"COMFYUI_COMMAND": command, "COMFYUI_PORT": str(port)})
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "'status': 'success'" in out and "portrait_00001_.png" in out
    # The volume was prepared before ComfyUI started, and ComfyUI was stopped when the worker exited.
    assert (tmp_path / "comfyui" / "extra_model_paths.yaml").is_file()
    assert "To see the GUI go to" in (tmp_path / "comfyui.log").read_text()
    probe = subprocess.run(["pgrep", "-f", f"{FAKE} --port {port}"], capture_output=True, text=True)
    assert probe.stdout.strip() == ""


def test_entry_with_comfyui_url_answers_health_without_supervision(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    done = run_entry(tmp_path, {"input": {"action": "health"}}, {"COMFYUI_URL": dead})
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "'status': 'unhealthy'" in out and dead in out
    assert not (tmp_path / "comfyui.log").exists()


@pytest.mark.skipif(__import__("importlib").util.find_spec("runpod") is not None,
                    reason="this environment has the runpod SDK")
def test_the_runpod_entry_without_the_sdk_says_what_to_run_instead(tmp_path):
    done = subprocess.run([sys.executable, "-m", "worker"], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COMFYUI_COMMAND": f"{sys.executable} -c 'open({str(tmp_path / 'ran')!r}, \"w\")'"})
    assert done.returncode == 2
    assert "python -m worker serve" in done.stderr and ".venv-worker" in done.stderr
    assert not (tmp_path / "ran").exists()          # nothing was started before the refusal
