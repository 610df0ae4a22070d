"""The demo mesh's distributed traces: the spans Istio's proxies would report to Jaeger for the demo's
traffic, synthesized from the same simulation as its metrics (``traffic.py``).

Each trace is one request of a traffic source (a user through the ingress gateway, the ``sleep`` curl
loop, the sidecar-less uptime checker, the ambient ``traveller``) followed down the call paths the
simulation uses: the same routes and weights (VirtualServices, DestinationRule subsets, Sidecars), the
same faults (``FI`` aborts, ``DI`` delays), answers refused by authorization (403, ``UAEX`` from the external
authorizer), circuit breaking (503 ``UO``), missing endpoints (503 ``UH``), failed connections retried
(``URX``), the servers' own failures and latencies (a server's time is its own plus its backends', so
the p50/p95 of the traces are those the charts show). A plain TCP hop (ratings' database) adds its time
but no span; an external host (the payments API) has the client's span only.

Sampling: Istio samples 1% of requests by default; the demo samples **2%** of the requests of each
traffic source (``SAMPLING``), which gives tens of traces per app in five minutes (productpage's follow
the shoppers' daily curve, 30 to 80; helloworld's and the travel namespace's apps' about 12) and a
readable chart.

Determinism: a trace is a function of the seed, its minute, its source and its number in that minute;
its id encodes those (checked by a hash), so ``trace(id)`` builds the same trace again. The Istio config
and the pods in force at the trace's time are used (the demo remembers its config changes), so a change
shows in the traces after it, as in the graph, and an older trace stays as it was. A query walks the
minutes newest first and stops at ``limit`` traces: bounded work, whatever the window.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.inventory import IstioObject
from meshdesk.mesh.traces import (
    DEFAULT_LIMIT,
    KIND_CLIENT,
    KIND_SERVER,
    Span,
    Trace,
    TraceQuery,
    TraceSet,
    for_target,
    matches_query,
)
from meshdesk.sources.base import Cancelled
from meshdesk.sources.demo import mesh
from meshdesk.sources.demo import traffic as sim
from meshdesk.sources.demo.mesh import GRPC, TCP, Call, Failure, Operation, WorkloadSpec

SAMPLING = 0.02  # of each traffic source's requests (Istio's default is 0.01)
MINUTE = 60.0
MESH_ID = "cluster.local"
PUBLIC_HOST = "demo.example.com"  # what users ask the ingress gateway for
# how many traces one query may build before it stops (an errors-only search over a day of a quiet app)
MAX_BUILT = 40_000
MAX_HISTORY = 200  # config changes remembered
# a routing loop the user made (flights routed back to search) grows a trace without end: it is cut there
MAX_DEPTH = 12
MAX_TRACE_SPANS = 500
MAX_REMEMBERED = 100_000  # minutes whose matching traces a source remembers (a repeated search builds only those)
_SERIALS = itertools.count(1)

Pods = Mapping[tuple[str, str], tuple[tuple[str, str], ...]]  # (namespace, workload) -> ((pod, ip), ...)


@dataclass
class Era:
    """The Istio config and pods in force from ``since`` (unix seconds) on."""

    since: float
    objects: list[IstioObject]
    pods: Pods
    sidecars: Mapping[tuple[str, str], bool] = field(default_factory=dict)  # pods made again with(out) one
    _config: sim.Config | None = None
    legs: dict[tuple[int, str], list[sim.Leg]] = field(default_factory=dict)
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # routing and policy answers of this config
    serial: int = field(default_factory=lambda: next(_SERIALS))

    @property
    def config(self) -> sim.Config:
        if self._config is None:
            self._config = sim.Config(self.objects, self.sidecars)
        return self._config


ROOTS = tuple(i for i, c in enumerate(mesh.CALLS) if c.base_rps > 0)
_SPECS = {(w.namespace, w.name): w for w in mesh.WORKLOADS}


# -- ids ------------------------------------------------------------------------------------------------


def _digest(seed: int, *parts: object) -> bytes:
    return hashlib.blake2b("\x1f".join(str(p) for p in (seed, *parts)).encode(), digest_size=8).digest()


def _unit(seed: int, *parts: object) -> float:
    return int.from_bytes(_digest(seed, *parts), "big") / 2.0**64


def trace_id(seed: int, minute: int, root: int, n: int) -> str:
    """128 bits as Jaeger shows them: a hash, then (minute, source, number) masked by that hash."""
    head = int.from_bytes(_digest(seed, "trace", minute, root, n), "big")
    packed = ((minute & 0xFFFFFFFF) << 32) | ((root & 0xFF) << 24) | (n & 0xFFFFFF)
    return f"{head:016x}{packed ^ head:016x}"


def decode_id(seed: int, text: Any) -> tuple[int, int, int] | None:
    """(minute, source, number) of a demo trace id, None for anything else."""
    if not isinstance(text, str) or len(text) != 32:
        return None
    try:
        head, tail = int(text[:16], 16), int(text[16:], 16)
    except ValueError:
        return None
    packed = head ^ tail
    minute, root, n = packed >> 32, (packed >> 24) & 0xFF, packed & 0xFFFFFF
    if trace_id(seed, minute, root, n) != text.lower():
        return None
    return minute, root, n


def sampled_count(seed: int, minute: int, root: int, rate: float) -> int:
    """How many of a source's requests in a minute were sampled (a Poisson draw, fixed by the seed)."""
    mean = max(rate, 0.0) * SAMPLING * MINUTE
    u = _unit(seed, "count", minute, root)
    k, p = 0, math.exp(-mean)
    total = p
    while u > total and k < 10_000:
        k += 1
        p *= mean / k
        total += p
    return k


