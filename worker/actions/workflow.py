"""`workflow`: run a raw ComfyUI API-format workflow (only when ALLOW_RAW_WORKFLOW=1).

Input: {"action": "workflow", "workflow": {node id: {class_type, inputs}}, "images"?: [{"name", "image"}]}.
Each `images` entry (base64, data URI or https URL; audio too) is uploaded under a generated name, and every
string input in the workflow equal to the entry's `name` is replaced by that generated name — the same shape
runpod-workers/worker-comfyui takes, without trusting the client's file name.

A request without `action` (worker-comfyui 5.x's shape) is answered in that shape too: beside our `files`, an
`images` list `[{"filename", "type": "base64" | "s3_url", "data"}]` and, when there were warnings, `errors`, so
those clients work unchanged. `comfy_org_api_key` (worker-comfyui's key for ComfyUI's paid API nodes) is not used
here and is ignored with a warning that never repeats the key.
"""
from __future__ import annotations

from worker.errors import WorkerError
from worker.inputs import load_media
from worker.pipeline import JobContext, execute
from worker.uploads import upload_all

MAX_FILES = 16


def _check(inp: dict) -> tuple[dict, list[tuple[str, object]]]:
    wf = inp.get("workflow")
    if not isinstance(wf, dict) or not wf:
        raise WorkerError("invalid_input", "workflow: expected a ComfyUI workflow in API format (an object of nodes)",
                          field="workflow")
    for node_id, node in wf.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str) \
                or not isinstance(node.get("inputs", {}), dict):
            raise WorkerError("invalid_input", f"workflow: node {node_id} needs a class_type and an inputs object",
                              field="workflow")
    images = inp.get("images") or []
    if not isinstance(images, list) or len(images) > MAX_FILES:
        raise WorkerError("invalid_input", f"images: expected a list of up to {MAX_FILES} {{name, image}} objects",
                          field="images")
    out = []
    for i, item in enumerate(images):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "image" not in item:
            raise WorkerError("invalid_input", f"images[{i}]: expected {{\"name\": str, \"image\": base64 | data URI "
                              "| https URL}", field=f"images[{i}]")
        out.append((item["name"], item["image"]))
    unknown = set(inp) - {"action", "workflow", "images", "comfy_org_api_key"}
    if unknown:
        raise WorkerError("invalid_input", f"{sorted(unknown)[0]}: unknown field for workflow; allowed fields: "
                          "workflow, images", field=sorted(unknown)[0])
    return wf, out


def rename_inputs(wf: dict, names: dict[str, str]) -> dict:
    return {nid: {**node, "inputs": {k: names.get(v, v) if isinstance(v, str) else v
                                     for k, v in (node.get("inputs") or {}).items()}}
            for nid, node in wf.items()}


async def run(ctx: JobContext, inp: dict) -> dict:
    if not ctx.runtime.settings.allow_raw_workflow:
        raise WorkerError("forbidden", "action: workflow runs raw workflows only when the worker has "
                          "ALLOW_RAW_WORKFLOW=1", field="action")
    wf, images = _check(inp)
    compat = "action" not in inp
    ctx.inline_copies = 2 if compat else 1       # worker-comfyui's `images` repeats every inline file
    if inp.get("comfy_org_api_key"):
        ctx.warnings.append("comfy_org_api_key: this worker runs no Comfy.org API nodes; the key was not used")
    media = {}
    for i, (name, value) in enumerate(images):
        media[name] = await load_media(f"images[{i}]", value, ctx.runtime.settings)

    async def prepare():
        stored = await upload_all(ctx.client, media)
        roles = {nid: f"node {nid} ({node['class_type']})" for nid, node in wf.items()}
        return rename_inputs(wf, stored), roles

    files, facts = await execute(ctx, prepare)
    result = {"status": "success", "action": "workflow", "preview": bool(facts.get("preview")), "files": files,
              "seed": None, "licence": None, "warnings": list(ctx.warnings), "timings": dict(ctx.timings)}
    if compat:
        result["images"] = worker_comfyui_images(files)
        if ctx.warnings:
            result["errors"] = list(ctx.warnings)
    return result


def worker_comfyui_images(files: list[dict]) -> list[dict]:
    """Our `files` in worker-comfyui 5.x's output shape."""
    return [{"filename": f["filename"], "type": "base64", "data": f["data"]} if f.get("encoding") == "base64"
            else {"filename": f["filename"], "type": "s3_url", "data": f["url"]} for f in files]
