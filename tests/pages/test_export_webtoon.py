"""Webtoon slices measured with Pillow: 800 px wide, at most 1280 px tall and 2 MB each, 20 MB an episode."""
from __future__ import annotations

import random

import pytest
from PIL import Image

from backend.pages.export_webtoon import PAGE_GAP, slice_heights, write_webtoon
from backend.pages.exports import ExportError, ExportMeta
from backend.pages.model import Book
from tests.pages.books import simple_render, two_pages


def test_slice_heights():
    assert slice_heights(3000) == [1280, 1280, 440]
    assert slice_heights(2560) == [1280, 1280]
    assert slice_heights(100) == [100]


def test_pages_stack_into_an_800px_strip_cut_into_slices(tmp_path):
    two = two_pages()
    book = Book(two.format, two.pages * 3, title="Long")          # six pages
    render = simple_render(book)
    out = write_webtoon(book, render, tmp_path / "strip", ExportMeta("Long"))
    pics = [Image.open(p) for p in out.paths]
    assert all(im.width == 800 for im in pics)
    assert all(im.height == 1280 for im in pics[:-1]) and 0 < pics[-1].height <= 1280
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
