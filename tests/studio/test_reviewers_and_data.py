"""Reviewers and data safety, against `python app.py` in preview mode with an owner and a reviewer login:
reviewers cannot spend GPU time (page, named API), comments and verdicts are shared, only the library's media is
served, every output carries its provenance, and a damaged history comes back whole after a restart."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from playwright.sync_api import expect

from backend.provenance import read_embedded
from tests.studio.conftest import VIEW, App, open_job

OWNER = ("owner", "owner-pass-1")
REVIEWER = ("rev", "reviewer-pass-2")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    a = App(tmp_path_factory.mktemp("studio-roles"),
            {"STUDIO_AUTH": ":".join(OWNER), "STUDIO_REVIEWERS": ":".join(REVIEWER), "STUDIO_MCP": "1"}).start()
    yield a
    a.stop()


@pytest.fixture(scope="module")
def made(app):
    """One portrait made by the owner through the named API: (job id, output path)."""
    c = Client(app.url, auth=OWNER, verbose=False)
    png = c.predict(prompt="a lighthouse keeper, front-facing", width=256, height=256, steps=2,
                    api_name="/portrait")
    db = Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3"
    row = sqlite3.connect(db).execute("SELECT id, outputs FROM jobs WHERE status='completed' ORDER BY created_at "
                                      "DESC").fetchone()
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return row[0], json.loads(row[1])[0]["path"]


def _jobs(app) -> int:
    db = Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3"
    return sqlite3.connect(db).execute("SELECT COUNT(*) FROM jobs").fetchone()[0]


def test_a_reviewer_cannot_start_a_job_through_the_api(app, made):
    before = _jobs(app)
    c = Client(app.url, auth=REVIEWER, verbose=False)
    with pytest.raises(Exception) as info:
        c.predict(prompt="a second portrait", api_name="/portrait")
    assert "Reviewers can look, play, download and comment, but cannot run jobs" in str(info.value)
    assert _jobs(app) == before                     # refused before any job existed


def test_every_output_has_its_provenance(made):
    job_id, path = made
    side = json.loads(Path(path + ".json").read_text())
    assert side["job_id"] == job_id and side["action"] == "portrait"
    assert side["inputs"]["prompt"].startswith("a lighthouse keeper")
    assert side["template"]["name"] == "portrait.api.json" and len(side["template"]["sha256"]) == 64
    assert [m["path"] for m in side["models"]] == ["checkpoints/Deliberate_v5.safetensors"]
    assert side["endpoint_mode"] == "preview" and side["cost_usd"] is None
    embedded = read_embedded(Path(path))            # travels with the file itself
    assert embedded["job_id"] == job_id and embedded["seed"] == side["seed"]


def test_only_the_librarys_media_is_served(app, made):
    _, output = made
    data = Path(app.env["STUDIO_DATA_DIR"]).resolve()
    with httpx.Client(base_url=app.url, timeout=30) as http:
        login = http.post("/login", data={"username": OWNER[0], "password": OWNER[1]})
        assert login.status_code in (200, 303)

        def get(p: Path) -> int:
            return http.get(f"/gradio_api/file={p}").status_code

        assert get(Path(output)) == 200
        secret_paths = [data / "studio.sqlite3", data / "studio.sqlite3-wal", data / "preview-endpoint" /
                        "endpoint.json", data / "preview-endpoint" / "endpoint.log",
                        next((data / "library" / "meta" / "jobs").glob("*.json"))]
        for p in secret_paths:
            if p.exists():
                assert get(p) != 200, p
        assert any(p.exists() for p in secret_paths[:3])


def test_reviewer_page_hides_running_and_can_comment(app, made, browser):
    job_id, _ = made
    ctx = browser.new_context(viewport=VIEW)
    page = ctx.new_page()
    page.goto(app.url)
    page.get_by_label("username").fill(REVIEWER[0])
    page.get_by_label("password").fill(REVIEWER[1])
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#role-banner")).to_contain_text("Reviewer", timeout=60_000)
    expect(page.get_by_role("tab", name="Portrait", exact=True)).to_be_hidden()
    page.get_by_role("tab", name="Jobs", exact=True).click()
    open_job(page, job_id)
    expect(page.locator("#jobs-rerun")).to_be_hidden()
    page.locator("#review-text textarea").fill("The eyes need more light.")
    page.get_by_text("Needs changes", exact=True).click()
    page.locator("#review-post").click()
    expect(page.locator("#review-thread")).to_contain_text("The eyes need more light.")
    expect(page.locator("#review-thread")).to_contain_text("Needs changes")
    ctx.close()
    side = json.loads(Path(made[1] + ".json").read_text())
    assert side["comments"][-1]["author"] == REVIEWER[0] and side["comments"][-1]["verdict"] == "needs_changes"


def test_a_truncated_history_comes_back_after_a_restart(app, made):
    data = Path(app.env["STUDIO_DATA_DIR"])
    db = data / "studio.sqlite3"
    before = sorted(r for r in sqlite3.connect(db).execute("SELECT id, outputs FROM jobs"))
    app.stop()
    for side in (data / "backups").glob("*.sqlite3"):
        side.unlink()                               # the journal alone must be enough
    db.write_bytes(b"")
    app.start()
    assert "History was" not in app.log()
    assert "The history database was empty" in app.log()
    after = sorted(r for r in sqlite3.connect(db).execute("SELECT id, outputs FROM jobs"))
    assert [a[0] for a in after] == [b[0] for b in before]
    assert [json.loads(a[1]) for a in after] == [json.loads(b[1]) for b in before]
    with httpx.Client(base_url=app.url, timeout=30) as http:
        http.post("/login", data={"username": OWNER[0], "password": OWNER[1]})
        assert "History repaired" in http.get("/config").text


def test_the_jobs_api_lists_what_was_made_for_owners_and_reviewers(app, made):
    job_id, _ = made
    c = Client(app.url, auth=REVIEWER, verbose=False)
    jobs = c.predict(action="portrait", status="completed", limit=10, api_name="/jobs")
    assert job_id in [j["id"] for j in jobs]
    mine = next(j for j in jobs if j["id"] == job_id)
    assert mine["outputs"][0]["mime"] == "image/png" and "/gradio_api/file=" in mine["outputs"][0]["url"]
    with pytest.raises(Exception) as info:
        c.predict(action="painting", api_name="/jobs")
    assert "action: 'painting' is not a job" in str(info.value)


def test_the_studio_exports_through_the_api(app, made, tmp_path):
    from backend.exchange import import_zip
    c = Client(app.url, auth=REVIEWER, verbose=False)
    zip_path = c.predict(api_name="/export_studio")
    got = import_zip(Path(zip_path), tmp_path / "elsewhere")
    assert got["jobs"] >= 1 and got["files"] >= 1


def _login_cookie(app, who: tuple[str, str]) -> str:
    with httpx.Client(base_url=app.url, timeout=30) as http:
        r = http.post("/login", data={"username": who[0], "password": who[1]})
        assert r.status_code in (200, 303), r.text
        return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def _mcp_call(url: str, headers: dict, tool: str, args: dict):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client
    async with streamablehttp_client(f"{url}/gradio_api/mcp/", headers=headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await session.call_tool(tool, args)


def _mcp(app, who: tuple[str, str] | None, tool: str, args: dict):
    headers = {"Cookie": _login_cookie(app, who)} if who else {}
    # A thread of its own: the session-wide sync Playwright owns this thread's event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _mcp_call(app.url, headers, tool, args)).result(timeout=120)


def test_mcp_behind_the_login_runs_for_owners_and_refuses_reviewers_and_visitors(app, made):
    made_by_owner = _mcp(app, OWNER, "music", {"tags": "calm harp", "duration": 5, "steps": 10})
    assert not made_by_owner.isError, made_by_owner
    assert ".mp3" in json.dumps([c.model_dump() for c in made_by_owner.content])
    before = _jobs(app)
    for who, sentence in ((REVIEWER, "Reviewers can look, play, download and comment, but cannot run jobs"),
                          (None, "Log in as an owner of this studio to run jobs")):
        result = _mcp(app, who, "music", {"tags": "calm harp", "duration": 5, "steps": 10})
        text = json.dumps([c.model_dump() for c in result.content])
        assert result.isError and sentence in text, (who, text)
    assert _jobs(app) == before
    listed = _mcp(app, REVIEWER, "jobs", {})                # looking is allowed
    assert not listed.isError and made[0] in json.dumps([c.model_dump() for c in listed.content])
