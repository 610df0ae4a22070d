"""Kiali's ``healthData`` in ``graph --format kiali``: the shapes of Kiali's health appender
(``graph/telemetry/istio/appender/health.go``, ``models/health.go``) filled from what meshdesk's graph
and inventory know."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh import export
from meshdesk.mesh.graph import build, health, model
from meshdesk.mesh.graph.health_data import code_rates, exact
from meshdesk.mesh.inventory import Container, Inventory, Namespace, Pod, Service, Workload
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.snapshot import save_snapshot
from tests.graph_samples import grpc, http, snapshot, tcp

ROOT = Path(__file__).resolve().parent.parent
SYNCED = dict.fromkeys(("CDS", "EDS", "LDS", "RDS"), "Synced")


def kiali_nodes(g: model.TrafficGraph) -> list[dict[str, Any]]:
    return [n["data"] for n in export.to_kiali(g)["elements"]["nodes"]]


def data_of(g: model.TrafficGraph, **identity: str) -> Any:
    n = g.find_node(**identity)
    assert n is not None, identity
    return next(d for d in kiali_nodes(g) if d["id"] == n.id)["healthData"]


def edge_codes(edges: list[model.Edge]) -> dict[str, dict[str, float]]:
    """Per protocol and code, the rates the edges carried, from their Kiali JSON: the edge's rate times
    each code's share (its flags' percentages)."""
    out: dict[str, dict[str, float]] = {}
    for e in edges:
        for code, r in e.responses.items():
            mine = out.setdefault(e.protocol, {})
            mine[code] = mine.get(code, 0.0) + sum(r.flags.values()) / 100.0 * e.rate
    return out


def approx(requests: dict[str, dict[str, float]]) -> Any:
    return {p: pytest.approx(codes) for p, codes in requests.items()}


def pod(name: str, *, synced: bool | None = True, sidecar: bool = True, labels: dict[str, str] | None = None) -> Pod:
    state = {} if synced is None else dict(SYNCED) if synced else dict(SYNCED, EDS="Stale")
    return Pod(name=name, namespace="shop", phase="Running", labels=labels or {},
               containers=[Container("app", ready=True)] + ([Container("istio-proxy", ready=True)] if sidecar else []),
               proxy_sync=state if sidecar else {})


def shop_inventory() -> Inventory:
    web = Workload(name="web-v1", namespace="shop", labels={"app": "web", "version": "v1"},
                   pods=[pod("web-v1-a")], replicas=1, available=1, current=1)
    # three wanted, three running, two available, one proxy out of sync, an annotation of its own
    cart1 = Workload(name="cart-v1", namespace="shop", labels={"app": "cart", "version": "v1"},
                     annotations={health.ANNOTATION: "5XX,20,30,http,inbound", "other": "x"},
                     pods=[pod("cart-v1-a"), pod("cart-v1-b", synced=False), pod("cart-v1-c")],
                     replicas=3, available=2, current=3)
    cart2 = Workload(name="cart-v2", namespace="shop", labels={"app": "cart", "version": "v2"},
                     pods=[pod("cart-v2-a", sidecar=False)], replicas=1, available=1)  # no sidecar, count not said
    gw = Workload(name="shop-gateway", namespace="shop", labels={"app": "shop-gateway", "istio": "ingressgateway"},
                  pods=[pod("shop-gateway-a")], replicas=1, available=1, current=1)
    cart = Service("cart", "shop", selector={"app": "cart"}, annotations={health.ANNOTATION: "5XX,1,2,http,inbound"})
    return Inventory(cluster="east", namespaces=[Namespace("shop")], workloads=[web, cart1, cart2, gw],
                     services=[cart, Service("web", "shop", selector={"app": "web"})])


SAMPLES = [http("web-v1", "cart-v1", 90), http("web-v1", "cart-v1", 10, "500"), http("web-v1", "cart-v2", 20,
           service="cart"), grpc("web-v1", "cart-v2", 4, status="14", service="cart"),
           http("shop-gateway", "web-v1", 100, service="web"), tcp("cart-v1", "db-v1", 2048)]


def test_a_service_nodes_requests_are_its_edges_by_code() -> None:
    """Kiali adds each edge's responses (code -> rate behind the flags) into its source's outbound and
    its target's inbound requests: the service node's inbound http "200" and "500" are what its edges in
    carry, its outbound what its edges to the workloads carry."""
    g = build(snapshot(SAMPLES, inventory=shop_inventory(), injectServiceNodes=True))
    cart = g.find_node(node_type=model.NODE_SERVICE, service="cart")
    assert cart is not None
    data = data_of(g, node_type=model.NODE_SERVICE, service="cart")
    requests = data["requests"]
    assert set(requests) == {"healthAnnotations", "inbound", "outbound"}
    assert requests["inbound"] == approx(edge_codes(list(g.in_edges(cart.id))))
    assert requests["outbound"] == approx(edge_codes(list(g.out_edges(cart.id))))
    assert requests["inbound"]["http"] == pytest.approx({"200": 110.0, "500": 10.0})
    assert requests["inbound"]["grpc"] == pytest.approx({"14": 4.0})  # gRPC by its status
    assert list(requests["inbound"]) == ["grpc", "http"]  # as Go writes a map: keys in order
    # the Service's own annotation, only Kiali's key
    assert requests["healthAnnotations"] == {health.ANNOTATION: "5XX,1,2,http,inbound"}
    # the verdict the health pass made, as Kiali's CalculatedHealthStatus
    assert cart.health is not None
    assert data["status"] == {"errorRatio": pytest.approx(cart.health.error_ratio * 100), "status": cart.health.status,
                              "totalRequestRate": pytest.approx(2 * 124.0)}
    assert set(data) == {"requests", "status"}  # a ServiceHealth: no workload status
    # a caller's outbound, and TCP bytes under "-", as Kiali's tcpResponses
    web = data_of(g, node_type=model.NODE_WORKLOAD, workload="web-v1")["requests"]
    assert web["outbound"] == approx({"http": {"200": 110.0, "500": 10.0}, "grpc": {"14": 4.0}})
    assert web["inbound"] == approx({"http": {"200": 100.0}})
    assert data_of(g, node_type=model.NODE_WORKLOAD, workload="cart-v1")["requests"]["outbound"] == \
        {"tcp": {"-": 2048.0}}


def test_rates_are_the_edges_own_and_the_same_in_every_export() -> None:
    """Rates per second as the edges carry them (Kiali's are not rounded to its text's two decimals),
    the same numbers whether or not the edges' percentages were made meanwhile."""
    g = build(snapshot([http("web-v1", "cart-v1", 1 / 3), http("web-v1", "cart-v1", 0.001, "503"),
                        http("web-v1", "cart-v1", 90, service="cart", flags="UF")]))
    e = next(iter(g.edges.values()))
    raw = code_rates(e)
    first = data_of(g, node_type=model.NODE_WORKLOAD, workload="cart-v1")  # the export makes the percentages
    assert first["requests"]["inbound"] == {"http": {code: exact(v) for code, v in raw.items()}}
    assert first["requests"]["inbound"]["http"] == {"200": exact(90 + 1 / 3), "503": 0.001}
    assert code_rates(e) != raw  # taken back from percentages: 90.33333333333334 for 90.33333333333333
    assert data_of(g, node_type=model.NODE_WORKLOAD, workload="cart-v1") == first


