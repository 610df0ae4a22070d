"""A Kubernetes Gateway API Gateway and ReferenceGrant (``gateway.networking.k8s.io``) made from what a
person typed, as Kiali's "Create" forms make them (its K8sGateway and K8sReferenceGrant), checked as the
Gateway API's CRDs check them before anything is sent, and turned into a ``ChangePlan``. The review then
shows the validations (KIA15xx, KIA16xx) the new object would have.

A Gateway is its ``gatewayClassName`` (the controller that runs it: Istio's class is ``istio``), its
listeners (a name, a port, a protocol, an optional hostname, the namespaces whose routes may attach, and
for HTTPS and TLS the TLS mode with the Secrets holding the certificate) and its addresses. A
ReferenceGrant lets the objects of the kinds and namespaces it lists (``from``) refer to the objects of the
kinds it lists in its own namespace (``to``): HTTPRoutes elsewhere to this namespace's Services, Gateways
elsewhere to its Secrets; up to 16 entries on each side, each ``from`` entry pairing with each ``to`` entry.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.changes import CREATE, Change, ChangePlan
from meshdesk.mesh.config_edit import keep_order
from meshdesk.mesh.inventory import GATEWAY_API_GROUP, GATEWAY_API_KINDS, K8S_GATEWAY, Inventory, IstioObject
from meshdesk.mesh.routing import RoutingError, dns_length_problem, is_digits, non_ascii_host_problem, said
from meshdesk.mesh.routing import _managed as managed_labels
from meshdesk.mesh.security import _DNS_LABEL, _taken, name_problem

REFERENCE_GRANT = "K8sReferenceGrant"
API_VERSION = f"{GATEWAY_API_GROUP}/v1"  # the writer picks the version the cluster serves
GRANT_API_VERSION = f"{GATEWAY_API_GROUP}/v1beta1"
DEFAULT_CLASS = "istio"  # Istio's own GatewayClass
LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TLS", "TCP", "UDP")
TLS_MODES = ("Terminate", "Passthrough")
ROUTES_FROM = ("Same", "All", "Selector")
ADDRESS_TYPES = ("IPAddress", "Hostname")
MAX_LISTENERS = 64  # the CRD's limits
MAX_ADDRESSES = 16
GATEWAY_API_HOSTNAME_MAX = 253  # its Hostname's maxLength
# what a ReferenceGrant's ``from`` and ``to`` offer (as Kiali's form): kind -> its API group
GRANT_FROM_KINDS: dict[str, str] = {"HTTPRoute": GATEWAY_API_GROUP, "GRPCRoute": GATEWAY_API_GROUP,
                                    "TCPRoute": GATEWAY_API_GROUP, "TLSRoute": GATEWAY_API_GROUP,
                                    "Gateway": GATEWAY_API_GROUP}
GRANT_TO_KINDS: dict[str, str] = {"Service": "", "Secret": ""}
# the Gateway API's Hostname (no bare "*", no port, lower case) and SectionName (a listener's name)
_HOSTNAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECTION_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_LISTENER_FIELDS = ("name", "port", "protocol", "hostname", "allowedRoutes", "tls")


def _a(protocol: str) -> str:
    return f"{'an' if protocol.startswith('H') else 'a'} {protocol}"


def hostname_problem(value: str) -> str:
    """Why ``value`` is no listener hostname as the Gateway API takes it ("" when it is one): a full
    name (``example.com``) or a wildcard of one label (``*.example.com``); not ``*``, not an IP address."""
    if value == "*":
        return "hostname '*' is not taken: leave the hostname empty for any host"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return f"hostname {said(value)} is an IP address: a listener's hostname is a name (e.g. example.com)"
    if problem := non_ascii_host_problem(value, "hostname"):
        return problem
    if not _HOSTNAME.match(value):
        return (f"hostname {said(value)} is not a host name (a name like example.com or a wildcard like "
                "*.example.com, in lower case)")
    # the CRD's pattern takes labels of any length (its maxLength is 253); Istio and DNS take 63
    return dns_length_problem(value, "hostname", most=GATEWAY_API_HOSTNAME_MAX)


def labels_problem(labels: Mapping[str, str], what: str) -> str:
    for k, v in labels.items():
        if len(k.rpartition("/")[2]) > 63 or not _LABEL_KEY.match(k):
            return f"{what}: {said(k)} is not a label name"
        if len(v) > 63 or not _LABEL_VALUE.match(v):
            return f"{what}: {said(v)} is not a label value"
    return ""


@dataclass
class Listener:
    name: str = ""
    port: str = ""
    protocol: str = "HTTP"
    hostname: str = ""
    routes_from: str = "Same"  # allowedRoutes.namespaces.from
    routes_selector: dict[str, str] = field(default_factory=dict)  # with "Selector": the namespaces' labels
    tls_mode: str = "Terminate"  # HTTPS and TLS only
    certificate_refs: list[str] = field(default_factory=list)  # Secret names, or namespace/name

    def problems(self) -> list[str]:
        out = []
        if not self.name:
            out.append("a listener name is needed")
        elif len(self.name) > 253 or not _SECTION_NAME.match(self.name):
            out.append(f"listener name {said(self.name)} is not a name (lower-case letters, digits, '-' and '.')")
        p = self.port.strip()
        if not is_digits(p) or not 1 <= int(p) <= 65535:
            out.append(f"port {said(p)} is not a port number from 1 to 65535" if p else "a port number is needed")
        if self.protocol not in LISTENER_PROTOCOLS:
            out.append(f"protocol {said(self.protocol)} is not one of {', '.join(LISTENER_PROTOCOLS)}")
        if self.hostname:
            if self.protocol in ("TCP", "UDP"):
                out.append(f"a {self.protocol} listener takes no hostname (the Gateway API refuses it): leave it "
                           "empty")
            elif problem := hostname_problem(self.hostname):
                out.append(problem)
        if self.routes_from not in ROUTES_FROM:
            out.append(f"routes from {said(self.routes_from)} is not one of {', '.join(ROUTES_FROM)}")
        if self.routes_from == "Selector":
            if not self.routes_selector:
                out.append("routes from Selector needs the labels of the namespaces whose routes may attach")
            elif problem := labels_problem(self.routes_selector, "namespace selector"):
                out.append(problem)
        if self.protocol in ("HTTPS", "TLS"):
            if self.tls_mode not in TLS_MODES:
                out.append(f"TLS mode {said(self.tls_mode)} is not one of {', '.join(TLS_MODES)}")
            elif self.tls_mode == "Terminate" and not self.certificate_refs:
                out.append(f"{_a(self.protocol)} listener that terminates TLS needs the certificate: give the Secret "
                           "holding it (certificateRefs)")
            elif self.tls_mode == "Passthrough" and self.protocol == "HTTPS":
                out.append("an HTTPS listener terminates TLS (Passthrough is for protocol TLS, with TLSRoutes)")
            elif self.tls_mode == "Passthrough" and self.certificate_refs:
                out.append("a Passthrough listener takes no certificateRefs (the backend holds the certificate)")
            for ref in self.certificate_refs:
                ns, sep, name = ref.rpartition("/")
                if sep and (not ns or len(ns) > 63 or not _DNS_LABEL.match(ns)):
                    out.append(f"certificateRefs: {said(ref)} is not a Secret (name, or namespace/name)")
                elif problem := name_problem(name):
                    out.append(f"certificateRefs: {said(ref)}: {problem.replace('a name is', 'a Secret name is')}")
            dup = next((r for r in self.certificate_refs if self.certificate_refs.count(r) > 1), None)
            if dup is not None:
                out.append(f"certificateRefs: {dup} is given twice")
        elif self.certificate_refs:
            out.append(f"{_a(self.protocol)} listener takes no TLS settings (certificateRefs are for HTTPS and TLS)")
        return out

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "port": int(self.port.strip()), "protocol": self.protocol}
        if self.hostname:
            out["hostname"] = self.hostname
        namespaces: dict[str, Any] = {"from": self.routes_from}
        if self.routes_from == "Selector":
            namespaces["selector"] = {"matchLabels": dict(self.routes_selector)}
        out["allowedRoutes"] = {"namespaces": namespaces}
        if self.protocol in ("HTTPS", "TLS"):
            tls: dict[str, Any] = {"mode": self.tls_mode}
            if self.certificate_refs:
                refs = []
                for ref in self.certificate_refs:
                    ns, _sep, name = ref.rpartition("/")
                    refs.append({"group": "", "kind": "Secret", "name": name, **({"namespace": ns} if ns else {})})
                tls["certificateRefs"] = refs
            out["tls"] = tls
        return out


def address_problem(kind: str, value: str) -> str:
    if kind not in ADDRESS_TYPES:
        return f"address type {said(kind)} is not one of {', '.join(ADDRESS_TYPES)}"
    if not value:
        return f"an {kind} address needs a value"
    if kind == "IPAddress":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"address {said(value)} is not an IP address"
    elif not _HOSTNAME.match(value) or value.startswith("*"):
        return f"address {said(value)} is not a host name"
    else:
        return dns_length_problem(value, "address", most=GATEWAY_API_HOSTNAME_MAX)
    return ""


def build_k8s_gateway(name: str, namespace: str, class_name: str, listeners: Sequence[Listener],
                      addresses: Sequence[tuple[str, str]] = ()) -> IstioObject:
    if problem := name_problem(name):
        raise RoutingError(problem)
    if not class_name:
        raise RoutingError("a gatewayClassName is needed (Istio's class is istio)")
    if problem := name_problem(class_name):
        raise RoutingError(f"gatewayClassName: {problem}")
    if not listeners:
        raise RoutingError("add at least one listener (a name, a port and a protocol)")
    if len(listeners) > MAX_LISTENERS:
        raise RoutingError(f"a Gateway has at most {MAX_LISTENERS} listeners")
    several = len(listeners) > 1
    for i, li in enumerate(listeners, 1):
        if problems := li.problems():
            raise RoutingError(f"listener {i}: {problems[0]}" if several else problems[0])
    names = [li.name for li in listeners]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise RoutingError(f"listener name {dup} is given twice: each listener needs a name of its own")
    seen: dict[tuple[int, str, str], int] = {}
    for i, li in enumerate(listeners, 1):
        key = (int(li.port.strip()), li.protocol, li.hostname)
        if key in seen:
            raise RoutingError(f"listeners {seen[key]} and {i} share port {key[0]}, protocol {key[1]} and "
                               f"{f'hostname {key[2]}' if key[2] else 'no hostname'}: the Gateway API refuses "
                               "the Gateway (give one a hostname or another port)")
        seen[key] = i
    if len(addresses) > MAX_ADDRESSES:
        raise RoutingError(f"a Gateway has at most {MAX_ADDRESSES} addresses")
    for kind, value in addresses:
        if problem := address_problem(kind, value):
            raise RoutingError(problem)
    if len(set(addresses)) < len(addresses):
        raise RoutingError("an address is given twice")
    spec: dict[str, Any] = {"gatewayClassName": class_name, "listeners": [li.to_spec() for li in listeners]}
    if addresses:
        spec["addresses"] = [{"type": k, "value": v} for k, v in addresses]
    return IstioObject(K8S_GATEWAY, name, namespace, API_VERSION, spec, managed_labels())


def class_note(inv: Inventory, class_name: str) -> str:
    """What the form and the review say of ``class_name`` against the cluster's GatewayClasses."""
    classes = inv.gateway_classes
    if classes is None:
        return "The cluster's GatewayClasses are not known: check that a controller runs this class."
    if not classes:
        return "The cluster has no GatewayClass: no controller runs this Gateway until one is installed."
    if class_name not in classes:
        return f"The cluster has no GatewayClass {class_name} (it has {', '.join(sorted(classes))})."
    controller = classes[class_name]
    return f"GatewayClass {class_name} is run by {controller}." if controller else ""


