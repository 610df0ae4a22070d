"""Background polling: fetch a snapshot and build the traffic graph off the UI thread.

A ``Poller`` (UI thread) owns a worker QObject living on its own QThread (Orange3's
``ConcurrentWidgetMixin`` idea). Every change of source or request bumps a *generation*; work of an
older generation is cancelled through the ``cancelled`` callable the source polls, and any result it
still produces is dropped. Failures are reported by signal and retried with capped exponential
backoff (those no wait can mend, ``SourceError.transient`` False, only when asked); the UI keeps the
last good graph. ``shutdown()`` stops the thread and closes the source.
"""

from __future__ import annotations

import gc
import logging
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from meshdesk.mesh.check_codes import IGNORED_BY_DEFAULT
from meshdesk.mesh.graph.model import TrafficGraph
from meshdesk.mesh.inventory import Namespace
from meshdesk.mesh.namespace_traffic import TrafficReading
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.sources.base import (
    Cancelled,
    Forbidden,
    MeshSource,
    SourceError,
    SourceInfo,
    Timeout,
    Unauthorized,
    Unreachable,
)

log = logging.getLogger(__name__)

_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()
# threads left in a call at shutdown (``abandon_after_ms``): kept alive (a QThread destroyed while it
# runs aborts the process) until they end or the process exits
_ABANDONED: list[tuple[QThread, object]] = []

SourceFactory = Callable[[], MeshSource]
GraphBuilder = Callable[[Snapshot], TrafficGraph]

# Namespaces not chosen by default when the user has not picked any for a context yet.
QT_TIMER_MAX_MS = 2**31 - 1  # QTimer takes a 32-bit int of milliseconds
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})
# failures of the API server itself after which the user's Retry opens the source again (Prometheus'
# errors have a kind of their own: the cluster connection is fine)
_REOPEN_KINDS = frozenset({Unauthorized.kind, Unreachable.kind, Timeout.kind})
NAMESPACES_EVERY_S = 120.0


def default_builder(snapshot: Snapshot, ignored_checks: Iterable[str] = IGNORED_BY_DEFAULT,
                    judge_lists: bool = True) -> TrafficGraph:
    """Build the graph, validate the inventory's Istio config (all checks but ``ignored_checks``) and
    mark the nodes it has findings for (all off the UI thread, in the poller's worker; the lists and
    config view take the validations from ``graph.validations``). ``judge_lists``: also judge each
    workload and app apart for the lists (``list_health``), which an app or service graph merges."""
    from meshdesk.mesh.graph import build  # imported lazily: the builder is heavy and optional in tests
    from meshdesk.mesh.validation_badges import annotate, node_badges
    from meshdesk.mesh.validations import validate_except

    graph = build(snapshot)
    if snapshot.inventory is not None:
        graph.validations = validate_except(snapshot.inventory, ignored_checks)
        annotate(graph, node_badges(graph, snapshot.inventory, graph.validations))
        if judge_lists:
            graph.list_health = list_health(snapshot)
    return graph


def lists_judged_apart(request: GraphRequest) -> bool:
    """Whether the graph of ``request`` is not the one the lists judge by (a workload, app or service
    graph with health, not focused on a node): the lists then need :func:`list_health`. An app or
    service graph merges what the lists judge apart; a workload graph has no app nodes, so an app's
    health there was its worst workload's, where Kiali's app health sums all its versions' requests."""
    judged = request.appenders is None or "health" in request.appenders
    return request.graphType != "versionedApp" and request.node is None and judged


def list_health(snapshot: Snapshot) -> TrafficGraph | None:
    """What the lists (and the namespace summary) judge each workload and app by, when the graph of
    ``snapshot`` is not a versioned-app graph (and not focused on a node): a health-only versioned-app
    graph of the same telemetry, whose app boxes' health is Kiali's app health. None when the graph
    itself is that graph."""
    from meshdesk.mesh.graph import build

    request = snapshot.request
    if not lists_judged_apart(request):
        return None
    # the lists judge each workload and app by its own requests, which these graphs merge (health
    # only: badges, response times and mTLS of that graph are never shown)
    per_version = replace(request, graphType="versionedApp", injectServiceNodes=True, appenders=("health",))
    return build(replace(snapshot, request=per_version))


