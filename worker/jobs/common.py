"""Helpers the job modules share: seeds, finding nodes in a template, and probing media before GPU time is spent."""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Any

from worker.errors import WorkerError
from worker.jobs.base import MediaFile

# A decoded image above this many pixels is refused: it would only be scaled down, and huge ones are decompression bombs.
MAX_IMAGE_PIXELS = 40_000_000
_rng = random.SystemRandom()


def resolve_seed(seed: int, maximum: int) -> int:
    """-1 means random; the result is what the job reports back so a person can repeat it."""
    return _rng.randint(0, maximum) if seed == -1 else seed


def node_id(prompt: dict[str, Any], class_type: str, nth: int = 0) -> str:
    """The id of the nth node of a class in a template (templates are ours, so absence is a bug)."""
    ids = [k for k, v in prompt.items() if v.get("class_type") == class_type]
    if len(ids) <= nth:
        raise KeyError(f"template has no {class_type} node #{nth}")
    return sorted(ids, key=lambda k: (len(k), k))[nth]


def set_inputs(prompt: dict[str, Any], class_type: str, nth: int = 0, **inputs: Any) -> str:
    nid = node_id(prompt, class_type, nth)
    prompt[nid]["inputs"].update(inputs)
    return nid


def new_node_id(prompt: dict[str, Any]) -> str:
    return str(max((int(k) for k in prompt if k.isdigit()), default=0) + 1)


def require_kind(media: dict[str, MediaFile], name: str, kind: str) -> MediaFile:
    m = media.get(name)
    if m is None:
        raise WorkerError("invalid_input", f"{name}: is required ({kind} file)", field=name)
    if m.kind != kind:
        raise WorkerError("invalid_input", f"{name}: expected an {kind} file but got {m.mime}", field=name)
    return m


# ---- images -----------------------------------------------------------------------------------------

def image_size(m: MediaFile) -> tuple[int, int]:
    """(width, height) after a full decode, or WorkerError naming the field."""
    from PIL import Image  # imported here: the studio never calls this, and PIL is slow to import

    try:
        with Image.open(io.BytesIO(m.data)) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise WorkerError("invalid_input", f"{m.param}: {w}×{h} is too large "
                                  f"(at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels)", field=m.param)
            im.load()
            return w, h
    except WorkerError:
        raise
    except Exception as exc:  # PIL raises many types for broken files
        raise WorkerError("invalid_input", f"{m.param}: the image could not be decoded ({exc.__class__.__name__})",
                          field=m.param) from None


def check_image(m: MediaFile, *, min_side: int, purpose: str) -> tuple[int, int]:
    w, h = image_size(m)
    if min(w, h) < min_side:
        raise WorkerError("invalid_input", f"{m.param}: {w}×{h} is too small; {purpose} needs at least "
                          f"{min_side} pixels on the short side", field=m.param)
    return w, h


# ---- audio ------------------------------------------------------------------------------------------

@dataclass
class Audio:
    samples: Any        # numpy array, frames × channels, float32
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


def decode_audio(m: MediaFile) -> Audio:
    """Decode with libsndfile (WAV/FLAC/OGG/MP3); fall back to PyAV (in the worker image) for AAC/M4A."""
    import numpy as np
    import soundfile as sf

    try:
        data, rate = sf.read(io.BytesIO(m.data), dtype="float32", always_2d=True)
        if len(data) == 0:
            raise WorkerError("invalid_input", f"{m.param}: the audio is empty", field=m.param)
        return Audio(data, int(rate))
    except WorkerError:
        raise
    except Exception:
        pass
    try:
        import av  # type: ignore[import-not-found]

        with av.open(io.BytesIO(m.data)) as container:
            stream = container.streams.audio[0]
            chunks = [f.to_ndarray() for f in container.decode(stream)]
            rate = stream.codec_context.sample_rate
        arr = np.concatenate([c if c.ndim == 2 else c[None, :] for c in chunks], axis=1).T.astype("float32")
        if arr.dtype.kind == "i":
            arr = arr / 32768.0
        if len(arr) == 0:
            raise ValueError("no samples")
        return Audio(arr, int(rate))
    except Exception:
        raise WorkerError("invalid_input", f"{m.param}: the audio could not be decoded "
                          "(send WAV, FLAC, OGG or MP3)", field=m.param) from None


def encode_wav(audio: Audio, param: str) -> MediaFile:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.samples, audio.rate, format="WAV", subtype="PCM_16")
    return MediaFile(param=param, data=buf.getvalue(), kind="audio", mime="audio/wav", extension=".wav")


def trim(audio: Audio, seconds: float) -> Audio:
    return Audio(audio.samples[: int(round(seconds * audio.rate))], audio.rate)
