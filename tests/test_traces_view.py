"""The Traces dock's view: the traces of a target as a chart and a table, a trace's spans in call order
with the failed ones marked, the filters, and what it says when there is nothing to show."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, Slot
from pytestqt.qtbot import QtBot

from meshdesk.mesh import traces as tr
from meshdesk.sources.base import Unreachable
from meshdesk.ui.traces_view import COL_SUMMARY, TracesView, span_rows
from tests.prom_server import prometheus_server  # noqa: F401 - the fixture
from tests.trace_samples import bookinfo_trace, jaeger_answer

pytestmark = [pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]

NOW = 1_700_000_000.0


class JaegerJson:
    """Traces held as Jaeger JSON and found with the query API's rule (``matches_query``) then Kiali's
    narrowing, as a backend and the client do: the view's source, in process."""

    def __init__(self, *traces: dict[str, Any]) -> None:
        self.traces = tr.parse_jaeger(jaeger_answer(*traces)).traces
        self.queries: list[tr.TraceQuery] = []
        self.fail: Exception | None = None

    def find_traces(self, query: tr.TraceQuery, cancelled: Any = None) -> tr.TraceSet:
        self.queries.append(query)
        if self.fail is not None:
            raise self.fail
        service = query.target.jaeger_service()
        hits = [t for t in self.traces if tr.matches_query(t, query, service)][: query.limit]
        found = tr.TraceSet(hits, service, limit=query.limit, fetched=len(hits))
        if not hits and getattr(self, "note", ""):
            found.notes.append(self.note)  # type: ignore[attr-defined]
        return tr.for_target(found, query.target)

    def trace(self, trace_id: str) -> tr.Trace | None:
        return next((t for t in self.traces if t.trace_id == trace_id), None)


def _us(seconds_ago: float) -> int:
    return int((NOW - seconds_ago) * 1e6)


def _view(qtbot: QtBot, source: Any) -> TracesView:
    view = TracesView()
    qtbot.addWidget(view)
    view.set_end(NOW)
    view.set_source(source)
    return view


def test_an_apps_traces_are_charted_listed_and_a_failed_trace_shows_where_it_failed(qtbot: QtBot) -> None:
    source = JaegerJson(bookinfo_trace(_us(60), reviews="v1"), bookinfo_trace(_us(120), reviews="v2"),
                        bookinfo_trace(_us(180), ratings_code=503), bookinfo_trace(_us(5000)))
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000) as got:
        view.show()
    assert len(got.args[0].traces) == 3  # the one 5,000 s ago is outside the last 15 minutes
    assert view.table.rowCount() == 3
    assert len(view.scatter.data) == 3
    assert "3 traces, 1 with errors" in view.note.text()
    assert source.queries[-1].target.jaeger_service() == "reviews.bookinfo"
    failed_row = next(r for r in range(3) if view.table.item(r, 4).text() == "1")
    with qtbot.waitSignal(view.traceShown, timeout=5000):
        view.table.selectRow(failed_row)
    rows = span_rows(view)
    assert [d for d, *_ in rows] == [0, 1, 2, 3, 2, 3, 4]
    failed = [r for r in rows if r[3]]
    assert len(failed) == 1 and failed[0][2] == "GET /ratings/0 -> 503 flags UO"
    # the failed span is the one chosen, its tags beside
    assert view.spans.currentItem().text(COL_SUMMARY) == "GET /ratings/0 -> 503 flags UO"
    tags = {view.tags.item(r, 0).text(): view.tags.item(r, 1).text() for r in range(view.tags.rowCount())}
    assert tags["response_flags"] == "UO" and tags["upstream_cluster"].endswith("ratings.bookinfo.svc.cluster.local")
    assert "1 failed" in view.detail_title.text()


def test_errors_only_and_a_workload_target_narrow_the_traces(qtbot: QtBot) -> None:
    source = JaegerJson(bookinfo_trace(_us(60), reviews="v1"), bookinfo_trace(_us(120), reviews="v2"),
                        bookinfo_trace(_us(180), ratings_code=503))
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_WORKLOAD, "bookinfo", "reviews-v1", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    assert view.table.rowCount() == 1
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    assert view.table.rowCount() == 3
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.errors_only.setChecked(True)
    assert view.table.rowCount() == 1 and source.queries[-1].errors_only
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.set_target(tr.TraceTarget(tr.TARGET_WORKLOAD, "bookinfo", "reviews-v1", "reviews"))
    assert view.table.rowCount() == 0
    assert "No failed traces of workload bookinfo/reviews-v1" in view.note.text()
    assert "3 traces of the app reviews" not in view.note.text()  # errors only: one was read


def test_with_no_source_no_target_or_a_failing_backend_the_view_says_why(qtbot: QtBot) -> None:
    view = _view(qtbot, None)
    view.show()
    assert "No tracing backend" in view.note.text()
    view.set_source(None, unavailable="Not available in an offline snapshot")
    assert view.note.text() == "Not available in an offline snapshot"
    source = JaegerJson(bookinfo_trace(_us(60)))
    view.set_source(source)
    assert "Select an app, a workload or a service" in view.note.text()
    view.set_target(None, "Traces are kept per app, workload and service")
    assert view.note.text() == "Traces are kept per app, workload and service"
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "productpage", "productpage"))
    assert view.table.rowCount() == 1
    # a live backend says how it is reached, and what the reader adds is said as its own sentence
    source.describe = lambda: "the API server's proxy to istio-system/tracing:80"  # type: ignore[attr-defined]
    source.note = "The tracing backend has no traces of nosuch.bookinfo at all."  # type: ignore[attr-defined]
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "nosuch", "nosuch"))
    assert view.title.text().endswith("from the API server's proxy to istio-system/tracing:80")
    assert view.note.text().endswith(" The tracing backend has no traces of nosuch.bookinfo at all.")
    assert "The backend said" not in view.note.text()
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "productpage", "productpage"))
    source.fail = Unreachable("Cannot reach Jaeger at http://127.0.0.1:1: connection refused")
    with qtbot.waitSignal(view.failed, timeout=10000):
        view.refresh.click()
    assert view.note.text() == "Could not read traces: Cannot reach Jaeger at http://127.0.0.1:1: connection refused"
    assert view.table.rowCount() == 1  # what was shown stays


