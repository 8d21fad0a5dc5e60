"""Panel animation: AnimateLCM-I2V through AnimateDiff-Evolved (default) or core Stable Video Diffusion."""
from __future__ import annotations

import math
from typing import Any

from workflows.catalogue import get_spec
from worker.jobs.base import Built, MediaFile
from worker.jobs.common import check_image, new_node_id, node_id, require_kind, resolve_seed, set_inputs

CONTEXT_LENGTH = 16          # AnimateLCM is trained on 16-frame windows
SVD_MOTION_BUCKET = 127      # SVD's neutral motion; motion_strength scales it


# AnimateLCM-I2V runs on SD1.5, trained at 512²: keep the pixel count near that (SD1.5 loses coherence well above it,
# and detail well below), sides on the 64 px grid the UNet downsamples to, short side no smaller than a usable 256.
LCM_AREA = 512 * 512
LCM_MAX_AREA = 1.1 * LCM_AREA
LCM_MIN_AREA = 0.8 * LCM_AREA
LCM_SIDES = range(256, int(LCM_MAX_AREA // 256) + 1, 64)   # the long side is bounded by the area
# SVD-xt was trained at 1024×576; its portrait mirror and a square of similar area are the sizes it handles well.
SVD_WIDE, SVD_TALL, SVD_SQUARE = (1024, 576), (576, 1024), (768, 768)
SVD_WIDE_RATIO = 1.2


def motion_bucket(strength: float) -> int:
    return max(1, min(1023, round(SVD_MOTION_BUCKET * strength)))


def lcm_frame_size(panel_w: int, panel_h: int) -> tuple[int, int]:
    """The AnimateLCM frame (w, h) whose shape is nearest the panel's among 64-multiples of about 512² pixels.

    Closeness is measured in log-ratio, so 2:1 and 1:2 panels are treated alike; equal shapes go to the size whose
    area is nearest 512². A panel more extreme than that grid allows (1088×256, 4.25:1) gets its most extreme frame, centre-cropped."""
    target = math.log(panel_w / panel_h)
    candidates = [(w, h) for w in LCM_SIDES for h in LCM_SIDES if LCM_MIN_AREA <= w * h <= LCM_MAX_AREA]
    return min(candidates, key=lambda s: (round(abs(math.log(s[0] / s[1]) - target), 9), abs(s[0] * s[1] - LCM_AREA)))


def svd_frame_size(panel_w: int, panel_h: int) -> tuple[int, int]:
    ratio = panel_w / panel_h
    if ratio >= SVD_WIDE_RATIO:
        return SVD_WIDE
    if ratio <= 1 / SVD_WIDE_RATIO:
        return SVD_TALL
    return SVD_SQUARE


def frame_size(mode: str, panel_w: int, panel_h: int) -> tuple[int, int]:
    """The video frame (w, h) for a panel of this size: the panel's shape, at a size the engine was trained for."""
    return svd_frame_size(panel_w, panel_h) if mode == "svd" else lcm_frame_size(panel_w, panel_h)


class AnimateJob:
    spec = get_spec("animate")

    def preflight(self, values: dict[str, Any], media: dict[str, MediaFile]) -> list[str]:
        w, h = check_image(require_kind(media, "image", "image"), min_side=int(self.spec.param("image").min),
                           purpose="panel animation")
        # Derived, not a user field (validate rejects unknown names, so only preflight sets it): the frame (w, h)
        # that keeps the panel's shape. `build` reads it; without it (no decoded panel) the template's size stays.
        values["frame_size"] = frame_size(values.get("mode") or self.spec.param("mode").default, w, h)
        if values.get("mode") == "svd" and values.get("prompt") != self.spec.param("prompt").default:
            return ["prompt: the svd engine does not read text; the motion prompt is ignored"]
        return []

    def build(self, values: dict[str, Any], uploaded: dict[str, str]) -> Built:
        prompt = self.spec.template(values)
        seed = resolve_seed(values["seed"], int(self.spec.param("seed").max))
        frames, fps = values["frames"], values["fps"]
        size = values.get("frame_size")
        dims = {"width": size[0], "height": size[1]} if size else {}
        roles = {set_inputs(prompt, "LoadImage", image=uploaded["image"]): "loading the panel",
                 set_inputs(prompt, "KSampler", seed=seed): "animating",
                 set_inputs(prompt, "CreateVideo", fps=float(fps)): "assembling the video"}
        if values["mode"] == "svd":
            roles[set_inputs(prompt, "SVD_img2vid_Conditioning", video_frames=frames, fps=fps, **dims,
                             motion_bucket_id=motion_bucket(values["motion_strength"]))] = "preparing the motion"
            roles[node_id(prompt, "ImageOnlyCheckpointLoader")] = "loading SVD-xt"
        else:
            roles[set_inputs(prompt, "CLIPTextEncode", 0, text=values["prompt"])] = "encoding the motion prompt"
            roles[set_inputs(prompt, "EmptyLatentImage", batch_size=frames, **dims)] = "preparing the frames"
            roles[set_inputs(prompt, "ADE_MultivalDynamic", float_val=values["motion_strength"])] = "setting motion strength"
            roles[set_inputs(prompt, "ADE_StandardStaticContextOptions",
                             context_length=min(CONTEXT_LENGTH, frames))] = "setting the frame windows"
            roles[node_id(prompt, "ADE_LoadAnimateLCMI2VModel")] = "loading AnimateLCM"
            # The real ComfyUI runs the loaders first: without these roles a bad checkpoint on the volume was
            # reported as "animate (node 1, CheckpointLoaderSimple) failed" (seen on the real_comfyui tier).
            roles[node_id(prompt, "CheckpointLoaderSimple")] = "loading the checkpoint"
            roles[node_id(prompt, "LoraLoaderModelOnly")] = "loading the AnimateLCM LoRA"
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
