"""The page model: a scene laid out as comic pages — panels in a layout, lettering kept as text.

Everything here is a frozen dataclass with no I/O, like the scene model, so layout and lettering are pure
functions of numbers, and every renderer (raster pages, the PDF, the EPUB, the webtoon strip, the motion comic)
draws from the same model: the book and the video say the same words in the same places.

Coordinates are PostScript points (1/72 in) from the top-left corner of the *trimmed* page, y downwards.
Bleed lies outside the trim: a panel that bleeds off an edge has a box reaching past 0 or the trim size by
`PageFormat.bleed`. The webtoon format is one strip whose "points" are its pixels (800 wide).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Box = tuple[float, float, float, float]      # x, y, w, h
Point = tuple[float, float]
BalloonKind = Literal["speech", "thought", "whisper", "shout", "radio", "caption", "sfx"]
BALLOON_KINDS: tuple[str, ...] = ("speech", "thought", "whisper", "shout", "radio", "caption", "sfx")
Edge = Literal["top", "right", "bottom", "left"]

INCH = 72.0
MM = 72.0 / 25.4


@dataclass(frozen=True)
class PageFormat:
    name: str                       # the key users and the API name it by: "us_comic"
    label: str                      # for a person: "US comic (6.625 × 10.25 in)"
    trim: tuple[float, float]       # (w, h) in points
    bleed: float                    # each side, points
    safe: float                     # live area inset from the trim, points: lettering stays inside it
    margin: float                   # panels' outer edge inset from the trim (where a panel does not bleed)
    gutter: float                   # between panels
    rtl: bool = False               # manga: panels and balloons read right to left
    strip: bool = False             # webtoon: one long vertical strip, no pages in the book sense

    @property
    def bleed_size(self) -> tuple[float, float]:
        return self.trim[0] + 2 * self.bleed, self.trim[1] + 2 * self.bleed


FORMATS: dict[str, PageFormat] = {f.name: f for f in (
    PageFormat("us_comic", "US comic (6.625 × 10.25 in)", (6.625 * INCH, 10.25 * INCH), 0.125 * INCH,
               0.25 * INCH, 0.375 * INCH, 0.125 * INCH),
    PageFormat("us_trade", "US trade (6 × 9 in)", (6 * INCH, 9 * INCH), 0.125 * INCH, 0.25 * INCH,
               0.375 * INCH, 0.125 * INCH),
    PageFormat("manga_b6", "Manga B6, right to left (128 × 182 mm)", (128 * MM, 182 * MM), 3 * MM, 5 * MM,
               8 * MM, 3 * MM, rtl=True),
    PageFormat("a4", "A4 (210 × 297 mm)", (210 * MM, 297 * MM), 3 * MM, 6 * MM, 10 * MM, 4 * MM),
    PageFormat("webtoon", "Webtoon strip (800 px wide)", (800.0, 1280.0), 0.0, 40.0, 40.0, 60.0, strip=True),
)}


@dataclass(frozen=True)
class Panel:
    shot_index: int                 # Shot.index of the scene: every panel shot is in exactly one panel
    box: Box                        # the panel's frame on the page (may reach into the bleed)
    bleed: tuple[Edge, ...] = ()    # the page edges it bleeds off
    art_size: tuple[int, int] = (512, 512)  # (w, h) px the panel's image is made at: its aspect, SD 1.5-friendly
    faces: tuple[Box, ...] = ()     # faces found in the panel's art, in page points (filled once art exists)
    keep_clear: tuple[Box, ...] = ()  # other art lettering leaves visible (a preview's PREVIEW bar), page points


@dataclass(frozen=True)
class Balloon:
    kind: BalloonKind
    text: str                       # as the script wrote it; emphasis markers (*…*, **…**) kept
    panel: int                      # index into Page.panels
    box: Box                        # the balloon's body (a caption's box, an sfx's extent), page points
    lines: tuple[str, ...] = ()     # the text broken into lines as lettered (markers kept), top to bottom
    font_pt: float = 9.0
    tail: tuple[Point, ...] | None = None   # from the balloon's edge to the tip; None: no tail
    target_face: int | None = None  # index into the panel's faces the tail points at
    character: str | None = None    # the speaker (cast spelling); None for captions and sfx
    shot_index: int | None = None   # the shot whose line this is
    line_index: int | None = None   # index into that shot's lines; None for captions and sfx
    placement: int = 0              # which candidate position was chosen (0: the automatic best)
    choices: int = 1                # how many candidate positions the editor can pick from
    overflow: bool = False          # the text does not fit at the smallest readable size: shown, and noted


@dataclass(frozen=True)
class ArtFaces:
    """The faces the face detector found in a shot's art, in that image's pixels (what the caller knows before
    the art is cropped to its panel; lettering maps them onto the page through the same crop)."""
    size: tuple[int, int]           # the art image's (w, h) px
    boxes: tuple[Box, ...] = ()     # (x, y, w, h) px
    keep_clear: tuple[Box, ...] = ()  # (x, y, w, h) px of what no balloon may cover (keep_clear.py)


@dataclass(frozen=True)
class Page:
    number: int                     # 1-based
    template: str                   # the layout template's name ("2-rows", "splash", …)
    panels: tuple[Panel, ...]       # in reading order
    balloons: tuple[Balloon, ...] = ()   # in reading order


@dataclass(frozen=True)
class Book:
    format: PageFormat
    pages: tuple[Page, ...]
    title: str | None = None
    warnings: tuple[str, ...] = field(default=())   # for a person: "page 3, panel 2: 148 ppi at print size …"

    @property
    def panel_count(self) -> int:
        return sum(len(p.panels) for p in self.pages)
