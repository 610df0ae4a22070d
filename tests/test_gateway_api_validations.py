"""Kiali's checks of the Kubernetes Gateway API config: routes to missing or closed Gateways (KIA1401)
and to missing Services (KIA1402), Gateways sharing listeners or addresses (KIA1501, KIA1502), a
Gateway's own listeners clashing (KIA1503), a class the cluster does not have (KIA1504; a Gateway of
another implementation is not judged), the conditions a Gateway's controller reports as failing
(Kiali's GWAPI) and ReferenceGrants from namespaces that do not exist (KIA1601). Cases after Kiali's checker tests; what the inventory did
not read is never judged."""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.gateway_api_checks import selector_matches
from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, Service, ServicePort
from meshdesk.mesh.validations import ERROR, WARNING, validate

GW_API = "gateway.networking.k8s.io/v1"
ISTIO_CLASSES = {"istio": "istio.io/gateway-controller", "istio-waypoint": "istio.io/mesh-controller",
                 "istio-remote": "istio.io/unmanaged-gateway"}


def _gateway(name: str, ns: str, listeners: list[dict[str, Any]] | None = None, *,
             gateway_class: str = "istio", addresses: list[dict[str, str]] | None = None) -> IstioObject:
    spec: dict[str, Any] = {"gatewayClassName": gateway_class,
                            "listeners": listeners if listeners is not None else [
                                {"name": "http", "port": 80, "protocol": "HTTP"}]}
    if addresses is not None:
        spec["addresses"] = addresses
    return IstioObject("K8sGateway", name, ns, GW_API, spec)


def _route(name: str, ns: str, parents: list[dict[str, Any]], backends: list[dict[str, Any]],
           kind: str = "K8sHTTPRoute") -> IstioObject:
    return IstioObject(kind, name, ns, GW_API, {"parentRefs": parents, "rules": [{"backendRefs": backends}]})


def _svc(name: str, ns: str) -> Service:
    return Service(name, ns, ports=[ServicePort("http", 9080)])


def _inv(*objs: IstioObject, namespaces: tuple[str, ...] = ("bookinfo",), services: tuple[Service, ...] = (),
         labels: dict[str, dict[str, str]] | None = None, **kw: Any) -> Inventory:
    return Inventory(namespaces=[Namespace(n, dict((labels or {}).get(n, {}))) for n in namespaces],
                     services=list(services), istio=list(objs), **kw)


def _codes(inv: Inventory, kind: str, ns: str, name: str) -> list[tuple[str, str, str]]:
    return [(c.code, c.severity, c.path) for c in validate(inv)[(kind, ns, name)].checks]


# -- KIA1401 ----------------------------------------------------------------------------------------

def test_a_route_to_a_gateway_that_does_not_exist_is_an_error() -> None:
    inv = _inv(_gateway("gateway", "bookinfo"),
               _route("reviews", "bookinfo", [{"name": "gateway"}, {"name": "gatewayapi2"}],
                      [{"name": "reviews", "port": 9080}]),
               services=(_svc("reviews", "bookinfo"),))
    assert _codes(inv, "K8sHTTPRoute", "bookinfo", "reviews") == [("KIA1401", ERROR, "spec/parentRefs[1]/name")]
    assert not validate(inv)[("K8sHTTPRoute", "bookinfo", "reviews")].valid
    # the same for a gRPC route, and for TCP and TLS routes (same fields, same meaning)
    for kind in ("K8sGRPCRoute", "K8sTCPRoute", "K8sTLSRoute"):
        inv = _inv(_route("r", "bookinfo", [{"name": "nowhere"}], [], kind=kind))
        assert _codes(inv, kind, "bookinfo", "r") == [("KIA1401", ERROR, "spec/parentRefs[0]/name")]


