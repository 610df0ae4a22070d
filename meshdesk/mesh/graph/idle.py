"""Appender: idle nodes - workloads and services of the requested namespaces that had no traffic.

Runs when ``request.includeIdleNodes`` is set (or "idleNode" is asked for explicitly) and an
inventory is given; never for node-detail graphs. Every inventory workload (and, for service graphs
or with injected service nodes, every service) of a requested namespace that has no node yet gets
one, marked ``is_idle``, with the identity the graph type gives it (an app node in app graphs, ...;
an ambient waypoint is a workload node, flagged as one).

The services are those of Kiali's service list: the Kubernetes Services, then every host of the
namespace's ServiceEntries that names no Service of it (``service_entry.listed_hosts``). Such a host
becomes a plain idle service node named by the host as written (``*.example.com`` too), in the
entry's cluster and namespace, whatever the entry's location or exportTo; it is no ServiceEntry node
(that one is named by the entry and only made from traffic), so an entry with traffic is drawn twice:
as its ServiceEntry node and as an idle node per host, as Kiali draws it.
"""

from __future__ import annotations

from meshdesk.mesh.graph.ambient import is_waypoint
from meshdesk.mesh.graph.context import PassContext
from meshdesk.mesh.graph.service_entry import listed_hosts
from meshdesk.mesh.graph.trafficmap import UNKNOWN, TrafficMap, new_node, node_key


def apply(tm: TrafficMap, ctx: PassContext) -> None:
    req = ctx.request
    inv = ctx.inventory
    explicit = req.appenders is not None and ("idleNode" in req.appenders or "idle" in req.appenders)
    if inv is None or req.node is not None or not (req.includeIdleNodes or explicit):
        return
    namespaces = set(req.namespaces)
    graph_type = req.graphType
    default_cluster = inv.cluster or req.cluster
    if graph_type == "service" or req.injectServiceNodes:
        for s in inv.services:
            if s.namespace not in namespaces:
                continue
            cluster = s.cluster or default_cluster
            args = (cluster, s.namespace, s.name, "", "", "", "")
            key = node_key(*args, graph_type)
            if key is None or key[0] in tm:
                continue
            node = tm[key[0]] = new_node(key[0], key[1], *args, graph_type)
            node.md["isIdle"] = True
        # Kiali's service list names every host of a namespace's ServiceEntries as a service too
        for h in listed_hosts(inv):
            if h.namespace not in namespaces:
                continue
            args = (h.cluster or default_cluster, h.namespace, h.name, "", "", "", "")
            key = node_key(*args, graph_type)
            if key is None or key[0] in tm:
                continue
            node = tm[key[0]] = new_node(key[0], key[1], *args, graph_type)
            node.md["isIdle"] = True
    if graph_type != "service":
        for w in inv.workloads:
            if w.namespace not in namespaces:
                continue
            cluster = w.cluster or default_cluster
            waypoint = is_waypoint(w)
            # a waypoint is no app (as in the traffic pass): a workload node in every graph type
            app = "" if waypoint else (w.app or UNKNOWN)
            args = (cluster, "", "", w.namespace, w.name, app, w.version or UNKNOWN)
            key = node_key(*args, graph_type)
            if key is None or key[0] in tm:
                continue
            node = tm[key[0]] = new_node(key[0], key[1], *args, graph_type)
            node.md["isIdle"] = True
            if waypoint:
                node.md["isWaypoint"] = True
