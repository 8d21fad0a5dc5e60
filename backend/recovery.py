"""Opening the history so that it cannot silently vanish.

At start, before anything else runs, the database file is checked. A missing, empty, truncated or corrupt file is
never used as it is and never deleted: a damaged file is moved aside, the newest good backup (if any) is put in
its place, and every row the library's journal holds is merged in. What happened is returned as one sentence for
the console and the page. Backups are made with SQLite's backup API into `<data>/backups/`, the last few kept.
"""
from __future__ import annotations

import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from backend.history import History
from backend.journal import Journal

HEADER = b"SQLite format 3\x00"
KEEP_BACKUPS = 5
_TABLES = {"jobs", "voices"}


@dataclass(frozen=True)
class Opened:
    history: History
    notice: str | None          # a sentence for the console and the page's banner, when something was repaired


def inspect(db: Path) -> str | None:
    """None when the file is a sound history database; otherwise what is wrong with it, in words."""
    if not db.exists():
        return "missing"
    size = db.stat().st_size
    if size == 0:
        return "empty (0 bytes)"
    with open(db, "rb") as f:
        head = f.read(len(HEADER))
    if head != HEADER:
        return "not a SQLite database (its header is damaged)"
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return f"damaged ({exc})"
    if not result or result[0] != "ok":
        return f"damaged ({result[0] if result else 'no answer from the integrity check'})"
    if not _TABLES <= tables:
        return "incomplete (tables are missing)"
    return None


def open_history(data_dir: Path, journal: Journal) -> Opened:
    db = data_dir / "studio.sqlite3"
    data_dir.mkdir(parents=True, exist_ok=True)
    problem = inspect(db)
    if problem == "missing" and journal.count("jobs") == 0 and journal.count("voices") == 0:
        return Opened(History(db, journal), None)       # a new studio
    if problem is None:
        history = History(db, journal)
        if history.counts()["jobs"] > 0 or journal.count("jobs") == 0:
            return Opened(history, None)
        history.close()
        problem = "empty (it holds no jobs, but the library has a record of some)"
    moved = _move_aside(db) if db.exists() else None
    backup = newest_good_backup(data_dir)
    if backup:
        shutil.copyfile(backup, db)
    history = History(db, journal)
    taken = history.merge_from_journal(journal)
    counts = history.counts()
    parts = [f"The history database was {problem}"]
    if moved:
        parts.append(f"; it was moved aside to {moved.name}")
    parts.append(". The history was rebuilt")
    sources = ([f"from the backup {backup.name}"] if backup else []) + (
        ["from the records kept beside the library's files"] if any(taken.values()) else [])
    if sources:
        parts.append(" " + " and ".join(sources))
    parts.append(f": {counts['jobs']} jobs, {counts['voices']} voices, {counts['comments']} comments.")
    return Opened(history, "".join(parts))


def _move_aside(db: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = db.with_name(f"{db.name}.broken-{stamp}")
    n = 1
    while dest.exists():
        dest = db.with_name(f"{db.name}.broken-{stamp}-{n}")
        n += 1
    db.rename(dest)
    for suffix in ("-wal", "-shm"):
        side = db.with_name(db.name + suffix)
        if side.exists():
            side.rename(dest.with_name(dest.name + suffix))
    return dest


def backups_dir(data_dir: Path) -> Path:
    return data_dir / "backups"


def make_backup(history: History, data_dir: Path, keep: int = KEEP_BACKUPS) -> Path:
    folder = backups_dir(data_dir)
    dest = folder / f"studio-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 1_000_000:06d}.sqlite3"
    history.backup(dest)
    for old in sorted(folder.glob("studio-*.sqlite3"))[:-keep]:
        old.unlink(missing_ok=True)
    return dest


def newest_good_backup(data_dir: Path) -> Path | None:
    for p in sorted(backups_dir(data_dir).glob("studio-*.sqlite3"), reverse=True):
        if inspect(p) is None:
            return p
    return None
