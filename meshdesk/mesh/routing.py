"""Routing-rule builders: what the user asks for (shift traffic, route by header, inject a fault, set a
timeout, break circuits, add an external service, enforce mTLS) turned into Istio objects, and
existing objects read back into the same intents, so an action reopened on existing config shows its
current values.

One VirtualService and one DestinationRule per service carry everything meshdesk sets for it (as
Kiali's wizards do); both carry ``MANAGED_LABEL`` so meshdesk can list and remove what it created.
Every builder checks its input and raises ``RoutingError`` with a plain message.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2  # Google's RE2: the regular expressions Envoy (so Istio) matches with

from meshdesk.mesh.inventory import (
    GATEWAY_API_KINDS,
    VERSION_LABELS,
    WORKLOAD_LISTS,
    Inventory,
    IstioObject,
    Service,
    ServicePort,
    Workload,
    first_label,
)
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _l
from meshdesk.mesh.words import counted

MANAGED_LABEL = "app.kubernetes.io/managed-by"
MANAGED_VALUE = "meshdesk"
NETWORKING = "networking.istio.io/v1"
SECURITY = "security.istio.io/v1"
CLUSTER_DOMAIN = "svc.cluster.local"
MTLS_MODES = ("UNSET", "DISABLE", "PERMISSIVE", "STRICT")
# the TLS modes a DestinationRule sets for its clients (what they send), as Kiali's wizards offer them
TLS_MODES = ("DISABLE", "ISTIO_MUTUAL", "SIMPLE", "MUTUAL")
# the simple load balancers Kiali's wizards offer (LEAST_CONN, deprecated, is read and kept as written)
LB_SIMPLE = ("ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "PASSTHROUGH")
# what a consistent hash is keyed on: the HTTP ones need HTTP requests
HASH_KINDS = ("header", "cookie", "source_ip", "query")
# how a consistent hash maps keys to endpoints (Istio's ringHash / maglev; neither: Envoy's ring hash with
# its defaults)
HASH_ALGORITHMS = ("ring_hash", "maglev")
# Envoy's limits: a ring of at most 8M entries (its default maximum ring size, which Istio does not
# raise: a larger minimum makes Envoy reject the cluster), a Maglev table of a prime number of entries,
# at most 5000011
MAX_RING_SIZE = 8388608
MAX_MAGLEV_TABLE = 5000011
MAX_DURATION_SECONDS = 315576000000  # a protobuf Duration's largest: 10000 years
# an annotation on a DestinationRule meshdesk created: the ``tls`` and ``loadBalancer`` settings meshdesk
# wrote in it (JSON), so a removal tells them from ones someone set (or changed) by hand, which it keeps
POLICY_WRITTEN = "meshdesk.io/traffic-policy"
# an annotation on a VirtualService meshdesk bound to gateways: the gateways and the hosts besides the
# service's it wrote there (JSON), so a removal tells them from ones someone added by hand, which it keeps
GATEWAYS_WRITTEN = "meshdesk.io/gateways"
# an annotation on a VirtualService meshdesk wrote a mirror in: the mirror's subset and share (JSON), so a
# removal tells it from one someone added by hand, which it keeps
MIRROR_WRITTEN = "meshdesk.io/mirror"
# the reserved gateway name for the mesh's own traffic (the sidecars')
MESH_GATEWAY = "mesh"
# the labels of the ingress gateway a new Gateway is served by (Istio's default install, as Kiali's wizard)
INGRESS_SELECTOR = {"istio": "ingressgateway"}
MATCH_KINDS = ("exact", "prefix", "regex")
PRESENT = "present"  # a header match on the header being there, whatever its value (Istio's ``{}``)
HEADER_MATCH_KINDS = (*MATCH_KINDS, PRESENT)
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_HOST = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class RoutingError(ValueError):
    """The user's input cannot become valid config; the message says why."""


# what a request routing condition is on (a VirtualService's HTTPMatchRequest fields, as Kiali's wizard offers
# them): a header, the URI (its path), the scheme, the method or the authority (the host the client named)
MATCH_FIELDS = ("header", "uri", "scheme", "method", "authority")
_PLAIN_FIELDS = ("uri", "scheme", "method", "authority")  # those a StringMatch of their own holds


@dataclass(frozen=True)
class Condition:
    """One condition of a rule: ``on`` one of MATCH_FIELDS, compared by ``kind`` (MATCH_KINDS, or PRESENT
    for a header) with ``value``; ``header``: the header's name."""

    on: str
    kind: str = "exact"
    value: str = ""
    header: str = ""

    def key(self) -> tuple[str, str, str, str]:
        """What the condition matches, compared as HTTP compares it (a header's name in any case)."""
        return self.on, header_key(self.header) if self.on == "header" else "", self.kind, self.value


@dataclass
class Fault:
    delay_percent: float = 0.0
    delay_seconds: float = 0.0
    abort_percent: float = 0.0
    abort_status: int = 503

    @property
    def active(self) -> bool:
        return self.delay_percent > 0 or self.abort_percent > 0


@dataclass
class RuleOptions:
    """A request routing rule's own fault injection, timeout and retries (Kiali's request routing wizard: a
    rule's Fault Injection and Request Timeouts tabs), written in that rule's route only and in place of the
    service's (those the Fault injection and Timeouts and retries forms set for all of its requests)."""

    fault: Fault = field(default_factory=Fault)
    timeout_seconds: float | None = None
    retry_attempts: int | None = None
    retry_per_try_timeout_seconds: float | None = None
    retry_on: str = ""


@dataclass
class RouteMatch:
    """A request routing rule (Kiali's request routing): requests meeting every one of its conditions go to
    one version, or are shared between versions by ``weights``.

    The first condition is ``header``/``uri``/``on``, ``kind`` and ``value`` (a header when ``uri`` is false
    and ``on`` is empty; ``on``: "scheme", "method" or "authority"); ``more``: the others, all of which must
    hold too (one HTTPMatchRequest). ``weights`` (version -> percent, summing to 100): the rule's requests
    split between versions, ``version`` then unused."""

    version: str
    header: str = ""  # header name; empty for a URI match
    uri: bool = False
    kind: str = "exact"  # exact / prefix / regex
    value: str = ""
    on: str = ""  # scheme / method / authority: the first condition is on that
    more: list[Condition] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    # the rule's own fault, timeout and retries; None: the service's (as every other rule has them)
    own: RuleOptions | None = None
    # a copy of ``mirror_percent`` % of the rule's requests also goes to this version (its answers are
    # dropped), as Kiali's wizard mirrors a rule's requests; "": none
    mirror_version: str = ""
    mirror_percent: float = 100.0

    @property
    def conditions(self) -> list[Condition]:
        on = self.on or ("uri" if self.uri else "header")
        return [Condition(on, self.kind, self.value, self.header if on == "header" else ""), *self.more]

    @property
    def destinations(self) -> dict[str, int]:
        """The versions the rule sends requests to, with their shares."""
        return dict(self.weights) if self.weights else {self.version: 100}

    @classmethod
    def of(cls, conditions: Sequence[Condition], version: str = "",
           weights: Mapping[str, int] | None = None, *, own: RuleOptions | None = None,
           mirror_version: str = "", mirror_percent: float = 100.0) -> RouteMatch:
        """A rule of ``conditions`` (at least one), to ``version`` or shared by ``weights``."""
        first, *more = conditions
        return cls(version, header=first.header if first.on == "header" else "", uri=first.on == "uri",
                   kind=first.kind, value=first.value, on=first.on if first.on in ("scheme", "method", "authority")
                   else "", more=list(more), weights=dict(weights or {}), own=copy.deepcopy(own),
                   mirror_version=mirror_version, mirror_percent=mirror_percent)


@dataclass
class CircuitBreaker:
    max_connections: int | None = None
    http1_max_pending_requests: int | None = None
    max_requests_per_connection: int | None = None
    consecutive_5xx_errors: int | None = None
    interval_seconds: float | None = None
    base_ejection_seconds: float | None = None
    max_ejection_percent: int | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in vars(self).values())


@dataclass
class ClientTls:
    """What the service's clients send (a DestinationRule's ``trafficPolicy.tls``); mode "" leaves it unset.
    The file paths are the sidecar's (MUTUAL: its certificate and key; SIMPLE or MUTUAL: the CA to check
    the server with)."""

    mode: str = ""
    client_certificate: str = ""
    private_key: str = ""
    ca_certificates: str = ""

    @property
    def active(self) -> bool:
        return bool(self.mode)


