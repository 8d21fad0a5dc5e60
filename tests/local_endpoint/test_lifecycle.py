"""A job's life as a client sees it: queued, running with progress, finished, then gone after retention."""
from __future__ import annotations

import json
import time

import httpx


def test_job_goes_queued_running_completed_with_progress_and_times(endpoint):
    job_id = endpoint.run({"kind": "sleep", "steps": 5, "step_s": 0.15})

    running = endpoint.wait_for(job_id, lambda j: j["status"] == "IN_PROGRESS" and "output" in j)
    progress = running["output"]
    assert progress["stage"] == "running" and progress["steps"] == 5
    assert 1 <= progress["step"] <= 5 and isinstance(progress["seq"], int)
    later = endpoint.wait_for(job_id, lambda j: j["status"] != "IN_PROGRESS" or j["output"]["step"] > progress["step"])
    assert later["status"] == "COMPLETED" or later["output"]["seq"] > progress["seq"]

    done = endpoint.wait_terminal(job_id)
    assert done["status"] == "COMPLETED"
    assert done["output"] == {"status": "success", "steps": 5}
    assert done["id"] == job_id and done["workerId"]
    assert isinstance(done["delayTime"], int) and 0 <= done["delayTime"] < 1000
    assert isinstance(done["executionTime"], int) and 700 <= done["executionTime"] < 5000
    assert "error" not in done


def test_delay_time_counts_the_wait_behind_another_job(endpoint):
    first = endpoint.run({"kind": "sleep", "steps": 4, "step_s": 0.1})
    t0 = time.monotonic()
    second = endpoint.run({"kind": "sleep", "steps": 1, "step_s": 0.01})
    gap_ms = (time.monotonic() - t0) * 1000      # on a busy machine the second arrives a while after the first
    assert endpoint.status(second).json()["status"] == "IN_QUEUE"
    done = endpoint.wait_terminal(second)
    assert done["status"] == "COMPLETED"
    # it waited for what was left of the first job's 4 × 0.1 s
    assert done["delayTime"] >= 400 - gap_ms - 50, (done["delayTime"], gap_ms)
    assert endpoint.wait_terminal(first)["status"] == "COMPLETED"


def test_result_is_kept_for_the_retention_window_then_404(endpoint):
    job_id = endpoint.run({"kind": "echo", "n": 1})
    assert endpoint.wait_terminal(job_id)["output"]["input"] == {"kind": "echo", "n": 1}
    assert endpoint.status(job_id).status_code == 200  # still there right after
    deadline = time.monotonic() + 5
    while endpoint.status(job_id).status_code == 200:
        assert time.monotonic() < deadline, "result outlived --retention 1"
        time.sleep(0.1)
    r = endpoint.status(job_id)
    assert r.status_code == 404 and job_id in r.json()["error"]


def test_status_also_answers_post(endpoint):
    job_id = endpoint.run({"kind": "echo"})
    endpoint.wait_terminal(job_id)
    assert endpoint.http.post(f"{endpoint.url}/status/{job_id}").json()["status"] == "COMPLETED"


def test_returned_error_fails_the_job_with_that_string(endpoint):
    job_id = endpoint.run({"kind": "fail", "message": "width: 1000 is not a multiple of 8"})
    done = endpoint.wait_terminal(job_id)
    assert done["status"] == "FAILED" and "output" not in done
    body = json.loads(done["error"])
    assert body == {"code": "invalid_input", "message": "width: 1000 is not a multiple of 8", "field": "width"}


def test_exception_fails_the_job_with_the_sdk_error_json(endpoint):
    job_id = endpoint.run({"kind": "raise", "message": "kaboom"})
    done = endpoint.wait_terminal(job_id)
    assert done["status"] == "FAILED"
    err = json.loads(done["error"])
    assert err["error_type"] == "<class 'ValueError'>"
    assert err["error_message"] == "kaboom"
    assert "ValueError: kaboom" in err["error_traceback"]


def test_runsync_returns_the_finished_job(endpoint):
    r = endpoint.http.post(f"{endpoint.url}/runsync", json={"input": {"kind": "echo", "x": 2}})
    assert r.status_code == 200
    job = r.json()
    assert job["status"] == "COMPLETED" and job["id"].startswith("sync-")
    assert job["output"]["input"]["x"] == 2 and "executionTime" in job


def test_runsync_returns_a_non_terminal_status_when_the_wait_runs_out(endpoint):
    r = endpoint.http.post(f"{endpoint.url}/runsync?wait=1000",
                           json={"input": {"kind": "sleep", "steps": 3, "step_s": 0.5}})
    assert r.status_code == 200
    job = r.json()
    assert job["status"] in ("IN_QUEUE", "IN_PROGRESS") and "output" not in job
    assert endpoint.wait_terminal(job["id"])["status"] == "COMPLETED"


def test_s3config_reaches_the_handler_but_never_the_inspection_route(endpoint):
    s3 = {"accessId": "AKIDSECRET", "accessSecret": "VERY-SECRET", "bucketName": "b", "endpointUrl": "http://x"}
    job_id = endpoint.run({"kind": "echo"}, s3Config=s3)
    assert endpoint.wait_terminal(job_id)["output"]["has_s3Config"] is True
    listing = endpoint.http.get(f"{endpoint.root}/_test/jobs").text
    assert job_id in listing and "VERY-SECRET" not in listing and "AKIDSECRET" not in listing
    assert "VERY-SECRET" not in endpoint.proc.log()


def test_bad_requests_name_the_field(endpoint):
    post = endpoint.http.post
    r = post(f"{endpoint.url}/run", json={"inputs": {}})
    assert r.status_code == 400 and r.json()["field"] == "input"
    r = post(f"{endpoint.url}/run", json={"input": {}, "policy": {"executionTimeout": "soon"}})
    assert r.status_code == 400 and r.json()["field"] == "policy.executionTimeout"
    assert "milliseconds" in r.json()["error"]
    r = post(f"{endpoint.url}/run", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = post(f"{endpoint.url}/runsync?wait=abc", json={"input": {}})
    assert r.status_code == 400 and r.json()["field"] == "wait"
    r = httpx.get(f"{endpoint.root}/v2/other-endpoint/health")
    assert r.status_code == 404 and "other-endpoint" in r.json()["error"]
    assert endpoint.status("no-such-job").status_code == 404


def test_webhook_receives_the_status_object(endpoint):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[tuple[str, dict]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook?token=s3cr3t-token"
        job_id = endpoint.run({"kind": "echo", "w": 1}, webhook=url)
        done = endpoint.wait_terminal(job_id)
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(received) == 1
        path, body = received[0]
        assert path == "/hook?token=s3cr3t-token"
        assert body == done
        assert "s3cr3t-token" not in endpoint.proc.log()
    finally:
        server.shutdown()
