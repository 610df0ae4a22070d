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
annotation with no good entry falls back to the defaults). Without one, the first of Kiali's configured
rates (``request.healthRates``, its ``health_config.rate``: ``health_rates``) whose namespace, kind and name
match the node gives its tolerances. The worst matching status wins; traffic
matching no tolerance is Healthy; a node without request traffic has no health (NA). A workload
with replicas wanted but none available is a Failure, some missing is Degraded.

A node's inbound traffic is what its incoming edges carry, outbound what its outgoing edges carry.
An edge's health is the worse of its destination's inbound and its source's outbound verdicts; a TCP
edge with traffic is Healthy unless a configured or annotated tolerance speaks of TCP (its bytes are
tallied under code "-", as Kiali tallies them; no default tolerance matches protocol "tcp"). As in Kiali, operation (aggregate) nodes
get no health, and a service graph is judged before it is reduced to service-to-service edges
(``carry_over``): a service by its own requests, a joined edge as its first part was judged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from operator import add
from typing import Any

from meshdesk.mesh.graph import model
from meshdesk.mesh.graph.context import PassContext, inventory_part
from meshdesk.mesh.graph.istio import is_gateway
from meshdesk.mesh.graph.trafficmap import is_ok
from meshdesk.mesh.health_rates import (
    DEFAULT_TOLERANCES,
    HealthRate,
    Tolerance,
    as_float32,
    compile_rates,
    compiled_tolerances,
    held_threshold,
    tolerance,
)
from meshdesk.mesh.inventory import Inventory, Workload

ANNOTATION = "health.kiali.io/rate"
_PRIORITY = {model.NO_HEALTH: 0, model.HEALTHY: 1, model.DEGRADED: 2, model.FAILURE: 3}
# for joining request health with pod states: "Not Ready" (scaled to zero) sits between Healthy and
# Degraded, as in Kiali
_MERGE_PRIORITY = {model.NO_HEALTH: 0, model.HEALTHY: 1, model.NOT_READY: 1.5, model.DEGRADED: 2, model.FAILURE: 3}


# a threshold as Go's strconv.ParseFloat (Kiali's reader) takes it: a decimal number, a hexadecimal one with
# its binary exponent (0x1p-2), or Inf / Infinity (signed or not) or NaN in any case; not "1_0", which
# Python's float takes
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_HEX_NUMBER = re.compile(r"^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+$")
_WORD_NUMBER = re.compile(r"^(?:[+-]?inf(?:inity)?|nan)$", re.IGNORECASE)


def go_float(text: str) -> float | None:
    """``text`` read as Go's ParseFloat reads it, None where it refuses it."""
    if _NUMBER.match(text) or _WORD_NUMBER.match(text):
        return float(text)
    if _HEX_NUMBER.match(text):
        return float.fromhex(text)
    return None


def parse_annotation(text: str) -> tuple[list[Tolerance], list[str]]:
    """Tolerances from a ``health.kiali.io/rate`` value, and a message per entry that was skipped."""
    out: list[Tolerance] = []
    problems: list[str] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        fields = part.split(",")
        if len(fields) != 5:
            problems.append(f"'{part}': expected CODE,DEGRADED,FAILURE,PROTOCOL,DIRECTION")
            continue
        thresholds = fields[1].strip(), fields[2].strip()  # as Kiali: only the thresholds are trimmed
        read_degraded, read_failure = go_float(thresholds[0]), go_float(thresholds[1])
        if read_degraded is None or read_failure is None:
            problems.append(f"'{part}': thresholds must be numbers")
            continue
        degraded, failure = read_degraded, read_failure
        if as_float32(degraded) is None or as_float32(failure) is None:  # Kiali reads them as 32-bit floats
            problems.append(f"'{part}': thresholds must be numbers (a share in percent), not beyond 3.4e38")
            continue
        degraded, failure = held_threshold(degraded), held_threshold(failure)  # as Kiali compares them
        if degraded > failure:
            problems.append(f"'{part}': degraded threshold is above the failure threshold")
            continue
        spaced = [f.strip() for f in (fields[0], fields[3], fields[4]) if f != f.strip()]
        if spaced:  # kept, as Kiali keeps it; it can match nothing, which the user should hear
            problems.append(f"'{part}': the spaces around {', '.join(repr(f) for f in spaced)} are part of the "
                            "pattern (Kiali reads them so), so it matches nothing")
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

