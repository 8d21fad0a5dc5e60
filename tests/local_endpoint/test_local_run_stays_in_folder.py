"""`serve` outside the worker image writes only where it was told (issue 24.3): ComfyUI's files go under its own
data folder, and the volume gets no model folders (an existing models/ switches on the pre-run model check)."""
from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.local_endpoint.conftest import READY, serve_command
from tests.support.procs import REPO, Proc, free_port
from tests.worker.conftest import FAKE


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.skipif(Path("/comfyui").exists(), reason="this machine has the worker image's /comfyui")
def test_serve_in_an_empty_folder_writes_nothing_outside_it(tmp_path):
    run = tmp_path / "run"
    (run / "home").mkdir(parents=True)
    (run / "tmp").mkdir()
    volume = tmp_path / "volume"                  # a volume with nothing provisioned yet
    volume.mkdir()
    shared_log = Path("/tmp/comfyui.log")
    before = shared_log.stat().st_mtime_ns if shared_log.exists() else None
    port = free_port()
    env = {"HOME": str(run / "home"), "TMPDIR": str(run / "tmp"), "PYTHONPATH": str(REPO),
           "PYTHONDONTWRITEBYTECODE": "1", "RUNPOD_VOLUME": str(volume), "COMFYUI_PORT": str(port),
           "COMFYUI_COMMAND": f"{sys.executable} {FAKE} --port {{port}} --step-delay 0.01"}
    for name in ("COMFYUI_DIR", "COMFYUI_URL", "COMFYUI_LOG"):
        env[name] = ""
    proc = Proc([*serve_command(), "--port", "0"], tmp_path / "serve.log", env=env, cwd=run)
    try:
        url = proc.wait_for_line(READY, timeout=60).split(READY, 1)[1].strip()
        with httpx.Client(timeout=60) as http:
            out = http.post(f"{url}/runsync", json={"input": {"action": "portrait", "prompt": "a lighthouse",
                                                               "steps": 2, "width": 256, "height": 256}}).json()
        assert out["status"] == "COMPLETED", out         # not refused as model_missing by empty folders
        yaml = [p for p in (run / "tmp").rglob("extra_model_paths.yaml")]
        assert len(yaml) == 1 and f"base_path: {volume / 'models'}" in yaml[0].read_text()
        assert list((run / "tmp").rglob("comfyui.log"))    # ComfyUI's log is in the data folder too
    finally:
        proc.stop()
    assert tree(volume) == set()                        # no model folders made on the volume
    assert not Path("/comfyui").exists()
    assert (shared_log.stat().st_mtime_ns if shared_log.exists() else None) == before
    assert tree(tmp_path) == {"run", "volume", "serve.log"} | {f"run/{p}" for p in tree(run)}
