"""Lettering text: emphasis runs, real font metrics, and lines broken into a roughly oval block.

`*…*` and `**…**` (Fountain's emphasis) are lettered bold italic, the comic convention for stress. The markers stay
in `Balloon.lines`; `line_runs` turns lines into (text, emphasised) runs for whoever draws them (raster, PDF).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from backend.pages.fonts import Style, font

MARK = re.compile(r"(?<!\\)\*{1,3}")
LEADING = 1.18      # line height ÷ font size: lettering is set tight


def plain(text: str) -> str:
    return MARK.sub("", text).replace("\\*", "*")


def line_runs(lines: tuple[str, ...] | list[str]) -> list[list[tuple[str, bool]]]:
    """Each line as runs of (text, emphasised), the emphasis carried across line ends."""
    out, on = [], False
    for line in lines:
        runs: list[tuple[str, bool]] = []
        at = 0
        for m in MARK.finditer(line):
            if m.start() > at:
                runs.append((line[at:m.start()].replace("\\*", "*"), on))
            on = not on
            at = m.end()
        if at < len(line):
            runs.append((line[at:].replace("\\*", "*"), on))
        out.append([r for r in runs if r[0]])
    return out


def emphasis_style(base: Style) -> Style:
    return "bold_italic"


@lru_cache(maxsize=8192)
def length(text: str, style: Style, size: float) -> float:
    """A string's advance width at a size (cached: the same words are measured for every shape tried)."""
    return font(style, size).getlength(text)


def width(runs: list[tuple[str, bool]], base: Style, size: float) -> float:
    return sum(length(t, emphasis_style(base) if em else base, size) for t, em in runs)


@dataclass(frozen=True)
class Block:
    lines: tuple[str, ...]      # markers kept
    width: float                # the widest line, in the size's units
    height: float
    size: float
    fits: bool                  # every word fits max_width


def _word_widths(words: list[str], base: Style, size: float) -> list[float]:
    on = False
    out = []
    for w in words:
        runs = []
        at = 0
        for m in MARK.finditer(w):
            if m.start() > at:
                runs.append((w[at:m.start()], on))
            on = not on
            at = m.end()
        if at < len(w):
            runs.append((w[at:], on))
        out.append(width(runs, base, size))
    return out


def break_oval(text: str, base: Style, size: float, max_width: float, aspect: float = 2.2) -> Block:
    """Break `text` into lines whose widths swell in the middle and narrow at the ends (an oval), the block
    about `aspect` times as wide as tall, no line wider than max_width."""
    words = text.split()
    if not words:
        return Block((), 0.0, 0.0, size, True)
    ww = _word_widths(words, base, size)
    space = length(" ", base, size)
    total = sum(ww) + space * (len(words) - 1)
    lh = size * LEADING
    fits = max(ww) <= max_width + 1e-6
    n = max(1, int(round(math.sqrt(total / (aspect * lh)))))
    n = max(n, math.ceil(total / max(max_width, 1.0)))
    slack = 1.08
    while True:
        # the capacity of line i follows an ellipse's chord: the middle lines are the longest
        ys = [((i + 0.5) / n) * 2 - 1 for i in range(n)]
        prof = [0.55 + 0.45 * math.sqrt(max(0.0, 1 - y * y)) for y in ys]
        scale = total * slack / sum(prof)
        caps = [min(max_width, p * scale) for p in prof]
        lines: list[list[int]] = [[]]
        used = 0.0
        for k, w in enumerate(ww):
            line = lines[-1]
            need = w if not line else used + space + w
            cap = caps[min(len(lines) - 1, n - 1)]
            if line and need > cap:
                lines.append([k])
                used = w
            else:
                line.append(k)
                used = need
        if len(lines) <= n or n >= len(words):
            break
        if all(c >= max_width for c in caps):
            n = max(n + 1, len(lines))   # as wide as allowed: only more lines help
        else:
            slack *= 1.12   # words did not pack: loosen the oval before adding a line
    texts = tuple(" ".join(words[k] for k in line) for line in lines)
    widths = [sum(ww[k] for k in line) + space * (len(line) - 1) for line in lines]
    return Block(texts, max(widths), len(lines) * lh, size, fits and max(widths) <= max_width + 1e-6)
