"""Time the layout algorithms on a mesh-shaped graph (prints numbers; nothing is asserted).

    python -m benchmarks.layout [nodes] [edges]

Target: layered layout of a 1,700-node graph under 300 ms. Times are CPU time of the running thread
(``time.thread_time``), so other processes competing for the cores do not inflate them; set
MESHDESK_BENCH_WALL=1 for wall-clock time."""

from __future__ import annotations

import os
import sys
import time

from meshdesk.ui import layout
from tests.synthetic_mesh import mesh_shape


def clock() -> float:
    return time.perf_counter() if os.environ.get("MESHDESK_BENCH_WALL") else time.thread_time()


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 1700
    e = int(argv[1]) if len(argv) > 1 else 4000
    shape, pairs = mesh_shape(n, e)
    nodes = [f"{ns}/{name}" for ns, name, _ in shape]
    edges = [(nodes[a], nodes[b]) for a, b in pairs]
    print(f"graph: {len(nodes)} nodes, {len(edges)} edges")
    for name, fn in layout.ALGORITHMS.items():
        best = float("inf")
        for _ in range(3):
            t0 = clock()
            pos = fn(nodes, edges)
            best = min(best, clock() - t0)
        print(f"{name:8s} {best * 1000:7.1f} ms (best of 3)  overlaps: {len(layout.overlaps(pos))}")
    groups = {f"{ns}/{name}": (ns, f"{ns}:{int(name.split('-')[1]) % 4}") for ns, name, _ in shape}
    best = float("inf")
    for _ in range(3):
        t0 = clock()
        pos = layout.layered(nodes, edges, groups=groups)
        best = min(best, clock() - t0)
    print(f"layered with namespace > app boxes: {best * 1000:.1f} ms (best of 3)  overlaps: "
          f"{len(layout.overlaps(pos))}")
    base = layout.layered(nodes, edges)
    new = [f"new-{i}" for i in range(20)]
    new_edges = edges + [(nodes[i * 7], f"new-{i}") for i in range(20)]
    t0 = clock()
    layout.place_new(new, new_edges, base)
    print(f"place_new of 20 nodes among {n}: {(clock() - t0) * 1000:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
