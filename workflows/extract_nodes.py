"""Extract the facts the worker needs from a recorded ComfyUI /object_info into workflows/comfy_nodes.json.

Usage: python -m workflows.extract_nodes tests/data/comfyui [--out workflows/comfy_nodes.json]
(the recordings folder: object_info.json and custom_object_info.json, each as is or gzipped)

Kept per class: inputs (name -> [category, type, options]) in input order, hidden input names, outputs
(types, names, is_list), output_node, and for combos that list files on disk the folder they list
("files"), so that a server can fill them from its own data dir at request time. Descriptions,
tooltips, display names and categories are dropped: validation never looks at them.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

# Option keys that only describe a widget to a person; validation and execution never read them.
_DROP_KEYS = {"tooltip", "display_name", "description", "placeholder"}

# Which folder a file-list combo lists, by input name (and, where the name is ambiguous, by class).
_BY_CLASS_INPUT = {
    ("LoadImage", "image"): "input:image",
    ("LoadImageMask", "image"): "input:image",
    ("LoadAudio", "audio"): "input:audio",
    ("VHS_LoadAudioUpload", "audio"): "input:audio",
    ("LoadVideo", "file"): "input:video",
    ("VHS_LoadVideo", "video"): "input:video",
    ("VHS_LoadVideoFFmpeg", "video"): "input:video",
    ("F5TTSAudio", "sample"): "input:f5tts",
    ("F5TTSAudioAdvanced", "sample"): "input:f5tts",
    ("SONICTLoader", "sonic_unet"): "models:sonic",
    ("CLIPVisionLoader", "clip_name"): "models:clip_vision",
    ("UpscaleModelLoader", "model_name"): "models:upscale_models",
    ("ADE_AnimateDiffLoRALoader", "name"): "models:animatediff_motion_lora",
    ("ModelPatchLoader", "name"): "models:model_patches",
    ("LoadLatent", "latent"): "input:latent",
    ("Load3D", "model_file"): "input:3d",
    ("Load3DAnimation", "model_file"): "input:3d",
    ("VAELoader", "vae_name"): "models:vae",
    ("IPAdapterModelLoader", "ipadapter_file"): "models:ipadapter",
}
_BY_INPUT = {
    "ckpt_name": "models:checkpoints",
    "lora_name": "models:loras",
    "model_name": "models:animatediff_models",
    "camera_ctrl": "models:animatediff_models",
    "clip_name": "models:text_encoders",
    "clip_name1": "models:text_encoders", "clip_name2": "models:text_encoders",
    "clip_name3": "models:text_encoders", "clip_name4": "models:text_encoders",
    "control_net_name": "models:controlnet",
    "unet_name": "models:diffusion_models",
    "style_model_name": "models:style_models",
    "gligen_name": "models:gligen",
    "hypernetwork_name": "models:hypernetworks",
    "photomaker_model_name": "models:photomaker",
    "audio_encoder_name": "models:audio_encoders",
    "model_path": "models:diffusers",
}


def _combo_options(spec: list) -> list | None:
    typ = spec[0]
    opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    if isinstance(typ, list):
        return typ
    if typ == "COMBO":
        return opts.get("options", [])
    return None


def _looks_like_file_list(values: list) -> bool:
    if not values or values == ["none"] or "example.png" in values:
        return True
    return any(isinstance(v, str) and v.endswith((".safetensors", ".pth", ".ckpt", ".wav", ".png")) for v in values)


def file_folder(cls: str, name: str, spec: list) -> str | None:
    """The folder a combo lists when it is a list of files, else None."""
    if (cls, name) in _BY_CLASS_INPUT:
        return _BY_CLASS_INPUT[(cls, name)]
    values = _combo_options(spec)
    if values is None or not _looks_like_file_list(values):
        return None
    if name in _BY_INPUT:
        return _BY_INPUT[name]
    return "input:any"


def _clean_spec(cls: str, name: str, spec: list, folder: str | None) -> list:
    typ = spec[0]
    opts = dict(spec[1]) if len(spec) > 1 and isinstance(spec[1], dict) else {}
    for k in _DROP_KEYS:
        opts.pop(k, None)
    if folder is not None:
        # The recorded list reflects one machine's disk; the server fills it at request time.
        if isinstance(typ, list):
            typ = []
        else:
            opts["options"] = []
    return [typ, opts]


def extract_class(cls: str, info: dict) -> dict:
    inputs: dict[str, list] = {}
    files: dict[str, str] = {}
    order = info.get("input_order", {})
    for cat in ("required", "optional"):
        section = info.get("input", {}).get(cat, {}) or {}
        names = order.get(cat) or list(section)
        names = [n for n in names if n in section] + [n for n in section if n not in names]
        for name in names:
            spec = section[name]
            if not isinstance(spec, list):
                spec = [spec]
            folder = file_folder(cls, name, spec)
            if folder is not None:
                files[name] = folder
            inputs[name] = [cat, *_clean_spec(cls, name, spec, folder)]
    hidden = list((info.get("input", {}).get("hidden") or {}).keys())
    out = {
        "inputs": inputs,
        "hidden": hidden,
        "output": list(info.get("output", [])),
        "output_name": list(info.get("output_name", [])),
        "output_is_list": list(info.get("output_is_list", [])),
        "output_node": bool(info.get("output_node", False)),
    }
    if files:
        out["files"] = files
    return out


def read_recording(comfy_dir: Path, fname: str) -> dict:
    """A recorded JSON file of the folder, or its gzipped copy (the repository keeps `fname.gz`)."""
    path = comfy_dir / fname
    if not path.is_file() and path.with_name(fname + ".gz").is_file():
        return json.loads(gzip.decompress(path.with_name(fname + ".gz").read_bytes()))
    return json.loads(path.read_text())


# The recordings, in order; the IP-Adapter pack's was recorded later, beside the other four packs.
RECORDINGS = ("object_info.json", "custom_object_info.json", "ipadapter_object_info.json")


def read_recordings(comfy_dir: Path) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for fname in RECORDINGS:
        merged.update(read_recording(comfy_dir, fname))
    return merged


def extract(comfy_dir: Path) -> dict[str, dict]:
    merged = read_recordings(comfy_dir)
    return {cls: extract_class(cls, merged[cls]) for cls in sorted(merged)}


def dumps(classes: dict[str, dict]) -> str:
    lines = [f"{json.dumps(cls)}: {json.dumps(v, ensure_ascii=False, separators=(',', ':'))}"
             for cls, v in classes.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workflows.extract_nodes")
    ap.add_argument("comfy_dir", type=Path, help="folder holding object_info.json and custom_object_info.json (or .gz)")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("comfy_nodes.json"))
    args = ap.parse_args(argv)
    classes = extract(args.comfy_dir)
    args.out.write_text(dumps(classes))
    print(f"wrote {len(classes)} classes to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
