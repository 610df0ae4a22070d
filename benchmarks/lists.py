"""The Lists dock over a big mesh: how long is the window frozen? (prints numbers; asserts nothing)

    QT_QPA_PLATFORM=offscreen python -m benchmarks.lists [workloads] [--profile]

N workloads (a Deployment with two ready pods each, sidecars in), N Services selecting them, a
DestinationRule and a VirtualService for every tenth service, over 50 namespaces; a versioned-app
graph with a workload node and a service node for each, health on both, an edge from each workload to
the next one's service. The validations are made beforehand, as the poller makes them with the graph.

It prints, for the first data and for a refresh (new health, as every poll brings): the time to make
the rows (``build_rows``, now on a worker thread), the longest gap of a 5 ms heartbeat timer on the UI
thread from handing the data to ``MeshLists.set_data`` until the rows are shown (how long the window
could not answer a click), the time until they are shown, and the UI thread's CPU time putting them into
the tables (the gap's part that is the lists' own: the rest is the collector's passes); then the UI thread's time for a key typed in
the Workloads filter; then the same for refreshes with a text in that filter (``FILTERED``), which
matches each row's new cells again. ``--profile`` prints cProfile's top
functions of ``build_rows`` and of putting the rows into the tables.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import sys
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "meshdesk-bench"))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from meshdesk.mesh.graph.model import (  # noqa: E402
    NODE_SERVICE,
    NODE_WORKLOAD,
    Edge,
    Health,
    Node,
    TrafficGraph,
    edge_id,
    node_id,
)
from meshdesk.mesh.inventory import (  # noqa: E402
    Container,
    Inventory,
    IstioObject,
    Namespace,
    Pod,
    Service,
    Workload,
)
from meshdesk.mesh.request import GraphRequest  # noqa: E402

NAMESPACES = 50


def inventory(n: int) -> Inventory:
    """``n`` workloads and ``n`` services over 50 namespaces, with some routing config."""
    workloads, services, istio = [], [], []
    for i in range(n):
        ns = f"ns-{i % NAMESPACES}"
        name = f"svc-{i}"
        labels = {"app": name, "version": "v1"}
        pods = [Pod(f"{name}-v1-{k}", ns, labels=dict(labels), phase="Running", owner_kind="ReplicaSet",
                    owner_name=f"{name}-v1-abc",
                    containers=[Container("app", ready=True, state="running"),
                                Container("istio-proxy", ready=True, state="running")]) for k in range(2)]
        workloads.append(Workload(f"{name}-v1", ns, labels=labels, pods=pods, replicas=2, available=2, ready=2,
                                  current=2, updated=2))
        services.append(Service(name, ns, selector={"app": name}))
        if i % 10 == 0:
            istio.append(IstioObject("DestinationRule", name, ns, spec={
                "host": name, "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}))
            istio.append(IstioObject("VirtualService", name, ns, spec={
                "hosts": [name], "http": [{"route": [{"destination": {"host": name, "subset": "v1"}}]}]}))
    return Inventory(namespaces=[Namespace(f"ns-{k}", labels={"istio-injection": "enabled"})
                                 for k in range(NAMESPACES)],
                     workloads=workloads, services=services, istio=istio)


def graph(inv: Inventory, seed: int = 1) -> TrafficGraph:
    """A workload node and a service node for each, with health (another ``seed``: other health)."""
    rnd = random.Random(seed)
    g = TrafficGraph(request=GraphRequest(graphType="workload",
                                          namespaces=tuple(n.name for n in inv.namespaces)))
    services = []
    for w, s in zip(inv.workloads, inv.services, strict=True):
        wid = node_id(NODE_WORKLOAD, "Kubernetes", w.namespace, workload=w.name)
        node = Node(wid, NODE_WORKLOAD, "Kubernetes", w.namespace, workload=w.name, app=w.app, version="v1")
        node.health = Health(status=rnd.choice(("Healthy", "Healthy", "Degraded", "Failure")))
        g.add_node(node)
        sid = node_id(NODE_SERVICE, "Kubernetes", s.namespace, service=s.name)
        svc = Node(sid, NODE_SERVICE, "Kubernetes", s.namespace, service=s.name)
        svc.health = Health(status=rnd.choice(("Healthy", "Healthy", "Degraded")))
        g.add_node(svc)
        services.append((wid, sid))
    for k, (wid, _sid) in enumerate(services):
        target = services[(k + 1) % len(services)][1]
        e = Edge(edge_id(wid, target, "http"), wid, target, "http")
        e.rates = {"http": 1.0}
        g.add_edge(e)
    return g


def _profile(label: str, fn) -> None:  # type: ignore[no-untyped-def]
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    print(f"\n--- {label}: cProfile, by own time ---")
    pstats.Stats(prof).sort_stats("tottime").print_stats(14)


# what the Workloads filter holds for the last refreshes
FILTERED = "svc-4"


def _refresh(app: QApplication, lists: Any, g: TrafficGraph, inv: Inventory, validations: Any, label: str) -> None:
    """Hand ``lists`` new data; print the time to make the rows, the UI thread's longest gap until they are
    shown, and the time until they are."""
    from meshdesk.ui.lists import build_rows

    t0 = time.perf_counter()
    build_rows(g, inv, validations)
    built = time.perf_counter() - t0
    last = [time.perf_counter()]
    gap = [0.0]

    def beat() -> None:
        now = time.perf_counter()
        gap[0] = max(gap[0], now - last[0])
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    loop = QEventLoop()
    start = time.perf_counter()
    last[0] = start
    updated = getattr(lists, "rowsUpdated", None)
    if updated is not None:
        updated.connect(loop.quit)
    lists.set_data(g, inv, validations)
    gap[0] = max(gap[0], time.perf_counter() - last[0])
    if updated is not None:
        QTimer.singleShot(60000, loop.quit)
        loop.exec()
        updated.disconnect(loop.quit)
    shown = time.perf_counter() - start
    app.processEvents()  # the paint
    gap[0] = max(gap[0], time.perf_counter() - last[0])
    heartbeat.stop()
    print(f"{label:>8} {built:>13.2f} {gap[0]:>17.2f} {shown:>14.2f} {_PUT[-1] if _PUT else 0.0:>13.3f}")


# the UI thread's CPU time putting each update's rows into the tables (``_timed``): as the wall time
# with the machine idle, and steadier than it when other work shares the cores
_PUT: list[float] = []


def _timed(lists: Any) -> None:
    """Time the UI thread's part of each update: the slot the rows made on the thread are handed to
    (the window cannot answer meanwhile; the heartbeat's gap holds it, and the collector's passes too)."""
    put = lists._rows_made

    def timed(generation: int, made: Any) -> None:
        t0 = time.thread_time()
        put(generation, made)
        _PUT.append(time.thread_time() - t0)

    lists._rowsMade.disconnect(put)
    lists._rowsMade.connect(timed)


def main(argv: list[str]) -> int:
    app = QApplication.instance() or QApplication([])
    from meshdesk.ui import gcguard

    gcguard.install()  # as the app (make_window): cyclic garbage collected on the UI thread only
    from meshdesk.mesh.validations import validate
    from meshdesk.ui.lists import WORKLOADS, MeshLists, build_rows

    args = [a for a in argv if not a.startswith("--")]
    n = int(args[0]) if args else 5000
    inv = inventory(n)
    t0 = time.perf_counter()
    validations = validate(inv)
    print(f"{n} workloads, {n} services, {len(inv.istio)} Istio objects; validate() {time.perf_counter() - t0:.2f} s "
          "(made with the graph, on the poller's thread)")
    graphs = [graph(inv, seed) for seed in range(6)]
    if "--profile" in argv:
        _profile("build_rows", lambda: build_rows(graphs[0], inv, validations))
        rows = build_rows(graphs[0], inv, validations)
        lists = MeshLists()
        _profile("rows into the tables (first)", lambda: [p.set_rows(rows.get(t, [])) for t, p in lists.pages.items()])
        _profile("rows into the tables (refresh)", lambda: [p.set_rows(rows.get(t, [])) for t, p in lists.pages.items()])
        return 0

    lists = MeshLists()
    lists.resize(1200, 600)
    lists.setCurrentWidget(lists.pages[WORKLOADS])
    lists.show()
    _timed(lists)
    print(f"{'':>8} {'build_rows s':>13} {'longest UI gap s':>17} {'shown after s':>14} {'tables CPU s':>13}")
    for i, g in enumerate(graphs):
        _refresh(app, lists, g, inv, validations, "first" if i == 0 else "refresh")
    # a key typed in the Workloads filter: the UI thread until the rows it keeps are shown
    page = lists.pages[WORKLOADS]
    for text in ("s", "svc-4", "namespace:ns-11", "app=svc-7", "not valid", ""):
        t0 = time.perf_counter()
        page.filter.setText(text)
        app.processEvents()
        print(f"filter {text!r:>18}: {time.perf_counter() - t0:.3f} s on the UI thread, {page.proxy.rowCount()} rows")
    # refreshes while a filter is typed: each row's new cells are matched again (should cost the UI
    # thread no more than a refresh without one)
    page.filter.setText(FILTERED)
    app.processEvents()
    print(f"refreshes with {FILTERED!r} in the Workloads filter:")
    for g in graphs[1:]:
        _refresh(app, lists, g, inv, validations, "filtered")
    print(f"{page.proxy.rowCount()} rows kept")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
