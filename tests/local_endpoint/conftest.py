"""Local endpoint processes for the tests: started for real, talked to over HTTP on 127.0.0.1."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.procs import REPO, Proc

READY = "local endpoint ready: "
HANDLER = "tests.support.handlers:dispatch"


def serve_command() -> list[str]:
    """`python -m worker serve` once the worker core's entry exists; our own entry until then."""
    if (REPO / "worker" / "__main__.py").exists():
        return ["-m", "worker", "serve"]
    return ["-m", "worker.local_endpoint"]


class Endpoint:
    def __init__(self, proc: Proc, url: str, headers: dict[str, str] | None = None):
        self.proc = proc
        self.url = url                              # http://127.0.0.1:PORT/v2/ID
        self.root = url.split("/v2/")[0]
        self.http = httpx.Client(timeout=30, headers=headers or {})

    def run(self, input: dict, **extra) -> str:
        r = self.http.post(f"{self.url}/run", json={"input": input, **extra})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "IN_QUEUE"
        return r.json()["id"]

    def status(self, job_id: str) -> httpx.Response:
        return self.http.get(f"{self.url}/status/{job_id}")

    def wait_for(self, job_id: str, predicate: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            r = self.status(job_id)
            if r.status_code == 200:
                seen = r.json()
                if predicate(seen):
                    return seen
            time.sleep(0.03)
        raise AssertionError(f"job {job_id} never matched; last seen {seen}")

    def wait_terminal(self, job_id: str, timeout: float = 10.0) -> dict:
        return self.wait_for(job_id, lambda j: j["status"] in ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"),
                             timeout)

    def health(self) -> dict:
        r = self.http.get(f"{self.url}/health")
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        self.http.close()
        self.proc.stop()


@pytest.fixture(scope="session")
def start_endpoint(tmp_path_factory) -> Iterator[Callable[..., Endpoint]]:
    started: list[Endpoint] = []

    def start(*args: str, env: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Endpoint:
        log = Path(tmp_path_factory.mktemp("endpoint")) / "serve.log"
        proc = Proc([*serve_command(), "--port", "0", "--handler", HANDLER, *args], log, env=env)
        try:
            line = proc.wait_for_line(READY, timeout=30)
        except Exception:
            proc.stop()
            raise
        endpoint = Endpoint(proc, line.split(READY, 1)[1].strip(), headers)
        started.append(endpoint)
        return endpoint

    yield start
    for endpoint in started:
        endpoint.close()


@pytest.fixture(scope="module")
def endpoint(start_endpoint) -> Iterator[Endpoint]:
    """A test module's shared endpoint: one worker, test hooks on, results kept 1 s."""
    ep = start_endpoint("--test-hooks", "--retention", "1")
    yield ep
    ep.close()
