"""`python -m workflows.pin_hub [--endpoint URL] [--write]`: pin the manifest's hub-cache files to the commit
each repository's `main` is at now.

A hub-cache file is provisioned into `snapshots/<commit>/` with `refs/main` naming that commit (see hub_cache.py),
so the manifest names the commit. This asks the hub (`GET /api/models/{repo}/revision/main` → `sha`) and prints,
per repository, the pinned commit and the current one; `--write` moves the pins in workflows/models.json and the
job declarations that list those paths. Sizes stay as they are (approximate for these files) and sha256 is
cleared where the commit changes, since the file may have changed with it. HF_TOKEN, when set, is sent as a
bearer token (gated repositories) and never printed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from typing import Any
from urllib.parse import quote

from workflows import hub_cache
from workflows.catalogue import ACTIONS, HERE


def resolve(endpoint: str, repo: str, revision: str = "main", token: str | None = None,
            timeout: float = 30.0) -> str:
    url = f"{endpoint.rstrip('/')}/api/models/{repo}/revision/{quote(revision, safe='')}"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        sha = json.load(resp).get("sha")
    if not isinstance(sha, str) or not hub_cache.COMMIT.match(sha):
        raise ValueError(f"{repo}: the hub answered no commit for {revision!r}")
    return sha


def repin(manifest: dict[str, Any], commits: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest with each hub file of these repositories at its new commit, and {old path: new path} (pure)."""
    out = json.loads(json.dumps(manifest))
    renames: dict[str, str] = {}
    for f in out["files"]:
        hub = hub_cache.parse(f["path"])
        new = commits.get(hub.repo) if hub else None
        if not new or new == hub.commit:
            continue
        path = f"{hub.repo_dir}/snapshots/{new}/{hub.file}"
        renames[f["path"]] = path
        f["path"], f["commit"], f["sha256"] = path, new, None
        for src in f["sources"]:
            src["revision"] = new
    return out, renames


def _rename_in_job(job: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    def swap(paths: list[str]) -> list[str]:
        return [renames.get(p, p) for p in paths]
    job = json.loads(json.dumps(job))
    models = job.get("models")
    job["models"] = swap(models) if isinstance(models, list) else {k: swap(v) for k, v in (models or {}).items()}
    if job.get("models_when_empty"):
        job["models_when_empty"] = {k: swap(v) for k, v in job["models_when_empty"].items()}
    return job


def _write(path, data) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m workflows.pin_hub", description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default=os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    ap.add_argument("--write", action="store_true", help="move the pins in workflows/*.json")
    args = ap.parse_args(argv)
    manifest = json.loads((HERE / "models.json").read_text(encoding="utf-8"))
    pinned = {h.repo: h.commit for h in (hub_cache.parse(f["path"]) for f in manifest["files"]) if h}
    token = os.environ.get("HF_TOKEN") or None
    current: dict[str, str] = {}
    for repo, commit in pinned.items():
        try:
            current[repo] = resolve(args.endpoint, repo, token=token)
        except (OSError, ValueError) as exc:
            print(f"{repo}: could not resolve main ({exc})", file=sys.stderr)
            return 1
        state = "current" if current[repo] == commit else f"main is now {current[repo]}"
        print(f"{repo}: pinned {commit} ({state})")
    if args.write:
        new, renames = repin(manifest, current)
        _write(HERE / "models.json", new)
        for action in ACTIONS:
            path = HERE / f"{action}.json"
            job = json.loads(path.read_text(encoding="utf-8"))
            _write(path, _rename_in_job(job, renames))
        print(f"moved {len(renames)} file pin(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
