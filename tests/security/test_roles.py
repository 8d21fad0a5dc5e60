"""Issue 19, findings 3–5: every endpoint checks the role first.

One studio (`python app.py`, preview mode) with an owner and a reviewer login and MCP on. The owner makes a little
of everything (a portrait, speech from a reference recording, a scene, a cast member); then, as an attacker
would, the test reads the page's config and calls **every** event by fn_index through the queue — as the
reviewer and without any login — and every MCP tool over HTTP without a cookie and as the reviewer. It fails on
any call that changes the data folder (files, and every row of every table), starts a job, answers a visitor
with anything but the login refusal, or leaves a studio export behind. On the owner's scene, the reviewer then
gets pages and a PDF from the Pages view, the named API and MCP — with the data folder still unchanged — and the
PDF is served as an attachment.
"""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import io
import json
import re
import sqlite3
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from tests.support.media import spoken_reference
from tests.support.procs import stop_detached_endpoint
from tests.support.studio import App

OWNER = ("owner", "owner-pass-1")
REVIEWER = ("rev", "reviewer-pass-2")
REVIEWER_NO = "Reviewers can look, play, download and comment, but cannot"
VISITOR_NO = re.compile(r"Log in (as an owner of|to) this studio to ")

# What a reviewer may trigger (reading, or a comment/verdict); every other event must refuse them. Events are
# named as an attacker sees them in /config: the trigger's elem_id and event, else the handler's name and event.
READABLE = {
    "on_load.load", "estimate_now.load", "tick.tick", "jobs-refresh.click", "jobs-action.change",
    "jobs-status.change", "jobs-table.select", "do_refresh.then", "review-post.click", "show.change",
    "exchange-export.click", "scene-pick.input", "scene-shot.input", "scene-shot-image.focus",
    "scene-music-track.focus", "cast-pick.input", "refresh.select", "do_refresh.select", "on_tab.select",
    "voice-library.change", "th-refresh.click", "th-lib-audio.focus", "endpoint-jobs.change",
    "endpoint-estimate.click", "jobs.click", "cast.click", "export_studio.click", "scene-review-post.click",
    "comment.click", "comments.click",
    # Pages (issue 20: reviewers may fetch pages and exports): theirs are written outside the data folder.
    "on_scene.change", "pages-show.click", "pages-format.input", "pages-page.input", "pages-balloon.input",
    "pages-export-pdf.click", "pages-export-cbz.click", "pages-export-epub.click", "pages-export-webtoon.click",
    "scene_pages.click", "scene_export.click",
    "on_show.select",       # Scenes shown again (main's issue 23 work): re-checks the script against the cast, reads
}
# The holes of the audit, by name: each must be refused to a reviewer.
MUST_REFUSE = {
    "scene-export.click", "scene-cancel.click", "scene-save.click", "scene-delete.click", "scene-make.click",
    "scene-render.click", "scene-import.upload", "jobs-rerun.click", "jobs-cancel.click", "endpoint-check.click",
    "endpoint-warm.click", "cast-save.click", "cast-delete.click", "voice-save.click", "exchange-upload.upload",
    "portrait-run.click", "th-image.change", "portrait.click", "tts.click", "lipsync.click", "talking_head.click",
    "scene_render.click",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    a = App(tmp_path_factory.mktemp("security-roles"),
            {"STUDIO_AUTH": ":".join(OWNER), "STUDIO_REVIEWERS": ":".join(REVIEWER), "STUDIO_MCP": "1"}).start()
    yield a
    a.stop()
    stop_detached_endpoint(a.root / "data" / "preview-endpoint" / "endpoint.json")


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    from tests.support.page import CHROMIUM, CHROMIUM_ARGS
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


# -- talking to the studio as an attacker would ------------------------------------------------------------------
def login(app: App, who: tuple[str, str] | None) -> httpx.Client:
    http = httpx.Client(base_url=app.url, timeout=60)
    if who:
        r = http.post("/login", data={"username": who[0], "password": who[1]})
        assert r.status_code in (200, 303), r.text
    return http


def call_event(http: httpx.Client, fn_index: int, data: list, session: str, event_data: Any = None
               ) -> dict[str, Any]:
    """Join the queue for one event and read its stream to the end: {"http": status} when refused at the door,
    else {"success": bool, "output": {...}}."""
    r = http.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                   "event_data": event_data, "trigger_id": None})
    if r.status_code != 200:
        return {"http": r.status_code, "text": r.text}
    event_id = r.json().get("event_id")
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("event_id") == event_id and msg.get("msg") == "process_completed":
                return msg
            if msg.get("msg") == "close_stream":
                break
    return {"success": False, "output": {"error": "the stream closed without an answer"}}


