"""The traffic pass: what the user sees on nodes and edges for hand-made telemetry."""

from __future__ import annotations

import math
import threading

import pytest

from meshdesk.mesh.graph import build, model
from meshdesk.mesh.telemetry import Sample
from tests.graph_samples import grpc, http, labels, snapshot, tcp


def edge(g: model.TrafficGraph, src: str, dst: str, protocol: str = "http") -> model.Edge:
    s, d = node(g, src), node(g, dst)
    found = [e for e in g.edges.values() if e.source == s.id and e.target == d.id and e.protocol == protocol]
    assert len(found) == 1, f"no single {protocol} edge {src} -> {dst}"
    return found[0]


def node(g: model.TrafficGraph, label: str) -> model.Node:
    found = [n for n in g.nodes.values() if n.node_type != model.NODE_BOX and
             (n.workload == label or n.service == label or n.label == label)]
    assert len(found) == 1, f"{len(found)} nodes called {label}: {[n.label for n in found]}"
    return found[0]


def test_error_and_request_shares_on_edges_and_nodes() -> None:
    g = build(snapshot([
        http("web-v1", "cart-v1", 90), http("web-v1", "cart-v1", 10, "503"),
        http("web-v1", "pay-v1", 50), http("web-v1", "pay-v1", 25, "404"), http("web-v1", "pay-v1", 25, "301"),
    ]))
    cart = edge(g, "web-v1", "cart-v1")
    assert cart.rates["http"] == pytest.approx(100)
    assert cart.rates["http5xx"] == pytest.approx(10)
    assert cart.rates["httpPercentErr"] == pytest.approx(10)
    assert cart.rates["httpPercentReq"] == pytest.approx(50)  # 100 of web's 200 rps
    assert cart.responses["503"].flags == {"-": pytest.approx(10)}
    assert cart.responses["200"].hosts == {"cart.shop.svc.cluster.local": pytest.approx(90)}
    pay = edge(g, "web-v1", "pay-v1")
    assert pay.rates["httpPercentErr"] == pytest.approx(25)  # 3xx is not an error
    assert pay.rates["http3xx"] == pytest.approx(25)
    assert node(g, "web-v1").traffic["http"] == {"httpOut": pytest.approx(200)}
    assert node(g, "cart-v1").traffic["http"] == {"httpIn": pytest.approx(100), "httpIn5xx": pytest.approx(10)}
    assert node(g, "web-v1").is_root and not node(g, "cart-v1").is_root


def test_source_and_destination_reports_of_one_request_count_once() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 40, reporter="destination"),
                        http("web-v1", "cart-v1", 40, reporter="source")]))
    assert edge(g, "web-v1", "cart-v1").rate == pytest.approx(40)


def test_series_split_by_extra_labels_are_summed() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 3, request_operation="GET"),
                        http("web-v1", "cart-v1", 7, request_operation="POST")]))
    assert edge(g, "web-v1", "cart-v1").rate == pytest.approx(10)


def test_unknown_source_and_unserved_requests() -> None:
    g = build(snapshot([http(None, "web-v1", 5), http("web-v1", None, 2, "404", reporter="source",
                                                       service="ghost")]))
    unknown = g.find_node(node_type=model.NODE_UNKNOWN)
    assert unknown is not None and unknown.is_inaccessible and unknown.is_root
    ghost = g.find_node(node_type=model.NODE_SERVICE, service="ghost")
    assert ghost is not None and ghost.traffic["http"]["httpIn4xx"] == pytest.approx(2)


def test_unserved_requests_into_a_namespace_are_known_by_their_host_alone() -> None:
    """As Kiali's query for a namespace's unserved requests (from callers outside it): a full host in
    the namespace counts; a short host ("cart2", or "unknown") only names the namespace in another
    label, and is not the namespace's traffic (the caller's own namespace graph shows it)."""
    def failed(host: str, rate: float) -> Sample:
        lab = labels("web-v1", None, src_ns="front", service=host.split(".")[0], reporter="source")
        lab["destination_service"] = host
        return Sample("istio_requests_total", {**lab, "request_protocol": "http", "response_code": "503",
                                               "grpc_response_status": "", "response_flags": "UH"}, rate)

    samples = [failed("cart.shop.svc.cluster.local", 4), failed("cart2", 2), failed("unknown", 1)]
    shop = build(snapshot(samples))
    assert {n.service for n in shop.nodes.values() if n.node_type == model.NODE_SERVICE} == {"cart"}
    web = shop.find_node(workload="web-v1")
    assert web is not None and web.traffic["http"]["httpOut"] == pytest.approx(4)
    both = build(snapshot(samples, namespaces=("front", "shop")))  # from front's side, all three
    assert {n.service for n in both.nodes.values() if n.node_type == model.NODE_SERVICE} == {"cart", "cart2",
                                                                                             "unknown"}


