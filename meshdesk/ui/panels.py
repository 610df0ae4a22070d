"""The side panel for the selection: Workload, App, Service, ServiceEntry, Operation, Edge, or (with
nothing selected) a summary of the namespaces. Facts come from the TrafficGraph and the Inventory of
the last snapshot; the panel never fetches anything itself."""

from __future__ import annotations

import heapq
import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

from PySide6.QtCore import QUrl, Signal, Slot
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from meshdesk.mesh.ambient_checks import waypoint_serves
from meshdesk.mesh.graph.ambient import ambient_namespaces, is_ambient, is_waypoint
from meshdesk.mesh.graph.context import inventory_lookup, inventory_part, merged
from meshdesk.mesh.graph.health import (
    ANNOTATION,
    configured_tolerances,
    counted_outside_gateway,
    parse_annotation,
    workload_status,
)
from meshdesk.mesh.graph.istio import CONTROL_PLANE_NAMESPACES, control_plane_namespaces, is_gateway
from meshdesk.mesh.graph.model import (
    BOX_APP,
    BOX_CLUSTER,
    BOX_NAMESPACE,
    DEGRADED,
    FAILURE,
    HEALTHY,
    NO_HEALTH,
    NO_HEALTH_TEXT,
    NODE_AGGREGATE,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_UNKNOWN,
    NODE_WORKLOAD,
    NOT_READY,
    UNKNOWN,
    Edge,
    Health,
    Node,
    TrafficGraph,
    health_text,
)
from meshdesk.mesh.graph.service_entry import listed_hosts
from meshdesk.mesh.health_rates import compile_rates, rate_scope
from meshdesk.mesh.inventory import (
    WORKLOAD_LISTS,
    Endpoint,
    Inventory,
    IstioObject,
    Namespace,
    Service,
    ServicePort,
    Workload,
)
from meshdesk.mesh.namespace_overview import app_health_counts, app_request_health, config_counts
from meshdesk.mesh.readers import as_dict, as_list, as_str
from meshdesk.mesh.routing import (
    OPTED_OUT,
    RESTART,
    destination_rule_texts,
    port_protocol,
    route_texts,
    server_first,
    sidecar_gap,
)
from meshdesk.mesh.tls_status import MeshTls, NamespaceTls, namespace_tls, namespace_tls_all
from meshdesk.mesh.traffic_advice import mesh_gap, rollout_restart
from meshdesk.mesh.validation_badges import badge_text, config_for_workload, object_hosts
from meshdesk.mesh.validations import (
    ERROR,
    INFO,
    SERVICE,
    WARNING,
    WORKLOAD,
    Check,
    Validation,
    validation_of,
)
from meshdesk.mesh.words import (
    control_plane_rows_by_cluster,
    counted,
    mesh_config_rows,
    namespace_revision_rows,
    revision_config_rows,
)
from meshdesk.sources.gateway_api import GATEWAY_API_CONFIG
from meshdesk.sources.inventory import ISTIO_RESOURCES, OPTIONAL_ISTIO_RESOURCES
from meshdesk.ui.canvas.items import (
    error_share,
    fmt_bytes_rate,
    fmt_edge_rate,
    fmt_ms,
    fmt_percent,
    grpc_messages,
    two_way_return,
)
from meshdesk.ui.labels import NameLabel

HEALTH_COLOUR = {HEALTHY: "#3e8635", DEGRADED: "#d18b00", FAILURE: "#c9190b", NOT_READY: "#2b9af3"}
MUTED = "#6a6e73"  # keys, notes, the subtitle
# The panel's colours are chosen on the light theme's white; a few are too faint to read where they are
# text: on the dark theme the grey of the keys and notes (3.1:1), an error's red (2.7:1) and the green of
# "Healthy" (3.9:1), on the light one the amber of "Degraded" and of warnings (2.6:1) and the blue of "Not
# ready" and of notes (3.0:1). Shown, each is its readable twin (4.5:1 or more).
_TWINS = {"dark": {MUTED: "#9aa7b4", HEALTH_COLOUR[FAILURE]: "#ff7b72", HEALTH_COLOUR[HEALTHY]: "#57ab5a"},
          "light": {HEALTH_COLOUR[DEGRADED]: "#9a6700", HEALTH_COLOUR[NOT_READY]: "#0b6ebf"}}


def for_theme(body: str, theme: str) -> str:
    """``body`` (HTML in the panel's colours) with the colours that cannot be read on ``theme`` changed."""
    twins = _TWINS.get(theme, {})
    if not twins:
        return body
    return re.sub("|".join(map(re.escape, twins)), lambda m: twins[m.group(0).lower()], body, flags=re.IGNORECASE)


# -- host matching (VirtualService / DestinationRule -> service) ------------------------------
def _fqdn(host: str, default_ns: str) -> str:
    """Istio's short host names resolve in the config object's namespace."""
    h = host.strip().lower()
    if h == "*" or h.startswith("*."):
        return h
    parts = h.split(".")
    if len(parts) == 1:
        return f"{h}.{default_ns}.svc.cluster.local"
    if len(parts) == 2:
        return f"{h}.svc.cluster.local"
    if h.endswith(".svc"):
        return f"{h}.cluster.local"
    return h


def host_matches(pattern: str, host: str, pattern_ns: str, host_ns: str = "") -> bool:
    """Does the config host ``pattern`` (written in namespace ``pattern_ns``) cover ``host``?"""
    p = _fqdn(pattern, pattern_ns)
    h = _fqdn(host, host_ns or pattern_ns)
    if p == "*":
        return True
    if p.startswith("*."):
        return h.endswith(p[1:])
    return p == h


def _vs_hosts(vs: IstioObject) -> list[str]:
    """Hosts a VirtualService applies to: its ``hosts`` when it binds to the mesh (no gateways, or
    ``mesh`` among them; a gateway-only VS with ``hosts: ["*"]`` does not route mesh traffic), plus
    every route destination host. A field of the wrong type in a hand-written spec reads as empty."""
    spec = as_dict(vs.spec)
    gateways = [str(g) for g in as_list(spec.get("gateways"))]
    hosts = [str(h) for h in as_list(spec.get("hosts"))] if not gateways or "mesh" in gateways else []
    for proto in ("http", "tcp", "tls"):
        for rule in as_list(spec.get(proto)):
            for route in as_list(as_dict(rule).get("route")):
                dest = as_dict(as_dict(route).get("destination"))
                if dest.get("host"):
                    hosts.append(str(dest["host"]))
    return hosts


def rules_for_host(inventory: Inventory | None, host: str, host_ns: str) -> tuple[list[IstioObject], list[IstioObject]]:
    """The VirtualServices and DestinationRules whose hosts cover ``host`` (in any namespace read)."""
    if inventory is None:
        return [], []
    vss = [vs for vs in inventory.mesh_config("VirtualService")
           if any(host_matches(h, host, vs.namespace, host_ns) for h in _vs_hosts(vs))]
    drs = [dr for dr in inventory.mesh_config("DestinationRule")
           if (dr.spec or {}).get("host") and host_matches(str(dr.spec["host"]), host, dr.namespace, host_ns)]
    return vss, drs


# -- formatting --------------------------------------------------------------------------------
def _e(s: object) -> str:
    return html.escape(str(s))


def fmt_rate(v: float, protocol: str = "http", messages: bool = False) -> str:
    """A rate as the canvas labels it: requests per second, bytes per second for TCP, messages per
    second for gRPC when the graph asked for gRPC message rates (``messages``)."""
    return _e(fmt_edge_rate(v, protocol, messages))  # escaped: "<0.01rps" is not a tag


# what a gRPC edge's message rate counts, by the request's rateGrpc
_GRPC_MESSAGES = {"sent": "messages sent", "received": "messages received", "total": "messages sent and received"}


# what a TCP edge's rate counts, by the request's rateTcp
_TCP_BYTES = {"sent": "bytes sent", "received": "bytes received", "total": "bytes sent and received"}

_WAITING = ("No data yet", "Waiting for the first refresh.")


# the Istio routing a node's service has (the Istio appender's flags, Kiali's node badges), in Kiali's order
_ROUTING_FEATURES = (("hasCB", "circuit breaker"), ("hasFaultInjection", "fault injection"),
                     ("hasMirroring", "mirroring"), ("hasRequestRouting", "request routing"),
                     ("hasRequestTimeout", "request timeout"), ("hasTCPTrafficShifting", "TCP traffic shifting"),
                     ("hasTrafficShifting", "traffic shifting"))


# an edge's rate keys past the protocol's name ("http5xx" -> "5xx"), in words
_CLASS_NAMES = {"3xx": "3xx", "4xx": "4xx", "5xx": "5xx", "NoResponse": "no response", "Err": "errors"}


def _entry_rows(node: Node) -> list[tuple[str, str]]:
    """A "WorkloadEntries" row naming the VMs (or other machines) registered behind the node."""
    names = node.extra.get("hasWorkloadEntry")
    return [("WorkloadEntries", _e(", ".join(names)))] if isinstance(names, list) and names else []


def _gateway_rows(node: Node) -> list[tuple[str, str]]:
    """A "Role" row for an Istio ingress or egress gateway or a Gateway API gateway, with the hosts its
    Gateway serves (a waypoint, a Gateway API gateway too, has its own role row)."""
    if not node.is_gateway or node.extra.get("isWaypoint"):
        return []
    info = node.extra.get("gateway")
    info = info if isinstance(info, dict) else {}
    key, kind = next(((k, name) for k, name in (("egressInfo", "Egress"), ("gatewayAPIInfo", "Gateway API"))
                      if k in info), ("ingressInfo", "Ingress"))
    hosts = (info.get(key) or {}).get("hostnames") or []
    served = f" for {_e(', '.join(str(h) for h in hosts))}" if hosts else ""
    return [("Role", f"<b>{kind} gateway</b>{served}")]


def _routing_rows(node: Node) -> list[tuple[str, str]]:
    """A "Routing" row naming what the Istio config does to the node's traffic, when it does anything."""
    found = [name for key, name in _ROUTING_FEATURES if node.extra.get(key)]
    if not found:
        return []
    text = ", ".join(found)
    if node.extra.get("isK8sGatewayAPI") and not node.is_gateway:
        # as Kiali's "(K8s GW API)": the VirtualService is Istio's reading of a Gateway API route, so
        # that route is what to change
        text += " (from a Gateway API route)"
    return [("Routing", _e(text))]


def _service_rows(svc: Service) -> list[tuple[str, str]]:
    """A Kubernetes Service's Type, Ports and address rows, as Kiali's service Network card has them."""
    rows = [("Type", _e(svc.type))]
    if svc.type == "ExternalName":
        # no address of its own: cluster DNS answers for the service with this name (a CNAME)
        rows.append(("External name", _e(svc.external_name or "-")))
    rows.append(("Ports", "<br>".join(_port_text(p) for p in svc.ports) or "-"))
    if svc.cluster_ip == "None":  # headless: no virtual IP, no load balancing by kube-proxy
        rows.append(("Cluster IP", "none (headless: DNS answers with the addresses of the pods behind it)"))
    elif len(svc.cluster_ips) > 1:  # dual stack: one per IP family, as Kiali lists them
        rows.append(("Cluster IPs", _e(", ".join(svc.cluster_ips))))
    elif svc.cluster_ip:
        rows.append(("Cluster IP", _e(svc.cluster_ip)))
    if svc.external_ips:
        rows.append(("External IPs", _e(", ".join(svc.external_ips))))
    if svc.type == "LoadBalancer" and svc.load_balancer is not None:
        # kubectl's EXTERNAL-IP "<pending>": no load balancer has given it an address (yet)
        meanwhile = "; its node ports answer meanwhile" if any(p.node_port for p in svc.ports) else ""
        rows.append(("Load balancer", _e(", ".join(svc.load_balancer)) if svc.load_balancer else
                     "<i>pending: no address yet (the cloud's load balancer is not ready, or none serves "
                     f"this cluster){meanwhile}</i>"))
    return rows


