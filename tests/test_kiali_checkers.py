"""meshdesk's Istio config checks set against what Kiali's checkers decide today, case by case.

Each test states, in our own objects, a case Kiali's checker tests pin down (which code, where, and
when it stays quiet), so a change on either side shows here.
"""

from __future__ import annotations

from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, Pod, Service, Workload
from meshdesk.mesh.validations import ERROR, INFO, WARNING, Check, validate


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


# -- VirtualService routes (KIA1104, KIA1105, KIA1102, KIA1108) ---------------------------------------


def _route(name: str, spec: dict, ns: str = "shop") -> IstioObject:
    return IstioObject("VirtualService", name, ns, spec={"hosts": ["web"], **spec})


def _checks(inv: Inventory, kind: str, name: str, ns: str = "shop") -> list[tuple[str, str, str]]:
    return [(c.code, c.severity, c.path) for c in validate(inv)[(kind, ns, name)].checks]


def test_a_lone_destination_weight_is_flagged_only_between_0_and_100() -> None:
    """Kiali warns of a rule's only destination weighted above 0 and below 100 (Istio sends it all),
    in http, tcp and tls rules alike; 0 (unset) and 100 say nothing."""
    inv = _mesh("shop")
    dest = {"destination": {"host": "web"}}
    inv.istio = [_route("w", {"http": [{"route": [{**dest, "weight": 30}]}, {"route": [{**dest, "weight": 100}]},
                                       {"route": [{**dest, "weight": 0}]}],
                              "tcp": [{"route": [{**dest, "weight": 99}]}]})]
    found = [(code, path) for code, _s, path in _checks(inv, "VirtualService", "w")]
    assert found == [("KIA1104", "spec/http[0]/route[0]/weight"), ("KIA1104", "spec/tcp[0]/route[0]/weight")]


def test_one_host_and_subset_twice_in_a_rule_counts_its_short_and_full_names_as_one() -> None:
    """Kiali keys a rule's destinations by full host name and subset: ``web`` and its FQDN are one
    host (both marked at their host); another subset of it is another destination."""
    inv = _mesh("shop")
    inv.istio = [
        IstioObject("DestinationRule", "web", "shop", spec={"host": "web", "subsets": [
            {"name": "a", "labels": {"app": "web"}}, {"name": "b", "labels": {"app": "web"}}]}),
        _route("w", {"http": [{"route": [
            {"destination": {"host": "web", "subset": "a"}, "weight": 50},
            {"destination": {"host": "web.shop.svc.cluster.local", "subset": "a"}, "weight": 25},
            {"destination": {"host": "web", "subset": "b"}, "weight": 25}]}]})]
    found = [(code, path) for code, _s, path in _checks(inv, "VirtualService", "w")]
    assert found == [("KIA1105", "spec/http[0]/route[0]/host"), ("KIA1105", "spec/http[0]/route[1]/host")]


def test_gateways_the_mesh_keyword_and_the_old_dotted_names() -> None:
    """Kiali skips the reserved ``mesh``; a name written the old way, ``name.namespace``, is noted
    (KIA1108) and found as Istio reads it; a Gateway that does not exist is an error (KIA1102), in the
    spec's list and in a rule's matches alike."""
    inv = _mesh("shop", "edge")
    inv.istio = [
        IstioObject("Gateway", "public", "edge", spec={"selector": {"app": "web"}, "servers": []}),
        _route("w", {"gateways": ["mesh", "public.edge", "edge/public", "missing"],
                     "http": [{"match": [{"gateways": ["edge/nowhere"]}], "route": [{"destination": {"host": "web"}}]}]}),
    ]
    found = [(code, path) for code, _s, path in _checks(inv, "VirtualService", "w")]
    assert ("KIA1108", "spec/gateways[1]") in found
    assert ("KIA1102", "spec/gateways[3]") in found and ("KIA1102", "spec/http[0]/match/gateways[0]") in found
    assert not any(path in ("spec/gateways[0]", "spec/gateways[2]") for _c, path in found)
    assert [c for c, _p in found if c == "KIA1102"] == ["KIA1102", "KIA1102"]


