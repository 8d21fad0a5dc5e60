"""`python -m worker.preview --port P [--host 127.0.0.1] --data DIR [--models-from-manifest] [--step-delay S] [--fault F]`."""
from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
from pathlib import Path

from .faults import VERSION, parse_fault

MANIFEST = Path(__file__).resolve().parents[2] / "workflows" / "models.json"


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m worker.preview", description="ComfyUI-compatible preview engine")
    ap.add_argument("--port", type=int, default=8188)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--data", type=Path, required=True, help="folder for input/, output/, temp/ and models/")
    ap.add_argument("--models-from-manifest", action="store_true",
                    help="create empty placeholder files for every path in workflows/models.json")
    ap.add_argument("--manifest", type=Path, default=MANIFEST, help=argparse.SUPPRESS)
    ap.add_argument("--step-delay", type=float, default=0.02, help="seconds per sampler step (default 0.02)")
    ap.add_argument("--fault", default=None,
                    help="never-start | crash-mid-job | hang | reject | fail-node:<ClassType>")
    args = ap.parse_args(argv)
    try:
        args.fault = parse_fault(args.fault)
    except ValueError as exc:
        ap.error(str(exc))
    if args.step_delay < 0:
        ap.error("--step-delay: must be 0 or more seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    log = logging.getLogger("preview")
    t0 = time.monotonic()
    log.info("Checkpoint files will always be loaded safely.")
    log.info("Total VRAM 0 MB, total RAM %d MB", 0)
    log.info("Device: cpu (studio preview engine: no models are loaded, media are marked PREVIEW)")
    log.info("Python version: %s", sys.version)
    log.info("ComfyUI version: %s (preview engine on %s)", VERSION, platform.platform())
    if args.fault == "never-start":
        log.info("preview engine fault never-start: staying up without binding the port")
        while True:  # the process stays alive, like a ComfyUI stuck importing custom nodes
            time.sleep(3600)
    # Imported only now: the first log lines (and a never-start fault) come at once, as ComfyUI's do.
    from aiohttp import web

    from . import schemas as schemas_mod
    from .datadir import DataDir
    from .engine import Engine, Faults
    from .server import make_app
    data = DataDir(args.data)
    if args.models_from_manifest:
        made = data.add_placeholders(args.manifest)
        log.info("placeholder models from %s: %d files", args.manifest.name, len(made))
    schemas = schemas_mod.load()
    log.info("Import times for custom nodes:\n   0.0 seconds: preview engine evaluators (%d classes known)",
             len(schemas))
    engine = Engine(data, schemas, step_delay=args.step_delay, faults=Faults(args.fault))
    app = make_app(data, schemas, engine, args.host, args.port)
    log.info("Starting server\n")
    log.info("To see the GUI go to: http://%s:%d", args.host, args.port)
    log.debug("startup took %.2f s", time.monotonic() - t0)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
