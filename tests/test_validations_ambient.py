"""Kiali's ambient-mode validations: L7 config that no waypoint would apply, and workloads whose
ambient and sidecar settings disagree. None where the config is right, and none where the inventory
cannot tell."""

from __future__ import annotations

import pytest

from meshdesk.mesh.inventory import (
    AMBIENT_ANNOTATION,
    Container,
    Inventory,
    IstioObject,
    Namespace,
    Pod,
    Service,
    Workload,
)
from meshdesk.mesh.validations import ERROR, WARNING, WORKLOAD, validate

AMBIENT = {"istio.io/dataplane-mode": "ambient"}
ENROLLED = {**AMBIENT, "istio.io/use-waypoint": "waypoint"}
WAYPOINT_LABELS = {"gateway.istio.io/managed": "istio.io-mesh-controller",
                   "gateway.networking.k8s.io/gateway-name": "waypoint", "istio.io/dataplane-mode": "none"}
SIDECAR_STATUS = '{"containers":["istio-proxy"]}'


def _wl(ns: str, name: str, labels: dict[str, str], *, ambient: bool = True, sidecar: bool = False,
        pods: int = 1) -> Workload:
    containers = [Container("app", "img:1", True)] + ([Container("istio-proxy", "proxyv2:1.26.0", True)] if sidecar else [])
    annotations = {"prometheus.io/scrape": "true"}
    if ambient:
        annotations[AMBIENT_ANNOTATION] = "enabled"
    if sidecar:
        annotations["sidecar.istio.io/status"] = SIDECAR_STATUS
    return Workload(name, ns, labels=labels, pods=[Pod(f"{name}-{i}", ns, labels=labels, annotations=dict(annotations),
                                                       containers=list(containers)) for i in range(pods)])


def _waypoint(ns: str = "travel", name: str = "waypoint", **extra: str) -> Workload:
    labels = {**WAYPOINT_LABELS, **extra}
    return Workload(name, ns, labels=labels, pods=[Pod(f"{name}-0", ns, labels=labels,
                                                       containers=[Container("istio-proxy", "proxyv2:1.26.0", True)])])


def _travel(ns_labels: dict[str, str] = AMBIENT, *, waypoint: bool = False, **svc_labels: str) -> Inventory:
    """An ambient namespace ``travel`` (search, flights) beside a sidecar namespace ``shop``."""
    return Inventory(
        namespaces=[Namespace("travel", dict(ns_labels)), Namespace("shop", {"istio-injection": "enabled"})],
        workloads=[_wl("travel", "search-v1", {"app": "search", "version": "v1"}),
                   _wl("travel", "flights-v1", {"app": "flights", "version": "v1"}),
                   _wl("shop", "reviews-v1", {"app": "reviews", "version": "v1"}, ambient=False, sidecar=True)]
        + ([_waypoint()] if waypoint else []),
        services=[Service("search", "travel", selector={"app": "search"}, labels=dict(svc_labels)),
                  Service("flights", "travel", selector={"app": "flights"}),
                  Service("reviews", "shop", selector={"app": "reviews"})],
    )


def _obj(kind: str, name: str, spec: dict, ns: str = "travel") -> IstioObject:
    return IstioObject(kind, name, ns, spec=spec)


# the ambient codes (the objects here may have other findings: a host ServiceEntry-less, a rule alone)
AMBIENT_CODES = {"KIA0109", "KIA0110", "KIA0210", "KIA0211", "KIA0212", "KIA1109", "KIA1113", "KIA1114", "KIA1110",
                 "KIA1115", "KIA1111", "KIA1116", "KIA1112", "KIA1117"}


def _found(inv: Inventory, kind: str, name: str, ns: str = "travel") -> list[tuple[str, str]]:
    return [(c.code, c.path) for c in validate(inv)[(kind, ns, name)].checks if c.code in AMBIENT_CODES]


def _codes(inv: Inventory, kind: str, name: str, ns: str = "travel") -> list[str]:
    return [code for code, _ in _found(inv, kind, name, ns)]


L7_RULES = [{"to": [{"operation": {"methods": ["GET"]}}]}]
L4_RULES = [{"from": [{"source": {"principals": ["cluster.local/ns/travel/sa/search"]}}],
             "to": [{"operation": {"ports": ["8080"]}}]}]
