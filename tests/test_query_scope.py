"""Kiali's Prometheus ``query_scope``: one Prometheus (Thanos, Mimir) holding two meshes' telemetry, told
apart by a ``mesh_id`` label alone, is asked for one mesh's series in every query meshdesk sends it: the
graph's, the Metrics dock's charts, the Namespaces list's traffic, the command line's, as Kiali adds the
scope to every query."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.commands.graph import main as graph_main
from meshdesk.mesh.graph import build
from meshdesk.mesh.metrics import MetricsTarget
from meshdesk.mesh.namespace_traffic import TrafficReading
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.cluster import ClusterSource
from meshdesk.sources.perf import ClusterMetrics
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.sources.promql import scoped
from meshdesk.sources.snapshot import load_snapshot
from meshdesk.sources.telemetry import fetch_samples
from meshdesk.ui.metrics_view import MetricsView
from meshdesk.ui.offline import SnapshotSource
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer, Series, binaries_missing, istio_edge
from tests.prom_server import Workload as W

PRODUCTPAGE = W("bookinfo", "productpage-v1", "productpage")
DETAILS = W("bookinfo", "details-v1", "details")
REVIEWS = W("bookinfo", "reviews-v1", "reviews")
RATINGS = W("bookinfo", "ratings-v1", "ratings")
EAST = (("mesh_id", "mesh-east"),)
# a scope value that a query pasted together unescaped would turn into "or the west mesh's series"
HOSTILE = 'mesh-east"} or istio_requests_total{mesh_id="mesh-west'


def _edge(src: W, dst: W, rate: float, mesh: str) -> list[Series]:
    """An edge's two reports (source and destination proxies) in ``mesh``."""
    return [Series("istio_requests_total", istio_edge(src, dst, dst.app, dst.namespace, reporter=reporter,
                                                      extra={"mesh_id": mesh}), rate)
            for reporter in ("source", "destination")]


@pytest.fixture(scope="module")
def two_meshes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A Prometheus with two meshes' bookinfo, the same names and labels but ``mesh_id``: in the east,
    productpage calls details 4 times a second; in the west, details once and reviews 3 times; a third
    mesh's series carry the hostile value itself as their mesh_id (productpage -> ratings, 2 a second)."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    series = [*_edge(PRODUCTPAGE, DETAILS, 4.0, "mesh-east"),
              *_edge(PRODUCTPAGE, DETAILS, 1.0, "mesh-west"), *_edge(PRODUCTPAGE, REVIEWS, 3.0, "mesh-west"),
              *_edge(PRODUCTPAGE, RATINGS, 2.0, HOSTILE)]
    srv = PrometheusServer(tmp_path_factory.mktemp("two-meshes"), series)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _edges(srv: PrometheusServer, scope: tuple[tuple[str, str], ...] = ()) -> dict[str, float]:
    """The workload graph of bookinfo read with ``scope``: its edges' rates by destination workload."""
    request = GraphRequest(namespaces=("bookinfo",), graphType="workload", injectServiceNodes=False,
                           queryTime=srv.query_time)
    samples, _ = fetch_samples(PrometheusClient(srv.url, scope=scope), request)
    graph = build(Snapshot(request, samples))
    return {graph.nodes[e.target].workload or "": round(e.rate, 3) for e in graph.edges.values()
            if graph.nodes[e.source].workload == "productpage-v1"}


def test_a_graph_read_with_a_scope_has_that_meshs_nodes_and_rates_alone(two_meshes: PrometheusServer) -> None:
    """Without the scope, the graph sums both meshes (details 5 a second, the west's reviews and the third
    mesh's ratings drawn too); with mesh_id=mesh-east, as Kiali's query_scope keeps it, the east's alone."""
    assert _edges(two_meshes) == {"details-v1": 5.0, "reviews-v1": 3.0, "ratings-v1": 2.0}
    assert _edges(two_meshes, EAST) == {"details-v1": 4.0}
    assert _edges(two_meshes, (("mesh_id", "mesh-west"),)) == {"details-v1": 1.0, "reviews-v1": 3.0}


def test_a_scope_value_with_quotes_backslashes_and_braces_matches_itself_only(two_meshes: PrometheusServer) -> None:
    """A scope value is a label value, never PromQL: one with quotes and braces that, pasted in as it is,
    would add the west mesh's series, selects the series whose mesh_id is that very text; one with a
    backslash, none (and no query error)."""
    assert _edges(two_meshes, (("mesh_id", HOSTILE),)) == {"ratings-v1": 2.0}
    assert _edges(two_meshes, (("mesh_id", 'back\\slash"}{'),)) == {}
    # the scope goes into every selector of a query, and into nothing else
    assert scoped('sum by (le) (rate(x_bucket{a="{b}"}[5m] offset 1m)) / up', EAST) == \
        'sum by (le) (rate(x_bucket{mesh_id="mesh-east",a="{b}"}[5m] offset 1m)) / up{mesh_id="mesh-east"}'


