"""The Kubernetes Gateway API's config read from a cluster (the API emulator serving its CRDs): routes,
ReferenceGrants and Gateways listed with the Istio config in the versions the cluster serves, the
GatewayClasses kept for the class check, what is forbidden recorded and never fatal; and carried by
snapshots, old ones loading as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace
from meshdesk.mesh.validations import validate
from meshdesk.sources.inventory import read_inventory
from tests import gateway_api_crds
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
GW = "gateway.networking.k8s.io"


def _obj(kind: str, version: str, name: str, ns: str | None, spec: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns is not None:
        meta["namespace"] = ns
    return {"apiVersion": f"{GW}/{version}", "kind": kind, "metadata": meta, "spec": spec}


def _cluster(emu: KubeEmulator, shared: Path, *, gateway_api: bool = True) -> None:
    """bookinfo with a Gateway API ingress of its own ("books") and a shared one in "ingress"."""
    emu.load_crds(shared / CRDS)
    if gateway_api:
        gateway_api_crds.install(emu)
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.add_namespace("ingress")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews", "namespace": "bookinfo"},
             "spec": {"selector": {"app": "reviews"}, "ports": [{"name": "http", "port": 9080}]}})
    if not gateway_api:
        return
    emu.add(_obj("GatewayClass", "v1", "istio", None, {"controllerName": "istio.io/gateway-controller"}))
    emu.add(_obj("Gateway", "v1", "books", "bookinfo", {
        "gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}))
    emu.add(_obj("Gateway", "v1", "shared", "ingress", {
        "gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
                                                    "allowedRoutes": {"namespaces": {"from": "All"}}}]}))
    emu.add(_obj("HTTPRoute", "v1", "reviews", "bookinfo", {
        "parentRefs": [{"name": "books"}, {"name": "shared", "namespace": "ingress"}],
        "rules": [{"backendRefs": [{"name": "reviews", "port": 9080}]}]}))
    emu.add(_obj("HTTPRoute", "v1", "broken", "bookinfo", {
        "parentRefs": [{"name": "nowhere"}], "rules": [{"backendRefs": [{"name": "ratings", "port": 9080}]}]}))
    emu.add(_obj("GRPCRoute", "v1", "reviews-grpc", "bookinfo", {
        "parentRefs": [{"name": "books"}], "rules": [{"backendRefs": [{"name": "reviews", "port": 9080}]}]}))
    emu.add(_obj("TCPRoute", "v1alpha2", "reviews-tcp", "bookinfo", {
        "parentRefs": [{"name": "books"}], "rules": [{"backendRefs": [{"name": "reviews", "port": 9080}]}]}))
    emu.add(_obj("TLSRoute", "v1alpha2", "reviews-tls", "bookinfo", {
        "parentRefs": [{"name": "books"}], "rules": [{"backendRefs": [{"name": "reviews", "port": 9080}]}]}))
    emu.add(_obj("ReferenceGrant", "v1beta1", "from-shop", "bookinfo", {
        "from": [{"group": GW, "kind": "HTTPRoute", "namespace": "shop"}], "to": [{"group": "", "kind": "Service"}]}))


def _gateway_api(inv: Inventory) -> list[tuple[str, str, str, str]]:
    return [(o.kind, o.namespace, o.name, o.api_version) for o in inv.istio if o.kind.startswith("K8s")]


def test_gateway_api_config_is_listed_with_the_istio_config(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    emu = kube_emulator
    _cluster(emu, shared_dir)
    inv = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    # each kind in the best version served: TCP and TLS routes only as v1alpha2, grants as v1beta1
    assert _gateway_api(inv) == [
        ("K8sGRPCRoute", "bookinfo", "reviews-grpc", f"{GW}/v1"),
        ("K8sGateway", "bookinfo", "books", f"{GW}/v1"),
        ("K8sHTTPRoute", "bookinfo", "broken", f"{GW}/v1"),
        ("K8sHTTPRoute", "bookinfo", "reviews", f"{GW}/v1"),
        ("K8sReferenceGrant", "bookinfo", "from-shop", f"{GW}/v1beta1"),
        ("K8sTCPRoute", "bookinfo", "reviews-tcp", f"{GW}/v1alpha2"),
        ("K8sTLSRoute", "bookinfo", "reviews-tls", f"{GW}/v1alpha2")]
    assert not any(k.endswith(GW) for k in inv.hidden) and inv.warnings == []
    # the graph's Gateways are still read from the whole cluster, the shared one outside the selection too
    assert [(o.namespace, o.name) for o in inv.k8s_gateways] == [("bookinfo", "books"), ("ingress", "shared")]
    assert inv.gateway_classes == {"istio": "istio.io/gateway-controller"}
    # the manifest keeps the API's own kind
    route = next(o for o in inv.istio if o.name == "reviews" and o.kind == "K8sHTTPRoute")
    assert route.to_manifest()["kind"] == "HTTPRoute" and route.to_manifest()["apiVersion"] == f"{GW}/v1"

    found = validate(inv)
    assert [(c.code, c.path) for c in found[("K8sHTTPRoute", "bookinfo", "broken")].checks] == [
        ("KIA1401", "spec/parentRefs[0]/name"), ("KIA1402", "spec/rules[0]/backendRefs[0]/name")]
    for key in (("K8sHTTPRoute", "bookinfo", "reviews"), ("K8sGateway", "bookinfo", "books"),
                ("K8sTCPRoute", "bookinfo", "reviews-tcp")):
        assert found[key].checks == []
    # "shop" is no namespace of the cluster (the cluster's names could be listed)
    assert [c.code for c in found[("K8sReferenceGrant", "bookinfo", "from-shop")].checks] == ["KIA1601"]

    # a snapshot carries them all, and gives the same findings
    again = Inventory.from_json(json.loads(json.dumps(inv.to_json())))
    assert again.to_json() == inv.to_json() and _gateway_api(again) == _gateway_api(inv)
    assert {k: [c.code for c in v.checks] for k, v in validate(again).items()} == \
        {k: [c.code for c in v.checks] for k, v in found.items()}


def test_forbidden_gateway_api_kinds_are_recorded_and_not_judged(kube_emulator: KubeEmulator,
                                                                 shared_dir: Path) -> None:
    emu = kube_emulator
    _cluster(emu, shared_dir)
    emu.forbid(namespace="bookinfo", resource="httproutes")
    emu.forbid(resource="gatewayclasses")
    emu.forbid(namespace="bookinfo", resource="referencegrants")
    inv = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert inv.hidden["bookinfo/httproutes.gateway.networking.k8s.io"].startswith("forbidden")
    assert inv.hidden["bookinfo/referencegrants.gateway.networking.k8s.io"].startswith("forbidden")
    assert inv.hidden["*/gatewayclasses.gateway.networking.k8s.io"].startswith("forbidden")
    assert inv.gateway_classes is None
    # the rest is read: the other routes, the Gateway, and Istio's Gateway is not taken for it
    assert {o.kind for o in inv.istio if o.kind.startswith("K8s")} == {
        "K8sGateway", "K8sGRPCRoute", "K8sTCPRoute", "K8sTLSRoute"}
    assert "bookinfo/gateways" not in inv.hidden and len(inv.services) == 1
    # a Gateway with a class nobody knows is not judged while the classes are unknown
    assert validate(inv)[("K8sGateway", "bookinfo", "books")].checks == []


def test_a_gateways_status_is_read_shown_and_carried_by_snapshots(kube_emulator: KubeEmulator,
                                                                    shared_dir: Path) -> None:
    """What Istio reports of a Gateway (a certificate it cannot find) comes with the Gateway: a GWAPI
    warning, and a snapshot keeps it; Istio's own objects keep no status, and no status is ever written."""
    emu = kube_emulator
    _cluster(emu, shared_dir)
    broken = _obj("Gateway", "v1", "secure", "bookinfo", {
        "gatewayClassName": "istio", "listeners": [{"name": "https", "port": 443, "protocol": "HTTPS",
                                                    "hostname": "books.example.com"}]})
    broken["status"] = {
        "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Resource accepted"},
                       {"type": "Programmed", "status": "True", "reason": "Programmed", "message": "Resource programmed"}],
        "listeners": [{"name": "https", "attachedRoutes": 0, "supportedKinds": [{"kind": "HTTPRoute"}], "conditions": [
            {"type": "ResolvedRefs", "status": "False", "reason": "InvalidCertificateRef",
             "message": "invalid certificate reference /Secret/books-cert. secret bookinfo/books-cert not found"}]}]}
    emu.add(broken)
    emu.add({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
             "metadata": {"name": "reviews", "namespace": "bookinfo"}, "spec": {"host": "reviews"},
             "status": {"observedGeneration": "1"}})
    inv = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    secure = next(o for o in inv.istio if (o.kind, o.name) == ("K8sGateway", "secure"))
    assert secure.status == broken["status"]
    dr = next(o for o in inv.istio if o.kind == "DestinationRule")
    assert dr.status == {} and "status" not in dr.to_json()
    # what meshdesk would write never carries a status
    assert "status" not in secure.to_manifest()
    [check] = validate(inv)[("K8sGateway", "bookinfo", "secure")].checks
    assert (check.code, check.severity, check.path) == ("GWAPI", "warning", "status/listeners[0]/conditions[0]")
    assert "secret bookinfo/books-cert not found" in check.message
    again = Inventory.from_json(json.loads(json.dumps(inv.to_json())))
    assert next(o for o in again.istio if o.name == "secure").status == broken["status"]
    assert [c.code for c in validate(again)[("K8sGateway", "bookinfo", "secure")].checks] == ["GWAPI"]


