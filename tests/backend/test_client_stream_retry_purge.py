"""RunPodClient.stream / retry / purge_queue (and Studio.purge_queue) against a real local endpoint process."""
from __future__ import annotations

import asyncio
import time

import pytest

from backend.client import RetryPolicy, RunPodClient
from backend.errors import BadRequestError, NotFoundError, NotRetriableError
from backend.records import Policy
from backend.settings import Secret, Settings
from backend.studio import Studio
from tests.backend.conftest import API_KEY, start_endpoint

POLICY = Policy(60_000, 600_000)
FAST = RetryPolicy(attempts=3, base_s=0.05, max_s=0.2)
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")


def client(ep) -> RunPodClient:
    return RunPodClient(ep.base, ep.endpoint_id, Secret(API_KEY), timeout_s=10, retry=FAST)


async def wait_status(c: RunPodClient, job_id: str, wanted: tuple[str, ...] = TERMINAL, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = await c.status(job_id)
        if st["status"] in wanted:
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job_id} never reached {wanted}")


async def collect(c: RunPodClient, job_id: str, timeout: float = 15) -> list:
    """Everything stream() yields; fails (instead of hanging) if the stream does not stop by itself."""
    async with asyncio.timeout(timeout):
        return [chunk async for chunk in c.stream(job_id, poll_s=0.05, max_poll_s=0.2)]


# -- stream ----------------------------------------------------------------------------------------------------
async def test_stream_yields_generator_chunks_in_order_and_stops_when_completed(endpoint):
    c = client(endpoint)
    try:
        job = await c.run({"kind": "stream", "chunks": 6, "step_s": 0.05}, POLICY)
        chunks = await collect(c, job["id"])
        assert chunks == [{"chunk": i} for i in range(6)]
        assert (await c.status(job["id"]))["status"] == "COMPLETED"
    finally:
        await c.aclose()


async def test_stream_stops_when_the_job_is_cancelled(endpoint):
    c = client(endpoint)
    try:
        # A generator that would run for ~100 s: the stream must end because of the cancel, not the job's end.
        job = await c.run({"kind": "stream", "chunks": 1000, "step_s": 0.1}, POLICY)
        got: list = []
        async with asyncio.timeout(15):
            async for chunk in c.stream(job["id"], poll_s=0.05, max_poll_s=0.2):
                got.append(chunk)
                if len(got) == 2:
                    assert (await c.cancel(job["id"]))["status"] == "CANCELLED"
        assert len(got) >= 2
        assert got == [{"chunk": i} for i in range(len(got))]   # in order, no gaps, nothing after the cancel
        assert len(got) < 20
        assert (await c.status(job["id"]))["status"] == "CANCELLED"
    finally:
        await c.aclose()


async def test_stream_stops_on_failure_and_on_timeout(endpoint):
    c = client(endpoint)
    try:
        failed = await c.run({"kind": "fail", "message": "steps: 0 is below the minimum 1"}, POLICY)
        timed = await c.run({"kind": "stream", "chunks": 1000, "step_s": 0.5}, Policy(5_000, 600_000))
        assert await collect(c, failed["id"]) == []
        st = await c.status(failed["id"])
        assert st["status"] == "FAILED" and "steps: 0 is below the minimum 1" in st["error"]

        chunks = await collect(c, timed["id"], timeout=15)
        assert chunks and chunks == [{"chunk": i} for i in range(len(chunks))]
        assert (await c.status(timed["id"]))["status"] == "TIMED_OUT"
    finally:
        await c.aclose()


async def test_stream_of_an_unknown_job_is_not_found(endpoint):
    c = client(endpoint)
    try:
        with pytest.raises(NotFoundError) as ei:
            await collect(c, "no-such-stream-job")
        assert "no-such-stream-job" in ei.value.message
    finally:
        await c.aclose()


# -- retry -----------------------------------------------------------------------------------------------------
async def test_retry_requeues_a_failed_job_under_the_same_id_and_it_completes(endpoint, tmp_path):
    c = client(endpoint)
    marker = tmp_path / "flaky-marker"
    try:
        before = (await c.health()).jobs["retried"]
        job = await c.run({"kind": "flaky", "marker": str(marker)}, POLICY)
        first = await wait_status(c, job["id"])
        assert first["status"] == "FAILED" and "first attempt fails" in first["error"]

        again = await c.retry(job["id"])
        assert again == {"id": job["id"], "status": "IN_QUEUE"}
        second = await wait_status(c, job["id"])
        assert second["status"] == "COMPLETED"
        assert second["output"] == {"status": "success", "attempt": 2}
        assert not second.get("error")
        # one job at the endpoint, retried once; not a second job
        assert sum(1 for j in endpoint.jobs() if str(marker) in str(j)) == 1
        assert (await c.health()).jobs["retried"] == before + 1
    finally:
        await c.aclose()


