"""The Pages view of a scene (inside the Scenes tab): its pages as lettered pictures, the page format, a template
per page, a shot moved to another page, each balloon's text, kind and placement (or back to automatic), and the
exports as downloads.

Edits are stored on the scene (`settings["pages"]`, see backend/pages/store.py) and re-letter the page; nothing
here starts a job. Reviewers see the pages and may download exports; the edit controls are for owners. A
reviewer's pages and exports are written outside the data folder, into a folder that is pruned (`destination`):
an owner's are library files, and an owner's export is a "pages" job.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import gradio as gr

from backend.errors import BackendError
from backend.pages import store
from backend.pages.model import FORMATS
from ui import exchange, roles
from ui.jobrun import PRIVATE

EXPORTS = (("PDF (print)", "pdf"), ("CBZ", "cbz"), ("EPUB", "epub"), ("Webtoon", "webtoon"))


def destination(studio: Any) -> Path | None:
    """Where the caller's pages and exports go: None (the library, recorded) for an owner; for anyone else a fresh
    transient folder in Gradio's cache, served from there and deleted 15 minutes later (ui/exchange.py)."""
    return None if roles.current_role(studio) == roles.OWNER else exchange.transient_folder("pages-")


def _note(kind: str, text: str) -> str:
    return f'<div class="job-status" data-kind="{kind}"><strong>{html.escape(text)}</strong></div>'


def balloon_key(page: dict[str, Any], k: int) -> dict[str, Any]:
    """The lettering override's address of balloon k of a page (as the JSON model lists it)."""
    b = page["balloons"][k]
    if b["kind"] == "caption" and b["line_index"] is None:
        return {"shot": b["shot_index"], "item": "caption", "index": 0}
    if b["kind"] == "sfx" and b["line_index"] is None:
        same = [x for x in page["balloons"][:k] if x["kind"] == "sfx" and x["shot_index"] == b["shot_index"]]
        return {"shot": b["shot_index"], "item": "sfx", "index": len(same)}
    return {"shot": b["shot_index"], "item": "line", "index": b["line_index"] or 0}


def balloon_choices(model: dict[str, Any] | None) -> list[tuple[str, str]]:
    out = []
    for page in (model or {}).get("pages", []):
        for k, b in enumerate(page["balloons"]):
            who = f"{b['character']}: " if b.get("character") else ""
            out.append((f"page {page['number']} · {b['kind']} · {who}{b['text'][:40]}", f"{page['number']}:{k}"))
    return out


def _noted(kind: str, text: str, notes: list[str] | tuple[str, ...] = ()) -> str:
    """A status line, and its notes (one per panel, say) as a list under it rather than one run-on bold line."""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    more = f'<ul style="margin: 4px 0 0 1.2em; font-size: 0.9em">{items}</ul>' if items else ""
    return _note(kind, text).replace("</strong></div>", f"</strong>{more}</div>")


# Gradio's thumbnails are squares inside a fixed-height box: a tall page was cut off below its first panel on a
# desktop and shrunk to a stamp on a phone. Pages get a page-shaped frame, the box grows with them, one a row on
# a phone.
CSS = """
#pages-gallery .grid-wrap { height: auto !important; max-height: none !important; overflow-y: visible !important; }
#pages-gallery .grid-container { grid-auto-rows: auto !important; grid-template-rows: none !important; }
#pages-gallery .thumbnail-item { aspect-ratio: 2 / 3 !important; height: auto !important; max-width: 560px;
  margin: 0 auto; }
#pages-gallery .thumbnail-item img { object-fit: contain; }
@media (max-width: 640px) { #pages-gallery .grid-container { grid-template-columns: minmax(0, 1fr) !important; } }
"""


