"""The run / stream / cancel wiring every job tab shares: validate at the fields, submit, stream events, cancel."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from backend.errors import BackendError
from ui import params as P
from ui import progress, roles
from workflows.catalogue import JobSpec

# UI events are not API endpoints: the named API (ui/api.py) is the stable surface for clients and MCP.
PRIVATE = {"api_visibility": "private"}


@dataclass
class RunControls:
    """The status area, the Run/Cancel buttons and the id of the job this tab is following."""
    status: gr.HTML
    run: gr.Button
    cancel: gr.Button
    job_id: gr.State


def controls(prefix: str, run_label: str) -> RunControls:
    """Run (primary, wide) and Cancel (secondary, only clickable while a job of this tab runs), then the status."""
    with gr.Row(elem_classes=["run-row"]):
        run = gr.Button(run_label, variant="primary", elem_id=f"{prefix}-run", scale=3)
        cancel = gr.Button("Cancel", variant="secondary", elem_id=f"{prefix}-cancel", interactive=False, scale=1,
                           min_width=90)
    status = gr.HTML("", elem_id=f"{prefix}-status")
    return RunControls(status=status, run=run, cancel=cancel, job_id=gr.State(None))


def reveal_js(result_id: str, status_id: str) -> str:
    """Browser code run when a job's event ends: bring the result into view (or the status, when the job did not
    complete) unless it is already wholly visible, so on a phone or a short screen nobody hunts for it."""
    return f"""() => {{
      const status = document.getElementById({status_id!r});
      const done = status && status.querySelector('[data-kind=completed]');
      const el = document.getElementById(done ? {result_id!r} : {status_id!r});
      if (!el) return;
      const r = el.getBoundingClientRect();
      if (r.top >= 0 && r.bottom <= window.innerHeight) return;
      el.scrollIntoView({{behavior: 'instant', block: r.height < window.innerHeight ? 'center' : 'start'}});
    }}"""


BUSY = {"interactive": True}
IDLE = {"interactive": False}


def outputs_of(record: Any, kind: str) -> list[str]:
    """Local paths of a finished record's outputs of one type (image/audio/video)."""
    return [o["path"] for o in (getattr(record, "outputs", None) or []) if o.get("type") == kind and o.get("path")]


def stream(studio: Any, spec: JobSpec, inputs: dict[str, Any], stage: str | None = None
           ) -> Iterator[tuple[str, Any, bool]]:
    """Submit a validated job and yield (status_html, record, finished) until it ends."""
    roles.require_owner(studio)
    try:
        rec = studio.submit(spec.action, inputs)
    except BackendError as err:  # refused before a job existed (bad input, endpoint unreachable...)
        yield progress.render_problem(err.message), None, True
        return
    yield from progress.follow(studio, rec, stage=stage)


def wire_cancel(studio: Any, rc: RunControls) -> None:
    @roles.owner_only("cancel jobs")
    def cancel(job_id: str | None) -> str:
        if not job_id:
            return progress.render_problem("No job is running in this tab.")
        roles.require_owner(studio, "cancel jobs")
        rec = studio.cancel(job_id)
        status = getattr(rec, "status", "cancelled") if rec is not None else "cancelled"
        return progress.render_event("cancelled" if status == "cancelled" else status,
                                     "Cancel requested; the endpoint is stopping the job.", job_id=job_id)

    rc.cancel.click(cancel, inputs=[rc.job_id], outputs=[rc.status], queue=False, **PRIVATE)


def wire_job(studio: Any, spec: JobSpec, rc: RunControls, fields: dict[str, gr.components.Component],
             result: Callable[[Any], dict], result_outputs: Sequence[gr.components.Component],
             extra_inputs: dict[str, gr.components.Component] | None = None,
             prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
             extra_check: Callable[[dict[str, Any]], dict[str, str]] | None = None) -> Any:
    """Run button → validator at the fields → submit → stream status → `result(record)` fills the outputs.

    `prepare(values)` turns form values (fields + extra_inputs) into the job's raw input; `extra_check(values)`
    returns {input name: message} for checks the catalogue cannot make (audio length, image size...)."""
    names = list(fields) + list(extra_inputs or {})
    comps = list(fields.values()) + list((extra_inputs or {}).values())
    prepare = prepare or (lambda v: {k: v[k] for k in fields})
    # Messages name fields as the page labels them: the catalogue's labels, and each extra input's own label.
    labels = {**P.labels_of(spec), **{n: c.label for n, c in zip(names, comps) if getattr(c, "label", None)}}

    def problems(values: dict[str, Any]) -> tuple[dict | None, dict[str, str]]:
        extra = extra_check(values) if extra_check else {}
        if extra:
            return None, {k: P.relabel(v, labels) for k, v in extra.items()}
        try:
            raw = prepare(values)
        except ValueError as err:  # e.g. a trim range that makes no sense ("trim_end: ...")
            text = str(err)
            field = text.split(":", 1)[0]
            return None, {field if field in names else names[0]: P.relabel(text, labels)}
        validated, err = P.check(spec, raw)
        if err is not None:
            return None, {err.field if err.field in names else names[0]: P.relabel(err.message, labels)}
        # Said at the field before anything is sent: an output RunPod could not return (no bucket set).
        too_big = getattr(studio, "inline_problem", lambda *_: None)(spec.action, validated)
        if too_big is not None:
            field, message = too_big
            return None, {field if field in names else names[0]: P.relabel(message, labels)}
        return validated, {}

    def validator(*vals: Any) -> list[dict]:
        _, probs = problems(dict(zip(names, vals)))
        return P.field_messages(names, None, probs)

    @roles.owner_only("run jobs")
    def run(*vals: Any) -> Iterator[dict]:
        validated, probs = problems(dict(zip(names, vals)))
        if probs:
            yield {rc.status: progress.render_problem("; ".join(probs.values()))}
            return
        for html, rec, done in stream(studio, spec, validated):
            update = {rc.status: html, rc.job_id: getattr(rec, "id", None),
                      rc.cancel: gr.update(**(IDLE if done else BUSY))}
            if done and rec is not None:
                update.update(result(rec))
            yield update

    ev = rc.run.click(run, inputs=comps, outputs=[rc.status, rc.job_id, rc.cancel, *result_outputs],
                      validator=validator, concurrency_limit=None, **PRIVATE)
    if result_outputs and result_outputs[0].elem_id and rc.status.elem_id:
        ev.then(None, js=reveal_js(result_outputs[0].elem_id, rc.status.elem_id), **PRIVATE)
    wire_cancel(studio, rc)
    return ev
