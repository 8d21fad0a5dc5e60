"""The recordings the tests read, kept in the repository (tests/data/, see its READMEs), so that a clone with
nothing beside it runs its tests. Only what is too large to carry stays in ../shared (tests/support/real_comfyui.py).
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
COMFYUI = DATA / "comfyui"                  # what extract_nodes / info_snapshot take as their recordings folder
TRANSCRIPTS = COMFYUI / "transcripts"
RUNPOD_OPENAPI = DATA / "runpod" / "runpod-rest-v2-openapi.json.gz"


def transcript(name: str) -> dict[str, Any]:
    """One recorded exchange, by its file name with or without `.json`."""
    return json.loads((TRANSCRIPTS / f"{name.removesuffix('.json')}.json").read_text())


def read_json_gz(path: Path) -> Any:
    return json.loads(gzip.decompress(path.read_bytes()))


def object_info(kind: str = "object_info") -> dict[str, Any]:
    """The recorded /object_info: "object_info" (core ComfyUI) or "custom_object_info" (the four packs)."""
    return read_json_gz(COMFYUI / f"{kind}.json.gz")
