"""Which Istio objects concern which graph node and inventory entity, and the validation badge each
gets: ``node_badges(graph, inventory)`` gives ``{node_id: "error" | "warning" | "info"}`` for every
node that an object with findings concerns (nodes without findings are left out).

What "concerns" means: a VirtualService by its ``hosts`` and a DestinationRule by its ``host`` concern
the service (and the ServiceEntry) of that host; a Gateway API route concerns the Services it sends to
(``backendRefs``) and, as a mesh route, those it is attached to (``parentRefs`` of kind Service); a
ServiceEntry concerns the service nodes of its hosts; a Gateway (``selector``), Sidecar (``workloadSelector``) and AuthorizationPolicy,
RequestAuthentication and PeerAuthentication (``selector.matchLabels``) concern the workloads they
select (and those workloads' app nodes); without a selector the last four concern every workload of
their namespace. A Kubernetes Service's own findings concern its node; a workload's own its node and
its app nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from meshdesk.mesh.graph.context import inventory_parts
from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE, NODE_WORKLOAD, Node, TrafficGraph
from meshdesk.mesh.inventory import Inventory, IstioObject, Service, Workload
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _items
from meshdesk.mesh.validations import (
    ERROR,
    INFO,
    SERVICE,
    WARNING,
    WORKLOAD,
    ObjectKey,
    Validation,
    fqdn,
    host_matches,
    validate,
    validation_of,
)

_RANK = {ERROR: 3, WARNING: 2, INFO: 1, "": 0}
_SELECTING = ("Gateway", "Sidecar", "AuthorizationPolicy", "RequestAuthentication", "PeerAuthentication")
_ROUTES = ("K8sHTTPRoute", "K8sGRPCRoute", "K8sTCPRoute", "K8sTLSRoute")  # the Gateway API's routes


def _strs(value: Any) -> list[str]:
    """The text items of a list field (hosts); other items, or a field that is no list, read as none."""
    return [v for v in _items(value) if isinstance(v, str)]


def key_of(obj: IstioObject) -> ObjectKey:
    return (obj.kind, obj.namespace, obj.name)


def object_hosts(obj: IstioObject) -> list[str]:
    """The hosts (fully qualified) an object is about; [] for kinds that select workloads."""
    spec = _d(obj.spec)
    if obj.kind in ("VirtualService", "ServiceEntry"):
        return [fqdn(h, obj.namespace) for h in _strs(spec.get("hosts"))]
    if obj.kind == "DestinationRule":
        host = spec.get("host")
        return [fqdn(host, obj.namespace)] if isinstance(host, str) and host else []
    if obj.kind in _ROUTES:
        return _route_services(obj)
    return []


def _route_services(route: IstioObject) -> list[str]:
    """The hosts of the Services a Gateway API route sends to (``backendRefs``, a core Service by
    default) or, as a mesh route, is attached to (``parentRefs`` of kind Service)."""
    spec = _d(route.spec)
    refs = [(_d(r), "Gateway") for r in _items(spec.get("parentRefs"))]
    refs += [(_d(r), "Service") for rule in _items(spec.get("rules")) for r in _items(_d(rule).get("backendRefs"))]
    out = []
    for ref, default_kind in refs:
        name, namespace = ref.get("name"), ref.get("namespace") or route.namespace
        if ref.get("kind", default_kind) == "Service" and ref.get("group", "") in ("", "core") and \
                isinstance(name, str) and name and "." not in name and isinstance(namespace, str):
            out.append(f"{name}.{namespace}.svc.cluster.local")
    return list(dict.fromkeys(out))


def object_selector(obj: IstioObject) -> dict[str, str] | None:
    """The workload labels an object selects; {} selects its whole namespace; None: not a selecting kind,
    or a policy attached by ``targetRefs`` instead of a selector."""
    spec = _d(obj.spec)
    if obj.kind not in _SELECTING:
        return None
    if obj.kind != "Gateway" and (spec.get("targetRef") or spec.get("targetRefs")):
        return None  # attached to a Gateway or a Service instead: it selects no workload by labels
    if obj.kind == "Gateway":
        raw = spec.get("selector")
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return labels_at(spec, *(("workloadSelector", "labels") if obj.kind == "Sidecar" else ("selector", "matchLabels")))


def labels_at(spec: dict[str, Any], outer: str, inner: str) -> dict[str, str] | None:
    """The labels at ``spec[outer][inner]`` ({} when either is absent: no selector); None when either is
    of another shape (a string, a list: an object Istio refuses), which selects nothing."""
    first = spec.get(outer)
    second = first.get(inner) if isinstance(first, dict) else None
    if (first is not None and not isinstance(first, dict)) or (second is not None and not isinstance(second, dict)):
        return None
    return {str(k): str(v) for k, v in (second or {}).items()}


def selects(obj: IstioObject, workload: Workload) -> bool:
    selector = object_selector(obj)
    if selector is None:
        return False
    if obj.kind == "Gateway":  # Istio finds gateway workloads in any namespace
        return bool(selector) and all(workload.labels.get(k) == v for k, v in selector.items())
    if workload.namespace != obj.namespace:
        return False
    return all(workload.labels.get(k) == v for k, v in selector.items())


def objects_for_service(inventory: Inventory, service: Service) -> list[IstioObject]:
    """Objects about a Kubernetes service, as for its graph node (``objects_for_host``)."""
    return objects_for_host(inventory, f"{service.name}.{service.namespace}.svc.cluster.local")


def objects_for_host(inventory: Inventory, host: str) -> list[IstioObject]:
    """Objects about ``host``. A bare ``*`` host (a VirtualService bound to a gateway for any host name)
    is about no service in particular, so it concerns none."""
    return [o for o in inventory.istio
            if any(h != "*" and (host_matches(h, host) or host_matches(host, h)) for h in object_hosts(o))]


def objects_for_workload(inventory: Inventory, workload: Workload) -> list[IstioObject]:
    return [o for o in inventory.istio if selects(o, workload)]


class ConfigIndex:
    """One inventory's Istio objects, looked up by host and by the workloads they select, with each
    object's hosts and selector read once: a list of 5,000 workloads and services asks 10,000 such
    questions, and asking ``inventory.istio`` each time is quadratic (seconds of a stalled window).
    Answers are those of ``objects_for_host`` and ``objects_for_workload``, in the inventory's order."""

    def __init__(self, inventory: Inventory) -> None:
        self.objects = list(inventory.istio)
        self._hosts = [[h for h in object_hosts(o) if h != "*"] for o in self.objects]
        self._exact: dict[str, list[int]] = {}
        self._wildcards: list[tuple[str, int]] = []  # (".suffix" of a "*.suffix" host, object)
        for i, hosts in enumerate(self._hosts):
            for h in hosts:
                if h.startswith("*."):
                    self._wildcards.append((h[1:], i))
                else:
                    self._exact.setdefault(h, []).append(i)
        self._gateways: list[tuple[int, dict[str, str]]] = []  # Gateways select in every namespace
        self._selecting: dict[str, list[tuple[int, dict[str, str]]]] = {}
        for i, o in enumerate(self.objects):
            selector = object_selector(o)
            if selector is None:
                continue
            if o.kind == "Gateway":
                if selector:
                    self._gateways.append((i, selector))
            else:
                self._selecting.setdefault(o.namespace, []).append((i, selector))
        self.app_workloads: dict[tuple[str, str], list[Workload]] = {}  # (namespace, app) -> its workloads
        for w in inventory.workloads:
            self.app_workloads.setdefault((w.namespace, w.app), []).append(w)

    def for_host(self, host: str) -> list[IstioObject]:
        if host == "*" or host.startswith("*."):  # a wildcard asked about: rare, asked of every object
            return [o for o, hosts in zip(self.objects, self._hosts, strict=True)
                    if any(host_matches(h, host) or host_matches(host, h) for h in hosts)]
        found = set(self._exact.get(host, ()))
        found.update(i for suffix, i in self._wildcards if host.endswith(suffix))
        return [self.objects[i] for i in sorted(found)]

    def for_service(self, service: Service) -> list[IstioObject]:
        return self.for_host(f"{service.name}.{service.namespace}.svc.cluster.local")

    def for_workload(self, workload: Workload) -> list[IstioObject]:
        labels = workload.labels
        found = [i for i, selector in (*self._gateways, *self._selecting.get(workload.namespace, ()))
                 if all(labels.get(k) == v for k, v in selector.items())]
        return [self.objects[i] for i in sorted(found)]


