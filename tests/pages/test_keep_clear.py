"""Preview art keeps its PREVIEW bar visible: the bar is found in the art's pixels and lettering places no
balloon or caption on it — in the book, and so in the motion comic drawn from the same book."""
from __future__ import annotations

import numpy as np
from PIL import Image

from backend.pages.book import build_book
from backend.pages.keep_clear import BAR, preview_band
from backend.pages.model import ArtFaces
from backend.pages.raster import render_page
from backend.pages.store import art_faces
from backend.scenes.script import parse_scene
from worker.preview.render import base_image, mark, portrait_card

SCRIPT = ("A keeper at the lamp, looking out to sea. [[caption: The last night of the mail boat, and the lamp is "
          "out.]]\n\nANNA\nThere is no one out there tonight, I am sure of it.\n")


def test_the_preview_bar_is_found_in_preview_art_and_nowhere_else():
    for img in (mark(portrait_card(512, 768, seed=2), "a keeper", 2), mark(base_image(640, 360), "a harbour", 1)):
        x, y, w, h = preview_band(img)
        bar = max(10, img.height // 10)           # how the preview engine draws it (rows 0…bar)
        assert (x, y, w) == (0, 0, img.width) and bar <= h <= bar + 2, (img.size, h)
    plain = Image.new("RGB", (512, 512), (40, 70, 110))
    red_thing = Image.new("RGB", (512, 512), (40, 70, 110))
    red_thing.paste(BAR, (100, 200, 300, 300))    # the bar's red, but not across the top
    for img in (plain, red_thing, portrait_card(512, 512, seed=2)):
        assert preview_band(img) is None


def bar_pixels(img: Image.Image, box) -> int:
    a = np.asarray(img.convert("RGB"), dtype=np.int16)
    x0, y0, x1, y1 = (round(v) for v in (box[0], box[1], box[0] + box[2], box[1] + box[3]))
    return int((np.abs(a[y0:y1, x0:x1] - np.array(BAR)) <= 24).all(axis=2).sum())


def test_no_balloon_or_caption_sits_on_the_preview_bar(tmp_path):
    scene = parse_scene(SCRIPT, ["Anna"])
    art = tmp_path / "keeper.png"
    mark(portrait_card(768, 512, seed=5), "a keeper at the lamp", 5).save(art)
    found = art_faces(art)                        # what the studio finds: the face, and the bar
    assert found.keep_clear and found.boxes
    book = build_book(scene, "us_comic", {0: found})
    panel = book.pages[0].panels[0]
    (bar,) = panel.keep_clear
    assert bar[3] > 5 and abs(bar[1] - max(panel.box[1], 0)) < 1      # the bar at the top of the panel, on the page
    balloons = book.pages[0].balloons
    assert {b.kind for b in balloons} == {"caption", "speech"} and not any(b.overflow for b in balloons)
    for b in balloons:
        x, y, w, h = b.box
        assert y >= bar[1] + bar[3] or x + w <= bar[0] or x >= bar[0] + bar[2], (b.kind, b.box, bar)
    # drawn, the bar shows as much lettered as bare: nothing covers it
    with Image.open(art) as im:
        pictures = {0: im.convert("RGB")}
    bare = render_page(book.pages[0], book.format, pictures, scale=1.0, lettering=False, faces={0: found})
    lettered = render_page(book.pages[0], book.format, pictures, scale=1.0, faces={0: found})
    assert bar_pixels(lettered, bar) == bar_pixels(bare, bar) > 0.5 * bar[2] * bar[3]
    # without the bar known, the caption takes its usual place at the top: on the bar
    blind = build_book(scene, "us_comic", {0: ArtFaces(found.size, found.boxes)})
    cap = next(b for b in blind.pages[0].balloons if b.kind == "caption")
    assert cap.box[1] < bar[1] + bar[3]
