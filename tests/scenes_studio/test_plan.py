"""The plan of "make what's missing": what each shot needs, in which order, and what is never sent twice."""
from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend.cast import Character
from backend.scenes import plan as P
from backend.scenes.model import Line, RenderSettings, Scene, Shot

STYLES = {"None": "", "Noir": "film noir, high contrast"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name, hz in (("mara_voice", 220), ("ben_voice", 150)):
        p = tmp_path / f"{name}.wav"
        sf.write(p, 0.2 * np.sin(2 * np.pi * hz * np.arange(16000 * 3) / 16000), 16000)
        out[name] = str(p)
    face = tmp_path / "mara.png"
    Image.new("RGB", (512, 512), (200, 150, 120)).save(face)
    out["mara_face"] = str(face)
    return out


def cast(files):
    return {"Mara": Character("m1", "Mara", look="red coat, silver hair", portrait=files["mara_face"],
                              voice="Mara voice", seed=7, style="Noir"),
            "Ben": Character("b1", "Ben", look="young mechanic", voice="Ben voice", seed=-1)}


def voices(files):
    return {"Mara voice": (files["mara_voice"], "Hello, I am Mara."), "Ben voice": (files["ben_voice"], "Ben here.")}


def scene(mara_line: str = "The lights are out.") -> Scene:
    return Scene(heading="EXT. HARBOUR - NIGHT", title=None, music="ambient, slow strings", shots=(
        Shot(0, "panel", 3, "The harbour at night, Mara on the pier.", lines=(Line("Mara", mara_line, None, 5),)),
        Shot(1, "talking_head", 8, "", character="Ben", lines=(Line("Ben", "Then we row in the dark.", None, 9),)),
        Shot(2, "panel", 12, "A rowing boat slides into the fog.", animate="svd"),
    ))


def make_plan(files, sc=None, overrides=None, music=None):
    return P.plan(sc or scene(), cast(files), settings=RenderSettings(aspect="16:9"), overrides=overrides or {},
                  music=music or {"source": "script"}, style="Noir", styles=STYLES, voices=voices(files))


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def seconds(path: str) -> float:
    return sf.info(path).duration


class FakeEndpoint:
    """Stands in for the completed jobs: every sent step makes a distinct file; `made` is what exists by key."""

    def __init__(self, root: Path):
        self.root, self.by_key, self.sent = root, {}, []

    def made(self, key: str) -> str | None:
        return self.by_key.get(key)

    def run(self, s: P.Settled) -> None:
        self.sent.append(s.step.id)
        n = len(self.sent)
        if s.step.kind == "audio":
            p = self.root / f"out{n}.wav"
            sf.write(p, np.full(16000 * 2, 0.01 * n), 16000)
        else:
            p = self.root / f"out{n}.{'png' if s.step.kind == 'image' else 'mp4'}"
            p.write_bytes(f"{s.step.id}-{n}".encode())
        self.by_key[s.key] = str(p)

    def make_all(self, p: P.Plan, sc: Scene) -> list[list[str]]:
        """Send in rounds, as the maker does: everything sendable now, then settle again."""
        rounds = []
        while True:
            settled = P.assess(p, sc, {}, made=self.made, sha=sha, seconds=seconds)
            todo = [s for s in settled.values() if s.state == "missing"]
            if not todo:
                assert all(s.state == "ready" for s in settled.values()), settled
                return rounds
            for s in todo:
                self.run(s)
            rounds.append([s.step.id for s in todo])


def test_steps_follow_the_scene(files):
    p = make_plan(files)
    ids = [s.id for s in p.steps]
    # Ben has no portrait, so his is made from his look; Mara's own portrait is used as it is.
    assert ids == ["speech:0:0", "image:0", "speech:1:0", "portrait:Ben", "head:1", "image:2", "animate:2", "music"]
    image0 = p.step("image:0").inputs
    assert (image0["width"], image0["height"]) == (1024, 576)              # framed like a 16:9 render
    assert "red coat, silver hair" in image0["prompt"] and "film noir" in image0["prompt"]
    speech = p.step("speech:0:0").inputs
    assert speech["reference_audio"] == files["mara_voice"] and speech["reference_text"] == "Hello, I am Mara."
    assert speech["seed"] == 7 and speech["text"] == "The lights are out."
    assert p.step("animate:2").inputs["mode"] == "svd"
    assert p.step("music").inputs["tags"] == "ambient, slow strings"
    assert not p.problems


def test_nothing_waits_without_reason_and_dependents_wait(files, tmp_path):
    p = make_plan(files)
    settled = P.assess(p, scene(), {}, made=lambda k: None, sha=sha, seconds=seconds)
    state = {k: s.state for k, s in settled.items()}
    assert state == {"speech:0:0": "missing", "image:0": "missing", "speech:1:0": "missing",
                     "portrait:Ben": "missing", "head:1": "waiting", "image:2": "missing", "animate:2": "waiting",
                     "music": "waiting"}
    ep = FakeEndpoint(tmp_path)
    rounds = ep.make_all(p, scene())
    assert rounds[0] == ["speech:0:0", "image:0", "speech:1:0", "portrait:Ben", "image:2"]
    # After its speech and portrait: the talking head; after its image: the animation; after all speech: music.
    assert sorted(rounds[1]) == ["animate:2", "head:1", "music"]
    head = P.assess(p, scene(), {}, made=ep.made, sha=sha, seconds=seconds)["head:1"]
    assert head.inputs["audio"] == ep.by_key[P.assess(p, scene(), {}, made=ep.made, sha=sha,
                                                      seconds=seconds)["speech:1:0"].key]
    music = P.assess(p, scene(), {}, made=ep.made, sha=sha, seconds=seconds)["music"]
    # Two 2 s lines plus gaps and a silent 3 s shot: about 10 s, rounded up to 5 s steps.
    assert music.inputs["duration"] == 10.0


def test_when_all_is_made_nothing_is_sent(files, tmp_path):
    ep = FakeEndpoint(tmp_path)
    ep.make_all(make_plan(files), scene())
    sent = len(ep.sent)
    assert sent == 8
    assert ep.make_all(make_plan(files), scene()) == []
    assert len(ep.sent) == sent


def test_editing_one_line_remakes_only_that_line(files, tmp_path):
    ep = FakeEndpoint(tmp_path)
    ep.make_all(make_plan(files), scene())
    ep.sent.clear()
    edited = scene("The lights are out, all of them.")
    rounds = ep.make_all(make_plan(files, edited), edited)
    assert rounds == [["speech:0:0"]]       # the music's length rounds to the same 10 s, so it is kept


def test_a_new_take_remakes_that_shots_speech_and_motion_only(files, tmp_path):
    ep = FakeEndpoint(tmp_path)
    ep.make_all(make_plan(files), scene())
    ep.sent.clear()
    takes = {"1": {"take": 11}, "2": {"take": 12}}
    rounds = ep.make_all(make_plan(files, overrides=takes), scene())
    # Ben's line and his talking head, and the boat's animation; no image, no music, nothing of Mara's.
    assert rounds == [["speech:1:0", "animate:2"], ["head:1"]]
    assert make_plan(files, overrides=takes).step("speech:1:0").inputs["seed"] == 11
    assert ep.make_all(make_plan(files, overrides=takes), scene()) == []


def test_media_is_compared_by_content_not_by_path(files, tmp_path):
    ep = FakeEndpoint(tmp_path)
    ep.make_all(make_plan(files), scene())
    copy = tmp_path / "copy-of-mara.png"
    copy.write_bytes(Path(files["mara_face"]).read_bytes())
    moved = dict(files, mara_face=str(copy))
    assert ep.make_all(make_plan(moved), scene()) == []


def test_overrides_pick_the_image_engine_and_duration(files, tmp_path):
    ov = {"0": {"image": files["mara_face"], "engine": "animatelcm"}, "2": {"engine": "none", "duration": 4}}
    p = make_plan(files, overrides=ov)
    ids = [s.id for s in p.steps]
    assert "image:0" not in ids and "animate:2" not in ids
    assert p.step("animate:0").inputs == {"image": files["mara_face"], "mode": "animatelcm"}
    assert p.image[0] == files["mara_face"]


def test_problems_name_the_shot_and_the_rest_is_planned(files):
    c = cast(files)
    c["Ben"] = replace(c["Ben"], voice=None)
    p = P.plan(scene(), c, settings=RenderSettings(), overrides={}, music={"source": "library"}, style="None",
               styles=STYLES, voices=voices(files))
    assert [(x.shot, x.message) for x in p.problems] == [
        (1, "Ben has no voice: pick one in the Cast tab"),
        (None, "music: pick a track (or choose another music setting)")]
    assert "speech:0:0" in [s.id for s in p.steps] and "image:2" in [s.id for s in p.steps]


def test_a_square_render_frames_square_panels_and_music_can_be_switched_off(files):
    p = P.plan(scene(), cast(files), settings=RenderSettings(aspect="1:1"), overrides={}, music={"source": "none"},
               style="None", styles=STYLES, voices=voices(files))
    assert (p.step("image:0").inputs["width"], p.step("image:0").inputs["height"]) == (768, 768)
    assert "music" not in [s.id for s in p.steps] and p.music is None
