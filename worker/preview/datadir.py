"""The engine's data folder: input/, output/, temp/ and models/<folder>/, and the file lists combos show."""
from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

MODEL_FOLDERS = ["checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models", "clip_vision",
                 "style_models", "embeddings", "diffusers", "vae_approx", "controlnet", "gligen", "upscale_models",
                 "custom_nodes", "hypernetworks", "photomaker", "classifiers", "model_patches", "audio_encoders"]
# Folders the custom packs add; they exist on disk but are not in GET /models (as on the recorded server).
EXTRA_MODEL_FOLDERS = ["animatediff_models", "animatediff_motion_lora", "sonic", "F5-TTS", "ipadapter"]
MODEL_EXTENSIONS = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft", ".onnx"}
DIR_TYPES = ("input", "output", "temp")


def _kind(name: str) -> str:
    mime, _ = mimetypes.guess_type(name)
    return (mime or "").split("/")[0]


@dataclass
class DataDir:
    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        for sub in DIR_TYPES:
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for folder in MODEL_FOLDERS + EXTRA_MODEL_FOLDERS:
            (self.root / "models" / folder).mkdir(parents=True, exist_ok=True)

    def dir(self, kind: str) -> Path:
        return self.root / kind

    # ---- model files -------------------------------------------------------------------------------
    def model_files(self, folder: str) -> list[str]:
        base = self.root / "models" / folder
        if not base.is_dir():
            return []
        names = [p.relative_to(base).as_posix() for p in base.rglob("*")
                 if p.is_file() and (p.suffix in MODEL_EXTENSIONS or folder == "diffusers")]
        return sorted(names)

    def add_placeholders(self, manifest: Path) -> list[str]:
        """Create an empty file for each manifest "path" (relative to models/); returns the paths made."""
        if not manifest.is_file():
            return []
        data = json.loads(manifest.read_text())
        entries = data.get("files", data) if isinstance(data, dict) else data
        if isinstance(entries, dict):
            entries = [{"path": k, **(v if isinstance(v, dict) else {})} for k, v in entries.items()]
        made = []
        for entry in entries:
            rel = entry.get("path") if isinstance(entry, dict) else None
            if not rel or ".." in Path(rel).parts or Path(rel).is_absolute():
                continue
            target = self.root / "models" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.touch()
            made.append(rel)
            # A hub-cache file (…/models--org--name/snapshots/<commit>/file) is found through refs/main, as
            # huggingface_hub finds it offline.
            parts = Path(rel).parts
            if "snapshots" in parts and parts.index("snapshots") + 1 < len(parts):
                i = parts.index("snapshots")
                refs = self.root / "models" / Path(*parts[:i]) / "refs" / "main"
                refs.parent.mkdir(parents=True, exist_ok=True)
                refs.write_text(parts[i + 1])
        return made

    # ---- input files -------------------------------------------------------------------------------
    def input_top_level(self, kinds: tuple[str, ...]) -> list[str]:
        base = self.dir("input")
        return sorted(p.name for p in base.iterdir() if p.is_file() and _kind(p.name) in kinds)

    def f5tts_samples(self) -> list[str]:
        """Audio files that have a same-named .txt transcript beside them (what F5TTSAudio lists)."""
        out = []
        for sub in ("", "audio", "F5-TTS"):
            base = self.dir("input") / sub
            if not base.is_dir():
                continue
            for p in sorted(base.iterdir()):
                if p.is_file() and _kind(p.name) == "audio" and p.with_suffix(".txt").is_file():
                    out.append(f"{sub}/{p.name}" if sub else p.name)
        return out

    def list(self, folder: str) -> list[str]:
        """Options of a file-list combo, read from disk on every call (as ComfyUI does)."""
        where, _, name = folder.partition(":")
        if where == "models":
            files = self.model_files(name)
            if name == "sonic":
                return ["none", *files]
            if name == "vae":
                return [*files, "pixel_space"]
            return files
        if name == "image":
            return self.input_top_level(("image",))
        if name in ("audio", "video"):
            return self.input_top_level(("audio", "video"))
        if name == "f5tts":
            return self.f5tts_samples()
        return sorted(p.name for p in self.dir("input").iterdir() if p.is_file())

    def resolve_annotated(self, name: str, default: str = "input") -> Path | None:
        """'x.png', 'sub/x.png' or 'x.png [temp]' -> the file's path, or None when it is outside its folder."""
        kind = default
        m = re.fullmatch(r"(.*) \[(input|output|temp)\]", name)
        if m:
            name, kind = m.group(1), m.group(2)
        base = self.dir(kind).resolve()
        path = (base / name).resolve()
        if base not in path.parents:
            return None
        return path

    def exists(self, annotated_name: str) -> bool:
        path = self.resolve_annotated(annotated_name)
        return path is not None and path.is_file()

    # ---- output naming -----------------------------------------------------------------------------
    def save_path(self, prefix: str, kind: str = "output") -> tuple[Path, str, str, int]:
        """ComfyUI's get_save_image_path: (folder, filename, subfolder, next counter) for a prefix like 'video/x'."""
        sub, _, fname = prefix.replace("\\", "/").rpartition("/")
        base = self.dir(kind).resolve()
        folder = (base / sub).resolve()
        if folder != base and base not in folder.parents:
            raise ValueError(f"Saving image outside the output folder is not allowed.\n"
                             f" full_output_folder: {folder}\n         output_dir: {base}")
        folder.mkdir(parents=True, exist_ok=True)
        pat = re.compile(re.escape(fname) + r"_(\d+)")
        counters = [int(m.group(1)) for p in folder.iterdir() if (m := pat.match(p.name))]
        return folder, fname, sub, max(counters, default=0) + 1
