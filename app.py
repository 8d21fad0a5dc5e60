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
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from backend.errors import SettingsError
from backend.settings import Settings, parse_logins
from ui import (api, endpoint, exchange, handoffs, jobs, mcp_login, music, page_js, panel, portrait, review_api, roles,
                serve_guard, talking_head, voice)
from ui import cast as cast_ui
from ui import scenes as scenes_ui
from ui import pages as pages_ui
from ui import pages_api
from ui import trash as trash_ui
from ui.jobrun import PRIVATE
from ui.voice import library_hint, voice_names

BANNERS = {
    "preview": "**Preview mode** — no RunPod credentials were found, so jobs run on a local endpoint with the "
               "preview engine: outputs are marked placeholders made without a GPU. Set RUNPOD_API_KEY and "
               "RUNPOD_ENDPOINT_ID to use RunPod.",
    "local": "**Local mode** — jobs go to the local endpoint named by RUNPOD_API_BASE.",
    "runpod": "**RunPod mode** — jobs run on your RunPod Serverless endpoint.",
}

OWNER_TABS = ("portrait", "voice", handoffs.TALKING_HEAD_TAB, "panel", "music", handoffs.CAST_TAB, "endpoint")
CSS = """
.job-status progress { width: 100%; height: 12px; display: block; margin-top: 4px; }
.licence-note { margin-top: 6px; font-size: 0.9em; color: #8a5a00; }
.job-error { color: #b00020; }
.job-id { font-size: 0.8em; opacity: 0.7; }
/* A lone portrait fills the gallery's width as a square taller than its frame: capped, it shows whole. */
#portrait-gallery .grid-container { grid-auto-rows: minmax(0, 390px); }
#portrait-gallery .thumbnail-item { max-height: 390px; }
#portrait-gallery .thumbnail-item img { height: 100%; object-fit: contain; }
/* A job's settings: a long value (a scene's script) squeezed the names to a letter a line. */
#jobs-details td:first-child { white-space: nowrap; }
""" + scenes_ui.CSS + pages_ui.CSS


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


def resolve_auth(args: argparse.Namespace, env: Mapping[str, str]
                 ) -> tuple[list[tuple[str, str]] | None, str | None]:
    """(logins for the login page, generated-password notice). A shared link always gets a login.

    Owners come from --auth / STUDIO_AUTH, reviewers from STUDIO_REVIEWERS (both `user:pass[,user:pass…]`).
    Reviewers without any owner would leave nobody able to run jobs, so an owner login is made as for --share."""
    try:
        owners = parse_logins(args.auth or env.get("STUDIO_AUTH") or "", "--auth / STUDIO_AUTH")
        reviewers = parse_logins(env.get("STUDIO_REVIEWERS") or "", "STUDIO_REVIEWERS")
    except SettingsError as err:
        raise SystemExit(str(err)) from None
    clash = {u for u, _ in owners} & {u for u, _ in reviewers}
    if clash:
        raise SystemExit(f"STUDIO_REVIEWERS: {', '.join(sorted(clash))} is also an owner; a login has one role")
    notice = None
    if not owners and (args.share or reviewers):
        password = secrets.token_urlsafe(12)
        owners = [("studio", password)]
        notice = f"Owner login: user 'studio', password '{password}' (set --auth or STUDIO_AUTH to choose)"
    logins = owners + reviewers
    return (logins or None), notice


def served_paths(data_dir: Path) -> tuple[list[str], list[str]]:
    """(allowed, blocked) for Gradio's file routes: the library's media only, never the database, its WAL and
    backups, the journal, the endpoint's state or logs."""
    lib = data_dir / "library"
    allowed = [lib / "outputs", lib / "inputs", lib / "downloads"]
    blocked = [data_dir / n for n in ("studio.sqlite3", "studio.sqlite3-wal", "studio.sqlite3-shm",
                                      "studio.sqlite3-journal", "backups", "preview-endpoint", ".env")]
    blocked += [lib / "tmp", lib / "meta"]
    if data_dir.is_dir():
        blocked += [p for p in data_dir.iterdir() if p.name != "library"]
        blocked += [p for p in lib.iterdir() if p.name not in ("outputs", "inputs", "downloads")] if lib.is_dir() else []
    return [str(p.resolve()) for p in allowed], sorted({str(p.resolve()) for p in blocked})


def mcp_enabled(args: argparse.Namespace, env: Mapping[str, str]) -> bool:
    return bool(args.mcp) or env.get("STUDIO_MCP", "").strip().lower() in ("1", "true", "yes", "on")


