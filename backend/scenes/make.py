"""Runs a scene's plan through the backend, and renders the scene into the library and the Jobs history.

`SceneWork` is one scene at one moment: parsed script, plan, each step's state and each shot's status, so the
Scenes tab, the named API and the tests all read the same storyboard. `make_missing()` sends the missing
steps (at most `concurrency` at a time, each watched in its own thread), re-settles the plan whenever one ends
(a finished tts frees its talking head), and yields a fresh board after every event until nothing is left to
send. `render_scene()` builds the render input from the made media and calls the engine's renderer.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.errors import BackendError, InputError
from backend.records import JobRecord
from backend.scenes import casting
from backend.scenes import plan as P
from backend.scenes.model import RenderInput, RenderSettings, Scene, ScriptErrors, ShotMedia
from backend.scenes.store import SceneRecord

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 3     # the number of workers the endpoint scales to by default
STATUSES = ("missing", "making", "ready", "failed")


# -- facts about files, memoised (the same library files are asked about on every board) ----------------------
_sha_memo: dict[tuple[str, int, int], str] = {}
_len_memo: dict[tuple[str, int, int], float] = {}


def _stat_key(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return (str(path), st.st_size, st.st_mtime_ns)


def sha256_of(path: str) -> str:
    k = _stat_key(path)
    if k not in _sha_memo:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                h.update(chunk)
        _sha_memo[k] = h.hexdigest()
    return _sha_memo[k]


def seconds_of(path: str) -> float:
    """Length of an audio (or video) file in seconds; 0 when it cannot be read."""
    k = _stat_key(path)
    if k not in _len_memo:
        try:
            import av
            with av.open(path) as c:
                if c.duration:
                    _len_memo[k] = c.duration / 1_000_000
                else:
                    s = c.streams.audio[0] if c.streams.audio else c.streams.video[0]
                    _len_memo[k] = float(s.duration * s.time_base) if s.duration else 0.0
        except Exception:
            _len_memo[k] = 0.0
    return _len_memo[k]


# -- what exists ----------------------------------------------------------------------------------------------
class Made:
    """key → output file: the scene index first, then completed jobs of the same actions in the history (so a
    job made in another tab with the same inputs counts as made too)."""

    def __init__(self, studio: Any):
        self.studio = studio
        self._history: dict[str, str] | None = None

    def __call__(self, key: str) -> str | None:
        row = self.studio.scenes.made(key)
        if row:
            kind = P.OUTPUT_KIND.get(row["action"])
            path = next((o["path"] for o in row["outputs"] if o.get("type") == kind and o.get("path")), None)
            if path and os.path.isfile(path):
                return path
            self.studio.scenes.forget(key)   # the file is gone: make it again
        return self._from_history().get(key)

    def _from_history(self) -> dict[str, str]:
        if self._history is None:
            self._history = {}
            for action, kind in P.OUTPUT_KIND.items():
                for rec in reversed(self.studio.history(action=action, status="completed", limit=2000)):
                    path = next((o["path"] for o in rec.outputs or [] if o.get("type") == kind and o.get("path")
                                 and os.path.isfile(o["path"])), None)
                    if not path:
                        continue
                    try:
                        key = P.content_key(action, _validated(action, rec.inputs), sha256_of)
                    except Exception:       # an old record whose inputs the catalogue no longer accepts
                        continue
                    self._history[key] = path
        return self._history


def _validated(action: str, inputs: dict[str, Any]) -> dict[str, Any]:
    from workflows.catalogue import load_catalogue
    return load_catalogue()[action].validate(dict(inputs))


# -- one scene's state ----------------------------------------------------------------------------------------
@dataclass
class Card:
    """One shot of the storyboard, as a person reads it."""
    index: int
    kind: str
    character: str | None
    text: str                       # the line (or the panel's description)
    duration_s: float
    status: str                     # missing | making | ready | failed
    message: str = ""
    thumb: str | None = None
    percent: float | None = None
    engine: str | None = None
    cast: str = ""                  # who is in the panel and where: "Anna (left), Ben (right)"
    speakers: list[str] = field(default_factory=list)     # everyone who speaks in the shot, in order


@dataclass
class SceneWork:
    record: SceneRecord
    scene: Scene | None
    errors: ScriptErrors | None
    plan: P.Plan
    settled: dict[str, P.Settled]
    settings: RenderSettings
    live: dict[str, dict[str, Any]] = field(default_factory=dict)   # step id → {"state","percent","error","job"}
    outputs: dict[str, str] = field(default_factory=dict)          # step id → file made during this run

    def file_of(self, v: Any) -> str | None:
        if isinstance(v, P.Ref):
            s = self.settled.get(v.step)
            return self.outputs.get(v.step) or (s.output if s else None)
        return v

    def steps_of(self, shot: int) -> list[P.Step]:
        return [s for s in self.plan.steps if shot in s.shots and s.id != "music"]

    def cards(self) -> list[Card]:
        if self.scene is None:
            return []
        out = []
        for shot in self.scene.shots:
            i = shot.index
            problems = [p.message for p in self.plan.problems if p.shot == i]
            states = []
            message, percent = "", None
            for st in self.steps_of(i):
                live = self.live.get(st.id) or {}
                s = self.settled.get(st.id)
                if live.get("state") == "failed" or (s and s.error):
                    states.append("failed")
                    problems.append(f"{st.what}: {live.get('error') or s.error}")
                elif live.get("state") == "making":
                    states.append("making")
                    message = message or f"{st.what}: {live.get('message') or 'sent'}"
                    percent = live.get("percent") if percent is None else percent
                else:
                    states.append(s.state if s else "missing")
            if problems:
                status = "failed"
                message = "; ".join(problems)
            elif "making" in states:
                status = "making"
            elif all(x == "ready" for x in states):
                status = "ready"
            else:
                status = "missing"
                todo = [st.what for st in self.steps_of(i) if self.settled.get(st.id) and
                        self.settled[st.id].state != "ready"]
                message = "to make: " + ", ".join(todo) if todo else ""
            speech = [self.file_of(r) for r in self.plan.speech.get(i, [])]
            spoken = [seconds_of(f) for f in speech if f] if all(speech) else []
            clip = self.file_of(self.plan.video.get(i))
            dur = P.shot_length(shot, self.record.overrides, spoken, seconds_of(clip) if clip else None)
            speakers = list(dict.fromkeys(ln.character for ln in shot.lines))
            text = " / ".join(f"{ln.character}: {ln.text}" if len(speakers) > 1 else ln.text
                              for ln in shot.lines) or shot.description
            who = shot.character or (shot.lines[0].character if shot.lines else None)
            engine = (self.plan.step(f"animate:{i}").inputs.get("mode") if f"animate:{i}" in self.settled else None)
            in_panel = casting.describe(casting.effective(shot, self.record.overrides.get(str(i))))
            out.append(Card(i, shot.kind, who, text, float(dur), status, message,
                            self.file_of(self.plan.image.get(i)), percent, engine, in_panel, speakers))
        return out

    def counts(self) -> dict[str, int]:
        c = {"ready": 0, "missing": 0, "waiting": 0, "making": 0, "failed": 0}
        for sid, s in self.settled.items():
            live = (self.live.get(sid) or {}).get("state")
            c[live if live in ("making", "failed") else ("failed" if s.error else s.state)] += 1
        return c

    def sendable(self) -> list[P.Settled]:
        return [s for sid, s in self.settled.items() if s.state == "missing" and not s.error
                and (self.live.get(sid) or {}).get("state") not in ("making", "failed")]

    def all_made(self) -> bool:
        return bool(self.scene) and not self.plan.problems and all(s.state == "ready" for s in self.settled.values())

    def render_input(self) -> RenderInput:
        """The made media per shot; raises BackendError naming the first shot that is not ready."""
        if self.scene is None:
            raise BackendError(f"The script has errors:\n{self.errors}")
        shots = []
        for shot in self.scene.shots:
            i = shot.index
            ov = self.record.overrides.get(str(i)) or {}
            image = self.file_of(self.plan.image.get(i))
            video = self.file_of(self.plan.video.get(i))
            speech = [self.file_of(r) for r in self.plan.speech.get(i, [])]
            missing = (i in self.plan.image and not image) or (i in self.plan.video and not video) or \
                (None in speech) or len(speech) != len(shot.lines)
            problems = [p.message for p in self.plan.problems if p.shot == i]
            if problems or missing:
                why = "; ".join(problems) or "its media is not made yet (press Make what's missing)"
                raise BackendError(f"{shot.label}: {why}")
            shots.append(ShotMedia(shot=shot, image=Path(image) if image else None,
                                   video=Path(video) if video else None, speech=tuple(Path(s) for s in speech),
                                   duration_s=float(ov["duration"]) if ov.get("duration") else None))
        scene_problems = [p.message for p in self.plan.problems if p.shot is None]
        if scene_problems:
            raise BackendError("; ".join(scene_problems))
        music = self.file_of(self.plan.music) if self.plan.music is not None else None
        if self.plan.music is not None and not music:
            raise BackendError("The music is not made yet (press Make what's missing).")
        return RenderInput(scene=self.scene, shots=tuple(shots), music=Path(music) if music else None)


def render_settings(d: dict[str, Any] | None) -> RenderSettings:
    """RenderSettings from a stored/typed dict; a bad value raises BackendError naming the setting."""
    d = dict(d or {})
    try:
        return RenderSettings(aspect=d.get("aspect", "16:9"), resolution=int(d.get("resolution", 720)),
                              fps=int(d.get("fps", 24)), burn_subtitles=bool(d.get("burn_subtitles", False)),
                              talking_head=d.get("talking_head", "full"), mode=d.get("mode", "motion_comic"))
    except (TypeError, ValueError) as err:
        raise BackendError(str(err)) from None


def parse(studio: Any, script: str) -> tuple[Scene | None, ScriptErrors | None]:
    """The scene, or every problem with its line number (a scene past 15 minutes included)."""
    from backend.scenes.script import parse_scene
    from backend.scenes.timeline import estimate
    try:
        scene = parse_scene(script, studio.cast.names())
        estimate(scene)
        return scene, None
    except ScriptErrors as errs:
        return None, errs


def image_refs(studio: Any, scene: Scene) -> dict[str, str]:
    """[[image: …]] references → files: a cast member's portrait, a job's first image, or a library file."""
    out: dict[str, str] = {}
    lib = Path(studio.library.root).resolve()
    for shot in scene.shots:
        ref = (shot.image or "").strip()
        if not ref or ref in out:
            continue
        char = studio.cast.get(ref)
        if char and char.portrait:
            out[ref] = char.portrait
            continue
        rec = studio.get(ref)
        if rec is not None:
            img = next((o["path"] for o in rec.outputs or [] if o.get("type") == "image"), None)
            if img:
                out[ref] = img
                continue
        for cand in (Path(ref), lib / "outputs" / ref, lib / "inputs" / ref):
            try:
                if cand.is_file() and cand.resolve().is_relative_to(lib):
                    out[ref] = str(cand.resolve())
                    break
            except OSError:
                pass
    return out


def styles() -> dict[str, str]:
    from ui.portrait import STYLES   # presentation data (prompt suffixes), shared with the Portrait tab
    return dict(STYLES)


def load(studio: Any, record: SceneRecord, made: Made | None = None) -> SceneWork:
    """Parse, plan and settle one scene against what exists now."""
    settings = render_settings(record.settings)
    scene, errors = parse(studio, record.script)
    if scene is None:
        return SceneWork(record, None, errors, P.Plan(), {}, settings)
    cast = {c.name: c for c in studio.cast.list()}
    voices = {v.name: (v.audio_path, v.transcript) for v in studio.voices.list()}
    pl = P.plan(scene, cast, settings=settings, overrides=record.overrides, music=record.music,
                style=record.settings.get("style", "None"), styles=styles(), voices=voices,
                image_refs=image_refs(studio, scene), panel_sizes=panel_sizes(scene, record, settings))
    made = made or Made(studio)
    settled = P.assess(pl, scene, record.overrides, made=made, sha=sha256_of, seconds=seconds_of)
    return SceneWork(record, scene, None, pl, settled, settings)


def panel_sizes(scene: Scene, record: SceneRecord, settings: RenderSettings) -> dict[int, tuple[int, int]]:
    """Each panel shot's art size on the scene's pages (issue 20: a panel's shape is known before its image is
    made). Full-frame renders keep the video's frame; a layout the page settings cannot build keeps it too (the
    Pages view says why)."""
    if settings.mode == "full_frame":
        return {}
    from backend.pages.layout import LayoutError, LayoutOverrides, layout
    from backend.pages.store import page_settings
    p = page_settings(record)
    try:
        pages = layout(scene, p["format"], LayoutOverrides.from_dict(p["layout"]))
    except (LayoutError, KeyError, ValueError):
        return {}
    return {panel.shot_index: panel.art_size for page in pages for panel in page.panels
            if scene.shots[panel.shot_index].kind == "panel"}


# -- making what's missing ------------------------------------------------------------------------------------
_cancels: dict[str, threading.Event] = {}
_lock = threading.Lock()


def cancel_all(scene_id: str) -> bool:
    """Ask a running make_missing() of this scene to stop sending and to cancel its jobs in flight."""
    with _lock:
        ev = _cancels.get(scene_id)
    if ev is None:
        return False
    ev.set()
    return True


def make_missing(studio: Any, record: SceneRecord, *, concurrency: int = DEFAULT_CONCURRENCY
                 ) -> Iterator[SceneWork]:
    """Send every missing step (dependencies first), `concurrency` at a time; yield the board after each event.

    A failed job marks its shots failed with the job's error; the rest go on. Stops when nothing more can be
    sent, or when cancel_all(scene id) is called (jobs in flight are cancelled on the endpoint)."""
    concurrency = max(1, min(int(concurrency or DEFAULT_CONCURRENCY), 8))
    made = Made(studio)
    work = load(studio, record, made)
    yield work
    if work.scene is None:
        return
    stop = threading.Event()
    with _lock:
        _cancels[record.id] = stop
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    in_flight: dict[str, str] = {}          # step id → job id
    threads: list[threading.Thread] = []

    def follow(step_id: str, job_id: str) -> None:
        try:
            for ev in studio.watch(job_id):
                events.put((step_id, ev))
        except Exception as exc:            # the studio closed under us
            events.put((step_id, exc))

    try:
        while True:
            if not stop.is_set():
                flying = {work.settled[sid].key for sid in in_flight}
                for s in work.sendable():
                    if len(in_flight) >= concurrency:
                        break
                    if s.key in flying:     # two shots on the same panel: one job makes it for both
                        continue
                    flying.add(s.key)
                    no_face = _no_face(s.step.action, s.inputs)
                    if no_face:             # SONIC would fail on it after the GPU started: say so, send nothing
                        work.live[s.step.id] = {"state": "failed", "error": no_face}
                        continue
                    try:
                        rec = studio.submit(s.step.action, s.inputs)
                    except BackendError as err:
                        work.live[s.step.id] = {"state": "failed", "error": err.message}
                        continue
                    in_flight[s.step.id] = rec.id
                    work.live[s.step.id] = {"state": "making", "message": "sent", "job": rec.id}
                    t = threading.Thread(target=follow, args=(s.step.id, rec.id), daemon=True)
                    t.start()
                    threads.append(t)
                yield work
            if not in_flight:
                return
            try:
                step_id, ev = events.get(timeout=0.5)
            except queue.Empty:
                if stop.is_set():
                    for sid, jid in list(in_flight.items()):
                        try:
                            studio.cancel(jid)
                        except BackendError:
                            pass
                        work.live[sid] = {"state": "failed", "error": "cancelled"}
                    in_flight.clear()
                    yield work
                    return
                continue
            if isinstance(ev, Exception):
                work.live[step_id] = {"state": "failed", "error": str(ev)}
                in_flight.pop(step_id, None)
                yield work
                continue
            rec = ev.record
            if not ev.terminal:
                pct = (ev.progress or {}).get("percent")
                work.live[step_id] = {"state": "making", "message": ev.message, "percent": pct, "job": rec.id}
                yield work
                continue
            in_flight.pop(step_id, None)
            st = work.settled[step_id]
            path = next((o["path"] for o in rec.outputs or [] if o.get("type") == st.step.kind), None)
            if rec.status == "completed" and path:
                studio.scenes.remember(st.key, st.step.action, rec.id, rec.outputs)
                work.outputs[step_id] = path
                work.live.pop(step_id, None)
                if step_id.startswith("portrait:"):
                    _give_portrait(studio, step_id.removeprefix("portrait:"), path)
            else:
                err = rec.error or {}
                why = err.get("message") or (f"the job ended {rec.status}" if rec.status != "completed"
                                             else f"the job returned no {st.step.kind}")
                work.live[step_id] = {"state": "failed", "error": why, "job": rec.id}
            # Re-settle: what just finished may free the steps waiting on it.
            work.settled = P.assess(work.plan, work.scene, record.overrides, made=made, sha=sha256_of,
                                    seconds=seconds_of, outputs=work.outputs)
            yield work
    finally:
        with _lock:
            if _cancels.get(record.id) is stop:
                _cancels.pop(record.id, None)


# -- rendering ------------------------------------------------------------------------------------------------
@dataclass
class Rendered:
    record: JobRecord
    mp4: str
    srt: str
    vtt: str
    duration_s: float


def _give_portrait(studio: Any, name: str, path: str) -> None:
    """A character who had no portrait keeps the one the scene made, so the Cast shows it and every later scene
    and shot uses the same face (the copy has the same bytes, so nothing made from it is made again)."""
    char = studio.cast.get(name)
    if char is None or char.portrait:
        return
    try:
        studio.cast.save(char.name, look=char.look, portrait=path, voice=char.voice, seed=char.seed,
                         style=char.style, id=char.id)
    except InputError as err:       # e.g. its voice was deleted meanwhile: the scene goes on, the cast stays
        log.warning("the portrait made for %s was not added to the cast: %s", name, err.message)


def _no_face(action: str, inputs: dict[str, Any]) -> str | None:
    """The advice when a talking head's portrait has no face the lip-sync model can find."""
    image = inputs.get("image") if action == "lipsync" else None
    if not isinstance(image, str) or not Path(image).is_file():
        return None
    from backend import faces
    return None if faces.find_face(image).found else f"Portrait: {faces.ADVICE}"


