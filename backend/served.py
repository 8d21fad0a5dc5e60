"""What the studio may hand to a browser: media it wrote into the library's served folders, and nothing else.

Gradio serves a file in `allowed_paths` inline with the type its name suggests, so a page or an SVG there would
run as the studio's own origin. The rule is therefore judged from the file itself, at the moment it is served
or handed to Gradio: a plain file (no symlink) whose real path is inside the library's outputs, inputs or
downloads, whose bytes are image, audio or video with a name that agrees (backend/mediatypes.py). Subtitles
(.srt/.vtt) and the books a page export writes into outputs (PDF, CBZ, EPUB, webtoon .zip, page-model JSON) go out
only as attachments.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from backend.mediatypes import is_book, is_subtitles, named_media

SERVED_FOLDERS = ("outputs", "inputs", "downloads")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    attachment: bool = False       # subtitles and page exports (PDF, CBZ, EPUB, JSON): never shown inline
    reason: str = ""


def judge(path: str | os.PathLike[str], library_root: str | os.PathLike[str]) -> Verdict:
    """Whether `path` may be served from the library (the caller decides what to do with files elsewhere)."""
    lib = Path(os.path.abspath(library_root))
    asked = Path(os.path.abspath(path))
    folders = [lib / f for f in SERVED_FOLDERS]
    if not any(asked.is_relative_to(f) for f in folders):
        return Verdict(False, reason="not in the library's media folders")
    try:
        if asked.is_symlink() or not asked.is_file():
            return Verdict(False, reason="not a plain file")
        real = asked.resolve(strict=True)
        if not any(real.is_relative_to(f.resolve()) for f in folders):
            return Verdict(False, reason="leads outside the library's media folders")
        with open(real, "rb") as f:
            head = f.read(64)
    except (OSError, RuntimeError):
        return Verdict(False, reason="cannot be read")
    if named_media(head, asked.name) is not None:
        return Verdict(True)
    if is_subtitles(head, asked.name) or (is_book(head, asked.name) and real.is_relative_to(lib.resolve() / "outputs")):
        return Verdict(True, attachment=True)
    return Verdict(False, reason="not an image, audio or video file")


def library_file(path: str | None, library_root: str | os.PathLike[str]) -> str | None:
    """`path` when it may be handed to Gradio (which copies it into its cache and serves the copy), else None."""
    return path if path and judge(path, library_root).allowed else None
