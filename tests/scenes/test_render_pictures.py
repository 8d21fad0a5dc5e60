"""What the picture looks like after the renderer composes in yuv420p: colours as painted, a push-in that
zooms steadily (no back-and-forth jitter from whole-pixel crops), a pan that travels one way."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from backend.scenes.model import RenderInput, RenderSettings, ShotMedia
from backend.scenes.render import render_scene
from backend.scenes.script import parse_scene

SIZE = (320, 180)


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.float64) for f in c.decode(video=0)]


def one_shot(tmp_path: Path, note: str, picture: Image.Image) -> list[np.ndarray]:
    scene = parse_scene(f"A square on black. {note} [[hold 2s]]\n", [])
    picture.save(tmp_path / "p.png")
    shots = (ShotMedia(scene.shots[0], image=tmp_path / "p.png"),)
    result = render_scene(RenderInput(scene, shots), RenderSettings(fps=24, mode="full_frame"), tmp_path / "s.mp4", size=SIZE)
    return frames(result.mp4)


def square(size=(640, 360), half=60) -> Image.Image:
    img = Image.new("RGB", size, (0, 0, 0))
    cx, cy = size[0] // 2, size[1] // 2
    ImageDraw.Draw(img).rectangle((cx - half, cy - half, cx + half - 1, cy + half - 1), fill=(255, 255, 255))
    return img


def test_a_still_keeps_its_colours(tmp_path):
    img = Image.new("RGB", (640, 360), (200, 40, 60))
    img.paste((30, 160, 90), (320, 0, 640, 360))
    f = one_shot(tmp_path, "[[still]]", img)[10]
    left, right = f[40:140, 20:140].mean(axis=(0, 1)), f[40:140, 180:300].mean(axis=(0, 1))
    assert np.abs(left - (200, 40, 60)).max() <= 5, left
    assert np.abs(right - (30, 160, 90)).max() <= 5, right


def test_a_push_in_grows_the_picture_steadily(tmp_path):
    # the square's left edge, to a fraction of a pixel: the share of the left half that is lit
    edges = [160 - f[80:100, :160].mean(axis=(0, 2)).sum() / 255
             for f in one_shot(tmp_path, "[[push in]]", square())]
    assert edges[0] - edges[-1] > 3, (edges[0], edges[-1])              # 60 px wide grows by about 12 %
    assert np.diff(edges).max() < 0.15, np.diff(edges).round(2).tolist()  # never steps back (jitter)


def test_a_pan_right_travels_one_way(tmp_path):
    def centre_x(f):
        row = f[85:95].mean(axis=(0, 2))
        return (row * np.arange(len(row))).sum() / row.sum()
    xs = [centre_x(f) for f in one_shot(tmp_path, "[[pan right]]", square((800, 360)))]
    assert xs[0] - xs[-1] > 15, (xs[0], xs[-1])         # the camera moves right: the square goes left
    assert np.diff(xs).max() < 0.35, np.diff(xs).round(2).tolist()
