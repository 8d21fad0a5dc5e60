"""Test pictures for the face checks: a photographed face from the registry's own test images (scikit-image ships
NASA's public-domain portrait of Eileen Collins as skimage/data/astronaut.png), a drawn landscape panel, a blank."""
from __future__ import annotations

import importlib.resources
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Where the face is in astronaut.png (512×512): centre and size, from the cascade's box (176, 66, 98, 98).
_FACE_CX, _FACE_CY, _FACE = 225, 115, 98


def astronaut() -> Image.Image:
    path = importlib.resources.files("skimage") / "data" / "astronaut.png"
    with Image.open(io.BytesIO(path.read_bytes())) as im:
        return im.convert("RGB")


def face_photo(width: int = 512, height: int = 512) -> Image.Image:
    """A head-and-shoulders crop of the astronaut photo at `width`×`height` (face about a third of the height)."""
    src = astronaut()
    ch = min(512, int(_FACE * 3.2))
    cw = min(512, int(ch * width / height))
    ch = int(cw * height / width) if cw == 512 else ch
    x0 = min(max(0, _FACE_CX - cw // 2), 512 - cw)
    y0 = min(max(0, _FACE_CY - int(ch * 0.4)), 512 - ch)
    return src.crop((x0, y0, x0 + cw, y0 + ch)).resize((width, height), Image.LANCZOS)


def landscape(width: int = 768, height: int = 512) -> Image.Image:
    """A comic landscape panel: sky, sun, hills, a road; no one in it."""
    img = Image.new("RGB", (width, height))
    sky = np.linspace([90, 150, 230], [200, 225, 250], height).astype(np.uint8)
    img.paste(Image.fromarray(np.repeat(sky[:, None, :], width, axis=1)), (0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse([width * 0.72, height * 0.08, width * 0.84, height * 0.26], fill=(255, 220, 90))
    d.polygon([(0, height * 0.6), (width * 0.3, height * 0.3), (width * 0.6, height * 0.55), (width * 0.85, height * 0.35),
               (width, height * 0.5), (width, height), (0, height)], fill=(70, 130, 70))
    d.polygon([(width * 0.45, height), (width * 0.55, height * 0.55), (width * 0.58, height * 0.55),
               (width * 0.75, height)], fill=(120, 110, 100))
    return img


def blank(width: int = 512, height: int = 512) -> Image.Image:
    return Image.new("RGB", (width, height), (200, 200, 200))


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def save(img: Image.Image, path: Path) -> Path:
    img.save(path)
    return path
