"""What the scope tests need: the OpenAPI operations with their parameters, valid values to fill them,
and a detector of rows from outside a user's scope (region codes and hospital ids in a response)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

# Parameter names that carry a region code or a hospital id. A parameter whose name looks like one but is
# not listed fails test_scope_parameters_are_known, so that a new route cannot slip past the scope tests.
REGION_PARAMS = {"region", "parent", "county", "city", "code", "region_code", "county_code", "city_code"}
HOSPITAL_PARAMS = {"hospital", "hospital_id"}
SCOPE_WORDS = ("region", "city", "county", "parent", "hospital", "province", "district")
HOSPITAL_ID = re.compile(r"(?<![0-9A-Za-z])H\d{10}(?![0-9])")
REGION_CODE = re.compile(r"33\d{4}")


@dataclass
class Param:
    name: str
    where: str  # query or path
    required: bool
    schema: dict[str, Any]

    @property
    def types(self) -> set[str]:
        options = self.schema.get("anyOf", [self.schema])
        return {o.get("type", "string") for o in options}

    @property
    def enum(self) -> list[Any] | None:
        for o in self.schema.get("anyOf", [self.schema]):
            if "enum" in o:
                return list(o["enum"])
        return None

    @property
    def is_text(self) -> bool:
        """A free string: no enum, no date or number format."""
        options = [o for o in self.schema.get("anyOf", [self.schema]) if o.get("type") != "null"]
        return any(o.get("type") == "string" and "enum" not in o and "format" not in o for o in options)


@dataclass
class Operation:
    method: str
    path: str
    params: list[Param] = field(default_factory=list)
    body: dict[str, Any] | None = None  # the JSON body's schema, references resolved

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: FastAPI) -> Iterator[Operation]:
    spec = app.openapi()
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in methods.items():
            params = [Param(p["name"], p["in"], p.get("required", False), p.get("schema", {}))
                      for p in op.get("parameters", [])]  # fmt: skip
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            yield Operation(method.upper(), path, params, _resolve(spec, body) if body else None)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def fill(op: Operation, own: dict[str, str], **given: str) -> tuple[str, dict[str, str]]:
    """The URL path and query for ``op``: ``given`` values, else the user's own region/hospital for scope
    parameters that are required, else each required parameter's default or first allowed value."""
    path_values: dict[str, str] = {}
    query: dict[str, str] = {}
    for p in op.params:
        value: Any = given.get(p.name)
        if value is None and p.required:
            if p.name in REGION_PARAMS:
                value = own.get("county") if p.name == "county" else own.get("region")
            elif p.name in HOSPITAL_PARAMS:
                value = own.get("hospital")
            elif p.schema.get("default") is not None:
                value = p.schema["default"]
            elif p.enum:
                value = p.enum[0]
            else:
                value = "x"
        if value is None:
            continue
        (path_values if p.where == "path" else query)[p.name] = str(value)
    path = re.sub(r"\{([^}]+)\}", lambda m: path_values.get(m.group(1), "x"), op.path)
    return path, query


def foreign(payload: Any, allowed_region: Any, allowed_hospital: Any) -> set[str]:
    """Region codes and hospital ids in ``payload`` (any JSON) that the predicates reject."""
    found: set[str] = set()
    for text in _strings(payload):
        for part in re.split(r"[/|,; ]", text):
            if REGION_CODE.fullmatch(part) and not allowed_region(part):
                found.add(part)
        found.update(h for h in HOSPITAL_ID.findall(text) if not allowed_hospital(h))
    return found


def _strings(payload: Any) -> Iterator[str]:
    if isinstance(payload, str):
        yield payload
    elif isinstance(payload, dict):
        for k, v in payload.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(payload, list | tuple):
        for v in payload:
            yield from _strings(v)
