"""Lettering: a scene's words on laid-out pages — balloons, captions and sound effects, kept as text.

Pure functions of the model and numbers (font metrics from Pillow are the only outside fact), so a change of
wording re-letters the page and every renderer draws the same balloons.

Rules (Blambot's conventions, docs/pages.md):
- kinds from the line: `(thinks)` → thought, `(V.O.)`/narration → caption, `(whispering)` → whisper,
  `(shouting)` or a line in capitals ending `!` → shout, `(on the radio)`/phone/TV → radio, `(O.S.)` → a tail to
  the panel's edge on the speaker's side;
- balloons in reading order (Z path; right to left for manga), the first highest; inside the panel and off its
  border, within the safe area; never over a face, over another balloon, or across another tail;
- the tail points at the speaker's mouth and stops short (about 60 % of the way, never into the face); the
  speaker's face is the detected face in the region the shot says the character stands in (`Shot.appearances`),
  else faces are matched to speakers left to right in speaking order;
- text is broken into an oval with real font metrics; a balloon that cannot fit its panel at 7 pt (print) is
  marked `overflow` and stays visible, never silently shrunk further.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from backend.pages.fonts import Style
from backend.pages.keep_clear import on_page
from backend.pages.layout import faces_on_page
from backend.pages.model import BALLOON_KINDS, ArtFaces, Balloon, Box, Page, PageFormat, Panel, Point
from backend.pages.text import break_oval, plain
from backend.scenes.model import Line, Scene, Shot

MAX_CHOICES = 4


class LetterError(ValueError):
    """A lettering choice we cannot honour; the message names the field and what exists."""


# ---- sizes ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sizes:
    body: float         # the lettering size
    smallest: float     # below this a balloon overflows instead of shrinking
    sfx: float          # the largest sound effect
    sfx_smallest: float
    pad: float          # a balloon keeps this far from the panel's border and from faces
    gap: float          # between balloons


def sizes(fmt: PageFormat) -> Sizes:
    if fmt.strip:   # webtoon: pixels of an 800-px strip read on a phone (about 2.2 px per CSS px)
        return Sizes(22.0, 17.0, 96.0, 28.0, 12.0, 8.0)
    return Sizes(9.0, 7.0, 40.0, 12.0, 5.0, 3.0)


# ---- kinds ----------------------------------------------------------------------------------------------------

def kind_of(line: Line) -> tuple[str, bool]:
    """(balloon kind, off-panel) from the line's parenthetical, cue extension and text."""
    low = f" {line.parenthetical or ''} {line.extension or ''} ".casefold()
    words = set(low.replace("-", " ").replace("(", " ").replace(")", " ").split())
    off = any(k in low for k in ("o.s.", "o.s ", "o.c.", "off screen", "off panel", "offscreen", "off-panel",
                                 "off-screen")) or "os" in words
    if "v.o" in low or "voice over" in low or "voiceover" in low or "narrat" in low or "vo" in words:
        return "caption", False
    if "think" in low or "thought" in low:
        return "thought", off
    if "whisper" in low or "murmur" in low or "under her breath" in low or "under his breath" in low:
        return "whisper", off
    if any(k in low for k in ("shout", "yell", "scream", "bellow", "roar")):
        return "shout", off
    if any(k in low for k in ("radio", "phone", "intercom", "on tv", "on the tv", "filtered", "speaker",
                              "walkie", "over the comm")):
        return "radio", off
    letters = [c for c in plain(line.text) if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters) and line.text.rstrip().endswith("!"):
        return "shout", off
    return "speech", off


# ---- overrides ------------------------------------------------------------------------------------------------

ITEMS = ("line", "caption", "sfx", "title")


