"""Music tab: ACE-Step genre presets fill the style tags; lyrics with section tags, length, format → player."""
from __future__ import annotations

from typing import Any

import gradio as gr

from ui import jobrun
from ui import params as P
from workflows.catalogue import load_catalogue

# ACE-Step v1's own genre presets (its Gradio demo's GENRE_PRESETS tag strings), offered as starting points.
GENRE_PRESETS: dict[str, str] = {
    "Modern Pop": "pop, synth, drums, guitar, 120 bpm, upbeat, catchy, vibrant, female vocals, polished vocals",
    "Rock": "rock, electric guitar, drums, bass, 130 bpm, energetic, rebellious, gritty, male vocals, raw vocals",
    "Hip Hop": "hip hop, 808 bass, hi-hats, synth, 90 bpm, bold, urban, intense, male vocals, rhythmic vocals",
    "Country": "country, acoustic guitar, steel guitar, fiddle, 100 bpm, heartfelt, rustic, warm, male vocals, "
               "twangy vocals",
    "EDM": "edm, synth, bass, kick drum, 128 bpm, euphoric, pulsating, energetic, instrumental",
    "Reggae": "reggae, guitar, bass, drums, 80 bpm, chill, soulful, positive, male vocals, smooth vocals",
    "Classical": "classical, orchestral, strings, piano, 60 bpm, elegant, emotive, timeless, instrumental",
    "Jazz": "jazz, saxophone, piano, double bass, 110 bpm, smooth, improvisational, soulful, male vocals, "
            "crooning vocals",
    "Metal": "metal, electric guitar, double kick drum, bass, 160 bpm, aggressive, intense, heavy, male vocals, "
             "screamed vocals",
    "R&B": "r&b, synth, bass, drums, 85 bpm, sultry, groovy, romantic, female vocals, silky vocals",
}


def build(studio: Any) -> None:
    spec = load_catalogue()["music"]
    gr.Markdown(f"**{spec.title}** — {spec.summary}", elem_classes=["tab-summary"])
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            # The style and the run button first; lyrics, length and the rest below.
            preset = gr.Dropdown(["Custom", *GENRE_PRESETS], value="Custom", label="Genre preset",
                                 elem_id="music-preset", info="Fills the style tags; edit them freely")
            fields = P.build(spec, names=["tags"], prefix="music")
            rc = jobrun.controls("music", "Make music")
            fields.update(P.build(spec, skip=["tags"], prefix="music", overrides={"lyrics": {"lines": 8}}))
        with gr.Column(scale=1, min_width=300):
            audio = gr.Audio(label="Music", type="filepath", interactive=False, elem_id="music-audio")

    preset.change(lambda name: GENRE_PRESETS.get(name, gr.update()), inputs=[preset], outputs=[fields["tags"]],
                  queue=False, **jobrun.PRIVATE)

    def result(rec: Any) -> dict:
        out = jobrun.outputs_of(rec, "audio")
        return {audio: out[0] if out else None}

    jobrun.wire_job(studio, spec, rc, fields, result, [audio])
