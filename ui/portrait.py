"""Portrait tab: prompt + style preset + the portrait job's params → a gallery of 1–4 images."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui import jobrun
from ui import params as P
from workflows.catalogue import load_catalogue

# Style presets are phrases appended to the prompt (presentation, not job parameters).
STYLES: dict[str, str] = {
    "None": "",
    "Graphic novel ink": "graphic novel style, bold ink lines, flat colours, dramatic lighting",
    "Manga": "manga style, clean line art, screentone shading",
    "Painterly": "digital painting, painterly brush strokes, soft light",
    "Photographic": "photograph, 85mm lens, natural light, detailed skin",
    "Noir": "film noir, high contrast, black and white, hard shadows",
}


@dataclass
class PortraitTab:
    gallery: gr.Gallery
    selected: gr.State          # path of the image the user picked in the gallery
    use: gr.Button              # "Use in talking head"
    use_note: gr.Markdown       # says what to do when there is nothing to send yet


def styled_prompt(prompt: str, style: str) -> str:
    suffix = STYLES.get(style or "None", "")
    if not suffix or not (prompt or "").strip():
        return prompt
    return f"{prompt.rstrip().rstrip(',')}, {suffix}"


def build(studio: Any) -> PortraitTab:
    spec = load_catalogue()["portrait"]
    prompt_name = next(p.name for p in spec.params if p.type == "text" and p.required)
    seed_name = next((p.name for p in spec.params if p.type == "seed"), None)
    gr.Markdown(f"**{spec.title}** — {spec.summary}", elem_classes=["tab-summary"])
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            # The description and the run button first, so both are in view without scrolling.
            fields = P.build(spec, names=[prompt_name])
            rc = jobrun.controls("portrait", "Make portrait")
            style = gr.Dropdown(list(STYLES), value="None", label="Style preset", elem_id="portrait-style",
                                info="Appended to the description")
            fields.update(P.build(spec, skip=[prompt_name]))
            if seed_name:
                reuse = gr.Button("Reuse last seed", size="sm", elem_id="portrait-reuse-seed")
        with gr.Column(scale=1, min_width=300):
            # Whole images (object-fit contain): a portrait's head is at the top, a cover crop would cut it off.
            gallery = gr.Gallery(label="Portraits — click one to choose it", elem_id="portrait-gallery",
                                 columns=2, format="png", height=430, object_fit="contain", allow_preview=True,
                                 interactive=False)
            with gr.Row():
                chosen = gr.Image(label="Chosen for the talking head", interactive=False, height=200,
                                  elem_id="portrait-chosen", scale=1, min_width=160)
                with gr.Column(scale=1, min_width=160):
                    seed_used = gr.Number(label="Seed used", interactive=False, precision=0,
                                          elem_id="portrait-seed-used")
                    # Secondary until there is a portrait to send (then primary).
                    use = gr.Button("Use chosen portrait in talking head", variant="secondary",
                                    elem_id="portrait-use")
                    use_note = gr.Markdown("", elem_id="portrait-use-note")
    selected = gr.State(None)
    last_seed = gr.State(None)                # the seed of the last finished run (None before any)

    def prepare(values: dict[str, Any]) -> dict[str, Any]:
        raw = {k: values[k] for k in fields}
        raw[prompt_name] = styled_prompt(raw.get(prompt_name) or "", values.get("style") or "None")
        return raw

    def result(rec: Any) -> dict:
        images = jobrun.outputs_of(rec, "image")
        first = images[0] if images else None
        return {gallery: images, seed_used: rec.seed, last_seed: rec.seed, selected: first, chosen: first,
                use: gr.update(variant="primary" if first else "secondary"), use_note: ""}

    jobrun.wire_job(studio, spec, rc, fields, result, [gallery, seed_used, last_seed, selected, chosen, use, use_note],
                    extra_inputs={"style": style}, prepare=prepare)

    if seed_name:
        # Before any run there is no seed to reuse: the field keeps its value (-1, random).
        reuse.click(lambda s: s if s is not None else gr.skip(), inputs=[last_seed], outputs=[fields[seed_name]],
                    queue=False, **jobrun.PRIVATE)

    def pick(evt: gr.SelectData, images: list) -> str | None:
        item = images[evt.index] if images and evt.index is not None else None
        if isinstance(item, (list, tuple)):
            item = item[0]
        if isinstance(item, dict):
            item = (item.get("image") or {}).get("path") or item.get("path")
        return getattr(item, "path", item)

    def choose(evt: gr.SelectData, images: list) -> tuple[str | None, str | None]:
        path = pick(evt, images)
        return path, path

    gallery.select(choose, inputs=[gallery], outputs=[selected, chosen], queue=False, **jobrun.PRIVATE)
    return PortraitTab(gallery=gallery, selected=selected, use=use, use_note=use_note)
