"""The IP-Adapter part of a txt2img graph: each character's reference conditions the picture, in its region.

One `IPAdapterAdvanced` per character, chained on the checkpoint's MODEL before the sampler. A reference is loaded
as sent (`LoadImage`) and squared for the image encoder by `PrepImageForClipVision` (cropped from the top, where a
portrait's face is); a region other than the whole picture becomes an attention mask made of nodes (`SolidMask`
canvas + `SolidMask` box placed by `MaskComposite`), so what ran can be reproduced from the graph and its inputs.
"""
from __future__ import annotations

import posixpath
from typing import Any

from workflows.catalogue import JobSpec
from workflows.characters import FIELD, region_box
from worker.jobs.base import MediaFile
from worker.jobs.common import image_size, new_node_id, node_id

# The pack's recommended settings for a likeness: a linear weight over all steps, embeddings concatenated.
WEIGHT_TYPE = "linear"
COMBINE = "concat"
SCALING = "V only"
CROP = "top"          # portraits are head-and-shoulders: the face is in the top square


def media_name(index: int) -> str:
    return f"{FIELD}[{index}].image"


def check_references(values: dict[str, Any], media: dict[str, MediaFile]) -> None:
    """Decode every reference fully (a broken or huge image is refused naming `characters[i].image`)."""
    for i, _ in enumerate(values.get(FIELD) or ()):
        image_size(media[media_name(i)])


def model_files(spec: JobSpec) -> tuple[str, str]:
    """(image encoder, IP-Adapter) file names, as the declaration's models_when_given lists them."""
    paths = spec.models_when_given[FIELD]
    pick = lambda folder: next(posixpath.basename(p) for p in paths if p.startswith(folder + "/"))  # noqa: E731
    return pick("clip_vision"), pick("ipadapter")


def pixel_box(region: Any, width: int, height: int) -> tuple[int, int, int, int]:
    """The region in pixels (x, y, w, h), edges rounded so that adjacent regions share their border."""
    fx, fy, fw, fh = region_box(region)
    x0, y0 = round(fx * width), round(fy * height)
    x1, y1 = round((fx + fw) * width), round((fy + fh) * height)
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def is_full(region: Any) -> bool:
    return tuple(region_box(region)) == (0.0, 0.0, 1.0, 1.0)


def _add(prompt: dict[str, Any], class_type: str, **inputs: Any) -> str:
    nid = new_node_id(prompt)
    prompt[nid] = {"class_type": class_type, "inputs": inputs}
    return nid


def add_characters(prompt: dict[str, Any], spec: JobSpec, characters: list[dict[str, Any]],
                   uploaded: dict[str, str], width: int, height: int) -> dict[str, str]:
    """Insert the IP-Adapter chain between the checkpoint and the sampler; returns the new nodes' roles."""
    if not characters:
        return {}
    sampler = node_id(prompt, "KSampler")
    model = prompt[sampler]["inputs"]["model"]
    encoder_file, adapter_file = model_files(spec)
    roles: dict[str, str] = {}
    encoder = _add(prompt, "CLIPVisionLoader", clip_name=encoder_file)
    roles[encoder] = "loading the image encoder"
    adapter = _add(prompt, "IPAdapterModelLoader", ipadapter_file=adapter_file)
    roles[adapter] = "loading the IP-Adapter"
    canvas = None
    for i, c in enumerate(characters):
        who = f"character {i + 1}"
        load = _add(prompt, "LoadImage", image=uploaded[media_name(i)])
        roles[load] = f"loading {who}'s reference"
        prep = _add(prompt, "PrepImageForClipVision", image=[load, 0], interpolation="LANCZOS",
                    crop_position=CROP, sharpening=0.0)
        roles[prep] = f"preparing {who}'s reference"
        apply = {"model": model, "ipadapter": [adapter, 0], "image": [prep, 0], "weight": float(c["weight"]),
                 "weight_type": WEIGHT_TYPE, "combine_embeds": COMBINE, "start_at": 0.0, "end_at": 1.0,
                 "embeds_scaling": SCALING, "clip_vision": [encoder, 0]}
        if not is_full(c["region"]):
            if canvas is None:
                canvas = _add(prompt, "SolidMask", value=0.0, width=width, height=height)
                roles[canvas] = "preparing the region masks"
            x, y, w, h = pixel_box(c["region"], width, height)
            box = _add(prompt, "SolidMask", value=1.0, width=w, height=h)
            place = _add(prompt, "MaskComposite", destination=[canvas, 0], source=[box, 0], x=x, y=y,
                         operation="add")
            roles[box] = roles[place] = f"placing {who}"
            apply["attn_mask"] = [place, 0]
        nid = _add(prompt, "IPAdapterAdvanced", **apply)
        roles[nid] = f"applying {who}'s likeness"
        model = [nid, 0]
    prompt[sampler]["inputs"]["model"] = model
    return roles