def build_blocks(studio: Any) -> gr.Blocks:
    with gr.Blocks(title="Graphic novel studio") as demo:
        gr.Markdown("# Graphic novel studio")
        gr.Markdown(BANNERS.get(studio.mode, studio.mode), elem_id="mode-banner")
        if getattr(studio, "notice", None):
            gr.Markdown(f"⚠ **History repaired.** {studio.notice}", elem_id="history-banner")
        role_note = gr.Markdown("", visible=False, elem_id="role-banner")
        role_style = gr.HTML("", elem_id="role-style", padding=False)
        # Every tab in sight on a phone too (wrapped onto rows), not folded into a "More tabs" menu.
        with gr.Tabs(overflow_behavior="wrap") as tabs:
            with gr.Tab("Portrait", id="portrait") as t_portrait:
                portrait_tab = portrait.build(studio)
                portrait_add = gr.Button("Add chosen portrait to the cast", elem_id="portrait-add-cast")
            with gr.Tab("Voice", id="voice") as t_voice:
                voice_tab = voice.build(studio)
                voice_add = gr.Button("Add the voice picked in the library to the cast", elem_id="voice-add-cast")
            with gr.Tab("Talking head", id=handoffs.TALKING_HEAD_TAB) as t_head:
                th_tab = talking_head.build(studio)
            with gr.Tab("Panel animation", id="panel") as t_panel:
                panel.build(studio)
            with gr.Tab("Music", id="music") as t_music:
                music.build(studio)
            with gr.Tab("Scenes", id="scenes") as scenes_page:
                scenes_tab = scenes_ui.build(studio)
            with gr.Tab("Cast", id=handoffs.CAST_TAB) as cast_page:
                cast_tab = cast_ui.build(studio)
            with gr.Tab("Jobs", id="jobs") as jobs_page:
                jobs_tab = jobs.build(studio)
                exchange.build(studio)
                trash_view = trash_ui.build(studio)
            with gr.Tab("Endpoint", id="endpoint") as t_endpoint:
                endpoint.build(studio)
        # What a reviewer may not use is hidden for them (the handlers refuse it as well: ui/roles.py).
        owner_only = [t_portrait, t_voice, t_head, t_panel, t_music, cast_page, t_endpoint, *jobs_tab.owner_only,
                      *scenes_tab["owner_only"], trash_view.box]
        read_only = scenes_tab["read_only"]
        reviewer_only = scenes_tab["reviewer_only"]     # what a reviewer reads instead of the owner's help
        handoffs.wire(studio, tabs, portrait_tab, voice_tab, th_tab)
        handoffs.wire_cast(studio, tabs, portrait_tab, voice_tab, cast_tab, portrait_add, voice_add)
        cast_page.select(cast_tab.refresh, outputs=cast_tab.outputs, **PRIVATE)
        demo.load(scenes_tab["load"], outputs=scenes_tab["load_outputs"], **PRIVATE)
        # Back on Scenes (e.g. after a character joined the Cast), the script is checked against the cast again.
        scenes_page.select(scenes_tab["show"], inputs=scenes_tab["show_inputs"], outputs=scenes_tab["show_outputs"],
                           show_progress="hidden", **PRIVATE)
        api.build(studio)
        api.build_scenes(studio)
        pages_api.build(studio)
        review_api.build(studio)
        trash_ui.build_api(studio)
        jobs_page.select(jobs_tab.refresh, inputs=jobs_tab.inputs, outputs=jobs_tab.outputs, **PRIVATE)

        @roles.reader
        def on_load(*filters: str):
            names = voice_names(studio)
            role = roles.current_role(studio)
            owner = role == roles.OWNER
            note = (gr.update(visible=True, value=roles.ROLE_NOTES[role]) if not owner else gr.update(visible=False))
            refreshed = list(jobs_tab.refresh(*filters))
            visibility = [gr.update(visible=owner) for _ in owner_only]
            editable = [gr.update(interactive=owner) for _ in read_only]
            instead = [gr.update(visible=not owner) for _ in reviewer_only]
            # Gradio hides a tab's content but not its button: the buttons go by style, and the page opens on Jobs.
            style = "" if owner else ("<style>" + ", ".join(f"button[data-tab-id='{t}']" for t in OWNER_TABS)
                                      + " { display: none !important; }</style>")
            return (gr.update(choices=names, info=library_hint(names)), gr.update(choices=names), note, style,
                    gr.update() if owner else gr.update(selected="jobs"), *refreshed, *visibility, *editable,
                    *instead)

        demo.load(on_load, inputs=jobs_tab.inputs,
                  outputs=[voice_tab.voices, th_tab.voices, role_note, role_style, tabs, *jobs_tab.outputs,
                           *owner_only, *read_only, *reviewer_only], **PRIVATE)
        # Last: every event built above (page and named API) behind its role; unmarked ones are owner-only.
        roles.guard_events(demo, studio)
    return demo


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    env = os.environ
    auth, notice = resolve_auth(args, env)
    from backend.studio import Studio  # heavy: imported after the arguments are known to be good

    settings = replace(Settings.from_env(), login_required=auth is not None)
    studio = Studio(settings)
    if studio.notice:                       # the history was repaired before anything started
        print(f"WARNING: {studio.notice}", flush=True)
    studio.start()
    print(f"studio mode: {studio.mode}", flush=True)
    demo = build_blocks(studio)
    demo.queue(default_concurrency_limit=8)
    loopback = mcp_login.loopback_login() if auth and mcp_enabled(args, env) else None
    allowed, blocked = served_paths(settings.data_dir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        # quiet: Gradio's own start lines suggest `share=True` in launch(); the studio's hints name its options.
        demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                    auth=auth + [loopback] if loopback else auth,
                    mcp_server=mcp_enabled(args, env), allowed_paths=allowed, blocked_paths=blocked,
                    prevent_thread_lock=True, show_error=True, css=CSS + page_js.CSS, js=page_js.JS, quiet=True,
                    app_kwargs={"middleware": [serve_guard.middleware(settings.data_dir)]})
        api.describe_files_truthfully(demo)
        if loopback and not mcp_login.attach(demo, loopback):
            print("WARNING: MCP behind the login page is not available with this Gradio", flush=True)
        if demo.share_url:
            print(f"public link: {demo.share_url}", flush=True)
        elif not args.share:
            print("(for a public link, start with --share; add --auth user:pass to choose the login)", flush=True)
        if notice:
            print(notice, flush=True)
        print(f"studio ready: http://{args.host}:{args.port}/", flush=True)
        stop.wait()
    finally:
        demo.close()
        studio.close()
        exchange.sweep_exports(exchange.exports_folder(), 0)
    sys.exit(0)


if __name__ == "__main__":
    main()
