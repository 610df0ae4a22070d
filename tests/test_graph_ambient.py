"""Istio ambient mode in the graph: what a user of an ambient mesh sees (Kiali's semantics).

The mesh: namespace ``shop`` runs in ambient mode. frontend-v1 calls cart-v1 and pay-v1 through the
namespace's waypoint, which reports the requests (reporter "waypoint"); ztunnel reports the TCP bytes
(app "ztunnel"): frontend -> waypoint addressed to cart and pay, waypoint -> cart and pay, and the
waypoint -> frontend bytes of traffic that comes back through it, addressed to frontend.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.export import to_kiali
from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import Edge, Node, TrafficGraph
from meshdesk.mesh.inventory import Inventory, Namespace, Workload
from meshdesk.mesh.request import GraphRequest, NodeFocus
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.snapshot import save_snapshot
from tests.graph_samples import http, snapshot, tcp

ROOT = Path(__file__).resolve().parent.parent

ZT = {"app": "ztunnel"}
WAYPOINT_LABELS = {"gateway.istio.io/managed": "istio.io-mesh-controller", "gateway.networking.k8s.io/gateway-name": "waypoint"}


def ambient_samples() -> list[Sample]:
    return [
        http("frontend-v1", "cart-v1", 10.0, reporter="waypoint"),
        http("frontend-v1", "pay-v1", 4.0, reporter="waypoint"),
        http("frontend-v1", "pay-v1", 1.0, "503", reporter="waypoint"),
        tcp("frontend-v1", "waypoint", 30.0, service="cart", reporter="source", **ZT),
        tcp("frontend-v1", "waypoint", 20.0, service="pay", reporter="source", **ZT),
        tcp("waypoint", "cart-v1", 30.0, service="cart", **ZT),
        tcp("waypoint", "pay-v1", 20.0, service="pay", **ZT),
        tcp("waypoint", "frontend-v1", 60.0, service="frontend", **ZT),
    ]


def inventory(*, ambient_ns: bool = True, waypoint_label: bool = True) -> Inventory:
    ns_labels = {"istio.io/dataplane-mode": "ambient"} if ambient_ns else {}
    wl = [Workload("frontend-v1", "shop", labels={"app": "frontend", "version": "v1"}),
          Workload("cart-v1", "shop", labels={"app": "cart", "version": "v1"}),
          Workload("pay-v1", "shop", labels={"app": "pay", "version": "v1"}),
          Workload("waypoint", "shop", labels=WAYPOINT_LABELS if waypoint_label else {"app": "waypoint"})]
    return Inventory(cluster="east", namespaces=[Namespace("shop", labels=ns_labels)], workloads=wl)


def node(g: TrafficGraph, workload: str = "", service: str = "", node_type: str = "") -> Node:
    found = [n for n in g.nodes.values() if (not workload or n.workload == workload)
             and (not service or n.service == service) and (not node_type or n.node_type == node_type)]
    assert len(found) == 1, (workload, service, [(n.node_type, n.workload, n.app, n.service) for n in g.nodes.values()])
    return found[0]


def edge(g: TrafficGraph, src: Node, dst: Node, protocol: str) -> Edge:
    found = [e for e in g.edges.values() if e.source == src.id and e.target == dst.id and e.protocol == protocol]
    assert len(found) == 1, (src.workload, dst.workload, protocol)
    return found[0]


def edges_between(g: TrafficGraph) -> set[tuple[str, str, str]]:
    def name(nid: str) -> str:
        n = g.nodes[nid]
        return n.workload or n.service or n.app
    return {(name(e.source), name(e.target), e.protocol) for e in g.edges.values()}


def build_ambient(inv: Inventory | None = None, samples: list[Sample] | None = None, **request: Any) -> TrafficGraph:
    return build(snapshot(ambient_samples() if samples is None else samples, inv, **request))


@pytest.mark.parametrize("with_inventory", [True, False], ids=["waypoint from inventory", "waypoint from telemetry"])
def test_an_ambient_mesh_shows_its_requests_and_its_waypoint(with_inventory: bool) -> None:
    g = build_ambient(inventory() if with_inventory else None)
    front, cart, pay, wp = (node(g, w) for w in ("frontend-v1", "cart-v1", "pay-v1", "waypoint"))
    # the L7 traffic the waypoint reported is drawn between the real client and server
    assert edge(g, front, cart, "http").rate == pytest.approx(10.0)
    to_pay = edge(g, front, pay, "http")
    assert to_pay.rate == pytest.approx(5.0)
    assert to_pay.rates["httpPercentErr"] == pytest.approx(20.0)
    # the waypoint is a flagged workload node; ztunnel's bytes go to it and on from it
    assert wp.extra.get("isWaypoint") is True and wp.node_type == "workload" and wp.app == ""
    assert not front.extra.get("isWaypoint")
    assert edge(g, front, wp, "tcp").rate == pytest.approx(50.0)
    assert edge(g, wp, cart, "tcp").rate == pytest.approx(30.0)
    assert edge(g, wp, cart, "tcp").extra["waypoint"] == {"direction": "from"}
    assert wp.traffic["tcp"] == {"tcpIn": pytest.approx(50.0), "tcpOut": pytest.approx(110.0)}


def test_traffic_back_through_the_waypoint_is_one_two_way_edge() -> None:
    g = build_ambient(inventory())
    front, wp = node(g, "frontend-v1"), node(g, "waypoint")
    to_wp = edge(g, front, wp, "tcp")
    info = to_wp.extra["waypoint"]
    assert info["direction"] == "to"
    back = info["fromEdge"]
    assert (back.source, back.target, back.protocol) == (wp.id, front.id, "tcp")
    assert back.rate == pytest.approx(60.0)
    assert back.responses["-"].hosts == {"frontend.shop.svc.cluster.local": pytest.approx(100.0)}
    # the return edge is not drawn on its own, so nothing calls frontend: it is where traffic starts
    assert ("waypoint", "frontend-v1", "tcp") not in edges_between(g)
    assert front.is_root
    assert front.traffic["tcp"]["tcpIn"] == pytest.approx(60.0)  # the node still counts what came back
    # Kiali's JSON has the same shape
    kiali = to_kiali(g)
    by_id = {e["data"]["id"]: e["data"] for e in kiali["elements"]["edges"]}
    assert by_id[to_wp.id]["waypoint"]["direction"] == "to"
    assert by_id[to_wp.id]["waypoint"]["fromEdge"]["traffic"]["rates"] == {"tcp": "60.00"}
    assert [n["data"].get("isWaypoint") for n in kiali["elements"]["nodes"] if n["data"]["id"] == wp.id] == [True]


def test_a_waypoint_is_a_workload_node_in_app_graphs_and_gets_no_service_node() -> None:
    g = build_ambient(inventory(), graphType="versionedApp", injectServiceNodes=True)
    wp = node(g, "waypoint")
    assert wp.node_type == "workload" and wp.app == "" and wp.extra.get("isWaypoint")

    def who(nid: str) -> str:
        n = g.nodes[nid]
        return f"{n.node_type}:{n.service if n.node_type == 'service' else n.app or n.workload}"

    drawn = {(who(e.source), who(e.target), e.protocol) for e in g.edges.values()}
    # requests between real workloads still pass through their service node
    assert {("app:frontend", "service:cart", "http"), ("service:cart", "app:cart", "http")} <= drawn
    # but no service node is put before or after a waypoint
    assert {("app:frontend", "workload:waypoint", "tcp"), ("workload:waypoint", "app:cart", "tcp")} <= drawn
    assert not any("waypoint" in (s + d) and "service:" in (s + d) for s, d, _ in drawn)


def test_hiding_waypoints_removes_them_and_what_only_they_reached() -> None:
    samples = ambient_samples() + [tcp("waypoint", "audit-v1", 5.0, service="audit", **ZT)]
    shown = build_ambient(inventory(), samples)
    assert "audit-v1" in {n.workload for n in shown.nodes.values()}
    g = build_ambient(inventory(), samples, showWaypoints=False)
    names = {n.workload for n in g.nodes.values()}
    assert "waypoint" not in names
    assert "audit-v1" not in names  # reached only through the waypoint, it would float alone
    assert {("frontend-v1", "cart-v1", "http"), ("frontend-v1", "pay-v1", "http")} == edges_between(g)


def test_the_ambient_traffic_option_picks_which_reports_are_graphed() -> None:
    l7 = {("frontend-v1", "cart-v1", "http"), ("frontend-v1", "pay-v1", "http")}
    total = edges_between(build_ambient(inventory()))
    assert l7 < total and ("frontend-v1", "waypoint", "tcp") in total
    assert edges_between(build_ambient(inventory(), ambientTraffic="waypoint")) == l7
    only_l4 = edges_between(build_ambient(inventory(), ambientTraffic="ztunnel"))
    assert only_l4 and all(p == "tcp" for _, _, p in only_l4)
    none = build_ambient(inventory(), ambientTraffic="none")
    assert not none.edges and not none.nodes
    assert not none.warnings  # left out on request, which is no bad input


def test_operation_nodes_read_waypoint_reports_only_when_waypoint_traffic_is_asked_for() -> None:
    """Kiali reads operations with reporter=~"waypoint|destination" only for ambient traffic "total" or
    "waypoint"; with "ztunnel" or "none" a waypoint's report of an operation is not read."""
    samples = [http("web-v1", "cart-v1", 10),
               http("web-v1", "cart-v1", 7, reporter="waypoint", request_operation="GET /items")]

    def operations(ambient: str) -> list[str]:
        g = build(snapshot(samples, ambientTraffic=ambient, appenders=("aggregateNode",)))
        return [n.aggregate_value for n in g.nodes.values() if n.node_type == "aggregate"]

    assert operations("total") == operations("waypoint") == ["GET /items"]
    assert operations("ztunnel") == operations("none") == []


