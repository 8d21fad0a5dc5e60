"""Issue 19, finding 8: output URLs are downloaded with the worker's private-address rule, at connect time and on
every redirect hop (backend/safefetch.py, workflows/netguard.py)."""
from __future__ import annotations

import re

import httpx
import pytest
from aiohttp import web

from backend.errors import LibraryError
from backend.library import Library
from backend.safefetch import GuardedTransport, Refused, open_stream
from tests.support.procs import free_port

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def local_server():
    app = web.Application()
    hits: list[str] = []

    async def handler(request):
        hits.append(request.path)
        return web.Response(body=PNG)
    app.router.add_get("/{name}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port, hits


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "files.test"])
async def test_an_output_url_on_this_machine_is_not_fetched(tmp_path, host):
    runner, port, hits = await local_server()

    async def resolve(name: str, _port: int) -> list[str]:      # files.test: a public-looking name for loopback
        return ["127.0.0.1"] if name in ("localhost", "files.test") else []
    try:
        lib = Library(tmp_path / "lib", resolve=resolve)
        # a name is said with what it resolves to; an address as it was written
        said = "127.0.0.1 is" if host == "127.0.0.1" else f"{host} resolves to 127.0.0.1,"
        with pytest.raises(LibraryError, match=rf"not fetched: {re.escape(said)} a non-public address"):
            await lib.save_output("job1", {"encoding": "url", "url": f"http://{host}:{port}/a.png"})
        assert hits == [] and list((tmp_path / "lib" / "tmp").iterdir()) == []
        allowed = Library(tmp_path / "lib2", allow_private_urls=True)      # the operator's explicit choice
        assert (await allowed.save_output("job1", {"encoding": "url", "url": f"http://127.0.0.1:{port}/a.png"}))[
            "mime"] == "image/png"
    finally:
        await runner.cleanup()


async def test_a_redirect_to_a_private_address_is_refused_at_its_hop_and_the_checked_address_is_used():
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"location": "http://metadata.test/latest/meta-data/"})

    async def resolve(name: str, _port: int) -> list[str]:
        return {"bucket.test": ["93.184.216.34"], "metadata.test": ["169.254.169.254"]}[name]

    async with httpx.AsyncClient(transport=GuardedTransport(resolve, inner=httpx.MockTransport(upstream))) as client:
        with pytest.raises(Refused, match=r"metadata.test resolves to 169\.254\.169\.254, a non-public address"):
            await open_stream(client, "https://bucket.test/out.png")
    assert len(seen) == 1                                   # the metadata service was never asked
    first = seen[0]
    assert first.url.host == "93.184.216.34" and first.headers["host"] == "bucket.test"
    assert first.extensions["sni_hostname"] == "bucket.test"      # TLS still checks the name


async def test_an_ipv6_address_carrying_a_private_ipv4_is_refused():
    async def resolve(name: str, _port: int) -> list[str]:
        return ["::ffff:10.0.0.5"]
    async with httpx.AsyncClient(transport=GuardedTransport(resolve, inner=httpx.MockTransport(
            lambda r: httpx.Response(200)))) as client:
        with pytest.raises(Refused, match="carrying 10.0.0.5"):
            await open_stream(client, "https://mapped.test/x.png")
