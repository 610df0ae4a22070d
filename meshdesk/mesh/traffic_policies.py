"""Kiali's one-step "Create Traffic Policies" for a namespace, computed from the traffic graph.

What it makes, as Kiali's namespace action does (its frontend builds them from a workload graph of the
namespace):

- ``deny-all-<namespace>``: an AuthorizationPolicy with an empty spec, which lets nothing in;
- for each workload of the namespace that receives requests in the graph, an ALLOW AuthorizationPolicy
  named after the workload, selecting it, that lets in the principals (service accounts) of the
  workloads seen calling it;
- unless the namespace is in ambient mode (a Sidecar configures sidecar proxies only), for each workload
  of the namespace, a Sidecar named after it whose egress names the control plane's namespaces and the
  services the workload was seen calling.

Each object carries Kiali's ``kiali_wizard`` label, meshdesk's ``managed-by`` label and the
``TRAFFIC_POLICIES_MARK`` annotation: "Delete traffic policies" removes only the objects that carry the
mark, never a policy someone wrote by hand nor one made with the AuthorizationPolicy form.

A caller's principal is the one the telemetry reported on the edge when there is one (the security
appender's ``source_principal``), else the workload's service account as its pods run it (``default``
when they name none) in the mesh's trust domain. Callers from outside the mesh (the unknown node, a
workload without a sidecar) have no identity to allow: the notes say their requests will be denied.

The plan writes the ALLOW policies and Sidecars first and the deny-all last, so an apply that stops part
way never leaves the namespace denied without what lets its traffic in; the run says what was written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.ambient_checks import workload_waypoint
from meshdesk.mesh.changes import CREATE, DELETE, REPLACE, Change, ChangePlan, _put
from meshdesk.mesh.graph.ambient import is_waypoint
from meshdesk.mesh.graph.context import inventory_part
from meshdesk.mesh.graph.model import NODE_APP, NODE_SERVICE, NODE_UNKNOWN, NODE_WORKLOAD, Node, TrafficGraph
from meshdesk.mesh.inventory import Inventory, IstioObject, Workload
from meshdesk.mesh.routing import CLUSTER_DOMAIN, NETWORKING, SECURITY, RoutingError, is_managed
from meshdesk.mesh.routing import _managed as managed_labels
from meshdesk.mesh.security import workload_selector
from meshdesk.mesh.words import counted

KIALI_WIZARD_LABEL = "kiali_wizard"  # Kiali's label on what its wizards make (value: the kind)
TRAFFIC_POLICIES_MARK = "meshdesk.io/traffic-policies"  # annotation: made by "Create traffic policies"
DEFAULT_SERVICE_ACCOUNT = "default"
KINDS = ("AuthorizationPolicy", "Sidecar")


def deny_all_name(namespace: str) -> str:
    return f"deny-all-{namespace}"


@dataclass
class Caller:
    """A workload (or node) seen calling one of the namespace's workloads."""

    name: str  # as said to the user: "shop/productpage-v1"
    # what to allow of it: its workloads' principals (an app node's workloads may run as several accounts);
    # none when it has no identity to allow (outside the mesh)
    principals: list[str] = field(default_factory=list)
    why_none: str = ""
    assumed: str = ""  # how the principal was guessed, when it was ("its pods name no service account")


@dataclass
class TrafficPolicies:
    """What "Create traffic policies" would write in a namespace, and what the user should know first."""

    namespace: str
    objects: list[IstioObject] = field(default_factory=list)  # in the order they are written
    notes: list[str] = field(default_factory=list)
    # the namespace's workloads that receive requests in the graph, and those that receive none
    receiving: list[str] = field(default_factory=list)
    idle: list[str] = field(default_factory=list)
    # objects of the same kind and name that this action did not make: they are not overwritten
    taken: list[str] = field(default_factory=list)
    ambient: bool = False

    @property
    def no_traffic(self) -> bool:
        """No workload of the namespace receives requests in the graph: the deny-all alone would cut it off."""
        return not self.receiving


