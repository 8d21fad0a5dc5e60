"""What each ComfyUI node does in a job, in words a person knows — for error sentences and for the running step.

One table of class_type → role covers every node of the catalogue's templates; a job's own words for a node
(`Built.roles`, e.g. "animating the face") win over it. `step_label` turns a progress payload into the line a
person watching the job reads: "loading Sonic · 12 s", "animating the face 3/5", "uploading".
"""
from __future__ import annotations

from typing import Any

# class_type → role. Loaders say what they load; samplers say what they make.
ROLES: dict[str, str] = {
    "CheckpointLoaderSimple": "loading the checkpoint",
    "ImageOnlyCheckpointLoader": "loading the video model",
    "LoraLoaderModelOnly": "loading the LoRA",
    "ADE_LoadAnimateLCMI2VModel": "loading AnimateLCM",
    "ADE_ApplyAnimateLCMI2VModel": "applying AnimateLCM",
    "ADE_UpscaleAndVAEEncode": "encoding the panel",
    "ADE_UseEvolvedSampling": "setting up the animation",
    "ADE_MultivalDynamic": "setting motion strength",
    "ADE_StandardStaticContextOptions": "setting the context window",
    "SONICTLoader": "loading Sonic",
    "SONIC_PreData": "finding the face",
    "SONICSampler": "lip-sync",
    "F5TTSAudioInputs": "speaking",
    "CLIPTextEncode": "encoding the prompt",
    "TextEncodeAceStepAudio": "encoding the lyrics",
    "ConditioningZeroOut": "preparing the conditioning",
    "EmptyLatentImage": "preparing the canvas",
    "EmptyAceStepLatentAudio": "preparing the track",
    "ModelSamplingSD3": "setting up the sampler",
    "LatentApplyOperationCFG": "setting up the sampler",
    "LatentOperationTonemapReinhard": "setting up the sampler",
    "SVD_img2vid_Conditioning": "preparing the frames",
    "VideoLinearCFGGuidance": "setting up the guidance",
    "KSampler": "sampling",
    "KSamplerAdvanced": "sampling",
    "VAEDecode": "decoding frames",
    "VAEDecodeAudio": "decoding the audio",
    "LoadImage": "loading the image",
    "LoadAudio": "loading the audio",
    "TrimAudioDuration": "cutting the audio",
    "CreateVideo": "assembling the video",
    "SaveVideo": "saving the video",
    "SaveImage": "saving the image",
    "SaveAudio": "saving the audio",
    "SaveAudioMP3": "saving the MP3",
    "SaveAnimatedWEBP": "saving the animated WebP",
}

STAGE_LABELS: dict[str, str] = {
    "uploading_inputs": "sending the inputs",
    "queued": "waiting for ComfyUI",
    "running": "starting",
    "uploading_outputs": "uploading",
    "downloading": "downloading models",
}


def role_of(node_id: str, class_type: str | None, given: dict[str, str] | None = None) -> str:
    """The job's own words for the node, else the table's, else its id and class."""
    given = given or {}
    return given.get(str(node_id)) or ROLES.get(class_type or "") or f"node {node_id} ({class_type or 'unknown'})"


def for_prompt(prompt: dict[str, Any], given: dict[str, str] | None = None) -> dict[str, str]:
    """node id → role for every node of a prompt."""
    return {str(nid): role_of(nid, (node or {}).get("class_type") if isinstance(node, dict) else None, given)
            for nid, node in prompt.items()}


def step_label(payload: dict[str, Any], roles: dict[str, str]) -> str:
    """The running step in words: the node's role with its steps ("sampling 12/25") or, for a node that reports
    none, how long it has run ("loading Sonic · 12 s"); outside a node, the stage ("uploading")."""
    stage = str(payload.get("stage") or "")
    node = payload.get("node")
    if stage != "running" or node is None:
        return STAGE_LABELS.get(stage, stage.replace("_", " ") or "working")
    role = roles.get(str(node)) or f"node {node}"
    step, steps = payload.get("step"), payload.get("steps")
    if isinstance(steps, int) and steps > 0 and isinstance(step, int):
        return f"{role} {step}/{steps}"
    elapsed = payload.get("elapsed_s")
    if isinstance(elapsed, (int, float)) and elapsed >= 1:
        return f"{role} · {int(elapsed)} s"
    return role
