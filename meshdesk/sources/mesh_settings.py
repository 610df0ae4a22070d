"""Istio's mesh config as a cluster holds it: the ``mesh`` key (YAML) of the ``istio`` ConfigMap in
the control plane's namespace, ``istio-<revision>`` for a revisioned istiod (Kiali reads the same).

Only what meshdesk uses is kept (``meshdesk.mesh.inventory.MeshConfig``); the rest of the config
(the extension providers' settings, proxy defaults...) is never kept, so nothing of it reaches a
snapshot or a message: of the extension providers only their names and kinds are. A config that is no YAML, or whose fields have the wrong shape, is not half-used: Istio's
defaults stand in for all of it, as Kiali falls back to them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from meshdesk.mesh.inventory import (
    DEFAULT_TRUST_DOMAIN,
    ISTIO_NAMESPACE,
    OUTBOUND_POLICIES,
    Istiod,
    MeshConfig,
    image_tag,
)

REVISION_LABEL = "istio.io/rev"
TAG_LABEL = "istio.io/tag"  # on the MutatingWebhookConfiguration of a revision tag (istioctl tag set)
CONFIGMAP = "istio"  # Istio's charts name it so, ``istio-<revision>`` for a revision
MESH_KEY = "mesh"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# outboundTrafficPolicy.mode by its number in Istio's MeshConfig proto (OutboundTrafficPolicy.Mode)
_OUTBOUND_NUMBERS = ("REGISTRY_ONLY", "ALLOW_ANY")


# the sidecar injector's ConfigMap (``istio-sidecar-injector-<revision>`` for a revision): its ``values`` key is the
# Helm values the proxies are injected with, as JSON; ``global.network`` there is the network every proxy of the
# cluster is given (Kiali reads it first for a cluster's network, and the control plane namespace's label after)
INJECTOR_CONFIGMAP = "istio-sidecar-injector"
INJECTOR_VALUES_KEY = "values"


def injector_configmap_name(revision: str) -> str:
    """The sidecar injector's ConfigMap for an istiod revision ("" and "default": the default one)."""
    return INJECTOR_CONFIGMAP if revision in ("", "default") else f"{INJECTOR_CONFIGMAP}-{revision}"


def injector_network(configmap: Mapping[str, Any]) -> str:
    """The network the sidecar injector's ConfigMap gives the proxies (``global.network`` of its ``values``),
    or "" when it names none, or its values are not JSON of that shape (the namespace label is then asked)."""
    data = configmap.get("data")
    text = data.get(INJECTOR_VALUES_KEY) if isinstance(data, Mapping) else None
    if not isinstance(text, str):
        return ""
    try:
        values = json.loads(text)
    except ValueError:
        return ""
    common = values.get("global") if isinstance(values, dict) else None
    network = common.get("network") if isinstance(common, dict) else None
    return network.strip() if isinstance(network, str) else ""


def configmap_name(revision: str) -> str:
    """The mesh config's ConfigMap for an istiod revision ("" and "default": the default one)."""
    return CONFIGMAP if revision in ("", "default") else f"{CONFIGMAP}-{revision}"


@dataclass(frozen=True)
class ControlPlane:
    """A running istiod revision: its namespace and revision ("" for none)."""

    namespace: str
    revision: str


def control_planes(pods: Sequence[Mapping[str, Any]]) -> list[ControlPlane]:
    """The control planes running istiod pods show (pods not running are left out), sorted."""
    found = set()
    for pod in pods:
        meta = pod.get("metadata")
        status = pod.get("status")
        if not isinstance(meta, Mapping) or not isinstance(status, Mapping) or status.get("phase") != "Running":
            continue
        labels = meta.get("labels")
        rev = labels.get(REVISION_LABEL, "") if isinstance(labels, Mapping) else ""
        ns = meta.get("namespace")
        if isinstance(ns, str) and ns:
            found.add(ControlPlane(ns, rev if isinstance(rev, str) and rev != "default" else ""))
    return sorted(found, key=lambda c: (c.namespace, c.revision))


