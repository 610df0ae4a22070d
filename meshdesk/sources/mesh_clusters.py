"""One mesh over several kubeconfig contexts: the Istio cluster name of each, and the inventories of the
contexts a context is linked with, read beside its own.

In a multi-cluster mesh (multi-primary, primary-remote) each cluster's proxies report their cluster by
Istio's cluster id (``source_cluster``/``destination_cluster``), and one Prometheus (shared or federated)
often holds every cluster's series. Kiali reads each cluster of the mesh for its workloads and config and
looks a node up in its own cluster; a context's linked contexts are what meshdesk reads for that.

A cluster's name is the one its telemetry carries: istiod's ``CLUSTER_ID`` (the env of the first container
of a Deployment labelled ``app=istiod``, where Kiali reads it; else of an istiod pod), else the
``topology.istio.io/cluster`` label Istio sets on a remote cluster's istiod namespace, else the name the
kubeconfig gives the cluster. The user may name it instead (Settings, or ``name=context`` on the command
line), and that name is used as given.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from meshdesk.mesh.inventory import ClusterMeshConfig, Inventory, Namespace
from meshdesk.sources.base import Cancelled, Forbidden, NotFound, SourceError
from meshdesk.sources.inventory import InventoryReader, RawApi, read_inventory

log = logging.getLogger(__name__)

ISTIOD_SELECTOR = ("labelSelector", "app=istiod")
CLUSTER_ID_ENV = "CLUSTER_ID"
TOPOLOGY_CLUSTER_LABEL = "topology.istio.io/cluster"
ISTIO_NAMESPACE = "istio-system"
# how the name was found, in words (Settings and the status bar say it)
FOUND_CLUSTER_ID = "istiod's CLUSTER_ID"
FOUND_TOPOLOGY = f"the {TOPOLOGY_CLUSTER_LABEL} label of {ISTIO_NAMESPACE}"
FOUND_KUBECONFIG = "the kubeconfig's cluster name"
GIVEN = "given in Settings"
# a context not reached yet: the one cluster the telemetry names that no context read accounts for
FOUND_TELEMETRY = "the telemetry: the one cluster it names that no context read is"


@dataclass(frozen=True)
class ClusterName:
    """A cluster's Istio name and how it was found (``FOUND_*``, ``GIVEN``)."""

    name: str
    how: str


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _env_cluster_id(pod_spec: dict[str, Any]) -> str:
    containers = pod_spec.get("containers")
    if not isinstance(containers, list) or not containers or not isinstance(containers[0], dict):
        return ""
    for env in containers[0].get("env") or []:
        if isinstance(env, dict) and env.get("name") == CLUSTER_ID_ENV and isinstance(env.get("value"), str):
            return str(env["value"])
    return ""


def _listed(http: RawApi, base: str, plural: str, what: str) -> list[dict[str, Any]]:
    """``plural`` under ``base`` (``/apis/apps/v1``, ``deployments``) labelled app=istiod, cluster-wide,
    else in istio-system (a user without cluster-wide rights)."""
    try:
        return http.list_items(f"{base}/{plural}", [ISTIOD_SELECTOR], what=what)
    except Forbidden:
        pass
    try:
        return http.list_items(f"{base}/namespaces/{ISTIO_NAMESPACE}/{plural}", [ISTIOD_SELECTOR], what=what)
    except (Forbidden, NotFound):
        return []


def istio_cluster_name(api: Any, *, timeout: float = 15.0, cancelled: Callable[[], bool] | None = None) -> ClusterName | None:
    """The cluster's Istio name as its proxies report it, or None when the cluster does not tell it (no
    istiod with a CLUSTER_ID, no topology label, or none of them readable). Raises what reaching the API
    server raises (unreachable, 401, timeout): the caller then does not know the name."""
    http = RawApi(api, timeout, cancelled)
    what = f"find istiod's {CLUSTER_ID_ENV}"
    for base, plural in (("/apis/apps/v1", "deployments"), ("/api/v1", "pods")):
        items = _listed(http, base, plural, what)
        items.sort(key=lambda o: (str(_d(o.get("metadata")).get("namespace")), str(_d(o.get("metadata")).get("name"))))
        for item in items:
            spec = _d(item.get("spec"))
            found = _env_cluster_id(_d(_d(spec.get("template")).get("spec")) if plural == "deployments" else spec)
            if found:
                return ClusterName(found, FOUND_CLUSTER_ID)
    try:
        ns = http.get(f"/api/v1/namespaces/{ISTIO_NAMESPACE}", what=f"read namespace {ISTIO_NAMESPACE}")
    except (Forbidden, NotFound):
        return None
    label = _d(_d(_d(ns).get("metadata")).get("labels")).get(TOPOLOGY_CLUSTER_LABEL)
    return ClusterName(str(label), FOUND_TOPOLOGY) if isinstance(label, str) and label else None


