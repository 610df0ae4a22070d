"""The state of Istio's own components, as Kiali's masthead indicator judges it ("Istio status",
``business/istio_status.go`` and its frontend): is the control plane up, are the gateways up, are the
addons meshdesk reads (Prometheus, the tracing backend) reachable.

Judged from what the window already has, never by asking the cluster again:

- **istiod**, each revision that runs (``Inventory.control_planes``): a *core* component, as in Kiali.
  All its pods ready: Healthy; some not ready: Unhealthy. None running: "istiod" Not found, core.
- **Gateways**: every Istio ingress and egress gateway workload found (in the selection or outside
  it, ``Inventory.outside_gateways``) and the workloads Istio runs for Gateway API Gateways, as Kiali
  discovers them; not core. Judged as Kiali judges a workload: none wanted is Not ready (scaled to
  zero), as many available and running as wanted is Healthy, else Unhealthy.
  With no ingress (or no egress) gateway at all, a row says so, Not found; such a row is optional and
  does not colour the indicator: a mesh without an egress gateway (Istio's default profile) is a
  healthy mesh, and Kiali itself stopped flagging one (it lists the gateways it finds).
- **Addons** (:func:`addon`): Prometheus and the tracing backend, Healthy when they answered,
  Unreachable (or Not found) when they did not; not core, as Kiali's defaults have them.

The overall level follows Kiali's colours: a core component not healthy (not found, unhealthy,
unreachable) is red ("danger"), another one orange ("warning"); only components scaled to zero is
blue ("info"); else green ("ok"). What is not known (a snapshot's addons, istiod's pods not listed)
is said, and colours nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from meshdesk.mesh.inventory import ISTIO_NAMESPACE, ISTIOD_ELSEWHERE, Inventory, Workload
from meshdesk.mesh.words import counted

# the states, in Kiali's words as its popover shows them
HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"  # some of its replicas are not ready (or not running)
NOT_READY = "Not ready"  # it wants no replica (scaled to zero)
NOT_FOUND = "Not found"
UNREACHABLE = "Unreachable"  # an addon that did not answer
NOT_KNOWN = "Not known"  # meshdesk's: what was read does not say (a snapshot's addons, pods not listed)
NOT_CHECKED = "Not checked yet"  # meshdesk's: an addon not asked anything yet (the Traces dock asks)

# the overall levels, Kiali's colours (PatternFly's success, info, warning, danger)
OK, INFO, WARNING, DANGER, UNKNOWN = "ok", "info", "warning", "danger", "unknown"

# the gateway kinds a "not found" row is said for, and the labels that tell them
_INGRESS = ("IngressGateways", "ingressgateway", "istio-ingressgateway")
_EGRESS = ("EgressGateways", "egressgateway", "istio-egressgateway")
_GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


@dataclass(frozen=True)
class ComponentStatus:
    """One component: where it runs and its name (``namespace`` "" for an addon or one not found),
    its state, whether it is core (its trouble is red), its ready replicas of those wanted (-1: not
    told), and a word of what was seen ("via the API server's service proxy", why it is unreachable)."""

    name: str
    state: str
    core: bool = False
    namespace: str = ""
    ready: int = -1
    wanted: int = -1
    detail: str = ""
    addon: bool = False
    optional: bool = False  # a Not found that says something, but is no trouble (no egress gateway)
    # of a mesh of several clusters, the one it runs in (named in its title); of a gateway there is none
    # of, every cluster without one ("east, west")
    cluster: str = ""
    # its cluster could not be read (its API server down, a login expired): nothing of it is known, as
    # Kiali marks an unreachable cluster's istiod; the indicator must not call the mesh healthy then
    unread: bool = False

    @property
    def title(self) -> str:
        title = f"{self.namespace}/{self.name}" if self.namespace else self.name
        if not self.cluster:
            return title
        return f"{title} (cluster{'s' if ', ' in self.cluster else ''} {self.cluster})"

    @property
    def replicas(self) -> str:
        return f"{self.ready}/{self.wanted}" if self.wanted >= 0 and self.ready >= 0 else ""

    @property
    def trouble(self) -> bool:
        """Whether it colours the indicator orange or red: not healthy, and known not to be."""
        return self.state in (UNHEALTHY, UNREACHABLE) or (self.state == NOT_FOUND and not self.optional)

    def line(self) -> str:
        """The component in one line of text: ``istio-system/istiod  1/1  Healthy (core)``."""
        parts = [self.title]
        if self.replicas:
            parts.append(self.replicas)
        parts.append(self.state + (" (core)" if self.core else ""))
        if self.detail:
            parts.append(self.detail)
        return "  ".join(parts)


def addon(name: str, state: str, detail: str = "") -> ComponentStatus:
    """An addon's status (Prometheus, the tracing backend): never core, as in Kiali's defaults."""
    return ComponentStatus(name, state, core=False, detail=detail, addon=True)


@dataclass(frozen=True)
class IstioStatus:
    """Every component, and what they make together."""

    components: tuple[ComponentStatus, ...]
    notes: tuple[str, ...] = ()  # what was not read ("gateways outside istio-system are not known")

    @property
    def level(self) -> str:
        return self._level(of_unread=True)

    def _level(self, of_unread: bool) -> str:
        """The level; ``of_unread``: a cluster that could not be read makes it not known rather than ok."""
        known = [c for c in self.components if c.state not in (NOT_KNOWN, NOT_CHECKED)]
        if any(c.trouble and c.core for c in known):
            return DANGER
        if any(c.trouble for c in known):
            return WARNING
        if any(c.state == NOT_READY for c in known):
            return INFO
        if not any(c.state == HEALTHY for c in known) or (of_unread and self.unread_clusters):
            return UNKNOWN  # (a cluster not read may be in any state: not green)
        return OK

    @property
    def unread_clusters(self) -> list[str]:
        """The clusters that could not be read, whose components are not known."""
        return sorted({c.cluster for c in self.components if c.unread and c.cluster})

    @property
    def trouble(self) -> list[ComponentStatus]:
        return [c for c in self.components if c.trouble]

    @property
    def label(self) -> str:
        """A few words for the status bar: ``healthy``, ``1 component unhealthy``, ``not known``; of a
        mesh one of whose clusters could not be read, that its components are not known there
        (``not known in cluster east, healthy in cluster west``)."""
        said = self._known_label()
        unread = self.unread_clusters
        if not unread:
            return said
        where = f"not known in cluster{'s' if len(unread) > 1 else ''} {', '.join(unread)}"
        if said == "healthy":
            read = sorted({c.cluster for c in self.components if c.core and c.cluster and not c.unread})
            return f"{where}, healthy in cluster{'s' if len(read) > 1 else ''} {', '.join(read)}" if read else where
        return where if said == "not known" else f"{said}, {where}"

    def _known_label(self) -> str:
        trouble = self.trouble
        if trouble:
            # of a mesh of several clusters: which cluster's (istiod down in west, the others' up)
            clusters = sorted({c.cluster for c in trouble})
            where = f" in cluster {clusters[0]}" if len(clusters) == 1 and clusters[0] else \
                f" in clusters {', '.join(clusters)}" if all(clusters) else ""
            return f"{counted(len(trouble), 'component')} unhealthy{where}"
        idle = [c for c in self.components if c.state == NOT_READY]
        if idle:
            return f"{counted(len(idle), 'component')} not ready"
        return "not known" if self._level(of_unread=False) == UNKNOWN else "healthy"

    def with_addons(self, addons: Iterable[ComponentStatus]) -> IstioStatus:
        return replace(self, components=(*self.components, *addons))

    def lines(self) -> list[str]:
        """The components as lines of text (the ``meshdesk inventory`` table, a copy)."""
        return [c.line() for c in self.components] + list(self.notes)


def _gateway_state(w: Workload) -> str:
    """A gateway workload's state as Kiali judges a workload: wanting none is Not ready; all wanted
    available (and no more running, as during a rollout) is Healthy; else Unhealthy."""
    if w.replicas <= 0:
        return NOT_READY
    if w.available == w.replicas and (w.current < 0 or w.current == w.replicas):
        return HEALTHY
    return UNHEALTHY


def _is_kind(w: Workload, kind: Sequence[str]) -> bool:
    labels = w.labels
    return labels.get("operator.istio.io/component") == kind[0] or labels.get("istio") == kind[1]


def _several(inv: Inventory) -> bool:
    """Whether ``inv`` holds several clusters (a mesh read over linked contexts, or its snapshot): each
    component then names its cluster."""
    return len(inv.clusters()) > 1 or bool(inv.unread_clusters)


def control_plane_status(inv: Inventory, cluster: str | None = None) -> list[ComponentStatus]:
    """istiod, each revision: core. Of a mesh of several clusters, each cluster's (``cluster``: that one's
    alone), each naming its cluster: a remote cluster managed by another's istiod (primary-remote) has
    no row of its own, as Kiali lists it; a linked cluster that could not be read is not known."""
    if cluster is None and _several(inv):
        out = []
        for c in [*inv.clusters(), *(u for u in inv.unread_clusters if u not in inv.clusters())]:
            if c in inv.unread_clusters:
                out.append(ComponentStatus("istiod", NOT_KNOWN, core=True, cluster=c, unread=True,
                                           detail=f"cluster {c} could not be read: {inv.unread_clusters[c]}"))
            elif not inv.managing_clusters(c):
                out += control_plane_status(inv, c)
        return out
    several = cluster is not None
    where = cluster if cluster is not None else inv.cluster
    planes = inv.planes_of(where)
    named = where if several else ""
    if planes is None:
        return [ComponentStatus("istiod", NOT_KNOWN, core=True, cluster=named, detail="its pods could not be listed")]
    if not planes:
        if ISTIOD_ELSEWHERE in inv.hidden and (where or "") == (inv.cluster or ""):
            return [ComponentStatus("istiod", NOT_KNOWN, core=True, cluster=named,
                                    detail=f"none in {ISTIO_NAMESPACE}; other namespaces' pods could not be listed")]
        return [ComponentStatus("istiod", NOT_FOUND, core=True, cluster=named, detail="no istiod pod runs")]
    out = []
    for p in planes:
        state = HEALTHY if p.pods > 0 and p.ready == p.pods else UNHEALTHY
        version = f"version {p.version}" if p.version else ""
        out.append(ComponentStatus(f"istiod-{p.revision}" if p.revision else "istiod", state, core=True,
                                   namespace=p.namespace, ready=p.ready, wanted=p.pods, detail=version,
                                   cluster=named))
    return out


def gateway_status(inv: Inventory) -> list[ComponentStatus]:
    """The gateways found, and a row for an ingress or egress gateway there is none of (optional). Of a
    mesh of several clusters, each cluster's gateways, naming their cluster (a cluster without one of
    its own says so once per cluster)."""
    from meshdesk.mesh.graph.istio import is_gateway  # (the graph package is heavy; this is not)

    several = _several(inv)
    seen: dict[tuple[str, str, str], Workload] = {}
    for w in (*inv.workloads, *inv.outside_gateways):
        if is_gateway(w):
            seen.setdefault((w.cluster or inv.cluster, w.namespace, w.name), w)
    out = [ComponentStatus(w.name, _gateway_state(w), namespace=w.namespace, ready=max(w.available, 0),
                           wanted=w.replicas, cluster=key[0] if several else "")
           for key, w in sorted(seen.items())]
    # the clusters without an ingress (egress) gateway: one row each kind, naming them all
    lacking: dict[str, list[str]] = {_INGRESS[2]: [], _EGRESS[2]: []}
    for c in inv.clusters() if several else [inv.cluster]:
        if c in inv.unread_clusters:
            continue
        gateways = [w for key, w in seen.items() if key[0] == c or not several]
        # a Gateway API gateway takes the ingress gateway's place (Istio runs it for a Gateway object)
        if not any(_is_kind(w, _INGRESS) or _GATEWAY_NAME_LABEL in w.labels for w in gateways):
            lacking[_INGRESS[2]].append(c)
        if not any(_is_kind(w, _EGRESS) for w in gateways):
            lacking[_EGRESS[2]].append(c)
    for name, clusters in lacking.items():
        if clusters:
            what = "ingress" if name == _INGRESS[2] else "egress"
            out.append(ComponentStatus(name, NOT_FOUND, optional=True, detail=f"no {what} gateway runs",
                                       cluster=", ".join(clusters) if several else ""))
    return out


def judge(inv: Inventory) -> IstioStatus | None:
    """The status of Istio's components in ``inv`` (the control plane and the gateways, without the
    addons); None when the cluster has no Istio (the window says so otherwise)."""
    if not inv.istio_found:
        return None
    notes = []
    by_cluster = inv.hidden_by_cluster()  # (of several clusters, each one's named)
    gateways_hidden = [(c, k, hidden[k]) for c, hidden in by_cluster for k in sorted(hidden)
                       if k.startswith("*/") and "gateway" in k]
    if gateways_hidden:
        notes.append("Gateways outside the selected namespaces and istio-system are not known: "
                     + "; ".join(f"{k[2:]} {why.split(':', 1)[0]}{f' in cluster {c}' if len(by_cluster) > 1 else ''}"
                                 for c, k, why in gateways_hidden))
    return IstioStatus((*control_plane_status(inv), *gateway_status(inv)), tuple(notes))


def istio_status(inv: Inventory, addons: Iterable[ComponentStatus] = ()) -> IstioStatus | None:
    """:func:`judge` with the ``addons`` the caller knows of (Prometheus, the tracing backend)."""
    judged = judge(inv)
    return None if judged is None else judged.with_addons(addons)