def node_objects(graph: TrafficGraph, inventory: Inventory,
                 index: ConfigIndex | None = None) -> dict[str, list[ObjectKey]]:
    """node id -> keys of the Istio objects that concern the node (``index``: the inventory's, when
    the caller has one). A node is looked up among its own cluster's objects (``inventory_parts``: an
    inventory merged from several clusters holds each one's); a node of a cluster the inventory holds
    nothing of (another cluster's, which a shared Prometheus shows) has none."""
    out: dict[str, list[ObjectKey]] = {}
    for part, nodes in inventory_parts(inventory, graph.nodes.values()):
        out.update(_node_objects(nodes, part, index if index is not None and part is inventory
                                 else ConfigIndex(part)))
    return {nid: out[nid] for nid in graph.nodes if nid in out}  # in the graph's order


def _node_objects(nodes: Iterable[Node], inventory: Inventory, index: ConfigIndex) -> dict[str, list[ObjectKey]]:
    out: dict[str, list[ObjectKey]] = {}
    workloads = {(w.namespace, w.name): w for w in inventory.workloads}
    service_names = {(s.namespace, s.name) for s in inventory.services}
    for node in nodes:
        nid = node.id
        found: list[IstioObject] = []
        if node.node_type == NODE_SERVICE:
            hosts = [f"{node.service}.{node.namespace}.svc.cluster.local", node.service]
            if node.is_service_entry is not None:
                hosts += list(node.is_service_entry.hosts)
            seen: set[ObjectKey] = set()
            for h in hosts:
                for o in index.for_host(h):
                    if key_of(o) not in seen:
                        seen.add(key_of(o))
                        found.append(o)
            if node.is_service_entry is not None and node.is_service_entry.name:
                se = (("ServiceEntry", node.is_service_entry.namespace or node.namespace, node.is_service_entry.name))
                found += [o for o in inventory.istio if key_of(o) == se and key_of(o) not in seen]
        elif node.node_type == NODE_WORKLOAD:
            w = workloads.get((node.namespace, node.workload))
            if w is not None:
                found = index.for_workload(w)
        elif node.node_type == NODE_APP:
            members = [w for w in index.app_workloads.get((node.namespace, node.app), [])
                       if w.runs_version(node.version)]
            keys: dict[ObjectKey, IstioObject] = {}
            for w in members:
                for o in index.for_workload(w):
                    keys.setdefault(key_of(o), o)
            found = list(keys.values())
        concern = [key_of(o) for o in found]
        if node.node_type == NODE_APP:
            concern += [(WORKLOAD, w.namespace, w.name) for w in members]  # its workloads' own findings
        if node.node_type == NODE_SERVICE and node.is_service_entry is None and \
                (node.namespace, node.service) in service_names:
            concern.append((SERVICE, node.namespace, node.service))  # the Kubernetes Service's own findings
        if node.node_type == NODE_WORKLOAD and (node.namespace, node.workload) in workloads:
            concern.append((WORKLOAD, node.namespace, node.workload))  # the workload's own findings
        if concern:
            out[nid] = concern
    return out