def _keep_output(studio: Any, job_id: str, src: Path, kind: str, mime: str) -> dict[str, Any]:
    digest = sha256_of(str(src))
    dest = Path(studio.library.outputs) / f"{digest[:16]}-{job_id}{src.suffix}"
    shutil.copyfile(src, dest)
    return {"type": kind, "path": str(dest), "mime": mime, "size": dest.stat().st_size, "sha256": digest,
            "filename": src.name}


def _with_portraits(studio: Any, rinput: RenderInput) -> RenderInput:
    """The speakers' cast portraits, so full-frame mode can cut to whoever speaks."""
    from dataclasses import replace
    found = []
    for name in rinput.scene.characters:
        char = studio.cast.get(name)
        if char is not None and char.portrait and Path(char.portrait).is_file():
            found.append((name, Path(char.portrait)))
    return replace(rinput, portraits=tuple(found))


def with_pages(studio: Any, work: SceneWork, rinput: RenderInput) -> RenderInput:
    """For the motion comic: the scene's own book — its page format, the Pages view's layout and lettering edits,
    the faces in its art — so the video and the book show the same pages and say the same words. A book the
    page settings cannot build refuses the render, naming why (the Pages view shows the same)."""
    if work.settings.mode != "motion_comic":
        return rinput
    from dataclasses import replace

    from backend.pages.store import scene_book
    try:
        sb = scene_book(studio, work.record, work=work)
    except BackendError as err:
        raise BackendError(f"The scene's pages cannot be laid out ({err.message}); change them in the Pages view, "
                           "or render in Full frame mode.") from None
    return replace(rinput, book=sb.book, faces=tuple(sorted(sb.faces.items())))


