"""How long do Istio config validations take on a big namespace?

N Services, N workloads, N DestinationRules (one subset each) and N VirtualServices (each through one
Gateway, to its service's subset) in one namespace; prints the best of three ``validate()`` times for
N = 300, 1,000 and 3,000. Validation runs after every poll (lists and graph badges), so it must grow
with the objects, not with their square.

    python benchmarks/validate.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, Service, Workload  # noqa: E402
from meshdesk.mesh.validations import validate  # noqa: E402


def inventory(n: int) -> Inventory:
    workloads = [Workload(f"s{i}-v1", "ns", labels={"app": f"s{i}", "version": "v1"}) for i in range(n)]
    services = [Service(f"s{i}", "ns", selector={"app": f"s{i}"}) for i in range(n)]
    rules = [IstioObject("DestinationRule", f"s{i}", "ns", spec={
        "host": f"s{i}", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}) for i in range(n)]
    routes = [IstioObject("VirtualService", f"s{i}", "ns", spec={
        "hosts": [f"s{i}"], "gateways": ["gw"],
        "http": [{"route": [{"destination": {"host": f"s{i}", "subset": "v1"}}]}]}) for i in range(n)]
    gateway = IstioObject("Gateway", "gw", "ns", spec={"selector": {"istio": "ingressgateway"}})
    return Inventory(namespaces=[Namespace("ns")], workloads=workloads, services=services,
                     istio=[*rules, *routes, gateway])


def main() -> int:
    print(f"{'objects':>8} {'validate ms':>12}")
    for n in (300, 1000, 3000):
        inv = inventory(n)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            validate(inv)
            best = min(best, time.perf_counter() - t0)
        print(f"{n:>8} {best * 1000:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
