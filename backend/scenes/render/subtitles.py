"""Subtitle files (SRT and WebVTT) from the timeline."""
from __future__ import annotations

from backend.scenes.model import Timeline


def _ts(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(timeline: Timeline) -> str:
    cues = [f"{i}\n{_ts(ln.start_s, ',')} --> {_ts(ln.end_s, ',')}\n{ln.text}\n"
            for i, ln in enumerate(timeline.lines, start=1)]
    return "\n".join(cues)


def vtt_text(timeline: Timeline) -> str:
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    cues = [f"{_ts(ln.start_s, '.')} --> {_ts(ln.end_s, '.')}\n<v {esc(ln.character)}>{esc(ln.text)}\n"
            for ln in timeline.lines]
    return "WEBVTT\n\n" + "\n".join(cues)
