"""Subtitle cues as a viewer reads them: the speaker named, at most two lines of 42 characters, broken at a
phrase, a long line spread over several cues within its spoken time."""
from __future__ import annotations

from backend.scenes.model import TimedLine, Timeline
from backend.scenes.render.subtitles import break_lines, cues, srt_text, vtt_text

LONG = ("I told you three nights ago that the light went out at the same hour, and nobody believed me, "
        "not even the harbour master, so tonight we watch it together until the morning comes.")


def timeline(*lines: TimedLine) -> Timeline:
    return Timeline((), lines)


def test_cues_name_the_speaker_and_keep_to_two_lines_of_42_characters():
    tl = timeline(TimedLine(0, 0, 1.0, 13.0, LONG, "Anna"), TimedLine(1, 0, 14.0, 15.0, "Hi.", "Marcus"))
    cs = cues(tl)
    assert len(cs) >= 3
    for c in cs:
        assert 1 <= len(c.lines) <= 2 and all(len(x) <= 42 for x in c.lines), c.lines
        assert c.lines[0].startswith(f"{c.character.upper()}: ")
    anna = [c for c in cs if c.character == "Anna"]
    assert anna[0].start_s == 1.0 and abs(anna[-1].end_s - 13.0) < 0.01
    assert all(a.end_s <= b.start_s + 1e-6 for a, b in zip(cs, cs[1:]))
    words = " ".join(" ".join(c.lines).removeprefix("ANNA: ") for c in anna).split()
    assert words == LONG.split()        # nothing lost, nothing repeated
    srt, vtt = srt_text(tl), vtt_text(tl)
    assert "MARCUS: Hi." in srt and "<v Marcus>Hi." in vtt and "<v Anna>" in vtt


def test_two_lines_break_at_a_phrase_not_in_its_middle():
    assert break_lines("ANNA: Every night at the same hour, then it comes back.") == [
        "ANNA: Every night at the same hour,", "then it comes back."]
    assert break_lines("Short.") == ["Short."]
    assert break_lines("x" * 50 + " " + "y" * 50) is None