def test_the_dock_reads_nothing_while_hidden_and_reads_the_target_when_shown(qtbot: QtBot) -> None:
    source = JaegerJson(bookinfo_trace(_us(60)))
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "details", "details"))
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    assert source.queries == []
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    assert [q.target.name for q in source.queries] == ["reviews"]


def test_in_the_window_the_selection_is_the_target_and_show_in_graph_selects_the_trace_s_nodes(qtbot: QtBot) -> None:
    from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE, NODE_WORKLOAD
    from tests.test_envoy_view import _demo_window_with_docks
    from tests.ui_helpers import shown

    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        graph = shown(qtbot, w, lambda g: any(n.workload == "reviews-v2" for n in g.nodes.values()))
        perf = next(e for e in w.extensions if hasattr(e, "docks"))
        node = next(n for n in graph.nodes.values() if n.node_type in (NODE_APP, NODE_WORKLOAD)
                    and n.workload == "reviews-v2")
        w.view.select([node.id])
        assert perf.traces.target == tr.TraceTarget(tr.TARGET_WORKLOAD, "shop", "reviews-v2", "reviews")
        service = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
        assert service is not None
        w.view.select([service.id])
        assert perf.traces.target == tr.TraceTarget(tr.TARGET_SERVICE, "shop", "reviews", "reviews")
        edge = next(iter(graph.edges.values()))
        w.view.select([edge.id])
        assert perf.traces.target is None and "select one of those" in perf.traces.why_none
        # a trace through productpage and reviews v2 (their pods as the demo runs them)
        inv = w.poller.snapshot.inventory if getattr(w.poller, "snapshot", None) else None
        inv = inv or perf.inventory
        pods = {name: inv.workload("shop", name).pods[0].name for name in ("productpage-v1", "reviews-v2")}
        spans = tuple(tr.Span("t1", f"s{i}", f"s{i - 1}" if i else "", f"{app}.shop.svc.cluster.local:9080/*",
                              f"{app}.shop", 1_000 + i, 10, {"node_id": f"sidecar~10.0.0.{i}~{pods[wl]}.shop~shop.svc"})
                      for i, (app, wl) in enumerate((("productpage", "productpage-v1"), ("reviews", "reviews-v2"))))
        target_before = perf.traces.target
        assert perf.show_trace(tr.Trace("t1", spans))
        chosen = w.view.selected_ids()
        assert {graph.nodes[i].workload for i in chosen if i in graph.nodes and graph.nodes[i].workload} == \
            {"productpage-v1", "reviews-v2"}
        # the hop between them: the edges through the reviews service node (service nodes are on)
        hops = [graph.edges[i] for i in chosen if i in graph.edges]
        assert service.id in chosen and len(hops) == 2
        assert {graph.nodes[hops[0].source].workload, graph.nodes[hops[1].target].workload} == \
            {"productpage-v1", "reviews-v2"}
        assert perf.traces.target == target_before  # the dock keeps the trace it shows
        # what the graph says of the hop, beside the span's tags
        from meshdesk.ui.perf_views import hop_rows

        rows = dict(hop_rows(graph, tr.Trace("t1", spans), spans[1]))
        into = graph.edges[hops[1].id]
        assert rows["in the graph: hop"].endswith(f"-> {graph.nodes[into.target].label}")
        assert rows["in the graph: requests"] == f"{into.rate:.2f}/s"
        assert into.response_time is not None
        assert rows["in the graph: response time p95"] == \
            f"{into.response_time:.1f} ms (this request took 10 µs: within the graph's p95)"
    finally:
        next(windows, None)


