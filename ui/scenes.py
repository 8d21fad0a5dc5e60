"""Scenes tab: a Fountain script → the storyboard (one card per shot) → make what's missing → one MP4.

The scene is saved whenever the script or a setting changes (and on Save), so a reload or a restart shows it
again. The storyboard is re-read from the backend after each change; making and rendering stream their progress.
"""
from __future__ import annotations

import html
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from backend.served import library_file

from backend.errors import BackendError
from backend.scenes import casting, exchange
from backend.scenes import make as M
from backend.scenes.draft import draft_scene, errors_by_shot
from backend.scenes.model import ASPECTS, FPS_CHOICES, MAX_SCRIPT, RESOLUTIONS
from backend.scenes.store import SceneRecord
from ui import jobrun, review, roles
from ui import trash as trash_ui
from ui.portrait import STYLES
from ui.talking_head import library_outputs

NEW = "+ New scene"
EXAMPLE = """Title: The Night Mail

EXT. HARBOUR - NIGHT

[[music: ambient, slow strings, distant foghorn]]

Fog rolls over the harbour. A lantern swings on the pier.

MARA
The lights are out. We go now.

BEN
[[talking head]]
Then we row in the dark.

A small rowing boat slides into the fog. [[animate]]
"""
EMPTY_CAST_NOTE = ("[[note: no one speaks yet. Add characters in the Cast tab (a name, a look and a saved voice), "
                   "then write a name in capitals on its own line with their words under it.]]")


def starter_script(names: list[str]) -> str:
    """The script "+ New scene" starts from: the example, spoken by the cast's first two characters (one speaks
    both lines with a cast of one), or with an empty cast panels only and a note saying how to add speakers."""
    head = "Title: A new scene\n\nEXT. HARBOUR - NIGHT\n\n[[music: ambient, slow strings, distant foghorn]]\n\n"
    first = "Fog rolls over the harbour. A lantern swings on the pier.\n"
    last = "A small rowing boat slides into the fog. [[animate]]\n"
    if not names:
        return head + first + EMPTY_CAST_NOTE + "\n\n" + last
    a, b = names[0].upper(), (names[1] if len(names) > 1 else names[0]).upper()
    return (head + first + f"\n{a}\nThe lights are out. We go now.\n\n{b}\n[[talking head]]\n"
            "Then we row in the dark.\n\n" + last)


KIND = {"panel": "Panel", "talking_head": "Talking head", "title": "Title card"}
STATUS_TEXT = {"missing": "missing", "making": "making…", "ready": "ready", "failed": "failed"}
MUSIC_CHOICES = [("From the script's [[music: …]] note", "script"), ("Make music with these tags", "job"),
                 ("A track made earlier", "library"), ("Upload a track", "upload"), ("No music", "none")]
ENGINE_CHOICES = [("As the script says", ""), ("Still (no animation)", "none"), ("AnimateLCM", "animatelcm"),
                  ("Stable Video Diffusion", "svd")]

CSS = """
#scene-board .board { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px;
  padding-bottom: 6px; }
#scene-board .shot { min-width: 0; border: 1px solid #ccc; border-radius: 8px; padding: 6px; font-size: 0.85em;
  background: var(--block-background-fill); }
#scene-board .shot img, #scene-board .ph { width: 100%; height: 96px; object-fit: cover; border-radius: 4px;
  background: #ddd; display: flex; align-items: center; justify-content: center; color: #666; }
#scene-board .st { display: inline-block; padding: 0 6px; border-radius: 8px; font-weight: 600; }
#scene-board .st-ready { background: #d7f5dd; color: #135c22; } #scene-board .st-making { background: #fff1c2; color: #6b4b00; }
#scene-board .st-missing { background: #e8e8e8; color: #444; } #scene-board .st-failed { background: #ffd9d9; color: #8a0010; }
#scene-board .why { color: #8a0010; } #scene-board progress { width: 100%; height: 8px; }
#scene-board .line { font-style: italic; max-height: 6em; overflow: hidden; }
#scene-errors .err { color: #b00020; }
#scene-board .shot[data-status=error] { border-color: #b00020; }
#scene-board .draft-note { color: #8a0010; margin-bottom: 6px; }
@media (max-width: 640px) {
  #scene-board .board { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
.cast-cards { display: flex; flex-wrap: wrap; gap: 10px; }
.cast-card { display: flex; gap: 8px; flex: 1 1 280px; max-width: 420px; border: 1px solid #ccc; border-radius: 8px; padding: 6px; }
#cast-lib-portrait .grid-container { grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)) !important; }
#cast-lib-portrait .thumbnail-item { aspect-ratio: 3 / 4 !important; height: auto !important; }
.cast-card img, .cast-noimg { width: 90px; height: 120px; object-fit: cover; border-radius: 4px; background: #ddd;
  font-size: 0.75em; color: #555; }
"""


