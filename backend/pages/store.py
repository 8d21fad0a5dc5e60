"""A scene record as a book: its page format and page edits (kept in the scene's settings), its made art, the faces
in that art, and each export written into the library and the Jobs history with what made it.

The scene's `settings["pages"]` holds `{"format": "us_comic", "layout": {…}, "lettering": {…}}`: the page format
chosen for the scene and the layout and lettering overrides as their modules' `from_dict` read them. Nothing here
starts a job: art that is not made yet prints as a grey panel, with a note.

`page_images` and `export_scene` take a destination folder (`into`): given one, they write there and nothing else —
no file in the library, no job in the history. The studio passes one for a reviewer (a folder outside the data
folder that it prunes); this module does not know roles.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.errors import BackendError
from backend.pages.exports import (EXPORT_FORMATS, Exported, ExportError, ExportMeta, check_export_format,
                                   check_page_format, page_names, slug)
from backend.pages.model import ArtFaces, Book
from backend.records import JobRecord

log = logging.getLogger(__name__)

DEFAULT_FORMAT = "us_comic"
ACTION = "pages"            # the Jobs history's action for a book export
MIME = {"pdf": "application/pdf", "cbz": "application/vnd.comicbook+zip", "epub": "application/epub+zip",
        "json": "application/json", "webtoon": "application/zip"}


@dataclass(frozen=True)
class SceneBook:
    book: Book
    art: dict[int, Path]            # shot index → its made image
    faces: dict[int, ArtFaces]      # shot index → the faces found in that image (its pixels)
    meta: ExportMeta
    layout: dict[str, Any]          # the overrides the book was built with (for provenance)
    lettering: dict[str, Any]


# -- the scene's page settings --------------------------------------------------------------------------------
def page_settings(record: Any) -> dict[str, Any]:
    p = dict((record.settings or {}).get("pages") or {})
    return {"format": p.get("format") or DEFAULT_FORMAT, "layout": p.get("layout") or {},
            "lettering": p.get("lettering") or {}}


def save_page_settings(studio: Any, record: Any, **changes: Any) -> Any:
    """Store a new page format and/or overrides on the scene (validated before anything is saved)."""
    p = page_settings(record)
    p.update({k: v for k, v in changes.items() if v is not None})
    check_page_format(p["format"])
    _overrides(p)
    record.settings = {**(record.settings or {}), "pages": p}
    return studio.scenes.save(record)


def _overrides(p: dict[str, Any]) -> tuple[Any, Any]:
    from backend.pages.layout import LayoutError, LayoutOverrides
    from backend.pages.lettering import LetterError, LetterOverrides
    try:
        return LayoutOverrides.from_dict(p["layout"]), LetterOverrides.from_dict(p["lettering"])
    except (LayoutError, LetterError) as err:
        raise BackendError(str(err)) from None


# -- faces in the art ---------------------------------------------------------------------------------------
_faces_memo: dict[tuple[str, int, int], ArtFaces] = {}


def art_faces(path: Path) -> ArtFaces:
    """The face the studio's detector finds in one image (its pixels), and a preview's PREVIEW bar, memoised by
    file identity."""
    from PIL import Image

    from backend import faces
    from backend.pages.keep_clear import preview_band
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _faces_memo:
        with Image.open(path) as im:
            size = im.size
            band = preview_band(im)
        found = faces.find_face(path)
        _faces_memo[key] = ArtFaces(size, (tuple(float(v) for v in found.box),) if found.box else (),
                                    (band,) if band else ())
    return _faces_memo[key]


# -- the book ---------------------------------------------------------------------------------------------------
def scene_book(studio: Any, record: Any, page_format: str | None = None, work: Any = None) -> SceneBook:
    """Lay out and letter the scene at its page format (or `page_format`), with the art made so far (`work`: the
    scene already loaded, as the render has it)."""
    from backend.scenes import make as M

    p = page_settings(record)
    if page_format:
        p["format"] = page_format
    fmt = check_page_format(p["format"])
    layout_ov, letter_ov = _overrides(p)
    work = work if work is not None else M.load(studio, record)
    if work.scene is None:
        raise BackendError(f"The script has errors:\n{work.errors}")
    art: dict[int, Path] = {}
    for shot in work.scene.shots:
        f = work.file_of(work.plan.image.get(shot.index))
        if f and Path(f).is_file():
            art[shot.index] = Path(f)
    faces = {i: art_faces(path) for i, path in art.items()}
    book = build(work.scene, fmt, faces, layout_ov, letter_ov, record.title)
    speakers = sorted({ln.character for s in work.scene.shots for ln in s.lines})
    meta = ExportMeta(title=record.title, series=record.title, writer=_writer(studio), characters=tuple(speakers),
                      identifier=record.id, summary=work.scene.heading)
    return SceneBook(book, art, faces, meta, p["layout"], p["lettering"])


def build(scene: Any, fmt: Any, faces: dict[int, ArtFaces], layout_ov: Any, letter_ov: Any, title: str) -> Book:
    from dataclasses import replace

    from backend.pages.book import Overrides, build_book
    from backend.pages.layout import LayoutError
    from backend.pages.lettering import LetterError
    try:
        book = build_book(scene, fmt, faces, Overrides(layout_ov, letter_ov))
    except (LayoutError, LetterError) as err:
        raise BackendError(str(err)) from None
    return replace(book, title=title)


def _writer(studio: Any) -> str | None:
    return getattr(getattr(studio, "settings", None), "author", None)


def page_renderer(sb: SceneBook, ppi: float = 150) -> Callable[[Any], Any]:
    """Each page as a lettered picture (the raster renderer): only that page's art is opened, then closed."""
    from PIL import Image

    from backend.pages.raster import render_page

    def render(page: Any) -> Any:
        pics = {}
        try:
            for panel in page.panels:
                path = sb.art.get(panel.shot_index)
                if path is not None and panel.shot_index not in pics:
                    pics[panel.shot_index] = Image.open(path)
            return render_page(page, sb.book.format, pics, dpi=ppi, faces=sb.faces)
        finally:
            for im in pics.values():
                im.close()
    return render


