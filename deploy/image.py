"""The worker image: build for linux/amd64 (always), tag with the git commit, and check the pushed manifest.

Docker runs through a `Runner` so tests can swap in a fake and check the exact command lines.
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

PLATFORM = "linux/amd64"
REPO_ROOT = Path(__file__).resolve().parents[1]


class ImageError(Exception):
    pass


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


class Runner:
    """Runs a program (docker by default) and returns its output."""

    def __init__(self, program: str = "docker"):
        self.program = program

    def run(self, args: list[str], stream: bool = False) -> Result:
        try:
            if stream:  # a build is long: let its output reach the terminal as it happens
                rc = subprocess.run([self.program, *args]).returncode
                return Result(rc, "", "")
            p = subprocess.run([self.program, *args], capture_output=True, text=True)
        except FileNotFoundError:
            raise ImageError(f"{self.program!r} was not found; install Docker with buildx "
                             f"(or set DOCKER to its path)") from None
        return Result(p.returncode, p.stdout, p.stderr)


def git_tag(repo: Path = REPO_ROOT) -> str:
    """The commit the image is built from; `-dirty` when the tree has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=repo, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        raise ImageError(f"cannot read the git commit for the image tag ({exc}); build from a git checkout") from None
    return f"{commit}-dirty" if dirty else commit


def check_repository(repository: str) -> str:
    repo = repository.strip()
    if not repo or ":" in repo.rsplit("/", 1)[-1] or "@" in repo or " " in repo:
        raise ValueError(f"--repository: {repository!r} must be an image name without a tag, "
                         f"e.g. ghcr.io/you/studio-worker (the tag is the git commit)")
    return repo


def build_args(ref: str, dockerfile: str, context: str, push: bool) -> list[str]:
    return ["buildx", "build", "--platform", PLATFORM, "--file", dockerfile, "--tag", ref,
            "--push" if push else "--load", context]


def platforms_of(raw_manifest: str, image_config: str | None) -> set[str]:
    """Platforms in a pushed image: from the index's manifests, or a single manifest's config."""
    try:
        raw = json.loads(raw_manifest)
    except json.JSONDecodeError as exc:
        raise ImageError(f"the registry's manifest is not JSON ({exc})") from None
    if isinstance(raw, dict) and isinstance(raw.get("manifests"), list):
        found = set()
        for m in raw["manifests"]:
            plat = m.get("platform") or {}
            os_, arch = plat.get("os"), plat.get("architecture")
            if os_ and arch and os_ != "unknown":  # buildx attestations are listed as unknown/unknown
                found.add(f"{os_}/{arch}" + (f"/{plat['variant']}" if plat.get("variant") else ""))
        return found
    if image_config:
        cfg = json.loads(image_config)
        if "architecture" not in cfg:  # `--format {{json .Image}}` of an index maps platform → config
            return {k for k in cfg if "/" in k}
        return {f"{cfg.get('os', 'linux')}/{cfg['architecture']}"}
    return set()


def check_manifest(runner: Runner, ref: str) -> set[str]:
    """Raise ImageError unless the pushed `ref` has a linux/amd64 image; return its platforms."""
    raw = runner.run(["buildx", "imagetools", "inspect", "--raw", ref])
    if raw.returncode != 0:
        raise ImageError(f"cannot read the manifest of {ref}: {raw.stderr.strip() or raw.stdout.strip()}")
    config = None
    if '"manifests"' not in raw.stdout:
        cfg = runner.run(["buildx", "imagetools", "inspect", "--format", "{{json .Image}}", ref])
        if cfg.returncode != 0:
            raise ImageError(f"cannot read the image config of {ref}: {cfg.stderr.strip()}")
        config = cfg.stdout
    found = platforms_of(raw.stdout, config)
    if PLATFORM not in found:
        have = ", ".join(sorted(found)) or "no platform"
        raise ImageError(f"{ref} has {have} but no {PLATFORM}: RunPod workers would stay initializing with "
                         f"\"no matching manifest for {PLATFORM}\". Rebuild with: python -m deploy image build --push")
    return found
