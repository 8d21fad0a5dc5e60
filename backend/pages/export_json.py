"""The page model as JSON: what the motion comic and any other tool read (boxes in points from the top-left of
the trimmed page; a tail is a list of points from the balloon to the tip, or null)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.pages.exports import Exported, lettering_notes
from backend.pages.model import Book


def book_json(book: Book) -> dict[str, Any]:
    fmt = book.format
    return {
        "title": book.title,
        "format": {"name": fmt.name, "label": fmt.label, "trim": list(fmt.trim), "bleed": fmt.bleed,
                   "safe": fmt.safe, "rtl": fmt.rtl, "strip": fmt.strip},
        "warnings": list(book.warnings),
        "pages": [{
            "number": p.number, "template": p.template,
            "panels": [{"shot_index": pn.shot_index, "box": list(pn.box), "bleed": list(pn.bleed),
                        "art_size": list(pn.art_size), "faces": [list(f) for f in pn.faces]} for pn in p.panels],
            "balloons": [{"kind": b.kind, "text": b.text, "panel": b.panel, "box": list(b.box),
                          "lines": list(b.lines), "font_pt": b.font_pt,
                          "tail": [list(t) for t in b.tail] if b.tail else None, "target_face": b.target_face,
                          "character": b.character, "shot_index": b.shot_index, "line_index": b.line_index,
                          "placement": b.placement, "choices": b.choices,
                          "overflow": b.overflow} for b in p.balloons],
        } for p in book.pages],
    }


def write_json(book: Book, dest: Path) -> Exported:
    dest = Path(dest)
    with open(dest, "w", encoding="utf-8") as f:     # page by page: a 200-page book is never one string
        head = book_json(Book(book.format, (), book.title, book.warnings))
        head.pop("pages")
        f.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "pages": [')
        for k, page in enumerate(book.pages):
            one = book_json(Book(book.format, (page,), book.title))["pages"][0]
            f.write(("," if k else "") + "\n" + json.dumps(one, ensure_ascii=False))
        f.write("\n]}\n")
    return Exported("json", (dest,), tuple(lettering_notes(book)), len(book.pages))
