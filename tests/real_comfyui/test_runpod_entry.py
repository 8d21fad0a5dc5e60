"""`python -m worker` as RunPod starts it (.venv-worker, with the runpod SDK), once with --test_input, supervising
the real ComfyUI: the volume prepared before ComfyUI starts, a model-free workflow answered, ComfyUI stopped after."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.real_comfyui.conftest import Rig, nonce, sleeper
from tests.real_comfyui.test_supervised import START_S, comfy_pid
from tests.support.procs import REPO

WORKER_PY = REPO / ".venv-worker" / "bin" / "python"


def test_runpod_entry_supervises_the_real_comfyui_for_a_job(real, tmp_path):
    if not WORKER_PY.exists():
        pytest.fail(".venv-worker is missing; .ci/run creates it from worker/requirements.txt")
    rig = Rig(real, tmp_path)
    rig.yaml.unlink()                                  # the entry writes it before ComfyUI starts
    log = tmp_path / "comfyui.log"
    env = {**rig.worker_env(), **rig.supervised_env(log), "PYTHONPATH": str(REPO)}
    port = int(env["COMFYUI_PORT"])
    env.pop("COMFYUI_URL")
    job = {"input": {"action": "workflow", "workflow": sleeper(0.1, nonce(), prefix="entry")}}
    import os
    done = subprocess.run([str(WORKER_PY), "-m", "worker", "--test_input", json.dumps(job)], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=START_S + 60)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "'status': 'success'" in out and "entry_00001_.png" in out and "'preview': False" in out
    assert rig.yaml.is_file()
    assert f"Adding extra search path checkpoints {rig.models / 'checkpoints'}" in log.read_text()
    assert comfy_pid(port) is None                      # stopped with the worker
