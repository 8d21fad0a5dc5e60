"""What the volume holds is what F5-TTS loads (issue 16.1/16.2), on the real ComfyUI 0.3.64 with its packs.

Random-weight F5-TTS v1 Base + vocos-mel-24khz (../shared/comfyui/synthetic/gen_f5tts.py) are served by a local
stand-in of the Hugging Face hub (tests/jobs/fake_hf.py). Our `provision` action, over the local endpoint's HTTP,
places them on a volume; the real ComfyUI then runs with the environment worker/volume.py gives it (as the image's
`python -m worker` does) and the worker runs the tts job end to end (with a reference transcript): once with the
hub stand-in reachable (HF_ENDPOINT pointing at it) and once with the hub unreachable. No request of either run
reaches the stand-in: the loaders read the provisioned snapshot, through refs/main, offline.
"""
from __future__ import annotations

import base64
import fcntl
import io
import json
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.support import jobs
from tests.support import real_comfyui as rcu
from tests.support.procs import Proc, free_port, wait_http
from workflows.catalogue import get_spec, load_manifest
from worker import volume as volume_mod

pytestmark = [pytest.mark.real_comfyui, pytest.mark.timeout(5400)]

READY = "local endpoint ready:"
# Where gen_f5tts.py writes each file (its docstring) → the hub repository and file it stands for.
GENERATED = {
    "cached_path/models--SWivid--F5-TTS/snapshots/main/F5TTS_v1_Base/model_1250000.safetensors":
        ("SWivid/F5-TTS", "F5TTS_v1_Base/model_1250000.safetensors"),
    "cached_path/models--SWivid--F5-TTS/snapshots/main/F5TTS_v1_Base/vocab.txt":
        ("SWivid/F5-TTS", "F5TTS_v1_Base/vocab.txt"),
    "hf/hub/models--charactr--vocos-mel-24khz/snapshots/main/config.yaml": ("charactr/vocos-mel-24khz", "config.yaml"),
    "hf/hub/models--charactr--vocos-mel-24khz/snapshots/main/pytorch_model.bin":
        ("charactr/vocos-mel-24khz", "pytorch_model.bin"),
}


@pytest.fixture(scope="module")
def real() -> rcu.RealComfy:
    reason = rcu.missing_reason()
    if reason:
        pytest.skip(reason)
    return rcu.ensure_installed()


