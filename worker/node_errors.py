"""ComfyUI's validation and execution errors, rewritten as one sentence per problem a person can act on.

A sentence names the node's role in the job ("portrait", "voice sample") and the input, e.g.
"portrait: checkpoint 'X.safetensors' is not on the volume; available: A.safetensors". A model file missing
from the volume becomes code `model_missing`, so the studio can offer to provision it.
"""
from __future__ import annotations

import re
from typing import Any

from workflows.catalogue import ACTIONS, load_catalogue, load_manifest
from worker.errors import WorkerError

# Inputs that name a model file, with what to call it and the folder ComfyUI lists it from.
MODEL_INPUTS: dict[str, tuple[str, str]] = {
    "ckpt_name": ("checkpoint", "checkpoints"),
    "vae_name": ("VAE", "vae"),
    "lora_name": ("LoRA", "loras"),
    "unet_name": ("UNet", "diffusion_models"),
    "clip_name": ("text encoder", "text_encoders"),
    "clip_name1": ("text encoder", "text_encoders"),
    "clip_name2": ("text encoder", "text_encoders"),
    "control_net_name": ("ControlNet", "controlnet"),
    "model_name": ("model", ""),
    "sonic_unet": ("Sonic UNet", "sonic"),
    "upscale_model": ("upscale model", "upscale_models"),
    "ipadapter_file": ("IP-Adapter", "ipadapter"),
}
_MODEL_EXT = re.compile(r"\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$", re.I)
# A loader that went to the Hugging Face hub at run time: offline (HF_HUB_OFFLINE=1, as the worker runs ComfyUI) or
# unreachable, huggingface_hub raises LocalEntryNotFoundError and transformers an OSError naming huggingface.co.
_HUB_FETCH = re.compile(r"LocalEntryNotFound|OfflineModeIsEnabled|couldn't connect to '?https?://|huggingface\.co|"
                        r"HF_HUB_OFFLINE|outgoing traffic has been disabled|locate the file on the Hub", re.I)
# When the message names no repository, the loader in the traceback says which one it was.
_HUB_LOADERS = (("load_vocoder", "charactr/vocos-mel-24khz"), ("asr", "openai/whisper-large-v3-turbo"),
                ("transcribe", "openai/whisper-large-v3-turbo"), ("cached_path", "SWivid/F5-TTS"),
                ("load_f5_model", "SWivid/F5-TTS"))
NO_FACE_MESSAGE = ("image: no face was found in the portrait; use a front-facing head-and-shoulders image where the "
                   "face fills a good part of the frame")
# Exceptions that, at run time, mean a model file is not where the node looks for it.
_MISSING_AT_RUNTIME = re.compile(r"LocalEntryNotFound|download the model|No such file|not found|FileNotFound", re.I)
MAX_LISTED = 12


def _role(node_id: str, class_type: str | None, roles: dict[str, str]) -> str:
    return roles.get(str(node_id)) or f"node {node_id} ({class_type or 'unknown'})"


def _options(extra: dict) -> list[str] | None:
    cfg = extra.get("input_config")
    if isinstance(cfg, list) and cfg and isinstance(cfg[0], list):
        return [str(o) for o in cfg[0]]
    if isinstance(cfg, list) and len(cfg) > 1 and isinstance(cfg[1], dict) and isinstance(cfg[1].get("options"), list):
        return [str(o) for o in cfg[1]["options"]]
    return None                                   # abbreviated ("list of length 42") or not a combo


def _listing(options: list[str]) -> str:
    real = [o for o in options if o != "none"]
    if not real:
        return "nothing is there"
    shown = ", ".join(real[:MAX_LISTED])
    return shown + (f" and {len(real) - MAX_LISTED} more" if len(real) > MAX_LISTED else "")


def is_model_input(name: str, value: Any) -> bool:
    return name in MODEL_INPUTS or (isinstance(value, str) and bool(_MODEL_EXT.search(value)))


def model_folder(name: str) -> str:
    return MODEL_INPUTS.get(name, ("model", ""))[1]


def describe_problem(role: str, err: dict, available: dict[str, list[str]]) -> tuple[str, bool]:
    """One sentence for one node error, and whether it is a missing model."""
    etype = err.get("type", "")
    extra = err.get("extra_info") or {}
    name = extra.get("input_name") or err.get("details") or "?"
    value = extra.get("received_value")
    cfg = (extra.get("input_config") or [None, {}])
    limits = cfg[1] if isinstance(cfg, list) and len(cfg) > 1 and isinstance(cfg[1], dict) else {}
    if etype == "value_not_in_list":
        options = _options(extra)
        if options is None:
            options = available.get(name, [])
        if is_model_input(name, value):
            what = MODEL_INPUTS.get(name, ("model", ""))[0]
            return f"{role}: {what} '{value}' is not on the volume; available: {_listing(options)}", True
        return f"{role}: {name} '{value}' is not one of {', '.join(options[:MAX_LISTED]) or 'the allowed values'}", False
    if etype == "value_bigger_than_max":
        return f"{role}: {name} {value} is above the maximum {limits.get('max', '')}".rstrip(), False
    if etype == "value_smaller_than_min":
        return f"{role}: {name} {value} is below the minimum {limits.get('min', '')}".rstrip(), False
    if etype == "required_input_missing":
        return f"{role}: the required input {name} is missing", False
    if etype == "invalid_input_type":
        return f"{role}: {name} {value!r} has the wrong type ({err.get('details') or err.get('message')})", False
    if etype == "return_type_mismatch":
        return f"{role}: {name} is linked to an output of type {extra.get('received_type')}, which it cannot take", False
    if etype == "custom_validation_failed":
        return f"{role}: {err.get('details') or err.get('message')}", False
    return f"{role}: {err.get('message', 'invalid')}" + (f" ({err['details']})" if err.get("details") else ""), False


