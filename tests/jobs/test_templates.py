"""Every template, and every prompt the jobs build, passes ComfyUI 0.3.64's validation (recorded schemas);
a broken variant does not; and each user value lands on the node input it is meant for."""
from __future__ import annotations

import io
import itertools
from collections import defaultdict

import pytest
from PIL import Image

from workflows.catalogue import load_catalogue, load_manifest
from worker.jobs import JOBS
from worker.jobs.animate import frame_size
from worker.jobs.base import MediaFile
from worker.jobs.tts import node_speed
from worker.preview import schemas as schema_mod
from worker.preview.validation import StaticFiles, validate_prompt

SCHEMAS = schema_mod.load()
UPLOADED = {"reference_audio": "ref_ab12.wav", "image": "face_cd34.png", "audio": "speech_ef56.wav"}


def files(skip: str | None = None) -> StaticFiles:
    """The manifest's files as placeholders (as the preview engine lays them out), plus the uploaded inputs."""
    lists = defaultdict(list)
    for path in load_manifest():
        if path != skip:
            folder, rest = path.split("/", 1)
            lists[f"models:{folder}"].append(rest)
    defaults = ["reference.wav", "portrait.png", "speech.wav", "panel.png"]   # the names the templates hold
    return StaticFiles(lists=dict(lists), inputs=[*UPLOADED.values(), *defaults])


def by_class(prompt, cls):
    return [n["inputs"] for n in prompt.values() if n["class_type"] == cls]


REQUIRED = {"portrait": {"prompt": "a knight"}, "tts": {"text": "Hello there.", "reference_audio": "x"},
            "lipsync": {"image": "x", "audio": "y"}, "animate": {"image": "x"}, "music": {"tags": "ambient"}}


@pytest.mark.parametrize("action,key", [(a, k) for a, s in load_catalogue().items() for k in s.templates])
def test_template_validates(action, key):
    spec = load_catalogue()[action]
    status, body = validate_prompt(spec.template({spec.mode_param: key} if spec.mode_param else {}), SCHEMAS, files())
    assert status == 200, body


def _variants(action):
    spec = JOBS[action].spec
    choices = [(p.name, p.choices) for p in spec.params if p.name in ("format", "mode")]
    for combo in itertools.product(*(c for _, c in choices)):
        yield {**REQUIRED[action], **dict(zip((n for n, _ in choices), combo))}


@pytest.mark.parametrize("action,raw", [(a, r) for a in JOBS for r in _variants(a)])
def test_built_prompts_validate_for_every_format_and_mode(action, raw):
    job = JOBS[action]
    built = job.build(job.spec.validate(raw), UPLOADED)
    status, body = validate_prompt(built.prompt, SCHEMAS, files())
    assert status == 200, body
    assert set(built.roles) <= set(built.prompt)
    assert built.licence == job.spec.licence_for(raw)


def test_invalid_variants_fail():
    spec = load_catalogue()["portrait"]
    p = spec.template()
    p["5"]["inputs"]["sampler_name"] = "magic"
    status, body = validate_prompt(p, SCHEMAS, files())
    assert status == 400 and "5" in body["node_errors"]
    # a model file that is not on the volume fails exactly the node that loads it
    status, body = validate_prompt(load_catalogue()["lipsync"].template(), SCHEMAS,
                                   files(skip="sonic/unet.pth"))
    assert status == 400 and body["node_errors"]["2"]["class_type"] == "SONICTLoader"


def test_portrait_values_land_on_their_inputs():
    job = JOBS["portrait"]
    v = job.spec.validate({"description": "a knight", "negative_prompt": "hat", "width": 640, "height": 512,
                           "steps": 20, "cfg": 7.5, "sampler": "euler", "scheduler": "normal", "seed": 77,
                           "batch_size": 3})
    p = job.build(v, {}).prompt
    ks = by_class(p, "KSampler")[0]
    assert (ks["seed"], ks["steps"], ks["cfg"], ks["sampler_name"], ks["scheduler"]) == (77, 20, 7.5, "euler", "normal")
    assert by_class(p, "EmptyLatentImage")[0] == {"width": 640, "height": 512, "batch_size": 3}
    texts = [n["text"] for n in by_class(p, "CLIPTextEncode")]
    assert texts == ["a knight", "hat"]
    pos = p[ks["positive"][0]]["inputs"]["text"]
    assert pos == "a knight", "the description is the positive prompt"


def test_random_seed_is_returned_and_used():
    job = JOBS["portrait"]
    b = job.build(job.spec.validate({"prompt": "x"}), {})
    assert 0 <= b.seed <= 2**32 - 1 and by_class(b.prompt, "KSampler")[0]["seed"] == b.seed
    lb = JOBS["lipsync"].build(JOBS["lipsync"].spec.validate(REQUIRED["lipsync"]), UPLOADED)
    assert 0 <= lb.seed <= 2**31 - 1 and by_class(lb.prompt, "SONICSampler")[0]["seed"] == lb.seed


