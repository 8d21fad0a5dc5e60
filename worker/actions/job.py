"""The five job actions: validate against the catalogue, fetch and check media, build the prompt, run it."""
from __future__ import annotations

from workflows.catalogue import ParamError

from worker import convert, node_roles, volume
from worker.errors import WorkerError
from worker.inputs import load_media
from worker.pipeline import JobContext, execute
from worker.uploads import upload_all


def _jobs() -> dict:
    try:
        from worker.jobs import JOBS
    except ImportError as exc:
        raise WorkerError("internal", f"the job modules could not be loaded ({exc})") from None
    return JOBS


def label_roles(action: str, prompt: dict, roles: dict[str, str]) -> dict[str, str]:
    """Error sentences start with the job and the node's part in it: "portrait (loading the checkpoint)"."""
    out = {}
    for nid, node in prompt.items():
        role = roles.get(nid)
        if role is None and node.get("class_type") in node_roles.ROLES:
            role = node_roles.ROLES[node["class_type"]]
        out[nid] = f"{action} ({role})" if role else f"{action} (node {nid}, {node.get('class_type')})"
    return out


def check_provisioned(action: str, values: dict, models_dir) -> None:
    """Fail before any upload or queueing when the job's model files are not on the volume.

    Only when a volume is in use (its models folder exists); without one (the preview engine, a hand-run
    ComfyUI) ComfyUI's own checks decide."""
    if not models_dir.is_dir():
        return
    missing = volume.missing_models(action, models_dir, values)
    if missing:
        raise WorkerError("model_missing", volume.not_provisioned_message(action, missing, models_dir),
                          details={"missing": [volume.missing_entry(models_dir, f) for f in missing],
                                   "provision": volume.provision_command(action)})


async def run(ctx: JobContext, action: str, inp: dict) -> dict:
    job = _jobs().get(action)
    if job is None:
        raise WorkerError("unknown_action", f"action: {action} is not available in this worker build", field="action")
    settings = ctx.runtime.settings
    null_warnings: list[str] = []
    try:
        values = job.spec.validate(inp, warnings=null_warnings, allow_http=settings.allow_http_urls)
    except ParamError as exc:
        raise WorkerError("invalid_input", exc.message, field=exc.field) from None
    check_provisioned(action, values, settings.volume / "models")
    media = {}
    for p in job.spec.media_params:
        if p.name in values:
            media[p.name] = await load_media(p.name, values[p.name], settings, expected=p.type)
    for i, ref in enumerate(values.get("characters") or ()):
        name = f"characters[{i}].image"          # the reference images of a job that takes characters
        media[name] = await load_media(name, ref["image"], settings, expected="image")
    warnings = null_warnings + list(job.preflight(values, media) or [])
    built = None

    async def prepare():
        nonlocal built
        uploaded = await upload_all(ctx.client, media)
        built = job.build(values, uploaded)
        ctx.roles = node_roles.for_prompt(built.prompt, built.roles)
        return built.prompt, label_roles(action, built.prompt, built.roles)

    files, facts = await execute(ctx, prepare, convert.wanted(job.spec.output.get("convert"), values))
    return {"status": "success", "action": action, "preview": bool(facts.get("preview")), "files": files,
            "seed": built.seed,
            "licence": built.licence if built.licence is not None else job.spec.licence_for(values),
            "warnings": warnings + list(built.warnings) + ctx.warnings, "timings": dict(ctx.timings)}
