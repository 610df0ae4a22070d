"""A window left open all day: what grows over many refreshes and what a user does meanwhile (prints
numbers; asserts nothing).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.long_session [refreshes] [--every N] [--live]

The window as ``meshdesk --demo`` opens it (``make_window``: every dock), refreshed one poll after another
(each waited for: the poller's ``graphReady``), and between refreshes what an operator does over a day: the
graph type and the namespaces changed (while a refresh is under way) and changed back, a node selected
(workloads first) with one of the bottom docks (Metrics, Traces, Logs, Envoy, Lists, Istio config, Mesh) shown
over it for a few refreshes, then hidden and the selection cleared; every other time the selected node's graph
opened and left, a Find expression applied and cleared, and every hundred refreshes the context switched away
and back (on the demo, to a snapshot file of it). The docks' own polls (the charts', the logs') run every
``--dock-poll-ms`` (50) instead of every 15 and 2 s, so that they too come as often as in hours. With
``--live`` the context is a cluster served by the Kubernetes API emulator (``tests/kube_emulator.py``) with
the tests' real Prometheus (``tests/prom_server.py``), both in a child process (not counted as the window's),
and the switch goes to the demo mesh or one of two other contexts of the kubeconfig and back; with ``--flaky``
its API server answers 503 to everything for ten refreshes in every hundred.

After ``--warmup`` refreshes (100: each thing made once) and every ``N`` refreshes after (default 50), it
prints: the resident memory (VmRSS, and again after ``malloc_trim``: what the allocator keeps free is not a
leak), the Python objects tracked by the collector and the types that grew most since the first sample, the
main window's QObject descendants, the canvas scene's items, the open file descriptors, the process' threads
(and Python's), the QTimers alive (as Python wrappers and as the window's children), the signal connections of
the window, its descendants and its poller, and the fetches the poller counts in flight; at the end, how much
each grew from the first sample to the last. Counting the window's descendants makes a Python wrapper for
each, and one whose Qt object Qt deletes later stays (the details panel's text tables, Qt's dock animations):
QTextTable, QTextFrame and QPropertyAnimation grow by a few a sample, not a refresh. Objects frozen at the
first graph (``poller.freeze_long_lived``) are not counted. ``--why TYPE,...``: where the objects of those
types made since the last sample are held (the chain of referrers, or a Qt object's parents).
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import gc
import os
import subprocess
import sys
import tempfile
import threading
import tracemalloc

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MESHDESK_CONFIG_DIR", tempfile.mkdtemp(prefix="meshdesk-bench-"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PySide6.QtCore import SIGNAL, QEventLoop, QMetaMethod, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

COLUMNS = ("refresh", "RSS", "trimmed", "objects", "QObjects", "scene", "fds", "threads", "py thr", "QTimers", "win tmr",
           "conns", "in flight")
WIDTHS = (8, 8, 8, 6, 4, 7, 6, 7, 7, 6, 9)


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def trimmed_rss_kb() -> int:
    """VmRSS once the C allocator gave back to the system what it holds free (glibc's ``malloc_trim``):
    memory that grows in VmRSS but not here was freed, not leaked (kept by the allocator, fragmented)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return rss_kb()


def os_threads() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def connections(objects: list[QObject]) -> int:
    """The receivers connected to every signal of ``objects``: a connection made again at each refresh
    and never undone shows here (as a slot run once more each time)."""
    total = 0
    for obj in objects:
        meta = obj.metaObject()
        for i in range(meta.methodCount()):
            method = meta.method(i)
            if method.methodType() == QMetaMethod.MethodType.Signal:
                total += obj.receivers(SIGNAL(bytes(method.methodSignature().data()).decode()))
    return total


def type_counts() -> collections.Counter[str]:
    gc.collect()
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def run_until(done: object, timeout_ms: int = 30000) -> bool:
    """Run the event loop until ``done()`` or the timeout; whether it came."""
    if done():  # type: ignore[operator]
        return True
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(2)
    check.timeout.connect(lambda: loop.quit() if done() else None)  # type: ignore[operator]
    check.start()
    give_up = QTimer()  # (not QTimer.singleShot: its timer would outlive this call, counted as grown)
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    give_up.start(timeout_ms)
    loop.exec()
    check.stop()
    give_up.stop()
    return bool(done())  # type: ignore[operator]


def serve_cluster(work: str) -> int:
    """The child process of ``--live``: the Kubernetes API emulator serving Bookinfo, its Prometheus the real
    one of the tests (``istio_dataset``), until stdin closes; writes ``work/config`` (the kubeconfig) and
    says "ready". Apart from the window's process, so that its memory, threads and sockets are not counted
    as the window's."""
    from pathlib import Path

    import yaml

    from tests.conftest import SHARED
    from tests.envoy_samples import sidecar_dump
    from tests.kube_emulator import KubeEmulator
    from tests.prom_server import PrometheusServer, istio_dataset

    prom = PrometheusServer(Path(work) / "prometheus", istio_dataset())
    prom.start()
    emu = KubeEmulator()
    emu.start()
    emu.load_crds(SHARED / "fixtures/istio/crds/crd-all.gen.yaml")
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(SHARED / "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml", namespace="bookinfo")
    emu.load_yaml(SHARED / "fixtures/istio/bookinfo/networking/virtual-service-all-v1.yaml", namespace="bookinfo")
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "namespace": "istio-system",
                                                                "labels": {"app": "prometheus"}},
             "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090}]}})
    emu.run_workloads()
    emu.proxy_service("istio-system", "prometheus", 9090, prom.url)
    # each sidecar's Envoy admin, read by the Envoy dock over a port-forward (the pod proxy forbidden, as
    # where Istio binds the admin to the pod's localhost): a forward opened and closed at each read
    asked = [emu.serve_envoy_admin("bookinfo", pod["metadata"]["name"], sidecar_dump())
             for pod in emu.objects("pods", namespace="bookinfo")]
    emu.forbid(namespace="bookinfo", resource="pods/proxy")
    config = emu.write_kubeconfig(Path(work) / "config")
    # two more contexts on the same cluster, as an operator's kubeconfig has several: switched between
    doc = yaml.safe_load(config.read_text())
    for name in ("emu-b", "emu-c"):
        doc["contexts"].append({"name": name, "context": dict(doc["contexts"][0]["context"])})
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "fail":  # the API server down (a dropped VPN, an upgrade)
                emu.fail(503)
            elif line.strip() == "ok":
                emu.clear_faults()
            else:  # the emulator keeps a log of every request: forgotten as asked
                emu.calls.clear()
                emu.requests.clear()
                for paths in asked:
                    paths.clear()
    finally:
        emu.stop()
        prom.stop()
    return 0


