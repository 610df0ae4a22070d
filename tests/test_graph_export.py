"""Exports: Kiali JSON details, DOT and table text."""

from __future__ import annotations

from meshdesk.mesh import export
from meshdesk.mesh.graph import build
from tests.graph_samples import http, snapshot


def test_rate_text_uses_kiali_precision() -> None:
    assert export.rate_text("http", 12.3456) == "12.35"
    assert export.rate_text("http", 0.0042) == "0.004"
    assert export.rate_text("httpPercentReq", 33.333) == "33.3"


def test_kiali_json_has_boxes_first_flags_and_parents() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 30), http("web-v1", "cart-v2", 10, service="cart"),
                        http(None, "web-v1", 5)], graphType="versionedApp"))
    data = export.to_kiali(g)
    nodes = [n["data"] for n in data["elements"]["nodes"]]
    assert nodes[0]["nodeType"] == "box" and nodes[0]["isBox"] == "app" and nodes[0]["app"] == "cart"
    box_id = nodes[0]["id"]
    carts = [n for n in nodes if n.get("app") == "cart" and n["nodeType"] == "app"]
    assert {n["version"] for n in carts} == {"v1", "v2"} and all(n["parent"] == box_id for n in carts)
    unknown = next(n for n in nodes if n["nodeType"] == "unknown")
    assert unknown["isInaccessible"] is True and unknown["isRoot"] is True and "isOutside" not in unknown
    web = next(n for n in nodes if n.get("workload") == "web-v1")
    assert web["traffic"] == [{"protocol": "http", "rates": {"httpIn": "5.00", "httpOut": "40.00"}}]
    ids = {n["id"] for n in nodes}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in data["elements"]["edges"])


def test_dot_quotes_names_and_groups_boxes() -> None:
    g = build(snapshot([http("web-v1", 'we"ird-v1', 1), http("web-v1", "cart-v2", 1)], graphType="versionedApp",
                       boxBy=("namespace",), namespaces=("shop",)))
    dot = export.to_dot(g)
    assert 'we\\"ird' in dot
    assert dot.count("subgraph") == 0  # one namespace: no namespace box
    assert dot.rstrip().endswith("}")


def test_a_table_of_no_traffic_is_empty() -> None:
    """No header over no rows: the command says NO_TRAFFIC on stderr (as kubectl's "No resources found")."""
    g = build(snapshot([]))
    assert export.to_table(g) == "" and export.NO_TRAFFIC == "no traffic in the requested window"


def test_kiali_json_leaves_out_empty_response_flags_and_hosts() -> None:
    """Kiali's ResponseDetail omits empty flags and hosts (a gRPC message edge has no flags; a request
    from an unknown host has no host)."""
    from meshdesk.mesh.export import _response_detail

    assert _response_detail({}, {"a.b": 100.0}) == {"hosts": {"a.b": "100.0"}}
    assert _response_detail({"-": 100.0}, {}) == {"flags": {"-": "100.0"}}
    assert _response_detail({}, {}) == {}


def test_an_app_version_node_graph_in_an_app_graph_is_the_apps() -> None:
    """Kiali drops the version of an app node outside versioned-app graphs: the node graph of reviews v1
    in an app graph shows all of reviews' traffic and what reviews calls."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import NodeFocus
    from tests.graph_samples import http, snapshot

    samples = [http("productpage-v1", "reviews-v1", 10), http("productpage-v1", "reviews-v2", 20),
               http("reviews-v2", "ratings-v1", 5, reporter="source")]
    g = build(snapshot(samples, graphType="app", node=NodeFocus("shop", app="reviews", version="v1")))
    reviews = next(n for n in g.nodes.values() if n.app == "reviews")
    assert reviews.traffic["http"]["httpIn"] == 30
    assert any(g.nodes[e.target].app == "ratings" for e in g.edges.values())


def test_a_node_without_a_health_verdict_has_no_health_status_key() -> None:
    """A TCP-only node has no health verdict: Kiali leaves healthStatus out (as meshdesk did for edges);
    nodes carried "healthStatus": null."""
    from tests.graph_samples import tcp

    g = build(snapshot([http("web-v1", "cart-v1", 10), tcp("cart-v1", "db-v1", 500)], graphType="workload"))
    nodes = {n["data"].get("workload"): n["data"] for n in export.to_kiali(g)["elements"]["nodes"]}
    assert "healthStatus" not in nodes["db-v1"]
    assert nodes["cart-v1"]["healthStatus"] == "Healthy"