TO_SEARCH = {"targetRefs": [{"kind": "Service", "group": "", "name": "search"}]}


# -- AuthorizationPolicy, RequestAuthentication, WasmPlugin, Telemetry ------------------------------

def test_l7_authorization_policy_in_ambient_needs_target_refs_and_a_waypoint() -> None:
    inv = _travel()
    inv.istio = [_obj("AuthorizationPolicy", "by-selector", {"selector": {"matchLabels": {"app": "search"}},
                                                            "rules": L7_RULES})]
    result = validate(inv)[("AuthorizationPolicy", "travel", "by-selector")]
    assert [(c.code, c.severity) for c in result.checks] == [("KIA0110", WARNING), ("KIA0109", WARNING)]
    assert not result.valid  # as Kiali: warnings, but the policy does not do what it says
    assert "targetRefs" in result.checks[0].message and "istio.io/use-waypoint" in result.checks[1].message
    # enrolled and attached to the Service: what a waypoint applies
    inv = _travel(ENROLLED, waypoint=True)
    inv.istio = [_obj("AuthorizationPolicy", "by-ref", {**TO_SEARCH, "rules": L7_RULES})]
    assert _codes(inv, "AuthorizationPolicy", "by-ref") == []


@pytest.mark.parametrize("rules", [
    [{"to": [{"operation": {"paths": ["/api/*"]}}]}],
    [{"to": [{"operation": {"notHosts": ["admin.example.com"]}}]}],
    [{"from": [{"source": {"requestPrincipals": ["*"]}}]}],
    [{"when": [{"key": "request.headers[x-user]", "values": ["a"]}]}],
    [{"when": [{"key": "request.auth.claims[iss]", "values": ["a"]}]}],
])
def test_what_makes_an_authorization_policy_l7(rules: list) -> None:
    inv = _travel()
    inv.istio = [_obj("AuthorizationPolicy", "p", {"rules": rules})]
    assert _codes(inv, "AuthorizationPolicy", "p") == ["KIA0110", "KIA0109"]


def test_l4_policies_and_sidecar_namespaces_are_left_alone() -> None:
    inv = _travel()
    inv.istio = [_obj("AuthorizationPolicy", "l4", {"rules": L4_RULES}),
                 _obj("AuthorizationPolicy", "port-only", {"rules": [
                     {"when": [{"key": "destination.port", "values": ["8080"]}]}]}),
                 _obj("AuthorizationPolicy", "sidecars", {"rules": L7_RULES}, ns="shop"),
                 _obj("RequestAuthentication", "jwt", {"jwtRules": [{"issuer": "me"}]}, ns="shop"),
                 _obj("Telemetry", "traces", {"tracing": [{"randomSamplingPercentage": 10}]}, ns="shop")]
    result = validate(inv)
    assert [k for k, v in result.items() if any(c.code in AMBIENT_CODES for c in v.checks)] == []
    # the same L7 policy in the ambient namespace is another matter
    inv.istio.append(_obj("AuthorizationPolicy", "sidecars", {"rules": L7_RULES}))
    assert _codes(inv, "AuthorizationPolicy", "sidecars") == ["KIA0110", "KIA0109"]


def test_waypoint_enrollment_of_what_the_policy_attaches_to() -> None:
    # the Service's own label decides over the namespace's: here it opts out of the waypoint
    inv = _travel(ENROLLED, waypoint=True, **{"istio.io/use-waypoint": "none"})
    inv.istio = [_obj("AuthorizationPolicy", "p", {**TO_SEARCH, "rules": L7_RULES})]
    assert _codes(inv, "AuthorizationPolicy", "p") == ["KIA0109"]
    # a namespace not enrolled, a Service that is
    inv = _travel(waypoint=True, **{"istio.io/use-waypoint": "waypoint"})
    inv.istio = [_obj("AuthorizationPolicy", "p", {**TO_SEARCH, "rules": L7_RULES})]
    assert _codes(inv, "AuthorizationPolicy", "p") == []
    # by selector: the workloads it picks decide (their own label, else the namespace's)
    inv = _travel()
    inv.workloads[0].labels["istio.io/use-waypoint"] = "waypoint"
    inv.istio = [_obj("AuthorizationPolicy", "p", {"selector": {"matchLabels": {"app": "search"}}, "rules": L7_RULES})]
    assert _codes(inv, "AuthorizationPolicy", "p") == ["KIA0110"]
    # a workload opted out of ambient is not asked for a waypoint
    inv = _travel()
    inv.workloads[0].labels["istio.io/dataplane-mode"] = "none"
    inv.istio = [_obj("AuthorizationPolicy", "p", {"selector": {"matchLabels": {"app": "search"}}, "rules": L7_RULES})]
    assert _codes(inv, "AuthorizationPolicy", "p") == ["KIA0110"]


