"""A Kubernetes Gateway API HTTPRoute for one service, made from what a person typed, as Kiali's "K8s
Request Routing" wizard makes one: its parents (the Service itself, so the mesh's requests to it are routed
by it, as GAMMA has it, and/or Gateways of the Gateway API), optional hostnames, and rules. A rule has
matches (a path Exact, PathPrefix or RegularExpression, headers, query parameters, a method; a request
matches the rule when it matches any one of them, a rule without matches takes every request), the filters
Kiali's wizard offers (request and response header modifiers: set, add, remove; a redirect; a mirror to one
of the backends offered) and weighted backendRefs (none for a rule that redirects): the Services of the service's
versions when it has such (Services of its app whose selector names a version, as Kiali's "sub-services"),
else the service itself.

Everything is checked as the Gateway API's CRDs check it (their patterns, limits and CEL rules) before
anything is sent; ``http_route_fields`` reads an existing route back into the form's fields and says what
the form cannot show (a URL rewrite, a redirect's path, a timeout ...), so such a route is never rewritten
losing it.

A GRPCRoute, as Kiali's "K8s GRPC Routing" wizard makes one, has the same parents, hostnames, header
modifiers, mirror and backends (no redirect: the Gateway API has none for gRPC); its matches are on the gRPC method (service and/or method, Exact or
RegularExpression) and headers. The same functions build, read and check it, told the kind.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.changes import CREATE, Change, ChangePlan
from meshdesk.mesh.inventory import (
    APP_LABELS,
    GATEWAY_API_GROUP,
    VERSION_LABELS,
    Inventory,
    IstioObject,
    Service,
)
from meshdesk.mesh.k8s_gateway_config import hostname_problem
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.routing import RoutingError, _managed, port_protocol, re2_problem, said
from meshdesk.mesh.security import _taken, name_problem

HTTP_ROUTE = "K8sHTTPRoute"
ROUTE_API_VERSION = f"{GATEWAY_API_GROUP}/v1"
KIALI_WIZARD_LABEL = "kiali_wizard"
WIZARD = "k8s_request_routing"  # the label value Kiali's wizard gives the route
GRPC_ROUTE = "K8sGRPCRoute"
GRPC_WIZARD = "k8s_grpc_request_routing"  # the label value Kiali's gRPC wizard gives its GRPCRoute
# kind -> (the Gateway API's name of it, the label value of Kiali's wizard that writes it)
ROUTE_KINDS = {HTTP_ROUTE: ("HTTPRoute", WIZARD), GRPC_ROUTE: ("GRPCRoute", GRPC_WIZARD)}
PATH_TYPES = ("PathPrefix", "Exact", "RegularExpression")
VALUE_TYPES = ("Exact", "RegularExpression")  # of a header's or query parameter's match
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
HEADER_OPS = ("set", "add", "remove")
REDIRECT_SCHEMES = ("http", "https")  # the CRD's enum ("" in the form: the request's own)
REDIRECT_CODES = (301, 302)  # the CRD's enum (its standard channel's); 302 its default
# the CRD's limits (Gateway API v1.0; later releases take more matches, never fewer)
MAX_RULES = 16
MAX_MATCHES = 8
MAX_BACKENDS = 16
MAX_HEADERS = 16  # header and query parameter matches of a match; each of set, add and remove of a filter
MAX_HOSTNAMES = 16
MAX_PARENTS = 32
MAX_WEIGHT = 1_000_000
MAX_PATH = 1024
# HTTPHeaderName: an RFC 7230 token (also what a query parameter's name is checked by)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
_PATH_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$")
# GRPCMethodMatch's CEL rules for an Exact match: a (dotted) proto service name, a method name
_GRPC_SERVICE = re.compile(r"^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$", re.IGNORECASE)
_GRPC_METHOD = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
MAX_GRPC_NAME = 1024


def shown_route_kind(kind: str) -> str:
    return ROUTE_KINDS.get(kind, (kind, ""))[0]


@dataclass
class ValueMatch:
    """A header's or query parameter's match: its name, Exact or RegularExpression, the value."""

    name: str
    value: str
    type: str = "Exact"


@dataclass
class RouteMatch:
    path_type: str = ""  # "" for none (the Gateway API's default: PathPrefix /)
    path: str = ""
    method: str = ""
    headers: list[ValueMatch] = field(default_factory=list)
    query: list[ValueMatch] = field(default_factory=list)
    # a GRPCRoute's method match: its type ("" for none), the gRPC service and method (either may be "")
    rpc_type: str = ""
    rpc_service: str = ""
    rpc_method: str = ""

    def empty(self) -> bool:
        return not (self.path_type or self.method or self.headers or self.query or self.rpc_type)


@dataclass
class HeaderChange:
    op: str  # set, add or remove
    name: str
    value: str = ""


@dataclass
class Backend:
    name: str  # a Service of the route's namespace
    port: int
    weight: int = 1


@dataclass
class Redirect:
    """A rule's RequestRedirect: what the answer's Location changes of the request's URL (``scheme`` "",
    ``hostname`` "" and ``port`` 0 keep the request's own), with ``status`` 301 or 302."""

    scheme: str = ""
    hostname: str = ""
    port: int = 0
    status: int = 302


