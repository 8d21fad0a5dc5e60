"""The studio's face check (backend/faces.find_face) on a photographed face, a landscape panel and a blank image."""
from __future__ import annotations

from pathlib import Path

import pytest

from backend.faces import ADVICE, find_face
from tests.support import faces


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("faces")
    return {
        "photo": faces.save(faces.face_photo(1024, 1024), d / "photo.png"),
        "photo_jpeg": faces.save(faces.face_photo(640, 800), d / "photo.jpg"),
        "small_photo": faces.save(faces.face_photo(256, 256), d / "small.png"),
        "landscape": faces.save(faces.landscape(1024, 576), d / "landscape.png"),
        "blank": faces.save(faces.blank(1024, 1024), d / "blank.png"),
        "not_an_image": d / "notes.png",
    }


@pytest.mark.parametrize("name", ["photo", "photo_jpeg", "small_photo"])
def test_a_photographed_face_is_found_where_it_is(pictures, name):
    check = find_face(pictures[name])
    assert check.found and check.box is not None and check.ms > 0
    x, y, w, h = check.box
    from PIL import Image
    with Image.open(pictures[name]) as im:
        width, height = im.size
    # head-and-shoulders crop: the face is in the middle third across, upper part, and a good part of the frame
    assert width / 3 < x + w / 2 < 2 * width / 3 and y + h / 2 < height * 0.6
    assert w > width * 0.15


@pytest.mark.parametrize("name", ["landscape", "blank"])
def test_no_face_in_a_landscape_or_a_blank_image(pictures, name):
    check = find_face(pictures[name])
    assert not check.found and check.box is None


def test_an_unreadable_file_counts_as_no_face(pictures):
    pictures["not_an_image"].write_text("notes, not a picture")
    assert not find_face(pictures["not_an_image"]).found


def test_the_advice_says_what_to_use():
    assert ADVICE == ("no face was found in the portrait; use a front-facing head-and-shoulders image where the face "
                      "fills a good part of the frame")