# Reasons, each written "<direction> <protocol> <code>: <ratio, one decimal>%" (e.g. "inbound http 5XX:
# 12.5%", or "<0.1%" for a share that would round to 0.0): written out, or (when the tolerances' code texts differ, so that direction, protocol and
# code text name one reason of a node) kept as label -> ratio to be written when first read
_Reasons = list[str] | dict[str, float] | tuple[()]
# what one direction and protocol's traffic says: (status, ratio in percent, rank, reasons), rank 0..3
# as in _PRIORITY; None when there was nothing to check (no requests, or no tolerance applies)
_Verdict = tuple[str, float, int, _Reasons]
# traffic none of whose codes a tolerance matches: every tolerance's ratio is 0
_CLEAN: _Verdict = (model.HEALTHY, 0.0, 1, ())
_STATUS_OF_RANK = (model.NO_HEALTH, model.HEALTHY, model.DEGRADED, model.FAILURE)
assert all(_PRIORITY[s] == rank for rank, s in enumerate(_STATUS_OF_RANK))


class _Plan:
    """What the checks need for one tolerance list, direction and protocol: the tolerances that apply,
    and per response code the positions of those it matches (worked out on first sight)."""

    __slots__ = ("tolerances", "entries", "limits", "hits", "prefix", "lazy")

    def __init__(self, tolerances: tuple[Tolerance, ...] | list[Tolerance], direction: str, protocol: str) -> None:
        self.tolerances = tolerances  # kept so that its id cannot be taken by another list meanwhile
        self.entries: list[tuple[Tolerance, str]] = [
            (t, t.codes_text) for t in tolerances
            if t.direction.search(direction) and t.protocol.search(protocol)
        ]
        # per entry (failure threshold, degraded threshold, code text), for judge
        self.limits = [(t.failure, t.degraded, code_text) for t, code_text in self.entries]
        self.hits: dict[str, tuple[int, ...]] = {}
        self.prefix = f"{direction} {protocol} "
        # reasons kept unwritten (see _Reasons) when no two of the tolerances have the same code text
        code_texts = [t.codes_text for t in tolerances]
        self.lazy = len(set(code_texts)) == len(code_texts)

    def classify(self, code: str) -> tuple[int, ...]:
        hit = self.hits[code] = tuple(i for i, (t, _) in enumerate(self.entries) if t.code.search(code) is not None)
        return hit

    def bad_rates(self, codes: dict[str, float]) -> list[float] | None:
        """Per tolerance, the rate of the codes it matches, added in the codes' order; None when no
        code matches any."""
        hits = self.hits
        bads: list[float] | None = None
        for c, v in codes.items():
            hit = hits.get(c)
            if hit is None:
                hit = self.classify(c)
            if hit:
                if bads is None:
                    bads = [0.0] * len(self.entries)
                for i in hit:
                    bads[i] += v
        return bads

    def verdict(self, codes: dict[str, float]) -> _Verdict | None:
        return self.judge(sum(codes.values()), self.bad_rates(codes))

    def judge(self, total: float, bads: Sequence[float] | None) -> _Verdict | None:
        """The verdict on traffic of ``total`` requests of which ``bads`` (None: none) match each
        tolerance: per tolerance the share of the requests it matches, the worst status with the
        largest share among the tolerances at that status, and a reason per tolerance past its
        degraded threshold."""
        if total <= 0 or not self.entries:
            return None
        if bads is None or not any(bads):
            return _CLEAN
        worst, worst_rank = 0.0, 0
        written: list[str] | None = None if self.lazy else []
        pending: dict[str, float] = {}
        for (failure, degraded, code_text), bad in zip(self.limits, bads, strict=True):
            ratio = bad / total * 100.0
            # _threshold, inline, as a rank: 1 Healthy, 2 Degraded, 3 Failure
            if ratio <= 0:
                rank = 1
            elif ratio >= failure:
                rank = 3
            elif ratio >= degraded:
                rank = 2
            else:
                rank = 1
            if rank > 1:
                if written is None:
                    pending[self.prefix + code_text] = ratio
                else:
                    written.append(f"{self.prefix}{code_text}: {percent_text(ratio)}")
            if rank > worst_rank or (rank == worst_rank and ratio > worst):
                worst, worst_rank = ratio, rank  # the worst status, with its largest share
        return _STATUS_OF_RANK[worst_rank], worst, worst_rank, pending if written is None else written


