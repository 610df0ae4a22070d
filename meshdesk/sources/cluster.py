"""A live cluster as a ``MeshSource``: the inventory over the Kubernetes API and telemetry from Istio's
Prometheus, reached through the API server with the user's own kubeconfig credentials.

``open_source(kubeconfig, context)`` builds one. Everything a user can meet comes out as the typed
errors of ``sources.base`` with plain messages (never a token, password or certificate).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from meshdesk.mesh.inventory import ISTIO_KINDS, Inventory, IstioObject, Namespace
from meshdesk.mesh.namespace_traffic import TrafficReading
from meshdesk.mesh.request import GraphRequest, namespace_durations
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.base import (
    Cancelled,
    ConfigError,
    Conflict,
    Forbidden,
    IstioNotFound,
    NotFound,
    PrometheusError,
    SourceError,
    SourceInfo,
    TracingNotFound,
)
from meshdesk.sources.discovery import PrometheusConnection, connect_prometheus
from meshdesk.sources.errors import CONTACT_API
from meshdesk.sources.inventory import (
    ISTIO_GROUP,
    ISTIO_RESOURCES,
    OPTIONAL_ISTIO_RESOURCES,
    InventoryReader,
    RawApi,
    api_server_clock,
    read_inventory,
)
from meshdesk.sources.logs import parse_timestamp
from meshdesk.sources.mesh_clusters import (
    FOUND_KUBECONFIG,
    GIVEN,
    ClusterName,
    LinkedCluster,
    istio_cluster_name,
    merge_linked,
    name_unreached,
    refused_everything,
    telemetry_clusters,
)
from meshdesk.sources.metrics import DEFAULT_SCRAPE_S
from meshdesk.sources.promql import Scope
from meshdesk.sources.tracing_discovery import TracingConnection, connect_tracing

log = logging.getLogger(__name__)

# how long a cluster found to have no tracing backend is left alone before it is looked in again (the
# Traces dock searches at each refresh while shown; its Refresh button looks again at once)
TRACING_LOOK_AGAIN_S = 300.0
DEFAULT_CLUSTER = "Kubernetes"  # Istio's default cluster id, the name its metrics carry
ISTIO_NOT_FOUND = ("Istio was not found in this cluster: it serves no networking.istio.io API "
                   "(install Istio, or pick another context)")

_PLURALS = {kind: (group, plural) for kind, group, plural in ISTIO_RESOURCES + OPTIONAL_ISTIO_RESOURCES}


class ClusterSource:
    """A kubeconfig context (its ``ApiClient``) plus Prometheus. Safe to use from a worker thread:
    the client's connection pool is thread-safe and Prometheus is connected under a lock."""

    def __init__(self, api: Any, *, context: str, cluster: str = DEFAULT_CLUSTER,
                 prometheus_url: str | None = None, prometheus_auth: Mapping[str, Any] | None = None,
                 default_namespace: str = "", timeout: float = 30.0, tracing_url: str | None = None,
                 tracing_auth: Mapping[str, Any] | None = None, tracing_api: str | None = None,
                 clock: Callable[[], float] = time.time, linked: Sequence[LinkedCluster] = (),
                 cluster_given: bool = True, prometheus_scope: Scope = ()) -> None:
        self.api = api
        self.clock = clock  # this machine's clock (unix seconds; a test gives one that is off)
        self.context = context
        self.cluster = cluster or DEFAULT_CLUSTER
        # the other contexts of the same mesh (Settings' linked contexts), whose inventories are read beside
        # this one's and merged, as a snapshot of several clusters holds them
        self.linked = list(linked)
        # how ``cluster`` was found: given (the caller's, kept as it is), or None until it is looked up in the
        # cluster (istiod's CLUSTER_ID...), which is done only in a mesh of several contexts: the name must
        # then be the one the telemetry carries, for each node to be looked up in its own cluster
        self.cluster_found: ClusterName | None = ClusterName(self.cluster, GIVEN if linked else "") \
            if cluster_given or not linked else None
        self.prometheus_url = prometheus_url
        self.prometheus_auth = dict(prometheus_auth or {})
        # the labels every Prometheus query is kept to (Kiali's query_scope), as (name, value) pairs
        self.prometheus_scope: Scope = tuple(prometheus_scope)
        self.default_namespace = default_namespace
        self.namespace_list_forbidden = False  # set by namespaces(): it could only offer the default
        # broken kubeconfig files passed over (open_source(log_problems=False)): for the caller to say
        self.kubeconfig_problems: list[str] = []
        self.timeout = timeout
        self._lock = threading.Lock()  # the state below: held for moments only
        # one search for Prometheus at a time (it may take up to the timeout): not the state's lock, so that
        # closing the source (another context chosen) never waits for a search under way on another thread
        self._connect_lock = threading.Lock()
        self._closed = False
        self._prometheus: PrometheusConnection | None = None
        self._prometheus_error: SourceError | None = None
        # how long Prometheus keeps its data (seconds; None: it did not say), learnt once per connection
        self._retention: tuple[PrometheusConnection, float | None] | None = None
        # its scrape interval (seconds), asked once per connection, for the Namespaces list's sparklines
        self._scrape: tuple[PrometheusConnection, float] | None = None
        # the tracing backend (Jaeger's query API), found on first use: under a lock of its own, so that
        # looking for it (a few API calls and a probe, up to the timeout) never holds up the graph's refresh
        self.tracing_url = tracing_url
        self.tracing_auth = dict(tracing_auth or {})
        self.tracing_api = tracing_api or ""  # "jaeger", "tempo"; "": auto
        self._tracing_lock = threading.Lock()
        self._tracing: TracingConnection | None = None
        self._tracing_error: SourceError | None = None
        self._tracing_closed = False
        # when the cluster was last found to have no tracing backend (monotonic seconds): looked for again
        # after TRACING_LOOK_AGAIN_S, or when the user asks, not at every refresh
        self._tracing_missing_at: float | None = None
        self.istio_found: bool | None = None  # None until asked
        # namespace -> creation time (unix seconds), for young namespaces' rate windows
        self._born: dict[str, float] = {}
        self._born_listed = float("-inf")  # monotonic time of the last listing made for them

    # -- MeshSource ------------------------------------------------------------------------------
    def info(self) -> SourceInfo:
        with self._lock:
            if self._prometheus is not None:
                how = self._prometheus.description
            elif self._prometheus_error is not None:
                how = f"not reachable: {self._prometheus_error.message}"
            elif self.prometheus_url:
                how = "URL (not connected yet)"
            else:
                how = "API server (not connected yet)"
        return SourceInfo(context=self.context, cluster=self.cluster, prometheus=how, live=True)

    def namespaces(self) -> list[Namespace]:
        """Namespaces the user may list; when RBAC forbids listing them, the context's own namespace. In a mesh
        of several contexts whose shown one does not answer, those the linked contexts list (each name once)."""
        reader = InventoryReader(self.api, None, cluster=self.cluster, timeout=self.timeout)
        try:
            reader.read_namespaces()
        except Forbidden as e:
            return self._namespaces_forbidden(e)
        except SourceError as e:
            if isinstance(e, Cancelled) or not self.linked:
                raise
            listed = self._linked_namespaces()
            if listed is None:
                raise
            log.info("context %s cannot list namespaces (%s): its linked contexts' are offered", self.context,
                     e.message)
            self.namespace_list_forbidden = False
            self._remember_births(listed)
            return listed
        self.namespace_list_forbidden = False
        self._remember_births(reader.inv.namespaces, every=True)
        return reader.inv.namespaces

    def _linked_namespaces(self) -> list[Namespace] | None:
        """The namespaces the linked contexts list, each name once (the first context's); None when none
        of them answers."""
        found: dict[str, Namespace] = {}
        answered = False
        for link in self.linked:
            try:
                listed = link.namespaces()
            except SourceError as e:
                log.info("context %s cannot list namespaces either: %s", link.context, e.message)
                continue
            answered = True
            for ns in listed:
                found.setdefault(ns.name, ns)
        return list(found.values()) if answered else None

    def _namespaces_forbidden(self, e: Forbidden) -> list[Namespace]:
        if not self.default_namespace:
            raise e
        log.info("cannot list namespaces (%s); offering the context's namespace", e.message)
        # said so: its labels are not known, so whether it is in the mesh cannot be told
        self.namespace_list_forbidden = True
        return [Namespace(self.default_namespace, cluster=self.cluster)]

    def _remember_births(self, namespaces: Sequence[Namespace], *, every: bool = False) -> None:
        """Note the creation times of ``namespaces``; ``every``: they are all the cluster has (a listing),
        and a namespace deleted since is forgotten (a cluster whose CI makes and deletes namespaces all
        day added one for good each time)."""
        with self._lock:
            if every:
                self._born = {}
            for n in namespaces:
                born = parse_timestamp(n.created) if n.created else math.nan
                if not math.isnan(born):
                    self._born[n.name] = born

    def namespace_births(self, namespaces: Sequence[str]) -> dict[str, float]:
        """The creation times (unix seconds) of those of ``namespaces`` whose age is known. One not known
        yet is looked up with one namespace listing (at most once a minute); one that stays unknown is
        left out."""
        with self._lock:
            missing = any(ns not in self._born for ns in namespaces)
            look = missing and time.monotonic() - self._born_listed > 60
            if look:
                self._born_listed = time.monotonic()
        if look:
            try:
                self.namespaces()
            except SourceError as e:
                log.debug("namespace ages unknown (%s): full rate windows", e.message)
        with self._lock:
            return {ns: self._born[ns] for ns in namespaces if ns in self._born}

    def now(self) -> float:
        """The cluster's present time (unix seconds): Prometheus' clock as its last answer told it, so
        Replay's "an hour ago" is an hour before the newest data even when this machine's clock is off;
        while Prometheus is missing or down, the API server's (its last answer's Date), then the tracing
        backend's; this machine's clock only when none of them has answered."""
        told = self._told_now()
        return told if told is not None else self.clock()

    def _told_now(self) -> float | None:
        """The present as the cluster's servers last told it (see :meth:`now`); None when none has."""
        with self._lock:
            prometheus, tracing = self._prometheus, self._tracing
        server = prometheus.client.server_now() if prometheus is not None else None
        if server is None and self.api is not None:
            server = api_server_clock(self.api).now()
        if server is None and tracing is not None:
            server = tracing.client.server_now()
        return server

    def ask_now(self, *, cluster: bool = True) -> float:
        """The cluster's present as :meth:`now`, Prometheus being looked for and asked first when it has not
        answered yet (a command that reads no graph: ``meshdesk traces``); when it cannot be reached (its
        error is kept for the next snapshot to say), the API server's clock, and when no server of the
        cluster has told the time, the tracing backend's (connected now: the search that follows uses it).
        ``cluster`` False: the cluster did not answer, and is not asked again (a second wait for nothing)."""
        if cluster and (self.api is not None or self.prometheus_url):
            try:
                self._connect()
            except SourceError as e:
                log.debug("Prometheus' clock is not known (%s)", e.message)
        if self._told_now() is None and (self.tracing_url or (cluster and self.api is not None)):
            try:
                self._connect_tracing()
            except SourceError as e:  # (the search says it)
                log.debug("the tracing backend's clock is not known (%s)", e.message)
        return self.now()

    def retention(self) -> float | None:
        """How long Prometheus keeps its data (seconds), as it said when a replayed graph was read; None when
        not known (not asked yet, or a Prometheus, Thanos or Mimir that does not say). Never waits."""
        with self._lock:
            learnt, connection = self._retention, self._prometheus
        return learnt[1] if learnt is not None and learnt[0] is connection else None

    def _learn_retention(self, prometheus: PrometheusConnection) -> None:
        """Ask Prometheus how long it keeps its data, once per connection (Replay reaches no further)."""
        with self._lock:
            if self._retention is not None and self._retention[0] is prometheus:
                return
        try:
            retention = prometheus.client.storage_retention()
        except SourceError as e:  # (Thanos, Mimir, VictoriaMetrics: no such endpoint) Replay keeps its own reach
            log.debug("Prometheus did not say how long it keeps its data: %s", e.message)
            retention = None
        with self._lock:
            self._retention = (prometheus, retention)

    def namespace_traffic(self, request: GraphRequest, cancelled: Callable[[], bool] | None = None) -> TrafficReading:
        """Every namespace's inbound requests over the graph's window (ending at its replayed moment, else the
        cluster's present), in one Prometheus query, for the Namespaces list's sparklines."""
        from meshdesk.sources.metrics import read_namespace_traffic

        prometheus = self._connect()
        with self._lock:
            scrape = self._scrape if self._scrape is not None and self._scrape[0] is prometheus else None
        if scrape is None:
            try:  # asked once per connection (Thanos, Mimir do not say: Istio's 15 s is taken)
                said = prometheus.client.scrape_interval()
            except SourceError:
                said = None
            scrape = (prometheus, said or DEFAULT_SCRAPE_S)
            with self._lock:
                self._scrape = scrape
        reading = read_namespace_traffic(prometheus.client, request.duration,
                                         float(request.queryTime or self.now()), scrape[1])
        return dataclasses.replace(reading, replayed=bool(request.queryTime))

    def _with_namespace_durations(self, request: GraphRequest) -> GraphRequest:
        """``request`` with Kiali's shorter rate windows for namespaces younger than its duration. A
        namespace whose age is not known yet is looked up with one namespace listing (at most once a
        minute); one that stays unknown is read over the whole duration."""
        wanted = [request.node.namespace] if request.node is not None else list(request.namespaces)
        born = self.namespace_births(wanted)
        # a live graph's end is the cluster's present (Prometheus' clock), not this machine's: a clock minutes
        # behind took a namespace created since for one not born yet, its rates spread over the whole window
        durations = namespace_durations(wanted, born, request.duration, request.queryTime or self.now())
        if durations == dict(request.namespaceDurations):
            return request
        return dataclasses.replace(request, namespaceDurations=durations)

    def _took(self, inventory: Inventory) -> Inventory:
        """What a read inventory tells the source: whether Istio is served, and its namespaces' ages."""
        self.istio_found = inventory.istio_found
        self._remember_births(inventory.namespaces)
        return inventory

    def snapshot(self, request: GraphRequest, *, with_inventory: bool = True,
                 cancelled: Callable[[], bool] | None = None) -> Snapshot:
        from meshdesk.sources.telemetry import fetch_samples

        if isinstance(self._prometheus_error, IstioNotFound) and self._istio_missing():
            # watching for Istio to be installed: one discovery call per check, not the inventory and a
            # Prometheus search of a cluster known to have no mesh (they are read once Istio is served)
            raise IstioNotFound(ISTIO_NOT_FOUND)
        namespaces = list(request.namespaces) or [n.name for n in self.namespaces()]
        if not request.namespaces:
            request = _with_namespaces(request, namespaces)
        # the inventory (API server) and the telemetry (Prometheus) are read at the same time
        abort = threading.Event()

        def stop() -> bool:
            return abort.is_set() or (cancelled is not None and cancelled())

        linked = self.linked if with_inventory else []
        with ThreadPoolExecutor(max_workers=1 + len(linked), thread_name_prefix="meshdesk-snapshot") as pool:
            pending = pool.submit(self._read_own, namespaces, stop) if with_inventory else None
            # the linked contexts' inventories, each on a thread of its own: a slow or dead cluster delays
            # only its own part, and its failure is said by its name while the others are shown
            others = [(c, pool.submit(c.read, namespaces, stop)) for c in linked]
            try:
                prometheus = self._connect()  # (its first answer tells Prometheus' clock, for a live graph)
                request = self._with_namespace_durations(request)
                # the scope its telemetry was read with, said by the snapshot (a replayed file names it)
                request = dataclasses.replace(request, queryScope=prometheus.client.scope)
                samples, warnings = fetch_samples(prometheus.client, request, cancelled=stop)
                if request.queryTime:
                    self._learn_retention(prometheus)  # how far back Replay may go
            except BaseException as e:
                # Prometheus alone failed (not found, down, refusing): the inventory is read on, so the
                # cluster's workloads, services and Istio config are shown while Prometheus is missing
                telemetry_error = e if isinstance(e, PrometheusError) and pending is not None and not stop() else None
                if telemetry_error is None:
                    abort.set()
                if isinstance(e, SourceError) and (
                        e.kind in ("unreachable", "forbidden", "unauthorized")
                        or getattr(e, "status", 0) in (404, 502, 503)) and self._prometheus is not None:
                    self._forget_prometheus(e)  # the way to it may have changed: find it again next time
                if pending is not None:
                    problem = pending.exception()
                    if isinstance(problem, SourceError) and not isinstance(problem, Cancelled):
                        raise problem from None  # the cluster's own failure says more (401, unreachable)
                    if telemetry_error is not None and problem is None:
                        read: Inventory = self._with_linked(self._took(pending.result()), others)
                        telemetry_error.partial = Snapshot(request=request, samples=[], inventory=read,
                                                           name=self.context,
                                                           meta={"context": self.context, "cluster": self.cluster})
                raise
            inventory: Inventory | None = None
            if pending is not None:
                down = pending.exception()
                if isinstance(down, SourceError) and not isinstance(down, Cancelled) and not stop() \
                        and any(f.exception() is None for _c, f in others):
                    # this context's API server failed while linked ones answered: their clusters are shown,
                    # this one's nodes drawn from the telemetry alone, and why it is missing said by its name
                    log.info("context %s could not be read (%s): its linked contexts are shown", self.context,
                             down.message)
                    inventory = self._with_linked(self._unread_own(down), others)
                else:
                    inventory = self._with_linked(self._took(pending.result()), others)
                if self.linked:
                    # a linked context not reached yet: named as the telemetry names its cluster, when that
                    # can be told (its graph box and the status then say that cluster was not read)
                    inventory = name_unreached(inventory, self.cluster,
                                               self.cluster_found.how if self.cluster_found is not None else "",
                                               self.linked, telemetry_clusters(samples))
        meta: dict[str, Any] = {"context": self.context, "cluster": self.cluster,
                                "prometheus": prometheus.description,
                                # the moment the telemetry is of: a replayed past one, else the cluster's
                                # present (Prometheus' clock), not this machine's clock that may be off
                                "takenAt": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                         time.gmtime(request.queryTime or self.now()))}
        if inventory is not None:
            # when the workloads and Istio config were read: the present, also when the telemetry is of a
            # replayed moment (a file said only that moment, and a reader took the inventory for its)
            meta["inventoryAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now()))
        if inventory is not None and inventory.hidden:
            meta["hidden"] = dict(inventory.hidden)
        return Snapshot(request=request, samples=samples, inventory=inventory, name=self.context, meta=meta,
                        warnings=warnings)

    def _read_own(self, namespaces: Sequence[str] | None, stop: Callable[[], bool]) -> Inventory:
        """This context's inventory; in a mesh of several contexts, its cluster's Istio name found first
        (once), so that its objects name the cluster its telemetry names."""
        if self.cluster_found is None:
            found = istio_cluster_name(self.api, timeout=min(self.timeout, 15.0), cancelled=stop)
            self.cluster_found = found or ClusterName(self.cluster, FOUND_KUBECONFIG)
            self.cluster = self.cluster_found.name
        return read_inventory(self.api, None if namespaces is None else list(namespaces), cluster=self.cluster,
                              timeout=self.timeout, cancelled=stop)

    def read_mesh_inventory(self, namespaces: Sequence[str] | None,
                            cancelled: Callable[[], bool] | None = None) -> Inventory:
        """The inventory of this context and of its linked contexts, each read at the same time on a thread of
        its own (``namespaces`` in each; None: every namespace each may list), merged as a snapshot merges
        them, without Prometheus (``meshdesk mesh`` over several contexts). A linked context that cannot be
        read is named in ``unread_clusters``, so is this one while a linked one answers; none answering
        raises this context's error."""
        abort = threading.Event()

        def stop() -> bool:
            return abort.is_set() or (cancelled is not None and cancelled())

        with ThreadPoolExecutor(max_workers=1 + len(self.linked), thread_name_prefix="meshdesk-mesh") as pool:
            pending = pool.submit(self._read_own, namespaces, stop)
            others = [(c, pool.submit(c.read, namespaces, stop)) for c in self.linked]
            try:
                down = pending.exception()
            except BaseException:
                abort.set()
                raise
            if down is None:
                return self._with_linked(self._took(pending.result()), others)
            if isinstance(down, SourceError) and not isinstance(down, Cancelled) \
                    and any(f.exception() is None for _c, f in others):
                return self._with_linked(self._unread_own(down), others)
            abort.set()
            raise down

    def _unread_own(self, error: SourceError) -> Inventory:
        """This context's part of a mesh's inventory when its API server failed: nothing of its own, its
        cluster named in ``unread_clusters`` with why (as a linked cluster down is)."""
        return Inventory(cluster=self.cluster, control_planes=None,
                         unread_clusters={self.cluster: f"context {self.context}: {error.message}"})

    def _with_linked(self, own: Inventory, others: Sequence[tuple[LinkedCluster, Future[Inventory]]]) -> Inventory:
        """``own`` with the linked contexts' inventories merged in; one that failed named in
        ``unread_clusters`` (a cancelled read is no failure of its cluster: the whole read stops). This
        context refusing every read while a linked one was read is named not read, as when it is down."""
        if not others:
            return own
        read: list[tuple[LinkedCluster, Inventory | BaseException]] = []
        for linked, future in others:
            problem = future.exception()
            if isinstance(problem, Cancelled):
                raise problem
            if problem is not None and not isinstance(problem, SourceError):
                log.error("reading the inventory of context %s failed", linked.context, exc_info=problem)
            read.append((linked, problem if problem is not None else future.result()))
        refused = refused_everything(own)
        if refused and any(isinstance(r, Inventory) and not refused_everything(r) for _c, r in read):
            log.info("context %s refused every read: its linked contexts are shown", self.context)
            own = Inventory(cluster=self.cluster, control_planes=None,
                            unread_clusters={self.cluster: f"context {self.context}: {refused}"})
        return merge_linked(own, read)

    def clusters(self) -> list[tuple[str, str, str]]:
        """The clusters of this context's mesh as known now: (cluster name, context, how the name was found;
        "" while not looked up yet), this context's first."""
        own = self.cluster_found
        return [(self.cluster, self.context, own.how if own is not None else ""),
                *((c.name, c.context, c.how) for c in self.linked)]

    def api_of(self, cluster: str) -> Any:
        """The API client of the mesh's cluster named ``cluster``: this context's own, or a linked context's
        once it has been opened (its inventory read); None for a cluster not known, or not opened yet. Each
        is its own context's client: its kubeconfig login, its proxy-url."""
        if not cluster or cluster == self.cluster:
            return self.api
        for linked in self.linked:
            if linked.name == cluster:
                return linked.opened_api()
        return None

    def context_of(self, cluster: str) -> str:
        """The kubeconfig context of the mesh's cluster named ``cluster`` ("" when it is none of them)."""
        if not cluster or cluster == self.cluster:
            return self.context
        return next((c.context for c in self.linked if c.name == cluster), "")

    def close(self) -> None:
        for linked in self.linked:
            linked.close()
        # not under the search's lock: a Metrics dock's worker may be looking for Prometheus (up to the
        # timeout), and closing (the poller's, before the next context opens; the window's) must not wait
        with self._lock:
            self._closed = True
            prometheus, self._prometheus = self._prometheus, None
            # nor kept by what was learnt of it: its sockets in use go with it (its close leaves them to the
            # garbage collector, and a source still referred to, by a dock, kept them open)
            self._scrape = self._retention = None
        if prometheus is not None:
            prometheus.close()
        # not under the tracing lock: a search for the backend on a worker thread may hold it for up to the
        # timeout, and closing (on the UI thread, when another context is picked) must not wait for it
        with self._lock:  # (as a failed request gives up its way: see _forget_tracing)
            self._tracing_closed = True
            tracing, self._tracing = self._tracing, None
        if tracing is not None:
            tracing.close()
        close = getattr(self.api, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing must never fail the caller
                log.debug("closing the API client failed", exc_info=True)

    # -- Prometheus ------------------------------------------------------------------------------
    def _connect(self) -> PrometheusConnection:
        with self._connect_lock:  # the others then find what this one found
            with self._lock:
                if self._prometheus is not None:
                    return self._prometheus
                if self._closed:
                    raise Cancelled("Cancelled: the cluster was closed")
            try:
                connection = connect_prometheus(self.api, url=self.prometheus_url, auth=self.prometheus_auth,
                                                timeout=self.timeout, scope=self.prometheus_scope)
            except SourceError as e:
                if isinstance(e, PrometheusError) and not self.prometheus_url and self._istio_missing():
                    e = IstioNotFound(ISTIO_NOT_FOUND)
                with self._lock:
                    self._prometheus_error = e
                raise e from None
            with self._lock:
                if not self._closed:
                    self._prometheus, self._prometheus_error = connection, None
                    return connection
            connection.close()  # the source was closed while Prometheus was looked for
            raise Cancelled("Cancelled: the cluster was closed")

    def _forget_prometheus(self, error: SourceError) -> None:
        with self._lock:
            if self._prometheus is not None:
                self._prometheus.close()
                self._prometheus = None
            self._prometheus_error = error

    # -- the tracing backend ----------------------------------------------------------------------
    def _connect_tracing(self) -> TracingConnection:
        """The tracing backend's connection, found (or the saved URL probed) on first use; raises its
        TracingError, and the next use looks again (when none was found in the cluster: after
        ``TRACING_LOOK_AGAIN_S``, or once ``look_for_tracing_again`` was called)."""
        with self._tracing_lock:
            if self._tracing is not None:
                return self._tracing
            missing, error = self._tracing_missing_at, self._tracing_error
            if missing is not None and isinstance(error, TracingNotFound) and not self.tracing_url:
                waited = time.monotonic() - missing
                if waited < TRACING_LOOK_AGAIN_S:
                    # none was found a moment ago: the cluster is not asked again at every refresh
                    left = max(1, round((TRACING_LOOK_AGAIN_S - waited) / 60))
                    raise TracingNotFound(f"{error.message} (meshdesk looks again in about {left} min, or now "
                                          "with Refresh)", hint=error.hint)
            try:
                connection = connect_tracing(self.api, url=self.tracing_url, auth=self.tracing_auth,
                                             timeout=self.timeout, tracing_api=self.tracing_api or None)
                if self._tracing_closed:  # the source was closed while the backend was looked for
                    connection.close()
                    raise Cancelled("Cancelled: the cluster was closed")
                self._tracing = connection
                self._tracing_error = None
                self._tracing_missing_at = None
                return connection
            except SourceError as e:
                self._tracing_error = e
                self._tracing_missing_at = time.monotonic() if isinstance(e, TracingNotFound) else None
                raise

    def look_for_tracing_again(self) -> None:
        """The user asked (the Traces dock's Refresh): the next search looks for the backend at once, even
        if none was found a moment ago."""
        self._tracing_missing_at = None

    def _forget_tracing(self, error: SourceError, connection: TracingConnection | None = None) -> None:
        """The way to the tracing backend failed (it moved, the proxy was refused): found again next time.
        ``connection``: the way that failed; when another has been found since (by another thread), that
        one is kept."""
        # not under the tracing lock: a search for the backend on a worker thread may hold it for up to the
        # timeout (the source stays open: the next search looks again); under the state's lock, so that the
        # way is taken and checked at once
        with self._lock:
            tracing = self._tracing
            if tracing is None or (connection is not None and tracing is not connection):
                return
            self._tracing, self._tracing_error = None, error
        tracing.close()

    def tracing_how(self) -> str:
        """How the tracing backend is reached, in words, for the Traces view to say (never waits for a
        search under way)."""
        tracing, error = self._tracing, self._tracing_error
        if tracing is not None:
            return tracing.description
        if error is not None:
            return f"not reachable: {error.message}"
        return "URL (not connected yet)" if self.tracing_url else "API server (not connected yet)"

    def tracing_state(self) -> tuple[str, str]:
        """What is known of the tracing backend now, never waiting (the Istio status reads it on the UI
        thread): ("reachable", how it is reached), ("not found", why), ("unreachable", why), or ("", "")
        when it has not been looked for yet (the Traces dock looks for it when it first searches)."""
        tracing, error = self._tracing, self._tracing_error
        if tracing is not None:
            return "reachable", tracing.description
        if isinstance(error, TracingNotFound):
            return "not found", error.message
        if error is not None:
            return "unreachable", error.message
        return "", ""

    def _istio_missing(self) -> bool:
        """Whether the API server serves no Istio API, asked now (one call): an answer kept from an
        earlier check said "Istio was not found" for ever, also once Istio had been installed."""
        try:
            groups = RawApi(self.api, self.timeout, None).get("/apis", what="discover APIs").get("groups") or []
        except SourceError:
            return False
        self.istio_found = any(isinstance(g, dict) and g.get("name") == ISTIO_GROUP for g in groups)
        return not self.istio_found

    def check(self) -> None:
        """Ask the API server for its version: raises Unreachable, Unauthorized or Timeout."""
        RawApi(self.api, min(self.timeout, 15.0), None).get("/version", what=CONTACT_API)

    # -- WritableSource ----------------------------------------------------------------------------
    def _istio_path(self, kind: str, namespace: str, api_version: str = "") -> tuple[str, str]:
        if kind not in _PLURALS:
            raise SourceError(f"{kind} is not an Istio kind meshdesk writes ({', '.join(ISTIO_KINDS)})")
        group, plural = _PLURALS[kind]
        version = api_version.split("/", 1)[1] if "/" in api_version else ""
        if not version or api_version.split("/", 1)[0] != group:
            version = self._served_version(group, plural)
        return f"/apis/{group}/{version}/namespaces/{quote(namespace, safe='')}/{plural}", f"{group}/{version}"

    def _served_version(self, group: str, plural: str) -> str:
        """The best version of ``group`` that serves ``plural`` (networking.istio.io/v1 has no
        envoyfilters: they are v1alpha3 only)."""
        http = RawApi(self.api, self.timeout, None)
        doc = http.get(f"/apis/{group}", what=f"discover {group}")
        served = [str(v.get("version")) for v in doc.get("versions") or [] if isinstance(v, dict)]
        serving = []
        for version in served:
            try:
                listed = http.get(f"/apis/{group}/{version}", what=f"discover {group}/{version}")
            except NotFound:
                continue
            except SourceError:
                serving.append(version)  # its list could not be read: it may serve it
                continue
            if any(isinstance(r, dict) and r.get("name") == plural for r in listed.get("resources") or []):
                serving.append(version)
        served = serving
        for version in ("v1", "v1beta1", "v1alpha3", "v1alpha1"):
            if version in served:
                return version
        if served:
            return served[0]
        raise IstioNotFound(ISTIO_NOT_FOUND)

    def apply(self, obj: IstioObject, *, dry_run: bool = False) -> IstioObject:
        """Create ``obj``, or replace it when it exists (with its ``resource_version``: a stale one gives
        Conflict)."""
        base, api_version = self._istio_path(obj.kind, obj.namespace, obj.api_version)
        manifest = obj.to_manifest()
        manifest["apiVersion"] = api_version
        query = [("dryRun", "All")] if dry_run else []
        http = RawApi(self.api, self.timeout, None)
        what = f"apply {obj.kind} {obj.namespace}/{obj.name}"
        if obj.resource_version:
            out = http.request("PUT", f"{base}/{quote(obj.name, safe='')}", query, manifest, what=what)
        else:
            try:
                out = http.request("POST", base, query, manifest, what=what)
            except SourceError as e:
                if getattr(e, "http_status", 0) != 409:
                    raise
                # Never overwrite blindly: an object that exists must be replaced with the
                # resourceVersion the user saw.
                raise Conflict(f"{obj.kind} {obj.namespace}/{obj.name} already exists",
                               hint="someone created it since you looked; reload it and apply your change again") from e
        from meshdesk.sources.inventory import istio_from_json

        return istio_from_json(out, obj.kind, api_version, self.cluster)

    def delete(self, kind: str, namespace: str, name: str, *, dry_run: bool = False) -> None:
        base, _ = self._istio_path(kind, namespace)
        query = [("dryRun", "All")] if dry_run else []
        RawApi(self.api, self.timeout, None).request("DELETE", f"{base}/{quote(name, safe='')}", query,
                                                     what=f"delete {kind} {namespace}/{name}")

    def label_namespace(self, namespace: str, labels: dict[str, str | None], *, dry_run: bool = False) -> None:
        """Set labels on a namespace (a None value removes the label) with a JSON merge patch."""
        query = [("dryRun", "All")] if dry_run else []
        RawApi(self.api, self.timeout, None).request(
            "PATCH", f"/api/v1/namespaces/{quote(namespace, safe='')}", query, {"metadata": {"labels": labels}},
            content_type="application/merge-patch+json", what=f"label namespace {namespace}")


def _with_namespaces(request: GraphRequest, namespaces: list[str]) -> GraphRequest:
    return dataclasses.replace(request, namespaces=tuple(namespaces))


def open_source(kubeconfig: str | None = None, context: str | None = None, prometheus_url: str | None = None,
                prometheus_auth: dict[str, Any] | None = None, *, cluster: str | None = None,
                timeout: float = 30.0, check: bool = True, log_problems: bool = True,
                tracing_url: str | None = None, tracing_auth: Mapping[str, Any] | None = None,
                tracing_api: str | None = None, clock: Callable[[], float] = time.time,
                linked: Sequence[tuple[str, str]] = (), prometheus_scope: Scope = ()) -> ClusterSource:
    """A ClusterSource for ``context`` (default: the current one) of ``kubeconfig`` (default: KUBECONFIG or
    ~/.kube/config). With ``check`` the API server is asked for its version first, so an unreachable
    server or rejected credentials show up here (Unreachable, Unauthorized, Timeout). Prometheus is
    connected on the first snapshot. ``log_problems`` False: kubeconfig files passed over as broken are not
    logged but kept in ``kubeconfig_problems``, for a command to say in its own words. ``clock``: this
    machine's clock (a test gives one that is off).

    ``linked``: the other contexts of the same mesh, (context, its cluster's name or "" to find it), whose
    inventories each snapshot reads beside this one's (a context that cannot be opened or read is said in
    the inventory's ``unread_clusters``, the others shown). With them, ``cluster`` None has this cluster's
    Istio name found too (istiod's CLUSTER_ID, else the kubeconfig's cluster name); without them it is
    Istio's default, "Kubernetes", as always."""
    from meshdesk.sources.kubeconfig import load_kubeconfig

    config = load_kubeconfig(kubeconfig, log_problems=log_problems)
    ctx = config.context(context)
    api = config.api_client(ctx.name)
    if api is None:  # pragma: no cover - the loader raises instead
        raise ConfigError(f'context "{ctx.name}" gives no API client')
    links: list[LinkedCluster] = []
    for other, given in linked:
        if other == ctx.name or any(other == link.context for link in links):
            continue  # the shown context is read as itself; a context named twice is read once
        try:
            kubeconfig_name = config.context(other).cluster
        except ConfigError:
            kubeconfig_name = ""  # gone from the kubeconfig: said as that cluster's failure at each read

        def opener(name: str = other) -> Any:
            return config.api_client(config.context(name).name)

        links.append(LinkedCluster(other, opener, given_name=given, kubeconfig_name=kubeconfig_name,
                                   timeout=timeout))
    own_name = cluster or (ctx.cluster if links else "") or DEFAULT_CLUSTER
    source = ClusterSource(api, context=ctx.name, cluster=own_name, linked=links, cluster_given=bool(cluster),
                           prometheus_url=prometheus_url,
                           prometheus_auth=prometheus_auth, default_namespace=config.namespace(ctx.name), timeout=timeout,
                           tracing_url=tracing_url, tracing_auth=tracing_auth, tracing_api=tracing_api,
                           clock=clock, prometheus_scope=prometheus_scope)
    source.kubeconfig_problems = [str(p) for p in config.problems]
    if check:
        try:
            source.check()
        except SourceError as e:
            # a mesh of several contexts whose shown one does not answer: opened with what a linked context
            # gives (the shown one read again at each refresh, said missing meanwhile), unless none answers
            if isinstance(e, Cancelled) or not _any_answers(links):
                source.close()
                raise
            log.info("context %s does not answer (%s): opened with its linked contexts", ctx.name, e.message)
        except BaseException:
            source.close()
            raise
    return source


def _any_answers(links: Sequence[LinkedCluster]) -> bool:
    """Whether one of a shown context's linked contexts answers (each opened, and asked its version, in
    turn until one does)."""
    for link in links:
        try:
            link.check()
        except SourceError as e:
            log.info("linked context %s does not answer either: %s", link.context, e.message)
            continue
        return True
    return False

