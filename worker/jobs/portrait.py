"""Portrait: Stable Diffusion 1.5 text-to-image (core ComfyUI nodes)."""
from __future__ import annotations

from typing import Any

from workflows.catalogue import get_spec
from worker.jobs import characters
from worker.jobs.base import Built, MediaFile
from worker.jobs.common import resolve_seed, set_inputs


class PortraitJob:
    spec = get_spec("portrait")

    def preflight(self, values: dict[str, Any], media: dict[str, MediaFile]) -> list[str]:
        characters.check_references(values, media)
        return []

    def build(self, values: dict[str, Any], uploaded: dict[str, str]) -> Built:
        prompt = self.spec.template(values)
        seed = resolve_seed(values["seed"], int(self.spec.param("seed").max))
        roles = {
            set_inputs(prompt, "CheckpointLoaderSimple", ckpt_name=values["model"]): "loading the checkpoint",
            set_inputs(prompt, "CLIPTextEncode", 0, text=values["prompt"]): "encoding the description",
            set_inputs(prompt, "CLIPTextEncode", 1, text=values["negative_prompt"]): "encoding what to avoid",
            set_inputs(prompt, "EmptyLatentImage", width=values["width"], height=values["height"],
                       batch_size=values["batch_size"]): "preparing the canvas",
            set_inputs(prompt, "KSampler", seed=seed, steps=values["steps"], cfg=values["cfg"],
                       sampler_name=values["sampler"], scheduler=values["scheduler"]): "drawing",
            set_inputs(prompt, "VAEDecode"): "decoding the image",
            set_inputs(prompt, "SaveImage"): "saving the image",
        }
        roles.update(characters.add_characters(prompt, self.spec, values.get("characters") or [], uploaded,
                                               values["width"], values["height"]))
        return Built(prompt=prompt, roles=roles, seed=seed, licence=self.spec.licence_for(values))


JOB = PortraitJob()
