"""Files on disk under the data folder: job outputs (by content hash + job) and uploaded inputs (by hash).

A job's output arrives as base64 or as a URL; either way it is written to a temporary file while hashed and
size-capped, its media type is checked from its bytes, and only then moved into place.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx

from backend.errors import InputError, LibraryError
from backend.mediatypes import MediaType, sniff

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
CHUNK = 1 << 16


class Library:
    def __init__(self, root: Path, *, max_download_bytes: int = 2_000_000_000, allow_private_urls: bool = False,
                 trusted_origins: tuple[str, ...] = (), resolve: Any = None):
        self.root = root
        # A URL from a job's output is someone else's choice: fetched only from public hosts (backend/safefetch.py)
        # unless the operator allows private ones (STUDIO_ALLOW_PRIVATE_URLS, e.g. a bucket on the local network).
        # The operator's own bucket (STUDIO_BUCKET_ENDPOINT_URL) is configuration, not someone else's choice.
        self.allow_private_urls = allow_private_urls
        self.trusted = {_origin(o) for o in trusted_origins}
        self._resolve = resolve
        self.outputs = root / "outputs"
        self.inputs = root / "inputs"
        self.max_download_bytes = max_download_bytes
        for d in (self.outputs, self.inputs, root / "tmp"):
            d.mkdir(parents=True, exist_ok=True)

    # -- outputs ----------------------------------------------------------------------------------------------
    async def save_output(self, job_id: str, file: dict[str, Any], http: httpx.AsyncClient | None = None
                          ) -> dict[str, Any]:
        """One entry of the worker's `files` → {"type","path","mime","size","url"?,"sha256","filename"}."""
        enc = file.get("encoding", "base64")
        if enc == "base64":
            data = file.get("data")
            if not isinstance(data, str):
                raise LibraryError(f"Output {file.get('filename', '?')} has no base64 data.")
            try:
                raw = base64.b64decode(_strip_data_uri(data), validate=True)
            except (binascii.Error, ValueError):
                raise LibraryError(f"Output {file.get('filename', '?')} is not valid base64.") from None
            if len(raw) > self.max_download_bytes:
                raise LibraryError(f"Output {file.get('filename', '?')} is {len(raw)} bytes, over the "
                                   f"{self.max_download_bytes}-byte cap.")
            tmp = self._tmp_with(raw)
            url = None
        elif enc == "url":
            url = file.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise LibraryError(f"Output {file.get('filename', '?')} has no http(s) URL.")
            tmp = await self._download(url, http)
        else:
            raise LibraryError(f"Output {file.get('filename', '?')} has an unknown encoding {enc!r}.")
        mt, digest, size = _inspect(tmp)
        if mt is None:
            tmp.unlink(missing_ok=True)
            raise LibraryError(f"Output {file.get('filename', '?')} is not an image, audio or video file "
                               "(its bytes match no known format).")
        dest = self.outputs / f"{digest[:16]}-{_SAFE.sub('_', job_id)}{mt.extension}"
        os.replace(tmp, dest)
        out = {"type": mt.kind, "path": str(dest), "mime": mt.mime, "size": size, "sha256": digest,
               "filename": file.get("filename")}
        if url:
            out["url"] = url
        if file.get("mime") and file["mime"] != mt.mime:
            out["declared_mime"] = file["mime"]
        return out

    async def _download(self, url: str, http: httpx.AsyncClient | None) -> Path:
        """`http`: the endpoint's own authorised client for files it serves itself (trusted, as configured); any
        other URL is fetched through the private-address guard, redirects included."""
        from backend import safefetch
        own = http is None
        unguarded = self.allow_private_urls or _origin(url) in self.trusted
        if http is not None:
            client = http
        elif unguarded:
            client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True)
        else:
            client = safefetch.guarded_client(self._resolve or safefetch.system_resolve)
        fd, name = tempfile.mkstemp(dir=self.root / "tmp")
        tmp = Path(name)
        try:
            total = 0
            with os.fdopen(fd, "wb") as f:
                resp = (await safefetch.open_stream(client, url) if own and not unguarded
                        else await client.send(client.build_request("GET", url), stream=True))
                try:
                    if resp.status_code >= 400:
                        raise LibraryError(f"Downloading an output failed with HTTP {resp.status_code}.")
                    declared = int(resp.headers.get("content-length") or 0)
                    if declared > self.max_download_bytes:
                        raise LibraryError(f"An output is {declared} bytes, over the {self.max_download_bytes}-byte "
                                           "download cap.")
                    async for chunk in resp.aiter_bytes(CHUNK):
                        total += len(chunk)
                        if total > self.max_download_bytes:
                            raise LibraryError(f"An output grew past the {self.max_download_bytes}-byte download "
                                               "cap; the download was stopped.")
                        f.write(chunk)
                finally:
                    await resp.aclose()
            return tmp
        except safefetch.Refused as exc:
            tmp.unlink(missing_ok=True)
            raise LibraryError(f"An output's URL was not fetched: {exc}; only public hosts are.") from None
        except httpx.HTTPError as exc:
            tmp.unlink(missing_ok=True)
            raise LibraryError(f"Downloading an output failed ({type(exc).__name__}).") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            if own:
                await client.aclose()

    # -- inputs -----------------------------------------------------------------------------------------------
    def keep_input(self, field: str, path: str | os.PathLike[str]) -> tuple[str, MediaType]:
        """Copy a user's file into the library (deduplicated by content); returns its library path and type."""
        src = Path(path)
        if not src.is_file():
            raise InputError(field, f"file {str(src)!r} does not exist")
        if src.resolve().is_relative_to(self.inputs.resolve()):
            mt, _, _ = _inspect(src)
            if mt is None:
                raise InputError(field, "is not an image, audio or video file we recognise")
            return str(src), mt
        fd, name = tempfile.mkstemp(dir=self.root / "tmp")
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, CHUNK)
        tmp = Path(name)
        mt, digest, _ = _inspect(tmp)
        if mt is None:
            tmp.unlink(missing_ok=True)
            raise InputError(field, f"{src.name} is not an image, audio or video file we recognise "
                                    "(PNG, JPEG, WebP, WAV, MP3, FLAC, OGG, MP4, WebM)")
        dest = self.inputs / f"{digest[:24]}{mt.extension}"
        os.replace(tmp, dest)
        return str(dest), mt

    def data_uri(self, path: str) -> str:
        raw = Path(path).read_bytes()
        mt = sniff(raw[:32])
        mime = mt.mime if mt else "application/octet-stream"
        return f"data:{mime};base64,{base64.b64encode(raw).decode()}"

    def _tmp_with(self, raw: bytes) -> Path:
        fd, name = tempfile.mkstemp(dir=self.root / "tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        return Path(name)


def _inspect(path: Path) -> tuple[MediaType | None, str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        head = f.read(64)
        h.update(head)
        size += len(head)
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
    return sniff(head), h.hexdigest(), size


def _origin(url: str) -> str:
    u = httpx.URL(url)
    return f"{u.scheme}://{u.host}:{u.port or (443 if u.scheme == 'https' else 80)}"


def _strip_data_uri(data: str) -> str:
    if data.startswith("data:"):
        return data.partition(",")[2]
    return data