def worst(severities: Iterable[str]) -> str:
    best = ""
    for s in severities:
        if _RANK.get(s, 0) > _RANK[best]:
            best = s
    return best


def counts(validations: Mapping[ObjectKey, Validation], keys: Iterable[ObjectKey],
           subjects: set[str] | None = None, cluster: str = "") -> tuple[int, int]:
    """(errors, warnings) over the findings of ``keys``. With ``subjects`` ("namespace/workload" names
    of whom it is asked), a finding that names the workloads it is about counts only if it names one
    of them (a namespace-wide policy's finding about one workload is not every workload's). With
    ``cluster``, of validations of several clusters: the findings of that cluster's objects."""
    errors = warnings = 0
    for k in keys:
        v = validation_of(validations, k, cluster)
        if v is None:
            continue
        for c in v.checks:
            if subjects is not None and c.subjects and subjects.isdisjoint(c.subjects):
                continue
            errors += c.severity == ERROR
            warnings += c.severity == WARNING
    return errors, warnings


def badge_text(errors: int, warnings: int) -> str:
    """"2 errors, 1 warning", "1 warning", "ok": both counts, as Kiali's validation summary gives them
    (the warnings of an object with an error are not left out)."""
    said = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in ((errors, "error"), (warnings, "warning")) if n]
    return ", ".join(said) or "ok"


