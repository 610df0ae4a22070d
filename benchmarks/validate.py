"""How long do Istio config validations take on a big namespace?

N Services, N workloads, N DestinationRules (one subset each) and N VirtualServices (each through one
Gateway, to its service's subset) in one namespace, and the same spread over 150 namespaces under a
root Sidecar (every namespace then has an import scope), and that spread with mTLS turned on mesh-wide
and per namespace (a ``*.local`` and a ``*.<ns>.svc.cluster.local`` ISTIO_MUTUAL DestinationRule, a
STRICT PeerAuthentication each: every DestinationRule then overrides them); and N Gateways (under one
selector, each host on two ports, some shared) with N AuthorizationPolicies naming principals and
source namespaces, over 150 namespaces (KIA0301, KIA0101, KIA0105); and N workloads of one namespace
with a PeerAuthentication and an AuthorizationPolicy each (KIA0105 per workload); and N ServiceEntries
in pairs sharing a host and port over 150 namespaces (KIA1211, MDK1209). It prints the best of three
``validate()`` times for N = 300, 1,000 and 3,000. Validation runs after every poll (lists and graph badges), so it must grow
with the objects, not with their square.

    python benchmarks/validate.py
"""

from __future__ import annotations

import copy
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


def gateways_and_policies(n: int, namespaces: int = 150) -> Inventory:
    """N Gateways for one ingress, every tenth sharing a host with the one before it, one of them for
    "*.example.com"; N AuthorizationPolicies with principals and source namespaces (one in ten naming a
    namespace that does not exist), and a PeerAuthentication turning mTLS off in every other namespace."""
    names = [f"ns{i}" for i in range(namespaces)]
    gateways = [IstioObject("Gateway", f"gw{i}", names[i % namespaces], spec={
        "selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": port, "name": f"p{port}", "protocol": "HTTP"},
                     "hosts": [f"s{i - (i % 10 == 9)}.example.com", f"{names[i % namespaces]}/s{i}.shop.example.com"]}
                    for port in (80, 443)]}) for i in range(n)]
    gateways.append(IstioObject("Gateway", "wild", "ns0", spec={
        "selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 443}, "hosts": ["*.example.com"]}]}))
    policies = [IstioObject("AuthorizationPolicy", f"ap{i}", names[i % namespaces], spec={
        "selector": {"matchLabels": {"app": f"s{i}"}},
        "rules": [{"from": [{"source": {"principals": [f"cluster.local/ns/{names[(i + 1) % namespaces]}/sa/s{i}"],
                                        "namespaces": [names[(i + 1) % namespaces], "gone" if i % 10 == 0 else "ns*"]}}]}]})
        for i in range(n)]
    peers = [IstioObject("PeerAuthentication", "default", ns, spec={"mtls": {"mode": "DISABLE"}}) for ns in names[::2]]
    workloads = [Workload(f"s{i}", names[i % namespaces], labels={"app": f"s{i}"}) for i in range(n)]
    return Inventory(namespaces=[Namespace(ns) for ns in [*names, "istio-system"]], workloads=workloads,
                     istio=[*gateways, *policies, *peers], cluster_namespaces=[*names, "istio-system"])


def per_workload(n: int) -> Inventory:
    """N workloads in one namespace, each with its Service, a PERMISSIVE PeerAuthentication and an
    AuthorizationPolicy naming a principal (KIA0105 per workload: a policy must find its own
    PeerAuthentications and services without scanning the namespace's)."""
    istio: list[IstioObject] = []
    for i in range(n):
        selector = {"matchLabels": {"app": f"s{i}"}}
        istio.append(IstioObject("PeerAuthentication", f"pa{i}", "ns", spec={
            "selector": selector, "mtls": {"mode": "PERMISSIVE"}}))
        istio.append(IstioObject("AuthorizationPolicy", f"ap{i}", "ns", spec={"selector": selector, "rules": [
            {"from": [{"source": {"principals": [f"cluster.local/ns/ns/sa/s{i}"]}}]}]}))
    istio.append(IstioObject("DestinationRule", "s0", "ns", spec={"host": "s0"}))
    return Inventory(namespaces=[Namespace("ns"), Namespace("istio-system")],
                     workloads=[Workload(f"s{i}", "ns", labels={"app": f"s{i}"}) for i in range(n)],
                     services=[Service(f"s{i}", "ns", selector={"app": f"s{i}"}) for i in range(n)], istio=istio)


def service_entries(n: int, namespaces: int = 150) -> Inventory:
    """N ServiceEntries over ``namespaces`` namespaces under a root Sidecar, in pairs declaring one
    host and port (KIA1211, MDK1209), every third kept to its own namespace by ``exportTo``: each entry
    must be compared with those sharing a host, not with every other, nor once per namespace."""
    names = [f"ns{i}" for i in range(namespaces)]
    entries = [IstioObject("ServiceEntry", f"se{i}", names[i % namespaces], spec={
        "hosts": [f"h{i // 2}.example.com"], "resolution": "DNS",
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}], **({"exportTo": ["."]} if i % 3 == 0 else {})})
        for i in range(n)]
    entries.append(IstioObject("Sidecar", "default", "istio-system",
                               spec={"egress": [{"hosts": ["./*", "istio-system/*"]}]}))
    return Inventory(namespaces=[Namespace(ns) for ns in [*names, "istio-system"]], istio=entries,
                     cluster_namespaces=[*names, "istio-system"])


def best_ms(inv: Inventory) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        validate(inv)
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def main() -> int:
    print(f"{'objects':>8} {'validate ms':>12} {'150 ns + root Sidecar ms':>25} {'+ wide mTLS ms':>15} "
          f"{'gateways + policies ms':>23} {'1 ns per-workload mTLS ms':>26} {'ServiceEntries ms':>18}")
    for n in (300, 1000, 3000):
        print(f"{n:>8} {best_ms(inventory(n)):>12.1f} {best_ms(spread(n, 150)):>25.1f} "
              f"{best_ms(with_mtls(spread(n, 150))):>15.1f} {best_ms(gateways_and_policies(n)):>23.1f} "
              f"{best_ms(per_workload(n)):>26.1f} {best_ms(service_entries(n)):>18.1f}")
    # the YAML editor's live check at each pause in typing: the inventory as the edit would leave it
    # (``inventory_after``), then validate it
    from meshdesk.mesh.changes import REPLACE, Change, ChangePlan, inventory_after
    print(f"\n{'objects':>8} {'edit: inventory_after ms':>25} {'+ validate ms':>14}")
    for n in (300, 1000, 3000):
        inv = inventory(n)
        edited = copy.deepcopy(inv.istio[0])
        edited.spec["host"] = "elsewhere"
        plan = ChangePlan("edit", changes=[Change(REPLACE, obj=edited, before=inv.istio[0])])
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            after = inventory_after(inv, plan)
            best = min(best, time.perf_counter() - t0)
        print(f"{n:>8} {best * 1000:>25.1f} {best_ms(after):>14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