def source_rate(seed: int, index: int, t: float) -> float:
    """Requests per second of a traffic source at ``t``, as ``Simulation.run`` computes it."""
    call = mesh.CALLS[index]
    if call.client == mesh.GATEWAY:
        rate = call.base_rps * sim.user_load(seed, t)
    else:
        rate = call.base_rps * (1.0 + 0.05 * sim.smooth_noise(seed, "loop", t, 45.0))
    return rate * (1.0 + 0.04 * sim.smooth_noise(seed, f"call/{index}", t, 75.0))


# -- one minute of the mesh ---------------------------------------------------------------------------


class Moment:
    """The simulation at one minute (its middle), under one era's config."""

    def __init__(self, era: Era, seed: int, t: float) -> None:
        self.era, self.seed, self.t = era, seed, t
        self.sim = sim.Simulation(era.config, seed, t, sim._Acc(1.0))
        self.sim._legs = era.legs  # routing depends on the config only: shared by the era's minutes
        self._inbound: dict[tuple[str, str], float] | None = None
        self._failures: dict[tuple[str, str], list[Failure]] = {}
        self._own: dict[tuple[str, str], sim.Latency] = {}

    def failures(self, key: tuple[str, str]) -> list[Failure]:
        found = self._failures.get(key)
        if found is None:
            found = self._failures[key] = self.sim.failures(key)
        return found

    def own(self, key: tuple[str, str]) -> sim.Latency:
        """A server's own time on one request at this minute (bursts slow it), without its backends'."""
        found = self._own.get(key)
        if found is None:
            b = self.sim.behaviour(key)
            slow = 1.0 + (b.burst_latency - 1.0) * self.sim.burst(key)
            slow *= 1.0 + 0.08 * sim.smooth_noise(self.seed, "lat/" + "/".join(key), self.t, 60.0)
            found = self._own[key] = sim.Latency.lognormal(b.median_ms * slow, b.sigma)
        return found

    def endpoints(self, target: sim.Target) -> list[tuple[WorkloadSpec, float]]:
        memo = self.era.memo
        key = ("endpoints", target.kind, target.host, target.subset)
        if key not in memo:
            memo[key] = self.sim.endpoints(target)
        found: list[tuple[WorkloadSpec, float]] = memo[key]
        return found

    def policy(self, what: str, *args: Any) -> Any:
        """A config answer (mTLS modes, authorization, pools) remembered for the era: the config decides it."""
        memo = self.era.memo
        key = (what, *((a.namespace, a.name) if isinstance(a, WorkloadSpec) else a.label if isinstance(a, Operation) else
                       (a.kind, a.host, a.subset) if isinstance(a, sim.Target) else a for a in args))
        if key not in memo:
            config = self.era.config
            if what == "plaintext":
                target = args[0]
                memo[key] = target.kind == "unimported" or str(sim._dict(config.traffic_policy(
                    target.host, target.subset).get("tls")).get("mode") or "").upper() == "DISABLE"
            else:
                memo[key] = getattr(config, what)(*args)
        return memo[key]

    def inbound(self, key: tuple[str, str]) -> float:
        """Requests per second reaching a workload (for the circuit breaker's load); computed once."""
        if self._inbound is None:
            run = sim.Simulation(self.era.config, self.seed, self.t, sim._Acc(1.0))
            run._legs = self.era.legs
            run.run()
            found: dict[tuple[str, str], float] = {}
            for (metric, labels), value in run.acc.counters.items():
                d = dict(labels)
                if metric == tm.REQUESTS and d.get("reporter") in ("destination", "waypoint"):
                    k = (d.get("destination_workload_namespace", ""), d.get("destination_workload", ""))
                    found[k] = found.get(k, 0.0) + value
            self._inbound = found
        return self._inbound.get(key, 0.0)


# -- building a trace ---------------------------------------------------------------------------------


@dataclass
class _Hop:
    """What a proxy says about itself on its spans."""

    spec: WorkloadSpec
    pod: str
    ip: str

    @property
    def service(self) -> str:
        return f"{self.spec.app}.{self.spec.namespace}"

    @property
    def node_id(self) -> str:
        kind = "router" if self.spec.name == "istio-ingressgateway" else "waypoint" if self.spec.waypoint else "sidecar"
        return f"{kind}~{self.ip}~{self.pod}.{self.spec.namespace}~{self.spec.namespace}.{mesh.DOMAIN}"

    def tags(self) -> dict[str, str]:
        return {"node_id": self.node_id, "component": "proxy", "istio.canonical_service": self.spec.app,
                "istio.canonical_revision": self.spec.version or "latest", "istio.namespace": self.spec.namespace,
                "istio.mesh_id": MESH_ID}


