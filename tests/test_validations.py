"""Istio config validations: each finding a user should see, and none where the config is right."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from meshdesk.mesh.inventory import Container, Inventory, IstioObject, Namespace, Pod, Service, Workload
from meshdesk.mesh.validations import ERROR, INFO, WARNING, fqdn, summary, validate


def _wl(ns: str, name: str, labels: dict[str, str], sidecar: bool = True) -> Workload:
    containers = [Container("app", "img:1", True)] + ([Container("istio-proxy", "proxyv2:1.24.2", True)] if sidecar else [])
    return Workload(name, ns, labels=labels, pods=[Pod(f"{name}-abc", ns, labels=labels, containers=containers)])


def _shop() -> Inventory:
    return Inventory(
        namespaces=[Namespace("shop", {"istio-injection": "enabled"}), Namespace("istio-system")],
        workloads=[
            _wl("shop", "reviews-v1", {"app": "reviews", "version": "v1"}),
            _wl("shop", "reviews-v2", {"app": "reviews", "version": "v2"}),
            _wl("shop", "legacy", {"app": "legacy"}, sidecar=False),
            _wl("istio-system", "istio-ingressgateway", {"istio": "ingressgateway"}),
        ],
        services=[Service("reviews", "shop", selector={"app": "reviews"}), Service("legacy", "shop", selector={"app": "legacy"})],
    )


def _obj(kind: str, name: str, spec: dict, ns: str = "shop") -> IstioObject:
    return IstioObject(kind, name, ns, spec=spec)


def _codes(inv: Inventory, kind: str, name: str, ns: str = "shop") -> list[str]:
    return [c.code for c in validate(inv)[(kind, ns, name)].checks]


def test_short_hosts_resolve_like_istio() -> None:
    assert fqdn("reviews", "shop") == "reviews.shop.svc.cluster.local"
    assert fqdn("reviews.shop", "x") == "reviews.shop.svc.cluster.local"
    assert fqdn("api.example.com", "shop") == "api.example.com"


def test_correct_routing_has_no_findings() -> None:
    inv = _shop()
    inv.istio = [
        _obj("DestinationRule", "reviews", {"host": "reviews", "subsets": [
            {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}),
        _obj("VirtualService", "reviews", {"hosts": ["reviews"], "http": [{"route": [
            {"destination": {"host": "reviews", "subset": "v1"}, "weight": 80},
            {"destination": {"host": "reviews", "subset": "v2"}, "weight": 20}]}]}),
    ]
    result = validate(inv)
    assert all(v.valid and not v.checks for v in result.values())
    assert summary(result) == {"objects": 8, "errors": 0, "warnings": 0}  # and the two Services, the four workloads


def test_virtual_service_to_missing_host_and_subset() -> None:
    inv = _shop()
    inv.istio = [
        _obj("DestinationRule", "reviews", {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
        _obj("VirtualService", "bad", {"hosts": ["reviews"], "http": [{"route": [
            {"destination": {"host": "reviewz"}},
            {"destination": {"host": "reviews", "subset": "v3"}}]}]}),
    ]
    # the mesh sends only registered hosts out: a route to a host it does not know fails
    inv.mesh_settings = dataclasses.replace(inv.mesh_settings, outbound_policy="REGISTRY_ONLY")
    v = validate(inv)[("VirtualService", "shop", "bad")]
    assert [c.code for c in v.checks] == ["KIA1101", "KIA1107"]
    assert v.checks[0].severity == ERROR and "reviewz" in v.checks[0].message
    assert v.checks[1].severity == WARNING and "v3" in v.checks[1].message
    assert not v.valid and v.severity == ERROR


def test_a_host_not_exported_to_the_objects_namespace_is_not_found_there_and_says_why() -> None:
    """Istio shows a Kubernetes Service where its ``networking.istio.io/exportTo`` annotation says, or
    without it where the mesh config's ``defaultServiceExportTo`` says; a ServiceEntry where its
    ``exportTo`` says. A route, rule or policy of another namespace naming the host finds nothing (as
    Kiali judges it) and the finding says why, not that the host does not exist."""
    inv = _shop()
    inv.namespaces.append(Namespace("web"))
    inv.istio = [
        _obj("VirtualService", "to-reviews", {"hosts": ["front"], "http": [{"route": [
            {"destination": {"host": "reviews.shop.svc.cluster.local"}}]}]}, ns="web"),
        _obj("DestinationRule", "reviews", {"host": "reviews.shop.svc.cluster.local"}, ns="web"),
        _obj("AuthorizationPolicy", "only-reviews", {"rules": [{"to": [{"operation": {
            "hosts": ["reviews.shop"]}}]}]}, ns="web"),
        _obj("VirtualService", "home", {"hosts": ["shop-front"], "http": [{"route": [
            {"destination": {"host": "reviews"}}]}]}),
        _obj("Sidecar", "web", {"egress": [{"hosts": ["shop/reviews.shop.svc.cluster.local"]}]}, ns="web"),
        _obj("ServiceEntry", "pay", {"hosts": ["api.pay.example.com"], "exportTo": ["."]}),
        _obj("VirtualService", "pay", {"hosts": ["api.pay.example.com"], "http": [{"route": [
            {"destination": {"host": "api.pay.example.com"}}]}]}, ns="web"),
    ]

    def found(kind: str, name: str, ns: str = "web") -> list[str]:
        return [f"{c.code} {c.message}" for c in validate(inv)[(kind, ns, name)].checks
                if c.code in ("KIA1101", "KIA0202", "KIA0104", "KIA1004")]

    assert found("VirtualService", "to-reviews") == found("DestinationRule", "reviews") == []
    assert found("AuthorizationPolicy", "only-reviews") == [] and found("Sidecar", "web") == []
    assert found("VirtualService", "pay") == ["KIA1101 route goes to host 'api.pay.example.com', which is not seen in "
                                              "namespace web: ServiceEntry shop/pay is not exported to web (exportTo)"]
    inv.services[0].annotations["networking.istio.io/exportTo"] = "."
    why = "Service shop/reviews is exported to its own namespace only (its networking.istio.io/exportTo annotation)"
    assert found("VirtualService", "to-reviews") == [
        f"KIA1101 route goes to host 'reviews.shop.svc.cluster.local', which is not seen in namespace web: {why}"]
    assert found("DestinationRule", "reviews") == [
        f"KIA0202 host 'reviews.shop.svc.cluster.local' is not seen in namespace web: {why}"]
    assert found("AuthorizationPolicy", "only-reviews") == [
        f"KIA0104 host 'reviews.shop' is not seen in namespace web: {why}"]
    assert found("Sidecar", "web") == [f"KIA1004 host 'reviews.shop.svc.cluster.local' is not seen in namespace web: "
                                       f"{why}"]
    assert found("VirtualService", "home", "shop") == []  # its own namespace sees it
    inv.services[0].annotations["networking.istio.io/exportTo"] = "shop, web"
    assert found("VirtualService", "to-reviews") == []
    # no annotation: the mesh's default decides
    del inv.services[0].annotations["networking.istio.io/exportTo"]
    inv.mesh_settings = dataclasses.replace(inv.mesh_settings, default_service_export_to=("~",))
    assert found("VirtualService", "to-reviews") == [
        "KIA1101 route goes to host 'reviews.shop.svc.cluster.local', which is not seen in namespace web: Service "
        "shop/reviews is exported to no namespace (the mesh config's defaultServiceExportTo)"]
    assert found("VirtualService", "home", "shop") == ["KIA1101 route goes to host 'reviews', which is not seen in "
                                                        "namespace shop: Service shop/reviews is exported to no "
                                                        "namespace (the mesh config's defaultServiceExportTo)"]


def test_a_host_no_registry_has_is_a_warning_where_the_mesh_lets_unknown_hosts_out() -> None:
    """Istio's default outbound policy, ALLOW_ANY, sends a request to a host the mesh does not know out
    as passthrough: Kiali warns (and marks the object not valid) where meshdesk said error, for the
    routes of a VirtualService (KIA1101), a DestinationRule's host (KIA0202) and an
    AuthorizationPolicy's hosts (KIA0104). REGISTRY_ONLY keeps them errors."""
    inv = _with_accounts(_shop())
    inv.istio = [
        _obj("VirtualService", "bad", {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviewz"}}]}]}),
        _obj("DestinationRule", "nowhere", {"host": "reviewz"}),
        _policy([{"to": [{"operation": {"hosts": ["ratings"]}}]}]),
    ]
    assert inv.mesh_settings.outbound_policy == "ALLOW_ANY"  # Istio's default, also when not read
    for policy, severity in (("ALLOW_ANY", WARNING), ("REGISTRY_ONLY", ERROR)):
        inv.mesh_settings = dataclasses.replace(inv.mesh_settings, outbound_policy=policy)
        found = {(k[0], c.code): c.severity for k, v in validate(inv).items() for c in v.checks}
        assert found == {("VirtualService", "KIA1101"): severity, ("DestinationRule", "KIA0202"): severity,
                         ("AuthorizationPolicy", "KIA0104"): severity}, policy
        assert not any(v.valid for k, v in validate(inv).items() if k[0] != "Service" and k[0] != "Workload"
                       and v.checks)


def test_a_subset_without_a_name_is_said_by_its_place_not_as_none() -> None:
    """A DestinationRule read from the cluster with a subset that has no name, or an entry that is no
    subset: its findings said "subset None has no labels" and "subset None selects version=v9"."""
    inv = _shop()
    inv.istio = [_obj("DestinationRule", "reviews", {"host": "reviews", "subsets": [
        {"labels": {"version": "v9"}}, None]})]
    said = [(c.code, c.message) for c in validate(inv)[("DestinationRule", "shop", "reviews")].checks]
    assert said == [("KIA0203", "subset 1, which has no name, selects version=v9, which matches no workload behind "
                                "reviews (no route uses it)"),
                    ("KIA0209", "subset 2, which has no name, has no labels")]


def test_destination_rule_subset_matching_no_workload() -> None:
    inv = _shop()
    inv.istio = [_obj("DestinationRule", "reviews", {"host": "reviews", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}, {"name": "v9", "labels": {"version": "v9"}}, {"name": "bare"}]})]
    checks = validate(inv)[("DestinationRule", "shop", "reviews")].checks
    # as Kiali: a subset no route uses is only worth knowing; one without labels, beside a subset that
    # selects workloads, too
    assert [(c.code, c.severity, c.path) for c in checks] == [("KIA0203", INFO, "spec/subsets[1]"),
                                                               ("KIA0209", INFO, "spec/subsets[2]")]
    assert validate(inv)[("DestinationRule", "shop", "reviews")].valid
    inv.istio.append(_obj("VirtualService", "reviews", {"hosts": ["reviews"], "http": [{"route": [
        {"destination": {"host": "reviews.shop.svc.cluster.local", "subset": "v9"}}]}]}))
    checks = validate(inv)[("DestinationRule", "shop", "reviews")].checks
    assert [(c.code, c.severity) for c in checks][0] == ("KIA0203", ERROR)  # requests go there
    # a wildcard rule covers any workload; subsets without labels alone are warnings
    inv.istio = [_obj("DestinationRule", "all", {"host": "*.shop.svc.cluster.local", "subsets": [
        {"name": "v9", "labels": {"version": "v9"}}]}),
        _obj("DestinationRule", "bare", {"host": "reviews", "subsets": [{"name": "a"}, {"name": "b"}]})]
    assert _codes(inv, "DestinationRule", "all") == []
    assert [c.severity for c in validate(inv)[("DestinationRule", "shop", "bare")].checks] == [WARNING, WARNING]


