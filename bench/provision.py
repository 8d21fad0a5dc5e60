"""Provision throughput against curl, and resume time after a drop at 50 %, on a local 1 GB file.

    python bench/provision.py [--size-mb 1024]

Starts tests/jobs/fake_hf.py on a free loopback port, downloads the file with curl and with the provision code,
then again with the server dropping the connection at 50 % and reports how long the resumed remainder took.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.procs import Proc, free_port, wait_http  # noqa: E402
from workflows.catalogue import ModelFile  # noqa: E402
from worker.actions.provision import ProvisionSettings, provision  # noqa: E402


def make_file(path: Path, size: int) -> str:
    h = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for _ in range(size >> 20):
            fh.write(block)
            h.update(block)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    a = ap.parse_args()
    size = a.size_mb << 20
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "hf/org/big").mkdir(parents=True)
        sha = make_file(tmp / "hf/org/big/big.bin", size)
        (tmp / "hf/org/drop").mkdir(parents=True)
        os.link(tmp / "hf/org/big/big.bin", tmp / "hf/org/drop/big.bin")
        (tmp / "rules.json").write_text(json.dumps({"drop": {"org/drop/big.bin": 0.5}}))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with Proc(["-m", "tests.jobs.fake_hf", "--root", str(tmp / "hf"), "--port", str(port),
                   "--rules", str(tmp / "rules.json")], tmp / "hf.log") as proc:
            wait_http(f"{url}/_stats", proc=proc.popen)
            t = time.perf_counter()
            subprocess.run(["curl", "-sS", "-o", str(tmp / "curl.bin"), f"{url}/org/big/resolve/main/big.bin"], check=True)
            curl_s = time.perf_counter() - t
            (tmp / "curl.bin").unlink()

            def mf(repo):
                return ModelFile(path=f"checkpoints/{repo}.bin", size=size, sha256=sha, licence="bench", gated=False,
                                 sources=({"repo": f"org/{repo}", "file": "big.bin", "revision": "main"},))
            settings = ProvisionSettings(models_dir=tmp / "models", endpoint=url, retry_delay_s=0.0)
            t = time.perf_counter()
            asyncio.run(provision({"id": "b"}, {"j": [mf("big")]}, settings, report=lambda *a, **k: None))
            ours_s = time.perf_counter() - t

            marks: list[float] = []

            def on_progress(job, payload, force=False):
                marks.append(time.perf_counter())
            t = time.perf_counter()
            out = asyncio.run(provision({"id": "d"}, {"j": [mf("drop")]}, settings, report=on_progress))
            drop_total = time.perf_counter() - t
            assert out["jobs"]["j"]["ready"], out
        mb = size / 1e6
        print(f"file: {a.size_mb} MiB (sha256 verified)")
        print(f"curl:      {curl_s:6.2f} s  {mb / curl_s:7.1f} MB/s")
        print(f"provision: {ours_s:6.2f} s  {mb / ours_s:7.1f} MB/s  (ratio provision/curl throughput "
              f"{curl_s / ours_s:.2f}; includes sha256)")
        print(f"dropped at 50 %: whole download incl. resume {drop_total:.2f} s; the resumed half is about "
              f"{drop_total - ours_s / 2:.2f} s (retry delay 0; the partial file is re-hashed before resuming only "
              f"when it comes from an earlier run)")


if __name__ == "__main__":
    main()
