"""Istio config validations: a verdict on each object, with a code, a severity and a message.

Codes that Kiali also checks use Kiali's ``KIA`` codes, so users can look them up in Kiali's
documentation; checks Kiali does not make use meshdesk's own ``MDK`` codes. Every check reads the
object defensively: an object with unexpected fields is validated as far as it can be and never
raises. Hosts or workloads in namespaces that are not in the inventory are not judged (we cannot
know), so a partial inventory never produces false errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from meshdesk.mesh.check_codes import IGNORED_BY_DEFAULT
from meshdesk.mesh.graph.ambient import is_ambient, is_waypoint
from meshdesk.mesh.graph.context import inventory_part, merged
from meshdesk.mesh.import_scope import ImportScope, host_namespaces, import_scope, parse_host
from meshdesk.mesh.inventory import (
    DEFAULT_TRUST_DOMAIN,
    Inventory,
    IstioObject,
    MeshConfig,
    Service,
    exported_to,
)
from meshdesk.mesh.mtls_common import Exports, namespace_rule_suffixes, peer_mode, peer_selector
from meshdesk.mesh.readers import as_dict as _dict
from meshdesk.mesh.readers import as_list as _list
from meshdesk.mesh.readers import as_str as _str
from meshdesk.mesh.routing import server_first
from meshdesk.mesh.sidecar_listeners import listener_problems

ERROR = "error"
WARNING = "warning"
INFO = "info"

CLUSTER_DOMAIN = "svc.cluster.local"


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    message: str
    path: str = ""
    # "namespace/workload" names the finding is about, when narrower than the whole object (e.g. the
    # sidecar-less workloads under a STRICT PeerAuthentication); empty = the object as a whole
    subjects: tuple[str, ...] = ()
    # the object is not valid although this is no error (Kiali: a gateway selecting no workload)
    invalidates: bool = False

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"{self.code} {self.message}{where}"


ObjectKey = tuple[str, str, str]  # (kind, namespace, name)
SERVICE = "Service"  # the kind in the keys of Kubernetes Services' validations
WORKLOAD = "Workload"  # the kind in the keys of workloads' validations (Kiali's workload checks)


@dataclass
class Validation:
    kind: str
    namespace: str
    name: str
    checks: list[Check]

    @property
    def valid(self) -> bool:
        """False when any check is an error (warnings keep an object valid, as in Kiali, but for
        the few Kiali counts as invalid: ``Check.invalidates``)."""
        return not any(c.severity == ERROR or c.invalidates for c in self.checks)

    @property
    def severity(self) -> str:
        """The worst severity: ``error``, ``warning``, ``info`` or ``""`` when there is nothing to say."""
        sevs = {c.severity for c in self.checks}
        for s in (ERROR, WARNING, INFO):
            if s in sevs:
                return s
        return ""


# -- defensive readers --------------------------------------------------------------------------

def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


def fqdn(host: str, namespace: str) -> str:
    """Istio's short-name resolution: ``reviews`` in ``shop`` -> ``reviews.shop.svc.cluster.local``;
    ``reviews.shop`` -> the same; anything with more dots is taken as written."""
    host = host.strip().lower()
    if not host or host == "*" or host.startswith("*."):
        return host
    parts = host.split(".")
    if len(parts) == 1:
        return f"{host}.{namespace}.{CLUSTER_DOMAIN}"
    if len(parts) == 2:
        return f"{host}.{CLUSTER_DOMAIN}"
    if len(parts) == 3 and parts[2] == "svc":  # <service>.<namespace>.svc
        return f"{parts[0]}.{parts[1]}.{CLUSTER_DOMAIN}"
    return host


def host_matches(pattern: str, host: str) -> bool:
    if pattern == host or pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if host.startswith("*."):
        return pattern.endswith(host[1:])
    return False


class _Registry:
    """What hosts and workloads exist, as far as the inventory can tell."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.gateways = {f"{g.namespace}/{g.name}" for g in (*inv.istio_objects("Gateway"), *inv.outside_gateway_configs)
                         if g.kind == "Gateway"}  # "namespace/name" of every Gateway known
        self.workloads_by_ns: dict[str, list[Any]] = {}
        self._by_label: dict[tuple[str, str, str], list[Any]] = {}  # (namespace, label, value) -> workloads
        for w in inv.workloads:
            self.workloads_by_ns.setdefault(w.namespace, []).append(w)
            for k, v in w.labels.items():
                self._by_label.setdefault((w.namespace, k, v), []).append(w)
        # every DestinationRule read defines subsets, those outside the selection too (one in the root
        # namespace, or another team's): Kiali judges subset references against the whole cluster's
        self.subsets = _SubsetIndex(inv.mesh_config("DestinationRule"))
        # when some could not be listed (outside the selection, or in a namespace), a subset found nowhere
        # may still be defined there
        self.rules_unread = any(k.endswith("/destinationrules") for k in inv.hidden)
        self._everywhere: dict[tuple[str, str], list[Any]] | None = None  # every workload by label, when asked
        self.namespaces = {n.name for n in inv.namespaces} | {w.namespace for w in inv.workloads} | {
            s.namespace for s in inv.services}
        self.service_hosts = {f"{s.name}.{s.namespace}.{CLUSTER_DOMAIN}": s for s in inv.services}
        self.entry_hosts: list[tuple[str, IstioObject]] = []
        for se in inv.mesh_config("ServiceEntry"):  # one outside the selection registers its hosts too
            for h in _list(se.spec.get("hosts")):
                if isinstance(h, str):
                    self.entry_hosts.append((fqdn(h, se.namespace), se))

    def knows_namespace_of(self, host: str) -> bool:
        """Can we judge ``host``? Only cluster hosts in a namespace we loaded, or any external host."""
        if host.endswith("." + CLUSTER_DOMAIN):
            ns = host[: -len(CLUSTER_DOMAIN) - 1].rsplit(".", 1)[-1]
            return ns in self.namespaces
        return True

    def host_exists(self, host: str, namespace: str | None = None) -> bool:
        """Whether a Service or ServiceEntry registers ``host``; with ``namespace``, one exported to it
        (as Kiali judges hosts: a Service's ``networking.istio.io/exportTo`` annotation, an entry's
        ``exportTo``, or without them the mesh config's ``defaultServiceExportTo``)."""
        if host.startswith("*"):
            return True
        svc = self.service_hosts.get(host)
        if svc is not None and (namespace is None or exported_to(self.service_export(svc), svc.namespace, namespace)):
            return True
        inv = self.inv  # each entry's default exportTo is its own namespace's control plane's
        return any(host_matches(h, host) and (namespace is None or exported_to(
            inv.settings_for(se.namespace).export_to(se), se.namespace, namespace))
                   for h, se in self.entry_hosts)

    def service_export(self, svc: Service) -> list[str]:
        """Where a Service is seen: its ``networking.istio.io/exportTo`` annotation (comma-separated), or
        the mesh config's ``defaultServiceExportTo``; empty for everywhere."""
        own = svc.annotations.get(SERVICE_EXPORT_ANNOTATION)
        if own is not None:
            return [e.strip() for e in own.split(",") if e.strip()]
        return list(self.inv.settings_for(svc.namespace).default_service_export_to)

    def unseen(self, host: str, namespace: str) -> str:
        """Why a host that is registered is not seen from ``namespace`` (its registrations' exportTo),
        in words; "" when it is seen there, or registered nowhere."""
        if self.host_exists(host, namespace) or not self.host_exists(host):
            return ""
        svc = self.service_hosts.get(host)
        if svc is not None:
            export = self.service_export(svc)
            how = (f"its {SERVICE_EXPORT_ANNOTATION} annotation" if SERVICE_EXPORT_ANNOTATION in svc.annotations
                   else "the mesh config's defaultServiceExportTo")
            where = "no namespace" if set(export) == {"~"} else f"{_export_words(export)} only"
            return f"Service {svc.namespace}/{svc.name} is exported to {where} ({how})"
        entries = sorted({f"{se.namespace}/{se.name}" for h, se in self.entry_hosts if host_matches(h, host)})
        return f"ServiceEntry {', '.join(entries)} is not exported to {namespace} (exportTo)"

    def workloads_for_host(self, host: str) -> list[dict[str, str]] | None:
        """Label sets of the workloads behind ``host``; None when the host is not a known service."""
        svc = self.service_hosts.get(host)
        if svc is not None:
            return [w.labels for w in self.selected_by(svc)]
        for pattern, se in self.entry_hosts:
            if host_matches(pattern, host):
                selector = _labels(_dict(se.spec.get("workloadSelector")).get("labels"))
                endpoints = [_labels(_dict(e).get("labels")) for e in _list(se.spec.get("endpoints"))]
                if selector:
                    return [w.labels for w in self.inv.workloads if w.namespace == se.namespace
                            and all(w.labels.get(k) == v for k, v in selector.items())]
                return endpoints
        return None

    def app_in_namespace(self, host: str, namespace: str) -> bool:
        """Whether ``host`` names, in ``namespace``, an app some workload there carries (Kiali accepts a
        DestinationRule for it without a Service)."""
        suffix = f".{namespace}.{CLUSTER_DOMAIN}"
        if not host.endswith(suffix):
            return False
        app = host[: -len(suffix)]
        return any(w.app == app for w in self.workloads_by_ns.get(namespace, ()))  # its first app label

    def workloads_selected(self, namespace: str, selector: Mapping[str, str]) -> list[Any]:
        """The namespace's workloads with every label of ``selector`` (all of them for an empty one),
        looked up by its rarest label: scanning the namespace per selector made one namespace of
        per-workload policies quadratic."""
        if not selector:
            return list(self.workloads_by_ns.get(namespace, ()))
        rarest = min((self._by_label.get((namespace, k, v), []) for k, v in selector.items()), key=len)
        return [w for w in rarest if all(w.labels.get(k) == v for k, v in selector.items())]

    def any_workload_selected(self, selector: Mapping[str, str]) -> bool:
        """Whether a workload of any namespace (gateways read outside the selection too) has every label
        of ``selector``: found through one of its labels, so Gateways cost the workloads they name."""
        index = self._everywhere
        if index is None:
            index = self._everywhere = {}
            for w in (*self.inv.workloads, *self.inv.outside_gateways):
                for k, v in w.labels.items():
                    index.setdefault((k, v), []).append(w)
        k, v = next(iter(selector.items()))
        return any(all(w.labels.get(a) == b for a, b in selector.items()) for w in index.get((k, v), ()))

    def selected_by(self, svc: Any) -> list[Any]:
        """The workloads a Service selects (looked up by one of its selector's labels)."""
        if not svc.selector:
            return []
        k, v = next(iter(svc.selector.items()))
        return [w for w in self._by_label.get((svc.namespace, k, v), ()) if svc.selects(w.labels)]



