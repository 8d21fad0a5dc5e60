"""The provision action against a local stand-in for Hugging Face (a real process on 127.0.0.1)."""
from __future__ import annotations

import hashlib
import json
import logging
import os

import httpx
import pytest

from tests.support.procs import Proc, free_port, wait_http
from workflows.catalogue import ModelFile
from workflows import hub_cache
from worker.actions.provision import ProvisionSettings, parse_jobs, provision, run
from worker.volume import file_problem
from worker.errors import WorkerError

TOKEN = "hf_secret_token_value_123"
COMMIT = "0feb3fdd929bcd6649e0e7c5a688cf7dd012ef21"
VOCOS = f"hf/hub/models--org--vocos/snapshots/{COMMIT}/config.yaml"


def _file(path: str, repo: str, name: str, data: bytes, *, sha=True, exact=True, gated=False, alternates=(),
          commit=None):
    return ModelFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest() if sha else None,
                     licence="Test Licence 1.0", gated=gated, size_exact=exact, commit=commit,
                     sources=tuple([{"repo": repo, "file": name, "revision": commit or "main"}, *alternates]),
                     licence_url=f"https://huggingface.co/{repo}" if gated else None)


@pytest.fixture()
def blobs():
    rnd = os.urandom
    return {"big": rnd(3 * 1024 * 1024 + 123), "small": rnd(70_000), "alt": rnd(50_000), "gated": rnd(40_000),
            "cache": rnd(10_000)}


@pytest.fixture()
def hf(tmp_path, blobs):
    """Serves the blobs; drops `org/big` at 50 %, 404s the primary of `alt`, gates `org/gated`."""
    root = tmp_path / "hf"
    files = {"org/big/big.bin": blobs["big"], "org/small/sub/small.bin": blobs["small"],
             "mirror/alt/alt.bin": blobs["alt"], "org/alt/alt.bin": blobs["alt"],
             "org/gated/gated.bin": blobs["gated"], "org/vocos/config.yaml": blobs["cache"]}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    rules = {"drop": {"org/big/big.bin": 0.5}, "missing": ["org/alt/alt.bin"], "gated": {"org/gated": TOKEN}}
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    port = free_port()
    with Proc(["-m", "tests.jobs.fake_hf", "--root", str(root), "--port", str(port),
               "--rules", str(tmp_path / "rules.json")], tmp_path / "hf.log") as proc:
        wait_http(f"http://127.0.0.1:{port}/_stats", proc=proc.popen)
        yield f"http://127.0.0.1:{port}"


def _jobs(blobs):
    return {
        "one": [_file("checkpoints/big.bin", "org/big", "big.bin", blobs["big"]),
                _file("sonic/sub/small.bin", "org/small", "sub/small.bin", blobs["small"], exact=False, sha=False)],
        "two": [_file("checkpoints/big.bin", "org/big", "big.bin", blobs["big"]),
                _file("loras/alt.bin", "org/alt", "alt.bin", blobs["alt"],
                      alternates=[{"repo": "mirror/alt", "file": "alt.bin", "revision": "main"}]),
                _file(VOCOS, "org/vocos", "config.yaml", blobs["cache"], commit=COMMIT)],
    }


class Reports(list):
    def __call__(self, job, payload, force=False):
        self.append(payload)


async def test_downloads_resumes_uses_alternates_and_is_idempotent(tmp_path, hf, blobs):
    models = tmp_path / "vol" / "models"
    settings = ProvisionSettings(models_dir=models, endpoint=hf, concurrency=3, retry_delay_s=0.05)
    reports = Reports()
    out = await provision({"id": "p1"}, _jobs(blobs), settings, report=reports)

    assert out["status"] == "success"
    assert out["jobs"]["one"]["ready"] and out["jobs"]["two"]["ready"]
    assert (models / "checkpoints/big.bin").read_bytes() == blobs["big"]
    assert (models / "sonic/sub/small.bin").read_bytes() == blobs["small"]
    assert (models / "loras/alt.bin").read_bytes() == blobs["alt"]
    assert not list(models.rglob("*.part"))
    # the hub-cache file sits in the snapshot of its pinned commit, and refs/main names that commit: what
    # huggingface_hub reads to find it
    assert (models / VOCOS).read_bytes() == blobs["cache"]
    assert (models / "hf/hub/models--org--vocos/refs/main").read_text() == COMMIT
    assert sorted(out["jobs"]["two"]["downloaded"]) == sorted(["checkpoints/big.bin", "loras/alt.bin", VOCOS])

    stats = httpx.get(f"{hf}/_stats").json()
    big = stats["org/big/big.bin"]
    assert big["requests"] == 2, "the drop at 50 % is followed by exactly one resumed request"
    assert big["ranges"][1] and big["ranges"][1].startswith("bytes=")
    assert big["bytes"] == len(blobs["big"]), "resuming re-sent no byte"
    assert stats["org/alt/alt.bin"]["requests"] == 1 and stats["mirror/alt/alt.bin"]["requests"] == 1

    assert reports and all(r["stage"] == "downloading" for r in reports)
    last = reports[-1]
    assert last["files"] == last["files_total"] == 4
    assert last["bytes"] == last["bytes_total"] == sum(len(blobs[k]) for k in ("big", "small", "alt", "cache"))

    again = await provision({"id": "p2"}, _jobs(blobs), settings, report=Reports())
    assert again["jobs"]["one"]["downloaded"] == [] and again["jobs"]["two"]["downloaded"] == []
    assert sorted(again["jobs"]["one"]["skipped"]) == ["checkpoints/big.bin", "sonic/sub/small.bin"]
    assert httpx.get(f"{hf}/_stats").json()["org/big/big.bin"]["requests"] == 2, "second run fetched nothing"


