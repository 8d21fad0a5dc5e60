"""Every job as a row in SQLite (stdlib, WAL). Media inputs live in the library; rows hold their paths only.

Each write is mirrored into the library's journal (backend/journal.py) so the history can be rebuilt from the
library if the database is ever lost; `backup()` makes an online copy with SQLite's backup API.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from backend.journal import Journal
from backend.records import IN_FLIGHT, STATUSES, JobRecord

_JSON = ("inputs", "outputs", "error", "progress", "licence", "warnings", "policy")
_COLUMNS = ("id", "remote_id", "endpoint", "action", "inputs", "status", "created_at", "started_at", "finished_at",
            "delay_ms", "execution_ms", "cost_usd", "outputs", "error", "progress", "seed", "licence", "preview",
            "warnings", "policy")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, remote_id TEXT, endpoint TEXT NOT NULL, action TEXT NOT NULL, inputs TEXT NOT NULL,
  status TEXT NOT NULL, created_at REAL NOT NULL, started_at REAL, finished_at REAL, delay_ms INTEGER,
  execution_ms INTEGER, cost_usd REAL, outputs TEXT NOT NULL, error TEXT, progress TEXT, seed INTEGER,
  licence TEXT, preview INTEGER, warnings TEXT NOT NULL, policy TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at);
CREATE TABLE IF NOT EXISTS voices (
  name TEXT PRIMARY KEY, audio_path TEXT NOT NULL, transcript TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS comments (
  id TEXT PRIMARY KEY, target TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL, verdict TEXT,
  created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS comments_target ON comments(target);
"""
VERDICTS = ("approved", "needs_changes")


