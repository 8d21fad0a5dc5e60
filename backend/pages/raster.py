"""Raster pages: the page model drawn with Pillow — panel art cropped into its frame, borders, white gutters,
balloons with their lettering.

`render_page(..., lettering=False)` and `draw_balloon` are separate so the motion comic can show a page bare and
pop each balloon in when its line starts. Everything is drawn from the model: the PDF and the video say the same
words in the same places.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

from PIL import Image, ImageDraw

from backend.pages.fonts import font
from backend.pages.layout import crop_to
from backend.pages.model import ArtFaces, Balloon, Page, PageFormat, Panel, Point
from backend.pages.text import LEADING, emphasis_style, line_runs

INK = (20, 20, 20)
PAPER = (255, 255, 255)
CAPTION_FILL = (255, 246, 196)
SFX_FILL = (255, 214, 0)
OVERFLOW = (220, 20, 60)


class Canvas:
    """Page points → image pixels: `scale` pixels a point, `origin` where the trim's top-left falls."""

    def __init__(self, scale: float, origin: tuple[float, float] = (0.0, 0.0)):
        self.scale = scale
        self.origin = origin

    def pt(self, p: Point) -> tuple[float, float]:
        return self.origin[0] + p[0] * self.scale, self.origin[1] + p[1] * self.scale

    def box(self, b) -> tuple[float, float, float, float]:
        x, y = self.pt((b[0], b[1]))
        return x, y, x + b[2] * self.scale, y + b[3] * self.scale


def scale_for(fmt: PageFormat, scale: float | None = None, dpi: float | None = None) -> float:
    if scale is not None and dpi is not None:
        raise ValueError("give scale or dpi, not both")
    if dpi is not None:
        return dpi / 72.0
    return scale if scale is not None else 1.0


def paste_art(img: Image.Image, panel: Panel, art: Image.Image, cv: Canvas, faces: Sequence = ()) -> None:
    """The art cropped to the panel's aspect around its faces, scaled into the panel's frame (never stretched)."""
    x0, y0, x1, y1 = (int(round(v)) for v in cv.box(panel.box))
    w, h = max(1, x1 - x0), max(1, y1 - y0)
    cx, cy, cw, ch = crop_to(art.width, art.height, panel.box[2] / panel.box[3], faces)
    piece = art.crop((cx, cy, cx + cw, cy + ch)).convert("RGB").resize((w, h), Image.Resampling.BILINEAR)
    img.paste(piece, (x0, y0))


def _border(draw: ImageDraw.ImageDraw, panel: Panel, cv: Canvas, width: float) -> None:
    x0, y0, x1, y1 = cv.box(panel.box)
    draw.rectangle((x0, y0, x1, y1), outline=INK, width=max(1, int(round(width))))


def render_page(page: Page, fmt: PageFormat, art: Mapping[int, Image.Image] | None = None, *,
                scale: float | None = None, dpi: float | None = None, lettering: bool = True,
                bleed: bool = False, faces: Mapping[int, ArtFaces] | None = None) -> Image.Image:
    """The page as an RGB image: `scale` pixels a point (or `dpi`), the trim (or with `bleed`, the trim and its
    bleed). `art` maps Shot.index → its image; a panel without art is drawn as a grey frame. `faces` (per
    Shot.index, in the art's pixels) centres the crop of art made at another aspect, as lettering did."""
    s = scale_for(fmt, scale, dpi)
    b = fmt.bleed if bleed else 0.0
    w_pt, h_pt = fmt.trim[0] + 2 * b, fmt.trim[1] + 2 * b
    img = Image.new("RGB", (max(1, int(round(w_pt * s))), max(1, int(round(h_pt * s)))), PAPER)
    cv = Canvas(s, (b * s, b * s))
    draw = ImageDraw.Draw(img)
    for panel in page.panels:
        picture = (art or {}).get(panel.shot_index)
        if picture is not None:
            found = (faces or {}).get(panel.shot_index)
            paste_art(img, panel, picture, cv, found.boxes if found else ())
        else:
            draw.rectangle(cv.box(panel.box), fill=(225, 225, 225))
    line = max(1.0, 1.2 * s)
    for panel in page.panels:
        if panel.bleed != ("top", "right", "bottom", "left"):
            _border(draw, panel, cv, line)
    if lettering:
        draw_lettering(img, page, fmt, scale=s, origin=cv.origin)
    return img