def test_a_graph_refresh_reads_live_traces_again_and_keeps_the_trace_and_span_chosen(qtbot: QtBot) -> None:
    import time

    now = time.time()
    source = JaegerJson(bookinfo_trace(int((now - 30) * 1e6), ratings_code=503),
                        bookinfo_trace(int((now - 40) * 1e6)))
    view = TracesView()
    qtbot.addWidget(view)
    view.set_source(source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    failed_row = next(r for r in range(2) if view.table.item(r, 4).text() == "1")
    with qtbot.waitSignal(view.traceShown, timeout=5000):
        view.table.selectRow(failed_row)
    top = view.spans.topLevelItem(0)
    view.spans.setCurrentItem(top)
    chosen_trace = view.trace.trace_id
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.poll()
    assert len(source.queries) == 2
    assert view.trace is not None and view.trace.trace_id == chosen_trace
    assert view.spans.currentItem() is top  # the tree was not rebuilt under the user
    # a replayed window does not move: no new query
    view.set_end(now)
    qtbot.waitUntil(lambda: len(source.queries) == 3, timeout=10000)
    asked = view._generation
    view.poll()
    assert view._generation == asked  # nothing was asked of the source


def test_an_ambient_workload_s_traces_are_its_waypoint_s_and_show_in_graph_finds_the_workloads(qtbot: QtBot) -> None:
    """In the demo's ambient namespace (travel) the pods have no proxy: the waypoint reports their requests,
    so their traces are asked of the waypoint's service (as Kiali asks) and narrowed to the spans naming
    the workload; "Show in graph" selects the workloads a waypoint span names, not only the waypoint."""
    from meshdesk.mesh.graph.model import NODE_APP, NODE_WORKLOAD
    from tests.test_envoy_view import _demo_window_with_docks
    from tests.ui_helpers import shown

    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        graph = shown(qtbot, w, lambda g: any(n.workload == "search-v1" for n in g.nodes.values()))
        perf = next(e for e in w.extensions if hasattr(e, "docks"))
        node = next(n for n in graph.nodes.values() if n.node_type in (NODE_APP, NODE_WORKLOAD)
                    and n.workload == "search-v1")
        w.view.select([node.id])
        target = perf.traces.target
        assert target is not None and target.waypoint == "waypoint"
        assert target.jaeger_service() == "waypoint.travel"
        with qtbot.waitSignal(perf.traces.loaded, timeout=30000) as got:
            perf.docks["Traces"].show()
        found = got.args[0]
        assert found.traces and found.service == "waypoint.travel"
        assert all(any(tr.span_of_workload(s, "travel", "search-v1") for s in t.spans) for t in found.traces)
        trace = found.traces[0]
        assert perf.show_trace(trace)
        chosen = {graph.nodes[i].workload for i in w.view.selected_ids() if i in graph.nodes}
        named = {s.tags.get(f"istio.{side}_workload") for s in trace.spans for side in ("source", "destination")}
        assert "search-v1" in chosen and (named - {None, ""}) <= chosen | {n.workload for n in graph.nodes.values()
                                                                           if n.namespace != "travel"}
        assert any(i in graph.edges for i in w.view.selected_ids())
    finally:
        next(windows, None)


def test_reaching_the_limit_says_older_traces_were_not_searched(qtbot: QtBot) -> None:
    source = JaegerJson(*[bookinfo_trace(_us(10 + i), reviews="v1" if i % 5 == 0 else "v2") for i in range(25)])
    view = _view(qtbot, source)
    view.limit_box.setCurrentIndex(0)  # 20
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    assert view.table.rowCount() == 20
    assert "The limit of 20 traces was reached: older ones are not shown" in view.note.text()
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.set_target(tr.TraceTarget(tr.TARGET_WORKLOAD, "bookinfo", "reviews-v1", "reviews"))
    assert view.table.rowCount() == 4  # of the newest 20 of the app, every fifth
    assert "The limit of 20 traces of reviews was reached (4 of them through this workload)" in view.note.text()


def test_a_waypoint_span_is_said_to_be_reported_for_the_workloads_it_passed_between() -> None:
    from meshdesk.ui.traces_view import where_text

    span = tr.Span("t", "s", "", "flights.travel.svc.cluster.local:8080/*", "waypoint.travel", 1_700_000_000_000_000, 10,
                   {"node_id": "waypoint~10.0.0.1~waypoint-abc.travel~travel.svc.cluster.local",
                    "istio.canonical_service": "waypoint", "istio.source_workload": "search-v1",
                    "istio.destination_workload": "flights-v1"})
    assert where_text(span) == "waypoint (waypoint-abc): search-v1 -> flights-v1"


def test_a_live_clusters_traces_through_its_jaeger_found_behind_the_api_server(qtbot: QtBot) -> None:
    """The dock on a live cluster: the ClusterSource's tracing backend (Istio's Jaeger addon, found behind
    the API server's service proxy on the dock's worker thread) lists the traces; with no backend in the
    cluster the dock says so and how to give its address."""
    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.sources.perf import tracing_source_for
    from tests.jaeger_emulator import JaegerEmulator
    from tests.kube_emulator import KubeEmulator

    with KubeEmulator() as emu, JaegerEmulator([bookinfo_trace(_us(60), reviews="v1"),
                                                bookinfo_trace(_us(120), ratings_code=503)],
                                               base_path="/jaeger") as jaeger:
        source = ClusterSource(emu.api_client(), context="lab")
        try:
            view = _view(qtbot, tracing_source_for(source))
            view.show()
            with qtbot.waitSignal(view.failed, timeout=10000):
                view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            assert view.note.text().startswith("Could not read traces: No tracing backend was found")
            assert "Settings for this context" in view.note.text()
            emu.add_namespace("istio-system")
            emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tracing", "namespace": "istio-system"},
                     "spec": {"ports": [{"name": "http-query", "port": 80, "targetPort": 16686}]}})
            emu.proxy_service("istio-system", "tracing", 80, f"http://127.0.0.1:{jaeger.port}")
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.refresh.click()
            assert view.table.rowCount() == 2 and "2 traces, 1 with errors" in view.note.text()
            assert "istio-system/tracing:80" in source.tracing_how()
        finally:
            view.shutdown()
            source.close()


def test_a_live_clusters_traces_through_tempos_own_api(qtbot: QtBot) -> None:
    """The dock on a cluster whose Tempo (its query frontend's API port, behind the API server's service
    proxy) is asked in TraceQL: the same list, the same failed span and tags as through Jaeger's API, and
    errors only searched for in the query sent."""
    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.sources.perf import tracing_source_for
    from tests.kube_emulator import KubeEmulator
    from tests.tempo_emulator import TempoEmulator

    with KubeEmulator() as emu, TempoEmulator([bookinfo_trace(_us(60), reviews="v1"),
                                               bookinfo_trace(_us(120), ratings_code=503)]) as tempo:
        emu.add_namespace("tempo")
        emu.add({"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": "tempo-query-frontend", "namespace": "tempo",
                              "labels": {"app.kubernetes.io/name": "tempo",
                                         "app.kubernetes.io/component": "query-frontend"}},
                 "spec": {"ports": [{"name": "http", "port": 3200}, {"name": "grpc", "port": 9095}]}})
        emu.proxy_service("tempo", "tempo-query-frontend", 3200, tempo.url)
        source = ClusterSource(emu.api_client(), context="lab")
        view = _view(qtbot, tracing_source_for(source))
        try:
            view.show()
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            assert view.table.rowCount() == 2 and "2 traces, 1 with errors" in view.note.text()
            assert "(Tempo's query frontend, its own API)" in source.tracing_how()
            failed_row = next(r for r in range(2) if view.table.item(r, 4).text() == "1")
            with qtbot.waitSignal(view.traceShown, timeout=5000):
                view.table.selectRow(failed_row)
            rows = span_rows(view)
            assert [d for d, *_ in rows] == [0, 1, 2, 3, 2, 3, 4]
            failed = [r for r in rows if r[3]]
            assert len(failed) == 1 and failed[0][2] == "GET /ratings/0 -> 503 flags UO"
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.errors_only.setChecked(True)
            qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=5000)
            assert "(status = error" in tempo.searches()[-1].params["q"]
        finally:
            view.shutdown()
            source.close()


