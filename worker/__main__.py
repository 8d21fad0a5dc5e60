"""`python -m worker`: the RunPod Serverless entry.  `python -m worker serve ...`: the local endpoint.

On RunPod, the volume is prepared and ComfyUI launched *before* `runpod.serverless.start`, so ComfyUI's import
time overlaps the SDK's start-up and the first job does not pay for it.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys


def prepare_volume() -> None:
    """Link the volume's model folders for ComfyUI and export the cache locations it inherits."""
    log = logging.getLogger("worker")
    try:
        from worker import volume

        env = volume.prepare(volume.VolumeLayout.from_env())
        os.environ.update(env)
    except Exception:  # a broken volume must not stop the worker: jobs then fail with model_missing, debug explains
        log.exception("preparing the volume failed")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from worker.local_endpoint.cli import main as serve_main
        return serve_main(argv[1:]) or 0
    if importlib.util.find_spec("runpod") is None:
        # Checked before ComfyUI is launched, so a wrong environment fails at once and leaves nothing running.
        print("python -m worker is the RunPod entry and needs the runpod SDK, which the worker image installs from "
              "worker/requirements.txt (on a dev machine: .venv-worker/bin/python -m worker). To run the worker "
              "here behind RunPod's queue API use: python -m worker serve [--preview | --comfyui-url URL]",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from worker import runtime
    from worker.config import WorkerSettings

    try:
        settings = WorkerSettings.from_env()
    except ValueError as exc:       # e.g. a bucket without its keys: refuse to start rather than fail every job
        print(f"worker: {exc}", file=sys.stderr, flush=True)
        return 2
    logging.getLogger("worker").info("worker settings: %r", settings)
    if settings.supervised:
        prepare_volume()
    runtime.configure(settings, start_comfyui=True)

    import runpod  # only in the worker image (.venv-worker); see requirements.txt

    from worker.handler import handler
    runpod.serverless.start({"handler": handler})
    return 0


if __name__ == "__main__":
    sys.exit(main())
