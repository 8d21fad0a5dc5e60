"""How much time the local endpoint itself adds to a job: /runsync and /run + /status polling of an echo handler.

    python bench/local_endpoint_latency.py [--jobs 50]

Prints the median and p95 wall time per job (the handler does nothing, so this is all queue + HTTP overhead).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.procs import Proc  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            Proc(["-m", "worker", "serve", "--port", "0", "--handler", "tests.support.handlers:dispatch"],
                 Path(tmp) / "serve.log") as proc:
        url = proc.wait_for_line("local endpoint ready: ").split("ready: ", 1)[1].strip()
        with httpx.Client(timeout=30) as http:
            sync_ms, poll_ms = [], []
            for _ in range(args.jobs):
                t = time.perf_counter()
                job = http.post(f"{url}/runsync", json={"input": {"kind": "echo"}}).json()
                assert job["status"] == "COMPLETED", job
                sync_ms.append((time.perf_counter() - t) * 1000)
            for _ in range(args.jobs):
                t = time.perf_counter()
                job_id = http.post(f"{url}/run", json={"input": {"kind": "echo"}}).json()["id"]
                while http.get(f"{url}/status/{job_id}").json()["status"] != "COMPLETED":
                    pass
                poll_ms.append((time.perf_counter() - t) * 1000)
    for name, xs in (("runsync", sync_ms), ("run + status polling", poll_ms)):
        xs.sort()
        print(f"{name:22s} median {statistics.median(xs):6.1f} ms   p95 {xs[int(len(xs) * 0.95) - 1]:6.1f} ms   "
              f"(n={len(xs)})")


if __name__ == "__main__":
    main()
