"""Shot and line timing."""
import pytest

from backend.scenes.model import ScriptErrors
from backend.scenes.script import parse_scene
from backend.scenes.timeline import (
    GAP_S, LEAD_IN_S, SILENT_PANEL_S, TAIL_S, TITLE_S, build_timeline, estimate, estimate_speech_s,
)

SCENE = parse_scene("A bar.\n\nANNA\nHi.\n\nMARCUS\nHello there.\n\n[[title: Later]]\n\nA street. [[hold 5s]]\n\n"
                    "A car.\n\nANNA\n[[talking head]]\nGo.\n", ["Anna", "Marcus"])


def test_shots_follow_their_speech_with_gaps_and_lines_start_in_order():
    tl = build_timeline(SCENE.shots, speech_s=[[1.0, 2.0], [], [], [], [0.7]])
    bar = LEAD_IN_S + 1.0 + GAP_S + 2.0 + TAIL_S
    durations = [s.duration_s for s in tl.shots]
    assert durations == pytest.approx([bar, TITLE_S, 5.0, SILENT_PANEL_S, LEAD_IN_S + 0.7 + TAIL_S])
    starts = [s.start_s for s in tl.shots]
    assert starts == pytest.approx([0, bar, bar + TITLE_S, bar + TITLE_S + 5, bar + TITLE_S + 5 + SILENT_PANEL_S])
    assert [(ln.start_s, ln.end_s, ln.character) for ln in tl.lines] == pytest.approx([
        (LEAD_IN_S, LEAD_IN_S + 1.0, "Anna"), (LEAD_IN_S + 1.0 + GAP_S, LEAD_IN_S + 3.0 + GAP_S, "Marcus"),
        (starts[4] + LEAD_IN_S, starts[4] + LEAD_IN_S + 0.7, "Anna")])
    assert tl.duration_s == pytest.approx(sum(durations))


def test_a_hold_or_override_sets_the_length_but_never_cuts_speech():
    tl = build_timeline(SCENE.shots, speech_s=[[1.0, 1.0]], overrides=[10.0, 1.0, None, 2.0, None])
    assert [s.duration_s for s in tl.shots][:4] == pytest.approx([10.0, 1.0, 5.0, 2.0])
    tl = build_timeline(SCENE.shots, speech_s=[[4.0, 4.0]], overrides=[2.0, 0.0])
    assert tl.shots[1].duration_s == 0.5
    assert tl.shots[0].duration_s == pytest.approx(LEAD_IN_S + 8.0 + GAP_S + TAIL_S)


def test_estimates_before_the_speech_exists():
    tl = estimate(SCENE)
    assert tl.lines[1].end_s - tl.lines[1].start_s == pytest.approx(estimate_speech_s("Hello there."))
    assert estimate_speech_s("one two three four five six seven eight nine ten") > estimate_speech_s("Hi.")


def test_a_scene_past_15_minutes_is_refused_naming_the_shot():
    scene = parse_scene("".join(f"Panel {i}. [[hold 60s]]\n\n" for i in range(16)), [])
    with pytest.raises(ScriptErrors) as e:
        build_timeline(scene.shots)
    assert str(e.value) == ("line 31: shot 16 (panel, line 31) ends at 16:00.0, past the scene limit of 15:00.0; "
                            "shorten the scene or split it in two")
    assert build_timeline(scene.shots[:15]).duration_s == pytest.approx(900.0)
