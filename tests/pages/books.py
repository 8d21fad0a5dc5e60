"""Hand-built books for the export tests: the page model filled in with numbers, no layout or lettering run."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from backend.pages.model import FORMATS, Balloon, Book, Page, Panel


def art(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    im = Image.new("RGB", size, colour)
    d = ImageDraw.Draw(im)
    d.ellipse((size[0] * 0.3, size[1] * 0.2, size[0] * 0.7, size[1] * 0.6), fill=(240, 200, 170))
    im.save(path, quality=92)
    return path


def two_pages(fmt_name: str = "us_comic") -> Book:
    """Page 1: a wide panel over two; page 2: a splash. Every balloon kind, one overflowing, emphasis kept."""
    fmt = FORMATS[fmt_name]
    tw, th = fmt.trim
    m, g = fmt.margin, fmt.gutter
    half = (th - 2 * m - g) / 2
    col = (tw - 2 * m - g) / 2
    p1 = (Panel(0, (m, m, tw - 2 * m, half), art_size=(768, 512)),
          Panel(1, (m, m + half + g, col, half), art_size=(512, 768)),
          Panel(2, (m + col + g, m + half + g, col, half), art_size=(512, 768)))
    b1 = (
        Balloon("caption", "Port Ellery. The last night of the mail boat.", 0, (m + 8, m + 8, 160, 34),
                lines=("Port Ellery. The last night", "of the mail boat."), font_pt=9),
        Balloon("speech", "The lights are *out*.", 0, (m + 200, m + 30, 110, 44),
                lines=("The lights", "are *out*."), font_pt=9, tail=((m + 250, m + 74), (m + 262, m + 110)),
                target_face=0, character="MARA", shot_index=0, line_index=0),
        Balloon("whisper", "Keep your lantern low.", 1, (m + 10, m + half + g + 10, 100, 44),
                lines=("Keep your", "lantern low."), font_pt=9, tail=((m + 60, m + half + g + 54),
                                                                     (m + 70, m + half + g + 90)),
                character="BEN", shot_index=1, line_index=0),
        Balloon("sfx", "KREEEK", 1, (m + 20, m + half + g + 150, 90, 30), lines=("KREEEK",), font_pt=20),
        Balloon("shout", "GET DOWN!", 2, (m + col + g + 20, m + half + g + 10, 110, 50),
                lines=("GET DOWN!",), font_pt=11, tail=((m + col + g + 75, m + half + g + 60),
                                                        (m + col + g + 80, m + half + g + 100)),
                character="MARA", shot_index=2, line_index=0),
    )
    p2 = (Panel(3, (-fmt.bleed, -fmt.bleed, tw + 2 * fmt.bleed, th + 2 * fmt.bleed),
                bleed=("top", "right", "bottom", "left"), art_size=(512, 768)),)
    b2 = (
        Balloon("thought", "Was that the boat?", 0, (m + 40, m + 40, 120, 60), lines=("Was that", "the boat?"),
                font_pt=9, tail=((m + 100, m + 100), (m + 120, m + 140)), character="BEN", shot_index=3,
                line_index=0),
        Balloon("radio", "Mail boat to harbour, over.", 0, (m + 200, m + 200, 120, 48),
                lines=("Mail boat to", "harbour, over."), font_pt=9, tail=((m + 260, m + 248), (tw - m, m + 300)),
                character="BEN", shot_index=3, line_index=1),
        Balloon("speech", "A very long line that cannot fit anywhere at seven points in this tiny balloon.", 0,
                (m + 40, th - m - 80, 80, 40), lines=("A very long line", "that cannot fit"), font_pt=7,
                overflow=True, character="MARA", shot_index=3, line_index=2),
    )
    return Book(fmt, (Page(1, "wide-over-two", p1, b1), Page(2, "splash", p2, b2)), title="The Mail Boat")


def art_for(book: Book, folder: Path) -> dict[int, Path]:
    colours = [(30, 60, 120), (120, 40, 40), (40, 110, 60), (90, 90, 30)]
    out = {}
    for page in book.pages:
        for panel in page.panels:
            out[panel.shot_index] = art(folder / f"shot{panel.shot_index}.jpg", panel.art_size,
                                        colours[panel.shot_index % 4])
    return out


def simple_render(book: Book, ppi: float = 100):
    """A stand-in raster page (the exports only need a picture of the page's size)."""
    def render(page: Page) -> Image.Image:
        w, h = (round(v * ppi / 72) for v in book.format.trim)
        im = Image.new("RGB", (w, h), "white")
        d = ImageDraw.Draw(im)
        for p in page.panels:
            x, y, pw, ph = (v * ppi / 72 for v in p.box)
            d.rectangle((x, y, x + pw, y + ph), fill=(60 + 40 * p.shot_index, 90, 140), outline="black")
        return im
    return render
