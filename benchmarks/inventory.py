"""Inventory of a large cluster on the Kubernetes API emulator: API calls and wall time.

    python benchmarks/inventory.py [--namespaces 50] [--workloads 40] [--replicas 2] [--repeat 3]

Seeds NAMESPACES x WORKLOADS Deployments (each with a Service, its ReplicaSet and REPLICAS pods with an
istio-proxy sidecar) plus a VirtualService and a DestinationRule per namespace, then reads the
inventory of all those namespaces with ``read_inventory`` through the official client over HTTP.
The emulator runs in its own process; the time still includes its (Python) JSON encoding of every
list, which a real API server does faster.
Prints the number of API calls (it must not grow with the number of namespaces) and the time, with one
or four list calls in flight; then with 50 ms added to every answer (a remote API server), also with
RBAC forcing the per-namespace fallback for pods.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from meshdesk.sources.inventory import InventoryReader  # noqa: E402
from tests.kube_emulator import KubeEmulator  # noqa: E402

CRDS = ROOT.parent / "shared" / "fixtures" / "istio" / "crds" / "crd-all.gen.yaml"


def seed(emu: KubeEmulator, namespaces: int, workloads: int, replicas: int) -> None:
    if CRDS.is_file():
        emu.load_crds(CRDS)
    else:
        print(f"note: {CRDS} is absent, Istio config is not part of this run")
    for n in range(namespaces):
        ns = f"team-{n:02d}"
        emu.add_namespace(ns, {"istio-injection": "enabled"})
        for w in range(workloads):
            app = f"svc-{w:02d}"
            labels = {"app": app, "version": "v1"}
            emu.add({"apiVersion": "apps/v1", "kind": "Deployment",
                     "metadata": {"name": f"{app}-v1", "namespace": ns, "labels": {"app": app}},
                     "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                              "template": {"metadata": {"labels": labels},
                                           "spec": {"containers": [{"name": app, "image": f"example/{app}:1.0",
                                                                    "ports": [{"containerPort": 8080}]}]}}}})
            emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": app, "namespace": ns},
                     "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        if CRDS.is_file():
            emu.add({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                     "metadata": {"name": "svc-00", "namespace": ns},
                     "spec": {"hosts": ["svc-00"], "http": [{"route": [{"destination": {"host": "svc-00"}}]}]}})
            emu.add({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                     "metadata": {"name": "svc-00", "namespace": ns},
                     "spec": {"host": "svc-00", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}})
    emu.run_workloads()


def _serve(conn: Any, namespaces: int, workloads: int, replicas: int) -> None:
    """The emulator in its own process, so its JSON encoding does not share the client's interpreter."""
    with KubeEmulator() as emu:
        t0 = time.perf_counter()
        seed(emu, namespaces, workloads, replicas)
        conn.send((emu.url, time.perf_counter() - t0))
        while True:
            cmd, kwargs = conn.recv()
            if cmd == "stop":
                return
            getattr(emu, cmd)(**kwargs)
            conn.send("ok")


def _client(url: str) -> Any:
    import kubernetes.client

    cfg = kubernetes.client.Configuration()
    cfg.host = url
    return kubernetes.client.ApiClient(cfg)


def measure(url: str, names: list[str] | None, repeat: int, parallel: int) -> tuple[int, list[float], int, int]:
    times, calls, workloads, pods = [], 0, 0, 0
    for _ in range(repeat):
        reader = InventoryReader(_client(url), names, cluster="bench", parallel=parallel)
        start = time.perf_counter()
        inv = reader.read()
        times.append(time.perf_counter() - start)
        calls = reader.calls
        workloads = len(inv.workloads)
        pods = sum(len(w.pods) for w in inv.workloads)
    return calls, times, workloads, pods


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--namespaces", type=int, default=50)
    p.add_argument("--workloads", type=int, default=40)
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--parallel", type=int, nargs="+", default=[1, 4], help="list calls in flight (default: 1 and 4)")
    a = p.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child, a.namespaces, a.workloads, a.replicas), daemon=True)
    server.start()
    try:
        url, seconds = parent.recv()
        print(f"seeded {a.namespaces} namespaces x {a.workloads} workloads x {a.replicas} pods in {seconds:.1f} s "
              "(emulator in its own process)")
        names = [f"team-{n:02d}" for n in range(a.namespaces)]

        def report(label: str, selected: list[str] | None) -> None:
            for parallel in a.parallel:
                calls, times, workloads, pods = measure(url, selected, a.repeat, parallel)
                print(f"{label:26s} parallel={parallel}: {calls:3d} API calls, {workloads:5d} workloads, "
                      f"{pods:5d} pods, median {statistics.median(times):.2f} s "
                      f"(min {min(times):.2f}, max {max(times):.2f})")

        report(f"{a.namespaces} namespaces", names)
        report("1 namespace", names[:1])
        report("every namespace (None)", None)
        parent.send(("slow", {"seconds": 0.05}))  # a remote API server: 50 ms before each answer
        parent.recv()
        report("1 namespace, 50 ms/call", names[:1])
        parent.send(("forbid", {"namespace": "team-00", "resource": "pods"}))
        parent.recv()
        report("pods forbidden, 50 ms/call", names)  # no cluster-wide pod list: one call per namespace
        parent.send(("stop", {}))
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
