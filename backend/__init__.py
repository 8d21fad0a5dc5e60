"""The studio's backend: RunPod client, job tracker, history, output library (ARCHITECTURE.md §5)."""
from backend.errors import BackendError
from backend.records import JobEvent, JobRecord, Policy
from backend.settings import Settings


def __getattr__(name: str):
    # Studio pulls in the whole stack; import it lazily so `backend.settings` etc. stay light.
    if name == "Studio":
        from backend.studio import Studio
        return Studio
    raise AttributeError(name)


__all__ = ["Studio", "Settings", "JobRecord", "JobEvent", "Policy", "BackendError"]
