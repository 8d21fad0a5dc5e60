"""The named API's `portrait` with `characters` (issue 22), against `python app.py` in preview mode with an owner
and a reviewer login: two references land each in its own region of the preview picture and are kept in the
library; a bad entry is refused naming it before any job exists; a reviewer is refused before anything is read;
the MCP tool takes the same list."""
from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import io
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import httpx
from gradio_client import Client
from PIL import Image

from tests.support.studio import running_app
from ui import api_characters
from workflows.catalogue import ParamError
from worker.preview.render import reference_rects

OWNER = ("owner", "owner-pass-1")
REVIEWER = ("rev", "reviewer-pass-2")
RED, BLUE = (220, 20, 20), (20, 40, 220)


def data_uri(colour: tuple[int, int, int], size: tuple[int, int] = (300, 400)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("api-characters"),
                     {"STUDIO_AUTH": ":".join(OWNER), "STUDIO_REVIEWERS": ":".join(REVIEWER),
                      "STUDIO_MCP": "1"}) as a:
        yield a


def portrait_jobs(app) -> list[dict]:
    db = Path(app.env["STUDIO_DATA_DIR"]) / "studio.sqlite3"
    rows = sqlite3.connect(db).execute("SELECT inputs FROM jobs WHERE action='portrait' ORDER BY created_at")
    return [json.loads(r[0]) for r in rows]


def test_two_characters_each_shows_in_its_region_and_is_kept_in_the_library(app):
    c = Client(app.url, auth=OWNER, verbose=False)
    png = c.predict(prompt="two sailors argue on deck", width=512, height=384, steps=2, seed=5,
                    characters=[{"image": data_uri(RED), "region": "left"},
                                {"image": data_uri(BLUE), "region": "right", "weight": 1.2}],
                    api_name="/portrait")
    with Image.open(png) as im:
        assert im.size == (512, 384)
        pic = np.asarray(im.convert("RGB"), dtype=float)
    means = []
    for _region, (x0, y0, x1, y1) in reference_rects((512, 384), [(0, 0, 0.5, 1), (0.5, 0, 0.5, 1)]):
        inset = (x1 - x0) // 5
        means.append(pic[y0 + inset:y1 - inset, x0 + inset:x1 - inset].mean(axis=(0, 1)))
    left, right = means
    assert left[0] > 180 and left[2] < 60, left          # the red reference in the left half
    assert right[2] > 180 and right[0] < 60, right       # the blue one in the right half

    # The job's record holds the pictures as library files (never the base64), with the weights and regions.
    chars = portrait_jobs(app)[-1]["characters"]
    assert [(c["region"], c["weight"]) for c in chars] == [("left", 0.8), ("right", 1.2)]
    library = Path(app.env["STUDIO_DATA_DIR"]).resolve()
    for entry, colour in zip(chars, (RED, BLUE)):
        kept = Path(entry["image"])
        assert kept.resolve().is_relative_to(library) and kept.is_file()
        with Image.open(kept) as im:
            assert im.convert("RGB").getpixel((5, 5)) == colour


@pytest.mark.parametrize("characters, says", [
    ([{"image": data_uri(RED), "region": "left"}, {"image": data_uri(BLUE), "region": "behind"}],
     "characters[1].region: 'behind' is not a region; use one of full, left, right, center, top, bottom"),
    ([{"image": data_uri(RED), "weight": 2}], "characters[0].weight: 2 is out of range"),
    ([{"image": "Zed"}], "characters[0].image: 'Zed' is not a data URI, an https URL, a cast member (cast: empty)"),
    ([{"image": "https://127.0.0.1/ref.png"}], "characters[0].image: was not fetched:"),
    ([{"image": "data:text/plain;base64," + base64.b64encode(b"hello there").decode()}],
     "characters[0].image: is not a picture"),
])
def test_a_bad_entry_is_refused_naming_it_and_no_job_is_made(app, characters, says):
    before = len(portrait_jobs(app))
    c = Client(app.url, auth=OWNER, verbose=False)
    with pytest.raises(Exception) as refused:
        c.predict(prompt="two sailors", steps=2, characters=characters, api_name="/portrait")
    assert says in str(refused.value)
    assert len(portrait_jobs(app)) == before


