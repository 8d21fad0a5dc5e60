"""The face check SONIC_PreData's detector makes, as a CPU stand-in: the lipsync job's face requirement
(workflows/faces.py), the same detector the studio's pre-submit check uses, so a portrait the studio warns about is
the one the preview engine refuses, as RunPod would.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from workflows.faces import detect


def face_in(img: Image.Image) -> tuple[int, int, int, int] | None:
    return detect(np.asarray(img.convert("L")))
