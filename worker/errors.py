"""The one error type the worker reports, and how it reaches the client.

RunPod turns a handler's `{"error": str}` into the job's `error` string; we put a JSON body with a machine
`code` and a sentence for a person inside it, so the studio can show the sentence and branch on the code.
"""
from __future__ import annotations

import json
from typing import Any

CODES = frozenset({
    "invalid_input", "unknown_action", "input_too_large", "input_fetch_failed", "model_missing",
    "validation_failed", "execution_failed", "comfyui_unavailable", "comfyui_crashed", "timeout",
    "output_too_large", "upload_failed", "forbidden", "internal", "comfyui_busy",
})


class WorkerError(Exception):
    def __init__(self, code: str, message: str, *, field: str | None = None, details: dict[str, Any] | None = None):
        if code not in CODES:
            raise ValueError(f"unknown worker error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.details:
            out["details"] = self.details
        return out

    def to_result(self) -> dict[str, str]:
        """What the handler returns so that RunPod marks the job FAILED with a readable error."""
        return {"error": json.dumps(self.body(), ensure_ascii=False)}
