"""A scene as one .zip that another studio (another data folder) can import.

Layout: `scene.json` (title, script, overrides, render settings, music — media as `media/<sha256>.<ext>`),
`cast.json` (the characters the script names, their portrait and their voice's recording and transcript),
`made.json` + `media/` (what "make what's missing" already made for the scene, by content key — the keys hash
media by content, so they hold in the other studio too and nothing is made twice), and `media/*`.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from backend import imported as chk
from backend.errors import BackendError, InputError
from backend.exports import export_folder, inside
from backend.scenes.store import SceneRecord
from backend.zipguard import Budget, ZipLimits, ZipRefused, extract_media, open_checked, read_json

FORMAT = "graphic-novel-studio/scene@1"
MAX_ZIP_BYTES = 2_000_000_000
LIMITS = ZipLimits(max_entries=5_000, max_total_bytes=8_000_000_000)
_MEDIA = re.compile(r"^media/[0-9a-f]{64}\.[a-z0-9]{2,5}$")


class _Packer:
    """Adds the library files a record names; anything else a record might name (outside the library's outputs
    and inputs, a link) is left out, so an export can never carry a server file."""

    def __init__(self, zf: zipfile.ZipFile, library: Any):
        self.zf, self.names = zf, set()
        self.folders = (library.outputs, library.inputs)

    def add(self, path: str | None) -> str | None:
        real = inside(path, *self.folders) if path else None
        if real is None:
            return None
        from backend.scenes.make import sha256_of
        name = f"media/{sha256_of(str(real))}{real.suffix.lower() or '.bin'}"
        if name not in self.names:
            # Stored: media are compressed already, and an importer refuses entries that expand like a bomb.
            self.zf.write(real, name, compress_type=zipfile.ZIP_STORED)
            self.names.add(name)
        return name


def export_scene(studio: Any, scene_id: str) -> str:
    """Write the scene's .zip into a fresh export folder (backend/exports.py); returns its path. A file that
    cannot be read or written is a BackendError naming no server folder."""
    try:
        return _export_scene(studio, scene_id)
    except OSError:
        raise BackendError("The scene could not be exported: a file of it could not be read or written.") from None


def _export_scene(studio: Any, scene_id: str) -> str:
    from backend.scenes import make as M

    rec = studio.scenes.get(scene_id)
    if rec is None:
        raise InputError("scene", f"no scene {scene_id!r}")
    work = M.load(studio, rec)
    names = list(work.scene.characters) if work.scene else [c.name for c in studio.cast.list()
                                                               if re.search(rf"(?im)^\s*{re.escape(c.name)}\s*$",
                                                                            rec.script)]
    safe = re.sub(r"[^\w-]+", "-", rec.title).strip("-")[:60] or "scene"
    out_dir = export_folder(studio.library.root)
    out = out_dir / f"{safe}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        pk = _Packer(zf, studio.library)
        cast = []
        for name in names:
            c = studio.cast.get(name)
            if c is None:
                continue
            v = studio.voices.get(c.voice) if c.voice else None
            cast.append({"name": c.name, "look": c.look, "seed": c.seed, "style": c.style,
                         "portrait": pk.add(c.portrait), "likeness": c.likeness,
                         "reference": pk.add(c.reference) if c.reference else None,
                         "voice": {"name": v.name, "transcript": v.transcript, "audio": pk.add(v.audio_path)}
                         if v else None})
        overrides = {k: {**o, **({"image": pk.add(o["image"])} if o.get("image") else {})}
                     for k, o in rec.overrides.items()}
        music = dict(rec.music or {})
        if music.get("path"):
            music["path"] = pk.add(music["path"])
        made = []
        for st in work.settled.values():
            if st.state == "ready" and st.key and st.output:
                made.append({"key": st.key, "action": st.step.action, "type": st.step.kind,
                             "file": pk.add(st.output)})
        zf.writestr("scene.json", json.dumps({"format": FORMAT, "title": rec.title, "script": rec.script,
                                              "overrides": overrides, "settings": rec.settings, "music": music},
                                             indent=1))
        zf.writestr("cast.json", json.dumps(cast, indent=1))
        zf.writestr("made.json", json.dumps(made, indent=1))
    return str(out)


def import_scene(studio: Any, zip_path: str, limits: ZipLimits = LIMITS) -> tuple[SceneRecord, list[str]]:
    """Add the scene (and the cast members and voices it needs that this studio lacks). Returns the new scene
    and notes for a person (e.g. "Mara was already in the cast; kept yours"). The zip is data from outside:
    bounded before it is read, each record rebuilt field by field, each media entry sniffed (backend/zipguard.py);
    a refusal is an InputError naming the entry."""
    p = Path(zip_path)
    if not p.is_file() or not zipfile.is_zipfile(p):
        raise InputError("file", "is not a .zip exported by a studio's Scenes tab")
    if p.stat().st_size > MAX_ZIP_BYTES:
        raise InputError("file", f"is over {MAX_ZIP_BYTES // 1_000_000} MB")
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="scene-import-", dir=Path(studio.library.root) / "tmp"))
    budget = Budget(limits.max_total_bytes)
    try:
        with open_checked(p, limits, "a scene export") as zf:
            try:
                meta = read_json(zf, "scene.json", limits, budget)
                cast = read_json(zf, "cast.json", limits, budget)
                made = read_json(zf, "made.json", limits, budget) if "made.json" in zf.namelist() else []
            except (KeyError, ZipRefused):
                raise InputError("file", "has no readable scene.json / cast.json (is it a scene export?)") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                shown = meta.get("format") if isinstance(meta, dict) else None
                raise InputError("file", f"is format {shown!r}; this studio reads {FORMAT}")
            if not isinstance(cast, list) or not isinstance(made, list) or len(cast) > 500 or len(made) > 10_000:
                raise InputError("file", "cast.json and made.json must be lists (at most 500 characters, "
                                         "10000 made files)")
            kept: dict[str, str] = {}

            def media(name: Any, field: str, kind: str) -> str | None:
                """An entry of the zip, kept in this studio's library (checked by its bytes, like an upload)."""
                if not name:
                    return None
                if not isinstance(name, str) or not _MEDIA.match(name) or name not in zf.namelist():
                    raise InputError(field, f"names {str(name)[:200]!r}, which is not a media file of the export")
                if name not in kept:
                    dest, mt = extract_media(zf, zf.getinfo(name), tmp, limits, budget)
                    kept[name], _ = studio.library.keep_input(field, str(dest))
                    dest.unlink(missing_ok=True)
                if not kind_of(kept[name]).startswith(kind):
                    raise InputError(field, f"names {name!r}, which is not {'an' if kind == 'image' else 'a'} "
                                            f"{kind} file")
                return kept[name]

            rows = [_cast_row(c, i) for i, c in enumerate(cast)]
            for c in rows:
                voice_name = None
                v = c["voice"]
                if v:
                    have = studio.voices.get(v["name"])
                    if have is None:
                        recording = media(v["audio"], "voice", "audio")
                        if recording is None:
                            raise InputError("voice", f"“{v['name']}” has no recording in the export")
                        studio.voices.save(v["name"], recording, v["transcript"])
                    else:
                        notes.append(f"The voice “{v['name']}” was already here; kept this studio's.")
                    voice_name = v["name"]
                if studio.cast.get(c["name"]) is not None:
                    notes.append(f"{c['name']} was already in the cast; kept this studio's character.")
                    continue
                studio.cast.save(c["name"], look=c["look"], portrait=media(c["portrait"], "portrait", "image"),
                                 voice=voice_name, seed=c["seed"], style=c["style"], likeness=c["likeness"],
                                 reference=media(c["reference"], "reference", "image"))
            overrides = {}
            raw_overrides = meta.get("overrides") or {}
            if not isinstance(raw_overrides, dict) or len(raw_overrides) > 2000:
                raise InputError("overrides", "must be an object of at most 2000 shots")
            for k, o in raw_overrides.items():
                o = _checked(chk.scalars, o, f"overrides.{k}", {"image": lambda v, w: v})
                if o.get("image"):
                    o["image"] = media(o["image"], "image", "image")
                overrides[str(k)[:20]] = o
            music = _checked(chk.scalars, meta.get("music") or {"source": "script"}, "music", {"path": lambda v, w: v})
            if music.get("path"):
                music["path"] = media(music["path"], "music", "audio")
            settings = _checked(chk.scalars, meta.get("settings") or {}, "settings")
            for m in made:
                if not isinstance(m, dict) or not isinstance(m.get("key"), str) or len(m["key"]) > 200:
                    raise InputError("made", "each entry must be an object with a content key")
                kind = m.get("type") if m.get("type") in ("image", "audio", "video") else None
                if kind is None:
                    raise InputError("made", "each entry's type must be image, audio or video")
                path = media(m.get("file"), "made", kind)
                if path:
                    studio.scenes.remember(m["key"], _checked(chk.text, m.get("action"), "made.action", 100),
                                           "imported", [{"type": kind, "path": path}])
            title = _checked(chk.text, meta.get("title") or "Imported scene", "title", 120)
            script = _checked(chk.text, meta.get("script") or "", "script", 200_000)
        if studio.scenes.find(title) is not None:
            title = f"{title} (imported)"
        rec = studio.scenes.save(SceneRecord(id="", title=title, script=script, overrides=overrides,
                                             settings=settings, music=music))
        return rec, notes
    except BackendError:
        raise
    except ZipRefused as exc:
        raise InputError("file", str(exc)) from None
    except (OSError, zipfile.BadZipFile):
        raise InputError("file", "could not be read as a scene export") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def kind_of(path: str) -> str:
    from backend.library import _inspect
    mt, _, _ = _inspect(Path(path))
    return mt.mime if mt else ""


