"""Cancel, execution timeout, ttl, retry and purge-queue, as RunPod does them."""
from __future__ import annotations

import json
import time
from pathlib import Path


def wait_file(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.03)
    raise AssertionError(f"{path} was never written")


def long_job(endpoint, marker: Path, **extra) -> str:
    return endpoint.run({"kind": "sleep", "steps": 50, "step_s": 0.1, "marker": str(marker)}, **extra)


def test_cancel_a_queued_job_removes_it_and_a_running_one_interrupts_the_handler(endpoint, tmp_path):
    running = long_job(endpoint, tmp_path / "running")
    queued = endpoint.run({"kind": "echo"})
    endpoint.wait_for(running, lambda j: j["status"] == "IN_PROGRESS")

    r = endpoint.http.post(f"{endpoint.url}/cancel/{queued}")
    assert r.status_code == 200 and r.json() == {"id": queued, "status": "CANCELLED"}
    assert endpoint.status(queued).json()["status"] == "CANCELLED"

    r = endpoint.http.post(f"{endpoint.url}/cancel/{running}")
    assert r.json() == {"id": running, "status": "CANCELLED"}
    job = endpoint.status(running).json()
    assert job["status"] == "CANCELLED" and "output" not in job  # the progress payload is gone
    assert wait_file(tmp_path / "running") == "cancelled"  # the handler received CancelledError

    # the worker is free again and the cancelled queued job never ran
    after = endpoint.run({"kind": "echo", "after": True})
    assert endpoint.wait_terminal(after)["status"] == "COMPLETED"
    assert endpoint.status(queued).json()["status"] == "CANCELLED"
    jobs = {j["id"]: j for j in endpoint.http.get(f"{endpoint.root}/_test/jobs").json()["jobs"]}
    assert jobs[queued]["handlerOutcome"] is None
    assert jobs[running]["handlerOutcome"] == "cancelled"


def test_cancel_of_a_finished_job_leaves_it_and_unknown_is_404(endpoint):
    job_id = endpoint.run({"kind": "echo"})
    endpoint.wait_terminal(job_id)
    assert endpoint.http.post(f"{endpoint.url}/cancel/{job_id}").json()["status"] == "COMPLETED"
    assert endpoint.http.post(f"{endpoint.url}/cancel/nope").status_code == 404


def test_execution_timeout_cancels_the_handler_and_marks_timed_out(endpoint, tmp_path):
    job_id = long_job(endpoint, tmp_path / "m", policy={"executionTimeout": 400})
    done = endpoint.wait_terminal(job_id)
    assert done["status"] == "TIMED_OUT"
    assert "400 ms" in json.loads(done["error"])["error_message"]
    assert 350 <= done["executionTime"] < 3000
    assert wait_file(tmp_path / "m") == "cancelled"


def test_ttl_deletes_the_job_even_while_running(endpoint, tmp_path):
    job_id = long_job(endpoint, tmp_path / "m", policy={"ttl": 600})
    endpoint.wait_for(job_id, lambda j: j["status"] == "IN_PROGRESS")
    deadline = time.monotonic() + 5
    while endpoint.status(job_id).status_code == 200:
        assert time.monotonic() < deadline, "job outlived its ttl"
        time.sleep(0.05)
    assert endpoint.status(job_id).status_code == 404
    assert wait_file(tmp_path / "m") == "cancelled"


def test_ttl_expires_a_queued_job(endpoint, tmp_path):
    blocker = long_job(endpoint, tmp_path / "b")
    queued = endpoint.run({"kind": "echo"}, policy={"ttl": 300})
    time.sleep(0.6)
    assert endpoint.status(queued).status_code == 404
    endpoint.http.post(f"{endpoint.url}/cancel/{blocker}")


def test_retry_requeues_a_failed_job_with_the_same_id_and_input(endpoint, tmp_path):
    before = endpoint.health()["jobs"]["retried"]
    job_id = endpoint.run({"kind": "flaky", "marker": str(tmp_path / "flaky")})
    failed = endpoint.wait_terminal(job_id)
    assert failed["status"] == "FAILED" and failed["error"] == "flaky: first attempt fails"

    r = endpoint.http.post(f"{endpoint.url}/retry/{job_id}")
    assert r.status_code == 200 and r.json() == {"id": job_id, "status": "IN_QUEUE"}
    done = endpoint.wait_terminal(job_id)
    assert done["status"] == "COMPLETED" and done["output"] == {"status": "success", "attempt": 2}
    assert "error" not in done
    assert endpoint.health()["jobs"]["retried"] == before + 1

    r = endpoint.http.post(f"{endpoint.url}/retry/{job_id}")
    assert r.status_code == 400 and "COMPLETED" in r.json()["error"]


def test_retry_works_for_timed_out_jobs(endpoint, tmp_path):
    job_id = endpoint.run({"kind": "sleep", "steps": 3, "step_s": 0.2}, policy={"executionTimeout": 200})
    assert endpoint.wait_terminal(job_id)["status"] == "TIMED_OUT"
    assert endpoint.http.post(f"{endpoint.url}/retry/{job_id}").status_code == 200
    assert endpoint.wait_terminal(job_id)["status"] == "TIMED_OUT"  # same policy, same outcome


def test_purge_queue_removes_only_queued_jobs(endpoint, tmp_path):
    running = long_job(endpoint, tmp_path / "r")
    endpoint.wait_for(running, lambda j: j["status"] == "IN_PROGRESS")
    queued = [endpoint.run({"kind": "echo", "i": i}) for i in range(3)]
    assert endpoint.health()["jobs"]["inQueue"] == 3

    r = endpoint.http.post(f"{endpoint.url}/purge-queue")
    assert r.status_code == 200 and r.json() == {"removed": 3, "status": "completed"}
    assert all(endpoint.status(q).status_code == 404 for q in queued)
    assert endpoint.status(running).json()["status"] == "IN_PROGRESS"
    health = endpoint.health()["jobs"]
    assert health["inQueue"] == 0 and health["inProgress"] == 1
    endpoint.http.post(f"{endpoint.url}/cancel/{running}")