def test_tempos_traces_are_listed_from_its_search_and_one_is_read_whole_when_chosen(qtbot: QtBot) -> None:
    """Through Tempo's own API the list is its search answer (one request, not one more per trace): the
    spans column says the spans counted are those that matched until the trace is chosen, which reads
    it whole (one request) and the list says its whole numbers from then on, also after a refresh."""
    from meshdesk.sources.tracing import TempoClient
    from tests.tempo_emulator import TempoEmulator

    with TempoEmulator([bookinfo_trace(_us(60), reviews="v1"), bookinfo_trace(_us(120), ratings_code=503),
                        bookinfo_trace(_us(180))]) as tempo:
        client = TempoClient(tempo.url)
        view = _view(qtbot, client)
        try:
            view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.show()
            assert [r.path for r in tempo.requests if "/tag/" not in r.path] == ["/api/search"]
            assert view.table.rowCount() == 3 and len(view.scatter.data) == 3
            assert "3 traces, 1 with errors" in view.note.text()
            assert "spans and errors counting the spans of reviews.bookinfo that matched" in view.note.text()
            counts = {view.table.item(r, 3).text() for r in range(3)}
            assert counts == {"1 matched", "2 matched"}  # v1 calls no ratings: its one span; v2 two
            failed_row = next(r for r in range(3) if view.table.item(r, 4).text() == "1")
            assert "Choose it to read it whole" in view.table.item(failed_row, 3).toolTip()
            failed_id = view.table.item(failed_row, 0).data(Qt.ItemDataRole.UserRole + 1)
            with qtbot.waitSignal(view.traceShown, timeout=10000) as shown:
                view.table.selectRow(failed_row)
                # while it is read whole: its outline, said so, and not yet to be shown in the graph
                assert "Reading the whole trace" in view.detail_title.text()
                assert not view.show_in_graph.isEnabled()
            assert not shown.args[0].partial and len(shown.args[0].spans) == 7 and view.show_in_graph.isEnabled()
            assert [r.path for r in tempo.fetches()] == [f"/api/traces/{failed_id}"]
            assert [d for d, *_ in span_rows(view)] == [0, 1, 2, 3, 2, 3, 4]
            row = next(r for r in range(3) if view.table.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) == failed_id)
            assert (view.table.item(row, 3).text(), view.table.item(row, 4).text()) == ("7", "1")
            assert "7 spans, 1 failed" in view.detail_title.text()
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.load()  # a refresh: the trace chosen stays whole, and is not read again
            assert len(tempo.searches()) == 2 and len(tempo.fetches()) == 1
            assert view.trace is not None and len(view.trace.spans) == 7 and len(span_rows(view)) == 7
            row = next(r for r in range(3) if view.table.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) == failed_id)
            assert view.table.item(row, 3).text() == "7"
        finally:
            view.shutdown()
            client.close()


def test_a_tempo_trace_gone_before_it_is_read_whole_shows_what_its_search_said(qtbot: QtBot) -> None:
    from meshdesk.sources.tracing import TempoClient
    from tests.tempo_emulator import TempoEmulator

    with TempoEmulator([bookinfo_trace(_us(60), ratings_code=503)]) as tempo:
        client = TempoClient(tempo.url)
        view = _view(qtbot, client)
        try:
            view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.show()
            tempo.traces.clear()  # (its blocks compacted away, say)
            with qtbot.waitSignal(view.traceShown, timeout=10000) as shown:
                view.table.selectRow(0)
            assert shown.args[0].partial and len(tempo.fetches()) == 1
            assert "no longer has this trace: only the spans its search matched are shown" in view.detail_title.text()
            assert len(span_rows(view)) == 2 and view.table.item(0, 3).text() == "2 matched"
        finally:
            view.shutdown()
            client.close()


@pytest.mark.parametrize("api", ["jaeger", "tempo"])
def test_typing_tags_narrows_the_traces_and_tags_not_understood_are_said_and_not_searched(qtbot: QtBot,
                                                                                        api: str) -> None:
    """The dock's tags field, as Kiali's traces tab's: KEY=VALUE pairs apart by spaces, searched with
    Return through Jaeger's tags parameter or TraceQL; what cannot be a tag is said under it and nothing
    is asked of the backend."""
    import json

    from meshdesk.sources.tracing import JaegerClient, TempoClient
    from tests.jaeger_emulator import JaegerEmulator
    from tests.tempo_emulator import TempoEmulator

    sample = [bookinfo_trace(_us(60), reviews="v1"), bookinfo_trace(_us(120), ratings_code=503),
              bookinfo_trace(_us(180))]
    with (JaegerEmulator(sample) if api == "jaeger" else TempoEmulator(sample)) as backend:
        client = (JaegerClient if api == "jaeger" else TempoClient)(backend.url)
        view = _view(qtbot, client)
        try:
            view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.show()
            assert view.table.rowCount() == 3
            qtbot.keyClicks(view.tag_filter, "http.status_code=503 upstream_cluster=")
            assert view.tag_problem.isVisible()  # said as it is typed
            assert "upstream_cluster= has no value after its =" in view.tag_problem.text()
            view.tag_filter.clear()
            assert not view.tag_problem.isVisible()
            qtbot.keyClicks(view.tag_filter, "http.status_code=503  node_id=sidecar~10.1.0.7~reviews-v1-7d9c-klmno"
                                             ".bookinfo~bookinfo.svc.cluster.local")
            with qtbot.waitSignal(view.loaded, timeout=10000):
                qtbot.keyClick(view.tag_filter, Qt.Key.Key_Return)
            assert view.table.rowCount() == 0  # no 503 from reviews v1's pod: v1 calls no ratings
            assert "tagged http.status_code=503 node_id=sidecar~" in view.note.text()
            v2 = "sidecar~10.1.0.8~reviews-v2-7d9c-pqrst.bookinfo~bookinfo.svc.cluster.local"
            view.tag_filter.setText(f"http.status_code=503 node_id={v2}")
            with qtbot.waitSignal(view.loaded, timeout=10000):
                qtbot.keyClick(view.tag_filter, Qt.Key.Key_Return)
            assert view.table.rowCount() == 1 and view.table.item(0, 4).text() == "1"
            if api == "jaeger":
                assert json.loads(backend.requests[-1].params["tags"]) == {"http.status_code": "503", "node_id": v2}
            else:
                q = backend.searches()[-1].params["q"]
                assert '(.http.status_code = "503" || .http.status_code = 503)' in q and f'.node_id = "{v2}"' in q
            asked = len(backend.requests)
            for bad, said in (('http.status_code="503"', "no quotes"), ("503", "503 is no tag: give each as KEY=VALUE"),
                              ("=503", "=503 has no key before its ="),
                              ("error=true error=false", "error is given twice")):
                view.tag_filter.setText(bad)
                qtbot.keyClick(view.tag_filter, Qt.Key.Key_Return)
                assert said in view.tag_problem.text() and view.tag_problem.isVisible(), bad
                assert "Not searched" in view.note.text()
            view.tag_filter.setText("error=false")
            view.errors_only.setChecked(True)
            assert "Errors only asks for error=true" in view.tag_problem.text()
            view.refresh.click()
            assert len(backend.requests) == asked  # nothing was asked with tags not understood
            assert view.table.rowCount() == 1  # and the last answer stays
            assert view.note.text().endswith("the traces shown are those of the last search.")
            view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "ratings", "ratings"))
            assert len(backend.requests) == asked and view.table.rowCount() == 0  # another target's: none yet
            assert view.note.text() == "Not searched: the tags are not understood (see under the field)."
        finally:
            view.shutdown()
            client.close()


