"""Music: ACE-Step v1 (core ComfyUI nodes; the 1.5 nodes are not in ComfyUI 0.3.64)."""
from __future__ import annotations

from typing import Any

from workflows.catalogue import get_spec
from worker.jobs.base import Built, MediaFile
from worker.jobs.common import node_id, resolve_seed, set_inputs


class MusicJob:
    spec = get_spec("music")

    def preflight(self, values: dict[str, Any], media: dict[str, MediaFile]) -> list[str]:
        lyrics = values["lyrics"].strip()
        if lyrics and "[" not in lyrics:
            return ["lyrics: no section tags found; mark sections with [verse] and [chorus], or use [instrumental]"]
        return []

    def build(self, values: dict[str, Any], uploaded: dict[str, str]) -> Built:
        prompt = self.spec.template(values)
        seed = resolve_seed(values["seed"], int(self.spec.param("seed").max))
        roles = {
            set_inputs(prompt, "CheckpointLoaderSimple"): "loading ACE-Step",
            set_inputs(prompt, "TextEncodeAceStepAudio", tags=values["tags"],
                       lyrics=values["lyrics"].strip() or "[instrumental]"): "reading the style and lyrics",
            set_inputs(prompt, "EmptyAceStepLatentAudio", seconds=float(values["duration"])): "preparing the track",
            set_inputs(prompt, "KSampler", seed=seed, steps=values["steps"]): "composing",
            set_inputs(prompt, "VAEDecodeAudio"): "decoding the audio",
        }
        save = node_id(prompt, "SaveAudioMP3")
        if values["format"] == "wav":
            # No WAV saver in ComfyUI 0.3.64: SaveAudio writes lossless FLAC, which the worker converts to WAV.
            prompt[save] = {"class_type": "SaveAudio", "inputs": {
                "audio": prompt[save]["inputs"]["audio"], "filename_prefix": "audio/music"}}
        roles[save] = "saving the audio"
        return Built(prompt=prompt, roles=roles, seed=seed, licence=self.spec.licence_for(values))


JOB = MusicJob()
