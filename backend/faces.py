"""Is there a face in this portrait? A fast CPU check before a talking head is sent (SONIC fails without one).

OpenCV's frontal-face Haar cascade ships inside the opencv-python-headless wheel (`cv2.data.haarcascades`), so
nothing is downloaded at run time. The preview engine (worker/preview/faces.py) uses the same cascade and the same
parameters, so preview mode refuses exactly the portraits this check warns about.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ADVICE = ("no face was found in the portrait; use a front-facing head-and-shoulders image where the face fills a "
          "good part of the frame")
# Detection runs on a copy whose long side is at most this: a face that "fills a good part of the frame" is still
# 32+ pixels there, and a 1024² portrait is checked in a few tens of milliseconds.
WORK_SIDE = 320
# A face smaller than this share of the short side is too small for a talking head anyway.
MIN_FACE_SHARE = 0.1


@dataclass(frozen=True)
class FaceCheck:
    found: bool
    box: tuple[int, int, int, int] | None   # (x, y, width, height) of the largest face, in the image's pixels
    ms: float                               # time the check took


@lru_cache(maxsize=1)
def _cascade():
    import cv2  # imported on first use: the studio starts without paying for OpenCV's import
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise RuntimeError("OpenCV's frontal-face cascade could not be loaded")
    return cascade


def detect(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """Largest face box (x, y, w, h) in a uint8 grayscale array, or None."""
    h, w = gray.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    small = gray
    if scale < 1.0:
        small = np.asarray(Image.fromarray(gray).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                        Image.BILINEAR))
    side = max(20, int(min(small.shape[:2]) * MIN_FACE_SHARE))
    faces = _cascade().detectMultiScale(small, scaleFactor=1.15, minNeighbors=5, minSize=(side, side))
    if len(faces) == 0:
        return None
    x, y, fw, fh = max(faces, key=lambda f: f[2] * f[3])
    return tuple(int(round(v / scale)) for v in (x, y, fw, fh))


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