# -- DestinationRule subsets (KIA0203, KIA0209) -------------------------------------------------------


def test_subsets_without_labels_and_subsets_matching_nothing() -> None:
    """Kiali: a subset without labels is a warning (KIA0209), only worth knowing beside a subset that
    selects workloads; a subset whose labels no workload behind the host carries is an error when a
    route uses it (KIA0203), else only worth knowing."""
    inv = _mesh("shop")
    inv.workloads = [Workload("web-v1", "shop", labels={"app": "web", "version": "v1"})]
    inv.istio = [
        IstioObject("DestinationRule", "web", "shop", spec={"host": "web", "subsets": [
            {"name": "v1", "labels": {"version": "v1"}}, {"name": "bare"},
            {"name": "v2", "labels": {"version": "v2"}}, {"name": "v3", "labels": {"version": "v3"}}]}),
        _route("w", {"http": [{"route": [{"destination": {"host": "web", "subset": "v2"}}]}]}),
        IstioObject("DestinationRule", "only-bare", "shop", spec={"host": "web.shop", "subsets": [{"name": "x"}]}),
    ]
    assert sorted(_checks(inv, "DestinationRule", "web")) == [
        ("KIA0203", ERROR, "spec/subsets[2]"), ("KIA0203", INFO, "spec/subsets[3]"),
        ("KIA0209", INFO, "spec/subsets[1]")]
    assert _checks(inv, "DestinationRule", "only-bare") == [("KIA0209", WARNING, "spec/subsets[0]")]


def test_a_subset_of_a_service_entry_host_is_judged_by_that_entry_alone() -> None:
    """On purpose (docs/kiali-differences.md): a subset of an entry's host matches the workloads its
    ``workloadSelector`` picks, or its own endpoints' labels, not another entry's endpoints."""
    inv = _mesh("shop")
    inv.workloads = [Workload("vm-a", "shop", labels={"app": "vm", "version": "a"})]
    inv.istio = [
        IstioObject("ServiceEntry", "vm", "shop", spec={
            "hosts": ["vm.example.com"], "location": "MESH_INTERNAL", "resolution": "STATIC",
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}], "workloadSelector": {"labels": {"app": "vm"}}}),
        IstioObject("ServiceEntry", "other", "shop", spec={
            "hosts": ["other.example.com"], "location": "MESH_INTERNAL", "resolution": "STATIC",
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
            "endpoints": [{"address": "10.0.0.9", "labels": {"version": "b"}}]}),
        IstioObject("DestinationRule", "vm", "shop", spec={"host": "vm.example.com", "subsets": [
            {"name": "a", "labels": {"version": "a"}}, {"name": "b", "labels": {"version": "b"}}]}),
    ]
    assert _checks(inv, "DestinationRule", "vm") == [("KIA0203", INFO, "spec/subsets[1]")]


# -- AuthorizationPolicy principals (KIA0106) ---------------------------------------------------------


def test_wildcard_principals_are_matched_against_the_accounts_pods_run_as() -> None:
    """Kiali matches a principal with a leading or trailing ``*`` against the service accounts of the
    mesh's workloads as a prefix or suffix: one naming a namespace and an account prefix no pod's
    account starts with is an error (KIA0106), as is a suffix naming no account there; those that
    match, and wildcards that name no namespace in full, say nothing."""
    inv = _mesh("shop")
    inv.workloads = [Workload("web", "shop", labels={"app": "web"},
                              pods=[Pod("web-1", "shop", labels={"app": "web"}, service_account="web-frontend")])]
    principals = ["cluster.local/ns/shop/sa/web-*", "cluster.local/ns/shop/sa/db-*", "*/ns/shop/sa/web-frontend",
                  "*/ns/shop/sa/db", "*.local/ns/shop/sa/db", "cluster.local/ns/sh*", "*", "*/sa/db",
                  "other.domain/ns/shop/sa/db-*"]
    inv.istio = [IstioObject("AuthorizationPolicy", "allow", "shop", spec={
        "rules": [{"from": [{"source": {"principals": principals}}]}]})]
    found = _checks(inv, "AuthorizationPolicy", "allow")
    assert found == [("KIA0106", ERROR, f"spec/rules[0]/from[0]/source/principals[{k}]") for k in (1, 3, 4)]
    message = next(c.message for c in validate(inv)[("AuthorizationPolicy", "shop", "allow")].checks)
    assert message == "no pod in shop runs as a service account named db-*"


