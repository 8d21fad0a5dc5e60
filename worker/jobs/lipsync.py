"""Talking head: SONIC (smthemex/ComfyUI_Sonic) on the SVD-xt 1.1 checkpoint, muxed with the speech."""
from __future__ import annotations

from typing import Any

from workflows.catalogue import get_spec
from worker.errors import WorkerError
from worker.jobs.base import Built, MediaFile
from worker.jobs.common import check_image, decode_audio, require_kind, resolve_seed, set_inputs

MIN_AUDIO_S = 0.5


class LipsyncJob:
    spec = get_spec("lipsync")

    def preflight(self, values: dict[str, Any], media: dict[str, MediaFile]) -> list[str]:
        # SONIC crops the face and works at 512 on the short side: a tiny image has no usable face.
        check_image(require_kind(media, "image", "image"), min_side=int(self.spec.param("image").min),
                    purpose="a talking head")
        audio = decode_audio(require_kind(media, "audio", "audio"))
        if audio.duration < MIN_AUDIO_S:
            raise WorkerError("invalid_input", f"audio: {audio.duration:.2f} s is too short; send at least "
                              f"{MIN_AUDIO_S:g} s of speech", field="audio")
        limit = values["max_duration"]
        if audio.duration > limit + 0.05:
            return [f"audio: {audio.duration:.1f} s is longer than max_duration; only the first {limit:g} s are "
                    "animated (raise max_duration for more)"]
        return []

    def build(self, values: dict[str, Any], uploaded: dict[str, str]) -> Built:
        prompt = self.spec.template(values)
        seed = resolve_seed(values["seed"], int(self.spec.param("seed").max))
        seconds = float(values["max_duration"])
        roles = {
            set_inputs(prompt, "ImageOnlyCheckpointLoader"): "loading SVD-xt",
            set_inputs(prompt, "SONICTLoader"): "loading Sonic",
            set_inputs(prompt, "LoadImage", image=uploaded["image"]): "loading the portrait",
            set_inputs(prompt, "LoadAudio", audio=uploaded["audio"]): "loading the speech",
            # CreateVideo muxes the whole audio even when Sonic stops early, so the audio is cut to the same length.
            set_inputs(prompt, "TrimAudioDuration", duration=seconds): "cutting the speech to length",
            set_inputs(prompt, "SONIC_PreData", duration=seconds): "finding the face",
            set_inputs(prompt, "SONICSampler", seed=seed, inference_steps=values["steps"],
                       dynamic_scale=values["dynamic_scale"], fps=float(values["fps"])): "animating the face",
            set_inputs(prompt, "CreateVideo"): "assembling the video",
            set_inputs(prompt, "SaveVideo"): "saving the video",
        }
        return Built(prompt=prompt, roles=roles, seed=seed, licence=self.spec.licence_for(values))


JOB = LipsyncJob()