def _port_text(port: ServicePort) -> str:
    """A Service port as Kubernetes and Istio read it: "http-web 80/TCP → 8080: HTTP", with the
    protocol Istio takes it to carry (from its appProtocol, else its name's prefix; TCP on a server-first
    port that names none), or that it names none and Istio sniffs the traffic."""
    target = f" → {port.target_port}" if port.target_port and port.target_port != str(port.port) else ""
    node = f" (node port {port.node_port})" if port.node_port else ""
    text = f"{port.name + ' ' if port.name else ''}{port.port}/{port.protocol}{target}{node}"
    istio = port_protocol(port)
    if istio == "udp":
        said = "UDP, which Istio does not proxy"
    elif server_first(port):
        named = (f"appProtocol {port.app_protocol} names no protocol Istio knows" if port.app_protocol
                 else "no protocol named")
        said = (f"TCP ({named}; {port.port} is {server_first(port)}'s port, where the server speaks first, "
                "so Istio does not sniff it and takes it as TCP)")
    elif istio:
        said = istio.upper() + (f" (appProtocol {port.app_protocol})" if port.app_protocol else "")
    elif port.app_protocol:
        said = f"appProtocol {port.app_protocol} names no protocol Istio knows: it sniffs the traffic"
    else:
        said = "no protocol named: Istio sniffs the traffic (HTTP or TCP)"
    return _e(f"{text}: {said}")


def _entry_spec_rows(spec: Mapping[str, object], read: bool, location: str) -> list[tuple[str, str]]:
    """A ServiceEntry's Addresses, Location, Resolution, Ports and Exported to rows (Istio's defaults
    where the spec says nothing: MESH_EXTERNAL, resolution NONE, every namespace)."""
    rows: list[tuple[str, str]] = []
    addresses = [str(a) for a in as_list(spec.get("addresses"))]
    if addresses:
        rows.append(("Addresses", _e(", ".join(addresses))))
    rows.append(("Location", _e(as_str(spec.get("location")) or location or "MESH_EXTERNAL")))
    rows.append(("Resolution", _e(as_str(spec.get("resolution")) or ("NONE" if read else "-"))))
    ports = []
    for p in as_list(spec.get("ports")):
        port = as_dict(p)
        target = port.get("targetPort")
        ports.append(f"{port.get('name', '')} {port.get('number')}/{port.get('protocol', '')}".strip()
                     + (f" \u2192 {target}" if target not in (None, "", port.get("number")) else ""))
    rows.append(("Ports", "<br>".join(_e(p) for p in ports) or "-"))
    exported = [str(x) for x in as_list(spec.get("exportTo"))]
    if exported:
        words = {".": "its own namespace", "*": "every namespace", "~": "no namespace"}
        rows.append(("Exported to", _e(", ".join(words.get(x, x) for x in exported))))
    return rows


