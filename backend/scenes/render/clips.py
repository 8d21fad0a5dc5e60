"""The moving pictures of a shot: a still with a slow camera move, a video clip, a talking head, a title
card, a caption over a panel. Each gives `frame(t) -> Yuv`; a frame that did not change is the same object."""
from __future__ import annotations

import bisect
import math
from pathlib import Path

import av
import numpy as np
from PIL import Image

from backend.scenes.render.compose import SWS_THREADS, Overlay, Yuv, fill, paste, planes, to_yuv
from backend.scenes.render.errors import RenderError
from backend.scenes.render.text import text_box

KEN_BURNS_ZOOM = 1.12      # how far a push-in travels (crop 1/1.12 of the picture at its end)
KB_OVERSAMPLE = 2          # a moving still is kept at this many times the frame's size (see StillClip)
PAN_TRAVEL = 0.10          # a pan crosses this share of the picture's width
INSET_HEIGHT = 0.40
PINGPONG_FRAMES = 64       # a ping-ponged clip keeps this many frames to play backwards; a longer one holds its last        # a talking-head inset's height, as a share of the frame


def cover(img: Image.Image, w: int, h: int, scale: float = 1.0) -> Image.Image:
    """Resize so the picture covers w×h (times `scale`), keeping its aspect."""
    f = max(w * scale / img.width, h * scale / img.height)
    size = (max(w, round(img.width * f)), max(h, round(img.height * f)))
    return img.resize(size, Image.LANCZOS) if size != img.size else img


