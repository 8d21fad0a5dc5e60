"""Rendering a job's events (backend JobEvent) as the status a person sees while a job runs.

Pure functions: they take an event (or its parts) and return HTML, so every tab renders state the same way.
"""
from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

TERMINAL = {"completed", "failed", "cancelled", "timed_out", "expired", "unknown"}

# Headline per event kind; the backend's sentence (ev.message) follows it.
_HEADLINES = {
    "submitted": "Submitted",
    "queued": "Queued",
    "running": "Running",
    "uploading": "Uploading results",
    "completed": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "timed_out": "Timed out",
    "expired": "Expired",
    "unknown": "Lost track of the job",
}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def progress_bar(progress: dict | None) -> str:
    """A progress bar (HTML) for {"step","steps","percent"}; empty when nothing is measurable yet."""
    if not progress:
        return ""
    step, steps, percent = _get(progress, "step"), _get(progress, "steps"), _get(progress, "percent")
    if steps:
        value, maximum = step or 0, steps
        label = f"step {value} of {maximum}"
    elif percent is not None:
        value, maximum = percent, 100
        label = f"{percent:.0f}%"
    else:
        return ""
    fraction = max(0.0, min(1.0, float(value) / float(maximum))) if maximum else 0.0
    # A drawn bar, not <progress>: its look differs per browser and theme (an empty one could look full).
    return (f'<div class="job-bar" role="progressbar" aria-valuemin="0" aria-valuemax="{maximum}" '
            f'aria-valuenow="{value}" aria-label="{html.escape(label)}" style="height:10px;margin-top:6px;'
            f'border-radius:5px;background:rgba(128,128,128,0.25);overflow:hidden">'
            f'<div class="job-bar-fill" style="height:100%;width:{fraction * 100:.1f}%;'
            f'background:var(--color-accent, #f97316)"></div></div>')


def licence_note(licence: dict | None) -> str:
    """A visible note for outputs of weights with a licence (non-commercial ones are flagged)."""
    if not licence:
        return ""
    name = html.escape(str(_get(licence, "name") or "see model card"))
    note = html.escape(str(_get(licence, "note") or ""))
    flag = "Non-commercial use only. " if _get(licence, "commercial") is False else ""
    return f'<div class="licence-note">⚖ Licence: {name}. {flag}{note}</div>'


def render_event(kind: str, message: str | None, progress: dict | None = None, *,
                 job_id: str | None = None, licence: dict | None = None, error: dict | None = None,
                 stage: str | None = None) -> str:
    """The status block for one event: headline, the backend's sentence, a bar while running, licence when done."""
    headline = _HEADLINES.get(kind, kind.replace("_", " ").capitalize())
    if stage:
        headline = f"{stage}: {headline}"
    parts = [f'<div class="job-status" data-kind="{html.escape(kind)}">',
             f"<strong>{html.escape(headline)}</strong>"]
    if message:
        parts.append(f" — {html.escape(message)}")
    if kind == "running":
        parts.append(progress_bar(progress))
    if error and kind in TERMINAL and kind != "completed":
        code, text = _get(error, "code"), _get(error, "message")
        parts.append(f'<div class="job-error">{html.escape(str(code or "error"))}: {html.escape(str(text or ""))}</div>')
    if job_id:
        parts.append(f'<div class="job-id">job {html.escape(job_id)}</div>')
    if kind == "completed":
        parts.append(licence_note(licence))
    parts.append("</div>")
    return "".join(parts)


def render(ev: Any, stage: str | None = None) -> str:
    """render_event for a backend JobEvent."""
    rec = _get(ev, "record")
    return render_event(_get(ev, "kind"), _get(ev, "message"), _get(ev, "progress"),
                        job_id=_get(rec, "id"), licence=_get(rec, "licence"), error=_get(rec, "error"), stage=stage)


def render_problem(message: str) -> str:
    """A status block for input the studio refused before sending anything."""
    return f'<div class="job-status" data-kind="invalid"><strong>Not sent</strong> — {html.escape(message)}</div>'


def follow(studio: Any, record: Any, stage: str | None = None) -> Iterator[tuple[str, Any, bool]]:
    """Yield (status_html, record, finished) for every event of a job until its terminal event."""
    yield render_event("submitted", "Sent to the endpoint", job_id=record.id, stage=stage), record, False
    last = record
    for ev in studio.watch(record.id):
        last = _get(ev, "record") or last
        done = _get(ev, "kind") in TERMINAL
        yield render(ev, stage), last, done
        if done:
            return
