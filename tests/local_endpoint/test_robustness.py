"""The local endpoint under abuse and abrupt ends: deep JSON, clearing faults, children that must not outlive
`serve` (SIGTERM or kill -9), a supervising `serve` wired to its volume, and ComfyUI's log under --comfyui-url."""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.procs import Proc, free_port, wait_http
from tests.worker.conftest import FAKE, portrait_workflow


def serve(tmp_path, *args: str, env: dict[str, str] | None = None) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(["-m", "worker", "serve", "--port", str(port), *args], tmp_path / f"serve-{port}.log", env=env)
    line = proc.wait_for_line("local endpoint ready:", timeout=60)
    return proc, line.split("ready:", 1)[1].strip()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill 0; it has exited all the same.
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(") ", 1)[1][0] != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if not alive(pid):
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def test_deeply_nested_json_is_a_bad_request(start_endpoint):
    ep = start_endpoint()
    body = b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = ep.http.post(f"{ep.url}/run", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "nested too deeply" in r.json()["error"]
    assert ep.health()["jobs"]["inQueue"] == 0                  # and the server is fine


def test_faults_with_count_zero_clear_the_route(start_endpoint):
    ep = start_endpoint("--test-hooks")
    r = ep.http.post(f"{ep.root}/_test/faults", json={"route": "health", "status": 503, "count": 5})
    assert r.status_code == 200
    assert ep.http.get(f"{ep.url}/health").status_code == 503
    r = ep.http.post(f"{ep.root}/_test/faults", json={"route": "health", "count": 0})
    assert r.status_code == 200, r.text
    assert r.json()["faults"] == []
    assert ep.http.get(f"{ep.url}/health").status_code == 200


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_preview_engine_dies_with_serve(tmp_path, how):
    proc, base = serve(tmp_path, "--preview")
    kids = children(proc.popen.pid)
    assert kids, "serve --preview started no engine"
    os.kill(proc.popen.pid, how)
    proc.popen.wait(20)
    for kid in kids:
        assert gone_within(kid, 10), f"child {kid} outlived serve after {how.name}"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_supervising_serve_wires_the_volume_and_its_comfyui_dies_with_it(tmp_path, how):
    port = free_port()
    volume, comfy_dir = tmp_path / "volume", tmp_path / "comfyui"
    (volume / "models" / "checkpoints").mkdir(parents=True)
    env = {"COMFYUI_COMMAND": shlex.join([sys.executable, FAKE, "--port", "{port}"]), "COMFYUI_PORT": str(port),
           "RUNPOD_VOLUME": str(volume), "COMFYUI_DIR": str(comfy_dir), "COMFYUI_LOG": str(tmp_path / "comfy.log")}
    proc, base = serve(tmp_path, env=env)
    wait_http(f"http://127.0.0.1:{port}/system_stats", 30)          # started with serve, not on the first job
    assert (comfy_dir / "extra_model_paths.yaml").is_file()         # the volume is wired as on RunPod
    assert str(volume / "models") in (comfy_dir / "extra_model_paths.yaml").read_text()
    comfy_pids = [int(p) for p in subprocess.run(["pgrep", "-f", f"{FAKE} --port {port}"], capture_output=True,
                                                text=True).stdout.split()]
    assert comfy_pids
    os.kill(proc.popen.pid, how)
    proc.popen.wait(30)
    for pid in comfy_pids:
        assert gone_within(pid, 15), f"ComfyUI {pid} outlived serve after {how.name}"


def test_a_crash_under_comfyui_url_carries_the_log_named_by_comfyui_log(tmp_path):
    port = free_port()
    log = tmp_path / "comfyui.log"
    comfy = Proc([sys.executable, FAKE, "--port", str(port), "--fault", "crash-mid-job"], log)
    wait_http(f"http://127.0.0.1:{port}/system_stats", 30, comfy.popen)
    proc, base = serve(tmp_path, "--comfyui-url", f"http://127.0.0.1:{port}",
                       env={"ALLOW_RAW_WORKFLOW": "1", "COMFYUI_LOG": str(log),
                            "RUNPOD_VOLUME": str(tmp_path / "volume")})
    try:
        done = httpx.post(f"{base}/runsync", json={"input": {"action": "workflow", "workflow": portrait_workflow()}},
                          timeout=60).json()
        assert done["status"] == "FAILED", done
        err = json.loads(done["error"])
        assert err["code"] in ("comfyui_crashed", "comfyui_unavailable"), err
        assert any("Segmentation fault" in line for line in err["details"]["log_tail"]), err
    finally:
        proc.stop()
        comfy.stop()


def test_jobs_survive_a_restart_of_the_endpoint(tmp_path):
    state = tmp_path / "state"
    args = ("--handler", "tests.support.handlers:dispatch", "--state-dir", str(state))
    proc, base = serve(tmp_path, *args)
    done = httpx.post(f"{base}/runsync", json={"input": {"kind": "echo", "text": "kept"},
                                                "s3Config": {"accessSecret": "secret-not-on-disk"}}).json()
    assert done["status"] == "COMPLETED"
    running = httpx.post(f"{base}/run", json={"input": {"kind": "sleep", "steps": 100, "step_s": 0.1}}).json()["id"]
    queued = httpx.post(f"{base}/run", json={"input": {"kind": "sleep", "steps": 1}}).json()["id"]
    deadline = time.monotonic() + 20
    while httpx.get(f"{base}/status/{running}").json()["status"] != "IN_PROGRESS":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.popen.pid, signal.SIGKILL)                  # the hardest end: nothing is flushed on the way out
    proc.popen.wait(10)
    assert "secret-not-on-disk" not in "".join(p.read_text() for p in state.rglob("*.json"))

    proc2, base2 = serve(tmp_path, *args)
    try:
        kept = httpx.get(f"{base2}/status/{done['id']}").json()
        assert kept["status"] == "COMPLETED" and kept["output"]["input"]["text"] == "kept"
        for job_id in (running, queued):
            job = httpx.get(f"{base2}/status/{job_id}").json()
            assert job["status"] == "FAILED", job
            err = json.loads(job["error"])
            assert err["code"] == "endpoint_restarted" and "restarted" in err["message"]
    finally:
        proc2.stop()
