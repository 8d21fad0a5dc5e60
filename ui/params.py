"""Gradio components made from the job catalogue's parameter declarations.

Labels, ranges, defaults, choices and help texts are read from `workflows/<action>.json` (via
workflows.catalogue); nothing here repeats them.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gradio as gr

from workflows.catalogue import JobSpec, Param, ParamError

# Long texts (prompts, scripts, lyrics) get a multi-line box.
_MULTILINE_FROM = 300


def component(p: Param, *, elem_id: str | None = None, **overrides: Any) -> gr.components.Component:
    """One input component for one declared param; `overrides` adjust presentation only (lines, sources, ...)."""
    info = p.help or None
    common: dict[str, Any] = {"label": p.label, "elem_id": elem_id, "info": info}
    t = p.type
    if t == "text":
        lines = 4 if (p.max_length or 0) >= _MULTILINE_FROM else 1
        kw = {**common, "value": p.default or "", "lines": lines, "max_lines": max(lines, 12)}
        if p.max_length:
            kw["max_length"] = p.max_length
        return gr.Textbox(**{**kw, **overrides})
    if t in ("int", "float"):
        kw = {**common, "value": p.default, "step": p.step or (1 if t == "int" else 0.1)}
        if p.min is not None and p.max is not None:
            return gr.Slider(minimum=p.min, maximum=p.max, **{**kw, **overrides})
        # No minimum/maximum on a Number: Gradio's own range check ("Value 0 is less than minimum value 1.")
        # would answer before the catalogue's, which names the field.
        return gr.Number(precision=0 if t == "int" else None, **{**kw, **overrides})
    if t == "seed":
        kw = {**common, "value": p.default if p.default is not None else -1, "precision": 0,
              "info": (info or "") + " (-1 = random)"}
        return gr.Number(**{**kw, **overrides})
    if t == "choice":
        return gr.Dropdown(**{**common, "choices": list(p.choices), "value": p.default, **overrides})
    if t == "bool":
        return gr.Checkbox(**{**common, "value": bool(p.default), **overrides})
    if t == "image":
        common.pop("info")
        return gr.Image(**{**common, "type": "filepath", "format": "png", **overrides})
    if t == "audio":
        common.pop("info")
        return gr.Audio(**{**common, "type": "filepath", "sources": ["upload", "microphone"], **overrides})
    raise ValueError(f"param type {t!r} has no component")


def build(spec: JobSpec, *, names: Sequence[str] | None = None, skip: Iterable[str] = (),
          prefix: str | None = None, advanced_open: bool = False,
          overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, gr.components.Component]:
    """Components for a job's params in declaration order; `group: advanced` ones go into one accordion.

    Returns {param name: component}. elem_id is `<prefix>-<name>` so browser tests can find each field."""
    prefix = prefix or spec.action
    skip = set(skip)
    overrides = overrides or {}
    chosen = [p for p in spec.params if (names is None or p.name in names) and p.name not in skip]
    if names is not None:
        chosen.sort(key=lambda p: list(names).index(p.name))
    out: dict[str, gr.components.Component] = {}
    main = [p for p in chosen if p.group != "advanced"]
    advanced = [p for p in chosen if p.group == "advanced"]
    for p in main:
        out[p.name] = component(p, elem_id=f"{prefix}-{p.name}", **overrides.get(p.name, {}))
    if advanced:
        with gr.Accordion("Advanced", open=advanced_open, elem_id=f"{prefix}-advanced"):
            for p in advanced:
                out[p.name] = component(p, elem_id=f"{prefix}-{p.name}", **overrides.get(p.name, {}))
    return out


def clean(spec: JobSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Form values → the raw input a job takes: empty media dropped, whole-number floats from sliders made ints."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        p = spec.param(name)
        if value is None or (p.is_media and value == ""):
            continue
        if p.type in ("int", "seed") and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[name] = value
    return out


def check(spec: JobSpec, values: dict[str, Any]) -> tuple[dict[str, Any] | None, ParamError | None]:
    """Validate with the catalogue (the same check the worker runs); (validated, None) or (None, error)."""
    try:
        return spec.validate(clean(spec, values)), None
    except ParamError as err:
        return None, err


def field_messages(names: Sequence[str], error: ParamError | None, extra: dict[str, str] | None = None) -> list[dict]:
    """gr.validate() per input, in input order: the failing field shows its message, the others are valid."""
    problems = dict(extra or {})
    if error is not None:
        problems.setdefault(error.field, error.message)
    return [gr.validate(n not in problems, problems.get(n, "")) for n in names]


def labels_of(spec: JobSpec) -> dict[str, str]:
    """{param name: the label the page shows}."""
    return {p.name: p.label for p in spec.params}


def relabel(message: str, labels: dict[str, str], *, with_name: bool = False) -> str:
    """A message that starts with an input name ("prompt: is required") in the page's words ("Description: is
    required"); `with_name` keeps the API name too ("Description (prompt): ..."), for API and MCP callers."""
    field, sep, rest = message.partition(":")
    label = labels.get(field.strip())
    if not sep or not label:
        return message
    return f"{label} ({field.strip()}):{rest}" if with_name else f"{label}:{rest}"
