"""The Book and its JSON: what the bench and other tools read, and the round trip."""
import json

import pytest

from backend.pages.book import BookError, Overrides, art_ppi, build_book, from_json, to_json
from backend.pages.layout import LayoutError
from backend.pages.model import ArtFaces
from backend.scenes.model import Scene
from tests.pages.scenes import chapter, line, shot


def test_json_has_the_keys_tools_read_and_round_trips():
    scene = chapter(24)
    faces = {i: ArtFaces((768, 768), ((300, 140, 170, 170),)) for i in range(24)}
    book = build_book(scene, "us_comic", faces)
    data = json.loads(json.dumps(to_json(book)))
    assert data["format"] == "us_comic" and data["trim"] == [477.0, 738.0]
    page = data["pages"][1]
    panel = page["panels"][0]
    assert set(panel) >= {"box", "faces"} and len(panel["box"]) == 4 and len(panel["faces"][0]) == 4
    b = page["balloons"][0]
    assert set(b) >= {"kind", "text", "box", "tail", "target_face"}
    kinds = {b["kind"] for p in data["pages"] for b in p["balloons"]}
    assert {"speech", "caption", "sfx", "shout", "thought"} <= kinds
    assert any(b["tail"] and b["target_face"] == 0 for p in data["pages"] for b in p["balloons"])
    back = from_json(data)
    assert to_json(back) == data
    assert back.panel_count == 24 and back.format.name == "us_comic"


def test_bad_json_names_the_field():
    data = to_json(build_book(Scene(None, None, (shot(0, lines=[line("Mara", "Hi.")]),)), "a4"))
    data["pages"][0]["balloons"][0]["kind"] = "scream"
    with pytest.raises(BookError, match=r"pages\[0\].balloons\[0\].kind: 'scream' is not a balloon kind"):
        from_json(data)
    data["format"] = "folio"
    with pytest.raises(BookError, match=r"format: 'folio'.*us_comic"):
        from_json(data)


def test_overrides_reach_layout_and_lettering_and_warnings_name_the_page():
    scene = Scene(None, "Test", tuple(shot(i, lines=[line("Mara", " ".join(["word"] * 1500) if i == 3 else "Hi.")])
                                      for i in range(4)))
    book = build_book(scene, "us_comic", overrides={"pages": [{"page": 1, "template": "2-over-1"}],
                                                      "moves": [{"shot": 3, "page": 2}],
                                                      "balloons": [{"shot": 0, "placement": 1}]})
    assert [p.template for p in book.pages] == ["2-over-1", "splash"]
    assert book.pages[0].balloons[0].placement == 1
    assert book.warnings and book.warnings[0].startswith("page 2, panel 1: Mara's line")
    assert Overrides.from_dict(Overrides.from_dict({"moves": [{"shot": 1, "page": 1}]}).to_dict()).layout.moves[0].shot == 1
    with pytest.raises(LayoutError, match="unknown field 'panels'; the fields are: pages, moves, balloons"):
        build_book(scene, "us_comic", overrides={"panels": []})
    with pytest.raises(LayoutError, match="the formats are: us_comic"):
        build_book(scene, "letter")


def test_art_ppi_says_sd15_art_is_below_print_resolution():
    book = build_book(Scene(None, None, (shot(0),)), "us_comic")
    ppi = art_ppi(book.pages[0].panels[0])
    assert 40 < ppi < 300   # a full-page panel from a 512–768 px image: far below the 300 ppi printers ask
