"""The typed records that cross the backend's boundary: what the studio reads and what History stores."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Statuses of a JobRecord. "unknown" means a /run may have reached RunPod but we never saw its answer, so we
# cannot tell whether a job (and a bill) exists; the user decides whether to run it again.
IN_FLIGHT = ("submitted", "queued", "running", "uploading")
TERMINAL = ("completed", "failed", "cancelled", "timed_out", "expired", "unknown")
STATUSES = IN_FLIGHT + TERMINAL
EVENT_KINDS = STATUSES


@dataclass
class JobRecord:
    id: str                                   # the studio's id (exists before /run is sent)
    endpoint: str                             # endpoint id (never a key)
    action: str
    inputs: dict[str, Any]                    # media replaced by library paths
    status: str = "submitted"
    remote_id: str | None = None              # RunPod's job id, once /run answered
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    delay_ms: int | None = None
    execution_ms: int | None = None
    cost_usd: float | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None       # {"code", "message"}
    progress: dict[str, Any] | None = None    # {"stage", "step", "steps", "percent", "seq"}
    seed: int | None = None
    licence: dict[str, Any] | None = None
    preview: bool | None = None
    warnings: list[str] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: the values are JSON-shaped and never mutated after being stored.
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def copy(self, **changes: Any) -> "JobRecord":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class JobEvent:
    kind: str                                 # one of EVENT_KINDS
    message: str                              # a sentence for a person
    record: JobRecord
    progress: dict[str, Any] | None = None

    @property
    def terminal(self) -> bool:
        return self.kind in TERMINAL


@dataclass(frozen=True)
class Policy:
    """RunPod's per-request execution policy, always sent explicitly (the defaults differ between docs)."""
    execution_timeout_ms: int = 600_000
    ttl_ms: int = 86_400_000

    def __post_init__(self) -> None:
        if not 5_000 <= self.execution_timeout_ms <= 7 * 86_400_000:
            raise ValueError(f"executionTimeout: {self.execution_timeout_ms} ms is outside 5000–604800000 ms")
        if not 10_000 <= self.ttl_ms <= 7 * 86_400_000:
            raise ValueError(f"ttl: {self.ttl_ms} ms is outside 10000–604800000 ms")

    def to_wire(self) -> dict[str, int]:
        return {"executionTimeout": self.execution_timeout_ms, "ttl": self.ttl_ms}
