"""Uploading result files to an S3-compatible bucket (AWS S3, Cloudflare R2, Supabase Storage, SeaweedFS).

One path serves all of them: boto3 with an explicit endpoint, SigV4 and path-style addressing (R2 and Supabase
need path style; AWS accepts it). The returned URL is presigned unless a public base URL is configured.

A dead or stalled bucket must not hold the GPU for the job's whole timeout: boto3's defaults (60 s connect,
60 s read, several retries) add up to minutes, so the timeouts are short, retries bounded, and the whole upload
has a deadline. Errors name the bucket's host and never carry the keys.
"""
from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from worker.config import BucketSettings
from worker.errors import WorkerError
from worker.inputs import Blocked, check_address


@dataclass(frozen=True)
class Uploaded:
    key: str
    url: str


def from_s3_config(cfg: object) -> BucketSettings:
    """RunPod's request-level `s3Config`: {accessId, accessSecret, bucketName, endpointUrl}."""
    if not isinstance(cfg, dict):
        raise WorkerError("invalid_input", "s3Config: expected an object with accessId, accessSecret, bucketName, "
                          "endpointUrl", field="s3Config")
    missing = [k for k in ("accessId", "accessSecret", "bucketName", "endpointUrl")
               if not isinstance(cfg.get(k), str) or not cfg.get(k)]
    if missing:
        raise WorkerError("invalid_input", f"s3Config: missing {', '.join(missing)}", field="s3Config")
    return BucketSettings(endpoint_url=cfg["endpointUrl"], access_key_id=cfg["accessId"],
                          secret_access_key=cfg["accessSecret"], bucket=cfg["bucketName"],
                          region=str(cfg.get("region") or "auto"))


CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
MAX_ATTEMPTS = 2                 # the first try and one retry
UPLOAD_DEADLINE_S = 28.0         # the whole upload, every file: a broken bucket fails the job within 30 s

# What a person reads for botocore's connection-level errors (they carry no HTTP response).
_REASONS = {
    "ConnectTimeoutError": f"no connection within {CONNECT_TIMEOUT_S:g} s",
    "ReadTimeoutError": f"no answer within {READ_TIMEOUT_S:g} s",
    "ConnectionClosedError": "the connection was closed without an answer",
    "EndpointConnectionError": "could not connect",
    "ProxyConnectionError": "could not connect through the proxy",
    "SSLError": "the TLS handshake failed",
}


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or url


def _guarded_new_conn(self):
    """urllib3's connect, re-checking the name at connect time (as media URLs are) and connecting to the address
    that was checked: a request's bucket name cannot be re-pointed at a private address between the check and
    boto3's own resolution (DNS rebinding). TLS still names and verifies the host as written."""
    host = self._dns_host
    # A name that does not resolve here fails the connection: urllib3 must not resolve (unchecked) on its own.
    infos = socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"{host} resolves to no address")
    for info in infos:
        check_address(host, str(info[4][0]))
    self._dns_host = str(infos[0][4][0])
    try:
        return super(type(self), self)._new_conn()     # the pool's own connection class, to the checked address
    finally:
        self._dns_host = host


def _guard(s3) -> None:
    """Make this client's connections go through `_guarded_new_conn` (its pools only; no global patch)."""
    session = s3._endpoint.http_session
    pools = session._pool_classes_by_scheme     # the same dict its pool managers read
    for scheme, pool_cls in list(pools.items()):
        conn_cls = type(f"Guarded{pool_cls.ConnectionCls.__name__}", (pool_cls.ConnectionCls,),
                        {"_new_conn": _guarded_new_conn})
        pools[scheme] = type(f"Guarded{pool_cls.__name__}", (pool_cls,), {"ConnectionCls": conn_cls})


def _client(target: BucketSettings, guard: bool = False):
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=target.endpoint_url, region_name=target.region,
                      aws_access_key_id=target.access_key_id, aws_secret_access_key=target.secret_access_key,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                    connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                                    retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"}))
    if guard:
        _guard(s3)
    return s3


def _upload_sync(target: BucketSettings, items: list[tuple[str, bytes, str]], until: float,
                 guard: bool = False) -> list[Uploaded]:
    s3 = _client(target, guard)
    out = []
    for key, data, mime in items:
        if time.monotonic() > until:
            raise TimeoutError("the upload ran past its deadline")
        s3.put_object(Bucket=target.bucket, Key=key, Body=data, ContentType=mime)
        if target.public_base_url:
            url = f"{target.public_base_url.rstrip('/')}/{key}"
        else:
            url = s3.generate_presigned_url("get_object", Params={"Bucket": target.bucket, "Key": key},
                                            ExpiresIn=target.url_expires_s)
        out.append(Uploaded(key, url))
    return out


def reason_of(exc: BaseException) -> str:
    """A short cause: the S3 error code when the bucket answered, else what went wrong on the connection."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if code or status:
            return f"{code or 'HTTP'}{f' (HTTP {status})' if status else ''}"
    inner = (getattr(exc, "kwargs", None) or {}).get("error")      # botocore's HTTPClientError wraps the cause
    if isinstance(inner, Blocked):
        return str(inner)
    name = exc.__class__.__name__
    if isinstance(exc, TimeoutError):
        return f"no answer within {UPLOAD_DEADLINE_S:g} s"
    return _REASONS.get(name, name)


async def upload(target: BucketSettings, items: list[tuple[str, bytes, str]],
                 deadline_s: float = UPLOAD_DEADLINE_S, *, guard: bool = False) -> list[Uploaded]:
    """Upload (key, bytes, content type) items; errors name the bucket and its host, never the keys.

    `guard`: the bucket came with the request (s3Config), so every connection goes only to a public address."""
    until = time.monotonic() + deadline_s
    try:
        # The thread cannot be cancelled; on the deadline we stop waiting for it and it ends on its own timeouts.
        return await asyncio.wait_for(asyncio.to_thread(_upload_sync, target, items, until, guard), deadline_s + 1)
    except Exception as exc:  # botocore raises many types; all mean "the upload failed"
        raise WorkerError("upload_failed", f"uploading to bucket '{target.bucket}' at {host_of(target.endpoint_url)} "
                          f"failed: {reason_of(exc)}", details={"host": host_of(target.endpoint_url)}) from None
