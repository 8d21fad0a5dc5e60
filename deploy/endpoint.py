"""Template + endpoint in one step, read back to prove the network volume is attached; update; delete.

Every body here is held to RunPod's REST v2 OpenAPI document (request bodies are closed: a stray field is a 422).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from deploy.api import Api, ApiError
from deploy.costs import check_pools
from deploy.models import Endpoint, Worker, log_lines, parse_workers

FLASHBOOT = ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT")
SCALERS = ("QUEUE_DELAY", "REQUEST_COUNT")
DEFAULT_IDLE_TIMEOUT = 30
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# RunPod's secret names (POST /v2/account/secrets): a letter or _ first, then letters, digits, _ . - /;
# names starting with RUNPOD are reserved.
_SECRET_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.\-/]*$")
# Data center ids: EU-RO-1, US-KS-2, EUR-IS-1, EUR-NO-1, …
DATACENTER = re.compile(r"^[A-Z]{2,4}-[A-Z]{2,4}-\d+$")


class VolumeNotAttached(Exception):
    pass


class NotApplied(Exception):
    """RunPod accepted a change, but the endpoint read back does not show it."""


def secret_ref(name: str) -> str:
    """How a RunPod secret is named in an env value: the worker sees the secret, requests never carry it."""
    return "{{ RUNPOD_SECRET_" + name + " }}"


def check_secret_name(name: str, option: str) -> str:
    if not _SECRET_NAME.match(name) or name.upper().startswith("RUNPOD"):
        raise ValueError(f"{option}: {name!r} is not a RunPod secret name (a letter or _ first, then letters, "
                         f"digits, _ . - /; not starting with RUNPOD)")
    return name


def check_datacenter(dc: str, option: str = "--datacenter") -> str:
    if not DATACENTER.match(dc):
        raise ValueError(f"{option}: {dc!r} is not a data center id like EU-RO-1, US-KS-2 or EUR-IS-1")
    return dc


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _ENV_KEY.match(key):
            raise ValueError(f"--env: {pair!r} is not KEY=VALUE with a KEY of letters, digits and _")
        if key == "HF_TOKEN" and not value.startswith("{{ RUNPOD_SECRET_"):
            raise ValueError("--env: HF_TOKEN must not be given as a value; store it as a RunPod secret "
                             "(python -m deploy secret set) and pass --hf-secret NAME")
        env[key] = value
    return env


@dataclass
class EndpointSpec:
    name: str
    image: str
    volume_id: str
    datacenter: str | None
    gpu_pools: list[str]
    workers_max: int = 3
    idle_timeout: int | None = None      # None: the default for QUEUE_DELAY; not sent for REQUEST_COUNT
    flashboot: str = "FLASHBOOT"
    scaler: str = "QUEUE_DELAY"
    scaler_value: int = 4
    timeout_s: int = 1800
    disk_gb: int = 40
    env: dict[str, str] = field(default_factory=dict)
    hf_secret: str | None = None

    def check(self) -> None:
        """Raise ValueError naming the field and what is allowed."""
        if not self.name.strip():
            raise ValueError("--name: give the endpoint a name")
        if not self.image or ":" not in self.image.rsplit("/", 1)[-1]:
            raise ValueError(f"--image: {self.image!r} needs a tag, e.g. ghcr.io/you/studio-worker:<commit>")
        if not self.volume_id:
            raise ValueError("--volume: no network volume; create one first (python -m deploy volume create)")
        if self.datacenter:
            check_datacenter(self.datacenter)
        self.gpu_pools = check_pools(self.gpu_pools)
        if not 1 <= self.workers_max <= 60:
            raise ValueError(f"--workers-max: {self.workers_max} is outside 1–60")
        if self.scaler not in SCALERS:
            raise ValueError(f"--scaler: {self.scaler!r}; allowed: {', '.join(SCALERS)}")
        if self.scaler == "REQUEST_COUNT" and self.idle_timeout is not None:
            raise ValueError("--idle-timeout: does not apply with --scaler REQUEST_COUNT (RunPod refuses it); "
                             "leave it out or use --scaler QUEUE_DELAY")
        if self.scaler == "QUEUE_DELAY" and self.idle_timeout is None:
            self.idle_timeout = DEFAULT_IDLE_TIMEOUT
        if self.idle_timeout is not None and not 1 <= self.idle_timeout <= 3600:
            raise ValueError(f"--idle-timeout: {self.idle_timeout} s is outside 1–3600 s")
        if self.flashboot not in FLASHBOOT:
            raise ValueError(f"--flashboot: {self.flashboot!r}; allowed: {', '.join(FLASHBOOT)}")
        if not 1 <= self.scaler_value <= 100:
            raise ValueError(f"--scaler-value: {self.scaler_value} is outside 1–100")
        if not 5 <= self.timeout_s <= 7 * 24 * 3600:
            raise ValueError(f"--execution-timeout: {self.timeout_s} s is outside 5 s – 7 days")
        if not 10 <= self.disk_gb <= 500:
            raise ValueError(f"--disk: {self.disk_gb} GB is outside 10–500 GB")
        if self.hf_secret is not None:
            check_secret_name(self.hf_secret, "--hf-secret")

    def full_env(self) -> dict[str, str]:
        env = dict(self.env)
        if self.hf_secret:
            env["HF_TOKEN"] = secret_ref(self.hf_secret)
        return env

    def template_name(self) -> str:
        return f"{self.name}-{self.image.rsplit(':', 1)[-1]}"

    def template_body(self) -> dict:
        # No `mounts`: serverless workers get no pod volume; the models live on the network volume.
        return {"name": self.template_name(), "image": self.image, "serverless": True, "disk": self.disk_gb,
                "env": self.full_env()}

    def endpoint_body(self, template_id: str) -> dict:
        scaling = ({"type": "QUEUE_DELAY", "queueDelay": self.scaler_value} if self.scaler == "QUEUE_DELAY"
                   else {"type": "REQUEST_COUNT", "requestCount": self.scaler_value})
        workers: dict = {"min": 0, "max": self.workers_max}
        if self.idle_timeout is not None:
            workers["idleTimeout"] = self.idle_timeout
        body = {"name": self.name, "type": "QUEUE", "templateId": template_id,
                "gpu": {"pools": self.gpu_pools, "count": 1}, "workers": workers,
                "flashboot": self.flashboot, "scaling": scaling, "timeout": self.timeout_s * 1000,
                "networkVolumes": [self.volume_id]}
        if self.datacenter:
            body["dataCenterIds"] = [self.datacenter]
        return body

    def plan_lines(self) -> list[str]:
        env = ", ".join(f"{k}={v}" for k, v in self.full_env().items()) or "(none)"
        idle = f"idle timeout {self.idle_timeout} s, " if self.idle_timeout is not None else ""
        return [f"template {self.template_name()}: image {self.image}, container disk {self.disk_gb} GB, env {env}",
                f"endpoint {self.name}: GPU pools {', '.join(self.gpu_pools)}, workers 0–{self.workers_max}, "
                f"{idle}{self.flashboot}, scaler {self.scaler}={self.scaler_value}, "
                f"execution timeout {self.timeout_s} s",
                f"network volume {self.volume_id}" + (f" in {self.datacenter}" if self.datacenter else "")
                + " mounted at /runpod-volume"]


def get(api: Api, endpoint_id: str) -> Endpoint:
    return Endpoint.from_v2(api.rest("GET", f"/serverless/{endpoint_id}"))


def require_volume(ep: Endpoint, volume_id: str) -> None:
    if volume_id not in ep.network_volumes:
        have = ", ".join(ep.network_volumes) or "none"
        raise VolumeNotAttached(
            f"Endpoint {ep.id} came back WITHOUT network volume {volume_id} (attached: {have}). Workers would "
            f"start with no /runpod-volume and every job would fail with model_missing. Fix: "
            f"python -m deploy endpoint update --volume {volume_id} --yes")


def reusable_template(api: Api, template_id: str | None) -> str | None:
    """A template an earlier, failed `endpoint create` left behind (remembered in the state file), if it still
    exists; None otherwise."""
    if not template_id:
        return None
    try:
        api.rest("GET", f"/templates/{template_id}")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    return template_id


def create(api: Api, spec: EndpointSpec, *, leftover_template: str | None = None,
           on_template: Callable[[str | None], None] = lambda _id: None,
           say: Callable[[str], None] = lambda _s: None) -> tuple[str, Endpoint]:
    """Create (or reuse) the template, then the endpoint; return (template id, endpoint as read back).

    `on_template` is told the template id as soon as it exists (so a crash before the endpoint is made still
    leaves it findable) and None once a failed attempt has removed it again.
    """
    template_id = reusable_template(api, leftover_template)
    if template_id:
        # Templates are snapshots taken when an endpoint is created, so bringing this one up to date is safe.
        api.rest("PATCH", f"/templates/{template_id}", spec.template_body())
        say(f"Reusing template {template_id}, left by an earlier attempt.")
    else:
        template_id = str(api.rest("POST", "/templates", spec.template_body())["id"])
    on_template(template_id)
    try:
        created = api.rest("POST", "/serverless", spec.endpoint_body(template_id))
    except ApiError as exc:
        try:
            api.rest("DELETE", f"/templates/{template_id}")
        except ApiError as cleanup:
            raise ApiError(f"{exc} The template {template_id} it had made could not be removed ({cleanup}); "
                           f"the next endpoint create reuses it.", exc.status) from None
        on_template(None)
        raise ApiError(f"{exc} The template {template_id} it had made was removed again.", exc.status) from None
    return template_id, get(api, str(created["id"]))


def update_body(*, gpu_pools=None, workers_max=None, idle_timeout=None, flashboot=None, timeout_s=None,
                volume_id=None, datacenter=None, image=None, workers=None) -> dict:
    body: dict = {}
    w = dict(workers or {})
    if workers_max is not None:
        w["max"] = workers_max
    if idle_timeout is not None:
        if not 1 <= idle_timeout <= 3600:
            raise ValueError(f"--idle-timeout: {idle_timeout} s is outside 1–3600 s")
        w["idleTimeout"] = idle_timeout
    if w:
        body["workers"] = w
    if gpu_pools:
        body["gpu"] = {"pools": check_pools(gpu_pools), "count": 1}
    if flashboot is not None:
        if flashboot not in FLASHBOOT:
            raise ValueError(f"--flashboot: {flashboot!r}; allowed: {', '.join(FLASHBOOT)}")
        body["flashboot"] = flashboot
    if timeout_s is not None:
        body["timeout"] = timeout_s * 1000
    if volume_id:
        body["networkVolumes"] = [volume_id]
    if datacenter:
        body["dataCenterIds"] = [check_datacenter(datacenter)]
    if image:
        body["image"] = image
    return body


def update(api: Api, endpoint_id: str, body: dict) -> Endpoint:
    """PATCH the endpoint, read it back and confirm what changes what its workers run.

    A new image goes to the endpoint itself: its template was a snapshot taken at creation, so editing the
    template would change nothing. RunPod rolls the image out as a new release while workers cycle.
    """
    api.rest("PATCH", f"/serverless/{endpoint_id}", body)
    ep = get(api, endpoint_id)
    if "image" in body and ep.image != body["image"]:
        raise NotApplied(f"RunPod accepted the new image, but endpoint {endpoint_id} still reports "
                         f"{ep.image or 'no image'} instead of {body['image']}; nothing was saved. Check the "
                         f"endpoint in the RunPod console (Releases) and run the update again.")
    if "dataCenterIds" in body and not set(body["dataCenterIds"]) <= set(ep.datacenters):
        raise NotApplied(f"Endpoint {endpoint_id} came back pinned to {', '.join(ep.datacenters) or 'any'} "
                         f"data center instead of {', '.join(body['dataCenterIds'])}; workers may not reach the "
                         f"volume. Run the update again.")
    return ep


def delete(api: Api, endpoint_id: str, template_id: str | None) -> None:
    """Delete the endpoint (RunPod deletes its bound template with it); remove the template too if it is
    somehow still there."""
    api.rest("DELETE", f"/serverless/{endpoint_id}")
    if template_id and reusable_template(api, template_id) is not None:
        api.rest("DELETE", f"/templates/{template_id}")


def workers(api: Api, endpoint_id: str) -> list[Worker]:
    return parse_workers(api.rest("GET", f"/serverless/{endpoint_id}/workers"))


def worker_logs(api: Api, endpoint_id: str, worker_id: str, tail: int = 100, *, quiet_s: float = 1.0,
                max_s: float = 5.0) -> list[str]:
    """The worker's recent log lines, container and system (image pulls are in the system log)."""
    events = api.rest_events(f"/serverless/{endpoint_id}/workers/{worker_id}/logs", {"tail": tail},
                             quiet_s=quiet_s, max_s=max_s, max_events=tail + 50)
    return log_lines(events)[-tail:]


def set_secret(api: Api, name: str, value: str) -> str:
    """Store a value as a RunPod secret (the endpoint's env refers to it by name); return which API took it.

    REST v2 has it at /v2/account/secrets from later schema revisions on; where that path is missing (404),
    GraphQL's secretCreate does the same.
    """
    check_secret_name(name, "--name")
    try:
        api.rest("POST", "/account/secrets", {"name": name, "value": value})
        return "REST v2"
    except ApiError as exc:
        if exc.status == 409:
            raise ApiError(f"A RunPod secret named {name!r} already exists. If it holds this token, skip this "
                           f"step and pass --hf-secret {name} to endpoint create; otherwise pick another --name "
                           f"(or delete the old secret in the RunPod console).", 409) from None
        if exc.status not in (404, 405, 501):
            raise
    api.graphql("mutation secretCreate($input: SecretCreateInput!) { secretCreate(input: $input) { id name } }",
                {"input": {"name": name, "value": value}})
    return "GraphQL"
