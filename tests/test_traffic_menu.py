"""The toolbar's Traffic menu (Kiali's Traffic dropdown): which traffic each protocol's edges show.
Every choice reaches the graph request; a protocol switched off leaves the graph; gRPC message rates
are labelled as messages, not requests; the choices stay across a context switch. Real window, real
demo cluster (its shop namespace has HTTP, gRPC and TCP traffic), real graph builder."""

from __future__ import annotations

from meshdesk.mesh.graph.model import Edge, TrafficGraph
from meshdesk.ui.canvas.items import fmt_bytes_rate, fmt_mps, fmt_rps
from meshdesk.ui.mainwindow import DEMO, MainWindow
from meshdesk.ui.toolbar import TRAFFIC_RATES
from tests.ui_helpers import shown, window_test_marks

pytestmark = window_test_marks()
REQUEST_FIELD = {"rate_http": "rateHttp", "rate_grpc": "rateGrpc", "rate_tcp": "rateTcp"}


def edges_of(g: TrafficGraph, protocol: str) -> list[Edge]:
    return [e for e in g.edges.values() if e.protocol == protocol and e.rate > 0]


def checked(w: MainWindow) -> dict[str, str]:
    """What the Traffic menu shows as chosen, per protocol."""
    return {key: next(v for v, a in acts.items() if a.isChecked()) for key, acts in w.toolbar.traffic_actions.items()}


