"""Istio config badges, labels and gateways (``apply``: Kiali's istio finalizer, run after outsiders
are marked) and missing sidecars (``mesh_check``: Kiali's meshCheck appender).

From the inventory, as Kiali decides them:
- a service node inside the requested namespaces that a VirtualService routes to gets
  ``has_virtual_service`` from the first such VirtualService (its hosts in ``extra["vsHosts"]``) and
  the route features it uses: traffic shifting (an HTTP route with several destinations), TCP
  traffic shifting, request routing (any route with a destination), fault injection, mirroring,
  request timeouts. A DestinationRule for the service gives ``has_destination_rule`` (meshdesk's DR
  badge; Kiali has none);
- ``hasCB`` (circuit breaker: a connection pool or outlier detection) on a node inside the requested
  namespaces: on a service node when a DestinationRule for it has one anywhere; on an unversioned
  app node likewise through its destination services; on a node with a version only when the
  DestinationRule has one at the top level or in a subset labelled with that version; never on an
  unversioned workload node;
- a service node inside the requested namespaces without an app takes the app label of its
  Kubernetes Service or of the ServiceEntry it is a host of (for a ServiceEntry's node, the service
  named by a host's first label), so it joins that app's box;
- a workload node, inside the requested namespaces or not, that an Istio Gateway anywhere in the
  cluster selects becomes an ingress or egress gateway (``operator.istio.io/component``
  IngressGateways/EgressGateways), with the Gateway's hosts (``Inventory.outside_gateways`` and
  ``outside_gateway_configs`` hold those outside the selection); so does one Istio runs for a
  Kubernetes Gateway API Gateway (``isGatewayAPI``; an ambient waypoint is one too);
- ``mesh_check``: a workload or app node whose workloads are not all sidecar-injected, not all
  captured by ambient (their pods' ``ambient.istio.io/redirection``) and not all gateways gets
  ``has_missing_sidecar``; one whose workloads are all ambient, or a waypoint, ``isAmbient`` (not for
  istio-system, unreadable namespaces or dead nodes).
Without an inventory it does nothing.
"""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.ambient import ambient_namespaces, is_ambient
from meshdesk.mesh.graph.context import PassContext, inventory_cluster
from meshdesk.mesh.graph.service_entry import listed_hosts
from meshdesk.mesh.graph.trafficmap import TNode, TrafficMap, is_ok, is_ok_version
from meshdesk.mesh.inventory import (
    APP_LABELS,
    GATEWAY_COMPONENTS,
    GATEWAY_NAME_LABEL,
    VERSION_LABELS,
    Inventory,
    IstioObject,
    Workload,
    first_label,
)
from meshdesk.mesh.readers import as_list as _seq  # a hand-edited spec's non-list counts as empty

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
    return [r for r in _seq(spec.get(kind)) if isinstance(r, dict)]


def _vs_features(spec: dict[str, Any]) -> dict[str, bool]:
    http = _routes(spec, "http")
    tcp = _routes(spec, "tcp")

    def destinations(r: dict[str, Any]) -> list[Any]:
        return [d for d in _seq(r.get("route")) if isinstance(d, dict)]

    feats = {
        "hasTrafficShifting": any(len(destinations(r)) > 1 for r in http),
        "hasTCPTrafficShifting": any(len(destinations(r)) > 1 for r in tcp),
        "hasRequestRouting": any(destinations(r) for kind in ("http", "tcp", "tls") for r in _routes(spec, kind)),
        # as Kiali: set when the field is there at all (an empty one too); only ``mirror``, not
        # ``mirrors``, counts as mirroring
        "hasFaultInjection": any(r.get("fault") is not None for r in http),
        "hasMirroring": any(r.get("mirror") is not None for r in http),
        "hasRequestTimeout": any(r.get("timeout") is not None for r in http),
    }
    return feats


def _vs_targets(obj: IstioObject) -> set[tuple[str, str]]:
    spec = obj.spec if isinstance(obj.spec, dict) else {}
    out = set()
    for kind in ("http", "tcp", "tls"):
        for r in _routes(spec, kind):
            for d in _seq(r.get("route")):
                dest = d.get("destination") if isinstance(d, dict) else None
                host = dest.get("host") if isinstance(dest, dict) else None
                if isinstance(host, str):
                    out.add(normalize_host(host, obj.namespace))
    return out


def _cb_policy(policy: Any) -> bool:
    # as Kiali: the field being there is enough, an empty one (``outlierDetection: {}``, which turns on
    # Istio's default ejection) too; only a null counts as unset
    return isinstance(policy, dict) and (policy.get("connectionPool") is not None
                                         or policy.get("outlierDetection") is not None)


