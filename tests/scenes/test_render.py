"""The renderer, probed with PyAV the way a user would check the file: length, size, rate, sound, subtitles."""
from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np
import pytest

from backend.scenes.model import RenderInput, RenderSettings, ShotMedia
from backend.scenes.render import RenderError, render_scene
from backend.scenes.script import parse_scene
from tests.scenes import media

CAST = ["Anna", "Marcus"]
MUSIC_HZ, SPEECH_HZ = 200.0, 3000.0


def probe(path: Path) -> dict:
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio
        return {"duration": c.duration / 1e6, "size": (v.codec_context.width, v.codec_context.height),
                "fps": float(v.average_rate), "frames": v.frames, "video": v.codec_context.name,
                "audio": [s.codec_context.name for s in a], "channels": [s.channels for s in a]}


def cue_starts(text: str) -> list[float]:
    times = re.findall(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) -->", text)
    return [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms in times]


@pytest.fixture(scope="module")
def scene_render(tmp_path_factory):
    """Four shots: a still with a caption and two lines, a talking head (video), an animated panel, a card."""
    d = tmp_path_factory.mktemp("render")
    scene = parse_scene(
        "INT. ROOM - NIGHT\n\n[[music: test]]\n\nA room. [[caption: Meanwhile]]\n\nANNA\nHello there.\n\n"
        "MARCUS\nWhat?\n\nMARCUS\n[[talking head]]\nHi.\n\nSteam rises. [[animate]]\n\n>THE END<\n", CAST)
    assert [s.kind for s in scene.shots] == ["panel", "talking_head", "panel", "title"]
    shots = (
        ShotMedia(scene.shots[0], image=media.image(d / "room.png"),
                  speech=(media.tone(d / "l1.wav", SPEECH_HZ, 1.2), media.tone(d / "l2.wav", SPEECH_HZ, 0.6))),
        ShotMedia(scene.shots[1], image=media.image(d / "face.png", (256, 256)), video=media.video(d / "head.mp4"),
                  speech=(media.tone(d / "l3.wav", SPEECH_HZ, 0.8),)),
        ShotMedia(scene.shots[2], video=media.video(d / "steam.mp4", frames=10)),
        ShotMedia(scene.shots[3]),
    )
    music = media.tone(d / "music.wav", MUSIC_HZ, 2.5, amp=0.5, rate=44100)   # shorter than the scene: loops
    settings = RenderSettings(fps=24, burn_subtitles=True, talking_head="inset", mode="full_frame")
    reports = []
    result = render_scene(RenderInput(scene, shots, music), settings, d / "out" / "scene.mp4",
                          progress=lambda f, m: reports.append((f, m)), size=(320, 180))
    return result, settings, reports


def test_the_render_is_as_long_as_the_timeline_at_the_size_and_rate_asked_with_sound(scene_render):
    result, settings, _ = scene_render
    info = probe(result.mp4)
    one_frame = 1 / settings.fps
    assert abs(info["duration"] - result.timeline.duration_s) <= one_frame
    assert abs(info["frames"] / settings.fps - result.timeline.duration_s) <= one_frame
    assert info["size"] == (320, 180) and info["fps"] == 24
    assert info["video"] == "h264" and info["audio"] == ["aac"] and info["channels"] == [2]
    assert result.duration_s == result.timeline.duration_s
    assert not list(result.mp4.parent.glob(".*rendering*"))


def test_subtitle_cues_start_when_the_lines_are_spoken(scene_render):
    result, settings, _ = scene_render
    one_frame = 1 / settings.fps
    starts = [ln.start_s for ln in result.timeline.lines]
    srt, vtt = result.srt.read_text(), result.vtt.read_text()
    assert vtt.startswith("WEBVTT") and "<v Marcus>Hi." in vtt and "\nANNA: Hello there.\n" in srt
    for cues in (cue_starts(srt), cue_starts(vtt)):
        assert len(cues) == 3
        assert all(abs(c - s) <= one_frame for c, s in zip(cues, starts))
    # and the speech really starts there in the audio
    audio, rate = media.decoded_audio(result.mp4)
    for start in starts:
        times = np.arange(start - 0.25, start + 0.25, 0.005)
        level = [media.band_rms(audio[int(t * rate):int((t + 0.02) * rate)], rate, 2500, 3500) for t in times]
        onset = times[int(np.argmax(np.array(level) > max(level) / 2))]
        assert abs(onset + 0.01 - start) <= one_frame


def test_progress_is_reported_in_order_up_to_done(scene_render):
    _, _, reports = scene_render
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(reports) >= 3
    assert any(m.startswith("Rendering shot 2 of 4 (talking head, line 13)") for _, m in reports)


def test_music_is_ducked_at_least_9_db_under_speech(tmp_path):
    scene = parse_scene("A street. [[hold 3s]]\n\nA bar.\n\nANNA\nHello.\n\nA car. [[hold 3s]]\n", CAST)
    shots = (ShotMedia(scene.shots[0], image=media.image(tmp_path / "a.png")),
             ShotMedia(scene.shots[1], image=media.image(tmp_path / "b.png"),
                       speech=(media.tone(tmp_path / "s.wav", SPEECH_HZ, 2.0),)),
             ShotMedia(scene.shots[2], image=media.image(tmp_path / "c.png")))
    music = media.tone(tmp_path / "m.wav", MUSIC_HZ, 12.0, amp=0.5)
    result = render_scene(RenderInput(scene, shots, music), RenderSettings(), tmp_path / "duck.mp4", size=(160, 90))
    line = result.timeline.lines[0]
    audio, rate = media.decoded_audio(result.mp4)

    def music_db(t0, t1):
        return 20 * np.log10(media.band_rms(audio[int(t0 * rate):int(t1 * rate)], rate, 150, 250))

    during = music_db(line.start_s + 0.2, line.start_s + 1.8)
    before = music_db(1.2, 2.8)           # after the fade-in, before the duck starts
    assert before - during >= 9.0, (before, during)
    assert before - during <= 14.0        # about −12 dB, not muted


