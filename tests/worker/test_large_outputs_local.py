"""Outputs too big to return inline, without a bucket: the local endpoint keeps them and serves them behind its
API key, and the studio's backend fetches them with that key into its library (issue 10.1)."""
from __future__ import annotations

import httpx

from backend.settings import Settings
from backend.studio import Studio
from tests.support.procs import Proc, free_port, stop_detached_endpoint
from tests.worker.conftest import portrait_workflow

KEY = "local-endpoint-key-for-files"


def serve(tmp_path, comfy: str) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(["-m", "worker", "serve", "--port", str(port), "--comfyui-url", comfy, "--api-key", KEY],
                tmp_path / "serve.log", env={"ALLOW_RAW_WORKFLOW": "1", "RUNPOD_VOLUME": str(tmp_path / "volume")})
    line = proc.wait_for_line("local endpoint ready:", timeout=60)
    return proc, line.split("ready:", 1)[1].strip()


def test_a_big_output_comes_back_as_a_url_the_endpoint_serves_behind_its_key(tmp_path, fake):
    proc, base = serve(tmp_path, fake)
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        done = httpx.post(f"{base}/runsync", headers=auth, timeout=120, json={"input": {
            "action": "workflow", "workflow": portrait_workflow(size_bytes=9_000_000)}}).json()
        assert done["status"] == "COMPLETED", done
        [f] = done["output"]["files"]
        assert f["encoding"] == "url" and f["url"].startswith(base + "/files/") and f["size"] > 9_000_000 - 100
        assert httpx.get(f["url"]).status_code == 401                       # the key guards the files too
        got = httpx.get(f["url"], headers=auth, timeout=60)
        assert got.status_code == 200 and len(got.content) == f["size"] and got.content[:8] == b"\x89PNG\r\n\x1a\n"
        small = httpx.post(f"{base}/runsync", headers=auth, timeout=120, json={"input": {
            "action": "workflow", "workflow": portrait_workflow()}}).json()
        assert small["output"]["files"][0]["encoding"] == "base64"          # small ones stay inline
    finally:
        proc.stop()


def test_a_four_minute_wav_in_preview_mode_lands_in_the_library(tmp_path):
    data = tmp_path / "data"
    studio = Studio(Settings.from_env(env={"STUDIO_DATA_DIR": str(data)}, dotenv=None)).start()
    try:
        rec = studio.submit("music", {"tags": "slow piano, rain", "duration": 240, "format": "wav", "steps": 10})
        evs = list(studio.watch(rec.id, timeout=240))
        final = studio.get(rec.id)
        assert final.status == "completed", [(e.kind, e.message) for e in evs]
        [out] = final.outputs
        assert out["type"] == "audio" and out["size"] > 7 * 1024 * 1024
        with open(out["path"], "rb") as fh:
            assert fh.read(4) == b"RIFF"
    finally:
        studio.close()
        stop_detached_endpoint(data / "preview-endpoint" / "endpoint.json")
