from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import pytest

from deploy import cli
from deploy.image import Result
from tests.deploy.fake_runpod import FakeRunPod

AMD64_INDEX = json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"digest": "sha256:aa", "platform": {"architecture": "amd64", "os": "linux"}},
    {"digest": "sha256:bb", "platform": {"architecture": "unknown", "os": "unknown"}}]})
ARM64_INDEX = json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"digest": "sha256:cc", "platform": {"architecture": "arm64", "os": "linux"}},
    {"digest": "sha256:dd", "platform": {"architecture": "unknown", "os": "unknown"}}]})


@dataclass
class FakeDocker:
    """Stands in for the docker CLI: records each command line, answers manifest reads."""
    manifest: str = AMD64_INDEX
    calls: list[list[str]] = field(default_factory=list)
    program: str = "docker"

    def run(self, args, stream=False):
        self.calls.append(list(args))
        if args[:3] == ["buildx", "imagetools", "inspect"]:
            return Result(0, self.manifest, "")
        return Result(0, "", "")


@pytest.fixture
def fake():
    server = FakeRunPod().start()
    yield server
    server.stop()
    # The stand-in answers only what RunPod's OpenAPI document allows; a slip there is a broken oracle.
    assert not server.violations, server.violations


class Clock:
    """Wall-clock time for the commands, moved on by the tests (doctor judges "stuck" across checks)."""

    def __init__(self, start: float = 1_790_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def docker():
    return FakeDocker()


@pytest.fixture
def deploy(fake, docker, tmp_path, clock):
    """Run one `python -m deploy …` command in-process; return (exit code, printed text)."""
    state_file = tmp_path / "state.json"

    def run(*argv: str, env: dict | None = None) -> tuple[int, str]:
        out = io.StringIO()
        full_env = {**fake.env, "STUDIO_DEPLOY_STATE": str(state_file), **(env or {})}
        rc = cli.main(list(argv), env=full_env, out=out, runner=docker, sleep=lambda s: None, interactive=False,
                      clock=clock)
        text = out.getvalue()
        assert fake.s.key not in text, "the API key was printed"
        return rc, text

    run.state_file = state_file
    run.state = lambda: json.loads(state_file.read_text())
    yield run
    # The key travels only in the Authorization header: never in a body, a path or a query string.
    for q in fake.requests:
        assert fake.s.key not in q.body and fake.s.key not in q.path and fake.s.key not in q.query