@pytest.mark.parametrize("aspect,resolution,fps,size", [
    ("16:9", 1080, 30, (1920, 1080)), ("9:16", 1080, 25, (1080, 1920)), ("1:1", 1080, 24, (1080, 1080)),
])
def test_the_real_frame_sizes_and_rates(tmp_path, aspect, resolution, fps, size):
    scene = parse_scene("A tall tower. [[hold 0.5s]] [[pan left]]\n", CAST)
    shots = (ShotMedia(scene.shots[0], image=media.image(tmp_path / "t.png", (300, 500))),)
    settings = RenderSettings(aspect=aspect, resolution=resolution, fps=fps)
    assert settings.size == size
    result = render_scene(RenderInput(scene, shots), settings, tmp_path / "s.mp4")
    info = probe(result.mp4)
    assert info["size"] == size and info["fps"] == fps and info["audio"] == ["aac"]
    assert abs(info["duration"] - 0.5) <= 1 / fps


def test_unreadable_media_names_the_shot_and_keeps_the_previous_render(tmp_path):
    scene = parse_scene("A room.\n\nA hall.\n", CAST)
    good = (ShotMedia(scene.shots[0], image=media.image(tmp_path / "a.png"), duration_s=0.5),
            ShotMedia(scene.shots[1], image=media.image(tmp_path / "b.png"), duration_s=0.5))
    out = tmp_path / "scene.mp4"
    render_scene(RenderInput(scene, good), RenderSettings(), out, size=(160, 90))
    before = out.read_bytes(), out.with_suffix(".srt").read_bytes()

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    bad = (good[0], ShotMedia(scene.shots[1], image=broken))
    with pytest.raises(RenderError) as e:
        render_scene(RenderInput(scene, bad), RenderSettings(), out, size=(160, 90))
    assert str(e.value).startswith("shot 2 (panel, line 3): the image cannot be read")
    assert str(tmp_path) not in str(e.value)

    bad_video = tmp_path / "broken.mp4"
    bad_video.write_bytes(b"\x00" * 2000)
    with pytest.raises(RenderError, match=r"^shot 1 \(panel, line 1\): the video cannot be read"):
        render_scene(RenderInput(scene, (ShotMedia(scene.shots[0], video=bad_video), good[1])),
                     RenderSettings(), out, size=(160, 90))
    with pytest.raises(RenderError, match=r"^shot 2 \(panel, line 3\): it has no image yet"):
        render_scene(RenderInput(scene, (good[0], ShotMedia(scene.shots[1]))), RenderSettings(), out, size=(160, 90))
    assert (out.read_bytes(), out.with_suffix(".srt").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_render_into_a_folder_names_the_files_after_the_title(tmp_path):
    from backend.scenes.render import render
    scene = parse_scene("Title: The Big Night\n\nA room. [[hold 0.5s]]\n", CAST)
    shots = (ShotMedia(scene.shots[0], image=media.image(tmp_path / "a.png")),)
    result = render(RenderInput(scene, shots), RenderSettings(), tmp_path, size=(160, 90))
    assert [p.name for p in (result.mp4, result.srt, result.vtt)] == [
        "the-big-night.mp4", "the-big-night.srt", "the-big-night.vtt"]
    assert result.srt.read_text() == "" and result.vtt.read_text() == "WEBVTT\n\n"


def frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            if f.time >= t:
                return f.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError(f"no frame at {t}")


def test_burned_subtitles_show_only_while_the_line_is_spoken(tmp_path):
    scene = parse_scene("A room. [[still]]\n\nANNA\nHello there, how are you?\n\nA hall. [[still]] [[hold 1s]]\n", CAST)
    shots = (ShotMedia(scene.shots[0], image=media.image(tmp_path / "a.png"),
                       speech=(media.tone(tmp_path / "s.wav", SPEECH_HZ, 1.0),)),
             ShotMedia(scene.shots[1], image=media.image(tmp_path / "b.png")))
    plain = render_scene(RenderInput(scene, shots), RenderSettings(mode="full_frame"), tmp_path / "plain.mp4", size=(320, 180))
    burned = render_scene(RenderInput(scene, shots), RenderSettings(burn_subtitles=True, mode="full_frame"), tmp_path / "burned.mp4",
                          size=(320, 180))
    line = plain.timeline.lines[0]
    bottom = slice(120, 180)
    during = np.abs(frame_at(plain.mp4, line.start_s + 0.5) - frame_at(burned.mp4, line.start_s + 0.5))[bottom]
    after = np.abs(frame_at(plain.mp4, line.end_s + 0.3) - frame_at(burned.mp4, line.end_s + 0.3))[bottom]
    assert during.mean() > 10 and after.mean() < 2
