"""The endpoint's workers and queue, as the studio's Endpoint tab shows them."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from deploy import endpoint as ep_mod
from deploy.api import Api
from deploy.models import Health, Worker


@dataclass
class Status:
    endpoint_id: str
    health: Health
    workers: list[Worker]

    def lines(self) -> list[str]:
        w, j = self.health.workers, self.health.jobs
        out = [f"Endpoint {self.endpoint_id}: {self.health.sentence()}",
               f"Workers: {w['running']} running, {max(w['ready'], w['idle'])} idle, {w['initializing']} "
               f"initializing, {w['throttled']} throttled, {w['unhealthy']} unhealthy",
               f"Queue: {j['inQueue']} waiting, {j['inProgress']} in progress; {j['completed']} completed, "
               f"{j['failed']} failed, {j['retried']} retried"]
        for wk in self.workers:
            out.append(f"  {wk.id}  {wk.status:<12} {wk.gpu or '?'} in {wk.datacenter or '?'}, "
                       f"up {wk.uptime_s // 60} min{' (outdated)' if wk.stale else ''}")
        return out

    def to_json(self) -> dict:
        return {"endpoint_id": self.endpoint_id, "summary": self.health.sentence(),
                "workers": self.health.workers, "jobs": self.health.jobs,
                "worker_list": [asdict(w) for w in self.workers]}


def read(api: Api, endpoint_id: str) -> Status:
    health = Health.from_api(api.queue("GET", endpoint_id, "/health") or {})
    return Status(endpoint_id, health, ep_mod.workers(api, endpoint_id))
