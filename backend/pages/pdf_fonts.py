"""The lettering font, ready to embed in a PDF: Comic Neue (SIL OFL) when installed, DejaVu Sans otherwise.

Debian's `fonts-comic-neue` ships OpenType fonts with CFF (PostScript) outlines. ReportLab embeds only TrueType
outlines (and fpdf2 2.8 writes a name-keyed CFF font into a TrueType font stream, which the PDF spec does not
allow), so the outlines are converted to TrueType quadratics with fontTools' cu2qu at first use, in memory
(~0.1 s a face; the error is at most 1/1000 em, invisible at any print size). Nothing is written to disk.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from backend.pages.fonts import COMIC_NEUE, font_path  # noqa: F401  (one lookup for every renderer)

STYLES = ("regular", "bold", "bold_italic")


@dataclass(frozen=True)
class LetteringFonts:
    family: str                 # "ComicNeue" or "DejaVuSans"
    regular: str                # ReportLab font names, registered
    bold: str
    bolditalic: str


def _to_truetype(otf: Path) -> io.BytesIO:
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(otf))
    if "CFF " not in font:          # already TrueType outlines
        out = io.BytesIO(otf.read_bytes())
        return out
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        # CFF contours run counter-clockwise, TrueType's clockwise: reverse while converting
        glyph_set[name].draw(Cu2QuPen(pen, max_err=font["head"].unitsPerEm / 1000, reverse_direction=True))
        glyphs[name] = pen.glyph()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, g in glyphs.items():
        advance, _ = hmtx.metrics[name]
        hmtx.metrics[name] = (advance, getattr(g, "xMin", 0))
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    font["maxp"] = maxp
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    out.seek(0)
    return out


@lru_cache(maxsize=1)
def lettering_fonts() -> LetteringFonts:
    """Register the lettering faces (the ones lettering measured with) with ReportLab once per process."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    names = {}
    family = "Lettering"
    for style in STYLES:
        path = font_path(style)
        if path is None:
            raise RuntimeError("no lettering font is installed (fonts-comic-neue or fonts-dejavu-core)")
        family = "ComicNeue" if path.parent == COMIC_NEUE else "DejaVuSans"
        name = f"{family}-{style}"
        pdfmetrics.registerFont(TTFont(name, _to_truetype(path)))
        names[style] = name
    return LetteringFonts(family, names["regular"], names["bold"], names["bold_italic"])
