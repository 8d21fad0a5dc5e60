"""Model files read the way the real loaders read them, so a run fails where ComfyUI's would (at the loader node).

- `.safetensors` / `.sft`: the header is parsed as the safetensors library does (8-byte little-endian length, a
  JSON object, data offsets that cover the file), with its error messages (transcript c02d).
- `.ckpt` / `.pt` / `.pth` / `.bin`: must be a zip archive or a pickle, as torch.load needs (message approximate).
- F5-TTS: the vocoder and model files must be in the Hugging Face hub cache on the data folder's volume (HF_HOME =
  models/hf, as worker/volume.py sets it; cached_path's hf:// URLs end there too); otherwise the node
  fails as on a machine that cannot download (transcript g03), though at once instead of after ~23 s.

Placeholders are exempt: a file that is empty or whose first 64 KiB are all zero bytes (the sparse files the
local endpoint and `--models-from-manifest` write hold no data) loads as if it were the real model, so preview
mode runs every job. Any other file is checked.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

MAX_HEADER = 100_000_000        # safetensors' MAX_HEADER_SIZE
_PLACEHOLDER_PROBE = 64 * 1024
_TORCH_SUFFIXES = {".ckpt", ".pt", ".pth", ".bin", ".pkl", ".pt2"}


class LoadError(Exception):
    """What the real loader would raise: its exception type name (as ComfyUI reports it) and traceback frames."""

    def __init__(self, exception_type: str, message: str, frames: list[str]):
        super().__init__(message)
        self.exception_type = exception_type
        self.frames = frames


def is_placeholder(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(_PLACEHOLDER_PROBE)
    return not head.strip(b"\0")


def safetensors_problem(path: Path) -> str | None:
    """The safetensors library's header error for this file, or None when the header is sound."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if size < 8:
            return "header too small"
        (n,) = struct.unpack("<Q", fh.read(8))
        if n > MAX_HEADER:
            return "header too large"
        if n + 8 > size:
            return "invalid header length"
        raw = fh.read(n)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 in header: invalid utf-8 sequence of 1 bytes from index {exc.start}"
    try:
        header = json.loads(text)
    except ValueError as exc:
        return f"invalid JSON in header: {exc.msg.lower()} at line {exc.lineno} column {exc.colno}"
    if not isinstance(header, dict):
        return "invalid JSON in header: invalid type: sequence, expected struct HashMetadata at line 1 column 0"
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            return "invalid JSON in header: missing field `data_offsets`"
        end = max(end, int(offsets[1]))
    if 8 + n + end != size:
        return "incomplete metadata, file not fully covered"
    return None