def _entry_endpoints(inv: Inventory, obj: IstioObject) -> str:
    """A ServiceEntry's Endpoints section: each endpoint with what it sets (ports, weight, network,
    locality, labels, service account), the workloads its workloadSelector picks, or where the calls go
    when it lists neither (by the resolution)."""
    spec = as_dict(obj.spec)
    lines = []
    for raw in as_list(spec.get("endpoints")):
        ep = as_dict(raw)
        if not ep:
            continue
        what = []
        ports = as_dict(ep.get("ports"))
        if ports:
            what.append("ports " + ", ".join(f"{k} \u2192 {v}" for k, v in ports.items()))
        for key, word in (("weight", "weight"), ("network", "network"), ("locality", "locality"),
                          ("serviceAccount", "service account")):
            if ep.get(key) not in (None, ""):
                what.append(f"{word} {ep[key]}")
        labels = as_dict(ep.get("labels"))
        if labels:
            what.append("labels " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
        address = str(ep.get("address") or "no address")
        lines.append(f"<b>{_e(address)}</b>" + (f" ({_e('; '.join(what))})" if what else ""))
    selector = {str(k): str(v) for k, v in as_dict(as_dict(spec.get("workloadSelector")).get("labels")).items()}
    if selector:
        # Istio takes the pods (and WorkloadEntries) of the entry's namespace with these labels as its endpoints
        picked = [w for w in inv.workloads if w.namespace == obj.namespace
                  and all(w.labels.get(k) == v for k, v in selector.items())]
        if picked:
            found = _list([f"<b>{_e(w.name)}</b> ({_e(w.kind)})" for w in picked])
        elif inv.unread(obj.namespace, WORKLOAD_LISTS) or all(n.name != obj.namespace for n in inv.namespaces):
            found = f"<i>not known: the workloads of {_e(obj.namespace)} were not read</i>"
        else:
            found = f"<i>none: no workload in {_e(obj.namespace)} has these labels</i>"
        return _section("Workload selector", _labels(selector)) + _section("Endpoints", found)
    if lines:
        return _section("Endpoints", "<br>".join(lines))
    resolution = as_str(spec.get("resolution")) or "NONE"
    empty = {"DNS": "none listed: Istio resolves the hosts by DNS",
             "DNS_ROUND_ROBIN": "none listed: Istio resolves the hosts by DNS",
             "NONE": "none listed: calls go to the address the caller asked for"}.get(resolution, "none")
    return _section("Endpoints", f"<i>{_e(empty)}</i>")


def _service_not_found(inv: Inventory, node: Node) -> str:
    """Why a service node has no Service in the inventory: its namespace was not read (not chosen, or
    its Services may not be listed), the telemetry names a host no Service or ServiceEntry defines, or
    the Service is gone."""
    ns = node.namespace
    if ns == UNKNOWN or not ns:
        return "not found: no Service or ServiceEntry that was read defines this host"
    if all(n.name != ns for n in inv.namespaces):
        return f"not read: {ns} is not among the chosen namespaces"
    if inv.unread(ns, ("services",)):
        return f"not known: the Services of {ns} could not be read"
    return f"not found: {ns} has no Service of this name (deleted since its traffic was recorded?)"


def _workload_not_found(inv: Inventory, node: Node) -> str:
    """Why a workload node is not in the inventory: its namespace was not chosen (a caller from
    anywhere), its workloads could not be read, or it is gone."""
    ns = node.namespace
    if not ns or ns == UNKNOWN:
        return "not found: the telemetry names no namespace of it"
    if all(n.name != ns for n in inv.namespaces):
        return f"not read: {ns} is not among the chosen namespaces"
    if inv.unread(ns, WORKLOAD_LISTS):
        return f"not known: the workloads of {ns} could not all be read"
    return f"not found: {ns} has no workload named {node.workload} (deleted since its traffic was recorded?)"


def _app_not_found(inv: Inventory, node: Node) -> str:
    """Why an app node has no workload in the inventory: its namespace was not chosen (the telemetry
    names callers from anywhere), its workloads could not be read, or none has its labels any more."""
    ns = node.namespace
    if all(n.name != ns for n in inv.namespaces):
        return f"not read: {ns} is not among the chosen namespaces"
    if inv.unread(ns, WORKLOAD_LISTS):
        return f"not known: the workloads of {ns} could not all be read"
    labels = f"app={node.app}" + (f", version={node.version}" if node.version else "")
    return f"none: no workload of {ns} has {labels} (deleted since its traffic was recorded?)"


ENDPOINTS_SHOWN = 100  # of a Service's endpoints listed (a big Deployment has hundreds of pods)


def _endpoint_text(e: Endpoint) -> str:
    """An endpoint as Kiali's service page lists it: its address, the pod it stands for, its ports,
    whether it takes calls."""
    target = (f" pod <b>{_e(e.target_name)}</b>" if e.target_kind == "Pod" else
              f" {_e(e.target_kind)} <b>{_e(e.target_name)}</b>" if e.target_name else " (set by hand)")
    ports = ", ".join(f"{p.name + ' ' if p.name else ''}{p.port}/{p.protocol}" for p in e.ports)
    state = ("<span style='color:#b35900'>not ready, terminating</span>" if e.terminating else
             "ready" if e.ready else "<span style='color:#c9190b'>not ready: no calls are sent to it</span>")
    return f"<b>{_e(e.address or '-')}</b>{target}" + (f" · {_e(ports)}" if ports else "") + f" · {state}"


def _service_endpoints(inv: Inventory, svc: Service) -> str:
    """The Endpoints section: the addresses Kubernetes sends the Service's calls to, from its
    EndpointSlices, each with its pod, ports and readiness; or why none are listed."""
    if svc.type == "ExternalName":
        return ""  # a DNS alias: no endpoints of its own
    if svc.endpoints is None:
        if inv.unread(svc.namespace, ("endpointslices",)):
            why = f"not known: the EndpointSlices of {_e(svc.namespace)} could not be read"
        else:
            why = "not known: this snapshot was written before meshdesk read endpoints"
        return _section("Endpoints", f"<i>{why}</i>")
    if not svc.endpoints:
        why = ("none: no pod it selects has an address yet, so its calls find no pod" if svc.selector
               else "none: nobody listed any, so its calls find no address")
        return _section("Endpoints", f"<i>{why}</i>")
    ready = sum(e.ready and not e.terminating for e in svc.endpoints)
    shown = [_endpoint_text(e) for e in svc.endpoints[:ENDPOINTS_SHOWN]]
    if len(svc.endpoints) > ENDPOINTS_SHOWN:
        shown.append(f"<i>and {len(svc.endpoints) - ENDPOINTS_SHOWN} more</i>")
    return _section("Endpoints", f"<i>{ready} of {len(svc.endpoints)} ready</i><br>" + _list(shown))


def _service_backends(inv: Inventory, svc: Service) -> str:
    """The Selector and Workloads sections of a Kubernetes Service: the workloads it sends to, or why
    it sends to none of them."""
    if svc.type == "ExternalName":
        # Kubernetes ignores a selector here: the calls go to the external name, no pod is behind it
        alias = f" for <b>{_e(svc.external_name)}</b>" if svc.external_name else ""
        return _section("Workloads", f"<i>none: the service is a DNS alias{alias}, no pod serves it</i>")
    if not svc.selector:
        # Kubernetes picks no pods for it: whoever made it lists its endpoints by hand (shown below)
        return _section("Selector", "<i>none</i>") + _section(
            "Workloads", "<i>none selected: without a selector its endpoints are set by hand (Endpoints or "
            "EndpointSlice objects; see Endpoints)</i>")
    behind = inv.workloads_for_service(svc)
    if behind:
        workloads = _list([f"<b>{_e(w.name)}</b> ({_e(w.version or 'no version')})" for w in behind])
    elif inv.unread(svc.namespace, WORKLOAD_LISTS):
        workloads = f"<i>not known: the workloads of {_e(svc.namespace)} could not all be read</i>"
    else:
        workloads = f"<i>none: no workload in {_e(svc.namespace)} has these labels, so calls to it find no pod</i>"
    return _section("Selector", _labels(svc.selector)) + _section("Workloads", workloads)


# the Gateway API's routes, under Kiali's names (as the Istio config view lists them)
_GATEWAY_API_ROUTES = ("K8sHTTPRoute", "K8sGRPCRoute", "K8sTCPRoute", "K8sTLSRoute")


def _gateway_api_routes(g: TrafficGraph, inv: Inventory, svc: Service) -> str:
    """A "Gateway API routes" section, when any route refers to the Service (as Kiali's service page
    lists its K8sHTTPRoutes and K8sGRPCRoutes): a mesh route whose parent it is (its waypoint or the
    callers' sidecars apply it), or a route that sends to it from its Gateways; each a link, with its
    findings. Nothing when none does."""
    host = f"{svc.name}.{svc.namespace}.svc.cluster.local"
    rows = []
    for kind in _GATEWAY_API_ROUTES:
        for route in inv.mesh_config(kind):
            if host not in object_hosts(route):
                continue
            parents = [as_dict(r) for r in as_list(as_dict(route.spec).get("parentRefs"))]
            mine = [r for r in parents if r.get("kind") == "Service" and r.get("name") == svc.name
                    and (r.get("namespace") or route.namespace) == svc.namespace]
            gateways = [f"{r.get('namespace') or route.namespace}/{r.get('name')}" for r in parents
                        if r.get("kind", "Gateway") == "Gateway" and r.get("name")]
            how = ("mesh route: its parentRef is this Service, so calls to it in the mesh follow it" if mine
                   else "sends to it" + (f" from Gateway {', '.join(gateways)}" if gateways else ""))
            checks = validation_of(g.validations or {}, (route.kind, route.namespace, route.name),
                                   route.cluster or inv.cluster)
            errors = sum(1 for c in checks.checks if c.severity == ERROR) if checks else 0
            warnings = sum(1 for c in checks.checks if c.severity == WARNING) if checks else 0
            found = f" <span style='color:{SEVERITY_COLOUR[ERROR if errors else WARNING]}'>" \
                f"({_e(badge_text(errors, warnings))})</span>" if errors or warnings else ""
            rows.append(f"{_e(route.kind)} {config_link(route, f'{_e(route.namespace)}/<b>{_e(route.name)}</b>')}: "
                        f"{_e(how)}{found}")
    return _section("Gateway API routes", _list(rows)) if rows else ""


CONFIG_LINK = "meshdesk-config:"  # a panel link's scheme: the Istio object it names opens in the config view


def config_link(obj: IstioObject, text: str) -> str:
    """``text`` (HTML) as a link that opens ``obj`` in the Istio config view (its cluster's, when it
    names one: of an inventory of several clusters, one name can be an object in each)."""
    names = (obj.kind, obj.namespace, obj.name, *((obj.cluster,) if obj.cluster else ()))
    href = CONFIG_LINK + "/".join(quote(part, safe="") for part in names)
    return f"<a href='{href}'>{text}</a>"


def config_key(href: str) -> tuple[str, ...] | None:
    """The (kind, namespace, name), with the cluster when the link names one, of a panel link; None for
    another link."""
    if not href.startswith(CONFIG_LINK):
        return None
    parts = [unquote(p) for p in href[len(CONFIG_LINK):].split("/")]
    return tuple(parts) if len(parts) in (3, 4) else None


def _unread_rules(inv: Inventory | None, namespaces: Iterable[str]) -> dict[str, list[str]]:
    """Of ``namespaces`` (the node's own first), those whose VirtualServices, and those whose
    DestinationRules, could not be read, by kind: a rule of theirs may apply though none is listed."""
    chosen = list(dict.fromkeys(namespaces))
    return {kind: [ns for ns in chosen if inv is not None and inv.unread(ns, (plural,))]
            for kind, plural in (("VirtualServices", "virtualservices"), ("DestinationRules", "destinationrules"))}


def _rules_list(kind: str, rows: list[str], unread: Mapping[str, list[str]] | None) -> str:
    """A "VirtualServices" or "DestinationRules" section: its rows, or "none"; when some namespaces'
    objects of the kind could not be read, that none is not known, or that some may be missing."""
    missing = (unread or {}).get(kind) or []
    where = ", ".join(missing)
    if not missing:
        body = "".join(rows) or "<i>none</i>"
    elif not rows:
        body = f"<i>not known: the {kind} of {_e(where)} could not be read</i>"
    else:
        body = "".join(rows) + f"<i>(not all the {kind} of {_e(where)} could be read: others may apply)</i>"
    return _section(kind, body)


def _rules_with_routes(vss: list[IstioObject], drs: list[IstioObject],
                       unread: Mapping[str, list[str]] | None = None) -> str:
    """The VirtualServices and DestinationRules of a service, each with what it does in words (the
    routing forms' reading of them, ``meshdesk.mesh.routing``): every route (which requests, to which
    subsets with which weights, timeout, retries, faults, mirroring), then each rule's subsets and
    traffic policy (connection pool, outlier detection, TLS mode); ``unread`` (``_unread_rules``) says
    where some could not be read."""
    def block(obj: IstioObject, lines: list[str]) -> str:
        raw = obj.spec.get("gateways") if isinstance(obj.spec, dict) else None
        gateways = [str(x) for x in raw] if isinstance(raw, list) else []
        bound = f" <i>(for gateway {_e(', '.join(gateways))})</i>" if gateways and "mesh" not in gateways else ""
        return f"<div>{config_link(obj, f'{_e(obj.namespace)}/<b>{_e(obj.name)}</b>')}{bound}</div>" + "".join(
            f"<div style='margin-left:14px'>{line}</div>" for line in lines)

    routes = [block(vs, [_e(str(r)) for r in route_texts(vs)] or ["<i>no routes</i>"]) for vs in vss]
    policies = [block(dr, [f"<span style='color:{MUTED}'>{_e(what)}</span> {_e(how)}"
                           for what, how in destination_rule_texts(dr)]) for dr in drs]
    return _rules_list("VirtualServices", routes, unread) + _rules_list("DestinationRules", policies, unread)


# gRPC status codes by number (what a gRPC edge's responses are counted under)
GRPC_STATUS_NAMES = ("OK", "Cancelled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
                     "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
                     "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated")


def response_label(protocol: str, code: str) -> str:
    """How the edge panel names a response code: "code 503", "status 14 (Unavailable)" for gRPC,
    "no response" ("-"; for TCP, which has no codes, "all")."""
    if code == "-":
        return "all" if protocol == "tcp" else "no response"
    if protocol == "grpc" and code.isdigit() and int(code) < len(GRPC_STATUS_NAMES):
        return f"status {code} ({GRPC_STATUS_NAMES[int(code)]})"
    return f"code {code}"


def fmt_pct(share: float) -> str:
    """A 0..1 share as the canvas writes percentages."""
    return _e(fmt_percent(share * 100))


def _error_colour(e: Edge) -> str:
    """Errors read in the colour the edge is drawn in: red or orange when they make it failing or
    degraded, grey when they are within its tolerances (a few 404s on a green edge were red)."""
    status = e.health.status if e.health is not None else None
    return HEALTH_COLOUR[status] if status in (DEGRADED, FAILURE) else MUTED


def _health_html(h: Health | None) -> str:
    if h is None:
        return NO_HEALTH_TEXT
    colour = HEALTH_COLOUR.get(h.status, MUTED)
    text = f"<span style='color:{colour}'><b>{_e(health_text(h.status))}</b></span>"
    if h.error_ratio:
        within = ", within the tolerances" if h.status == HEALTHY else ""
        text += f" ({fmt_pct(h.error_ratio)} errors{within})"
    if h.reasons:
        text += "<br>" + "<br>".join(_e(r) for r in h.reasons)
    return text


def _version_pods_rows(inv: Inventory, node: Node) -> list[tuple[str, str]]:
    """A "Pods" row for a versioned app node whose version's workloads (in ``inv``, the node's own
    cluster's) are not all available: the node is judged on its requests alone, as Kiali judges a
    version, so its Health may read Healthy while none of its pods is ready."""
    wls = [w for w in inv.workloads if w.namespace == node.namespace and w.app == node.app
           and w.runs_version(node.version)]
    status, why = workload_status(wls)
    if status in (NO_HEALTH, HEALTHY):
        return []
    colour = HEALTH_COLOUR.get(status, MUTED)
    return [("Pods", f"<span style='color:{colour}'><b>{_e(health_text(status))}</b></span>: {_e(why)}<br>"
                     "<i>(the health above is its requests'; its app's box shows its pods)</i>")]


def _tolerance_rows(g: TrafficGraph, node: Node) -> list[tuple[str, str]]:
    """A "Judged by" row when a node's health is not judged by Kiali's default tolerances: its own
    ``health.kiali.io/rate`` annotation, or which of the configured rates (Kiali's health_config.rate)."""
    if node.health is None:
        return []
    if node.health_annotation and parse_annotation(node.health_annotation)[0]:
        return [("Judged by", f"its {ANNOTATION} annotation: <code>{_e(node.health_annotation)}</code>")]
    raw = g.request.healthRates
    if not raw:
        return []
    try:
        rates = compile_rates(raw)
    except ValueError:
        return []
    tolerances = configured_tolerances(node, rates)
    first = next((i for i, r in enumerate(rates) if r.tolerances is tolerances), None)
    if first is None:
        return []
    return [("Judged by", f"configured health rate {first + 1} of {len(rates)} ({_e(rate_scope(raw[first]))})")]


def _table(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td style='color:{MUTED};padding-right:8px'>{_e(k)}</td><td>{v}</td></tr>"
                   for k, v in rows)
    return f"<table cellspacing='0' cellpadding='1'>{body}</table>"


def _extension_section(node: Node) -> str:
    """What a node's ``isExtension`` says: the Kiali extension whose traffic it carries, and a link to
    that extension's own UI (http or https only) when its Service's annotation gives one."""
    info = node.extra.get("isExtension")
    if not isinstance(info, dict) or not info.get("name"):
        return ""
    name = str(info["name"])
    rows = [("Name", f"<b>{_e(name)}</b>")]
    url = str(info.get("url") or "")
    if url:
        linked = QUrl(url).scheme() in ("http", "https")
        rows.append(("UI", f"<a href='{_e(url)}'>View in {_e(name)} UI</a>" if linked else _e(url)))
    return _section("Kiali extension", _table(rows))


def _section(title: str, content: str) -> str:
    return f"<h4 style='margin:10px 0 2px 0'>{_e(title)}</h4>{content}"


def _list(items: Sequence[str], empty: str = "none") -> str:
    if not items:
        return f"<i>{_e(empty)}</i>"
    return "<br>".join(items)


def _sidecar_rows(inv: Inventory, ns: str, wls: Sequence[Workload]) -> list[tuple[str, str]]:
    """A sidecar namespace's summary rows: the workloads without a sidecar by what to do about them
    (restart those started before injection was enabled; nothing for those that opt out), and whether
    injection is on (off, with no sidecar running: the namespace is not in the mesh, and how to put it
    there). The workloads to restart are those the injection action names (``mesh_gap``)."""
    nso = inv.namespace(ns)
    enabled = nso is not None and nso.injection_enabled
    gap = mesh_gap(inv, ns)
    restart = gap.restart if gap is not None and enabled else []
    opted = [w.name for w in wls if sidecar_gap(inv, w) == OPTED_OUT]
    skip = {w.name for w in restart} | set(opted)
    other = [w.name for w in wls if w.has_sidecar is False and w.name not in skip]
    lines = [", ".join(_e(m) for m in other)] if other else []
    if restart:
        commands = rollout_restart(ns, restart, gap.kind_counts if gap is not None else None)
        lines.append(f"<span style='color:#d18b00'>{_e(', '.join(w.name for w in restart))}</span>: started "
                     f"before injection was enabled: restart {'it' if len(restart) == 1 else 'them'}"
                     + "".join(f"<br><code>{_e(c)}</code>" for c in commands))
    rows = [("Missing sidecars", "<br>".join(lines) or "none")]
    if opted:  # no sidecar, on purpose
        rows.append(("Opted out", f"{_e(', '.join(opted))} (<code>sidecar.istio.io/inject: \"false\"</code>)"))
    if inv.unread(ns, ("namespace",)):  # a bare Namespace stands in for it: its labels are unknown
        rows.append(("Sidecar injection", "unknown (the namespace's labels could not be read)"))
    elif nso is not None:
        injection = "enabled" if enabled else "not enabled"
        if gap is not None and gap.not_in_mesh:
            injection += (f": {_e(ns)} is not in the mesh. Label it and restart its workloads:"
                          + "".join(f"<br><code>{_e(c)}</code>" for c in gap.commands()))
        rows.append(("Sidecar injection", injection))
    return rows


def _ambient_data_plane(nso: Namespace | None) -> str:
    """An ambient namespace's "Data plane" row; when sidecar injection is asked for too, the conflict:
    Istio's injector gives new pods a sidecar and ztunnel leaves pods with one alone, so the sidecar
    wins, and each workload that does not opt out carries KIA1311."""
    if nso is None or not nso.injection_enabled:
        return "ambient (ztunnel; no sidecars needed)"
    injection = "istio-injection=enabled" if nso.labels.get("istio-injection") == "enabled" else \
        f"istio.io/rev={nso.labels.get('istio.io/rev', '')}"
    return (f"<span style='color:{SEVERITY_COLOUR[ERROR]}'>conflict: labelled both "
            f"<code>istio.io/dataplane-mode=ambient</code> and <code>{_e(injection)}</code></span>. "
            "Sidecar injection wins: new pods get a sidecar (unless they opt out), and ztunnel leaves "
            "those alone. KIA1311 (an error) on its workloads: remove one of the two labels")


def _predates_injection(inv: Inventory, w: Workload) -> bool:
    """Whether a workload runs no sidecar only because its pods started before its namespace's injection
    was enabled (a restart gives it one)."""
    return sidecar_gap(inv, w) == RESTART


def _missing_sidecar(inv: Inventory, w: Workload) -> str:
    """A workload panel's "Sidecar" when it runs none: why, and what to do."""
    gap = sidecar_gap(inv, w)
    if gap == OPTED_OUT:
        return "none: it opts out (<code>sidecar.istio.io/inject: \"false\"</code>)"
    missing = "<span style='color:#d18b00'>missing</span>"
    nso = inv.namespace(w.namespace)
    if gap == RESTART:
        commands = rollout_restart(w.namespace, [w])
        return (f"{missing}: started before injection was enabled; restart to get the sidecar"
                + (f" (Actions: Restart {_e(w.name)}…, or <code>{_e(commands[0])}</code>)" if commands
                   else " (recreate its pods)"))
    if nso is not None and not nso.in_mesh:
        return f"{missing}: namespace {_e(w.namespace)} has no sidecar injection (it is not in the mesh)"
    return missing


SEVERITY_COLOUR = {ERROR: HEALTH_COLOUR[FAILURE], WARNING: HEALTH_COLOUR[DEGRADED], INFO: "#2b9af3"}


def _check_html(c: Check) -> str:
    return (f"<span style='color:{SEVERITY_COLOUR.get(c.severity, MUTED)}'><b>{_e(c.severity)}</b></span> "
            f"<code>{_e(c.code)}</code> {_e(c.message)}" + (f" <i>({_e(c.path)})</i>" if c.path else ""))


def _cluster_words(g: TrafficGraph, inventory: Inventory | None, selected: str) -> str:
    """The cluster of the selected node, box or edge in words ("cluster west", "cluster east → cluster west"),
    when the graph spans several clusters or its inventory was read from several (a node graph of one of
    them); "" otherwise, or when the selection names no cluster."""
    if len(g.clusters()) < 2 and not (inventory is not None and merged(inventory)):
        return ""

    def named(cluster: str) -> str:
        return cluster if cluster and cluster != UNKNOWN else ""

    edge = g.edges.get(selected)
    if edge is not None:
        src, dst = g.nodes.get(edge.source), g.nodes.get(edge.target)
        a, b = named(src.cluster) if src else "", named(dst.cluster) if dst else ""
        if a and b and a != b:
            return f"cluster {a} → cluster {b}"
        return f"cluster {a or b}" if a or b else ""
    node = g.nodes.get(selected)
    if node is None or (node.node_type == NODE_BOX and node.box == BOX_CLUSTER):
        return ""  # (a cluster's box is titled by its cluster)
    return f"cluster {named(node.cluster)}" if named(node.cluster) else ""


def _findings(g: TrafficGraph, key: tuple[str, str, str], cluster: str) -> str:
    """A "Config findings" section for the object ``key`` names (of ``cluster``, when the validations
    are of several), when its validation says anything."""
    validation = validation_of(g.validations or {}, key, cluster)
    if validation is None or not validation.checks:
        return ""
    return _section("Config findings", _list([_check_html(c) for c in validation.checks]))


# what the inventory's ``hidden`` names the Istio and Gateway API lists by (``sources.inventory``)
_ISTIO_LISTS = tuple(plural for _k, _g, plural in (*ISTIO_RESOURCES, *OPTIONAL_ISTIO_RESOURCES)) + tuple(
    f"{plural}.{group}" for _k, group, plural in GATEWAY_API_CONFIG)


def _config_html(inv: Inventory, validations: Mapping[tuple[str, str, str], Validation], ns: str,
                 objs: Sequence[IstioObject]) -> str:
    """A namespace's Istio config (``objs``) as Kiali's overview counts it: how many objects, how many
    of them have errors or only warnings; said when some of its kinds could not be read."""
    _n, with_errors, with_warnings = config_counts(objs, validations, inv.cluster)
    parts = [counted(len(objs), "object")]
    if with_errors:
        parts.append(f"<span style='color:{SEVERITY_COLOUR[ERROR]}'>{with_errors} with errors</span>")
    if with_warnings:
        parts.append(f"<span style='color:{SEVERITY_COLOUR[WARNING]}'>{with_warnings} with warnings</span>")
    text = parts[0] + (": " + ", ".join(parts[1:]) if len(parts) > 1 else ", all valid" if objs else "")
    return text + (" (not all could be read)" if inv.unread(ns, _ISTIO_LISTS) else "")


def _workloads_findings(g: TrafficGraph, workloads: Sequence[Workload], cluster: str) -> str:
    """A "Config findings" section with the findings about each of an app node's workloads (of ``cluster``)."""
    rows = []
    for w in workloads:
        validation = validation_of(g.validations or {}, (WORKLOAD, w.namespace, w.name), w.cluster or cluster)
        rows += [f"<b>{_e(w.name)}</b>: {_check_html(c)}" for c in (validation.checks if validation else [])]
    return _section("Config findings", _list(rows)) if rows else ""


def _workload_config(g: TrafficGraph, inv: Inventory, workloads: Sequence[Workload]) -> str:
    """An "Istio config" section: the objects that apply to the workloads (Kiali's workload page lists
    them), each once with how it applies (to the first of them it applies to) and its findings."""
    if not workloads:
        return ""
    w = workloads[0]
    applying: dict[tuple[str, str, str], tuple[IstioObject, str]] = {}
    for each in workloads:
        for obj, how in config_for_workload(inv, each):
            applying.setdefault((obj.kind, obj.namespace, obj.name), (obj, how))
    rows = []
    for obj, how in applying.values():
        checks = validation_of(g.validations or {}, (obj.kind, obj.namespace, obj.name), obj.cluster or inv.cluster)
        errors = sum(1 for c in checks.checks if c.severity == ERROR) if checks else 0
        warnings = sum(1 for c in checks.checks if c.severity == WARNING) if checks else 0
        name = obj.name if obj.namespace == w.namespace else f"{obj.namespace}/{obj.name}"
        found = ""
        if errors or warnings:
            colour = SEVERITY_COLOUR[ERROR if errors else WARNING]
            found = f" <span style='color:{colour}'>({_e(badge_text(errors, warnings))})</span>"
        rows.append(f"{_e(obj.kind)} {config_link(obj, f'<b>{_e(name)}</b>')}: {_e(how)}{found}")
    root = inv.mesh_settings.root_namespace
    unread = [ns for ns in dict.fromkeys((w.namespace, root)) if inv.unread(ns, _ISTIO_LISTS)]
    note = f" <i>(not all of the Istio config of {', '.join(unread)} could be read: objects there may be " \
        "missing from this list)</i>" if unread else ""
    return _section("Istio config", _list(rows) + note)


def _labels(labels: dict[str, str]) -> str:
    return _list([f"<code>{_e(k)}={_e(v)}</code>" for k, v in sorted(labels.items())])


# -- a workload's labels and its controller's own word, in its kind's vocabulary -----------------------
# the kinds whose controller keeps a number of replicas (kubectl's READY column: ready/desired)
_REPLICA_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "Rollout", "DeploymentConfig", "ReplicationController")
# the colour of a Job's state, of a bare pod's phase (the rest in the text's own)
_STATE_COLOUR = {"Failed": HEALTH_COLOUR[FAILURE], "Failing": HEALTH_COLOUR[FAILURE],
                 "Suspended": HEALTH_COLOUR[DEGRADED], "Pending": HEALTH_COLOUR[DEGRADED],
                 "Unknown": HEALTH_COLOUR[DEGRADED]}
