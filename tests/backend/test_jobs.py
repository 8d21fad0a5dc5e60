"""The Studio facade against the real local endpoint: lifecycle, failures, cancel, timeout, restart, secrets."""
from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image

from backend.errors import PayloadTooLargeError
from backend.records import Policy
from backend.settings import Secret, Settings
from backend.studio import Studio
from tests.backend.conftest import API_KEY, start_endpoint


def make_studio(ep, data: Path, price: float = 0.00031) -> Studio:
    s = Settings(api_key=Secret(API_KEY), endpoint_id=ep.endpoint_id, api_base=ep.base, data_dir=data,
                 gpu_price_per_second=price)
    return Studio(s).start()


def events(studio: Studio, job_id: str, timeout: float = 30) -> list:
    out = list(studio.watch(job_id, timeout=timeout))
    assert out and out[-1].terminal, f"no terminal event: {[e.kind for e in out]}"
    return out


@pytest.fixture
def studio(endpoint, tmp_path):
    st = make_studio(endpoint, tmp_path / "data")
    yield st
    st.close()


def test_full_lifecycle_progress_outputs_and_history(studio, tmp_path):
    assert studio.mode == "local"
    rec = studio.submit("picture-test", {"kind": "picture", "steps": 6, "step_s": 0.15, "mislabel": True})
    assert rec.status == "queued" and rec.remote_id
    evs = events(studio, rec.id)
    kinds = [e.kind for e in evs]
    assert kinds[0] == "queued" and kinds[-1] == "completed"
    running = [e for e in evs if e.kind == "running"]
    assert running, kinds
    steps = [e.progress["step"] for e in running if e.progress]
    # A watched job with no prediction yet is looked at about once a second (backend/polling.py), so this
    # sub-second job shows at least one step; the steps it shows never go back.
    assert steps == sorted(steps) and max(steps) >= 1
    assert any("of 6" in e.message for e in running)

    done = studio.get(rec.id)
    assert done.status == "completed" and done.finished_at >= done.created_at
    assert done.execution_ms and done.execution_ms >= 800
    assert done.delay_ms is not None
    assert done.cost_usd == pytest.approx(done.execution_ms / 1000 * 0.00031, rel=1e-3)
    assert done.seed == 1234 and done.started_at is not None
    assert len(done.outputs) == 2
    real, fake = done.outputs
    assert real["mime"] == "image/png" and Image.open(real["path"]).format == "PNG"
    assert rec.id in Path(real["path"]).name and real["sha256"][:16] in Path(real["path"]).name
    # A JPEG that claims to be a PNG is recorded as what its bytes are.
    assert fake["mime"] == "image/jpeg" and fake["path"].endswith(".jpg") and fake["declared_mime"] == "image/png"
    assert [r.id for r in studio.history(action="picture-test")] == [rec.id]
    assert studio.history(status="failed", action="picture-test") == []


def test_media_inputs_go_to_the_library_not_the_row(studio, tmp_path):
    img = tmp_path / "panel.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(img)
    rec = studio.submit("echo-media", {"kind": "echo", "panel": str(img)})
    assert rec.inputs["panel"] != str(img) and Path(rec.inputs["panel"]).read_bytes() == img.read_bytes()
    assert events(studio, rec.id)[-1].kind == "completed"
    row = sqlite3.connect(studio.history_db.path).execute("SELECT inputs FROM jobs WHERE id=?", (rec.id,)).fetchone()
    assert "base64" not in row[0] and len(row[0]) < 500
    again = studio.rerun(rec.id)
    assert again.id != rec.id and again.inputs == rec.inputs
    assert events(studio, again.id)[-1].kind == "completed"


def test_worker_failure_message_reaches_the_event(studio):
    rec = studio.submit("fail-test", {"kind": "fail", "message": "width: 1000 is not a multiple of 8 (256–1024)"})
    last = events(studio, rec.id)[-1]
    assert last.kind == "failed"
    assert last.message == "width: 1000 is not a multiple of 8 (256–1024)"
    assert last.record.error == {"code": "invalid_input", "message": last.message, "field": "width"}


def test_handler_crash_and_unusable_output_fail_clearly(studio):
    crash = studio.submit("raise-test", {"kind": "raise", "message": "boom in the handler"})
    last = events(studio, crash.id)[-1]
    assert last.kind == "failed" and "boom in the handler" in last.message
    junk = studio.submit("junk-test", {"kind": "picture", "steps": 1, "step_s": 0.01, "garbage": True})
    last = events(studio, junk.id)[-1]
    assert last.kind == "failed" and last.record.error["code"] == "output_unusable"
    assert "junk.png" in last.message and "not an image, audio or video" in last.message


def test_completed_without_output_is_a_failure(studio):
    rec = studio.submit("silent-test", {"kind": "silent"})
    last = events(studio, rec.id)[-1]
    assert last.kind == "failed" and last.record.error["code"] == "result_lost"


def test_cancel_mid_run_stops_the_worker(studio, tmp_path):
    marker = tmp_path / "cancel-marker"
    rec = studio.submit("sleep-test", {"kind": "sleep", "steps": 100, "step_s": 0.1, "marker": str(marker)})
    for ev in studio.watch(rec.id, timeout=15):
        if ev.kind == "running":
            break
    t0 = time.monotonic()
    out = studio.cancel(rec.id)
    assert out.status == "cancelled" and time.monotonic() - t0 < 2
    assert studio.get(rec.id).status == "cancelled"
    assert [e.kind for e in studio.watch(rec.id)] == ["cancelled"]
    for _ in range(50):
        if marker.exists():
            break
        time.sleep(0.1)
    assert marker.read_text() == "cancelled"


