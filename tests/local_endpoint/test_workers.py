"""Workers and access: concurrency, cold start, /health counts, streaming, auth and the host guard."""
from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.local_endpoint.conftest import HANDLER, serve_command
from tests.support.procs import REPO


def test_concurrency_two_runs_two_jobs_at_once(start_endpoint):
    ep = start_endpoint("--concurrency", "2")
    try:
        a = ep.run({"kind": "sleep", "steps": 6, "step_s": 0.1})
        b = ep.run({"kind": "sleep", "steps": 6, "step_s": 0.1})
        ja = ep.wait_for(a, lambda j: j["status"] == "IN_PROGRESS")
        jb = ep.wait_for(b, lambda j: j["status"] == "IN_PROGRESS")
        assert ep.status(a).json()["status"] == "IN_PROGRESS"  # both at the same time
        assert ja["workerId"] != jb["workerId"]
        workers = ep.health()["workers"]
        assert workers["running"] == 2 and workers["idle"] == 0
        assert ep.wait_terminal(a)["status"] == ep.wait_terminal(b)["status"] == "COMPLETED"
        assert ep.health()["workers"]["idle"] == 2
    finally:
        ep.close()


def test_cold_start_then_health_counts(start_endpoint):
    ep = start_endpoint("--cold-start", "1")
    try:
        h = ep.health()
        assert h["workers"] == {"idle": 0, "initializing": 1, "ready": 0, "running": 0, "throttled": 0, "unhealthy": 0}
        ok = ep.run({"kind": "echo"})
        bad = ep.run({"kind": "raise"})
        time.sleep(0.2)
        assert ep.status(ok).json()["status"] == "IN_QUEUE"  # nobody takes jobs while initializing
        assert ep.health()["jobs"]["inQueue"] == 2
        done = ep.wait_terminal(ok)
        assert done["status"] == "COMPLETED" and done["delayTime"] >= 700  # the cold start shows as delay
        assert ep.wait_terminal(bad)["status"] == "FAILED"
        h = ep.health()
        assert h["jobs"] == {"completed": 1, "failed": 1, "inProgress": 0, "inQueue": 0, "retried": 0}
        assert h["workers"]["initializing"] == 0 and h["workers"]["idle"] == h["workers"]["ready"] == 1
    finally:
        ep.close()


def test_stream_returns_chunks_since_the_last_read(endpoint):
    job_id = endpoint.run({"kind": "stream", "chunks": 4, "step_s": 0.15})
    seen: list[int] = []
    partial_while_running = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = endpoint.http.get(f"{endpoint.url}/stream/{job_id}")
        assert r.status_code == 200
        body = r.json()
        chunks = [c["output"]["chunk"] for c in body["stream"]]
        if chunks and body["status"] == "IN_PROGRESS":
            partial_while_running = True
        seen += chunks
        if body["status"] == "COMPLETED":
            break
        time.sleep(0.05)
    assert seen == [0, 1, 2, 3]  # each chunk once, in order
    assert partial_while_running
    assert endpoint.http.get(f"{endpoint.url}/stream/{job_id}").json()["stream"] == []
    assert endpoint.status(job_id).json()["output"] == [{"chunk": i} for i in range(4)]


def test_api_key_is_required_and_never_logged(start_endpoint):
    key = "sk-local-test-0123456789"
    ep = start_endpoint(env={"LOCAL_ENDPOINT_API_KEY": key}, headers={"Authorization": f"Bearer {key}"})
    try:
        assert httpx.get(f"{ep.url}/health").status_code == 401
        r = httpx.post(f"{ep.url}/run", json={"input": {}}, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and key not in r.text
        job_id = ep.run({"kind": "echo"})
        assert ep.wait_terminal(job_id)["status"] == "COMPLETED"
        assert httpx.get(f"{ep.url}/status/{job_id}", headers={"Authorization": key}).status_code == 200
        assert key not in ep.proc.log()
    finally:
        ep.close()


def test_non_loopback_host_is_refused_without_a_key():
    r = subprocess.run([sys.executable, *serve_command(), "--host", "0.0.0.0", "--port", "0", "--handler", HANDLER],
                       cwd=REPO, capture_output=True, text=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert r.returncode != 0
    assert "--host" in r.stderr and "--api-key" in r.stderr
    assert "local endpoint ready" not in r.stdout


def test_a_missing_handler_is_a_clear_startup_error():
    r = subprocess.run([sys.executable, "-m", "worker.local_endpoint", "--port", "0",
                        "--handler", "tests.support.handlers:nope"],
                       cwd=REPO, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "has no attribute 'nope'" in r.stderr


def test_a_sync_handler_runs_in_a_thread_and_the_server_stays_responsive(start_endpoint):
    ep = start_endpoint("--handler", "tests.support.handlers:sync_sleeper")
    try:
        job_id = ep.run({"seconds": 1.0})
        # were the event loop blocked, /status could only answer after the job had finished
        assert ep.wait_for(job_id, lambda j: j["status"] == "IN_PROGRESS")["status"] == "IN_PROGRESS"
        assert ep.wait_terminal(job_id)["output"] == {"status": "success"}
    finally:
        ep.close()


def test_preview_flag_starts_the_engine_for_the_handler_and_stops_it_on_exit(start_endpoint):
    ep = start_endpoint("--preview")
    try:
        job_id = ep.run({"kind": "env"})
        comfy = ep.wait_terminal(job_id, timeout=20)["output"]["COMFYUI_URL"]
        assert comfy.startswith("http://127.0.0.1:")
        stats = httpx.get(f"{comfy}/system_stats", timeout=5).json()
        assert stats["system"]["argv"][0] == "studio-preview-engine"
    finally:
        ep.close()
    try:
        httpx.get(f"{comfy}/system_stats", timeout=2)
    except httpx.HTTPError:
        pass
    else:
        raise AssertionError("the preview engine outlived the endpoint")


def test_comfyui_url_flag_reaches_the_handler(start_endpoint):
    ep = start_endpoint("--comfyui-url", "http://127.0.0.1:9/comfy")
    try:
        job_id = ep.run({"kind": "env"})
        assert ep.wait_terminal(job_id)["output"] == {"COMFYUI_URL": "http://127.0.0.1:9/comfy"}
    finally:
        ep.close()


def test_sigterm_cancels_the_running_handler_and_exits_cleanly(start_endpoint, tmp_path):
    ep = start_endpoint()
    marker = tmp_path / "m"
    job_id = ep.run({"kind": "sleep", "steps": 100, "step_s": 0.1, "marker": str(marker)})
    ep.wait_for(job_id, lambda j: j["status"] == "IN_PROGRESS")
    ep.close()  # SIGTERM
    assert ep.proc.popen.returncode == 0
    assert marker.read_text() == "cancelled"