@dataclass(frozen=True)
class BalloonChoice:
    shot: int                       # Shot.index
    item: str = "line"              # line | caption | sfx
    index: int = 0                  # which line (or sound effect) of the shot
    kind: str | None = None         # None: from the script
    text: str | None = None         # None: from the script
    placement: int = 0              # 0: automatic; 1…: the next-best candidate positions
    nudge: tuple[float, float] = (0.0, 0.0)   # points, after placement (kept inside the panel)


@dataclass(frozen=True)
class LetterOverrides:
    balloons: tuple[BalloonChoice, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "LetterOverrides":
        if not data:
            return cls()
        if not isinstance(data, Mapping) or set(data) - {"balloons"}:
            raise LetterError("lettering overrides: expected an object with 'balloons'")
        rows = data.get("balloons") or []
        if not isinstance(rows, list):
            raise LetterError("lettering overrides.balloons: expected a list of objects")
        out = []
        fields = ("shot", "item", "index", "kind", "text", "placement", "nudge")
        for n, row in enumerate(rows):
            where = f"balloons[{n}]"
            if not isinstance(row, Mapping):
                raise LetterError(f"{where}: expected an object with {', '.join(fields)}")
            bad = set(row) - set(fields)
            if bad:
                raise LetterError(f"{where}: unknown field {sorted(bad)[0]!r}; the fields are: {', '.join(fields)}")
            for key in ("shot", "index", "placement"):
                v = row.get(key, 0)
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise LetterError(f"{where}.{key}: expected a whole number ≥ 0, got {v!r}")
            item = row.get("item", "line")
            if item not in ITEMS:
                raise LetterError(f"{where}.item: {item!r} is not one of {', '.join(ITEMS)}")
            kind = row.get("kind")
            if kind is not None and kind not in BALLOON_KINDS:
                raise LetterError(f"{where}.kind: {kind!r} is not a balloon kind; the kinds are: {', '.join(BALLOON_KINDS)}")
            text = row.get("text")
            if text is not None and (not isinstance(text, str) or len(text) > 2000):
                raise LetterError(f"{where}.text: expected text of at most 2000 characters")
            nudge = row.get("nudge", (0, 0))
            if (not isinstance(nudge, (list, tuple)) or len(nudge) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 5000 for v in nudge)):
                raise LetterError(f"{where}.nudge: expected [dx, dy] in points")
            out.append(BalloonChoice(row["shot"] if "shot" in row else 0, item, row.get("index", 0), kind, text,
                                     row.get("placement", 0), (float(nudge[0]), float(nudge[1]))))
        return cls(tuple(out))

    def to_dict(self) -> dict:
        return {"balloons": [{"shot": b.shot, "item": b.item, "index": b.index, "kind": b.kind, "text": b.text,
                              "placement": b.placement, "nudge": list(b.nudge)} for b in self.balloons]}


# ---- geometry helpers -----------------------------------------------------------------------------------------

def _inter(a: Box, b: Box) -> Box | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def _grow(b: Box, d: float) -> Box:
    return b[0] - d, b[1] - d, b[2] + 2 * d, b[3] + 2 * d


def _overlaps(a: Box, b: Box) -> bool:
    return _inter(a, b) is not None