class Builder:
    """One trace, built by following a request down the mesh."""

    def __init__(self, moment: Moment, tid: str, start_us: int) -> None:
        self.m = moment
        self.tid = tid
        self.spans: list[Span] = []
        self.request_id = _request_id(tid)
        self._made = 0
        self._rng = random.Random(int(tid, 16) ^ moment.seed)

    # randomness fixed by the trace and a path of names
    def u(self, *parts: object) -> float:
        """The next draw of the trace's own random sequence (``parts`` only say what it is for)."""
        return self._rng.random()

    def hop(self, spec: WorkloadSpec) -> _Hop:
        pods = self.m.era.pods.get((spec.namespace, spec.name)) or ((f"{spec.name}-0", "10.244.0.1"),)
        pod, ip = pods[int(self.u("pod") * len(pods)) % len(pods)]
        return _Hop(spec, pod, ip)

    def span_id(self) -> str:
        self._made += 1
        return f"{self._rng.getrandbits(64):016x}"

    def add(self, span_id: str, parent: str, operation: str, hop: _Hop, start_us: int, duration_us: int,
            tags: dict[str, str]) -> None:
        tags = {**tags, **hop.tags(), "guid:x-request-id": self.request_id}
        code = tags.get("http.status_code", "")
        grpc = tags.get("grpc.status_code", "")
        if (code and (code == "0" or code.startswith("5"))) or (grpc and grpc != "0"):
            tags["error"] = "true"  # as Envoy marks a 5xx, no answer, or a gRPC status other than OK
        self.spans.append(Span(self.tid, span_id, parent, operation, hop.service, start_us, max(1, duration_us),
                               tags, {"hostname": hop.pod, "ip": hop.ip}))

    # -- a request from a workload along one call -------------------------------------------------------
    def request(self, index: int, op: Operation, client: _Hop | None, parent: str, start_us: int,
                depth: int = 0) -> int:
        """One request of ``mesh.CALLS[index]`` sent at ``start_us``; its spans are added; returns how long
        the caller waited (µs)."""
        call = mesh.CALLS[index]
        spec = self.m.era.config.specs[call.client]  # with the sidecar its pods have in this era
        if depth > MAX_DEPTH or len(self.spans) >= MAX_TRACE_SPANS:  # a routing loop: the trace stops there
            return 400
        legs = self.m.sim.legs(index, call, op)
        leg = _pick(legs, self.u("leg"), lambda lg: lg.share)
        if leg is None:
            return 400
        if call.protocol == TCP:  # no HTTP span: the time it took the server
            return self._tcp_time(leg)
        if spec.namespace in mesh.AMBIENT_NAMESPACES:
            return self._ambient(index, call, op, leg, parent, start_us, depth)
        target = leg.target
        port = _port(call, target, self.m.sim)
        host = target.host or call.host
        operation = f"{host}:{port}/*"
        url = f"http://{_authority(call, target, port)}{op.path}"
        base = {"http.method": op.method or "GET", "http.url": url,
                "http.protocol": "HTTP/2" if call.protocol == GRPC else "HTTP/1.1",
                "request_size": str(int(call.request_bytes))}
        grpc = call.protocol == GRPC
        delay = 0.0  # ms a delay fault held the request (its client span then says DI)

        def client_span(code: str, flags: str, duration_ms: float, cluster: str, response: float,
                        grpc_status: str = "") -> str:
            sid = self.span_id()
            tags = {**base, "span.kind": KIND_CLIENT, "http.status_code": code,
                    "response_flags": _with_delay(flags, delay),
                    "upstream_cluster": cluster, "peer.address": client.ip if client else "",
                    "response_size": str(int(response))}
            if grpc:
                tags["grpc.status_code"] = grpc_status or ("0" if code == "200" else sim._GRPC_FOR_HTTP.get(code, "2"))
            if client is not None:
                self.add(sid, parent, operation, client, start_us, int(duration_ms * 1000), tags)
            return sid

        if client is None and target.kind != "service":
            return 400  # no proxy on this path to tell
        fault = leg.fault
        if fault.abort_share > 0 and self.u("abort") < fault.abort_share:
            client_span(fault.abort_code, "FI", 0.3, _cluster(target, port), 90.0, fault.abort_grpc)
            return 300
        delay = fault.delay_ms if fault.delay_share > 0 and self.u("delay") < fault.delay_share else 0.0
        if target.kind in ("no-route", "no-cluster", "blackhole"):
            code, flags = {"no-route": ("404", "NR"), "no-cluster": ("503", "NC"), "blackhole": ("502", "-")}[target.kind]
            client_span(code, flags, delay + 0.4, _cluster(target, port), 90.0)
            return int((delay + 0.4) * 1000)
        if target.kind == "passthrough":
            ms = delay + sim.Latency.lognormal(160.0, 0.5).quantile(self.u("passthrough"))
            client_span("200", "-", ms, sim.PASSTHROUGH, call.response_bytes)
            return int(ms * 1000)
        if target.kind == "external":
            own = self._own_ms(("", target.host))
            failure = self._failure(("", target.host))
            ms = delay + own + 25.8
            if leg.timeout_ms and own + 25.8 > leg.timeout_ms:  # the route's timeout counts the upstream's time
                client_span("504", "UT", delay + leg.timeout_ms, _cluster(target, port), 90.0)
                return int((delay + leg.timeout_ms) * 1000)
            code, flags = (failure.code, failure.flags) if failure else ("200", "-")
            client_span(code, flags, ms, _cluster(target, port), 90.0 if failure else call.response_bytes)
            return int(ms * 1000)
        ends = self.m.endpoints(target)
        end = _pick(ends, self.u("endpoint"), lambda e: e[1])
        if end is None:
            client_span("503", "UH", delay + 0.4, _cluster(target, port), 90.0)
            return int((delay + 0.4) * 1000)
        server_spec = end[0]
        key = (server_spec.namespace, server_spec.name)
        unimported = target.kind == "unimported"
        cluster = sim.PASSTHROUGH if unimported else _cluster(target, port)
        server_proxy = sim.has_proxy(server_spec)
        if server_proxy and client is None and self.m.policy("strict", server_spec, port):
            return 400  # plain text refused: nobody reports it
        plaintext = self.m.policy("plaintext", target)
        if plaintext and server_proxy and self.m.policy("strict", server_spec, port):
            retried = leg.retry.attempts > 0 and bool({"5xx", "gateway-error", "reset"} & leg.retry.retry_on)
            ms = delay + 1.5 * (1 + (leg.retry.attempts if retried else 0))
            client_span("503", "URX" if retried else "UC", ms, cluster, 90.0)
            return int(ms * 1000)
        mtls = client is not None and server_proxy and not plaintext and self.m.policy("mtls", server_spec, port)
        refused = self.m.policy("denial", spec, server_spec, op, call.port, mtls, self.m.seed) if server_proxy else ""
        server = self.hop(server_spec) if server_proxy else None
        if refused:
            sid = client_span("403", "-", delay + 2.0, cluster, 90.0)
            if server is not None:
                self._server_span(sid if client else parent, operation, server, client, start_us + int(delay * 1000)
                                  + 500, 1000, "403", refused, base, port, 90.0, grpc, "7")
            return int((delay + 2.0) * 1000)
        failures = self.m.failures(key)
        capacity = self.m.policy("pool_capacity", target) if not unimported else None
        if capacity is not None and client is not None:
            rate = self._leg_rate(index, op, leg, end[1])
            # a request holds a connection while upstream: a delay fault holds it before it is routed
            mean = self.m.sim.server_latency(key).shifted(0.8).mean
            overflow = sim.overflow_share(rate * mean / 1000.0, capacity)
            if overflow > 0 and self.u("overflow") < overflow:
                client_span("503", "UO", delay + 0.3, cluster, 90.0)
                return int((delay + 0.3) * 1000)
        # attempts: a failure the retry policy retries is tried again, each attempt that reaches the server
        # reported by it
        at = start_us + int(delay * 1000)
        client_sid = self.span_id() if client is not None else parent
        caller = client if client is not None else self.hop(spec)  # a client without a proxy: its address
        outcome: tuple[str, str, str] = ("200", "-", "")
        attempts = 0
        while True:
            failure = _choose(failures, self.u("failure", attempts))
            if failure is not None and failure.source_only:
                took = 1.0
            else:
                took = self._serve(server_spec, server, client_sid, caller, operation, at + 400, base, port,
                                   failure, call, grpc, depth) / 1000.0 + 0.8
            outcome = (failure.code, failure.flags, failure.grpc_status) if failure else ("200", "-", "")
            at += int(took * 1000)
            if failure is None or not leg.retry.retries(failure) or attempts >= leg.retry.attempts:
                if failure is not None and leg.retry.retries(failure) and leg.retry.attempts > 0:
                    outcome = (failure.code, "URX", failure.grpc_status)
                break
            attempts += 1
            server = self.hop(server_spec) if server_proxy else None
        total_ms = (at - start_us) / 1000.0
        # Envoy's route timeout starts when the request is routed, after a delay fault held it
        if leg.timeout_ms and total_ms - delay > leg.timeout_ms:
            total_ms, outcome = delay + leg.timeout_ms, ("504", "UT", "4")
            if server_proxy:
                self._cut(client_sid, start_us + int(total_ms * 1000))
        if client is not None:
            tags = {**base, "span.kind": KIND_CLIENT, "http.status_code": outcome[0],
                    "response_flags": _with_delay(outcome[1], delay), "upstream_cluster": cluster, "peer.address": client.ip,
                    "response_size": str(int(call.response_bytes if outcome[0] == "200" else 90))}
            if grpc:
                tags["grpc.status_code"] = outcome[2] or ("0" if outcome[0] == "200" else "2")
            self.add(client_sid, parent, operation, client, start_us, int(total_ms * 1000), tags)
            if leg.mirrors:
                self._mirror(leg, call, op, spec, client, client_sid, start_us + int(delay * 1000), base, grpc, depth)
        return int(total_ms * 1000)

    def _mirror(self, leg: sim.Leg, call: Call, op: Operation, spec: WorkloadSpec, client: _Hop, parent: str,
                start_us: int, base: Mapping[str, str], grpc: bool, depth: int) -> None:
        """The copies the client's proxy sends as it routes the request, one per mirror that takes it: they
        carry the request's trace context, so each mirror's server span (and what it calls) hangs under the
        client's span, with the host the copy names, suffixed "-shadow" as Envoy does; nobody waits for
        them and the client's span knows nothing of them."""
        for target, share in leg.mirrors:
            if self.u("mirror") >= share:
                continue
            end = _pick(self.m.endpoints(target), self.u("endpoint"), lambda e: e[1])
            if end is None:
                continue
            server_spec = end[0]
            port = _port(call, target, self.m.sim)
            host, colon, named_port = _authority(call, target, port).partition(":")
            shadow = {**base, "http.url": f"http://{host}-shadow{colon}{named_port}{op.path}"}
            operation = f"{target.host}:{port}/*"
            server_proxy = sim.has_proxy(server_spec)
            plaintext = self.m.policy("plaintext", target)
            if plaintext and server_proxy and self.m.policy("strict", server_spec, port):
                continue  # refused before a request is read
            mtls = server_proxy and not plaintext and self.m.policy("mtls", server_spec, port)
            refused = self.m.policy("denial", spec, server_spec, op, call.port, mtls, self.m.seed) \
                if server_proxy else ""
            server = self.hop(server_spec) if server_proxy else None
            if refused:
                if server is not None:
                    self._server_span(parent, operation, server, client, start_us + 500, 1000, "403", refused, shadow,
                                      port, 90.0, grpc, "7")
                continue
            failure = _choose(self.m.failures((server_spec.namespace, server_spec.name)), self.u("failure"))
            if failure is not None and failure.source_only:
                continue  # the copy never reached the server
            self._serve(server_spec, server, parent, client, operation, start_us + 400, shadow, port, failure, call,
                        grpc, depth)

    def _serve(self, spec: WorkloadSpec, server: _Hop | None, parent: str, client: _Hop | None, operation: str,
               start_us: int, base: Mapping[str, str], port: int | None, failure: Failure | None, call: Call,
               grpc: bool, depth: int) -> int:
        """The server's work on a request (its backends called in turn); its span when it has a proxy.
        Returns the time it took (µs)."""
        key = (spec.namespace, spec.name)
        own = self._own_ms(key)
        sid = self.span_id() if server is not None else parent
        at = start_us + int(own * 300)  # a third of its own time before it calls anything
        for index, c in enumerate(mesh.CALLS):
            if c.client != key or c.per_request <= 0:
                continue
            times = math.floor(c.per_request) + (1 if self.u("calls", index) < c.per_request % 1 else 0)
            for _ in range(times):
                op = _pick(c.operations or (Operation("", "", 1.0),), self.u("op", index), lambda o: o.share)
                if op is None:
                    continue
                me = server if server is not None else None
                at += self.request(index, op, me, sid, at, depth + 1) + 200
        took = (at - start_us) + int(own * 700)
        if server is not None:
            code, flags, status = (failure.code, failure.flags, failure.grpc_status) if failure else ("200", "-", "")
            self._server_span(parent, operation, server, client, start_us, took, code, flags, base, port,
                              call.response_bytes if code == "200" else 90.0, grpc, status, sid)
        return took + 300

    def _server_span(self, parent: str, operation: str, server: _Hop, client: _Hop | None, start_us: int,
                     duration_us: int, code: str, flags: str, base: Mapping[str, str], port: int | None,
                     response: float, grpc: bool, grpc_status: str = "", sid: str = "") -> None:
        tags = {**base, "span.kind": KIND_SERVER, "http.status_code": code, "response_flags": flags or "-",
                "upstream_cluster": f"inbound|{port or 80}||", "peer.address": client.ip if client else "",
                "response_size": str(int(response))}
        if grpc:
            tags["grpc.status_code"] = grpc_status or ("0" if code == "200" else sim._GRPC_FOR_HTTP.get(code, "2"))
        self.add(sid or self.span_id(), parent, operation, server, start_us, duration_us, tags)

    def _cut(self, client_sid: str, at_us: int) -> None:
        """The caller's proxy gave up at ``at_us`` and reset the request: the server's proxy, which had not
        answered, reports no response and the downstream gone (0 DC) for its last attempt."""
        for i in range(len(self.spans) - 1, -1, -1):
            span = self.spans[i]
            if span.parent_id == client_sid and span.kind == KIND_SERVER:
                tags = {**span.tags, "http.status_code": "0", "response_flags": "DC", "response_size": "0",
                        "error": "true"}
                tags.pop("grpc.status_code", None)
                self.spans[i] = replace(span, duration_us=max(1, min(span.duration_us, at_us - span.start_us)),
                                        tags=tags)
                return

    # -- ambient: the waypoint carries every request ---------------------------------------------------------
    def _ambient(self, index: int, call: Call, op: Operation, leg: sim.Leg, parent: str, start_us: int,
                 depth: int) -> int:
        target = leg.target
        if target.kind != "service":
            return 400
        end = _pick(self.m.endpoints(target), self.u("endpoint"), lambda e: e[1])
        if end is None:
            return 400
        server_spec = end[0]
        waypoint_spec = self.m.era.config.waypoint_for(server_spec)
        if waypoint_spec is None:
            return 400
        client_spec = self.m.era.config.specs[call.client]
        waypoint = self.hop(waypoint_spec)
        port = _port(call, target, self.m.sim) or 0
        operation = f"{target.host}:{port}/*"
        base = {"http.method": op.method or "GET", "http.url": f"http://{_authority(call, target, port)}{op.path}",
                "http.protocol": "HTTP/1.1", "request_size": str(int(call.request_bytes)),
                "istio.source_workload": client_spec.name, "istio.source_namespace": client_spec.namespace,
                "istio.destination_workload": server_spec.name, "istio.destination_namespace": server_spec.namespace,
                "istio.destination_canonical_service": server_spec.app}
        client_ip = self.m.era.pods.get((client_spec.namespace, client_spec.name), (("", "10.244.0.1"),))[0][1]
        server_ip = self.m.era.pods.get((server_spec.namespace, server_spec.name), (("", "10.244.0.1"),))[0][1]

        def span(sid: str, parent_id: str, kind: str, start: int, ms: float, code: str, flags: str) -> None:
            tags = {**base, "span.kind": kind, "http.status_code": code, "response_flags": flags or "-",
                    "upstream_cluster": (f"inbound-vip|{port}|http|{target.host}" if kind == KIND_SERVER
                                         else f"outbound|{port}||{target.host}"),
                    "peer.address": client_ip if kind == KIND_SERVER else server_ip,
                    "response_size": str(int(call.response_bytes if code == "200" else 90))}
            self.add(sid, parent_id, operation, waypoint, start, int(ms * 1000), tags)

        inbound_sid = self.span_id()
        refused = self.m.policy("denial", client_spec, server_spec, op, port, True, self.m.seed, "waypoint")
        if refused:
            span(inbound_sid, parent, KIND_SERVER, start_us, 1.0, "403", refused)
            return 1200
        if leg.fault.abort_share > 0 and self.u("abort") < leg.fault.abort_share:
            span(inbound_sid, parent, KIND_SERVER, start_us, 0.3, leg.fault.abort_code, "FI")
            return 500
        delay = leg.fault.delay_ms if leg.fault.delay_share > 0 and self.u("delay") < leg.fault.delay_share else 0.0
        out_sid = self.span_id()
        at = start_us + int(delay * 1000) + 300
        if not self.m.policy("authorized", waypoint_spec, server_spec, op, port, True, self.m.seed, "ztunnel"):
            span(out_sid, inbound_sid, KIND_CLIENT, at, 1.0, "503", "UF")
            span(inbound_sid, parent, KIND_SERVER, start_us, delay + 1.5, "503", _with_delay("UF", delay))
            return int((delay + 1.7) * 1000)
        failure = _choose(self.m.failures((server_spec.namespace, server_spec.name)), self.u("failure"))
        took = self._serve(server_spec, None, out_sid, None, operation, at + 300, base, port, failure, call, False,
                           depth) / 1000.0 + 0.6
        code, flags = (failure.code, failure.flags) if failure else ("200", "-")
        total = delay + took + 0.6
        if leg.timeout_ms and took + 0.6 > leg.timeout_ms:  # the timeout starts after the delay
            total, code, flags = delay + leg.timeout_ms, "504", "UT"
            took = min(took, leg.timeout_ms)
        span(out_sid, inbound_sid, KIND_CLIENT, at, took, code, flags)
        span(inbound_sid, parent, KIND_SERVER, start_us, total, code, _with_delay(flags, delay))
        return int((total + 0.2) * 1000)

    # -- helpers --------------------------------------------------------------------------------------------
    def _own_ms(self, key: tuple[str, str]) -> float:
        """A server's own time on one request, drawn from its distribution at this minute (bursts slow it)."""
        return self.m.own(key).quantile(self.u("own", *key))

    def _failure(self, key: tuple[str, str]) -> Failure | None:
        return _choose(self.m.failures(key), self.u("failure", *key))

    def _tcp_time(self, leg: sim.Leg) -> int:
        if leg.target.kind not in ("service", "unimported"):
            return 400
        end = _pick(self.m.endpoints(leg.target), self.u("tcp"), lambda e: e[1])
        if end is None:
            return 400
        return int((self._own_ms((end[0].namespace, end[0].name)) + 0.5) * 1000)

    def _leg_rate(self, index: int, op: Operation, leg: sim.Leg, share: float) -> float:
        """Requests per second the client sends on this leg to this endpoint, now."""
        call = mesh.CALLS[index]
        if call.base_rps > 0:
            rate = source_rate(self.m.seed, index, self.m.t)
        else:
            rate = self.m.inbound(call.client) * call.per_request
        return rate * op.share * leg.share * share


