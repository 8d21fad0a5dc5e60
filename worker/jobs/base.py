"""The contract between the worker core and one job module (worker/jobs/<action>.py).

The core validates the input against the job's declaration, fetches the media fields, lets the job check
them (`preflight`), uploads them to ComfyUI, asks the job for the prompt (`build`), and runs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from workflows.catalogue import JobSpec


@dataclass
class MediaFile:
    """A decoded media input. `kind` is sniffed from the bytes ("image" | "audio" | "video")."""
    param: str
    data: bytes
    kind: str
    mime: str
    extension: str          # ".png", ".wav", ...


@dataclass
class Built:
    prompt: dict[str, Any]                              # ComfyUI API-format workflow, ready to POST
    roles: dict[str, str] = field(default_factory=dict)  # node id -> what it does, for error sentences
    seed: int | None = None                              # the seed actually used (after -1 → random)
    warnings: list[str] = field(default_factory=list)
    licence: dict[str, Any] | None = None                # the output's licence (JobSpec.licence_for(values))


class Job(Protocol):
    spec: JobSpec

    def preflight(self, values: dict[str, Any], media: dict[str, MediaFile]) -> list[str]:
        """Check decoded media before any GPU time is spent; may replace media (e.g. trim audio).

        Returns warnings; raises WorkerError("invalid_input", ..., field=name) for unusable input."""
        ...

    def build(self, values: dict[str, Any], uploaded: dict[str, str]) -> Built:
        """`uploaded` maps each media param name to the name ComfyUI stored it under (LoadImage/LoadAudio value)."""
        ...