def test_traffic_through_a_waypoint_counts_as_mutual_tls() -> None:
    """As Kiali: an edge to or from a waypoint with no security labels of its own is mutual TLS (ambient
    always secures it); other edges without labels stay unknown."""
    g = build_ambient(inventory())
    mtls = {(g.nodes[e.source].label, g.nodes[e.target].label, e.protocol): e.is_mtls for e in g.edges.values()}
    assert {k: v for k, v in mtls.items() if "waypoint" in k[:2]} and \
        all(v == 100.0 for k, v in mtls.items() if "waypoint" in k[:2])
    assert all(v is None for k, v in mtls.items() if "waypoint" not in k[:2])


def test_without_an_inventory_only_a_proxying_workload_is_taken_for_a_waypoint() -> None:
    # ztunnel bytes into a workload addressed to its own service are plain traffic, not a waypoint's
    plain = [tcp("frontend-v1", "db-v1", 10.0, service="db", reporter="source", **ZT),
             tcp("db-v1", "backup-v1", 10.0, service="backup", reporter="source", **ZT)]
    g = build_ambient(None, plain)
    assert not any(n.extra.get("isWaypoint") for n in g.nodes.values())
    # the same proxy pattern without ztunnel's label (sidecar telemetry) is not taken for one either
    sidecar = [tcp("frontend-v1", "gw", 10.0, service="cart", reporter="source"),
               tcp("gw", "cart-v1", 10.0, service="cart", reporter="source")]
    g = build_ambient(None, sidecar)
    assert not any(n.extra.get("isWaypoint") for n in g.nodes.values())
    # with an inventory, its labels decide, whatever the telemetry looks like
    g = build_ambient(inventory(waypoint_label=False))
    assert not any(n.extra.get("isWaypoint") for n in g.nodes.values())
    # for a workload it does not list (hidden by RBAC, or in a namespace it does not cover), what
    # ztunnel saw counts
    partial = inventory(waypoint_label=False)
    partial.workloads = [w for w in partial.workloads if w.name != "waypoint"]
    partial.hidden["shop/deployments"] = "forbidden"
    g = build_ambient(partial)
    assert [n.workload for n in g.nodes.values() if n.extra.get("isWaypoint")] == ["waypoint"]