def _with_delay(flags: str, delay_ms: float) -> str:
    """Response flags with Envoy's DI (delay injected) added when a delay fault held the request."""
    if delay_ms > 0:
        return sim.with_flag(flags, "DI")
    return flags or "-"


def _request_id(tid: str) -> str:
    h = hashlib.blake2b(tid.encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _pick(items: Any, u: float, weight: Callable[[Any], float]) -> Any:
    """The item whose share of the total weight ``u`` falls in; None when there is none."""
    items = list(items)
    total = sum(max(weight(i), 0.0) for i in items)
    if total <= 0:
        return None
    point, acc = u * total, 0.0
    for i in items:
        acc += max(weight(i), 0.0)
        if point < acc:
            return i
    return items[-1]


def _choose(failures: list[Failure], u: float) -> Failure | None:
    """The failure a request meets (by the failures' shares), None when it succeeds."""
    acc = 0.0
    for f in failures:
        acc += f.share
        if u < acc:
            return f
    return None


def _port(call: Call, target: sim.Target, s: sim.Simulation) -> int | None:
    """The port the request reaches its server on: a mesh service's, else the call's."""
    svc = s.config.services.get(target.host)
    if svc is not None and svc.ports and call.port not in [p[1] for p in svc.ports]:
        return svc.ports[0][1]  # routed elsewhere (the gateway, a VirtualService to another host)
    return call.port or None


def _authority(call: Call, target: sim.Target, port: int | None) -> str:
    if call.host == "*":
        return PUBLIC_HOST
    if call.host.endswith("." + mesh.DOMAIN):  # as the app asks: the short name and the port it calls
        return f"{call.host.split('.')[0]}:{call.port or port}"
    return call.host


def _cluster(target: sim.Target, port: int | None) -> str:
    if target.kind in ("no-route",):
        return "-"
    if target.kind == "blackhole":
        return sim.BLACKHOLE
    if target.kind == "passthrough":
        return sim.PASSTHROUGH
    return f"outbound|{port or 80}|{target.subset}|{target.host}"


# -- the source -----------------------------------------------------------------------------------------------


class DemoTraces:
    """Traces of a demo cluster's traffic, a ``TraceSource`` (``DemoCluster`` offers it as its own)."""

    def __init__(self, seed: int, eras: Callable[[], list[Era]], clock: Callable[[], float],
                 running: Callable[[], bool]) -> None:
        self.seed = seed
        self._eras = eras
        self._clock = clock
        self._running = running
        # (eras, query's service and filters, minute) -> the (source, number) of the minute's traces that match:
        # the dock asks the same again at each refresh, and a past minute's traces never change
        self._remembered: dict[tuple[Any, ...], tuple[tuple[int, int], ...]] = {}

    def _era(self, eras: list[Era], t: float) -> Era:
        chosen = eras[0]
        for era in eras:
            if era.since <= t:
                chosen = era
        return chosen

    def build(self, eras: list[Era], moments: dict[tuple[int, int], Moment], minute: int, root: int,
              n: int) -> Trace | None:
        t_mid = (minute + 0.5) * MINUTE
        era = self._era(eras, minute * MINUTE + MINUTE * _unit(self.seed, "at", minute, root, n))
        moment = moments.get((id(era), minute))
        if moment is None:
            moment = moments[(id(era), minute)] = Moment(era, self.seed, t_mid)
        tid = trace_id(self.seed, minute, root, n)
        start = minute * MINUTE + MINUTE * _unit(self.seed, "at", minute, root, n)
        b = Builder(moment, tid, int(start * 1e6))
        call = mesh.CALLS[root]
        op = _pick(call.operations or (Operation("", "", 1.0),), b.u("op"), lambda o: o.share)
        if op is None:
            return None
        client_spec = moment.era.config.specs[call.client]
        client = b.hop(client_spec) if sim.has_proxy(client_spec) else None
        b.request(root, op, client, "", int(start * 1e6))
        if not b.spans:
            return None
        return Trace(tid, tuple(sorted(b.spans, key=lambda s: (s.start_us, s.span_id))))

    def count(self, minute: int, root: int) -> int:
        return sampled_count(self.seed, minute, root, source_rate(self.seed, root, (minute + 0.5) * MINUTE))

    def trace(self, trace_id: str) -> Trace | None:
        found = decode_id(self.seed, trace_id)
        if found is None or not self._running():
            return None
        minute, root, n = found
        if root not in ROOTS or (minute + 1) * MINUTE > self._clock() + MINUTE or n >= self.count(minute, root):
            return None
        trace = self.build(self._eras(), {}, minute, root, n)
        if trace is None or trace.start_us > self._clock() * 1e6:
            return None
        return trace

    def find_traces(self, query: TraceQuery, cancelled: Callable[[], bool] | None = None) -> TraceSet:
        target = query.target
        service = target.jaeger_service()
        limit = query.limit if isinstance(query.limit, int) and query.limit > 0 else DEFAULT_LIMIT
        out = TraceSet(service=service, limit=limit)
        now = float(self._clock())
        try:
            start, end = float(query.start), min(float(query.end), now)
            min_ms = float(query.min_duration_ms or 0)
        except (TypeError, ValueError):  # a window or duration that is no number: nothing is in it
            return out
        if not (math.isfinite(start) and math.isfinite(end)) or end < start or not self._running() \
                or not math.isfinite(min_ms):
            return out
        asked = service
        lookup = _ambient_lookup(target.namespace, target.lookup)
        if lookup:  # ambient: the app has no proxy; its waypoint's spans name it (as Kiali asks the waypoint)
            asked = lookup
        eras = self._eras()
        moments: dict[tuple[int, int], Moment] = {}
        found: list[Trace] = []
        built = 0
        first, last = math.floor(start / MINUTE) - 1, math.floor(end / MINUTE)
        roots = [r for r in ROOTS if any(target.namespace in reaches(era, self.seed, r) for era in eras)]
        history = tuple(e.serial for e in eras)
        for minute in range(last, first - 1, -1):
            if cancelled is not None and cancelled():
                raise Cancelled("the trace search was cancelled")
            # a minute wholly in the window and the past: which of its traces match is fixed
            whole = minute * MINUTE >= start and (minute + 2) * MINUTE <= end
            key = (history, asked, target.namespace, target.lookup if lookup else "", query.errors_only, min_ms,
                   query.tags, tuple(roots), minute)
            known = self._remembered.get(key) if whole else None
            if known is not None:
                for root, n in known:
                    trace = self.build(eras, moments, minute, root, n)
                    if trace is not None:
                        found.append(trace)
            else:
                hits: list[tuple[int, int]] = []
                for root in roots:
                    for n in range(self.count(minute, root)):
                        trace = self.build(eras, moments, minute, root, n)
                        built += 1
                        if trace is None or trace.start_us > now * 1e6:
                            continue
                        if lookup and not any(_names_app(s, target.namespace, target.lookup) for s in trace.spans):
                            continue
                        if matches_query(trace, query, asked):
                            found.append(trace)
                            hits.append((root, n))
                if whole:
                    if len(self._remembered) >= MAX_REMEMBERED:
                        self._remembered.clear()
                    self._remembered[key] = tuple(hits)
            if len(found) >= limit:
                break
            if built >= MAX_BUILT:
                out.notes.append(f"Searched the newest {built} traces only (back to "
                                 f"{_clock_text(minute * MINUTE)}); narrow the time range to look further back")
                break
        found.sort(key=lambda t: (-t.start_us, t.trace_id))
        out.traces = found[:limit]
        out.fetched = len(out.traces)
        narrowed = for_target(out, target)
        narrowed.service = asked
        return narrowed


def _clock_text(t: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def _ambient_lookup(namespace: str, app: str) -> str:
    """The Jaeger service holding an ambient app's spans (its namespace's waypoint), "" when the app's own
    proxies report them."""
    if namespace not in mesh.AMBIENT_NAMESPACES:
        return ""
    if any(w.namespace == namespace and w.app == app and sim.has_proxy(w) for w in mesh.WORKLOADS):
        return ""
    waypoint = next((w for w in mesh.WORKLOADS if w.namespace == namespace and w.waypoint), None)
    if waypoint is None or waypoint.app == app:
        return ""
    return f"{waypoint.app}.{namespace}"


def _names_app(span: Span, namespace: str, app: str) -> bool:
    t = span.tags
    if t.get("istio.destination_namespace") == namespace and t.get("istio.destination_canonical_service") == app:
        return True
    src = _SPECS.get((t.get("istio.source_namespace", ""), t.get("istio.source_workload", "")))
    return src is not None and src.app == app and src.namespace == namespace


def reaches(era: Era, seed: int, root: int) -> frozenset[str]:
    """The namespaces a source's requests may pass through under the era's routing (its own, and those of
    every workload its calls may reach, and theirs in turn), so a query skips the sources that never
    reach the namespace asked about."""
    key = ("reaches", root)
    found = era.memo.get(key)
    if found is not None:
        return frozenset(found)
    walker = sim.Simulation(era.config, seed, 0.0, sim._Acc(1.0))
    walker._legs = era.legs
    seen: set[tuple[str, str]] = set()
    todo = [mesh.CALLS[root].client]
    first = True
    while todo:
        client = todo.pop()
        if client in seen:
            continue
        seen.add(client)
        for index, call in enumerate(mesh.CALLS):
            if call.client != client or (index != root if first else call.per_request <= 0):
                continue
            for op in call.operations or (Operation("", "", 1.0),):
                for leg in walker.legs(index, call, op):
                    if leg.target.kind in ("service", "unimported"):
                        todo += [(w.namespace, w.name) for w, _ in walker.endpoints(leg.target)]
                    for mirror, _ in leg.mirrors:
                        todo += [(w.namespace, w.name) for w, _ in walker.endpoints(mirror)]
        first = False
    spaces = frozenset(ns for ns, _ in seen)
    era.memo[key] = spaces
    return spaces


def current_pods(workloads: Any) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    return {(w.namespace, w.name): tuple((p.name, p.ip) for p in w.pods) for w in workloads}
