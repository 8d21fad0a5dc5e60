"""The job catalogue: each job's declaration (params, templates, models, licence) read from workflows/*.json.

Both the studio and the worker import this module, so it depends on nothing but the standard library.
`JobSpec.validate` is the one place user input is checked; the studio builds its forms from the same `Param`s.
"""
from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from workflows import hub_cache

HERE = Path(__file__).resolve().parent
ACTIONS = ("portrait", "tts", "lipsync", "animate", "music")
PARAM_TYPES = frozenset({"text", "int", "float", "choice", "bool", "seed", "image", "audio"})
MEDIA_TYPES = frozenset({"image", "audio"})
# Keys the transport may put next to the params; they are not params and are dropped, never rejected.
RESERVED_KEYS = frozenset({"action"})
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class ParamError(ValueError):
    """Bad input for one field. `str(err)` is a sentence that starts with the field name."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message if message.startswith(f"{field}:") else f"{field}: {message}"
        super().__init__(self.message)


class CatalogueError(RuntimeError):
    """A declaration file is malformed (a bug in the repository, not in user input)."""


def _num(x: float) -> str:
    """Numbers for people: 6.0 → "6", 0.5 → "0.5"."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    label: str
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    help: str = ""
    group: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> "Param":
        known = set(cls.__dataclass_fields__)
        extra = set(d) - known
        if extra:
            raise CatalogueError(f"{where}: unknown keys {sorted(extra)} in param {d.get('name')!r}")
        if d.get("type") not in PARAM_TYPES:
            raise CatalogueError(f"{where}: param {d.get('name')!r} has type {d.get('type')!r}")
        d = dict(d)
        d["choices"] = tuple(d.get("choices", ()))
        d["aliases"] = tuple(d.get("aliases", ()))
        p = cls(**d)
        if p.type == "choice" and not p.choices:
            raise CatalogueError(f"{where}: choice param {p.name!r} has no choices")
        if not p.required and p.default is None and p.type not in MEDIA_TYPES:
            raise CatalogueError(f"{where}: optional param {p.name!r} needs a default")
        if p.default is not None:
            p.coerce(p.default)  # a declaration whose own default is invalid is a bug
        return p

    @property
    def is_media(self) -> bool:
        return self.type in MEDIA_TYPES

    def allowed(self) -> str:
        """What is allowed, in words: used in every error message about this field."""
        t = self.type
        if t in ("int", "float"):
            kind = "a whole number" if t == "int" else "a number"
            rng = f"{_num(self.min)}–{_num(self.max)}" if self.min is not None and self.max is not None else ""
            if t == "int" and self.step and self.step > 1:
                return f"{kind} from {rng}, in steps of {_num(self.step)}" if rng else f"a multiple of {_num(self.step)}"
            return f"{kind} from {rng}" if rng else kind
        if t == "seed":
            return f"a whole number from 0–{_num(self.max if self.max is not None else 2**32 - 1)}, or -1 for random"
        if t == "choice":
            return "one of " + ", ".join(self.choices)
        if t == "bool":
            return "true or false"
        if t == "text":
            parts = ["text"]
            if self.min_length:
                parts.append(f"at least {self.min_length} characters")
            if self.max_length:
                parts.append(f"up to {self.max_length} characters")
            return ", ".join(parts)
        return f"an {t} file as base64, a data URI or an https URL"

    def coerce(self, value: Any, *, allow_http: bool = False) -> Any:
        """Return the value in its canonical type, or raise ParamError naming this field and what is allowed.

        `allow_http`: a worker run with WORKER_ALLOW_HTTP_URLS=1 (tests) lets plain http media URLs through to its
        own URL guard."""
        n, t = self.name, self.type
        bad = lambda why: ParamError(n, f"{why}; expected {self.allowed()}")  # noqa: E731
        if t == "text":
            if not isinstance(value, str):
                raise bad(f"got {type(value).__name__}")
            if self.required and not value.strip():
                raise ParamError(n, f"is required and may not be empty ({self.allowed()})")
            if self.max_length is not None and len(value) > self.max_length:
                raise bad(f"is {len(value)} characters long")
            if self.min_length is not None and len(value.strip()) < self.min_length:
                raise bad(f"is {len(value.strip())} characters long")
            if self.pattern and not re.fullmatch(self.pattern, value):
                raise ParamError(n, f"{value!r} is not allowed here; {self.help or 'see the field help'}")
            return value
        if t == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise bad(f"got {value!r}")
        if t == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParamError(n, f"{value!r} is not allowed; choose one of {', '.join(self.choices)}")
            return value
        if t in MEDIA_TYPES:
            if not isinstance(value, str) or not value.strip():
                raise ParamError(n, f"is required: {self.allowed()}" if value in (None, "") else f"got {type(value).__name__}; expected {self.allowed()}")
            if value.strip()[:7].lower() == "http://" and not allow_http:
                raise ParamError(n, "plain http URLs are not fetched; use an https URL, base64 or a data URI")
            return value
        # numbers: int, float, seed
        if isinstance(value, bool):
            raise bad("got true/false")
        if isinstance(value, str):
            try:
                value = float(value.strip()) if t == "float" else int(value.strip())
            except ValueError:
                raise bad(f"{value!r} is not a number") from None
        if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            raise bad(f"got {value!r}")
        if t in ("int", "seed"):
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad(f"{_num(value)} is not a whole number")
                value = int(value)
        else:
            value = float(value)
        if t == "seed":
            hi = int(self.max if self.max is not None else 2**32 - 1)
            if value != -1 and not 0 <= value <= hi:
                raise bad(f"{value} is out of range")
            return value
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise bad(f"{_num(value)} is out of range")
        if t == "int" and self.step and self.step > 1 and value % int(self.step):
            rng = f" ({_num(self.min)}–{_num(self.max)})" if self.min is not None and self.max is not None else ""
            raise ParamError(n, f"{value} is not a multiple of {_num(self.step)}{rng}")
        return value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            if v in (None, (), "") or (k == "required" and not v):
                continue
            out[k] = list(v) if isinstance(v, tuple) else v
        return out


