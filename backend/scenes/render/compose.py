"""Frames in the encoder's own format, yuv420p, as three Pillow "L" planes, and the few operations the
renderer composes them with (blend, paste, fill, RGBA overlays). Composing in yuv420p saves an RGB→YUV
conversion of every frame and lets swscale do the scaling."""
from __future__ import annotations

import functools
from typing import NamedTuple

import av
import numpy as np
from PIL import Image

# swscale on our composing thread only: its default (a thread pool per size, and the Ken Burns crop changes
# size every frame) started ~500 threads per minute of video, for no gain in total CPU (x264 keeps the other
# core busy), and hid its work from the compose_s figure
SWS_THREADS = 1


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


def planes(frame: av.VideoFrame) -> Yuv:
    """The planes of a yuv420p frame, sharing its memory (Pillow copies before it would write to them)."""
    return Yuv(*(Image.frombuffer("L", (p.width, p.height), p, "raw", "L", p.line_size, 1)
                 for p in frame.planes[:3]))


def to_yuv(img: Image.Image) -> Yuv:
    """An RGB picture (even size) as yuv420p, with swscale's matrix: the same as the encoder would use."""
    return planes(av.VideoFrame.from_image(img.convert("RGB")).reformat(format="yuv420p", threads=SWS_THREADS))


def to_frame(p: Yuv) -> av.VideoFrame:
    w, h = p.size
    frame = av.VideoFrame(w, h, "yuv420p")
    if all(pl.line_size == img.width for pl, img in zip(frame.planes, p)):
        for pl, img in zip(frame.planes, p):
            pl.update(img.tobytes())
        return frame
    flat = np.concatenate([np.asarray(p.y).reshape(-1), np.asarray(p.u).reshape(-1), np.asarray(p.v).reshape(-1)])
    return av.VideoFrame.from_ndarray(flat.reshape(h * 3 // 2, w), format="yuv420p")


def blend(a: Yuv, b: Yuv, alpha: float) -> Yuv:
    return Yuv(*(Image.blend(pa, pb, alpha) for pa, pb in zip(a, b)))


def paste(dst: Yuv, src: Yuv, xy: tuple[int, int], mask: tuple[Image.Image, Image.Image] | None = None) -> Yuv:
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
    return tuple(p.getpixel((0, 0)) for p in to_yuv(Image.new("RGB", (2, 2), rgb)))


def fill(dst: Yuv, rgb: tuple[int, int, int], box: tuple[int, int, int, int]) -> Yuv:
    """A copy of `dst` with `box` (even corners) painted in one colour."""
    out = []
    for i, (d, c) in enumerate(zip(dst, _yuv_colour(rgb))):
        d = d.copy()
        k = 1 if i == 0 else 2
        d.paste(c, tuple(v // k for v in box))
        out.append(d)
    return Yuv(*out)


class Overlay:
    """An RGBA box (text) ready to lay over yuv420p frames: its planes and its alpha at both plane sizes."""

    def __init__(self, box: Image.Image):
        w, h = box.width + box.width % 2, box.height + box.height % 2
        if (w, h) != box.size:
            padded = Image.new("RGBA", (w, h), (0, 0, 0, 0))
            padded.paste(box, (0, 0))
            box = padded
        self.size = (w, h)
        self.planes = to_yuv(box.convert("RGB"))
        alpha = box.getchannel("A")
        self.mask = (alpha, alpha.resize((w // 2, h // 2), Image.BOX))

    def over(self, frame: Yuv, xy: tuple[int, int]) -> Yuv:
        return paste(frame, self.planes, xy, self.mask)