def test_a_window_longer_than_tempo_searches_is_said_in_the_dock(qtbot: QtBot) -> None:
    """A Tempo that searches at most an hour refused the dock's last 6 hours, and the dock said only
    Tempo's HTTP 400; the last hour is shown and the dock says that is what it is."""
    from meshdesk.sources.tracing import TempoClient
    from tests.tempo_emulator import TempoEmulator

    with TempoEmulator([bookinfo_trace(_us(60)), bookinfo_trace(_us(7200))], max_duration_s=3600) as tempo:
        client = TempoClient(tempo.url)
        view = _view(qtbot, client)
        try:
            view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.show()
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.window_box.setCurrentIndex(view.window_box.findText("Last 6h"))
            assert view.table.rowCount() == 1  # the trace of two hours ago is past the hour Tempo searched
            assert "Could not read" not in view.note.text()
            assert "Tempo searches at most 1 hour at once: showing the last 1 hour of the 6 hours asked." \
                in view.note.text()
        finally:
            view.shutdown()
            client.close()


def test_clicking_a_point_of_the_chart_shows_that_trace(qtbot: QtBot) -> None:
    source = JaegerJson(bookinfo_trace(_us(60)), bookinfo_trace(_us(120), ratings_code=503))
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    failed = next(p for p in view.scatter.points() if view._trace_by_id(p.data()).errors)
    with qtbot.waitSignal(view.traceShown, timeout=5000) as shown_:
        view.scatter.sigClicked.emit(view.scatter, [failed], None)
    assert shown_.args[0].trace_id == failed.data() and shown_.args[0].errors == 1
    row = view.table.selectionModel().selectedRows()[0].row()
    assert view.table.item(row, 4).text() == "1"  # the table follows the chart
    assert list(view.chosen_point.data["x"]) == [failed.pos().x()]  # and the chart marks it


def test_a_chosen_trace_that_drops_out_of_a_new_answer_leaves_no_other_row_selected(qtbot: QtBot) -> None:
    source = JaegerJson(bookinfo_trace(_us(60)), bookinfo_trace(_us(120), ratings_code=503),
                        bookinfo_trace(_us(600)))
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    oldest = min(range(3), key=lambda r: view.table.item(r, 0).text())
    with qtbot.waitSignal(view.traceShown, timeout=5000):
        view.table.selectRow(oldest)
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.window_box.setCurrentIndex(0)  # the last 5 minutes: the trace 10 minutes old is not in it
    assert view.table.rowCount() == 2 and view.trace is None
    assert view.table.selectionModel().selectedRows() == []  # no row marks a trace whose spans are not shown
    # and any row chosen now shows its trace
    with qtbot.waitSignal(view.traceShown, timeout=5000):
        view.table.selectRow(1)
    assert view.trace is not None


def test_stepping_the_minimum_duration_searches_again_with_it(qtbot: QtBot) -> None:
    source = JaegerJson(bookinfo_trace(_us(60)), bookinfo_trace(_us(120), slow_ms=80))
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    assert view.table.rowCount() == 2
    view.min_duration.setValue(49)
    qtbot.waitUntil(lambda: source.queries[-1].min_duration_ms == 49, timeout=10000)
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.min_duration.stepUp()  # the spin box's up arrow
    assert source.queries[-1].min_duration_ms == 50
    assert view.table.rowCount() == 1  # only the slow one: the value shown is the one searched with


def test_a_bug_in_the_source_is_said_and_logged_as_the_traces_worker_s(qtbot: QtBot,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    source = JaegerJson(bookinfo_trace(_us(60)))
    source.fail = KeyError("spans")
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.failed, timeout=10000):
        view.show()
    assert "KeyError" in view.note.text()
    logged = [r.getMessage() for r in caplog.records if r.exc_info]
    assert logged and "meshdesk-traces" in logged[-1] and "Envoy" not in logged[-1]


def test_a_tcp_only_service_and_the_unknown_node_say_why_they_have_no_traces(qtbot: QtBot) -> None:
    from meshdesk.mesh.graph.model import NODE_SERVICE, NODE_UNKNOWN
    from tests.test_envoy_view import _demo_window_with_docks
    from tests.ui_helpers import shown

    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        graph = shown(qtbot, w, lambda g: g.find_node(node_type=NODE_SERVICE, namespace="shop", service="mongodb")
                      is not None)
        perf = next(e for e in w.extensions if hasattr(e, "docks"))
        mongodb = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="mongodb")
        assert {e.protocol for e in graph.edges.values() if mongodb.id in (e.source, e.target)} == {"tcp"}
        w.view.select([mongodb.id])
        with qtbot.waitSignal(perf.traces.loaded, timeout=30000) as got:
            perf.docks["Traces"].show()
        assert got.args[0].traces == []
        assert "TCP connections leave no traces" in perf.traces.note.text()
        assert "send more requests" not in perf.traces.note.text()
        unknown = next((n for n in graph.nodes.values() if n.node_type == NODE_UNKNOWN), None)
        if unknown is not None:
            w.view.select([unknown.id])
            assert perf.traces.target is None
            assert perf.traces.note.text().startswith("The unknown node stands for callers no proxy could name")
    finally:
        next(windows, None)