# what a missing app or version label costs (Kiali marks them "Missing App", "Missing Version")
_MISSING_LABEL = {"app": "it belongs to no app", "version": "its telemetry calls its version \"latest\""}


def _coloured(text: str, colour: str | None) -> str:
    """``text`` (HTML) in ``colour``, or as it is with none."""
    return f"<span style='color:{colour}'>{text}</span>" if colour else text


def _app_version_rows(w: Workload, waypoint: bool) -> list[tuple[str, str]]:
    """The App and Version rows: the label's value, or that it is missing and what that costs (a
    waypoint, as in Kiali, needs neither)."""
    missing = [] if waypoint else w.missing_labels
    rows = []
    for title, what, value in (("App", "app", w.app), ("Version", "version", w.version)):
        if what in missing:
            rows.append((title, _coloured(f"no {what} label", HEALTH_COLOUR[DEGRADED])
                         + f" ({_e(_MISSING_LABEL[what])})"))
        else:
            rows.append((title, _e(value or "-")))
    return rows


def _controller_rows(w: Workload) -> list[tuple[str, str]]:
    """What a workload's controller says of itself, in the words kubectl, Lens and k9s use for its
    kind: replicas ready of those desired; a DaemonSet's pods desired, scheduled and ready; a Job's
    completions and state; a CronJob's schedule, suspension, last runs and active Jobs; a bare pod's
    phase. What its controller did not say (not read, or a snapshot from before it was kept) is
    counted from the pods, as Kiali counts them."""
    kind = w.kind
    running = f", {w.current} running" if w.current >= 0 and w.current != w.replicas else ""
    if kind == "Pod":
        if not w.pods:  # a bare pod is its own workload: with it gone there are no replicas to count
            return [("Phase", "gone: the cluster no longer lists this pod")]
        phase = w.pods[0].phase or "Unknown"
        return [("Phase", _coloured(_e(phase), _STATE_COLOUR.get(phase)))]
    if kind == "DaemonSet" and w.ready >= 0:
        pods = f"{w.replicas} desired, {max(w.current, 0)} scheduled, {w.ready} ready"
        return [("Pods", pods + (f", {w.available} available" if w.available != w.ready else "")), *_rollout_rows(w)]
    if kind == "Job" and w.job_state:
        # as kubectl's COMPLETIONS: without a count wanted, one success will do, and a parallelism
        # above one is said beside it ("0/1 of 2")
        done = f"{max(w.succeeded, 0)}/{w.completions}" if w.completions >= 0 else \
            f"{max(w.succeeded, 0)}/1" + (f" of {w.parallelism}" if w.parallelism > 1 else "")
        done += (f", {w.failed} failed" if w.failed > 0 else "") + (f", {w.active} running" if w.active > 0 else "")
        state = _e(w.job_state) + (f" ({_e(w.job_reason)})" if w.job_reason else "")
        return [("Completions", done), ("State", _coloured(state, _STATE_COLOUR.get(w.job_state)))]
    if kind == "CronJob" and w.suspended is not None:
        schedule = _e(w.schedule or "-") + (f" ({_e(w.time_zone)})" if w.time_zone else "")
        rows = [("Schedule", f"<code>{schedule}</code>"),
                ("Suspended", _coloured("yes", HEALTH_COLOUR[DEGRADED]) if w.suspended else "no"),
                ("Last schedule", _e(w.last_schedule or "never"))]
        if w.last_success:
            rows.append(("Last success", _e(w.last_success)))
        return rows + [("Active jobs", str(max(w.active, 0)))]
    if kind in _REPLICA_KINDS and w.ready >= 0:
        ready = f"{w.ready}/{w.replicas} ready" + (f", {w.available} available" if w.available != w.ready else "")
        return [("Replicas", ready + running), *_rollout_rows(w)]
    counted = f"{w.available}/{w.replicas} available" + running
    return [("Pods" if kind in ("DaemonSet", "Job", "CronJob") else "Replicas", counted), *_rollout_rows(w)]


def _rollout_rows(w: Workload) -> list[tuple[str, str]]:
    """A rollout under way or stopped, as ``kubectl rollout status`` says it: how many of the wanted pods
    run the new template, and why it stopped (a Deployment past its progress deadline: a new image
    that does not pull or start, a quota)."""
    if w.rollout_stalled:
        why = _e(w.rollout_stalled) + (f": {_e(w.rollout_message)}" if w.rollout_message else "")
        return [("Rollout", _coloured(f"stalled ({why})", HEALTH_COLOUR[FAILURE]))]
    if 0 <= w.updated < w.replicas:
        return [("Rollout", f"in progress: {w.updated} of {w.replicas} pods updated")]
    return []


def _rate_totals(edges: Iterable[Edge], messages: bool) -> list[str]:
    """Per protocol, the total and (for requests) the share that failed, as Kiali's rate tables."""
    return _rate_lines([(e, e.rate, error_share(e)) for e in edges], messages)


def _rate_lines(edges: Iterable[tuple[Edge, float, float]], messages: bool) -> list[str]:
    """:func:`_rate_totals` of edges given with their rate and failed share."""
    by_proto: dict[str, list[float]] = {}
    for e, rate, share in edges:
        t = by_proto.setdefault(e.protocol, [0.0, 0.0])
        t[0] += rate
        t[1] += rate * share
    out = []
    for proto in ("http", "grpc", "tcp"):
        if proto in by_proto and by_proto[proto][0] > 0:
            total, bad = by_proto[proto]
            line = f"{proto} {fmt_rate(total, proto, messages)}"
            if proto != "tcp" and not (proto == "grpc" and messages):
                line += f", {fmt_pct(bad / total)} errors"
            out.append(line)
    return out


