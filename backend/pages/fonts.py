"""The lettering fonts: Comic Neue (SIL OFL, Debian's fonts-comic-neue), DejaVu Sans as the fallback.

One place for the lookup, so lettering (which measures), raster pages and the exports (which draw and embed) use
the same faces and so the same line breaks.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import ImageFont

Style = Literal["regular", "bold", "italic", "bold_italic"]
STYLES: tuple[str, ...] = ("regular", "bold", "italic", "bold_italic")

COMIC_NEUE = Path("/usr/share/fonts/opentype/comic-neue")
_COMIC = {"regular": "ComicNeue-Regular.otf", "bold": "ComicNeue-Bold.otf", "italic": "ComicNeue-Italic.otf",
          "bold_italic": "ComicNeue-BoldItalic.otf"}
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_DEJAVU = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "italic": "DejaVuSans-Oblique.ttf",
           "bold_italic": "DejaVuSans-BoldOblique.ttf"}


@lru_cache(maxsize=None)
def font_path(style: Style = "regular") -> Path | None:
    """The font file for a style: Comic Neue where installed, else DejaVu Sans, else None (Pillow's default)."""
    for folder, names in ((COMIC_NEUE, _COMIC), (DEJAVU, _DEJAVU)):
        path = folder / names[style]
        if path.is_file():
            return path
    return None


def family() -> str:
    """The family the lettering is set in, for documents that name it."""
    path = font_path("regular")
    return "Comic Neue" if path and path.parent == COMIC_NEUE else "DejaVu Sans" if path else "default"


@lru_cache(maxsize=256)
def font(style: Style, size: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A Pillow font at `size` (points when measuring the model, pixels when drawing)."""
    path = font_path(style)
    size = max(1.0, round(size * 4) / 4)    # quarter sizes: a bounded cache however the pages scale
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size)
