"""What the worker adds on top of ComfyUI's own execution, per job.

For a portrait (≈1 MB PNG) and a talking head (≈20 MB MP4), with base64 and with bucket output, runs N jobs
through the in-process handler against the ComfyUI double (tests/worker/fake_comfyui.py) and SeaweedFS on
loopback, and prints medians of: total handler time, the engine's execution time (execution_start → done),
overhead = total − execution, and overhead without output delivery (the /view fetch + base64 or bucket upload).
Target: ≤ 50 ms overhead for the portrait excluding the upload itself.

The RunPod-progress case runs a 200 kB portrait with RunPod's real progress path (the runpod SDK's `send_result`,
in .venv-worker) posting to a local stand-in of RunPod's job-progress URL whose acknowledgement takes
`--ack-delay-ms` (default 50, a network round trip to RunPod), jobs with and without progress alternating job by
job, so the cost of ordered, acknowledged progress before the result shows. Target ≤ 60 ms overhead at 50 ms (one
round trip plus our own ~10 ms). The last line is JSON with `runpod_progress_overhead_ms_median_at_<N>ms`.

    python bench/worker_overhead.py [--jobs 20] [--ack-delay-ms 50] [--only-runpod-progress]
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import subprocess
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.procs import Proc, free_port, installed_tool, wait_http  # noqa: E402
from tests.support.runpod_standin import RunPodStandIn  # noqa: E402
from tests.support.seaweed import start_seaweed  # noqa: E402
from worker import progress, runtime  # noqa: E402
from worker.config import BucketSettings, WorkerSettings  # noqa: E402
from worker.handler import handler  # noqa: E402

FAKE = REPO / "tests" / "worker" / "fake_comfyui.py"
WORKER_PY = REPO / ".venv-worker" / "bin" / "python"
KEY, SECRET, BUCKET = "bench-key", "bench-secret", "bench"


def portrait(size: int) -> dict:
    return {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "Deliberate_v5.safetensors"}},
            "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
            "5": {"class_type": "KSampler", "inputs": {"steps": 1}},
            "7": {"class_type": "SaveImage", "inputs": {"filename_prefix": "portrait", "size_bytes": size}}}


def talking_head(size: int) -> dict:
    return {"5": {"class_type": "KSampler", "inputs": {"steps": 1}},
            "9": {"class_type": "SaveVideo", "inputs": {"filename_prefix": "talk", "size_bytes": size}}}



async def measure(settings: WorkerSettings, workflow: dict, jobs: int) -> dict | str:
    runtime.configure(settings)
    rows = []
    for i in range(jobs + 2):
        t = time.perf_counter()
        result = await handler({"id": f"bench-{i}", "input": {"action": "workflow", "workflow": workflow}})
        total = (time.perf_counter() - t) * 1000
        if "error" in result:
            return result["error"][:160]
        if i >= 2:   # the first two warm up connections and caches
            tm = result["timings"]
            rows.append((total, tm["run_ms"], tm["upload_ms"]))
    med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
    overhead = statistics.median(r[0] - r[1] for r in rows)
    without = statistics.median(r[0] - r[1] - r[2] for r in rows)
    return {"total": med(0), "engine": med(1), "overhead": overhead, "delivery": med(2), "overhead_excl": without}


def runpod_progress(url: str, jobs: int, ack_delay_ms: float = 50.0) -> dict:
    """The portrait through the handler with RunPod's real progress path, in .venv-worker, against a stand-in
    whose acknowledgement of each update takes `ack_delay_ms`. `late_updates` counts updates that reached the
    stand-in after their job's result (RunPod would then show the job IN_PROGRESS): it must stay 0."""
    if not WORKER_PY.exists():
        return {"error": ".venv-worker is missing (.ci/run creates it)"}
    standin = RunPodStandIn(ack_delay_s=ack_delay_ms / 1000).start()
    try:
        env = {**os.environ, **standin.env("bench-worker"), "PYTHONPATH": str(REPO)}
        done = subprocess.run([str(WORKER_PY), str(REPO / "bench" / "_runpod_progress.py"), url, str(jobs)],
                              env=env, capture_output=True, text=True, timeout=600)
        lines = done.stdout.strip().splitlines()
        if done.returncode or not lines:
            return {"error": (done.stderr or done.stdout)[-300:]}
        out = json.loads(lines[-1])
        if "error" in out:
            return out
        out["updates_received"] = sum(1 for r in standin.received if r["body"].get("status") == "IN_PROGRESS")
        returned = out.pop("returned_at", {})
        # taken in after the handler had returned its result (both clocks are the system's monotonic clock)
        out["late_updates"] = sum(1 for r in standin.received
                                  if r["job_id"] in returned and r["t"] > returned[r["job_id"]])
        out["jobs_with_updates"] = len({r["job_id"] for r in standin.received if r["job_id"] in returned})
        out["ack_delay_ms"] = ack_delay_ms
        return out
    finally:
        standin.stop()


