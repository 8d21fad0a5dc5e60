"""`serve --idle-exit`: a detached endpoint exits once nobody uses it, never while a job runs or a client polls.
`serve --preview`: the handler's volume is the preview engine's data folder, so readiness is true to its files."""
from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.local_endpoint.conftest import HANDLER, READY, serve_command
from tests.support.procs import Proc
from workflows.catalogue import load_manifest


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Proc, str]:
    proc = Proc([*serve_command(), "--port", "0", *args], tmp_path / "serve.log", env=env)
    try:
        url = proc.wait_for_line(READY, timeout=60).split(READY, 1)[1].strip()
    except Exception:
        proc.stop()
        raise
    return proc, url


def test_idle_exit_waits_for_jobs_and_requests_then_exits(tmp_path):
    proc, url = start(tmp_path, "--handler", HANDLER, "--idle-exit", "1")
    try:
        job = httpx.post(f"{url}/run", json={"input": {"kind": "sleep", "steps": 6, "step_s": 0.4}}).json()["id"]
        time.sleep(2.0)                      # no request for twice the idle period, but a job is running
        assert proc.popen.poll() is None
        for _ in range(8):                   # a client polling now and then keeps it up too
            assert httpx.get(f"{url}/health").status_code == 200
            time.sleep(0.4)
        assert httpx.get(f"{url}/status/{job}").json()["status"] == "COMPLETED"
        assert proc.popen.wait(timeout=15) == 0          # left alone, it goes
        assert "idle for 1 s (no job queued or running, no request): exiting" in proc.log()
    finally:
        proc.stop()


def test_idle_exit_refuses_a_negative_period(tmp_path):
    proc = Proc([*serve_command(), "--idle-exit", "-5"], tmp_path / "bad.log")
    assert proc.popen.wait(timeout=30) == 2
    assert "--idle-exit: must be 0 (never) or more seconds, got -5" in proc.log()
    proc.stop()


def debug(url: str) -> dict:
    r = httpx.post(f"{url}/runsync", json={"input": {"action": "debug"}}, timeout=60)
    assert r.status_code == 200 and r.json()["status"] == "COMPLETED", r.text
    return r.json()["output"]


def test_preview_debug_reads_the_engines_placeholders_as_the_volume(tmp_path):
    comfy_dir = tmp_path / "comfyui"         # where a real install would be: nothing may be written there
    proc, url = start(tmp_path, "--preview", env={"RUNPOD_VOLUME": str(tmp_path / "elsewhere"),
                                                  "COMFYUI_DIR": str(comfy_dir)})
    try:
        out = debug(url)
        assert out["preview"] is True and out["comfyui"]["supervised"] is False
        assert {a: j["ready"] for a, j in out["jobs"].items()} == dict.fromkeys(
            ["portrait", "tts", "lipsync", "animate", "music"], True), out["jobs"]
        volume = Path(out["volume"]["path"])
        assert volume != tmp_path / "elsewhere" and "ace_step_v1_3.5b.safetensors" in out["volume"]["folders"][
            "checkpoints"]

        gone = "checkpoints/ace_step_v1_3.5b.safetensors"
        (volume / "models" / gone).unlink()
        jobs = debug(url)["jobs"]
        assert jobs["music"] == {"ready": False, "missing": [{"path": gone, "size": load_manifest()[gone].size,
                                                              "problem": "not on the volume"}]}
        assert all(jobs[a]["ready"] for a in ("portrait", "tts", "lipsync", "animate"))

        # the vocoder's file is in place but its refs/main is gone: huggingface_hub would not find it
        refs = volume / "models" / "hf/hub/models--charactr--vocos-mel-24khz/refs/main"
        commit = refs.read_text()
        refs.unlink()
        tts = debug(url)["jobs"]["tts"]
        assert not tts["ready"] and {m["repo"] for m in tts["missing"]} == {"charactr/vocos-mel-24khz"}
        assert all("refs/main is missing" in m["problem"] and m["commit"] == commit for m in tts["missing"])
        refs.write_text(commit)
        assert debug(url)["jobs"]["tts"]["ready"]

        r = httpx.post(f"{url}/runsync", json={"input": {"action": "music", "tags": "strings"}}, timeout=60).json()
        assert r["status"] == "FAILED" and '"model_missing"' in r["error"] and gone in r["error"], r
        assert not comfy_dir.exists()
    finally:
        proc.stop()
