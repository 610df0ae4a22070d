"""How fast is ``meshdesk.mesh.graph.build`` next to just decoding Prometheus' answer?

Synthetic ``istio_requests_total`` telemetry with realistic label sets (the 21 labels the app's
traffic query groups by: reporter, source and destination identity, protocol and codes, mTLS policy
and principals; many namespaces, workloads in versions, calls inside and across namespaces,
source- and destination-reported twins, several response codes, mTLS labels and principals). For
1k, 5k and 20k series it prints:

- ``build``: best wall time of ``build()`` when the same graph was built before in the process (warm:
  what every refresh after the first pays; node and edge ids are remembered per process), the
  garbage collector's share of it, its CPU time and peak memory;
- ``cold``: best wall time of ``build()`` with the remembered ids forgotten first (what the first
  build of a graph pays), and ``cold/json``;
- ``json``: best time of ``json.loads`` on the equivalent Prometheus ``/api/v1/query`` vector
  response, and ``build/json``, the goal the issue sets (<= 1, and 20k series well under a second);
- ``to Samples``: ``json.loads`` plus turning the result into ``Sample`` objects the way the app
  does (``PrometheusClient.query`` then ``sources.telemetry``), and ``build/(to Samples)``, for
  context only: in real use that conversion is part of what a refresh pays before ``build()``.

Decode and build runs are interleaved, best of ``--repeat`` each, so a busy machine weighs on both
alike; the load average is printed. The machine shares its cores, so compare runs with care.

    python benchmarks/graph_build.py [--sizes 1000,5000,20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshdesk.mesh.gcpause import paused_gc  # noqa: E402
from meshdesk.mesh.graph import build  # noqa: E402
from meshdesk.mesh.graph.model import clear_id_caches  # noqa: E402
from meshdesk.mesh.request import GraphRequest  # noqa: E402
from meshdesk.mesh.snapshot import Snapshot  # noqa: E402
from meshdesk.mesh.telemetry import Sample, SampleWarnings  # noqa: E402
from meshdesk.sources import telemetry as telemetry_source  # noqa: E402
from meshdesk.sources.prometheus import vector_series  # noqa: E402

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
    """The answer to the app's traffic query (``sum by (<the 21 labels>) (rate(...))``) as Prometheus
    writes it: compact JSON, no ``__name__`` (a ``sum by`` drops it), values as strings."""
    result = [{"metric": labels, "value": [1700000000.123, repr(v)]} for labels, v in zip(label_sets, values, strict=True)]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}},
                      separators=(",", ":")).encode()


def to_samples(body: bytes) -> list[Sample]:
    """Decode and convert as a refresh does: ``PrometheusClient.query``'s parsing of a vector result,
    then ``sources.telemetry``'s conversion to samples (the same functions, without the HTTP around),
    each with the garbage collector paused as the app pauses it."""
    with paused_gc():
        series = vector_series(json.loads(body)["data"]["result"])
    with paused_gc():
        return telemetry_source.to_samples("istio_requests_total", series, {}, SampleWarnings())


_gc_time = [0.0]
_gc_start = [0.0]


def _gc_watch(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_start[0] = time.perf_counter()
    else:
        _gc_time[0] += time.perf_counter() - _gc_start[0]


class Timing:
    """Best wall time over runs, with the collector's share and the CPU time of that run. The call's
    result is freed after the clock stops."""

    def __init__(self) -> None:
        self.wall, self.gc, self.cpu = float("inf"), 0.0, 0.0

    def run(self, fn):  # type: ignore[no-untyped-def]
        gc.collect()
        _gc_time[0] = 0.0
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        # the result is freed after the clock stops, for every timed call alike (json.loads' answer
        # too): what is timed is the call, not the disposal of what it returned
        del result
        if took < self.wall:
            self.wall, self.gc, self.cpu = took, _gc_time[0], cpu


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,5000,20000")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    print(f"{'series':>7} {'nodes':>6} {'edges':>6} | {'build ms':>8} {'of it GC':>8} {'CPU ms':>7} {'peak MB':>7} | "
          f"{'json ms':>7} {'build/json':>10} | {'cold ms':>7} {'cold/json':>9} | {'to Samples ms':>13} {'build/(to Samples)':>18}")
    gc.callbacks.append(_gc_watch)
    try:
        for size in (int(s) for s in a.sizes.split(",")):
            label_sets, values, namespaces = synthetic(size)
            body = prometheus_body(label_sets, values)
            samples = to_samples(body)
            request = GraphRequest(graphType="versionedApp", namespaces=tuple(namespaces), injectServiceNodes=True,
                                   cluster="prod-eu")
            snap = Snapshot(request, samples)
            graph = build(snap)
            decode, convert, built, cold = Timing(), Timing(), Timing(), Timing()
            for _ in range(a.repeat):
                decode.run(lambda body=body: json.loads(body))
                built.run(lambda snap=snap: build(snap))
                clear_id_caches()
                cold.run(lambda snap=snap: build(snap))
                convert.run(lambda body=body: to_samples(body))
            gc.collect()
            tracemalloc.start()
            build(snap)
            _cur, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{size:>7} {len(graph.nodes):>6} {len(graph.edges):>6} | {built.wall * 1000:>8.1f} "
                  f"{built.gc * 1000:>8.1f} {built.cpu * 1000:>7.1f} {peak / 2**20:>7.1f} | "
                  f"{decode.wall * 1000:>7.1f} {built.wall / decode.wall:>10.2f} | "
                  f"{cold.wall * 1000:>7.1f} {cold.wall / decode.wall:>9.2f} | "
                  f"{convert.wall * 1000:>13.1f} {built.wall / convert.wall:>18.2f}")
    finally:
        gc.callbacks.remove(_gc_watch)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
