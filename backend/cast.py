"""The cast: named characters (look, portrait, voice, default seed, style preset), kept in the studio's SQLite.

A character points at media; it never owns it. The portrait is a copy in the library's inputs (deduplicated by
content), the voice is a name in the voice library, so renaming or deleting a character leaves every output
and every job in the history as it was.
"""
from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backend.errors import InputError
from backend.library import Library

# Same rule as a Fountain character cue can be written in: letters first, then letters, digits, spaces, . ' -
NAME = re.compile(r"^[^\W\d_][\w .'-]{0,47}$")
SEED_MAX = 2_147_483_647        # the smallest seed range of the jobs a character is used in (tts)
# How strongly a character's reference conditions the panels they are in (the IP-Adapter weight; the worker
# takes 0–1.5). About 0.8 keeps the face without copying the reference's framing.
LIKENESS_DEFAULT, LIKENESS_MIN, LIKENESS_MAX = 0.8, 0.0, 1.5

SCHEMA = """
CREATE TABLE IF NOT EXISTS cast_members (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, look TEXT NOT NULL, portrait TEXT,
  voice TEXT, seed INTEGER NOT NULL, style TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
"""
KEEP: Any = object()            # save(): leave this setting as it is
# Columns added later: (name, declaration); a database made before them gets them on open.
LATER_COLUMNS = (("likeness", f"REAL NOT NULL DEFAULT {LIKENESS_DEFAULT}"), ("reference", "TEXT"))


@dataclass(frozen=True)
class Character:
    id: str
    name: str
    look: str = ""                  # how the character looks, added to every image prompt that shows them
    portrait: str | None = None     # library path of the portrait image
    voice: str | None = None        # name of a voice in the voice library
    seed: int = -1                  # default seed for the character's images and speech (-1 = random)
    style: str = "None"             # a style preset name (ui.portrait.STYLES)
    created_at: float = 0.0
    updated_at: float = 0.0
    likeness: float = LIKENESS_DEFAULT  # weight of their reference in the panels they appear in
    reference: str | None = None    # library path of the image panels use instead of the portrait (a sheet view)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def reference_image(self) -> str | None:
        """The picture that conditions their panels: the chosen reference, else the portrait."""
        return self.reference or self.portrait


