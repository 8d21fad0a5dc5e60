"""Without RunPod credentials, run the worker's local endpoint with the preview engine as a detached process.

The endpoint lives in its own session, so it outlives the studio: a job in flight when the studio stops (or is
killed) keeps running, and the next studio on the same data folder finds the endpoint through a small state file
(`<data>/preview-endpoint/endpoint.json`) and follows the job to its end. It is reused only when it is alive,
answers /health, and was started from this checkout's code with the same flags; it exits by itself after
`--idle-exit` seconds without work or requests, so nothing is left running forever.

The backend talks to it over HTTP exactly as it talks to RunPod; it never imports the worker.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from backend.errors import BackendError

REPO = Path(__file__).resolve().parents[1]
READY = re.compile(r"local endpoint ready: (http://\S+)/v2/(\S+)")
STATE_FILE = "endpoint.json"
DEFAULT_IDLE_EXIT_S = 600.0
log = logging.getLogger("backend.studio")


def code_version(repo: Path = REPO) -> str:
    """A digest of the code the endpoint runs (the worker and the job catalogue), uncommitted edits included."""
    h = hashlib.sha256()
    for top in ("worker", "workflows"):
        for p in sorted((repo / top).rglob("*")):
            if p.is_file() and p.suffix in (".py", ".json") and "__pycache__" not in p.parts:
                h.update(p.relative_to(repo).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class EndpointState:
    """What a studio records about the endpoint it started; read back (and trusted only after checks) by the next."""
    pid: int
    url: str                 # the API base, http://127.0.0.1:PORT/v2
    endpoint_id: str
    started_at: float
    code_version: str
    repo: str
    python: str
    args: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> "EndpointState | None":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(pid=int(raw["pid"]), url=str(raw["url"]), endpoint_id=str(raw["endpoint_id"]),
                       started_at=float(raw["started_at"]), code_version=str(raw["code_version"]),
                       repo=str(raw["repo"]), python=str(raw["python"]), args=tuple(str(a) for a in raw["args"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**asdict(self), "args": list(self.args)}, indent=1), encoding="utf-8")
        tmp.replace(path)

    def same_code_and_flags(self, version: str, args: tuple[str, ...]) -> bool:
        return (self.code_version == version and self.repo == str(REPO) and self.python == sys.executable
                and self.args == args)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child not yet reaped) is not alive.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def looks_like_endpoint(pid: int) -> bool:
    """Guard against a recycled pid before signalling it: its command line must be `... worker serve ...`."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return not Path("/proc").is_dir()   # no /proc to check: rely on the /health answer alone
    return b"worker" in argv and b"serve" in argv