async def test_retry_of_a_completed_job_is_refused_with_a_typed_error(endpoint):
    c = client(endpoint)
    try:
        job = await c.run({"kind": "echo", "retry": "completed"}, POLICY)
        done = await wait_status(c, job["id"])
        assert done["status"] == "COMPLETED"
        with pytest.raises(NotRetriableError) as ei:
            await c.retry(job["id"])
        err = ei.value
        assert isinstance(err, BadRequestError) and err.code == "not_retriable" and err.status == 400
        assert job["id"] in err.message and "COMPLETED" in err.message
        assert "FAILED or TIMED_OUT" in err.message and "{" not in err.message   # a sentence, not raw JSON
        assert c.requests["retry"] == 1                                         # a refusal is not resent
        after = await c.status(job["id"])
        assert after["status"] == "COMPLETED" and after["output"] == done["output"]   # untouched

        with pytest.raises(NotFoundError):
            await c.retry("no-such-job-to-retry")
    finally:
        await c.aclose()


# -- purge-queue -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def single_worker(tmp_path_factory):
    """One worker, so jobs after the first really wait in the queue (the shared endpoint has four)."""
    ep = start_endpoint(tmp_path_factory.mktemp("ep1"), "--concurrency", "1")
    yield ep
    ep.proc.stop()


async def test_purge_removes_queued_jobs_only_and_reports_how_many(single_worker, tmp_path):
    c = client(single_worker)
    try:
        running_marker = tmp_path / "running"
        running = await c.run({"kind": "sleep", "steps": 15, "step_s": 0.1, "marker": str(running_marker)}, POLICY)
        await wait_status(c, running["id"], ("IN_PROGRESS",))
        markers = [tmp_path / f"queued-{i}" for i in range(3)]
        queued = [(await c.run({"kind": "sleep", "steps": 1, "step_s": 0.01, "marker": str(m)}, POLICY))["id"]
                  for m in markers]
        for job_id in queued:
            assert (await c.status(job_id))["status"] == "IN_QUEUE"

        out = await c.purge_queue()
        assert out["removed"] == 3 and out["status"] == "completed"

        for job_id in queued:
            with pytest.raises(NotFoundError):
                await c.status(job_id)
        assert (await c.status(running["id"]))["status"] == "IN_PROGRESS"   # running jobs are not purged
        assert (await wait_status(c, running["id"]))["status"] == "COMPLETED"
        assert running_marker.read_text() == "finished"
        assert not any(m.exists() for m in markers)                         # the purged jobs never ran
        assert (await c.purge_queue())["removed"] == 0                      # nothing left to purge
    finally:
        await c.aclose()


def test_studio_purge_queue_counts_and_the_purged_jobs_end(single_worker, tmp_path):
    s = Settings(api_key=Secret(API_KEY), endpoint_id=single_worker.endpoint_id, api_base=single_worker.base,
                 data_dir=tmp_path / "data")
    studio = Studio(s).start()
    try:
        blocker = studio.submit("sleep-test", {"kind": "sleep", "steps": 15, "step_s": 0.1})
        for ev in studio.watch(blocker.id, timeout=20):
            if ev.kind == "running" or ev.terminal:
                break
        assert ev.kind == "running", ev.kind
        queued = [studio.submit("sleep-test", {"kind": "sleep", "steps": 1, "step_s": 0.01, "n": i})
                  for i in range(2)]

        assert studio.purge_queue() == 2

        for rec in queued:
            last = list(studio.watch(rec.id, timeout=20))[-1]
            assert last.kind == "cancelled", last.kind
            got = studio.get(rec.id)
            assert got.status == "cancelled" and got.error["code"] == "purged"
            assert "purge" in got.error["message"]         # not blamed on retention or TTL
        assert list(studio.watch(blocker.id, timeout=20))[-1].kind == "completed"
        assert studio.purge_queue() == 0
    finally:
        studio.close()
