"""``build(snapshot) -> TrafficGraph``: the passes, in order.

1. ``traffic``: samples -> one traffic map per requested namespace (or the node-detail map), merged.
2. Appenders, in Kiali's order: service entries, dead nodes, WorkloadEntries, response time,
   security (mTLS), throughput, operation nodes, idle nodes, missing sidecars (meshCheck).
   ``request.appenders`` selects them by Kiali's names (aliases accepted); None runs what Kiali's UI
   asks for by default: all but operation nodes (those only on request), idle nodes only with
   ``includeIdleNodes``. Kiali runs appenders per namespace before merging. Service entries run so
   here too (a ServiceEntry's node belongs to the namespace whose map made it); the others run once
   on the merged map, which gives the same result for the offline data they read.
3. Finalizers: the enabled extensions' traffic (``request.extensions``; first, as in Kiali, since it adds
   nodes and edges), outsiders/inaccessible (always), Istio config badges, app labels and gateways,
   Kubernetes labels and ambient waypoints (unless ``request.appenders`` leaves "istio", "labeler" or
   "ambient" out), roots (always), health; a service graph is then reduced to service-to-service
   edges.
4. ``finalize``: the typed model, with percentages; then node and edge health and boxes.

Pure function of the snapshot: no module state is written, so builds may run in parallel threads.

The cyclic garbage collector is paused while a graph is built (``gcpause.paused_gc``): a build
allocates tens of thousands of container objects that all survive until the end, so the collector's
passes over them found nothing to free and took a third of the build time. The working maps are untied at
the end, so a build leaves no cycles behind for it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from meshdesk.mesh import telemetry
from meshdesk.mesh.gcpause import paused_gc
from meshdesk.mesh.graph import (
    ambient,
    box,
    extensions,
    finalize,
    health,
    istio,
    labeler,
    model,
    operations,
    outsider,
    service_entry,
    traffic,
)
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.trafficmap import TrafficMap
from meshdesk.mesh.health_rates import compile_rates
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.words import short_name

Appender = Callable[[TrafficMap, PassContext], None]


def _appenders() -> list[tuple[tuple[str, ...], Appender]]:
    # imported here so each pass module stays importable (and testable) on its own
    from meshdesk.mesh.graph import (
        dead_node,
        idle,
        operations,
        response_time,
        security,
        throughput,
        workload_entry,
    )

    return [
        (("deadNode",), dead_node.apply),
        (("workloadEntry",), workload_entry.apply),
        (("responseTime",), response_time.apply),
        (("securityPolicy", "security"), security.apply),
        (("throughput",), throughput.apply),
        (("aggregateNode", "operationNodes", "operations"), operations.apply),
        (("idleNode", "idle"), idle.apply),
        (("meshCheck", "sidecarsCheck"), istio.mesh_check),
    ]


SERVICE_ENTRY_NAMES = ("serviceEntry",)  # runs per namespace map (see _build), before the appenders below
OPT_IN = frozenset({"aggregateNode"})
ALWAYS = frozenset({"extensions", "outsider", "trafficGenerator", ""})
FINALIZER_NAMES = ("istio", "ambient", "labeler", "health")


def known_appenders() -> list[str]:
    names = list(SERVICE_ENTRY_NAMES) + [n for names, _ in _appenders() for n in names]
    return names + list(FINALIZER_NAMES) + sorted(ALWAYS - {""})


def _taken_at(meta: dict[str, Any]) -> int:
    """When the telemetry of a snapshot asked for "now" was read (unix seconds; 0 when not said), for
    the graph's timestamp as Kiali writes the query time."""
    taken = meta.get("takenAt") if isinstance(meta, dict) else None
    if isinstance(taken, int | float) and not isinstance(taken, bool) and math.isfinite(taken) and taken > 0:
        return int(taken)
    if isinstance(taken, str):
        try:
            return int(datetime.fromisoformat(taken.replace("Z", "+00:00")).timestamp())
        except (ValueError, OverflowError, OSError):
            return 0
    return 0


def build(snapshot: Snapshot) -> model.TrafficGraph:
    with paused_gc():
        return _build(snapshot)