def torch_problem(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(2)
    if head[:2] == b"PK" or head[:1] == b"\x80":
        return None
    key = head[:1].decode("latin-1") if head else ""
    return f"invalid load key, '{key}'."


_LOADER_FRAMES = {
    "CheckpointLoaderSimple": ['  File "/comfyui/nodes.py", line 578, in load_checkpoint\n',
                               '  File "/comfyui/comfy/sd.py", line 1173, in load_checkpoint_guess_config\n'],
    "ImageOnlyCheckpointLoader": ['  File "/comfyui/comfy_extras/nodes_video_model.py", line 25, in load_checkpoint\n',
                                  '  File "/comfyui/comfy/sd.py", line 1173, in load_checkpoint_guess_config\n'],
}
_TORCH_FILE_FRAMES = {
    "safetensors": ['  File "/comfyui/comfy/utils.py", line 75, in load_torch_file\n',
                    '  File "/comfyui/comfy/utils.py", line 59, in load_torch_file\n'],
    "torch": ['  File "/comfyui/comfy/utils.py", line 82, in load_torch_file\n'],
}


def check_model_file(class_type: str, path: Path) -> None:
    """Raise LoadError when the real loader would fail on this file; placeholders pass."""
    if not path.is_file() or is_placeholder(path):
        return
    suffix = path.suffix.lower()
    frames = _LOADER_FRAMES.get(class_type, [])
    if suffix in (".safetensors", ".sft"):
        problem = safetensors_problem(path)
        if problem:
            raise LoadError("safetensors._safetensors_rust.SafetensorError",
                            f"Error while deserializing header: {problem}",
                            frames + _TORCH_FILE_FRAMES["safetensors"])
    elif suffix in _TORCH_SUFFIXES:
        problem = torch_problem(path)
        if problem:
            raise LoadError("_pickle.UnpicklingError", problem, frames + _TORCH_FILE_FRAMES["torch"])


# ---- F5-TTS -------------------------------------------------------------------------------------------------
HUB_OFFLINE = ("An error happened while trying to locate the file on the Hub and we cannot find the requested "
               "files in the local cache. Please check your connection and try again or make sure your Internet "
               "connection is on.")
_F5_MODELS = {   # the pack's model choice -> (repo, file) of its hf:// URL
    "F5v1": ("SWivid/F5-TTS", "F5TTS_v1_Base/model_1250000.safetensors"),
    "F5": ("SWivid/F5-TTS", "F5TTS_Base/model_1200000.safetensors"),
    "E2": ("SWivid/E2-TTS", "E2TTS_Base/model_1200000.safetensors"),
}
_VOCODERS = {"vocos": ("charactr/vocos-mel-24khz", ("config.yaml", "pytorch_model.bin")),
             "bigvgan": ("nvidia/bigvgan_v2_24khz_100band_256x", ("config.json", "bigvgan_generator.pt"))}
_HUB_FRAMES = [
    '  File "/opt/venv/lib/python3.11/site-packages/huggingface_hub/file_download.py", line 1047, in hf_hub_download\n',
    '  File "/opt/venv/lib/python3.11/site-packages/huggingface_hub/file_download.py", line 1194, in '
    '_hf_hub_download_to_cache_dir\n',
    '  File "/opt/venv/lib/python3.11/site-packages/huggingface_hub/file_download.py", line 1961, in '
    '_raise_on_head_call_error\n']
_F5 = '  File "/comfyui/custom_nodes/ComfyUI-F5-TTS/'


def cached(cache: Path, repo: str, file: str) -> bool:
    """A file in a huggingface_hub cache: snapshots/<refs/main or "main">/file, as the manifest lays it out."""
    base = cache / ("models--" + repo.replace("/", "--"))
    revs = ["main"]
    ref = base / "refs" / "main"
    if ref.is_file():
        revs.insert(0, ref.read_text().strip())
    return any((base / "snapshots" / rev / file).is_file() for rev in revs)


def check_f5tts(models: Path, model: str, vocoder: str) -> None:
    """Raise LoadError as F5-TTS does on a machine that cannot download what its cache lacks.

    Not reproduced: with an empty sample_text the real pack first downloads Whisper to transcribe the reference
    (an OSError offline); the engine speaks without it, so preview voices work without a transcript."""
    hub = models / "hf" / "hub"
    name = "vocos" if vocoder == "auto" else vocoder
    repo, files = _VOCODERS.get(name, _VOCODERS["vocos"])
    if not all(cached(hub, repo, f) for f in files):
        raise LoadError("huggingface_hub.errors.LocalEntryNotFoundError", HUB_OFFLINE, [
            f'{_F5}F5TTS.py", line 590, in create\n', f'{_F5}F5TTS.py", line 372, in create\n',
            f'{_F5}F5TTS.py", line 175, in load_model\n', f'{_F5}F5TTS.py", line 271, in load_f5_model_url\n',
            f'{_F5}F5TTS.py", line 153, in load_vocoder\n',
            f'{_F5}F5-TTS/src/f5_tts/infer/utils_infer.py", line 114, in load_vocoder\n', *_HUB_FRAMES])
    # cached_path hands hf:// URLs to huggingface_hub, which ignores CACHED_PATH_CACHE_ROOT: the checkpoint is read
    # from the hub cache, like the vocoder (what the real runs showed; the manifest puts it there).
    repo, file = _F5_MODELS.get(model, ("", ""))
    if not repo or not cached(hub, repo, file):
        raise LoadError("huggingface_hub.errors.LocalEntryNotFoundError", HUB_OFFLINE, [
            f'{_F5}F5TTS.py", line 590, in create\n', f'{_F5}F5TTS.py", line 372, in create\n',
            f'{_F5}F5TTS.py", line 175, in load_model\n', f'{_F5}F5TTS.py", line 284, in load_f5_model_url\n',
            *_HUB_FRAMES])
    for path in (hub / ("models--" + repo.replace("/", "--"))).glob(f"snapshots/*/{file}"):
        check_model_file("F5TTSAudioInputs", path)
