"""Shot and line timing (pure). Shots follow their speech unless held; lines get natural gaps.

A shot with lines lasts LEAD_IN + its lines (GAP_S apart) + TAIL_S; a held shot (`[[hold 3s]]` or the
storyboard's override) lasts that long, but never less than its speech needs. A silent panel lasts
SILENT_PANEL_S (an animated one its clip's length, when known, within 2–8 s), a title card TITLE_S.
Shots are back to back; the cross-fade between two shots is centred on the cut.
"""
from __future__ import annotations

from typing import Sequence

from backend.scenes.model import (
    MAX_DURATION_S, ScriptError, ScriptErrors, Scene, Shot, TimedLine, TimedShot, Timeline,
)

LEAD_IN_S = 0.5        # before the first line: lets the cross-fade finish and the picture register
GAP_S = 0.35           # between two lines of one shot
TAIL_S = 0.6           # after the last line
SILENT_PANEL_S = 3.0
TITLE_S = 2.5
CROSSFADE_S = 0.4
MIN_SHOT_S = 0.5       # a shorter override is lengthened to this (as [[hold]] allows no less)
WORDS_PER_S = 2.6      # speaking rate for estimates before the speech is made


def estimate_speech_s(text: str) -> float:
    """A guess of how long a line takes to say (for the storyboard before its speech exists)."""
    words = max(1, len(text.split()))
    return round(max(0.8, words / WORDS_PER_S + 0.3), 2)


def _fmt(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def shot_duration(shot: Shot, speech_s: Sequence[float], override_s: float | None = None,
                  clip_s: float | None = None) -> float:
    speech_total = LEAD_IN_S + sum(speech_s) + GAP_S * max(0, len(speech_s) - 1) + TAIL_S if speech_s else 0.0
    held = override_s if override_s is not None else shot.hold_s
    if held is not None:
        return round(max(held, MIN_SHOT_S, speech_total), 3)
    if speech_s:
        return round(speech_total, 3)
    if shot.kind == "title":
        return TITLE_S
    if shot.animate and clip_s:
        return round(min(8.0, max(2.0, clip_s)), 3)
    return SILENT_PANEL_S


def build_timeline(shots: Sequence[Shot], speech_s: Sequence[Sequence[float]] | None = None,
                   overrides: Sequence[float | None] | None = None,
                   clip_s: Sequence[float | None] | None = None,
                   max_duration_s: float = MAX_DURATION_S) -> Timeline:
    """Time every shot and line. `speech_s[i]` are the durations of shot i's lines' speech (missing ones
    are estimated from the text). Raises ScriptErrors naming the shot where the scene passes the limit."""
    timed_shots: list[TimedShot] = []
    timed_lines: list[TimedLine] = []
    t = 0.0
    for i, shot in enumerate(shots):
        durations = list(speech_s[i]) if speech_s is not None and i < len(speech_s) else []
        durations += [estimate_speech_s(line.text) for line in shot.lines[len(durations):]]
        durations = durations[: len(shot.lines)]
        override = overrides[i] if overrides is not None and i < len(overrides) else None
        clip = clip_s[i] if clip_s is not None and i < len(clip_s) else None
        length = shot_duration(shot, durations, override, clip)
        timed_shots.append(TimedShot(shot.index, round(t, 3), length))
        start = t + LEAD_IN_S
        for n, (line, d) in enumerate(zip(shot.lines, durations)):
            timed_lines.append(TimedLine(shot.index, n, round(start, 3), round(start + d, 3), line.text, line.character))
            start += d + GAP_S
        t += length
        if t > max_duration_s:
            raise ScriptErrors([ScriptError(shot.line_no, (
                f"{shot.label} ends at {_fmt(t)}, past the scene limit of {_fmt(max_duration_s)}; "
                "shorten the scene or split it in two"))])
    return Timeline(tuple(timed_shots), tuple(timed_lines), CROSSFADE_S)


def estimate(scene: Scene) -> Timeline:
    """The scene's timeline before any media exists (speech estimated from the text)."""
    return build_timeline(scene.shots)