# -- exports into the library and the history ------------------------------------------------------------------
@dataclass(frozen=True)
class ExportDone:
    record: JobRecord | None    # None for an export written only into a given folder (nothing recorded)
    path: str                   # the file to download (the webtoon's slices come as one .zip)
    notes: tuple[str, ...]


def write(sb: SceneBook, fmt: str, folder: Path) -> Exported:
    """Write one export of the book into `folder` (pure of the studio: the bench calls it too)."""
    check_export_format(fmt)
    name = slug(sb.meta.title)
    if fmt == "pdf":
        from backend.pages.export_pdf import write_pdf
        return write_pdf(sb.book, sb.art, folder / f"{name}.pdf", sb.meta, sb.faces)
    if fmt == "json":
        from backend.pages.export_json import write_json
        return write_json(sb.book, folder / f"{name}.json")
    render = page_renderer(sb)
    if fmt == "cbz":
        from backend.pages.export_cbz import write_cbz
        return write_cbz(sb.book, render, folder / f"{name}.cbz", sb.meta)
    if fmt == "epub":
        from backend.pages.export_epub import write_epub
        return write_epub(sb.book, render, folder / f"{name}.epub", sb.meta)
    from backend.pages.export_webtoon import write_webtoon
    return write_webtoon(sb.book, render, folder / f"{name}-webtoon", sb.meta)


