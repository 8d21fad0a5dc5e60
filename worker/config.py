"""The worker's settings, read once from the environment.

Secrets (bucket keys) are kept out of `repr` so a settings object can be logged or put in an error safely.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_COMFYUI_COMMAND = "python /comfyui/main.py --listen 127.0.0.1 --port {port} --disable-auto-launch"
RUNPOD_RESULT_LIMIT = 10 * 1024 * 1024
WORKER_VERSION = "0.1.0"


def _bool(env: dict[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _num(env: dict[str, str], name: str, default: float, cast=float):
    raw = env.get(name)
    if raw is None or raw == "":
        return cast(default)
    try:
        value = cast(raw)
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a number") from None
    if value < 0:
        raise ValueError(f"{name}: {raw!r} must not be negative")
    return value


@dataclass(frozen=True)
class BucketSettings:
    endpoint_url: str
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    bucket: str
    region: str = "auto"
    public_base_url: str | None = None     # e.g. a Supabase public bucket or an R2 public domain; else presigned URLs
    url_expires_s: int = 3600


@dataclass(frozen=True)
class WorkerSettings:
    comfyui_url: str | None = None              # an already-running ComfyUI: no supervision
    comfyui_command: str = DEFAULT_COMFYUI_COMMAND
    comfyui_port: int = 8188
    comfyui_start_timeout_s: float = 180.0
    comfyui_log: Path = Path("/tmp/comfyui.log")
    # After /interrupt (cancel, timeout) ComfyUI gets this long to stop the prompt; a node that ignores the
    # interrupt (SONIC's sampler) would otherwise keep the GPU busy and billing behind a "cancelled" job.
    comfyui_stop_timeout_s: float = 5.0
    comfyui_log_given: bool = False             # COMFYUI_LOG set: with COMFYUI_URL, errors carry its tail too
    job_timeout_s: float = 1800.0
    volume: Path = Path("/runpod-volume")
    allow_raw_workflow: bool = False
    allow_private_urls: bool = False
    allow_http_urls: bool = False
    max_input_bytes: int = 25 * 1024 * 1024     # per media field, decoded
    fetch_timeout_s: float = 30.0
    inline_max_bytes: int = 7 * 1024 * 1024     # total decoded output size returned as base64
    bucket: BucketSettings | None = None

    @property
    def supervised(self) -> bool:
        return not self.comfyui_url

    @property
    def base_url(self) -> str:
        return (self.comfyui_url or f"http://127.0.0.1:{self.comfyui_port}").rstrip("/")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "WorkerSettings":
        env = dict(os.environ if env is None else env)
        bucket = None
        endpoint = env.get("BUCKET_ENDPOINT_URL", "").strip()
        if endpoint:
            missing = [n for n in ("BUCKET_ACCESS_KEY_ID", "BUCKET_SECRET_ACCESS_KEY", "BUCKET_NAME") if not env.get(n)]
            if missing:
                raise ValueError(f"BUCKET_ENDPOINT_URL is set but {', '.join(missing)} is not")
            bucket = BucketSettings(
                endpoint_url=endpoint,
                access_key_id=env["BUCKET_ACCESS_KEY_ID"],
                secret_access_key=env["BUCKET_SECRET_ACCESS_KEY"],
                bucket=env["BUCKET_NAME"],
                region=env.get("BUCKET_REGION") or "auto",
                public_base_url=env.get("BUCKET_PUBLIC_URL") or None,
                url_expires_s=int(_num(env, "BUCKET_URL_EXPIRES", 3600, int)),
            )
        return cls(
            comfyui_url=env.get("COMFYUI_URL") or None,
            comfyui_command=env.get("COMFYUI_COMMAND") or DEFAULT_COMFYUI_COMMAND,
            comfyui_port=int(_num(env, "COMFYUI_PORT", 8188, int)),
            comfyui_start_timeout_s=_num(env, "COMFYUI_START_TIMEOUT", 180.0),
            comfyui_log=Path(env.get("COMFYUI_LOG") or "/tmp/comfyui.log"),
            comfyui_stop_timeout_s=_num(env, "COMFYUI_STOP_TIMEOUT", 5.0),
            comfyui_log_given=bool(env.get("COMFYUI_LOG")),
            job_timeout_s=_num(env, "WORKER_JOB_TIMEOUT", 1800.0),
            volume=Path(env.get("RUNPOD_VOLUME") or "/runpod-volume"),
            allow_raw_workflow=_bool(env, "ALLOW_RAW_WORKFLOW"),
            allow_private_urls=_bool(env, "WORKER_ALLOW_PRIVATE_URLS"),
            allow_http_urls=_bool(env, "WORKER_ALLOW_HTTP_URLS"),
            max_input_bytes=int(_num(env, "WORKER_MAX_INPUT_BYTES", 25 * 1024 * 1024, int)),
            fetch_timeout_s=_num(env, "WORKER_FETCH_TIMEOUT", 30.0),
            inline_max_bytes=int(_num(env, "WORKER_INLINE_MAX_BYTES", 7 * 1024 * 1024, int)),
            bucket=bucket,
        )

    def public_dict(self) -> dict:
        """For the debug action: every setting, with bucket keys left out."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, BucketSettings):
                value = {"endpoint_url": value.endpoint_url, "bucket": value.bucket, "public": bool(value.public_base_url)}
            elif isinstance(value, Path):
                value = str(value)
            out[f.name] = value
        return out
