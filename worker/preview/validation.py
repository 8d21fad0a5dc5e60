"""POST /prompt validation, reproducing ComfyUI 0.3.64's answers (the b*/g0* transcripts).

`validate_prompt(prompt, schemas, files)` returns `(http_status, body)`: 200 with
`{"outputs": [...], "node_errors": {...}}` when at least one output can run (the server adds
prompt_id/number and drops "outputs"), 400 with `{"error": ..., "node_errors": ...}` otherwise, and
500 (body None) where ComfyUI itself raises ("Server got itself in trouble").
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import info_snapshot
from .schemas import InputSpec, NodeSchema

# Long combo lists are not echoed back (ComfyUI's own limit).
_MAX_LISTED = 20
# Classes whose own validation replaces the combo check for these inputs, and the message they give.
_CUSTOM_FILE_CHECK = {
    ("LoadImage", "image"): "Invalid image file: {}",
    ("LoadImageMask", "image"): "Invalid image file: {}",
    ("LoadAudio", "audio"): "Invalid audio file: {}",
}


class FileIndex(Protocol):
    def list(self, folder: str) -> list[str]:
        """The current combo options for a file-list folder key such as "models:checkpoints"."""

    def exists(self, annotated_name: str) -> bool:
        """Whether an input name like "x.png", "sub/x.png" or "x.png [temp]" names an existing file."""


@dataclass
class StaticFiles:
    """A FileIndex from plain lists: for callers (template tests) that have no data dir."""
    lists: Mapping[str, Iterable[str]] = field(default_factory=dict)
    inputs: Iterable[str] = ()

    def list(self, folder: str) -> list[str]:
        base = list(self.lists.get(folder, []))
        if folder == "models:sonic":
            return ["none", *base]
        return base

    def exists(self, annotated_name: str) -> bool:
        name = annotated_name
        for tag in (" [input]", " [output]", " [temp]"):
            if name.endswith(tag):
                name = name[: -len(tag)]
        return name in set(self.inputs) or any(name in self.list(k) for k in self.lists)


class _LinkedNodeMissing(Exception):
    """A link points at a node id the prompt does not have (ComfyUI raises KeyError)."""


def _err(type_: str, message: str, details: str, extra: dict) -> dict:
    return {"type": type_, "message": message, "details": details, "extra_info": extra}


def combo_options(spec: InputSpec, files: FileIndex) -> list:
    if spec.files:
        return files.list(spec.files)
    return list(spec.type) if isinstance(spec.type, list) else list(spec.options.get("options", []))


def input_config(spec: InputSpec, files: FileIndex, cls: str | None = None) -> list:
    """The [type, options] pair ComfyUI echoes in extra_info, with file lists filled in (and, when the class is
    given, the recorded tooltip and other widget keys that comfy_nodes.json leaves out)."""
    recorded = _recorded_options(cls, spec) if cls else {}
    if spec.files:
        if isinstance(spec.type, list):
            return [files.list(spec.files), {**recorded, **spec.options}]
        return [spec.type, {**recorded, **spec.options, "options": files.list(spec.files)}]
    return [spec.type, {**recorded, **spec.options}]


def _recorded_options(cls: str, spec: InputSpec) -> dict:
    entry = info_snapshot.load().get(cls)
    raw = ((entry or {}).get("input", {}).get(spec.category) or {}).get(spec.name)
    if isinstance(raw, list) and len(raw) > 1 and isinstance(raw[1], dict):
        return {k: v for k, v in raw[1].items() if k != "options"}
    return {}


def _types_compatible(received: Any, expected: Any) -> bool:
    if not received != expected:
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    r = {t.strip() for t in received.split(",")}
    e = {t.strip() for t in expected.split(",")}
    if "*" in r or "*" in e:
        return True
    return bool(r & e)


def _convert(value: Any, typ: Any) -> Any:
    if isinstance(value, dict) and "__value__" in value:
        value = value["__value__"]
    if typ == "INT":
        return int(value)
    if typ == "FLOAT":
        return float(value)
    if typ == "STRING":
        return str(value)
    if typ == "BOOLEAN":
        return bool(value)
    return value


class _Validator:
    def __init__(self, prompt: dict, schemas: Mapping[str, NodeSchema], files: FileIndex):
        self.prompt = prompt
        self.schemas = schemas
        self.files = files
        self.validated: dict[str, tuple[bool, list[dict]]] = {}

    def node(self, node_id: str) -> tuple[bool, list[dict]]:
        if node_id in self.validated:
            return self.validated[node_id]
        entry = self.prompt[node_id]
        cls = entry["class_type"]
        schema = self.schemas[cls]
        inputs = entry.get("inputs", {})
        errors: list[dict] = []
        custom: list[dict] = []
        valid = True
        # ComfyUI walks a set of the input names (required, then optional, as in INPUT_TYPES), so the errors of
        # one node come in that set's order: the same walk gives the same order for the same PYTHONHASHSEED.
        names = [n for n, s in schema.inputs.items() if s.category == "required"]
        optional = [n for n, s in schema.inputs.items() if s.category == "optional"]
        for name in set(names).union(set(optional)):
            spec = schema.inputs[name]
            if name not in inputs:
                if spec.category == "required":
                    errors.append(_err("required_input_missing", "Required input is missing", name,
                                       {"input_name": name}))
                continue
            val = inputs[name]
            if isinstance(val, list):
                ok = self._link(cls, name, spec, val, errors)
                valid = valid and ok
                continue
            self._value(cls, name, spec, inputs, errors, custom)
        # A class's own VALIDATE_INPUTS runs after the walk (LoadImage/LoadAudio file checks).
        errors.extend(custom)
        ok = not errors and valid
        self.validated[node_id] = (ok, errors)
        return ok, errors

    def _link(self, cls: str, name: str, spec: InputSpec, val: list, errors: list[dict]) -> bool:
        config = input_config(spec, self.files, cls)
        if len(val) != 2:
            errors.append(_err("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                               name, {"input_name": name, "input_config": config, "received_value": val}))
            return True
        src_id = val[0]
        if not isinstance(src_id, str) or src_id not in self.prompt:
            raise _LinkedNodeMissing(repr(src_id))
        src = self.prompt[src_id]
        try:
            outputs = self.schemas[src["class_type"]].output
            received = outputs[val[1]]
        except (IndexError, TypeError, KeyError) as exc:
            message = "tuple index out of range" if isinstance(exc, IndexError) else str(exc)
            self.validated[src_id] = (False, [_err(
                "exception_during_validation", "Exception when validating inner node", message,
                {"exception_type": type(exc).__name__, "traceback": []})])
            return False
        expected = "COMBO" if isinstance(spec.type, list) else spec.type
        if not _types_compatible(received, spec.type if not isinstance(spec.type, list) else expected):
            errors.append(_err(
                "return_type_mismatch", "Return type mismatch between linked nodes",
                f"{name}, received_type({received}) mismatch input_type({spec.type})",
                {"input_name": name, "input_config": config, "received_type": received, "linked_node": val}))
            return True
        ok, _ = self.node(src_id)
        return ok

    def _value(self, cls: str, name: str, spec: InputSpec, inputs: dict, errors: list[dict],
               custom_errors: list[dict]) -> None:
        config = input_config(spec, self.files, cls)
        val = inputs[name]
        if isinstance(val, dict) and "__value__" in val:
            val = inputs[name] = val["__value__"]
        try:
            converted = _convert(val, spec.type)
        except Exception as exc:  # ComfyUI reports whatever the conversion raised
            errors.append(_err("invalid_input_type", f"Failed to convert an input value to a {spec.type} value",
                               f"{name}, {val}, {exc}",
                               {"input_name": name, "input_config": config, "received_value": val,
                                "exception_message": str(exc)}))
            return
        if spec.type in ("INT", "FLOAT", "STRING", "BOOLEAN"):
            # ComfyUI writes the converted value back into the prompt: the queue and the history show 64, not
            # "64", and two prompts equal after conversion share the cache.
            inputs[name] = converted
        val = converted
        custom = _CUSTOM_FILE_CHECK.get((cls, name))
        if custom is not None:
            if not self.files.exists(str(val)):
                custom_errors.append(_err("custom_validation_failed", "Custom validation failed for node",
                                          f"{name} - {custom.format(val)}", {"input_name": name}))
            return
        opts = spec.options
        extra = {"input_name": name, "input_config": config, "received_value": val}
        try:
            if "min" in opts and opts["min"] is not None and val < opts["min"]:
                errors.append(_err("value_smaller_than_min", f"Value {val} smaller than min of {opts['min']}",
                                   name, extra))
                return
            if "max" in opts and opts["max"] is not None and val > opts["max"]:
                errors.append(_err("value_bigger_than_max", f"Value {val} bigger than max of {opts['max']}",
                                   name, extra))
                return
        except TypeError:
            raise
        if spec.is_combo:
            choices = combo_options(spec, self.files)
            if opts.get("multiselect") and isinstance(val, list):
                bad = any(v not in choices for v in val)
            else:
                bad = val not in choices
            if bad:
                if len(choices) > _MAX_LISTED:
                    listed, config_out = f"(list of length {len(choices)})", None
                else:
                    listed, config_out = str(choices), config
                errors.append(_err("value_not_in_list", "Value not in list", f"{name}: '{val}' not in {listed}",
                                   {"input_name": name, "input_config": config_out, "received_value": val}))


def validate_prompt(prompt: Any, schemas: Mapping[str, NodeSchema], files: FileIndex | None = None
                    ) -> tuple[int, dict | None]:
    """Validate an API-format prompt the way ComfyUI 0.3.64's POST /prompt does.

    Like ComfyUI, it converts INT/FLOAT/STRING/BOOLEAN widget values in place (`"64"` becomes 64)."""
    files = files if files is not None else StaticFiles()
    if not isinstance(prompt, dict):
        return 500, None
    outputs: list[str] = []
    for node_id, entry in prompt.items():
        if not isinstance(entry, dict):
            return 500, None
        if "class_type" not in entry:
            return 400, {"error": _err("invalid_prompt", "Cannot execute because a node is missing the class_type property.",
                                       f"Node ID '#{node_id}'", {}), "node_errors": {}}
        cls = entry["class_type"]
        if not isinstance(cls, str) or cls not in schemas:
            return 400, {"error": _err("invalid_prompt", f"Cannot execute because node {cls} does not exist.",
                                       f"Node ID '#{node_id}'", {}), "node_errors": {}}
        if schemas[cls].output_node:
            outputs.append(node_id)
    if not outputs:
        return 400, {"error": _err("prompt_no_outputs", "Prompt has no outputs", "", {}), "node_errors": {}}

    v = _Validator(prompt, schemas, files)
    good: list[str] = []
    failed: list[tuple[str, list[dict]]] = []
    node_errors: dict[str, dict] = {}
    for out in outputs:
        try:
            ok, reasons = v.node(out)
        except _LinkedNodeMissing as exc:
            ok, reasons = False, [_err("exception_during_validation", "Exception when validating node", str(exc),
                                       {"exception_type": "KeyError", "traceback": [
                                           '  File "/comfyui/execution.py", line 1010, in validate_prompt\n',
                                           '  File "/comfyui/execution.py", line 788, in validate_inputs\n']})]
            v.validated[out] = (False, reasons)
        if ok:
            good.append(out)
            continue
        if reasons:
            failed.append((out, reasons))
        for node_id, (node_ok, node_reasons) in v.validated.items():
            if not node_ok and node_reasons:
                if node_id not in node_errors:
                    node_errors[node_id] = {"errors": node_reasons, "dependent_outputs": [],
                                            "class_type": prompt[node_id]["class_type"]}
                node_errors[node_id]["dependent_outputs"].append(out)
    if not good:
        details = "\n".join(f"{e['message']}: {e['details']}" for _, errs in failed for e in errs)
        return 400, {"error": _err("prompt_outputs_failed_validation", "Prompt outputs failed validation", details, {}),
                     "node_errors": node_errors}
    return 200, {"outputs": good, "node_errors": node_errors}
