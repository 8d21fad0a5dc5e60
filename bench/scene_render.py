"""How fast does a one-minute scene render, and in how much memory?

Builds a 60 s scene of 12 shots — 7 stills with push-in/pan/pull-out, 3 animated panels, 2 talking heads,
8 spoken lines, a music bed — and renders it at 1280×720, 24 fps with backend/scenes/render/.

The media are made by the studio in preview mode, with a data folder of its own: `backend.Studio` with no
RunPod settings starts the preview endpoint (`python -m worker serve --preview`), and the bench sends it the
jobs the scene needs (portrait for the panels and the two faces, tts for the lines, lipsync for the talking
heads, animate for the animated panels, music for the bed) and renders their outputs. `--stand-in` skips
the studio and makes plain local stand-in media instead (for a machine where the endpoint cannot start).

The last line printed is one JSON object: render_s, duration_s, realtime_factor (render_s / duration_s),
peak_rss_mb (this process's peak), mp4, plus cpu_s (CPU seconds the render used, all threads) and
load_avg (the machine's 1-minute load when the render ended: with other work on the 2 cores, wall time
stretches while cpu_s does not), cpu_per_video_s (cpu_s / duration_s) and the CPU seconds of each stage of
the render: compose_s (making the frames), convert_s (frame → encoder's picture), encode_s (the encoder
call on our thread; x264's own threads are the rest of cpu_s), audio_s (mixing and AAC).

`--motion-comic` renders the same scene as a motion comic through its pages (the Pages part's layout, US comic
format), with burned-in subtitles off (the balloons carry the words; the MP4 has its soft mov_text track); the
JSON then also gives `mode`, `srt` (the SRT's path) and `burn_subtitles`.

    python bench/scene_render.py [--stand-in] [--motion-comic] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.scenes.model import RenderInput, RenderSettings, ShotMedia  # noqa: E402
from backend.scenes.render import render_scene  # noqa: E402
from backend.scenes.render import SAMPLE_RATE, decode_audio  # noqa: E402
from backend.scenes.script import parse_scene  # noqa: E402
from backend.scenes.timeline import TITLE_S, build_timeline  # noqa: E402

CAST = ["Anna", "Marcus"]
SCRIPT = """Title: The Lighthouse

EXT. LIGHTHOUSE - DUSK

[[music: slow strings, sea, melancholy]]

A lighthouse on a black rock, waves breaking below. [[push in]] [[hold 5s]]

A narrow stair winds up inside the tower. [[pan right]]

ANNA
(calling up)
Marcus? Are you up there?

MARCUS
Keep climbing. You're nearly at the top.

The great lamp turns, throwing light across the sea. [[animate]] [[hold 5s]]

ANNA
[[talking head]]
You said the light went out three nights ago.

A logbook open on the desk, pages full of dates. [[pan left]]

MARCUS
Every night at the same hour. Then it comes back.

Rain streaks the glass; the beam sweeps through it. [[animate]]

ANNA
Then tonight we watch it together.

Anna at the window, the sea beyond her. [[push in]] [[hold 4s]]

MARCUS
[[talking head]]
It is nearly time. Listen to the sea.

The keeper's chair, empty, a coat over its back. [[pull out]]

ANNA
Did you hear that? Someone is on the stair.

The stairwell below, a lantern rising slowly. [[animate]] [[hold 5s]]

A ship's bell on the wall, swaying. [[pan right]]

MARCUS
Nobody has climbed these stairs in years.