class ValidatingBuilder:
    """:func:`default_builder` with the validation codes the user leaves out (Settings'
    ``ignored_checks``) and whether the lists are shown; the window sets :attr:`ignored_checks` when the
    settings change and :attr:`judge_lists` when the lists are shown or hidden, and the next poll (in
    the worker) reads them."""

    def __init__(self, ignored_checks: Iterable[str] = IGNORED_BY_DEFAULT) -> None:
        self.ignored_checks: frozenset[str] = frozenset(ignored_checks)
        # the lists' own judgement of each workload (a second build for app and service graphs) is
        # made only while they can be seen (set by the window's lists dock)
        self.judge_lists = True

    def __call__(self, snapshot: Snapshot) -> TrafficGraph:
        return default_builder(snapshot, self.ignored_checks, self.judge_lists)


_frozen = False


def freeze_long_lived() -> None:
    """Once per process, after the first graph was shown: move everything alive (modules, widgets,
    canvas items) out of the collector's sight (``gc.freeze``). A full collection otherwise walks
    ~90k objects each time a poll's allocations trigger one (40-55 ms with the GIL held, so the UI
    thread stalls even when the worker triggers it); afterwards it walks only what was made since.
    Frozen objects are still freed by reference counting; only cyclic garbage among them would stay
    (a traffic graph has almost none)."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.freeze()


def default_namespaces(namespaces: Sequence[Namespace]) -> list[str]:
    """What a first look at a cluster shows: the namespaces in the mesh (sidecar injection or ambient
    mode), else every namespace but Kubernetes' and Istio's own, else all."""
    names = [n.name for n in namespaces]
    others = [n for n in namespaces if n.name not in SYSTEM_NAMESPACES and n.name != "istio-system"]
    meshed = [n.name for n in others if n.in_mesh]
    return meshed or [n.name for n in others] or names


@dataclass
class PollResult:
    generation: int
    graph: TrafficGraph
    snapshot: Snapshot
    info: SourceInfo
    fetched_at: float  # time.time() when the data arrived


@dataclass
class PollFailure:
    generation: int
    error: SourceError
    attempt: int  # consecutive failures so far (1 = the first)
    retry_in: float | None  # seconds until the automatic retry, None when paused
    # what could be read without what failed: when Prometheus alone failed, the cluster's graph without
    # traffic (its inventory and validations), for the lists, the Istio config and the docks
    partial: PollResult | None = None


def _detached(error: SourceError) -> SourceError:
    """The error without its traceback and chained causes: the UI keeps the last error, and a
    traceback would keep the failed request's frames - and its open connection - alive."""
    error.__traceback__ = None
    error.__cause__ = None
    error.__context__ = None
    return error


def _labelled(source: MeshSource, namespaces: Sequence[Namespace]) -> frozenset[str]:
    """The names of ``namespaces`` whose labels the source read: none when it could not list them (it
    offers the context's namespace by name), a snapshot's those its inventory holds, else all."""
    if getattr(source, "namespace_list_forbidden", False):
        return frozenset()
    labelled = getattr(source, "labelled_namespaces", None)
    if callable(labelled):
        return frozenset(labelled())
    return frozenset(n.name for n in namespaces)


