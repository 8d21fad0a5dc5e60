"""The history cannot silently vanish: a missing, empty, truncated or corrupt database is moved aside and the
history rebuilt from the newest good backup and the library's journal; backups are made with SQLite's API."""
from __future__ import annotations

import numpy as np
import soundfile as sf

import sqlite3
from pathlib import Path
import time

import pytest

from backend.history import History
from backend.journal import Journal
from backend.records import JobRecord
from backend.recovery import inspect, make_backup, newest_good_backup, open_history


def _job(i: int, status: str = "completed") -> JobRecord:
    now = time.time()
    return JobRecord(id=f"job-{i}", endpoint="ep", action="portrait", inputs={"prompt": f"face {i}"},
                     status=status, created_at=now + i, finished_at=now + i + 1,
                     outputs=[{"type": "image", "path": f"/lib/outputs/{i}.png", "mime": "image/png", "size": 1}],
                     error=None if status == "completed" else {"code": "failed", "message": "bad"})


def _fill(data, n=5):
    opened = open_history(data, Journal(data / "library" / "meta"))
    assert opened.notice is None
    h = opened.history
    for i in range(n):
        h.save(_job(i, "completed" if i % 2 == 0 else "failed"))
    h.put_voice("Mara", "/lib/inputs/mara.wav", "Hello there.", time.time())
    h.add_comment("job-0", "rev", "Love it", "approved")
    snapshot = sorted((r.id, r.status, tuple(o["path"] for o in r.outputs)) for r in h.list())
    h.close()
    return snapshot


def _damage(db, how):
    if how == "truncated to 0 bytes":
        db.write_bytes(b"")
    elif how == "cut in half":
        raw = db.read_bytes()
        db.write_bytes(raw[: len(raw) // 2])
    elif how == "header overwritten":
        raw = bytearray(db.read_bytes())
        raw[:100] = b"\xff" * 100
        db.write_bytes(bytes(raw))
    elif how == "deleted":
        db.unlink()


@pytest.mark.parametrize("how", ["truncated to 0 bytes", "cut in half", "header overwritten", "deleted"])
def test_a_damaged_history_is_moved_aside_and_rebuilt(tmp_path, how):
    data = tmp_path / "data"
    before = _fill(data)
    db = data / "studio.sqlite3"
    _damage(db, how)
    opened = open_history(data, Journal(data / "library" / "meta"))
    h = opened.history
    after = sorted((r.id, r.status, tuple(o["path"] for o in r.outputs)) for r in h.list())
    assert after == before
    assert [v["name"] for v in h.voice_rows()] == ["Mara"]
    assert h.verdicts() == {"job-0": "approved"}
    assert opened.notice and "rebuilt" in opened.notice and "5 jobs" in opened.notice
    if how != "deleted":
        aside = [p for p in data.glob("studio.sqlite3.broken-*") if not p.name.endswith(("-wal", "-shm"))]
        assert len(aside) == 1 and opened.notice.count(aside[0].name) == 1    # never deleted, and named
    assert inspect(db) is None
    h.close()


def test_a_sound_history_opens_without_a_notice(tmp_path):
    data = tmp_path / "data"
    _fill(data)
    opened = open_history(data, Journal(data / "library" / "meta"))
    assert opened.notice is None and len(opened.history.list()) == 5
    opened.history.close()


def test_the_newest_good_backup_is_used_first(tmp_path):
    data = tmp_path / "data"
    _fill(data, n=3)
    h = History(data / "studio.sqlite3")          # no journal: only the backup can bring these back
    backup = make_backup(h, data)
    h.close()
    assert inspect(backup) is None
    bad = data / "backups" / "studio-99999999-999999-999999.sqlite3"    # newer but broken: skipped
    bad.write_bytes(b"not a database")
    assert newest_good_backup(data) == backup
    (data / "library" / "meta").rename(tmp_path / "journal-gone")
    _damage(data / "studio.sqlite3", "cut in half")
    opened = open_history(data, Journal(data / "library" / "meta"))
    assert len(opened.history.list()) == 3
    assert backup.name in opened.notice
    opened.history.close()


def test_backups_keep_the_last_few(tmp_path):
    data = tmp_path / "data"
    _fill(data, n=1)
    h = History(data / "studio.sqlite3")
    for _ in range(8):
        make_backup(h, data, keep=3)
    h.close()
    kept = sorted((data / "backups").glob("studio-*.sqlite3"))
    assert len(kept) == 3
    assert sqlite3.connect(kept[-1]).execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1


def test_export_then_import_into_an_empty_folder_reproduces_the_history(tmp_path):
    import subprocess
    import sys

    from tests.support.procs import REPO
    a = tmp_path / "a"
    outputs = a / "library" / "outputs"
    outputs.mkdir(parents=True)
    h = open_history(a, Journal(a / "library" / "meta")).history
    for i in range(3):
        f = outputs / f"{i}.png"
        f.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([i]) * 100)
        rec = _job(i)
        rec.outputs = [{"type": "image", "path": str(f.resolve()), "mime": "image/png", "size": 108}]
        h.save(rec)
    (a / "library" / "inputs").mkdir(parents=True)
    sf.write(a / "library" / "inputs" / "m.wav", np.zeros(8000, dtype="float32"), 16000)   # a real recording
    h.put_voice("Mara", str((a / "library" / "inputs" / "m.wav").resolve()), "Hi.", time.time())
    h.add_comment("job-1", "rev", "Darker, please", "needs_changes")
    h.close()
    zip_path = tmp_path / "studio.zip"
    run = lambda *args: subprocess.run([sys.executable, "-m", "backend", *args], cwd=REPO, capture_output=True,  # noqa: E731
                                       text=True, check=True).stdout
    assert "exported 3 outputs" in run("export", str(zip_path), "--data", str(a))
    b = tmp_path / "b"
    assert "3 jobs" in run("import", str(zip_path), "--data", str(b))
    again = run("import", str(zip_path), "--data", str(b))          # merging twice adds nothing
    assert "0 new files (4 already here), 0 jobs" in again       # 3 outputs and the recording
    hb = open_history(b, Journal(b / "library" / "meta")).history
    recs = sorted(hb.list(), key=lambda r: r.id)
    assert [r.id for r in recs] == ["job-0", "job-1", "job-2"]
    for r in recs:
        p = Path(r.outputs[0]["path"])
        assert p.is_relative_to(b.resolve()) and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert hb.verdicts() == {"job-1": "needs_changes"}
    assert hb.voice_rows()[0]["audio_path"].startswith(str(b.resolve()))
    hb.close()


def test_the_cast_and_scenes_come_back_with_a_repaired_history(tmp_path):
    from PIL import Image

    from backend.settings import Settings
    from backend.studio import Studio
    data = tmp_path / "data"
    face = tmp_path / "face.png"
    Image.new("RGB", (300, 300), (200, 160, 140)).save(face)
    s = Studio(Settings(data_dir=data))           # not started: nothing but the stores is opened
    s.cast.save("Mara", look="silver hair", portrait=str(face))
    s.scenes.new("Night Mail", "EXT. HARBOUR - NIGHT\n\nFog rolls in.\n")
    for closable in (s.cast, s.scenes, s.history_db):
        closable.close()
    _damage(data / "studio.sqlite3", "header overwritten")
    again = Studio(Settings(data_dir=data))
    assert again.cast.names() == ["Mara"] and again.cast.get("Mara").portrait
    assert [r.title for r in again.scenes.list()] == ["Night Mail"]
    assert "1 cast members, 1 scenes" in again.notice
    for closable in (again.cast, again.scenes, again.history_db):
        closable.close()