def test_a_refreshed_trace_whose_spans_changed_is_shown_again(qtbot: QtBot) -> None:
    import time

    now = time.time()
    first = bookinfo_trace(int((now - 30) * 1e6), trace_id="f" * 32)
    source = JaegerJson(first)
    view = TracesView()
    qtbot.addWidget(view)
    view.set_source(source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.show()
    with qtbot.waitSignal(view.traceShown, timeout=5000):
        view.table.selectRow(0)
    assert not any(failed for *_r, failed in span_rows(view))
    # the backend got the rest of the trace: the same spans, one of them now a 503
    changed = bookinfo_trace(int((now - 30) * 1e6), trace_id="f" * 32)
    for span in changed["spans"]:
        for tag in span["tags"]:
            if tag["key"] == "http.status_code" and "ratings" in span["operationName"]:
                tag["value"] = "503"
    source.traces = tr.parse_jaeger(jaeger_answer(changed)).traces
    assert len(source.traces[0].spans) == len(view.trace.spans)
    with qtbot.waitSignal(view.traceShown, timeout=10000):
        view.poll()
    assert any(failed for *_r, failed in span_rows(view))


def test_odd_traces_from_a_live_backend_show_every_span_where_it_belongs(qtbot: QtBot) -> None:
    """What other backends and setups send, read through Jaeger's HTTP API end to end: a 64-bit trace id,
    a call whose client and server spans share one span id (Zipkin's shared span context), a client
    whose clock runs behind its caller's, a span whose parent never reached the backend, and an
    application's own span in OpenTelemetry's current names that failed with a reason."""
    from meshdesk.sources.tracing import JaegerClient
    from tests.jaeger_emulator import JaegerEmulator, jaeger_span, jaeger_trace

    def node(pod: str) -> str:
        return f"sidecar~10.0.0.7~{pod}.shop~shop.svc.cluster.local"

    t0 = _us(90)
    odd = jaeger_trace("7f3a9c0d1e2b4a55", [
        jaeger_span("a1", "productpage.shop", "productpage.shop.svc.cluster.local:9080/*", t0, 50_000,
                    node_id=node("productpage-v1-5b7c-aaaa"), tags={"http.method": "GET", "http.url": "http://shop/"}),
        # the shared id: the client half (its clock 3 ms behind) and the server half
        jaeger_span("b2", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", t0 + 1_000, 30_000, parent="a1",
                    node_id=node("reviews-v2-7d9c-xk2p"), tags={"http.method": "GET"}),
        jaeger_span("b2", "productpage.shop", "reviews.shop.svc.cluster.local:9080/*", t0 - 3_000, 36_000,
                    parent="a1", kind="client", node_id=node("productpage-v1-5b7c-aaaa"), tags={"http.method": "GET"}),
        # reviews' own code: new semantic conventions, failed, with its reason
        jaeger_span("c3", "reviews.shop", "load-ratings", t0 + 2_000, 20_000, parent="b2", status=None,
                    tags={"component": "app", "http.request.method": "POST", "url.full": "http://ratings:9080/r/1",
                          "http.response.status_code": "503", "otel.status_code": "ERROR",
                          "otel.status_description": "ratings unavailable"}),
        # a span whose parent the backend never got
        jaeger_span("d4", "reviews.shop", "reviews.shop.svc.cluster.local:9080/*", t0 + 40_000, 4_000,
                    parent="lost", node_id=node("reviews-v2-7d9c-xk2p"), tags={"http.method": "GET"}),
    ])
    with JaegerEmulator([odd]) as jaeger:
        client = JaegerClient(jaeger.url)
        view = _view(qtbot, client)
        view.set_target(tr.TraceTarget(tr.TARGET_APP, "shop", "reviews", "reviews"))
        with qtbot.waitSignal(view.loaded, timeout=10000):
            view.show()
        try:
            assert view.table.rowCount() == 1 and "1 with errors" in view.note.text()
            with qtbot.waitSignal(view.traceShown, timeout=5000):
                view.table.selectRow(0)
            assert view.trace is not None and view.trace.trace_id == "7f3a9c0d1e2b4a55"
            assert len(view.trace.spans) == 5  # nothing dropped: the shared id is two spans
            rows = span_rows(view)
            # the server half sits under its client half, the app's span under the server, the orphan at the top
            assert [(depth, summary) for depth, _op, summary, _failed in rows] == [
                (0, "GET / -> 200"), (1, "GET -> 200"), (2, "GET -> 200"),
                (3, "POST /r/1 -> 503 error: ratings unavailable"), (0, "GET -> 200")]
            assert [failed for *_rest, failed in rows] == [False, False, False, True, False]
            # the failed span is the one chosen, and its tags say what it was
            current = view.spans.currentItem()
            assert current is not None and current.text(COL_SUMMARY).endswith("error: ratings unavailable")
            # the client started before its caller by its clock: the trace starts there, no offset is negative
            assert view.trace.start_us == t0 - 3_000
            assert all(not view.spans.topLevelItem(0).text(c).startswith("-") for c in range(7))
            server = next(s for s in view.trace.spans if s.span_id != "b2" and s.service == "reviews.shop"
                          and s.kind == tr.KIND_SERVER and s.parent_id == "b2")
            assert any("shared span" in n for n in server.notes)
        finally:
            view.shutdown()


def test_a_chosen_span_is_compared_with_its_workloads_metrics_over_three_windows(qtbot: QtBot) -> None:
    """Kiali's comparison map in the demo window: the chosen span of reviews-v2 against all requests into
    reviews-v2 over the last 10 minutes, hour and 3 hours (avg, p50, p95, p99), each cell the difference in
    ms with a sentence saying it; a span of a workload the graph does not show says why it has none."""
    from meshdesk.mesh.graph.model import NODE_APP, NODE_WORKLOAD
    from meshdesk.mesh.span_stats import SpanComparison
    from tests.test_envoy_view import _demo_window_with_docks
    from tests.ui_helpers import shown

    windows = _demo_window_with_docks(qtbot)
    try:
        w = next(windows)()
        graph = shown(qtbot, w, lambda g: any(n.workload == "reviews-v2" for n in g.nodes.values()))
        perf = next(e for e in w.extensions if hasattr(e, "docks"))
        node = next(n for n in graph.nodes.values() if n.node_type in (NODE_APP, NODE_WORKLOAD)
                    and n.workload == "reviews-v2")
        perf.docks["Traces"].show()
        with qtbot.waitSignal(perf.traces.loaded, timeout=20000):
            w.view.select([node.id])
        view = perf.traces
        assert view.table.rowCount() > 0
        with qtbot.waitSignal(view.traceShown, timeout=5000):
            view.table.selectRow(0)
        assert view.trace is not None
        server = next(s for s in view.trace.spans if s.kind == tr.KIND_SERVER and s.node.pod.startswith("reviews-v2"))
        item = next(it for it in _items(view.spans) if it.data(0, Qt.ItemDataRole.UserRole + 1) == server)
        with qtbot.waitSignal(view.statsShown, timeout=20000) as got:
            view.spans.setCurrentItem(item)
        comparison = got.args[0]
        assert isinstance(comparison, SpanComparison)
        assert comparison.subject().startswith("requests into ") and comparison.subject().endswith("shop/reviews-v2")
        assert "requests into" in view.stats_title.text()
        cells = {(view.stats_map.verticalHeaderItem(r).text(), view.stats_map.horizontalHeaderItem(c).text()):
                 view.stats_map.item(r, c) for r in range(3) for c in range(4)}
        assert set(cells) == {(f"last {i}", s) for i in ("10m", "60m", "3h") for s in ("avg", "p50", "p95", "p99")}
        for (interval, stat), cell in cells.items():
            diff = comparison.diff(interval.removeprefix("last "), stat)
            assert diff is not None and cell.text() == f"{diff:+.1f}"
            assert (" slower than " if diff > 0 else " faster than ") in cell.toolTip()
        # a span whose proxy the graph does not show (another namespace's): said, nothing read
        outsider = tr.Span(view.trace.trace_id, "zz", server.span_id, "x", "billing.finance", server.start_us, 10,
                           {"node_id": "sidecar~10.9.0.1~billing-v1-1-a.finance~finance.svc", "span.kind": "server"})
        job, why = perf.traces.span_stats(tr.Trace(view.trace.trace_id, (*view.trace.spans, outsider)), outsider)
        assert job is None and "not in the graph shown" in why
    finally:
        next(windows, None)


def _items(tree: Any) -> list[Any]:
    out, stack = [], [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(item.child(i) for i in range(item.childCount()))
    return out


def test_a_search_left_for_another_target_is_told_it_is_not_wanted(qtbot: QtBot) -> None:
    """The dock asked its source without a way to cancel: another node chosen while Tempo's search for the
    first one fetched its traces (one request each, four at a time, through the API server's proxy) waited
    for every one of them before its own search began. The search left behind is told it is not wanted
    any more (a cancel stops the fetches not yet begun)."""
    import threading

    class Held(JaegerJson):
        def __init__(self, *traces: dict[str, Any]) -> None:
            super().__init__(*traces)
            self.gate, self.asked = threading.Event(), threading.Event()
            self.told: list[bool] = []

        def find_traces(self, query: tr.TraceQuery, cancelled: Any = None) -> tr.TraceSet:
            if not self.told and query.target.name == "reviews":
                self.asked.set()
                self.gate.wait(10)  # a slow backend, released by the test
                self.told.append(cancelled is not None and bool(cancelled()))
            return super().find_traces(query, cancelled)

    source = Held(bookinfo_trace(_us(60), reviews="v1"), bookinfo_trace(_us(120), ratings_code=503))
    view = _view(qtbot, source)
    view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
    view.show()
    qtbot.waitUntil(source.asked.is_set, timeout=5000)  # the search for reviews is under way
    try:
        view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "ratings", "ratings"))
    finally:
        source.gate.set()
    with qtbot.waitSignal(view.loaded, timeout=10000) as got:
        pass
    assert source.told == [True]
    assert got.args[0].service == "ratings.bookinfo"


