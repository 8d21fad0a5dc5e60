"""Checks for values that come from another studio's zip: each field is rebuilt with its type and bounds, so a
row holds what our own models would write and nothing else. Failures are ZipRefused sentences naming where."""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from backend.zipguard import ZipRefused

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_KEY = re.compile(r"^[A-Za-z0-9_. -]{1,40}$")


def text(value: Any, where: str, max_len: int, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ZipRefused(f"{where} must be text of at most {max_len} characters")
    return value


def ident(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ZipRefused(f"{where} must be an id of letters, digits, '_', '.', ':' or '-'")
    return value


def number(value: Any, where: str, *, optional: bool = False, integer: bool = False) -> Any:
    if value is None and optional:
        return None
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if not ok or isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        raise ZipRefused(f"{where} must be a {'whole ' if integer else ''}number")
    return value


def scalars(value: Any, where: str, refs: dict[str, Callable[[Any, str], Any]] | None = None,
            *, max_keys: int = 64, optional: bool = False) -> dict[str, Any] | None:
    """A flat object of short keys and JSON scalars; the keys in `refs` are rebuilt by their own check (files)."""
    if value is None and optional:
        return None
    if not isinstance(value, dict) or len(value) > max_keys:
        raise ZipRefused(f"{where} must be an object of at most {max_keys} fields")
    out: dict[str, Any] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not _KEY.match(k):
            raise ZipRefused(f"{where} has a field name that is not allowed")
        if refs and k in refs:
            out[k] = refs[k](v, f"{where}.{k}")
        elif v is None or isinstance(v, (bool, int)) or (isinstance(v, float) and math.isfinite(v)):
            out[k] = v
        elif isinstance(v, str) and len(v) <= 4000:
            out[k] = v
        else:
            raise ZipRefused(f"{where}.{k} must be a number, text of at most 4000 characters, true/false or null")
    return out


def json_shaped(value: Any, where: str, path: Callable[[Any, str], Any] | None = None, depth: int = 6) -> Any:
    """Nested JSON data (a job's inputs, licence, progress). Text that looks like an absolute path goes through
    `path` (which maps a file of the export or refuses); without `path` it is refused."""
    if depth < 0:
        raise ZipRefused(f"{where} is nested too deeply")
    if isinstance(value, dict):
        if len(value) > 200:
            raise ZipRefused(f"{where} has too many fields")
        return {text(k, where, 100): json_shaped(v, f"{where}.{k}", path, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > 1000:
            raise ZipRefused(f"{where} has too many items")
        return [json_shaped(v, f"{where}[{i}]", path, depth - 1) for i, v in enumerate(value)]
    if isinstance(value, str):
        if len(value) > 250_000:
            raise ZipRefused(f"{where} is too long")
        if re.fullmatch(r"/\S*", value):
            if path is not None:
                return path(value, where)
            raise ZipRefused(f"{where} names a file outside the export ({value!r})")
        return value
    if value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    raise ZipRefused(f"{where} holds a value that is not JSON data")
