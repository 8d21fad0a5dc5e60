"""The face check SONIC_PreData's detector makes, as a CPU stand-in: OpenCV's bundled frontal-face Haar cascade.

Same cascade and parameters as the studio's check (backend/faces.py; the worker never imports backend), so a
portrait the studio warns about is the one the preview engine refuses, as RunPod would.
"""
from __future__ import annotations

from functools import lru_cache
import numpy as np
from PIL import Image

WORK_SIDE = 320          # detection runs on a copy whose long side is at most this
MIN_FACE_SHARE = 0.1     # smaller faces (share of the short side) do not count


@lru_cache(maxsize=1)
def _cascade():
    import cv2
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


def face_in(img: Image.Image) -> tuple[int, int, int, int] | None:
    return detect(np.asarray(img.convert("L")))
