"""Endpoint tab: mode, workers by state, queue, per-job readiness (missing models with sizes), warm-up, and a
monthly cost estimate from the history's real run times."""
from __future__ import annotations

import dataclasses
from typing import Any

import gradio as gr

from backend.errors import BackendError
from ui import jobrun
from workflows.catalogue import ACTIONS

MODE_TEXT = {
    "preview": "Preview: no RunPod credentials, so jobs run on a local endpoint with the preview engine, which "
               "renders marked placeholder media (no GPU, no models).",
    "local": "Local: RUNPOD_API_BASE points at a local endpoint (python -m worker serve).",
    "runpod": "RunPod: jobs run on your RunPod Serverless endpoint.",
}


def as_dict(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


def _gb(size: int | None) -> str:
    return f"{(size or 0) / 1e9:.2f} GB"


def readiness_rows(ready: dict) -> list[list]:
    """One row per job: ready or the missing model files with their sizes."""
    rows = []
    for action, info in (ready.get("jobs") or {}).items():
        missing = info.get("missing") or []
        what = "; ".join(f"{m.get('path')} ({_gb(m.get('size'))})" for m in missing)
        rows.append([action, "ready" if info.get("ready") else "missing models", what])
    return rows


def monthly_estimate(studio: Any, jobs_per_month: float) -> str:
    """US$ per month if each job type runs `jobs_per_month` times at its average measured run time."""
    price = studio.settings.gpu_price_per_second
    lines, total = [], 0.0
    for action in ACTIONS:
        runs = [r.execution_ms for r in studio.history(action=action, status="completed") if r.execution_ms]
        if not runs:
            lines.append(f"| {action} | no finished runs yet | – |")
            continue
        avg_s = sum(runs) / len(runs) / 1000
        cost = avg_s * price * jobs_per_month
        total += cost
        lines.append(f"| {action} | {avg_s:.1f} s | ${cost:.2f} |")
    head = (f"GPU price: ${price:.5f}/s (GPU_PRICE_PER_SECOND). Active/idle worker time is billed separately.\n\n"
            "| job | average run | per month |\n|---|---|---|\n")
    return head + "\n".join(lines) + f"\n\n**Estimated total: ${total:.2f} / month**"


def build(studio: Any) -> None:
    gr.Markdown(f"**Mode:** {MODE_TEXT.get(studio.mode, studio.mode)}", elem_id="endpoint-mode")
    with gr.Row():
        check = gr.Button("Check endpoint", elem_id="endpoint-check")
        warm = gr.Button("Warm up a worker", elem_id="endpoint-warm")
    note = gr.Markdown("", elem_id="endpoint-note")
    workers = gr.JSON(label="Workers and queue", elem_id="endpoint-workers")
    table = gr.Dataframe(headers=["job", "readiness", "missing models"], value=[], interactive=False,
                         elem_id="endpoint-readiness")
    with gr.Row():
        per_month = gr.Number(label="Jobs of each kind per month", value=100, minimum=0, elem_id="endpoint-jobs")
        estimate_btn = gr.Button("Estimate monthly cost", elem_id="endpoint-estimate")
    estimate = gr.Markdown("", elem_id="endpoint-cost")

    def do_check():
        try:
            result = studio.readiness()
        except BackendError as err:
            return f"⚠ {err.message}", None, []
        ready = as_dict(result)
        summary = {k: v for k, v in ready.items() if k != "jobs"}
        return getattr(result, "summary", "Endpoint checked."), summary, readiness_rows(ready)

    def do_warm():
        try:
            msg = studio.warm_up()
        except BackendError as err:
            return f"⚠ {err.message}"
        return str(msg or "Warm-up requested.")

    check.click(do_check, outputs=[note, workers, table], **jobrun.PRIVATE)
    warm.click(do_warm, outputs=[note], **jobrun.PRIVATE)
    estimate_btn.click(lambda n: monthly_estimate(studio, float(n or 0)), inputs=[per_month], outputs=[estimate],
                       **jobrun.PRIVATE)
