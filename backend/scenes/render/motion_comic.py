"""Motion comic mode: the video shows the page. The camera (`camera.camera_path`) moves through the panels;
a panel's animated clip or talking head plays inside its frame while its shot is on; each balloon appears
(a fade of POP_S) when its line's speech starts, captions and sound effects when the camera arrives. A
close-up (`[[close up]]`) cuts away from the page to its talking head full frame, its line written under it.

The page is a picture without lettering (`book.page_picture`) kept as one RGB array per page on screen (the
page shown, and during a turn the one leaving: memory stays flat with the scene's length); a change — a
balloon fading in, a clip's new frame — is redrawn into that array in its region only. Each frame is then one
swscale call: the camera's crop of the array, scaled and converted to yuv420p together. A shot without a panel
(the opening title card) is shown full frame, as in full-frame mode.
"""
from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np

from backend.pages.model import Book
from backend.scenes.model import RenderSettings, Timeline
from backend.scenes.render.book import balloon_picture, page_picture
from backend.scenes.render.camera import camera_path, view_at
from backend.scenes.render.clips import VideoClip
from backend.scenes.render.compose import SWS_THREADS, Yuv, paste, planes
from backend.scenes.render.encode import Encoder, FrameOut
from backend.scenes.render.errors import RenderError
from backend.scenes.render.fullframe import BurnIn, make_source
from backend.scenes.render.media import Prepared, Progress, reason

POP_S = 0.12            # a balloon's fade-in (≤ 150 ms)
POP_FIRST = 0.4         # its opacity on the first frame: it shows on the frame its line starts
MAX_PAGE_PX = 2400      # a page picture's long side at most: SD art gains nothing from more
DESK = (24, 24, 28)     # around the page, where a whole-page view is wider than the page


class RgbClip(VideoClip):
    """A clip's frames as RGB arrays cropped to fill w×h (a panel's frame on the page picture)."""

    def _convert(self, f: av.VideoFrame) -> np.ndarray:
        s = max(self.w / f.width, self.h / f.height)
        cw, ch = max(self.w, math.ceil(f.width * s)), max(self.h, math.ceil(f.height * s))
        a = f.reformat(width=cw, height=ch, format="rgb24", interpolation="BILINEAR",
                       threads=SWS_THREADS).to_ndarray()
        x0, y0 = (cw - self.w) // 2, (ch - self.h) // 2
        return a[y0:y0 + self.h, x0:x0 + self.w]