def test_policies_attached_to_a_gateway_need_no_waypoint_enrollment() -> None:
    """A policy attached by targetRefs to a Gateway runs in that Gateway's proxy: the waypoint itself
    (Services use it, not the namespace) or an ingress Gateway, an Envoy of its own. No KIA0109 (nor
    its RequestAuthentication, WasmPlugin and Telemetry counterparts) for it."""
    inv = _travel(waypoint=True, **{"istio.io/use-waypoint": "waypoint"})  # the Service, not the namespace
    to_gateway = {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "waypoint"}]}
    to_ingress = {"targetRef": {"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "ingress"}}
    inv.istio = [_obj("AuthorizationPolicy", "at-waypoint", {**to_gateway, "rules": L7_RULES}),
                 _obj("AuthorizationPolicy", "at-ingress", {**to_ingress, "rules": L7_RULES}),
                 _obj("RequestAuthentication", "jwt", {**to_gateway, "jwtRules": [{"issuer": "me"}]}),
                 _obj("WasmPlugin", "filter", {**to_ingress, "url": "oci://example/filter:1"}),
                 _obj("Telemetry", "traces", {**to_gateway, "tracing": [{"randomSamplingPercentage": 10}]})]
    result = validate(inv)
    for kind, name in (("AuthorizationPolicy", "at-waypoint"), ("AuthorizationPolicy", "at-ingress"),
                       ("RequestAuthentication", "jwt"), ("WasmPlugin", "filter"), ("Telemetry", "traces")):
        assert [c.message for c in result[(kind, "travel", name)].checks if c.code in AMBIENT_CODES] == [], name
    # a Service beside the Gateway among its targets is still judged
    inv.istio = [_obj("AuthorizationPolicy", "both", {"targetRefs": [
        *to_gateway["targetRefs"], {"kind": "Service", "group": "", "name": "flights"}], "rules": L7_RULES})]
    assert _codes(inv, "AuthorizationPolicy", "both") == ["KIA0109"]


def test_request_authentication_wasm_plugin_and_l7_telemetry_in_ambient() -> None:
    inv = _travel()
    inv.istio = [_obj("RequestAuthentication", "jwt", {"selector": {"matchLabels": {"app": "search"}},
                                                       "jwtRules": [{"issuer": "me"}]}),
                 _obj("WasmPlugin", "filter", {"url": "oci://example/filter:1"}),
                 _obj("Telemetry", "traces", {"tracing": [{"randomSamplingPercentage": 10}]}),
                 _obj("Telemetry", "logs", {"accessLogging": [{"providers": [{"name": "envoy"}]}]}),
                 _obj("Telemetry", "tags", {"metrics": [{"overrides": [{"tagOverrides": {"x": {"value": "y"}}}]}]}),
                 _obj("Telemetry", "l4-only", {"metrics": [{"providers": [{"name": "prometheus"}]}]})]
    assert _codes(inv, "RequestAuthentication", "jwt") == ["KIA1115", "KIA1110"]
    assert _codes(inv, "WasmPlugin", "filter") == ["KIA1116", "KIA1111"]
    for name in ("traces", "logs", "tags"):
        assert _codes(inv, "Telemetry", name) == ["KIA1117", "KIA1112"]
    assert _codes(inv, "Telemetry", "l4-only") == []
    # attached to an enrolled Service: fine
    inv = _travel(ENROLLED, waypoint=True)
    inv.istio = [_obj("RequestAuthentication", "jwt", {**TO_SEARCH, "jwtRules": [{"issuer": "me"}]}),
                 _obj("Telemetry", "traces", {"targetRef": {"kind": "Service", "name": "search"},
                                              "tracing": [{"randomSamplingPercentage": 10}]})]
    assert _codes(inv, "RequestAuthentication", "jwt") == []
    assert _codes(inv, "Telemetry", "traces") == []


# -- VirtualService, DestinationRule ---------------------------------------------------------------

HTTP_ROUTE = {"http": [{"route": [{"destination": {"host": "search"}}]}]}


def test_l7_virtual_service_for_an_ambient_service() -> None:
    inv = _travel()
    inv.istio = [_obj("VirtualService", "search", {"hosts": ["search"], **HTTP_ROUTE}),
                 _obj("VirtualService", "from-shop", {"hosts": ["search.travel.svc.cluster.local"], **HTTP_ROUTE},
                      ns="shop"),
                 _obj("VirtualService", "tcp", {"hosts": ["flights"], "tcp": [{"route": [
                     {"destination": {"host": "flights"}}]}]}),
                 _obj("VirtualService", "ingress", {"hosts": ["search"], "gateways": ["istio-system/gw"],
                                                    **HTTP_ROUTE})]
    assert _found(inv, "VirtualService", "search") == [("KIA1113", "spec/hosts[0]")]
    assert _found(inv, "VirtualService", "from-shop", "shop") == [("KIA1114", "spec/hosts[0]"),
                                                                  ("KIA1113", "spec/hosts[0]")]
    assert _codes(inv, "VirtualService", "tcp") == []  # ztunnel does TCP routing
    assert _codes(inv, "VirtualService", "ingress") == []  # the ingress gateway applies it
    # the Service enrolled: only the one in the wrong namespace remains
    inv.services[0].labels["istio.io/use-waypoint"] = "waypoint"
    assert _codes(inv, "VirtualService", "search") == []
    assert _codes(inv, "VirtualService", "from-shop", "shop") == ["KIA1114"]


def test_l7_virtual_service_in_an_ambient_namespace_with_no_ambient_host() -> None:
    inv = _travel()
    inv.istio = [_obj("VirtualService", "out", {"hosts": ["api.example.com"], "http": [
        {"route": [{"destination": {"host": "api.example.com"}}]}]})]
    assert _found(inv, "VirtualService", "out") == [("KIA1109", "spec/hosts[0]")]
    inv = _travel(ENROLLED, waypoint=True)
    inv.istio = [_obj("VirtualService", "out", {"hosts": ["api.example.com"], "http": [
        {"route": [{"destination": {"host": "api.example.com"}}]}]})]
    assert _codes(inv, "VirtualService", "out") == []


@pytest.mark.parametrize("policy", [
    {"outlierDetection": {"consecutive5xxErrors": 5}},
    {"connectionPool": {"http": {"http1MaxPendingRequests": 10}}},
    {"loadBalancer": {"consistentHash": {"httpHeaderName": "x-user"}}},
    {"loadBalancer": {"consistentHash": {"httpCookie": {"name": "u", "ttl": "0s"}}}},
])
def test_l7_destination_rule_for_an_ambient_service(policy: dict) -> None:
    inv = _travel()
    inv.istio = [_obj("DestinationRule", "search", {"host": "search", "trafficPolicy": policy}),
                 _obj("DestinationRule", "in-subset", {"host": "flights", "subsets": [
                     {"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": policy}]}),
                 _obj("DestinationRule", "from-shop", {"host": "search.travel", "trafficPolicy": policy}, ns="shop")]
    assert _found(inv, "DestinationRule", "search") == [("KIA0211", "spec/host")]
    assert _codes(inv, "DestinationRule", "in-subset") == ["KIA0211"]
    assert _codes(inv, "DestinationRule", "from-shop", "shop") == ["KIA0212", "KIA0211"]


def test_l4_destination_rules_and_the_namespace_fallback() -> None:
    inv = _travel()
    inv.istio = [_obj("DestinationRule", "l4", {"host": "search", "trafficPolicy": {
                     "loadBalancer": {"simple": "LEAST_REQUEST"}, "connectionPool": {"tcp": {"maxConnections": 5}},
                     "tls": {"mode": "ISTIO_MUTUAL"}}}),
                 _obj("DestinationRule", "external", {"host": "api.example.com",
                                                      "trafficPolicy": {"outlierDetection": {}}})]
    assert _codes(inv, "DestinationRule", "l4") == []
    assert _found(inv, "DestinationRule", "external") == [("KIA0210", "spec/host")]


def test_what_the_inventory_cannot_tell_is_not_judged() -> None:
    # the namespace's labels could not be read: whether it is ambient is unknown
    inv = _travel()
    inv.hidden["travel/namespace"] = "forbidden"
    inv.istio = [_obj("AuthorizationPolicy", "p", {"rules": L7_RULES}),
                 _obj("VirtualService", "search", {"hosts": ["search"], **HTTP_ROUTE})]
    assert [k for k, v in validate(inv).items() if any(c.code in AMBIENT_CODES for c in v.checks)] == []
    # a host in a namespace the inventory may not know of could be an ambient Service: no fallback
    inv = _travel()
    inv.istio = [_obj("VirtualService", "x", {"hosts": ["search.elsewhere"], "http": [
        {"route": [{"destination": {"host": "search.elsewhere"}}]}]})]
    assert _codes(inv, "VirtualService", "x") == []
    inv.cluster_namespaces = ["travel", "shop"]  # now known to be no namespace: an external name
    assert _codes(inv, "VirtualService", "x") == ["KIA1109"]
    # Services that could not be listed, workloads that could not be listed
    inv = _travel()
    inv.hidden["travel/services"] = "forbidden"
    inv.istio = [_obj("VirtualService", "search", {"hosts": ["search"], **HTTP_ROUTE}),
                 _obj("AuthorizationPolicy", "p", {**TO_SEARCH, "rules": L7_RULES})]
    assert _codes(inv, "VirtualService", "search") == []
    assert _codes(inv, "AuthorizationPolicy", "p") == []
    inv = _travel()
    inv.hidden["travel/deployments"] = "forbidden"
    inv.istio = [_obj("AuthorizationPolicy", "p", {"selector": {"matchLabels": {"app": "search"}}, "rules": L7_RULES})]
    assert _codes(inv, "AuthorizationPolicy", "p") == ["KIA0110"]  # what it attaches to is unknown


@pytest.mark.parametrize("spec", [
    {"http": "x", "tls": [None], "gateways": "mesh", "hosts": [1, None, "search"]},
    {"rules": [None, {"to": "x", "when": [None, {"key": 3}]}, {"from": [{"source": "x"}]}], "targetRefs": "x"},
    {"host": 5, "trafficPolicy": {"loadBalancer": "x", "connectionPool": [], "outlierDetection": None},
     "subsets": [None, {"trafficPolicy": "x"}]},
    {"selector": {"matchLabels": ["x"]}, "targetRef": "x", "tracing": {}, "metrics": [None, {"overrides": "x"}]},
])
def test_odd_fields_in_ambient_namespaces_never_crash(spec: dict) -> None:
    inv = _travel(ENROLLED)
    inv.istio = [_obj(kind, "odd", spec) for kind in ("VirtualService", "DestinationRule", "AuthorizationPolicy",
                                                      "RequestAuthentication", "WasmPlugin", "Telemetry")]
    result = validate(inv)
    for v in result.values():
        for c in v.checks:
            assert c.code.startswith("KIA") and c.severity in (ERROR, WARNING) and c.message
    # what can be read is still judged: no targetRefs there (a waypoint would ignore it)
    assert "KIA1115" in [c.code for c in result[("RequestAuthentication", "travel", "odd")].checks]


# -- workloads -------------------------------------------------------------------------------------

def _wcodes(inv: Inventory, name: str, ns: str = "travel") -> list[str]:
    return [c.code for c in validate(inv)[(WORKLOAD, ns, name)].checks]


def test_every_workload_has_a_validation_and_a_right_one_says_nothing() -> None:
    inv = _travel(ENROLLED, waypoint=True)
    result = validate(inv)
    assert {k for k in result if k[0] == WORKLOAD} == {(WORKLOAD, w.namespace, w.name) for w in inv.workloads}
    assert all(not v.checks for k, v in result.items() if k[0] == WORKLOAD)


def test_ambient_and_sidecar_asked_for_together() -> None:
    inv = _travel({**AMBIENT, "istio-injection": "enabled"})
    found = validate(inv)[(WORKLOAD, "travel", "search-v1")]
    # and its pod is captured by ztunnel while injection is asked for
    assert [(c.code, c.severity) for c in found.checks] == [("KIA1311", ERROR), ("KIA1314", ERROR)]
    # a workload opted out of ambient asks for its sidecar only
    inv.workloads[0].labels["istio.io/dataplane-mode"] = "none"
    inv.workloads[0].pods[0].annotations.pop(AMBIENT_ANNOTATION)
    assert _wcodes(inv, "search-v1") == []


def test_sidecar_injection_asked_for_while_ztunnel_captures_the_pod() -> None:
    inv = _travel()
    inv.namespaces.append(Namespace("legacy", {"istio-injection": "enabled"}))
    inv.workloads.append(_wl("legacy", "old", {"app": "old"}, ambient=True))
    assert _wcodes(inv, "old", "legacy") == ["KIA1314"]


def test_sidecar_injection_is_read_with_istios_values() -> None:
    """``sidecar.istio.io/inject`` takes Istio's "true"/"false" (Kiali reads "enabled"/"none"): a
    workload of an injected namespace that opts out with "false" and moved to ambient asks for one
    data plane only, and one asking for a sidecar with "true" in an ambient namespace asks for both."""
    inv = _travel()
    inv.namespaces.append(Namespace("legacy", {"istio-injection": "enabled"}))
    migrated = {"app": "migrated", "istio.io/dataplane-mode": "ambient", "sidecar.istio.io/inject": "false"}
    inv.workloads.append(_wl("legacy", "migrated", migrated, ambient=True))
    assert _wcodes(inv, "migrated", "legacy") == []
    # the opt-out written on the pods as an annotation, as Istio's injector also reads it
    del inv.workloads[-1].labels["sidecar.istio.io/inject"]
    inv.workloads[-1].pods[0].annotations["sidecar.istio.io/inject"] = "false"
    assert _wcodes(inv, "migrated", "legacy") == []
    # Kiali's "none" opts out too; "enabled" is not a value the injector takes as yes, so no conflict
    for value in ("none", "enabled"):
        inv.workloads[-1].labels["sidecar.istio.io/inject"] = value
        assert _wcodes(inv, "migrated", "legacy") == []
    # the mirror: "true" in an ambient namespace asks for a sidecar beside ambient
    inv.workloads.append(_wl("travel", "tagged", {"app": "tagged", "sidecar.istio.io/inject": "true"}))
    found = validate(inv)[(WORKLOAD, "travel", "tagged")].checks
    assert [(c.code, c.severity) for c in found] == [("KIA1311", ERROR), ("KIA1314", ERROR)]
    assert found[0].message.startswith("both ambient mode and sidecar injection are asked for")
    # a namespace that turns injection off wins over the workload's "true"
    inv.namespaces[0].labels["istio-injection"] = "disabled"
    assert _wcodes(inv, "tagged") == []


def test_only_a_label_sends_a_pod_of_an_unlabelled_namespace_to_the_injector() -> None:
    """In a namespace with neither ``istio-injection`` nor ``istio.io/rev`` only Istio's object
    webhooks can take a pod, and they select on labels: the annotation ``sidecar.istio.io/inject:
    "true"`` alone asks for nothing (no KIA1311/KIA1314), the label does, and so does the pod's own
    ``istio.io/rev`` label (the revision's object webhook)."""
    inv = _travel()
    annotated = _wl("travel", "annotated", {"app": "annotated"})
    annotated.pods[0].annotations["sidecar.istio.io/inject"] = "true"
    inv.workloads.append(annotated)
    assert _wcodes(inv, "annotated") == []
    annotated.annotations["sidecar.istio.io/inject"] = "true"  # on the workload itself: the same
    assert _wcodes(inv, "annotated") == []
    annotated.labels["sidecar.istio.io/inject"] = "true"
    assert _wcodes(inv, "annotated") == ["KIA1311", "KIA1314"]
    # the object selector reads "true" exactly: "True" is not sent to the injector
    annotated.labels["sidecar.istio.io/inject"] = "True"
    assert _wcodes(inv, "annotated") == []
    # the pod's istio.io/rev sends it to that revision's injector, which injects unless it opts out
    del annotated.labels["sidecar.istio.io/inject"]
    annotated.labels["istio.io/rev"] = "canary"
    assert _wcodes(inv, "annotated") == ["KIA1311", "KIA1314"]
    annotated.pods[0].annotations["sidecar.istio.io/inject"] = "false"
    annotated.annotations.pop("sidecar.istio.io/inject")
    assert _wcodes(inv, "annotated") == []


def test_injection_follows_istios_webhook_selectors() -> None:
    """The one rule the checks and the namespace summary share: the revision webhook needs
    ``istio-injection`` absent, and an ``istio-injection`` value other than ``enabled`` (``yes``,
    ``disabled``) turns every injector webhook off, the workload's own "true" label included."""
    from meshdesk.mesh.inventory import injects_sidecar, namespace_injects

    assert namespace_injects({"istio-injection": "enabled"})
    assert namespace_injects({"istio-injection": "enabled", "istio.io/rev": "canary"})
    assert namespace_injects({"istio.io/rev": "canary"})
    assert not namespace_injects({"istio-injection": "yes", "istio.io/rev": "canary"})
    assert not namespace_injects({"istio-injection": "disabled", "istio.io/rev": "canary"})
    assert not namespace_injects({})
    inv = _travel({**AMBIENT, "istio-injection": "yes", "istio.io/rev": "canary"})
    assert not inv.namespaces[0].injection_enabled
    assert _wcodes(inv, "search-v1") == []
    inv.workloads.append(_wl("travel", "tagged", {"app": "tagged", "sidecar.istio.io/inject": "true"}))
    assert _wcodes(inv, "tagged") == []
    assert not injects_sidecar({"istio-injection": "yes"}, {"sidecar.istio.io/inject": "true"}, {})
    assert injects_sidecar({}, {"sidecar.istio.io/inject": "true"}, {})
    assert not injects_sidecar({}, {}, {"sidecar.istio.io/inject": "true"})
    # in an injected namespace the label "false" is left out by the webhook, the annotation by the injector
    assert not injects_sidecar({"istio-injection": "enabled"}, {"sidecar.istio.io/inject": "false"}, {})
    assert not injects_sidecar({"istio.io/rev": "canary"}, {}, {"sidecar.istio.io/inject": "false"})
    assert injects_sidecar({"istio.io/rev": "canary"}, {}, {})


def test_a_sidecar_in_an_ambient_namespace() -> None:
    inv = _travel()
    inv.workloads.append(_wl("travel", "injected", {"app": "injected"}, ambient=False, sidecar=True))
    found = validate(inv)[(WORKLOAD, "travel", "injected")]
    assert [(c.code, c.severity) for c in found.checks] == [("KIA1315", ERROR), ("KIA1316", WARNING)]
    assert not found.valid


def test_a_waypoint_asked_for_that_does_not_exist() -> None:
    inv = _travel(ENROLLED)  # no waypoint deployed
    assert _wcodes(inv, "search-v1") == ["KIA1313"]
    inv.workloads.append(_waypoint())
    assert _wcodes(inv, "search-v1") == []
    assert _wcodes(inv, "waypoint") == []  # the waypoint itself is opted out of ambient
    # a waypoint that serves no workloads, or one of another name
    inv.workloads[-1] = _waypoint(**{"istio.io/waypoint-for": "none"})
    assert _wcodes(inv, "search-v1") == ["KIA1313"]
    inv.workloads[-1] = _waypoint(name="other")
    assert _wcodes(inv, "search-v1") == ["KIA1313"]
    # the workload's own label names one in another namespace
    inv.workloads[-1] = _waypoint()
    inv.workloads[0].labels.update({"istio.io/use-waypoint": "egress", "istio.io/use-waypoint-namespace": "gw"})
    assert _wcodes(inv, "search-v1") == []  # namespace gw not read, nor the gateways outside: not judged
    inv.gateway_api_kinds = ["K8sGateway"]  # a cluster read: its gateways outside the selection were listed
    assert _wcodes(inv, "search-v1") == ["KIA1313"]
    inv.outside_gateways.append(_waypoint("gw", "egress"))
    assert _wcodes(inv, "search-v1") == []
    inv.outside_gateways.clear()
    inv.hidden["*/Gateway API gateway pods"] = "forbidden cluster-wide"
    assert _wcodes(inv, "search-v1") == []
    inv.gateway_api_kinds, inv.hidden = None, {}
    inv.namespaces.append(Namespace("gw"))
    assert _wcodes(inv, "search-v1") == ["KIA1313"]
    inv.workloads.append(_waypoint("gw", "egress"))
    assert _wcodes(inv, "search-v1") == []


def test_a_waypoint_asked_for_by_a_workload_not_in_ambient() -> None:
    inv = _travel(waypoint=True)
    inv.workloads.append(_wl("shop", "tagged", {"app": "tagged", "istio.io/use-waypoint": "waypoint"},
                             ambient=False, sidecar=True))
    found = validate(inv)[(WORKLOAD, "shop", "tagged")]
    # as Kiali: not in ambient, so no waypoint resolved for it either
    assert [(c.code, c.severity) for c in found.checks] == [("KIA1312", WARNING), ("KIA1313", ERROR)]


def test_l7_authorization_policies_over_an_ambient_workload_without_a_waypoint() -> None:
    inv = _travel()
    inv.istio = [_obj("AuthorizationPolicy", "get-only", {"selector": {"matchLabels": {"app": "search"}},
                                                         "rules": L7_RULES})]
    assert _wcodes(inv, "search-v1") == ["KIA1317"]
    assert _wcodes(inv, "flights-v1") == []  # not selected
    # an L4 policy is ztunnel's to enforce
    inv.istio = [_obj("AuthorizationPolicy", "l4", {"rules": L4_RULES})]
    assert _wcodes(inv, "search-v1") == []
    # a namespace-wide L7 policy, a waypoint serving them: fine
    inv = _travel(ENROLLED, waypoint=True)
    inv.istio = [_obj("AuthorizationPolicy", "all", {"rules": L7_RULES})]
    assert _wcodes(inv, "search-v1") == _wcodes(inv, "flights-v1") == []
    # by targetRefs: the workloads behind the Service it names
    inv = _travel()
    inv.istio = [_obj("AuthorizationPolicy", "by-ref", {**TO_SEARCH, "rules": L7_RULES})]
    assert _wcodes(inv, "search-v1") == ["KIA1317"]
    assert _wcodes(inv, "flights-v1") == []


def test_workloads_are_not_judged_on_what_could_not_be_read() -> None:
    inv = _travel({**AMBIENT, "istio-injection": "enabled"})
    assert _wcodes(inv, "search-v1") == ["KIA1311", "KIA1314"]
    inv.hidden["travel/namespace"] = "forbidden"  # its labels unknown: nothing to go by
    assert _wcodes(inv, "search-v1") == []
    inv = _travel(ENROLLED)  # no waypoint, but its pods could not be read either
    inv.hidden["travel/pods"] = "forbidden"
    for w in inv.workloads:
        w.pods = []
    assert _wcodes(inv, "search-v1") == []
    inv = _travel()
    inv.istio = [_obj("AuthorizationPolicy", "all", {"rules": L7_RULES})]
    assert _wcodes(inv, "search-v1") == ["KIA1317"]
    # a policy that was read is enough, whatever else could not be listed
    inv.hidden["travel/authorizationpolicies"] = "forbidden"
    assert _wcodes(inv, "search-v1") == ["KIA1317"]
    # the waypoint's namespace could not be read: whether it exists is unknown
    inv = _travel({**AMBIENT, "istio.io/use-waypoint": "shared", "istio.io/use-waypoint-namespace": "mesh-gw"})
    assert _wcodes(inv, "search-v1") == []
    inv.namespaces.append(Namespace("mesh-gw"))
    assert _wcodes(inv, "search-v1") == ["KIA1313"]
    inv.hidden["mesh-gw/deployments"] = "forbidden"
    assert _wcodes(inv, "search-v1") == []


def test_the_demo_mesh_has_no_ambient_findings_until_its_waypoint_is_lost() -> None:
    """The demo's ambient namespace travel is enrolled to its waypoint, which exists: nothing to say.
    Sent to a waypoint that is not there, each of its ambient workloads says so (and only they)."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster

    demo = DemoCluster(traffic=False)
    inv = demo.snapshot(GraphRequest()).inventory
    assert inv is not None and {"travel", "shop", "hello"} <= {n.name for n in inv.namespaces}
    result = validate(inv)
    assert [k for k, v in result.items() if any(c.code in AMBIENT_CODES or c.code.startswith("KIA13")
                                                for c in v.checks)] == []
    assert {k for k in result if k[0] == WORKLOAD} == {(WORKLOAD, w.namespace, w.name) for w in inv.workloads}
    demo.label_namespace("travel", {"istio.io/use-waypoint": "waypoint-v2"})
    inv = demo.snapshot(GraphRequest()).inventory
    assert inv is not None
    assert sorted(k[2] for k, v in validate(inv).items() if v.checks and k[0] == WORKLOAD) == [
        "flights-v1", "search-v1", "traveller"]
