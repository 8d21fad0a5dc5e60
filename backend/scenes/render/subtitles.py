"""Subtitles from the timeline: cues that name their speaker, at most two lines of about 42 characters broken at
phrase boundaries (the broadcast and streaming style guides' rule), written as SRT and WebVTT and, as soft
subtitles, into the MP4's mov_text track (see `encode`).

A line too long for one cue becomes several, each with its share of the line's time (by characters)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from backend.scenes.model import Timeline

MAX_CHARS = 42
MAX_LINES = 2
MAX_CUE_S = 7.0
_PHRASE_END = re.compile(r"[,.;:!?…—–)]$")
# a line that starts with one of these reads as the start of a phrase
_STARTERS = {"and", "but", "or", "so", "because", "when", "while", "if", "that", "which", "who", "to", "of",
             "in", "on", "at", "for", "with", "from", "then", "than", "until", "before", "after"}


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    character: str
    lines: tuple[str, ...]      # as shown, the first starting with the speaker's name in capitals


def break_lines(text: str, width: int = MAX_CHARS) -> list[str] | None:
    """`text` on one line, or two lines of at most `width` characters broken where a phrase ends (after a comma,
    before "and" …) and otherwise as evenly as can be; None when it does not fit in two lines."""
    if len(text) <= width:
        return [text]
    words = text.split()
    best, best_cost = None, None
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if len(a) > width or len(b) > width:
            continue
        cost = abs(len(a) - len(b))
        if _PHRASE_END.search(words[i - 1]):
            cost -= 30
        elif words[i].lower() in _STARTERS:
            cost -= 12
        if best_cost is None or cost < best_cost:
            best, best_cost = [a, b], cost
    return best


def _chunks(prefix: str, text: str) -> list[list[str]]:
    """`text` cut into pieces that each fit two lines with `prefix` before them; cut at phrase ends first."""
    words = text.split()
    if not words:
        return [[prefix.strip()]]
    # a word longer than a line (a URL, a long shout) is cut, not overflowed
    fitted = []
    for w in words:
        while len(w) > MAX_CHARS - len(prefix):
            fitted.append(w[:MAX_CHARS - len(prefix)])
            w = w[MAX_CHARS - len(prefix):]
        fitted.append(w)
    phrases, cur = [], []
    for w in fitted:
        cur.append(w)
        if _PHRASE_END.search(w):
            phrases.append(cur)
            cur = []
    if cur:
        phrases.append(cur)
    out: list[list[str]] = []
    acc: list[str] = []
    for phrase in phrases:
        if break_lines(prefix + " ".join(acc + phrase)) is not None:
            acc += phrase
            continue
        if acc:
            out.append(acc)
            acc = []
        for w in phrase:        # a phrase longer than a cue: by words
            if acc and break_lines(prefix + " ".join(acc + [w])) is None:
                out.append(acc)
                acc = []
            acc.append(w)
    if acc:
        out.append(acc)
    return [break_lines(prefix + " ".join(c)) for c in out]


def cues(timeline: Timeline) -> list[Cue]:
    out: list[Cue] = []
    for ln in timeline.lines:
        prefix = f"{ln.character.upper()}: " if ln.character else ""
        pieces = _chunks(prefix, ln.text)
        total = sum(len(" ".join(p)) for p in pieces) or 1
        t = ln.start_s
        for p in pieces:
            d = (ln.end_s - ln.start_s) * len(" ".join(p)) / total
            out.append(Cue(round(t, 3), round(min(t + d, t + MAX_CUE_S), 3), ln.character, tuple(p)))
            t += d
    return out


def _ts(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_text(timeline: Timeline) -> str:
    return "\n".join(f"{i}\n{_ts(c.start_s, ',')} --> {_ts(c.end_s, ',')}\n" + "\n".join(c.lines) + "\n"
                     for i, c in enumerate(cues(timeline), start=1))


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_text(timeline: Timeline) -> str:
    """WebVTT with the speaker as a voice span (`<v Anna>`), the name itself not repeated in the text."""
    out = []
    for c in cues(timeline):
        lines = list(c.lines)
        prefix = f"{c.character.upper()}: " if c.character else ""
        if prefix and lines[0].startswith(prefix):
            # the voice span names the speaker; the lines keep their breaks (the name's room is spare)
            lines[0] = lines[0][len(prefix):]
        body = "\n".join(_esc(x) for x in lines if x)
        voice = f"<v {_esc(c.character)}>" if c.character else ""
        out.append(f"{_ts(c.start_s, '.')} --> {_ts(c.end_s, '.')}\n{voice}{body}\n")
    return "WEBVTT\n\n" + "\n".join(out)


def ass_dialogue(cue: Cue) -> bytes:
    """The cue as the ASS dialogue event FFmpeg's mov_text encoder takes (its text, lines joined by \\N)."""
    text = "\\N".join(x.replace("\\", "\\\\").replace("{", "(").replace("}", ")") for x in cue.lines)
    return f"0,0,Default,,0,0,0,,{text}".encode()


ASS_HEADER = (
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    "MarginR, MarginV, Encoding\n"
    "Style: Default,Sans,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n").encode()
