"""provision, status and doctor against the fake APIs (queue + REST v2)."""
from __future__ import annotations

import json

import pytest

DEBUG_OK = {"status": "ok", "preview": False,
            "volume": {"path": "/runpod-volume", "mounted": True, "folders": {"checkpoints": ["Deliberate_v5.safetensors"]}},
            "comfyui": {"alive": True, "version": "0.3.64", "log_tail": ["Starting server"]},
            "jobs": {"portrait": {"ready": True, "missing": []}, "tts": {"ready": True, "missing": []}}}


@pytest.fixture
def endpoint(deploy, fake):
    assert deploy("volume", "create", "--name", "models", "--size", "100", "--datacenter", "EU-RO-1", "--yes")[0] == 0
    assert deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--yes")[0] == 0
    fake.requests.clear()
    return deploy.state()["endpoint_id"]


def test_provision_submits_the_action_and_shows_download_progress(deploy, fake, endpoint):
    fake.s.provision_progress = [
        {"stage": "downloading", "step": 1, "steps": 2, "percent": 40.0, "seq": 1, "file": "checkpoints/a.safetensors"},
        {"stage": "downloading", "step": 2, "steps": 2, "percent": 90.0, "seq": 2, "file": "tts/b.pt"}]
    fake.s.provision_output = {"status": "success", "jobs": {
        "portrait": {"ready": True, "downloaded": ["checkpoints/a.safetensors"], "skipped": [], "failed": []},
        "tts": {"ready": True, "downloaded": ["tts/b.pt"], "skipped": ["tts/c.pt"], "failed": []}}}
    rc, out = deploy("provision", "--jobs", "portrait,tts", "--yes", env={"HF_TOKEN": "hf_NEVER_SENT_42"})
    assert rc == 0, out
    (run,) = fake.requests_to("POST", f"/queue/v2/{endpoint}/run")
    body = json.loads(run.body)
    assert body["input"] == {"action": "provision", "jobs": ["portrait", "tts"]}
    assert "downloading · 1 of 2 · 40% · checkpoints/a.safetensors" in out
    assert "downloading · 2 of 2 · 90% · tts/b.pt" in out
    assert "portrait: ready — 1 downloaded, 0 already there, 0 failed" in out
    assert "tts: ready — 1 downloaded, 1 already there, 0 failed" in out
    assert out.index("Will run the worker's provision action") < out.index("Submitted provision job")
    assert all("hf_NEVER_SENT_42" not in q.body and "hf_NEVER_SENT_42" not in q.path for q in fake.requests)


def test_provision_failure_is_reported_and_exits_non_zero(deploy, fake, endpoint):
    fake.s.provision_output = {"status": "success", "jobs": {
        "animate": {"ready": False, "downloaded": [], "skipped": [],
                    "failed": [{"path": "checkpoints/svd_xt_1_1.safetensors", "error": "401 gated: set HF_TOKEN"}]}}}
    rc, out = deploy("provision", "--jobs", "animate", "--yes")
    assert rc == 1
    assert "animate: NOT ready" in out and "checkpoints/svd_xt_1_1.safetensors: 401 gated: set HF_TOKEN" in out
    rc, out = deploy("provision", "--jobs", "portrait,video", "--yes")
    assert rc == 2 and "--jobs: unknown job video" in out


def test_status_shows_workers_and_queue(deploy, fake, endpoint):
    fake.s.health = {"jobs": {"inQueue": 2, "inProgress": 1, "completed": 5, "failed": 1},
                     "workers": {"running": 1, "initializing": 1}}
    fake.s.workers = [{"id": "w1", "status": "RUNNING", "gpuTypeId": "NVIDIA GeForce RTX 4090",
                       "dataCenterId": "EU-RO-1", "uptimeSeconds": 300},
                      {"id": "w2", "status": "INITIALIZING", "dataCenterId": "EU-RO-1", "uptimeSeconds": 30}]
    rc, out = deploy("status")
    assert rc == 0, out
    assert "Workers: 1 running, 0 idle, 1 initializing, 0 throttled, 0 unhealthy" in out
    assert "Queue: 2 waiting, 1 in progress; 5 completed, 1 failed" in out
    assert "w1  running      NVIDIA GeForce RTX 4090 in EU-RO-1, up 5 min" in out
    rc, out = deploy("status", "--json")
    data = json.loads(out)
    assert data["workers"]["initializing"] == 1 and [w["id"] for w in data["worker_list"]] == ["w1", "w2"]


def _line(out: str, check: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.split(" ", 1)[-1].lstrip().startswith(f"{check}:")]
    return line


def test_doctor_all_good_exits_zero_and_shows_costs(deploy, fake, endpoint):
    fake.s.workers = [{"id": "w1", "status": "IDLE", "uptimeSeconds": 100}]
    fake.s.debug_output = DEBUG_OK
    rc, out = deploy("doctor")
    assert rc == 0, out
    assert "PROBLEM" not in out and _line(out, "models").startswith("OK")
    assert "Monthly floor: $7.00" in out and "/GPU-second" in out
    (run,) = fake.requests_to("POST", f"/queue/v2/{endpoint}/run")
    assert json.loads(run.body)["input"] == {"action": "debug"}


