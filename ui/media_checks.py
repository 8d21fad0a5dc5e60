"""Checks on media files the catalogue cannot make (it sees only a path): readable, long/big enough.

Each returns None when the file is fine, or a sentence that starts with the field name.
"""
from __future__ import annotations

import soundfile as sf
from PIL import Image, UnidentifiedImageError

# A reference voice is 5–12 s (F5-TTS cuts longer ones to 12 s); anything past this is surely the wrong file.
MAX_REFERENCE_SECONDS = 30.0
MIN_REFERENCE_SECONDS = 1.0
# Sonic's face detector needs a face it can find: the lip-sync declaration asks for >= 256 px on the short side.
MIN_LIPSYNC_SIDE = 256


def audio_seconds(path: str) -> float:
    """Duration of an audio file (WAV/FLAC/OGG/MP3); raises ValueError when it cannot be read."""
    try:
        info = sf.info(path)
    except Exception as exc:  # soundfile raises its own LibsndfileError / RuntimeError types
        raise ValueError(str(exc)) from None
    if not info.samplerate:
        raise ValueError("no sample rate")
    return info.frames / info.samplerate


def check_audio(field: str, path: str | None, *, max_seconds: float | None = None,
                min_seconds: float = 0.1) -> str | None:
    if not path:
        return None
    try:
        seconds = audio_seconds(path)
    except ValueError:
        return f"{field}: the file could not be read as audio; upload a WAV, FLAC, OGG or MP3 recording"
    if seconds < min_seconds:
        return f"{field}: the recording is {seconds:.1f} s long; it needs at least {min_seconds:.0f} s of speech"
    if max_seconds is not None and seconds > max_seconds:
        return (f"{field}: the recording is {seconds:.0f} s long; use 5–12 s of clean speech "
                f"(at most {max_seconds:.0f} s) — trim it first")
    return None


def check_reference(field: str, path: str | None) -> str | None:
    return check_audio(field, path, max_seconds=MAX_REFERENCE_SECONDS, min_seconds=MIN_REFERENCE_SECONDS)


def check_image(field: str, path: str | None, *, min_side: int = 0) -> str | None:
    if not path:
        return None
    try:
        with Image.open(path) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError):
        return f"{field}: the file could not be read as an image; upload a PNG, JPEG or WebP"
    if min(w, h) < min_side:
        return f"{field}: the image is {w}×{h}; it needs at least {min_side} pixels on the short side"
    return None
