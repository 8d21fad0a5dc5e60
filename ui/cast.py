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
from ui import trash as trash_ui
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
                undo = gr.Button("Undo", elem_id="cast-undo", visible=False)
            status = gr.Markdown("", elem_id="cast-status")
        with gr.Column(scale=1):
            portrait = gr.Image(label="Portrait", type="filepath", sources=["upload", "clipboard"], height=220,
                                elem_id="cast-portrait")
            # Earlier portraits as thumbnails: a click makes one this character's portrait.
            lib = gr.Gallery([], label="…or click a portrait made earlier (Portrait tab)", elem_id="cast-lib-portrait",
                             columns=6, height=200, allow_preview=False, object_fit="cover", interactive=False,
                             show_label=True)
    # The cards take the page's width (they wrap), not a narrow column beside the editor.
    board = gr.HTML(cards_html(studio), elem_id="cast-cards")
    char_id = gr.State(None)
    armed = gr.State(None)
    trashed = gr.State(None)

    def choices() -> list[str]:
        return [NEW, *studio.cast.names()]

    @roles.reader
    def refresh():
        return (gr.update(choices=choices()), gr.update(choices=voice_names(studio)),
                gallery(), cards_html(studio))

    def gallery(reset: bool = False):
        items = [(p, label) for label, p in portrait_choices(studio)]
        return gr.update(value=items, selected_index=None) if reset else gr.update(value=items)

    outputs = [pick, voice, lib, board]

    @roles.reader
    def load(choice: str | None):
        """Another character: every field follows, the earlier-portrait pick included."""
        c = studio.cast.get(choice) if choice and choice != NEW else None
        if c is None:
            return (None, "", "", None, "None", -1, None, "", 0.8, None, gallery(reset=True),
                    *trash_ui.disarm("Remove from cast"))
        return (c.id, c.name, c.look, c.voice, c.style, c.seed, c.portrait, "", c.likeness, c.reference,
                gallery(reset=True), *trash_ui.disarm("Remove from cast"))

    pick.input(load, inputs=[pick], outputs=[char_id, name, look, voice, style, seed, portrait, status, likeness,
                                             reference, lib, armed, delete], **jobrun.PRIVATE)

    @roles.owner_only("add or change cast members")
    def do_save(cid, n, lk, v, st, sd, img, strength=None, ref=None, asked=None):
        roles.require_owner(studio, "add or change cast members")
        before = studio.cast.get(cid) if cid else None
        ask = rename_asks(before.name if before else None, n or "", cid, asked)
        if ask is not None:     # nothing is saved on this click: a new name over a picked character is asked about
            return (cid, rename_question(before.name, (n or "").strip()), *(gr.update() for _ in outputs), ask)
        try:
            c = studio.cast.save(n, look=lk, portrait=img, voice=v, seed=sd, style=st, id=cid, likeness=strength,
                                 reference=ref or None)
        except BackendError as err:
            return (cid, f"⚠ {err.message}", *(gr.update() for _ in outputs), None)
        p, vo, lb, bd = refresh()
        saved = saved_note(before.name if before else None, c.name)
        # Checked here, when the portrait joins the cast, not only when a talking head is about to be sent.
        no_face = face_warning(c.portrait, "Portrait") if c.portrait else None
        if no_face:
            saved += f" ⚠ {no_face} Talking heads of this character would fail."
        return c.id, saved, gr.update(choices=choices(), value=c.name), vo, lb, bd, None

    rename_asked = gr.State(None)   # the rename a first Save asked about; a second Save of it renames
    save.click(do_save, inputs=[char_id, name, look, voice, style, seed, portrait, likeness, reference, rename_asked],
               outputs=[char_id, status, *outputs, rename_asked], **jobrun.PRIVATE)

    # Remove asks once (a second click), moves the character to the trash and offers Undo.
    def cast_what(cid):
        c = studio.cast.get(cid) if cid else None
        return f"Cast member “{c.name}”" if c else None

    def do_delete(cid):
        item = trash_ui.T.discard(studio, "character", cid)
        p, vo, lb, bd = refresh()
        return (trash_ui.moved_html(item), None, gr.update(choices=choices(), value=NEW), vo, lb, bd,
                "", "", None, "None", -1, None, gr.update(visible=True), item.id)

    after = [char_id, *outputs, name, look, voice, style, seed, portrait, undo, trashed]
    delete.click(trash_ui.two_step(studio, "Remove from cast", "delete cast members", cast_what, do_delete,
                                   len(after)),
                 inputs=[char_id, armed], outputs=[armed, delete, status, *after], **jobrun.PRIVATE)

    def do_undo(item_id):
        roles.require_owner(studio, "restore cast members")
        try:
            item = trash_ui.T.restore(studio, item_id or "")
        except BackendError as err:
            return (trash_ui.problem_html(err.message), *(gr.skip() for _ in range(7)), gr.update(visible=False),
                    None)
        c = studio.cast.get(item.record["id"])
        p, vo, lb, bd = refresh()
        vo = gr.update(choices=voice_names(studio), value=c.voice)
        return (trash_ui.restored_html(item), c.id, gr.update(choices=choices(), value=c.name), vo, lb, bd,
                c.name, c.look, gr.update(visible=False), None)

    undo.click(do_undo, inputs=[trashed], outputs=[status, char_id, pick, voice, lib, board, name, look, undo,
                                                    trashed], **jobrun.PRIVATE)

    def on_gallery(evt: gr.SelectData):
        shown = portrait_choices(studio)
        i = evt.index if isinstance(evt.index, int) else None
        return shown[i][1] if i is not None and 0 <= i < len(shown) else gr.skip()

    lib.select(on_gallery, outputs=[portrait], **jobrun.PRIVATE)
    gr.on([voice.focus, reference.focus], lambda: (gr.update(choices=voice_names(studio)),
                                                   gr.update(choices=portrait_choices(studio))),
          outputs=[voice, reference], queue=False, show_progress="hidden", **jobrun.PRIVATE)

    def do_sheet(cid):
        roles.require_owner(studio, "make character sheets")
        try:
            sent = character_sheet.make_sheet(studio, cid, STYLES)
        except BackendError as err:
            return f"⚠ {err.message}"
        return (f"Sent {len(sent)} views (front, three-quarter, profile, full figure) drawn from the reference: "
                "they finish in the Jobs tab; pick one as **Reference for panels** to keep it.")

    sheet.click(do_sheet, inputs=[char_id], outputs=[status], **jobrun.PRIVATE)
    return CastTab(portrait=portrait, voice=voice, name=name, pick=pick, refresh=refresh, outputs=outputs,
                   editor=[char_id, pick, name, look, voice, style, seed, portrait, status])


