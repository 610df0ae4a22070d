"""A ServiceEntry's node in the Metrics dock and the sparklines: charts of the requests to its hosts, read
from a real Prometheus, whose numbers are the graph's rates into the node.

The telemetry is Istio's for a host of a ServiceEntry: ``destination_service_name`` is the host the caller
asked for (not the entry's name), only the callers' proxies report it (nothing on the other side has one)
and the destination workload is "unknown".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import TrafficGraph
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.metrics import INBOUND, OUTBOUND, MetricsTarget
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.metrics import PrometheusMetrics
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.sources.telemetry import fetch_samples
from meshdesk.ui.metrics_view import MetricsView, SparklinePanel
from tests.prom_server import Histogram, PrometheusServer, Series, Workload, binaries_missing, istio_edge
from tests.ui_helpers import workload

pytestmark = pytest.mark.prometheus

WEB = Workload("shop", "web-v1", "web", "v1")
CART = Workload("shop", "cart-v1", "cart", "v1")
STRIPE, ERP = "api.stripe.com", "erp.corp.internal"


def _host_labels(src: Workload, host: str, code: str = "200") -> dict[str, str]:
    labels = istio_edge(src, None, host, "shop", reporter="source", code=code)
    labels.update({"destination_service_name": host, "destination_cluster": "unknown"})
    return labels


def _to_host(src: Workload, host: str, rate: float, code: str = "200") -> Series:
    return Series("istio_requests_total", _host_labels(src, host, code), rate)


@pytest.fixture(scope="module")
def entry_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """web -> api.stripe.com 2.5 rps + 0.5 rps 503 (an external entry), cart -> erp.corp.internal 1.5 rps
    (an internal one without workloads in the mesh), web -> cart 4 rps (both proxies report it)."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    series: list[Series | Histogram] = [_to_host(WEB, STRIPE, 2.5), _to_host(WEB, STRIPE, 0.5, "503"),
                                        _to_host(CART, ERP, 1.5)]
    series += [Series("istio_requests_total", istio_edge(WEB, CART, "cart", "shop", reporter=r), 4.0)
               for r in ("source", "destination")]
    series.append(Histogram("istio_request_duration_milliseconds", _host_labels(WEB, STRIPE), 3.0, {200.0: 1.0}))
    srv = PrometheusServer(tmp_path_factory.mktemp("service-entries"), series)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _inventory() -> Inventory:
    inv = Inventory(cluster="test-cluster", workloads=[workload("web-v1", "shop", "web"),
                                                       workload("cart-v1", "shop", "cart")])
    inv.istio += [
        IstioObject("ServiceEntry", "stripe", "shop", spec={"hosts": [STRIPE], "location": "MESH_EXTERNAL",
                                                            "resolution": "DNS"}),
        IstioObject("ServiceEntry", "erp", "shop", spec={"hosts": [ERP], "location": "MESH_INTERNAL",
                                                         "resolution": "STATIC"}),
    ]
    return inv


def _graph(srv: PrometheusServer, **kw: Any) -> TrafficGraph:
    request = GraphRequest(namespaces=("shop",), queryTime=srv.query_time, **kw)
    samples, _ = fetch_samples(PrometheusClient(srv.url), request)
    return build(Snapshot(request, samples, _inventory()))


class _AtQueryTime:
    """The real Prometheus' charts at its dataset's "now"."""

    def __init__(self, srv: PrometheusServer) -> None:
        self.inner, self.end = PrometheusMetrics(PrometheusClient(srv.url)), float(srv.query_time)

    def fetch(self, target: MetricsTarget, spec: Any, cancelled: Any = None) -> Any:
        return self.inner.fetch(target, replace(spec, end=self.end), cancelled)


def _last(chart: Any, key: tuple[str, str] = ("rate", "")) -> float:
    return float(chart.data()[key][1][-1])


@pytest.mark.parametrize("graph_type", ["versionedApp", "workload"])
def test_a_service_entry_node_charts_the_requests_to_its_hosts(qtbot: QtBot, entry_prometheus: PrometheusServer,
                                                               graph_type: str) -> None:
    """The Metrics dock said "No selection" for a ServiceEntry's node and drew nothing; now its title
    names the entry and its hosts, and its charts show what the graph's edges into it carry."""
    g = _graph(entry_prometheus, graphType=graph_type)
    view = MetricsView(_AtQueryTime(entry_prometheus), poll_ms=0)
    qtbot.addWidget(view)
    view.show()
    for name, host, errors in (("stripe", STRIPE, 0.5), ("erp", ERP, 0.0)):
        node = next(n for n in g.nodes.values() if n.is_service_entry is not None and n.is_service_entry.name == name)
        into = sum(e.rate for e in g.in_edges(node.id))
        assert into > 0
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.show_graph_selection(g, [node.id])
        assert view.title.text() == f"ServiceEntry shop/{name}: requests to {host}"
        assert _last(view.charts["request_volume"]) == pytest.approx(into)
        if errors:
            assert _last(view.charts["request_errors"]) == pytest.approx(errors)
            assert _last(view.charts["error_share"]) == pytest.approx(errors / into)
        else:
            assert view.charts["request_errors"].data() == {}
    durations = view.charts["request_duration"]
    assert view.charts["request_volume"].status_text == ""
    # stripe's durations were drawn while it was selected; erp has none
    assert durations.data() == {} and durations.status_text == "No data"

    stripe = next(n for n in g.nodes.values() if n.is_service_entry is not None and n.is_service_entry.name == "stripe")
    view.direction.setCurrentIndex(view.direction.findData(OUTBOUND))
    view.show_graph_selection(g, [stripe.id])
    assert view.target is None
    # the title names it; why there is nothing to chart is said once, in the charts' place (it was in
    # the title and again on each of the eight charts)
    assert view.title.text() == "ServiceEntry shop/stripe (outbound)"
    assert view.notice.isVisible() and view.notice.text().startswith("A ServiceEntry has no outbound traffic")
    assert not any(c.isVisible() for c in view.charts.values())
    view.direction.setCurrentIndex(view.direction.findData(INBOUND))  # back to its charts
    qtbot.waitUntil(lambda: view.target is not None and view.charts["request_volume"].isVisible(), timeout=5000)
    assert not view.notice.isVisible() and view.title.text().startswith("ServiceEntry shop/stripe: requests to")
    view.shutdown()


def test_a_service_entry_nodes_sparklines_agree_with_the_graph(qtbot: QtBot, entry_prometheus: PrometheusServer) -> None:
    g = _graph(entry_prometheus, graphType="versionedApp")
    stripe = next(n for n in g.nodes.values() if n.is_service_entry is not None and n.is_service_entry.name == "stripe")
    panel = SparklinePanel(_AtQueryTime(entry_prometheus), poll_ms=0)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.refreshed, timeout=20000):
        panel.show_graph_selection(g, [stripe.id])
    assert panel.direction_label.text() == "Inbound traffic"
    assert _last(panel.charts["request_volume"]) == pytest.approx(sum(e.rate for e in g.in_edges(stripe.id)))
    assert _last(panel.charts["request_duration"], ("avg", "")) == pytest.approx(200.0)
    panel.shutdown()
