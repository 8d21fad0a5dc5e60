"""status and doctor against the worker's real local endpoint (`python -m worker serve --preview`) for the queue API,
with the fake management API for REST v2."""
from __future__ import annotations

import pytest

from tests.support.procs import Proc, free_port


@pytest.fixture
def local_endpoint(tmp_path, fake):
    port = free_port()
    proc = Proc(["-m", "worker", "serve", "--port", str(port), "--endpoint-id", "ep-local", "--preview",
                 "--api-key", fake.s.key], tmp_path / "serve.log")
    try:
        proc.wait_for_line("local endpoint ready", timeout=90)
        yield f"http://127.0.0.1:{port}/v2"
    finally:
        proc.stop()


def test_status_and_doctor_against_the_local_endpoint(deploy, fake, local_endpoint):
    fake.seed_endpoint("ep-local", pools=["ADA_24"], volumes=["vol-x"])
    fake.s.workers = [{"id": "w1", "status": "IDLE", "uptimeSeconds": 60}]
    env = {"RUNPOD_API_BASE": local_endpoint}
    rc, out = deploy("status", "--endpoint-id", "ep-local", env=env)
    assert rc == 0, out
    assert out.startswith("Endpoint ep-local:") and "Queue: 0 waiting" in out
    rc, out = deploy("doctor", "--endpoint-id", "ep-local", "--debug-timeout", "60", env=env)
    # The preview engine's volume holds the manifest's files as placeholders, so the worker's own debug
    # report decides the verdicts; doctor must have got one (no SKIPPED lines) and shown each check.
    assert "SKIPPED" not in out, out
    for check in ("endpoint", "image", "workers", "capacity", "volume", "volume mount", "comfyui", "models"):
        assert any(f" {check}: " in ln for ln in out.splitlines()), (check, out)
    assert "comfyui: ComfyUI" in out
    models = next(ln for ln in out.splitlines() if " models: " in ln)
    problems = [ln for ln in out.splitlines() if ln.startswith("PROBLEM")]
    assert rc == (1 if problems else 0)
    if models.startswith("PROBLEM"):
        assert "fix: python -m deploy provision --jobs " in models
