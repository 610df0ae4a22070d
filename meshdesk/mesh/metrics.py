"""Metric charts as data: what to ask Prometheus for a workload, an app, a service, a namespace or an edge.

A ``MetricsTarget`` says whose traffic (label equalities plus the reporter); a ``MetricsSpec`` says
when (range, step, rate window) and how to split (version, remote app, response code).
``meshdesk.sources.metrics`` turns both into PromQL range queries (every value escaped with
``promql.py``); the demo evaluates the same definitions on its own samples. ``MetricsResult`` is what
a source hands back: per chart,
series aligned on the step grid with NaN where Prometheus had no point, so charts draw gaps.

Units: request volume and errors in requests per second, error share as a ratio 0..1, durations in
milliseconds, sizes in bytes, throughput and TCP traffic in bytes per second, gRPC stream messages
and TCP connections per second.

Errors are what Kiali counts as errors: no response (code 0), HTTP 4xx and 5xx, and gRPC statuses 1-16
of requests whose HTTP code is no error (``is_error``). TCP "sent" and "received" follow Kiali's
reading of Istio's L4 telemetry, which is named from the other side (istio/istio#32399): "sent" is
``istio_tcp_received_bytes_total``, as on the graph's TCP edges.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from meshdesk.mesh.dashboards import Dashboard
from meshdesk.mesh.graph.ambient import ambient_namespaces
from meshdesk.mesh.graph.context import inventory_part
from meshdesk.mesh.graph.istio import control_plane_namespaces, lacks_proxy
from meshdesk.mesh.graph.model import (
    BOX_APP,
    BOX_CLUSTER,
    BOX_NAMESPACE,
    NODE_AGGREGATE,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_UNKNOWN,
    NODE_WORKLOAD,
    UNKNOWN,
    Node,
    TrafficGraph,
)

INBOUND = "inbound"
OUTBOUND = "outbound"

KIND_WORKLOAD = "workload"
KIND_APP = "app"
KIND_SERVICE = "service"
KIND_EDGE = "edge"
KIND_OPERATION = "operation"
KIND_SERVICE_ENTRY = "serviceentry"
KIND_NAMESPACE = "namespace"
KIND_CLUSTER = "cluster"

# an operation (aggregate) node's label when the graph did not name it (the graph's own default)
DEFAULT_AGGREGATE = "request_operation"

SPLIT_NONE = ""
SPLIT_VERSION = "version"
SPLIT_REMOTE_APP = "remote_app"
SPLIT_RESPONSE_CODE = "response_code"
SPLITS: tuple[tuple[str, str], ...] = (
    (SPLIT_NONE, "No split"),
    (SPLIT_VERSION, "By version"),
    (SPLIT_REMOTE_APP, "By remote app"),
    (SPLIT_RESPONSE_CODE, "By response code"),
)

REQUESTS = "istio_requests_total"
DURATION = "istio_request_duration_milliseconds"
REQUEST_BYTES = "istio_request_bytes"
RESPONSE_BYTES = "istio_response_bytes"
GRPC_REQUEST_MESSAGES = "istio_request_messages_total"
GRPC_RESPONSE_MESSAGES = "istio_response_messages_total"
TCP_SENT = "istio_tcp_sent_bytes_total"
TCP_RECEIVED = "istio_tcp_received_bytes_total"
TCP_OPENED = "istio_tcp_connections_opened_total"
TCP_CLOSED = "istio_tcp_connections_closed_total"

STAT_RATE = "rate"
STAT_AVG = "avg"
QUANTILE_STATS: dict[str, float] = {"p50": 0.5, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    unit: str  # ops/s, ratio, ms, B, B/s, msg/s, conn/s
    kind: str  # counter | errors | error_share | histogram | throughput
    metric: str
    stats: tuple[str, ...] = (STAT_RATE,)
    tcp: bool = False
    spans: int = 6  # its width in twelfths of the Metrics dock's (a runtime dashboard's may say: Kiali's spans)
    # how a runtime dashboard's chart is drawn, as it says (Kiali's chartType, min and max, xAxis, startCollapsed):
    # line, area, bar or scatter ("": lines, or bars over series); its y axis' ends; "time" or "series" (a bar
    # per line, its latest value); folded until clicked
    drawn_as: str = ""
    y_min: float | None = None
    y_max: float | None = None
    x_axis: str = "time"
    start_collapsed: bool = False


CHARTS: tuple[Chart, ...] = (
    Chart("request_volume", "Request volume", "ops/s", "counter", REQUESTS),
    Chart("request_errors", "Errors", "ops/s", "errors", REQUESTS),
    Chart("error_share", "Error share", "ratio", "error_share", REQUESTS),
    Chart("request_duration", "Request duration", "ms", "histogram", DURATION, (STAT_AVG, "p50", "p95", "p99")),
    Chart("request_size", "Request size", "B", "histogram", REQUEST_BYTES, (STAT_AVG, "p50", "p95", "p99")),
    Chart("response_size", "Response size", "B", "histogram", RESPONSE_BYTES, (STAT_AVG, "p50", "p95", "p99")),
    Chart("request_throughput", "Request throughput", "B/s", "throughput", REQUEST_BYTES),
    Chart("response_throughput", "Response throughput", "B/s", "throughput", RESPONSE_BYTES),
    # gRPC streams: messages, as Kiali's "gRPC sent" (request messages) and "gRPC received" (responses)
    Chart("grpc_request_messages", "gRPC request messages", "msg/s", "counter", GRPC_REQUEST_MESSAGES),
    Chart("grpc_response_messages", "gRPC response messages", "msg/s", "counter", GRPC_RESPONSE_MESSAGES),
    # Istio names L4 bytes from the other side; Kiali (and the graph's TCP edges) read them swapped
    Chart("tcp_sent", "TCP sent", "B/s", "counter", TCP_RECEIVED, tcp=True),
    Chart("tcp_received", "TCP received", "B/s", "counter", TCP_SENT, tcp=True),
    Chart("tcp_opened", "TCP connections opened", "conn/s", "counter", TCP_OPENED, tcp=True),
    Chart("tcp_closed", "TCP connections closed", "conn/s", "counter", TCP_CLOSED, tcp=True),
)
# A proxy's own metrics (Envoy's statistics as Prometheus scrapes them from each pod, labelled with its
# namespace and pod), one line per pod: Kiali's "Envoy Metrics" dashboard. A gauge is charted as read;
# a counter as its rate.
KIND_PROXY = "proxy"
PROXY = "proxy"  # the metrics view's third choice beside INBOUND and OUTBOUND
PROXY_DISCOVERY = "envoy_server_uptime"  # present when Prometheus scrapes the proxies (as Kiali discovers it)
# not a chart: a proxy target's line of how many proxies, of any pod, Prometheus has metrics of
# (PROXY_DISCOVERY's series): none of the target's pods but others tells a scrape that labels them
# otherwise (or has not reached these pods yet) from none scraped at all
PROXY_SCRAPED = "proxy_scraped"
# not a chart either: how many upstream clusters other than the one to istiod (Envoy's cluster
# "xds-grpc") the target's proxies report; none, with upstream charts drawn, means those charts show the
# connection to istiod only (Istio's proxies keep no other cluster's statistics unless told)
PROXY_ISTIOD_CLUSTER = "xds-grpc"
PROXY_OTHER_CLUSTERS = "proxy_other_clusters"
PROXY_CHARTS: tuple[Chart, ...] = (
    Chart("proxy_uptime", "Proxy uptime", "s", "gauge", "envoy_server_uptime"),
    Chart("proxy_memory_allocated", "Allocated memory", "B", "gauge", "envoy_server_memory_allocated"),
    Chart("proxy_heap_size", "Heap size", "B", "gauge", "envoy_server_memory_heap_size"),
    Chart("proxy_upstream_cx_active", "Upstream active connections", "conn", "gauge",
          "envoy_cluster_upstream_cx_active"),
    Chart("proxy_upstream_rq", "Upstream requests", "ops/s", "counter", "envoy_cluster_upstream_rq_total"),
    Chart("proxy_downstream_cx_active", "Downstream active connections", "conn", "gauge",
          "envoy_listener_downstream_cx_active"),
    Chart("proxy_downstream_rq", "Downstream HTTP requests", "ops/s", "counter", "envoy_listener_http_downstream_rq"),
)
CHARTS_BY_KEY: dict[str, Chart] = {c.key: c for c in (*CHARTS, *PROXY_CHARTS)}
# a runtime dashboard (``meshdesk.mesh.dashboards``) of a workload: the view's further choices beside
# INBOUND, OUTBOUND and PROXY are "dashboard:<name>"
KIND_DASHBOARD = "dashboard"
DASHBOARD = "dashboard:"


def dashboard_charts(dashboard: Dashboard) -> tuple[Chart, ...]:
    """A dashboard's charts as the view's charts: a gauge read as is, a counter as its rate, a histogram
    as its average and quantiles."""
    kinds = {"raw": "gauge", "rate": "counter", "histogram": "histogram"}
    return tuple(Chart(dashboard.chart_key(i), c.title, c.unit, kinds[c.data_type], c.metrics[0][0],
                       (STAT_AVG, "p50", "p95", "p99") if c.data_type == "histogram" else (STAT_RATE,),
                       spans=c.spans, drawn_as=c.chart_type, y_min=c.y_min, y_max=c.y_max, x_axis=c.x_axis,
                       start_collapsed=c.start_collapsed)
                 for i, c in enumerate(dashboard.charts))
SPARKLINE_CHARTS: tuple[str, ...] = ("request_volume", "error_share", "request_duration", "tcp_sent")


# Kiali's errors (BuildForErrors): no response or an HTTP 4xx/5xx; else a gRPC status 1-16. As
# Prometheus matchers (anchored), and as a test of one series' labels for the demo's own evaluation.
ERROR_CODES = "0|[45][0-9][0-9]"
GRPC_ERROR_STATUSES = "[1-9]|1[0-6]"


def is_error(labels: Mapping[str, str]) -> bool:
    code = labels.get("response_code", "")
    if code == "0" or (len(code) == 3 and code[0] in "45" and code.isdigit()):
        return True
    status = labels.get("grpc_response_status", "")
    return status.isdigit() and 1 <= int(status) <= 16


@dataclass(frozen=True)
class MetricsTarget:
    """Whose traffic: equalities on Istio's standard labels, a reporter and a direction (which side
    is "local": it decides what version and remote-app splits mean)."""

    kind: str
    namespace: str
    name: str
    direction: str = INBOUND
    reporter: str = "destination"
    labels: tuple[tuple[str, str], ...] = ()
    title: str = ""
    # whether an ambient waypoint's reports count too: for an ambient workload, app or service (as
    # Kiali includes them); elsewhere a waypoint on the way would report the same requests again
    waypoint: bool = False
    # labels that may take any of several values (e.g. the hosts a ServiceEntry's node stands for)
    any_of: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # labels that must take none of these values (e.g. an ambient service's hop into its waypoint)
    none_of: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # destinations without a proxy (a label, its values and the namespace they are in, "" for the
    # target's own: a namespace's workloads that run without a sidecar), whose requests only their
    # callers report: their series are read from the callers' reports (reporter "source"), every other
    # series from the target's reporters
    by_callers: tuple[tuple[str, tuple[str, ...], str], ...] = ()
    # the side that has no proxy to report these requests ("destination": a server without a sidecar),
    # so that charting its reports ("Reported by") shows none
    unreported: str = ""
    # a runtime dashboard's charts (KIND_DASHBOARD): the dashboard, its charts resolved
    dashboard: Dashboard | None = None

    @staticmethod
    def workload(namespace: str, name: str, direction: str = INBOUND) -> MetricsTarget:
        side = "destination" if direction == INBOUND else "source"
        return MetricsTarget(KIND_WORKLOAD, namespace, name, direction, side,
                             ((f"{side}_workload_namespace", namespace), (f"{side}_workload", name)),
                             f"workload {namespace}/{name} ({direction})")

    @staticmethod
    def app(namespace: str, name: str, direction: str = INBOUND, version: str = "") -> MetricsTarget:
        side = "destination" if direction == INBOUND else "source"
        labels = [(f"{side}_workload_namespace", namespace), (f"{side}_canonical_service", name)]
        if version:
            labels.append((f"{side}_canonical_revision", version))
        return MetricsTarget(KIND_APP, namespace, name, direction, side, tuple(labels),
                             f"app {namespace}/{name}{' ' + version if version else ''} ({direction})")

    @staticmethod
    def service(namespace: str, name: str, direction: str = INBOUND) -> MetricsTarget:
        """Requests to the service (reported by the servers' proxies). A service has no outbound
        traffic of its own (as in Kiali); ``direction=OUTBOUND`` is refused."""
        if direction != INBOUND:
            raise ValueError("a service only has inbound metrics; ask for its workloads' outbound traffic")
        return MetricsTarget(KIND_SERVICE, namespace, name, INBOUND, "destination",
                             (("destination_service_namespace", namespace), ("destination_service_name", name)),
                             f"service {namespace}/{name}")

    @staticmethod
    def namespace_traffic(namespace: str, direction: str = INBOUND) -> MetricsTarget:
        """A namespace's traffic, as Kiali charts a namespace: inbound, the requests into its workloads
        (their proxies' reports); outbound, the requests its workloads sent (their own reports). Requests
        between two workloads of the namespace count in both directions."""
        side = "destination" if direction == INBOUND else "source"
        return MetricsTarget(KIND_NAMESPACE, namespace, namespace, direction, side,
                             ((f"{side}_workload_namespace", namespace),),
                             f"namespace {namespace} ({direction})")

    @staticmethod
    def proxy(namespace: str, workload: str, pods: Sequence[str]) -> MetricsTarget:
        """The proxies of a workload's pods, by the labels Prometheus' pod scrape gives their own metrics
        (``namespace``, ``pod``): one line per pod."""
        return MetricsTarget(KIND_PROXY, namespace, workload, PROXY, "", (("namespace", namespace),),
                             f"proxies of workload {namespace}/{workload}", any_of=(("pod", tuple(pods)),))

    @staticmethod
    def runtime(namespace_label: str, namespace: str, workload: str, app_labels: Sequence[tuple[str, str]],
                dashboard: Dashboard, of: str = "workload") -> MetricsTarget:
        """A runtime dashboard of a workload's pods (``of`` "app": of an app's, named ``workload``; Kiali's
        custom dashboards): their own metrics, selected by the namespace label and the app and version labels
        Prometheus' pod scrape copies from them."""
        return MetricsTarget(KIND_DASHBOARD, namespace, workload, f"{DASHBOARD}{dashboard.name}", "",
                             ((namespace_label, namespace), *app_labels),
                             f"{dashboard.title} of {of} {namespace}/{workload}", dashboard=dashboard)

    @property
    def reporters(self) -> tuple[str, ...]:
        """The reporters whose series count: ``reporter`` (both sides for ``REPORTED_BY_BOTH``), and for an
        ambient target an Istio ambient waypoint, which reports the requests of workloads that have no
        sidecar (as Kiali reads reporter=~"waypoint|...")."""
        mine = ("source", "destination") if self.reporter == REPORTED_BY_BOTH else (self.reporter,)
        return (*mine, "waypoint") if self.waypoint else mine

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a series with ``labels`` belongs to this target (for sources without PromQL)."""
        if self.kind == KIND_PROXY:
            return all(labels.get(k) == v for k, v in self.labels) and all(labels.get(k) in vs for k, vs in self.any_of)
        if not (all(labels.get(k) == v for k, v in self.labels) and all(labels.get(k) in vs for k, vs in self.any_of)
                and not any(labels.get(k) in vs for k, vs in self.none_of)):
            return False
        if any(labels.get(k) in vs and (not ns or labels.get("destination_workload_namespace") == ns)
               for k, vs, ns in self.by_callers):
            return labels.get("reporter") == "source"
        return labels.get("reporter") in self.reporters

    def split_label(self, split: str, tcp: bool = False) -> str:
        """The Prometheus label a split groups by ("" for none; labels joined by commas when the lines are
        also each reporter's: ``REPORTED_BY_BOTH``). A proxy target's lines are its pods'. A TCP chart
        (``tcp``) is not split by response code: TCP series have none."""
        if self.kind == KIND_PROXY:
            return "pod"
        if self.kind == KIND_DASHBOARD:
            return split  # one of the dashboard's aggregation labels
        base = "" if tcp and split == SPLIT_RESPONSE_CODE else self._split_base(split)
        return ",".join(x for x in ("reporter", base) if x) if self.reporter == REPORTED_BY_BOTH else base

    def _split_base(self, split: str) -> str:
        if split == SPLIT_NONE:
            return ""
        if split == SPLIT_RESPONSE_CODE:
            return "response_code"
        local, remote = ("destination", "source") if self.direction == INBOUND else ("source", "destination")
        if split == SPLIT_VERSION:
            return f"{local}_canonical_revision"
        if split == SPLIT_REMOTE_APP:
            return f"{remote}_canonical_service"
        raise ValueError(f"unknown split {split!r}")


def split_value(labels: Mapping[str, str], label: str) -> str:
    """A series' value of the split ``label`` ("" when not split). A series without the label (a workload
    with no version label, a TCP series under a response-code split's label) is named for what it lacks,
    "(no version)", not left unnamed (it was given the chart's title, beside "v1" and "v2")."""
    if not label:
        return ""
    if "," in label:  # several labels (each reporter's lines, split again): "source · v1"
        return " · ".join(split_value(labels, one) for one in label.split(","))
    value = labels.get(label, "")
    if value:
        return value
    if label.endswith("_canonical_revision"):
        return "(no version)"
    if label.endswith("_canonical_service"):
        return "(no app)"
    return f"(no {label.replace('_', ' ')})"


def _aggregate_labels(node: Node) -> list[tuple[str, str]]:
    """An operation (aggregate) node's requests: those carrying its operation, into the services of
    its namespace (or into its one service, when the graph has service nodes and so one operation
    node per service), as the graph drew it."""
    out = [(node.aggregate or DEFAULT_AGGREGATE, node.aggregate_value)]
    if node.service:
        out += [("destination_service_namespace", node.namespace), ("destination_service_name", node.service)]
    elif node.namespace:
        out.append(("destination_workload_namespace", node.namespace))
    return out


def _side_labels(node: Node, side: str) -> list[tuple[str, str]]:
    if node.node_type == NODE_AGGREGATE:  # whichever end: an operation is of the requests' destination
        return _aggregate_labels(node)
    if node.node_type == NODE_WORKLOAD:
        return [(f"{side}_workload_namespace", node.namespace), (f"{side}_workload", node.workload)]
    if node.node_type == NODE_APP:
        out = [(f"{side}_workload_namespace", node.namespace), (f"{side}_canonical_service", node.app)]
        if node.version:
            out.append((f"{side}_canonical_revision", node.version))
        return out
    if node.node_type == NODE_SERVICE and side == "destination":
        return [("destination_service_namespace", node.namespace), ("destination_service_name", node.service)]
    if node.node_type == NODE_UNKNOWN:
        return [(f"{side}_workload", UNKNOWN)]
    return []


def _known(cluster: str) -> bool:
    return bool(cluster) and cluster != UNKNOWN


def spans_clusters(graph: TrafficGraph) -> bool:
    """Whether the graph spans several clusters: then a chart, or a node graph, keeps to its node's
    cluster. In one cluster it needs no cluster label (telemetry without cluster labels still shows)."""
    return len(graph.clusters()) > 1


def _ambient(graph: TrafficGraph, *nodes: Node) -> bool:
    """Whether a waypoint's reports belong to these nodes' metrics: one of them is in an ambient
    namespace, or is a waypoint."""
    return any(graph.ambient_in(n.namespace, n.cluster) or n.extra.get("isWaypoint") for n in nodes)


# who reports the charted requests, as Kiali's "Reported from" choice: "" as the graph reads them (the
# server's proxy, its callers' when it has none), or every series from one side's proxies
REPORTED_AS_GRAPH, REPORTED_BY_DESTINATION, REPORTED_BY_SOURCE = "", "destination", "source"
REPORTED_BY_BOTH = "both"  # a line per reporter, side by side (Kiali's "Both")
REPORTERS = ((REPORTED_AS_GRAPH, "as the graph"), (REPORTED_BY_DESTINATION, "destination"),
             (REPORTED_BY_SOURCE, "source"), (REPORTED_BY_BOTH, "both (a line each)"))


def reported_by(target: MetricsTarget | None, reporter: str) -> MetricsTarget | None:
    """``target`` as ``reporter``'s proxies report it ("source": the callers', which alone see requests
    that never reached the server - a tripped circuit breaker, no healthy host, injected faults;
    "destination": the servers', which alone see callers outside the mesh), or as it was made for ""
    (and for a proxy's own metrics, which no side reports). A waypoint's reports, a server's, count
    with the destination's only; with "both" they are a line of their own, as in Kiali's "Both" (every
    reporter, a line each): an ambient workload's requests, which only its waypoint reports, were
    missing from both lines."""
    if target is None or not reporter or target.kind == KIND_PROXY:
        return target
    both = reporter == REPORTED_BY_BOTH
    said = "reported by the source and the destination" if both else f"reported by the {reporter}"
    if both and target.waypoint:
        said = "reported by the source, the destination and the waypoint"
    if reporter == target.unreported:
        said += " (the destination has no proxy to report them: nothing to show)"
    return replace(target, reporter=reporter, by_callers=(),
                   waypoint=both or (target.waypoint and reporter == "destination"),
                   title=f"{target.title}, {said}")


def target_for_node(graph: TrafficGraph, node_id: str, direction: str = INBOUND) -> MetricsTarget | None:
    """The target for a graph node (workload, app, app box, namespace or cluster box, service, ServiceEntry
    or operation); None for nodes without metrics. What comes into a workload without a sidecar is read from its callers' reports; a
    ServiceEntry's node charts the requests to the hosts it stands for (``_entry_target``)."""
    node = graph.nodes.get(node_id)
    if node is None:
        return None
    target = None
    if node.node_type == NODE_AGGREGATE:
        # as Kiali's aggregate metrics: the destination's reports of the requests carrying the
        # operation, inbound only (an operation sends nothing of its own)
        if direction != INBOUND or not node.aggregate_value:
            return None
        target = MetricsTarget(KIND_OPERATION, node.namespace, node.aggregate_value, INBOUND, "destination",
                               tuple(_aggregate_labels(node)),
                               f"operation {node.namespace}/{node.aggregate_value}"
                               + (f" of service {node.service}" if node.service else ""))
    elif node.node_type == NODE_WORKLOAD:
        target = MetricsTarget.workload(node.namespace, node.workload, direction)
    elif node.node_type == NODE_APP:
        target = MetricsTarget.app(node.namespace, node.app, direction, node.version)
    elif node.node_type == NODE_BOX and node.box == BOX_APP and node.app:
        # an app box is the app, all its versions (as Kiali charts an app box)
        target = MetricsTarget.app(node.namespace, node.app, direction)
    elif node.node_type == NODE_BOX and node.box in (BOX_NAMESPACE, BOX_CLUSTER):
        target = _box_target(graph, node, direction)
    elif node.node_type == NODE_SERVICE and node.is_service_entry is not None:
        # the requests to the hosts it stands for (an entry sends nothing of its own); its own cluster,
        # as the graph asked for it there, is told by whichever side reports
        if direction != INBOUND or not _is_entry(node):
            return None
        target = _entry_target(graph, node)
        if spans_clusters(graph) and _known(node.cluster):
            target = replace(target, labels=(*target.labels, (f"{target.reporter}_cluster", node.cluster)))
        return target
    elif node.node_type == NODE_SERVICE and direction == INBOUND and unserved_only(graph):
        # without injected service nodes a workload or app graph draws a service node only for the
        # requests no workload served (a 503 with no healthy host, a route to nowhere), the rest going
        # straight to the workloads: its charts keep to those, as its edges' do and as Kiali's side panel
        # narrows them, read from the callers' reports (no server saw them). They charted all the
        # service's traffic, many times what came into the node
        target = MetricsTarget.service(node.namespace, node.service)
        target = replace(target, reporter="source", labels=(*target.labels, ("destination_workload", UNKNOWN)),
                         title=f"{target.title}: requests no workload served", unreported="destination")
    elif node.node_type == NODE_SERVICE and direction == INBOUND:
        target = MetricsTarget.service(node.namespace, node.service)
        served = [graph.nodes[e.target] for e in graph.out_edges(node.id) if e.target in graph.nodes]
        if served and all(n.has_missing_sidecar for n in served):
            # no proxy behind it reports what comes in: its callers' reports tell (as for its edges)
            target = replace(target, reporter="source", unreported="destination")
        waypoints = tuple(sorted({n.workload for n in graph.nodes.values() if n.extra.get("isWaypoint")
                                  and n.workload}))
        if waypoints and _ambient(graph, node):
            # ztunnel reports both hops of a request through a waypoint under this service: the one into
            # the waypoint is left out, or every byte would count twice (the waypoint may be another
            # namespace's: istio.io/use-waypoint-namespace)
            target = replace(target, none_of=(("destination_workload", waypoints),))
    if target is not None:
        target = in_own_cluster(graph, node, target)
    missing_sidecar = node.has_missing_sidecar
    if node.node_type == NODE_BOX:
        # a box is marked when any member is; its callers' reports only when no member has a proxy (one
        # version without a sidecar must not drop what the others' proxies report)
        members = _box_members(graph, node)
        missing_sidecar = bool(members) and all(n.has_missing_sidecar for n in members)
    if target is not None and direction == INBOUND and missing_sidecar:
        # no proxy of its own reports what comes in: its callers' reports tell (as for its edges)
        target = replace(target, reporter="source", by_callers=(), unreported="destination")
    if target is not None and (_ambient(graph, node) or node.node_type == NODE_BOX
                               and _ambient(graph, *_box_members(graph, node))):
        target = replace(target, waypoint=True)
    return target


def unserved_only(graph: TrafficGraph) -> bool:
    """Whether the graph's service nodes stand only for the requests no workload served: a workload or
    app graph without injected service nodes, whose edges go from a caller straight to the workloads
    that served it (Kiali's "service destination corner case")."""
    return not graph.request.injectServiceNodes and graph.request.graphType != "service"


def with_graph_namespaces(graph: TrafficGraph, item_id: str, target: MetricsTarget | None) -> MetricsTarget | None:
    """``target`` of a node outside the graph's namespaces kept to its traffic with them, as Kiali's side
    panel keeps such a node's: inbound, what their workloads sent it; outbound, what it sent to their
    services. Any other target (an edge, a box, a node of the graph's namespaces, a graph of every
    namespace) is as it was: a box is marked outside when one of its members is, and a cluster box
    already keeps to the graph's namespaces."""
    node = graph.nodes.get(item_id)
    namespaces = tuple(graph.request.namespaces)
    if target is None or node is None or not node.is_outside or node.node_type == NODE_BOX or not namespaces \
            or target.kind == KIND_PROXY:
        return target
    label = "source_workload_namespace" if target.direction == INBOUND else "destination_service_namespace"
    return replace(target, any_of=(*target.any_of, (label, namespaces)))


def graph_namespaces_said(graph: TrafficGraph, direction: str) -> str:
    """How a node's charts kept to the graph's namespaces (``with_graph_namespaces``) are said: "from
    namespace tutorial", "to namespaces a, b"."""
    namespaces = tuple(graph.request.namespaces)
    word = "namespace" if len(namespaces) == 1 else "namespaces"
    return f"{'from' if direction == INBOUND else 'to'} {word} {', '.join(namespaces)}"


def in_own_cluster(graph: TrafficGraph, node: Node, target: MetricsTarget) -> MetricsTarget:
    """``target`` kept to ``node``'s own cluster when the graph spans several (as Kiali narrows by cluster)."""
    if not (spans_clusters(graph) and _known(node.cluster)):
        return target
    side = "destination" if target.direction == INBOUND else "source"
    return replace(target, labels=(*target.labels, (f"{side}_cluster", node.cluster)))


def _box_members(graph: TrafficGraph, box: Node) -> list[Node]:
    """The nodes whose proxies report a box's traffic: an app box's versions; the workloads and apps
    anywhere inside a namespace or cluster box (inner boxes included)."""
    if box.box == BOX_APP:
        # its versions only: the service node a graph draws inside the box has no proxy of its own
        return [n for n in graph.nodes.values() if n.parent == box.id and n.node_type in (NODE_WORKLOAD, NODE_APP)]
    children: dict[str, list[Node]] = {}
    for n in graph.nodes.values():
        if n.parent:
            children.setdefault(n.parent, []).append(n)
    out: list[Node] = []
    todo = list(children.get(box.id, []))
    while todo:
        n = todo.pop()
        if n.node_type == NODE_BOX:
            todo += children.get(n.id, [])
        elif n.node_type in (NODE_WORKLOAD, NODE_APP):
            out.append(n)
    return out


def _box_target(graph: TrafficGraph, box: Node, direction: str) -> MetricsTarget | None:
    """A namespace box's traffic (``MetricsTarget.namespace_traffic``, as Kiali charts a namespace); a
    cluster box's, that of the namespaces the graph shows in it (the graph's cluster is more than them).
    In an ambient namespace ztunnel reports a request's bytes on the hop into the waypoint and again on
    the hop out of it, both inside the namespace: the hop into (or, outbound, out of) the waypoint is
    left out, so each byte counts once."""
    side = "destination" if direction == INBOUND else "source"
    members = _box_members(graph, box)
    if box.box == BOX_NAMESPACE:
        namespaces: tuple[str, ...] = (box.namespace,)
        target = MetricsTarget.namespace_traffic(box.namespace, direction)
    else:
        namespaces = tuple(sorted({n.namespace for n in graph.nodes.values() if n.node_type != NODE_BOX
                                   and n.cluster == box.cluster and _known(n.namespace)}))
        if not namespaces:
            return None
        target = MetricsTarget(KIND_CLUSTER, "", box.cluster, direction, side, (),
                               f"cluster {box.cluster}, namespace{'s' if len(namespaces) > 1 else ''} "
                               f"{', '.join(namespaces)} ({direction})",
                               any_of=((f"{side}_workload_namespace", namespaces),))
    waypoints = tuple(sorted({n.workload for n in graph.nodes.values() if n.extra.get("isWaypoint")
                              and n.namespace in namespaces and n.workload
                              and (box.box == BOX_NAMESPACE or n.cluster == box.cluster)}))
    if waypoints and (_ambient(graph, box) or _ambient(graph, *members)):
        target = replace(target, none_of=((f"{side}_workload", waypoints),))
    if direction == INBOUND:
        # what comes into its workloads without a proxy: their callers' reports (as the graph's edges)
        target = replace(target, by_callers=_callers_report(graph, box, members, namespaces))
    return target


def _callers_report(graph: TrafficGraph, box: Node, members: Iterable[Node],
                    namespaces: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """``MetricsTarget.by_callers`` for a namespace or cluster box: the box's workloads without a proxy,
    each in its namespace (for a namespace box, "": the target keeps to it). They are the graph's
    workload and app nodes marked so (an app node without a workload by its app), and the inventory's
    workloads of those namespaces that lack one (``istio.lacks_proxy``), which a graph of services
    does not show as nodes: those of the box's own cluster (``inventory_part``)."""
    by: dict[tuple[str, str], set[str]] = {}
    for n in members:
        if n.has_missing_sidecar and n.namespace in namespaces:
            label, value = ("destination_workload", n.workload) if n.workload else \
                ("destination_canonical_service", n.app)
            if value:
                by.setdefault((label, n.namespace), set()).add(value)
    inventory = graph.health_basis.inventory if graph.health_basis is not None else None
    if inventory is not None and _known(box.cluster):
        # the box's own cluster's workloads (an inventory merged from several clusters holds each one's)
        inventory = inventory_part(inventory, {n.cluster for n in graph.nodes.values()})(box.cluster)
    if inventory is not None:
        ambient, control = ambient_namespaces(inventory), control_plane_namespaces(inventory)
        for w in inventory.workloads:
            if w.namespace in namespaces and lacks_proxy(w, ambient, control):
                by.setdefault(("destination_workload", w.namespace), set()).add(w.name)
    one = box.box == BOX_NAMESPACE
    if one:
        merged: dict[tuple[str, str], set[str]] = {}
        for (label, _ns), values in by.items():
            merged.setdefault((label, ""), set()).update(values)
        by = merged
    return tuple((label, tuple(sorted(values)), ns) for (label, ns), values in sorted(by.items()))


def _is_entry(node: Node) -> bool:
    return node.node_type == NODE_SERVICE and node.is_service_entry is not None and bool(node.dest_services)


def _entry_hosts(node: Node) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A ServiceEntry node's telemetry: the destination services it stands for (the hosts callers
    reached, as the graph matched them to the entry), which are not the entry's name."""
    return (("destination_service_namespace", tuple(sorted({d.namespace for d in node.dest_services}))),
            ("destination_service_name", tuple(sorted({d.name for d in node.dest_services}))))


def _entry_target(graph: TrafficGraph, node: Node) -> MetricsTarget:
    """A ServiceEntry node's inbound requests: those to the hosts it stands for (``_entry_hosts``), as
    its edges are read. The servers report them when every workload behind the entry has a proxy (an
    internal entry of meshed workloads); otherwise only the callers' proxies do (an external host)."""
    info = node.is_service_entry
    assert info is not None
    served = [graph.nodes[e.target] for e in graph.out_edges(node.id) if e.target in graph.nodes]
    meshed = bool(served) and all(n.node_type in (NODE_WORKLOAD, NODE_APP) and not n.has_missing_sidecar
                                  for n in served)
    name = info.name or node.service
    hosts = ", ".join(sorted({d.name for d in node.dest_services}))
    return MetricsTarget(KIND_SERVICE_ENTRY, node.namespace, name, INBOUND, "destination" if meshed else "source",
                         (), f"ServiceEntry {info.namespace or node.namespace}/{name}: requests to {hosts}",
                         _ambient(graph, node), _entry_hosts(node))


# Kiali: "service-to-service edges are unsupported because they represent aggregations (of multiple
# workload to service edges)"; no label of Istio's telemetry names the service a request came through
SERVICE_TO_SERVICE = ("Charts are not available for service-to-service edges (each sums the requests of every "
                      "workload behind the source service)")


# Kiali gives the unknown node no details page: it is no workload, only the name Istio's telemetry gives
# a client it could not identify; what is known of it is on its edges (read from their servers' reports)
UNKNOWN_NODE = ("The unknown node has no metrics of its own: it stands for clients Istio could not identify "
                "(without a sidecar, or from outside the mesh), whose proxies report nothing. Select one of its "
                "edges to chart the requests they sent, as the servers reported them")


# a cluster box with no namespace of its own in the graph (its members are of the unknown namespace)
BOX_WITHOUT_CHARTS = ("The {box} box {name} has no charts of its own: select a workload, app, service or edge "
                      "in it")


def no_charts_reason(graph: TrafficGraph | None, item_id: str) -> str:
    """Why a graph item that exists has no charts of its own ("" when it has, or is unknown): a
    service-to-service edge (of a service graph) sums traffic no label selects; the unknown node is
    no workload of its own (its edges have charts); a cluster box of no known namespace has no traffic
    to select."""
    if graph is None:
        return ""
    node = graph.nodes.get(item_id)
    if node is not None and node.node_type == NODE_BOX and node.box != BOX_APP \
            and _box_target(graph, node, INBOUND) is None:
        return BOX_WITHOUT_CHARTS.format(box=node.box, name=node.label)
    if node is not None:
        return UNKNOWN_NODE if node.node_type == NODE_UNKNOWN else ""
    edge = graph.edges.get(item_id)
    if edge is None:
        return ""
    src, dst = graph.nodes.get(edge.source), graph.nodes.get(edge.target)
    if src is not None and dst is not None and src.node_type == NODE_SERVICE and dst.node_type == NODE_SERVICE:
        return SERVICE_TO_SERVICE
    return ""


def _dedupe(labels: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(labels))


def target_for_edge(graph: TrafficGraph, edge_id: str) -> MetricsTarget | None:
    """The target for an edge: the source side's and the destination side's labels. Reported by the
    client's proxy when the source is a workload or app, else by the server's. An edge into or out of
    an operation node keeps to that operation, read from the destination's reports (which alone carry
    it). None for a service-to-service edge (``no_charts_reason`` says why)."""
    edge = graph.edges.get(edge_id)
    if edge is None:
        return None
    src, dst = graph.nodes.get(edge.source), graph.nodes.get(edge.target)
    if src is None or dst is None or no_charts_reason(graph, edge_id):
        return None
    operation = NODE_AGGREGATE in (src.node_type, dst.node_type)
    labels: list[tuple[str, str]] = []
    any_of: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if src.node_type == NODE_SERVICE and _is_entry(src):  # an internal entry's node -> its workloads
        any_of = _entry_hosts(src)
    elif src.node_type == NODE_SERVICE:  # an injected service node: service -> its workloads
        labels += [("destination_service_namespace", src.namespace), ("destination_service_name", src.service)]
    else:
        labels += _side_labels(src, "source")
    unserved = False
    if _is_entry(dst):
        any_of = _entry_hosts(dst)
    else:
        labels += _side_labels(dst, "destination")
        if dst.node_type == NODE_SERVICE and unserved_only(graph):
            # without injected service nodes, an edge ends at a service only for the requests no
            # workload served (a 503, a route to nowhere): its charts keep to those, as Kiali's do
            labels.append(("destination_workload", UNKNOWN))
            unserved = dst.is_service_entry is None
    if spans_clusters(graph):
        if src.node_type not in (NODE_SERVICE, NODE_AGGREGATE) and _known(src.cluster):
            labels.append(("source_cluster", src.cluster))
        if _known(dst.cluster):
            labels.append(("destination_cluster", dst.cluster))
    # the edge's own protocol only: a pair of nodes speaking gRPC and HTTP has an edge for each (Kiali)
    labels.append(("request_protocol", edge.protocol))
    # its client's report, unless the client cannot report it (no sidecar) or is a gateway (Kiali reads
    # a gateway's edges from the destination's side); a server without a sidecar reports nothing, so
    # then the client's report it is whatever the client is. An operation is known from the
    # destination's reports only; and ztunnel reports the TCP hop out of a waypoint on the workload's
    # side (as Kiali reads a waypoint's "from" edge)
    waypoint = edge.extra.get("waypoint")
    from_waypoint = isinstance(waypoint, dict) and waypoint.get("direction") == "from"
    if operation or (edge.protocol == "tcp" and from_waypoint):
        reporter = "destination"
    elif (src.node_type in (NODE_WORKLOAD, NODE_APP) and not src.has_missing_sidecar and not src.is_gateway) \
            or dst.has_missing_sidecar or unserved:
        # (requests no workload served: no server reported them, whoever the caller is)
        reporter = "source"
    else:
        reporter = "destination"
    title = f"{src.label} \u2192 {dst.label} ({edge.protocol})"
    return MetricsTarget(KIND_EDGE, dst.namespace, edge_id, INBOUND, reporter, tuple(_dedupe(labels)), title,
                         _ambient(graph, src, dst), any_of,
                         unreported="destination" if (dst.has_missing_sidecar or unserved) and not operation else "")


@dataclass(frozen=True)
class MetricsSpec:
    """When and how: ``range_s`` seconds back from ``end`` (0 = now) every ``step_s`` seconds, rates
    over ``rate_window_s`` (default: max(60 s, step)), split by ``split``, charts by key."""

    range_s: int = 1800
    step_s: int = 60
    split: str = SPLIT_NONE
    charts: tuple[str, ...] = tuple(c.key for c in CHARTS)
    rate_window_s: int = 0
    end: float = 0.0

    @property
    def window_s(self) -> int:
        return self.rate_window_s or max(60, int(self.step_s))

    def grid(self, end: float) -> list[float]:
        """The step grid Prometheus evaluates a range query on: start, start+step, ... <= end."""
        start = end - self.range_s
        n = int(math.floor(self.range_s / self.step_s + 1e-9))
        return [start + i * self.step_s for i in range(n + 1)]


# -- results --------------------------------------------------------------------------------------


@dataclass
class Line:
    """One drawn line: times (unix s) on the step grid and values (NaN where there was no point)."""

    chart: str
    stat: str
    split_value: str
    times: list[float]
    values: list[float]
    title: str = ""  # a runtime dashboard chart's title (its key is none of CHARTS_BY_KEY's)
    # its series' values of the labels it is split by ((label, value)...): a runtime dashboard's lines of one
    # value of a label are shown alone (Kiali's singleSelection)
    by: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        parts = [p for p in (self.split_value, "" if self.stat == STAT_RATE else self.stat) if p]
        return " ".join(parts) or self.title or CHARTS_BY_KEY[self.chart].title


@dataclass
class MetricsResult:
    target: MetricsTarget
    spec: MetricsSpec
    end: float
    lines: dict[str, list[Line]] = field(default_factory=dict)  # chart key -> lines
    warnings: list[str] = field(default_factory=list)  # partial answers (of any query): shown, data kept
    errors: dict[str, str] = field(default_factory=dict)  # chart key -> why it has no data
    # chart key -> the warnings of its own queries: a chart whose queries had none is complete
    chart_warnings: dict[str, list[str]] = field(default_factory=dict)

    def warnings_of(self, key: str) -> list[str]:
        """The warnings of chart ``key``'s own queries (all of them, from a source that does not say
        which query each came from)."""
        return self.chart_warnings.get(key, []) if self.chart_warnings else self.warnings

    def chart_lines(self, key: str) -> list[Line]:
        return self.lines.get(key, [])


def align(grid: Sequence[float], points: Iterable[tuple[float, float]]) -> list[float]:
    """Values on ``grid`` from (time, value) points; NaN where no point falls (a gap). Infinite values
    are kept as NaN too (a chart cannot draw them)."""
    index = {round(t, 3): i for i, t in enumerate(grid)}
    out = [math.nan] * len(grid)
    for t, v in points:
        i = index.get(round(t, 3))
        if i is not None:
            out[i] = v if math.isfinite(v) else math.nan
    return out
