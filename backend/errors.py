"""Typed errors of the backend, each with a sentence a person understands. None ever carries a secret."""
from __future__ import annotations


class BackendError(Exception):
    """Base: `message` is shown to the user as is; `code` lets the UI branch."""
    code = "backend_error"

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class AuthError(BackendError):
    code = "auth"


class NotFoundError(BackendError):
    """404: the job id is unknown, or RunPod deleted the result after its retention (or TTL) ran out."""
    code = "not_found"


class RateLimitedError(BackendError):
    code = "rate_limited"


class PayloadTooLargeError(BackendError):
    code = "payload_too_large"

    def __init__(self, size: int, limit: int):
        super().__init__(
            f"The request is {size / 1e6:.1f} MB, over RunPod's limit of {limit / 1e6:.0f} MB for /run; "
            "use smaller media (shorter audio, a smaller image) or send it by URL.")
        self.size = size
        self.limit = limit


class ServerError(BackendError):
    code = "server"


class BadRequestError(BackendError):
    code = "bad_request"


class NotRetriableError(BadRequestError):
    """/retry refused: only a FAILED or TIMED_OUT job can be requeued (a COMPLETED one cannot)."""
    code = "not_retriable"


class UnreachableError(BackendError):
    """The endpoint could not be reached at all (refused, DNS, timeout before any answer)."""
    code = "unreachable"


class FateUnknownError(BackendError):
    """A /run may have reached RunPod but no answer came back: resending could pay for the job twice."""
    code = "fate_unknown"


class SettingsError(BackendError):
    code = "settings"


class InputError(BackendError):
    """Bad input from the caller; the message names the field and what is allowed."""
    code = "invalid_input"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class LibraryError(BackendError):
    code = "library"
