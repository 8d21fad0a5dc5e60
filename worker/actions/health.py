"""`health`: fast — is ComfyUI reachable, which version, is it the preview engine. Never waits for a start."""
from __future__ import annotations

from worker.config import WORKER_VERSION as worker_version
from worker.comfy.client import ComfyUnreachable
from worker.pipeline import JobContext


async def run(ctx: JobContext) -> dict:
    try:
        stats = await ctx.client.system_stats(timeout=3.0)
        system = (stats or {}).get("system") or {}
        argv = system.get("argv") or [""]
        reachable, version, preview = True, system.get("comfyui_version"), argv[0] == "studio-preview-engine"
    except (ComfyUnreachable, Exception):
        reachable, version, preview = False, None, False
    out = {"status": "healthy" if reachable else "unhealthy",
           "comfyui": {"reachable": reachable, "version": version, "url": ctx.client.base_url},
           "worker_version": worker_version, "preview": preview}
    if reachable and await ctx.runtime.still_stuck(ctx.client):
        out["status"] = "unhealthy"
        out["comfyui"]["state"] = "busy"
        out["comfyui"]["message"] = ctx.runtime.unhealthy_reason()
    sup = ctx.runtime.supervisor
    if sup is not None and not reachable:
        if sup.never_started:
            out["comfyui"]["state"] = "not_started"
            out["comfyui"]["message"] = "ComfyUI has not been started yet; the next job starts it"
        else:
            out["comfyui"]["state"] = "starting" if sup.alive() else "exited"
    return out