class PreviewEndpoint:
    def __init__(self, folder: Path, *, startup_timeout_s: float = 90.0, extra_args: tuple[str, ...] = (),
                 idle_exit_s: float = DEFAULT_IDLE_EXIT_S):
        self.folder = folder
        self.log_path = folder / "endpoint.log"
        self.state_path = folder / STATE_FILE
        self.startup_timeout_s = startup_timeout_s
        self.idle_exit_s = idle_exit_s
        self.args: tuple[str, ...] = ("--preview", "--host", "127.0.0.1", "--port", "0", "--endpoint-id", "preview",
                                      "--idle-exit", f"{idle_exit_s:g}",
                                      # jobs and results on disk: a restarted endpoint still answers for them
                                      "--state-dir", str(folder / "state"), *extra_args)
        self.state: EndpointState | None = None
        self.reused = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._keepalive: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.state.pid if self.state else None

    async def start(self) -> tuple[str, str]:
        """Reuse the recorded endpoint when it is ours and healthy, else start one; returns (api_base, endpoint_id)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as lock:     # two studios on one data folder start one endpoint
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            try:
                version = await asyncio.to_thread(code_version)
                old = EndpointState.read(self.state_path)
                if old is not None and pid_alive(old.pid) and await self._healthy(old):
                    if old.same_code_and_flags(version, self.args):
                        self.state, self.reused = old, True
                        log.info("reusing the preview endpoint (pid %d) at %s", old.pid, old.url)
                    else:
                        await self._retire(old)
                if self.state is None:
                    self.state = await self._spawn(version)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        self._keepalive = asyncio.create_task(self._keep_alive(self.state))
        return self.state.url, self.state.endpoint_id

    async def stop(self, *, studio_in_flight: bool = False) -> bool:
        """On a normal close: stop the endpoint unless a job is in flight (the studio's or the endpoint's own).

        Returns whether it was stopped. Left running, it finishes its jobs and exits after its idle period."""
        if self._keepalive:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
            self._keepalive = None
        st = self.state
        if st is None:
            return True
        if studio_in_flight or await self._busy(st):
            log.info("leaving the preview endpoint (pid %d) running: a job is in flight", st.pid)
            return False
        await self._terminate(st)
        self.state = None
        return True

    # -- internals --------------------------------------------------------------------------------------------
    async def _spawn(self, version: str) -> EndpointState:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for k in ("RUNPOD_API_KEY", "HF_TOKEN"):      # the preview endpoint needs no secrets
            env.pop(k, None)
        with open(self.log_path, "wb") as out:
            self._proc = subprocess.Popen([sys.executable, "-m", "worker", "serve", *self.args],
                                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          cwd=str(REPO), env=env, start_new_session=True)
        proc = self._proc
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            m = READY.search(self.log_path.read_text(errors="replace"))
            if m:
                state = EndpointState(pid=proc.pid, url=m.group(1) + "/v2", endpoint_id=m.group(2),
                                      started_at=time.time(), code_version=version, repo=str(REPO),
                                      python=sys.executable, args=self.args)
                state.write(self.state_path)
                log.info("started the preview endpoint (pid %d) at %s", proc.pid, state.url)
                return state
            if proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-1500:]
                raise BackendError(f"The preview endpoint exited with code {proc.returncode}:\n{tail}")
            await asyncio.sleep(0.1)
        await self._kill_group(proc.pid)
        raise BackendError(f"The preview endpoint did not start within {self.startup_timeout_s:.0f} s; "
                           f"see {self.log_path}.")

    async def _retire(self, old: EndpointState) -> None:
        """An endpoint from other code or flags is never reused; stop it unless it still has work."""
        if await self._busy(old):
            log.warning("the recorded preview endpoint (pid %d) runs other code or flags and still has jobs; "
                        "leaving it to finish and exit when idle", old.pid)
        else:
            await self._terminate(old)

    async def _health(self, st: EndpointState, timeout: float = 3.0) -> dict | None:
        try:
            async with httpx.AsyncClient(timeout=timeout) as http:
                r = await http.get(f"{st.url}/{st.endpoint_id}/health")
            return r.json() if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def _healthy(self, st: EndpointState) -> bool:
        return await self._health(st) is not None

    async def _busy(self, st: EndpointState) -> bool:
        h = await self._health(st)
        jobs = (h or {}).get("jobs") or {}
        return bool(jobs.get("inQueue") or jobs.get("inProgress"))

    async def _keep_alive(self, st: EndpointState) -> None:
        """While the studio is open the endpoint must not idle out under it: a /health now and then is use."""
        interval = max(1.0, min(60.0, self.idle_exit_s / 3))
        while True:
            await asyncio.sleep(interval)
            if not await self._healthy(st):
                log.warning("the preview endpoint at %s does not answer /health", st.url)

    async def _terminate(self, st: EndpointState) -> None:
        if pid_alive(st.pid) and looks_like_endpoint(st.pid):
            await self._kill_group(st.pid)
        if EndpointState.read(self.state_path) == st:
            self.state_path.unlink(missing_ok=True)

    async def _kill_group(self, pid: int) -> None:
        # The endpoint leads its own session, so its process group holds it and its preview engine.
        for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if self._proc is not None and self._proc.pid == pid:
                    self._proc.poll()          # reap our own child so it does not linger as a zombie
                if not pid_alive(pid):
                    return
                await asyncio.sleep(0.1)
