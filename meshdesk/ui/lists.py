"""Namespaces of the cluster, and Applications, Workloads, Services and Istio config of the selected
namespaces, as sortable, filterable tables with health (from the graph), sidecar status and a validation
badge.

    lists = MeshLists()
    lists.set_namespaces(namespaces, labelled)       # the source's namespace list (read off the UI thread)
    lists.set_data(graph, inventory)                 # after every poll (validations made when not given)
    lists.namespaceRequested.connect(toolbar.add_namespace)  # a namespace row not shown, activated
    lists.rowsUpdated.connect(...)                   # shown (a big mesh's rows are made on a thread)
    lists.nodesSelected.connect(view.select)         # a row picked -> its graph node ids
    view.selectionChanged.connect(lists.select_graph_ids)   # the other way round
    lists.configSelected.connect(config_view.show_object)    # (kind, namespace, name) of a config row

Selecting rows from ``select_graph_ids`` does not emit ``nodesSelected`` again (no ping-pong).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRectF,
    QRegularExpression,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QContextMenuEvent, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.gcpause import paused_gc
from meshdesk.mesh.graph.ambient import ambient_namespaces, is_ambient, is_waypoint
from meshdesk.mesh.graph.context import inventory_lookup, inventory_part, merged
from meshdesk.mesh.graph.health import workload_status
from meshdesk.mesh.graph.istio import CONTROL_PLANE_NAMESPACES, control_plane_namespaces, is_gateway
from meshdesk.mesh.graph.model import (
    BOX_NAMESPACE,
    DEGRADED,
    FAILURE,
    HEALTHY,
    NO_HEALTH,
    NO_HEALTH_TEXT,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_WORKLOAD,
    NOT_READY,
    Health,
    Node,
    TrafficGraph,
    health_text,
)
from meshdesk.mesh.graph.service_entry import listed_hosts
from meshdesk.mesh.inventory import (
    GATEWAY_NAME_LABEL,
    App,
    Inventory,
    IstioObject,
    Namespace,
    Service,
    Workload,
)
from meshdesk.mesh.label_filter import LabelSelector, parse_label_selector
from meshdesk.mesh.namespace_overview import (
    OUT_OF_MESH,
    UNKNOWN_MESH,
    app_health_counts,
    app_request_health,
    config_counts,
    health_counts_text,
    membership,
    worst_health,
)
from meshdesk.mesh.namespace_traffic import NamespaceTraffic, TrafficReading, rate_text
from meshdesk.mesh.references import bound_gateways, route_destinations, route_parents
from meshdesk.mesh.routing import OPTED_OUT, opt_out_mark, sidecar_gap
from meshdesk.mesh.routing import RESTART as RESTART_GAP
from meshdesk.mesh.tls_status import namespace_tls_all
from meshdesk.mesh.validation_badges import (
    ConfigIndex,
    badge_text,
    counts,
    key_of,
    labels_at,
    node_objects,
)
from meshdesk.mesh.validations import (
    ERROR,
    SERVICE,
    WARNING,
    WORKLOAD,
    ObjectKey,
    Validation,
    fqdn,
    validate,
    validation_of,
)
from meshdesk.mesh.words import counted
from meshdesk.sources.gateway_api import GATEWAY_API_CONFIG
from meshdesk.sources.inventory import ISTIO_RESOURCES, OPTIONAL_ISTIO_RESOURCES
from meshdesk.ui.theme import readable

log = logging.getLogger(__name__)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
# a namespace row's Traffic cell's NamespaceTraffic (None without), for its sparkline (``TrafficDelegate``)
TRAFFIC_ROLE = Qt.ItemDataRole.UserRole + 3
# the Traffic cell of a namespace whose traffic could not be read (its tooltip says why)
TRAFFIC_UNREAD = "not read"
# what the filter field matches a cell by: its text; a workload's Type behind a mark, so that it
# matches from its start only (``_filter_pattern``): "Job" finds Jobs, not CronJobs
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
_FROM_START = "\x1f"
# other spellings a cell's filter text answers to, after a mark no one types: no health reads "n/a",
# and was "NA" (as Kiali keeps it), so typing "na" finds those rows as typing "n/a" does
_ALSO = "\x1e"
# the filter text of a row's first cell while the filter is a label selector that selects the row
_LABELS_MATCH = "\x1d"
# between a row's cells in its first cell's filter text while the filter holds validation words
# (``CONFIG_WORDS``): the rest of the text must then be found in one cell of a row they keep
_CELL = "\x1c"
# the Config filter's words of Kiali's list pages, as it reads them: "Valid", a validated object with no
# error (warnings allowed); "Not Valid", one with an error; "Warning", one with a warning; "Not
# Validated", one whose config could not be read ("not known")
CONFIG_WORDS = ("not validated", "not valid", "valid", "warning")
_CONFIG_WORDS_RE = re.compile(r"(?<!\S)(not\s+validated|not\s+valid|valid|warning)(?!\S)", re.IGNORECASE)
_HEALTH_ALSO = {NO_HEALTH_TEXT: NO_HEALTH}
# no health at all ("") is shown as NO_HEALTH is ("n/a", ``health_text``), and sorts with it
_HEALTH_RANK = {FAILURE: 0, DEGRADED: 1, NOT_READY: 1.5, HEALTHY: 2, NO_HEALTH: 3, "": 3}
_HEALTH_COLOUR = {FAILURE: "#c9190b", DEGRADED: "#f0ab00", NOT_READY: "#2b9af3", HEALTHY: "#3e8635"}
_BADGE_COLOUR = {"error": "#c9190b", "warning": "#b35900"}

NAMESPACES, APPS, WORKLOADS, SERVICES, CONFIG = "Namespaces", "Applications", "Workloads", "Services", "Istio config"
PAGES = (NAMESPACES, APPS, WORKLOADS, SERVICES, CONFIG)  # in the order of the tabs
_ROW_NOUN = {NAMESPACES: "namespace", APPS: "application", WORKLOADS: "workload", SERVICES: "service",
             CONFIG: "object"}
# what a namespace row says in the cells only a shown namespace has (its inventory and telemetry are read
# only once it is in the graph: no call per namespace for the others)
NOT_SHOWN = "not shown"
# Details: the Istio config tied to the row (Kiali's "Details" references: a service's VirtualServices,
# DestinationRules, the Gateways they bind, its Gateway API routes and their Gateways; the Gateways,
# policies and Sidecars that select a workload; an app's of both), each opened from the row
COLUMNS: dict[str, tuple[str, ...]] = {
    # as Kiali's namespace list: whether it is in the mesh (and the label that says so), whether the graph
    # shows it, and for those shown, its apps' health, its Istio config's findings and its mTLS status
    # Traffic: its inbound requests over the graph's window, a sparkline with its errors and the mean rate
    NAMESPACES: ("Namespace", "Cluster", "Mesh", "Shown", "Traffic", "App health", "Istio config", "mTLS", "Labels"),
    # Labels: the object's labels (an app's: its workloads' and services', each key with its values), as
    # Kiali's Labels column; the filter takes a label selector as kubectl's -l does (``label_filter``)
    APPS: ("Name", "Namespace", "Cluster", "Health", "Sidecar", "Labels", "Config", "Details"),
    # Type: the workload's kind (Kiali's word); Labels: the app/version labels it lacks (Kiali's
    # "Missing App"/"Missing Version"), then its labels
    # Pods: ready of wanted, as kubectl's READY (and a rollout under way or stalled)
    WORKLOADS: ("Name", "Namespace", "Cluster", "Type", "Pods", "Health", "Sidecar", "Labels", "Config", "Details"),
    # Type: a Service's type (ClusterIP, NodePort, LoadBalancer, ExternalName), or ServiceEntry for the
    # hosts of the chosen namespaces' ServiceEntries, as k9s's TYPE column
    SERVICES: ("Name", "Namespace", "Cluster", "Type", "Health", "Sidecar", "Labels", "Config", "Details"),
    CONFIG: ("Name", "Namespace", "Cluster", "Kind", "Config"),
}
# Cluster: the row's cluster, shown only while the lists hold several clusters' rows (a context's linked
# contexts read beside it), sorted and filtered as the other columns; hidden otherwise
CLUSTER_COLUMN = "Cluster"


# what the inventory's ``hidden`` names the Istio and Gateway API config lists by (``sources.inventory``)
_ISTIO_LISTS = tuple(plural for _k, _g, plural in (*ISTIO_RESOURCES, *OPTIONAL_ISTIO_RESOURCES)) + tuple(
    f"{plural}.{group}" for _k, group, plural in GATEWAY_API_CONFIG)

# the Kubernetes lists each page's rows are made of (what the inventory's ``hidden`` names them by): one
# the cluster would not give leaves rows missing, or without their pods' state and sidecars
_CONTROLLERS = ("deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs")
_READ_FOR = {APPS: ("pods", *_CONTROLLERS), WORKLOADS: ("pods", *_CONTROLLERS), SERVICES: ("services", "pods"),
             CONFIG: _ISTIO_LISTS}
_WHAT_IS_MISSING = {
    APPS: "{its} apps may be missing here, or shown without their pods' state and sidecars",
    WORKLOADS: "{its} workloads may be missing here, or shown without their pods' state and sidecars",
    SERVICES: "{its} services may be missing here, or shown without the sidecars of the pods behind them",
    CONFIG: "what is in them is not listed here, and findings about it are not counted",
}

RESTART = "missing: restart"  # the sidecar column of a workload that gets its sidecar by a restart
OPTED_OUT_TEXT = "opted out"  # ... of one that refuses a sidecar on purpose (no warning: nothing to do)


@dataclass
class ListRow:
    name: str
    namespace: str
    health: str = ""
    sidecar: str = ""
    kind: str = ""
    errors: int = 0
    warnings: int = 0
    node_ids: list[str] = field(default_factory=list)
    key: ObjectKey | None = None  # for config rows
    missing_labels: tuple[str, ...] = ()  # "app", "version": the labels a workload lacks
    sidecar_tip: str = ""  # the Sidecar cell's tooltip (which workloads opt out, and how)
    config_unread: tuple[str, ...] = ()  # Istio config lists of its namespace the cluster would not give
    pods: str = ""  # a workload's pods ready of those wanted ("2/3"), with a rollout's state
    pods_ready: float = 1.0  # the share ready, for sorting (the worst first)
    # the cluster whose object it is, when the inventory is merged from several ("" otherwise): two
    # clusters' cart-v1 are two rows, told apart in the Namespace cell
    cluster: str = ""
    # the Istio config tied to it (the Details column), as (kind, namespace, name), in Kiali's order
    references: tuple[ObjectKey, ...] = ()
    # its labels (an object's own dict, not copied: 10,000 copies are work for the garbage collector on
    # the UI thread); an app's joined from its workloads' and services', several values of a key joined by
    # commas ("v1,v2"; a label value has none)
    labels: Mapping[str, str] = field(default_factory=dict)
    # the worst error share of its requests (0..1): of two rows of one health, the higher sorts first
    error_ratio: float = 0.0
    # what its errors and warnings say ("VirtualService reviews: error KIA1107 ..."; a config row's own
    # without its name): the Config cell's tooltip, as Kiali's validation icon's
    findings: tuple[str, ...] = ()
    # a namespace row's: whether it is in the mesh ("ambient (istio.io/dataplane-mode=ambient)"), whether the
    # graph shows it, its apps at each health (the worst first), its Istio objects (-1: not shown), its mTLS
    mesh: str = ""
    shown: bool = False
    health_counts: tuple[tuple[str, int], ...] = ()
    objects: int = -1
    mtls: str = ""
    mtls_tip: str = ""  # what decides its mTLS status (the cell's tooltip)
    config_known: bool = True  # False: its config was not read (a namespace not shown)
    # a namespace row's inbound requests over the graph's window (None: not read, or not readable: the
    # source has no telemetry over time, or ``traffic_problem`` says why)
    traffic: NamespaceTraffic | None = None
    traffic_problem: str = ""
    traffic_replayed: bool = False  # its window ends at a replayed moment (said as such, not "the last")
    traffic_absent: str = ""  # why the source has no traffic over time at all (a snapshot file)

    @property
    def identity(self) -> tuple[str, ...]:
        """What the row is, from one refresh to the next: a config object's key, else its namespace and name."""
        own = tuple(self.key) if self.key is not None else (self.namespace, self.name)
        return (*own, self.cluster) if self.cluster else own

    @property
    def badge(self) -> str:
        if (self.config_unread or not self.config_known) and not (self.errors or self.warnings):
            return "not known"  # "ok" would say config that could not be read was checked
        return badge_text(self.errors, self.warnings)

    def answers_to(self, words: frozenset[str]) -> bool:
        """Whether its Config cell is one of those the filter's validation words (``CONFIG_WORDS``) ask for:
        any of them, as Kiali's Config filter keeps an object any of its chosen values fits."""
        unknown = self.badge == "not known"
        return any((w == "valid" and not self.errors and not unknown) or (w == "not valid" and self.errors > 0)
                   or (w == "warning" and self.warnings > 0) or (w == "not validated" and unknown) for w in words)

    @property
    def labels_text(self) -> str:
        return missing_labels_text(self.missing_labels)

    @property
    def labels_shown(self) -> str:
        """The Labels cell: the app or version label it lacks, then its labels ("app=reviews, version=v1,v2")."""
        mine = ", ".join(f"{k}={v}" for k, v in self.labels.items())
        return " · ".join(t for t in (self.labels_text, mine) if t)

    @property
    def details_text(self) -> str:
        """"VirtualService reviews, DestinationRule reviews, Gateway istio-system/ingress": the namespace
        said where it is not the row's."""
        return ", ".join(reference_text(k, self.namespace) for k in self.references)

    def reference_identity(self, key: ObjectKey) -> tuple[str, ...]:
        """What ``MeshLists.configSelected`` says to open the referenced object: its cluster is the row's."""
        return (*key, self.cluster) if self.cluster else tuple(key)