def test_the_traffic_menu_offers_kialis_choices_with_kialis_defaults(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    g = shown(qtbot, w, lambda g: bool(edges_of(g, "tcp")))
    assert w.toolbar.traffic_button.text() == "Traffic" and w.toolbar.traffic_button.menu() is w.toolbar.traffic_menu
    labels = [a.text() for a in w.toolbar.traffic_menu.actions() if not a.isSeparator()]
    assert labels == ["HTTP requests", "No HTTP traffic",
                      "gRPC requests", "gRPC sent messages", "gRPC received messages", "gRPC total messages",
                      "No gRPC traffic",
                      "TCP sent bytes", "TCP received bytes", "TCP total bytes", "No TCP traffic"]
    assert checked(w) == {"rate_http": "requests", "rate_grpc": "requests", "rate_tcp": "sent"}
    assert (g.request.rateHttp, g.request.rateGrpc, g.request.rateTcp) == ("requests", "requests", "sent")
    view_menu = w.view_menu  # (a menu found again through its action is deleted under us before PySide6 6.11.2)
    assert "Traffic" in [a.text() for a in view_menu.actions()], "also in the menu bar, beside Display"


def test_every_traffic_choice_reaches_the_request(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    for key, _protocol, options in TRAFFIC_RATES:
        field = REQUEST_FIELD[key]
        for value, label, _tip in [*options[1:], options[0]]:  # the default last: back where it started
            w.toolbar.traffic_actions[key][value].trigger()
            g = shown(qtbot, w, lambda g, f=field, v=value: getattr(g.request, f) == v, canvas=False)
            assert checked(w)[key] == value, f"{label} is the one checked"
            others = {k: v for k, v in checked(w).items() if k != key}
            assert all(getattr(g.request, REQUEST_FIELD[k]) == v for k, v in others.items()), \
                "one choice does not change another"


def test_turning_tcp_off_removes_the_tcp_edges(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    w.toolbar.choose(edge_labels="requestRate")
    g = shown(qtbot, w, lambda g: bool(edges_of(g, "tcp")))
    tcp = [e.id for e in edges_of(g, "tcp")]
    assert all(w.view.edge_item(eid) is not None for eid in tcp)
    item = w.view.edge_item(tcp[0])
    assert item is not None and item.label == fmt_bytes_rate(g.edges[tcp[0]].rate), "TCP edges are labelled in bytes/s, as in Kiali"
    kept = {e.id for e in g.edges.values() if e.protocol != "tcp"}

    w.toolbar.traffic_actions["rate_tcp"]["none"].trigger()
    g = shown(qtbot, w, lambda g: g.request.rateTcp == "none")
    assert edges_of(g, "tcp") == []
    assert all(w.view.edge_item(eid) is None for eid in tcp), "gone from the canvas too"
    assert kept <= set(g.edges), "HTTP and gRPC edges stay"
    mongodb = [n for n in g.nodes.values() if n.app == "mongodb"]
    assert mongodb == [], "a node reached only over TCP goes with its edges"

    w.toolbar.traffic_actions["rate_tcp"]["total"].trigger()
    g = shown(qtbot, w, lambda g: g.request.rateTcp == "total" and bool(edges_of(g, "tcp")))
    assert {e.id for e in edges_of(g, "tcp")} == set(tcp), "back, now with bytes both ways"


def test_turning_http_and_grpc_off_removes_their_edges(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    g = shown(qtbot, w, lambda g: bool(edges_of(g, "http")) and bool(edges_of(g, "grpc")))
    grpc = [e.id for e in edges_of(g, "grpc")]
    w.toolbar.traffic_actions["rate_grpc"]["none"].trigger()
    g = shown(qtbot, w, lambda g: g.request.rateGrpc == "none")
    assert edges_of(g, "grpc") == [] and all(w.view.edge_item(eid) is None for eid in grpc)
    assert edges_of(g, "http") and edges_of(g, "tcp")
    w.toolbar.traffic_actions["rate_http"]["none"].trigger()
    g = shown(qtbot, w, lambda g: g.request.rateHttp == "none")
    assert {e.protocol for e in g.edges.values() if e.rate > 0} == {"tcp"}


def test_grpc_total_messages_shows_message_rates_in_msg_per_second(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    w.toolbar.choose(edge_labels="requestRate")
    g = shown(qtbot, w, lambda g: bool(edges_of(g, "grpc")))
    requests = {e.id: e.rate for e in edges_of(g, "grpc")}
    first = next(iter(requests))
    item = w.view.edge_item(first)
    assert item is not None and item.label.split()[0] == fmt_rps(requests[first])

    w.toolbar.traffic_actions["rate_grpc"]["total"].trigger()
    g = shown(qtbot, w, lambda g: g.request.rateGrpc == "total" and bool(edges_of(g, "grpc")))
    grpc = edges_of(g, "grpc")
    assert {e.id for e in grpc} == set(requests), "the same gRPC edges, now carrying messages"
    assert all(e.rate > requests[e.id] for e in grpc), "requests and responses: more messages than calls"
    for e in grpc:
        item = w.view.edge_item(e.id)
        assert item is not None
        assert item.label.split()[0] == fmt_mps(e.rate) and item.label.split()[0].endswith("msg/s")
        tip = item.tooltip()
        assert "msg/s" in tip and "rps" not in tip
    http = edges_of(g, "http")[0]
    http_item = w.view.edge_item(http.id)
    assert http_item is not None and http_item.label.split()[0] == fmt_rps(http.rate), "HTTP edges still count requests"

    # the side panel says the same, and does not claim a 0% error share it cannot know
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([first])
    text = w.panel.text()
    assert w.panel.kind == "edge" and f"Rate\n{fmt_mps(g.edges[first].rate)}" in text
    assert "messages sent and received" in text and "rps" not in text and "Errors\n0.0%" not in text
    source = g.edges[first].source
    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([source])
    outbound = w.panel.text().split("Outbound traffic", 1)[1]
    assert f"grpc {fmt_mps(g.edges[first].rate)}" in outbound

    # back to requests: the unit follows
    w.toolbar.traffic_actions["rate_grpc"]["requests"].trigger()
    g = shown(qtbot, w, lambda g: g.request.rateGrpc == "requests" and bool(edges_of(g, "grpc")))
    item = w.view.edge_item(first)
    assert item is not None and item.label.split()[0] == fmt_rps(g.edges[first].rate) and "rps" in item.tooltip()


def test_traffic_choices_survive_a_context_switch(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    w.toolbar.traffic_actions["rate_grpc"]["sent"].trigger()
    w.toolbar.traffic_actions["rate_tcp"]["received"].trigger()
    shown(qtbot, w, lambda g: (g.request.rateGrpc, g.request.rateTcp) == ("sent", "received"))

    w.switch_context("other")
    g = shown(qtbot, w, lambda g: w.context == "other" and bool(g.request.namespaces), canvas=False)
    assert (g.request.rateHttp, g.request.rateGrpc, g.request.rateTcp) == ("requests", "sent", "received")
    assert checked(w) == {"rate_http": "requests", "rate_grpc": "sent", "rate_tcp": "received"}

    w.switch_context(DEMO)
    g = shown(qtbot, w, lambda g: w.context == DEMO and bool(edges_of(g, "grpc")))
    assert (g.request.rateGrpc, g.request.rateTcp) == ("sent", "received")
    assert checked(w) == {"rate_http": "requests", "rate_grpc": "sent", "rate_tcp": "received"}
