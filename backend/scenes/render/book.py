"""The pages a motion comic is rendered from, and their pictures: the page without lettering and each balloon
on its own, so the renderer can show a balloon when its line is spoken.

The layout is the Pages part's (`backend.pages.layout`). Its lettering and raster pages are used where they
exist; until then (and for a Book made without lettering) a plain stand-in letters each line as an oval balloon
at the top of its panel, captions as boxes and sound effects as bold words, in reading order.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from backend.pages.model import FORMATS, Balloon, Book, Page
from backend.scenes.model import Scene

DEFAULT_FORMAT = "us_comic"
FONT = Path("/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf")
FALLBACK_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
FONT_PT = 9.0
LINE = 1.2


def _optional(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def book_for(scene: Scene, fmt: str = DEFAULT_FORMAT) -> Book | None:
    """The scene laid out as pages, lettered; None when it has no panels to lay out."""
    layout = _optional("backend.pages.layout")
    if layout is None or not any(s.kind != "title" for s in scene.shots):
        return None
    pages = layout.layout(scene, fmt)
    lettering = _optional("backend.pages.lettering")
    letter = getattr(lettering, "letter", None)
    if letter is not None:
        try:
            lettered = letter(scene, pages, FORMATS[fmt])
            if isinstance(lettered, Book):
                return lettered
            pages = tuple(lettered)
        except TypeError:
            pages = tuple(_stand_in_lettering(scene, p) for p in pages)
    else:
        pages = tuple(_stand_in_lettering(scene, p) for p in pages)
    return Book(FORMATS[fmt], tuple(pages), title=scene.title)


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont:
    for path in (FONT, FALLBACK_FONT):
        try:
            return ImageFont.truetype(str(path), px)
        except OSError:
            continue
    return ImageFont.load_default(size=px)


def _wrap(text: str, width_pt: float, font_pt: float) -> tuple[str, ...]:
    font = _font(max(6, round(font_pt * 4)))
    lines, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if cur and font.getlength(trial) / 4 > width_pt:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    return tuple(lines + [cur]) if cur else ("",)


def _stand_in_lettering(scene: Scene, page: Page) -> Page:
    """Balloons for a page the lettering part has not lettered: top of the panel down, in reading order."""
    shots = {s.index: s for s in scene.shots}
    balloons = []
    for ni, panel in enumerate(page.panels):
        shot = shots.get(panel.shot_index)
        if shot is None:
            continue
        x, y, w, h = panel.box
        x, y = max(x, 0.0) + 8, max(y, 0.0) + 8
        w = min(w, 999) - 16
        top = y
        items = ([("caption", shot.caption, None, None)] if shot.caption else []) + [
            ("speech", ln.text, ln.character, i) for i, ln in enumerate(shot.lines)]
        for n, (kind, text, who, li) in enumerate(items):
            bw = w * (0.9 if kind == "caption" else 0.62)
            lines = _wrap(text.upper() if kind == "speech" else text, bw - 16, FONT_PT)
            bh = len(lines) * FONT_PT * LINE + 14
            bx = x if kind == "caption" or n % 2 == 0 else x + w - bw
            if top + bh > y + h * 0.8:
                break
            tail = None
            if kind == "speech":
                tx = bx + bw * 0.4
                tail = ((tx, top + bh - 2), (tx + 10, min(top + bh + 22, y + h - 12)))
            balloons.append(Balloon(kind, text, ni, (bx, top, bw, bh), lines, FONT_PT, tail, None, who,
                                    shot.index, li))
            top += bh + 6
        for sfx in shot.sfx:
            balloons.append(Balloon("sfx", sfx, ni, (x + w * 0.55, y + h * 0.6, w * 0.4, 24.0), (sfx,), 18.0,
                                    shot_index=shot.index))
    return Page(page.number, page.template, page.panels, tuple(balloons))


def page_picture(page: Page, book: Book, art: dict[int, Path], scale: float) -> Image.Image:
    """The trimmed page at `scale` px per point, its panels' art in their frames, no lettering."""
    raster = _optional("backend.pages.raster")
    render_page = getattr(raster, "render_page", None)
    if render_page is not None:
        try:
            img = render_page(page, book.format, art, scale, lettering=False)
            if isinstance(img, Image.Image):
                return img.convert("RGB")
        except TypeError:
            pass
    from backend.pages.layout import crop_to
    pw, ph = book.format.trim
    img = Image.new("RGB", (round(pw * scale), round(ph * scale)), (250, 248, 242))
    draw = ImageDraw.Draw(img)
    for panel in page.panels:
        x, y, w, h = (v * scale for v in panel.box)
        box = (round(x), round(y), round(x + w), round(y + h))
        path = art.get(panel.shot_index)
        if path is not None:
            with Image.open(path) as im:
                im = im.convert("RGB")
                cx, cy, cw, ch = crop_to(im.width, im.height, w / h)
                tile = im.resize((box[2] - box[0], box[3] - box[1]), Image.BILINEAR, box=(cx, cy, cx + cw, cy + ch))
            img.paste(tile, box[:2])
        else:
            draw.rectangle(box, fill=(60, 60, 70))
        draw.rectangle(box, outline=(20, 20, 20), width=max(1, round(1.5 * scale)))
    return img


def balloon_picture(b: Balloon, scale: float) -> tuple[Image.Image, tuple[int, int]]:
    """One balloon (its body, tail and text) as an RGBA picture and where its top-left goes on the page
    picture, in pixels at `scale`."""
    x, y, w, h = b.box
    pts = [(x, y), (x + w, y + h)] + list(b.tail or ())
    x0, y0 = min(p[0] for p in pts) - 3, min(p[1] for p in pts) - 3
    x1, y1 = max(p[0] for p in pts) + 3, max(p[1] for p in pts) + 3
    ox, oy = round(x0 * scale), round(y0 * scale)
    img = Image.new("RGBA", (max(2, round(x1 * scale) - ox), max(2, round(y1 * scale) - oy)), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)

    def p(px: float, py: float) -> tuple[float, float]:
        return px * scale - ox, py * scale - oy
    body = (*p(x, y), *p(x + w, y + h))
    line_w = max(1, round(1.2 * scale))
    if b.kind == "sfx":
        font = _font(max(8, round(b.font_pt * scale)))
        d.text(p(x, y), b.text, font=font, fill=(250, 210, 40, 255), stroke_width=max(1, round(scale)),
               stroke_fill=(30, 20, 10, 255))
        return img, (ox, oy)
    if b.tail and len(b.tail) >= 2:
        (ax, ay), (tx, ty) = b.tail[0], b.tail[-1]
        d.polygon([p(ax - 6, ay), p(ax + 6, ay), p(tx, ty)], fill=(255, 255, 255, 255), outline=(20, 20, 20, 255))
    if b.kind == "caption":
        d.rectangle(body, fill=(250, 236, 180, 255), outline=(20, 20, 20, 255), width=line_w)
    else:
        d.ellipse(body, fill=(255, 255, 255, 255), outline=(20, 20, 20, 255), width=line_w)
    font = _font(max(6, round(b.font_pt * scale)))
    lines = b.lines or (b.text,)
    lh = b.font_pt * LINE * scale
    ty = body[1] + (body[3] - body[1] - lh * len(lines)) / 2
    for i, ln in enumerate(lines):
        text = ln.replace("*", "")
        tw = font.getlength(text)
        d.text(((body[0] + body[2] - tw) / 2, ty + i * lh), text, font=font, fill=(15, 15, 15, 255))
    return img, (ox, oy)