@dataclass
class RouteRule:
    matches: list[RouteMatch] = field(default_factory=list)
    header_changes: list[HeaderChange] = field(default_factory=list)  # the request's (RequestHeaderModifier)
    backends: list[Backend] = field(default_factory=list)
    response_header_changes: list[HeaderChange] = field(default_factory=list)  # ResponseHeaderModifier
    redirect: Redirect | None = None  # RequestRedirect: the rule answers with it, sending to no backend
    mirror: Backend | None = None  # RequestMirror: a copy of each request to this Service (its weight unused)


def _first(labels: dict[str, str], names: Sequence[str]) -> tuple[str, str] | None:
    return next(((k, labels[k]) for k in names if labels.get(k)), None)


def version_services(inv: Inventory, svc: Service) -> list[Service]:
    """The Services the route's backendRefs offer, as Kiali's wizard: those of ``svc``'s namespace that
    select its app (the app label of its selector) and a version, else ``svc`` itself."""
    app = _first(svc.selector, APP_LABELS)
    found = []
    if app is not None:
        for other in inv.services:
            if other.namespace == svc.namespace and other.selector.get(app[0]) == app[1] and \
                    _first(other.selector, VERSION_LABELS) is not None:
                found.append(other)
    return sorted(found, key=lambda s: s.name) or [svc]


