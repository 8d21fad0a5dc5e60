"""Outputs too big to come back from RunPod without a bucket are refused before sending, at the field, with what
to change; a studio with its own bucket sends it as s3Config, never recording or logging its keys."""
from __future__ import annotations

import json
import logging

import pytest

from backend.errors import InputError
from backend.outputsize import INLINE_LIMIT, estimate_bytes, inline_problem
from backend.settings import Secret, Settings
from backend.studio import Studio
from tests.backend.conftest import API_KEY


@pytest.mark.parametrize("action, values, field, words", [
    ("music", {"duration": 240, "format": "wav"}, "duration", ["WAV", "240 s", "at most 41 s", "STUDIO_BUCKET_"]),
    ("music", {"duration": 60, "format": "wav"}, "format", ["choose MP3"]),
    ("tts", {"text": "x" * 5000, "format": "wav", "speed": 1.0}, "format", ["choose MP3", "shorten the text"]),
])
def test_too_big_outputs_say_what_to_change(action, values, field, words):
    got = inline_problem(action, values)
    assert got is not None and got[0] == field
    for w in words:
        assert w in got[1], got[1]


@pytest.mark.parametrize("action, values", [
    ("music", {"duration": 30, "format": "wav"}), ("music", {"duration": 120, "format": "mp3"}),
    ("tts", {"text": "A short line.", "format": "wav", "speed": 1.0}), ("portrait", {"prompt": "x"}),
])
def test_outputs_that_fit_are_not_refused(action, values):
    assert inline_problem(action, values) is None
    size = estimate_bytes(action, values)
    assert size is None or size <= INLINE_LIMIT


def test_runpod_mode_without_a_bucket_refuses_before_a_job_exists(tmp_path):
    studio = Studio(Settings(api_key=Secret("rpa_runpod_key_never_used"), endpoint_id="abc123",
                             data_dir=tmp_path / "data")).start()
    try:
        assert studio.mode == "runpod"
        with pytest.raises(InputError) as e:
            studio.submit("music", {"tags": "piano", "duration": 240, "format": "wav"})
        assert e.value.field == "duration" and "without a bucket" in e.value.message
        assert studio.history() == []                       # nothing in Jobs, nothing paid
    finally:
        studio.close()


def test_a_studio_bucket_goes_with_each_job_and_its_keys_stay_out_of_records_and_logs(endpoint, tmp_path, caplog):
    env = {"RUNPOD_API_KEY": API_KEY, "RUNPOD_ENDPOINT_ID": endpoint.endpoint_id, "RUNPOD_API_BASE": endpoint.base,
           "STUDIO_DATA_DIR": str(tmp_path / "data"), "STUDIO_BUCKET_ENDPOINT_URL": "https://bucket.example",
           "STUDIO_BUCKET_NAME": "media", "STUDIO_BUCKET_ACCESS_KEY_ID": "AKIA_BUCKET_ID_SECRET",
           "STUDIO_BUCKET_SECRET_ACCESS_KEY": "bucket-secret-value-xyz"}
    settings = Settings.from_env(env=env, dotenv=None)
    assert "bucket-secret-value-xyz" not in repr(settings)
    caplog.set_level(logging.DEBUG)
    studio = Studio(settings).start()
    try:
        rec = studio.submit("echo-test", {"kind": "echo"})
        evs = list(studio.watch(rec.id, timeout=30))
        assert evs[-1].kind == "completed", [(e.kind, e.message) for e in evs]
        seen = [j for j in endpoint.jobs() if j["id"] == studio.get(rec.id).remote_id]
        assert seen and seen[0]["output"]["has_s3Config"] is True
        stored = json.dumps(studio.get(rec.id).__dict__, default=str)
        for secret in ("bucket-secret-value-xyz", "AKIA_BUCKET_ID_SECRET"):
            assert secret not in stored and secret not in caplog.text
        # A big output is not refused when the studio has a bucket.
        assert studio.inline_problem("music", {"duration": 240, "format": "wav"}) is None
    finally:
        studio.close()
