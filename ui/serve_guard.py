"""A serve-time check on Gradio's file route (`/gradio_api/file=…`), as ASGI middleware given to launch().

Gradio's own checks (allowed_paths / blocked_paths) look at where a file is, not at what it is; a file there is
served inline with the type its name suggests. In front of that route this middleware:
- refuses (403) any path in the data folder outside the library's outputs/inputs/downloads, and any file in
  those folders that backend/served.py does not judge to be media (a page, an SVG, a link, a database);
- for every file it lets through, adds `X-Content-Type-Options: nosniff`, and sends anything that is not studio
  media by its bytes and name (subtitles, an export .zip in Gradio's cache, a user's upload) as an attachment.
URLs (`file=https://…`) are left to Gradio's own proxy checks.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from backend.mediatypes import named_media
from backend.served import judge

_FILE_ROUTE = re.compile(r"^(?:/gradio_api)?/file[=/](.+)$")


class ServeGuard:
    def __init__(self, app: Any, data_dir: str | os.PathLike[str]):
        self.app = app
        self.data = Path(os.path.abspath(data_dir))
        self.library = self.data / "library"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        path, root = scope.get("path", ""), scope.get("root_path", "")
        # The path as the route sees it (already percent-decoded once, as Gradio's own handler receives it).
        m = _FILE_ROUTE.match(path[len(root):] if root and path.startswith(root) else path)
        target = m.group(1) if m else ""
        if not m or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", target):
            return await self.app(scope, receive, send)
        asked = Path(os.path.abspath(target))
        try:
            in_data = asked.is_relative_to(self.data) or asked.resolve().is_relative_to(self.data.resolve())
        except (OSError, RuntimeError):
            in_data = True
        attachment = False
        if in_data:
            verdict = judge(asked, self.library)
            if not verdict.allowed:
                return await _refuse(send)
            attachment = verdict.attachment
        else:
            attachment = not _is_media(asked)

        async def guarded_send(message: dict) -> None:
            if message.get("type") == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not (attachment and k.lower() == b"content-disposition")
                           and k.lower() != b"x-content-type-options"]
                headers.append((b"x-content-type-options", b"nosniff"))
                if attachment:
                    headers.append((b"content-disposition", b"attachment"))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, guarded_send)


def _is_media(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return named_media(f.read(64), path.name) is not None
    except OSError:
        return False          # Gradio answers for a file that is not there


async def _refuse(send: Any) -> None:
    body = b"File not allowed."
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})


def middleware(data_dir: str | os.PathLike[str]) -> Any:
    """For `launch(app_kwargs={"middleware": [...]})`: FastAPI builds it into the app Gradio creates."""
    from starlette.middleware import Middleware
    return Middleware(ServeGuard, data_dir=data_dir)
