"""The traffic graph's typed model. networkx holds the topology; these classes hold the facts.

Vocabulary is Kiali's: node types ``app``, ``workload``, ``service``, ``unknown``, ``aggregate``
(operation) and ``box``; rates named like Kiali's (``http``, ``httpPercentReq``, ``http5xx``,
``grpcErr``, ``tcp``, ...). ``meshdesk.mesh.export`` turns this into Kiali's graph JSON.

Contract for the rest of the app (canvas, panels, layouts): ``Node.id`` and ``Edge.id`` are
deterministic functions of identity, stable across refreshes and processes, so the UI can apply
differences and saved layouts can find nodes again. Fields may be added; none is renamed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import networkx as nx

from meshdesk.mesh.request import GraphRequest

NODE_APP = "app"
NODE_WORKLOAD = "workload"
NODE_SERVICE = "service"
NODE_UNKNOWN = "unknown"
NODE_AGGREGATE = "aggregate"  # an operation node (request_operation)
NODE_BOX = "box"

BOX_CLUSTER = "cluster"
BOX_NAMESPACE = "namespace"
BOX_APP = "app"

UNKNOWN = "unknown"
PASSTHROUGH = "PassthroughCluster"
BLACKHOLE = "BlackHoleCluster"

HEALTHY = "Healthy"
DEGRADED = "Degraded"
FAILURE = "Failure"
NO_HEALTH = "NA"  # the status's value (Kiali's too: exports and snapshots keep it)
NOT_READY = "Not Ready"  # a workload scaled to zero (Kiali's status)
NO_HEALTH_TEXT = "n/a"  # how no health is shown, as Kiali shows it


def health_text(status: str | None) -> str:
    """A health status as users read it: no health at all (none, "" or NA) is "n/a", as in Kiali."""
    return NO_HEALTH_TEXT if not status or status == NO_HEALTH else status

_new = object.__new__


# Ids are a pure function of identity, and a refresh rebuilds the same graph every few seconds:
# remembering them per process saves hashing every node and edge again. Bounded: emptied when full
# (dict operations are atomic, so builds in several threads may share it).
_ID_CACHE_LIMIT = 200_000
_node_ids: dict[tuple[str, ...], str] = {}
_edge_ids: dict[tuple[str, str, str], str] = {}


def node_id(
    node_type: str,
    cluster: str = "",
    namespace: str = "",
    workload: str = "",
    app: str = "",
    version: str = "",
    service: str = "",
    aggregate: str = "",
    aggregate_value: str = "",
    box: str = "",
) -> str:
    """A stable id for a node identity (short and opaque; the same identity always gives the same id)."""
    ident = (node_type, cluster, namespace, workload, app, version, service, aggregate, aggregate_value, box)
    nid = _node_ids.get(ident)
    if nid is None:
        nid = hashlib.blake2b("\x1f".join(ident).encode("utf-8"), digest_size=12).hexdigest()
        if len(_node_ids) >= _ID_CACHE_LIMIT:
            _node_ids.clear()
        _node_ids[ident] = nid
    return nid


def edge_id(source: str, target: str, protocol: str) -> str:
    ident = (source, target, protocol)
    eid = _edge_ids.get(ident)
    if eid is None:
        eid = hashlib.blake2b(f"{source}>{target}>{protocol}".encode(), digest_size=12).hexdigest()
        if len(_edge_ids) >= _ID_CACHE_LIMIT:
            _edge_ids.clear()
        _edge_ids[ident] = eid
    return eid


# the remembered ids, looked up by ``node_id``'s ten arguments (as a tuple, in order) or by ``edge_id``'s
# (source, target, protocol): None when not remembered (the caller then calls ``node_id``/``edge_id``).
# Saves a call per node and edge where thousands are made at once.
known_node_id = _node_ids.get
known_edge_id = _edge_ids.get


def clear_id_caches() -> None:
    """Forget remembered ids (benchmarks use it to time a first build honestly)."""
    _node_ids.clear()
    _edge_ids.clear()


@dataclass(frozen=True)
class DestService:
    cluster: str
    namespace: str
    name: str


@dataclass(frozen=True)
class ServiceEntryInfo:
    """Set on a service node that stands for a ServiceEntry host (Kiali's ``isServiceEntry``)."""

    location: str  # "MESH_EXTERNAL" or "MESH_INTERNAL"
    hosts: tuple[str, ...] = ()
    name: str = ""  # the ServiceEntry object's name
    namespace: str = ""


@dataclass
class Health:
    """Health verdict with the numbers behind it."""

    status: str = NO_HEALTH  # Healthy / Degraded / Failure / Not Ready / NA
    error_ratio: float = 0.0  # worst error share over the checked code classes, 0..1
    reasons: list[str] = field(default_factory=list)
    # storage behind the ``reasons`` property (not fields): the written reasons, or what to write them
    # from and how
    _reasons: ClassVar[Any]
    _pending: ClassVar[Any]
    _write: ClassVar[Any]


# ``Health.reasons`` may be written on first read: a build has thousands of reasons (one per tolerance
# past its threshold, per node and edge) and formatting their numbers was a tenth of the health pass,
# while only a tooltip or a panel ever shows them. ``pending_health`` makes such a Health; a value given
# to the constructor or assigned is kept as it is, like any other field.
def pending_health(status: str, error_ratio: float, write: Callable[[Any], list[str]], what: Any) -> Health:
    """A Health whose ``reasons`` are ``write(what)``, called when they are first read. (Give ``what``
    as plain data, e.g. a dict of strings to floats, which the cyclic garbage collector never tracks:
    thousands of tuples or lists kept until read would make its passes longer.)"""
    h = _new(Health)
    h.status = status
    h.error_ratio = error_ratio
    h._reasons = None  # type: ignore[misc]
    h._pending = what  # type: ignore[misc]
    h._write = write  # type: ignore[misc]
    return h


def _get_reasons(self: Health) -> list[str]:
    made: list[str] | None = self._reasons
    if made is None:
        written: list[str] = self._write(self._pending)
        self._reasons = written  # type: ignore[misc]
        self._pending = self._write = None  # type: ignore[misc]
        return written
    return made


def _set_reasons(self: Health, value: list[str]) -> None:
    self._reasons = value  # type: ignore[misc]
    self._pending = self._write = None  # type: ignore[misc]


Health.reasons = property(_get_reasons, _set_reasons)  # type: ignore[assignment]


@dataclass
class Node:
    id: str
    node_type: str
    cluster: str = ""
    namespace: str = ""
    workload: str = ""
    app: str = ""
    version: str = ""
    service: str = ""
    aggregate: str = ""  # e.g. "request_operation"
    aggregate_value: str = ""  # e.g. "GET /api/v1/products"
    box: str = ""  # for box nodes: cluster / namespace / app
    parent: str | None = None  # id of the enclosing box node
    dest_services: list[DestService] = field(default_factory=list)
    # protocol -> rate name -> value, e.g. {"http": {"httpIn": 20.0, "httpIn5xx": 2.0, "httpOut": 5.0}}
    traffic: dict[str, dict[str, float]] = field(default_factory=dict)
    is_inaccessible: bool = False
    is_outside: bool = False
    is_root: bool = False
    is_idle: bool = False
    is_dead: bool = False
    is_egress_cluster: bool = False
    is_service_entry: ServiceEntryInfo | None = None
    has_missing_sidecar: bool = False  # Kiali: hasMissingSC
    has_virtual_service: bool = False
    has_destination_rule: bool = False
    is_gateway: bool = False
    is_injected: bool = False  # a service node injected between a source and the workloads behind it
    health: Health | None = None
    health_annotation: str = ""  # the workload's health.kiali.io/rate annotation, if any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """What the canvas writes under the shape."""
        if self.node_type == NODE_AGGREGATE:
            return self.aggregate_value
        if self.node_type == NODE_BOX:
            return {BOX_CLUSTER: self.cluster, BOX_NAMESPACE: self.namespace}.get(self.box, self.app)
        if self.node_type == NODE_SERVICE:
            return self.service
        if self.node_type == NODE_WORKLOAD:
            return self.workload
        if self.node_type == NODE_APP:
            return f"{self.app} {self.version}".strip()
        return UNKNOWN


@dataclass
class ResponseDetail:
    """One response code on an edge: share of requests (percent) by response flags and by host."""

    flags: dict[str, float] = field(default_factory=dict)
    hosts: dict[str, float] = field(default_factory=dict)


@dataclass
class Edge:
    id: str
    source: str
    target: str
    protocol: str  # http / grpc / tcp
    # Kiali's rate names: http, httpPercentReq, http3xx, http4xx, http5xx, httpNoResponse,
    # httpPercentErr; grpc, grpcPercentReq, grpcErr, grpcNoResponse, grpcPercentErr; tcp
    rates: dict[str, float] = field(default_factory=dict)
    responses: dict[str, ResponseDetail] = field(default_factory=dict)  # code -> detail
    response_time: float | None = None  # ms, at the request's quantile
    throughput: float | None = None  # bytes per second
    is_mtls: float | None = None  # percent of traffic with mutual TLS, 0..100
    dest_principal: str = ""
    source_principal: str = ""
    is_idle: bool = False
    health: Health | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # storage behind the ``responses`` property (not fields): the made breakdown, or the raw one
    _responses: ClassVar[Any]
    _raw_responses: ClassVar[Any]
    _raw_hosts: ClassVar[Any]
    _raw_total: ClassVar[float]

    @property
    def rate(self) -> float:
        """Total request (or byte, for TCP) rate on the edge."""
        return self.rates.get(self.protocol, 0.0)

    def code_rates(self) -> dict[str, float]:
        """Per response code, the rate of requests that carried response flags (what health reads):
        from the raw breakdown while ``responses`` has not been made, else from ``responses``."""
        total = self.rate
        if total <= 0:
            return {}
        raw = self._raw_responses
        if raw is not None:
            out: dict[str, float] = {}
            t = self._raw_total
            for code, flags in raw.items():
                # the same arithmetic as going through the percentages of ``responses``
                out[code] = sum([v / t * 100.0 for v in flags.values()]) / 100.0 * total
            return out
        return {code: sum(r.flags.values()) / 100.0 * total for code, r in self.responses.items()}


# ``Edge.responses`` is made on first read: most edges' breakdowns are never looked at, and a large
# graph has one ResponseDetail (two dicts) per code per edge. An edge made with ``LAZY_RESPONSES`` as
# the constructor argument (or by ``lazy_edge``, as ``finalize`` does) keeps ``_raw_responses`` (code ->
# flags -> rate), ``_raw_hosts`` (code -> host -> rate) and ``_raw_total`` (what the shares are of) until
# then; a value given to the constructor or assigned is kept as it is, like any other field.
LAZY_RESPONSES: Any = object()


def responses_of(raw: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], float]
                 ) -> dict[str, ResponseDetail]:
    """The breakdown as shares (percent) of the total, from raw rates (one ResponseDetail per code)."""
    by_flags, by_hosts, total = raw
    out: dict[str, ResponseDetail] = {}
    for code, flags in by_flags.items():
        shares: dict[str, float] = {}
        for f, v in flags.items():
            shares[f] = v / total * 100.0
        host_shares: dict[str, float] = {}
        hosts = by_hosts.get(code)
        if hosts:
            for h, v in hosts.items():
                host_shares[h] = v / total * 100.0
        out[code] = ResponseDetail(shares, host_shares)
    return out


