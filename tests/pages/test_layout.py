"""Layout: shots → pages of panels, checked with numbers (reading order, gutters, bleed, art sizes, overrides)."""
import math
import subprocess
import sys

import pytest

from backend.pages.layout import (
    TEMPLATES, LayoutError, LayoutOverrides, art_size, crop_to, faces_on_page, layout, page_format,
)
from backend.pages.model import FORMATS, Panel
from backend.scenes.model import Scene
from tests.pages.scenes import chapter, line, shot

US = FORMATS["us_comic"]


def _gap(a, b) -> float:
    """The distance between two boxes (0 if they touch or overlap)."""
    dx = max(b[0] - (a[0] + a[2]), a[0] - (b[0] + b[2]), 0)
    dy = max(b[1] - (a[1] + a[3]), a[1] - (b[1] + b[3]), 0)
    return max(dx, dy)


def test_every_shot_is_in_exactly_one_panel_in_order():
    scene = chapter(100)
    pages = layout(scene, US)
    indexes = [p.shot_index for page in pages for p in page.panels]
    assert indexes == list(range(100))
    assert 20 <= len(pages) <= 35
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert all(1 <= len(p.panels) <= 6 for p in pages)


def test_title_is_a_bleeding_splash_and_talking_heads_are_tall():
    pages = layout(chapter(40), US)
    first = pages[0]
    assert first.template == "splash" and len(first.panels) == 1
    assert first.panels[0].bleed == ("top", "right", "bottom", "left")
    b = US.bleed
    assert first.panels[0].box == pytest.approx((-b, -b, US.trim[0] + 2 * b, US.trim[1] + 2 * b), abs=0.01)
    heads = [p for page in pages for p in page.panels if p.shot_index % 9 == 0 and p.shot_index]
    assert heads and all(p.box[2] < p.box[3] for p in heads)


def test_landscapes_get_wide_panels():
    scene = Scene(None, None, tuple(shot(i, description="Establishing: the harbour at dawn, fog.") for i in range(3)))
    (page,) = layout(scene, US)
    assert all(p.box[2] / p.box[3] > 1.4 for p in page.panels)


def test_gutters_margins_and_no_overlap():
    for name in ("us_comic", "a4", "us_trade"):
        fmt = FORMATS[name]
        for page in layout(chapter(60), fmt)[1:]:
            boxes = [p.box for p in page.panels]
            for p in boxes:   # not bleeding: inside the margins
                assert p[0] >= fmt.margin - 0.01 and p[1] >= fmt.margin - 0.01
                assert p[0] + p[2] <= fmt.trim[0] - fmt.margin + 0.01
                assert p[1] + p[3] <= fmt.trim[1] - fmt.margin + 0.01
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    assert _gap(a, b) >= fmt.gutter - 0.01, (page.number, a, b)


def test_reading_order_is_z_and_manga_mirrors_it():
    scene = Scene(None, None, tuple(shot(i) for i in range(4)))
    (west,) = layout(scene, US, {"pages": [{"page": 1, "template": "grid-4"}]})
    (manga,) = layout(scene, "manga_b6", {"pages": [{"page": 1, "template": "grid-4"}]})
    w = [p.box for p in west.panels]
    assert w[0][0] < w[1][0] and w[0][1] == w[1][1] and w[2][1] > w[0][1] and w[2][0] < w[3][0]
    m = [p.box for p in manga.panels]
    assert m[0][0] > m[1][0] and m[0][1] == m[1][1] and m[2][0] > m[3][0]
    width = FORMATS["manga_b6"].trim[0]
    assert m[0][0] + m[0][2] == pytest.approx(width - FORMATS["manga_b6"].margin, abs=0.01)


def test_page_break_starts_a_new_page():
    shots = [shot(i, page_break=(i == 2)) for i in range(5)]
    pages = layout(Scene(None, None, tuple(shots)), US)
    assert [[p.shot_index for p in page.panels] for page in pages] == [[0, 1], [2, 3, 4]]


