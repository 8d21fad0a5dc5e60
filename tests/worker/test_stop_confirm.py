"""After /interrupt (cancel or the job's deadline) the worker checks that ComfyUI let go of the prompt (issue 16.3).

The fake's `ignore-interrupt` fault keeps the prompt in queue_running whatever /interrupt says, as SONIC's sampling
loop does on the real server (tests/real_comfyui has the same with a real node)."""
from __future__ import annotations

import asyncio
import json
import shlex
import sys

import httpx
import pytest

from tests.support.procs import free_port, wait_http
from tests.worker.conftest import FAKE, fake_calls, portrait_workflow, settings_for
from worker.handler import handler


def error_of(result: dict) -> dict:
    assert "error" in result, result
    return json.loads(result["error"])


def job(job_id: str, timeout_ms: int | None = None) -> dict:
    out = {"id": job_id, "input": {"action": "workflow", "workflow": portrait_workflow(steps=1)}}
    if timeout_ms:
        out["policy"] = {"executionTimeout": timeout_ms}
    return out


async def test_deadline_on_a_comfyui_that_ignores_the_interrupt_says_it_could_not_be_stopped(start_fake, use_settings,
                                                                                              tmp_path):
    url = start_fake("--fault", "ignore-interrupt")
    use_settings(settings_for(url, tmp_path, comfyui_stop_timeout_s=1.0))
    err = error_of(await handler(job("u1", 1500)))
    assert err["code"] == "timeout"
    assert "could not be stopped" in err["message"] and url in err["message"]
    assert err["details"]["comfyui_stop"] in err["message"]
    calls = fake_calls(url)
    assert [c["call"] for c in calls["calls"]][:2] == ["interrupt", "delete"]
    assert calls["running"]                                 # the fake still runs it: nothing more the worker can do


async def test_deadline_on_a_supervised_comfyui_that_ignores_the_interrupt_restarts_it(use_settings, tmp_path):
    command = shlex.join([sys.executable, FAKE, "--port", "{port}", "--fault", "ignore-interrupt"])
    rt = use_settings(settings_for(None, tmp_path, comfyui_command=command, comfyui_port=free_port(),
                                   comfyui_start_timeout_s=30.0, comfyui_stop_timeout_s=1.0))
    rt.supervisor.start()
    first = rt.supervisor.proc
    wait_http(rt.supervisor.url + "/system_stats", timeout=60, proc=first)   # the deadline is for the run alone
    err = error_of(await handler(job("s1", 4000)))
    assert err["code"] == "timeout" and "restarted ComfyUI" in err["message"], err
    assert first.poll() is not None                         # the stuck process is gone ...
    assert rt.supervisor.alive() and rt.supervisor.restarts == 1   # ... and a new one is starting
    # the next job gets an idle ComfyUI: it is not stuck behind the old run
    async with httpx.AsyncClient() as c:
        for _ in range(100):
            try:
                q = (await c.get(rt.supervisor.url + "/queue")).json()
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    assert q == {"queue_running": [], "queue_pending": []}
    assert "restarting ComfyUI: prompt" in rt.supervisor.log_path.read_text()


async def test_cancel_on_a_supervised_comfyui_that_ignores_the_interrupt_restarts_it(use_settings, tmp_path, reports):
    command = shlex.join([sys.executable, FAKE, "--port", "{port}", "--fault", "ignore-interrupt"])
    rt = use_settings(settings_for(None, tmp_path, comfyui_command=command, comfyui_port=free_port(),
                                   comfyui_start_timeout_s=30.0, comfyui_stop_timeout_s=1.0))
    task = asyncio.create_task(handler(job("s2")))
    while not any(r["stage"] == "running" for r in reports):
        await asyncio.sleep(0.05)
    first = rt.supervisor.proc
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert first.poll() is not None and rt.supervisor.alive() and rt.supervisor.restarts == 1


async def test_a_comfyui_that_stops_on_interrupt_is_not_restarted(start_fake, use_settings, tmp_path):
    url = start_fake("--fault", "hang")
    use_settings(settings_for(url, tmp_path, comfyui_stop_timeout_s=1.0))
    err = error_of(await handler(job("h1", 1500)))
    assert err["code"] == "timeout" and "comfyui_stop" not in err.get("details", {})
    assert err["message"] == "the job ran longer than its 1.5 s limit and was stopped"
