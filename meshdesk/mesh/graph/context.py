"""What every pass may read while a graph is built."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from meshdesk.mesh.graph.traffic import SampleIndex
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample, SampleWarnings


class Node(Protocol):
    """Anything placed in a cluster (a traffic map's node, a graph's node)."""

    @property
    def cluster(self) -> str: ...


N = TypeVar("N", bound=Node)


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
    held = _held(inventory)
    ours = inventory_cluster(inventory, clusters)
    # (its own cluster could not be read, the others of its mesh were: it holds only theirs, and a node of its
    # own cluster is looked up in none, as a node of a linked cluster down is)
    several = len(held) > 1 or home in inventory.unread_clusters
    return lambda cluster: cluster if several and cluster in held else \
        None if home in inventory.unread_clusters else (home if ours(cluster) else None)


def merged(inventory: Inventory) -> bool:
    """Whether an inventory is merged from several clusters (its objects name more than one)."""
    return len(_held(inventory)) > 1


def _held(inventory: Inventory) -> set[str]:
    home = inventory.cluster
    return {w.cluster or home for w in inventory.workloads} | {n.cluster or home for n in inventory.namespaces} \
        | {o.cluster or home for o in inventory.istio}


def _part(inventory: Inventory, cluster: str) -> Inventory:
    """What an inventory merged from several clusters holds of one of them (its objects naming that
    cluster, or none when it is the inventory's own), as an inventory of that cluster alone."""
    home = inventory.cluster

    def of(objects: list[Any]) -> list[Any]:
        return [o for o in objects if (o.cluster or home) == cluster]

    part = replace(inventory, cluster=cluster, namespaces=of(inventory.namespaces), workloads=of(inventory.workloads),
                   services=of(inventory.services), istio=of(inventory.istio),
                   outside_gateways=of(inventory.outside_gateways),
                   outside_gateway_configs=of(inventory.outside_gateway_configs),
                   k8s_gateways=of(inventory.k8s_gateways), outside_config=of(inventory.outside_config),
                   # what that cluster would not let be read, not another's
                   hidden=dict(inventory.hidden) if cluster == home else dict(inventory.linked_hidden.get(cluster, {})),
                   linked_hidden={},
                   # what the shown cluster does not serve; another's is not kept (not known)
                   not_served=inventory.not_served if cluster == home else None)
    own = inventory.linked_mesh_configs.get(cluster) if cluster != home else None
    if own is not None:
        # another cluster's istiod configures its proxies by its own mesh config (automatic mTLS...)
        part = replace(part, mesh_settings=own.mesh_settings, revision_settings=dict(own.revision_settings),
                       revision_tags=dict(own.revision_tags))
    return part


def inventory_part(inventory: Inventory | None, clusters: Iterable[str]) -> Callable[[str], Inventory | None]:
    """For a node's cluster, the inventory it is judged by: the part of ``inventory`` its own cluster's
    objects make (``inventory_lookup``), as Kiali reads a node's objects in the node's cluster; None when
    the inventory holds nothing of that cluster. An inventory of one cluster is its own only part, so
    its nodes are judged by it as they always were."""
    if inventory is None:
        return lambda _cluster: None
    lookup = inventory_lookup(inventory, clusters)
    if len(_held(inventory)) <= 1 and inventory.cluster not in inventory.unread_clusters:
        return lambda cluster: inventory if lookup(cluster) is not None else None
    parts: dict[str, Inventory] = {}

    def part(cluster: str) -> Inventory | None:
        where = lookup(cluster)
        if where is None:
            return None
        found = parts.get(where)
        if found is None:
            found = parts[where] = _part(inventory, where)
        return found

    return part


def inventory_parts(inventory: Inventory, nodes: Iterable[N]) -> list[tuple[Inventory, list[N]]]:
    """The ``nodes`` grouped by the inventory each is judged by (``inventory_part``), in the order first
    met; a node of a cluster the inventory holds nothing of is in no group."""
    listed = list(nodes)
    part_of = inventory_part(inventory, {n.cluster for n in listed})
    groups: dict[int, tuple[Inventory, list[N]]] = {}
    for n in listed:
        part = part_of(n.cluster)
        if part is not None:
            group = groups.get(id(part))
            if group is None:
                group = groups[id(part)] = (part, [])
            group[1].append(n)
    return list(groups.values())