def test_a_workload_nodes_status_is_the_inventorys() -> None:
    """WorkloadHealth: Kiali's WorkloadStatus of the workload (wanted, running and available replicas,
    proxies in sync; -1 for a gateway's or a workload without sidecars), and its annotation."""
    inv = shop_inventory()
    g = build(snapshot(SAMPLES, inventory=inv))
    cart1 = data_of(g, node_type=model.NODE_WORKLOAD, workload="cart-v1")
    assert cart1["workloadStatus"] == {"availableReplicas": 2, "currentReplicas": 3, "desiredReplicas": 3,
                                       "name": "cart-v1", "syncedProxies": 2}
    assert list(cart1["workloadStatus"]) == ["availableReplicas", "currentReplicas", "desiredReplicas", "name",
                                             "syncedProxies"]
    assert cart1["requests"]["healthAnnotations"] == {health.ANNOTATION: "5XX,20,30,http,inbound"}
    assert list(cart1) == ["requests", "status", "workloadStatus"]
    assert cart1["status"]["status"] == g.find_node(workload="cart-v1").health.status  # type: ignore[union-attr]
    # no sidecar: proxies not counted; a controller that does not say what it runs runs what it wants
    assert data_of(g, workload="cart-v2")["workloadStatus"] == {
        "availableReplicas": 1, "currentReplicas": 1, "desiredReplicas": 1, "name": "cart-v2", "syncedProxies": -1}
    # a gateway's proxies are not counted (Kiali's CastWorkloadStatus)
    assert data_of(g, workload="shop-gateway")["workloadStatus"]["syncedProxies"] == -1
    assert data_of(g, workload="web-v1")["workloadStatus"]["syncedProxies"] == 1
    # a workload the inventory does not have: null, as Kiali writes one it does not find
    db = data_of(g, workload="db-v1")
    assert db["workloadStatus"] is None and db["requests"]["healthAnnotations"] == {}