def _get_responses(self: Edge) -> dict[str, ResponseDetail]:
    made: dict[str, ResponseDetail] | None = self._responses
    if made is None:
        raw = self._raw_responses
        made = self._responses = (  # type: ignore[misc]
            responses_of((raw, self._raw_hosts, self._raw_total)) if raw is not None else {})
        self._raw_responses = self._raw_hosts = None  # type: ignore[misc]
    return made


def _set_responses(self: Edge, value: dict[str, ResponseDetail]) -> None:
    # plain attributes, always all and in this order (keeps instances' attribute storage compact); no
    # tuple around the raw parts, which would be one more object per edge for the garbage collector
    if value is LAZY_RESPONSES:
        self._responses = None  # type: ignore[misc]
    else:
        self._responses = value  # type: ignore[misc]
    self._raw_responses = self._raw_hosts = None  # type: ignore[misc]
    self._raw_total = 0.0  # type: ignore[misc]


Edge.responses = property(_get_responses, _set_responses)  # type: ignore[assignment]

def lazy_edge(eid: str, source: str, target: str, protocol: str, rates: dict[str, float],
              raw_responses: dict[str, dict[str, float]] | None, raw_hosts: dict[str, dict[str, float]] | None,
              raw_total: float, response_time: float | None, throughput: float | None, is_mtls: float | None,
              dest_principal: str, source_principal: str, is_idle: bool) -> Edge:
    """An ``Edge`` whose ``responses`` will be made on first read from ``raw_responses`` (code -> flags
    -> rate; None: no breakdown, then ``raw_hosts`` None and ``raw_total`` 0.0), ``raw_hosts`` (code ->
    host -> rate) and ``raw_total`` (what the shares are of), with ``health`` None and an empty
    ``extra``. Equal to ``Edge(..., responses=LAZY_RESPONSES)`` with the raw parts set afterwards, its
    attributes set in the same order, but without the generated ``__init__`` and the property setter
    (``finalize`` makes thousands per build)."""
    e = _new(Edge)
    e.id = eid
    e.source = source
    e.target = target
    e.protocol = protocol
    e.rates = rates
    e._responses = None  # type: ignore[misc]
    e._raw_responses = raw_responses  # type: ignore[misc]
    e._raw_hosts = raw_hosts  # type: ignore[misc]
    e._raw_total = raw_total  # type: ignore[misc]
    e.response_time = response_time
    e.throughput = throughput
    e.is_mtls = is_mtls
    e.dest_principal = dest_principal
    e.source_principal = source_principal
    e.is_idle = is_idle
    e.health = None
    e.extra = {}
    return e


