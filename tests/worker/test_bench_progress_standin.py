"""bench/worker_overhead.py's RunPod-progress case, run small and untimed: its stand-in acknowledges each update
after a set delay, jobs with and without progress alternate, and no update reaches RunPod after its job's result
(issue 24.4; the figures themselves are the bench's to print)."""
from __future__ import annotations

import importlib.util

import pytest

from tests.support.procs import REPO


def load_bench():
    spec = importlib.util.spec_from_file_location("worker_overhead", REPO / "bench" / "worker_overhead.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_runs_both_sides_against_a_slow_acknowledging_standin(start_fake):
    bench = load_bench()
    if not bench.WORKER_PY.exists():
        pytest.skip(".venv-worker (with the runpod SDK) is not set up")
    url = start_fake("--step-delay", "0")
    out = bench.runpod_progress(url, 2, ack_delay_ms=50)
    assert "error" not in out, out
    assert out["ack_delay_ms"] == 50 and out["jobs"] == 2
    assert out["jobs_with_updates"] == 4              # every progress job (2 warm-up + 2 measured) reported
    assert out["late_updates"] == 0                   # none landed after its job's result
    for key in ("overhead_ms_median", "no_progress_overhead_ms_median", "settle_ms_median"):
        assert isinstance(out[key], float) and out[key] >= 0, (key, out)
    assert isinstance(out["progress_cost_ms_median"], float)
