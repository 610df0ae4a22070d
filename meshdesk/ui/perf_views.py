"""Puts the performance views into a main window and wires them, without the window knowing them.

    from meshdesk.ui.perf_views import PerformanceViews
    perf = PerformanceViews(window)      # after the window built its poller, canvas and details dock
    ...
    perf.shutdown()                      # from MainWindow.shutdown(), before the poller stops

It adds docks (tabbed at the bottom): Metrics, Lists, Istio config, Logs, Envoy; and puts the sparklines
under the details panel in the details dock (``window.dock``), shown while the selection has metrics
(a "Charts" dock instead when the window has no details dock). Wiring, all through public signals and attributes:

- ``window.poller.sourceOpened``  -> metrics, log and Envoy config sources (``meshdesk.sources.perf``)
- ``window.poller.graphReady``    -> lists and config view get the graph and inventory
- ``window.poller.namespacesListed`` -> the Namespaces list gets every namespace of the source
- ``window.poller.namespaceTraffic`` -> ... and their inbound traffic over the graph's window (sparklines)
- ``lists.namespaceRequested``    -> ``window.toolbar.add_namespace`` (a namespace row activated)
- ``window.view.selectionChanged`` -> lists select the rows, metrics/sparklines target the node or
  edge, logs and the Envoy view show the selected workload's pods
- ``lists.nodesSelected``         -> ``window.view.select`` (the canvas selects the nodes)
- ``lists.configSelected``        -> ``config.show_object``
- ``envoy.configRequested``       -> ``config.show_object`` (a cluster's DestinationRule, a route's VirtualService)
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QMenu, QScrollArea, QSplitter, QWidget

from meshdesk.mesh.ambient_checks import app_waypoint, waypoint_not_running, workload_waypoint
from meshdesk.mesh.ambient_checks import waypoint_for as _waypoint
from meshdesk.mesh.dashboards import DEFAULT_CONFIG, AppPods, DashboardsConfig, app_pods
from meshdesk.mesh.graph.context import inventory_part, merged
from meshdesk.mesh.graph.model import (
    BOX_APP,
    BOX_NAMESPACE,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_UNKNOWN,
    NODE_WORKLOAD,
    UNKNOWN,
    Node,
    TrafficGraph,
)
from meshdesk.mesh.inventory import WORKLOAD_LISTS, Inventory, Namespace, Workload
from meshdesk.mesh.metrics import INBOUND, MetricsTarget, in_own_cluster, spans_clusters, target_for_node
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.span_stats import SpanComparison, span_direction, waypoint_destination, why_not_compared
from meshdesk.mesh.traces import (
    TARGET_APP,
    TARGET_SERVICE,
    TARGET_WORKLOAD,
    Span,
    Trace,
    TraceTarget,
    duration_text,
)
from meshdesk.mesh.validations import ObjectKey, Validation, validate
from meshdesk.sources.grafana import GrafanaOpener, range_query
from meshdesk.sources.metrics import compare_span
from meshdesk.sources.perf import (
    cluster_pod_sources,
    envoy_source_for,
    log_source_for,
    metrics_source_for,
    tracing_source_for,
)
from meshdesk.ui import readers
from meshdesk.ui.actions import MEMBERSHIP_ACTIONS
from meshdesk.ui.config_view import ConfigView
from meshdesk.ui.envoy_view import EnvoyView, proxy_pods
from meshdesk.ui.grafana_link import GrafanaLinks, dashboard_for, runtime_grafana_links
from meshdesk.ui.lists import SNAPSHOT_NO_TRAFFIC, MeshLists
from meshdesk.ui.logs_view import LogsView
from meshdesk.ui.metrics_view import MetricsView, SparklinePanel
from meshdesk.ui.poller import list_health, lists_judged_apart
from meshdesk.ui.traces_view import TracesView


def selected_workload(graph: TrafficGraph | None, inventory: Inventory | None, ids: Sequence[str]) -> Workload | None:
    """The inventory workload behind the first selected workload (or versioned app) node; a gateway
    in a namespace not chosen (the usual ingress gateway in istio-system) is found among the gateways
    the inventory read outside the selection. It is looked up in the node's own cluster (an inventory
    merged from several clusters holds each one's; one read from one cluster knows nothing of another
    cluster's node a shared Prometheus shows): another cluster's pods are not its pods."""
    if graph is None or inventory is None:
        return None
    part_of = inventory_part(inventory, {n.cluster for n in graph.nodes.values()})
    for i in ids:
        node = graph.nodes.get(i)
        if node is not None and node.node_type in (NODE_WORKLOAD, NODE_APP) and node.workload:
            part = part_of(node.cluster)
            if part is None:
                continue
            w = part.workload(node.namespace, node.workload) or part.outside_gateway(node.namespace, node.workload)
            if w is not None:
                return w
    return None


def selected_app(graph: TrafficGraph | None, inventory: Inventory | None, ids: Sequence[str],
                 config: DashboardsConfig) -> AppPods | None:
    """The pods of the app behind the first selected app node that stands for no one workload (an app
    graph's node, an app box), for its runtime dashboards, as Kiali's app page has them; looked up in the
    node's own cluster."""
    if graph is None or inventory is None:
        return None
    part_of = inventory_part(inventory, {n.cluster for n in graph.nodes.values()})
    for i in ids:
        node = graph.nodes.get(i)
        is_app = node is not None and ((node.node_type == NODE_APP and not node.workload)
                                       or (node.node_type == NODE_BOX and node.box == BOX_APP))
        if node is None or not is_app or not node.app:
            continue
        part = part_of(node.cluster)
        workloads = [w for w in part.workloads if w.namespace == node.namespace and w.app == node.app] \
            if part is not None else []
        return app_pods(config, node.namespace, node.app, workloads) if workloads else None
    return None


def trace_target(graph: TrafficGraph | None, inventory: Inventory | None,
                 ids: Sequence[str]) -> tuple[TraceTarget | None, str]:
    """Whose traces the selection stands for (Kiali's Traces tab of an app, a workload or a service), or
    None and why not. A versioned app node is its workload's; a service's traces are asked for by the
    app label of the workloads behind it (the name the proxies report under), else its own name. With a
    target, the text is what to say when it has none: an ambient target's waypoint that does not run (or
    serves no one) is taken as none, as Kiali takes it, and that is why nothing reports its requests."""
    if graph is None or not ids:
        return None, ""
    node = graph.nodes.get(ids[0])
    other = ("Traces are kept per app, workload and service: select one of those (an edge, a box or an "
             "operation has no traces of its own)")
    if node is None:
        return None, other if ids[0] in graph.edges else ""
    # the node's own cluster's objects (an inventory merged from several clusters holds each one's; one read
    # from one cluster knows nothing of another cluster's node a shared Prometheus shows)
    inventory = inventory_part(inventory, {n.cluster for n in graph.nodes.values()})(node.cluster)
    # in a mesh of several clusters, the node's own cluster's spans (the backend is the mesh's one)
    cluster = node.cluster if spans_clusters(graph) and node.cluster and node.cluster != UNKNOWN else ""

    def ambient(kind: str, name: str, app: str, way: tuple[str, str]) -> tuple[TraceTarget, str]:
        missing = waypoint_not_running(inventory, node.namespace, way)
        if not missing:
            return TraceTarget(kind, node.namespace, name, app, *way, cluster=cluster), ""
        return TraceTarget(kind, node.namespace, name, app, cluster=cluster), (
            f"It is in ambient mode, but {missing}: its pods have no proxy of their own and no waypoint reports "
            f"its requests, so nothing makes its spans (the app {app}'s traces were asked for, as Kiali asks them).")

    if node.node_type == NODE_WORKLOAD or (node.node_type == NODE_APP and node.workload):
        w = inventory.workload(node.namespace, node.workload) if inventory is not None else None
        app = (w.app if w is not None else "") or node.app
        way = workload_waypoint(inventory, w) if w is not None else ("", "")
        return ambient(TARGET_WORKLOAD, node.workload, app, way)
    if node.node_type == NODE_APP and node.app:
        return ambient(TARGET_APP, node.app, node.app, app_waypoint(inventory, node.namespace, node.app))
    if node.node_type == NODE_SERVICE and node.is_service_entry is None and node.service and node.namespace:
        svc = inventory.service(node.namespace, node.service) if inventory is not None else None
        app = (svc.selector.get("app", "") or svc.labels.get("app", "")) if svc is not None else ""
        way = _waypoint(inventory, node.namespace, [svc.labels] if svc is not None else [])
        return ambient(TARGET_SERVICE, node.service, app or node.app or node.service, way)
    if node.node_type == NODE_SERVICE:
        return None, ("An external service (a ServiceEntry's host) reports no spans of its own: select a "
                      "workload that calls it to see the traces through it")
    if node.node_type == NODE_UNKNOWN:
        return None, ("The unknown node stands for callers no proxy could name: it has no traces of its own; "
                      "select the workload they call")
    return None, other


def tcp_only_hint(graph: TrafficGraph | None, ids: Sequence[str]) -> str:
    """What to say of a selected node all of whose traffic in the graph is TCP: Istio's proxies make no
    spans of TCP connections, so "send more requests" would mislead. "" otherwise."""
    if graph is None or not ids or ids[0] not in graph.nodes:
        return ""
    node = ids[0]
    protocols = {e.protocol for e in graph.edges_of(node)}
    if protocols == {"tcp"}:
        return ("All of its traffic in the graph is TCP, and Istio's proxies make spans of HTTP and gRPC "
                "requests only: TCP connections leave no traces.")
    return ""


def _span_nodes(graph: TrafficGraph, trace: Trace) -> dict[str, str]:
    """Span id -> the graph node of the proxy that reported it: the workload node whose name the pod's
    begins with (the longest such: "reviews-v2" before "reviews"), else, in an app graph, its app's node."""
    nodes = [n for n in graph.nodes.values() if n.node_type in (NODE_WORKLOAD, NODE_APP)]
    by_namespace: dict[str, list[Any]] = {}
    for n in nodes:
        by_namespace.setdefault(n.namespace, []).append(n)
    out: dict[str, str] = {}
    for span in trace.spans:
        where = span.node
        here = by_namespace.get(where.namespace, [])
        by_pod = sorted((n for n in here if n.workload and where.pod and where.pod.startswith(n.workload)),
                        key=lambda n: (-len(n.workload), n.id))
        if by_pod:
            out[span.span_id] = by_pod[0].id
            continue
        app = next((n for n in here if n.node_type == NODE_APP and n.app == where.app and not n.workload), None)
        if app is not None:
            out[span.span_id] = app.id
    return out


def trace_path_ids(graph: TrafficGraph | None, trace: Trace) -> list[str]:
    """The graph's nodes and edges a trace went through (Kiali's trace shown on the graph): the node of
    each proxy that reported a span, and for each hop from one proxy to another (a client span's caller
    to the server span's callee) the edge between their nodes, or the two edges through the service node
    between them."""
    if graph is None:
        return []
    at = _span_nodes(graph, trace)
    out: list[str] = []
    for _depth, span in trace.ordered():
        node = at.get(span.span_id)
        if node is not None and node not in out:
            out.append(node)
    outgoing = _outgoing(graph)
    hops = [(at.get(span.parent_id), at.get(span.span_id)) for span in trace.spans]
    # a waypoint's span names the workloads it passed a request between (ambient pods report nothing)
    workloads = {(n.namespace, n.workload): n.id for n in graph.nodes.values()
                 if n.node_type in (NODE_WORKLOAD, NODE_APP) and n.workload}
    for span in trace.spans:
        ends = [workloads.get((span.tags.get(f"istio.{side}_namespace", ""), span.tags.get(f"istio.{side}_workload", "")))
                for side in ("source", "destination")]
        for end in ends:
            if end is not None and end not in out:
                out.append(end)
        hops.append((ends[0], ends[1]))
    for a, b in hops:
        if a is None or b is None or a == b:
            continue
        for e in _hop_edges(graph, outgoing, a, b):
            for i in (e.id, e.target):
                if i not in out:
                    out.append(i)
    return out


def _outgoing(graph: TrafficGraph) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for e in graph.edges.values():
        out.setdefault(e.source, []).append(e)
    return out


def _hop_edges(graph: TrafficGraph, outgoing: Mapping[str, list[Any]], a: str, b: str) -> list[Any]:
    """The edges from node ``a`` to node ``b``: the direct one, else the two through a service node or a
    waypoint between them."""
    hops = [e for e in outgoing.get(a, []) if e.target == b]
    if not hops:
        for e in outgoing.get(a, []):
            middle = graph.nodes.get(e.target)
            onward = [f for f in outgoing.get(e.target, []) if f.target == b]
            if middle is not None and onward and (middle.node_type == NODE_SERVICE or middle.extra.get("isWaypoint")):
                hops += [e, *onward]
    return hops


def hop_rows(graph: TrafficGraph | None, trace: Trace, span: Span) -> list[tuple[str, str]]:
    """What the graph says of the hop a span is part of (from the caller's proxy to the callee's: the
    span's parent and it, or it and its child), as rows for the span's tags: the hop's request rate,
    error share and response time at the graph's quantile, and how this request compares with it (as
    Kiali's span details compare a span with the metrics)."""
    if graph is None:
        return []
    at = _span_nodes(graph, trace)
    here = at.get(span.span_id)
    pairs = [(at.get(span.parent_id), here)]
    pairs += [(here, at.get(c.span_id)) for c in trace.children().get(span.span_id, [])]
    outgoing = _outgoing(graph)
    for a, b in pairs:
        if a is None or b is None or a == b:
            continue
        edges = _hop_edges(graph, outgoing, a, b)
        if not edges:
            return [("in the graph", "no edge between these two in the graph shown (no traffic in its window, or "
                                     "hidden)")]
        last = edges[-1]  # into the callee: what its requests got
        rows = [("in the graph: hop", f"{graph.nodes[a].label} -> {graph.nodes[b].label}")]
        if last.rate > 0:
            rate = last.rate
            rows.append(("in the graph: requests", f"{rate:.2f}/s" if last.protocol != "tcp" else f"{rate:.0f} B/s"))
            failed = sum(last.rates.get(k, 0.0) for k in ("http5xx", "httpNoResponse", "grpcErr", "grpcNoResponse"))
            if last.protocol != "tcp":
                rows.append(("in the graph: failed", f"{failed / rate * 100:.1f}%"))
        if last.response_time is not None:
            quantile = graph.request.responseTimeQuantile
            stat = "avg" if quantile == "avg" else f"p{float(quantile) * 100:g}"
            word = "slower than" if span.duration_us / 1000 > last.response_time else "within"
            rows.append((f"in the graph: response time {stat}",
                         f"{last.response_time:.1f} ms (this request took {duration_text(span.duration_us)}: {word} "
                         f"the graph's {stat})"))
        return rows
    return []


def span_comparison_job(graph: TrafficGraph | None, metrics: Any, trace: Trace, span: Span,
                        end: float = 0.0) -> tuple[Callable[[], SpanComparison] | None, str]:
    """How the Traces dock compares a span with the metrics (Kiali's comparison map): a job reading the
    statistics of the span's workload (its node in the graph, in the span's direction) over the windows
    ending at ``end`` (0: now), or None and why there is none."""
    why = why_not_compared(span)
    if why:
        return None, why
    if metrics is None:
        return None, "No metrics are read for this mesh (an offline snapshot): nothing to compare this request with."
    carried = waypoint_destination(span) if span.node.proxy == "waypoint" else None
    if carried is not None:
        # an ambient waypoint's span: the requests into the workload it carried this one to, as the
        # waypoint reports them (an ambient workload has no proxy of its own to)
        into = replace(MetricsTarget.workload(carried[0], carried[1], INBOUND), waypoint=True)
        return (lambda: compare_span(metrics, into, span, end)), ""
    node_id = _span_nodes(graph, trace).get(span.span_id) if graph is not None else None
    if graph is None or node_id is None:
        return None, ("The workload that reported this span is not in the graph shown (another namespace, or no "
                      "traffic in the graph's window): its metrics are charted from its own node.")
    direction = span_direction(span)
    node = graph.nodes[node_id]
    if node.workload:
        # as Kiali compares: with the workload's own requests (a versioned app node's too), in its cluster
        # when the graph spans several
        target: MetricsTarget | None = in_own_cluster(graph, node,
                                                      MetricsTarget.workload(node.namespace, node.workload, direction))
    else:
        target = target_for_node(graph, node_id, direction)
    if target is None:
        return None, f"{graph.nodes[node_id].label} has no {direction} metrics to compare this request with."
    return (lambda: compare_span(metrics, target, span, end)), ""


def _in_cluster(graph: TrafficGraph, ids: list[str], cluster: str) -> list[str]:
    """Of ``ids``, those of nodes in ``cluster`` when the graph spans several clusters ("": all)."""
    if not cluster or len({n.cluster for n in graph.nodes.values() if n.cluster}) <= 1:
        return ids
    return [i for i in ids if graph.nodes[i].cluster == cluster]


def service_node_ids(graph: TrafficGraph | None, namespace: str, service: str, cluster: str = "") -> list[str]:
    """The service node(s) of ``service`` in ``namespace`` (for "": a ServiceEntry's host, in any
    namespace) in ``graph``; of a graph of several clusters, those of ``cluster`` when one is named."""
    if graph is None or not service:
        return []
    if namespace:
        return _in_cluster(graph, [n.id for n in graph.nodes.values()
                                   if n.node_type == NODE_SERVICE and n.service == service and n.namespace == namespace],
                           cluster)
    host = service.lower()
    return [n.id for n in graph.nodes.values() if n.node_type == NODE_SERVICE and n.is_service_entry is not None
            and any(h.lower() == host or (h.startswith("*.") and host.endswith(h[1:].lower()))
                    for h in n.is_service_entry.hosts)]


def offline_reason(source: Any, info: Any) -> str:
    """Why a source has no metrics, logs, proxy config or traces to show, when that is its nature: a
    snapshot file holds the graph's telemetry and the inventory, not time series, pod logs, a proxy or a
    tracing backend to ask.
    "" for a live source."""
    if source is None or info is None or getattr(info, "live", True):
        return ""
    taken = getattr(source, "taken", None)
    when = taken() if callable(taken) else ""
    return (f"Not available in an offline snapshot (taken {when})" if when else
            "Not available in an offline snapshot") + \
        ": a snapshot keeps the graph's traffic and the inventory, not charts, logs, proxy config or traces."


def namespace_box(graph: TrafficGraph | None, inventory: Inventory | None, namespace: str,
                  cluster: str = "") -> Node:
    """The graph's box of ``namespace`` (of ``cluster``, by default the inventory's), what the actions take a
    namespace as; one made for it when the graph draws none."""
    home = cluster or (inventory.cluster if inventory is not None else "")
    boxes = [n for n in graph.nodes.values() if n.node_type == NODE_BOX and n.box == BOX_NAMESPACE
             and n.namespace == namespace] if graph is not None else []
    mine = [n for n in boxes if n.cluster in (home, "")]
    if mine or (boxes and not cluster):
        return (mine or boxes)[0]
    if cluster:
        return Node(f"box:{cluster}:{namespace}", NODE_BOX, cluster=cluster, namespace=namespace, box=BOX_NAMESPACE)
    cluster = next((n.cluster for n in graph.nodes.values() if n.namespace == namespace and n.cluster), home) \
        if graph is not None else home
    return Node(f"box:{namespace}", NODE_BOX, cluster=cluster, namespace=namespace, box=BOX_NAMESPACE)


def _deleted(workload: Workload, inventory: Inventory | None) -> bool:
    """``workload`` is not in ``inventory`` because it was deleted: its namespace was read, and its kind
    of workload could be listed there (where it could not, its absence says nothing)."""
    return inventory is not None and inventory.workload(workload.namespace, workload.name) is None \
        and inventory.namespace(workload.namespace) is not None \
        and not inventory.unread(workload.namespace, WORKLOAD_LISTS)


def _validations(graph: TrafficGraph | None, inventory: Inventory | None) -> Mapping[ObjectKey, Validation]:
    if graph is not None and graph.validations is not None:
        return graph.validations  # made with the graph, off the UI thread
    return validate(inventory) if inventory is not None else {}


class PerformanceViews(QObject):
    # (graph, its list health) judged in a thread when the lists were opened on a graph made without
    _listHealthReady = Signal(object, object)

    def __init__(self, window: QMainWindow, *, poll_ms: int = 15000) -> None:
        super().__init__(window)
        self.window = window
        self.metrics = MetricsView(poll_ms=poll_ms)
        self.metrics.dashboards_config = self._dashboards_config  # the runtime dashboards of Settings
        self.metrics.namespace_of = self._namespace_of  # (its dashboards.kiali.io/templates annotation)
        self.sparklines = SparklinePanel(poll_ms=poll_ms)
        self.sparkline_area: QWidget = self.sparklines  # what is shown or hidden with them
        self.lists = MeshLists()
        self.config = ConfigView()
        # Edit and Delete go through the window's actions (its writer, read-only setting, RBAC, dialog)
        self.config.set_actions(getattr(window, "actions_controller", None))
        self.logs = LogsView()
        # the proxy's log level is a change to the cluster: not offered in read-only mode
        self.envoy = EnvoyView(read_only=lambda: bool(getattr(getattr(window, "settings", None), "read_only", False)))
        self.traces = TracesView()
        # "View in Grafana" in the Metrics dock: the shown context's Grafana, in the browser
        self.grafana = GrafanaLinks(self)
        self.grafana_links_menu: QMenu | None = None  # the runtime dashboard's Grafana links, shown last
        self._grafana_source: Any = None  # the live source whose Grafana it is
        self._grafana_used = ""  # the URL it was made with
        self.grafana.said.connect(self._grafana_said)
        self.metrics.grafana_button.clicked.connect(lambda _checked=False: self.view_in_grafana())
        self._grafana_said(self.grafana.unavailable, False)
        self._showing_trace = False  # selecting a trace's nodes: the Traces dock keeps its target
        self.traces.hop_rows = lambda trace, span: hop_rows(self.graph, trace, span)
        self._metrics_source: Any = None
        self._mesh_source: Any = None  # a live context read with its mesh's other contexts (set_source)
        self._context = ""  # the shown context's name ("": none, the demo mesh or a snapshot)
        # the logs' and Envoy docks' sources by cluster: "" the shown context's, and another cluster's of its
        # mesh (over that cluster's own context's client) while one of its workloads is shown
        self._pod_sources: dict[str, Any] = {}
        self._pod_cluster = ""  # whose the docks' sources are now ("": the shown context's)
        self.traces.span_stats = lambda trace, span: span_comparison_job(
            self.graph, self._metrics_source, trace, span, self.traces.end)
        self.graph: TrafficGraph | None = None
        self.inventory: Inventory | None = None
        self.snapshot: Snapshot | None = None  # what the graph shown was built from
        self._judging: TrafficGraph | None = None  # the graph whose list health a thread is judging
        self._wanted: TrafficGraph | None = None  # the graph whose apps the Details summary counts
        self._listHealthReady.connect(self._on_list_health)
        self.docks: dict[str, QDockWidget] = {}
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        first: QDockWidget | None = None
        for title, widget in (("Metrics", self.metrics), ("Lists", self.lists), ("Istio config", self.config),
                              ("Logs", self.logs), ("Envoy", self.envoy), ("Traces", self.traces)):
            dock = self._dock(title, widget, bottom)
            if first is None:
                first = dock
            else:
                window.tabifyDockWidget(first, dock)
            dock.hide()
        mesh = getattr(window, "mesh_dock", None)
        if isinstance(mesh, QDockWidget) and first is not None:
            window.tabifyDockWidget(first, mesh)  # the Mesh view among the bottom docks, as one more tab
        if mesh is not None and hasattr(mesh, "refresh"):
            # Grafana's reachability in the Mesh view and the Istio status is what View in Grafana last
            # found: shown when found
            update = getattr(window, "_update_status", None)
            self.grafana.said.connect(lambda *_a: update() if callable(update) else mesh.refresh())
        details = getattr(window, "dock", None)
        if isinstance(details, QDockWidget) and details.widget() is not None:
            # the sparklines sit under the details panel, in the same dock
            split = QSplitter(Qt.Orientation.Vertical)
            split.setObjectName("detailsWithCharts")
            split.addWidget(details.widget())
            # scrolled when the dock is short: four charts must not make the window taller than a
            # laptop screen (they asked for about 350 px, and the window grew to make room)
            area = QScrollArea()
            area.setObjectName("sparklineArea")
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area.setWidget(self.sparklines)
            split.addWidget(area)
            split.setStretchFactor(0, 3)
            split.setStretchFactor(1, 2)
            details.setWidget(split)
            self.sparkline_area = area
            area.hide()  # until something with metrics is selected
        else:
            self._dock("Charts", self.sparklines, Qt.DockWidgetArea.RightDockWidgetArea)
        # the window's own reference: a menu found again through its action is a wrapper that PySide6
        # before 6.11.2 deletes under us ("Internal C++ object already deleted" at start-up)
        view_menu = getattr(window, "view_menu", None)
        if isinstance(view_menu, QMenu):
            view_menu.addSeparator()
            keyed = getattr(window, "dock_action", None)
            for i, (title, dock) in enumerate(self.docks.items(), start=1):
                # Alt+1 ... in the order of the tabs, as an IDE's tool windows
                view_menu.addAction(keyed(dock, title, f"Alt+{i}") if callable(keyed) and i <= 9
                                    else dock.toggleViewAction())

        poller = getattr(window, "poller", None)
        if poller is not None:
            poller.sourceOpened.connect(self.set_source)
            poller.graphReady.connect(self._on_graph)
            poller.failed.connect(self._on_failure)
            # the Namespaces list: every namespace the source lists, as the Namespaces menu offers them
            poller.namespacesListed.connect(self.lists.set_namespaces)
            listed = getattr(poller, "listed_namespaces", None)
            if listed:
                self.lists.set_namespaces(*listed)
            # ... and their inbound traffic over the graph's window, read after each graph (the sparklines)
            if hasattr(poller, "namespaceTraffic"):
                poller.namespaceTraffic.connect(self.lists.set_traffic)
                self.lists.set_traffic(getattr(poller, "last_traffic", None))
        toolbar = getattr(window, "toolbar", None)
        if toolbar is not None and hasattr(toolbar, "add_namespace"):
            # a namespace row the graph does not show, activated: added to the graph's namespaces
            self.lists.namespaceRequested.connect(toolbar.add_namespace)
            self.lists.namespaceAlone.connect(lambda name: toolbar.select_namespaces([name]))
        # a namespace row's menu offers the changes the window's actions make to a namespace
        self.lists.namespace_actions = self._namespace_actions
        canvas = getattr(window, "view", None)
        if canvas is not None and hasattr(canvas, "selectionChanged"):
            canvas.selectionChanged.connect(self.show_selection)
            self.lists.nodesSelected.connect(canvas.select)
        self.lists.configSelected.connect(self.config.show_object)
        self.lists.configSelected.connect(lambda _k: self._raise("Istio config"))
        self.envoy.configRequested.connect(self.config.show_object)
        self.envoy.configRequested.connect(lambda _k: self._raise("Istio config"))
        panel = getattr(window, "panel", None)  # the details panel's links to the Istio objects it names
        if panel is not None and hasattr(panel, "configRequested"):
            panel.configRequested.connect(self.config.show_object)
            panel.configRequested.connect(lambda _k: self._raise("Istio config"))
        if panel is not None and hasattr(panel, "appHealthWanted"):
            # the namespace summary counts apps as the Namespaces list does, by the graph judged apart
            panel.appHealthWanted.connect(self._summary_wants)
        self.envoy.serviceRequested.connect(self.show_service)
        self.config.serviceRequested.connect(lambda which: self.show_service(which, self.config.tell))
        self.config.workloadRequested.connect(self.show_workload)
        self.envoy.chartsRequested.connect(self.show_proxy_charts)
        self.traces.graphRequested.connect(self.show_trace)
        # an app or service graph's lists judge each workload apart (a second build): made only while the
        # lists can be seen
        self.docks["Lists"].visibilityChanged.connect(self._lists_shown)
        self._lists_shown(False)
        for part in (self.metrics, self.lists, self.config, self.logs, self.envoy, self.traces, self.sparklines):
            readers.label_combo_boxes(part)  # said by their names on Linux, not by their values alone

    def _lists_shown(self, visible: bool) -> None:
        builder = getattr(getattr(self.window, "poller", None), "builder", None)
        if builder is not None and hasattr(builder, "judge_lists"):
            builder.judge_lists = visible
        if visible:
            self._judge_lists()

    def _summary_wants(self, graph: TrafficGraph) -> None:
        """The Details summary counts the apps of ``graph``, which the lists judge apart: judge them (in a
        thread) even while the lists are hidden, so that the summary says what the Namespaces list says.
        The window may show a graph before this view has it (``_on_graph`` then judges it)."""
        self._wanted = graph
        if graph is self.graph:
            self._judge_lists()

    def _judge_lists(self) -> None:
        """The lists are in view over a graph polled while they were not: judge its workloads and apps
        apart now, in a thread (the lists show the graph's own health until then)."""
        graph, snapshot = self.graph, self.snapshot
        if graph is None or snapshot is None or graph.list_health is not None or self._judging is graph \
                or not lists_judged_apart(snapshot.request) or snapshot.inventory is None:
            return
        self._judging = graph

        def run() -> None:
            try:
                judged = list_health(snapshot)
            except Exception:  # noqa: BLE001 - the lists keep the graph's own health
                judged = None
            self._listHealthReady.emit(graph, judged)

        threading.Thread(target=run, name="meshdesk-list-health", daemon=True).start()

    def _on_list_health(self, graph: TrafficGraph, judged: TrafficGraph | None) -> None:
        if self._judging is graph:
            self._judging = None
        if judged is None or graph is not self.graph or graph.list_health is not None:
            return  # a newer graph came meanwhile (it is judged as it comes)
        graph.list_health = judged
        self.lists.set_data(graph, self.inventory, _validations(graph, self.inventory))
        panel = getattr(self.window, "panel", None)
        if panel is not None and getattr(panel, "graph", None) is graph:
            panel.show_selection(list(panel.ids))  # a namespace summary shown counts by it now

    def _namespace_actions(self, row: Any, menu: QMenu) -> None:
        """The changes a namespace row's menu offers: the window's actions on that namespace, as its box's
        context menu in the graph offers them (review, dry run and confirm; disabled, saying why, in read-only
        mode, on a snapshot, where RBAC forbids them). A namespace the graph does not show gets those on how it
        joins the mesh, made from its listed labels (injection, ambient mode, revision: its row shows the
        change after the refresh an applied change makes); the others wait until it is added (its workloads
        and config are read then)."""
        ctl = getattr(self.window, "actions_controller", None)
        if ctl is None:
            return
        inventory, graph = self.inventory, self.graph
        if ctl.enabled and (not row.shown or inventory is None or inventory.namespace(row.name) is None):
            alone = self._listed_alone(row)
            if alone is not None:
                ctl.populate(menu, namespace_box(None, alone, row.name), None, alone, only=MEMBERSHIP_ACTIONS)
                menu.addSeparator()
            note = menu.addAction(f"{'Other changes' if alone is not None else 'Changes'} to {row.name}: add it to "
                                  "the graph first (its workloads and Istio config are read then)")
            note.setEnabled(False)
            return
        # (a row of another cluster of the mesh: that cluster's namespace, changed in that cluster)
        box = namespace_box(graph, inventory, row.name, row.cluster)
        ctl.populate(menu, box, graph, inventory)

    def _listed_alone(self, row: Any) -> Inventory | None:
        """What the actions on how a namespace the graph does not show joins the mesh are made from: the
        namespace as listed (its labels), with what the shown inventory knows of its cluster (its control
        planes, ztunnel), its workloads marked as not read; None when its labels were not read, or it is of
        another cluster than the shown one's."""
        inventory = self.inventory
        if inventory is None or merged(inventory) or (row.cluster and row.cluster != inventory.cluster):
            return None
        listed = self.lists.listed_namespace(row.name, row.cluster)
        if listed is None:
            return None
        ztunnels = None if inventory.ztunnels is None else [
            *inventory.ztunnels, *(w for w in inventory.workloads if w.labels.get("app") == "ztunnel")]
        return Inventory(cluster=inventory.cluster,
                         namespaces=[Namespace(listed.name, labels=dict(listed.labels), cluster=inventory.cluster)],
                         istio_found=inventory.istio_found, control_planes=inventory.control_planes,
                         ztunnels=ztunnels,
                         hidden={f"{row.name}/{p}": "not read: the graph does not show this namespace"
                                 for p in WORKLOAD_LISTS})

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(f"{title.lower().replace(' ', '')}Dock")
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        self.docks[title] = dock
        return dock

    def _raise(self, title: str) -> None:
        dock = self.docks[title]
        dock.show()
        dock.raise_()

    def show_proxy_charts(self) -> None:
        """The Metrics dock's Envoy proxy charts of the selection (the Envoy dock's Stats, over time)."""
        self._raise("Metrics")
        self.metrics.show_proxies()

    # -- slots -----------------------------------------------------------------------------------
    def set_source(self, source: Any, info: Any = None) -> None:
        # a live context read with the other contexts of its mesh: its logs and Envoy docks read each cluster's
        # pods through that cluster's own context
        self._mesh_source = source if getattr(source, "linked", None) else None
        # (whose runtime dashboards: a context may have its own Kiali's, set before the metrics source)
        self._context = str(getattr(source, "context", "") or "")
        self._pod_sources = {"": (log_source_for(source), envoy_source_for(source))}
        self._pod_cluster = ""
        metrics = metrics_source_for(source)
        self._metrics_source = metrics
        why = offline_reason(source, info)
        # the source left's; a snapshot file has none, its blank Traffic cells say why
        self.lists.set_traffic(None, SNAPSHOT_NO_TRAFFIC if why else "")
        self.metrics.set_source(metrics, unavailable=why)
        self.sparklines.set_source(metrics, unavailable=why)
        self.logs.set_source(self._pod_sources[""][0], unavailable=why)
        self.envoy.set_source(self._pod_sources[""][1], unavailable=why)
        self.traces.set_source(tracing_source_for(source), unavailable=why or (
            "No tracing backend was found for this cluster: give the address of its Jaeger or Tempo query "
            "API in Settings" if source is not None else ""))
        if metrics is None and self.docks.get("Charts") is None:
            self.sparkline_area.hide()  # four empty charts under the details say nothing
        self._set_grafana(source, why)

    def _set_grafana(self, source: Any, offline: str) -> None:
        """The shown context's Grafana: at its URL in Settings, else found in the cluster (a live cluster's
        source has its API client); none for the demo mesh or a snapshot."""
        api = getattr(source, "api", None)
        context = str(getattr(source, "context", "") or "")
        self._grafana_source = None
        if source is None or offline or api is None or not context:
            why = ("The demo mesh has no Grafana" if source is not None and not offline and api is None
                   else "A snapshot has no Grafana" if offline else "No cluster is open")
            self.grafana.set_opener(None, why)
        else:
            self._grafana_source = source
            self._grafana_used = url = self._grafana_url()
            self.grafana.set_opener(GrafanaOpener(api, url=url, timeout=float(getattr(source, "timeout", 15.0))))
        self._grafana_said(self.grafana.unavailable, False)

    def _namespace_of(self, name: str) -> Namespace | None:
        """The namespace of that name in the inventory shown (None without one, or when not in it)."""
        return self.inventory.namespace(name) if self.inventory is not None else None

    def _dashboards_config(self) -> DashboardsConfig:
        """The runtime dashboards saved in the settings for the shown context (its own Kiali's when given, else
        the general ones), and how they are found (Kiali's defaults without)."""
        settings = getattr(self.window, "settings", None)
        read_for = getattr(settings, "dashboards_config_for", None)
        if callable(read_for):
            config: DashboardsConfig = read_for(self._context)
            return config
        read = getattr(settings, "dashboards_config", None)
        return read() if callable(read) else DEFAULT_CONFIG

    def _grafana_url(self) -> str:
        """The Grafana URL saved for the shown context ("": found in the cluster)."""
        settings = getattr(self.window, "settings", None)
        context = str(getattr(self._grafana_source, "context", "") or "")
        if settings is None or not context:
            return ""
        return str(getattr(settings.context_settings(context), "grafana_url", "") or "")

    def view_in_grafana(self, link: str | None = None) -> bool:
        """Open Istio's Grafana dashboard of what the Metrics dock charts (its workload's or service's, the
        mesh's otherwise), or the Grafana dashboard a charted runtime dashboard links to, over the range shown.
        A runtime dashboard linking to several: a menu of them under the button, as Kiali lists them all
        (``link``: the title of the one to open)."""
        target, range_s = self.metrics.target, int(self.metrics.range.currentData() or 0)
        links = runtime_grafana_links(target, self._dashboards_config().grafana_datasource)
        if len(links) > 1 and link is None:
            self._offer_grafana_links(links)
            return True
        linked = next((x for x in links if x[0] == link), links[0] if links else None)
        if linked is not None:  # a runtime dashboard's own Grafana dashboard (its externalLinks), as Kiali's
            title, query, what = linked
            return self.grafana.request_titled(title, {**query, **range_query(range_s, self.metrics.end)}, what)
        kind, namespace, name = dashboard_for(target)
        # in replay, the range the charts end at (Grafana opened on the last minutes, not the moment charted)
        return self.grafana.request(kind, namespace, name, range_s, self.metrics.end)

    def _offer_grafana_links(self, links: list[tuple[str, dict[str, str], str]]) -> None:
        """The Grafana dashboards a charted runtime dashboard links to, as a menu under View in Grafana: each
        opens with its variables set for what is charted, over the range shown."""
        button = self.metrics.grafana_button
        if self.grafana_links_menu is not None:
            self.grafana_links_menu.close()
            self.grafana_links_menu.deleteLater()
        menu = self.grafana_links_menu = QMenu(button)
        menu.setAccessibleName("Grafana dashboards linked")
        menu.setToolTipsVisible(True)
        for title, _query, what in links:
            action = menu.addAction(title)
            action.setToolTip(f"Open {what} in Grafana")
            action.triggered.connect(lambda _checked=False, t=title: self.view_in_grafana(t))
        menu.popup(button.mapToGlobal(button.rect().bottomLeft()))

    def _grafana_said(self, text: str, failed: bool) -> None:
        note = self.metrics.grafana_note
        button = self.metrics.grafana_button
        button.setEnabled(not self.grafana.unavailable)
        button.setToolTip(self.grafana.unavailable or "Open Istio's Grafana dashboard of the charted workload or "
                          "service (the mesh's otherwise; a runtime dashboard's own Grafana dashboard when its "
                          "externalLinks name one, a menu of them when they name several) in your browser, over "
                          "the time range shown")
        if self.grafana.unavailable and not failed:
            text = ""  # the disabled button's tooltip says why
        note.setText(text)
        note.setProperty("role", "error" if failed else "hint")  # the theme's colours (a fixed grey read 3.6:1)
        note.style().unpolish(note)
        note.style().polish(note)

    def _on_graph(self, result: Any) -> None:
        self.snapshot = result.snapshot
        self.set_data(result.graph, result.snapshot.inventory)
        self.traces.poll()  # read again with each refresh while in view, as Kiali's Traces tab
        if self.docks["Lists"].isVisible() or self._wanted is result.graph:
            self._judge_lists()  # polled as the lists were being opened, or its summary shown first

    def _on_failure(self, failure: Any) -> None:
        """Prometheus alone failed: the lists and the Istio config show the cluster as it was read (its
        workloads, services and config, without traffic) while the window says what is missing."""
        partial = getattr(failure, "partial", None)
        if partial is not None:
            self._on_graph(partial)

    def set_data(self, graph: TrafficGraph | None, inventory: Inventory | None) -> None:
        self.graph, self.inventory = graph, inventory
        validations = _validations(graph, inventory)
        self.lists.set_data(graph, inventory, validations)
        self.config.set_data(inventory, validations)
        self.metrics.update_graph(graph)
        self.sparklines.update_graph(graph)
        if graph is not None and self.docks.get("Charts") is None:
            # the refreshed graph may have given the selection charts, or taken them (as a selection does)
            self.sparkline_area.setVisible(self.sparklines.source is not None and self.sparklines.target is not None)
        shown = self.logs.workload
        fresh = inventory.workload(shown.namespace, shown.name) if shown is not None and inventory is not None else None
        if fresh is not None:
            self.logs.update_pods(fresh)  # the workload's pods now (a rollout replaces them)
        elif shown is not None and _deleted(shown, inventory):
            # the workload was deleted: its pods are gone too (the one shown stays, marked so)
            self.logs.update_pods(dataclasses.replace(shown, pods=[]))
        charted = self.metrics.workload
        fresh_charted = inventory.workload(charted.namespace, charted.name) \
            if charted is not None and inventory is not None else None
        if fresh_charted is not None and charted is not None and fresh_charted.pods != charted.pods:
            self.metrics.set_workload(fresh_charted)  # its pods now (a rollout replaces them)
        shown_envoy = self.envoy.workload
        fresh_envoy = inventory.workload(shown_envoy.namespace, shown_envoy.name) \
            if shown_envoy is not None and inventory is not None else None
        if fresh_envoy is not None:
            self.envoy.update_pods(fresh_envoy)
        elif shown_envoy is not None and _deleted(shown_envoy, inventory):  # as in the Logs dock: its proxy's pod marked gone
            self.envoy.update_pods(dataclasses.replace(shown_envoy, pods=[]))

    def clear(self) -> None:
        """Nothing to show (another context is opening, or no namespace is chosen): lists, config,
        charts and logs let go of what they showed, so no mesh's data stands under another's name."""
        self.set_source(None)
        self.snapshot = None
        self.lists.set_namespaces(())  # the context left's (the next one's come as it opens)
        self.set_data(None, None)
        self.show_selection([])
        self.logs.set_workload(None)
        self.envoy.set_workload(None)
        self.traces.set_target(None)

    def show_service(self, which: tuple[str, ...], tell: Callable[[str], None] | None = None) -> bool:
        """Select the graph's node of a service the Envoy view names ((namespace, service); "" namespace:
        a ServiceEntry's host; the Istio config view adds its cluster) and bring it into view; say so in
        the Envoy view (or with ``tell``) when the graph has none."""
        namespace, service = which[0], which[1]
        ids = service_node_ids(self.graph, namespace, service, which[2] if len(which) > 2 else "")
        named = f"{service} ({namespace})" if namespace else service
        return self._select_nodes(ids, tell or self.envoy.tell,
                                  f"Service {named} has no node in the graph shown (no traffic to it in this "
                                  "window, a namespace not chosen, or service nodes turned off)")

    def show_workload(self, which: tuple[str, ...]) -> bool:
        """Select the graph's node(s) of a workload the Istio config view names ((namespace, name,
        cluster)): its workload node, or its version's app node (of that cluster, in a graph of several);
        say so in that view when the graph has none."""
        namespace, name = which[0], which[1]
        cluster = which[2] if len(which) > 2 else ""
        nodes = list(self.graph.nodes.values()) if self.graph is not None else []
        ids = [n.id for n in nodes
               if n.node_type in (NODE_WORKLOAD, NODE_APP) and n.namespace == namespace and n.workload == name]
        w = self.inventory.workload(namespace, name) if self.inventory is not None and not ids else None
        if w is not None and w.app:  # an app graph: its app's node
            ids = [n.id for n in nodes if n.node_type == NODE_APP and n.namespace == namespace and n.app == w.app
                   and not n.workload]
        if self.graph is not None:
            ids = _in_cluster(self.graph, ids, cluster)
        return self._select_nodes(ids, self.config.tell,
                                  f"Workload {name} ({namespace}) has no node in the graph shown (no traffic "
                                  "to or from it in this window, or idle nodes hidden)")

    def show_trace(self, trace: Trace) -> bool:
        """Select the graph's nodes and edges a trace went through (Kiali's trace on the graph); the
        Traces dock keeps showing the trace (the selection does not make its first node the target)."""
        self._showing_trace = True
        try:
            return self._select_nodes(trace_path_ids(self.graph, trace), self.traces.note.setText,
                                      "None of the workloads this trace went through has a node in the graph shown")
        finally:
            self._showing_trace = False

    def _select_nodes(self, ids: list[str], tell: Callable[[str], None], none: str) -> bool:
        canvas = getattr(self.window, "view", None)
        if not ids or canvas is None:
            tell(none)
            return False
        canvas.select(ids)
        item = canvas.node_item(ids[0]) if hasattr(canvas, "node_item") else None
        if item is not None:
            canvas.ensureVisible(item)
        return True

    def show_selection(self, ids: list[str]) -> None:
        self.lists.select_graph_ids(ids)
        # (in the order the user selected them: the charts keep "the first of 2 selected" when another is
        # Ctrl+clicked, ``GraphView.selected_ids``)
        if not self._showing_trace:
            target, why = trace_target(self.graph, self.inventory, ids)
            if target is None:
                self.traces.set_target(None, why)
            else:  # with a target, what to say when it has no traces
                self.traces.set_target(target, "", why or tcp_only_hint(self.graph, ids))
        workload = selected_workload(self.graph, self.inventory, ids)
        # an ambient workload has no Envoy of its own: the docks name the waypoint that has
        known = workload is not None and self.inventory is not None \
            and self.inventory.namespace(workload.namespace) is not None
        waypoint = workload_waypoint(self.inventory, workload) if known and workload is not None \
            and not proxy_pods(workload) else None
        self.metrics.waypoint = self.envoy.waypoint = waypoint
        self.metrics.workload = workload  # whose proxies the metrics view's Envoy proxy choice charts
        # an app's node: its workloads' pods, whose runtime dashboards the metrics view offers
        self.metrics.app_pods = selected_app(self.graph, self.inventory, ids, self._dashboards_config()) \
            if workload is None else None
        self.metrics.show_graph_selection(self.graph, ids)
        self.sparklines.show_graph_selection(self.graph, ids)
        if self.docks.get("Charts") is None:
            self.sparkline_area.setVisible(self.sparklines.source is not None and self.sparklines.target is not None)
        mesh = self._mesh_source
        if workload is not None and mesh is not None:
            other = workload.cluster if workload.cluster and workload.cluster != mesh.cluster else ""
            if other != self._pod_cluster and not self._pods_from(other):
                # another cluster's workload whose context is not open: its pods are not this context's to read
                # (the logs and Envoy docks would have asked this cluster's API server for them)
                for dock in (self.logs, self.envoy):
                    if dock.workload is not None:
                        dock.set_workload(None)
                return
        current = self.logs.workload
        if workload is not None and (current is None or (current.namespace, current.name) !=
                                     (workload.namespace, workload.name)):
            self.logs.set_workload(workload)
        elif workload is not None:
            self.logs.update_pods(workload)
        shown = self.envoy.workload
        if workload is not None and (shown is None or (shown.namespace, shown.name) !=
                                     (workload.namespace, workload.name)):
            self.envoy.set_workload(workload)
        elif workload is not None:
            self.envoy.update_pods(workload)

    def _pods_from(self, cluster: str) -> bool:
        """The logs and Envoy docks read the pods of the mesh's cluster ``cluster`` ("": the shown context's)
        through that cluster's own context; False when it is not open (then they are left as they were)."""
        sources = self._pod_sources.get(cluster) or cluster_pod_sources(self._mesh_source, cluster)
        if sources is None:
            return False
        self._pod_sources[cluster] = sources
        logs, envoy = sources
        self._pod_cluster = cluster
        for dock, new in ((self.logs, logs), (self.envoy, envoy)):
            dock.set_workload(None)  # (not the other cluster's pod asked of this one's)
            dock.set_source(new)
        return True

    def set_time(self, t: float | None) -> None:
        """The charts end at ``t`` (replay), or (None) now."""
        for charts in (self.metrics, self.sparklines):
            charts.set_end(float(t or 0))
        self.traces.set_end(float(t or 0))

    def settings_changed(self) -> None:
        """The user saved the settings: the Envoy dock's log-level control, and the Istio config dock's
        Edit and Delete, follow Read-only at once."""
        self.envoy.settings_changed()
        self.config.settings_changed()
        self.metrics.dashboards_changed()  # the runtime dashboards pasted in Settings
        if self._grafana_source is not None and self._grafana_url() != self._grafana_used:
            self._set_grafana(self._grafana_source, "")  # its new address (the context is not reopened for it)

    def shutdown(self) -> None:
        self.grafana.shutdown()  # (its port-forward)
        for w in (self.metrics, self.sparklines, self.logs, self.envoy, self.traces):
            w.shutdown()
