"""How long does the built-in demo cluster take to answer a snapshot? (prints numbers; asserts nothing)

The UI polls the demo every few seconds from a worker thread; a snapshot should cost a few tens of
milliseconds at most. Times one snapshot for each window length, with and without the inventory.

    python -m benchmarks.demo_snapshot [--repeat 20]
"""

from __future__ import annotations

import argparse
import time

from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.demo import DemoCluster

NAMESPACES = ("hello", "shop", "istio-system")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    demo = DemoCluster(clock=lambda: 1_780_000_000.0)
    for duration in (60, 600, 3600):
        for with_inventory in (False, True):
            request = GraphRequest(namespaces=NAMESPACES, duration=duration)
            snapshot = demo.snapshot(request, with_inventory=with_inventory)  # warm up
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                demo.snapshot(request, with_inventory=with_inventory)
                best = min(best, time.perf_counter() - start)
            print(f"duration {duration:>5}s  inventory {'yes' if with_inventory else 'no ':3}  "
                  f"{best * 1000:6.1f} ms  {len(snapshot.samples)} samples")


if __name__ == "__main__":
    main()
