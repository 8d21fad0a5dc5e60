"""The stable named API (and MCP tools): `portrait`, `tts`, `lipsync`, `animate`, `music`, `talking_head`.

Each endpoint takes the job's own field names as keyword arguments (media as files) and returns the first output
file. Signatures and docstrings are generated from the catalogue's declarations, so they never drift from the
worker's; `talking_head` is the pipeline and is written out by hand.
"""
from __future__ import annotations

import datetime as dt
import inspect
import sys
from collections.abc import Callable
from typing import Any

import gradio as gr
from gradio.context import LocalContext

from backend import faces
from backend.errors import BackendError
from backend.records import STATUSES
from ui import api_characters, exchange, media_checks, roles
from ui import params as P
from ui.jobrun import outputs_of
from workflows.catalogue import JobSpec, Param, ParamError, load_catalogue

# What each job's endpoint returns, by the kind of its main output.
OUTPUT_KIND = {"portrait": "image", "tts": "audio", "music": "audio", "lipsync": "video", "animate": "video"}


# How a file reaches a tool: what Gradio's MCP server and gradio_client really accept.
FILE_HOWTO = ("Pass a file as an https URL or as a data URI (data:<mime>;base64,...); with gradio_client, "
              "handle_file(path).")


def _describe(p: Param) -> str:
    text = f"{p.label}. {p.help}".strip() if p.help else p.label + "."
    if p.is_media:
        text += f" An {p.type} file: an https URL or a data URI (data:{p.type}/...;base64,...)."
    else:
        text += f" Allowed: {p.allowed()}."
    if not p.required and p.default is not None:
        text += f" Default: {p.default!r}."
    elif p.required:
        text += " Required."
    return text


def docstring(spec: JobSpec, extra: dict[str, str] | None = None) -> str:
    """A Google-style docstring (Gradio's MCP server reads its Args section) for one job."""
    out_kind = OUTPUT_KIND[spec.action]
    lines = [f"{spec.summary}", "", "Args:"]
    lines += [f"    {p.name}: {_describe(p)}" for p in spec.params]
    lines += [f"    {name}: {text}" for name, text in (extra or {}).items()]
    lines += ["", "Returns:", f"    The {out_kind} file the job made."]
    if spec.licence:
        lines.append(f"    Licence of the weights: {spec.licence.get('name')}. {spec.licence.get('note', '')}")
    return "\n".join(lines)


def refuse(message: str) -> gr.Error:
    """The error an API caller gets: the message goes back to the caller, and the console gets one line (an input
    error is no crash, so no traceback)."""
    print(f"studio api: refused: {message}", file=sys.stderr, flush=True)
    return gr.Error(message, print_exception=False)


def refusal(err: ParamError | str, labels: dict[str, str]) -> gr.Error:
    """A refusal that names its field as the page labels it and by its API name ("Description (prompt): ...")."""
    return refuse(P.relabel(err.message if isinstance(err, ParamError) else err, labels, with_name=True))


def run_to_end(studio: Any, action: str, inputs: dict[str, Any]) -> Any:
    """Submit and wait for the terminal record; errors become gr.Error with the job's own message."""
    roles.require_owner(studio)
    try:
        rec = studio.submit(action, inputs)
    except BackendError as err:
        raise refuse(err.message) from None
    for ev in studio.watch(rec.id):
        rec = ev.record
    if rec.status != "completed":
        err = rec.error or {}
        raise refuse(f"{action} job {rec.id} {rec.status}: {err.get('code', '')} {err.get('message', '')}".strip())
    return rec


# A talking head's portrait is checked for a face before anything is sent (SONIC fails without one, after the
# cold start); an API caller cannot tick the page's "Send anyway", so it passes this instead.
SEND_WITHOUT_FACE = "send_without_face"
FACE_CHECKED = {"lipsync": "image"}
# Reference pictures that condition a txt2img job (IP-Adapter), as JSON: ui/api_characters.py.
CHARACTERS = "characters"


def no_face_refusal(label: str) -> gr.Error:
    return refuse(f"{label}: {faces.ADVICE}; nothing was sent (pass {SEND_WITHOUT_FACE}=true to send it anyway)")