class _Worker(QObject):
    """Lives on the poller's thread; only ever touched through queued signals (and ``gen``)."""

    # (the source's token: what was opened and listed serves every request of that source, also one
    # made while it was opening)
    sourceOpened = Signal(object, object, object)  # token, source, info
    namespacesReady = Signal(object, int, object, object)  # token, generation, all names, names used
    # token, the namespaces listed (Namespace, with their labels), the names whose labels were read
    namespacesListed = Signal(object, object, object)
    done = Signal(object)  # PollResult
    failed = Signal(int, object)  # generation, SourceError
    trafficRead = Signal(int, object)  # generation, TrafficReading (after ``done``)

    def __init__(self, builder: GraphBuilder) -> None:
        super().__init__()
        self._builder = builder
        self._source: MeshSource | None = None
        self._token: object = None
        self.current_generation = 0  # written by the UI thread, read here (an int: atomic enough)
        self.stopping = False
        self.busy = False  # a fetch is running (read by the UI thread)

    @Slot(object)
    def fetch(self, job: tuple[int, object, SourceFactory, GraphRequest, bool]) -> None:
        generation, token, factory, request, want_namespaces = job

        def cancelled() -> bool:
            return self.stopping or generation != self.current_generation

        if cancelled():
            return
        self.busy = True
        try:
            self._fetch_now(generation, token, factory, request, want_namespaces, cancelled)
        finally:
            self.busy = False

    def _fetch_now(self, generation: int, token: object, factory: SourceFactory, request: GraphRequest,
                   want_namespaces: bool, cancelled: Callable[[], bool]) -> None:
        try:
            if token is not self._token:
                self.close_source()
                self._token = token
            if self._source is None:
                self._source = factory()
                self.sourceOpened.emit(token, self._source, self._source.info())
            source = self._source
            if want_namespaces or not request.namespaces:
                try:
                    namespaces = source.namespaces()
                    labelled = _labelled(source, namespaces)
                except Forbidden:
                    if not request.namespaces:
                        raise
                    # may not list them, may still read the chosen ones
                    namespaces = [Namespace(n) for n in request.namespaces]
                    labelled = frozenset()
                names = [n.name for n in namespaces]
                self.namespacesListed.emit(token, tuple(namespaces), labelled)
                preferred = getattr(source, "preferred_namespaces", None)  # a snapshot's own
                used = list(request.namespaces) or (list(preferred()) if preferred is not None else []) \
                    or default_namespaces(namespaces)
                self.namespacesReady.emit(token, generation, names, used)
                if not request.namespaces:
                    request = replace(request, namespaces=tuple(used))
            if cancelled():
                return
            snap = source.snapshot(request, with_inventory=True, cancelled=cancelled)
            if cancelled():
                return
            graph = self._builder(snap)
            if cancelled():
                return
            self.done.emit(PollResult(generation, graph, snap, source.info(), time.time()))
            self._read_traffic(generation, source, snap.request, cancelled)
        except Cancelled:
            return
        except SourceError as e:
            partial = e.partial
            e.partial = None
            if isinstance(partial, Snapshot) and self._source is not None and not cancelled():
                # Prometheus alone failed: the cluster without its traffic, for the lists and docks
                try:
                    e.partial = PollResult(generation, self._builder(partial), partial, self._source.info(),
                                           time.time())
                except Exception:  # noqa: BLE001 - the failure is said all the same
                    log.exception("building the graph of the inventory alone failed")
            inventory_alone = e.partial is not None  # (read before the UI thread takes it)
            self.failed.emit(generation, _detached(e))
            if inventory_alone and callable(getattr(self._source, "namespace_traffic", None)):
                # nor is the namespaces' traffic read: the sparklines of the last refresh are not kept as now's
                self.trafficRead.emit(generation, TrafficReading(None, problem=e.message))
        except Exception as e:  # a bug or an unexpected library error: report it, keep polling
            log.exception("poll failed")
            self.failed.emit(generation, SourceError(f"{type(e).__name__}: {e}"))

    def _read_traffic(self, generation: int, source: MeshSource, request: GraphRequest,
                      cancelled: Callable[[], bool]) -> None:
        """After the graph: every namespace's inbound requests over its window, for the Namespaces list's
        sparklines (one query, here rather than on the UI thread; the graph is not held up for it). A
        source without them (a snapshot file) says nothing; one that failed says why."""
        read = getattr(source, "namespace_traffic", None)
        if not callable(read) or cancelled():
            return
        try:
            reading = read(request, cancelled=cancelled)
        except Cancelled:
            return
        except SourceError as e:
            reading = TrafficReading(None, problem=e.message)
        except Exception as e:  # noqa: BLE001 - the graph is shown all the same; the list says why
            log.exception("reading the namespaces' traffic failed")
            reading = TrafficReading(None, problem=f"{type(e).__name__}: {e}")
        if not cancelled():
            self.trafficRead.emit(generation, reading)

    @Slot()
    def close_source(self) -> None:
        if self._source is not None:
            try:
                self._source.close()
            except Exception:
                log.exception("closing the source failed")
        self._source = None
        self._token = None


