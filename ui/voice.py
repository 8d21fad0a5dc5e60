"""Voice tab: record or upload a reference, trim it, save it as a named voice; script → cloned speech → player."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import soundfile as sf

from backend.errors import BackendError
from ui import jobrun, media_checks, roles
from ui import params as P
from ui import trash as trash_ui
from workflows.catalogue import get_spec, load_catalogue


@dataclass
class VoiceTab:
    speech: gr.Audio            # the generated speech
    use: gr.Button              # "Use in talking head"
    voices: gr.Dropdown         # the voice library picker (refreshed after a save)
    use_note: gr.Markdown       # says what to do when there is no speech to send yet


def voice_parts(v: Any) -> tuple[str, str, str]:
    """(name, audio path, transcript) of a library voice, whatever shape the library returns."""
    get = (lambda k: v.get(k)) if isinstance(v, dict) else (lambda k: getattr(v, k, None))
    path = get("audio_path") or get("path") or ""
    return str(get("name") or ""), str(path), str(get("transcript") or "")


def voice_names(studio: Any) -> list[str]:
    return [voice_parts(v)[0] for v in studio.voices.list()]


def library_hint(names: list[str]) -> str:
    """The library picker's hint, true for what is saved now."""
    if not names:
        return ("No saved voices yet: save one under Reference voice. Until then the reference there is used.")
    n = len(names)
    return (f"{n} saved voice{'s' if n != 1 else ''}. Pick one to speak with it, or leave empty to use the "
            "reference under Reference voice.")


def trim(path: str, start: float | None, end: float | None) -> str:
    """A WAV copy of `path` cut to [start, end] seconds (end 0/empty = to the end); the original when untrimmed."""
    start, end = float(start or 0), float(end or 0)
    if start < 0:
        raise ValueError(f"trim_start: {start:g} s is before the recording starts; use 0 or more")
    if end < 0:
        raise ValueError(f"trim_end: {end:g} s is not a time; use 0 (to the end) or more")
    if start <= 0 and end <= 0:
        return path
    data, rate = sf.read(path, always_2d=True)
    a = int(start * rate)
    b = int(end * rate) if end > 0 else len(data)
    if b <= a:
        raise ValueError(f"trim_end: the end ({end:g} s) must be after the start ({start:g} s)")
    out = Path(tempfile.mkdtemp(prefix="voice-trim-")) / "reference.wav"
    sf.write(out, data[a:b], rate)
    return str(out)


DELETE_VOICE = "Delete the voice picked in the library"


