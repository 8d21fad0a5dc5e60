"""Reading a .zip from outside as data: bounded before anything is written, by entry name, never trusting a path.

A zip says how big each entry is; that is checked before anything is read (entry count, each entry, the total),
and the bytes are counted again while they stream out, together with how much they expand: deflate turns 1 kB
into up to ~1 MB, which no PNG, MP4 or MP3 does (they are compressed already). Every refusal is a sentence that
names the zip entry, never a Python exception.
"""
from __future__ import annotations

import json
import lzma
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from backend.mediatypes import ALLOWED_NAMES, MediaType, is_subtitles, studio_media

CHUNK = 1 << 16
# Everything zipfile and the decompressors raise for a damaged, encrypted or unsupported archive.
_BROKEN = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError, NotImplementedError,
           ValueError, zlib.error, lzma.LZMAError)


class ZipRefused(ValueError):
    """A sentence for a person: which entry (or the archive) and why."""


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 20_000
    max_entry_bytes: int = 2_000_000_000       # the library's download cap: no output is larger
    max_total_bytes: int = 20_000_000_000
    max_json_bytes: int = 20_000_000           # rows are small; the manifest and a scene's script too
    max_ratio: int = 50                        # uncompressed ÷ compressed, once an entry is past `ratio_grace`
    ratio_grace: int = 1_000_000


@dataclass
class Budget:
    """Bytes still allowed out of one archive (the declared sizes may lie; the streamed bytes are counted)."""
    left: int


def check_name(name: str) -> PurePosixPath:
    """The entry's name as a relative path with no way out: no absolute path, drive, backslash, '.' or '..'."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ZipRefused(f"the entry {name!r} has an absolute or malformed name")
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ZipRefused(f"the entry {name!r} has '..', '.' or an empty part in its name")
    return PurePosixPath(*parts)


@contextmanager
def open_checked(path: str | os.PathLike[str], limits: ZipLimits, what: str) -> Iterator[zipfile.ZipFile]:
    """The archive, once its directory passed the bounds; `what` names what it should be ("a studio export")."""
    p = Path(path)
    try:
        if not p.is_file() or not zipfile.is_zipfile(p):
            raise ZipRefused(f"is not a .zip file (expected {what})")
        zf = zipfile.ZipFile(p)
    except ZipRefused:
        raise
    except _BROKEN:
        raise ZipRefused(f"could not be read as a .zip file (expected {what})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise ZipRefused(f"has {len(infos)} entries; at most {limits.max_entries} are allowed")
        seen: set[str] = set()
        total = 0
        for info in infos:
            check_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode) or (mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR)):
                raise ZipRefused(f"the entry {info.filename!r} is a link or a special file, not a plain file")
            if info.flag_bits & 0x1:
                raise ZipRefused(f"the entry {info.filename!r} is encrypted")
            if info.filename in seen:
                raise ZipRefused(f"the entry {info.filename!r} appears twice")
            seen.add(info.filename)
            if info.file_size > limits.max_entry_bytes:
                raise ZipRefused(f"the entry {info.filename!r} is {info.file_size} bytes uncompressed; at most "
                                 f"{limits.max_entry_bytes} are allowed")
            total += info.file_size
        if total > limits.max_total_bytes:
            raise ZipRefused(f"expands to {total} bytes; at most {limits.max_total_bytes} are allowed")
        yield zf


def stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, budget: Budget) -> Iterator[bytes]:
    """The entry's bytes in chunks, stopped as soon as it grows past its declared size, the limits or the
    expansion ratio (so a bomb is refused after about `ratio_grace` bytes, not after filling the disk)."""
    name = info.filename
    cap = min(info.file_size, limits.max_entry_bytes)
    ratio_cap = max(limits.ratio_grace, limits.max_ratio * max(info.compress_size, 1))
    got = 0
    try:
        with zf.open(info) as src:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                got += len(chunk)
                budget.left -= len(chunk)
                if got > cap or budget.left < 0:
                    raise ZipRefused(f"the entry {name!r} is larger than it declares or than the limits allow")
                if got > ratio_cap:
                    raise ZipRefused(f"the entry {name!r} expands more than {limits.max_ratio} times (it looks "
                                     "like a zip bomb)")
                yield chunk
    except ZipRefused:
        raise
    except _BROKEN:
        raise ZipRefused(f"the entry {name!r} is damaged and could not be read") from None


def read_json(zf: zipfile.ZipFile, name: str, limits: ZipLimits, budget: Budget) -> Any:
    """A JSON entry (KeyError when the archive has none by that name)."""
    info = zf.getinfo(name)
    if info.file_size > limits.max_json_bytes:
        raise ZipRefused(f"the entry {name!r} is {info.file_size} bytes; at most {limits.max_json_bytes} are "
                         "allowed for a record")
    raw = b"".join(stream(zf, info, limits, budget))
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ZipRefused(f"the entry {name!r} is not valid JSON") from None


def extract_media(zf: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, limits: ZipLimits, budget: Budget,
                  *, subtitles: bool = False) -> tuple[Path, MediaType | None]:
    """Write the entry into a new temporary file in `folder` once its first bytes prove it is studio media
    (or, with `subtitles`, SRT/WebVTT); returns (file, type — None for subtitles). Refused otherwise, by name."""
    name = info.filename
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".tmp-zip-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            head = b""
            mt: MediaType | None = None
            checked = False
            for chunk in stream(zf, info, limits, budget):
                if not checked:
                    head += chunk
                    if len(head) < 64 and len(head) < info.file_size:
                        continue
                    mt = studio_media(head, name)
                    if mt is None and not (subtitles and is_subtitles(head, name)):
                        raise ZipRefused(f"the entry {name!r} is not a media file the studio makes ({ALLOWED_NAMES}"
                                         f"{', or SRT/WebVTT subtitles' if subtitles else ''}, with a matching "
                                         "extension)")
                    checked = True
                    out.write(head)
                    continue
                out.write(chunk)
            if not checked:
                raise ZipRefused(f"the entry {name!r} is empty, not a media file")
        return tmp, mt
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