async def test_resumes_a_partial_file_left_by_an_earlier_run(tmp_path, hf, blobs):
    models = tmp_path / "models"
    part = models / "checkpoints/big.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(blobs["big"][:1_000_000])
    settings = ProvisionSettings(models_dir=models, endpoint=hf, retry_delay_s=0.05)
    jobs = {"one": [_file("checkpoints/big.bin", "org/big", "big.bin", blobs["big"])]}
    out = await provision({"id": "p"}, jobs, settings, report=Reports())
    assert out["jobs"]["one"]["ready"]
    assert (models / "checkpoints/big.bin").read_bytes() == blobs["big"]
    assert httpx.get(f"{hf}/_stats").json()["org/big/big.bin"]["ranges"][0] == "bytes=1000000-"


async def test_gated_file_names_the_licence_and_page_and_never_the_token(tmp_path, hf, blobs, caplog):
    caplog.set_level(logging.DEBUG)
    jobs = {"lip": [_file("checkpoints/gated.bin", "org/gated", "gated.bin", blobs["gated"], gated=True)]}
    models = tmp_path / "models"
    wrong = ProvisionSettings(models_dir=models, endpoint=hf, token="hf_wrong_token_zzz", retry_delay_s=0.05)
    reports = Reports()
    out = await provision({"id": "g"}, jobs, wrong, report=reports)
    res = out["jobs"]["lip"]
    assert not res["ready"] and res["failed"][0]["path"] == "checkpoints/gated.bin"
    msg = res["failed"][0]["error"]
    assert "HTTP 401" in msg and "Test Licence 1.0" in msg and "https://huggingface.co/org/gated" in msg
    assert "HF_TOKEN" in msg
    everything = json.dumps(out) + json.dumps(reports) + caplog.text
    assert "hf_wrong_token_zzz" not in everything

    right = ProvisionSettings(models_dir=models, endpoint=hf, token=TOKEN, retry_delay_s=0.05)
    out = await provision({"id": "g2"}, jobs, right, report=Reports())
    assert out["jobs"]["lip"]["ready"]
    assert TOKEN not in json.dumps(out) + caplog.text


async def test_checksum_mismatch_fails_and_removes_the_file(tmp_path, hf, blobs):
    bad = ModelFile(path="loras/small.bin", size=len(blobs["small"]), sha256="0" * 64, licence="x", gated=False,
                    sources=({"repo": "org/small", "file": "sub/small.bin", "revision": "main"},))
    out = await provision({"id": "s"}, {"j": [bad]}, ProvisionSettings(models_dir=tmp_path / "m", endpoint=hf),
                          report=Reports())
    assert "sha256 mismatch" in out["jobs"]["j"]["failed"][0]["error"]
    assert not (tmp_path / "m/loras/small.bin").exists() and not (tmp_path / "m/loras/small.bin.part").exists()


async def test_missing_everywhere_is_reported(tmp_path, hf):
    f = ModelFile(path="loras/nothing.bin", size=10, sha256=None, licence="x", gated=False,
                  sources=({"repo": "org/nope", "file": "nothing.bin", "revision": "main"},))
    out = await provision({"id": "m"}, {"j": [f]}, ProvisionSettings(models_dir=tmp_path / "m", endpoint=hf),
                          report=Reports())
    assert "not found at any source" in out["jobs"]["j"]["failed"][0]["error"]


def test_request_input_is_checked():
    assert parse_jobs({"action": "provision", "jobs": ["portrait", "tts", "portrait"]}) == ["portrait", "tts"]
    assert parse_jobs({"jobs": "all"}) == ["portrait", "tts", "lipsync", "animate", "music"]
    assert parse_jobs({"jobs": ["all"]}) == parse_jobs({"jobs": "all"})
    with pytest.raises(WorkerError) as e:
        parse_jobs({"jobs": ["portrait", "video"]})
    assert e.value.field == "jobs" and "video" in e.value.message and "lipsync" in e.value.message
    with pytest.raises(WorkerError) as e:
        parse_jobs({"jobs": ["portrait"], "hf_token": "hf_abc"})
    assert e.value.code == "forbidden" and "hf_abc" not in e.value.message
    with pytest.raises(WorkerError):
        parse_jobs({})


async def test_run_refuses_without_a_volume(tmp_path):
    class S:
        volume = tmp_path / "not-mounted"
    with pytest.raises(WorkerError) as e:
        await run({"id": "x"}, {"jobs": ["portrait"]}, S())
    assert "no network volume" in e.value.message


