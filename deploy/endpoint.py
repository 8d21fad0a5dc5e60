"""Template + endpoint in one step, read back to prove the network volume is attached; update; delete."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from deploy.api import Api, ApiError
from deploy.costs import check_pools
from deploy.models import Endpoint, Worker, parse_log_lines, parse_workers

FLASHBOOT = ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT")
SCALERS = ("QUEUE_DELAY", "REQUEST_COUNT")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class VolumeNotAttached(Exception):
    pass


def secret_ref(name: str) -> str:
    """How a RunPod secret is named in an env value: the worker sees the secret, requests never carry it."""
    return "{{ RUNPOD_SECRET_" + name + " }}"


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
    idle_timeout: int = 30
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
        self.gpu_pools = check_pools(self.gpu_pools)
        if not 1 <= self.workers_max <= 60:
            raise ValueError(f"--workers-max: {self.workers_max} is outside 1–60")
        if not 1 <= self.idle_timeout <= 3600:
            raise ValueError(f"--idle-timeout: {self.idle_timeout} s is outside 1–3600 s")
        if self.flashboot not in FLASHBOOT:
            raise ValueError(f"--flashboot: {self.flashboot!r}; allowed: {', '.join(FLASHBOOT)}")
        if self.scaler not in SCALERS:
            raise ValueError(f"--scaler: {self.scaler!r}; allowed: {', '.join(SCALERS)}")
        if not 1 <= self.scaler_value <= 100:
            raise ValueError(f"--scaler-value: {self.scaler_value} is outside 1–100")
        if not 5 <= self.timeout_s <= 7 * 24 * 3600:
            raise ValueError(f"--execution-timeout: {self.timeout_s} s is outside 5 s – 7 days")
        if not 10 <= self.disk_gb <= 500:
            raise ValueError(f"--disk: {self.disk_gb} GB is outside 10–500 GB")
        if self.hf_secret is not None and not _SECRET_NAME.match(self.hf_secret):
            raise ValueError(f"--hf-secret: {self.hf_secret!r} is not a secret name (letters, digits, _ . -)")

    def full_env(self) -> dict[str, str]:
        env = dict(self.env)
        if self.hf_secret:
            env["HF_TOKEN"] = secret_ref(self.hf_secret)
        return env

    def template_body(self) -> dict:
        # volumeInGb 0: a serverless template with the default pod volume is rejected; the models live on
        # the network volume instead.
        return {"name": f"{self.name}-{self.image.rsplit(':', 1)[-1]}", "image": self.image, "serverless": True,
                "disk": self.disk_gb, "volumeInGb": 0, "env": self.full_env()}

    def endpoint_body(self, template_id: str) -> dict:
        scaling = ({"type": "QUEUE_DELAY", "queueDelay": self.scaler_value} if self.scaler == "QUEUE_DELAY"
                   else {"type": "REQUEST_COUNT", "requestCount": self.scaler_value})
        body = {"name": self.name, "type": "QUEUE", "templateId": template_id,
                "gpu": {"pools": self.gpu_pools, "count": 1},
                "workers": {"min": 0, "max": self.workers_max, "idleTimeout": self.idle_timeout},
                "flashboot": self.flashboot, "scaling": scaling, "timeout": self.timeout_s * 1000,
                "networkVolumes": [self.volume_id]}
        if self.datacenter:
            body["dataCenterIds"] = [self.datacenter]
        return body

    def plan_lines(self) -> list[str]:
        env = ", ".join(f"{k}={v}" for k, v in self.full_env().items()) or "(none)"
        return [f"template: image {self.image}, container disk {self.disk_gb} GB, volumeInGb 0, env {env}",
                f"endpoint {self.name}: GPU pools {', '.join(self.gpu_pools)}, workers 0–{self.workers_max}, "
                f"idle timeout {self.idle_timeout} s, {self.flashboot}, scaler {self.scaler}={self.scaler_value}, "
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


def create(api: Api, spec: EndpointSpec) -> tuple[str, Endpoint]:
    """Create the template, then the endpoint; return (template id, endpoint as read back)."""
    template = api.rest("POST", "/templates", spec.template_body())
    template_id = str(template["id"])
    created = api.rest("POST", "/serverless", spec.endpoint_body(template_id))
    return template_id, get(api, str(created["id"]))


def update_body(*, gpu_pools=None, workers_max=None, idle_timeout=None, flashboot=None, timeout_s=None,
                volume_id=None, datacenter=None, workers=None) -> dict:
    body: dict = {}
    w = dict(workers or {})
    if workers_max is not None:
        w["max"] = workers_max
    if idle_timeout is not None:
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
        body["dataCenterIds"] = [datacenter]
    return body


def update(api: Api, endpoint_id: str, template_id: str | None, body: dict, image: str | None) -> Endpoint:
    if image:
        if not template_id:
            raise ValueError("--image: the state file has no template id; pass --template-id")
        api.rest("PATCH", f"/templates/{template_id}", {"image": image})
    if body:
        api.rest("PATCH", f"/serverless/{endpoint_id}", body)
    return get(api, endpoint_id)


def delete(api: Api, endpoint_id: str, template_id: str | None) -> None:
    api.rest("DELETE", f"/serverless/{endpoint_id}")
    if template_id:
        try:
            api.rest("DELETE", f"/templates/{template_id}")
        except ApiError as exc:
            if exc.status != 404:
                raise


def workers(api: Api, endpoint_id: str) -> list[Worker]:
    return parse_workers(api.rest("GET", f"/serverless/{endpoint_id}/workers"))


def worker_logs(api: Api, endpoint_id: str, worker_id: str, tail: int = 40) -> list[str]:
    return parse_log_lines(api.rest_text(f"/serverless/{endpoint_id}/workers/{worker_id}/logs"))[-tail:]


def set_secret(api: Api, name: str, value: str) -> None:
    """Store a value as a RunPod secret (the endpoint's env refers to it by name)."""
    if not _SECRET_NAME.match(name):
        raise ValueError(f"--name: {name!r} is not a secret name (letters, digits, _ . -)")
    try:
        api.rest("POST", "/secrets", {"name": name, "value": value})
    except ApiError as exc:
        if exc.status not in (404, 405, 501):
            raise
        api.graphql("mutation secretCreate($input: SecretCreateInput!) { secretCreate(input: $input) { id name } }",
                    {"input": {"name": name, "value": value}})