@dataclass
class LocalityLb:
    """Locality load balancing (a load balancer's ``localityLbSetting``, its fields meshdesk sets): on or
    off (None: as the mesh has it, on by default), and either ``distribute`` rules (from a locality, the
    share each locality gets, adding up to 100) or ``failover`` rules (from a region to the region its
    requests go to when the local endpoints fail). A locality is "region/zone/subzone", each part
    optional from the end and "*" for any as the last part."""

    enabled: bool | None = None
    distribute: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    failover: list[tuple[str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.enabled is not None or bool(self.distribute or self.failover)


@dataclass
class LoadBalancer:
    """How the service's clients pick an endpoint (a DestinationRule's ``trafficPolicy.loadBalancer``):
    a ``simple`` algorithm, or a consistent hash on ``hash_by`` (HASH_KINDS) with ``hash_key`` (the
    header, cookie or query parameter name) and, for a cookie, its time to live; neither leaves it unset."""

    simple: str = ""
    hash_by: str = ""
    hash_key: str = ""
    cookie_ttl_seconds: float | None = None
    cookie_path: str = ""
    # "ring_hash" (with ``ring_size``, its minimum ring size; None: Envoy's default, 1024), "maglev" (with
    # ``table_size``; None: Envoy's default, 65537), "" for neither
    hash_algorithm: str = ""
    ring_size: int | None = None
    table_size: int | None = None
    # the ring size is the deprecated ``consistentHash.minimumRingSize``, not ``ringHash.minimumRingSize``
    # (kept where it was written)
    legacy_ring_size: bool = False
    locality: LocalityLb = field(default_factory=LocalityLb)

    @property
    def active(self) -> bool:
        return bool(self.simple or self.hash_by or self.locality.active)


@dataclass
class NewGateway:
    """An Istio Gateway created with the binding (Kiali's "Create Gateway"): one plain HTTP server on
    ``port`` for ``hosts`` ("*": any), served by the ingress gateway (``INGRESS_SELECTOR``)."""

    name: str
    port: int = 80
    hosts: list[str] = field(default_factory=lambda: ["*"])


@dataclass
class GatewayBinding:
    """The gateways a service's VirtualService routes for (its ``gateways``): Istio Gateways named as the
    VirtualService names them ("name" in its namespace, or "namespace/name"), with ``mesh`` keeping the
    mesh's own traffic on the same routes; ``hosts``: the VirtualService's hosts besides the service's
    (those clients name at the gateway, e.g. shop.example.com). No gateways: the mesh's traffic only."""

    gateways: list[str] = field(default_factory=list)
    mesh: bool = True
    hosts: list[str] = field(default_factory=list)
    new_gateway: NewGateway | None = None  # created in the same change (its name is in ``gateways``)

    @property
    def active(self) -> bool:
        return bool(self.gateways)

    def key(self) -> tuple[Any, ...]:
        """What the VirtualService holds of it, compared in any order."""
        if not self.gateways:
            return ()
        return tuple(sorted(set(self.gateways))), self.mesh, tuple(sorted(set(self.hosts)))


@dataclass
class ServiceRouting:
    """Everything meshdesk sets for one service."""

    weights: dict[str, int] = field(default_factory=dict)  # version -> percent, summing to 100
    matches: list[RouteMatch] = field(default_factory=list)
    fault: Fault = field(default_factory=Fault)
    timeout_seconds: float | None = None
    retry_attempts: int | None = None
    retry_per_try_timeout_seconds: float | None = None
    retry_on: str = ""
    circuit_breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    # None: as the service's DestinationRule has it now (a change to anything else leaves TLS and the
    # load balancer alone, whoever set them); ClientTls() / LoadBalancer(): unset
    tls: ClientTls | None = None
    load_balancer: LoadBalancer | None = None
    # None: as the service's VirtualService has it now; GatewayBinding(): the mesh's traffic only
    gateway: GatewayBinding | None = None
    # traffic shifting's mirror (HTTP only): a copy of ``mirror_percent`` % of the requests the default
    # route takes goes to this version too (its answers are dropped); it gets no weight. "": none
    mirror_version: str = ""
    mirror_percent: float = 100.0


# the retry-on policies Envoy (and so Istio) takes, besides HTTP statuses ("503")
RETRY_ON = ("5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx", "refused-stream",
            "retriable-status-codes", "retriable-headers", "envoy-ratelimited", "reset-before-request", "cancelled",
            "deadline-exceeded", "internal", "resource-exhausted", "unavailable", "http3-post-connect-failure")


INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1


_QUOTE_LIMIT = 60


def said(value: object) -> str:
    """``value`` quoted as a message quotes what a person typed: whole when short, else its start and end
    around an ellipsis (a pasted 2,000-character host must not fill the form with one error)."""
    text = value if isinstance(value, str) else repr(value)
    short = text if len(text) <= _QUOTE_LIMIT else f"{text[:40]}\u2026{text[-15:]}"
    return repr(short) if isinstance(value, str) else short


def non_ascii_host_problem(value: str, what: str) -> str:
    """Why a host name with letters outside ASCII is refused, with its form as DNS carries it (the
    ``xn--`` form of an internationalised name) when it has one; "" for an ASCII one."""
    odd = next((c for c in value if not c.isascii()), None)
    if odd is None:
        return ""
    try:
        encoded = value.encode("idna").decode("ascii")
    except UnicodeError:
        encoded = ""
    # said only when it is a host name (a character IDNA drops, or a '/', gives none)
    if "xn--" not in encoded or not re.fullmatch(r"(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?", encoded):
        encoded = ""
    return (f"{what} {said(value)} holds {odd!r}: a host name is written in ASCII, an internationalised one in "
            f"its xn-- form as DNS carries it" + (f" ({said(encoded)})" if encoded else ""))


ISTIO_HOST_MAX = 255  # Istio's limit on a host name (its DNS-1123 checks); the Gateway API's Hostname is 253


def dns_length_problem(host: str, what: str, *, most: int = ISTIO_HOST_MAX, numeric_tld: bool = False) -> str:
    """Why ``host`` (a name the pattern of its field takes, maybe ``*.``-prefixed or ending in ``.``) is
    still no host name, as Istio checks one ("" when it is one): longer than ``most`` characters, or a label
    (the part between dots) longer than 63, which no pattern of Istio's or the Gateway API's CRDs catches.
    With ``numeric_tld``, also a last label of digits only, which Istio refuses (``example.123``, an IP
    address)."""
    if len(host) > most:
        return f"{what} {said(host)} is {len(host)} characters long: a host name is at most {most}"
    labels = host.split(".")
    if labels and labels[-1] == "" and len(labels) > 1:  # istio.io. (the root's empty label)
        labels.pop()
    long_label = next((label for label in labels if len(label) > 63), None)
    if long_label is not None:
        return (f"{what} {said(host)}: its label {said(long_label)} is {len(long_label)} characters long; a DNS "
                "label (the part between dots) is at most 63")
    if numeric_tld and labels and labels[-1].isascii() and labels[-1].isdigit():
        return (f"{what} {said(host)}: its last label {said(labels[-1])} is all digits, which Istio refuses (a host "
                "is a name, not an IP address)")
    return ""


def is_digits(text: str) -> bool:
    """Whether ``text`` is a whole number written in ASCII digits, as Istio and Envoy read numbers:
    ``str.isdigit`` also takes "８０" (full width) and "²", which ``int`` reads as 80 or refuses, and
    Istio refuses both."""
    return text.isascii() and text.isdigit()


def retry_policies(text: str) -> list[str]:
    """A retry-on list as written ("5xx, connect-failure"): its policies, trimmed (Istio does not trim)."""
    return [p.strip() for p in text.split(",") if p.strip()]


def _seconds(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text or '0'}s"


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|ms|s|m|h)")
_DURATION_SCALE = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _parse_seconds(text: Any) -> float | None:
    """Seconds in a duration as Istio reads it (Go's form: "2s", "1.5s", "1m30s", "250ms"); None when
    it is not one."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text:
        return None
    total, pos = 0.0, 0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _DURATION_SCALE[m.group(2)]
        pos = m.end()
    return total if pos == len(text) else None


def duration_seconds(text: Any) -> float | None:
    """Seconds in a duration as Istio reads it ("1.0s", "1s" and "1000ms" are all 1.0); None when it
    is not one."""
    return _parse_seconds(text)


def re2_problem(pattern: str) -> str:
    """Why RE2, as Envoy compiles a route's regex, refuses ``pattern`` (its own words, e.g. "invalid
    escape sequence: \\Z"); "" when it takes it. Python's ``re`` is another dialect: it refuses
    ``\\p{Lu}`` and ``\\z`` and takes ``\\Z``, ``a*+`` and lookarounds, all the other way round in RE2."""
    options = re2.Options()
    options.log_errors = False  # the reason is returned, not printed on stderr
    try:
        re2.compile(pattern, options)
    except re2.error as e:
        reason = e.args[0] if e.args else "not a regular expression"
        return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
    return ""


def _not_re2(pattern: str) -> str:
    """Perl features in ``pattern`` that RE2 leaves out, in words ("" when none): lookaround,
    backreferences, atomic groups and conditionals (RE2 refuses them with a terser reason)."""
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if not in_class and pattern[i + 1:i + 2] in tuple("123456789"):
                return "a backreference"
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1  # a "]" first in a class is a member
        elif c == "(" and pattern[i + 1:i + 2] == "?":
            rest = pattern[i + 2:i + 4]
            if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
                return "a lookaround"
            if rest[:1] == ">":
                return "an atomic group"
            if rest[:1] == "(":
                return "a conditional"
            if rest == "P=":
                return "a backreference"
        i += 1
    return ""


def _dns_label(text: str) -> bool:
    return len(text) <= 63 and _DNS_LABEL.match(text) is not None


def _host_name(text: str) -> bool:
    return len(text) <= 253 and _HOST.match(text) is not None and all(len(p) <= 63 for p in text.split("."))


def _managed(labels: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**(labels or {}), MANAGED_LABEL: MANAGED_VALUE}


def is_managed(obj: IstioObject) -> bool:
    return obj.labels.get(MANAGED_LABEL) == MANAGED_VALUE


def service_host(svc: Service) -> str:
    return f"{svc.name}.{svc.namespace}.{CLUSTER_DOMAIN}"


def host_names(svc: Service) -> set[str]:
    """The ways a VirtualService or DestinationRule in the service's namespace may name its host."""
    return {svc.name, f"{svc.name}.{svc.namespace}", f"{svc.name}.{svc.namespace}.svc", service_host(svc)}


# the protocols Istio reads off a Service port (lower case): those it routes as HTTP, and the opaque
# ones (TCP streams, TLS passed through), which only a VirtualService's ``tcp`` routes steer
_HTTP_PROTOCOLS = frozenset(("http", "http2", "http_proxy", "grpc", "grpc-web"))
_OPAQUE_PROTOCOLS = frozenset(("tcp", "tls", "https", "mongo", "redis", "mysql"))
_K8S_APP_PROTOCOLS = {"kubernetes.io/h2c": "http2", "kubernetes.io/ws": "http", "kubernetes.io/wss": "https"}


# Service ports where the server speaks first (SMTP, DNS over TCP, MySQL, MongoDB): Istio cannot sniff a
# protocol there (the client sends nothing to sniff), so a port among these that names no protocol is TCP
# (the well-known ports of Istio's protocol selection)
SERVER_FIRST_PORTS = {25: "SMTP", 53: "DNS", 3306: "MySQL", 27017: "MongoDB"}


def _named_protocol(port: ServicePort) -> str:
    """The protocol ``port``'s appProtocol, else its name's prefix, names ("" when none Istio knows)."""
    name = port.app_protocol or port.name
    if name in _K8S_APP_PROTOCOLS:
        return _K8S_APP_PROTOCOLS[name]
    lowered = name.lower()
    if lowered.startswith("grpc-web"):
        return "grpc-web"
    prefix = lowered.split("-", 1)[0]
    return prefix if prefix in _HTTP_PROTOCOLS | _OPAQUE_PROTOCOLS | {"udp"} else ""


def port_protocol(port: ServicePort) -> str:
    """The protocol Istio takes ``port`` to carry, as it reads it: ``udp`` for a UDP port; else from
    its appProtocol when set, or its name's prefix ("tcp-other" -> tcp, "grpc-web-api" -> grpc-web),
    in any case; when neither names a protocol it knows, ``tcp`` on a server-first port (3306...),
    else "" (it then sniffs the traffic, HTTP or not)."""
    if port.protocol.upper() == "UDP":
        return "udp"
    named = _named_protocol(port)
    if not named and port.port in SERVER_FIRST_PORTS:
        return "tcp"
    return named


def server_first(port: ServicePort) -> str:
    """The server-first protocol ("MySQL") for which Istio takes ``port`` as TCP because it names no
    protocol of its own; "" when it names one, is UDP, or is no such port."""
    if port.protocol.upper() == "UDP" or _named_protocol(port):
        return ""
    return SERVER_FIRST_PORTS.get(port.port, "")


def tcp_only(svc: Service) -> bool:
    """Whether every port of ``svc`` that Istio proxies (not UDP) carries opaque TCP (tcp, tls, https,
    mongo, redis, mysql), so HTTP routes never apply to it: its routing is a VirtualService's ``tcp``
    routes. A service with one HTTP port, or one whose protocol is sniffed, keeps HTTP routing."""
    proxied = [p for p in map(port_protocol, svc.ports) if p != "udp"]
    return bool(proxied) and all(p in _OPAQUE_PROTOCOLS for p in proxied)


def http_only_reason(svc: Service, what: str) -> str:
    """Why an HTTP feature (``what``: e.g. "Fault injection") does nothing for a TCP-only service."""
    ports = ", ".join(p.name or str(p.port) for p in svc.ports if port_protocol(p) != "udp")
    return (f"{what} acts on HTTP requests; service {svc.namespace}/{svc.name} carries TCP only "
            f"(ports {ports}), so only its traffic shifting applies.")


def version_labels(svc: Service, workloads: Sequence[Workload]) -> dict[str, str]:
    """For each version behind ``svc``, the pod label a subset selects it by: the one its workloads
    carry with that value ("version" first, then "app.kubernetes.io/version", then Istio's canonical
    revision), as Kiali's wizards choose it. A subset on a label the pods do not carry selects
    nothing and every request to the service fails."""
    preferred = ("version", "app.kubernetes.io/version", "service.istio.io/canonical-revision")
    by_version: dict[str, list[Workload]] = {}
    for w in workloads:
        if w.namespace == svc.namespace and svc.selects(w.labels) and w.version:
            by_version.setdefault(w.version, []).append(w)
    out: dict[str, str] = {}
    for version, ws in by_version.items():
        carried = [name for name in preferred if all(w.labels.get(name) == version for w in ws)]
        if not carried:
            carried = [name for name in preferred if ws[0].labels.get(name) == version]
        out[version] = carried[0] if carried else "version"
    return out


def subset_name(version: str) -> str:
    """The name meshdesk gives the subset of ``version``: the version itself when Istio takes it as a
    subset name (a DNS-1123 label: lower-case letters, digits and '-', a letter or digit at each end; a
    digit may start it), else made one, each run of other characters a '-' ("1.0.0" -> "1-0-0",
    "V2_beta" -> "v2-beta"). The subset's labels still select the version as the pods carry it."""
    if _dns_label(version):
        return version
    name = re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")[:63].rstrip("-")
    return name or "version"


def subset_names(versions: Iterable[str], dr: IstioObject | None = None) -> dict[str, str]:
    """version -> the subset meshdesk routes it to. A subset ``dr`` has for the version under the name
    meshdesk gives it, or under the version itself (as bookinfo's v1, or one written before meshdesk
    made names valid), keeps its name; otherwise ``subset_name``, with "-2", "-3"... when two versions
    would share a name ("1.0" and "1-0")."""
    existing = _subset_versions(dr)
    out: dict[str, str] = {}
    for v in sorted(set(versions)):
        reused = [n for n in existing if existing[n] == v and is_meshdesk_subset_name(n, v)]
        reused.sort(key=lambda n: (n != subset_name(v), n != v, len(n), n))
        if reused:
            out[v] = reused[0]
    # versions that are valid names take them first, so a dotted one makes way ("1-0" before "1.0")
    for v in sorted(set(versions) - set(out), key=lambda v: (subset_name(v) != v, v)):
        name, n = subset_name(v), 2
        while name in out.values():
            name, n = f"{subset_name(v)[:59].rstrip('-')}-{n}", n + 1
        out[v] = name
    return out


def is_meshdesk_subset_name(name: str, version: str) -> bool:
    """Whether ``name`` is one meshdesk gives (or gave) the subset of ``version``."""
    base = subset_name(version)
    return name in (version, base) or re.fullmatch(re.escape(base[:59].rstrip("-")) + r"-[0-9]+", name) is not None


def versions_of(svc: Service, workloads: Sequence[Workload]) -> list[str]:
    """The versions behind a service (the ``version`` label of the workloads it selects)."""
    return sorted({w.version for w in workloads if w.namespace == svc.namespace and svc.selects(w.labels) and w.version})


def _pct(name: str, value: float) -> float:
    if not 0 <= value <= 100:
        raise RoutingError(f"{name} must be between 0 and 100, not {value:g}")
    return value


# what an HTTP header name may hold (RFC 9110's token; HTTP/2 and HTTP/3 carry the same names)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# the request's pseudo-headers Envoy matches on, and Istio's JWT-claim routing on a gateway
_PSEUDO = (":authority", ":method", ":path", ":scheme")
_CLAIM = re.compile(r"@request\.auth\.claims(\.[^.\s]+|\[[^\]\s]+\])+")


def header_key(name: str) -> str:
    """A header name as written in a match: lower case (as Envoy keeps headers), but a JWT claim's
    name as it is (claims are case-sensitive)."""
    name = name.strip()
    return name if name.startswith("@") else name.lower()


def same_match(a: RouteMatch, b: RouteMatch) -> bool:
    """Whether ``a`` and ``b`` match the same requests (whatever version they send them to): the same
    conditions, in any order, a header's name compared as HTTP compares header names (a JWT claim's name as
    it is written)."""
    return {c.key() for c in a.conditions} == {c.key() for c in b.conditions}


def _implies(narrow: Condition, wide: Condition) -> bool:
    """Whether every request meeting ``narrow`` meets ``wide`` too (both of one field, or of one header): the
    same condition; a header's being there, of any condition on it (Envoy's header matchers need the header);
    a prefix, of an exact value or a longer prefix starting with it; a regular expression (Envoy's are
    matched whole), of an exact value it matches. Not otherwise (a regex of a regex, say): it may be so."""
    if narrow.key()[:2] != wide.key()[:2]:
        return False
    if narrow.key() == wide.key() or (wide.kind == PRESENT and wide.on == "header"):
        return True
    if narrow.kind == PRESENT:
        return False
    if wide.kind == "prefix" and narrow.kind in ("exact", "prefix"):
        return narrow.value.startswith(wide.value)
    if wide.kind == "regex" and narrow.kind == "exact" and not re2_problem(wide.value):
        try:
            return re.fullmatch(wide.value, narrow.value, re.ASCII) is not None  # (RE2's \w and \d are ASCII)
        except re.error:
            return False
    return False


def shadows(earlier: RouteMatch, later: RouteMatch) -> bool:
    """Whether every request ``later`` matches is taken by ``earlier`` first (so ``later`` never applies):
    each of ``earlier``'s conditions holds of every request meeting ``later``'s, as the same condition, or
    one ``later`` has that is narrower (``earlier`` on the URI prefix /api, ``later`` on the prefix /api/v2)."""
    return all(any(_implies(c, e) for c in later.conditions) for e in earlier.conditions)


def header_name_problem(name: str) -> str | None:
    """Why no request can carry a header of this name (so a match on it never applies), or None.

    Istio accepts any non-empty name, so an object that has one is read and kept as written; this
    is asked of a name the user types for a new rule."""
    if not name:
        return "a header match needs a header name"
    if _TOKEN.fullmatch(name) or name.lower() in _PSEUDO or _CLAIM.fullmatch(name):
        return None
    bad = next((c for c in name if not _TOKEN.fullmatch(c)), name[0])
    what = "a space" if bad == " " else "a tab" if bad == "\t" else repr(bad)
    return (f"no request can carry a header named {name!r}: a header name cannot hold {what} (only ASCII "
            "letters, digits and !#$%&'*+-.^_`|~), so the rule would never match")


_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


def match_value_problem(match: RouteMatch | Condition) -> str | None:
    """Why no request can match a rule's (or one condition's) value (so the rule never applies), or None: a
    URI that does not start with '/' or holds a space or control character (a request's path always starts
    with '/' and carries a space as %20), a header value with spaces at its start or end (HTTP drops them)
    or a control character other than a tab (HTTP refuses it), a scheme other than a URI scheme in lower
    case (http, https: Envoy sets it so), a method that is not an HTTP token, an authority with a space, a
    control character or a letter outside ASCII (a client sends a host name in ASCII). A regular expression
    is the user's own. Like ``header_name_problem``, asked of a rule the user adds, not of one read."""
    if isinstance(match, RouteMatch):
        return next((p for c in match.conditions if (p := match_value_problem(c))), None)
    value = match.value
    if match.kind == "regex" or not value:
        return None
    if match.on == "scheme":
        if not _SCHEME.fullmatch(value) and not (match.kind == "prefix" and _SCHEME.fullmatch(value + "a")):
            return (f"no request's scheme is {value!r}: Envoy gives a request's scheme in lower case, letters, "
                    "digits and + - . only (http, https), so the rule would never match")
        return None
    if match.on == "method":
        if not _TOKEN.fullmatch(value):
            return (f"no request's method is {value!r}: a method is a word of ASCII letters (GET, POST), without "
                    "spaces, so the rule would never match")
        return None
    if match.on == "authority":
        odd = next((c for c in value if c.isspace() or unicodedata.category(c) == "Cc" or not c.isascii()), None)
        if odd is not None:
            what = "a space" if odd == " " else f"the character {char_name(odd) if not odd.isprintable() else repr(odd)}"
            return (f"no request's authority (the host it names) holds {what}, as {value!r} does: a client sends the "
                    "host name in ASCII letters, digits, '-', '.' and a ':port', so the rule would never match")
        return None
    if match.on == "uri":
        odd = next((c for c in value if c.isspace() or unicodedata.category(c) == "Cc"), None)
        if odd is not None:
            what = "a space" if odd == " " else f"the control character {char_name(odd)}" \
                if unicodedata.category(odd) == "Cc" else f"the space character {char_name(odd)}"
            return (f"no request's path holds {what}, as {value!r} does (a client sends it as "
                    f"{''.join(f'%{b:02X}' for b in odd.encode())}), so the rule would never match")
        if not value.startswith("/"):
            return (f"no request's path {'starts with' if match.kind == 'prefix' else 'is'} {value!r}: a path "
                    f"starts with '/' (write /{value.lstrip('/')}), so the rule would never match")
        if not value.isascii():
            odd = next(c for c in value if not c.isascii())
            return (f"no request's path holds {odd!r}, as {value!r} does (a client sends it percent-encoded, "
                    f"as {''.join(f'%{b:02X}' for b in odd.encode())}), so the rule would never match")
        if "#" in value:
            return (f"no request's path holds a fragment (the part after '#'), as {value!r} does: a client keeps it "
                    f"to itself, so the rule would never match (write {value.partition('#')[0]!r})")
        if match.kind == "exact" and "?" in value:
            # Envoy matches an exact path once the query string is removed (a prefix sees the whole :path)
            path = value.partition("?")[0]
            return (f"an exact URI is compared with the request's path without its query string, so {value!r} would "
                    f"never match: write the path alone ({path!r}), or match the URI by prefix")
        return None
    if value != value.strip():
        return (f"HTTP drops the spaces at the start and end of a header's value, so {value!r} would never "
                "match: leave them out")
    odd = next((c for c in value if unicodedata.category(c) == "Cc" and c != "\t"), None)
    if odd is not None:  # a field value is visible characters, spaces and tabs (RFC 9110 5.5)
        return (f"no request carries a header value holding the control character {char_name(odd)}, as {value!r} "
                "does (HTTP refuses it), so the rule would never match")
    return None


def char_name(c: str) -> str:
    """A control or space character as a person can read it: its name where it has a common one, else its code point (U+001B)."""
    names = {"\n": "line feed (\\n)", "\r": "carriage return (\\r)", "\t": "tab (\\t)", "\x00": "NUL"}
    return names.get(c, f"U+{ord(c):04X}")


def check_routing(routing: ServiceRouting, versions: Sequence[str],
                  weights_as_read: Mapping[str, int] | None = None) -> None:
    """Raise ``RoutingError`` with the reason when Istio would refuse ``routing`` or it cannot work.
    ``weights_as_read``: the weights the service's VirtualService has now. Istio shares requests in
    proportion to the weights (weight / their sum), so weights kept as written there (60 and 30, or 2 and
    1) stand; those the user sets add up to 100."""
    if routing.weights:
        unknown = sorted(set(routing.weights) - set(versions))
        if unknown:
            raise RoutingError(f"no workload runs version {', '.join(unknown)} of this service")
        as_read = weights_as_read is not None and _weighted(routing.weights) == _weighted(weights_as_read)
        for v, w in routing.weights.items():
            if not isinstance(w, int) or isinstance(w, bool) or w < 0 or (w > 100 and not as_read):
                raise RoutingError(f"weight of {v} must be a whole number from 0 to 100")
        total = sum(routing.weights.values())
        if total != 100 and not (as_read and total > 0):
            raise RoutingError(f"weights must add up to 100, not {total}")
    for m in routing.matches:
        _check_rule(m, versions)
    if routing.mirror_version:
        _check_mirror(routing.mirror_version, routing.mirror_percent, versions,
                      bool(routing.weights.get(routing.mirror_version)), rule=False)
    _check_options(RuleOptions(routing.fault, routing.timeout_seconds, routing.retry_attempts,
                               routing.retry_per_try_timeout_seconds, routing.retry_on))
    cb = routing.circuit_breaker
    for name, value in vars(cb).items():
        if value is not None and value < 0:
            raise RoutingError(f"{name.replace('_', ' ')} cannot be negative")
        # Istio's API keeps the connection-pool limits as 32-bit numbers (int32) and the 5xx count as an
        # unsigned one: a larger value is a DestinationRule istiod cannot read (2^32-1, Envoy's "no
        # limit", is the default of a limit left unset, not a value to write)
        most = UINT32_MAX if name == "consecutive_5xx_errors" else INT32_MAX
        if value is not None and not name.endswith("_seconds") and value > most:
            raise RoutingError(f"the circuit breaker's {name.replace('_', ' ').replace('http1 ', 'HTTP/1 ')} can be "
                               f"at most {most}: Istio keeps it as a 32-bit number and cannot read a DestinationRule "
                               "with more (leave it unset in Circuit breaking for no limit)")
    if cb.max_ejection_percent is not None:
        _pct("max ejection percent", cb.max_ejection_percent)
    tls = routing.tls or ClientTls()
    if tls.mode and tls.mode not in TLS_MODES:
        raise RoutingError(f"TLS mode must be one of {', '.join(TLS_MODES)}, not {tls.mode!r}")


def _check_options(o: RuleOptions, where: str = "") -> None:
    """Raise ``RoutingError`` when Istio would refuse the fault, timeout or retries ``o`` (a service's, or a
    rule's own: ``where`` then says which, "rule 2: ")."""
    f = o.fault
    try:
        _pct("delay percentage", f.delay_percent)
        _pct("abort percentage", f.abort_percent)
        if f.delay_percent > 0 and f.delay_seconds <= 0:
            raise RoutingError("a delay needs a duration above 0 seconds")
        if f.abort_percent > 0 and not 200 <= f.abort_status <= 599:
            raise RoutingError(f"abort status must be an HTTP status from 200 to 599, not {f.abort_status}")
        for name, value in (("timeout", o.timeout_seconds), ("per-try timeout", o.retry_per_try_timeout_seconds)):
            # 0 is what a hand-written "0s" reads as (Istio: no timeout), kept as it is written
            if value is not None and value < 0:
                raise RoutingError(f"{name} must be above 0 seconds")
        if o.retry_attempts is not None and o.retry_attempts < 0:
            raise RoutingError("retry attempts cannot be negative")
        if o.retry_attempts == 0 and (o.retry_per_try_timeout_seconds or o.retry_on.strip()):
            # Istio refuses a retry policy whose attempts are 0 (retries off)
            raise RoutingError("with 0 retry attempts (no retries) there is no per-try timeout or retry-on to set")
        if problem := retry_on_problem(o.retry_on):
            raise RoutingError(problem)
        if o.retry_attempts is not None and o.retry_attempts > INT32_MAX:
            raise RoutingError(f"retry attempts can be at most {INT32_MAX} (Istio keeps them as a 32-bit number)")
    except RoutingError as e:
        raise RoutingError(f"{where}{e}") from None


def retry_on_problem(text: str) -> str:
    """Why Envoy would not know the retry-on policies ``text`` ("5xx,connect-failure"); "" when it does."""
    unknown = [p for p in retry_policies(text) if p not in RETRY_ON and not re.fullmatch(r"[1-5][0-9][0-9]", p)]
    if unknown:
        return (f"retry-on {', '.join(repr(p) for p in unknown)} is not one Envoy knows "
                f"(e.g. {', '.join(RETRY_ON[:4])}, or an HTTP status such as 503)")
    return ""


def duration_problem(text: str, what: str) -> str:
    """Why Istio would refuse ``text`` as the duration ``what`` (a delay, a timeout: at least 1ms, in whole
    milliseconds, Go's form: "5s", "1.5s", "500ms", "1m30s"); "" when it takes it."""
    seconds = duration_seconds(text)
    if seconds is None:
        return f"{what}: {said(text.strip()) if text.strip() else 'nothing'} is not a duration; write it as 5s, 1.5s, 500ms or 1m30s"
    if seconds < 0.001:
        return f"{what} must be at least 1ms"
    if abs(seconds * 1000 - round(seconds * 1000)) > 1e-6:
        return f"{what} is in whole milliseconds in Istio (not {text.strip()})"
    if seconds > MAX_DURATION_SECONDS:
        return f"{what} can be at most {MAX_DURATION_SECONDS // (365 * 86400)} years"
    return ""


def percent_problem(text: str, what: str) -> str:
    """Why Istio would refuse ``text`` as the share ``what`` ("50", "0.5", "100"): a number from 0 to 100
    (and none between 0 and 0.0001, which Istio refuses); "" when it takes it."""
    try:
        value = float(text.strip().rstrip("%").strip())
    except ValueError:
        return f"{what} is a number from 0 to 100, not {said(text.strip()) if text.strip() else 'nothing'}"
    if not math.isfinite(value) or not 0 <= value <= 100:
        return f"{what} must be between 0 and 100 %, not {text.strip()}"
    if 0 < value < 0.0001:
        return f"{what} is 0 or at least 0.0001 % (Istio refuses {text.strip()})"
    return ""


_FIELD_WORDS = {"header": "a header", "uri": "the URI", "scheme": "the scheme", "method": "the method",
                "authority": "the authority"}


def _check_mirror(version: str, percent: float, versions: Iterable[str], routed: bool, *, rule: bool) -> None:
    """A mirror (the service's, or with ``rule`` a rule's own) to a version that runs, that gets no share of the
    requests it copies, of a share above 0 and at most 100%."""
    if version not in versions:
        raise RoutingError(f"no workload runs version {version} of this service to mirror to")
    if routed:
        raise RoutingError(f"version {version} is the rule's mirror: it gets a copy of the rule's requests, not a "
                           "share of them (route them to another version, or mirror another)" if rule else
                           f"version {version} is the mirror: it gets a copy of the requests, not a share of them "
                           "(set its weight to 0, or mirror another version)")
    whose = "the rule's " if rule else ""
    if not 0 < percent <= 100:
        raise RoutingError(f"the share of {whose}requests mirrored must be above 0 and at most 100%, not {percent:g}")


def _check_rule(m: RouteMatch, versions: Sequence[str]) -> None:
    """Raise ``RoutingError`` when Istio would refuse request routing rule ``m`` or it cannot work."""
    for v in m.destinations:
        if v not in versions:
            raise RoutingError(f"no workload runs version {v} of this service")
    if m.weights:
        for v, w in m.weights.items():
            if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 100:
                raise RoutingError(f"weight of {v} must be a whole number from 0 to 100")
        total = sum(m.weights.values())
        if total != 100:
            raise RoutingError(f"a rule's weights must add up to 100, not {total}")
    if m.own is not None:
        _check_options(m.own, "the rule's own settings: ")
    if m.mirror_version:
        _check_mirror(m.mirror_version, m.mirror_percent, versions, bool(m.destinations.get(m.mirror_version)),
                      rule=True)
    seen: set[tuple[str, str]] = set()
    for c in m.conditions:
        if c.on not in MATCH_FIELDS:
            raise RoutingError(f"a condition is on one of {', '.join(MATCH_FIELDS)}, not {c.on!r}")
        if c.on != "header" and c.kind == PRESENT:
            if c.on == "uri":
                raise RoutingError("every request has a URI: a URI match is exact, prefix or regex (present is for "
                                   "a header)")
            raise RoutingError(f"every request has {'an' if c.on == 'authority' else 'a'} {c.on}: a match on "
                               f"{_FIELD_WORDS[c.on]} is exact, prefix or regex (present is for a header)")
        if c.kind not in HEADER_MATCH_KINDS:
            raise RoutingError(f"match kind must be one of {', '.join(HEADER_MATCH_KINDS)}")
        if c.on == "header" and not c.header.strip():
            raise RoutingError("a header match needs a header name")
        if c.kind == PRESENT and c.value:
            raise RoutingError("a match on a header being present takes no value")
        if not c.value and c.kind != PRESENT:
            raise RoutingError("a match needs a value")
        if c.kind == "regex" and (problem := re2_problem(c.value)):
            unsupported = _not_re2(c.value)
            if unsupported:
                raise RoutingError(f"the regular expression {c.value!r} uses {unsupported}, which Envoy's "
                                   "regular expressions (RE2) do not have")
            raise RoutingError(f"the regular expression {c.value!r} is invalid in Envoy's dialect (RE2): {problem}")
        # one HTTPMatchRequest holds one StringMatch per field and per header name
        slot = (c.on, header_key(c.header) if c.on == "header" else "")
        if slot in seen:
            what = f"header {header_key(c.header)}" if c.on == "header" else _FIELD_WORDS[c.on]
            raise RoutingError(f"a rule holds one condition on {what}: Istio keeps one per rule (to match either "
                               "of two values, add a rule for each, or use a regex)")
        seen.add(slot)


def condition_words(c: Condition) -> str:
    """A condition as the request routing form lists it: "header end-user exact 'jason'", "URI prefix '/api'",
    "method exact 'POST'", "header x-canary present"."""
    if c.on == "header":
        return f"header {c.header} present" if c.kind == PRESENT else f"header {c.header} {c.kind} {c.value!r}"
    return f"{'URI' if c.on == 'uri' else c.on} {c.kind} {c.value!r}"


def match_block(m: RouteMatch) -> dict[str, Any]:
    """The HTTPMatchRequest of a rule: its conditions, all of which must hold."""
    block: dict[str, Any] = {}
    for c in m.conditions:
        cond = {} if c.kind == PRESENT else {c.kind: c.value}
        if c.on == "header":
            # the name as the rule has it: a new rule's is in lower case already (the form writes it so); one
            # read from the VirtualService stays as written (Envoy matches header names in any case)
            block.setdefault("headers", {})[c.header.strip()] = cond
        else:
            block[c.on] = cond
    return block


def _weighted(weights: Mapping[str, Any]) -> dict[str, Any]:
    """The versions given requests (a weight of 0 is none)."""
    return {v: w for v, w in weights.items() if w != 0}


def build_service_routing(svc: Service, routing: ServiceRouting, workloads: Sequence[Workload], *,
                          always_vs: bool = False, dr: IstioObject | None = None,
                          weights_as_read: Mapping[str, int] | None = None
                          ) -> tuple[IstioObject | None, IstioObject | None]:
    """(VirtualService, DestinationRule) for ``svc``; either is None when nothing needs it (the
    VirtualService is there, routing to the whole service, when ``always_vs`` says so). ``dr``: the
    service's DestinationRule now, whose subsets for its versions keep their names (``subset_names``);
    ``weights_as_read``: its VirtualService's weights now (see ``check_routing``)."""
    versions = versions_of(svc, workloads)
    check_routing(routing, versions, weights_as_read)
    tcp = tcp_only(svc)
    if tcp:
        http_only = [what for what, asked in (("Request routing", routing.matches), ("Fault injection", routing.fault.active),
                                              ("Mirroring", routing.mirror_version),
                                              ("A timeout", routing.timeout_seconds is not None),
                                              ("Retries", routing.retry_attempts is not None)) if asked]
        if http_only:
            raise RoutingError(http_only_reason(svc, http_only[0]))
    host = service_host(svc)
    used = set(routing.weights) | {v for m in routing.matches for v in m.destinations} | \
        {m.mirror_version for m in routing.matches if m.mirror_version} | \
        ({routing.mirror_version} if routing.mirror_version else set())
    name_of = subset_names([*versions, *used], dr)
    dr_spec: dict[str, Any] = {"host": host}
    if used:
        label_of = version_labels(svc, workloads)
        dr_spec["subsets"] = [{"name": name_of[v], "labels": {label_of.get(v, "version"): v}} for v in sorted(used)]
    policy = _traffic_policy(routing.circuit_breaker)
    written = {key: block for key, block in (("tls", tls_spec(routing.tls or ClientTls())),
                                             ("loadBalancer", load_balancer_spec(routing.load_balancer or LoadBalancer())))
               if block}
    policy.update(written)
    if policy:
        dr_spec["trafficPolicy"] = policy
    dr = IstioObject("DestinationRule", svc.name, svc.namespace, NETWORKING, dr_spec, _managed(),
                     {POLICY_WRITTEN: json.dumps(written, sort_keys=True)} if written else {}) \
        if len(dr_spec) > 1 else None

    http: list[dict[str, Any]] = []
    for m in routing.matches:
        if m.weights:
            route = [{"destination": {"host": host, "subset": name_of[v]}, "weight": w}
                     for v, w in sorted(m.weights.items()) if w > 0]
        else:
            route = [{"destination": {"host": host, "subset": name_of[m.version]}}]
        rule: dict[str, Any] = {"match": [match_block(m)], "route": route}
        if m.mirror_version:
            # the rule's own mirror, as Kiali's wizard writes one in the rule's route
            rule["mirror"] = {"host": host, "subset": name_of[m.mirror_version]}
            rule["mirrorPercentage"] = {"value": float(m.mirror_percent)}
        http.append(rule)
    if routing.weights:
        default = [{"destination": {"host": host, "subset": name_of[v]}, "weight": w}
                   for v, w in sorted(routing.weights.items()) if w > 0]
    else:
        default = [{"destination": {"host": host}}]
    http.append({"route": default})
    mirror_record = ""
    if routing.mirror_version:
        # on the default route, as Kiali's traffic shifting writes it (requests a match took are not copied)
        http[-1]["mirror"] = {"host": host, "subset": name_of[routing.mirror_version]}
        http[-1]["mirrorPercentage"] = {"value": float(routing.mirror_percent)}
        mirror_record = mirror_written(http[-1])
    extras = options_spec(service_options(routing))
    for i, rule in enumerate(http):
        own = routing.matches[i].own if i < len(routing.matches) else None
        # a copy each: rules sharing one dict were written as a YAML anchor and aliases ("fault: *id001")
        rule.update(copy.deepcopy(extras if own is None else options_spec(own)))
    binding = routing.gateway or GatewayBinding()
    needs_vs = bool(routing.weights or routing.matches or extras or binding.active or routing.mirror_version) \
        or always_vs
    # a TCP-only service is routed by tcp routes (the same weighted default route: no match, no extras)
    vs = IstioObject("VirtualService", svc.name, svc.namespace, NETWORKING,
                     {"hosts": [host], "tcp" if tcp else "http": http}, _managed()) if needs_vs else None
    if vs is not None and mirror_record:
        vs.annotations[MIRROR_WRITTEN] = mirror_record
    if vs is not None and binding.active:
        vs.spec = {"hosts": [host, *(h for h in binding.hosts if h not in host_names(svc))],
                   "gateways": gateways_spec(binding),
                   **{k: v for k, v in vs.spec.items() if k != "hosts"}}
        vs.annotations[GATEWAYS_WRITTEN] = json.dumps({"gateways": gateways_spec(binding),
                                                       "hosts": sorted(set(binding.hosts) - host_names(svc))}, sort_keys=True)
    return vs, dr


def service_options(routing: ServiceRouting) -> RuleOptions:
    """The fault, timeout and retries ``routing`` sets for all of the service's requests."""
    return RuleOptions(routing.fault, routing.timeout_seconds, routing.retry_attempts,
                       routing.retry_per_try_timeout_seconds, routing.retry_on)


def options_spec(o: RuleOptions) -> dict[str, Any]:
    """The ``fault``, ``timeout`` and ``retries`` of an HTTP route for ``o``, as Kiali's wizards write them."""
    out: dict[str, Any] = {}
    f = o.fault
    if f.active:
        fault: dict[str, Any] = {}
        if f.delay_percent > 0:
            fault["delay"] = {"percentage": {"value": float(f.delay_percent)}, "fixedDelay": _seconds(f.delay_seconds)}
        if f.abort_percent > 0:
            fault["abort"] = {"percentage": {"value": float(f.abort_percent)}, "httpStatus": int(f.abort_status)}
        out["fault"] = fault
    if o.timeout_seconds is not None:
        out["timeout"] = _seconds(o.timeout_seconds)
    if o.retry_attempts is not None:
        retries: dict[str, Any] = {"attempts": int(o.retry_attempts)}
        if o.retry_per_try_timeout_seconds is not None:
            retries["perTryTimeout"] = _seconds(o.retry_per_try_timeout_seconds)
        if retry_policies(o.retry_on):
            retries["retryOn"] = ",".join(retry_policies(o.retry_on))
        out["retries"] = retries
    return out


def rule_option_words(m: RouteMatch) -> list[str]:
    """What a request routing rule does besides routing, in words, as a VirtualService's summary says it:
    its own delay, abort, timeout, retries and mirror ("delay 5s for 100% of requests", "mirror to v3 (50%)")."""
    rule: dict[str, Any] = options_spec(m.own) if m.own is not None else {}
    if m.mirror_version:
        rule["mirror"] = {"subset": m.mirror_version}
        rule["mirrorPercentage"] = {"value": float(m.mirror_percent)}
    return _rule_notes(rule, set())


# -- gateways ----------------------------------------------------------------------------------------

def gateways_spec(binding: GatewayBinding) -> list[str]:
    """A VirtualService's ``gateways`` for ``binding`` (empty: the mesh's traffic only)."""
    if not binding.gateways:
        return []
    named = list(dict.fromkeys(g for g in binding.gateways if g != MESH_GATEWAY))
    return [*named, *([MESH_GATEWAY] if binding.mesh else [])]


def cluster_gateways(inv: Inventory) -> list[IstioObject]:
    """The Istio Gateways read: the selected namespaces', and those of the others (where the ingress
    gateways usually live, istio-system), each once."""
    out: dict[tuple[str, str], IstioObject] = {}
    for g in [*inv.istio_objects("Gateway"), *inv.outside_gateway_configs]:
        if g.kind == "Gateway":
            out.setdefault((g.namespace, g.name), g)
    return list(out.values())


def gateway_ref(ref: str, namespace: str) -> tuple[str, str]:
    """(namespace, name) of the gateway a VirtualService in ``namespace`` names ``ref`` ("name" or
    "namespace/name")."""
    ns, sep, name = ref.partition("/")
    return (ns, name) if sep else (namespace, ref)


def gateway_ref_text(gw: IstioObject, namespace: str) -> str:
    """How a VirtualService in ``namespace`` names the Gateway ``gw``."""
    return gw.name if gw.namespace == namespace else f"{gw.namespace}/{gw.name}"


def gateway_hosts(gw: IstioObject) -> list[str]:
    """The hosts a Gateway's servers take, as written ("*", "shop.example.com", "ns/*.example.com")."""
    out: list[str] = []
    for server in _l(_d(gw.spec).get("servers")):
        out += [h for h in _l(_d(server).get("hosts")) if isinstance(h, str) and h not in out]
    return out


def _full_host(host: str, namespace: str) -> str:
    """A VirtualService host as Istio reads it: a name without a dot is a service of its namespace."""
    host = host.strip().lower()
    return host if "." in host or host == "*" else f"{host}.{namespace}.{CLUSTER_DOMAIN}"


def _dns_match(pattern: str, host: str) -> bool:
    """Whether a Gateway host (``pattern``, "*" or "*.example.com" or a name) and a VirtualService host
    (maybe a wildcard too) have a name in common."""
    if pattern == "*" or host == "*":
        return True
    if pattern.startswith("*.") and host.startswith("*."):
        return pattern.endswith(host[1:]) or host.endswith(pattern[1:])
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if host.startswith("*."):
        return pattern.endswith(host[1:])
    return pattern == host


def gateway_accepts(gw_hosts: Sequence[str], gw_namespace: str, vs_host: str, vs_namespace: str) -> bool:
    """Whether one of a Gateway's hosts (with its "namespace/" part: "./" its own namespace, "*/" any)
    takes a VirtualService host, so the gateway routes requests for it by that VirtualService."""
    host = _full_host(vs_host, vs_namespace)
    for gw_host in gw_hosts:
        ns, sep, dns = gw_host.strip().lower().rpartition("/")
        if sep and ns not in ("*", vs_namespace) and not (ns == "." and gw_namespace == vs_namespace):
            continue
        if _dns_match(dns, host):
            return True
    return False


def _host_problem(host: str, what: str) -> str:
    if host == "*" or _host_name(host) or (host.startswith("*.") and _host_name(host)):
        return ""
    if "/" in host:
        return (f"{what} {host!r} is not a host name: write host names such as shop.example.com, *.example.com "
                "or * (meshdesk does not write the namespace/host form)")
    if _HOST.match(host) and (problem := dns_length_problem(host, what, most=253)):
        return problem  # the label too long named
    return f"{what} {host!r} is not a host name (labels of at most 63 letters, digits and '-', e.g. shop.example.com)"


def gateway_binding_problem(binding: GatewayBinding, svc: Service, gateways: Sequence[IstioObject],
                            vs_hosts: Sequence[str] = (), bound: Sequence[str] = ()) -> str:
    """Why Istio would not route as ``binding`` asks ("" when it would): a Gateway it names that the
    cluster does not have (``gateways``: its Istio Gateways; a new one is made with the binding), a host
    that is none, the host * on the mesh's routes (Istio refuses it there), a new Gateway's port or hosts,
    or a Gateway that takes none of the VirtualService's hosts (``vs_hosts``: the service's host as the
    VirtualService names it, the service's full name when empty), so it would never route by it. A
    Gateway the VirtualService is bound to already (``bound``) and the cluster lacks is not this change's
    (Istio ignores it; the form keeps it as written)."""
    if not binding.gateways:
        return ""
    for host in binding.hosts:
        problem = _host_problem(host, "the VirtualService host")
        if problem:
            return problem
        if host == "*" and binding.mesh:
            return ("the host * cannot route the mesh's own traffic (Istio refuses a VirtualService bound to the "
                    "mesh with it): name the hosts clients use at the gateway, or untick the mesh's traffic")
    new = binding.new_gateway
    if new is not None:
        if tcp_only(svc):
            return (f"a new Gateway takes HTTP, and service {svc.namespace}/{svc.name} carries TCP only: pick a "
                    "Gateway with a TCP server the cluster has")
        if not _dns_label(new.name):
            return f"{new.name!r} is not a valid Gateway name (at most 63 lower-case letters, digits and '-')"
        if isinstance(new.port, bool) or not isinstance(new.port, int) or not 1 <= new.port <= 65535:
            return f"the Gateway's port must be a number from 1 to 65535, not {new.port}"
        if not new.hosts:
            return "a new Gateway needs at least one host (* takes any)"
        from meshdesk.mesh.gateway_config import gateway_host_problem  # (it builds on this module)

        for host in new.hosts:
            # and as Istio judges a Gateway's host: no short name, no label of more than 63 characters
            problem = _host_problem(host, "the Gateway host") or gateway_host_problem(host).replace(
                "host", "the Gateway host", 1)
            if problem:
                return problem
        if any(g.namespace == svc.namespace and g.name == new.name for g in gateways):
            return f"a Gateway named {new.name} already exists in {svc.namespace}: pick it, or another name"
    hosts = [*(vs_hosts or [service_host(svc)]), *binding.hosts]
    for ref in gateways_spec(binding):
        if ref == MESH_GATEWAY:
            continue
        ns, name = gateway_ref(ref, svc.namespace)
        if new is not None and (ns, name) == (svc.namespace, new.name):
            gw_hosts, where = list(new.hosts), ns
        else:
            gw = next((g for g in gateways if (g.namespace, g.name) == (ns, name)), None)
            if gw is None and ref in bound:
                continue
            if gw is None:
                return (f"Gateway {ns}/{name} does not exist (any more): pick one the cluster has, or create one "
                        "with the routes")
            gw_hosts, where = gateway_hosts(gw), gw.namespace
        if not any(gateway_accepts(gw_hosts, where, h, svc.namespace) for h in hosts):
            return (f"Gateway {ns}/{name} takes the hosts {', '.join(gw_hosts) or '(none)'} only, and none of the "
                    f"VirtualService's hosts ({', '.join(hosts)}): it would never route by it. Add a host it takes "
                    "to the VirtualService's hosts")
    return ""


def build_gateway(namespace: str, new: NewGateway) -> IstioObject:
    """The Istio Gateway for ``new``: one plain HTTP server, served by the ingress gateway."""
    spec = {"selector": dict(INGRESS_SELECTOR),
            "servers": [{"port": {"number": new.port, "name": "http", "protocol": "HTTP"}, "hosts": list(new.hosts)}]}
    return IstioObject("Gateway", new.name, namespace, NETWORKING, spec, _managed())


def new_gateway_name(svc: Service, gateways: Sequence[IstioObject]) -> str:
    """A name for a new Gateway of ``svc`` no Gateway of its namespace has: "<service>-gateway", then
    "-2", "-3"..., the service's name cut so that it is a DNS label still (a service of 63 characters gave
    a "-2" of 65, which the form then refused)."""
    taken = {g.name for g in gateways if g.namespace == svc.namespace}

    def named(n: int) -> str:
        suffix = "-gateway" + (f"-{n}" if n > 1 else "")
        return f"{svc.name[:63 - len(suffix)].rstrip('-')}{suffix}"

    name, n = named(1), 2
    while name in taken:
        name, n = named(n), n + 1
    return name


def _read_binding(vs: IstioObject, svc_hosts: set[str]) -> GatewayBinding | None:
    gateways = [g for g in _l(_d(vs.spec).get("gateways")) if isinstance(g, str)]
    if not gateways:
        return None
    return GatewayBinding([g for g in gateways if g != MESH_GATEWAY], MESH_GATEWAY in gateways,
                          [h for h in _l(_d(vs.spec).get("hosts")) if isinstance(h, str) and h not in svc_hosts])


def load_balancer_problem(lb: LoadBalancer, svc: Service | None = None) -> str:
    """Why the form's load balancing is not what Istio takes ("" when it is)."""
    if lb.hash_by and lb.hash_by not in HASH_KINDS:
        return f"a consistent hash is keyed on one of {', '.join(HASH_KINDS)}, not {lb.hash_by!r}"
    if lb.hash_by in ("header", "cookie", "query"):
        if svc is not None and tcp_only(svc):
            return http_only_reason(svc, f"A consistent hash on a {'query parameter' if lb.hash_by == 'query' else lb.hash_by}")
        what = {"header": "header", "cookie": "cookie", "query": "query parameter"}[lb.hash_by]
        if not lb.hash_key.strip():
            return f"a consistent hash on a {what} needs the {what}'s name"
        if lb.hash_by == "header" and header_name_problem(lb.hash_key.strip()):
            return (f"no request can carry a header named {lb.hash_key.strip()!r} (a header name holds only ASCII "
                    "letters, digits and !#$%&'*+-.^_`|~), so every request would hash alike")
    if lb.hash_by == "cookie":
        if lb.cookie_ttl_seconds is None:
            return ("a consistent hash on a cookie needs the cookie's time to live, a duration such as 10s or 1h "
                    "(Istio refuses a cookie without one; 0s makes a session cookie)")
        if lb.cookie_ttl_seconds < 0 or not math.isfinite(lb.cookie_ttl_seconds):
            return "the cookie's time to live cannot be negative"
        if lb.cookie_ttl_seconds > MAX_DURATION_SECONDS:
            return "the cookie's time to live can be at most 10000 years (the longest duration Istio reads)"
        path = lb.cookie_path.strip()
        if path and (not path.startswith("/") or any(c in path for c in ";,") or any(c.isspace() or ord(c) < 32
                                                                                   or ord(c) == 127 for c in path)):
            return (f"the cookie's path {path!r} is not one a browser keeps: it starts with / and holds no spaces, "
                    "commas or semicolons (e.g. /shop)")
    if (problem := locality_problem(lb.locality)):
        return problem
    if lb.hash_algorithm and lb.hash_algorithm not in HASH_ALGORITHMS:
        return f"a consistent hash uses ring hash or Maglev, not {lb.hash_algorithm!r}"
    if lb.hash_algorithm == "ring_hash" and lb.ring_size is not None and not 1 <= lb.ring_size <= MAX_RING_SIZE:
        return (f"the minimum ring size must be between 1 and {MAX_RING_SIZE} (Envoy's largest ring), "
                f"not {lb.ring_size}")
    if lb.hash_algorithm == "maglev" and lb.table_size is not None:
        if not 2 <= lb.table_size <= MAX_MAGLEV_TABLE:
            return f"the Maglev table size must be between 2 and {MAX_MAGLEV_TABLE}, not {lb.table_size}"
        if not _prime(lb.table_size):
            return (f"the Maglev table size must be a prime number (Envoy refuses others), and {lb.table_size} is "
                    f"not: e.g. {_next_prime(lb.table_size)}")
    return ""


def _locality_problem(locality: str, what: str) -> str:
    parts = locality.split("/")
    if not locality or len(parts) > 3 or any(not p or p != p.strip() or " " in p for p in parts):
        return (f"{what} {locality!r} is not a locality: write region, region/zone or region/zone/subzone "
                "(e.g. us-east1/us-east1-b/*)")
    if any("*" in p for p in parts[:-1]) or ("*" in parts[-1] and parts[-1] != "*"):
        return f"{what} {locality!r}: * stands for a whole part, and only the last (e.g. us-east1/*)"
    return ""


def locality_problem(loc: LocalityLb) -> str:
    """Why Istio would refuse (or ignore) the locality settings ("" when it takes them), in its rules:
    distribute or failover, not both; each distribute rule's shares add up to 100; failover is between
    two different regions, named without a zone or a wildcard."""
    if loc.distribute and loc.failover:
        return "locality load balancing takes distribute rules or failover rules, not both"
    if loc.enabled is False and (loc.distribute or loc.failover):
        return ("locality load balancing is off: its distribute or failover rules would do nothing (turn it on, "
                "or remove them)")
    for origin, shares in loc.distribute:
        problem = _locality_problem(origin, "the distribute rule's origin")
        if problem:
            return problem
        if not shares:
            return f"the distribute rule from {origin} says no locality to send its requests to"
        for to, weight in shares.items():
            problem = _locality_problem(to, f"in the distribute rule from {origin}, the locality")
            if problem:
                return problem
            if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
                return f"in the distribute rule from {origin}, the share of {to} must be a whole number from 0 to 100"
        total = sum(shares.values())
        if total != 100:
            return f"the shares of the distribute rule from {origin} add up to {total}, not 100"
    for origin, to in loc.failover:
        for region in (origin, to):
            if not region or "/" in region or region == "*" or " " in region:
                return (f"failover goes from a region to a region: {region!r} is not one (no zone, no *; e.g. "
                        "us-east1 -> us-west1)")
        if origin == to:
            return f"a failover from {origin} to itself does nothing: name another region"
    return ""


def _locality_spec(loc: LocalityLb) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if loc.enabled is not None:
        out["enabled"] = loc.enabled
    # a part read empty (not written) stays unwritten, so a rule written by hand reads back as it was
    if loc.distribute:
        out["distribute"] = [{**({"from": origin} if origin else {}), **({"to": dict(shares)} if shares else {})}
                             for origin, shares in loc.distribute]
    if loc.failover:
        out["failover"] = [{**({"from": origin} if origin else {}), **({"to": to} if to else {})}
                           for origin, to in loc.failover]
    return out


def _read_locality(lb: Mapping[str, Any]) -> LocalityLb:
    setting = _d(lb.get("localityLbSetting"))
    enabled = setting.get("enabled")
    out = LocalityLb(enabled if isinstance(enabled, bool) else None)
    for rule in _l(setting.get("distribute")):
        rule = _d(rule)
        out.distribute.append((str(rule.get("from") or ""),
                               {str(k): int(_number(v)) for k, v in _d(rule.get("to")).items()}))
    for rule in _l(setting.get("failover")):
        rule = _d(rule)
        out.failover.append((str(rule.get("from") or ""), str(rule.get("to") or "")))
    return out


def _prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, math.isqrt(n) + 1))


