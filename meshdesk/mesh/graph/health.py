"""Finalizer: node and edge health from the request traffic in the graph.

Kiali's default tolerances, applied per protocol and direction to the share of requests whose
response code matches (ratios in percent):

=============================  ========  ========  ==========
codes                          protocol  degraded  failure
=============================  ========  ========  ==========
5xx                            http      > 0       >= 10
4xx                            http      >= 10     >= 20
gRPC status 1-16               grpc      > 0       >= 10
no response ("-", code 0)      http/grpc > 0       >= 10
=============================  ========  ========  ==========

A workload's (or, for service nodes, the service's) ``health.kiali.io/rate`` annotation replaces the
defaults for its nodes:
``CODE,DEGRADED,FAILURE,PROTOCOL,DIRECTION`` entries separated by ";", e.g. ``4XX,10,20,http,inbound``
(``X`` is any digit; protocol and direction are regular expressions; bad entries are skipped, and an
annotation with no good entry falls back to the defaults). The worst matching status wins; traffic
matching no tolerance is Healthy; a node without request traffic has no health (NA). A workload
with replicas wanted but none available is a Failure, some missing is Degraded.

A node's inbound traffic is what its incoming edges carry, outbound what its outgoing edges carry.
An edge's health uses its destination's inbound tolerances.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.inventory import Inventory, Workload

ANNOTATION = "health.kiali.io/rate"
_PRIORITY = {model.NO_HEALTH: 0, model.HEALTHY: 1, model.DEGRADED: 2, model.FAILURE: 3}


@dataclass(frozen=True)
class Tolerance:
    code: re.Pattern[str]
    degraded: float
    failure: float
    protocol: re.Pattern[str]
    direction: re.Pattern[str]
    text: str = ""


def _anchored(pattern: str, default: str = ".*") -> re.Pattern[str]:
    pattern = pattern.strip() or default
    if not pattern.startswith("^"):
        pattern = "^" + pattern
    if not pattern.endswith("$"):
        pattern += "$"
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile("^.*$")


def tolerance(code: str, degraded: float, failure: float, protocol: str, direction: str = ".*") -> Tolerance:
    code_re = code.strip().replace("X", r"\d").replace("x", r"\d")
    return Tolerance(_anchored(code_re), degraded, failure, _anchored(protocol), _anchored(direction),
                     f"{code},{degraded:g},{failure:g},{protocol},{direction}")


DEFAULT_TOLERANCES: tuple[Tolerance, ...] = (
    tolerance("5XX", 0, 10, "http"),
    tolerance("4XX", 10, 20, "http"),
    tolerance("^[1-9]$|^1[0-6]$", 0, 10, "grpc"),
    tolerance("^-$", 0, 10, "http|grpc"),
)


def parse_annotation(text: str) -> tuple[list[Tolerance], list[str]]:
    """Tolerances from a ``health.kiali.io/rate`` value, and a message per entry that was skipped."""
    out: list[Tolerance] = []
    problems: list[str] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        fields = [f.strip() for f in part.split(",")]
        if len(fields) != 5:
            problems.append(f"'{part}': expected CODE,DEGRADED,FAILURE,PROTOCOL,DIRECTION")
            continue
        try:
            degraded, failure = float(fields[1]), float(fields[2])
        except ValueError:
            problems.append(f"'{part}': thresholds must be numbers")
            continue
        if degraded > failure:
            problems.append(f"'{part}': degraded threshold is above the failure threshold")
            continue
        out.append(tolerance(fields[0], degraded, failure, fields[3], fields[4]))
    return out, problems


def _threshold(ratio: float, t: Tolerance) -> str:
    if ratio <= 0:
        return model.HEALTHY
    if ratio >= t.failure:
        return model.FAILURE
    if ratio >= t.degraded:
        return model.DEGRADED
    return model.HEALTHY


Traffic = dict[str, dict[str, float]]  # protocol -> code -> rate


class _Plan:
    """What ``evaluate`` needs for one tolerance list, direction and protocol: the tolerances that
    apply, and per response code the positions of those it matches (worked out on first sight)."""

    __slots__ = ("tolerances", "entries", "hits")

    def __init__(self, tolerances: tuple[Tolerance, ...] | list[Tolerance], direction: str, protocol: str) -> None:
        self.tolerances = tolerances  # kept so that its id cannot be taken by another list meanwhile
        self.entries: list[tuple[Tolerance, str]] = [
            (t, t.text.split(",")[0]) for t in tolerances
            if t.direction.match(direction) and t.protocol.match(protocol)
        ]
        self.hits: dict[str, tuple[int, ...]] = {}

    def classify(self, code: str) -> tuple[int, ...]:
        hit = self.hits[code] = tuple(i for i, (t, _) in enumerate(self.entries) if t.code.match(code) is not None)
        return hit

    def bad_rates(self, codes: dict[str, float]) -> list[float]:
        """Per tolerance entry, the rate of the codes it matches, added in the codes' order."""
        bads = [0.0] * len(self.entries)
        hits = self.hits
        for c, v in codes.items():
            hit = hits.get(c)
            if hit is None:
                hit = self.classify(c)
            for i in hit:
                bads[i] += v
        return bads