def reference_text(key: ObjectKey, namespace: str) -> str:
    kind, ns, name = key
    return f"{kind} {name}" if ns == namespace else f"{kind} {ns}/{name}"


# the order a row's references are listed in: a service's routing first (as Kiali lists them), then
# what selects its workloads
_REFERENCE_ORDER = {kind: i for i, kind in enumerate((
    "ServiceEntry", "VirtualService", "DestinationRule", "Gateway", "K8sGateway", "K8sGRPCRoute", "K8sHTTPRoute",
    "K8sTCPRoute", "K8sTLSRoute", "AuthorizationPolicy", "PeerAuthentication", "Sidecar", "RequestAuthentication",
    "EnvoyFilter", "WorkloadGroup"))}


def _labels(sets: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """Labels joined from several objects (an app's), each key's values in order, joined by commas."""
    if len(sets) == 1:
        return dict(sets[0])
    out: dict[str, dict[str, None]] = {}
    for labels in sets:
        for k, v in labels.items():
            out.setdefault(k, {})[v] = None
    return {k: ",".join(v) for k, v in out.items()}


def _ordered_references(objs: Sequence[Any]) -> tuple[ObjectKey, ...]:
    if not objs:
        return ()
    keys = dict.fromkeys(key_of(o) for o in objs)
    return tuple(sorted(keys, key=lambda k: (_REFERENCE_ORDER.get(k[0], len(_REFERENCE_ORDER)), k[0], k[1], k[2])))


def missing_labels_text(missing: Sequence[str]) -> str:
    """"no app label", "no version label", both (each found by its own words), or "" with both."""
    return ", ".join(f"no {m} label" for m in missing)


# what each missing label costs (the Labels column's tooltip)
_MISSING_LABEL_EFFECT = {
    "app": "No app label (app, app.kubernetes.io/name or service.istio.io/canonical-name): it belongs to no "
           "app.",
    "version": "No version label (version, app.kubernetes.io/version or service.istio.io/canonical-revision): "
               "its telemetry calls its version \"latest\", and versions cannot be told apart.",
}


def _worst_health(statuses: Sequence[str]) -> str:
    return min(statuses, key=lambda s: _HEALTH_RANK.get(s, 4)) if statuses else ""


def _sidecar_text(has: bool | None, ambient: bool = False, control_plane: bool = False, gap: str = "") -> str:
    """The sidecar column; in an ambient namespace a pod without a sidecar is as it should be, and so
    it is in the control plane's namespace (Kiali flags none there either). ``gap``: why it runs none
    (``routing.sidecar_gap``, as the panels say it): its pods started before its namespace's injection
    was enabled, and a restart gives them the sidecar, or it opts out."""
    if ambient and has is False:
        return "ambient"
    if control_plane and has is False:
        return "control plane"
    if gap == RESTART_GAP and has is False:
        return RESTART
    if gap == OPTED_OUT and has is False:
        return OPTED_OUT_TEXT
    return "yes" if has else "missing" if has is False else "unknown"


def _opted_out_tip(workloads: Sequence[Workload]) -> str:
    """Which of the workloads opt out of the sidecar, and how (the Sidecar cell's tooltip)."""
    return "\n".join(f"{w.name} opts out of the sidecar ({mark}): Istio injects none into its pods, on purpose"
                     for w in workloads if w.has_sidecar is False and (mark := opt_out_mark(w)))


def _pods_cell(w: Workload) -> tuple[str, float]:
    """A workload's Pods cell as kubectl's READY column: pods ready of those wanted (its controller's
    count where read, else its pods', every container ready), with a rollout under way or stalled; and
    the share ready (for sorting). A Job says its completions, as kubectl's COMPLETIONS (a failed one
    sorts first), a CronJob its running Jobs."""
    if w.kind == "Job" and w.job_state:
        done = f"{max(w.succeeded, 0)}/{w.completions if w.completions >= 0 else 1} done"
        return done, 0.0 if w.job_state in ("Failed", "Failing") else 1.0
    if w.kind == "CronJob":
        return (f"{w.active} running" if w.active > 0 else ""), 1.0
    ready = w.ready if w.ready >= 0 else sum(1 for p in w.pods if p.containers and all(c.ready for c in p.containers))
    wanted = w.replicas if w.kind != "Pod" else len(w.pods)
    text = f"{ready}/{wanted}"
    if w.rollout_stalled:
        text += " · rollout stalled"
    elif 0 <= w.updated < w.replicas:
        text += " · rolling out"
    return text, (ready / wanted if wanted else 1.0) - (0.5 if w.rollout_stalled else 0.0)


def build_rows(graph: TrafficGraph | None, inventory: Inventory | None,
               validations: Mapping[ObjectKey, Validation]) -> dict[str, list[ListRow]]:
    """The four lists' rows (Qt-free, so it is easy to check). Health comes from
    ``graph.list_health`` when the graph has one (an app or service graph merges what the lists judge
    apart), else from the graph itself; the rows' node ids are always the shown graph's."""
    out: dict[str, list[ListRow]] = {APPS: [], WORKLOADS: [], SERVICES: [], CONFIG: []}
    if inventory is None:
        return out
    nodes = list(graph.nodes.values()) if graph is not None else []
    judged = graph.list_health if graph is not None and graph.list_health is not None else graph
    judged_nodes = list(judged.nodes.values()) if judged is not None else []
    ambient = ambient_namespaces(inventory)
    control = control_plane_namespaces(inventory)  # istio-system, and wherever an istiod runs
    # everything a row asks of the graph and the inventory, looked up by name: with thousands of rows
    # a scan per row stalls the window for seconds at every refresh
    index = ConfigIndex(inventory)
    # a row's nodes are those of its object's cluster (an inventory merged from several clusters holds
    # each one's; one read from one cluster none of another cluster's nodes a shared Prometheus shows)
    home = inventory.cluster
    several = merged(inventory)

    def cluster_of(obj: Any) -> str:
        """The row's cluster (``ListRow.cluster``): said only when the inventory holds several."""
        return (obj.cluster or home) if several else ""

    lookup = inventory_lookup(inventory, {n.cluster for n in (*nodes, *judged_nodes)})
    by_workload = _nodes_by(nodes, (NODE_WORKLOAD, NODE_APP), "workload", lookup)
    judged_by_workload = _nodes_by(judged_nodes, (NODE_WORKLOAD, NODE_APP), "workload", lookup)
    by_app = _nodes_by(nodes, (NODE_WORKLOAD, NODE_APP), "app", lookup)
    judged_by_app = _nodes_by(judged_nodes, (NODE_WORKLOAD, NODE_APP), "app", lookup)
    by_service = _nodes_by(nodes, (NODE_SERVICE,), "service", lookup)
    judged_by_service = _nodes_by(judged_nodes, (NODE_SERVICE,), "service", lookup)
    by_label: dict[tuple[str, str, str], list[Workload]] = {}  # (namespace, label, value) -> workloads
    for w in inventory.workloads:
        for label, value in w.labels.items():
            by_label.setdefault((w.namespace, label, value), []).append(w)

    def behind_service(s: Service) -> list[Workload]:
        """``inventory.workloads_for_service``, from the workloads with the selector's first label."""
        if not s.selector:
            return []
        label, value = next(iter(s.selector.items()))
        return [w for w in by_label.get((s.namespace, label, value), []) if s.selects(w.labels)]

    unread_by_ns: dict[str, tuple[str, ...]] = {}

    def unread(namespace: str) -> tuple[str, ...]:
        """The Istio config lists of ``namespace`` that could not be read (a 403)."""
        if namespace not in unread_by_ns:
            unread_by_ns[namespace] = tuple(p for p in _ISTIO_LISTS if inventory.unread(namespace, (p,)))
        return unread_by_ns[namespace]

    def gap(workloads: Sequence[Workload]) -> str:
        return sidecar_gap(inventory, workloads)

    def health(ids: list[str]) -> str:
        assert judged is not None or not ids
        return _worst_health([judged.nodes[i].health.status for i in ids  # type: ignore[union-attr]
                              if judged.nodes[i].health is not None])  # type: ignore[union-attr]

    def error_ratio(ids: list[str]) -> float:
        """The worst error share of these nodes' requests (what sorts rows of one health, as Kiali's)."""
        assert judged is not None or not ids
        return max((h.error_ratio for i in ids if (h := judged.nodes[i].health) is not None),  # type: ignore[union-attr]
                   default=0.0)

    # the Gateways a row's VirtualServices bind (the usual ingress gateway's outside the chosen namespaces
    # too) and its Gateway API routes' parents, by (cluster, namespace, name)
    gateways: dict[tuple[str, str, str, str], IstioObject] = {}
    for o in (*inventory.istio, *inventory.outside_gateway_configs, *inventory.k8s_gateways):
        if o.kind in ("Gateway", "K8sGateway"):
            gateways.setdefault((o.kind, o.cluster or home, o.namespace, o.name), o)

    # the VirtualServices routing to each host (a gateway's VirtualService, about its public host name,
    # routes to the service: Kiali lists it with the service, and so does its Details)
    routing_to: dict[str, list[IstioObject]] = {}
    for o in inventory.istio:
        if o.kind == "VirtualService":
            for host in route_destinations(o):
                routing_to.setdefault(host, []).append(o)

    about_service: dict[int, tuple[list[IstioObject], list[IstioObject]]] = {}

    def service_config(s: Service) -> tuple[list[IstioObject], list[IstioObject]]:
        """The objects about the service's host (its findings are counted with it), and those and the
        VirtualServices routing to it, with their Gateways (its Details); asked once per service, by its
        app's row and its own."""
        if id(s) not in about_service:
            about = index.for_service(s)
            routing = routing_to.get(f"{s.name}.{s.namespace}.svc.cluster.local", [])
            about_service[id(s)] = about, with_gateways(
                [*about, *(o for o in routing if (o.cluster or home) == (s.cluster or home))])
        return about_service[id(s)]

    def with_gateways(objs: Sequence[IstioObject]) -> list[IstioObject]:
        """The objects, and the Gateways their VirtualServices bind and their routes are attached to."""
        out = list(objs)
        for o in objs:
            kind, refs = ("Gateway", bound_gateways(o)) if o.kind == "VirtualService" else \
                ("K8sGateway", route_parents(o)) if o.kind.startswith("K8s") and o.kind.endswith("Route") else ("", [])
            out += [g for ns, name in refs if (g := gateways.get((kind, o.cluster or home, ns, name))) is not None]
        return out

    # EnvoyFilters (by their workloadSelector, none: all of the namespace) and WorkloadGroups (by the labels
    # they give their entries) of each namespace, which Kiali lists with the workloads they match too
    patching: dict[tuple[str, str], list[tuple[IstioObject, dict[str, str]]]] = {}
    for o in inventory.istio:
        spec = o.spec if isinstance(o.spec, dict) else {}
        selector = labels_at(spec, "workloadSelector", "labels") if o.kind == "EnvoyFilter" else \
            labels_at(spec, "metadata", "labels") if o.kind == "WorkloadGroup" else None
        if selector is not None and (selector or o.kind == "EnvoyFilter"):
            patching.setdefault((o.cluster or home, o.namespace), []).append((o, selector))

    def workload_references(w: Workload, objs: Sequence[IstioObject]) -> list[IstioObject]:
        """What selects the workload (EnvoyFilters and WorkloadGroups too), and the Gateway API Gateway it
        runs for (its gateway-name label)."""
        runs_for = gateways.get(("K8sGateway", w.cluster or home, w.namespace, w.labels.get(GATEWAY_NAME_LABEL, "")))
        matching = [o for o, selector in patching.get((w.cluster or home, w.namespace), [])
                    if all(w.labels.get(k) == v for k, v in selector.items())]
        return [*objs, *matching, *([runs_for] if runs_for is not None else [])]

    # the Services in front of each workload (an app's references are its services' and its workloads')
    behind_by_service: dict[int, list[Workload]] = {}
    services_of: dict[int, list[Service]] = {}
    for s in inventory.services:
        behind_by_service[id(s)] = found = behind_service(s)
        for w in found:
            services_of.setdefault(id(w), []).append(s)

    def tally(keys: Sequence[ObjectKey], subjects: set[str] | None, cluster: str,
              namespace: str) -> tuple[int, int, tuple[str, ...]]:
        """(errors, warnings, what they say) of the findings ``counts`` counts; what they say only when there
        are some (the Config cell's tooltip), each after the object it is of where that is another."""
        e, wn = counts(validations, keys, subjects, cluster)
        if not (e or wn):
            return e, wn, ()
        lines = []
        for k in dict.fromkeys(keys):
            v = validation_of(validations, k, cluster)
            for c in v.checks if v is not None else ():
                if c.severity in (ERROR, WARNING) and not (subjects is not None and c.subjects
                                                           and subjects.isdisjoint(c.subjects)):
                    lines.append(f"{reference_text(k, namespace)}: {c.severity} {c}")
        return e, wn, tuple(lines)

    def errors_warnings(objs: Sequence[Any], workloads: Sequence[Workload], cluster: str,
                        namespace: str) -> tuple[int, int, tuple[str, ...]]:
        """The findings of the objects about these workloads, and the workloads' own (their cluster's)."""
        return tally([*(key_of(o) for o in objs), *((WORKLOAD, w.namespace, w.name) for w in workloads)],
                     {f"{w.namespace}/{w.name}" for w in workloads}, cluster, namespace)

    for w in inventory.workloads:
        ids = list(by_workload.get((w.cluster or home, w.namespace, w.name), []))
        hids = judged_by_workload.get((w.cluster or home, w.namespace, w.name), [])
        selecting = index.for_workload(w)
        e, wn, said = errors_warnings(selecting, [w], cluster_of(w), w.namespace)
        # a gateway's istio-proxy is the gateway itself, not a sidecar beside an app
        side = "waypoint" if is_waypoint(w) else "gateway" if w.has_sidecar and is_gateway(w) else \
            _sidecar_text(w.has_sidecar, is_ambient(w, ambient), w.namespace in control, gap([w]))
        # a workload node's health counts its pods; an app (version) node's is its requests alone, and
        # with no traffic there is no node: the pods' state is joined in, as Kiali's workload list does
        own = [i for i in hids if judged is not None and judged.nodes[i].node_type == NODE_WORKLOAD]
        status = health(own) if own else _worst_health([s for s in (health(hids), workload_status([w])[0]) if s])
        # as Kiali, a waypoint is not asked for app and version labels
        missing = () if is_waypoint(w) else tuple(w.missing_labels)
        pods, ready = _pods_cell(w)
        out[WORKLOADS].append(ListRow(w.name, w.namespace, status, side, w.kind, e, wn, ids,
                                      missing_labels=missing, sidecar_tip=_opted_out_tip([w]),
                                      config_unread=unread(w.namespace), pods=pods, pods_ready=ready,
                                      cluster=cluster_of(w),
                                      references=_ordered_references(workload_references(w, selecting)),
                                      labels=w.labels, error_ratio=error_ratio(hids), findings=said))
    # an app is one cluster's workloads of its name (an inventory merged from several: each one's)
    by_app_name: dict[tuple[str, str, str], list[Workload]] = {}
    for w in inventory.workloads:
        if w.app:
            by_app_name.setdefault((w.cluster or home, w.namespace, w.app), []).append(w)
    for (cluster, namespace, name), workloads in sorted(by_app_name.items()):
        app = App(name, namespace, workloads)
        ids = list(by_app.get((cluster, app.namespace, app.name), []))
        hids = judged_by_app.get((cluster, app.namespace, app.name), [])
        objs: dict[ObjectKey, Any] = {}
        referenced: list[IstioObject] = []
        for w in app.workloads:
            selecting = index.for_workload(w)
            for o in selecting:
                objs.setdefault(key_of(o), o)
            referenced += workload_references(w, selecting)
        fronting = {id(s): s for w in app.workloads for s in services_of.get(id(w), [])}
        for s in fronting.values():
            referenced += service_config(s)[1]
        e, wn, said = errors_warnings(list(objs.values()), app.workloads, cluster if several else "", app.namespace)
        sidecars = {w.has_sidecar for w in app.workloads}
        side = _sidecar_text(True if sidecars == {True} else False if False in sidecars else None,
                             bool(app.workloads) and all(is_ambient(w, ambient) for w in app.workloads),
                             app.namespace in control, gap(app.workloads))
        # the app's own health where the graph has it (its box's: all versions' requests, all its pods),
        # so the list, the box and its panel agree; else its nodes' requests with its pods' state
        whole = next((h for i in hids if isinstance(h := judged.nodes[i].extra.get("appHealth"), Health)), None) \
            if judged is not None else None
        status = whole.status if whole is not None else \
            _worst_health([s for s in (health(hids), workload_status(app.workloads)[0]) if s])
        out[APPS].append(ListRow(app.name, app.namespace, status, side, "App", e, wn, ids,
                                 sidecar_tip=_opted_out_tip(app.workloads), config_unread=unread(app.namespace),
                                 cluster=cluster if several else "", references=_ordered_references(referenced),
                                 labels=_labels([*(w.labels for w in app.workloads),
                                                 *(s.labels for s in fronting.values())]),
                                 error_ratio=whole.error_ratio if whole is not None else error_ratio(hids),
                                 findings=said))
    for s in inventory.services:
        ids = list(by_service.get((s.cluster or home, s.namespace, s.name), []))
        hids = judged_by_service.get((s.cluster or home, s.namespace, s.name), [])
        behind = behind_by_service[id(s)]
        about, tied = service_config(s)
        sidecars = {w.has_sidecar for w in behind}
        side = "" if not behind else _sidecar_text(True if sidecars == {True} else False if False in sidecars else None,
                                                   all(is_ambient(w, ambient) for w in behind),
                                                   s.namespace in control, gap(behind))
        e, wn, said = tally([*(key_of(o) for o in about), (SERVICE, s.namespace, s.name)],
                             {f"{w.namespace}/{w.name}" for w in behind}, cluster_of(s), s.namespace)
        out[SERVICES].append(ListRow(s.name, s.namespace, health(hids), side, s.type or "ClusterIP", e, wn, ids,
                                     sidecar_tip=_opted_out_tip(behind), config_unread=unread(s.namespace),
                                     cluster=cluster_of(s), references=_ordered_references(tied),
                                     labels=s.labels, error_ratio=error_ratio(hids), findings=said))
    # as Kiali's service list, each host of the chosen namespaces' ServiceEntries that names no Service
    # of them is a service too (Kiali's "External" registry), with its entry's findings; its nodes are the
    # entry's ServiceEntry node and the idle node named by the host
    chosen = {n.name for n in inventory.namespaces}
    entry_nodes: dict[tuple[str, str], list[str]] = {}
    for n in nodes:
        if n.is_service_entry is not None:
            entry_nodes.setdefault((n.is_service_entry.namespace, n.is_service_entry.name), []).append(n.id)
    judged_entries: dict[tuple[str, str], list[str]] = {}
    for n in judged_nodes:
        if n.is_service_entry is not None:
            judged_entries.setdefault((n.is_service_entry.namespace, n.is_service_entry.name), []).append(n.id)
    for listed in listed_hosts(inventory):
        if listed.namespace not in chosen:
            continue
        where = (listed.namespace, listed.entry)
        ids = [*entry_nodes.get(where, []), *(i for (_c, ns, name), found in by_service.items()
                                               if (ns, name) == (listed.namespace, listed.name) for i in found)]
        hids = [*judged_entries.get(where, []), *(i for (_c, ns, name), found in judged_by_service.items()
                                                  if (ns, name) == (listed.namespace, listed.name) for i in found)]
        e, wn, said = tally([("ServiceEntry", listed.namespace, listed.entry)], None, "", listed.namespace)
        about = [o for o in index.for_host(fqdn(listed.name, listed.namespace)) if (o.cluster or home) == listed.cluster]
        out[SERVICES].append(ListRow(listed.name, listed.namespace, health(hids), "", "ServiceEntry", e, wn, ids,
                                     config_unread=unread(listed.namespace),
                                     references=_ordered_references(with_gateways(about)),
                                     labels=listed.labels, error_ratio=error_ratio(hids),
                                     findings=said))
    # an object's nodes are those of its own cluster (of an inventory merged from several, each
    # cluster's object of one name has that cluster's nodes)
    by_object: dict[tuple[ObjectKey, str], list[str]] = {}
    if graph is not None:
        for nid, keys in node_objects(graph, inventory, index).items():
            cluster_of_node = (graph.nodes[nid].cluster or home) if several else ""
            for k in keys:
                by_object.setdefault((k, cluster_of_node), []).append(nid)
    for o in inventory.istio:
        e, wn, said = tally([key_of(o)], None, cluster_of(o), o.namespace)
        out[CONFIG].append(ListRow(o.name, o.namespace, kind=o.kind, errors=e, warnings=wn,
                                   node_ids=by_object.get((key_of(o), cluster_of(o)), []), key=key_of(o),
                                   cluster=cluster_of(o), findings=tuple(f.partition(": ")[2] for f in said)))
    return out


def namespace_rows(graph: TrafficGraph | None, inventory: Inventory | None,
                   validations: Mapping[ObjectKey, Validation], listed: Sequence[Namespace] = (),
                   labelled: Collection[str] | None = None) -> list[ListRow]:
    """The Namespaces list's rows (Qt-free): each namespace ``listed`` (the source's list, as the
    Namespaces menu offers them) and each the graph shows; whether it is in the mesh, by its labels (the
    inventory's where it holds it, else the list's, when ``labelled`` names it: None, all of them); for
    those the graph shows (whose inventory and telemetry were read), its apps' health, Istio config and
    mTLS as the Details summary says them; for the others, "not shown" (nothing more is read for them).
    An inventory merged from several clusters (a snapshot may hold one) has a row per cluster of each
    namespace, each with that cluster's objects, labels and nodes, as Kiali lists each cluster's namespaces."""
    if graph is not None:
        shown = list(graph.request.namespaces)
    else:
        shown = [n.name for n in inventory.namespaces] if inventory is not None else []
    if inventory is None or not merged(inventory):
        return _namespace_rows_of(graph, inventory, validations, listed, labelled, shown, "", app_request_health(graph))
    home = inventory.cluster
    lookup = inventory_lookup(inventory, {n.cluster for n in graph.nodes.values()} if graph is not None else ())
    requests = app_request_health(graph, lookup)
    part_of = inventory_part(inventory, ())
    held = sorted({n.cluster or home for n in inventory.namespaces} | {w.cluster or home for w in inventory.workloads}
                  | {o.cluster or home for o in inventory.istio})
    rows: list[ListRow] = []
    for cluster in held:
        part = part_of(cluster)
        own = {n.name for n in part.namespaces} if part is not None else set()
        rows += _namespace_rows_of(graph, part, validations, [n for n in listed if (n.cluster or home) == cluster],
                                   labelled, [n for n in shown if n in own], cluster, requests, lookup)
    return rows


def _namespace_rows_of(graph: TrafficGraph | None, inventory: Inventory | None,
                       validations: Mapping[ObjectKey, Validation], listed: Sequence[Namespace],
                       labelled: Collection[str] | None, shown: list[str], cluster: str,
                       requests: Mapping[tuple[str | None, str, str], str],
                       lookup: Callable[[str], str | None] = lambda _c: "") -> list[ListRow]:
    """``namespace_rows`` of one inventory (``cluster``: the one cluster of a merged inventory it is the part
    of, said in its rows; "" otherwise)."""
    names = list(dict.fromkeys([*(n.name for n in listed), *shown]))
    listed_by = {n.name: n for n in listed}
    in_inventory = {n.name: n for n in inventory.namespaces} if inventory is not None else {}
    shown_set = set(shown)
    control = control_plane_namespaces(inventory) if inventory is not None else CONTROL_PLANE_NAMESPACES
    boxes: dict[str, list[str]] = {}
    for n in graph.nodes.values() if graph is not None else ():
        if n.node_type == NODE_BOX and n.box == BOX_NAMESPACE and (not cluster or lookup(n.cluster) == cluster):
            boxes.setdefault(n.namespace, []).append(n.id)
    # what only a shown namespace has: made in one pass each over the graph, apps and config
    apps_by: dict[str, list[App]] = {}
    config_by: dict[str, list[IstioObject]] = {}
    tls_by: dict[str, tuple[str, str]] = {}
    if inventory is not None:
        for app in inventory.apps():
            if app.namespace in shown_set:
                apps_by.setdefault(app.namespace, []).append(app)
        for o in inventory.istio:
            if o.namespace in shown_set:
                config_by.setdefault(o.namespace, []).append(o)
        if inventory.istio_found:
            tls_of = [n for n in shown if n in in_inventory]
            tls_by = {t.namespace: (t.label, "\n".join(t.reasons()))
                      for t in (namespace_tls_all(inventory, tls_of, validations=validations) if tls_of else ())}
    rows = []
    for name in names:
        ns = in_inventory.get(name)
        if ns is not None and inventory is not None and f"{name}/namespace" in inventory.hidden:
            ns = None  # the namespace object could not be read (its content may have been): no labels known
        if ns is None and name in listed_by and (labelled is None or name in labelled):
            ns = listed_by[name]
        mesh = membership(ns.labels if ns is not None else None, name in control)
        row = ListRow(name, name, kind="Namespace", node_ids=list(boxes.get(name, [])), mesh=mesh.text,
                      shown=name in shown_set, labels=ns.labels if ns is not None else {}, cluster=cluster)
        if row.shown and inventory is not None and (inventory.cluster_namespaces is None
                                                    or name in inventory.cluster_namespaces):
            counts = app_health_counts(apps_by.get(name, []), requests, cluster)
            row.health_counts = tuple((s, counts[s]) for s in sorted(counts, key=lambda s: _HEALTH_RANK.get(s, 4)))
            row.health = worst_health(counts)
            row.objects, row.errors, row.warnings = config_counts(config_by.get(name, []), validations,
                                                                 inventory.cluster)
            row.config_unread = tuple(p for p in _ISTIO_LISTS if inventory.unread(name, (p,)))
            row.mtls, row.mtls_tip = tls_by.get(name, ("", ""))
        else:
            row.config_known = False
        rows.append(row)
    return rows


def _namespace_config_text(row: ListRow) -> str:
    """A shown namespace's Istio config as the Details summary counts it: "12 objects: 1 with errors, 2
    with warnings", "5 objects, all valid"."""
    if row.objects < 0:
        return NOT_SHOWN
    parts = [counted(row.objects, "object")]
    if row.errors:
        parts.append(f"{row.errors} with errors")
    if row.warnings:
        parts.append(f"{row.warnings} with warnings")
    text = parts[0] + (": " + ", ".join(parts[1:]) if len(parts) > 1 else ", all valid" if row.objects else "")
    return text + (" (not all could be read)" if row.config_unread else "")


def unread_notes(inventory: Inventory | None) -> dict[str, str]:
    """For each list, what the cluster would not let be read that its rows are made of (a 403 to
    listing pods in a namespace): which lists, in which namespaces, and what that leaves out; "" when
    all was read. Without it a namespace whose pods could not be listed just looked empty."""
    out = dict.fromkeys(PAGES, "")
    if inventory is None or not any(h for _c, h in inventory.hidden_by_cluster()):
        return out
    # of a mesh of several clusters, each cluster's refusals in its own namespaces, said by its name
    parts: list[tuple[str, Inventory]] = [("", inventory)]
    if merged(inventory):
        part_of = inventory_part(inventory, ())
        found = [(c, part_of(c)) for c in dict.fromkeys([inventory.cluster, *(c for c, _h in inventory.hidden_by_cluster())])]
        parts = [(f"cluster {c}", p) for c, p in found if p is not None]
    for title, plurals in _READ_FOR.items():
        said = []
        for who, part in parts:
            by_lists: dict[tuple[str, ...], list[str]] = {}  # the lists not read -> the namespaces
            for ns in [n.name for n in part.namespaces]:  # the chosen ones (those the rows are of)
                missing = tuple(p for p in plurals if part.unread(ns, (p,)))
                if missing:
                    by_lists.setdefault(missing, []).append(ns)
            for missing, namespaces in by_lists.items():
                where = ", ".join(namespaces[:5]) + (f" and {len(namespaces) - 5} more" if len(namespaces) > 5 else "")
                kinds = ", ".join(missing[:-1]) + (" or " if len(missing) > 1 else "") + missing[-1]
                said.append(f"{f'The {who}' if who else 'The cluster'} did not let meshdesk list {kinds} in "
                            f"{'namespace' if len(namespaces) == 1 else 'namespaces'} {where}: "
                            f"{_WHAT_IS_MISSING[title].format(its='its' if len(namespaces) == 1 else 'their')}.")
        out[title] = "\n".join(said)
    return out


def _nodes_by(nodes: Sequence[Node], types: tuple[str, ...], what: str,
              lookup: Callable[[str], str | None]) -> dict[tuple[str, str, str], list[str]]:
    """Ids of the nodes of these types by (the inventory's cluster they are looked up in, ``lookup``,
    namespace, their ``what``: workload, app or service), in the graph's order; a node of a cluster the
    inventory holds nothing of is left out."""
    out: dict[tuple[str, str, str], list[str]] = {}
    for n in nodes:
        if n.node_type in types:
            cluster = lookup(n.cluster)
            if cluster is not None:
                out.setdefault((cluster, n.namespace, getattr(n, what)), []).append(n.id)
    return out


def _filter_pattern(text: str) -> QRegularExpression:
    """The rows a filter text keeps, case-insensitive: those with a cell that contains it, or whose
    Type (kind) starts with it (its filter text is marked ``_FROM_START``). A row's cells are matched in one
    text, each after a ``_CELL`` mark (``ListModel.data``)."""
    if not text:
        return QRegularExpression()
    found = QRegularExpression.escape(text)
    return QRegularExpression(f"{_CELL}(?:{_FROM_START}{found}|(?!{_FROM_START})[^{_CELL}]*{found})",
                              QRegularExpression.PatternOption.CaseInsensitiveOption)


def config_words(text: str) -> tuple[frozenset[str], str]:
    """The validation words (``CONFIG_WORDS``, any case) a filter text holds, and the text without them:
    "not valid reviews" is ({"not valid"}, "reviews"). A word inside a name ("invalid", "valid-svc") is
    not one."""
    words = frozenset(" ".join(m.group(1).lower().split()) for m in _CONFIG_WORDS_RE.finditer(text))
    return words, " ".join(_CONFIG_WORDS_RE.sub(" ", text).split()) if words else text


# "namespace:shop", "cluster:east": the rows of exactly that namespace (or cluster), as the namespace row's menu
# filters the lists; several values, of one term ("namespace:shop,travel") or of several, are either; with
# other words, those are looked for in the rows they keep
_SCOPE_RE = re.compile(r"(?<!\S)(namespace|cluster):(\S*)", re.IGNORECASE)


def scope_terms(text: str) -> tuple[dict[str, frozenset[str]], str]:
    """The ``namespace:``/``cluster:`` terms a filter text holds, by field ("namespace", "cluster"), and the
    text without them: "namespace:shop reviews" is ({"namespace": {"shop"}}, "reviews"). A term with no value
    ("namespace:" being typed) keeps every row."""
    scope: dict[str, set[str]] = {}
    for m in _SCOPE_RE.finditer(text):
        values = {v for v in m.group(2).lower().split(",") if v}
        if values:
            key = "cluster" if m.group(1).lower() == "cluster" else "namespace"
            scope.setdefault(key, set()).update(values)
    if not _SCOPE_RE.search(text):
        return {}, text
    return {k: frozenset(v) for k, v in scope.items()}, " ".join(_SCOPE_RE.sub(" ", text).split())


def namespace_filter(namespace: str, cluster: str = "") -> str:
    """The filter text that keeps a namespace's rows only (of one cluster's, when its row is)."""
    return f"namespace:{namespace}" + (f" cluster:{cluster}" if cluster else "")


def _cells_pattern(text: str) -> QRegularExpression:
    """While the filter holds validation words: the rows they keep (their first cell's filter text starts
    with a mark, ``ListModel.data``) that have a cell containing ``text`` (or a Type starting with it)."""
    if not text:
        return QRegularExpression(f"^{_LABELS_MATCH}")
    found = QRegularExpression.escape(text)
    return QRegularExpression(f"^{_LABELS_MATCH}.*{_CELL}(?:{_FROM_START}{found}|(?!{_FROM_START})[^{_CELL}]*{found})",
                              QRegularExpression.PatternOption.CaseInsensitiveOption)


def row_cells(row: ListRow, columns: Sequence[str]) -> tuple[str, ...]:
    """A row's cells as its list shows them (Qt-free: made with the rows, off the UI thread)."""
    cells = {"Name": row.name, "Namespace": row.namespace, CLUSTER_COLUMN: row.cluster,
             "Health": health_text(row.health),
             "Sidecar": row.sidecar, "Kind": row.kind, "Type": row.kind,
             "Config": row.badge, "Pods": row.pods, "Details": row.details_text, "Labels": row.labels_shown}
    if row.kind == "Namespace":
        known = row.objects >= 0
        cells |= {"Mesh": row.mesh, "Shown": "yes" if row.shown else "no",
                  "Traffic": row.traffic.text if row.traffic is not None else
                  TRAFFIC_UNREAD if row.traffic_problem else "",
                  "App health": health_counts_text(dict(row.health_counts)) if known else NOT_SHOWN,
                  "Istio config": _namespace_config_text(row),
                  "mTLS": (row.mtls or "unknown") if known else NOT_SHOWN}
    return tuple(cells[c] for c in columns)


def row_filter_text(cells: Sequence[str], columns: Sequence[str]) -> str:
    """What the filter's text is looked for in, of a row with these cells (``row_cells``): each cell's text
    after a ``_CELL`` mark (a Type after ``_FROM_START``, a health with its other spellings), in one text
    (``_filter_pattern``). Qt-free: made with the rows, off the UI thread."""
    out = []
    for text, col in zip(cells, columns, strict=True):
        if col == "Type":
            out.append(_CELL + _FROM_START + text)
        elif col == "Health" and text in _HEALTH_ALSO:
            out.append(_CELL + text + _ALSO + _HEALTH_ALSO[text])
        else:
            out.append(_CELL + text)
    return "".join(out)


@dataclass
class ListsUpdate:
    """What the lists show of one graph and inventory, made off the UI thread (``lists_update``)."""
    rows: dict[str, list[ListRow]]
    texts: dict[str, list[tuple[str, ...]]]  # each list's rows' cells (``row_cells``)
    notes: dict[str, str]  # ``unread_notes``
    validations: Mapping[ObjectKey, Validation]
    # each list's columns' longest text's length (what sizes the columns), measured here rather than on
    # the UI thread at each refresh
    longest: dict[str, list[int]] = field(default_factory=dict)
    # each list's rows' filter texts (``row_filter_text``): a refresh with a filter typed matches every
    # row's new cells, and making their texts on the UI thread froze it 0.05 s more at 5,000 workloads
    filter_texts: dict[str, list[str]] = field(default_factory=dict)


def lists_update(graph: TrafficGraph | None, inventory: Inventory | None,
                 validations: Mapping[ObjectKey, Validation] | None, namespaces: Sequence[Namespace] = (),
                 labelled: Collection[str] | None = None) -> ListsUpdate:
    """The lists' rows, cells and notes (Qt-free; the validations made when not given); ``namespaces``
    and ``labelled``: the source's namespace list, as ``namespace_rows`` takes it."""
    if validations is None:
        validations = validate(inventory) if inventory is not None else {}
    rows = {NAMESPACES: namespace_rows(graph, inventory, validations, namespaces, labelled),
            **build_rows(graph, inventory, validations)}
    texts = {title: [row_cells(row, COLUMNS[title]) for row in page] for title, page in rows.items()}
    longest = {title: [max((len(t[c]) for t in cells), default=0) for c in range(len(COLUMNS[title]))]
               for title, cells in texts.items()}
    filter_texts = {title: [row_filter_text(t, COLUMNS[title]) for t in cells] for title, cells in texts.items()}
    return ListsUpdate(rows, texts, unread_notes(inventory), validations, longest, filter_texts)


# how many of a row's labels its context menu offers to filter by
_LABELS_OFFERED = 12

# how many findings a Config cell's tooltip says (the Istio config dock has them all)
_FINDINGS_SAID = 12

# how many of a column's longest texts are measured to size it (``ListPage._content_width``)
_MEASURED = 20


class ListModel(QAbstractTableModel):
    def __init__(self, title: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.title = title
        self.columns = COLUMNS[title]
        self.rows: list[ListRow] = []
        self._texts: list[tuple[str, ...]] = []  # each row's cells, made once: sorting 5,000 rows asks often
        self._order: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)  # (column, order) rows keep
        self.selector: LabelSelector | None = None  # the label selector the filter field holds, if it does
        self.config_words: frozenset[str] = frozenset()  # the validation words it holds (``config_words``)
        self.scope: dict[str, frozenset[str]] = {}  # its namespace: and cluster: terms (``scope_terms``)
        self._longest: Sequence[int] | None = None  # each column's longest text's length, when given
        # each row's cells' filter texts in one (``row_filter_text``): given with the rows, or made when the
        # filter first asks
        self._filter_texts: list[str | None] = []

    def set_rows(self, rows: list[ListRow], texts: list[tuple[str, ...]] | None = None,
                 longest: Sequence[int] | None = None, filter_texts: Sequence[str] | None = None) -> None:
        """(``texts``: the rows' cells, ``row_cells``, when they were made already, off the UI thread;
        ``longest``, each column's longest text's length; ``filter_texts``, their ``row_filter_text``.)"""
        self.beginResetModel()
        self._longest = longest if texts is not None else None
        self.rows = rows
        self._texts = texts if texts is not None else [row_cells(row, self.columns) for row in rows]
        moved = self._sorted_positions()
        self.rows = [rows[i] for i in moved]
        self._texts = [self._texts[i] for i in moved]
        given = texts is not None and filter_texts is not None and len(filter_texts) == len(rows)
        self._filter_texts = [filter_texts[i] for i in moved] if given and filter_texts is not None \
            else [None] * len(rows)
        self.endResetModel()

    def set_traffic(self, reading: TrafficReading | None, absent: str = "") -> None:
        """Each namespace row's inbound traffic from ``reading`` (None: none known; ``absent``: why there is
        none, a snapshot file), in place: the rows, their selection and scroll position stay; they move if
        the list is sorted by it."""
        if "Traffic" not in self.columns or not self.rows:
            return
        for i, row in enumerate(self.rows):
            # (a row of one cluster of several: that cluster's, by the destination's cluster its telemetry names)
            row.traffic = reading.of(row.name, row.cluster) if reading is not None else None
            row.traffic_problem = reading.problem if reading is not None else ""
            row.traffic_replayed = reading is not None and reading.replayed
            row.traffic_absent = absent if reading is None else ""
            if reading is not None and reading.grid is not None and row.traffic is None and not row.traffic_problem:
                row.traffic_problem = (f"no request Prometheus holds names cluster {row.cluster} as its destination "
                                       "(destination_cluster): its telemetry may call it otherwise")
            self._texts[i] = row_cells(row, self.columns)
        self._longest = None  # (measured again)
        self._filter_texts = [None] * len(self.rows)
        column = self.columns.index("Traffic")
        # (from the first column: the filter matches a row by its first cell's filter text, which holds them all)
        self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, column))
        if self._order[0] == column:
            self.sort(*self._order)

    @property
    def texts(self) -> list[tuple[str, ...]]:
        """Each row's cells, as shown."""
        return self._texts

    def longest(self, column: int) -> int:
        """The length of the longest text in ``column``."""
        if self._longest is not None:
            return self._longest[column]
        return max((len(t[column]) for t in self._texts), default=0)

    def _sort_key(self, r: int, c: int) -> Any:
        row, col = self.rows[r], self.columns[c]
        if col == "Health":  # the worst first; of one health, the most failed requests first (as Kiali)
            return _HEALTH_RANK.get(row.health, 4), -row.error_ratio
        if col == "Config":  # errors first, then warnings, then not known, then ok
            return -(row.errors * 10000 + row.warnings + 0.5 * bool(row.config_unread))
        if col == "Details":  # the fewest objects tied to it first, as Kiali's
            return len(row.references), self._texts[r][c].lower()
        if col == "Pods":  # the fewest ready of those wanted first
            return row.pods_ready
        if col == "App health":  # the worst first, then the most apps at that health; those not shown last
            worst = dict(row.health_counts).get(row.health, 0)
            return (_HEALTH_RANK.get(row.health, 4) if row.objects >= 0 else 5), -worst
        if col == "Istio config":  # errors first, then warnings, then those not shown, then all valid
            return -(row.errors * 10000 + row.warnings + 0.5 * (row.objects < 0 or bool(row.config_unread)))
        if col == "Shown":  # those the graph shows first
            return not row.shown
        if col == "Traffic":  # the busiest first; those not read last
            return (0, -row.traffic.rate) if row.traffic is not None else (1, 0.0)
        if col == "Labels":  # the most missing first (no app weighs more than no version), as Config
            return -(2 * ("app" in row.missing_labels) + ("version" in row.missing_labels)), self._texts[r][c].lower()
        return self._texts[r][c].lower()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Rows in this order from now on, new rows too (``set_rows``). Sorted here, in one Python sort,
        rather than by the proxy, which asks ``data`` twice per comparison: seconds with 5,000 rows."""
        self._order = (column, order)
        if not self.rows:
            return
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        moved = self._sorted_positions()
        self.rows = [self.rows[i] for i in moved]
        self._texts = [self._texts[i] for i in moved]
        self._filter_texts = [self._filter_texts[i] for i in moved] if len(self._filter_texts) == len(moved) else \
            [None] * len(moved)
        where = {old: new for new, old in enumerate(moved)}
        self.changePersistentIndexList(before, [self.index(where[i.row()], i.column()) for i in before])
        self.layoutChanged.emit()

    def _sorted_positions(self) -> list[int]:
        column, order = self._order
        if not 0 <= column < len(self.columns):
            return list(range(len(self.rows)))
        return sorted(range(len(self.rows)), key=lambda r: self._sort_keys(r, column),
                      reverse=order == Qt.SortOrder.DescendingOrder)

    def _sort_keys(self, r: int, c: int) -> tuple[Any, ...]:
        """The column's sort key, then, as Kiali's lists break ties, the name (and namespace, kind):
        rows of equal health are in name order, not in the order the cluster listed them."""
        row = self.rows[r]
        if self.columns[c] == "Namespace":
            return self._sort_key(r, c), row.name.lower(), row.kind.lower()
        return self._sort_key(r, c), row.name.lower(), row.namespace.lower(), row.kind.lower()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[r][c]
        row = self.rows[r]
        col = self.columns[c]
        if role == FILTER_ROLE:
            # the filter asks the first cell only, for all the row's cells in one text (``_filter_pattern``):
            # Qt asking each cell in turn, in Python, froze the window half a second per key typed over
            # 5,000 rows
            if c:
                return ""
            if not (self.config_words or self.scope or self.selector is not None):
                return self._row_filter_text(r)
            # the rows the validation words, namespace: and cluster: terms and a label selector keep, by a
            # mark, then all their cells: the rest of the filter's text is looked for in them (``_cells_pattern``)
            # (a row named as one of the words, a service "warning", is kept too: its name still finds it)
            if (self.config_words and not (row.answers_to(self.config_words)
                                           or row.name.lower() in self.config_words)) or \
                    (self.selector is not None and not self.selector.matches(row.labels)) or \
                    not self._in_scope(row):
                return ""
            return _LABELS_MATCH + self._row_filter_text(r)
        if role == SORT_ROLE:
            return self._sort_key(r, c)
        if role == TRAFFIC_ROLE:
            return row.traffic if col == "Traffic" else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col in ("Health", "App health") and row.health in _HEALTH_COLOUR:
                return QBrush(readable(_HEALTH_COLOUR[row.health]))
            if col in ("App health", "Istio config", "mTLS") and row.kind == "Namespace" and row.objects < 0:
                return QBrush(readable("gray"))
            if col == "Traffic" and (row.traffic is None or row.traffic.rate <= 0):
                return QBrush(readable("gray"))
            if col in ("Config", "Istio config") and (row.errors or row.warnings):
                return QBrush(readable(_BADGE_COLOUR["error" if row.errors else "warning"]))
            if (col == "Sidecar" and row.sidecar in ("missing", RESTART)) or (col == "Labels" and row.missing_labels):
                return QBrush(readable(_BADGE_COLOUR["warning"]))
        if role == Qt.ItemDataRole.ToolTipRole and col in ("Name", "Namespace") and len(self._texts[r][c]) > 40:
            return self._texts[r][c]  # (a long name may be cut in its cell)
        if role == Qt.ItemDataRole.ToolTipRole and row.kind == "Namespace":
            return _namespace_tip(row, col)
        if role == Qt.ItemDataRole.ToolTipRole and col == "Config" and (row.findings or row.config_unread):
            said = list(row.findings[:_FINDINGS_SAID])
            if len(row.findings) > _FINDINGS_SAID:
                said.append(f"… and {len(row.findings) - _FINDINGS_SAID} more")
            if row.config_unread:
                said.append(f"The cluster would not let meshdesk list {', '.join(row.config_unread)} in "
                            f"{row.namespace}: findings about what is in them are not counted")
            return "\n".join(said)
        if role == Qt.ItemDataRole.ToolTipRole and col == "Labels" and (row.missing_labels or row.labels):
            # (a long list is cut in its cell: one label a line here)
            return "\n".join([*(_MISSING_LABEL_EFFECT.get(m, f"No {m} label.") for m in row.missing_labels),
                              *(f"{k}={v}" for k, v in row.labels.items())])
        if role == Qt.ItemDataRole.ToolTipRole and col == "Details" and row.references:
            # (cut in its cell: one object a line here, and how to open them)
            return "\n".join([*(reference_text(k, row.namespace) for k in row.references),
                              "Double-click or Enter opens it (a menu when there are several)"])
        if role == Qt.ItemDataRole.ToolTipRole and col == "Sidecar" and row.sidecar == RESTART:
            return "Its pods started before sidecar injection was enabled: restart them (kubectl rollout restart) to get the sidecar"
        if role == Qt.ItemDataRole.ToolTipRole and col == "Sidecar" and row.sidecar_tip and \
                row.sidecar in (OPTED_OUT_TEXT, "missing", RESTART):
            return row.sidecar_tip
        return None


    def _row_filter_text(self, r: int) -> str:
        """The row's cells' filter texts, each after a ``_CELL`` mark (made once per rows)."""
        text = self._filter_texts[r]
        if text is None:
            text = self._filter_texts[r] = row_filter_text(self._texts[r], self.columns)
        return text

    def _in_scope(self, row: ListRow) -> bool:
        """Whether the row is of a namespace (and cluster) the filter's ``namespace:``/``cluster:`` terms name."""
        namespaces, clusters = self.scope.get("namespace"), self.scope.get("cluster")
        return (namespaces is None or row.namespace.lower() in namespaces) and \
            (clusters is None or row.cluster.lower() in clusters)


