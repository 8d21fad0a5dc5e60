"""What every export shares: the formats we write, the book's metadata, the result, and the refusals.

An export reads a `Book` (the page model) and writes files; it never lays out or letters anything itself, so the
PDF, the CBZ, the EPUB and the webtoon strip say the same words in the same places. Page pictures come from a
`render(page) -> PIL.Image` callable (the raster renderer) and panel art from a `{shot index: image file}` map,
each asked for one page at a time, so a 200-page chapter is never held in memory as pictures.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from backend.pages.model import FORMATS, Book, Page, PageFormat

EXPORT_FORMATS: tuple[str, ...] = ("pdf", "cbz", "epub", "webtoon", "json")

RenderPage = Callable[[Page], Image.Image]      # a page as a picture with its lettering, at the trim size


class ExportError(ValueError):
    """A refusal for a person: names the field and what is allowed."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = f"{field}: {message}"


@dataclass(frozen=True)
class ExportMeta:
    """What a reader shows about the book (ComicInfo.xml, the EPUB's package, the PDF's info)."""
    title: str
    series: str | None = None
    number: str = "1"
    writer: str | None = None
    characters: tuple[str, ...] = ()
    language: str = "en"        # ISO 639 code
    summary: str | None = None
    identifier: str | None = None   # stable id of the book (the EPUB needs one): the scene's id


@dataclass(frozen=True)
class Exported:
    format: str
    paths: tuple[Path, ...]     # one file, or the webtoon's slices in order
    notes: tuple[str, ...] = () # for a person: low-resolution art, lettering that does not fit, …
    pages: int = 0


def check_export_format(name: str) -> str:
    if name not in EXPORT_FORMATS:
        raise ExportError("format", f"{name!r} is not an export format; use one of {', '.join(EXPORT_FORMATS)}")
    return name


def check_page_format(name: str) -> PageFormat:
    fmt = FORMATS.get(name)
    if fmt is None:
        raise ExportError("page_format", f"{name!r} is not a page format; use one of {', '.join(FORMATS)}")
    return fmt


def lettering_notes(book: Book) -> list[str]:
    """The book's own warnings, plus one line per balloon whose text did not fit at the smallest readable size."""
    notes = list(book.warnings)
    for page in book.pages:
        for b in page.balloons:
            if b.overflow:
                line = (f"page {page.number}, panel {b.panel + 1}: the {b.kind} \u201c{plain(b.text)[:40]}\u201d "
                        "does not fit its panel at the smallest readable size")
                if not any(line.split(":")[0] in n and "fit" in n for n in notes):
                    notes.append(line)
    return notes


def plain(text: str) -> str:
    """The lettering as a reader reads it: emphasis markers gone, spaces collapsed."""
    from backend.pages.text import plain as unmarked
    return " ".join(unmarked(text).split())


def slug(text: str, default: str = "book") -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text or "").strip("-")[:60] or default


def page_names(count: int, ext: str) -> list[str]:
    """Zero-padded names in reading order, so every reader sorts them right: page-001.jpg …"""
    width = max(3, len(str(count)))
    return [f"page-{i:0{width}d}.{ext}" for i in range(1, count + 1)]
