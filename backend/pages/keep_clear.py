"""Parts of a panel's art that lettering must leave visible, though they are no face: the PREVIEW bar.

Preview-mode art (the preview engine's stand-in for ComfyUI, worker/preview/render.py `mark`) carries a solid red
bar across its top, so nobody takes it for a real result. A caption lettered over it would hide that mark, in the
book and in the motion comic alike, so lettering treats the bar as an obstacle, like a face. The bar is found in
the picture's own pixels (a band of one red across the top rows, white letters in it), so art is judged by what
it shows, wherever it was made.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from backend.pages.layout import crop_to
from backend.pages.model import Box, Panel

BAR = (200, 30, 30)         # the preview engine's bar colour
TOLERANCE = 24              # per channel: a JPEG of the art still counts
ROW_SHARE = 0.5             # a row of the bar is at least this much bar colour (its letters are white)
MAX_SHARE = 0.25            # the bar is at most this share of the picture's height


def preview_band(img: Image.Image) -> Box | None:
    """The PREVIEW bar (x, y, w, h) in the picture's pixels, or None when it has none."""
    a = np.asarray(img.convert("RGB"), dtype=np.int16)
    h = a.shape[0]
    top = a[:max(1, int(h * MAX_SHARE))]
    red = (np.abs(top - np.array(BAR, np.int16)) <= TOLERANCE).all(axis=2).mean(axis=1)
    if red[0] < 0.9:            # the bar's first row is all bar colour
        return None
    rows = int(np.argmax(red < ROW_SHARE)) if (red < ROW_SHARE).any() else len(red)
    return (0.0, 0.0, float(a.shape[1]), float(rows)) if rows >= 4 else None


def on_page(panel: Panel, art_size: tuple[int, int], faces_px: Sequence[Box], boxes_px: Sequence[Box]
            ) -> tuple[Box, ...]:
    """`boxes_px` (art pixels) → page points, through the crop the raster page makes (around `faces_px`); the
    part of each that the crop keeps, however small."""
    cx, cy, cw, ch = crop_to(art_size[0], art_size[1], panel.box[2] / panel.box[3], faces_px)
    bx, by, bw, bh = panel.box
    sx, sy = bw / cw, bh / ch
    out = []
    for x, y, w, h in boxes_px:
        x0, y0, x1, y1 = max(x, cx), max(y, cy), min(x + w, cx + cw), min(y + h, cy + ch)
        if x1 > x0 and y1 > y0:
            out.append((bx + (x0 - cx) * sx, by + (y0 - cy) * sy, (x1 - x0) * sx, (y1 - y0) * sy))
    return tuple(out)
