"""Nothing lost to one click: the two-step delete every tab uses, the message with its Undo, the Trash list (in
Jobs) and the named API/MCP tools `trash` and `restore` (owners only)."""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from backend import trash as T
from backend.errors import BackendError
from ui import jobrun, roles


CONFIRM = "Click again to delete"


def armed_html(what: str) -> str:
    return (f'<div class="job-status trash-note" data-kind="confirm">Move {html.escape(what)} to the trash? '
            'Click the button again to do it (you can undo it).</div>')


def moved_html(item: T.TrashItem) -> str:
    return (f'<div class="job-status trash-note" data-kind="trashed">{html.escape(item.what)} moved to the trash '
            f'(kept {T.KEEP_S // 86400} days: <b>Undo</b> here, or restore it from Jobs → Trash).</div>')


def restored_html(item: T.TrashItem) -> str:
    return f'<div class="job-status trash-note" data-kind="restored">{html.escape(item.what)} is back.</div>'


def problem_html(text: str) -> str:
    return f'<div class="job-status job-error" data-kind="invalid">⚠ {html.escape(text)}</div>'


def two_step(studio: Any, button_text: str, doing: str, what_of: Callable[[Any], str | None],
             do: Callable[[Any], tuple], n_out: int) -> Callable:
    """A click handler (key, armed) → (armed, button, note, *do's n_out updates).

    The first click arms the button for that key and the note says what a second click does; the second click
    calls `do(key)` → (note, *updates). `what_of(key)` names the thing ("Scene “Harbour”"), None when there is
    nothing to delete."""

    def handler(key: Any, armed: Any):
        roles.require_owner(studio, doing)
        what = what_of(key)
        if what is None:
            return (None, gr.update(value=button_text), problem_html("Nothing picked to delete."),
                    *(gr.skip() for _ in range(n_out)))
        if armed != key:
            return (key, gr.update(value=CONFIRM, variant="stop"), armed_html(what),
                    *(gr.skip() for _ in range(n_out)))
        try:
            note, *updates = do(key)
        except BackendError as err:
            return (None, gr.update(value=button_text, variant="secondary"), problem_html(err.message),
                    *(gr.skip() for _ in range(n_out)))
        return (None, gr.update(value=button_text, variant="secondary"), note, *updates)

    return handler


def disarm(button_text: str) -> tuple:
    """(armed, button): another thing was picked, so the next click asks again."""
    return None, gr.update(value=button_text, variant="secondary")


# -- the Trash list (in Jobs) ---------------------------------------------------------------------------------
def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%d %b %H:%M")


def item_choices(studio: Any) -> list[tuple[str, str]]:
    return [(f"{i.what} — deleted {_when(i.deleted_at)}, kept until {_when(i.expires_at(studio.trash.keep_s))}",
             i.id) for i in studio.trash.list()]


@dataclass
class TrashView:
    refresh: Callable[[], Any]
    picker: gr.Radio
    box: gr.Accordion           # owners only


def build(studio: Any) -> TrashView:
    with gr.Accordion("Trash — deleted scenes, cast, voices and outputs (kept 30 days)", open=False,
                      elem_id="trash") as box:
        picker = gr.Radio([], value=None, label="In the trash", elem_id="trash-items",
                          info="Pick one and press Restore to put it back where it was")
        empty = gr.Markdown("*The trash is empty.*", elem_id="trash-empty")
        restore = gr.Button("Restore", elem_id="trash-restore", size="sm")
        note = gr.HTML("", elem_id="trash-note")

    def refresh():
        ch = item_choices(studio)
        return gr.update(choices=ch, value=None), gr.update(visible=not ch)

    def do_restore(item_id: str | None):
        roles.require_owner(studio, "restore from the trash")
        if not item_id:
            return problem_html("Pick something in the trash first."), *refresh()
        try:
            item = T.restore(studio, item_id)
        except BackendError as err:
            return problem_html(err.message), *refresh()
        return restored_html(item), *refresh()

    box.expand(refresh, outputs=[picker, empty], **jobrun.PRIVATE)
    restore.click(do_restore, inputs=[picker], outputs=[note, picker, empty], **jobrun.PRIVATE)
    return TrashView(refresh=refresh, picker=picker, box=box)


# -- the named API / MCP --------------------------------------------------------------------------------------
def trash_endpoint(studio: Any) -> Callable[[], list[dict[str, Any]]]:
    def trash() -> list[dict[str, Any]]:
        """What is in the studio's trash: deleted scenes, cast members, voices and job outputs, kept 30 days.

        Returns:
            A JSON list, newest first: id (to pass to `restore`), kind (scene | character | voice | outputs),
            name, deleted_at and expires_at (ISO 8601, UTC).
        """
        roles.require_owner(studio, "see the trash")
        iso = (lambda ts: dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds"))
        return [{"id": i.id, "kind": i.kind, "name": i.label, "deleted_at": iso(i.deleted_at),
                 "expires_at": iso(i.expires_at(studio.trash.keep_s))} for i in studio.trash.list()]

    return trash


def restore_endpoint(studio: Any) -> Callable[[str], str]:
    def restore(item: str) -> str:
        """Put an item of the trash back where it was (a scene in Scenes, a character in the Cast, a voice in
        the voice library, outputs back on their job).

        Args:
            item: the item's id, as `trash` lists it.

        Returns:
            A sentence saying what came back.
        """
        roles.require_owner(studio, "restore from the trash")
        try:
            got = T.restore(studio, (item or "").strip())
        except BackendError as err:
            field = getattr(err, "field", None)
            raise gr.Error(f"{field}: {err.message}" if field else err.message, print_exception=False) from None
        return f"{got.what} is back."

    return restore


def build_api(studio: Any) -> None:
    """Hidden components carrying `trash` and `restore` (inside the Blocks)."""
    with gr.Column(visible=False):
        gr.Button(visible=False).click(trash_endpoint(studio), outputs=[gr.JSON(visible=False)], api_name="trash",
                                       concurrency_limit=None)
        gr.Button(visible=False).click(restore_endpoint(studio), inputs=[gr.Textbox(visible=False)],
                                       outputs=[gr.Textbox(visible=False)], api_name="restore",
                                       concurrency_limit=None)
