"""The demo's traffic: what Istio's proxies would report for the demo mesh at a given time.

A deterministic function of (time, seed, Istio config). Users arrive through the ingress gateway at a
rate that follows a daily curve with smooth noise; each server then calls its backends a fixed number
of times per request it serves. Where each request goes follows the Istio config the way Envoy would:
VirtualService routes (uri/header matches, weights over DestinationRule subsets, fault injection,
timeouts, retries), ServiceEntries for external hosts (or the PassthroughCluster without one),
Sidecars (egress hosts a proxy imports; outboundTrafficPolicy REGISTRY_ONLY sends the rest to
BlackHoleCluster, 502) and PeerAuthentication for mutual TLS. Servers fail a little all the time and a lot during occasional
bursts; latency adds up along the call chain.

Each request is reported by the client's proxy (``reporter="source"``) when the client has one and by
the server's proxy (``reporter="destination"``) when the request reached a server that has one.
In an ambient namespace there are no sidecars: the namespace's waypoint reports each request once
(``reporter="waypoint"``, from the client workload to the server workload), and ztunnel reports the
TCP bytes of both hops (``app="ztunnel"``, each hop by both its ends: client -> waypoint with the real
service as destination service, then waypoint -> server). Authorization there is Istio's too: the
waypoint enforces the policies attached to it or to a Service by ``targetRefs`` (403, L7 rules
included), the server's ztunnel the selector policies on the waypoint's connection (L4 only; a denial
is a refused connection, ``response_flags="DENY"``, which the waypoint answers with 503 UF).
Sample conventions are the ones documented in ``meshdesk.mesh.telemetry``.
"""

from __future__ import annotations

import calendar
import hashlib
import ipaddress
import math
import re
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from statistics import NormalDist
from typing import Any

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.import_scope import ImportScope, import_scope
from meshdesk.mesh.inventory import IstioObject, Workload
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.base import Cancelled
from meshdesk.sources.demo import mesh
from meshdesk.sources.demo.mesh import GRPC, TCP, Behaviour, Call, Failure, Operation, WorkloadSpec

UNKNOWN = "unknown"
PASSTHROUGH = "PassthroughCluster"
BLACKHOLE = "BlackHoleCluster"
Z95 = 1.6448536
Z99 = 2.3263479
_NORMAL = NormalDist()

# Envoy's defaults when no VirtualService sets retries: 2 retries on connect failures and gRPC UNAVAILABLE
DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_RETRY_ON = frozenset({"connect-failure", "refused-stream", "unavailable", "cancelled",
                              "retriable-status-codes"})
_GRPC_FOR_HTTP = {"400": "13", "401": "16", "403": "7", "404": "12", "429": "14", "500": "13", "502": "14",
                  "503": "14", "504": "14"}
_GRPC_STATUS = {"OK": "0", "CANCELLED": "1", "UNKNOWN": "2", "INVALID_ARGUMENT": "3", "DEADLINE_EXCEEDED": "4",
                "NOT_FOUND": "5", "ALREADY_EXISTS": "6", "PERMISSION_DENIED": "7", "RESOURCE_EXHAUSTED": "8",
                "FAILED_PRECONDITION": "9", "ABORTED": "10", "OUT_OF_RANGE": "11", "UNIMPLEMENTED": "12",
                "INTERNAL": "13", "UNAVAILABLE": "14", "DATA_LOSS": "15", "UNAUTHENTICATED": "16"}


# -- deterministic noise -------------------------------------------------------------------------------