def test_a_gateway_in_another_namespace_must_admit_the_routes_namespace() -> None:
    closed = _gateway("shared", "ingress")  # allowedRoutes left out: "Same" namespace only
    open_ = _gateway("open", "ingress", [{"name": "http", "port": 80, "protocol": "HTTP",
                                          "allowedRoutes": {"namespaces": {"from": "All"}}}])
    chosen = _gateway("chosen", "ingress", [{"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {
        "namespaces": {"from": "Selector", "selector": {"matchLabels": {"shared-gateway-access": "true"}}}}}])
    routes = [_route(f"to-{g.name}", "bookinfo", [{"name": g.name, "namespace": "ingress"}], [])
              for g in (closed, open_, chosen)]
    inv = _inv(closed, open_, chosen, *routes, namespaces=("bookinfo", "ingress"))
    assert _codes(inv, "K8sHTTPRoute", "bookinfo", "to-shared") == [("KIA1401", ERROR, "spec/parentRefs[0]/name")]
    assert "admits no routes from namespace bookinfo" in validate(inv)[("K8sHTTPRoute", "bookinfo",
                                                                         "to-shared")].checks[0].message
    assert _codes(inv, "K8sHTTPRoute", "bookinfo", "to-open") == []
    assert _codes(inv, "K8sHTTPRoute", "bookinfo", "to-chosen") == [("KIA1401", ERROR, "spec/parentRefs[0]/name")]
    labelled = _inv(closed, open_, chosen, *routes, namespaces=("bookinfo", "ingress"),
                    labels={"bookinfo": {"shared-gateway-access": "true"}})
    assert _codes(labelled, "K8sHTTPRoute", "bookinfo", "to-chosen") == []
    # the namespace's labels hidden: whether the selector admits it is not known, so nothing is said
    hidden = _inv(closed, chosen, *routes[::2], namespaces=("bookinfo", "ingress"),
                  hidden={"bookinfo/namespace": "forbidden"})
    assert _codes(hidden, "K8sHTTPRoute", "bookinfo", "to-chosen") == []


def test_gateways_outside_the_selection_are_judged_only_when_the_cluster_wide_list_was_read() -> None:
    route = _route("books", "bookinfo", [{"name": "ingress", "namespace": "ingress"}], [])
    elsewhere = _gateway("ingress", "ingress", [{"name": "http", "port": 80, "protocol": "HTTP",
                                                 "allowedRoutes": {"namespaces": {"from": "All"}}}])
    # read cluster-wide for the graph (Inventory.k8s_gateways): found
    assert _codes(_inv(route, k8s_gateways=[elsewhere]), "K8sHTTPRoute", "bookinfo", "books") == []
    # read cluster-wide and not there: missing
    assert _codes(_inv(route), "K8sHTTPRoute", "bookinfo", "books") == [
        ("KIA1401", ERROR, "spec/parentRefs[0]/name")]
    # the cluster-wide list was forbidden: not judged
    unknown = _inv(route, hidden={"*/Gateway API gateways": "forbidden cluster-wide"})
    assert _codes(unknown, "K8sHTTPRoute", "bookinfo", "books") == []
    # a selected namespace whose Gateway list was hidden: not judged either
    mine = _route("mine", "bookinfo", [{"name": "nowhere"}], [])
    hidden = _inv(mine, hidden={"bookinfo/gateways.gateway.networking.k8s.io": "forbidden"})
    assert _codes(hidden, "K8sHTTPRoute", "bookinfo", "mine") == []


def test_parents_of_other_kinds_are_not_gateways() -> None:
    route = _route("r", "bookinfo", [{"name": "gw", "kind": "ListenerSet", "group": "gateway.networking.x-k8s.io"},
                                     {"name": "gw", "kind": "Gateway", "group": "networking.istio.io"}], [])
    assert _codes(_inv(route), "K8sHTTPRoute", "bookinfo", "r") == []


# -- KIA1402 ----------------------------------------------------------------------------------------

def test_a_backend_service_that_does_not_exist_is_an_error() -> None:
    inv = _inv(_gateway("gateway", "bookinfo"),
               _route("reviews", "bookinfo", [{"name": "gateway"}],
                      [{"name": "reviews", "port": 9080}, {"name": "ratings", "port": 9080},
                       {"name": "reviews.bookinfo", "port": 9080},
                       {"name": "bucket", "group": "storage.example.com", "kind": "Bucket"}]),
               services=(_svc("reviews", "bookinfo"),))
    assert _codes(inv, "K8sHTTPRoute", "bookinfo", "reviews") == [
        ("KIA1402", ERROR, "spec/rules[0]/backendRefs[1]/name"),
        ("KIA1402", ERROR, "spec/rules[0]/backendRefs[2]/name")]
    messages = [c.message for c in validate(inv)[("K8sHTTPRoute", "bookinfo", "reviews")].checks]
    assert "no Service ratings in namespace bookinfo" in messages[0] and "without dots" in messages[1]


