"""The running step's words (worker.node_roles.step_label): what the status line reads for each kind of step."""
from __future__ import annotations

from worker import node_roles


def test_a_node_with_steps_shows_them_and_one_without_shows_its_time():
    roles = node_roles.for_prompt({"3": {"class_type": "SONICSampler"}, "7": {"class_type": "SONICTLoader"},
                                   "9": {"class_type": "MyCustomNode"}}, {"3": "animating the face"})
    assert node_roles.step_label({"stage": "running", "node": "3", "step": 3, "steps": 5}, roles) == \
        "animating the face 3/5"
    assert node_roles.step_label({"stage": "running", "node": "7", "elapsed_s": 12.7}, roles) == "loading Sonic · 12 s"
    assert node_roles.step_label({"stage": "running", "node": "7", "elapsed_s": 0}, roles) == "loading Sonic"
    assert node_roles.step_label({"stage": "running", "node": "9"}, roles) == "node 9 (MyCustomNode)"
    assert node_roles.step_label({"stage": "uploading_outputs", "node": None}, roles) == "uploading"
    assert node_roles.step_label({"stage": "running", "node": None}, roles) == "starting"


def test_every_node_of_the_catalogue_has_a_role():
    import json
    from pathlib import Path
    for path in (Path(__file__).resolve().parents[2] / "workflows").glob("*.api.json"):
        for nid, node in json.loads(path.read_text()).items():
            assert node["class_type"] in node_roles.ROLES, (path.name, nid, node["class_type"])


def test_a_node_without_steps_reports_its_running_time_each_tick_and_one_with_steps_does_not():
    from worker.comfy.runner import _Follower

    seen: list[dict] = []
    f = _Follower(client=None, prompt_id="p1", on_progress=seen.append, watchdog=lambda: None, t0=0.0)
    f.handle("executing", {"node": "7", "prompt_id": "p1"})
    assert seen[-1]["node"] == "7" and seen[-1]["steps"] == 0
    f.node_since -= 12.4                              # the loader has run for 12 s
    f.tick()
    roles = {"7": "loading Sonic", "3": "lip-sync"}
    assert node_roles.step_label(seen[-1], roles) == "loading Sonic · 12 s"
    f.handle("executing", {"node": "3", "prompt_id": "p1"})
    f.handle("progress", {"node": "3", "value": 3, "max": 5, "prompt_id": "p1"})
    assert node_roles.step_label(seen[-1], roles) == "lip-sync 3/5"
    count = len(seen)
    f.tick()                                          # its own steps say how far it is: no time-only update
    assert len(seen) == count
