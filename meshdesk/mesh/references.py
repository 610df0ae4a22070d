"""What one Istio object refers to and is referred to by, as Kiali's Istio config page lists its
references: the workloads it applies to, the Services it is about or sends to, and the other Istio
objects tied to it (a VirtualService's Gateways and the DestinationRules of its hosts, the
VirtualServices that bind a Gateway...). Qt-free; ``references(inventory, obj)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.graph.context import inventory_part, merged
from meshdesk.mesh.inventory import GATEWAY_NAME_LABEL, Inventory, IstioObject, Service, Workload
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _l
from meshdesk.mesh.validation_badges import (
    ITS_GATEWAY,
    SELECTS_IT,
    _applying_selector,
    applies_how,
    key_of,
    object_hosts,
    sidecar_in_effect,
)
from meshdesk.mesh.validations import ObjectKey, fqdn, host_matches

# why another object is listed
BINDS_IT = "binds it"  # a VirtualService naming a Gateway
BOUND_TO = "its gateway"  # the Gateway a VirtualService names
SAME_HOST = "for the same host"  # a VirtualService's DestinationRule, or the other way round
ROUTES_TO = "routes to its host"  # a VirtualService sending to a DestinationRule's or ServiceEntry's host
ITS_PARENT = "its parent"  # a Gateway API route's Gateway
ATTACHED = "attached to it"  # a Gateway API route of a Gateway
EGRESS_HOST = "an egress host"  # what a Sidecar's egress listener imports by name (and the Sidecar, from it)
POLICY_HOST = "a host its rules name"  # what an AuthorizationPolicy's to.operation.hosts name (and the policy)

_HTTP_LIKE = ("http", "tcp", "tls")


@dataclass
class References:
    workloads: list[tuple[Workload, str]] = field(default_factory=list)  # (workload, how it applies)
    services: list[tuple[Service, str]] = field(default_factory=list)  # (service, why)
    objects: list[tuple[IstioObject, str]] = field(default_factory=list)  # (object, why)
    hosts: list[str] = field(default_factory=list)  # hosts it is about that name no Service or ServiceEntry

    def __bool__(self) -> bool:
        return bool(self.workloads or self.services or self.objects or self.hosts)


def _strs(value: Any) -> list[str]:
    return [v for v in _l(value) if isinstance(v, str) and v]


def _destinations(vs: IstioObject) -> list[str]:
    """The hosts a VirtualService's routes (and mirrors) send to, fully qualified, in order."""
    spec = _d(vs.spec)
    out: list[str] = []
    for section in _HTTP_LIKE:
        for route in _l(spec.get(section)):
            route = _d(route)
            for dest in _l(route.get("route")):
                host = _d(_d(dest).get("destination")).get("host")
                if isinstance(host, str) and host:
                    out.append(fqdn(host, vs.namespace))
            for mirror in (route.get("mirror"), *(_d(m).get("destination") for m in _l(route.get("mirrors")))):
                host = _d(mirror).get("host")
                if isinstance(host, str) and host:
                    out.append(fqdn(host, vs.namespace))
    return list(dict.fromkeys(out))


def _gateway_names(vs: IstioObject) -> list[tuple[str, str]]:
    """(namespace, name) of the Gateways a VirtualService (or one of its HTTP routes) binds; "mesh" left out."""
    spec = _d(vs.spec)
    names = _strs(spec.get("gateways"))
    for section in _HTTP_LIKE:
        for route in _l(spec.get(section)):
            for m in _l(_d(route).get("match")):
                names += _strs(_d(m).get("gateways"))
    out = []
    for n in dict.fromkeys(names):
        if n == "mesh":
            continue
        ns, _, name = n.rpartition("/")
        out.append((ns or vs.namespace, name))
    return out


def bound_gateways(vs: IstioObject) -> list[tuple[str, str]]:
    """(namespace, name) of the Gateways a VirtualService binds (for it or one of its routes)."""
    return _gateway_names(vs)


def route_destinations(vs: IstioObject) -> list[str]:
    """The hosts (fully qualified) a VirtualService's routes and mirrors send to."""
    return _destinations(vs)


def route_parents(route: IstioObject) -> list[tuple[str, str]]:
    """(namespace, name) of the Gateways a Gateway API route is attached to (``parentRefs`` of kind Gateway)."""
    out = []
    for r in _l(_d(route.spec).get("parentRefs")):
        ref = _d(r)
        name, namespace = ref.get("name"), ref.get("namespace") or route.namespace
        if ref.get("kind", "Gateway") == "Gateway" and isinstance(name, str) and name and isinstance(namespace, str):
            out.append((namespace, name))
    return list(dict.fromkeys(out))


def _about(obj: IstioObject) -> list[str]:
    """The hosts (fully qualified) an object is about. A VirtualService bound to gateways only is about
    none of its ``hosts``: they name what its gateways serve ("*", "shop.example.com"), not the mesh's
    Services, which are what its routes send to (as Kiali lists its service references)."""
    if obj.kind == "VirtualService":
        gateways = _strs(_d(obj.spec).get("gateways"))
        if gateways and "mesh" not in gateways:
            return []
    return object_hosts(obj)