async def main(jobs: int, ack_delay_ms: float = 50.0, only_progress: bool = False) -> None:
    progress.sink.set(lambda job, payload: None)
    tmp = Path(tempfile.mkdtemp(prefix="worker-bench-"))
    port = free_port()
    fake = Proc([sys.executable, str(FAKE), "--port", str(port), "--step-delay", "0"], tmp / "fake.log")
    weed = None
    summary: dict = {}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/system_stats", 20, fake.popen)
        weed, endpoint = start_seaweed(tmp / "weed", BUCKET, KEY, SECRET) \
            if installed_tool("weed") and not only_progress else (None, None)
        base = WorkerSettings(comfyui_url=url, allow_raw_workflow=True, inline_max_bytes=9 * 1024 * 1024,
                              volume=tmp / "volume")
        bucket = BucketSettings(endpoint_url=endpoint or "", access_key_id=KEY, secret_access_key=SECRET,
                                bucket=BUCKET, region="us-east-1")
        cases = [("portrait 1 MB PNG", portrait(1_000_000)), ("talking head 20 MB MP4", talking_head(20_000_000))]
        if only_progress:
            cases = []
        print(f"{jobs} jobs each; medians in ms (overhead = handler total - engine execution)")
        print(f"{'case':<26}{'output':<8}{'total':>8}{'engine':>8}{'overhead':>10}{'delivery':>10}{'ovh excl':>10}")
        for name, wf in cases:
            for mode, settings in (("base64", base), ("bucket", dataclasses.replace(base, bucket=bucket))):
                if mode == "bucket" and endpoint is None:
                    print(f"{name:<26}{mode:<8}  skipped: weed not installed")
                    continue
                r = await measure(settings, wf, jobs)
                if isinstance(r, str):
                    print(f"{name:<26}{mode:<8}  refused: {r}")
                    continue
                print(f"{name:<26}{mode:<8}{r['total']:>8.1f}{r['engine']:>8.1f}{r['overhead']:>10.1f}"
                      f"{r['delivery']:>10.1f}{r['overhead_excl']:>10.1f}")
                if name.startswith("portrait") and mode == "base64":
                    summary["local_sink_overhead_ms_median"] = round(r["overhead"], 1)
        rp = runpod_progress(url, jobs, ack_delay_ms)
        if "error" in rp:
            print(f"{'portrait, RunPod progress':<34}  skipped: {rp['error']}")
        else:
            print(f"portrait 200 kB, RunPod's progress path, ack {ack_delay_ms:g} ms: overhead "
                  f"{rp['overhead_ms_median']:.1f} ms; without progress {rp['no_progress_overhead_ms_median']:.1f} ms "
                  f"(paired difference {rp['progress_cost_ms_median']:.1f} ms; {rp['updates_received']} updates taken "
                  f"in, {rp['late_updates']} after their result); the result waited {rp['settle_ms_median']:.2f} ms "
                  f"(max {rp['settle_ms_max']:.1f}) for the update in flight")
            summary["no_progress_overhead_ms_median"] = round(rp["no_progress_overhead_ms_median"], 1)
            summary["runpod_progress_settle_ms_median"] = round(rp["settle_ms_median"], 2)
            summary[f"runpod_progress_overhead_ms_median_at_{ack_delay_ms:g}ms"] = round(rp["overhead_ms_median"], 1)
            summary["runpod_progress_cost_ms_median"] = round(rp["progress_cost_ms_median"], 1)
            summary["runpod_progress_late_updates"] = rp["late_updates"]
    finally:
        fake.stop()
        if weed is not None:
            weed.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--ack-delay-ms", type=float, default=50.0,
                    help="how long the RunPod stand-in takes to acknowledge a progress update (default 50)")
    ap.add_argument("--only-runpod-progress", action="store_true", help="skip the output-delivery cases")
    a = ap.parse_args()
    asyncio.run(main(a.jobs, a.ack_delay_ms, a.only_runpod_progress))
