"""The sequence docs/deploy.md walks through — volume → image → secret → endpoint → provision → status → doctor →
update → delete — against the stand-in held to RunPod's REST v2 OpenAPI document."""
from __future__ import annotations

import json

from tests.deploy.test_operate_commands import DEBUG_OK


def test_the_documented_sequence_end_to_end(deploy, fake, docker, clock):
    # 1. The network volume, in a data center with a three-letter region.
    rc, out = deploy("volume", "create", "--name", "studio-models", "--size", "50", "--datacenter", "EUR-IS-1",
                     "--yes")
    assert rc == 0, out
    vol = deploy.state()["volume_id"]
    assert fake.volumes[vol]["dataCenter"] == "EUR-IS-1"

    # 2. The image, built for linux/amd64 and tagged with the commit.
    rc, out = deploy("image", "build", "--repository", "ghcr.io/me/studio-worker", "--push", "--yes")
    assert rc == 0, out
    first_image = deploy.state()["image"]
    assert docker.calls[0][:4] == ["buildx", "build", "--platform", "linux/amd64"]

    # 3. The HF token as a RunPod secret.
    rc, out = deploy("secret", "set", "--yes", env={"HF_TOKEN": "hf_SEQUENCE_SECRET"})
    assert rc == 0, out

    # 4. Template + endpoint, read back with the volume attached and pinned to its data center.
    rc, out = deploy("endpoint", "create", "--gpu-pools", "ADA_24,AMPERE_48", "--workers-max", "3", "--yes")
    assert rc == 0, out
    st = deploy.state()
    eid, tid = st["endpoint_id"], st["template_id"]
    held = fake.endpoints[eid]
    assert held["image"] == first_image and held["networkVolumes"] == [vol] and held["dataCenterIds"] == ["EUR-IS-1"]
    assert held["env"] == {"HF_TOKEN": "{{ RUNPOD_SECRET_hf_token }}"} and fake.bound_template[eid] == tid
    assert "Monthly floor: $3.50" in out

    # 5. Provision the models of two jobs.
    fake.s.provision_progress = [{"stage": "downloading", "step": 1, "steps": 1, "percent": 100.0, "seq": 1,
                                  "file": "checkpoints/Deliberate_v5.safetensors"}]
    fake.s.provision_output = {"status": "success", "jobs": {
        "portrait": {"ready": True, "downloaded": ["checkpoints/Deliberate_v5.safetensors"], "skipped": [],
                     "failed": []},
        "tts": {"ready": True, "downloaded": [], "skipped": ["tts/a.pt"], "failed": []}}}
    rc, out = deploy("provision", "--jobs", "portrait,tts", "--yes")
    assert rc == 0, out
    assert "portrait: ready — 1 downloaded" in out and "tts: ready — 0 downloaded, 1 already there" in out

    # 6. Status while a worker starts (RunPod reports no uptime yet), then doctor once it is idle.
    fake.s.workers = [{"id": "wa", "status": "INITIALIZING"}]
    fake.s.health = {"jobs": {"inQueue": 1}, "workers": {"initializing": 1}}
    rc, out = deploy("status")
    assert rc == 0 and "Warming up: 1 worker(s) initializing, 1 job(s) waiting." in out
    assert "wa  initializing" in out and "not running yet" in out
    clock.advance(90)
    fake.s.workers = [{"id": "wa", "status": "IDLE", "uptimeSeconds": 40, "gpuTypeId": "NVIDIA GeForce RTX 4090",
                       "dataCenterId": "EUR-IS-1"}]
    fake.s.health = {"jobs": {"inQueue": 0}, "workers": {"idle": 1, "ready": 1}}
    fake.s.debug_output = DEBUG_OK
    rc, out = deploy("doctor", "--json")
    assert rc == 0, out
    report = json.loads(out)
    assert report["ok"] is True and {c["check"]: c["status"] for c in report["checks"]} == {
        "endpoint": "ok", "image": "ok", "workers": "ok", "capacity": "ok", "volume": "ok", "volume mount": "ok",
        "comfyui": "ok", "models": "ok"}
    assert deploy.state()["initializing_since"] == {}

    # 7. A new image reaches the endpoint itself (its template was a snapshot), confirmed on read-back.
    rc, out = deploy("endpoint", "update", "--image", "ghcr.io/me/studio-worker:next", "--yes")
    assert rc == 0, out
    assert fake.endpoints[eid]["image"] == "ghcr.io/me/studio-worker:next"
    assert fake.templates[tid]["image"] == first_image
    assert deploy.state()["image"] == "ghcr.io/me/studio-worker:next"

    # 8. Delete: the endpoint and its bound template go; the volume and its models stay.
    rc, out = deploy("endpoint", "delete", "--yes")
    assert rc == 0, out
    assert not fake.endpoints and not fake.templates and vol in fake.volumes
    assert deploy.state()["endpoint_id"] is None and deploy.state()["volume_id"] == vol

    # Every management request conformed to the document and succeeded; the token went to the secret store only.
    rest = [q for q in fake.requests if q.path.startswith("/v2/")]
    failed = [(q.method, q.path, q.status) for q in rest if not 200 <= q.status < 300]
    # The one 404 is delete confirming the bound template went with the endpoint.
    assert failed == [("GET", f"/v2/templates/{tid}", 404)], failed
    creates = [q for q in rest if q.method == "POST"]
    assert {q.path for q in creates} == {"/v2/network-volumes", "/v2/account/secrets", "/v2/templates",
                                         "/v2/serverless"} and all(q.status == 201 for q in creates)
    assert all("hf_SEQUENCE_SECRET" not in q.body for q in fake.requests if q.path != "/v2/account/secrets")