def test_a_search_answered_while_the_dock_is_hidden_is_not_shown_for_what_was_chosen_since(qtbot: QtBot) -> None:
    """The dock shares its place with the Metrics, Logs and Envoy tabs, hidden behind them. A search under
    way when it was hidden, answered after another context (or another node) was chosen, filled the table
    with the traces of the cluster left; opened again, the dock listed them under the new context while it
    searched there, and kept them when that search failed."""
    from meshdesk.sources.tracing import JaegerClient
    from tests.jaeger_emulator import JaegerEmulator

    with JaegerEmulator([bookinfo_trace(_us(60))]) as left, JaegerEmulator(token="not-yours") as chosen:
        first, second = JaegerClient(left.url), JaegerClient(chosen.url)
        view = _view(qtbot, first)
        try:
            view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "productpage", "productpage"))
            gate, held = left.hold_searches()
            view.show()
            answered = _Heard()  # what the worker says of that search (a result, or that it was left)
            view._worker.done.connect(answered.heard)
            view._worker.failed.connect(answered.heard)
            try:
                assert held.wait(10)  # the search of the first context is under way
                view.hide()  # another tab of the dock area is chosen
                view.set_source(second)  # then another context
            finally:
                gate.set()
            qtbot.waitUntil(lambda: answered.count == 1, timeout=10000)  # (heard after the view heard it)
            with qtbot.waitSignal(view.failed, timeout=10000):  # the new context's backend refuses the login
                view.show()
            assert "Could not read traces" in view.note.text()
            assert view.table.rowCount() == 0 and view.found is None  # nothing of the cluster left
        finally:
            view.shutdown()
            first.close()
            second.close()


