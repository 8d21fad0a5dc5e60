"""ComfyUI supervised by the worker: a start that never finishes, a crash mid-job, and the restart after it."""
from __future__ import annotations

import json
import shlex
import sys
import time

from tests.support.procs import free_port
from tests.worker.conftest import FAKE, portrait_workflow, settings_for
from worker.handler import handler


def command(*extra: str) -> str:
    return shlex.join([sys.executable, FAKE, "--port", "{port}", *extra])


async def test_comfyui_that_never_starts_fails_every_job_with_its_log(use_settings, tmp_path):
    use_settings(settings_for(None, tmp_path, comfyui_command=command("--fault", "never-start"),
                              comfyui_port=free_port(), comfyui_start_timeout_s=2.0))
    job = {"id": "n1", "input": {"action": "workflow", "workflow": portrait_workflow()}}
    for _ in range(2):
        err = json.loads((await handler(job))["error"])
        assert err["code"] == "comfyui_unavailable"
        assert "did not answer within 2 s" in err["message"]
        assert any("libcuda.so.1" in line for line in err["details"]["log_tail"])
        assert len(err["details"]["log_tail"]) <= 50


async def test_comfyui_dying_mid_job_fails_fast_with_log_and_is_restarted(use_settings, tmp_path):
    marker = tmp_path / "crashed-once"
    rt = use_settings(settings_for(None, tmp_path, comfyui_command=command("--fault", "crash-mid-job",
                                                                           "--crash-marker", str(marker)),
                                   comfyui_port=free_port(), comfyui_start_timeout_s=30.0))
    rt.supervisor.start()                     # as `python -m worker` does at process start
    t0 = time.monotonic()
    result = await handler({"id": "k1", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    err = json.loads(result["error"])
    assert err["code"] == "comfyui_crashed"
    assert any("Segmentation fault" in line for line in err["details"]["log_tail"])
    first_pid = rt.supervisor.proc.pid
    assert time.monotonic() - t0 < 15          # start (~1 s) + the crash noticed within seconds, not a socket timeout
    result = await handler({"id": "k2", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    assert result["status"] == "success", result
    assert rt.supervisor.proc.pid != first_pid and rt.supervisor.restarts == 1


async def test_health_before_comfyui_ever_started_says_so(use_settings, tmp_path):
    use_settings(settings_for(None, tmp_path, comfyui_command=command(), comfyui_port=free_port()))
    out = await handler({"id": "h0", "input": {"action": "health"}})
    assert out["status"] == "unhealthy"
    assert out["comfyui"]["state"] == "not_started" and "not been started" in out["comfyui"]["message"]