def missing_model_inputs(body: Any) -> list[tuple[str, str]]:
    """(input name, folder) of model combos whose option list ComfyUI abbreviated, to be fetched from /models."""
    out = []
    for node in ((body or {}).get("node_errors") or {}).values():
        for err in node.get("errors") or []:
            extra = err.get("extra_info") or {}
            name = extra.get("input_name")
            if err.get("type") == "value_not_in_list" and name and _options(extra) is None and model_folder(name):
                out.append((name, model_folder(name)))
    return out


def from_validation(body: Any, roles: dict[str, str], available: dict[str, list[str]] | None = None) -> WorkerError:
    """A 400 from POST /prompt (or a 200 whose node_errors dropped an output) as one WorkerError."""
    available = available or {}
    body = body if isinstance(body, dict) else {}
    sentences: list[str] = []
    model_missing = False
    for node_id, node in (body.get("node_errors") or {}).items():
        role = _role(node_id, node.get("class_type"), roles)
        for err in node.get("errors") or []:
            sentence, missing = describe_problem(role, err, available)
            sentences.append(sentence)
            model_missing |= missing
    if not sentences:
        err = body.get("error") or {}
        msg = err.get("message") or "ComfyUI refused the workflow"
        sentences.append(msg + (f": {err['details']}" if err.get("details") else ""))
    message = "; ".join(s.rstrip(".") for s in sentences)
    details = {"problems": sentences, "node_errors": body.get("node_errors") or {}}
    if model_missing:
        return WorkerError("model_missing", f"not provisioned: {message}", details=details)
    return WorkerError("validation_failed", message, details=details)


def hub_repos() -> dict[str, list[str]]:
    """Per hub repository in the manifest, the jobs that load a file of it."""
    manifest, out = load_manifest(), {}
    for action, spec in load_catalogue().items():
        for path in spec.all_models():
            hub = manifest[path].hub
            if hub is not None:
                out.setdefault(hub.repo, [])
                if action not in out[hub.repo]:
                    out[hub.repo].append(action)
    return out


def _hub_repo(text: str, traceback: str) -> str | None:
    repos = hub_repos()
    for repo in repos:
        if repo in text or f"models--{repo.replace('/', '--')}" in text:
            return repo
    for frame, repo in _HUB_LOADERS:
        if frame in traceback and repo in repos:
            return repo
    return None


def _hub_fetch_error(data: dict, role: str, details: dict) -> WorkerError | None:
    """A run-time download from the hub: the file belongs on the volume, so say which and how to put it there."""
    exc_type = str(data.get("exception_type") or "")
    exc_msg = str(data.get("exception_message") or "")
    tb = "".join(str(x) for x in data.get("traceback") or [])
    if not (_HUB_FETCH.search(exc_type) or _HUB_FETCH.search(exc_msg)):
        return None
    repo = _hub_repo(exc_msg + " " + exc_type, tb)
    action = role.split(" (", 1)[0]
    jobs = hub_repos().get(repo or "", [])
    if action not in ACTIONS:
        action = jobs[0] if jobs else None
    command = f"python -m deploy provision --jobs {action}" if action else "python -m deploy provision --jobs <job>"
    what = f"the model {repo}" if repo else "a model file"
    details = {**details, "repository": repo, "provision": command}
    return WorkerError("model_missing", f"not provisioned: {role} needs {what} from the Hugging Face hub, which is "
                       f"not on the volume (the worker does not download at run time) — run `{command}`",
                       details=details)


def _no_face(data: dict) -> bool:
    """SONIC_PreData's face detector found nothing, and the node then reads a box it never set."""
    return (data.get("node_type") == "SONIC_PreData" and "UnboundLocalError" in str(data.get("exception_type"))
            and "bbox" in str(data.get("exception_message")))


def from_execution(data: dict, roles: dict[str, str]) -> WorkerError:
    node_id = str(data.get("node_id") or "?")
    role = _role(node_id, data.get("node_type"), roles)
    exc_type = str(data.get("exception_type") or "error")
    exc_msg = str(data.get("exception_message") or "").strip() or "no message"
    details = {"node_id": node_id, "node_type": data.get("node_type"), "exception_type": exc_type,
               "exception_message": exc_msg}
    if _no_face(data):
        return WorkerError("invalid_input", NO_FACE_MESSAGE, field="image", details=details)
    hub = _hub_fetch_error(data, role, details)
    if hub is not None:
        return hub
    if _MISSING_AT_RUNTIME.search(exc_type) or "download the model" in exc_msg.lower() \
            or "LocalEntryNotFound" in exc_type:
        return WorkerError("model_missing", f"not provisioned: {role} could not find its model files "
                           f"({exc_type.rsplit('.', 1)[-1]}: {exc_msg})", details=details)
    return WorkerError("execution_failed", f"{role} failed: {exc_type.rsplit('.', 1)[-1]}: {exc_msg}",
                       details=details)
