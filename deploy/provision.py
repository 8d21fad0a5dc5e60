"""Fill the network volume: submit the worker's `provision` action through the queue API and follow it.

HF_TOKEN never travels in the request: the worker reads it from its environment (a RunPod secret).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from deploy.api import Api

ACTIONS = ("portrait", "tts", "lipsync", "animate", "music")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")


def parse_jobs(text: str) -> list[str]:
    jobs = [j.strip().lower() for j in text.split(",") if j.strip()]
    if not jobs:
        raise ValueError(f"--jobs: give one or more of {', '.join(ACTIONS)} (comma separated), or 'all'")
    if jobs == ["all"]:
        return list(ACTIONS)
    bad = [j for j in jobs if j not in ACTIONS]
    if bad:
        raise ValueError(f"--jobs: unknown job {', '.join(bad)}; allowed: {', '.join(ACTIONS)} or all")
    return list(dict.fromkeys(jobs))


def progress_line(p: dict) -> str:
    parts = [str(p.get("stage") or "working")]
    if p.get("steps"):
        parts.append(f"{p.get('step', 0)} of {p['steps']}")
    if p.get("percent") is not None:
        parts.append(f"{float(p['percent']):.0f}%")
    what = p.get("file") or p.get("path") or p.get("node")
    if what:
        parts.append(str(what))
    return "  " + " · ".join(parts)


def error_message(error) -> str:
    """The job's error string, which our worker fills with JSON {code, message}."""
    if isinstance(error, str):
        try:
            error = json.loads(error)
        except json.JSONDecodeError:
            return error
    if isinstance(error, dict):
        inner = error.get("error")
        if isinstance(inner, str) and not error.get("message"):
            return error_message(inner)
        msg = error.get("message") or error.get("error_message") or json.dumps(error)
        return f"{error['code']}: {msg}" if error.get("code") else str(msg)
    return str(error)


@dataclass
class Outcome:
    ok: bool
    status: str
    jobs: dict = field(default_factory=dict)
    error: str | None = None


def run(api: Api, endpoint_id: str, jobs: list[str], say: Callable[[str], None], *, poll_s: float = 2.0,
        timeout_s: int = 7200, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    body = {"input": {"action": "provision", "jobs": jobs},
            "policy": {"executionTimeout": timeout_s * 1000, "ttl": (timeout_s + 3600) * 1000}}
    job_id = api.queue("POST", endpoint_id, "/run", body)["id"]
    say(f"Submitted provision job {job_id}.")
    last_seq, waiting_said = None, False
    deadline = time.monotonic() + timeout_s + 3600
    while True:
        st = api.queue("GET", endpoint_id, f"/status/{job_id}")
        status = st.get("status")
        out = st.get("output")
        if status == "IN_QUEUE" and not waiting_said:
            say("  waiting for a worker (a cold start takes a minute or more)")
            waiting_said = True
        elif status in ("IN_PROGRESS", "RUNNING") and isinstance(out, dict) and out.get("stage"):
            key = out.get("seq", json.dumps(out, sort_keys=True))
            if key != last_seq:
                say(progress_line(out))
                last_seq = key
        if status in TERMINAL:
            break
        if time.monotonic() > deadline:
            return Outcome(False, "TIMED_OUT", error=f"no result within {timeout_s + 3600} s; job {job_id} "
                                                       f"may still be running")
        sleep(poll_s)
    if status != "COMPLETED":
        return Outcome(False, status, error=error_message(st.get("error") or status))
    if not isinstance(out, dict) or "jobs" not in out:
        return Outcome(False, status, error="the worker returned no result (COMPLETED without output)")
    results = out["jobs"]
    ok = all(r.get("ready") and not r.get("failed") for r in results.values())
    return Outcome(ok, status, jobs=results)


def summary_lines(outcome: Outcome) -> list[str]:
    if outcome.error:
        return [f"Provision {outcome.status.lower()}: {outcome.error}"]
    lines = []
    for action, r in outcome.jobs.items():
        state = "ready" if r.get("ready") else "NOT ready"
        lines.append(f"{action}: {state} — {len(r.get('downloaded') or [])} downloaded, "
                     f"{len(r.get('skipped') or [])} already there, {len(r.get('failed') or [])} failed")
        for f in r.get("failed") or []:
            lines.append(f"  {f.get('path')}: {f.get('error')}")
    return lines