def file_url(path: str | None) -> str:
    return f"/gradio_api/file={html.escape(path)}" if path else ""


def draft_html(work: M.SceneWork) -> str:
    """A script with errors: the shots that parse, each error marked on its shot (nothing can be made yet)."""
    errs = work.errors.errors if work.errors is not None else ()
    scene = draft_scene(work.record.script, errs) if errs else None
    if scene is None:
        return '<div class="board-empty">The storyboard appears here when the script has no errors.</div>'
    marks = errors_by_shot(scene, errs)
    cards = []
    for shot in scene.shots:
        bad = marks.get(shot.index, [])
        speakers = list(dict.fromkeys(ln.character for ln in shot.lines))
        text = " / ".join(f"{ln.character}: {ln.text}" if len(speakers) > 1 else ln.text for ln in shot.lines) \
            or shot.description
        who = f"<b>{html.escape(' & '.join(speakers))}</b>: " if len(speakers) == 1 else ""
        why = "".join(f'<div class="why">line {e.line_no}: {html.escape(e.message)}</div>' for e in bad)
        status = "error" if bad else "draft"
        cards.append(f'<div class="shot" data-shot="{shot.index + 1}" data-status="{status}">'
                     f'<div class="ph">{"title card" if shot.kind == "title" else "no image yet"}</div>'
                     f'<div><b>{shot.index + 1}</b> · {KIND.get(shot.kind, shot.kind)}</div>'
                     f'<div class="line">{who}{html.escape(text[:160])}</div>'
                     f'<span class="st st-{"failed" if bad else "missing"}">{"error" if bad else "draft"}</span>'
                     f'{why}</div>')
    head = (f'<div class="draft-note" id="scene-board-sum">{len(cards)} shots (a draft: fix the marked problems '
            'to make them)</div>')
    return head + '<div class="board">' + "".join(cards) + "</div>"


def board_html(work: M.SceneWork | None) -> str:
    """The storyboard: one card per shot in order, with its status (missing / making / ready / failed)."""
    if work is None:
        return '<div class="board-empty">The storyboard appears here when the script has no errors.</div>'
    if work.scene is None:
        return draft_html(work)
    cards = []
    for c in work.cards():
        thumb = (f'<img src="{file_url(c.thumb)}" alt="shot {c.index + 1}">' if c.thumb and Path(c.thumb).is_file()
                 else f'<div class="ph">{"title card" if c.kind == "title" else "no image yet"}</div>')
        # A shot with two speakers names both (each line with its speaker), one speaker leads the text.
        speakers = c.speakers or ([c.character] if c.character else [])
        who = f"<b>{html.escape(speakers[0])}</b>: " if len(speakers) == 1 else ""
        bar = (f'<progress value="{c.percent:.0f}" max="100"></progress>' if c.status == "making" and c.percent
               is not None else "")
        engine = f" · {html.escape(c.engine)}" if c.engine else ""
        why = f'<div class="why">{html.escape(c.message)}</div>' if c.status == "failed" and c.message else (
            f'<div class="msg">{html.escape(c.message)}</div>' if c.message else "")
        cards.append(
            f'<div class="shot" data-shot="{c.index + 1}" data-status="{c.status}">{thumb}'
            f'<div><b>{c.index + 1}</b> · {KIND.get(c.kind, c.kind)}{engine} · {c.duration_s:.1f} s</div>'
            f'<div class="line">{who}{html.escape(c.text[:200])}</div>'
            + (f'<div class="in-panel">In the panel: {html.escape(c.cast)}</div>' if c.cast else "")
            + f'<span class="st st-{c.status}">{STATUS_TEXT[c.status]}</span>{bar}{why}</div>')
    counts = work.counts()
    total = sum(counts.values())
    head = (f'<div class="board-sum" id="scene-board-sum">{len(cards)} shots · {counts["ready"]} of {total} parts '
            f'made' + (f' · {counts["making"]} making' if counts["making"] else "")
            + (f' · {counts["failed"]} failed' if counts["failed"] else "") + "</div>")
    return head + '<div class="board">' + "".join(cards) + "</div>"


