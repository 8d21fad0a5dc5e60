"""The preview endpoint is a detached process: a studio that stops mid-job leaves it running, and the next studio
on the same data folder reuses it and finishes the job; an endpoint with other flags is never reused."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from backend.preview_endpoint import pid_alive
from backend.settings import Settings
from backend.studio import Studio
from tests.support.procs import stop_detached_endpoint

SLOW = ("--step-delay", "0.05")          # 100 portrait steps: about 5 s of sampling


@pytest.fixture
def data(tmp_path):
    yield tmp_path / "data"
    stop_detached_endpoint(tmp_path / "data" / "preview-endpoint" / "endpoint.json")


def settings(data) -> Settings:
    return Settings.from_env(env={"STUDIO_DATA_DIR": str(data)}, dotenv=None)


def test_a_new_studio_reuses_the_endpoint_and_finishes_the_job(data):
    state_file = data / "preview-endpoint" / "endpoint.json"
    first = Studio(settings(data), preview_args=SLOW).start()
    state = json.loads(state_file.read_text())
    assert set(state) >= {"pid", "url", "started_at", "code_version"} and pid_alive(state["pid"])
    rec = first.submit("portrait", {"prompt": "a lighthouse keeper", "width": 256, "height": 256, "steps": 100})
    kinds = []
    for ev in first.watch(rec.id, timeout=60):
        kinds.append(ev.kind)
        if ev.kind == "running":
            break
    assert kinds[-1] == "running", kinds
    first.close()                         # mid-job: the endpoint must stay up with the job
    assert pid_alive(state["pid"]) and json.loads(state_file.read_text()) == state

    second = Studio(settings(data), preview_args=SLOW).start()
    try:
        assert second._preview.reused and second._preview.pid == state["pid"]
        evs = list(second.watch(rec.id, timeout=120))
        assert evs[-1].kind == "completed", [(e.kind, e.message) for e in evs]
        [img] = second.get(rec.id).outputs
        assert Image.open(img["path"]).size == (256, 256)
    finally:
        second.close()                    # nothing in flight now: the endpoint is stopped
    assert not pid_alive(state["pid"]) and not state_file.exists()


def test_an_endpoint_with_other_flags_is_not_reused(data):
    state_file = data / "preview-endpoint" / "endpoint.json"
    first = Studio(settings(data), preview_args=SLOW).start()
    old = json.loads(state_file.read_text())["pid"]
    # Simulate a studio that died without closing: its endpoint is still running and recorded.
    first._preview.state = None
    first.close()
    assert pid_alive(old)
    second = Studio(settings(data)).start()       # default flags differ (no --step-delay)
    try:
        new = json.loads(state_file.read_text())["pid"]
        assert new != old and not second._preview.reused
        assert not pid_alive(old)                     # the idle old one was stopped, not left behind
        assert second.readiness().preview is True
    finally:
        second.close()
    assert not pid_alive(new)


def test_a_job_lost_to_an_endpoint_crash_says_the_endpoint_restarted_not_expired(data):
    import os
    import signal
    import time

    state_file = data / "preview-endpoint" / "endpoint.json"
    first = Studio(settings(data), preview_args=SLOW).start()
    rec = first.submit("portrait", {"prompt": "a lighthouse keeper", "width": 256, "height": 256, "steps": 100})
    for ev in first.watch(rec.id, timeout=60):
        if ev.kind == "running":
            break
    pid = json.loads(state_file.read_text())["pid"]
    os.kill(pid, signal.SIGKILL)                  # the endpoint dies mid-job; its engine dies with it
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    first._preview.state = None                   # the dead endpoint is not stopped again on close
    first.close()

    second = Studio(settings(data), preview_args=SLOW).start()
    try:
        evs = list(second.watch(rec.id, timeout=60))
        final = second.get(rec.id)
        assert final.status == "failed", [(e.kind, e.message) for e in evs]
        assert final.error["code"] == "endpoint_restarted" and "restarted" in final.error["message"]
        assert "expired" not in final.error["message"]
        assert final.inputs["prompt"] == "a lighthouse keeper"      # the failed job keeps its inputs
    finally:
        second.close()