def live_cluster() -> tuple[str, str, subprocess.Popen[str]]:
    """The kubeconfig's path and context of a cluster served by a child process (:func:`serve_cluster`)."""
    work = tempfile.mkdtemp(prefix="meshdesk-bench-live-")
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.long_session", "--serve-cluster", work],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise SystemExit("the emulated cluster did not start")
    return os.path.join(work, "config"), "emu", child


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("refreshes", nargs="?", type=int, default=500)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=100,
                    help="refreshes before the first sample (every dock shown and the context switched once)")
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--refreshes-only", action="store_true",
                    help="nothing done between the refreshes (to tell what grows with them from what grows with the rest)")
    ap.add_argument("--flaky", action="store_true", help="with --live: the API server down 10 refreshes in 100")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--dock-poll-ms", type=int, default=50, help="the docks' own polls (charts, logs)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="the source lines whose Python allocations grew most since the first sample (slow)")
    ap.add_argument("--serve-cluster", default="", help=argparse.SUPPRESS)
    ap.add_argument("--why", default="", help="type names (a,b): where their objects made since the last sample are kept")
    args = ap.parse_args(argv)
    if args.serve_cluster:
        return serve_cluster(args.serve_cluster)
    _app = QApplication.instance() or QApplication([])

    from meshdesk.ui.app import make_window
    from meshdesk.ui.mainwindow import DEMO
    from meshdesk.ui.nodegraph import focus_for

    cluster: subprocess.Popen[str] | None = None
    if args.live:
        kubeconfig, context, cluster = live_cluster()
        opts = argparse.Namespace(demo=False, kubeconfig=kubeconfig, context=context, namespace=None, snapshot=None)
    else:
        context = DEMO
        opts = argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=None, snapshot=None)
    win = make_window(opts)
    win.resize(1500, 950)
    win.show()
    views = win.extensions[0]
    poller = win.poller
    poller.set_interval(0)  # refreshed by the script, one after another
    results = [0]  # graphs shown so far (counted, not kept: the script must not be what grows)

    def shown(_result: object) -> None:
        results[0] += 1

    poller.graphReady.connect(shown)
    poller.failed.connect(shown)  # (a refresh that failed is over too)
    envoy = {"loaded": 0, "failed": 0}  # the Envoy dock's reads (each a port-forward on --live)
    views.envoy.loaded.connect(lambda *_a: envoy.__setitem__("loaded", envoy["loaded"] + 1))
    views.envoy.failed.connect(lambda *_a: envoy.__setitem__("failed", envoy["failed"] + 1))
    if not run_until(lambda: win.graph is not None and len(win.graph.nodes) > 0):
        print("no graph came", file=sys.stderr)
        return 1
    # the docks' own polls (the charts every 15 s, the logs every 2 s) as often as the script's refreshes:
    # an hour's worth of them too
    views.metrics.set_poll_interval(args.dock_poll_ms)
    views.sparklines.set_poll_interval(args.dock_poll_ms)
    views.logs.timer.setInterval(args.dock_poll_ms)
    tb = win.toolbar
    namespaces = list(tb.selected_namespaces())
    titles = [*views.docks, "Mesh"]

    def refresh() -> None:
        n = results[0]
        poller.refresh_now()
        run_until(lambda: results[0] > n and not poller.busy)

    def graph_type(i: int) -> None:
        combo = tb.graph_type_combo
        combo.setCurrentIndex(i % combo.count())
        combo.activated.emit(combo.currentIndex())

    def show_dock(title: str) -> None:
        if title == "Mesh":
            win.mesh_dock.show()
            win.mesh_dock.raise_()
        else:
            views._raise(title)

    def hide_docks() -> None:
        for dock in [*views.docks.values(), win.mesh_dock]:
            dock.hide()

    def switch_context(to: str) -> None:
        combo = tb.context_combo
        combo.setCurrentIndex(combo.findData(to))
        combo.activated.emit(combo.currentIndex())
        poller.set_interval(0)  # (a context opens with the toolbar's interval)

    others = [DEMO, "emu-b", "emu-c"] if args.live else []
    if not others:
        # the demo alone: a second context to switch to (a kubeconfig with nothing behind it would
        # only show the first-run page), so the switch is to a snapshot file of the demo and back
        from meshdesk.sources.snapshot import save_snapshot

        snap_path = os.path.join(tempfile.mkdtemp(prefix="meshdesk-bench-snap-"), "demo.json")
        assert win.snapshot is not None
        save_snapshot(win.snapshot, snap_path)
    first: collections.Counter[str] | None = None
    seen: dict[str, set[int]] = collections.defaultdict(set)

    def why(name: str) -> None:
        """What holds the objects of type ``name`` that were not there at the last sample (a few, each
        by the chain of types that keep it)."""
        objs = [o for o in gc.get_objects() if type(o).__qualname__ == name]
        new = [o for o in objs if id(o) not in seen[name]]
        seen[name] = {id(o) for o in objs}
        if len(new) == len(objs):
            return  # the first sample: everything is new
        holders: collections.Counter[str] = collections.Counter()
        picked = new[:: max(1, len(new) // 200)]
        mine = {id(objs), id(new), id(picked)}  # this function's own lists refer to them too
        for o in picked:
            chain, at = [], o
            for _ in range(4):
                found = gc.get_referrers(at)
                mine.add(id(found))
                refs = [r for r in found if id(r) not in mine and type(r).__name__ not in ("frame", "list_iterator")]
                mine.add(id(refs))
                if not refs:
                    break
                at = refs[0]
                chain.append(type(at).__qualname__ + (f"[{len(at)}]" if hasattr(at, "__len__") else ""))
            if not chain and isinstance(o, QObject):  # kept by Qt: its parents say where
                at = o.parent()
                while at is not None and len(chain) < 5:
                    chain.append(type(at).__qualname__ + (f"({at.objectName()})" if at.objectName() else ""))
                    at = at.parent()
                o = type(o).__qualname__
            holders[repr(o)[:60] + " <- " + " <- ".join(chain)] += 1
        print(f"        {len(new)} new {name}; held by:")
        for text, n in holders.most_common(8):
            print(f"          {n:>4} {text}")
    header = f"{'refresh':>7} {'RSS MB':>7} {'trimmed':>8} " + " ".join(
        f"{c:>{w}}" for c, w in zip(COLUMNS[3:], WIDTHS[1:], strict=True))

    rows: list[tuple[int, ...]] = []
    traced: tracemalloc.Snapshot | None = None

    def sample(i: int) -> None:
        nonlocal first
        if cluster is not None and cluster.stdin is not None:
            cluster.stdin.write("forget\n")
            cluster.stdin.flush()
        # the Qt objects first: asking for them makes Python wrappers, counted from the first sample on
        scene = win.view.scene()
        descendants = win.findChildren(QObject)
        qt = (len(descendants), len(scene.items()) if scene is not None else 0, len(win.findChildren(QTimer)),
              connections([win, *descendants, poller]))
        del descendants
        counts = type_counts()
        rss = rss_kb()
        row = (i, rss, trimmed_rss_kb(), sum(counts.values()), qt[0], qt[1], fds(), os_threads(), threading.active_count(),
               counts.get("QTimer", 0), qt[2], qt[3], len(poller._in_flight))
        rows.append(row)
        print(f"{row[0]:>7} {row[1] / 1024:>7.1f} {row[2] / 1024:>8.1f} "
              + " ".join(f"{v:>{w}}" for v, w in zip(row[3:], WIDTHS[1:], strict=True)), flush=True)
        for name in filter(None, args.why.split(",")):
            why(name)
        if args.tracemalloc:
            nonlocal traced
            if traced is None:
                tracemalloc.start(8)
                traced = tracemalloc.take_snapshot()
            else:
                grown = tracemalloc.take_snapshot().compare_to(traced, "traceback")
                for stat in grown[:6]:
                    where = " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno}" for f in stat.traceback[:4])
                    print(f"        {stat.size_diff / 1024:+9.1f} KB {stat.count_diff:+7d} blocks  {where}")
        if first is None:
            first = counts
        else:
            grown = sorted(((counts[t] - first.get(t, 0), t) for t in counts), reverse=True)[: args.top]
            print("        grew since the first sample: "
                  + ", ".join(f"{t} +{d}" for d, t in grown if d > 0), flush=True)

    print(f"{'live cluster ' + context if args.live else 'demo mesh'}: {args.refreshes} refreshes, "
          f"a sample every {args.every}")
    print(header)
    for i in range(args.refreshes + 1):
        if i == args.warmup or (i > args.warmup and (i - args.warmup) % args.every == 0):
            sample(i)
        if cluster is not None and args.flaky and i % 100 in (40, 50):
            assert cluster.stdin is not None
            cluster.stdin.write("fail\n" if i % 100 == 40 else "ok\n")
            cluster.stdin.flush()
        step = -1 if args.refreshes_only else i % 10
        if step == 1:
            graph_type(i // 10)
        elif step == 2 and win.graph is not None and win.graph.nodes:
            # a node selected (workloads first: what the Logs and Envoy docks show), a dock shown over it
            # for a few refreshes
            ids = sorted(win.graph.nodes, key=lambda n: (win.graph.nodes[n].node_type != "workload", n))
            win.view.select([ids[(i // 10) % len(ids)]])
            show_dock(titles[(i // 10) % len(titles)])
        elif step in (3, 4) and views.docks["Envoy"].isVisible():
            views.envoy.load()  # its Refresh pressed: the proxy's config read again (a port-forward on --live)
        elif step == 5 and win.graph is not None and i % 20 == 5:
            picked = [n for n in win.view.selected_ids() if n in win.graph.nodes]
            focus = focus_for(win.graph.nodes[picked[0]], tb.choices.graph_type, win.graph) if picked else None
            if focus is not None:
                win.set_focus(focus)  # its node graph (a double-click), and back at the next step
        elif step == 6:
            win.set_focus(None)
            win.view.select([])
            hide_docks()
        elif step == 7 and len(namespaces) > 1:
            poller.refresh_now()  # the namespaces changed while a refresh is under way (it is cancelled)
            tb.select_namespaces(namespaces[: 1 + (i // 10) % len(namespaces)])
        elif step == 8:
            tb.select_namespaces(namespaces)
            if i % 50 == 48:
                tb.find_edit.setText("rate > 0" if i % 100 == 48 else "")
                tb.find_edit.returnPressed.emit()
        elif step == 9 and i % 100 == 99 and not args.refreshes_only:
            if others:
                switch_context(others[(i // 100) % len(others)])
                refresh()
                switch_context(context)
            else:
                win.open_snapshot(snap_path)
                run_until(lambda: win.graph is not None)
                switch_context(context)
        refresh()
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(f"from refresh {a[0]} to {b[0]}: RSS {(b[1] - a[1]) / 1024:+.1f} MB, trimmed {(b[2] - a[2]) / 1024:+.1f} MB; "
              + ", ".join(f"{name} {b[k] - a[k]:+d}" for k, name in enumerate(COLUMNS[3:], start=3)))
    print(f"the Envoy dock read {envoy['loaded']} proxies' config ({envoy['failed']} reads failed)")
    win.quick_exit = True
    win.close()
    win.shutdown()
    if cluster is not None:
        assert cluster.stdin is not None
        cluster.stdin.close()
        cluster.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