def _checked(check: Any, value: Any, field: str, *args: Any) -> Any:
    """A field of scene.json through one of backend.imported's checks; its refusal as an InputError."""
    try:
        return check(value, field, *args)
    except ZipRefused as exc:
        raise InputError(field, str(exc).removeprefix(f"{field} ")) from None


def _cast_row(c: Any, i: int) -> dict[str, Any]:
    w = f"cast[{i}]"
    if not isinstance(c, dict):
        raise InputError("cast", f"entry {i} is not a character")
    v = c.get("voice")
    if v is not None and not (isinstance(v, dict) and isinstance(v.get("name"), str)):
        raise InputError(f"{w}.voice", "must be an object with a name, a recording and a transcript")
    return {"name": _checked(chk.text, c.get("name"), f"{w}.name", 48),
            "look": _checked(chk.text, c.get("look") or "", f"{w}.look", 1000),
            "seed": c.get("seed", -1), "style": _checked(chk.text, c.get("style") or "None", f"{w}.style", 100),
            "portrait": c.get("portrait"), "reference": c.get("reference"),
            "likeness": c.get("likeness") if isinstance(c.get("likeness"), (int, float)) else None,
            "voice": None if v is None else {"name": v["name"][:64], "audio": v.get("audio"),
                                             "transcript": _checked(chk.text, v.get("transcript") or "",
                                                                    f"{w}.voice.transcript", 2000)}}