def event_name(dep: dict, comps: dict[int, dict]) -> str:
    target, event = (dep["targets"] or [[None, "load"]])[0]
    elem_id = (comps.get(target) or {}).get("props", {}).get("elem_id") if target is not None else None
    return f"{elem_id or re.sub(r'_[0-9]+$', '', dep.get('api_name') or 'fn')}.{event}"


def default_inputs(dep: dict, comps: dict[int, dict], job_id: str) -> list:
    """Each input's value as the page would send it; the remembered job (a BrowserState) is the owner's job."""
    out = []
    for cid in dep["inputs"]:
        comp = comps[cid]
        out.append(job_id if comp["type"] == "browserstate" else comp.get("props", {}).get("value"))
    return out


def enumerate_events(app: App, who: tuple[str, str] | None, job_id: str) -> dict[str, list[dict]]:
    """Every event with a server function, called once (load events first, so the session holds a scene as a
    page would); returns {event name: [answers]}."""
    owner = login(app, OWNER)
    cfg = owner.get("/config").json()
    comps = {c["id"]: c for c in cfg["components"]}
    deps = [d for d in cfg["dependencies"] if d.get("backend_fn")]
    deps.sort(key=lambda d: 0 if any(t[1] == "load" for t in d["targets"]) else 1)
    http, session = login(app, who), uuid.uuid4().hex[:11]
    answers: dict[str, list[dict]] = {}
    for dep in deps:
        event = (dep["targets"] or [[None, "load"]])[0][1]
        event_data = {"index": 0, "value": "x", "selected": True} if event == "select" else None
        got = call_event(http, dep["id"], default_inputs(dep, comps, job_id), session, event_data)
        answers.setdefault(event_name(dep, comps), []).append(got)
    return answers


def error_of(answer: dict) -> str:
    return str((answer.get("output") or {}).get("error") or answer.get("text") or "")


