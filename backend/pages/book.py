"""A scene → a Book (laid out and lettered, with warnings for a person), and the Book as JSON.

The JSON is what the bench, the exports, the motion comic and any other tool read (docs/pages.md): per page its
panels with `box` [x, y, w, h] in points from the trimmed page's top-left, `faces` (same coordinates), and
`balloons`, each with `kind`, `text`, `box`, `tail` (points from the balloon to the tip, or null) and
`target_face` (index into the panel's faces, or null).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from backend.pages.layout import LayoutError, LayoutOverrides, layout, page_format
from backend.pages.lettering import LetterOverrides, letter, overflow_warnings
from backend.pages.model import BALLOON_KINDS, FORMATS, ArtFaces, Balloon, Book, Page, PageFormat, Panel

JSON_VERSION = 1
MAX_PAGES = 500


class BookError(ValueError):
    """Page-model JSON we cannot read; the message names the field."""


@dataclass(frozen=True)
class Overrides:
    """Everything a person changed by hand: page templates and moves (layout), balloons (lettering)."""
    layout: LayoutOverrides = field(default_factory=LayoutOverrides)
    lettering: LetterOverrides = field(default_factory=LetterOverrides)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "Overrides":
        """From one flat object: {"pages": […], "moves": […], "balloons": […]}."""
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise LayoutError("overrides: expected an object with pages, moves and/or balloons")
        unknown = set(data) - {"pages", "moves", "balloons"}
        if unknown:
            raise LayoutError(f"overrides: unknown field {sorted(unknown)[0]!r}; the fields are: pages, moves, balloons")
        lay = {k: data[k] for k in ("pages", "moves") if k in data}
        let = {"balloons": data["balloons"]} if "balloons" in data else None
        return cls(LayoutOverrides.from_dict(lay), LetterOverrides.from_dict(let))

    def to_dict(self) -> dict:
        return {**self.layout.to_dict(), **self.lettering.to_dict()}


def build_book(scene, fmt: PageFormat | str, faces: Mapping[int, ArtFaces] | None = None,
               overrides: Overrides | Mapping | None = None) -> Book:
    """Lay out and letter a scene. `faces`: per Shot.index, what the face detector found in that shot's art.
    Warnings (for a person) name each balloon that does not fit its panel."""
    if isinstance(fmt, str):
        fmt = page_format(fmt)
    if overrides is None or isinstance(overrides, Mapping):
        overrides = Overrides.from_dict(overrides)
    pages = letter(layout(scene, fmt, overrides.layout), scene, fmt, faces, overrides.lettering)
    return Book(format=fmt, pages=pages, title=scene.title or scene.heading, warnings=overflow_warnings(pages))


def art_ppi(panel: Panel, art_px: tuple[int, int] | None = None) -> float:
    """Pixels per inch the panel's art has at print size (its art_size, or the real image's size)."""
    w, h = art_px or panel.art_size
    return min(w / (panel.box[2] / 72.0), h / (panel.box[3] / 72.0))


# ---- JSON -----------------------------------------------------------------------------------------------------

def _r(v: float) -> float:
    return round(float(v), 2)


def _box(b) -> list[float]:
    return [_r(v) for v in b]


def to_json(book: Book) -> dict:
    f = book.format
    return {
        "version": JSON_VERSION,
        "format": f.name,
        "label": f.label,
        "trim": _box(f.trim), "bleed": _r(f.bleed), "safe": _r(f.safe),
        "rtl": f.rtl, "strip": f.strip,
        "title": book.title,
        "warnings": list(book.warnings),
        "pages": [{
            "number": p.number,
            "template": p.template,
            "panels": [{"shot_index": pn.shot_index, "box": _box(pn.box), "bleed": list(pn.bleed),
                        "art_size": list(pn.art_size), "faces": [_box(fc) for fc in pn.faces],
                        "keep_clear": [_box(k) for k in pn.keep_clear]} for pn in p.panels],
            "balloons": [{"kind": b.kind, "text": b.text, "panel": b.panel, "box": _box(b.box), "lines": list(b.lines),
                          "font_pt": _r(b.font_pt), "tail": [_box(pt) for pt in b.tail] if b.tail else None,
                          "target_face": b.target_face, "character": b.character, "shot_index": b.shot_index,
                          "line_index": b.line_index, "placement": b.placement, "choices": b.choices,
                          "overflow": b.overflow} for b in p.balloons],
        } for p in book.pages],
    }


def _num(where: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BookError(f"{where}: expected a number, got {type(v).__name__}")
    return float(v)


def _nums(where: str, v: Any, n: int) -> tuple[float, ...]:
    if not isinstance(v, list) or len(v) != n:
        raise BookError(f"{where}: expected a list of {n} numbers")
    return tuple(_num(f"{where}[{i}]", x) for i, x in enumerate(v))


def _int(where: str, v: Any, optional: bool = False) -> int | None:
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise BookError(f"{where}: expected a whole number")
    return v


def from_json(data: Mapping[str, Any]) -> Book:
    """The Book back from to_json's output (checked: each problem names its field)."""
    if not isinstance(data, Mapping):
        raise BookError("page model: expected an object")
    if data.get("version") != JSON_VERSION:
        raise BookError(f"version: expected {JSON_VERSION}, got {data.get('version')!r}")
    name = data.get("format")
    if name not in FORMATS:
        raise BookError(f"format: {name!r} is not one we have; the formats are: {', '.join(FORMATS)}")
    pages_in = data.get("pages")
    if not isinstance(pages_in, list) or len(pages_in) > MAX_PAGES:
        raise BookError(f"pages: expected a list of at most {MAX_PAGES} pages")
    pages = []
    for i, p in enumerate(pages_in):
        w = f"pages[{i}]"
        if not isinstance(p, Mapping):
            raise BookError(f"{w}: expected an object")
        panels = []
        for j, pn in enumerate(p.get("panels") or []):
            pw = f"{w}.panels[{j}]"
            bleed = tuple(pn.get("bleed") or ())
            if not set(bleed) <= {"top", "right", "bottom", "left"}:
                raise BookError(f"{pw}.bleed: edges are top, right, bottom, left")
            art = _nums(f"{pw}.art_size", pn.get("art_size"), 2)
            panels.append(Panel(shot_index=_int(f"{pw}.shot_index", pn.get("shot_index")),
                                box=_nums(f"{pw}.box", pn.get("box"), 4), bleed=bleed,
                                art_size=(int(art[0]), int(art[1])),
                                faces=tuple(_nums(f"{pw}.faces[{k}]", fc, 4) for k, fc in enumerate(pn.get("faces") or [])),
                                keep_clear=tuple(_nums(f"{pw}.keep_clear[{k}]", b, 4)
                                                 for k, b in enumerate(pn.get("keep_clear") or []))))
        balloons = []
        for j, b in enumerate(p.get("balloons") or []):
            bw = f"{w}.balloons[{j}]"
            if b.get("kind") not in BALLOON_KINDS:
                raise BookError(f"{bw}.kind: {b.get('kind')!r} is not a balloon kind; the kinds are: {', '.join(BALLOON_KINDS)}")
            if not isinstance(b.get("text"), str):
                raise BookError(f"{bw}.text: expected text")
            panel = _int(f"{bw}.panel", b.get("panel"))
            if not 0 <= panel < len(panels):
                raise BookError(f"{bw}.panel: the page has panels 0–{len(panels) - 1}")
            tail = b.get("tail")
            balloons.append(Balloon(
                kind=b["kind"], text=b["text"], panel=panel, box=_nums(f"{bw}.box", b.get("box"), 4),
                lines=tuple(str(s) for s in b.get("lines") or ()), font_pt=_num(f"{bw}.font_pt", b.get("font_pt", 9.0)),
                tail=None if tail is None else tuple(_nums(f"{bw}.tail[{k}]", pt, 2) for k, pt in enumerate(tail)),
                target_face=_int(f"{bw}.target_face", b.get("target_face"), True),
                character=b.get("character"), shot_index=_int(f"{bw}.shot_index", b.get("shot_index"), True),
                line_index=_int(f"{bw}.line_index", b.get("line_index"), True),
                placement=_int(f"{bw}.placement", b.get("placement", 0)), choices=_int(f"{bw}.choices", b.get("choices", 1)),
                overflow=bool(b.get("overflow", False))))
        pages.append(Page(number=_int(f"{w}.number", p.get("number")), template=str(p.get("template", "")),
                          panels=tuple(panels), balloons=tuple(balloons)))
    return Book(format=FORMATS[name], pages=tuple(pages), title=data.get("title"),
                warnings=tuple(str(x) for x in data.get("warnings") or ()))