def test_doctor_wrong_architecture_from_the_log_stream(deploy, fake, endpoint):
    fake.s.workers = [{"id": "w9", "status": "INITIALIZING", "dataCenterId": "EU-RO-1"}]
    fake.s.logs = {"w9": [{"source": "system", "line": "pulling image ghcr.io/me/w:abc"},
                          {"source": "system", "line": "error pulling image: no matching manifest for linux/amd64 "
                                                       "in the manifest list entries"}]}
    fake.s.health = {"jobs": {"inQueue": 1}, "workers": {"initializing": 1}}
    rc, out = deploy("doctor")
    assert rc == 1
    image = _line(out, "image")
    assert image.startswith("PROBLEM") and "image architecture wrong" in image
    assert "no matching manifest for linux/amd64" in image
    assert "fix: rebuild for linux/amd64 with python -m deploy image build --push" in image
    (logs,) = fake.requests_to("GET", f"/v2/serverless/{endpoint}/workers/w9/logs")
    assert logs.status == 200  # the stream was read (it stays open; doctor stopped reading on its own)
    # No worker can start this image, so doctor does not wait for the debug action.
    assert not fake.requests_to("POST", "/run") and _line(out, "models").startswith("SKIPPED")


def test_doctor_volume_not_attached(deploy, fake, endpoint):
    fake.endpoints[endpoint]["networkVolumes"] = []
    fake.s.workers = [{"id": "w1", "status": "IDLE", "uptimeSeconds": 100}]
    fake.s.debug_output = {**DEBUG_OK, "volume": {"path": "/runpod-volume", "mounted": False, "folders": {}}}
    rc, out = deploy("doctor")
    assert rc == 1
    vol = deploy.state()["volume_id"]
    line = _line(out, "volume")
    assert line.startswith("PROBLEM") and "volume not attached" in line
    assert f"fix: python -m deploy endpoint update --volume {vol} --yes" in line
    assert _line(out, "volume mount").startswith("PROBLEM")


def test_doctor_models_missing_names_the_provision_command(deploy, fake, endpoint):
    fake.s.workers = [{"id": "w1", "status": "IDLE", "uptimeSeconds": 100}]
    fake.s.debug_output = {**DEBUG_OK, "jobs": {
        "portrait": {"ready": False, "missing": [{"path": "checkpoints/Deliberate_v5.safetensors", "size": 2132625894}]},
        "tts": {"ready": True, "missing": []},
        "lipsync": {"ready": False, "missing": [{"path": "sonic/unet.pth", "size": 1000000000},
                                                {"path": "sonic/audio2token.pth", "size": 500000000}]}}}
    rc, out = deploy("doctor")
    assert rc == 1
    line = _line(out, "models")
    assert "models missing for portrait (checkpoints/Deliberate_v5.safetensors, 2.1 GB), lipsync (2 files, 1.5 GB)" in line
    assert "fix: python -m deploy provision --jobs portrait,lipsync --yes" in line
    rc, out = deploy("doctor", "--json")
    data = json.loads(out)
    assert data["ok"] is False and data["costs"]["monthly_floor_usd"] == 7.0
    models = next(c for c in data["checks"] if c["check"] == "models")
    assert models["status"] == "problem" and models["fix"] == "python -m deploy provision --jobs portrait,lipsync --yes"


def test_doctor_throttled_and_comfyui_not_starting(deploy, fake, endpoint):
    fake.s.workers = [{"id": "w1", "status": "THROTTLED", "uptimeSeconds": 100}]
    fake.s.health = {"workers": {"throttled": 1}, "jobs": {"inQueue": 1}}
    rc, out = deploy("doctor")
    assert rc == 1
    line = _line(out, "capacity")
    assert "throttled: no free GPU in pools ADA_24, AMPERE_48 in EU-RO-1" in line
    assert "--gpu-pools ADA_24,AMPERE_48,AMPERE_16,AMPERE_24" in line
    fake.s.workers = [{"id": "w1", "status": "IDLE", "uptimeSeconds": 100}]
    fake.s.health = {"workers": {"idle": 1}}
    fake.s.debug_output = {**DEBUG_OK, "comfyui": {"alive": False, "version": None,
                                                   "log_tail": ["Traceback ...", "ModuleNotFoundError: No module named 'sonic'"]}}
    rc, out = deploy("doctor")
    assert rc == 1
    assert "ComfyUI not starting (last log line: \"ModuleNotFoundError: No module named 'sonic'\")" in _line(out, "comfyui")
    assert "Traceback ..." in out


def test_doctor_sees_a_hub_cache_the_loader_would_not_find(deploy, fake, endpoint, tmp_path):
    """The worker's readiness of a real volume whose F5-TTS snapshot is there but refs/main names "main" (the old
    layout): doctor calls tts not ready, says why, and points at provision, which repairs it."""
    from workflows.catalogue import get_spec, load_manifest
    from worker.volume import job_readiness, place_placeholder

    models = tmp_path / "models"
    for path in get_spec("tts").all_models():
        place_placeholder(models, load_manifest()[path])
    (models / "hf/hub/models--SWivid--F5-TTS/refs/main").write_text("main")
    fake.s.workers = [{"id": "w1", "status": "IDLE", "uptimeSeconds": 100}]
    fake.s.debug_output = {**DEBUG_OK, "jobs": {"tts": job_readiness(models)["tts"]}}
    rc, out = deploy("doctor")
    assert rc == 1
    line = _line(out, "models")
    assert line.startswith("PROBLEM") and "models missing for tts (2 files" in line
    assert "fix: python -m deploy provision --jobs tts --yes" in line
    assert "refs/main names 'main', not the snapshot's commit 84e5a410d9ce" in out
