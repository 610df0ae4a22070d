"""Appender: Istio config badges and missing sidecars (Kiali's istio and meshCheck appenders).

From the inventory:
- service nodes (and app/workload nodes through their destination services) routed by a
  VirtualService get ``has_virtual_service`` (its hosts in ``extra["vsHosts"]``) and the route
  features it uses: traffic shifting (weighted HTTP routes), TCP traffic shifting, request routing
  (matches), fault injection, mirroring, request timeouts;
- a DestinationRule for the service gives ``has_destination_rule``; one with a connection pool or
  outlier detection gives ``hasCB`` (circuit breaker);
- workload/app nodes whose workloads run without a sidecar, are not gateways and are not in an
  ambient namespace get ``has_missing_sidecar`` (not for istio-system, outsiders or dead nodes).
Without an inventory it does nothing.
"""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.ambient import ambient_namespaces
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.trafficmap import TNode, TrafficMap, is_ok, is_ok_version
from meshdesk.mesh.inventory import Inventory, IstioObject, Workload

CONTROL_PLANE_NAMESPACES = frozenset({"istio-system"})
GATEWAY_LABELS = (("istio", "ingressgateway"), ("istio", "egressgateway"))


def normalize_host(host: str, namespace: str) -> tuple[str, str]:
    """(namespace, service) a route host names; external hosts give ("", host)."""
    parts = host.split(".")
    if len(parts) == 1:
        return namespace, parts[0]
    if len(parts) == 2 or parts[2] == "svc":
        return parts[1], parts[0]
    return "", host


def _routes(spec: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in spec.get(kind) or [] if isinstance(r, dict)]


def _vs_features(spec: dict[str, Any]) -> dict[str, bool]:
    http = _routes(spec, "http")
    tcp = _routes(spec, "tcp")
    feats = {
        "hasTrafficShifting": any(len([d for d in r.get("route") or [] if isinstance(d, dict)]) > 1 for r in http),
        "hasTCPTrafficShifting": any(len([d for d in r.get("route") or [] if isinstance(d, dict)]) > 1 for r in tcp),
        "hasRequestRouting": any(r.get("match") for r in http) or len(http) > 1,
        "hasFaultInjection": any(r.get("fault") for r in http),
        "hasMirroring": any(r.get("mirror") or r.get("mirrors") for r in http),
        "hasRequestTimeout": any(r.get("timeout") for r in http),
    }
    return feats


def _vs_targets(obj: IstioObject) -> set[tuple[str, str]]:
    spec = obj.spec if isinstance(obj.spec, dict) else {}
    out = set()
    for kind in ("http", "tcp", "tls"):
        for r in _routes(spec, kind):
            for d in r.get("route") or []:
                host = (d.get("destination") or {}).get("host") if isinstance(d, dict) else None
                if isinstance(host, str):
                    out.add(normalize_host(host, obj.namespace))
    return out


def _has_cb(spec: dict[str, Any]) -> bool:
    def policy(p: Any) -> bool:
        return isinstance(p, dict) and bool(p.get("connectionPool") or p.get("outlierDetection"))

    return policy(spec.get("trafficPolicy")) or any(
        isinstance(s, dict) and policy(s.get("trafficPolicy")) for s in spec.get("subsets") or [])


def _services_of(n: TNode) -> list[tuple[str, str]]:
    if n.node_type == model.NODE_SERVICE:
        return [(n.namespace, n.service)]
    return [(ns, name) for (_c, ns, name) in n.md.get("destServices", {})]


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    inv = ctx.inventory
    if inv is None or not tm:
        return
    vs_index: dict[tuple[str, str], list[IstioObject]] = {}
    for vs in inv.istio_objects("VirtualService"):
        for target in _vs_targets(vs):
            vs_index.setdefault(target, []).append(vs)
    dr_index: dict[tuple[str, str], list[IstioObject]] = {}
    for dr in inv.istio_objects("DestinationRule"):
        host = dr.spec.get("host") if isinstance(dr.spec, dict) else None
        if isinstance(host, str):
            dr_index.setdefault(normalize_host(host, dr.namespace), []).append(dr)
    requested = set(ctx.namespaces)
    for n in tm.values():
        if n.namespace not in requested:
            continue
        if n.node_type == model.NODE_SERVICE or (n.node_type == model.NODE_APP and not is_ok_version(n.version)):
            for svc in _services_of(n):
                for vs in vs_index.get(svc, []):
                    n.md["hasVS"] = True
                    hosts = [h for h in vs.spec.get("hosts") or [] if isinstance(h, str)]
                    n.md["vsHosts"] = sorted(set(n.md.get("vsHosts", [])) | set(hosts))
                    for feat, on in _vs_features(vs.spec).items():
                        if on:
                            n.md[feat] = True
        for svc in _services_of(n):
            for dr in dr_index.get(svc, []):
                if n.node_type == model.NODE_SERVICE:
                    n.md["hasDR"] = True
                if _has_cb(dr.spec):
                    n.md["hasCB"] = True
    _mesh_check(tm, inv, ctx)


def _is_gateway(w: Workload) -> bool:
    return any(w.labels.get(k) == v for k, v in GATEWAY_LABELS) or "gateway.networking.k8s.io/gateway-name" in w.labels


def _mesh_check(tm: TrafficMap, inv: Inventory, ctx: PassContext) -> None:
    ambient = ambient_namespaces(inv)
    accessible = ctx.request.accessibleNamespaces
    for n in tm.values():
        if n.node_type not in (model.NODE_WORKLOAD, model.NODE_APP) or n.md.get("isDead"):
            continue
        if n.namespace in CONTROL_PLANE_NAMESPACES or n.namespace in ambient:
            continue
        if accessible is not None and n.namespace not in accessible:
            continue
        if n.node_type == model.NODE_WORKLOAD:
            found = inv.workload(n.namespace, n.workload)
            workloads = [found] if found is not None else []
        else:
            workloads = [w for w in inv.workloads if w.namespace == n.namespace and w.app == n.app
                         and (not is_ok_version(n.version) or w.version == n.version)]
            if is_ok(n.workload):
                workloads = [w for w in workloads if w.name == n.workload] or workloads
        if not workloads:
            continue
        if all(w.has_sidecar is False and not _is_gateway(w) for w in workloads):
            n.md["hasMissingSC"] = True
