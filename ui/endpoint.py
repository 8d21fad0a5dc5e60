"""Endpoint tab: a plain-words summary (mode, workers, queue, which jobs are ready), the per-job readiness table,
warm-up, the raw answer in a closed accordion, and a monthly cost estimate (GPU time + the network volume)."""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import gradio as gr

from backend.errors import BackendError
from backend.settings import DEFAULT_GPU_PRICE_PER_SECOND
from ui import jobrun, roles
from workflows import hub_cache
from workflows.catalogue import ACTIONS, load_catalogue, load_manifest

MODE_TEXT = {
    "preview": "**Preview** — no RunPod credentials, so jobs run on a local endpoint with the preview engine, "
               "which renders marked placeholder media (no GPU, no models, no cost).",
    "local": "**Local** — RUNPOD_API_BASE points at a local endpoint (python -m worker serve).",
    "runpod": "**RunPod** — jobs run on your RunPod Serverless endpoint.",
}
NOT_CHECKED = ("Workers, queue and models: **not checked yet**. Press *Check endpoint* — it runs a tiny "
               "diagnostic job on a worker (on RunPod this may start a worker).")
WORKER_STATES = ("ready", "running", "idle", "initializing", "throttled", "unhealthy")

# RunPod network volume: US$ per GB per month, and the size we recommend (the models plus room for outputs,
# custom nodes and updates).
VOLUME_PRICE_PER_GB_MONTH = 0.07
VOLUME_GB = 50


def as_dict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


def _gb(size: int | float | None) -> str:
    return f"{(size or 0) / 1e9:.2f} GB"


def models_total_bytes() -> int:
    """Every model file the five jobs need (in any of their modes), sized from workflows/models.json."""
    manifest = load_manifest()
    needed = {path for spec in load_catalogue().values() for path in spec.all_models()}
    return sum(int(manifest[path].size or 0) for path in needed)


def missing_label(m: dict) -> str:
    """A missing file for a person: a hub model by its repository and file name (not the cache path with its
    commit hash), and why it does not count when it is there but unusable."""
    hub = hub_cache.parse(str(m.get("path") or ""))
    name = f"{hub.repo} · {hub.file}" if hub else str(m.get("path"))
    problem = m.get("problem")
    why = "" if not problem or problem == "not on the volume" else (
        " — on the volume but not where the loader looks; provision again to fix it")
    return f"{name} ({_gb(m.get('size'))}){why}"


def title(action: str) -> str:
    """A job kind as the tabs name it (Portrait, Voice, Talking head, Panel animation, Music)."""
    spec = load_catalogue().get(action)
    return spec.title if spec else action


def readiness_rows(ready: dict) -> list[list]:
    """One row per job: ready, or the missing model files with their sizes."""
    rows = []
    for action, info in (ready.get("jobs") or {}).items():
        missing = info.get("missing") or []
        what = "; ".join(missing_label(m) for m in missing)
        state = "ready" if info.get("ready") else (f"missing {len(missing)} file(s), "
                                                   f"{_gb(sum(int(m.get('size') or 0) for m in missing))}")
        rows.append([title(action), state, what or "–"])
    return rows


def summary(mode: str, ready: dict) -> str:
    """The endpoint in plain words: mode, workers by state, queue, and whether all five jobs can run."""
    workers = ready.get("workers") or {}
    queue = ready.get("queue") or {}
    jobs = ready.get("jobs") or {}
    lines = [f"**Mode:** {MODE_TEXT.get(mode, mode)}"]
    if workers:
        counts = ", ".join(f"{workers.get(s, 0)} {s}" for s in WORKER_STATES if workers.get(s))
        lines.append(f"**Workers:** {counts or 'none running (the endpoint scales from zero on the next job)'}.")
    else:
        lines.append("**Workers:** unknown (the endpoint's /health did not answer).")
    if queue:
        lines.append(f"**Queue:** {queue.get('inQueue', 0)} waiting, {queue.get('inProgress', 0)} in progress.")
    if jobs:
        missing = {a: j for a, j in jobs.items() if not j.get("ready")}
        if not missing:
            lines.append(f"**Jobs:** all {len(jobs)} jobs ready ({', '.join(title(a) for a in jobs)}).")
        else:
            parts = []
            for action, j in missing.items():
                files = j.get("missing") or []
                size = sum(int(m.get("size") or 0) for m in files)
                parts.append(f"{title(action)} is missing {len(files)} model file(s) ({_gb(size)})")
            ready_ones = [a for a in jobs if a not in missing]
            lines.append(f"**Jobs:** {'; '.join(parts)}. Ready: {', '.join(title(a) for a in ready_ones) or 'none'}. "
                         "Provision the volume (docs/deploy.md, step 5) to fetch the missing files.")
    else:
        lines.append("**Jobs:** the model check did not answer.")
    for problem in ready.get("problems") or []:
        lines.append(f"⚠ {problem}")
    return "\n\n".join(lines)