def draw_lettering(img: Image.Image, page: Page, fmt: PageFormat, *, scale: float,
                   origin: tuple[float, float] = (0.0, 0.0)) -> Image.Image:
    """All of a page's balloons, in reading order (later ones over earlier ones' tails)."""
    for balloon in page.balloons:
        draw_balloon(img, balloon, scale=scale, origin=origin)
    return img


# ---- shapes ---------------------------------------------------------------------------------------------------

def _ellipse_points(box, n: int = 72, k: float = 1.0) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    cx, cy, a, b = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 * k, (y1 - y0) / 2 * k
    return [(cx + a * math.cos(2 * math.pi * i / n), cy + b * math.sin(2 * math.pi * i / n)) for i in range(n)]


def _burst(box, spikes: int = 18, depth: float = 0.16) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    cx, cy, a, b = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    pts = []
    for i in range(spikes * 2):
        t = 2 * math.pi * i / (spikes * 2)
        r = 1.0 if i % 2 == 0 else 1.0 - depth * (1.4 if i % 4 == 1 else 1.0)
        pts.append((cx + a * r * math.cos(t), cy + b * r * math.sin(t)))
    return pts


def _shrink(points, by: float) -> list[tuple[float, float]]:
    cx = sum(p[0] for p in points) / len(points)
    cy = sum(p[1] for p in points) / len(points)
    out = []
    for x, y in points:
        d = math.hypot(x - cx, y - cy) or 1.0
        out.append((x - (x - cx) / d * by, y - (y - cy) / d * by))
    return out


def _tail_triangle(start, tip, width: float) -> list[tuple[float, float]]:
    dx, dy = tip[0] - start[0], tip[1] - start[1]
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d * width / 2, dx / d * width / 2
    # the base sits a little inside the body so the join is hidden under its fill
    bx, by = start[0] - dx / d * width * 0.6, start[1] - dy / d * width * 0.6
    return [(bx + nx, by + ny), tip, (bx - nx, by - ny)]


def _zigzag(start, tip, amp: float, steps: int = 5) -> list[tuple[float, float]]:
    dx, dy = tip[0] - start[0], tip[1] - start[1]
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d, dx / d
    pts = [start]
    for i in range(1, steps):
        t = i / steps
        side = amp if i % 2 else -amp
        pts.append((start[0] + dx * t + nx * side, start[1] + dy * t + ny * side))
    pts.append(tip)
    return pts


def draw_balloon(img: Image.Image, balloon: Balloon, *, scale: float, origin: tuple[float, float] = (0.0, 0.0)) -> Image.Image:
    """One balloon (body, tail, lettering) onto the image, in place. The shapes follow the convention: oval
    speech, cloud thought with bubbles, dashed whisper, jagged burst shout, electric tail for radio,
    rectangular caption, big outlined sfx. A balloon that overflows is outlined in red."""
    cv = Canvas(scale, origin)
    draw = ImageDraw.Draw(img)
    box = cv.box(balloon.box)
    lw = max(1.0, 0.9 * scale)
    tail = [cv.pt(p) for p in balloon.tail] if balloon.tail else None
    kind = balloon.kind
    if kind == "sfx":
        _draw_text(draw, balloon, box, scale, fill=SFX_FILL, stroke=max(1, int(round(1.6 * scale))))
    elif kind == "caption":
        draw.rectangle(box, fill=CAPTION_FILL, outline=INK, width=int(round(lw)))
        _draw_text(draw, balloon, box, scale)
    else:
        _draw_body(draw, kind, box, tail, lw, scale)
        _draw_text(draw, balloon, box, scale)
    if balloon.overflow:
        x0, y0, x1, y1 = box
        draw.rectangle((x0 - lw, y0 - lw, x1 + lw, y1 + lw), outline=OVERFLOW, width=max(2, int(round(2 * lw))))
        mark = font("bold", max(6.0, 8 * scale))
        draw.text((x1 - 2 * lw, y0), "!", fill=OVERFLOW, font=mark, anchor="rt")
    return img


