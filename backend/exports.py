"""Where a .zip made for a person to download is written: a fresh folder under the library's downloads (a folder
the app may hand to Gradio, which copies it into its own cache and serves that copy as an attachment), pruned
on the next export so exports do not pile up."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

KEEP_S = 15 * 60          # long enough for the page to fetch the file, short enough not to keep copies around


def export_folder(library_root: str | Path, now: float | None = None) -> Path:
    base = Path(library_root) / "downloads" / "exports"
    base.mkdir(parents=True, exist_ok=True)
    now = time.time() if now is None else now
    for old in base.iterdir():
        try:
            if old.is_dir() and not old.is_symlink() and now - old.stat().st_mtime > KEEP_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue
    return Path(tempfile.mkdtemp(prefix="export-", dir=base))


def inside(path: str | Path, *folders: str | Path) -> Path | None:
    """The file's resolved path when it is a plain file (no symlink) inside one of `folders`; else None."""
    p = Path(path)
    try:
        if p.is_symlink() or not p.is_file():
            return None
        real = p.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return real if any(real.is_relative_to(Path(f).resolve()) for f in folders) else None
