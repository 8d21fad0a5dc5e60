"""Uploads, /view rules, and the extracted node facts (workflows/comfy_nodes.json)."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import Engine, png_bytes
from tests.support.procs import REPO
from tests.support.recordings import COMFYUI


def test_upload_dedupes_renames_and_overwrites(engine: Engine):
    first = engine.upload("dup.png", png_bytes(8, 8, (1, 2, 3))).json()
    assert first == {"name": "dup.png", "subfolder": "", "type": "input"}
    assert engine.upload("dup.png", png_bytes(8, 8, (1, 2, 3))).json()["name"] == "dup.png"
    assert engine.upload("dup.png", png_bytes(8, 8, (9, 9, 9))).json()["name"] == "dup (1).png"
    assert engine.upload("dup.png", png_bytes(8, 8, (7, 7, 7))).json()["name"] == "dup (2).png"
    kept = engine.upload("dup.png", png_bytes(8, 8, (5, 5, 5)), overwrite="true").json()
    assert kept["name"] == "dup.png"
    r = engine.http.get("/view", params={"filename": "dup.png", "type": "input"})
    assert r.content == png_bytes(8, 8, (5, 5, 5))
    listed = engine.http.get("/object_info/LoadImage").json()["LoadImage"]["input"]["required"]["image"][0]
    assert {"dup.png", "dup (1).png", "dup (2).png"} <= set(listed)


def test_hostile_names_stay_inside_their_folders(engine: Engine):
    r = engine.upload("../../evil.png", png_bytes())
    assert r.status_code == 200 and r.json()["name"] == "evil.png"
    assert (engine.data / "input" / "evil.png").is_file()
    assert engine.upload("x.png", png_bytes(), subfolder="../..").status_code == 400
    assert engine.http.get("/view", params={"filename": "x.png", "subfolder": "../..", "type": "input"}
                           ).status_code == 403
    assert engine.http.get("/view", params={"filename": "../evil.png", "type": "input"}).status_code == 400


def test_extract_nodes_reproduces_the_committed_file(tmp_path):
    out = tmp_path / "nodes.json"
    subprocess.run([sys.executable, "-m", "workflows.extract_nodes", str(COMFYUI), "--out", str(out)],
                   cwd=REPO, check=True, capture_output=True, timeout=120)
    assert out.read_text() == (REPO / "workflows" / "comfy_nodes.json").read_text()
    nodes = json.loads(out.read_text())
    assert len(nodes) == 687 + 37          # core and the four packs, plus the IP-Adapter pack's 37 classes
    assert "tooltip" not in out.read_text() and "description" not in out.read_text()
    save_video = nodes["SaveVideo"]["inputs"]["format"]
    assert save_video == ["required", "COMBO", {"default": "auto", "multiselect": False, "options": ["auto", "mp4"]}]
    assert nodes["ImageScale"]["inputs"]["upscale_method"][1] == ["nearest-exact", "bilinear", "area", "bicubic",
                                                                  "lanczos"]
    assert nodes["CheckpointLoaderSimple"]["files"] == {"ckpt_name": "models:checkpoints"}
    assert nodes["SONICTLoader"]["files"] == {"sonic_unet": "models:sonic"}
    assert nodes["IPAdapterModelLoader"]["files"] == {"ipadapter_file": "models:ipadapter"}
    assert nodes["F5TTSAudio"]["files"] == {"sample": "input:f5tts"}
    assert nodes["LoadImage"]["inputs"]["image"] == ["required", [], {"image_upload": True}]
    assert nodes["SaveImage"]["output_node"] is True and nodes["SaveImage"]["hidden"] == ["prompt", "extra_pnginfo"]


def test_validate_prompt_in_process_for_templates():
    """The template tests call the validator directly, with file lists of their own."""
    from worker.preview.schemas import load
    from worker.preview.validation import StaticFiles, validate_prompt
    from .graphs import portrait
    files = StaticFiles({"models:checkpoints": ["Deliberate_v5.safetensors"]})
    status, body = validate_prompt(portrait(), load(), files)
    assert status == 200 and body["outputs"] == ["7"] and body["node_errors"] == {}
    status, body = validate_prompt(portrait(ckpt="nope.safetensors"), load(), files)
    assert status == 400
    assert body["node_errors"]["1"]["errors"][0]["details"] == \
        "ckpt_name: 'nope.safetensors' not in ['Deliberate_v5.safetensors']"
    assert validate_prompt([1, 2], load()) == (500, None)