def errors_html(work: M.SceneWork | None) -> str:
    if work is None:
        return ""
    if work.errors is not None:
        items = "".join(f"<li>line {e.line_no}: {html.escape(e.message)}</li>" for e in work.errors.errors)
        return f'<div class="err"><b>The script has {len(work.errors.errors)} problem(s):</b><ul>{items}</ul></div>'
    scene_wide = [p.message for p in work.plan.problems if p.shot is None]
    return "".join(f'<div class="err">⚠ {html.escape(m)}</div>' for m in scene_wide)


def status_html(kind: str, text: str, fraction: float | None = None) -> str:
    bar = f'<progress class="job-bar" value="{fraction * 100:.0f}" max="100"></progress>' if fraction is not None \
        else ""
    return f'<div class="job-status" data-kind="{kind}"><strong>{html.escape(text)}</strong>{bar}</div>'


def shot_choices(work: M.SceneWork | None) -> list[tuple[str, str]]:
    if work is None or work.scene is None:
        return []
    return [(f"{s.index + 1} · {KIND.get(s.kind, s.kind)} · {(s.lines[0].text if s.lines else s.description)[:40]}",
             str(s.index)) for s in work.scene.shots]


def image_choices(studio: Any) -> list[tuple[str, str]]:
    return [(Path(p).name, p) for p in library_outputs(studio, "portrait", "image")]