def node_badges(graph: TrafficGraph, inventory: Inventory | None,
                validations: Mapping[ObjectKey, Validation] | None = None) -> dict[str, str]:
    """``{node_id: worst severity}`` of the findings on the objects concerning each node; nodes with
    nothing to say are left out. ``validations`` defaults to ``validate(inventory)``."""
    if inventory is None:
        return {}
    if validations is None:
        validations = validate(inventory)
    out: dict[str, str] = {}
    index = ConfigIndex(inventory)
    for nid, keys in node_objects(graph, inventory, index).items():
        node = graph.nodes[nid]
        names = _subject_names(node, index)
        found = [v for k in keys if (v := validation_of(validations, k, node.cluster)) is not None]
        sev = worst(c.severity for v in found for c in v.checks if not c.subjects or names.intersection(c.subjects))
        if sev:
            out[nid] = sev
    return out


def _subject_names(node: Any, index: ConfigIndex) -> set[str]:
    """"namespace/workload" names a node stands for (its workload, or an app's workloads)."""
    if node.node_type == NODE_WORKLOAD:
        return {f"{node.namespace}/{node.workload}"}
    if node.node_type == NODE_APP:
        return {f"{w.namespace}/{w.name}" for w in index.app_workloads.get((node.namespace, node.app), [])
                if w.runs_version(node.version)}
    return set()


VALIDATION_EXTRA = "validation"


def annotate(graph: TrafficGraph, badges: Mapping[str, str]) -> None:
    """Write each badge into ``node.extra["validation"]`` (and drop stale ones), for a canvas that
    draws from the node alone."""
    for nid, node in graph.nodes.items():
        sev = badges.get(nid)
        if sev:
            node.extra[VALIDATION_EXTRA] = sev
        else:
            node.extra.pop(VALIDATION_EXTRA, None)


# -- the Istio config that applies to one workload -------------------------------------------------------

SELECTS_IT, WHOLE_NAMESPACE, WHOLE_MESH, ITS_GATEWAY = "selects it", "its whole namespace", "the whole mesh", \
    "the Gateway it runs"
# the kinds that apply to workloads by a selector of their labels (an empty one: every workload of its
# namespace, or from the mesh's root namespace of the mesh), where the selector is
_APPLYING_SELECTOR = {"AuthorizationPolicy": ("selector", "matchLabels"),
                      "RequestAuthentication": ("selector", "matchLabels"),
                      "PeerAuthentication": ("selector", "matchLabels"),
                      "Telemetry": ("selector", "matchLabels"), "WasmPlugin": ("selector", "matchLabels"),
                      "EnvoyFilter": ("workloadSelector", "labels"), "Sidecar": ("workloadSelector", "labels")}
_ORDER = ("K8sGateway", "Gateway", "Sidecar", "PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication",
          "EnvoyFilter", "Telemetry", "WasmPlugin")


