"""Webtoon slices measured with Pillow: 800 px wide, at most 1280 px tall and 2 MB each, 20 MB an episode."""
from __future__ import annotations

import random

import pytest
from PIL import Image

from backend.pages.export_webtoon import BLANK, PAGE_GAP, cut_at, write_webtoon
from backend.pages.exports import ExportError, ExportMeta
from backend.pages.model import Book
from tests.pages.books import simple_render, two_pages


def test_a_slice_is_cut_at_the_lowest_blank_row_of_its_lower_half_else_at_full_height():
    strip = Image.new("RGB", (800, 3000), (40, 60, 90))
    strip.paste((255, 255, 255), (0, 1000, 800, 1014))         # a gutter, low in the first slice
    strip.paste((255, 255, 255), (0, 300, 800, 320))           # one too high up to cut at (a tiny slice)
    assert cut_at(strip) == 1014
    assert cut_at(Image.new("RGB", (800, 3000), (40, 60, 90))) == 1280    # one tall panel: cut at full height
    tail = strip.copy()
    tail.paste((0, 0, 0), (400, 990, 402, 1020))                # a line across the gutter: no blank row left there
    assert cut_at(tail) == 1280


def test_pages_stack_into_an_800px_strip_cut_into_slices(tmp_path):
    two = two_pages()
    book = Book(two.format, two.pages * 3, title="Long")          # six pages
    render = simple_render(book)
    out = write_webtoon(book, render, tmp_path / "strip", ExportMeta("Long"))
    pics = [Image.open(p) for p in out.paths]
    assert all(im.width == 800 for im in pics)
    assert all(640 < im.height <= 1280 for im in pics[:-1]) and 0 < pics[-1].height <= 1280
    # every cut but a panel taller than half a slice falls on paper: the slice's last row is blank
    for im in pics[:-1]:
        last = im.convert("L").crop((0, im.height - 1, 800, im.height))
        assert im.height == 1280 or min(last.getdata()) >= BLANK - 12        # JPEG's ringing on white
    w, h = render(book.pages[0]).size
    page_h = round(h * 800 / w)
    assert sum(im.height for im in pics) == 6 * page_h + 5 * PAGE_GAP
    sizes = [p.stat().st_size for p in out.paths]
    assert max(sizes) <= 2 * 1024 * 1024 and sum(sizes) <= 20 * 1024 * 1024
    assert [p.name for p in out.paths] == sorted(p.name for p in out.paths)


def test_an_episode_past_the_limit_is_refused_and_leaves_no_slices(tmp_path):
    book = two_pages()
    rng = random.Random(7)

    def noisy(page):
        return Image.frombytes("RGB", (800, 1400), rng.randbytes(800 * 1400 * 3))

    with pytest.raises(ExportError) as err:
        write_webtoon(book, noisy, tmp_path / "strip", ExportMeta("Noise"), episode_bytes=500_000)
    assert err.value.message.startswith("webtoon: the episode passes")
    assert not list((tmp_path / "strip").iterdir())
