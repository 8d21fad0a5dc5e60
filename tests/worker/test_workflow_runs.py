"""The handler in-process against a ComfyUI double over real HTTP + websocket: success, outputs, errors."""
from __future__ import annotations

import asyncio
import base64
import io
import json

import pytest
from PIL import Image

from tests.worker.conftest import fake_calls, portrait_workflow, settings_for
from worker.handler import handler


def error_of(result: dict) -> dict:
    assert set(result) == {"error"}, result
    return json.loads(result["error"])


async def test_raw_workflow_returns_decodable_png_and_progress(fake, use_settings, tmp_path, reports):
    use_settings(settings_for(fake, tmp_path))
    result = await handler({"id": "j1", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    assert result["status"] == "success", result
    assert result["preview"] is False
    [f] = result["files"]
    assert f["type"] == "image" and f["mime"] == "image/png" and f["encoding"] == "base64"
    img = Image.open(io.BytesIO(base64.b64decode(f["data"])))
    assert img.size == (64, 96) and f["size"] == len(base64.b64decode(f["data"]))
    assert {"queue_ms", "run_ms", "upload_ms"} <= set(result["timings"])
    stages = [r["stage"] for r in reports]
    assert stages[0] == "uploading_inputs" and "running" in stages and stages[-1] == "uploading_outputs"
    assert all(set(r) == {"stage", "node", "step", "steps", "percent", "seq", "label"} for r in reports)
    labels = [r["label"] for r in reports]
    assert labels[0] == "sending the inputs" and labels[-1] == "uploading"
    assert "sampling" in labels and "loading the checkpoint" in labels, labels     # the nodes' roles


async def test_every_output_kind_is_collected(fake, use_settings, tmp_path):
    use_settings(settings_for(fake, tmp_path))
    wf = {"1": {"class_type": "SaveAudio", "inputs": {"filename_prefix": "voice"}},
          "2": {"class_type": "SaveVideo", "inputs": {"filename_prefix": "talk"}},
          "3": {"class_type": "VHS_VideoCombine", "inputs": {"filename_prefix": "vhs"}},
          "4": {"class_type": "SaveImage", "inputs": {"filename_prefix": "still"}}}
    result = await handler({"id": "j2", "input": {"action": "workflow", "workflow": wf}})
    got = sorted((f["type"], f["mime"], f["filename"]) for f in result["files"])
    assert got == [("audio", "audio/wav", "voice_00001_.wav"), ("image", "image/png", "still_00001_.png"),
                   ("video", "video/mp4", "talk_00001_.mp4"), ("video", "video/mp4", "vhs_00001-audio.mp4")]


async def test_websocket_drop_falls_back_to_history(start_fake, use_settings, tmp_path):
    url = start_fake("--fault", "drop-ws", "--step-delay", "0.05")
    use_settings(settings_for(url, tmp_path))
    result = await handler({"id": "j3", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    assert result["status"] == "success", result
    assert result["files"][0]["filename"] == "portrait_00001_.png"


async def test_missing_model_names_role_input_and_what_is_there(fake, use_settings, tmp_path):
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler({"id": "j4", "input": {"action": "workflow",
                                                         "workflow": portrait_workflow("X.safetensors")}}))
    assert err["code"] == "model_missing"
    assert err["message"] == ("not provisioned: node 1 (CheckpointLoaderSimple): checkpoint 'X.safetensors' is not "
                              "on the volume; available: Deliberate_v5.safetensors")
    assert fake_calls(fake)["pending"] == [] and fake_calls(fake)["running"] is None


async def test_validation_failure_is_a_sentence_naming_the_input(fake, use_settings, tmp_path):
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler({"id": "j5", "input": {"action": "workflow",
                                                         "workflow": portrait_workflow(width=100000)}}))
    assert err["code"] == "validation_failed"
    assert err["message"] == "node 4 (EmptyLatentImage): width 100000 is above the maximum 16384"


async def test_execution_error_names_the_node(fake, use_settings, tmp_path):
    use_settings(settings_for(fake, tmp_path))
    wf = {"1": {"class_type": "FailNode", "inputs": {}}, "2": {"class_type": "SaveImage", "inputs": {}}}
    err = error_of(await handler({"id": "j6", "input": {"action": "workflow", "workflow": wf}}))
    assert err["code"] == "execution_failed"
    assert err["message"].startswith("node 1 (FailNode) failed: IndexError: index 3 is out of bounds")


@pytest.mark.parametrize("job, code, field", [
    ({"input": "portrait please"}, "invalid_input", "input"),
    ({"input": {"action": "paint"}}, "unknown_action", "action"),
    ({"input": {"width": 5}}, "invalid_input", "action"),
    ({"input": {"action": "workflow", "workflow": []}}, "invalid_input", "workflow"),
    ({"input": {"action": "workflow", "workflow": {"1": {"inputs": {}}}}}, "invalid_input", "workflow"),
    ({"input": {"action": "workflow", "workflow": {"1": {"class_type": "SaveImage", "inputs": {}}}, "extra": 1}},
     "invalid_input", "extra"),
])
async def test_bad_requests_fail_before_anything_is_queued(fake, use_settings, tmp_path, job, code, field):
    use_settings(settings_for(fake, tmp_path))
    err = error_of(await handler({"id": "bad", **job}))
    assert (err["code"], err["field"]) == (code, field)
    assert field in err["message"]
    assert [c for c in fake_calls(fake)["calls"] if c["call"] == "upload"] == []


async def test_raw_workflow_needs_the_setting(fake, use_settings, tmp_path):
    use_settings(settings_for(fake, tmp_path, allow_raw_workflow=False))
    err = error_of(await handler({"id": "j7", "input": {"action": "workflow", "workflow": portrait_workflow()}}))
    assert err["code"] == "forbidden" and "ALLOW_RAW_WORKFLOW=1" in err["message"]


async def test_cancel_mid_job_interrupts_comfyui_and_next_job_runs_clean(start_fake, use_settings, tmp_path, reports):
    url = start_fake("--step-delay", "0.2")
    use_settings(settings_for(url, tmp_path))
    task = asyncio.create_task(handler({"id": "c1", "input": {"action": "workflow",
                                                              "workflow": portrait_workflow(steps=50)}}))
    while not any(r["stage"] == "running" and r["step"] for r in reports):
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    calls = fake_calls(url)
    assert [c["call"] for c in calls["calls"] if c["call"] != "upload"] == ["interrupt", "delete"]
    assert calls["calls"][0]["prompt_id"] == calls["calls"][0]["running"]
    result = await handler({"id": "c2", "input": {"action": "workflow", "workflow": portrait_workflow(steps=2)}})
    assert result["status"] == "success", result


async def test_job_deadline_interrupts_and_reports_timeout(start_fake, use_settings, tmp_path):
    url = start_fake("--fault", "hang")
    use_settings(settings_for(url, tmp_path))
    err = error_of(await handler({"id": "t1", "policy": {"executionTimeout": 1500},
                                  "input": {"action": "workflow", "workflow": portrait_workflow(steps=1)}}))
    assert err["code"] == "timeout" and "1.5 s" in err["message"]
    assert [c["call"] for c in fake_calls(url)["calls"]][:2] == ["interrupt", "delete"]


async def test_oversize_output_without_bucket_is_a_clear_error(fake, use_settings, tmp_path):
    use_settings(settings_for(fake, tmp_path, inline_max_bytes=200_000))
    wf = portrait_workflow(size_bytes=300_000)
    err = error_of(await handler({"id": "o1", "input": {"action": "workflow", "workflow": wf}}))
    assert err["code"] == "output_too_large" and "BUCKET_ENDPOINT_URL" in err["message"]


async def test_result_never_exceeds_runpods_limit(fake, use_settings, tmp_path):
    # Even with a generous inline threshold, the JSON size RunPod counts is checked.
    use_settings(settings_for(fake, tmp_path, inline_max_bytes=50 * 1024 * 1024))
    wf = portrait_workflow(size_bytes=8 * 1024 * 1024)
    err = error_of(await handler({"id": "o2", "input": {"action": "workflow", "workflow": wf}}))
    assert err["code"] == "output_too_large"


async def test_health_and_debug(fake, use_settings, tmp_path):
    (tmp_path / "volume" / "models" / "checkpoints").mkdir(parents=True)
    (tmp_path / "volume" / "models" / "checkpoints" / "Deliberate_v5.safetensors").write_bytes(b"x")
    use_settings(settings_for(fake, tmp_path))
    health = await handler({"id": "h", "input": {"action": "health"}})
    assert health == {"status": "healthy", "comfyui": {"reachable": True, "version": "0.3.64-fake", "url": fake},
                      "worker_version": health["worker_version"], "preview": False}
    debug = await handler({"id": "d", "input": {"action": "debug"}})
    assert debug["status"] == "ok" and debug["volume"]["mounted"] is True
    assert debug["volume"]["folders"]["checkpoints"] == ["Deliberate_v5.safetensors"]
    assert debug["comfyui"]["alive"] is True
    assert debug["jobs"]["tts"]["ready"] is False and debug["jobs"]["tts"]["missing"]
    assert "secret" not in json.dumps(debug).lower()


async def test_health_when_comfyui_is_down(use_settings, tmp_path):
    from tests.support.procs import free_port
    use_settings(settings_for(f"http://127.0.0.1:{free_port()}", tmp_path))
    health = await handler({"id": "h", "input": {"action": "health"}})
    assert health["status"] == "unhealthy" and health["comfyui"]["reachable"] is False


async def test_unsupervised_comfyui_that_dies_mid_job_fails_the_job_within_seconds(start_fake, use_settings, tmp_path):
    import time
    url = start_fake("--fault", "crash-mid-job")
    use_settings(settings_for(url, tmp_path))
    t0 = time.monotonic()
    err = error_of(await handler({"id": "u1", "input": {"action": "workflow", "workflow": portrait_workflow()}}))
    assert err["code"] == "comfyui_crashed" and "stopped answering" in err["message"]
    assert time.monotonic() - t0 < 5
    err = error_of(await handler({"id": "u2", "input": {"action": "workflow", "workflow": portrait_workflow()}}))
    assert err["code"] == "comfyui_unavailable" and url in err["message"]
