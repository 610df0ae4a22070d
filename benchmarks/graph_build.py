"""How fast is ``meshdesk.mesh.graph.build`` next to just decoding Prometheus' answer?

Synthetic ``istio_requests_total`` telemetry with realistic label sets (many namespaces, workloads in
versions, calls inside and across namespaces, source- and destination-reported twins, several
response codes and some mTLS labels). For 1k, 5k and 20k series it prints the time and peak memory
of ``build()`` and the time ``json.loads`` needs for the equivalent Prometheus ``/api/v1/query``
response, and their ratio (goal: build/decode <= 1, and 20k series well under a second).

    python benchmarks/graph_build.py [--sizes 1000,5000,20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshdesk.mesh.graph import build  # noqa: E402
from meshdesk.mesh.request import GraphRequest  # noqa: E402
from meshdesk.mesh.snapshot import Snapshot  # noqa: E402
from meshdesk.mesh.telemetry import Sample  # noqa: E402

CODES = ("200", "200", "200", "201", "204", "301", "404", "500", "503", "0")


def synthetic(n_series: int, seed: int = 1) -> tuple[list[dict[str, str]], list[float], list[str]]:
    """Label sets and values for ``n_series`` series, and the namespaces they live in.

    A fixed call graph (each workload calls three services, mostly in its own namespace), and per
    call a few response codes, each reported by both proxies - the shape real meshes have: many
    more series than edges."""
    rng = random.Random(seed)
    n_ns = max(3, n_series // 400)
    namespaces = [f"team-{i:03d}" for i in range(n_ns)]
    workloads = [(ns, f"svc{j}", f"v{v}") for ns in namespaces for j in range(8) for v in range(1, rng.randint(2, 4))]
    services = [(ns, f"svc{j}") for ns in namespaces for j in range(8)]
    by_service: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for w in workloads:
        by_service.setdefault((w[0], w[1]), []).append(w)
    out: list[dict[str, str]] = []
    values: list[float] = []
    while len(out) < n_series:
        for sns, sapp, sver in workloads:
            same_ns = [s for s in services if s[0] == sns]
            for _ in range(3):
                dns, dapp = rng.choice(same_ns) if rng.random() < 0.8 else rng.choice(services)
                _dns, _dapp, dver = rng.choice(by_service[(dns, dapp)])
                proto = "grpc" if rng.random() < 0.15 else "http"
                for code in sorted(set(rng.choices(CODES, k=3))):
                    base = {
                        "source_cluster": "prod-eu", "source_workload_namespace": sns,
                        "source_workload": f"{sapp}-{sver}", "source_canonical_service": sapp,
                        "source_canonical_revision": sver,
                        "source_principal": f"spiffe://cluster.local/ns/{sns}/sa/{sapp}",
                        "destination_cluster": "prod-eu", "destination_service_namespace": dns,
                        "destination_service": f"{dapp}.{dns}.svc.cluster.local", "destination_service_name": dapp,
                        "destination_workload_namespace": dns, "destination_workload": f"{dapp}-{dver}",
                        "destination_canonical_service": dapp, "destination_canonical_revision": dver,
                        "destination_principal": f"spiffe://cluster.local/ns/{dns}/sa/{dapp}",
                        "request_protocol": proto, "response_code": code,
                        "grpc_response_status": "0" if proto == "grpc" else "",
                        "response_flags": "-" if code != "0" else "DC",
                        "connection_security_policy": "mutual_tls" if rng.random() < 0.9 else "none",
                    }
                    value = round(rng.uniform(0.01, 50), 3)
                    for reporter in ("destination", "source"):
                        out.append({**base, "reporter": reporter})
                        values.append(value)
                if len(out) >= n_series:
                    return out[:n_series], values[:n_series], namespaces
    return out, values, namespaces


def prometheus_body(label_sets: list[dict[str, str]], values: list[float]) -> bytes:
    result = [{"metric": {"__name__": "istio_requests_total", **labels}, "value": [1700000000.123, repr(v)]}
              for labels, v in zip(label_sets, values, strict=True)]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


_gc_time = [0.0]
_gc_start = [0.0]


def _gc_watch(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_start[0] = time.perf_counter()
    else:
        _gc_time[0] += time.perf_counter() - _gc_start[0]


def best_of(repeat: int, fn):  # type: ignore[no-untyped-def]
    """Best wall time of ``repeat`` runs, and the garbage collector's share of that run."""
    best, best_gc = float("inf"), 0.0
    gc.callbacks.append(_gc_watch)
    try:
        for _ in range(repeat):
            gc.collect()
            _gc_time[0] = 0.0
            t0 = time.perf_counter()
            fn()
            took = time.perf_counter() - t0
            if took < best:
                best, best_gc = took, _gc_time[0]
    finally:
        gc.callbacks.remove(_gc_watch)
    return best, best_gc


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,5000,20000")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    print(f"{'series':>7} {'nodes':>6} {'edges':>6} {'build ms':>9} {'of it GC':>9} {'peak MB':>8} "
          f"{'decode ms':>10} {'build/decode':>13}")
    for size in (int(s) for s in a.sizes.split(",")):
        label_sets, values, namespaces = synthetic(size)
        body = prometheus_body(label_sets, values)
        samples = [Sample("istio_requests_total", labels, v) for labels, v in zip(label_sets, values, strict=True)]
        request = GraphRequest(graphType="versionedApp", namespaces=tuple(namespaces), injectServiceNodes=True,
                               cluster="prod-eu")
        snap = Snapshot(request, samples)
        decode, _ = best_of(a.repeat, lambda body=body: json.loads(body))
        graph = build(snap)
        build_s, build_gc = best_of(a.repeat, lambda snap=snap: build(snap))
        gc.collect()
        tracemalloc.start()
        build(snap)
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{size:>7} {len(graph.nodes):>6} {len(graph.edges):>6} {build_s * 1000:>9.1f} "
              f"{build_gc * 1000:>9.1f} {peak / 2**20:>8.1f} {decode * 1000:>10.1f} {build_s / decode:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
