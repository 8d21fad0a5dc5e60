"""Cast tab: the characters scenes are written with — name, look, portrait, voice, default seed, style preset."""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from backend import character_sheet
from backend.served import library_file
from backend.errors import BackendError
from ui import jobrun, roles
from ui.portrait import STYLES
from ui.talking_head import face_warning
from ui.voice import voice_names

NEW = "+ New character"


@dataclass
class CastTab:
    portrait: gr.Image          # hand-off target: "Add to cast" on a portrait
    voice: gr.Dropdown          # hand-off target: "Add to cast" on a saved voice
    name: gr.Textbox
    pick: gr.Dropdown
    refresh: Any                # callable() -> updates for `outputs`
    outputs: list
    editor: list                # [char_id, pick, name, look, voice, style, seed, portrait, status]


def portrait_choices(studio: Any) -> list[tuple[str, str]]:
    """Finished portraits, newest first, labelled by when they were made (never by their file path)."""
    out = []
    for rec in studio.history(action="portrait", status="completed"):
        images = jobrun.outputs_of(rec, "image")
        when = dt.datetime.fromtimestamp(rec.created_at).strftime("%d %b %H:%M:%S")
        out += [(f"Portrait of {when}" + (f" #{n + 1}" if len(images) > 1 else ""), p) for n, p in enumerate(images)]
    return out


def cards_html(studio: Any) -> str:
    chars = studio.cast.list()
    if not chars:
        return ('<div class="cast-empty" id="cast-empty">No characters yet. Fill in a name, a look and a voice and '
                'press <b>Save character</b>, or use <b>Add to cast</b> in the Portrait and Voice tabs.</div>')
    cards = []
    for c in chars:
        img = (f'<img src="/gradio_api/file={html.escape(c.portrait)}" alt="{html.escape(c.name)}">'
               if library_file(c.portrait, studio.library.root)
               else '<div class="cast-noimg">no portrait yet: made from the look when a scene needs it</div>')
        voice = f"voice: {html.escape(c.voice)}" if c.voice else "<i>no voice yet</i>"
        style = "" if c.style in ("", "None") else f" · {html.escape(c.style)}"
        cards.append(f'<div class="cast-card" data-name="{html.escape(c.name)}">{img}<div><b>{html.escape(c.name)}'
                     f'</b><br>{html.escape(c.look or "")}<br>{voice}{style}'
                     f'{"" if c.seed < 0 else f" · seed {c.seed}"}</div></div>')
    return '<div class="cast-cards">' + "".join(cards) + "</div>"


