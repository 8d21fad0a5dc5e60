"""Fountain → Scene: the mapping, our notes, and the errors a writer sees."""
import pytest

from backend.scenes.model import MAX_SHOTS, ScriptErrors
from backend.scenes.script import parse_scene

CAST = ["Anna", "Marcus"]

SCENE = """Title: Late
Author: Someone

INT. KITCHEN - NIGHT

[[music: calm piano, rain]]

Anna stirs a pot. Rain on the window.

ANNA
(quietly)
It's *late*.

MARCUS (V.O.)
[[talking head]]
No it isn't.

anna
It is.

[[title: Later]]

Steam rises from the pot. [[animate: svd]] [[hold 4s]] [[pan left]]
[[caption: Ten minutes later]]

>THE END<
"""


def test_the_mapping_of_a_scene():
    scene = parse_scene(SCENE, CAST)
    assert (scene.title, scene.heading, scene.music) == ("Late", "INT. KITCHEN - NIGHT", "calm piano, rain")
    kinds = [(s.index, s.kind, s.line_no) for s in scene.shots]
    assert kinds == [(0, "panel", 8), (1, "talking_head", 14), (2, "panel", 18), (3, "title", 21),
                     (4, "panel", 23), (5, "title", 26)]
    first, head, back, title, steam, end = scene.shots
    assert first.description == "Anna stirs a pot. Rain on the window."
    assert [(ln.character, ln.text, ln.parenthetical, ln.line_no) for ln in first.lines] == [
        ("Anna", "It's late.", "quietly", 10)]
    assert (head.character, head.lines[0].text, head.lines[0].character) == ("Marcus", "No it isn't.", "Marcus")
    # after the talking head the next line cuts back to the panel it interrupted
    assert (back.description, back.lines[0].text) == (first.description, "It is.")
    assert title.description == "Later" and end.description == "THE END"
    assert (steam.animate, steam.hold_s, steam.camera, steam.caption) == ("svd", 4.0, "pan_left", "Ten minutes later")
    assert scene.characters == ("Anna", "Marcus")


@pytest.mark.parametrize("note,field,value", [
    ("[[animate]]", "animate", "animatelcm"), ("[[Animate: AnimateLCM]]", "animate", "animatelcm"),
    ("[[image: lib-42]]", "image", "lib-42"), ("[[hold 3s]]", "hold_s", 3.0), ("[[hold: 2.5 seconds]]", "hold_s", 2.5),
    ("[[push in]]", "camera", "push_in"), ("[[pull out]]", "camera", "pull_out"), ("[[pan right]]", "camera", "pan_right"),
    ("[[still]]", "camera", "still"), ("[[caption: Meanwhile]]", "caption", "Meanwhile"),
])
def test_each_shot_note(note, field, value):
    shot = parse_scene(f"A dark alley. {note}\n", CAST).shots[0]
    assert getattr(shot, field) == value


def test_notes_on_their_own_line_apply_to_the_shot_above_or_the_first():
    scene = parse_scene("[[still]]\n\nA street.\n\nA car.\n\n[[animate]]\n", CAST)
    assert scene.shots[0].camera == "still" and scene.shots[1].animate == "animatelcm"
    assert scene.shots[0].animate is None
    assert parse_scene("A street. [[note: make it wet]]\n", CAST).shots[0].description == "A street."


def test_dialogue_before_any_panel_is_a_talking_head_and_dual_dialogue_is_spoken_in_turn():
    scene = parse_scene("ANNA\nHi.\n\nMARCUS ^\nHi.\n", CAST)
    assert [s.kind for s in scene.shots] == ["talking_head", "talking_head"]
    scene = parse_scene("A bar.\n\nANNA\nHi.\n\nMARCUS ^\nHello.\n", CAST)
    assert [(ln.character, ln.text) for ln in scene.shots[0].lines] == [("Anna", "Hi."), ("Marcus", "Hello.")]


def test_cast_names_match_whatever_the_case_and_keep_the_casts_spelling():
    scene = parse_scene("A bar.\n\n@Anna Lee\nHi.\n\nANNA LEE (CONT'D)\nAgain.\n", ["anna  lee"])
    assert [ln.character for ln in scene.shots[0].lines] == ["anna  lee", "anna  lee"]


def test_stills_without_a_camera_note_get_varied_moves():
    scene = parse_scene("One.\n\nTwo.\n\nThree.\n", CAST)
    assert [s.camera for s in scene.shots] == ["push_in", "pan_right", "push_in"]


def errors(text, cast=CAST):
    with pytest.raises(ScriptErrors) as e:
        parse_scene(text, cast)
    return str(e.value).splitlines()


def test_every_error_at_once_with_line_numbers_and_what_is_allowed():
    lines = errors("INT. X - DAY\n\nA room. [[zoom in]]\n\nJOHN\nHi.\n\nANNA\n(beat)\n\n[[animate: sora]]\n")
    assert lines[0].startswith("line 3: [[zoom in]] is not a note we know; the notes are: talking head, close up, animate,")
    assert "pan left" in lines[0] and "music: TAGS" in lines[0]
    assert lines[1] == "line 5: JOHN is not in the cast; the cast is: Anna, Marcus"
    assert lines[2].startswith("line 8: ANNA's cue has no dialogue under it")
    assert lines[3] == "line 11: [[animate: sora]]: the engine is one of animatelcm, svd"


def test_errors_for_misplaced_or_malformed_notes():
    assert errors("A room. [[talking head]]\n") == [
        "line 1: [[talking head]] goes in a dialogue block, under the character's cue"]
    assert errors("A room. [[hold 90s]]\n") == ["line 1: [[hold 90s]]: a hold is 0.5–60 seconds"]
    assert errors("[[music: a]]\n\nA room.\n\n[[music: b]]\n") == [
        "line 5: the scene's music is already set on line 1"]
    assert errors("A room. [[push in\n\nMore.\n")[0].startswith("line 1: a note opened with [[ is not closed")
    assert errors("ANNA\nHi.\n", cast=[]) == [
        "line 1: ANNA is not in the cast; the cast is empty: add characters to the cast first"]
    assert errors("# Act one\n\n= nothing happens\n") == [
        "line 1: the scene has no shots: write an action paragraph (a panel) or a character's line"]


def test_more_than_200_shots_is_refused_at_the_shot_past_the_limit():
    text = "".join(f"Panel {i}.\n\n" for i in range(MAX_SHOTS + 1))
    (msg,) = errors(text)
    assert msg.startswith(f"line {2 * MAX_SHOTS + 1}: the scene has {MAX_SHOTS + 1} shots; at most {MAX_SHOTS}")
    assert len(parse_scene("".join(f"Panel {i}.\n\n" for i in range(MAX_SHOTS)), CAST).shots) == MAX_SHOTS
