"""Lettering geometry with numbers: inside the panel, off faces, tails toward the speaker, no crossings, overflow."""
import math

import pytest

from backend.pages.layout import layout
from backend.pages.lettering import (
    LetterError, kind_of, letter, overflow_warnings, segment_hits_box, segments_cross,
)
from backend.pages.model import FORMATS, ArtFaces
from backend.pages.text import break_oval, line_runs
from backend.scenes.model import Appearance, Line, Scene
from tests.pages.scenes import chapter, line, shot

US = FORMATS["us_comic"]


def _inside(inner, outer, tol=0.01):
    return (inner[0] >= outer[0] - tol and inner[1] >= outer[1] - tol
            and inner[0] + inner[2] <= outer[0] + outer[2] + tol and inner[1] + inner[3] <= outer[1] + outer[3] + tol)


def _overlap(a, b):
    return min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0]) and min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1])


def _lettered(fmt=US, n=60):
    scene = chapter(n)
    faces = {i: ArtFaces((768, 768), ((300, 140, 170, 170),)) for i in range(n) if i % 2}
    return scene, letter(layout(scene, fmt), scene, fmt, faces)


@pytest.mark.parametrize("name", ["us_comic", "manga_b6", "webtoon"])
def test_balloons_inside_panel_and_safe_area_off_faces_and_each_other(name):
    fmt = FORMATS[name]
    scene, pages = _lettered(fmt)
    safe = (fmt.safe, fmt.safe, fmt.trim[0] - 2 * fmt.safe, fmt.trim[1] - 2 * fmt.safe)
    count = 0
    for page in pages:
        for b in page.balloons:
            count += 1
            panel = page.panels[b.panel]
            assert not b.overflow, (page.number, b)
            assert _inside(b.box, panel.box) and _inside(b.box, safe)
            # off the border: at least the padding away
            assert b.box[0] - panel.box[0] >= 2 and panel.box[0] + panel.box[2] - (b.box[0] + b.box[2]) >= 2
            for f in panel.faces:
                assert not _overlap(b.box, f), (page.number, b.text, f)
        for i, a in enumerate(page.balloons):
            for c in page.balloons[i + 1:]:
                if a.panel == c.panel:
                    assert not _overlap(a.box, c.box)
    assert count > 60


def test_tails_point_at_the_speakers_mouth_stop_short_and_never_cross():
    scene, pages = _lettered()
    aimed = 0
    for page in pages:
        tails = [(b, b.tail) for b in page.balloons if b.tail]
        for b, (start, tip) in tails:
            if b.target_face is None:
                continue
            aimed += 1
            fx, fy, fw, fh = page.panels[b.panel].faces[b.target_face]
            mouth = (fx + fw / 2, fy + fh * 0.78)
            # the tip is nearer the mouth than the start, on the line toward it, and short of the face
            assert math.dist(tip, mouth) < math.dist(start, mouth)
            ang = math.atan2(tip[1] - start[1], tip[0] - start[0]) - math.atan2(mouth[1] - start[1], mouth[0] - start[0])
            assert abs(math.sin(ang)) < 0.05
            assert not (fx < tip[0] < fx + fw and fy < tip[1] < fy + fh)
        for i, (a, (p1, p2)) in enumerate(tails):
            for c, (q1, q2) in tails[i + 1:]:
                assert not segments_cross(p1, p2, q1, q2), (page.number, a.text, c.text)
            for other in page.balloons:
                if other is not a:
                    shrunk = (other.box[0] + 1, other.box[1] + 1, other.box[2] - 2, other.box[3] - 2)
                    assert not segment_hits_box(p1, p2, shrunk)
    assert aimed > 10


def test_speaker_face_comes_from_their_region():
    # two faces; Ben stands on the left, Mara on the right, Mara speaks first
    s = shot(0, lines=[line("Mara", "Left or right?"), line("Ben", "Left.")],
             appearances=(Appearance("Ben", "left"), Appearance("Mara", "right")))
    scene = Scene(None, None, (s,))
    faces = {0: ArtFaces((768, 768), ((80, 200, 150, 150), (540, 200, 150, 150)))}
    (page,) = letter(layout(scene, US), scene, US, faces)
    mara, ben = page.balloons
    panel = page.panels[0]
    assert panel.faces[mara.target_face][0] > panel.faces[ben.target_face][0]
    # reading order: Mara's balloon (first) sits higher, or level and to the left
    assert mara.box[1] < ben.box[1] + 1 or mara.box[0] < ben.box[0]


def test_off_screen_tail_runs_to_the_panel_edge_on_the_speakers_side():
    s = shot(0, lines=[Line("Ben", "Over here!", "O.S.", 1)], appearances=(Appearance("Ben", "right"),))
    scene = Scene(None, None, (s,))
    (page,) = letter(layout(scene, US), scene, US)
    (b,) = page.balloons
    panel = page.panels[0]
    assert b.tail is not None and b.tail[-1][0] == pytest.approx(panel.box[0] + panel.box[2], abs=1)


