"""A Scene written back as a script: Fountain, or the comic-script dialect.

Each reads back (backend/scenes/script.py, backend/scenes/comicscript.py) into the same shots: panels and their
descriptions, lines with their parentheticals and extensions, captions, sound effects, page breaks, title cards,
talking heads and the notes that direct the video (image, hold, camera when not the default, animate, music).
"""
from __future__ import annotations

from backend.scenes.comicscript import number_word
from backend.scenes.model import Line, Scene, Shot
from backend.scenes.script import CAMERA_CYCLE

CAMERA_NOTE = {"push_in": "push in", "pull_out": "pull out", "pan_left": "pan left", "pan_right": "pan right",
               "still": "still"}


def _direction_notes(shot: Shot, default_camera: str) -> list[str]:
    notes = []
    if shot.image:
        notes.append(f"image: {shot.image}")
    if shot.animate:
        notes.append("animate" if shot.animate == "animatelcm" else f"animate: {shot.animate}")
    if shot.hold_s is not None:
        notes.append(f"hold {shot.hold_s:g}s")
    if shot.camera != default_camera:
        notes.append(CAMERA_NOTE[shot.camera])
    return notes


def _defaults(scene: Scene) -> list[str]:
    """The camera each shot gets when the script names none (the reader's cycle), to write only the others."""
    out, moving = [], 0
    for shot in scene.shots:
        if shot.kind == "panel":
            out.append(CAMERA_CYCLE[moving % len(CAMERA_CYCLE)])
            moving += 1
        else:
            out.append("still")
    return out


def _words(line: Line) -> str:
    return line.marked or line.text


def to_fountain(scene: Scene) -> str:
    out: list[str] = []
    if scene.title:
        out += [f"Title: {scene.title}", ""]
    if scene.heading:
        out += [scene.heading, ""]
    if scene.music:
        out += [f"[[music: {scene.music}]]", ""]
    defaults = _defaults(scene)
    for n, shot in enumerate(scene.shots):
        if shot.page_break:
            out += ["===", ""]
        if shot.kind == "title":
            out += [f"[[title: {shot.description}]]", ""]
            continue
        notes = _direction_notes(shot, defaults[n])
        if shot.kind == "panel":
            desc = shot.description
            # a description in capitals would read as a character cue: force it to be action
            out.append(("!" if desc == desc.upper() else "") + desc)
            out += [f"[[caption: {shot.caption}]]"] if shot.caption else []
            out += [f"[[sfx: {s}]]" for s in shot.sfx]
            out += [f"[[{x}]]" for x in notes]
            out.append("")
        for k, line in enumerate(shot.lines):
            cue = line.character.upper() + (f" ({line.extension})" if line.extension else "")
            out.append(cue)
            if shot.kind == "talking_head" and k == 0:
                out.append("[[talking head]]")
                out += [f"[[{x}]]" for x in notes]
            if line.parenthetical:
                out.append(f"({line.parenthetical})")
            out += [_words(line), ""]
    return "\n".join(out).rstrip() + "\n"


def to_comic_script(scene: Scene) -> str:
    out: list[str] = []
    if scene.title:
        out += [f"Title: {scene.title}", ""]
    if scene.music:
        out += [f"[[music: {scene.music}]]", ""]
    defaults = _defaults(scene)
    page, panel = 1, 0
    out += ["PAGE ONE", ""]
    for n, shot in enumerate(scene.shots):
        if shot.page_break and n > 0:
            page += 1
            panel = 0
            out += [f"PAGE {number_word(page)}", ""]
        if shot.kind == "title":
            out += [f"[[title: {shot.description}]]", ""]
            continue
        panel += 1
        out += [f"Panel {panel}", shot.description]
        if shot.kind == "talking_head":
            out.append("[[talking head]]")
        out += [f"[[{x}]]" for x in _direction_notes(shot, defaults[n])]
        if shot.caption:
            out.append(f"CAPTION: {shot.caption}")
        for line in shot.lines:
            quals = " ".join(f"({q})" for q in (line.extension or line.parenthetical,) if q)
            out.append(f"{line.character.upper()}{' ' + quals if quals else ''}: {_words(line)}")
        out += [f"SFX: {s}" for s in shot.sfx]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
