"""The recorded GET /object_info of ComfyUI 0.3.64 with its four packs, kept whole (tooltips, descriptions, display
names, categories) so the engine answers as the real server does; only file-list combos are emptied (the engine
fills them from its data folder on every request).

    python -m worker.preview.info_snapshot tests/data/comfyui     # rewrites worker/preview/object_info.json.gz
"""
from __future__ import annotations

import argparse
import gzip
import json
from functools import lru_cache
from pathlib import Path

from workflows.extract_nodes import file_folder, read_recordings

SNAPSHOT = Path(__file__).with_name("object_info.json.gz")


def build(comfy_dir: Path) -> dict:
    merged = read_recordings(comfy_dir)
    for cls, info in merged.items():
        for cat in ("required", "optional"):
            for name, spec in (info.get("input", {}).get(cat) or {}).items():
                if not isinstance(spec, list) or file_folder(cls, name, spec) is None:
                    continue
                if isinstance(spec[0], list):
                    spec[0] = []
                elif len(spec) > 1 and isinstance(spec[1], dict):
                    spec[1]["options"] = []
    return dict(sorted(merged.items()))


@lru_cache(maxsize=1)
def load() -> dict:
    """The snapshot, or {} when the file is absent (the engine then rebuilds entries from comfy_nodes.json)."""
    if not SNAPSHOT.is_file():
        return {}
    return json.loads(gzip.decompress(SNAPSHOT.read_bytes()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("comfy_dir", type=Path, help="the recordings folder (tests/data/comfyui)")
    args = ap.parse_args()
    data = json.dumps(build(args.comfy_dir), ensure_ascii=False, separators=(",", ":")).encode()
    SNAPSHOT.write_bytes(gzip.compress(data, 9, mtime=0))
    print(f"wrote {SNAPSHOT} ({SNAPSHOT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