def _namespace_tip(row: ListRow, col: str) -> str | None:
    """A namespace row's cell's tooltip: what its mesh label does, what decides its mTLS, how to show it."""
    if col in ("App health", "Istio config", "mTLS") and row.objects < 0:
        return (f"{row.name} is not in the graph: its apps, config and mTLS are read once it is. Double-click "
                "or Enter adds it to the graph's namespaces")
    if col in ("Namespace", "Shown"):
        return (f"{row.name} is in the graph: double-click or Enter selects its box" if row.shown else
                f"{row.name} is not in the graph: double-click or Enter adds it to the graph's namespaces")
    if col == "Mesh":
        if row.mesh.startswith(OUT_OF_MESH):
            return "No label puts its pods in the mesh: istio-injection=enabled, istio.io/rev or " \
                   "istio.io/dataplane-mode=ambient would"
        if row.mesh.startswith(UNKNOWN_MESH):
            return "Its labels could not be read (your account may not list namespaces, or a snapshot does not hold it)"
        return row.mesh
    if col == "mTLS" and row.mtls_tip:
        return row.mtls_tip
    if col == "Traffic":
        return traffic_tip(row)
    if col == "Istio config" and row.config_unread:
        return f"The cluster would not let meshdesk list {', '.join(row.config_unread)} in {row.namespace}"
    if col == "Labels" and row.labels:
        return "\n".join(f"{k}={v}" for k, v in row.labels.items())
    return None


