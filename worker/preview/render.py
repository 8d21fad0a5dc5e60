"""Clearly marked preview media, made fast on a CPU: PNG frames, speech/tones/music, MP4/WEBM/GIF/WEBP files."""
from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
import textwrap
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SPEECH_RATE = 24000
FROM_SOURCE = "studio_preview_from_source"      # Image.info key: the frame was made from an input picture
FOOTER_TOP = "studio_preview_footer_top"        # Image.info key: y where the caption footer strip starts
MUSIC_RATE = 44100


# ---- images ------------------------------------------------------------------------------------------
def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # older Pillow without sized default font
        return ImageFont.load_default()


def base_image(width: int, height: int, color: int | None = None, source: Path | None = None,
               portrait_seed: int | None = None) -> Image.Image:
    if portrait_seed is not None and source is None:
        img = portrait_card(width, height, portrait_seed)
        img.info[FROM_SOURCE] = True    # captions go to the footer, off the face
        return img
    if source is not None:
        try:
            with Image.open(source) as im:
                img = im.convert("RGB").resize((width, height))
            # An input picture (a portrait, a panel) may carry its own preview caption at the top; `mark` then
            # writes its text in a footer strip instead, so the two never overlap.
            img.info[FROM_SOURCE] = True
            return img
        except (OSError, ValueError):
            pass
    if color is None:
        # A calm gradient so that frames are not a flat colour.
        x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
        y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
        arr = np.stack([60 + 80 * x + 0 * y, 70 + 60 * y + 0 * x, 110 + 60 * (1 - x) * y], axis=-1)
        return Image.fromarray(arr.astype(np.uint8), "RGB")
    return Image.new("RGB", (width, height), ((color >> 16) & 255, (color >> 8) & 255, color & 255))


REF_COLOURS = [(255, 200, 0), (0, 200, 255), (255, 90, 200), (120, 255, 120)]


