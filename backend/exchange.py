"""The whole studio as one .zip: the library's media, and the journal of every job, voice and comment.

Import merges into another data folder without duplicates: media are named by content, so a file already there
is kept; rows are merged by id (a later state of a job wins). An export is data from outside: its directory is
bounded before anything is read (backend/zipguard.py), every media entry must be a file the studio makes (sniffed
by its bytes, with a matching name), and every row is rebuilt field by field from our own models, its file
references mapped to files of the same export in this library's outputs/inputs (anything else is refused, naming
the entry). Nothing lands in the library until the whole export passed.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from backend import imported as chk
from backend.journal import Journal, write_json_atomic
from backend.recovery import open_history
from backend.zipguard import Budget, ZipLimits, ZipRefused, extract_media, open_checked, read_json

MANIFEST = "studio-export.json"
FOLDERS = ("outputs", "inputs", "meta")
MEDIA_FOLDERS = ("outputs", "inputs")
KINDS = ("jobs", "voices", "comments", "cast", "scenes")
LIMITS = ZipLimits(max_entries=100_000, max_total_bytes=50_000_000_000)
_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,150}$")     # how the library names its files


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
                if p.is_file() and not p.is_symlink() and not p.name.startswith(".tmp-"):
                    # Media go in stored: they are compressed already, and an importer refuses entries that expand
                    # like a bomb (a silent WAV deflates a thousandfold).
                    z.write(p, f"library/{rel}",
                            compress_type=zipfile.ZIP_DEFLATED if folder == "meta" else zipfile.ZIP_STORED)
                    counts[folder] += 1
        z.writestr(MANIFEST, json.dumps({"library": str(lib), "counts": counts}))
    return counts


def import_zip(src: Path, data_dir: Path, limits: ZipLimits = LIMITS) -> dict[str, int]:
    """Merge a studio export in. ValueError (ZipRefused) with a sentence naming the entry when it is refused."""
    lib = data_dir / "library"
    for d in (*MEDIA_FOLDERS, "tmp", "meta"):
        (lib / d).mkdir(parents=True, exist_ok=True)
    lib = lib.resolve()
    budget = Budget(limits.max_total_bytes)
    with open_checked(src, limits, "a studio export") as z, \
            tempfile.TemporaryDirectory(dir=lib / "tmp", prefix="studio-import-") as tmp:
        try:
            manifest = read_json(z, MANIFEST, limits, budget)
        except KeyError:
            raise ZipRefused(f"is not a studio export (it has no {MANIFEST})") from None
        old = manifest.get("library") if isinstance(manifest, dict) else None
        if not isinstance(old, str):
            raise ZipRefused(f"the entry {MANIFEST!r} does not name the exporting library")
        staged: dict[str, tuple[Path, str | None]] = {}     # "outputs/<name>" → (staged file, mime or None)
        rows: dict[str, list[tuple[str, Any]]] = {k: [] for k in KINDS}
        sidecars: dict[str, tuple[str, Any]] = {}
        for info in z.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.is_dir() or parts[:1] != ("library",) or len(parts) < 3:
                continue                                   # not part of the layout: never read, never written
            if parts[1] in MEDIA_FOLDERS:
                if len(parts) != 3 or not _FILE.match(parts[2]):
                    raise ZipRefused(f"the entry {info.filename!r} is not a file name the studio writes")
                if parts[2].endswith(".json"):         # a provenance sidecar: data about a file beside it
                    sidecars[f"{parts[1]}/{parts[2]}"] = (info.filename, read_json(z, info.filename, limits, budget))
                    continue
                f, mt = extract_media(z, info, Path(tmp), limits, budget, subtitles=parts[1] == "outputs")
                staged[f"{parts[1]}/{parts[2]}"] = (f, mt.mime if mt else None)
            elif parts[1] == "meta" and len(parts) == 4 and parts[2] in KINDS and parts[3].endswith(".json"):
                rows[parts[2]].append((info.filename, read_json(z, info.filename, limits, budget)))
        refs = _Refs(old, lib, staged)
        for rel, (entry, side) in sidecars.items():
            if rel.removesuffix(".json") not in staged or not isinstance(side, dict):
                raise ZipRefused(f"the entry {entry!r} is not the record of a media file of this export")
            # It names files library-relative; a server path in it is dropped, not kept (it is only a record).
            sidecars[rel] = (entry, chk.json_shaped(side, entry, lambda v, w: None))
        clean = {kind: [_REBUILD[kind](row, entry, refs) for entry, row in found] for kind, found in rows.items()}
        added = {"files": 0, "kept": 0}
        for rel, (f, _) in staged.items():
            target = lib / rel
            if target.exists():
                added["kept"] += 1
                f.unlink()
            else:
                os.replace(f, target)
                added["files"] += 1
        for rel, (_, side) in sidecars.items():
            if not (lib / rel).exists():
                write_json_atomic(lib / rel, side)
        incoming = Journal(Path(tmp) / "meta")
        for kind, found in clean.items():
            for row in found:
                incoming.put(kind, str(row["id"] if "id" in row else row["name"]), row)
        mine = Journal(lib / "meta")
        opened = open_history(data_dir, mine)
        try:
            taken = opened.history.merge_from_journal(incoming, mirror=True)
        finally:
            opened.history.close()
        # The cast and the scenes: rows this studio lacks (by id) are added, its own are left as they are.
        from backend.cast import Cast
        from backend.library import Library
        from backend.scenes.store import SceneStore
        have = {k: {r.get("id") for r in mine.rows(k)} for k in ("cast", "scenes")}
        for kind in have:
            for row in incoming.rows(kind):
                if row["id"] not in have[kind]:
                    mine.put(kind, row["id"], row)
        cast = Cast(data_dir / "studio.sqlite3", Library(lib), journal=mine)
        scenes = SceneStore(data_dir / "studio.sqlite3", journal=mine)
        try:
            taken["cast"], taken["scenes"] = cast.restore(mine.rows("cast")), scenes.restore(mine.rows("scenes"))
        finally:
            cast.close()
            scenes.close()
    return {**added, **taken}


class _Refs:
    """File references of the export's rows → paths of this library, only for files of the same export."""

    def __init__(self, old_root: str, lib: Path, staged: dict[str, tuple[Path, str | None]]):
        self.old, self.lib, self.staged = old_root.rstrip("/"), lib, staged

    def __call__(self, value: Any, where: str, kind: str | None = None) -> str:
        if not isinstance(value, str) or not value:
            raise ZipRefused(f"{where} must name a file of the export")
        rel = value[len(self.old) + 1:] if self.old and value.startswith(self.old + "/") else value
        parts = PurePosixPath(rel).parts
        if (rel.startswith("/") or len(parts) != 2 or parts[0] not in MEDIA_FOLDERS or rel not in self.staged
                or PurePosixPath(*parts).as_posix() != rel):
            raise ZipRefused(f"{where} names {value!r}, which is not a file of this export")
        mime = self.staged[rel][1]
        if kind and not (mime or "subtitles").startswith(kind):
            raise ZipRefused(f"{where} names {rel!r}, which is not {'an' if kind == 'image' else 'a'} {kind} file")
        return str(self.lib / rel)

    def image(self, value: Any, where: str) -> str:
        return self(value, where, "image")

    def audio(self, value: Any, where: str) -> str:
        return self(value, where, "audio")

    def optional(self, check):
        return lambda v, w: None if v in (None, "") else check(v, w)