class PageCanvas:
    """One page on screen: its picture, the balloons shown so far and the clips playing in their panels."""

    def __init__(self, pi: int, book: Book, art: dict[int, Path], scale: float, appear: dict[tuple, float],
                 faces: dict | None = None):
        page = book.pages[pi]
        self.scale = scale
        self.base = np.asarray(page_picture(page, book, art, scale, faces).convert("RGB")).copy()
        self.img = self.base.copy()
        self.hh, self.ww = self.img.shape[:2]
        self.balloons = []        # (appear time, rgb float, alpha float, (y0, y1, x0, x1)), reading order
        for b in page.balloons:
            at = appear.get((b.shot_index, b.line_index)) if b.line_index is not None else appear.get(
                (b.shot_index, None))
            if at is None:
                continue
            pic, (ox, oy) = balloon_picture(b, scale)
            arr = np.asarray(pic, dtype=np.float32)
            region = self._clip((oy, oy + arr.shape[0], ox, ox + arr.shape[1]))
            if region is None:
                continue
            y0, y1, x0, x1 = region
            arr = arr[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
            self.balloons.append([at, arr[..., :3], arr[..., 3:] / 255.0, region, 0.0])
        self.panels = {p.shot_index: self._clip(tuple(round(v * scale) for v in (
            p.box[1], p.box[1] + p.box[3], p.box[0], p.box[0] + p.box[2]))) for p in page.panels}
        self.playing: dict[int, np.ndarray] = {}   # a panel's clip frame shown in it (the last one stays)

    def _clip(self, r):
        y0, y1, x0, x1 = max(0, r[0]), min(self.hh, r[1]), max(0, r[2]), min(self.ww, r[3])
        return (y0, y1, x0, x1) if y1 > y0 and x1 > x0 else None

    def _redraw(self, region):
        y0, y1, x0, x1 = region
        self.img[y0:y1, x0:x1] = self.base[y0:y1, x0:x1]
        for si, frame in self.playing.items():
            p = self.panels.get(si)
            if p is None:
                continue
            a, b, c, d = max(y0, p[0]), min(y1, p[1]), max(x0, p[2]), min(x1, p[3])
            if b > a and d > c:
                self.img[a:b, c:d] = frame[a - p[0]:b - p[0], c - p[2]:d - p[2]]
        for _, rgb, alpha, (by0, by1, bx0, bx1), shown in self.balloons:
            a, b, c, d = max(y0, by0), min(y1, by1), max(x0, bx0), min(x1, bx1)
            if shown <= 0 or b <= a or d <= c:
                continue
            m = alpha[a - by0:b - by0, c - bx0:d - bx0] * shown
            under = self.img[a:b, c:d].astype(np.float32)
            self.img[a:b, c:d] = (under + (rgb[a - by0:b - by0, c - bx0:d - bx0] - under) * m).astype(np.uint8)

    def update(self, t: float, frames: dict[int, np.ndarray]) -> bool:
        """Bring the picture to time t (`frames`: new clip frames by shot index). True if anything changed."""
        dirty = []
        for si, frame in frames.items():
            if self.panels.get(si) is not None and self.playing.get(si) is not frame:
                self.playing[si] = frame
                dirty.append(self.panels[si])
        for b in self.balloons:
            shown = 0.0 if t < b[0] else min(1.0, POP_FIRST + (1 - POP_FIRST) * (t - b[0]) / POP_S)
            if shown != b[4]:
                b[4] = shown
                dirty.append(b[3])
        for region in dirty:
            self._redraw(region)
        return bool(dirty)

    def view(self, box, w: int, h: int) -> Yuv:
        """The camera's box (page points) as a w×h frame; past the page's edge is the desk."""
        s = self.scale
        bx0, by0, bx1, by1 = box[0] * s, box[1] * s, (box[0] + box[2]) * s, (box[1] + box[3]) * s
        xa, ya = max(0, round(bx0)), max(0, round(by0))
        xb, yb = min(self.ww, max(xa + 2, round(bx1))), min(self.hh, max(ya + 2, round(by1)))
        if (xa, ya, xb, yb) == (round(bx0), round(by0), round(bx1), round(by1)):
            return _scaled(self.img[ya:yb, xa:xb], w, h)
        # a whole-page view wider than the page: the page scaled into its place on a plain desk
        fx, fy = w / (bx1 - bx0), h / (by1 - by0)
        ox, oy = round((xa - bx0) * fx) // 2 * 2, round((ya - by0) * fy) // 2 * 2
        pw, ph = min(w - ox, round((xb - xa) * fx)) // 2 * 2, min(h - oy, round((yb - ya) * fy)) // 2 * 2
        return paste(_desk(w, h), _scaled(self.img[ya:yb, xa:xb], max(2, pw), max(2, ph)), (ox, oy))


def _scaled(arr: np.ndarray, w: int, h: int) -> Yuv:
    view = av.VideoFrame.from_numpy_buffer(np.ascontiguousarray(arr), format="rgb24")
    return planes(view.reformat(width=w, height=h, format="yuv420p", interpolation="BILINEAR",
                                threads=SWS_THREADS))


_DESKS: dict = {}


def _desk(w: int, h: int) -> Yuv:
    if (w, h) not in _DESKS:
        _DESKS.clear()
        _DESKS[(w, h)] = _scaled(np.full((h, w, 3), DESK, np.uint8), w, h)
    return _DESKS[(w, h)]


def _turned(old: Yuv, new: Yuv, p: float, w: int, h: int, vertical: bool = False) -> Yuv:
    """A page turn `p` of the way through: the old page's right part at the left and the new page's left part
    coming in at the right — or, for a webtoon strip, scrolled: the old one leaving at the top, the new one
    rising from the bottom."""
    def part(img: Yuv, box) -> Yuv:
        return Yuv(*(pl.crop(tuple(v // (1 if i == 0 else 2) for v in box)) for i, pl in enumerate(img)))
    if vertical:
        cut = min(h - 2, max(2, round(p * h) // 2 * 2))
        return paste(paste(_desk(w, h), part(old, (0, cut, w, h)), (0, 0)), part(new, (0, 0, w, cut)), (0, h - cut))
    cut = min(w - 2, max(2, round(p * w) // 2 * 2))
    return paste(paste(_desk(w, h), part(old, (cut, 0, w, h)), (0, 0)), part(new, (0, 0, cut, h)), (w - cut, 0))


def page_scale(book: Book, w: int, segs) -> float:
    """Pixels per point: enough for the tightest camera box to fill the frame, within MAX_PAGE_PX."""
    tight = min((min(s.box0[2], s.box1[2]) for s in segs if s.box0 is not None and s.box1 is not None),
                default=book.format.trim[0])
    return min(w / max(tight, 1.0), MAX_PAGE_PX / max(book.format.trim))


def compose_frames(timeline: Timeline, prepared: list[Prepared], book: Book, settings: RenderSettings,
                   sources: dict, encoder: Encoder, progress: Progress, faces: dict | None = None) -> None:
    """Make every frame in order and hand it to the encoder. `faces` (per shot index, found in its art) crop the
    art into its panel as the book does."""
    w, h = settings.size
    fps = settings.fps
    total_s = timeline.duration_s
    n_frames = max(1, round(total_s * fps))
    by_index = {p.media.shot.index: p for p in prepared}
    close_ups = frozenset(i for i, p in by_index.items() if p.media.shot.close_up)
    segs = camera_path(book, timeline, w / h, close_ups)
    scale = page_scale(book, w, segs)
    timed = {ts.index: ts for ts in timeline.shots}
    order = [ts.index for ts in timeline.shots]
    art = {p.media.shot.index: Path(p.media.image) for p in prepared if p.media.image is not None}
    # when each balloon shows: a line's when it is spoken, a caption's or sfx's when the camera arrives
    appear: dict[tuple, float] = {(ln.shot_index, ln.line_index): ln.start_s for ln in timeline.lines}
    for s in segs:
        if s.shot_index is not None:
            appear.setdefault((s.shot_index, None), s.end_s if s.kind != "off" else s.start_s)
    lead = {ts.index: next((ln.start_s for ln in timeline.lines if ln.shot_index == ts.index), ts.start_s)
            - ts.start_s for ts in timeline.shots}
    canvases: dict[int, PageCanvas] = {}
    clips: dict[int, RgbClip] = {}

    def canvas(pi: int, keep: set) -> PageCanvas:
        for old in [k for k in canvases if k not in keep]:
            del canvases[old]
        if pi not in canvases:
            try:
                canvases[pi] = PageCanvas(pi, book, art, scale, appear, faces)
            except Exception as e:
                raise RenderError(f"page {pi + 1}: its picture cannot be made ({reason(e)})") from None
        return canvases[pi]

    def clip(si: int, region) -> RgbClip | None:
        prep = by_index.get(si)
        if prep is None or prep.media.video is None or region is None:
            return None
        if si not in clips:
            pw, ph = region[3] - region[2], region[1] - region[0]
            talking = prep.media.shot.kind == "talking_head"
            try:
                clips[si] = RgbClip(Path(prep.media.video), max(2, pw), max(2, ph), loop=False if talking else "pingpong",
                                    offset=lead[si] if talking else 0.0)
            except Exception as e:
                raise RenderError(f"{prep.media.shot.label}: its video cannot be read ({reason(e)})") from None
        return clips[si]

    def off_source(si: int):
        if si not in sources:
            ts, prep = timed[si], by_index[si]
            try:
                sources[si] = make_source(prep, None, ts.duration_s, lead[si], settings)
            except Exception as e:
                raise RenderError(f"{prep.media.shot.label}: its media cannot be read ({reason(e)})") from None
        return sources[si]

    def advance(pi: int, t: float, keep: set) -> tuple[PageCanvas, bool]:
        c = canvas(pi, keep)
        frames = {}
        for si, ts in timed.items():
            if si in c.panels and ts.start_s <= t < ts.end_s:
                cl = clip(si, c.panels[si])
                if cl is not None:
                    frames[si] = cl.frame(t - ts.start_s)
        return c, c.update(t, frames)

    burn = BurnIn(timeline, w, h) if settings.burn_subtitles else None
    # a close-up shows no page, so no balloon: its line is written under the face instead
    close_burn = BurnIn(timeline, w, h) if close_ups and burn is None else None
    hint, last_key, last_img = 0, None, None

    def say(t: float, cur: int, page: int | None) -> str:
        n = order.index(cur) + 1 if cur in order else 1
        where = f"page {page + 1}, " if page is not None else ""
        return f"Rendering {where}shot {n} of {len(order)} — {t:.0f} s of {total_s:.0f} s"

    out = FrameOut(encoder, n_frames, burn, progress, say)
    for k in range(n_frames):
        t = k / fps
        while hint + 1 < len(segs) and segs[hint].end_s <= t:
            hint += 1
        v = view_at(segs, t, hint)
        cur = v.shot_index
        for si in [s for s in clips if timed[s].end_s <= t]:
            clips.pop(si).close()
        for si in [s for s in sources if s != cur]:
            sources.pop(si).close()
        if v.page is None:
            img = off_source(cur).frame(t - timed[cur].start_s)
            if close_burn is not None and cur in close_ups:
                img = close_burn.over(img, t)
        elif v.turn is not None:
            # the page turn: the old page slides out to the left as the new one comes in from the right
            keep = {v.page, v.from_page}
            old = advance(v.from_page, t, keep)[0].view(v.from_box, w, h)
            new = advance(v.page, t, keep)[0].view(v.box, w, h)
            img = _turned(old, new, v.turn, w, h, vertical=book.format.strip)
        else:
            key = (v.page, tuple(round(x, 3) for x in v.box))
            c, changed = advance(v.page, t, {v.page})
            # nothing moved and nothing changed: the same frame object, which the encoder does not redo
            img = last_img if key == last_key and not changed and last_img is not None else c.view(v.box, w, h)
            last_key, last_img = key, img
        out.put(k, t, img, cur, v.page)
    for cl in clips.values():
        cl.close()