def test_an_ambient_namespace_also_reads_requests_only_their_client_reported() -> None:
    # the ingress gateway (sidecar-less telemetry in istio-system) calls into shop; shop's workloads
    # have no sidecar to report it and this path has no waypoint
    samples = [http("istio-ingressgateway", "frontend-v1", 8.0, src_ns="istio-system", dst_ns="shop",
                    reporter="source")]
    ambient = edges_between(build_ambient(inventory(), samples))
    assert ambient == {("istio-ingressgateway", "frontend-v1", "http")}
    # Kiali reads them for an ambient namespace whatever the ambient option, "none" too
    assert edges_between(build_ambient(inventory(), samples, ambientTraffic="none")) == ambient
    # a sidecar namespace leaves that to the client's namespace graph, as Kiali does
    assert edges_between(build_ambient(inventory(ambient_ns=False), samples)) == set()
    # without an inventory, a namespace whose workloads ztunnel carries is ambient
    assert edges_between(build_ambient(None, samples)) == set()
    with_ztunnel = samples + [tcp("frontend-v1", "cart-v1", 10.0, service="cart", reporter="source", **ZT)]
    assert ("istio-ingressgateway", "frontend-v1", "http") in edges_between(build_ambient(None, with_ztunnel))


def test_response_times_into_an_ambient_namespace_come_from_its_callers_first() -> None:
    """As Kiali's extra response-time query for an ambient namespace: what the ingress gateway measured
    for its calls into the namespace wins over the waypoint's own measure; in a sidecar namespace the
    destination's report wins as usual, unless the gateway's namespace is shown too."""
    from tests.graph_samples import labels

    def took(reporter: str, ms: float) -> Sample:
        return Sample("istio_request_duration_milliseconds",
                      labels("istio-ingressgateway", "frontend-v1", src_ns="istio-system", dst_ns="shop",
                             reporter=reporter, request_protocol="http", stat="0.95"), ms)

    samples = [http("istio-ingressgateway", "frontend-v1", 8.0, src_ns="istio-system", dst_ns="shop",
                    reporter="source"), took("waypoint", 240.0), took("source", 5.0)]
    # in a sidecar namespace the server's proxy reports the request, and its measure
    sidecar = [*samples, http("istio-ingressgateway", "frontend-v1", 8.0, src_ns="istio-system", dst_ns="shop"),
               took("destination", 240.0)]

    def rt(inv: Inventory, telemetry: list[Sample], namespaces: tuple[str, ...]) -> float | None:
        g = build_ambient(inv, telemetry, namespaces=namespaces)
        return edge(g, node(g, "istio-ingressgateway"), node(g, "frontend-v1"), "http").response_time

    assert rt(inventory(), samples, ("shop",)) == 5.0
    assert rt(inventory(ambient_ns=False), sidecar, ("shop",)) == 240.0
    # istio-system shown too: Kiali keeps the gateway's namespace's copy of the edge, read from the
    # gateway's own report
    assert rt(inventory(ambient_ns=False), sidecar, ("shop", "istio-system")) == 5.0