def _build(snapshot: Snapshot) -> model.TrafficGraph:
    request = snapshot.request
    samples = snapshot.samples
    if request.graphType == "app" and request.node is not None and request.node.app and request.node.version:
        # an app graph has no versions: the node graph of an app version is the app's (Kiali's
        # NewNodeExplicit drops the version outside versioned-app graphs)
        request = dataclasses.replace(request, node=dataclasses.replace(request.node, version=None))
    focus = request.node
    operation = focus is not None and bool(focus.aggregateValue)
    if operation:
        # an operation's node graph is drawn from the requests of that operation alone
        samples = operations.focus_samples(samples, request)
    idx = traffic.index_samples(samples, request)
    ctx = PassContext(request=request, samples=samples, index=idx, inventory=snapshot.inventory,
                      warnings=idx.warnings)
    ambient.prepare(ctx)
    caches = ctx.caches
    selected = None if request.appenders is None else {a.strip() for a in request.appenders}
    if selected is not None:
        unknown = selected - set(known_appenders())
        for name in sorted(unknown):
            # by its start and end when long: one a megabyte long in a snapshot file was a line of a megabyte
            ctx.notes.append(f"unknown appender '{short_name(name)}' ignored")
    # ServiceEntry nodes belong to the namespace whose map they are made in, so that pass runs on each
    # namespace's map before the merge, as in Kiali
    entries = selected is None or bool(selected.intersection(SERVICE_ENTRY_NAMES))
    working: list[TrafficMap] = []  # every map built, to take apart at the end
    if focus is not None:
        tm = traffic.build_operation_map(idx, request, caches) if operation else \
            traffic.build_node_map(idx, request, caches)
        if entries:
            service_entry.apply(tm, ctx, focus.namespace)
    else:
        tm = {}
        if not request.namespaces:
            # nothing chosen: every namespace the telemetry has workloads in
            request = dataclasses.replace(request, namespaces=traffic.namespaces_in(idx))
            ctx.request = request
        chosen = list(dict.fromkeys(request.namespaces))
        # which map each edge comes from matters to the throughput pass when there are several
        throughput = (selected is None or "throughput" in selected) and request.rateHttp == "requests" and \
            any(idx.others.get(m) for m in (telemetry.REQUEST_BYTES, telemetry.RESPONSE_BYTES))
        edge_maps = ctx.edge_maps if throughput and len(chosen) > 1 else None
        for ns in chosen:
            ns_map = traffic.build_namespace_map(idx, request, ns, caches)
            if entries:
                service_entry.apply(ns_map, ctx, ns)
            working.append(ns_map)
            if edge_maps is not None:
                for n in ns_map.values():
                    for e in n.edges.values():
                        edge_maps[id(e)] = ns
            traffic.merge_maps(tm, ns, ns_map)

    for names, run in _appenders():
        if operation and names[0] == "aggregateNode":
            assert focus is not None and focus.aggregate is not None
            operations.apply(tm, ctx, focus.aggregate)  # always, as Kiali adds it for an operation's graph
            continue
        if selected is None and names[0] in OPT_IN:
            continue
        if selected is None or selected.intersection(names):
            run(tm, ctx)

    if request.extensions:
        extensions.apply(tm, ctx)  # always, as Kiali runs it whatever the appenders asked for
    outsider.mark_outsiders(tm, ctx.namespaces, request.accessibleNamespaces)
    if selected is None or "istio" in selected:
        istio.apply(tm, ctx)
    if selected is None or "labeler" in selected:
        labeler.apply(tm, ctx)
    if selected is None or "ambient" in selected:
        ambient.apply(tm, ctx)
    outsider.mark_roots(tm)
    judge_health = selected is None or "health" in selected
    # a service graph's health is judged before it is reduced, as Kiali's health finalizer runs
    # before the reduction: a service by its own requests, a joined edge as its first part was judged
    before_reduction: model.TrafficGraph | None = None
    origins: list[tuple[Any, Any, Any, str]] = []
    if request.graphType == "service" and request.node is None:
        if judge_health:
            # judged now: the reduction adds other workloads' responses into the first edge's
            before_reduction = finalize.to_model(tm, request, timestamp=request.queryTime)
            health.apply(before_reduction, ctx)
        tm = traffic.reduce_to_service_graph(tm, origins)

    graph = finalize.to_model(tm, request, timestamp=request.queryTime or _taken_at(snapshot.meta))
    # nodes and edges of the working maps point at each other; untie them so they are freed now
    # rather than left for the cyclic garbage collector
    for m in (*working, tm):
        for n in m.values():
            if n.edges:
                n.edges.clear()  # no map shares an edges dict
    if judge_health:
        if before_reduction is None:
            health.apply(graph, ctx)
        else:
            node_id_of = finalize.node_id_of
            joined = {model.edge_id(node_id_of(svc), node_id_of(dest), protocol):
                      model.edge_id(node_id_of(wl), node_id_of(dest), protocol)
                      for svc, wl, dest, protocol in origins}
            health.carry_over(before_reduction, graph, joined)
        graph.health_basis = model.HealthBasis(ctx.inventory, before_reduction,
                                               compile_rates(request.healthRates))
    box.apply(graph)
    inventory_notes = list(snapshot.inventory.warnings) if snapshot.inventory is not None else []
    graph.warnings = snapshot.warnings.messages() + idx.warnings.messages() + ctx.notes + inventory_notes
    graph.ambient_namespaces = frozenset(ctx.caches.get("ambient_namespaces", {}))
    graph.sidecar_clusters = dict(ctx.caches.get("sidecar_clusters", {}))
    return graph
