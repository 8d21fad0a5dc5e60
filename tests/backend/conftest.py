"""A real local endpoint (python -m worker serve) with the backend's test handlers, over loopback HTTP."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.procs import Proc, free_port

API_KEY = "rpa_TESTKEY_9f8e7d6c5b4a3210_do_not_leak"


@dataclass
class Endpoint:
    base: str            # http://127.0.0.1:PORT/v2
    endpoint_id: str
    root: str            # http://127.0.0.1:PORT
    proc: Proc

    api_key: str | None = API_KEY

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def jobs(self) -> list[dict]:
        return httpx.get(f"{self.root}/_test/jobs", headers=self._auth, timeout=5).json()["jobs"]

    def fault(self, **body) -> None:
        r = httpx.post(f"{self.root}/_test/faults", json=body, headers=self._auth, timeout=5)
        assert r.status_code == 200, r.text


def start_endpoint(tmp: Path, *extra: str, api_key: str | None = API_KEY) -> Endpoint:
    port = free_port()
    args = ["-m", "worker", "serve", "--port", str(port), "--endpoint-id", "ep-test", "--test-hooks",
            "--handler", "tests.backend.handlers:dispatch", "--concurrency", "4", *extra]
    env = {"LOCAL_ENDPOINT_API_KEY": api_key} if api_key else {}
    proc = Proc(args, tmp / f"endpoint-{port}.log", env=env)
    line = proc.wait_for_line("local endpoint ready:", timeout=60)
    url = re.search(r"(http://\S+)/v2/(\S+)", line)
    assert url
    return Endpoint(base=url.group(1) + "/v2", endpoint_id=url.group(2), root=url.group(1), proc=proc, api_key=api_key)


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory) -> Iterator[Endpoint]:
    # Results are kept long enough that a test on a busy machine can still count the jobs it made; expiry has
    # its own endpoint (test_client.py::test_job_expires_after_retention).
    ep = start_endpoint(tmp_path_factory.mktemp("ep"), "--retention", "600")
    yield ep
    ep.proc.stop()
