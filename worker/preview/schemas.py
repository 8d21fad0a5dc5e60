"""Typed node schemas, read once from workflows/comfy_nodes.json (made by `python -m workflows.extract_nodes`)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

NODES_FILE = Path(__file__).resolve().parents[2] / "workflows" / "comfy_nodes.json"


@dataclass(frozen=True)
class InputSpec:
    name: str
    category: str            # "required" | "optional"
    type: Any                # "INT", "IMAGE", "COMBO", ... or a legacy combo list
    options: dict[str, Any]  # default/min/max/step/options/... (no tooltips)
    files: str | None = None  # "models:checkpoints", "input:image", ... when the combo lists files

    @property
    def is_combo(self) -> bool:
        return isinstance(self.type, list) or self.type == "COMBO"


@dataclass(frozen=True)
class NodeSchema:
    name: str
    inputs: dict[str, InputSpec]
    hidden: tuple[str, ...]
    output: tuple[str, ...]
    output_name: tuple[str, ...]
    output_is_list: tuple[bool, ...]
    output_node: bool
    files: dict[str, str] = field(default_factory=dict)


def _parse(name: str, raw: dict) -> NodeSchema:
    files = dict(raw.get("files", {}))
    inputs = {
        n: InputSpec(n, spec[0], spec[1], dict(spec[2]), files.get(n))
        for n, spec in raw["inputs"].items()
    }
    return NodeSchema(name, inputs, tuple(raw["hidden"]), tuple(raw["output"]), tuple(raw["output_name"]),
                      tuple(raw["output_is_list"]), bool(raw["output_node"]), files)


@lru_cache(maxsize=4)
def load(path: Path = NODES_FILE) -> dict[str, NodeSchema]:
    """All node classes the recorded ComfyUI knew, keyed by class name."""
    raw = json.loads(Path(path).read_text())
    return {name: _parse(name, v) for name, v in raw.items()}