def job_endpoint(studio: Any, spec: JobSpec) -> Callable[..., str]:
    names = [p.name for p in spec.params]
    kind = OUTPUT_KIND[spec.action]
    labels = P.labels_of(spec)
    face_field = FACE_CHECKED.get(spec.action)
    extras = [n for n, on in ((SEND_WITHOUT_FACE, face_field), (CHARACTERS, spec.takes_characters)) if on]

    def call(*values: Any) -> str:
        raw = P.clean(spec, dict(zip(names, values)))
        given = dict(zip(extras, values[len(names):]))
        send_without_face = bool(given.get(SEND_WITHOUT_FACE))
        try:
            inputs = spec.validate(raw)
            # Checked whole before any picture is decoded or fetched; the guard has already checked the role.
            cast_in = api_characters.parse(given.get(CHARACTERS))
        except ParamError as err:
            raise refusal(err, labels) from None
        for p in spec.media_params:
            problem = media_checks.check_media(p, inputs.get(p.name))
            if problem:
                raise refusal(problem, labels)
        if face_field and not send_without_face and not faces.find_face(inputs[face_field]).found:
            raise no_face_refusal(f"{labels.get(face_field, face_field)} ({face_field})")
        if cast_in:
            try:
                inputs[CHARACTERS] = api_characters.resolve(studio, cast_in)
            except ParamError as err:
                raise refusal(err, labels) from None
        outs = outputs_of(run_to_end(studio, spec.action, inputs), kind)
        if not outs:
            raise refuse(f"{spec.action}: the job finished without a {kind} file")
        return outs[0]

    params = [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=inspect.Parameter.empty if p.required else p.default) for p in spec.params]
    extra = {}
    if face_field:
        params.append(inspect.Parameter(SEND_WITHOUT_FACE, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False))
        extra[SEND_WITHOUT_FACE] = (f"Send even when no face is found in the {face_field} (by default such a job is "
                                    "refused before it costs anything).")
    if spec.takes_characters:
        params.append(inspect.Parameter(CHARACTERS, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None))
        extra[CHARACTERS] = api_characters.HELP
    call.__name__ = spec.action
    call.__doc__ = docstring(spec, extra)
    call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return roles.owner_only("run jobs")(call)


def talking_head_endpoint(studio: Any) -> Callable[..., str]:
    cat = load_catalogue()

    @roles.owner_only("run jobs")
    def talking_head(prompt: str, reference_audio: str, text: str, reference_text: str = "") -> str:
        """One click: a portrait from a description, speech in a cloned voice, then the lip-synced video.

        Args:
            prompt: Description of the character's portrait (front-facing head and shoulders works best).
            reference_audio: An audio file of 5–12 seconds of clean speech by the voice to clone.
            text: The script the character speaks.
            reference_text: Exactly what is said in the reference audio; empty means transcribe it automatically.

        Returns:
            The MP4 talking-head video file.
        """
        labels = {**P.labels_of(cat["tts"]), "prompt": cat["portrait"].param("prompt").label}
        try:
            p_in = cat["portrait"].validate({"prompt": prompt})
            t_in = cat["tts"].validate({"text": text, "reference_audio": reference_audio,
                                        "reference_text": reference_text or ""})
        except ParamError as err:
            raise refusal(err, labels) from None
        problem = media_checks.check_media(cat["tts"].param("reference_audio"), reference_audio)
        if problem:
            raise refusal(problem, labels)
        image = outputs_of(run_to_end(studio, "portrait", p_in), "image")[0]
        if not faces.find_face(image).found:      # before the speech and the talking head cost anything
            raise refuse(f"The portrait made from the description ({labels['prompt']}) shows no face: "
                         f"{faces.ADVICE}. Describe a front-facing head-and-shoulders view and try again, or "
                         f"use lipsync with that portrait and {SEND_WITHOUT_FACE}=true.")
        speech = outputs_of(run_to_end(studio, "tts", t_in), "audio")[0]
        lip = cat["lipsync"].validate({"image": image, "audio": speech})
        return outputs_of(run_to_end(studio, "lipsync", lip), "video")[0]

    return talking_head


JOBS_LIMIT = 200


