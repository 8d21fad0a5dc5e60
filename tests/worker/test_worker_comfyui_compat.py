"""A drop-in for runpod-workers/worker-comfyui 5.x clients, with the request shapes of its README, sent over
RunPod's queue API (python -m worker serve) to a ComfyUI double."""
from __future__ import annotations

import base64
import io
import json

import httpx
import pytest
from PIL import Image

from tests.support.procs import Proc, free_port
from tests.worker.conftest import fake_calls


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 20, 20)).save(buf, "PNG")
    return buf.getvalue()


# The README's input example, completed into a workflow that loads the named image and saves a copy.
README_REQUEST = {"input": {
    "workflow": {
        "6": {"inputs": {"text": "a ball on the table", "clip": ["30", 1]}, "class_type": "CLIPTextEncode",
              "_meta": {"title": "CLIP Text Encode (Positive Prompt)"}},
        "10": {"inputs": {"image": "input_image_1.png"}, "class_type": "LoadImage"},
        "11": {"inputs": {"images": ["10", 0], "filename_prefix": "ComfyUI"}, "class_type": "SaveImage"},
    },
    "images": [{"name": "input_image_1.png", "image": "data:image/png;base64," + base64.b64encode(png()).decode()}],
}}


def serve(tmp_path, comfy: str, **env: str) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(["-m", "worker", "serve", "--port", str(port), "--comfyui-url", comfy], tmp_path / f"serve-{port}.log",
                env={"RUNPOD_VOLUME": str(tmp_path / "volume"), **env})
    line = proc.wait_for_line("local endpoint ready:", timeout=60)
    return proc, line.split("ready:", 1)[1].strip()


@pytest.fixture
def compat_endpoint(tmp_path, fake):
    proc, base = serve(tmp_path, fake, ALLOW_RAW_WORKFLOW="1")
    yield base, fake
    proc.stop()


def test_the_readme_request_gets_the_readme_output(compat_endpoint):
    base, comfy = compat_endpoint
    done = httpx.post(f"{base}/runsync", json=README_REQUEST, timeout=60).json()
    assert done["status"] == "COMPLETED", done
    out = done["output"]
    [image] = out["images"]
    assert set(image) == {"filename", "type", "data"} and image["type"] == "base64"
    assert image["filename"].startswith("ComfyUI_") and image["filename"].endswith(".png")
    Image.open(io.BytesIO(base64.b64decode(image["data"]))).load()
    assert out["files"][0]["data"] == image["data"]             # our own shape stays beside it
    assert "errors" not in out
    # The named input was uploaded under a generated name and the workflow pointed at it.
    [up] = [c for c in fake_calls(comfy)["calls"] if c["call"] == "upload"]
    assert up["name"].startswith("input_image_1_png_") and up["size"] == len(png())


def test_plain_base64_and_an_ignored_api_key_come_back_as_errors(compat_endpoint):
    base, _ = compat_endpoint
    request = json.loads(json.dumps(README_REQUEST))
    request["input"]["images"][0]["image"] = base64.b64encode(png()).decode()   # no data URI prefix
    request["input"]["comfy_org_api_key"] = "comfy-org-secret-key"
    done = httpx.post(f"{base}/runsync", json=request, timeout=60).json()
    assert done["status"] == "COMPLETED", done
    assert done["output"]["images"][0]["type"] == "base64"
    assert any("comfy_org_api_key" in e for e in done["output"]["errors"])
    assert "comfy-org-secret-key" not in json.dumps(done)


def test_our_own_workflow_shape_has_no_images_list(compat_endpoint):
    base, _ = compat_endpoint
    done = httpx.post(f"{base}/runsync", json={"input": {"action": "workflow", **README_REQUEST["input"]}},
                      timeout=60).json()
    assert done["status"] == "COMPLETED" and "images" not in done["output"] and done["output"]["files"]


def test_without_raw_workflows_the_request_is_refused(tmp_path, fake):
    proc, base = serve(tmp_path, fake)
    try:
        done = httpx.post(f"{base}/runsync", json=README_REQUEST, timeout=60).json()
        assert done["status"] == "FAILED"
        err = json.loads(done["error"])
        assert err["code"] == "forbidden" and "ALLOW_RAW_WORKFLOW=1" in err["message"]
    finally:
        proc.stop()