def test_injected_service_nodes_sit_between_caller_and_workloads() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 30), http("web-v1", "cart-v2", 10, service="cart")],
                       injectServiceNodes=True))
    svc = g.find_node(node_type=model.NODE_SERVICE, service="cart")
    assert svc is not None and svc.is_injected
    assert svc.dest_services == [model.DestService("east", "shop", "cart")]
    assert edge(g, "web-v1", "cart").rate == pytest.approx(40)
    assert edge(g, "cart", "cart-v2").rates["httpPercentReq"] == pytest.approx(25)


def test_graph_types_give_app_and_service_nodes() -> None:
    samples = [http("web-v1", "cart-v1", 30), http("web-v1", "cart-v2", 10, service="cart")]
    app = build(snapshot(samples, graphType="app"))
    assert {n.label for n in app.nodes.values() if n.node_type == model.NODE_APP} == {"web", "cart"}
    versioned = build(snapshot(samples, graphType="versionedApp"))
    assert {n.label for n in versioned.nodes.values() if n.node_type == model.NODE_APP} == \
        {"web v1", "cart v1", "cart v2"}
    box = versioned.find_node(node_type=model.NODE_BOX, app="cart")
    assert box is not None and node(versioned, "cart-v2").parent == box.id
    svc = build(snapshot(samples, graphType="service"))
    assert {n.node_type for n in svc.nodes.values()} == {model.NODE_WORKLOAD, model.NODE_SERVICE}
    assert edge(svc, "web-v1", "cart").rate == pytest.approx(40)


def test_grpc_and_tcp_rates_follow_the_requested_kind() -> None:
    samples = [grpc("web-v1", "cart-v1", 8), grpc("web-v1", "cart-v1", 2, status="14"),
               tcp("web-v1", "db-v1", 100, "istio_tcp_received_bytes_total"),
               tcp("web-v1", "db-v1", 300, "istio_tcp_sent_bytes_total"),
               Sample("istio_request_messages_total", labels("web-v1", "cart-v1"), 50),
               Sample("istio_response_messages_total", labels("web-v1", "cart-v1"), 70)]
    g = build(snapshot(samples))
    g_edge = edge(g, "web-v1", "cart-v1", "grpc")
    assert g_edge.rates["grpcErr"] == pytest.approx(2) and g_edge.rates["grpcPercentErr"] == pytest.approx(20)
    # Istio names TCP bytes from the other side: "sent" is istio_tcp_received_bytes_total
    assert edge(g, "web-v1", "db-v1", "tcp").rate == pytest.approx(100)
    total = build(snapshot(samples, rateTcp="total", rateGrpc="total"))
    assert edge(total, "web-v1", "db-v1", "tcp").rate == pytest.approx(400)
    assert edge(total, "web-v1", "cart-v1", "grpc").rate == pytest.approx(120)
    received = build(snapshot(samples, rateTcp="received", rateGrpc="received"))
    assert edge(received, "web-v1", "db-v1", "tcp").rate == pytest.approx(300)
    assert edge(received, "web-v1", "cart-v1", "grpc").rate == pytest.approx(70)


def test_passthrough_cluster_is_an_inaccessible_egress_node() -> None:
    lab = labels("web-v1", None, service="PassthroughCluster", reporter="source")
    lab.update(destination_service="PassthroughCluster", destination_service_namespace="unknown",
               request_protocol="http", response_code="200", response_flags="-")
    g = build(snapshot([Sample("istio_requests_total", lab, 4)], injectServiceNodes=True))
    pt = g.find_node(service="PassthroughCluster")
    assert pt is not None and pt.is_egress_cluster and pt.is_inaccessible
    # Kiali's graph JSON says inaccessible; it keeps "egress cluster" to itself (its NodeData has no such
    # field), so a graph compared with Kiali's must not carry it
    from meshdesk.mesh.export import to_kiali

    data = next(n["data"] for n in to_kiali(g)["elements"]["nodes"] if n["data"].get("service") == "PassthroughCluster")
    assert data.get("isInaccessible") is True and "isEgressCluster" not in data


