"""The face a talking head's image must show: the lipsync job's input requirement (SONIC crops the face its detector
finds and fails without one).

Read by the studio's pre-submit check (backend/faces.py) and by the preview engine's SONIC stand-in
(worker/preview/faces.py), so both judge a portrait the same way: a portrait the studio warns about is the one the
preview engine refuses, as RunPod would. The studio and the worker share no code but this package.

OpenCV's frontal-face Haar cascade ships inside the opencv-python-headless wheel (`cv2.data.haarcascades`), so
nothing is downloaded at run time. cv2 is imported on first use: `workflows.catalogue` and the studio start without
paying for OpenCV's import.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

# Detection runs on a copy whose long side is at most this: a face that "fills a good part of the frame" is still
# 32+ pixels there, and a 1024² portrait is checked in a few tens of milliseconds.
WORK_SIDE = 320
# A face smaller than this share of the short side is too small for a talking head anyway.
MIN_FACE_SHARE = 0.1


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
