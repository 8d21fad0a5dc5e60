"""Motion comic mode, probed as a viewer would: where the camera is when a line starts, when a balloon shows,
whether an animated panel jumps back, what text tracks the MP4 carries (ffprobe), and the camera's numbers."""
from __future__ import annotations

import json
import shutil
import subprocess

import av
import numpy as np
import pytest

from backend.pages.model import FORMATS, Balloon, Book, Page, Panel
from backend.scenes.model import RenderInput, RenderSettings, ShotMedia
from backend.scenes.render import render_scene
from backend.scenes.render.camera import camera_path, view_at
from backend.scenes.script import parse_scene
from backend.scenes.timeline import build_timeline
from tests.scenes import media

CAST = ["Anna", "Marcus"]
FMT = FORMATS["us_comic"]
PW, PH = FMT.trim
SIZE = (256, 144)
FPS = 24
SCRIPT = ("Title: Two Pages\n\nA harbour at night. [[still]]\n\nANNA\nThe lights are out.\n\nMARCUS\nKeep your "
          "lantern low.\n\nSteam rises from the pier. [[animate]] [[hold 3s]]\n\n===\n\nA boat in the fog. [[still]]"
          "\n\nANNA\nThere, by the rocks!\n")


def two_page_book(scene) -> Book:
    """Page 1: a wide panel over a wide panel; page 2: one splash. Balloons for every line, a caption-free page."""
    s = scene.shots
    top, bottom = (27.0, 27.0, PW - 54, PH / 2 - 40), (27.0, PH / 2, PW - 54, PH / 2 - 40)
    b1 = Balloon("speech", s[0].lines[0].text, 0, (40.0, 40.0, 150.0, 40.0), ("THE LIGHTS ARE OUT.",),
                 character="Anna", shot_index=s[0].index, line_index=0)
    b2 = Balloon("speech", s[0].lines[1].text, 0, (PW - 200, 60.0, 150.0, 40.0), ("KEEP YOUR LANTERN LOW.",),
                 character="Marcus", shot_index=s[0].index, line_index=1)
    b3 = Balloon("shout", s[2].lines[0].text, 0, (60.0, 60.0, 160.0, 40.0), ("THERE, BY THE ROCKS!",),
                 character="Anna", shot_index=s[2].index, line_index=0)
    return Book(FMT, (Page(1, "2-rows", (Panel(s[0].index, top), Panel(s[1].index, bottom)), (b1, b2)),
                      Page(2, "splash", (Panel(s[2].index, (27.0, 27.0, PW - 54, PH - 54)),), (b3,))),
                title="Two Pages")


@pytest.fixture(scope="module")
def comic(tmp_path_factory):
    d = tmp_path_factory.mktemp("comic")
    scene = parse_scene(SCRIPT, CAST)
    assert [s.kind for s in scene.shots] == ["panel", "panel", "panel"]
    book = two_page_book(scene)
    shots = (ShotMedia(scene.shots[0], image=media.image(d / "a.png", color=(20, 30, 60)),
                       speech=(media.tone(d / "1.wav", 3000, 1.0), media.tone(d / "2.wav", 3000, 0.8))),
             ShotMedia(scene.shots[1], image=media.image(d / "b.png"),
                       video=media.video(d / "steam.mp4", frames=8, size=(160, 96))),
             ShotMedia(scene.shots[2], image=media.image(d / "c.png", color=(60, 20, 20)),
                       speech=(media.tone(d / "3.wav", 3000, 0.7),)))
    inp = RenderInput(scene, shots, book=book)
    result = render_scene(inp, RenderSettings(fps=FPS), d / "comic.mp4", size=SIZE)
    frames = []
    with av.open(str(result.mp4)) as c:
        for f in c.decode(video=0):
            frames.append((float(f.time), f.to_ndarray(format="rgb24").astype(np.int16)))
    return scene, book, result, frames


