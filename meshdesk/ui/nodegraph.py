"""Node graphs (Kiali's "node graph", opened by double-clicking a node): one workload, app, app
version or service with what calls it and what it calls, in every namespace; or one operation with
its callers and the services and workloads that serve it.

``focus_for`` turns a graph node into the request's ``NodeFocus`` (an app box too: its app's graph, as
in Kiali); ``no_node_graph`` says why a node that could have one does not (as Kiali refuses: a
workload without a sidecar, an idle node); ``FocusBar`` says which node the graph is about and leads
back to the full graph.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from meshdesk.mesh.graph.model import (
    NODE_AGGREGATE,
    NODE_APP,
    NODE_BOX,
    NODE_SERVICE,
    NODE_WORKLOAD,
    UNKNOWN,
    Node,
    TrafficGraph,
)
from meshdesk.mesh.metrics import spans_clusters
from meshdesk.mesh.request import NodeFocus


def focus_for(node: Node, graph_type: str, graph: TrafficGraph | None = None) -> NodeFocus | None:
    """The node graph a double-click on ``node`` opens, or None for nodes that have none (the unknown
    source, ServiceEntries, inaccessible nodes, namespace and cluster boxes). When ``graph`` spans
    several clusters, the node graph keeps to the node's cluster, as Kiali's does (an operation's graph
    is not narrowed, as in Kiali)."""
    if not node.namespace or node.is_inaccessible:
        return None
    if node.node_type == NODE_AGGREGATE and node.aggregate and node.aggregate_value:
        return NodeFocus(node.namespace, service=node.service or None, aggregate=node.aggregate,
                         aggregateValue=node.aggregate_value)
    cluster = node.cluster if graph is not None and node.cluster != UNKNOWN and spans_clusters(graph) else None
    if node.node_type == NODE_WORKLOAD and node.workload:
        return NodeFocus(node.namespace, workload=node.workload, cluster=cluster)
    if node.node_type == NODE_APP and node.app:
        version = node.version if graph_type == "versionedApp" and node.version else None
        return NodeFocus(node.namespace, app=node.app, version=version, cluster=cluster)
    if node.node_type == NODE_BOX and node.box == "app" and node.app:
        return NodeFocus(node.namespace, app=node.app, cluster=cluster)  # the app, all its versions
    if node.node_type == NODE_SERVICE and node.service and node.is_service_entry is None:
        return NodeFocus(node.namespace, service=node.service, cluster=cluster)
    return None


def no_node_graph(node: Node) -> str | None:
    """Why ``node`` gets no node graph although ``focus_for`` names one, or None. As Kiali: a workload
    without a sidecar reports nothing of its own, and an idle node has no traffic to show."""
    if node.has_missing_sidecar:
        return "No node graph: without a sidecar this workload reports no telemetry of its own"
    if node.is_idle:
        return "No node graph: this node is idle (no traffic of its own)"
    return None


def focus_text(focus: NodeFocus) -> str:
    """The node in words: "service shop/reviews", "app shop/reviews v2", "workload shop/reviews-v2",
    "operation shop/GET /reviews of reviews"."""
    where = f" in {focus.cluster}" if focus.cluster else ""
    if focus.aggregateValue:
        return f"operation {focus.namespace}/{focus.aggregateValue}" + (f" of {focus.service}" if focus.service else "")
    if focus.service:
        return f"service {focus.namespace}/{focus.service}{where}"
    if focus.workload:
        return f"workload {focus.namespace}/{focus.workload}{where}"
    return f"app {focus.namespace}/{focus.app}" + (f" {focus.version}" if focus.version else "") + where


def focus_key(focus: NodeFocus) -> str:
    """A name for the node graph's saved layout (no '|' or ',': the layout file's separators)."""
    kind, _, name = focus_text(focus).partition(" ")
    return f"{kind}:{name.replace(' ', ':').replace('|', '%7C').replace(',', '%2C')}"


class FocusBar(QWidget):
    """"Node graph of service shop/reviews" and a way back; ``backRequested`` asks for the full graph."""

    backRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("focusBar")
        self.label = QLabel()
        self.back_button = QPushButton("Back to the full graph")
        self.back_button.setToolTip("Show the selected namespaces again (Alt+Left)")
        self.back_button.clicked.connect(self.backRequested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.back_button)

    def show_focus(self, focus: NodeFocus) -> None:
        what = "who calls it and what serves it" if focus.aggregateValue else \
            "what calls it and what it calls, in every namespace"
        self.label.setText(f"<b>Node graph</b> of {html.escape(focus_text(focus))}: {what}")
        self.show()
