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
