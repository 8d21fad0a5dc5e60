"""Issue 23 §15: a local endpoint that restarts without its state folder forgets a job the studio was following;
the studio says the job was lost, not that its result expired after the retention time."""
from __future__ import annotations

from tests.backend.conftest import start_endpoint
from tests.backend.test_jobs import events, make_studio


def test_a_job_forgotten_by_a_restarted_local_endpoint_is_reported_lost(tmp_path):
    ep = start_endpoint(tmp_path, "--retention", "600")
    port = ep.root.rsplit(":", 1)[1]
    studio = make_studio(ep, tmp_path / "data")
    again = None
    try:
        rec = studio.submit("expire-test", {"kind": "sleep", "steps": 200, "step_s": 0.1})
        for ev in studio.watch(rec.id, timeout=30):
            if ev.kind == "running":
                break
        ep.proc.stop()
        again = start_endpoint(tmp_path, "--retention", "600", "--port", port)   # same address, no state
        last = events(studio, rec.id, timeout=60)[-1]
        assert last.kind == "failed" and last.record.error["code"] == "lost"
        assert "lost this job before it ended" in last.message
        assert "retention" not in last.message and "expired" not in last.message
    finally:
        studio.close()
        (again or ep).proc.stop()