def k8s_gateway_plan(inv: Inventory, gw: IstioObject, *, editing: bool = False) -> ChangePlan:
    """Create ``gw`` (a name already taken is refused); the notes say which controller runs it."""
    if not editing:
        _taken_k8s(inv, K8S_GATEWAY, gw.namespace, gw.name)
    spec = gw.spec if isinstance(gw.spec, dict) else {}
    class_name = str(spec.get("gatewayClassName") or "")
    plan = ChangePlan(f"Kubernetes Gateway {gw.namespace}/{gw.name} of class {class_name}")
    if note := class_note(inv, class_name):
        plan.notes.append(note)
    plan.notes.append("A Gateway only opens listeners: traffic reaches a service once a route (an HTTPRoute, "
                      f"a TCPRoute ...) names it in its parentRefs ({gw.namespace}/{gw.name}).")
    for li in spec.get("listeners") or []:
        tls = li.get("tls") if isinstance(li, dict) else None
        refs = tls.get("certificateRefs") if isinstance(tls, dict) else None
        for ref in refs or []:
            if isinstance(ref, dict) and ref.get("namespace") and ref["namespace"] != gw.namespace:
                plan.notes.append(f"Listener {li.get('name')} reads Secret {ref['namespace']}/{ref.get('name')} "
                                  f"from another namespace: a ReferenceGrant there must allow Gateways of "
                                  f"{gw.namespace} to refer to its Secrets.")
    if not editing:
        plan.changes.append(Change(CREATE, obj=gw))
    return plan