def istiods(pods: Sequence[Mapping[str, Any]]) -> list[Istiod]:
    """Each istiod revision its pods show, with the version of its discovery image (the tag; the
    first container's when none is called ``discovery``) and how many of its pods are ready (running,
    every container ready), sorted. Pods of odd shape are left out."""
    found: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    said: dict[tuple[str, str], dict[str, Any]] = {}  # the env of its discovery container (its first pod's)
    for pod in pods:
        meta, spec, status = (pod.get(k) if isinstance(pod, Mapping) else None for k in ("metadata", "spec", "status"))
        if not isinstance(meta, Mapping) or not isinstance(meta.get("namespace"), str) or not meta["namespace"]:
            continue
        labels = meta.get("labels")
        rev = labels.get(REVISION_LABEL, "") if isinstance(labels, Mapping) else ""
        rev = rev if isinstance(rev, str) and rev != "default" else ""
        containers = [c for c in (spec.get("containers") if isinstance(spec, Mapping) else None) or []
                      if isinstance(c, Mapping)]
        main = next((c for c in containers if c.get("name") == "discovery"), containers[0] if containers else {})
        image = main.get("image")
        statuses = status.get("containerStatuses") if isinstance(status, Mapping) else None
        ready = isinstance(status, Mapping) and status.get("phase") == "Running" and isinstance(statuses, list) \
            and bool(statuses) and all(isinstance(c, Mapping) and c.get("ready") is True for c in statuses)
        found.setdefault((meta["namespace"], rev), []).append((image_tag(image) if isinstance(image, str) else "", ready))
        env = {e["name"]: e.get("value") for e in main.get("env") or () if isinstance(e, Mapping)
               and isinstance(e.get("name"), str)}
        said.setdefault((meta["namespace"], rev), env)
    out = []
    for (ns, rev), seen in sorted(found.items()):
        versions = sorted({v for v, _r in seen if v})
        env = said.get((ns, rev), {})
        cluster_id = env.get("CLUSTER_ID")
        external = env.get("EXTERNAL_ISTIOD")
        # during a rollout of a new version both run at once: both are said
        out.append(Istiod(ns, rev, ", ".join(versions), len(seen), sum(1 for _v, r in seen if r),
                          cluster_id=cluster_id if isinstance(cluster_id, str) else "",
                          manages_external=isinstance(external, str) and external.strip().lower() == "true"))
    return out