def test_without_an_inventory_workload_statuses_are_null_or_empty() -> None:
    """An offline snapshot without an inventory: the requests are known, the pods are not."""
    g = build(snapshot(SAMPLES, graphType="versionedApp"))
    cart1 = data_of(g, node_type=model.NODE_APP, app="cart", version="v1")
    assert cart1["workloadStatuses"] == [] and cart1["requests"]["inbound"] == approx({"http": {"200": 90.0,
                                                                                                "500": 10.0}})
    g = build(snapshot(SAMPLES))
    data = data_of(g, workload="cart-v1")
    assert data["workloadStatus"] is None and data["requests"]["healthAnnotations"] == {}
    assert data["status"]["status"] == model.FAILURE  # judged on its requests


def test_an_app_node_lists_its_workloads_statuses() -> None:
    """AppHealth: an app node (app graph) lists the statuses of its app's workloads; a versioned app node
    none (Kiali hands them to its box, healthDataApp), and its box the app's: every version's requests
    and every workload's status."""
    inv = shop_inventory()
    statuses = [{"availableReplicas": 2, "currentReplicas": 3, "desiredReplicas": 3, "name": "cart-v1",
                 "syncedProxies": 2},
                {"availableReplicas": 1, "currentReplicas": 1, "desiredReplicas": 1, "name": "cart-v2",
                 "syncedProxies": -1}]
    g = build(snapshot(SAMPLES, inventory=inv, graphType="app"))
    cart = data_of(g, node_type=model.NODE_APP, app="cart")
    assert cart["workloadStatuses"] == statuses
    assert list(cart) == ["requests", "status", "workloadStatuses"]
    assert cart["requests"]["healthAnnotations"] == {}  # Kiali reads no app annotation
    assert cart["requests"]["inbound"] == approx({"http": {"200": 110.0, "500": 10.0}, "grpc": {"14": 4.0}})

    g = build(snapshot(SAMPLES, inventory=inv, graphType="versionedApp"))
    v1 = data_of(g, node_type=model.NODE_APP, app="cart", version="v1")
    v2 = data_of(g, node_type=model.NODE_APP, app="cart", version="v2")
    assert v1["workloadStatuses"] == [] and v2["workloadStatuses"] == []
    assert v1["requests"]["inbound"] == approx({"http": {"200": 90.0, "500": 10.0}})
    box_node = g.find_node(node_type=model.NODE_BOX, app="cart")
    assert box_node is not None and box_node.health is not None
    box = data_of(g, node_type=model.NODE_BOX, app="cart")
    assert box["workloadStatuses"] == statuses
    assert box["requests"]["inbound"] == approx({"http": {"200": 110.0, "500": 10.0}, "grpc": {"14": 4.0}})
    assert box["status"]["status"] == box_node.health.status


def test_an_idle_node_has_empty_requests_and_no_verdict() -> None:
    inv = shop_inventory()
    inv.workloads.append(Workload(name="idle-v1", namespace="shop", labels={"app": "idle", "version": "v1"},
                                  pods=[pod("idle-v1-a")], replicas=1, available=1, current=1))
    g = build(snapshot(SAMPLES, inventory=inv, includeIdleNodes=True))
    data = data_of(g, workload="idle-v1")
    assert data["requests"] == {"healthAnnotations": {}, "inbound": {}, "outbound": {}}
    assert data["status"] == {"errorRatio": -1, "status": "Healthy"}  # its pods say Healthy, no request judged
    assert data["workloadStatus"]["name"] == "idle-v1"


def test_a_service_graphs_requests_are_those_before_its_reduction() -> None:
    """Kiali's health appender runs before a service graph is reduced to service-to-service edges: cart's
    inbound requests are every caller's, once (the reduction adds web-v2's requests into the joined
    edge of web-v1, which must not count them again)."""
    samples = [http("web-v1", "cart-v1", 10), http("web-v2", "cart-v1", 5, service="cart"),
               http("web-v1", "cart-v1", 1, "500"), http(None, "web-v1", 10, service="web"),
               http(None, "web-v2", 6, service="web")]
    g = build(snapshot(samples, graphType="service"))
    assert data_of(g, service="cart")["requests"]["inbound"] == approx({"http": {"200": 15.0, "500": 1.0}})
    assert data_of(g, service="cart")["requests"]["outbound"] == approx({"http": {"200": 15.0, "500": 1.0}})
    web = data_of(g, service="web")["requests"]
    assert web["inbound"] == approx({"http": {"200": 16.0}}) and web["outbound"] == approx({"http": {"200": 16.0}})


