"""`debug`: what a person needs when a worker misbehaves — the volume, its model folders, ComfyUI's state and
log tail, and per job whether every model file it needs is on the volume."""
from __future__ import annotations

import os
from pathlib import Path

from worker.comfy.client import ComfyUnreachable
from worker.comfy.supervisor import read_tail
from worker.pipeline import JobContext

MAX_FILES_LISTED = 200


def volume_report(volume: Path) -> dict:
    models = volume / "models"
    folders: dict[str, list[str]] = {}
    if models.is_dir():
        for folder in sorted(p for p in models.iterdir() if p.is_dir()):
            names = []
            for root, _dirs, files in os.walk(folder, followlinks=True):
                rel = Path(root).relative_to(folder)
                names += [str(rel / f) if str(rel) != "." else f for f in files]
                if len(names) >= MAX_FILES_LISTED:
                    break
            folders[folder.name] = sorted(names)[:MAX_FILES_LISTED]
    return {"path": str(volume), "mounted": volume.is_dir() and (os.path.ismount(volume) or models.is_dir()),
            "folders": folders}


def jobs_report(volume: Path) -> dict:
    """Per job: ready, or the manifest files missing from the volume."""
    try:
        from worker.volume import job_readiness
        return job_readiness(volume / "models")
    except Exception as exc:                   # a broken catalogue must not break debugging
        return {"_error": {"ready": False, "missing": [], "message": f"catalogue unreadable: {exc}"}}


async def run(ctx: JobContext) -> dict:
    settings = ctx.runtime.settings
    sup = ctx.runtime.supervisor
    alive, version, preview = False, None, False
    try:
        stats = await ctx.client.system_stats(timeout=3.0)
        system = (stats or {}).get("system") or {}
        alive, version = True, system.get("comfyui_version")
        preview = (system.get("argv") or [""])[0] == "studio-preview-engine"
    except (ComfyUnreachable, Exception):
        pass
    comfy = {"alive": alive, "version": version, "url": ctx.client.base_url,
             "log_tail": sup.log_tail() if sup else read_tail(settings.comfyui_log),
             "supervised": sup is not None}
    if alive and await ctx.runtime.still_stuck(ctx.client):
        comfy["busy"] = ctx.runtime.unhealthy_reason()     # a run /interrupt did not stop
    if sup is not None:
        comfy.update(process_running=sup.alive(), exit_code=sup.exit_code(), restarts=sup.restarts)
    return {"status": "ok", "volume": volume_report(settings.volume), "comfyui": comfy,
            "jobs": jobs_report(settings.volume), "preview": preview, "settings": settings.public_dict()}
