"""Progress reports: throttled, ordered, and never the last thing RunPod hears before the result."""
from __future__ import annotations

import asyncio
import time

from worker import progress


def test_reports_are_throttled_but_stage_changes_get_through(monkeypatch):
    seen = []
    token = progress.sink.set(lambda job, payload: seen.append(payload))
    try:
        job = {"id": "throttle"}
        assert progress.report(job, {"stage": "running", "step": 1})
        assert not progress.report(job, {"stage": "running", "step": 2})        # too soon after the first
        assert progress.report(job, {"stage": "uploading_outputs"}, force=True)
    finally:
        progress.sink.reset(token)
        progress.forget({"id": "throttle"})
    assert [p.get("step") for p in seen] == [1, None]
    assert seen[0]["seq"] < seen[1]["seq"]


async def test_runpod_updates_go_out_in_order_and_settle_waits_only_for_the_last_ack(monkeypatch):
    acked = []

    async def slow_post(channel, body):
        await asyncio.sleep(0.05)
        acked.append(body["seq"])

    monkeypatch.setattr(progress, "post", slow_post)
    job = {"id": "ordered"}
    for stage in ("uploading_inputs", "queued", "running", "uploading_outputs"):
        progress.report(job, {"stage": stage}, force=True)
        await asyncio.sleep(0.02)               # the first is in flight while the next ones come
    t = time.monotonic()
    await progress.settle(job)
    took = time.monotonic() - t
    # In order; the first goes at once, later ones wait their turn and only the newest waiting one is posted.
    assert acked == sorted(acked) and 2 <= len(acked) < 4
    assert acked[-1] == max(acked)
    assert took < 0.5                           # no blind second after the last acknowledgement


async def test_settle_is_bounded_when_an_update_hangs(monkeypatch):
    async def hanging_post(channel, body):
        await asyncio.sleep(30)

    monkeypatch.setattr(progress, "post", hanging_post)
    job = {"id": "hang"}
    progress.report(job, {"stage": "running"}, force=True)
    t = time.monotonic()
    await progress.settle(job, bound=0.2)
    assert time.monotonic() - t < 1.0


async def test_a_local_sink_needs_no_quiet_gap():
    token = progress.sink.set(lambda job, payload: None)
    try:
        job = {"id": "local"}
        progress.report(job, {"stage": "running"}, force=True)
        t = time.monotonic()
        await progress.settle(job)
        assert time.monotonic() - t < 0.1
    finally:
        progress.sink.reset(token)


async def test_settle_waits_for_the_update_in_flight_only_and_drops_the_one_not_yet_sent(monkeypatch):
    acked = []

    async def slow_post(channel, body):
        await asyncio.sleep(0.3)
        acked.append(body["stage"])

    monkeypatch.setattr(progress, "post", slow_post)
    job = {"id": "one-trip"}
    progress.report(job, {"stage": "running"}, force=True)              # in flight
    await asyncio.sleep(0.01)
    progress.report(job, {"stage": "uploading_outputs"}, force=True)    # waits its turn: the result supersedes it
    await progress.settle(job)
    assert acked == ["running"]                                         # settle returned after the one in flight
    await asyncio.sleep(0.4)
    assert acked == ["running"]                                         # and nothing goes out after the result
