"""Test media made on the spot: images (Pillow), tones as WAV (soundfile), tiny MP4s (PyAV)."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw


def image(path: Path, size=(480, 360), color=(40, 70, 110)) -> Path:
    im = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(im)
    for x in range(0, size[0], 24):
        draw.line([(x, 0), (x, size[1])], fill=(230, 230, 230), width=2)
    draw.ellipse((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2), fill=(220, 30, 30))
    im.save(path)
    return path


def tone(path: Path, freq: float, seconds: float, amp: float = 0.3, rate: int = 22050) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path


def video(path: Path, frames: int = 12, size=(160, 160), fps: int = 8) -> Path:
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        for k in range(frames):
            a = np.full((size[1], size[0], 3), 60, np.uint8)
            x = k * size[0] // frames
            a[:, x:x + 12] = 250
            for p in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def decoded_audio(path: Path) -> tuple[np.ndarray, int]:
    """The render's audio, mono float32, and its rate."""
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].rate
        parts = [f.to_ndarray() for f in c.decode(audio=0)]
    data = np.concatenate(parts, axis=1)
    return data.mean(axis=0), rate


def band_rms(x: np.ndarray, rate: int, lo: float, hi: float) -> float:
    """RMS of the part of x between lo and hi Hz."""
    spec = np.fft.rfft(x * np.hanning(len(x)))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    band = spec[(freqs >= lo) & (freqs <= hi)]
    return float(np.sqrt(np.sum(np.abs(band) ** 2)) / len(x))
