"""Webhook delivery: when a job finishes, POST its /status object to the URL given with /run, as RunPod does."""
from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import aiohttp

from worker.local_endpoint.model import Job

log = logging.getLogger("local_endpoint")

ATTEMPTS = 3          # RunPod: the first try plus 2 retries
RETRY_DELAY_S = 10.0


async def deliver(job: Job) -> None:
    url = job.request.webhook
    if not url:
        return
    body = job.to_object()
    # The URL may carry a token in its query; log only where it goes.
    where = urlsplit(url)._replace(query="", fragment="").geturl()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with session.post(url, json=body) as resp:
                    if resp.status == 200:
                        return
                    log.warning("webhook %s for job %s answered %d (attempt %d)", where, job.id, resp.status, attempt)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("webhook %s for job %s failed: %s (attempt %d)", where, job.id, type(exc).__name__, attempt)
            if attempt < ATTEMPTS:
                await asyncio.sleep(RETRY_DELAY_S)
