"""Text boxes for frames: title cards, captions and burned-in subtitles (DejaVu, as the studio has)."""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def load_font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size=size)


def wrap_text(text: str, font, max_w: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split():
            trial = f"{cur} {word}".strip()
            if cur and font.getlength(trial) > max_w:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        lines.append(cur)
    return [ln for ln in lines if ln] or [""]


def text_box(text: str, width: int, font_px: int, *, bold=False, pad=None, bg=(0, 0, 0, 170),
              fg=(255, 255, 255, 255)) -> Image.Image:
    """An RGBA box with wrapped text, as wide as it needs (at most `width`)."""
    font = load_font(font_px, bold)
    pad = pad if pad is not None else font_px // 2
    lines = wrap_text(text, font, width - 2 * pad)
    line_h = int(font_px * 1.3)
    w = min(width, int(max(font.getlength(ln) for ln in lines)) + 2 * pad)
    h = line_h * len(lines) + 2 * pad
    box = Image.new("RGBA", (w, h), bg)
    draw = ImageDraw.Draw(box)
    for i, ln in enumerate(lines):
        x = (w - font.getlength(ln)) / 2
        draw.text((x, pad + i * line_h), ln, font=font, fill=fg)
    return box
