"""Issue 14, point by point: the commands against the stand-in held to RunPod's REST v2 OpenAPI document."""
from __future__ import annotations

import httpx
import pytest

from deploy.api import Api, ApiConfig, ApiError


def _line(out: str, check: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.split(" ", 1)[-1].lstrip().startswith(f"{check}:")]
    return line


@pytest.fixture
def volume(deploy):
    rc, out = deploy("volume", "create", "--name", "models", "--size", "100", "--datacenter", "EU-RO-1", "--yes")
    assert rc == 0, out
    return deploy.state()["volume_id"]


@pytest.fixture
def endpoint(deploy, fake, volume):
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:one", "--yes")
    assert rc == 0, out
    fake.requests.clear()
    return deploy.state()["endpoint_id"]


def _raw(fake, method: str, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.request(method, f"http://127.0.0.1:{fake.port}{path}", json=body,
                         headers={"Authorization": f"Bearer {fake.s.key}"})


# -- the stand-in is an oracle ------------------------------------------------------------------------------------
def test_a_request_the_schema_refuses_gets_runpods_422(fake):
    # The template body deploy used to send: v1's volumeInGb is not in v2's closed CreateTemplateRequest.
    r = _raw(fake, "POST", "/v2/templates", {"name": "studio-abc", "image": "ghcr.io/me/w:abc", "serverless": True,
                                              "disk": 40, "volumeInGb": 0, "env": {}})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) == {"title", "status", "detail", "errors"} and body["status"] == 422
    assert any("volumeInGb" in e for e in body["errors"]), body
    assert not fake.templates
    # deploy's client turns that into one sentence naming the field.
    with Api(ApiConfig(key=fake.s.key, rest_base=fake.env["RUNPOD_REST_BASE"])) as api:
        with pytest.raises(ApiError) as err:
            api.rest("POST", "/templates", {"name": "x", "image": "r/w:1", "volumeInGb": 0})
    assert err.value.status == 422 and "RunPod answered 422 Unprocessable Entity to POST /templates" in str(err.value)
    assert "volumeInGb" in str(err.value)


def test_a_response_the_schema_does_not_allow_is_caught(fake, deploy, endpoint):
    fake.s.workers = [{"id": "w1", "status": "BOOTING"}]  # not a WorkerStatus
    r = _raw(fake, "GET", f"/v2/serverless/{endpoint}/workers")
    assert r.status_code == 500 and "broke RunPod's OpenAPI document" in r.json()["detail"]
    assert fake.violations and "BOOTING" in fake.violations[0]
    fake.violations.clear()  # the fixture fails any test that leaves one


def test_template_edits_do_not_reach_an_endpoint_and_deleting_it_takes_its_template(fake, deploy, endpoint):
    tid = deploy.state()["template_id"]
    r = _raw(fake, "PATCH", f"/v2/templates/{tid}", {"image": "ghcr.io/me/w:two"})
    assert r.status_code == 200 and r.json()["image"] == "ghcr.io/me/w:two"
    assert _raw(fake, "GET", f"/v2/serverless/{endpoint}").json()["image"] == "ghcr.io/me/w:one"
    assert _raw(fake, "DELETE", f"/v2/templates/{tid}").status_code == 400  # bound to the endpoint
    assert _raw(fake, "DELETE", f"/v2/serverless/{endpoint}").status_code == 204
    assert _raw(fake, "GET", f"/v2/templates/{tid}").status_code == 404


# -- 1. the template body ------------------------------------------------------------------------------------------
def test_1_template_is_created_without_v1_fields(deploy, fake, volume):
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--disk", "30", "--yes")
    assert rc == 0, out
    (tpl,) = fake.requests_to("POST", "/v2/templates")
    assert tpl.status == 201
    assert fake.json_body(tpl) == {"name": "studio-abc", "image": "ghcr.io/me/w:abc", "serverless": True,
                                   "disk": 30, "env": {}}
    assert "volumeInGb" not in out