def _taken_k8s(inv: Inventory, kind: str, namespace: str, name: str) -> None:
    try:
        _taken(inv, kind, namespace, name)
    except RoutingError as e:  # said with the kind as the Gateway API names it
        raise RoutingError(str(e).replace(kind, f"Kubernetes {GATEWAY_API_KINDS[kind]}", 1)) from None


@dataclass
class GrantSide:
    """One entry of a ReferenceGrant: a ``from`` entry (a kind and the namespace its objects are in) or a
    ``to`` entry (a kind of this namespace and, optionally, one object's name)."""

    kind: str
    namespace: str = ""  # "from" only
    name: str = ""  # "to" only, optional


MAX_GRANT_ENTRIES = 16  # the CRD's limit on ``from`` and on ``to``


def _grant_entry_problem(side: str, entry: GrantSide, namespace: str) -> str:
    if side == "from":
        if entry.kind not in GRANT_FROM_KINDS:
            return f"kind {said(entry.kind)} is not one of {', '.join(GRANT_FROM_KINDS)}"
        if not entry.namespace:
            return "the namespace the references come from is needed"
        if len(entry.namespace) > 63 or not _DNS_LABEL.fullmatch(entry.namespace):
            return (f"namespace {said(entry.namespace)} is not a namespace name (at most 63 lower-case letters, "
                    "digits and '-')")
        if entry.namespace == namespace:
            return (f"namespace {namespace} is this ReferenceGrant's own: references within a namespace need no "
                    "grant (pick the namespace the routes or Gateways are in)")
        return ""
    if entry.kind not in GRANT_TO_KINDS:
        return f"kind {said(entry.kind)} is not one of {', '.join(GRANT_TO_KINDS)}"
    if entry.name and (problem := name_problem(entry.name)):
        return f"name: {problem}"
    return ""