@dataclass(frozen=True)
class ModelFile:
    """One file of the model manifest; `path` is relative to the volume's models/ folder."""
    path: str
    size: int
    sha256: str | None
    licence: str
    gated: bool
    sources: tuple[dict[str, str], ...]
    licence_url: str | None = None
    note: str = ""
    size_exact: bool = True     # False: `size` is approximate and the server's Content-Length decides
    commit: str | None = None   # hub-cache files: the snapshot commit the path names and refs/main must hold

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def hub(self) -> hub_cache.HubPath | None:
        """Where huggingface_hub looks for this file, when it lies in a hub cache (None for model folders)."""
        return hub_cache.parse(self.path)


@dataclass(frozen=True)
class JobSpec:
    action: str
    title: str
    summary: str
    output: dict[str, Any]
    licence: dict[str, Any] | None
    templates: dict[str, str]
    models: dict[str, tuple[str, ...]]          # template key -> manifest paths it needs
    params: tuple[Param, ...]
    licences: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # per template, when it differs
    mode_param: str | None = None               # the choice param that picks the template (animate: "mode")
    # Files a job loads only when a param is left empty (tts: Whisper transcribes an empty reference transcript).
    models_when_empty: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Files a job loads only when a field is given (portrait: the IP-Adapter files when `characters` is sent).
    models_when_given: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Whether the job takes `characters` (reference images that condition the picture; workflows/characters.py).
    takes_characters: bool = False

    # ---- reading ----
    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def media_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_media)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params if p.default is not None}

    def template_key(self, values: dict[str, Any] | None = None) -> str:
        if self.mode_param:
            mode = (values or {}).get(self.mode_param) or self.param(self.mode_param).default
            if mode in self.templates:
                return mode
        return "default" if "default" in self.templates else next(iter(self.templates))

    def template(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """A fresh copy of the API-format workflow for these values (callers may mutate it)."""
        return copy.deepcopy(_read_json(self.templates[self.template_key(values)]))

    def required_models(self, values: dict[str, Any] | None = None) -> tuple[str, ...]:
        """The files this run loads: its template's, plus those a param left empty calls for."""
        paths = dict.fromkeys(self.models.get(self.template_key(values), ()))
        for name, extra in self.models_when_empty.items():
            value = (values or {}).get(name)
            if values is None or not (value.strip() if isinstance(value, str) else value):
                paths.update(dict.fromkeys(extra))
        for name, extra in self.models_when_given.items():
            if values is None or (values or {}).get(name):
                paths.update(dict.fromkeys(extra))
        return tuple(paths)

    def all_models(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for paths in (*self.models.values(), *self.models_when_empty.values(), *self.models_when_given.values()):
            seen.update(dict.fromkeys(paths))
        return tuple(seen)

    def licence_for(self, values: dict[str, Any] | None = None) -> dict[str, Any] | None:
        key = self.template_key(values)
        return self.licences[key] if key in self.licences else self.licence

    def to_dict(self) -> dict[str, Any]:
        """The declaration as the studio reads it (JSON-ready)."""
        return {"action": self.action, "title": self.title, "summary": self.summary, "output": self.output,
                "licence": self.licence, "licences": self.licences, "templates": dict(self.templates),
                "models": {k: list(v) for k, v in self.models.items()},
                "models_when_empty": {k: list(v) for k, v in self.models_when_empty.items()},
                "models_when_given": {k: list(v) for k, v in self.models_when_given.items()},
                "characters": self.takes_characters,
                "params": [p.to_dict() for p in self.params]}

    # ---- checking input ----
    def validate(self, raw: dict[str, Any], *, warnings: list[str] | None = None,
                 allow_http: bool = False) -> dict[str, Any]:
        """Apply aliases and defaults, coerce types, check ranges/choices/multiples; reject unknown fields.

        Returns every declared param (media params only when given). Raises ParamError on the first bad field.
        One rule for every field: `null` (and "" for a non-text field) means the field is absent — a required
        field is then refused, an optional one gets its default; when `warnings` is given, a sentence per such
        null field is appended, so the caller can say which defaults were used."""
        if not isinstance(raw, dict):
            raise ParamError("input", f"expected an object with the fields {', '.join(p.name for p in self.params)}")
        by_name = {p.name: p for p in self.params}
        alias_of = {a: p.name for p in self.params for a in p.aliases}
        given: dict[str, Any] = {}
        for key, value in raw.items():
            if key in RESERVED_KEYS or (key == "characters" and self.takes_characters):
                continue
            name = alias_of.get(key, key)
            if name not in by_name:
                raise ParamError(key, f"unknown field for {self.action}; allowed fields: "
                                      + ", ".join([p.name for p in self.params]
                                                  + (["characters"] if self.takes_characters else [])))
            if name in given and given[name] != value:
                raise ParamError(name, f"given twice (as {name!r} and its alias {key!r}) with different values")
            given[name] = value
        out: dict[str, Any] = {}
        for p in self.params:
            value = given.get(p.name)
            if value is None or (p.type != "text" and value == ""):
                if p.required:
                    raise ParamError(p.name, f"is required ({p.allowed()})")
                if p.name in given and warnings is not None:
                    used = "no value" if p.default is None else f"the default {json.dumps(p.default)}"
                    warnings.append(f"{p.name}: {json.dumps(given[p.name])} was treated as absent; {used} was used")
                if p.default is None:
                    continue
                value = p.default
            out[p.name] = p.coerce(value, allow_http=allow_http)
        if self.takes_characters and raw.get("characters") not in (None, "", []):
            from workflows import characters    # imports ParamError from here
            out["characters"] = characters.validate(raw["characters"], allow_http=allow_http)
        return out


def _read_json(name: str) -> Any:
    return _read_json_cached(name)


@lru_cache(maxsize=None)
def _read_json_cached(name: str) -> Any:
    path = HERE / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"missing catalogue file workflows/{name}") from None
    except json.JSONDecodeError as e:
        raise CatalogueError(f"workflows/{name} is not valid JSON: {e}") from None


def _spec_from_dict(d: dict[str, Any], where: str) -> JobSpec:
    templates = d.get("templates") or {}
    if not templates:
        raise CatalogueError(f"{where}: no templates")
    models = d.get("models", [])
    if isinstance(models, list):
        models = {k: tuple(models) for k in templates}
    else:
        models = {k: tuple(v) for k, v in models.items()}
    params = tuple(Param.from_dict(p, where) for p in d.get("params", []))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise CatalogueError(f"{where}: duplicate param names")
    mode_param = d.get("mode_param")
    spec = JobSpec(action=d["action"], title=d["title"], summary=d["summary"], output=d["output"],
                   licence=d.get("licence"), templates=dict(templates), models=models, params=params,
                   licences=d.get("licences", {}), mode_param=mode_param,
                   models_when_empty={k: tuple(v) for k, v in (d.get("models_when_empty") or {}).items()},
                   models_when_given={k: tuple(v) for k, v in (d.get("models_when_given") or {}).items()},
                   takes_characters=bool(d.get("characters", False)))
    for name in spec.models_when_given:
        if name != "characters" or not spec.takes_characters:
            spec.param(name)                    # a KeyError here is a typo in the declaration
    for name in spec.models_when_empty:
        spec.param(name)                        # a KeyError here is a typo in the declaration
    if mode_param and set(spec.param(mode_param).choices) != set(templates):
        raise CatalogueError(f"{where}: {mode_param} choices must equal the template keys")
    return spec


@lru_cache(maxsize=1)
def load_catalogue() -> dict[str, JobSpec]:
    """All five jobs, keyed by action. Cached: the files are part of the code."""
    return {a: _spec_from_dict(_read_json(f"{a}.json"), f"workflows/{a}.json") for a in ACTIONS}


def get_spec(action: str) -> JobSpec:
    specs = load_catalogue()
    if action not in specs:
        raise KeyError(f"unknown job {action!r}; jobs: {', '.join(specs)}")
    return specs[action]


@lru_cache(maxsize=1)
def load_manifest() -> dict[str, ModelFile]:
    """The model manifest (workflows/models.json), keyed by path relative to the volume's models/ folder."""
    data = _read_json("models.json")
    out: dict[str, ModelFile] = {}
    for f in data["files"]:
        out[f["path"]] = ModelFile(path=f["path"], size=int(f["size"]), sha256=f.get("sha256"),
                                   licence=f.get("licence", ""), gated=bool(f.get("gated", False)),
                                   sources=tuple(f["sources"]), licence_url=f.get("licence_url"),
                                   note=f.get("note", ""), size_exact=bool(f.get("size_exact", True)),
                                   commit=f.get("commit"))
        _check_hub_entry(out[f["path"]])
    return out


def _check_hub_entry(f: ModelFile) -> None:
    """A hub-cache file must name one pinned commit everywhere the library and provisioning read it."""
    hub = f.hub
    if hub is None:
        if f.commit:
            raise CatalogueError(f"workflows/models.json: {f.path}: commit is only for hub-cache paths")
        return
    src = f.sources[0] if f.sources else {}
    if not hub.pinned or f.commit != hub.commit or src.get("revision") != hub.commit \
            or src.get("repo") != hub.repo or src.get("file") != hub.file or len(f.sources) != 1:
        raise CatalogueError(f"workflows/models.json: {f.path}: a hub-cache file needs its snapshot commit "
                             "(40 hex digits) in the path, in \"commit\" and as its one source's revision, and "
                             "that source's repo and file must match the path")


def job_models(action: str, values: dict[str, Any] | None = None) -> list[ModelFile]:
    """The manifest entries a job needs (for its chosen template, or all templates when values is None)."""
    spec = get_spec(action)
    manifest = load_manifest()
    paths = spec.all_models() if values is None else spec.required_models(values)
    return [manifest[p] for p in paths]
