"""The runpod SDK half of bench/client_latency.py; runs in .venv-worker (the SDK cannot share the studio's env).

argv: api_base endpoint_id n seconds stagger_s warmup. Prints one JSON line."""
import json
import os
import sys
import threading
import time

base, endpoint_id, n, seconds, stagger, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), \
    float(sys.argv[5]), int(sys.argv[6])
os.environ["RUNPOD_ENDPOINT_BASE_URL"] = base
import runpod  # noqa: E402
from runpod.endpoint import runner  # noqa: E402

runpod.api_key = os.environ["BENCH_API_KEY"]
status_requests = 0
lock = threading.Lock()
_orig = runner.RunPodClient._request


def counting(self, method, endpoint, data=None, timeout=10):
    global status_requests
    if "/status/" in endpoint:
        with lock:
            status_requests += 1
    return _orig(self, method, endpoint, data, timeout)


runner.RunPodClient._request = counting
ep = runpod.Endpoint(endpoint_id)
results = []


def one(i: int, measured: bool) -> None:
    t0 = time.time()
    job = ep.run({"action": "bench-sdk", "kind": "timed", "seconds": seconds, "i": i})
    out = job.output(timeout=120)
    t1 = time.time()
    if measured:
        with lock:
            results.append({"detect_ms": (t1 - out["finished_at"]) * 1000, "life_s": t1 - t0})


for phase, count in (("warmup", warmup), ("measure", n)):
    if phase == "measure":
        with lock:
            status_requests = 0
    threads = []
    for i in range(count):
        t = threading.Thread(target=one, args=(i, phase == "measure"))
        t.start()
        threads.append(t)
        time.sleep(stagger)
    for t in threads:
        t.join()
print(json.dumps({"results": results, "status_requests": status_requests}))
