"""Uploading result files to an S3-compatible bucket (AWS S3, Cloudflare R2, Supabase Storage, SeaweedFS).

One path serves all of them: boto3 with an explicit endpoint, SigV4 and path-style addressing (R2 and Supabase
need path style; AWS accepts it). The returned URL is presigned unless a public base URL is configured.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from worker.config import BucketSettings
from worker.errors import WorkerError


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


def _client(target: BucketSettings):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=target.endpoint_url, region_name=target.region,
                        aws_access_key_id=target.access_key_id, aws_secret_access_key=target.secret_access_key,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                      retries={"max_attempts": 3, "mode": "standard"}))


def _upload_sync(target: BucketSettings, items: list[tuple[str, bytes, str]]) -> list[Uploaded]:
    s3 = _client(target)
    out = []
    for key, data, mime in items:
        s3.put_object(Bucket=target.bucket, Key=key, Body=data, ContentType=mime)
        if target.public_base_url:
            url = f"{target.public_base_url.rstrip('/')}/{key}"
        else:
            url = s3.generate_presigned_url("get_object", Params={"Bucket": target.bucket, "Key": key},
                                            ExpiresIn=target.url_expires_s)
        out.append(Uploaded(key, url))
    return out


async def upload(target: BucketSettings, items: list[tuple[str, bytes, str]]) -> list[Uploaded]:
    """Upload (key, bytes, content type) items; errors name the bucket and endpoint, never the keys."""
    try:
        return await asyncio.to_thread(_upload_sync, target, items)
    except Exception as exc:  # botocore raises many types; all mean "the upload failed"
        reason = getattr(exc, "response", {}).get("Error", {}).get("Code") or exc.__class__.__name__
        raise WorkerError("upload_failed", f"uploading to bucket '{target.bucket}' at {target.endpoint_url} failed: "
                          f"{reason}") from None