def _square(im: Image.Image, crop: str) -> Image.Image:
    """The square of a reference the image encoder sees (PrepImageForClipVision's crop positions)."""
    w, h = im.size
    s = min(w, h)
    x = {"left": 0, "right": w - s}.get(crop, (w - s) // 2)
    y = {"top": 0, "bottom": h - s}.get(crop, (h - s) // 2)
    if crop == "pad":
        pad = Image.new("RGB", (max(w, h), max(w, h)), (0, 0, 0))
        pad.paste(im, ((max(w, h) - w) // 2, (max(w, h) - h) // 2))
        return pad
    return im.crop((x, y, x + s, y + s))


def reference_rects(size: tuple[int, int], boxes: list[tuple[float, float, float, float]]
                    ) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """Per reference: (its region, its thumbnail) as pixel rectangles (x0, y0, x1, y1). The thumbnail is a square
    half the region's shorter side, centred in the region."""
    w, h = size
    out = []
    for bx, by, bw, bh in boxes:
        region = (round(bx * w), round(by * h), round((bx + bw) * w), round((by + bh) * h))
        side = max(8, int(min(region[2] - region[0], region[3] - region[1]) * 0.5))
        cx, cy = (region[0] + region[2]) // 2, (region[1] + region[3]) // 2
        out.append((region, (cx - side // 2, cy - side // 2, cx - side // 2 + side, cy - side // 2 + side)))
    return out


def place_references(img: Image.Image, refs) -> Image.Image:
    """Casting made visible: each reference's region outlined in its colour, its thumbnail in the middle of the
    region, labelled with its number and weight (what a real IP-Adapter run would have been conditioned on)."""
    img = img.convert("RGB")
    info = dict(img.info)
    draw = ImageDraw.Draw(img)
    rects = reference_rects(img.size, [r.box for r in refs])
    for i, (ref, (region, thumb)) in enumerate(zip(refs, rects)):
        colour = REF_COLOURS[i % len(REF_COLOURS)]
        draw.rectangle([region[0] + 1, region[1] + 1, region[2] - 2, region[3] - 2], outline=colour, width=3)
        side = thumb[2] - thumb[0]
        try:
            with Image.open(ref.source) as src:
                picture = _square(src.convert("RGB"), ref.crop).resize((side, side))
        except (OSError, ValueError, TypeError, AttributeError):
            picture = Image.new("RGB", (side, side), (90, 90, 90))
        draw.rectangle([thumb[0] - 3, thumb[1] - 3, thumb[2] + 2, thumb[3] + 2], fill=colour)
        img.paste(picture, thumb[:2])
        size = max(8, side // 7)
        draw.text((thumb[0], thumb[3] + 4), f"#{i + 1} weight {ref.weight:.2f}", fill=colour, font=_font(size),
                  stroke_width=1, stroke_fill=(0, 0, 0))
    img.info.update(info)
    return img


def mark(img: Image.Image, caption: str = "", seed: int | None = None, label: str = "PREVIEW") -> Image.Image:
    """Draw the PREVIEW banner, the prompt text and the seed, so nobody mistakes it for a real result.

    On a frame made from an input picture the text goes into an opaque footer strip (the picture's own caption
    sits under its banner, and writing over it would garble both)."""
    img = img.copy()
    w, h = img.size
    draw = ImageDraw.Draw(img)
    banner = max(10, h // 10)
    draw.rectangle([0, 0, w, banner], fill=(200, 30, 30))
    draw.text((4, 1), label, fill=(255, 255, 255), font=_font(max(8, banner - 3)))
    size = max(8, min(w, h) // 24)
    lines = textwrap.wrap(caption, width=max(8, w // max(1, size // 2 + 1)))[: max(1, (h - banner) // (size + 2) - 2)]
    if seed is not None:
        lines.append(f"seed {seed}")
    if img.info.get(FROM_SOURCE):
        lines = lines[-3:]
        if not lines:
            return img
        strip = len(lines) * (size + 2) + 8
        top = h - strip
        draw.rectangle([0, top, w, h], fill=(20, 20, 28))
        draw.line([0, top, w, top], fill=(200, 30, 30), width=2)
        img.info[FOOTER_TOP] = top
        y = top + 4
    else:
        y = banner + 4
    for line in lines:
        draw.text((4, y), line, fill=(255, 255, 255), font=_font(size), stroke_width=1, stroke_fill=(0, 0, 0))
        y += size + 2
    return img


def _shade(rgb: tuple[int, int, int], k: float) -> tuple[int, int, int]:
    return tuple(max(0, min(255, int(c * k))) for c in rgb)


def portrait_card(width: int, height: int, seed: int = 0) -> Image.Image:
    """A drawn head-and-shoulders stand-in for a generated portrait: a face a detector finds (so the talking head
    of a preview portrait runs, as it would with a real one), colours varying with the seed."""
    rng = np.random.default_rng(int(seed) & 0xFFFFFFFF)
    skins = [(224, 180, 150), (198, 150, 115), (240, 200, 170), (160, 115, 85), (120, 85, 60)]
    skin = skins[int(rng.integers(len(skins)))]
    # The background keeps its distance in brightness from the skin, so the head stands out as a face does.
    lum = 0.299 * skin[0] + 0.587 * skin[1] + 0.114 * skin[2]
    target = lum - 85 if lum > 130 else lum + 95
    hue = rng.uniform(0.4, 1.0, size=3)
    bg = tuple(int(min(255, v)) for v in hue * target / float(0.299 * hue[0] + 0.587 * hue[1] + 0.114 * hue[2]))
    hair = tuple(int(v) for v in rng.integers(15, 60, size=3))
    shirt = tuple(int(v) for v in rng.integers(30, 160, size=3))
    w, h = width, height
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    s = min(w, h)
    cx, cy = w // 2, int(h * 0.45)
    fw, fh = int(s * 0.36), int(s * 0.48)
    d.ellipse([cx - fw // 2 - s // 25, cy - fh // 2 - s // 17, cx + fw // 2 + s // 25, cy + fh // 4], fill=hair)
    d.ellipse([cx - int(s * 0.42), cy + fh // 2 - s // 50, cx + int(s * 0.42), cy + fh // 2 + int(s * 0.9)],
              fill=shirt)
    d.rectangle([cx - fw // 6, cy + fh // 3, cx + fw // 6, cy + fh // 2 + s // 25], fill=_shade(skin, 0.85))
    d.ellipse([cx - fw // 2, cy - fh // 2, cx + fw // 2, cy + fh // 2], fill=skin)
    ey, ex, er = cy - fh // 10, fw // 4, max(2, fw // 10)
    # Eye sockets darker than the cheeks and a lit nose bridge between them: what a face detector keys on, on
    # any skin tone.
    d.rectangle([cx - er // 2, ey - int(er * 2.2), cx + er // 2, ey + er], fill=_shade(skin, 1.15))
    for sx in (-1, 1):
        x = cx + sx * ex
        d.ellipse([x - int(er * 1.9), ey - int(er * 1.7), x + int(er * 1.9), ey + int(er * 1.3)],
                  fill=_shade(skin, 0.6))
        top = ey - int(er * 2.6)
        d.ellipse([x - int(er * 1.6), top, x + int(er * 1.6), top + int(er / 1.5)], fill=(35, 25, 20))
        d.ellipse([x - int(er * 1.2), ey - int(er * 0.8), x + int(er * 1.2), ey + int(er * 0.8)], fill=(225, 222, 215))
        d.ellipse([x - int(er / 1.6), ey - int(er / 1.6), x + int(er / 1.6), ey + int(er / 1.6)], fill=(30, 22, 18))
    ny = cy + fh // 8
    d.polygon([(cx, ey), (cx - er, ny), (cx + er, ny)], fill=_shade(skin, 0.9))
    d.ellipse([cx - er, ny - er // 3, cx + er, ny + er // 3], fill=_shade(skin, 0.7))
    my = cy + int(fh * 0.28)
    d.ellipse([cx - fw // 5, my - er // 2, cx + fw // 5, my + er // 2], fill=(150, 60, 60))
    return img.filter(ImageFilter.GaussianBlur(max(1, s // 200)))


def talking_frame(base: Image.Image, face: tuple[int, int, int, int] | None, openness: float) -> Image.Image:
    """The portrait with a mouth drawn over the face's lower third, open in proportion to `openness` (0..1)."""
    frame = base.copy()
    if face is None:
        return frame
    x, y, fw, fh = face
    cx, my = x + fw / 2, y + fh * 0.78
    half_w = fw * 0.17
    half_h = max(1.0, fh * 0.11 * max(0.0, min(1.0, openness)))
    d = ImageDraw.Draw(frame)
    lip = max(1, int(fh * 0.02))
    d.ellipse([cx - half_w - lip, my - half_h - lip, cx + half_w + lip, my + half_h + lip], fill=(160, 55, 60))
    d.ellipse([cx - half_w, my - half_h, cx + half_w, my + half_h], fill=(45, 10, 15))
    if openness > 0.35:   # teeth show when the mouth is well open
        d.rectangle([cx - half_w * 0.6, my - half_h, cx + half_w * 0.6, my - half_h * 0.6], fill=(235, 235, 225))
    return frame


def push_in(base: Image.Image, index: int, total: int, zoom_to: float = 1.25) -> Image.Image:
    """Frame `index` of a slow push-in over the picture: the view narrows smoothly towards its centre."""
    w, h = base.size
    t = index / max(1, total - 1)
    t = t * t * (3 - 2 * t)                 # ease in and out
    zoom = 1.0 + (zoom_to - 1.0) * t
    cw, ch = w / zoom, h / zoom
    x0, y0 = (w - cw) / 2, (h - ch) * 0.45   # a touch above centre, where faces and action usually are
    return base.resize((w, h), Image.BICUBIC, box=(x0, y0, x0 + cw, y0 + ch))


def loudness(samples: np.ndarray, rate: int, fps: float, frames: int) -> list[float]:
    """Per video frame, how loud the speech is (0..1): RMS over the frame's span, scaled to the clip's loud parts."""
    mono = samples if samples.ndim == 1 else samples.mean(axis=1)
    hop = rate / fps
    rms = np.zeros(frames, dtype=np.float32)
    for i in range(frames):
        part = mono[int(i * hop): int((i + 1) * hop)]
        if len(part):
            rms[i] = float(np.sqrt(np.mean(part.astype(np.float64) ** 2)))
    top = float(np.percentile(rms, 95)) if frames else 0.0
    if top <= 1e-4:
        return [0.0] * frames
    level = np.clip(rms / top, 0.0, 1.0)
    level[rms < top * 0.08] = 0.0           # silence between words closes the mouth
    return [float(v) for v in level]


def moving_frame(still: Image.Image, index: int, total: int, mode: str = "marker") -> Image.Image:
    """One frame of a clip: 'marker' moves a dot along the bottom edge; 'panzoom' slowly zooms and pans."""
    w, h = still.size
    t = index / max(1, total - 1)
    if mode == "panzoom":
        zoom = 1.0 + 0.15 * t
        cw, ch = int(w / zoom), int(h / zoom)
        x0, y0 = int((w - cw) * t), int((h - ch) * 0.5)
        frame = still.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h))
    else:
        frame = still.copy()
    draw = ImageDraw.Draw(frame)
    r = max(3, min(w, h) // 20)
    cx = int(r + (w - 2 * r) * t)
    cy = min(h - 2 * r, int(still.info.get(FOOTER_TOP, h)) - r - 2)   # ride above a caption footer
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 220, 0), outline=(0, 0, 0))
    return frame


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# ---- audio -------------------------------------------------------------------------------------------
def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst or len(x) == 0:
        return x
    n = int(round(len(x) * dst / src))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.float32)


def speech(text: str, speed: float = 1.0, rate: int = SPEECH_RATE) -> np.ndarray:
    """Mono float32 speech of `text` by espeak-ng when installed, else a syllable-like tone pattern."""
    text = text.strip() or "preview"
    exe = shutil.which("espeak-ng")
    if exe:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "s.wav"
            words_per_min = int(max(80, min(400, 175 / max(0.25, speed))))
            proc = subprocess.run([exe, "-s", str(words_per_min), "-w", str(out), "--", text[:4000]],
                                  capture_output=True, timeout=60)
            if proc.returncode == 0 and out.is_file():
                data, sr = sf.read(out, dtype="float32", always_2d=True)
                return _resample(data.mean(axis=1), sr, rate)
    seconds = max(0.5, len(text) * 0.06 / max(0.25, speed))
    return tones(seconds, rate, seed=len(text))


def tones(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    n = max(1, int(seconds * rate))
    t = np.arange(n, dtype=np.float32) / rate
    freq = 180 + 60 * np.sin(2 * math.pi * 0.7 * t + seed)
    env = 0.5 + 0.5 * np.sin(2 * math.pi * 3.0 * t) ** 2
    return (0.3 * env * np.sin(2 * math.pi * freq * t)).astype(np.float32)


def music(seconds: float, seed: int = 0, rate: int = MUSIC_RATE) -> np.ndarray:
    """Stereo (n, 2) of exactly `seconds`: a kick drum on every beat, a hi-hat between beats, a bass line and an
    arpeggio that change on the beat. Tempo (90–130 BPM) and notes follow the seed."""
    n = max(1, int(round(seconds * rate)))
    t = np.arange(n, dtype=np.float32) / rate
    rng = np.random.default_rng(seed & 0xFFFFFFFF)
    bpm = float(rng.integers(90, 131))
    beat = 60.0 / bpm
    beats = int(seconds / beat) + 2
    scale = np.array([220.0, 246.9, 277.2, 329.6, 370.0, 440.0])
    notes = rng.choice(scale, size=beats * 2)
    half = beat / 2
    idx = np.minimum((t / half).astype(int), len(notes) - 1)
    note_phase = (t % half) / half
    arp = np.sin(2 * math.pi * notes[idx] * t) * np.exp(-4 * note_phase)
    bass_notes = rng.choice(scale / 4, size=beats)
    bass = 0.4 * np.sin(2 * math.pi * bass_notes[np.minimum((t / beat).astype(int), beats - 1)] * t)
    since = (t % beat).astype(np.float32)
    kick = np.sin(2 * math.pi * (50 + 90 * np.exp(-since * 30)) * since) * np.exp(-since * 12)
    since_off = ((t - half) % beat).astype(np.float32)
    noise = rng.standard_normal(n).astype(np.float32)
    hat = 0.25 * noise * np.exp(-since_off * 60)
    left = 0.2 * arp + 0.15 * bass + 0.55 * kick + 0.15 * hat
    right = 0.16 * arp + 0.15 * bass + 0.55 * kick + 0.12 * hat
    return np.clip(np.stack([left, right], axis=1), -1, 1).astype(np.float32)


def write_audio(samples: np.ndarray, rate: int, path: Path, fmt: str, quality: str | None = None) -> None:
    """fmt: wav | flac | mp3 | opus."""
    data = samples if samples.ndim == 2 else samples[:, None]
    if fmt in ("wav", "flac"):
        sf.write(path, data, rate, format=fmt.upper())
        return
    codec, container = ("libmp3lame", "mp3") if fmt == "mp3" else ("libopus", "ogg")
    out_rate = rate if fmt == "mp3" else 48000
    data = np.stack([_resample(data[:, c], rate, out_rate) for c in range(data.shape[1])], axis=1)
    with av.open(str(path), "w", format=container) as box:
        layout = "stereo" if data.shape[1] == 2 else "mono"
        stream = box.add_stream(codec, rate=out_rate, layout=layout)
        _encode_audio(box, stream, data, out_rate, layout)


def _encode_audio(box, stream, data: np.ndarray, rate: int, layout: str) -> None:
    chunk = 1024
    planar = np.ascontiguousarray(data.T.astype(np.float32))
    pts = 0
    for start in range(0, planar.shape[1], chunk):
        part = np.ascontiguousarray(planar[:, start:start + chunk])
        frame = av.AudioFrame.from_ndarray(part, format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = pts
        pts += part.shape[1]
        for pkt in stream.encode(frame):
            box.mux(pkt)
    for pkt in stream.encode(None):
        box.mux(pkt)


# ---- video -------------------------------------------------------------------------------------------
def write_video(frames: list[Image.Image], fps: float, path: Path, audio: tuple[np.ndarray, int] | None = None,
                codec: str = "libx264") -> None:
    """MP4 (h264 + aac) or WEBM (vp9 + opus) of the frames, with the audio cut to the video length."""
    container = "webm" if path.suffix == ".webm" else "mp4"
    w, h = frames[0].size
    w, h = w - w % 2, h - h % 2
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(str(path), "w", format=container) as box:
        vs = box.add_stream("libvpx-vp9" if container == "webm" else codec, rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        a_stream = None
        if audio is not None:
            a_rate = 48000 if container == "webm" else audio[1]
            a_stream = box.add_stream("libopus" if container == "webm" else "aac", rate=a_rate, layout="stereo")
        for i, img in enumerate(frames):
            vf = av.VideoFrame.from_image(img.convert("RGB").crop((0, 0, w, h)))
            vf.pts = i
            for pkt in vs.encode(vf):
                box.mux(pkt)
        for pkt in vs.encode(None):
            box.mux(pkt)
        if a_stream is not None:
            samples, srate = audio
            data = samples if samples.ndim == 2 else np.stack([samples, samples], axis=1)
            if data.shape[1] == 1:
                data = np.repeat(data, 2, axis=1)
            data = np.stack([_resample(data[:, c], srate, a_stream.rate) for c in range(2)], axis=1)
            data = data[: int(len(frames) / fps * a_stream.rate)]
            _encode_audio(box, a_stream, data, a_stream.rate, "stereo")


def write_animation(frames: list[Image.Image], fps: float, path: Path, fmt: str, loop: int = 0) -> None:
    """Animated WEBP / PNG / GIF with Pillow."""
    duration = int(round(1000 / max(0.01, fps)))
    first, rest = frames[0], frames[1:]
    kwargs = {"save_all": True, "append_images": rest, "duration": duration, "loop": loop}
    if fmt == "webp":
        kwargs["lossless"] = False
    first.save(path, fmt.upper(), **kwargs)