def test_a_mesh_route_to_a_missing_service_is_an_error() -> None:
    """GAMMA: the parent is a Service; a consumer route to another namespace's Service needs no grant."""
    parents = [{"group": "", "kind": "Service", "name": "reviews", "port": 9080},
               {"group": "", "kind": "Service", "name": "gone"},
               {"group": "", "kind": "Service", "name": "ratings", "namespace": "other"}]
    inv = _inv(_route("reviews", "bookinfo", parents, [{"name": "reviews", "port": 9080}]),
               namespaces=("bookinfo", "other"), services=(_svc("reviews", "bookinfo"), _svc("ratings", "other")))
    assert _codes(inv, "K8sHTTPRoute", "bookinfo", "reviews") == [("KIA1402", ERROR, "spec/parentRefs[1]/name")]


def test_a_backend_in_another_namespace_needs_a_reference_grant_there() -> None:
    route = _route("books", "bookinfo", [{"group": "", "kind": "Service", "name": "productpage"}],
                   [{"name": "ratings", "namespace": "ratings", "port": 9080}])
    services = (_svc("productpage", "bookinfo"), _svc("ratings", "ratings"))
    both = ("bookinfo", "ratings")
    assert _codes(_inv(route, namespaces=both, services=services), "K8sHTTPRoute", "bookinfo", "books") == [
        ("KIA1402", ERROR, "spec/rules[0]/backendRefs[0]/name")]

    def grant(from_kind: str = "HTTPRoute", from_ns: str = "bookinfo", to: dict[str, str] | None = None,
              ns: str = "ratings") -> IstioObject:
        return IstioObject("K8sReferenceGrant", "allow", ns, "gateway.networking.k8s.io/v1beta1", {
            "from": [{"group": "gateway.networking.k8s.io", "kind": from_kind, "namespace": from_ns}],
            "to": [to if to is not None else {"group": "", "kind": "Service"}]})

    for good in (grant(), grant(to={"group": "", "kind": "Service", "name": "ratings"})):
        inv = _inv(route, good, namespaces=both, services=services)
        assert _codes(inv, "K8sHTTPRoute", "bookinfo", "books") == []
    for wrong in (grant(from_kind="GRPCRoute"), grant(from_ns="shop"), grant(ns="bookinfo"),
                  grant(to={"group": "", "kind": "Service", "name": "details"})):
        inv = _inv(route, wrong, namespaces=both, services=services)
        assert [c for c, _s, _p in _codes(inv, "K8sHTTPRoute", "bookinfo", "books")] == ["KIA1402"]
    # the target namespace's grants hidden: the Service is judged, the grant not
    hidden = _inv(route, namespaces=both, services=services,
                  hidden={"ratings/referencegrants.gateway.networking.k8s.io": "forbidden"})
    assert _codes(hidden, "K8sHTTPRoute", "bookinfo", "books") == []


def test_services_where_the_inventory_did_not_look_are_not_judged() -> None:
    route = _route("books", "bookinfo", [], [{"name": "ratings", "namespace": "elsewhere", "port": 9080},
                                             {"name": "details", "port": 9080}])
    assert _codes(_inv(route, hidden={"bookinfo/services": "forbidden"}), "K8sHTTPRoute", "bookinfo", "books") == []


# -- KIA1501, KIA1502, KIA1503 -----------------------------------------------------------------------

def _listener(name: str, host: str | None, port: int = 80, protocol: str = "HTTP") -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "port": port, "protocol": protocol}
    if host is not None:
        out["hostname"] = host
    return out


def test_two_gateways_with_one_host_and_port_warn_naming_each_other() -> None:
    a = _gateway("gatewayapi", "bookinfo", [_listener("default", "bookinfo.com")])
    b = _gateway("gatewayapi2", "bookinfo2", [_listener("other", "other.com"), _listener("web", "bookinfo.com")])
    c = _gateway("https", "bookinfo2", [_listener("web", "bookinfo.com", 443, "HTTPS")])
    inv = _inv(a, b, c, namespaces=("bookinfo", "bookinfo2"))
    assert _codes(inv, "K8sGateway", "bookinfo", "gatewayapi") == [("KIA1501", WARNING, "spec/listeners[0]/hostname")]
    assert _codes(inv, "K8sGateway", "bookinfo2", "gatewayapi2") == [
        ("KIA1501", WARNING, "spec/listeners[1]/hostname")]
    assert _codes(inv, "K8sGateway", "bookinfo2", "https") == []
    assert "bookinfo2/gatewayapi2" in validate(inv)[("K8sGateway", "bookinfo", "gatewayapi")].checks[0].message
    assert validate(inv)[("K8sGateway", "bookinfo", "gatewayapi")].valid  # a warning, as in Kiali
    # listeners without a hostname are not compared across Gateways (Kiali)
    bare = _inv(_gateway("a", "bookinfo"), _gateway("b", "bookinfo"))
    assert _codes(bare, "K8sGateway", "bookinfo", "a") == []


