"""Buckets that are dead, stalled or named by the caller: the job ends quickly, says which host, loses nothing."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.support.procs import free_port
from tests.worker.conftest import portrait_workflow, settings_for
from worker.bucket import UPLOAD_DEADLINE_S
from worker.config import BucketSettings
from worker.handler import handler

SECRET = "bucket-secret-never-shown"


def target(port: int) -> BucketSettings:
    return BucketSettings(endpoint_url=f"http://127.0.0.1:{port}", access_key_id="key-id-never-shown",
                          secret_access_key=SECRET, bucket="media", region="us-east-1")


@pytest.fixture
def closing_listener():
    """Accepts every connection and closes it at once, as a crashed proxy in front of a bucket does."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    accepted = []
    stop = threading.Event()

    def loop():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            accepted.append(1)
            conn.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield srv.getsockname()[1], accepted
    stop.set()
    t.join()
    srv.close()


@pytest.fixture
def stalled_listener():
    """A real HTTP server stopped with SIGSTOP: connections are accepted by the kernel and never answered."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    os.kill(proc.pid, signal.SIGSTOP)
    yield port
    os.kill(proc.pid, signal.SIGCONT)
    proc.kill()
    proc.wait()


def big_job(job_id: str) -> dict:
    return {"id": job_id, "input": {"action": "workflow", "workflow": portrait_workflow(size_bytes=300_000)}}


async def test_a_bucket_that_closes_connections_fails_as_upload_failed_naming_its_host(
        fake, use_settings, tmp_path, closing_listener):
    port, accepted = closing_listener
    use_settings(settings_for(fake, tmp_path, bucket=target(port), inline_max_bytes=100_000))
    result = await handler(big_job("dead"))
    err = json.loads(result["error"])
    assert err["code"] == "upload_failed", err
    assert f"127.0.0.1:{port}" in err["message"] and "closed without an answer" in err["message"]
    assert "NoneType" not in err["message"] and SECRET not in result["error"]
    assert len(accepted) >= 1


async def test_a_stalled_bucket_fails_within_30_seconds(fake, use_settings, tmp_path, stalled_listener):
    use_settings(settings_for(fake, tmp_path, bucket=target(stalled_listener), inline_max_bytes=100_000))
    t = time.monotonic()
    result = await handler(big_job("stalled"))
    took = time.monotonic() - t
    err = json.loads(result["error"])
    assert err["code"] == "upload_failed", err
    assert f"127.0.0.1:{stalled_listener}" in err["message"] and "no answer" in err["message"]
    assert took < 30 and UPLOAD_DEADLINE_S < 30


async def test_a_dead_bucket_still_returns_outputs_that_fit_inline(fake, use_settings, tmp_path, closing_listener):
    port, _ = closing_listener
    use_settings(settings_for(fake, tmp_path, bucket=target(port)))
    result = await handler({"id": "saved", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    assert result["status"] == "success", result
    assert result["files"][0]["encoding"] == "base64"
    assert any(f"127.0.0.1:{port}" in w and "inline" in w for w in result["warnings"])


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:{port}", "http://169.254.169.254", "http://10.0.0.7:9000",
                                      "http://[::ffff:127.0.0.1]:{port}", "http://localhost:{port}",
                                      "HTTP://[64:ff9b::7f00:1]:{port}"])
async def test_a_request_bucket_on_a_private_host_is_forbidden_before_any_work(
        fake, use_settings, tmp_path, closing_listener, endpoint):
    port, accepted = closing_listener
    use_settings(settings_for(fake, tmp_path))
    s3 = {"accessId": "id", "accessSecret": SECRET, "bucketName": "media", "endpointUrl": endpoint.format(port=port)}
    result = await handler({"id": "priv", "s3Config": s3, "input": {"action": "workflow",
                                                                    "workflow": portrait_workflow()}})
    err = json.loads(result["error"])
    assert err["code"] == "forbidden" and err["field"] == "s3Config.endpointUrl", err
    assert "non-public address" in err["message"] and SECRET not in result["error"]
    assert accepted == []                       # never connected
    assert httpx.get(fake + "/_fake/calls").json()["prompts"] == 0    # nothing was queued


async def test_private_request_buckets_are_allowed_when_the_worker_says_so(
        fake, use_settings, tmp_path, closing_listener):
    port, accepted = closing_listener
    use_settings(settings_for(fake, tmp_path, allow_private_urls=True))
    s3 = {"accessId": "id", "accessSecret": SECRET, "bucketName": "media", "endpointUrl": f"http://127.0.0.1:{port}"}
    result = await handler({"id": "ok", "s3Config": s3, "input": {"action": "workflow",
                                                                  "workflow": portrait_workflow()}})
    assert result["status"] == "success" and accepted          # it tried the bucket, then fell back inline


async def test_the_operators_own_bucket_on_loopback_is_trusted(fake, use_settings, tmp_path, closing_listener):
    port, accepted = closing_listener
    use_settings(settings_for(fake, tmp_path, bucket=target(port)))
    result = await handler({"id": "op", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    assert result["status"] == "success" and accepted


async def test_a_request_bucket_re_pointed_at_a_private_address_after_the_check_is_not_connected_to(
        fake, use_settings, tmp_path, closing_listener, monkeypatch):
    """DNS rebinding: the name is public when the worker checks it and private when boto3 would connect."""
    from worker import bucket

    port, accepted = closing_listener
    real = socket.getaddrinfo
    asked = []

    def rebinding(host, *args, **kw):
        if host == "rebind.example":
            asked.append(host)
            return real("93.184.216.34" if len(asked) == 1 else "127.0.0.1", *args, **kw)
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    use_settings(settings_for(fake, tmp_path))
    s3 = {"accessId": "id", "accessSecret": SECRET, "bucketName": "media",
          "endpointUrl": f"http://rebind.example:{port}"}
    result = await handler({"id": "rebind", "s3Config": s3, "input": {"action": "workflow",
                                                                      "workflow": portrait_workflow()}})
    assert result["status"] == "success" and result["files"][0]["encoding"] == "base64", result
    assert any("rebind.example resolves to 127.0.0.1, a non-public address" in w for w in result["warnings"]), result
    assert accepted == [] and len(asked) >= 2           # checked twice; never connected to the private address
    # without the guard boto3 resolves the name itself and connects to whatever it now says
    with pytest.raises(Exception):
        await bucket.upload(bucket.from_s3_config(s3), [("k", b"x", "text/plain")], 3.0)
    assert accepted
    # with it, a name whose addresses pass the check is connected to at the checked address (here loopback is
    # let through the check, to stand in for a public bucket)
    accepted.clear()
    monkeypatch.setattr(bucket, "check_address", lambda host, addr: None)
    with pytest.raises(Exception):
        await bucket.upload(bucket.from_s3_config(s3), [("k", b"x", "text/plain")], 3.0, guard=True)
    assert accepted