def test_demo_graph_health_data_matches_its_edges_and_inventory() -> None:
    """On the demo mesh: every service node's requests are its edges', every app box lists its app's
    workloads, every workload node's status is the inventory's; unknown nodes have none."""
    demo = DemoCluster(clock=lambda: 1_780_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("hello", "shop", "istio-system"), graphType="versionedApp",
                                      injectServiceNodes=True))
    inv = snap.inventory
    assert inv is not None
    g = build(snap)
    nodes = {d["id"]: d["healthData"] for d in kiali_nodes(g)}
    services = boxes = 0
    for n in g.nodes.values():
        data = nodes[n.id]
        if n.node_type == model.NODE_SERVICE:
            services += 1
            assert data["requests"]["inbound"] == approx(edge_codes(list(g.in_edges(n.id)))), n.service
            assert data["requests"]["outbound"] == approx(edge_codes(list(g.out_edges(n.id)))), n.service
        elif n.node_type == model.NODE_BOX and n.box == model.BOX_APP and data is not None:
            boxes += 1
            assert [s["name"] for s in data["workloadStatuses"]] == \
                [w.name for w in inv.workloads if w.namespace == n.namespace and w.app == n.app]
        elif n.node_type == model.NODE_UNKNOWN:
            assert data is None
    assert services > 3 and boxes > 1

    snap = demo.snapshot(GraphRequest(namespaces=("shop",), graphType="workload"))
    inv = snap.inventory
    assert inv is not None
    g = build(snap)
    nodes = {d["id"]: d["healthData"] for d in kiali_nodes(g)}
    checked = 0
    for n in g.nodes.values():
        w = inv.workload(n.namespace, n.workload) if n.node_type == model.NODE_WORKLOAD else None
        if w is not None:
            checked += 1
            assert nodes[n.id]["workloadStatus"] == {
                "availableReplicas": w.available, "currentReplicas": w.current if w.current >= 0 else w.replicas,
                "desiredReplicas": w.replicas, "name": w.name,
                "syncedProxies": -1 if n.is_gateway else w.synced_proxies}
    assert checked > 3


def _saved(tmp_path: Path) -> str:
    path = tmp_path / "shop.json"
    save_snapshot(snapshot(SAMPLES, inventory=shop_inventory()), path)
    return str(path)


def run(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "meshdesk", "graph", "--format", "kiali", *args], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def test_health_data_only_when_the_health_appender_runs(tmp_path: Path) -> None:
    """``--appenders`` without health: healthData null on every node (and no verdict keys), as Kiali writes
    it without its health appender; by default, or with health among them, Kiali's shapes."""
    path = _saved(tmp_path)
    default = {d.get("workload"): d for d in (n["data"] for n in run("--snapshot", path)["elements"]["nodes"])}
    assert default["cart-v1"]["healthData"]["workloadStatus"]["name"] == "cart-v1"
    assert default["web-v1"]["healthData"]["requests"]["outbound"]["http"] == {"200": 110.0, "500": 10.0}
    chosen = {d.get("workload"): d for d in (n["data"] for n in
                                             run("--snapshot", path, "--appenders", "health")["elements"]["nodes"])}
    assert chosen["cart-v1"]["healthData"] == default["cart-v1"]["healthData"]
    for appenders in ("deadNode,responseTime,securityPolicy", ""):
        nodes = [n["data"] for n in run("--snapshot", path, "--appenders", appenders)["elements"]["nodes"]]
        assert nodes and all(d["healthData"] is None for d in nodes)
        assert not any("healthStatus" in d or "hasHealthConfig" in d for d in nodes)


def test_kiali_golden_cases_without_the_health_appender_write_null(shared_dir: Path) -> None:
    """Kiali's golden graphs were made with ``appenders`` empty: no health data. Asked the same way
    (``--appenders ''``), every node's healthData is null as there; asked for health, it is not."""
    case = shared_dir / "conformance" / "kiali" / "cases" / "TestVersionedAppGraph.json"
    expected = json.loads(case.read_text())["expected"]["elements"]["nodes"]
    assert {n["data"]["healthData"] is None for n in expected} == {True}
    plain = run("--snapshot", str(case), "--appenders", "")["elements"]["nodes"]
    assert len(plain) == len(expected) and all(n["data"]["healthData"] is None for n in plain)
    judged = run("--snapshot", str(case))["elements"]["nodes"]
    with_data = [n["data"] for n in judged if n["data"]["healthData"] is not None]
    assert with_data and all(set(d["healthData"]) >= {"requests"} for d in with_data)