def _unit(seed: int, *parts: object) -> float:
    """A number in [0, 1) fixed by the seed and the parts."""
    key = "\x1f".join(str(p) for p in (seed, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2.0**64


def smooth_noise(seed: int, key: str, t: float, period: float) -> float:
    """Value noise in [-1, 1]: random knots every ``period`` seconds joined by a smooth step."""
    x = t / period
    k = math.floor(x)
    f = x - k
    a = 2.0 * _unit(seed, key, period, k) - 1.0
    b = 2.0 * _unit(seed, key, period, k + 1) - 1.0
    s = f * f * (3.0 - 2.0 * f)
    return a + (b - a) * s


def user_load(seed: int, t: float) -> float:
    """How busy the shop is compared with an average moment: a daily curve, an hourly wobble, noise."""
    phase = 2.0 * math.pi * _unit(seed, "day-phase")
    daily = 0.3 * math.sin(2.0 * math.pi * t / 86400.0 + phase)
    hourly = 0.06 * math.sin(2.0 * math.pi * t / 3300.0 + phase * 3.0)
    noise = 0.07 * smooth_noise(seed, "load", t, 90.0) + 0.03 * smooth_noise(seed, "load-fast", t, 13.0)
    return max(0.05, 1.0 + daily + hourly + noise)


def _burst_window(seed: int, key: str, slot: int) -> tuple[float, float]:
    length = 150.0 + 270.0 * _unit(seed, key, "burst-len", slot)
    start = slot * 1800.0 + (1800.0 - length) * _unit(seed, key, "burst-start", slot)
    return start, length


def burst(seed: int, key: str, t: float, chance: float) -> float:
    """Intensity in [0, 1] of an error burst on ``key`` at ``t``: some half hours have one burst of a few
    minutes, rising and falling smoothly."""
    slot = math.floor(t / 1800.0)
    if _unit(seed, key, "burst", slot) >= chance:
        return 0.0
    start, length = _burst_window(seed, key, slot)
    if not start <= t < start + length:
        return 0.0
    return float(math.sin(math.pi * (t - start) / length) ** 0.5)


CRASH_SHARE = 0.35  # of a crash-prone server's bursts, the share where its container crashes


def crash_history(seed: int, key: str, t: float, since: float, chance: float) -> tuple[int, bool]:
    """(crashes between ``since`` and ``t``, whether one is under way) for a server whose bursts are
    connection failures: some of those bursts are its container crashing, which restarts it once and
    leaves it not ready while the burst is at its height."""

    def crashed(slot: int) -> bool:
        return _unit(seed, key, "burst", slot) < chance and _unit(seed, key, "crash", slot) < CRASH_SHARE

    now = math.floor(t / 1800.0)
    past = sum(1 for slot in range(math.floor(since / 1800.0), now) if crashed(slot))
    if crashed(now) and t >= _burst_window(seed, key, now)[0]:
        past += 1
    return past, crashed(now) and burst(seed, key, t, chance) > 0.3


def update_pods(workloads: Iterable[Workload], seed: int, t: float) -> None:
    """Bring pod statuses to time ``t``: servers whose bursts are connection failures crash-loop then."""
    for w in workloads:
        b = mesh.BEHAVIOURS.get((w.namespace, w.name))
        if b is None or not any(f.source_only for f in b.burst) or not w.pods:
            continue
        since = min(_parse_time(p.created) for p in w.pods)
        restarts, crashing = crash_history(seed, f"{w.namespace}/{w.name}", t, since, b.burst_chance)
        for pod in w.pods:
            app = next((c for c in pod.containers if c.name != "istio-proxy"), None)
            if app is None:
                continue
            app.restarts += restarts
            if crashing:
                app.ready = False
                app.state = "waiting:CrashLoopBackOff"
        if crashing:
            w.available = w.ready = 0


def _parse_time(text: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return 0.0


# -- latency distributions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """A latency distribution in ms, kept as its mean and three quantiles; other quantiles are read
    off a piecewise-linear curve in normal-score space."""

    mean: float
    p50: float
    p95: float
    p99: float

    @staticmethod
    def lognormal(median: float, sigma: float) -> Latency:
        return Latency(median * math.exp(sigma * sigma / 2.0), median, median * math.exp(Z95 * sigma),
                       median * math.exp(Z99 * sigma))

    @staticmethod
    def fixed(ms: float) -> Latency:
        return Latency(ms, ms, ms, ms)

    def quantile(self, u: float) -> float:
        u = min(max(u, 1e-6), 1.0 - 1e-9)
        z = _NORMAL.inv_cdf(u)
        if z <= Z95:
            value = self.p50 + (self.p95 - self.p50) * z / Z95
        else:
            value = self.p95 + (self.p99 - self.p95) * (z - Z95) / (Z99 - Z95)
        return max(value, 0.2 * self.p50)

    def tail(self, limit: float) -> float:
        """Share of requests slower than ``limit`` ms."""
        if limit <= 0:
            return 1.0
        if limit <= 0.2 * self.p50:
            return 1.0
        lo, hi = -6.0, 9.0  # the quantile curve is increasing in z: bisect
        for _ in range(50):
            mid = (lo + hi) / 2.0
            if self.quantile(_NORMAL.cdf(mid)) < limit:
                lo = mid
            else:
                hi = mid
        return 1.0 - _NORMAL.cdf(lo)

    def plus(self, other: Latency, times: float = 1.0) -> Latency:
        """This plus ``times`` calls of ``other`` (quantiles add: an upper bound, fine for a demo)."""
        return Latency(self.mean + times * other.mean, self.p50 + times * other.p50,
                       self.p95 + times * other.p95, self.p99 + times * other.p99)

    def shifted(self, ms: float) -> Latency:
        return Latency(self.mean + ms, self.p50 + ms, self.p95 + ms, self.p99 + ms)

    def scaled(self, factor: float) -> Latency:
        return Latency(self.mean * factor, self.p50 * factor, self.p95 * factor, self.p99 * factor)

    def delayed(self, share: float, delay_ms: float) -> Latency:
        """A share of requests held back by ``delay_ms`` before being sent (a fault delay)."""
        if share <= 0.0 or delay_ms <= 0.0:
            return self
        if share >= 1.0:
            return self.shifted(delay_ms)

        def q(u: float) -> float:
            if u <= 1.0 - share:
                return self.quantile(u / (1.0 - share))
            return delay_ms + self.quantile((u - (1.0 - share)) / share)

        return Latency(self.mean + share * delay_ms, q(0.5), q(0.95), q(0.99))

    def capped(self, limit: float) -> Latency:
        return Latency(min(self.mean, limit), min(self.p50, limit), min(self.p95, limit), min(self.p99, limit))

    def stats(self) -> dict[str, float]:
        return {"avg": self.mean, "0.5": self.p50, "0.95": self.p95, "0.99": self.p99}


def mix(parts: Iterable[tuple[float, Latency]]) -> Latency | None:
    items = [(w, d) for w, d in parts if w > 0]
    total = sum(w for w, _ in items)
    if total <= 0:
        return None
    return Latency(*(sum(w * getattr(d, f) for w, d in items) / total for f in ("mean", "p50", "p95", "p99")))


# -- reading the Istio config ----------------------------------------------------------------------------


def parse_duration_ms(value: Any) -> float | None:
    """Istio durations: "7s", "1.5s", "500ms", "2m", "1h" (None when unreadable)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) * 1000.0
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*", value)
    if not m:
        return None
    return float(m.group(1)) * {"ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}[m.group(2)]


def percentage(obj: Mapping[str, Any]) -> float:
    """A fault's share, 0..1: ``percentage.value`` (or the older integer ``percent``); unset = none, as in
    Istio: its API says no request is delayed or aborted then, and istiod's TranslateFault leaves Envoy's
    percentage unset (0), or takes the integer ``percent`` (0 when unset) for a delay."""
    pct = obj.get("percentage")
    if isinstance(pct, Mapping) and pct.get("value") is not None:
        raw: Any = pct.get("value")
    elif obj.get("percent") is not None:
        raw = obj.get("percent")
    else:
        return 0.0
    try:
        return min(max(float(raw) / 100.0, 0.0), 1.0)
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class Fault:
    abort_share: float = 0.0
    abort_code: str = "503"
    abort_grpc: str = ""
    delay_share: float = 0.0
    delay_ms: float = 0.0


# Envoy writes a request's response flags comma-separated, in the order of its own list of them
_FLAG_ORDER = {f: i for i, f in enumerate((
    "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI",
    "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO", "DR"))}


def report_held(report: Callable[[str, str, str, float], None], held: float, code: str, flags: str,
                grpc_status: str, value: float) -> None:
    """Report ``value`` requests (``report(code, flags, grpc_status, value)``), the ``held`` share of them
    held by a delay fault first: their flags say DI, as Envoy's do."""
    if held > 0:
        report(code, with_flag(flags, "DI"), grpc_status, value * held)
    if held < 1:
        report(code, flags, grpc_status, value * (1.0 - held))


def with_flag(flags: str, flag: str) -> str:
    """``flags`` (Envoy's ``response_flags``, "-" for none) with ``flag`` added where Envoy puts it."""
    have = [] if flags in ("", "-") else flags.split(",")
    if flag not in have:
        have.append(flag)
    return ",".join(sorted(have, key=lambda f: _FLAG_ORDER.get(f, len(_FLAG_ORDER))))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_RETRY_ATTEMPTS
    retry_on: frozenset[str] = DEFAULT_RETRY_ON

    def retries(self, f: Failure) -> bool:
        on = self.retry_on
        if f.retriable and ("connect-failure" in on or "reset" in on):
            return True
        if f.grpc_status == "14" and "unavailable" in on:
            return True
        if f.code.startswith("5") and "5xx" in on:
            return True
        return f.code in ("502", "503", "504") and "gateway-error" in on


@dataclass(frozen=True)
class Target:
    """Where a share of a route's traffic ends up."""

    # "service" (mesh endpoints), "external", "passthrough", "no-cluster", "no-route"; "unimported": a mesh
    # service the client's Sidecar does not import, reached through PassthroughCluster (plain text, no
    # mTLS); "blackhole": what REGISTRY_ONLY refuses (BlackHoleCluster)
    kind: str
    host: str = ""  # the destination service's FQDN / external host
    service: str = ""
    service_namespace: str = ""
    subset_labels: Mapping[str, str] | None = None
    subset: str = ""


@dataclass(frozen=True)
class Leg:
    share: float
    target: Target
    fault: Fault = Fault()
    timeout_ms: float | None = None
    retry: RetryPolicy = RetryPolicy()
    # the route's mirrors: where a copy of a share (0-1) of its requests goes, fire and forget (Envoy drops
    # the answer; only the mirror's proxy reports the copies)
    mirrors: tuple[tuple[Target, float], ...] = ()


# Not meshdesk.mesh.readers.as_dict / as_list on purpose: the demo reads specs it builds itself,
# where any Mapping counts as an object (as_dict takes only a dict) and a tuple as a list, handed back
# as a fresh list (as_list takes only a list and returns that very list).
def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


class Config:
    """The Istio config and services, indexed for routing decisions."""

    def __init__(self, objects: Iterable[IstioObject],
                 sidecars: Mapping[tuple[str, str], bool] | None = None) -> None:
        """``sidecars``: workloads whose pods were made again with or without a sidecar since the demo
        began (a restart after their namespace's injection changed), by (namespace, name)."""
        self.objects = sorted(objects, key=lambda o: (o.kind, o.namespace, o.name))
        self.services = {mesh.fqdn(s.name, s.namespace): s for s in mesh.SERVICES}
        self.specs = {(w.namespace, w.name): w for w in mesh.WORKLOADS}
        for key, on in (sidecars or {}).items():
            spec = self.specs.get(key)
            if spec is not None and spec.sidecar != on:
                self.specs[key] = replace(spec, sidecar=on)
        self.gateways = {(o.namespace, o.name): o for o in self.objects if o.kind == "Gateway"}
        self.vses = [o for o in self.objects if o.kind == "VirtualService"]
        self.drs = [o for o in self.objects if o.kind == "DestinationRule"]
        self.entries = [o for o in self.objects if o.kind == "ServiceEntry"]
        self.peer_auth = {o.namespace: o for o in self.objects
                          if o.kind == "PeerAuthentication" and not _dict(o.spec.get("selector"))}
        # the policies of single workloads (a selector), which Istio weighs before their namespace's
        self.workload_peer_auth = [o for o in self.objects
                                   if o.kind == "PeerAuthentication" and _dict(o.spec.get("selector"))]
        self.authz = [o for o in self.objects if o.kind == "AuthorizationPolicy"]
        self.waypoints = {w.namespace: w for w in mesh.WORKLOADS if w.waypoint}
        self.sidecars = [o for o in self.objects if o.kind == "Sidecar"]
        self._namespaces = {name for name, _ in mesh.NAMESPACES}
        # what the simulation works out from the config alone, the same at every moment (each moment of a
        # chart's range asked it again): each call's legs, the workloads behind a target, the calls' order
        self.routes: dict[tuple[int, str], list[Leg]] = {}
        self.endpoint_shares: dict[tuple[str, frozenset[tuple[str, Any]]], list[tuple[WorkloadSpec, float]]] = {}
        self.call_order: list[tuple[int, Call]] | None = None

    def sidecar_for(self, client: WorkloadSpec) -> IstioObject | None:
        """The Sidecar that shapes ``client``'s proxy (Istio's choice): one of its namespace selecting it,
        else its namespace's without a selector, else the root namespace's without one. Gateways,
        waypoints and workloads without a sidecar have none."""
        if not client.sidecar or client.name == "istio-ingressgateway" or client.namespace in mesh.AMBIENT_NAMESPACES:
            return None
        labels = mesh.pod_labels(client)

        def selector(sc: IstioObject) -> Mapping[str, Any]:
            return _dict(_dict(sc.spec.get("workloadSelector")).get("labels"))

        for sc in self.sidecars:
            sel = selector(sc)
            if sc.namespace == client.namespace and sel and all(labels.get(str(k)) == str(v) for k, v in sel.items()):
                return sc
        for ns in (client.namespace, ROOT_NAMESPACE):
            found = next((sc for sc in self.sidecars if sc.namespace == ns and not selector(sc)), None)
            if found is not None:
                return found
        return None

    def egress_scope(self, client: WorkloadSpec, port: int | None = None) -> tuple[ImportScope | None, str]:
        """(the hosts ``client``'s Sidecar imports for calls on ``port``, None: every host; its outbound
        traffic policy mode: the Sidecar's, else the mesh config's). An egress listener naming a port
        decides that port's calls; the listeners naming none decide the others. ``port`` None: what any
        listener imports."""
        sc = self.sidecar_for(client)
        if sc is None:
            return None, mesh.MESH_SETTINGS.outbound_policy.upper()
        mode = str(_dict(sc.spec.get("outboundTrafficPolicy")).get("mode") or mesh.MESH_SETTINGS.outbound_policy)
        listeners = [_dict(e) for e in _list(sc.spec.get("egress"))]
        if port is not None and listeners:
            at_port = [e for e in listeners if str(_dict(e.get("port")).get("number") or "") == str(port)]
            listeners = at_port or [e for e in listeners if not _dict(e.get("port")).get("number")]
            if not listeners:  # no listener for this port: the proxy imports nothing for it
                return ImportScope(client.namespace, [], self._namespaces), mode.upper()
        # read as its namespace's Sidecar ("." is the client's namespace, as Istio reads a root Sidecar's too)
        plain = IstioObject(kind="Sidecar", name=sc.name, namespace=client.namespace, spec={"egress": listeners})
        return import_scope(client.namespace, client.namespace, [plain], self._namespaces), mode.upper()

    def through_sidecar(self, client: WorkloadSpec, host: str, legs: list[Leg], port: int | None = None) -> list[Leg]:
        """``legs`` of a call to ``host`` as ``client``'s Sidecar lets them go: when its egress does not
        import the host called (a mesh service or an external one), the proxy knows no route for it and
        sends it through PassthroughCluster; a route of an imported VirtualService to a host not imported
        names a cluster the proxy lacks (503 NC). With REGISTRY_ONLY, what would go through
        PassthroughCluster goes to BlackHoleCluster."""
        scope, mode = self.egress_scope(client, port)
        if scope is None and mode != "REGISTRY_ONLY":
            return legs
        called = self.resolve(host, client.namespace)
        out = []
        for leg in legs:
            t = leg.target
            if t.kind in ("service", "external") and scope is not None \
                    and not scope.imports(t.host, client.namespace if t.kind == "service" else t.service_namespace):
                if t.host != called:
                    t = Target("no-cluster", t.host, t.service, t.service_namespace)
                elif t.kind == "service":
                    t = Target("unimported", t.host, t.service, t.service_namespace)
                else:
                    t = Target("passthrough", t.host, PASSTHROUGH, UNKNOWN)
            if t.kind in ("unimported", "passthrough") and mode == "REGISTRY_ONLY":
                t = Target("blackhole", t.host, BLACKHOLE, UNKNOWN)
            out.append(Leg(leg.share, t, leg.fault, leg.timeout_ms, leg.retry, leg.mirrors))
        return out

    def waypoint_for(self, workload: WorkloadSpec) -> WorkloadSpec | None:
        """The waypoint that carries requests to ``workload`` (None: not an ambient workload)."""
        if workload.namespace not in mesh.AMBIENT_NAMESPACES:
            return None
        return self.waypoints.get(workload.namespace)

    # hosts: a short name is relative to the namespace of the object that names it
    def resolve(self, host: str, namespace: str) -> str:
        if host in self.services or any(host in self.entry_hosts(e) for e in self.entries):
            return host
        parts = host.split(".")
        if len(parts) == 1:
            return mesh.fqdn(host, namespace)
        if len(parts) == 2:
            return mesh.fqdn(parts[0], parts[1])
        if len(parts) == 3 and parts[2] == "svc":
            return mesh.fqdn(parts[0], parts[1])
        return host

    @staticmethod
    def entry_hosts(entry: IstioObject) -> list[str]:
        return [h for h in _list(entry.spec.get("hosts")) if isinstance(h, str)]

    def service_entry(self, host: str) -> IstioObject | None:
        return next((e for e in self.entries if host in self.entry_hosts(e)), None)

    def subset_labels(self, host: str, subset: str) -> Mapping[str, str] | None:
        for dr in self.drs:
            if not isinstance(dr.spec.get("host"), str) or self.resolve(dr.spec["host"], dr.namespace) != host:
                continue
            for s in _list(dr.spec.get("subsets")):
                if _dict(s).get("name") == subset:
                    return {str(k): str(v) for k, v in _dict(_dict(s).get("labels")).items()}
        return None

    def traffic_policy(self, host: str, subset: str = "") -> Mapping[str, Any]:
        """The DestinationRule traffic policy for a host (a subset's own policy wins over the rule's)."""
        for dr in self.drs:
            if not isinstance(dr.spec.get("host"), str) or self.resolve(dr.spec["host"], dr.namespace) != host:
                continue
            policy = dict(_dict(dr.spec.get("trafficPolicy")))
            for sub in _list(dr.spec.get("subsets")):
                if subset and _dict(sub).get("name") == subset:
                    policy.update(_dict(_dict(sub).get("trafficPolicy")))
            return policy
        return {}

    def pool_capacity(self, target: Target) -> float | None:
        """Concurrent requests a client's proxy lets through to ``target`` before it overflows
        (DestinationRule ``connectionPool``: connections or HTTP/2 requests, plus pending requests);
        None when no limit is set."""
        pool = _dict(self.traffic_policy(target.host, target.subset).get("connectionPool"))
        tcp, http = _dict(pool.get("tcp")), _dict(pool.get("http"))
        active = [_positive(tcp.get("maxConnections")), _positive(http.get("http2MaxRequests"))]
        pending = _positive(http.get("http1MaxPendingRequests"))
        limits = [v for v in active if v is not None]
        if not limits and pending is None:
            return None
        return (min(limits) if limits else 1024.0) + (pending if pending is not None else 1024.0)

    def authorized(self, client: WorkloadSpec, server: WorkloadSpec, op: Operation, port: int, mtls: bool,
                   seed: int = 0, enforcer: str = "sidecar") -> bool:
        """Whether the request is let through (``denial`` says how it is refused)."""
        return not self.denial(client, server, op, port, mtls, seed, enforcer)

    def denial(self, client: WorkloadSpec, server: WorkloadSpec, op: Operation, port: int, mtls: bool,
               seed: int = 0, enforcer: str = "sidecar") -> str:
        """Istio's authorization for one operation, in Istio's order: a matching CUSTOM policy asks its
        external authorizer; a matching DENY policy denies; when ALLOW policies select the server, one of
        their rules must match. Identities need mutual TLS; the source address is the client's first
        pod's (the demo routes a workload's requests as one). "" when allowed, else the response flags
        of the refusal: "UAEX" from the external authorizer, "-" from the proxy's own RBAC.

        The demo's external authorizer (``ext-authz`` in its mesh config) is a read-only gate: it allows
        GET and HEAD requests and refuses any other method (and allows plain TCP, which has none). A
        CUSTOM policy naming a provider the mesh config does not declare denies what it matches, as
        istiod makes such a policy a deny-all.

        ``enforcer`` is who decides, as in Istio: "sidecar" (the server's sidecar: policies selecting the
        workload or its namespace), "waypoint" (an ambient server's waypoint: only the policies attached by
        ``targetRefs`` to the server's Service or to the waypoint, L7 included) or "ztunnel" (an ambient
        server's ztunnel: the selector policies, L4 only; a rule naming L7 attributes fails safe: an ALLOW
        rule never matches, a DENY rule matches on its L4 part alone)."""
        labels = mesh.pod_labels(server)
        ip = mesh.pod_ip(seed, client, 0)
        allow_rules: list[Any] = []
        has_allow = False
        denied = custom = ""
        for policy in self.authz:
            if policy.namespace not in (server.namespace, ROOT_NAMESPACE):
                continue
            refs = [r for r in [policy.spec.get("targetRef"), *_list(policy.spec.get("targetRefs"))]
                    if isinstance(r, dict)]
            if enforcer == "waypoint":
                # attached by targetRefs: for the Services it names or every request through the waypoint it names
                waypoint = self.waypoint_for(server)
                if not refs or waypoint is None \
                        or not any(self._targets(r, policy.namespace, server, waypoint) for r in refs):
                    continue
            else:
                if refs:
                    continue  # attached to a waypoint: sidecars and ztunnel leave it to the waypoint
                match_labels = _dict(_dict(policy.spec.get("selector")).get("matchLabels"))
                if any(labels.get(str(k)) != str(v) for k, v in match_labels.items()):
                    continue
            action = str(policy.spec.get("action") or "ALLOW").upper()
            rules = _list(policy.spec.get("rules"))
            if enforcer == "ztunnel":
                if action == "CUSTOM":
                    continue  # ztunnel has no external authorization (a waypoint's policy can have it)
                rules = [r for r in (_l4_rule(r, action) for r in rules) if r is not None]
            matched = any(_rule_matches(r, client, op, port, mtls, ip) for r in rules)
            if action == "CUSTOM" and matched and not custom:
                provider = str(_dict(policy.spec.get("provider")).get("name") or "")
                if provider not in (mesh.MESH_SETTINGS.authz_providers or []):
                    custom = "-"  # istiod turns a CUSTOM policy it cannot build into a deny-all
                elif op.method and op.method.upper() not in ("GET", "HEAD"):
                    custom = "UAEX"  # the demo's authorizer refuses writes
            if action == "DENY" and matched:
                denied = "-"
            if action == "ALLOW":
                has_allow = True
                allow_rules += rules
        if custom or denied:
            return custom or denied
        return "" if not has_allow or any(_rule_matches(r, client, op, port, mtls, ip) for r in allow_rules) else "-"

    def _targets(self, ref: Mapping[str, Any], namespace: str, server: WorkloadSpec, waypoint: WorkloadSpec) -> bool:
        """Whether a policy's target reference covers requests to ``server`` through ``waypoint``."""
        if ref.get("kind") == "Gateway":
            return ref.get("name") == waypoint.name and namespace == waypoint.namespace
        svc = self.services.get(mesh.fqdn(str(ref.get("name")), namespace)) if ref.get("kind") == "Service" else None
        labels = mesh.pod_labels(server)
        return svc is not None and all(labels.get(k) == v for k, v in svc.selector)

    def peer_mode(self, workload: WorkloadSpec, port: int | None = None) -> str:
        """The mTLS mode a server's proxy enforces on ``port`` (Istio's order): the policy selecting the
        workload (its ``portLevelMtls`` for the port first), else the namespace's, else the mesh's; a mode
        left UNSET is the next one's; none at all is Istio's default, PERMISSIVE."""
        def mode_of(spec: Mapping[str, Any]) -> str:
            mode = str(_dict(spec).get("mode") or "UNSET").upper()
            return "" if mode == "UNSET" else mode

        labels = mesh.pod_labels(workload)
        for pa in self.workload_peer_auth:
            if pa.namespace != workload.namespace:
                continue
            match_labels = _dict(_dict(pa.spec.get("selector")).get("matchLabels"))
            if not match_labels or any(labels.get(str(k)) != str(v) for k, v in match_labels.items()):
                continue
            levels = {str(k): v for k, v in _dict(pa.spec.get("portLevelMtls")).items()}
            at_port = mode_of(_dict(levels.get(str(port)))) if port is not None else ""
            mode = at_port or mode_of(_dict(pa.spec.get("mtls")))
            if mode:
                return mode
            break
        for ns in (workload.namespace, ROOT_NAMESPACE):
            wide = self.peer_auth.get(ns)
            mode = mode_of(_dict(wide.spec.get("mtls"))) if wide is not None else ""
            if mode:
                return mode
        return "PERMISSIVE"

    def mtls(self, workload: WorkloadSpec, port: int | None = None) -> bool:
        """Whether a server accepts mutual TLS on ``port`` (its mode is not DISABLE); the client's proxy
        then always uses it (auto mTLS)."""
        return self.peer_mode(workload, port) != "DISABLE"

    def strict(self, workload: WorkloadSpec, port: int | None = None) -> bool:
        """Whether a server takes mutual TLS only on ``port``: its proxy drops a plain-text connection."""
        return self.peer_mode(workload, port) == "STRICT"

    def _gateway_of(self, ref: str, vs_ns: str) -> IstioObject | None:
        ns, _, name = ref.rpartition("/")
        return self.gateways.get((ns or vs_ns, name))

    def virtual_services(self, client: WorkloadSpec, host: str) -> list[IstioObject]:
        """The VirtualServices that route ``client``'s requests to ``host`` ("*" = whatever the gateway
        is asked for)."""
        out: list[IstioObject] = []
        labels = mesh.pod_labels(client)
        for vs in self.vses:
            gateways = [g for g in _list(vs.spec.get("gateways")) if isinstance(g, str)]
            if host == "*":
                for ref in gateways:
                    gw = self._gateway_of(ref, vs.namespace) if ref != "mesh" else None
                    selector = _dict(gw.spec.get("selector")) if gw else {}
                    if selector and all(labels.get(str(k)) == str(v) for k, v in selector.items()):
                        out.append(vs)
                        break
                continue
            if gateways and "mesh" not in gateways:
                continue
            hosts = [h for h in _list(vs.spec.get("hosts")) if isinstance(h, str)]
            if any(h != "*" and self.resolve(h, vs.namespace) == host for h in hosts):
                out.append(vs)
        # the VirtualService next to the service wins over others for the same host (like a
        # namespace-local rule would); then by name
        out.sort(key=lambda v: (0 if host != "*" and host.split(".")[1:2] == [v.namespace] else 1, v.name))
        return out if host == "*" else out[:1]

    def target(self, host: str, namespace: str, subset: str = "") -> Target:
        fq = self.resolve(host, namespace)
        svc = self.services.get(fq)
        if svc is not None:
            labels: Mapping[str, str] | None = {}
            if subset:
                labels = self.subset_labels(fq, subset)
                if labels is None:
                    return Target("no-cluster", fq, svc.name, svc.namespace)
            return Target("service", fq, svc.name, svc.namespace, labels, subset)
        entry = self.service_entry(fq)
        if entry is not None:
            if subset and self.subset_labels(fq, subset) is None:
                return Target("no-cluster", fq, fq, entry.namespace)
            return Target("external", fq, fq, entry.namespace)
        if fq.endswith("." + mesh.DOMAIN):  # a mesh service that does not exist
            parts = fq.split(".")
            return Target("no-cluster", fq, parts[0], parts[1])
        return Target("passthrough", fq, PASSTHROUGH, UNKNOWN)

    def authority(self, call: Call) -> str:
        """The host a client names in its requests (their :authority): a service by its short name and the port
        it calls (the service's first when the call names none; none for 80), as the apps call it; an external
        host as it is."""
        if not call.host.endswith("." + mesh.DOMAIN):
            return call.host
        svc = self.services.get(call.host)
        port = call.port or (svc.ports[0][1] if svc is not None and svc.ports else 80)
        short = call.host.split(".")[0]
        return short if port == 80 else f"{short}:{port}"

    def legs(self, client: WorkloadSpec, call: Call, op: Operation) -> list[Leg]:
        """How the requests of one operation split over destinations, with the route's policies."""
        vses = self.virtual_services(client, call.host)
        client_ns = client.namespace
        scope, _ = self.egress_scope(client, call.port or None)
        if scope is not None and call.host != "*":
            vses = [v for v in vses if scope.imports_any(v)]  # a VirtualService for a host not imported is unseen
        if not vses:
            if call.host == "*":
                return [Leg(1.0, Target("no-route"))]
            return [Leg(1.0, self.target(call.host, client_ns))]
        remaining = 1.0
        legs: list[Leg] = []
        labels = mesh.pod_labels(client)
        for vs in vses:
            for route in _list(vs.spec.get("http")):
                route = _dict(route)
                share = remaining * match_share(_list(route.get("match")), op, labels, self.authority(call))
                if share <= 0.0:
                    continue
                remaining -= share
                legs += self._route_legs(route, vs.namespace, share)
                if remaining <= 1e-12:
                    return legs
        if remaining > 1e-12:  # no route matched: Envoy answers 404 NR
            legs.append(Leg(remaining, Target("no-route")))
        return legs

    def _route_legs(self, route: Mapping[str, Any], vs_ns: str, share: float) -> list[Leg]:
        dests = [_dict(d) for d in _list(route.get("route")) if _dict(_dict(d).get("destination")).get("host")]
        if not dests:
            return [Leg(share, Target("no-route"))]
        weights: list[float] = []
        for d in dests:
            try:
                weights.append(max(float(d.get("weight", 0) or 0), 0.0))
            except (TypeError, ValueError):
                weights.append(0.0)
        if sum(weights) <= 0:
            weights = [100.0 if len(dests) == 1 else 1.0] * len(dests)
        total = sum(weights)
        fault = _fault(_dict(route.get("fault")))
        timeout = parse_duration_ms(route.get("timeout"))
        retry = _retry(route.get("retries"))
        mirrors = self._mirrors(route, vs_ns)
        out: list[Leg] = []
        for d, w in zip(dests, weights, strict=True):
            if w <= 0:
                continue
            dest = _dict(d.get("destination"))
            target = self.target(str(dest.get("host")), vs_ns, str(dest.get("subset") or ""))
            out.append(Leg(share * w / total, target, fault, timeout, retry, mirrors))
        return out

    def _mirrors(self, route: Mapping[str, Any], vs_ns: str) -> tuple[tuple[Target, float], ...]:
        """An http route's mirrors: ``mirror`` with ``mirrorPercentage`` (or the old integer ``mirrorPercent``;
        all of the requests when neither is given), and Istio 1.22's ``mirrors`` list, each with its own
        ``percentage``. Only mesh services are simulated as mirrors."""
        found: list[tuple[Any, float]] = []
        if _dict(route.get("mirror")).get("host"):
            if route.get("mirrorPercentage") is not None:
                pct = _positive(_dict(route.get("mirrorPercentage")).get("value")) or 0.0
            elif route.get("mirrorPercent") is not None:
                pct = _positive(route.get("mirrorPercent")) or 0.0
            else:
                pct = 100.0
            found.append((route["mirror"], pct))
        for m in _list(route.get("mirrors")):
            m = _dict(m)
            if _dict(m.get("destination")).get("host"):
                pct = (_positive(_dict(m.get("percentage")).get("value")) or 0.0) \
                    if m.get("percentage") is not None else 100.0
                found.append((m["destination"], pct))
        out: list[tuple[Target, float]] = []
        for dest, pct in found:
            target = self.target(str(dest.get("host")), vs_ns, str(dest.get("subset") or ""))
            if target.kind == "service" and pct > 0:
                out.append((target, min(pct, 100.0) / 100.0))
        return tuple(out)


ROOT_NAMESPACE = "istio-system"


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# what ztunnel can see of a request: the peer's identity, namespace and address, the port (Istio's L4 attributes)
_L7_SOURCE = ("requestPrincipals", "notRequestPrincipals", "remoteIpBlocks", "notRemoteIpBlocks")
_L7_OPERATION = ("hosts", "notHosts", "methods", "notMethods", "paths", "notPaths")
_L4_CONDITIONS = frozenset({"source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"})


def _l4_rule(raw: Any, action: str) -> Mapping[str, Any] | None:
    """A policy rule as ztunnel enforces it. ztunnel reads no HTTP, so a rule naming L7 attributes fails
    safe, as Istio converts it: an ALLOW rule is dropped (it allows nothing), a DENY rule loses its L7
    parts (it denies more). A rule without L7 attributes is kept as it is."""
    rule: Mapping[str, Any] = _dict(raw)
    sources = [_dict(_dict(f).get("source")) for f in _list(rule.get("from"))]
    operations = [_dict(_dict(t).get("operation")) for t in _list(rule.get("to"))]
    conditions = [_dict(c) for c in _list(rule.get("when"))]
    l7 = (any(k in src for src in sources for k in _L7_SOURCE) or any(k in o for o in operations for k in _L7_OPERATION)
          or any(str(c.get("key") or "") not in _L4_CONDITIONS for c in conditions))
    if not l7:
        return rule
    if action != "DENY":
        return None
    return {
        "from": [{"source": {k: v for k, v in src.items() if k not in _L7_SOURCE}} for src in sources],
        "to": [{"operation": {k: v for k, v in o.items() if k not in _L7_OPERATION}} for o in operations],
        "when": [c for c in conditions if str(c.get("key") or "") in _L4_CONDITIONS],
    }


def _values_match(patterns: Any, value: str) -> bool:
    """Istio's string match in policies: exact, ``prefix*``, ``*suffix`` or ``*``."""
    for p in _list(patterns):
        p = str(p)
        if p == "*" or p == value or (p.endswith("*") and value.startswith(p[:-1])) \
                or (p.startswith("*") and value.endswith(p[1:])):
            return True
    return False


def _rule_matches(rule: Any, client: WorkloadSpec, op: Operation, port: int, mtls: bool, ip: str = "") -> bool:
    rule = _dict(rule)
    principal = client.principal if mtls else ""
    namespace = client.namespace if mtls else ""
    sources = [_dict(_dict(f).get("source")) for f in _list(rule.get("from"))]
    if sources and not any(_source_matches(src, principal, namespace, ip) for src in sources):
        return False
    operations = [_dict(_dict(t).get("operation")) for t in _list(rule.get("to"))]
    if operations and not any(_operation_matches(o, op, port) for o in operations):
        return False
    return _conditions_match(_list(rule.get("when")), principal, namespace, port, ip)


def _in_blocks(blocks: Any, ip: str) -> bool:
    """Whether ``ip`` is in one of the IP blocks (an address or a CIDR range; one that is neither
    matches nothing)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for block in _list(blocks):
        try:
            if address in ipaddress.ip_network(str(block).strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def _conditions_match(conditions: list[Any], principal: str, namespace: str, port: int, ip: str = "") -> bool:
    """A rule's ``when``: every condition must hold. The demo knows the client's identity (with mTLS), its
    address and the port; its requests carry no JWT and no header a policy would name, so those
    attributes are absent (their values never match, their notValues always do). An attribute it does
    not model is taken to hold."""
    known = {"source.principal": principal, "source.namespace": namespace, "destination.port": str(port)}
    for cond in conditions:
        cond = _dict(cond)
        key = str(cond.get("key") or "")
        values, not_values = _list(cond.get("values")), _list(cond.get("notValues"))
        if key in ("source.ip", "remote.ip"):
            if values and not _in_blocks(values, ip):
                return False
            if not_values and _in_blocks(not_values, ip):
                return False
            continue
        if key in known:
            value = known[key]
        elif key.startswith(("request.headers[", "request.auth.")):
            value = ""
        else:
            continue
        if values and not (value and _values_match(values, value)):
            return False
        if not_values and value and _values_match(not_values, value):
            return False
    return True


def _source_matches(src: Mapping[str, Any], principal: str, namespace: str, ip: str = "") -> bool:
    checks = (("principals", "notPrincipals", principal), ("namespaces", "notNamespaces", namespace))
    for yes, no, value in checks:
        if src.get(yes) is not None and not (value and _values_match(src[yes], value)):
            return False
        if src.get(no) is not None and value and _values_match(src[no], value):
            return False
    # the client's address, as the proxy sees it (in the mesh, also the original client's)
    for yes, no in (("ipBlocks", "notIpBlocks"), ("remoteIpBlocks", "notRemoteIpBlocks")):
        if src.get(yes) is not None and not _in_blocks(src[yes], ip):
            return False
        if src.get(no) is not None and _in_blocks(src[no], ip):
            return False
    # no request carries a JWT in the demo
    return src.get("requestPrincipals") is None


def _operation_matches(o: Mapping[str, Any], op: Operation, port: int) -> bool:
    checks = (("methods", "notMethods", op.method), ("paths", "notPaths", op.path), ("ports", "notPorts", str(port)))
    for yes, no, value in checks:
        if o.get(yes) is not None and not _values_match(o[yes], value):
            return False
        if o.get(no) is not None and _values_match(o[no], value):
            return False
    return True


def _fault(spec: Mapping[str, Any]) -> Fault:
    abort, delay = _dict(spec.get("abort")), _dict(spec.get("delay"))
    kw: dict[str, Any] = {}
    if abort:
        kw["abort_share"] = percentage(abort)
        if abort.get("grpcStatus") is not None:
            status = str(abort["grpcStatus"]).upper()
            kw["abort_grpc"] = _GRPC_STATUS.get(status, status if status.isdigit() else "2")
            kw["abort_code"] = "200"
        else:
            kw["abort_code"] = str(abort.get("httpStatus") or "503")
    if delay:
        ms = parse_duration_ms(delay.get("fixedDelay"))
        if ms:
            kw["delay_share"] = percentage(delay)
            kw["delay_ms"] = ms
    return Fault(**kw)


def _retry(spec: Any) -> RetryPolicy:
    if not isinstance(spec, Mapping):
        return RetryPolicy()
    try:
        attempts = max(0, int(spec.get("attempts", DEFAULT_RETRY_ATTEMPTS)))
    except (TypeError, ValueError):
        attempts = DEFAULT_RETRY_ATTEMPTS
    on = spec.get("retryOn")
    retry_on = frozenset(p.strip() for p in on.split(",")) if isinstance(on, str) and on else DEFAULT_RETRY_ON
    return RetryPolicy(attempts, retry_on)


def match_share(conditions: list[Any], op: Operation, client_labels: Mapping[str, str],
                authority: str | None = None) -> float:
    """Share of an operation's requests a route's ``match`` catches. Paths and methods are known
    exactly, the scheme is http (the apps call each other in plain HTTP, their sidecars adding mTLS) and the
    ``authority`` is the host the client names (None: not known, not judged); a header condition (a
    logged-in user, a canary cookie) is taken to catch a tenth."""
    if not conditions:
        return 1.0
    best = 0.0
    for cond in conditions:
        cond = _dict(cond)
        share = 1.0
        if cond.get("uri") is not None and not _string_match(_dict(cond.get("uri")), op.path):
            continue
        if cond.get("method") is not None and not _string_match(_dict(cond.get("method")), op.method):
            continue
        if cond.get("scheme") is not None and not _string_match(_dict(cond.get("scheme")), "http"):
            continue
        if cond.get("authority") is not None and authority is not None and \
                not _string_match(_dict(cond.get("authority")), authority):
            continue
        src = _dict(cond.get("sourceLabels"))
        if src and not all(client_labels.get(str(k)) == str(v) for k, v in src.items()):
            continue
        for _ in _dict(cond.get("headers")):
            share *= 0.1
        for _ in _dict(cond.get("queryParams")):
            share *= 0.1
        best = max(best, share)
    return best


def _string_match(m: Mapping[str, Any], value: str) -> bool:
    if "exact" in m:
        return value == str(m["exact"])
    if "prefix" in m:
        return value.startswith(str(m["prefix"]))
    if "regex" in m:
        try:
            return re.fullmatch(str(m["regex"]), value) is not None
        except re.error:
            return False
    return True


# -- the simulation ----------------------------------------------------------------------------------------


def _src_labels(spec: WorkloadSpec) -> dict[str, str]:
    """Who sent a request, as proxies report it. A client without a sidecar takes part in no peer
    metadata exchange, so the server's proxy knows nothing about it."""
    if not has_proxy(spec):
        return {"source_workload": UNKNOWN, "source_workload_namespace": UNKNOWN,
                "source_canonical_service": UNKNOWN, "source_canonical_revision": UNKNOWN,
                "source_cluster": UNKNOWN}
    return {
        "source_workload": spec.name,
        "source_workload_namespace": spec.namespace,
        "source_canonical_service": spec.app,
        "source_canonical_revision": spec.version or "latest",
        "source_cluster": mesh.CLUSTER,
    }


def _workload_labels(spec: WorkloadSpec, side: str) -> dict[str, str]:
    """A workload's identity labels on one side of a series (``side``: "source" or "destination");
    ambient workloads have an identity without a sidecar (ztunnel and the waypoint know it)."""
    return {
        f"{side}_workload": spec.name,
        f"{side}_workload_namespace": spec.namespace,
        f"{side}_canonical_service": spec.app,
        f"{side}_canonical_revision": spec.version or "latest",
        f"{side}_cluster": mesh.CLUSTER,
    }


def _dest_labels(target: Target, workload: WorkloadSpec | None, host_known: bool = True) -> dict[str, str]:
    """Where a request went, as the proxies label it. Through PassthroughCluster the service is the
    cluster's name and ``destination_service`` the host the client asked for, when the proxy knows it
    (an HTTP request's Host; not plain TCP's)."""
    if target.kind == "no-route":
        service, name, ns = UNKNOWN, UNKNOWN, UNKNOWN
    elif target.kind in ("passthrough", "unimported", "blackhole"):
        cluster = BLACKHOLE if target.kind == "blackhole" else PASSTHROUGH
        service, name, ns = (target.host or cluster) if host_known else cluster, cluster, UNKNOWN
    else:
        service, name, ns = target.host, target.service, target.service_namespace
    out = {
        "destination_service": service,
        "destination_service_name": name,
        "destination_service_namespace": ns,
    }
    if workload is None:
        out.update(destination_workload=UNKNOWN, destination_workload_namespace=UNKNOWN,
                   destination_canonical_service=UNKNOWN, destination_canonical_revision=UNKNOWN,
                   destination_cluster=UNKNOWN)
    else:
        out.update(destination_workload=workload.name, destination_workload_namespace=workload.namespace,
                   destination_canonical_service=workload.app,
                   destination_canonical_revision=workload.version or "latest",
                   destination_cluster=mesh.CLUSTER)
    return out


def has_proxy(spec: WorkloadSpec) -> bool:
    return spec.sidecar or spec.name == "istio-ingressgateway"


@dataclass
class _Acc:
    """Samples being added up over the window's time points."""

    weight: float
    counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)
    # (metric, labels) -> [sum of rate*stat per stat, sum of rate]
    latency: dict[tuple[tuple[str, str], ...], list[float]] = field(default_factory=dict)

    def add(self, metric: str, labels: Mapping[str, str], value: float) -> None:
        if value <= 0.0:
            return
        key = (metric, tuple(sorted(labels.items())))
        self.counters[key] = self.counters.get(key, 0.0) + value * self.weight

    def add_latency(self, labels: Mapping[str, str], rate: float, dist: Latency) -> None:
        if rate <= 0.0:
            return
        key = tuple(sorted(labels.items()))
        acc = self.latency.setdefault(key, [0.0, 0.0, 0.0, 0.0, 0.0])
        for i, v in enumerate((dist.mean, dist.p50, dist.p95, dist.p99)):
            acc[i] += rate * v
        acc[4] += rate


class Simulation:
    """One evaluation of the mesh at time ``t``."""

    def __init__(self, config: Config, seed: int, t: float, acc: _Acc) -> None:
        self.config = config
        self.seed = seed
        self.t = t
        self.acc = acc
        self._latency: dict[tuple[str, str], Latency] = {}
        self._visiting: set[tuple[str, str]] = set()
        self._legs = config.routes  # (the config's: the same at every moment)

    # behaviour at time t --------------------------------------------------------------------------
    def behaviour(self, key: tuple[str, str]) -> Behaviour:
        return mesh.BEHAVIOURS.get(key) or Behaviour(10.0)

    def burst(self, key: tuple[str, str]) -> float:
        return burst(self.seed, "/".join(key), self.t, self.behaviour(key).burst_chance)

    def failures(self, key: tuple[str, str]) -> list[Failure]:
        b = self.behaviour(key)
        intensity = self.burst(key)
        wobble = 1.0 + 0.3 * smooth_noise(self.seed, "err/" + "/".join(key), self.t, 240.0)
        out = [Failure(f.code, f.share * wobble, f.flags, f.grpc_status, f.source_only, f.retriable)
               for f in b.failures]
        if intensity > 0:
            out += [Failure(f.code, f.share * intensity, f.flags, f.grpc_status, f.source_only, f.retriable)
                    for f in b.burst]
        total = sum(f.share for f in out)
        if total > 0.95:  # keep at least a few successes
            out = [Failure(f.code, f.share * 0.95 / total, f.flags, f.grpc_status, f.source_only, f.retriable)
                   for f in out]
        return out

    def legs(self, index: int, call: Call, op: Operation) -> list[Leg]:
        key = (index, op.label)
        if key not in self._legs:
            client = self.config.specs[call.client]
            if has_proxy(client) or client.namespace in mesh.AMBIENT_NAMESPACES:  # a waypoint routes too
                self._legs[key] = self.config.through_sidecar(client, call.host, self.config.legs(client, call, op),
                                                              call.port or None)
            else:  # no proxy, no Istio routing: kube-proxy spreads the requests over the service's pods
                self._legs[key] = [Leg(1.0, self.config.target(call.host, client.namespace), retry=RetryPolicy(0))]
        return self._legs[key]

    # latency -------------------------------------------------------------------------------------
    def server_latency(self, key: tuple[str, str]) -> Latency:
        """How long a server takes to answer, including the backends it calls for each request."""
        cached = self._latency.get(key)
        if cached is not None:
            return cached
        b = self.behaviour(key)
        slow = 1.0 + (b.burst_latency - 1.0) * self.burst(key)
        slow *= 1.0 + 0.08 * smooth_noise(self.seed, "lat/" + "/".join(key), self.t, 60.0)
        dist = Latency.lognormal(b.median_ms * slow, b.sigma)
        if key in self._visiting:  # a routing loop made by the user: stop adding up
            return dist
        self._visiting.add(key)
        for index, call in enumerate(mesh.CALLS):
            if call.client != key or call.per_request <= 0:
                continue
            observed = self.client_latency(index, call)
            if observed is not None:
                dist = dist.plus(observed, min(call.per_request, 1.0))
        self._visiting.discard(key)
        self._latency[key] = dist
        return dist

    def client_latency(self, index: int, call: Call) -> Latency | None:
        parts: list[tuple[float, Latency]] = []
        for op in call.operations or (Operation("", "", 1.0),):
            for leg in self.legs(index, call, op):
                for weight, dist in self.leg_latencies(leg):
                    parts.append((op.share * weight, dist))
        return mix(parts)

    def endpoints(self, target: Target) -> list[tuple[WorkloadSpec, float]]:
        """The workloads behind a mesh service (and subset), each with its share of the traffic."""
        try:
            key = (target.host, frozenset((target.subset_labels or {}).items()))
            found = self.config.endpoint_shares.get(key)
        except TypeError:  # a subset's label given a value that is no string (a list, a mapping)
            return self._endpoints(target)
        if found is None:
            found = self.config.endpoint_shares[key] = self._endpoints(target)
        return found

    def _endpoints(self, target: Target) -> list[tuple[WorkloadSpec, float]]:
        svc = self.config.services.get(target.host)
        if svc is None:
            return []
        selector = dict(svc.selector) | dict(target.subset_labels or {})
        found = [w for w in self.config.specs.values() if w.namespace == svc.namespace
                 and all(mesh.pod_labels(w).get(k) == v for k, v in selector.items()) and w.replicas > 0]
        total = sum(w.replicas for w in found)
        return [(w, w.replicas / total) for w in found]

    def leg_latencies(self, leg: Leg) -> list[tuple[float, Latency]]:
        """Latency the client sees on a leg, per endpoint share (fault delay and timeout applied)."""
        if leg.target.kind in ("service", "external", "unimported"):
            if leg.target.kind != "external":
                ends = [(share, self.server_latency((w.namespace, w.name))) for w, share in self.endpoints(leg.target)]
            else:
                ends = [(1.0, self.server_latency(("", leg.target.host)).shifted(25.0))]
            out = []
            for share, dist in ends:
                # the route's timeout cuts the upstream's time; a delay fault holds requests before that
                seen = dist.shifted(0.8)
                if leg.timeout_ms:
                    seen = seen.capped(leg.timeout_ms)
                seen = seen.delayed(leg.fault.delay_share, leg.fault.delay_ms)
                out.append((leg.share * share * (1.0 - leg.fault.abort_share), seen))
            if leg.fault.abort_share > 0:
                out.append((leg.share * leg.fault.abort_share, Latency.fixed(0.3)))
            if out:
                return out
        if leg.target.kind == "passthrough":
            return [(leg.share, Latency.lognormal(160.0, 0.5))]
        return [(leg.share, Latency.fixed(0.4))]

    # traffic -------------------------------------------------------------------------------------
    def run(self, cancelled: Callable[[], bool] | None = None) -> None:
        inbound: dict[tuple[str, str], float] = {}
        for index, call in self._ordered_calls():
            if cancelled is not None and cancelled():
                raise Cancelled("the demo snapshot was cancelled")
            if call.base_rps > 0:
                rate = call.base_rps * user_load(self.seed, self.t)
                if call.client != mesh.GATEWAY:  # a curl loop does not follow the shoppers
                    rate = call.base_rps * (1.0 + 0.05 * smooth_noise(self.seed, "loop", self.t, 45.0))
            else:
                rate = inbound.get(call.client, 0.0) * call.per_request
            rate *= 1.0 + 0.04 * smooth_noise(self.seed, f"call/{index}", self.t, 75.0)
            if rate <= 0:
                continue
            if call.protocol == TCP:
                self._tcp(index, call, rate)
                continue
            for op in call.operations:
                for leg in self.legs(index, call, op):
                    self._leg(call, op, leg, rate * op.share * leg.share, inbound)
                    for mirror, share in leg.mirrors:
                        self._mirror(call, op, mirror, rate * op.share * leg.share * (1.0 - leg.fault.abort_share)
                                     * share, inbound)

    def _ordered_calls(self) -> list[tuple[int, Call]]:
        """Calls ordered so that every server's incoming rate is complete before its own calls go out:
        a topological order of the workloads as the current routing connects them (a loop the user
        made is cut where it closes). The config's own (the same at every moment)."""
        if self.config.call_order is None:
            self.config.call_order = self._call_order()
        return self.config.call_order

    def _call_order(self) -> list[tuple[int, Call]]:
        calls = list(enumerate(mesh.CALLS))
        reaches: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for index, call in calls:
            servers = reaches.setdefault(call.client, set())
            for op in call.operations or (Operation("", "", 1.0),):
                for leg in self.legs(index, call, op):
                    if leg.target.kind in ("service", "unimported"):
                        servers.update((w.namespace, w.name) for w, _ in self.endpoints(leg.target))
                    for mirror, _ in leg.mirrors:  # a mirror's copies are its requests too, before its own calls
                        servers.update((w.namespace, w.name) for w, _ in self.endpoints(mirror))
        rank: dict[tuple[str, str], int] = {}
        visiting: set[tuple[str, str]] = set()

        def visit(node: tuple[str, str]) -> int:
            if node in rank:
                return rank[node]
            if node in visiting:
                return 0
            visiting.add(node)
            callers = [c for c, servers in reaches.items() if node in servers and c != node]
            rank[node] = 1 + max((visit(c) for c in callers), default=-1)
            visiting.discard(node)
            return rank[node]

        return sorted(calls, key=lambda ic: (visit(ic[1].client), ic[0]))

    def _leg(self, call: Call, op: Operation, leg: Leg, rate: float, inbound: dict[tuple[str, str], float]) -> None:
        client = self.config.specs[call.client]
        if client.namespace in mesh.AMBIENT_NAMESPACES:
            self._ambient_leg(call, op, leg, rate, inbound, client)
            return
        src = _src_labels(client)
        client_proxy = has_proxy(client)
        grpc = call.protocol == GRPC
        target = leg.target

        def report(dest: dict[str, str], reporter: str, code: str, flags: str, grpc_status: str, value: float,
                   security: str, source: Mapping[str, str] = src) -> None:
            if reporter == "source" and not client_proxy:
                return
            labels = {**source, **dest, "request_protocol": call.protocol, "response_code": code,
                      "response_flags": flags, "reporter": reporter, "connection_security_policy": security}
            if grpc:
                labels["grpc_response_status"] = grpc_status or _GRPC_FOR_HTTP.get(code, "0" if code == "200" else "2")
            if op.label.strip():
                labels["request_operation"] = op.label
            self.acc.add(tm.REQUESTS, labels, value)

        def edge_stats(dest: dict[str, str], reporter: str, requests: float, ok: float, dist: Latency,
                       source: Mapping[str, str] = src) -> None:
            if reporter == "source" and not client_proxy:
                return
            labels = {**source, **dest, "request_protocol": call.protocol, "reporter": reporter}
            self.acc.add_latency(labels, requests, dist)
            self.acc.add(tm.REQUEST_BYTES, {**labels, tm.STAT_LABEL: "rate"}, requests * call.request_bytes)
            self.acc.add(tm.RESPONSE_BYTES, {**labels, tm.STAT_LABEL: "rate"},
                         ok * call.response_bytes + (requests - ok) * 90.0)
            if grpc:
                self.acc.add(tm.REQUEST_MESSAGES, dict(labels), requests)
                self.acc.add(tm.RESPONSE_MESSAGES, dict(labels), ok * call.response_messages)

        if not client_proxy and target.kind != "service":
            return  # only a server's proxy could tell, and there is none on this path

        unrouted = Latency.fixed(0.4)
        aborted = rate * leg.fault.abort_share
        if aborted > 0:
            dest = _dest_labels(target, None)
            report(dest, "source", leg.fault.abort_code, "FI", leg.fault.abort_grpc, aborted, UNKNOWN)
            edge_stats(dest, "source", aborted, 0.0, Latency.fixed(0.3))
        sent = rate - aborted
        if sent <= 0:
            return
        if target.kind in ("no-route", "no-cluster"):
            code, flags = ("404", "NR") if target.kind == "no-route" else ("503", "NC")
            dest = _dest_labels(target, None)
            report(dest, "source", code, flags, "", sent, UNKNOWN)
            edge_stats(dest, "source", sent, 0.0, unrouted)
            return
        if target.kind == "blackhole":
            # outboundTrafficPolicy REGISTRY_ONLY: the client's proxy answers 502 itself
            dest = _dest_labels(target, None)
            report(dest, "source", "502", "-", "", sent, UNKNOWN)
            edge_stats(dest, "source", sent, 0.0, unrouted)
            return
        if target.kind == "unimported":
            # a mesh service the client's Sidecar does not import: its proxy sends the request through
            # PassthroughCluster, as plain text to the service's address. It reports the request to
            # PassthroughCluster; the server's proxy (which a STRICT one refuses) sees a client it cannot name.
            through = _dest_labels(target, None)
            nameless = {k: UNKNOWN for k in src}

            def via_report(dest: dict[str, str], reporter: str, code: str, flags: str, grpc_status: str, value: float,
                           security: str) -> None:
                if reporter == "source":
                    report(through, reporter, code, flags, grpc_status, value, security)
                else:
                    report(dest, reporter, code, flags, grpc_status, value, security, nameless)

            def via_stats(dest: dict[str, str], reporter: str, requests: float, ok: float, dist: Latency) -> None:
                if reporter == "source":
                    edge_stats(through, reporter, requests, ok, dist)
                else:
                    edge_stats(dest, reporter, requests, ok, dist, nameless)

            for server, share in self.endpoints(target):
                self._endpoint(call, op, leg, server, (server.namespace, server.name), sent * share, via_report,
                               via_stats, inbound, client)
            return
        if target.kind == "passthrough":
            dest = _dest_labels(target, None)
            # plain HTTP to an unknown host still works (outboundTrafficPolicy ALLOW_ANY)
            report(dest, "source", "200", "-", "", sent, UNKNOWN)
            edge_stats(dest, "source", sent, sent, Latency.lognormal(160.0, 0.5))
            return
        if target.kind == "external":
            ends: list[tuple[WorkloadSpec | None, float, tuple[str, str]]] = [(None, 1.0, ("", target.host))]
        else:
            ends = [(w, share, (w.namespace, w.name)) for w, share in self.endpoints(target)]
            if not ends:  # a subset that selects no pod: no healthy upstream
                dest = _dest_labels(target, None)
                report(dest, "source", "503", "UH", "", sent, UNKNOWN)
                edge_stats(dest, "source", sent, 0.0, unrouted)
                return
        for workload, share, key in ends:
            self._endpoint(call, op, leg, workload, key, sent * share, report, edge_stats, inbound, client)

    def _endpoint(self, call: Call, op: Operation, leg: Leg, workload: WorkloadSpec | None, key: tuple[str, str],
                  rate: float, report: Callable[..., None], edge_stats: Callable[..., None],
                  inbound: dict[tuple[str, str], float], client: WorkloadSpec) -> None:
        unimported = leg.target.kind == "unimported"  # through PassthroughCluster: no DestinationRule, no mTLS
        dest = _dest_labels(Target("service", leg.target.host, leg.target.service, leg.target.service_namespace)
                            if unimported else leg.target, workload)
        server_proxy = workload is not None and has_proxy(workload)
        port = self._server_port(call, leg.target)
        held = leg.fault.delay_share if leg.fault.delay_ms > 0 else 0.0  # requests a delay fault holds

        # what the client's proxy reports, the held share saying DI
        client_report = partial(report_held, lambda c, f, g, v: report(dest, "source", c, f, g, v, UNKNOWN), held)

        if server_proxy and workload is not None and not has_proxy(client) and self.config.strict(workload, port):
            return  # plaintext refused by a STRICT server: nobody reports a request
        plaintext = unimported or str(_dict(self.config.traffic_policy(leg.target.host, leg.target.subset).get("tls"))
                                      .get("mode") or "").upper() == "DISABLE"  # a DestinationRule turning mTLS off
        if plaintext and server_proxy and workload is not None and self.config.strict(workload, port):
            # the server only takes mutual TLS: its proxy closes the plain-text connection before a request
            # is read, and the client's proxy answers 503 UC (upstream connection termination) itself; a
            # retry policy that retries resets tries again, to the same end, and says URX (retries exhausted)
            # (Envoy retries a reset under 5xx, gateway-error and reset; not under connect-failure, which
            # is about the connection not being made)
            retried = leg.retry.attempts > 0 and bool({"5xx", "gateway-error", "reset"} & leg.retry.retry_on)
            client_report("503", "URX" if retried else "UC", "", rate)
            edge_stats(dest, "source", rate, 0.0, Latency.fixed(1.5 * (1 + (leg.retry.attempts if retried else 0)))
                       .delayed(leg.fault.delay_share, leg.fault.delay_ms))
            return
        mtls = (has_proxy(client) and server_proxy and workload is not None and not plaintext
                and self.config.mtls(workload, port))
        security = "mutual_tls" if mtls else "none"
        refused = self.config.denial(client, workload, op, call.port, mtls, self.seed) \
            if workload is not None and server_proxy else ""
        if refused:
            # the server's proxy answers 403 itself (its RBAC or its external authorizer); the application
            # never sees the request
            client_report("403", "-", "", rate)
            report(dest, "destination", "403", refused, "", rate, security)
            edge_stats(dest, "source", rate, 0.0, Latency.fixed(2.0).delayed(leg.fault.delay_share, leg.fault.delay_ms))
            edge_stats(dest, "destination", rate, 0.0, Latency.fixed(1.0))
            return
        server_dist = self.server_latency(key)
        # the time upstream as the client's proxy sees it; Envoy's route timeout counts this alone (it starts
        # when the request is routed), and a connection is held this long; a delay fault holds requests
        # before they are routed, on top of it
        upstream = server_dist.shifted(0.8 if workload is not None else 25.8)
        failures = self.failures(key)
        capacity = self.config.pool_capacity(leg.target) if workload is not None and not unimported else None
        if capacity is not None:
            busy = upstream.capped(leg.timeout_ms) if leg.timeout_ms else upstream
            overflow = overflow_share(rate * busy.mean / 1000.0, capacity)
            if overflow > 0:  # the client's proxy turns the excess away: 503 UO, never sent
                failures = [Failure(f.code, f.share * (1.0 - overflow), f.flags, f.grpc_status, f.source_only,
                                    f.retriable) for f in failures]
                failures.append(Failure("503", overflow, "UO", source_only=True))
        retry = leg.retry
        p_retry = sum(f.share for f in failures if retry.retries(f))
        attempts = sum(p_retry**k for k in range(retry.attempts + 1))
        ok_share = max(0.0, 1.0 - sum(f.share for f in failures))
        timed_out = 0.0
        client_dist = upstream
        if leg.timeout_ms:
            timed_out = upstream.tail(leg.timeout_ms)
            client_dist = upstream.capped(leg.timeout_ms)
        client_dist = client_dist.delayed(leg.fault.delay_share, leg.fault.delay_ms)
        # what the client's proxy sees: one outcome per request, after retries (the held ones say DI)
        ok = rate * ok_share * attempts
        client_report("200", "-", "", ok * (1.0 - timed_out))
        if timed_out > 0:
            client_report("504", "UT", "4", ok * timed_out)
        for f in failures:
            if retry.retries(f):
                final = rate * f.share * p_retry**retry.attempts
                flags = "URX" if retry.attempts > 0 else f.flags
            else:
                final = rate * f.share * attempts
                flags = f.flags
            client_report(f.code, flags, f.grpc_status, final)
        source_ok = ok * (1.0 - timed_out)
        edge_stats(dest, "source", rate, source_ok, client_dist)
        if workload is None:
            return
        # what reached the server: every attempt except connect failures
        reached = rate * attempts * (1.0 - sum(f.share for f in failures if f.source_only))
        inbound[key] = inbound.get(key, 0.0) + reached
        if not server_proxy:
            return
        report(dest, "destination", "200", "-", "", ok * (1.0 - timed_out), security)
        if timed_out > 0:
            # the client's proxy gave up and reset the request: the server's proxy, which had not answered
            # yet, reports no response code and a downstream termination
            report(dest, "destination", "0", "DC", "", ok * timed_out, security)
        for f in failures:
            if not f.source_only:
                report(dest, "destination", f.code, f.flags, f.grpc_status, rate * attempts * f.share, security)
        edge_stats(dest, "destination", reached, ok * (1.0 - timed_out), server_dist.shifted(0.3))

    def _mirror(self, call: Call, op: Operation, target: Target, rate: float,
                inbound: dict[tuple[str, str], float]) -> None:
        """Copies of ``rate`` requests a route mirrors to ``target``: the client's proxy sends them and forgets
        them (its own reports and its caller's answers know nothing of them); the mirror's proxy reports them
        as requests from the client, and the mirror's application serves them, calling its backends as for any
        request."""
        client = self.config.specs[call.client]
        if rate <= 0 or not has_proxy(client) or client.namespace in mesh.AMBIENT_NAMESPACES:
            return  # only a sidecar mirrors here (a waypoint's mirrors are not simulated)
        src = _src_labels(client)
        for workload, share in self.endpoints(target):
            copies = rate * share
            key = (workload.namespace, workload.name)
            dest = _dest_labels(target, workload)
            port = self._server_port(call, target)
            server_proxy = has_proxy(workload)
            plaintext = str(_dict(self.config.traffic_policy(target.host, target.subset).get("tls"))
                            .get("mode") or "").upper() == "DISABLE"
            if plaintext and server_proxy and self.config.strict(workload, port):
                continue  # refused before a request is read: nobody reports it
            mtls = server_proxy and not plaintext and self.config.mtls(workload, port)
            security = "mutual_tls" if mtls else "none"

            refused = self.config.denial(client, workload, op, call.port, mtls, self.seed) if server_proxy else ""
            outcomes: list[tuple[str, str, str, float]] = [("403", refused, "", copies)]
            ok = 0.0
            if not refused:
                failures = [f for f in self.failures(key) if not f.source_only]
                ok = copies * max(0.0, 1.0 - sum(f.share for f in failures))
                outcomes = [("200", "-", "", ok)] + [(f.code, f.flags, f.grpc_status, copies * f.share)
                                                     for f in failures]
                inbound[key] = inbound.get(key, 0.0) + copies  # the application serves the copies
            if not server_proxy:
                continue
            for code, flags, grpc_status, value in outcomes:
                labels = {**src, **dest, "request_protocol": call.protocol, "response_code": code,
                          "response_flags": flags, "reporter": "destination", "connection_security_policy": security}
                if call.protocol == GRPC:
                    labels["grpc_response_status"] = grpc_status or _GRPC_FOR_HTTP.get(code, "0" if code == "200"
                                                                                       else "2")
                if op.label.strip():
                    labels["request_operation"] = op.label
                self.acc.add(tm.REQUESTS, labels, value)
            labels = {**src, **dest, "request_protocol": call.protocol, "reporter": "destination"}
            self.acc.add_latency(labels, copies, self.server_latency(key).shifted(0.3) if not refused
                                 else Latency.fixed(1.0))
            self.acc.add(tm.REQUEST_BYTES, {**labels, tm.STAT_LABEL: "rate"}, copies * call.request_bytes)
            self.acc.add(tm.RESPONSE_BYTES, {**labels, tm.STAT_LABEL: "rate"},
                         ok * call.response_bytes + (copies - ok) * 90.0)

    def _server_port(self, call: Call, target: Target) -> int | None:
        """The port a call reaches the server on: the call's, else the service's first (None: not known)."""
        if call.port:
            return call.port
        svc = self.config.services.get(target.host)
        return svc.ports[0][1] if svc is not None and svc.ports else None

    def _ambient_leg(self, call: Call, op: Operation, leg: Leg, rate: float, inbound: dict[tuple[str, str], float],
                     client: WorkloadSpec) -> None:
        """Requests of an ambient client: its waypoint routes them (faults and timeouts as a sidecar would
        apply them; no retries) and reports each once, and ztunnel carries both hops as TCP."""
        target = leg.target
        if target.kind != "service":
            return  # ambient egress is not simulated
        src = _workload_labels(client, "source")
        grpc = call.protocol == GRPC
        for workload, share in self.endpoints(target):
            waypoint = self.config.waypoint_for(workload)
            if waypoint is None:
                continue  # a sidecar server behind an ambient client: not simulated
            key = (workload.namespace, workload.name)
            r = rate * share
            dest = _dest_labels(target, workload)

            def report(code: str, flags: str, grpc_status: str, value: float, dest: dict[str, str] = dest) -> None:
                labels = {**src, **dest, "request_protocol": call.protocol, "response_code": code,
                          "response_flags": flags, "reporter": "waypoint", "connection_security_policy": "mutual_tls"}
                if grpc:
                    labels["grpc_response_status"] = grpc_status or ("0" if code == "200" else "2")
                if op.label.strip():
                    labels["request_operation"] = op.label
                self.acc.add(tm.REQUESTS, labels, value)

            held = leg.fault.delay_share if leg.fault.delay_ms > 0 else 0.0

            # the waypoint applies a delay fault as a sidecar would: the held requests say DI
            waypoint_report = partial(report_held, report, held)

            port = self._server_port(call, target) or 0
            refused = self.config.denial(client, workload, op, port, True, self.seed, enforcer="waypoint")
            if refused:
                # a policy attached to the waypoint denies: the waypoint answers 403 itself (before any fault)
                report("403", refused, "", r)
                self._ambient_stats(call, src, dest, r, 0.0, Latency.fixed(1.0))
                self._ztunnel_hop(src, {**_dest_labels(target, waypoint), "destination_canonical_service": waypoint.app},
                                  r, call.request_bytes, 90.0)
                continue
            aborted = r * leg.fault.abort_share
            if aborted > 0:
                report(leg.fault.abort_code, "FI", leg.fault.abort_grpc, aborted)
            sent = r - aborted
            if sent <= 0:
                continue
            via = {**_dest_labels(target, waypoint), "destination_canonical_service": waypoint.app}
            if not self.config.authorized(waypoint, workload, op, port, True, self.seed, enforcer="ztunnel"):
                # the server's ztunnel refuses the waypoint's connection (it sees the waypoint's identity, not
                # the client's): it reports the connection denied, with no bytes, and the waypoint answers the
                # request with an upstream connection failure
                waypoint_report("503", "UF", "14" if grpc else "", sent)
                self._ambient_stats(call, src, dest, sent, 0.0, Latency.fixed(1.5))
                self._ztunnel_hop(src, via, sent, call.request_bytes, 90.0)
                tcp = {**_workload_labels(waypoint, "source"), **dest, "request_protocol": TCP, "response_flags": "DENY",
                       "reporter": "destination", "connection_security_policy": "mutual_tls", "app": "ztunnel"}
                self.acc.add(tm.TCP_OPENED, tcp, 0.02 + 0.01 * sent)
                self.acc.add(tm.TCP_CLOSED, tcp, 0.02 + 0.01 * sent)
                continue
            upstream = self.server_latency(key).shifted(0.6)
            timed_out = 0.0
            dist = upstream
            if leg.timeout_ms:  # the timeout counts the upstream's time, after a delay fault held the request
                timed_out = upstream.tail(leg.timeout_ms)
                dist = upstream.capped(leg.timeout_ms)
            dist = dist.delayed(leg.fault.delay_share, leg.fault.delay_ms)
            failures = self.failures(key)
            ok = sent * max(0.0, 1.0 - sum(f.share for f in failures))
            waypoint_report("200", "-", "", ok * (1.0 - timed_out))
            if timed_out > 0:
                waypoint_report("504", "UT", "4", ok * timed_out)
            for f in failures:
                waypoint_report(f.code, f.flags, f.grpc_status, sent * f.share)
            self._ambient_stats(call, src, dest, sent, ok, dist)
            inbound[key] = inbound.get(key, 0.0) + sent * (1.0 - sum(f.share for f in failures if f.source_only))
            # ztunnel: client -> waypoint (addressed to the real service), then waypoint -> server
            for hop_src, hop_dst in ((src, via), (_workload_labels(waypoint, "source"), dest)):
                self._ztunnel_hop(hop_src, hop_dst, sent, call.request_bytes, call.response_bytes)

    def _ambient_stats(self, call: Call, src: Mapping[str, str], dest: Mapping[str, str], requests: float, ok: float,
                       dist: Latency) -> None:
        """The waypoint's latency and size series for requests it handled (``ok`` of them answered in full)."""
        labels = {**src, **dest, "request_protocol": call.protocol, "reporter": "waypoint"}
        self.acc.add_latency(labels, requests, dist)
        self.acc.add(tm.REQUEST_BYTES, {**labels, tm.STAT_LABEL: "rate"}, requests * call.request_bytes)
        self.acc.add(tm.RESPONSE_BYTES, {**labels, tm.STAT_LABEL: "rate"},
                     ok * call.response_bytes + (requests - ok) * 90.0)

    def _ztunnel_hop(self, hop_src: Mapping[str, str], hop_dst: Mapping[str, str], requests: float,
                     request_bytes: float, response_bytes: float) -> None:
        """One ambient hop's TCP series, as the ztunnels at both its ends report it."""
        for reporter in ("source", "destination"):
            tcp = {**hop_src, **hop_dst, "request_protocol": TCP, "response_flags": "-", "reporter": reporter,
                   "connection_security_policy": "mutual_tls", "app": "ztunnel"}
            self.acc.add(tm.TCP_SENT, tcp, requests * response_bytes)
            self.acc.add(tm.TCP_RECEIVED, tcp, requests * request_bytes)
            self.acc.add(tm.TCP_OPENED, tcp, 0.02 + 0.01 * requests)
            self.acc.add(tm.TCP_CLOSED, tcp, (0.02 + 0.01 * requests) * 0.97)

    def _tcp(self, index: int, call: Call, queries: float) -> None:
        client = self.config.specs[call.client]
        target = self.config.target(call.host, client.namespace)
        if has_proxy(client):  # what the client's Sidecar lets it reach
            target = self.config.through_sidecar(client, call.host, [Leg(1.0, target)], call.port or None)[0].target
        src = _src_labels(client)
        conn_rate = 0.04 + 0.015 * queries
        if target.kind == "blackhole":
            # REGISTRY_ONLY: BlackHoleCluster has no endpoint; each connection is closed unanswered
            labels = {**src, **_dest_labels(target, None, host_known=False), "request_protocol": TCP,
                      "response_flags": "UH", "reporter": "source", "connection_security_policy": UNKNOWN}
            self.acc.add(tm.TCP_OPENED, labels, conn_rate)
            self.acc.add(tm.TCP_CLOSED, labels, conn_rate)
            return
        ends: list[tuple[WorkloadSpec | None, float]]
        if target.kind in ("service", "unimported"):
            ends = [(w, s) for w, s in self.endpoints(target)]
        elif target.kind in ("external", "passthrough"):
            ends = [(None, 1.0)]
        else:
            ends = []
        # not imported by the client's Sidecar: through PassthroughCluster, plain text, to a client its
        # server cannot name
        unimported = target.kind == "unimported"
        port = self._server_port(call, target) if target.kind in ("service", "unimported") else None
        for workload, share in ends:
            dest = _dest_labels(target, workload, host_known=False)
            server_dest, server_src = dest, src
            if unimported:
                dest = _dest_labels(target, None, host_known=False)
                server_dest = _dest_labels(Target("service", target.host, target.service, target.service_namespace),
                                           workload)
                server_src = {k: UNKNOWN for k in src}
            q = queries * share
            server_proxy = workload is not None and has_proxy(workload)
            strict = server_proxy and workload is not None and self.config.strict(workload, port)
            if strict and not has_proxy(client):
                continue  # plain text from outside the mesh: the server's proxy drops it, nobody reports
            plaintext = unimported or target.kind == "service" and str(_dict(self.config.traffic_policy(
                target.host, target.subset).get("tls")).get("mode") or "").upper() == "DISABLE"
            if strict and plaintext:
                # the server's proxy only takes mutual TLS and closes each plain-text connection before
                # a byte gets through: the client's proxy reports the connections opened and closed as an
                # upstream connection failure with its one connect attempt used up (UF,URX), and no bytes
                labels = {**src, **dest, "request_protocol": TCP, "response_flags": "UF,URX", "reporter": "source",
                          "connection_security_policy": UNKNOWN}
                self.acc.add(tm.TCP_OPENED, labels, conn_rate * share)
                self.acc.add(tm.TCP_CLOSED, labels, conn_rate * share)
                continue
            mtls = (has_proxy(client) and server_proxy and workload is not None and not plaintext
                    and self.config.mtls(workload, port))
            security = "mutual_tls" if mtls else "none"
            reporters = []
            if has_proxy(client):
                reporters.append(("source", UNKNOWN))
            if server_proxy:
                reporters.append(("destination", security))
            for reporter, sec in reporters:
                ends_labels = {**src, **dest} if reporter == "source" else {**server_src, **server_dest}
                labels = {**ends_labels, "request_protocol": TCP, "response_flags": "-", "reporter": reporter,
                          "connection_security_policy": sec}
                self.acc.add(tm.TCP_SENT, labels, q * call.response_bytes)
                self.acc.add(tm.TCP_RECEIVED, labels, q * call.request_bytes)
                self.acc.add(tm.TCP_OPENED, labels, conn_rate * share)
                self.acc.add(tm.TCP_CLOSED, labels, conn_rate * share * 0.97)


Row = tuple[str, tuple[tuple[str, str], ...], float]  # a series: its metric, its labels in order, its value


def simulate(config: Config, seed: int, query_time: float, duration: float,
             cancelled: Callable[[], bool] | None = None) -> list[Sample]:
    """Every series the mesh's proxies report, as rates over ``[query_time - duration, query_time]``
    (averaged over a few points of the window)."""
    return [Sample(metric, dict(labels), value)
            for metric, labels, value in simulate_rows(config, seed, query_time, duration, cancelled)]


def simulate_rows(config: Config, seed: int, query_time: float, duration: float,
                  cancelled: Callable[[], bool] | None = None) -> list[Row]:
    """``simulate``'s series as rows (no label dicts made: what a cache keeps)."""
    points = int(min(8, max(1, duration // 60)))
    acc = _Acc(weight=1.0 / points)
    for i in range(points):
        t = query_time - duration * (i + 0.5) / points
        Simulation(config, seed, t, acc).run(cancelled)
    rows: list[Row] = [(metric, labels, round(value, 6)) for (metric, labels), value in acc.counters.items()
                       if value >= 1e-4]
    for labels, sums in acc.latency.items():
        total = sums[4]
        if total * acc.weight < 1e-4:
            continue
        for stat, v in zip(("avg", "0.5", "0.95", "0.99"), sums[:4], strict=True):
            rows.append((tm.REQUEST_DURATION, (*labels, (tm.STAT_LABEL, stat)), round(v / total, 3)))
    rows.sort(key=lambda r: (r[0], sorted(r[1])))
    return rows


class SimulationCache:
    """``simulate``'s answers for one Istio config, kept for the moments asked again.

    The metric charts ask the simulation for every point of their range, the Metrics dock and the
    details panel's sparklines for many of the same moments, and again at every poll and for every
    node selected, all with the same config: computing each again (a few ms of pure Python each, on a
    worker thread holding the GIL) froze the window for up to a second after each click. Answers are
    a pure function of (config, seed, moment, window), so a kept one is the same answer. A new
    ``config_key`` (a change to the config, or to which pods have sidecars) forgets them all.

    Kept compactly (about 5 KB an answer): each series (its metric and labels, the same from one moment
    to the next) is kept once and shared by the answers that have it, each answer's values are an
    array; each call makes its own label dicts.
    Thread-safe; at most ``limit`` answers (the least recently asked go first)."""

    def __init__(self, limit: int = 2048) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._config_key: object = None
        self._answers: OrderedDict[tuple[int, float, float], tuple[tuple[tuple[str, tuple[tuple[str, str], ...]], ...],
                                                                     array[float]]] = OrderedDict()
        self._series: dict[Any, Any] = {}  # each series (metric and labels) once, whichever answers hold it
        self.computed = 0  # answers simulated (not found kept)

    def samples(self, config_key: object, config: Config, seed: int, query_time: float, duration: float,
                cancelled: Callable[[], bool] | None = None) -> list[Sample]:
        key = (seed, float(query_time), float(duration))
        with self._lock:
            if config_key != self._config_key:
                self._config_key = config_key
                self._answers.clear()
                self._series.clear()
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
        if kept is None:
            rows = simulate_rows(config, seed, query_time, duration, cancelled)
            with self._lock:
                self.computed += 1
                if config_key == self._config_key:  # (not a config replaced meanwhile)
                    intern = self._series.setdefault  # (the mesh's series are few: this stays small)
                    series = tuple(intern((m, labels), (m, labels)) for m, labels, _ in rows)
                    kept = (series, array("d", (v for _, _, v in rows)))
                    self._answers[key] = kept
                    while len(self._answers) > self.limit:
                        self._answers.popitem(last=False)
            if kept is None:
                return [Sample(m, dict(labels), v) for m, labels, v in rows]
        series, values = kept
        return [Sample(m, dict(labels), v) for (m, labels), v in zip(series, values, strict=True)]


def overflow_share(concurrency: float, capacity: float) -> float:
    """Share of requests turned away when on average ``concurrency`` requests are in flight and at most
    ``capacity`` may be: E[(N - capacity)+] / E[N] with N roughly normal (Poisson arrivals)."""
    if concurrency <= 0:
        return 0.0
    sigma = math.sqrt(concurrency)
    d = (concurrency - capacity - 0.5) / sigma
    excess = (concurrency - capacity - 0.5) * _NORMAL.cdf(d) + sigma * _NORMAL.pdf(d)
    return min(max(excess / concurrency, 0.0), 1.0)
