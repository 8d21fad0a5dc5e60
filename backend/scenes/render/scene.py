"""Render a scene to one MP4 (H.264 + AAC) with PyAV, plus SRT and WebVTT subtitles."""
from __future__ import annotations

import os
import re
from pathlib import Path

import av

from backend.scenes.model import RenderInput, RenderResult, RenderSettings
from backend.scenes.render.audio import SAMPLE_RATE, Mixer, MusicStream, Speech
from backend.scenes.render.encode import X264_CRF, X264_PRESET, Encoder
from backend.scenes.render.fullframe import compose_frames
from backend.scenes.render.media import Progress, prepare
from backend.scenes.render.subtitles import srt_text, vtt_text
from backend.scenes.timeline import build_timeline


class Sized:
    """RenderSettings with another frame size (previews and tests)."""

    def __init__(self, settings: RenderSettings, size: tuple[int, int]):
        if size[0] % 2 or size[1] % 2 or min(size) < 64:
            raise ValueError(f"size: {size[0]}×{size[1]} must be even numbers of at least 64")
        self._s, self.size = settings, size

    def __getattr__(self, name):
        return getattr(self._s, name)


def render_scene(inp: RenderInput, settings: RenderSettings, out_mp4: Path | str,
                 progress: Progress | None = None, size: tuple[int, int] | None = None,
                 stats: dict | None = None) -> RenderResult:
    """Render `inp` to `out_mp4` (and .srt/.vtt beside it). The files are replaced only when the whole
    render succeeded; on any failure the previous render stays as it was. `size` (even numbers) overrides
    the settings' frame size, for quick small previews. `stats`, if given, receives the CPU seconds of each
    stage (compose_s, convert_s, encode_s, audio_s; see `Encoder`)."""
    progress = progress or (lambda f, m: None)
    out_mp4 = Path(out_mp4)
    out_mp4.parent.mkdir(parents=True, exist_ok=True)
    if size is not None:
        settings = Sized(settings, size)
    w, h = settings.size
    fps = settings.fps

    prepared = prepare(inp, progress)
    shots = [p.media.shot for p in prepared]
    timeline = build_timeline(
        shots,
        speech_s=[[len(a) / SAMPLE_RATE for a in p.speech] for p in prepared],
        overrides=[p.media.duration_s for p in prepared],
        clip_s=[p.clip_s for p in prepared])
    total_s = timeline.duration_s
    total_samples = round(total_s * SAMPLE_RATE)

    speech = []
    by_shot = {p.media.shot.index: p for p in prepared}
    for ln in timeline.lines:
        arrays = by_shot[ln.shot_index].speech
        if ln.line_index < len(arrays):
            speech.append(Speech(round(ln.start_s * SAMPLE_RATE), arrays[ln.line_index]))
    # lines without speech keep their (estimated) place in the timeline and the subtitles, silently

    tmp = out_mp4.with_name(f".{out_mp4.stem}.rendering.mp4")
    music = None
    sources: dict[int, object] = {}
    try:
        music = MusicStream(Path(inp.music)) if inp.music is not None else None
        mixer = Mixer(speech, music, total_samples)
        with av.open(str(tmp), "w", format="mp4") as container:
            vstream = container.add_stream("libx264", rate=fps, options={"preset": X264_PRESET, "crf": X264_CRF})
            vstream.width, vstream.height, vstream.pix_fmt = w, h, "yuv420p"
            vstream.codec_context.thread_type = "AUTO"
            astream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
            encoder = Encoder(container, vstream, astream, mixer, fps, total_samples)
            try:
                compose_frames(timeline, prepared, shots, settings, sources, encoder, progress)
                encoder.finish()
                if stats is not None:
                    stats.update({k: round(v, 2) for k, v in encoder.stats.items()})
            finally:
                encoder.stop()

        srt_tmp = out_mp4.with_name(f".{out_mp4.stem}.rendering.srt")
        vtt_tmp = out_mp4.with_name(f".{out_mp4.stem}.rendering.vtt")
        srt_tmp.write_text(srt_text(timeline), encoding="utf-8")
        vtt_tmp.write_text(vtt_text(timeline), encoding="utf-8")
        srt, vtt = out_mp4.with_suffix(".srt"), out_mp4.with_suffix(".vtt")
        os.replace(tmp, out_mp4)
        os.replace(srt_tmp, srt)
        os.replace(vtt_tmp, vtt)
    except BaseException:
        for p in (tmp, out_mp4.with_name(f".{out_mp4.stem}.rendering.srt"),
                  out_mp4.with_name(f".{out_mp4.stem}.rendering.vtt")):
            p.unlink(missing_ok=True)
        raise
    finally:
        for s in sources.values():
            s.close()
        if music is not None:
            music.close()
    progress(1.0, "Rendered")
    return RenderResult(mp4=out_mp4, srt=srt, vtt=vtt, duration_s=total_s, timeline=timeline)


def render(inp: RenderInput, settings: RenderSettings, out: Path | str, progress: Progress | None = None,
           size: tuple[int, int] | None = None) -> RenderResult:
    """`render_scene`, where `out` may also be a folder: the files are then named after the scene's title
    (`<title>.mp4`, `.srt`, `.vtt`; `scene.*` without one)."""
    out = Path(out)
    if out.is_dir() or out.suffix.lower() != ".mp4":
        slug = re.sub(r"[^A-Za-z0-9]+", "-", inp.scene.title or "").strip("-").lower()[:60] or "scene"
        out = out / f"{slug}.mp4"
    return render_scene(inp, settings, out, progress, size=size)
