"""The RunPod-progress half of bench/worker_overhead.py; runs in .venv-worker, where the runpod SDK lives.

argv: comfyui_url jobs. Jobs with a no-op sink (what the worker costs without RunPod's progress path) and jobs
with RunPod's path alternate job by job (ABBA, so neither side always goes first and drift favours neither), so
the difference is what progress costs. RUNPOD_WEBHOOK_POST_OUTPUT (set by the caller) points at a local stand-in
of RunPod's job-progress URL, whose acknowledgement may take a set time; with no sink installed every update takes
RunPod's real path. Prints one JSON line."""
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
returned_at: dict[str, float] = {}       # job id -> time.monotonic() when the handler returned (system-wide clock)
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


async def one(job_id: str) -> float | str:
    """Handler time minus ComfyUI's execution for one job, or the error."""
    t = time.perf_counter()
    result = await handler({"id": job_id, "input": {"action": "workflow", "workflow": WORKFLOW}})
    total = (time.perf_counter() - t) * 1000
    returned_at[job_id] = time.monotonic()
    if "error" in result:
        return result["error"][:200]
    return total - result["timings"]["run_ms"]


async def main(url: str, jobs: int) -> None:
    runtime.configure(WorkerSettings(comfyui_url=url, allow_raw_workflow=True, inline_max_bytes=9 * 1024 * 1024,
                                     volume=Path("/nonexistent-volume")))
    quiet: list[float] = []
    real: list[float] = []
    for i in range(jobs + 2):
        order = ("quiet", "real") if i % 2 == 0 else ("real", "quiet")
        for side in order:
            if side == "quiet":
                token = progress.sink.set(lambda job, payload: None)
                try:
                    r = await one(f"no-progress-{i}")
                finally:
                    progress.sink.reset(token)
            else:
                r = await one(f"rp-bench-{i}")
            if isinstance(r, str):
                print(json.dumps({"error": r}))
                return
            if i >= 2:             # the first two pairs warm up connections and caches
                (quiet if side == "quiet" else real).append(r)
    print(json.dumps({"overhead_ms_median": statistics.median(real),
                      "no_progress_overhead_ms_median": statistics.median(quiet),
                      "progress_cost_ms_median": statistics.median(a - b for a, b in zip(real, quiet)),
                      "settle_ms_median": statistics.median(settle_ms[2:]), "settle_ms_max": max(settle_ms[2:]),
                      "jobs": jobs, "returned_at": {k: v for k, v in returned_at.items() if k.startswith("rp-")}}))


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