def _grant_side(side: str, entries: Sequence[GrantSide], namespace: str) -> None:
    if not entries:
        raise RoutingError(f"a ReferenceGrant needs at least one {side} entry")
    if len(entries) > MAX_GRANT_ENTRIES:
        raise RoutingError(f"{len(entries)} {side} entries: the Gateway API takes at most {MAX_GRANT_ENTRIES}")
    several = len(entries) > 1
    seen: dict[tuple[str, str, str], int] = {}
    for i, entry in enumerate(entries, 1):
        if problem := _grant_entry_problem(side, entry, namespace):
            raise RoutingError(f"{side} {i}: {problem}" if several else f"{side} {problem}")
        key = (entry.kind, entry.namespace, entry.name)
        if key in seen:
            raise RoutingError(f"{side} {seen[key]} and {side} {i} are the same; remove one")
        seen[key] = i
    if side == "to":
        for i, entry in enumerate(entries, 1):
            every = next((j for j, e in enumerate(entries, 1) if e.kind == entry.kind and not e.name), None)
            if entry.name and every is not None:
                raise RoutingError(f"to {i} (the {entry.kind} {entry.name}) is already granted by to {every} (every "
                                   f"{entry.kind}); remove one")


def build_reference_grant(name: str, namespace: str, source: GrantSide | Sequence[GrantSide],
                          target: GrantSide | Sequence[GrantSide]) -> IstioObject:
    """A ReferenceGrant of ``namespace`` letting the objects of each ``source`` entry refer to the
    objects of each ``target`` entry (one entry, or up to 16 of each)."""
    if problem := name_problem(name):
        raise RoutingError(problem)
    sources = [source] if isinstance(source, GrantSide) else list(source)
    targets = [target] if isinstance(target, GrantSide) else list(target)
    _grant_side("from", sources, namespace)
    _grant_side("to", targets, namespace)
    froms = [{"group": GRANT_FROM_KINDS[s.kind], "kind": s.kind, "namespace": s.namespace} for s in sources]
    tos: list[dict[str, Any]] = []
    for t in targets:
        to: dict[str, Any] = {"group": GRANT_TO_KINDS[t.kind], "kind": t.kind}
        if t.name:
            to["name"] = t.name
        tos.append(to)
    return IstioObject(REFERENCE_GRANT, name, namespace, GRANT_API_VERSION, {"from": froms, "to": tos},
                       managed_labels())


