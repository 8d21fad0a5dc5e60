"""The declarations: what validate() accepts, what it says when it refuses, and that the studio can read them."""
from __future__ import annotations

import pytest

from workflows.catalogue import ParamError, load_catalogue, load_manifest

C = load_catalogue()


def err(action, raw):
    with pytest.raises(ParamError) as e:
        C[action].validate(raw)
    return e.value


def test_five_jobs_with_the_agreed_field_names():
    names = {a: [p.name for p in s.params] for a, s in C.items()}
    assert names == {
        "portrait": ["prompt", "negative_prompt", "model", "width", "height", "steps", "cfg", "sampler", "scheduler",
                     "seed", "batch_size"],
        "tts": ["text", "reference_audio", "reference_text", "speed", "seed", "format"],
        "lipsync": ["image", "audio", "steps", "dynamic_scale", "fps", "seed", "max_duration"],
        "animate": ["image", "prompt", "frames", "fps", "motion_strength", "seed", "mode", "format"],
        "music": ["tags", "lyrics", "duration", "seed", "steps", "format"],
    }


def test_every_model_a_job_needs_is_in_the_manifest_with_a_source_and_licence():
    manifest = load_manifest()
    for spec in C.values():
        for path in spec.all_models():
            f = manifest[path]
            assert f.sources and f.licence and f.size > 0
    assert manifest["checkpoints/svd_xt_1_1.safetensors"].gated
    lcm = manifest["animatediff_models/AnimateLCM_sd15_i2v.ckpt"].sources[0]
    assert lcm["file"] == "AnimateLCM_sd15_i2v.ckpt", "the renamed file, not the *_beta name that 404s"
    assert all(p.count("/") == 1 for p in manifest if p.startswith("sonic/") and "/" not in p[6:]), "flat sonic/"


def test_defaults_and_alias():
    v = C["portrait"].validate({"description": "a knight"})
    assert v["prompt"] == "a knight" and v["width"] == 512 and v["height"] == 768 and v["seed"] == -1
    assert v["model"] == "Deliberate_v5.safetensors" and v["batch_size"] == 1
    assert C["animate"].validate({"image": "aGk="})["mode"] == "animatelcm"


def test_unknown_field_lists_the_allowed_ones():
    e = err("portrait", {"prompt": "x", "steps_count": 3})
    assert e.field == "steps_count"
    assert "allowed fields: prompt, negative_prompt, model, width" in str(e)


@pytest.mark.parametrize("action,raw,field,words", [
    ("portrait", {"prompt": "x", "width": 1004}, "width", ["1004 is not a multiple of 8", "256–1024"]),
    ("portrait", {"prompt": "x", "height": 2048}, "height", ["out of range", "256–1024"]),
    ("portrait", {"prompt": "x", "batch_size": 5}, "batch_size", ["1–4"]),
    ("portrait", {"prompt": "x", "sampler": "magic"}, "sampler", ["'magic' is not allowed", "dpmpp_2m"]),
    ("portrait", {"prompt": "x", "cfg": "lots"}, "cfg", ["not a number"]),
    ("portrait", {"prompt": "x", "model": "../../etc/passwd"}, "model", ["not allowed"]),
    ("portrait", {"prompt": "   "}, "prompt", ["required"]),
    ("portrait", {}, "prompt", ["required"]),
    ("portrait", {"prompt": "a", "description": "b"}, "prompt", ["given twice"]),
    ("portrait", {"prompt": "x", "steps": 2.5}, "steps", ["not a whole number"]),
    ("lipsync", {"image": "a", "audio": "b", "seed": 2**31}, "seed", ["0–2147483647", "-1 for random"]),
    ("lipsync", {"image": "a"}, "audio", ["required", "audio"]),
    ("lipsync", {"image": "http://x/y.png", "audio": "b"}, "image", ["https"]),
    ("tts", {"text": "hi", "reference_audio": "a", "speed": 3}, "speed", ["0.5–2"]),
    ("tts", {"text": "hi", "reference_audio": "a", "format": "ogg"}, "format", ["wav, mp3, wav+mp3"]),
    ("music", {"tags": "pop", "duration": 600}, "duration", ["5–240"]),
    ("animate", {"image": "a", "mode": "sora"}, "mode", ["animatelcm, svd"]),
])
def test_bad_values_name_the_field_and_what_is_allowed(action, raw, field, words):
    e = err(action, raw)
    assert e.field == field and str(e).startswith(f"{field}:")
    for w in words:
        assert w in str(e), str(e)


def test_coercion_of_wire_types():
    v = C["portrait"].validate({"prompt": "x", "width": "640", "cfg": 7, "seed": 12.0})
    assert v["width"] == 640 and v["cfg"] == 7.0 and isinstance(v["cfg"], float) and v["seed"] == 12


def test_templates_and_licences_per_mode():
    a = C["animate"]
    assert "ADE_LoadAnimateLCMI2VModel" in {n["class_type"] for n in a.template({"mode": "animatelcm"}).values()}
    assert "SVD_img2vid_Conditioning" in {n["class_type"] for n in a.template({"mode": "svd"}).values()}
    assert a.required_models({"mode": "svd"}) == ("checkpoints/svd_xt_1_1.safetensors",)
    assert a.licence_for({"mode": "svd"})["commercial"] is False
    assert C["lipsync"].licence["commercial"] is False and "CC BY-NC-SA" in C["lipsync"].licence["name"]
    assert C["tts"].licence["commercial"] is False
    d = C["portrait"].to_dict()
    assert d["params"][0]["aliases"] == ["description"] and d["params"][3]["step"] == 8


def test_null_means_absent_for_every_field_with_a_warning():
    for action, spec in load_catalogue().items():
        required = {p.name: "x" for p in spec.params if p.required}
        for p in spec.params:
            if p.required:
                with pytest.raises(ParamError) as e:
                    spec.validate({**required, p.name: None})
                assert e.value.field == p.name and "is required" in str(e.value)
                continue
            warnings: list[str] = []
            out = spec.validate({**required, p.name: None}, warnings=warnings)
            assert out.get(p.name) == p.default, (action, p.name)
            assert warnings and warnings[0].startswith(f"{p.name}: null was treated as absent"), (action, warnings)