def _matches(patterns: Iterable[str], hosts: Iterable[str]) -> bool:
    hosts = list(hosts)
    return any(host_matches(p, h) or host_matches(h, p) for p in patterns for h in hosts)


def _egress_hosts(sidecar: IstioObject) -> list[tuple[str, str]]:
    """(namespace, fully qualified host) a Sidecar's egress listeners import by name, as Kiali reads them:
    ``ns/host`` with a namespace named (not ``*``, ``~`` or ``.``) and a host that is no wildcard."""
    out = []
    for listener in _l(_d(sidecar.spec).get("egress")):
        for h in _strs(_d(listener).get("hosts")):
            ns, sep, host = h.partition("/")
            if not sep or ns in ("*", "~", ".", "") or not host or "*" in host:
                continue
            out.append((ns, fqdn(host, ns)))
    return list(dict.fromkeys(out))


def _policy_hosts(policy: IstioObject) -> list[str]:
    """The hosts, fully qualified, an AuthorizationPolicy's rules name (``to.operation.hosts``), wildcards
    left out, as Kiali reads them."""
    out = []
    for rule in _l(_d(policy.spec).get("rules")):
        for to in _l(_d(rule).get("to")):
            for h in _strs(_d(_d(to).get("operation")).get("hosts")):
                if "*" not in h:
                    out.append(fqdn(h, policy.namespace))
    return list(dict.fromkeys(out))


def _all_objects(inv: Inventory) -> list[IstioObject]:
    seen: set[ObjectKey] = set()
    out = []
    for o in [*inv.istio, *inv.outside_config, *inv.outside_gateway_configs, *inv.k8s_gateways]:
        if key_of(o) not in seen:
            seen.add(key_of(o))
            out.append(o)
    return out


def _workloads(inv: Inventory, obj: IstioObject) -> list[tuple[Workload, str]]:
    """The workloads ``obj`` applies to; a Sidecar only where it is the one in effect."""
    root = inv.mesh_settings.root_namespace
    candidates = [*inv.workloads, *(inv.outside_gateways if obj.kind == "Gateway" else ())]
    if obj.kind == "K8sGateway":
        return [(w, ITS_GATEWAY) for w in [*inv.workloads, *inv.outside_gateways]
                if w.namespace == obj.namespace and w.labels.get(GATEWAY_NAME_LABEL) == obj.name]
    if obj.kind == "ServiceEntry":  # a workloadSelector: the pods that serve its hosts
        selector = {str(k): str(v) for k, v in _d(_d(_d(obj.spec).get("workloadSelector")).get("labels")).items()}
        return [(w, SELECTS_IT) for w in candidates if selector and w.namespace == obj.namespace
                and all(w.labels.get(k) == v for k, v in selector.items())]
    out = []
    # a workload's rival Sidecars: its namespace's and the root's namespace-wide ones, and those of its
    # namespace selecting one of its labels (indexed by one label of their selector: with a Sidecar per
    # workload, trying each against each workload took minutes)
    wide: dict[str, list[IstioObject]] = {}
    selecting: dict[tuple[str, str, str], list[IstioObject]] = {}
    for o in _all_objects(inv) if obj.kind == "Sidecar" else ():
        picks = _applying_selector(o) if o.kind == "Sidecar" else None
        if picks == {}:
            wide.setdefault(o.namespace, []).append(o)
        elif picks:
            k, v = next(iter(picks.items()))
            selecting.setdefault((o.namespace, k, v), []).append(o)
    for w in candidates:
        how = applies_how(obj, w, root)
        if not how:
            continue
        if obj.kind == "Sidecar":
            near = [*wide.get(w.namespace, []), *(wide.get(root, []) if root != w.namespace else []),
                    *(s for k, v in w.labels.items() for s in selecting.get((w.namespace, k, v), []))]
            rivals = [(s, h) for s in near for h in (applies_how(s, w, root),) if h]
            if all(key_of(s) != key_of(obj) for s, _h in sidecar_in_effect(rivals)):
                continue  # another Sidecar is in effect for it
        out.append((w, how))
    return out