def connect(path: Path) -> sqlite3.Connection:
    """A connection of our own to the studio's database (WAL: the history's connection writes beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=15)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def check_name(name: Any, field: str = "name") -> str:
    name = re.sub(r"\s+", " ", str(name or "")).strip()
    if not NAME.match(name):
        raise InputError(field, "must be 1–48 characters, start with a letter, and use letters, digits, spaces, "
                                "'.', \"'\" or '-' (it is the name a scene's dialogue cue uses)")
    return name


def check_likeness(value: Any) -> float:
    try:
        v = float(value if value not in (None, "") else LIKENESS_DEFAULT)
    except (TypeError, ValueError):
        raise InputError("likeness", f"{value!r} is not a number ({LIKENESS_MIN:g}–{LIKENESS_MAX:g})") from None
    if not LIKENESS_MIN <= v <= LIKENESS_MAX:
        raise InputError("likeness", f"{v:g} is outside {LIKENESS_MIN:g}–{LIKENESS_MAX:g} (how strongly the "
                                     "reference shapes their panels; 0.8 is usual)")
    return v


def check_seed(seed: Any) -> int:
    try:
        value = int(seed if seed not in (None, "") else -1)
    except (TypeError, ValueError):
        raise InputError("seed", f"{seed!r} is not a whole number (-1 = random, or 0–{SEED_MAX})") from None
    if not -1 <= value <= SEED_MAX:
        raise InputError("seed", f"{value} is outside -1–{SEED_MAX} (-1 = random)")
    return value


class Cast:
    """Thread-safe: one connection behind a lock, like the history."""

    def __init__(self, db_path: Path, library: Library, voices: Any = None, journal: Any = None):
        self._journal = journal         # backend.journal.Journal: a copy of each row beside the library
        self._db = connect(db_path)
        self._lock = threading.Lock()
        self._library = library
        self._voices = voices
        with self._lock:
            self._db.executescript(SCHEMA)
            have = {r[1] for r in self._db.execute("PRAGMA table_info(cast_members)")}
            for name, decl in LATER_COLUMNS:
                if name not in have:
                    self._db.execute(f"ALTER TABLE cast_members ADD COLUMN {name} {decl}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reading ----------------------------------------------------------------------------------------------
    def list(self) -> list[Character]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM cast_members ORDER BY name COLLATE NOCASE").fetchall()
        return [Character(**dict(r)) for r in rows]

    def names(self) -> list[str]:
        return [c.name for c in self.list()]

    def get(self, name_or_id: str) -> Character | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM cast_members WHERE id = ? OR name = ? COLLATE NOCASE",
                                   (name_or_id, (name_or_id or "").strip())).fetchone()
        return Character(**dict(row)) if row else None

    # -- writing ----------------------------------------------------------------------------------------------
    def save(self, name: str, *, look: str = "", portrait: str | None = None, voice: str | None = None,
             seed: Any = -1, style: str = "None", id: str | None = None, likeness: Any = None,
             reference: Any = KEEP) -> Character:
        """Add a character, or update the one with `id` (which may rename it). Returns the stored character.

        `likeness` None and `reference` KEEP leave an existing character's settings as they were (callers that
        only change the portrait or the name need not know them); `reference=None` clears it."""
        if id and likeness is None:
            prev = self.get(id)
            likeness = prev.likeness if prev else None
        if reference is KEEP:
            prev = self.get(id) if id else None
            reference = prev.reference if prev else None
        name = check_name(name)
        look = (look or "").strip()
        if len(look) > 1000:
            raise InputError("look", f"is {len(look)} characters; at most 1000 are allowed")
        seed = check_seed(seed)
        likeness = check_likeness(likeness)
        if reference:
            reference, mt = self._library.keep_input("reference", reference)
            if mt.kind != "image":
                raise InputError("reference", f"is {mt.mime}, not an image (PNG, JPEG or WebP)")
        if portrait:
            portrait, mt = self._library.keep_input("portrait", portrait)
            if mt.kind != "image":
                raise InputError("portrait", f"is {mt.mime}, not an image (PNG, JPEG or WebP)")
        voice = (voice or "").strip() or None
        if voice and self._voices is not None and self._voices.get(voice) is None:
            known = ", ".join(v.name for v in self._voices.list()) or "none saved yet"
            raise InputError("voice", f"{voice!r} is not in the voice library (saved voices: {known})")
        other = self.get(name)
        if other is not None and other.id != id:
            raise InputError("name", f"a character called {other.name!r} is already in the cast")
        now = time.time()
        old = self.get(id) if id else None
        if id and old is None:
            raise InputError("character", f"no character with id {id!r} in the cast")
        char = Character(id=id or uuid.uuid4().hex[:12], name=name, look=look, portrait=portrait, voice=voice,
                         seed=seed, style=style or "None", created_at=old.created_at if old else now, updated_at=now,
                         likeness=likeness, reference=reference or None)
        row = char.to_dict()
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO cast_members ({','.join(row)}) VALUES "
                             f"({','.join('?' * len(row))})", list(row.values()))
        if self._journal:
            self._journal.put("cast", char.id, row)
        return char

    def restore(self, rows: Any) -> int:
        """Put back characters kept in the journal that the database lacks (after a repaired history)."""
        n = 0
        for row in rows:
            try:
                char = Character(**row)
            except TypeError:
                continue
            d = char.to_dict()
            with self._lock:
                n += self._db.execute(f"INSERT OR IGNORE INTO cast_members ({','.join(d)}) VALUES "
                                      f"({','.join('?' * len(d))})", list(d.values())).rowcount
        return n

    def rename(self, name_or_id: str, new_name: str) -> Character:
        char = self._need(name_or_id)
        return self.save(new_name, look=char.look, portrait=char.portrait, voice=char.voice, seed=char.seed,
                         style=char.style, id=char.id, likeness=char.likeness, reference=char.reference)

    def delete(self, name_or_id: str) -> bool:
        """Remove the character only: its portrait file, voice and every job output stay where they are."""
        char = self.get(name_or_id)
        if char is None:
            return False
        if self._journal:
            self._journal.delete("cast", char.id)
        with self._lock:
            return self._db.execute("DELETE FROM cast_members WHERE id = ?", (char.id,)).rowcount > 0

    def _need(self, name_or_id: str) -> Character:
        char = self.get(name_or_id)
        if char is None:
            raise InputError("character", f"{name_or_id!r} is not in the cast (cast: "
                                          f"{', '.join(self.names()) or 'empty'})")
        return char