def test_the_camera_is_on_each_lines_panel_when_the_line_starts(comic):
    scene, book, result, _ = comic
    panels = {p.shot_index: p.box for page in book.pages for p in page.panels}
    segs = camera_path(book, result.timeline, SIZE[0] / SIZE[1])
    for ln in result.timeline.lines:
        v = view_at(segs, ln.start_s)
        x, y, w, h = v.box
        px, py, pw, ph = panels[ln.shot_index]
        assert v.turn is None
        assert px <= x + w / 2 <= px + pw and py <= y + h / 2 <= py + ph, (ln.text, v.box)
        overlap = max(0, min(x + w, px + pw) - max(x, px)) * max(0, min(y + h, py + ph) - max(y, py))
        assert overlap >= 0.5 * w * h          # the panel fills most of the frame: a little of the neighbours


def balloon_brightness(book, segs, ln, t, frame) -> float | None:
    """Mean brightness of the middle of a line's balloon where the camera shows it at time t."""
    b = next(b for page in book.pages for b in page.balloons
             if (b.shot_index, b.line_index) == (ln.shot_index, ln.line_index))
    v = view_at(segs, t)
    x, y, w, h = v.box
    bx, by, bw, bh = b.box
    fx, fy = SIZE[0] / w, SIZE[1] / h
    x0, x1 = round((bx + bw * 0.3 - x) * fx), round((bx + bw * 0.7 - x) * fx)
    y0, y1 = round((by + bh * 0.3 - y) * fy), round((by + bh * 0.7 - y) * fy)
    x0, x1, y0, y1 = max(0, x0), min(SIZE[0], x1), max(0, y0), min(SIZE[1], y1)
    if (x1 - x0) * (y1 - y0) < 12:
        return None
    return float(frame[y0:y1, x0:x1].mean())


def test_a_balloon_appears_with_its_line_and_not_before(comic):
    # the first page's art is dark: the balloon's middle turns white on the frame its line starts
    _, book, result, frames = comic
    segs = camera_path(book, result.timeline, SIZE[0] / SIZE[1])
    checked = 0
    for ln in result.timeline.lines:
        first = next(k for k, (t, _) in enumerate(frames) if t >= ln.start_s - 1e-6)
        near = [balloon_brightness(book, segs, ln, frames[k][0], frames[k][1]) for k in range(first - 3, first + 4)]
        if None in near:
            continue
        before, after = near[:2], near[4:]      # more than a frame before / after the start
        assert max(before) < 120 and min(after) > 150, (ln.text, near)
        checked += 1
    assert checked >= 2


def test_an_animated_panel_never_jumps_back_to_its_first_frame(comic):
    # the clip's bright bar walks right over 1 s (8 frames at 8 fps) inside a 3 s shot: ping-pong, never a jump
    _, book, result, frames = comic
    ts = result.timeline.shots[2]       # after the title card and the first panel
    assert ts.duration_s >= 2.5
    segs = camera_path(book, result.timeline, SIZE[0] / SIZE[1])
    px, py, pw, ph = book.pages[0].panels[1].box
    xs = []
    for t, f in frames:
        if ts.start_s + 0.5 <= t < ts.end_s - 0.1:
            x, y, w, h = view_at(segs, t).box
            a, b = max(0, round((px + 4 - x) * SIZE[0] / w)), min(SIZE[0], round((px + pw - 4 - x) * SIZE[0] / w))
            c, d = max(0, round((py + 4 - y) * SIZE[1] / h)), min(SIZE[1], round((py + ph - 4 - y) * SIZE[1] / h))
            col = f[c:d, a:b].mean(axis=(0, 2))
            xs.append(float(np.argmax(col)) / (b - a) * SIZE[0])
    steps = np.abs(np.diff(xs))
    assert len(xs) > 30 and steps.max() < SIZE[0] * 0.25, steps.max()
    assert max(xs) - min(xs) > SIZE[0] * 0.3     # it does move


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_chapters", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe (Debian's ffmpeg) is not installed")
def test_the_mp4_carries_soft_subtitles_and_a_chapter_per_page(comic):
    _, book, result, _ = comic
    assert result.mode == "motion_comic" and result.warnings == ()
    info = probe(result.mp4)
    subs = [s for s in info["streams"] if s["codec_type"] == "subtitle"]
    assert [s["codec_name"] for s in subs] == ["mov_text"]
    assert [c["tags"]["title"] for c in info["chapters"]] == ["Page 1", "Page 2"]
    turn = min(ts.start_s for ts in result.timeline.shots if ts.index == book.pages[1].panels[0].shot_index)
    assert abs(float(info["chapters"][1]["start_time"]) - turn) < 0.01
    with av.open(str(result.mp4)) as c:
        texts = [bytes(s.ass).decode() for p in c.demux(c.streams.subtitles[0]) for s in (p.decode() or [])]
    assert len(texts) == 3 and any("ANNA: The lights are out." in t for t in texts)


