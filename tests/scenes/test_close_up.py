"""Talking heads that fill the frame: `[[close up]]` in a dialogue block cuts from the page to the speaker's talking
head for that line (its words written under it, as no balloon shows), then the camera goes on from the panel it
left; and a full-frame talking head is a medium close-up on a plain ground in the portrait's own background
colour, not a narrow portrait over a blurred copy of itself."""
from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from backend.pages.book import build_book
from backend.scenes.model import RenderInput, RenderSettings, ScriptErrors, ShotMedia
from backend.scenes.render import render_scene
from backend.scenes.render.camera import camera_path, view_at
from backend.scenes.render.head import SHOW, framed_head, head_crop
from backend.scenes.script import parse_scene
from backend.scenes.timeline import build_timeline
from tests.scenes import media
from worker.preview.render import mark, portrait_card

CAST = ["Anna", "Marcus"]
SCRIPT = ("A harbour at night. [[still]]\n\nANNA\nThe lights are out.\n\nMARCUS\n[[close-up]]\nKeep your lantern "
          "low.\n\nANNA\nThere, by the rocks!\n")
SIZE = (256, 144)


def portrait(path, size=(160, 240), seed=4):
    img = mark(portrait_card(*size, seed=seed), "a keeper", seed)
    img.save(path)
    return path, img.getpixel((2, size[1] // 2))        # the card's background, at its left edge


def head_video(path, still, frames: int = 6):
    with Image.open(still) as im:
        a = np.asarray(im.convert("RGB"))
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=8)
        s.width, s.height, s.pix_fmt = a.shape[1], a.shape[0], "yuv420p"
        for _ in range(frames):
            for p in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def rgb(img) -> np.ndarray:
    from backend.scenes.render.compose import to_frame
    return to_frame(img).to_ndarray(format="rgb24").astype(np.int16)


def test_close_up_in_a_dialogue_block_makes_a_close_up_talking_head():
    scene = parse_scene(SCRIPT, CAST)
    assert [(s.kind, s.close_up) for s in scene.shots] == [("panel", False), ("talking_head", True), ("panel", False)]
    again = parse_scene(SCRIPT.replace("[[close-up]]", "[[Close Up]]"), CAST)
    assert again.shots[1].close_up
    with pytest.raises(ScriptErrors, match=r"line 1: \[\[close up\]\] goes in a dialogue block"):
        parse_scene("A harbour at night. [[close up]]\n", CAST)


def test_the_camera_cuts_away_for_the_close_up_and_comes_back_from_the_panel_it_left():
    scene = parse_scene(SCRIPT, CAST)
    book = build_book(scene, "us_comic")
    timeline = build_timeline(scene.shots)
    segs = camera_path(book, timeline, 16 / 9, frozenset({1}))
    line = {ln.shot_index: ln for ln in timeline.lines}
    assert view_at(segs, (line[1].start_s + line[1].end_s) / 2).page is None       # full frame
    left = [s for s in segs if s.shot_index == 0][-1]
    back = next(s for s in segs if s.shot_index == 2)
    assert back.kind == "move" and back.page == left.page == 0
    assert back.box0 == left.box1            # eases on from the panel it left, not from the whole page
    # without the note the talking head is framed on its page like any panel
    assert view_at(camera_path(book, timeline, 16 / 9), line[1].start_s).page == 0


@pytest.mark.parametrize("src, aspect, fills", [((512, 768), 16 / 9, False), ((512, 768), 9 / 16, True),
                                                ((512, 768), 1.0, True), ((512, 512), 16 / 9, False)])
def test_the_head_is_a_medium_close_up_at_the_frames_aspect_where_the_portrait_allows(src, aspect, fills):
    x, y, w, h = head_crop(*src, aspect)
    assert 0 <= x and x + w <= src[0] and 0 <= y and y + h <= src[1]
    assert h >= SHOW * src[1] - 1                       # head and shoulders: never just a face
    assert (abs(w / h - aspect) < 0.01) == fills        # 16:9 from a tall portrait: a pillarbox remains
    assert y == 0                                       # from the top: headroom and a PREVIEW bar stay
    # a face low in the picture lowers the crop just enough to keep the chin
    x, y, w, h = head_crop(512, 768, 16 / 9, face=(200, 420, 120, 140))
    assert y + h >= 420 + 140 and y > 0


def test_a_full_frame_head_fills_more_of_the_frame_on_its_own_background_colour(tmp_path):
    still, ground = portrait(tmp_path / "p.png")
    for video in (None, head_video(tmp_path / "h.mp4", still)):
        head = framed_head(video, still, *SIZE)
        a = rgb(head.frame(0.0))
        head.close()
        shown = np.abs(a - np.array(ground)).max(axis=2) > 12
        cols = np.flatnonzero(shown.any(axis=0))
        # the portrait spans more than the whole 2:3 portrait would (144 × 2/3 = 96 px) …
        assert cols[-1] - cols[0] + 1 > 1.4 * 96, (video, cols[0], cols[-1])
        # … and the rest of the frame is one plain colour, the portrait's own background (not a darkened blur)
        pillar = a[:, :max(2, cols[0] - 1)].reshape(-1, 3)
        assert np.abs(pillar - np.array(ground)).max() <= 8, (video, pillar.mean(axis=0), ground)
        red = a[:4, SIZE[0] // 2]
        assert (red[:, 0] > 150).all() and (red[:, 1] < 90).all()     # the PREVIEW bar still shows


@pytest.fixture(scope="module")
def close_up_render(tmp_path_factory):
    d = tmp_path_factory.mktemp("closeup")
    scene = parse_scene(SCRIPT, CAST)
    still, ground = portrait(d / "marcus.png")
    shots = (ShotMedia(scene.shots[0], image=media.image(d / "a.png", color=(20, 30, 60)),
                       speech=(media.tone(d / "1.wav", 3000, 0.6),)),
             ShotMedia(scene.shots[1], image=still, video=head_video(d / "marcus.mp4", still),
                       speech=(media.tone(d / "2.wav", 3000, 1.0),)),
             ShotMedia(scene.shots[2], image=media.image(d / "c.png", color=(20, 30, 60)),
                       speech=(media.tone(d / "3.wav", 3000, 0.6),)))
    result = render_scene(RenderInput(scene, shots), RenderSettings(fps=24), d / "c.mp4", size=SIZE)
    frames = []
    with av.open(str(result.mp4)) as c:
        for f in c.decode(video=0):
            frames.append((float(f.time), f.to_ndarray(format="rgb24").astype(np.int16)))
    return result, frames, ground


def test_the_close_up_fills_the_frame_with_its_line_written_under_it(close_up_render):
    result, frames, ground = close_up_render
    assert result.mode == "motion_comic"
    ln = next(ln for ln in result.timeline.lines if ln.shot_index == 1)
    _, mid = min(frames, key=lambda f: abs(f[0] - (ln.start_s + ln.end_s) / 2))
    assert np.abs(mid[:, :6].reshape(-1, 3) - np.array(ground)).max() <= 10    # the head's own ground, no page
    bottom = mid[-SIZE[1] // 4:]
    assert ((bottom.min(axis=2) > 220).mean()) > 0.01     # the line, in white letters on its dark box
    # before the cut, the camera is on the page (its white paper shows beside the panel)
    other = next(ln for ln in result.timeline.lines if ln.shot_index == 0)
    _, page = min(frames, key=lambda f: abs(f[0] - (other.start_s + other.end_s) / 2))
    assert (page.min(axis=2) > 240).mean() > 0.05