def grant_pair_warning(from_kind: str, to_kind: str) -> str:
    """Why a grant from ``from_kind`` to ``to_kind`` lets nothing through ("" when it may): routes refer
    to Services (``backendRefs``), Gateways to Secrets (``certificateRefs``)."""
    if from_kind == "Gateway" and to_kind != "Secret":
        return f"a Gateway refers to no {to_kind} (only to Secrets, its certificates): this grant allows nothing"
    if from_kind != "Gateway" and to_kind == "Secret":
        return f"{_a(from_kind)} refers to no Secret (only to Services, its backends): this grant allows nothing"
    return ""


def grant_warnings(from_kinds: Sequence[str], to_kinds: Sequence[str]) -> list[str]:
    """What of a grant from ``from_kinds`` to ``to_kinds`` lets nothing through: the whole grant, or the
    entries (``from 2``, ``to 1``) no entry of the other side pairs with."""
    pairs = [(f, t) for f in from_kinds for t in to_kinds]
    if not pairs or all(grant_pair_warning(f, t) for f, t in pairs):
        if len(set(from_kinds)) == 1 and len(set(to_kinds)) == 1:
            return [grant_pair_warning(from_kinds[0], to_kinds[0])]
        return ["no kind it lets refer here refers to a kind it grants (routes refer to Services, Gateways to "
                "Secrets): this grant allows nothing"] if pairs else []
    out = []
    for i, f in enumerate(from_kinds, 1):
        if all(grant_pair_warning(f, t) for t in to_kinds):
            wanted = "Secret" if f == "Gateway" else "Service"
            out.append(f"from {i}: {_a(f)} refers only to {wanted}s, and no to entry is a {wanted}: that entry "
                       "allows nothing")
    for i, t in enumerate(to_kinds, 1):
        if all(grant_pair_warning(f, t) for f in from_kinds):
            who = "a Gateway (its certificates)" if t == "Secret" else "a route (its backends)"
            out.append(f"to {i}: only {who} refers to a {t}, and no from entry is one: that entry allows nothing")
    return out


def _grant_words(grant: IstioObject) -> str:
    def joined(parts: list[str]) -> str:
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    sources = joined([f"{s['kind']}s of {s['namespace']}" for s in grant.spec["from"]])
    targets = joined([f"{t['kind']} {t['name']}" if t.get("name") else f"every {t['kind']}" for t in grant.spec["to"]])
    return f"{sources} may refer to {targets} of {grant.namespace}"


def reference_grant_plan(inv: Inventory, grant: IstioObject, *, editing: bool = False) -> ChangePlan:
    """Create ``grant`` (a name already taken is refused); editing, only the summary and the notes (the
    form's editor replaces the object as read)."""
    if not editing:
        _taken_k8s(inv, REFERENCE_GRANT, grant.namespace, grant.name)
    plan = ChangePlan(f"ReferenceGrant {grant.namespace}/{grant.name}: {_grant_words(grant)}")
    for warning in grant_warnings([s["kind"] for s in grant.spec["from"]], [t["kind"] for t in grant.spec["to"]]):
        plan.notes.append(f"Warning: {warning}.")
    if not editing:
        plan.changes.append(Change(CREATE, obj=grant))
    return plan


def reference_grant_fields(spec: Any) -> tuple[dict[str, list[GrantSide]], list[str]]:
    """What the ReferenceGrant form shows of ``spec`` (its ``from`` and ``to`` entries) and what it cannot,
    by path: a kind the form does not offer, or a kind under another API group than its own."""
    out: list[str] = []
    if not isinstance(spec, dict):
        return {}, ["spec (not a mapping)"]
    out += [f"spec.{k}" for k in spec if k not in ("from", "to")]
    sides: dict[str, list[GrantSide]] = {"from": [], "to": []}
    for side, kinds, keys in (("from", GRANT_FROM_KINDS, {"group", "kind", "namespace"}),
                              ("to", GRANT_TO_KINDS, {"group", "kind", "name"})):
        raw_entries = spec.get(side)
        if not isinstance(raw_entries, list) or not raw_entries:
            out.append(f"spec.{side} (the form needs at least one entry)")
            continue
        for i, raw in enumerate(raw_entries):
            at = f"spec.{side}[{i}]"
            if not isinstance(raw, dict):
                out.append(f"{at} (not a mapping)")
                continue
            out += [f"{at}.{k}" for k in raw if k not in keys]
            kind, group = raw.get("kind"), raw.get("group", "")
            if kind not in kinds:
                out.append(f"{at}.kind {said(kind)} (the form offers {', '.join(kinds)})")
                continue
            if group != kinds[kind]:
                out.append(f"{at}.group {said(group)} (a {kind} is of {kinds[kind] or 'the core group'})")
                continue
            value = raw.get("namespace" if side == "from" else "name")
            if value is not None and not isinstance(value, str):
                out.append(f"{at}.{'namespace' if side == 'from' else 'name'} (not a name)")
                continue
            sides[side].append(GrantSide(str(kind), namespace=value or "") if side == "from"
                               else GrantSide(str(kind), name=value or ""))
    return sides, out


