"""The print PDF, read back with pypdf: page boxes, embedded lettering font, text equal to the lettering, art at
full resolution, and the notes a printer needs."""
from __future__ import annotations

import pytest

pypdf = pytest.importorskip("pypdf")

from backend.pages.export_pdf import write_pdf  # noqa: E402
from backend.pages.exports import ExportMeta, plain  # noqa: E402
from backend.pages.pdf_fonts import COMIC_NEUE  # noqa: E402
from tests.pages.books import art_for, two_pages  # noqa: E402


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pdf")
    book = two_pages()
    art = art_for(book, folder)
    out = write_pdf(book, art, folder / "book.pdf", ExportMeta("The Mail Boat", writer="Ann Lee"))
    return book, art, out, pypdf.PdfReader(out.paths[0])


def test_one_pdf_page_per_page_at_trim_plus_bleed_with_boxes(made):
    book, _, _, pdf = made
    fmt = book.format
    assert len(pdf.pages) == 2
    for page in pdf.pages:
        assert [round(float(v), 2) for v in page.mediabox] == [0, 0, 495.0, 756.0]   # 6.875 × 10.5 in
        assert [round(float(v), 2) for v in page.bleedbox] == [0, 0, 495.0, 756.0]
        assert [round(float(v), 2) for v in page.trimbox] == [fmt.bleed, fmt.bleed, 486.0, 747.0]
        trim_w = float(page.trimbox[2]) - float(page.trimbox[0])
        assert round(trim_w / 72, 3) == 6.625


def test_lettering_is_extractable_text_equal_to_the_balloons(made):
    book, _, _, pdf = made
    for page, model in zip(pdf.pages, book.pages):
        text = " ".join(page.extract_text().split())
        assert text == " ".join(plain(" ".join(b.lines)) for b in model.balloons)
    assert "*" not in pdf.pages[0].extract_text()      # emphasis markers are typography, not text


def test_every_font_is_embedded_and_is_the_lettering_font(made):
    _, _, _, pdf = made
    family = "ComicNeue" if COMIC_NEUE.is_dir() else "DejaVuSans"
    names = set()
    for page in pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            desc = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in desc, f"{font['/BaseFont']} is not embedded"
            names.add(str(font["/BaseFont"]).split("+", 1)[-1])
    assert all(n.startswith(family) for n in names), names
    assert any(n.lower().endswith(("bolditalic", "boldoblique")) for n in names)   # *out* is lettered in bold italic


def test_art_is_embedded_at_full_resolution(made):
    book, art, _, pdf = made
    for page, model in zip(pdf.pages, book.pages):
        sizes = sorted(img.image.size for img in page.images)
        assert sizes == sorted(p.art_size for p in model.panels)


def test_notes_name_low_resolution_panels_and_lettering_that_does_not_fit(made):
    _, _, out, _ = made
    ppi = [n for n in out.notes if "ppi at print size" in n]
    assert len(ppi) == 4                                 # every SD-sized panel is below 300 ppi: said, not hidden
    assert any(n.startswith("page 2, panel 1: the art is 512×768 px, 73 ppi") for n in ppi)
    assert any("page 2, panel 1" in n and "does not fit" in n for n in out.notes)