# -- 2. a new image reaches the endpoint ---------------------------------------------------------------------------
def test_2_update_image_patches_the_endpoint_and_confirms_it(deploy, fake, endpoint):
    tid = deploy.state()["template_id"]
    rc, out = deploy("endpoint", "update", "--image", "ghcr.io/me/w:two", "--yes")
    assert rc == 0, out
    (patch,) = fake.requests_to("PATCH", f"/v2/serverless/{endpoint}")
    assert fake.json_body(patch) == {"image": "ghcr.io/me/w:two"} and patch.status == 200
    assert not fake.requests_to("PATCH", "/v2/templates")
    # Read back after the PATCH, and the endpoint RunPod holds runs the new image in a new release.
    assert fake.requests.index(patch) < max(i for i, q in enumerate(fake.requests)
                                            if q.method == "GET" and q.path == f"/v2/serverless/{endpoint}")
    assert fake.endpoints[endpoint]["image"] == "ghcr.io/me/w:two" and fake.versions[endpoint] == 2
    assert fake.templates[tid]["image"] == "ghcr.io/me/w:one"
    assert "image ghcr.io/me/w:two" in out and deploy.state()["image"] == "ghcr.io/me/w:two"
    # Workers still on the old release show as outdated.
    fake.s.workers = [{"id": "w1", "status": "IDLE", "uptimeSeconds": 60, "version": 1}]
    rc, out = deploy("status")
    assert "w1  idle" in out and "(outdated: runs an older release)" in out


def test_2_an_image_that_does_not_show_on_read_back_is_a_failure(deploy, fake, endpoint):
    fake.s.patch_ignores = {"image"}
    rc, out = deploy("endpoint", "update", "--image", "ghcr.io/me/w:two", "--yes")
    assert rc == 1
    assert f"endpoint {endpoint} still reports ghcr.io/me/w:one instead of ghcr.io/me/w:two" in out
    assert "Updated endpoint" not in out and deploy.state()["image"] == "ghcr.io/me/w:one"


# -- 3. REQUEST_COUNT without idleTimeout --------------------------------------------------------------------------
def test_3_request_count_scaler_sends_no_idle_timeout(deploy, fake, volume):
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--scaler", "REQUEST_COUNT",
                     "--scaler-value", "2", "--idle-timeout", "20", "--yes")
    assert rc == 2 and "--idle-timeout: does not apply with --scaler REQUEST_COUNT" in out
    assert not fake.requests_to("POST", "/v2/templates")
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--scaler", "REQUEST_COUNT",
                     "--scaler-value", "2", "--yes")
    assert rc == 0, out
    (epq,) = fake.requests_to("POST", "/v2/serverless")
    body = fake.json_body(epq)
    assert epq.status == 201 and body["workers"] == {"min": 0, "max": 3}
    assert body["scaling"] == {"type": "REQUEST_COUNT", "requestCount": 2}
    rc, out = deploy("endpoint", "update", "--idle-timeout", "20", "--yes")
    assert rc == 2 and "--idle-timeout: this endpoint scales on REQUEST_COUNT" in out
    assert not fake.requests_to("PATCH", "/v2/serverless")
    # What RunPod answers to the body deploy used to send:
    r = _raw(fake, "PATCH", f"/v2/serverless/{deploy.state()['endpoint_id']}", {"workers": {"idleTimeout": 20}})
    assert r.status_code == 422 and "idleTimeout does not apply" in r.json()["detail"]


# -- 4. worker logs are an SSE stream that stays open ---------------------------------------------------------------
def test_4_doctor_reads_the_log_stream_and_names_an_image_pull_failure(deploy, fake, endpoint):
    fake.s.workers = [{"id": "w3", "status": "INITIALIZING"}]
    fake.s.logs = {"w3": ["worker booting"] * 3 + [
        {"source": "system", "line": "Error response from daemon: manifest unknown: ghcr.io/me/w:one"}]}
    rc, out = deploy("doctor", "--debug-timeout", "2")
    assert rc == 1
    image = _line(out, "image")
    assert image.startswith("PROBLEM") and "image pull failing" in image and "manifest unknown" in image
    assert "logs unavailable" not in out
    (logs,) = fake.requests_to("GET", f"/v2/serverless/{endpoint}/workers/w3/logs")
    assert logs.status == 200 and "tail=100" in logs.query


