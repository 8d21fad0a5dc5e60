"""The fault modes tests of other parts rely on: never-start, crash-mid-job, hang, reject, fail-node."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid

import httpx

from . import graphs
from .conftest import run_ws
from tests.support.procs import REPO


def _refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_never_start_logs_but_never_binds(engine_factory):
    e = engine_factory("--fault", "never-start", wait=False)
    e.proc.wait_for_line("never-start", timeout=30)
    time.sleep(1.0)
    assert e.proc.popen.poll() is None, "the process keeps running"
    assert _refused(e.port)
    assert "ComfyUI version" in e.proc.log()


async def test_crash_mid_job_exits_after_some_progress(engine_factory):
    e = engine_factory("--fault", "crash-mid-job", "--models-from-manifest")
    cid = f"crash-{uuid.uuid4().hex[:6]}"
    try:
        await run_ws(e, {"prompt": graphs.portrait(), "client_id": cid}, client_id=cid, timeout=15)
    except Exception:
        pass  # the socket drops when the process dies
    e.proc.popen.wait(15)
    assert e.proc.popen.returncode == 1
    assert "simulated crash" in e.proc.log()
    assert _refused(e.port)


async def test_crash_mid_job_sends_progress_first(engine_factory):
    e = engine_factory("--fault", "crash-mid-job", "--models-from-manifest")
    cid = f"crash-{uuid.uuid4().hex[:6]}"
    frames = []
    import aiohttp
    import json
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(f"{e.ws_url}/ws?clientId={cid}") as ws:
            httpx.post(f"{e.url}/prompt", json={"prompt": graphs.portrait(), "client_id": cid})
            async for msg in ws:
                if msg.type.name != "TEXT":
                    break
                frames.append(json.loads(msg.data)["type"])
    assert "progress" in frames and "execution_success" not in frames and "execution_error" not in frames


async def test_hang_until_interrupted_then_next_prompt_is_served(engine_factory):
    e = engine_factory("--fault", "hang", "--models-from-manifest")
    cid = f"hang-{uuid.uuid4().hex[:6]}"
    pid = e.http.post("/prompt", json={"prompt": graphs.portrait(), "client_id": cid}).json()["prompt_id"]
    time.sleep(1.0)
    assert [x[1] for x in e.http.get("/queue").json()["queue_running"]] == [pid]
    assert e.http.get(f"/history/{pid}").json() == {}
    assert e.http.post("/_preview/faults", json={"fault": None}).json() == {"fault": None}
    e.http.post("/interrupt", json={"prompt_id": pid})
    e.wait_idle(10)
    assert e.http.get(f"/history/{pid}").json()[pid]["status"]["status_str"] == "error"
    _, frames = await run_ws(e, {"prompt": graphs.portrait(seed=5), "client_id": cid}, client_id=cid)
    assert "execution_success" in [f["type"] for f in frames]


def test_reject_answers_like_comfyui_in_trouble(engine_factory):
    e = engine_factory("--fault", "reject")
    r = e.http.post("/prompt", json={"prompt": graphs.portrait()})
    assert r.status_code == 500 and r.text == "500 Internal Server Error\n\nServer got itself in trouble"
    assert r.headers["content-type"].startswith("text/plain")
    assert e.http.get("/system_stats").status_code == 200, "other routes keep working"


async def test_fail_node_and_runtime_switch(engine_factory):
    e = engine_factory("--models-from-manifest")
    assert e.http.get("/_preview/faults").json() == {"fault": None}
    bad = e.http.post("/_preview/faults", json={"fault": "explode"})
    assert bad.status_code == 400 and "fault" in bad.json()["error"] and "fail-node" in bad.json()["error"]
    assert e.http.post("/_preview/faults", json={"fault": "fail-node:KSampler"}).json() == {
        "fault": "fail-node:KSampler"}
    cid = f"fail-{uuid.uuid4().hex[:6]}"
    _, frames = await run_ws(e, {"prompt": graphs.portrait(), "client_id": cid}, client_id=cid)
    types = [f["type"] for f in frames]
    err = next(f["data"] for f in frames if f["type"] == "execution_error")
    assert err["node_id"] == "5" and err["node_type"] == "KSampler" and err["exception_type"] == "RuntimeError"
    assert err["exception_message"].endswith("\n") and "KSampler" in err["exception_message"]
    assert set(err) == {"prompt_id", "node_id", "node_type", "executed", "exception_message", "exception_type",
                        "traceback", "current_inputs", "current_outputs", "timestamp"}
    assert types[types.index("execution_error"):] == ["execution_error", "status", "executing"]
    assert e.http.post("/_preview/faults", json={"fault": "reject"}).status_code == 200
    assert e.http.post("/prompt", json={"prompt": graphs.portrait()}).status_code == 500
    e.http.post("/_preview/faults", json={"fault": "none"})
    assert e.http.post("/prompt", json={"prompt": graphs.portrait()}).status_code == 200


def test_bad_cli_fault_names_the_option():
    r = subprocess.run([sys.executable, "-m", "worker.preview", "--data", "/tmp/x-unused", "--fault", "boom"],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "fault" in r.stderr and "never-start" in r.stderr