def test_two_gateways_with_one_address_warn() -> None:
    a = _gateway("a", "bookinfo", [_listener("a", "a.com")], addresses=[{"type": "IPAddress", "value": "10.0.0.1"}])
    b = _gateway("b", "bookinfo", [_listener("b", "b.com")], addresses=[{"value": "10.0.0.1"}])  # IPAddress by default
    c = _gateway("c", "bookinfo", [_listener("c", "c.com")], addresses=[{"type": "Hostname", "value": "10.0.0.1"}])
    inv = _inv(a, b, c)
    assert _codes(inv, "K8sGateway", "bookinfo", "a") == [("KIA1502", WARNING, "spec/addresses[0]/value")]
    assert _codes(inv, "K8sGateway", "bookinfo", "b") == [("KIA1502", WARNING, "spec/addresses[0]/value")]
    assert _codes(inv, "K8sGateway", "bookinfo", "c") == []


def test_listeners_of_one_gateway_need_their_own_hostname_port_and_protocol() -> None:
    gw = _gateway("gw", "bookinfo", [_listener("one", "bookinfo.com"), _listener("two", "bookinfo.com"),
                                     _listener("tls", "bookinfo.com", 443, "HTTPS"),
                                     _listener("any", None), _listener("any-again", None)])
    assert _codes(_inv(gw), "K8sGateway", "bookinfo", "gw") == [
        ("KIA1503", ERROR, "spec/listeners[0]/name"), ("KIA1503", ERROR, "spec/listeners[1]/name"),
        ("KIA1503", ERROR, "spec/listeners[3]/name"), ("KIA1503", ERROR, "spec/listeners[4]/name")]


# -- KIA1504 ----------------------------------------------------------------------------------------

def test_a_gateway_class_the_cluster_does_not_have_is_an_error_when_the_classes_are_known() -> None:
    gws = (_gateway("ours", "bookinfo"), _gateway("waypoint", "bookinfo", gateway_class="istio-waypoint"),
           _gateway("typo", "bookinfo", gateway_class="isito"))
    inv = _inv(*gws, gateway_classes=ISTIO_CLASSES)
    assert _codes(inv, "K8sGateway", "bookinfo", "ours") == _codes(inv, "K8sGateway", "bookinfo", "waypoint") == []
    assert _codes(inv, "K8sGateway", "bookinfo", "typo") == [("KIA1504", ERROR, "spec/gatewayClassName")]
    assert validate(inv)[("K8sGateway", "bookinfo", "typo")].checks[0].message == \
        "the cluster has no GatewayClass isito: no controller runs this Gateway"
    # the classes not known (not readable, or an older snapshot): not judged
    assert all(not v.checks for v in validate(_inv(*gws)).values())


OTHER_CLASSES = {"eg": "gateway.envoyproxy.io/gatewayclass-controller",
                 "gke-l7-global-external-managed": "networking.gke.io/gateway",
                 "nginx": "gateway.nginx.org/nginx-gateway-controller"}


def test_a_gateway_another_controller_runs_is_not_judged() -> None:
    """On a shared cluster Gateways of other implementations (Envoy Gateway, GKE, NGINX) are common
    and none of Istio's business: Kiali calls each an error (KIA1504), meshdesk says nothing of them,
    neither of their class nor of their listeners and addresses (the other controller reports those
    in the Gateway's status), and does not hold them against Istio's Gateways (other proxies, other
    addresses)."""
    shared = [_listener("web", "shop.example.com"), _listener("again", "shop.example.com")]
    address = [{"type": "IPAddress", "value": "10.0.0.9"}]
    others = [_gateway(f"by-{cls}", "bookinfo", shared, gateway_class=cls, addresses=address) for cls in OTHER_CLASSES]
    ours = _gateway("ours", "bookinfo", [_listener("web", "shop.example.com")], addresses=address)
    inv = _inv(ours, *others, gateway_classes={**ISTIO_CLASSES, **OTHER_CLASSES})
    found = validate(inv)
    for gw in others:
        assert found[("K8sGateway", "bookinfo", gw.name)].checks == [], gw.name
        assert found[("K8sGateway", "bookinfo", gw.name)].valid
    assert found[("K8sGateway", "bookinfo", "ours")].checks == []
    # a route on such a Gateway is still checked: a missing Service is missing for every implementation
    route = _route("r", "bookinfo", [{"name": "by-eg"}], [{"name": "nothere", "port": 80}])
    inv.istio.append(route)
    assert _codes(inv, "K8sHTTPRoute", "bookinfo", "r") == [("KIA1402", ERROR, "spec/rules[0]/backendRefs[0]/name")]
    # with the classes unknown, which Gateways are Istio's cannot be told: all are judged as before
    unknown = _inv(ours, *others)
    assert [c for c, _s, _p in _codes(unknown, "K8sGateway", "bookinfo", "by-eg")] == \
        ["KIA1503", "KIA1503", "KIA1501", "KIA1501", "KIA1502"]