def render_scene(studio: Any, work: SceneWork, on_progress: Callable[[float], None] | None = None) -> Rendered:
    """Render the made scene into the library, as a completed "scene" job in the history with what made it.

    A failed render is recorded as a failed "scene" job and leaves the scene's previous render as it was."""
    from backend.scenes.render import render

    rinput = with_pages(studio, work, _with_portraits(studio, work.render_input()))
    s = work.settings
    made_rows = [studio.scenes.made(st.key) for st in work.settled.values() if st.key]
    used = sorted({row["job_id"] for row in made_rows if row})
    inputs = {"scene": work.record.title, "script": work.record.script, "aspect": s.aspect,
              "resolution": s.resolution, "fps": s.fps, "burn_subtitles": s.burn_subtitles,
              "talking_head": s.talking_head, "mode": s.mode, "shots": len(rinput.shots), "made_by": used,
              "media": [str(p) for sm in rinput.shots for p in (sm.image, sm.video, *sm.speech) if p]
              + ([str(rinput.music)] if rinput.music else [])}
    if rinput.book is not None:         # what the pages were made with, as a book export records it
        from backend.pages.store import page_settings
        inputs["pages"] = {**page_settings(work.record), "format": rinput.book.format.name}
    rec = JobRecord(id="scene-" + uuid.uuid4().hex[:16], endpoint="studio", action="scene", inputs=inputs,
                    status="running", created_at=time.time(), started_at=time.time(),
                    preview=getattr(studio, "mode", None) == "preview")
    studio.history_db.save(rec)
    out_dir = Path(tempfile.mkdtemp(prefix="scene-render-", dir=Path(studio.library.root) / "tmp"))

    def progress(*args: Any) -> None:
        if on_progress is None or not args:
            return
        a = args[0]
        if len(args) >= 2 and isinstance(args[1], (int, float)) and args[1]:
            frac = float(a) / float(args[1])
        elif isinstance(a, (int, float)):
            frac = float(a) / 100 if a > 1 else float(a)
        else:
            frac = float(getattr(a, "fraction", getattr(a, "percent", 0)) or 0)
        on_progress(max(0.0, min(1.0, frac)))

    try:
        result = render(rinput, s, out_dir, progress)
        outs = [_keep_output(studio, rec.id, Path(result.mp4), "video", "video/mp4"),
                _keep_output(studio, rec.id, Path(result.srt), "subtitles", "application/x-subrip"),
                _keep_output(studio, rec.id, Path(result.vtt), "subtitles", "text/vtt")]
    except Exception as exc:
        msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        rec = rec.copy(status="failed", finished_at=time.time(), error={"code": "render_failed", "message": msg})
        studio.history_db.save(rec)
        raise BackendError(f"The render failed: {msg}") from None
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    now = time.time()
    rec = rec.copy(status="completed", finished_at=now, execution_ms=int((now - rec.started_at) * 1000),
                   outputs=outs)
    studio.history_db.save(rec)
    work.record.render = {"mp4": outs[0]["path"], "srt": outs[1]["path"], "vtt": outs[2]["path"],
                          "job_id": rec.id, "duration": float(result.duration_s)}
    studio.scenes.save(work.record)
    return Rendered(rec, *download_names(studio, work.record.title, [o["path"] for o in outs]),
                    float(result.duration_s))


