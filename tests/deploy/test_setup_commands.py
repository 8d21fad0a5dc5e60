"""volume, image, secret and endpoint commands against the fake management APIs."""
from __future__ import annotations

import subprocess

from deploy.image import REPO_ROOT
from tests.deploy.conftest import ARM64_INDEX


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_volume_create_prints_plan_then_creates_and_remembers_the_id(deploy, fake):
    rc, out = deploy("volume", "create", "--name", "studio-models", "--size", "100", "--datacenter", "EU-RO-1",
                     "--yes")
    assert rc == 0, out
    assert out.index("Will create network volume") < out.index("Created network volume")
    assert "$7.00/month" in out
    (req,) = fake.requests_to("POST", "/v2/network-volumes")
    assert fake.json_body(req) == {"name": "studio-models", "size": 100, "dataCenter": "EU-RO-1"}
    assert req.authorization == f"Bearer {fake.s.key}"
    st = deploy.state()
    assert st["volume_id"] in fake.volumes and st["datacenter"] == "EU-RO-1" and st["volume_size_gb"] == 100
    rc, out = deploy("volume", "list")
    assert rc == 0 and st["volume_id"] in out and "(in state)" in out


def test_volume_create_falls_back_to_graphql_when_v2_lacks_the_route(deploy, fake):
    fake.s.v2_volumes_route = False
    rc, out = deploy("volume", "create", "--name", "m", "--size", "50", "--datacenter", "US-KS-2", "--yes")
    assert rc == 0, out
    (gql,) = fake.requests_to("POST", "/graphql")
    body = fake.json_body(gql)
    assert "createNetworkVolume" in body["query"]
    assert body["variables"]["input"] == {"name": "m", "size": 50, "dataCenterId": "US-KS-2"}
    assert deploy.state()["volume_id"] in fake.volumes


def test_without_yes_and_without_a_terminal_nothing_changes(deploy, fake):
    rc, out = deploy("volume", "create", "--name", "m", "--size", "50", "--datacenter", "EU-RO-1")
    assert rc == 1 and "re-run with --yes" in out and "Will create network volume" in out
    assert not fake.requests_to("POST", "/v2/network-volumes")
    assert not deploy.state_file.exists()


def test_bad_input_names_the_field(deploy, fake):
    rc, out = deploy("volume", "create", "--name", "m", "--size", "5", "--datacenter", "EU-RO-1", "--yes")
    assert rc == 2 and "--size: 5 GB is outside 10–4000 GB" in out
    rc, out = deploy("endpoint", "create", "--image", "r/w:abc", "--volume", "vol1", "--datacenter", "EU-RO-1",
                     "--gpu-pools", "ADA_24,RTX_9999", "--yes")
    assert rc == 2 and "--gpu-pools: unknown pool RTX_9999" in out and "ADA_24" in out
    assert not fake.requests


def test_image_build_is_amd64_tagged_with_the_commit_and_checks_the_pushed_manifest(deploy, docker):
    rc, out = deploy("image", "build", "--repository", "ghcr.io/me/studio-worker", "--push", "--yes")
    assert rc == 0, out
    build = docker.calls[0]
    assert build[:4] == ["buildx", "build", "--platform", "linux/amd64"]
    ref = build[build.index("--tag") + 1]
    assert ref.startswith(f"ghcr.io/me/studio-worker:{_commit()}")
    assert "--push" in build and build[build.index("--file") + 1] == "worker/Dockerfile"
    assert docker.calls[1] == ["buildx", "imagetools", "inspect", "--raw", ref]
    assert out.index("Will build") < out.index("Pushed")
    assert deploy.state()["image"] == ref


def test_image_without_amd64_is_refused(deploy, docker):
    docker.manifest = ARM64_INDEX
    rc, out = deploy("image", "build", "--repository", "ghcr.io/me/studio-worker", "--push", "--yes")
    assert rc == 1
    assert "linux/arm64 but no linux/amd64" in out and "python -m deploy image build --push" in out
    assert not deploy.state_file.exists() or "image" not in deploy.state() or deploy.state()["image"] is None
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:arm", "--volume", "vol1", "--datacenter",
                     "EU-RO-1", "--yes")
    assert rc == 1 and "no linux/amd64" in out


def _create_volume_and_secret(deploy):
    assert deploy("volume", "create", "--name", "models", "--size", "200", "--datacenter", "EU-RO-1", "--yes")[0] == 0
    rc, out = deploy("secret", "set", "--yes", env={"HF_TOKEN": "hf_SECRETVALUE123"})
    assert rc == 0 and "hf_SECRETVALUE123" not in out, out


