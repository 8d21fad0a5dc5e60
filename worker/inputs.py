"""Media fields of a request: base64, a data URI, or an https URL, decoded to bytes and sniffed.

The kind comes from the bytes, never from a name or a declared type. URLs are fetched with a guard against
server-side request forgery: only https, and never to loopback, private, link-local (cloud metadata) or other
non-public addresses, checked on every address the name resolves to at connection time (so DNS rebinding
cannot slip past a check made earlier). Tests loosen this only with WORKER_ALLOW_PRIVATE_URLS / _HTTP_URLS.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import re
import socket
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from workflows.netguard import non_public
from worker.config import WorkerSettings
from worker.errors import WorkerError
from worker.jobs.base import MediaFile

MAX_REDIRECTS = 3
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w-]+=[^;,]*)*(;base64)?,", re.I)


def sniff(data: bytes) -> tuple[str, str, str] | None:
    """(kind, mime, extension) from magic bytes, or None when the bytes are no media we take."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png", ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg", ".jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp", ".webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "image/gif", ".gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "audio/wav", ".wav"
    if head.startswith(b"fLaC"):
        return "audio", "audio/flac", ".flac"
    if head.startswith(b"OggS"):
        return "audio", "audio/ogg", ".ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio", "audio/mpeg", ".mp3"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio", "audio/mp4", ".m4a"
        return "video", "video/mp4", ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "video/webm", ".webm"
    return None


def _too_large(field: str, size: int, cap: int) -> WorkerError:
    return WorkerError("input_too_large", f"{field}: {size} bytes is more than the {cap} bytes allowed",
                       field=field, details={"limit": cap})


def check_address(host: str, addr: str) -> None:
    """Raise Blocked when `addr` (an address `host` resolves to, or `host` itself) is not public."""
    problem = non_public(host, addr)
    if problem:
        raise Blocked(problem)


class Blocked(Exception):
    pass


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default and refuses any non-public address before a connection is made."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        results = await self._inner.resolve(host, port, family)
        for r in results:
            check_address(host, r["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


def _check_url(field: str, url: str, settings: WorkerSettings) -> None:
    parts = urlsplit(url)
    allowed = {"https", "http"} if settings.allow_http_urls else {"https"}
    if parts.scheme.lower() not in allowed:
        raise WorkerError("forbidden", f"{field}: only https URLs are fetched (got {parts.scheme or 'no'} scheme)",
                          field=field)
    if not parts.hostname:
        raise WorkerError("invalid_input", f"{field}: the URL has no host", field=field)
    if not settings.allow_private_urls:
        try:
            check_address(parts.hostname, parts.hostname)   # a literal IP is checked without DNS
        except ValueError:
            pass                                               # a name: checked by the resolver at connect time
        except Blocked as exc:
            raise WorkerError("forbidden", f"{field}: {exc}; only public hosts are fetched", field=field) from None


async def check_public_endpoint(field: str, url: str, settings: WorkerSettings) -> None:
    """Refuse a caller's service URL (s3Config.endpointUrl) that points at a non-public host, before connecting.

    Every address the name resolves to now is checked; the operator's own settings never come through here."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        raise WorkerError("invalid_input", f"{field}: expected an http(s) URL with a host", field=field)
    if settings.allow_private_urls:
        return
    host = parts.hostname
    try:
        try:
            check_address(host, host)
            return
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise WorkerError("invalid_input", f"{field}: the host {host} cannot be resolved ({exc.strerror or exc})",
                              field=field) from None
        for info in infos:
            check_address(host, str(info[4][0]))
    except Blocked as exc:
        raise WorkerError("forbidden", f"{field}: {exc}; only public hosts are used for a request's bucket",
                          field=field) from None


async def fetch_url(field: str, url: str, settings: WorkerSettings) -> bytes:
    resolver = None if settings.allow_private_urls else GuardedResolver()
    connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
    cap = settings.max_input_bytes
    try:
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=settings.fetch_timeout_s)) as session:
            for _ in range(MAX_REDIRECTS + 1):
                _check_url(field, url, settings)
                async with session.get(url, allow_redirects=False) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    if resp.status != 200:
                        raise WorkerError("input_fetch_failed", f"{field}: the URL answered HTTP {resp.status}",
                                          field=field)
                    if resp.content_length and resp.content_length > cap:
                        raise _too_large(field, resp.content_length, cap)
                    buf = bytearray()
                    async for chunk in resp.content.iter_chunked(256 * 1024):
                        buf += chunk
                        if len(buf) > cap:
                            raise _too_large(field, len(buf), cap)
                    return bytes(buf)
            raise WorkerError("input_fetch_failed", f"{field}: more than {MAX_REDIRECTS} redirects", field=field)
    except Blocked as exc:
        raise WorkerError("forbidden", f"{field}: {exc}; only public hosts are fetched", field=field) from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.__cause__, Blocked) or "Blocked" in repr(exc.os_error):
            raise WorkerError("forbidden", f"{field}: {exc.os_error}; only public hosts are fetched",
                              field=field) from None
        raise WorkerError("input_fetch_failed", f"{field}: could not connect ({exc.os_error})", field=field) from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise WorkerError("input_fetch_failed", f"{field}: fetching the URL failed ({exc.__class__.__name__})",
                          field=field) from None


def decode_inline(field: str, value: str, settings: WorkerSettings) -> bytes:
    cap = settings.max_input_bytes
    m = _DATA_URI.match(value)
    if m:
        if not m.group(3):
            raise WorkerError("invalid_input", f"{field}: only base64 data URIs are accepted", field=field)
        value = value[m.end():]
    # base64 is 4/3 of the bytes: refuse before decoding so a huge string costs no memory.
    if len(value) > cap * 4 // 3 + 8:
        raise _too_large(field, len(value) * 3 // 4, cap)
    try:
        data = base64.b64decode(re.sub(r"\s+", "", value), validate=True)
    except (binascii.Error, ValueError):
        raise WorkerError("invalid_input", f"{field}: not valid base64, a data URI or an https URL",
                          field=field) from None
    if len(data) > cap:
        raise _too_large(field, len(data), cap)
    return data


async def load_media(field: str, value: object, settings: WorkerSettings, expected: str | None = None) -> MediaFile:
    """Decode one media field; `expected` ("image" | "audio") refuses bytes of another kind."""
    if not isinstance(value, str) or not value.strip():
        raise WorkerError("invalid_input", f"{field}: expected base64, a data URI or an https URL", field=field)
    value = value.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I):
        data = await fetch_url(field, value, settings)
    else:
        data = decode_inline(field, value, settings)
    if not data:
        raise WorkerError("invalid_input", f"{field}: the media is empty", field=field)
    found = sniff(data)
    if found is None:
        raise WorkerError("invalid_input", f"{field}: not a recognised image, audio or video file "
                          "(PNG, JPEG, WEBP, GIF, WAV, FLAC, OGG, MP3, MP4, WEBM)", field=field)
    kind, mime, ext = found
    if expected and kind != expected:
        raise WorkerError("invalid_input", f"{field}: expected {expected}, got {mime}", field=field)
    return MediaFile(param=field, data=data, kind=kind, mime=mime, extension=ext)
