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
