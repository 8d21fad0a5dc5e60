"""Jobs tab: the backend's history (it lives in SQLite, so it survives restarts and page reloads) as a table,
newest first; clicking a row shows that job's settings, times, cost and outputs; re-run and cancel act on it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from backend.served import library_file
import pandas as pd

from backend.errors import BackendError
from backend.records import IN_FLIGHT, STATUSES
from ui import jobrun, progress, review, roles
from ui import trash as trash_ui
from workflows.catalogue import ACTIONS, load_catalogue

ALL = "all"
COLUMNS = ["when", "job", "status", "queue s", "run s", "cost", "error"]
EMPTY_TEXT = ("No jobs yet. Everything you make in the other tabs (and through the API) appears here, newest "
              "first, and stays after a restart.")
NO_MATCH_TEXT = "No job matches these filters."
NOTHING_PICKED = "*No job selected — click a row in the table above to see its settings and outputs.*"
ERROR_CHARS = 60


@dataclass
class JobsTab:
    refresh: Any                 # callable(*inputs) -> updates for `outputs`
    inputs: list                 # [job filter, status filter, selected job id (kept in the browser)]
    outputs: list
    owner_only: list             # hidden from reviewers


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _short_when(ts: float | None, today: dt.date | None = None) -> str:
    """Time only for today's jobs, date and time for older ones."""
    if not ts:
        return ""
    t = dt.datetime.fromtimestamp(ts)
    return t.strftime("%H:%M:%S") if t.date() == (today or dt.date.today()) else t.strftime("%d %b %H:%M")


def _secs(ms: int | None) -> float | None:
    return round(ms / 1000, 1) if ms is not None else None


def _secs_text(ms: int | None) -> str:
    return f"{ms / 1000:.1f}" if ms is not None else ""


def _cost(usd: float | None) -> str:
    if usd is None:
        return ""
    return f"${usd:.4f}" if usd < 1 else f"${usd:.2f}"


def short_error(err: dict | None, limit: int = ERROR_CHARS) -> str:
    """The error's sentence, cut to fit a table cell."""
    if not err:
        return ""
    text = str(err.get("message") or err.get("code") or "error")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Kinds of history records made by the studio itself rather than by a worker job.
STUDIO_KINDS = {"scene": "Scene", "pages": "Book export"}


def title(action: str) -> str:
    """A job kind as the tabs name it: Portrait, Voice, Talking head, Panel animation, Music, Scene."""
    spec = load_catalogue().get(action)
    return spec.title if spec else STUDIO_KINDS.get(action, action)


def columns(show_cost: bool = True) -> list[str]:
    return COLUMNS if show_cost else [c for c in COLUMNS if c != "cost"]


def row(rec: Any, today: dt.date | None = None, show_cost: bool = True) -> list:
    cells = [_short_when(rec.created_at, today), title(rec.action), status_cell(rec), _secs_text(rec.delay_ms),
             _secs_text(rec.execution_ms), _cost(rec.cost_usd), short_error(rec.error)]
    return cells if show_cost else cells[:5] + cells[6:]


def status_cell(rec: Any) -> str:
    """The status, and while a job runs the step the worker names ("running · sampling 12/25")."""
    label = (getattr(rec, "progress", None) or {}).get("label")
    if rec.status in ("running", "uploading") and isinstance(label, str) and label.strip():
        return f"{rec.status} · {label.strip()[:80]}"
    return rec.status


def table_value(rows: list[list], show_cost: bool = True) -> pd.DataFrame:
    # A DataFrame (not a bare list) so the headers show even when there are no rows yet.
    return pd.DataFrame(rows, columns=columns(show_cost))


def _cell(value: Any) -> str:
    """A value as one Markdown table cell: media paths as their file name, no pipes or line breaks."""
    if isinstance(value, str) and ("/" in value or "\\" in value) and Path(value).suffix:
        value = Path(value).name
    if isinstance(value, bool):
        value = "yes" if value else "no"
    text = str(value).replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= 400 else text[:399] + "…"


# A scene render's settings as the Scenes tab names them (its record holds the renderer's own keys).
SCENE_LABELS = {"scene": "Scene", "script": "Script", "aspect": "Aspect", "resolution": "Resolution (p)",
                "fps": "Frames per second", "burn_subtitles": "Subtitles burned in", "talking_head": "Talking heads",
                "shots": "Shots", "made_by": "Made by", "media": "Media",
                # a page export's (backend/pages/store.py)
                "format": "Export", "page_format": "Page format", "layout": "Layout", "lettering": "Lettering"}
# Kept on the record for the studio's own use (which scene), never a person's reading.
HIDDEN_SETTINGS = {"scene_id"}


def _label(action: str, name: str) -> str:
    try:
        return load_catalogue()[action].param(name).label
    except (KeyError, ValueError, AttributeError):
        return SCENE_LABELS.get(name) or name.replace("_", " ").capitalize()