def test_the_bookinfo_samples_have_no_errors(shared_dir: Path) -> None:
    """Istio's own destination-rule-all with virtual-service-all-v1: the subsets no workload runs
    (ratings v2-mysql...) are unrouted, so they are notes, not errors (Kiali shows none either)."""
    inv = _bookinfo()
    net = shared_dir / "fixtures/istio/bookinfo/networking"
    inv.istio = _load_istio_yaml(net / "destination-rule-all.yaml", "bookinfo") + \
        _load_istio_yaml(net / "virtual-service-all-v1.yaml", "bookinfo")
    result = validate(inv)
    assert summary(result)["errors"] == 0
    notes = [(k[2], c.path) for k, v in result.items() for c in v.checks]
    assert ("ratings", "spec/subsets[1]") in notes and all(c.severity == INFO for v in result.values()
                                                           for c in v.checks)


def test_hosts_written_service_namespace_svc() -> None:
    inv = _shop()
    inv.istio = [_obj("DestinationRule", "r", {"host": "reviews.shop.svc", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}]}),
        _obj("VirtualService", "r", {"hosts": ["reviews"], "http": [{"route": [
            {"destination": {"host": "reviews.shop.svc", "subset": "v1"}}]}]})]
    assert _codes(inv, "DestinationRule", "r") == [] and _codes(inv, "VirtualService", "r") == []


def test_a_destination_rule_for_an_app_without_a_service() -> None:
    inv = _shop()
    inv.workloads.append(_wl("shop", "worker", {"app": "worker"}))
    inv.istio = [_obj("DestinationRule", "worker", {"host": "worker"})]
    assert _codes(inv, "DestinationRule", "worker") == []


def test_gateways_named_the_old_way_and_in_matches() -> None:
    inv = _shop()
    inv.istio = [_obj("Gateway", "public", {"selector": {"istio": "ingressgateway"}}, ns="istio-system"),
                 _obj("VirtualService", "r", {"hosts": ["reviews"],
                                              "gateways": ["public.istio-system.svc.cluster.local", "mesh"],
                                              "http": [{"route": [{"destination": {"host": "reviews"}}]},
                                                       {"match": [{"gateways": ["mesh", "istio-system/nope"]}],
                                                        "route": [{"destination": {"host": "reviews"}}]}]})]
    checks = validate(inv)[("VirtualService", "shop", "r")].checks
    assert [(c.code, c.severity, c.path) for c in checks] == [("KIA1108", INFO, "spec/gateways[0]"),
                                                              ("KIA1102", ERROR, "spec/http[1]/match/gateways[1]")]
    # namespace/name is read as that, whatever dots the name holds
    inv.istio.append(_obj("Gateway", "public.example", {"selector": {"istio": "ingressgateway"}}, ns="istio-system"))
    inv.istio.append(_obj("VirtualService", "d", {"hosts": ["reviews"], "gateways": ["istio-system/public.example",
                                                                                  "istio-system/publik.example"],
                                                  "http": [{"route": [{"destination": {"host": "reviews"}}]}]}))
    assert [(c.code, c.path) for c in validate(inv)[("VirtualService", "shop", "d")].checks] == [
        ("KIA1102", "spec/gateways[1]")]


def test_a_gateway_whose_workload_was_read_outside_the_selection() -> None:
    """The ingress gateway lives in istio-system, which the user did not select: the inventory holds it
    as an outside gateway, and a Gateway selecting it is no finding."""
    inv = _shop()
    gw = next(w for w in inv.workloads if w.namespace == "istio-system")
    inv.workloads.remove(gw)
    inv.outside_gateways.append(gw)
    inv.istio = [_obj("Gateway", "shop-gw", {"selector": {"istio": "ingressgateway"}})]
    assert _codes(inv, "Gateway", "shop-gw") == []


def test_one_host_claimed_twice_as_kiali_keys_hosts() -> None:
    inv = _shop()
    inv.namespaces.append(Namespace("hello"))
    route = {"http": [{"route": [{"destination": {"host": "reviews.shop.svc.cluster.local"}}]}]}
    gw = {"gateways": ["istio-system/public"]}
    inv.istio = [
        _obj("Gateway", "public", {"selector": {"istio": "ingressgateway"}}, ns="istio-system"),
        # "*" on one gateway in two namespaces: each claims its own namespace's hosts
        _obj("VirtualService", "front", {"hosts": ["*"], **gw, **route}),
        _obj("VirtualService", "hello-front", {"hosts": ["*"], **gw, **route}, ns="hello"),
        # no gateways and the mesh gateway are told apart
        _obj("VirtualService", "plain", {"hosts": ["reviews"], **route}),
        _obj("VirtualService", "mesh", {"hosts": ["reviews"], "gateways": ["mesh"], **route}),
    ]
    assert all(_codes(inv, "VirtualService", n) == [] for n in ("front", "plain", "mesh"))
    assert _codes(inv, "VirtualService", "hello-front", "hello") == []
    # "*" beside a host of the same namespace on the same gateway: both are told
    inv.istio.append(_obj("VirtualService", "reviews-front", {"hosts": ["reviews.shop.svc"], **gw, **route}))
    assert _codes(inv, "VirtualService", "front") == ["KIA1106"]
    assert _codes(inv, "VirtualService", "reviews-front") == ["KIA1106"]
    assert _codes(inv, "VirtualService", "hello-front", "hello") == []


def test_two_virtual_services_claiming_one_host() -> None:
    inv = _shop()
    route = {"http": [{"route": [{"destination": {"host": "reviews"}}]}]}
    inv.istio = [_obj("VirtualService", "a", {"hosts": ["reviews"], **route}),
                 _obj("VirtualService", "b", {"hosts": ["reviews.shop.svc.cluster.local"], **route})]
    assert _codes(inv, "VirtualService", "a") == ["KIA1106"]
    assert _codes(inv, "VirtualService", "b") == ["KIA1106"]


def test_service_entry_without_ports_or_with_inconsistent_resolution() -> None:
    inv = _shop()
    inv.istio = [
        _obj("ServiceEntry", "noports", {"hosts": ["api.example.com"], "resolution": "DNS", "location": "MESH_EXTERNAL"}),
        _obj("ServiceEntry", "static", {"hosts": ["db.example.com"], "ports": [{"number": 5432, "name": "tcp", "protocol": "TCP"}],
                                        "resolution": "STATIC"}),
        _obj("ServiceEntry", "wild", {"hosts": ["*.example.com"], "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
                                      "resolution": "DNS"}),
        _obj("ServiceEntry", "ok", {"hosts": ["pay.example.com"], "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
                                    "resolution": "DNS"}),
    ]
    assert _codes(inv, "ServiceEntry", "noports") == ["MDK1202"]
    assert _codes(inv, "ServiceEntry", "static") == ["MDK1204"]
    assert _codes(inv, "ServiceEntry", "wild") == ["MDK1205"]
    assert _codes(inv, "ServiceEntry", "ok") == []


def test_virtual_service_to_service_entry_host_is_fine() -> None:
    inv = _shop()
    inv.istio = [
        _obj("ServiceEntry", "pay", {"hosts": ["pay.example.com"], "ports": [{"number": 443, "name": "https"}], "resolution": "DNS"}),
        _obj("VirtualService", "pay", {"hosts": ["pay.example.com"], "tls": [{"route": [{"destination": {"host": "pay.example.com"}}]}]}),
    ]
    assert _codes(inv, "VirtualService", "pay") == []


def test_gateway_selector_matching_no_workload() -> None:
    inv = _shop()
    inv.istio = [_obj("Gateway", "good", {"selector": {"istio": "ingressgateway"}}),
                 _obj("Gateway", "lost", {"selector": {"istio": "egressgateway"}})]
    assert _codes(inv, "Gateway", "good") == []
    assert _codes(inv, "Gateway", "lost") == ["KIA0302"]


def test_strict_mtls_on_workloads_without_sidecar() -> None:
    inv = _shop()
    inv.istio = [_obj("PeerAuthentication", "default", {"mtls": {"mode": "STRICT"}})]
    checks = validate(inv)[("PeerAuthentication", "shop", "default")].checks
    assert [c.code for c in checks] == ["MDK0501"]
    assert "shop/legacy" in checks[0].message and "reviews" not in checks[0].message
    inv.istio = [_obj("PeerAuthentication", "default", {"mtls": {"mode": "PERMISSIVE"}})]
    assert _codes(inv, "PeerAuthentication", "default") == []


def test_virtual_service_to_missing_gateway() -> None:
    inv = _shop()
    inv.istio = [_obj("VirtualService", "front", {"hosts": ["*"], "gateways": ["shop-gateway"],
                                                   "http": [{"route": [{"destination": {"host": "reviews"}}]}]})]
    assert _codes(inv, "VirtualService", "front") == ["KIA1102"]


