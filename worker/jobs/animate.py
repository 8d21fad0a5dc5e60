"""Panel animation: AnimateLCM-I2V through AnimateDiff-Evolved (default) or core Stable Video Diffusion."""
from __future__ import annotations

from typing import Any

from workflows.catalogue import get_spec
from worker.jobs.base import Built, MediaFile
from worker.jobs.common import check_image, new_node_id, node_id, require_kind, resolve_seed, set_inputs

CONTEXT_LENGTH = 16          # AnimateLCM is trained on 16-frame windows
SVD_MOTION_BUCKET = 127      # SVD's neutral motion; motion_strength scales it


def motion_bucket(strength: float) -> int:
    return max(1, min(1023, round(SVD_MOTION_BUCKET * strength)))


class AnimateJob:
    spec = get_spec("animate")

    def preflight(self, values: dict[str, Any], media: dict[str, MediaFile]) -> list[str]:
        check_image(require_kind(media, "image", "image"), min_side=int(self.spec.param("image").min),
                    purpose="panel animation")
        if values.get("mode") == "svd" and values.get("prompt") != self.spec.param("prompt").default:
            return ["prompt: the svd engine does not read text; the motion prompt is ignored"]
        return []

    def build(self, values: dict[str, Any], uploaded: dict[str, str]) -> Built:
        prompt = self.spec.template(values)
        seed = resolve_seed(values["seed"], int(self.spec.param("seed").max))
        frames, fps = values["frames"], values["fps"]
        roles = {set_inputs(prompt, "LoadImage", image=uploaded["image"]): "loading the panel",
                 set_inputs(prompt, "KSampler", seed=seed): "animating",
                 set_inputs(prompt, "CreateVideo", fps=float(fps)): "assembling the video"}
        if values["mode"] == "svd":
            roles[set_inputs(prompt, "SVD_img2vid_Conditioning", video_frames=frames, fps=fps,
                             motion_bucket_id=motion_bucket(values["motion_strength"]))] = "preparing the motion"
            roles[node_id(prompt, "ImageOnlyCheckpointLoader")] = "loading SVD-xt"
        else:
            roles[set_inputs(prompt, "CLIPTextEncode", 0, text=values["prompt"])] = "encoding the motion prompt"
            roles[set_inputs(prompt, "EmptyLatentImage", batch_size=frames)] = "preparing the frames"
            roles[set_inputs(prompt, "ADE_MultivalDynamic", float_val=values["motion_strength"])] = "setting motion strength"
            roles[set_inputs(prompt, "ADE_StandardStaticContextOptions",
                             context_length=min(CONTEXT_LENGTH, frames))] = "setting the frame windows"
            roles[node_id(prompt, "ADE_LoadAnimateLCMI2VModel")] = "loading AnimateLCM"
        decoded = node_id(prompt, "VAEDecode")
        roles[decoded] = "decoding the frames"
        save, create = node_id(prompt, "SaveVideo"), node_id(prompt, "CreateVideo")
        if values["format"] in ("webp", "mp4+webp"):
            webp = new_node_id(prompt)
            prompt[webp] = {"class_type": "SaveAnimatedWEBP", "inputs": {
                "images": [decoded, 0], "filename_prefix": "panel", "fps": float(fps), "lossless": False,
                "quality": 85, "method": "default"}}
            roles[webp] = "saving the animated WebP"
        if values["format"] == "webp":
            del prompt[save], prompt[create]
            roles.pop(save, None), roles.pop(create, None)
        else:
            roles[save] = "saving the video"
        return Built(prompt=prompt, roles=roles, seed=seed, licence=self.spec.licence_for(values))


JOB = AnimateJob()
