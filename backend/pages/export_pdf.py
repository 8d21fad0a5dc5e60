"""The print PDF: one PDF page per comic page at trim + bleed, TrimBox and BleedBox set, the panel art embedded at
its full resolution, balloons as vector shapes and the lettering as real text in an embedded font.

Drawn with ReportLab (it sets page boxes itself and embeds TrueType subsets; see `pdf_fonts` for why the Comic
Neue outlines are converted first). Pages are drawn one at a time; the document holds the art as the files'
compressed bytes (JPEG passes through), never as decoded pictures.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from backend.pages.exports import Exported, ExportMeta, lettering_notes, plain
from backend.pages.layout import crop_to
from backend.pages.model import INCH, ArtFaces, Balloon, Book, Box, Panel, Point
from backend.pages.text import line_runs

PRINT_PPI = 300         # what printers ask for colour art at trim size
LEADING = 1.18          # line height as a multiple of the font size
INK = (0.08, 0.08, 0.08)
CAPTION_FILL = (1.0, 0.96, 0.78)
SFX_FILL = (1.0, 0.84, 0.1)


# -- geometry (pure: points in the trimmed page's top-left, y-down frame) -------------------------------------
def ellipse_point(box: Box, angle: float) -> Point:
    x, y, w, h = box
    return (x + w / 2 + w / 2 * math.cos(angle), y + h / 2 + h / 2 * math.sin(angle))


def burst_outline(box: Box, spikes: int = 14, depth: float = 0.18) -> list[Point]:
    """A shout's jagged outline: points alternating on the box's ellipse and inside it."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    pts = []
    for i in range(spikes * 2):
        a = math.pi * i / spikes
        r = 1.0 if i % 2 == 0 else 1.0 - depth
        pts.append((cx + w / 2 * r * math.cos(a), cy + h / 2 * r * math.sin(a)))
    return pts


def cloud_bumps(box: Box) -> list[tuple[Point, float]]:
    """A thought's cloud: circles (centre, radius) around the box's ellipse."""
    x, y, w, h = box
    n = max(8, int((w + h) / 14))
    r = max(4.0, min(w, h) * 0.22)
    inner = (x + r * 0.55, y + r * 0.55, w - r * 1.1, h - r * 1.1)
    return [(ellipse_point(inner, 2 * math.pi * i / n), r) for i in range(n)]


def tail_wedge(box: Box, tail: tuple[Point, ...], base: float = 9.0) -> list[Point]:
    """A speech tail as a closed outline: a base across the balloon's edge, narrowing along the path to the tip."""
    start, tip = tail[0], tail[-1]
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    dx, dy = start[0] - cx, start[1] - cy         # base across the radius at the start, sunk into the body
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d, dx / d
    sunk = (start[0] - dx / d * 4, start[1] - dy / d * 4)
    left = [(sunk[0] + nx * base / 2, sunk[1] + ny * base / 2)]
    right = [(sunk[0] - nx * base / 2, sunk[1] - ny * base / 2)]
    mids = list(tail[1:-1])
    for k, p in enumerate(mids, 1):               # a bent tail keeps narrowing through its middle points
        half = base / 2 * (1 - k / (len(mids) + 1))
        left.append((p[0] + nx * half, p[1] + ny * half))
        right.append((p[0] - nx * half, p[1] - ny * half))
    return left + [tip] + right[::-1]


def zigzag(tail: tuple[Point, ...], teeth: int = 5, amp: float = 3.5) -> list[Point]:
    """A radio/phone tail: an electric zigzag from the balloon to the tip."""
    start, tip = tail[0], tail[-1]
    dx, dy = tip[0] - start[0], tip[1] - start[1]
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d, dx / d
    pts = [start]
    for i in range(1, teeth * 2):
        t = i / (teeth * 2)
        s = amp if i % 2 else -amp
        pts.append((start[0] + dx * t + nx * s, start[1] + dy * t + ny * s))
    return pts + [tip]


def placement(img_size: tuple[int, int], box: Box, faces: tuple[Box, ...] = ()) -> tuple[Box, float]:
    """Where to draw the whole image so that its crop (the layout's `crop_to`, around its faces, the same crop
    the raster page uses) fills the panel: (x, y, w, h) in points, and the art's ppi at print size."""
    iw, ih = img_size
    cx, cy, cw, ch = crop_to(iw, ih, box[2] / box[3], faces)
    s = max(box[2] / cw, box[3] / ch)           # points per pixel
    return (box[0] - cx * s, box[1] - cy * s, iw * s, ih * s), INCH / s


