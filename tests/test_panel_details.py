"""Details the side panel gives beside the other views: an operation's rows next to its charts, and the
routes a service's Istio config sets (its VirtualService's rules, its DestinationRule's subsets and
traffic policy), in real widgets."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import NODE_AGGREGATE
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster
from meshdesk.ui.panels import SidePanel

pytestmark = pytest.mark.ui

NOW = 1_790_000_000.0


def test_an_operation_panel_says_no_response_time_it_does_not_have(qtbot: QtBot) -> None:
    """The panel said "Response time n/a" while the Metrics dock charted the same operation's durations.
    As in Kiali, the graph keeps no response time on an operation's edges: the row is left out."""
    demo = DemoCluster(clock=lambda: NOW)
    snap = demo.snapshot(GraphRequest(graphType="versionedApp", namespaces=("shop",),
                                      appenders=("operationNodes", "responseTime", "health")))
    graph = build(snap)
    op = next(n for n in graph.nodes.values() if n.node_type == NODE_AGGREGATE)
    assert all(e.response_time is None for e in graph.edges.values() if op.id in (e.source, e.target))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, snap.inventory)
    panel.show_selection([op.id])
    text = panel.text()
    assert panel.kind == "operation" and "Rate\n" in text
    assert "Response time" not in text

