"""Kiali's extensions finalizer: the traffic of a configured extension (Skupper, for one) in the graph.

An extension reports its own traffic in ``kiali_ext_*`` series, labelled with plain names rather than
Istio's: ``source_cluster``/``source_namespace``/``source_name``, ``dest_cluster``/``dest_namespace``/
``dest_name``, whether the source is the extension's ``source_is_root`` (its entry point, e.g. the
Skupper router), ``secure``, ``flags``, and for requests ``protocol`` and ``status_code``. This pass
runs first among the finalizers, as Kiali's does, so the outsider, root and health passes see what it
adds. For each enabled extension (``request.extensions``, in order), its request series then its TCP
series:

- each end is the service node its cluster, namespace and name make, added when the graph has none;
  a root source the graph has no such node for is matched to a node of that namespace whose service,
  app or workload has the name (in that cluster first), and stays a new service node when none has;
- both ends are marked ``isExtension`` with the extension's name; a root's series also give both ends
  the extension's UI address, when a Service named as the root (or as the extension) in the root's
  namespace carries it in its ``extension.kiali.io/ui-url`` annotation;
- the edge of that source, destination and protocol gets the series' rate, once per time series:
  an extension may report the same traffic from both ends, and a second series with the same
  identity (metric, both ends, code, flags) on the same edge is not counted again. A new edge is 100%
  mutual TLS when its first series says ``secure="true"`` (an extension's traffic is taken as all
  or nothing).

Series lacking a label the pass needs are skipped and counted. Kiali also finds the UI address in an
OpenShift Route of those Services, which meshdesk does not read.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshdesk.mesh import telemetry
from meshdesk.mesh.graph.context import PassContext, inventory_lookup
from meshdesk.mesh.graph.trafficmap import (
    GRPC,
    HTTP,
    TCP,
    TEdge,
    TNode,
    TrafficMap,
    add_traffic,
    new_node,
    node_key,
)

UI_URL_ANNOTATION = "extension.kiali.io/ui-url"
IS_EXTENSION = "isExtension"  # node metadata: {"name": extension, "url": its UI (only when known)}

_ENDS = ("source_cluster", "source_is_root", "source_namespace", "source_name", "dest_cluster", "dest_namespace",
         "dest_name")
_REQUEST_LABELS = ("protocol", "status_code")


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    request = ctx.request
    if not request.extensions:
        return
    others = ctx.index.others
    wanted = telemetry.extension_metrics(request.rateHttp, request.rateGrpc, request.rateTcp)
    if not any(others.get(m) for m in wanted):
        return
    by_extension: dict[tuple[str, str], list[telemetry.Sample]] = {}
    for metric in wanted:
        for s in others.get(metric, ()):
            name = s.labels.get(telemetry.EXTENSION_LABEL)
            if name in request.extensions:
                by_extension.setdefault((name, metric), []).append(s)
    if not by_extension:
        return
    pass_ = _ExtensionPass(tm, ctx)
    for name in request.extensions:
        for metric in wanted:
            for s in by_extension.get((name, metric), ()):
                pass_.add_series(name, metric, s.labels, s.value)


class _ExtensionPass:
    def __init__(self, tm: TrafficMap, ctx: PassContext) -> None:
        self.tm = tm
        self.ctx = ctx
        self.graph_type = ctx.request.graphType
        self.skip_http = ctx.request.rateHttp != "requests"
        self.skip_grpc = ctx.request.rateGrpc != "requests"
        # per edge (by id), the time series already counted on it
        self.counted: dict[int, set[tuple[str, ...]]] = {}
        self._lookup = inventory_lookup(ctx.inventory, {n.cluster for n in tm.values()})

    def add_series(self, extension: str, metric: str, labels: Mapping[str, str], value: float) -> None:
        warn = self.ctx.warnings.add
        missing = next((label for label in _ENDS if label not in labels), None)
        if missing is not None:
            warn(f"{metric}: a series without a {missing} label")
            return
        flags = labels.get("flags", "")
        secure = labels.get("secure", "false")
        if metric == telemetry.EXT_REQUESTS:
            missing = next((label for label in _REQUEST_LABELS if label not in labels), None)
            if missing is not None:
                warn(f"{metric}: a series without a {missing} label")
                return
            protocol, code = labels["protocol"], labels["status_code"]
            if protocol == GRPC and self.skip_grpc or protocol == HTTP and self.skip_http:
                return
            if protocol not in (HTTP, GRPC):
                warn(f"{metric}: a series of a protocol other than http or grpc")
                return
        else:
            protocol, code = TCP, ""
        root = labels["source_is_root"] == "true"
        ends = (labels["source_cluster"], labels["source_namespace"], labels["source_name"])
        dest_ends = (labels["dest_cluster"], labels["dest_namespace"], labels["dest_name"])
        source = self._node(extension, root, *ends)
        if source is None:
            warn(f"{metric}: a series whose source names no node")
            return
        dest = self._node(extension, False, *dest_ends)
        if dest is None:
            warn(f"{metric}: a series whose destination names no node")
            return
        if root:
            url = self._ui_url(extension, source)
            if url is not None:
                info = {"name": extension, "url": url}
                source.md[IS_EXTENSION] = info
                dest.md[IS_EXTENSION] = dict(info)
        edge = self._edge(source, dest, protocol, secure)
        identity = (metric, *ends, *dest_ends, code, flags)
        seen = self.counted[id(edge)]
        if identity in seen:
            return  # the same series reported again (by the other end): counted once
        seen.add(identity)
        add_traffic(protocol, value, code, flags, labels["dest_name"], source.md, dest.md, edge.md)

    def _node(self, extension: str, root: bool, cluster: str, namespace: str, name: str) -> TNode | None:
        made = node_key(cluster, namespace, name, "", "", "", "", self.graph_type)
        if made is None:
            return None
        key, node_type = made
        node = self.tm.get(key)
        if node is None and root:
            node = self._root(cluster, namespace, name)
        if node is None:
            node = self.tm[key] = new_node(key, node_type, cluster, namespace, name, "", "", "", "", self.graph_type)
        node.md[IS_EXTENSION] = {"name": extension}
        return node

    def _root(self, cluster: str, namespace: str, name: str) -> TNode | None:
        """A node of the graph the root's labels stand for: of that namespace and named so as a
        service, app or workload; in the same cluster if there is one, else in any."""
        fallback: TNode | None = None
        for n in self.tm.values():
            if n.namespace == namespace and name in (n.service, n.app, n.workload):
                if n.cluster == cluster:
                    return n
                if fallback is None:
                    fallback = n
        return fallback

    def _ui_url(self, extension: str, root: TNode) -> str | None:
        """The extension's UI address from the annotation of the Service named as the root node (or as
        the extension) in the root's namespace and cluster; None when no such Service carries it."""
        inventory = self.ctx.inventory
        where = self._lookup(root.cluster)
        if inventory is None or where is None:
            return None
        home = inventory.cluster
        for name in (root.service or root.app, extension):
            if not name:
                continue
            for svc in inventory.services:
                if svc.name == name and svc.namespace == root.namespace and (svc.cluster or home) == where:
                    url = svc.annotations.get(UI_URL_ANNOTATION)
                    if url is not None:
                        return url
        return None

    def _edge(self, source: TNode, dest: TNode, protocol: str, secure: str) -> TEdge:
        edge = source.edges.get((dest.key, protocol))
        if edge is None:
            edge = source.add_edge(dest, protocol)
            if secure == "true":
                edge.md["isMTLS"] = 100.0
        if id(edge) not in self.counted:
            self.counted[id(edge)] = set()
        return edge
