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
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
JOB_MS = 120_000
CREDENTIALS = ("RUNPOD_API_KEY", "RUNPOD_ENDPOINT_ID", "RUNPOD_API_BASE", "STUDIO_AUTH", "STUDIO_MCP")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_media(folder: Path) -> dict[str, Path]:
    """A spoken reference clip and a drawn face to start from."""
    ref = folder / "reference.wav"
    text = "Hello there. My name is Captain Mara, and I fly the night mail over the harbour city."
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(ref), text], check=True, capture_output=True)
    else:
        t = np.linspace(0, 6, 6 * 22050, endpoint=False)
        sf.write(ref, 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2, 22050)
    face = folder / "face.png"
    im = Image.new("RGB", (512, 512), (70, 90, 130))
    dr = ImageDraw.Draw(im)
    dr.ellipse((136, 96, 376, 416), fill=(235, 200, 170))
    dr.ellipse((196, 206, 226, 236), fill=(40, 40, 40))
    dr.ellipse((286, 206, 316, 236), fill=(40, 40, 40))
    dr.arc((206, 296, 306, 356), 0, 180, fill=(120, 30, 30), width=6)
    im.save(face)
    return {"reference": ref, "face": face}


def start_app(data: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    env = {**os.environ, **{k: "" for k in CREDENTIALS}, "STUDIO_DATA_DIR": str(data / "data"),
           "GRADIO_TEMP_DIR": str(data / "gradio"), "GRADIO_ANALYTICS_ENABLED": "False"}
    log = data / "app.log"
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=REPO, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while "studio ready" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the app did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return proc, f"http://127.0.0.1:{port}", log


def stop_app(proc: subprocess.Popen, data: Path) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    # The preview endpoint runs detached (it outlives the app by design): stop the one this run started.
    state = data / "data" / "preview-endpoint" / "endpoint.json"
    if state.is_file():
        sys.path.insert(0, str(REPO))
        from tests.support.procs import stop_detached_endpoint
        stop_detached_endpoint(state)


def save_png(png: bytes, path: Path, max_kb: int) -> int:
    """Write the screenshot; reduce it to a 256-colour palette when it is bigger than max_kb."""
    if len(png) > max_kb * 1024:
        im = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        buf = io.BytesIO()
        im.save(buf, "PNG", optimize=True)
        png = buf.getvalue()
    path.write_bytes(png)
    return len(png)


def go_to_tab(page, name: str) -> None:
    """Click a tab; on a narrow screen Gradio moves the tabs that do not fit into a "More tabs" menu."""
    direct = page.get_by_role("tab", name=name, exact=True)
    if direct.count() and direct.first.is_visible():
        direct.first.click()
        return
    page.get_by_role("button", name="More tabs").first.click()
    page.locator(".overflow-dropdown button", has_text=name).first.click()


class Shooter:
    def __init__(self, page, out: Path, suffix: str, max_kb: int):
        self.page, self.out, self.suffix, self.max_kb = page, out, suffix, max_kb

    def tab(self, name: str) -> None:
        go_to_tab(self.page, name)
        self.page.wait_for_timeout(400)

    def done(self, status_id: str) -> None:
        self.page.locator(f"#{status_id} [data-kind=completed]").wait_for(timeout=JOB_MS)
        self.page.wait_for_timeout(1200)            # let media players and the scroll settle

    def shot(self, name: str) -> None:
        path = self.out / f"{name}{self.suffix}.png"
        size = save_png(self.page.screenshot(), path, self.max_kb)
        print(f"{path.relative_to(self.out.parent) if self.out.parent in path.parents else path}: "
              f"{size // 1024} KB", flush=True)

    def pick(self, elem_id: str, option: str) -> None:
        self.page.locator(f"#{elem_id} input").first.click()
        self.page.get_by_role("option", name=option, exact=True).click()

    def upload(self, elem_id: str, path: Path) -> None:
        self.page.locator(f"#{elem_id} input[type=file]").first.set_input_files(str(path))
        self.page.locator(f"#{elem_id} button[aria-label=Clear], #{elem_id} img, #{elem_id} audio").first.wait_for(
            state="attached", timeout=20_000)


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
    s.pick("portrait-style", "Graphic novel ink")
    page.locator("#portrait-run").click()
    s.done("portrait-status")
    s.shot("portrait")

    s.tab("Voice")
    s.upload("voice-reference_audio", media["reference"])
    page.locator("#voice-reference_text textarea").fill("Hello there. My name is Captain Mara.")
    page.locator("#voice-name textarea, #voice-name input").first.fill(voice_name)
    page.locator("#voice-save").click()
    page.get_by_text(f"Saved voice “{voice_name}”").wait_for(timeout=30_000)
    page.locator("#voice-text textarea").fill("The harbour lights are out tonight. Keep your lantern low.")
    page.locator("#voice-run").click()
    s.done("voice-status")
    s.shot("voice")

    s.tab("Talking head")
    page.get_by_role("tab", name="One click").click()
    page.locator("#pipe-prompt textarea").fill("an old lighthouse keeper, front-facing, head and shoulders")
    s.pick("pipe-voice", voice_name)
    page.locator("#pipe-script textarea").fill("Every night I climb the stairs, and every night the sea waits.")
    page.locator("#pipe-run").click()
    s.done("pipe-status")
    s.shot("talking-head")

    s.tab("Panel animation")
    s.upload("panel-image", media["face"])
    page.locator("#panel-prompt textarea").fill("rain falling, neon sign flickering")
    page.locator("#panel-run").click()
    s.done("panel-status")
    s.shot("panel-animation")

    s.tab("Music")
    s.pick("music-preset", "Jazz")
    page.locator("#music-run").click()
    s.done("music-status")
    s.shot("music")

    s.tab("Cast")
    page.locator("#cast-name textarea, #cast-name input").first.fill("Mara")
    page.locator("#cast-look textarea").fill("silver hair, red oilskin coat, weathered face")
    page.locator("#cast-portrait input[type=file]").set_input_files(str(media["face"]))
    page.locator("#cast-portrait img").first.wait_for(timeout=20_000)
    s.pick("cast-voice", voice_name)
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
        proc, url, _ = start_app(data)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                sizes = ([] if a.no_desktop else [(DESKTOP, "")]) + ([(PHONE, "-phone")] if a.phone else [])
                for i, (viewport, suffix) in enumerate(sizes):
                    ctx = browser.new_context(viewport=viewport)
                    page = ctx.new_page()
                    page.goto(url)
                    page.locator("#mode-banner").wait_for(timeout=120_000)   # slow first render on a busy machine
                    make_everything(Shooter(page, a.out, suffix, a.max_kb), media, f"Captain Mara {i + 1}")
                    ctx.close()
                browser.close()
        finally:
            stop_app(proc, data)


if __name__ == "__main__":
    main()
