"""The studio: `python app.py [--host 127.0.0.1] [--port 7860] [--share] [--auth user:pass] [--mcp]`.

Assembles the pieces only: settings from the environment, the backend Studio (which starts a local preview
endpoint itself when there are no RunPod credentials), the tabs, the named API, and the launch.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import gradio as gr

from backend.settings import Settings
from ui import api, endpoint, handoffs, jobs, music, panel, portrait, talking_head, voice
from ui import cast as cast_ui
from ui import scenes as scenes_ui
from ui.jobrun import PRIVATE
from ui.voice import voice_names

BANNERS = {
    "preview": "**Preview mode** — no RunPod credentials were found, so jobs run on a local endpoint with the "
               "preview engine: outputs are marked placeholders made without a GPU. Set RUNPOD_API_KEY and "
               "RUNPOD_ENDPOINT_ID to use RunPod.",
    "local": "**Local mode** — jobs go to the local endpoint named by RUNPOD_API_BASE.",
    "runpod": "**RunPod mode** — jobs run on your RunPod Serverless endpoint.",
}

CSS = """
.job-status progress { width: 100%; height: 12px; display: block; margin-top: 4px; }
.licence-note { margin-top: 6px; font-size: 0.9em; color: #8a5a00; }
.job-error { color: #b00020; }
.job-id { font-size: 0.8em; opacity: 0.7; }
""" + scenes_ui.CSS


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="The graphic-novel media studio (Gradio).")
    # A Hugging Face Space sets GRADIO_SERVER_NAME=0.0.0.0; everywhere else the studio stays on loopback.
    ap.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                    help="address to bind (default 127.0.0.1, or GRADIO_SERVER_NAME)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                    help="port (default 7860, or GRADIO_SERVER_PORT)")
    ap.add_argument("--share", action="store_true", help="make a public gradio.live link (login required)")
    ap.add_argument("--auth", default=None, help="user:pass for the login page (or env STUDIO_AUTH)")
    ap.add_argument("--mcp", action="store_true", help="also serve the MCP tools (or env STUDIO_MCP=1)")
    return ap.parse_args(argv)


def resolve_auth(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[tuple[str, str] | None, str | None]:
    """(credentials, generated-password notice). A shared link always gets a login."""
    raw = args.auth or env.get("STUDIO_AUTH") or None
    if raw:
        user, sep, password = raw.partition(":")
        if not sep or not user or not password:
            raise SystemExit("--auth / STUDIO_AUTH: expected user:pass, e.g. --auth editor:s3cret")
        return (user, password), None
    if args.share:
        password = secrets.token_urlsafe(12)
        return ("studio", password), f"Shared link login: user 'studio', password '{password}' (set --auth to choose)"
    return None, None


def mcp_enabled(args: argparse.Namespace, env: Mapping[str, str]) -> bool:
    return bool(args.mcp) or env.get("STUDIO_MCP", "").strip().lower() in ("1", "true", "yes", "on")


def build_blocks(studio: Any) -> gr.Blocks:
    with gr.Blocks(title="Graphic novel studio") as demo:
        gr.Markdown("# Graphic novel studio")
        gr.Markdown(BANNERS.get(studio.mode, studio.mode), elem_id="mode-banner")
        with gr.Tabs() as tabs:
            with gr.Tab("Portrait", id="portrait"):
                portrait_tab = portrait.build(studio)
                portrait_add = gr.Button("Add chosen portrait to the cast", elem_id="portrait-add-cast")
            with gr.Tab("Voice", id="voice"):
                voice_tab = voice.build(studio)
                voice_add = gr.Button("Add the voice picked in the library to the cast", elem_id="voice-add-cast")
            with gr.Tab("Talking head", id=handoffs.TALKING_HEAD_TAB):
                th_tab = talking_head.build(studio)
            with gr.Tab("Panel animation", id="panel"):
                panel.build(studio)
            with gr.Tab("Music", id="music"):
                music.build(studio)
            with gr.Tab("Scenes", id="scenes"):
                scenes_tab = scenes_ui.build(studio)
            with gr.Tab("Cast", id=handoffs.CAST_TAB) as cast_page:
                cast_tab = cast_ui.build(studio)
            with gr.Tab("Jobs", id="jobs") as jobs_page:
                jobs_tab = jobs.build(studio)
            with gr.Tab("Endpoint", id="endpoint"):
                endpoint.build(studio)
        handoffs.wire(studio, tabs, portrait_tab, voice_tab, th_tab)
        handoffs.wire_cast(studio, tabs, portrait_tab, voice_tab, cast_tab, portrait_add, voice_add)
        cast_page.select(cast_tab.refresh, outputs=cast_tab.outputs, **PRIVATE)
        demo.load(scenes_tab["load"], outputs=scenes_tab["load_outputs"], **PRIVATE)
        api.build(studio)
        api.build_scenes(studio)
        jobs_page.select(jobs_tab.refresh, inputs=jobs_tab.inputs, outputs=jobs_tab.outputs, **PRIVATE)

        def on_load(*filters: str):
            names = voice_names(studio)
            return (gr.update(choices=names), gr.update(choices=names), *jobs_tab.refresh(*filters))

        demo.load(on_load, inputs=jobs_tab.inputs, outputs=[voice_tab.voices, th_tab.voices, *jobs_tab.outputs],
                  **PRIVATE)
    return demo


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    env = os.environ
    auth, notice = resolve_auth(args, env)
    from backend.studio import Studio  # heavy: imported after the arguments are known to be good

    settings = Settings.from_env()
    studio = Studio(settings).start()
    print(f"studio mode: {studio.mode}", flush=True)
    demo = build_blocks(studio)
    demo.queue(default_concurrency_limit=8)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, auth=auth,
                    mcp_server=mcp_enabled(args, env), allowed_paths=[str(settings.data_dir.resolve())],
                    prevent_thread_lock=True, show_error=True, css=CSS)
        if notice:
            print(notice, flush=True)
        print(f"studio ready: http://{args.host}:{args.port}/", flush=True)
        stop.wait()
    finally:
        demo.close()
        studio.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