def _traffic(graph: TrafficGraph, node: Node) -> str:
    messages = grpc_messages(graph.request)

    def totals(edges: list[Edge]) -> str:
        out = _rate_totals(edges, messages)
        return f"<b>Total:</b> {'; '.join(out)}<br>" if len(edges) > 1 and out else ""

    def block(edges: list[Edge], incoming: bool) -> str:
        if not edges:
            return "<i>none</i>"
        rows = []
        for e in sorted(edges, key=lambda e: -e.rate):
            other = graph.nodes.get(e.source if incoming else e.target)
            name = other.label if other is not None else "?"
            # a box's edges cross its border from several members: say which one
            member = graph.nodes.get(e.target if incoming else e.source) if node.node_type == NODE_BOX else None
            at = f" ({'into' if incoming else 'from'} {_e(member.label)})" if member is not None else ""
            err = error_share(e)
            extra = f", <span style='color:{_error_colour(e)}'>{fmt_pct(err)} errors</span>" if err else ""
            idle = " <i>(idle)</i>" if e.is_idle else ""
            rows.append(f"{'from' if incoming else 'to'} <b>{_e(name)}</b>{at}: {e.protocol} "
                        f"{fmt_rate(e.rate, e.protocol, messages)}{extra}{idle}")
        return totals(edges) + "<br>".join(rows)

    if node.node_type == NODE_BOX:  # a box's traffic is what crosses its border
        inside = _members(graph, node.id)
        ins = [e for e in graph.edges.values() if e.target in inside and e.source not in inside]
        outs = [e for e in graph.edges.values() if e.source in inside and e.target not in inside]
    else:
        ins = list(graph.in_edges(node.id))
        outs = list(graph.out_edges(node.id))
    # an ambient waypoint's traffic back to a node is folded into the node's edge to the waypoint (a
    # box's member's too: it crosses the border as the edge does)
    backs_in = [b for e in outs if (b := two_way_return(e)) is not None]
    backs_out = [b for e in ins if (b := two_way_return(e)) is not None]
    ins += backs_in
    outs += backs_out
    return _section("Inbound traffic", block(ins, True)) + _section("Outbound traffic", block(outs, False))


def _stat_name(quantile: str) -> str:
    """A response time statistic in words: "average", "median", "95th percentile"."""
    names = {"avg": "average", "0.5": "median", "0.95": "95th percentile", "0.99": "99th percentile"}
    return names.get(quantile, f"quantile {quantile}")


def _whole_percent(percent: float) -> str:
    """A share in whole percent that never says none or all when it is neither ("<1%", ">99%")."""
    if 0.0 < percent < 0.5:
        return "<1%"
    if 99.5 <= percent < 100.0:
        return ">99%"
    return f"{percent:.0f}%"


def _members(graph: TrafficGraph, box_id: str) -> set[str]:
    """Ids of the nodes inside a box, nested boxes included."""
    inside: set[str] = set()
    frontier = {box_id}
    while frontier:
        frontier = {n.id for n in graph.nodes.values() if n.parent in frontier} - inside
        inside |= frontier
    return inside


def _pods_unread(inv: Inventory | None, w: Workload) -> bool:
    """Whether ``w`` lists no pods only because its namespace's pods could not be read."""
    return not w.pods and inv is not None and inv.unread(w.namespace, ("pods",))


def _services_text(inv: Inventory, ns: str, names: Sequence[str]) -> str:
    """A "Services" section's body: the names, or none, or not known when ``ns``'s could not be read."""
    if not names and inv.unread(ns, ("services",)):
        return f"<i>not known: the Services of {_e(ns)} could not be read</i>"
    return _list([_e(n) for n in names])


def _pods(w: Workload, ambient: bool = False, control_planes: frozenset[str] = CONTROL_PLANE_NAMESPACES,
          unread: bool = False) -> str:
    if not w.pods:
        return f"<i>not known: the pods of {_e(w.namespace)} could not be read</i>" if unread else "<i>no pods</i>"
    rows = []
    proxy_itself = is_waypoint(w) or is_gateway(w)
    control_plane = w.namespace in control_planes
    for p in w.pods:
        ready, total = p.ready_count
        if proxy_itself:  # its istio-proxy container is the workload, not a sidecar
            side = f"proxy {_e(p.proxy_version)}" if p.proxy_version else "proxy"
        elif control_plane and not p.has_sidecar:
            side = "control plane"
        elif ambient:
            side = "ambient (ztunnel)" if not p.has_sidecar else f"sidecar {_e(p.proxy_version) or 'yes'}"
        else:
            side = f"sidecar {_e(p.proxy_version) or 'yes'}" if p.has_sidecar else \
                "<span style='color:#d18b00'>no sidecar</span>"
        if p.proxy_synced is not None:
            stale = [f"{k} {v}" for k, v in sorted(p.proxy_sync.items()) if v != "Synced"]
            side += ", in sync with istiod" if p.proxy_synced else \
                f", <span style='color:#d18b00'>not in sync with istiod ({_e('; '.join(stale))})</span>"
        # why a container is not running (CrashLoopBackOff, ImagePullBackOff, OOMKilled...), as Lens shows,
        # with the container's name: the app's crash and the sidecar's ask for different fixes
        reasons = [(c.name, *c.state.partition(":")[::2]) for c in p.containers + p.init_containers]
        why = [f"{name}: {reason}" for name, state, reason in reasons
               if state in ("waiting", "terminated") and reason not in ("", "Completed")]
        # kubectl's STATUS: "Terminating" (a rollout's old pods, still ready), a reason such as "Evicted"
        # (in red: the pod is gone, whatever its phase), else the phase
        state = _coloured(_e(p.status_text or "?"), HEALTH_COLOUR[FAILURE] if p.reason and not p.deleted else None)
        rows.append(f"{_e(p.name)}: {ready}/{total} ready, {state}"
                    + (f" (<span style='color:#c9190b'>{_e('; '.join(why))}</span>)" if why else "")
                    + f", {side}" + (f", {counted(p.restarts, 'restart')}" if p.restarts else ""))
    return "<br>".join(rows)


# -- the panel -----------------------------------------------------------------------------------
def _mtls_html(status: MeshTls | NamespaceTls) -> str:
    """An mTLS status (mesh-wide or a namespace's) and, in grey under it, what decides it."""
    colour = "#c9190b" if status.icon == "open" and status.label != "not enabled" else None
    name = status.headline if isinstance(status, MeshTls) else status.label
    why = status.reasons()
    return _coloured(f"<b>{_e(name)}</b>", colour) + "".join(
        f"<br><span style='color:{MUTED}'>{_e(r)}</span>" for r in why)


