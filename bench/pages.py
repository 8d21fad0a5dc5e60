"""How long does a chapter take to become lettered comic pages, and does the lettering keep its rules?

Builds a chapter in the comic-script dialect (26 pages, ~100 panels, three speakers, captions, sound effects,
whispers, shouts, thoughts, radio and voice-over), parses it, makes stand-in art for every panel at the size layout
chose (a drawn landscape with a photographed face — scikit-image's astronaut — where the speaker stands), finds
the faces with the studio's detector, lays the chapter out at US comic size, letters it, renders every page at
`--dpi`, and writes the page model as JSON. Then it checks the JSON with its own geometry (not lettering's): no
balloon outside its panel, none over a face, no two tails crossing.

Exports (PDF, CBZ, EPUB, webtoon) are timed in `run_exports` below: the exports part adds them there.
The last line printed is one JSON object.

    python bench/pages.py [--dpi 150] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.pages.book import build_book, to_json  # noqa: E402
from backend.pages.layout import layout  # noqa: E402
from backend.pages.lettering import letter, overflow_warnings, segments_cross  # noqa: E402
from backend.pages.model import FORMATS, ArtFaces, Book  # noqa: E402
from backend.pages.raster import render_page  # noqa: E402
from backend.scenes.comicscript import number_word, parse_comic_script  # noqa: E402
from backend.scenes.model import Appearance  # noqa: E402
from workflows.faces import detect  # noqa: E402

CAST = ["Mara", "Ben", "Hans"]
PAGES = 26


def chapter_script(pages: int = PAGES) -> str:
    """A chapter in the comic-script dialect, varied the way a real one is."""
    out = ["Title: The Last Mail Boat", ""]
    places = ["The harbour at night, fog over the water.", "Close on Mara's face, lit by the lantern.",
              "Ben at the oars, looking over his shoulder.", "Establishing: the coast under a low moon.",
              "Mara and Ben in the cabin, a map between them.", "Hans on the pier, a radio in his hand."]
    lines = [("MARA", None, "The lights are out along the whole pier."),
             ("BEN", "whispering", "Keep your lantern low."),
             ("MARA", None, "We have ten minutes before the tide turns, *Ben*."),
             ("BEN", "shouting", "GET DOWN!"),
             ("HANS", "on the radio", "Mail boat, this is the pier. Do you read?"),
             ("MARA", "thinks", "He knows. He must know."),
             ("BEN", None, "Then we row. Now."),
             ("MARA", "V.O.", "We never saw the pier again.")]
    sfx = ["KRAK", "SPLASH", "KREEEK", "BOOM"]
    k = 0
    for p in range(1, pages + 1):
        out += [f"PAGE {number_word(p)}", ""]
        for n in range(1, 4 if p % 4 == 0 else 5):
            k += 1
            out += [f"Panel {n}", places[k % len(places)]]
            if k % 5 == 1:
                out.append(f"CAPTION: Night {p}. The mail boat leaves at the turn of the tide.")
            for j in range(k % 3):
                name, qual, text = lines[(k + j * 3) % len(lines)]
                out.append(f"{name}{f' ({qual})' if qual else ''}: {text}")
            if k % 4 == 0:
                out.append(f"SFX: {sfx[k % len(sfx)]}")
            out.append("")
    return "\n".join(out)


def _face_sample() -> Image.Image:
    try:
        import importlib.resources
        import io
        data = (importlib.resources.files("skimage") / "data" / "astronaut.png").read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            return im.convert("RGB").crop((130, 20, 320, 230))   # head and shoulders, face ~ (46, 46, 98, 98)
    except (ImportError, FileNotFoundError, OSError):
        im = Image.new("RGB", (190, 210), (200, 180, 160))
        d = ImageDraw.Draw(im)
        d.ellipse((45, 40, 145, 160), fill=(235, 200, 170))
        d.ellipse((70, 80, 85, 95), fill=(40, 40, 40))
        d.ellipse((105, 80, 120, 95), fill=(40, 40, 40))
        return im


def stand_in_art(size: tuple[int, int], seed: int, face: Image.Image | None, side: str) -> Image.Image:
    """A drawn scene at `size` (sky, hills) with a face on the speaker's side."""
    w, h = size
    sky = np.linspace([60 + seed * 7 % 80, 110, 190], [190, 215, 245], h).astype(np.uint8)
    img = Image.fromarray(np.repeat(sky[:, None, :], w, axis=1))
    d = ImageDraw.Draw(img)
    d.polygon([(0, h * 0.65), (w * 0.3, h * 0.45), (w * 0.6, h * 0.6), (w, h * 0.5), (w, h), (0, h)], fill=(60, 110, 70))
    if face is not None:
        fh = int(min(w, h) * 0.5)
        fw = int(fh * face.width / face.height)
        piece = face.resize((fw, fh), Image.Resampling.BILINEAR)
        x = int(w * (0.18 if side == "left" else 0.82 if side == "right" else 0.5) - fw / 2)
        img.paste(piece, (max(0, min(w - fw, x)), int(h * 0.3)))
    return img