def _span_text(seconds: float) -> str:
    """"10 min", "1 h", "90 s"."""
    whole = int(round(seconds))
    if whole >= 3600 and whole % 3600 == 0:
        return f"{whole // 3600} h"
    if whole >= 60 and whole % 60 == 0:
        return f"{whole // 60} min"
    return f"{whole} s"


SNAPSHOT_NO_TRAFFIC = ("No traffic over time: a snapshot file holds the graph's traffic over its window as one "
                       "total, not the history the sparkline draws")


def _moment_text(t: float) -> str:
    """A replayed moment, as the clock read it then: "14:05", its date too when not of today ("Jun 12 14:05")."""
    when, today = time.localtime(t), time.localtime()
    clock = time.strftime("%H:%M", when)
    same_day = (when.tm_year, when.tm_yday) == (today.tm_year, today.tm_yday)
    return clock if same_day else f"{time.strftime('%b', when)} {when.tm_mday} {clock}"


def traffic_tip(row: ListRow) -> str | None:
    """What a namespace's sparkline shows, in words: over which window, the mean rate and its errors."""
    if row.traffic_problem:
        return f"Its inbound traffic could not be read: {row.traffic_problem}"
    t = row.traffic
    if t is None:
        return row.traffic_absent or None
    step = t.times[1] - t.times[0] if len(t.times) > 1 else 0.0
    span = _span_text(t.times[-1] - t.times[0] + step) if t.times else ""
    # replaying, the window ends at the replayed moment ("the last 10 min" it was not)
    window = f"the {span} before {_moment_text(t.times[-1])}" if row.traffic_replayed and t.times else \
        f"the last {span}"
    head = (f"Requests into {row.name}'s workloads over {window}, those between its own workloads too, "
            "as Kiali's overview counts them (as its proxies or waypoint report them; errors in red)")
    if t.rate <= 0:
        return f"{head}: none"
    errors = (f"{rate_text(t.error_rate)} rps of them errors ({t.error_share * 100:.1f}%)" if t.error_rate > 0
              else "no errors")
    return f"{head}: {rate_text(t.rate)} rps on average, {errors}"


