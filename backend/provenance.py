"""What made each output: a sidecar `<file>.json` beside it, and the essentials embedded in the file itself.

A file that leaves the studio (downloaded, posted, sent to an editor) still says which job, inputs, seed, models
and workflow made it: PNG files carry it in text chunks, MP4/M4A files in their metadata. The sidecar holds the
whole story, including the comments and verdicts reviewers left.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from backend.journal import write_json_atomic
from backend.records import JobRecord
from workflows.catalogue import load_catalogue, load_manifest

log = logging.getLogger("backend.library")
STUDIO = "Graphic Novel Studio"
_TEMPLATES = Path(__file__).resolve().parent.parent / "workflows"


def _sha256(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def workflow_facts(action: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The workflow template (name and sha256 of its file) and model files (with sha256 where known)."""
    spec = load_catalogue().get(action)
    if spec is None:
        return {"template": None, "models": []}
    name = spec.templates[spec.template_key(inputs)]
    manifest = load_manifest()
    models = [{"path": m, "sha256": getattr(manifest.get(m), "sha256", None)}
              for m in spec.required_models(inputs)]
    return {"template": {"name": name, "sha256": _sha256(_TEMPLATES / name)}, "models": models}


def essentials(rec: JobRecord) -> dict[str, Any]:
    """The small part that is embedded in the media file itself."""
    text_inputs = {k: v for k, v in rec.inputs.items() if not _is_library_path(v)}
    facts = workflow_facts(rec.action, rec.inputs)
    return {"made_with": STUDIO, "job_id": rec.id, "remote_id": rec.remote_id, "action": rec.action,
            "inputs": text_inputs, "seed": rec.seed, "preview": rec.preview,
            "template": (facts["template"] or {}).get("name"), "models": [m["path"] for m in facts["models"]]}


def sidecar(rec: JobRecord, output: dict[str, Any], *, mode: str, comments: list[dict[str, Any]]) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for k, v in rec.inputs.items():
        if _is_library_path(v):
            inputs[k] = {"path": _library_relative(v), "sha256": _sha256(Path(v))}
        else:
            inputs[k] = v
    return {
        "made_with": STUDIO, "job_id": rec.id, "remote_id": rec.remote_id, "action": rec.action,
        "status": rec.status, "inputs": inputs, "seed": rec.seed, **workflow_facts(rec.action, rec.inputs),
        "licence": rec.licence, "preview": rec.preview, "endpoint_mode": mode, "endpoint": rec.endpoint,
        "file": {"name": Path(output["path"]).name, "type": output.get("type"), "mime": output.get("mime"),
                 "size": output.get("size"), "sha256": output.get("sha256")},
        "timings": {"created_at": rec.created_at, "started_at": rec.started_at, "finished_at": rec.finished_at,
                    "queue_ms": rec.delay_ms, "run_ms": rec.execution_ms},
        "cost_usd": None if mode == "preview" else rec.cost_usd,
        "comments": comments,
    }


def write_sidecars(rec: JobRecord, *, mode: str, comments: list[dict[str, Any]]) -> None:
    for out in rec.outputs:
        path = Path(out["path"])
        if path.exists():
            write_json_atomic(path.with_name(path.name + ".json"), sidecar(rec, out, mode=mode, comments=comments))


def stamp_outputs(rec: JobRecord) -> None:
    """Embed the essentials into each output where the format allows; sizes and hashes follow the new bytes."""
    meta = json.dumps(essentials(rec), ensure_ascii=False, sort_keys=True)
    for out in rec.outputs:
        path = Path(out["path"])
        try:
            if out.get("mime") == "image/png":
                _stamp_png(path, meta)
            elif out.get("mime") in ("video/mp4", "audio/mp4", "audio/x-m4a"):
                _stamp_mp4(path, meta)
            else:
                continue
        except Exception as exc:            # the output itself matters more than its label
            log.warning("Could not embed provenance in %s: %s", path.name, exc)
            continue
        # The library names a file by its content hash: the stamped bytes get the name of their own hash.
        digest = _sha256(path) or ""
        named = path.with_name(f"{digest[:16]}{path.name[path.name.find('-'):]}") if "-" in path.name else path
        if named != path:
            os.replace(path, named)
        out.update(path=str(named), size=named.stat().st_size, sha256=digest)


def _stamp_png(path: Path, meta: str) -> None:
    from PIL import Image, PngImagePlugin

    with Image.open(path) as im:
        im.load()
        info = PngImagePlugin.PngInfo()
        for k, v in (im.text if hasattr(im, "text") else {}).items():
            if k not in ("provenance", "Software"):
                info.add_itxt(k, v)
        info.add_itxt("provenance", meta)
        info.add_text("Software", STUDIO)
        _replace(path, lambda tmp: im.save(tmp, format="PNG", pnginfo=info))


def _stamp_mp4(path: Path, meta: str) -> None:
    import av

    def remux(tmp: str) -> None:
        with av.open(str(path)) as src, av.open(tmp, "w", format="mp4") as dst:
            dst.metadata["comment"] = meta
            dst.metadata["encoder"] = STUDIO
            streams = {}
            for s in src.streams:
                if s.type in ("video", "audio"):
                    streams[s.index] = dst.add_stream_from_template(s)
            for packet in src.demux(*[src.streams[i] for i in streams]):
                if packet.dts is None:
                    continue
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)

    _replace(path, remux)


def _replace(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".stamp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_embedded(path: Path) -> dict[str, Any] | None:
    """The essentials embedded in a PNG or MP4/M4A file, or None."""
    try:
        if path.suffix.lower() == ".png":
            from PIL import Image

            with Image.open(path) as im:
                raw = (getattr(im, "text", {}) or {}).get("provenance")
        else:
            import av

            with av.open(str(path)) as c:
                raw = c.metadata.get("comment")
        return json.loads(raw) if raw else None
    except Exception:
        return None


def _is_library_path(v: Any) -> bool:
    return isinstance(v, str) and os.sep in v and Path(v).is_file()


def _library_relative(v: str) -> str:
    parts = Path(v).parts
    return "/".join(parts[parts.index("library"):]) if "library" in parts else Path(v).name