def _named_copy(studio: Any, title: str, path: str) -> Path:
    import re
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")[:60] or "scene"
    return Path(studio.library.root) / "downloads" / f"render-{Path(path).stem}" / f"{slug}{Path(path).suffix}"


def existing_download_names(studio: Any, title: str, paths: list[str]) -> list[str]:
    """The render's files under the scene's title where those links already exist (the render made them), else
    the library's own paths; writes nothing, for a reviewer's page, who would otherwise see hash-named files."""
    first = paths[0] if paths else ""
    out = []
    for p in paths:
        named = _named_copy(studio, title, first).with_suffix(Path(p).suffix)
        try:
            same = named.is_file() and not named.is_symlink() and named.samefile(p)
        except OSError:
            same = False
        out.append(str(named) if same else p)
    return out


def download_names(studio: Any, title: str, paths: list[str]) -> list[str]:
    """The render's files under the scene's title (the library names them by hash and job), for the page's
    player and downloads: hard links in the library's downloads folder, so nothing is copied. Only files the
    library may serve are linked (backend/served.py): a path a record names outside it is a BackendError."""
    from backend.served import judge
    for p in paths:
        if not judge(p, studio.library.root).allowed or not Path(p).resolve().is_relative_to(
                Path(studio.library.outputs).resolve()):
            raise BackendError("The scene's render is not a file of this studio's library; render it again.")
    first = _named_copy(studio, title, paths[0])
    first.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for p in paths:
        src = Path(p).resolve()
        dest = first.with_suffix(src.suffix)
        if dest.is_symlink() or (dest.exists() and not dest.samefile(src)):
            dest.unlink()
        if not dest.exists():
            try:
                os.link(src, dest)
            except OSError:
                shutil.copyfile(src, dest)
        out.append(str(dest))
    return out
