"""The handler's error paths against the preview engine's own fault modes (`--fault ...` and
POST /_preview/faults), in addition to the tests against tests/worker/fake_comfyui.py: the same failures, from
the ComfyUI stand-in the studio and the local endpoint really use."""
from __future__ import annotations

import json
import shlex
import sys
import time

import httpx
import pytest

from tests.support.procs import Proc, free_port, wait_http
from tests.worker.conftest import settings_for
from worker.handler import handler

def portrait() -> dict:
    # A fresh seed each time: like ComfyUI, the engine caches node results and would skip the nodes (and the fault).
    return {"action": "portrait", "prompt": "Viking warrior", "width": 256, "height": 256, "steps": 4, "seed": -1}


def engine_command(data, *extra: str) -> str:
    return shlex.join([sys.executable, "-m", "worker.preview", "--port", "{port}", "--data", str(data),
                       "--models-from-manifest", "--step-delay", "0.02", *extra])


def error_of(result: dict) -> dict:
    assert "error" in result, result
    return json.loads(result["error"])


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("preview-faults")
    port = free_port()
    proc = Proc(["-m", "worker.preview", "--port", str(port), "--data", str(tmp / "data"), "--models-from-manifest",
                 "--step-delay", "0.02"], tmp / "engine.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/system_stats", timeout=30, proc=proc.popen)
        yield url
    finally:
        proc.stop()


@pytest.fixture
def fault(engine):
    """Set the engine's fault for one test; always cleared afterwards so the module's engine stays healthy."""
    def set_fault(name: str | None) -> None:
        r = httpx.post(engine + "/_preview/faults", json={"fault": name})
        assert r.status_code == 200 and r.json()["fault"] == name, r.text

    yield set_fault
    set_fault(None)


def engine_idle(url: str) -> bool:
    q = httpx.get(url + "/queue").json()
    return not q["queue_running"] and not q["queue_pending"]


async def test_failing_node_names_the_jobs_step(engine, fault, use_settings, tmp_path, reports):
    use_settings(settings_for(engine, tmp_path))
    fault("fail-node:KSampler")
    err = error_of(await handler({"id": "f1", "input": portrait()}))
    assert err["code"] == "execution_failed"
    assert "portrait (drawing)" in err["message"] and "fail-node:KSampler" in err["message"]
    fault(None)
    assert (await handler({"id": "f2", "input": portrait()}))["status"] == "success"


async def test_hang_hits_the_jobs_deadline_and_the_engine_is_interrupted(engine, fault, use_settings, tmp_path, reports):
    use_settings(settings_for(engine, tmp_path))
    fault("hang")
    err = error_of(await handler({"id": "h1", "policy": {"executionTimeout": 1500}, "input": portrait()}))
    assert err["code"] == "timeout" and "1.5 s" in err["message"]
    deadline = time.monotonic() + 5
    while not engine_idle(engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine_idle(engine)                    # the worker interrupted it: nothing left running
    fault(None)
    assert (await handler({"id": "h2", "input": portrait()}))["status"] == "success"


async def test_rejected_prompt_is_comfyuis_failure_not_the_users(engine, fault, use_settings, tmp_path, reports):
    use_settings(settings_for(engine, tmp_path))
    fault("reject")
    err = error_of(await handler({"id": "r1", "input": portrait()}))
    assert err["code"] == "execution_failed"
    assert "HTTP 500" in err["message"] and "Server got itself in trouble" in err["message"]
    assert "\n" not in err["message"]


async def test_engine_that_never_starts_fails_jobs_with_its_log(use_settings, tmp_path, reports):
    use_settings(settings_for(None, tmp_path, comfyui_command=engine_command(tmp_path / "d", "--fault", "never-start"),
                              comfyui_port=free_port(), comfyui_start_timeout_s=3.0))
    err = error_of(await handler({"id": "n1", "input": portrait()}))
    assert err["code"] == "comfyui_unavailable" and "did not answer within 3 s" in err["message"]
    assert any("never-start" in line for line in err["details"]["log_tail"])


async def test_engine_crash_mid_job_fails_fast_and_is_restarted(use_settings, tmp_path, reports):
    rt = use_settings(settings_for(None, tmp_path, comfyui_command=engine_command(tmp_path / "d", "--fault",
                                                                                "crash-mid-job"),
                                   comfyui_port=free_port(), comfyui_start_timeout_s=30.0))
    rt.supervisor.start()
    t0 = time.monotonic()
    err = error_of(await handler({"id": "k1", "input": portrait()}))
    assert err["code"] == "comfyui_crashed"
    assert any("simulated crash" in line for line in err["details"]["log_tail"])
    assert time.monotonic() - t0 < 20          # noticed by the watchdog, not after a socket timeout
    first = rt.supervisor.proc.pid
    # The next job starts a fresh engine (the fault is on its command line, so it crashes again).
    err = error_of(await handler({"id": "k2", "input": portrait()}))
    assert err["code"] == "comfyui_crashed"
    assert rt.supervisor.restarts == 1 and rt.supervisor.proc.pid != first