class SidePanel(QWidget):
    """Shows what is selected. ``kind`` says which panel is showing (for tests and the dock title)."""

    configRequested = Signal(object)  # (kind, namespace, name): an Istio object's link was clicked
    # a summary was made of a graph without ``list_health`` (its apps' health then counted on the graph's
    # own nodes): whoever can judge that graph's apps apart (the window's docks, in a thread) is asked to
    appHealthWanted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._body_html = ""
        self.graph: TrafficGraph | None = None
        self._no_graph = _WAITING  # what the panel says while it has no graph
        self.inventory: Inventory | None = None
        # the namespaces the snapshot shown was taken for (None: not a snapshot, or not known)
        self.snapshot_holds: list[str] | None = None
        self.ids: list[str] = []
        self.kind = "summary"
        # the last summary made: (graph, inventory, its other inputs, (title, subtitle, body))
        self._summary_memo: tuple[TrafficGraph, Inventory | None, tuple[Any, ...], tuple[str, str, str]] | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.title = NameLabel()  # a long name breaks after its dashes rather than being cut off
        self.title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        lay.addWidget(self.title)
        self.subtitle = NameLabel()
        lay.addWidget(self.subtitle)
        self.body = QTextBrowser()
        self.body.setAccessibleName("Details of the selection")
        self.body.setOpenLinks(False)
        self.body.anchorClicked.connect(self._link_clicked)
        self.body.setFrameShape(QTextBrowser.Shape.NoFrame)
        lay.addWidget(self.body, 1)
        self.setMinimumWidth(260)
        self.body.setMinimumHeight(220)  # charts placed under the panel must not squeeze the details away
        from meshdesk.ui.theme import theme_signals

        theme_signals.changed.connect(self._theme_changed)
        self._theme_changed()
        self._render()

    @Slot()
    def _theme_changed(self, _name: str = "") -> None:
        """Show the text in colours that can be read on the theme now showing."""
        from meshdesk.ui.theme import current_theme

        theme = current_theme()
        self.subtitle.setStyleSheet(f"color: {for_theme(MUTED, theme)};")
        if self._body_html:
            self.body.setHtml(for_theme(self._body_html, theme))

    # what tests and the window read
    def text(self) -> str:
        return f"{self.title.text()}\n{self.subtitle.text()}\n{self.body.toPlainText()}"

    def set_data(self, graph: TrafficGraph | None, inventory: Inventory | None) -> None:
        """New data from a refresh: the selection stays if its ids still exist."""
        self.graph = graph
        self.inventory = inventory
        self._no_graph = _WAITING
        if graph is not None:
            self.ids = [i for i in self.ids if i in graph.nodes or i in graph.edges]
        self._render()

    def show_nothing(self, title: str, note: str) -> None:
        """No graph, and none coming until the user acts (no cluster open): say so, not "waiting"."""
        self.graph, self.inventory, self.ids = None, None, []
        self._no_graph = (title, note)
        self._render()

    def show_selection(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        self._render()

    # -- rendering ----------------------------------------------------------------------------
    def _render(self) -> None:
        self._render_selection()
        g = self.graph
        where = _cluster_words(g, self.inventory, self.ids[0]) if g is not None and len(self.ids) == 1 else ""
        if where:
            # a mesh of several clusters: which one the selection is in, as Kiali's side panel names it
            subtitle = self.subtitle.text()
            self.subtitle.setText(f"{subtitle} · {where}" if subtitle else where)

    def _render_selection(self) -> None:
        g = self.graph
        if g is None:
            title, note = self._no_graph
            self._show("summary", title, "", f"<i>{_e(note)}</i>")
            return
        if len(self.ids) > 1:
            self._multi(g)
            return
        if not self.ids:
            self._summary(g)
            return
        sel = self.ids[0]
        if sel in g.edges:
            self._edge(g, g.edges[sel])
            return
        node = g.nodes.get(sel)
        if node is None:
            self._summary(g)
        elif node.node_type == NODE_WORKLOAD:
            self._workload(g, node)
        elif node.node_type == NODE_APP:
            self._app(g, node)
        elif node.node_type == NODE_SERVICE and node.is_service_entry is not None:
            self._service_entry(g, node)
        elif node.node_type == NODE_SERVICE:
            self._service(g, node)
        elif node.node_type == NODE_AGGREGATE:
            self._operation(g, node)
        elif node.node_type == NODE_BOX and node.box == BOX_APP:
            self._app(g, node)
        elif node.node_type == NODE_BOX and node.box == BOX_NAMESPACE and node.namespace:
            self._summary(g, namespaces=[node.namespace], title=f"Namespace {node.namespace}",
                          extra=_traffic(g, node))
        elif node.node_type == NODE_BOX:
            self._summary(g, title=f"{node.box.capitalize()} {node.label}")
        else:
            self._unknown(g, node)
        extension = _extension_section(node) if node is not None else ""
        if extension:  # a Kiali extension's node (Kiali's "E" badge): which extension, and its own UI
            body = self._body_html
            # after the node's own facts (its first table), before the sections that follow them
            at = body.find("</table>")
            at = at + len("</table>") if at >= 0 else 0
            self._show(self.kind, self.title.text(), self.subtitle.text(), body[:at] + extension + body[at:])

    def _link_clicked(self, url: QUrl) -> None:
        key = config_key(url.toString())
        if key is not None:
            self.configRequested.emit(key)
        elif url.scheme() in ("http", "https"):  # an extension's own UI, in the browser
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(url)

    def links(self) -> list[tuple[str, str]]:
        """The panel's links: (their text, where they go), in order."""
        return [(html.unescape(re.sub(r"<[^>]+>", "", text)), href)
                for href, text in re.findall(r"<a href='([^']*)'>(.*?)</a>", self._body_html)]

    def _show(self, kind: str, title: str, subtitle: str, body: str) -> None:
        """``title`` and ``subtitle`` are plain text (names as they are), ``body`` HTML."""
        self.kind = kind
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        from meshdesk.ui.theme import current_theme

        self.body.setHtml(for_theme(body, current_theme()))
        self._body_html = body

    def copy_text(self) -> str:
        """The panel as text to paste into a ticket or a chat: a table's rows as "label: value" lines
        (``text()`` has each cell on a line of its own, as the widget lays them out)."""
        from PySide6.QtGui import QTextDocument

        rows = re.sub(r"<tr><td[^>]*>(.*?)</td><td>(.*?)</td></tr>", r"\1: \2<br>", self._body_html, flags=re.S)
        doc = QTextDocument()
        doc.setHtml(re.sub(r"</?table[^>]*>", "", rows))
        return f"{self.title.text()}\n{self.subtitle.text()}\n{doc.toPlainText()}".strip()

    def _multi(self, g: TrafficGraph) -> None:
        nodes = [g.nodes[i] for i in self.ids if i in g.nodes]
        edges = [g.edges[i] for i in self.ids if i in g.edges]
        rows = [f"{_e(n.node_type)}: <b>{_e(n.label)}</b> ({_e(n.namespace)})" for n in nodes]
        rows += [f"edge {self._edge_name(g, e)}" for e in edges]
        self._show("multi", f"{len(self.ids)} selected", "", _list(rows))

    def _summary(self, g: TrafficGraph, namespaces: list[str] | None = None, title: str = "",
                 extra: str = "") -> None:
        # the same summary again (a click on the background after a node was selected, a box chosen
        # again): shown as it was made, not made again from every edge (12,000 edges: ~0.1 s)
        # (and the graph's apps judged apart since: made again, counted by that)
        others = (tuple(namespaces) if namespaces is not None else None, title, extra,
                  tuple(self.snapshot_holds) if self.snapshot_holds is not None else None,
                  id(g.list_health) if g.list_health is not None else None)
        memo = self._summary_memo
        if memo is not None and memo[0] is g and memo[1] is self.inventory and memo[2] == others:
            self._show("summary", *memo[3])
            return
        shown = self._make_summary(g, namespaces, title, extra)
        self._summary_memo = (g, self.inventory, others, shown)
        self._show("summary", *shown)
        if g.list_health is None:
            self.appHealthWanted.emit(g)

    def _make_summary(self, g: TrafficGraph, namespaces: list[str] | None, title: str,
                      extra: str) -> tuple[str, str, str]:
        """The summary's title, subtitle and body."""
        whole = inv = self.inventory
        nss = namespaces or list(g.request.namespaces) or sorted({n.namespace for n in g.nodes.values()
                                                                  if n.namespace})
        # one pass over the graph for every namespace (a big mesh has thousands of edges); with an
        # inventory merged from several clusters each namespace is told once per cluster, with that
        # cluster's objects and nodes (as Kiali's namespaces are each cluster's); "" stands for all
        several = whole is not None and merged(whole)
        lookup = inventory_lookup(whole, {n.cluster for n in g.nodes.values()}) if several else (lambda _c: "")
        health_by_ns: dict[tuple[str | None, str], Counter[str]] = {}
        for n in g.nodes.values():
            if n.health is not None and n.node_type != NODE_BOX:
                health_by_ns.setdefault((lookup(n.cluster), n.namespace), Counter())[n.health.status] += 1
        # each app's verdict on its requests (cluster, namespace, app), as the Namespaces list counts it
        app_requests = app_request_health(g, lookup)
        traffic_by_ns: Counter[tuple[str | None, str]] = Counter()
        for e in g.edges.values():
            target = g.nodes.get(e.target)
            if target is not None and e.rate > 0 and not e.is_idle:
                traffic_by_ns[(lookup(target.cluster), target.namespace)] += 1
        parts: list[str] = []
        scopes: list[tuple[str, Inventory | None]] = [("", whole)]
        if several and whole is not None:
            part_of = inventory_part(whole, ())
            held = {n.cluster for n in whole.namespaces} | {w.cluster for w in whole.workloads} \
                | {o.cluster for o in whole.istio}
            scopes = [(c, part_of(c)) for c in sorted({c or whole.cluster for c in held})]
        for cluster, inv in scopes:
            self._namespace_sections(g, inv, nss, cluster, health_by_ns, traffic_by_ns, parts, app_requests)
        inv = whole
        if inv is not None:
            if not inv.istio_found:  # when it is, the control plane and mesh config below say so
                parts.append(_section("Istio", "<span style='color:#c9190b'>not found: Istio's resources are not "
                                      "served by this cluster</span>"))
            if inv.istio_found:
                # of a mesh of several clusters, each cluster's istiods and proxies, named by cluster
                for cluster, rows in control_plane_rows_by_cluster(inv):
                    parts.append(_section(f"Control plane (cluster {cluster})" if cluster else "Control plane", _table(
                        [(k, f"<span style='color:#c9190b'>{_e(v)}</span>" if problem else _e(v))
                         for k, v, problem in rows])))
                parts.append(_section("Mesh config", _table(
                    [*((k, _e(v)) for k, v in mesh_config_rows(inv.mesh_settings)),
                     *((k, _e(v)) for k, v in revision_config_rows(inv)),
                     ("Mesh-wide mTLS", _mtls_html(self._mtls(g, inv, inv.mesh_settings.root_namespace).mesh))])))
            by_cluster = inv.hidden_by_cluster()
            if any(h for _c, h in by_cluster):
                parts.append(_section("Could not read", "<br>".join(
                    f"{_e(k)}{_e(f' in cluster {c}') if len(by_cluster) > 1 else ''}: {_e(v)}"
                    for c, h in by_cluster for k, v in sorted(h.items()))))
        touching = [e for e in g.edges.values() if namespaces is None
                    or any(g.nodes[x].namespace in nss for x in (e.source, e.target) if x in g.nodes)]
        # as Kiali's graph totals: an injected service node's edge onward repeats its incoming edge;
        # but a service graph (reduced from an injected one, its service nodes still marked injected)
        # has only service-to-service edges, every one its own
        service_graph = g.request.graphType == "service" and g.request.node is None
        # each edge carrying traffic with its rate and failed share, worked out once (12,000 edges of a
        # big mesh were read three times over, every refresh)
        at = g.nodes
        moving: list[tuple[Edge, float, float]] = []
        for e in touching:
            if not e.is_idle:
                rate = e.rate
                if rate > 0:
                    moving.append((e, rate, error_share(e)))
        in_scope = moving if service_graph else [
            m for m in moving if not ((src := at.get(m[0].source)) is not None and src.is_injected)]
        # the graph's traffic as Kiali's summary tabulates it: entering from its traffic sources,
        # leaving the chosen namespaces, and all of it (an injected service's onward edges left out)
        messages = grpc_messages(g.request)
        inside = {nid for nid, n in at.items() if n.node_type != NODE_BOX and n.namespace in nss}
        rows_t = [("Inbound", [m for m in moving if (src := at.get(m[0].source)) is not None and src.is_root]),
                  ("Outbound", [m for m in moving if m[0].source in inside and m[0].target not in inside]),
                  ("Total", in_scope)]
        if any(edges for _name, edges in rows_t):
            parts.append(_section("Traffic", _table([(name, "; ".join(_rate_lines(edges, messages)) or "none")
                                                     for name, edges in rows_t])))
        failing = heapq.nlargest(5, ((share, i, e) for i, (e, _rate, share) in enumerate(in_scope) if share > 0),
                                 key=lambda t: (t[0], -t[1]))
        if failing:
            parts.append(_section("Highest error shares", _list([
                f"{self._edge_name(g, e)}: <span style='color:{_error_colour(e)}'>{fmt_pct(share)}</span>"
                for share, _, e in failing])))
        # by requests per second: bytes and gRPC messages are other units
        busiest = heapq.nlargest(5, (m for m in in_scope if m[0].protocol == "http"
                                     or (m[0].protocol == "grpc" and not messages)), key=lambda m: m[1])
        if busiest:
            parts.append(_section("Busiest edges", _list([
                f"{self._edge_name(g, e)}: {fmt_rate(rate, e.protocol)}" for e, rate, _share in busiest])))
        nodes = [n for n in g.nodes.values() if n.node_type != NODE_BOX
                 and (namespaces is None or n.namespace in nss)]
        sub = f"{counted(len(nodes), 'node')}, {counted(len(touching), 'edge')}"  # a namespace box's own, as Kiali counts them
        if extra:
            parts.append(extra)
        if g.warnings:
            parts.append(_section("Warnings", "<br>".join(_e(w) for w in g.warnings[:20])))
        if not title and g.request.node is not None:
            from meshdesk.ui.nodegraph import focus_text

            title = f"Node graph of {focus_text(g.request.node)}"
        return (title or ("Namespaces: " + ", ".join(nss) if nss else "No namespace selected"),
                sub, "".join(parts) or "<i>Nothing here yet.</i>")

    def _namespace_sections(self, g: TrafficGraph, inv: Inventory | None, nss: list[str], cluster: str,
                            health_by_ns: Mapping[tuple[str | None, str], Counter[str]],
                            traffic_by_ns: Mapping[tuple[str | None, str], int], parts: list[str],
                            app_requests: Mapping[tuple[str | None, str, str], str]) -> None:
        """The summary's section of each namespace of ``nss`` in ``inv`` (of ``cluster``'s, when the
        inventory is merged from several: its title says which). Its health is its apps', as Kiali's
        overview counts them (each app's requests and pods); without an inventory, its nodes'."""
        ambient = ambient_namespaces(inv)
        config_by_ns: dict[str, list[IstioObject]] = {}  # one pass over the config for every namespace
        for o in inv.istio if inv is not None else ():
            config_by_ns.setdefault(o.namespace, []).append(o)
        where = f" (cluster {_e(cluster)})" if cluster else ""
        for ns in nss:
            rows: list[tuple[str, str]] = []
            if cluster and inv is not None and inv.namespace(ns) is None and all(w.namespace != ns
                                                                             for w in inv.workloads):
                continue  # a namespace only another of the clusters has
            if inv is not None and inv.cluster_namespaces is not None and ns not in inv.cluster_namespaces:
                # chosen (remembered, or given with -n), but not in the cluster: no counts, no mTLS mode
                parts.append(_section(f"Namespace {ns}{where}",
                                      "<span style='color:#c9190b'>not found in this cluster</span>"))
                continue
            if self.snapshot_holds is not None and ns not in self.snapshot_holds:
                # chosen with Other namespace… beside those of the snapshot: not "0 apps", nothing was recorded
                holds = ", ".join(_e(n) for n in self.snapshot_holds) or "no namespace"
                parts.append(_section(f"Namespace {ns}{where}", "<span style='color:#c9190b'>not in this snapshot</span>: "
                                                                f"it was taken for {holds}"))
                continue
            if inv is not None:
                wls = [w for w in inv.workloads if w.namespace == ns]
                # what could not be read is not "0": say so (the "Could not read" section says why)
                unread_workloads = inv.unread(ns, WORKLOAD_LISTS)
                unread_pods = inv.unread(ns, ("pods",))

                def count(n: int, unread: bool) -> str:
                    return (f"at least {n}" if n else "unknown") + " (not all could be read)" if unread else str(n)

                rows += [("Apps", count(len(inv.apps(ns)), unread_workloads)),
                         ("Workloads", count(len(wls), unread_workloads)),
                         ("Services", count(len([s for s in inv.services if s.namespace == ns]),
                                            inv.unread(ns, ("services",))))]
                if ns in ambient:
                    rows.append(("Data plane", _ambient_data_plane(inv.namespace(ns))))
                    waypoints = [_e(w.name) for w in wls if is_waypoint(w)]
                    # and those of other namespaces that something of this one is enrolled in
                    # (istio.io/use-waypoint-namespace): "none" would say no waypoint carries its requests
                    waypoints += [f"{_e(w.namespace)}/{_e(w.name)} (of another namespace)"
                                  for w in (*inv.workloads, *inv.outside_gateways)
                                  if w.namespace != ns and is_waypoint(w)
                                  and any(where == ns for _kind, where, _name in waypoint_serves(inv, w))]
                    rows.append(("Waypoints", ", ".join(waypoints) if waypoints else "none"))
                elif ns in control_plane_namespaces(inv):
                    rows.append(("Sidecars", "none expected (the control plane's namespace)"))
                elif unread_pods:
                    rows.append(("Missing sidecars", "unknown (its pods could not be read)"))
                else:
                    rows += _sidecar_rows(inv, ns, wls)
                rows += [(k, f"<span style='color:#c9190b'>{_e(v)}</span>" if problem else _e(v))
                         for k, v, problem in namespace_revision_rows(inv, ns)]
            health = health_by_ns.get((cluster, ns))
            apps = inv.apps(ns) if inv is not None else []
            if apps:
                # as Kiali's overview: how many of the namespace's apps are at each status (an app's
                # requests, all its versions', joined with its pods' state)
                health = app_health_counts(apps, app_requests, cluster if cluster else "")
            if health:
                rows.append(("App health" if apps else "Health", ", ".join(
                    f"<span style='color:{HEALTH_COLOUR.get(k, MUTED)}'>{v} {_e(health_text(k))}</span>"
                    for k, v in sorted(health.items()))))
            rows.append(("Edges with traffic", str(traffic_by_ns.get((cluster, ns), 0))))
            if inv is not None and inv.istio_found:
                rows.append(("mTLS", _mtls_html(self._mtls(g, inv, ns))))
                if g.validations is not None:
                    rows.append(("Istio config", _config_html(inv, g.validations, ns, config_by_ns.get(ns, []))))
            parts.append(_section(f"Namespace {ns}{where}", _table(rows)))

    def _mtls(self, g: TrafficGraph, inv: Inventory, ns: str) -> NamespaceTls:
        """``ns``'s mTLS status; those of the inventory's namespaces are weighed together, once per graph."""
        memo = getattr(self, "_mtls_memo", None)
        if memo is None or memo[0] is not g or memo[1] is not inv:
            memo = self._mtls_memo = (g, inv, {t.namespace: t for t in namespace_tls_all(
                inv, validations=g.validations)})
        found = memo[2].get(ns)
        return found if found is not None else namespace_tls(inv, ns, validations=g.validations)

    @staticmethod
    def _edge_name(g: TrafficGraph, e: Edge) -> str:
        src, dst = g.nodes.get(e.source), g.nodes.get(e.target)
        return f"{_e(src.label if src else '?')} &rarr; {_e(dst.label if dst else '?')}"

    def _inventory_of(self, g: TrafficGraph, node: Node) -> Inventory | None:
        """What the inventory holds of ``node``'s own cluster (an inventory merged from several clusters
        holds each one's, as Kiali shows a node's objects from its cluster); None when it holds nothing of
        it (the inventory was read from another cluster, whose telemetry a shared Prometheus holds too)."""
        inv = self.inventory
        return None if inv is None else inventory_part(inv, {n.cluster for n in g.nodes.values()})(node.cluster)

    def _not_read(self, node: Node) -> str:
        """The section saying a node's cluster was not read (``_inventory_of`` gave nothing)."""
        inv = self.inventory
        if inv is None:
            return ""
        why = inv.unread_clusters.get(node.cluster)
        if why is not None:  # (a cluster of the mesh whose context could not be read)
            return _section("Inventory", f"<i>not read: cluster {_e(node.cluster)} could not be read ({_e(why)})</i>")
        return _section("Inventory", f"<i>not read: this node is in cluster {_e(node.cluster)}, the inventory "
                                     f"was read from {_e(inv.cluster or 'another cluster')}</i>")

    def _workload(self, g: TrafficGraph, node: Node) -> None:
        inv = self._inventory_of(g, node)
        w = inv.workload(node.namespace, node.workload) if inv is not None else None
        # a gateway outside the chosen namespaces (the usual ingress gateway in istio-system): its pods
        # and replicas were read for its role in the graph, its services and config were not
        outside = inv.outside_gateway(node.namespace, node.workload) if inv is not None and w is None else None
        w = w or outside
        waypoint = bool(node.extra.get("isWaypoint"))
        ambient = is_ambient(w, ambient_namespaces(inv)) if w is not None else node.namespace in ambient_namespaces(inv)
        parts = []
        rows: list[tuple[str, str]] = [("Namespace", _e(node.namespace))]
        if waypoint:
            rows.insert(0, ("Role", "<b>Ambient waypoint</b>: the L7 proxy that carries requests to the ambient "
                                    "namespaces, services and workloads enrolled in it (istio.io/use-waypoint; "
                                    "what it reports is their HTTP/gRPC traffic)"))
            if w is not None and inv is not None:
                served = waypoint_serves(inv, w)
                rows.insert(1, ("Serves", "<br>".join(
                    _e(f"{kind} {ns}" if kind == "namespace" else f"{kind} {ns}/{name}") for kind, ns, name in served)
                    or "<i>nothing read is enrolled in it</i>"))
        if w is not None:
            rows.insert(0, ("Kind", _e(w.kind)))
            rows += _app_version_rows(w, waypoint or is_waypoint(w))
            if outside is None or (inv is not None and counted_outside_gateway(inv, w.namespace, w.name) is not None):
                rows += _controller_rows(w)  # (a snapshot made before an outside gateway's counts were read has none)
            if w.created:
                rows.append(("Created", _e(w.created)))
            sc = w.has_sidecar
            if waypoint or is_waypoint(w) or is_gateway(w):
                rows.append(("Sidecar", "none needed (it is a proxy itself)"))
            elif ambient and not sc:
                rows.append(("Sidecar", "none needed (ambient: ztunnel)"))
            elif w.namespace in (control_plane_namespaces(inv) if inv is not None else CONTROL_PLANE_NAMESPACES) \
                    and not sc:
                rows.append(("Sidecar", "none (the control plane is not in the mesh)"))
            elif sc is False and inv is not None:
                rows.append(("Sidecar", _missing_sidecar(inv, w)))
            else:
                rows.append(("Sidecar", "yes" if sc else "unknown (its pods could not be read)"
                             if _pods_unread(inv, w) else "unknown (no pods)"))
            versions = sorted({p.proxy_version for p in w.pods if p.proxy_version})
            if versions:
                rows.append(("Proxy version", _e(", ".join(versions))))
            synced = w.synced_proxies
            if synced >= 0:
                text = f"{synced} of {w.sidecar_pods} in sync with istiod"
                rows.append(("Proxy sync", text if synced >= w.sidecar_pods else
                             f"<span style='color:#d18b00'>{text}</span>"))
        else:
            rows += [("App", _e(node.app or "-")), ("Version", _e(node.version or "-"))]
            if node.has_missing_sidecar:
                rows.append(("Sidecar", "<span style='color:#d18b00'>missing</span>"))
        rows.append(("Health", _health_html(node.health)))
        rows += _tolerance_rows(g, node)
        rows += _routing_rows(node) + _entry_rows(node)
        rows[:0] = _gateway_rows(node)
        parts.append(_table(rows))
        parts.append(_findings(g, (WORKLOAD, node.namespace, node.workload), node.cluster))  # its ambient checks (Kiali's)
        if w is not None:
            parts.append(_section("Pods", _pods(w, ambient and not waypoint, control_plane_namespaces(inv)
                                                if inv is not None else CONTROL_PLANE_NAMESPACES,
                                                unread=_pods_unread(inv, w))))
            if outside is not None:
                parts.append(_section("Services", f"<i>not read: {_e(node.namespace)} is not among the chosen "
                                                  "namespaces (its gateway pods are read for the graph)</i>"))
            else:
                svcs = inv.services_for_workload(w) if inv is not None else []
                parts.append(_section("Services", _services_text(inv, w.namespace, [s.name for s in svcs])
                                      if inv is not None else _list([])))
                if inv is not None:
                    parts.append(_workload_config(g, inv, [w]))
            parts.append(_section("Labels", _labels(w.labels)))
        elif inv is not None:
            parts.append(_section("Inventory", f"<i>{_e(_workload_not_found(inv, node))}</i>"))
        else:
            parts.append(self._not_read(node))
        parts.append(_traffic(g, node))
        self._show("workload", f"{'Waypoint' if waypoint else 'Workload'} {node.workload}",
                   node.namespace + (" · ambient waypoint" if waypoint else "")
                   + (" · outside the chosen namespaces" if outside is not None else ""), "".join(parts))

    def _app(self, g: TrafficGraph, node: Node) -> None:
        inv = self._inventory_of(g, node)
        parts = []
        rows: list[tuple[str, str]] = [("Namespace", _e(node.namespace))]
        if node.version:
            rows.append(("Version", _e(node.version)))
        rows.append(("Health", _health_html(node.health)))
        if node.version and inv is not None:
            rows += _version_pods_rows(inv, node)
        rows += _tolerance_rows(g, node)
        rows += _routing_rows(node) + _entry_rows(node)
        rows[:0] = _gateway_rows(node)
        parts.append(_table(rows))
        if inv is not None:
            ambient_ns = ambient_namespaces(inv)
            app = next((a for a in inv.apps(node.namespace) if a.name == node.app), None)
            if app is not None:
                wls = [w for w in app.workloads if w.runs_version(node.version)]
                parts.append(_workloads_findings(g, wls, node.cluster))
                rows2 = []
                for w in wls:
                    ready = sum(p.ready_count[0] == p.ready_count[1] for p in w.pods)
                    rows2.append(f"<b>{_e(w.name)}</b> ({_e(w.version or 'no version')}): "
                                 + ("pods not known (they could not be read)" if _pods_unread(inv, w) else
                                    f"{ready}/{len(w.pods)} pods ready")
                                 + ("" if w.has_sidecar is not False else ", ambient (ztunnel)"
                                    if is_ambient(w, ambient_ns) else ", opts out of the sidecar"
                                    if sidecar_gap(inv, w) == OPTED_OUT else
                                    ", <span style='color:#d18b00'>no sidecar</span>"
                                    + (": restart it to get one" if _predates_injection(inv, w) else "")))
                if not rows2 and node.version:  # its version is gone (a rollout since its requests)
                    rows2.append(f"<i>none: no workload of {_e(node.app)} has version={_e(node.version)} (its "
                                 f"versions: {_e(', '.join(app.versions) or 'none labelled')})</i>")
                parts.append(_section("Workloads", _list(rows2)))
                parts.append(_section("Versions", _e(", ".join(app.versions) or "-")))
                if node.version:  # one version's workloads: the config that applies to them
                    parts.append(_workload_config(g, inv, wls))
                svcs: dict[str, Service] = {}
                for w in app.workloads:
                    for s in inv.services_for_workload(w):
                        svcs[s.name] = s
                parts.append(_section("Services", _services_text(inv, node.namespace, sorted(svcs))))
                vss: list[IstioObject] = []
                drs: list[IstioObject] = []
                for name in sorted(svcs):
                    v, d = rules_for_host(inv, name, node.namespace)
                    vss += [o for o in v if o not in vss]
                    drs += [o for o in d if o not in drs]
                parts.append(self._rules(vss, drs, _unread_rules(inv, self._rule_namespaces(g, node.namespace))))
            outside = [w for w in inv.outside_gateways if app is None and w.namespace == node.namespace
                       and w.app == node.app and w.runs_version(node.version)]
            if outside:  # a gateway outside the chosen namespaces: its pods were read, its services not
                parts.append(_section("Workloads", _list([
                    f"<b>{_e(w.name)}</b> ({_e(w.kind)}): "
                    f"{sum(p.ready_count[0] == p.ready_count[1] for p in w.pods)}/{len(w.pods)} pods ready"
                    for w in outside])))
            elif app is None and node.namespace and node.namespace != UNKNOWN:
                parts.append(_section("Workloads", f"<i>{_e(_app_not_found(inv, node))}</i>"))
        else:
            outside = []
            parts.append(self._not_read(node))
        parts.append(_traffic(g, node))
        self._show("app", f"App {node.label}",
                   node.namespace + (" · outside the chosen namespaces" if outside else ""), "".join(parts))

    def _rules(self, vss: list[IstioObject], drs: list[IstioObject], unread: Mapping[str, list[str]]) -> str:
        """The VirtualServices and DestinationRules of an app's services or a ServiceEntry's hosts, each a
        link that opens it in the Istio config view (as a service's are)."""
        def rows(objs: list[IstioObject]) -> list[str]:
            return [f"<div>{config_link(o, f'{_e(o.namespace)}/<b>{_e(o.name)}</b>')}</div>" for o in objs]

        return _rules_list("VirtualServices", rows(vss), unread) + _rules_list("DestinationRules", rows(drs), unread)

    def _rule_namespaces(self, g: TrafficGraph, ns: str) -> list[str]:
        """Where the rules of a node of ``ns`` may be: its own namespace, then the others chosen."""
        return [ns, *g.request.namespaces]

    def _service(self, g: TrafficGraph, node: Node) -> None:
        inv = self._inventory_of(g, node)
        svc = inv.service(node.namespace, node.service) if inv is not None else None
        parts = []
        rows: list[tuple[str, str]] = [("Namespace", _e(node.namespace))]
        if svc is not None:
            rows += _service_rows(svc)
        rows.append(("Health", _health_html(node.health)))
        rows += _tolerance_rows(g, node)
        rows += _routing_rows(node)
        parts.append(_table(rows))
        parts.append(_findings(g, (SERVICE, node.namespace, node.service), node.cluster))
        if svc is not None and inv is not None:
            parts.append(_service_backends(inv, svc))
            parts.append(_service_endpoints(inv, svc))
        elif inv is not None:
            # a host of a ServiceEntry is a service of its namespace (an idle one when nothing called it)
            listed = next((h for h in listed_hosts(inv) if (h.namespace, h.name) == (node.namespace, node.service)),
                          None)
            entry = None if listed is None else next(
                (o for o in inv.mesh_config("ServiceEntry") if (o.namespace, o.name) == (listed.namespace, listed.entry)),
                None)
            if entry is not None:
                # what its ServiceEntry's node would say (resolution, ports, endpoints, findings), as
                # Kiali's service page of an entry's host does, with the entry a link to its YAML
                link = config_link(entry, f"{_e(entry.namespace)}/<b>{_e(entry.name)}</b>")
                hosts = ", ".join(str(h) for h in as_list(as_dict(entry.spec).get("hosts")))
                parts.append(_section("ServiceEntry", _table([("Defined by", link), ("Hosts", _e(hosts)),
                                                              *_entry_spec_rows(as_dict(entry.spec), True, "")]))
                             + _findings(g, (entry.kind, entry.namespace, entry.name), entry.cluster or node.cluster)
                             + _entry_endpoints(inv, entry))
            elif listed is not None:
                parts.append(_section("ServiceEntry", f"a host of <b>{_e(listed.namespace)}/{_e(listed.entry)}</b>"))
            else:
                parts.append(_section("Inventory", f"<i>{_e(_service_not_found(inv, node))}</i>"))
        else:
            parts.append(self._not_read(node))
        vss, drs = rules_for_host(inv, node.service, node.namespace)
        parts.append(_rules_with_routes(vss, drs, _unread_rules(inv, self._rule_namespaces(g, node.namespace))))
        if svc is not None and inv is not None:
            parts.append(_gateway_api_routes(g, inv, svc))
        parts.append(_traffic(g, node))
        self._show("service", f"Service {node.service}", node.namespace, "".join(parts))

    def _service_entry(self, g: TrafficGraph, node: Node) -> None:
        inv = self.inventory
        se_info = node.is_service_entry
        assert se_info is not None
        obj = None
        if inv is not None and se_info.name:
            # the entry may be defined outside the chosen namespaces: Istio applies it from anywhere
            obj = next((o for o in inv.mesh_config("ServiceEntry")
                        if o.name == se_info.name and (not se_info.namespace or o.namespace == se_info.namespace)),
                       None)
        spec = as_dict(obj.spec) if obj is not None else {}
        # a hand-written spec may hold a string where a list belongs: it reads as empty, never letter by letter
        hosts = [str(h) for h in (as_list(spec.get("hosts")) or se_info.hosts or [node.service])]
        rows: list[tuple[str, str]] = [("Hosts", _e(", ".join(hosts)))]
        rows += _entry_spec_rows(spec, obj is not None, se_info.location)
        if obj is not None:
            rows.insert(0, ("ServiceEntry", config_link(obj, f"{_e(obj.namespace)}/{_e(obj.name)}")))
        parts = [_table(rows)]
        if obj is not None:
            # as a Service's panel gives its own
            parts.append(_findings(g, (obj.kind, obj.namespace, obj.name), obj.cluster or node.cluster))
        if obj is not None and inv is not None:
            parts.append(_entry_endpoints(inv, obj))
        else:
            parts.append(_section("Endpoints", "<i>not known: the ServiceEntry was not read</i>"))
        vss: list[IstioObject] = []
        drs: list[IstioObject] = []
        if inv is not None:
            ns = se_info.namespace or node.namespace
            for h in hosts:
                v, d = rules_for_host(inv, h, ns)
                vss += [o for o in v if o not in vss]
                drs += [o for o in d if o not in drs]
        # what each does, as a service's panel says it (a DestinationRule's TLS origination, its circuit breaker)
        parts.append(_rules_with_routes(vss, drs, _unread_rules(inv, self._rule_namespaces(g, se_info.namespace
                                                                                           or node.namespace))))
        ins = list(g.in_edges(node.id))
        # requests and bytes are other units: a total of each there is
        requests = [e.rate for e in ins if e.protocol == "http" or (e.protocol == "grpc" and not grpc_messages(g.request))]
        tcp = [e.rate for e in ins if e.protocol == "tcp"]
        totals = ([f"{fmt_rate(sum(requests))} in requests"] if requests else []) + \
            ([f"{fmt_bytes_rate(sum(tcp))} over TCP"] if tcp else [])
        parts.append(_section("Traffic from the mesh", ", ".join(totals) if totals else "none")
                     + _traffic(g, node))
        self._show("serviceentry", f"ServiceEntry {se_info.name or node.service}",
                   ", ".join(hosts), "".join(parts))

    def _operation(self, g: TrafficGraph, node: Node) -> None:
        ins = list(g.in_edges(node.id))
        outs = list(g.out_edges(node.id))
        edges = ins or outs
        rate = sum(e.rate for e in ins)
        errs = sum(error_share(e) * e.rate for e in ins)
        times = [e.response_time for e in edges if e.response_time is not None]
        rows: list[tuple[str, str]] = [
            ("Operation", _e(node.aggregate_value)),
            ("Service", _e(node.service or "-")),
            ("Namespace", _e(node.namespace)),
            ("Rate", fmt_rate(rate)),
            ("Errors", fmt_pct(errs / rate) if rate else "0%"),
            # as in Kiali, the graph keeps no response time on an operation's edges: no row then (the
            # Metrics dock charts its request durations), rather than "n/a" beside a chart with numbers
            *([("Response time", _e(fmt_ms(max(times))))] if times else []),
            ("Health", _health_html(node.health)),
        ]
        self._show("operation", f"Operation {node.aggregate_value}", node.namespace,
                   _table(rows) + _traffic(g, node))

    def _edge(self, g: TrafficGraph, e: Edge) -> None:
        src = g.nodes.get(e.source)
        dst = g.nodes.get(e.target)
        a, b = (src.label if src else "?"), (dst.label if dst else "?")
        back = two_way_return(e)
        if back is None:
            self._show("edge", f"{a} → {b}", f"{e.protocol} edge", "".join(self._edge_parts(g, e)))
            return
        # an edge to an ambient waypoint with the waypoint's traffic back folded in: both directions
        parts = [_section(f"To the waypoint: {a} → {b}", "".join(self._edge_parts(g, e))),
                 _section(f"From the waypoint: {b} → {a}", "".join(self._edge_parts(g, back)))]
        self._show("edge", f"{a} ⇄ {b}", f"two-way {e.protocol} edge with an ambient waypoint", "".join(parts))

    @staticmethod
    def _edge_parts(g: TrafficGraph, e: Edge) -> list[str]:
        p = e.protocol
        messages = p == "grpc" and grpc_messages(g.request)
        rate = fmt_rate(e.rate, p, messages)
        if messages:
            rate += ", " + _e(_GRPC_MESSAGES.get(g.request.rateGrpc, "messages"))
        elif p == "tcp":  # which bytes the graph counts (its TCP rate choice)
            rate += ", " + _e(_TCP_BYTES.get(g.request.rateTcp, "bytes"))
        rows: list[tuple[str, str]] = [("Protocol", _e(p)), ("Rate", rate)]
        if p != "tcp":
            pct = e.rates.get(f"{p}PercentReq")
            if pct is not None:
                rows.append((f"Share of source's {'messages' if messages else 'requests'}", _e(fmt_percent(pct))))
            rows.append(("Errors", "not known: message counts carry no response codes" if messages
                         else fmt_pct(error_share(e))))
        if e.response_time is not None:
            rows.append(("Response time", f"{_e(fmt_ms(e.response_time))} ({_e(_stat_name(g.request.responseTimeQuantile))})"))
        if e.throughput is not None:
            rows.append(("Throughput", _e(fmt_bytes_rate(e.throughput))))
        if e.is_mtls is not None:
            rows.append(("mTLS", f"{_whole_percent(e.is_mtls)} of traffic"))
        elif e.extra.get("mtlsPolicy") == "unknown":
            # Kiali shows no mTLS for it; a share of those reports would read "0%"
            rows.append(("mTLS", _e('not reported: its reports name no security policy '
                                    '(connection_security_policy="unknown", as a waypoint\'s do), so no share is '
                                    'shown, as in Kiali (ztunnel carries the hops to and from a waypoint over '
                                    'mutual TLS)')))
        else:
            rows.append(("mTLS", "unknown"))
        if e.is_idle:
            rows.append(("Idle", "no traffic in the time window"))
        parts = [_table(rows)]
        by_code = [(k, v) for k, v in sorted(e.rates.items()) if k != p and not k.endswith("Percent")
                   and k not in (f"{p}PercentReq", f"{p}PercentErr")]
        if by_code and e.rate > 0:
            # as Kiali's rate bars: OK is what no other class took; each class with its share
            ok = e.rate - sum(v for _k, v in by_code)
            classes = [("OK", ok)] + [(_CLASS_NAMES.get(k[len(p):], k), v) for k, v in by_code]
            parts.append(_section("Rates by class", _table(
                (name, f"{fmt_rate(v, p, messages)} ({_e(fmt_percent(v / e.rate * 100))})")
                for name, v in classes if v > 0 or name == "OK")))
        if e.responses:
            rows2 = []
            hosts_all: dict[str, float] = {}
            host_codes: dict[str, list[str]] = {}  # host -> "503 0.1%", ... (which host gave which code)
            any_flags = False
            for code, detail in sorted(e.responses.items()):
                share = sum(detail.flags.values()) or sum(detail.hosts.values())
                flags = ", ".join(f"{f} {fmt_percent(v)}" for f, v in sorted(detail.flags.items()) if f != "-")
                any_flags = any_flags or bool(flags)
                rows2.append((response_label(p, code), _e(fmt_percent(share))
                              + (f" <span style='color:{MUTED}'>(flags {_e(flags)})</span>" if flags else "")))
                for h, v in detail.hosts.items():
                    hosts_all[h] = hosts_all.get(h, 0.0) + v
                    host_codes.setdefault(h, []).append(f"{response_label(p, code)} {fmt_percent(v)}")
            # a TCP edge has one "code"; its table shows only when it has flags to tell (UF, DC, ...)
            if (p != "tcp" and not messages) or len(rows2) > 1 or any_flags:
                parts.append(_section("Responses", _table(rows2)))
            if hosts_all:
                # per host, its share; with several codes, which codes it answered (Kiali's hosts table
                # has a row per code and host, so a failing host can be told)
                several = len(rows2) > 1 and len(hosts_all) > 1  # one host: the Responses table says it
                parts.append(_section("Hosts", _list([
                    _e(h) + (f" ({_e(', '.join(host_codes[h]))})" if several else
                             f" ({_e(fmt_percent(v))})" if len(hosts_all) > 1 else "")
                    for h, v in sorted(hosts_all.items(), key=lambda kv: -kv[1])])))
        if e.source_principal or e.dest_principal:
            parts.append(_section("Principals", _table([("source", _e(e.source_principal or "-")),
                                                        ("destination", _e(e.dest_principal or "-"))])))
        return parts

    def _unknown(self, g: TrafficGraph, node: Node) -> None:
        what = "Unknown source (requests without sidecar identity)" if node.node_type == NODE_UNKNOWN \
            else node.node_type
        self._show("node", node.label, what, _traffic(g, node))