def test_an_ambient_workloads_node_graph_shows_callers_only_they_reported() -> None:
    """As Kiali reads a node graph in an ambient namespace: the ingress gateway's call into frontend (no
    sidecar reports it on arrival, no waypoint on the way) is frontend's incoming traffic; in a sidecar
    namespace the node graph reads the destination's reports only."""
    samples = [http("istio-ingressgateway", "frontend-v1", 8.0, src_ns="istio-system", dst_ns="shop",
                    reporter="source"), http("frontend-v1", "cart-v1", 10.0, reporter="waypoint")]
    focus = NodeFocus("shop", workload="frontend-v1")
    ambient = edges_between(build_ambient(inventory(), samples, node=focus))
    assert ambient == {("istio-ingressgateway", "frontend-v1", "http"), ("frontend-v1", "cart-v1", "http")}
    sidecars = edges_between(build_ambient(inventory(ambient_ns=False), samples, node=focus))
    assert ("istio-ingressgateway", "frontend-v1", "http") not in sidecars


def test_a_waypoints_own_node_graph_reads_ztunnels_reports_from_the_other_side() -> None:
    g = build_ambient(inventory(), node=NodeFocus(namespace="shop", workload="waypoint"))
    drawn = edges_between(g)
    assert ("frontend-v1", "waypoint", "tcp") in drawn  # its inbound bytes, as the client's ztunnel saw them
    assert ("waypoint", "cart-v1", "tcp") in drawn  # its outbound bytes, as the server's ztunnel saw them
    assert edge(g, node(g, "waypoint"), node(g, "cart-v1"), "tcp").rate == pytest.approx(30.0)