def export_scene(studio: Any, record: Any, fmt: str, page_format: str | None = None,
                 into: Path | None = None) -> ExportDone:
    """Export the scene as `fmt` into the library, recorded as a completed "pages" job with what made it; a
    failure is recorded as a failed one and raised as BackendError. With `into`, the file is only written into
    that folder: no library file, no job (a failure is still a BackendError without internals)."""
    try:
        check_export_format(fmt)
        if page_format:
            check_page_format(page_format)
    except ExportError as err:
        raise BackendError(err.message) from None
    sb = scene_book(studio, record, page_format)
    if into is not None:
        return _export_into(sb, fmt, record, Path(into))
    from backend.scenes.make import sha256_of
    inputs = {"scene": record.title, "scene_id": record.id, "script": record.script, "format": fmt,
              "page_format": sb.book.format.name, "pages": len(sb.book.pages), "panels": sb.book.panel_count,
              "balloons": sum(len(p.balloons) for p in sb.book.pages), "layout": sb.layout,
              "lettering": sb.lettering, "media": [str(p) for p in sb.art.values()],
              "made_by": _made_by(studio, sb.art)}
    rec = JobRecord(id=f"{ACTION}-" + uuid.uuid4().hex[:16], endpoint="studio", action=ACTION, inputs=inputs,
                    status="running", created_at=time.time(), started_at=time.time(),
                    preview=getattr(studio, "mode", None) == "preview")
    studio.history_db.save(rec)
    tmp = Path(tempfile.mkdtemp(prefix="pages-export-", dir=Path(studio.library.root) / "tmp"))
    try:
        done = write(sb, fmt, tmp)
        files = list(done.paths)
        if fmt == "webtoon":
            files = [_zip_slices(files, tmp / f"{slug(record.title)}-webtoon.zip")] + files
        outs = []
        for k, f in enumerate(files):
            digest = sha256_of(str(f))
            dest = Path(studio.library.outputs) / f"{digest[:16]}-{rec.id}-{k:03d}{f.suffix}"
            shutil.copyfile(f, dest)
            kind = "image" if f.suffix == ".jpg" else "document"
            outs.append({"type": kind, "path": str(dest), "mime": "image/jpeg" if kind == "image" else MIME[fmt],
                         "size": dest.stat().st_size, "sha256": digest, "filename": f.name})
    except Exception as exc:
        msg = _failure(exc, fmt, record)
        studio.history_db.save(rec.copy(status="failed", finished_at=time.time(),
                                        error={"code": "export_failed", "message": msg}))
        raise BackendError(f"The {fmt} export failed: {msg}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    now = time.time()
    rec = rec.copy(status="completed", finished_at=now, execution_ms=int((now - rec.started_at) * 1000),
                   outputs=outs, warnings=list(done.notes))
    studio.history_db.save(rec)
    from backend.scenes.make import download_names
    path = download_names(studio, record.title, [outs[0]["path"]])[0]
    return ExportDone(rec, path, done.notes)


def _export_into(sb: SceneBook, fmt: str, record: Any, folder: Path) -> ExportDone:
    """The export written into `folder` only (the webtoon's slices zipped beside them), nothing recorded."""
    try:
        done = write(sb, fmt, folder)
        path = Path(done.paths[0])
        if fmt == "webtoon":
            path = _zip_slices(list(done.paths), folder / f"{slug(record.title)}-webtoon.zip")
    except Exception as exc:
        raise BackendError(f"The {fmt} export failed: {_failure(exc, fmt, record)}") from None
    return ExportDone(None, str(path), done.notes)


def _failure(exc: Exception, fmt: str, record: Any) -> str:
    """What a person is told of a failed export: no server path or internal detail (the log has them)."""
    if isinstance(exc, (ExportError, BackendError)):
        return exc.message
    log.exception("the %s export of scene %s failed", fmt, record.id)
    return f"an unexpected {type(exc).__name__} (the studio's log has the details)"


def _zip_slices(slices: list[Path], dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for p in slices:
            z.write(p, p.name, compress_type=zipfile.ZIP_STORED)
    return dest


def _made_by(studio: Any, art: dict[int, Path]) -> list[str]:
    """The jobs whose images the book shows (one pass over the image jobs, however many panels)."""
    from backend.scenes.plan import OUTPUT_KIND
    wanted = {str(p) for p in art.values()}
    ids = set()
    for action in (a for a, kind in OUTPUT_KIND.items() if kind == "image"):
        for rec in studio.history(action=action, status="completed", limit=2000):
            if any(o.get("path") in wanted for o in rec.outputs or []):
                ids.add(rec.id)
    return sorted(ids)


def page_images(studio: Any, record: Any, page_format: str | None = None, ppi: float = 110,
                into: Path | None = None) -> tuple[list[str], dict[str, Any], tuple[str, ...]]:
    """The scene's pages as PNG files (for the studio and the named API) and the page model as JSON: in the
    library's downloads (replacing the scene's last ones at that format), or only in the folder `into`."""
    from backend.pages.book import to_json
    sb = scene_book(studio, record, page_format)
    folder = Path(into) if into is not None else \
        Path(studio.library.root) / "downloads" / f"pages-{record.id}-{sb.book.format.name}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    render = page_renderer(sb, ppi)
    paths = []
    for page, name in zip(sb.book.pages, page_names(len(sb.book.pages), "png")):
        im = render(page)
        im.save(folder / name)
        im.close()
        paths.append(str(folder / name))
    model = to_json(sb.book)
    (folder / "book.json").write_text(json.dumps(model, indent=1))
    return paths, model, tuple(sb.book.warnings)


__all__ = ["EXPORT_FORMATS", "SceneBook", "scene_book", "export_scene", "page_images", "page_settings",
           "save_page_settings", "write", "ExportDone"]