def _plan(plans: dict[Any, _Plan], tolerances: tuple[Tolerance, ...] | list[Tolerance], direction: str,
          protocol: str) -> _Plan:
    key = (id(tolerances), direction, protocol)
    plan = plans.get(key)
    if plan is None or plan.tolerances is not tolerances:
        plan = plans[key] = _Plan(tolerances, direction, protocol)
    return plan


def evaluate(inbound: Traffic, outbound: Traffic, tolerances: tuple[Tolerance, ...] | list[Tolerance],
             cache: dict[Any, Any] | None = None) -> model.Health:
    """Health from request traffic by direction, protocol and code. ``cache`` (optional, per caller)
    remembers which tolerances apply to each direction and protocol, and which codes each matches."""
    plans = cache if cache is not None else {}
    verdicts = [_plan(plans, tolerances, direction, protocol).verdict(codes)
                for direction, traffic in (("inbound", inbound), ("outbound", outbound))
                for protocol, codes in traffic.items()]
    return _health(verdicts)


def _worse(a: _Verdict | None, b: _Verdict | None) -> _Verdict | None:
    """The worse of two verdicts on the same traffic (the first on a tie), with both one's reasons."""
    if a is None or b is None:
        return a if b is None else b
    worst = b if b[2] > a[2] else a
    other = a if worst is b else b
    reasons: Any
    if type(worst[3]) is dict and type(other[3]) is dict:
        reasons = {**worst[3], **{k: v for k, v in other[3].items() if k not in worst[3]}}
    else:
        first = _reason_texts(worst[3])
        reasons = first + [r for r in _reason_texts(other[3]) if r not in first]
    return worst[0], worst[1], worst[2], reasons


def _reason_texts(reasons: Any) -> list[str]:
    return _write(reasons) if type(reasons) is dict else list(reasons)


def _write(pending: dict[str, float]) -> list[str]:
    return [f"{label}: {percent_text(ratio)}" for label, ratio in pending.items()]


def percent_text(percent: float) -> str:
    """A percentage as every part of the app writes it: one decimal, "<0.1%" for a share that is
    there but rounds to 0.0 (a 5xx share past the 0% degraded threshold must not read "0.0%"), and
    ">99.9%" for one short of everything that rounds to 100.0 (a success share beside errors)."""
    if percent == 0.0 or 0.05 <= percent < 99.95 or percent >= 100.0:
        return f"{percent:.1f}%"
    return "<0.1%" if percent < 0.05 else ">99.9%"


def _health(verdicts: list[_Verdict | None]) -> model.Health:
    """One Health from several verdicts (all from one tolerance list, each for another direction or
    protocol): the worst status with the largest share among the verdicts at that status, and all
    the reasons in order, written when first read if the verdicts kept them unwritten."""
    status, worst, worst_rank = model.NO_HEALTH, 0.0, 0
    written: list[str] = []
    pending: dict[str, float] = {}
    for v in verdicts:
        if v is None:
            continue
        reasons = v[3]
        if reasons:
            if type(reasons) is dict:
                pending.update(reasons)
            else:
                written.extend(reasons)
        if v[2] > worst_rank or (v[2] == worst_rank and v[1] > worst):
            status, worst, worst_rank = v[0], v[1], v[2]
    if pending:
        return model.pending_health(status, worst / 100.0, _write, pending)
    return model.Health(status, worst / 100.0, written)


def _workloads_of(n: model.Node, inv: Inventory | None) -> list[Workload]:
    """The workloads whose pods count in a node's health, as Kiali counts them: a workload node's own,
    an (unversioned) app node's all; a versioned app node is judged on its requests alone (its app's
    pods colour the app's box instead, see ``app_box_health``)."""
    if inv is None:
        return []
    if n.node_type == model.NODE_WORKLOAD:
        w = inv.workload(n.namespace, n.workload) or counted_outside_gateway(inv, n.namespace, n.workload)
        return [w] if w is not None else []
    if n.node_type == model.NODE_APP and not is_ok(n.workload):
        return _app_workloads(n, inv)
    return []


def counted_outside_gateway(inv: Inventory, namespace: str, name: str) -> Workload | None:
    """A gateway outside the selection whose pods count in its node's health, as Kiali weighs an outside
    node's pods too; not one from a snapshot made before its replica counts were read (those read as
    "no pod wanted")."""
    w = inv.outside_gateway(namespace, name)
    return w if w is not None and (w.replicas > 0 or w.current >= 0) else None


