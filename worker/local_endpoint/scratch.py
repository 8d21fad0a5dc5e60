"""Temp folders of a `serve` process, and sweeping away those of processes that are gone.

`kill -9` (or a crash) leaves a TemporaryDirectory behind; each folder records the pid of the process that made
it, so the next start can remove the folders whose process no longer exists (never one of a live process, nor
one of another user, nor one without that record)."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("local_endpoint")

OWNER_FILE = "owner.pid"
PREFIXES = ("preview-engine-", "local-endpoint-files-", "local-endpoint-comfyui-")


def make(prefix: str) -> tempfile.TemporaryDirectory:
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    (Path(tmp.name) / OWNER_FILE).write_text(str(os.getpid()))
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                      # someone else's process: alive
    return True


def sweep(root: Path | None = None, prefixes: tuple[str, ...] = PREFIXES) -> list[Path]:
    """Remove the folders under `root` (the temp dir) left by processes that no longer run; returns them."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for path in entries:
        if not path.name.startswith(prefixes) or path.is_symlink() or not path.is_dir():
            continue
        try:
            if path.stat().st_uid != os.getuid():
                continue
            pid = int((path / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.info("removed %d temp folder(s) of endpoints that are gone", len(removed))
    return removed