def run_exports(book: Book, art: dict, faces: dict, out: Path, dpi: float = 150.0) -> tuple[dict, dict]:
    """Every export of the book, timed: ({format: seconds}, {"pdf": path, "cbz": …, "webtoon_dir": …}).

    The art is saved as JPEG files first (the studio's made art is files; the PDF embeds them as they are)."""
    from backend.pages.export_cbz import write_cbz
    from backend.pages.export_epub import write_epub
    from backend.pages.export_json import write_json
    from backend.pages.export_pdf import write_pdf
    from backend.pages.export_webtoon import write_webtoon
    from backend.pages.exports import ExportMeta

    art_dir = out / "art"
    art_dir.mkdir(exist_ok=True)
    files = {}
    for index, img in art.items():
        files[index] = art_dir / f"shot-{index:03d}.jpg"
        img.save(files[index], quality=92)
    meta = ExportMeta(title=book.title or "Chapter", writer="Bench", characters=tuple(CAST))

    def render(page):
        return render_page(page, book.format, art, dpi=dpi, faces=faces)

    jobs = {"pdf": lambda: write_pdf(book, files, out / "chapter.pdf", meta, faces),
            "cbz": lambda: write_cbz(book, render, out / "chapter.cbz", meta),
            "epub": lambda: write_epub(book, render, out / "chapter.epub", meta),
            "webtoon": lambda: write_webtoon(book, render, out / "webtoon", meta),
            "json": lambda: write_json(book, out / "chapter.json")}
    seconds, paths = {}, {}
    for name, job in jobs.items():
        t = time.perf_counter()
        done = job()
        seconds[name] = round(time.perf_counter() - t, 3)
        paths[name] = str(done.paths[0])
        if name == "webtoon":
            paths["webtoon_dir"] = str(done.paths[0].parent)
            paths["webtoon_slices"] = len(done.paths)
            paths["webtoon_mb"] = round(sum(p.stat().st_size for p in done.paths) / 2**20, 2)
        if name == "pdf":
            paths["pdf_notes"] = len(done.notes)
    paths.pop("webtoon")
    paths["json_export"] = paths.pop("json")
    return seconds, paths