def test_the_title_makes_an_opening_card(comic):
    _, _, result, frames = comic
    assert result.timeline.shots[0].index == -1
    first = frames[0][1]
    assert first.mean() < 60 and (first.min(axis=2) > 200).mean() > 0.002   # light letters on a dark card


@pytest.mark.parametrize("aspect", ["9:16", "1:1", "16:9"])
def test_vertical_and_square_frames_stay_within_the_page_and_follow_the_panels(aspect):
    scene = parse_scene(SCRIPT, CAST)
    book = two_page_book(scene)
    timeline = build_timeline(scene.shots)
    ratio = {"9:16": 9 / 16, "1:1": 1.0, "16:9": 16 / 9}[aspect]
    segs = camera_path(book, timeline, ratio)
    views = [view_at(segs, k / 24) for k in range(round(timeline.duration_s * 24))]
    boxes = [v.box for v in views if v.box is not None]
    for x, y, w, h in boxes:
        assert abs(w / h - ratio) < 1e-6
        if aspect == "9:16":     # (a whole-page view in 16:9 or 1:1 shows the desk beside the page)
            assert x >= -1e-6 and y >= -1e-6 and x + w <= PW + 1e-6 and y + h <= PH + 1e-6
    # the frame is tighter than the page while a line of a panel smaller than the page (not a splash) is spoken
    for ln in timeline.lines[:2]:
        v = view_at(segs, ln.start_s)
        assert v.box[2] * v.box[3] < 0.6 * PW * PH
    # each balloon is in the frame while its line is spoken, even where the camera pans along its panel
    balloons = {(b.shot_index, b.line_index): b.box for page in book.pages for b in page.balloons}
    for ln in timeline.lines:
        bx, by, bw, bh = balloons[(ln.shot_index, ln.line_index)]
        for t in (ln.start_s, (ln.start_s + ln.end_s) / 2):
            x, y, w, h = view_at(segs, t).box
            assert x - 1e-6 <= bx and bx + bw <= x + w + 1e-6 and y - 1e-6 <= by and by + bh <= y + h + 1e-6, (
                aspect, ln.text)
    # a wide panel in 9:16 is panned along in reading order (left to right)
    if aspect == "9:16":
        first = [v.box[0] for v, k in zip(views, range(len(views)))
                 if v.shot_index == scene.shots[0].index and v.turn is None]
        assert first[-1] - first[len(first) // 2] > 20


def test_the_mode_is_checked_like_the_other_settings():
    assert RenderSettings().mode == "motion_comic"
    with pytest.raises(ValueError, match="mode: 'cartoon' is not one of motion_comic, full_frame"):
        RenderSettings(mode="cartoon")


def test_the_page_turns_by_sliding_the_next_page_in_from_the_right(comic):
    # page 1 ends on the grey animated panel, page 2's art is dark red: early in the turn, the old page fills
    # most of the frame from the left, the new one shows at the right edge
    _, _, result, frames = comic
    start = result.timeline.shots[-1].start_s
    t, f = next((t, f) for t, f in frames if t >= start + 0.1)
    q = SIZE[0] // 10
    left, right = f[:, :SIZE[0] // 2].reshape(-1, 3).mean(axis=0), f[:, -q:].reshape(-1, 3).mean(axis=0)
    assert left[0] - left[2] < 5 and right[0] > right[2] + 20, (left, right)
    before = next(f for t, f in frames if t >= start - 0.1)[:, -q:].reshape(-1, 3).mean(axis=0)
    assert before[0] - before[2] < 5            # before the turn, no red on the right