def made_by_traffic_policies(obj: IstioObject, namespace: str | None = None) -> bool:
    return (obj.kind in KINDS and TRAFFIC_POLICIES_MARK in obj.annotations and is_managed(obj)
            and (namespace is None or obj.namespace == namespace))


def made_objects(inv: Inventory, namespace: str) -> list[IstioObject]:
    """The objects "Create traffic policies" made in ``namespace``: the deny-all first, then the rest by kind
    and name (the order they are deleted in: what lets nothing in goes first)."""
    found = [o for kind in KINDS for o in inv.istio_objects(kind, namespace) if made_by_traffic_policies(o)]
    return sorted(found, key=lambda o: (o.name != deny_all_name(namespace) or o.kind != "AuthorizationPolicy",
                                        o.kind, o.name))


def _strip_scheme(principal: str) -> str:
    return principal[len("spiffe://"):] if principal.startswith("spiffe://") else principal


def _workloads_of(node: Node, inv: Inventory) -> list[Workload]:
    """The inventory's workloads a graph node stands for (the gateways outside the selection too)."""
    pool = [*inv.workloads, *inv.outside_gateways]
    if node.workload:
        found = [w for w in pool if w.namespace == node.namespace and w.name == node.workload]
        if found:
            return found[:1]
    if node.app:
        return [w for w in pool if w.namespace == node.namespace and w.app == node.app
                and (not node.version or w.version == node.version)]
    return []


def service_account_of(w: Workload) -> tuple[str, bool]:
    """The service account ``w``'s pods run as, and whether it was assumed (pods that name none, or no pod
    known, run as the namespace's ``default``)."""
    accounts = sorted({p.service_account for p in w.pods if p.service_account})
    if accounts:
        return accounts[0], False
    return DEFAULT_SERVICE_ACCOUNT, True


def _caller(node: Node, edge_principal: str, inv: Inventory, several_clusters: bool = False,
            part_of: Callable[[str], Inventory | None] | None = None) -> Caller:
    """``part_of``: a caller's cluster's own part of the mesh's inventory (``inventory_part`` of the whole),
    for a caller in another cluster of the mesh, whose workloads ``inv`` (a cluster's) does not hold."""
    name = f"{node.namespace}/{node.workload or node.app or node.service}" if node.namespace else (
        node.workload or node.service or "unknown")
    if node.node_type == NODE_UNKNOWN or not node.namespace or node.namespace == "unknown":
        return Caller("requests from outside the mesh (unknown source)",
                      why_none="they carry no mesh identity for an ALLOW policy to name")
    workloads = _workloads_of(node, inv)
    # a caller in another cluster of the mesh: its pods are that cluster's, read with its own context
    elsewhere = bool(several_clusters and node.cluster and inv.cluster and node.cluster not in (inv.cluster, "unknown"))
    theirs = part_of(node.cluster) if elsewhere and part_of is not None else None
    if elsewhere and part_of is not None:
        # (looked up in its own cluster alone: a workload of its name here is another)
        # (its pods not read there: their service account, and whether they run a sidecar, are not known)
        workloads = _workloads_of(node, theirs) if theirs is not None and not _pods_refused(theirs, node.namespace) \
            else []
        inv = theirs if theirs is not None else inv
        elsewhere = not workloads
    if node.has_missing_sidecar or (workloads and not any(w.has_sidecar for w in workloads)
                                    and not edge_principal and not any(_ambient(inv, w.namespace) for w in workloads)):
        return Caller(name, why_none="it runs without a sidecar, so its requests carry no mesh identity for an ALLOW "
                                     "policy to name")
    if edge_principal:
        return Caller(name, [_strip_scheme(edge_principal)])
    domain = inv.mesh_settings.trust_domain or "cluster.local"
    if not workloads:
        if node.node_type not in (NODE_WORKLOAD, NODE_APP):
            return Caller(name, why_none="it is not a workload, so it has no service account for an ALLOW policy to "
                                         "name")
        why = (_not_read_elsewhere(name, node, inv, theirs, part_of is not None) if elsewhere
               else f"{name} was not read (add namespace {node.namespace} to the graph to read it)")
        return Caller(name, [f"{domain}/ns/{node.namespace}/sa/{DEFAULT_SERVICE_ACCOUNT}"],
                      assumed=f"Warning: {why}, so it is taken to run as the default service account: if it does "
                              "not, its requests will be denied")
    accounts = [service_account_of(w) for w in workloads]
    return Caller(name, sorted({f"{domain}/ns/{node.namespace}/sa/{a}" for a, _ in accounts}),
                  assumed=f"{name}: its pods name no service account, so they run as default"
                  if any(guessed for _, guessed in accounts) else "")