def _value(studio: Any, name: str, value: Any) -> Any:
    """A setting's value for a person: the jobs that made a scene by kind and time, media as a count."""
    if name == "made_by" and isinstance(value, list):
        recs = [studio.get(j) for j in value] if studio is not None else []
        named = [f"{title(r.action)} {_short_when(r.created_at)}" for r in recs if r is not None]
        return (f"{len(value)} jobs (listed in this table): " + ", ".join(named)) if named else f"{len(value)} jobs"
    if name in ("layout", "lettering") and isinstance(value, dict):
        return f"{len(value)} changed by hand" if value else "automatic"
    if name == "page_format" and isinstance(value, str):
        from backend.pages.model import FORMATS
        return FORMATS[value].label if value in FORMATS else value
    if name == "media" and isinstance(value, list):
        return f"{len(value)} files (panels, speech, clips and music, in this studio's library)"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return value


def describe(rec: Any, show_cost: bool = True, studio: Any = None) -> str:
    """One job in readable form: what, when, how long, how much, seed, licence, error, then its inputs."""
    facts = [("Status", rec.status), ("Created", _when(rec.created_at)), ("Started", _when(rec.started_at)),
             ("Finished", _when(rec.finished_at)),
             ("Waited in queue", f"{_secs(rec.delay_ms)} s" if rec.delay_ms is not None else ""),
             ("Ran for", f"{_secs(rec.execution_ms)} s" if rec.execution_ms is not None else ""),
             ("Cost", _cost(rec.cost_usd) if show_cost else ""), ("Seed", "" if rec.seed is None else rec.seed)]
    lic = rec.licence or {}
    if lic:
        flag = " (non-commercial)" if lic.get("commercial") is False else ""
        facts.append(("Licence", f"{lic.get('name') or 'see model card'}{flag}"))
    if rec.preview:
        facts.append(("Made by", "the preview engine (marked placeholder, no GPU)"))
    shown = [(k, v) for k, v in facts if v not in ("", None)]
    # The first fact doubles as the table's header row (Markdown tables need one).
    lines = [f"### {title(rec.action)} · {rec.status}", f"job `{rec.id}`", "",
             f"| {shown[0][0]} | {_cell(shown[0][1])} |", "|---|---|"]
    lines += [f"| {k} | {_cell(v)} |" for k, v in shown[1:]]
    if rec.error:
        code = rec.error.get("code")
        lines += ["", f"**Error:** {rec.error.get('message') or code}" + (f" (`{code}`)" if code else "")]
    if rec.warnings:
        lines += ["", "**Warnings:** " + "; ".join(str(w) for w in rec.warnings)]
    lines += ["", "**Settings**", "", "| setting | value |", "|---|---|"]
    lines += [f"| {_cell(_label(rec.action, k))} | {_cell(_value(studio, k, v))} |"
              for k, v in (rec.inputs or {}).items() if k not in HIDDEN_SETTINGS]
    return "\n".join(lines)


def download_name(rec: Any) -> str:
    """What a job's downloads are called: the scene's title for a render or a book export, else the kind of job
    and when."""
    if rec.action in ("scene", "pages") and (rec.inputs or {}).get("scene"):
        return str(rec.inputs["scene"])
    return f"{title(rec.action)} {dt.datetime.fromtimestamp(rec.created_at or 0).strftime('%Y-%m-%d %H-%M-%S')}"


def named_downloads(studio: Any, rec: Any, paths: list[str], write: bool = True) -> list[str]:
    """The files under readable names (hard links in the library's downloads folder), not the library's hashes."""
    if studio is None or not paths:
        return paths
    from backend.scenes.make import download_names, existing_download_names
    # Without `write` (a reviewer's page) only links an owner's page already made are shown.
    names = download_names if write else existing_download_names
    try:
        return names(studio, download_name(rec), paths) if len({Path(p).suffix for p in paths}) == \
            len(paths) else [names(studio, f"{download_name(rec)} {n + 1}", [p])[0]
                             for n, p in enumerate(paths)]
    except OSError:
        return paths


def output_updates(rec: Any | None, studio: Any = None) -> tuple:
    """(images, audio, video, downloads) updates: each output previewed by its type, all of them downloadable."""
    if rec is None:
        hidden = gr.update(value=None, visible=False)
        return hidden, hidden, hidden, hidden
    # Only files the library may serve are handed to Gradio (backend/served.py), whatever a record names.
    lib = studio.library.root if studio is not None else None
    images = [p for p in jobrun.outputs_of(rec, "image") if library_file(p, lib)]
    audio = [p for p in jobrun.outputs_of(rec, "audio") if library_file(p, lib)]
    video = [p for p in jobrun.outputs_of(rec, "video") if library_file(p, lib)]
    files = [o["path"] for o in rec.outputs or [] if library_file(o.get("path"), lib)]
    # Named links are made in the downloads folder for owners only: a reviewer's page writes nothing.
    if studio is not None:
        files = named_downloads(studio, rec, files, write=roles.current_role(studio) == roles.OWNER)
    return (gr.update(value=images or None, visible=bool(images)),
            gr.update(value=audio[0] if audio else None, visible=bool(audio)),
            gr.update(value=video[0] if video else None, visible=bool(video)),
            gr.update(value=files or None, visible=bool(files)))


