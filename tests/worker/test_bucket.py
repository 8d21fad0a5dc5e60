"""Outputs uploaded to a real S3-compatible server (SeaweedFS, started here on loopback only)."""
from __future__ import annotations

import json
import subprocess
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.seaweed import s3_client, start_seaweed
from tests.worker.conftest import portrait_workflow, settings_for
from worker.config import BucketSettings
from worker.handler import handler

KEY, SECRET, BUCKET = "studio-test-key", "studio-test-secret-do-not-log", "studio"


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    proc, endpoint = start_seaweed(tmp_path_factory.mktemp("weed"), BUCKET, KEY, SECRET)
    try:
        listening = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
        mine = [line for line in listening.splitlines() if f"pid={proc.popen.pid}," in line]
        assert mine and all(" 127.0.0.1:" in line for line in mine), mine
        yield endpoint, s3_client(endpoint, KEY, SECRET)
    finally:
        proc.stop()


def bucket(endpoint: str, **kw) -> BucketSettings:
    return BucketSettings(endpoint_url=endpoint, access_key_id=KEY, secret_access_key=SECRET, bucket=BUCKET,
                          region="us-east-1", **kw)


MIXED = {"1": {"class_type": "SaveAudio", "inputs": {"filename_prefix": "voice"}},
         "2": {"class_type": "SaveVideo", "inputs": {"filename_prefix": "talk", "size_bytes": 2_000_000}},
         "4": {"class_type": "SaveImage", "inputs": {"filename_prefix": "still"}}}


def comfy_bytes(url: str, filename: str, subfolder: str) -> bytes:
    return httpx.get(f"{url}/view?" + urlencode({"filename": filename, "subfolder": subfolder, "type": "output"})).content


async def test_bucket_settings_upload_every_file_with_its_content_type(fake, use_settings, tmp_path, seaweed):
    endpoint, s3 = seaweed
    use_settings(settings_for(fake, tmp_path, bucket=bucket(endpoint)))
    result = await handler({"id": "b1", "input": {"action": "workflow", "workflow": MIXED}})
    assert result["status"] == "success", result
    by_name = {f["filename"]: f for f in result["files"]}
    expected = {"voice_00001_.wav": ("audio", "audio/wav", "audio"), "talk_00001_.mp4": ("video", "video/mp4", "video"),
                "still_00001_.png": ("image", "image/png", "")}
    assert set(by_name) == set(expected)
    for name, (kind, mime, sub) in expected.items():
        f = by_name[name]
        assert (f["type"], f["mime"], f["encoding"]) == (kind, mime, "url") and "data" not in f
        original = comfy_bytes(fake, name, sub)
        downloaded = httpx.get(f["url"])
        assert downloaded.status_code == 200 and downloaded.content == original and f["size"] == len(original)
        head = s3.head_object(Bucket=BUCKET, Key=f"b1/{name}")
        assert head["ContentType"] == mime
    assert SECRET not in json.dumps(result)


async def test_request_s3config_sends_oversize_output_to_the_bucket(fake, use_settings, tmp_path, seaweed):
    endpoint, s3 = seaweed
    # The test bucket is on loopback, which a request's s3Config may only name with WORKER_ALLOW_PRIVATE_URLS.
    use_settings(settings_for(fake, tmp_path, inline_max_bytes=100_000, allow_private_urls=True))
    s3config = {"accessId": KEY, "accessSecret": SECRET, "bucketName": BUCKET, "endpointUrl": endpoint}
    result = await handler({"id": "b2", "s3Config": s3config, "input": {
        "action": "workflow", "workflow": portrait_workflow(size_bytes=3_000_000)}})
    assert result["status"] == "success", result
    [f] = result["files"]
    body = httpx.get(f["url"]).content
    assert f["encoding"] == "url" and len(body) == f["size"] > 3_000_000 and body[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(json.dumps(result)) < 10_000


async def test_public_base_url_is_used_instead_of_presigning(fake, use_settings, tmp_path, seaweed):
    endpoint, _ = seaweed
    use_settings(settings_for(fake, tmp_path, bucket=bucket(endpoint, public_base_url="https://cdn.example/studio")))
    result = await handler({"id": "b3", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    assert result["files"][0]["url"] == "https://cdn.example/studio/b3/portrait_00001_.png"


async def test_wrong_bucket_keys_fail_clearly_without_leaking_them(fake, use_settings, tmp_path, seaweed):
    endpoint, _ = seaweed
    wrong = BucketSettings(endpoint_url=endpoint, access_key_id="nobody", secret_access_key="wrong-secret-xyz",
                           bucket=BUCKET, region="us-east-1")
    # Too big to come back inline: the failed upload is the job's error.
    use_settings(settings_for(fake, tmp_path, bucket=wrong, inline_max_bytes=100_000))
    result = await handler({"id": "b4", "input": {"action": "workflow",
                                                  "workflow": portrait_workflow(size_bytes=300_000)}})
    err = json.loads(result["error"])
    assert err["code"] == "upload_failed" and f"bucket '{BUCKET}'" in err["message"]
    assert "InvalidAccessKeyId" in err["message"] and endpoint.split("//")[1] in err["message"]
    assert "wrong-secret-xyz" not in result["error"] and "nobody" not in result["error"]


async def test_a_failed_upload_returns_outputs_that_fit_inline_with_a_warning(fake, use_settings, tmp_path, seaweed):
    endpoint, _ = seaweed
    wrong = BucketSettings(endpoint_url=endpoint, access_key_id="nobody", secret_access_key="wrong-secret-xyz",
                           bucket=BUCKET, region="us-east-1")
    use_settings(settings_for(fake, tmp_path, bucket=wrong))
    result = await handler({"id": "b5", "input": {"action": "workflow", "workflow": portrait_workflow()}})
    assert result["status"] == "success", result
    [f] = result["files"]
    assert f["encoding"] == "base64" and f["data"]
    [warning] = result["warnings"]
    assert f"bucket '{BUCKET}'" in warning and "returned inline" in warning and "wrong-secret-xyz" not in warning


def test_settings_repr_hides_bucket_keys():
    from worker.config import WorkerSettings
    s = WorkerSettings.from_env({"BUCKET_ENDPOINT_URL": "https://x.r2.cloudflarestorage.com",
                                 "BUCKET_ACCESS_KEY_ID": "AKIAEXAMPLE", "BUCKET_SECRET_ACCESS_KEY": "s3cr3t",
                                 "BUCKET_NAME": "media"})
    assert s.bucket.bucket == "media"
    assert "s3cr3t" not in repr(s) and "AKIAEXAMPLE" not in repr(s)
    assert "s3cr3t" not in json.dumps(s.public_dict())
    with pytest.raises(ValueError, match="BUCKET_NAME"):
        WorkerSettings.from_env({"BUCKET_ENDPOINT_URL": "https://x", "BUCKET_ACCESS_KEY_ID": "a",
                                 "BUCKET_SECRET_ACCESS_KEY": "b"})


async def test_worker_comfyui_clients_get_s3_urls_in_their_images_list(fake, use_settings, tmp_path, seaweed):
    endpoint, _ = seaweed
    use_settings(settings_for(fake, tmp_path, bucket=bucket(endpoint)))
    result = await handler({"id": "b6", "input": {"workflow": portrait_workflow()}})     # worker-comfyui's shape
    assert result["status"] == "success", result
    [image] = result["images"]
    assert image["type"] == "s3_url" and image["data"] == result["files"][0]["url"]
    assert image["filename"] == "portrait_00001_.png"
    assert httpx.get(image["data"]).content[:8] == b"\x89PNG\r\n\x1a\n"
