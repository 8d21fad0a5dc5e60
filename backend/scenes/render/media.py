"""Reading a render's input: every shot's media checked to decode before a long render starts, and the
speech decoded."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import av
import numpy as np
from PIL import Image

from backend.scenes.model import RenderInput, ShotMedia
from backend.scenes.render.audio import decode_audio
from backend.scenes.render.clips import probe_video
from backend.scenes.render.errors import RenderError

Progress = Callable[[float, str], None]


@dataclass
class Prepared:
    media: ShotMedia
    speech: list[np.ndarray]
    clip_s: float | None


def prepare(inp: RenderInput, progress: Progress) -> list[Prepared]:
    """Check every shot's media can be decoded (before a long render starts) and read the speech."""
    out = []
    n = len(inp.shots)
    for i, sm in enumerate(inp.shots):
        shot = sm.shot
        progress(0.05 * i / max(1, n), f"Reading the media of {shot.label}")
        speech, clip_s = [], None
        if shot.kind != "title" and sm.image is None and sm.video is None:
            raise RenderError(f"{shot.label}: it has no {'video' if shot.kind == 'talking_head' else 'image'} yet")
        if len(sm.speech) > len(shot.lines):
            raise RenderError(f"{shot.label}: {len(sm.speech)} speech files for {len(shot.lines)} lines")
        if sm.image is not None and shot.kind != "title":
            try:
                with Image.open(sm.image) as im:
                    im.load()
            except Exception as e:
                raise RenderError(f"{shot.label}: the image cannot be read ({reason(e)})") from None
        if sm.video is not None and shot.kind != "title":
            try:
                clip_s = probe_video(Path(sm.video))[0]
            except Exception as e:
                raise RenderError(f"{shot.label}: the video cannot be read ({reason(e)})") from None
        for n_line, path in enumerate(sm.speech, start=1):
            try:
                speech.append(decode_audio(Path(path), 1))
            except Exception as e:
                raise RenderError(f"{shot.label}: line {n_line}'s speech cannot be read ({reason(e)})") from None
        out.append(Prepared(sm, speech, clip_s))
    if inp.music is not None:
        try:
            with av.open(str(inp.music)) as c:
                if not c.streams.audio:
                    raise ValueError("it has no audio stream")
                next(c.decode(audio=0))
        except Exception as e:
            raise RenderError(f"the music cannot be read ({reason(e)})") from None
    return out


def reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    # PyAV/PIL messages can carry the full path: the file name is enough (no folders on screen)
    return re.sub(r"(?:[A-Za-z]:)?[\\/](?:[^\s'\"\\/]+[\\/])+", "", text)[:200]