def _worst_of(healths: list[model.Health]) -> model.Health:
    """A copy of the worst of several healths (the first at that status)."""
    worst = max(healths, key=lambda h: _MERGE_PRIORITY[h.status], default=None)
    return model.Health(model.NO_HEALTH, 0.0, []) if worst is None else \
        model.Health(worst.status, worst.error_ratio, list(worst.reasons))


def _app_workloads(n: model.Node, inv: Inventory) -> list[Workload]:
    return [w for w in inv.workloads if w.namespace == n.namespace and w.app == n.app] or [
        w for w in inv.outside_gateways if w.namespace == n.namespace and w.app == n.app
        and counted_outside_gateway(inv, w.namespace, w.name) is w]


def _with_pods(h: model.Health, pods: tuple[str, str]) -> None:
    """Join the pods' state (status, reason) into request health: the worse one wins, and says why."""
    status, reason = pods
    if _MERGE_PRIORITY[status] > _MERGE_PRIORITY[h.status]:
        if reason:
            h.reasons.append(reason)
        h.status = status


# kinds whose wanted replicas the user sets: scaled to zero, they are "Not Ready" (Kiali's words)
_SCALABLE = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DeploymentConfig", "Rollout"})


def available_as_kiali_counts(w: Workload) -> int:
    """The pods Kiali counts as available: a StatefulSet's ready ones (its readyReplicas, which Kiali takes
    for available: a pod within its minReadySeconds counts), any other workload's available ones."""
    return w.ready if w.kind == "StatefulSet" and w.ready >= 0 else w.available


def workload_status(ws: list[Workload]) -> tuple[str, str]:
    """The worst of the workloads' pod states by Kiali's rules, and why: a workload scaled to zero is
    not ready; none available of those wanted is a failure, and so are pods its controller runs
    beyond the available ones when as many are available as wanted (pending pods); fewer or more
    than wanted is degraded."""
    status, reason = model.NO_HEALTH, ""
    for w in ws:
        desired, available, current = w.replicas, available_as_kiali_counts(w), w.current
        if desired == 0:  # Kiali: wanting no pod is no error, whatever the kind
            s, why = model.NOT_READY, "workload is scaled to zero" if w.kind in _SCALABLE else \
                "workload runs no pods now"
        elif current >= 0 and desired > 0:
            # Kiali's ratio check, in its order, where the controller says how many pods it runs
            if current > 0 and available > 0 and (current < desired or available < desired):
                s, why = model.DEGRADED, "workload has fewer available pods than wanted"
            elif available == 0:
                s, why = model.FAILURE, "workload has fewer available pods than wanted"
            elif desired == available != current:
                s, why = model.FAILURE, "workload has pods that are not available (pending)"
            elif desired == current == available:
                s, why = model.HEALTHY, ""
            else:
                s, why = model.DEGRADED, "workload has more available pods than wanted"
        elif (desired > 0 and available == 0) or 0 < available < desired:
            s = model.FAILURE if available == 0 else model.DEGRADED
            why = "workload has fewer available pods than wanted"
        elif available > desired:
            s, why = model.DEGRADED, "workload has more available pods than wanted"
        else:
            s, why = model.HEALTHY, ""
        if s == model.HEALTHY and desired > 0:
            # Kiali's next check: proxies istiod has not brought in sync (gateways are not counted)
            synced = w.synced_proxies
            if 0 <= synced < desired and not is_gateway(w):
                unsynced = desired - synced
                s, why = model.DEGRADED, f"{unsynced} prox{'ies' if unsynced != 1 else 'y'} not in sync with istiod"
        if _MERGE_PRIORITY[s] > _MERGE_PRIORITY[status]:
            status, reason = s, why
    return status, reason


def _merged(parts: list[dict[str, float]]) -> dict[str, float]:
    """Several edges' code -> rate dicts added up, in order (one is returned as it is)."""
    if len(parts) == 1:
        return parts[0]
    out: dict[str, float] = {}
    for codes in parts:
        for code, v in codes.items():
            out[code] = out.get(code, 0.0) + v
    return out