def _next_prime(n: int) -> int:
    n = max(n, 2)
    while not _prime(n):
        n += 1
    return n


def _hash_algorithm_spec(lb: LoadBalancer) -> dict[str, Any]:
    if lb.hash_algorithm == "ring_hash":
        if lb.legacy_ring_size and lb.ring_size is not None:
            return {"minimumRingSize": lb.ring_size}
        return {"ringHash": {} if lb.ring_size is None else {"minimumRingSize": lb.ring_size}}
    if lb.hash_algorithm == "maglev":
        return {"maglev": {} if lb.table_size is None else {"tableSize": lb.table_size}}
    return {}


def load_balancer_spec(lb: LoadBalancer) -> dict[str, Any]:
    """The ``loadBalancer`` block of a DestinationRule's traffic policy for ``lb`` (empty: none)."""
    locality = _locality_spec(lb.locality)
    return {**_algorithm_spec(lb), **({"localityLbSetting": locality} if locality else {})}


def _algorithm_spec(lb: LoadBalancer) -> dict[str, Any]:
    if lb.hash_by:
        key = lb.hash_key.strip()
        hashed: dict[str, Any]
        if lb.hash_by == "header":
            hashed = {"httpHeaderName": key}
        elif lb.hash_by == "query":
            hashed = {"httpQueryParameterName": key}
        elif lb.hash_by == "source_ip":
            hashed = {"useSourceIp": True}
        else:
            cookie: dict[str, Any] = {"name": key}
            if lb.cookie_path.strip():
                cookie["path"] = lb.cookie_path.strip()
            if lb.cookie_ttl_seconds is not None:
                cookie["ttl"] = _seconds(lb.cookie_ttl_seconds)
            hashed = {"httpCookie": cookie}
        return {"consistentHash": {**hashed, **_hash_algorithm_spec(lb)}}
    return {"simple": lb.simple} if lb.simple else {}


