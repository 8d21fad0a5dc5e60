"""The network volume as ComfyUI and the node packs see it, prepared once at start before ComfyUI runs.

- every folder under $RUNPOD_VOLUME/models becomes a ComfyUI model folder (extra_model_paths.yaml), plus the
  folder ids the packs read that the stock worker does not map (animatediff_models, animatediff_motion_lora, sonic);
- SONIC reads most of its files from ComfyUI's own models/sonic whatever the yaml says, so that folder becomes a
  symlink to the volume's;
- the caches the packs read (HF_HOME/HF_HUB_CACHE for F5-TTS, its vocoder and Whisper; cached_path, torch) point
  onto the volume, and ComfyUI runs with the hub offline (HF_HUB_OFFLINE=1): every file a job loads is provisioned
  before the job runs, so nothing is downloaded at run time (a file that would be is reported as model_missing).

`python -m worker.volume [--shell]` does all of that and prints the environment (as `export` lines with --shell,
for start.sh to eval). Paths come from RUNPOD_VOLUME and COMFYUI_DIR so tests can use temporary folders.
"""
from __future__ import annotations

import argparse
import os
import posixpath
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows.catalogue import ModelFile, get_spec, load_catalogue, load_manifest

DEFAULT_VOLUME = "/runpod-volume"
DEFAULT_COMFYUI = "/comfyui"
# The folders ComfyUI reads through extra_model_paths.yaml even before anything is provisioned into them.
STANDARD_FOLDERS = ("checkpoints", "clip", "clip_vision", "configs", "controlnet", "embeddings", "loras",
                    "upscale_models", "vae", "unet", "diffusion_models", "audio_encoders", "text_encoders",
                    "animatediff_models", "animatediff_motion_lora", "sonic", "ipadapter")
# Cache folders on the volume; they hold no ComfyUI models, so they stay out of the yaml.
CACHE_FOLDERS = ("hf", "cached_path", "torch")


@dataclass(frozen=True)
class VolumeLayout:
    volume: Path
    comfyui: Path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "VolumeLayout":
        env = os.environ if env is None else env
        return cls(Path(env.get("RUNPOD_VOLUME", DEFAULT_VOLUME)), Path(env.get("COMFYUI_DIR", DEFAULT_COMFYUI)))

    @property
    def models(self) -> Path:
        return self.volume / "models"

    @property
    def mounted(self) -> bool:
        return self.volume.is_dir()


def model_folders(models_dir: Path) -> list[str]:
    """The standard folders plus every folder already on the volume, minus the caches (sorted, unique)."""
    found = {p.name for p in models_dir.iterdir() if p.is_dir()} if models_dir.is_dir() else set()
    return sorted((set(STANDARD_FOLDERS) | found) - set(CACHE_FOLDERS) - {n for n in found if n.startswith(".")})


def extra_model_paths_yaml(models_dir: Path, folders: list[str]) -> str:
    """ComfyUI's extra_model_paths.yaml for these folders (pure; YAML written by hand: the format is tiny)."""
    lines = ["# Written at worker start by worker/volume.py: every model folder on the network volume.",
             "runpod_volume:",
             f"  base_path: {models_dir.as_posix()}",
             "  is_default: true"]
    lines += [f"  {name}: {name}/" for name in folders]
    return "\n".join(lines) + "\n"


