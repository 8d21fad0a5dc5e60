"""CBZ: the page pictures in reading order with zero-padded names, and ComicInfo.xml (anansi-project v2.0).

Each page is rendered, encoded and written into the archive before the next is rendered, so memory holds one
page. The JPEGs are stored, not deflated again (they do not shrink).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from backend.pages.exports import Exported, ExportMeta, RenderPage, lettering_notes, page_names
from backend.pages.model import Book

JPEG_QUALITY = 90


def comicinfo_xml(book: Book, meta: ExportMeta, pages: list[dict[str, int]]) -> bytes:
    """ComicInfo.xml; `pages` holds per page its ImageWidth, ImageHeight and ImageSize (bytes).

    The schema is a sequence: elements go in its order, so the writer follows it."""
    root = ET.Element("ComicInfo", {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                                    "xmlns:xsd": "http://www.w3.org/2001/XMLSchema"})

    def add(name: str, value: str | int | None) -> None:
        if value not in (None, ""):
            ET.SubElement(root, name).text = str(value)

    add("Title", meta.title)
    add("Series", meta.series or meta.title)
    add("Number", meta.number)
    add("Summary", meta.summary)
    add("Notes", "Made with Graphic Novel Studio")
    add("Writer", meta.writer)
    add("Letterer", "Graphic Novel Studio")
    add("PageCount", len(book.pages))
    add("LanguageISO", meta.language)
    add("Manga", "YesAndRightToLeft" if book.format.rtl else "No")
    add("Characters", ", ".join(meta.characters))
    el = ET.SubElement(root, "Pages")
    for i, info in enumerate(pages):
        ET.SubElement(el, "Page", {"Image": str(i), "Type": "FrontCover" if i == 0 else "Story",
                                   "ImageSize": str(info["ImageSize"]), "ImageWidth": str(info["ImageWidth"]),
                                   "ImageHeight": str(info["ImageHeight"])})
    ET.indent(root)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def encode_jpeg(im) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def write_cbz(book: Book, render: RenderPage, dest: Path, meta: ExportMeta) -> Exported:
    dest = Path(dest)
    names = page_names(len(book.pages), "jpg")
    infos: list[dict[str, int]] = []
    with zipfile.ZipFile(dest, "w") as z:
        for page, name in zip(book.pages, names):
            im = render(page)
            data = encode_jpeg(im)
            infos.append({"ImageWidth": im.width, "ImageHeight": im.height, "ImageSize": len(data)})
            im.close()
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_STORED)
        z.writestr("ComicInfo.xml", comicinfo_xml(book, meta, infos), compress_type=zipfile.ZIP_DEFLATED)
    return Exported("cbz", (dest,), tuple(lettering_notes(book)), len(book.pages))