class _Heard(QObject):
    """Counts a worker's answers, on the UI thread (after the view's own slot, connected before)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(int, object)
    def heard(self, _generation: int, _what: object) -> None:
        self.count += 1


@pytest.mark.parametrize("enrolled_by", ["service", "pod"])
def test_the_traces_dock_asks_the_waypoint_an_ambient_workload_is_enrolled_in_by_its_service_or_pod(
        enrolled_by: str) -> None:
    """The Traces dock's target for a workload or app node of an ambient namespace whose waypoint is named
    not on the workload nor its namespace but on its Service (Kiali's service-level enrollment, with
    ``istio.io/use-waypoint-namespace``) or on its pod: the waypoint's traces, in its own namespace."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.inventory import Inventory, Namespace, Pod, Service, Workload
    from meshdesk.ui.perf_views import trace_target
    from tests.graph_samples import http, snapshot

    use = {"istio.io/use-waypoint": "shared-wp", "istio.io/use-waypoint-namespace": "infra"}
    pod = Pod("ledger-v1-abc", "shop", labels={"app": "ledger", "version": "v1",
                                               **(use if enrolled_by == "pod" else {})},
              annotations={"ambient.istio.io/redirection": "enabled"})
    ledger = Workload("ledger-v1", "shop", labels={"app": "ledger", "version": "v1"}, pods=[pod])
    inv = Inventory(cluster="east", namespaces=[Namespace("shop", labels={"istio.io/dataplane-mode": "ambient"})],
                    workloads=[ledger, Workload("teller-v1", "shop", labels={"app": "teller", "version": "v1"})],
                    services=[Service("ledger", "shop", selector={"app": "ledger"},
                                      labels=use if enrolled_by == "service" else {})])
    for graph_type in ("workload", "versionedApp", "app"):
        g = build(snapshot([http("teller-v1", "ledger-v1", 3.0, reporter="waypoint")], inv, graphType=graph_type))
        node = next(n for n in g.nodes.values() if n.app == "ledger" or n.workload == "ledger-v1")
        target, why = trace_target(g, inv, [node.id])
        assert target is not None, why
        assert (target.waypoint, target.jaeger_service()) == ("shared-wp", "shared-wp.infra"), graph_type


@pytest.mark.prometheus
@pytest.mark.parametrize("api", ["tempo", "jaeger"])
def test_a_live_clusters_traces_window_ends_at_the_clusters_present_not_a_machine_clock_that_is_off(
        qtbot: QtBot, api: str, prometheus_server: Any, shared_dir: Any) -> None:  # noqa: F811
    """This machine's clock is two hours behind the cluster's. The Traces dock's live window (the last
    10 minutes) ended at the machine's time, two hours before the cluster's present: the two traces of the
    last minutes were not listed, beside a graph and charts that have that traffic. It ends at the
    cluster's present (Prometheus' clock, as the graph and the charts do) now, through Tempo or Jaeger."""
    import time

    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.cluster import ClusterSource
    from meshdesk.sources.perf import tracing_source_for
    from tests.jaeger_emulator import JaegerEmulator
    from tests.kube_emulator import KubeEmulator
    from tests.tempo_emulator import TempoEmulator
    from tests.test_cluster_source import _mesh

    recent = time.time()  # (where the sample traces are put: the cluster's last minutes)
    sample = [bookinfo_trace(int((recent - 60) * 1e6), reviews="v1"),
              bookinfo_trace(int((recent - 120) * 1e6), ratings_code=503)]
    with KubeEmulator() as emu, (TempoEmulator(sample) if api == "tempo"
                                 else JaegerEmulator(sample, base_path="/jaeger")) as backend:
        _mesh(emu, shared_dir, prometheus_server.url)
        if api == "tempo":
            emu.add_namespace("tempo")
            emu.add({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "tempo-query-frontend", "namespace": "tempo",
                                  "labels": {"app.kubernetes.io/name": "tempo",
                                             "app.kubernetes.io/component": "query-frontend"}},
                     "spec": {"ports": [{"name": "http", "port": 3200}]}})
            emu.proxy_service("tempo", "tempo-query-frontend", 3200, backend.url)
        else:
            emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "tracing", "namespace": "istio-system"},
                     "spec": {"ports": [{"name": "http-query", "port": 80, "targetPort": 16686}]}})
            emu.proxy_service("istio-system", "tracing", 80, f"http://127.0.0.1:{backend.port}")
        behind = 2 * 3600
        source = ClusterSource(emu.api_client(), context="lab", clock=lambda: time.time() - behind)
        view = TracesView(clock=lambda: time.time() - behind)
        qtbot.addWidget(view)
        try:
            source.snapshot(GraphRequest(namespaces=("bookinfo",)))  # the live graph, read first
            view.set_source(tracing_source_for(source))
            view.show()
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            assert view.table.rowCount() == 2 and "2 traces, 1 with errors" in view.note.text()
        finally:
            view.shutdown()
            source.close()


def test_a_chosen_trace_is_set_beside_the_traces_listed_that_began_where_it_did(qtbot: QtBot) -> None:
    """Kiali's trace details compare a trace with similar ones; the dock said only its own duration, so
    whether 60 ms was slow for this request could not be read off it. The traces listed that began at
    the same operation are its measure: how much slower or faster than their mean, and than how many."""
    from meshdesk.sources.tracing import TempoClient
    from tests.tempo_emulator import TempoEmulator

    with TempoEmulator([bookinfo_trace(_us(60), trace_id="a" * 32), bookinfo_trace(_us(120), trace_id="b" * 32),
                        bookinfo_trace(_us(180), trace_id="c" * 32, slow_ms=50)]) as tempo:
        client = TempoClient(tempo.url)
        view = _view(qtbot, client)
        try:
            view.set_target(tr.TraceTarget(tr.TARGET_APP, "bookinfo", "reviews", "reviews"))
            with qtbot.waitSignal(view.loaded, timeout=10000):
                view.show()
            durations = {t.trace_id: t.duration_us for t in view.found.traces}  # type: ignore[union-attr]
            assert durations["c" * 32] > durations["a" * 32] == durations["b" * 32]
            slow_row = next(r for r in range(3) if view.table.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) == "c" * 32)
            with qtbot.waitSignal(view.traceShown, timeout=10000) as shown:
                view.table.selectRow(slow_row)
            others = [durations["a" * 32], durations["b" * 32]]
            diff = shown.args[0].duration_us - sum(others) / 2
            said = view.detail_title.text()
            assert (f"Beside the 2 other traces listed that began at the same operation: "
                    f"{tr.duration_text(diff)} slower than their mean ({tr.duration_text(sum(others) / 2)}), "
                    "slower than all 2 of them") in said
            fast_row = next(r for r in range(3) if view.table.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) == "a" * 32)
            with qtbot.waitSignal(view.traceShown, timeout=10000):
                view.table.selectRow(fast_row)
            assert "faster than their mean" in view.detail_title.text()
            assert "faster than 1 of them" in view.detail_title.text()
        finally:
            view.shutdown()
            client.close()
