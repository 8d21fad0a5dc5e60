"""The graph the worker sends for a portrait with 0, 1, 2 and 4 characters: the recorded schemas accept it, each
reference has its own IP-Adapter application, the masks (evaluated from the graph's own mask nodes) cover the
named regions, and bad `characters` input is refused naming the field."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.jobs.test_templates import SCHEMAS, UPLOADED, files as template_files
from workflows.catalogue import ParamError, get_spec, job_models
from worker.errors import WorkerError
from worker.jobs import JOBS
from worker.jobs.base import MediaFile
from worker.preview.validation import StaticFiles, validate_prompt

JOB = JOBS["portrait"]
REF = "data:image/png;base64,AAAA"     # validation only looks at the shape; the worker decodes it later


def build(characters, **extra):
    values = JOB.spec.validate({"prompt": "two sailors on a deck", "width": 768, "height": 512,
                                "characters": characters, **extra})
    uploaded = {**UPLOADED, **{f"characters[{i}].image": f"ref{i}_00ff.png" for i in range(len(characters))}}
    return JOB.build(values, uploaded)


def files() -> StaticFiles:
    base = template_files()
    return StaticFiles(lists=base.lists, inputs=[*base.inputs, *(f"ref{i}_00ff.png" for i in range(4))])


def link(prompt, value):
    return prompt[value[0]]


def chain(prompt):
    """The IP-Adapter applications from the sampler's model input back to the checkpoint, sampler-first."""
    sampler = next(n for n in prompt.values() if n["class_type"] == "KSampler")
    out, node = [], link(prompt, sampler["inputs"]["model"])
    while node["class_type"] == "IPAdapterAdvanced":
        out.append(node)
        node = link(prompt, node["inputs"]["model"])
    assert node["class_type"] == "CheckpointLoaderSimple"
    return out[::-1]


def evaluate_mask(prompt, ref) -> np.ndarray:
    """What SolidMask / MaskComposite compute (ComfyUI's semantics: composite clips the source at the edges)."""
    node = link(prompt, ref)
    i = node["inputs"]
    if node["class_type"] == "SolidMask":
        return np.full((i["height"], i["width"]), float(i["value"]))
    assert node["class_type"] == "MaskComposite" and i["operation"] == "add"
    dst = evaluate_mask(prompt, i["destination"]).copy()
    src = evaluate_mask(prompt, i["source"])
    h, w = dst.shape
    x, y = i["x"], i["y"]
    sh, sw = min(src.shape[0], h - y), min(src.shape[1], w - x)
    dst[y:y + sh, x:x + sw] = np.clip(dst[y:y + sh, x:x + sw] + src[:sh, :sw], 0, 1)
    return dst


def test_without_characters_the_graph_is_exactly_todays():
    values = JOB.spec.validate({"prompt": "a knight", "seed": 7})
    assert "characters" not in values
    built = JOB.build(values, UPLOADED)
    template = JOB.spec.template()
    assert set(built.prompt) == set(template)
    assert [n["class_type"] for n in built.prompt.values()] == [n["class_type"] for n in template.values()]
    assert built.prompt["5"]["inputs"]["model"] == ["1", 0]
    # and an empty list is the same as none
    assert set(JOB.build(JOB.spec.validate({"prompt": "a knight", "characters": []}), UPLOADED).prompt) == set(template)


def test_one_character_conditions_the_whole_picture():
    built = build([{"image": REF, "weight": 1.1}])
    status, body = validate_prompt(built.prompt, SCHEMAS, files())
    assert status == 200, body
    (apply,) = chain(built.prompt)
    assert apply["inputs"]["weight"] == 1.1
    assert "attn_mask" not in apply["inputs"]          # one full-picture reference needs no mask
    prep = link(built.prompt, apply["inputs"]["image"])
    assert prep["class_type"] == "PrepImageForClipVision"
    assert link(built.prompt, prep["inputs"]["image"])["inputs"]["image"] == "ref0_00ff.png"
    assert link(built.prompt, apply["inputs"]["ipadapter"])["inputs"]["ipadapter_file"] == \
        "ip-adapter-plus-face_sd15.safetensors"
    assert link(built.prompt, apply["inputs"]["clip_vision"])["inputs"]["clip_name"] == \
        "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors"