def rename_asks(before: str | None, after: str, cid: str | None, asked: str | None) -> str | None:
    """None: save now. Else the rename to ask about first (kept in the page's state): a new name typed over a
    picked character would rename them — their look, portrait and voice too — so the first Save only asks, and a
    second Save of the same name renames. (A newcomer typing a second character's name would otherwise lose the
    first: "nothing lost to one click".)"""
    if not before or not after.strip() or before.casefold() == after.strip().casefold():
        return None
    key = f"{cid}:{after.strip().casefold()}"
    return None if asked == key else key


def rename_question(before: str, after: str) -> str:
    return (f"⚠ Nothing saved yet: this would rename “{before}” to “{after}”. To add “{after}” as another "
            f"character, pick “{NEW}” first; to rename, press **Save character** again.")


def saved_note(before: str | None, after: str) -> str:
    """What Save did. A new name typed over a picked character renames it (its look, portrait and voice too):
    said so, with the way to add a second character instead, since that is what a new name usually means."""
    if before and before.casefold() != after.casefold():
        return (f"Renamed “{before}” to “{after}” and saved. To add another character instead, pick "
                f"“{NEW}” first.")
    return f"Saved “{after}”."


def new_character(studio: Any, *, portrait: str | None = None, voice: str | None = None) -> tuple:
    """Editor updates (CastTab.editor order) that start a new character from a hand-off."""
    what = "portrait" if portrait else "voice"
    note = (f"Added the {what} to a new character: give them a name and a look, then press **Save character**."
            if portrait or voice else "⚠ Nothing to add: make or pick one first.")
    return (None, gr.update(choices=[NEW, *studio.cast.names()], value=NEW), voice or "", "",
            gr.update(choices=voice_names(studio), value=voice), "None", -1, portrait, note)