def jobs_endpoint(studio: Any) -> Callable[..., list[dict[str, Any]]]:
    @roles.reader
    def jobs(action: str = "", status: str = "", limit: float = 50) -> list[dict[str, Any]]:
        """The studio's job history as JSON, newest first: what was made, when, with which outputs.

        Reviewers may call it too (it only reads). Each job has id, action, status, created_at and finished_at
        (ISO 8601, UTC), seed, outputs (type, mime, size, sha256 and a url to download the file from this
        studio), error ({code, message} or null) and comments (author, text, verdict approved/needs_changes).

        Args:
            action: only jobs of this kind: portrait, tts, lipsync, animate, music (empty: all).
            status: only jobs with this status: queued, running, completed, failed, cancelled, timed_out,
                expired, unknown, or "needs_changes" for jobs a reviewer marked so (empty: all).
            limit: at most this many jobs (1–200, default 50).
        """
        actions = list(load_catalogue())
        if action and action not in actions:
            raise gr.Error(f"action: {action!r} is not a job; use one of {', '.join(actions)} or leave it empty",
                           print_exception=False)
        if status and status not in (*STATUSES, "needs_changes"):
            raise gr.Error(f"status: {status!r} is not a status; use one of {', '.join(STATUSES)}, "
                           "needs_changes, or leave it empty", print_exception=False)
        try:
            n = int(limit)
        except (TypeError, ValueError):
            raise gr.Error("limit: must be a whole number from 1 to 200", print_exception=False) from None
        if not 1 <= n <= JOBS_LIMIT:
            raise gr.Error(f"limit: {n} is outside 1–{JOBS_LIMIT}", print_exception=False)
        base = _base_url()
        if status == "needs_changes":
            flagged = {t for t, v in studio.verdicts().items() if v == "needs_changes"}
            recs = [r for r in studio.history(action=action or None) if r.id in flagged][:n]
        else:
            recs = studio.history(action=action or None, status=status or None, limit=n)
        return [job_json(r, studio.comments(r.id), base) for r in recs]

    return jobs


def _base_url() -> str:
    """This studio's address as the caller reached it, so output URLs work from where the call came."""
    request = LocalContext.request.get(None)
    try:
        return str(request.base_url).rstrip("/") if request is not None else ""
    except Exception:
        return ""


def _iso(ts: float | None) -> str | None:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds") if ts else None