def _has_cb(spec: dict[str, Any], version: str = "") -> bool:
    """Whether a DestinationRule breaks circuits for a service (``version`` ""), or for one version of
    it: at the top level, or in a subset (labelled with that version)."""
    if _cb_policy(spec.get("trafficPolicy")):
        return True
    for subset in _seq(spec.get("subsets")):
        if isinstance(subset, dict) and _cb_policy(subset.get("trafficPolicy")):
            if not version or first_label(subset.get("labels"), VERSION_LABELS) == version:
                return True
    return False


def _services_of(n: TNode) -> list[tuple[str, str]]:
    if n.node_type == model.NODE_SERVICE:
        return [(n.namespace, n.service)]
    return [(ns, name) for (_c, ns, name) in n.md.get("destServices", {})]


def _cb_version(n: TNode) -> str | None:
    """The version a node's circuit breakers are looked up for ("" any), or None: none are."""
    if n.node_type == model.NODE_SERVICE or (n.node_type == model.NODE_APP and not is_ok(n.version)):
        return ""
    return n.version if is_ok(n.version) else None


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    """The istio finalizer: badges, app labels and gateways (outsiders are marked by now)."""
    inv = ctx.inventory
    if inv is None or not tm:
        return
    vs_index: dict[tuple[str, str], list[IstioObject]] = {}
    for vs in inv.mesh_config("VirtualService"):  # from the whole cluster, as Kiali
        for target in _vs_targets(vs):
            vs_index.setdefault(target, []).append(vs)
    dr_index: dict[tuple[str, str], list[IstioObject]] = {}
    for dr in inv.mesh_config("DestinationRule"):
        host = dr.spec.get("host") if isinstance(dr.spec, dict) else None
        if isinstance(host, str):
            dr_index.setdefault(normalize_host(host, dr.namespace), []).append(dr)
    ours = inventory_cluster(inv, {n.cluster for n in tm.values()})
    for n in tm.values():
        if n.md.get("isOutside") or not ours(n.cluster):
            continue  # Kiali leaves nodes outside the requested namespaces (and other clusters' config) alone
        if n.node_type == model.NODE_SERVICE:
            key = (n.namespace, n.service)
            for vs in vs_index.get(key, [])[:1]:  # the first VirtualService routing to it, as Kiali
                n.md["hasVS"] = True
                n.md["vsHosts"] = [h for h in _seq(vs.spec.get("hosts")) if isinstance(h, str)]
                for feat, on in _vs_features(vs.spec).items():
                    if on:
                        n.md[feat] = True
            if dr_index.get(key):
                n.md["hasDR"] = True
        version = _cb_version(n)
        if version is not None and any(_has_cb(dr.spec, version) for svc in _services_of(n)
                                       for dr in dr_index.get(svc, [])):
            n.md["hasCB"] = True
    _app_labels(tm, inv)
    _gateways(tm, inv)


def _app_labels(tm: TrafficMap, inv: Inventory) -> None:
    """A service node without an app takes the app label of the service Kiali's cluster-wide service
    list has by its name (Kiali's addLabels): a Kubernetes Service's, or a ServiceEntry host's (the
    entry's labels). A ServiceEntry's node looks up each host's first label in turn; the last one
    with an app wins."""
    services = {(s.namespace, s.name): s.labels for s in inv.services}
    for h in listed_hosts(inv, cluster_wide=True):
        services.setdefault((h.namespace, h.name), h.labels)

    def app_of(namespace: str, name: str) -> str | None:
        labels = services.get((namespace, name))
        return first_label(labels, APP_LABELS) if labels is not None else None

    for n in tm.values():
        if n.node_type != model.NODE_SERVICE or n.app or n.md.get("isEgressCluster") or n.md.get("isOutside"):
            continue
        se = n.md.get("isServiceEntry")
        if se is not None:
            for host in se.hosts:
                parts = host.split(".")
                app = app_of(n.namespace, host if len(parts) == 3 and parts[2] == "global" else parts[0])
                if app:
                    n.app = app  # no break: the last host with an app wins, as in Kiali
        else:
            app = app_of(n.namespace, n.service)
            if app:
                n.app = app


_GATEWAY_INFO = dict(zip(GATEWAY_COMPONENTS, ("ingressInfo", "egressInfo"), strict=True))