def price_text(price: float) -> str:
    if math.isclose(price, DEFAULT_GPU_PRICE_PER_SECOND):
        return (f"${price:.5f}/s — the default: RunPod's 24 GB Ada (RTX 4090) flex price. "
                "Set GPU_PRICE_PER_SECOND for your GPU.")
    return f"${price:.5f}/s (from GPU_PRICE_PER_SECOND)"


def monthly_estimate(studio: Any, jobs_per_month: float) -> str:
    """US$ per month: each job type run `jobs_per_month` times at its measured average run time, plus the
    network volume that holds the models."""
    price = studio.settings.gpu_price_per_second
    lines, gpu_total = [], 0.0
    for action in ACTIONS:
        runs = [r.execution_ms for r in studio.history(action=action, status="completed") if r.execution_ms]
        if not runs:
            lines.append(f"| {title(action)} | no finished runs yet | – |")
            continue
        avg_s = sum(runs) / len(runs) / 1000
        cost = avg_s * price * jobs_per_month
        gpu_total += cost
        lines.append(f"| {title(action)} | {avg_s:.1f} s | ${cost:.2f} |")
    volume = VOLUME_GB * VOLUME_PRICE_PER_GB_MONTH
    models = models_total_bytes()
    measured_note = (" Run times are measured in preview mode, so GPU time here is far below a real GPU's."
                     if studio.mode == "preview" else "")
    return "\n".join([
        f"**GPU price:** {price_text(price)}",
        "",
        "| job | average run | GPU per month |", "|---|---|---|", *lines,
        f"| **network volume** | {VOLUME_GB} GB × ${VOLUME_PRICE_PER_GB_MONTH:.2f}/GB | ${volume:.2f} |",
        "",
        f"The volume holds the models of all five jobs: {_gb(models)} (workflows/models.json); {VOLUME_GB} GB "
        f"leaves room for outputs and updates, and is billed whether or not jobs run.{measured_note} "
        "Idle time of active (always-on) workers is billed separately.",
        "",
        f"**Estimated total: ${gpu_total + volume:.2f} / month** (GPU ${gpu_total:.2f} + volume ${volume:.2f})",
    ])


def build(studio: Any) -> None:
    status = gr.Markdown(f"**Mode:** {MODE_TEXT.get(studio.mode, studio.mode)}\n\n{NOT_CHECKED}",
                         elem_id="endpoint-summary")
    with gr.Row():
        check = gr.Button("Check endpoint", variant="primary", elem_id="endpoint-check")
        warm = gr.Button("Warm up a worker", elem_id="endpoint-warm")
    note = gr.Markdown("", elem_id="endpoint-note")
    table = gr.Dataframe(headers=["job", "readiness", "missing models"], value=[], interactive=False, wrap=True,
                         label="Readiness per job", show_label=True, elem_id="endpoint-readiness")
    with gr.Accordion("Raw answer (/health + the worker's debug check)", open=False, elem_id="endpoint-raw"):
        raw = gr.JSON(label="Raw answer", elem_id="endpoint-workers")
    gr.Markdown("### Monthly cost estimate")
    with gr.Row(equal_height=True):
        per_month = gr.Number(label="Jobs of each kind per month", value=100, minimum=0, elem_id="endpoint-jobs")
        estimate_btn = gr.Button("Estimate monthly cost", elem_id="endpoint-estimate")
    estimate = gr.Markdown(monthly_estimate(studio, 100), elem_id="endpoint-cost")
    # Computed again on every page load (gr.on without triggers), so the table counts the runs made so far; a
    # private event, not a callable value, which would add an unnamed public API endpoint and MCP tool.
    @roles.reader
    def estimate_now(n: float | None) -> str:
        return monthly_estimate(studio, float(n or 0))

    gr.on(None, estimate_now, inputs=[per_month], outputs=[estimate], show_progress="hidden", **jobrun.PRIVATE)

    @roles.owner_only("check the endpoint (it may start a GPU worker)")
    def do_check():
        roles.require_owner(studio, "check the endpoint (it may start a GPU worker)")
        try:
            result = studio.readiness()
        except BackendError as err:
            return f"**Mode:** {MODE_TEXT.get(studio.mode, studio.mode)}\n\n⚠ {err.message}", "", None, []
        ready = as_dict(result)
        return summary(studio.mode, ready), "", ready, readiness_rows(ready)

    @roles.owner_only("warm up a GPU worker")
    def do_warm():
        roles.require_owner(studio, "warm up a GPU worker")
        try:
            msg = studio.warm_up()
        except BackendError as err:
            return f"⚠ {err.message}"
        return str(msg or "Warm-up requested.")

    check.click(do_check, outputs=[status, note, raw, table], **jobrun.PRIVATE)
    warm.click(do_warm, outputs=[note], **jobrun.PRIVATE)
    gr.on([estimate_btn.click, per_month.submit], estimate_now, inputs=[per_month], outputs=[estimate],
          **jobrun.PRIVATE)
