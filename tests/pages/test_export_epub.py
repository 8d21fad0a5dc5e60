"""EPUB 3 fixed layout, judged by EPUBCheck (Debian's epubcheck), plus what a comic reader relies on."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from backend.pages.export_epub import write_epub
from backend.pages.exports import ExportMeta
from tests.pages.books import simple_render, two_pages

JAR = Path("/usr/share/java/epubcheck.jar")


def test_manga_epub_passes_epubcheck_and_is_fixed_layout_right_to_left(tmp_path):
    book = two_pages("manga_b6")
    out = write_epub(book, simple_render(book), tmp_path / "book.epub",
                     ExportMeta("The Mail Boat", writer="Ann Lee", identifier="scene-1"))
    path = out.paths[0]
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
        assert (first.filename, first.compress_type, z.read("mimetype")) == \
            ("mimetype", zipfile.ZIP_STORED, b"application/epub+zip")
        opf = z.read("OEBPS/content.opf").decode()
        xhtml = [z.read(n).decode() for n in sorted(z.namelist()) if re.match(r"OEBPS/page-\d+\.xhtml", n)]
    assert '<meta property="rendition:layout">pre-paginated</meta>' in opf
    assert 'page-progression-direction="rtl"' in opf
    assert re.findall(r'itemref idref="p\d" properties="([^"]+)"', opf) == ["page-spread-left", "page-spread-right"]
    assert 'properties="nav"' in opf and len(xhtml) == 2
    for page in xhtml:
        w, h = re.search(r'name="viewport" content="width=(\d+), height=(\d+)"', page).groups()
        assert f'width="{w}" height="{h}"' in page
    assert "Keep your lantern low." in xhtml[0]        # the lettering is in the page's text alternative
    if not JAR.is_file() or shutil.which("java") is None:
        pytest.skip("EPUBCheck is not installed (Debian package epubcheck; .ci/run installs it)")
    run = subprocess.run(["java", "-jar", str(JAR), str(path)], capture_output=True, text=True, timeout=120)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert re.search(r"Messages: 0 fatals / 0 errors", report), report