def _applying_selector(obj: IstioObject) -> dict[str, str] | None:
    """The labels ``obj`` selects workloads by ({}: all of its namespace); None when it selects none
    that way: another kind, or a policy attached by ``targetRefs`` (to a Gateway or a Service) instead."""
    path = _APPLYING_SELECTOR.get(obj.kind)
    spec = _d(obj.spec)
    if path is None or spec.get("targetRef") or spec.get("targetRefs"):
        return None
    return labels_at(spec, *path)  # (a selector of another shape selects nothing, not the whole namespace)


def applies_how(obj: IstioObject, workload: Workload, root: str) -> str:
    """How ``obj`` applies to ``workload`` by its selector (``SELECTS_IT``, ``WHOLE_NAMESPACE``,
    ``WHOLE_MESH``), "" when it does not; which of several Sidecars is in effect is not weighed here
    (``sidecar_in_effect``)."""
    if obj.kind == "Gateway":
        return SELECTS_IT if selects(obj, workload) else ""
    selector = _applying_selector(obj)
    ns = workload.namespace
    if selector is None or obj.namespace not in (ns, root):
        return ""
    if obj.namespace != ns and obj.kind == "Sidecar" and selector:
        return ""  # a root namespace Sidecar's selector is not mesh-wide
    if not all(workload.labels.get(k) == v for k, v in selector.items()):
        return ""
    return SELECTS_IT if selector else WHOLE_NAMESPACE if obj.namespace == ns else WHOLE_MESH


_SCOPES = (SELECTS_IT, WHOLE_NAMESPACE, WHOLE_MESH)  # narrowest first: the Sidecar in effect is the narrowest


def sidecar_in_effect(applying: Iterable[tuple[IstioObject, str]]) -> list[tuple[IstioObject, str]]:
    """Of the Sidecars that apply to one workload (with how), those in effect: the ones that select it,
    else its namespace's, else the root namespace's, as Istio picks them."""
    by_scope: dict[str, list[tuple[IstioObject, str]]] = {}
    for obj, how in applying:
        by_scope.setdefault(how, []).append((obj, how))
    return next((by_scope[how] for how in _SCOPES if by_scope.get(how)), [])


def config_for_workload(inventory: Inventory, workload: Workload) -> list[tuple[IstioObject, str]]:
    """The Istio config that applies to ``workload`` and how (``SELECTS_IT``, ``WHOLE_NAMESPACE``,
    ``WHOLE_MESH``, ``ITS_GATEWAY``), as Kiali's workload page lists it (objects of its namespace whose
    selector matches its labels, an empty selector matching all), and further: the mesh-wide objects of
    the root namespace (when read), Istio Gateways of any namespace that select it (Istio finds gateway
    pods anywhere), the Gateway API Gateway it is the workload of, and, of the Sidecars, only the one in
    effect (one that selects it, else its namespace's, else the root namespace's), as Istio picks it."""
    root = inventory.mesh_settings.root_namespace
    ns = workload.namespace
    found: list[tuple[IstioObject, str]] = []
    sidecars: list[tuple[IstioObject, str]] = []
    seen: set[ObjectKey] = set()
    for obj in [*inventory.istio, *inventory.outside_config, *inventory.outside_gateway_configs]:
        if key_of(obj) in seen:
            continue
        seen.add(key_of(obj))
        how = applies_how(obj, workload, root)
        if how:
            (sidecars if obj.kind == "Sidecar" else found).append((obj, how))
    found += sidecar_in_effect(sidecars)
    gateway_name = workload.labels.get("gateway.networking.k8s.io/gateway-name")
    if gateway_name:
        found += [(g, ITS_GATEWAY) for g in inventory.k8s_gateways if g.namespace == ns and g.name == gateway_name]
    rank = {kind: i for i, kind in enumerate(_ORDER)}
    return sorted(found, key=lambda f: (rank.get(f[0].kind, len(rank)), f[0].namespace != ns, f[0].namespace,
                                        f[0].name))
