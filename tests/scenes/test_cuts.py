"""Full-frame cuts as an editor would make them: hard cuts by default, a cross-fade only where the script asks
([[dissolve]]), and a cut to each speaker's picture when the speaker changes within a shot."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

from backend.scenes.model import RenderInput, RenderSettings, ShotMedia
from backend.scenes.render import render_scene
from backend.scenes.script import parse_scene
from tests.scenes import media

SIZE = (160, 90)
RED, BLUE, GREEN, YELLOW = (220, 30, 30), (30, 30, 220), (30, 200, 60), (230, 220, 30)


def flat(path: Path, rgb) -> Path:
    Image.new("RGB", (320, 180), rgb).save(path)
    return path


def mean_colours(path: Path) -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as c:
        return [(float(f.time), f.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0))
                for f in c.decode(video=0)]


def mixed(colours, a, b) -> int:
    """Frames that are neither colour a nor colour b (a blend of the two)."""
    return sum(1 for _, c in colours if min(np.abs(c - a).max(), np.abs(c - b).max()) > 25)


def render_two(tmp_path: Path, note: str) -> list:
    scene = parse_scene(f"A red room. [[still]] [[hold 1s]]\n\nA blue room. [[still]] [[hold 1s]] {note}\n", [])
    assert scene.shots[1].transition == ("dissolve" if note else "cut")
    shots = (ShotMedia(scene.shots[0], image=flat(tmp_path / "r.png", RED)),
             ShotMedia(scene.shots[1], image=flat(tmp_path / "b.png", BLUE)))
    out = tmp_path / f"two{bool(note)}.mp4"
    render_scene(RenderInput(scene, shots), RenderSettings(mode="full_frame"), out, size=SIZE)
    return mean_colours(out)


def test_shots_cut_hard_unless_the_script_asks_for_a_dissolve(tmp_path):
    red, blue = np.array(RED), np.array(BLUE)
    assert mixed(render_two(tmp_path, ""), red, blue) == 0
    assert mixed(render_two(tmp_path, "[[dissolve]]"), red, blue) >= 5     # 0.4 s at 24 fps ≈ 9 frames


def test_a_shot_cuts_to_the_speaker_when_the_speaker_changes(tmp_path):
    scene = parse_scene("A green field. [[still]]\n\nANNA\nHello there.\n\nMARCUS\nGood evening.\n\n"
                        "ANNA\nLovely night.\n", ["Anna", "Marcus"])
    assert len(scene.shots) == 1
    shot = ShotMedia(scene.shots[0], image=flat(tmp_path / "g.png", GREEN),
                     speech=tuple(media.tone(tmp_path / f"{i}.wav", 3000, 0.8) for i in range(3)))
    portraits = (("Anna", flat(tmp_path / "anna.png", YELLOW)), ("Marcus", flat(tmp_path / "marcus.png", BLUE)))
    result = render_scene(RenderInput(scene, (shot,), portraits=portraits), RenderSettings(mode="full_frame"),
                          tmp_path / "talk.mp4", size=SIZE)
    colours = mean_colours(result.mp4)

    def at(t):
        return next(c for ft, c in colours if ft >= t)
    first, second, third = result.timeline.lines
    assert np.abs(at(first.start_s + 0.3) - GREEN).max() < 25        # the panel for the first speaker
    assert np.abs(at(second.start_s + 0.1) - BLUE).max() < 25        # Marcus, as he starts
    assert np.abs(at(third.start_s + 0.1) - YELLOW).max() < 25       # back to Anna
    # without a picture of every speaker, the panel stays
    plain = render_scene(RenderInput(scene, (shot,), portraits=portraits[:1]), RenderSettings(mode="full_frame"),
                         tmp_path / "plain.mp4", size=SIZE)
    assert all(np.abs(c - GREEN).max() < 25 for _, c in mean_colours(plain.mp4))
