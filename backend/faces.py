"""Is there a face in this portrait? A fast CPU check before a talking head is sent (SONIC fails without one).

The detector is the lipsync job's own face requirement (workflows/faces.py), which the preview engine's SONIC
stand-in uses too, so preview mode refuses exactly the portraits this check warns about.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from workflows.faces import WORK_SIDE, detect

ADVICE = ("no face was found in the portrait; use a front-facing head-and-shoulders image where the face fills a "
          "good part of the frame")


@dataclass(frozen=True)
class FaceCheck:
    found: bool
    box: tuple[int, int, int, int] | None   # (x, y, width, height) of the largest face, in the image's pixels
    ms: float                               # time the check took


def find_face(path: str | Path) -> FaceCheck:
    """Look for a face in an image file; an unreadable file counts as no face."""
    t0 = time.perf_counter()
    try:
        with Image.open(path) as im:
            full = im.size[0]
            im.draft("L", (WORK_SIDE, WORK_SIDE))   # JPEG: decode at a reduced size (much faster)
            factor = full / im.size[0]
            gray = np.asarray(ImageOps.exif_transpose(im).convert("L"))
    except (OSError, ValueError):
        return FaceCheck(False, None, (time.perf_counter() - t0) * 1000)
    box = detect(gray)
    if box is not None:
        box = tuple(int(round(v * factor)) for v in box)
    return FaceCheck(box is not None, box, (time.perf_counter() - t0) * 1000)
