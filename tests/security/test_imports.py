"""Issue 19, findings 1, 2 and 7: a zip from outside (a studio export, a scene export) is data, never a path.

Each crafted zip is what an attacker would upload; each test asserts what the importing owner sees (a refusal
naming the entry) and what the studio keeps (nothing from the zip in the library, no row naming a server file).
"""
from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend.cast import Cast
from backend.errors import InputError
from backend.exchange import export_zip, import_zip
from backend.history import History
from backend.journal import Journal
from backend.library import Library
from backend.records import JobRecord
from backend.scenes import exchange as scene_exchange
from backend.scenes.store import SceneStore
from backend.voices import VoiceLibrary

OLD = "/home/someone/studio-data/library"          # the exporting studio's library, as its rows name it


def png(colour=(200, 40, 40), size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def wav(seconds: float = 0.5) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, 0.2 * np.sin(np.arange(int(16000 * seconds)) / 5), 16000, format="WAV")
    return buf.getvalue()


PNG_HEADER = png()[:33]            # signature + IHDR: what a sniffer sees first


def studio_export(path: Path, files: dict[str, bytes], rows: dict[str, dict], *, library: str = OLD,
                  symlinks: dict[str, str] | None = None) -> Path:
    """A zip laid out as backend.exchange.export_zip writes one, with the given entries."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
        for name, row in rows.items():
            z.writestr(name, json.dumps(row))
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
        z.writestr("studio-export.json", json.dumps({"library": library, "counts": {}}))
    return path


def library_files(data: Path) -> set[str]:
    lib = data / "library"
    return {p.relative_to(lib).as_posix() for d in ("outputs", "inputs") if (lib / d).is_dir()
            for p in (lib / d).rglob("*") if p.is_file()}


def rows_of(data: Path) -> dict[str, int]:
    j = Journal(data / "library" / "meta")
    return {k: j.count(k) for k in ("jobs", "voices", "comments", "cast", "scenes")}


def job_row(path: str, **kw) -> dict:
    return {"id": "job-1", "endpoint": "ep", "action": "portrait", "inputs": {"prompt": "a face"},
            "status": "completed", "created_at": 1.0, "finished_at": 2.0,
            "outputs": [{"type": "image", "path": path, "mime": "image/png", "size": 10, "sha256": "ab"}], **kw}


# -- studio export: rows naming server files (finding 1) --------------------------------------------------------
SERVER_FILES = ["/proc/self/environ", "/etc/passwd", "{data}/studio.sqlite3", "{data}/studio.sqlite3-wal",
                f"{OLD}/../../studio.sqlite3", "outputs/../../studio.sqlite3"]


@pytest.mark.parametrize("target", SERVER_FILES)
@pytest.mark.parametrize("kind", ["scene render", "job output", "cast portrait", "voice recording"])
def test_a_row_naming_a_server_file_is_refused(tmp_path, kind, target):
    data = tmp_path / "mine"
    target = target.format(data=data)
    ok = f"{OLD}/outputs/a1-job.png"
    row = {"scene render": ("library/meta/scenes/s1.json",
                            {"id": "s1", "title": "Harbour", "script": "", "overrides": {}, "settings": {},
                             "music": {"source": "none"}, "render": {"mp4": target, "job_id": "job-1",
                                                                     "duration": 3.0}}),
           "job output": ("library/meta/jobs/job-1.json", job_row(target)),
           "cast portrait": ("library/meta/cast/c1.json", {"id": "c1", "name": "Mara", "portrait": target,
                                                            "seed": -1, "style": "None"}),
           "voice recording": ("library/meta/voices/Low.json", {"name": "Low", "audio_path": target,
                                                                 "transcript": "Hi.", "created_at": 1.0})}[kind]
    zpath = studio_export(tmp_path / "evil.zip", {"library/outputs/a1-job.png": png()},
                          {row[0]: row[1], "library/meta/jobs/ok.json": job_row(ok, id="ok")})
    with pytest.raises(ValueError) as err:
        import_zip(zpath, data)
    assert row[0] in str(err.value) and "not a file of this export" in str(err.value)
    assert rows_of(data) == {"jobs": 0, "voices": 0, "comments": 0, "cast": 0, "scenes": 0}
    assert library_files(data) == set()                # nothing of a refused export lands


def test_a_job_input_naming_a_server_file_is_refused(tmp_path):
    row = job_row(f"{OLD}/outputs/a1-job.png", inputs={"prompt": "x", "image": "/proc/self/environ"})
    zpath = studio_export(tmp_path / "evil.zip", {"library/outputs/a1-job.png": png()},
                          {"library/meta/jobs/job-1.json": row})
    with pytest.raises(ValueError, match=r"library/meta/jobs/job-1.json: inputs.image names '/proc/self/environ'"):
        import_zip(zpath, tmp_path / "mine")


# -- studio export: entries that are not studio media (finding 2) ----------------------------------------------
HOSTILE = {
    "library/outputs/evil.html": b"<html><script>fetch('/gradio_api/queue/join')</script></html>",
    "library/outputs/evil.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "library/outputs/evil.png": b"<html><script>alert(1)</script></html>",      # a page named as an image
    "library/inputs/photo.html": png(),                                        # an image named as a page
    "library/outputs/notes.txt": b"plain text",
    "library/outputs/feed.xml": b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml"/>',
    "library/outputs/anim.gif": b"GIF89a" + b"\x00" * 64,                      # media, but not what we make
}


@pytest.mark.parametrize("entry", sorted(HOSTILE))
def test_an_entry_that_is_not_studio_media_is_refused_by_name(tmp_path, entry):
    data = tmp_path / "mine"
    zpath = studio_export(tmp_path / "evil.zip", {"library/outputs/a1-job.png": png(), entry: HOSTILE[entry]}, {})
    with pytest.raises(ValueError) as err:
        import_zip(zpath, data)
    assert repr(entry) in str(err.value) and "not a media file the studio makes" in str(err.value)
    assert library_files(data) == set()


@pytest.mark.parametrize("entry", ["/library/outputs/a.png", "library/outputs/../../../escape.png",
                                   "library/../../escape.png", "library\\..\\escape.png", "library/./outputs/a.png"])
def test_an_entry_with_a_path_that_leaves_its_folder_is_refused(tmp_path, entry):
    data = tmp_path / "deep" / "mine"
    zpath = studio_export(tmp_path / "evil.zip", {entry: png()}, {})
    with pytest.raises(ValueError) as err:
        import_zip(zpath, data)
    assert repr(entry) in str(err.value)
    assert not list(tmp_path.rglob("escape.png")) and library_files(data) == set()


def test_a_symlink_entry_is_refused(tmp_path):
    zpath = studio_export(tmp_path / "evil.zip", {}, {},
                          symlinks={"library/outputs/a1-job.png": "/proc/self/environ"})
    with pytest.raises(ValueError, match="'library/outputs/a1-job.png' is a link"):
        import_zip(zpath, tmp_path / "mine")
    assert library_files(tmp_path / "mine") == set()


# -- bombs and bounds (finding 7) --------------------------------------------------------------------------------
def bomb(zpath: Path, entry: str, megabytes: int, extra: dict[str, bytes] | None = None,
         rows: dict | None = None) -> Path:
    """A PNG header and then zeros: it sniffs as a PNG, and deflates about a thousandfold."""
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(entry, "w", force_zip64=True) as f:
            f.write(PNG_HEADER)
            zeros = b"\x00" * (1 << 20)
            for _ in range(megabytes):
                f.write(zeros)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
        for name, row in (rows or {}).items():
            z.writestr(name, json.dumps(row))
    return zpath


def test_a_studio_export_bomb_is_refused_while_streaming(tmp_path):
    zpath = bomb(tmp_path / "bomb.zip", "library/outputs/a1-job.png", 300,
                 {"studio-export.json": json.dumps({"library": OLD}).encode()})
    assert zpath.stat().st_size < 400_000
    with pytest.raises(ValueError, match="'library/outputs/a1-job.png' expands more than 50 times"):
        import_zip(zpath, tmp_path / "mine")
    assert library_files(tmp_path / "mine") == set()
    assert sum(p.stat().st_size for p in (tmp_path / "mine").rglob("*") if p.is_file()) < 5_000_000


def test_too_many_entries_are_refused_before_anything_is_read(tmp_path):
    zpath = tmp_path / "many.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for i in range(5_001):
            z.writestr(f"media/{i:064x}.png", b"")
    studio = studio_at(tmp_path / "mine")
    with pytest.raises(InputError, match="^file: has 5001 entries; at most 5000 are allowed"):
        scene_exchange.import_scene(studio, str(zpath))
    close(studio)


def test_a_declared_size_over_the_bound_is_refused_before_writing(tmp_path):
    from backend.zipguard import ZipLimits
    zpath = studio_export(tmp_path / "big.zip", {"library/outputs/a1-job.png": PNG_HEADER + bytes(range(256)) * 20}, {})
    with pytest.raises(ValueError, match="'library/outputs/a1-job.png' is .* bytes uncompressed; at most 1000"):
        import_zip(zpath, tmp_path / "mine", ZipLimits(max_entry_bytes=1000))
    with pytest.raises(ValueError, match="expands to .* bytes; at most 1000 are allowed"):
        import_zip(zpath, tmp_path / "mine", ZipLimits(max_total_bytes=1000))


# -- malformed zips get a sentence, not a Python error -----------------------------------------------------------
def test_a_damaged_studio_export_answers_with_a_sentence(tmp_path):
    good = studio_export(tmp_path / "good.zip", {"library/outputs/a1-job.png": png()}, {})
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="is not a .zip file"):
        import_zip(truncated, tmp_path / "mine")
    flipped = bytearray(raw)
    info = zipfile.ZipFile(good).getinfo("library/outputs/a1-job.png")
    at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2    # inside its compressed data
    flipped[at] ^= 0xFF
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="'library/outputs/a1-job.png' (is damaged|is not a media file)"):
        import_zip(tmp_path / "flipped.zip", tmp_path / "mine")
    odd = studio_export(tmp_path / "odd.zip", {}, {})
    with zipfile.ZipFile(odd, "a") as z:
        z.writestr("library/meta/jobs/x.json", "[1, 2]")
    with pytest.raises(ValueError, match="'library/meta/jobs/x.json' is not a job record"):
        import_zip(odd, tmp_path / "mine")


# -- a real export still round-trips -----------------------------------------------------------------------------
def studio_at(data: Path) -> SimpleNamespace:
    lib = Library(data / "library")
    journal = Journal(lib.root / "meta")
    hist = History(data / "studio.sqlite3", journal)
    voices = VoiceLibrary(hist, lib)
    return SimpleNamespace(library=lib, history_db=hist, voices=voices,
                           cast=Cast(data / "studio.sqlite3", lib, voices, journal=journal),
                           scenes=SceneStore(data / "studio.sqlite3", journal=journal), get=hist.get,
                           history=lambda **kw: hist.list(**kw))


def close(s: SimpleNamespace) -> None:
    for part in (s.history_db, s.cast, s.scenes):
        part.close()


def test_an_export_with_every_kind_of_row_imports_with_its_files_here(tmp_path):
    a = studio_at(tmp_path / "a")
    out = Path(a.library.outputs) / "0123456789abcdef-job-1.png"
    out.write_bytes(png())
    srt = Path(a.library.outputs) / "0123456789abcdef-scene-1.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHi.\n")
    (tmp_path / "ref.wav").write_bytes(wav())
    (tmp_path / "face.png").write_bytes(png((9, 9, 9)))
    a.history_db.save(JobRecord(id="job-1", endpoint="ep", action="portrait", status="completed", created_at=1.0,
                                inputs={"prompt": "a face", "image": str(out)},
                                outputs=[{"type": "image", "path": str(out), "mime": "image/png"},
                                         {"type": "subtitles", "path": str(srt), "mime": "text/plain"}]))
    a.history_db.add_comment("job-1", "rev", "Lovely.", "approved")
    a.voices.save("Low voice", str(tmp_path / "ref.wav"), "Hello.")
    a.cast.save("Mara", portrait=str(tmp_path / "face.png"), voice="Low voice")
    a.scenes.new("Harbour", "INT. A ROOM - DAY\n", overrides={"1": {"image": str(out), "duration": 2.0}},
                 render={"mp4": None, "srt": str(srt), "vtt": None, "job_id": "job-1", "duration": 1.0})
    close(a)
    zpath = tmp_path / "export.zip"
    export_zip(tmp_path / "a", zpath)

    b = tmp_path / "b"
    got = import_zip(zpath, b)
    assert (got["jobs"], got["voices"], got["comments"], got["cast"], got["scenes"]) == (1, 1, 1, 1, 1)
    assert library_files(b) == library_files(tmp_path / "a")
    s = studio_at(b)
    job = s.history_db.get("job-1")
    assert [Path(o["path"]).parent for o in job.outputs] == [b.resolve() / "library" / "outputs"] * 2
    assert job.inputs["image"] == job.outputs[0]["path"]
    assert Path(s.cast.get("Mara").portrait).is_file() and Path(s.voices.get("Low voice").audio_path).is_file()
    scene = s.scenes.find("Harbour")
    assert Path(scene.overrides["1"]["image"]).read_bytes() == out.read_bytes()
    assert Path(scene.render["srt"]).read_text().startswith("1\n")
    close(s)
    again = import_zip(zpath, b)                        # a second import keeps what is there
    assert again["files"] == 0 and again["kept"] == len(library_files(b))


# -- scene export zip ------------------------------------------------------------------------------------------
def scene_zip(path: Path, scene: dict, cast: object = (), made: object = (), media: dict | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("scene.json", json.dumps({"format": scene_exchange.FORMAT, "title": "Harbour", "script": "",
                                             **scene}))
        z.writestr("cast.json", json.dumps(list(cast) if isinstance(cast, tuple) else cast))
        z.writestr("made.json", json.dumps(list(made) if isinstance(made, tuple) else made))
        for name, data in (media or {}).items():
            z.writestr(name, data)
    return path


def test_a_scene_zip_bomb_is_refused_naming_the_entry(tmp_path):
    name = "media/" + "a" * 64 + ".png"
    zpath = bomb(tmp_path / "bomb.zip", name, 300,
                 {"scene.json": json.dumps({"format": scene_exchange.FORMAT, "title": "Bomb", "script": "",
                                            "overrides": {"1": {"image": name}}}).encode(),
                  "cast.json": b"[]"})
    assert zpath.stat().st_size < 400_000
    studio = studio_at(tmp_path / "mine")
    with pytest.raises(InputError, match=f"^file: the entry '{name}' expands more than 50 times"):
        scene_exchange.import_scene(studio, str(zpath))
    assert library_files(tmp_path / "mine") == set() and studio.scenes.list() == []
    assert not any((tmp_path / "mine" / "library" / "tmp").iterdir())
    close(studio)


@pytest.mark.parametrize("scene, cast, field", [
    ({"overrides": "all"}, [], "overrides"),
    ({}, ["Mara"], "cast"),
    ({}, [{"name": "Mara", "voice": "Low"}], "cast[0].voice"),
    ({}, [{"name": "Mara", "voice": {"name": "Low", "audio": None, "transcript": "Hi."}}], "voice"),
    ({}, [{"name": "Mara", "seed": "lots"}], "seed"),
    ({"music": "loud"}, [], "music"),
    ({"settings": {"fps": {"$gt": 1}}}, [], "settings"),
    ({"title": ["x"]}, [], "title"),
])
def test_a_malformed_scene_zip_answers_with_a_sentence_naming_the_field(tmp_path, scene, cast, field):
    studio = studio_at(tmp_path / "mine")
    with pytest.raises(InputError) as err:
        scene_exchange.import_scene(studio, str(scene_zip(tmp_path / "odd.zip", scene, cast)))
    assert err.value.message.startswith(f"{field}: ")
    assert "Error" not in err.value.message and "object has no" not in err.value.message
    assert studio.scenes.list() == []
    close(studio)


def test_a_scene_zip_gif_or_page_is_refused(tmp_path):
    studio = studio_at(tmp_path / "mine")
    for data in (b"GIF89a" + b"\x00" * 64, b"<svg onload='alert(1)'/>"):
        name = "media/" + "b" * 64 + ".png"
        zpath = scene_zip(tmp_path / "odd.zip", {"overrides": {"1": {"image": name}}}, media={name: data})
        with pytest.raises(InputError, match=f"the entry '{name}' is not a media file the studio makes"):
            scene_exchange.import_scene(studio, str(zpath))
    assert library_files(tmp_path / "mine") == set()
    close(studio)


def test_a_scene_zip_naming_a_server_file_is_refused(tmp_path):
    studio = studio_at(tmp_path / "mine")
    for ref in ("/proc/self/environ", "../studio.sqlite3", "media/../../studio.sqlite3"):
        zpath = scene_zip(tmp_path / "odd.zip", {"music": {"source": "upload", "path": ref}})
        with pytest.raises(InputError, match="^music: names .* which is not a media file of the export"):
            scene_exchange.import_scene(studio, str(zpath))
    assert studio.scenes.list() == []
    close(studio)


def test_a_provenance_sidecar_comes_in_as_data_beside_its_file_only(tmp_path):
    side = {"job_id": "job-1", "inputs": {"face": {"path": "library/inputs/x.png"}, "leak": "/proc/self/environ"}}
    zpath = studio_export(tmp_path / "ok.zip", {"library/outputs/a1-job.png": png(),
                                                "library/outputs/a1-job.png.json": json.dumps(side).encode()}, {})
    import_zip(zpath, tmp_path / "mine")
    kept = json.loads((tmp_path / "mine" / "library" / "outputs" / "a1-job.png.json").read_text())
    assert kept["inputs"] == {"face": {"path": "library/inputs/x.png"}, "leak": None}
    orphan = studio_export(tmp_path / "orphan.zip", {"library/outputs/b2-job.png.json": b"{}"}, {})
    with pytest.raises(ValueError, match="'library/outputs/b2-job.png.json' is not the record of a media file"):
        import_zip(orphan, tmp_path / "other")