def evaluate(inbound: Traffic, outbound: Traffic, tolerances: tuple[Tolerance, ...] | list[Tolerance],
             cache: dict[Any, Any] | None = None) -> model.Health:
    """Health from request traffic by direction, protocol and code. ``cache`` (optional, per caller)
    remembers which tolerances apply to each direction and protocol, and which codes each matches."""
    memo = cache if cache is not None else {}
    verdict: list[Any] = [model.NO_HEALTH, 0.0, 0]  # worst status, its ratio, its rank
    reasons: list[str] = []
    for direction, traffic in (("inbound", inbound), ("outbound", outbound)):
        for protocol, codes in traffic.items():
            _assess(direction, protocol, codes, tolerances, memo, verdict, reasons)
    return model.Health(status=verdict[0], error_ratio=verdict[1] / 100.0, reasons=reasons)


def _assess(direction: str, protocol: str, codes: dict[str, float],
            tolerances: tuple[Tolerance, ...] | list[Tolerance], memo: dict[Any, Any], verdict: list[Any],
            reasons: list[str]) -> None:
    """Check one direction and protocol's codes against the tolerances; worsen ``verdict`` and add
    ``reasons`` as they say."""
    total = sum(codes.values())
    if total <= 0:
        return
    key = (id(tolerances), direction, protocol)
    plan = memo.get(key)
    if plan is None or plan.tolerances is not tolerances:
        plan = memo[key] = _Plan(tolerances, direction, protocol)
    entries = plan.entries
    if not entries:
        return
    bads = plan.bad_rates(codes)
    for (t, code_text), bad in zip(entries, bads, strict=True):
        ratio = bad / total * 100.0
        # _threshold, inline
        if ratio <= 0:
            status, rank = model.HEALTHY, 1
        elif ratio >= t.failure:
            status, rank = model.FAILURE, 3
        elif ratio >= t.degraded:
            status, rank = model.DEGRADED, 2
        else:
            status, rank = model.HEALTHY, 1
        if rank > 1:
            reasons.append(f"{direction} {protocol} {code_text}: {ratio:.1f}%")
        if rank > verdict[2]:
            verdict[0], verdict[1], verdict[2] = status, ratio, rank


def _edge_codes(e: model.Edge) -> dict[str, float]:
    return e.code_rates()


def _add(traffic: Traffic, protocol: str, edge_codes: dict[str, float]) -> None:
    codes = traffic.setdefault(protocol, {})
    for code, v in edge_codes.items():
        codes[code] = codes.get(code, 0.0) + v


def _workloads_of(n: model.Node, inv: Inventory | None) -> list[Workload]:
    if inv is None:
        return []
    if n.node_type == model.NODE_WORKLOAD or (n.node_type == model.NODE_APP and n.workload):
        w = inv.workload(n.namespace, n.workload)
        return [w] if w is not None else []
    if n.node_type == model.NODE_APP:
        return [w for w in inv.workloads if w.namespace == n.namespace and w.app == n.app]
    return []


def _workload_status(ws: list[Workload]) -> str:
    status = model.NO_HEALTH
    for w in ws:
        if w.replicas > 0 and w.available == 0:
            s = model.FAILURE
        elif w.available < w.replicas:
            s = model.DEGRADED
        else:
            s = model.HEALTHY
        if _PRIORITY[s] > _PRIORITY[status]:
            status = s
    return status