class LinkedCluster:
    """Another context of the mesh: opened on first use (on the poller's worker), its Istio name found
    once, its inventory read beside the shown context's. A context that cannot be opened or read is said
    by its cluster's name (or, before that is known, the name given or the kubeconfig's)."""

    def __init__(self, context: str, opener: Callable[[], Any], *, given_name: str = "",
                 kubeconfig_name: str = "", timeout: float = 30.0) -> None:
        self.context = context
        self._opener = opener
        self.given_name = given_name
        self.kubeconfig_name = kubeconfig_name or context
        self.timeout = timeout
        self._lock = threading.Lock()
        self._api: Any = None
        self._closed = False
        self.found: ClusterName | None = ClusterName(given_name, GIVEN) if given_name else None
        # before its name is found (it was not reached yet): the one the telemetry suggests, if any
        self.guessed: ClusterName | None = None

    @property
    def name(self) -> str:
        """The cluster's name as known now (found, given, else taken from the telemetry, else the
        kubeconfig's)."""
        known = self.found or self.guessed
        return known.name if known is not None else self.kubeconfig_name

    @property
    def how(self) -> str:
        """How its name was found (``FOUND_*``, ``GIVEN``); "" while not known."""
        known = self.found or self.guessed
        return known.how if known is not None else ""

    def _client(self) -> Any:
        with self._lock:
            if self._closed:
                raise Cancelled("Cancelled: the cluster was closed")
            if self._api is not None:
                return self._api
        api = self._opener()
        with self._lock:
            if self._closed:
                _close(api)
                raise Cancelled("Cancelled: the cluster was closed")
            if self._api is None:
                self._api = api
                return api
        _close(api)
        return self._api

    def opened_api(self) -> Any:
        """This cluster's API client when it has been opened (a read of its inventory opened it), else None;
        never opens it (opening may run a login plugin: a worker's task, not the UI thread's)."""
        with self._lock:
            return None if self._closed else self._api

    def check(self) -> None:
        """Ask this cluster's API server for its version (opening its context first): raises what stops it."""
        RawApi(self._client(), min(self.timeout, 15.0), None).get("/version", what=f"contact context {self.context}")

    def namespaces(self) -> list[Namespace]:
        """The namespaces this cluster's user may list (each naming the cluster as known now)."""
        reader = InventoryReader(self._client(), None, cluster=self.name, timeout=self.timeout)
        reader.read_namespaces()
        return list(reader.inv.namespaces)

    def read(self, namespaces: Sequence[str] | None, cancelled: Callable[[], bool] | None = None) -> Inventory:
        """This cluster's inventory of ``namespaces`` (None: every namespace it may list; each object naming
        the cluster). Raises the SourceError that stopped it, its message naming the context."""
        api = self._client()
        if self.found is None:
            found = istio_cluster_name(api, timeout=min(self.timeout, 15.0), cancelled=cancelled)
            self.found = found or ClusterName(self.kubeconfig_name, FOUND_KUBECONFIG)
        return read_inventory(api, None if namespaces is None else list(namespaces), cluster=self.name,
                              timeout=self.timeout, cancelled=cancelled)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            api, self._api = self._api, None
        if api is not None:
            _close(api)