def build(studio: Any) -> CastTab:
    gr.Markdown("**Cast** — the characters your scenes are written with. A scene's dialogue cue (`MARA`) speaks "
                "in that character's voice; their portrait is used for talking heads and their look is added to "
                "every panel they appear in. Renaming or deleting a character never deletes anything made.")
    with gr.Row():
        with gr.Column(scale=1):
            pick = gr.Dropdown([NEW], value=NEW, label="Character", elem_id="cast-pick",
                               info="Pick one to edit it, or start a new one")
            name = gr.Textbox(label="Name", placeholder="e.g. Mara — the name a dialogue cue uses",
                              elem_id="cast-name", max_length=48)
            look = gr.Textbox(label="Look", lines=2, max_length=1000, elem_id="cast-look",
                              placeholder="e.g. silver hair, red oilskin coat, scar over the left eye")
            voice = gr.Dropdown([], value=None, label="Voice", elem_id="cast-voice",
                                info="From the voice library (save one in the Voice tab)")
            with gr.Row():
                style = gr.Dropdown(list(STYLES), value="None", label="Style preset", elem_id="cast-style")
                seed = gr.Number(value=-1, precision=0, minimum=-1, label="Default seed (-1 = random)",
                                 elem_id="cast-seed")
            with gr.Row():
                likeness = gr.Slider(0, 1.5, value=0.8, step=0.05, label="Likeness in panels", elem_id="cast-likeness",
                                     info="How strongly their reference shapes the panels they are in (0 = not at all)")
                reference = gr.Dropdown([], value=None, label="Reference for panels", elem_id="cast-reference",
                                        allow_custom_value=True,
                                        info="Empty: the portrait; or a picture made earlier, e.g. a character sheet view")
            with gr.Row():
                save = gr.Button("Save character", variant="primary", elem_id="cast-save")
                delete = gr.Button("Remove from cast", variant="secondary", elem_id="cast-delete")   # not a call to action
                sheet = gr.Button("Make a character sheet", variant="secondary", elem_id="cast-sheet")
            status = gr.Markdown("", elem_id="cast-status")
        with gr.Column(scale=1):
            with gr.Row():
                portrait = gr.Image(label="Portrait", type="filepath", sources=["upload", "clipboard"], height=220,
                                    elem_id="cast-portrait", scale=1, min_width=160)
                lib = gr.Dropdown([], value=None, label="…or a portrait made earlier", elem_id="cast-lib-portrait",
                                  info="Portraits from the Portrait tab", scale=1, min_width=160)
            board = gr.HTML(cards_html(studio), elem_id="cast-cards")
    char_id = gr.State(None)

    def choices() -> list[str]:
        return [NEW, *studio.cast.names()]

    @roles.reader
    def refresh():
        return (gr.update(choices=choices()), gr.update(choices=voice_names(studio)),
                gr.update(choices=portrait_choices(studio)), cards_html(studio))

    outputs = [pick, voice, lib, board]

    @roles.reader
    def load(choice: str | None):
        c = studio.cast.get(choice) if choice and choice != NEW else None
        if c is None:
            return None, "", "", None, "None", -1, None, "", 0.8, None
        return c.id, c.name, c.look, c.voice, c.style, c.seed, c.portrait, "", c.likeness, c.reference

    pick.input(load, inputs=[pick], outputs=[char_id, name, look, voice, style, seed, portrait, status, likeness,
                                             reference], **jobrun.PRIVATE)

    @roles.owner_only("add or change cast members")
    def do_save(cid, n, lk, v, st, sd, img, strength=None, ref=None):
        roles.require_owner(studio, "add or change cast members")
        try:
            c = studio.cast.save(n, look=lk, portrait=img, voice=v, seed=sd, style=st, id=cid, likeness=strength,
                                 reference=ref or None)
        except BackendError as err:
            return (cid, f"⚠ {err.message}", *(gr.update() for _ in outputs))
        p, vo, lb, bd = refresh()
        saved = f"Saved “{c.name}”."
        # Checked here, when the portrait joins the cast, not only when a talking head is about to be sent.
        no_face = face_warning(c.portrait, "Portrait") if c.portrait else None
        if no_face:
            saved += f" ⚠ {no_face} Talking heads of this character would fail."
        return c.id, saved, gr.update(choices=choices(), value=c.name), vo, lb, bd

    save.click(do_save, inputs=[char_id, name, look, voice, style, seed, portrait, likeness, reference],
               outputs=[char_id, status, *outputs], **jobrun.PRIVATE)

    @roles.owner_only("delete cast members")
    def do_delete(cid):
        roles.require_owner(studio, "delete cast members")
        c = studio.cast.get(cid) if cid else None
        if c is None:
            return (None, "⚠ Character: pick a saved character first.", *(gr.update() for _ in outputs))
        studio.cast.delete(c.id)
        p, vo, lb, bd = refresh()
        return (None, f"Removed “{c.name}” from the cast (their portrait, voice and outputs are kept).",
                gr.update(choices=choices(), value=NEW), vo, lb, bd)

    delete.click(do_delete, inputs=[char_id], outputs=[char_id, status, *outputs], **jobrun.PRIVATE).then(
        lambda: ("", "", None, "None", -1, None), outputs=[name, look, voice, style, seed, portrait],
        **jobrun.PRIVATE)
    def do_sheet(cid):
        roles.require_owner(studio, "make character sheets")
        try:
            sent = character_sheet.make_sheet(studio, cid, STYLES)
        except BackendError as err:
            return f"⚠ {err.message}"
        return (f"Sent {len(sent)} views (front, three-quarter, profile, full figure) drawn from the reference: "
                "they finish in the Jobs tab; pick one as **Reference for panels** to keep it.")

    sheet.click(do_sheet, inputs=[char_id], outputs=[status], **jobrun.PRIVATE)
    lib.input(lambda p: p or gr.update(), inputs=[lib], outputs=[portrait], **jobrun.PRIVATE)
    gr.on([lib.focus, voice.focus, reference.focus], lambda: (gr.update(choices=portrait_choices(studio)),
                                                              gr.update(choices=voice_names(studio)),
                                                              gr.update(choices=portrait_choices(studio))),
          outputs=[lib, voice, reference], queue=False, show_progress="hidden", **jobrun.PRIVATE)
    return CastTab(portrait=portrait, voice=voice, name=name, pick=pick, refresh=refresh, outputs=outputs,
                   editor=[char_id, pick, name, look, voice, style, seed, portrait, status])


def new_character(studio: Any, *, portrait: str | None = None, voice: str | None = None) -> tuple:
    """Editor updates (CastTab.editor order) that start a new character from a hand-off."""
    what = "portrait" if portrait else "voice"
    note = (f"Added the {what} to a new character: give them a name and a look, then press **Save character**."
            if portrait or voice else "⚠ Nothing to add: make or pick one first.")
    return (None, gr.update(choices=[NEW, *studio.cast.names()], value=NEW), voice or "", "",
            gr.update(choices=voice_names(studio), value=voice), "None", -1, portrait, note)