def _count(value: Any) -> int | None:
    """A whole number as written in a hand-written field (2048, "2048"); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _read_load_balancer(traffic_policy: Any) -> LoadBalancer:
    lb = _d(_d(traffic_policy).get("loadBalancer"))
    simple = lb.get("simple")
    out = LoadBalancer(simple=simple if isinstance(simple, str) and simple != "UNSPECIFIED" else "")
    ch = _d(lb.get("consistentHash"))
    if isinstance(ch.get("httpHeaderName"), str):
        out.hash_by, out.hash_key = "header", ch["httpHeaderName"]
    elif isinstance(ch.get("httpQueryParameterName"), str):
        out.hash_by, out.hash_key = "query", ch["httpQueryParameterName"]
    elif _d(ch.get("httpCookie")):
        cookie = _d(ch["httpCookie"])
        out.hash_by, out.hash_key = "cookie", str(cookie.get("name") or "")
        out.cookie_ttl_seconds = _parse_seconds(cookie.get("ttl")) if cookie.get("ttl") is not None else None
        out.cookie_path = cookie["path"] if isinstance(cookie.get("path"), str) else ""
    elif ch.get("useSourceIp") is True:
        out.hash_by = "source_ip"
    out.locality = _read_locality(lb)
    if out.hash_by:
        if isinstance(ch.get("ringHash"), dict):
            out.hash_algorithm, out.ring_size = "ring_hash", _count(ch["ringHash"].get("minimumRingSize")) or None
        elif isinstance(ch.get("maglev"), dict):
            out.hash_algorithm, out.table_size = "maglev", _count(ch["maglev"].get("tableSize")) or None
        elif _count(ch.get("minimumRingSize")):
            out.hash_algorithm, out.ring_size, out.legacy_ring_size = "ring_hash", _count(ch["minimumRingSize"]), True
    return out


def tls_problem(tls: ClientTls) -> str:
    """Why the form's TLS settings are not what Istio needs ("" when they are): MUTUAL sends a client
    certificate (with its key), the files go with SIMPLE or MUTUAL only. (Not in ``check_routing``: a
    rule written by hand, e.g. MUTUAL with a ``credentialName``, stays as it is when another form writes.)"""
    cert, key, ca = (v.strip() for v in (tls.client_certificate, tls.private_key, tls.ca_certificates))
    if tls.mode not in ("SIMPLE", "MUTUAL") and (cert or key or ca):
        return f"certificate files are for TLS mode SIMPLE or MUTUAL only, not {tls.mode or 'an unset mode'}"
    if tls.mode == "SIMPLE" and (cert or key):
        return "TLS mode SIMPLE sends no client certificate: choose MUTUAL to send one"
    if tls.mode == "MUTUAL" and not (cert and key):
        return "TLS mode MUTUAL needs the client certificate and its private key (paths in the sidecar)"
    return ""


def tls_spec(tls: ClientTls) -> dict[str, Any]:
    """The ``tls`` block of a DestinationRule's traffic policy for ``tls`` (empty: none)."""
    if not tls.mode:
        return {}
    out: dict[str, Any] = {"mode": tls.mode}
    for key, value in (("clientCertificate", tls.client_certificate), ("privateKey", tls.private_key),
                       ("caCertificates", tls.ca_certificates)):
        if value.strip():
            out[key] = value.strip()
    return out


