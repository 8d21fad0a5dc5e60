"""Scenes as rows in the studio's SQLite: the script, per-shot overrides, render and music settings, the last
render; and the index of what "make what's missing" already made, by content key.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend.cast import connect
from backend.errors import InputError
from backend.scenes.model import MAX_SCRIPT

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenes (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, script TEXT NOT NULL, overrides TEXT NOT NULL, settings TEXT NOT NULL,
  music TEXT NOT NULL, render TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS scene_made (
  key TEXT PRIMARY KEY, action TEXT NOT NULL, job_id TEXT NOT NULL, outputs TEXT NOT NULL, made_at REAL NOT NULL);
"""
_JSON = ("overrides", "settings", "music", "render")
MUSIC_SOURCES = ("script", "none", "job", "library", "upload")


@dataclass
class SceneRecord:
    id: str
    title: str
    script: str = ""
    # {shot number as a string: {"image": library path, "engine": "animatelcm"|"svd"|"none", "duration": s}}
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)    # render settings (aspect, resolution, fps, ...)
    # {"source": one of MUSIC_SOURCES, "tags": "...", "path": library path}; "script" = the [[music: …]] note
    music: dict[str, Any] = field(default_factory=lambda: {"source": "script"})
    render: dict[str, Any] | None = None     # the last render: {"mp4","srt","vtt","job_id","duration"}
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SceneStore:
    def __init__(self, db_path: Path, journal: Any = None):
        self._journal = journal         # backend.journal.Journal: a copy of each scene beside the library
        self._db = connect(db_path)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- scenes -----------------------------------------------------------------------------------------------
    def list(self) -> list[SceneRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM scenes ORDER BY updated_at DESC").fetchall()
        return [_scene(r) for r in rows]

    def get(self, scene_id: str) -> SceneRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM scenes WHERE id = ?", (scene_id,)).fetchone()
        return _scene(row) if row else None

    def find(self, title: str) -> SceneRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM scenes WHERE title = ? COLLATE NOCASE ORDER BY updated_at DESC",
                                   ((title or "").strip(),)).fetchone()
        return _scene(row) if row else None

    def save(self, rec: SceneRecord) -> SceneRecord:
        title = (rec.title or "").strip()
        if not title or len(title) > 120:
            raise InputError("title", "must be 1–120 characters")
        if len(rec.script or "") > MAX_SCRIPT:
            raise InputError("script", f"is {len(rec.script):,} characters; at most {MAX_SCRIPT:,} are allowed")
        source = (rec.music or {}).get("source", "script")
        if source not in MUSIC_SOURCES:
            raise InputError("music", f"source {source!r} is not one of {', '.join(MUSIC_SOURCES)}")
        now = time.time()
        rec.id = rec.id or uuid.uuid4().hex[:12]
        rec.title = title
        rec.created_at = rec.created_at or now
        rec.updated_at = now
        row = rec.to_dict()
        values = [json.dumps(row[k]) if k in _JSON else row[k] for k in row]
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO scenes ({','.join(row)}) VALUES ({','.join('?' * len(row))})",
                             values)
        if self._journal:
            self._journal.put("scenes", rec.id, row)
        return rec

    def restore(self, rows: Any) -> int:
        """Put back scenes kept in the journal that the database lacks (after a repaired history)."""
        n = 0
        for row in rows:
            try:
                rec = SceneRecord(**row)
            except TypeError:
                continue
            d = rec.to_dict()
            values = [json.dumps(d[k]) if k in _JSON else d[k] for k in d]
            with self._lock:
                n += self._db.execute(f"INSERT OR IGNORE INTO scenes ({','.join(d)}) VALUES "
                                      f"({','.join('?' * len(d))})", values).rowcount
        return n

    def new(self, title: str, script: str = "", **kw: Any) -> SceneRecord:
        return self.save(SceneRecord(id="", title=title, script=script, **kw))

    def delete(self, scene_id: str) -> bool:
        """The scene's row only; its media and renders stay in the library and the Jobs history."""
        if self._journal:
            self._journal.delete("scenes", scene_id)
        with self._lock:
            return self._db.execute("DELETE FROM scenes WHERE id = ?", (scene_id,)).rowcount > 0

    # -- what was made, by content ----------------------------------------------------------------------------
    def made(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM scene_made WHERE key = ?", (key,)).fetchone()
        if not row:
            return None
        return {"key": row["key"], "action": row["action"], "job_id": row["job_id"],
                "outputs": json.loads(row["outputs"])}

    def remember(self, key: str, action: str, job_id: str, outputs: list[dict[str, Any]]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO scene_made VALUES (?,?,?,?,?)",
                             (key, action, job_id, json.dumps(outputs), time.time()))

    def forget(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM scene_made WHERE key = ?", (key,))


def _scene(row: Any) -> SceneRecord:
    d = {k: row[k] for k in row.keys()}
    for k in _JSON:
        d[k] = json.loads(d[k]) if d[k] is not None else None
    d["overrides"] = d["overrides"] or {}
    d["settings"] = d["settings"] or {}
    d["music"] = d["music"] or {"source": "script"}
    return SceneRecord(**d)
