"""Media inputs by base64, data URI and URL; the URL guard; size caps; hostile names."""
from __future__ import annotations

import base64
import io
import json
import re

import pytest
from aiohttp import web
from PIL import Image

from tests.support.procs import free_port
from tests.worker.conftest import fake_calls, settings_for
from worker.handler import handler


def png_bytes(size=(32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


PNG = png_bytes()


def load_and_save(name: str = "face.png") -> dict:
    return {"1": {"class_type": "LoadImage", "inputs": {"image": name}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "copy"}}}


def job(value, name="face.png") -> dict:
    return {"id": "in", "input": {"action": "workflow", "workflow": load_and_save(name),
                                  "images": [{"name": name, "image": value}]}}


@pytest.fixture
async def http_server():
    """A plain local HTTP server serving a PNG, a big file and a redirect to the PNG."""
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * 3_000_000
    app = web.Application()
    app.router.add_get("/face.png", lambda r: web.Response(body=PNG, content_type="image/png"))
    app.router.add_get("/big.png", lambda r: web.Response(body=big, content_type="image/png"))
    app.router.add_get("/hop", lambda r: web.HTTPFound("/face.png"))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def uploads(url: str) -> list[dict]:
    return [c for c in fake_calls(url)["calls"] if c["call"] == "upload"]


def error_of(result: dict) -> dict:
    assert set(result) == {"error"}, result
    return json.loads(result["error"])


@pytest.mark.parametrize("encode", [
    lambda b: base64.b64encode(b).decode(),
    lambda b: "data:image/png;base64," + base64.b64encode(b).decode(),
])
async def test_inline_media_is_uploaded_under_a_generated_name(fake, use_settings, tmp_path, encode):
    use_settings(settings_for(fake, tmp_path))
    result = await handler(job(encode(PNG)))
    assert result["status"] == "success", result
    [up] = uploads(fake)
    assert re.fullmatch(r"face_png_[0-9a-f]{16}\.png", up["name"]) and up["size"] == len(PNG)


async def test_url_media_is_fetched_when_private_urls_are_allowed(fake, use_settings, tmp_path, http_server):
    use_settings(settings_for(fake, tmp_path, allow_private_urls=True, allow_http_urls=True))
    for path in ("/face.png", "/hop"):
        result = await handler(job(http_server + path))
        assert result["status"] == "success", result
    assert [u["size"] for u in uploads(fake)] == [len(PNG), len(PNG)]


@pytest.mark.parametrize("url, reason", [
    ("http://example.com/face.png", "only https URLs"),
    ("ftp://example.com/face.png", "only https URLs"),
    ("https://127.0.0.1/face.png", "non-public address"),
    ("https://10.1.2.3/face.png", "non-public address"),
    ("https://169.254.169.254/latest/meta-data/", "non-public address"),
    ("https://[::1]/face.png", "non-public address"),
    ("https://localhost/face.png", "non-public address"),
])
async def test_urls_to_private_hosts_or_plain_http_are_refused_by_default(fake, use_settings, tmp_path, url, reason):
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler(job(url)))
    assert err["code"] == "forbidden" and reason in err["message"] and err["field"] == "images[0]"
    assert uploads(fake) == []


async def test_private_guard_applies_even_when_http_is_allowed(fake, use_settings, tmp_path, http_server):
    use_settings(settings_for(fake, tmp_path, allow_http_urls=True))
    port = http_server.rsplit(":", 1)[1]
    for url in (http_server + "/face.png", f"http://localhost:{port}/face.png"):
        err = error_of(await handler(job(url)))
        assert err["code"] == "forbidden" and "non-public address" in err["message"]


async def test_size_caps_for_inline_and_url_media(fake, use_settings, tmp_path, http_server):
    use_settings(settings_for(fake, tmp_path, max_input_bytes=1_000_000, allow_private_urls=True,
                              allow_http_urls=True))
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 1_500_000).decode()
    for value in (big, http_server + "/big.png"):
        err = error_of(await handler(job(value)))
        assert err["code"] == "input_too_large" and "1000000 bytes allowed" in err["message"]
    assert uploads(fake) == []