def test_4_a_slow_to_start_silent_log_stream_is_still_read(deploy, fake, endpoint):
    fake.s.log_headers_after_s, fake.s.log_keepalive = 1.5, False
    fake.s.workers = [{"id": "w4", "status": "UNHEALTHY"}]
    fake.s.logs = {"w4": [{"source": "container", "line": "exec /start.sh: exec format error"}]}
    fake.s.debug_output = {"status": "ok"}
    rc, out = deploy("doctor", "--debug-timeout", "2")
    image = _line(out, "image")
    assert image.startswith("PROBLEM") and "exec format error" in image, out


# -- 5. secrets ----------------------------------------------------------------------------------------------------
def test_5_secret_goes_to_account_secrets_with_runpods_name_rules(deploy, fake):
    for bad in ("1token", "RUNPOD_hf", "hf token"):
        rc, out = deploy("secret", "set", "--name", bad, "--yes", env={"HF_TOKEN": "hf_SECRET_5"})
        assert rc == 2 and f"--name: {bad!r} is not a RunPod secret name" in out
    assert not fake.requests
    rc, out = deploy("secret", "set", "--name", "hf/studio.token", "--yes", env={"HF_TOKEN": "hf_SECRET_5"})
    assert rc == 0, out
    (req,) = fake.requests_to("POST", "/v2/account/secrets")
    assert req.status == 201 and fake.json_body(req) == {"name": "hf/studio.token", "value": "hf_SECRET_5"}
    assert "hf_SECRET_5" not in out and deploy.state()["hf_secret"] == "hf/studio.token"
    rc, out = deploy("secret", "set", "--name", "hf/studio.token", "--yes", env={"HF_TOKEN": "hf_SECRET_5"})
    assert rc == 1 and "already exists" in out and "--hf-secret hf/studio.token" in out
    rc, out = deploy("endpoint", "create", "--image", "r/w:abc", "--volume", "vol1", "--datacenter", "EU-RO-1",
                     "--hf-secret", "9lives", "--yes")
    assert rc == 2 and "--hf-secret: '9lives' is not a RunPod secret name" in out


def test_5_without_the_v2_secrets_route_graphql_stores_it(deploy, fake):
    fake.s.account_secrets_route = False  # the schema revision we hold has no secrets path
    rc, out = deploy("secret", "set", "--yes", env={"HF_TOKEN": "hf_SECRET_6"})
    assert rc == 0, out
    (v2,) = fake.requests_to("POST", "/v2/account/secrets")
    assert v2.status == 404
    (gql,) = fake.requests_to("POST", "/graphql")
    assert fake.json_body(gql)["variables"]["input"] == {"name": "hf_token", "value": "hf_SECRET_6"}
    assert fake.secrets == {"hf_token": "hf_SECRET_6"} and "through RunPod's GraphQL API" in out
    assert not fake.requests_to("POST", "/v2/secrets")


# -- 6. data center ids --------------------------------------------------------------------------------------------
def test_6_data_centers_with_three_letter_regions(deploy, fake):
    rc, out = deploy("volume", "create", "--name", "m", "--size", "50", "--datacenter", "EUR-IS-1", "--yes")
    assert rc == 0, out
    assert deploy.state()["datacenter"] == "EUR-IS-1"
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--yes")
    assert rc == 0, out
    assert fake.endpoints[deploy.state()["endpoint_id"]]["dataCenterIds"] == ["EUR-IS-1"]
    rc, out = deploy("volume", "create", "--name", "m", "--size", "50", "--datacenter", "eu-ro-1", "--yes")
    assert rc == 2 and "--datacenter: 'eu-ro-1' is not a data center id like EU-RO-1, US-KS-2 or EUR-IS-1" in out
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--datacenter", "EUR-NO-1", "--yes")
    assert rc == 2 and "--datacenter: EUR-NO-1 is not where volume" in out and "(EUR-IS-1)" in out