def references(inv: Inventory, obj: IstioObject) -> References:
    """What ``obj`` refers to and what refers to it, as far as the inventory knows; of an inventory
    merged from several clusters, among its own cluster's objects (as Kiali lists an object's
    references in its cluster: a DestinationRule of one cluster is not about the other's Services)."""
    if merged(inv):
        inv = inventory_part(inv, ())(obj.cluster or inv.cluster) or inv
    out = References(workloads=_workloads(inv, obj))
    others = [o for o in _all_objects(inv) if key_of(o) != key_of(obj)]
    hosts = _about(obj) if obj.kind in ("VirtualService", "DestinationRule", "ServiceEntry") else []
    if obj.kind in ("K8sHTTPRoute", "K8sGRPCRoute", "K8sTCPRoute", "K8sTLSRoute"):
        hosts = object_hosts(obj)
    sends = _destinations(obj) if obj.kind == "VirtualService" else []
    for s in inv.services:
        name = f"{s.name}.{s.namespace}.svc.cluster.local"
        if _matches(hosts, [name]):
            out.services.append((s, "its host" if obj.kind != "ServiceEntry" else "same host"))
        elif name in sends:
            out.services.append((s, "routes to it"))
    known = {f"{s.name}.{s.namespace}.svc.cluster.local" for s in inv.services}
    entries = [h for o in others if o.kind == "ServiceEntry" for h in object_hosts(o)]
    out.hosts = [h for h in dict.fromkeys([*hosts, *sends]) if obj.kind != "ServiceEntry" and "*" not in h
                 and h not in known and not _matches(entries, [h])]
    if obj.kind == "VirtualService":
        gateways = set(_gateway_names(obj))
        for o in others:
            if o.kind == "Gateway" and (o.namespace, o.name) in gateways:
                out.objects.append((o, BOUND_TO))
            elif o.kind == "DestinationRule" and _matches(object_hosts(o), [*hosts, *sends]):
                out.objects.append((o, SAME_HOST if _matches(object_hosts(o), hosts) else ROUTES_TO))
            elif o.kind == "ServiceEntry" and _matches(object_hosts(o), [*hosts, *sends]):
                out.objects.append((o, SAME_HOST if _matches(object_hosts(o), hosts) else ROUTES_TO))
    elif obj.kind in ("DestinationRule", "ServiceEntry"):
        if obj.kind == "ServiceEntry":
            # as Kiali: the Sidecars importing one of its hosts from its namespace, the policies naming one
            mine = set(object_hosts(obj))
            for o in others:
                if o.kind == "Sidecar" and any(ns == obj.namespace and h in mine for ns, h in _egress_hosts(o)):
                    out.objects.append((o, EGRESS_HOST))
                elif o.kind == "AuthorizationPolicy" and mine.intersection(_policy_hosts(o)):
                    out.objects.append((o, POLICY_HOST))
        for o in others:
            if o.kind == "VirtualService":
                if _matches(_about(o), hosts):
                    out.objects.append((o, SAME_HOST))
                elif _matches(_destinations(o), hosts):
                    out.objects.append((o, ROUTES_TO))
            elif o.kind in ("DestinationRule", "ServiceEntry") and o.kind != obj.kind and \
                    _matches(object_hosts(o), hosts):
                out.objects.append((o, SAME_HOST))
    elif obj.kind in ("Sidecar", "AuthorizationPolicy"):
        # as Kiali: the ServiceEntries of the hosts it names (a policy's VirtualServices too), else the
        # Services of those hosts
        named = [(ns, h) for ns, h in _egress_hosts(obj)] if obj.kind == "Sidecar" else \
            [(None, h) for h in _policy_hosts(obj)]
        why = EGRESS_HOST if obj.kind == "Sidecar" else POLICY_HOST
        by_name = {f"{s.name}.{s.namespace}.svc.cluster.local": s for s in inv.services}
        for ns, host in named:
            found = [o for o in others if o.kind == "ServiceEntry" and (ns is None or o.namespace == ns)
                     and host in object_hosts(o)]
            if obj.kind == "AuthorizationPolicy":
                found += [o for o in others if o.kind == "VirtualService" and host in object_hosts(o)]
            for o in found:
                if all(o is not seen for seen, _why in out.objects):
                    out.objects.append((o, why))
            service = by_name.get(host)
            if not found and service is not None and all(service is not seen for seen, _why in out.services):
                out.services.append((service, why))
    elif obj.kind == "Gateway":
        out.objects += [(o, BINDS_IT) for o in others if o.kind == "VirtualService"
                        and (obj.namespace, obj.name) in _gateway_names(o)]
    elif obj.kind == "K8sGateway":
        for o in others:
            refs = [_d(r) for r in _l(_d(o.spec).get("parentRefs"))]
            if o.kind.startswith("K8s") and o.kind.endswith("Route") and any(
                    r.get("kind", "Gateway") == "Gateway" and r.get("name") == obj.name
                    and (r.get("namespace") or o.namespace) == obj.namespace for r in refs):
                out.objects.append((o, ATTACHED))
    elif obj.kind.startswith("K8s") and obj.kind.endswith("Route"):
        refs = [_d(r) for r in _l(_d(obj.spec).get("parentRefs"))]
        for o in others:
            if o.kind == "K8sGateway" and any(r.get("kind", "Gateway") == "Gateway" and r.get("name") == o.name
                                              and (r.get("namespace") or obj.namespace) == o.namespace
                                              for r in refs):
                out.objects.append((o, ITS_PARENT))
    return out
