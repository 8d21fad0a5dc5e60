"""A scene → pages of panels: shots packed into page templates, with gutters, margins, bleed and art sizes.

Pure functions over the model (no I/O), so a test or the bench can lay out a 200-page chapter with numbers.

How shots become panels (docs/pages.md):
- every shot is in exactly one panel, in script order unless the user moves it (`LayoutOverrides.moves`);
- a title card is a splash page of its own, bleeding off every edge;
- a talking head wants a tall panel, a panel whose description reads like a landscape or establishing shot a
  wide one; the template for a page is the one whose cells best fit its shots' wishes;
- a shot with `page_break` starts a new page; otherwise runs of shots are cut into pages of about four panels;
- manga (right to left) mirrors every page, so the reading order (the order of `Page.panels`) runs right to left.

Each panel's `art_size` is decided here, before any image exists, so panel images are made at the panel's aspect
(SD 1.5-friendly: multiples of 64, 512–768 px on the long side). Art made earlier at another aspect is cropped
around its faces by `crop_to`, never stretched.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

from backend.pages.model import FORMATS, Box, Page, PageFormat, Panel
from backend.scenes.model import Scene, Shot

# A template is rows of cells: (row height weight, (cell width weights…)), read top to bottom, left to right.
Rows = tuple[tuple[float, tuple[float, ...]], ...]
TEMPLATES: dict[str, Rows] = {
    "splash": ((1, (1,)),),
    "2-rows": ((1, (1,)), (1, (1,))),
    "2-columns": ((1, (1, 1)),),
    "big-over-wide": ((2, (1,)), (1, (1,))),
    "3-rows": ((1, (1,)), (1, (1,)), (1, (1,))),
    "1-over-2": ((1, (1,)), (1, (1, 1))),
    "2-over-1": ((1, (1, 1)), (1, (1,))),
    "3-columns": ((1, (1, 1, 1)),),
    "grid-4": ((1, (1, 1)), (1, (1, 1))),
    "4-rows": ((1, (1,)), (1, (1,)), (1, (1,)), (1, (1,))),
    "1-over-3": ((1, (1,)), (1, (1, 1, 1))),
    "wide-2-wide": ((1, (1,)), (1.2, (1, 1)), (1, (1,))),
    "2-1-2": ((1, (1, 1)), (1, (1,)), (1, (1, 1))),
    "1-2-2": ((1, (1,)), (1, (1, 1)), (1, (1, 1))),
    "2-2-1": ((1, (1, 1)), (1, (1, 1)), (1, (1,))),
    "grid-6": ((1, (1, 1)), (1, (1, 1)), (1, (1, 1))),
    "2x3-columns": ((1, (1, 1, 1)), (1, (1, 1, 1))),
}
# The webtoon strip scrolls: its "pages" are full-width panels stacked, one or two to a 1280-px screen.
STRIP_TEMPLATES = ("splash", "2-rows", "big-over-wide")
PANELS_PER_PAGE = 4         # the usual page: enough room for balloons, a fast enough read
MAX_PANELS = 6

WIDE_WORDS = re.compile(r"\b(establishing|landscape|skyline|panorama|horizon|harbou?r|city|street|coast|"
                        r"fields?|valley|wide shot|aerial|vista|sea|ocean|desert|mountains?|ext\.)", re.I)
WIDE, TALL, ANY = 1.9, 0.6, None    # the aspect (w/h) a shot wishes for


def template_panels(name: str) -> int:
    return sum(len(cells) for _, cells in TEMPLATES[name])


def templates_for(count: int, fmt: PageFormat | None = None) -> tuple[str, ...]:
    names = STRIP_TEMPLATES if fmt is not None and fmt.strip else tuple(TEMPLATES)
    return tuple(n for n in names if template_panels(n) == count)


def wish(shot: Shot) -> float | None:
    """The aspect a shot's panel wants: tall for a talking head, wide for a landscape, else any."""
    if shot.kind == "talking_head":
        return TALL
    if shot.kind == "panel" and WIDE_WORDS.search(shot.description or ""):
        return WIDE
    return ANY


# ---- overrides: the editor's choices, validated once at the edge --------------------------------------------

class LayoutError(ValueError):
    """A layout choice we cannot honour; the message names the field and what exists."""


@dataclass(frozen=True)
class PageChoice:
    page: int                       # 1-based, in the automatic layout (after moves)
    template: str | None = None     # None: automatic
    bleed: bool = False             # edge panels bleed off the page edges they touch


@dataclass(frozen=True)
class ShotMove:
    shot: int                       # Shot.index (0-based)
    page: int                       # 1-based page of the automatic layout; one past the last makes a new page
    panel: int | None = None        # 1-based position on that page; None: the end