def test_a_reviewer_is_refused_before_the_characters_are_read(app):
    before = len(portrait_jobs(app))
    inputs = Path(app.env["STUDIO_DATA_DIR"]) / "library" / "inputs"
    kept = sorted(inputs.iterdir()) if inputs.is_dir() else []
    c = Client(app.url, auth=REVIEWER, verbose=False)
    with pytest.raises(Exception) as refused:
        c.predict(prompt="two sailors", steps=2, characters=[{"image": data_uri((1, 2, 3)), "region": "left"}],
                  api_name="/portrait")
    assert "Reviewers can look, play, download and comment, but cannot run jobs" in str(refused.value)
    assert len(portrait_jobs(app)) == before
    assert (sorted(inputs.iterdir()) if inputs.is_dir() else []) == kept      # nothing was decoded into the library


def mcp_portrait(app, args: dict | None) -> tuple[dict, object]:
    """As the owner over MCP: (the portrait tool's input schema, the call's result or None)."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client
    with httpx.Client(base_url=app.url, timeout=60) as http:
        http.post("/login", data={"username": OWNER[0], "password": OWNER[1]})
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())

    async def go():
        async with streamablehttp_client(f"{app.url}/gradio_api/mcp/", headers={"Cookie": cookie}) as (r, w, _):
            async with ClientSession(r, w) as session:
                await session.initialize()
                tools = {t.name: t for t in (await session.list_tools()).tools}
                return tools["portrait"].inputSchema, (await session.call_tool("portrait", args) if args else None)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result(timeout=120)


def test_the_mcp_tool_takes_the_same_list(app):
    schema, _ = mcp_portrait(app, None)
    assert schema["properties"]["characters"]["type"] == "array"       # a valid schema: clients can call the tool
    assert "name of a cast member" in schema["properties"]["characters"]["description"]
    before = len(portrait_jobs(app))
    _, bad = mcp_portrait(app, {"prompt": "two sailors", "steps": 2, "characters": [
        {"image": data_uri(RED), "region": "left"}, {"image": data_uri(BLUE), "region": [0.5, 0, 0.6, 1]}]})
    text = json.dumps([c.model_dump() for c in bad.content])
    assert bad.isError and "characters[1].region: [0.5, 0.0, 0.6, 1.0] reaches past the picture's edge" in text
    assert len(portrait_jobs(app)) == before
    _, good = mcp_portrait(app, {"prompt": "two sailors", "width": 256, "height": 256, "steps": 2, "characters": [
        {"image": data_uri(RED), "region": "left"}, {"image": data_uri(BLUE), "region": [0.5, 0, 0.5, 1]}]})
    assert not good.isError, good.content
    assert [c["region"] for c in portrait_jobs(app)[-1]["characters"]] == ["left", [0.5, 0, 0.5, 1]]


def test_a_cast_member_or_a_job_names_its_picture(tmp_path):
    """The name forms, without a studio: a cast member gives their panel reference (else their portrait), a job
    its first image; a member with neither, or a file gone from the library, is refused without its path."""
    sheet, made = tmp_path / "mara-sheet.png", tmp_path / "a.png"
    for p in (sheet, made):
        p.write_bytes(b"\x89PNG\r\n\x1a\n")
    cast = {"mara": SimpleNamespace(name="Mara", reference_image=str(sheet)),
            "ben": SimpleNamespace(name="Ben", reference_image=None),
            "teo": SimpleNamespace(name="Teo", reference_image=str(tmp_path / "gone.png"))}
    jobs = {"job-1": SimpleNamespace(id="job-1", outputs=[{"type": "image", "path": str(made)}])}
    studio = SimpleNamespace(cast=SimpleNamespace(get=lambda n: cast.get(n.lower()), names=lambda: ["Ben", "Mara"]),
                             get=jobs.get)
    checked = api_characters.parse(json.dumps([{"image": "Mara", "region": "left"}, {"image": "job-1"}]))
    assert api_characters.resolve(studio, checked) == [
        {"image": str(sheet), "weight": 0.8, "region": "left"},
        {"image": str(made), "weight": 0.8, "region": "full"}]
    with pytest.raises(ParamError, match=r"characters\[0\].image: Ben has no portrait or panel reference yet"):
        api_characters.resolve(studio, api_characters.parse([{"image": "Ben"}]))
    with pytest.raises(ParamError) as gone:
        api_characters.resolve(studio, api_characters.parse([{"image": "teo"}]))
    assert gone.value.message == "characters[0].image: Teo's picture is no longer in the library"
    with pytest.raises(ParamError, match=r"'Zed' is not a data URI, an https URL, a cast member \(cast: Ben, Mara\)"):
        api_characters.resolve(studio, api_characters.parse([{"image": "Zed"}]))
    assert api_characters.parse("") == [] and api_characters.parse(None) == []
    with pytest.raises(ParamError, match="characters: is not valid JSON"):
        api_characters.parse("[{")