def test_endpoint_create_makes_template_and_endpoint_and_verifies_the_volume(deploy, fake):
    _create_volume_and_secret(deploy)
    vol = deploy.state()["volume_id"]
    rc, out = deploy("endpoint", "create", "--name", "studio", "--image", "ghcr.io/me/w:abc123",
                     "--gpu-pools", "ADA_24,AMPERE_48", "--workers-max", "2", "--idle-timeout", "20",
                     "--execution-timeout", "1200", "--env", "COMFY_LOG_LEVEL=INFO", "--yes")
    assert rc == 0, out
    (tpl,) = fake.requests_to("POST", "/v2/templates")
    t = fake.json_body(tpl)
    # Only what CreateTemplateRequest allows (v1's volumeInGb would be a 422).
    assert t == {"name": "studio-abc123", "image": "ghcr.io/me/w:abc123", "serverless": True, "disk": 40,
                 "env": {"COMFY_LOG_LEVEL": "INFO", "HF_TOKEN": "{{ RUNPOD_SECRET_hf_token }}"}}
    (epq,) = fake.requests_to("POST", "/v2/serverless")
    e = fake.json_body(epq)
    assert tpl.status == 201 and epq.status == 201
    assert e["templateId"] in fake.templates and e["type"] == "QUEUE"
    assert e["workers"] == {"min": 0, "max": 2, "idleTimeout": 20}
    assert e["gpu"] == {"pools": ["ADA_24", "AMPERE_48"], "count": 1}
    assert e["flashboot"] == "FLASHBOOT" and e["scaling"] == {"type": "QUEUE_DELAY", "queueDelay": 4}
    assert e["timeout"] == 1_200_000 and e["networkVolumes"] == [vol] and e["dataCenterIds"] == ["EU-RO-1"]
    st = deploy.state()
    assert fake.requests_to("GET", f"/v2/serverless/{st['endpoint_id']}")  # read back
    assert "Monthly floor: $14.00" in out and "ADA_24" in out and "$0.00031/GPU-second" in out
    assert out.index("Will create a serverless template") < out.index("Created endpoint")
    # The HF token went to the secret store only, never into a template/endpoint body.
    for q in fake.requests:
        if q.path != "/v2/account/secrets":
            assert "hf_SECRETVALUE123" not in q.body
    assert fake.secrets == {"hf_token": "hf_SECRETVALUE123"}
    # The endpoint as RunPod holds it runs that image, with the secret reference in its env.
    held = fake.endpoints[st["endpoint_id"]]
    assert held["image"] == "ghcr.io/me/w:abc123" and held["env"]["HF_TOKEN"] == "{{ RUNPOD_SECRET_hf_token }}"


def test_endpoint_create_fails_loudly_when_the_volume_comes_back_unattached(deploy, fake):
    _create_volume_and_secret(deploy)
    vol = deploy.state()["volume_id"]
    fake.s.attach_volume = False
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--yes")
    assert rc == 1
    assert f"WITHOUT network volume {vol}" in out
    assert f"python -m deploy endpoint update --volume {vol} --yes" in out
    assert deploy.state()["endpoint_id"]  # remembered so update/delete can act on it
    fake.s.attach_volume = True
    rc, out = deploy("endpoint", "update", "--volume", vol, "--yes")
    assert rc == 0 and f"volume {vol} attached" in out
    (patch,) = fake.requests_to("PATCH", "/v2/serverless/")
    assert fake.json_body(patch) == {"networkVolumes": [vol], "dataCenterIds": ["EU-RO-1"]}


def test_endpoint_update_and_delete_use_the_state_file(deploy, fake):
    _create_volume_and_secret(deploy)
    assert deploy("endpoint", "create", "--image", "ghcr.io/me/w:one", "--yes")[0] == 0
    st = deploy.state()
    rc, out = deploy("endpoint", "update", "--workers-max", "5", "--yes")
    assert rc == 0, out
    (ep,) = fake.requests_to("PATCH", f"/v2/serverless/{st['endpoint_id']}")
    assert fake.json_body(ep) == {"workers": {"max": 5}}
    assert fake.endpoints[st["endpoint_id"]]["workers"]["max"] == 5
    rc, out = deploy("endpoint", "delete", "--yes")
    assert rc == 0 and "Will delete endpoint" in out
    assert fake.requests_to("DELETE", f"/v2/serverless/{st['endpoint_id']}")
    # RunPod deletes the bound template with the endpoint; nothing of either is left.
    assert st["endpoint_id"] not in fake.endpoints and st["template_id"] not in fake.templates
    assert deploy.state()["endpoint_id"] is None and deploy.state()["volume_id"] == st["volume_id"]


def test_a_401_is_a_sentence_that_names_the_fix(deploy, fake):
    rc, out = deploy("volume", "list", env={"RUNPOD_API_KEY": "rp_wrong_key_999"})
    assert rc == 1
    assert "RunPod answered 401 Unauthorized to GET /network-volumes: invalid bearer token." in out
    assert "Check RUNPOD_API_KEY" in out and "rp_wrong_key_999" not in out


def test_a_429_is_retried(deploy, fake):
    fake.s.throttle_next = 2
    rc, out = deploy("volume", "create", "--name", "m", "--size", "50", "--datacenter", "EU-RO-1", "--yes")
    assert rc == 0, out
    assert len(fake.requests_to("POST", "/v2/network-volumes")) == 3
    assert out.count("answered 429") == 2


def test_the_module_entry_point_runs(fake, tmp_path):
    import os
    import sys
    env = {**os.environ, **fake.env, "STUDIO_DEPLOY_STATE": str(tmp_path / "s.json")}
    p = subprocess.run([sys.executable, "-m", "deploy", "volume", "list"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "No network volumes." in p.stdout
