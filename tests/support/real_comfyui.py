"""The real ComfyUI 0.3.64 with its four node packs, installed from ../shared/comfyui/src for the `real_comfyui`
test tier, and started as a real process on loopback.

The install lives outside the repository, under ~/.cache/graphic-novel-studio/real-comfyui-<key>/ (or
$GNS_CACHE_DIR), keyed by the archives' checksums and the install recipe, so a second run reuses it. A file lock
keeps two processes from installing at once; the marker `installed.json` is written only when every step
succeeded, so a half-finished install is redone, never used.

    rc = ensure_installed()                      # RealComfy(root, python, comfy_dir, key)
    base = make_base(rc, tmp / "comfy-base")     # a folder of the test's own: models/, custom_nodes/ (links), ...
    with ComfyServer.start(rc, base, log_path=tmp / "comfy.log") as server:
        server.url                               # http://127.0.0.1:<free port>

Each test gets a base directory of its own (ComfyUI's --base-directory), so nothing a test does (the worker's
extra_model_paths.yaml, a models/ link, a custom node of the tests) is written into the shared install.

`python -m tests.support.real_comfyui install` installs it ahead of the tests (.ci/run does).
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.procs import free_port

REPO = Path(__file__).resolve().parents[2]

# The versions that worked with these sources (../shared/comfyui/src/README.md): torchcodec newer than 0.8.x does
# not load with torch 2.9.1, and torchaudio 2.9 is the last one paired with it. PyPI offers only the CUDA build of
# torch 2.9.1 for x86_64 (the CPU-only wheels of 2.9.1 are not on the registries this machine reaches; the CPU
# build on this machine's disk, 2.13.0, has no torchaudio release beside it); it runs fine with --cpu.
PINS = ("torch==2.9.1", "torchvision==0.24.1", "torchaudio==2.9.1", "torchcodec==0.8.1")
# Bump when the steps below change: the key changes and the next run installs afresh.
RECIPE = "1"

COMFY_ARCHIVE = "ComfyUI-a125cd84.tar.gz"
PACK_ARCHIVES = ("ComfyUI-F5-TTS-4f091769.tar.gz", "ComfyUI_Sonic-85562349.tar.gz",
                 "ComfyUI-AnimateDiff-Evolved-d8d163cd.tar.gz", "ComfyUI-VideoHelperSuite-4ee72c06.tar.gz")
F5_ARCHIVE = "F5-TTS-9ae46c83.tar.gz"
# Packs with no requirements of their own (cubiq/ComfyUI_IPAdapter_plus 9d076a3): nothing in the venv changes, so
# an install made before they were added gets them unpacked beside the others instead of a full re-install.
PLAIN_PACKS = {"ComfyUI_IPAdapter_plus": "ComfyUI_IPAdapter_plus-9d076a3d.tar.gz"}
PACK_ARCHIVES = (*PACK_ARCHIVES, *PLAIN_PACKS.values())
PACKS = ("ComfyUI-F5-TTS", "ComfyUI_Sonic", "ComfyUI-AnimateDiff-Evolved", "ComfyUI-VideoHelperSuite",
         *PLAIN_PACKS)
MARKER = "installed.json"


class NotAvailable(RuntimeError):
    """The source archives are not on this machine: the tier cannot run here (tests skip with this message)."""


class InstallFailed(RuntimeError):
    pass


def shared_dir() -> Path:
    """../shared beside the repository (CI puts it beside the clone); a worktree's parent holds it too."""
    env = os.environ.get("GNS_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared"


def source_dir() -> Path:
    return shared_dir() / "comfyui" / "src"


def synthetic_dir() -> Path:
    return shared_dir() / "comfyui" / "synthetic"


def cache_root() -> Path:
    env = os.environ.get("GNS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "graphic-novel-studio"


def _sums(src: Path) -> dict[str, str]:
    out = {}
    for line in (src / "SHA256SUMS").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[1].lstrip("*")] = parts[0]
    return out


def missing_reason() -> str | None:
    """Why the tier cannot run here (one line), or None when the archives are present."""
    src = source_dir()
    needed = (COMFY_ARCHIVE, *PACK_ARCHIVES, F5_ARCHIVE, "SHA256SUMS")
    absent = [n for n in needed if not (src / n).is_file()]
    if absent:
        return f"real ComfyUI tier: the source archives are not in {src} (missing {', '.join(absent)})"
    return None


def install_key() -> str:
    """Checksums of the archives (as SHA256SUMS lists them) + the pins + the recipe version."""
    reason = missing_reason()
    if reason:
        raise NotAvailable(reason)
    sums = _sums(source_dir())
    blob = json.dumps({"sums": sums, "pins": PINS, "recipe": RECIPE, "python": sys.version_info[:2]}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RealComfy:
    root: Path          # the cache folder of this install
    python: Path        # the venv's interpreter
    comfy_dir: Path     # the unpacked ComfyUI/ (main.py), packs in its custom_nodes/
    key: str

    @property
    def custom_nodes(self) -> list[Path]:
        return [self.comfy_dir / "custom_nodes" / p for p in PACKS]

    def env(self) -> dict[str, str]:
        """Environment for the venv's Python (e.g. the synthetic-model generators need COMFYUI_DIR)."""
        return {**os.environ, "COMFYUI_DIR": str(self.comfy_dir), "PYTHONUNBUFFERED": "1",
                "VIRTUAL_ENV": str(self.python.parent.parent)}


def _layout(key: str) -> RealComfy:
    root = cache_root() / f"real-comfyui-{key}"
    return RealComfy(root=root, python=root / "venv" / "bin" / "python", comfy_dir=root / "ComfyUI", key=key)


def installed() -> RealComfy | None:
    """The install if it is complete, else None (never installs)."""
    try:
        rc = _layout(install_key())
    except NotAvailable:
        return None
    return rc if (rc.root / MARKER).is_file() and rc.python.is_file() else None


def ensure_installed(log: Callable[[str], None] | None = None) -> RealComfy:
    """Install the real ComfyUI unless a complete install with this key exists; return it.
    Raises NotAvailable where the archives are absent, InstallFailed (with the log's tail) when a step fails."""
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    key = install_key()
    rc = _layout(key)
    if (rc.root / MARKER).is_file() and not _plain_packs_missing(rc):
        return rc
    cache_root().mkdir(parents=True, exist_ok=True)
    lock_path = cache_root() / f"real-comfyui-{key}.lock"
    with open(lock_path, "w") as lock:
        if not _try_lock(lock):
            log(f"real ComfyUI: another process is installing it into {rc.root}; waiting")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if (rc.root / MARKER).is_file():    # installed (by us earlier, or the other process)
            _add_plain_packs(rc, log)
            return rc
        _install(rc, log)
    return rc


def _plain_packs_missing(rc: RealComfy) -> list[str]:
    return [p for p in PLAIN_PACKS if not (rc.comfy_dir / "custom_nodes" / p).is_dir()]


def _add_plain_packs(rc: RealComfy, log: Callable[[str], None]) -> None:
    """Unpack the requirement-free packs an older install lacks (checksum first, into a folder then renamed)."""
    nodes = rc.comfy_dir / "custom_nodes"
    sums = _sums(source_dir())
    for pack in _plain_packs_missing(rc):
        archive = source_dir() / PLAIN_PACKS[pack]
        if hashlib.sha256(archive.read_bytes()).hexdigest() != sums.get(archive.name):
            raise InstallFailed(f"{archive}: checksum differs from SHA256SUMS")
        staging = nodes / f".{pack}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        _unpack(archive, staging)
        (staging / pack).rename(nodes / pack)
        staging.rmdir()
        log(f"real ComfyUI: added {pack} to the install at {rc.root}")


def _try_lock(fh) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _verify(src: Path) -> None:
    for name, want in _sums(src).items():
        h = hashlib.sha256()
        with open(src / name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != want:
            raise InstallFailed(f"{src / name}: checksum differs from SHA256SUMS")


def _unpack(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")


def _install(rc: RealComfy, log: Callable[[str], None]) -> None:
    t0 = time.monotonic()
    src = source_dir()
    if rc.root.exists():
        log(f"real ComfyUI: removing an unfinished install at {rc.root}")
        shutil.rmtree(rc.root)
    rc.root.mkdir(parents=True)
    log_path = rc.root / "install.log"
    log(f"real ComfyUI: installing into {rc.root} (first time: several minutes; log in {log_path})")
    _verify(src)
    _unpack(src / COMFY_ARCHIVE, rc.root)
    nodes = rc.comfy_dir / "custom_nodes"
    for name in PACK_ARCHIVES:
        _unpack(src / name, nodes)
    _unpack(src / F5_ARCHIVE, nodes / "ComfyUI-F5-TTS")
    missing = [p for p in PACKS if not (nodes / p).is_dir()] + \
        ([] if (nodes / "ComfyUI-F5-TTS" / "F5-TTS" / "pyproject.toml").is_file() else ["F5-TTS"])
    if missing:
        raise InstallFailed(f"the archives did not unpack to {', '.join(missing)} under {nodes}")

    constraints = rc.root / "constraints.txt"
    constraints.write_text("\n".join(PINS) + "\n")
    venv = rc.root / "venv"
    run = _Runner(log_path, log)
    run([sys.executable, "-m", "venv", str(venv)], "creating the venv")
    reqs = [rc.comfy_dir / "requirements.txt"] + [nodes / p / "requirements.txt" for p in PACKS]
    args = [*PINS]
    for r in reqs:
        if r.is_file():
            args += ["-r", str(r)]
    args += ["-e", str(nodes / "ComfyUI-F5-TTS" / "F5-TTS")]
    # uv downloads in parallel and links from its cache (~/.cache/uv), so the ~3 GB of torch + CUDA wheels are
    # fetched once per machine and a re-install takes seconds; pip is the fallback.
    uv_ok = False
    try:
        run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "uv"], "installing uv into the venv")
        uv_env = {"UV_NATIVE_TLS": "1", "UV_HTTP_TIMEOUT": "300"}
        run([str(venv / "bin" / "uv"), "pip", "install", "--python", str(venv / "bin" / "python"),
             "-c", str(constraints), *args], "installing torch, ComfyUI and the packs' requirements (uv)", env=uv_env)
        uv_ok = True
    except InstallFailed as exc:
        log(f"real ComfyUI: uv failed ({exc}); installing with pip instead")
    if not uv_ok:
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints)]
        run([*pip, *PINS], "installing torch (pip)")
        for r in reqs:
            if r.is_file():
                run([*pip, "-r", str(r)], f"installing {r.parent.name}'s requirements (pip)")
        run([*pip, "-e", str(nodes / "ComfyUI-F5-TTS" / "F5-TTS")], "installing F5-TTS (pip)")
    run([str(venv / "bin" / "python"), "-c",
         "import torch, torchaudio, torchvision, torchcodec, av, requests; print(torch.__version__)"],
        "checking the imports")
    seconds = round(time.monotonic() - t0, 1)
    (rc.root / MARKER).write_text(json.dumps({"key": rc.key, "pins": PINS, "seconds": seconds, "uv": uv_ok,
                                              "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    log(f"real ComfyUI: installed in {seconds} s")


class _Runner:
    def __init__(self, log_path: Path, log: Callable[[str], None]):
        self.log_path = log_path
        self.log = log

    def __call__(self, argv: Sequence[str], what: str, env: dict[str, str] | None = None) -> None:
        self.log(f"real ComfyUI: {what}")
        t0 = time.monotonic()
        with open(self.log_path, "ab") as fh:
            fh.write(f"\n$ {' '.join(argv)}\n".encode())
            fh.flush()
            rc = subprocess.call(list(argv), stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env={**os.environ, **(env or {})})
        if rc != 0:
            tail = "\n".join(_tail(self.log_path, 15))
            raise InstallFailed(f"{what} failed (exit {rc}); log {self.log_path}:\n{tail}")
        self.log(f"real ComfyUI: {what}: done in {time.monotonic() - t0:.0f} s")


def _tail(path: Path, lines: int) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            return list(deque(fh.read().decode("utf-8", "replace").splitlines(), maxlen=lines))
    except OSError:
        return []


# -- a base directory per test -------------------------------------------------------------------------------------
def make_base(rc: RealComfy, base: Path, extra_nodes: Iterable[Path] = ()) -> Path:
    """A ComfyUI --base-directory of the caller's own: custom_nodes/ links to the installed packs (plus
    `extra_nodes`: files or folders of the tests), empty models/, input/, output/, temp/, user/."""
    nodes = base / "custom_nodes"
    nodes.mkdir(parents=True, exist_ok=True)
    for pack in [*rc.custom_nodes, *map(Path, extra_nodes)]:
        link = nodes / pack.name
        if not link.exists():
            link.symlink_to(pack.resolve())
    for sub in ("models", "input", "output", "temp", "user"):
        (base / sub).mkdir(exist_ok=True)
    return base


def command(rc: RealComfy, base: Path | None = None, *, port: int | str = "{port}",
            extra_model_paths: Path | None = None) -> list[str]:
    """ComfyUI's argv; with port="{port}" it is a template for the worker's COMFYUI_COMMAND."""
    argv = [str(rc.python), str(rc.comfy_dir / "main.py"), "--cpu", "--listen", "127.0.0.1", "--port", str(port),
            "--disable-auto-launch"]
    if base is not None:
        argv += ["--base-directory", str(base)]
    if extra_model_paths is not None:
        argv += ["--extra-model-paths-config", str(extra_model_paths)]
    return argv


def command_line(rc: RealComfy, base: Path | None = None, *, extra_model_paths: Path | None = None) -> str:
    """The worker's COMFYUI_COMMAND (a shell-quoted line with {port})."""
    import shlex
    return " ".join(shlex.quote(a) for a in command(rc, base, extra_model_paths=extra_model_paths))


def server_env(rc: RealComfy, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = rc.env()
    # No test may reach a model hub; ComfyUI's frontend and the packs must start offline.
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.update(extra or {})
    return env


class ComfyServer:
    """One real ComfyUI process (its own PID, its own process group); stop() ends it and its children."""

    def __init__(self, popen: subprocess.Popen, port: int, log_path: Path, base: Path | None):
        self.popen = popen
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.base = base

    @property
    def pid(self) -> int:
        return self.popen.pid

    @classmethod
    def start(cls, rc: RealComfy, base: Path | None, *, log_path: Path, extra_model_paths: Path | None = None,
              env: dict[str, str] | None = None, timeout: float = 600.0, port: int | None = None) -> "ComfyServer":
        port = port or free_port()
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(command(rc, base, port=port, extra_model_paths=extra_model_paths),
                                     cwd=str(rc.comfy_dir), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=server_env(rc, env), start_new_session=True)
        server = cls(popen, port, log_path, base)
        try:
            server.wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.popen.returncode} while starting:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/system_stats", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"ComfyUI did not answer /system_stats within {timeout:g} s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(_tail(self.log_path, lines))

    def queue(self) -> dict:
        return httpx.get(self.url + "/queue", timeout=30).json()

    def wait_idle(self, timeout: float = 10.0) -> dict:
        """Wait until nothing runs or waits; returns the last /queue answer."""
        deadline = time.monotonic() + timeout
        q = self.queue()
        while (q.get("queue_running") or q.get("queue_pending")) and time.monotonic() < deadline:
            time.sleep(0.2)
            q = self.queue()
        return q

    def kill(self) -> None:
        """SIGKILL the ComfyUI process itself (a crash, as a test causes it)."""
        try:
            os.kill(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.popen.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.popen.wait(timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue

    def __enter__(self) -> "ComfyServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# -- synthetic weights (issue 13.3) ------------------------------------------------------------------------------
def synthetic_sd15(rc: RealComfy, log: Callable[[str], None] | None = None) -> Path:
    """A random-weight SD 1.5 checkpoint built with ComfyUI's own model code (../shared/comfyui/synthetic/
    gen_sd15.py), cached beside the install (2.1 GB; made once, about a minute)."""
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    script = synthetic_dir() / "gen_sd15.py"
    if not script.is_file():
        raise NotAvailable(f"real ComfyUI tier: {script} is absent")
    # Keyed by the generator's code too (the install's key is in rc.root): a changed generator makes a new file.
    code = hashlib.sha256(script.read_bytes() + (synthetic_dir() / "synthlib.py").read_bytes()).hexdigest()[:12]
    out = rc.root / "synthetic" / f"sd15-random-{code}.safetensors"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(cache_root() / f"real-comfyui-{rc.key}.synthetic.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if out.is_file():
            return out
        partial = out.with_suffix(".partial.safetensors")
        log(f"real ComfyUI: building a random-weight SD 1.5 checkpoint at {out}")
        t0 = time.monotonic()
        with open(rc.root / "synthetic.log", "ab") as fh:
            code = subprocess.call([str(rc.python), str(script), str(partial)], cwd=str(rc.root), env=rc.env(),
                                   stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if code != 0 or not partial.is_file():
            tail = "\n".join(_tail(rc.root / "synthetic.log", 15))
            raise InstallFailed(f"gen_sd15.py failed (exit {code}):\n{tail}")
        partial.rename(out)
        log(f"real ComfyUI: SD 1.5 checkpoint made in {time.monotonic() - t0:.0f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.support.real_comfyui",
                                description="Install the real ComfyUI for the real_comfyui test tier (cached).")
    p.add_argument("what", choices=["install", "path", "synthetic"],
                   help="install: install (or reuse) it; path: print its folder if installed; "
                        "synthetic: install and build the random-weight SD 1.5 checkpoint")
    a = p.parse_args(argv)
    reason = missing_reason()
    if reason:
        print(reason + "; skipping", flush=True)
        return 0
    if a.what == "path":
        rc = installed()
        print(rc.root if rc else "not installed")
        return 0 if rc else 1
    try:
        rc = ensure_installed()
        if a.what == "synthetic":
            synthetic_sd15(rc)
    except InstallFailed as exc:
        print(f"real ComfyUI: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"real ComfyUI ready: {rc.comfy_dir} (python {rc.python})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