class _Filter(QSortFilterProxyModel):
    """Filters the list's rows, by the text in their cells or (``set_filter``'s selector) by their labels;
    sorting is the list's own (``ListModel.sort``), which keeps the proxy in its order. (No Python
    ``filterAcceptsRow``: Qt would call it for each of 10,000 rows at every refresh, filter or not.)"""

    def set_filter(self, pattern: QRegularExpression, selector: LabelSelector | None,
                   words: frozenset[str] = frozenset(), scope: Mapping[str, frozenset[str]] | None = None) -> None:
        """Keep the rows with a cell ``pattern`` matches, or (``selector``) whose labels it selects, or
        (``words``, validation words) whose Config they ask for or whose name is one of them, or (``scope``,
        ``scope_terms``) of those namespaces and clusters: their first cell's filter text is then a
        mark (``ListModel.data``), which the pattern looks for."""
        source = self.sourceModel()
        scope = dict(scope or {})
        if not isinstance(source, ListModel) or (selector is None and source.selector is None
                                                 and not words and not source.config_words
                                                 and not scope and not source.scope):
            self.setFilterRegularExpression(pattern)
            return
        source.selector = selector
        source.config_words = words
        source.scope = scope
        if selector is not None and not words and not scope:
            pattern = QRegularExpression(f"^{_LABELS_MATCH}")
        # (a new pattern filters the rows again, by the model's new state; only the same one must be told: both
        # filtered every row twice)
        if pattern != self.filterRegularExpression():
            self.setFilterRegularExpression(pattern)
        elif hasattr(self, "beginFilterChange"):  # Qt 6.9: the way to say the filter changed
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if source is not None:
            source.sort(column, order)


