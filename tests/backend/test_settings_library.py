"""Settings parsing and redaction; the library's sniffing, hashing and capped streaming downloads over HTTP."""
from __future__ import annotations

import base64
import io

import pytest
from aiohttp import web
from PIL import Image

from backend.errors import LibraryError, SettingsError
from backend.library import Library
from backend.polling import PollState, next_interval
from backend.settings import DEFAULT_API_BASE, Settings
from tests.support.procs import free_port


def test_settings_from_env_and_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text('# studio\nexport RUNPOD_API_KEY="rpa_from_dotenv_123"\nRUNPOD_ENDPOINT_ID=abc123\n'
                        "GPU_PRICE_PER_SECOND=0.00044\n")
    s = Settings.from_env(env={"RUNPOD_ENDPOINT_ID": "fromenv"}, dotenv=env_file)
    assert s.endpoint_id == "fromenv" and s.gpu_price_per_second == 0.00044
    assert s.api_key.reveal() == "rpa_from_dotenv_123" and s.api_base == DEFAULT_API_BASE
    assert s.mode == "runpod"
    assert "rpa_from_dotenv_123" not in repr(s) and "rpa_from_dotenv_123" not in f"{s.api_key}"
    local = Settings.from_env(env={"RUNPOD_API_BASE": "http://127.0.0.1:8000/v2/", "RUNPOD_ENDPOINT_ID": "local"},
                              dotenv=None)
    assert local.mode == "local" and local.api_base == "http://127.0.0.1:8000/v2"
    assert Settings.from_env(env={}, dotenv=None).mode == "preview"


@pytest.mark.parametrize("env, message", [
    ({"GPU_PRICE_PER_SECOND": "cheap"}, "GPU_PRICE_PER_SECOND: 'cheap' is not a number"),
    ({"GPU_PRICE_PER_SECOND": "-1"}, "GPU_PRICE_PER_SECOND: -1.0 must be ≥ 0"),
    ({"RUNPOD_API_BASE": "ftp://x"}, "RUNPOD_API_BASE: 'ftp://x' is not an http(s) URL"),
    ({"RUNPOD_ENDPOINT_ID": "a/b"}, "RUNPOD_ENDPOINT_ID: must be letters"),
])
def test_bad_settings_name_the_field(env, message):
    with pytest.raises(SettingsError) as ei:
        Settings.from_env(env=env, dotenv=None)
    assert ei.value.message.startswith(message)


def test_polling_plan_is_quick_then_patient_then_on_time():
    assert next_interval(PollState("queued", 0.2)) <= 0.25
    assert next_interval(PollState("queued", 30, cold_start=True)) >= 2.0
    # Far from the end: two fifths of the distance, 2.5–10 s (a watched 60 s job costs ~15 requests).
    assert next_interval(PollState("running", 10, running_for_s=1, predicted_run_s=60)) == 10.0
    assert next_interval(PollState("running", 10, running_for_s=50, predicted_run_s=60)) == pytest.approx(4.0)
    # Near it: jump to one second before the predicted end, then look every 0.3 s until it is seen.
    assert next_interval(PollState("running", 10, running_for_s=56, predicted_run_s=60)) == pytest.approx(3.0)
    assert next_interval(PollState("running", 10, running_for_s=59.6, predicted_run_s=60)) == pytest.approx(0.3)
    assert next_interval(PollState("running", 10, running_for_s=60.2, predicted_run_s=60)) == pytest.approx(0.3)
    assert next_interval(PollState("running", 10, running_for_s=80, predicted_run_s=60)) == 1.0
    assert next_interval(PollState("running", 10, running_for_s=1)) == 1.0
    assert next_interval(PollState("running", 10, running_for_s=1, predicted_run_s=60, watched=False)) == 5.0


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (9, 9, 9)).save(buf, "PNG")
    return buf.getvalue()


async def _serve(routes: dict[str, bytes]):
    app = web.Application()
    for path, body in routes.items():
        async def handler(request, body=body):
            resp = web.StreamResponse()     # chunked: no content-length, so only the streaming cap can stop it
            await resp.prepare(request)
            for i in range(0, len(body), 4096):
                await resp.write(body[i:i + 4096])
            await resp.write_eof()
            return resp
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_outputs_by_url_and_base64_with_caps(tmp_path):
    png = _png()
    runner, base = await _serve({"/a.png": png, "/big.bin": b"\x89PNG\r\n\x1a\n" + b"0" * 100_000,
                                 "/text": b"hello world, not media"})
    try:
        lib = Library(tmp_path / "lib", max_download_bytes=50_000, allow_private_urls=True)   # a local server
        got = await lib.save_output("job1", {"encoding": "url", "url": f"{base}/a.png", "filename": "a.png"})
        assert got["mime"] == "image/png" and got["url"].endswith("/a.png")
        assert open(got["path"], "rb").read() == png and "job1" in got["path"]
        same = await lib.save_output("job1", {"encoding": "base64", "data": base64.b64encode(png).decode()})
        assert same["path"] == got["path"]            # same bytes, same job → same file
        with pytest.raises(LibraryError, match="50000-byte download cap"):
            await lib.save_output("job2", {"encoding": "url", "url": f"{base}/big.bin", "filename": "big"})
        with pytest.raises(LibraryError, match="not an image, audio or video"):
            await lib.save_output("job3", {"encoding": "url", "url": f"{base}/text", "filename": "t.png"})
        with pytest.raises(LibraryError, match="HTTP 404"):
            await lib.save_output("job4", {"encoding": "url", "url": f"{base}/missing.png"})
        with pytest.raises(LibraryError, match="not valid base64"):
            await lib.save_output("job5", {"encoding": "base64", "data": "%%%", "filename": "x.png"})
        assert list((tmp_path / "lib" / "tmp").iterdir()) == []     # no half-written files left behind
    finally:
        await runner.cleanup()
