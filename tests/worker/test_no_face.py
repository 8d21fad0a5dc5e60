"""SONIC finding no face in the portrait: a person's input problem, not a Python error (issue 15.1).

A real SONIC_PreData whose face detector finds nothing raises `UnboundLocalError: cannot access local variable
'bbox_s' …` (seen with the real ComfyUI and the pack's own code). The ComfyUI double fails the lipsync job's real
template at that node the same way, and the worker's answer must point at the portrait field with advice."""
from __future__ import annotations

import base64
import io
import json
import wave

from PIL import Image

from tests.worker.conftest import settings_for
from worker.handler import handler

NO_BBOX = "cannot access local variable 'bbox_s' where it is not associated with a value"


def _png(w: int, h: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (120, 160, 200)).save(buf, "PNG")     # a blank frame: no face to find
    return base64.b64encode(buf.getvalue()).decode()


def _wav(seconds: float) -> str:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x10\x00\xf0" * int(8000 * seconds))
    return base64.b64encode(buf.getvalue()).decode()


async def test_no_face_in_the_portrait_is_invalid_input_on_the_image(start_fake, use_settings, tmp_path):
    url = start_fake("--step-delay", "0.01", "--fail-class", "SONIC_PreData",
                     "--fail-exception", "UnboundLocalError", "--fail-message", NO_BBOX)
    use_settings(settings_for(url, tmp_path))
    result = await handler({"id": "lip1", "input": {"action": "lipsync", "image": _png(512, 512),
                                                    "audio": _wav(2.0)}})
    assert set(result) == {"error"}, result
    err = json.loads(result["error"])
    assert err["code"] == "invalid_input" and err["field"] == "image"
    assert err["message"] == ("image: no face was found in the portrait; use a front-facing head-and-shoulders "
                              "image where the face fills a good part of the frame")
    assert "UnboundLocalError" not in err["message"] and "bbox" not in err["message"]
    assert err["details"]["node_type"] == "SONIC_PreData"          # what ComfyUI said stays for debugging


async def test_other_sonic_failures_stay_execution_failures(start_fake, use_settings, tmp_path):
    url = start_fake("--step-delay", "0.01", "--fail-class", "SONIC_PreData",
                     "--fail-exception", "RuntimeError", "--fail-message", "CUDA out of memory")
    use_settings(settings_for(url, tmp_path))
    result = await handler({"id": "lip2", "input": {"action": "lipsync", "image": _png(512, 512),
                                                    "audio": _wav(2.0)}})
    err = json.loads(result["error"])
    assert err["code"] == "execution_failed"
    assert err["message"] == "lipsync (finding the face) failed: RuntimeError: CUDA out of memory"
