"""What the Namespaces list says of each namespace, as Kiali's namespace overview does: whether it is in
the mesh (and the label that puts it there), how its apps fare, how its Istio config validates.

The Details summary of a namespace counts apps and config by the same rules (``app_request_health``,
``app_health_counts``, ``config_counts``): the list and the summary agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from meshdesk.mesh.graph.health import workload_status
from meshdesk.mesh.graph.model import (
    DEGRADED,
    FAILURE,
    HEALTHY,
    NO_HEALTH,
    NODE_APP,
    NODE_BOX,
    NODE_WORKLOAD,
    NOT_READY,
    Health,
    TrafficGraph,
    health_text,
)
from meshdesk.mesh.inventory import DATAPLANE_MODE_LABEL, REVISION_LABEL, App, IstioObject
from meshdesk.mesh.validations import ERROR, WARNING, ObjectKey, Validation, validation_of

# an app's verdict on its requests joined with its pods' state takes the worse, as Kiali joins them ("Not
# Ready" between Healthy and Degraded; no verdict lowest)
MERGE_RANK = {NO_HEALTH: 0, HEALTHY: 1, NOT_READY: 1.5, DEGRADED: 2, FAILURE: 3}

INJECTION_LABEL = "istio-injection"

# the Mesh cell of a namespace, by what its labels say
SIDECAR = "sidecar injection"
AMBIENT = "ambient"
CONTROL_PLANE = "control plane"
OUT_OF_MESH = "not in the mesh"
UNKNOWN_MESH = "unknown"


@dataclass(frozen=True)
class Membership:
    """How a namespace's pods join the mesh, and the label that says so ("" when none does)."""

    mode: str  # SIDECAR, AMBIENT, CONTROL_PLANE, OUT_OF_MESH or UNKNOWN_MESH
    label: str = ""  # "istio-injection=enabled", "istio.io/rev=canary", "istio.io/dataplane-mode=ambient"
    revision: str = ""  # the istiod revision its istio.io/rev names (not the default one)

    @property
    def text(self) -> str:
        """"sidecar injection (istio-injection=enabled)", "ambient (istio.io/dataplane-mode=ambient)",
        "sidecar injection, revision canary (istio.io/rev=canary)", "not in the mesh"."""
        head = f"{self.mode}, revision {self.revision}" if self.revision else self.mode
        return f"{head} ({self.label})" if self.label else head


def membership(labels: Mapping[str, str] | None, control_plane: bool = False) -> Membership:
    """Whether a namespace is in the mesh by its labels, as Istio's webhooks and ztunnel take it:
    ``istio-injection=enabled`` (which wins over a revision label and over ambient mode), ``istio.io/rev``
    without an ``istio-injection`` label, ``istio.io/dataplane-mode=ambient``; any other
    ``istio-injection`` value turns injection off. The control plane's namespace is said as such (Kiali's
    "CP"). ``labels`` None: they could not be read."""
    if labels is None:
        return Membership(CONTROL_PLANE if control_plane else UNKNOWN_MESH)
    injection = labels.get(INJECTION_LABEL)
    rev = labels.get(REVISION_LABEL) or ""
    if control_plane:
        return Membership(CONTROL_PLANE)
    if injection == "enabled":
        return Membership(SIDECAR, f"{INJECTION_LABEL}=enabled")
    if injection is None and rev:
        return Membership(SIDECAR, f"{REVISION_LABEL}={rev}", "" if rev == "default" else rev)
    if injection is None and labels.get(DATAPLANE_MODE_LABEL) == "ambient":
        return Membership(AMBIENT, f"{DATAPLANE_MODE_LABEL}=ambient")
    if injection is not None:
        return Membership(OUT_OF_MESH, f"{INJECTION_LABEL}={injection}")
    return Membership(OUT_OF_MESH)


def app_request_health(graph: TrafficGraph | None,
                       lookup: Callable[[str], str | None] = lambda _c: "") -> dict[tuple[str | None, str, str], str]:
    """Each app's verdict on its requests, by (its cluster as ``lookup`` names it, namespace, app): its
    app box's whole-app verdict where the graph has one, else the worst of its nodes'. A graph that is
    not a versioned-app graph is judged by the one the window made of the same telemetry
    (``graph.list_health``), as Kiali's overview judges an app whatever the graph shows: a service
    graph has no app nodes, an app graph no versions, a workload graph no apps."""
    out: dict[tuple[str | None, str, str], str] = {}
    if graph is None:
        return out
    if graph.list_health is not None:
        graph = graph.list_health
    for n in graph.nodes.values():
        if n.health is None or n.node_type == NODE_BOX or not n.app or n.node_type not in (NODE_APP, NODE_WORKLOAD):
            continue
        key = (lookup(n.cluster), n.namespace, n.app)
        box = n.extra.get("appHealth")
        status = box.status if isinstance(box, Health) else n.health.status
        had = out.get(key)
        if had is None or MERGE_RANK.get(status, 0) > MERGE_RANK.get(had, 0):
            out[key] = status
    return out


def app_health_counts(apps: Iterable[App], requests: Mapping[tuple[str | None, str, str], str],
                      cluster: str | None = "") -> Counter[str]:
    """How many of ``apps`` are at each status, as Kiali's overview counts a namespace's apps: an app's
    requests (all its versions', ``app_request_health``) joined with its pods' state."""
    statuses: Counter[str] = Counter()
    for app in apps:
        said = requests.get((cluster, app.namespace, app.name), NO_HEALTH)
        pods = workload_status(app.workloads)[0]
        statuses[max((said, pods or NO_HEALTH), key=lambda s: MERGE_RANK.get(s, 0))] += 1
    return statuses


# the order the counts are said in: the worst first, as the eye looks for it
_SAID_ORDER = (FAILURE, DEGRADED, NOT_READY, HEALTHY, NO_HEALTH)


def health_counts_text(counts: Mapping[str, int]) -> str:
    """"1 Failure, 2 Healthy" (the worst first); "no apps" when there are none."""
    said = [f"{counts[s]} {health_text(s)}" for s in _SAID_ORDER if counts.get(s)]
    said += [f"{n} {health_text(s)}" for s, n in sorted(counts.items()) if s not in _SAID_ORDER and n]
    return ", ".join(said) or "no apps"


def worst_health(counts: Mapping[str, int]) -> str:
    """The worst status any of the apps has ("" with none)."""
    present = [s for s, n in counts.items() if n]
    return max(present, key=lambda s: MERGE_RANK.get(s, 0)) if present else ""


def config_counts(objs: Sequence[IstioObject], validations: Mapping[ObjectKey, Validation],
                  cluster: str = "") -> tuple[int, int, int]:
    """(objects, those with an error, those with warnings only) of a namespace's Istio config, as Kiali's
    overview counts them (an object's validation looked up in its cluster, else ``cluster``)."""
    with_errors = with_warnings = 0
    for o in objs:
        v = validation_of(validations, (o.kind, o.namespace, o.name), o.cluster or cluster)
        if v is None:
            continue
        if any(c.severity == ERROR for c in v.checks):
            with_errors += 1
        elif any(c.severity == WARNING for c in v.checks):
            with_warnings += 1
    return len(objs), with_errors, with_warnings
