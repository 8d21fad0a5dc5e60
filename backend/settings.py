"""Settings from the environment and an optional `.env` file, validated once; secrets never printed."""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from backend.errors import SettingsError

DEFAULT_API_BASE = "https://api.runpod.ai/v2"
REDACTED = "***"
# RunPod Serverless flex price of a 24 GB Ada GPU (RTX 4090), US$ per second: the cost figures' default when
# GPU_PRICE_PER_SECOND is unset, so estimates are never a misleading $0.00.
DEFAULT_GPU_PRICE_PER_SECOND = 0.00031


class Secret:
    """A string that shows itself as *** in repr/str/format, so it cannot leak through a log or an error."""
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments, optional `export `, optional matching quotes. No interpolation."""
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise SettingsError(f"{path}: line {n} is not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key] = value
    return out


@dataclass(frozen=True)
class BucketConfig:
    """The user's own S3-compatible bucket, sent with each RunPod job as `s3Config` so large outputs come back
    as URLs. The keys are Secrets: never in a page, a log line or a job record."""
    endpoint_url: str
    bucket: str
    access_id: Secret
    access_secret: Secret

    def to_s3_config(self) -> dict[str, str]:
        return {"endpointUrl": self.endpoint_url, "bucketName": self.bucket, "accessId": self.access_id.reveal(),
                "accessSecret": self.access_secret.reveal()}


BUCKET_VARS = ("STUDIO_BUCKET_ENDPOINT_URL", "STUDIO_BUCKET_NAME", "STUDIO_BUCKET_ACCESS_KEY_ID",
               "STUDIO_BUCKET_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class Settings:
    api_key: Secret | None = None
    endpoint_id: str | None = None
    api_base: str = DEFAULT_API_BASE
    data_dir: Path = Path("studio-data")
    gpu_price_per_second: float = DEFAULT_GPU_PRICE_PER_SECOND
    execution_timeout_ms: int = 600_000
    ttl_ms: int = 86_400_000
    max_download_bytes: int = 2_000_000_000
    extra_secrets: tuple[Secret, ...] = field(default=(), repr=False)
    # Roles (ui/roles.py): reviewers look, play, download and comment but never spend GPU time. Names only: the
    # passwords stay with the login page. With a login in front, a request without a user has no rights.
    reviewers: tuple[str, ...] = ()
    login_required: bool = False
    bucket: BucketConfig | None = field(default=None, repr=False)
    # Output URLs on private addresses (a bucket on the local network): refused unless the operator allows them.
    allow_private_urls: bool = False

    def __post_init__(self) -> None:
        parts = urlsplit(self.api_base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"RUNPOD_API_BASE: {self.api_base!r} is not an http(s) URL "
                                f"(default {DEFAULT_API_BASE})")
        if self.endpoint_id is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", self.endpoint_id):
            raise SettingsError("RUNPOD_ENDPOINT_ID: must be letters, digits, '-' or '_' (1–64 characters)")
        if self.gpu_price_per_second < 0:
            raise SettingsError(f"GPU_PRICE_PER_SECOND: {self.gpu_price_per_second} must be ≥ 0 (US$ per second)")

    @property
    def is_default_base(self) -> bool:
        return self.api_base.rstrip("/") == DEFAULT_API_BASE

    @property
    def mode(self) -> str:
        """"runpod" with a key for RunPod's API, "local" when the base points elsewhere, else "preview"."""
        if not self.is_default_base and self.endpoint_id:
            return "local"
        if self.api_key and self.endpoint_id:
            return "runpod"
        return "preview"

    def secrets(self) -> list[str]:
        """Every secret value, so logs and errors can be scanned/redacted for them."""
        bucket = (self.bucket.access_id, self.bucket.access_secret) if self.bucket else ()
        vals = [s.reveal() for s in (self.api_key, *self.extra_secrets, *bucket) if s]
        return [v for v in vals if v]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | str | None = ".env") -> "Settings":
        """The process environment wins over `.env`; unknown keys are ignored."""
        values: dict[str, str] = {}
        if dotenv is not None:
            values.update(read_dotenv(Path(dotenv)))
        values.update(os.environ if env is None else env)

        def get(name: str) -> str | None:
            v = values.get(name)
            return v.strip() if v and v.strip() else None

        def number(name: str, default: float, kind: type = float) -> float:
            raw = get(name)
            if raw is None:
                return default
            try:
                return kind(raw)
            except ValueError:
                raise SettingsError(f"{name}: {raw!r} is not a {'whole ' if kind is int else ''}number") from None

        key = get("RUNPOD_API_KEY")
        hf = get("HF_TOKEN")
        given = {n: get(n) for n in BUCKET_VARS}
        bucket = None
        if any(given.values()):
            missing = [n for n, v in given.items() if not v]
            if missing:
                raise SettingsError(f"{', '.join(missing)}: needed too when any STUDIO_BUCKET_* setting is given")
            url = given["STUDIO_BUCKET_ENDPOINT_URL"] or ""
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                raise SettingsError(f"STUDIO_BUCKET_ENDPOINT_URL: {url!r} is not an http(s) URL")
            bucket = BucketConfig(endpoint_url=url, bucket=given["STUDIO_BUCKET_NAME"] or "",
                                  access_id=Secret(given["STUDIO_BUCKET_ACCESS_KEY_ID"] or ""),
                                  access_secret=Secret(given["STUDIO_BUCKET_SECRET_ACCESS_KEY"] or ""))
        return cls(
            api_key=Secret(key) if key else None,
            endpoint_id=get("RUNPOD_ENDPOINT_ID"),
            api_base=(get("RUNPOD_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            data_dir=Path(get("STUDIO_DATA_DIR") or "studio-data"),
            gpu_price_per_second=number("GPU_PRICE_PER_SECOND", DEFAULT_GPU_PRICE_PER_SECOND),
            execution_timeout_ms=int(number("STUDIO_EXECUTION_TIMEOUT_MS", 600_000, int)),
            ttl_ms=int(number("STUDIO_TTL_MS", 86_400_000, int)),
            extra_secrets=(Secret(hf),) if hf else (),
            reviewers=tuple(user for user, _ in parse_logins(get("STUDIO_REVIEWERS") or "", "STUDIO_REVIEWERS")),
            bucket=bucket,
            allow_private_urls=(get("STUDIO_ALLOW_PRIVATE_URLS") or "").strip().lower() in ("1", "true", "yes", "on"),
        )


def parse_logins(raw: str, name: str) -> list[tuple[str, str]]:
    """`user:pass[,user:pass…]` → [(user, pass)]; the error names the setting, never a password."""
    out = []
    for n, item in enumerate(p.strip() for p in raw.split(",")):
        if not item:
            continue
        user, sep, password = item.partition(":")
        if not sep or not user.strip() or not password:
            raise SettingsError(f"{name}: entry {n + 1} is not user:pass (expected e.g. editor:s3cret,"
                                "reviewer:0ther)")
        out.append((user.strip(), password))
    return out


def redact(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Installed on the backend's logger: rewrites any record whose text contains a secret."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            msg = record.getMessage()
            clean = redact(msg, self._secrets)
            if clean != msg:
                record.msg, record.args = clean, None
        return True
