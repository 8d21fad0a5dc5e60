"""The endpoint's workers and queue, as the studio's Endpoint tab shows them."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from deploy import endpoint as ep_mod
from deploy.api import Api
from deploy.models import Health, Worker
from deploy.watch import initializing_ages


@dataclass
class Status:
    endpoint_id: str
    health: Health
    workers: list[Worker]
    initializing_s: dict[str, int] = field(default_factory=dict)
    initializing_since: dict[str, float] = field(default_factory=dict)

    def _age(self, wk: Worker) -> str:
        if wk.uptime_s is not None:
            return f"up {wk.uptime_s // 60} min"
        if wk.status == "initializing":
            seen = self.initializing_s.get(wk.id, 0)
            return f"not running yet, seen initializing for {seen // 60} min" if seen else "not running yet"
        return "not placed yet"

    def lines(self) -> list[str]:
        w, j = self.health.workers, self.health.jobs
        out = [f"Endpoint {self.endpoint_id}: {self.health.sentence()}",
               f"Workers: {w['running']} running, {max(w['ready'], w['idle'])} idle, {w['initializing']} "
               f"initializing, {w['throttled']} throttled, {w['unhealthy']} unhealthy",
               f"Queue: {j['inQueue']} waiting, {j['inProgress']} in progress; {j['completed']} completed, "
               f"{j['failed']} failed, {j['retried']} retried"]
        for wk in self.workers:
            out.append(f"  {wk.id}  {wk.status:<12} {wk.gpu or '?'} in {wk.datacenter or '?'}, "
                       f"{self._age(wk)}{' (outdated: runs an older release)' if wk.stale else ''}")
        return out

    def to_json(self) -> dict:
        return {"endpoint_id": self.endpoint_id, "summary": self.health.sentence(),
                "workers": self.health.workers, "jobs": self.health.jobs,
                "worker_list": [{**asdict(w), "initializing_s": self.initializing_s.get(w.id)}
                                for w in self.workers]}


def read(api: Api, endpoint_id: str, seen_initializing: dict[str, float] | None = None,
         now: float | None = None) -> Status:
    health = Health.from_api(api.queue("GET", endpoint_id, "/health") or {})
    workers = ep_mod.workers(api, endpoint_id)
    since, ages = initializing_ages(seen_initializing or {}, workers, time.time() if now is None else now)
    return Status(endpoint_id, health, workers, ages, since)