def build(studio: Any) -> VoiceTab:
    spec = load_catalogue()["tts"]
    gr.Markdown(f"**{spec.title}** — {spec.summary}", elem_classes=["tab-summary"])
    names_now = voice_names(studio)
    with gr.Row():
        # The script, the run button and the result first (left, and on top on a phone); the reference right.
        with gr.Column(scale=1, min_width=300):
            gr.Markdown("### Speech")
            fields = P.build(spec, names=["text"], prefix="voice")
            voices = gr.Dropdown(choices=names_now, value=None, label="Voice library", allow_custom_value=False,
                                 elem_id="voice-library", info=library_hint(names_now))
            rc = jobrun.controls("voice", "Make speech")
            speech = gr.Audio(label="Speech", type="filepath", interactive=False, elem_id="voice-speech")
            use = gr.Button("Use in talking head", elem_id="voice-use")
            use_note = gr.Markdown("", elem_id="voice-use-note")
            fields.update(P.build(spec, skip=["text", "reference_audio", "reference_text"], prefix="voice"))
        with gr.Column(scale=1, min_width=300):
            gr.Markdown("### Reference voice")
            ref_fields = P.build(spec, names=["reference_audio", "reference_text"], prefix="voice")
            with gr.Row():
                # No minimum here: Gradio's own range check would answer without naming the field.
                trim_start = gr.Number(label="Trim start (s)", value=0, elem_id="voice-trim-start")
                trim_end = gr.Number(label="Trim end (s, 0 = to the end)", value=0, elem_id="voice-trim-end")
            with gr.Row():
                name = gr.Textbox(label="Voice name", elem_id="voice-name", placeholder="e.g. Captain Mara")
                save = gr.Button("Save voice", elem_id="voice-save")
            save_status = gr.Markdown("", elem_id="voice-save-status")
            with gr.Row():
                remove = gr.Button(DELETE_VOICE, elem_id="voice-delete", size="sm")
                undo = gr.Button("Undo", elem_id="voice-undo", size="sm", visible=False)
    armed = gr.State(None)
    trashed = gr.State(None)

    ref_audio, ref_text = ref_fields["reference_audio"], ref_fields["reference_text"]

    labels = {**P.labels_of(spec), "trim_start": trim_start.label, "trim_end": trim_end.label}

    def do_save(voice_name: str, audio: str | None, transcript: str, start: float, end: float):
        roles.require_owner(studio, "save voices")
        voice_name = (voice_name or "").strip()
        if not voice_name:
            return gr.update(), "⚠ Voice name: give the voice a name."
        if not audio:
            return gr.update(), "⚠ Reference voice: upload or record a reference first."
        problem = media_checks.check_audio("reference_audio", audio)       # readable at all, before trimming
        if problem:
            return gr.update(), f"⚠ {P.relabel(problem, labels)}"
        try:
            path = trim(audio, start, end)
            problem = media_checks.check_media(get_spec("tts").param("reference_audio"), path)
            if problem:
                return gr.update(), f"⚠ {P.relabel(problem, labels)}"
            studio.voices.save(voice_name, path, transcript or "")
        except (ValueError, BackendError) as err:
            return gr.update(), f"⚠ {P.relabel(str(getattr(err, 'message', err)), labels)}"
        names = voice_names(studio)
        return (gr.update(choices=names, value=voice_name, info=library_hint(names)),
                f"Saved voice “{voice_name}”.")

    save.click(do_save, inputs=[name, ref_audio, ref_text, trim_start, trim_end], outputs=[voices, save_status],
               **jobrun.PRIVATE)

    # Deleting a voice asks once (a second click), moves it to the trash and offers Undo.
    def voice_what(voice_name):
        return f"Voice “{voice_name}”" if voice_name and studio.voices.get(voice_name) else None

    def do_remove(voice_name):
        item = trash_ui.T.discard(studio, "voice", voice_name)
        names = voice_names(studio)
        return (trash_ui.moved_html(item), gr.update(choices=names, value=None, info=library_hint(names)),
                gr.update(visible=True), item.id)

    remove.click(trash_ui.two_step(studio, DELETE_VOICE, "delete voices", voice_what, do_remove, 3),
                 inputs=[voices, armed], outputs=[armed, remove, save_status, voices, undo, trashed],
                 **jobrun.PRIVATE)
    voices.input(lambda: trash_ui.disarm(DELETE_VOICE), outputs=[armed, remove], queue=False, **jobrun.PRIVATE)

    def do_undo(item_id):
        roles.require_owner(studio, "restore voices")
        try:
            item = trash_ui.T.restore(studio, item_id or "")
        except BackendError as err:
            return trash_ui.problem_html(err.message), gr.skip(), gr.update(visible=False), None
        names = voice_names(studio)
        return (trash_ui.restored_html(item), gr.update(choices=names, value=item.label, info=library_hint(names)),
                gr.update(visible=False), None)

    undo.click(do_undo, inputs=[trashed], outputs=[save_status, voices, undo, trashed], **jobrun.PRIVATE)

    def prepare(values: dict[str, Any]) -> dict[str, Any]:
        raw = {k: values[k] for k in fields}
        chosen = values.get("voice")
        if chosen:
            _, path, transcript = voice_parts(studio.voices.get(chosen))
            raw["reference_audio"], raw["reference_text"] = path, transcript
        else:
            audio = values.get("reference_audio")
            raw["reference_audio"] = trim(audio, values.get("trim_start"), values.get("trim_end")) if audio else None
            raw["reference_text"] = values.get("reference_text") or ""
        return raw

    def extra_check(values: dict[str, Any]) -> dict[str, str]:
        if values.get("voice"):
            return {}
        problem = media_checks.check_media(get_spec("tts").param("reference_audio"), values.get("reference_audio"))
        return {"reference_audio": problem} if problem else {}

    def result(rec: Any) -> dict:
        audio = jobrun.outputs_of(rec, "audio")
        return {speech: audio[0] if audio else None}

    jobrun.wire_job(studio, spec, rc, fields, result, [speech],
                    extra_inputs={"voice": voices, "reference_audio": ref_audio, "reference_text": ref_text,
                                  "trim_start": trim_start, "trim_end": trim_end},
                    prepare=prepare, extra_check=extra_check)
    return VoiceTab(speech=speech, use=use, voices=voices, use_note=use_note)