def _not_read_elsewhere(name: str, node: Node, inv: Inventory, theirs: Inventory | None, linked: bool) -> str:
    """Why a caller of another cluster of the mesh has no workload read (``inv``: its cluster's part when
    ``theirs`` is that, else the cluster the policies are made in; ``linked``: the mesh's other clusters were
    read beside it)."""
    where = f"{name} runs in cluster {node.cluster}"
    if theirs is None and not linked:
        return f"{where}, whose workloads are not read with cluster {inv.cluster}'s"
    if theirs is None:
        unread = inv.unread_clusters.get(node.cluster)
        return f"{where}, which could not be read" + (f" ({unread})" if unread else "")
    refused = _pods_refused(theirs, node.namespace)
    if refused:
        return f"{where}, whose pods in {node.namespace} could not be read ({refused})"
    return f"{where}, where no workload of it was read"


def _pods_refused(inv: Inventory, namespace: str) -> str:
    """Why ``namespace``'s pods could not be read in ``inv``'s cluster, or ""."""
    return inv.hidden.get(f"{namespace}/pods") or inv.hidden.get("*/pods") or ""


def _waypoint_principal(inv: Inventory, w: Workload) -> tuple[str, str, str]:
    """In ambient mode, the waypoint ``w``'s requests go through (namespace/name), the principal they reach it
    with (a waypoint forwards a request under its own identity, so the workload's ztunnel sees that one, not
    the caller's), and how it was guessed ("" when its pods say it); ("", "", "") without a waypoint."""
    name, where = workload_waypoint(inv, w)
    if not name:
        return "", "", ""
    where = where or w.namespace
    domain = inv.mesh_settings.trust_domain or "cluster.local"
    found = next((x for x in [*inv.workloads, *inv.outside_gateways]
                  if x.namespace == where and x.name == name and is_waypoint(x)), None)
    if found is not None and any(p.service_account for p in found.pods):
        return f"{where}/{name}", f"{domain}/ns/{where}/sa/{service_account_of(found)[0]}", ""
    # Istio's deployment controller names a waypoint's service account after its Gateway
    return (f"{where}/{name}", f"{domain}/ns/{where}/sa/{name}",
            f"waypoint {where}/{name} was not read: it is taken to run as service account {name}, as Istio deploys it")


def _ambient(inv: Inventory, namespace: str) -> bool:
    ns = inv.namespace(namespace)
    return ns is not None and ns.ambient


def _callers_of(graph: TrafficGraph, nid: str, seen: set[str] | None = None) -> Iterable[tuple[Node, str]]:
    """The nodes that send requests to ``nid`` with the principal the edge reported (through the service
    nodes in between: a service is not a caller)."""
    seen = set() if seen is None else seen
    for e in graph.in_edges(nid):
        src = graph.nodes.get(e.source)
        if src is None or e.source in seen:
            continue
        seen.add(e.source)
        if src.node_type == NODE_SERVICE:
            # the service's own callers; the edge into the service carries their principal
            yield from _callers_of(graph, e.source, seen)
            continue
        # Istio says "unknown" of a request sent in plain text: no principal, the caller's pods tell it
        yield src, "" if e.source_principal == "unknown" else e.source_principal


