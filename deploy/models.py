"""Typed views of what RunPod answers, parsed once at the edge (REST v2 and the queue API's /health)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORKER_STATES = ("running", "idle", "initializing", "throttled", "unhealthy")


def _ids(items: Any) -> list[str]:
    out = []
    for item in items or []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and item.get("id"):
            out.append(str(item["id"]))
    return out


@dataclass(frozen=True)
class Volume:
    id: str
    name: str
    size_gb: int
    datacenter: str

    @classmethod
    def from_api(cls, d: dict) -> "Volume":
        return cls(id=str(d["id"]), name=str(d.get("name") or ""), size_gb=int(d.get("size") or 0),
                   datacenter=str(d.get("dataCenter") or d.get("dataCenterId") or ""))


@dataclass(frozen=True)
class Endpoint:
    id: str
    name: str
    template_id: str | None
    network_volumes: list[str]
    gpu_pools: list[str]
    workers_min: int | None
    workers_max: int | None
    idle_timeout: int | None
    flashboot: str | None
    timeout_ms: int | None
    datacenters: list[str]
    env: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    scaler: str | None = None

    @classmethod
    def from_v2(cls, d: dict) -> "Endpoint":
        gpu = d.get("gpu") or {}
        workers = d.get("workers") or {}
        vols = _ids(d.get("networkVolumes"))
        if not vols and d.get("networkVolumeId"):
            vols = [str(d["networkVolumeId"])]
        pools = gpu.get("pools") if isinstance(gpu, dict) else None
        if pools is None and isinstance(d.get("gpuIds"), str):
            pools = [p.strip() for p in d["gpuIds"].split(",") if p.strip()]
        env = d.get("env") or {}
        if isinstance(env, list):  # GraphQL's [{key, value}] form
            env = {e.get("key"): e.get("value") for e in env if isinstance(e, dict)}
        return cls(id=str(d["id"]), name=str(d.get("name") or ""), template_id=d.get("templateId"),
                   network_volumes=vols, gpu_pools=list(pools or []),
                   workers_min=workers.get("min"), workers_max=workers.get("max"),
                   idle_timeout=workers.get("idleTimeout"), flashboot=d.get("flashboot"),
                   timeout_ms=d.get("timeout"), datacenters=list(d.get("dataCenterIds") or []), env=dict(env),
                   image=d.get("image"), scaler=(d.get("scaling") or {}).get("type"))


@dataclass(frozen=True)
class Worker:
    id: str
    status: str            # lower case: running | idle | initializing | throttled | unhealthy | …
    uptime_s: int | None   # None until the worker is placed and running (so never while initializing)
    gpu: str
    datacenter: str
    stale: bool
    image: str | None = None

    @classmethod
    def from_v2(cls, d: dict) -> "Worker":
        up = d.get("uptimeSeconds")
        return cls(id=str(d.get("id") or ""), status=str(d.get("status") or "unknown").lower(),
                   uptime_s=None if up is None else int(up), gpu=str(d.get("gpuTypeId") or ""),
                   datacenter=str(d.get("dataCenterId") or ""), stale=bool(d.get("isStale")), image=d.get("image"))


def parse_workers(body: Any) -> list[Worker]:
    items = body.get("workers") if isinstance(body, dict) else body
    return [Worker.from_v2(w) for w in items or [] if isinstance(w, dict)]


@dataclass(frozen=True)
class Health:
    workers: dict[str, int]
    jobs: dict[str, int]

    @classmethod
    def from_api(cls, d: dict) -> "Health":
        # Missing keys mean 0 (the documented example omits most of them).
        w = d.get("workers") or {}
        j = d.get("jobs") or {}
        return cls(workers={k: int(w.get(k) or 0) for k in ("idle", "ready", "running", "initializing",
                                                             "throttled", "unhealthy")},
                   jobs={k: int(j.get(k) or 0) for k in ("inQueue", "inProgress", "completed", "failed", "retried")})

    def sentence(self) -> str:
        w, j = self.workers, self.jobs
        ready = max(w["ready"], w["idle"])
        if j["inQueue"] and not ready and not w["running"] and w["initializing"]:
            return f"Warming up: {w['initializing']} worker(s) initializing, {j['inQueue']} job(s) waiting."
        if w["throttled"] and not ready and not w["running"]:
            return f"Capacity problem: {w['throttled']} worker(s) throttled (no free GPU in the pools chosen)."
        if not any(w.values()):
            return "Scaled to zero: no workers; the next job starts one (cold start)."
        return f"{w['running']} running, {ready} ready, {w['initializing']} initializing."


def log_lines(events: list[dict]) -> list[str]:
    """The lines of a worker-log SSE stream: each event's data is {"ts", "source", "line"}."""
    import json

    out = []
    for ev in events:
        try:
            data = json.loads(ev.get("data") or "")
        except (json.JSONDecodeError, TypeError):
            data = ev.get("data")
        if isinstance(data, dict):
            line = str(data.get("line") or "")
            out.append(f"[{data['source']}] {line}" if data.get("source") == "system" else line)
        elif data:
            out.append(str(data))
    return [ln for ln in out if ln.strip()]
