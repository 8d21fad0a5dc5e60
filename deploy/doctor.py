"""Explain what is wrong with a deployment, one verdict per check, each with its fix.

`gather` does the I/O (REST v2 endpoint, workers and their logs; queue /health; the worker's `debug` action);
`diagnose` is a pure function of what was gathered.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from deploy import endpoint as ep_mod
from deploy.api import Api, ApiError
from deploy.costs import other_pools
from deploy.models import Endpoint, Health, Worker
from deploy.provision import error_message
from deploy.watch import initializing_ages

ARCH_PATTERNS = ("no matching manifest for linux/amd64", "exec format error",
                 "does not match the detected host platform", "image with reference")
PULL_PATTERNS = ("pull access denied", "manifest unknown", "failed to pull", "error pulling image",
                 "errimagepull", "unauthorized: authentication required", "not found: manifest")
STUCK_AFTER_S = 600


@dataclass
class Verdict:
    check: str
    status: str            # ok | problem | skipped
    message: str
    fix: str | None = None
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        mark = {"ok": "OK     ", "problem": "PROBLEM", "skipped": "SKIPPED"}[self.status]
        return f"{mark} {self.check}: {self.message}" + (f" — fix: {self.fix}" if self.fix else "")


@dataclass
class Facts:
    endpoint_id: str
    endpoint: Endpoint | None = None
    endpoint_error: str | None = None
    expected_volume: str | None = None
    workers: list[Worker] = field(default_factory=list)
    logs: dict[str, list[str]] = field(default_factory=dict)
    health: Health | None = None
    health_error: str | None = None
    debug: dict | None = None
    debug_error: str | None = None
    stuck_after_s: int = STUCK_AFTER_S
    initializing_s: dict[str, int] = field(default_factory=dict)    # worker id → seconds seen initializing
    initializing_since: dict[str, float] = field(default_factory=dict)  # what the state file should remember


def _first(lines: list[str], patterns: tuple[str, ...]) -> str | None:
    for ln in lines:
        low = ln.lower()
        if any(p in low for p in patterns):
            return ln.strip()
    return None


def _gb(size: int) -> str:
    return f"{size / 1e9:.1f} GB"


def diagnose(f: Facts) -> list[Verdict]:
    v: list[Verdict] = []
    if f.endpoint is None:
        v.append(Verdict("endpoint", "problem", f"cannot read endpoint {f.endpoint_id}: {f.endpoint_error}",
                         "python -m deploy endpoint create (or check the id in the state file)"))
        return v
    ep = f.endpoint
    v.append(Verdict("endpoint", "ok", f"{ep.name or ep.id}: GPU pools {', '.join(ep.gpu_pools) or '?'}, "
                                       f"workers {ep.workers_min}–{ep.workers_max}"))

    all_logs = [ln for lines in f.logs.values() for ln in lines]
    arch = _first(all_logs, ARCH_PATTERNS)
    pull = _first(all_logs, PULL_PATTERNS)
    if arch:
        v.append(Verdict("image", "problem", f"image architecture wrong: the image has no linux/amd64 build "
                                             f"(worker log: \"{arch}\")",
                         "rebuild for linux/amd64 with python -m deploy image build --push, then "
                         "python -m deploy endpoint update --image <the new tag> --yes"))
    elif pull:
        v.append(Verdict("image", "problem", f"image pull failing (worker log: \"{pull}\")",
                         "check the image name and tag exist (python -m deploy image check <ref>) and, for a "
                         "private registry, add its credentials to the endpoint in RunPod"))
    else:
        v.append(Verdict("image", "ok", "no pull or architecture errors in the worker logs"))

    initializing = [w for w in f.workers if w.status == "initializing"]
    stuck = [w for w in initializing if f.initializing_s.get(w.id, 0) >= f.stuck_after_s]
    if stuck:
        worst = max(f.initializing_s[w.id] for w in stuck)
        cause = f" — the logs say \"{arch or pull}\"" if (arch or pull) else ""
        tail = [ln for w in stuck for ln in f.logs.get(w.id, [])[-5:]]
        v.append(Verdict("workers", "problem", f"workers stuck initializing: {len(stuck)} worker(s) seen "
                                               f"initializing for {worst // 60} min{cause}",
                         "fix the image (see the image verdict); if the logs show no error, check "
                         "python -m deploy status and the worker logs in the RunPod console", tail))
    else:
        counts = {s: sum(1 for w in f.workers if w.status == s) for s in ("running", "idle", "initializing")}
        msg = (f"{counts['running']} running, {counts['idle']} idle, {counts['initializing']} initializing "
               f"(none stuck)")
        if initializing:
            longest = max(f.initializing_s.get(w.id, 0) for w in initializing)
            seen = ("first seen initializing by this check" if longest == 0 else
                    f"seen initializing for {longest // 60} min {longest % 60} s by earlier checks")
            msg += (f"; {seen} — judged stuck after {f.stuck_after_s // 60} min, so run doctor again later if "
                    f"they do not start")
        v.append(Verdict("workers", "ok", msg))

    throttled = [w for w in f.workers if w.status == "throttled"]
    h = f.health.workers if f.health else {}
    usable = any(w.status in ("running", "idle") for w in f.workers) or h.get("ready") or h.get("running")
    if (throttled or h.get("throttled")) and not usable:
        dc = ", ".join(ep.datacenters) or "the volume's data center"
        more = ",".join(ep.gpu_pools + other_pools(ep.gpu_pools)[:2])
        v.append(Verdict("capacity", "problem", f"throttled: no free GPU in pools {', '.join(ep.gpu_pools)} "
                                                f"in {dc}",
                         f"add other GPU pools: python -m deploy endpoint update --gpu-pools {more} --yes"))
    else:
        v.append(Verdict("capacity", "ok", "not throttled"))

    if f.expected_volume and f.expected_volume not in ep.network_volumes:
        v.append(Verdict("volume", "problem", f"volume not attached: network volume {f.expected_volume} is not "
                                              f"on the endpoint (attached: {', '.join(ep.network_volumes) or 'none'})",
                         f"python -m deploy endpoint update --volume {f.expected_volume} --yes"))
    elif not ep.network_volumes:
        v.append(Verdict("volume", "problem", "volume not attached: the endpoint has no network volume",
                         "python -m deploy endpoint update --volume <volume id> --yes"))
    else:
        v.append(Verdict("volume", "ok", f"network volume {', '.join(ep.network_volumes)} attached"))

    if f.debug is None:
        reason = f.debug_error or "not run"
        for check in ("volume mount", "comfyui", "models"):
            v.append(Verdict(check, "skipped", f"the worker's debug action did not answer ({reason})"))
        return v

    vol = f.debug.get("volume") or {}
    if not vol.get("mounted"):
        v.append(Verdict("volume mount", "problem", f"volume not mounted: the worker sees nothing at "
                                                    f"{vol.get('path') or '/runpod-volume'}",
                         "the endpoint must run in the volume's data center: python -m deploy endpoint update "
                         f"--volume {(ep.network_volumes or ['<volume id>'])[0]} --yes"))
    else:
        v.append(Verdict("volume mount", "ok", f"mounted at {vol.get('path')}"))

    comfy = f.debug.get("comfyui") or {}
    if not comfy.get("alive"):
        tail = [str(x) for x in (comfy.get("log_tail") or [])][-15:]
        last = f" (last log line: \"{tail[-1]}\")" if tail else ""
        v.append(Verdict("comfyui", "problem", f"ComfyUI not starting{last}",
                         "read the log tail below; a missing custom node or CUDA mismatch means rebuilding the "
                         "image (python -m deploy image build --push)", tail))
    else:
        v.append(Verdict("comfyui", "ok", f"ComfyUI {comfy.get('version') or ''} running".replace("  ", " ")))

    missing = {a: j.get("missing") or [] for a, j in (f.debug.get("jobs") or {}).items() if not j.get("ready")}
    if missing:
        parts = []
        for action, files in missing.items():
            size = sum(int(m.get("size") or 0) for m in files)
            what = files[0]["path"] if len(files) == 1 else f"{len(files)} files"
            parts.append(f"{action} ({what}, {_gb(size)})")
        details = [f"{a}: {m.get('path')}" + (f" ({m['problem']})" if m.get("problem") not in (None, "not on the volume")
                                              else "") for a, files in missing.items() for m in files]
        v.append(Verdict("models", "problem", f"models missing for {', '.join(parts)}",
                         f"python -m deploy provision --jobs {','.join(missing)} --yes", details))
    else:
        v.append(Verdict("models", "ok", f"all models present for {', '.join(f.debug.get('jobs') or {}) or '—'}"))
    return v


def _run_debug(api: Api, endpoint_id: str, timeout_s: float, sleep: Callable[[float], None]) -> dict:
    job = api.queue("POST", endpoint_id, "/run", {"input": {"action": "debug"},
                                                  "policy": {"executionTimeout": 120000, "ttl": 600000}})
    # Both the clock and the time slept count, so an injected sleep cannot make this wait forever.
    deadline, waited = time.monotonic() + timeout_s, 0.0
    while True:
        st = api.queue("GET", endpoint_id, f"/status/{job['id']}")
        if st.get("status") == "COMPLETED":
            if not isinstance(st.get("output"), dict):
                raise ApiError("the debug job completed without output")
            return st["output"]
        if st.get("status") in ("FAILED", "CANCELLED", "TIMED_OUT"):
            raise ApiError(f"the debug job ended {st.get('status')}: {error_message(st.get('error') or '')}")
        if time.monotonic() > deadline or waited >= timeout_s:
            try:
                api.queue("POST", endpoint_id, f"/cancel/{job['id']}")
            finally:
                raise ApiError(f"no worker ran it within {timeout_s:.0f} s")
        sleep(1.0)
        waited += 1.0


def gather(api: Api, endpoint_id: str, expected_volume: str | None, *, debug_timeout_s: float = 90,
           stuck_after_s: int = STUCK_AFTER_S, sleep: Callable[[float], None] = time.sleep,
           seen_initializing: dict[str, float] | None = None, now: float | None = None,
           log_quiet_s: float = 1.0, log_max_s: float = 5.0) -> Facts:
    """Read everything doctor judges. `seen_initializing` is what earlier checks remembered (the state file);
    the updated sightings come back in `Facts.initializing_since`."""
    f = Facts(endpoint_id, expected_volume=expected_volume, stuck_after_s=stuck_after_s)
    try:
        f.endpoint = ep_mod.get(api, endpoint_id)
    except ApiError as exc:
        if exc.status == 401:
            raise
        f.endpoint_error = str(exc)
        return f
    f.workers = ep_mod.workers(api, endpoint_id)
    f.initializing_since, f.initializing_s = initializing_ages(seen_initializing or {}, f.workers,
                                                               time.time() if now is None else now)
    for w in f.workers:
        if w.status in ("initializing", "unhealthy", "throttled"):
            try:
                f.logs[w.id] = ep_mod.worker_logs(api, endpoint_id, w.id, quiet_s=log_quiet_s, max_s=log_max_s)
            except ApiError as exc:
                f.logs[w.id] = [f"(logs unavailable: {exc})"]
    try:
        f.health = Health.from_api(api.queue("GET", endpoint_id, "/health") or {})
    except ApiError as exc:
        f.health_error = str(exc)
    stuck = [w for w in f.workers if w.status == "initializing" and f.initializing_s.get(w.id, 0) >= stuck_after_s]
    usable = any(w.status in ("running", "idle") for w in f.workers)
    all_logs = [ln for lines in f.logs.values() for ln in lines]
    if stuck and not usable:
        f.debug_error = "workers are stuck initializing, so no worker can run it"
    elif not usable and (_first(all_logs, ARCH_PATTERNS) or _first(all_logs, PULL_PATTERNS)):
        f.debug_error = "the worker logs show the image cannot start, so no worker can run it"
    elif f.workers and all(w.status == "throttled" for w in f.workers):
        f.debug_error = "every worker is throttled"
    else:
        try:
            f.debug = _run_debug(api, endpoint_id, debug_timeout_s, sleep)
        except ApiError as exc:
            f.debug_error = str(exc)
    return f


def to_json(verdicts: list[Verdict], costs: dict | None) -> dict:
    return {"ok": not any(x.status == "problem" for x in verdicts), "checks": [asdict(x) for x in verdicts],
            "costs": costs}