class ListPage(QWidget):
    """A filter field over a sortable table of one list."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ListModel(title, self)
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(0)  # (its filter text holds the row's cells: ``ListModel.data``)
        self.proxy.setFilterRole(FILTER_ROLE)
        self.filter = QLineEdit()
        # the columns it can filter by, as the table names them (Istio keeps its capital)
        what = title if title == CONFIG else title.lower()
        by = "name, mesh" if title == NAMESPACES else \
            ", ".join([c.lower() for c in COLUMNS[title] if c != CLUSTER_COLUMN][:3]).replace(
                "namespace", "namespace (namespace:shop)", 1)
        labels = "" if title == CONFIG else \
            ", labels (istio-injection=enabled)" if title == NAMESPACES else ", labels (app=reviews)"
        self.filter.setPlaceholderText(f"Filter {what} by {by}{labels} or config (Not Valid, Warning)…")
        config = ("Config, as Kiali's Config filter: Valid (no error), Not Valid (an error), Warning (a warning), "
                  "Not Validated (config not known); any case, alone or with other words: not valid reviews\n"
                  "A row named exactly as one of those words (a service called warning) is kept too, "
                  "whatever its Config")
        scope = ("namespace:shop: the rows of that namespace only (not another's that says its name); "
                 "cluster:east: of that cluster; with other words: namespace:shop reviews")
        if title == NAMESPACES:
            self.filter.setToolTip("A name or any text of a cell (ambient, not in the mesh); or labels, as kubectl get "
                                   "-l takes them: istio-injection=enabled, istio.io/rev (has the label), "
                                   f"!istio-injection (has it not).\n{scope}\n{config}")
        elif title != CONFIG:
            self.filter.setToolTip("A name, namespace or any text of a cell; or labels, as kubectl get -l takes them: "
                                   "app=reviews,version!=v1 (all of them), app in (reviews,ratings), "
                                   f"app (has the label), !version (has it not).\n{scope}\n{config}")
        else:
            self.filter.setToolTip(f"A name, namespace, kind or any text of a cell.\n{scope}\n{config}")
        self.filter.setAccessibleName(f"Filter {what}")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        # said when the filter hides every row (an empty table alone reads as an empty mesh)
        self.filter_note = QLabel()
        # namespaces a row's menu asked this list of that the graph is adding (``MeshLists.show_namespace_list``):
        # until their rows come, the note says they are being read, not that nothing matches
        self.awaited: set[str] = set()
        # the filter holds namespace: or cluster: terms alone (``_filter_changed``): a list they empty is said
        # to have none of that namespace, not to match nothing
        self._scope_alone = False
        self.filter_note.setWordWrap(True)
        self.filter_note.setProperty("role", "hint")
        self.filter_note.hide()
        # what of the rows the cluster would not let be read (``unread_notes``): said here, beside them,
        # not only in the window's banner
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setStyleSheet(f"color: {_BADGE_COLOUR['warning']}")
        self.note.hide()
        # "Updating…" while a big mesh's rows are being made on a thread: beside the filter, so that the
        # table does not move down and back up at every refresh (``MeshLists.set_status``)
        self.busy = QLabel()
        self.busy.setProperty("role", "hint")
        self.busy.hide()
        # why they could not be made (``MeshLists.set_status``): until the next rows come
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setStyleSheet(f"color: {_BADGE_COLOUR['error']}")
        self.status.hide()
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName(title)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Tab moves on to the next control (the arrows walk the cells): a table's own Tab went from cell to
        # cell, hundreds of them, and the keyboard could not leave it
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        # a long Labels or Details cell is cut with an ellipsis on its row's line (whole in its tooltip):
        # wrapped, it showed two half lines in a row one line high
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.busy)
        layout.addLayout(top)
        layout.addWidget(self.filter_note)
        layout.addWidget(self.note)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        # columns the user widened or narrowed keep their width; the others grow to fit what comes
        self._user_sized: set[int] = set()
        self._sizing = False
        self._sized = False  # the first rows size every column to fit; later ones only widen
        self._longest: dict[int, int] = {}  # column -> the length of the longest text it was sized for
        self.table.horizontalHeader().sectionResized.connect(self._section_resized)
        if "Traffic" in COLUMNS[title]:  # a sparkline beside the rate
            self.table.setItemDelegateForColumn(COLUMNS[title].index("Traffic"), TrafficDelegate(self.table))
        self.table.setColumnHidden(COLUMNS[title].index(CLUSTER_COLUMN), True)  # (until several clusters' rows)

    def filter_by_label(self, term: str) -> None:
        """Filter by this label ("app=reviews"): added to a label selector the filter holds (both must
        hold), else in place of what it holds."""
        typed = self.filter.text().strip()
        self.filter.setText(f"{typed},{term}" if typed and self.model.selector is not None else term)

    def _filter_changed(self, text: str) -> None:
        # a name pasted from a terminal brings a space or tab around it, which no cell ends with: it is
        # not part of the name (spaces inside the text are kept: "missing: restart")
        text = text.strip()
        # "app=reviews,version!=v1": the rows whose labels it selects, as kubectl's -l (Kiali's label filter)
        # "Not Valid", "Warning"...: Kiali's Config filter's words, alone or with a text or a label selector
        words, text = config_words(text)
        # "namespace:shop", "cluster:east": exactly that namespace's (cluster's) rows, with the rest of the text
        scope, text = scope_terms(text)
        self._scope_alone = bool(scope) and not text and not words
        selector = parse_label_selector(text) if self.model.title != CONFIG and text else None
        if words or scope:
            self.proxy.set_filter(_cells_pattern(text if selector is None else ""), selector, words, scope)
        else:
            self.proxy.set_filter(_filter_pattern(text if selector is None else ""), selector)
        self._say_filtered()

    def _say_filtered(self) -> None:
        typed, total = self.filter.text().strip(), self.model.rowCount()
        wanted = self.model.scope.get("namespace", frozenset())
        if typed and wanted and wanted <= self.awaited and not self.proxy.rowCount():
            self.filter_note.setText(f"Adding {', '.join(sorted(wanted))} to the graph: its "
                                     f"{_ROW_NOUN[self.model.title]}s are listed once it is read…")
            self.filter_note.show()
        elif typed and self._scope_alone and not self.proxy.rowCount():
            clusters = self.model.scope.get("cluster", frozenset())
            where = " or ".join(sorted(wanted)) + (" in " if wanted and clusters else "") + \
                (f"cluster {' or '.join(sorted(clusters))}" if clusters else "")
            noun = "Istio config" if self.model.title == CONFIG else f"{_ROW_NOUN[self.model.title]}s"
            others = f" Clear the filter to see all {counted(total, _ROW_NOUN[self.model.title])}." if total else ""
            self.filter_note.setText(f"No {noun} in {where}.{others}")
            self.filter_note.show()
        elif typed and total and not self.proxy.rowCount():
            self.filter_note.setText(f"Nothing matches “{typed}”: the filter hides all "
                                     f"{counted(total, _ROW_NOUN[self.model.title])}. Clear it to see them.")
            self.filter_note.show()
        else:
            self.filter_note.hide()

    def _section_resized(self, index: int, _old: int, _new: int) -> None:
        if not self._sizing and index != self.model.columnCount() - 1:  # the last one stretches with the table
            self._user_sized.add(index)

    def set_note(self, text: str) -> None:
        """What could not be read of this list's rows ("" when all was)."""
        if text != self.note.text():
            self.note.setText(text)
        self.note.setVisible(bool(text))

    def set_rows(self, rows: list[ListRow], texts: list[tuple[str, ...]] | None = None,
                 lengths: Sequence[int] | None = None, filter_texts: Sequence[str] | None = None) -> None:
        """(``texts``, ``lengths`` (each column's longest text's) and ``filter_texts``, as ``ListModel.set_rows``
        takes them.)"""
        self.model.set_rows(rows, texts, lengths, filter_texts)
        column = self.model.columns.index(CLUSTER_COLUMN)
        several = any(row.cluster for row in rows)
        if self.table.isColumnHidden(column) == several:
            self.table.setColumnHidden(column, not several)
        self._say_filtered()
        if rows:
            self.fit_columns()

    def fit_columns(self) -> None:
        """Widen the columns whose longest text grew to fit it (those the user sized are left as they are)."""
        # names like "productpage-v1" fit instead of being cut; a column grows when longer names or
        # labels come (another namespace, a new workload), never shrinks, and one the user sized is theirs
        # (measured only when a column's longest text grew: measuring asks for every row's cells, and
        # with thousands of rows that is most of a refresh)
        header = self.table.horizontalHeader()
        self._sizing = True
        try:
            for col in range(self.model.columnCount() - 1):
                if col in self._user_sized:
                    continue
                longest = self.model.longest(col)
                if self._sized and longest <= self._longest.get(col, 0):
                    continue
                self._longest[col] = longest
                # at most about 64 characters wide (Kubernetes' longest label value: most workload names
                # fit): one object named with 253 would push every other column off screen; a longer
                # name is cut, whole in its tooltip
                # (labels at most about 40: a workload's many labels left the Details column a sliver)
                chars = 40 if self.model.headerData(col, Qt.Orientation.Horizontal) == "Labels" else 64
                widest = self.table.fontMetrics().averageCharWidth() * chars
                want = max(min(self._content_width(col), widest), header.sectionSizeHint(col))
                if want > header.sectionSize(col) or not self._sized:
                    header.resizeSection(col, want)
        finally:
            self._sizing = False
        self._sized = True

    def _content_width(self, col: int) -> int:
        """The width ``sizeHintForColumn`` would give the column, measured on the cells with the
        longest texts only: Qt's asks for every row's cells (0.9 s for the first 5,000 workloads and
        services); a cell's width follows its text's length closely enough that the widest is among these."""
        texts = self.model.texts
        hint = 0
        shown = 0
        # (of the rows the filter shows, as Qt's; the longest first)
        for r in sorted(range(len(texts)), key=lambda r: -len(texts[r][col])):
            index = self.proxy.mapFromSource(self.model.index(r, col))
            if index.isValid():
                hint = max(hint, self.table.sizeHintForIndex(index).width())
                shown += 1
                if shown == _MEASURED:
                    break
        return hint + 1 if self.table.showGrid() else hint  # as Qt's adds the grid line

    def visible_rows(self) -> list[ListRow]:
        """Rows as shown (filtered and sorted)."""
        return [self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
                for r in range(self.proxy.rowCount())]

    def selected_identities(self) -> list[tuple[str, ...]]:
        return [row.identity for row in self.selected_rows()]

    def select_identities(self, identities: Sequence[tuple[str, ...]]) -> None:
        """Select the rows that are these (``ListRow.identity``), if they are still there; the first
        becomes the current row, so the keyboard goes on from it."""
        wanted = set(identities)
        sel = QItemSelection()
        first: QModelIndex | None = None
        for r in range(self.proxy.rowCount()):
            if self.model.rows[self.proxy.mapToSource(self.proxy.index(r, 0)).row()].identity in wanted:
                sel.select(self.proxy.index(r, 0), self.proxy.index(r, self.proxy.columnCount() - 1))
                first = first or self.proxy.index(r, 0)
        model = self.table.selectionModel()
        model.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        if first is not None:
            model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)

    def selected_rows(self) -> list[ListRow]:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.rows[r] for r in sorted(rows)]


