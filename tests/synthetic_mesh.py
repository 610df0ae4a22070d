"""A synthetic but mesh-shaped traffic graph for canvas tests and benchmarks: namespaces of tiered
services (ingress -> frontends -> backends -> data stores), mostly calling the next tier of their own
namespace, some calls skipping a tier or crossing namespaces, a few calling back (cycles)."""

from __future__ import annotations

import random

from meshdesk.mesh.graph.model import (
    NODE_APP,
    NODE_SERVICE,
    NODE_WORKLOAD,
    Edge,
    Health,
    Node,
    TrafficGraph,
    edge_id,
    node_id,
)
from meshdesk.mesh.request import GraphRequest

TIERS = 6


def mesh_shape(n_nodes: int, n_edges: int, seed: int = 7, per_namespace: int = 40) -> tuple[
    list[tuple[str, str, int]], list[tuple[int, int]]
]:
    """``(namespace, name, tier)`` per node and ``(source index, target index)`` edges."""
    rnd = random.Random(seed)
    nodes: list[tuple[str, str, int]] = []
    by_ns_tier: dict[tuple[int, int], list[int]] = {}
    n_ns = max(1, n_nodes // per_namespace)
    for i in range(n_nodes):
        ns = i % n_ns
        k = i // n_ns
        tier = 0 if k == 0 else 1 + (k % (TIERS - 1))
        nodes.append((f"ns-{ns}", f"svc-{k}", tier))
        by_ns_tier.setdefault((ns, tier), []).append(i)
    edges: set[tuple[int, int]] = set()
    # every non-root node gets one caller from the tier before, so the graph is connected per namespace
    for i, (ns_name, _name, tier) in enumerate(nodes):
        if tier == 0:
            continue
        ns = int(ns_name.split("-")[1])
        callers = by_ns_tier.get((ns, tier - 1)) or by_ns_tier[(ns, 0)]
        edges.add((rnd.choice(callers), i))
    tries = 0
    while len(edges) < n_edges and tries < n_edges * 20:
        tries += 1
        a = rnd.randrange(n_nodes)
        ns_a, _, ta = nodes[a]
        ns = int(ns_a.split("-")[1])
        if rnd.random() < 0.1:
            ns = rnd.randrange(n_ns)
        roll = rnd.random()
        step = 1 if roll < 0.8 else (2 if roll < 0.95 else -1)
        cands = by_ns_tier.get((ns, ta + step))
        if not cands:
            continue
        b = rnd.choice(cands)
        if a != b:
            edges.add((a, b))
    return nodes, sorted(edges)


def traffic_graph(n_nodes: int, n_edges: int, seed: int = 7, rate_scale: float = 1.0) -> TrafficGraph:
    """A TrafficGraph of that shape: workloads, apps and services with HTTP (and some TCP) edges."""
    shape, pairs = mesh_shape(n_nodes, n_edges, seed)
    rnd = random.Random(seed + 1)
    g = TrafficGraph(request=GraphRequest(graphType="versionedApp", namespaces=tuple(sorted({s[0] for s in shape}))))
    ids: list[str] = []
    kinds = (NODE_APP, NODE_SERVICE, NODE_WORKLOAD)
    for i, (ns, name, tier) in enumerate(shape):
        kind = kinds[i % 3]
        if kind == NODE_SERVICE:
            nid = node_id(kind, "Kubernetes", ns, service=name)
            node = Node(nid, kind, "Kubernetes", ns, service=name)
        elif kind == NODE_APP:
            nid = node_id(kind, "Kubernetes", ns, app=name, version="v1")
            node = Node(nid, kind, "Kubernetes", ns, app=name, version="v1")
        else:
            nid = node_id(kind, "Kubernetes", ns, workload=name)
            node = Node(nid, kind, "Kubernetes", ns, workload=name)
        node.is_root = tier == 0
        node.health = Health(status=rnd.choice(("Healthy", "Healthy", "Healthy", "Degraded", "Failure")))
        g.add_node(node)
        ids.append(nid)
    for a, b in pairs:
        proto = "tcp" if rnd.random() < 0.1 else "http"
        e = Edge(edge_id(ids[a], ids[b], proto), ids[a], ids[b], proto)
        rate = round(rnd.uniform(0.1, 50.0) * rate_scale, 2)
        e.rates = {proto: rate}
        if proto == "http":
            e.rates["http5xx"] = round(rate * rnd.choice((0.0, 0.0, 0.02, 0.3)), 3)
            e.response_time = round(rnd.uniform(2, 400), 1)
        e.throughput = rate * 1000
        e.is_mtls = 100.0 if rnd.random() < 0.7 else 0.0
        g.add_edge(e)
    return g
