"""The motion comic's camera: a pure function from the page model and the timeline to a path through the pages.

The path is a list of segments in time order. Within a page the camera frames one panel at a time at the
video's aspect, with a little of its neighbours (as Guided View does), eases to the next panel in reading order
at the start of that panel's shot (arriving before its first line is spoken), then holds with a slow push-in —
or, where framing the whole panel would show mostly other panels (a wide panel in 9:16, a tall one in 16:9),
pans along it in reading direction. A new page slides in (the page turn). The first moments show the whole
page; so do the last. A shot without a panel (a title card), or a close-up (`[[close up]]`: a talking head
filling the frame for its line), is an `off` segment: the renderer shows it full frame. After a close-up the
camera eases on from the panel it left, as after a cutaway. Boxes are (x, y, w, h) in page points from the trimmed page's top-left, like the page model's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from backend.pages.model import Book, Box
from backend.scenes.model import Timeline

MOVE_S = 0.45           # easing from one panel to the next
TURN_S = 0.4            # the page turn
OUTRO_S = 0.6           # the last moments: back out to the whole page
MARGIN = 0.08           # of the panel's size, around it: a little of the neighbours
PAN_WASTE = 1.8         # pan when the whole panel at the video's aspect would cover this many times its area
PUSH = 0.04             # a held panel's slow push-in (share of the frame)
PAN_REACH = 0.6         # a pan's frame shows at least this share of the panel's long side where it can …
PAN_SIDE = 1.6          # … spanning up to this many times its short side (else the close-up is extreme)


@dataclass(frozen=True)
class Segment:
    kind: Literal["move", "turn", "off"]
    start_s: float
    end_s: float
    page: int | None = None         # index into book.pages (the page turned to, for a turn)
    box0: Box | None = None         # at start_s
    box1: Box | None = None         # at end_s
    from_page: int | None = None    # a turn: the page leaving
    shot_index: int | None = None   # the shot this segment belongs to


@dataclass(frozen=True)
class View:
    page: int | None                # None: a full-frame shot (no page)
    box: Box | None
    turn: float | None = None       # 0..1 through a page turn
    from_page: int | None = None
    from_box: Box | None = None
    shot_index: int | None = None


def ease(p: float) -> float:
    p = min(1.0, max(0.0, p))
    return 0.5 - 0.5 * math.cos(math.pi * p)


def _lerp(a: Box, b: Box, p: float) -> Box:
    return tuple(x + (y - x) * p for x, y in zip(a, b))


def _clamp(box: Box, page_w: float, page_h: float) -> Box:
    """Moved (not resized) to lie inside the page; centred on the page in a dimension it is larger than."""
    x, y, w, h = box
    x = (page_w - w) / 2 if w >= page_w else min(max(x, 0.0), page_w - w)
    y = (page_h - h) / 2 if h >= page_h else min(max(y, 0.0), page_h - h)
    return x, y, w, h


def whole_page(page_w: float, page_h: float, aspect: float) -> Box:
    """The whole page at the video's aspect; for a frame taller than the page (9:16) the largest one inside
    it, so a vertical video never shows past the page's edges."""
    if aspect < page_w / page_h:
        h = page_h
        w = h * aspect
        return _clamp((0.0, 0.0, w, h), page_w, page_h)
    w = page_h * aspect
    return (page_w - w) / 2, 0.0, w, page_h


def panel_frames(panel: Box, page_w: float, page_h: float, aspect: float, rtl: bool = False) -> tuple[Box, Box]:
    """(first, last) camera box for a panel: the same box when the panel fits the frame, or the two ends of
    a pan along a panel much wider or taller than the frame."""
    px, py, pw, ph = panel
    # the panel's part on the page (bleed is cut off at the trim)
    x0, y0 = max(px, 0.0), max(py, 0.0)
    x1, y1 = min(px + pw, page_w), min(py + ph, page_h)
    pw, ph, px, py = x1 - x0, y1 - y0, x0, y0
    mw, mh = pw * (1 + 2 * MARGIN), ph * (1 + 2 * MARGIN)
    cw, ch = (mw, mw / aspect) if mw / mh > aspect else (mh * aspect, mh)
    cx, cy = px + pw / 2, py + ph / 2
    fits = cw <= page_w and ch <= page_h
    if fits and cw * ch <= PAN_WASTE * mw * mh:
        box = _clamp((cx - cw / 2, cy - ch / 2, cw, ch), page_w, page_h)
        return box, box
    # pan: the frame covers the panel's short side (and some of its neighbours, for a less extreme close-up)
    # and travels along its long one
    if pw / ph > aspect:        # wide: left to right (right to left for manga)
        h = min(mh if mh * aspect >= PAN_REACH * mw else min(PAN_REACH * mw / aspect, mh * PAN_SIDE),
                page_h, page_w / aspect)
        w = h * aspect
        a = _clamp((px - pw * MARGIN, cy - h / 2, w, h), page_w, page_h)
        b = _clamp((px + pw * (1 + MARGIN) - w, cy - h / 2, w, h), page_w, page_h)
        return (b, a) if rtl else (a, b)
    w = min(mw if mw / aspect >= PAN_REACH * mh else min(PAN_REACH * mh * aspect, mw * PAN_SIDE),
            page_w, page_h * aspect)      # tall: top to bottom
    h = w / aspect
    a = _clamp((cx - w / 2, py - ph * MARGIN, w, h), page_w, page_h)
    b = _clamp((cx - w / 2, py + ph * (1 + MARGIN) - h, w, h), page_w, page_h)
    return a, b


def _pushed(box: Box, amount: float) -> Box:
    x, y, w, h = box
    return x + w * amount / 2, y + h * amount / 2, w * (1 - amount), h * (1 - amount)