def contain_size(src_w: int, src_h: int, w: int, h: int) -> tuple[int, int]:
    f = min(w / src_w, h / src_h)
    return max(2, round(src_w * f) // 2 * 2), max(2, round(src_h * f) // 2 * 2)


def even_up(v: int) -> int:
    return v + v % 2


def ease(p: float) -> float:
    p = min(1.0, max(0.0, p))
    return 0.5 - 0.5 * math.cos(math.pi * p)


class StillClip:
    """A still panel with a slow camera move (Ken Burns), cropped to the frame's aspect.

    Each frame is one swscale call: the crop (a view into the picture, no copy) scaled to the frame and
    converted to yuv420p together. swscale takes whole pixels, so the source is kept at KB_OVERSAMPLE× the
    size it needs: the crop's edges then land within a fraction of an output pixel of where they should,
    and the move stays smooth."""

    def __init__(self, img: Image.Image, camera: str, duration: float, w: int, h: int):
        self.w, self.h, self.camera, self.duration = w, h, camera, max(duration, 1e-3)
        zoom = 1.0 if camera == "still" else KEN_BURNS_ZOOM
        over = 1 if camera == "still" else KB_OVERSAMPLE
        # scaled so the tightest crop is about the frame's size (times the oversampling)
        self.src = np.ascontiguousarray(np.asarray(cover(img.convert("RGB"), w * over, h * over, zoom)))
        self._still = None
        if camera == "still":
            self._still = self._crop(0.0)

    def _crop(self, p: float) -> Yuv:
        sh, sw = self.src.shape[:2]
        aspect = self.w / self.h
        full_w, full_h = (sw, sw / aspect) if sw / sh < aspect else (sh * aspect, sh)
        if self.camera in ("push_in", "pull_out", "still"):
            z = 1.0 if self.camera == "still" else (
                1 + (KEN_BURNS_ZOOM - 1) * (p if self.camera == "push_in" else 1 - p))
            cw, ch = full_w / z, full_h / z
            x0, y0 = (sw - cw) / 2, (sh - ch) / 2
        else:
            cw, ch = full_w / (1 + PAN_TRAVEL), full_h / (1 + PAN_TRAVEL)
            travel = sw - cw
            x0 = travel * (1 - p) if self.camera == "pan_left" else travel * p
            y0 = (sh - ch) / 2
        # each edge rounded on its own: every edge moves monotonically, never back and forth
        xa, ya = max(0, round(x0)), max(0, round(y0))
        xb, yb = min(sw, max(xa + 2, round(x0 + cw))), min(sh, max(ya + 2, round(y0 + ch)))
        view = av.VideoFrame.from_numpy_buffer(self.src[ya:yb, xa:xb], format="rgb24")
        return planes(view.reformat(width=self.w, height=self.h, format="yuv420p", interpolation="BILINEAR",
                                     threads=SWS_THREADS))

    def frame(self, t: float) -> Yuv:
        if self._still is not None:
            return self._still
        return self._crop(ease(t / self.duration))

    def close(self):
        self.src = None


class VideoClip:
    """Frames of a video file in time order, decoded as needed (one frame held at a time).
    `fit`: "cover" crops to fill w×h, or a (cw, ch) size to scale into (for contain/inset).
    `loop`: False holds the last frame; "pingpong" plays a clip shorter than its shot forwards, backwards,
    forwards… (never a jump back to its first frame; the frames of the first pass are kept for the way back,
    up to PINGPONG_FRAMES, past which the last frame is held); True wraps round to the start."""

    def __init__(self, path: Path, w: int, h: int, fit="cover", loop=True, offset=0.0):
        self.path, self.w, self.h, self.fit, self.loop, self.offset = path, w, h, fit, loop, offset
        self.container = None
        self.kept: list | None = [] if loop == "pingpong" else None
        self.kept_t: list[float] = []
        self.duration = probe_video(path)[0]
        self._open()

    def _open(self):
        if self.container is not None:
            self.container.close()
        self.container = av.open(str(self.path))
        stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"
        self.stream = stream
        self.frames = self.container.decode(stream)
        self.cur = None          # (time, av.VideoFrame)
        self.nxt = None
        self.cur_img = None

    def _advance(self) -> bool:
        try:
            f = next(self.frames)
        except (StopIteration, av.error.EOFError):
            return False
        self.nxt = (float(f.time or 0.0), f)
        return True

    def frame(self, t: float) -> Yuv:
        t = max(0.0, t - self.offset)
        if self.loop == "pingpong" and self.duration > 0:
            u = t % (2 * self.duration)
            t = u if u <= self.duration else 2 * self.duration - u
            if self.cur is not None and t + 1e-6 < self.cur[0]:
                if self.kept:
                    return self.kept[max(0, bisect.bisect_right(self.kept_t, t + 1e-6) - 1)]
                t = self.cur[0]
        elif self.loop and self.duration > 0:
            t = t % self.duration
        if self.cur is not None and t + 1e-6 < self.cur[0]:
            self._open()            # looped back to the start
        if self.cur is None:
            if not self._advance():
                raise RenderError(f"{self.path.name}: no video frames")
            self.cur, self.nxt = self.nxt, None
        while True:
            if self.nxt is None and not self._advance():
                break
            if self.nxt[0] <= t + 1e-6:
                self.cur, self.nxt, self.cur_img = self.nxt, None, None
            else:
                break
        if self.cur_img is None:
            self.cur_img = self._convert(self.cur[1])
            if self.kept is not None:
                if len(self.kept) >= PINGPONG_FRAMES:
                    self.kept = None
                elif not self.kept_t or self.cur[0] > self.kept_t[-1]:
                    self.kept.append(self.cur_img)
                    self.kept_t.append(self.cur[0])
        return self.cur_img

    def _convert(self, f: av.VideoFrame) -> Yuv:
        if self.fit == "cover":
            s = max(self.w / f.width, self.h / f.height)
            cw = even_up(max(self.w, math.ceil(f.width * s)))
            ch = even_up(max(self.h, math.ceil(f.height * s)))
            p = planes(f.reformat(width=cw, height=ch, format="yuv420p", interpolation="BILINEAR",
                                   threads=SWS_THREADS))
            if (cw, ch) == (self.w, self.h):
                return p
            x0, y0 = (cw - self.w) // 4 * 2, (ch - self.h) // 4 * 2
            return Yuv(p.y.crop((x0, y0, x0 + self.w, y0 + self.h)),
                       *(c.crop((x0 // 2, y0 // 2, (x0 + self.w) // 2, (y0 + self.h) // 2)) for c in p[1:]))
        cw, ch = contain_size(f.width, f.height, *self.fit)
        return planes(f.reformat(width=cw, height=ch, format="yuv420p", interpolation="BILINEAR",
                                  threads=SWS_THREADS))

    def first_image(self) -> Image.Image:
        with av.open(str(self.path)) as c:
            for f in c.decode(video=0):
                return f.to_image()
        raise RenderError(f"{self.path.name}: no video frames")

    def close(self):
        if self.container is not None:
            self.container.close()
            self.container = None


class ImageAsClip:
    """A portrait image standing in for a talking-head video."""

    def __init__(self, img: Image.Image, fit):
        self.img = img.convert("RGB")
        cw, ch = contain_size(self.img.width, self.img.height, *fit)
        self.scaled = to_yuv(self.img.resize((cw, ch), Image.LANCZOS))

    def frame(self, t: float) -> Yuv:
        return self.scaled

    def first_image(self) -> Image.Image:
        return self.img

    def close(self):
        pass


class TalkingHead:
    """The portrait speaking: full frame (on a plain `ground` colour; see head.py for its framing) or an inset
    over the panel.
    A face that has not changed (a held frame, a still portrait) over the same background gives the very
    same frame object, which the encoder then does not convert again."""

    def __init__(self, head, w: int, h: int, background=None, box=None, ground=(0, 0, 0)):
        self.head, self.background, self.w, self.h, self.box = head, background, w, h, box
        self.backdrop = None if background is not None else to_yuv(Image.new("RGB", (w, h), ground))
        self._last = (None, None, None)     # (face, background frame, result)

    def frame(self, t: float) -> Yuv:
        face = self.head.frame(t)
        back = self.backdrop if self.background is None else self.background.frame(t)
        if self._last[0] is face and self._last[1] is back:
            return self._last[2]
        fw, fh = face.size
        if self.background is None:
            out = paste(back, face, ((self.w - fw) // 2, (self.h - fh) // 2))
        else:
            margin = even_up(max(8, self.h // 30))
            border = even_up(max(2, self.h // 240))
            x, y = self.w - fw - margin, self.h - fh - margin
            out = fill(back, (255, 255, 255), (x - border, y - border, x + fw + border, y + fh + border))
            out = paste(out, face, (x, y))
        self._last = (face, back, out)
        return out

    def close(self):
        self.head.close()
        if self.background is not None:
            self.background.close()


class Card:
    """A title card: centred text on a dark ground."""

    def __init__(self, text: str, w: int, h: int):
        img = Image.new("RGB", (w, h), (12, 12, 16))
        box = text_box(text, int(w * 0.8), max(18, h // 12), bold=True, bg=(0, 0, 0, 0))
        img.paste(box.convert("RGB"), ((w - box.width) // 2, (h - box.height) // 2), box.getchannel("A"))
        self.img = to_yuv(img)

    def frame(self, t: float) -> Yuv:
        return self.img

    def close(self):
        pass


class Captioned:
    def __init__(self, inner, text: str, w: int, h: int):
        self.inner = inner
        self.box = Overlay(text_box(text, int(w * 0.6), max(14, h // 26), bg=(250, 244, 220, 235),
                                      fg=(20, 20, 20, 255)))
        # below the top tenth, where preview media carry their PREVIEW bar
        self.xy = (max(8, w // 40), max(8, round(h * 0.13)))
        self._last = (None, None)

    def frame(self, t: float) -> Yuv:
        inner = self.inner.frame(t)
        if self._last[0] is not inner:      # a held frame keeps its captioned copy
            self._last = (inner, self.box.over(inner, self.xy))
        return self._last[1]

    def close(self):
        self.inner.close()


def probe_video(path: Path) -> tuple[float, int, int]:
    """(duration_s, width, height) of a video, decoding its first frame to be sure it is usable."""
    with av.open(str(path)) as c:
        if not c.streams.video:
            raise ValueError("it has no video stream")
        s = c.streams.video[0]
        first = None
        for f in c.decode(s):
            first = f
            break
        if first is None:
            raise ValueError("it has no video frames")
        if s.duration is not None and s.time_base is not None:
            dur = float(s.duration * s.time_base)
        elif c.duration:
            dur = c.duration / 1e6
        else:
            rate = float(s.average_rate or 24)
            dur = (s.frames or 1) / rate
        return dur, first.width, first.height


class SpeakerCuts:
    """A panel that cuts to each speaker's own picture when the speaker changes (from the second speaker on),
    as an editor cuts a dialogue: `cuts` are (time in the shot, clip) in order."""

    def __init__(self, inner, cuts: list[tuple[float, object]]):
        self.inner, self.cuts = inner, cuts

    def frame(self, t: float) -> Yuv:
        src = self.inner
        for at, clip in self.cuts:
            if t >= at:
                src = clip
        return src.frame(t)

    def close(self):
        self.inner.close()
        for _, clip in self.cuts:
            clip.close()
