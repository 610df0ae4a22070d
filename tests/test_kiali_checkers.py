"""meshdesk's Istio config checks set against what Kiali's checkers decide today, case by case.

Each test states, in our own objects, a case Kiali's checker tests pin down (which code, where, and
when it stays quiet), so a change on either side shows here.
"""

from __future__ import annotations

from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, Service, Workload
from meshdesk.mesh.validations import WARNING, Check, validate


def _mesh(*namespaces: str) -> Inventory:
    """Namespaces read with their labels (none ambient), each with one plain workload and Service."""
    return Inventory(
        namespaces=[Namespace(ns, {"istio-injection": "enabled"}) for ns in namespaces],
        workloads=[Workload("web", ns, labels={"app": "web"}) for ns in namespaces],
        services=[Service("web", ns, selector={"app": "web"}) for ns in namespaces],
        cluster_namespaces=list(namespaces),
    )


def _entry(name: str, ns: str, host: str, port: int = 443, protocol: str = "TLS",
           export: list[str] | None = None) -> IstioObject:
    spec: dict = {"hosts": [host], "location": "MESH_EXTERNAL", "resolution": "DNS",
                  "ports": [{"number": port, "name": f"{protocol.lower()}-{port}", "protocol": protocol}]}
    if export is not None:
        spec["exportTo"] = export
    return IstioObject("ServiceEntry", name, ns, spec=spec)


def _entry_checks(inv: Inventory, name: str, ns: str) -> list[Check]:
    return [c for c in validate(inv)[("ServiceEntry", ns, name)].checks if c.code in ("KIA1211", "KIA1212")]


# -- ServiceEntries for one host and port (KIA1211, KIA1212) -------------------------------------------


def test_entries_for_one_host_and_port_that_no_namespace_sees_together_are_not_flagged() -> None:
    """Kiali compares a namespace's ServiceEntries with those exported to it: two entries each kept
    to its own namespace (``exportTo: ["."]``) are never seen together, so neither is flagged."""
    inv = _mesh("shop", "billing")
    inv.istio = [_entry("payments", "shop", "pay.example.com", export=["."]),
                 _entry("payments", "billing", "pay.example.com", export=["."])]
    assert _entry_checks(inv, "payments", "shop") == []
    assert _entry_checks(inv, "payments", "billing") == []


def test_an_entry_exported_into_the_other_ones_namespace_clashes_with_it() -> None:
    """One entry exported into the namespace of the other: that namespace sees both, so both carry
    the warning at the clashing port, naming each other."""
    inv = _mesh("shop", "billing")
    inv.istio = [_entry("payments", "shop", "pay.example.com", export=["."]),
                 _entry("payments", "billing", "pay.example.com", export=["shop"])]
    shop = _entry_checks(inv, "payments", "shop")
    assert [(c.code, c.severity, c.path) for c in shop] == [("KIA1211", WARNING, "spec/ports[0]")]
    assert "billing/payments" in shop[0].message
    assert [c.code for c in _entry_checks(inv, "payments", "billing")] == ["KIA1211"]


def test_an_entry_outside_the_chosen_namespaces_counts() -> None:
    """Kiali reads every namespace's ServiceEntries: one in a namespace the user did not choose (read
    cluster-wide), exported everywhere, clashes with a chosen one (a different protocol: KIA1212)."""
    inv = _mesh("shop")
    inv.cluster_namespaces = ["shop", "partners"]
    inv.istio = [_entry("payments", "shop", "pay.example.com", protocol="TLS")]
    inv.outside_config = [_entry("pay-http", "partners", "pay.example.com", protocol="HTTPS")]
    checks = _entry_checks(inv, "payments", "shop")
    assert [c.code for c in checks] == ["KIA1212"]
    assert "partners/pay-http" in checks[0].message


def test_a_sidecar_that_does_not_import_the_other_entry_keeps_them_apart() -> None:
    """Kiali compares only the ServiceEntries a namespace's Sidecar imports: with ``./*`` the shop
    namespace imports its own entry and not billing's, though billing exports it to shop."""
    inv = _mesh("shop", "billing")
    entries = [_entry("payments", "shop", "pay.example.com", export=["."]),
               _entry("payments", "billing", "pay.example.com", export=["shop"])]
    inv.istio = [*entries, IstioObject("Sidecar", "default", "shop", spec={"egress": [{"hosts": ["./*"]}]})]
    assert _entry_checks(inv, "payments", "shop") == []
    inv.istio = [*entries, IstioObject("Sidecar", "default", "shop", spec={"egress": [{"hosts": ["*/*"]}]})]
    assert [c.code for c in _entry_checks(inv, "payments", "shop")] == ["KIA1211"]


def test_entries_of_an_ambient_namespace_stay_home() -> None:
    """Kiali takes an ambient namespace's config as its own only (ambient has no exportTo): an entry
    there exported everywhere does not clash with one of another namespace."""
    inv = _mesh("shop", "billing")
    inv.namespaces[1] = Namespace("billing", {"istio.io/dataplane-mode": "ambient"})
    inv.istio = [_entry("payments", "shop", "pay.example.com", export=["."]),
                 _entry("payments", "billing", "pay.example.com")]
    assert _entry_checks(inv, "payments", "shop") == []
    assert _entry_checks(inv, "payments", "billing") == []
