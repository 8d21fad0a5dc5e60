"""How fast does our tracker notice a finished job, at what request cost, compared with the runpod SDK?

Starts one local endpoint (`python -m worker serve`, test handlers, 64 slots), then:
  1. ≥30 jobs of a known length followed by our JobTracker: median ms from the job's end (the handler stamps
     `finished_at`) to the tracker's "completed" event, and /status requests per job-second;
  2. the same jobs through the runpod SDK's `Endpoint`/`Job.output()` (run in .venv-worker as a subprocess);
  3. 50 jobs in flight at once under our tracker: its CPU (% of one core) and RSS;
  4. a mix like real use: jobs of 5, 20 and 60 s that report progress about once a second, each shown in a tab
     (watched) while it runs: median detection and /status requests per job-second.
The last line printed is one JSON object with the issue's keys.

    python bench/client_latency.py [--jobs 30] [--seconds 2.0]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.client import RunPodClient  # noqa: E402
from backend.history import History  # noqa: E402
from backend.library import Library  # noqa: E402
from backend.records import JobRecord, Policy  # noqa: E402
from backend.settings import Secret  # noqa: E402
from backend.tracker import JobTracker  # noqa: E402
from tests.support.procs import Proc, free_port  # noqa: E402

KEY = "bench-key-not-secret"
POLICY = Policy(120_000, 600_000)
SDK_PYTHON = REPO / ".venv-worker" / "bin" / "python"


class RecordingClient(RunPodClient):
    """Keeps each finished job's raw output so the bench can read the handler's `finished_at` stamp."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.finished_at: dict[str, float] = {}

    async def status(self, job_id: str) -> dict:
        st = await super().status(job_id)
        out = st.get("output")
        if st.get("status") == "COMPLETED" and isinstance(out, dict) and "finished_at" in out:
            self.finished_at[job_id] = out["finished_at"]
        return st


# Submits one phase's jobs to the tracker; returns (submit time, record) for each.
Submit = Callable[[JobTracker], Awaitable[list[tuple[float, JobRecord]]]]


async def followed(base: str, endpoint_id: str, name: str, phases: list[tuple[bool, Submit]], data: Path) -> dict:
    """Jobs followed by our JobTracker, phase by phase: each phase's jobs are submitted, then awaited to their end.
    For the measured phases, ms from the handler's `finished_at` stamp to the tracker's terminal event and each
    job's life; the /status requests of the last phase."""
    client = RecordingClient(base, endpoint_id, Secret(KEY))
    done: dict[str, float] = {}
    events: dict[str, asyncio.Event] = {}

    def on_event(ev) -> None:
        if ev.terminal:
            done[ev.record.id] = time.time()
            events.setdefault(ev.record.id, asyncio.Event()).set()

    history = History(data / f"{name}.sqlite3")
    tracker = JobTracker(client, history, Library(data / f"{name}-lib"), on_event=on_event)
    await tracker.start()
    results = []
    try:
        for measured, submit in phases:
            client.requests.clear()
            recs = await submit(tracker)
            for _, rec in recs:
                await events.setdefault(rec.id, asyncio.Event()).wait()
            if measured:
                for t0, rec in recs:
                    end = client.finished_at[rec.remote_id]
                    results.append({"detect_ms": (done[rec.id] - end) * 1000, "life_s": done[rec.id] - t0})
        status_requests = client.requests["status"]
    finally:
        await tracker.stop()
        await client.aclose()
        history.close()
    return {"results": results, "status_requests": status_requests}


async def ours(base: str, endpoint_id: str, n: int, seconds: float, stagger: float, warmup: int,
               data: Path) -> dict:
    """`n` jobs of one length, after `warmup` unmeasured ones."""
    def timed(count: int) -> Submit:
        async def submit(tracker: JobTracker) -> list[tuple[float, JobRecord]]:
            recs = []
            for i in range(count):
                recs.append((time.time(), await tracker.submit("bench", {"kind": "timed", "seconds": seconds,
                                                                         "i": i}, POLICY)))
                await asyncio.sleep(stagger)
            return recs
        return submit

    return await followed(base, endpoint_id, "bench", [(False, timed(warmup)), (True, timed(n))], data)


async def mix(base: str, endpoint_id: str, lengths: list[float], per_length: int, stagger: float,
              data: Path) -> dict:
    """Jobs of several lengths reporting progress, submitted in an interleaved order and watched like a tab
    follows its job; the same figures as `ours`."""
    async def submit(tracker: JobTracker) -> list[tuple[float, JobRecord]]:
        recs = []
        for i in range(per_length):
            for seconds in lengths:
                rec = await tracker.submit("bench-mix", {"kind": "paced", "seconds": seconds, "i": i}, POLICY)
                tracker.set_watched(rec.id, True)
                recs.append((time.time(), rec))
                await asyncio.sleep(stagger)
        return recs

    return await followed(base, endpoint_id, "mix", [(True, submit)], data)