# -- GWAPI: what the controller reports -------------------------------------------------------------

def _with_status(gw: IstioObject, status: Any) -> IstioObject:
    gw.status = status
    return gw


def _cond(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": "2026-11-27T10:00:00Z"}


def test_conditions_the_controller_reports_as_failing_are_warnings_quoting_it() -> None:
    broken = _with_status(_gateway("books", "bookinfo", [_listener("https", "books.example.com")]), {
        "conditions": [_cond("Accepted", "True", "Accepted"),
                       _cond("Programmed", "False", "Invalid", "Failed to assign to any requested addresses")],
        "listeners": [{"name": "https", "attachedRoutes": 0, "conditions": [
            _cond("Accepted", "True", "Accepted"),
            _cond("ResolvedRefs", "False", "InvalidCertificateRef", "secret bookinfo/books-cert  does not exist"),
            _cond("Conflicted", "True", "HostnameConflict")]}]})
    healthy = _with_status(_gateway("ok", "bookinfo", [_listener("web", "ok.example.com")]), {
        "conditions": [_cond("Accepted", "True", "Accepted"), _cond("Programmed", "True", "Programmed")],
        "listeners": [{"name": "web", "conditions": [_cond("Conflicted", "False", "NoConflicts"),
                                                     _cond("ResolvedRefs", "True", "ResolvedRefs")]}]})
    inv = _inv(broken, healthy, gateway_classes=ISTIO_CLASSES)
    assert _codes(inv, "K8sGateway", "bookinfo", "books") == [
        ("GWAPI", WARNING, "status/conditions[1]"),
        ("GWAPI", WARNING, "status/listeners[0]/conditions[1]"),
        ("GWAPI", WARNING, "status/listeners[0]/conditions[2]")]
    messages = [c.message for c in validate(inv)[("K8sGateway", "bookinfo", "books")].checks]
    assert messages[0] == "the controller reports Programmed=False (Invalid): Failed to assign to any requested addresses"
    assert messages[1] == ("listener https: the controller reports ResolvedRefs=False (InvalidCertificateRef): "
                           "secret bookinfo/books-cert does not exist")
    assert messages[2] == "listener https: the controller reports Conflicted=True (HostnameConflict)"
    assert _codes(inv, "K8sGateway", "bookinfo", "ok") == []


def test_states_a_controller_passes_through_are_not_reported() -> None:
    """As in Kiali: a Gateway waiting for its controller, one whose listeners carry the problem, or one
    whose address Istio has not assigned yet is not called broken."""
    waiting = _with_status(_gateway("waiting", "bookinfo"), {"conditions": [
        _cond("Accepted", "False", "Pending", "Waiting for controller"),
        _cond("Programmed", "False", "ListenersNotValid", "a listener is invalid"),
        _cond("Programmed", "False", "AddressNotAssigned", "Assigned to service(s) x, but failed to assign to "
                                                           "all requested addresses: address pending for hostname")]})
    assert _codes(_inv(waiting, gateway_classes=ISTIO_CLASSES), "K8sGateway", "bookinfo", "waiting") == []
    # an address that could not be assigned for another reason is reported
    stuck = _with_status(_gateway("stuck", "bookinfo"), {"conditions": [
        _cond("Programmed", "False", "AddressNotAssigned", "no address of type Hostname can be assigned")]})
    assert _codes(_inv(stuck, gateway_classes=ISTIO_CLASSES), "K8sGateway", "bookinfo", "stuck") == [
        ("GWAPI", WARNING, "status/conditions[0]")]
    # Istio's older spellings are read too (Ready, Scheduled; a Detached listener)
    old = _with_status(_gateway("old", "bookinfo"), {
        "conditions": [_cond("Scheduled", "False", "NotReconciled")],
        "listeners": [{"name": "http", "conditions": [_cond("Detached", "True", "UnsupportedProtocol")]}]})
    assert [p for _c, _s, p in _codes(_inv(old, gateway_classes=ISTIO_CLASSES), "K8sGateway", "bookinfo", "old")] == \
        ["status/conditions[0]", "status/listeners[0]/conditions[0]"]


def test_another_controllers_gateway_shows_what_its_controller_reports() -> None:
    """meshdesk does not judge another implementation's Gateway, but what that controller says of it
    in its status is the user's to see."""
    theirs = _with_status(_gateway("eg", "bookinfo", gateway_class="eg"), {"conditions": [
        _cond("Accepted", "False", "InvalidParameters", "parametersRef not found")]})
    inv = _inv(theirs, gateway_classes={**ISTIO_CLASSES, **OTHER_CLASSES})
    assert _codes(inv, "K8sGateway", "bookinfo", "eg") == [("GWAPI", WARNING, "status/conditions[0]")]


def test_odd_statuses_are_read_defensively() -> None:
    long_message = "x" * 2000
    odd = [_with_status(_gateway(f"g{i}", "bookinfo"), status) for i, status in enumerate([
        "Programmed", {"conditions": "x", "listeners": {"a": 1}}, {"conditions": [None, 3, {"type": 5}]},
        {"listeners": [None, "l", {"conditions": [None, {"type": "Accepted"}]}]},
        {"conditions": [{"type": "Programmed", "status": "False", "reason": 7, "message": long_message}]}])]
    found = validate(_inv(*odd, gateway_classes=ISTIO_CLASSES))
    assert all(found[("K8sGateway", "bookinfo", f"g{i}")].checks == [] for i in range(4))
    [check] = found[("K8sGateway", "bookinfo", "g4")].checks
    assert check.code == "GWAPI" and len(check.message) < 600 and check.message.endswith("\u2026")


# -- KIA1601 ----------------------------------------------------------------------------------------

def test_a_reference_grant_from_a_namespace_that_does_not_exist_is_an_error() -> None:
    grant = IstioObject("K8sReferenceGrant", "allow", "bookinfo", "gateway.networking.k8s.io/v1beta1", {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "default"},
                 {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "bookinfo"},
                 {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "gone"}],
        "to": [{"group": "", "kind": "Service"}]})
    inv = _inv(grant, cluster_namespaces=["bookinfo", "default", "istio-system"])
    assert _codes(inv, "K8sReferenceGrant", "bookinfo", "allow") == [("KIA1601", ERROR, "spec/from[2]/namespace")]
    # the cluster's namespaces not known: only those read are known to exist, none is judged missing
    assert _codes(_inv(grant), "K8sReferenceGrant", "bookinfo", "allow") == []