def _egress_hosts(graph: TrafficGraph, nid: str, control_namespaces: Sequence[str]) -> list[str]:
    hosts = [f"{ns}/*" for ns in control_namespaces]
    for e in graph.out_edges(nid):
        dst = graph.nodes.get(e.target)
        if dst is None:
            continue
        for ds in dst.dest_services:
            if not ds.namespace or ds.namespace == "unknown" or not ds.name:
                continue
            host = ds.name if "." in ds.name or dst.is_service_entry is not None else f"{ds.name}.{ds.namespace}.{CLUSTER_DOMAIN}"
            if f"{ds.namespace}/{host}" not in hosts:
                hosts.append(f"{ds.namespace}/{host}")
    return hosts


def _control_namespaces(inv: Inventory) -> list[str]:
    found = sorted({c.namespace for c in inv.control_planes or () if getattr(c, "namespace", "")})
    return found or [inv.mesh_settings.root_namespace]


def _marked(obj: IstioObject) -> IstioObject:
    obj.labels = managed_labels({KIALI_WIZARD_LABEL: obj.kind})
    obj.annotations = {TRAFFIC_POLICIES_MARK: "true"}
    return obj


def compute(graph: TrafficGraph, inv: Inventory, namespace: str, cluster: str = "",
            mesh: Inventory | None = None) -> TrafficPolicies:
    """The traffic policies of ``namespace`` from what ``graph`` shows of it (its workload nodes, or its
    versioned app nodes, in ``cluster`` when given) and the workloads of ``inv``. ``mesh``: the inventory
    merged from every cluster of the mesh (``inv`` one cluster's part of it), where a caller running in
    another cluster is looked up in its own cluster's part, as one in ``inv``'s cluster is in ``inv``."""
    out = TrafficPolicies(namespace, ambient=_ambient(inv, namespace))
    nodes = [n for n in graph.nodes.values() if n.namespace == namespace and n.node_type in (NODE_WORKLOAD, NODE_APP)
             and (not cluster or not n.cluster or n.cluster == cluster)]
    namespace_workloads = [w for w in inv.workloads if w.namespace == namespace]
    allows: list[IstioObject] = []
    sidecars: list[IstioObject] = []
    denied: dict[str, str] = {}  # caller -> why its requests will be denied
    assumed: dict[str, str] = {}
    done: set[str] = set()
    waypoints: dict[str, str] = {}  # the waypoints requests reach workloads through -> how their identity was guessed
    outsiders: list[str] = []  # called, but only by what has no identity to allow
    bare: list[str] = []  # the namespace's workloads without a sidecar: no Sidecar is made for them
    control = _control_namespaces(inv)
    several = len(graph.clusters()) > 1
    part_of = inventory_part(mesh, graph.clusters()) if mesh is not None and several else None
    for node in sorted(nodes, key=lambda n: (n.workload, n.app, n.version)):
        for w in _workloads_of(node, inv):
            if w.namespace != namespace or w.name in done:
                continue
            done.add(w.name)
            if is_waypoint(w):
                continue  # (a waypoint applies only policies attached to it by targetRefs)
            selector = workload_selector(w, namespace_workloads)
            principals: list[str] = []
            callers = 0
            for src, principal in _callers_of(graph, node.id):
                callers += 1
                caller = _caller(src, principal, inv, several, part_of)
                if not caller.principals:
                    denied.setdefault(caller.name, caller.why_none)
                    continue
                if caller.assumed:
                    assumed.setdefault(caller.name, caller.assumed)
                principals += [p for p in caller.principals if p not in principals]
            waypoint, through, guessed = _waypoint_principal(inv, w) if principals else ("", "", "")
            if through and through not in principals:
                principals.append(through)
                waypoints.setdefault(waypoint, guessed)
            if principals:
                out.receiving.append(w.name)
                allows.append(_marked(IstioObject("AuthorizationPolicy", w.name, namespace, SECURITY, {
                    "selector": {"matchLabels": dict(selector)},
                    "action": "ALLOW",
                    "rules": [{"from": [{"source": {"principals": sorted(principals)}}]}]})))
            elif callers:
                outsiders.append(w.name)
            else:
                out.idle.append(w.name)
            if w.has_sidecar is False and not out.ambient:
                bare.append(w.name)
            elif not out.ambient:
                sidecars.append(_marked(IstioObject("Sidecar", w.name, namespace, NETWORKING, {
                    "workloadSelector": {"labels": dict(selector)},
                    "egress": [{"hosts": _egress_hosts(graph, node.id, control)}]})))
    out.idle += sorted(w.name for w in namespace_workloads if w.name not in done and not is_waypoint(w))
    deny = _marked(IstioObject("AuthorizationPolicy", deny_all_name(namespace), namespace, SECURITY, {}))
    out.objects = [*allows, *sidecars, deny]
    for o in out.objects:
        existing = next((x for x in inv.istio_objects(o.kind, namespace) if x.name == o.name), None)
        if existing is not None and not made_by_traffic_policies(existing):
            out.taken.append(f"{o.kind} {namespace}/{o.name}")
    for name, why in sorted(denied.items()):
        out.notes.append(f"Warning: {name} will be denied: {why}.")
    out.notes += [f"{how}." for _, how in sorted(assumed.items())]
    for waypoint, guessed in sorted(waypoints.items()):
        out.notes.append(f"Requests through waypoint {waypoint} reach the workloads with its identity, not their "
                         "callers': it is allowed too" + (f" ({guessed})." if guessed else "."))
    for name in outsiders:
        out.notes.append(f"Warning: every caller of {name} in the graph is outside the mesh: it gets no ALLOW policy, "
                         "and the deny-all will deny every request to it.")
    if out.idle and out.receiving:
        out.notes.append(f"Warning: {', '.join(out.idle)} receive{'s' if len(out.idle) == 1 else ''} no requests in the "
                         "graph: the deny-all will deny every request to "
                         f"{'it' if len(out.idle) == 1 else 'them'}.")
    if bare:
        one = len(bare) == 1
        out.notes.append(f"{', '.join(bare)} run{'s' if one else ''} without a sidecar: no Sidecar is made for "
                         f"{'it' if one else 'them'}, and {'its' if one else 'their'} AuthorizationPolicy is "
                         f"enforced only once {'it has' if one else 'they have'} one.")
    if out.ambient:
        out.notes.append(f"Namespace {namespace} is in ambient mode: no Sidecar is made (a Sidecar configures "
                         "sidecar proxies only).")
    return out