async def load(base: str, endpoint_id: str, jobs: int, seconds: float, data: Path) -> dict:
    """`jobs` in flight together; CPU and RSS of this process (the tracker) while they run."""
    client = RunPodClient(base, endpoint_id, Secret(KEY))
    left = asyncio.Event()
    remaining = {"n": jobs}

    def on_event(ev) -> None:
        if ev.terminal:
            remaining["n"] -= 1
            if remaining["n"] == 0:
                left.set()

    history = History(data / "load.sqlite3")
    tracker = JobTracker(client, history, Library(data / "lib2"), on_event=on_event)
    await tracker.start()
    try:
        steps = max(1, int(seconds / 0.5))
        for i in range(jobs):     # progress-reporting jobs, like the real worker's
            await tracker.submit("bench-load", {"kind": "sleep", "steps": steps, "step_s": 0.5, "i": i}, POLICY)
        await asyncio.sleep(1.0)     # measure the steady state, not the submits
        c0, w0, r0 = time.process_time(), time.monotonic(), sum(client.requests.values())
        await asyncio.sleep(max(1.0, seconds - 3.0))
        wall = time.monotonic() - w0
        cpu = (time.process_time() - c0) / wall * 100
        rate = (sum(client.requests.values()) - r0) / wall
        rss = _rss_mb()
        await asyncio.wait_for(left.wait(), seconds + 60)
    finally:
        await tracker.stop()
        await client.aclose()
        history.close()
    return {"cpu_percent": cpu, "rss_mb": rss, "requests_per_s": rate}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summarise(run: dict) -> tuple[float, float]:
    res = run["results"]
    det = statistics.median(r["detect_ms"] for r in res)
    per_job_s = run["status_requests"] / sum(r["life_s"] for r in res)
    return det, per_job_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=6.5, help="length of each job")
    ap.add_argument("--stagger", type=float, default=0.13, help="seconds between submits")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--load-jobs", type=int, default=50)
    ap.add_argument("--load-seconds", type=float, default=12.0)
    ap.add_argument("--mix-lengths", default="5,20,60", help="job lengths of the mix, in seconds")
    ap.add_argument("--mix-per-length", type=int, default=5, help="jobs of each length in the mix")
    ap.add_argument("--only-mix", action="store_true", help="run the mix alone (for tuning the polling)")
    a = ap.parse_args()
    if a.jobs < 30:
        ap.error(f"--jobs: {a.jobs} is below the 30 the comparison needs")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = Proc(["-m", "worker", "serve", "--port", str(port), "--endpoint-id", "bench", "--concurrency", "64",
                     "--handler", "tests.backend.handlers:dispatch"], Path(tmp) / "endpoint.log",
                    env={"LOCAL_ENDPOINT_API_KEY": KEY})
        try:
            line = proc.wait_for_line("local endpoint ready:", timeout=60)
            m = re.search(r"(http://\S+/v2)/(\S+)", line)
            base, endpoint_id = m.group(1), m.group(2)
            lengths = [float(x) for x in a.mix_lengths.split(",")]
            mx = asyncio.run(mix(base, endpoint_id, lengths, a.mix_per_length, 0.7, Path(tmp)))
            mdet, mrps = summarise(mx)
            print(f"mix {a.mix_lengths} s × {a.mix_per_length}: median detect {mdet:.0f} ms, "
                  f"{mrps:.3f} status requests per job-second", flush=True)
            if a.only_mix:
                print(json.dumps({"mix_detect_ms_median": round(mdet, 1),
                                  "mix_status_requests_per_job_second": round(mrps, 3)}))
                return
            mine = asyncio.run(ours(base, endpoint_id, a.jobs, a.seconds, a.stagger, a.warmup, Path(tmp)))
            det, rps = summarise(mine)
            print(f"tracker: median detect {det:.0f} ms, {rps:.2f} status requests per job-second", flush=True)
            sdk = subprocess.run([str(SDK_PYTHON), str(REPO / "bench" / "_sdk_jobs.py"), base, endpoint_id,
                                  str(a.jobs), str(a.seconds), str(a.stagger), str(a.warmup)],
                                 capture_output=True, text=True, timeout=600, env={**os.environ, "BENCH_API_KEY": KEY})
            if sdk.returncode != 0:
                raise SystemExit(f"the SDK run failed:\n{sdk.stderr[-2000:]}")
            sdet, srps = summarise(json.loads(sdk.stdout.strip().splitlines()[-1]))
            print(f"runpod SDK: median detect {sdet:.0f} ms, {srps:.2f} status requests per job-second", flush=True)
            lo = asyncio.run(load(base, endpoint_id, a.load_jobs, a.load_seconds, Path(tmp)))
            print(f"{a.load_jobs} jobs in flight: tracker CPU {lo['cpu_percent']:.1f} % of one core, "
                  f"RSS {lo['rss_mb']:.0f} MB, {lo['requests_per_s']:.1f} requests/s in all", flush=True)
        finally:
            proc.stop()
    print(json.dumps({"detect_ms_median": round(det, 1), "status_requests_per_job_second": round(rps, 3),
                      "sdk_detect_ms_median": round(sdet, 1), "sdk_status_requests_per_job_second": round(srps, 3),
                      "cpu_percent_50_jobs": round(lo["cpu_percent"], 2), "rss_mb_50_jobs": round(lo["rss_mb"], 1),
                      "mix_detect_ms_median": round(mdet, 1), "mix_status_requests_per_job_second": round(mrps, 3)}))


if __name__ == "__main__":
    main()
