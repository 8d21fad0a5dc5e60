"""ComfyUI's HTTP + websocket API, as one small async client on aiohttp.

Only transport lives here; what a response means for a job is decided by the runner and node_errors.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp


class ComfyUnreachable(Exception):
    """ComfyUI did not answer (connection refused/reset, or a timeout)."""


@dataclass
class PromptRejected(Exception):
    """POST /prompt answered with an error status (validation failure and the like)."""
    status: int
    body: Any

    def __str__(self) -> str:
        return f"ComfyUI rejected the prompt ({self.status})"


@dataclass(frozen=True)
class OutputFile:
    filename: str
    subfolder: str
    type: str


class ComfyClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession):
        self.base_url = base_url.rstrip("/")
        self.session = session

    async def _json(self, method: str, path: str, *, timeout: float = 30.0, **kw) -> Any:
        try:
            async with self.session.request(method, self.base_url + path,
                                            timeout=aiohttp.ClientTimeout(total=timeout), **kw) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status, message=text[:500])
                return json.loads(text) if text.strip() else None
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise ComfyUnreachable(f"{method} {path}: {exc.__class__.__name__} {exc}") from exc

    async def system_stats(self, timeout: float = 5.0) -> dict:
        return await self._json("GET", "/system_stats", timeout=timeout)

    async def models(self, folder: str) -> list[str]:
        try:
            return list(await self._json("GET", f"/models/{folder}", timeout=10.0) or [])
        except aiohttp.ClientResponseError:
            return []

    async def upload(self, name: str, data: bytes, mime: str) -> str:
        """Store `data` in ComfyUI's input folder under `name`; returns the name LoadImage/LoadAudio should use."""
        form = aiohttp.FormData()
        form.add_field("image", data, filename=name, content_type=mime)
        form.add_field("type", "input")
        form.add_field("overwrite", "true")
        body = await self._json("POST", "/upload/image", data=form, timeout=120.0)
        sub = (body or {}).get("subfolder") or ""
        stored = (body or {}).get("name") or name
        return f"{sub}/{stored}" if sub else stored

    async def queue_prompt(self, prompt: dict, client_id: str, prompt_id: str) -> dict:
        payload = {"prompt": prompt, "client_id": client_id, "prompt_id": prompt_id}
        try:
            async with self.session.post(self.base_url + "/prompt", json=payload,
                                         timeout=aiohttp.ClientTimeout(total=60.0)) as resp:
                text = await resp.text()
                try:
                    body = json.loads(text)
                except ValueError:
                    body = {"error": {"type": "server_error", "message": text.strip()[:500]}}
                if resp.status != 200:
                    raise PromptRejected(resp.status, body)
                return body
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise ComfyUnreachable(f"POST /prompt: {exc}") from exc

    async def history(self, prompt_id: str) -> dict | None:
        body = await self._json("GET", f"/history/{prompt_id}", timeout=10.0)
        return (body or {}).get(prompt_id)

    async def view(self, f: OutputFile) -> bytes:
        query = urlencode({"filename": f.filename, "subfolder": f.subfolder, "type": f.type})
        try:
            async with self.session.get(f"{self.base_url}/view?{query}",
                                        timeout=aiohttp.ClientTimeout(total=300.0)) as resp:
                if resp.status != 200:
                    raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status,
                                                      message=f"/view {f.filename}")
                return await resp.read()
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise ComfyUnreachable(f"GET /view: {exc}") from exc

    async def interrupt(self, prompt_id: str) -> None:
        await self._json("POST", "/interrupt", json={"prompt_id": prompt_id}, timeout=5.0)

    async def delete_from_queue(self, prompt_id: str) -> None:
        await self._json("POST", "/queue", json={"delete": [prompt_id]}, timeout=5.0)

    async def queue(self) -> dict:
        return await self._json("GET", "/queue", timeout=5.0)

    async def websocket(self, client_id: str) -> aiohttp.ClientWebSocketResponse:
        url = self.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        try:
            return await self.session.ws_connect(f"{url}/ws?clientId={client_id}", heartbeat=None,
                                                 timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
                                                 max_msg_size=64 * 1024 * 1024)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ComfyUnreachable(f"websocket: {exc}") from exc