def _ccw(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether two segments intersect (touching counts)."""
    d1, d2 = _ccw(q1, q2, p1), _ccw(q1, q2, p2)
    d3, d4 = _ccw(p1, p2, q1), _ccw(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and d1 and d2 and d3 and d4:
        return True

    def on(a, b, c):
        return (min(a[0], b[0]) - 1e-9 <= c[0] <= max(a[0], b[0]) + 1e-9
                and min(a[1], b[1]) - 1e-9 <= c[1] <= max(a[1], b[1]) + 1e-9)
    return ((d1 == 0 and on(q1, q2, p1)) or (d2 == 0 and on(q1, q2, p2))
            or (d3 == 0 and on(p1, p2, q1)) or (d4 == 0 and on(p1, p2, q2)))


def segment_hits_box(p: Point, q: Point, b: Box) -> bool:
    x, y, w, h = b
    if x <= p[0] <= x + w and y <= p[1] <= y + h or x <= q[0] <= x + w and y <= q[1] <= y + h:
        return True
    corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    return any(segments_cross(p, q, corners[i], corners[(i + 1) % 4]) for i in range(4))


def _ellipse_edge(box: Box, toward: Point) -> Point | None:
    """Where the line from the box's ellipse centre toward a point leaves the ellipse (None: the point is inside)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    a, b = box[2] / 2, box[3] / 2
    dx, dy = toward[0] - cx, toward[1] - cy
    k = math.hypot(dx / a, dy / b)
    if k <= 1:
        return None
    return cx + dx / k, cy + dy / k


def _entry(p: Point, q: Point, b: Box) -> float | None:
    """The fraction along p→q where the segment first enters box b (None: it never does)."""
    x, y, w, h = b
    t0, t1 = 0.0, 1.0
    for d, lo, hi, s in ((q[0] - p[0], x, x + w, p[0]), (q[1] - p[1], y, y + h, p[1])):
        if abs(d) < 1e-12:
            if not lo <= s <= hi:
                return None
            continue
        a, c = (lo - s) / d, (hi - s) / d
        a, c = min(a, c), max(a, c)
        t0, t1 = max(t0, a), min(t1, c)
        if t0 > t1:
            return None
    return t0


# ---- who stands where -----------------------------------------------------------------------------------------

REGION_BOXES = {"full": (0, 0, 1, 1), "left": (0, 0, 0.5, 1), "right": (0.5, 0, 0.5, 1),
                "center": (0.25, 0, 0.5, 1), "top": (0, 0, 1, 0.5), "bottom": (0, 0.5, 1, 0.5)}


def _region_box(panel: Panel, region) -> Box:
    fx, fy, fw, fh = REGION_BOXES.get(region, (0, 0, 1, 1)) if isinstance(region, str) else region
    x, y, w, h = panel.box
    return x + fx * w, y + fy * h, fw * w, fh * h


def speaker_faces(shot: Shot, panel: Panel, speakers: Sequence[str], rtl: bool = False) -> dict[str, int]:
    """Which face in the panel is each speaker's: the face inside the region the shot puts them in, else the
    remaining faces matched left to right (right to left for manga) with the speakers in speaking order."""
    faces = panel.faces
    if not faces:
        return {}
    if shot.kind == "talking_head" and shot.character:
        return {shot.character: max(range(len(faces)), key=lambda i: faces[i][2] * faces[i][3])}
    out: dict[str, int] = {}
    free = set(range(len(faces)))
    regions = {a.character: a.region for a in shot.appearances}

    def centre(i):
        f = faces[i]
        return f[0] + f[2] / 2, f[1] + f[3] / 2
    for who in speakers:
        region = regions.get(who)
        if region is None or region == "full":
            continue
        r = _region_box(panel, region)
        inside = [i for i in free if r[0] <= centre(i)[0] <= r[0] + r[2] and r[1] <= centre(i)[1] <= r[1] + r[3]]
        if inside:
            rc = (r[0] + r[2] / 2, r[1] + r[3] / 2)
            best = min(inside, key=lambda i: math.dist(centre(i), rc))
            out[who] = best
            free.discard(best)
    rest = [w for w in speakers if w not in out]
    order = sorted(free, key=lambda i: centre(i)[0], reverse=rtl)
    if len(rest) == 1 and len(order) >= 1 and regions.get(rest[0]) in (None, "full") and len(order) == 1:
        out[rest[0]] = order[0]
        return out
    for who, i in zip(rest, order):
        if regions.get(who) in (None, "full"):
            out[who] = i
    return out


def _guess_head(panel: Panel, who: str | None, shot: Shot, speakers: Sequence[str], rtl: bool) -> Point:
    """Where a speaker with no detected face probably is: their region, else a side by speaking order."""
    x, y, w, h = panel.box
    regions = {a.character: a.region for a in shot.appearances}
    region = regions.get(who) if who else None
    if region is not None and region != "full":
        r = _region_box(panel, region)
        return r[0] + r[2] / 2, max(r[1] + r[3] * 0.45, y + h * 0.45)
    n = len(speakers)
    if n <= 1 or who not in speakers:
        return x + w / 2, y + h * 0.55
    k = speakers.index(who)
    frac = 0.25 + 0.5 * k / (n - 1)
    if rtl:
        frac = 1 - frac
    return x + w * frac, y + h * 0.55


# ---- one panel ------------------------------------------------------------------------------------------------

@dataclass
class _Item:
    kind: str
    text: str
    character: str | None
    line_index: int | None
    item: str
    index: int
    off: bool = False
    choice: BalloonChoice | None = None


def _items(shot: Shot, choices: Mapping[tuple[int, str, int], BalloonChoice]) -> list[_Item]:
    items = []
    if shot.kind == "title":    # the card's words, large, as a caption across the splash
        items.append(_Item("caption", shot.description, None, None, "title", 0))
    if shot.caption:
        items.append(_Item("caption", shot.caption, None, None, "caption", 0))
    for n, line in enumerate(shot.lines):
        kind, off = kind_of(line)
        items.append(_Item(kind, line.marked or line.text, line.character, n, "line", n, off))
    for n, sfx in enumerate(shot.sfx):
        items.append(_Item("sfx", sfx, None, None, "sfx", n))
    for it in items:
        c = choices.get((shot.index, it.item, it.index))
        if c is not None:
            it.choice = c
            it.kind = c.kind or it.kind
            it.text = c.text if c.text is not None else it.text
    return items


def _body(kind: str, bw: float, bh: float, size: float) -> tuple[float, float]:
    if kind == "caption":
        return bw + 1.2 * size, bh + 0.9 * size
    if kind == "sfx":
        return bw + 0.3 * size, bh + 0.2 * size
    grow = {"shout": 1.32, "thought": 1.25}.get(kind, 1.16)
    return bw * grow + 1.6 * size, bh * grow + 1.3 * size


def _shapes(it: _Item, inner: Box, sz: Sizes):
    """Shapes the item may take in a panel whose usable area is `inner`, the preferred first: the lettering size
    with an oval block, then other proportions, then smaller sizes down to the smallest readable one.
    Yields (lines, font size, body w, body h, fits)."""
    iw, ih = inner[2], inner[3]
    style: Style = "bold" if it.kind in ("shout", "sfx") else "regular"
    if it.kind == "sfx":
        top, low, step = min(sz.sfx, ih * 0.3, iw * 0.35), sz.sfx_smallest, 4.0
        aspects: tuple[float, ...] = (8.0,)
    elif it.item == "title":
        top, low, step = min(sz.body * 3, ih * 0.12), sz.smallest, 2.0
        aspects = (8.0, 4.0)
    elif it.kind == "caption":
        top, low, step = sz.body, sz.smallest, 1.0
        aspects = (5.0, 2.5, 9.0)
    else:
        top, low, step = sz.body, sz.smallest, 1.0
        aspects = (2.2, 1.3, 3.6)
    grow = 1.0 if it.kind in ("caption", "sfx") else {"shout": 1.32, "thought": 1.25}.get(it.kind, 1.16)
    size = max(top, low)
    while size >= low - 1e-9:
        max_text = max(1.0, (iw * 0.96 - 1.6 * size) / grow)
        for aspect in aspects:
            block = break_oval(it.text, style, size, max_text, aspect)
            w, h = _body(it.kind, block.width, block.height, size)
            fits = block.fits and w <= iw and h <= ih * (0.9 if it.kind != "sfx" else 0.5)
            yield block.lines, size, min(w, iw), min(h, ih), fits
        if size > low and size - step < low:
            size = low
        else:
            size -= step


def _tail(box: Box, kind: str, target: Point | None, face: Box | None, fmt_pad: float,
          off: bool = False) -> tuple[Point, ...] | None:
    if target is None or kind in ("caption", "sfx"):
        return None
    edge = _ellipse_edge(box, target)
    if edge is None:
        return None
    f = 1.0 if off else 0.6     # off panel: the tail runs to the panel's edge
    if face is not None:
        t = _entry(edge, target, _grow(face, fmt_pad * 0.4))
        if t is not None:
            f = min(f, max(0.0, t - 0.02))
    tip = edge[0] + (target[0] - edge[0]) * f, edge[1] + (target[1] - edge[1]) * f
    longest = max(box[2], box[3]) * 1.6   # a tail longer than this reads as a line drawn across the art
    if not off and math.dist(edge, tip) > longest:
        k = longest / math.dist(edge, tip)
        tip = edge[0] + (tip[0] - edge[0]) * k, edge[1] + (tip[1] - edge[1]) * k
    if math.dist(edge, tip) < fmt_pad * 0.8:
        return None     # the balloon sits against its speaker: a tail this short would be a nub
    return (round(edge[0], 2), round(edge[1], 2)), (round(tip[0], 2), round(tip[1], 2))


def _safe(fmt: PageFormat) -> Box:
    w, h = fmt.trim
    return fmt.safe, fmt.safe, w - 2 * fmt.safe, h - 2 * fmt.safe


def _candidates(it: _Item, size: tuple[float, float], inner: Box, fmt: PageFormat, sz: Sizes,
                target: Point | None, face: Box | None, face_no: int | None, faces: Sequence[Box],
                face_boxes: Sequence[Box], placed: Sequence[Box], tails: Sequence[tuple[Point, Point]]) -> list[tuple]:
    """Up to MAX_CHOICES distinct positions for a body of `size`, best first: (hard faults, score, box, tail).
    Hard faults (over a face, over a balloon, across a tail) rule a position out while any other is left."""
    w, h = size
    ix, iy, iw, ih = inner
    cands = []
    nx = 7 if iw > w else 1
    ny = 9 if ih > h else 1
    prev = placed[-1] if placed else None
    for gy in range(ny):
        for gx in range(nx):
            x = ix + (iw - w) * (gx / (nx - 1) if nx > 1 else 0.0)
            y = iy + (ih - h) * (gy / (ny - 1) if ny > 1 else 0.0)
            if fmt.rtl and it.kind == "caption" and it.item != "title":
                x = ix + iw - w - (x - ix)
            box = (x, y, w, h)
            score = 0.0
            hard = 0
            if any(_overlaps(box, f) for f in face_boxes):
                hard += 1
            if any(_overlaps(_grow(box, sz.gap), p) for p in placed):
                hard += 1
            if any(segment_hits_box(a, b, box) for a, b in tails):
                hard += 1
            tgt = target
            if target is not None and target[1] is None:     # off panel: level with the balloon
                tgt = (target[0], y + h * 0.75)
            tail = _tail(box, it.kind, tgt, face, sz.pad, it.off)
            if tail:
                a, b = tail
                if any(segments_cross(a, b, p, q) for p, q in tails):
                    hard += 1
                if any(segment_hits_box(a, b, _grow(p, -0.5)) for p in placed):
                    hard += 1
                if any(segment_hits_box(a, b, f) for k, f in enumerate(faces) if k != face_no):
                    score += 2.0
            cx = x + w / 2
            rel_x = (cx - ix) / iw if not fmt.rtl else (ix + iw - cx) / iw
            rel_y = (y - iy) / max(ih, 1)
            if it.item == "title":
                score += rel_y * 3 + abs(rel_x - 0.5) * 2
            elif it.kind == "caption":
                score += rel_y * 3 + rel_x * 1.0
            elif it.kind == "sfx":
                score += abs((y + h / 2 - iy) / ih - 0.6) + abs(rel_x - 0.5) * 0.5
            elif tgt is not None:
                score += rel_y * 2.0 + abs(cx - tgt[0]) / iw * 1.2
                if target[1] is not None:
                    if y + h > tgt[1]:
                        score += 1.0    # below the speaker's mouth: the tail would point up
                    if tail is None:
                        score += 0.4
            else:
                score += rel_y * 2.0
            if prev is not None and it.kind != "sfx":
                # reading order: below the last balloon, or beside it in the reading direction
                later_x = (x > prev[0] + prev[2] * 0.5) if not fmt.rtl else (x + w < prev[0] + prev[2] * 0.5)
                if not (y >= prev[1] + prev[3] * 0.5 or (y >= prev[1] - 1e-6 and later_x)):
                    score += 4.0
            cands.append((hard, score, box, tail))
    cands.sort(key=lambda c: (c[0], c[1]))
    kept: list[tuple] = []
    spread = 0.15 * min(iw, ih)
    for c in cands:
        if len(kept) >= MAX_CHOICES or (kept and c[0] > kept[0][0]):
            break
        if all(math.dist(c[2][:2], k[2][:2]) > spread for k in kept):
            kept.append(c)
    return kept or cands[:1]


def letter_panel(panel: Panel, panel_no: int, shot: Shot, fmt: PageFormat,
                 choices: Mapping[tuple[int, str, int], BalloonChoice] | None = None) -> list[Balloon]:
    """The balloons of one panel, in reading order (its `faces` are in page points already)."""
    sz = sizes(fmt)
    area = _inter(panel.box, _safe(fmt)) or panel.box
    inner = (area[0] + sz.pad, area[1] + sz.pad, max(1.0, area[2] - 2 * sz.pad), max(1.0, area[3] - 2 * sz.pad))
    items = _items(shot, choices or {})
    speakers: list[str] = []
    for it in items:
        if it.character and not it.off and it.kind != "caption" and it.character not in speakers:
            speakers.append(it.character)
    owner = speaker_faces(shot, panel, speakers, fmt.rtl)
    # faces, and what else must stay visible (a preview's PREVIEW bar), are places no balloon may go
    face_boxes = [_grow(f, sz.pad * 0.6) for f in panel.faces] + [_grow(k, sz.gap) for k in panel.keep_clear]
    placed: list[Box] = []
    tails: list[tuple[Point, Point]] = []
    out: list[Balloon] = []
    ix, iy, iw, ih = inner
    for it in items:
        target: Point | None = None
        face_no: int | None = None
        if it.kind not in ("caption", "sfx"):
            if it.off:
                side_right = _guess_head(panel, it.character, shot, speakers + [it.character], fmt.rtl)[0] > \
                    panel.box[0] + panel.box[2] / 2
                target = (panel.box[0] + panel.box[2] - 0.5 if side_right else panel.box[0] + 0.5, None)
            elif it.character in owner:
                face_no = owner[it.character]
                fx, fy, fw, fh = panel.faces[face_no]
                target = (fx + fw / 2, fy + fh * 0.78)
            else:
                target = _guess_head(panel, it.character, shot, speakers, fmt.rtl)
        face = panel.faces[face_no] if face_no is not None else None
        best = None
        for lines, size, w, h, fits in _shapes(it, inner, sz):
            kept = _candidates(it, (w, h), inner, fmt, sz, target, face, face_no, panel.faces, face_boxes,
                               placed, tails)
            rank = (not fits, kept[0][0] > 0)
            if best is None or rank < best[0]:
                best = (rank, lines, size, w, h, fits, kept)
            if rank == (False, False):
                break
        _, lines, size, w, h, fits, kept = best
        pick = min(it.choice.placement, len(kept) - 1) if it.choice else 0
        hard, _, box, tail = kept[pick]
        if it.choice and it.choice.nudge != (0.0, 0.0):
            dx, dy = it.choice.nudge
            box = (min(max(box[0] + dx, ix), ix + iw - w), min(max(box[1] + dy, iy), iy + ih - h), w, h)
            tgt = target
            if target is not None and target[1] is None:
                tgt = (target[0], box[1] + h * 0.75)
            tail = _tail(box, it.kind, tgt, face, sz.pad, it.off)
        placed.append(box)
        if tail:
            tails.append(tail)
        on_face = any(_overlaps(box, f) for f in face_boxes)
        out.append(Balloon(kind=it.kind, text=it.text, panel=panel_no,
                           box=tuple(round(v, 2) for v in box), lines=tuple(lines), font_pt=size,
                           tail=tail, target_face=face_no if tail else None,
                           character=it.character if it.kind != "sfx" else None, shot_index=shot.index,
                           line_index=it.line_index, placement=pick, choices=len(kept),
                           overflow=not fits or on_face))
    return out


def _choices(overrides: LetterOverrides, scene: Scene) -> dict[tuple[int, str, int], BalloonChoice]:
    by_index = {s.index: s for s in scene.shots}
    out = {}
    for n, c in enumerate(overrides.balloons):
        shot = by_index.get(c.shot)
        if shot is None:
            raise LetterError(f"balloons[{n}].shot: the scene has no shot {c.shot}; shots are 0–{len(scene.shots) - 1}")
        have = {"line": len(shot.lines), "caption": 1 if shot.caption else 0, "sfx": len(shot.sfx),
                "title": 1 if shot.kind == "title" else 0}[c.item]
        if c.index >= have:
            raise LetterError(f"balloons[{n}].index: shot {c.shot} has {have} {c.item}"
                              f"{'s' if have != 1 else ''}" + (f" (0–{have - 1})" if have else ""))
        out[(c.shot, c.item, c.index)] = c
    return out


def letter(pages: Sequence[Page], scene: Scene, fmt: PageFormat, faces: Mapping[int, ArtFaces] | None = None,
           overrides: LetterOverrides | Mapping | None = None) -> tuple[Page, ...]:
    """The pages with their balloons (and each panel's faces in page points, from `faces`: per Shot.index, what
    the face detector found in that shot's art). Panels that already carry faces keep them when `faces` has none."""
    if overrides is None or isinstance(overrides, Mapping):
        overrides = LetterOverrides.from_dict(overrides)
    choices = _choices(overrides, scene)
    by_index = {s.index: s for s in scene.shots}
    out = []
    for page in pages:
        panels, balloons = [], []
        for n, panel in enumerate(page.panels):
            found = (faces or {}).get(panel.shot_index)
            if found is not None:
                panel = replace(panel, faces=faces_on_page(panel, found.size[0], found.size[1], found.boxes),
                                keep_clear=on_page(panel, found.size, found.boxes, found.keep_clear))
            panels.append(panel)
            if panel.shot_index not in by_index:
                raise LetterError(f"page {page.number}, panel {n + 1}: shot {panel.shot_index} is not in the scene "
                                  f"(shots are 0–{len(scene.shots) - 1}); lay the scene out again")
            balloons.extend(letter_panel(panel, n, by_index[panel.shot_index], fmt, choices))
        out.append(replace(page, panels=tuple(panels), balloons=tuple(balloons)))
    return tuple(out)


def overflow_warnings(pages: Sequence[Page]) -> tuple[str, ...]:
    """For a person: each balloon that does not fit its panel at the smallest readable size."""
    out = []
    for page in pages:
        for b in page.balloons:
            if b.overflow:
                who = f"{b.character}'s line" if b.character and b.kind != "caption" else f"the {b.kind}"
                words = plain(b.text)
                out.append(f"page {page.number}, panel {b.panel + 1}: {who} “{words[:40]}{'…' if len(words) > 40 else ''}” "
                           f"does not fit the panel at the smallest readable size (off the faces); shorten it, or "
                           f"give the shot a bigger panel (another template)")
    return tuple(out)
