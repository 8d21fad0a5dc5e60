"""Converting an output file to the format the job asked for, after ComfyUI saved it.

ComfyUI 0.3.64 has no WAV saver: the TTS and music templates save lossless FLAC (SaveAudio), and the
declaration's `output.convert` ({"audio/flac": "audio/wav"}) says the worker turns it into WAV. Everything here
is pure (bytes in, bytes out) so it runs the same on RunPod and in the tests.
"""
from __future__ import annotations

import io
import posixpath
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from worker.comfy.client import OutputFile
from worker.errors import WorkerError
from worker.outputs import Collected, mime_for

_EXTENSION = {"audio/wav": ".wav", "audio/flac": ".flac", "audio/mpeg": ".mp3"}
# WAV can hold every sample format FLAC can; keep it, so the conversion is lossless.
_WAV_SUBTYPES = {"PCM_S8": "PCM_U8", "PCM_16": "PCM_16", "PCM_24": "PCM_24", "PCM_32": "PCM_32"}


def flac_to_wav(data: bytes) -> bytes:
    """The same samples, rate and channels as a RIFF WAV file (same bit depth; 16-bit when unknown)."""
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
        samples, rate = sf.read(io.BytesIO(data), dtype="int32" if info.subtype != "PCM_16" else "int16",
                                always_2d=True)
    except Exception as exc:  # libsndfile raises several types for a broken file
        raise WorkerError("execution_failed", f"ComfyUI saved a FLAC file that could not be read for the WAV "
                          f"conversion ({exc.__class__.__name__}: {exc})") from None
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype=_WAV_SUBTYPES.get(info.subtype, "PCM_16"))
    return out.getvalue()


CONVERTERS = {("audio/flac", "audio/wav"): flac_to_wav}


def wanted(declared: Mapping[str, str] | None, values: Mapping[str, Any]) -> dict[str, str]:
    """The declared conversions this request asks for.

    A job with a `format` field ("wav", "mp3", "wav+mp3") gets a conversion only when its target is one of the
    formats asked for; a job without one gets every declared conversion."""
    declared = dict(declared or {})
    fmt = values.get("format")
    if not isinstance(fmt, str):
        return declared
    asked = {f".{part.strip().lower()}" for part in fmt.split("+")}
    return {src: dst for src, dst in declared.items() if _EXTENSION.get(dst) in asked}


def renamed(filename: str, mime: str) -> str:
    stem, _ = posixpath.splitext(filename)
    return stem + _EXTENSION.get(mime, "")


def apply(files: list[tuple[Collected, bytes]], conversions: Mapping[str, str]) -> list[tuple[Collected, bytes]]:
    """Each file whose mime has a wanted conversion becomes the converted file (new name, mime and bytes)."""
    out = []
    for c, data in files:
        target = conversions.get(c.mime)
        convert = CONVERTERS.get((c.mime, target)) if target else None
        if convert is None:
            out.append((c, data))
            continue
        name = renamed(c.ref.filename, target)
        ref = OutputFile(name, c.ref.subfolder, c.ref.type)
        out.append((replace(c, ref=ref, mime=mime_for(name)), convert(data)))
    return out