def configured_tolerances(n: model.Node, rates: Sequence[HealthRate]) -> tuple[Tolerance, ...]:
    """The tolerances Kiali's configuration (``health_config.rate``, compiled) gives a node: those of the
    first rate matching its namespace, kind (its node type: app, service, workload...) and name (its
    app's, service's or workload's; none for other nodes), else the defaults."""
    if not rates:
        return DEFAULT_TOLERANCES
    kind = n.node_type
    name = n.service if kind == model.NODE_SERVICE else n.workload if kind == model.NODE_WORKLOAD else \
        n.app if kind == model.NODE_APP else ""
    return compiled_tolerances(rates, n.namespace, kind, name or "")


def node_tolerances(n: model.Node, rates: Sequence[HealthRate]) -> tuple[Tolerance, ...]:
    """The tolerances a node was judged by: its ``health.kiali.io/rate`` annotation's (the health pass
    keeps it on the node), else the configured ones."""
    if n.health_annotation:
        parsed = parse_annotation(n.health_annotation)[0]
        if parsed:
            return tuple(parsed)
    return configured_tolerances(n, rates)


def _tolerances(n: model.Node, inv: Inventory | None, notes: list[str],
                rates: Sequence[HealthRate] = ()) -> tuple[tuple[Tolerance, ...], list[Workload]]:
    """The tolerances for a node (its annotation's, else the configured ones: ``rates``, Kiali's
    ``health_config.rate``, else the defaults), and its workloads; a note per bad annotation entry.
    ``inv``: the inventory of the node's own cluster (``context.inventory_part``), None for a node of a
    cluster it holds nothing of, which has neither annotations nor pods there."""
    configured = configured_tolerances(n, rates)
    if inv is None:
        return configured, []
    workloads = _workloads_of(n, inv)
    # as Kiali: only a workload's or a service's annotation sets tolerances (app nodes keep the defaults)
    owners: list[tuple[str, dict[str, str]]] = [(w.name, w.health_annotations) for w in workloads] \
        if n.node_type == model.NODE_WORKLOAD else []
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
            if msg not in notes:
                notes.append(msg)
        if parsed:
            return tuple(parsed), workloads
    return configured, workloads


_NO_CODES: dict[str, float] = {}  # shared, never changed

# A node with the default tolerances is judged from its edges' tallies: per protocol, [requests,
# requests matching each default tolerance], added up edge by edge (the defaults apply alike inbound
# and outbound, so one edge's tally serves both of its ends). A node with its own tolerances adds up
# its edges' rates per code and judges those.
assert all(_Plan(DEFAULT_TOLERANCES, "inbound", p).entries == _Plan(DEFAULT_TOLERANCES, "outbound", p).entries
           for p in ("http", "grpc")), "one edge's tally per default tolerance must serve both directions"


def _add_tally(by_protocol: dict[str, Any], protocol: str, tally: list[float]) -> None:
    """Add ``tally`` to ``by_protocol``'s; the lists are never changed in place, so one may be shared."""
    mine = by_protocol.get(protocol)
    by_protocol[protocol] = tally if mine is None else list(map(add, mine, tally))


def _add_codes(by_protocol: dict[str, Any], protocol: str, codes: dict[str, float]) -> None:
    parts = by_protocol.get(protocol)
    if parts is None:
        by_protocol[protocol] = [codes]
    else:
        parts.append(codes)


