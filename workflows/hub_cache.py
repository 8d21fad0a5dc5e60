"""Hugging Face hub-cache paths in the model manifest (pure).

huggingface_hub (and cached_path's `hf://` URLs, which go through it) looks a file up as
`<HF_HUB_CACHE>/models--ORG--NAME/snapshots/<commit>/<file>`, where `<commit>` is read from
`models--ORG--NAME/refs/<revision>` (revision `main` unless the caller names one). So a provisioned hub file is
only found when both exist: the snapshot folder named by a commit hash, and `refs/main` holding that hash. With
"main" as the folder name the cache is used only while the hub is unreachable; once the hub answers, the library
downloads the file again into a snapshot named by the real commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class HubPath:
    """A manifest path that lies in a hub cache, split into what the library reads."""
    repo_dir: str        # "hf/hub/models--SWivid--F5-TTS" (relative to the volume's models/ folder)
    repo: str            # "SWivid/F5-TTS"
    commit: str          # the snapshot folder's name
    file: str            # "F5TTS_v1_Base/model_1250000.safetensors" (inside the snapshot)

    @property
    def refs_main(self) -> str:
        return f"{self.repo_dir}/refs/main"

    @property
    def pinned(self) -> bool:
        return bool(COMMIT.match(self.commit))


def parse(path: str) -> HubPath | None:
    """The hub-cache parts of a manifest path, or None for a plain model folder path."""
    parts = path.split("/")
    for i, part in enumerate(parts[:-3]):
        if part.startswith("models--") and parts[i + 1] == "snapshots":
            repo = part.removeprefix("models--").replace("--", "/")
            return HubPath("/".join(parts[: i + 1]), repo, parts[i + 2], "/".join(parts[i + 3:]))
    return None