def test_execution_timeout_is_reported(studio):
    rec = studio.submit("slow-test", {"kind": "sleep", "steps": 80, "step_s": 0.1},
                        policy=Policy(execution_timeout_ms=5_000, ttl_ms=60_000))
    last = events(studio, rec.id, timeout=20)[-1]
    assert last.kind == "timed_out" and "execution timeout of 5 s" in last.message


def test_oversize_request_is_refused_locally(studio, endpoint, tmp_path):
    big = tmp_path / "huge.wav"
    import numpy as np
    import soundfile as sf
    sf.write(big, np.zeros(4_000_000, dtype=np.int16), 44100, subtype="PCM_16")    # 8 MB → ~10.7 MB base64
    # Ids, not counts: earlier tests' jobs leave the endpoint 3 s after they end (--retention 3).
    before = {j["id"] for j in endpoint.jobs()}
    with pytest.raises(PayloadTooLargeError) as ei:
        studio.submit("huge-test", {"kind": "echo", "voice": str(big)})
    assert "MB" in ei.value.message and "limit of 10 MB" in ei.value.message
    assert {j["id"] for j in endpoint.jobs()} <= before
    [row] = studio.history(action="huge-test")
    assert row.status == "failed" and row.error["code"] == "payload_too_large"


def test_dropped_run_leaves_an_unknown_record(studio, endpoint):
    endpoint.fault(route="run", drop_after_enqueue=True, count=1)
    rec = studio.submit("drop-test", {"kind": "echo", "tag": "studio-drop"})
    assert rec.status == "unknown" and rec.remote_id is None
    assert "second job could be billed" in rec.error["message"]
    assert [e.kind for e in studio.watch(rec.id)] == ["unknown"]


def test_status_faults_do_not_duplicate_jobs(studio, endpoint):
    endpoint.fault(route="run", status=429, count=2)
    endpoint.fault(route="status", status=503, count=3)
    rec = studio.submit("flaky-net", {"kind": "echo", "tag": "studio-429-5xx"})
    assert events(studio, rec.id)[-1].kind == "completed"
    assert sum(1 for j in endpoint.jobs() if "studio-429-5xx" in str(j)) == 1


def test_restart_resumes_and_saves_outputs(endpoint, tmp_path):
    data = tmp_path / "data"
    first = make_studio(endpoint, data)
    rec = first.submit("restart-test", {"kind": "picture", "steps": 10, "step_s": 0.2})
    for ev in first.watch(rec.id, timeout=15):
        if ev.kind == "running":
            break
    first.close()
    row = sqlite3.connect(data / "studio.sqlite3").execute("SELECT status FROM jobs WHERE id=?", (rec.id,)).fetchone()
    assert row[0] == "running"                          # still in flight in the database
    second = make_studio(endpoint, data)
    try:
        last = events(second, rec.id)[-1]
        assert last.kind == "completed"
        done = second.get(rec.id)
        assert len(done.outputs) == 1 and Path(done.outputs[0]["path"]).is_file()
    finally:
        second.close()


def test_expired_job_after_restart(tmp_path):
    ep = start_endpoint(tmp_path, "--retention", "1")
    try:
        data = tmp_path / "data"
        first = make_studio(ep, data)
        rec = first.submit("expire-test", {"kind": "sleep", "steps": 6, "step_s": 0.1})
        first.close()                                   # nobody follows it while it finishes and expires
        time.sleep(2.6)
        second = make_studio(ep, data)
        try:
            last = events(second, rec.id)[-1]
            assert last.kind == "expired" and "retention" in last.message
        finally:
            second.close()
    finally:
        ep.proc.stop()


def test_cold_start_is_explained(tmp_path):
    ep = start_endpoint(tmp_path, "--cold-start", "3")
    try:
        st = make_studio(ep, tmp_path / "data")
        try:
            rec = st.submit("cold-test", {"kind": "echo"})
            evs = events(st, rec.id, timeout=20)
            cold = [e for e in evs if e.kind == "queued" and e.message.startswith("Cold start")]
            assert cold and "initializing" in cold[0].message and "about" in cold[0].message
            assert evs[-1].kind == "completed" and evs[-1].record.delay_ms >= 2000
        finally:
            st.close()
    finally:
        ep.proc.stop()


def test_no_secret_in_database_logs_or_errors(endpoint, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    st = make_studio(endpoint, data)
    errors: list[str] = []
    try:
        rec = st.submit("secret-test", {"kind": "fail", "message": "nope"})
        errors.append(events(st, rec.id)[-1].message)
        endpoint.fault(route="status", status=503, count=10)
        rec2 = st.submit("secret-test", {"kind": "echo"})
        errors.append(events(st, rec2.id)[-1].message)
        errors += [repr(st.settings), str(st.settings.api_key), repr(st.get(rec.id))]
        logging.getLogger("backend.tracker").warning("a careless line with %s in it", API_KEY)
        assert "a careless line with *** in it" in caplog.text
    finally:
        st.close()
    wrong = Settings(api_key=Secret("rpa_other_secret_key_000"), endpoint_id=endpoint.endpoint_id,
                     api_base=endpoint.base, data_dir=tmp_path / "d2")
    st2 = Studio(wrong).start()
    try:
        with pytest.raises(Exception) as ei:
            st2.submit("secret-test", {"kind": "echo"})
        errors.append(str(ei.value))
        assert "API key" in str(ei.value)
    finally:
        st2.close()
    blob = "\n".join(errors) + caplog.text
    for f in data.rglob("*"):
        if f.is_file():
            blob += f.read_bytes().decode("latin-1")
    assert API_KEY not in blob and "rpa_other_secret_key_000" not in blob
    assert "***" in repr(st.settings)