@dataclass(frozen=True)
class LayoutOverrides:
    pages: tuple[PageChoice, ...] = ()
    moves: tuple[ShotMove, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "LayoutOverrides":
        """From JSON (the studio, the API): every field checked, errors naming the field."""
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise LayoutError("overrides: expected an object with 'pages' and/or 'moves'")
        unknown = set(data) - {"pages", "moves"}
        if unknown:
            raise LayoutError(f"overrides: unknown field {sorted(unknown)[0]!r}; the fields are: pages, moves")

        def items(key: str) -> list[Mapping]:
            value = data.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
                raise LayoutError(f"overrides.{key}: expected a list of objects")
            return value

        def integer(where: str, v: Any, low: int = 0) -> int:
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise LayoutError(f"{where}: expected a whole number ≥ {low}, got {v!r}")
            return v

        pages = []
        for n, p in enumerate(items("pages")):
            where = f"overrides.pages[{n}]"
            bad = set(p) - {"page", "template", "bleed"}
            if bad:
                raise LayoutError(f"{where}: unknown field {sorted(bad)[0]!r}; the fields are: page, template, bleed")
            template = p.get("template")
            if template is not None and template not in TEMPLATES:
                raise LayoutError(f"{where}.template: {template!r} is not a template; "
                                  f"the templates are: {', '.join(TEMPLATES)}")
            pages.append(PageChoice(integer(f"{where}.page", p.get("page"), 1), template, bool(p.get("bleed", False))))
        moves = []
        for n, m in enumerate(items("moves")):
            where = f"overrides.moves[{n}]"
            bad = set(m) - {"shot", "page", "panel"}
            if bad:
                raise LayoutError(f"{where}: unknown field {sorted(bad)[0]!r}; the fields are: shot, page, panel")
            panel = m.get("panel")
            moves.append(ShotMove(integer(f"{where}.shot", m.get("shot")), integer(f"{where}.page", m.get("page"), 1),
                                  None if panel is None else integer(f"{where}.panel", panel, 1)))
        return cls(tuple(pages), tuple(moves))

    def to_dict(self) -> dict:
        return {"pages": [{"page": p.page, "template": p.template, "bleed": p.bleed} for p in self.pages],
                "moves": [{"shot": m.shot, "page": m.page, "panel": m.panel} for m in self.moves]}


def page_format(name: str) -> PageFormat:
    """The format by its name, or an error listing the formats we have."""
    try:
        return FORMATS[name]
    except (KeyError, TypeError):
        raise LayoutError(f"page format {name!r} is not one we have; the formats are: {', '.join(FORMATS)}") from None


# ---- geometry -------------------------------------------------------------------------------------------------

def art_size(aspect: float) -> tuple[int, int]:
    """(w, h) px for a panel of this aspect (w/h): multiples of 64, 512–768 on the long side, the closest aspect."""
    flip = aspect < 1
    a = 1 / aspect if flip else aspect
    best = None
    for long in range(768, 511, -64):
        short = max(128, min(long, int(round(long / a / 64)) * 64))
        err = abs(math.log((long / short) / a))
        if best is None or err < best[0] - 1e-9:
            best = (err, long, short)
    _, long, short = best
    return (short, long) if flip else (long, short)


def crop_to(art_w: int, art_h: int, panel_aspect: float, faces: Sequence[Box] = ()) -> tuple[int, int, int, int]:
    """The largest (x, y, w, h) of an art_w × art_h image at the panel's aspect, centred on its faces (or the
    middle when none), kept inside the image: the art is cropped to the panel, never stretched."""
    if art_w * 1.0 / art_h > panel_aspect:
        h = art_h
        w = max(1, min(art_w, int(round(art_h * panel_aspect))))
    else:
        w = art_w
        h = max(1, min(art_h, int(round(art_w / panel_aspect))))
    if faces:
        x0 = min(f[0] for f in faces)
        y0 = min(f[1] for f in faces)
        x1 = max(f[0] + f[2] for f in faces)
        y1 = max(f[1] + f[3] for f in faces)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        cy = min(cy, y0 + h / 3) if y1 - y0 < h else cy   # faces sit in the upper third where they can
    else:
        cx, cy = art_w / 2, art_h / 2
    x = int(round(min(max(cx - w / 2, 0), art_w - w)))
    y = int(round(min(max(cy - h / 2, 0), art_h - h)))
    return x, y, w, h


def faces_on_page(panel: Panel, art_w: int, art_h: int, faces_px: Sequence[Box]) -> tuple[Box, ...]:
    """Faces found in a panel's art (image pixels) → page points, through the same crop the raster page uses."""
    cx, cy, cw, ch = crop_to(art_w, art_h, panel.box[2] / panel.box[3], faces_px)
    bx, by, bw, bh = panel.box
    sx, sy = bw / cw, bh / ch
    out = []
    for fx, fy, fw, fh in faces_px:
        x0, y0 = max(fx, cx), max(fy, cy)
        x1, y1 = min(fx + fw, cx + cw), min(fy + fh, cy + ch)
        if x1 - x0 > fw / 3 and y1 - y0 > fh / 3:   # a face mostly cropped away is not in the panel
            out.append((bx + (x0 - cx) * sx, by + (y0 - cy) * sy, (x1 - x0) * sx, (y1 - y0) * sy))
    return tuple(out)


def _cells(rows: Rows, area: Box, gutter: float) -> list[Box]:
    x0, y0, w, h = area
    total = sum(r for r, _ in rows)
    free_h = h - gutter * (len(rows) - 1)
    out, y = [], y0
    for weight, cells in rows:
        rh = free_h * weight / total
        free_w = w - gutter * (len(cells) - 1)
        x = x0
        for cw in cells:
            ww = free_w * cw / sum(cells)
            out.append((x, y, ww, rh))
            x += ww + gutter
        y += rh + gutter
    return out


def _area(fmt: PageFormat) -> Box:
    w, h = fmt.trim
    m = fmt.margin
    return m, m, w - 2 * m, h - 2 * m


def _fit_cost(template: str, shots: Sequence[Shot], fmt: PageFormat) -> float:
    cost = 0.0
    for cell, shot in zip(_cells(TEMPLATES[template], _area(fmt), fmt.gutter), shots):
        aspect = cell[2] / cell[3]
        want = wish(shot)
        if want is None:   # any shape, but not a sliver
            cost += max(0.0, abs(math.log(aspect)) - math.log(1.8))
        else:
            cost += abs(math.log(aspect / want))
        # lines need room for balloons: a panel with much to say wants area
        talk = sum(len(line.text) for line in shot.lines) + len(shot.caption or "")
        share = cell[2] * cell[3] / (fmt.trim[0] * fmt.trim[1])
        cost += talk / 200 * max(0.0, 0.2 - share)
    return cost


def choose_template(shots: Sequence[Shot], fmt: PageFormat) -> str:
    """The template whose cells best fit these shots' wishes (ties: the first listed, the plainest)."""
    names = templates_for(len(shots), fmt)
    if not names:
        raise LayoutError(f"a page holds 1 to {MAX_PANELS if not fmt.strip else 2} panels, not {len(shots)}")
    if len(shots) == 1:
        return "splash"
    return min(names, key=lambda n: (round(_fit_cost(n, shots, fmt), 6), names.index(n)))


def _paginate(scene: Scene, fmt: PageFormat) -> list[list[Shot]]:
    """Runs of shots between forced breaks (page_break, title cards) cut into pages of about four panels."""
    per_page = 2 if fmt.strip else PANELS_PER_PAGE
    most = 2 if fmt.strip else MAX_PANELS
    runs: list[list[Shot]] = []
    for shot in scene.shots:
        if shot.kind == "title":
            runs.append([shot])
            runs.append([])
            continue
        if shot.page_break or not runs:
            runs.append([])
        runs[-1].append(shot)
    pages: list[list[Shot]] = []
    for run in runs:
        if not run:
            continue
        count = max(1, math.ceil(len(run) / per_page))
        while math.ceil(len(run) / count) > most:
            count += 1
        base, extra = divmod(len(run), count)
        at = 0
        for n in range(count):
            size = base + (1 if n < extra else 0)
            pages.append(run[at:at + size])
            at += size
    return pages


def _apply_moves(pages: list[list[Shot]], moves: Iterable[ShotMove], scene: Scene, most: int) -> list[list[Shot]]:
    pages = [list(p) for p in pages]
    by_index = {s.index: s for s in scene.shots}
    for n, move in enumerate(moves):
        where = f"overrides.moves[{n}]"
        if move.shot not in by_index:
            raise LayoutError(f"{where}.shot: the scene has no shot {move.shot}; shots are 0–{len(scene.shots) - 1}")
        if move.page > len(pages) + 1:
            raise LayoutError(f"{where}.page: {move.page} is past the end; pages are 1–{len(pages)} "
                              f"(or {len(pages) + 1} for a new page)")
        shot = by_index[move.shot]
        for p in pages:
            if shot in p:
                p.remove(shot)
        if move.page == len(pages) + 1:
            pages.append([])
        target = pages[move.page - 1]
        if len(target) >= most:
            raise LayoutError(f"{where}.page: page {move.page} already holds {len(target)} panels, the most a page takes")
        pos = len(target) if move.panel is None else min(move.panel - 1, len(target))
        target.insert(pos, shot)
    return [p for p in pages if p]


def _mirror(box: Box, page_w: float) -> Box:
    x, y, w, h = box
    return page_w - x - w, y, w, h


def _bleed(box: Box, fmt: PageFormat, edges: Iterable[str]) -> Box:
    x, y, w, h = box
    W, H = fmt.trim
    b = fmt.bleed
    x1, y1 = x + w, y + h
    if "left" in edges:
        x = -b
    if "top" in edges:
        y = -b
    if "right" in edges:
        x1 = W + b
    if "bottom" in edges:
        y1 = H + b
    return x, y, x1 - x, y1 - y


def _touching(box: Box, area: Box) -> tuple[str, ...]:
    x, y, w, h = box
    ax, ay, aw, ah = area
    eps = 0.01
    edges = []
    if abs(y - ay) < eps:
        edges.append("top")
    if abs(x + w - (ax + aw)) < eps:
        edges.append("right")
    if abs(y + h - (ay + ah)) < eps:
        edges.append("bottom")
    if abs(x - ax) < eps:
        edges.append("left")
    return tuple(edges)


def page_of(number: int, template: str, shots: Sequence[Shot], fmt: PageFormat, bleed: bool = False) -> Page:
    """One page: the template's cells filled with these shots, in reading order."""
    area = _area(fmt)
    cells = _cells(TEMPLATES[template], area, fmt.gutter)
    panels = []
    bleeds_all = template == "splash" and len(shots) == 1 and shots[0].kind == "title"
    for cell, shot in zip(cells, shots):
        edges: tuple[str, ...] = ()
        if fmt.bleed > 0 and (bleed or bleeds_all):
            edges = _touching(cell, area)
        box = _bleed(cell, fmt, edges) if edges else cell
        if fmt.rtl:
            box = _mirror(box, fmt.trim[0])
            edges = tuple({"left": "right", "right": "left"}.get(e, e) for e in edges)
        w, h = box[2], box[3]
        panels.append(Panel(shot_index=shot.index, box=tuple(round(v, 3) for v in box),
                            bleed=tuple(e for e in ("top", "right", "bottom", "left") if e in edges),
                            art_size=art_size(w / h)))
    return Page(number=number, template=template, panels=tuple(panels))


def layout(scene: Scene, fmt: PageFormat | str, overrides: LayoutOverrides | Mapping | None = None) -> tuple[Page, ...]:
    """The scene's shots as pages of panels (no lettering yet: see lettering.letter)."""
    if isinstance(fmt, str):
        fmt = page_format(fmt)
    if overrides is None or isinstance(overrides, Mapping):
        overrides = LayoutOverrides.from_dict(overrides)
    most = 2 if fmt.strip else MAX_PANELS
    groups = _apply_moves(_paginate(scene, fmt), overrides.moves, scene, most)
    choices: dict[int, PageChoice] = {}
    for n, choice in enumerate(overrides.pages):
        if choice.page > len(groups):
            raise LayoutError(f"overrides.pages[{n}].page: {choice.page} is past the end; pages are 1–{len(groups)}")
        choices[choice.page] = choice
    pages = []
    for number, shots in enumerate(groups, start=1):
        choice = choices.get(number)
        template = choice.template if choice and choice.template else None
        if template is not None and template_panels(template) != len(shots):
            fits = ", ".join(templates_for(len(shots), fmt)) or "none"
            n = next(i for i, c in enumerate(overrides.pages) if c.page == number)
            raise LayoutError(f"overrides.pages[{n}].template: {template!r} holds {template_panels(template)} panels "
                              f"but page {number} has {len(shots)}; templates for {len(shots)}: {fits}")
        if template is not None and fmt.strip and template not in STRIP_TEMPLATES:
            n = next(i for i, c in enumerate(overrides.pages) if c.page == number)
            raise LayoutError(f"overrides.pages[{n}].template: the {fmt.name} strip takes "
                              f"{', '.join(STRIP_TEMPLATES)}")
        pages.append(page_of(number, template or choose_template(shots, fmt), shots, fmt,
                             bleed=bool(choice and choice.bleed)))
    return tuple(pages)


def with_panels(page: Page, panels: Sequence[Panel]) -> Page:
    return replace(page, panels=tuple(panels))