@pytest.mark.parametrize("spec", [
    {"http": "not-a-list"},
    {"http": [None, 3, {"route": "x"}, {"route": [None, {"destination": 5}]}]},
    {"hosts": [1, None], "subsets": [{"labels": "v1"}]},
    {"mtls": "STRICT", "selector": ["x"]},
    {"resolution": 7, "endpoints": [None, "x"], "ports": {}},
])
def test_unexpected_fields_never_crash(spec: dict) -> None:
    inv = _shop()
    inv.istio = [_obj(kind, "odd", spec) for kind in
                 ("VirtualService", "DestinationRule", "ServiceEntry", "Gateway", "PeerAuthentication", "Sidecar",
                  "AuthorizationPolicy", "EnvoyFilter")]
    result = validate(inv)
    assert len(result) == 8 + len(inv.services) + len(inv.workloads)
    for v in result.values():
        for c in v.checks:
            assert c.code and c.severity in (ERROR, WARNING, "info") and c.message


def test_hosts_in_namespaces_not_loaded_are_not_judged() -> None:
    inv = _shop()
    inv.istio = [_obj("VirtualService", "x", {"hosts": ["reviews"], "http": [{"route": [
        {"destination": {"host": "ratings.other.svc.cluster.local", "subset": "v1"}}]}]})]
    assert _codes(inv, "VirtualService", "x") == []


def _load_istio_yaml(path: Path, ns: str) -> list[IstioObject]:
    out = []
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc.get("apiVersion", "").endswith("istio.io/v1") or (doc and "istio.io" in doc.get("apiVersion", "")):
            out.append(IstioObject(doc["kind"], doc["metadata"]["name"], ns, api_version=doc["apiVersion"],
                                   spec=doc.get("spec") or {}))
    return out


def _bookinfo() -> Inventory:
    """The workloads and services bookinfo.yaml deploys."""
    deployed = {"productpage": ["v1"], "details": ["v1"], "reviews": ["v1", "v2", "v3"], "ratings": ["v1"]}
    return Inventory(namespaces=[Namespace("bookinfo")],
                     workloads=[_wl("bookinfo", f"{a}-{v}", {"app": a, "version": v})
                                for a, vs in deployed.items() for v in vs],
                     services=[Service(a, "bookinfo", selector={"app": a}) for a in deployed])


def test_istio_bookinfo_samples(shared_dir: Path) -> None:
    """Istio's own bookinfo routing samples against the workloads bookinfo.yaml deploys: the reviews
    routing is valid, and the subsets for versions that bookinfo.yaml does not deploy (details v2,
    ratings v2...) are flagged, as Kiali flags them."""
    net = shared_dir / "fixtures/istio/bookinfo/networking"
    inv = _bookinfo()
    inv.istio = _load_istio_yaml(net / "destination-rule-all.yaml", "bookinfo") + \
        _load_istio_yaml(net / "virtual-service-reviews-80-20.yaml", "bookinfo")
    result = validate(inv)
    assert result[("VirtualService", "bookinfo", "reviews")].checks == []
    assert result[("DestinationRule", "bookinfo", "reviews")].checks == []
    assert result[("DestinationRule", "bookinfo", "productpage")].checks == []
    flagged = {(k[2], c.message.split("'")[1], c.severity) for k, v in result.items() for c in v.checks
               if c.code == "KIA0203"}
    assert ("details", "v2", INFO) in flagged and ("ratings", "v2", INFO) in flagged  # no route uses them
    assert not any(app in ("reviews", "productpage") for app, _, _ in flagged)
    inv.workloads = [w for w in inv.workloads if w.name not in ("reviews-v2", "reviews-v3")]
    checks = validate(inv)[("DestinationRule", "bookinfo", "reviews")].checks
    # v2 is routed (20%) and runs nowhere: an error; v3 is not routed: a note
    assert [(c.code, c.severity, c.message.split("'")[1]) for c in checks] == [("KIA0203", ERROR, "v2"),
                                                                               ("KIA0203", INFO, "v3")]


