"""Comparing a response with a recorded one: same keys and value types, recursively."""
from __future__ import annotations

import re
from typing import Any

_ID = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)$")
# Option keys that describe widgets to people; comfy_nodes.json leaves them out on purpose.
_DROPPED_OPTION_KEYS = {"tooltip", "output_tooltips"}


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def shape(v: Any) -> Any:
    """A JSON value's shape: dict keys (ids collapsed to "<id>") and value types; lists by element shapes."""
    if isinstance(v, dict):
        if v and all(_ID.match(str(k)) for k in v):
            return {"<id>": sorted({repr(shape(x)) for x in v.values()})}
        return {k: shape(x) for k, x in v.items() if k not in _DROPPED_OPTION_KEYS}
    if isinstance(v, list):
        return ["list", sorted({repr(shape(x)) for x in v})]
    return _type(v)


def diff(got: Any, want: Any, path: str = "$") -> list[str]:
    """Differences in shape, where an empty list or id-dict on either side matches any list or id-dict."""
    out: list[str] = []
    if isinstance(want, dict) and isinstance(got, dict):
        want_ids = want and all(_ID.match(str(k)) for k in want)
        got_ids = got and all(_ID.match(str(k)) for k in got)
        if want_ids or got_ids or not want or not got:
            if (want and not want_ids) or (got and not got_ids):
                if want and got:
                    out.append(f"{path}: keyed by ids on one side only")
                    return out
            if want_ids and got_ids:
                sample_w = next(iter(want.values()))
                for k, g in got.items():
                    out += diff(g, want.get(k, sample_w), f"{path}[{k}]")
            return out
        wk = {k for k in want if k not in _DROPPED_OPTION_KEYS}
        gk = {k for k in got if k not in _DROPPED_OPTION_KEYS}
        if wk != gk:
            out.append(f"{path}: keys {sorted(gk)} != recorded {sorted(wk)}")
        for k in wk & gk:
            out += diff(got[k], want[k], f"{path}.{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if not want or not got:
            return out
        for i, g in enumerate(got):
            out += diff(g, want[min(i, len(want) - 1)], f"{path}[{i}]")
        return out
    if _type(got) != _type(want):
        out.append(f"{path}: {_type(got)} != recorded {_type(want)}")
    return out


def strip_tooltips(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: strip_tooltips(x) for k, x in v.items() if k not in _DROPPED_OPTION_KEYS}
    if isinstance(v, list):
        return [strip_tooltips(x) for x in v]
    return v