def camera_path(book: Book, timeline: Timeline, aspect: float, close_ups: frozenset[int] = frozenset()
                ) -> list[Segment]:
    """The camera's segments, covering the timeline from 0 to its end. `aspect` is the video's width/height;
    `close_ups`: the shots (indices) shown full frame although they have a panel."""
    page_w, page_h = book.format.trim
    where: dict[int, tuple[int, int]] = {}
    for pi, page in enumerate(book.pages):
        for ni, panel in enumerate(page.panels):
            where.setdefault(panel.shot_index, (pi, ni))
    first_line = {}
    for ln in timeline.lines:
        first_line.setdefault(ln.shot_index, ln.start_s)
    balloons = {(b.shot_index, b.line_index): b.box for page in book.pages for b in page.balloons
                if b.line_index is not None}
    segs: list[Segment] = []
    cur_page: int | None = None
    cur_box: Box | None = None
    for ts in timeline.shots:
        s0, s1 = ts.start_s, ts.end_s
        if ts.index in close_ups:       # a cutaway: the page stays where it was
            segs.append(Segment("off", s0, s1, shot_index=ts.index))
            continue
        if ts.index not in where:
            segs.append(Segment("off", s0, s1, shot_index=ts.index))
            cur_page = cur_box = None
            continue
        pi, ni = where[ts.index]
        panel = book.pages[pi].panels[ni]
        start, end = panel_frames(panel.box, page_w, page_h, aspect, book.format.rtl)
        panned = start != end
        if not panned:
            end = _pushed(start, PUSH)
        # the camera arrives before the shot's first line is spoken
        room = (first_line.get(ts.index, s1) - s0) * 0.9
        t = s0
        if cur_page is None:
            move = min(MOVE_S, room)
            segs.append(Segment("move", s0, s0 + move, pi, whole_page(page_w, page_h, aspect), start,
                                shot_index=ts.index))
            t = s0 + move
        elif cur_page != pi:
            turn = min(TURN_S, room)
            segs.append(Segment("turn", s0, s0 + turn, pi, cur_box, start, from_page=cur_page, shot_index=ts.index))
            t = s0 + turn
        else:
            move = min(MOVE_S, room)
            segs.append(Segment("move", s0, s0 + move, pi, cur_box, start, shot_index=ts.index))
            t = s0 + move
        cues = [(ln.start_s, ln.end_s, balloons[(ts.index, ln.line_index)]) for ln in timeline.lines
                if ln.shot_index == ts.index and (ts.index, ln.line_index) in balloons]
        if not panned or not cues:
            segs.append(Segment("move", t, s1, pi, start, end, shot_index=ts.index))
            cur_page, cur_box = pi, end
        else:
            follow = _follow(start, end, cues, t, s1, pi, ts.index)
            segs.extend(follow)
            cur_page, cur_box = pi, follow[-1].box1
    # the last moments: out to the whole page, after the last line
    if segs and segs[-1].kind == "move":
        last = segs[-1]
        spoken = max((ln.end_s for ln in timeline.lines), default=0.0)
        t = max(last.start_s, spoken, last.end_s - OUTRO_S)
        if last.end_s - t > 0.2:
            mid = view_at(segs, t)
            segs[-1] = Segment("move", last.start_s, t, last.page, last.box0, mid.box, shot_index=last.shot_index)
            segs.append(Segment("move", t, last.end_s, last.page, mid.box, whole_page(page_w, page_h, aspect),
                                shot_index=last.shot_index))
    return segs


def _follow(start: Box, end: Box, cues, t: float, s1: float, page: int, shot: int) -> list[Segment]:
    """A pan that keeps each line's balloon in view while the line is spoken: it moves (along the pan's axis
    only, as little as it needs) to frame the balloon by the line's start, holds while the line is spoken, and
    goes on to the pan's end after the last line (when there is time)."""
    axis = 1 if start[0] == end[0] else 0
    lo, hi = sorted((start[axis], end[axis]))
    size = start[axis + 2]
    segs, box = [], start

    def put(kind_t0, kind_t1, a, b):
        if kind_t1 > kind_t0 + 1e-6:
            segs.append(Segment("move", kind_t0, kind_t1, page, a, b, shot_index=shot))
    for ls, le, b in cues:
        near, far = b[axis] - 6, b[axis] + b[axis + 2] + 6
        pos = box[axis]
        pos = min(max(pos, far - size), near) if far - near <= size else (near + far - size) / 2
        pos = min(max(pos, lo), hi)
        target = tuple(pos if i == axis else v for i, v in enumerate(box))
        if target != box:
            move_from = max(t, ls - MOVE_S)
            put(t, move_from, box, box)
            put(move_from, max(ls, move_from), box, target)
            t, box = max(ls, move_from), target
        put(t, max(t, le), box, box)
        t = max(t, le)
    put(t, s1, box, end if s1 - t > 0.3 else box)
    return segs or [Segment("move", t, s1, page, start, start, shot_index=shot)]


def view_at(segs: list[Segment], t: float, hint: int = 0) -> View:
    """Where the camera is at time t (`hint`: a segment index to search from, for a forward sweep)."""
    i = min(max(0, hint), len(segs) - 1)
    while i > 0 and segs[i].start_s > t:
        i -= 1
    while i + 1 < len(segs) and segs[i].end_s <= t:
        i += 1
    s = segs[i]
    if s.kind == "off":
        return View(None, None, shot_index=s.shot_index)
    p = ease((t - s.start_s) / (s.end_s - s.start_s)) if s.end_s > s.start_s else 1.0
    if s.kind == "turn":
        return View(s.page, s.box1, turn=p, from_page=s.from_page, from_box=s.box0, shot_index=s.shot_index)
    return View(s.page, _lerp(s.box0, s.box1, p), shot_index=s.shot_index)
