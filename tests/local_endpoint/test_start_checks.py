"""What `serve` (and the RunPod entry) settle at start (issue 24.5): a bucket without its keys refuses the start
in one line naming the variable, and temp folders left by endpoints killed outright are removed."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.local_endpoint.conftest import serve_command
from tests.support.procs import REPO

WORKER_PY = REPO / ".venv-worker" / "bin" / "python"


def left_behind(tmp: Path, name: str, pid: int) -> Path:
    folder = tmp / name
    (folder / "data" / "models").mkdir(parents=True)
    (folder / "owner.pid").write_text(str(pid))
    return folder


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_bucket_without_its_keys_refuses_the_start_in_one_line_and_stale_folders_go(tmp_path):
    dead = left_behind(tmp_path, "preview-engine-dead1", dead_pid())
    live = left_behind(tmp_path, "preview-engine-live1", os.getpid())      # a running endpoint's: kept
    unknown = tmp_path / "preview-engine-norecord"                          # no owner recorded: kept
    unknown.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path), "BUCKET_ENDPOINT_URL": "https://bucket.example",
           "BUCKET_NAME": "media", "BUCKET_SECRET_ACCESS_KEY": "s3cr3t-value"}
    env.pop("BUCKET_ACCESS_KEY_ID", None)
    done = subprocess.run([sys.executable, *serve_command(), "--preview", "--port", "0"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = [ln for ln in done.stderr.strip().splitlines() if " INFO " not in ln]    # log lines aside
    assert lines == ["local endpoint: BUCKET_ENDPOINT_URL is set but BUCKET_ACCESS_KEY_ID is not"], done.stderr
    assert "s3cr3t-value" not in done.stderr + done.stdout
    assert not dead.exists() and live.exists() and unknown.exists()
    assert not any(p.name.startswith("preview-engine-") and p not in (live, unknown) for p in tmp_path.iterdir())


def test_the_runpod_entry_refuses_the_same_start_in_one_line(tmp_path):
    if not WORKER_PY.exists():
        pytest.skip(".venv-worker (with the runpod SDK) is not set up")
    env = {**os.environ, "BUCKET_ENDPOINT_URL": "https://bucket.example", "BUCKET_ACCESS_KEY_ID": "id",
           "BUCKET_SECRET_ACCESS_KEY": "s3cr3t-value", "PYTHONPATH": str(REPO)}
    env.pop("BUCKET_NAME", None)
    done = subprocess.run([str(WORKER_PY), "-m", "worker"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "worker: BUCKET_ENDPOINT_URL is set but BUCKET_NAME is not", done.stderr
