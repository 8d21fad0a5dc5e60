"""A copy of every history row as a small JSON file beside the media it describes.

The SQLite database is fast to query but it is one file: if it is truncated or damaged, the history would be
gone while every output is still on disk. Each row the history writes is also written here (atomically), so
the history can be rebuilt from the library alone (backend/recovery.py) and travels with it in an export.

Layout under `<library>/meta/`: `jobs/<job id>.json` (a JobRecord), `voices/<name>.json`,
`comments/<comment id>.json`, and `<kind>/<key>.json` for any other table that registers itself.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def file_key(key: str) -> str:
    """A file name for a key: safe characters kept, anything else escaped so distinct keys stay distinct."""
    return _SAFE.sub(lambda m: f"%{ord(m.group()):02x}", key) or "%"


class Journal:
    def __init__(self, root: Path):
        self.root = root

    def put(self, kind: str, key: str, row: dict[str, Any]) -> None:
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / f"{file_key(key)}.json", row)

    def delete(self, kind: str, key: str) -> None:
        (self.root / kind / f"{file_key(key)}.json").unlink(missing_ok=True)

    def rows(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every readable row of a kind; a damaged file is skipped (it cannot be worse than no file)."""
        folder = self.root / kind
        if not folder.is_dir():
            return
        for p in sorted(folder.glob("*.json")):
            try:
                row = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(row, dict):
                yield row

    def count(self, kind: str) -> int:
        folder = self.root / kind
        return sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0


def write_json_atomic(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