def test_odd_shapes_are_read_defensively() -> None:
    objs = [IstioObject("K8sHTTPRoute", "a", "bookinfo", GW_API, {"parentRefs": "x", "rules": [7, {"backendRefs": 3}]}),
            IstioObject("K8sGateway", "b", "bookinfo", GW_API, {"listeners": [None, {"port": "80"}], "addresses": 4}),
            IstioObject("K8sReferenceGrant", "c", "bookinfo", GW_API, {"from": [None, {"namespace": 5}]}),
            IstioObject("K8sTLSRoute", "d", "bookinfo", GW_API, {"parentRefs": [{"name": 3}, None]})]
    found = validate(_inv(*objs, gateway_classes={}, cluster_namespaces=["bookinfo"]))
    assert [c.code for c in found[("K8sGateway", "bookinfo", "b")].checks] == ["KIA1504"]
    assert all(not found[k].checks for k in found if k[2] != "b")


def test_label_selectors() -> None:
    labels = {"env": "prod", "team": "books"}
    assert selector_matches({"matchLabels": {"env": "prod"}}, labels)
    assert not selector_matches({"matchLabels": {"env": "dev"}}, labels)
    assert selector_matches({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]},
                                                  {"key": "tier", "operator": "DoesNotExist"},
                                                  {"key": "team", "operator": "Exists"},
                                                  {"key": "team", "operator": "NotIn", "values": ["ops"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "env", "operator": "Bogus"}]}, labels)
    assert selector_matches({}, labels)