def test_kinds_from_parentheticals_extensions_and_text():
    def k(text, paren=None, ext=None):
        return kind_of(Line("Mara", text, paren, 1, ext))[0]
    assert k("Hello.") == "speech"
    assert k("Hmm.", "thinks") == "thought"
    assert k("It was late.", None, "V.O.") == "caption"
    assert k("Quiet.", "whispering") == "whisper"
    assert k("Run.", "shouting") == "shout"
    assert k("GET DOWN!") == "shout"
    assert k("Get down!") == "speech"
    assert k("Come in.", "on the radio") == "radio"
    assert k("Hello?", "on the phone") == "radio"
    assert kind_of(Line("Ben", "Over here.", None, 1, "O.S."))[1] is True


def test_captions_sit_at_the_top_and_sfx_are_large():
    s = shot(0, lines=[line("Mara", "Hello.")], caption="Port Ellery, midnight.", sfx=("KRAK",))
    scene = Scene(None, None, (s,))
    (page,) = letter(layout(scene, US), scene, US)
    cap, speech, sfx = page.balloons
    assert (cap.kind, speech.kind, sfx.kind) == ("caption", "speech", "sfx")
    assert cap.box[1] < speech.box[1] + 0.01 and cap.tail is None and sfx.tail is None
    assert sfx.font_pt >= 2 * speech.font_pt


def test_overflow_is_flagged_not_shrunk_below_seven_points():
    long = " ".join(["word"] * 1500)
    shots = [shot(i, lines=[line("Mara", long if i == 0 else "Hi.")]) for i in range(6)]
    scene = Scene(None, None, tuple(shots))
    pages = letter(layout(scene, US), scene, US)
    big = pages[0].balloons[0]
    assert big.overflow and big.font_pt >= 7.0
    assert not any(b.overflow for b in pages[0].balloons[1:])
    (warning,) = overflow_warnings(pages)
    assert warning.startswith("page 1, panel 1: Mara's line")


def test_placements_and_overrides():
    s = shot(0, lines=[line("Mara", "Where now?")])
    scene = Scene(None, None, (s,))
    pages = layout(scene, US)
    (auto,) = letter(pages, scene, US)
    assert auto.balloons[0].choices >= 2
    (second,) = letter(pages, scene, US, overrides={"balloons": [{"shot": 0, "placement": 1, "kind": "whisper",
                                                                   "text": "Where *now*?"}]})
    b = second.balloons[0]
    assert b.box != auto.balloons[0].box and b.placement == 1 and b.kind == "whisper" and b.text == "Where *now*?"
    with pytest.raises(LetterError, match=r"balloons\[0\].kind: 'burst' is not a balloon kind; the kinds are: speech"):
        letter(pages, scene, US, overrides={"balloons": [{"shot": 0, "kind": "burst"}]})
    with pytest.raises(LetterError, match=r"balloons\[0\].index: shot 0 has 1 line \(0–0\)"):
        letter(pages, scene, US, overrides={"balloons": [{"shot": 0, "index": 3}]})


def test_text_breaks_into_an_oval_and_keeps_emphasis():
    block = break_oval("We have six minutes before the tide turns and the boat *will not* wait for us.",
                       "regular", 9, 200)
    assert len(block.lines) >= 3
    from backend.pages.fonts import font
    widths = [font("regular", 9).getlength(t) for t in block.lines]
    middle = max(widths[1:-1])
    assert widths[0] < middle and widths[-1] < middle
    runs = line_runs(["the *boat", "will* not"])
    assert runs == [[("the ", False), ("boat", True)], [("will", True), (" not", False)]]


def test_manga_reads_balloons_right_to_left():
    s = shot(0, lines=[line("Mara", "First."), line("Ben", "Second.")])
    scene = Scene(None, None, (s,))
    manga = FORMATS["manga_b6"]
    (page,) = letter(layout(scene, manga), scene, manga)
    first, second = page.balloons
    # the first is higher, or level and further right
    assert first.box[1] + first.box[3] / 2 < second.box[1] or first.box[0] > second.box[0] + second.box[2] / 2
    (west,) = letter(layout(scene, US), scene, US)
    a, b = west.balloons
    assert a.box[1] + a.box[3] / 2 < b.box[1] or a.box[0] + a.box[2] / 2 < b.box[0]


def test_a_title_card_is_lettered_large_across_its_splash():
    scene = Scene(None, None, (shot(0, "title", "Chapter One: The Mail Boat"), shot(1, lines=[line("Mara", "Hi.")])))
    first, second = letter(layout(scene, US), scene, US)
    (title,) = first.balloons
    assert title.kind == "caption" and title.text == "Chapter One: The Mail Boat" and title.tail is None
    assert title.font_pt > 2 * second.balloons[0].font_pt
    centre = title.box[0] + title.box[2] / 2
    assert abs(centre - US.trim[0] / 2) < US.trim[0] * 0.1
