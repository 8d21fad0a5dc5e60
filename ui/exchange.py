"""Export the whole studio (library, history, voices, comments) as one .zip, or merge one in."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import gradio as gr

from backend.exchange import export_zip, import_zip
from backend.exports import export_folder
from ui import jobrun, roles


def export_file(studio: Any) -> str:
    # A served, pruned folder (backend/exports.py): each export no longer leaves a whole-studio copy in /tmp.
    dest = export_folder(studio.library.root) / f"studio-{time.strftime('%Y%m%d-%H%M')}.zip"
    export_zip(studio.settings.data_dir, dest)
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
        gr.Markdown("One .zip with every output, input, voice, job and comment. Importing merges a studio's "
                    "export into this one without duplicates.")
        with gr.Row():
            with gr.Column():
                export = gr.Button("Export the studio", elem_id="exchange-export", size="sm")
                exported = gr.File(label="Export", interactive=False, visible=False, elem_id="exchange-file")
            with gr.Column():
                upload = gr.File(label="A studio export (.zip) to import", file_types=[".zip"], type="filepath",
                                 elem_id="exchange-upload")
                note = gr.Markdown("", elem_id="exchange-note")

    export.click(lambda: gr.update(value=export_file(studio), visible=True), outputs=[exported], **jobrun.PRIVATE)
    upload.upload(lambda p: import_file(studio, p), inputs=[upload], outputs=[note], **jobrun.PRIVATE)