@pytest.mark.parametrize("value, message", [
    (base64.b64encode(b"just some text, not an image").decode(), "not a recognised image"),
    ("%%% not base64 %%%", "not valid base64"),
    ("", "expected base64"),
])
async def test_unusable_media_is_refused_before_upload(fake, use_settings, tmp_path, value, message):
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler(job(value)))
    assert err["code"] == "invalid_input" and message in err["message"]


async def test_hostile_names_are_neutralised(fake, use_settings, tmp_path):
    use_settings(settings_for(fake, tmp_path))
    result = await handler(job(base64.b64encode(PNG).decode(), name="../../etc/passwd"))
    assert result["status"] == "success", result
    [up] = uploads(fake)
    assert re.fullmatch(r"etc_passwd_[0-9a-f]{16}\.png", up["name"])


@pytest.mark.parametrize("host", [
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",          # IPv4-mapped
    "[::127.0.0.1]", "[::a9fe:a9fe]",                 # IPv4-compatible (169.254.169.254)
    "[64:ff9b::7f00:1]", "[64:ff9b::a00:1]",          # NAT64 well-known prefix
    "[64:ff9b:1:7f00:0:100::]",                        # NAT64 local-use /48 layout
    "[2002:7f00:1::1]", "[2002:a9fe:a9fe::1]",        # 6to4
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",         # Teredo: client 127.0.0.1
])
async def test_ipv6_forms_carrying_a_private_ipv4_are_refused(fake, use_settings, tmp_path, host, http_server):
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler(job(f"https://{host}/face.png")))
    assert err["code"] == "forbidden" and "non-public address" in err["message"], err
    assert uploads(fake) == []


def test_ipv6_forms_carrying_a_public_ipv4_are_judged_by_it():
    from worker.inputs import check_address
    for addr in ("64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"):
        check_address("h", addr)                       # 8.8.8.8 inside: public, no exception


@pytest.mark.parametrize("scheme", ["http", "HTTP", "Http"])
async def test_http_urls_are_fetched_in_any_case_when_allowed(fake, use_settings, tmp_path, http_server, scheme):
    use_settings(settings_for(fake, tmp_path, allow_private_urls=True, allow_http_urls=True))
    url = scheme + http_server[len("http"):] + "/face.png"
    result = await handler(job(url))
    assert result["status"] == "success", result


@pytest.mark.parametrize("scheme", ["HTTP", "Ftp"])
async def test_other_schemes_are_refused_in_any_case(fake, use_settings, tmp_path, scheme):
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler(job(f"{scheme}://example.com/face.png")))
    assert err["code"] == "forbidden" and "only https URLs" in err["message"]


async def test_a_job_action_takes_http_media_when_the_worker_allows_it(fake, use_settings, tmp_path, http_server):
    # The catalogue's own refusal of http:// yields to WORKER_ALLOW_HTTP_URLS, as docs/worker.md says.
    use_settings(settings_for(fake, tmp_path, allow_private_urls=True, allow_http_urls=True))
    result = await handler({"id": "anim", "input": {"action": "animate", "image": http_server + "/face.png"}})
    assert "32×24" in error_of(result)["message"]        # the bytes were fetched and judged (too small to animate)
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler({"id": "anim2", "input": {"action": "animate",
                                                           "image": "HTTP://example.com/face.png"}}))
    assert err["field"] == "image" and "http" in err["message"]


def test_a_refused_ipv6_literal_is_named_as_written():
    from worker.inputs import Blocked, check_address
    with pytest.raises(Blocked) as refused:
        check_address("::1", "::1")
    assert str(refused.value) == "[::1] is a non-public address"        # not "carrying 0.0.0.1"
    with pytest.raises(Blocked) as refused:
        check_address("::ffff:10.0.0.7", "::ffff:10.0.0.7")
    assert str(refused.value) == "[::ffff:10.0.0.7] is a non-public address (it carries 10.0.0.7)"