@pytest.mark.parametrize("regions", [
    ["left", "right"],
    ["left", "center", "right", "top"],
    [[0.1, 0.2, 0.3, 0.5], "bottom"],
])
def test_each_reference_has_its_own_application_and_mask_over_its_region(regions):
    chars = [{"image": REF, "region": r, "weight": 0.5 + 0.1 * i} for i, r in enumerate(regions)]
    built = build(chars)
    status, body = validate_prompt(built.prompt, SCHEMAS, files())
    assert status == 200, body
    applications = chain(built.prompt)
    assert len(applications) == len(regions)
    boxes = {"left": (0, 0, 0.5, 1), "right": (0.5, 0, 0.5, 1), "center": (0.25, 0, 0.5, 1),
             "top": (0, 0, 1, 0.5), "bottom": (0, 0.5, 1, 0.5)}
    seen_refs = set()
    for i, (apply, region) in enumerate(zip(applications, regions)):
        load = link(built.prompt, link(built.prompt, apply["inputs"]["image"])["inputs"]["image"])
        seen_refs.add(load["inputs"]["image"])
        assert load["inputs"]["image"] == f"ref{i}_00ff.png"
        assert apply["inputs"]["weight"] == pytest.approx(0.5 + 0.1 * i)
        mask = evaluate_mask(built.prompt, apply["inputs"]["attn_mask"])
        assert mask.shape == (512, 768)                 # the picture's size
        x, y, w, h = boxes[region] if isinstance(region, str) else region
        expected = np.zeros((512, 768))
        expected[round(y * 512):round((y + h) * 512), round(x * 768):round((x + w) * 768)] = 1
        assert np.array_equal(mask, expected), f"mask of character {i + 1} ({region})"
    assert len(seen_refs) == len(regions)
    # every new node has a role, so an error names the character it concerns
    assert all(nid in built.roles for nid in built.prompt)
    assert any("character 2" in r for r in built.roles.values())


def test_left_and_right_masks_split_the_picture_without_overlap_or_gap():
    built = build([{"image": REF, "region": "left"}, {"image": REF, "region": "right"}])
    left, right = (evaluate_mask(built.prompt, a["inputs"]["attn_mask"]) for a in chain(built.prompt))
    assert np.array_equal(left + right, np.ones((512, 768)))


@pytest.mark.parametrize("bad,field", [
    ([{"image": REF, "region": "upstairs"}], "characters[0].region"),
    ([{"image": REF}, {"image": REF, "region": [0.7, 0, 0.5, 1]}], "characters[1].region"),
    ([{"image": REF, "weight": 1.6}], "characters[0].weight"),
    ([{"image": REF, "weight": -0.1}], "characters[0].weight"),
    ([{"image": REF}, {"weight": 1}], "characters[1].image"),
    ([{"image": REF}] * 5, "characters"),
    ("a picture", "characters"),
    ([{"image": REF, "face": True}], "characters[0].face"),
])
def test_bad_characters_are_refused_naming_the_field(bad, field):
    with pytest.raises(ParamError) as err:
        JOB.spec.validate({"prompt": "x", "characters": bad})
    assert err.value.field == field
    assert str(err.value).startswith(field + ":")


def test_other_jobs_do_not_take_characters():
    with pytest.raises(ParamError) as err:
        get_spec("music").validate({"tags": "ambient", "characters": [{"image": REF}]})
    assert err.value.field == "characters"


def test_an_unreadable_reference_is_refused_before_anything_runs():
    values = JOB.spec.validate({"prompt": "x", "characters": [{"image": REF}, {"image": REF}]})
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "PNG")
    good = MediaFile("characters[0].image", buf.getvalue(), "image", "image/png", ".png")
    broken = MediaFile("characters[1].image", buf.getvalue()[:40], "image", "image/png", ".png")
    with pytest.raises(WorkerError) as err:
        JOB.preflight(values, {"characters[0].image": good, "characters[1].image": broken})
    assert err.value.field == "characters[1].image" and err.value.code == "invalid_input"


def test_the_ip_adapter_files_are_needed_only_with_characters():
    plain = {m.path for m in job_models("portrait", {"prompt": "x"})}
    cast = {m.path for m in job_models("portrait", {"prompt": "x", "characters": [{"image": REF}]})}
    assert cast - plain == {"clip_vision/CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors",
                            "ipadapter/ip-adapter-plus-face_sd15.safetensors"}
