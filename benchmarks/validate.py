"""How long do Istio config validations take on a big namespace?

N Services, N workloads, N DestinationRules (one subset each) and N VirtualServices (each through one
Gateway, to its service's subset) in one namespace, and the same spread over 150 namespaces under a
root Sidecar (every namespace then has an import scope), and that spread with mTLS turned on mesh-wide
and per namespace (a ``*.local`` and a ``*.<ns>.svc.cluster.local`` ISTIO_MUTUAL DestinationRule, a
STRICT PeerAuthentication each: every DestinationRule then overrides them); prints the best of three
``validate()`` times for N = 300, 1,000 and 3,000. Validation runs after every poll (lists and graph badges), so it must grow
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


def spread(n: int, namespaces: int) -> Inventory:
    """The same objects over ``namespaces`` namespaces, with a root Sidecar importing each namespace's
    own hosts and istio-system's (a common tuning): every namespace then has an import scope."""
    inv = inventory(n)
    for o in [*inv.workloads, *inv.services, *inv.istio]:
        o.namespace = f"ns{int(o.name.split('-')[0].lstrip('s') or 0) % namespaces}" if o.name != "gw" else "ns0"
    inv.namespaces = [Namespace(f"ns{i}") for i in range(namespaces)] + [Namespace("istio-system")]
    inv.istio.append(IstioObject("Sidecar", "default", "istio-system",
                                 spec={"egress": [{"hosts": ["./*", "istio-system/*"]}]}))
    return inv


def with_mtls(inv: Inventory) -> Inventory:
    """mTLS on for the mesh and each namespace, by a DestinationRule and a PeerAuthentication each."""
    tls = {"tls": {"mode": "ISTIO_MUTUAL"}}
    for ns in {n.name for n in inv.namespaces}:
        host = "*.local" if ns == "istio-system" else f"*.{ns}.svc.cluster.local"
        inv.istio.append(IstioObject("DestinationRule", "mtls", ns, spec={"host": host, "trafficPolicy": tls}))
        inv.istio.append(IstioObject("PeerAuthentication", "default", ns, spec={"mtls": {"mode": "STRICT"}}))
    return inv


def best_ms(inv: Inventory) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        validate(inv)
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main() -> int:
    print(f"{'objects':>8} {'validate ms':>12} {'150 ns + root Sidecar ms':>25} {'+ wide mTLS ms':>15}")
    for n in (300, 1000, 3000):
        print(f"{n:>8} {best_ms(inventory(n)):>12.1f} {best_ms(spread(n, 150)):>25.1f} "
              f"{best_ms(with_mtls(spread(n, 150))):>15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