# -- what "changed nothing" means -----------------------------------------------------------------------------
def snapshot(app: App) -> dict[str, Any]:
    """Every file of the data folder (by content) and every row of every table; the endpoint's own folder is left
    out (its log grows with health checks) — a job sent to it shows as a row in `jobs`."""
    data = Path(app.env["STUDIO_DATA_DIR"])
    files = {}
    for p in sorted(data.rglob("*")):
        rel = p.relative_to(data).as_posix()
        if p.is_file() and not rel.startswith(("preview-endpoint/", "studio.sqlite3")):
            files[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    db = sqlite3.connect(f"file:{data / 'studio.sqlite3'}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {t: sorted(map(repr, db.execute(f'SELECT * FROM "{t}"'))) for t in tables}
    finally:
        db.close()
    return {"files": files, "rows": rows}


def differences(before: dict, after: dict) -> list[str]:
    out = [f"file {k}" for k in sorted(set(before["files"]) ^ set(after["files"]))]
    out += [f"file {k} changed" for k in before["files"] if k in after["files"]
            and before["files"][k] != after["files"][k]]
    out += [f"table {t}" for t in sorted(set(before["rows"]) | set(after["rows"]))
            if before["rows"].get(t) != after["rows"].get(t)]
    return out


def exports_left(app: App) -> list[Path]:
    return sorted(p for p in app.root.rglob("*.zip"))


# -- the owner's studio ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def studio(app, tmp_path_factory):
    """A portrait and a speech job (its reference recording is an input), a scene, its speakers in the cast and a
    PDF of its pages, all made by the owner; returns the portrait's job id."""
    d = tmp_path_factory.mktemp("owner-media")
    owner = Client(app.url, auth=OWNER, verbose=False)
    owner.predict(prompt="a lighthouse keeper, front-facing", width=256, height=256, steps=2, api_name="/portrait")
    owner.predict(text="The lights are out.", reference_audio=handle_file(str(spoken_reference(d / "ref.wav"))),
                  api_name="/tts")
    http, session = login(app, OWNER), uuid.uuid4().hex[:11]
    cfg = http.get("/config").json()
    comps = {c["id"]: c for c in cfg["components"]}
    by_name = {event_name(dep, comps): dep for dep in cfg["dependencies"] if dep.get("backend_fn")}
    for name in ("on_load.load",):           # the owner's Scenes page: its first scene is saved on load
        for dep in (d for d in cfg["dependencies"] if event_name(d, comps) == name):
            assert call_event(http, dep["id"], default_inputs(dep, comps, ""), session).get("success"), name
    save = by_name["cast-save.click"]
    got = call_event(http, save["id"], [None, "Mara", "silver hair", None, "None", -1, None, 0.8, None, None],
                     session)
    assert got.get("success"), got
    # Ben, the example scene's other speaker (from a page of his own: the form above now holds Mara).
    got = call_event(http, save["id"], [None, "Ben", "a fisherman", None, "None", -1, None, 0.8, None, None],
                     uuid.uuid4().hex[:11])
    assert got.get("success"), got.get("output")
    db = Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3"
    con = sqlite3.connect(db)
    job_id = con.execute("SELECT id FROM jobs WHERE action='portrait' AND status='completed'").fetchone()[0]
    scenes = con.execute("SELECT COUNT(*) FROM scenes").fetchone()[0]
    con.close()
    assert scenes == 1
    owner.predict(scene=scene_of(app)[1], format="pdf", api_name="/scene_export")    # a library file and a job
    assert pages_jobs(app) == 1
    return job_id


def scene_of(app: App) -> tuple[str, str]:
    db = sqlite3.connect(Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3")
    try:
        return db.execute("SELECT id, title FROM scenes").fetchone()
    finally:
        db.close()


def pages_jobs(app: App) -> int:
    db = sqlite3.connect(Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3")
    try:
        return db.execute("SELECT COUNT(*) FROM jobs WHERE action='pages' AND status='completed'").fetchone()[0]
    finally:
        db.close()


def page_session(app: App, who: tuple[str, str]) -> tuple[httpx.Client, str, dict[str, dict]]:
    """A session of `who` whose page has loaded (so it holds the first scene, as a page would): the client, the
    session hash and the events by name."""
    http, session = login(app, who), uuid.uuid4().hex[:11]
    cfg = http.get("/config").json()
    comps = {c["id"]: c for c in cfg["components"]}
    deps = [d for d in cfg["dependencies"] if d.get("backend_fn")]
    for dep in (d for d in deps if any(t[1] == "load" for t in d["targets"])):
        assert call_event(http, dep["id"], default_inputs(dep, comps, ""), session).get("success"), dep["id"]
    return http, session, {event_name(d, comps): d for d in deps}


def served(http: httpx.Client, file: dict) -> httpx.Response:
    """A file an event handed back, fetched as the browser would."""
    r = http.get(file["url"])
    assert r.status_code == 200, (file, r.status_code)
    assert r.headers.get("x-content-type-options") == "nosniff"
    return r


def test_visitors_get_nothing_from_any_event_and_reviewers_change_nothing(app, studio):
    job_id = studio
    before = snapshot(app)
    # No login at all: every event is refused at the door, and so is the page's config.
    anonymous = enumerate_events(app, None, job_id)
    assert len(anonymous) > 40
    assert all(a["http"] == 401 for answers in anonymous.values() for a in answers), anonymous
    assert login(app, None).get("/config").status_code == 401
    anon = login(app, None)
    for api_name in ("jobs", "cast", "export_studio", "comments"):          # the named API's other doors
        for route in (f"/gradio_api/call/{api_name}", f"/gradio_api/api/{api_name}"):
            assert anon.post(route, json={"data": []}).status_code == 401, route

    # The reviewer: each event either refuses with the reviewer's sentence or only reads.
    reviewed = enumerate_events(app, REVIEWER, job_id)
    refused = {name for name, answers in reviewed.items() if any(REVIEWER_NO in error_of(a) for a in answers)}
    allowed = set(reviewed) - refused
    assert MUST_REFUSE <= refused, {n: reviewed.get(n) for n in MUST_REFUSE - refused}
    assert allowed <= READABLE, f"events a reviewer may trigger that are not known to read only: {allowed - READABLE}"
    assert {"on_load.load", "tick.tick", "jobs.click", "cast.click", "review-post.click"} <= allowed
    assert all(a.get("success") for a in reviewed["on_load.load"]), reviewed["on_load.load"]
    # Refused before anything else: no validation message, no file read, the same sentence for each.
    for name in refused:
        for a in reviewed[name]:
            assert a.get("success") is False and REVIEWER_NO in error_of(a), (name, a)

    # The reviewer on the owner's scene: pages and a PDF from the Pages view and the named API (issue 20).
    http, session, events = page_session(app, REVIEWER)
    shown = call_event(http, events["pages-show.click"]["id"], [None, "us_comic"], session)
    assert shown.get("success"), shown
    status, gallery = shown["output"]["data"][:2]                # (the page model stays in the session)
    told = re.search(r"(\d+) pages?, \d+ balloons", status)
    assert told and len(gallery) == int(told[1]) >= 1, status
    page = served(http, gallery[0]["image"])
    assert page.content[:8] == b"\x89PNG\r\n\x1a\n" and "attachment" not in page.headers.get("content-disposition", "")
    exported = call_event(http, events["pages-export-pdf.click"]["id"], [None, "us_comic"], session)
    assert exported.get("success") and "Exported PDF" in exported["output"]["data"][0], exported
    pdf = exported["output"]["data"][1]["value"]
    assert "studio-exports" in Path(pdf["path"]).parts                       # the pruned folder, not the library
    got = served(http, pdf)
    assert got.content[:5] == b"%PDF-" and got.headers["content-disposition"].startswith("attachment"), got.headers
    # The owner's PDF in the library is served the same way (backend/served.py judges it a book: an attachment).
    db = sqlite3.connect(Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3")
    kept = json.loads(db.execute("SELECT outputs FROM jobs WHERE action='pages'").fetchone()[0])[0]["path"]
    db.close()
    got = served(http, {"url": f"/gradio_api/file={kept}"})
    assert got.content[:5] == b"%PDF-" and got.headers["content-disposition"].startswith("attachment"), got.headers
    rev = Client(app.url, auth=REVIEWER, verbose=False, download_files=str(app.root / "downloads-rev"))
    title = scene_of(app)[1]
    paths, model = rev.predict(scene=title, api_name="/scene_pages")
    assert len(paths) == len(model["pages"]) >= 1 and all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in paths)
    pdf = rev.predict(scene=title, format="pdf", api_name="/scene_export")
    assert Path(pdf).read_bytes()[:5] == b"%PDF-"
    assert pages_jobs(app) == 1 and differences(before, snapshot(app)) == []


def test_every_mcp_tool_refuses_visitors_and_lets_reviewers_only_read(app, studio):
    job_id = studio
    before = snapshot(app)
    tools = mcp_tools(app, None)
    assert {"portrait", "tts", "lipsync", "animate", "music", "talking_head", "scene_render", "jobs", "cast",
            "export_studio", "comment", "comments", "scene_pages", "scene_export"} <= set(tools)
    title = scene_of(app)[1]
    on_scene = {"scene_pages": {"scene": title}, "scene_export": {"scene": title, "format": "pdf"}}
    calls = [(name, on_scene.get(name) or sample_args(schema)) for name, schema in tools.items()]
    for (name, _), anon in zip(calls, mcp_calls(app, None, calls)):
        assert anon["isError"] and VISITOR_NO.search(anon["text"]), (name, anon)
        # Nothing but the refusal: no job, no cast member, no file.
        assert job_id not in anon["text"] and "Mara" not in anon["text"] and ".zip" not in anon["text"], name
    for (name, _), rev in zip(calls, mcp_calls(app, REVIEWER, calls)):
        if name in ("jobs", "cast", "export_studio", "comments"):
            assert not rev["isError"], (name, rev)
        elif name in on_scene:                   # a reviewer fetches the owner's scene's pages and its PDF
            assert not rev["isError"] and (".png" if name == "scene_pages" else ".pdf") in rev["text"], (name, rev)
        elif name == "comment":                  # allowed, and refused here only for its made-up target
            assert rev["isError"] and REVIEWER_NO not in rev["text"] and "target" in rev["text"], rev
        else:
            assert rev["isError"] and REVIEWER_NO in rev["text"], (name, rev)
    assert differences(before, snapshot(app)) == []


def test_a_reviewer_reviews_through_the_api(app, studio):
    """Issue 23 item 14: comments on a job and on a moment of a scene, with verdicts, and the list filtered."""
    job_id = studio
    db = sqlite3.connect(Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3")
    scene_id, title = db.execute("SELECT id, title FROM scenes").fetchone()
    db.close()
    rev = Client(app.url, auth=REVIEWER, verbose=False)
    at = rev.predict(target="time", target_id=scene_id, text="The boat arrives too early.",
                     verdict="needs changes", at_s=12.34, api_name="/comment")
    assert at["target"] == {"kind": "time", "scene": scene_id, "at_s": 12.3} and at["author"] == REVIEWER[0]
    assert at["verdict"] == "needs changes"
    rev.predict(target="panel", target_id=scene_id, text="Lovely fog.", page=1, panel=2, api_name="/comment")
    rev.predict(target="job", target_id=job_id, text="", verdict="approve", api_name="/comment")
    todo = rev.predict(verdict="needs changes", api_name="/comments")
    assert [c["text"] for c in todo] == ["The boat arrives too early."]
    about_scene = rev.predict(target_id=scene_id, api_name="/comments")
    assert [c["target"]["kind"] for c in about_scene] == ["panel", "time"]          # newest first
    assert about_scene[0]["target"] == {"kind": "panel", "scene": scene_id, "page": 1, "panel": 2}
    jobs = rev.predict(target="job", api_name="/comments")
    assert jobs[0]["target"] == {"kind": "job", "job": job_id} and jobs[0]["verdict"] == "approve"
    # Refusals name the field and what is allowed.
    for kwargs, words in (({"target": "time", "target_id": scene_id, "text": "x"}, "at_s: is required"),
                          ({"target": "scene", "target_id": "nope", "text": "x"}, "target_id: no scene 'nope'"),
                          ({"target": "frame", "target_id": scene_id}, "target: 'frame' is not a target"),
                          ({"target": "scene", "target_id": scene_id, "verdict": "maybe"},
                           "verdict: 'maybe' is not a verdict")):
        with pytest.raises(Exception) as info:
            rev.predict(**kwargs, api_name="/comment")
        assert words in str(info.value), (kwargs, info.value)
    # The owner's Jobs filter sees the reviewer's work too.
    owner = Client(app.url, auth=OWNER, verbose=False)
    assert len(owner.predict(target_id=scene_id, verdict="needs changes", api_name="/comments")) == 1


@pytest.mark.browser
def test_a_reviewers_scenes_page_shows_no_owner_controls(app, studio, chromium):
    """Issue 23 items 4 and 5: the reviewer's Scenes page is read-only, with the scene's comments; a comment
    without a job is answered with a note, not red Error badges."""
    from playwright.sync_api import expect

    from tests.support.page import tab
    page = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    try:
        page.goto(app.url)
        page.get_by_label("username").fill(REVIEWER[0])
        page.get_by_label("password").fill(REVIEWER[1])
        page.get_by_role("button", name="Login").click()
        expect(page.locator("#role-banner")).to_contain_text("Reviewer", timeout=60_000)
        # Jobs with no job selected (issue 23 item 5): a note, and the comment stays as typed and editable.
        page.locator("#review-text textarea").fill("Where is the lighthouse?")
        page.locator("#review-post").click()
        expect(page.locator("#review-note")).to_contain_text("pick a job in the table above first")
        expect(page.locator("#review-text textarea")).to_have_value("Where is the lighthouse?")
        expect(page.locator("#review-text textarea")).to_be_editable()
        tab(page, "Scenes")
        expect(page.locator("#scene-review-thread")).to_contain_text("The boat arrives too early.")
        expect(page.locator("#scene-review-thread")).to_contain_text("at 12.3 s")
        for control in ("scene-make", "scene-render", "scene-cancel", "scene-delete", "scene-save", "scene-import",
                        "scene-export", "scene-settings", "scene-shot-editor"):
            expect(page.locator(f"#{control}")).to_be_hidden()
        expect(page.locator("#scene-help")).to_be_hidden()              # the owner's help names Make and Render
        expect(page.locator("#scene-help-reviewer")).to_contain_text("Comments and verdicts")
        expect(page.locator("#scene-script textarea")).to_be_disabled()
        expect(page.locator("#scene-title").locator("input, textarea")).to_be_disabled()
        expect(page.locator("#scene-board")).to_be_visible()
        expect(page.locator("#scene-review-post")).to_be_visible()
        # "At" left empty is a comment on the whole scene, not one pinned to its first second.
        page.locator("#scene-review-text textarea").fill("The fog looks right.")
        page.locator("#scene-review-post").click()
        posted = page.locator("#scene-review-thread li", has_text="The fog looks right.")
        expect(posted).to_be_visible()
        expect(posted).not_to_contain_text("at 0")
        page.locator("#scene-review-text textarea").fill("Too slow here.")
        page.locator("#scene-review-at input, #scene-review-at textarea").first.fill("a minute")
        page.locator("#scene-review-post").click()
        expect(page.locator("#scene-review-note")).to_contain_text("Where: 'a minute' is not a place in the scene")
        # A page's panel, as written in the page's own words.
        page.locator("#scene-review-at input, #scene-review-at textarea").first.fill("page 1 panel 2")
        page.locator("#scene-review-post").click()
        on_panel = page.locator("#scene-review-thread li", has_text="Too slow here.")
        expect(on_panel).to_contain_text("page 1, panel 2")
        expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    finally:
        page.context.close()


def test_a_reviewers_export_holds_no_inputs_and_no_export_is_left_behind(app, studio):
    gradio_tmp = app.root / "gradio"
    zips_before = exports_left(app)
    owner = Client(app.url, auth=OWNER, verbose=False, download_files=str(app.root / "downloads-owner"))
    reviewer = Client(app.url, auth=REVIEWER, verbose=False, download_files=str(app.root / "downloads-rev"))
    owners = zipfile.ZipFile(owner.predict(api_name="/export_studio")).namelist()
    reviewers = zipfile.ZipFile(reviewer.predict(api_name="/export_studio")).namelist()
    assert any(n.startswith("library/inputs/") for n in owners)          # the reference recording
    assert any(n.startswith("library/meta/voices/") or n.startswith("library/inputs/") for n in owners)
    assert not [n for n in reviewers if n.startswith(("library/inputs/", "library/meta/voices/"))]
    assert any(n.startswith("library/outputs/") for n in reviewers)
    # One file per export on the server, in the studio's own exports folder (Gradio serves it without a copy).
    made = [p for p in exports_left(app) if p not in zips_before and gradio_tmp in p.parents]
    assert len(made) == 2 and all("studio-exports" in p.parts for p in made), made
    for p in app.root.glob("downloads-*/**/*.zip"):
        p.unlink()
    assert list((gradio_tmp / "studio-exports").glob("pages-*"))        # the reviewer's pages and PDFs
    app.stop()                                   # a clean stop removes what is left (the last test of the module)
    assert [p for p in exports_left(app) if gradio_tmp in p.parents] == []
    assert list((gradio_tmp / "studio-exports").iterdir()) == []


# -- MCP -----------------------------------------------------------------------------------------------------
def _cookie(app: App, who: tuple[str, str]) -> str:
    http = login(app, who)
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def _mcp(url: str, headers: dict, calls: list[tuple[str, dict]] | None) -> Any:
    """One MCP session: the tool list (calls None), or each call's result in order."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client
    async with streamablehttp_client(f"{url}/gradio_api/mcp/", headers=headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            if calls is None:
                return await session.list_tools()
            return [await session.call_tool(tool, args) for tool, args in calls]


def _run(app: App, who: tuple[str, str] | None, calls: list[tuple[str, dict]] | None) -> Any:
    headers = {"Cookie": _cookie(app, who)} if who else {}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:      # a loop of its own, whatever the caller runs
        return pool.submit(asyncio.run, _mcp(app.url, headers, calls)).result(timeout=300)


def mcp_tools(app: App, who: tuple[str, str] | None) -> dict[str, dict]:
    return {t.name: t.inputSchema for t in _run(app, who, None).tools}


def mcp_calls(app: App, who: tuple[str, str] | None, calls: list[tuple[str, dict]]) -> list[dict[str, Any]]:
    return [{"isError": bool(r.isError), "text": json.dumps([c.model_dump() for c in r.content])}
            for r in _run(app, who, calls)]


def _png() -> str:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (512, 512), (120, 90, 60)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _wav() -> str:
    import numpy as np
    import soundfile as sf
    buf = io.BytesIO()
    sf.write(buf, (0.2 * np.sin(np.linspace(0, 2000, 16000 * 6))).astype("float32"), 16000, format="WAV")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode()


def sample_args(schema: dict) -> dict:
    """Plausible arguments for a tool's required fields: the files as data URIs, texts, numbers."""
    out: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema["properties"].get(name, {})
        if name in ("image",):
            out[name] = _png()
        elif "audio" in name:
            out[name] = _wav()
        elif prop.get("type") in ("number", "integer"):
            out[name] = 1
        else:
            out[name] = "INT. HARBOUR - NIGHT\n\nMARA\nHello." if name == "script" else "a quiet harbour"
    return out
