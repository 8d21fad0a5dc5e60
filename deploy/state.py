"""The small state file that remembers the ids `deploy` made, so later commands need none."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

DEFAULT_PATH = ".studio-deploy.json"


@dataclass
class DeployState:
    volume_id: str | None = None
    volume_name: str | None = None
    volume_size_gb: int | None = None
    datacenter: str | None = None
    template_id: str | None = None
    endpoint_id: str | None = None
    endpoint_name: str | None = None
    image: str | None = None
    gpu_pools: list[str] = field(default_factory=list)
    hf_secret: str | None = None
    # endpoint id → worker id → when a check (status, doctor) first saw that worker initializing (Unix time).
    # RunPod gives no uptime until a worker runs, so "stuck initializing" is judged across checks from this.
    initializing_since: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict) -> "DeployState":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


def state_path(explicit: str | None, env: dict[str, str]) -> Path:
    return Path(explicit or env.get("STUDIO_DEPLOY_STATE") or DEFAULT_PATH)


def load(path: Path) -> DeployState:
    if not path.exists():
        return DeployState()
    try:
        return DeployState.from_dict(json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"state file {path} is not valid JSON ({exc}); fix or delete it") from exc


def save(path: Path, state: DeployState) -> None:
    # Write-then-rename so an interrupted command never leaves half a file behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