class History:
    """Thread-safe (one connection behind a lock): the loop thread writes, Gradio threads read."""

    def __init__(self, path: Path, journal: Journal | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.journal = journal
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def save(self, rec: JobRecord, *, mirror: bool = True) -> None:
        if rec.status not in STATUSES:
            raise ValueError(f"status {rec.status!r} is not one of {', '.join(STATUSES)}")
        row = rec.to_dict()
        values = [json.dumps(row[c]) if c in _JSON else (int(row[c]) if c == "preview" and row[c] is not None
                                                        else row[c]) for c in _COLUMNS]
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO jobs ({','.join(_COLUMNS)}) VALUES "
                             f"({','.join('?' * len(_COLUMNS))})", values)
        if self.journal and mirror:
            self.journal.put("jobs", rec.id, row)

    def backup(self, dest: Path) -> None:
        """An online, consistent copy of the database (SQLite's backup API), safe while jobs are written."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".part")
        target = sqlite3.connect(str(tmp))
        try:
            with self._lock:
                self._db.backup(target)
        finally:
            target.close()
        tmp.replace(dest)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("jobs", "voices", "comments")}

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _record(row) if row else None

    def list(self, *, action: str | None = None, status: str | None = None, limit: int = 200) -> list[JobRecord]:
        where, args = [], []
        if action:
            where.append("action = ?"); args.append(action)
        if status:
            where.append("status = ?"); args.append(status)
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created_at DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, int(limit))).fetchall()
        return [_record(r) for r in rows]

    def in_flight(self) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM jobs WHERE status IN ({','.join('?' * len(IN_FLIGHT))}) "
                                    "ORDER BY created_at", IN_FLIGHT).fetchall()
        return [_record(r) for r in rows]

    def typical_ms(self, action: str, column: str = "execution_ms", n: int = 20) -> float | None:
        """Median of the last n completed jobs of this action, for predicting when a job will end."""
        if column not in ("execution_ms", "delay_ms"):
            raise ValueError(column)
        with self._lock:
            rows = self._db.execute(f"SELECT {column} FROM jobs WHERE action = ? AND status = 'completed' AND "
                                    f"{column} IS NOT NULL ORDER BY finished_at DESC LIMIT ?", (action, n)).fetchall()
        vals = sorted(r[0] for r in rows)
        return float(vals[len(vals) // 2]) if vals else None

    # -- voices (same database, one file to back up) -----------------------------------------------------------
    def put_voice(self, name: str, audio_path: str, transcript: str, created_at: float) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO voices VALUES (?,?,?,?)", (name, audio_path, transcript,
                                                                              created_at))
        if self.journal:
            self.journal.put("voices", name, {"name": name, "audio_path": audio_path, "transcript": transcript,
                                              "created_at": created_at})

    def voice_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM voices ORDER BY name").fetchall()]

    def delete_voice(self, name: str) -> bool:
        with self._lock:
            gone = self._db.execute("DELETE FROM voices WHERE name = ?", (name,)).rowcount > 0
        if self.journal:
            self.journal.delete("voices", name)
        return gone

    # -- comments and verdicts on an output or a scene (the target is a job id or "scene:<id>") ---------------
    def add_comment(self, target: str, author: str, text: str, verdict: str | None = None,
                    *, comment_id: str | None = None, created_at: float | None = None) -> dict[str, Any]:
        if verdict is not None and verdict not in VERDICTS:
            raise ValueError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        row = {"id": comment_id or uuid.uuid4().hex, "target": target, "author": author, "text": text,
               "verdict": verdict, "created_at": created_at if created_at is not None else time.time()}
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO comments VALUES (:id,:target,:author,:text,:verdict,"
                             ":created_at)", row)
        if self.journal:
            self.journal.put("comments", row["id"], row)
        return row

    def comments(self, target: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM comments" + (" WHERE target = ?" if target else "") + " ORDER BY created_at"
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, (target,) if target else ()).fetchall()]

    def verdicts(self) -> dict[str, str]:
        """The latest verdict per target."""
        out: dict[str, str] = {}
        for c in self.comments():
            if c["verdict"]:
                out[c["target"]] = c["verdict"]
        return out

    # -- rebuilding ---------------------------------------------------------------------------------------------
    def merge_from_journal(self, journal: Journal, *, mirror: bool = False) -> dict[str, int]:
        """Add or refresh every row the journal holds (a job's newer copy wins). Returns rows taken per kind.

        `mirror`: also write the taken rows into this history's own journal (when merging another studio's)."""
        taken = {"jobs": 0, "voices": 0, "comments": 0}
        for row in journal.rows("jobs"):
            try:
                rec = JobRecord(**row)
            except TypeError:
                continue
            old = self.get(rec.id)
            if old is None or _newer(rec, old):
                self.save(rec, mirror=mirror)
                taken["jobs"] += 1
        for row in journal.rows("voices"):
            if {"name", "audio_path", "transcript", "created_at"} <= row.keys():
                if mirror:
                    self.put_voice(row["name"], row["audio_path"], row["transcript"], row["created_at"])
                else:
                    with self._lock:
                        self._db.execute("INSERT OR REPLACE INTO voices VALUES (?,?,?,?)",
                                         (row["name"], row["audio_path"], row["transcript"], row["created_at"]))
                taken["voices"] += 1
        for row in journal.rows("comments"):
            if {"id", "target", "author", "text", "created_at"} <= row.keys():
                with self._lock:
                    new = self._db.execute("INSERT OR IGNORE INTO comments VALUES (?,?,?,?,?,?)",
                                           (row["id"], row["target"], row["author"], row["text"],
                                            row.get("verdict"), row["created_at"])).rowcount > 0
                if new and mirror and self.journal:
                    self.journal.put("comments", row["id"], {k: row.get(k) for k in (
                        "id", "target", "author", "text", "verdict", "created_at")})
                taken["comments"] += int(new)
        return taken


def _newer(a: JobRecord, b: JobRecord) -> bool:
    """Whether record a is a later state of the same job than b (finished beats in flight)."""
    if a.terminal != b.terminal:
        return a.terminal
    return (a.finished_at or a.started_at or a.created_at) > (b.finished_at or b.started_at or b.created_at)


def _record(row: sqlite3.Row) -> JobRecord:
    d = {k: row[k] for k in row.keys()}
    for c in _JSON:
        d[c] = json.loads(d[c]) if d[c] is not None else None
    d["preview"] = None if d["preview"] is None else bool(d["preview"])
    d["outputs"] = d["outputs"] or []
    d["warnings"] = d["warnings"] or []
    d["policy"] = d["policy"] or {}
    return JobRecord(**d)