The light goes out. The tower is dark. [[push in]]
"""
TARGET_S = 60.0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def preview_media(data: Path, scene, log) -> tuple[dict, Path]:
    """Send the scene's jobs to the studio in preview mode; {shot index: ShotMedia kwargs}, music path."""
    from backend.settings import Settings
    from backend.studio import Studio

    voice = data / "voice.wav"
    t = np.arange(3 * 16000) / 16000
    sf.write(voice, (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype(np.float32), 16000)
    studio = Studio(Settings.from_env(env={"STUDIO_DATA_DIR": str(data / "studio-data")}, dotenv=None)).start()
    log(f"studio mode: {studio.mode}")
    if studio.mode != "preview":
        raise SystemExit("the studio did not start in preview mode")

    def wait(rec):
        for _ in studio.watch(rec.id, timeout=600):
            pass
        done = studio.get(rec.id)
        if done.status != "completed":
            raise RuntimeError(f"{done.action} job {done.status}: {done.error}")
        return Path(done.outputs[0]["path"])

    try:
        panels = [s for s in scene.shots if s.kind == "panel"]
        jobs = {("panel", s.index): studio.submit("portrait", {"prompt": s.description, "width": 768, "height": 432})
                for s in panels}
        for name in CAST:
            jobs[("face", name)] = studio.submit("portrait", {"prompt": f"portrait of {name}", "width": 512, "height": 512})
        for s in scene.shots:
            for n, line in enumerate(s.lines):
                jobs[("tts", s.index, n)] = studio.submit("tts", {"text": line.text, "reference_audio": str(voice),
                                                                  "reference_text": "la la la"})
        jobs[("music",)] = studio.submit("music", {"tags": scene.music, "duration": 40})
        log(f"{len(jobs)} jobs sent")
        out = {key: wait(rec) for key, rec in jobs.items()}
        # the second wave needs the first one's outputs
        wave2 = {}
        for s in scene.shots:
            if s.animate:
                wave2[("animate", s.index)] = studio.submit("animate", {"image": str(out[("panel", s.index)]),
                                                                        "mode": s.animate, "frames": 16})
            if s.kind == "talking_head":
                wave2[("lipsync", s.index)] = studio.submit("lipsync", {"image": str(out[("face", s.character)]),
                                                                        "audio": str(out[("tts", s.index, 0)])})
        log(f"{len(wave2)} more jobs sent (animate, lipsync)")
        out.update({key: wait(rec) for key, rec in wave2.items()})
    finally:
        studio.close()
    media = {}
    for s in scene.shots:
        speech = tuple(out[("tts", s.index, n)] for n in range(len(s.lines)))
        if s.kind == "talking_head":
            media[s.index] = dict(image=out[("face", s.character)], video=out[("lipsync", s.index)], speech=speech)
        else:
            media[s.index] = dict(image=out[("panel", s.index)], video=out.get(("animate", s.index)), speech=speech)
    return media, out[("music",)]


def stand_in_media(data: Path, scene) -> tuple[dict, Path]:
    """Plain local media of the same kinds and sizes (no studio)."""
    import av
    from PIL import Image, ImageDraw

    def picture(path, size, hue):
        img = Image.new("RGB", size, (40 + hue % 160, 60, 120))
        d = ImageDraw.Draw(img)
        for x in range(0, size[0], 32):
            d.line([(x, 0), (x + size[1] // 2, size[1])], fill=(220, 220, 200), width=3)
        img.save(path)
        return path

    def clip(path, size, frames=16, fps=8):
        with av.open(str(path), "w") as c:
            s = c.add_stream("libx264", rate=fps)
            s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
            for k in range(frames):
                a = np.full((size[1], size[0], 3), 50, np.uint8)
                a[:, k * size[0] // frames:][:, :24] = 240
                for p in s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
        return path

    def speech(path, seconds):
        t = np.arange(int(seconds * 22050)) / 22050
        sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t) * np.abs(np.sin(2 * np.pi * 4 * t))).astype(np.float32), 22050)
        return path

    media = {}
    for s in scene.shots:
        sp = tuple(speech(data / f"line{s.index}_{n}.wav", 1.0 + 0.25 * len(ln.text.split()))
                   for n, ln in enumerate(s.lines))
        if s.kind == "talking_head":
            media[s.index] = dict(image=picture(data / f"face{s.index}.png", (512, 512), s.index * 37),
                                  video=clip(data / f"head{s.index}.mp4", (512, 512), 50, 25), speech=sp)
        else:
            media[s.index] = dict(image=picture(data / f"panel{s.index}.png", (768, 432), s.index * 37),
                                  video=clip(data / f"anim{s.index}.mp4", (512, 288)) if s.animate else None,
                                  speech=sp)
    t = np.arange(40 * 44100) / 44100
    music = data / "music.wav"
    sf.write(music, np.stack([0.2 * np.sin(2 * np.pi * 110 * t), 0.2 * np.sin(2 * np.pi * 165 * t)], 1).astype(np.float32), 44100)
    return media, music


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stand-in", action="store_true", help="local stand-in media instead of the preview studio")
    ap.add_argument("--motion-comic", action="store_true", help="render through the pages (motion comic mode)")
    ap.add_argument("--out", default=None, help="folder for the data and the render (default: a temp folder)")
    args = ap.parse_args()
    data = Path(args.out or tempfile.mkdtemp(prefix="scene-bench-"))
    data.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(msg, flush=True)

    scene = parse_scene(SCRIPT, CAST)
    kinds = [s.kind for s in scene.shots]
    assert len(scene.shots) == 12 and kinds.count("talking_head") == 2, kinds
    assert sum(1 for s in scene.shots if s.animate) == 3 and sum(len(s.lines) for s in scene.shots) == 8
    t0 = time.monotonic()
    media, music = stand_in_media(data, scene) if args.stand_in else preview_media(data, scene, log)
    log(f"media ready in {time.monotonic() - t0:.0f} s ({'stand-in' if args.stand_in else 'preview mode'})")

    # pad the last shot so the scene is one minute, whatever the speech came out as
    speech_s = [[len(decode_audio(p)) / SAMPLE_RATE for p in media[s.index]["speech"]] for s in scene.shots]
    draft = build_timeline(scene.shots, speech_s=speech_s)
    last = scene.shots[-1]
    title_card = TITLE_S if scene.title else 0.0      # the Title opens the video as a card
    media[last.index]["duration_s"] = max(1.0, draft.shots[-1].duration_s + TARGET_S - draft.duration_s - title_card)
    shots = tuple(ShotMedia(s, **media[s.index]) for s in scene.shots)

    out = data / "render" / "lighthouse.mp4"
    mode = "motion_comic" if args.motion_comic else "full_frame"
    settings = RenderSettings(aspect="16:9", resolution=720, fps=24, burn_subtitles=not args.motion_comic,
                              talking_head="full", mode=mode)
    last_pct = [-10]

    def progress(fraction, message):
        if fraction * 100 >= last_pct[0] + 10 or fraction >= 1:
            last_pct[0] = fraction * 100
            log(f"{fraction * 100:5.1f} %  {message}")

    cpu0 = time.process_time()
    t0 = time.monotonic()
    stages: dict = {}
    result = render_scene(RenderInput(scene, shots, music), settings, out, progress, stats=stages)
    render_s = time.monotonic() - t0
    cpu_s = time.process_time() - cpu0
    figures = {
        "render_s": round(render_s, 2),
        "duration_s": round(result.duration_s, 2),
        "realtime_factor": round(render_s / result.duration_s, 3),
        "peak_rss_mb": round(rss_mb(), 1),
        "mp4": str(result.mp4),
        "cpu_s": round(cpu_s, 2),
        "cpu_per_video_s": round(cpu_s / result.duration_s, 3),
        **stages,
        "load_avg": round(os.getloadavg()[0], 2),
        "media": "stand-in" if args.stand_in else "preview",
    }
    if args.motion_comic:
        figures.update(mode=mode, srt=str(result.srt), burn_subtitles=settings.burn_subtitles)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