def gateway_api_missing(inv: Inventory, kind: str) -> str:
    """Why ``kind`` (a Gateway API kind, Kiali's name) cannot be created in the cluster ("" when it can, or
    when that is not known)."""
    served = inv.gateway_api_kinds
    if served is None or kind in served:
        return ""
    if not served:
        return ("The cluster does not serve the Kubernetes Gateway API (gateway.networking.k8s.io): install its "
                "CRDs first.")
    return (f"The cluster serves no {GATEWAY_API_KINDS[kind]} of the Kubernetes Gateway API: install the CRDs of "
            "its release that has it.")


def k8s_gateway_fields(spec: Any) -> tuple[dict[str, Any], list[str]]:
    """What the Kubernetes Gateway form shows of ``spec`` (class, listeners, addresses) and what it
    cannot, by path."""
    out: list[str] = []
    if not isinstance(spec, dict):
        return {}, ["spec (not a mapping)"]
    out += [f"spec.{k}" for k in spec if k not in ("gatewayClassName", "listeners", "addresses")]
    class_name = spec.get("gatewayClassName")
    if not isinstance(class_name, str):
        out.append("spec.gatewayClassName (not a name)")
        class_name = ""
    listeners: list[Listener] = []
    raw_listeners = spec.get("listeners")
    if not isinstance(raw_listeners, list) or not raw_listeners:
        out.append("spec.listeners (the form needs at least one listener)")
        raw_listeners = []
    for i, raw in enumerate(raw_listeners):
        at = f"spec.listeners[{i}]"
        if not isinstance(raw, dict):
            out.append(f"{at} (not a mapping)")
            continue
        out += [f"{at}.{k}" for k in raw if k not in _LISTENER_FIELDS]
        li = Listener(name=str(raw.get("name") or ""), hostname=str(raw.get("hostname") or ""))
        port = raw.get("port")
        if not isinstance(port, int) or isinstance(port, bool):
            out.append(f"{at}.port (not a port number)")
        else:
            li.port = str(port)
        if raw.get("protocol") not in LISTENER_PROTOCOLS:
            out.append(f"{at}.protocol {said(raw.get('protocol'))} (the form offers {', '.join(LISTENER_PROTOCOLS)})")
        else:
            li.protocol = str(raw["protocol"])
        allowed = raw.get("allowedRoutes")
        if allowed is not None:
            namespaces = allowed.get("namespaces") if isinstance(allowed, dict) else None
            if not isinstance(allowed, dict) or set(allowed) - {"namespaces"} or \
                    (namespaces is not None and not isinstance(namespaces, dict)):
                out.append(f"{at}.allowedRoutes (the form knows namespaces only, not kinds)")
            elif isinstance(namespaces, dict):
                li.routes_from = str(namespaces.get("from") or "Same")
                if li.routes_from not in ROUTES_FROM:
                    out.append(f"{at}.allowedRoutes.namespaces.from {said(li.routes_from)}")
                selector = namespaces.get("selector")
                if selector is not None and li.routes_from != "Selector":
                    # not written back by the form (it writes a selector with Selector only)
                    out.append(f"{at}.allowedRoutes.namespaces.selector (with from {li.routes_from})")
                elif selector is not None:
                    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
                    if not isinstance(selector, dict) or set(selector) - {"matchLabels"} or \
                            not isinstance(labels, dict) or \
                            not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
                        out.append(f"{at}.allowedRoutes.namespaces.selector (only matchLabels)")
                    else:
                        li.routes_selector = dict(labels)
        tls = raw.get("tls")
        if tls is not None:
            if not isinstance(tls, dict):
                out.append(f"{at}.tls (not a mapping)")
            else:
                out += [f"{at}.tls.{k}" for k in tls if k not in ("mode", "certificateRefs")]
                li.tls_mode = str(tls.get("mode") or "Terminate")  # the Gateway API's default
                if li.tls_mode not in TLS_MODES:
                    out.append(f"{at}.tls.mode {said(li.tls_mode)}")
                refs = tls.get("certificateRefs") or []
                for j, ref in enumerate(refs if isinstance(refs, list) else [None]):
                    if not isinstance(ref, dict) or set(ref) - {"group", "kind", "name", "namespace"} or \
                            ref.get("group", "") != "" or ref.get("kind", "Secret") != "Secret" or \
                            not isinstance(ref.get("name"), str):
                        out.append(f"{at}.tls.certificateRefs[{j}] (the form knows Secrets only)")
                        continue
                    ns = ref.get("namespace")
                    li.certificate_refs.append(f"{ns}/{ref['name']}" if ns else ref["name"])
        listeners.append(li)
    addresses: list[tuple[str, str]] = []
    raw_addresses = spec.get("addresses") or []
    for i, raw in enumerate(raw_addresses if isinstance(raw_addresses, list) else [None]):
        if not isinstance(raw, dict) or set(raw) - {"type", "value"} or not isinstance(raw.get("value"), str) or \
                raw.get("type", "IPAddress") not in ADDRESS_TYPES:
            out.append(f"spec.addresses[{i}] (the form knows IPAddress and Hostname addresses)")
            continue
        addresses.append((str(raw.get("type", "IPAddress")), raw["value"]))
    return {"class_name": class_name, "listeners": listeners, "addresses": addresses}, out


