"""A scene as one .zip that another studio (another data folder) can import.

Layout: `scene.json` (title, script, overrides, render settings, music — media as `media/<sha256>.<ext>`),
`cast.json` (the characters the script names, their portrait and their voice's recording and transcript),
`made.json` + `media/` (what "make what's missing" already made for the scene, by content key — the keys hash
media by content, so they hold in the other studio too and nothing is made twice), and `media/*`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from backend.errors import BackendError, InputError
from backend.scenes.store import SceneRecord

FORMAT = "graphic-novel-studio/scene@1"
MAX_ZIP_BYTES = 2_000_000_000
_MEDIA = re.compile(r"^media/[0-9a-f]{64}\.[a-z0-9]{2,5}$")


class _Packer:
    def __init__(self, zf: zipfile.ZipFile):
        self.zf, self.names = zf, set()

    def add(self, path: str | None) -> str | None:
        if not path or not os.path.isfile(path):
            return None
        from backend.scenes.make import sha256_of
        name = f"media/{sha256_of(path)}{Path(path).suffix.lower() or '.bin'}"
        if name not in self.names:
            self.zf.write(path, name)
            self.names.add(name)
        return name


def export_scene(studio: Any, scene_id: str) -> str:
    """Write the scene's .zip into the library's tmp folder; returns its path."""
    from backend.scenes import make as M

    rec = studio.scenes.get(scene_id)
    if rec is None:
        raise InputError("scene", f"no scene {scene_id!r}")
    work = M.load(studio, rec)
    names = list(work.scene.characters) if work.scene else [c.name for c in studio.cast.list()
                                                               if re.search(rf"(?im)^\s*{re.escape(c.name)}\s*$",
                                                                            rec.script)]
    safe = re.sub(r"[^\w-]+", "-", rec.title).strip("-")[:60] or "scene"
    out_dir = Path(tempfile.mkdtemp(prefix="scene-export-", dir=Path(studio.library.root) / "tmp"))
    out = out_dir / f"{safe}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        pk = _Packer(zf)
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


def import_scene(studio: Any, zip_path: str) -> tuple[SceneRecord, list[str]]:
    """Add the scene (and the cast members and voices it needs that this studio lacks). Returns the new scene
    and notes for a person (e.g. "Mara was already in the cast; kept yours")."""
    p = Path(zip_path)
    if not p.is_file() or not zipfile.is_zipfile(p):
        raise InputError("file", "is not a .zip exported by a studio's Scenes tab")
    if p.stat().st_size > MAX_ZIP_BYTES:
        raise InputError("file", f"is over {MAX_ZIP_BYTES // 1_000_000} MB")
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="scene-import-", dir=Path(studio.library.root) / "tmp"))
    try:
        with zipfile.ZipFile(p) as zf:
            try:
                meta = json.loads(zf.read("scene.json"))
                cast = json.loads(zf.read("cast.json"))
                made = json.loads(zf.read("made.json")) if "made.json" in zf.namelist() else []
            except (KeyError, ValueError):
                raise InputError("file", "has no readable scene.json / cast.json (is it a scene export?)") from None
            if meta.get("format") != FORMAT:
                raise InputError("file", f"is format {meta.get('format')!r}; this studio reads {FORMAT}")

            def media(name: str | None, field: str) -> str | None:
                """An entry of the zip, kept in this studio's library (checked by its bytes, like an upload)."""
                if not name:
                    return None
                if not _MEDIA.match(name) or name not in zf.namelist():
                    raise InputError(field, f"names {name!r}, which is not a media file of the export")
                dest = tmp / Path(name).name
                with zf.open(name) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                path, _ = studio.library.keep_input(field, str(dest))
                return path

            for c in cast:
                voice_name = None
                v = c.get("voice")
                if v:
                    have = studio.voices.get(v["name"])
                    if have is None:
                        studio.voices.save(v["name"], media(v["audio"], "voice"), v.get("transcript") or "")
                    else:
                        notes.append(f"The voice “{v['name']}” was already here; kept this studio's.")
                    voice_name = v["name"]
                if studio.cast.get(c["name"]) is not None:
                    notes.append(f"{c['name']} was already in the cast; kept this studio's character.")
                    continue
                studio.cast.save(c["name"], look=c.get("look", ""), portrait=media(c.get("portrait"), "portrait"),
                                 voice=voice_name, seed=c.get("seed", -1), style=c.get("style", "None"),
                                 likeness=c.get("likeness"),
                                 reference=media(c.get("reference"), "reference"))
            overrides = {}
            for k, o in (meta.get("overrides") or {}).items():
                o = dict(o)
                if o.get("image"):
                    o["image"] = media(o["image"], "image")
                overrides[str(k)] = o
            music = dict(meta.get("music") or {"source": "script"})
            if music.get("path"):
                music["path"] = media(music["path"], "music")
            for m in made:
                path = media(m.get("file"), "made")
                if path and isinstance(m.get("key"), str):
                    studio.scenes.remember(m["key"], m["action"], "imported",
                                           [{"type": m.get("type"), "path": path}])
        title = str(meta.get("title") or "Imported scene")
        if studio.scenes.find(title) is not None:
            title = f"{title} (imported)"
        rec = studio.scenes.save(SceneRecord(id="", title=title, script=str(meta.get("script") or ""),
                                             overrides=overrides, settings=dict(meta.get("settings") or {}),
                                             music=music))
        return rec, notes
    except BackendError:
        raise
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError("file", f"could not be read ({type(exc).__name__})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