class Poller(QObject):
    """Fetch on a timer, on demand, and after failures (with backoff). Signals arrive on the UI thread."""

    graphReady = Signal(object)  # PollResult
    failed = Signal(object)  # PollFailure
    sourceOpened = Signal(object, object)  # source, SourceInfo
    namespacesReady = Signal(object, object)  # all names, names used
    # the namespaces listed (with their labels, before ``namespacesReady``) and the names whose labels
    # were read (a listing RBAC refused offers names alone)
    namespacesListed = Signal(object, object)
    busyChanged = Signal(bool)
    # every namespace's inbound requests over the graph's window (a TrafficReading), read after each graph
    namespaceTraffic = Signal(object)

    _fetch = Signal(object)  # (generation, token, factory, request, want namespaces)

    def __init__(self, builder: GraphBuilder | None = None, *, backoff_base: float = 2.0,
                 backoff_cap: float = 120.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        # timed refreshes read the namespace list again this often, so a namespace created meanwhile
        # is offered without a manual refresh (as Kiali's namespace menu shows new ones)
        self.namespaces_every_s = NAMESPACES_EVERY_S
        self._listed_at = 0.0  # time.monotonic() of the last namespace list
        self._builder = builder or default_builder
        self._retired: list[tuple[QThread, _Worker]] = []
        self._thread, self._worker = self._start_worker()

        self._generation = 0
        self._factory: SourceFactory | None = None
        self._token: object = None
        self._request: GraphRequest | None = None
        self._want_namespaces = False
        self._listed = False  # a namespace list came for the current source
        self._rejected = False  # the API server rejected the source's credentials (a 401)
        self._held = False  # the last failure is not transient: timed refreshes wait for the user
        self._in_flight: set[int] = set()  # generations with a fetch queued or running
        self._interval_ms = 0
        self._failures = 0
        self.source: MeshSource | None = None
        self.info: SourceInfo | None = None
        self.last_result: PollResult | None = None
        self.last_traffic: TrafficReading | None = None  # the last ``namespaceTraffic``
        # the source's last namespace list, as ``namespacesListed`` gave it: (namespaces, names labelled)
        self.listed_namespaces: tuple[tuple[Namespace, ...], frozenset[str]] = ((), frozenset())
        self._stopped = False

        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self.refresh_now)

    @property
    def builder(self) -> GraphBuilder:
        """What turns each snapshot into the graph shown (called in the worker thread)."""
        return self._builder

    def _start_worker(self) -> tuple[QThread, _Worker]:
        thread = QThread()
        thread.setObjectName("meshdesk-poller")
        _THREADS.add(thread)
        worker = _Worker(self._builder)
        worker.moveToThread(thread)
        self._fetch.connect(worker.fetch)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        worker.sourceOpened.connect(self._on_source_opened)
        worker.namespacesReady.connect(self._on_namespaces)
        worker.namespacesListed.connect(self._on_listed)
        worker.trafficRead.connect(self._on_traffic)
        thread.start()
        return thread, worker

    def _retire_busy_worker(self) -> None:
        """A worker stuck in a call that cannot be interrupted (e.g. connecting to a cluster that does
        not answer) is left to finish on its own; a fresh one serves the new source at once."""
        if not self._worker.busy:
            return
        thread, worker = self._thread, self._worker
        self._fetch.disconnect(worker.fetch)
        worker.stopping = True
        self._retired.append((thread, worker))
        thread.finished.connect(self._reap)
        thread.quit()  # its event loop ends when the current call returns
        self._thread, self._worker = self._start_worker()
        self._worker.current_generation = self._generation

    @Slot()
    def _reap(self) -> None:
        for thread, worker in list(self._retired):
            if thread.isFinished():
                worker.close_source()  # its thread has ended: safe to touch from here
                self._retired.remove((thread, worker))

    # -- what to fetch ------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    @property
    def request(self) -> GraphRequest | None:
        return self._request

    @property
    def busy(self) -> bool:
        return self._generation in self._in_flight

    def set_source(self, factory: SourceFactory, request: GraphRequest) -> None:
        """Switch to another source (context, demo, snapshot): cancels work in flight and fetches."""
        self._factory = factory
        self._token = object()
        self._retire_busy_worker()
        self.source = None
        self.info = None
        self.last_result = None
        self.listed_namespaces = ((), frozenset())
        self._want_namespaces = True
        self._listed = False
        self._set_request(request)

    def set_request(self, request: GraphRequest) -> None:
        """Ask for another graph (namespaces, graph type, window...): cancels work in flight and fetches."""
        if request == self._request:
            return
        self._set_request(request)

    def clear_request(self) -> None:
        """Nothing to fetch (e.g. no namespace selected): cancels work in flight, stops fetching."""
        self._request = None
        self._bump()

    def reload_namespaces(self) -> None:
        """A refresh the user asked for (Refresh, Retry): the namespace list is read again, and after
        the API server rejected the credentials, could not be reached or did not answer, the source is
        opened again, which reads the kubeconfig and runs its credential plugin again (a new login, a
        rotated token, a server address that moved), as kubectl does on its next command. Automatic
        retries do not: an interactive login plugin would open a browser on every one."""
        self._want_namespaces = True
        self._held = False
        if self._rejected:
            self._rejected = False
            self._token = object()  # the worker closes the source it has and opens a new one
        self.refresh_now()

    def reopen(self) -> None:
        """Open the source again and fetch now: what it was opened from changed under it (its context was
        removed from the kubeconfig), and the next fetch says so as opening it says it."""
        self._want_namespaces = True
        self._held = False
        self._rejected = False
        self._token = object()  # the worker closes the source it has and opens a new one
        self.refresh_now()

    def _set_request(self, request: GraphRequest) -> None:
        self._request = request
        self._bump()
        self.refresh_now()

    def _bump(self) -> None:
        self._generation += 1
        self._worker.current_generation = self._generation
        # the fetches of older generations are cancelled and never report back: forgotten here, or each
        # change made while a fetch was under way stayed "in flight" for the rest of the session
        self._in_flight.clear()
        self._failures = 0
        self._held = False
        self._retry.stop()

    def set_interval(self, seconds: float) -> None:
        """Automatic refresh every ``seconds``; 0 pauses (manual refresh only). Qt's timers count
        milliseconds in a 32-bit int: a longer period is cut to that (24.8 days)."""
        ms = seconds * 1000
        self._interval_ms = int(min(ms, QT_TIMER_MAX_MS)) if ms == ms else 0  # (NaN: paused)
        if self._interval_ms > 0 and not self._stopped:
            self._timer.start(self._interval_ms)
        else:
            self._timer.stop()

    @property
    def interval(self) -> float:
        return self._interval_ms / 1000

    # -- fetching ------------------------------------------------------------------------
    def refresh_now(self) -> None:
        if self._stopped or self._factory is None or self._request is None:
            return
        if self._generation in self._in_flight:
            return  # one fetch per generation at a time; its result is fresh anyway
        self._retry.stop()
        self._in_flight.add(self._generation)
        self.busyChanged.emit(True)
        # the namespace list is asked for until one has come for this source (a first fetch that
        # failed before listing them must not leave the menu without them)
        want = self._want_namespaces or not self._listed
        self._want_namespaces = False
        self._fetch.emit((self._generation, self._token, self._factory, self._request, want))

    def _tick(self) -> None:
        if not self._retry.isActive() and not self._held:  # while backing off, the retry timer decides
            if self._listed and time.monotonic() - self._listed_at >= self.namespaces_every_s:
                self._want_namespaces = True
            self.refresh_now()

    def _finish(self, generation: int) -> None:
        self._in_flight.discard(generation)
        self.busyChanged.emit(self.busy)

    @Slot(object)
    def _on_done(self, result: PollResult) -> None:
        self._finish(result.generation)
        if result.generation != self._generation or self._stopped:
            return
        self._failures = 0
        self._rejected = False
        self._held = False
        self.last_result = result
        self.info = result.info
        self.graphReady.emit(result)
        if not _frozen and result.graph.nodes:
            QTimer.singleShot(0, freeze_long_lived)  # after the window applied (and kept) this graph

    @Slot(int, object)
    def _on_traffic(self, generation: int, reading: TrafficReading) -> None:
        if generation == self._generation and not self._stopped:
            self.last_traffic = reading
            self.namespaceTraffic.emit(reading)

    @Slot(int, object)
    def _on_failed(self, generation: int, error: SourceError) -> None:
        self._finish(generation)
        if generation != self._generation or self._stopped:
            return
        # the API server's 401 (a Prometheus 401 is Prometheus' own login: the cluster connection stays),
        # or an API server not reached or not answering (it may have moved: the kubeconfig is read again)
        self._rejected = error.kind in _REOPEN_KINDS
        self._failures += 1
        partial = error.partial if isinstance(error.partial, PollResult) else None
        error.partial = None  # (the window keeps the error: not the graph with it)
        if not error.transient:
            # a file that is not a snapshot stays one until it is changed: said once, read again
            # when the user asks (Retry, Refresh), not every few seconds for ever
            self._held = True
            self.failed.emit(PollFailure(generation, error, self._failures, None, partial))
            return
        delay = min(self.backoff_cap, self.backoff_base * (2 ** (self._failures - 1)))
        self._retry.start(int(delay * 1000))
        self.failed.emit(PollFailure(generation, error, self._failures, delay, partial))

    @Slot(object, object, object)
    def _on_source_opened(self, token: object, source: MeshSource, info: SourceInfo) -> None:
        # opened once per source: a request changed while it opened (replay, another window...) still
        # wants it, so only another source's opening is old news
        if token is not self._token or self._stopped:
            return
        self.source = source
        self.info = info
        self.sourceOpened.emit(source, info)

    @Slot(object, int, object, object)
    def _on_namespaces(self, token: object, generation: int, names: list[str], used: list[str]) -> None:
        if token is not self._token or self._stopped:
            return
        self._listed = True
        self._listed_at = time.monotonic()
        if generation == self._generation and self._request is not None and not self._request.namespaces:
            self._request = replace(self._request, namespaces=tuple(used))  # same fetch: no new generation
        self.namespacesReady.emit(names, used)

    @Slot(object, object, object)
    def _on_listed(self, token: object, namespaces: tuple[Namespace, ...], labelled: frozenset[str]) -> None:
        if token is not self._token or self._stopped:
            return
        self.listed_namespaces = (namespaces, labelled)
        self.namespacesListed.emit(namespaces, labelled)

    def retry_delay(self) -> float:
        return self._retry.remainingTime() / 1000 if self._retry.isActive() else 0.0

    # -- the end ---------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 10000, *, abandon_after_ms: int | None = None) -> None:
        """Cancel work, stop the thread, close the source. Safe to call twice. ``abandon_after_ms``: a
        thread still in a call then (a credential plugin waiting for a login, an API server that does
        not answer) is left to end on its own instead of being waited for - the app closing does not
        freeze; its process then exits without waiting for it."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        self._retry.stop()
        self._generation += 1
        self._worker.current_generation = self._generation
        every = [(self._thread, self._worker), *self._retired]
        for thread, worker in every:
            worker.stopping = True
            thread.quit()
        for thread, worker in every:
            # a call that ignores cancellation ends at the latest with its own timeout
            first = timeout_ms if abandon_after_ms is None else min(timeout_ms, abandon_after_ms)
            if not thread.wait(first):
                if abandon_after_ms is not None:
                    log.warning("a poller thread is still in a call after %d ms; leaving it", first)
                    _ABANDONED.append((thread, worker))
                    continue
                log.warning("a poller thread is still in a call after %d ms; waiting for it", timeout_ms)
                thread.wait()
            worker.close_source()  # the thread has ended: safe to touch from here
        self._retired.clear()
        self.source = None

    @property
    def thread_running(self) -> bool:
        return self._thread.isRunning() or any(t.isRunning() for t, _w in self._retired)


def running_qthreads() -> list[QThread]:
    """Poller threads still running (tests assert none is left after close)."""
    return [t for t in list(_THREADS) if t.isRunning()]
