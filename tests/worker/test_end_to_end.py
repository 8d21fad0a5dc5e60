"""The worker end to end: RunPod's queue API (python -m worker serve) → handler → the preview engine."""
from __future__ import annotations

import base64
import io
import json
import time

import httpx
import pytest
from PIL import Image

from tests.support.procs import Proc, free_port, wait_http

COMPAT = {"input": {"action": "portrait", "description": "Viking warrior with braided beard, fierce expression",
                    "model": "Deliberate_v5.safetensors"}}


def start_endpoint(tmp_path, *args: str) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(["-m", "worker", "serve", "--port", str(port), *args], tmp_path / f"endpoint-{port}.log")
    line = proc.wait_for_line("local endpoint ready:", timeout=60)
    return proc, line.split("ready:", 1)[1].strip()


def wait_done(base: str, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{base}/status/{job_id}").json()
        if job["status"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.fixture
def engine(tmp_path):
    port = free_port()
    proc = Proc(["-m", "worker.preview", "--port", str(port), "--data", str(tmp_path / "engine"),
                 "--models-from-manifest", "--step-delay", "0.1"], tmp_path / "engine.log")
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/system_stats", timeout=30, proc=proc.popen)
    yield url
    proc.stop()


@pytest.fixture
def endpoint(tmp_path, engine):
    proc, base = start_endpoint(tmp_path, "--comfyui-url", engine)
    yield base
    proc.stop()


def test_compatibility_request_through_serve_preview(tmp_path):
    proc, base = start_endpoint(tmp_path, "--preview")
    try:
        job = httpx.post(f"{base}/run", json=COMPAT).json()
        done = wait_done(base, job["id"])
        assert done["status"] == "COMPLETED", done
        out = done["output"]
        assert out["status"] == "success" and out["preview"] is True and out["action"] == "portrait"
        [f] = out["files"]
        assert f["type"] == "image" and f["encoding"] == "base64" and f["filename"].endswith(".png")
        img = Image.open(io.BytesIO(base64.b64decode(f["data"])))
        img.load()
        assert img.size == (512, 768)
        assert isinstance(out["seed"], int) and out["licence"]["name"]
        health = httpx.post(f"{base}/runsync", json={"input": {"action": "health"}}, timeout=30).json()
        assert health["output"]["status"] == "healthy" and health["output"]["preview"] is True
    finally:
        proc.stop()


def error_of(job: dict) -> dict:
    assert job["status"] == "FAILED", job
    return json.loads(job["error"])


def test_missing_model_and_invalid_input_fail_with_codes(endpoint):
    job = httpx.post(f"{endpoint}/run", json={"input": {**COMPAT["input"], "model": "Nope_v1.safetensors"}}).json()
    err = error_of(wait_done(endpoint, job["id"]))
    assert err["code"] == "model_missing"
    assert err["message"].startswith("not provisioned: portrait (")
    assert "checkpoint 'Nope_v1.safetensors' is not on the volume; available: Deliberate_v5.safetensors" in err["message"]
    job = httpx.post(f"{endpoint}/run", json={"input": {**COMPAT["input"], "width": 1001}}).json()
    err = error_of(wait_done(endpoint, job["id"]))
    assert err["code"] == "invalid_input" and err["field"] == "width" and "multiple of 8" in err["message"]


def test_cancel_mid_job_interrupts_the_engine_and_the_next_job_runs_clean(endpoint, engine):
    job = httpx.post(f"{endpoint}/run", json={"input": {**COMPAT["input"], "steps": 25}}).json()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = httpx.get(f"{endpoint}/status/{job['id']}").json()
        if status["status"] == "IN_PROGRESS" and (status.get("output") or {}).get("step"):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"never saw progress: {status}")
    assert httpx.post(f"{endpoint}/cancel/{job['id']}").json()["status"] == "CANCELLED"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        history = httpx.get(f"{engine}/history").json()
        queue = httpx.get(f"{engine}/queue").json()
        events = [e for entry in history.values() for e, _ in entry["status"]["messages"]]
        if "execution_interrupted" in events and not queue["queue_running"] and not queue["queue_pending"]:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"engine was not interrupted: {history} {queue}")
    nxt = httpx.post(f"{endpoint}/run", json={"input": {**COMPAT["input"], "steps": 2}}).json()
    assert wait_done(endpoint, nxt["id"])["status"] == "COMPLETED"


def test_null_fields_mean_absent_and_say_so_in_the_result(endpoint):
    job = httpx.post(f"{endpoint}/run", json={"input": {**COMPAT["input"], "width": None, "steps": 2}}).json()
    done = wait_done(endpoint, job["id"])
    assert done["status"] == "COMPLETED", done
    out = done["output"]
    img = Image.open(io.BytesIO(base64.b64decode(out["files"][0]["data"])))
    assert img.size[0] == 512                               # the declared default width
    assert "width: null was treated as absent; the default 512 was used" in out["warnings"]
    job = httpx.post(f"{endpoint}/run", json={"input": {**COMPAT["input"], "description": None}}).json()
    err = error_of(wait_done(endpoint, job["id"]))
    assert err["code"] == "invalid_input" and err["field"] == "prompt" and "is required" in err["message"]