# the width of a namespace's sparkline in its Traffic cell, and its colours: its requests (PatternFly's info
# blue, as Kiali draws them) and their errors (the failure red of the health colours)
SPARK_WIDTH = 84
SPARK_REQUESTS = "#0066cc"
SPARK_ERRORS = _HEALTH_COLOUR[FAILURE]


def _spark_path(times: Sequence[float], values: Sequence[float], area: QRectF, top: float) -> list[QPolygonF]:
    """The points of a sparkline in ``area`` (its highest value ``top``), a polyline each run without a gap."""
    first, last = times[0], times[-1]
    span = (last - first) or 1.0
    runs: list[QPolygonF] = []
    run = QPolygonF()
    for t, v in zip(times, values, strict=True):
        if not math.isfinite(v):
            if run.size():
                runs.append(run)
            run = QPolygonF()
            continue
        x = area.left() + (t - first) / span * area.width()
        y = area.bottom() - (max(0.0, v) / top) * area.height() if top > 0 else area.bottom()
        run.append(QPointF(x, y))
    if run.size():
        runs.append(run)
    return runs


class TrafficDelegate(QStyledItemDelegate):
    """A namespace's Traffic cell: a sparkline of its inbound requests (errors in red, on the same scale), then
    its mean rate as text."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        traffic = index.data(TRAFFIC_ROLE)
        if not isinstance(traffic, NamespaceTraffic) or len(traffic.times) < 2:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)  # background, selection
        rect = QRectF(opt.rect).adjusted(4, 4, -4, -4)
        area = QRectF(rect.left(), rect.top(), min(float(SPARK_WIDTH), rect.width()), rect.height())
        known = [v for v in traffic.requests if math.isfinite(v)]
        top = max(known, default=0.0)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for values, line in ((traffic.requests, SPARK_REQUESTS), (traffic.errors, SPARK_ERRORS)):
            if line == SPARK_ERRORS and not any(math.isfinite(e) and e > 0 for e in values):
                continue  # no errors: no red line along the bottom
            # (on a selected row's highlight the blue line was hard to see: the highlight's text colour)
            pen = QPen(opt.palette.highlightedText().color() if selected and line == SPARK_REQUESTS and top > 0
                       else QColor(line if top > 0 else "gray"))
            pen.setWidthF(1.5)
            painter.setPen(pen)
            for run in _spark_path(traffic.times, values, area, top):
                painter.drawPolyline(run)
        painter.restore()
        brush = index.data(Qt.ItemDataRole.ForegroundRole)
        colour = opt.palette.highlightedText().color() if selected else (
            brush.color() if isinstance(brush, QBrush) else opt.palette.text().color())
        painter.save()
        painter.setPen(colour)
        where = rect.adjusted(area.width() + 6, 0, 0, 0)
        shown = opt.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, int(where.width()))
        painter.drawText(where, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802 - Qt's
        hint = super().sizeHint(option, index)
        if isinstance(index.data(TRAFFIC_ROLE), NamespaceTraffic):
            hint.setWidth(hint.width() + SPARK_WIDTH + 10)
        return hint


# above this many workloads, services and Istio objects, the rows are made on a thread: 1,000 take
# about 40 ms, made at once (no "Updating…" flashing on a small mesh); 10,000 about 0.4 s
THREADED_ABOVE = 1000


class MeshLists(QTabWidget):
    """The lists in tabs, the namespaces first (as Kiali's namespace overview is its landing page). A big
    mesh's rows are made on a thread (``THREADED_ABOVE``): the lists say they are updating meanwhile, and
    show the rows of the latest data given when they come."""

    nodesSelected = Signal(list)  # graph node ids of the picked rows
    # (kind, namespace, name) of a picked Istio config row, and its cluster when the inventory holds several
    configSelected = Signal(object)
    rowsUpdated = Signal()  # the rows of the latest ``set_data`` are shown (or why they could not be made)
    namespaceRequested = Signal(str)  # a namespace the graph does not show was activated: show it
    namespaceAlone = Signal(str)  # "Graph of this namespace alone" from a namespace row's menu
    _rowsMade = Signal(int, object)  # from the thread: (generation, a ListsUpdate or the exception)

    def __init__(self, parent: QWidget | None = None, *, threaded_above: int = THREADED_ABOVE) -> None:
        super().__init__(parent)
        self.threaded_above = threaded_above
        # bumped by each set_data: rows made for older data (another graph, context or namespace
        # choice) are dropped when they come
        self._generation = 0
        self._job_lock = threading.Lock()
        self._next_job: tuple[int, TrafficGraph | None, Inventory | None, Mapping[ObjectKey, Validation] | None,
                              tuple[Namespace, ...], frozenset[str] | None] | None = None
        # the source's namespace list (``set_namespaces``), and the data last given, which a new list
        # is shown with
        self._namespaces: tuple[Namespace, ...] = ()
        self._labelled: frozenset[str] | None = None
        self._latest: tuple[TrafficGraph | None, Inventory | None, Mapping[ObjectKey, Validation] | None] = \
            (None, None, None)
        self._busy = False  # the thread is running (it takes the latest job waiting when done)
        # every namespace's inbound traffic (``set_traffic``), given to the Namespaces rows as they come
        self._traffic: TrafficReading | None = None
        self._traffic_absent = ""  # why there is no traffic reading (a snapshot file has no history)
        self._rowsMade.connect(self._rows_made)
        self.pages: dict[str, ListPage] = {}
        for title in PAGES:
            page = ListPage(title)
            self.pages[title] = page
            self.addTab(page, title)
            page.table.selectionModel().selectionChanged.connect(
                lambda *_a, p=page: self._rows_picked(p))
        # a click on a config row the canvas selection had already selected changes no selection:
        # it still opens the object
        self.pages[CONFIG].table.clicked.connect(lambda _i: self._config_clicked())
        # the Istio config a row's Details name opens, as Kiali's links there: a double-click (or Enter)
        # on the cell opens it, or offers them when there are several; the row's context menu offers them
        self.references_menu: QMenu | None = None  # the one shown last (kept: a menu of no one is deleted)
        # a namespace row activated: added to the graph's namespaces, or (shown) its box selected
        self.pages[NAMESPACES].table.activated.connect(self._namespace_activated)
        # its context menu (right click, the Menu key): to its graph, its lists, and the changes the window's
        # actions make to a namespace (``namespace_actions`` fills those in)
        self.namespace_menu: QMenu | None = None  # the one shown last
        self.namespace_actions: Callable[[ListRow, QMenu], None] | None = None
        namespaces_table = self.pages[NAMESPACES].table
        namespaces_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        namespaces_table.customContextMenuRequested.connect(self._namespace_menu_at)
        namespaces_table.installEventFilter(self)
        for title in (APPS, WORKLOADS, SERVICES):
            table = self.pages[title].table
            table.activated.connect(lambda i, p=self.pages[title]: self._details_activated(p, i))
            table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            table.customContextMenuRequested.connect(lambda pos, p=self.pages[title]: self._row_menu(p, pos))
            table.installEventFilter(self)  # (the Menu key: the current row's menu, ``eventFilter``)
        self.graph: TrafficGraph | None = None
        self.inventory: Inventory | None = None
        self.validations: Mapping[ObjectKey, Validation] = {}
        self._syncing = False
        self._graph_ids: list[str] = []
        # the list whose rows the user picked (its selection is theirs: the canvas selecting the picked
        # rows' nodes does not change it, a row without a node included), until the canvas selects anew
        self._picked: str | None = None
        self._emitting = False  # the canvas answering our own nodesSelected
        self._shown_generation = 0  # the generation of the rows shown

    def set_data(self, graph: TrafficGraph | None, inventory: Inventory | None,
                 validations: Mapping[ObjectKey, Validation] | None = None) -> None:
        """Rebuild the rows (validations made when not given), keeping each table's sort, filter,
        scroll position and selection: the rows the user picked by what they are, the others by graph
        id. A big mesh's rows are made on a thread: ``rowsUpdated`` says when they are shown."""
        self._generation += 1
        self._latest = (graph, inventory, validations)
        namespaces, labelled = self._namespaces, self._labelled
        size = len(inventory.workloads) + len(inventory.services) + len(inventory.istio) if inventory else 0
        size += len(namespaces)
        if size <= self.threaded_above:
            try:
                made: Any = (lists_update(graph, inventory, validations, namespaces, labelled), graph, inventory)
            except Exception as e:  # noqa: BLE001 - said on the lists, as the thread's
                log.exception("making the lists' rows failed")
                made = e
            self._rows_made(self._generation, made)
            return
        self.set_status(f"Updating the lists ({size:,} objects)…")
        with self._job_lock:
            # (one still waiting is stale)
            self._next_job = (self._generation, graph, inventory, validations, namespaces, labelled)
            if self._busy:
                return
            self._busy = True
        threading.Thread(target=self._make_rows, name="meshdesk-lists", daemon=True).start()

    def set_namespaces(self, namespaces: Sequence[Namespace], labelled: Collection[str] | None = None) -> None:
        """The source's namespace list (as the toolbar's Namespaces menu offers them, with their labels),
        for the Namespaces list; ``labelled``: the names whose labels were read (None: all). The rows are
        made again, with the data last given, only when the list changed."""
        listed = tuple(namespaces)
        known = frozenset(labelled) if labelled is not None else None
        if [(n.name, n.labels, n.cluster) for n in listed] == [(n.name, n.labels, n.cluster) for n in self._namespaces] \
                and known == self._labelled:
            return
        self._namespaces, self._labelled = listed, known
        self.set_data(*self._latest)

    def listed_namespace(self, name: str, cluster: str = "") -> Namespace | None:
        """The namespace ``name`` as the source lists it, with its labels (of ``cluster``, "": any); None when
        it is not listed or its labels were not read."""
        if self._labelled is not None and name not in self._labelled:
            return None
        return next((n for n in self._namespaces if n.name == name and (not cluster or n.cluster in (cluster, ""))),
                    None)

    def set_traffic(self, reading: TrafficReading | None, absent: str = "") -> None:
        """Every namespace's inbound requests over the graph's window (read by the poller after each graph),
        for the Namespaces list's sparklines; None: none (another source, a snapshot file: ``absent`` says
        why, in the blank cells' tooltips)."""
        self._traffic = reading
        self._traffic_absent = absent
        page = self.pages[NAMESPACES]
        page.model.set_traffic(reading, absent)
        page.fit_columns()

    @property
    def updating(self) -> bool:
        """Rows are being made for data newer than those shown."""
        return self._shown_generation != self._generation

    def _make_rows(self) -> None:
        """The thread: make the rows of the latest job waiting, hand them over, until none waits. It
        touches no Qt object (``lists_update`` is plain data), and only emits."""
        while True:
            with self._job_lock:
                job = self._next_job
                self._next_job = None
                if job is None:
                    self._busy = False
                    return
            generation, graph, inventory, validations, namespaces, labelled = job
            try:
                with paused_gc():  # many objects made, all kept: the collector's passes find nothing
                    made: Any = (lists_update(graph, inventory, validations, namespaces, labelled), graph, inventory)
            except Exception as e:  # noqa: BLE001 - said on the lists, not lost in the thread
                log.exception("making the lists' rows failed")
                made = e
            try:
                self._rowsMade.emit(generation, made)
            except RuntimeError:  # the lists are gone
                with self._job_lock:
                    self._busy = False
                return

    def _rows_made(self, generation: int, made: Any) -> None:
        """(``made``: (ListsUpdate, its graph, its inventory), or the exception that stopped it.)"""
        if generation != self._generation:
            return  # rows of older data: newer are being made
        self._shown_generation = generation
        if isinstance(made, Exception):
            self.set_status(f"The lists could not be updated ({type(made).__name__}: {made}); they show the "
                            "previous data.", error=True)
            self.rowsUpdated.emit()
            return
        update, self.graph, self.inventory = made
        self.set_status("")
        self.validations = update.validations
        picked = self.pages[self._picked].selected_identities() if self._picked is not None else []
        # where each list was scrolled to: the picked row made current again scrolled its list back to it
        scrolled = {title: (page.table.horizontalScrollBar().value(), page.table.verticalScrollBar().value())
                    for title, page in self.pages.items()}
        self._syncing = True
        try:
            shown = {r.name for r in update.rows[NAMESPACES] if r.shown}
            for title, page in self.pages.items():
                page.awaited -= shown  # (its rows are these, or it has none)
                page.set_rows(update.rows[title], update.texts[title], update.longest.get(title),
                              update.filter_texts.get(title))
                page.set_note(update.notes[title])
            if self._traffic is not None or self._traffic_absent:  # (the new rows are of the same namespaces)
                self.pages[NAMESPACES].model.set_traffic(self._traffic, self._traffic_absent)
                self.pages[NAMESPACES].fit_columns()
            if self._picked is not None:
                self.pages[self._picked].select_identities(picked)
        finally:
            self._syncing = False
        if self._graph_ids:
            self._select(self._graph_ids, scroll=False)
        for title, (x, y) in scrolled.items():
            self.pages[title].table.horizontalScrollBar().setValue(x)
            self.pages[title].table.verticalScrollBar().setValue(y)
        self.rowsUpdated.emit()

    def set_status(self, text: str, error: bool = False) -> None:
        """Say on every list ("" says nothing) that its rows are being updated (beside the filter), or
        (``error``) why they could not be (above the table)."""
        for page in self.pages.values():
            page.busy.setText("" if error else text)
            page.busy.setVisible(bool(text) and not error)
            page.status.setText(text if error else "")
            page.status.setVisible(bool(text) and error)

    def select_graph_ids(self, ids: Sequence[str]) -> None:
        """Select the rows whose graph nodes are among ``ids`` (the canvas selection), in every list
        but the one the user is picking rows in."""
        if not self._emitting:
            self._picked = None  # the canvas chose: every list follows it
        self._graph_ids = list(ids)
        self._select(ids, scroll=True)

    def _select(self, ids: Sequence[str], scroll: bool) -> None:
        """(``scroll``: bring the first selected row into view; not when a refresh keeps a selection,
        which would pull a list the user scrolled back to it every few seconds.)"""
        wanted = set(ids)
        self._syncing = True
        try:
            for title, page in self.pages.items():
                if title == self._picked:
                    continue
                sel = QItemSelection()
                for r in range(page.proxy.rowCount()):
                    src = page.proxy.mapToSource(page.proxy.index(r, 0)).row()
                    if wanted and wanted.intersection(page.model.rows[src].node_ids):
                        sel.select(page.proxy.index(r, 0), page.proxy.index(r, page.proxy.columnCount() - 1))
                flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                page.table.selectionModel().select(sel, flags)
                if scroll and not sel.isEmpty():
                    page.table.scrollTo(sel.indexes()[0])
        finally:
            self._syncing = False

    def _namespace_activated(self, index: QModelIndex) -> None:
        """Double-click or Enter on a namespace: one the graph does not show is added to its namespaces
        (``namespaceRequested``); one it shows has its box selected (its nodes, without boxes)."""
        page = self.pages[NAMESPACES]
        self._show_namespace(page.model.rows[page.proxy.mapToSource(index).row()])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's
        # the Menu key (Shift+F10) on a list: the current row's menu, under it (Qt puts a keyboard's context
        # menu wherever: on the Workloads list it opened the next row's; the row is what it is about)
        if isinstance(event, QContextMenuEvent) and event.reason() == QContextMenuEvent.Reason.Keyboard:
            page = next((p for p in self.pages.values() if p.table is watched), None)
            if page is not None and page.model.title != CONFIG:
                index = page.table.currentIndex()
                if index.isValid():
                    under = page.table.visualRect(index).bottomLeft()
                    if page.model.title == NAMESPACES:
                        self._namespace_menu_for(index, under)
                    else:
                        self._offer_references(page, page.model.rows[page.proxy.mapToSource(index).row()], under,
                                               labels=True)
                return True
        return super().eventFilter(watched, event)

    def _namespace_menu_at(self, pos: QPoint) -> None:
        index = self.pages[NAMESPACES].table.indexAt(pos)
        if index.isValid():
            self._namespace_menu_for(index, pos)

    def _namespace_menu_for(self, index: QModelIndex, pos: QPoint) -> None:
        page = self.pages[NAMESPACES]
        row = page.model.rows[page.proxy.mapToSource(index).row()]
        menu = self.namespace_menu_of(row)
        if self.namespace_menu is not None:
            self.namespace_menu.close()
            self.namespace_menu.deleteLater()
        self.namespace_menu = menu
        menu.popup(page.table.viewport().mapToGlobal(pos))

    def namespace_menu_of(self, row: ListRow) -> QMenu:
        """A namespace row's menu, as Kiali's namespace actions: its graph, its applications, workloads,
        services and Istio config, then the changes the window's actions make to a namespace."""
        name = row.name
        menu = QMenu(self)
        menu.setAccessibleName(f"Namespace {name}")
        menu.setToolTipsVisible(True)
        if self.namespace_actions is not None:
            self.namespace_actions(row, menu)
        first = menu.actions()[0] if menu.actions() else None
        entries: list[QAction] = []

        def entry(text: str, tip: str, run: Callable[[], None]) -> None:
            action = QAction(text, menu)
            action.setToolTip(tip)
            action.triggered.connect(lambda _checked=False: run())
            entries.append(action)

        # (each entry acts on the row as the latest refresh has it: a menu left open over a refresh that
        # removed the namespace from the graph selected a box no longer there, and said nothing)
        if row.shown:
            entry(f"Select {name} in the graph", "Selects its box (as a double-click on the row)",
                  lambda: self._show_namespace(self._latest_row(row)))
        else:
            entry(f"Add {name} to the graph", "Adds it to the graph's namespaces (as a double-click on the row)",
                  lambda: self._show_namespace(self._latest_row(row)))
        entry(f"Graph of {name} alone", "Shows this namespace only in the graph", lambda: self.namespaceAlone.emit(name))
        for title in (APPS, WORKLOADS, SERVICES, CONFIG):
            what = title if title == CONFIG else title.lower()
            entry(f"{what[0].upper()}{what[1:]} of {name}",
                  f"The {what} list, filtered by {name}" + ("" if row.shown else " (added to the graph first: its "
                                                              "objects are read once it is)"),
                  partial(self._show_latest_list, row, title))
        for action in entries:
            if first is None:
                menu.addAction(action)
            else:
                menu.insertAction(first, action)
        if first is not None:
            menu.insertSeparator(first)
        return menu

    def _show_latest_list(self, row: ListRow, title: str) -> None:
        self.show_namespace_list(self._latest_row(row), title)

    def _latest_row(self, row: ListRow) -> ListRow:
        """The Namespaces list's row that is ``row`` now (the one given when the list no longer has it)."""
        return next((r for r in self.pages[NAMESPACES].model.rows if r.identity == row.identity), row)

    def show_namespace_list(self, row: ListRow, title: str) -> None:
        """The list ``title`` filtered by a namespace (``namespace:shop``: its rows only, not another's that
        says its name; of a cluster's row, that cluster's); a namespace the graph does not show is added
        to it first: the lists hold the graph's namespaces."""
        page = self.pages[title]
        if not row.shown:
            page.awaited.add(row.name)
            self.namespaceRequested.emit(row.name)
        page.filter.setText(namespace_filter(row.name, row.cluster))
        self.setCurrentWidget(page)

    def _show_namespace(self, row: ListRow) -> None:
        if not row.shown:
            self.namespaceRequested.emit(row.name)
            return
        ids = list(row.node_ids)
        if not ids and self.graph is not None:
            ids = [n.id for n in self.graph.nodes.values() if n.namespace == row.name and n.node_type != NODE_BOX]
        self._graph_ids = ids
        self._picked = NAMESPACES
        self._emitting = True
        try:
            self.nodesSelected.emit(ids)
        finally:
            self._emitting = False

    def _details_activated(self, page: ListPage, index: QModelIndex) -> None:
        if page.model.columns[index.column()] != "Details":
            return
        row = page.model.rows[page.proxy.mapToSource(index).row()]
        if len(row.references) == 1:
            self.configSelected.emit(row.reference_identity(row.references[0]))
        elif row.references:
            self._offer_references(page, row, page.table.visualRect(index).bottomLeft())

    def _row_menu(self, page: ListPage, pos: Any) -> None:
        index = page.table.indexAt(pos)
        if index.isValid():
            self._offer_references(page, page.model.rows[page.proxy.mapToSource(index).row()], pos, labels=True)

    def _offer_references(self, page: ListPage, row: ListRow, pos: Any, labels: bool = False) -> None:
        """A menu of the row's Istio config to open (or saying it has none), at ``pos`` of the table; with
        ``labels``, its labels to filter the list by too (as a click on one of Kiali's label chips)."""
        menu = QMenu(self)
        menu.setAccessibleName(f"Istio config of {row.name}")
        for key in row.references:
            action = menu.addAction(f"Open {reference_text(key, row.namespace)}")
            which = row.reference_identity(key)
            action.triggered.connect(lambda _c=False, k=which: self.configSelected.emit(k))
        if not row.references:
            menu.addAction("No Istio config selects it or is about it").setEnabled(False)
        terms = [f"{k}={v}" for k, values in row.labels.items() for v in values.split(",")] if labels else []
        if terms:
            menu.addSeparator()
        for term in terms[:_LABELS_OFFERED]:
            action = menu.addAction(f"Filter by {term}")
            action.triggered.connect(lambda _c=False, t=term: page.filter_by_label(t))
        if self.references_menu is not None:
            self.references_menu.deleteLater()
        self.references_menu = menu
        menu.popup(page.table.viewport().mapToGlobal(pos))

    def _config_clicked(self) -> None:
        rows = self.pages[CONFIG].selected_rows()
        if len(rows) == 1 and rows[0].key is not None:
            self.configSelected.emit(rows[0].identity)

    def _rows_picked(self, page: ListPage) -> None:
        if self._syncing:
            return
        rows = page.selected_rows()
        ids: list[str] = []
        for row in rows:
            ids += [i for i in row.node_ids if i not in ids]
        self._graph_ids = ids
        self._picked = page.model.title
        if page.model.title == CONFIG and len(rows) == 1 and rows[0].key is not None:
            self.configSelected.emit(rows[0].identity)
        self._emitting = True
        try:
            self.nodesSelected.emit(ids)
        finally:
            self._emitting = False