def test_node_detail_graph_shows_only_the_focus_traffic() -> None:
    from meshdesk.mesh.request import NodeFocus

    samples = [http("web-v1", "cart-v1", 10), http("cart-v1", "db-v1", 4, reporter="source"),
               http("web-v1", "pay-v1", 9)]
    g = build(snapshot(samples, node=NodeFocus(namespace="shop", workload="cart-v1")))
    assert {n.workload for n in g.nodes.values()} == {"web-v1", "cart-v1", "db-v1"}


def test_bad_samples_are_skipped_and_counted_never_fatal() -> None:
    good = http("web-v1", "cart-v1", 10)
    missing = dict(good.labels)
    del missing["destination_workload"]
    samples = [
        good,
        Sample("istio_requests_total", missing, 1),
        Sample("istio_requests_total", good.labels, math.nan),
        Sample("istio_requests_total", good.labels, math.inf),
        Sample("istio_requests_total", good.labels, -3),
        Sample("made_up_metric_total", good.labels, 1),
        Sample("istio_requests_total", {**good.labels, "source_workload": "wéb-v1"}, 1),
        Sample("istio_requests_total", {**good.labels, "source_workload": "x" * 5000}, 1),
    ]
    g = build(snapshot(samples))
    assert edge(g, "web-v1", "cart-v1").rate == pytest.approx(10)
    text = "\n".join(g.warnings)
    assert "skipped 1 sample: missing label 'destination_workload'" in text
    assert "skipped 2 samples: value is NaN or infinite" in text
    assert "skipped 1 sample: negative value" in text
    assert "skipped 1 sample: unknown metric name" in text
    assert "skipped 2 samples: odd label value" in text


def test_a_skipped_sample_leaves_no_node_or_edge_behind() -> None:
    """Series whose response code or flags are unusable are skipped before anything is drawn from
    them, even when their workloads are fine: no node or edge appears for them alone."""
    odd_code = http("web-v1", "cart-v1", 5, code="2\u00e90")
    odd_flags = http("web-v1", "pay-v1", 3, flags="U\x07F")
    g = build(snapshot([odd_code, odd_flags, http("api-v1", "cart-v1", 2), odd_code]))
    assert {n.workload for n in g.nodes.values() if n.workload} == {"api-v1", "cart-v1"}
    assert [(g.nodes[e.source].workload, g.nodes[e.target].workload) for e in g.edges.values()] == [
        ("api-v1", "cart-v1")]
    assert "skipped 3 samples: odd label value" in "\n".join(g.warnings)


def test_a_label_value_that_is_not_text_is_skipped_as_odd() -> None:
    good = http("web-v1", "cart-v1", 10)
    number = Sample("istio_requests_total", {**good.labels, "source_workload": 5}, 1)  # type: ignore[dict-item]
    g = build(snapshot([number, good]))
    assert edge(g, "web-v1", "cart-v1").rate == pytest.approx(10)
    assert "skipped 1 sample: odd label value" in "\n".join(g.warnings)


def test_ids_are_stable_and_builds_are_thread_safe() -> None:
    snap = snapshot([http("web-v1", "cart-v1", 10), http(None, "web-v1", 3), tcp("web-v1", "db-v1", 9)],
                    graphType="versionedApp")
    first = build(snap)
    results: list[model.TrafficGraph] = []

    def run() -> None:
        results.append(build(snap))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g in results:
        assert set(g.nodes) == set(first.nodes) and set(g.edges) == set(first.edges)
    web = node(first, "web v1")
    assert web.id == model.node_id(model.NODE_APP, "east", "shop", "web-v1", "web", "v1")


def test_no_namespace_chosen_graphs_every_namespace_in_the_telemetry() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 10), http("gw-v1", "web-v1", 5, src_ns="edge")], namespaces=()))
    assert g.request.namespaces == ("edge", "shop")
    assert not any(n.is_outside for n in g.nodes.values())