def _draw_body(draw: ImageDraw.ImageDraw, kind: str, box, tail, lw: float, scale: float) -> None:
    tail_w = max(3.0, min(box[2] - box[0], box[3] - box[1]) * 0.22)
    if kind == "thought":
        x0, y0, x1, y1 = box
        r = min(x1 - x0, y1 - y0) * 0.2
        # the puffs' centres ride an ellipse inset by their radius, so the cloud stays inside the balloon's box
        puffs = _ellipse_points((x0 + r + lw, y0 + r + lw, x1 - r - lw, y1 - r - lw), 14)
        for grow, colour in ((lw, INK), (0.0, PAPER)):
            for px, py in puffs:
                draw.ellipse((px - r - grow, py - r - grow, px + r + grow, py + r + grow), fill=colour)
            draw.ellipse((x0 + r * 0.4 - grow, y0 + r * 0.4 - grow, x1 - r * 0.4 + grow, y1 - r * 0.4 + grow),
                         fill=colour)
        if tail:
            (sx, sy), (tx, ty) = tail
            for i, frac in enumerate((0.25, 0.6, 0.95)):
                rr = r * (0.45 - 0.12 * i)
                cx, cy = sx + (tx - sx) * frac, sy + (ty - sy) * frac
                draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=PAPER, outline=INK, width=int(round(lw)))
        return
    if kind == "shout":
        outline = _burst(box)
        inner = _shrink(outline, lw)
    else:
        outline = _ellipse_points(box)
        inner = _shrink(outline, lw)
    if tail and kind != "radio":
        tri = _tail_triangle(tail[0], tail[1], tail_w)
        draw.polygon(tri, fill=INK)
    if kind == "whisper":   # dashed: paper body, then ink dashes along its edge
        draw.polygon(outline, fill=PAPER)
        if tail:
            draw.polygon(_shrink(tri, lw * 1.1), fill=PAPER)
        x0, y0, x1, y1 = box
        h = lw / 2
        pts = _ellipse_points((x0 + h, y0 + h, x1 - h, y1 - h), 48)
        for i in range(0, len(pts), 2):
            draw.line((pts[i], pts[(i + 1) % len(pts)]), fill=INK, width=max(1, int(round(lw))))
        return
    draw.polygon(outline, fill=INK)
    if tail and kind != "radio":
        draw.polygon(_shrink(tri, lw * 1.1), fill=PAPER)
    draw.polygon(inner, fill=PAPER)
    if tail and kind == "radio":
        draw.line(_zigzag(tail[0], tail[1], tail_w * 0.35), fill=INK, width=max(1, int(round(lw * 1.6))), joint="curve")


def _draw_text(draw: ImageDraw.ImageDraw, balloon: Balloon, box, scale: float, fill=INK, stroke: int = 0) -> None:
    base = "bold" if balloon.kind in ("shout", "sfx") else "regular"
    size = balloon.font_pt * scale
    lh = size * LEADING
    runs = line_runs(balloon.lines)
    x0, y0, x1, y1 = box
    top = (y0 + y1) / 2 - lh * len(runs) / 2
    for n, line in enumerate(runs):
        widths = [font(emphasis_style(base) if em else base, size).getlength(t) for t, em in line]
        x = (x0 + x1) / 2 - sum(widths) / 2
        y = top + n * lh + lh / 2
        for (t, em), w in zip(line, widths):
            f = font(emphasis_style(base) if em else base, size)
            draw.text((x, y), t, font=f, fill=fill, anchor="lm", stroke_width=stroke, stroke_fill=INK)
            x += w