def _job(row: Any, entry: str, refs: _Refs) -> dict[str, Any]:
    from backend.records import STATUSES
    if not isinstance(row, dict):
        raise ZipRefused(f"the entry {entry!r} is not a job record")
    w = f"{entry}:"
    status = row.get("status")
    if status not in STATUSES:
        raise ZipRefused(f"{w} status {status!r} is not one of {', '.join(STATUSES)}")
    outputs = row.get("outputs") or []
    if not isinstance(outputs, list) or len(outputs) > 100:
        raise ZipRefused(f"{w} outputs must be a list of at most 100 files")
    outs = []
    for i, o in enumerate(outputs):
        kind = o.get("type") if isinstance(o, dict) else None
        if kind not in ("image", "audio", "video", "subtitles"):
            raise ZipRefused(f"{w} outputs[{i}].type must be image, audio, video or subtitles")
        out = chk.scalars({k: v for k, v in o.items() if k != "path"}, f"{w} outputs[{i}]")
        out["path"] = refs(o.get("path"), f"{w} outputs[{i}].path", None if kind == "subtitles" else kind)
        outs.append(out)
    warnings = row.get("warnings") or []
    if not isinstance(warnings, list):
        raise ZipRefused(f"{w} warnings must be a list")
    return {"id": chk.ident(row.get("id"), f"{w} id"), "endpoint": chk.text(row.get("endpoint"), f"{w} endpoint", 200),
            "action": chk.text(row.get("action"), f"{w} action", 100),
            "inputs": chk.json_shaped(row.get("inputs") or {}, f"{w} inputs", refs),
            "status": status, "remote_id": chk.text(row.get("remote_id"), f"{w} remote_id", 200, optional=True),
            "created_at": chk.number(row.get("created_at") or 0.0, f"{w} created_at"),
            **{k: chk.number(row.get(k), f"{w} {k}", optional=True)
               for k in ("started_at", "finished_at", "cost_usd")},
            **{k: chk.number(row.get(k), f"{w} {k}", optional=True, integer=True)
               for k in ("delay_ms", "execution_ms", "seed")},
            "outputs": outs,
            **{k: chk.json_shaped(row.get(k), f"{w} {k}") if row.get(k) is not None else None
               for k in ("error", "progress", "licence")},
            "preview": row.get("preview") if isinstance(row.get("preview"), bool) else None,
            "warnings": [chk.text(x, f"{w} warnings", 2000) for x in warnings[:100]],
            "policy": chk.scalars(row.get("policy") or {}, f"{w} policy")}


