"""RunPodClient against the real local endpoint: errors, backoff without duplicates, the /run fate rule."""
from __future__ import annotations

import asyncio

import pytest

from backend.client import RetryPolicy, RunPodClient
from backend.errors import (AuthError, FateUnknownError, NotFoundError, PayloadTooLargeError, RateLimitedError,
                            ServerError)
from backend.records import Policy
from backend.settings import Secret
from tests.backend.conftest import API_KEY, start_endpoint

POLICY = Policy(60_000, 600_000)
FAST = RetryPolicy(attempts=5, base_s=0.05, max_s=0.2)


def client(ep, key: str | None = API_KEY, retry: RetryPolicy = FAST) -> RunPodClient:
    return RunPodClient(ep.base, ep.endpoint_id, Secret(key) if key else None, timeout_s=10, retry=retry)


async def wait_done(c: RunPodClient, job_id: str, timeout: float = 20) -> dict:
    for _ in range(int(timeout / 0.05)):
        st = await c.status(job_id)
        if st["status"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"):
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job_id} did not finish")


def count_marked(ep, tag: str) -> int:
    return sum(1 for j in ep.jobs() if tag in str(j))


async def test_run_and_status_complete_a_job(endpoint):
    c = client(endpoint)
    try:
        out = await c.run({"kind": "sleep", "steps": 2, "step_s": 0.05}, POLICY)
        assert out["status"] == "IN_QUEUE" and out["id"]
        st = await wait_done(c, out["id"])
        assert st["status"] == "COMPLETED" and st["output"]["steps"] == 2
        assert isinstance(st["executionTime"], int)
        h = await c.health()
        assert set(h.workers) >= {"idle", "ready", "running", "initializing", "throttled"}
    finally:
        await c.aclose()


async def test_wrong_key_is_an_auth_error_without_the_key(endpoint):
    c = client(endpoint, key="rpa_WRONG_key_123456")
    try:
        with pytest.raises(AuthError) as ei:
            await c.health()
        assert "RUNPOD_API_KEY" in ei.value.message
        assert "rpa_WRONG_key_123456" not in str(ei.value)
        assert c.requests["health"] == 1     # a refused key is not retried
    finally:
        await c.aclose()


async def test_unknown_job_is_not_found(endpoint):
    c = client(endpoint)
    try:
        with pytest.raises(NotFoundError) as ei:
            await c.status("no-such-job-u1")
        assert "no-such-job-u1" in ei.value.message and "retention" in ei.value.message
    finally:
        await c.aclose()


async def test_job_expires_after_retention(tmp_path):
    short = start_endpoint(tmp_path, "--retention", "1")
    c = client(short)
    try:
        out = await c.run({"kind": "echo", "n": 1}, POLICY)
        await wait_done(c, out["id"])
        await asyncio.sleep(3)        # kept for 1 s; the reaper looks about every second
        with pytest.raises(NotFoundError) as ei:
            await c.status(out["id"])
        assert "retention" in ei.value.message
    finally:
        await c.aclose()
        short.proc.stop()


async def test_429_on_run_is_retried_and_makes_exactly_one_job(endpoint):
    c = client(endpoint)
    try:
        endpoint.fault(route="run", status=429, count=2)
        out = await c.run({"kind": "echo", "tag": "only-once-429"}, POLICY)
        assert c.requests["run"] == 3
        assert count_marked(endpoint, "only-once-429") == 1
        await wait_done(c, out["id"])
    finally:
        await c.aclose()


async def test_5xx_and_429_on_status_are_retried(endpoint):
    c = client(endpoint)
    try:
        out = await c.run({"kind": "echo", "tag": "status-faults"}, POLICY)
        endpoint.fault(route="status", status=503, count=2)
        endpoint.fault(route="status", status=429, count=1)
        st = await c.status(out["id"])
        assert st["id"] == out["id"]
        assert c.requests["status"] == 4
    finally:
        await c.aclose()


async def test_persistent_429_becomes_a_rate_limit_error(endpoint):
    c = client(endpoint, retry=RetryPolicy(attempts=3, base_s=0.01, max_s=0.02))
    try:
        endpoint.fault(route="health", status=429, count=3)
        with pytest.raises(RateLimitedError) as ei:
            await c.health()
        assert "429" in ei.value.message
    finally:
        await c.aclose()


async def test_5xx_on_run_is_not_resent(endpoint):
    c = client(endpoint)
    try:
        endpoint.fault(route="run", status=500, count=1)
        with pytest.raises(FateUnknownError) as ei:
            await c.run({"kind": "echo", "tag": "run-500"}, POLICY)
        assert c.requests["run"] == 1
        assert "second job could be billed" in ei.value.message
    finally:
        await c.aclose()


async def test_dropped_connection_after_enqueue_is_never_resent(endpoint):
    c = client(endpoint)
    try:
        endpoint.fault(route="run", drop_after_enqueue=True, count=1)
        with pytest.raises(FateUnknownError):
            await c.run({"kind": "echo", "tag": "dropped-after-enqueue"}, POLICY)
        assert c.requests["run"] == 1
        # The job does exist at the endpoint: resending would have made a second one.
        assert count_marked(endpoint, "dropped-after-enqueue") == 1
    finally:
        await c.aclose()


async def test_server_errors_everywhere_become_a_server_error(endpoint):
    c = client(endpoint, retry=RetryPolicy(attempts=2, base_s=0.01, max_s=0.02))
    try:
        endpoint.fault(route="health", status=502, count=2)
        with pytest.raises(ServerError) as ei:
            await c.health()
        assert "502" in ei.value.message
    finally:
        await c.aclose()


async def test_oversize_run_is_refused_before_sending(endpoint):
    c = client(endpoint)
    try:
        before = {j["id"] for j in endpoint.jobs()}     # ids: finished jobs leave after --retention
        with pytest.raises(PayloadTooLargeError) as ei:
            await c.run({"kind": "echo", "blob": "x" * 10_500_000}, POLICY)
        assert "10.5 MB" in ei.value.message and "10 MB" in ei.value.message
        assert c.requests["run"] == 0 and {j["id"] for j in endpoint.jobs()} <= before
    finally:
        await c.aclose()
