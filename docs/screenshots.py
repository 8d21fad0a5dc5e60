"""Screenshots of the studio for the README, made from the real app in preview mode, so they stay current.

    python docs/screenshots.py                      # → docs/images/<tab>.png at 1440×900
    python docs/screenshots.py --out /tmp/shots --phone   # also 390×844 ones (<tab>-phone.png), for review

Starts `python app.py` on a free port with a throw-away data folder (preview mode: no RunPod settings), makes one
of each job through the page as a person would, and saves the viewport after each run. Needs Chromium at
/usr/bin/chromium and Playwright's Python package; espeak-ng makes the reference voice when it is installed.
Each PNG is reduced to a 256-colour palette when that keeps it under --max-kb.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))      # run as `python docs/screenshots.py`: the page helpers live in tests/support

from tests.support.media import drawn_face, spoken_reference  # noqa: E402
from tests.support.page import (CHROMIUM, CHROMIUM_ARGS, DESKTOP, JOB_MS, PHONE, finished, open_page, pick,  # noqa: E402
                                save_voice, tab, upload)
from tests.support.studio import running_app  # noqa: E402


def sample_media(folder: Path) -> dict[str, Path]:
    """A spoken reference clip and a drawn face to start from."""
    return {"reference": spoken_reference(folder / "reference.wav"),
            "face": drawn_face(folder / "face.png", background=(70, 90, 130))}


def save_png(png: bytes, path: Path, max_kb: int) -> int:
    """Write the screenshot; reduce it to a 256-colour palette when it is bigger than max_kb."""
    if len(png) > max_kb * 1024:
        im = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        buf = io.BytesIO()
        im.save(buf, "PNG", optimize=True)
        png = buf.getvalue()
    path.write_bytes(png)
    return len(png)


class Shooter:
    def __init__(self, page, out: Path, suffix: str, max_kb: int):
        self.page, self.out, self.suffix, self.max_kb = page, out, suffix, max_kb

    def tab(self, name: str) -> None:
        tab(self.page, name)
        self.page.wait_for_timeout(100)

    def run(self, prefix: str, shot: str) -> None:
        """Press the tab's Run button (#<prefix>-run), wait for the job and take the screenshot."""
        self.page.locator(f"#{prefix}-run").click()
        finished(self.page, f"{prefix}-status")
        self.page.wait_for_timeout(1200)            # let media players and the scroll settle
        self.shot(shot)

    def shot(self, name: str) -> None:
        path = self.out / f"{name}{self.suffix}.png"
        size = save_png(self.page.screenshot(), path, self.max_kb)
        print(f"{path.relative_to(self.out.parent) if self.out.parent in path.parents else path}: "
              f"{size // 1024} KB", flush=True)


SCENE = """Title: Night Mail

EXT. HARBOUR - NIGHT

Fog rolls over the harbour. A lantern swings on the pier. [[push in]]

MARA
The lights are out. We go now.

MARA
[[talking head]]
Keep your lantern low.

A small rowing boat slides into the fog. [[animate]]
"""


def make_everything(s: Shooter, media: dict[str, Path], voice_name: str) -> None:
    page = s.page
    s.tab("Portrait")
    page.locator("#portrait-prompt textarea").fill("a weathered sky pirate, front-facing, head and shoulders")
    pick(page, "portrait-style", "Graphic novel ink")
    s.run("portrait", "portrait")

    save_voice(page, media["reference"], voice_name)
    page.locator("#voice-text textarea").fill("The harbour lights are out tonight. Keep your lantern low.")
    s.run("voice", "voice")

    s.tab("Talking head")
    page.get_by_role("tab", name="One click").click()
    page.locator("#pipe-prompt textarea").fill("an old lighthouse keeper, front-facing, head and shoulders")
    pick(page, "pipe-voice", voice_name)
    page.locator("#pipe-script textarea").fill("Every night I climb the stairs, and every night the sea waits.")
    s.run("pipe", "talking-head")

    s.tab("Panel animation")
    upload(page, "panel-image", media["face"])
    page.locator("#panel-prompt textarea").fill("rain falling, neon sign flickering")
    s.run("panel", "panel-animation")

    s.tab("Music")
    pick(page, "music-preset", "Jazz")
    s.run("music", "music")

    s.tab("Cast")
    page.locator("#cast-name textarea, #cast-name input").first.fill("Mara")
    page.locator("#cast-look textarea").fill("silver hair, red oilskin coat, weathered face")
    upload(page, "cast-portrait", media["face"])
    pick(page, "cast-voice", voice_name)
    page.locator("#cast-save").click()
    page.locator("#cast-status").get_by_text("Saved").wait_for(timeout=20_000)
    page.wait_for_timeout(800)
    s.shot("cast")

    s.tab("Scenes")
    page.locator("#scene-title input, #scene-title textarea").first.fill("Night Mail")
    page.locator("#scene-script textarea").fill(SCENE)
    page.locator("#scene-script textarea").press("Tab")            # the storyboard follows the script on change
    page.locator("#scene-board .shot").first.wait_for(state="attached", timeout=60_000)
    page.locator("#scene-make").click()
    page.locator("#scene-status [data-kind=completed]").get_by_text("Everything is made").wait_for(timeout=4 * JOB_MS)
    page.locator("#scene-render").click()
    page.locator("#scene-status [data-kind=completed]").get_by_text("Rendered").wait_for(timeout=4 * JOB_MS)
    page.wait_for_timeout(1500)
    s.shot("scenes")

    page.locator("#pages-view").get_by_text("Pages: the scene as a lettered comic").click()
    page.locator("#pages-show").click()
    page.locator("#pages-status").get_by_text("balloon").wait_for(timeout=60_000)
    page.locator("#pages-gallery img").first.wait_for(timeout=20_000)
    page.locator("#pages-gallery").evaluate("e => e.scrollIntoView({block: 'start'})")   # the page whole
    page.wait_for_timeout(1200)
    s.shot("pages")

    s.tab("Jobs")
    page.locator("#jobs-table [data-testid=cell-0-1]").click()
    page.locator("#jobs-details").get_by_text("Scene").first.wait_for(timeout=20_000)
    page.wait_for_timeout(800)
    s.shot("jobs")

    s.tab("Endpoint")
    page.locator("#endpoint-check").click()
    page.locator("#endpoint-summary").get_by_text("jobs ready").wait_for(timeout=60_000)
    s.shot("endpoint")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    ap.add_argument("--phone", action="store_true", help="also make 390×844 screenshots (<name>-phone.png)")
    ap.add_argument("--no-desktop", action="store_true", help="only the phone screenshots")
    ap.add_argument("--max-kb", type=int, default=200)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    a.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="studio-shots-") as tmp:
        data = Path(tmp)
        media = sample_media(data)
        with running_app(data, timeout=180) as app, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            sizes = ([] if a.no_desktop else [(DESKTOP, "")]) + ([(PHONE, "-phone")] if a.phone else [])
            for i, (viewport, suffix) in enumerate(sizes):
                page = open_page(browser, app.url, viewport, timeout=120_000)   # slow first render on a busy machine
                make_everything(Shooter(page, a.out, suffix, a.max_kb), media, f"Captain Mara {i + 1}")
                page.context.close()
            browser.close()


if __name__ == "__main__":
    main()