def apply(graph: model.TrafficGraph, ctx: PassContext) -> None:
    inv = ctx.inventory
    plans: dict[Any, _Plan] = {}
    # 1. tolerances (and notes about annotations), in node order
    checked: list[tuple[model.Node, tuple[Tolerance, ...], list[Workload]]] = []
    tolerances_of: dict[str, tuple[Tolerance, ...]] = {}
    # each node is judged by its own cluster's workloads and services (Kiali asks the node's cluster)
    part_of = inventory_part(inv, {n.cluster for n in graph.nodes.values()})
    rates = compile_rates(ctx.request.healthRates)  # Kiali's health_config.rate (checked with the request)
    for n in graph.nodes.values():
        # as Kiali: boxes, operations (aggregate nodes) and inaccessible nodes get no health
        if n.node_type == model.NODE_BOX or n.node_type == model.NODE_AGGREGATE or n.is_inaccessible:
            if rates and n.node_type != model.NODE_BOX:
                # their edges are still judged by the tolerances configured for them (Kiali matches an
                # edge's ends by node type), though they get no verdict of their own
                tolerances_of[n.id] = configured_tolerances(n, rates)
            continue
        tolerances, workloads = _tolerances(n, part_of(n.cluster), ctx.notes, rates)
        tolerances_of[n.id] = tolerances
        checked.append((n, tolerances, workloads))
    default_plans = {p: _plan(plans, DEFAULT_TOLERANCES, "inbound", p) for p in ("http", "grpc")}
    # 2. request edges: their verdicts, and what their ends add up (per node, per protocol in the order
    # first seen, in the graph's edge order)
    inbound: dict[str, dict[str, Any]] = {}
    outbound: dict[str, dict[str, Any]] = {}
    make_health = model.Health
    pending = model.pending_health
    write = _write
    no_health = model.NO_HEALTH
    defaults = DEFAULT_TOLERANCES
    # _add_tally, inline; per protocol, no matches, and the tally of an edge without requests
    zeros = {p: [0.0] * len(plan.entries) for p, plan in default_plans.items()}
    nil = {p: [0.0, *z] for p, z in zeros.items()}
    healthy_tcp = make_health(model.HEALTHY, 0.0, [])
    for e in graph.edges.values():
        protocol = e.protocol
        source_tols = tolerances_of.get(e.source)
        target_tols = tolerances_of.get(e.target)
        if protocol != "http" and protocol != "grpc":
            if protocol != "tcp":
                continue
            if (source_tols is None or source_tols is defaults) and (target_tols is None or target_tols is defaults):
                if e.rates.get("tcp", 0.0) > 0:
                    e.health = healthy_tcp  # no default tolerance speaks of TCP: healthy traffic (Kiali)
            else:
                _tcp_edge(e, source_tols, target_tols, plans, inbound, outbound, healthy_tcp)
            continue
        total = e.rates.get(protocol, 0.0)
        plan = default_plans[protocol]
        if total > 0:
            # the edge's per-code rates (Edge.code_rates, without a call where the raw breakdown is
            # there: hot, once per edge) and the default tolerances' matches
            raw = e._raw_responses
            if raw is not None:
                shares_of = e._raw_total
                codes: dict[str, float] = {
                    code: sum([v / shares_of * 100.0 for v in flags.values()]) / 100.0 * total
                    for code, flags in raw.items()}
            else:
                codes = e.code_rates()
            bads = plan.bad_rates(codes)
            requests = sum(codes.values())
            plain_source = source_tols is None or source_tols is defaults
            if plain_source and (target_tols is None or target_tols is defaults):
                verdict = plan.judge(requests, bads)
            else:
                # as Kiali: the worse of the target's inbound and the source's outbound tolerances
                verdict = _worse(
                    _plan(plans, target_tols or defaults, "inbound", protocol).verdict(codes),
                    _plan(plans, source_tols or defaults, "outbound", protocol).verdict(codes))
            if verdict is None:
                # traffic that no tolerance covers is healthy traffic on an edge (Kiali)
                e.health = make_health(model.HEALTHY if requests > 0 else no_health, 0.0, [])
            elif verdict[3] and type(verdict[3]) is dict:
                e.health = pending(verdict[0], verdict[1] / 100.0, write, verdict[3])
            else:
                e.health = make_health(verdict[0], verdict[1] / 100.0, list(verdict[3]))
            tally = [requests, *(bads if bads is not None else zeros[protocol])]
        else:
            codes, tally = _NO_CODES, nil[protocol]
        # the edge's traffic counts as its source's outbound and its target's inbound traffic
        for nid, tols, side in ((e.source, source_tols, outbound), (e.target, target_tols, inbound)):
            if tols is None:
                continue
            by_protocol = side.get(nid)
            if by_protocol is None:
                by_protocol = side[nid] = {}
            if tols is defaults:
                mine = by_protocol.get(protocol)
                by_protocol[protocol] = tally if mine is None else list(map(add, mine, tally))
            else:
                _add_codes(by_protocol, protocol, codes)
    # 3. node verdicts
    nothing: dict[str, Any] = {}
    outbound_plans = {p: _plan(plans, defaults, "outbound", p) for p in default_plans}
    versions: dict[tuple[str, str, str], list[tuple[model.Node, tuple[Tolerance, ...]]]] = {}
    for n, tolerances, workloads in checked:
        verdicts: list[_Verdict | None] = []
        ins, outs = inbound.get(n.id, nothing), outbound.get(n.id, nothing)
        if tolerances is defaults:
            for protocol, tally in ins.items():
                verdicts.append(default_plans[protocol].judge(tally[0], tally[1:]))
            for protocol, tally in outs.items():
                verdicts.append(outbound_plans[protocol].judge(tally[0], tally[1:]))
        else:
            for direction, traffic in (("inbound", ins), ("outbound", outs)):
                for protocol, parts in traffic.items():
                    verdicts.append(_plan(plans, tolerances, direction, protocol).verdict(_merged(parts)))
        h = _health(verdicts)
        if workloads:
            _with_pods(h, workload_status(workloads))
        n.health = h
        if n.node_type == model.NODE_APP and is_ok(n.workload) and inv is not None:
            versions.setdefault((n.cluster, n.namespace, n.app), []).append((n, tolerances))
    # 4. what a versioned app's box shows: the requests of all its versions and all its pods, the app
    # health Kiali's app list shows (Kiali's box takes its first version's requests only, so it depended
    # on which version came first, and a box could look healthy around a failing version)
    # its requests counted as Kiali's app health counts them (app_requests): an edge carries one proxy's
    # report, and a request only the caller's proxy saw (a 503 UF) is on no edge into the app
    reported = app_requests(ctx.samples, set(versions)) if versions else {}
    for key, (members, tolerances) in ((k, (m, m[0][1])) for k, m in versions.items()):
        if any(t is not tolerances for _, t in members):  # versions judged by different annotations
            box = _worst_of([m.health for m, _ in members if m.health is not None])
        else:
            verdicts = []
            for direction, side in (("inbound", inbound), ("outbound", outbound)):
                summed: dict[str, Any] = {}
                for protocol, codes in reported.get(key, ({}, {}))[direction == "outbound"].items():
                    verdicts.append(_plan(plans, tolerances, direction, protocol).verdict(codes))
                for m, _ in members:
                    for protocol, traffic in side.get(m.id, nothing).items():
                        if protocol in _REQUEST_PROTOCOLS:
                            continue  # counted above, from the reports
                        mine = summed.get(protocol)
                        summed[protocol] = traffic if mine is None else (
                            list(map(add, mine, traffic)) if tolerances is defaults else [*mine, *traffic])
                for protocol, traffic in summed.items():
                    if tolerances is defaults:
                        plan = default_plans[protocol] if direction == "inbound" else outbound_plans[protocol]
                        verdicts.append(plan.judge(traffic[0], traffic[1:]))
                    else:
                        verdicts.append(_plan(plans, tolerances, direction, protocol).verdict(_merged(traffic)))
            box = _health(verdicts)
        part = part_of(members[0][0].cluster)
        if part is not None:
            _with_pods(box, workload_status(_app_workloads(members[0][0], part)))
        for m, _ in members:
            m.extra["appHealth"] = box