def test_hub_cache_paths_split_into_what_the_library_reads():
    hub = hub_cache.parse(f"hf/hub/models--a--b-c/snapshots/{COMMIT}/x/y.bin")
    assert (hub.repo_dir, hub.repo, hub.commit, hub.file) == ("hf/hub/models--a--b-c", "a/b-c", COMMIT, "x/y.bin")
    assert hub.refs_main == "hf/hub/models--a--b-c/refs/main" and hub.pinned
    assert not hub_cache.parse("hf/hub/models--a--b/snapshots/main/y.bin").pinned
    assert hub_cache.parse("checkpoints/x.safetensors") is None


async def test_a_stale_refs_main_is_repaired_without_downloading_again(tmp_path, hf, blobs):
    models = tmp_path / "models"
    f = _file(VOCOS, "org/vocos", "config.yaml", blobs["cache"], commit=COMMIT)
    settings = ProvisionSettings(models_dir=models, endpoint=hf, retry_delay_s=0.05)
    await provision({"id": "a"}, {"tts": [f]}, settings, report=Reports())
    refs = models / "hf/hub/models--org--vocos/refs/main"
    refs.write_text("main")                  # what huggingface_hub would then look for is snapshots/main
    assert "refs/main names 'main'" in file_problem(models, f)
    refs.unlink()
    assert "refs/main is missing" in file_problem(models, f)
    out = await provision({"id": "b"}, {"tts": [f]}, settings, report=Reports())
    assert out["jobs"]["tts"]["ready"] and out["jobs"]["tts"]["downloaded"] == []
    assert refs.read_text() == COMMIT and file_problem(models, f) is None
    assert httpx.get(f"{hf}/_stats").json()["org/vocos/config.yaml"]["requests"] == 1


async def test_files_of_the_old_layout_are_moved_into_the_pinned_snapshot(tmp_path, hf, blobs):
    """Volumes provisioned before the commit pin hold F5-TTS under cached_path/ and vocos under snapshots/main."""
    models = tmp_path / "models"
    old = models / "cached_path/models--org--vocos/snapshots/main/config.yaml"
    old.parent.mkdir(parents=True)
    old.write_bytes(blobs["cache"])
    f = _file(VOCOS, "org/vocos", "config.yaml", blobs["cache"], commit=COMMIT)
    out = await provision({"id": "m"}, {"tts": [f]}, ProvisionSettings(models_dir=models, endpoint=hf),
                          report=Reports())
    assert out["jobs"]["tts"]["ready"] and out["jobs"]["tts"]["skipped"] == [VOCOS]
    assert (models / VOCOS).read_bytes() == blobs["cache"] and not old.exists()
    assert (models / "hf/hub/models--org--vocos/refs/main").read_text() == COMMIT
    assert "org/vocos/config.yaml" not in httpx.get(f"{hf}/_stats").json(), "nothing was downloaded"


def test_pin_hub_resolves_main_with_the_hub_api_and_moves_pins(tmp_path):
    """The maintainers' tool: which commit `main` is at now (HF API revision/main → sha), against the manifest."""
    import subprocess
    import sys

    from tests.support.procs import REPO
    from workflows import pin_hub
    from workflows.catalogue import _read_json

    manifest = _read_json("models.json")
    pinned = {h.repo: h.commit for h in (hub_cache.parse(f["path"]) for f in manifest["files"]) if h}
    moved = "1" * 40
    commits = {**pinned, "SWivid/F5-TTS": moved}
    (tmp_path / "rules.json").write_text(json.dumps({"commits": commits}))
    (tmp_path / "root").mkdir()
    port = free_port()
    with Proc(["-m", "tests.jobs.fake_hf", "--root", str(tmp_path / "root"), "--port", str(port),
               "--rules", str(tmp_path / "rules.json")], tmp_path / "hf.log") as proc:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_stats", proc=proc.popen)
        assert pin_hub.resolve(url, "charactr/vocos-mel-24khz") == pinned["charactr/vocos-mel-24khz"]
        out = subprocess.run([sys.executable, "-m", "workflows.pin_hub", "--endpoint", url], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert f"SWivid/F5-TTS: pinned {pinned['SWivid/F5-TTS']} (main is now {moved})" in out.stdout
        assert f"charactr/vocos-mel-24khz: pinned {pinned['charactr/vocos-mel-24khz']} (current)" in out.stdout
        assert ["GET", "/api/models/SWivid/F5-TTS/revision/main"] in httpx.get(f"{url}/_requests").json()

    new, renames = pin_hub.repin(manifest, commits)
    assert len(renames) == 2 and all(f"/snapshots/{moved}/" in p for p in renames.values())
    f5 = next(f for f in new["files"] if f["path"].endswith("model_1250000.safetensors"))
    assert f5["commit"] == moved and f5["sources"][0]["revision"] == moved
    tts = pin_hub._rename_in_job(_read_json("tts.json"), renames)
    assert set(renames.values()) <= set(tts["models"])
