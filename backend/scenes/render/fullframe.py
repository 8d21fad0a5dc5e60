"""Full-frame mode: every shot fills the frame (a still with a camera move, an animated panel, a talking
head, a title card), one after the other."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from backend.scenes.model import RenderSettings, Timeline
from backend.scenes.render.clips import (
    INSET_HEIGHT, Captioned, Card, ImageAsClip, SpeakerCuts, StillClip, TalkingHead, VideoClip,
)
from backend.scenes.render.compose import Overlay, blend
from backend.scenes.render.encode import Encoder, FrameOut
from backend.scenes.render.errors import RenderError
from backend.scenes.render.head import framed_head
from backend.scenes.render.media import Prepared, Progress, reason
from backend.scenes.render.text import text_box


class BurnIn:
    """Subtitles burned into the picture (an option: the MP4 carries them as a soft track anyway)."""

    def __init__(self, timeline: Timeline, w: int, h: int):
        self.lines, self.w, self.h = timeline.lines, w, h
        self.cache: dict[int, Overlay] = {}
        self.i = 0
        self.last = (None, None, None)     # (frame, line, frame with the line): a held frame is not overlaid again

    def over(self, img, t: float):
        lines, w, h = self.lines, self.w, self.h
        while self.i < len(lines) and lines[self.i].end_s <= t:
            self.cache.pop(self.i, None)
            self.i += 1
        if self.i < len(lines) and lines[self.i].start_s <= t:
            if self.i not in self.cache:
                ln = lines[self.i]
                text = f"{ln.character.upper()}: {ln.text}" if ln.character else ln.text
                self.cache[self.i] = Overlay(text_box(text, int(w * 0.86), max(16, h // 22)))
            if self.last[0] is not img or self.last[1] != self.i:
                box = self.cache[self.i]
                bw, bh = box.size
                self.last = (img, self.i, box.over(img, ((w - bw) // 2, h - bh - max(12, h // 16))))
            img = self.last[2]
        return img


def speaker_cuts(src, prep: Prepared, timeline: Timeline, start_s: float, duration: float,
                 portraits: dict[str, Path], w: int, h: int):
    """`src`, cutting to each speaker's picture on a change of speaker, where every speaker of the shot has a
    picture of their own; otherwise `src` as it was."""
    shot = prep.media.shot
    speakers = {ln.character for ln in shot.lines}
    if shot.kind != "panel" or len(speakers) < 2 or not all(s in portraits for s in speakers):
        return src
    cuts, last = [], shot.lines[0].character
    for ln in timeline.lines:
        if ln.shot_index == shot.index and ln.character != last:
            with Image.open(portraits[ln.character]) as im:
                cuts.append((ln.start_s - start_s - 0.1, StillClip(im, "push_in", duration, w, h)))
            last = ln.character
    return SpeakerCuts(src, cuts)


def make_source(prep: Prepared, prev_panel: Prepared | None, duration: float, lead_in: float,
                settings: RenderSettings):
    w, h = settings.size
    sm, shot = prep.media, prep.media.shot
    if shot.kind == "title":
        src = Card(shot.description, w, h)
    elif shot.kind == "talking_head" and not (settings.talking_head == "inset" and prev_panel is not None):
        src = framed_head(sm.video, sm.image, w, h, lead_in)
    elif shot.kind == "talking_head":     # inset: the head in a corner over the last panel
        fit = (int(w * 0.45), int(h * INSET_HEIGHT))
        if sm.video is not None:
            head = VideoClip(Path(sm.video), w, h, fit=fit, loop=False, offset=lead_in)
        else:
            head = ImageAsClip(Image.open(sm.image), fit)
        src = TalkingHead(head, w, h, _panel_clip(prev_panel, duration, w, h))
    else:
        src = _panel_clip(prep, duration, w, h)
    if shot.caption:
        src = Captioned(src, shot.caption, w, h)
    return src


def _panel_clip(prep: Prepared, duration: float, w: int, h: int):
    sm = prep.media
    if sm.video is not None:
        return VideoClip(Path(sm.video), w, h, fit="cover", loop="pingpong")
    with Image.open(sm.image) as im:
        return StillClip(im, sm.shot.camera, duration, w, h)


def compose_frames(timeline: Timeline, prepared: list[Prepared], shots, settings: RenderSettings,
                   sources: dict, encoder: "Encoder", progress: Progress,
                   portraits: dict[str, Path] | None = None) -> None:
    """Make every frame in order and hand it to the encoder. Shots cut; a shot the script asks to dissolve
    into (`[[dissolve]]`) cross-fades over the cut."""
    w, h = settings.size
    fps = settings.fps
    total_s = timeline.duration_s
    n_frames = max(1, round(total_s * fps))
    timed = timeline.shots
    half = timeline.crossfade_s / 2
    prev_panels: list[Prepared | None] = []
    last = None
    for p in prepared:
        prev_panels.append(last)
        if p.media.shot.kind == "panel":
            last = p
    lead = {ts.index: (next((ln.start_s for ln in timeline.lines if ln.shot_index == ts.index), ts.start_s)
                       - ts.start_s) for ts in timed}

    def source(i: int):
        if i not in sources:
            try:
                src = make_source(prepared[i], prev_panels[i], timed[i].duration_s, lead[timed[i].index], settings)
                sources[i] = speaker_cuts(src, prepared[i], timeline, timed[i].start_s, timed[i].duration_s,
                                          portraits or {}, w, h)
            except RenderError as e:
                raise RenderError(f"{shots[i].label}: {e}") from None
            except Exception as e:
                raise RenderError(f"{shots[i].label}: its media cannot be read ({reason(e)})") from None
        return sources[i]

    def say(t: float, cur: int, _page: int | None) -> str:
        shot = shots[cur]
        return (f"Rendering shot {cur + 1} of {len(shots)} ({shot.kind.replace('_', ' ')}, line {shot.line_no})"
                f" — {t:.0f} s of {total_s:.0f} s")

    out = FrameOut(encoder, n_frames, BurnIn(timeline, w, h) if settings.burn_subtitles else None, progress, say)
    cur = 0
    for k in range(n_frames):
        t = k / fps
        while cur + 1 < len(timed) and t >= timed[cur].end_s:
            cur += 1
        for old in [i for i in sources if i < cur - 1]:
            sources.pop(old).close()
        ts = timed[cur]
        img = source(cur).frame(t - ts.start_s)
        if cur > 0 and t < ts.start_s + half and shots[cur].transition == "dissolve":
            a = (t - (ts.start_s - half)) / timeline.crossfade_s
            prev = source(cur - 1).frame(t - timed[cur - 1].start_s)
            img = blend(prev, img, a)
        elif cur + 1 < len(timed) and t > ts.end_s - half and shots[cur + 1].transition == "dissolve":
            a = (t - (ts.end_s - half)) / timeline.crossfade_s
            nxt = source(cur + 1).frame(t - timed[cur + 1].start_s)
            img = blend(img, nxt, a)
        out.put(k, t, img, cur)
