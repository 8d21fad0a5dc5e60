"""The data of the queue: a validated /run request, a job record, and the job object clients see."""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any

from worker.local_endpoint import limits


class Status(str, enum.Enum):
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT})


class RequestError(ValueError):
    """A request body we refuse; `field` names the offending part."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Policy:
    execution_timeout_ms: int = limits.EXECUTION_TIMEOUT_DEFAULT_MS
    ttl_ms: int = limits.TTL_DEFAULT_MS
    low_priority: bool = False


@dataclass(frozen=True)
class RunRequest:
    input: Any
    policy: Policy = Policy()
    webhook: str | None = None
    s3_config: dict[str, Any] | None = None


def _positive_ms(policy: dict, key: str, default: int) -> int:
    value = policy.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"policy.{key}", f"must be an integer number of milliseconds, got {value!r}")
    # RunPod's lower bounds (5 s, 10 s) are not enforced so tests can exercise timeouts quickly.
    if not 1 <= value <= limits.POLICY_MAX_MS:
        raise RequestError(f"policy.{key}", f"{value} is outside 1–{limits.POLICY_MAX_MS} ms (7 days)")
    return value


def parse_run_request(body: Any) -> RunRequest:
    """Validate a /run or /runsync body once, at the edge."""
    if not isinstance(body, dict):
        raise RequestError("body", "must be a JSON object like {\"input\": {...}}")
    if "input" not in body:
        raise RequestError("input", "is required (the job's input object)")
    unknown = set(body) - {"input", "policy", "webhook", "s3Config"}
    if unknown:
        raise RequestError(sorted(unknown)[0], "is not a known key; allowed: input, policy, webhook, s3Config")
    raw_policy = body.get("policy") or {}
    if not isinstance(raw_policy, dict):
        raise RequestError("policy", "must be an object {executionTimeout, ttl, lowPriority}")
    extra = set(raw_policy) - {"executionTimeout", "ttl", "lowPriority"}
    if extra:
        raise RequestError(f"policy.{sorted(extra)[0]}", "is not known; allowed: executionTimeout, ttl, lowPriority")
    low = raw_policy.get("lowPriority", False)
    if not isinstance(low, bool):
        raise RequestError("policy.lowPriority", f"must be true or false, got {low!r}")
    policy = Policy(
        execution_timeout_ms=_positive_ms(raw_policy, "executionTimeout", limits.EXECUTION_TIMEOUT_DEFAULT_MS),
        ttl_ms=_positive_ms(raw_policy, "ttl", limits.TTL_DEFAULT_MS),
        low_priority=low,
    )
    webhook = body.get("webhook")
    if webhook is not None and not (isinstance(webhook, str) and webhook.startswith(("http://", "https://"))):
        raise RequestError("webhook", "must be an http:// or https:// URL")
    s3 = body.get("s3Config")
    if s3 is not None and not isinstance(s3, dict):
        raise RequestError("s3Config", "must be an object {accessId, accessSecret, bucketName, endpointUrl}")
    return RunRequest(input=body["input"], policy=policy, webhook=webhook, s3_config=s3)


@dataclass
class Job:
    id: str
    request: RunRequest
    retention_s: float
    created: float = field(default_factory=time.monotonic)    # submit (or retry) time; delayTime counts from it
    status: Status = Status.IN_QUEUE
    started: float | None = None
    finished: float | None = None
    worker_id: str | None = None
    output: Any = None
    has_output: bool = False
    error: str | None = None
    attempt: int = 0                 # bumped on retry/cancel so a stale handler task cannot write back
    stream: list[Any] = field(default_factory=list)
    stream_read: int = 0
    handler_outcome: str | None = None   # what the handler task did: returned|raised|cancelled|timed_out (for /_test)

    def delay_ms(self) -> int | None:
        if self.started is None:
            return None
        return int((self.started - self.created) * 1000)

    def execution_ms(self, now: float) -> int | None:
        if self.started is None:
            return None
        return int(((self.finished or now) - self.started) * 1000)

    def to_object(self, now: float | None = None) -> dict[str, Any]:
        """The job object of /status and /runsync, shaped like RunPod's."""
        now = time.monotonic() if now is None else now
        out: dict[str, Any] = {"id": self.id, "status": self.status.value}
        if self.started is not None:
            out["delayTime"] = self.delay_ms()
            out["executionTime"] = self.execution_ms(now)
            out["workerId"] = self.worker_id
        if self.has_output:
            out["output"] = self.output
        if self.error is not None:
            out["error"] = self.error
        return out

    def inspect(self, now: float) -> dict[str, Any]:
        """Everything /_test/jobs shows; never the s3Config (it holds bucket keys)."""
        return {
            **self.to_object(now),
            "input": self.request.input,
            "policy": {"executionTimeout": self.request.policy.execution_timeout_ms,
                       "ttl": self.request.policy.ttl_ms, "lowPriority": self.request.policy.low_priority},
            "attempt": self.attempt,
            "handlerOutcome": self.handler_outcome,
            "streamChunks": len(self.stream),
            "ageMs": int((now - self.created) * 1000),
        }