def test_a_cluster_without_the_gateway_api_reads_as_before(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    emu = kube_emulator
    _cluster(emu, shared_dir, gateway_api=False)
    inv = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert _gateway_api(inv) == [] and inv.k8s_gateways == [] and inv.gateway_classes is None
    assert not any(GW in k for k in inv.hidden) and inv.warnings == []
    assert "gateway_classes" not in inv.to_json()


def test_old_snapshots_load_unchanged_and_inventories_merge() -> None:
    """An inventory written before the Gateway API was read (no classes, no such kinds) loads as it was
    and is written back the same; merged inventories keep the classes only when every part knows them."""
    old: dict[str, Any] = {
        "cluster": "east", "namespaces": [{"name": "bookinfo", "labels": {}}], "workloads": [], "services": [],
        "istio": [{"kind": "VirtualService", "name": "reviews", "namespace": "bookinfo", "spec": {"hosts": ["reviews"]}}],
        "istio_found": True, "hidden": {}, "warnings": [],
        "k8s_gateways": [{"kind": "K8sGateway", "name": "web", "namespace": "ingress",
                          "api_version": f"{GW}/v1", "spec": {}}]}
    inv = Inventory.from_json(old)
    assert inv.gateway_classes is None and [o.kind for o in inv.istio] == ["VirtualService"]
    assert "gateway_classes" not in inv.to_json()
    assert Inventory.from_json(inv.to_json()).to_json() == inv.to_json()
    assert validate(inv)[("VirtualService", "bookinfo", "reviews")] is not None

    route = IstioObject("K8sHTTPRoute", "r", "shop", f"{GW}/v1", {"parentRefs": [{"name": "gw"}]})
    shop = Inventory(cluster="east", namespaces=[Namespace("shop")], istio=[route],
                     gateway_classes={"istio": "istio.io/gateway-controller"})
    merged = shop.merged([Inventory(cluster="east", gateway_classes={"eg": "gateway.envoyproxy.io/x"})])
    assert merged.gateway_classes == {"eg": "gateway.envoyproxy.io/x", "istio": "istio.io/gateway-controller"}
    assert [o.kind for o in merged.istio] == ["K8sHTTPRoute"]
    assert shop.merged([inv]).gateway_classes is None
    assert shop.within(["shop"]).gateway_classes == shop.gateway_classes
    try:
        Inventory.from_json({**old, "gateway_classes": ["istio"]})
    except ValueError as e:
        assert "gateway_classes" in str(e)
    else:
        raise AssertionError("a malformed gateway_classes must be refused")
