"""A running job's status names the step that runs (issue 24.1), on the preview engine, which sends ComfyUI's
executing/progress messages; `--step-delay` slows its sampler so a person (and this test) can watch it."""
from __future__ import annotations

import re
import time

import httpx

from tests.local_endpoint.test_idle_and_preview_volume import start


def test_status_during_a_slow_job_shows_the_step_changing(tmp_path):
    proc, url = start(tmp_path, "--preview", "--step-delay", "0.12")
    try:
        with httpx.Client(timeout=30) as http:
            job_id = http.post(f"{url}/run", json={"input": {"action": "portrait", "prompt": "a lighthouse keeper",
                                                             "steps": 12, "width": 256, "height": 256}}).json()["id"]
            labels: list[str] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                st = http.get(f"{url}/status/{job_id}").json()
                if st["status"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"):
                    break
                label = (st.get("output") or {}).get("label") if st["status"] == "IN_PROGRESS" else None
                if label and (not labels or labels[-1] != label):
                    labels.append(label)
                time.sleep(0.05)
        assert st["status"] == "COMPLETED", st
        steps = [m for m in (re.fullmatch(r"drawing (\d+)/12", s) for s in labels) if m]
        # the sampler's steps count up as it runs, and it is not the only step shown
        assert len({int(m.group(1)) for m in steps}) >= 2, labels
        assert [int(m.group(1)) for m in steps] == sorted(int(m.group(1)) for m in steps), labels
        assert any(not re.search(r"\d+/\d+", s) for s in labels), labels
        assert not any("node" in s for s in labels), labels
    finally:
        proc.stop()


def test_the_studio_shows_the_workers_words_for_the_step():
    from types import SimpleNamespace

    from backend.tracker import running_message
    from ui.jobs import status_cell

    rec = SimpleNamespace(status="running", progress={"stage": "running", "node": "3", "step": 12, "steps": 25,
                                                      "percent": 48, "label": "sampling 12/25"})
    assert running_message(rec) == "Running: sampling 12/25 (48 %)"
    assert status_cell(rec) == "running · sampling 12/25"
    rec.progress = {"stage": "running", "node": "7", "step": 0, "steps": 0, "percent": 0,
                    "label": "loading Sonic · 12 s"}
    assert running_message(rec) == "Running: loading Sonic · 12 s"
    old = SimpleNamespace(status="running", progress={"stage": "running", "step": 3, "steps": 5, "percent": 60})
    assert running_message(old) == "Running: step 3 of 5 (60 %)"          # a worker without labels
    assert status_cell(SimpleNamespace(status="completed", progress=rec.progress)) == "completed"