@pytest.fixture(scope="module")
def synthetic_f5(real) -> Path:
    """The generator's output (1.4 GB, a few minutes on 2 cores), made once per install outside the repository."""
    out = rcu.cache_root() / f"synthetic-f5tts-{real.key}"
    done = out / "done.json"
    if done.is_file():
        return out
    script = rcu.synthetic_dir() / "gen_f5tts.py"
    if not script.is_file():
        pytest.skip(f"real ComfyUI tier: {script} is absent")
    with open(rcu.cache_root() / f"synthetic-f5tts-{real.key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.is_file():
            log = rcu.cache_root() / f"synthetic-f5tts-{real.key}.log"
            with open(log, "ab") as fh:
                code = subprocess.call([str(real.python), str(script), str(out / "models")], cwd=str(real.root),
                                       env=real.env(), stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            assert code == 0, f"gen_f5tts.py failed (exit {code}); see {log}"
            done.write_text(json.dumps({"made_at": time.time()}))
    return out


@pytest.fixture
def hub(tmp_path, synthetic_f5):
    """The stand-in hub serving the generated files as their repositories (links, no copy of 1.4 GB)."""
    root = tmp_path / "hub"
    for rel, (repo, name) in GENERATED.items():
        link = root / repo / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(synthetic_f5 / "models" / rel)
    port = free_port()
    with Proc(["-m", "tests.jobs.fake_hf", "--root", str(root), "--port", str(port)], tmp_path / "hub.log") as proc:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_stats", proc=proc.popen)
        yield url


def _run(base: str, inp: dict, timeout: float) -> dict:
    policy = {"executionTimeout": int(timeout * 1000)}       # the local endpoint's default (600 s) is too short here
    return jobs.run(base, inp, timeout, poll=0.5, policy=policy)


def _reference_wav(seconds: float = 2.5, rate: int = 24000) -> str:
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.3 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    voice[-rate // 2:] = 0.0                    # ends in a short silence, as the field's help asks
    buf = io.BytesIO()
    sf.write(buf, voice.astype("float32"), rate, format="WAV")
    return base64.b64encode(buf.getvalue()).decode()


def _hub_requests(hub: str) -> list:
    return httpx.get(f"{hub}/_requests", timeout=10).json()


def test_provisioned_f5tts_runs_from_the_volume_with_the_hub_reachable_and_not(tmp_path, real, hub):
    manifest = load_manifest()
    volume = tmp_path / "volume"
    base = rcu.make_base(real, tmp_path / "comfyui")
    cache_env = volume_mod.prepare(volume_mod.VolumeLayout(volume, base))     # what `python -m worker` exports
    assert cache_env["HF_HUB_OFFLINE"] == "1"
    comfy_port = free_port()
    worker_env = {"RUNPOD_VOLUME": str(volume), "COMFYUI_DIR": str(base), "HF_ENDPOINT": hub,
                  "PROVISION_RETRY_DELAY": "0.1", "WORKER_JOB_TIMEOUT": "2400"}
    serve = Proc(["-m", "worker", "serve", "--port", "0", "--comfyui-url", f"http://127.0.0.1:{comfy_port}"],
                 tmp_path / "serve.log", env=worker_env)
    try:
        endpoint = serve.wait_for_line(READY, timeout=60).split(READY, 1)[1].strip()

        # 1. Our provisioning places the files, from the hub stand-in, where huggingface_hub reads them.
        job = _run(endpoint, {"action": "provision", "jobs": ["tts"]}, timeout=600)
        assert job["status"] == "COMPLETED", job
        tts = job["output"]["jobs"]["tts"]
        needed = get_spec("tts").required_models({"reference_text": "One two three."})
        assert sorted(tts["downloaded"]) == sorted(needed), tts
        # Whisper is not on the stand-in: provisioning says so, and a job with a transcript does not need it.
        assert {f["path"] for f in tts["failed"]} == set(get_spec("tts").all_models()) - set(needed)
        for path in needed:
            f = manifest[path]
            assert (volume / "models" / path).stat().st_size > 0
            assert (volume / "models" / f.hub.refs_main).read_text() == f.commit
        assert not list((volume / "models").rglob("snapshots/main")), "no snapshot named after a branch"
        stats = httpx.get(f"{hub}/_stats").json()
        assert stats["SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"]["requests"] == 1
        before = len(_hub_requests(hub))

        # Short reference and text: F5-TTS's work grows with their length (random weights, CPU, a shared machine).
        inp = {"action": "tts", "text": "Hi.", "reference_audio": _reference_wav(), "reference_text": "One two three."}
        # 2. The hub stand-in reachable (HF_ENDPOINT names it), then 3. no hub at all (a closed port).
        for case, endpoint_url in (("reachable", hub), ("unreachable", f"http://127.0.0.1:{free_port()}")):
            env = {**cache_env, "HF_ENDPOINT": endpoint_url}
            with rcu.ComfyServer.start(real, base, log_path=tmp_path / f"comfy-{case}.log", port=comfy_port,
                                       extra_model_paths=base / "extra_model_paths.yaml", env=env,
                                       timeout=600) as comfy:   # a busy 2-core machine starts it slowly
                started = time.monotonic()
                done = _run(endpoint, inp, timeout=2400)
                assert done["status"] == "COMPLETED", f"{case}: {done}\n{comfy.log_tail()}"
                out = done["output"]
                assert out["status"] == "success" and out["preview"] is False
                [f] = out["files"]
                audio, rate = sf.read(io.BytesIO(base64.b64decode(f["data"])))
                assert f["mime"] == "audio/wav" and rate == 24000 and len(audio) > rate // 5, f
                print(f"tts with the hub {case}: {time.monotonic() - started:.0f} s")
            assert _hub_requests(hub)[before:] == [], f"{case}: a loader asked the hub"
    finally:
        serve.stop()
