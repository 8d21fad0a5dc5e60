"""What a scene needs made, as jobs with dependencies, and which of them are already made (pure).

`plan()` turns a parsed scene, the cast and the scene's overrides into steps: panel images (the portrait job
with the scene's style, framed like the render), each line's speech (tts in the character's voice), talking
heads (lipsync of the character's portrait and that line's speech), panel animations (after their image) and
music (as long as the scene). A step's media inputs may be `Ref`s to other steps' outputs; the music length is
`SCENE_LENGTH` until the speech is known.

`assess()` settles each step against what exists: a step whose refs are all made gets concrete inputs and a
content key (the action and its validated inputs, media by sha256); a key already made is `ready` and is never
sent again, so editing one line re-makes only that line (and its talking head), and a fully made scene sends
nothing. Hashing, durations and the made-lookup are passed in, so this module does no I/O of its own.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.scenes import casting
from backend.scenes.model import RenderSettings, Scene, Shot
from backend.scenes.timeline import estimate_speech_s, shot_duration
from workflows.catalogue import ParamError, load_catalogue

OUTPUT_KIND = {"portrait": "image", "tts": "audio", "lipsync": "video", "animate": "video", "music": "audio"}
# A panel image framed like the render (portrait job: 256–1024 px, multiples of 8).
FRAME = {"16:9": (1024, 576), "9:16": (576, 1024), "1:1": (768, 768)}
HEAD_FRAME = (512, 768)
MUSIC_MIN_S, MUSIC_MAX_S, MUSIC_STEP_S = 5.0, 240.0, 5.0
ENGINES = ("animatelcm", "svd")


@dataclass(frozen=True)
class Ref:
    """The output of another step (its first file of `kind`)."""
    step: str
    kind: str


class _SceneLength:
    def __repr__(self) -> str:
        return "SCENE_LENGTH"


SCENE_LENGTH: Any = _SceneLength()   # music duration: filled in once every line's speech is made


@dataclass(frozen=True)
class Step:
    id: str                          # stable for a scene: "image:3", "speech:3:0", "head:3", "animate:3", ...
    action: str
    inputs: dict[str, Any]
    shots: tuple[int, ...]           # the shots (Shot.index) that wait for it
    what: str                        # for a person: "panel image", "speech of line 2", "talking head", ...

    @property
    def refs(self) -> tuple[Ref, ...]:
        return tuple(r for v in self.inputs.values() for r in _refs_in(v))

    @property
    def kind(self) -> str:
        return OUTPUT_KIND[self.action]


@dataclass(frozen=True)
class Problem:
    shot: int | None                 # None: the whole scene (music)
    message: str


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Per shot: which step (or fixed file) gives its image / video / speech; resolved into ShotMedia later.
    image: dict[int, Ref | str] = field(default_factory=dict)
    video: dict[int, Ref | str] = field(default_factory=dict)
    speech: dict[int, list[Ref]] = field(default_factory=dict)
    music: Ref | str | None = None

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


def _refs_in(value: Any) -> list[Ref]:
    """Refs in an input: the value itself, or the images of a `characters` list."""
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, list):
        return [c["image"] for c in value if isinstance(c, dict) and isinstance(c.get("image"), Ref)]
    return []


def styled(prompt: str, style: str, styles: Mapping[str, str]) -> str:
    suffix = styles.get(style or "None", "")
    prompt = prompt.strip().rstrip(",.")
    return f"{prompt}, {suffix}" if suffix else prompt


def _present(shot: Shot, cast: Mapping[str, Any]) -> list[Any]:
    """The cast members a panel shows: whoever speaks over it, and whoever its description names."""
    names = [ln.character for ln in shot.lines]
    text = shot.description.lower()
    names += [n for n in cast if re.search(rf"\b{re.escape(n.lower())}\b", text)]
    seen: dict[str, Any] = {}
    for n in names:
        if n in cast:
            seen.setdefault(n, cast[n])
    return list(seen.values())


def _seed(value: Any, hi: int) -> int:
    v = int(value if value is not None else -1)
    return v if -1 <= v <= hi else -1


def plan(scene: Scene, cast: Mapping[str, Any], *, settings: RenderSettings, overrides: Mapping[str, Mapping],
         music: Mapping[str, Any], style: str, styles: Mapping[str, str], voices: Mapping[str, tuple[str, str]],
         image_refs: Mapping[str, str] = {}, panel_sizes: Mapping[int, tuple[int, int]] = {}) -> Plan:
    """The steps a scene needs. `cast`: name → Character; `voices`: voice name → (audio path, transcript);
    `image_refs`: a [[image: …]] reference → the library path it names (unknown ones are problems);
    `panel_sizes`: shot index → (w, h) of its panel on the page (its art is made at that aspect; shots without
    one are framed like the video)."""
    p = Plan()
    w, h = FRAME[settings.aspect]
    heads_made: dict[str, Ref | str] = {}

    def portrait_of(name: str, shot: int) -> Ref | str | None:
        if name in heads_made:
            return heads_made[name]
        char = cast.get(name)
        if char is None:
            p.problems.append(Problem(shot, f"{name} is not in the cast"))
            return None
        if char.portrait:
            heads_made[name] = char.portrait
        else:
            sid = f"portrait:{name}"
            prompt = styled(f"portrait of {name}, {char.look or 'a person'}, front-facing, head and shoulders",
                            char.style, styles)
            p.steps.append(Step(sid, "portrait", {"prompt": prompt, "width": HEAD_FRAME[0],
                                                  "height": HEAD_FRAME[1], "seed": _seed(char.seed, 2**32 - 1)},
                                (shot,), f"{name}'s portrait"))
            heads_made[name] = Ref(sid, "image")
        return heads_made[name]

    for shot in scene.shots:
        i = shot.index
        ov = overrides.get(str(i)) or {}
        # A new take (a shot's "take" override) re-makes its speech and motion with that seed; without one the
        # inputs stay as they were, so what was made before is still found by content.
        take = ov.get("take")
        # -- speech: one tts per line, in the speaker's cast voice --------------------------------------------
        refs: list[Ref] = []
        for j, line in enumerate(shot.lines):
            char = cast.get(line.character)
            if char is None:
                p.problems.append(Problem(i, f"{line.character} is not in the cast"))
                continue
            voice = voices.get(char.voice or "")
            if voice is None:
                p.problems.append(Problem(i, f"{char.name} has no voice: pick one in the Cast tab"
                                  if not char.voice else f"{char.name}'s voice {char.voice!r} is not in the "
                                                         "voice library any more"))
                continue
            sid = f"speech:{i}:{j}"
            p.steps.append(Step(sid, "tts", {"text": line.text, "reference_audio": voice[0],
                                             "reference_text": voice[1],
                                             "seed": _seed(char.seed if take is None else take, 2_147_483_647)},
                                (i,), f"speech of line {j + 1}" if len(shot.lines) > 1 else "speech"))
            refs.append(Ref(sid, "audio"))
        p.speech[i] = refs
        if shot.kind == "title":
            continue
        # -- talking head: the speaker's portrait lip-synced to the (first) line's speech ---------------------
        if shot.kind == "talking_head":
            speaker = shot.character or (shot.lines[0].character if shot.lines else None)
            face = ov.get("image") or (portrait_of(speaker, i) if speaker else None)
            if face is None:
                if not speaker:
                    p.problems.append(Problem(i, "a talking head needs a line spoken by a cast member"))
                continue
            p.image[i] = face
            if refs:
                sid = f"head:{i}"
                head = {"image": face, "audio": refs[0], "max_duration": 30.0}
                if take is not None:
                    head["seed"] = _seed(take, 2_147_483_647)
                p.steps.append(Step(sid, "lipsync", head, (i,), "talking head"))
                p.video[i] = Ref(sid, "video")
            continue
        # -- panel: the chosen image, a [[image: …]] reference, or a new image --------------------------------
        if ov.get("image"):
            p.image[i] = ov["image"]
        elif shot.image:
            found = image_refs.get(shot.image)
            if found is None:
                p.problems.append(Problem(i, f"[[image: {shot.image}]] names no cast member, job or library "
                                             "image"))
            else:
                p.image[i] = found
        else:
            looks = [c.look for c in _present(shot, cast) if c.look]
            prompt = ", ".join([shot.description.strip() or "an empty panel", *looks])
            sid = f"image:{i}"
            pw, ph = panel_sizes.get(i, (w, h))
            panel = {"prompt": styled(prompt[:1900], style, styles), "width": pw, "height": ph,
                     "seed": _seed(ov.get("seed"), 2**32 - 1)}
            # The cast in the panel: each one's reference (their chosen image, else the portrait, made first when
            # they have none) conditions their region of the picture.
            cast_in = casting.characters_input(
                casting.effective(shot, ov), cast,
                lambda name: getattr(cast[name], "reference", None) or portrait_of(name, i))
            if cast_in:
                panel["characters"] = cast_in
            p.steps.append(Step(sid, "portrait", panel, (i,), "panel image"))
            p.image[i] = Ref(sid, "image")
        engine = ov.get("engine") or shot.animate
        if engine and engine != "none" and i in p.image:
            if engine not in ENGINES:
                p.problems.append(Problem(i, f"animation engine {engine!r} is not one of {', '.join(ENGINES)}"))
                continue
            sid = f"animate:{i}"
            motion = {"image": p.image[i], "mode": engine}
            if take is not None:
                motion["seed"] = _seed(take, 2_147_483_647)
            p.steps.append(Step(sid, "animate", motion, (i,), "animation"))
            p.video[i] = Ref(sid, "video")
    # -- music ------------------------------------------------------------------------------------------------
    source = (music or {}).get("source", "script")
    tags = scene.music if source == "script" else (music.get("tags") if source == "job" else None)
    if source in ("library", "upload"):
        if music.get("path"):
            p.music = music["path"]
        else:
            p.problems.append(Problem(None, "music: pick a track (or choose another music setting)"))
    elif tags and tags.strip():
        p.steps.append(Step("music", "music", {"tags": tags.strip(), "duration": SCENE_LENGTH},
                            tuple(s.index for s in scene.shots), "music"))
        p.music = Ref("music", "audio")
    return p


# -- settling a plan against what exists ---------------------------------------------------------------------
@dataclass
class Settled:
    step: Step
    state: str                          # "ready" | "missing" (can be sent now) | "waiting" (on another step)
    inputs: dict[str, Any] | None = None     # validated, media as paths (ready/missing only)
    key: str | None = None
    output: str | None = None           # ready: the file
    error: str | None = None            # the inputs are invalid (never sent)


def content_key(action: str, inputs: Mapping[str, Any], sha: Callable[[str], str]) -> str:
    """The same action with the same inputs (media compared by content) gives the same key."""
    spec = load_catalogue()[action]
    media = {p.name for p in spec.media_params}
    norm = {k: ("sha256:" + sha(v) if k in media and isinstance(v, str) else v) for k, v in sorted(inputs.items())}
    if norm.get("characters"):          # references by content: a new portrait re-makes the panels it is in
        norm["characters"] = [{**c, "image": "sha256:" + sha(c["image"])} for c in norm["characters"]]
    return action + ":" + hashlib.sha256(json.dumps(norm, sort_keys=True, default=str).encode()).hexdigest()


def shot_length(shot: Shot, overrides: Mapping[str, Mapping], speech_s: list[float] | None = None,
                clip_s: float | None = None) -> float:
    """The shot's length as the renderer's timeline will make it (speech not made yet is estimated)."""
    spoken = list(speech_s or [])
    spoken += [estimate_speech_s(ln.text) for ln in shot.lines[len(spoken):]]
    override = (overrides.get(str(shot.index)) or {}).get("duration")
    return shot_duration(shot, spoken[: len(shot.lines)], float(override) if override else None, clip_s)


def music_seconds(scene: Scene, overrides: Mapping[str, Mapping], speech_s: Mapping[int, list[float]]) -> float:
    """About the scene's length (the renderer loops or trims the bed to the exact length): rounded up to 5 s, so
    a small edit of a line does not re-make the music."""
    total = sum(shot_length(shot, overrides, speech_s.get(shot.index)) for shot in scene.shots)
    return min(MUSIC_MAX_S, max(MUSIC_MIN_S, math.ceil(total / MUSIC_STEP_S) * MUSIC_STEP_S))


def assess(p: Plan, scene: Scene, overrides: Mapping[str, Mapping], *, made: Callable[[str], str | None],
           sha: Callable[[str], str], seconds: Callable[[str], float],
           outputs: Mapping[str, str] | None = None) -> dict[str, Settled]:
    """Each step's state. `made(key)` → the output path of a completed job with that key, or None;
    `outputs`: step id → file for steps finished during this run (used before `made` knows them)."""
    cat = load_catalogue()
    done: dict[str, str] = dict(outputs or {})
    out: dict[str, Settled] = {}
    for step in p.steps:        # steps are in dependency order: a ref always names an earlier step
        raw: dict[str, Any] = {}
        waiting = False
        for k, v in step.inputs.items():
            if isinstance(v, Ref):
                if v.step not in done:
                    waiting = True
                    break
                v = done[v.step]
            elif _refs_in(v):
                if any(r.step not in done for r in _refs_in(v)):
                    waiting = True
                    break
                v = [{**c, "image": done[c["image"].step]} if isinstance(c.get("image"), Ref) else c for c in v]
            elif v is SCENE_LENGTH:
                speech = {i: [done.get(r.step) for r in refs] for i, refs in p.speech.items()}
                if any(x is None for xs in speech.values() for x in xs):
                    waiting = True
                    break
                v = music_seconds(scene, overrides, {i: [seconds(x) for x in xs if x] for i, xs in speech.items()})
            raw[k] = v
        if waiting:
            out[step.id] = Settled(step, "waiting")
            continue
        try:
            inputs = cat[step.action].validate(raw)
        except ParamError as err:
            out[step.id] = Settled(step, "missing", error=err.message)
            continue
        key = content_key(step.action, inputs, sha)
        path = done.get(step.id) or made(key)
        if path:
            done[step.id] = path
            out[step.id] = Settled(step, "ready", inputs, key, path)
        else:
            out[step.id] = Settled(step, "missing", inputs, key)
    return out