def _close(api: Any) -> None:
    close = getattr(api, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # noqa: BLE001 - closing must never fail the caller
            log.debug("closing a linked cluster's API client failed", exc_info=True)


def refused_everything(inv: Inventory) -> str:
    """Why nothing of ``inv``'s cluster could be read though its API server answered: it refused every read
    (its user's RBAC grants nothing asked, a token bound to another cluster's roles); "" when anything was
    read, or anything hidden for another reason. Such a cluster of a mesh is one not read, as one that is
    down: its refusals are not the shown cluster's, and its objects are not known."""
    if not inv.hidden or inv.workloads or inv.services or inv.istio or inv.outside_gateways or inv.control_planes:
        return ""
    if any(f"{n.name}/namespace" not in inv.hidden for n in inv.namespaces):
        return ""
    refused = [why for _where, why in sorted(inv.hidden.items())]
    if not all(why.startswith(f"{Forbidden.kind}") for why in refused):
        return ""
    # one as the API server said it ("not allowed to list pods in shop"), not what its absence costs
    first = next((why for why in refused if why.startswith(f"{Forbidden.kind}: ")), refused[0]).split(":", 1)[-1].strip()
    return f"{Forbidden.kind}: its API server refused every read ({first}, and {len(refused) - 1} more)" \
        if len(refused) > 1 else refused[0]


def merge_linked(own: Inventory, read: Sequence[tuple[LinkedCluster, Inventory | BaseException]]) -> Inventory:
    """``own`` with the linked clusters' inventories merged in, as a snapshot of several clusters holds
    them (each object naming its cluster); a cluster that could not be read, or refused every read, is
    named in ``unread_clusters`` with why, and the others' stand. Each cluster's control planes are kept,
    naming their cluster."""
    got: list[Inventory] = []
    unread: dict[str, str] = {}
    for linked, result in read:
        refused = refused_everything(result) if isinstance(result, Inventory) else ""
        if refused:
            unread[linked.name] = f"context {linked.context}: {refused}"
        elif isinstance(result, Inventory):
            got.append(result)
        else:
            said = result.message if isinstance(result, SourceError) else f"{type(result).__name__}: {result}"
            unread[linked.name] = f"context {linked.context}: {said}"
    merged = own.merged(got) if got else own
    merged.unread_clusters = {**merged.unread_clusters, **unread}
    # each linked cluster's own mesh config (its automatic mTLS...), for its objects and its lock to be judged by
    merged.linked_mesh_configs = {linked.name: ClusterMeshConfig(result.mesh_settings, dict(result.revision_settings),
                                                                 dict(result.revision_tags))
                                  for linked, result in read if isinstance(result, Inventory) and linked.name not in unread}
    return merged


def telemetry_clusters(samples: Iterable[Any]) -> set[str]:
    """The clusters the telemetry names (its requests' ``source_cluster`` and ``destination_cluster``)."""
    named: set[str] = set()
    for sample in samples:
        labels = getattr(sample, "labels", None) or {}
        for key in ("source_cluster", "destination_cluster"):
            value = labels.get(key)
            if isinstance(value, str) and value and value != "unknown":
                named.add(value)
    return named


def name_unreached(inventory: Inventory, own: str, own_how: str, linked: Sequence[LinkedCluster],
                   named: set[str]) -> Inventory:
    """A linked context not reached since it was opened has no Istio name: it was said by the kubeconfig's
    (``kind-west``), while the telemetry names its nodes ``west``, so neither the graph's box of west nor the
    status said west was not read. When exactly one context of the mesh has no name found and the
    telemetry (``named``) names exactly one cluster that no other context accounts for, that cluster is
    taken as this context's (said so: ``FOUND_TELEMETRY``), until the context answers and tells its own;
    ``inventory``'s ``unread_clusters`` then names it so. With more contexts unnamed, or more clusters
    unaccounted for, or a context read whose name is only the kubeconfig's (its telemetry's name is then not
    known either), no name is guessed: nothing tells which is which. ``own``: the shown context's cluster,
    ``own_how`` how its name was found."""
    unnamed = [c for c in linked if c.found is None]
    told = (FOUND_CLUSTER_ID, FOUND_TOPOLOGY, GIVEN)
    if len(unnamed) != 1 or own_how not in told or any(c.how not in told for c in linked if c.found is not None):
        for c in unnamed:
            c.guessed = None
        return inventory
    lost = unnamed[0]
    accounted = {own, *(c.name for c in linked if c.found is not None)}
    left = sorted(named - accounted)
    was = lost.name
    lost.guessed = ClusterName(left[0], FOUND_TELEMETRY) if len(left) == 1 else None
    if lost.name == was or was not in inventory.unread_clusters:
        return inventory
    unread = {(lost.name if k == was else k): why for k, why in inventory.unread_clusters.items()}
    inventory.unread_clusters = unread
    return inventory
