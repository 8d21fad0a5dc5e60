"""Idle exit for `serve --idle-exit SECONDS`: a detached endpoint (the studio's preview endpoint) must not be
left running forever once nobody uses it.

Idle means: no job queued or running and no HTTP request, for the whole period. Results kept for retention are
not work; a client that wants them sooner than the idle period should keep polling (which also keeps it alive).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger("local_endpoint")


class IdleClock:
    def __init__(self, seconds: float, busy: Callable[[], bool], clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._busy = busy
        self._clock = clock
        self._last = clock()

    def touch(self) -> None:
        self._last = self._clock()

    def idle_for(self) -> float:
        if self._busy():
            self.touch()
        return self._clock() - self._last

    def install(self, app: web.Application) -> None:
        """Every request (any route, any answer) counts as use; installed before the app starts."""
        async def on_prepare(_request: web.Request, _response: web.StreamResponse) -> None:
            self.touch()
        app.on_response_prepare.append(on_prepare)

    async def wait(self) -> None:
        """Return once the endpoint has been idle for `seconds`."""
        tick = min(1.0, max(0.05, self.seconds / 4))
        while self.idle_for() < self.seconds:
            await asyncio.sleep(tick)
        log.info("idle for %.0f s (no job queued or running, no request): exiting", self.seconds)
