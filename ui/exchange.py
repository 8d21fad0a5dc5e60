"""Export the whole studio (library, history, voices, comments) as one .zip, or merge one in.

An export is written straight into Gradio's cache folder (under `studio-exports/`), so Gradio serves that one file
without copying it; each export is deleted EXPORT_TTL seconds after it was made (older ones are also swept at each
export) and the whole folder when the studio stops, so no zip of the studio is left behind. A reviewer's export
leaves out the inputs (reference recordings, uploads): backend.exchange.REVIEWER_LEAVES_OUT. A reviewer's pages
and page exports are written into such a folder too (`transient_folder`): a reviewer writes nothing into the
data folder.
"""
from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from backend.exchange import REVIEWER_LEAVES_OUT, export_zip, import_zip
from ui import jobrun, roles

EXPORT_TTL = 15 * 60          # long enough to download it, short enough that copies do not pile up
EXPORTS = "studio-exports"


def exports_folder() -> Path:
    return Path(get_upload_folder()) / EXPORTS


def sweep_exports(folder: Path, older_than: float) -> None:
    """Delete the exports made more than `older_than` seconds ago (all of them with 0)."""
    if not folder.is_dir():
        return
    now = time.time()
    for d in folder.iterdir():
        try:
            if now - d.stat().st_mtime >= older_than:
                shutil.rmtree(d, ignore_errors=True) if d.is_dir() else d.unlink(missing_ok=True)
        except OSError:
            continue


def transient_folder(prefix: str) -> Path:
    """A new folder in the exports folder for files handed out once and kept nowhere (a studio export, a
    reviewer's pages): Gradio serves them from there without a copy; deleted EXPORT_TTL seconds from now."""
    folder = exports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    sweep_exports(folder, EXPORT_TTL)
    one = Path(tempfile.mkdtemp(prefix=prefix, dir=folder))
    timer = threading.Timer(EXPORT_TTL, shutil.rmtree, args=(one,), kwargs={"ignore_errors": True})
    timer.daemon = True
    timer.start()
    return one


def export_file(studio: Any, role: str | None = None) -> str:
    """A fresh .zip of the studio for the calling role (owners: everything; reviewers: no inputs)."""
    role = role or roles.current_role(studio)
    one = transient_folder("export-")
    dest = one / f"studio-{time.strftime('%Y%m%d-%H%M')}.zip"
    try:
        export_zip(studio.settings.data_dir, dest, leave_out=() if role == roles.OWNER else REVIEWER_LEAVES_OUT)
    except BaseException:
        shutil.rmtree(one, ignore_errors=True)
        raise
    return str(dest)


def import_file(studio: Any, path: str) -> str:
    roles.require_owner(studio, "import into the studio")
    try:
        got = import_zip(Path(path), studio.settings.data_dir)
    except (ValueError, OSError) as err:
        raise gr.Error(f"Studio export: {err}", print_exception=False) from None
    return (f"Imported {got['files']} new files ({got['kept']} were already here), {got['jobs']} jobs, "
            f"{got['voices']} voices and {got['comments']} comments.")


def build(studio: Any) -> None:
    with gr.Accordion("Export or import the whole studio", open=False, elem_id="exchange"):
        gr.Markdown("One .zip with every output, input, voice, job and comment (a reviewer's leaves out the inputs: "
                    "reference recordings and uploads). Importing merges a studio's export into this one without "
                    "duplicates.")
        with gr.Row():
            with gr.Column():
                export = gr.Button("Export the studio", elem_id="exchange-export", size="sm")
                exported = gr.File(label="Export", interactive=False, visible=False, elem_id="exchange-file")
            with gr.Column():
                upload = gr.File(label="A studio export (.zip) to import", file_types=[".zip"], type="filepath",
                                 elem_id="exchange-upload")
                note = gr.Markdown("", elem_id="exchange-note")

    export.click(roles.reader(lambda: gr.update(value=export_file(studio), visible=True)), outputs=[exported],
                 **jobrun.PRIVATE)
    upload.upload(roles.owner_only("import into the studio")(lambda p: import_file(studio, p)), inputs=[upload],
                  outputs=[note], **jobrun.PRIVATE)
