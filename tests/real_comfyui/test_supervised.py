"""`python -m worker serve` supervising the real ComfyUI itself (COMFYUI_COMMAND), as the image's entry does:
the volume wired by the worker before ComfyUI starts, a crash mid-job, and a run that ignores /interrupt.

One endpoint for the module; its ComfyUI is restarted by the worker in two of the tests, which is what they check.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.real_comfyui.conftest import Rig, nonce, output_of, sleeper
from tests.support.jobs import error_of

START_S = 600           # ComfyUI starts in ~20 s alone, in minutes on a 2-core machine shared with other tests


class NoVolumeRig(Rig):
    """The worker prepares the volume itself here (extra_model_paths.yaml, the SONIC link, the caches)."""

    def __post_init__(self):
        super().__post_init__()
        self.yaml.unlink()


def comfy_pid(port: int) -> int | None:
    """The supervised ComfyUI's own pid: the process whose command line is main.py with --port PORT."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"main.py") for a in argv) and str(port).encode() in argv and b"--port" in argv:
            return int(entry.name)
    return None


@pytest.fixture(scope="module")
def sup(real, tmp_path_factory):
    rig = NoVolumeRig(real, tmp_path_factory.mktemp("supervised"))
    log = rig.root / "comfyui-supervised.log"
    env = rig.supervised_env(log)
    port = int(env["COMFYUI_PORT"])
    served = rig.serve(env=env)
    try:
        yield {"rig": rig, "served": served, "port": port, "url": f"http://127.0.0.1:{port}", "log": log}
    finally:
        served.stop()
        deadline = time.monotonic() + 20
        while comfy_pid(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert comfy_pid(port) is None, "the supervised ComfyUI outlived the worker"


def wait_healthy(served, timeout: float = START_S) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = served.run({"action": "health"})
        assert job["status"] == "COMPLETED", job
        out = job["output"]
        if out["status"] == "healthy" or time.monotonic() > deadline:
            return out
        time.sleep(1)


def queue(sup) -> dict:
    return httpx.get(sup["url"] + "/queue", timeout=30).json()


def wait_running(sup, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = queue(sup)["queue_running"]
        if running:
            return running[0][1]
        time.sleep(0.1)
    raise AssertionError("nothing ran on the supervised ComfyUI")


def test_serve_starts_its_comfyui_and_wires_the_volume_before(sup):
    served, rig = sup["served"], sup["rig"]
    health = wait_healthy(served)
    assert health["status"] == "healthy" and health["comfyui"]["version"] == "0.3.64", health
    assert health["comfyui"]["url"] == sup["url"]
    debug = served.run({"action": "debug"})["output"]
    assert debug["comfyui"] | {"supervised": True, "process_running": True, "restarts": 0} == debug["comfyui"]
    assert any("To see the GUI go to" in line for line in debug["comfyui"]["log_tail"])
    # the worker wrote the yaml and linked SONIC's folder into ComfyUI's folder before ComfyUI started
    assert rig.yaml.is_file() and (rig.base / "models" / "sonic").resolve() == rig.models / "sonic"
    text = sup["log"].read_text()
    assert f"Adding extra search path checkpoints {rig.models / 'checkpoints'}" in text


def test_a_template_reaches_the_supervised_comfyuis_loader(sup):
    err = error_of(sup["served"].run({"action": "portrait", "prompt": "a lighthouse keeper", "width": 256,
                                      "height": 256, "steps": 1}, timeout=START_S))
    assert err["code"] == "execution_failed" and err["message"].startswith("portrait (loading the checkpoint) failed: ")


def test_comfyui_killed_mid_job_is_comfyui_crashed_with_its_log_and_restarted(sup):
    served = sup["served"]
    wait_healthy(served)
    job_id = served.submit({"action": "workflow", "workflow": sleeper(60, nonce())})
    wait_running(sup)
    first = comfy_pid(sup["port"])
    os.kill(first, signal.SIGKILL)
    t0 = time.monotonic()
    err = error_of(served.wait(job_id, timeout=60))
    assert time.monotonic() - t0 < 15
    assert err["code"] == "comfyui_crashed"
    assert "exited with code -9 while running the job" in err["message"]
    assert any("got prompt" in line for line in err["details"]["log_tail"]), err["details"]["log_tail"]
    # the next job gets a new ComfyUI
    out = output_of(served.run({"action": "workflow", "workflow": sleeper(0.1, nonce())}, timeout=START_S))
    assert out["files"][0]["mime"] == "image/png"
    second = comfy_pid(sup["port"])
    assert second and second != first
    assert served.run({"action": "debug"})["output"]["comfyui"]["restarts"] >= 1


def test_cancel_of_a_run_that_ignores_the_interrupt_restarts_comfyui(sup):
    """Issue 16.3: a node that never checks the interrupt flag (SONIC's sampler does this) keeps running after
    /interrupt; the worker notices within seconds and restarts its ComfyUI, so the next job is not stuck behind."""
    served = sup["served"]
    wait_healthy(served)
    restarts = served.run({"action": "debug"})["output"]["comfyui"]["restarts"]
    job_id = served.submit({"action": "workflow", "workflow": sleeper(300, nonce(), stubborn=True)})
    wait_running(sup)
    first = comfy_pid(sup["port"])
    t0 = time.monotonic()
    assert served.cancel(job_id)["status"] == "CANCELLED"
    line = served.proc.wait_for_line("restarted ComfyUI", timeout=60)
    assert "did not stop the run within 5 s of the interrupt" in line
    assert time.monotonic() - t0 < 30
    assert not Path(f"/proc/{first}").exists() or comfy_pid(sup["port"]) != first
    # the next job runs on the new ComfyUI right away, not after the 300 s loop
    t1 = time.monotonic()
    out = output_of(served.run({"action": "workflow", "workflow": sleeper(0.1, nonce())}, timeout=START_S))
    assert out["files"] and time.monotonic() - t1 < START_S
    assert served.run({"action": "debug"})["output"]["comfyui"]["restarts"] == restarts + 1
    assert "worker: restarting ComfyUI: prompt" in sup["log"].read_text()