def build(studio: Any) -> dict[str, Any]:
    help_owner = gr.Markdown(
        "**Scenes** — write a scene in Fountain (scene headings, action, CHARACTER cues, dialogue, `[[notes]]`) or "
        "the comic-script form (PAGE ONE, Panel 1, NAME: line, CAPTION:, SFX:). Each action paragraph is a panel, "
        "each dialogue block a line in that character's cast voice. **Make what's missing** runs the jobs the "
        "storyboard needs; **Render video** makes the MP4 with subtitles (a motion comic through the lettered "
        "pages, or full frame: Scene settings). **Pages**, at the foot of the tab, shows the lettered pages and "
        "exports PDF, CBZ, EPUB or a webtoon.", elem_id="scene-help")
    # What a reviewer reads instead: their page has no Make or Render (they are not shown to them at all).
    help_reviewer = gr.Markdown(
        "**Scenes** — pick a scene to see its script, storyboard and video. **Comments and verdicts**, under the "
        "video, take a note on the whole scene, a moment of the video, a page or a panel. **Pages**, at the foot of "
        "the tab, shows the lettered pages and downloads them as PDF, CBZ, EPUB or a webtoon.",
        visible=False, elem_id="scene-help-reviewer")
    with gr.Row():
        pick = gr.Dropdown([NEW], value=NEW, label="Scene", elem_id="scene-pick", scale=2, min_width=160)
        title = gr.Textbox(label="Title", value="Untitled scene", elem_id="scene-title", scale=2, max_length=120,
                           min_width=160)
        save = gr.Button("Save", elem_id="scene-save", size="sm", scale=0, min_width=70)
        delete = gr.Button("Delete", elem_id="scene-delete", size="sm", variant="secondary", scale=0, min_width=70)
        undo = gr.Button("Undo", elem_id="scene-undo", size="sm", visible=False, scale=0, min_width=70)
        export = gr.Button("Export .zip", elem_id="scene-export", size="sm", scale=0, min_width=100)
        imp = gr.UploadButton("Import .zip", file_types=[".zip"], elem_id="scene-import", size="sm", scale=0,
                              min_width=100)
    with gr.Row():
        with gr.Column(scale=2):
            with gr.Row():
                make = gr.Button("Make what's missing", variant="primary", elem_id="scene-make", min_width=120)
                render = gr.Button("Render video", variant="secondary", elem_id="scene-render", min_width=100)
                cancel = gr.Button("Cancel all", variant="secondary", elem_id="scene-cancel", min_width=90)   # secondary, as Cancel on every tab
            status = gr.HTML("", elem_id="scene-status")
            script = gr.Textbox(label="Script (Fountain)", lines=12, max_lines=40, value=EXAMPLE,
                                elem_id="scene-script", max_length=MAX_SCRIPT)
            errors = gr.HTML("", elem_id="scene-errors")
            with gr.Accordion("Scene settings: style, video, music", open=False,
                              elem_id="scene-settings") as settings_box:
                with gr.Row():
                    style = gr.Dropdown(list(STYLES), value="Graphic novel ink", label="Panel style",
                                        elem_id="scene-style")
                    concurrency = gr.Slider(1, 8, value=M.DEFAULT_CONCURRENCY, step=1, label="Jobs at once",
                                            elem_id="scene-concurrency")
                with gr.Row():
                    aspect = gr.Dropdown(list(ASPECTS), value="16:9", label="Aspect", elem_id="scene-aspect")
                    resolution = gr.Dropdown([(f"{r}p", r) for r in RESOLUTIONS], value=720, label="Resolution",
                                             elem_id="scene-resolution")
                    fps = gr.Dropdown(list(FPS_CHOICES), value=24, label="Frames per second", elem_id="scene-fps")
                with gr.Row():
                    layout = gr.Dropdown([("Full frame", "full"), ("Inset over the panel", "inset")], value="full",
                                         label="Talking heads", elem_id="scene-layout")
                    burn = gr.Checkbox(False, label="Burn subtitles into the video", elem_id="scene-burn")
                    render_mode = gr.Radio([("Motion comic", "motion_comic"), ("Full frame", "full_frame")],
                                           value="motion_comic", label="Video", elem_id="scene-mode",
                                           info="Motion comic: the camera moves through the pages, balloons "
                                                "appear as lines are spoken. Full frame: one picture per shot.")
                music_src = gr.Dropdown(MUSIC_CHOICES, value="script", label="Music", elem_id="scene-music")
                music_tags = gr.Textbox(label="Music tags", placeholder="e.g. ambient, slow strings",
                                        elem_id="scene-music-tags")
                music_lib = gr.Dropdown([], value=None, label="Track made earlier", elem_id="scene-music-track")
                music_up = gr.Audio(label="Uploaded track", type="filepath", sources=["upload"],
                                    elem_id="scene-music-upload")
        with gr.Column(scale=3):
            board = gr.HTML(board_html(None), elem_id="scene-board")
            video = gr.Video(label="Render", interactive=False, elem_id="scene-video", height=300)
            subs = gr.File(label="Subtitles", file_count="multiple", interactive=False, elem_id="scene-subs",
                           visible=False)
            with gr.Accordion("Edit a shot", open=False, elem_id="scene-shot-editor") as shot_editor:
                shot = gr.Dropdown([], value=None, label="Shot", elem_id="scene-shot")
                with gr.Row():
                    engine = gr.Dropdown(ENGINE_CHOICES, value="", label="Animation", elem_id="scene-shot-engine")
                    duration = gr.Number(0, minimum=0, maximum=60, label="Duration (s, 0 = follow the speech)",
                                         elem_id="scene-shot-duration")
                with gr.Row():
                    pick_img = gr.Dropdown([], value=None, label="Image made earlier", elem_id="scene-shot-image")
                    up_img = gr.Image(label="…or upload one", type="filepath", sources=["upload"], height=140,
                                      elem_id="scene-shot-upload")
                cast_in = gr.Textbox(label="Who is in the panel", elem_id="scene-shot-cast",
                                     placeholder="e.g. Mara: left, Ben: right — empty follows the script, "
                                                 "'none' for nobody",
                                     info="Their likeness (Cast tab) shapes their place: left, right, centre, top, "
                                          "bottom or full")
                with gr.Row():
                    apply = gr.Button("Apply to this shot", elem_id="scene-shot-apply")
                    regen = gr.Button("Make a new image", elem_id="scene-shot-regen")
                    retake = gr.Button("New speech and motion", elem_id="scene-shot-retake")
                    clear = gr.Button("Back to the script's choice", elem_id="scene-shot-clear", size="sm")
                shot_note = gr.Markdown("", elem_id="scene-shot-note")
    scene_id = gr.State(None)
    review.build_scene(studio, scene_id)
    armed = gr.State(None)          # the scene a first click on Delete asked about
    trashed = gr.State(None)        # the trash item the Undo button brings back
    settings_in = [style, concurrency, aspect, resolution, fps, layout, burn, music_src, music_tags, music_lib,
                   music_up, render_mode]

    # -- helpers ------------------------------------------------------------------------------------------------
    def scene_choices() -> list[tuple[str, str]]:
        return [(NEW, NEW), *[(r.title, r.id) for r in studio.scenes.list()]]

    def current(sid: str | None, t: str, text: str, *s: Any) -> SceneRecord:
        """The scene as the page shows it, saved (so nothing typed is lost)."""
        (sty, conc, asp, res, f, lay, brn, msrc, mtags, mlib, mup, rmode) = s
        rec = studio.scenes.get(sid) if sid else None
        rec = rec or SceneRecord(id="", title=t or "Untitled scene")
        rec.title = (t or "").strip() or "Untitled scene"
        rec.script = text or ""
        rec.settings = {"style": sty, "concurrency": int(conc or M.DEFAULT_CONCURRENCY), "aspect": asp,
                        "resolution": int(res), "fps": int(f), "talking_head": lay, "burn_subtitles": bool(brn),
                        "mode": rmode or "motion_comic"}
        music = {"source": msrc or "script"}
        if msrc == "job":
            music["tags"] = mtags or ""
        elif msrc == "library":
            music["path"] = mlib
        elif msrc == "upload" and mup:
            music["path"], _ = studio.library.keep_input("music", mup)
        rec.music = music
        return studio.scenes.save(rec)

    def view(rec: SceneRecord | None, work: M.SceneWork | None = None) -> tuple:
        """(scene_id, pick, errors, board, shot choices, video, subs, make, render)."""
        if rec is None:     # a new, unsaved scene: the starter, checked against the cast as it is
            work = M.load(studio, SceneRecord(id="", title="Untitled scene", script=starter()))
            return (None, gr.update(choices=scene_choices(), value=NEW), errors_html(work), board_html(work),
                    gr.update(choices=[]), None, gr.update(value=None, visible=False), *next_step(work))
        work = work or M.load(studio, rec)
        r = rec.render or {}
        made = [r.get(k) for k in ("mp4", "srt", "vtt")]
        mp4, files = None, []
        if all(p and library_file(p, studio.library.root) for p in made):
            # Named copies are made in the downloads folder for owners only: a reviewer's page writes nothing,
            # and shows the named copies the render made when they are still there.
            mp4, *files = (M.download_names(studio, rec.title, made) if may_write()
                           else M.existing_download_names(studio, rec.title, made))
        return (rec.id, gr.update(choices=scene_choices(), value=rec.id), errors_html(work), board_html(work),
                gr.update(choices=shot_choices(work)), mp4, gr.update(value=files or None, visible=bool(files)),
                *next_step(work))

    def next_step(work: M.SceneWork | None) -> tuple:
        """(make, render) updates: the next step is the primary button, the other secondary."""
        done = work is not None and work.all_made()
        return (gr.update(variant="secondary" if done else "primary"),
                gr.update(variant="primary" if done else "secondary"))

    def starter() -> str:
        return starter_script(studio.cast.names())

    view_out = [scene_id, pick, errors, board, shot, video, subs, make, render]

    def fields_of(rec: SceneRecord | None) -> tuple:
        if rec is None:
            return ("Untitled scene", starter(), "Graphic novel ink", M.DEFAULT_CONCURRENCY, "16:9", 720, 24, "full",
                    False, "script", "", None, None, "motion_comic")
        s, m = rec.settings, rec.music or {}
        return (rec.title, rec.script, s.get("style", "None"), s.get("concurrency", M.DEFAULT_CONCURRENCY),
                s.get("aspect", "16:9"), s.get("resolution", 720), s.get("fps", 24), s.get("talking_head", "full"),
                s.get("burn_subtitles", False), m.get("source", "script"), m.get("tags", ""),
                m.get("path") if m.get("source") == "library" else None,
                m.get("path") if m.get("source") == "upload" else None, s.get("mode", "motion_comic"))

    fields = [title, script, *settings_in]

    # -- events ---------------------------------------------------------------------------------------------------
    def may_write() -> bool:
        return roles.current_role(studio) == roles.OWNER

    @roles.reader
    def on_load():
        recs = studio.scenes.list()
        # An owner always has a saved scene on the page, so every later edit updates it (never creates a second);
        # a reviewer's page load reads only: with no scene yet it shows the starter, unsaved.
        if recs:
            rec = recs[0]
        elif may_write():
            rec = studio.scenes.new("Untitled scene", starter(), settings={"style": "Graphic novel ink"})
        else:
            rec = None
        return (*view(rec), *fields_of(rec))

    def untouched(rec: SceneRecord | None) -> bool:
        """A "+ New scene" nobody wrote in: left behind, it would only clutter the list."""
        return (rec is not None and rec.title.startswith("Untitled scene") and not rec.render
                and not rec.overrides and rec.script in (EXAMPLE, starter()))

    @roles.reader
    def on_pick(choice: str, sid: str | None):
        rec = studio.scenes.get(choice) if choice and choice != NEW else None
        if not may_write():             # a reviewer's pick only reads
            return (*view(rec), *fields_of(rec))
        before = studio.scenes.get(sid) if sid else None
        if before is not None and before.id != choice and untouched(before) and choice != NEW:
            studio.scenes.delete(before.id)
        if rec is None:
            if untouched(before):          # already a fresh one on the page: start it over from the starter
                before.script = starter()
                rec = studio.scenes.save(before)
            else:
                rec = studio.scenes.new(_untitled(), starter(), settings={"style": "Graphic novel ink"})
        return (*view(rec), *fields_of(rec))

    def _untitled() -> str:
        taken = {r.title for r in studio.scenes.list()}
        return next(t for t in (f"Untitled scene {n}" if n else "Untitled scene" for n in range(1000))
                    if t not in taken)

    pick.input(on_pick, inputs=[pick, scene_id], outputs=[*view_out, *fields], **jobrun.PRIVATE)

    @roles.owner_only("edit scenes")
    def on_save(sid, t, text, *s):
        roles.require_owner(studio, "edit scenes")
        try:
            rec = current(sid, t, text, *s)
        except BackendError as err:
            return (sid, gr.update(), f'<div class="err">⚠ {html.escape(err.message)}</div>',
                    *(gr.update() for _ in view_out[3:]))
        return view(rec)

    gr.on([save.click, script.blur, title.blur, *(c.input for c in settings_in)], on_save,
          inputs=[scene_id, title, script, *settings_in], outputs=view_out, show_progress="hidden",
          concurrency_limit=1, concurrency_id="scene-save", trigger_mode="always_last", **jobrun.PRIVATE)

    # Delete asks once (a second click), moves the scene to the trash and offers Undo.
    def scene_what(sid):
        rec = studio.scenes.get(sid) if sid else None
        return f"Scene “{rec.title}”" if rec else None

    def do_delete(sid):
        item = trash_ui.T.discard(studio, "scene", sid)
        return (trash_ui.moved_html(item), *on_load(), gr.update(visible=True), item.id)

    after_delete = [*view_out, *fields, undo, trashed]
    delete.click(trash_ui.two_step(studio, "Delete", "delete scenes", scene_what, do_delete, len(after_delete)),
                 inputs=[scene_id, armed], outputs=[armed, delete, status, *after_delete], **jobrun.PRIVATE)
    pick.input(roles.reader(lambda: trash_ui.disarm("Delete")), outputs=[armed, delete], queue=False,
               **jobrun.PRIVATE)

    def on_undo(item_id, sid):
        roles.require_owner(studio, "restore scenes")
        try:
            item = trash_ui.T.restore(studio, item_id or "")
        except BackendError as err:
            return (trash_ui.problem_html(err.message), *(gr.skip() for _ in view_out),
                    *(gr.skip() for _ in fields), gr.update(visible=False), None)
        shown = studio.scenes.get(sid) if sid else None
        if untouched(shown):            # the fresh scene the delete left on the page: not wanted any more
            studio.scenes.delete(shown.id)
        rec = studio.scenes.get(item.record["id"])
        return (trash_ui.restored_html(item), *view(rec), *fields_of(rec), gr.update(visible=False), None)

    undo.click(on_undo, inputs=[trashed, scene_id], outputs=[status, *view_out, *fields, undo, trashed], **jobrun.PRIVATE)

    @roles.reader
    def on_show(sid):
        """Back on Scenes (e.g. after adding a character in Cast): the script is checked against the cast now."""
        rec = studio.scenes.get(sid) if sid else None
        return view(rec) if rec is not None else tuple(gr.skip() for _ in view_out)

    @roles.owner_only("make media for scenes")
    def on_make(sid, t, text, *s) -> Iterator[tuple]:
        roles.require_owner(studio, "make media for scenes")
        try:
            rec = current(sid, t, text, *s)
        except BackendError as err:
            yield (sid, gr.update(), gr.update(), status_html("invalid", f"Not sent — {err.message}"), gr.skip(),
                   gr.skip())
            return
        last = 0.0
        work = None
        for work in M.make_missing(studio, rec, concurrency=rec.settings.get("concurrency", 3)):
            if work.scene is None:
                yield (rec.id, errors_html(work), board_html(work),
                       status_html("invalid", "Not sent — fix the script's problems first (listed under it)."),
                       gr.skip(), gr.skip())
                return
            now = time.monotonic()
            if now - last >= 0.4:          # the board is re-drawn at most ~2× a second
                last = now
                c = work.counts()
                yield (rec.id, errors_html(work), board_html(work),
                       status_html("running", f"Making: {c['making']} running, {c['missing'] + c['waiting']} to "
                                              f"go, {c['ready']} made"), gr.skip(), gr.skip())
        # One last, fresh look: what the history now holds (e.g. made by another run meanwhile).
        work = M.load(studio, rec)
        c = work.counts()
        failed = [card for card in work.cards() if card.status == "failed"]
        if failed:
            msg, kind = f"{len(failed)} shot(s) failed — see the red notes on their cards.", "failed"
        elif work.all_made():
            msg, kind = "Everything is made. Press Render video.", "completed"
        else:
            msg, kind = f"Stopped with {c['missing'] + c['waiting']} part(s) still missing.", "cancelled"
        yield rec.id, errors_html(work), board_html(work), status_html(kind, msg), *next_step(work)

    make.click(on_make, inputs=[scene_id, title, script, *settings_in], outputs=[scene_id, errors, board, status, make, render],
               concurrency_limit=None, **jobrun.PRIVATE)
    cancel.click(roles.owner_only("cancel making a scene")(lambda sid: status_html("cancelled", "Cancelling: no new jobs are sent; jobs in flight are "
                                                      "being cancelled.") if sid and M.cancel_all(sid)
                 else status_html("invalid", "Nothing is being made for this scene.")),
                 inputs=[scene_id], outputs=[status], queue=False, **jobrun.PRIVATE)

    @roles.owner_only("render scenes")
    def on_render(sid, t, text, *s) -> Iterator[tuple]:
        roles.require_owner(studio, "render scenes")
        try:
            rec = current(sid, t, text, *s)
            sid = rec.id
            work = M.load(studio, rec)
            work.render_input()             # refuses early, naming the first shot that is not ready
        except BackendError as err:
            yield sid, status_html("invalid", f"Not rendered — {err.message}"), gr.update(), gr.update()
            return
        done: dict[str, Any] = {"fraction": 0.0}

        def run() -> None:
            try:
                done["result"] = M.render_scene(studio, work, on_progress=lambda f: done.update(fraction=f))
            except BackendError as err:
                done["error"] = err.message
            except Exception as err:         # the renderer's own failure: shown, the old render stays
                done["error"] = str(err)

        t0 = time.monotonic()
        th = threading.Thread(target=run, daemon=True)
        th.start()
        while th.is_alive():
            th.join(0.5)
            yield rec.id, status_html("running", f"Rendering: {done['fraction'] * 100:.0f}% "
                                                 f"({time.monotonic() - t0:.0f} s)", done["fraction"]), \
                gr.update(), gr.update()
        if "error" in done:
            yield rec.id, status_html("failed", done["error"]), gr.update(), gr.update()
            return
        res = done["result"]
        yield (rec.id, status_html("completed", f"Rendered {res.duration_s:.1f} s in {time.monotonic() - t0:.0f} s "
                                                "— it is also in the Jobs tab."),
               res.mp4, gr.update(value=[res.srt, res.vtt], visible=True))

    render.click(on_render, inputs=[scene_id, title, script, *settings_in], outputs=[scene_id, status, video, subs],
                 concurrency_limit=None, **jobrun.PRIVATE)

    # -- per-shot edits -------------------------------------------------------------------------------------------
    @roles.reader
    def on_shot(sid, idx):
        rec = studio.scenes.get(sid) if sid else None
        ov = (rec.overrides.get(str(idx)) or {}) if rec and idx is not None else {}
        edited = ov.get("characters")
        who = ("none" if edited == [] else ", ".join(
            e["character"] + (f": {e['region']}" if isinstance(e.get("region"), str) else "") for e in edited)
            if edited is not None else "")
        return (ov.get("engine", ""), ov.get("duration", 0) or 0,
                gr.update(choices=image_choices(studio), value=ov.get("image")), None, "", who)

    shot.input(on_shot, inputs=[scene_id, shot], outputs=[engine, duration, pick_img, up_img, shot_note, cast_in],
               **jobrun.PRIVATE)
    pick_img.focus(roles.reader(lambda: gr.update(choices=image_choices(studio))), outputs=[pick_img], queue=False,
                   **jobrun.PRIVATE)

    def edit(sid, idx, change) -> tuple:
        if not sid or idx is None:
            return ("⚠ Shot: save the scene and pick a shot first.", *(gr.update() for _ in view_out))
        rec = studio.scenes.get(sid)
        ov = dict(rec.overrides.get(str(idx)) or {})
        note = change(ov)
        rec.overrides = {**rec.overrides, str(idx): {k: v for k, v in ov.items() if v not in (None, "", 0)}}
        rec = studio.scenes.save(rec)
        return (note, *view(rec))

    @roles.owner_only("edit shots")
    def on_apply(sid, idx, eng, dur, img, upload, who=""):
        roles.require_owner(studio, "edit shots")
        def change(ov):
            ov["engine"] = eng or None
            ov["duration"] = float(dur) if dur else None
            ov["characters"] = casting.parse_edit(who, studio.cast.names())
            if upload:
                ov["image"], _ = studio.library.keep_input("image", upload)
            elif img:
                ov["image"] = img
            return f"Shot {int(idx) + 1} updated."
        try:
            return edit(sid, idx, change)
        except BackendError as err:
            return (f"⚠ {err.message}", *(gr.update() for _ in view_out))

    apply.click(on_apply, inputs=[scene_id, shot, engine, duration, pick_img, up_img, cast_in],
                outputs=[shot_note, *view_out], **jobrun.PRIVATE)

    @roles.owner_only("make new images")
    def on_regen(sid, idx):
        roles.require_owner(studio, "make new images")
        def change(ov):
            ov.pop("image", None)
            ov["seed"] = random.randint(0, 2**31 - 1)   # a new seed is a new job (the old image stays made)
            return f"Shot {int(idx) + 1} gets a new image: press Make what's missing."
        return edit(sid, idx, change)

    regen.click(on_regen, inputs=[scene_id, shot], outputs=[shot_note, *view_out], **jobrun.PRIVATE)

    @roles.owner_only("make new takes")
    def on_retake(sid, idx):
        roles.require_owner(studio, "make new takes")
        def change(ov):
            ov["take"] = random.randint(0, 2**31 - 1)      # a new seed for its speech, talking head, animation
            return (f"Shot {int(idx) + 1} gets a new take of its speech and motion: press Make what's missing "
                    "(the image stays).")
        return edit(sid, idx, change)

    retake.click(on_retake, inputs=[scene_id, shot], outputs=[shot_note, *view_out], **jobrun.PRIVATE)

    @roles.owner_only("edit shots")
    def on_clear(sid, idx):
        roles.require_owner(studio, "edit shots")
        def change(ov):
            ov.clear()
            return f"Shot {int(idx) + 1} follows the script again."
        return edit(sid, idx, change)

    clear.click(on_clear, inputs=[scene_id, shot], outputs=[shot_note, *view_out], **jobrun.PRIVATE)

    # -- music picker, export / import ----------------------------------------------------------------------------
    music_lib.focus(roles.reader(lambda: gr.update(choices=[(Path(p).name, p)
                                                         for p in library_outputs(studio, "music", "audio")])),
                    outputs=[music_lib], queue=False, **jobrun.PRIVATE)

    # Owners only: exporting saves the scene as the page shows it first, and the zip holds the cast's recordings.
    @roles.owner_only("export scenes")
    def on_export(sid, t, text, *s):
        try:
            rec = current(sid, t, text, *s)
            path = exchange.export_scene(studio, rec.id)
        except BackendError as err:
            return sid, status_html("invalid", f"Not exported — {err.message}"), gr.update()
        return rec.id, status_html("completed", f"Exported “{rec.title}” — download it below."), \
            gr.update(value=[path], visible=True)

    export.click(on_export, inputs=[scene_id, title, script, *settings_in], outputs=[scene_id, status, subs],
                 **jobrun.PRIVATE)

    @roles.owner_only("import scenes")
    def on_import(upload):
        roles.require_owner(studio, "import scenes")
        try:
            rec, notes = exchange.import_scene(studio, upload if isinstance(upload, str) else upload.name)
        except BackendError as err:
            return (*(gr.update() for _ in view_out), *(gr.update() for _ in fields),
                    status_html("invalid", f"Not imported — {err.message}"))
        msg = f"Imported “{rec.title}”." + (" " + " ".join(notes) if notes else "")
        return (*view(rec), *fields_of(rec), status_html("completed", msg))

    imp.upload(on_import, inputs=[imp], outputs=[*view_out, *fields, status], **jobrun.PRIVATE)
    from ui import pages as pages_ui        # issue 20: the scene as lettered pages, and its exports
    pages_ui.build(studio, scene_id)
    # A reviewer's Scenes page is a review page: these are not shown at all, and the title and script are read-only.
    return {"load": on_load, "load_outputs": [*view_out, *fields], "show": on_show, "show_inputs": [scene_id],
            "show_outputs": view_out,
            "owner_only": [help_owner, save, delete, export, imp, make, render, cancel, settings_box, shot_editor],
            "reviewer_only": [help_reviewer],
            "read_only": [title, script]}