def test_two_destination_rules_for_one_host_and_subset() -> None:
    """KIA0201 as Kiali judges it: a subset name defined twice for one host, or a rule without subsets
    beside another for the host; mesh- and namespace-wide mTLS rules stand beside any."""
    inv = _shop()
    v1 = {"name": "v1", "labels": {"version": "v1"}}
    v2 = {"name": "v2", "labels": {"version": "v2"}}
    keep = {"tls": {"mode": "ISTIO_MUTUAL"}}  # the rules keep the mTLS of the wide ones (else KIA0204)
    inv.istio = [_obj("DestinationRule", "a", {"host": "reviews", "subsets": [v1], "trafficPolicy": keep}),
                 _obj("DestinationRule", "b", {"host": "reviews.shop.svc.cluster.local", "subsets": [v2],
                                               "trafficPolicy": keep}),
                 _obj("DestinationRule", "mtls", {"host": "*.shop.svc.cluster.local",
                                                  "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}),
                 _obj("DestinationRule", "mesh", {"host": "*.local", "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}},
                      ns="istio-system")]
    assert all(not v.checks for v in validate(inv).values())  # different subsets: fine
    inv.istio.append(_obj("DestinationRule", "c", {"host": "reviews.shop", "subsets": [v2], "trafficPolicy": keep}))
    assert _codes(inv, "DestinationRule", "b") == ["KIA0201"] and _codes(inv, "DestinationRule", "c") == ["KIA0201"]
    assert _codes(inv, "DestinationRule", "a") == []
    inv.istio.append(_obj("DestinationRule", "all", {"host": "reviews", "trafficPolicy": {
        "loadBalancer": {"simple": "ROUND_ROBIN"}, **keep}}))  # no subsets: it covers every one
    assert all(_codes(inv, "DestinationRule", n) == ["KIA0201"] for n in ("a", "b", "c", "all"))
    check = validate(inv)[("DestinationRule", "shop", "all")].checks[0]
    assert check.severity == WARNING and check.path == "spec/host" and "shop/a" in check.message


def test_route_weights_as_kiali_checks_them() -> None:
    inv = _shop()
    inv.istio = [_obj("DestinationRule", "reviews", {"host": "reviews", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}),
        _obj("VirtualService", "reviews", {"hosts": ["reviews"], "http": [
            {"match": [{"headers": {"x": {"exact": "y"}}}],
             "route": [{"destination": {"host": "reviews", "subset": "v2"}, "weight": 40}]},
            {"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
                       {"destination": {"host": "reviews.shop.svc.cluster.local", "subset": "v1"}, "weight": 50}]}]})]
    checks = validate(inv)[("VirtualService", "shop", "reviews")].checks
    assert [(c.code, c.severity, c.path) for c in checks] == [
        ("KIA1104", WARNING, "spec/http[0]/route[0]/weight"),
        ("KIA1105", WARNING, "spec/http[1]/route[0]/host"), ("KIA1105", WARNING, "spec/http[1]/route[1]/host")]


# -- AuthorizationPolicy -------------------------------------------------------------------------

def _with_accounts(inv: Inventory) -> Inventory:
    """The inventory as a cluster read makes it: every pod with the service account it runs as."""
    for w in inv.workloads:
        for pod in w.pods:
            pod.service_account = w.labels.get("app", w.name)
    return inv


def _policy(rules: list[dict]) -> IstioObject:
    return _obj("AuthorizationPolicy", "p", {"action": "ALLOW", "rules": rules})


def _findings(inv: Inventory) -> list[tuple[str, str, str]]:
    return [(c.code, c.severity, c.path) for c in validate(inv)[("AuthorizationPolicy", "shop", "p")].checks]


def test_authorization_policy_methods_must_be_http_methods() -> None:
    inv = _with_accounts(_shop())
    inv.istio = [_policy([{"to": [{"operation": {"methods": ["get", "POST", "GE*", "*CH", "*", "GETS",
                                                             "reviews.Reviews/List", "X*"]}}]}])]
    # a gRPC method is a path (POST /pkg.Service/Method), not a method: Kiali's KIA0102
    assert _findings(inv) == [("KIA0102", WARNING, "spec/rules[0]/to[0]/operation/methods[5]"),
                              ("KIA0102", WARNING, "spec/rules[0]/to[0]/operation/methods[6]"),
                              ("KIA0102", WARNING, "spec/rules[0]/to[0]/operation/methods[7]")]


def test_authorization_policy_hosts_must_exist_where_they_can_be_judged() -> None:
    inv = _with_accounts(_shop())
    inv.istio = [
        _obj("ServiceEntry", "ext", {"hosts": ["payments.shop.svc.cluster.local"], "ports": [
            {"number": 80, "name": "http", "protocol": "HTTP"}]}),
        _obj("VirtualService", "virtual", {"hosts": ["cart"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]}),
        _policy([{"to": [{"operation": {"hosts": [
            "reviews", "reviews.shop", "payments", "cart",  # a Service, the same, a ServiceEntry, a VirtualService
            "ratings", "ratings.shop",  # nothing of that name in shop: errors
            "ratings.elsewhere",  # a namespace not read: cannot be judged
            "api.example", "ratings.shop.svc.cluster.local", "*.shop", "rat*",  # Host headers, as Istio matches them
            "ratings:9080", "reviews:9080",  # a Host header with its port: not judged
        ]}}]}]),
    ]
    assert _findings(inv) == [("KIA0104", WARNING, "spec/rules[0]/to[0]/operation/hosts[4]"),  # ALLOW_ANY
                              ("KIA0104", WARNING, "spec/rules[0]/to[0]/operation/hosts[5]")]


def test_authorization_policy_principals_name_service_accounts_pods_run_as() -> None:
    inv = _with_accounts(_shop())
    inv.namespaces.append(Namespace("empty"))
    principals = [
        "cluster.local/ns/shop/sa/reviews",  # reviews' pods run as it
        "cluster.local/ns/shop/sa/ratings",  # no pod runs as it: error
        "cluster.local/ns/empty/sa/default",  # a namespace read with no workload: error
        "cluster.local/ns/elsewhere/sa/x",  # a namespace not read: cannot be judged
        "other-domain/ns/shop/sa/nobody",  # another trust domain: cannot be judged
        "cluster.local/ns/shop/sa/rev*", "*", "junk",  # wildcards and odd values: not judged
    ]
    inv.istio = [_policy([{"from": [{"source": {"principals": principals}}]}])]
    found = _findings(inv)
    assert found == [("KIA0106", ERROR, "spec/rules[0]/from[0]/source/principals[1]"),
                     ("KIA0106", ERROR, "spec/rules[0]/from[0]/source/principals[2]")]
    assert "ratings" in validate(inv)[("AuthorizationPolicy", "shop", "p")].checks[0].message


def test_authorization_policy_principals_are_not_judged_without_pods_accounts() -> None:
    """A snapshot written before pods' accounts were kept, or pods that could not be listed: no finding
    (none can be told from a real one)."""
    principal = [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/ratings"]}}]}]
    old = _shop()
    old.istio = [_policy(principal)]
    assert _findings(old) == []
    hidden = _with_accounts(_shop())
    hidden.istio = [_policy(principal)]
    hidden.hidden = {"shop/pods": "forbidden: no"}
    assert _findings(hidden) == []
    hidden.hidden = {"*/pods": "forbidden: no"}
    assert _findings(hidden) == []
    hidden.hidden = {}
    assert [c for c, _, _ in _findings(hidden)] == ["KIA0106"]


def test_a_rule_for_an_app_named_by_its_first_app_label() -> None:
    """Kiali reads a workload's app from the first of Istio's app labels: a rule for an app without a
    Service is fine when app.kubernetes.io/name names it, and KIA0202 when only a later label does."""
    inv = _shop()
    inv.workloads.append(_wl("shop", "worker-v1", {"app.kubernetes.io/name": "worker"}))
    inv.workloads.append(_wl("shop", "odd-v1", {"app.kubernetes.io/name": "other", "app": "odd"}))
    inv.istio += [_obj("DestinationRule", "worker", {"host": "worker"}), _obj("DestinationRule", "odd", {"host": "odd"})]
    assert _codes(inv, "DestinationRule", "worker") == []
    assert _codes(inv, "DestinationRule", "odd") == ["KIA0202"]


def test_a_gateway_selecting_no_workload_is_not_valid_though_only_a_warning() -> None:
    inv = _shop()
    inv.istio.append(_obj("Gateway", "gw", {"selector": {"app": "proxy"}}))
    v = validate(inv)[("Gateway", "shop", "gw")]
    assert [(c.code, c.severity) for c in v.checks] == [("KIA0302", WARNING)] and not v.valid


def test_routes_without_a_destination_are_no_duplicates_and_a_host_twice_is_said() -> None:
    inv = _shop()
    inv.istio += [
        _obj("VirtualService", "weights", {"hosts": ["reviews"], "http": [{"route": [{"weight": 50}, {"weight": 50}]}]}),
        _obj("VirtualService", "twice", {"hosts": ["legacy", "legacy"], "http": [{"route": [{"destination": {"host": "legacy"}}]}]}),
    ]
    assert "KIA1105" not in _codes(inv, "VirtualService", "weights")
    checks = validate(inv)[("VirtualService", "shop", "twice")].checks
    assert [c.code for c in checks] == ["KIA1106"] and "more than once" in checks[0].message


def test_a_sidecar_limits_which_conflicts_its_namespace_sees() -> None:
    """Kiali's import-scope cases: with a Sidecar importing only its own namespace ("./*"), two rules
    for a host in another namespace, and two VirtualServices for another namespace's host, are no
    conflict there; two for a host of its own still are. Without the Sidecar all of them are."""
    vault_host = "echo.vault.svc.cluster.local"
    rules = [_obj("DestinationRule", name, {"host": vault_host, "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}, ns="istio-test1")
        for name in ("vault-a", "vault-b")]
    routes = [_obj("VirtualService", name, {"hosts": [host], "http": [{"route": [{"destination": {"host": host}}]}]},
                   ns="istio-test1")
              for name, host in (("vs-a", "reviews.bookinfo.svc.cluster.local"),
                                 ("vs-b", "reviews.bookinfo.svc.cluster.local"),
                                 ("vs-local-a", "productpage.istio-test1.svc.cluster.local"),
                                 ("vs-local-b", "productpage.istio-test1.svc.cluster.local"))]
    sidecar = _obj("Sidecar", "default", {"egress": [{"hosts": ["./*"]}]}, ns="istio-test1")

    def codes(with_sidecar: bool) -> dict[str, list[str]]:
        inv = Inventory(namespaces=[Namespace("istio-test1"), Namespace("vault"), Namespace("bookinfo")],
                        istio=[*rules, *routes, *([sidecar] if with_sidecar else [])])
        return {name: [c.code for c in v.checks if c.code in ("KIA0201", "KIA1106")]
                for (_k, _ns, name), v in validate(inv).items()}

    scoped = codes(True)
    assert scoped["vault-a"] == scoped["vault-b"] == [] and scoped["vs-a"] == scoped["vs-b"] == []
    assert scoped["vs-local-a"] == scoped["vs-local-b"] == ["KIA1106"]
    everything = codes(False)
    assert everything["vault-a"] == ["KIA0201"] and everything["vs-a"] == ["KIA1106"]


def test_conflicts_count_only_the_objects_istio_shows_in_the_namespace() -> None:
    """Two VirtualServices (or DestinationRules) for one host in two namespaces, each kept home
    (exportTo "."): no namespace sees both, so neither is a conflict (Kiali judges a namespace's
    objects among those exported to it). One exported everywhere beside one kept home: the home one's
    namespace sees both and gets the finding; the other's does not. The mesh config's default exportTo
    counts for objects that set none."""
    host = "reviews.shop.svc.cluster.local"

    def route(name: str, ns: str, export: list[str] | None) -> IstioObject:
        spec: dict = {"hosts": [host], "http": [{"route": [{"destination": {"host": host}}]}]}
        return _obj("VirtualService", name, spec | ({"exportTo": export} if export is not None else {}), ns=ns)

    def rule(name: str, ns: str, export: list[str] | None) -> IstioObject:
        spec: dict = {"host": host, "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}
        return _obj("DestinationRule", name, spec | ({"exportTo": export} if export is not None else {}), ns=ns)

    inv = _shop()
    inv.namespaces.append(Namespace("web"))
    inv.cluster_namespaces = ["shop", "web", "istio-system"]

    def found(exports: tuple[list[str] | None, list[str] | None]) -> dict[str, list[str]]:
        inv.istio = [route("shop-vs", "shop", exports[0]), route("web-vs", "web", exports[1]),
                     rule("shop-dr", "shop", exports[0]), rule("web-dr", "web", exports[1])]
        return {f"{ns}/{name}": [c.code for c in v.checks if c.code in ("KIA0201", "KIA1106")]
                for (_k, ns, name), v in validate(inv).items() if _k in ("VirtualService", "DestinationRule")}

    assert found((None, None)) == {"shop/shop-vs": ["KIA1106"], "web/web-vs": ["KIA1106"],
                                   "shop/shop-dr": ["KIA0201"], "web/web-dr": ["KIA0201"]}
    assert set(map(tuple, found((["."], ["."])).values())) == {()}
    assert found((["*"], ["."])) == {"shop/shop-vs": [], "web/web-vs": ["KIA1106"],
                                     "shop/shop-dr": [], "web/web-dr": ["KIA0201"]}
    message = next(c.message for c in validate(inv)[("VirtualService", "web", "web-vs")].checks)
    assert "shop/shop-vs" in message
    # no exportTo of their own: the mesh config's defaults keep them home
    inv.mesh_settings = dataclasses.replace(inv.mesh_settings, default_virtual_service_export_to=(".",),
                                            default_destination_rule_export_to=(".",))
    assert set(map(tuple, found((None, None)).values())) == {()}


def test_conflicts_with_rules_outside_the_chosen_namespaces_are_found() -> None:
    """A DestinationRule in another namespace (read cluster-wide, not chosen) for the same host as one
    of the chosen namespace's: Istio sees both in that namespace, so the chosen one's finding names it,
    as Kiali compares a namespace's objects with every one exported to it; the outside rule itself gets
    no finding here (it is not among what is validated), and kept home it is no conflict."""
    inv = _shop()
    inv.istio = [_obj("DestinationRule", "reviews", {"host": "reviews", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}]})]
    outside = _obj("DestinationRule", "reviews-mesh", {"host": "reviews.shop.svc.cluster.local",
                                                      "trafficPolicy": {"loadBalancer": {"simple": "RANDOM"}}},
                   ns="platform")
    inv.outside_config = [outside]
    result = validate(inv)
    found = [c for c in result[("DestinationRule", "shop", "reviews")].checks if c.code == "KIA0201"]
    assert len(found) == 1 and "platform/reviews-mesh" in found[0].message
    assert ("DestinationRule", "platform", "reviews-mesh") not in result
    outside.spec["exportTo"] = ["."]
    assert "KIA0201" not in _codes(inv, "DestinationRule", "reviews")


def test_a_sidecar_limits_the_subsets_a_route_may_name() -> None:
    """A route of a namespace importing only itself names a subset only another namespace's rule
    defines: Kiali warns (KIA1107); a VirtualService none of whose hosts is imported is not judged."""
    rule = _obj("DestinationRule", "reviews", {"host": "reviews.shop.svc.cluster.local", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}]}, ns="shop")
    local = _obj("VirtualService", "local", {"hosts": ["front"], "http": [{"route": [
        {"destination": {"host": "reviews.shop.svc.cluster.local", "subset": "v1"}}]}]}, ns="web")
    foreign = _obj("VirtualService", "foreign", {"hosts": ["reviews.shop.svc.cluster.local"], "http": [{"route": [
        {"destination": {"host": "reviews.shop.svc.cluster.local", "subset": "v9"}}]}]}, ns="web")
    sidecar = _obj("Sidecar", "default", {"egress": [{"hosts": ["./*", "istio-system/*"]}]}, ns="web")
    inv = _shop()
    inv.namespaces.append(Namespace("web"))
    inv.istio += [rule, local, foreign, sidecar]
    assert "KIA1107" in _codes(inv, "VirtualService", "local", "web")
    assert "KIA1107" not in _codes(inv, "VirtualService", "foreign", "web")
    inv.istio.remove(sidecar)
    assert "KIA1107" not in _codes(inv, "VirtualService", "local", "web")
    assert "KIA1107" in _codes(inv, "VirtualService", "foreign", "web")


def _ported(ns: str, name: str, labels: dict[str, str], ports: list[int] | None, names: tuple[str, ...] = (),
            sidecar: bool = True, kind: str = "Deployment") -> Workload:
    w = _wl(ns, name, labels, sidecar)
    w.kind = kind
    w.pods[0].containers[0].ports = ports
    w.pods[0].containers[0].port_names = list(names)
    return w


def test_service_ports_in_the_mesh_name_their_protocol() -> None:
    """Kiali's KIA0601/KIA0602: a meshed Service's ports say their protocol by name (<protocol>[-suffix])
    or by appProtocol, so Istio routes them as what they are; UDP ports, Services Kiali's wizards
    made and Services whose pods have no sidecar are not judged."""
    from meshdesk.mesh.inventory import ServicePort

    inv = _shop()
    ports = [ServicePort("http", 9080), ServicePort("http2-api", 9081), ServicePort("grpc-web", 9082),
             ServicePort("web", 9083), ServicePort("", 9084), ServicePort("web", 9085, app_protocol="HTTP"),
             ServicePort("ws", 9086, app_protocol="kubernetes.io/ws"), ServicePort("x", 9087, app_protocol="websocket"),
             ServicePort("dns", 53, protocol="UDP"), ServicePort("httpx", 9088), ServicePort("Http", 9089)]
    inv.services = [Service("reviews", "shop", selector={"app": "reviews"}, ports=ports),
                    Service("legacy", "shop", selector={"app": "legacy"}, ports=[ServicePort("web", 80)]),
                    Service("made", "shop", selector={"app": "reviews"}, ports=[ServicePort("web", 80)],
                            labels={"kiali_wizard": "request_routing"}),
                    Service("orphan", "shop", selector={"app": "gone"}, ports=[ServicePort("web", 80)])]
    result = validate(inv)
    checks = result[("Service", "shop", "reviews")].checks
    assert [(c.code, c.path) for c in checks] == [
        ("KIA0601", "spec/ports[3]"), ("KIA0601", "spec/ports[4]"), ("KIA0602", "spec/ports[7]"),
        ("KIA0601", "spec/ports[9]"), ("KIA0601", "spec/ports[10]")]
    assert all(c.severity == ERROR for c in checks) and "'web'" in checks[0].message
    assert "9084 has no name" in checks[1].message and "'websocket'" in checks[2].message
    assert result[("Service", "shop", "legacy")].checks == []  # its pods have no sidecar
    assert result[("Service", "shop", "made")].checks == []
    # as Kiali, a Service with no pods behind it counts as meshed
    assert [c.code for c in result[("Service", "shop", "orphan")].checks] == ["KIA0601"]
    # an ambient namespace's Services are in the mesh without sidecars
    inv.namespaces[0].labels = {"istio.io/dataplane-mode": "ambient"}
    assert [c.code for c in validate(inv)[("Service", "shop", "legacy")].checks] == ["KIA0601"]


def test_service_ports_a_deployment_behind_it_declares() -> None:
    """Kiali's KIA0701: some Deployment behind the Service declares the container port it sends to
    (by number, or by name for a named targetPort). Not judged when the pods' ports are not known,
    in the control plane's namespace, or for workloads other than Deployments."""
    from meshdesk.mesh.inventory import ServicePort

    inv = _shop()
    inv.workloads = [_ported("shop", "reviews-v1", {"app": "reviews"}, [9080, 15090], ("http-web",)),
                     _ported("shop", "db", {"app": "db"}, [5432], kind="StatefulSet"),
                     _ported("shop", "old", {"app": "old"}, None),
                     _ported("istio-system", "istiod", {"app": "istiod"}, [15010])]
    inv.services = [
        Service("reviews", "shop", selector={"app": "reviews"}, ports=[
            ServicePort("http", 9080, target_port="9080"), ServicePort("http-named", 80, target_port="http-web"),
            ServicePort("http-default", 9080), ServicePort("http-moved", 80, target_port="8080"),
            ServicePort("http-typo", 80, target_port="http-wbe")]),
        Service("db", "shop", selector={"app": "db"}, ports=[ServicePort("tcp", 1234)]),
        Service("old", "shop", selector={"app": "old"}, ports=[ServicePort("http", 1234)]),
        Service("istiod", "istio-system", selector={"app": "istiod"}, ports=[ServicePort("grpc", 443, target_port="15017")]),
    ]
    result = validate(inv)
    checks = result[("Service", "shop", "reviews")].checks
    assert [(c.code, c.severity, c.path) for c in checks] == [("KIA0701", WARNING, "spec/ports[3]"),
                                                              ("KIA0701", WARNING, "spec/ports[4]")]
    assert "'8080' (where port 80 sends)" in checks[0].message and "'http-wbe'" in checks[1].message
    assert all(result[("Service", ns, n)].checks == [] for ns, n in (("shop", "db"), ("shop", "old"),
                                                                      ("istio-system", "istiod")))
    # the Service's findings reach its graph node's badge and the services list
    assert result[("Service", "shop", "reviews")].valid


def test_two_peer_authentications_or_sidecars_for_one_workload() -> None:
    """Kiali's KIA0002 and KIA0003: Istio applies one PeerAuthentication (and one Sidecar) to a
    workload, so two without a selector in a namespace, or two selecting the same workload, mean one of
    them is ignored; different workloads, or other namespaces, are fine."""
    inv = _shop()
    inv.istio = [
        _obj("PeerAuthentication", "default", {"mtls": {"mode": "PERMISSIVE"}}),
        _obj("PeerAuthentication", "default-2", {"mtls": {"mode": "STRICT"}}),
        _obj("PeerAuthentication", "v1-a", {"selector": {"matchLabels": {"app": "reviews", "version": "v1"}}}),
        _obj("PeerAuthentication", "reviews-all", {"selector": {"matchLabels": {"app": "reviews"}}}),
        _obj("PeerAuthentication", "legacy", {"selector": {"matchLabels": {"app": "legacy"}}}),
        _obj("PeerAuthentication", "mesh", {}, ns="istio-system"),
        _obj("Sidecar", "default", {"egress": [{"hosts": ["./*"]}]}),
        _obj("Sidecar", "also-default", {"egress": [{"hosts": ["istio-system/*"]}]}),
    ]
    inv.workloads[0].labels["version"] = "v1"  # reviews-v1
    result = validate(inv)

    def codes(kind: str, name: str, ns: str = "shop") -> list[str]:
        return [c.code for c in result[(kind, ns, name)].checks if c.code in ("KIA0002", "KIA0003")]

    assert codes("PeerAuthentication", "default") == ["KIA0002"] and codes("PeerAuthentication", "default-2") == ["KIA0002"]
    assert "default-2" in result[("PeerAuthentication", "shop", "default")].checks[-1].message
    assert codes("PeerAuthentication", "v1-a") == ["KIA0003"] and codes("PeerAuthentication", "reviews-all") == ["KIA0003"]
    assert "reviews-v1" in next(c.message for c in result[("PeerAuthentication", "shop", "v1-a")].checks
                                if c.code == "KIA0003")
    assert codes("PeerAuthentication", "legacy") == [] and codes("PeerAuthentication", "mesh", "istio-system") == []
    assert codes("Sidecar", "default") == ["KIA0002"] and codes("Sidecar", "also-default") == ["KIA0002"]
    assert not result[("PeerAuthentication", "shop", "v1-a")].valid


def test_sidecar_egress_hosts_and_the_mesh_wide_default() -> None:
    """Kiali's KIA1004 (an egress host no Service or ServiceEntry serves) and KIA1006 (the root
    namespace's Sidecar is the mesh-wide default: a workloadSelector there makes it none)."""
    inv = _shop()
    inv.istio = [
        _obj("Sidecar", "egress", {"egress": [{"hosts": ["./reviews", "shop/reviewz.shop.svc.cluster.local",
                                                         "istio-system/*", "./*.example.com",
                                                         "other/x.other.svc.cluster.local"]}]}),
        _obj("ServiceEntry", "api", {"hosts": ["api.example.com"], "ports": [{"number": 443, "name": "https",
                                                                            "protocol": "TLS"}]}),
        _obj("Sidecar", "ext", {"egress": [{"hosts": ["./api.example.com", "./nowhere.example.com"]}]}),
        _obj("Sidecar", "default", {"workloadSelector": {"labels": {"istio": "ingressgateway"}},
                                    "egress": [{"hosts": ["./*"]}]}, ns="istio-system"),
    ]
    result = validate(inv)
    egress = [(c.code, c.path) for c in result[("Sidecar", "shop", "egress")].checks if c.code == "KIA1004"]
    assert egress == [("KIA1004", "spec/egress[0]/hosts[1]")]  # reviewz; "other" is a namespace not read
    ext = [(c.code, c.path) for c in result[("Sidecar", "shop", "ext")].checks if c.code == "KIA1004"]
    assert ext == [("KIA1004", "spec/egress[0]/hosts[1]")]
    assert [c.code for c in result[("Sidecar", "istio-system", "default")].checks] == ["KIA1006"]


def test_service_entries_declaring_one_host_and_port() -> None:
    """Kiali's KIA1211 (two ServiceEntries for one host and port) and KIA1212 (and with different
    protocols: Istio takes one of them)."""
    def entry(name: str, host: str, number: int, protocol: str) -> IstioObject:
        return _obj("ServiceEntry", name, {"hosts": [host], "resolution": "DNS",
                                           "ports": [{"number": number, "name": "p", "protocol": protocol}]})

    inv = _shop()
    inv.istio = [entry("a", "api.example.com", 443, "TLS"), entry("b", "API.example.com", 443, "TLS"),
                 entry("c", "db.example.com", 5432, "TCP"), entry("d", "db.example.com", 5432, "HTTP"),
                 entry("e", "db.example.com", 5433, "TCP")]
    result = validate(inv)

    def codes(name: str) -> list[str]:
        return [c.code for c in result[("ServiceEntry", "shop", name)].checks if c.code.startswith("KIA12")]

    assert codes("a") == ["KIA1211"] and codes("b") == ["KIA1211"]
    assert codes("c") == ["KIA1212"] and codes("d") == ["KIA1212"] and codes("e") == []
    assert "shop/b" in next(c.message for c in result[("ServiceEntry", "shop", "a")].checks if c.code == "KIA1211")


def test_service_entries_declaring_one_host_where_a_namespace_sees_both() -> None:
    """MDK1209: Istio takes two ServiceEntries for one host and merges them or picks one, so a warning
    names the other entry; not when no namespace sees both (their exportTo), nor for other hosts."""
    def entry(name: str, hosts: list[str], ns: str = "shop", export: list[str] | None = None) -> IstioObject:
        spec = {"hosts": hosts, "resolution": "DNS", "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]}
        return _obj("ServiceEntry", name, {**spec, **({"exportTo": export} if export is not None else {})}, ns)

    inv = _shop()
    inv.namespaces.append(Namespace("billing"))
    inv.istio = [entry("a", ["api.example.com"]), entry("b", ["other.example.com", "API.example.com"], export=["."]),
                 entry("c", ["db.example.com"], export=["."]), entry("d", ["db.example.com"], "billing", ["."]),
                 entry("e", ["pay.example.com"], "billing", ["shop"]), entry("f", ["pay.example.com"], export=["~"]),
                 entry("g", ["vendor.example.com"], export=["."])]
    inv.outside_config = [entry("vendor", ["vendor.example.com"], "vendors")]  # exported everywhere
    result = validate(inv)

    def found(name: str, ns: str = "shop") -> list[tuple[str, str, str]]:
        return [(c.code, c.severity, c.path) for c in result[("ServiceEntry", ns, name)].checks
                if c.code == "MDK1209"]

    assert found("a") == [("MDK1209", WARNING, "spec/hosts[0]")]
    assert found("b") == [("MDK1209", WARNING, "spec/hosts[1]")]
    def message(name: str) -> str:
        return next(c.message for c in result[("ServiceEntry", "shop", name)].checks if c.code == "MDK1209")

    assert message("a").startswith("host api.example.com is declared by ServiceEntry shop/b too")
    assert found("c") == [] and found("d", "billing") == []  # each seen in its own namespace only
    assert found("e", "billing") == [] and found("f") == []  # f is seen nowhere
    assert found("g") == [("MDK1209", WARNING, "spec/hosts[0]")]
    assert "ServiceEntry vendors/vendor" in message("g")
    assert result[("ServiceEntry", "shop", "a")].valid  # a warning: Istio accepts it
    # the mesh config may keep entries that set no exportTo home (defaultServiceExportTo): then "a"
    # and "b" are seen in shop both still, "g" no longer beside vendors' entry; one's own exportTo wins
    from dataclasses import replace
    inv.mesh_settings = replace(inv.mesh_settings, default_service_export_to=(".",))
    result = validate(inv)
    assert found("a") == [("MDK1209", WARNING, "spec/hosts[0]")] and found("g") == []
    inv.outside_config[0].spec["exportTo"] = ["*"]
    result = validate(inv)
    assert found("g") == [("MDK1209", WARNING, "spec/hosts[0]")]


# -- mTLS consistency between DestinationRules and PeerAuthentications (Kiali's KIA0204-0208, 0401, 050x)

MTLS_CODES = ("KIA0204", "KIA0205", "KIA0206", "KIA0207", "KIA0208", "KIA0401", "KIA0501", "KIA0505", "KIA0506")


def _mtls(inv: Inventory, kind: str, name: str, ns: str = "shop", **options: bool) -> list[tuple[str, str, str]]:
    """(code, severity, path) of the object's mTLS-consistency findings."""
    return [(c.code, c.severity, c.path) for c in validate(inv, **options)[(kind, ns, name)].checks
            if c.code in MTLS_CODES]


def _rule(name: str, host: str, mode: str | None, ns: str = "shop", **policy: dict) -> IstioObject:
    traffic = ({"tls": {"mode": mode}} if mode else {}) | policy
    return _obj("DestinationRule", name, {"host": host, **({"trafficPolicy": traffic} if traffic else {})}, ns)


def _peers(name: str, mode: str, ns: str = "shop", selector: dict | None = None) -> IstioObject:
    return _obj("PeerAuthentication", name, {"mtls": {"mode": mode}, **({"selector": selector} if selector else {})}, ns)


SHOP_WIDE = "*.shop.svc.cluster.local"


def test_a_destination_rule_turning_mtls_off_where_a_peer_authentication_is_strict() -> None:
    """KIA0207: the namespace's policy is STRICT; KIA0208: the mesh's is, and the namespace has none
    of its own (or the rule is the mesh's). Clients would send plain text to workloads that refuse it."""
    inv = _shop()
    inv.istio = [_rule("plain", SHOP_WIDE, "DISABLE"), _peers("default", "STRICT")]
    assert _mtls(inv, "DestinationRule", "plain") == [("KIA0207", ERROR, "spec/trafficPolicy/tls/mode")]
    check = next(c for c in validate(inv)[("DestinationRule", "shop", "plain")].checks if c.code == "KIA0207")
    assert "default" in check.message and "STRICT" in check.message
    assert not validate(inv)[("DestinationRule", "shop", "plain")].valid
    inv.istio[1] = _peers("default", "PERMISSIVE")  # plain text is welcome
    assert _mtls(inv, "DestinationRule", "plain") == []

    # the mesh's policy, read outside the chosen namespaces, is STRICT and shop has none of its own
    inv.istio = [_rule("plain", SHOP_WIDE, "DISABLE")]
    inv.outside_config = [_peers("default", "STRICT", ns="istio-system")]
    assert _mtls(inv, "DestinationRule", "plain") == [("KIA0208", ERROR, "spec/trafficPolicy/tls/mode")]
    assert "istio-system/default" in validate(inv)[("DestinationRule", "shop", "plain")].checks[0].message
    inv.istio.append(_peers("off", "DISABLE"))  # shop turns it off too: they agree
    assert _mtls(inv, "DestinationRule", "plain") == []
    inv.istio[1] = _peers("one", "DISABLE", selector={"matchLabels": {"app": "reviews"}})  # one workload's: no say
    assert [c for c, _s, _p in _mtls(inv, "DestinationRule", "plain")] == ["KIA0208"]
    # the mesh's rule turning mTLS off, in any namespace
    inv.istio = [_rule("mesh-plain", "*.local", "DISABLE", ns="other")]
    assert _mtls(inv, "DestinationRule", "mesh-plain", "other") == [("KIA0208", ERROR, "spec/trafficPolicy/tls/mode")]
    inv.outside_config = [_peers("default", "STRICT", ns="istio-system", selector={"matchLabels": {"app": "x"}})]
    assert _mtls(inv, "DestinationRule", "mesh-plain", "other") == []  # not the mesh's policy: one workload's


def test_the_oldest_wide_peer_authentication_decides_as_in_istio() -> None:
    """Istio applies a namespace's (or the mesh's) oldest selector-less PeerAuthentication: a younger
    STRICT one does not make a namespace-wide DISABLE rule wrong when the oldest turns mTLS off too
    (Kiali flags any STRICT one); an oldest that leaves the mode UNSET hands it to the mesh's."""
    def aged(name: str, mode: str, created: str, ns: str = "shop") -> IstioObject:
        pa = _peers(name, mode, ns=ns)
        pa.created = created
        return pa

    inv = _shop()
    inv.istio = [aged("new-strict", "STRICT", "2025-06-01T00:00:00Z"), aged("old-off", "DISABLE", "2024-01-01T00:00:00Z"),
                 _rule("plain", SHOP_WIDE, "DISABLE")]
    assert _mtls(inv, "DestinationRule", "plain") == []
    inv.istio[1] = aged("old-permissive", "PERMISSIVE", "2024-01-01T00:00:00Z")
    assert _mtls(inv, "DestinationRule", "plain") == []
    inv.istio[0].created, inv.istio[1].created = "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z"  # STRICT is older
    assert _mtls(inv, "DestinationRule", "plain") == [("KIA0207", ERROR, "spec/trafficPolicy/tls/mode")]
    assert "new-strict is STRICT" in validate(inv)[("DestinationRule", "shop", "plain")].checks[0].message
    # the oldest leaves the mode to the mesh, whose oldest is STRICT
    inv.istio = [aged("inherit", "UNSET", "2024-01-01T00:00:00Z"), aged("young-off", "DISABLE", "2025-01-01T00:00:00Z"),
                 _rule("plain", SHOP_WIDE, "DISABLE"), aged("mesh", "STRICT", "2024-01-01T00:00:00Z", ns="istio-system")]
    assert _mtls(inv, "DestinationRule", "plain") == [("KIA0208", ERROR, "spec/trafficPolicy/tls/mode")]
    inv.istio.append(aged("mesh-old-off", "DISABLE", "2023-01-01T00:00:00Z", ns="istio-system"))
    assert _mtls(inv, "DestinationRule", "plain") == []  # the mesh's oldest takes plain text


def test_a_peer_authentication_turning_mtls_off_where_rules_send_it() -> None:
    """KIA0505: a namespace's policy is DISABLE while its namespace-wide rule (or, without one, the
    mesh's) makes clients send mTLS; KIA0506: the mesh's policy is DISABLE and the mesh's rule sends mTLS."""
    inv = _shop()
    inv.namespaces += [Namespace("clients"), Namespace("sleep")]  # read: not ambient, so they export
    inv.istio = [_peers("default", "DISABLE"), _rule("mtls", SHOP_WIDE, "ISTIO_MUTUAL", ns="clients")]
    assert _mtls(inv, "PeerAuthentication", "default") == [("KIA0505", ERROR, "spec/mtls")]
    check = validate(inv)[("PeerAuthentication", "shop", "default")].checks[0]
    assert "clients/mtls" in check.message and SHOP_WIDE in check.message
    inv.istio[1] = _rule("mtls", SHOP_WIDE, "DISABLE")  # the clients agree
    assert _mtls(inv, "PeerAuthentication", "default") == []
    # no rule of the namespace's own: the mesh's sends mTLS (MUTUAL counts too)
    inv.istio[1] = _rule("mesh", "*.local", "MUTUAL", ns="istio-system")
    assert [c for c, _s, _p in _mtls(inv, "PeerAuthentication", "default")] == ["KIA0505"]
    inv.istio.append(_rule("plain", SHOP_WIDE, "DISABLE"))  # shop's own rule turns it off: fine
    assert _mtls(inv, "PeerAuthentication", "default") == []

    inv.istio = [_peers("default", "DISABLE", ns="istio-system")]
    inv.outside_config = [_rule("enable-mtls", "*.local", "ISTIO_MUTUAL", ns="sleep")]
    assert _mtls(inv, "PeerAuthentication", "default", "istio-system") == [("KIA0506", ERROR, "spec/mtls")]
    assert "sleep/enable-mtls" in validate(inv)[("PeerAuthentication", "istio-system", "default")].checks[0].message
    inv.outside_config = [_rule("enable-mtls", "*.local", "DISABLE", ns="sleep")]
    assert _mtls(inv, "PeerAuthentication", "default", "istio-system") == []


def test_a_rule_without_tls_settings_overrides_the_wide_mtls_mode() -> None:
    """KIA0204 (a warning; the rule stays valid): Istio applies the most specific DestinationRule for a
    host alone, so one that sets no TLS drops the ISTIO_MUTUAL of the mesh's or its namespace's rule."""
    inv = _shop()
    inv.outside_config = [_rule("mesh", "*.local", "ISTIO_MUTUAL", ns="istio-system")]
    inv.istio = [_rule("reviews-lb", "reviews", None, loadBalancer={"simple": "ROUND_ROBIN"})]
    assert _mtls(inv, "DestinationRule", "reviews-lb") == [("KIA0204", WARNING, "spec/trafficPolicy")]
    result = validate(inv)[("DestinationRule", "shop", "reviews-lb")]
    assert result.valid and "istio-system/mesh" in result.checks[0].message
    # the rule's mode replaces the wide one: with automatic mTLS (Istio's default) sidecars still get
    # mTLS, so the message does not say it is lost; without it, plain text is sent
    assert result.checks[0].message == (
        "sets no TLS mode, and for reviews its mode replaces the ISTIO_MUTUAL mode of istio-system/mesh (Istio "
        "applies the most specific DestinationRule alone): its clients fall back to automatic mTLS, which reaches "
        "workloads with a sidecar only (set trafficPolicy.tls.mode ISTIO_MUTUAL to keep the wide mode)")
    manual = validate(inv, auto_mtls=False)[("DestinationRule", "shop", "reviews-lb")].checks
    assert "(Istio applies the most specific DestinationRule alone): its clients send plain text (set" in next(
        c.message for c in manual if c.code == "KIA0204")
    # TLS set for the host or for one of its ports keeps a mode
    inv.istio = [_rule("reviews-lb", "reviews", "ISTIO_MUTUAL", loadBalancer={"simple": "ROUND_ROBIN"}),
                 _rule("ports", "legacy", None, portLevelSettings=[{"port": {"number": 80}, "tls": {"mode": "DISABLE"}}]),
                 _obj("DestinationRule", "ext", {"host": "api.example.com"})]  # *.local does not cover it
    assert all(_mtls(inv, "DestinationRule", n) == [] for n in ("reviews-lb", "ports", "ext"))
    # a namespace's rule covers its own hosts only; another rule for the same host counts too
    inv.outside_config = [_rule("ns-mtls", SHOP_WIDE, "ISTIO_MUTUAL")]
    inv.namespaces.append(Namespace("web"))
    inv.services.append(Service("front", "web", selector={"app": "front"}))
    inv.istio = [_obj("DestinationRule", "reviews", {"host": "reviews.shop.svc.cluster.local"}, ns="web"),
                 _obj("DestinationRule", "front", {"host": "front"}, ns="web"),
                 _rule("legacy-mtls", "legacy.shop", "ISTIO_MUTUAL", ns="web"),
                 _obj("DestinationRule", "legacy", {"host": "legacy"})]
    assert [c for c, _s, _p in _mtls(inv, "DestinationRule", "reviews", "web")] == ["KIA0204"]
    assert _mtls(inv, "DestinationRule", "front", "web") == []
    checks = validate(inv)[("DestinationRule", "shop", "legacy")].checks
    assert [c.code for c in checks if c.code in MTLS_CODES] == ["KIA0204"]
    assert "shop/ns-mtls" in checks[-1].message and "web/legacy-mtls" in checks[-1].message


def test_wide_mtls_rules_count_only_where_they_are_exported() -> None:
    """As Istio shows them and Kiali counts them: a rule kept to its namespace (exportTo ".") neither
    makes another namespace's clients send mTLS (KIA0505) nor is overridden by another namespace's rule
    (KIA0204); one exported there is; one whose namespace's labels were not read (ambient rules stay
    home) may not apply, and nothing is said."""
    def exported(rule: IstioObject, to: list[str]) -> IstioObject:
        rule.spec["exportTo"] = to
        return rule

    inv = Inventory(namespaces=[Namespace(n) for n in ("shop", "client", "legacy", "istio-system")],
                    cluster_namespaces=["shop", "client", "legacy", "istio-system"])
    inv.istio = [exported(_rule("shop-mtls", SHOP_WIDE, "ISTIO_MUTUAL"), ["."]),
                 _obj("DestinationRule", "reviews-lb", {"host": "reviews.shop.svc.cluster.local"}, ns="client"),
                 exported(_rule("mesh-mtls", "*.local", "ISTIO_MUTUAL", ns="istio-system"), ["."]),
                 _peers("default", "DISABLE", ns="legacy")]
    assert _mtls(inv, "PeerAuthentication", "default", "legacy") == []
    assert _mtls(inv, "DestinationRule", "reviews-lb", "client") == []
    # exported to the namespaces judged: Istio shows them there
    inv.istio[0].spec["exportTo"] = ["client"]
    inv.istio[2].spec["exportTo"] = ["legacy", "client"]
    assert _mtls(inv, "PeerAuthentication", "default", "legacy") == [("KIA0505", ERROR, "spec/mtls")]
    message = validate(inv)[("PeerAuthentication", "legacy", "default")].checks[0].message
    assert "istio-system/mesh-mtls" in message
    assert _mtls(inv, "DestinationRule", "reviews-lb", "client") == [("KIA0204", WARNING, "spec/trafficPolicy")]
    message = next(c.message for c in validate(inv)[("DestinationRule", "client", "reviews-lb")].checks
                   if c.code == "KIA0204")
    assert "shop/shop-mtls" in message and "istio-system/mesh-mtls" in message
    # the mesh's rule kept home: of the others, only what surely applies accuses
    inv.istio[2].spec["exportTo"] = ["."]
    message = next(c.message for c in validate(inv)[("DestinationRule", "client", "reviews-lb")].checks
                   if c.code == "KIA0204")
    assert "shop/shop-mtls" in message and "mesh-mtls" not in message
    # a rule from a namespace whose labels were not read: it may be ambient (its rules stay home)
    inv.istio[2].spec.pop("exportTo")
    inv.istio[2].namespace = "mesh-config"
    assert _mtls(inv, "PeerAuthentication", "default", "legacy") == []
    inv.namespaces.append(Namespace("mesh-config"))
    assert [c for c, _s, _p in _mtls(inv, "PeerAuthentication", "default", "legacy")] == ["KIA0505"]
    # the mesh config keeping DestinationRules without exportTo home: the mesh's rule then is not
    # shown in legacy (Istio's defaultDestinationRuleExportTo, as Kiali filters them)
    from dataclasses import replace
    inv.mesh_settings = replace(inv.mesh_settings, default_destination_rule_export_to=(".",))
    assert _mtls(inv, "PeerAuthentication", "default", "legacy") == []
    inv.mesh_settings = replace(inv.mesh_settings, default_destination_rule_export_to=("legacy",))
    assert [c for c, _s, _p in _mtls(inv, "PeerAuthentication", "default", "legacy")] == ["KIA0505"]


def test_every_check_reads_the_mtls_fields_alike() -> None:
    """The mTLS-consistency checks, KIA0105 and MDK0501 read one object the same way: ``tls: null`` is
    no TLS setting (Go reads a nil Tls; Kiali sees no mode), ``selector: {}`` is a namespace-wide
    policy (as Istio), a mode is read whatever its case and spaces."""
    identities = _obj("AuthorizationPolicy", "p", {"rules": [{"from": [{"source": {"principals": [
        "cluster.local/ns/web/sa/frontend"]}}]}]})

    def codes(inv: Inventory, kind: str, name: str) -> list[str]:
        return [c.code for c in validate(inv)[(kind, "shop", name)].checks]

    inv = _shop()
    inv.istio = [_peers("default", "STRICT"), identities,
                 _obj("DestinationRule", "lb", {"host": SHOP_WIDE, "trafficPolicy": {"tls": None}})]
    assert codes(inv, "DestinationRule", "lb") == []  # no KIA0207: it turns nothing off
    # without TLS settings it replaces the mesh's ISTIO_MUTUAL (KIA0204), as one without the field
    inv.istio.append(_rule("mesh", "*.local", "ISTIO_MUTUAL", ns="istio-system"))
    assert codes(inv, "DestinationRule", "lb") == ["KIA0204"]

    # selector: {} selects no workload in particular: the namespace's policy, for every check
    inv.istio = [identities, _obj("PeerAuthentication", "off", {"selector": {}, "mtls": {"mode": "DISABLE"}}),
                 _rule("mtls", SHOP_WIDE, "ISTIO_MUTUAL")]
    assert codes(inv, "PeerAuthentication", "off") == ["KIA0505"]
    assert codes(inv, "AuthorizationPolicy", "p") == ["KIA0105"]

    # " strict " is STRICT for MDK0501 (legacy runs no sidecar) as for KIA0207
    inv.istio = [_obj("PeerAuthentication", "on", {"mtls": {"mode": " strict "}}), _rule("plain", SHOP_WIDE, "DISABLE")]
    assert codes(inv, "PeerAuthentication", "on") == ["MDK0501"]
    assert codes(inv, "DestinationRule", "plain") == ["KIA0207"]


def test_a_sidecar_limits_the_wide_rules_a_namespace_sees() -> None:
    """As Kiali, KIA0204 is judged among the rules the namespace's Sidecar imports."""
    inv = _shop()
    inv.istio = [_rule("mesh", "*.local", "ISTIO_MUTUAL", ns="istio-system"),
                 _obj("DestinationRule", "reviews", {"host": "reviews"}),
                 _obj("Sidecar", "default", {"egress": [{"hosts": ["./*"]}]})]
    assert _mtls(inv, "DestinationRule", "reviews") == []  # istio-system's rules are not imported
    inv.istio[2] = _obj("Sidecar", "default", {"egress": [{"hosts": ["./*", "istio-system/*"]}]})
    assert [c for c, _s, _p in _mtls(inv, "DestinationRule", "reviews")] == ["KIA0204"]


def test_one_side_of_mtls_missing_matters_only_without_automatic_mtls() -> None:
    """KIA0205, KIA0206 (a wide rule sends mTLS, no wide policy accepts it), KIA0401, KIA0501 (a wide
    policy is STRICT, no wide rule sends ISTIO_MUTUAL): with Istio's automatic mTLS (its default, which
    meshdesk assumes) clients send mTLS without a rule, and Kiali says nothing; with it off, these are
    errors."""
    inv = _shop()
    inv.istio = [_rule("mesh", "*.local", "ISTIO_MUTUAL", ns="other"), _rule("ns", SHOP_WIDE, "ISTIO_MUTUAL"),
                 _peers("default", "STRICT", ns="istio-system"), _peers("default", "STRICT")]
    off = {"auto_mtls": False}
    assert all(not _mtls(inv, k[0], k[2], k[1]) and not _mtls(inv, k[0], k[2], k[1], **off)
               for k in validate(inv) if k[0] in ("DestinationRule", "PeerAuthentication"))  # the two agree
    inv.istio = [_rule("mesh", "*.local", "ISTIO_MUTUAL", ns="other"), _rule("ns", SHOP_WIDE, "ISTIO_MUTUAL")]
    assert _mtls(inv, "DestinationRule", "mesh", "other") == _mtls(inv, "DestinationRule", "ns") == []
    assert _mtls(inv, "DestinationRule", "mesh", "other", **off) == [("KIA0205", ERROR, "spec/trafficPolicy/tls/mode")]
    assert _mtls(inv, "DestinationRule", "ns", **off) == [("KIA0206", ERROR, "spec/trafficPolicy/tls/mode")]
    assert "istio-system" in validate(inv, auto_mtls=False)[("DestinationRule", "other", "mesh")].checks[0].message
    inv.hidden["shop/peerauthentications"] = "forbidden"  # shop's own may exist unseen: no guess
    assert _mtls(inv, "DestinationRule", "ns", **off) == []
    del inv.hidden["shop/peerauthentications"]
    inv.istio.append(_peers("default", "PERMISSIVE"))  # shop accepts mTLS: the namespace's rule is answered
    assert _mtls(inv, "DestinationRule", "ns", **off) == []
    assert [c for c, _s, _p in _mtls(inv, "DestinationRule", "mesh", "other", **off)] == ["KIA0205"]
    inv.hidden["*/peerauthentications"] = "forbidden cluster-wide"  # the mesh's may exist unseen: no guess
    assert _mtls(inv, "DestinationRule", "mesh", "other", **off) == []

    inv = _shop()
    inv.istio = [_peers("default", "STRICT", ns="istio-system"), _peers("default", "STRICT"),
                 _peers("reviews", "STRICT", selector={"matchLabels": {"app": "reviews"}})]
    assert _mtls(inv, "PeerAuthentication", "default", "istio-system") == _mtls(inv, "PeerAuthentication", "default") == []
    assert _mtls(inv, "PeerAuthentication", "default", "istio-system", **off) == [("KIA0401", ERROR, "spec/mtls")]
    assert _mtls(inv, "PeerAuthentication", "default", **off) == [("KIA0501", ERROR, "spec/mtls")]
    assert _mtls(inv, "PeerAuthentication", "reviews", **off) == []  # one workload's policy
    assert SHOP_WIDE in validate(inv, auto_mtls=False)[("PeerAuthentication", "shop", "default")].checks[-1].message
    inv.outside_config = [_rule("ns", SHOP_WIDE, "ISTIO_MUTUAL", ns="clients")]  # shop's clients send mTLS
    assert _mtls(inv, "PeerAuthentication", "default", **off) == []
    assert [c for c, _s, _p in _mtls(inv, "PeerAuthentication", "default", "istio-system", **off)] == ["KIA0401"]
    inv.hidden["*/destinationrules"] = "forbidden cluster-wide"
    assert _mtls(inv, "PeerAuthentication", "default", "istio-system", **off) == []


def test_kialis_ignore_annotation_leaves_out_an_objects_own_findings() -> None:
    """An object annotated kiali.io/ignore-validations (codes separated by commas; empty: all) had its
    findings shown here though Kiali leaves them out: users who silenced a finding in Kiali saw it again."""
    def inventory(annotation: str | None, on_service: str | None = None) -> Inventory:
        inv = _shop()
        assert inv.services[0].name == "reviews"
        marks = {} if annotation is None else {"kiali.io/ignore-validations": annotation}
        inv.istio = [
            IstioObject("VirtualService", "reviews", "shop", spec={"hosts": ["reviews"], "http": [
                {"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}]}, annotations=marks),
            # a second VirtualService for the host: KIA1106 on both
            _obj("VirtualService", "reviews-too", {"hosts": ["reviews"], "http": [
                {"route": [{"destination": {"host": "reviews"}}]}]}),
        ]
        if on_service is not None:
            inv.services[0] = dataclasses.replace(inv.services[0], annotations={"kiali.io/ignore-validations": on_service})
        return inv

    everything = _codes(inventory(None), "VirtualService", "reviews")
    assert "KIA1107" in everything and "KIA1106" in everything
    assert _codes(inventory("KIA1107"), "VirtualService", "reviews") == [c for c in everything if c != "KIA1107"]
    assert _codes(inventory(" KIA1107 , KIA1106"), "VirtualService", "reviews") == [
        c for c in everything if c not in ("KIA1107", "KIA1106")]
    quiet = validate(inventory(""))
    assert quiet[("VirtualService", "shop", "reviews")].checks == [] and quiet[("VirtualService", "shop", "reviews")].valid
    # the other VirtualService's own finding stays
    assert "KIA1106" in _codes(inventory(""), "VirtualService", "reviews-too")
    assert _codes(inventory("KIA0000"), "VirtualService", "reviews") == everything

    # a Service's own findings too: a port whose name says no protocol (KIA0601)
    from meshdesk.mesh.inventory import ServicePort

    def named(annotation: str | None) -> list[str]:
        inv = inventory(None, on_service=annotation)
        inv.services[0] = dataclasses.replace(inv.services[0], ports=[ServicePort("web", 80)])
        return [c.code for c in validate(inv)[("Service", "shop", "reviews")].checks]

    assert named(None) == ["KIA0601"] and named("KIA0601") == [] and named("") == [] and named("KIA0602") == ["KIA0601"]


def test_kia1301_names_the_workloads_no_authorization_policy_covers_when_asked() -> None:
    """Kiali's KIA1301 (off unless asked, as in Kiali): a workload no AuthorizationPolicy of its
    namespace or of the root namespace selects lets every request in."""
    inv = _shop()

    def uncovered(inventory: Inventory) -> set[str]:
        return {name for (kind, _ns, name), v in validate(inventory, uncovered=True).items()
                if kind == "Workload" and any(c.code == "KIA1301" for c in v.checks)}

    assert not any(c.code == "KIA1301" for v in validate(inv).values() for c in v.checks)  # not by default
    assert uncovered(inv) == {"reviews-v1", "reviews-v2", "legacy", "istio-ingressgateway"}
    inv.istio = [_obj("AuthorizationPolicy", "reviews-only", {"selector": {"matchLabels": {"app": "reviews"}},
                                                               "action": "ALLOW", "rules": [{}]})]
    assert uncovered(inv) == {"legacy", "istio-ingressgateway"}
    # one without a selector covers its whole namespace; one in the root namespace the whole mesh
    inv.istio.append(_obj("AuthorizationPolicy", "deny-all", {}, ns="shop"))
    assert uncovered(inv) == {"istio-ingressgateway"}
    inv.istio = [_obj("AuthorizationPolicy", "mesh-wide", {"action": "DENY", "rules": []}, ns="istio-system")]
    assert uncovered(inv) == set()
    # the root namespace not read: its policies are not known, and the finding says so
    inv.namespaces = [n for n in inv.namespaces if n.name != "istio-system"]
    inv.istio = []
    [check] = validate(inv, uncovered=True)[("Workload", "shop", "legacy")].checks
    assert check.code == "KIA1301" and check.severity == WARNING
    assert "istio-system's policies were not read" in check.message


def test_a_subset_defined_by_a_destination_rule_outside_the_selection_is_found() -> None:
    """QA: ``validate -n shop`` (and the app showing shop alone) warned KIA1107 "subset 'v1' of reviews
    is defined by no DestinationRule" when the rule defining it lives in another namespace (the root
    namespace, read cluster-wide into ``outside_config``): Kiali judges against the whole cluster's
    rules. Where rules could not be listed, a subset found nowhere is not claimed missing either."""
    inv = _shop()
    vs = _obj("VirtualService", "reviews", {"hosts": ["reviews"], "http": [{"route": [
        {"destination": {"host": "reviews", "subset": "v1"}}]}]})
    inv.istio = [vs]
    assert "KIA1107" in _codes(inv, "VirtualService", "reviews")
    inv.outside_config = [_obj("DestinationRule", "reviews", {"host": "reviews.shop.svc.cluster.local", "subsets": [
        {"name": "v1", "labels": {"version": "v1"}}]}, ns="istio-system")]
    assert "KIA1107" not in _codes(inv, "VirtualService", "reviews")
    inv.outside_config = []
    inv.hidden["~/destinationrules"] = "forbidden cluster-wide: destinationrules outside the selected namespaces"
    assert "KIA1107" not in _codes(inv, "VirtualService", "reviews")
