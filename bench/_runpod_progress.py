"""The RunPod-progress half of bench/worker_overhead.py; runs in .venv-worker, where the runpod SDK lives.

argv: comfyui_url jobs. The same jobs run first with a no-op sink (what the worker costs without RunPod's
progress path) and then with RunPod's path, so the difference is what progress costs. RUNPOD_WEBHOOK_POST_OUTPUT (set by the caller) points at a local stand-in of RunPod's
job-progress URL; no progress sink is installed, so every update takes RunPod's real path. Prints one JSON line."""
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker import progress, runtime  # noqa: E402
from worker.config import WorkerSettings  # noqa: E402
from worker.handler import handler  # noqa: E402

settle_ms: list[float] = []
_settle = progress.settle


async def timed_settle(job, bound=progress.SETTLE_MAX_S):
    """How long the result waits for the last update's acknowledgement (the old code slept 1 s here)."""
    t = time.perf_counter()
    await _settle(job, bound)
    if str(job.get("id", "")).startswith("rp-bench"):
        settle_ms.append((time.perf_counter() - t) * 1000)


progress.settle = timed_settle

WORKFLOW = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "Deliberate_v5.safetensors"}},
            "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768, "batch_size": 1}},
            "5": {"class_type": "KSampler", "inputs": {"steps": 4}},
            "7": {"class_type": "SaveImage", "inputs": {"filename_prefix": "portrait", "size_bytes": 200_000}}}


async def overheads(prefix: str, jobs: int) -> list[float] | str:
    out = []
    for i in range(jobs + 2):
        t = time.perf_counter()
        result = await handler({"id": f"{prefix}-{i}", "input": {"action": "workflow", "workflow": WORKFLOW}})
        total = (time.perf_counter() - t) * 1000
        if "error" in result:
            return result["error"][:200]
        if i >= 2:                 # the first two warm up connections and caches
            out.append(total - result["timings"]["run_ms"])
    return out


async def main(url: str, jobs: int) -> None:
    runtime.configure(WorkerSettings(comfyui_url=url, allow_raw_workflow=True, inline_max_bytes=9 * 1024 * 1024,
                                     volume=Path("/nonexistent-volume")))
    token = progress.sink.set(lambda job, payload: None)
    quiet = await overheads("no-progress", jobs)
    progress.sink.reset(token)
    real = await overheads("rp-bench", jobs)
    for r in (quiet, real):
        if isinstance(r, str):
            print(json.dumps({"error": r}))
            return
    print(json.dumps({"overhead_ms_median": statistics.median(real),
                      "no_progress_overhead_ms_median": statistics.median(quiet),
                      "settle_ms_median": statistics.median(settle_ms[2:]), "settle_ms_max": max(settle_ms[2:]),
                      "jobs": jobs}))


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
