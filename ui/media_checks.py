"""Checks on media files the catalogue cannot make (it sees only a path): readable, long/big enough.

Each returns None when the file is fine, or a sentence that starts with the field name.
"""
from __future__ import annotations

import soundfile as sf
from PIL import Image, UnidentifiedImageError

from workflows.catalogue import Param



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


def check_media(param: Param, path: str | None) -> str | None:
    """Check a media field against its declaration: for audio `min`/`max` are seconds, for an image `min` is the
    short side in pixels — the same limits the worker applies, so nothing the form accepts fails there."""
    if param.type == "image":
        return check_image(param.name, path, min_side=int(param.min or 0))
    return check_audio(param.name, path, min_seconds=param.min or 0.1, max_seconds=param.max)


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