def apply(graph: model.TrafficGraph, ctx: PassContext) -> None:
    inbound: dict[str, Traffic] = {}
    outbound: dict[str, Traffic] = {}
    rated: list[tuple[model.Edge, dict[str, float]]] = []  # request edges with traffic, and their codes
    for e in graph.edges.values():
        protocol = e.protocol
        if protocol != "http" and protocol != "grpc":
            continue
        # Edge.code_rates, inline (hot: once per edge)
        total = e.rates.get(protocol, 0.0)
        codes: dict[str, float] = {}
        if total > 0:
            raw = e._raw_responses
            if raw is not None:
                shares_of = e._raw_total
                for code, flags in raw.items():
                    codes[code] = sum([v / shares_of * 100.0 for v in flags.values()]) / 100.0 * total
            else:
                codes = e.code_rates()
            rated.append((e, codes))
        if not codes:
            # what _add would do: make sure the protocol is there, with nothing in it
            outbound.setdefault(e.source, {}).setdefault(protocol, {})
            inbound.setdefault(e.target, {}).setdefault(protocol, {})
            continue
        out_codes = outbound.setdefault(e.source, {}).setdefault(protocol, {})
        in_codes = inbound.setdefault(e.target, {}).setdefault(protocol, {})
        for code, v in codes.items():
            out_codes[code] = out_codes.get(code, 0.0) + v
            in_codes[code] = in_codes.get(code, 0.0) + v
    tolerances_of: dict[str, tuple[Tolerance, ...]] = {}
    memo: dict[Any, Any] = {}
    inbound_tol: dict[int, tuple[Tolerance, ...]] = {}
    inv = ctx.inventory
    no_traffic: Traffic = {}
    for n in graph.nodes.values():
        if n.node_type == model.NODE_BOX or n.is_inaccessible:
            continue
        tolerances = DEFAULT_TOLERANCES
        workloads: list[Workload] = []
        if inv is not None:
            workloads = _workloads_of(n, inv)
            owners: list[tuple[str, dict[str, str]]] = [(w.name, w.annotations) for w in workloads]
            if n.node_type == model.NODE_SERVICE:
                svc = inv.service(n.namespace, n.service)
                if svc is not None:
                    owners.append((svc.name, svc.annotations))
            annotated = [(name, ann) for name, ann in owners if ann.get(ANNOTATION)]
            if annotated:
                text = annotated[0][1][ANNOTATION]
                n.health_annotation = text
                parsed, problems = parse_annotation(text)
                for p in problems:
                    msg = f"{n.namespace}/{annotated[0][0]}: {ANNOTATION} entry {p}"
                    if msg not in ctx.notes:
                        ctx.notes.append(msg)
                if parsed:
                    tolerances = tuple(parsed)
        tolerances_of[n.id] = tolerances
        h = evaluate(inbound.get(n.id, no_traffic), outbound.get(n.id, no_traffic), tolerances, memo)
        if workloads:
            ws = _workload_status(workloads)
            if _PRIORITY[ws] > _PRIORITY[h.status]:
                h.reasons.append("workload has fewer available pods than wanted")
                h.status = ws
        n.health = h
    # edge verdicts: _assess for the inbound direction, inline, with the plan looked up per target's
    # tolerances and protocol rather than per edge
    plans: dict[tuple[int, str], _Plan] = {}
    make_health = model.Health
    healthy, degraded, failure, no_health = model.HEALTHY, model.DEGRADED, model.FAILURE, model.NO_HEALTH
    for e, codes in rated:
        tols = tolerances_of.get(e.target, DEFAULT_TOLERANCES)
        protocol = e.protocol
        plan = plans.get((id(tols), protocol))
        if plan is None:
            tol = inbound_tol.get(id(tols))
            if tol is None:
                tol = inbound_tol[id(tols)] = tuple(t for t in tols if t.direction.match("inbound"))
            plan = plans[(id(tols), protocol)] = _Plan(tol, "inbound", protocol)
        reasons: list[str] = []
        status, worst, worst_rank = no_health, 0.0, 0
        total = sum(codes.values())
        entries = plan.entries
        if total > 0 and entries:
            bads = plan.bad_rates(codes)
            for (t, code_text), bad in zip(entries, bads, strict=True):
                ratio = bad / total * 100.0
                if ratio <= 0:
                    st, rank = healthy, 1
                elif ratio >= t.failure:
                    st, rank = failure, 3
                elif ratio >= t.degraded:
                    st, rank = degraded, 2
                else:
                    st, rank = healthy, 1
                if rank > 1:
                    reasons.append(f"inbound {protocol} {code_text}: {ratio:.1f}%")
                if rank > worst_rank:
                    status, worst, worst_rank = st, ratio, rank
        e.health = make_health(status, worst / 100.0, reasons)
