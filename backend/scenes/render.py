"""Render a scene to one MP4 (H.264 + AAC) with PyAV, plus SRT and WebVTT subtitles.

Streaming: frames are made one at a time and handed to x264 (which encodes on its own threads while we
compose the next frame); only the shots around the current time hold their media, and the audio is mixed
in one-second blocks, so memory stays flat however long the scene is. Frames are composed in the encoder's
own format, yuv420p, as three Pillow "L" planes (`Yuv`): a Ken Burns frame is one swscale call (crop view
→ scaled and converted together), video frames are scaled by swscale without a round trip through RGB,
cross-fades are `Image.blend` per plane and captions/subtitles masked `paste`s of boxes converted once.
A frame that did not change (a held video frame, a still, a card) is the same object, so neither its
overlays nor its conversion for the encoder are redone. numpy does the audio.
"""
from __future__ import annotations

import functools
import math
import os
import queue
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from backend.scenes.model import RenderInput, RenderResult, RenderSettings, ShotMedia, Timeline
from backend.scenes.timeline import build_timeline

Progress = Callable[[float, str], None]

SAMPLE_RATE = 48000
X264_PRESET = "superfast"   # about half veryfast's cost here; the pictures move slowly, so quality holds
X264_CRF = "21"
MUSIC_GAIN_DB = -6.0       # the bed under everything
DUCK_DB = -12.0            # extra, while a line is spoken
ATTACK_S = 0.05
RELEASE_S = 0.4
MUSIC_FADE_IN_S = 1.0
MUSIC_FADE_OUT_S = 2.0
KEN_BURNS_ZOOM = 1.12      # how far a push-in travels (crop 1/1.12 of the picture at its end)
# swscale on our composing thread only: its default (a thread pool per size, and the Ken Burns crop changes
# size every frame) started ~500 threads per minute of video, for no gain in total CPU (x264 keeps the other
# core busy), and hid its work from the compose_s figure
SWS_THREADS = 1
KB_OVERSAMPLE = 2          # a moving still is kept at this many times the frame's size (see StillClip)
PAN_TRAVEL = 0.10          # a pan crosses this share of the picture's width
INSET_HEIGHT = 0.40        # a talking-head inset's height, as a share of the frame
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class _Sized:
    """RenderSettings with another frame size (previews and tests)."""

    def __init__(self, settings: RenderSettings, size: tuple[int, int]):
        if size[0] % 2 or size[1] % 2 or min(size) < 64:
            raise ValueError(f"size: {size[0]}×{size[1]} must be even numbers of at least 64")
        self._s, self.size = settings, size

    def __getattr__(self, name):
        return getattr(self._s, name)


class RenderError(ValueError):
    """Media that cannot be used; the message names the shot."""


# ---------------------------------------------------------------- text

def _font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size=size)


