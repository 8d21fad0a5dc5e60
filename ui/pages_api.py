"""The named API (and MCP tools) for pages: `scene_pages` and `scene_export`.

Owners may lay out a new script (it is saved as a scene, as `scene_render` does); owners and reviewers may fetch
the pages and exports of scenes that exist. Neither starts a job: art not made yet prints as a grey panel, with
a note (make the media with `scene_render` or the Scenes tab). A reviewer's pages and exports are written outside
the data folder and pruned (ui/pages.destination); an owner's are library files, an owner's export a "pages" job.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from backend.errors import BackendError
from backend.pages import store
from backend.pages.exports import EXPORT_FORMATS, ExportError, check_export_format, check_page_format
from backend.pages.model import FORMATS
from ui import roles
from ui.api import refuse
from ui.pages import destination

MAX_SCRIPT = 200_000


def _may_read(studio: Any) -> None:
    if roles.current_role(studio) == roles.VISITOR:
        raise refuse("Log in to this studio (as an owner or a reviewer) to fetch pages and exports.")


def _scene_for(studio: Any, scene: str, script: str) -> Any:
    """The scene to lay out: an existing one by name, or (owners only) a script saved as a scene."""
    from backend.scenes import make as M
    from backend.scenes.store import SceneRecord
    scene = (scene or "").strip()
    if (script or "").strip():
        roles.require_owner(studio, "create scenes")
        if len(script) > MAX_SCRIPT:
            raise refuse(f"script: at most {MAX_SCRIPT} characters")
        parsed, errors = M.parse(studio, script)
        if errors is not None:
            raise refuse("script: " + "; ".join(str(e) for e in errors.errors))
        name = scene or (parsed.title if parsed and parsed.title else "API scene")
        rec = studio.scenes.find(name) or SceneRecord(id="", title=name)
        rec.script = script
        return studio.scenes.save(rec)
    _may_read(studio)
    if not scene:
        raise refuse("scene: give a scene's name (or, as an owner, a script)")
    rec = studio.scenes.find(scene)
    if rec is None:
        names = [r.title for r in studio.scenes.list()][:20]
        raise refuse(f"scene: no scene is named {scene!r}; the scenes are: {', '.join(names) or 'none yet'}")
    return rec


def _page_format(name: str) -> str | None:
    if not (name or "").strip():
        return None
    try:
        return check_page_format(name.strip()).name
    except ExportError as err:
        raise refuse(err.message) from None


def scene_pages_endpoint(studio: Any):
    @roles.reviewer_may("fetch pages")
    def scene_pages(scene: str = "", script: str = "", page_format: str = "") -> tuple[list[str], dict[str, Any]]:
        """A scene laid out as lettered comic pages: one PNG per page, and the page model as JSON.

        The JSON has, per page, its panels (box [x, y, w, h] in points from the trimmed page's top-left, the
        faces found in the art) and its balloons (kind: speech, thought, whisper, shout, radio, caption or sfx;
        text; lines as lettered; box; tail as points from the balloon to the tip, or null; target_face).
        Nothing is made: art not made yet shows as a grey panel.

        Args:
            scene: The scene's name in the Scenes tab (reviewers may fetch existing scenes).
            script: Owners only: a scene in Fountain to lay out (saved under `scene`, or its Title).
            page_format: One of us_comic, us_trade, manga_b6, a4, webtoon; empty uses the scene's own.

        Returns:
            The page images (PNG, in reading order) and the page model.
        """
        fmt = _page_format(page_format)
        rec = _scene_for(studio, scene, script)
        try:
            paths, model, _ = store.page_images(studio, rec, fmt, into=destination(studio))
        except BackendError as err:
            raise refuse(err.message) from None
        return paths, model

    scene_pages.__doc__ = scene_pages.__doc__.replace("us_comic, us_trade, manga_b6, a4, webtoon", ", ".join(FORMATS))
    return scene_pages


def scene_export_endpoint(studio: Any):
    @roles.reviewer_may("export pages")
    def scene_export(scene: str = "", format: str = "pdf", page_format: str = "", script: str = "") -> str:
        """Export a scene as a comic: a print PDF, a CBZ, a fixed-layout EPUB 3, webtoon slices (a .zip) or the
        page model as JSON. An owner's file is kept in the library and the export is listed in Jobs (action
        "pages"); a reviewer's is only handed back.

        Args:
            scene: The scene's name in the Scenes tab (reviewers may export existing scenes).
            format: One of pdf, cbz, epub, webtoon, json. Default: pdf.
            page_format: One of us_comic, us_trade, manga_b6, a4, webtoon; empty uses the scene's own.
            script: Owners only: a scene in Fountain to export (saved under `scene`, or its Title).

        Returns:
            The exported file.
        """
        try:
            check_export_format((format or "").strip())
        except ExportError as err:
            raise refuse(err.message) from None
        fmt = _page_format(page_format)
        rec = _scene_for(studio, scene, script)
        try:
            done = store.export_scene(studio, rec, format.strip(), fmt, into=destination(studio))
        except BackendError as err:
            raise refuse(err.message) from None
        return done.path

    scene_export.__doc__ = (scene_export.__doc__.replace("pdf, cbz, epub, webtoon, json", ", ".join(EXPORT_FORMATS))
                            .replace("us_comic, us_trade, manga_b6, a4, webtoon", ", ".join(FORMATS)))
    return scene_export


def build(studio: Any) -> None:
    """Hidden components carrying `scene_pages` and `scene_export` (must be called inside the Blocks)."""
    with gr.Column(visible=False):
        ins = [gr.Textbox(visible=False, value=""), gr.Textbox(visible=False, value=""),
               gr.Textbox(visible=False, value="")]
        gr.Button(visible=False).click(scene_pages_endpoint(studio), inputs=ins,
                                       outputs=[gr.File(visible=False, file_count="multiple"),
                                                gr.JSON(visible=False)],
                                       api_name="scene_pages", concurrency_limit=2)
        ex_in = [gr.Textbox(visible=False, value=""), gr.Textbox(visible=False, value="pdf"),
                 gr.Textbox(visible=False, value=""), gr.Textbox(visible=False, value="")]
        gr.Button(visible=False).click(scene_export_endpoint(studio), inputs=ex_in,
                                       outputs=[gr.File(visible=False)], api_name="scene_export",
                                       concurrency_limit=1)