def build(studio: Any) -> JobsTab:
    show_cost = studio.mode != "preview"     # preview jobs run on no paid GPU: no cost column at all
    widths = ["13%", "14%", "10%", "8%", "8%", "9%", "38%"] if show_cost else ["13%", "14%", "10%", "8%", "8%", "47%"]
    gr.Markdown("Every job from every tab, newest first. **Click a row** to see its settings and outputs; "
                "the table updates by itself while jobs run.")
    with gr.Row():
        action = gr.Dropdown([("all kinds", ALL), *((title(a), a) for a in (*ACTIONS, *STUDIO_KINDS))], value=ALL,
                             label="Show jobs of kind", elem_id="jobs-action", scale=3)
        status = gr.Dropdown([ALL, *STATUSES, review.NEEDS_CHANGES], value=ALL, label="Status", elem_id="jobs-status", scale=3)
        with gr.Column(scale=1, min_width=120):
            refresh = gr.Button("Refresh now", elem_id="jobs-refresh", size="sm")
    empty = gr.Markdown(EMPTY_TEXT, elem_id="jobs-empty")
    table = gr.Dataframe(value=table_value([], show_cost), headers=columns(show_cost), interactive=False, wrap=True,
                         max_height=360, elem_id="jobs-table", column_widths=widths,
                         elem_classes=["read-only-table"])
    ids = gr.State([])                       # the job id of each table row, in order
    shown = gr.State(None)                   # (rows, selected record's state) last sent, to skip no-op refreshes
    # The picked job is kept in the browser, so a page reload shows the same job again.
    selected = gr.BrowserState(None, storage_key="studio-jobs-selected")

    heading = gr.Markdown(NOTHING_PICKED, elem_id="jobs-selected")
    with gr.Row() as job_actions:
        rerun = gr.Button("Re-run with the same settings", elem_id="jobs-rerun", interactive=False)
        cancel = gr.Button("Cancel this job", variant="stop", elem_id="jobs-cancel", interactive=False)
        remove = gr.Button("Delete outputs", elem_id="jobs-delete", interactive=False)
    note = gr.HTML("", elem_id="jobs-note")
    with gr.Row():
        with gr.Column(scale=1):
            info = gr.Markdown("", elem_id="jobs-details")
        with gr.Column(scale=1):
            images = gr.Gallery(label="Images", visible=False, columns=2, height=420, object_fit="contain",
                                interactive=False, elem_id="jobs-images")
            audio = gr.Audio(label="Audio", visible=False, interactive=False, type="filepath", elem_id="jobs-audio")
            video = gr.Video(label="Video", visible=False, interactive=False, elem_id="jobs-video")
            files = gr.File(label="Downloads", visible=False, file_count="multiple", interactive=False,
                            elem_id="jobs-files")
    review.build(studio, selected)
    detail_outputs = [heading, info, images, audio, video, files, rerun, cancel, remove]
    armed = gr.State(None)

    def details(job_id: str | None) -> tuple:
        rec = studio.get(job_id) if job_id else None
        if rec is None:
            return (NOTHING_PICKED, "", *output_updates(None), gr.update(interactive=False),
                    gr.update(interactive=False), gr.update(interactive=False))
        head = f"**Selected:** {title(rec.action)} job from {_when(rec.created_at)} — {rec.status}"
        body = describe(rec, show_cost, studio)
        if rec.status == "completed" and rec.licence:
            body += "\n\n" + progress.licence_note(rec.licence)
        # A scene render or a page export is made again from the Scenes tab, not re-sent from here (the button
        # would only answer with a refusal).
        return (head, body, *output_updates(rec, studio), gr.update(interactive=rec.action not in ("scene", "pages")),
                gr.update(interactive=rec.status in IN_FLIGHT),
                gr.update(interactive=bool(rec.outputs) and rec.status not in IN_FLIGHT, value="Delete outputs",
                          variant="secondary"))

    def snapshot(a: str, s: str, job_id: str | None) -> tuple[list, list, Any]:
        if s == review.NEEDS_CHANGES:
            flagged = {t for t, v in studio.verdicts().items() if v == "needs_changes"}
            recs = [r for r in studio.history(action=None if a == ALL else a) if r.id in flagged]
        else:
            recs = studio.history(action=None if a == ALL else a, status=None if s == ALL else s)
        picked = studio.get(job_id) if job_id else None
        key = (picked.id, picked.status, picked.finished_at, len(picked.outputs or [])) if picked else None
        return [row(r, show_cost=show_cost) for r in recs], [r.id for r in recs], key

    def empty_text(rows: list, a: str, s: str) -> str:
        if rows:
            return ""
        return EMPTY_TEXT if (a, s) == (ALL, ALL) else NO_MATCH_TEXT

    @roles.reader
    def do_refresh(a: str, s: str, job_id: str | None = None):
        rows, row_ids, key = snapshot(a, s, job_id)
        return (table_value(rows, show_cost), row_ids, (rows, key), empty_text(rows, a, s), *details(job_id))

    @roles.reader
    def tick(a: str, s: str, job_id: str | None, last: Any):
        """Timer: send only what changed, so a person reading the details is not interrupted."""
        rows, row_ids, key = snapshot(a, s, job_id)
        last_rows, last_key = last if last else (None, None)
        table_part = ((table_value(rows, show_cost), row_ids, empty_text(rows, a, s)) if rows != last_rows
                      else (gr.skip(), gr.skip(), gr.skip()))
        detail_part = details(job_id) if key != last_key else tuple(gr.skip() for _ in detail_outputs)
        return (table_part[0], table_part[1], (rows, key), table_part[2], *detail_part)

    @roles.reader
    def on_select(evt: gr.SelectData, row_ids: list[str]):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        job_id = row_ids[index] if row_ids and index is not None and 0 <= index < len(row_ids) else None
        return (job_id, "", *details(job_id), None)

    @roles.owner_only("re-run jobs")
    def do_rerun(job_id: str | None):
        """Send the job again and select the new one: its details below follow it until it ends."""
        if not job_id:
            return progress.render_problem("Click a job in the table first."), gr.skip()
        roles.require_owner(studio, "re-run jobs")
        try:
            rec = studio.rerun(job_id)
        except BackendError as err:
            return progress.render_problem(err.message), gr.skip()
        note_text = ("Re-run sent as a new job — it is selected now (top of the table); its status below "
                     "updates by itself.")
        return f'<div class="job-status" data-kind="rerun">{note_text}</div>', rec.id

    @roles.owner_only("cancel jobs")
    def do_cancel(job_id: str | None):
        rec = studio.get(job_id) if job_id else None
        if rec is None:
            return progress.render_problem("Click a job in the table first.")
        if rec.status not in IN_FLIGHT:
            return progress.render_problem(f"This job is already {rec.status}; only queued or running jobs can "
                                           "be cancelled.")
        roles.require_owner(studio, "cancel jobs")
        try:
            rec = studio.cancel(job_id)
        except BackendError as err:
            return progress.render_problem(err.message)
        return progress.render_event(rec.status, "Cancel sent to the endpoint.", job_id=rec.id)

    # Delete outputs asks once (a second click) and moves the files to the trash (Undo, or Jobs → Trash).
    def outputs_what(job_id):
        rec = studio.get(job_id) if job_id else None
        return "the outputs of this job" if rec is not None and rec.outputs else None

    def do_remove(job_id):
        item = trash_ui.T.discard(studio, "outputs", job_id)
        return (trash_ui.moved_html(item).replace("Outputs of job", "The outputs of"), *details(job_id))

    remove.click(trash_ui.two_step(studio, "Delete outputs", "delete outputs", outputs_what, do_remove,
                                   len(detail_outputs)),
                 inputs=[selected, armed], outputs=[armed, remove, note, *detail_outputs], **jobrun.PRIVATE)

    inputs = [action, status, selected]
    outputs = [table, ids, shown, empty, *detail_outputs]
    # Jobs in flight change state on their own: look every few seconds while the page is open.
    timer = gr.Timer(3.0)
    timer.tick(tick, inputs=[*inputs, shown], outputs=outputs, show_progress="hidden", **jobrun.PRIVATE)
    gr.on([refresh.click, action.change, status.change], do_refresh, inputs=inputs, outputs=outputs,
          show_progress="hidden", **jobrun.PRIVATE)
    table.select(on_select, inputs=[ids], outputs=[selected, note, *detail_outputs, armed], **jobrun.PRIVATE)
    rerun.click(do_rerun, inputs=[selected], outputs=[note, selected], **jobrun.PRIVATE).then(
        do_refresh, inputs=inputs, outputs=outputs, **jobrun.PRIVATE)
    cancel.click(do_cancel, inputs=[selected], outputs=[note], **jobrun.PRIVATE).then(
        do_refresh, inputs=inputs, outputs=outputs, **jobrun.PRIVATE)
    return JobsTab(refresh=do_refresh, inputs=inputs, outputs=outputs, owner_only=[job_actions])