def test_bleed_choice_extends_edge_panels_only():
    scene = Scene(None, None, tuple(shot(i) for i in range(4)))
    (page,) = layout(scene, US, {"pages": [{"page": 1, "template": "grid-4", "bleed": True}]})
    top_left = page.panels[0]
    assert top_left.bleed == ("top", "left")
    assert top_left.box[0] == pytest.approx(-US.bleed, abs=0.01) and top_left.box[1] == pytest.approx(-US.bleed, abs=0.01)


def test_art_size_is_sd15_friendly_at_the_panel_aspect():
    for page in layout(chapter(60), US):
        for p in page.panels:
            w, h = p.art_size
            assert w % 64 == 0 and h % 64 == 0 and 512 <= max(w, h) <= 768
            assert abs(math.log((w / h) / (p.box[2] / p.box[3]))) < 0.12, (p.box, p.art_size)
    assert art_size(1.0) == (768, 768) and art_size(3.0) == (768, 256) and art_size(0.5)[1] > art_size(0.5)[0]


def test_crop_to_keeps_the_aspect_and_the_face():
    face = (600, 100, 120, 120)
    x, y, w, h = crop_to(768, 512, 0.5, [face])
    assert (w, h) == (256, 512)
    assert x <= face[0] and x + w >= face[0] + face[2]
    assert crop_to(512, 512, 2.0, []) == (0, 128, 512, 256)
    panel = Panel(0, (100, 100, 200, 400), art_size=(384, 768))
    (f,) = faces_on_page(panel, 768, 512, [face])
    assert 100 <= f[0] and f[0] + f[2] <= 300 and f[2] == pytest.approx(120 * 400 / 512, abs=0.01)


def test_overrides_template_and_moves():
    scene = Scene(None, None, tuple(shot(i) for i in range(8)))
    pages = layout(scene, US)
    assert [len(p.panels) for p in pages] == [4, 4]
    moved = layout(scene, US, {"moves": [{"shot": 7, "page": 1, "panel": 1}],
                              "pages": [{"page": 1, "template": "2-1-2"}]})
    assert [p.shot_index for p in moved[0].panels] == [7, 0, 1, 2, 3] and moved[0].template == "2-1-2"
    assert [p.shot_index for p in moved[1].panels] == [4, 5, 6]


def test_bad_overrides_name_the_field_and_what_exists():
    scene = Scene(None, None, tuple(shot(i) for i in range(4)))
    with pytest.raises(LayoutError, match=r"overrides.pages\[0\].template: 'grid-9'.*grid-4"):
        layout(scene, US, {"pages": [{"page": 1, "template": "grid-9"}]})
    with pytest.raises(LayoutError, match=r"holds 2 panels but page 1 has 4; templates for 4: grid-4"):
        layout(scene, US, {"pages": [{"page": 1, "template": "2-rows"}]})
    with pytest.raises(LayoutError, match=r"moves\[0\].shot: the scene has no shot 9; shots are 0–3"):
        layout(scene, US, {"moves": [{"shot": 9, "page": 1}]})
    with pytest.raises(LayoutError, match=r"unknown field 'colour'"):
        LayoutOverrides.from_dict({"pages": [{"page": 1, "colour": "red"}]})
    with pytest.raises(LayoutError, match=r"page format 'tabloid'.*us_comic, us_trade, manga_b6, a4, webtoon"):
        page_format("tabloid")
    assert "grid-4" in TEMPLATES


def test_webtoon_stacks_full_width_panels():
    pages = layout(chapter(10), "webtoon")
    fmt = FORMATS["webtoon"]
    assert all(len(p.panels) <= 2 for p in pages)
    for page in pages:
        for p in page.panels:
            assert p.box[2] == pytest.approx(fmt.trim[0] - 2 * fmt.margin, abs=0.01)


def test_two_hundred_pages_lay_out_in_bounded_time():
    code = ("from tests.pages.scenes import chapter\nfrom backend.pages.layout import layout\n"
            "from backend.scenes.model import Scene\nfrom dataclasses import replace\n"
            "s = chapter(200, breaks_every=1)\n"
            "for _ in range(1): pages = layout(s, 'us_comic')\nassert len(pages) >= 199\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=20)


def test_speech_is_not_lost_by_layout():
    scene = Scene(None, None, (shot(0, lines=[line("Mara", "Hi.")]),))
    (page,) = layout(scene, US)
    assert page.template == "splash" and page.panels[0].bleed == ()