def _read_tls(traffic_policy: Any) -> ClientTls:
    tls = _d(_d(traffic_policy).get("tls"))

    def text(key: str) -> str:
        value = tls.get(key)
        return value if isinstance(value, str) else ""
    return ClientTls(text("mode"), text("clientCertificate"), text("privateKey"), text("caCertificates"))


def _traffic_policy(cb: CircuitBreaker) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    pool: dict[str, Any] = {}
    if cb.max_connections is not None:
        pool["tcp"] = {"maxConnections": cb.max_connections}
    http: dict[str, Any] = {}
    if cb.http1_max_pending_requests is not None:
        http["http1MaxPendingRequests"] = cb.http1_max_pending_requests
    if cb.max_requests_per_connection is not None:
        http["maxRequestsPerConnection"] = cb.max_requests_per_connection
    if http:
        pool["http"] = http
    if pool:
        policy["connectionPool"] = pool
    outlier: dict[str, Any] = {}
    if cb.consecutive_5xx_errors is not None:
        outlier["consecutive5xxErrors"] = cb.consecutive_5xx_errors
    if cb.interval_seconds is not None:
        outlier["interval"] = _seconds(cb.interval_seconds)
    if cb.base_ejection_seconds is not None:
        outlier["baseEjectionTime"] = _seconds(cb.base_ejection_seconds)
    if cb.max_ejection_percent is not None:
        outlier["maxEjectionPercent"] = cb.max_ejection_percent
    if outlier:
        policy["outlierDetection"] = outlier
    return policy


def _number(value: Any, default: float = 0.0) -> float:
    """A number from a hand-written field ("50", 50, 50.0); ``default`` for anything else."""
    if isinstance(value, bool):
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def _subset_versions(dr: IstioObject | None) -> dict[str, str]:
    """A DestinationRule's subsets by name -> the version each selects (its name when it says none)."""
    out: dict[str, str] = {}
    for s in _l(_d(dr.spec).get("subsets") if dr is not None else None):
        name, version = _d(s).get("name"), first_label(_d(_d(s).get("labels")), VERSION_LABELS)
        if isinstance(name, str):
            out[name] = str(version or name)
    return out


def read_service_routing(vs: IstioObject | None, dr: IstioObject | None, *, tcp: bool = False) -> ServiceRouting:
    """Read existing objects back into an intent (whoever wrote them); unknown shapes are ignored.
    ``tcp``: the service carries TCP only (``tcp_only``), so its routes are the ``tcp`` ones."""
    r = ServiceRouting()
    subset_version = _subset_versions(dr)
    if dr is not None:
        r.circuit_breaker = _read_circuit_breaker(_d(dr.spec).get("trafficPolicy"))
        # none set reads as None, "as it is" (an intent without them then compares equal)
        tls, lb = _read_tls(_d(dr.spec).get("trafficPolicy")), _read_load_balancer(_d(dr.spec).get("trafficPolicy"))
        r.tls = tls if tls != ClientTls() else None
        r.load_balancer = lb if lb != LoadBalancer() else None
    if vs is None:
        return r
    rules = [_d(rule) for rule in _l(_d(vs.spec).get("tcp" if tcp else "http"))]
    # the service's fault, timeout and retries are its default route's (a rule without a match, which takes
    # what no rule before it took); a matched rule with others has its own (as Kiali's request routing
    # writes a rule's), one with the same the service's
    default = next((rule for rule in rules if not _l(rule.get("match"))), None)
    service = _read_options(default) if default is not None else RuleOptions()
    r.fault, r.timeout_seconds, r.retry_attempts = service.fault, service.timeout_seconds, service.retry_attempts
    r.retry_per_try_timeout_seconds, r.retry_on = service.retry_per_try_timeout_seconds, service.retry_on
    for rule in rules:
        routes = [_d(x) for x in _l(rule.get("route"))]
        matches = _l(rule.get("match"))
        if matches and routes:
            subsets = [str(_d(x.get("destination")).get("subset") or "") for x in routes]
            if not all(isinstance(_d(x.get("destination")).get("subset"), str) and s for x, s in zip(routes, subsets,
                                                                                                    strict=True)):
                continue  # a matched rule to the whole service is no version route (see ``unmodelled``)
            version = ""
            weights: dict[str, int] = {}
            if len(routes) == 1:
                version = subset_version.get(subsets[0], subsets[0])
            else:  # shared between versions (as Kiali's wizard writes a rule routing 80/20)
                for s, x in zip(subsets, routes, strict=True):
                    v = subset_version.get(s, s)
                    weights[v] = weights.get(v, 0) + int(_number(x.get("weight")))
                if sum(weights.values()) != 100:
                    continue  # weights Kiali's wizard would not write: left as they are (see ``unmodelled``)
            read = _read_options(rule)
            own = None if read == service else read
            mirror = _d(rule.get("mirror"))
            mirror_version, mirror_percent = "", 100.0
            if isinstance(mirror.get("subset"), str) and mirror["subset"]:
                mirror_version = subset_version.get(mirror["subset"], mirror["subset"])
                percentage = rule.get("mirrorPercentage")
                mirror_percent = _number(_d(percentage).get("value"), 100.0) if percentage is not None else 100.0
            for m in matches:
                conditions = _conditions(_d(m))
                if conditions:
                    r.matches.append(RouteMatch.of(conditions, version, weights, own=own,
                                                   mirror_version=mirror_version, mirror_percent=mirror_percent))
        elif not matches:
            weighted = [(_d(x.get("destination")).get("subset"), x.get("weight")) for x in routes]
            if any(s for s, _ in weighted):
                if len(weighted) == 1 and weighted[0][1] is None:
                    weighted = [(weighted[0][0], 100)]
                r.weights = {subset_version.get(str(s), str(s)): int(_number(w)) for s, w in weighted if s}
            mirror = _d(rule.get("mirror"))
            if isinstance(mirror.get("subset"), str) and mirror["subset"]:
                r.mirror_version = subset_version.get(mirror["subset"], mirror["subset"])
                percentage = rule.get("mirrorPercentage")
                r.mirror_percent = _number(_d(percentage).get("value"), 100.0) if percentage is not None else 100.0
    return r