def partial_traffic_problem(request: Any, ambient: bool = False) -> str:
    """Why a graph made with ``request`` shows only part of a namespace's traffic ("" when it shows all): the
    policies made from it would deny what it leaves out, and an update would delete the ALLOW policies of the
    workloads it does not show."""
    if request is None:
        return ""
    if getattr(request, "node", None) is not None:
        return ("A node graph shows only the traffic of one node: go back to the full graph, the policies are made "
                "from every caller it shows (what it leaves out would be denied).")
    off = [protocol for protocol, rate in (("HTTP", getattr(request, "rateHttp", "")),
                                            ("gRPC", getattr(request, "rateGrpc", "")),
                                            ("TCP", getattr(request, "rateTcp", ""))) if rate == "none"]
    if off:
        return (f"The graph leaves {' and '.join(off)} traffic out (Traffic menu): show it, the policies are made "
                "from every caller the graph shows (what it leaves out would be denied).")
    if ambient and getattr(request, "ambientTraffic", "total") != "total":
        return ("The graph shows part of the ambient traffic (Display menu, Ambient traffic): show Total, the policies are "
                "made from every caller the graph shows (what it leaves out would be denied).")
    return ""


def traffic_policies_plan(inv: Inventory, policies: TrafficPolicies, *, deny_alone: bool = False) -> ChangePlan:
    """Create (or update, when this action made them before) the objects of ``policies``, the deny-all last;
    delete those it made before and would not make now. Refused (``RoutingError``) when an object of the
    same name that this action did not make exists, and, unless ``deny_alone``, when no workload of the
    namespace receives requests in the graph (the deny-all alone would cut it off)."""
    ns = policies.namespace
    if policies.taken:
        raise RoutingError(f"{', '.join(policies.taken)} already exist{'s' if len(policies.taken) == 1 else ''} and "
                           "{} not made by Create traffic policies: it is not overwritten. Delete or rename "
                           "{} first.".format("was" if len(policies.taken) == 1 else "were",
                                              "it" if len(policies.taken) == 1 else "them"))
    if policies.no_traffic and not deny_alone:
        raise RoutingError(f"No workload of {ns} receives requests from the mesh in the graph: the deny-all alone would deny every "
                           f"request to {ns}. Tick \"Create the deny-all alone\" to make it anyway, or widen the "
                           "graph's time range to see its traffic.")
    made_before = {(o.kind, o.name): o for o in made_objects(inv, ns)}
    verb = "Update" if made_before else "Create"
    allows = sum(1 for o in policies.objects if o.kind == "AuthorizationPolicy" and o.spec)
    sidecars = sum(1 for o in policies.objects if o.kind == "Sidecar")
    plan = ChangePlan(f"{verb} traffic policies in {ns}: a deny-all, {counted(allows, 'ALLOW policy', 'ALLOW policies')}"
                      f"{', ' + counted(sidecars, 'Sidecar') if not policies.ambient else ''}")
    plan.notes += policies.notes
    for o in policies.objects:
        _put(plan, copy.deepcopy(o), made_before.pop((o.kind, o.name), None))
    for o in made_before.values():
        plan.changes.insert(0, Change(DELETE, obj=copy.deepcopy(o), before=copy.deepcopy(o)))
    edited = [f"{c.obj.kind} {c.obj.name}" for c in plan.changes if c.op == REPLACE and c.obj is not None]
    if edited:
        plan.notes.append(f"Made again as the graph asks now (see Diff; a change made to them by hand is undone): "
                          f"{', '.join(edited)}.")
    written_first = "ALLOW policies" if policies.ambient or not sidecars else "ALLOW policies and Sidecars"
    plan.notes.append(f"The {written_first} are written first and the deny-all last: should the apply "
                      "stop part way, the namespace is not left denied without what lets its traffic in.")
    if any(c.op == CREATE for c in plan.changes):
        plan.notes.append("Principals are read from the callers' mutual-TLS certificates: a request sent in plain "
                          "text never matches them.")
    plan.nothing = f"The traffic policies of {ns} are as the graph asks already."
    return plan


def delete_traffic_policies_plan(inv: Inventory, namespace: str) -> ChangePlan:
    """Delete what "Create traffic policies" made in ``namespace`` (the deny-all first), nothing else."""
    made = made_objects(inv, namespace)
    plan = ChangePlan(f"Delete traffic policies in {namespace}: {counted(len(made), 'object')}")
    for o in made:
        plan.changes.append(Change(DELETE, obj=copy.deepcopy(o), before=copy.deepcopy(o)))
    if made:
        plan.notes.append(f"The deny-all is deleted first: {namespace}'s workloads then take the requests their "
                          "other policies allow.")
    plan.nothing = f"Create traffic policies made nothing in {namespace}."
    return plan


def delete_problem(inv: Inventory, namespace: str) -> str:
    return "" if made_objects(inv, namespace) else f"Create traffic policies made nothing in {namespace}."