def build(studio: Any, scene_id: gr.State) -> None:
    """The Pages view for the scene whose id `scene_id` holds (call inside the Scenes tab)."""
    with gr.Accordion("Pages: the scene as a lettered comic", open=False, elem_id="pages-view"):
        with gr.Row():
            fmt = gr.Dropdown([(f.label, f.name) for f in FORMATS.values()], value=store.DEFAULT_FORMAT,
                              label="Page format", elem_id="pages-format", scale=2,
                              min_width=250)      # on a phone the button goes under it, not the name under the arrow
            show = gr.Button("Show pages", variant="primary", elem_id="pages-show", scale=0, min_width=110)
        status = gr.HTML("", elem_id="pages-status")
        gallery = gr.Gallery(label="Pages", columns=2, object_fit="contain", preview=False,
                             elem_id="pages-gallery", interactive=False)
        with gr.Group(visible=False, elem_id="pages-edit") as edit:
            with gr.Row():
                page_no = gr.Dropdown([], value=None, label="Page", elem_id="pages-page", scale=1)
                template = gr.Dropdown([], value=None, label="Template", elem_id="pages-template", scale=2)
                set_template = gr.Button("Use this template", elem_id="pages-template-apply", scale=0,
                                         min_width=110)
            with gr.Row():
                # Gradio 6 shows an empty Number as 0, which its minimum then marks red before anyone typed: start at 1.
                move_shot = gr.Number(1, precision=0, minimum=1, label="Move shot (its number on the board)",
                                      elem_id="pages-move-shot", scale=2)
                move_page = gr.Number(1, precision=0, minimum=1, label="to page (one past the last: a new page)",
                                      elem_id="pages-move-page", scale=2)
                move_panel = gr.Textbox("", label="as panel (empty: the page's last)", max_lines=1,
                                        placeholder="last", elem_id="pages-move-panel", scale=1)
                move = gr.Button("Move", elem_id="pages-move-apply", scale=0, min_width=80)
            balloon = gr.Dropdown([], value=None, label="Balloon", elem_id="pages-balloon")
            with gr.Row():
                text = gr.Textbox(label="Text (*emphasis* in bold italic)", elem_id="pages-balloon-text",
                                  max_length=2000, scale=3)
                kind = gr.Dropdown(["speech", "thought", "whisper", "shout", "radio", "caption", "sfx"],
                                   value=None, label="Kind", elem_id="pages-balloon-kind", scale=1)
                place = gr.Dropdown([], value=None, label="Placement", elem_id="pages-balloon-place", scale=1)
            with gr.Row():
                apply = gr.Button("Apply to this balloon", elem_id="pages-balloon-apply")
                reset = gr.Button("Back to automatic", elem_id="pages-balloon-reset", size="sm")
        with gr.Row():
            buttons = [gr.Button(label, elem_id=f"pages-export-{key}", size="sm") for label, key in EXPORTS]
        download = gr.File(label="Export", interactive=False, elem_id="pages-download", visible=False)
        model = gr.State(None)

    def record(sid: str | None) -> Any:
        rec = studio.scenes.get(sid) if sid else None
        if rec is None:
            raise BackendError("Save the scene first (Save, above), then show its pages.")
        return rec

    def refresh(sid: str | None, fmt_name: str | None, note: str = "") -> tuple:
        owner = roles.current_role(studio) == roles.OWNER
        try:
            rec = record(sid)
            if fmt_name and fmt_name != store.page_settings(rec)["format"]:
                if owner:
                    rec = store.save_page_settings(studio, rec, format=fmt_name)
            paths, data, warnings = store.page_images(studio, rec, fmt_name or None, into=destination(studio))
        except BackendError as err:
            return (_note("invalid", err.message), gr.update(), None, gr.update(visible=False),
                    *(gr.update() for _ in view_out[4:]))
        pages = data["pages"]
        told = note or f"{len(pages)} page{'s' if len(pages) != 1 else ''}, " \
            f"{sum(len(p['balloons']) for p in pages)} balloons."
        return (_noted("completed", told, warnings), [(p, f"Page {i}") for i, p in enumerate(paths, 1)], data,
                gr.update(visible=owner), gr.update(choices=[(f"Page {p['number']}", p["number"]) for p in pages],
                                                    value=None),
                gr.update(choices=balloon_choices(data), value=None), gr.update(value=fmt_name),
                gr.update(value=""), gr.update(value=None), gr.update(choices=[], value=None))

    view_out = [status, gallery, model, edit, page_no, balloon, fmt, text, kind, place]
    show.click(roles.reader(lambda sid, f: refresh(sid, f)), inputs=[scene_id, fmt], outputs=view_out, **PRIVATE)
    fmt.input(roles.reader(lambda sid, f: refresh(sid, f)), inputs=[scene_id, fmt], outputs=view_out, **PRIVATE)

    @roles.reader
    def on_scene(sid):
        rec = studio.scenes.get(sid) if sid else None
        return gr.update(value=store.page_settings(rec)["format"] if rec else store.DEFAULT_FORMAT)

    scene_id.change(on_scene, inputs=[scene_id], outputs=[fmt], **PRIVATE)

    @roles.reader
    def on_page(data, n):
        if not data or not n:
            return gr.update(choices=[], value=None)
        from backend.pages.layout import templates_for
        page = data["pages"][int(n) - 1]
        names = templates_for(len(page["panels"]), FORMATS[data["format"]])
        return gr.update(choices=list(names), value=page["template"])

    page_no.input(on_page, inputs=[model, page_no], outputs=[template], **PRIVATE)

    def edit_pages(sid, f, change, done: str) -> tuple:
        roles.require_owner(studio, "edit pages")
        try:
            rec = record(sid)
            p = store.page_settings(rec)
            store.save_page_settings(studio, rec, **change(p))
        except BackendError as err:
            return (_note("invalid", f"Not changed — {err.message}"), *(gr.update() for _ in view_out[1:]))
        return refresh(sid, f, done)

    def on_template(sid, f, n, name):
        if not n or not name:
            return (_note("invalid", "Pick a page and a template."), *(gr.update() for _ in view_out[1:]))

        def change(p):
            rows = [r for r in (p["layout"].get("pages") or []) if r.get("page") != int(n)]
            return {"layout": {**p["layout"], "pages": rows + [{"page": int(n), "template": name}]}}
        return edit_pages(sid, f, change, f"Page {n} uses the {name} template.")

    set_template.click(on_template, inputs=[scene_id, fmt, page_no, template], outputs=view_out, **PRIVATE)

    def on_move(sid, f, shot, to_page, as_panel=""):
        as_panel = str(as_panel or "").strip()
        if not shot or not to_page or (as_panel and not (as_panel.isdigit() and int(as_panel) >= 1)):
            return (_note("invalid", "Give the shot's number, the page to move it to and, if you like, which panel "
                                     "it becomes there (1, 2, …; empty: the last)."),
                    *(gr.update() for _ in view_out[1:]))
        move_to = {"shot": int(shot) - 1, "page": int(to_page), **({"panel": int(as_panel)} if as_panel else {})}

        def change(p):
            moves = [m for m in (p["layout"].get("moves") or []) if m.get("shot") != int(shot) - 1]
            return {"layout": {**p["layout"], "moves": moves + [move_to]}}
        where = f"page {int(to_page)}" + (f", panel {int(as_panel)}" if as_panel else "")
        return edit_pages(sid, f, change, f"Shot {int(shot)} is on {where}.")

    move.click(on_move, inputs=[scene_id, fmt, move_shot, move_page, move_panel], outputs=view_out, **PRIVATE)

    def picked(data, which):
        if not data or not which:
            return None, None
        n, k = (int(v) for v in which.split(":"))
        page = data["pages"][n - 1]
        return page, k

    @roles.reader
    def on_balloon(data, which):
        page, k = picked(data, which)
        if page is None:
            return gr.update(value=""), gr.update(value=None), gr.update(choices=[], value=None)
        b = page["balloons"][k]
        count = max(1, int(b.get("choices") or 1))
        places = [("automatic", 0)] + [(f"option {i + 1}", i) for i in range(1, count)]
        return gr.update(value=b["text"]), gr.update(value=b["kind"]), gr.update(choices=places,
                                                                                 value=b.get("placement", 0))

    balloon.input(on_balloon, inputs=[model, balloon], outputs=[text, kind, place], **PRIVATE)

    def lettering_change(data, which, row: dict[str, Any] | None):
        page, k = picked(data, which)
        if page is None:
            raise BackendError("Pick a balloon first.")
        key = balloon_key(page, k)

        def change(p):
            rows = [r for r in (p["lettering"].get("balloons") or [])
                    if (r.get("shot"), r.get("item", "line"), r.get("index", 0)) !=
                    (key["shot"], key["item"], key["index"])]
            if row is not None:
                rows.append({**key, **row})
            return {"lettering": {"balloons": rows}}
        return change

    def on_apply(sid, f, data, which, t, kd, pl):
        try:
            change = lettering_change(data, which, {"text": t, "kind": kd, "placement": int(pl or 0)})
        except BackendError as err:
            return (_note("invalid", err.message), *(gr.update() for _ in view_out[1:]))
        return edit_pages(sid, f, change, "The balloon is re-lettered.")

    def on_reset(sid, f, data, which):
        try:
            change = lettering_change(data, which, None)
        except BackendError as err:
            return (_note("invalid", err.message), *(gr.update() for _ in view_out[1:]))
        return edit_pages(sid, f, change, "The balloon is back to automatic.")

    apply.click(on_apply, inputs=[scene_id, fmt, model, balloon, text, kind, place], outputs=view_out, **PRIVATE)
    reset.click(on_reset, inputs=[scene_id, fmt, model, balloon], outputs=view_out, **PRIVATE)

    def exporter(key: str):
        @roles.reviewer_may("export pages")
        def on_export(sid, f):
            if roles.current_role(studio) == roles.VISITOR:
                return _note("invalid", "Log in to export."), gr.update(visible=False)
            try:
                done = store.export_scene(studio, record(sid), key, f or None, into=destination(studio))
            except BackendError as err:
                return _note("invalid", f"Not exported — {err.message}"), gr.update(visible=False)
            told = f"Exported {key.upper()} — download it below."
            notes = list(done.notes[:6])
            if len(done.notes) > 6:
                notes.append(f"… and {len(done.notes) - 6} more notes" + (", in Jobs" if done.record else ""))
            return _noted("completed", told, notes), gr.update(value=done.path, visible=True)
        return on_export

    for (_, key), button in zip(EXPORTS, buttons):
        button.click(exporter(key), inputs=[scene_id, fmt], outputs=[status, download], concurrency_limit=2,
                     **PRIVATE)
