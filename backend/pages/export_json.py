"""The page model as JSON (`backend.pages.book.to_json`: what the motion comic and any other tool read), written
to a file one page at a time so a 200-page book is never one string in memory."""
from __future__ import annotations

import json
from pathlib import Path

from backend.pages.book import to_json
from backend.pages.exports import Exported, lettering_notes
from backend.pages.model import Book


def write_json(book: Book, dest: Path) -> Exported:
    dest = Path(dest)
    head = to_json(Book(book.format, (), book.title, book.warnings))
    head.pop("pages")
    with open(dest, "w", encoding="utf-8") as f:
        f.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "pages": [')
        for k, page in enumerate(book.pages):
            one = to_json(Book(book.format, (page,), book.title))["pages"][0]
            f.write(("," if k else "") + "\n" + json.dumps(one, ensure_ascii=False))
        f.write("\n]}\n")
    return Exported("json", (dest,), tuple(lettering_notes(book)), len(book.pages))
