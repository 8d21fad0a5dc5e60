"""Progress reports: throttled, ordered, and never the last thing RunPod hears before the result."""
from __future__ import annotations

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


async def test_runpod_updates_are_followed_by_a_quiet_gap_before_the_result(monkeypatch):
    posted = []
    monkeypatch.setattr(progress, "_runpod_sink", lambda job, payload: posted.append(time.monotonic()))
    job = {"id": "quiet"}
    progress.report(job, {"stage": "uploading_outputs"}, force=True)
    await progress.settle(job)
    assert posted and time.monotonic() - posted[-1] >= progress.QUIET_BEFORE_RESULT_S


async def test_a_local_sink_needs_no_quiet_gap():
    token = progress.sink.set(lambda job, payload: None)
    try:
        job = {"id": "local"}
        progress.report(job, {"stage": "running"}, force=True)
        t = time.monotonic()
        await progress.settle(job)
        assert time.monotonic() - t < progress.QUIET_BEFORE_RESULT_S / 2
    finally:
        progress.sink.reset(token)
