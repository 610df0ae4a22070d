"""Editing and deleting one Istio (or Gateway API) object as YAML, as Kiali's config editor does.

    text = editable_yaml(obj)                      # what the editor starts from
    plan = edit_plan(obj, text)                    # a REPLACE of ``obj`` with what ``text`` says
    plan = delete_plan(obj)                        # a DELETE of ``obj``

``edit_plan`` refuses (``EditError``, in words) text that does not parse (with its line and column),
that holds other than one object, or that names another object (a changed kind, API group, name or
namespace: that would be a different object, not this one edited). What it cannot judge (the CRD
schema, the config validations, the server's dry run) is the plan's ``check()`` and the writer's
business. ``before`` is the object as read, so a write refuses to overwrite a copy changed meanwhile.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from meshdesk.mesh.changes import DELETE, REPLACE, Change, ChangePlan, dump_yaml
from meshdesk.mesh.inventory import GATEWAY_API_KINDS, IstioObject

# what the editor shows of ``metadata``: the rest (resourceVersion, uid, managedFields ...) is the
# server's bookkeeping, and is kept as the cluster has it
EDITABLE_METADATA = ("name", "namespace", "labels", "annotations")


class EditError(ValueError):
    """Edited text that cannot be saved as the object it was opened from; the message says why."""


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key twice in one mapping (as the API server and kubectl do), where
    PyYAML keeps the last silently: a section written again lower down would drop the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class says so
                break
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is there twice in one mapping (first at line "
                    f"{first.start_mark.line + 1}); keep one", key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def manifest_kind(obj: IstioObject) -> str:
    """The kind as its API names it ("HTTPRoute" for Kiali's "K8sHTTPRoute")."""
    return GATEWAY_API_KINDS.get(obj.kind, obj.kind)


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def editable_yaml(obj: IstioObject) -> str:
    """The object as the editor shows it: apiVersion, kind, name, namespace, labels, annotations and
    spec (no resourceVersion, no status: neither is written)."""
    m = obj.to_manifest()
    m["metadata"].pop("resourceVersion", None)
    return dump_yaml(m)


def parse_yaml(text: str) -> dict[str, Any]:
    """The one mapping ``text`` holds; ``EditError`` saying where and what when it does not parse."""
    try:
        docs = [d for d in yaml.load_all(text, Loader=_StrictLoader) if d is not None]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = " ".join(str(p) for p in (e.context, e.problem) if p)
        if "'\\t'" in what:
            what += " (YAML indents with spaces, not tabs)"
        raise EditError(f"The YAML does not parse ({where}{what}). Nothing was sent.") from None
    except yaml.YAMLError as e:
        raise EditError(f"The YAML does not parse ({e}). Nothing was sent.") from None
    if not docs:
        raise EditError("The text is empty: to remove the object, use Delete. Nothing was sent.")
    if len(docs) > 1:
        raise EditError(f"The text holds {len(docs)} YAML documents: edit this one object only. Nothing was sent.")
    doc = docs[0]
    if not isinstance(doc, dict):
        raise EditError("The YAML is not an object (a mapping with apiVersion, kind, metadata and spec). "
                        "Nothing was sent.")
    return doc


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EditError(f"metadata.{where} must be a mapping of names to text.")
    out = {}
    for k, v in value.items():
        if not isinstance(v, str):
            shown = yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()
            raise EditError(f"metadata.{where}.{k}: the value {shown} is not text; Kubernetes takes text only "
                            f"(quote it: \"{shown}\").")
        out[str(k)] = v
    return out


def edited_object(before: IstioObject, text: str) -> tuple[IstioObject, list[str]]:
    """The object ``text`` describes, as an edit of ``before``, and notes on what of the text is not
    written (a status, metadata the server keeps); ``EditError`` when it cannot be."""
    doc = parse_yaml(text)
    what = f"{manifest_kind(before)} {before.namespace}/{before.name}"
    kind = doc.get("kind")
    api_version = doc.get("apiVersion")
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        raise EditError("metadata is missing or is not a mapping: it names the object (name, namespace).")
    if kind is None:
        raise EditError(f"kind is missing: put back kind: {manifest_kind(before)}.")
    if kind != manifest_kind(before):
        raise EditError(f"The kind was changed to {kind!r}: that would be another object, not {what} edited. "
                        f"Keep kind: {manifest_kind(before)}.")
    if not isinstance(api_version, str) or _group(api_version) != _group(before.api_version) \
            or not api_version.split("/", 1)[-1]:
        raise EditError(f"The apiVersion was changed to {api_version!r}: {what} is of the "
                        f"{_group(before.api_version)} API group (keep apiVersion: {before.api_version}).")
    for field_name, was in (("name", before.name), ("namespace", before.namespace)):
        now = meta.get(field_name)
        if now is None:
            raise EditError(f"metadata.{field_name} is missing: it names the object. Put back {field_name}: {was}.")
        if now != was:
            raise EditError(f"metadata.{field_name} was changed to {now!r}: that would be another object, not "
                            f"{what} edited (renaming means creating a copy and deleting this one). "
                            f"Keep {field_name}: {was}.")
    spec = doc.get("spec", {})
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise EditError("spec must be a mapping.")
    notes = []
    others = sorted(k for k in doc if k not in ("apiVersion", "kind", "metadata", "spec"))
    if others:
        notes.append(f"Not written: {', '.join(others)} (only metadata and spec are saved"
                     f"{'; a status is its controller’s' if 'status' in others else ''}).")
    kept = sorted(k for k in meta if k not in EDITABLE_METADATA)
    if kept:
        notes.append(f"Kept as the cluster has them: metadata {', '.join(kept)} (the server's).")
    obj = copy.deepcopy(before)
    obj.api_version = api_version
    obj.spec = spec
    obj.labels = _string_map(meta.get("labels"), "labels")
    obj.annotations = _string_map(meta.get("annotations"), "annotations")
    return obj, notes


def edit_plan(before: IstioObject, text: str) -> ChangePlan:
    """Replace ``before`` with what ``text`` says (an empty plan when it says what ``before`` has)."""
    obj, notes = edited_object(before, text)
    plan = ChangePlan(f"Save the edited {manifest_kind(before)} {before.namespace}/{before.name}", notes=notes)
    if (obj.api_version, obj.spec, obj.labels, obj.annotations) != \
            (before.api_version, before.spec, before.labels, before.annotations):
        plan.changes.append(Change(REPLACE, obj=obj, before=copy.deepcopy(before)))
    return plan


def delete_plan(obj: IstioObject) -> ChangePlan:
    plan = ChangePlan(f"Delete {manifest_kind(obj)} {obj.namespace}/{obj.name}")
    plan.changes.append(Change(DELETE, obj=copy.deepcopy(obj), before=copy.deepcopy(obj)))
    return plan


def keep_order(new: dict[str, Any], old: Any) -> dict[str, Any]:
    """``new`` with its keys in ``old``'s order (new ones last), in place: an edit's diff then shows the
    values changed, not fields moved (Istio's docs write a server's tls before its hosts, the form after)."""
    if isinstance(old, dict):
        items = [(k, new.pop(k)) for k in [*(k for k in old if k in new), *(k for k in new if k not in old)]]
        new.update(items)
    return new


def keep_order_deep(new: Any, old: Any) -> Any:
    """``keep_order`` through ``new``'s mappings, lists matched by position (a form's spec against the
    object as read)."""
    if isinstance(new, dict) and isinstance(old, dict):
        keep_order(new, old)
        for k, v in new.items():
            keep_order_deep(v, old.get(k))
    elif isinstance(new, list) and isinstance(old, list):
        for a, b in zip(new, old, strict=False):
            keep_order_deep(a, b)
    return new
