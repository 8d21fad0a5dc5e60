"""The trash: nothing is lost to one click. A deleted scene, cast member, voice or job's outputs is moved here
(its record as JSON, its files moved into the item's folder) and can be restored for 30 days; older items are
purged whenever the trash is read or written.

The store (`Trash`) knows only records and files. `discard` and `restore` know the studio's stores: what a scene,
a character, a voice or a job's outputs is, and how it goes back.
"""
from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend.errors import InputError

KEEP_S = 30 * 86400
KINDS = {"scene": "Scene", "character": "Cast member", "voice": "Voice", "outputs": "Outputs of job"}


@dataclass
class TrashItem:
    id: str
    kind: str                       # scene | character | voice | outputs
    label: str                      # what a person calls it: the scene's title, the character's name …
    record: dict[str, Any]          # what the store held, enough to put it back
    files: list[dict[str, str]] = field(default_factory=list)   # [{"from": original path, "kept": name here}]
    deleted_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def what(self) -> str:
        return f"{KINDS.get(self.kind, self.kind)} “{self.label}”"

    def expires_at(self, keep_s: float = KEEP_S) -> float:
        return self.deleted_at + keep_s


class Trash:
    """Items under `root/<id>/` (item.json + the moved files). `clock` is injectable for the 30-day purge."""

    def __init__(self, root: Path, *, clock: Callable[[], float] = time.time, keep_s: float = KEEP_S):
        self.root = Path(root)
        self.clock = clock
        self.keep_s = keep_s
        self._lock = threading.Lock()

    def put(self, kind: str, label: str, record: dict[str, Any], files: list[str] = ()) -> TrashItem:
        """Keep `record` and move `files` (those that exist) into the trash."""
        item = TrashItem(id=uuid.uuid4().hex[:12], kind=kind, label=label, record=record, deleted_at=self.clock())
        folder = self.root / item.id
        with self._lock:
            folder.mkdir(parents=True, exist_ok=True)
            for n, src in enumerate(files):
                p = Path(src)
                if not p.is_file():
                    continue
                kept = f"{n:03d}-{p.name}"
                shutil.move(str(p), str(folder / kept))
                item.files.append({"from": str(p), "kept": kept})
            (folder / "item.json").write_text(json.dumps(item.to_dict()), encoding="utf-8")
        self.purge()
        return item

    def list(self) -> list[TrashItem]:
        """Items still restorable, newest first (older ones are purged now)."""
        self.purge()
        return sorted(self._items(), key=lambda i: i.deleted_at, reverse=True)

    def get(self, item_id: str) -> TrashItem | None:
        if not isinstance(item_id, str) or not item_id.isalnum():
            return None
        return next((i for i in self.list() if i.id == item_id), None)

    def take(self, item_id: str, put_back: Callable[[TrashItem], None]) -> TrashItem:
        """Move the files back, let `put_back` restore the record, and remove the item from the trash.

        If `put_back` refuses (raises), the files return to the trash and the item stays."""
        item = self.get(item_id)
        if item is None:
            raise InputError("item", f"{item_id!r} is not in the trash (items are kept {self.keep_s / 86400:g} days)")
        folder = self.root / item.id
        with self._lock:
            moved = []
            try:
                for f in item.files:
                    dest = Path(f["from"])
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(folder / f["kept"]), str(dest))
                    moved.append(f)
                put_back(item)
            except BaseException:
                for f in moved:
                    shutil.move(f["from"], str(folder / f["kept"]))
                raise
            shutil.rmtree(folder, ignore_errors=True)
        return item

    def purge(self) -> int:
        """Delete items older than the keeping time, with their files. Returns how many went."""
        cutoff = self.clock() - self.keep_s
        gone = 0
        with self._lock:
            for item in self._items():
                if item.deleted_at < cutoff:
                    shutil.rmtree(self.root / item.id, ignore_errors=True)
                    gone += 1
        return gone

    def _items(self) -> list[TrashItem]:
        out = []
        if not self.root.is_dir():
            return out
        for meta in self.root.glob("*/item.json"):
            try:
                out.append(TrashItem(**json.loads(meta.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return out


# -- the studio's things --------------------------------------------------------------------------------------
def discard(studio: Any, kind: str, key: str) -> TrashItem:
    """Move one scene (id), cast member (name or id), voice (name) or job's outputs (job id) to the trash."""
    trash: Trash = studio.trash
    if kind == "scene":
        rec = studio.scenes.get(key) if key else None
        if rec is None:
            raise InputError("scene", f"no scene {key!r}")
        item = trash.put("scene", rec.title, rec.to_dict())
        studio.scenes.delete(rec.id)
    elif kind == "character":
        char = studio.cast.get(key) if key else None
        if char is None:
            raise InputError("character", f"{key!r} is not in the cast")
        item = trash.put("character", char.name, char.to_dict())
        studio.cast.delete(char.id)
    elif kind == "voice":
        voice = studio.voices.get(key) if key else None
        if voice is None:
            raise InputError("voice", f"{key!r} is not in the voice library")
        # The recording stays in the library's inputs: other voices, characters or jobs may share it (by content).
        item = trash.put("voice", voice.name, asdict(voice))
        studio.voices.delete(voice.name)
    elif kind == "outputs":
        rec = studio.get(key) if key else None
        if rec is None:
            raise InputError("job", f"no job {key!r} in the history")
        paths = [o["path"] for o in rec.outputs or [] if o.get("path")]
        if not paths:
            raise InputError("job", "this job has no outputs to delete")
        item = trash.put("outputs", job_label(rec), {"job_id": rec.id, "outputs": rec.outputs}, paths)
        rec.outputs = []
        studio.history_db.save(rec)
    else:
        raise InputError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    return item


def restore(studio: Any, item_id: str) -> TrashItem:
    """Put a trashed item back where it was. Refuses (naming why) when its place is taken meanwhile."""

    def put_back(item: TrashItem) -> None:
        r = item.record
        if item.kind == "scene":
            if studio.scenes.get(r["id"]) is not None:
                raise InputError("scene", f"a scene with this id already exists ({r['title']!r})")
            from backend.scenes.store import SceneRecord
            studio.scenes.save(SceneRecord(**r))
        elif item.kind == "character":
            if studio.cast.get(r["name"]) is not None:
                raise InputError("character", f"a character called {r['name']!r} is in the cast again; rename "
                                              "or remove them first")
            studio.cast.restore([r])
            journal = getattr(studio.history_db, "journal", None)
            if journal is not None:           # kept beside the library again, as a saved character is
                journal.put("cast", r["id"], r)
        elif item.kind == "voice":
            if studio.voices.get(r["name"]) is not None:
                raise InputError("voice", f"a voice called {r['name']!r} is in the library again")
            studio.history_db.put_voice(r["name"], r["audio_path"], r["transcript"], r["created_at"])
        elif item.kind == "outputs":
            rec = studio.get(r["job_id"])
            if rec is None:
                raise InputError("job", "the job of these outputs is no longer in the history")
            rec.outputs = r["outputs"]
            studio.history_db.save(rec)

    return trash_of(studio).take(item_id, put_back)


def trash_of(studio: Any) -> Trash:
    return studio.trash


def job_label(rec: Any) -> str:
    """A job as a person names it: "Portrait of 07 Dec 15:40"."""
    from workflows.catalogue import load_catalogue
    spec = load_catalogue().get(rec.action)
    kind = spec.title if spec else ("Scene render" if rec.action == "scene" else rec.action)
    return f"{kind} of {time.strftime('%d %b %H:%M', time.localtime(rec.created_at or 0))}"