# -- drawing --------------------------------------------------------------------------------------------------
class _Sheet:
    """One PDF page's coordinate change: model points (trim top-left, y down) → PDF (media bottom-left, y up)."""

    def __init__(self, canvas, bleed: float, height: float):
        self.c, self.bleed, self.height = canvas, bleed, height

    def pt(self, p: Point) -> Point:
        return (p[0] + self.bleed, self.height - (p[1] + self.bleed))

    def rect(self, box: Box) -> tuple[float, float, float, float]:
        x, y = self.pt((box[0], box[1] + box[3]))
        return (x, y, box[2], box[3])

    def polygon(self, pts: list[Point], *, fill: bool, stroke: bool, close: bool = True) -> None:
        path = self.c.beginPath()
        path.moveTo(*self.pt(pts[0]))
        for p in pts[1:]:
            path.lineTo(*self.pt(p))
        if close:
            path.close()
        self.c.drawPath(path, fill=int(fill), stroke=int(stroke))

    def ellipse(self, box: Box, *, fill: bool, stroke: bool) -> None:
        x, y, w, h = self.rect(box)
        self.c.ellipse(x, y, x + w, y + h, fill=int(fill), stroke=int(stroke))

    def circle(self, centre: Point, r: float, *, fill: bool, stroke: bool) -> None:
        x, y = self.pt(centre)
        self.c.circle(x, y, r, fill=int(fill), stroke=int(stroke))


def _draw_panel(sheet: _Sheet, panel: Panel, art: Path | None, faces: ArtFaces | None, number: int, index: int,
                notes: list[str], missing: list[str]) -> None:
    from PIL import Image
    c = sheet.c
    x, y, w, h = sheet.rect(panel.box)
    c.saveState()
    clip = c.beginPath()
    clip.rect(x, y, w, h)
    c.clipPath(clip, stroke=0, fill=0)
    if art is not None and Path(art).is_file():
        with Image.open(art) as im:
            size = im.size
        where, ppi = placement(size, panel.box, faces.boxes if faces and faces.size == size else ())
        c.drawImage(str(art), *sheet.rect(where))   # the file itself: full resolution, JPEG passed through
        if ppi < PRINT_PPI:
            notes.append(f"page {number}, panel {index + 1}: the art is {size[0]}×{size[1]} px, "
                         f"{ppi:.0f} ppi at print size (printers ask for {PRINT_PPI})")
    else:
        c.setFillColorRGB(0.85, 0.85, 0.85)
        c.rect(x, y, w, h, fill=1, stroke=0)
        missing.append(f"page {number} panel {index + 1}")
    c.restoreState()
    c.setStrokeColorRGB(*INK)
    c.setLineWidth(1.2)
    c.rect(x, y, w, h, fill=0, stroke=1)


def _draw_body(sheet: _Sheet, b: Balloon) -> None:
    c = sheet.c
    c.setStrokeColorRGB(*INK)
    c.setFillColorRGB(1, 1, 1)
    c.setLineWidth(1.0)
    c.setDash()
    tail = b.tail if b.tail and len(b.tail) >= 2 else None
    if b.kind == "caption":
        c.setFillColorRGB(*CAPTION_FILL)
        x, y, w, h = sheet.rect(b.box)
        c.rect(x, y, w, h, fill=1, stroke=1)
        return
    if b.kind == "thought":
        if tail:                                  # bubbles shrinking toward the thinker
            n = 3
            for k in range(n):
                t = (k + 1) / (n + 1)
                p = (tail[0][0] + (tail[-1][0] - tail[0][0]) * t, tail[0][1] + (tail[-1][1] - tail[0][1]) * t)
                sheet.circle(p, 4.0 - 1.0 * k, fill=True, stroke=True)
        for centre, r in cloud_bumps(b.box):
            sheet.circle(centre, r, fill=True, stroke=True)
        for centre, r in cloud_bumps(b.box):      # clear the bumps' inner arcs
            sheet.circle(centre, r - 1.0, fill=True, stroke=False)
        x, y, w, h = b.box
        r = max(4.0, min(w, h) * 0.22)
        sheet.ellipse((x + r * 0.6, y + r * 0.6, w - r * 1.2, h - r * 1.2), fill=True, stroke=False)
        return
    if b.kind == "radio" and tail:
        c.setLineWidth(1.4)
        sheet.polygon(zigzag(tail), fill=False, stroke=True, close=False)
        c.setLineWidth(1.0)
        tail = None
    if tail:
        sheet.polygon(tail_wedge(b.box, tail), fill=True, stroke=True)
    if b.kind == "whisper":
        c.setDash(3, 2)
    if b.kind == "shout":
        c.setLineWidth(1.4)
        sheet.polygon(burst_outline(b.box), fill=True, stroke=True)
    else:
        sheet.ellipse(b.box, fill=True, stroke=True)
    c.setDash()
    if tail:                                      # hide the body's outline across the tail's base
        sheet.polygon(tail_wedge(b.box, tail, base=7.0)[:1] + tail_wedge(b.box, tail, base=7.0)[-1:]
                      + [tail[0]], fill=True, stroke=False)


