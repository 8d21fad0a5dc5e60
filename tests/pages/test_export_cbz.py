"""CBZ: page pictures in reading order and a ComicInfo.xml valid against the anansi-project v2.0 schema."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

etree = pytest.importorskip("lxml.etree")

from backend.pages.export_cbz import write_cbz  # noqa: E402
from backend.pages.exports import ExportMeta  # noqa: E402
from tests.pages.books import simple_render, two_pages  # noqa: E402

XSD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "comicinfo" / "ComicInfo-v2.0.xsd"


@pytest.mark.parametrize("fmt", ["us_comic", "manga_b6"])
def test_cbz_pages_and_comicinfo(tmp_path, fmt):
    if not XSD.is_file():
        pytest.skip(f"the ComicInfo schema is not beside the repository ({XSD})")
    book = two_pages(fmt)
    meta = ExportMeta("The Mail Boat", series="Harbour Nights", number="3", writer="Ann Lee",
                      characters=("Mara", "Ben"), language="en")
    out = write_cbz(book, simple_render(book), tmp_path / "book.cbz", meta)
    with zipfile.ZipFile(out.paths[0]) as z:
        names = z.namelist()
        pages = [n for n in names if n.endswith(".jpg")]
        assert pages == ["page-001.jpg", "page-002.jpg"] == sorted(pages)
        xml = z.read("ComicInfo.xml")
        pics = [(z.read(n), Image.open(io.BytesIO(z.read(n)))) for n in pages]
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.fromstring(xml)
    assert schema.validate(doc), schema.error_log
    field = {el.tag: el.text for el in doc if el.tag != "Pages"}
    assert field["Title"] == "The Mail Boat" and field["Series"] == "Harbour Nights" and field["Number"] == "3"
    assert field["Writer"] == "Ann Lee" and field["Characters"] == "Mara, Ben"
    assert field["PageCount"] == "2" and field["LanguageISO"] == "en"
    assert field["Manga"] == ("YesAndRightToLeft" if fmt == "manga_b6" else "No")
    entries = doc.find("Pages").findall("Page")
    assert [e.get("Type") for e in entries] == ["FrontCover", "Story"]
    assert [e.get("Image") for e in entries] == ["0", "1"]
    for e, (data, im) in zip(entries, pics):
        assert (int(e.get("ImageWidth")), int(e.get("ImageHeight"))) == im.size
        assert int(e.get("ImageSize")) == len(data)