# -- 7. stuck initializing, judged across checks --------------------------------------------------------------------
def test_7_stuck_initializing_is_judged_across_checks(deploy, fake, endpoint, clock):
    fake.s.workers = [{"id": "w5", "status": "INITIALIZING", "uptimeSeconds": 9999}]  # RunPod sends null
    fake.s.logs = {"w5": ["still pulling layers"]}
    rc, out = deploy("status")
    assert rc == 0 and "w5  initializing" in out and "not running yet" in out and "up " not in out
    first = deploy.state()["initializing_since"][endpoint]["w5"]
    assert first == clock.now
    clock.advance(120)
    rc, out = deploy("doctor", "--debug-timeout", "2")
    workers = _line(out, "workers")
    assert workers.startswith("OK") and "seen initializing for 2 min 0 s by earlier checks" in workers
    clock.advance(600)
    rc, out = deploy("doctor")
    assert rc == 1
    workers = _line(out, "workers")
    assert workers.startswith("PROBLEM") and "workers stuck initializing: 1 worker(s) seen initializing for 12 min" \
        in workers
    assert "still pulling layers" in out  # the log tail is shown with it
    assert _line(out, "models").startswith("SKIPPED")  # no worker can run the debug action
    # Once the worker runs, the sighting is forgotten.
    fake.s.workers = [{"id": "w5", "status": "IDLE", "uptimeSeconds": 30}]
    rc, out = deploy("status")
    assert "up 0 min" in out and endpoint not in deploy.state()["initializing_since"]


# -- 8. --volume re-pins the data center ----------------------------------------------------------------------------
def test_8_update_volume_pins_the_new_volumes_data_center(deploy, fake, endpoint):
    rc, out = deploy("volume", "create", "--name", "models-is", "--size", "60", "--datacenter", "EUR-IS-1", "--yes")
    assert rc == 0, out
    vol2 = deploy.state()["volume_id"]
    rc, out = deploy("endpoint", "update", "--volume", vol2, "--yes")
    assert rc == 0, out
    (patch,) = fake.requests_to("PATCH", f"/v2/serverless/{endpoint}")
    assert fake.json_body(patch) == {"networkVolumes": [vol2], "dataCenterIds": ["EUR-IS-1"]}
    held = fake.endpoints[endpoint]
    assert held["networkVolumes"] == [vol2] and held["dataCenterIds"] == ["EUR-IS-1"]
    assert f"volume {vol2} attached" in out and "pinned to EUR-IS-1" in out
    st = deploy.state()
    assert st["datacenter"] == "EUR-IS-1" and st["volume_size_gb"] == 60


# -- 9. no orphan template -----------------------------------------------------------------------------------------
def test_9_a_failed_endpoint_create_removes_its_template(deploy, fake, volume):
    fake.s.faults = {"POST /v2/serverless": 1}
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--yes")
    assert rc == 1 and "RunPod answered 500" in out and "was removed again" in out
    assert not fake.templates and deploy.state()["template_id"] is None
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--yes")
    assert rc == 0, out
    assert len(fake.templates) == 1 and len(fake.endpoints) == 1


def test_9_a_template_that_could_not_be_removed_is_reused(deploy, fake, volume):
    fake.s.faults = {"POST /v2/serverless": 1, "DELETE /v2/templates/{id}": 1}
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:abc", "--yes")
    assert rc == 1 and "could not be removed" in out and "the next endpoint create reuses it" in out
    (left,) = fake.templates
    assert deploy.state()["template_id"] == left and deploy.state()["endpoint_id"] is None
    rc, out = deploy("endpoint", "create", "--image", "ghcr.io/me/w:def", "--yes")
    assert rc == 0, out
    assert f"Reusing template {left}" in out
    assert list(fake.templates) == [left] and fake.templates[left]["image"] == "ghcr.io/me/w:def"
    (ep,) = fake.endpoints.values()
    assert ep["image"] == "ghcr.io/me/w:def" and fake.bound_template[ep["id"]] == left
    assert len(fake.requests_to("POST", "/v2/templates")) == 1