def _read_options(rule: Mapping[str, Any]) -> RuleOptions:
    """An HTTP rule's fault, timeout and retries."""
    o = RuleOptions()
    if _d(rule.get("fault")):
        o.fault = _read_fault(rule)
    if rule.get("timeout"):
        o.timeout_seconds = _parse_seconds(rule.get("timeout"))
    if _d(rule.get("retries")):
        o.retry_attempts, o.retry_per_try_timeout_seconds, o.retry_on = _read_retries(rule)
    return o


def _conditions(block: Mapping[str, Any]) -> list[Condition]:
    """An HTTPMatchRequest's conditions meshdesk models (headers, URI, scheme, method, authority), in its order."""
    out: list[Condition] = []
    for on, cond in block.items():
        if on == "headers":
            for header, c in _d(cond).items():
                if isinstance(c, dict) and c:
                    kind, value = next(iter(c.items()))
                    out.append(Condition("header", str(kind), str(value), str(header)))
                elif c == {}:  # the header being there, as Kiali's "presents" writes it
                    out.append(Condition("header", PRESENT, "", str(header)))
        elif on in _PLAIN_FIELDS and isinstance(cond, dict) and cond:
            kind, value = next(iter(cond.items()))
            out.append(Condition(on, str(kind), str(value)))
    return out


def _read_circuit_breaker(traffic_policy: Any) -> CircuitBreaker:
    """A DestinationRule's (or one subset's) ``trafficPolicy`` as the circuit-breaking intent."""
    policy = _d(traffic_policy)
    pool, outlier = _d(policy.get("connectionPool")), _d(policy.get("outlierDetection"))
    return CircuitBreaker(
        max_connections=_d(pool.get("tcp")).get("maxConnections"),
        http1_max_pending_requests=_d(pool.get("http")).get("http1MaxPendingRequests"),
        max_requests_per_connection=_d(pool.get("http")).get("maxRequestsPerConnection"),
        consecutive_5xx_errors=outlier.get("consecutive5xxErrors"),
        interval_seconds=_parse_seconds(outlier.get("interval")),
        base_ejection_seconds=_parse_seconds(outlier.get("baseEjectionTime")),
        max_ejection_percent=outlier.get("maxEjectionPercent"),
    )


def _read_fault(rule: Mapping[str, Any]) -> Fault:
    """An HTTP rule's fault injection (no fault: an inactive one)."""
    fault = _d(rule.get("fault"))
    delay, abort = _d(fault.get("delay")), _d(fault.get("abort"))
    return Fault(
        # the integer ``percent`` is deprecated, and Istio still applies it when ``percentage`` is not set
        delay_percent=_number(_d(delay.get("percentage")).get("value")) if delay.get("percentage") is not None
        else _number(delay.get("percent")),
        delay_seconds=_parse_seconds(delay.get("fixedDelay")) or 0.0,
        abort_percent=_number(_d(abort.get("percentage")).get("value")) if abort else 0.0,
        abort_status=int(_number(abort.get("httpStatus"), 503)) if abort else 503,
    )


def _read_retries(rule: Mapping[str, Any]) -> tuple[Any, float | None, str]:
    """An HTTP rule's retries: attempts (as written), per-try timeout in seconds, retry-on."""
    retries = _d(rule.get("retries"))
    return retries.get("attempts"), _parse_seconds(retries.get("perTryTimeout")), str(retries.get("retryOn") or "")


# -- routing in words (the service panel's summary) -----------------------------------------------

_LONG = 60  # a value longer than this (a regex, a header) is cut in a summary


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _LONG else text[:_LONG - 1] + "\u2026"


def _percent_text(value: float) -> str:
    return f"{value:g}%"


def _duration_text(value: Any) -> str:
    """A duration as written ("500ms", "2s"), or marked when Istio would not read it as one."""
    return _short(value).strip() if _parse_seconds(value) is not None else f"{_short(value)} (not a duration)"


def _string_match(cond: Any) -> str:
    """An Istio StringMatch in words: "= jason", "starts with /api", "~ ^v[0-9]"."""
    cond = _d(cond)
    words = {"exact": "=", "prefix": "starts with", "regex": "~"}
    for kind, word in words.items():
        if kind in cond:
            return f"{word} {_short(cond[kind])}"
    return "matches anything" if not cond else _short(cond)


def _match_text(match: Any) -> str:
    """One match block of a rule: its conditions, all of which must hold."""
    m = _d(match)
    parts: list[str] = []
    for key, value in m.items():
        if key in ("uri", "scheme", "method", "authority"):
            parts.append(f"{'URI' if key == 'uri' else key} {_string_match(value)}")
        elif key in ("headers", "queryParams", "withoutHeaders"):
            what = {"headers": "header", "queryParams": "query", "withoutHeaders": "no header"}[key]
            parts += [f"{what} {_short(name)} {'present' if cond == {} and key == 'headers' else _string_match(cond)}"
                      for name, cond in _d(value).items()]
        elif key == "sourceLabels":
            parts.append("from " + ", ".join(f"{_short(k)}={_short(v)}" for k, v in _d(value).items()))
        elif key == "sourceNamespace":
            parts.append(f"from namespace {_short(value)}")
        elif key == "sniHosts":
            parts.append("SNI " + ", ".join(_short(h) for h in _l(value)))
        elif key == "destinationSubnets":
            parts.append("to " + ", ".join(_short(h) for h in _l(value)))
        elif key not in ("name", "ignoreUriCase"):
            parts.append(f"{key} {_short(value)}")
    return " and ".join(parts) or "any request"


def _destination_text(dest: Any, own_hosts: set[str]) -> str:
    """A route's destination: its subset (the host too when it is another service's), and port."""
    dest = _d(dest)
    host, subset = dest.get("host"), dest.get("subset")
    port = _d(dest.get("port")).get("number")
    other = isinstance(host, str) and host.split(".")[0] not in own_hosts
    text = " ".join(_short(x) for x in ((host if other or not subset else None), subset) if x) or "?"
    return text + (f":{_short(port)}" if port is not None else "")


def _routes_text(routes: list[Any], own_hosts: set[str]) -> str:
    weighted = [_d(r) for r in routes]
    if not weighted:
        return "no destination"
    texts = [_destination_text(r.get("destination"), own_hosts) for r in weighted]
    if len(weighted) == 1 and weighted[0].get("weight") in (None, 100):
        return texts[0]
    return ", ".join(f"{t} {_percent_text(_number(r.get('weight')))}" for t, r in zip(texts, weighted, strict=True))


def _fault_texts(rule: Mapping[str, Any]) -> list[str]:
    fault = _d(rule.get("fault"))
    if not fault:
        return []
    read, out = _read_fault(rule), []
    delay, abort = _d(fault.get("delay")), _d(fault.get("abort"))
    if delay:
        wait = _duration_text(delay.get("fixedDelay") or delay.get("exponentialDelay") or "?")
        if delay.get("percentage") is None and delay.get("percent") is None:
            out.append(f"delay {wait} for no request (no percentage set)")  # as an abort's, Istio's default
        else:
            out.append(f"delay {wait} for {_percent_text(read.delay_percent)} of requests")
    if abort:
        code = f"gRPC status {_short(abort['grpcStatus'])}" if "grpcStatus" in abort else \
            _short(abort.get("http2Error")) if "http2Error" in abort else \
            str(read.abort_status) if "httpStatus" in abort else "?"
        if abort.get("percentage") is None:
            # Istio's default: "If not specified, no request will be aborted" (Kiali's wizard reads it as 100%)
            out.append(f"abort with {code} for no request (no percentage set)")
        else:
            out.append(f"abort with {code} for {_percent_text(read.abort_percent)} of requests")
    return out or ["a fault meshdesk cannot read"]


def _mirror_texts(rule: Mapping[str, Any], own_hosts: set[str]) -> list[str]:
    mirrors = [(rule.get("mirror"), rule.get("mirrorPercentage"), rule.get("mirrorPercent"))] if rule.get("mirror") \
        else []
    mirrors += [(_d(m).get("destination"), _d(m).get("percentage"), None) for m in _l(rule.get("mirrors"))]
    out = []
    for dest, percentage, legacy in mirrors:
        share = _number(_d(percentage).get("value"), 100.0) if percentage is not None else _number(legacy, 100.0)
        out.append(f"mirror to {_destination_text(dest, own_hosts)} ({_percent_text(share)})")
    return out


def _rule_notes(rule: Mapping[str, Any], own_hosts: set[str]) -> list[str]:
    """What a rule does besides choosing destinations: timeout, retries, faults, mirroring, rewrites."""
    notes: list[str] = []
    if rule.get("timeout") is not None:
        notes.append(f"timeout {_duration_text(rule['timeout'])}")
    if "retries" in rule:
        attempts, _per_try, retry_on = _read_retries(rule)
        per_try = _d(rule.get("retries")).get("perTryTimeout")
        n = int(_number(attempts, -1))
        text = "no retries" if n == 0 else f"{n} retries" if n > 0 else "retries"
        if n != 0:
            if per_try is not None:
                text += f", {_duration_text(per_try)} per try"
            if retry_on:
                text += f", on {_short(retry_on)}"
        notes.append(text)
    notes += _fault_texts(rule)
    notes += _mirror_texts(rule, own_hosts)
    rewrite, redirect = _d(rule.get("rewrite")), _d(rule.get("redirect"))
    if rewrite:
        notes.append("rewrite " + ", ".join(f"{k} to {_short(v)}" for k, v in rewrite.items()))
    if redirect:
        notes.append("redirect " + ", ".join(f"{k} to {_short(v)}" for k, v in redirect.items()))
    if rule.get("directResponse") is not None:
        notes.append(f"direct response {_short(_d(rule.get('directResponse')).get('status', '?'))}")
    if rule.get("delegate") is not None:
        delegate = _d(rule.get("delegate"))
        notes.append(f"delegated to {_short(delegate.get('namespace') or '')}/{_short(delegate.get('name') or '?')}")
    return notes


@dataclass(frozen=True)
class RouteText:
    """One rule of a VirtualService in words: which requests (``when``), where they go (``to``), and what
    else the rule does (``notes``: timeout, retries, faults, mirroring)."""

    protocol: str  # http, tls or tcp
    when: str
    to: str
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "; ".join((f"{self.when} \u2192 {self.to}", *self.notes))


def route_texts(vs: IstioObject) -> list[RouteText]:
    """A VirtualService's rules in words, in the order Istio tries them. A rule without a match takes
    what no rule before it took ("any other request"); odd fields are shown as written, never fatal."""
    spec = _d(vs.spec)
    own = {h.split(".")[0] for h in _l(spec.get("hosts")) if isinstance(h, str)}
    out: list[RouteText] = []
    for protocol in ("http", "tls", "tcp"):
        rules = _l(spec.get(protocol))
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                out.append(RouteText(protocol, "a rule meshdesk cannot read", _short(rule)))
                continue
            matches = _l(rule.get("match"))
            if matches:
                when = " or ".join(_match_text(m) for m in matches)
            else:
                when = "any other request" if i else "every request"
            to = _routes_text(_l(rule.get("route")), own)
            if protocol == "http" and not rule.get("route"):
                to = "no route of its own" if rule.get("redirect") or rule.get("directResponse") or \
                    rule.get("delegate") else to
            if protocol != "http":
                when = f"{protocol.upper()} {when}" if when != "any other request" else f"other {protocol.upper()}"
            out.append(RouteText(protocol, when, to, tuple(_rule_notes(rule, own) if protocol == "http" else ())))
    return out


def _pool_text(pool: Any) -> str:
    cb = _read_circuit_breaker({"connectionPool": pool})
    known = [(cb.max_connections, "max {} connections"),
             (cb.http1_max_pending_requests, "max {} pending requests"),
             (cb.max_requests_per_connection, "max {} requests per connection")]
    parts = [text.format(_short(v)) for v, text in known if v is not None]
    for side in ("tcp", "http"):
        for key, value in _d(_d(pool).get(side)).items():
            if key not in ("maxConnections", "http1MaxPendingRequests", "maxRequestsPerConnection"):
                parts.append(f"{key} {_short(value)}")
    return ", ".join(parts)


def _outlier_text(outlier: Any) -> str:
    o = _d(outlier)
    cb = _read_circuit_breaker({"outlierDetection": o})
    triggers = []
    if cb.consecutive_5xx_errors is not None:
        triggers.append(f"{_short(cb.consecutive_5xx_errors)} consecutive 5xx errors")
    if o.get("consecutiveGatewayErrors") is not None:
        triggers.append(f"{_short(o['consecutiveGatewayErrors'])} consecutive gateway errors")
    parts = [f"eject a host after {' or '.join(triggers)}"] if triggers else []
    if o.get("interval") is not None:
        parts.append(f"checked every {_duration_text(o['interval'])}")
    if o.get("baseEjectionTime") is not None:
        parts.append(f"for at least {_duration_text(o['baseEjectionTime'])}")
    if cb.max_ejection_percent is not None:
        parts.append(f"at most {_short(cb.max_ejection_percent)}% of hosts")
    done = {"consecutive5xxErrors", "consecutiveGatewayErrors", "interval", "baseEjectionTime", "maxEjectionPercent"}
    parts += [f"{k} {_short(v)}" for k, v in o.items() if k not in done]
    return ", ".join(parts)


def _hash_text(lb: LoadBalancer) -> str:
    key = _short(lb.hash_key)
    on = {"header": f" on header {key}", "query": f" on query parameter {key}", "source_ip": " on the source IP",
          "cookie": f" on cookie {key}" + (f" (path {_short(lb.cookie_path)})" if lb.cookie_path else "")
          + (f", lasting {_duration_text(_seconds(lb.cookie_ttl_seconds))}"
             if lb.cookie_ttl_seconds is not None else "")}.get(lb.hash_by, "")
    how = {"ring_hash": ", ring hash" + (f" of at least {lb.ring_size} entries" if lb.ring_size else ""),
           "maglev": ", Maglev" + (f" table of {lb.table_size} entries" if lb.table_size else "")}
    return "consistent hash" + on + how.get(lb.hash_algorithm, "")