def keep_k8s_spellings(spec: dict[str, Any], before: Any) -> dict[str, Any]:
    """``spec`` (the form's) with the defaults ``before`` (the Gateway as read) left unwritten kept so
    (``allowedRoutes`` from Same, a tls without a mode: Terminate, an address without a type: IPAddress), so that an edit's diff shows only
    what the user changed. Listeners are matched by name."""
    old_addresses = before.get("addresses") if isinstance(before, dict) else None
    for new_address in spec.get("addresses") or []:
        was_typed = [a.get("type") for a in (old_addresses if isinstance(old_addresses, list) else [])
                     if isinstance(a, dict) and a.get("value") == new_address.get("value")]
        if was_typed and was_typed[0] is None and new_address.get("type") == "IPAddress":
            del new_address["type"]  # the Gateway API's default type
    old = before.get("listeners") if isinstance(before, dict) else None
    if not isinstance(old, list):
        return keep_order(spec, before)
    by_name = {li["name"]: li for li in old if isinstance(li, dict) and isinstance(li.get("name"), str)}
    for new in spec.get("listeners") or []:
        was = by_name.get(new.get("name"))
        if was is None:
            continue
        if "allowedRoutes" not in was and new.get("allowedRoutes") == {"namespaces": {"from": "Same"}}:
            del new["allowedRoutes"]
        old_allowed = was.get("allowedRoutes")
        if new.get("allowedRoutes") == {"namespaces": {"from": "Same"}} and old_allowed in ({}, {"namespaces": {}}):
            new["allowedRoutes"] = copy.deepcopy(old_allowed)  # from left to its default, Same, as written
        old_tls, new_tls = was.get("tls"), new.get("tls")
        if isinstance(old_tls, dict) and "mode" not in old_tls and isinstance(new_tls, dict) and \
                new_tls.get("mode") == "Terminate":
            del new_tls["mode"]
        old_refs = old_tls.get("certificateRefs") if isinstance(old_tls, dict) else None
        for ref in (new_tls.get("certificateRefs") or []) if isinstance(new_tls, dict) else []:
            same = [r for r in (old_refs if isinstance(old_refs, list) else []) if isinstance(r, dict)
                    and r.get("name") == ref.get("name") and r.get("namespace") == ref.get("namespace")]
            if not same:
                continue
            for key, default in (("group", ""), ("kind", "Secret")):  # the Gateway API's defaults
                if key not in same[0] and ref.get(key) == default:
                    del ref[key]
            keep_order(ref, same[0])
        keep_order(new, was)
    return keep_order(spec, before)