def _gateways(tm: TrafficMap, inv: Inventory) -> None:
    """Workload nodes an Istio Gateway selects: ingress or egress gateways, with the Gateway's hosts;
    and those Istio runs for a Kubernetes Gateway API Gateway (in its namespace, by the
    ``gateway.networking.k8s.io/gateway-name`` label), with its listeners' hostnames ("*" without)."""
    ours = inventory_cluster(inv, {n.cluster for n in tm.values()})  # a node of another cluster: not this one's
    nodes = {(n.namespace, n.workload): n for n in tm.values() if is_ok(n.workload) and ours(n.cluster)}
    if not nodes:
        return
    workloads = inv.workloads + inv.outside_gateways
    for gw in inv.istio_objects("Gateway") + inv.outside_gateway_configs:
        spec = gw.spec if isinstance(gw.spec, dict) else {}
        raw = spec.get("selector")
        selector: dict[str, Any] = raw if isinstance(raw, dict) else {}
        hosts = [h for server in _seq(spec.get("servers")) if isinstance(server, dict)
                 for h in _seq(server.get("hosts")) if isinstance(h, str)]
        for w in workloads:
            node = nodes.get((w.namespace, w.name))
            info = _GATEWAY_INFO.get(w.labels.get("operator.istio.io/component", ""))
            if node is None or info is None or any(w.labels.get(k) != v for k, v in selector.items()):
                continue
            node.md["isGateway"] = True
            node.md["gateway"] = {info: {"hostnames": hosts}}  # the last Gateway selecting it, as Kiali
    # the Kubernetes Gateway API: Istio runs a workload per Gateway, labelled with its name
    by_name: dict[tuple[str, str], Workload] = {}
    for w in workloads:
        name = w.labels.get(GATEWAY_NAME_LABEL)
        if name:
            by_name.setdefault((w.namespace, name), w)
    for gw in inv.k8s_gateways:
        runs = by_name.get((gw.namespace, gw.name))
        node = nodes.get((runs.namespace, runs.name)) if runs is not None else None
        if node is None:
            continue
        spec = gw.spec if isinstance(gw.spec, dict) else {}
        hosts = [str(ln["hostname"]) for ln in _seq(spec.get("listeners"))
                 if isinstance(ln, dict) and ln.get("hostname")] or ["*"]
        node.md["isGatewayAPI"] = hosts
        if "gateway" not in node.md:  # an Istio ingress or egress gateway says so first, as in Kiali
            node.md["isGateway"] = True
            node.md["gateway"] = {"gatewayAPIInfo": {"hostnames": hosts}}


def is_gateway(w: Workload) -> bool:
    """Whether a workload is an Istio gateway by Kiali's signs: the istioctl component label, the
    ``istio`` ingress/egress label, gateway injection, or the Gateway API gateway labels (a waypoint
    is not one)."""
    labels = w.labels
    if labels.get("operator.istio.io/component") in GATEWAY_COMPONENTS:
        return True
    if any(labels.get(k) == v for k, v in GATEWAY_LABELS):
        return True
    if any(p.annotations.get("inject.istio.io/templates") == "gateway" for p in w.pods[:1]):
        return True
    return "istio.io/gateway-name" in labels or labels.get("gateway.istio.io/managed") == "istio.io-gateway-controller"


def lacks_proxy(w: Workload, ambient: set[str]) -> bool:
    """Whether nothing on a workload's side reports what comes into it, as ``mesh_check`` judges a node
    of it alone: it has pods and not all run a sidecar, it is no gateway, not captured by ambient's
    ztunnel and no waypoint (``ambient``: the namespaces in ambient mode)."""
    return bool(w.pods) and w.has_sidecar is False and not is_gateway(w) and not is_ambient(w, ambient) \
        and w.namespace not in CONTROL_PLANE_NAMESPACES


def mesh_check(tm: TrafficMap, ctx: PassContext) -> None:
    """The meshCheck appender: a workload or app node is out of the mesh (``hasMissingSC``) when its
    workloads are not all sidecar-injected (a workload without pods counts as injected), not all
    captured by ambient and not all gateways, as Kiali judges it; one whose workloads are all ambient
    (or a waypoint) is ``isAmbient``. Nodes of a cluster the inventory is not from are not judged."""
    inv = ctx.inventory
    if inv is None:
        return
    ambient = ambient_namespaces(inv)
    request = ctx.request
    ours = inventory_cluster(inv, {n.cluster for n in tm.values()})  # another cluster's: not known here
    for n in tm.values():
        if n.node_type not in (model.NODE_WORKLOAD, model.NODE_APP) or n.md.get("isDead") or not ours(n.cluster):
            continue
        if n.namespace in CONTROL_PLANE_NAMESPACES:
            continue
        if not request.is_accessible(n.cluster, n.namespace):
            continue
        if n.node_type == model.NODE_WORKLOAD:
            found = inv.workload(n.namespace, n.workload)
            workloads = [found] if found is not None else []
        else:
            workloads = [w for w in inv.workloads if w.namespace == n.namespace and w.app == n.app
                         and (not is_ok_version(n.version) or w.version == n.version)]
        waypoint = bool(n.md.get("isWaypoint"))
        in_ambient = bool(workloads) and all(is_ambient(w, ambient) for w in workloads)
        if in_ambient or waypoint:
            n.md["isAmbient"] = True
        if waypoint or in_ambient or not workloads:
            continue
        # as Kiali: a workload without pods cannot be shown to lack a sidecar
        if not all(not w.pods or w.has_sidecar is not False for w in workloads) and \
                not all(is_gateway(w) for w in workloads):
            n.md["hasMissingSC"] = True
