"""Injected failures for tests (--test-hooks): answer a status code, or drop the connection, N times per route."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROUTES = ("run", "runsync", "status", "stream", "cancel", "retry", "purge-queue", "health")
STATUSES = (429, 500, 502, 503, 504)


@dataclass
class Fault:
    route: str
    count: int
    status: int | None = None
    drop: bool = False
    drop_after_enqueue: bool = False


def parse_fault(body: Any) -> Fault:
    """Validate a POST /_test/faults body; raises ValueError naming the field and what is allowed."""
    if not isinstance(body, dict):
        raise ValueError("body: must be an object {route, status | drop, count}")
    route = body.get("route")
    if route not in ROUTES:
        raise ValueError(f"route: {route!r} is not one of {', '.join(ROUTES)}")
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count: must be a non-negative integer (0 clears the route), got {count!r}")
    if count == 0:
        return Fault(route=route, count=0)          # clears the route; nothing else is needed
    drop = body.get("drop", False)
    after = body.get("drop_after_enqueue", False)
    if not isinstance(drop, bool) or not isinstance(after, bool):
        raise ValueError("drop, drop_after_enqueue: must be true or false")
    status = body.get("status")
    if after and route not in ("run", "runsync"):
        raise ValueError("drop_after_enqueue: only applies to route run or runsync")
    if drop or after:
        if status is not None:
            raise ValueError("status: give either status or drop, not both")
        return Fault(route=route, count=count, drop=True, drop_after_enqueue=after)
    if status not in STATUSES:
        raise ValueError(f"status: {status!r} is not one of {', '.join(map(str, STATUSES))} (or use drop: true)")
    return Fault(route=route, count=count, status=status)


class FaultTable:
    """Per route, the queued faults; each request of that route consumes one."""

    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}

    def add(self, fault: Fault) -> None:
        if fault.count == 0:
            self._faults.pop(fault.route, None)
            return
        self._faults.setdefault(fault.route, []).append(fault)

    def take(self, route: str) -> Fault | None:
        pending = self._faults.get(route)
        if not pending:
            return None
        fault = pending[0]
        fault.count -= 1
        if fault.count <= 0:
            pending.pop(0)
        return fault

    def snapshot(self) -> list[dict[str, Any]]:
        return [vars(f).copy() for faults in self._faults.values() for f in faults]
