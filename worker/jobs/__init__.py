"""The five jobs, keyed by action: each validates nothing itself (the catalogue does) but checks media and builds
the ComfyUI prompt from its template."""
from __future__ import annotations

from worker.jobs import animate, lipsync, music, portrait, tts
from worker.jobs.base import Job

JOBS: dict[str, Job] = {
    "portrait": portrait.JOB,
    "tts": tts.JOB,
    "lipsync": lipsync.JOB,
    "animate": animate.JOB,
    "music": music.JOB,
}
