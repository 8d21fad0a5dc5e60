"""The preview engine checks the IP-Adapter pack's nodes against their recorded /object_info, as every other node:
a bad weight type, a weight past the recorded maximum, an IP-Adapter file that is not on disk, or a link of the
wrong type is refused on the node that has it."""
from __future__ import annotations

import copy

import pytest

from workflows.catalogue import get_spec
from worker.jobs import JOBS
from worker.preview import schemas
from worker.preview.validation import StaticFiles, validate_prompt

SCHEMAS = schemas.load()
FILES = StaticFiles(lists={"models:checkpoints": ["Deliberate_v5.safetensors"],
                           "models:clip_vision": ["CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors"],
                           "models:ipadapter": ["ip-adapter-plus-face_sd15.safetensors"]},
                    inputs=["a.png", "b.png"])


def two_character_prompt() -> dict:
    job = JOBS["portrait"]
    values = get_spec("portrait").validate({"prompt": "x", "characters": [{"image": "A", "region": "left"},
                                                                          {"image": "B", "region": "right"}]})
    return job.build(values, {"characters[0].image": "a.png", "characters[1].image": "b.png"}).prompt


def node_of(prompt: dict, cls: str, nth: int = 0) -> str:
    return [k for k, v in prompt.items() if v["class_type"] == cls][nth]


def test_the_recorded_schemas_hold_the_pack():
    assert {"IPAdapterAdvanced", "IPAdapterModelLoader", "IPAdapterUnifiedLoader", "PrepImageForClipVision",
            "IPAdapterRegionalConditioning"} <= set(SCHEMAS)
    assert SCHEMAS["IPAdapterModelLoader"].inputs["ipadapter_file"].files == "models:ipadapter"
    assert SCHEMAS["IPAdapterAdvanced"].inputs["weight"].options["max"] == 5


def test_a_two_character_prompt_is_accepted():
    status, body = validate_prompt(two_character_prompt(), SCHEMAS, FILES)
    assert status == 200, body


@pytest.mark.parametrize("cls,change,error", [
    ("IPAdapterAdvanced", {"weight_type": "magic"}, "value_not_in_list"),
    ("IPAdapterAdvanced", {"weight": 9.0}, "value_bigger_than_max"),
    ("IPAdapterModelLoader", {"ipadapter_file": "ip-adapter_sd15.safetensors"}, "value_not_in_list"),
    ("PrepImageForClipVision", {"crop_position": "middle"}, "value_not_in_list"),
    ("MaskComposite", {"x": -1}, "value_smaller_than_min"),
])
def test_a_bad_ipadapter_input_fails_on_its_node(cls, change, error):
    prompt = copy.deepcopy(two_character_prompt())
    nid = node_of(prompt, cls)
    prompt[nid]["inputs"].update(change)
    status, body = validate_prompt(prompt, SCHEMAS, FILES)
    assert status == 400
    assert error in [e["type"] for e in body["node_errors"][nid]["errors"]], body["node_errors"]


def test_a_mask_where_an_image_belongs_is_a_type_mismatch():
    prompt = copy.deepcopy(two_character_prompt())
    nid = node_of(prompt, "IPAdapterAdvanced")
    prompt[nid]["inputs"]["image"] = prompt[nid]["inputs"]["attn_mask"]
    status, body = validate_prompt(prompt, SCHEMAS, FILES)
    assert status == 400
    assert "return_type_mismatch" in [e["type"] for e in body["node_errors"][nid]["errors"]]