def test_the_metrics_dock_charts_the_scoped_series_only(qtbot: QtBot, kube_emulator: KubeEmulator,  # noqa: F811
                                                       two_meshes: PrometheusServer) -> None:
    """The Metrics dock of a context whose Prometheus has a query scope charts details-v1's requests of
    that mesh (4 a second), not both meshes' (5); the Namespaces list's traffic of bookinfo is the east's
    too."""
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    views: list[MetricsView] = []

    def inbound(scope: tuple[tuple[str, str], ...]) -> tuple[float, TrafficReading]:
        source = ClusterSource(kube_emulator.api_client(), context="emu", prometheus_url=two_meshes.url,
                               prometheus_scope=scope)
        view = MetricsView(ClusterMetrics(source), poll_ms=0)
        views.append(view)
        qtbot.addWidget(view)
        view.resize(1000, 800)
        view.show()
        with qtbot.waitSignal(view.refreshed, timeout=20000):
            view.set_target(MetricsTarget.workload("bookinfo", "details-v1"))
        _times, values = view.charts["request_volume"].data()[("rate", "")]
        reading = source.namespace_traffic(GraphRequest(namespaces=("bookinfo",)))
        view.shutdown()
        source.close()
        return values[-1], reading

    both, traffic_both = inbound(())
    east, traffic_east = inbound(EAST)
    assert both == pytest.approx(5.0)
    assert east == pytest.approx(4.0)
    # the Namespaces list's traffic into bookinfo: all three meshes' 10 requests a second, the east's 4
    assert traffic_both.of("bookinfo").rate == pytest.approx(10.0, rel=0.05)
    assert traffic_east.of("bookinfo").rate == pytest.approx(4.0, rel=0.05)


def test_graph_takes_the_scope_on_the_command_line_or_from_settings_and_the_snapshot_keeps_it(
        kube_emulator: KubeEmulator, two_meshes: PrometheusServer, tmp_path: Path,  # noqa: F811
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`meshdesk graph --prometheus-scope mesh_id=mesh-east` graphs the east's traffic and saves the scope in
    the snapshot's request (a snapshot is not asked for another scope's); without the option, the scope
    saved in Settings for the context is used, and said; `--prometheus-scope ''` reads every series."""
    from meshdesk.store.settings import ContextSettings, load_settings

    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    base = ["--kubeconfig", str(config), "-n", "bookinfo", "--graph-type", "workload", "--no-inject-service-nodes",
            "--format", "json"]

    def rates(args: list[str]) -> dict[str, float]:
        assert graph_main([*base, *args]) == 0, capsys.readouterr().err
        out = json.loads(capsys.readouterr().out)
        names = {n["id"]: n["workload"] for n in out["nodes"]}
        return {names[e["target"]]: round(e["rates"]["http"], 3) for e in out["edges"]
                if names[e["source"]] == "productpage-v1"}

    path = tmp_path / "east.json"
    assert rates(["--prometheus", two_meshes.url, "--prometheus-scope", "mesh-id=mesh-east",
                  "--save-snapshot", str(path)]) == {"details-v1": 4.0}
    assert load_snapshot(path).request.queryScope == EAST
    # opened in the window (File > Open snapshot), its graph's request keeps it, saved again too
    assert SnapshotSource(str(path)).snapshot(GraphRequest(namespaces=("bookinfo",))).request.queryScope == EAST
    assert rates(["--prometheus", two_meshes.url]) == {"details-v1": 5.0, "reviews-v1": 3.0, "ratings-v1": 2.0}
    # the snapshot says the scope it was read with, and is not asked for another
    assert graph_main(["--snapshot", str(path), "--prometheus-scope", "mesh_id=mesh-west"]) == 2
    assert "the snapshot was read with the query scope mesh_id=mesh-east" in capsys.readouterr().err
    assert graph_main(["--snapshot", str(path), "--prometheus-scope", "mesh_id=mesh-east"]) == 0
    assert "the snapshot's traffic was read with the Prometheus query scope mesh_id=mesh-east\n" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        graph_main(["--demo", "--prometheus-scope", "mesh_id=x"])
    assert refused.value.code == 2
    assert "--prometheus-scope is for a live cluster's Prometheus" in capsys.readouterr().err
    assert graph_main([*base, "--prometheus", two_meshes.url, "--prometheus-scope", "no-value"]) == 2
    assert "--prometheus-scope: 'no-value' is not label=value" in capsys.readouterr().err
    # saved in Settings for the context, with its Prometheus: used as the app uses it, and said
    settings = load_settings()
    settings.set_context_settings("lab", ContextSettings(prometheus_url=two_meshes.url,
                                                         prometheus_scope=(("mesh_id", "mesh-west"),)))
    settings.save()
    assert rates([]) == {"details-v1": 1.0, "reviews-v1": 3.0}
    assert rates(["--prometheus-scope", ""]) == {"details-v1": 5.0, "reviews-v1": 3.0, "ratings-v1": 2.0}
    assert graph_main(base) == 0
    assert "query scope saved in Settings for context lab only (mesh_id=mesh-west;" in capsys.readouterr().err