def main(dpi: float, out: Path) -> dict:
    t_start = time.perf_counter()
    fmt = FORMATS["us_comic"]
    script = chapter_script()
    t = time.perf_counter()
    scene = parse_comic_script(script, CAST)
    parse_s = time.perf_counter() - t

    # where each shot's speakers stand (the plan's job in the studio): first speaker left, second right
    shots = []
    for shot in scene.shots:
        who = list(dict.fromkeys(ln.character for ln in shot.lines))
        shots.append(replace(shot, appearances=tuple(Appearance(c, r) for c, r in zip(who, ("left", "right")))))
    scene = replace(scene, shots=tuple(shots))

    t = time.perf_counter()
    pages = layout(scene, fmt)
    layout_s = time.perf_counter() - t

    t = time.perf_counter()
    sample = _face_sample()
    art, faces = {}, {}
    for page in pages:
        for panel in page.panels:
            shot = scene.shots[panel.shot_index]
            side = shot.appearances[0].region if shot.appearances else "none"
            img = stand_in_art(panel.art_size, panel.shot_index, sample if shot.lines else None, side)
            art[panel.shot_index] = img
    art_s = time.perf_counter() - t

    t = time.perf_counter()
    for index, img in art.items():
        box = detect(np.asarray(img.convert("L")))
        faces[index] = ArtFaces(img.size, (box,) if box else ())
    faces_s = time.perf_counter() - t

    t = time.perf_counter()
    lettered = letter(pages, scene, fmt, faces)
    letter_s = time.perf_counter() - t
    book = Book(format=fmt, pages=lettered, title=scene.title, warnings=overflow_warnings(lettered))
    assert to_json(book) == to_json(build_book(scene, fmt, faces))   # one call does the same

    out.mkdir(parents=True, exist_ok=True)
    pages_dir = out / "pages"
    pages_dir.mkdir(exist_ok=True)
    t = time.perf_counter()
    for page in book.pages:
        render_page(page, fmt, art, dpi=dpi, faces=faces).save(pages_dir / f"page-{page.number:03d}.png")
    raster_s = time.perf_counter() - t

    export_s, paths = run_exports(book, art, faces, out, dpi)

    layout_json = out / "pages.json"
    data = to_json(book)
    layout_json.write_text(json.dumps(data, indent=1), encoding="utf-8")
    checks = check(data)
    return {
        "pages": len(book.pages), "panels": book.panel_count,
        "balloons": sum(len(p.balloons) for p in book.pages),
        "faces": sum(len(p.faces) for pg in book.pages for p in pg.panels),
        "tails_to_faces": sum(1 for pg in book.pages for b in pg.balloons if b.target_face is not None),
        "parse_s": round(parse_s, 3), "layout_s": round(layout_s, 3), "art_s": round(art_s, 3),
        "faces_s": round(faces_s, 3), "letter_s": round(letter_s, 3), "raster_s": round(raster_s, 3),
        "raster_dpi": dpi, "export_s": export_s,
        "total_s": round(time.perf_counter() - t_start, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **checks, "warnings": len(book.warnings),
        "layout_json": str(layout_json), "pages_dir": str(pages_dir), **paths,
    }


def check(data: dict) -> dict:
    """The rules, checked on the JSON with plain geometry."""
    outside = over_face = crossing = 0
    for page in data["pages"]:
        panels = page["panels"]
        for b in page["balloons"]:
            x, y, w, h = b["box"]
            px, py, pw, ph = panels[b["panel"]]["box"]
            if x < px - 0.01 or y < py - 0.01 or x + w > px + pw + 0.01 or y + h > py + ph + 0.01:
                outside += 1
            for fx, fy, fw, fh in panels[b["panel"]]["faces"]:
                if min(x + w, fx + fw) > max(x, fx) and min(y + h, fy + fh) > max(y, fy):
                    over_face += 1
        tails = [b["tail"] for b in page["balloons"] if b["tail"]]
        for i, a in enumerate(tails):
            for c in tails[i + 1:]:
                if segments_cross(tuple(a[0]), tuple(a[-1]), tuple(c[0]), tuple(c[-1])):
                    crossing += 1
    overflow = sum(1 for p in data["pages"] for b in p["balloons"] if b["overflow"])
    return {"balloons_outside_panel": outside, "balloons_over_face": over_face, "crossing_tails": crossing,
            "overflow": overflow}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dpi", type=float, default=150.0, help="raster pages' resolution (the PDF embeds full art)")
    ap.add_argument("--out", type=Path, default=None, help="where to write pages and JSON (default: a temp folder)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-pages-"))
    print(json.dumps(main(args.dpi, out)))