def job_json(rec: Any, comments: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    return {
        "id": rec.id, "action": rec.action, "status": rec.status, "created_at": _iso(rec.created_at),
        "finished_at": _iso(rec.finished_at), "seed": rec.seed, "preview": rec.preview,
        "outputs": [{"type": o.get("type"), "mime": o.get("mime"), "size": o.get("size"), "sha256": o.get("sha256"),
                     "url": f"{base_url}/gradio_api/file={o['path']}"} for o in rec.outputs or [] if o.get("path")],
        "error": rec.error,
        "comments": [{"author": c["author"], "text": c["text"], "verdict": c["verdict"], "at": _iso(c["created_at"])}
                     for c in comments],
    }


def api_component(p: Param) -> gr.components.Component:
    """A hidden input for the named API. It enforces nothing itself (no min/max, no fixed choices, numbers not
    rounded): Gradio's own checks answer "Value 0 is less than minimum value 1." without naming the field, so
    every check is the catalogue's, whose message names it. A required field has no value, so the API and MCP
    schemas list it as required."""
    value = None if p.required else p.default
    if p.type in ("int", "float", "seed"):
        return gr.Number(value=value, label=p.label, visible=False)
    if p.type == "choice":
        return gr.Dropdown(choices=list(p.choices), value=value, label=p.label, allow_custom_value=True,
                           visible=False)
    if p.type == "text":
        return gr.Textbox(value=value, label=p.label, visible=False)
    return P.component(p, visible=False)


def _output_component(kind: str) -> gr.components.Component:
    if kind == "image":
        return gr.Image(type="filepath", format="png", visible=False)
    if kind == "audio":
        return gr.Audio(type="filepath", visible=False)
    return gr.Video(visible=False, format=None)


def build(studio: Any) -> None:
    """Hidden components and events that carry the six named endpoints (must be called inside the Blocks)."""
    cat = load_catalogue()
    with gr.Column(visible=False):
        for action in ("portrait", "tts", "lipsync", "animate", "music"):
            spec = cat[action]
            inputs = [api_component(p) for p in spec.params]
            if action in FACE_CHECKED:
                inputs.append(gr.Checkbox(value=False, visible=False, label=SEND_WITHOUT_FACE))
            if spec.takes_characters:
                inputs.append(api_characters.component())
            out = _output_component(OUTPUT_KIND[action])
            trigger = gr.Button(visible=False)
            trigger.click(job_endpoint(studio, spec), inputs=inputs, outputs=[out], api_name=action,
                          concurrency_limit=None)
        th_in = [gr.Textbox(value=None, visible=False), gr.Audio(type="filepath", visible=False),
                 gr.Textbox(value=None, visible=False), gr.Textbox(visible=False, value="")]
        th_out = gr.Video(visible=False, format=None)
        @roles.reader
        def export_studio() -> str:
            """The whole studio as one .zip: every output, job and comment; an owner's also holds every input and
            voice (reference recordings, uploads), a reviewer's leaves those out. The file is deleted from the
            server 15 minutes after it was made."""
            return exchange.export_file(studio)

        gr.Button(visible=False).click(export_studio, outputs=[gr.File(visible=False)], api_name="export_studio",
                                       concurrency_limit=1)
        jobs_in = [gr.Textbox(visible=False, value=""), gr.Textbox(visible=False, value=""),
                   gr.Number(visible=False, value=50)]
        gr.Button(visible=False).click(jobs_endpoint(studio), inputs=jobs_in, outputs=[gr.JSON(visible=False)],
                                       api_name="jobs", concurrency_limit=None)
        gr.Button(visible=False).click(talking_head_endpoint(studio), inputs=th_in, outputs=[th_out],
                                       api_name="talking_head", concurrency_limit=None)


def describe_files_truthfully(demo: gr.Blocks) -> None:
    """Gradio's MCP server appends to every tool with a file argument a sentence about an "upload_file_to_gradio"
    tool that this server does not have; say instead how files are really passed (https URL or data URI, which
    its argument conversion accepts). Gradio offers no setting for that sentence, so the server object's class
    is swapped for a subclass that overrides only it. Call after launch(); without MCP it does nothing."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None or getattr(server, "_studio_files", False):
        return

    class StudioMCPServer(type(server)):  # type: ignore[misc]
        _studio_files = True

        @property
        def _file_data_tool_description(self) -> str:
            return " " + FILE_HOWTO

    server.__class__ = StudioMCPServer


# -- scenes (issue 9) -----------------------------------------------------------------------------------------
def scene_render_endpoint(studio: Any) -> Callable[..., tuple[str, str]]:
    from backend.scenes import make as M
    from backend.scenes.store import SceneRecord

    @roles.owner_only("render scenes")
    def scene_render(script: str, aspect: str = "16:9", resolution: int = 720, fps: int = 24,
                     burn_subtitles: bool = False, talking_head: str = "full", style: str = "Graphic novel ink",
                     music_tags: str = "", title: str = "", mode: str = "motion_comic") -> tuple[str, str]:
        """Render a scene written in Fountain into one MP4 with subtitles, making whatever media it still needs.

        Characters are named by their cast name (see the `cast` tool): a dialogue cue such as MARA speaks in
        Mara's cast voice. Each action paragraph is a panel; notes set directions: [[talking head]] or [[close up]] (in a
        dialogue block), [[animate]] or [[animate: svd]], [[image: cast name or job id]], [[hold 3s]],
        [[push in]], [[pan left]], [[caption: text]], [[title: text]], [[music: tags]]. Panel images, speech,
        talking heads, animations and music are made first (jobs already made with the same inputs are reused),
        then the video is rendered. The scene is saved in the Scenes tab under its title.

        Args:
            script: The scene in Fountain. Required. Cues must name cast members.
            aspect: Frame shape. Allowed: "16:9", "9:16", "1:1". Default: "16:9".
            resolution: Short side in pixels. Allowed: 720 or 1080. Default: 720.
            fps: Frames per second. Allowed: 24, 25 or 30. Default: 24.
            burn_subtitles: Draw the subtitles into the picture as well. Default: False.
            talking_head: How talking heads are shown. Allowed: "full" (full frame) or "inset" (over the last
                panel). Default: "full".
            style: Style preset of the panel images. Allowed: the Portrait tab's presets ("None", "Graphic novel
                ink", "Manga", "Painterly", "Photographic", "Noir"). Default: "Graphic novel ink".
            music_tags: Tags for a music bed made for the scene's length; empty uses the script's [[music: …]]
                note (no note: no music). Default: "".
            title: The scene's name in the Scenes tab (an existing scene of that name is updated); empty uses
                the script's Title, or "API scene". Default: "".
            mode: Allowed: "motion_comic" (a camera through the pages) or "full_frame". Default: "motion_comic".

        Returns:
            The MP4 video and its SRT subtitle file.
        """
        roles.require_owner(studio, "render scenes")
        from ui.portrait import STYLES
        if not isinstance(script, str) or not script.strip():
            raise gr.Error("script: is required (a scene in Fountain)")
        if style not in STYLES:
            raise gr.Error(f"style: {style!r} is not one of {', '.join(STYLES)}")
        try:
            settings = {"aspect": aspect, "resolution": int(resolution), "fps": int(fps),
                        "burn_subtitles": bool(burn_subtitles), "talking_head": talking_head, "style": style,
                        "mode": mode}
            M.render_settings(settings)
        except (BackendError, TypeError, ValueError) as err:
            raise gr.Error(getattr(err, "message", str(err))) from None
        scene, errors = M.parse(studio, script)
        if errors is not None:
            raise gr.Error("script: " + "; ".join(str(e) for e in errors.errors))
        name = (title or "").strip() or (scene.title if scene and scene.title else "API scene")
        rec = studio.scenes.find(name) or SceneRecord(id="", title=name)
        rec.script, rec.settings = script, {**rec.settings, **settings}
        rec.music = {"source": "job", "tags": music_tags.strip()} if (music_tags or "").strip() else \
            {"source": "script"}
        rec = studio.scenes.save(rec)
        for work in M.make_missing(studio, rec, concurrency=rec.settings.get("concurrency", 3)):
            pass
        work = M.load(studio, rec)
        failed = [f"shot {c.index + 1}: {c.message}" for c in work.cards() if c.status == "failed"]
        if failed:
            raise gr.Error("Some shots could not be made — " + "; ".join(failed))
        try:
            res = M.render_scene(studio, work)
        except BackendError as err:
            raise gr.Error(err.message) from None
        return res.mp4, res.srt

    return scene_render


def cast_endpoint(studio: Any) -> Callable[[], list[dict[str, Any]]]:
    @roles.reader
    def cast() -> list[dict[str, Any]]:
        """The studio's cast: the characters a scene script can name in its dialogue cues.

        Returns:
            A JSON list, one object per character: name (as cues use it), look (added to image prompts), voice
            (the voice library name, or null), has_portrait, seed (-1 = random), style (a style preset), likeness
            (0–1.5: how strongly their reference shapes the panels they are in) and has_reference (a chosen picture
            is used for panels instead of the portrait).
        """
        return [{"name": c.name, "look": c.look, "voice": c.voice, "has_portrait": bool(c.portrait),
                 "seed": c.seed, "style": c.style, "likeness": c.likeness, "has_reference": bool(c.reference)}
                for c in studio.cast.list()]

    return cast


def build_scenes(studio: Any) -> None:
    """Hidden components carrying `scene_render` and `cast` (must be called inside the Blocks)."""
    with gr.Column(visible=False):
        ins = [gr.Textbox(visible=False), gr.Textbox(visible=False, value="16:9"), gr.Number(visible=False, value=720),
               gr.Number(visible=False, value=24), gr.Checkbox(visible=False, value=False),
               gr.Textbox(visible=False, value="full"), gr.Textbox(visible=False, value="Graphic novel ink"),
               gr.Textbox(visible=False, value=""), gr.Textbox(visible=False, value=""),
               gr.Textbox(visible=False, value="motion_comic")]
        outs = [gr.Video(visible=False, format=None), gr.File(visible=False)]
        gr.Button(visible=False).click(scene_render_endpoint(studio), inputs=ins, outputs=outs,
                                       api_name="scene_render", concurrency_limit=None)
        gr.Button(visible=False).click(cast_endpoint(studio), inputs=[], outputs=[gr.JSON(visible=False)],
                                       api_name="cast", concurrency_limit=None)
