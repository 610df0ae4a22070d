"""What every pass may read while a graph is built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.graph.traffic import SampleIndex
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample, SampleWarnings


@dataclass
class PassContext:
    request: GraphRequest
    samples: list[Sample]
    index: SampleIndex
    inventory: Inventory | None = None
    warnings: SampleWarnings = field(default_factory=SampleWarnings)
    notes: list[str] = field(default_factory=list)  # non-sample warnings (e.g. unknown appender names)
    caches: dict[str, dict[Any, Any]] = field(default_factory=dict)  # label-set decisions, per build
    # a graph of several namespaces: the namespace whose map built each edge (by id), before the
    # maps were merged, for passes that read what that map would have read (throughput)
    edge_maps: dict[int, str] = field(default_factory=dict)

    @property
    def namespaces(self) -> tuple[str, ...]:
        if self.request.node is not None:
            return (self.request.node.namespace,)
        return self.request.namespaces


def inventory_cluster(inventory: Inventory | None, clusters: Iterable[str]) -> Callable[[str], bool]:
    """Whether what ``inventory`` holds is about a node of a given cluster. The inventory is read from
    one cluster: when that cluster's name is among the telemetry's ``clusters`` beside others (a
    shared Prometheus), a node of another cluster is not looked up in it (Kiali looks a node up in
    its own cluster). When the telemetry does not name it (Istio's cluster id is not the name
    meshdesk knows the cluster by) or names no other, every node is."""
    named = {c for c in clusters if c and c != "unknown"}
    own = inventory.cluster if inventory is not None else ""
    if not own or own not in named or len(named) < 2:
        return lambda _cluster: True
    return lambda cluster: cluster == own


def inventory_lookup(inventory: Inventory | None, clusters: Iterable[str]) -> Callable[[str], str | None]:
    """For a node's cluster, the cluster whose objects in ``inventory`` it is looked up among (an object's
    own ``cluster``, else the inventory's), or None when the inventory holds nothing of it.

    An inventory read from one cluster answers for the nodes ``inventory_cluster`` gives it. One merged
    from several clusters (its objects name theirs) answers for each of them with that cluster's objects
    alone, as Kiali looks a node up in its own cluster; a node of a cluster it does not name is taken as
    the inventory's own cluster's when ``inventory_cluster`` says so."""
    if inventory is None:
        return lambda _cluster: None
    home = inventory.cluster
    held = {w.cluster or home for w in inventory.workloads} | {n.cluster or home for n in inventory.namespaces} \
        | {o.cluster or home for o in inventory.istio}
    ours = inventory_cluster(inventory, clusters)
    several = len(held) > 1
    return lambda cluster: cluster if several and cluster in held else (home if ours(cluster) else None)