def _voice(row: Any, entry: str, refs: _Refs) -> dict[str, Any]:
    from backend.voices import _NAME
    if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not _NAME.match(row["name"]):
        raise ZipRefused(f"the entry {entry!r} is not a voice record with a valid name")
    return {"name": row["name"], "audio_path": refs.audio(row.get("audio_path"), f"{entry}: audio_path"),
            "transcript": chk.text(row.get("transcript"), f"{entry}: transcript", 2000),
            "created_at": chk.number(row.get("created_at"), f"{entry}: created_at")}


def _comment(row: Any, entry: str, refs: _Refs) -> dict[str, Any]:
    from backend.history import VERDICTS
    if not isinstance(row, dict):
        raise ZipRefused(f"the entry {entry!r} is not a comment record")
    verdict = row.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise ZipRefused(f"{entry}: verdict must be one of {', '.join(VERDICTS)} or null")
    return {"id": chk.ident(row.get("id"), f"{entry}: id"), "target": chk.text(row.get("target"), f"{entry}: target", 200),
            "author": chk.text(row.get("author"), f"{entry}: author", 200),
            "text": chk.text(row.get("text"), f"{entry}: text", 10_000), "verdict": verdict,
            "created_at": chk.number(row.get("created_at"), f"{entry}: created_at")}


def _character(row: Any, entry: str, refs: _Refs) -> dict[str, Any]:
    from backend.cast import check_name, check_seed
    from backend.errors import InputError
    if not isinstance(row, dict):
        raise ZipRefused(f"the entry {entry!r} is not a cast record")
    try:
        name, seed = check_name(row.get("name")), check_seed(row.get("seed", -1))
    except InputError as err:
        raise ZipRefused(f"{entry}: {err}") from None
    return {"id": chk.ident(row.get("id"), f"{entry}: id"), "name": name,
            "look": chk.text(row.get("look") or "", f"{entry}: look", 1000),
            "portrait": refs.optional(refs.image)(row.get("portrait"), f"{entry}: portrait"),
            "voice": chk.text(row.get("voice"), f"{entry}: voice", 64, optional=True), "seed": seed,
            "style": chk.text(row.get("style") or "None", f"{entry}: style", 100),
            "created_at": chk.number(row.get("created_at") or 0.0, f"{entry}: created_at"),
            "updated_at": chk.number(row.get("updated_at") or 0.0, f"{entry}: updated_at")}


def _scene(row: Any, entry: str, refs: _Refs) -> dict[str, Any]:
    from backend.scenes.store import MAX_SCRIPT, MUSIC_SOURCES
    if not isinstance(row, dict):
        raise ZipRefused(f"the entry {entry!r} is not a scene record")
    title = chk.text(row.get("title"), f"{entry}: title", 120)
    overrides = row.get("overrides") or {}
    if not isinstance(overrides, dict) or len(overrides) > 2000:
        raise ZipRefused(f"{entry}: overrides must be an object of at most 2000 shots")
    music = chk.scalars(row.get("music") or {"source": "script"}, f"{entry}: music",
                        {"path": refs.optional(refs.audio)})
    if music.get("source", "script") not in MUSIC_SOURCES:
        raise ZipRefused(f"{entry}: music.source must be one of {', '.join(MUSIC_SOURCES)}")
    render = chk.scalars(row.get("render"), f"{entry}: render", {k: refs.optional(refs) for k in ("mp4", "srt", "vtt")},
                         optional=True)
    return {"id": chk.ident(row.get("id"), f"{entry}: id"), "title": title,
            "script": chk.text(row.get("script") or "", f"{entry}: script", MAX_SCRIPT),
            "overrides": {chk.text(k, f"{entry}: overrides", 20): chk.scalars(
                o, f"{entry}: overrides.{k}", {"image": refs.optional(refs.image)}) for k, o in overrides.items()},
            "settings": chk.scalars(row.get("settings") or {}, f"{entry}: settings"), "music": music,
            "render": render, "created_at": chk.number(row.get("created_at") or 0.0, f"{entry}: created_at"),
            "updated_at": chk.number(row.get("updated_at") or 0.0, f"{entry}: updated_at")}


_REBUILD = {"jobs": _job, "voices": _voice, "comments": _comment, "cast": _character, "scenes": _scene}
