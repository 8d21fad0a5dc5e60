"""The whole studio as one .zip: the library's media, and the journal of every job, voice and comment.

Import merges into another data folder without duplicates: media are named by content, so a file already there
is kept; rows are merged by id (a later state of a job wins). Paths inside the rows are rewritten from the
exporting studio's library folder to the importing one's.
"""
from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from backend.journal import Journal
from backend.recovery import open_history

MANIFEST = "studio-export.json"
FOLDERS = ("outputs", "inputs", "meta")


# What a reviewer's export leaves out: the inputs (actors' reference recordings, uploaded images and tracks) and
# the voice library's rows that name those recordings.
REVIEWER_LEAVES_OUT = ("inputs", "meta/voices")


def export_zip(data_dir: Path, dest: Path, leave_out: tuple[str, ...] = ()) -> dict[str, int]:
    """`leave_out`: library-relative folders (posix) whose files stay out of the zip."""
    lib = (data_dir / "library").resolve()
    counts = {f: 0 for f in FOLDERS}
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for folder in FOLDERS:
            root = lib / folder
            if not root.is_dir():
                continue
            for p in sorted(root.rglob("*")):
                rel = p.relative_to(lib).as_posix()
                if any(rel == d or rel.startswith(d + "/") for d in leave_out):
                    continue
                if p.is_file() and not p.name.startswith(".tmp-"):
                    z.write(p, f"library/{p.relative_to(lib).as_posix()}")
                    counts[folder] += 1
        z.writestr(MANIFEST, json.dumps({"library": str(lib), "counts": counts}))
    return counts


def import_zip(src: Path, data_dir: Path) -> dict[str, int]:
    lib = (data_dir / "library").resolve()
    added = {"files": 0, "kept": 0}
    with zipfile.ZipFile(src) as z, tempfile.TemporaryDirectory() as tmp:
        try:
            manifest = json.loads(z.read(MANIFEST))
        except KeyError:
            raise ValueError(f"{src.name} is not a studio export (it has no {MANIFEST})") from None
        old, new = (json.dumps(str(p))[1:-1] for p in (manifest["library"], lib))
        incoming = Path(tmp)
        for info in z.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.parts[:1] != ("library",) or ".." in name.parts or len(name.parts) < 3:
                continue
            data = z.read(info)
            if name.suffix == ".json":          # rows and sidecars name files by path: point them here
                data = data.decode("utf-8").replace(old, new).encode("utf-8")
            if name.parts[1] == "meta":         # rows are merged through the history, never copied over
                target = incoming.joinpath(*name.parts[2:])
            else:
                target = lib.joinpath(*name.parts[1:])
                if target.exists():
                    added["kept"] += 1
                    continue
                added["files"] += 1
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        mine = Journal(lib / "meta")
        opened = open_history(data_dir, mine)
        try:
            taken = opened.history.merge_from_journal(Journal(incoming), mirror=True)
        finally:
            opened.history.close()
        # The cast and the scenes: rows this studio lacks (by id) are added, its own are left as they are.
        from backend.cast import Cast
        from backend.library import Library
        from backend.scenes.store import SceneStore
        have = {k: {r.get("id") for r in mine.rows(k)} for k in ("cast", "scenes")}
        for kind in have:
            for row in Journal(incoming).rows(kind):
                if row.get("id") and row["id"] not in have[kind]:
                    mine.put(kind, row["id"], row)
        cast = Cast(data_dir / "studio.sqlite3", Library(lib), journal=mine)
        scenes = SceneStore(data_dir / "studio.sqlite3", journal=mine)
        try:
            taken["cast"], taken["scenes"] = cast.restore(mine.rows("cast")), scenes.restore(mine.rows("scenes"))
        finally:
            cast.close()
            scenes.close()
    return {**added, **taken}
