"""Talking-head tab: portrait + speech → lip-synced MP4, and the one-click pipeline
prompt + voice + script → portrait → speech → talking head, with each stage's result cached per session."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from backend import faces
from backend.errors import BackendError
from ui import jobrun, media_checks, progress, roles
from ui import params as P
from ui.voice import voice_names, voice_parts
from workflows.catalogue import ParamError, get_spec, load_catalogue

STAGES = ("portrait", "speech", "talking head")
SEND_ANYWAY = "Send anyway: I know no face was found"


def face_warning(path: str | None, label: str = "Portrait") -> str | None:
    """The field message when a portrait has no face SONIC can find (None when it has one or there is no file).
    SONIC fails on such a portrait after the GPU has started; this check is local and takes tens of ms."""
    if not path:
        return None
    if faces.find_face(path).found:
        return None
    return f"{label}: {faces.ADVICE}"


def face_notice(path: str | None) -> tuple[dict, dict]:
    """(warning HTML update, "send anyway" checkbox update) for a newly chosen portrait."""
    msg = face_warning(path)
    if msg is None:
        return gr.update(value="", visible=False), gr.update(value=False, visible=False)
    text = htmllib.escape(faces.ADVICE[0].upper() + faces.ADVICE[1:])
    return (gr.update(value=f'<div class="job-status" data-kind="warning" role="alert"><strong>Check the portrait'
                            f'</strong> — {text}. The talking head is not sent unless you tick the box below.</div>',
                      visible=True),
            gr.update(value=False, visible=True))


@dataclass
class TalkingHeadTab:
    image: gr.Image             # the portrait input (hand-off target)
    audio: gr.Audio             # the speech input (hand-off target)
    voices: gr.Dropdown         # pipeline voice picker (refreshed with the library)
    refresh: Callable[[], tuple] = lambda: ()        # fresh values for `refresh_outputs` (the earlier results)
    refresh_outputs: list = field(default_factory=list)


def library_outputs(studio: Any, action: str, kind: str) -> list[str]:
    """Paths of finished outputs of one job, newest first (the studio's library of past results)."""
    return [path for path, _ in earlier_results(studio, action, kind)]


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    t = dt.datetime.fromtimestamp(ts)
    return t.strftime("%H:%M") if t.date() == dt.date.today() else t.strftime("%d %b %H:%M")


def _quote(text: Any, limit: int = 60) -> str:
    text = " ".join(str(text or "").split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”" if text else ""


def earlier_results(studio: Any, action: str, kind: str, limit: int = 24) -> list[tuple[str, str]]:
    """(path, caption) of finished outputs of one job, newest first; the caption is when it was made and what
    from (the description or the script), the way a person recognises it, never a file name."""
    out: list[tuple[str, str]] = []
    for rec in studio.history(action=action, status="completed"):
        words = (rec.inputs or {}).get("prompt" if action == "portrait" else "text")
        caption = " — ".join(x for x in (_when(rec.created_at), _quote(words)) if x)
        out.extend((path, caption) for path in jobrun.outputs_of(rec, kind))
        if len(out) >= limit:
            break
    return out[:limit]


def cache_key(action: str, inputs: dict[str, Any]) -> str:
    return action + ":" + json.dumps(inputs, sort_keys=True, default=str)


def run_stage(studio: Any, action: str, inputs: dict[str, Any], kind: str, cache: dict[str, str], stage: str
              ) -> Iterator[tuple[str, str | None, str | None, bool]]:
    """Yield (status_html, job_id, output_path, finished) for one pipeline stage; a cached result is reused."""
    key = cache_key(action, inputs)
    if key in cache:
        yield progress.render_event("completed", "Reused the result from the last run (inputs unchanged).",
                                    stage=stage), None, cache[key], True
        return
    validated = load_catalogue()[action].validate(inputs)
    for html, rec, done in jobrun.stream(studio, load_catalogue()[action], validated, stage=stage):
        path = None
        if done and rec is not None and rec.status == "completed":
            outs = jobrun.outputs_of(rec, kind)
            path = outs[0] if outs else None
            if path:
                cache[key] = path
        yield html, getattr(rec, "id", None), path, done


def build(studio: Any) -> TalkingHeadTab:
    cat = load_catalogue()
    spec = cat["lipsync"]
    gr.Markdown(f"**{spec.title}** — {spec.summary}", elem_classes=["tab-summary"])
    with gr.Tab("From portrait + speech"):
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                # The two inputs and the run button first, so all three are in view without scrolling.
                fields = P.build(spec, names=["image"], prefix="th",
                                 overrides={"image": {"sources": ["upload", "clipboard"], "height": 230}})
                # The face warning sits right under the portrait it is about (hidden until there is one).
                face_html = gr.HTML("", visible=False, elem_id="th-face-warning")
                send_anyway = gr.Checkbox(False, label=SEND_ANYWAY, visible=False, elem_id="th-send-anyway")
                fields.update(P.build(spec, names=["audio"], prefix="th"))
                rc = jobrun.controls("th", "Make talking head")
                fields.update(P.build(spec, skip=["image", "audio"], prefix="th"))
                lib_images = gr.Gallery(label="…or a portrait made earlier (click one to use it)",
                                        elem_id="th-lib-image", columns=4, height=190, object_fit="contain",
                                        allow_preview=False, interactive=False, show_label=True)
                lib_audio = gr.Dropdown(choices=[], label="…or speech made earlier", elem_id="th-lib-audio",
                                        info="Speech from the Voice tab and the pipeline: when made, and the "
                                             "script; the chosen one plays in Speech above")
                refresh = gr.Button("Refresh these lists", size="sm", elem_id="th-refresh")
            with gr.Column(scale=1, min_width=300):
                video = gr.Video(label="Talking head", interactive=False, elem_id="th-video", height=460)
    lib_image_paths = gr.State([])

    def extra_check(values: dict[str, Any]) -> dict[str, str]:
        probs = {}
        spec = get_spec("lipsync")
        img = media_checks.check_media(spec.param("image"), values.get("image"))
        aud = media_checks.check_media(spec.param("audio"), values.get("audio"))
        if not img and not values.get("send_anyway"):
            img = face_warning(values.get("image"), spec.param("image").label)
        if img:
            probs["image"] = img
        if aud:
            probs["audio"] = aud
        return probs

    jobrun.wire_job(studio, spec, rc, fields, lambda rec: {video: (jobrun.outputs_of(rec, "video") or [None])[0]},
                    [video], extra_inputs={"send_anyway": send_anyway}, extra_check=extra_check)
    # The face check runs as soon as a portrait is chosen, so the warning is at the field before Run.
    fields["image"].change(face_notice, inputs=[fields["image"]], outputs=[face_html, send_anyway],
                           show_progress="hidden", **jobrun.PRIVATE)

    @roles.reader
    def do_refresh():
        images = earlier_results(studio, "portrait", "image")
        speech = earlier_results(studio, "tts", "audio")
        # The dropdown's values are job ids (the path is looked up when one is chosen), so no path reaches the page.
        return (images or None, [p for p, _ in images],
                gr.update(choices=[(caption or "speech", str(i)) for i, (_, caption) in enumerate(speech)],
                          value=None), [p for p, _ in speech])

    lib_audio_paths = gr.State([])
    refresh_outputs = [lib_images, lib_image_paths, lib_audio, lib_audio_paths]
    refresh.click(do_refresh, outputs=refresh_outputs, **jobrun.PRIVATE)
    # Opening the speech picker lists what exists now, so nobody has to know about the refresh button.
    lib_audio.focus(do_refresh, outputs=refresh_outputs, queue=False, show_progress="hidden", **jobrun.PRIVATE)

    def use_image(evt: gr.SelectData, paths: list[str]):
        i = evt.index if isinstance(evt.index, int) else None
        return paths[i] if paths and i is not None and 0 <= i < len(paths) else gr.skip()

    def use_audio(choice: str | None, paths: list[str]):
        if choice is None or not str(choice).isdigit() or int(choice) >= len(paths or []):
            return gr.skip()
        return paths[int(choice)]

    lib_images.select(use_image, inputs=[lib_image_paths], outputs=[fields["image"]], **jobrun.PRIVATE)
    lib_audio.change(use_audio, inputs=[lib_audio, lib_audio_paths], outputs=[fields["audio"]], **jobrun.PRIVATE)

    # ---- the one-click pipeline ----
    with gr.Tab("One click"):
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                p_prompt = P.component(cat["portrait"].param("prompt"), elem_id="pipe-prompt", lines=2)
                p_voice = gr.Dropdown(choices=[], label="Voice (from the library)", elem_id="pipe-voice",
                                      info="Save a voice in the Voice tab first")
                p_script = P.component(cat["tts"].param("text"), elem_id="pipe-script", lines=3)
                prc = jobrun.controls("pipe", "Run pipeline")
                p_send_anyway = gr.Checkbox(False, label=SEND_ANYWAY, visible=False, elem_id="pipe-send-anyway")
                stage_html = [gr.HTML("", elem_id=f"pipe-stage-{i}") for i in range(len(STAGES))]
            with gr.Column(scale=1, min_width=300):
                # The final video on top; the stages' results under it.
                p_video = gr.Video(label="Talking head", interactive=False, elem_id="pipe-video", height=400)
                with gr.Row():
                    p_image = gr.Image(label="Portrait", type="filepath", interactive=False, elem_id="pipe-image",
                                       height=200, min_width=140)
                    p_audio = gr.Audio(label="Speech", type="filepath", interactive=False, elem_id="pipe-audio",
                                       min_width=200)
    cache = gr.State({})

    pipe_labels = {"prompt": p_prompt.label, "voice": p_voice.label, "text": p_script.label}

    def validator(prompt: str, voice: str | None, script: str, _cache: Any, _anyway: bool) -> list[dict]:
        probs = pipeline_problems(prompt, voice, script)
        return P.field_messages(["prompt", "voice", "text", "cache", "send_anyway"], None, probs)

    def pipeline_problems(prompt: str, voice: str | None, script: str) -> dict[str, str]:
        probs: dict[str, str] = {}
        try:
            cat["portrait"].param("prompt").coerce(prompt or "")
        except ParamError as err:
            probs["prompt"] = err.message
        if not voice:
            probs["voice"] = "voice: pick a saved voice (save one in the Voice tab)"
        try:
            cat["tts"].param("text").coerce(script or "")
        except ParamError as err:
            probs["text"] = err.message
        return {k: P.relabel(v, pipe_labels) for k, v in probs.items()}

    @roles.owner_only("run jobs")
    def run_pipeline(prompt: str, voice: str | None, script: str, cache_in: dict, anyway: bool = False
                     ) -> Iterator[dict]:
        cache_now = dict(cache_in or {})
        probs = pipeline_problems(prompt, voice, script)
        if probs:
            yield {prc.status: progress.render_problem("; ".join(probs.values()))}
            return
        # A new run starts from a clean slate: the last run's "Done" lines would read as this run's results.
        yield {prc.status: "", prc.cancel: gr.update(**jobrun.BUSY),
               **{h: progress.render_event("waiting", "not started yet", stage=STAGES[i])
                  for i, h in enumerate(stage_html)}}
        _, ref_path, ref_text = voice_parts(studio.voices.get(voice))
        plan = [
            ("portrait", {"prompt": prompt}, "image", p_image),
            ("tts", {"text": script, "reference_audio": ref_path, "reference_text": ref_text}, "audio", p_audio),
            ("lipsync", None, "video", p_video),
        ]
        results: list[str] = []
        for i, (action, inputs, kind, out) in enumerate(plan):
            if inputs is None:
                inputs = {"image": results[0], "audio": results[1]}
                warning = None if anyway else face_warning(results[0])
                if warning:   # SONIC would fail on it after the GPU started: ask before sending
                    yield {stage_html[i]: progress.render_problem(warning),
                           prc.status: progress.render_problem(
                               f"Stopped before the talking head: {warning}. Change the description and run again, "
                               f"or tick “{SEND_ANYWAY}”."),
                           p_send_anyway: gr.update(visible=True, value=False)}
                    return
            path = None
            try:
                for html, job_id, path, done in run_stage(studio, action, inputs, kind, cache_now, STAGES[i]):
                    upd = {stage_html[i]: html, prc.job_id: job_id, cache: cache_now}
                    if path:
                        upd[out] = path
                    yield upd
            except (ParamError, BackendError) as err:
                yield {stage_html[i]: progress.render_problem(getattr(err, "message", str(err))),
                       prc.cancel: gr.update(**jobrun.IDLE)}
                return
            if not path:
                yield {prc.status: progress.render_problem(f"Stopped: the {STAGES[i]} stage did not finish."),
                       prc.cancel: gr.update(**jobrun.IDLE)}
                return
            results.append(path)
        yield {prc.status: progress.render_event("completed", "All three stages are done.",
                                                 licence=cat["lipsync"].licence),
               prc.cancel: gr.update(**jobrun.IDLE)}

    prc.run.click(run_pipeline, inputs=[p_prompt, p_voice, p_script, cache, p_send_anyway],
                  outputs=[prc.status, prc.job_id, prc.cancel, cache, p_image, p_audio, p_video, *stage_html,
                           p_send_anyway],
                  validator=validator, concurrency_limit=None, **jobrun.PRIVATE
                  ).then(None, js=jobrun.reveal_js("pipe-video", "pipe-status"), **jobrun.PRIVATE)
    jobrun.wire_cancel(studio, prc)

    def refresh_voices():
        return gr.update(choices=voice_names(studio))

    p_voice.focus(refresh_voices, outputs=[p_voice], queue=False, **jobrun.PRIVATE)
    return TalkingHeadTab(image=fields["image"], audio=fields["audio"], voices=p_voice, refresh=do_refresh,
                          refresh_outputs=refresh_outputs)
