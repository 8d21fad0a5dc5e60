"""Jobs tab: the backend's history (it lives in SQLite, so it survives restarts and page reloads) with filters,
each job's inputs, status, times, cost, outputs and error; re-run and cancel."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import gradio as gr

from backend.errors import BackendError
from backend.records import IN_FLIGHT, STATUSES
from ui import jobrun, progress
from workflows.catalogue import ACTIONS

ALL = "all"
COLUMNS = ["id", "job", "status", "created", "queue s", "run s", "cost $", "outputs", "error"]


@dataclass
class JobsTab:
    refresh: Any                 # callable(action, status) -> updates for `outputs`
    inputs: list                 # [action filter, status filter]
    outputs: list


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _secs(ms: int | None) -> float | None:
    return round(ms / 1000, 1) if ms is not None else None


def row(rec: Any) -> list:
    err = rec.error or {}
    return [rec.id, rec.action, rec.status, _when(rec.created_at), _secs(rec.delay_ms), _secs(rec.execution_ms),
            round(rec.cost_usd, 4) if rec.cost_usd is not None else None, len(rec.outputs or []),
            f"{err.get('code', '')}: {err.get('message', '')}" if err else ""]


def details(rec: Any) -> dict:
    """What a person checks about one job (no secrets exist in a record to begin with)."""
    return {"id": rec.id, "job": rec.action, "status": rec.status, "inputs": rec.inputs,
            "created": _when(rec.created_at), "started": _when(rec.started_at), "finished": _when(rec.finished_at),
            "queue_s": _secs(rec.delay_ms), "run_s": _secs(rec.execution_ms), "cost_usd": rec.cost_usd,
            "seed": rec.seed, "outputs": rec.outputs, "error": rec.error, "warnings": rec.warnings,
            "licence": rec.licence, "preview": rec.preview}


def build(studio: Any) -> JobsTab:
    with gr.Row():
        action = gr.Dropdown([ALL, *ACTIONS], value=ALL, label="Job", elem_id="jobs-action")
        status = gr.Dropdown([ALL, *STATUSES], value=ALL, label="Status", elem_id="jobs-status")
        refresh = gr.Button("Refresh", elem_id="jobs-refresh")
    table = gr.Dataframe(headers=COLUMNS, value=[], interactive=False, wrap=True, elem_id="jobs-table")
    with gr.Row():
        picked = gr.Dropdown(choices=[], label="Job", elem_id="jobs-picked", info="Pick a job to see its details")
        rerun = gr.Button("Re-run with the same settings", elem_id="jobs-rerun")
        cancel = gr.Button("Cancel", variant="stop", elem_id="jobs-cancel")
    note = gr.HTML("", elem_id="jobs-note")
    with gr.Row():
        info = gr.JSON(label="Details", elem_id="jobs-details")
        files = gr.File(label="Outputs", file_count="multiple", interactive=False, elem_id="jobs-files")

    def do_refresh(a: str, s: str):
        recs = studio.history(action=None if a == ALL else a, status=None if s == ALL else s)
        ids = [r.id for r in recs]
        return [row(r) for r in recs], gr.update(choices=ids)

    def show(job_id: str | None):
        rec = studio.get(job_id) if job_id else None
        if rec is None:
            return None, None, ""
        paths = [o["path"] for o in rec.outputs if o.get("path")]
        return details(rec), paths or None, progress.licence_note(rec.licence) if rec.status == "completed" else ""

    def do_rerun(job_id: str | None):
        if not job_id:
            return progress.render_problem("Pick a job first.")
        try:
            rec = studio.rerun(job_id)
        except BackendError as err:
            return progress.render_problem(err.message)
        return progress.render_event(rec.status, f"Re-run of {job_id} sent as a new job.", job_id=rec.id)

    def do_cancel(job_id: str | None):
        rec = studio.get(job_id) if job_id else None
        if rec is None:
            return progress.render_problem("Pick a job first.")
        if rec.status not in IN_FLIGHT:
            return progress.render_problem(f"Job {job_id} is already {rec.status}; only running jobs can be cancelled.")
        try:
            rec = studio.cancel(job_id)
        except BackendError as err:
            return progress.render_problem(err.message)
        return progress.render_event(rec.status, "Cancel sent to the endpoint.", job_id=rec.id)

    # Jobs in flight change state on their own: refresh the table every few seconds while the page is open.
    timer = gr.Timer(3.0)
    timer.tick(lambda a, s: do_refresh(a, s)[0], inputs=[action, status], outputs=[table], show_progress="hidden",
               **jobrun.PRIVATE)
    gr.on([refresh.click, action.change, status.change], do_refresh, inputs=[action, status],
          outputs=[table, picked], **jobrun.PRIVATE)
    picked.change(show, inputs=[picked], outputs=[info, files, note], **jobrun.PRIVATE)
    rerun.click(do_rerun, inputs=[picked], outputs=[note], **jobrun.PRIVATE).then(
        do_refresh, inputs=[action, status], outputs=[table, picked], **jobrun.PRIVATE)
    cancel.click(do_cancel, inputs=[picked], outputs=[note], **jobrun.PRIVATE).then(
        do_refresh, inputs=[action, status], outputs=[table, picked], **jobrun.PRIVATE)
    return JobsTab(refresh=do_refresh, inputs=[action, status], outputs=[table, picked])