class _SubsetIndex:
    """Subset names some DestinationRules define, per host (wildcard hosts apart)."""

    def __init__(self, rules: Iterable[IstioObject]) -> None:
        self.by_host: dict[str, set[str]] = {}
        self.wildcards: list[tuple[str, set[str]]] = []
        for dr in rules:
            dr_host = fqdn(_str(_dict(dr.spec).get("host")), dr.namespace)
            if not dr_host:
                continue
            names = {_str(_dict(sub).get("name")) for sub in _list(_dict(dr.spec).get("subsets"))}
            if dr_host.startswith("*"):
                self.wildcards.append((dr_host, names))
            else:
                self.by_host.setdefault(dr_host, set()).update(names)

    def of(self, host: str) -> set[str] | None:
        """Subset names defined for ``host`` (None when no DestinationRule covers it)."""
        found = self.by_host.get(host)
        if host.startswith("*"):  # a wildcard route host: the rules for hosts it covers
            for h, names in self.by_host.items():
                if host_matches(h, host):
                    found = (found or set()) | names
        for pattern, names in self.wildcards:
            if host_matches(pattern, host):
                found = (found or set()) | names
        return found


# -- checks per kind -----------------------------------------------------------------------------

SERVICE_EXPORT_ANNOTATION = "networking.istio.io/exportTo"  # where Istio shows a Kubernetes Service


def _export_words(export: Sequence[str]) -> str:
    words = {".": "its own namespace", "*": "every namespace"}
    return ", ".join(words.get(e, e) for e in export if e != "~")


def _missing_host(code: str, reg: _Registry, host: str, namespace: str, missing: str, unseen: str,
                  path: str) -> Check:
    """The finding for a host not seen from ``namespace``: ``missing`` (what is said of a host nothing
    registers) or, for a host registered but not exported there, ``unseen`` and why."""
    why = reg.unseen(host, namespace)
    if why:
        return _unregistered(code, reg, f"{unseen} not seen in namespace {namespace}: {why}", path, namespace)
    return _unregistered(code, reg, missing, path, namespace)


def _unregistered(code: str, reg: _Registry, message: str, path: str, namespace: str) -> Check:
    """A host no registry entry has: an error where the mesh sends only registered hosts out
    (``outboundTrafficPolicy: REGISTRY_ONLY`` in the mesh config of ``namespace``'s own istiod
    revision, as Kiali asks the namespace's control plane); under Istio's default ``ALLOW_ANY`` the
    request still leaves the mesh (unrouted, as passthrough), so a warning that still marks the object
    not valid, as Kiali judges it."""
    if reg.inv.settings_for(namespace).outbound_policy == "REGISTRY_ONLY":
        return Check(code, ERROR, message, path)
    return Check(code, WARNING, message, path, invalidates=True)


