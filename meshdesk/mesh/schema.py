"""Check an object against a CRD's OpenAPI v3 schema, the way the API server's structural checks do.

Used before any write: a generated object that the cluster would refuse is caught with a readable
path (``spec.http[0].route[0].weight: must be at most 100``). Supported: type, properties and unknown
fields (pruned fields are reported, unless ``x-kubernetes-preserve-unknown-fields``),
additionalProperties, required, enum, minimum/maximum, minLength/maxLength, pattern, minItems/maxItems,
maxProperties, nullable, ``x-kubernetes-int-or-string``, oneOf/anyOf/allOf/not. CEL rules
(``x-kubernetes-validations``) are left to the server-side dry run, which every write goes through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.words import counted


@dataclass
class CRDSchemas:
    """Schemas by (kind, apiVersion) from CRD documents (``crd-all.gen.yaml`` or what the cluster serves)."""

    schemas: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def from_crds(docs: Iterable[Mapping[str, Any]]) -> CRDSchemas:
        out = CRDSchemas()
        for doc in docs:
            if not isinstance(doc, Mapping) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            group = spec.get("group")
            for version in spec.get("versions") or []:
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if kind and group and schema and version.get("served", True):
                    out.schemas[(kind, f"{group}/{version['name']}")] = schema
        return out

    def validate(self, obj: Mapping[str, Any]) -> list[str]:
        """Problems with ``obj`` (a full manifest); empty when the schema accepts it."""
        kind, api = obj.get("kind"), obj.get("apiVersion")
        schema = self.schemas.get((str(kind), str(api)))
        if schema is None:
            return [f"{kind} {api} is not served by this cluster's CRDs"]
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        top = {k: v for k, v in (schema.get("properties") or {}).items() if k not in ("apiVersion", "kind", "metadata")}
        return validate_value(body, {**schema, "properties": top}, "")


def _type_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    t = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, (int, str)) and not isinstance(value, bool)
    if t is None:
        return True
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate_value(value: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    where = path or "(object)"
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: must not be null"]
    if not _type_ok(value, schema):
        expected = "integer or string" if schema.get("x-kubernetes-int-or-string") else schema.get("type")
        return [f"{where}: must be {expected}, not {type(value).__name__}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: must be at most {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{where}: must be at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: must be at most {schema['maxLength']} characters")
        if "pattern" in schema:
            try:
                if not re.search(schema["pattern"], value):
                    errors.append(f"{where}: does not match {schema['pattern']}")
            except re.error:
                pass  # an ECMA-only pattern: the server checks it
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(f"{where}: needs at least {counted(schema['minItems'], 'item')}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{where}: takes at most {counted(schema['maxItems'], 'item')}")
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                errors += validate_value(item, items, f"{path}[{i}]")
    if isinstance(value, dict):
        errors += _validate_object(value, schema, path)
    errors += _validate_combinators(value, schema, where)
    return errors


def _validate_object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    errors: list[str] = []
    props: Mapping[str, Any] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key in schema.get("required") or []:
        if key not in value:
            errors.append(f"{_join(path, key)}: is required")
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        errors.append(f"{path or '(object)'}: takes at most {schema['maxProperties']} entries")
    for key, item in value.items():
        sub = _join(path, str(key))
        if key in props:
            errors += validate_value(item, props[key], sub)
        elif isinstance(extra, Mapping):
            errors += validate_value(item, extra, sub)
        elif props and not schema.get("x-kubernetes-preserve-unknown-fields") and extra is not True:
            errors.append(f"{sub}: unknown field (the server would drop it)")
    return errors


def _matches(value: Any, schema: Mapping[str, Any]) -> bool:
    """A oneOf/anyOf branch in Kubernetes structural schemas only constrains (required, not ...)."""
    return not validate_value(value, {**schema, "type": schema.get("type")}, "") if schema else True


def _validate_combinators(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    errors: list[str] = []
    if "oneOf" in schema:
        n = sum(1 for branch in schema["oneOf"] if _matches(value, branch))
        if n != 1:
            fields = sorted({k for b in schema["oneOf"] for k in (b.get("required") or [])})
            hint = f" (of: {', '.join(fields)})" if fields else ""
            errors.append(f"{where}: must set exactly one alternative{hint}")
    if "anyOf" in schema and not any(_matches(value, b) for b in schema["anyOf"]):
        errors.append(f"{where}: matches none of the allowed forms")
    for branch in schema.get("allOf") or []:
        if not _matches(value, branch):
            errors.append(f"{where}: does not satisfy a required constraint")
    if "not" in schema and _matches(value, schema["not"]):
        errors.append(f"{where}: has a combination of fields that is not allowed")
    return errors
