"""Panels that know who is in them: the script's guess (speakers and cast named in the action), a shot's edits,
the panel job's `characters` (each reference, likeness and place), reuse by content of the references, the cast's
likeness settings, and the storyboard card naming a two-character panel's cast."""
from __future__ import annotations

import base64
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from backend.cast import Cast, Character
from backend.errors import InputError
from backend.inputs import prepare
from backend.library import Library
from backend.scenes import casting, make
from backend.scenes import plan as P
from backend.scenes.model import Appearance, Line, RenderSettings, Scene, Shot
from backend.scenes.script import parse_scene
from backend.scenes.store import SceneRecord
from tests.scenes_studio.test_plan import STYLES, FakeEndpoint, seconds, sha, voices

SCRIPT = """INT. ENGINE ROOM - NIGHT

Mara hands the wrench to BEN.

BEN
It's stuck.

The boat drifts in the fog.

MARA
Row, then.

Annabel's lantern swings.
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name in ("mara_voice", "ben_voice"):
        out[name] = str(tmp_path / f"{name}.wav")
        sf.write(out[name], np.zeros(16000 * 2, dtype="float32") + 0.01, 16000)
    out["mara_face"] = png(tmp_path / "mara.png", (200, 150, 120))
    return out


def png(path: Path, colour) -> str:
    Image.new("RGB", (64, 96), colour).save(path)
    return str(path)


def the_cast(files, tmp_path, ben_face=(60, 90, 160)):
    return {"Mara": Character("m1", "Mara", look="red coat", portrait=files["mara_face"], voice="Mara voice",
                              likeness=1.1),
            "Ben": Character("b1", "Ben", look="mechanic", voice="Ben voice",
                             portrait=png(tmp_path / f"ben-{ben_face[0]}.png", ben_face))}


def parsed() -> Scene:
    return parse_scene(SCRIPT, ["Mara", "Ben", "Anna"])


def make_plan(files, cast, sc=None, overrides=None):
    return P.plan(sc or parsed(), cast, settings=RenderSettings(aspect="16:9"), overrides=overrides or {},
                  music={"source": "none"}, style="None", styles=STYLES, voices=voices(files))


def test_a_panel_knows_the_cast_it_names_and_who_speaks_over_it():
    sc = parsed()
    first, fog, lantern = (s for s in sc.shots if s.kind == "panel")
    # named in the action, in the order written (case-insensitive, as cues are); Ben also speaks over it
    assert first.appearances == (Appearance("Mara", "left"), Appearance("Ben", "right"))
    assert fog.appearances == (Appearance("Mara", "full"),)          # nobody named; Mara speaks over it
    assert lantern.appearances == ()                                 # "Annabel" is not Anna: whole words only


def test_the_panel_job_carries_each_characters_reference_likeness_and_place(files, tmp_path):
    cast = the_cast(files, tmp_path)
    p = make_plan(files, cast)
    two = p.step("image:0").inputs["characters"]
    assert two == [{"image": files["mara_face"], "weight": 1.1, "region": "left"},
                   {"image": cast["Ben"].portrait, "weight": 0.8, "region": "right"}]
    assert p.step("image:1").inputs["characters"] == [{"image": files["mara_face"], "weight": 1.1, "region": "full"}]
    settled = P.assess(p, parsed(), {}, made=lambda k: None, sha=sha, seconds=seconds)
    assert settled["image:0"].inputs["characters"][1]["region"] == "right"      # the catalogue accepts it


def test_a_chosen_reference_is_used_instead_of_the_portrait_and_a_missing_portrait_is_made_first(files, tmp_path):
    cast = the_cast(files, tmp_path)
    sheet = png(tmp_path / "mara-profile.png", (10, 200, 10))
    cast["Mara"] = replace(cast["Mara"], reference=sheet)
    cast["Ben"] = replace(cast["Ben"], portrait=None)
    p = make_plan(files, cast)
    chars = p.step("image:0").inputs["characters"]
    assert chars[0]["image"] == sheet
    assert chars[1]["image"] == P.Ref("portrait:Ben", "image")
    settled = P.assess(p, parsed(), {}, made=lambda k: None, sha=sha, seconds=seconds)
    assert settled["image:0"].state == "waiting" and settled["portrait:Ben"].state == "missing"
    ep = FakeEndpoint(tmp_path)
    rounds = ep.make_all(p, parsed())
    assert "portrait:Ben" in rounds[0] and "image:0" in rounds[1]


def test_changing_a_portrait_remakes_exactly_the_panels_that_show_that_character(files, tmp_path):
    cast = the_cast(files, tmp_path)
    ep = FakeEndpoint(tmp_path)
    ep.make_all(make_plan(files, cast), parsed())
    ep.sent.clear()
    recast = the_cast(files, tmp_path, ben_face=(200, 200, 40))      # a new portrait for Ben only
    rounds = ep.make_all(make_plan(files, recast), parsed())
    assert rounds == [["image:0"]]          # Ben is only in the first panel; Mara's panel and all speech stay
    # and changing a likeness strength is a change too
    ep.sent.clear()
    stronger = {**recast, "Mara": replace(recast["Mara"], likeness=0.5)}
    assert ep.make_all(make_plan(files, stronger), parsed()) == [["image:0", "image:1"]]


def test_a_shots_edit_adds_removes_and_places_characters(files, tmp_path):
    cast = the_cast(files, tmp_path)
    edit = casting.parse_edit("ben: centre, Mara", cast)
    assert edit == [{"character": "Ben", "region": "center"}, {"character": "Mara"}]
    shot = parsed().shots[0]
    assert casting.effective(shot, {"characters": edit}) == (Appearance("Ben", "center"), Appearance("Mara", "left"))
    p = make_plan(files, cast, overrides={"0": {"characters": edit}, "2": {"characters": []}})
    assert [c["region"] for c in p.step("image:0").inputs["characters"]] == ["center", "left"]
    assert "characters" not in p.step("image:2").inputs                  # "none": nobody conditions it
    assert casting.parse_edit("", cast) is None and casting.parse_edit("none", cast) == []
    for bad, why in [("Zed", "not in the cast"), ("Mara: upstairs", "not a place"), ("Mara, mara", "twice")]:
        with pytest.raises(InputError) as err:
            casting.parse_edit(bad, cast)
        assert err.value.field == "characters" and why in str(err.value)


class _Studio:
    def __init__(self, root: Path):
        self.library = Library(root)


def test_the_storyboard_card_names_a_two_character_panels_cast(files, tmp_path):
    from ui.scenes import board_html
    cast = the_cast(files, tmp_path)
    sc = parsed()
    rec = SceneRecord("s1", "Engine room", SCRIPT, overrides={"2": {"characters": [{"character": "Ben"}]}})
    p = make_plan(files, cast, sc, rec.overrides)
    settled = P.assess(p, sc, rec.overrides, made=lambda k: None, sha=sha, seconds=seconds)
    work = make.SceneWork(rec, sc, None, p, settled, RenderSettings())
    cards = {c.index: c for c in work.cards()}
    assert cards[0].cast == "Mara (left), Ben (right)"
    assert cards[1].cast == "Mara"
    assert cards[2].cast == "Ben"                       # the shot's edit
    page = board_html(work)
    assert "Mara (left), Ben (right)" in page


def test_cast_likeness_and_reference_are_kept_and_checked(tmp_path):
    db = tmp_path / "studio.db"
    # a database from before the likeness columns
    old = sqlite3.connect(db)
    old.executescript("CREATE TABLE cast_members (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, "
                      "look TEXT NOT NULL, portrait TEXT, voice TEXT, seed INTEGER NOT NULL, style TEXT NOT NULL, "
                      "created_at REAL NOT NULL, updated_at REAL NOT NULL);"
                      "INSERT INTO cast_members VALUES ('x1','Old','',NULL,NULL,-1,'None',0,0);")
    old.close()
    lib = Library(tmp_path / "lib")
    cast = Cast(db, lib)
    assert cast.get("Old").likeness == 0.8 and cast.get("Old").reference is None
    ref = png(tmp_path / "side.png", (1, 2, 3))
    mara = cast.save("Mara", likeness=1.2, reference=ref)
    assert mara.likeness == 1.2 and Path(mara.reference).read_bytes() == Path(ref).read_bytes()
    assert mara.reference_image == mara.reference
    # a save that only changes the look (the Cast tab, a portrait hand-off) keeps the likeness settings
    again = cast.save("Mara", look="taller", id=mara.id)
    assert (again.likeness, again.reference) == (1.2, mara.reference)
    assert cast.save("Mara", id=mara.id, reference=None).reference is None
    with pytest.raises(InputError) as err:
        cast.save("Ben", likeness=2)
    assert err.value.field == "likeness"


def test_characters_go_over_the_wire_as_data_uris_and_are_stored_as_library_paths(files, tmp_path):
    lib = Library(tmp_path / "lib")
    stored, wire = prepare("portrait", {"prompt": "x", "characters": [
        {"image": files["mara_face"], "weight": 0.9, "region": "left"}]}, lib)
    assert Path(stored["characters"][0]["image"]).parent == lib.inputs
    uri = wire["characters"][0]["image"]
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == Path(files["mara_face"]).read_bytes()
    assert wire["characters"][0]["region"] == "left" and wire["characters"][0]["weight"] == 0.9


def test_four_characters_get_four_places():
    shot = Shot(0, "panel", 1, "Ann, Bo, Cy and Di at the table.", lines=(Line("Di", "Hi.", None, 2),))
    places = casting.appearances_for(shot.description, ["Di"], ["Di", "Cy", "Bo", "Ann"])
    assert [a.character for a in places] == ["Ann", "Bo", "Cy", "Di"]
    assert len({a.region for a in places}) == 4


def test_a_character_sheet_is_four_views_conditioned_on_the_reference(files, tmp_path):
    from backend.character_sheet import make_sheet, sheet_jobs
    from workflows.catalogue import get_spec
    mara = Character("m1", "Mara", look="red coat", portrait=files["mara_face"], seed=7, likeness=1.1,
                     style="Noir")
    jobs = sheet_jobs(mara, STYLES)
    assert [v for v, _, _ in jobs] == ["front", "three_quarter", "profile", "full_figure"]
    prompts = {inputs["prompt"] for _, _, inputs in jobs}
    assert len(prompts) == 4 and all("Mara, red coat" in p and "film noir" in p for p in prompts)
    for _, action, inputs in jobs:
        values = get_spec(action).validate(inputs)           # the portrait job takes it as it is
        assert values["characters"] == [{"image": files["mara_face"], "weight": 1.1, "region": "full"}]
        assert values["seed"] == 7
    with pytest.raises(InputError) as err:
        sheet_jobs(replace(mara, portrait=None))
    assert err.value.field == "portrait"

    class Sent:
        def __init__(self):
            self.jobs = []
            self.cast = type("C", (), {"get": staticmethod(lambda n: mara if n == "m1" else None)})()

        def submit(self, action, inputs):
            self.jobs.append((action, inputs))
            return len(self.jobs)

    studio = Sent()
    assert make_sheet(studio, "m1", STYLES) == [1, 2, 3, 4]
    assert all(a == "portrait" and i["characters"][0]["weight"] == 1.1 for a, i in studio.jobs)