def test_the_request_reads_kialis_ambient_parameters() -> None:
    r = GraphRequest.from_json({"namespaces": ["shop"], "ambientTraffic": "waypoint", "waypoints": "false"})
    assert (r.ambientTraffic, r.showWaypoints) == ("waypoint", False)
    assert GraphRequest.from_json({"namespaces": ["shop"]}).ambientTraffic == "total"
    with pytest.raises(ValueError, match="ambientTraffic must be one of total, waypoint, ztunnel, none"):
        GraphRequest.from_json({"ambientTraffic": "all"})
    with pytest.raises(ValueError, match="waypoints must be true or false"):
        GraphRequest.from_json({"waypoints": "maybe"})
    assert GraphRequest.from_json(r.to_json()) == r


def test_the_cli_marks_waypoints_and_takes_the_ambient_options(tmp_path: Path) -> None:
    path = tmp_path / "ambient.json"
    save_snapshot(snapshot(ambient_samples(), inventory()), path)

    def run(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--snapshot", str(path), *args],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout + out.stderr  # (no traffic is said on stderr)

    table = run()
    assert "shop/waypoint (waypoint)" in table
    row = next(line for line in table.splitlines() if line.startswith("shop/frontend-v1") and "(waypoint)" in line)
    assert "back 60.00" in row  # the return traffic of the two-way edge
    assert 'dir=both' in run("--format", "dot")
    assert "waypoint" not in run("--no-waypoints")
    assert "no traffic in the requested window" in run("--ambient-traffic", "none")


def test_an_idle_waypoint_is_still_a_waypoint() -> None:
    sidecar_only = [http("frontend-v1", "cart-v1", 10.0)]
    g = build_ambient(inventory(), sidecar_only, includeIdleNodes=True, graphType="versionedApp")
    wp = node(g, "waypoint")
    assert wp.is_idle and wp.extra.get("isWaypoint") and wp.node_type == "workload"
    hidden = build_ambient(inventory(), sidecar_only, includeIdleNodes=True, showWaypoints=False)
    assert "waypoint" not in {n.workload for n in hidden.nodes.values()}


def test_metrics_of_an_ambient_node_read_the_waypoints_reports_and_others_do_not() -> None:
    """Kiali counts a waypoint's reports for an ambient workload's metrics; for a workload with a sidecar
    they would repeat what its proxy reported (twice the requests)."""
    from meshdesk.mesh.metrics import target_for_edge, target_for_node

    ambient = build_ambient(inventory())
    cart = node(ambient, "cart-v1")
    assert ambient.ambient_namespaces == frozenset({"shop"})
    assert target_for_node(ambient, cart.id).reporters == ("destination", "waypoint")  # type: ignore[union-attr]
    e = next(iter(ambient.edges))
    assert "waypoint" in target_for_edge(ambient, e).reporters  # type: ignore[union-attr]
    sidecars = build_ambient(inventory(ambient_ns=False), [http("frontend-v1", "cart-v1", 10.0)])
    assert target_for_node(sidecars, node(sidecars, "cart-v1").id).reporters == ("destination",)  # type: ignore[union-attr]


def test_a_gateway_api_ingress_in_front_of_the_waypoint() -> None:
    """Istio's Gateway API ingress (a K8s Gateway "shop-gateway", run by Istio as shop-gateway-istio)
    sends users to the waypoint: it is a gateway node carrying its listener's hostname, and Kiali's
    ``hasIngressWaypoint``; the waypoint, itself a Gateway API Gateway, is marked with "*" (no
    hostname on its listener). A Gateway of that name in another namespace marks nothing here."""
    from meshdesk.mesh.inventory import IstioObject

    inv = inventory()
    inv.workloads.append(Workload("shop-gateway-istio", "shop", labels={
        "gateway.networking.k8s.io/gateway-name": "shop-gateway", "app": "shop-gateway-istio"}))
    inv.k8s_gateways = [
        IstioObject("K8sGateway", "shop-gateway", "shop", spec={
            "gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "hostname": "shop.example.com"}]}),
        IstioObject("K8sGateway", "waypoint", "shop", spec={
            "gatewayClassName": "istio-waypoint", "listeners": [{"name": "mesh", "port": 15008}]}),
        IstioObject("K8sGateway", "frontend-v1", "elsewhere", spec={"listeners": [{"hostname": "x.example.com"}]}),
    ]
    samples = ambient_samples() + [
        tcp("shop-gateway-istio", "waypoint", 5.0, service="frontend", reporter="source", **ZT)]
    g = build_ambient(inv, samples)
    ingress = node(g, "shop-gateway-istio")
    assert ingress.is_gateway and ingress.extra["gateway"] == {"gatewayAPIInfo": {"hostnames": ["shop.example.com"]}}
    assert ingress.extra.get("hasIngressWaypoint") is True
    waypoint = node(g, "waypoint")
    assert waypoint.is_gateway and waypoint.extra["gateway"] == {"gatewayAPIInfo": {"hostnames": ["*"]}}
    assert not waypoint.extra.get("hasIngressWaypoint")
    assert not node(g, "frontend-v1").is_gateway
    data = {n["data"].get("workload"): n["data"] for n in to_kiali(g)["elements"]["nodes"]}
    assert data["shop-gateway-istio"]["isK8sGatewayAPI"] is True and data["shop-gateway-istio"]["hasIngressWaypoint"]
    assert "isK8sGatewayAPI" not in data["frontend-v1"]


def test_throughput_in_an_ambient_namespace_is_the_waypoints_either_way() -> None:
    """Kiali reads request bytes from reporter=~"waypoint|source" and response bytes from
    reporter=~"waypoint|destination": in an ambient namespace the waypoint's report serves both."""
    from tests.graph_samples import labels, snapshot

    def bytes_(metric: str, value: float) -> Sample:
        return Sample(metric, labels("frontend-v1", "cart-v1", request_protocol="http", stat="rate",
                                     reporter="waypoint"), value)

    samples = [http("frontend-v1", "cart-v1", 10.0, reporter="waypoint"),
               bytes_("istio_request_bytes", 300), bytes_("istio_response_bytes", 9000)]
    for kind, expected in (("response", 9000), ("request", 300)):
        g = build(snapshot(samples, inventory(), throughputType=kind))
        assert edge(g, node(g, "frontend-v1"), node(g, "cart-v1"), "http").throughput == expected, kind


def test_a_waypoint_in_a_namespace_not_chosen_is_still_a_waypoint_in_a_node_graph() -> None:
    """bank's ledger is served by a waypoint in infra (``istio.io/use-waypoint-namespace``), a namespace not
    chosen: the inventory knows it only among the gateways read outside the selection (Kiali finds
    waypoints cluster-wide). In ledger-v1's node graph ztunnel shows the waypoint only sending to it, which
    telemetry alone cannot tell from a client: the inventory says it is a waypoint, so it is drawn as one,
    with no service node injected between it and ledger-v1."""
    samples = [http("teller-v1", "ledger-v1", 3.0, ns="bank", reporter="waypoint"),
               tcp("teller-v1", "shared-wp", 30.0, ns="bank", dst_ns="infra", service="ledger", reporter="source", **ZT),
               tcp("shared-wp", "ledger-v1", 30.0, src_ns="infra", ns="bank", service="ledger", **ZT)]
    wp = Workload("shared-wp", "infra", labels={**WAYPOINT_LABELS, "gateway.networking.k8s.io/gateway-name": "shared-wp"})
    inv = Inventory(cluster="east", namespaces=[Namespace("bank", labels={"istio.io/dataplane-mode": "ambient"})],
                    workloads=[Workload("teller-v1", "bank", labels={"app": "teller", "version": "v1"}),
                               Workload("ledger-v1", "bank", labels={"app": "ledger", "version": "v1"})],
                    outside_gateways=[wp])
    g = build(snapshot(samples, inv, namespaces=("bank",), injectServiceNodes=True,
                       node=NodeFocus("bank", workload="ledger-v1")))
    waypoint = node(g, "shared-wp")
    assert waypoint.extra.get("isWaypoint")
    assert ("shared-wp", "ledger-v1", "tcp") in edges_between(g)
    assert ("ledger", "ledger-v1", "tcp") not in edges_between(g)


def test_a_live_node_graph_marks_the_waypoint_of_another_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   shared_dir: Path) -> None:
    """The same through ``meshdesk graph`` on a cluster (the API emulator, with the Gateway API served as
    an ambient mesh needs it) whose Prometheus holds the series ztunnel and the waypoint write: the
    waypoint in infra is a waypoint node in ledger-v1's node graph, as in bank's namespace graph."""
    import json

    from meshdesk.cli import main
    from tests import gateway_api_crds
    from tests.kube_emulator import KubeEmulator
    from tests.prom_server import PrometheusServer, Series, binaries_missing, istio_edge
    from tests.prom_server import Workload as Pw

    if (reason := binaries_missing()) is not None:
        pytest.skip(reason)
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(tmp_path / "cfg"))
    teller, ledger, wp = Pw("bank", "teller-v1", "teller"), Pw("bank", "ledger-v1", "ledger"), \
        Pw("infra", "shared-wp", "shared-wp", "latest")
    ztunnel = {"app": "ztunnel", "namespace": "istio-system"}
    series = [Series("istio_requests_total", istio_edge(teller, ledger, "ledger", "bank", reporter="waypoint",
                                                        extra={"app": "shared-wp"}), 3.0)]
    for reporter in ("source", "destination"):
        series += [Series("istio_tcp_sent_bytes_total", istio_edge(a, b, "ledger", "bank", reporter=reporter,
                                                                   protocol="tcp", extra=ztunnel), 30.0)
                   for a, b in ((teller, wp), (wp, ledger))]
    srv = PrometheusServer(tmp_path / "prom", series)
    srv.start()
    with KubeEmulator() as emu:
        try:
            emu.load_crds(shared_dir / "fixtures" / "istio" / "crds" / "crd-all.gen.yaml")
            gateway_api_crds.install(emu)
            emu.add_namespace("bank", {"istio.io/dataplane-mode": "ambient"})
            emu.add_namespace("infra", {"istio.io/dataplane-mode": "ambient"})
            emu.add_namespace("istio-system")
            captured = {"ambient.istio.io/redirection": "enabled"}
            for ns, name, labels, annotations in (
                    ("bank", "teller-v1", {"app": "teller", "version": "v1"}, captured),
                    ("bank", "ledger-v1", {"app": "ledger", "version": "v1"}, captured),
                    ("infra", "shared-wp", {**WAYPOINT_LABELS, "gateway.networking.k8s.io/gateway-name": "shared-wp",
                                            "istio.io/dataplane-mode": "none"}, {})):
                emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
                         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                                  "template": {"metadata": {"labels": labels, "annotations": annotations},
                                               "spec": {"containers": [{"name": "c", "image": "example/c:1"}]}}}})
            emu.add({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "ledger", "namespace": "bank",
                                  "labels": {"istio.io/use-waypoint": "shared-wp",
                                             "istio.io/use-waypoint-namespace": "infra"}},
                     "spec": {"selector": {"app": "ledger"}, "ports": [{"name": "http", "port": 8080}]}})
            emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                     "metadata": {"name": "shared-wp", "namespace": "infra"},
                     "spec": {"gatewayClassName": "istio-waypoint",
                              "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}})
            emu.run_workloads()
            emu.add({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "prometheus", "namespace": "istio-system", "labels": {"app": "prometheus"}},
                     "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090}]}})
            emu.proxy_service("istio-system", "prometheus", 9090, srv.url)
            config = emu.write_kubeconfig(tmp_path / "config", context="lab")
            assert main(["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "bank", "--format", "kiali",
                         "--graph-type", "workload", "--inject-service-nodes", "--rate-tcp", "total",
                         "--node-workload", "ledger-v1"]) == 0
        finally:
            srv.stop()
    data = json.loads(capsys.readouterr().out)["elements"]
    nodes = {n["data"]["id"]: n["data"] for n in data["nodes"]}
    by_name = {(d.get("workload") or d.get("service") or d.get("app")): d for d in nodes.values()}
    assert by_name["shared-wp"].get("isWaypoint") is True
    tcp_edges = {(nodes[e["data"]["source"]].get("workload") or nodes[e["data"]["source"]].get("service"),
                  nodes[e["data"]["target"]].get("workload")) for e in data["edges"]
                 if e["data"].get("traffic", {}).get("protocol") == "tcp"}
    assert tcp_edges == {("shared-wp", "ledger-v1")}


def test_a_waypoints_reports_that_name_no_security_policy_give_no_mtls_share() -> None:
    """Kiali shows an edge's mTLS share only when some of its traffic used mutual TLS: a waypoint's reports
    saying connection_security_policy="unknown" gave "mTLS 0%" here, as if in plain text. Alone they give no
    share (the edge says why); beside reports naming a policy they count as Kiali counts them, as not mTLS."""
    csp = "connection_security_policy"
    unknown = [http("frontend-v1", "cart-v1", 3.0, reporter="waypoint", **{csp: "unknown"})]
    g = build(snapshot(unknown, inventory()))
    e = edge(g, node(g, "frontend-v1"), node(g, "cart-v1"), "http")
    assert e.is_mtls is None and e.extra.get("mtlsPolicy") == "unknown"
    mixed = [*unknown, http("frontend-v1", "cart-v1", 1.0, reporter="waypoint", code="503", **{csp: "mutual_tls"})]
    g = build(snapshot(mixed, inventory()))
    e = edge(g, node(g, "frontend-v1"), node(g, "cart-v1"), "http")
    assert e.is_mtls == 25.0 and "mtlsPolicy" not in e.extra
    plain = [http("frontend-v1", "cart-v1", 3.0, **{csp: "none"})]  # a sidecar's: plain text, said as 0%
    g = build(snapshot(plain, inventory(ambient_ns=False)))
    assert edge(g, node(g, "frontend-v1"), node(g, "cart-v1"), "http").is_mtls == 0.0
