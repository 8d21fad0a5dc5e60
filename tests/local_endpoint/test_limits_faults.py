"""Payload limits, the oversize-result rule, and the faults tests can inject (--test-hooks)."""
from __future__ import annotations

import httpx
import pytest

MB = 1024 * 1024


def body_of(size: int) -> bytes:
    """A valid /run body of exactly `size` bytes."""
    head = b'{"input": {"kind": "echo", "pad": "'
    tail = b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def post_raw(endpoint, route: str, body: bytes) -> httpx.Response:
    return endpoint.http.post(f"{endpoint.url}/{route}", content=body, headers={"Content-Type": "application/json"})


def test_run_body_over_10_mb_is_413_naming_size_and_limit(endpoint):
    r = post_raw(endpoint, "run", body_of(10 * MB + 1))
    assert r.status_code == 413
    err = r.json()
    assert err["size"] == 10 * MB + 1 and err["limit"] == 10 * MB
    assert str(10 * MB + 1) in err["error"] and "10 MB" in err["error"]
    ok = post_raw(endpoint, "run", body_of(10 * MB))
    assert ok.status_code == 200
    endpoint.http.post(f"{endpoint.url}/cancel/{ok.json()['id']}")


def test_runsync_allows_20_mb(endpoint):
    r = post_raw(endpoint, "runsync", body_of(20 * MB + 1))
    assert r.status_code == 413 and r.json()["limit"] == 20 * MB
    r = post_raw(endpoint, "runsync", body_of(12 * MB))
    assert r.status_code == 200
    # echo returns the 12 MB input, which is over the result limit: completed, output dropped
    assert r.json()["status"] == "COMPLETED" and "output" not in r.json()


def test_oversize_result_completes_without_output(endpoint):
    job_id = endpoint.run({"kind": "big", "bytes": 11 * MB})
    done = endpoint.wait_terminal(job_id)
    assert done["status"] == "COMPLETED" and "output" not in done
    assert "over RunPod's" in endpoint.proc.log()
    small = endpoint.run({"kind": "big", "bytes": 9 * MB})
    assert len(endpoint.wait_terminal(small)["output"]["data"]) == 9 * MB


def fault(endpoint, **spec) -> None:
    r = endpoint.http.post(f"{endpoint.root}/_test/faults", json=spec)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("code", [429, 500, 503])
def test_status_fault_answers_the_code_n_times_then_recovers(endpoint, code):
    job_id = endpoint.run({"kind": "echo"})
    fault(endpoint, route="status", status=code, count=2)
    assert [endpoint.status(job_id).status_code for _ in range(3)] == [code, code, 200]


def test_run_fault_does_not_enqueue(endpoint):
    before = len(endpoint.http.get(f"{endpoint.root}/_test/jobs").json()["jobs"])
    fault(endpoint, route="run", status=503, count=1)
    r = endpoint.http.post(f"{endpoint.url}/run", json={"input": {"kind": "echo"}})
    assert r.status_code == 503
    assert len(endpoint.http.get(f"{endpoint.root}/_test/jobs").json()["jobs"]) <= before


def test_drop_closes_the_connection_without_an_answer(endpoint):
    fault(endpoint, route="health", drop=True, count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{endpoint.url}/health")
    assert httpx.get(f"{endpoint.url}/health").status_code == 200


def test_drop_after_enqueue_leaves_a_job_the_client_never_heard_of(endpoint):
    fault(endpoint, route="run", drop_after_enqueue=True, count=1)
    marker = "dropped-run-" + str(id(endpoint))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{endpoint.url}/run", json={"input": {"kind": "echo", "marker": marker}})
    jobs = [j for j in endpoint.http.get(f"{endpoint.root}/_test/jobs").json()["jobs"]
            if j["input"].get("marker") == marker]
    assert len(jobs) == 1
    assert endpoint.wait_terminal(jobs[0]["id"])["status"] == "COMPLETED"


def test_bad_fault_specs_are_refused_naming_the_field(endpoint):
    r = endpoint.http.post(f"{endpoint.root}/_test/faults", json={"route": "nowhere", "status": 500})
    assert r.status_code == 400 and r.json()["error"].startswith("route:")
    r = endpoint.http.post(f"{endpoint.root}/_test/faults", json={"route": "run", "status": 404})
    assert r.status_code == 400 and r.json()["error"].startswith("status:")


def test_test_hooks_are_absent_without_the_flag(start_endpoint):
    plain = start_endpoint()
    try:
        assert plain.http.post(f"{plain.root}/_test/faults", json={"route": "run", "status": 500}).status_code == 404
        assert plain.http.get(f"{plain.root}/_test/jobs").status_code == 404
    finally:
        plain.close()