def cache_env(layout: VolumeLayout) -> dict[str, str]:
    """Environment for the packs' run-time caches, all on the volume."""
    hf = layout.models / "hf"
    return {
        "HF_HOME": str(hf),
        "HF_HUB_CACHE": str(hf / "hub"),
        "CACHED_PATH_CACHE_ROOT": str(layout.models / "cached_path"),
        "TORCH_HOME": str(layout.models / "torch"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        # Provisioned hub files are read from the volume only. Online, huggingface_hub asks the hub about every
        # file on each load (and downloads again whenever `main` moved past the provisioned commit).
        "HF_HUB_OFFLINE": "1",
    }


def link_sonic(layout: VolumeLayout) -> Path:
    """Make <comfyui>/models/sonic a symlink to <volume>/models/sonic; a real folder there is kept aside, not lost."""
    target = layout.models / "sonic"
    target.mkdir(parents=True, exist_ok=True)
    link = layout.comfyui / "models" / "sonic"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        if Path(os.readlink(link)) == target:
            return link
        link.unlink()
    elif link.exists():
        if link.is_dir() and not any(link.iterdir()):
            link.rmdir()
        else:
            aside = link.with_name("sonic.image")
            if aside.exists():
                shutil.rmtree(aside)
            link.rename(aside)
    link.symlink_to(target, target_is_directory=True)
    return link


def prepare(layout: VolumeLayout, *, create_folders: bool = True) -> dict[str, str]:
    """Create the folders, write the yaml, link SONIC; return the cache environment to export.

    `create_folders=False` (a local run outside the image) leaves the volume as it is: an existing models folder
    switches on the worker's pre-run model check, so empty folders made here would refuse jobs whose models
    ComfyUI finds elsewhere. The yaml then lists what is there, and SONIC is linked only to a folder that exists."""
    if create_folders:
        layout.models.mkdir(parents=True, exist_ok=True)
        for name in (*STANDARD_FOLDERS, *CACHE_FOLDERS):
            (layout.models / name).mkdir(exist_ok=True)
    layout.comfyui.mkdir(parents=True, exist_ok=True)
    yaml = extra_model_paths_yaml(layout.models, model_folders(layout.models))
    (layout.comfyui / "extra_model_paths.yaml").write_text(yaml, encoding="utf-8")
    if create_folders or (layout.models / "sonic").is_dir():
        link_sonic(layout)
    return cache_env(layout)


# ---- readiness: are the manifest's files where their loaders read them ----------------------------------

def file_problem(models_dir: Path, f: ModelFile) -> str | None:
    """Why a loader would not find this file on the volume, or None when it would.

    Provision writes to a .part file and renames, so a file of the right size is a complete one. A hub-cache file
    is found only through its repo's refs/main, which must hold the snapshot's commit (huggingface_hub reads
    refs/main, then snapshots/<that commit>/FILE)."""
    p = models_dir / f.path
    if not p.is_file():
        return "not on the volume"
    size = p.stat().st_size
    if size == 0 or (f.size_exact and size != f.size):
        return f"incomplete ({size} of {f.size} bytes)"
    hub = f.hub
    if hub is not None:
        refs = models_dir / hub.refs_main
        try:
            ref = refs.read_text(encoding="utf-8").strip()
        except OSError:
            return f"{hub.refs_main} is missing, so huggingface_hub cannot find the snapshot"
        if ref != hub.commit:
            return (f"{hub.refs_main} names {ref[:40]!r}, not the snapshot's commit {hub.commit[:12]}…, so "
                    "huggingface_hub looks for another snapshot")
    return None


def is_present(models_dir: Path, f: ModelFile) -> bool:
    return file_problem(models_dir, f) is None


def missing_models(action: str, models_dir: Path, values: dict[str, Any] | None = None) -> list[ModelFile]:
    manifest = load_manifest()
    spec = get_spec(action)
    paths = spec.all_models() if values is None else spec.required_models(values)
    if values is not None:
        paths = tuple(p for p in paths if not _replaced_by_choice(spec, p, values))
    return [manifest[p] for p in paths if not is_present(models_dir, manifest[p])]


def _replaced_by_choice(spec, path: str, values: dict[str, Any]) -> bool:
    """A job whose `model` field names another file does not need the default one (portrait's checkpoint).

    The file it names instead need not be in the manifest; when it is absent ComfyUI rejects the prompt with
    value_not_in_list, which the worker also reports as model_missing."""
    try:
        default = spec.param("model").default
    except KeyError:
        return False
    chosen = values.get("model")
    return bool(default) and chosen not in (None, default) and posixpath.basename(path) == default


def missing_entry(models_dir: Path, f: ModelFile) -> dict[str, Any]:
    """One missing file as readiness reports it (debug, the Endpoint tab, deploy doctor)."""
    out: dict[str, Any] = {"path": f.path, "size": f.size, "problem": file_problem(models_dir, f)}
    if f.hub is not None:
        out.update(repo=f.hub.repo, commit=f.hub.commit)
    return out


def write_hub_ref(models_dir: Path, f: ModelFile) -> None:
    """Point the repo's refs/main at the file's snapshot (a no-op for files outside a hub cache)."""
    if f.hub is not None:
        refs = models_dir / f.hub.refs_main
        refs.parent.mkdir(parents=True, exist_ok=True)
        if not refs.is_file() or refs.read_text(encoding="utf-8").strip() != f.hub.commit:
            refs.write_text(f.hub.commit, encoding="utf-8")


def place_placeholder(models_dir: Path, f: ModelFile) -> None:
    """A sparse file of the manifest's size where the loader reads it (takes no disk space); for the preview
    engine's volume and tests, so readiness and the pre-queue check see the file as provisioned."""
    target = models_dir / f.path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:
        fh.truncate(f.size)
    write_hub_ref(models_dir, f)


def job_readiness(models_dir: Path) -> dict[str, dict[str, Any]]:
    """The debug action's "jobs" block: per job ready, or the missing files with their sizes."""
    out = {}
    for action in load_catalogue():
        missing = missing_models(action, models_dir)
        out[action] = {"ready": not missing, "missing": [missing_entry(models_dir, f) for f in missing]}
    return out


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def provision_command(action: str) -> str:
    return f"python -m deploy provision --jobs {action}"


def not_provisioned_message(action: str, missing: list[ModelFile], models_dir: Path | None = None) -> str:
    """The sentence for a job whose files are not on the volume (error code model_missing)."""
    def one(f: ModelFile) -> str:
        problem = file_problem(models_dir, f) if models_dir is not None else None
        why = f": {problem}" if problem and problem != "not on the volume" else ""
        return f"{f.path} ({human_size(f.size)}" + (f", from {f.hub.repo}" if f.hub else "") + ")" + why
    names = ", ".join(one(f) for f in missing)
    return f"{action}: not provisioned: {names} — run `{provision_command(action)}`"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m worker.volume", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shell", action="store_true", help="print export lines for eval in a shell")
    args = ap.parse_args(argv)
    layout = VolumeLayout.from_env()
    env = prepare(layout)
    for k, v in env.items():
        print(f"export {k}={shlex.quote(v)}" if args.shell else f"{k}={v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