def _draw_text(sheet: _Sheet, b: Balloon, fonts) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth
    c = sheet.c
    lines = b.lines or (b.text,)
    size = b.font_pt
    base_font = fonts.bold if b.kind in ("shout", "sfx") else fonts.regular
    lead = size * LEADING
    x, y, w, h = b.box
    top = y + (h - lead * len(lines)) / 2 + size * 0.85
    for i, parts in enumerate(line_runs(tuple(lines))):
        widths = [stringWidth(t, fonts.bolditalic if e else base_font, size) for t, e in parts]
        px = x + (w - sum(widths)) / 2
        text = c.beginText()
        text.setTextOrigin(*sheet.pt((px, top + i * lead)))
        if b.kind == "sfx":                       # drawn lettering: coloured, outlined, still real text
            text.setTextRenderMode(2)
            c.setFillColorRGB(*SFX_FILL)
            c.setStrokeColorRGB(*INK)
            c.setLineWidth(max(0.6, size / 18))
        else:
            c.setFillColorRGB(*INK)
        for (t, e), _ in zip(parts, widths):
            text.setFont(fonts.bolditalic if e else base_font, size)
            text.textOut(t)
        c.drawText(text)


def write_pdf(book: Book, art: Mapping[int, Path | str], dest: Path, meta: ExportMeta,
              faces: Mapping[int, ArtFaces] | None = None) -> Exported:
    """Write the print PDF. `art` maps a panel's shot index to its image file (a missing one prints grey);
    `faces` (per shot index, in the art's pixels) centres each crop as the raster page does."""
    from reportlab.pdfgen import canvas as rl_canvas

    from backend.pages.pdf_fonts import lettering_fonts

    fonts = lettering_fonts()
    fmt = book.format
    W, H = fmt.bleed_size
    dest = Path(dest)
    c = rl_canvas.Canvas(str(dest), pagesize=(W, H), initialFontName=fonts.regular, pageCompression=1)
    c.setTitle(meta.title)
    if meta.writer:
        c.setAuthor(meta.writer)
    c.setSubject(plain(meta.summary or ""))
    c.setCreator("Graphic Novel Studio")
    notes = lettering_notes(book)
    missing: list[str] = []
    for page in book.pages:
        c.setPageSize((W, H))
        c.setBleedBox((0, 0, W, H))
        c.setTrimBox((fmt.bleed, fmt.bleed, W - fmt.bleed, H - fmt.bleed))
        c.setCropBox((0, 0, W, H))
        sheet = _Sheet(c, fmt.bleed, H)
        for i, panel in enumerate(page.panels):
            src = art.get(panel.shot_index)
            _draw_panel(sheet, panel, Path(src) if src else None, (faces or {}).get(panel.shot_index),
                        page.number, i, notes, missing)
        for b in page.balloons:
            if b.kind != "sfx":
                _draw_body(sheet, b)
            _draw_text(sheet, b, fonts)
        c.showPage()
    c.save()
    if missing:         # one line, however many: art not made yet is one thing to do, not many
        notes.insert(0, f"no art yet (printed grey): {', '.join(missing[:12])}"
                     + (f" and {len(missing) - 12} more" if len(missing) > 12 else ""))
    return Exported("pdf", (dest,), tuple(notes), len(book.pages))
