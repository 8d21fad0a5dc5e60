"""Issue 19, finding 6: the Fountain parser is linear. Each hostile shape (tests/security/parser_shapes.py, at
most the script limit) is parsed as the page does, in a process of its own with a generous budget — the old
parser took 119 s on the first shape and minutes on several others; on an idle machine each takes well under a
second now (bench/parser.py prints the figures) — and what it reports must make sense to the writer."""
from __future__ import annotations

import pytest

from backend.scenes.model import MAX_SCRIPT, MAX_SHOTS, ScriptErrors
from backend.scenes.script import MAX_LISTED_ERRORS, parse_scene
from tests.security.parser_shapes import SHAPES, measure_in_subprocess

# parse_scene (what the page runs) in the child: the worst shape takes ~0.5 s of CPU, the old parser minutes.
BUDGET_CPU_S = 5.0      # CPU seconds: steady however busy the 2 cores are
WALL_LIMIT_S = 60.0     # a parse still running after this (wall clock) is stopped and fails the test
NOTE_OPEN = "a note opened with [[ is not closed with ]] (on the same paragraph)"
BONEYARD_OPEN = "a boneyard opened with /* is not closed with */"
NO_SHOTS = "the scene has no shots: write an action paragraph (a panel) or a character's line"


def _run(name: str) -> dict:
    got = measure_in_subprocess(name, WALL_LIMIT_S)
    assert got is not None, f"{name}: the parse did not finish within {WALL_LIMIT_S:g} s"
    assert got["scene_cpu_s"] < BUDGET_CPU_S, f"{name}: {got['scene_cpu_s']:.1f} CPU seconds"
    assert got["chars"] <= MAX_SCRIPT
    return got


def _listed(got: dict, total: int, message: str) -> None:
    """A flood of problems is listed as its first MAX_LISTED_ERRORS and a count of the rest."""
    errors = got["errors"]
    assert len(errors) == MAX_LISTED_ERRORS + 1
    assert [m for _, m in errors[:-1]] == [message] * MAX_LISTED_ERRORS
    assert errors[-1][1] == f"and {total - MAX_LISTED_ERRORS:,} more problems from here on (fix the ones above first)"


def test_nested_note_openers_each_reported_on_their_line():
    got = _run("nested_notes")
    assert got["problem_count"] == MAX_SCRIPT // 2 and got["problems"][0] == [1, NOTE_OPEN]
    assert got["kinds"] == ["action"]          # the text stays, as action
    _listed(got, MAX_SCRIPT // 2, NOTE_OPEN)


def test_an_unclosed_note_on_every_line_is_reported_with_each_line_number():
    got = _run("unclosed_note_per_line")
    assert got["problem_count"] == MAX_SCRIPT // 3
    assert got["problems"] == [[1, NOTE_OPEN], [2, NOTE_OPEN], [3, NOTE_OPEN]]
    assert [line for line, _ in got["errors"][:5]] == [1, 2, 3, 4, 5]
    _listed(got, MAX_SCRIPT // 3, NOTE_OPEN)


@pytest.mark.parametrize("name", ["unclosed_boneyard_per_line", "boneyard_then_notes"])
def test_an_unclosed_boneyard_hides_the_rest_and_is_reported_once(name):
    got = _run(name)
    assert got["problems"] == [[1, BONEYARD_OPEN]] and got["problem_count"] == 1
    assert got["elements"] == 0
    assert got["errors"] == [[1, BONEYARD_OPEN]]


def test_empty_notes_are_notes_with_nothing_to_apply_to():
    got = _run("empty_notes")
    assert got["problem_count"] == 0 and got["kinds"] == ["note"] and got["elements"] == MAX_SCRIPT // 4
    _listed(got, MAX_SCRIPT // 4, "[[]] has no shot to apply to: write an action paragraph")


def test_closers_before_openers_pair_up_into_notes():
    got = _run("closers_and_openers")
    # "]][[]][[ … ]][[": every [[ but the last meets the next ]]; the text outside the notes is a stray "]]"
    assert got["problems"] == [[1, NOTE_OPEN]] and got["problem_count"] == 1
    assert got["kinds"] == ["action"]


def test_a_note_never_spans_a_blank_line():
    got = _run("notes_across_blank_lines")
    assert got["problem_count"] == MAX_SCRIPT // 5 - 1
    assert got["problems"] == [[1, NOTE_OPEN], [3, NOTE_OPEN], [5, NOTE_OPEN]]


@pytest.mark.parametrize("name", ["stars", "star_words", "underscores", "underscore_words",
                                  "stars_and_underscores", "escaped_stars", "one_long_line"])
def test_emphasis_runs_and_long_lines_are_one_panel(name):
    got = _run(name)
    assert got["kinds"] == ["action"] and got["problem_count"] == 0
    assert got["errors"] == [] and got["shots"] == 1


def test_blank_lines_only_is_a_scene_with_no_shots():
    got = _run("blank_lines")
    assert got["elements"] == 0 and got["errors"] == [[1, NO_SHOTS]]


def test_a_paragraph_of_sections_is_one_section_per_line():
    got = _run("section_lines")
    assert got["kinds"] == ["section"] and got["elements"] == MAX_SCRIPT // 2
    assert got["errors"] == [[1, NO_SHOTS]]


def test_a_cue_padded_with_spaces_is_named_shortly_in_its_error():
    got = _run("cue_with_spaces")
    assert got["kinds"] == ["character", "dialogue"]
    [(line, message)] = got["errors"]
    assert line == 1 and message.startswith("ANNA… is not in the cast") and len(message) < 200


def test_a_heading_ending_in_what_is_almost_a_scene_number_stays_a_heading():
    got = _run("scene_number_with_spaces")
    assert got["kinds"] == ["scene_heading"] and got["errors"] == [[1, NO_SHOTS]]


def test_twenty_thousand_lines_are_refused_at_the_shot_limit():
    got = _run("dialogue_blocks")
    assert got["kinds"] == ["character", "dialogue"] and got["elements"] == MAX_SCRIPT // 10 * 2
    assert got["errors"] == [[3 * MAX_SHOTS + 1, f"the scene has {MAX_SCRIPT // 10} shots; at most {MAX_SHOTS} are "
                                                 f"allowed (shot {MAX_SHOTS + 1} starts here)"]]


def test_every_shape_is_tested():
    tested = {"nested_notes", "unclosed_note_per_line", "unclosed_boneyard_per_line", "boneyard_then_notes",
              "empty_notes", "closers_and_openers", "notes_across_blank_lines", "stars", "star_words",
              "underscores", "underscore_words", "stars_and_underscores", "escaped_stars", "one_long_line",
              "blank_lines", "section_lines", "cue_with_spaces", "scene_number_with_spaces", "dialogue_blocks"}
    assert tested == set(SHAPES)


def test_a_script_over_the_limit_is_refused_before_parsing():
    with pytest.raises(ScriptErrors) as err:
        parse_scene("A room.\n" + "x" * MAX_SCRIPT, ["Anna"])
    [e] = err.value.errors
    assert (e.line_no, e.message) == (1, f"the script is {MAX_SCRIPT + 8:,} characters; at most {MAX_SCRIPT:,} "
                                         "are allowed")


def test_a_long_unknown_note_is_quoted_shortly():
    with pytest.raises(ScriptErrors) as err:
        parse_scene("A room. [[" + "zoom " * 5000 + "]]\n", ["Anna"])
    [e] = err.value.errors
    assert e.message.startswith("[[zoom zoom") and "…]] is not a note we know" in e.message
    assert len(e.message) < 400
