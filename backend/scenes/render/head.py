"""A talking head filling the frame (full-frame mode, and a motion comic's `[[close up]]`).

Portraits are tall (2:3) and a 16:9 frame is wide: the whole portrait would be a narrow strip in the middle,
and covering the frame with it would leave only eyes and nose. So the head is framed as a medium close-up:
the portrait cropped at the frame's aspect where it can be, keeping at least SHOW of its height (head and
shoulders, never just a face), from its top (headroom — and a preview picture's PREVIEW bar — stay) and lowered
only as far as the face needs; what the frame has left either side is a plain pillarbox in the portrait's own
background colour (the median of the crop's edge columns), so the picture reads as one wider portrait rather
than a picture over a blurred, ghostly copy of itself. In 9:16 and 1:1 the crop fills the frame.
"""
from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
from PIL import Image

from backend.scenes.render.clips import TalkingHead, VideoClip, contain_size, even_up
from backend.scenes.render.compose import SWS_THREADS, Yuv, planes, to_yuv

SHOW = 0.62             # of the portrait's height at least stays in view
FACE_ROOM = 1.2         # below the face's top, this many face heights stay in view (the chin and a little more)
EDGE = 4                # px of each side of the crop sampled for the pillarbox colour

Box = tuple[int, int, int, int]


def head_crop(src_w: int, src_h: int, aspect: float, face: Box | None = None) -> Box:
    """(x, y, w, h) of the portrait shown: the frame's aspect where SHOW of the height allows, else narrower."""
    ch = min(src_h, max(src_h * SHOW, src_w / aspect))
    cw = min(src_w, ch * aspect)
    cx = face[0] + face[2] / 2 if face else src_w / 2
    x = min(max(cx - cw / 2, 0.0), src_w - cw)
    y = 0.0
    if face is not None:
        y = min(max(0.0, face[1] + face[3] * FACE_ROOM - ch), src_h - ch)
    return round(x), round(y), max(2, round(cw)), max(2, round(ch))


def ground_colour(img: Image.Image, crop: Box) -> tuple[int, int, int]:
    """The median colour of the crop's outer columns: the portrait's own background."""
    x, y, w, h = crop
    a = np.asarray(img.convert("RGB"))[y:y + h]
    edges = np.concatenate([a[:, x:x + EDGE], a[:, max(x, x + w - EDGE):x + w]], axis=1).reshape(-1, 3)
    return tuple(int(v) for v in np.median(edges, axis=0))


def find_face(img: Image.Image) -> Box | None:
    from workflows.faces import detect
    try:
        return detect(np.asarray(img.convert("L")))
    except Exception:           # no detector (OpenCV missing): frame from the top, as for a faceless picture
        return None


class CroppedVideo(VideoClip):
    """A video's frames cropped to `crop` (source pixels) and scaled to `out` (w, h), as yuv420p."""

    def __init__(self, path: Path, crop: Box, out: tuple[int, int], offset: float = 0.0):
        self.crop, self.out = crop, out
        super().__init__(path, out[0], out[1], fit=out, loop=False, offset=offset)

    def _convert(self, f: av.VideoFrame) -> Yuv:
        x, y, cw, ch = self.crop
        ow, oh = self.out
        sx, sy = ow / cw, oh / ch
        fw, fh = even_up(max(ow, math.ceil(f.width * sx))), even_up(max(oh, math.ceil(f.height * sy)))
        p = planes(f.reformat(width=fw, height=fh, format="yuv420p", interpolation="BILINEAR", threads=SWS_THREADS))
        x0, y0 = min(round(x * sx) // 2 * 2, fw - ow), min(round(y * sy) // 2 * 2, fh - oh)
        return Yuv(p.y.crop((x0, y0, x0 + ow, y0 + oh)),
                   *(c.crop((x0 // 2, y0 // 2, (x0 + ow) // 2, (y0 + oh) // 2)) for c in p[1:]))


class CroppedImage:
    """A still portrait standing in for the talking-head video, framed the same way."""

    def __init__(self, img: Image.Image, crop: Box, out: tuple[int, int]):
        x, y, cw, ch = crop
        self.img = img.convert("RGB")
        self.scaled = to_yuv(self.img.crop((x, y, x + cw, y + ch)).resize(out, Image.LANCZOS))

    def frame(self, t: float) -> Yuv:
        return self.scaled

    def close(self):
        pass


def framed_head(video: Path | None, image: Path | None, w: int, h: int, lead_in: float = 0.0) -> TalkingHead:
    """The talking head (its video, else its portrait) framed to fill w×h as the module's docstring says."""
    if video is not None:
        with av.open(str(video)) as c:
            first = next(c.decode(video=0)).to_image()
    else:
        with Image.open(image) as im:
            first = im.convert("RGB")
    crop = head_crop(first.width, first.height, w / h, find_face(first))
    out = contain_size(crop[2], crop[3], w, h)
    head = CroppedVideo(video, crop, out, lead_in) if video is not None else CroppedImage(first, crop, out)
    return TalkingHead(head, w, h, ground=ground_colour(first, crop))
