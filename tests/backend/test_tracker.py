"""JobTracker details that the Studio does not expose: the stuck-at-100 % trap, settled after a grace period."""
from __future__ import annotations

import asyncio

from backend.client import RunPodClient
from backend.history import History
from backend.library import Library
from backend.records import Policy
from backend.settings import Secret
from backend.tracker import JobTracker, parse_error
from tests.backend.conftest import API_KEY


async def test_stuck_at_100_percent_is_settled(endpoint, tmp_path):
    client = RunPodClient(endpoint.base, endpoint.endpoint_id, Secret(API_KEY))
    history = History(tmp_path / "h.sqlite3")
    seen: list = []
    done = asyncio.Event()

    def on_event(ev):
        seen.append(ev)
        if ev.terminal:
            done.set()

    tracker = JobTracker(client, history, Library(tmp_path / "lib"), on_event=on_event, stuck_grace_s=1.0)
    await tracker.start()
    try:
        rec = await tracker.submit("stuck-test", {"kind": "stuck", "seconds": 20}, Policy(30_000, 60_000))
        await asyncio.wait_for(done.wait(), 15)
        last = seen[-1]
        assert last.kind == "failed" and last.record.error["code"] == "result_lost"
        assert "100 %" in last.message
        assert any(e.kind == "running" and e.progress and e.progress["percent"] == 100 for e in seen)
        assert history.get(rec.id).status == "failed"
        await client.cancel(rec.remote_id)
    finally:
        await tracker.stop()
        await client.aclose()
        history.close()


def test_error_strings_are_parsed_for_a_person():
    assert parse_error('{"code": "model_missing", "message": "checkpoints/x is missing"}') == {
        "code": "model_missing", "message": "checkpoints/x is missing"}
    sdk = parse_error('{"error_type": "ValueError", "error_message": "bad", "error_traceback": "..."}')
    assert sdk == {"code": "internal", "message": "The worker crashed: ValueError: bad"}
    assert parse_error("plain words") == {"code": "failed", "message": "plain words"}
    assert parse_error(None)["message"] == "The job failed without a message."


def test_progress_with_a_lower_seq_is_ignored(tmp_path):
    from backend.records import JobRecord
    from backend.tracker import _Followed
    history = History(tmp_path / "h.sqlite3")
    seen: list = []
    tracker = JobTracker(None, history, Library(tmp_path / "lib"), on_event=seen.append)  # type: ignore[arg-type]
    rec = JobRecord(id="j1", endpoint="e", action="a", inputs={}, status="queued", remote_id="r1")
    f = _Followed(rec=rec, submitted=0.0, next_poll=0.0)
    for seq, step in ((5, 3), (4, 2), (6, 4)):
        tracker._running(f, {"status": "IN_PROGRESS", "output": {"stage": "running", "step": step, "steps": 10,
                                                               "percent": step * 10, "seq": seq}})
    assert [e.progress["step"] for e in seen] == [3, 4]
    assert seen[-1].message == "Running: step 4 of 10 (40 %)"
    history.close()