def _locality_text(loc: LocalityLb) -> str:
    parts = ["off" if loc.enabled is False else "on" if loc.enabled else ""]
    parts += [f"from {_short(o)}: " + ", ".join(f"{_short(t)} {w}%" for t, w in shares.items())
              for o, shares in loc.distribute]
    parts += [f"failover {_short(o)} \u2192 {_short(t)}" for o, t in loc.failover]
    return "; ".join(p for p in parts if p)


def traffic_policy_texts(policy: Any) -> list[tuple[str, str]]:
    """A DestinationRule's (or a subset's) traffic policy in words, as (what, how) pairs: connection pool
    and outlier detection (the circuit breaker), TLS mode, load balancing, per-port settings."""
    p = _d(policy)
    out: list[tuple[str, str]] = []
    if _d(p.get("connectionPool")):
        out.append(("connection pool", _pool_text(p["connectionPool"]) or "defaults"))
    if _d(p.get("outlierDetection")):
        out.append(("outlier detection", _outlier_text(p["outlierDetection"]) or "defaults"))
    tls = _d(p.get("tls"))
    if tls:
        out.append(("TLS", _short(tls.get("mode") or "mode not set")
                    + (f", SNI {_short(tls['sni'])}" if tls.get("sni") else "")))
    lb = _d(p.get("loadBalancer"))
    if set(lb) - {"localityLbSetting"}:
        out.append(("load balancing", _short(lb["simple"]) if "simple" in lb else
                    _hash_text(_read_load_balancer(p)) if "consistentHash" in lb else
                    ", ".join(_short(k) for k in lb if k != "localityLbSetting")))
    if _d(lb.get("localityLbSetting")):
        out.append(("locality load balancing", _locality_text(_read_locality(lb))
                    or ", ".join(_short(k) for k in _d(lb.get("localityLbSetting")))))
    for setting in _l(p.get("portLevelSettings")):
        # each port's own settings, said as the rule's are (a ServiceEntry's TLS origination is one)
        setting = _d(setting)
        number = _d(setting.get("port")).get("number")
        own = traffic_policy_texts({k: v for k, v in setting.items() if k not in ("port", "portLevelSettings")})
        out.append((f"port {_short(number)}", "; ".join(f"{what} {how}" for what, how in own) or "no settings"))
    return out


def destination_rule_texts(dr: IstioObject) -> list[tuple[str, str]]:
    """A DestinationRule in words, as (what, how) pairs: its subsets (with the labels each selects and
    any policy of its own) and its traffic policy (``traffic_policy_texts``)."""
    spec = _d(dr.spec)
    out: list[tuple[str, str]] = []
    subsets = []
    for s in _l(spec.get("subsets")):
        s = _d(s)
        labels = ", ".join(f"{_short(k)}={_short(v)}" for k, v in _d(s.get("labels")).items())
        text = _short(s.get("name") or "?") + (f" ({labels})" if labels else "")
        own = traffic_policy_texts(s.get("trafficPolicy"))
        if own:
            text += ": " + "; ".join(f"{what} {how}" for what, how in own)
        subsets.append(text)
    if subsets:
        out.append(("subsets", "; ".join(subsets)))
    out += traffic_policy_texts(spec.get("trafficPolicy"))
    return out


_MATCH_KEYS = frozenset(MATCH_KINDS)
_RULE_KEYS = frozenset(("match", "route", "fault", "timeout", "retries"))
_FAULT_KEYS = {"delay": frozenset(("percentage", "fixedDelay")), "abort": frozenset(("percentage", "httpStatus"))}
_RETRY_KEYS = frozenset(("attempts", "perTryTimeout", "retryOn"))
_RULE_PARTS = {"name": "named rules", "rewrite": "a rewrite", "redirect": "a redirect", "mirror": "a mirror",
               "mirrors": "a mirror", "mirrorPercentage": "a mirror", "mirrorPercent": "a mirror",
               "headers": "header changes", "corsPolicy": "a CORS policy", "directResponse": "a direct response",
               "delegate": "a delegate"}


def _one_condition(cond: Any) -> bool:
    return isinstance(cond, dict) and len(cond) == 1 and next(iter(cond)) in _MATCH_KEYS \
        and isinstance(next(iter(cond.values())), str)


def mirror_written(rule: Mapping[str, Any]) -> str:
    """The ``MIRROR_WRITTEN`` record of a rule's mirror (its subset and share): "" when it has none."""
    mirror = _d(rule.get("mirror"))
    if not mirror:
        return ""
    share = rule.get("mirrorPercentage")
    return json.dumps({"subset": mirror.get("subset"),
                       "percent": _number(_d(share).get("value"), 100.0) if share is not None else 100.0},
                      sort_keys=True)


def _modelled_mirror(rule: Mapping[str, Any], names: set[str], subset_version: Mapping[str, str],
                     dr: IstioObject | None) -> bool:
    """Whether a rule's mirror is one traffic shifting (on the default rule) or request routing (on a matched
    rule) writes: to a version's subset of the service itself that the rule gives no weight, with a share
    (``mirrorPercentage``) or none (all)."""
    mirror, share = rule.get("mirror"), rule.get("mirrorPercentage")
    if not isinstance(mirror, dict) or set(mirror) != {"host", "subset"} or mirror.get("host") not in names:
        return False
    if any(_d(_d(r).get("destination")).get("subset") == mirror.get("subset") and _number(_d(r).get("weight"), 100.0)
           for r in _l(rule.get("route"))):
        return False
    subset = mirror.get("subset")
    if not isinstance(subset, str) or subset_names([subset_version.get(subset, subset)], dr).get(
            subset_version.get(subset, subset)) != subset:
        return False
    return share is None or (isinstance(share, dict) and set(share) == {"value"})


def unmodelled(vs: IstioObject, svc: Service, dr: IstioObject | None = None) -> list[str]:
    """What in ``vs`` meshdesk's routing intent cannot hold, so rewriting it from that intent would lose
    it (empty when a rewrite keeps its meaning): e.g. "a rewrite", "a mirror", "a tcp section".

    meshdesk writes one rule per match block (conditions on headers, the URI, scheme, method and authority,
    to one subset or weighted subsets adding up to 100; a rule of several blocks is read as one rule each,
    meaning the same) and a last default
    rule (the whole service or weighted subsets named after versions), a matched rule with a fault, timeout
    and retries of its own or the default rule's, and a mirror to a version's subset; it keeps ``hosts``, ``gateways`` and ``exportTo`` as they are. For a TCP-only
    service (``tcp_only``) it writes one ``tcp`` rule, the weighted default route, and keeps an ``http``
    section (which no request of the service meets) as it is."""
    found: list[str] = []

    def add(what: str) -> None:
        if what not in found:
            found.append(what)

    spec = _d(vs.spec)
    tcp = tcp_only(svc)
    section = "tcp" if tcp else "http"
    for key in spec:
        if key not in ("hosts", "gateways", "exportTo", "http", section):
            add(f"a {key} section")
    names = host_names(svc)
    subset_version = _subset_versions(dr)
    rules = _l(spec.get(section))
    default_seen = False
    for rule in rules:
        if not isinstance(rule, dict):
            add("a rule meshdesk cannot read")
            continue
        for key in rule:
            if tcp and key == "match":
                add("a TCP match (on a port, addresses or the source)")
            elif key in ("mirror", "mirrorPercentage") and not tcp \
                    and _modelled_mirror(rule, names, subset_version, dr):
                continue  # traffic shifting's mirror, or a request routing rule's, as meshdesk and Kiali write them
            elif key not in _RULE_KEYS or (tcp and key != "route"):
                add(_RULE_PARTS.get(key, f"a {key} setting"))
        if default_seen:
            add("rules after the default route")
        routes = _l(rule.get("route"))
        for r in routes:
            r = _d(r)
            dest = _d(r.get("destination"))
            if set(r) - {"destination", "weight"} or set(dest) - {"host", "subset"}:
                add("route settings other than destination and weight (headers, ports)")
            if dest.get("host") not in names:
                add(f"a route to another host ({dest.get('host')})")
            subset = dest.get("subset")
            version = subset_version.get(subset, subset) if isinstance(subset, str) else None
            if version is not None and subset_names([version], dr)[version] != subset:
                add(f"subset {subset}, which is not named after its version")
        matches = _l(rule.get("match"))
        if "match" in rule and not tcp:
            if not matches:
                add("an empty match")
            for m in matches:
                m = _d(m)
                headers = _d(m.get("headers"))
                if set(m) - {*_PLAIN_FIELDS, "headers"}:
                    add("a match on something other than headers, the URI, scheme, method or authority")
                elif not any(m.get(on) is not None for on in _PLAIN_FIELDS) and not headers:
                    add("a match on something other than headers, the URI, scheme, method or authority")
                elif not all(m.get(on) is None or _one_condition(m.get(on)) for on in _PLAIN_FIELDS) or \
                        not all(c == {} or _one_condition(c) for c in headers.values()):
                    add("a match condition other than exact, prefix or regex")
            subsets = [_d(_d(r).get("destination")).get("subset") for r in routes]
            weights: list[Any] = [_d(r).get("weight") for r in routes]
            if not routes or not all(isinstance(s, str) and s for s in subsets) or \
                    (len(routes) == 1 and weights[0] not in (None, 100)):
                add("a matched rule that does not send all its requests to one version")
            elif len(routes) > 1 and (not all(isinstance(w, int) and not isinstance(w, bool) for w in weights)
                                      or sum(weights) != 100 or len(set(subsets)) != len(subsets)):
                add("a matched rule whose weights do not add up to 100")
        elif "match" not in rule:
            default_seen = True
            subsets = [_d(_d(r).get("destination")).get("subset") for r in routes]
            if not routes or (len(routes) > 1 and not all(isinstance(s, str) and s for s in subsets)):
                add("a default route meshdesk cannot read")
        fault = _d(rule.get("fault"))
        for kind in fault:
            if kind not in _FAULT_KEYS or set(_d(fault[kind])) - _FAULT_KEYS[kind]:
                add(f"a fault of another kind ({kind})" if kind not in _FAULT_KEYS else "fault settings such as a "
                    "delay in percent or a gRPC status")
        if set(_d(rule.get("retries"))) - _RETRY_KEYS:
            add("retry settings other than attempts, per-try timeout and retry-on")
        if rule.get("timeout") is not None and _parse_seconds(rule.get("timeout")) is None:
            add(f"a timeout meshdesk cannot read ({rule.get('timeout')})")
    return found


def applies_to_mesh(vs: IstioObject) -> bool:
    """Whether a VirtualService routes the mesh's own traffic (sidecars'): it names no gateway, or
    names the reserved gateway ``mesh`` among them. One bound to gateways only routes what enters
    through those, and is not the service's routing."""
    gateways = _l(_d(vs.spec).get("gateways"))
    return not gateways or "mesh" in gateways


def current_routing(inv: Inventory, svc: Service) -> tuple[ServiceRouting, IstioObject | None, IstioObject | None]:
    """The routing in force for ``svc``: the VirtualService for mesh traffic (see ``applies_to_mesh``)
    and the DestinationRule whose host is the service."""
    short = host_names(svc)

    def _for(kind: str, key: str) -> IstioObject | None:
        mine = [o for o in inv.istio_objects(kind, svc.namespace)
                if (kind == "VirtualService" and routes_service(o, svc))
                or (kind == "DestinationRule" and isinstance(_d(o.spec).get(key), str) and _d(o.spec).get(key) in short)]
        mine.sort(key=lambda o: (not applies_to_mesh(o), not is_managed(o), o.name))
        return mine[0] if mine else None

    vs, dr = _for("VirtualService", "hosts"), _for("DestinationRule", "host")
    routing = read_service_routing(vs, dr, tcp=tcp_only(svc))
    if vs is not None:
        routing.gateway = _read_binding(vs, short)
    return routing, vs, dr


# the Kubernetes Gateway API's routes (Kiali's names) a Service may be the parent of, as a mesh route (GAMMA)
GATEWAY_API_ROUTE_KINDS = ("K8sHTTPRoute", "K8sGRPCRoute", "K8sTCPRoute", "K8sTLSRoute")


def mesh_routes_of(inv: Inventory, svc: Service) -> list[IstioObject]:
    """The Gateway API routes whose parentRef is ``svc`` (mesh routes, GAMMA): the callers' sidecars (or
    the service's waypoint) route its requests by them."""
    out = []
    for kind in GATEWAY_API_ROUTE_KINDS:
        for route in inv.mesh_config(kind):
            for ref in _l(_d(route.spec).get("parentRefs")):
                ref = _d(ref)
                if ref.get("kind") == "Service" and ref.get("group", "") in ("", "core") \
                        and ref.get("name") == svc.name and (ref.get("namespace") or route.namespace) == svc.namespace:
                    out.append(route)
                    break
    return out


def mesh_route_problem(inv: Inventory, svc: Service, what: str) -> str:
    """Why ``what`` (a form that writes the service's VirtualService routes) is not offered for ``svc``
    ("" when it is): a Gateway API route has the Service as its parent, and Istio routes a service's mesh
    requests by one of the two, not both (a VirtualService beside it may never apply). Kiali's wizards are
    off for such a service too ("traffic routing already exists")."""
    routes = mesh_routes_of(inv, svc)
    if not routes:
        return ""
    named = ", ".join(f"{GATEWAY_API_KINDS.get(r.kind, r.kind)} {r.namespace}/{r.name}" for r in routes[:3])
    return (f"Service {svc.namespace}/{svc.name} is routed by the Gateway API ({named}, whose parent is the "
            f"Service). Istio routes a service's requests by such a route or by a VirtualService, not both, so "
            f"{what} (which writes a VirtualService) is not offered: change the route instead (Istio config, "
            "Edit).")


def routes_service(vs: IstioObject, svc: Service) -> bool:
    """Whether ``vs`` is the service's routing meshdesk edits: it names the service among its hosts and
    routes the mesh's traffic (``applies_to_mesh``), or it is one meshdesk bound to gateways only (named
    after the service, carrying ``GATEWAYS_WRITTEN``; someone else's too, so its Gateways form can bind
    it back to the mesh)."""
    if not any(isinstance(h, str) and h in host_names(svc) for h in _l(_d(vs.spec).get("hosts"))):
        return False
    return applies_to_mesh(vs) or (vs.name == svc.name and GATEWAYS_WRITTEN in vs.annotations)


RESOLUTIONS = ("DNS", "DNS_ROUND_ROBIN", "STATIC", "NONE")
# the resolutions whose endpoints Istio reads (NONE takes none: its CRD refuses them)
ENDPOINT_RESOLUTIONS = ("STATIC", "DNS", "DNS_ROUND_ROBIN")
UNIX_PREFIX = "unix://"


def endpoint_address_problem(address: str, resolution: str) -> str:
    """Why ``address`` cannot be an endpoint's address of a ServiceEntry resolved so ("" if it can):
    with STATIC an IP address or a ``unix://`` socket path; with DNS and DNS_ROUND_ROBIN an IP
    address or a host name (Istio resolves it)."""
    address = address.strip()
    if not address:
        return "an endpoint needs an address"
    if address.startswith(UNIX_PREFIX):
        if resolution != "STATIC":
            return f"{address!r}: a unix:// socket path is an endpoint with resolution STATIC only"
        path = address[len(UNIX_PREFIX):]
        if not path.startswith(("/", "@")):
            return f"{address!r}: a unix:// socket path must be absolute (unix:///path) or abstract (unix://@name)"
        if path.endswith("/") or len(path) < 2:
            return f"{address!r}: a unix:// socket path must name a socket, not a directory"
        return ""
    try:
        ipaddress.ip_address(address)
        return ""
    except ValueError:
        pass
    if resolution == "STATIC":
        return (f"{address!r} is not an IP address: with resolution STATIC an endpoint is an IP address "
                "or a unix:// socket path (use resolution DNS for host names)")
    if "*" in address or not _host_name(address.lower()):
        return f"{address!r} is neither an IP address nor a host name"
    return ""