def route_destinations(spec: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """The route destinations of a VirtualService's rules (as Kiali judges them: not its mirrors)."""
    for proto in ("http", "tcp", "tls"):
        for i, rule in enumerate(_list(spec.get(proto))):
            for j, route in enumerate(_list(_dict(rule).get("route"))):
                dest = _dict(_dict(route).get("destination"))
                if dest:
                    yield f"spec/{proto}[{i}]/route[{j}]/destination", dest


def _gateway_ref(name: str, namespace: str) -> tuple[str, bool]:
    """A VirtualService's gateway as "namespace/name", and whether it was written the old way
    ("name.namespace[.cluster domain]", which Istio still reads)."""
    if "/" in name:  # namespace/name (the name may hold dots)
        return name, False
    if "." in name:
        parts = name.split(".")
        return f"{parts[1]}/{parts[0]}", True
    return f"{namespace}/{name}", False


def _check_virtual_service(vs: IstioObject, reg: _Registry, inv: Inventory,
                           scoped: tuple[ImportScope, _SubsetIndex] | None = None) -> list[Check]:
    """``scoped``: the VirtualService's namespace imports only some hosts (its Sidecar), and the
    subsets the DestinationRules it imports define: subset references are judged among those, and
    not at all when none of its hosts is imported (Kiali)."""
    checks: list[Check] = []
    spec = vs.spec if isinstance(vs.spec, dict) else {}
    subsets_index = reg.subsets if scoped is None else scoped[1]
    judge_subsets = scoped is None or scoped[0].imports_any(vs)
    for path, dest in route_destinations(spec):
        host = fqdn(_str(dest.get("host")), vs.namespace)
        if not host:
            continue  # nothing to look for (the CRD schema requires a host)
        if reg.knows_namespace_of(host) and not reg.host_exists(host, vs.namespace):
            goes = f"route goes to host {dest.get('host')!r}, which"
            checks.append(_missing_host("KIA1101", reg, host, vs.namespace, f"{goes} does not exist (no Service or "
                                        "ServiceEntry)", f"{goes} is", path + "/host"))
        subset = _str(dest.get("subset"))
        if subset and judge_subsets:
            subsets = subsets_index.of(host)
            if reg.knows_namespace_of(host) and (subsets is None or subset not in subsets) \
                    and not reg.rules_unread:
                checks.append(Check("KIA1107", WARNING, f"subset {subset!r} of {dest.get('host')} is defined by no "
                                    "DestinationRule", path))
    checks += _check_route_weights(spec, vs.namespace, reg.namespaces)
    gateways = reg.gateways
    places = [("spec", _list(spec.get("gateways")))]
    for i, rule in enumerate(_list(spec.get("http"))):  # a rule may name gateways in its matches too
        for match in _list(_dict(rule).get("match")):
            places.append((f"spec/http[{i}]/match", _list(_dict(match).get("gateways"))))
    for where, names in places:
        for i, gw in enumerate(names):
            name = _str(gw)
            if not name or name == "mesh":
                continue
            full, dotted = _gateway_ref(name, vs.namespace)
            if dotted:
                checks.append(Check("KIA1108", INFO, f"gateway {name!r} is named the old way: write "
                                    f"{full!r} (namespace/name)", f"{where}/gateways[{i}]"))
            if full.split("/", 1)[0] in reg.namespaces | {g.split("/", 1)[0] for g in gateways} \
                    and full not in gateways:
                checks.append(Check("KIA1102", ERROR, f"gateway {name!r} does not exist", f"{where}/gateways[{i}]"))
    return checks


def _check_route_weights(spec: Mapping[str, Any], namespace: str, namespaces: set[str]) -> list[Check]:
    """KIA1104: a rule's only destination weighted below 100 (Istio sends it everything anyway);
    KIA1105: one host and subset twice among a rule's destinations."""
    checks: list[Check] = []
    for proto in ("http", "tcp", "tls"):
        for i, rule in enumerate(_list(spec.get(proto))):
            routes = [_dict(r) for r in _list(_dict(rule).get("route"))]
            if len(routes) == 1:
                weight = routes[0].get("weight")
                if isinstance(weight, int | float) and not isinstance(weight, bool) and 0 < weight < 100:
                    checks.append(Check("KIA1104", WARNING, f"the only destination's weight {weight:g} is taken as 100",
                                        f"spec/{proto}[{i}]/route[0]/weight"))
            seen: dict[tuple[tuple[str, str], str], list[int]] = {}
            for j, r in enumerate(routes):
                dest = _dict(r.get("destination"))
                if not dest:
                    continue  # nothing it goes to (Kiali skips it)
                key = (_host_key(_str(dest.get("host")), namespace, namespaces), _str(dest.get("subset")))
                seen.setdefault(key, []).append(j)
            for ((ns, service), subset), dups in seen.items():
                if len(dups) > 1:
                    what = f"{service}{'.' + ns if ns else ''}{' subset ' + subset if subset else ''}"
                    checks += [Check("KIA1105", WARNING, f"{what} is already a destination of this rule",
                                     f"spec/{proto}[{i}]/route[{j}]/host") for j in dups]
    return checks


def _routed_subsets(inv: Inventory) -> set[tuple[str, str]]:
    """(host, subset) pairs that VirtualService routes send requests to."""
    out: set[tuple[str, str]] = set()
    for vs in inv.istio_objects("VirtualService"):
        for _path, dest in route_destinations(_dict(vs.spec)):
            subset = _str(dest.get("subset"))
            if subset:
                out.add((fqdn(_str(dest.get("host")), vs.namespace), subset))
    return out


def _check_destination_rule(dr: IstioObject, reg: _Registry, routed: set[tuple[str, str]]) -> list[Check]:
    checks: list[Check] = []
    spec = dr.spec if isinstance(dr.spec, dict) else {}
    host = fqdn(_str(spec.get("host")), dr.namespace)
    if not host:
        return [_unregistered("KIA0202", reg, "DestinationRule has no host", "spec/host", dr.namespace)]
    if not reg.knows_namespace_of(host):
        return checks
    if not reg.host_exists(host, dr.namespace) and not reg.app_in_namespace(host, dr.namespace):
        checks.append(_missing_host("KIA0202", reg, host, dr.namespace, f"host {spec.get('host')!r} has no Service, "
                                    "workload or ServiceEntry", f"host {spec.get('host')!r} is", "spec/host"))
        return checks
    behind = None if host.startswith("*") else reg.workloads_for_host(host)  # a wildcard covers any
    unlabelled: list[Check] = []
    some_match = False
    for i, subset in enumerate(_list(spec.get("subsets"))):
        sub = _dict(subset)
        labels = _labels(sub.get("labels"))
        path = f"spec/subsets[{i}]"
        # a subset without a name (or an entry that is no subset) was said as "subset None"
        named = f"subset {sub['name']!r}" if isinstance(sub.get("name"), str) and sub["name"] else \
            f"subset {i + 1}, which has no name,"
        if not labels:
            unlabelled.append(Check("KIA0209", WARNING, f"{named} has no labels", path))
            continue
        if behind is not None and not any(all(w.get(k) == v for k, v in labels.items()) for w in behind):
            shown = ",".join(f"{k}={v}" for k, v in labels.items())
            # as Kiali: an error when requests are routed to it, else only worth knowing
            used = (host, _str(sub.get("name"))) in routed
            checks.append(Check("KIA0203", ERROR if used else INFO,
                                f"{named} selects {shown}, which matches no workload behind "
                                f"{spec.get('host')}" + ("" if used else " (no route uses it)"), path))
        else:
            some_match = True
    # a subset without labels beside one that selects workloads is only worth knowing (Kiali)
    checks += [Check(c.code, INFO, c.message, c.path) if some_match else c for c in unlabelled]
    return checks


def _check_gateway(gw: IstioObject, reg: _Registry) -> list[Check]:
    selector = _labels(_dict(gw.spec).get("selector"))
    if not selector:
        return []
    # Istio looks for gateway workloads in every namespace unless PILOT_SCOPE_GATEWAY_TO_NAMESPACE is set;
    # we can only judge when the inventory saw at least the gateway's namespace.
    if gw.namespace in reg.namespaces and not reg.any_workload_selected(selector):
        shown = ",".join(f"{k}={v}" for k, v in selector.items())
        return [Check("KIA0302", WARNING, f"no workload matches the gateway selector {shown}", "spec/selector",
                      invalidates=True)]
    return []


_RESOLUTIONS = ("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN")


def _check_service_entry(se: IstioObject) -> list[Check]:
    checks: list[Check] = []
    spec = _dict(se.spec)
    hosts = [h for h in _list(spec.get("hosts")) if isinstance(h, str)]
    if not hosts:
        checks.append(Check("MDK1201", ERROR, "ServiceEntry has no hosts", "spec/hosts"))
    if not _list(spec.get("ports")):
        checks.append(Check("MDK1202", WARNING, "ServiceEntry has no ports: traffic to it is not seen as HTTP "
                            "and cannot be routed by port", "spec/ports"))
    resolution = _str(spec.get("resolution")) or "NONE"
    endpoints = _list(spec.get("endpoints"))
    selector = _dict(spec.get("workloadSelector"))
    if resolution not in _RESOLUTIONS:
        checks.append(Check("MDK1203", ERROR, f"unknown resolution {resolution!r} (expected one of "
                            f"{', '.join(_RESOLUTIONS)})", "spec/resolution"))
    elif resolution == "STATIC" and not endpoints and not selector:
        checks.append(Check("MDK1204", ERROR, "resolution STATIC needs endpoints or a workloadSelector",
                            "spec/resolution"))
    elif resolution in ("DNS", "DNS_ROUND_ROBIN") and any(h.startswith("*") for h in hosts) and not endpoints:
        checks.append(Check("MDK1205", ERROR, f"resolution {resolution} cannot resolve a wildcard host without "
                            "endpoints", "spec/hosts"))
    elif resolution == "DNS_ROUND_ROBIN" and len(endpoints) > 1:
        checks.append(Check("MDK1206", ERROR, "resolution DNS_ROUND_ROBIN takes at most one endpoint",
                            "spec/endpoints"))
    elif resolution == "NONE" and endpoints:
        checks.append(Check("MDK1207", WARNING, "endpoints are ignored with resolution NONE", "spec/endpoints"))
    for i, ep in enumerate(endpoints):
        if not _str(_dict(ep).get("address")) and resolution in ("STATIC", "DNS", "DNS_ROUND_ROBIN"):
            checks.append(Check("MDK1208", ERROR, "endpoint has no address", f"spec/endpoints[{i}]"))
    return checks


# the protocols a Service port's name (``<protocol>[-suffix]``) or appProtocol may name (Kiali's list)
PORT_PROTOCOLS = ("grpc", "grpc-web", "http", "http2", "https", "mongo", "redis", "tcp", "tls", "udp", "mysql")
K8S_APP_PROTOCOLS = ("kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss")  # Istio knows these too
WIZARD_LABEL = "kiali_wizard"  # Services Kiali's wizards made are not judged (as Kiali)
_GATEWAY_SERVICE_LABELS = ("gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name")


def port_name_valid(name: str) -> bool:
    """Whether a Service port's name tells Istio its protocol: ``http``, ``http-web``, ``grpc-api`` ...
    (as Kiali tests it: the protocol exactly at the start, in lower case)."""
    return any(name.startswith(p) and (name.lower() == p or name[len(p):].startswith("-")) for p in PORT_PROTOCOLS)


def app_protocol_valid(value: str) -> bool:
    v = value.lower()
    return v in PORT_PROTOCOLS or v in K8S_APP_PROTOCOLS


def _gateway_service(svc: Any) -> bool:
    labels = svc.labels
    return labels.get("gateway.istio.io/managed") == "istio.io-mesh-controller" or \
        labels.get("operator.istio.io/component") in ("IngressGateways", "EgressGateways") or \
        any(k in labels for k in _GATEWAY_SERVICE_LABELS)


SIDECAR_STATUS = "sidecar.istio.io/status"  # what Istio's injector writes on the pods it gives a sidecar


def _injected(pod: Any) -> bool:
    """Whether Istio's injector gave the pod its proxy (a gateway runs a proxy of its own, not
    injected); a pod known without annotations (a hand-made snapshot) by its istio-proxy container."""
    return SIDECAR_STATUS in pod.annotations or (not pod.annotations and pod.has_sidecar)


def _check_service(svc: Any, reg: _Registry, ambient: set[str], root_namespace: str) -> list[Check]:
    """Kiali's Service checks. In the mesh (every pod behind it injected, or one in ambient mode), every port
    names its protocol: by ``appProtocol`` (KIA0602 when that is no protocol Istio knows) or else by
    its name (KIA0601); UDP ports are not judged. Outside the control plane's namespace, and for
    Services other than gateways and waypoints, some Deployment behind it declares the port it sends
    to (KIA0701; judged only when the pods' container ports are known)."""
    if WIZARD_LABEL in svc.labels:
        return []
    checks: list[Check] = []
    behind = reg.selected_by(svc)
    # Kiali's test: every pod behind it injected (so also a Service with no pods), or one captured by ztunnel
    if all(_injected(pod) for w in behind for pod in w.pods) or \
            any(w.pods and not is_waypoint(w) and w.labels.get("app") != "ztunnel" and is_ambient(w, ambient)
                for w in behind):
        for i, port in enumerate(svc.ports):
            if port.protocol.lower() == "udp":
                continue
            if port.app_protocol:
                if not app_protocol_valid(port.app_protocol):
                    checks.append(Check("KIA0602", ERROR, f"appProtocol {port.app_protocol!r} names no protocol Istio "
                                        f"knows (one of {', '.join(PORT_PROTOCOLS)})", f"spec/ports[{i}]"))
            elif not port_name_valid(port.name):
                named = f"port {port.name!r}" if port.name else f"port {port.port} has no name and"
                first = server_first(port)
                if first:  # Istio takes it as TCP: said so, at Kiali's severity (Kiali flags every such port)
                    checks.append(Check("KIA0601", ERROR, f"{named} does not name its protocol: Istio takes it "
                                        f"as TCP, {port.port} being {first}'s port, where the server speaks first "
                                        "(name it tcp[-suffix] or set appProtocol to say so)", f"spec/ports[{i}]"))
                    continue
                checks.append(Check("KIA0601", ERROR, f"{named} does not name its protocol: Istio cannot tell "
                                    "how to route it (name it <protocol>[-suffix], e.g. http-web, or set "
                                    "appProtocol)", f"spec/ports[{i}]"))
    if svc.namespace == root_namespace or _gateway_service(svc):
        return checks
    deployments = [w for w in behind if w.kind == "Deployment"]
    known = [c for w in deployments for pod in w.pods for c in pod.containers if c.ports is not None]
    if not known:
        return checks  # no Deployment behind it, or its pods' ports are not known
    numbers = {n for c in known for n in (c.ports or ())}
    names = {n for c in known for n in c.port_names}
    for i, port in enumerate(svc.ports):
        target = port.target_port
        if target and not target.isdigit():
            found = target in names
        else:
            found = (int(target) if target and int(target) > 0 else port.port) in numbers
        if not found:
            sent = target or str(port.port)
            checks.append(Check("KIA0701", WARNING, f"no Deployment behind this Service declares the container port "
                                f"{sent!r}" + (f" (where port {port.port} sends)" if sent != str(port.port) else ""),
                                f"spec/ports[{i}]"))
    return checks


def _check_peer_authentication(pa: IstioObject, reg: _Registry, root_namespace: str) -> list[Check]:
    checks: list[Check] = []
    selector = peer_selector(pa)
    if selector and pa.namespace in reg.namespaces and not reg.workloads_selected(pa.namespace, selector):
        checks.append(Check("KIA0004", WARNING, "no workload in this namespace matches the selector",
                            "spec/selector/matchLabels"))
    if peer_mode(pa) != "STRICT":
        return checks
    if pa.namespace == root_namespace and not selector:
        affected = list(reg.inv.workloads)
    elif selector:
        affected = reg.workloads_selected(pa.namespace, selector)
    else:
        affected = [w for w in reg.inv.workloads if w.namespace == pa.namespace]
    bare = sorted(f"{w.namespace}/{w.name}" for w in affected if w.has_sidecar is False)
    if bare:
        shown = ", ".join(bare[:5]) + (f" and {len(bare) - 5} more" if len(bare) > 5 else "")
        # no proxy, nothing to enforce it: they take plain text from anyone (callers' sidecars send them
        # plain text too), so the policy protects less than it says
        checks.append(Check("MDK0501", WARNING, f"STRICT mTLS cannot be enforced on workloads without a sidecar: "
                            f"they accept plain text from anyone: {shown}", "spec/mtls/mode", tuple(bare)))
    return checks


def _check_sidecar(sc: IstioObject, reg: _Registry, root_namespace: str) -> list[Check]:
    """Kiali's Sidecar checks: its selector (KIA0004), a mesh-wide default with a selector (KIA1006),
    egress hosts (``namespace/host``) naming what no Service or ServiceEntry serves (KIA1004; hosts
    of namespaces not read are not judged), and an outbound traffic policy without a mode (KIA1007, a
    note: Kiali cannot tell it from an explicit REGISTRY_ONLY, meshdesk reads the object as served and
    notes only the missing mode); and meshdesk's own: an ingress listener's default endpoint or bind
    (MDK1001) or an egress listener's bind or capture mode (MDK1002) that Istio refuses."""
    checks = _check_selector_kind(sc, reg)
    spec = _dict(sc.spec)
    policy = spec.get("outboundTrafficPolicy")
    if isinstance(policy, dict) and not policy.get("mode"):
        checks.append(Check("KIA1007", INFO, "outboundTrafficPolicy has no mode, which Istio reads as "
                            "REGISTRY_ONLY: requests to hosts outside the service registry are blocked",
                            "spec/outboundTrafficPolicy"))
    for side, path, problem in listener_problems(spec):
        checks.append(Check("MDK1001" if side == "ingress" else "MDK1002", ERROR,
                            f"{side} listener: {problem} (Istio refuses it)", path))
    if sc.namespace == root_namespace and _labels(_dict(spec.get("workloadSelector")).get("labels")):
        checks.append(Check("KIA1006", WARNING, "a Sidecar in the root namespace is the mesh-wide default, which "
                            "should not have a workloadSelector", "spec/workloadSelector"))
    for i, egress in enumerate(_list(spec.get("egress"))):
        for j, host in enumerate(_list(_dict(egress).get("hosts"))):
            if not isinstance(host, str) or "/" not in host:
                continue
            dns = host.split("/", 1)[1]
            if dns == "*" or dns.startswith("*"):
                continue
            name = fqdn(dns, sc.namespace)
            if reg.knows_namespace_of(name) and not reg.host_exists(name, sc.namespace):
                # as Kiali: a Service counts where it is exported (the Sidecar's namespace)
                why = reg.unseen(name, sc.namespace)
                checks.append(Check("KIA1004", WARNING, f"host {dns!r} is not seen in namespace {sc.namespace}: {why}"
                                    if why else f"host {dns!r} has no Service or ServiceEntry",
                                    f"spec/egress[{i}]/hosts[{j}]"))
    return checks


def _check_selector_kind(obj: IstioObject, reg: _Registry) -> list[Check]:
    """Sidecar, AuthorizationPolicy, RequestAuthentication: a selector that matches nothing."""
    spec = _dict(obj.spec)
    raw = spec.get("workloadSelector") if obj.kind == "Sidecar" else spec.get("selector")
    selector = _labels(_dict(raw).get("labels") if obj.kind == "Sidecar" else _dict(raw).get("matchLabels"))
    if selector and obj.namespace in reg.namespaces and not reg.workloads_selected(obj.namespace, selector):
        return [Check("KIA0004", WARNING, "no workload in this namespace matches the selector",
                      "spec/workloadSelector/labels" if obj.kind == "Sidecar" else "spec/selector/matchLabels")]
    return []


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE")


def _http_method(value: str) -> bool:
    """Whether an AuthorizationPolicy ``methods`` entry can match an HTTP method: an exact method (any
    case), ``*``, or a prefix (``GE*``) or suffix (``*ET``) of one. gRPC methods are paths, not methods."""
    m = value.strip().upper()
    if m == "*":
        return True
    if m.endswith("*") and not m.startswith("*"):
        return any(h.startswith(m[:-1]) for h in HTTP_METHODS)
    if m.startswith("*") and not m.endswith("*"):
        return any(h.endswith(m[1:]) for h in HTTP_METHODS)
    return m in HTTP_METHODS


def _service_accounts(inv: Inventory) -> dict[str, set[str] | None]:
    """Per namespace with workloads, the service accounts its pods run as; None for a namespace whose
    pods could not be read or were read without their accounts (a snapshot written before they were
    kept); the key "*" when pods could be read in no namespace."""
    out: dict[str, set[str] | None] = {}
    for w in inv.workloads:
        accounts = out.setdefault(w.namespace, set())
        for pod in w.pods:
            if not pod.service_account:
                out[w.namespace] = None
                break
            if accounts is not None:
                accounts.add(pod.service_account)
    for key in inv.hidden:
        ns, _, what = key.partition("/")
        if what == "pods":
            out[ns] = None  # "*": pods could be read nowhere
    return out


def _policy_host_checked(host: str, namespace: str, namespaces: set[str]) -> str | None:
    """The service FQDN an AuthorizationPolicy ``hosts`` entry names, when it is one the registry can
    judge: a short name (a service of the policy's namespace) or "name.namespace" of a namespace read.
    None for what Istio matches as a Host header only: wildcards, names with two dots or more, and
    "a.b" where b is no namespace we know (``api.example``)."""
    h = host.strip().lower()
    if not h or "*" in h or ":" in h or h.count(".") >= 2:  # a port: the Host header as sent, not judged
        return None
    if "." in h:
        name, ns = h.split(".", 1)
        return f"{name}.{ns}.{CLUSTER_DOMAIN}" if ns == namespace or ns in namespaces else None
    return f"{h}.{namespace}.{CLUSTER_DOMAIN}"


def _virtual_service_claims(inv: Inventory, fq: str) -> bool:
    """Whether a VirtualService's hosts (short names resolved in its namespace, wildcards) take in ``fq``."""
    return any(isinstance(h, str) and host_matches(fqdn(h, vs.namespace), fq)
               for vs in inv.istio_objects("VirtualService") for h in _list(_dict(vs.spec).get("hosts")))


def _check_authorization_policy(ap: IstioObject, reg: _Registry, accounts: dict[str, set[str] | None],
                                mesh: MeshConfig, elsewhere: Mapping[str, Mapping[str, set[str]]] | None = None,
                                ) -> list[Check]:
    """Kiali's AuthorizationPolicy checks that an inventory of the chosen namespaces can judge: a
    method no HTTP method matches (KIA0102), a host of a namespace read with no Service, ServiceEntry
    or VirtualService (KIA0104), a principal of the mesh's trust domain (or an alias of it, or
    ``cluster.local``, which Istio reads in a policy as the local trust domain) naming a service
    account no pod of a namespace read runs as (KIA0106), a principal of another trust domain, which
    cannot be verified (KIA0108; only when the mesh config was read: a guessed trust domain
    proves nothing foreign). A principal with a wildcard is judged, as Kiali matches it, when it
    names a namespace read in full: a prefix (``<trust domain>/ns/shop/sa/web-*``) or a suffix over
    the local trust domains (``*/ns/shop/sa/web``). Source namespaces (KIA0101) and
    fields that need mTLS (KIA0105) are judged in ``policy_checks``. ``elsewhere`` (an inventory merged
    from several clusters): per other cluster, its namespaces' service accounts; a principal no pod of
    this cluster runs as but one of another cluster does is said as such (KIA0107), not as missing."""
    checks = _check_selector_kind(ap, reg)
    domains = mesh.trust_domains
    for i, rule in enumerate(_list(_dict(ap.spec).get("rules"))):
        rule = _dict(rule)
        for j, src in enumerate(_list(rule.get("from"))):
            source = _dict(_dict(src).get("source"))
            for k, principal in enumerate(_list(source.get("principals"))):
                if not isinstance(principal, str) or "*" in principal.strip("*") or principal.count("*") > 1:
                    continue  # "*" alone, or a wildcard Istio does not take (inside, or at both ends)
                if principal.endswith("*"):  # a prefix: judged when it names the namespace in full
                    domain, sep, rest = principal[:-1].partition("/ns/")
                    if domain not in (*domains, DEFAULT_TRUST_DOMAIN):
                        continue
                elif principal.startswith("*"):  # a suffix: any trust domain ending so (a local one)
                    tail, sep, rest = principal[1:].partition("/ns/")
                    if not any(d.endswith(tail) for d in (*domains, DEFAULT_TRUST_DOMAIN)):
                        continue
                else:
                    domain, sep, rest = principal.partition("/ns/")
                    # Istio takes "cluster.local" in a policy as the local trust domain and its aliases
                    # (ReplaceTrustDomainAliases), whatever the mesh's own trust domain is called
                    if sep and domain and domain not in domains and domain != DEFAULT_TRUST_DOMAIN:
                        if mesh.read:
                            checks.append(Check("KIA0108", WARNING, f"trust domain {domain!r} is not this mesh's "
                                                f"({', '.join(domains)}): the principal cannot be verified",
                                                f"spec/rules[{i}]/from[{j}]/source/principals[{k}]"))
                        continue
                ns, sep2, sa = rest.partition("/sa/")
                if not sep or not sep2 or "/" in sa:
                    continue
                prefix = principal.endswith("*")  # "sa" is then the start of the account's name

                def runs_as(names: Iterable[str], sa: str = sa, prefix: bool = prefix) -> bool:
                    return any(n.startswith(sa) for n in names) if prefix else sa in names

                known = None if "*" in accounts else accounts.get(ns, set())
                if ns in reg.namespaces and known is not None and not runs_as(known):
                    where = f"spec/rules[{i}]/from[{j}]/source/principals[{k}]"
                    account = f"a service account named {sa}*" if prefix else f"service account {sa!r}"
                    remote = sorted(c for c, by_ns in (elsewhere or {}).items() if runs_as(by_ns.get(ns, ())))
                    if remote:  # as Kiali: not missing, only not here (its severity "unknown")
                        checks.append(Check("KIA0107", INFO, f"{account} of {ns} runs in another "
                                            f"cluster ({', '.join(remote)}), not in this one", where))
                    else:
                        checks.append(Check("KIA0106", ERROR, f"no pod in {ns} runs as {account}", where))
        for j, to in enumerate(_list(rule.get("to"))):
            operation = _dict(_dict(to).get("operation"))
            for k, method in enumerate(_list(operation.get("methods"))):
                if isinstance(method, str) and not _http_method(method):
                    checks.append(Check("KIA0102", WARNING, f"{method!r} is no HTTP method: only HTTP methods and "
                                        "Istio's wildcards are allowed (a gRPC method goes in paths)",
                                        f"spec/rules[{i}]/to[{j}]/operation/methods[{k}]"))
            for k, host in enumerate(_list(operation.get("hosts"))):
                fq = _policy_host_checked(host, ap.namespace, reg.namespaces) if isinstance(host, str) else None
                if fq is None or not reg.knows_namespace_of(fq):
                    continue
                if not reg.host_exists(fq, ap.namespace) and not _virtual_service_claims(reg.inv, fq):
                    checks.append(_missing_host("KIA0104", reg, fq, ap.namespace, f"host {host!r} has no Service, "
                                                "ServiceEntry or VirtualService", f"host {host!r} is",
                                                f"spec/rules[{i}]/to[{j}]/operation/hosts[{k}]"))
    return checks


def _host_key(host: str, namespace: str, namespaces: set[str]) -> tuple[str, str]:
    """(namespace, service) of a VirtualService host, as Kiali keys hosts: a short name is in the
    VirtualService's namespace (so "*" is every host of that namespace), "a.b" is service a of namespace
    b when b is one, "a.b.svc" and "a.b.svc.cluster.local" likewise; anything else (a ServiceEntry's
    host) is keyed by itself. (Kiali's host parsing: ``import_scope.parse_host``.)"""
    parsed = parse_host(host.strip().lower(), namespace, namespaces)
    return (parsed.namespace, parsed.service) if parsed.complete else ("", parsed.service)


def _multiple_vs_per_host(virtual_services: Iterable[IstioObject], namespaces: set[str],
                          seen: Callable[[ObjectKey, str], bool]) -> dict[ObjectKey, list[Check]]:
    """KIA1106, as Kiali judges it: per gateway (or none), two VirtualServices claiming one host, or one
    claiming every host of a namespace ("*") beside others claiming a host there; of the others, those
    ``seen`` in the VirtualService's namespace (their exportTo)."""
    by_scope: dict[tuple[str, str], dict[str, dict[ObjectKey, IstioObject]]] = {}
    claims: dict[ObjectKey, set[ObjectKey]] = {}
    hosts: dict[ObjectKey, set[str]] = {}
    for vs in virtual_services:
        spec = _dict(vs.spec)
        gateways = [g for g in _list(spec.get("gateways")) if isinstance(g, str)] or ["no-gateway"]
        key: ObjectKey = ("VirtualService", vs.namespace, vs.name)
        for h in _list(spec.get("hosts")):
            if not isinstance(h, str):
                continue
            ns, service = _host_key(h, vs.namespace, namespaces)
            for gw in gateways:
                owners = by_scope.setdefault((gw, ns), {}).setdefault(service, {})
                if key in owners:  # one VirtualService naming a host twice claims it twice (Kiali)
                    claims.setdefault(key, set()).add(key)
                    hosts.setdefault(key, set()).add(f"{service}.{ns}" if ns else service)
                owners[key] = vs
    for (_gw, ns), services in by_scope.items():
        star = services.get("*", {})
        for service, owners in services.items():
            shown = f"{service}.{ns}" if ns else service
            if len(owners) > 1:
                for key in owners:
                    claims.setdefault(key, set()).update(k for k in owners if k != key)
                    hosts.setdefault(key, set()).add(shown)
            if star and len(services) > 1:
                others = [k for svc, o in services.items() if svc != "*" for k in o]
                for key in owners:
                    related = others if key in star else list(star)
                    # "*" and another host of the namespace in one VirtualService: it claims that twice
                    claims.setdefault(key, set()).update(related)
                    hosts.setdefault(key, set()).add(shown)
    out: dict[ObjectKey, list[Check]] = {}
    for key, refs in claims.items():
        refs = {r for r in refs if r == key or seen(r, key[1])}
        if not refs:
            continue
        if refs == {key}:
            out[key] = [Check("KIA1106", WARNING, f"this VirtualService claims host {', '.join(sorted(hosts[key]))} "
                              "more than once", "spec/hosts")]
            continue
        names = ", ".join(sorted(f"{ns}/{n}" for _k, ns, n in refs | {key}))
        out[key] = [Check("KIA1106", WARNING, f"more than one VirtualService claims host "
                          f"{', '.join(sorted(hosts[key]))}: {names}", "spec/hosts")]
    return out


def _mtls_default(dr: IstioObject, wide_suffixes: Sequence[str]) -> bool:
    """A mesh-wide ("*.local") or namespace-wide ("*.<ns>.svc.cluster.local", or with the trust domain
    as Kiali names it: ``wide_suffixes``) ISTIO_MUTUAL rule: Istio's way of turning mTLS on, meant to
    stand beside more specific rules."""
    spec = _dict(dr.spec)
    if _str(_dict(_dict(spec.get("trafficPolicy")).get("tls")).get("mode")) != "ISTIO_MUTUAL":
        return False
    host = _str(spec.get("host"))
    return host == "*.local" or (host.startswith(f"*.{dr.namespace}.") and host[len(dr.namespace) + 2:] in wide_suffixes)


def _multiple_dr_per_host(rules: Iterable[IstioObject], namespaces: set[str],
                          shown: Callable[[ObjectKey, str], bool],
                          wide_suffixes: Sequence[str]) -> dict[ObjectKey, list[Check]]:
    """KIA0201, as Kiali judges it: two DestinationRules for overlapping hosts that define a subset of
    the same name, or of which one has no subsets (it covers them all), of the others those ``shown`` in
    the rule's namespace (their exportTo). Istio merges only the first."""
    seen: dict[str, dict[str, list[ObjectKey]]] = {}  # host -> subset ("~": all) -> rules
    wildcards: list[str] = []  # the wildcard hosts among them
    clashes: dict[ObjectKey, set[ObjectKey]] = {}
    for dr in rules:
        if _mtls_default(dr, wide_suffixes):
            continue
        ns, service = _host_key(_str(_dict(dr.spec).get("host")), dr.namespace, namespaces)
        host = f"{service}.{ns}.{CLUSTER_DOMAIN}" if ns else service
        key: ObjectKey = ("DestinationRule", dr.namespace, dr.name)
        subsets = [_str(_dict(sub).get("name")) for sub in _list(_dict(dr.spec).get("subsets"))] or ["~"]
        if host.startswith("*"):
            related = [h for h in seen if host == h or host_matches(host, h) or host_matches(h, host)]
        else:  # a plain host overlaps only itself and the wildcards that cover it
            related = ([host] if host in seen else []) + [h for h in wildcards if host_matches(h, host)]
        for other_host in related:
            by_subset = seen[other_host]
            others = [k for name, ks in by_subset.items() for k in ks
                      if subsets == ["~"] or name == "~" or name in subsets]
            for other in others:
                if other != key:
                    clashes.setdefault(key, set()).add(other)
                    clashes.setdefault(other, set()).add(key)
        mine = seen.get(host)
        if mine is None:
            mine = seen[host] = {}
            if host.startswith("*"):
                wildcards.append(host)
        for name in subsets:
            mine.setdefault(name, []).append(key)
    visible = {key: {o for o in others if shown(o, key[1])} for key, others in clashes.items()}
    return {key: [Check("KIA0201", WARNING, "more than one DestinationRule for the same host and subset: "
                        + ", ".join(sorted(f"{ns}/{n}" for _k, ns, n in others)), "spec/host")]
            for key, others in visible.items() if others}


def _conflicts(services: Sequence[IstioObject], rules: Sequence[IstioObject],
               namespaces: set[str], exports: Exports) -> dict[ObjectKey, list[Check]]:
    """KIA1106 and KIA0201 among these VirtualServices and DestinationRules: an object's finding names
    the others Istio shows in its namespace (their ``exportTo``, or the mesh config's default for
    their kind; one that may be shown there counts), as Kiali judges a namespace's objects among those
    exported to it."""
    by_key = {(o.kind, o.namespace, o.name): o for o in (*services, *rules)}

    def seen(key: ObjectKey, namespace: str) -> bool:
        return exports.exported(by_key[key], namespace) is not False

    multi = _multiple_vs_per_host(services, namespaces, seen)
    for key, found in _multiple_dr_per_host(rules, namespaces, seen, namespace_rule_suffixes(exports.inv)).items():
        multi.setdefault(key, []).extend(found)
    return multi


class Validations(dict[ObjectKey, Validation]):
    """What ``validate`` finds: one Validation per object key. Of an inventory merged from several
    clusters, a name can be two objects (the same VirtualService applied to both clusters, or two of one
    name that differ): the keyed findings are both's, and ``by_cluster`` holds each cluster's own, which
    ``validation_of`` reads when it is told the object's cluster."""

    def __init__(self, found: Mapping[ObjectKey, Validation] | None = None,
                 by_cluster: Mapping[str, Mapping[ObjectKey, Validation]] | None = None) -> None:
        super().__init__(found or {})
        self.by_cluster: dict[str, dict[ObjectKey, Validation]] = {c: dict(v) for c, v in (by_cluster or {}).items()}


def validation_of(validations: Mapping[ObjectKey, Validation], key: ObjectKey, cluster: str = "") -> Validation | None:
    """The findings of the object ``key`` of ``cluster`` (its own cluster's, when ``validations`` are of
    several clusters and know that one); of the key, whichever cluster, otherwise."""
    if cluster and isinstance(validations, Validations) and cluster in validations.by_cluster:
        return validations.by_cluster[cluster].get(key)
    return validations.get(key)


def validate(inventory: Inventory, *, root_namespace: str | None = None,
             auto_mtls: bool | None = None, uncovered: bool = False,
             ignore: Iterable[str] = ()) -> Validations:
    """Validate every Istio object, every Service and every workload of the inventory (a Service's key
    has the kind ``SERVICE``, a workload's ``WORKLOAD``). Returns one Validation per object (with an
    empty list of checks when nothing is wrong). Never raises on odd objects. ``root_namespace`` and
    ``auto_mtls`` (the mesh config's ``enableAutoMtls``, which some mTLS checks depend on) default to
    the inventory's mesh config (``Inventory.mesh_settings``: Istio's defaults where it was not read);
    of several istiod revisions, each object is judged by its namespace's own revision's config
    (``Inventory.settings_for``: outbound traffic policy, automatic mTLS, trust domain, default
    exportTo, extension providers), the root namespace staying the mesh's.
    ``uncovered``: also Kiali's KIA1301 (a workload no AuthorizationPolicy covers), which Kiali leaves
    out unless asked, as here. ``ignore``: codes whose findings are left out everywhere (Kiali's
    ``validations.ignore``; see :func:`checks_left_out`).

    An inventory merged from several clusters is validated cluster by cluster, as Kiali validates each
    cluster's objects among that cluster's: the same VirtualService applied to both clusters of a
    multi-primary mesh is no rival of itself. An object of one name in several clusters has the
    findings of each (once each), and ``Validations.by_cluster`` each cluster's own."""
    if not merged(inventory):
        return Validations(_validate(inventory, root_namespace=root_namespace, auto_mtls=auto_mtls,
                                     uncovered=uncovered, ignore=ignore))
    home = inventory.cluster
    named = {n.cluster for n in inventory.namespaces} | {w.cluster for w in inventory.workloads} \
        | {o.cluster for o in inventory.istio}
    part_of = inventory_part(inventory, ())
    parts = {cluster: part for cluster in sorted({c or home for c in named}) if (part := part_of(cluster)) is not None}
    # each cluster's known service accounts, for the principals of another cluster's policies (KIA0107)
    accounts = {cluster: {ns: known for ns, known in _service_accounts(part).items() if known}
                for cluster, part in parts.items()}
    out = Validations()
    for cluster, part in parts.items():
        found = _validate(part, root_namespace=root_namespace, auto_mtls=auto_mtls, uncovered=uncovered,
                          ignore=ignore, elsewhere={c: a for c, a in accounts.items() if c != cluster})
        out.by_cluster[cluster] = found
        for key, v in found.items():
            had = out.get(key)
            if had is None:
                out[key] = replace(v, checks=list(v.checks))
            else:
                had.checks += [c for c in v.checks if c not in had.checks]
    return out


def _validate(inventory: Inventory, *, root_namespace: str | None, auto_mtls: bool | None, uncovered: bool,
              ignore: Iterable[str], elsewhere: Mapping[str, Mapping[str, set[str]]] | None = None,
              ) -> dict[ObjectKey, Validation]:
    from meshdesk.mesh.validations_mtls import mtls_checks  # it builds on this module
    settings = inventory.mesh_settings
    root_namespace = settings.root_namespace if root_namespace is None else root_namespace
    # auto_mtls None: each object is judged by its namespace's own istiod revision's enableAutoMtls
    reg = _Registry(inventory)
    # of the whole cluster as read (those outside the chosen namespaces too, as Kiali compares a
    # namespace's objects with every one exported to it); findings are kept for the chosen ones
    services = inventory.mesh_config("VirtualService")
    rules = inventory.mesh_config("DestinationRule")
    exports = Exports(inventory)
    multi = _conflicts(services, rules, reg.namespaces, exports)
    # a namespace whose Sidecar imports only some hosts: its objects' conflicts and subset references
    # are judged among what it imports (Kiali)
    sidecars = inventory.istio_objects("Sidecar")
    scopes: dict[str, tuple[ImportScope, _SubsetIndex]] = {}
    if sidecars:
        # objects by the namespaces their hosts are in, so a scope looks only at the namespaces it
        # imports from (a root Sidecar scopes every namespace: scanning all objects for each was slow)
        by_host_ns: dict[str, list[IstioObject]] = {}
        for o in (*services, *rules):
            for hns in host_namespaces(o, reg.namespaces):
                by_host_ns.setdefault(hns, []).append(o)
        keys_by_ns: dict[str, list[ObjectKey]] = {}
        for key in multi:
            keys_by_ns.setdefault(key[1], []).append(key)
        chosen = {o.namespace for o in inventory.istio if o.kind in ("VirtualService", "DestinationRule")}
        for ns in sorted(chosen):  # findings are kept for the chosen namespaces' objects only
            nso = inventory.namespace(ns)
            scope = import_scope(ns, root_namespace, sidecars, reg.namespaces,
                                 ambient=nso is not None and nso.labels.get("istio.io/dataplane-mode") == "ambient")
            if scope is None:
                continue
            seen = scope.namespaces_seen()
            if seen is None:
                candidates: list[IstioObject] = [*services, *rules]
            else:
                candidates = list({id(o): o for s in sorted(seen) for o in by_host_ns.get(s, ())}.values())
            imported = [o for o in candidates if scope.imports_any(o)]
            seen_services = [o for o in imported if o.kind == "VirtualService"]
            seen_rules = [o for o in imported if o.kind == "DestinationRule"]
            scopes[ns] = (scope, _SubsetIndex(seen_rules))
            mine = _conflicts(seen_services, seen_rules, reg.namespaces, exports)
            for key in keys_by_ns.get(ns, ()):
                multi.pop(key, None)
            multi.update({k: v for k, v in mine.items() if k[1] == ns})
    routed = _routed_subsets(inventory)
    accounts = _service_accounts(inventory)
    out: dict[ObjectKey, Validation] = {}
    for obj in inventory.istio:
        checks: list[Check]
        try:
            if obj.kind == "VirtualService":
                checks = _check_virtual_service(obj, reg, inventory, scopes.get(obj.namespace))
            elif obj.kind == "DestinationRule":
                checks = _check_destination_rule(obj, reg, routed)
            elif obj.kind == "Gateway":
                checks = _check_gateway(obj, reg)
            elif obj.kind == "ServiceEntry":
                checks = _check_service_entry(obj)
            elif obj.kind == "PeerAuthentication":
                checks = _check_peer_authentication(obj, reg, root_namespace)
            elif obj.kind == "AuthorizationPolicy":
                checks = _check_authorization_policy(obj, reg, accounts, inventory.settings_for(obj.namespace),
                                                     elsewhere)
            elif obj.kind == "Sidecar":
                checks = _check_sidecar(obj, reg, root_namespace)
            elif obj.kind == "RequestAuthentication":
                checks = _check_selector_kind(obj, reg)
            else:
                checks = []
        except (AttributeError, TypeError, ValueError) as e:  # an object shaped like nothing we know
            checks = [Check("MDK0001", WARNING, f"could not be fully validated: {e}")]
        key = (obj.kind, obj.namespace, obj.name)
        checks = checks + multi.get(key, [])
        out[key] = Validation(obj.kind, obj.namespace, obj.name, checks)
    for key, found in [*_multiple_per_workload(inventory, reg).items(), *_entries_sharing_a_port(inventory, reg, root_namespace).items(),
                       *_entries_sharing_a_host(inventory).items()]:
        if key in out:
            out[key].checks.extend(found)
    for key, found in mtls_checks(inventory, root_namespace=root_namespace, namespaces=reg.namespaces,
                                  auto_mtls=auto_mtls, scopes={ns: s for ns, (s, _i) in scopes.items()}).items():
        if key in out:
            out[key].checks.extend(found)
    for key, found in _gateway_and_policy_checks(inventory, root_namespace, auto_mtls).items():
        if key in out:
            out[key].checks.extend(found)
    from meshdesk.mesh.ambient_checks import config_checks, workload_checks  # they build on this module
    for key, found in config_checks(inventory).items():
        if key in out:
            out[key].checks.extend(found)
    from meshdesk.mesh.gateway_api_checks import gateway_api_checks  # the Gateway API's (KIA14xx-16xx)

    for key, found in gateway_api_checks(inventory).items():
        if key in out:
            out[key].checks.extend(found)
    from meshdesk.mesh.export_and_group_checks import export_and_group_checks  # KIA0005, KIA1701, KIA1702

    for key, found in export_and_group_checks(inventory, accounts).items():
        if key in out:
            out[key].checks.extend(found)
    ambient = {n.name for n in inventory.namespaces if n.ambient}
    for svc in inventory.services:
        try:
            checks = _check_service(svc, reg, ambient, root_namespace)
        except (AttributeError, TypeError, ValueError) as e:
            checks = [Check("MDK0001", WARNING, f"could not be fully validated: {e}")]
        out[(SERVICE, svc.namespace, svc.name)] = Validation(SERVICE, svc.namespace, svc.name, checks)
    for (kind, ns, name), found in workload_checks(inventory).items():
        if (kind, ns, name) in out:
            out[(kind, ns, name)].checks.extend(found)  # two workloads of one name (of different kinds)
        else:
            out[(kind, ns, name)] = Validation(kind, ns, name, found)
    if uncovered:
        for key, found in uncovered_workloads(inventory, root_namespace).items():
            out.setdefault(key, Validation(key[0], key[1], key[2], [])).checks.extend(found)
    _strip_ignored(out, inventory)
    left_out = frozenset(ignore)
    if left_out:
        for v in out.values():
            if any(c.code in left_out for c in v.checks):
                v.checks = [c for c in v.checks if c.code not in left_out]
    return out


def validate_except(inventory: Inventory, left_out: Iterable[str] = IGNORED_BY_DEFAULT) -> Validations:
    """``validate`` as a user of Kiali configures it: every check but the codes ``left_out`` (its
    ``validations.ignore``), KIA1301 made when it is not among them."""
    codes = frozenset(left_out)
    return validate(inventory, uncovered="KIA1301" not in codes, ignore=codes)


def uncovered_workloads(inv: Inventory, root_namespace: str) -> dict[ObjectKey, list[Check]]:
    """Kiali's KIA1301: each workload no AuthorizationPolicy covers - none in its namespace or the mesh's
    root namespace without a selector or with one that matches its labels - so every request to it is
    allowed. Not judged where the namespace's policies could not be read; when the root namespace's
    were not read (it was not chosen), the finding says a mesh-wide policy there is not known."""
    policies = inv.istio_objects("AuthorizationPolicy")
    root_read = inv.namespace(root_namespace) is not None and not inv.unread(root_namespace, ("authorizationpolicies",))
    out: dict[ObjectKey, list[Check]] = {}
    for w in inv.workloads:
        if inv.unread(w.namespace, ("authorizationpolicies",)):
            continue
        covered = False
        for ap in policies:
            if ap.namespace not in (w.namespace, root_namespace):
                continue
            labels = _dict(_dict(ap.spec.get("selector")).get("matchLabels"))
            if all(w.labels.get(str(k)) == str(v) for k, v in labels.items()):
                covered = True
                break
        if not covered:
            note = "" if root_read else (f" (the root namespace {root_namespace}'s policies were not read: a "
                                         "mesh-wide one there is not known)")
            out[(WORKLOAD, w.namespace, w.name)] = [Check(
                "KIA1301", WARNING, f"no AuthorizationPolicy covers this workload: every request to it is "
                f"allowed{note}")]
    return out


IGNORE_ANNOTATION = "kiali.io/ignore-validations"  # Kiali's: codes an object's own findings leave out


def ignored_codes(annotations: Mapping[str, str] | None) -> frozenset[str] | None:
    """The check codes an object's ``kiali.io/ignore-validations`` annotation leaves out of its own
    findings, as Kiali reads it: codes separated by commas; empty, every one (``{"*"}``); no
    annotation, None."""
    value = annotations.get(IGNORE_ANNOTATION) if isinstance(annotations, Mapping) else None
    if not isinstance(value, str):
        return None
    codes = frozenset(c.strip() for c in value.split(","))
    return frozenset({"*"}) if not value.strip() else codes


def _strip_ignored(out: dict[ObjectKey, Validation], inventory: Inventory) -> None:
    """Leave out the findings an object's annotation says to ignore (of that object only; another
    object's findings that name it stay)."""
    annotated: list[tuple[ObjectKey, Mapping[str, str]]] = [
        *(((o.kind, o.namespace, o.name), o.annotations) for o in inventory.istio if o.annotations),
        *(((SERVICE, s.namespace, s.name), s.annotations) for s in inventory.services if s.annotations),
        *(((WORKLOAD, w.namespace, w.name), w.annotations) for w in inventory.workloads if w.annotations)]
    for key, marks in annotated:
        codes = ignored_codes(marks)
        v = out.get(key)
        if codes is None or v is None or not v.checks:
            continue
        v.checks = [] if "*" in codes else [c for c in v.checks if c.code not in codes]


def _gateway_and_policy_checks(inv: Inventory, root_namespace: str,
                               auto_mtls: bool | None = True) -> dict[ObjectKey, list[Check]]:
    """Kiali's checks kept in modules of their own (they build on this one's Check): KIA0301 on
    Gateways, KIA0101 and KIA0105 on AuthorizationPolicies."""
    from meshdesk.mesh.gateway_checks import multiple_gateways_per_host
    from meshdesk.mesh.policy_checks import authorization_checks

    found = multiple_gateways_per_host(inv.istio_objects("Gateway"), inv.outside_gateway_configs)
    for key, checks in authorization_checks(inv, root_namespace, auto_mtls).items():
        found.setdefault(key, []).extend(checks)
    return found


# the kinds of which one object applies to a workload: Kiali's generic multi-match checks
_ONE_PER_WORKLOAD = {"PeerAuthentication": ("spec/selector", "selector", "matchLabels"),
                     "Sidecar": ("spec/workloadSelector", "workloadSelector", "labels")}


def _multiple_per_workload(inv: Inventory, reg: _Registry) -> dict[ObjectKey, list[Check]]:
    """Kiali's KIA0002 and KIA0003 for PeerAuthentications and Sidecars: two of a kind without a
    selector in one namespace (KIA0002), or two of a kind in one namespace selecting one workload
    (KIA0003). Istio then applies one of them (the oldest), and which is not what the config says."""
    out: dict[ObjectKey, list[Check]] = {}
    for kind, (path, field, labels_key) in _ONE_PER_WORKLOAD.items():
        by_ns: dict[str, list[tuple[IstioObject, dict[str, str]]]] = {}
        for obj in inv.istio_objects(kind):
            selector = _labels(_dict(_dict(obj.spec).get(field)).get(labels_key))
            by_ns.setdefault(obj.namespace, []).append((obj, selector))
        for ns, objs in by_ns.items():
            bare = [o for o, sel in objs if not sel]
            if len(bare) > 1:
                for o in bare:
                    others = ", ".join(x.name for x in bare if x is not o)
                    out.setdefault((kind, ns, o.name), []).append(Check(
                        "KIA0002", ERROR, f"more than one {kind} without a selector in this namespace (also "
                        f"{others}): Istio applies only one of them", path))
            selecting: dict[str, list[IstioObject]] = {}
            for o, sel in objs:
                if sel:
                    for w in reg.workloads_selected(ns, sel):
                        selecting.setdefault(w.name, []).append(o)
            flagged: dict[str, tuple[str, list[str]]] = {}
            for workload, objects in sorted(selecting.items()):
                if len(objects) < 2:
                    continue
                for o in objects:
                    if o.name not in flagged:
                        flagged[o.name] = (workload, [x.name for x in objects if x is not o])
            for name, (workload, rivals) in flagged.items():
                out.setdefault((kind, ns, name), []).append(Check(
                    "KIA0003", ERROR, f"selects workload {workload}, which {', '.join(rivals)} also selects: "
                    f"Istio applies only one {kind} to a workload", path, (f"{ns}/{workload}",)))
    return out


def _entries_sharing_a_port(inv: Inventory, reg: _Registry, root_namespace: str) -> dict[ObjectKey, list[Check]]:
    """Kiali's KIA1211 and KIA1212: more than one ServiceEntry port for one host and port number
    (KIA1212 when they disagree on the protocol, which Istio then takes from one of them). As Kiali
    judges them namespace by namespace, entries are compared where a namespace surely sees them
    together: both exported to it (their ``exportTo``, or the mesh config's ``defaultServiceExportTo``;
    an ambient namespace's entries stay home) and, when its Sidecar limits what it imports, both
    imported. Entries outside the chosen namespaces count too; the chosen ones carry the finding."""
    index: dict[tuple[str, int], list[tuple[IstioObject, int, str]]] = {}
    for se in inv.mesh_config("ServiceEntry"):
        spec = _dict(se.spec)
        for i, port in enumerate(_list(spec.get("ports"))):
            number = _dict(port).get("number")
            if not isinstance(number, int) or isinstance(number, bool):
                continue
            protocol = _str(_dict(port).get("protocol")).upper()
            for host in _list(spec.get("hosts")):
                if isinstance(host, str):
                    index.setdefault((host.lower(), number), []).append((se, i, protocol))
    groups = [(key, entries) for key, entries in sorted(index.items()) if len(entries) > 1]
    if not groups:
        return {}
    chosen = {("ServiceEntry", o.namespace, o.name) for o in inv.istio_objects("ServiceEntry")}
    exports = Exports(inv)
    everywhere = sorted(exports.existing | {se.namespace for _k, entries in groups for se, _i, _p in entries})
    sidecars = inv.istio_objects("Sidecar")
    ambient = {n.name for n in inv.namespaces if n.ambient}
    scopes: dict[str, ImportScope | None] = {}

    def scope_of(ns: str) -> ImportScope | None:
        if not sidecars:
            return None
        if ns not in scopes:
            scopes[ns] = import_scope(ns, root_namespace, sidecars, reg.namespaces, ambient=ns in ambient)
        return scopes[ns]

    # a namespace that owns none of a group's entries, is named by none of their exportTo or hosts, has
    # no Sidecar of its own and is not ambient sees the group as every other such namespace does: one
    # of them stands for all (many namespaces must not multiply the work)
    own_rules = {sc.namespace for sc in sidecars} | ambient
    # (entry, port index, host and port) -> code -> the other entries it clashes with
    found: dict[tuple[ObjectKey, int, str], dict[str, set[str]]] = {}
    for (host, number), entries in groups:
        special = set(own_rules)
        for se, _i, _p in entries:
            special.add(se.namespace)
            special.update(e for e in inv.settings_for(se.namespace).export_to(se) if e not in (".", "*", "~"))
            special.update(host_namespaces(se, reg.namespaces))
        viewpoints = [ns for ns in everywhere if ns in special]
        viewpoints += next(([ns] for ns in everywhere if ns not in special), [])
        seen_together: set[tuple[int, ...]] = set()
        for ns in viewpoints:
            scope = scope_of(ns)
            seen = tuple(k for k, (se, _i, _p) in enumerate(entries) if exports.exported(se, ns) is True
                         and (scope is None or scope.imports_any(se)))
            if len(seen) < 2 or seen in seen_together:
                continue
            seen_together.add(seen)
            code = "KIA1212" if len({entries[k][2] for k in seen}) > 1 else "KIA1211"
            for k in seen:
                se, i, _protocol = entries[k]
                key = ("ServiceEntry", se.namespace, se.name)
                others = {f"{o.namespace}/{o.name}" for m, (o, _j, _p) in enumerate(entries)
                          if m in seen and m != k and o is not se}
                found.setdefault((key, i, f"{host}:{number}"), {}).setdefault(code, set()).update(others)
    out: dict[ObjectKey, list[Check]] = {}
    for (key, i, where), codes in found.items():
        if key not in chosen:
            continue
        for code, others in sorted(codes.items()):
            what = "with another protocol" if code == "KIA1212" else "too"
            out.setdefault(key, []).append(Check(
                code, WARNING, f"{where} is declared by {', '.join(sorted(others)) or 'itself'} {what}",
                f"spec/ports[{i}]"))
    return out


def exported_namespaces(obj: IstioObject, settings: MeshConfig) -> frozenset[str] | None:
    """The namespaces a ServiceEntry (or another exported object) is visible in, by its ``exportTo`` or
    without one the mesh config's default for its kind: None for every namespace (``*``, or no
    ``exportTo`` nor default: Istio's default), ``.`` for its own, ``~`` for none."""
    export = settings.export_to(obj)
    if not export or "*" in export:
        return None
    return frozenset(obj.namespace if e == "." else e for e in export if e != "~")


def _seen_together(a: IstioObject, b: IstioObject, settings_for: Callable[[str], MeshConfig]) -> bool:
    """Whether some namespace sees both objects (their ``exportTo``, or the default of the mesh config
    of each one's namespace: ``Inventory.settings_for``)."""
    va, vb = exported_namespaces(a, settings_for(a.namespace)), exported_namespaces(b, settings_for(b.namespace))
    if va is None and vb is None:
        return True
    if va is None or vb is None:
        return bool(va or vb)  # everywhere, and somewhere
    return bool(va & vb)


def hosts_declared_elsewhere(entry: IstioObject, others: Iterable[IstioObject],
                             settings_for: Callable[[str], MeshConfig]) -> list[tuple[str, IstioObject]]:
    """(host, other ServiceEntry) for each host of ``entry`` that another of ``others`` declares too,
    where a namespace sees both (MDK1209; their ``exportTo``, or for entries that set none the
    default of the mesh config of their namespace, ``settings_for``: ``Inventory.settings_for``). The
    entry itself (same namespace and name) is skipped."""
    hosts = [h.strip().lower() for h in _list(_dict(entry.spec).get("hosts")) if isinstance(h, str) and h.strip()]
    out = []
    for other in others:
        if other.kind != "ServiceEntry" or (other.namespace, other.name) == (entry.namespace, entry.name):
            continue
        theirs = {h.strip().lower() for h in _list(_dict(other.spec).get("hosts")) if isinstance(h, str)}
        shared = [h for h in hosts if h in theirs]
        if shared and _seen_together(entry, other, settings_for):
            out += [(h, other) for h in shared]
    return out


def _entries_sharing_a_host(inv: Inventory) -> dict[ObjectKey, list[Check]]:
    """MDK1209 (warning): a host another ServiceEntry declares too, where a namespace sees both. Istio
    takes it, and merges the two or picks one in no set order (by port, by creation time): what a
    client of that host gets is not what either entry says."""
    # each entry is compared with those declaring one of its hosts (comparing it with every other made
    # a cluster of many ServiceEntries quadratic)
    everywhere = inv.mesh_config("ServiceEntry")
    declaring: dict[str, list[int]] = {}  # host -> the entries declaring it, by their place in the list
    for n, other in enumerate(everywhere):
        for h in _list(_dict(other.spec).get("hosts")):
            if isinstance(h, str):
                declaring.setdefault(h.strip().lower(), []).append(n)
    out: dict[ObjectKey, list[Check]] = {}
    for se in inv.istio_objects("ServiceEntry"):
        candidates = sorted({n for h in _list(_dict(se.spec).get("hosts")) if isinstance(h, str)
                             for n in declaring.get(h.strip().lower(), ())})
        by_host: dict[str, list[str]] = {}
        for host, other in hosts_declared_elsewhere(se, [everywhere[n] for n in candidates], inv.settings_for):
            by_host.setdefault(host, []).append(f"{other.namespace}/{other.name}")
        hosts = [h.strip().lower() if isinstance(h, str) else h for h in _list(_dict(se.spec).get("hosts"))]
        for host, names in by_host.items():
            out.setdefault(("ServiceEntry", se.namespace, se.name), []).append(Check(
                "MDK1209", WARNING, f"host {host} is declared by ServiceEntry {', '.join(sorted(set(names)))} too: "
                "Istio merges them or picks one in no set order", f"spec/hosts[{hosts.index(host)}]"))
    return out


def summary(validations: Mapping[ObjectKey, Validation]) -> dict[str, int]:
    """Counts for a list header or status line: objects, errors, warnings."""
    errors = sum(1 for v in validations.values() for c in v.checks if c.severity == ERROR)
    warnings = sum(1 for v in validations.values() for c in v.checks if c.severity == WARNING)
    return {"objects": len(validations), "errors": errors, "warnings": warnings}
