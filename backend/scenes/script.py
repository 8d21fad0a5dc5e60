"""A Fountain scene + the cast's names → a Scene (shots with lines and directions), or every error at once.

Mapping (docs/scenes.md):
- an action paragraph → a panel shot, its text the panel's description;
- a dialogue block → a Line in that cast member's voice, over the current panel (a dialogue block before
  any action becomes a talking head, as there is no panel to speak over);
- notes set directions for the shot they are written in or under (a note paragraph of its own applies to
  the shot above it, or, before the first shot, to the first shot);
- centered text `>THE END<` and `[[title: …]]` become title cards; transitions, sections, synopses, page
  breaks and lyrics outside dialogue are kept out of the video.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable

from backend.scenes import casting, fountain
from backend.scenes.model import (
    ANIMATE_ENGINES, MAX_SCRIPT, MAX_SHOTS, Line, Scene, ScriptError, ScriptErrors, Shot,
)

NOTES_HELP = ("talking head, close up, animate, animate: svd, image: NAME, hold 3s, push in, pull out, pan left, "
              "pan right, still, dissolve, music: TAGS, title: TEXT, caption: TEXT, sfx: SOUND, note: ANY TEXT "
              "(a comment)")
PAGE_SECTION = re.compile(r"^page\b", re.IGNORECASE)   # "# PAGE TWO": a comic page starts here
CAMERA_NOTES = {"push in": "push_in", "pull out": "pull_out", "pan left": "pan_left",
                "pan right": "pan_right", "still": "still"}
HOLD = re.compile(r"^hold\s*:?\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?)?$")
MIN_HOLD_S, MAX_HOLD_S = 0.5, 60.0
CAMERA_CYCLE = ("push_in", "pan_right", "push_in", "pan_left")   # default moves, so stills vary
MAX_LISTED_ERRORS = 100     # a hostile script can hold 100,000 problems; the page lists the first ones
QUOTE_CHARS = 80            # how much of a note or a cue an error message repeats


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS - 1].rstrip() + "…"


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


class _Builder:
    def __init__(self, cast_names: Iterable[str]):
        self.cast = {_norm(n): n for n in cast_names if n and n.strip()}
        self.shots: list[dict] = []
        self.errors: list[ScriptError] = []
        self.music: tuple[int, str] | None = None
        self.pending: list[fountain.Note] = []   # notes before the first shot
        self.last_panel: dict | None = None
        self.page_break = False                  # the next shot starts a page (===, a PAGE section)

    def error(self, line_no: int, message: str):
        self.errors.append(ScriptError(line_no, message))

    # shots are dicts while building (directions arrive after the shot starts), frozen at the end
    def new_shot(self, kind: str, line_no: int, description: str, **kw) -> dict:
        shot = {"kind": kind, "line_no": line_no, "description": description, "character": None,
                "lines": [], "animate": None, "image": None, "hold_s": None, "camera": None, "caption": None,
                "explicit_camera": False, "sfx": [], "page_break": self.page_break, "close_up": False}
        self.page_break = False
        shot.update(kw)
        self.shots.append(shot)
        if kind == "panel":
            self.last_panel = shot
        if len(self.shots) == 1 and self.pending:
            pending, self.pending = self.pending, []
            self.apply_notes(pending, shot)
        return shot

    def cast_name(self, cue: fountain.Element) -> str | None:
        found = self.cast.get(_norm(cue.text))
        if found is None:
            names = ", ".join(sorted(self.cast.values(), key=str.casefold))
            allowed = f"the cast is: {names}" if names else "the cast is empty: add characters to the cast first"
            self.error(cue.line_no, f"{_quote(cue.text)} is not in the cast; {allowed}")
        return found

    def apply_notes(self, notes: Iterable[fountain.Note], shot: dict | None, line: dict | None = None):
        for note in notes:
            self.apply_note(note, shot, line)

    def apply_note(self, note: fountain.Note, shot: dict | None, line: dict | None = None):
        raw = note.text.strip()
        low = " ".join(raw.casefold().replace("-", " ").split())
        key, _, value = raw.partition(":")
        key = " ".join(key.casefold().split())
        value = value.strip()
        if key == "note" or raw.startswith(("//", "#")):
            return
        if key == "music":
            if not value:
                self.error(note.line_no, "[[music: …]] needs tags, e.g. [[music: calm piano, rain]]")
            elif self.music is not None:
                self.error(note.line_no, f"the scene's music is already set on line {self.music[0]}")
            else:
                self.music = (note.line_no, value)
            return
        if key == "title":
            if not value:
                self.error(note.line_no, "[[title: …]] needs the card's text")
            else:
                self.new_shot("title", note.line_no, value, camera="still")
            return
        if shot is None:
            if not self.shots:
                self.pending.append(note)
                return
            shot = self.shots[-1]
        if low in ("talking head", "close up"):
            if line is None:
                self.error(note.line_no, f"[[{low}]] goes in a dialogue block, under the character's cue")
            else:
                line["talking_head"] = True
            return
        if key == "caption":
            if not value:
                self.error(note.line_no, "[[caption: …]] needs the caption's text")
            else:
                shot["caption"] = value
            return
        if key == "sfx":
            if not value:
                self.error(note.line_no, "[[sfx: …]] needs the sound, e.g. [[sfx: KRAK]]")
            else:
                shot.setdefault("sfx", []).append(value)
            return
        if key == "image":
            if not value:
                self.error(note.line_no, "[[image: …]] needs an image name or library id")
            else:
                shot["image"] = value
            return
        if key == "animate":
            engine = value.casefold() or "animatelcm"
            if engine not in ANIMATE_ENGINES:
                self.error(note.line_no, f"[[animate: {_quote(value)}]]: the engine is one of {', '.join(ANIMATE_ENGINES)}")
            elif shot["kind"] == "title":
                self.error(note.line_no, "[[animate]] applies to a panel, not a title card")
            else:
                shot["animate"] = engine
            return
        m = HOLD.match(low)
        if m:
            seconds = float(m.group(1))
            if not MIN_HOLD_S <= seconds <= MAX_HOLD_S:
                self.error(note.line_no, f"[[{_quote(raw)}]]: a hold is {MIN_HOLD_S:g}–{MAX_HOLD_S:g} seconds")
            else:
                shot["hold_s"] = seconds
            return
        if low == "dissolve":       # cross-fade into this shot (cuts are hard by default)
            shot["transition"] = "dissolve"
            return
        if low in CAMERA_NOTES:
            shot["camera"] = CAMERA_NOTES[low]
            shot["explicit_camera"] = True
            return
        self.error(note.line_no, f"[[{_quote(raw)}]] is not a note we know; the notes are: {NOTES_HELP}")

    def dialogue(self, cue: fountain.Element, block: list[fountain.Element]):
        name = self.cast_name(cue)
        spoken = [e for e in block if e.kind in ("dialogue", "lyrics")]
        parens = [e for e in block if e.kind == "parenthetical"]
        if not spoken:
            self.error(cue.line_no, f"{_quote(cue.text)}'s cue has no dialogue under it "
                                    "(a cue is a name in capitals on its own line, its words on the next line)")
            return
        text = " ".join(fountain.plain(" ".join(e.text.split())) for e in spoken)
        marked = " ".join(" ".join(e.text.split()) for e in spoken)
        line = {"talking_head": False}
        notes = [n for e in [cue, *block] for n in e.notes]
        # notes are read before placing the line, since [[talking head]] decides where it goes
        probe_shot = self.shots[-1] if self.shots else None
        directions = [n for n in notes if n.text.casefold().strip() != "talking head"]
        said = [n.text.casefold().replace("-", " ").split() for n in notes]
        # [[close up]]: the line is a talking head that fills the frame (in the motion comic too)
        close_up = ["close", "up"] in said
        if ["talking", "head"] in said or close_up:
            line["talking_head"] = True
        if name is None:
            return
        spoken_line = Line(character=name, text=text,
                           parenthetical=parens[0].text.strip()[1:-1].strip() if parens else None,
                           line_no=cue.line_no, extension=cue.extension,
                           marked=marked if marked != text else None)
        if line["talking_head"] or probe_shot is None:
            shot = self.new_shot("talking_head", cue.line_no, f"{name} speaks", character=name, camera="still")
        elif probe_shot["kind"] != "panel" or (probe_shot is not self.last_panel):
            # after a talking head or a title, the next line cuts back to the last panel
            base = self.last_panel
            if base is None:
                shot = self.new_shot("talking_head", cue.line_no, f"{name} speaks", character=name, camera="still")
            else:
                shot = self.new_shot("panel", cue.line_no, base["description"], animate=base["animate"],
                                     image=base["image"], camera=base["camera"],
                                     explicit_camera=base["explicit_camera"])
        else:
            shot = probe_shot
        shot["lines"].append(spoken_line)
        if close_up and shot["kind"] == "talking_head":
            shot["close_up"] = True
        self.apply_notes(directions, shot, line)

    def _cast_cue(self, e: fountain.Element):
        """A cast member's name in mixed case over some words ("Anna\nHi.") is Fountain action, but
        a writer means a line: read it as a dialogue block."""
        first, _, rest = e.text.strip().partition("\n")
        name = first.split("(")[0].strip()
        if not rest.strip() or _norm(name) not in self.cast:
            return None
        cue = fountain.Element("character", name, e.line_no, ())
        body = [fountain.Element("parenthetical" if fountain.PARENTHETICAL.match(t) else "dialogue", t.strip(),
                                 e.line_no + 1 + n) for n, t in enumerate(rest.split("\n")) if t.strip()]
        if body:
            body[-1] = replace(body[-1], notes=e.notes)
        return cue, body

    def build(self, doc: fountain.Document) -> tuple[list[dict], str | None, str | None]:
        heading = None
        elements = list(doc.elements)
        i = 0
        while i < len(elements):
            e = elements[i]
            if e.kind == "scene_heading":
                heading = heading or fountain.plain(e.text)
                self.apply_notes(e.notes, None)
            elif e.kind == "action" and not e.forced and (cast_cue := self._cast_cue(e)) is not None:
                self.dialogue(*cast_cue)
            elif e.kind == "action":
                text = fountain.plain(" ".join(e.text.split()))
                shot = self.new_shot("panel", e.line_no, text)
                self.apply_notes(e.notes, shot)
            elif e.kind == "character":
                j = i + 1
                while j < len(elements) and elements[j].kind in ("dialogue", "parenthetical", "lyrics"):
                    j += 1
                self.dialogue(e, elements[i + 1:j])
                i = j
                continue
            elif e.kind == "centered":
                self.new_shot("title", e.line_no, fountain.plain(e.text), camera="still")
                self.apply_notes(e.notes, None)
            elif e.kind in ("dialogue", "parenthetical"):
                self.error(e.line_no, "dialogue without a character cue above it")
            elif e.kind == "note":
                self.apply_note(fountain.Note(e.line_no, e.text), None)
            else:   # title page, transition, section, synopsis, page break, lyrics: not in the video
                if e.kind == "page_break" or (e.kind == "section" and PAGE_SECTION.match(e.text)):
                    self.page_break = True
                self.apply_notes(e.notes, None)
            i += 1
        if self.pending:
            for note in self.pending:
                self.error(note.line_no, f"[[{_quote(note.text)}]] has no shot to apply to: write an action paragraph")
        return self.shots, heading, doc.title_page.get("Title")


def parse_scene(text: str, cast_names: Iterable[str]) -> Scene:
    """Parse a Fountain scene against the cast's names. Raises ScriptErrors with every problem found (the first
    MAX_LISTED_ERRORS of them, and how many more)."""
    if len(text or "") > MAX_SCRIPT:
        raise ScriptErrors([ScriptError(1, f"the script is {len(text):,} characters; at most {MAX_SCRIPT:,} are allowed")])
    doc = fountain.parse(text or "")
    b = _Builder(cast_names)
    for p in doc.problems:
        b.error(p.line_no, p.message)
    raw_shots, heading, title = b.build(doc)
    if not raw_shots and not b.errors:
        b.error(1, "the scene has no shots: write an action paragraph (a panel) or a character's line")
    if len(raw_shots) > MAX_SHOTS:
        b.error(raw_shots[MAX_SHOTS]["line_no"],
                f"the scene has {len(raw_shots)} shots; at most {MAX_SHOTS} are allowed (shot {MAX_SHOTS + 1} starts here)")
    return _with_transitions(finish(b, raw_shots, heading, title), raw_shots)


def finish(b: _Builder, raw_shots: list[dict], heading: str | None, title: str | None) -> Scene:
    """The builder's shots frozen into a Scene (shared by the Fountain and comic-script readers), or every error."""
    if b.errors:
        raise ScriptErrors(_listed(b.errors))
    shots = []
    moving = 0
    for index, s in enumerate(raw_shots):
        camera = s["camera"]
        if camera is None:
            camera = CAMERA_CYCLE[moving % len(CAMERA_CYCLE)] if s["kind"] == "panel" else "still"
            if s["kind"] == "panel":
                moving += 1
        shots.append(Shot(index=index, kind=s["kind"], line_no=s["line_no"], description=s["description"],
                          character=s["character"], lines=tuple(s["lines"]), animate=s["animate"],
                          image=s["image"], hold_s=s["hold_s"], camera=camera, caption=s["caption"],
                          sfx=tuple(s.get("sfx", ())), page_break=bool(s.get("page_break")),
                          close_up=bool(s.get("close_up"))))
    shots = casting.with_appearances(shots, b.cast.values())
    return Scene(heading=heading, title=title or None, shots=tuple(shots), music=b.music[1] if b.music else None)


def _listed(errors: list[ScriptError]) -> list[ScriptError]:
    if len(errors) <= MAX_LISTED_ERRORS:
        return errors
    ordered = sorted(errors, key=lambda e: e.line_no)
    rest = ordered[MAX_LISTED_ERRORS:]
    return [*ordered[:MAX_LISTED_ERRORS],
            ScriptError(rest[0].line_no, f"and {len(rest):,} more problems from here on (fix the ones above first)")]


def with_shot(scene: Scene, index: int, **changes) -> Scene:
    """The scene with one shot changed (the storyboard's per-shot edits)."""
    shots = list(scene.shots)
    shots[index] = replace(shots[index], **changes)
    return replace(scene, shots=tuple(shots))


def _with_transitions(scene: Scene, raw_shots: list[dict]) -> Scene:
    """The shots that ask for `[[dissolve]]` cross-fade in; every other shot cuts."""
    if not any(s.get("transition") for s in raw_shots):
        return scene
    return replace(scene, shots=tuple(replace(shot, transition=raw.get("transition", "cut"))
                                      for shot, raw in zip(scene.shots, raw_shots)))
