"""Raster pages, smoke-checked with pixels: art inside its panel, white balloons with dark letters, overflow red."""
from PIL import Image, ImageChops

from backend.pages.layout import layout
from backend.pages.lettering import letter
from backend.pages.model import FORMATS
from backend.pages.raster import draw_balloon, render_page
from backend.scenes.model import Scene
from tests.pages.scenes import line, shot

US = FORMATS["us_comic"]
ART = (40, 90, 200)


def _page(text="Keep your lantern low.", kind_paren=None):
    scene = Scene(None, None, (shot(0, lines=[line("Ben", text, kind_paren)]), shot(1)))
    (page,) = letter(layout(scene, US), scene, US)
    return page


def _crop(img, box, s, inset=0.0):
    x, y, w, h = box
    return img.crop((int((x + inset) * s), int((y + inset) * s), int((x + w - inset) * s), int((y + h - inset) * s)))


def test_art_fills_its_panel_and_gutters_stay_white():
    page = _page()
    s = 2.0
    art = {0: Image.new("RGB", (768, 384), ART), 1: Image.new("RGB", (512, 512), (200, 40, 40))}
    img = render_page(page, US, art, scale=s, lettering=False)
    assert img.size == (round(US.trim[0] * s), round(US.trim[1] * s))
    a, b = page.panels
    inside = _crop(img, a.box, s, inset=4).getcolors(1 << 20)
    assert max(inside)[1] == ART
    # the gutter between the two panels is paper
    gy = (a.box[1] + a.box[3] + b.box[1]) / 2
    assert img.getpixel((int(US.trim[0] * s / 2), int(gy * s))) == (255, 255, 255)
    # the margin is paper too, and the bleed version is larger by the bleed
    assert img.getpixel((3, 3)) == (255, 255, 255)
    bled = render_page(page, US, art, scale=s, bleed=True, lettering=False)
    assert bled.size == (round(US.bleed_size[0] * s), round(US.bleed_size[1] * s))


def test_balloon_is_white_with_dark_letters_and_can_be_drawn_alone():
    page = _page()
    s = 3.0
    art = {0: Image.new("RGB", (768, 384), ART), 1: Image.new("RGB", (512, 512), ART)}
    bare = render_page(page, US, art, scale=s, lettering=False)
    (balloon,) = page.balloons
    core = _crop(bare, balloon.box, s, inset=balloon.box[3] * 0.3)
    assert max(core.getcolors(1 << 20))[1] == ART        # no lettering drawn yet
    draw_balloon(bare, balloon, scale=s)
    core = _crop(bare, balloon.box, s, inset=balloon.box[3] * 0.3)
    colours = core.getcolors(1 << 20)
    white = sum(n for n, c in colours if min(c) > 235)
    dark = sum(n for n, c in colours if max(c) < 90)
    total = core.width * core.height
    assert white > 0.5 * total and dark > 0.02 * total


def test_overflow_is_visible_in_red():
    page = _page(" ".join(["word"] * 1500))
    (balloon,) = page.balloons
    assert balloon.overflow
    img = render_page(page, US, None, scale=1.5)
    reds = sum(n for n, c in img.getcolors(1 << 20) if c[0] > 200 and c[1] < 60 and c[2] < 90)
    assert reds > 100


def test_each_kind_draws_a_distinct_shape():
    # the same words in each kind: their pixels differ (cloud, dashes, burst, caption box, electric tail)
    pictures = {}
    for paren in (None, "thinks", "whispering", "shouting", "on the radio", "V.O."):
        page = _page("Keep low.", paren)
        (balloon,) = page.balloons
        img = Image.new("RGB", (int(US.trim[0] * 2), int(US.trim[1] * 2)), ART)
        draw_balloon(img, balloon, scale=2)
        pictures[balloon.kind] = img.tobytes()
    assert set(pictures) == {"speech", "thought", "whisper", "shout", "radio", "caption"}
    assert len(set(pictures.values())) == 6


def test_every_shape_stays_inside_its_box_but_for_its_tail():
    s = 2.0
    for paren in (None, "thinks", "whispering", "shouting", "on the radio", "V.O."):
        page = _page("Keep your lantern low, and your *voice* lower.", paren)
        (b,) = page.balloons
        bg = (40, 90, 200)
        img = Image.new("RGB", (int(US.trim[0] * s), int(US.trim[1] * s)), bg)
        draw_balloon(img, b, scale=s)
        x, y, w, h = (v * s for v in b.box)
        allowed = [(x - 1, y - 1, x + w + 1, y + h + 1)]
        if b.tail:
            xs = [p[0] * s for p in b.tail]
            ys = [p[1] * s for p in b.tail]
            reach = 0.25 * min(w, h)
            allowed.append((min(xs) - reach, min(ys) - reach, max(xs) + reach, max(ys) + reach))
        px = img.load()
        stray = [(i, j) for i in range(0, img.width, 2) for j in range(0, img.height, 2)
                 if px[i, j] != bg and not any(a <= i <= c and bb <= j <= d for a, bb, c, d in allowed)]
        assert not stray, (b.kind, stray[:3])
    sfx_scene = Scene(None, None, (shot(0, sfx=("KRAKA-BOOM",)),))
    (page,) = letter(layout(sfx_scene, US), sfx_scene, US)
    (b,) = page.balloons
    img = Image.new("RGB", (int(US.trim[0] * s), int(US.trim[1] * s)), (40, 90, 200))
    draw_balloon(img, b, scale=s)
    bbox = ImageChops.difference(img, Image.new("RGB", img.size, (40, 90, 200))).getbbox()
    x, y, w, h = (v * s for v in b.box)
    assert bbox[0] >= x - 2 and bbox[1] >= y - 2 and bbox[2] <= x + w + 2 and bbox[3] <= y + h + 2, (bbox, (x, y, w, h))
