"""The pages a motion comic is rendered from, and their pictures: the page without lettering and each balloon
on its own, so the renderer can show a balloon when its line is spoken. All of it is the Pages part's
(`backend.pages`: layout, lettering, raster), so the video and the book say the same words in the same places.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from backend.pages.book import build_book
from backend.pages.model import ArtFaces, Balloon, Book, Page
from backend.pages.raster import draw_balloon, render_page
from backend.scenes.model import Scene

DEFAULT_FORMAT = "us_comic"
MARGIN_PT = 4.0         # around a balloon's body and tail: its outline and an sfx's stroke


def book_for(scene: Scene, fmt: str = DEFAULT_FORMAT) -> Book | None:
    """The scene laid out as pages and lettered; None when it has no panel to lay out."""
    if not any(s.kind != "title" for s in scene.shots):
        return None
    return build_book(scene, fmt)


def page_picture(page: Page, book: Book, art: dict[int, Path], scale: float,
                 faces: dict[int, ArtFaces] | None = None) -> Image.Image:
    """The trimmed page at `scale` px per point, its panels' art in their frames (cropped around `faces`, as
    the PDF crops it), no lettering."""
    pictures = {}
    try:
        for panel in page.panels:
            path = art.get(panel.shot_index)
            if path is not None:
                with Image.open(path) as im:
                    pictures[panel.shot_index] = im.convert("RGB")
        return render_page(page, book.format, pictures, scale=scale, lettering=False, faces=faces).convert("RGB")
    finally:
        for im in pictures.values():
            im.close()


def balloon_picture(b: Balloon, scale: float) -> tuple[Image.Image, tuple[int, int]]:
    """One balloon (its body, tail and text) as an RGBA picture and where its top-left goes on the page
    picture, in pixels at `scale`."""
    x, y, w, h = b.box
    pts = [(x, y), (x + w, y + h), *(b.tail or ())]
    x0, y0 = min(p[0] for p in pts) - MARGIN_PT, min(p[1] for p in pts) - MARGIN_PT
    x1, y1 = max(p[0] for p in pts) + MARGIN_PT, max(p[1] for p in pts) + MARGIN_PT
    ox, oy = round(x0 * scale), round(y0 * scale)
    img = Image.new("RGBA", (max(2, round(x1 * scale) - ox), max(2, round(y1 * scale) - oy)), (0, 0, 0, 0))
    draw_balloon(img, b, scale=scale, origin=(-ox, -oy))
    return img, (ox, oy)