# -- DestinationRules for one host (KIA0201) ----------------------------------------------------------


def _rule(name: str, ns: str, host: str, subsets: tuple[str, ...] = (), mode: str = "") -> IstioObject:
    spec: dict = {"host": host, "subsets": [{"name": s, "labels": {"version": s}} for s in subsets]}
    if mode:
        spec["trafficPolicy"] = {"tls": {"mode": mode}}
    return IstioObject("DestinationRule", name, ns, spec=spec)


def test_wildcard_rules_clash_only_with_the_hosts_they_cover() -> None:
    """Kiali compares a wildcard rule's host with the hosts under it: rules for two namespaces'
    wildcards do not clash, two for one namespace's wildcard do, as does a rule for a host of that
    namespace beside one for its wildcard; the mesh- and namespace-wide ISTIO_MUTUAL rules Istio's docs
    use to turn mTLS on stand beside the others, but a wildcard of another namespace with that mode
    is an ordinary rule."""
    inv = _mesh("shop", "vault", "istio-system")
    inv.istio = [
        _rule("vault-all", "vault", "*.vault.svc.cluster.local"),
        _rule("shop-all", "shop", "*.shop.svc.cluster.local"),
        _rule("shop-all-again", "shop", "*.shop.svc.cluster.local"),
        _rule("web", "shop", "web", ("v1",)),
        _rule("mesh-mtls", "istio-system", "*.local", mode="ISTIO_MUTUAL"),
        _rule("shop-mtls", "shop", "*.shop.svc.cluster.local", mode="ISTIO_MUTUAL"),
        _rule("vault-mtls-from-shop", "shop", "*.vault.svc.cluster.local", mode="ISTIO_MUTUAL"),
    ]
    result = validate(inv)

    def clashes(name: str, ns: str) -> str:
        found = [c.message for c in result[("DestinationRule", ns, name)].checks if c.code == "KIA0201"]
        return found[0].split(": ", 1)[1] if found else ""

    assert clashes("shop-all", "shop") == "shop/shop-all-again, shop/web"
    assert clashes("web", "shop") == "shop/shop-all, shop/shop-all-again"
    assert clashes("vault-all", "vault") == "shop/vault-mtls-from-shop"
    assert clashes("mesh-mtls", "istio-system") == "" and clashes("shop-mtls", "shop") == ""


def test_a_service_entry_host_covers_itself_and_what_its_wildcards_cover() -> None:
    """On purpose (docs/kiali-differences.md): a route or rule for ``api.example.com`` finds no entry
    for ``example.com`` (Kiali matches any host ending so); an entry for ``*.example.com`` covers it."""
    inv = _mesh("shop")
    inv.istio = [
        _entry("apex", "shop", "example.com"),
        IstioObject("VirtualService", "api", "shop", spec={
            "hosts": ["api.example.com"], "tls": [{"match": [{"sniHosts": ["api.example.com"]}],
                                                   "route": [{"destination": {"host": "api.example.com"}}]}]}),
        IstioObject("DestinationRule", "api", "shop", spec={"host": "api.example.com"}),
    ]
    assert _checks(inv, "VirtualService", "api") == [("KIA1101", WARNING, "spec/tls[0]/route[0]/destination/host")]
    assert _checks(inv, "DestinationRule", "api") == [("KIA0202", WARNING, "spec/host")]
    inv.istio[0] = _entry("apex", "shop", "*.example.com")
    assert _checks(inv, "VirtualService", "api") == [] and _checks(inv, "DestinationRule", "api") == []
