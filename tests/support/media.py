"""Sample media a person brings to the studio: a spoken reference clip and a drawn face, for the browser tests and
docs/screenshots.py."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw

REFERENCE_TEXT = "Hello there. My name is Captain Mara, and I fly the night mail over the harbour city."


def spoken_reference(path: Path) -> Path:
    """A spoken clip (espeak-ng when installed, else a voiced tone of the same length)."""
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(path), REFERENCE_TEXT], check=True, capture_output=True)
    else:
        t = np.linspace(0, 6, 6 * 22050, endpoint=False)
        sf.write(path, 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2, 22050)
    return path


def drawn_face(path: Path, background: tuple[int, int, int] = (200, 180, 160)) -> Path:
    """A 512×512 drawing of a face: skin-coloured oval, two eyes, a smile."""
    im = Image.new("RGB", (512, 512), background)
    dr = ImageDraw.Draw(im)
    dr.ellipse((136, 96, 376, 416), fill=(235, 200, 170))
    dr.ellipse((196, 206, 226, 236), fill=(40, 40, 40))
    dr.ellipse((286, 206, 316, 236), fill=(40, 40, 40))
    dr.arc((206, 296, 306, 356), 0, 180, fill=(120, 30, 30), width=6)
    im.save(path)
    return path
