"""Helpers for the UI tests: small in-process MeshSources whose behaviour a test controls, and the
no-leaked-threads check. These stand in for a *source*, never for Qt, the kubernetes client or requests."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from meshdesk.mesh.graph.model import NODE_WORKLOAD, Edge, Node, TrafficGraph, edge_id, node_id
from meshdesk.mesh.inventory import Container, Inventory, Namespace, Pod, Service, ServicePort, Workload
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.telemetry import REQUESTS, Sample
from meshdesk.sources.base import Cancelled, SourceError, SourceInfo


def sample(src: str, dst: str, ns: str, rate: float, code: str = "200") -> Sample:
    return Sample(REQUESTS, {
        "reporter": "destination", "source_workload": src, "source_workload_namespace": ns,
        "source_canonical_service": src.split("-v")[0], "source_canonical_revision": "v1",
        "destination_workload": dst, "destination_workload_namespace": ns,
        "destination_canonical_service": dst.split("-v")[0], "destination_canonical_revision": "v1",
        "destination_service": f"{dst.split('-v')[0]}.{ns}.svc.cluster.local",
        "destination_service_name": dst.split("-v")[0], "destination_service_namespace": ns,
        "request_protocol": "http", "response_code": code, "response_flags": "-",
        "connection_security_policy": "mutual_tls",
    }, rate)


def workload(name: str, ns: str, app: str, version: str = "v1", sidecar: bool = True) -> Workload:
    containers = [Container(app, image=f"example/{app}:1", ready=True)]
    if sidecar:
        containers.append(Container("istio-proxy", image="docker.io/istio/proxyv2:1.24.0", ready=True))
    pod = Pod(f"{name}-abc12", ns, labels={"app": app, "version": version}, phase="Running",
              containers=containers, owner_kind="ReplicaSet", owner_name=f"{name}-abc")
    return Workload(name, ns, "Deployment", {"app": app, "version": version}, pods=[pod], replicas=1,
                    available=1)


def small_inventory(ns: str = "shop") -> Inventory:
    return Inventory(
        cluster="test-cluster",
        namespaces=[Namespace(ns, {"istio-injection": "enabled"})],
        workloads=[workload("frontend-v1", ns, "frontend"), workload("cart-v1", ns, "cart"),
                   workload("legacy-v1", ns, "legacy", sidecar=False)],
        services=[Service("frontend", ns, ports=[ServicePort("http", 8080)], selector={"app": "frontend"}),
                  Service("cart", ns, ports=[ServicePort("http", 9080)], selector={"app": "cart"})],
    )


def tiny_builder(snap: Snapshot) -> TrafficGraph:
    """A deliberately minimal workload graph for poller tests (the real builder is tested on its own)."""
    g = TrafficGraph(request=snap.request)
    for s in snap.samples:
        ns = s.labels["source_workload_namespace"]
        a = g.add_node(Node(node_id(NODE_WORKLOAD, namespace=ns, workload=s.labels["source_workload"]),
                            NODE_WORKLOAD, namespace=ns, workload=s.labels["source_workload"]))
        b = g.add_node(Node(node_id(NODE_WORKLOAD, namespace=ns, workload=s.labels["destination_workload"]),
                            NODE_WORKLOAD, namespace=ns, workload=s.labels["destination_workload"]))
        e = g.add_edge(Edge(edge_id(a.id, b.id, "http"), a.id, b.id, "http"))
        e.rates["http"] = e.rates.get("http", 0.0) + s.value
    return g


class ScriptedSource:
    """A MeshSource whose answers the test scripts: samples per namespace, an error to raise, or a gate
    that holds ``snapshot`` until the test releases it (to have work in flight)."""

    def __init__(self, name: str = "scripted", samples: dict[str, list[Sample]] | None = None,
                 inventory: Inventory | None = None, live: bool = True) -> None:
        self.name = name
        self.samples = samples or {}
        self.inventory = inventory
        self.live = live
        self.error: SourceError | None = None
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.calls: list[GraphRequest] = []
        self.cancelled_seen = False
        self.closed = False
        self.on_snapshot: Callable[[GraphRequest], None] | None = None
        self.ignore_cancel = False  # behave like a call that cannot be interrupted (a TCP connect)

    def info(self) -> SourceInfo:
        return SourceInfo(self.name, f"{self.name}-cluster", f"{self.name} Prometheus", self.live)

    def namespaces(self) -> list[Namespace]:
        if self.error is not None:
            raise self.error
        return [Namespace(n) for n in sorted(self.samples)]

    def snapshot(self, request: GraphRequest, *, with_inventory: bool = True,
                 cancelled: Callable[[], bool] | None = None) -> Snapshot:
        self.calls.append(request)
        self.entered.set()
        if self.gate is not None:
            while not self.gate.wait(0.01):
                if cancelled is not None and cancelled() and not self.ignore_cancel:
                    self.cancelled_seen = True
                    raise Cancelled("cancelled")
        if self.error is not None:
            raise self.error
        samples = [s for ns in request.namespaces for s in self.samples.get(ns, [])]
        inv = replace(self.inventory) if self.inventory is not None else None
        return Snapshot(request, samples, inv, name=self.name)

    def close(self) -> None:
        self.closed = True


def extra_threads(before: set[int]) -> list[str]:
    """Threads started since ``before`` that still run: Python threads, and the app's QThreads.

    (Python lists a foreign thread that ran Python code as a ``_DummyThread`` forever, so QThreads are
    checked through Qt instead.)"""
    from meshdesk.ui.poller import running_qthreads

    py = [t.name for t in threading.enumerate()
          if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)]
    qthreads = running_qthreads()
    try:
        from meshdesk.ui.canvas import running_layout_threads
    except ImportError:
        pass
    else:
        qthreads += running_layout_threads()
    return py + [t.objectName() or "QThread" for t in qthreads]


def open_windows(qtbot: Any, new_window: Callable[..., Any], all_threads: bool = False) -> Iterator[Callable[..., Any]]:
    """For a fixture: yields ``make(*args, **kw)``, which opens and shows ``new_window(*args, **kw)``.
    At the end the windows are closed and no QThread of theirs may be left running; with
    ``all_threads``, no thread the test started may be left either (after a moment to end)."""
    before = {t.ident for t in threading.enumerate()}
    made: list[Any] = []

    def make(*args: Any, **kw: Any) -> Any:
        w = new_window(*args, **kw)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
        assert not w.poller.thread_running

    def app_threads() -> list[str]:
        return [t for t in extra_threads(before) if "QThread" in t or "meshdesk" in t]

    if not all_threads:
        qtbot.waitUntil(lambda: app_threads() == [], timeout=5000)
        return
    assert app_threads() == [], "a QThread was left running after the window closed"
    # A failed API call can leave its HTTP response in a reference cycle (exception -> traceback ->
    # frame) inside the client code; collecting closes that connection so the emulator's handler ends.
    gc.collect()
    try:
        qtbot.waitUntil(lambda: extra_threads(before) == [], timeout=5000)
    except Exception:
        raise AssertionError(f"threads left running: {extra_threads(before)}") from None


# the fixed clock of the demo windows the main-window tests open (conftest's ``demo_window``)
DEMO_NOW = 1_790_000_000.0


def window_test_marks() -> list[Any]:
    """``pytestmark`` of a main-window test module: a UI test, and Qt's offscreen platform's note about
    size hints (it cannot pass them on; not an app problem) is not a failure."""
    import pytest

    return [pytest.mark.ui, pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]


def demo_windows(qtbot: Any, now: float) -> Iterator[Callable[..., Any]]:
    """For a fixture: ``make(namespaces, **kw)`` opens main windows on the demo mesh at the fixed clock
    ``now`` (with a second demo context, "other", to switch to); see ``open_windows``."""
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.mainwindow import DEMO, MainWindow

    def demo() -> DemoCluster:
        return DemoCluster(clock=lambda: now)

    def new_window(namespaces: list[str], **kw: Any) -> MainWindow:
        return MainWindow(context=DEMO, namespaces=namespaces, factories={DEMO: demo, "other": demo}, **kw)

    yield from open_windows(qtbot, new_window)


def shown(qtbot: Any, w: Any, pred: Callable[[TrafficGraph], bool], canvas: bool = True) -> TrafficGraph:
    """Wait until the window shows a graph for which ``pred`` holds (on the canvas, unless ``canvas`` is
    False: a graph with no traffic left shows the empty state instead)."""
    qtbot.waitUntil(lambda: w.graph is not None and (w.stack.currentWidget() is w.view or not canvas)
                    and pred(w.graph), timeout=10000)
    assert w.graph is not None
    graph: TrafficGraph = w.graph
    return graph


def answered_menu(ctl: Any, qtbot: Any, node: Any, graph: Any, inv: Any) -> Any:
    """The actions controller's context menu for ``node``, once its RBAC answers (asked on worker
    threads, the items shown "checking your permissions…" meanwhile) have come."""
    menu = ctl.menu_for(node, graph, inv)
    qtbot.waitUntil(lambda: not any(a.property("pending") for a in menu.actions()), timeout=10000)
    return menu


def open_answered_action(ctl: Any, qtbot: Any, key: str, node: Any, graph: Any, inv: Any) -> Any:
    """``ctl.open_action`` once the selection's RBAC answers have come (it refuses an action still asked)."""
    qtbot.waitUntil(lambda: not any(s.pending for s in ctl.specs_for(node, graph, inv)), timeout=10000)
    return ctl.open_action(key, node, graph, inv)