def _service_entry_endpoints(endpoints: Sequence[Mapping[str, Any]], resolution: str,
                             spec_ports: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The endpoints in Istio's shape. Each is a mapping with ``address`` and, optionally, ``ports``
    mapping a port of the entry (its number, or its name) to the endpoint's port; every other key
    (labels, network, locality, weight, ...) is kept as given."""
    if resolution not in ENDPOINT_RESOLUTIONS:
        raise RoutingError(f"resolution {resolution} takes no endpoints (remove them, or pick STATIC or DNS)")
    if resolution == "DNS_ROUND_ROBIN" and len(endpoints) > 1:
        raise RoutingError("resolution DNS_ROUND_ROBIN takes at most one endpoint")
    names = {str(p["name"]): int(p["number"]) for p in spec_ports}
    by_number = {n: name for name, n in names.items()}
    out = []
    for i, given in enumerate(endpoints, 1):
        address = str(given.get("address") or "").strip()
        # Istio's CRD takes an endpoint of a network without an address (reached through its gateway)
        problem = "" if not address and given.get("network") else endpoint_address_problem(address, resolution)
        if problem:
            raise RoutingError(f"endpoint {i}: {problem}")
        ep = {k: copy.deepcopy(v) for k, v in given.items() if k not in ("address", "ports")}
        ep = {"address": address, **ep} if address else ep
        ports: dict[str, int] = {}
        for key, value in dict(given.get("ports") or {}).items():
            name = by_number.get(key) if isinstance(key, int) else str(key)
            if isinstance(key, int) and name is None:
                raise RoutingError(f"endpoint {i}: port {key} is not one of the ServiceEntry's ports")
            if name not in names:
                raise RoutingError(f"endpoint {i}: the ServiceEntry has no port named {key!r}")
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
                raise RoutingError(f"endpoint {i}: port {value!r} for {key} is out of range (1-65535)")
            ports[name] = value
        if address.startswith(UNIX_PREFIX):
            if ports:
                raise RoutingError(f"endpoint {i}: a unix:// socket takes no ports")
            if len(spec_ports) != 1:
                raise RoutingError(f"endpoint {i}: a unix:// socket endpoint needs a ServiceEntry with exactly "
                                   "one port")
        if ports:
            ep["ports"] = ports
        out.append(ep)
    return out


def build_service_entry(name: str, namespace: str, hosts: Sequence[str], ports: Sequence[tuple[int, str]],
                        *, location: str = "MESH_EXTERNAL", resolution: str = "DNS",
                        addresses: Sequence[str] = (),
                        endpoints: Sequence[Mapping[str, Any]] = ()) -> IstioObject:
    """A ServiceEntry for an external host; ports are (number, protocol) like (443, "TLS"); endpoints
    as ``_service_entry_endpoints`` takes them (checked against the resolution: STATIC takes IP
    addresses, DNS host names too, NONE none)."""
    if not name:
        raise RoutingError("a name is needed")  # not "'' is not a valid name (...)"
    if len(name) > 253 or not _OBJECT_NAME.match(name):  # as Kubernetes names an object: a DNS subdomain
        raise RoutingError(f"{name!r} is not a valid name (at most 253 lower-case letters, digits, '-' and '.', "
                           "starting and ending with a letter or digit)")
    clean = [h.strip().lower() for h in hosts if h.strip()]
    if not clean:
        raise RoutingError("a ServiceEntry needs at least one host")
    for h in clean:
        if not _host_name(h):
            raise RoutingError(f"{h!r} is not a valid host name (labels of at most 63 letters, digits and '-')")
    if not ports:
        raise RoutingError("a ServiceEntry needs at least one port")
    if location not in ("MESH_EXTERNAL", "MESH_INTERNAL"):
        raise RoutingError("location must be MESH_EXTERNAL or MESH_INTERNAL")
    if resolution not in RESOLUTIONS:
        raise RoutingError("resolution must be NONE, STATIC, DNS or DNS_ROUND_ROBIN")
    if resolution in ("DNS", "DNS_ROUND_ROBIN") and any(h.startswith("*") for h in clean) and not endpoints:
        raise RoutingError("a wildcard host needs resolution NONE (or endpoints to resolve it to)")
    spec_ports = []
    seen: set[int] = set()
    for number, protocol in ports:
        proto = protocol.upper()
        if not 1 <= int(number) <= 65535:
            raise RoutingError(f"port {number} is out of range")
        if int(number) in seen:  # Istio's CRD refuses it too ("port number cannot be duplicated")
            raise RoutingError(f"port {number} is given twice; a ServiceEntry has one protocol per port")
        seen.add(int(number))
        if proto not in ("HTTP", "HTTPS", "HTTP2", "GRPC", "TLS", "TCP", "MONGO"):
            raise RoutingError(f"protocol {protocol!r} is not one Istio knows")
        spec_ports.append({"number": int(number), "name": f"{proto.lower()}-{number}", "protocol": proto})
    spec: dict[str, Any] = {"hosts": clean, "ports": spec_ports, "location": location, "resolution": resolution}
    if addresses:
        spec["addresses"] = list(addresses)
    if endpoints:
        spec["endpoints"] = _service_entry_endpoints(endpoints, resolution, spec_ports)
    return IstioObject("ServiceEntry", name, namespace, NETWORKING, spec, _managed())


# the fields of a ServiceEntry's spec the form sets; the others (exportTo, subjectAltNames,
# workloadSelector, addresses unless given) are kept as written when it changes one
SERVICE_ENTRY_FIELDS = ("hosts", "ports", "location", "resolution", "endpoints")


def merge_service_entry(existing: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new``'s spec (as ``build_service_entry`` makes it) over ``existing``'s, keeping what ``new``
    does not set: the spec's other fields, a port's other fields and its name (endpoints' port maps
    refer to it) where the port number stays, an endpoint's fields where the address stays. The order
    of what is kept stays, so an entry nobody changed compares equal."""
    out = copy.deepcopy(dict(existing))
    old_ports = {p.get("number"): p for p in _l(existing.get("ports")) if isinstance(p, dict)}
    renamed: dict[str, str] = {}
    ports = []
    for port in _l(new.get("ports")):
        kept = old_ports.get(port["number"])
        if kept is None:
            ports.append(copy.deepcopy(port))
            continue
        same = copy.deepcopy(kept)
        same["protocol"] = port["protocol"]
        if isinstance(kept.get("name"), str) and kept["name"]:
            renamed[port["name"]] = kept["name"]
        else:
            same["name"] = port["name"]
        ports.append(same)
    old_endpoints = [e for e in _l(existing.get("endpoints")) if isinstance(e, dict)]
    used: set[int] = set()
    endpoints = []
    for ep in _l(new.get("endpoints")):
        match = next((i for i, e in enumerate(old_endpoints) if i not in used
                      and str(e.get("address", "")).strip() == ep.get("address", "")), None)
        merged: dict[str, Any] = {}
        if match is not None:
            used.add(match)
            merged = copy.deepcopy(old_endpoints[match])
        merged.update({k: copy.deepcopy(v) for k, v in ep.items() if k != "ports"})
        if ep.get("ports"):
            merged["ports"] = {renamed.get(k, k): v for k, v in ep["ports"].items()}
        else:
            merged.pop("ports", None)
        endpoints.append(merged)
    for key in SERVICE_ENTRY_FIELDS:
        value = {"ports": ports, "endpoints": endpoints}.get(key, new.get(key))
        if value:
            out[key] = value
        else:
            out.pop(key, None)
    if new.get("addresses"):
        out["addresses"] = list(new["addresses"])
    return out


def build_peer_authentication(namespace: str, mode: str, *, workload: Workload | None = None,
                              others: Sequence[Workload] = ()) -> IstioObject:
    """mTLS mode for a namespace (``default``) or one workload, selected by its app and version labels,
    or by all its labels when those would also select one of ``others`` (the namespace's other
    workloads); refused when even all its labels would."""
    mode = mode.upper()
    if mode not in MTLS_MODES:
        raise RoutingError(f"mTLS mode must be one of {', '.join(MTLS_MODES)}")
    spec: dict[str, Any] = {"mtls": {"mode": mode}}
    name = "default"
    if workload is not None:
        def also(sel: Mapping[str, str]) -> list[str]:
            return sorted(o.name for o in others if o.name != workload.name and o.namespace == workload.namespace
                          and all(o.labels.get(k) == v for k, v in sel.items()))

        selector = {k: v for k, v in workload.labels.items() if k in ("app", "version")}
        if not selector or also(selector):
            selector = dict(workload.labels)
        if not selector:
            raise RoutingError(f"workload {workload.name} has no labels to select it by")
        if also(selector):
            raise RoutingError(f"no label of {workload.name} tells it from {', '.join(also(selector))}: a "
                               "policy for it would set their mTLS mode too (set the namespace's mode, or give "
                               "the workload a label of its own)")
        spec["selector"] = {"matchLabels": selector}
        name = workload.name
    return IstioObject("PeerAuthentication", name, namespace, SECURITY, spec, _managed())


@dataclass
class InjectionChange:
    """Turning sidecar injection on or off for a namespace, and what it means for running pods."""

    namespace: str
    enable: bool
    labels: dict[str, str | None]  # the label patch (None removes a label)
    restart: list[str]  # "workload (kind)" that must restart to get or lose their sidecar
    ambient: bool = False  # the namespace is in ambient mode (ztunnel carries its pods' traffic)
    revision: str = ""  # the istio.io/rev label that enabling removes (istio-injection would win over it)
    # the namespace's workloads were read (not: a namespace the graph does not show, changed from its list row)
    restart_known: bool = True

    def describe(self) -> str:
        verb = "get" if self.enable else "lose"
        note = (f"Namespace {self.namespace} is in ambient mode: pods that get a sidecar leave ztunnel's "
                "handling for the sidecar's. " if self.ambient and self.enable else "")
        if self.revision and self.enable:
            note += (f"Its label istio.io/rev={self.revision} is removed: istio-injection=enabled takes "
                     f"precedence over it, so new pods get the default revision's sidecar, not revision "
                     f"{self.revision}'s. ")
        if not self.restart_known:
            return (f"{note}Its running workloads were not read: those started before keep what they have until "
                    "restarted (add the namespace to the graph to see which).")
        if not self.restart:
            return f"{note}No running workload in {self.namespace} needs a restart."
        return f"{note}{counted(len(self.restart), 'workload')} must restart to {verb} their sidecar: " + ", ".join(self.restart)


def opts_out_of_injection(w: Workload) -> bool:
    """Whether a workload's pods refuse a sidecar (``sidecar.istio.io/inject: "false"``): written on the
    pods (the template), as a label or an annotation."""
    return any((marks.get("sidecar.istio.io/inject") or "").lower() == "false"
               for marks in (w.labels, w.annotations, *(p.labels for p in w.pods), *(p.annotations for p in w.pods)))


def opt_out_mark(w: Workload) -> str:
    """How a workload opts out of the sidecar, as a person reads it ('annotation
    sidecar.istio.io/inject: "false"', or 'label ...'); "" when it does not."""
    for marks, what in ((w.annotations, "annotation"), (w.labels, "label"),
                        *((p.annotations, "annotation") for p in w.pods), *((p.labels, "label") for p in w.pods)):
        if (marks.get("sidecar.istio.io/inject") or "").lower() == "false":
            return f'{what} sidecar.istio.io/inject: "false"'
    return ""


# Why a workload runs no sidecar (:func:`sidecar_gap`): the lists' Sidecar column and the panels say
# the same. RESTART: its pods started before its namespace's injection was enabled (a restart gives it
# the sidecar); OPTED_OUT: it refuses one on purpose (nothing to do); MISSING: anything else.
RESTART, OPTED_OUT, MISSING = "restart", "opted out", "missing"


def sidecar_gap(inv: Inventory, workloads: Workload | Sequence[Workload]) -> str:
    """Why the workloads (one, or an app's or a service's) run no sidecar: "" when none lacks one (or
    it is not known), else RESTART when a restart gives one its sidecar, MISSING when one lacks it for
    no reason of its own, OPTED_OUT when every one without a sidecar opts out. Ambient and control-plane
    workloads are the caller's to set apart first (they need none)."""
    ws = [workloads] if isinstance(workloads, Workload) else list(workloads)
    reasons = set()
    for w in ws:
        if w.has_sidecar is not False:
            continue
        if opts_out_of_injection(w):
            reasons.add(OPTED_OUT)
            continue
        nso = inv.namespace(w.namespace)
        reasons.add(RESTART if nso is not None and nso.injection_enabled and restarts_for_injection(w, True)
                    else MISSING)
    return next((r for r in (RESTART, MISSING, OPTED_OUT) if r in reasons), "")


def restarts_for_injection(w: Workload, enable: bool) -> bool:
    """Whether a running workload must restart to get (``enable``) or lose its sidecar once its
    namespace's injection is turned so: injection changes new pods only. A bare Pod is no controller
    to restart, and a workload that opts out gets no sidecar either way."""
    if w.kind == "Pod" or not w.pods:
        return False
    if enable:
        return w.has_sidecar is False and not opts_out_of_injection(w)
    return bool(w.has_sidecar)


def injection_change(inv: Inventory, namespace: str, enable: bool) -> InjectionChange:
    ns = inv.namespace(namespace)
    labels: dict[str, str | None] = {"istio-injection": "enabled" if enable else "disabled"}
    revision = ns.labels.get("istio.io/rev", "") if ns is not None else ""
    if revision:
        # as Kiali's buildNamespaceInjectionPatch: the two labels together leave pods to istio-injection,
        # so the revision label only misleads (it is removed when disabling too)
        labels["istio.io/rev"] = None
    restart = [f"{w.name} ({w.kind})" for w in inv.workloads
               if w.namespace == namespace and restarts_for_injection(w, enable)]
    ambient = ns is not None and ns.labels.get("istio.io/dataplane-mode") == "ambient"
    return InjectionChange(namespace, enable, labels, sorted(restart), ambient, revision,
                           restart_known=not inv.unread(namespace, WORKLOAD_LISTS))


# the Gateway API kinds meshdesk's forms create (Kiali's names)
WRITTEN_GATEWAY_API_KINDS = ("K8sGateway", "K8sReferenceGrant", "K8sHTTPRoute", "K8sGRPCRoute")


def managed_objects(inv: Inventory, namespace: str | None = None) -> list[IstioObject]:
    """What meshdesk created (and may remove): Istio's kinds, and of the Gateway API's the Gateways and
    ReferenceGrants its forms write (a route carrying its label, copied by hand, is not offered)."""
    return [o for o in inv.istio if is_managed(o) and (not o.gateway_api or o.kind in WRITTEN_GATEWAY_API_KINDS)
            and (namespace is None or o.namespace == namespace)]
