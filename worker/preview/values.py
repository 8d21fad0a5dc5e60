"""The abstract values that flow along the graph's links while the engine "runs" a prompt."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Ref:
    """A reference image that conditions a picture (IP-Adapter): where it applies and how strongly."""
    source: Path | None
    box: tuple[float, float, float, float]   # (x, y, w, h) fractions of the picture; the whole picture without a mask
    weight: float
    crop: str = "center"                      # which square of the reference the image encoder saw


@dataclass(frozen=True)
class Mask:
    """A mask's values (height × width, 0..1): the engine computes masks exactly, so regions can be drawn."""
    values: np.ndarray = field(repr=False, compare=False)

    @property
    def width(self) -> int:
        return int(self.values.shape[1])

    @property
    def height(self) -> int:
        return int(self.values.shape[0])

    def box(self) -> tuple[float, float, float, float] | None:
        """The bounding box (fractions) of where the mask is at least one half, or None when it is empty."""
        ys, xs = np.nonzero(self.values >= 0.5)
        if not len(xs):
            return None
        h, w = self.values.shape
        return (xs.min() / w, ys.min() / h, (xs.max() + 1 - xs.min()) / w, (ys.max() + 1 - ys.min()) / h)


@dataclass(frozen=True)
class Img:
    """A batch of `count` images (or video frames) to be drawn only when saved."""
    width: int
    height: int
    count: int = 1
    caption: str = ""
    seed: int | None = None
    color: int | None = None
    source: Path | None = None
    motion: str | None = None      # None (stills) | "talk" (talking head) | "panzoom" (animated panel) | "marker"
    channels: int = 3
    face: tuple[int, int, int, int] | None = None   # the face box (x, y, w, h) a talking head's mouth is drawn in
    mouth: tuple[float, ...] | None = None          # per frame, how far the mouth is open (0..1)
    refs: tuple[Ref, ...] = ()                      # references that conditioned the picture (drawn in preview)
    crop: str | None = None                         # PrepImageForClipVision's crop position, for a reference

    def with_(self, **kw: Any) -> "Img":
        return replace(self, **kw)


@dataclass(frozen=True)
class Latent:
    width: int = 512
    height: int = 512
    batch: int = 1
    caption: str = ""
    seed: int | None = None
    seconds: float | None = None   # set for audio latents (ACE-Step)
    source: Path | None = None
    refs: tuple[Ref, ...] = ()     # the references the sampler's model carried (IP-Adapter)


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray = field(repr=False)   # float32, (n,) or (n, channels)
    rate: int = 24000

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


@dataclass(frozen=True)
class Video:
    images: Img
    fps: float
    audio: Audio | None = None

    @property
    def seconds(self) -> float:
        return self.images.count / self.fps if self.fps else 0.0


@dataclass(frozen=True)
class Cond:
    """Conditioning: what the sampler is asked for."""
    text: str = ""
    source: Path | None = None
    frames: int | None = None


@dataclass(frozen=True)
class Thing:
    """Models, VAEs, CLIPs, options: opaque, but may carry the reference image along the graph."""
    kind: str
    source: Path | None = None
    info: dict = field(default_factory=dict)


def source_of(*values: Any) -> Path | None:
    for v in values:
        src = getattr(v, "source", None)
        if src is not None:
            return src
        if isinstance(v, Video):
            return v.images.source
    return None