_REQUEST_PROTOCOLS = frozenset({"http", "grpc"})
AppKey = tuple[str, str, str]  # (cluster, namespace, app)


def _kiali_code(labels: Mapping[str, str]) -> str:
    """The code Kiali tallies a request under: "-" for no response, a gRPC request's status."""
    code = labels.get("response_code", "")
    if code == "0":
        return "-"
    if labels.get("request_protocol") == "grpc" and "grpc_response_status" in labels:
        return labels["grpc_response_status"]
    return code


def app_requests(samples: Sequence[Any], apps: set[AppKey]) -> dict[AppKey, tuple[Traffic, Traffic]]:
    """Each of ``apps``' (inbound, outbound) requests by protocol and code, as Kiali's app health reads
    them: inbound, per protocol and code, the larger of what its callers' proxies (reporter "source")
    and its own (reporter "destination") reported, a waypoint's reports under them; outbound what its
    own proxy reported (reporter "source") only. A series read twice counts once."""
    names: dict[tuple[str, str], list[AppKey]] = {}
    for a in apps:
        names.setdefault(a[1:], []).append(a)
    # per app and direction: reporter -> protocol -> code -> rate
    tallies: dict[tuple[AppKey, bool], dict[str, dict[str, dict[str, float]]]] = {}
    seen: set[tuple[tuple[str, str], ...]] = set()
    for s in samples:
        if s.metric != "istio_requests_total":
            continue
        labels = s.labels
        reporter = labels.get("reporter", "")
        ends = []
        dst = (labels.get("destination_workload_namespace", ""), labels.get("destination_canonical_service", ""))
        if dst in names:
            ends.append(((labels.get("destination_cluster", ""), *dst), False))
        src = (labels.get("source_workload_namespace", ""), labels.get("source_canonical_service", ""))
        if reporter == "source" and src in names:
            ends.append(((labels.get("source_cluster", ""), *src), True))
        if not ends or not s.value > 0:
            continue
        ident = tuple(sorted(labels.items()))
        if ident in seen:
            continue
        seen.add(ident)
        protocol, code = labels.get("request_protocol", "http"), _kiali_code(labels)
        for key, out in ends:
            if key not in apps:  # a series or a node that names no cluster is the other's
                key = next((a for a in names[key[1:]] if not a[0] or not key[0]), key)
                if key not in apps:
                    continue
            by_reporter = tallies.setdefault((key, out), {})
            codes = by_reporter.setdefault(reporter, {}).setdefault(protocol, {})
            codes[code] = codes.get(code, 0.0) + s.value
    out_map: dict[AppKey, tuple[Traffic, Traffic]] = {}
    for (key, out), by_reporter in tallies.items():
        both = out_map.setdefault(key, ({}, {}))
        if out:
            both[1].update({p: dict(c) for p, c in by_reporter.get("source", {}).items()})
            continue
        merged = both[0]
        for reporter, by_protocol in by_reporter.items():  # waypoints' and others' first, as Kiali
            if reporter not in ("source", "destination"):
                for p, codes in by_protocol.items():
                    mine = merged.setdefault(p, {})
                    for c, v in codes.items():
                        mine[c] = mine.get(c, 0.0) + v
        for p, codes in by_reporter.get("source", {}).items():
            merged.setdefault(p, {}).update(codes)
        for p, codes in by_reporter.get("destination", {}).items():
            mine = merged.setdefault(p, {})
            for c, v in codes.items():
                if v > mine.get(c, 0.0):
                    mine[c] = v
    return out_map


