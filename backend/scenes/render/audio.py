"""Audio: decoding speech and music, and the mix (speech over a music bed ducked while a line is spoken),
made in blocks so memory stays flat."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from backend.scenes.render.errors import RenderError

SAMPLE_RATE = 48000
MUSIC_GAIN_DB = -6.0       # the bed under everything
DUCK_DB = -12.0            # extra, while a line is spoken
ATTACK_S = 0.05
RELEASE_S = 0.4
MUSIC_FADE_IN_S = 1.0
MUSIC_FADE_OUT_S = 2.0


def decode_audio(path: Path, channels: int = 1) -> np.ndarray:
    """The whole file as float32 at SAMPLE_RATE: shape (n,) for mono, (2, n) for stereo."""
    layout = "mono" if channels == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
    parts = []
    with av.open(str(path)) as c:
        if not c.streams.audio:
            raise ValueError("it has no audio stream")
        for frame in c.decode(audio=0):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray())
        for out in resampler.resample(None):
            parts.append(out.to_ndarray())
    if not parts:
        raise ValueError("it has no audio")
    data = np.concatenate(parts, axis=1).astype(np.float32)
    return data[0] if channels == 1 else data


class MusicStream:
    """The music bed read in order, looping when the scene is longer than the track."""

    def __init__(self, path: Path):
        self.path = path
        self.buf = np.zeros((2, 0), np.float32)
        self._open()

    def _open(self):
        self.container = av.open(str(self.path))
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self.frames = self.container.decode(audio=0)

    def read(self, n: int) -> np.ndarray:
        parts, have, empty_loops = [self.buf], self.buf.shape[1], 0
        while have < n:
            try:
                frame = next(self.frames)
                outs = self.resampler.resample(frame)
            except (StopIteration, av.error.EOFError):
                outs = self.resampler.resample(None)
                self.container.close()
                empty_loops += 1
                if empty_loops > 2:
                    raise RenderError("the music has no sound to loop")
                self._open()
            for o in outs:
                a = o.to_ndarray().astype(np.float32)
                if a.shape[1]:
                    empty_loops = 0
                parts.append(a)
                have += a.shape[1]
        data = np.concatenate(parts, axis=1)
        self.buf = data[:, n:]
        return data[:, :n]

    def close(self):
        self.container.close()


# ---------------------------------------------------------------- audio mix

@dataclass
class Speech:
    start: int          # sample
    data: np.ndarray    # mono float32

    @property
    def end(self) -> int:
        return self.start + len(self.data)


def duck_gain(t: np.ndarray, intervals: list[tuple[float, float]]) -> np.ndarray:
    """The music's ducking gain at times t (linear): 1 outside speech, DUCK_DB while a line is spoken,
    reached over ATTACK_S just before the line and released over RELEASE_S after it."""
    d = np.zeros_like(t, dtype=np.float32)
    for s, e in intervals:
        if e + RELEASE_S < t[0] or s - ATTACK_S > t[-1]:
            continue
        rise = np.clip((t - (s - ATTACK_S)) / ATTACK_S, 0, 1)
        fall = np.clip(1 - (t - e) / RELEASE_S, 0, 1)
        d = np.maximum(d, np.minimum(rise, fall))
    return (10 ** (DUCK_DB * d / 20)).astype(np.float32)


class Mixer:
    def __init__(self, speech: list[Speech], music: MusicStream | None, total: int):
        self.speech, self.music, self.total = speech, music, total
        self.intervals = [(s.start / SAMPLE_RATE, s.end / SAMPLE_RATE) for s in speech]

    def block(self, start: int, n: int) -> np.ndarray:
        out = np.zeros((2, n), np.float32)
        if self.music is not None:
            t = (start + np.arange(n, dtype=np.float64)) / SAMPLE_RATE
            total_s = self.total / SAMPLE_RATE
            fade = np.clip(np.minimum(t / MUSIC_FADE_IN_S, (total_s - t) / MUSIC_FADE_OUT_S), 0, 1)
            gain = (10 ** (MUSIC_GAIN_DB / 20)) * fade.astype(np.float32) * duck_gain(t, self.intervals)
            out += self.music.read(n) * gain
        for s in self.speech:
            lo, hi = max(start, s.start), min(start + n, s.end)
            if lo < hi:
                out[:, lo - start:hi - start] += s.data[lo - s.start:hi - s.start]
        return np.clip(out, -1.0, 1.0)