def plain_node(nid: str, node_type: str, cluster: str, namespace: str, workload: str, app: str, version: str,
               service: str, aggregate: str, aggregate_value: str, dest_services: list[DestService],
               traffic: dict[str, dict[str, float]]) -> Node:
    """A ``Node`` with these fields and every other field at its default: what ``Node(...)`` with the
    same arguments gives, attributes set in the same order, without the generated ``__init__``."""
    n = _new(Node)
    n.id = nid
    n.node_type = node_type
    n.cluster = cluster
    n.namespace = namespace
    n.workload = workload
    n.app = app
    n.version = version
    n.service = service
    n.aggregate = aggregate
    n.aggregate_value = aggregate_value
    n.box = ""
    n.parent = None
    n.dest_services = dest_services
    n.traffic = traffic
    n.is_inaccessible = False
    n.is_outside = False
    n.is_root = False
    n.is_idle = False
    n.is_dead = False
    n.is_egress_cluster = False
    n.is_service_entry = None
    n.has_missing_sidecar = False
    n.has_virtual_service = False
    n.has_destination_rule = False
    n.is_gateway = False
    n.is_injected = False
    n.health = None
    n.health_annotation = ""
    n.extra = {}
    return n


def _plain_multidigraph(g: nx.MultiDiGraph) -> bool:
    """Does ``g`` keep its adjacency in plain dicts the way networkx's MultiDiGraph does by default
    (so that ``TrafficGraph.add_all`` may fill them directly)?"""
    return (g.adjlist_inner_dict_factory is dict and g.edge_key_dict_factory is dict
            and g.edge_attr_dict_factory is dict and g.node_attr_dict_factory is dict and g._adj is g._succ
            and hasattr(nx, "_clear_cache"))