def test_tts_speed_is_inverted_and_inputs_wired():
    job = JOBS["tts"]
    v = job.spec.validate({"text": "Read this.", "reference_audio": "x", "reference_text": " hello ",
                           "speed": 1.25, "seed": 5, "format": "wav+mp3"})
    p = job.build(v, UPLOADED).prompt
    f5 = by_class(p, "F5TTSAudioInputs")[0]
    assert f5["speed"] == 0.8 and f5["speech"] == "Read this." and f5["sample_text"] == "hello" and f5["seed"] == 5
    assert node_speed(0.5) == 2.0, "slower for a person is a larger node speed"
    assert by_class(p, "LoadAudio")[0]["audio"] == "ref_ab12.wav"
    assert len(by_class(p, "SaveAudio")) == 1 and len(by_class(p, "SaveAudioMP3")) == 1


def test_lipsync_duration_trims_audio_and_video_alike():
    job = JOBS["lipsync"]
    v = job.spec.validate({**REQUIRED["lipsync"], "max_duration": 6.5, "steps": 30, "dynamic_scale": 1.3, "fps": 25})
    p = job.build(v, UPLOADED).prompt
    trim = by_class(p, "TrimAudioDuration")[0]
    assert trim["duration"] == 6.5 and by_class(p, "SONIC_PreData")[0]["duration"] == 6.5
    create = by_class(p, "CreateVideo")[0]
    assert create["audio"] == by_class(p, "SONIC_PreData")[0]["audio"], "the video gets the trimmed audio"
    s = by_class(p, "SONICSampler")[0]
    assert (s["inference_steps"], s["dynamic_scale"]) == (30, 1.3)
    assert by_class(p, "LoadImage")[0]["image"] == "face_cd34.png"


def test_animate_values():
    job = JOBS["animate"]
    p = job.build(job.spec.validate({"image": "x", "frames": 24, "fps": 12, "motion_strength": 0.8,
                                     "prompt": "rain falls", "format": "webp"}), UPLOADED).prompt
    assert by_class(p, "EmptyLatentImage")[0]["batch_size"] == 24
    assert by_class(p, "ADE_MultivalDynamic")[0]["float_val"] == 0.8
    assert by_class(p, "CLIPTextEncode")[0]["text"] == "rain falls"
    assert not by_class(p, "SaveVideo") and by_class(p, "SaveAnimatedWEBP")[0]["fps"] == 12.0
    s = job.build(job.spec.validate({"image": "x", "mode": "svd", "frames": 20, "fps": 6, "motion_strength": 2.0}),
                  UPLOADED).prompt
    c = by_class(s, "SVD_img2vid_Conditioning")[0]
    assert (c["video_frames"], c["fps"], c["motion_bucket_id"]) == (20, 6, 254)
    assert by_class(s, "CreateVideo")[0]["fps"] == 6.0


def test_music_values():
    job = JOBS["music"]
    p = job.build(job.spec.validate({"tags": "rock", "lyrics": "[verse]\nla", "duration": 45, "steps": 30,
                                     "seed": 9, "format": "wav"}), {}).prompt
    enc = by_class(p, "TextEncodeAceStepAudio")[0]
    assert (enc["tags"], enc["lyrics"]) == ("rock", "[verse]\nla")
    assert by_class(p, "EmptyAceStepLatentAudio")[0]["seconds"] == 45.0
    ks = by_class(p, "KSampler")[0]
    assert (ks["seed"], ks["steps"]) == (9, 30)
    assert by_class(p, "SaveAudio") and not by_class(p, "SaveAudioMP3")


def panel(w: int, h: int) -> MediaFile:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (90, 120, 150)).save(buf, "PNG")
    return MediaFile(param="image", data=buf.getvalue(), kind="image", mime="image/png", extension=".png")


def animate_frame(prompt: dict, mode: str) -> tuple[int, int]:
    node = by_class(prompt, "SVD_img2vid_Conditioning" if mode == "svd" else "EmptyLatentImage")[0]
    return node["width"], node["height"]


@pytest.mark.parametrize("mode", ["animatelcm", "svd"])
@pytest.mark.parametrize("w,h", [(1600, 800), (700, 1400)])
def test_animate_frame_follows_a_wide_or_tall_panel_and_still_validates(mode, w, h):
    job = JOBS["animate"]
    values = job.spec.validate({"image": "x", "mode": mode})
    job.preflight(values, {"image": panel(w, h)})
    p = job.build(values, UPLOADED).prompt
    status, body = validate_prompt(p, SCHEMAS, files())
    assert status == 200, body
    fw, fh = animate_frame(p, mode)
    assert (fw, fh) == frame_size(mode, w, h)
    assert (fw > fh) == (w > h) and (fw / fh > 1.5 or fh / fw > 1.5), f"{fw}×{fh} does not keep the {w}×{h} shape"
    if mode == "animatelcm":
        # the reference latent is sized from the same EmptyLatentImage, so the panel is scaled to the frame too
        enc = by_class(p, "ADE_UpscaleAndVAEEncode")[0]
        assert p[enc["latent_size"][0]]["class_type"] == "EmptyLatentImage"


@pytest.mark.parametrize("mode,size", [("animatelcm", (512, 512)), ("svd", (1024, 576))])
def test_animate_without_a_measured_panel_keeps_the_template_frame(mode, size):
    job = JOBS["animate"]
    p = job.build(job.spec.validate({"image": "x", "mode": mode}), UPLOADED).prompt
    assert animate_frame(p, mode) == size
