"""Issue 19, findings 2 and 8: only media leaves the studio, never a page, a server file or a link to one.

Backend-level checks of what may be served and linked for downloads, the serve-time middleware on a small app,
and one real studio answering `/gradio_api/file=` as a browser would ask it.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import FileResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from backend.errors import BackendError
from backend.library import Library
from backend.scenes import exchange as scene_exchange
from backend.scenes import make as M
from backend.scenes.store import SceneStore
from backend.served import judge
from ui.serve_guard import ServeGuard

PAGE = b"<html><script>fetch('/gradio_api/queue/join')</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def data(tmp_path) -> Path:
    """A data folder: a database beside the library, media and hostile files inside it."""
    d = tmp_path / "data"
    lib = Library(d / "library")
    (d / "studio.sqlite3").write_bytes(b"SQLite format 3\x00" + b"secret rows" * 10)
    (lib.outputs / "good.png").write_bytes(png())
    (lib.outputs / "scene.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHi.\n")
    (lib.outputs / "evil.html").write_bytes(PAGE)
    (lib.outputs / "evil.svg").write_bytes(SVG)
    (lib.outputs / "page.png").write_bytes(PAGE)                     # a page named as an image
    (lib.inputs / "image.html").write_bytes(png())                    # an image named as a page
    (d / "library" / "tmp" / "held.png").write_bytes(png())
    downloads = d / "library" / "downloads" / "render-x"
    downloads.mkdir(parents=True)
    os.link(d / "studio.sqlite3", downloads / "scene.mp4")           # a hard link to the database
    os.symlink("/etc/passwd", downloads / "passwd.png")
    os.symlink(lib.outputs / "good.png", downloads / "good-link.png")
    return d


ALLOWED = {"library/outputs/good.png": False, "library/outputs/scene.vtt": True}
REFUSED = ["library/outputs/evil.html", "library/outputs/evil.svg", "library/outputs/page.png",
           "library/inputs/image.html", "library/tmp/held.png", "studio.sqlite3",
           "library/downloads/render-x/scene.mp4", "library/downloads/render-x/passwd.png",
           "library/downloads/render-x/good-link.png", "library/outputs/../../studio.sqlite3"]


def test_only_media_in_the_served_folders_is_judged_servable(data):
    for rel, attachment in ALLOWED.items():
        v = judge(data / rel, data / "library")
        assert (v.allowed, v.attachment) == (True, attachment), rel
    for rel in REFUSED:
        assert not judge(f"{data}/{rel}", data / "library").allowed, rel


def studio_at(data: Path) -> SimpleNamespace:
    return SimpleNamespace(library=Library(data / "library"))


@pytest.mark.parametrize("target", ["/proc/self/environ", "{data}/studio.sqlite3", "{data}/library/outputs/evil.html",
                                    "{data}/library/downloads/render-x/passwd.png"])
def test_a_render_naming_a_server_file_is_never_linked_for_download(data, target):
    studio = studio_at(data)
    good = str(data / "library" / "outputs" / "good.png")
    with pytest.raises(BackendError, match="not a file of this studio's library") as err:
        M.download_names(studio, "Harbour", [target.format(data=data), good])
    assert str(data) not in err.value.message
    assert not list((data / "library" / "downloads").glob("render-*/Harbour*"))


def test_a_render_in_the_library_is_linked_under_its_title(data):
    studio = studio_at(data)
    out = data / "library" / "outputs"
    (out / "0123-scene-1.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    made = [str(out / "0123-scene-1.mp4"), str(out / "scene.vtt")]
    # A reviewer's page writes no links: before the owner's made them it shows the library's names...
    assert M.existing_download_names(studio, "Harbour at night", made) == made
    got = M.download_names(studio, "Harbour at night", made)
    # ...and afterwards the same readable names the owner sees, not hash-named files.
    assert M.existing_download_names(studio, "Harbour at night", made) == got
    assert [Path(p).name for p in got] == ["Harbour-at-night.mp4", "Harbour-at-night.vtt"]
    assert Path(got[0]).samefile(out / "0123-scene-1.mp4")
    assert all(judge(p, data / "library").allowed for p in got)


def test_scene_export_packs_only_library_files_into_a_served_pruned_folder(data, tmp_path):
    from backend.cast import Cast
    from backend.history import History
    from backend.voices import VoiceLibrary
    lib = Library(data / "library")
    hist = History(data / "studio.sqlite3.test")
    studio = SimpleNamespace(library=lib, history_db=hist, voices=VoiceLibrary(hist, lib),
                             cast=Cast(data / "scenes.sqlite3", lib), scenes=SceneStore(data / "scenes.sqlite3"),
                             get=hist.get, history=lambda **kw: hist.list(**kw))
    good = str(lib.outputs / "good.png")
    rec = studio.scenes.new("Harbour", "", overrides={"1": {"image": good}, "2": {"image": "/etc/passwd"}},
                            music={"source": "upload", "path": str(data / "studio.sqlite3")})
    old = lib.root / "downloads" / "exports" / "export-old"
    old.mkdir(parents=True)
    os.utime(old, (1, 1))
    path = Path(scene_exchange.export_scene(studio, rec.id))
    assert path.parent.parent == (lib.root / "downloads" / "exports") and not old.exists()
    with zipfile.ZipFile(path) as z:
        media = [n for n in z.namelist() if n.startswith("media/")]
        assert len(media) == 1 and z.read(media[0]) == Path(good).read_bytes()
        assert b"secret rows" not in b"".join(z.read(n) for n in z.namelist())
    for part in (hist, studio.cast, studio.scenes):
        part.close()


# -- the middleware, in front of a route that serves any path as Gradio's does for allowed ones -----------------
def guarded_app(data: Path) -> TestClient:
    async def serve(request):
        return FileResponse(request.path_params["path"], content_disposition_type="inline")
    app = Starlette(routes=[Route("/gradio_api/file={path:path}", serve)],
                    middleware=[Middleware(ServeGuard, data_dir=data)])
    return TestClient(app)


def test_the_serve_guard_refuses_what_is_not_media_and_marks_what_it_lets_through(data, tmp_path):
    client = guarded_app(data)
    for rel in REFUSED:
        r = client.get(f"/gradio_api/file={data}/{rel}")
        assert r.status_code == 403 and PAGE not in r.content and b"secret" not in r.content, rel
    ok = client.get(f"/gradio_api/file={data}/library/outputs/good.png")
    assert ok.status_code == 200 and ok.headers["x-content-type-options"] == "nosniff"
    assert "attachment" not in ok.headers.get("content-disposition", "") and ok.content == png()
    subs = client.get(f"/gradio_api/file={data}/library/outputs/scene.vtt")
    assert subs.status_code == 200 and subs.headers["content-disposition"] == "attachment"
    cache = tmp_path / "gradio-cache"                # Gradio's own copies are outside the data folder
    cache.mkdir()
    (cache / "upload.html").write_bytes(PAGE)
    r = client.get(f"/gradio_api/file={cache}/upload.html")
    assert r.headers["content-disposition"] == "attachment" and r.headers["x-content-type-options"] == "nosniff"


# -- one real studio ---------------------------------------------------------------------------------------------
def test_a_running_studio_serves_media_and_refuses_pages_and_server_files(tmp_path):
    from tests.support.studio import running_app
    lib = Library(tmp_path / "data" / "library")
    (lib.outputs / "good.png").write_bytes(png())
    (lib.outputs / "evil.html").write_bytes(PAGE)
    (lib.outputs / "evil.svg").write_bytes(SVG)
    with running_app(tmp_path) as app, httpx.Client(base_url=app.url, timeout=30) as http:
        data = (tmp_path / "data").resolve()
        links = data / "library" / "downloads" / "render-x"
        links.mkdir(parents=True)
        os.link(data / "studio.sqlite3", links / "scene.mp4")

        def get(p: Path) -> httpx.Response:
            return http.get(f"/gradio_api/file={p}")

        good = get(data / "library" / "outputs" / "good.png")
        assert good.status_code == 200 and good.content == png()
        assert good.headers["x-content-type-options"] == "nosniff"
        for p in (data / "library" / "outputs" / "evil.html", data / "library" / "outputs" / "evil.svg",
                  links / "scene.mp4", data / "studio.sqlite3", data / "library" / "meta"):
            r = get(p)
            assert r.status_code == 403 and b"<html" not in r.content and b"SQLite" not in r.content, p
