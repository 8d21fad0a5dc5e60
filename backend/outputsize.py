"""How big a job's output will be, estimated from its inputs before it is sent, and whether it can come back.

RunPod returns a result of at most 10 MB; the worker returns files inline up to 7 MB (WORKER_INLINE_MAX_BYTES,
decoded) and anything bigger needs a bucket. A long WAV (music, or speech from a long script) is far bigger, so
in RunPod mode without a bucket the studio refuses such a job before sending it, saying what to change, instead
of paying for GPU time whose result cannot come back. Preview and local endpoints deliver big files themselves.
Pure functions: the page (ui/jobrun.py) and the backend (Studio.submit) both call them.
"""
from __future__ import annotations

from typing import Any

INLINE_LIMIT = 7 * 1024 * 1024           # the worker's default WORKER_INLINE_MAX_BYTES
MB = 1024 * 1024

# Bytes per second of audio, by job and format (what the templates save; estimates err on the large side).
_BYTES_PER_S = {
    ("music", "wav"): 44_100 * 2 * 2,    # ACE-Step: 44.1 kHz stereo, 16-bit after the FLAC → WAV conversion
    ("music", "mp3"): 32_000,            # SaveAudioMP3 V0: about 256 kbit/s
    ("tts", "wav"): 24_000 * 2,          # F5-TTS: 24 kHz mono, 16-bit
    ("tts", "mp3"): 16_000,              # about 128 kbit/s
}
SPEECH_CHARS_PER_S = 14.0                # a calm reading pace at speed 1.0


def audio_seconds(action: str, values: dict[str, Any]) -> float | None:
    if action == "music":
        d = values.get("duration")
        return float(d) if isinstance(d, (int, float)) else None
    if action == "tts":
        text = values.get("text")
        speed = values.get("speed") or 1.0
        if not isinstance(text, str) or not isinstance(speed, (int, float)) or speed <= 0:
            return None
        return len(text) / SPEECH_CHARS_PER_S / float(speed)
    return None


def estimate_bytes(action: str, values: dict[str, Any]) -> int | None:
    """The output's estimated size in bytes, or None when it is small or cannot be told from the inputs."""
    seconds = audio_seconds(action, values)
    if seconds is None:
        return None
    fmt = str(values.get("format") or "")
    parts = fmt.split("+") if fmt else []
    rates = [_BYTES_PER_S.get((action, p)) for p in parts]
    if not rates or any(r is None for r in rates):
        return None
    return int(seconds * sum(rates))            # "wav+mp3" returns both files


def inline_problem(action: str, values: dict[str, Any], *, limit: int = INLINE_LIMIT) -> tuple[str, str] | None:
    """(field, sentence) when the output will not fit inline, naming what to change; else None."""
    size = estimate_bytes(action, values)
    if size is None or size <= limit:
        return None
    seconds = audio_seconds(action, values) or 0.0
    fmt = str(values.get("format"))
    what = "music" if action == "music" else "speech"
    fixes = []
    if "wav" in fmt.split("+"):
        mp3 = estimate_bytes(action, {**values, "format": "mp3"})
        if mp3 is not None and mp3 <= limit:
            fixes.append("choose MP3")
    per_s = size / seconds if seconds else 0
    if per_s:
        longest = int(limit / per_s)
        if action == "music":
            fixes.append(f"make it at most {longest} s long")
        else:
            fixes.append(f"shorten the text to about {int(longest * SPEECH_CHARS_PER_S * float(values.get('speed') or 1))}"
                         " characters")
    fixes.append("or give the studio a bucket (its STUDIO_BUCKET_* settings)")
    field = "format" if "choose MP3" in fixes else ("duration" if action == "music" else "text")
    return field, (f"This {what} ({fmt.upper()}, about {seconds:.0f} s) will be about {size / MB:.1f} MB, more than "
                   f"the {limit // MB} MB RunPod can return without a bucket: " + ", ".join(fixes) + ".")
