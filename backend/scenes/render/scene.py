"""Render a scene to one MP4 (H.264 + AAC) with PyAV, plus SRT and WebVTT subtitles."""
from __future__ import annotations

import os
import re
from pathlib import Path

import av

from backend.pages.model import Book
from backend.scenes.model import RenderInput, RenderResult, RenderSettings, Scene, ShotMedia, Shot, Timeline
from backend.scenes.render import fullframe, motion_comic
from backend.scenes.render.audio import SAMPLE_RATE, Mixer, MusicStream, Speech
from backend.scenes.render.book import book_for
from backend.scenes.render.encode import X264_CRF, X264_PRESET, Encoder, add_text_tracks
from backend.scenes.render.media import Prepared, Progress, prepare
from backend.scenes.render.subtitles import cues, srt_text, vtt_text

TITLE_CARD = -1     # the opening title card's shot index (it is no shot of the script)
from backend.scenes.timeline import build_timeline


class Sized:
    """RenderSettings with another frame size (previews and tests)."""

    def __init__(self, settings: RenderSettings, size: tuple[int, int]):
        if size[0] % 2 or size[1] % 2 or min(size) < 64:
            raise ValueError(f"size: {size[0]}×{size[1]} must be even numbers of at least 64")
        self._s, self.size = settings, size

    def __getattr__(self, name):
        return getattr(self._s, name)


def with_title_card(scene: Scene, prepared: list[Prepared]) -> list[Prepared]:
    """The script's Title as an opening card, unless the scene already opens with a title card."""
    if not scene.title or (prepared and prepared[0].media.shot.kind == "title"):
        return prepared
    card = Shot(index=TITLE_CARD, kind="title", line_no=1, description=scene.title, camera="still")
    return [Prepared(ShotMedia(card), [], None), *prepared]


def chapters(timeline: Timeline, book: Book | None, scene: Scene) -> list[tuple[float, float, str]]:
    """A chapter per page (from the start of its first shot), or one for the scene without pages."""
    total = timeline.duration_s
    name = scene.title or scene.heading or "Scene"
    if book is None or not book.pages:
        return [(0.0, total, name)]
    start = {ts.index: ts.start_s for ts in timeline.shots}
    marks = []
    for page in book.pages:
        times = [start[p.shot_index] for p in page.panels if p.shot_index in start]
        if times:
            marks.append((0.0 if not marks else min(times), f"Page {page.number}"))
    marks.sort()
    return [(a, marks[i + 1][0] if i + 1 < len(marks) else total, title) for i, (a, title) in enumerate(marks)
            if (marks[i + 1][0] if i + 1 < len(marks) else total) > a]


def _book(inp: RenderInput, progress: Progress) -> Book | None:
    if inp.book is not None:
        return inp.book
    try:
        return book_for(inp.scene)
    except ValueError as e:         # a layout or lettering the pages part refuses: the render goes on full frame
        progress(0.05, f"No pages for the motion comic ({e}); rendering full frame")
        return None


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

    prepared = with_title_card(inp.scene, prepare(inp, progress))
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

    book = _book(inp, progress)
    comic = settings.mode == "motion_comic" and book is not None
    subs = cues(timeline)

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
            sstream = add_text_tracks(container, subs, chapters(timeline, book, inp.scene))
            encoder = Encoder(container, vstream, astream, mixer, fps, total_samples, sstream, subs)
            try:
                if comic:
                    motion_comic.compose_frames(timeline, prepared, book, settings, sources, encoder, progress,
                                                faces=dict(inp.faces))
                else:
                    fullframe.compose_frames(timeline, prepared, shots, settings, sources, encoder, progress,
                                             portraits={n: Path(p) for n, p in inp.portraits})
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
    return RenderResult(mp4=out_mp4, srt=srt, vtt=vtt, duration_s=total_s, timeline=timeline,
                        mode="motion_comic" if comic else "full_frame",
                        warnings=tuple(book.warnings) if comic else ())


def render(inp: RenderInput, settings: RenderSettings, out: Path | str, progress: Progress | None = None,
           size: tuple[int, int] | None = None) -> RenderResult:
    """`render_scene`, where `out` may also be a folder: the files are then named after the scene's title
    (`<title>.mp4`, `.srt`, `.vtt`; `scene.*` without one)."""
    out = Path(out)
    if out.is_dir() or out.suffix.lower() != ".mp4":
        slug = re.sub(r"[^A-Za-z0-9]+", "-", inp.scene.title or "").strip("-").lower()[:60] or "scene"
        out = out / f"{slug}.mp4"
    return render_scene(inp, settings, out, progress, size=size)
