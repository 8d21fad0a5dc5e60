"""RunPod's own REST v2 OpenAPI document as a test oracle: request bodies, query parameters and responses are
checked against it, so the stand-in refuses what RunPod would refuse and cannot answer what RunPod would not.

The document is kept in tests/data/runpod/ (see its README). Its schemas are
JSON Schema 2020-12 (OpenAPI 3.1), which `jsonschema` validates directly, including the `unevaluatedProperties:
false` that closes every request body.
"""
from __future__ import annotations

import gzip
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "tests" / "data" / "runpod" / "runpod-rest-v2-openapi.json.gz"
_URN = "urn:runpod-rest-v2"
METHODS = ("get", "put", "post", "patch", "delete")


def _absolute(node: Any) -> Any:
    """An inline schema taken out of the document, its "#/components/..." references pointed back at it."""
    if isinstance(node, dict):
        return {k: (_URN + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _absolute(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute(x) for x in node]
    return node


class OpenApi:
    def __init__(self, path: Path = DOCUMENT):
        self.path = path
        self.doc = json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_text())
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(_URN, resource)
        self._validators: dict[str, Draft202012Validator] = {}

    @cached_property
    def version(self) -> str:
        return f"{self.doc['info']['title']} {self.doc['info']['version']} (OpenAPI {self.doc['openapi']})"

    def operation(self, method: str, template: str) -> dict | None:
        return (self.doc["paths"].get(template) or {}).get(method.lower())

    def has_path(self, template: str) -> bool:
        return template in self.doc["paths"]

    def _deref(self, node: dict) -> dict:
        while isinstance(node, dict) and "$ref" in node:
            node = self._registry.resolver(base_uri=_URN).lookup(_URN + node["$ref"]).contents
        return node

    def validator(self, pointer_or_schema: str | dict) -> Draft202012Validator:
        schema = ({"$ref": _URN + pointer_or_schema} if isinstance(pointer_or_schema, str)
                  else _absolute(pointer_or_schema))
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(schema, registry=self._registry)
        return self._validators[key]

    def errors(self, schema: dict, instance: Any) -> list[str]:
        """Validation failures as RunPod words them in a 422's `errors[]`: "<JSON path>: <message>"."""
        found = sorted(self.validator(schema).iter_errors(instance), key=lambda e: (e.json_path, e.message))
        # A failing subschema evaluates nothing, so `unevaluatedProperties` then calls every property unexpected;
        # those only say something when nothing else failed.
        real = [e for e in found if e.validator != "unevaluatedProperties"]
        return list(dict.fromkeys(f"{e.json_path}: {e.message}" for e in (real or found)))

    # -- requests -----------------------------------------------------------------------------------------------
    def request_body_schema(self, method: str, template: str) -> dict | None:
        op = self.operation(method, template) or {}
        body = self._deref(op.get("requestBody") or {})
        return (body.get("content") or {}).get("application/json", {}).get("schema")

    def check_query(self, method: str, template: str, query: dict[str, str]) -> list[str]:
        op = self.operation(method, template) or {}
        params = [self._deref(p) for p in (self.doc["paths"][template].get("parameters") or [])
                  + (op.get("parameters") or [])]
        known = {p["name"]: p for p in params if p.get("in") == "query"}
        out = []
        for name, raw in query.items():
            p = known.get(name)
            if p is None:
                continue  # RunPod ignores unknown query parameters
            schema = self._deref(p.get("schema") or {})
            value: Any = raw
            if schema.get("type") == "integer":
                try:
                    value = int(raw)
                except ValueError:
                    out.append(f"query.{name}: {raw!r} is not an integer")
                    continue
            out += [e.replace("$", f"query.{name}", 1) for e in self.errors(p.get("schema") or {}, value)]
        return out

    # -- responses ----------------------------------------------------------------------------------------------
    def response_schema(self, method: str, template: str, status: int, content_type: str) -> tuple[bool, dict | None]:
        """(documented, schema): whether the status is documented for the operation, and its schema."""
        op = self.operation(method, template) or {}
        responses = op.get("responses") or {}
        documented = str(status) in responses
        resp = self._deref(responses.get(str(status)) or responses.get("default") or {})
        content = resp.get("content") or {}
        media = content.get(content_type.split(";")[0].strip())
        return documented, (media or {}).get("schema") if media else None

    def check_response(self, method: str, template: str, status: int, content_type: str, text: str) -> list[str]:
        documented, schema = self.response_schema(method, template, status, content_type)
        problems = [] if documented or status >= 500 else [f"status {status} is not documented for "
                                                           f"{method} {template}"]
        op = self.operation(method, template) or {}
        resp = self._deref((op.get("responses") or {}).get(str(status)) or (op.get("responses") or {}).get("default") or {})
        if not resp.get("content"):
            if text:
                problems.append(f"{status} has no body in the document, but the stand-in sent one")
            return problems
        if schema is None:
            return problems + [f"content type {content_type!r} is not documented for {status}"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return problems + ["the body is not JSON"]
        return problems + self.errors(schema, data)