def default_weights(count: int) -> list[int]:
    """As Kiali shares them: 100 split evenly, what is left over to the last."""
    if count <= 0:
        return []
    weights = [100 // count] * count
    weights[-1] += 100 % count
    return weights


def service_port(svc: Service, kind: str = HTTP_ROUTE) -> int:
    """The port a route of ``kind`` names the service by: its first, or for a GRPCRoute its first gRPC port
    (appProtocol grpc or a name grpc*, as Istio reads it) when it has one."""
    if kind == GRPC_ROUTE:
        grpc = [p.port for p in svc.ports if port_protocol(p) == "grpc"]
        if grpc:
            return grpc[0]
    return svc.ports[0].port if svc.ports else 80


def grpc_ports(svc: Service) -> list[str]:
    """The service's ports Istio reads as gRPC (appProtocol grpc, or a name grpc or grpc-*), by name."""
    return [p.name or str(p.port) for p in svc.ports if port_protocol(p) == "grpc"]


def rpc_method_problem(m: RouteMatch) -> str:
    """Why a GRPCRoute's method match is not one the Gateway API's CRD takes ("" when it is)."""
    if m.rpc_type not in VALUE_TYPES:
        return f"method match type {said(m.rpc_type)} is not one of {', '.join(VALUE_TYPES)}"
    if not m.rpc_service and not m.rpc_method:
        return "a method match needs a gRPC service or a method (or both)"
    for what, value in (("service", m.rpc_service), ("method", m.rpc_method)):
        if len(value) > MAX_GRPC_NAME:
            return f"a gRPC {what} is at most {MAX_GRPC_NAME} characters ({len(value)} given)"
        if not value:
            continue
        if m.rpc_type == "RegularExpression":
            if problem := re2_problem(value):
                return f"the gRPC {what} {said(value)} is not a regular expression ({problem})"
        elif not (_GRPC_SERVICE if what == "service" else _GRPC_METHOD).match(value):
            return (f"the gRPC service {said(value)} is not a service name (dotted words of letters, digits and '_', "
                    "such as helloworld.Greeter)" if what == "service" else
                    f"the gRPC method {said(value)} is not a method name (letters, digits and '_', not starting with a "
                    "digit, such as SayHello)")
    return ""


def _value_match_problem(what: str, m: ValueMatch) -> str:
    if not m.name:
        return f"a {what} match needs a name"
    if len(m.name) > 256 or not _HEADER_NAME.match(m.name):
        return (f"{what} name {said(m.name)} is not a header name as the Gateway API takes one (letters, digits "
                "and !#$%&'*+-.^_`|~, no spaces or ':')")
    if m.type not in VALUE_TYPES:
        return f"{what} {m.name}: match type {said(m.type)} is not one of {', '.join(VALUE_TYPES)}"
    if not m.value:
        return f"{what} {m.name} needs a value to match"
    if len(m.value) > (4096 if what == "header" else 1024):
        return f"{what} {m.name}: the value is longer than the Gateway API takes"
    if m.type == "RegularExpression" and (problem := re2_problem(m.value)):
        return f"{what} {m.name}: {said(m.value)} is not a regular expression ({problem})"
    return ""


def path_problem(path_type: str, path: str) -> str:
    """Why ``path`` is no path match of ``path_type`` as the Gateway API's CRD takes it ("" when it is)."""
    if path_type not in PATH_TYPES:
        return f"path match type {said(path_type)} is not one of {', '.join(PATH_TYPES)}"
    if not path.startswith("/"):
        return f"path {said(path)} must start with '/'"
    if len(path) > MAX_PATH:
        return f"a path is at most {MAX_PATH} characters ({len(path)} given)"
    if path_type == "RegularExpression":
        problem = re2_problem(path)
        return f"path {said(path)} is not a regular expression ({problem})" if problem else ""
    if not _PATH_CHARS.match(path):
        return f"path {said(path)} has characters a URL path does not (spaces, '#', '?' ...): encode them as %XX"
    if "//" in path:
        return f"path {said(path)} must not contain '//'"
    for bad in ("/./", "/../"):
        if bad in path:
            return f"path {said(path)} must not contain {bad!r}"
    if path.endswith(("/.", "/..")):
        return f"path {said(path)} must not end with '/.' or '/..'"
    if "%2f" in path.lower():
        return f"path {said(path)} must not contain an encoded '/' (%2F)"
    if "#" in path:
        return f"path {said(path)} must not contain '#'"
    return ""


def match_problem(m: RouteMatch, kind: str = HTTP_ROUTE) -> str:
    if kind == GRPC_ROUTE:
        if m.path_type or m.method or m.query:
            return "a GRPCRoute matches on the gRPC method and headers only (no path, HTTP method or query)"
        if m.rpc_type and (problem := rpc_method_problem(m)):
            return problem
    elif m.rpc_type:
        return "an HTTPRoute has no gRPC method match"
    if m.path_type and (problem := path_problem(m.path_type, m.path)):
        return problem
    if m.method and m.method not in METHODS:
        return f"method {said(m.method)} is not one of {', '.join(METHODS)}"
    for what, entries in (("header", m.headers), ("query parameter", m.query)):
        if len(entries) > MAX_HEADERS:
            return f"a match takes at most {MAX_HEADERS} {what} matches"
        for entry in entries:
            if problem := _value_match_problem(what, entry):
                return problem
        names = [e.name.lower() if what == "header" else e.name for e in entries]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            return f"{what} {dup} is matched twice in one match (the Gateway API takes each once)"
    return ""


def header_changes_problem(changes: Sequence[HeaderChange]) -> str:
    for op in HEADER_OPS:
        these = [c for c in changes if c.op == op]
        if len(these) > MAX_HEADERS:
            return f"a header modifier takes at most {MAX_HEADERS} headers to {op}"
        lowered = [c.name.lower() for c in these]
        dup = next((n for n in lowered if lowered.count(n) > 1), None)
        if dup is not None:
            return f"header {dup} is given twice to {op}"
    for c in changes:
        if c.op not in HEADER_OPS:
            return f"header modifier {said(c.op)} is not one of {', '.join(HEADER_OPS)}"
        if not c.name or len(c.name) > 256 or not _HEADER_NAME.match(c.name):
            return f"header name {said(c.name)} is not a header name as the Gateway API takes one"
        if c.op != "remove" and not c.value:
            return f"{c.op} {c.name} needs a value"
        if c.op == "remove" and c.value:
            return f"remove {c.name} takes no value"
    return ""


def _ipv4(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False


def redirect_problem(r: Redirect) -> str:
    """Why ``r`` is no RequestRedirect the Gateway API's CRD takes ("" when it is)."""
    if r.scheme and r.scheme not in REDIRECT_SCHEMES:
        return f"redirect scheme {said(r.scheme)} is not one of {', '.join(REDIRECT_SCHEMES)}"
    if r.hostname:
        if "*" in r.hostname:
            return f"a redirect names one host, not a wildcard ({said(r.hostname)})"
        if ":" in r.hostname:
            return f"redirect hostname {said(r.hostname)} is not a host name (give the port apart)"
        if not _ipv4(r.hostname) and (problem := hostname_problem(r.hostname)):
            # (the CRD's PreciseHostname takes an IPv4 address, where a listener's hostname does not)
            return f"redirect: {problem}"
    if not 0 <= r.port <= 65535:
        return f"redirect port {r.port} is not a port number from 1 to 65535"
    if r.status not in REDIRECT_CODES:
        return f"redirect status {r.status} is not one of {', '.join(map(str, REDIRECT_CODES))}"
    return ""


def rule_problem(rule: RouteRule, kind: str = HTTP_ROUTE) -> str:
    if len(rule.matches) > MAX_MATCHES:
        return f"a rule takes at most {MAX_MATCHES} matches ({len(rule.matches)} given)"
    for i, m in enumerate(rule.matches, 1):
        if problem := match_problem(m, kind):
            return f"match {i}: {problem}" if len(rule.matches) > 1 else problem
    if problem := header_changes_problem(rule.header_changes):
        return problem
    if problem := header_changes_problem(rule.response_header_changes):
        return f"response headers: {problem}"
    if rule.redirect is not None:
        if kind == GRPC_ROUTE:
            return "a GRPCRoute has no redirect (the Gateway API redirects HTTP requests only)"
        if problem := redirect_problem(rule.redirect):
            return problem
        if rule.backends:
            return ("a rule that redirects answers the request itself: it sends to no backend (the Gateway API "
                    "refuses backends beside a redirect)")
    elif not rule.backends:
        return "a rule needs at least one backend to send its requests to"
    if rule.mirror is not None:
        if problem := name_problem(rule.mirror.name):
            return f"mirror: {problem}"
        if not 1 <= rule.mirror.port <= 65535:
            return f"mirror {rule.mirror.name}: port {rule.mirror.port} is not a port number from 1 to 65535"
    if len(rule.backends) > MAX_BACKENDS:
        return f"a rule takes at most {MAX_BACKENDS} backends"
    for b in rule.backends:
        if problem := name_problem(b.name):
            return f"backend: {problem}"
        if not 1 <= b.port <= 65535:
            return f"backend {b.name}: port {b.port} is not a port number from 1 to 65535"
        if not 0 <= b.weight <= MAX_WEIGHT:
            return f"backend {b.name}: weight {b.weight} is not from 0 to {MAX_WEIGHT:,}".replace(",", " ")
    return ""


def _value_spec(m: ValueMatch) -> dict[str, Any]:
    return {"name": m.name, "type": m.type, "value": m.value}


def _match_spec(m: RouteMatch) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m.path_type:
        out["path"] = {"type": m.path_type, "value": m.path}
    if m.headers:
        out["headers"] = [_value_spec(h) for h in m.headers]
    if m.query:
        out["queryParams"] = [_value_spec(q) for q in m.query]
    if m.method:
        out["method"] = m.method
    if m.rpc_type:
        out["method"] = {"type": m.rpc_type, **({"service": m.rpc_service} if m.rpc_service else {}),
                         **({"method": m.rpc_method} if m.rpc_method else {})}
    return out


def _modifier_spec(changes: Sequence[HeaderChange]) -> dict[str, Any]:
    modifier: dict[str, Any] = {}
    for op in HEADER_OPS:
        these = [c for c in changes if c.op == op]
        if these:
            modifier[op] = [c.name for c in these] if op == "remove" else \
                [{"name": c.name, "value": c.value} for c in these]
    return modifier


def _rule_spec(rule: RouteRule) -> dict[str, Any]:
    """A rule as Kiali's wizard writes it: its filters in the wizard's order (header modifiers, a redirect, a
    mirror), but each header modifier one filter holding all its headers (the CRD refuses a modifier twice,
    where the wizard writes one filter a header)."""
    out: dict[str, Any] = {}
    matches = [_match_spec(m) for m in rule.matches if not m.empty()]
    if matches:
        out["matches"] = matches
    filters: list[dict[str, Any]] = []
    if rule.header_changes:
        filters.append({"type": "RequestHeaderModifier", "requestHeaderModifier": _modifier_spec(rule.header_changes)})
    if rule.response_header_changes:
        filters.append({"type": "ResponseHeaderModifier",
                        "responseHeaderModifier": _modifier_spec(rule.response_header_changes)})
    if rule.redirect is not None:
        r = rule.redirect
        redirect: dict[str, Any] = {**({"scheme": r.scheme} if r.scheme else {}),
                                    **({"hostname": r.hostname} if r.hostname else {}),
                                    **({"port": r.port} if r.port else {}), "statusCode": r.status}
        filters.append({"type": "RequestRedirect", "requestRedirect": redirect})
    if rule.mirror is not None:
        filters.append({"type": "RequestMirror",
                        "requestMirror": {"backendRef": {"name": rule.mirror.name, "port": rule.mirror.port}}})
    if filters:
        out["filters"] = filters
    if rule.redirect is None:
        out["backendRefs"] = [{"name": b.name, "port": b.port, "weight": b.weight} for b in rule.backends]
    return out


def build_http_route(name: str, svc: Service, *, mesh: bool, gateways: Sequence[tuple[str, str]],
                     hostnames: Sequence[str], rules: Sequence[RouteRule], mesh_port: int | None = 0,
                     kind: str = HTTP_ROUTE) -> IstioObject:
    """The HTTPRoute ``name`` in the service's namespace, its parents the Service (``mesh``) and
    ``gateways`` ((namespace, name) of Gateway API Gateways); a GRPCRoute when ``kind`` says so; raises RoutingError saying what is wrong.
    ``mesh_port``: the Service parent's port (0: the service's first; None: none, as an edited route had)."""
    if problem := name_problem(name):
        raise RoutingError(problem)
    if not mesh and not gateways:
        raise RoutingError("choose where the route applies: the service itself (the mesh's requests to it) "
                           "and/or a Gateway")
    if len(gateways) + mesh > MAX_PARENTS:
        raise RoutingError(f"a route has at most {MAX_PARENTS} parents")
    if len(hostnames) > MAX_HOSTNAMES:
        raise RoutingError(f"a route has at most {MAX_HOSTNAMES} hostnames")
    for host in hostnames:
        if problem := hostname_problem(host):
            raise RoutingError(problem)
    if len(set(hostnames)) < len(hostnames):
        raise RoutingError("a hostname is given twice")
    if not rules:
        raise RoutingError("add at least one rule")
    if len(rules) > MAX_RULES:
        raise RoutingError(f"a route has at most {MAX_RULES} rules ({len(rules)} given)")
    for i, rule in enumerate(rules, 1):
        if problem := rule_problem(rule, kind):
            raise RoutingError(f"rule {i}: {problem}" if len(rules) > 1 else problem)
    parents: list[dict[str, Any]] = []
    if mesh:
        parent: dict[str, Any] = {"group": "", "kind": "Service", "name": svc.name}
        if mesh_port is not None:
            parent["port"] = mesh_port or service_port(svc, kind)
        parents.append(parent)
    for ns, gw in gateways:
        parents.append({"name": gw, **({"namespace": ns} if ns != svc.namespace else {})})
    spec: dict[str, Any] = {"parentRefs": parents}
    if hostnames:
        spec["hostnames"] = list(hostnames)
    spec["rules"] = [_rule_spec(r) for r in rules]
    return IstioObject(kind, name, svc.namespace, ROUTE_API_VERSION, spec,
                       _managed({KIALI_WIZARD_LABEL: ROUTE_KINDS[kind][1]}))


def _concerns(route: IstioObject, svc: Service, names: set[str]) -> bool:
    spec = _d(route.spec)
    for ref in spec.get("parentRefs") or []:
        ref = _d(ref)
        if ref.get("kind") == "Service" and ref.get("group", "") in ("", "core") and ref.get("name") == svc.name \
                and (ref.get("namespace") or route.namespace) == svc.namespace:
            return True
    for rule in spec.get("rules") or []:
        for ref in _d(rule).get("backendRefs") or []:
            ref = _d(ref)
            if ref.get("kind", "Service") == "Service" and ref.get("group", "") in ("", "core") \
                    and ref.get("name") in names and (ref.get("namespace") or route.namespace) == svc.namespace:
                return True
    return False


def http_routes_of(inv: Inventory, svc: Service, kind: str = HTTP_ROUTE) -> list[IstioObject]:
    """The HTTPRoutes (GRPCRoutes, by ``kind``) of the service's namespace that concern it: its Service is
    their parent, or they send to it or to its versions' Services. Those meshdesk made first, then by name."""
    names = {svc.name, *(s.name for s in version_services(inv, svc))}
    found = [r for r in inv.istio_objects(kind, svc.namespace) if _concerns(r, svc, names)]
    return sorted(found, key=lambda r: (r.labels.get(KIALI_WIZARD_LABEL) != ROUTE_KINDS[kind][1], r.name))


def _value_fields(raw: Any, at: str, out: list[str]) -> list[ValueMatch]:
    found = []
    for j, entry in enumerate(raw if isinstance(raw, list) else [None]):
        if not isinstance(entry, dict) or set(entry) - {"name", "type", "value"} or \
                not isinstance(entry.get("name"), str) or not isinstance(entry.get("value"), str) or \
                entry.get("type", "Exact") not in VALUE_TYPES:
            out.append(f"{at}[{j}] (the form knows Exact and RegularExpression matches)")
            continue
        found.append(ValueMatch(entry["name"], entry["value"], str(entry.get("type", "Exact"))))
    return found


_FILTER_FIELDS = {"RequestHeaderModifier": "requestHeaderModifier", "ResponseHeaderModifier": "responseHeaderModifier",
                  "RequestRedirect": "requestRedirect", "RequestMirror": "requestMirror"}


def _read_modifier(modifier: dict[str, Any], at: str, out: list[str]) -> list[HeaderChange]:
    found = []
    for op in modifier:
        if op not in HEADER_OPS:
            out.append(f"{at}.{op}")
    for op in HEADER_OPS:
        entries = modifier.get(op) or []
        for entry in entries if isinstance(entries, list) else [None]:
            if op == "remove" and isinstance(entry, str):
                found.append(HeaderChange(op, entry))
            elif op != "remove" and isinstance(entry, dict) and isinstance(entry.get("name"), str) and \
                    isinstance(entry.get("value"), str) and not set(entry) - {"name", "value"}:
                found.append(HeaderChange(op, entry["name"], entry["value"]))
            else:
                out.append(f"{at}.{op}")
    return found


def _read_filter(f: Any, at: str, rule: RouteRule, seen: set[str], namespace: str, grpc: bool,
                 out: list[str]) -> None:
    """Read one of a rule's filters into ``rule`` (the kinds Kiali's wizard writes: header modifiers, a
    redirect, a mirror), or say in ``out`` what the form cannot show of it."""
    kind = f.get("type") if isinstance(f, dict) else None
    key = _FILTER_FIELDS.get(kind) if isinstance(kind, str) else None
    known = "the form knows header modifiers, a mirror" + ("" if grpc else ", a redirect")
    if key is None or not isinstance(kind, str) or (grpc and kind == "RequestRedirect") or \
            not isinstance(f, dict) or not isinstance(f.get(key), dict):
        out.append(f"{at} ({kind or 'a filter'}: {known})")
        return
    body: dict[str, Any] = f[key]
    out += [f"{at}.{k}" for k in f if k not in ("type", key)]
    if kind in seen:  # (the CRD refuses a modifier or a redirect twice; a second mirror the form has no room for)
        out.append(f"{at} (a second {kind}: the form holds one)")
        return
    seen.add(kind)
    if kind == "RequestHeaderModifier":
        rule.header_changes = _read_modifier(body, f"{at}.{key}", out)
    elif kind == "ResponseHeaderModifier":
        rule.response_header_changes = _read_modifier(body, f"{at}.{key}", out)
    elif kind == "RequestRedirect":
        out += [f"{at}.{key}.{k}" for k in body if k not in ("scheme", "hostname", "port", "statusCode")]
        scheme, host, port, code = (body.get("scheme", ""), body.get("hostname", ""), body.get("port", 0),
                                    body.get("statusCode", 302))
        if scheme not in ("", *REDIRECT_SCHEMES) or not isinstance(host, str) or not isinstance(port, int) or \
                code not in REDIRECT_CODES:
            out.append(f"{at}.{key} (the form knows schemes {', '.join(REDIRECT_SCHEMES)} and statuses "
                       f"{', '.join(map(str, REDIRECT_CODES))})")
            return
        rule.redirect = Redirect(str(scheme), host, port, int(code))
    else:
        out += [f"{at}.{key}.{k}" for k in body if k != "backendRef"]  # (a percent or fraction mirrored ...)
        ref = body.get("backendRef")
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not isinstance(ref.get("port"), int) or \
                ref.get("kind", "Service") != "Service" or ref.get("group", "") not in ("", "core") or \
                ref.get("namespace", namespace) not in ("", namespace) or set(ref) - {"group", "kind", "name",
                                                                                       "namespace", "port"}:
            out.append(f"{at}.{key}.backendRef (the form knows a Service of the route's namespace, with its port)")
            return
        rule.mirror = Backend(ref["name"], ref["port"], 0)


def http_route_fields(spec: Any, namespace: str = "", kind: str = HTTP_ROUTE) -> tuple[dict[str, Any], list[str]]:
    """What the form shows of an HTTPRoute's (or, by ``kind``, a GRPCRoute's) ``spec`` (parents, hostnames,
    rules) and what it cannot, by path: a parent of another kind or a section name, another filter (a
    URL rewrite, an extension's), a redirect's path, a backend of another kind or namespace, a timeout, a session
    persistence ..."""
    grpc = kind == GRPC_ROUTE
    match_keys = ("headers", "method") if grpc else ("path", "headers", "queryParams", "method")
    out: list[str] = []
    if not isinstance(spec, dict):
        return {}, ["spec (not a mapping)"]
    out += [f"spec.{k}" for k in spec if k not in ("parentRefs", "hostnames", "rules")]
    service_parents: list[tuple[str, int | None]] = []
    gateways: list[tuple[str, str]] = []
    for i, ref in enumerate(spec.get("parentRefs") or []):
        at = f"spec.parentRefs[{i}]"
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            out.append(f"{at} (not a parent)")
            continue
        out += [f"{at}.{k}" for k in ref if k not in ("group", "kind", "name", "namespace", "port")]
        kind, group = ref.get("kind", "Gateway"), ref.get("group", GATEWAY_API_GROUP)
        if kind == "Service" and group in ("", "core"):
            if ref.get("namespace", namespace) not in ("", namespace):
                out.append(f"{at}.namespace (a Service of another namespace)")
            port = ref.get("port")
            service_parents.append((ref["name"], port if isinstance(port, int) else None))
        elif kind == "Gateway" and group == GATEWAY_API_GROUP:
            if "port" in ref:
                out.append(f"{at}.port")
            gateways.append((str(ref.get("namespace") or namespace), ref["name"]))
        else:
            out.append(f"{at}.kind {said(kind)} (the form knows Services and Gateways)")
    hostnames = spec.get("hostnames") or []
    if not isinstance(hostnames, list) or not all(isinstance(h, str) for h in hostnames):
        out.append("spec.hostnames (not names)")
        hostnames = []
    rules: list[RouteRule] = []
    raw_rules = spec.get("rules") or []
    for i, raw in enumerate(raw_rules if isinstance(raw_rules, list) else [None]):
        at = f"spec.rules[{i}]"
        if not isinstance(raw, dict):
            out.append(f"{at} (not a mapping)")
            continue
        out += [f"{at}.{k}" for k in raw if k not in ("matches", "filters", "backendRefs")]
        rule = RouteRule()
        for j, m in enumerate(raw.get("matches") or []):
            mat = f"{at}.matches[{j}]"
            if not isinstance(m, dict):
                out.append(f"{mat} (not a mapping)")
                continue
            out += [f"{mat}.{k}" for k in m if k not in match_keys]
            match = RouteMatch()
            method = m.get("method")
            if grpc and method is not None:
                if not isinstance(method, dict) or set(method) - {"type", "service", "method"} or \
                        method.get("type", "Exact") not in VALUE_TYPES or \
                        not all(isinstance(method.get(k, ""), str) for k in ("service", "method")):
                    out.append(f"{mat}.method (the form knows Exact and RegularExpression matches)")
                else:
                    match.rpc_type = str(method.get("type", "Exact"))
                    match.rpc_service, match.rpc_method = method.get("service", ""), method.get("method", "")
            elif method is not None:
                match.method = str(method)
            path = m.get("path")
            if path is not None:
                if not isinstance(path, dict) or set(path) - {"type", "value"} or \
                        path.get("type", "PathPrefix") not in PATH_TYPES:
                    out.append(f"{mat}.path")
                else:
                    match.path_type = str(path.get("type", "PathPrefix"))
                    match.path = str(path.get("value", "/"))
            match.headers = _value_fields(m.get("headers") or [], f"{mat}.headers", out)
            if not grpc:
                match.query = _value_fields(m.get("queryParams") or [], f"{mat}.queryParams", out)
            rule.matches.append(match)
        seen: set[str] = set()
        for j, f in enumerate(raw.get("filters") or []):
            _read_filter(f, f"{at}.filters[{j}]", rule, seen, namespace, grpc, out)
        for j, b in enumerate(raw.get("backendRefs") or []):
            bat = f"{at}.backendRefs[{j}]"
            if not isinstance(b, dict) or not isinstance(b.get("name"), str) or \
                    b.get("kind", "Service") != "Service" or b.get("group", "") not in ("", "core") or \
                    b.get("namespace", namespace) not in ("", namespace):
                out.append(f"{bat} (the form knows Services of the route's namespace)")
                continue
            out += [f"{bat}.{k}" for k in b if k not in ("group", "kind", "name", "port", "weight")]
            port, weight = b.get("port"), b.get("weight", 1)
            if not isinstance(port, int) or not isinstance(weight, int):
                out.append(f"{bat} (a port and weight that are not numbers)")
                continue
            rule.backends.append(Backend(b["name"], port, weight))
        rules.append(rule)
    return {"mesh": service_parents, "gateways": gateways, "hostnames": list(hostnames), "rules": rules}, out


def http_route_misfit(route: IstioObject, svc: Service) -> str:
    """Why the form cannot edit ``route`` (an HTTPRoute or a GRPCRoute) for ``svc`` without losing something
    ("" when it can)."""
    fields, unknown = http_route_fields(route.spec, route.namespace, route.kind)
    others = [n for n, _port in fields.get("mesh") or [] if n != svc.name]
    if others:
        unknown.append(f"the Service {others[0]} as a parent")
    if not unknown:
        return ""
    shown = ", ".join(unknown[:4]) + (f" and {len(unknown) - 4} more" if len(unknown) > 4 else "")
    return (f"The form cannot show all of {shown_route_kind(route.kind)} {route.namespace}/{route.name}: it has {shown}, which the form "
            "does not know, and saving from the form would drop it. Edit it as YAML instead (Istio config dock, "
            "Edit).")


def http_route_plan(inv: Inventory, route: IstioObject, *, editing: bool = False) -> ChangePlan:
    """Create ``route`` (a name already taken is refused); the notes say what a person should know: the
    Gateways' namespaces, a VirtualService Istio would have to choose between, weights all 0."""
    shown = shown_route_kind(route.kind)
    if not editing:
        try:
            _taken(inv, route.kind, route.namespace, route.name)
        except RoutingError as e:
            raise RoutingError(str(e).replace(route.kind, shown, 1)) from None
    spec = _d(route.spec)
    plan = ChangePlan(f"{shown} {route.namespace}/{route.name} with {len(spec.get('rules') or [])} "
                      f"rule{'s' if len(spec.get('rules') or []) != 1 else ''}")
    known = {(g.namespace, g.name) for g in inv.k8s_gateways}
    for ref in spec.get("parentRefs") or []:
        ref = _d(ref)
        if ref.get("kind", "Gateway") != "Gateway":
            plan.notes.append(f"The mesh's requests to Service {route.namespace}/{ref.get('name')} are routed by it "
                              "(its parent is the Service, as GAMMA has it).")
            continue
        ns = str(ref.get("namespace") or route.namespace)
        if (ns, ref.get("name")) not in known:
            plan.notes.append(f"Warning: the cluster has no Gateway {ns}/{ref.get('name')} (as read): the route "
                              "attaches to nothing until it exists.")
        elif ns != route.namespace:
            plan.notes.append(f"Gateway {ns}/{ref.get('name')} takes routes of {route.namespace} only if its "
                              "listeners' allowedRoutes admit that namespace.")
    for i, rule in enumerate(spec.get("rules") or [], 1):
        refs = _d(rule).get("backendRefs") or []
        if refs and all(_d(b).get("weight", 1) == 0 for b in refs):
            plan.notes.append(f"Warning: every backend of rule {i} has weight 0: its requests are answered 500.")
    if not editing:
        plan.changes.append(Change(CREATE, obj=route))
    return plan


def _same_ref(a: Any, b: Any, defaults: dict[str, Any]) -> bool:
    return isinstance(a, dict) and isinstance(b, dict) and {**defaults, **a} == {**defaults, **b}


def keep_route_spellings(spec: dict[str, Any], before: Any, namespace: str) -> dict[str, Any]:
    """``spec`` (the form's) with the entries ``before`` (the route as read) wrote otherwise but means the
    same by (a Gateway parent with its group and kind spelled out, a backend without its weight of 1, a
    path without its type PathPrefix, a header match without its type Exact, a redirect without its status
    302, a mirror's Service with its group and kind) kept as read, so that an
    edit's diff shows only what the user changed. Kiali's wizard writes some of those: a Gateway's
    namespace beside the route's own, ``filters: []``, ``path: {}``."""
    before = _d(before)
    here = {"namespace": namespace}
    gateway = {"group": GATEWAY_API_GROUP, "kind": "Gateway", **here}
    old_parents = [p for p in before.get("parentRefs") or [] if isinstance(p, dict)]
    for i, parent in enumerate(spec.get("parentRefs") or []):
        same = next((p for p in old_parents if _same_ref(p, parent, gateway if parent.get("kind") != "Service"
                                                             else here)), None)
        if same is not None:
            spec["parentRefs"][i] = copy.deepcopy(same)
    old_rules = [r for r in before.get("rules") or [] if isinstance(r, dict)]
    for rule, old in zip(spec.get("rules") or [], old_rules, strict=False):
        old_backends = [b for b in old.get("backendRefs") or [] if isinstance(b, dict)]
        for i, b in enumerate(rule.get("backendRefs") or []):
            same = next((o for o in old_backends
                         if _same_ref(o, b, {"group": "", "kind": "Service", "weight": 1, **here})), None)
            if same is not None:
                rule["backendRefs"][i] = copy.deepcopy(same)
        if old.get("filters") == [] and "filters" not in rule:
            rule["filters"] = []
        old_filters = {f.get("type"): f for f in old.get("filters") or [] if isinstance(f, dict)}
        for i, f in enumerate(rule.get("filters") or []):
            was = old_filters.get(f.get("type"))
            if was is None:
                continue
            if f["type"] == "RequestRedirect" and _same_ref(was.get("requestRedirect"), f["requestRedirect"],
                                                            {"statusCode": 302}):
                rule["filters"][i] = copy.deepcopy(was)  # (its status left to the default 302, as read)
            elif f["type"] == "RequestMirror" and _same_ref(
                    _d(was.get("requestMirror")).get("backendRef"), f["requestMirror"]["backendRef"],
                    {"group": "", "kind": "Service", **here}):
                rule["filters"][i] = copy.deepcopy(was)
        old_matches = [m for m in old.get("matches") or [] if isinstance(m, dict)]
        for match, was in zip(rule.get("matches") or [], old_matches, strict=False):
            if _same_ref(was.get("path"), match.get("path"), {"type": "PathPrefix", "value": "/"}):
                match["path"] = copy.deepcopy(was["path"])
            method, was_method = match.get("method"), was.get("method")  # a GRPCRoute's method match
            if _same_ref(was_method, method, {"type": "Exact"}):
                match["method"] = copy.deepcopy(was_method)
            elif isinstance(method, dict) and isinstance(was_method, dict) and "type" not in was_method and \
                    method.get("type") == "Exact":  # its type left out as read, when only the names change
                del method["type"]
            for key in ("headers", "queryParams"):
                for i, entry in enumerate(match.get(key) or []):
                    same = next((o for o in was.get(key) or [] if _same_ref(o, entry, {"type": "Exact"})), None)
                    if same is not None:
                        match[key][i] = copy.deepcopy(same)
    return spec
