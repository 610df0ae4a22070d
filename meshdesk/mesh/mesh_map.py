"""The mesh's infrastructure, as Kiali 2's Mesh page draws it (``mesh/generator/generator.go`` and the
frontend's ``pages/Mesh``): not its traffic, but what runs it.

- each **cluster**, a box;
- in it each **control plane**, an istiod revision, with its version and ready pods, judged as the Istio
  status judges it (:mod:`meshdesk.mesh.istio_status`);
- the **data-plane namespaces** each control plane takes, by Istio's webhooks (``istio-injection``,
  ``istio.io/rev``, revision tags, ambient mode: ``Inventory.resolve_revision``), with an edge from their
  istiod; a namespace whose revision no running istiod serves is drawn without one;
- the **gateways** (Istio's ingress and egress gateways, the Gateway API's), with an edge from the
  istiod of their own revision, as Kiali links them;
- ambient mode's **ztunnel** (its DaemonSet, by its ready pods) and **waypoints**, with an edge from the
  istiod of their revision, as Kiali's Mesh page draws them;
- the **addons** meshdesk reads - Prometheus, the tracing backend, Grafana - with an edge from
  meshdesk itself, which stands where Kiali's own node stands, outside the cluster (it runs on this
  machine).

A node's health follows Kiali's Mesh page: Healthy is green, Not ready (scaled to zero) is Degraded
(orange), anything else the component's status says (Unhealthy, Not found, Unreachable) is Failure (red),
but for a gateway, which is not core: orange, as Kiali's Istio status warns of it;
an edge takes the health of the node it goes to. What was not read (a snapshot's addons, istiod's pods
not listed) is meshdesk's "not known": grey, and said.

Built from what was already read (the inventory, the namespace list, the addons' last answers): nothing
here asks the cluster anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from meshdesk.mesh.inventory import (
    ClusterMeshConfig,
    Inventory,
    MeshConfig,
    Namespace,
    Workload,
    namespace_revision,
)
from meshdesk.mesh.istio_status import (
    HEALTHY,
    NOT_CHECKED,
    NOT_FOUND,
    NOT_KNOWN,
    NOT_READY,
    ComponentStatus,
    control_plane_status,
)
from meshdesk.mesh.namespace_overview import membership
from meshdesk.mesh.words import counted, mesh_config_rows

# the kinds of node (Kiali's infra types, in meshdesk's words)
CLUSTER = "cluster"
ISTIOD = "istiod"
NAMESPACE = "namespace"  # a data-plane namespace
GATEWAY = "gateway"
ZTUNNEL = "ztunnel"  # ambient mode's node proxies (a DaemonSet)
WAYPOINT = "waypoint"  # an ambient waypoint (a namespace's or a service's L7 proxy)
ADDON = "addon"
MESHDESK = "meshdesk"  # this app, where Kiali's own node stands

# a node's health, Kiali's words (as the traffic graph's)
GREEN, ORANGE, RED, GREY = "Healthy", "Degraded", "Failure", "NA"

NOT_RECORDED = "not recorded"  # what a snapshot did not keep


def health_of(state: str) -> str:
    """A component's state as Kiali's Mesh page colours it: Healthy green, Not ready (scaled to zero)
    orange, not known or not checked grey (meshdesk's), anything else red."""
    if state == HEALTHY:
        return GREEN
    if state == NOT_READY:
        return ORANGE
    if state in (NOT_KNOWN, NOT_CHECKED):
        return GREY
    return RED


@dataclass
class MeshNode:
    """One node of the mesh map: its kind, the cluster box it sits in ("" outside any), its name and a
    second line (a version, a revision), its health, and its details as (label, text) rows."""

    id: str
    kind: str
    name: str
    cluster: str = ""
    namespace: str = ""
    subtitle: str = ""
    health: str = GREEN
    rows: list[tuple[str, str]] = field(default_factory=list)
    revision: str | None = None  # a control plane's, or the one a namespace or gateway belongs to

    @property
    def title(self) -> str:
        return f"{self.kind_text} {self.name}"

    @property
    def kind_text(self) -> str:
        return {CLUSTER: "Cluster", ISTIOD: "Control plane", NAMESPACE: "Namespace", GATEWAY: "Gateway",
                ZTUNNEL: "ztunnel", WAYPOINT: "Waypoint", ADDON: "Addon", MESHDESK: "meshdesk"}[self.kind]


@dataclass(frozen=True)
class MeshEdge:
    source: str
    target: str


@dataclass
class MeshMap:
    """The nodes (cluster boxes among them) and edges, in the order they are laid out."""

    nodes: dict[str, MeshNode] = field(default_factory=dict)
    edges: list[MeshEdge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not read, said under the drawing

    def add(self, node: MeshNode) -> MeshNode:
        self.nodes[node.id] = node
        return node

    def of_kind(self, kind: str) -> list[MeshNode]:
        return [n for n in self.nodes.values() if n.kind == kind]

    def edge_health(self, edge: MeshEdge) -> str:
        """An edge's health: that of the node it goes to, as on Kiali's Mesh page."""
        return self.nodes[edge.target].health

    def targets(self, node_id: str) -> list[MeshNode]:
        return [self.nodes[e.target] for e in self.edges if e.source == node_id]

    def sources(self, node_id: str) -> list[MeshNode]:
        return [self.nodes[e.source] for e in self.edges if e.target == node_id]

    def lines(self) -> list[str]:
        """The map as text (``meshdesk mesh``): each cluster, its control planes with their namespaces
        and gateways, the namespaces no running control plane takes, then the addons."""
        out: list[str] = []
        mark = {GREEN: "", ORANGE: "! ", RED: "!! ", GREY: "? "}
        for box in self.of_kind(CLUSTER):
            out.append(f"Cluster {box.name}")
            if box.subtitle:
                out.append(f"  mesh config: {box.subtitle}")
            for cp in (n for n in self.of_kind(ISTIOD) if n.cluster == box.name):
                out.append(f"  {mark[cp.health]}{cp.name}  {cp.subtitle}  {dict(cp.rows).get('State', '')}".rstrip())
                for t in self.targets(cp.id):
                    if t.cluster != box.name:
                        continue  # (another cluster's, a remote it manages: said in that cluster)
                    out.append(f"    -> {mark[t.health]}{t.kind_text.lower()} {t.name}  {t.subtitle}".rstrip())
            for cp in (n for n in self.of_kind(ISTIOD) if n.cluster != box.name):
                mine = [t for t in self.targets(cp.id) if t.cluster == box.name]
                for t in mine:
                    out.append(f"  {cp.name} (cluster {cp.cluster}) -> {mark[t.health]}{t.kind_text.lower()} "
                               f"{t.name}  {t.subtitle}".rstrip())
            lone = [n for n in self.nodes.values() if n.cluster == box.name and n.kind in (NAMESPACE, GATEWAY, ZTUNNEL, WAYPOINT)
                    and not self.sources(n.id)]
            for n in lone:
                out.append(f"  {mark[n.health]}{n.kind_text.lower()} {n.name}  {n.subtitle}".rstrip())
        addons = self.of_kind(ADDON)
        if addons:
            out.append("Addons (as meshdesk reaches them)")
            for a in addons:
                state = dict(a.rows).get("State", "")
                where = dict(a.rows).get("Where", "")
                out.append(f"  {mark[a.health]}{a.name}  {state}" + (f"  {where}" if where else ""))
        out += self.notes
        return out


def _cp_id(cluster: str, revision: str) -> str:
    return f"istiod:{cluster}:{revision}"


def cluster_config(inv: Inventory, cluster: str) -> ClusterMeshConfig | None:
    """The mesh config of the mesh's cluster ``cluster`` (its ``istio`` ConfigMaps, its revision tags), each
    cluster's istiod and webhooks being its own: the inventory's for its own cluster, a linked cluster's as
    read beside it; None when not known (its cluster not read, or a snapshot written before they were kept)."""
    if not cluster or cluster == inv.cluster:
        if inv.cluster in inv.unread_clusters:
            return None
        return ClusterMeshConfig(inv.mesh_settings, dict(inv.revision_settings), dict(inv.revision_tags))
    return inv.linked_mesh_configs.get(cluster)


def _resolver(inv: Inventory, cluster: str) -> dict[str, str]:
    """The revision tags that resolve ``cluster``'s labels: its own (a remote's webhooks are its own, not its
    primary's); the inventory's where the cluster's are not known (as before they were kept)."""
    own = cluster_config(inv, cluster)
    return own.revision_tags if own is not None else inv.revision_tags


def _config_summary(config: MeshConfig) -> str:
    """A cluster's mesh identity in a few words: trust domain, mesh ID, network (the multi-cluster fields)."""
    if not config.read:
        return ""  # (its istiod's details say why not)
    parts = [f"trust domain {config.trust_domain}", f"mesh ID {config.mesh_id or config.trust_domain + ' (its trust domain)'}"]
    if config.network:
        parts.append(f"network {config.network}")
    return " · ".join(parts)


def _gateway_revision(tags: dict[str, str], w: Workload) -> str:
    """The istiod revision a gateway belongs to: its pods' proxies' (who injected them), else its own
    ``istio.io/rev`` label, through its cluster's revision ``tags``; the default one when neither says
    (as Kiali's "default")."""
    rev = next((p.proxy_revision for p in w.pods if p.proxy_revision is not None), None)
    if rev is None:
        label = w.labels.get("istio.io/rev")
        rev = None if label is None else ("" if label == "default" else label)
    return tags.get(rev or "default", rev or "")


def _why_not(ready: int, pods: int) -> str:
    """Why an istiod is not healthy, in a few words ("" when it is)."""
    if pods > 0 and ready == pods:
        return ""
    if ready == 0:
        return " (no pod of it is ready: its proxies get no new config, new pods no sidecar)"
    return f" (only {ready} of its {pods} pods ready)"


def _gateway_health(w: Workload) -> tuple[str, str]:
    """A gateway as the Istio status judges it, coloured as a component that is not core: scaled to zero
    or with pods not ready is orange, never red. (Kiali's Mesh page gives a gateway no health of its own,
    drawing every one as healthy, and its masthead counts a gateway in trouble as a warning: red is the
    control plane's.)"""
    if w.replicas <= 0:
        return ORANGE, "Not ready (scaled to zero)"
    if w.available == w.replicas and (w.current < 0 or w.current == w.replicas):
        return GREEN, "Healthy"
    return ORANGE, "Unhealthy"


def _proxy_health(kind: str, ready: int, wanted: int) -> tuple[str, str]:
    """ztunnel or a waypoint by its ready pods: all of those wanted ready is green; none wanted, or some
    not ready, orange; none ready of those wanted red (ztunnel: the ambient pods of a node without one
    have no way in or out of the mesh; a waypoint: the requests it serves fail)."""
    if wanted <= 0:
        return ORANGE, "Not ready (scaled to zero)" if kind == WAYPOINT else "Not ready (scheduled on no node)"
    if ready >= wanted:
        return GREEN, "Healthy"
    if ready == 0:
        return RED, "Unhealthy (no pod of it is ready)"
    return ORANGE, f"Unhealthy (only {ready} of its {wanted} pods ready)"


def build_mesh_map(inv: Inventory | None, *, cluster: str = "", listed: Sequence[Namespace] = (),
                   labelled: Iterable[str] | None = None, addons: Sequence[ComponentStatus] = (),
                   recorded: bool = False, shown: Iterable[str] = ()) -> MeshMap:
    """The mesh map of ``inv`` (None: nothing read yet, an empty map). ``listed``: the cluster's
    namespaces as the namespace list gave them (with their labels where ``labelled`` names them; None:
    all), so the namespaces outside the selection are placed by their revision too; ``addons``: the
    addons' statuses as the window last found them; ``recorded``: of a snapshot (what it did not keep is
    "not recorded"); ``shown``: the namespaces the traffic graph shows (said in their details)."""
    out = MeshMap()
    if inv is None:
        return out
    if not inv.istio_found:
        out.notes.append("Istio is not installed in this cluster: there is no mesh to draw.")
        return out
    home = inv.cluster or cluster or "cluster"
    unknown = NOT_RECORDED if recorded else "not known"
    shown_set = set(shown)

    # the namespaces: the inventory's (the selection), then the others listed with their labels
    known = set(labelled) if labelled is not None else None
    spaces: dict[tuple[str, str], Namespace] = {}  # (cluster, name) -> the namespace
    for n in inv.namespaces:
        if f"{n.name}/namespace" not in inv.hidden_of(n.cluster):  # (its own cluster's refusal, not another's)
            spaces[(n.cluster or home, n.name)] = n
    for n in listed:  # (the shown context's: its cluster is the inventory's own, however the list named it)
        if (home, n.name) not in spaces and (known is None or n.name in known):
            spaces[(home, n.name)] = replace(n, cluster=home)
    clusters = list(dict.fromkeys([home, *(c or home for c in inv.clusters()),
                                   *(n.cluster or home for n in spaces.values()), *inv.unread_clusters]))
    for c in clusters:
        box = out.add(MeshNode(f"cluster:{c}", CLUSTER, c, cluster=c, rows=[("Cluster", c)]))
        if c in inv.unread_clusters:
            box.rows.append(("Read", f"not this time: {inv.unread_clusters[c]}"))
        own = cluster_config(inv, c)
        if own is not None and c not in inv.unread_clusters:
            # its own mesh config (each cluster's istiod reads its own istio ConfigMap)
            box.subtitle = _config_summary(own.mesh_settings)
            if own.mesh_settings.read:
                box.rows += [("Trust domain", own.mesh_settings.trust_domain),
                             ("Mesh ID", own.mesh_settings.mesh_id or f"{own.mesh_settings.trust_domain} "
                                                                      "(not set: its trust domain)"),
                             ("Network", own.mesh_settings.network or "not said")]

    # the control planes, each in its own cluster's box
    by_rev: dict[tuple[str, str], MeshNode] = {}  # (cluster, revision) -> its istiod
    for c in clusters:
        if c in inv.unread_clusters:
            # a linked context that could not be read this time: its box says so, in grey
            lost = out.add(MeshNode(_cp_id(c, "?"), ISTIOD, "istiod", cluster=c, subtitle="cluster not read",
                                    health=GREY))
            lost.rows = [("State", NOT_KNOWN), ("Why", f"cluster {c} could not be read: {inv.unread_clusters[c]}")]
            continue
        planes = inv.planes_of(c)
        states = control_plane_status(inv, c)
        if planes is not None and not planes and inv.managing_clusters(c):
            continue  # primary-remote: a remote cluster's namespaces are drawn from the primary's istiod
        for p, state in zip(planes or (), states, strict=False):
            rev_name = p.revision or "default"
            cp = out.add(MeshNode(_cp_id(c, p.revision), ISTIOD, state.name, cluster=c, namespace=p.namespace,
                                  subtitle=f"{p.version or 'version not known'} · revision {rev_name}",
                                  health=health_of(state.state), revision=p.revision))
            cp.rows = [("Name", f"{p.namespace}/{state.name}"), ("Revision", rev_name),
                       ("Version", p.version or "not told by its image"),
                       ("Pods", f"{p.ready}/{p.pods} ready"),
                       ("State", state.state + _why_not(p.ready, p.pods))]
            if c != home:
                cp.rows.append(("Cluster", c))
            own = cluster_config(inv, c)
            if own is None:
                cp.rows.append(("Mesh config", NOT_RECORDED + " in this snapshot" if recorded else "not known"))
            else:
                # its own cluster's revision tags and mesh config (a linked cluster's istiod reads its own)
                tags = sorted(t for t, r in own.revision_tags.items() if r == p.revision)
                if tags:
                    cp.rows.append(("Revision tags", ", ".join(tags)))
                config = own.revision_settings.get(p.revision) if own.revision_settings else own.mesh_settings
                if config is None:
                    cp.rows.append(("Mesh config", "not read (no pod of it was running)"))
                else:
                    cp.rows += [(f"Mesh config: {k}", v) for k, v in mesh_config_rows(config)]
                    if config.mesh_id:
                        cp.rows.append(("Mesh config: Mesh ID", config.mesh_id))
                    if config.network:
                        cp.rows.append(("Network", config.network))
            remotes = [r for r in clusters if c in inv.managing_clusters(r)]
            if p.cluster_id and p.cluster_id != c and p.cluster_id in remotes:
                # an external control plane: it configures the cluster its CLUSTER_ID names, not its own
                cp.rows.append(("Manages", f"the remote {p.cluster_id} (an external control plane: its "
                                           f"CLUSTER_ID), not its own cluster"))
            elif remotes:
                cp.rows.append(("Manages", "its own cluster and the remote " + ", ".join(remotes)))
            by_rev[(c, p.revision)] = cp
        if planes is None or not planes:
            # none known, or none running: one node says it (red when none runs, grey when not known)
            lone = states[0]
            none = out.add(MeshNode(_cp_id(c, "?"), ISTIOD, "istiod", cluster=c,
                                    subtitle=lone.state.lower() if planes is not None else unknown,
                                    health=health_of(lone.state)))
            none.rows = [("State", lone.state), ("Why", lone.detail or unknown)]
            if planes is None:
                none.rows = [("State", unknown), ("Why", NOT_RECORDED + " in this snapshot" if recorded
                                                else "istiod's pods could not be listed")]

    def taker_of(c: str, rev: str) -> MeshNode | None:
        """The istiod that takes a namespace or gateway of revision ``rev`` in cluster ``c``: its own
        cluster's, else (primary-remote) the one of that revision of a cluster managing it."""
        own = by_rev.get((c, rev))
        if own is not None:
            return own
        return next((by_rev[(m, rev)] for m in inv.managing_clusters(c) if (m, rev) in by_rev), None)

    # each namespace by its revision, under the istiod that takes it
    for key in sorted(spaces):
        ns = spaces[key]
        name = ns.name
        labels = ns.labels
        said = namespace_revision(labels)
        if said is None:
            continue  # not in the mesh: not part of its data plane
        c = ns.cluster or home
        rev = _resolver(inv, c).get(said or "default", said)  # by its own cluster's revision tags
        rev_name = rev or "default"
        node = out.add(MeshNode(f"namespace:{c}:{name}", NAMESPACE, name, cluster=c, namespace=name,
                                subtitle=f"revision {rev_name}" + (" · ambient" if ns.ambient else ""),
                                revision=rev))
        how = membership(labels)
        node.rows = [("Namespace", name), ("Membership", how.text), ("Revision", rev_name)]
        if said != rev:
            node.rows.append(("Revision tag", f"{said or 'default'} -> revision {rev_name}"))
        if c != home:
            node.rows.append(("Cluster", c))
        taker = taker_of(c, rev)
        planes = inv.planes_of(c)
        if taker is not None:
            out.edges.append(MeshEdge(taker.id, node.id))
            node.health = GREEN if taker.health == GREEN else ORANGE
            across = f" in cluster {taker.cluster} (primary-remote)" if taker.cluster != c else ""
            node.rows.append(("Control plane", f"{taker.namespace}/{taker.name}{across}, "
                                               f"{dict(taker.rows).get('State', '')}"))
            if taker.health != GREEN:
                node.rows.append(("Why", f"its istiod is not healthy ({dict(taker.rows).get('Pods', '')})"))
        elif planes is None or c in inv.unread_clusters:
            node.health = GREY
            node.rows.append(("Control plane", unknown))
        else:
            node.health = ORANGE
            node.rows.append(("Control plane", f"none: no istiod of revision {rev_name} runs; its new pods get "
                                               "no sidecar"))
        node.rows.append(("Traffic graph", "shown (double-click: select its box)" if name in shown_set
                          else "not shown (double-click to show it)"))

    # the gateways, under the istiod of their revision
    from meshdesk.mesh.graph.istio import is_gateway  # (the graph package is heavy; this is not)

    seen: dict[tuple[str, str, str], Workload] = {}
    for w in (*inv.workloads, *inv.outside_gateways):
        if is_gateway(w):  # (an ambient waypoint is none: it is no gateway of the mesh's edge)
            seen.setdefault((w.cluster or home, w.namespace, w.name), w)
    for (c, gns, gname), w in sorted(seen.items()):
        rev = _gateway_revision(_resolver(inv, c), w)
        health, said_state = _gateway_health(w)
        node = out.add(MeshNode(f"gateway:{c}:{gns}:{gname}", GATEWAY, gname, cluster=c, namespace=gns,
                                subtitle=f"{gns} · {max(w.available, 0)}/{w.replicas} ready", health=health,
                                revision=rev))
        node.rows = [("Gateway", f"{gns}/{gname}"), ("Pods", f"{max(w.available, 0)}/{w.replicas} ready"),
                     ("State", said_state), ("Revision", rev or "default")]
        if health != GREEN:
            node.rows.append(("Why orange", "a gateway is not core: the mesh runs without it, traffic through "
                                            "it does not (as Kiali's Istio status warns of it)"))
        if c != home:
            node.rows.append(("Cluster", c))
        versions = sorted({p.proxy_version for p in w.pods if p.proxy_version})
        if versions:
            node.rows.append(("Proxy version", ", ".join(versions)))
        taker = taker_of(c, rev)
        if taker is not None:
            out.edges.append(MeshEdge(taker.id, node.id))

    # ambient mode: ztunnel (its ready pods, one per node) and the waypoints, under the istiod of their
    # revision in their cluster, as Kiali's Mesh page draws them
    from meshdesk.mesh.graph.ambient import is_waypoint

    proxies: dict[tuple[str, str, str], tuple[str, Workload]] = {}
    for w in (*inv.workloads, *(inv.ztunnels or ()), *inv.outside_gateways):
        kind = ZTUNNEL if w.labels.get("app") == "ztunnel" else WAYPOINT if is_waypoint(w) else ""
        if kind:
            proxies.setdefault((w.cluster or home, w.namespace, w.name), (kind, w))
    for (c, pns, pname), (kind, w) in sorted(proxies.items()):
        rev = _gateway_revision(_resolver(inv, c), w)
        ready, wanted = max(w.available, 0), w.replicas
        health, said_state = _proxy_health(kind, ready, wanted)
        node = out.add(MeshNode(f"{kind}:{c}:{pns}:{pname}", kind, pname, cluster=c, namespace=pns,
                                subtitle=f"{pns} · {ready}/{wanted} ready", health=health, revision=rev))
        node.rows = [(node.kind_text.capitalize() if kind == WAYPOINT else "ztunnel", f"{pns}/{pname} ({w.kind})"),
                     ("Pods", f"{ready}/{wanted} ready"), ("State", said_state), ("Revision", rev or "default")]
        if c != home:
            node.rows.append(("Cluster", c))
        versions = sorted({p.proxy_version for p in w.pods if p.proxy_version} | (
            {v} if (v := w.labels.get("app.kubernetes.io/version")) else set()))
        if versions:
            node.rows.append(("Version", ", ".join(versions)))
        taker = taker_of(c, rev)
        if taker is not None:
            out.edges.append(MeshEdge(taker.id, node.id))

    # meshdesk and the addons it reads
    if addons:
        me = out.add(MeshNode("meshdesk", MESHDESK, "meshdesk", subtitle="this machine"))
        me.rows = [("Runs", "on this machine, outside the cluster (where Kiali's own node stands)"),
                   ("Reads", "the Kubernetes API, and the addons below")]
        for a in addons:
            # one there is none of, and need not be (no tracing, no Grafana), is said in grey
            health = GREY if a.optional and a.state == NOT_FOUND else health_of(a.state)
            node = out.add(MeshNode(f"addon:{a.name}", ADDON, a.name, cluster=home, health=health))
            told = NOT_RECORDED if recorded and a.state == NOT_KNOWN else a.state
            node.subtitle = told.lower() if told != HEALTHY else "reachable"
            node.rows = [("State", told)]
            if a.detail and not (recorded and a.state == NOT_KNOWN):
                node.rows.append(("Where", a.detail))
            out.edges.append(MeshEdge(me.id, node.id))
    out.notes += _notes(inv, [(c, inv.planes_of(c)) for c in clusters])
    unlabelled = sorted(set(inv.cluster_namespaces or ()) - {name for _c, name in spaces})
    if unlabelled:
        shown_names = ", ".join(unlabelled[:5]) + (f" and {len(unlabelled) - 5} more" if len(unlabelled) > 5 else "")
        out.notes.append(f"The labels of {counted(len(unlabelled), 'other namespace')} were "
                         f"{NOT_RECORDED if recorded else 'not read'} ({shown_names}): whether they are in the "
                         "mesh, and on which revision, is not known.")
    return out


def _notes(inv: Inventory, planes: Sequence[tuple[str, Sequence[object] | None]]) -> list[str]:
    """The notes under the mesh: ``planes``, each cluster's control planes (None: not known), in the clusters'
    order; several in one cluster are said of any cluster, not only of the first context's (a remote read
    first hid its primary's canary upgrade), naming it when there are several clusters."""
    notes = []
    gateways_hidden = sorted(k for _c, hidden in inv.hidden_by_cluster() for k in hidden
                             if k.startswith("*/") and "gateway" in k)
    if gateways_hidden:
        notes.append("Gateways outside the selected namespaces and istio-system are not known.")
    for cluster, running in planes:
        if running is not None and len(running) > 1:
            where = f" in cluster {cluster}" if len(planes) > 1 else ""
            notes.append(f"{counted(len(running), 'control plane')} run{where} (a canary upgrade?): each namespace "
                         "is judged by its own revision's mesh config.")
    return notes

