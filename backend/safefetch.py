"""Downloading a URL someone else chose (a job output in a bucket) without reaching this machine's network.

Every hop is checked at connection time: the host is resolved, every address it resolves to must be public
(workflows/netguard.py, the worker's rule too), and the connection goes to the address that was checked (TLS
still verifies the name), so a DNS answer that changes between check and connect cannot slip past. Redirects
are followed by hand, each hop checked the same way.
"""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urljoin

import httpx

from workflows.netguard import non_public

MAX_REDIRECTS = 5
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """A sentence: which host, and why it is not fetched."""


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(i[4][0]) for i in infos]


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves, checks every address, then connects to the checked one (the Host header and TLS name stay)."""

    def __init__(self, resolve: Resolver = system_resolve, inner: httpx.AsyncBaseTransport | None = None):
        self.resolve = resolve
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addrs = [host] if _is_ip(host) else await self.resolve(host, port)
        except OSError:
            raise Refused(f"the host {host} cannot be resolved") from None
        if not addrs:
            raise Refused(f"the host {host} cannot be resolved")
        for addr in addrs:
            problem = non_public(host, addr)
            if problem:
                raise Refused(problem)
        request.url = request.url.copy_with(host=addrs[0])
        if request.url.scheme == "https" and not _is_ip(host):
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def guarded_client(resolve: Resolver = system_resolve, timeout: httpx.Timeout | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=GuardedTransport(resolve), follow_redirects=False,
                             timeout=timeout or httpx.Timeout(60.0, connect=10.0))


async def open_stream(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """The final response (streaming, to be closed by the caller) after at most MAX_REDIRECTS hops."""
    for _ in range(MAX_REDIRECTS + 1):
        if not url.lower().startswith(("http://", "https://")):
            raise Refused("a redirect leads to a URL that is not http(s)")
        resp = await client.send(client.build_request("GET", url), stream=True)
        if resp.status_code in (301, 302, 303, 307, 308) and resp.headers.get("location"):
            await resp.aclose()
            url = urljoin(url, resp.headers["location"])
            continue
        return resp
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


def _is_ip(host: str) -> bool:
    try:
        non_public(host, host)
        return True
    except ValueError:
        return False
