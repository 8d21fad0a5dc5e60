"""The named API's `characters` argument (portrait): who conditions the picture, and where.

A JSON list of up to four objects `{"image", "weight", "region"}`. The list is checked first, whole, with the
job contract's own rules (`workflows/characters.py`), so a refusal names its entry (`characters[1].region`) and
nothing is decoded or fetched for a list that would be refused. Then each `image` becomes a file in the library,
as every other API media argument does:

- a data URI (`data:image/png;base64,...`): decoded;
- an https URL: fetched through the private-address guard (`backend/safefetch.py`), size-capped;
- otherwise a name: a cast member (their reference for panels, else their portrait) or the id of a finished job
  (its first image), as the `cast` and `jobs` tools list them.

The job then carries library paths; the backend sends them as data URIs and the history keeps the paths.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import httpx

from backend import safefetch
from backend.mediatypes import sniff
from workflows import characters as C
from workflows.catalogue import ParamError

MAX_BYTES = 20_000_000           # one reference picture; a portrait is well under 1 MB
FETCH_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
IMAGE_KINDS = "PNG, JPEG, WebP or GIF"

HELP = (f"Who conditions the picture (IP-Adapter): a JSON list of up to {C.MAX_CHARACTERS} objects "
        "{\"image\", \"weight\", \"region\"}. image: a data URI (data:image/png;base64,...), an https URL, or the "
        "name of a cast member (their panel reference, else their portrait) or the id of a finished job (its "
        f"first image). weight: {C.WEIGHT_MIN:g}–{C.WEIGHT_MAX:g}, default {C.WEIGHT_DEFAULT:g}. region: "
        + ", ".join(f'"{r}"' for r in C.REGIONS) + " or [x, y, w, h] as fractions of the picture; default "
        "\"full\". Example: [{\"image\": \"Mara\", \"region\": \"left\"}, {\"image\": \"Ben\", \"region\": "
        "\"right\"}]. Default: none.")


# The argument's JSON Schema (view_api, MCP): a list of objects, left loose on purpose, so that a bad entry reaches
# `parse` and is refused naming its field (a strict schema would be refused by the MCP client's own validator in
# jsonschema's words). gr.JSON's own answer, `{"type": {}}`, is not a valid schema: MCP clients refuse every call.
SCHEMA = {"type": "array", "items": {"type": "object"}}
EXAMPLE = [{"image": "Mara", "region": "left"}, {"image": "Ben", "region": "right", "weight": 0.8}]


def component() -> gr.JSON:
    """The hidden input behind the argument: a gr.JSON answering with SCHEMA. Set on the instance, not by a
    subclass: Gradio writes a .pyi stub beside any module that defines a component class."""
    comp = gr.JSON(value=None, visible=False, label=C.FIELD)
    comp.api_info = lambda: dict(SCHEMA)               # type: ignore[method-assign]
    comp.example_payload = comp.example_value = lambda: EXAMPLE     # type: ignore[method-assign]
    return comp


def parse(value: Any) -> list[dict[str, Any]]:
    """The checked list (images not yet resolved), or ParamError naming the field. Empty means no characters."""
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = json.loads(value)
        except ValueError:
            raise ParamError(C.FIELD, f"is not valid JSON; expected {C.allowed()}") from None
    if value in (None, [], {}):
        return []
    return C.validate(value)


def resolve(studio: Any, checked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each entry with its image as a library path (see the module's docstring), or ParamError naming it."""
    return [{**entry, "image": _image(studio, f"{C.FIELD}[{i}].image", entry["image"].strip())}
            for i, entry in enumerate(checked)]


def _image(studio: Any, field: str, image: str) -> str:
    if image[:5].lower() == "data:":
        return _keep(studio, field, _decode(field, image))
    if image[:8].lower() == "https://":
        return _keep(studio, field, _fetch(field, image))
    return _named(studio, field, image)


def _decode(field: str, uri: str) -> bytes:
    head, sep, data = uri.partition(",")
    if not sep or not head.lower().endswith(";base64"):
        raise ParamError(field, "a data URI must be base64: data:image/png;base64,...")
    if len(data) > MAX_BYTES * 4 // 3 + 4:
        raise ParamError(field, f"is over {MAX_BYTES // 1_000_000} MB; use a smaller picture")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ParamError(field, "the data URI's base64 cannot be decoded") from None


def _fetch(field: str, url: str) -> bytes:
    try:
        return asyncio.run(_download(field, url))
    except safefetch.Refused as exc:
        raise ParamError(field, f"was not fetched: {exc}; only public hosts are") from None
    except httpx.HTTPError as exc:
        raise ParamError(field, f"could not be downloaded ({type(exc).__name__})") from None


async def _download(field: str, url: str) -> bytes:
    async with safefetch.guarded_client(timeout=FETCH_TIMEOUT) as client:
        resp = await safefetch.open_stream(client, url)
        try:
            if resp.status_code >= 400:
                raise ParamError(field, f"could not be downloaded (HTTP {resp.status_code})")
            out = bytearray()
            async for chunk in resp.aiter_bytes(1 << 16):
                out += chunk
                if len(out) > MAX_BYTES:
                    raise ParamError(field, f"is over {MAX_BYTES // 1_000_000} MB; use a smaller picture")
            return bytes(out)
        finally:
            await resp.aclose()


def _keep(studio: Any, field: str, raw: bytes) -> str:
    """The bytes as a library input (deduplicated by content), once they are known to be a picture."""
    mt = sniff(raw[:32])
    if mt is None or mt.kind != "image":
        raise ParamError(field, f"is not a picture; use a {IMAGE_KINDS} image")
    lib = Path(studio.library.root)
    fd, name = tempfile.mkstemp(dir=lib / "tmp", suffix=mt.extension)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        path, _ = studio.library.keep_input(field, name)
        return path
    finally:
        Path(name).unlink(missing_ok=True)


def _named(studio: Any, field: str, name: str) -> str:
    char = studio.cast.get(name)
    if char is not None:
        if not char.reference_image:
            raise ParamError(field, f"{char.name} has no portrait or panel reference yet; give them one in the "
                                    "Cast tab, or pass a picture")
        return _present(field, char.reference_image, f"{char.name}'s picture")
    rec = studio.get(name)
    if rec is not None:
        image = next((o["path"] for o in rec.outputs or [] if o.get("type") == "image" and o.get("path")), None)
        if image is None:
            raise ParamError(field, f"job {rec.id} has no image output")
        return _present(field, image, f"job {rec.id}'s image")
    cast = ", ".join(studio.cast.names()) or "empty"
    shown = name if len(name) <= 40 else name[:40] + "…"
    raise ParamError(field, f"{shown!r} is not a data URI, an https URL, a cast member (cast: {cast}) or a job id")


def _present(field: str, path: str, what: str) -> str:
    """The path, if its file is still there (said without the path: no server path reaches a caller)."""
    if not Path(path).is_file():
        raise ParamError(field, f"{what} is no longer in the library")
    return path
