"""A cancel that did not stop the run is not reported as stopped (issue 24.2): with a ComfyUI the worker does not
run (`--comfyui-url`) that ignores /interrupt, the job ends FAILED saying so and the worker is unhealthy until
that ComfyUI is idle again."""
from __future__ import annotations

import json
import time

import httpx

from tests.local_endpoint.test_idle_and_preview_volume import start
from tests.support.procs import Proc, free_port, wait_http
from tests.worker.conftest import fake_command, portrait_workflow


def wait(predicate, timeout: float = 20.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_cancel_on_an_external_comfyui_that_ignores_the_interrupt_fails_and_marks_the_worker_unhealthy(tmp_path):
    port = free_port()
    fake = Proc(fake_command(port, "--fault", "ignore-interrupt", "--step-delay", "0.01"), tmp_path / "fake.log")
    comfy = f"http://127.0.0.1:{port}"
    wait_http(comfy + "/system_stats", timeout=20, proc=fake.popen)
    proc, url = start(tmp_path, "--comfyui-url", comfy,
                      env={"COMFYUI_STOP_TIMEOUT": "1", "ALLOW_RAW_WORKFLOW": "1",
                           "RUNPOD_VOLUME": str(tmp_path / "volume")})
    try:
        with httpx.Client(timeout=30) as http:
            job_id = http.post(f"{url}/run", json={"input": {"action": "workflow",
                                                             "workflow": portrait_workflow(steps=1)}}).json()["id"]
            wait(lambda: http.get(f"{comfy}/_fake/calls").json()["running"], what="the fake to run the prompt")
            answer = http.post(f"{url}/cancel/{job_id}").json()
            assert answer["status"] == "FAILED", answer
            job = http.get(f"{url}/status/{job_id}").json()
            assert job["status"] == "FAILED"
            err = json.loads(job["error"])
            assert err["code"] == "comfyui_busy"
            assert "did not stop" in err["message"] and "GPU may still be busy" in err["message"]
            assert "restart" in err["message"] and comfy in err["message"]

            workers = http.get(f"{url}/health").json()["workers"]
            assert workers["unhealthy"] == 1 and workers["idle"] == 0, workers
            hid = http.post(f"{url}/run", json={"input": {"action": "health"}}).json()["id"]
            out = wait(lambda: (http.get(f"{url}/status/{hid}").json().get("output") or {}).get("comfyui"),
                       what="the health action")
            health = http.get(f"{url}/status/{hid}").json()["output"]
            assert health["status"] == "unhealthy" and out["state"] == "busy" and "restart" in out["message"]

            http.post(f"{comfy}/_fake/release")      # the run ends at last (as after restarting ComfyUI)
            workers = wait(lambda: (w := http.get(f"{url}/health").json()["workers"])["unhealthy"] == 0 and w,
                           what="the worker to be healthy again")
            assert workers["idle"] == 1
    finally:
        proc.stop()
        fake.stop()


def test_the_endpoint_tab_reads_an_unhealthy_worker_and_why():
    from backend.client import Health
    from backend.readiness import build

    sentence = "ComfyUI did not stop the run within 1 s of the interrupt and could not be stopped: …"
    health = Health.parse({"workers": {"unhealthy": 1}, "jobs": {}})
    ready = build(health, {"comfyui": {"alive": True, "busy": sentence}, "jobs": {}}, [])
    assert ready.workers["unhealthy"] == 1 and ready.workers["idle"] == 0
    assert ready.problems == [f"ComfyUI is busy: {sentence}"]
    assert build(health, {"comfyui": {"alive": True}, "jobs": {}}, []).problems == []