def revision_tags(webhooks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Istio's revision tags from their MutatingWebhookConfigurations: tag -> the revision its
    ``istio.io/rev`` label points at ("" for the default revision). Odd ones are left out."""
    out: dict[str, str] = {}
    for hook in webhooks:
        meta = hook.get("metadata") if isinstance(hook, Mapping) else None
        labels = meta.get("labels") if isinstance(meta, Mapping) else None
        if not isinstance(labels, Mapping):
            continue
        tag, rev = labels.get(TAG_LABEL), labels.get(REVISION_LABEL)
        if isinstance(tag, str) and tag and isinstance(rev, str):
            out[tag] = "" if rev == "default" else rev
    return out


def choose(planes: Sequence[ControlPlane], namespace_revisions: Sequence[str]) -> ControlPlane:
    """The control plane whose mesh config stands for the mesh: the revision most of the selected
    namespaces name (``istio.io/rev``, "" for none), else the default revision, else the first.
    None running (or none that could be listed): Istio's usual place, istio-system."""
    if not planes:
        return ControlPlane(ISTIO_NAMESPACE, "")
    named = [r for r in namespace_revisions if r in {p.revision for p in planes}]
    if named:
        wanted = max(sorted(set(named)), key=named.count)
        return next(p for p in planes if p.revision == wanted)
    return next((p for p in planes if not p.revision), planes[0])


class Unparseable(ValueError):
    """The mesh config is no YAML mapping, or a field of it has the wrong shape."""


def _text(config: Mapping[str, Any], key: str, path: str = "") -> str | None:
    """A text field of the config; ``path`` (the field's whole path, ``key`` by default) names it in
    the message when it is something else."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unparseable(f"{path or key} is not a text")
    return value


def _export_default(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A kind's default ``exportTo`` (``defaultServiceExportTo`` ...): its namespaces, ``.``, ``*`` or
    ``~``, as written; empty when it is not set (everywhere, Istio's default)."""
    value = config.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unparseable(f"{key} is not a list of texts")
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _outbound_mode(outbound: Mapping[str, Any]) -> str | None:
    """``outboundTrafficPolicy.mode``: its name, or the number protobuf's JSON writes for it (the
    proto's enum: 0 is REGISTRY_ONLY, 1 is ALLOW_ANY)."""
    mode = outbound.get("mode")
    if isinstance(mode, int) and not isinstance(mode, bool):
        if 0 <= mode < len(_OUTBOUND_NUMBERS):
            return _OUTBOUND_NUMBERS[mode]
        raise Unparseable(f"outboundTrafficPolicy.mode is none of {', '.join(OUTBOUND_POLICIES)} "
                          f"(as numbers: 0 is {_OUTBOUND_NUMBERS[0]}, 1 is {_OUTBOUND_NUMBERS[1]})")
    mode = _text(outbound, "mode", "outboundTrafficPolicy.mode")
    if mode is not None and mode not in OUTBOUND_POLICIES:
        raise Unparseable(f"outboundTrafficPolicy.mode is none of {', '.join(OUTBOUND_POLICIES)}")
    return mode


def _extension_providers(config: Mapping[str, Any]) -> dict[str, str]:
    """``extensionProviders``: each one's name and kind (the key of its settings, e.g.
    ``envoyExtAuthzGrpc``; "" when it has none); its settings are never kept."""
    value = config.get("extensionProviders")
    if value is None:
        return {}
    if not isinstance(value, list):
        raise Unparseable("extensionProviders is not a list")
    out: dict[str, str] = {}
    for i, entry in enumerate(value):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name:
            raise Unparseable(f"extensionProviders[{i}] has no name")
        out[name] = next((str(k) for k in entry if k != "name"), "")
    return out


def parse(text: str, *, namespace: str, source: str, revision: str = "") -> MeshConfig:
    """The fields meshdesk uses of a mesh config, Istio's defaults for those it does not set (the root
    namespace defaults to the control plane's own, as in Istio). Raises Unparseable, whose message
    never quotes the config (it may hold secrets): only where it went wrong."""
    try:
        doc = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise Unparseable(f"it is not YAML{where}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise Unparseable("it is not a YAML mapping")
    auto = doc.get("enableAutoMtls")
    if isinstance(auto, str) and auto.lower() in ("true", "false"):  # protobuf's JSON takes these too
        auto = auto.lower() == "true"
    if auto is not None and not isinstance(auto, bool):
        raise Unparseable("enableAutoMtls is not true or false")
    aliases = doc.get("trustDomainAliases")
    if aliases is not None and (not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases)):
        raise Unparseable("trustDomainAliases is not a list of texts")
    outbound = doc.get("outboundTrafficPolicy")
    if outbound is not None and not isinstance(outbound, Mapping):
        raise Unparseable("outboundTrafficPolicy is not a mapping")
    mode = _outbound_mode(outbound or {})
    proxy = doc.get("defaultConfig")
    if proxy is not None and not isinstance(proxy, Mapping):
        raise Unparseable("defaultConfig is not a mapping")
    mesh_id = _text(proxy or {}, "meshId", "defaultConfig.meshId") or ""
    return MeshConfig(mesh_id=mesh_id,default_service_export_to=_export_default(doc, "defaultServiceExportTo"),
                      default_virtual_service_export_to=_export_default(doc, "defaultVirtualServiceExportTo"),
                      default_destination_rule_export_to=_export_default(doc, "defaultDestinationRuleExportTo"),
                      root_namespace=_text(doc, "rootNamespace") or namespace,
                      auto_mtls=True if auto is None else auto,
                      trust_domain=_text(doc, "trustDomain") or DEFAULT_TRUST_DOMAIN,
                      trust_domain_aliases=tuple(dict.fromkeys(a for a in aliases or () if a)),
                      outbound_policy=mode or "ALLOW_ANY", source=source, revision=revision,
                      extension_providers=_extension_providers(doc))