@dataclass(frozen=True)
class HealthBasis:
    """What the health pass judged a graph from, kept so that an export can write the numbers behind
    the verdicts (Kiali's ``healthData``) when asked, rather than every build making them."""

    inventory: Any = None  # the Inventory the pass read (pods, annotations), None without one
    # the graph whose edges the pass read: a service graph's before its reduction to service-to-service
    # edges (its nodes keep their ids), None for the graph itself (no reference cycle)
    judged: TrafficGraph | None = None
    # the configured tolerances it judged by (Kiali's health_config.rate, compiled: HealthRate), () = defaults
    rates: tuple[Any, ...] = ()


@dataclass
class TrafficGraph:
    """Nodes and edges keyed by id, with a networkx DiGraph over the ids for topology questions."""

    request: GraphRequest
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timestamp: int = 0
    nx: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)
    ambient_namespaces: frozenset[str] = frozenset()  # Istio ambient namespaces the build saw
    # an inventory merged from several clusters: for such a namespace, the clusters where one of its
    # name is not ambient (``ambient_in``; ``ambient.sidecar_clusters``)
    sidecar_clusters: dict[str, frozenset[str]] = field(default_factory=dict)
    # the validations of the inventory the graph was built with, when whoever built it made them
    # (the window's poller does, off the UI thread), keyed (kind, namespace, name)
    validations: dict[Any, Any] | None = None
    # for an app or service graph, which cannot tell a workload's (or an app's) own requests apart: a
    # versioned-app graph of the same telemetry, whose health the Workloads, Apps and Services lists
    # show, so that what they say does not change with the graph type (as Kiali's lists)
    list_health: TrafficGraph | None = None
    # set when the health pass (Kiali's health appender) ran on the graph, None when it did not
    health_basis: HealthBasis | None = None
    # the clusters its nodes name, worked out when first asked (``clusters``) and forgotten when a node is
    # added or removed: every selection asked it of all of a big mesh's nodes, several times
    _clusters: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    def clusters(self) -> frozenset[str]:
        """The clusters the graph's nodes (not its boxes) name, other than "unknown" and none."""
        if self._clusters is None:
            self._clusters = frozenset(n.cluster for n in self.nodes.values()
                                       if n.node_type != NODE_BOX and n.cluster and n.cluster != UNKNOWN)
        return self._clusters

    def ambient_in(self, namespace: str, cluster: str) -> bool:
        """Whether ``namespace`` is in ambient mode in ``cluster`` as the build saw it (a namespace of
        that name in sidecar mode in another cluster does not make this one's ambient)."""
        return namespace in self.ambient_namespaces and cluster not in self.sidecar_clusters.get(namespace, ())

    def add_node(self, node: Node) -> Node:
        existing = self.nodes.get(node.id)
        if existing is not None:
            return existing
        self.nodes[node.id] = node
        self._clusters = None
        self.nx.add_node(node.id)
        return node

    def add_edge(self, edge: Edge) -> Edge:
        existing = self.edges.get(edge.id)
        if existing is not None:
            return existing
        self.edges[edge.id] = edge
        self.nx.add_edge(edge.source, edge.target, key=edge.id)
        return edge

    def add_all(self, nodes: list[Node], edges: list[Edge]) -> None:
        """Add many nodes and edges at once (much faster than one by one for large graphs); ids already
        present are kept as they are, like ``add_node``/``add_edge``."""
        # (into an empty graph, as finalize does, every one is new)
        new_nodes = [n for n in nodes if n.id not in self.nodes] if self.nodes else nodes
        self._clusters = None
        for n in new_nodes:
            self.nodes[n.id] = n
        new_edges = [e for e in edges if e.id not in self.edges] if self.edges else edges
        for e in new_edges:
            self.edges[e.id] = e
        g = self.nx
        if type(g) is nx.MultiDiGraph and _plain_multidigraph(g):
            # what add_nodes_from and add_edge do for nodes and edges without attributes, written out
            # (a networkx call per edge was a fifth of finalize's time): a node has empty successor,
            # predecessor and attribute dicts; an edge's (source, target) key dict is shared by the
            # successor and the predecessor maps, its data an empty dict; endpoints not yet nodes go
            # through add_edge, which adds them
            succ, pred, attrs = g._succ, g._pred, g._node
            for n in new_nodes:
                nid = n.id
                if nid not in attrs:
                    succ[nid] = {}
                    pred[nid] = {}
                    attrs[nid] = {}
            add_edge = g.add_edge
            for e in new_edges:
                u, v = e.source, e.target
                out = succ.get(u)
                if out is None or v not in succ:
                    add_edge(u, v, e.id)
                    continue
                keydict = out.get(v)
                if keydict is None:
                    out[v] = pred[v][u] = {e.id: {}}
                elif e.id not in keydict:
                    keydict[e.id] = {}
            nx._clear_cache(g)
            return
        g.add_nodes_from(n.id for n in new_nodes)
        # one add_edge per edge: add_edges_from takes a (u, v, key) triple's key for a data dict first
        # and recovers from the error, which made it three times slower
        add_edge = g.add_edge
        for e in new_edges:
            add_edge(e.source, e.target, e.id)

    def remove_node(self, nid: str) -> None:
        for eid in [e.id for e in self.edges_of(nid)]:
            self.remove_edge(eid)
        self.nodes.pop(nid, None)
        self._clusters = None
        if self.nx.has_node(nid):
            self.nx.remove_node(nid)

    def remove_edge(self, eid: str) -> None:
        edge = self.edges.pop(eid, None)
        if edge is not None and self.nx.has_edge(edge.source, edge.target, eid):
            self.nx.remove_edge(edge.source, edge.target, eid)

    def out_edges(self, nid: str) -> Iterator[Edge]:
        if self.nx.has_node(nid):
            for _, _, key in self.nx.out_edges(nid, keys=True):
                yield self.edges[key]

    def in_edges(self, nid: str) -> Iterator[Edge]:
        if self.nx.has_node(nid):
            for _, _, key in self.nx.in_edges(nid, keys=True):
                yield self.edges[key]

    def edges_of(self, nid: str) -> list[Edge]:
        return list(self.in_edges(nid)) + list(self.out_edges(nid))

    def find_node(self, **identity: str) -> Node | None:
        """First node whose fields equal all of ``identity`` (e.g. ``node_type="service", service="reviews"``)."""
        for n in self.nodes.values():
            if all(getattr(n, k) == v for k, v in identity.items()):
                return n
        return None

    @property
    def is_empty(self) -> bool:
        return not self.edges
