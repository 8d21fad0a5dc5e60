"""Panel animation tab: a panel image + motion prompt and the animate job's params → a clip beside the still."""
from __future__ import annotations

from typing import Any

import gradio as gr

from ui import jobrun, media_checks
from ui import params as P
from workflows.catalogue import get_spec, load_catalogue


def build(studio: Any) -> None:
    spec = load_catalogue()["animate"]
    gr.Markdown(f"**{spec.title}** — {spec.summary}", elem_classes=["tab-summary"])
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            # The panel, the motion text and the run button first, so all are in view without scrolling.
            fields = P.build(spec, names=["image", "prompt"], prefix="panel",
                             overrides={"image": {"sources": ["upload", "clipboard"], "height": 260},
                                        "prompt": {"lines": 2}})
            rc = jobrun.controls("panel", "Animate panel")
            fields.update(P.build(spec, skip=["image", "prompt"], prefix="panel"))
        with gr.Column(scale=1, min_width=300):
            video = gr.Video(label="Animated panel", interactive=False, autoplay=True, loop=True,
                             elem_id="panel-video", height=460)
            # Shown only when a run returns more than the clip (e.g. an animated WebP).
            extra = gr.File(label="Other formats", interactive=False, elem_id="panel-files", visible=False)

    def extra_check(values: dict[str, Any]) -> dict[str, str]:
        problem = media_checks.check_media(get_spec("animate").param("image"), values.get("image"))
        return {"image": problem} if problem else {}

    def result(rec: Any) -> dict:
        videos = jobrun.outputs_of(rec, "video")
        images = jobrun.outputs_of(rec, "image")  # animated WebP comes back as an image
        others = videos[1:] + images
        return {video: videos[0] if videos else None, extra: gr.update(value=others or None, visible=bool(others))}

    jobrun.wire_job(studio, spec, rc, fields, result, [video, extra], extra_check=extra_check)
