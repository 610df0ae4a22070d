"""What the model promises while building it cheaply: an edge's response breakdown made on first read
reads like one made up front, can be replaced like any field, and ids stay the same whether they were
remembered from an earlier build or hashed afresh."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from meshdesk.mesh.graph import build, model
from meshdesk.mesh.telemetry import Sample
from tests.graph_samples import http, snapshot


def _samples() -> list[Sample]:
    return [http("web-v1", "cart-v1", 90), http("web-v1", "cart-v1", 10, "503", flags="UF"),
            http("web-v1", "cart-v1", 5, "503"), http("web-v1", "pay-v1", 40, "404")]


def _edge(g: model.TrafficGraph, dst_workload: str) -> model.Edge:
    dst = next(n for n in g.nodes.values() if n.workload == dst_workload)
    return next(e for e in g.edges.values() if e.target == dst.id)


def test_breakdown_read_after_build_is_shares_of_the_edge_rate() -> None:
    cart = _edge(build(snapshot(_samples())), "cart-v1")
    assert cart.rate == pytest.approx(105)
    assert set(cart.responses) == {"200", "503"}
    assert cart.responses["503"].flags == {"UF": pytest.approx(10 / 105 * 100), "-": pytest.approx(5 / 105 * 100)}
    assert cart.responses["200"].hosts == {"cart.shop.svc.cluster.local": pytest.approx(90 / 105 * 100)}
    # read twice, the same objects: a change made through them stays
    cart.responses["200"].flags["-"] = 1.0
    assert cart.responses["200"].flags["-"] == 1.0


def test_breakdown_can_be_replaced_and_compared_like_a_field() -> None:
    g = build(snapshot(_samples()))
    cart = _edge(g, "cart-v1")
    mine = {"204": model.ResponseDetail({"-": 100.0}, {})}
    cart.responses = mine
    assert cart.responses is mine
    copy = dataclasses.replace(cart)
    assert copy == cart and copy.responses == mine
    assert dataclasses.asdict(cart)["responses"] == {"204": {"flags": {"-": 100.0}, "hosts": {}}}
    plain = model.Edge("x", "a", "b", "http")
    assert plain.responses == {}
    given = model.Edge("x", "a", "b", "http", responses=mine)
    assert given.responses is mine


def test_health_from_the_raw_breakdown_matches_health_from_a_made_one() -> None:
    g1 = build(snapshot(_samples()))
    g2 = build(snapshot(_samples()))
    for e in g2.edges.values():
        e.responses  # noqa: B018 - made before health is looked at again below
    pay1, pay2 = _edge(g1, "pay-v1"), _edge(g2, "pay-v1")
    assert pay1.code_rates() == pay2.code_rates() == {"404": pytest.approx(40)}
    assert pay1.health is not None and pay1.health.status == model.FAILURE  # all 4xx: over 20 %


def test_ids_are_the_same_remembered_or_hashed_afresh() -> None:
    first = build(snapshot(_samples()))
    model.clear_id_caches()
    again = build(snapshot(_samples()))
    assert sorted(first.nodes) == sorted(again.nodes)
    assert sorted(first.edges) == sorted(again.edges)
    n = next(n for n in again.nodes.values() if n.workload == "cart-v1")
    key = "\x1f".join((n.node_type, n.cluster, n.namespace, n.workload, n.app, n.version, n.service,
                       n.aggregate, n.aggregate_value, ""))
    assert n.id == hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def test_fast_constructors_make_what_the_dataclass_constructors_make() -> None:
    raw = {"200": {"-": 9.0}, "503": {"UF": 1.0}}
    hosts = {"200": {"h": 9.0}, "503": {"h": 1.0}}
    fast = model.lazy_edge("e", "a", "b", "http", {"http": 10.0}, raw, hosts, 10.0, 1.5, None, 100.0, "d", "s", False)
    slow = model.Edge("e", "a", "b", "http", {"http": 10.0}, model.LAZY_RESPONSES, 1.5, None, 100.0, "d", "s", False)
    slow._raw_responses, slow._raw_hosts, slow._raw_total = raw, hosts, 10.0  # type: ignore[misc]
    assert list(vars(fast)) == list(vars(slow))
    assert fast.code_rates() == slow.code_rates()
    assert fast == slow and dataclasses.asdict(fast) == dataclasses.asdict(slow)
    bare = model.lazy_edge("e", "a", "b", "tcp", {}, None, None, 0.0, None, None, None, "", "", True)
    assert vars(bare) == vars(model.Edge("e", "a", "b", "tcp", responses=model.LAZY_RESPONSES, is_idle=True))
    assert bare.responses == {} and bare.code_rates() == {}
    ds = [model.DestService("c", "ns", "svc")]
    node = model.plain_node("n", "app", "c", "ns", "", "svc", "v1", "", "", "", ds, {"http": {"httpIn": 1.0}})
    plain = model.Node("n", "app", "c", "ns", "", "svc", "v1", "", "", "", "", None, ds, {"http": {"httpIn": 1.0}})
    assert list(vars(node).items()) == list(vars(plain).items())


def test_reasons_written_on_first_read_read_like_given_ones() -> None:
    calls: list[object] = []

    def write(what: list[str]) -> list[str]:
        calls.append(what)
        return [f"reason {w}" for w in what]

    h = model.pending_health(model.FAILURE, 0.5, write, ["a", "b"])
    assert not calls
    assert h == model.Health(model.FAILURE, 0.5, ["reason a", "reason b"])
    assert h.reasons is h.reasons and len(calls) == 1
    h.reasons.append("more")
    assert dataclasses.asdict(h)["reasons"] == ["reason a", "reason b", "more"]
    h.reasons = ["x"]
    assert dataclasses.replace(h).reasons == ["x"]


def test_adding_edges_at_once_makes_the_topology_one_by_one_makes() -> None:
    from meshdesk.mesh.request import GraphRequest

    nodes = [model.Node(i, "app") for i in ("a", "b", "c")]
    edges = [model.Edge(f"{s}{t}{p}", s, t, p) for s, t, p in
             (("a", "b", "http"), ("a", "b", "tcp"), ("b", "c", "http"), ("c", "a", "grpc"), ("c", "c", "http"),
              ("a", "x", "http"))]
    at_once = model.TrafficGraph(GraphRequest())
    at_once.add_all(nodes, edges + edges[:2])
    one_by_one = model.TrafficGraph(GraphRequest())
    for n in nodes:
        one_by_one.add_node(n)
    for e in edges:
        one_by_one.add_edge(e)
    for g in (at_once, one_by_one):
        assert list(g.nx.nodes) == ["a", "b", "c", "x"]
    assert list(at_once.nx.edges(keys=True, data=True)) == list(one_by_one.nx.edges(keys=True, data=True))
    assert list(at_once.nx.in_edges("b", keys=True)) == list(one_by_one.nx.in_edges("b", keys=True))
    assert at_once.nx.succ == one_by_one.nx.succ and at_once.nx.pred == one_by_one.nx.pred
    assert at_once.nx._succ["a"]["b"] is at_once.nx._pred["b"]["a"]  # one key dict, as add_edge shares it
    assert [e.id for e in at_once.in_edges("b")] == ["abhttp", "abtcp"]
