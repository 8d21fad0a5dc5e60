"""The comic-script dialect: parsed into the Scene model, its errors, detection, and the round trips."""
import subprocess
import sys

import pytest

from backend.pages.lettering import kind_of
from backend.scenes.comicscript import detect_dialect, number_word, parse_any, parse_comic_script
from backend.scenes.model import ScriptErrors
from backend.scenes.script import parse_scene
from backend.scenes.scriptout import to_comic_script, to_fountain

CAST = ["Mara", "Ben"]

SCRIPT = """Title: The Mail Boat

PAGE ONE

Panel 1
The harbour at night. Fog. A lantern swings on the pier.
CAPTION: Port Ellery.
CAPTION: The last night of the mail boat.
MARA: The lights are out.
SFX: KREEEK

Panel 2
Close on Ben's face, lit from below.
[[push in]]
BEN (whispering): Keep your lantern low,
and your *voice* lower.

PAGE TWO

Panel 1
Wide: the boat slips its moorings.
1. MARA (V.O.): We left before the tide turned.
Sfx: SPLASH
BEN (shouting): NOW!

Panel 2
Mara alone at the tiller.
[[talking head]]
MARA: I never looked back.
"""


def test_the_dialect_becomes_the_scene_model():
    scene = parse_comic_script(SCRIPT, CAST)
    assert scene.title == "The Mail Boat"
    a, b, c, d = scene.shots
    assert a.kind == "panel" and a.description == "The harbour at night. Fog. A lantern swings on the pier."
    assert a.caption == "Port Ellery. The last night of the mail boat."
    assert a.sfx == ("KREEEK",) and a.lines[0].character == "Mara" and a.lines[0].text == "The lights are out."
    assert a.line_no == 5 and a.lines[0].line_no == 9
    assert b.camera == "push_in" and b.lines[0].parenthetical == "whispering"
    assert b.lines[0].text == "Keep your lantern low, and your voice lower."
    assert b.lines[0].marked == "Keep your lantern low, and your *voice* lower."
    assert [s.page_break for s in scene.shots] == [False, False, True, False]
    assert c.lines[0].extension == "V.O." and c.sfx == ("SPLASH",)
    assert [kind_of(x)[0] for x in c.lines] == ["caption", "shout"]
    assert kind_of(b.lines[0])[0] == "whisper"
    assert d.kind == "talking_head" and d.character == "Mara"


def test_errors_are_line_numbered_like_fountains():
    bad = """PAGE ONE

Panel 1
The pier.
ANNA: Who are you?

Panel 2
MARA: Nothing to see.

Panel 3
The sea.
[[zoom wildly]]
"""
    with pytest.raises(ScriptErrors) as e:
        parse_comic_script(bad, CAST)
    messages = [str(x) for x in e.value.errors]
    assert messages[0] == "line 5: ANNA is not in the cast; the cast is: Ben, Mara"
    assert messages[1].startswith("line 7: panel 2 of page 1 has no description")
    assert messages[2].startswith("line 12: [[zoom wildly]] is not a note we know")
    with pytest.raises(ScriptErrors, match="line 1: MARA: comes before the first panel"):
        parse_comic_script("MARA: Hello.\n", CAST)


def test_dialect_detection():
    assert detect_dialect(SCRIPT) == "comic"
    assert detect_dialect("INT. BOAT - NIGHT\n\nMara steers.\n\nMARA\nHold on.\n") == "fountain"
    assert detect_dialect("Panel 1\nA pier.\n\nPanel 2\nThe sea.\n") == "comic"
    assert parse_any(SCRIPT, CAST).shots[0].sfx == ("KREEEK",)
    assert number_word(1) == "ONE" and number_word(21) == "TWENTY-ONE"


def _essence(scene, heads_described=True):
    # Fountain has no place for a talking head's description ("MARA speaks" is made up): compared apart
    return [(s.kind, s.description if heads_described or s.kind != "talking_head" else None, s.character, s.caption, s.sfx, s.page_break, s.camera, s.hold_s, s.image,
             [(ln.character, ln.text, ln.parenthetical, ln.extension, ln.marked) for ln in s.lines])
            for s in scene.shots]


def test_round_trip_through_both_forms():
    scene = parse_comic_script(SCRIPT, CAST)
    again = parse_comic_script(to_comic_script(scene), CAST)
    assert _essence(again) == _essence(scene) and again.title == scene.title
    via_fountain = parse_scene(to_fountain(scene), CAST)
    assert _essence(via_fountain, False) == _essence(scene, False)
    assert via_fountain.shots[3].description == "Mara speaks"


def test_fountain_page_breaks_and_sfx_notes():
    text = """INT. BOAT - NIGHT

Mara steers through the fog.
[[sfx: KRAK]]

MARA (V.O.)
We were *late*.

===

The pier, empty.

# PAGE THREE

Ben waves.
"""
    scene = parse_scene(text, CAST)
    assert [s.page_break for s in scene.shots] == [False, True, True]
    assert scene.shots[0].sfx == ("KRAK",)
    line = scene.shots[0].lines[0]
    assert line.extension == "V.O." and line.marked == "We were *late*." and line.text == "We were late."
    assert kind_of(line)[0] == "caption"


def test_hostile_scripts_are_refused_quickly():
    code = ("import time\nfrom backend.scenes.comicscript import parse_comic_script, detect_dialect\n"
            "from backend.scenes.model import ScriptErrors\n"
            "for text in ('A' * 150_000, ('MARA ' * 30_000) + '\\n', 'Panel 1\\n' * 20_000, 'x' * 300_000):\n"
            "    detect_dialect(text)\n"
            "    try:\n        parse_comic_script(text, ['Mara'])\n    except ScriptErrors as e:\n"
            "        assert str(e).startswith('line ')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