def _tcp_edge(e: model.Edge, source_tols: tuple[Tolerance, ...] | None, target_tols: tuple[Tolerance, ...] | None,
              plans: dict[Any, _Plan], inbound: dict[str, dict[str, Any]], outbound: dict[str, dict[str, Any]],
              healthy: model.Health) -> None:
    """A TCP edge's health when an end has tolerances of its own (``apply`` handles the defaults at both
    ends: no default tolerance speaks of TCP, so an edge with traffic is Healthy and its ends are not
    judged on it), and its bytes (under code "-", as Kiali tallies TCP) added to the traffic of those
    of its ends judged by tolerances of their own. A configured or annotated tolerance whose protocol
    pattern matches "tcp" (one that names no protocol matches any) judges TCP traffic as Kiali does: a
    node with only TCP traffic is then Healthy, not NA."""
    defaults = DEFAULT_TOLERANCES
    codes = e.code_rates()
    if sum(codes.values()) > 0:
        verdict = _worse(_plan(plans, target_tols or defaults, "inbound", "tcp").verdict(codes),
                         _plan(plans, source_tols or defaults, "outbound", "tcp").verdict(codes))
        if verdict is None:
            e.health = healthy
        else:
            reasons = _write(verdict[3]) if type(verdict[3]) is dict else list(verdict[3])
            e.health = model.Health(verdict[0], verdict[1] / 100.0, reasons)
    else:
        codes = _NO_CODES
    for nid, tols, side in ((e.source, source_tols, outbound), (e.target, target_tols, inbound)):
        if tols is None or tols is defaults:
            continue  # the defaults judge no TCP (and a node judged by them keeps per-protocol tallies)
        by_protocol = side.get(nid)
        if by_protocol is None:
            by_protocol = side[nid] = {}
        _add_codes(by_protocol, "tcp", codes)


def carry_over(judged: model.TrafficGraph, graph: model.TrafficGraph, joined: Mapping[str, str]) -> None:
    """Give ``graph`` (a service graph after its reduction) the health judged on ``judged`` (the same
    graph before it): each node its own, each edge that of the same edge or, for an edge the
    reduction joined, of the edge ``joined`` names."""
    for nid, n in graph.nodes.items():
        before = judged.nodes.get(nid)
        if before is not None:
            n.health = before.health
            if "appHealth" in before.extra:
                n.extra["appHealth"] = before.extra["appHealth"]
    for eid, e in graph.edges.items():
        before_e = judged.edges.get(joined.get(eid, eid))
        if before_e is not None:
            e.health = before_e.health
