"""Webtoon: the pages stacked into one 800 px wide strip, cut into slices at most 1280 px tall, each at most 2 MB,
at most 20 MB an episode (Webtoon Canvas's limits).

The strip is never whole in memory: pages are scaled to the strip's width and appended to a buffer, and every
full slice is cut off the top and written as soon as it exists — at a blank row (a gutter, the gap between pages)
where the slice's lower half has one, so no panel, and no balloon (which stays inside its panel), is cut in two. A slice over 2 MB is saved again at a lower JPEG
quality; an episode that still passes 20 MB is refused (its slices removed) with what to do.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from backend.pages.exports import Exported, ExportError, ExportMeta, RenderPage, lettering_notes, slug
from backend.pages.model import Book

STRIP_WIDTH = 800
SLICE_HEIGHT = 1280
SLICE_BYTES = 2 * 1024 * 1024
EPISODE_BYTES = 20 * 1024 * 1024
PAGE_GAP = 60           # white space between two pages of a paged format, in strip pixels
QUALITIES = (90, 82, 74, 66, 58, 50)


BLANK = 245             # a row whose every pixel is at least this light is paper, not art


def cut_at(strip: Image.Image, limit: int = SLICE_HEIGHT) -> int:
    """How tall the next slice off the top of `strip` is: just past the lowest blank row in the lower half of the
    first `limit` rows, or `limit` where there is none (a panel taller than half a slice)."""
    lower = np.asarray(strip.crop((0, limit // 2, strip.width, limit)).convert("L"))
    blank = np.flatnonzero(lower.min(axis=1) >= BLANK)
    return limit // 2 + int(blank[-1]) + 1 if blank.size else limit


def encode_slice(im: Image.Image, limit: int = SLICE_BYTES) -> bytes:
    for q in QUALITIES:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q, optimize=True)
        if buf.tell() <= limit:
            return buf.getvalue()
    raise ExportError("webtoon", f"a slice stays over {limit // (1024 * 1024)} MB even at JPEG quality "
                      f"{QUALITIES[-1]}")


def write_webtoon(book: Book, render: RenderPage, dest_dir: Path, meta: ExportMeta, *,
                  episode_bytes: int = EPISODE_BYTES) -> Exported:
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    stem = slug(meta.title, "episode")
    written: list[Path] = []
    total = 0
    buffer = Image.new("RGB", (STRIP_WIDTH, 0), "white")

    def flush(part: Image.Image) -> None:
        nonlocal total
        data = encode_slice(part)
        total += len(data)
        if total > episode_bytes:
            for p in written:
                p.unlink(missing_ok=True)
            raise ExportError("webtoon", f"the episode passes {episode_bytes / (1024 * 1024):g} MB (Webtoon "
                              "Canvas's limit); split the scene into shorter episodes")
        path = dest_dir / f"{stem}-{len(written) + 1:03d}.jpg"
        path.write_bytes(data)
        written.append(path)

    for k, page in enumerate(book.pages):
        im = render(page).convert("RGB")
        if im.width != STRIP_WIDTH:
            im = im.resize((STRIP_WIDTH, max(1, round(im.height * STRIP_WIDTH / im.width))), Image.LANCZOS)
        gap = PAGE_GAP if k and not book.format.strip else 0
        grown = Image.new("RGB", (STRIP_WIDTH, buffer.height + gap + im.height), "white")
        grown.paste(buffer, (0, 0))
        grown.paste(im, (0, buffer.height + gap))
        buffer = grown
        while buffer.height >= SLICE_HEIGHT:
            cut = cut_at(buffer)
            flush(buffer.crop((0, 0, STRIP_WIDTH, cut)))
            buffer = buffer.crop((0, cut, STRIP_WIDTH, buffer.height))
    if buffer.height:
        flush(buffer)
    return Exported("webtoon", tuple(written), tuple(lettering_notes(book)), len(book.pages))