def _wrap(text: str, font, max_w: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split():
            trial = f"{cur} {word}".strip()
            if cur and font.getlength(trial) > max_w:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        lines.append(cur)
    return [ln for ln in lines if ln] or [""]


def _text_box(text: str, width: int, font_px: int, *, bold=False, pad=None, bg=(0, 0, 0, 170),
              fg=(255, 255, 255, 255)) -> Image.Image:
    """An RGBA box with wrapped text, as wide as it needs (at most `width`)."""
    font = _font(font_px, bold)
    pad = pad if pad is not None else font_px // 2
    lines = _wrap(text, font, width - 2 * pad)
    line_h = int(font_px * 1.3)
    w = min(width, int(max(font.getlength(ln) for ln in lines)) + 2 * pad)
    h = line_h * len(lines) + 2 * pad
    box = Image.new("RGBA", (w, h), bg)
    draw = ImageDraw.Draw(box)
    for i, ln in enumerate(lines):
        x = (w - font.getlength(ln)) / 2
        draw.text((x, pad + i * line_h), ln, font=font, fill=fg)
    return box


# ---------------------------------------------------------------- yuv420p pictures

class Yuv(NamedTuple):
    """A frame in the encoder's own format, yuv420p, as three Pillow "L" planes (Y at w×h, U and V at
    w/2×h/2; w and h even). Composing in it saves an RGB→YUV conversion of every frame, and lets swscale
    do the Ken Burns scaling, both many times cheaper than Pillow's RGB resize plus the conversion."""
    y: Image.Image
    u: Image.Image
    v: Image.Image

    @property
    def size(self) -> tuple[int, int]:
        return self.y.size


def _planes(frame: av.VideoFrame) -> Yuv:
    """The planes of a yuv420p frame, sharing its memory (Pillow copies before it would write to them)."""
    return Yuv(*(Image.frombuffer("L", (p.width, p.height), p, "raw", "L", p.line_size, 1)
                 for p in frame.planes[:3]))


def _to_yuv(img: Image.Image) -> Yuv:
    """An RGB picture (even size) as yuv420p, with swscale's matrix: the same as the encoder would use."""
    return _planes(av.VideoFrame.from_image(img.convert("RGB")).reformat(format="yuv420p", threads=SWS_THREADS))


def _to_frame(p: Yuv) -> av.VideoFrame:
    w, h = p.size
    frame = av.VideoFrame(w, h, "yuv420p")
    if all(pl.line_size == img.width for pl, img in zip(frame.planes, p)):
        for pl, img in zip(frame.planes, p):
            pl.update(img.tobytes())
        return frame
    flat = np.concatenate([np.asarray(p.y).reshape(-1), np.asarray(p.u).reshape(-1), np.asarray(p.v).reshape(-1)])
    return av.VideoFrame.from_ndarray(flat.reshape(h * 3 // 2, w), format="yuv420p")


def _blend(a: Yuv, b: Yuv, alpha: float) -> Yuv:
    return Yuv(*(Image.blend(pa, pb, alpha) for pa, pb in zip(a, b)))


def _paste(dst: Yuv, src: Yuv, xy: tuple[int, int], mask: tuple[Image.Image, Image.Image] | None = None) -> Yuv:
    """`src` laid over a copy of `dst` at xy (made even, so the chroma planes line up)."""
    x, y = xy[0] // 2 * 2, xy[1] // 2 * 2
    out = []
    for i, (d, s) in enumerate(zip(dst, src)):
        d = d.copy()
        k = 1 if i == 0 else 2
        d.paste(s, (x // k, y // k), None if mask is None else mask[min(i, 1)])
        out.append(d)
    return Yuv(*out)


@functools.lru_cache(maxsize=16)
def _yuv_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(p.getpixel((0, 0)) for p in _to_yuv(Image.new("RGB", (2, 2), rgb)))


def _fill(dst: Yuv, rgb: tuple[int, int, int], box: tuple[int, int, int, int]) -> Yuv:
    """A copy of `dst` with `box` (even corners) painted in one colour."""
    out = []
    for i, (d, c) in enumerate(zip(dst, _yuv_colour(rgb))):
        d = d.copy()
        k = 1 if i == 0 else 2
        d.paste(c, tuple(v // k for v in box))
        out.append(d)
    return Yuv(*out)


class _Overlay:
    """An RGBA box (text) ready to lay over yuv420p frames: its planes and its alpha at both plane sizes."""

    def __init__(self, box: Image.Image):
        w, h = box.width + box.width % 2, box.height + box.height % 2
        if (w, h) != box.size:
            padded = Image.new("RGBA", (w, h), (0, 0, 0, 0))
            padded.paste(box, (0, 0))
            box = padded
        self.size = (w, h)
        self.planes = _to_yuv(box.convert("RGB"))
        alpha = box.getchannel("A")
        self.mask = (alpha, alpha.resize((w // 2, h // 2), Image.BOX))

    def over(self, frame: Yuv, xy: tuple[int, int]) -> Yuv:
        return _paste(frame, self.planes, xy, self.mask)


# ---------------------------------------------------------------- pictures

def _cover(img: Image.Image, w: int, h: int, scale: float = 1.0) -> Image.Image:
    """Resize so the picture covers w×h (times `scale`), keeping its aspect."""
    f = max(w * scale / img.width, h * scale / img.height)
    size = (max(w, round(img.width * f)), max(h, round(img.height * f)))
    return img.resize(size, Image.LANCZOS) if size != img.size else img


def _contain_size(src_w: int, src_h: int, w: int, h: int) -> tuple[int, int]:
    f = min(w / src_w, h / src_h)
    return max(2, round(src_w * f) // 2 * 2), max(2, round(src_h * f) // 2 * 2)


def _even_up(v: int) -> int:
    return v + v % 2


def _blurred_backdrop(img: Image.Image, w: int, h: int) -> Image.Image:
    small = _cover(img, max(16, w // 16), max(16, h // 16)).crop((0, 0, max(16, w // 16), max(16, h // 16)))
    small = small.filter(ImageFilter.GaussianBlur(2)).point(lambda v: int(v * 0.45))
    return small.resize((w, h), Image.BILINEAR)


def _ease(p: float) -> float:
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
        self.src = np.ascontiguousarray(np.asarray(_cover(img.convert("RGB"), w * over, h * over, zoom)))
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
        return _planes(view.reformat(width=self.w, height=self.h, format="yuv420p", interpolation="BILINEAR",
                                     threads=SWS_THREADS))

    def frame(self, t: float) -> Yuv:
        if self._still is not None:
            return self._still
        return self._crop(_ease(t / self.duration))

    def close(self):
        self.src = None


class VideoClip:
    """Frames of a video file in time order, decoded as needed (one frame held at a time).
    `fit`: "cover" crops to fill w×h, or a (cw, ch) size to scale into (for contain/inset)."""

    def __init__(self, path: Path, w: int, h: int, fit="cover", loop=True, offset=0.0):
        self.path, self.w, self.h, self.fit, self.loop, self.offset = path, w, h, fit, loop, offset
        self.container = None
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
        if self.loop and self.duration > 0:
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
        return self.cur_img

    def _convert(self, f: av.VideoFrame) -> Yuv:
        if self.fit == "cover":
            s = max(self.w / f.width, self.h / f.height)
            cw = _even_up(max(self.w, math.ceil(f.width * s)))
            ch = _even_up(max(self.h, math.ceil(f.height * s)))
            p = _planes(f.reformat(width=cw, height=ch, format="yuv420p", interpolation="BILINEAR",
                                   threads=SWS_THREADS))
            if (cw, ch) == (self.w, self.h):
                return p
            x0, y0 = (cw - self.w) // 4 * 2, (ch - self.h) // 4 * 2
            return Yuv(p.y.crop((x0, y0, x0 + self.w, y0 + self.h)),
                       *(c.crop((x0 // 2, y0 // 2, (x0 + self.w) // 2, (y0 + self.h) // 2)) for c in p[1:]))
        cw, ch = _contain_size(f.width, f.height, *self.fit)
        return _planes(f.reformat(width=cw, height=ch, format="yuv420p", interpolation="BILINEAR",
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
        cw, ch = _contain_size(self.img.width, self.img.height, *fit)
        self.scaled = _to_yuv(self.img.resize((cw, ch), Image.LANCZOS))

    def frame(self, t: float) -> Yuv:
        return self.scaled

    def first_image(self) -> Image.Image:
        return self.img

    def close(self):
        pass


class TalkingHead:
    """The portrait speaking: full frame (over a blurred copy of itself) or an inset over the panel.
    A face that has not changed (a held frame, a still portrait) over the same background gives the very
    same frame object, which the encoder then does not convert again."""

    def __init__(self, head, w: int, h: int, background=None, box=None):
        self.head, self.background, self.w, self.h, self.box = head, background, w, h, box
        self.backdrop = None if background is not None else _to_yuv(_blurred_backdrop(head.first_image(), w, h))
        self._last = (None, None, None)     # (face, background frame, result)

    def frame(self, t: float) -> Yuv:
        face = self.head.frame(t)
        back = self.backdrop if self.background is None else self.background.frame(t)
        if self._last[0] is face and self._last[1] is back:
            return self._last[2]
        fw, fh = face.size
        if self.background is None:
            out = _paste(back, face, ((self.w - fw) // 2, (self.h - fh) // 2))
        else:
            margin = _even_up(max(8, self.h // 30))
            border = _even_up(max(2, self.h // 240))
            x, y = self.w - fw - margin, self.h - fh - margin
            out = _fill(back, (255, 255, 255), (x - border, y - border, x + fw + border, y + fh + border))
            out = _paste(out, face, (x, y))
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
        box = _text_box(text, int(w * 0.8), max(18, h // 12), bold=True, bg=(0, 0, 0, 0))
        img.paste(box.convert("RGB"), ((w - box.width) // 2, (h - box.height) // 2), box.getchannel("A"))
        self.img = _to_yuv(img)

    def frame(self, t: float) -> Yuv:
        return self.img

    def close(self):
        pass


class Captioned:
    def __init__(self, inner, text: str, w: int, h: int):
        self.inner = inner
        self.box = _Overlay(_text_box(text, int(w * 0.6), max(14, h // 26), bg=(250, 244, 220, 235),
                                      fg=(20, 20, 20, 255)))
        self.xy = (max(8, w // 40), max(8, h // 30))
        self._last = (None, None)

    def frame(self, t: float) -> Yuv:
        inner = self.inner.frame(t)
        if self._last[0] is not inner:      # a held frame keeps its captioned copy
            self._last = (inner, self.box.over(inner, self.xy))
        return self._last[1]

    def close(self):
        self.inner.close()

# ---------------------------------------------------------------- probing

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


def decode_audio(path: Path, channels: int = 1) -> np.ndarray:
    """The whole file as float32 at SAMPLE_RATE: shape (n,) for mono, (2, n) for stereo."""
    layout = "mono" if channels == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
    parts = []
    with av.open(str(path)) as c:
        if not c.streams.audio:
            raise ValueError("it has no audio stream")
        for frame in c.decode(audio=0):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray())
        for out in resampler.resample(None):
            parts.append(out.to_ndarray())
    if not parts:
        raise ValueError("it has no audio")
    data = np.concatenate(parts, axis=1).astype(np.float32)
    return data[0] if channels == 1 else data


class MusicStream:
    """The music bed read in order, looping when the scene is longer than the track."""

    def __init__(self, path: Path):
        self.path = path
        self.buf = np.zeros((2, 0), np.float32)
        self._open()

    def _open(self):
        self.container = av.open(str(self.path))
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self.frames = self.container.decode(audio=0)

    def read(self, n: int) -> np.ndarray:
        parts, have, empty_loops = [self.buf], self.buf.shape[1], 0
        while have < n:
            try:
                frame = next(self.frames)
                outs = self.resampler.resample(frame)
            except (StopIteration, av.error.EOFError):
                outs = self.resampler.resample(None)
                self.container.close()
                empty_loops += 1
                if empty_loops > 2:
                    raise RenderError("the music has no sound to loop")
                self._open()
            for o in outs:
                a = o.to_ndarray().astype(np.float32)
                if a.shape[1]:
                    empty_loops = 0
                parts.append(a)
                have += a.shape[1]
        data = np.concatenate(parts, axis=1)
        self.buf = data[:, n:]
        return data[:, :n]

    def close(self):
        self.container.close()


# ---------------------------------------------------------------- audio mix

@dataclass
class _Speech:
    start: int          # sample
    data: np.ndarray    # mono float32

    @property
    def end(self) -> int:
        return self.start + len(self.data)


def duck_gain(t: np.ndarray, intervals: list[tuple[float, float]]) -> np.ndarray:
    """The music's ducking gain at times t (linear): 1 outside speech, DUCK_DB while a line is spoken,
    reached over ATTACK_S just before the line and released over RELEASE_S after it."""
    d = np.zeros_like(t, dtype=np.float32)
    for s, e in intervals:
        if e + RELEASE_S < t[0] or s - ATTACK_S > t[-1]:
            continue
        rise = np.clip((t - (s - ATTACK_S)) / ATTACK_S, 0, 1)
        fall = np.clip(1 - (t - e) / RELEASE_S, 0, 1)
        d = np.maximum(d, np.minimum(rise, fall))
    return (10 ** (DUCK_DB * d / 20)).astype(np.float32)


class Mixer:
    def __init__(self, speech: list[_Speech], music: MusicStream | None, total: int):
        self.speech, self.music, self.total = speech, music, total
        self.intervals = [(s.start / SAMPLE_RATE, s.end / SAMPLE_RATE) for s in speech]

    def block(self, start: int, n: int) -> np.ndarray:
        out = np.zeros((2, n), np.float32)
        if self.music is not None:
            t = (start + np.arange(n, dtype=np.float64)) / SAMPLE_RATE
            total_s = self.total / SAMPLE_RATE
            fade = np.clip(np.minimum(t / MUSIC_FADE_IN_S, (total_s - t) / MUSIC_FADE_OUT_S), 0, 1)
            gain = (10 ** (MUSIC_GAIN_DB / 20)) * fade.astype(np.float32) * duck_gain(t, self.intervals)
            out += self.music.read(n) * gain
        for s in self.speech:
            lo, hi = max(start, s.start), min(start + n, s.end)
            if lo < hi:
                out[:, lo - start:hi - start] += s.data[lo - s.start:hi - s.start]
        return np.clip(out, -1.0, 1.0)


# ---------------------------------------------------------------- subtitles

def _ts(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(timeline: Timeline) -> str:
    cues = [f"{i}\n{_ts(ln.start_s, ',')} --> {_ts(ln.end_s, ',')}\n{ln.text}\n"
            for i, ln in enumerate(timeline.lines, start=1)]
    return "\n".join(cues)


def vtt_text(timeline: Timeline) -> str:
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    cues = [f"{_ts(ln.start_s, '.')} --> {_ts(ln.end_s, '.')}\n<v {esc(ln.character)}>{esc(ln.text)}\n"
            for ln in timeline.lines]
    return "WEBVTT\n\n" + "\n".join(cues)


# ---------------------------------------------------------------- the render

@dataclass
class _Prepared:
    media: ShotMedia
    speech: list[np.ndarray]
    clip_s: float | None


def _prepare(inp: RenderInput, progress: Progress) -> list[_Prepared]:
    """Check every shot's media can be decoded (before a long render starts) and read the speech."""
    out = []
    n = len(inp.shots)
    for i, sm in enumerate(inp.shots):
        shot = sm.shot
        progress(0.05 * i / max(1, n), f"Reading the media of {shot.label}")
        speech, clip_s = [], None
        if shot.kind != "title" and sm.image is None and sm.video is None:
            raise RenderError(f"{shot.label}: it has no {'video' if shot.kind == 'talking_head' else 'image'} yet")
        if len(sm.speech) > len(shot.lines):
            raise RenderError(f"{shot.label}: {len(sm.speech)} speech files for {len(shot.lines)} lines")
        if sm.image is not None and shot.kind != "title":
            try:
                with Image.open(sm.image) as im:
                    im.load()
            except Exception as e:
                raise RenderError(f"{shot.label}: the image cannot be read ({_reason(e)})") from None
        if sm.video is not None and shot.kind != "title":
            try:
                clip_s = probe_video(Path(sm.video))[0]
            except Exception as e:
                raise RenderError(f"{shot.label}: the video cannot be read ({_reason(e)})") from None
        for n_line, path in enumerate(sm.speech, start=1):
            try:
                speech.append(decode_audio(Path(path), 1))
            except Exception as e:
                raise RenderError(f"{shot.label}: line {n_line}'s speech cannot be read ({_reason(e)})") from None
        out.append(_Prepared(sm, speech, clip_s))
    if inp.music is not None:
        try:
            with av.open(str(inp.music)) as c:
                if not c.streams.audio:
                    raise ValueError("it has no audio stream")
                next(c.decode(audio=0))
        except Exception as e:
            raise RenderError(f"the music cannot be read ({_reason(e)})") from None
    return out


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    # PyAV/PIL messages can carry the full path: the file name is enough (no folders on screen)
    return re.sub(r"(?:[A-Za-z]:)?[\\/](?:[^\s'\"\\/]+[\\/])+", "", text)[:200]


def _make_source(prep: _Prepared, prev_panel: _Prepared | None, duration: float, lead_in: float,
                 settings: RenderSettings):
    w, h = settings.size
    sm, shot = prep.media, prep.media.shot
    if shot.kind == "title":
        src = Card(shot.description, w, h)
    elif shot.kind == "talking_head":
        inset = settings.talking_head == "inset" and prev_panel is not None
        fit = (w, h) if not inset else (int(w * 0.45), int(h * INSET_HEIGHT))
        if sm.video is not None:
            head = VideoClip(Path(sm.video), w, h, fit=fit, loop=False, offset=lead_in)
        else:
            head = ImageAsClip(Image.open(sm.image), fit)
        background = _panel_clip(prev_panel, duration, w, h) if inset else None
        src = TalkingHead(head, w, h, background)
    else:
        src = _panel_clip(prep, duration, w, h)
    if shot.caption:
        src = Captioned(src, shot.caption, w, h)
    return src


def _panel_clip(prep: _Prepared, duration: float, w: int, h: int):
    sm = prep.media
    if sm.video is not None:
        return VideoClip(Path(sm.video), w, h, fit="cover", loop=True)
    with Image.open(sm.image) as im:
        return StillClip(im, sm.shot.camera, duration, w, h)


def _compose(timeline: Timeline, prepared: list[_Prepared], shots, settings: RenderSettings,
             sources: dict, encoder: "_Encoder", progress: Progress) -> None:
    """Make every frame in order and hand it to the encoder."""
    w, h = settings.size
    fps = settings.fps
    total_s = timeline.duration_s
    n_frames = max(1, round(total_s * fps))
    timed = timeline.shots
    half = timeline.crossfade_s / 2
    prev_panels: list[_Prepared | None] = []
    last = None
    for p in prepared:
        prev_panels.append(last)
        if p.media.shot.kind == "panel":
            last = p
    lead = {ts.index: (next((ln.start_s for ln in timeline.lines if ln.shot_index == ts.index), ts.start_s)
                       - ts.start_s) for ts in timed}

    def source(i: int):
        if i not in sources:
            try:
                sources[i] = _make_source(prepared[i], prev_panels[i], timed[i].duration_s,
                                          lead[timed[i].index], settings)
            except RenderError as e:
                raise RenderError(f"{shots[i].label}: {e}") from None
            except Exception as e:
                raise RenderError(f"{shots[i].label}: its media cannot be read ({_reason(e)})") from None
        return sources[i]

    sub_cache: dict[int, _Overlay] = {}
    subbed = (None, None, None)     # (frame, line, frame with the line): a held frame is not overlaid again
    line_i = 0
    cur = 0
    last_report = 0.0
    cpu0 = time.thread_time()
    for k in range(n_frames):
        t = k / fps
        while cur + 1 < len(timed) and t >= timed[cur].end_s:
            cur += 1
        for old in [i for i in sources if i < cur - 1]:
            sources.pop(old).close()
        ts = timed[cur]
        img = source(cur).frame(t - ts.start_s)
        if cur > 0 and t < ts.start_s + half:
            a = (t - (ts.start_s - half)) / timeline.crossfade_s
            prev = source(cur - 1).frame(t - timed[cur - 1].start_s)
            img = _blend(prev, img, a)
        elif cur + 1 < len(timed) and t > ts.end_s - half:
            a = (t - (ts.end_s - half)) / timeline.crossfade_s
            nxt = source(cur + 1).frame(t - timed[cur + 1].start_s)
            img = _blend(img, nxt, a)
        if settings.burn_subtitles:
            while line_i < len(timeline.lines) and timeline.lines[line_i].end_s <= t:
                sub_cache.pop(line_i, None)
                line_i += 1
            if line_i < len(timeline.lines) and timeline.lines[line_i].start_s <= t:
                if line_i not in sub_cache:
                    sub_cache[line_i] = _Overlay(_text_box(timeline.lines[line_i].text, int(w * 0.86),
                                                           max(16, h // 22)))
                if subbed[0] is not img or subbed[1] != line_i:
                    box = sub_cache[line_i]
                    bw, bh = box.size
                    subbed = (img, line_i, box.over(img, ((w - bw) // 2, h - bh - max(12, h // 16))))
                img = subbed[2]
        encoder.stats["compose_s"] += time.thread_time() - cpu0
        encoder.put(k, img)
        cpu0 = time.thread_time()
        now = time.monotonic()
        if now - last_report > 0.25 or k == n_frames - 1:
            last_report = now
            shot = shots[cur]
            progress(0.05 + 0.93 * (k + 1) / n_frames,
                     f"Rendering shot {cur + 1} of {len(shots)} ({shot.kind.replace('_', ' ')}, line {shot.line_no})"
                     f" — {t:.0f} s of {total_s:.0f} s")


class _Encoder:
    """Encodes and muxes on a thread of its own, so the next frame is composed while this one is
    converted and encoded (Pillow and PyAV let go of the GIL while they work). Audio follows the video
    in the same thread, so the two streams interleave in the file."""

    def __init__(self, container, vstream, astream, mixer: Mixer, fps: int, total_samples: int):
        self.container, self.vstream, self.astream, self.mixer = container, vstream, astream, mixer
        self.fps, self.total_samples = fps, total_samples
        self.audio_pos = 0
        # CPU seconds of each stage (thread CPU time: honest on a busy machine); x264's own threads not included
        self.stats = {"compose_s": 0.0, "convert_s": 0.0, "encode_s": 0.0, "audio_s": 0.0}
        self.q: queue.Queue = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="scene-encoder", daemon=True)
        self.thread.start()

    def put(self, k: int, img: Yuv):
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.q.put((k, img), timeout=0.5)
                return
            except queue.Full:
                continue

    def _audio(self, upto: int):
        c0 = time.thread_time()
        while self.audio_pos < upto:
            n = min(SAMPLE_RATE, upto - self.audio_pos)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(self.mixer.block(self.audio_pos, n)),
                                               format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = SAMPLE_RATE, self.audio_pos
            for packet in self.astream.encode(frame):
                self.container.mux(packet)
            self.audio_pos += n
        self.stats["audio_s"] += time.thread_time() - c0

    def _run(self):
        last_img = frame = None
        try:
            while True:
                try:
                    item = self.q.get(timeout=0.5)
                except queue.Empty:
                    if self.cancelled:
                        return
                    continue
                if item is None or self.cancelled:
                    if self.cancelled:
                        return
                    break
                k, img = item
                c0 = time.thread_time()
                if img is not last_img:     # a frame that did not change is not converted again
                    last_img, frame = img, _to_frame(img)
                frame.pts = k
                c1 = time.thread_time()
                for packet in self.vstream.encode(frame):
                    self.container.mux(packet)
                self.stats["convert_s"] += c1 - c0
                self.stats["encode_s"] += time.thread_time() - c1
                self._audio(min(self.total_samples, round((k + 1) / self.fps * SAMPLE_RATE)))
            self._audio(self.total_samples)
            for packet in self.vstream.encode():
                self.container.mux(packet)
            for packet in self.astream.encode():
                self.container.mux(packet)
        except BaseException as e:  # handed to the composing thread
            self.error = e
            while True:     # unblock a producer waiting on a full queue
                try:
                    self.q.get_nowait()
                except queue.Empty:
                    break

    def finish(self):
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.q.put(None, timeout=0.5)
                break
            except queue.Full:
                continue
        self.thread.join()
        if self.error is not None:
            raise self.error

    def stop(self):
        """Give up (the render failed elsewhere): the thread ends without touching the file again."""
        self.cancelled = True
        self.thread.join(timeout=30)


def render_scene(inp: RenderInput, settings: RenderSettings, out_mp4: Path | str,
                 progress: Progress | None = None, size: tuple[int, int] | None = None,
                 stats: dict | None = None) -> RenderResult:
    """Render `inp` to `out_mp4` (and .srt/.vtt beside it). The files are replaced only when the whole
    render succeeded; on any failure the previous render stays as it was. `size` (even numbers) overrides
    the settings' frame size, for quick small previews. `stats`, if given, receives the CPU seconds of each
    stage (compose_s, convert_s, encode_s, audio_s; see `_Encoder`)."""
    progress = progress or (lambda f, m: None)
    out_mp4 = Path(out_mp4)
    out_mp4.parent.mkdir(parents=True, exist_ok=True)
    if size is not None:
        settings = _Sized(settings, size)
    w, h = settings.size
    fps = settings.fps

    prepared = _prepare(inp, progress)
    shots = [p.media.shot for p in prepared]
    timeline = build_timeline(
        shots,
        speech_s=[[len(a) / SAMPLE_RATE for a in p.speech] for p in prepared],
        overrides=[p.media.duration_s for p in prepared],
        clip_s=[p.clip_s for p in prepared])
    total_s = timeline.duration_s
    total_samples = round(total_s * SAMPLE_RATE)

    speech = []
    by_shot = {p.media.shot.index: p for p in prepared}
    for ln in timeline.lines:
        arrays = by_shot[ln.shot_index].speech
        if ln.line_index < len(arrays):
            speech.append(_Speech(round(ln.start_s * SAMPLE_RATE), arrays[ln.line_index]))
    # lines without speech keep their (estimated) place in the timeline and the subtitles, silently

    tmp = out_mp4.with_name(f".{out_mp4.stem}.rendering.mp4")
    music = None
    sources: dict[int, object] = {}
    try:
        music = MusicStream(Path(inp.music)) if inp.music is not None else None
        mixer = Mixer(speech, music, total_samples)
        with av.open(str(tmp), "w", format="mp4") as container:
            vstream = container.add_stream("libx264", rate=fps, options={"preset": X264_PRESET, "crf": X264_CRF})
            vstream.width, vstream.height, vstream.pix_fmt = w, h, "yuv420p"
            vstream.codec_context.thread_type = "AUTO"
            astream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
            encoder = _Encoder(container, vstream, astream, mixer, fps, total_samples)
            try:
                _compose(timeline, prepared, shots, settings, sources, encoder, progress)
                encoder.finish()
                if stats is not None:
                    stats.update({k: round(v, 2) for k, v in encoder.stats.items()})
            finally:
                encoder.stop()

        srt_tmp = out_mp4.with_name(f".{out_mp4.stem}.rendering.srt")
        vtt_tmp = out_mp4.with_name(f".{out_mp4.stem}.rendering.vtt")
        srt_tmp.write_text(srt_text(timeline), encoding="utf-8")
        vtt_tmp.write_text(vtt_text(timeline), encoding="utf-8")
        srt, vtt = out_mp4.with_suffix(".srt"), out_mp4.with_suffix(".vtt")
        os.replace(tmp, out_mp4)
        os.replace(srt_tmp, srt)
        os.replace(vtt_tmp, vtt)
    except BaseException:
        for p in (tmp, out_mp4.with_name(f".{out_mp4.stem}.rendering.srt"),
                  out_mp4.with_name(f".{out_mp4.stem}.rendering.vtt")):
            p.unlink(missing_ok=True)
        raise
    finally:
        for s in sources.values():
            s.close()
        if music is not None:
            music.close()
    progress(1.0, "Rendered")
    return RenderResult(mp4=out_mp4, srt=srt, vtt=vtt, duration_s=total_s, timeline=timeline)


def render(inp: RenderInput, settings: RenderSettings, out: Path | str, progress: Progress | None = None,
           size: tuple[int, int] | None = None) -> RenderResult:
    """`render_scene`, where `out` may also be a folder: the files are then named after the scene's title
    (`<title>.mp4`, `.srt`, `.vtt`; `scene.*` without one)."""
    out = Path(out)
    if out.is_dir() or out.suffix.lower() != ".mp4":
        slug = re.sub(r"[^A-Za-z0-9]+", "-", inp.scene.title or "").strip("-").lower()[:60] or "scene"
        out = out / f"{slug}.mp4"
    return render_scene(inp, settings, out, progress, size=size)
