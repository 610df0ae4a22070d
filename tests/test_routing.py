"""Routing-rule builders: what each action writes, that Istio's CRD schemas accept it, that reopening
reads the same values back, and that bad input is refused with a reason."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from meshdesk.mesh.inventory import (
    Container,
    Inventory,
    IstioObject,
    Namespace,
    Pod,
    Service,
    ServicePort,
    Workload,
)
from meshdesk.mesh.routing import (
    MANAGED_LABEL,
    CircuitBreaker,
    Fault,
    RouteMatch,
    RoutingError,
    RuleOptions,
    ServiceRouting,
    build_peer_authentication,
    build_service_entry,
    build_service_routing,
    current_routing,
    injection_change,
    managed_objects,
    read_service_routing,
    unmodelled,
)
from meshdesk.mesh.schema import CRDSchemas
from meshdesk.mesh.validations import validate


def _wl(name: str, labels: dict[str, str], sidecar: bool = True, ns: str = "shop") -> Workload:
    cs = [Container("app", "img", True)] + ([Container("istio-proxy", "proxyv2:1.24.2", True)] if sidecar else [])
    return Workload(name, ns, labels=labels, pods=[Pod(name + "-x", ns, labels=labels, containers=cs)])


WORKLOADS = [_wl("reviews-v1", {"app": "reviews", "version": "v1"}),
             _wl("reviews-v2", {"app": "reviews", "version": "v2"}),
             _wl("reviews-v3", {"app": "reviews", "version": "v3"})]
REVIEWS = Service("reviews", "shop", selector={"app": "reviews"})


@pytest.fixture(scope="module")
def schemas() -> CRDSchemas:
    path = Path(__file__).resolve().parents[2] / "shared/fixtures/istio/crds/crd-all.gen.yaml"
    if not path.exists():
        pytest.skip(f"../shared is absent ({path}): Istio's CRD schemas live there")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return CRDSchemas.from_crds(yaml.load_all(path.read_text(), Loader=loader))


def _accepted(schemas: CRDSchemas, obj: IstioObject | None) -> None:
    assert obj is not None
    assert schemas.validate(obj.to_manifest()) == []


def test_traffic_shifting_builds_subsets_and_weighted_routes(schemas: CRDSchemas) -> None:
    vs, dr = build_service_routing(REVIEWS, ServiceRouting(weights={"v1": 80, "v2": 20, "v3": 0}), WORKLOADS)
    _accepted(schemas, vs)
    _accepted(schemas, dr)
    assert dr is not None and vs is not None
    assert [s["name"] for s in dr.spec["subsets"]] == ["v1", "v2", "v3"]
    route = vs.spec["http"][-1]["route"]
    assert [(r["destination"]["subset"], r["weight"]) for r in route] == [("v1", 80), ("v2", 20)]
    assert vs.labels[MANAGED_LABEL] == "meshdesk" and dr.labels[MANAGED_LABEL] == "meshdesk"
    # the generated config passes our own validations too
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[vs, dr])
    assert all(v.valid and not v.checks for v in validate(inv).values())


@pytest.mark.parametrize("weights, message", [
    ({"v1": 80, "v2": 30}, "add up to 100"),
    ({"v1": 100, "v9": 0}, "version v9"),
    ({"v1": -10, "v2": 110}, "0 to 100"),
])
def test_traffic_shifting_refuses_bad_weights(weights: dict[str, int], message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        build_service_routing(REVIEWS, ServiceRouting(weights=weights), WORKLOADS)


def test_every_action_round_trips_and_is_schema_valid(schemas: CRDSchemas) -> None:
    routing = ServiceRouting(
        weights={"v1": 50, "v3": 50},
        matches=[RouteMatch("v2", header="end-user", kind="exact", value="jason"),
                 RouteMatch("v3", uri=True, kind="prefix", value="/beta")],
        fault=Fault(delay_percent=10, delay_seconds=2.5, abort_percent=5, abort_status=503),
        timeout_seconds=3, retry_attempts=2, retry_per_try_timeout_seconds=1, retry_on="5xx,reset",
        circuit_breaker=CircuitBreaker(max_connections=100, http1_max_pending_requests=10, max_requests_per_connection=1,
                                       consecutive_5xx_errors=5, interval_seconds=10, base_ejection_seconds=30,
                                       max_ejection_percent=50),
    )
    vs, dr = build_service_routing(REVIEWS, routing, WORKLOADS)
    _accepted(schemas, vs)
    _accepted(schemas, dr)
    assert vs is not None and vs.spec["http"][0]["fault"]["delay"]["fixedDelay"] == "2.5s"
    assert read_service_routing(vs, dr) == routing
    # and meshdesk may rewrite what it wrote: nothing in it is beyond what it reads back
    assert unmodelled(vs, REVIEWS, dr) == []
    for partial in (ServiceRouting(weights={"v2": 100}), ServiceRouting(timeout_seconds=1),
                    ServiceRouting(matches=routing.matches), ServiceRouting(fault=routing.fault)):
        vs, dr = build_service_routing(REVIEWS, partial, WORKLOADS)
        assert vs is not None and unmodelled(vs, REVIEWS, dr) == []


def test_reopening_hand_written_config_with_odd_values() -> None:
    """Objects whose fields have odd shapes (a host that is an object, a weight "half", a fault
    percentage "lots", a DestinationRule host list) open with what can be read; nothing crashes."""
    vs = IstioObject("VirtualService", "reviews", "shop", spec={"hosts": [{"name": "x"}, "reviews"], "http": [
        {"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": "half"},
                   {"destination": {"host": "reviews", "subset": "v2"}, "weight": "50"}],
         "fault": {"abort": {"percentage": {"value": "lots"}, "httpStatus": "teapot"}}}]})
    dr = IstioObject("DestinationRule", "reviews", "shop", spec={"host": ["reviews"], "subsets": [{"name": "v1"}]})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[vs, dr])
    routing, found_vs, found_dr = current_routing(inv, REVIEWS)
    assert found_vs is vs and found_dr is None
    assert routing.weights == {"v1": 0, "v2": 50}
    assert routing.fault.abort_percent == 0.0 and routing.fault.abort_status == 503


def test_reopening_reads_istio_sample_config(shared_dir: Path) -> None:
    """Config someone else wrote (Istio's bookinfo samples) opens with its values."""
    net = shared_dir / "fixtures/istio/bookinfo/networking"
    dr_doc = next(d for d in yaml.safe_load_all((net / "destination-rule-all.yaml").read_text())
                  if d and d["metadata"]["name"] == "reviews")
    vs_doc = next(d for d in yaml.safe_load_all((net / "virtual-service-reviews-80-20.yaml").read_text()) if d)
    vs = IstioObject("VirtualService", "reviews", "shop", spec=vs_doc["spec"])
    dr = IstioObject("DestinationRule", "reviews", "shop", spec=dr_doc["spec"])
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[vs, dr])
    routing, found_vs, found_dr = current_routing(inv, REVIEWS)
    assert found_vs is vs and found_dr is dr
    assert routing.weights == {"v1": 80, "v2": 20}
    fault_doc = next(d for d in yaml.safe_load_all((net / "fault-injection-details-v1.yaml").read_text())
                     if d and d["kind"] == "VirtualService")
    faulty = read_service_routing(IstioObject("VirtualService", "details", "shop", spec=fault_doc["spec"]), None)
    assert faulty.fault.abort_percent == 100 and faulty.fault.abort_status == 555


@pytest.mark.parametrize("routing, message", [
    (ServiceRouting(fault=Fault(abort_percent=150)), "between 0 and 100"),
    (ServiceRouting(fault=Fault(delay_percent=10, delay_seconds=0)), "above 0 seconds"),
    (ServiceRouting(fault=Fault(abort_percent=10, abort_status=42)), "HTTP status"),
    (ServiceRouting(matches=[RouteMatch("v2", header="", value="x")]), "header name"),
    (ServiceRouting(matches=[RouteMatch("v2", uri=True, kind="regex", value="(")]), "invalid"),
    (ServiceRouting(timeout_seconds=-1), "above 0"),
])
def test_bad_input_is_refused_with_a_reason(routing: ServiceRouting, message: str) -> None:
    with pytest.raises(RoutingError, match=message):
        build_service_routing(REVIEWS, routing, WORKLOADS)


def test_service_entry_for_an_external_host(schemas: CRDSchemas) -> None:
    se = build_service_entry("payments", "shop", ["api.payments.example.com"], [(443, "TLS"), (80, "http")])
    _accepted(schemas, se)
    assert se.spec["ports"][1] == {"number": 80, "name": "http-80", "protocol": "HTTP"}
    with pytest.raises(RoutingError, match="valid host"):
        build_service_entry("x", "shop", ["not a host"], [(443, "TLS")])
    with pytest.raises(RoutingError, match="wildcard"):
        build_service_entry("x", "shop", ["*.example.com"], [(443, "TLS")])
    with pytest.raises(RoutingError, match="at least one port"):
        build_service_entry("x", "shop", ["a.example.com"], [])
    # Istio's CRD refuses a port twice (the server's dry run would): said before that
    with pytest.raises(RoutingError, match="port 443 is given twice"):
        build_service_entry("x", "shop", ["a.example.com"], [(443, "TLS"), (443, "HTTPS")])
    # a name with dots is one Kubernetes takes (a DNS subdomain); one with a capital or a space is not
    assert build_service_entry("pay.v1", "shop", ["a.example.com"], [(443, "TLS")]).name == "pay.v1"
    with pytest.raises(RoutingError, match="is not a valid name"):
        build_service_entry("Pay v1", "shop", ["a.example.com"], [(443, "TLS")])


def test_mtls_for_namespace_and_workload(schemas: CRDSchemas) -> None:
    ns_pa = build_peer_authentication("shop", "strict")
    wl_pa = build_peer_authentication("shop", "PERMISSIVE", workload=WORKLOADS[0])
    _accepted(schemas, ns_pa)
    _accepted(schemas, wl_pa)
    assert ns_pa.name == "default" and "selector" not in ns_pa.spec
    assert wl_pa.spec["selector"]["matchLabels"] == {"app": "reviews", "version": "v1"}
    with pytest.raises(RoutingError):
        build_peer_authentication("shop", "sometimes")


def test_sidecar_injection_says_which_pods_need_a_restart() -> None:
    legacy = _wl("legacy", {"app": "legacy"}, sidecar=False)
    opted_out = _wl("batch", {"app": "batch", "sidecar.istio.io/inject": "false"}, sidecar=False)
    inv = Inventory(namespaces=[Namespace("shop")], workloads=[*WORKLOADS, legacy, opted_out])
    on = injection_change(inv, "shop", True)
    assert on.labels == {"istio-injection": "enabled"}
    assert on.restart == ["legacy (Deployment)"]
    off = injection_change(inv, "shop", False)
    assert off.labels == {"istio-injection": "disabled"}
    assert off.restart == ["reviews-v1 (Deployment)", "reviews-v2 (Deployment)", "reviews-v3 (Deployment)"]
    assert "3 workloads must restart to lose" in off.describe()


def test_only_what_meshdesk_created_is_removable() -> None:
    vs, dr = build_service_routing(REVIEWS, ServiceRouting(weights={"v1": 100}), WORKLOADS)
    theirs = IstioObject("VirtualService", "theirs", "shop", spec={"hosts": ["x"]})
    inv = Inventory(istio=[o for o in (vs, dr, theirs) if o is not None])
    assert {o.name for o in managed_objects(inv)} == {"reviews"} and len(managed_objects(inv)) == 2


def test_schema_check_reports_what_the_server_would_refuse(schemas: CRDSchemas) -> None:
    bad = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "x"},
           "spec": {"hosts": "reviews", "http": [{"route": [{"destination": {"host": "r"}, "weight": "ten"}], "bogus": 1}]}}
    problems = schemas.validate(bad)
    assert "spec.hosts: must be array, not str" in problems
    assert any(p.startswith("spec.http[0].bogus: unknown field") for p in problems)
    assert any(p.startswith("spec.http[0].route[0].weight: must be integer") for p in problems)
    assert schemas.validate({"apiVersion": "networking.istio.io/v9", "kind": "VirtualService"}) == [
        "VirtualService networking.istio.io/v9 is not served by this cluster's CRDs"]


def test_retries_istio_would_refuse_are_refused_here() -> None:
    with pytest.raises(RoutingError, match="0 retry attempts"):
        build_service_routing(REVIEWS, ServiceRouting(retry_attempts=0, retry_on="5xx"), WORKLOADS)
    with pytest.raises(RoutingError, match="'connection-refused' is not one Envoy knows"):
        build_service_routing(REVIEWS, ServiceRouting(retry_attempts=2, retry_on="5xx,connection-refused"), WORKLOADS)
    vs, _ = build_service_routing(REVIEWS, ServiceRouting(retry_attempts=2, retry_on=" 5xx, connect-failure ,503"),
                                  WORKLOADS)
    assert vs is not None and vs.spec["http"][-1]["retries"]["retryOn"] == "5xx,connect-failure,503"  # trimmed


def test_limits_istio_keeps_as_32_bit_numbers_are_refused_above_them(schemas: CRDSchemas) -> None:
    """maxConnections: 4294967295 passed every check here and the API server's (its CRD says int32, which
    Kubernetes does not enforce), and made a DestinationRule istiod cannot read: Istio's API keeps the
    connection-pool limits as int32 (2^32-1 is Envoy's default for a limit left unset)."""
    for field in ("max_connections", "http1_max_pending_requests", "max_requests_per_connection"):
        with pytest.raises(RoutingError, match="can be at most 2147483647: Istio keeps it as a 32-bit number"):
            build_service_routing(REVIEWS, ServiceRouting(circuit_breaker=CircuitBreaker(**{field: 2**32 - 1})),
                                  WORKLOADS)
        _, dr = build_service_routing(REVIEWS, ServiceRouting(circuit_breaker=CircuitBreaker(**{field: 2**31 - 1})),
                                      WORKLOADS)
        assert dr is not None and not schemas.validate(dr.to_manifest())
    _, dr = build_service_routing(REVIEWS, ServiceRouting(circuit_breaker=CircuitBreaker(
        consecutive_5xx_errors=2**32 - 1)), WORKLOADS)  # an unsigned 32-bit number in Istio's API
    assert dr is not None and dr.spec["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 2**32 - 1
    with pytest.raises(RoutingError, match="consecutive 5xx errors can be at most 4294967295"):
        build_service_routing(REVIEWS, ServiceRouting(circuit_breaker=CircuitBreaker(consecutive_5xx_errors=2**32)),
                              WORKLOADS)
    with pytest.raises(RoutingError, match="retry attempts can be at most 2147483647"):
        build_service_routing(REVIEWS, ServiceRouting(retry_attempts=2**31), WORKLOADS)


def test_injection_in_an_ambient_namespace_says_what_a_sidecar_changes() -> None:
    from meshdesk.mesh.routing import injection_change

    inv = Inventory(namespaces=[Namespace("travel", {"istio.io/dataplane-mode": "ambient"})])
    assert "is in ambient mode" in injection_change(inv, "travel", True).describe()
    assert "ambient" not in injection_change(inv, "travel", False).describe()


def test_a_destination_rule_a_kept_virtual_service_routes_to_is_not_deleted() -> None:
    """A hand-written canary split (which meshdesk leaves alone) routes to meshdesk's subsets: turning
    the circuit breaker off trims the rule instead of deleting the subsets the split needs."""
    from meshdesk.mesh.changes import REPLACE, service_routing_plan
    from meshdesk.mesh.routing import current_routing

    host = "reviews.shop.svc.cluster.local"
    vs = IstioObject("VirtualService", "reviews", "shop", spec={"hosts": [host], "http": [
        {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
         "route": [{"destination": {"host": host, "subset": "v2"}, "weight": 50},
                   {"destination": {"host": host, "subset": "v3"}, "weight": 50}]},
        {"route": [{"destination": {"host": host}}]}]})
    dr = IstioObject("DestinationRule", "reviews", "shop", spec={
        "host": host, "subsets": [{"name": v, "labels": {"version": v}} for v in ("v1", "v2", "v3")],
        "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 10}}}}, labels={MANAGED_LABEL: "meshdesk"})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[vs, dr])
    routing, _, _ = current_routing(inv, REVIEWS)
    routing.circuit_breaker = CircuitBreaker()
    plan = service_routing_plan(inv, REVIEWS, routing)
    assert [(c.op, c.kind) for c in plan.changes] == [(REPLACE, "DestinationRule")]
    kept = plan.changes[0].obj
    assert kept is not None and "trafficPolicy" not in kept.spec and len(kept.spec["subsets"]) == 3


def test_a_name_meshdesk_would_create_that_another_host_holds_is_said() -> None:
    from meshdesk.mesh.changes import service_routing_plan

    other = IstioObject("VirtualService", "reviews", "shop", spec={"hosts": ["reviews.example.com"], "http": [
        {"route": [{"destination": {"host": "reviews.example.com"}}]}]})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[other])
    with pytest.raises(RoutingError, match="a VirtualService named reviews already exists in shop for other hosts"):
        service_routing_plan(inv, REVIEWS, ServiceRouting(timeout_seconds=2))
    # nothing to create of that kind: no objection (circuit breaking needs a DestinationRule only)
    assert service_routing_plan(inv, REVIEWS, ServiceRouting(circuit_breaker=CircuitBreaker(max_connections=3)))


def test_subsets_select_the_version_label_the_pods_carry(schemas: CRDSchemas) -> None:
    """Workloads versioned by app.kubernetes.io/version: subsets on ``version`` would select no pod and
    fail every request; they select what the pods carry, as Kiali's wizards do."""
    ws = [_wl("cart-1", {"app": "cart", "app.kubernetes.io/version": "1.0"}),
          _wl("cart-2", {"app": "cart", "app.kubernetes.io/version": "2.0"})]
    cart = Service("cart", "shop", selector={"app": "cart"})
    vs, dr = build_service_routing(cart, ServiceRouting(weights={"1.0": 50, "2.0": 50}), ws)
    _accepted(schemas, dr)
    assert dr is not None and [s["labels"] for s in dr.spec["subsets"]] == [
        {"app.kubernetes.io/version": "1.0"}, {"app.kubernetes.io/version": "2.0"}]
    inv = Inventory(namespaces=[Namespace("shop")], workloads=ws, services=[cart], istio=[o for o in (vs, dr) if o])
    assert all(v.valid and not v.checks for v in validate(inv).values())
    assert read_service_routing(vs, dr).weights == {"1.0": 50, "2.0": 50}  # read back as versions


def test_go_durations_are_read_and_kept() -> None:
    """Istio reads "1m30s": reading it as unset dropped it from a rewrite."""
    from meshdesk.mesh.changes import service_routing_plan

    host = "reviews.shop.svc.cluster.local"
    dr = IstioObject("DestinationRule", "reviews", "shop", spec={"host": host, "trafficPolicy": {"outlierDetection": {
        "consecutive5xxErrors": 7, "interval": "1m30s", "baseEjectionTime": "2m30s"}}})
    vs = IstioObject("VirtualService", "reviews", "shop", spec={"hosts": [host], "http": [
        {"route": [{"destination": {"host": host}}], "retries": {"attempts": 3, "perTryTimeout": "1m30s"},
         "timeout": "1h0m0.5s"}]})
    routing = read_service_routing(vs, dr)
    assert routing.circuit_breaker.interval_seconds == 90 and routing.circuit_breaker.base_ejection_seconds == 150
    assert routing.retry_per_try_timeout_seconds == 90 and routing.timeout_seconds == pytest.approx(3600.5)
    assert unmodelled(vs, REVIEWS, dr) == []
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[vs, dr])
    current, _, _ = current_routing(inv, REVIEWS)
    current.circuit_breaker.max_connections = 5
    plan = service_routing_plan(inv, REVIEWS, current)
    written = {c.kind: c.obj for c in plan.changes}
    outlier = written["DestinationRule"].spec["trafficPolicy"]["outlierDetection"]  # type: ignore[union-attr]
    # untouched, they are kept as written (a review's diff shows only the change)
    assert outlier["interval"] == "1m30s" and outlier["baseEjectionTime"] == "2m30s"
    assert outlier["consecutive5xxErrors"] == 7
    for bad in ("1x", "m", "1.2.3s", "-1s", "1s2"):
        assert routing_seconds(bad) is None, bad


def routing_seconds(text: str) -> float | None:
    from meshdesk.mesh.routing import _parse_seconds

    return _parse_seconds(text)


def test_a_host_written_name_ns_svc_is_the_services_own() -> None:
    from meshdesk.mesh.changes import service_routing_plan

    vs = IstioObject("VirtualService", "reviews", "shop", spec={"hosts": ["reviews.shop.svc"], "http": [
        {"route": [{"destination": {"host": "reviews.shop.svc"}}], "timeout": "3s"}]})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[vs])
    routing, found, _ = current_routing(inv, REVIEWS)
    assert found is vs and routing.timeout_seconds == 3
    routing.timeout_seconds = 5
    plan = service_routing_plan(inv, REVIEWS, routing)
    assert [(c.kind, c.obj.name) for c in plan.changes if c.obj is not None] == [("VirtualService", "reviews")]


def test_a_workloads_mtls_policy_selects_that_workload_alone() -> None:
    from meshdesk.mesh.changes import peer_authentication_plan

    tier_a = _wl("web-a", {"app": "web", "tier": "a"})
    tier_b = _wl("web-b", {"app": "web", "tier": "b"})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=[tier_a, tier_b])
    pa = peer_authentication_plan(inv, "shop", "DISABLE", workload=tier_a).changes[0].obj
    assert pa is not None and pa.spec["selector"]["matchLabels"] == {"app": "web", "tier": "a"}
    plain = _wl("details-v1", {"app": "details"})
    canary = _wl("details-canary", {"app": "details", "track": "canary"})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=[plain, canary])
    with pytest.raises(RoutingError, match="no label of details-v1 tells it from details-canary"):
        peer_authentication_plan(inv, "shop", "DISABLE", workload=plain)
    pa = peer_authentication_plan(inv, "shop", "DISABLE", workload=canary).changes[0].obj
    assert pa is not None and pa.spec["selector"]["matchLabels"] == {"app": "details", "track": "canary"}


def test_an_opt_out_on_the_pods_needs_no_restart() -> None:
    w = _wl("batch", {"app": "batch"}, sidecar=False)
    w.pods[0].annotations["sidecar.istio.io/inject"] = "false"
    inv = Inventory(namespaces=[Namespace("shop")], workloads=[w, _wl("legacy", {"app": "legacy"}, sidecar=False)])
    assert injection_change(inv, "shop", True).restart == ["legacy (Deployment)"]


def test_removal_keeps_a_destination_rule_someone_elses_routes_need() -> None:
    """meshdesk pointed their VirtualService at its subsets; removing its DestinationRule would leave
    those routes pointing at nothing (every request failing): it is kept, and the plan says why."""
    from meshdesk.mesh.changes import removal_plan

    host = "reviews.shop.svc.cluster.local"
    theirs = IstioObject("VirtualService", "reviews", "shop", spec={"hosts": ["reviews"], "http": [
        {"route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]})
    _vs, dr = build_service_routing(REVIEWS, ServiceRouting(weights={"v2": 100}), WORKLOADS)
    pa = build_peer_authentication("shop", "STRICT")
    assert dr is not None and dr.spec["host"] == host
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[theirs, dr, pa])
    plan = removal_plan(inv, "shop")
    assert [(c.kind, c.obj.name) for c in plan.changes if c.obj is not None] == [("PeerAuthentication", "default")]
    assert any("Kept DestinationRule shop/reviews: VirtualService shop/reviews routes to v2" in n for n in plan.notes)
    # without their routes, it goes
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[dr, pa])
    assert len(removal_plan(inv, "shop").changes) == 2


def test_removal_keeps_what_others_added_to_meshdesks_objects() -> None:
    """Remove deleted a PeerAuthentication and a ServiceEntry meshdesk created after someone had added a
    per-port mTLS mode and an exportTo to them: what meshdesk never writes is kept, with what it holds."""
    from meshdesk.mesh.changes import removal_plan

    pa = build_peer_authentication("shop", "STRICT")
    se = build_service_entry("payments", "shop", ["api.example.com"], [(443, "TLS")])
    vs, dr = build_service_routing(REVIEWS, ServiceRouting(weights={"v1": 50, "v2": 50}), WORKLOADS)
    assert vs is not None and dr is not None
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[pa, se, vs, dr])
    assert len(removal_plan(inv, "shop").changes) == 4 and not removal_plan(inv, "shop").notes  # none touched
    pa.spec["portLevelMtls"] = {"8080": {"mode": "DISABLE"}}
    se.spec["exportTo"] = ["."]
    vs.spec["http"][-1]["mirror"] = {"host": "reviews", "subset": "v1"}
    plan = removal_plan(inv, "shop")
    assert [(c.kind, c.name) for c in plan.changes] == []
    assert plan.notes == [
        "Kept VirtualService shop/reviews: it also holds a mirror, which meshdesk did not write: deleting it would "
        "lose that. Delete it by hand if you mean to.",
        "Kept DestinationRule shop/reviews: VirtualService shop/reviews routes to v1, v2, which it defines; "
        "deleting it would fail those requests. Route that VirtualService to the whole service first, then "
        "remove it.",
        "Kept PeerAuthentication shop/default: it also holds portLevelMtls, which meshdesk did not write: deleting "
        "it would lose that. Delete it by hand if you mean to.",
        "Kept ServiceEntry shop/payments: it also holds exportTo, which meshdesk did not write: deleting it would "
        "lose that. Delete it by hand if you mean to."]


def test_a_circuit_breaker_a_subset_overrides_is_said() -> None:
    """Subset v1 had a connection pool of its own: Istio applies it to v1's requests instead of the rule's,
    so the limits meshdesk set never reached v1, and the review said nothing of it."""
    from meshdesk.mesh.changes import service_routing_plan

    dr = IstioObject("DestinationRule", "reviews", "shop", spec={
        "host": "reviews", "trafficPolicy": {"portLevelSettings": [
            {"port": {"number": 9080}, "outlierDetection": {"consecutive5xxErrors": 2}}]},
        "subsets": [{"name": "v1", "labels": {"version": "v1"},
                     "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}}}},
                    {"name": "v2", "labels": {"version": "v2"}}]}, resource_version="3")
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[dr])
    plan = service_routing_plan(inv, REVIEWS, ServiceRouting(circuit_breaker=CircuitBreaker(max_connections=50)))
    assert [c.title() for c in plan.changes] == ["Replace DestinationRule shop/reviews"]
    assert plan.notes == [
        "Note: subset v1 has its own connection pool, which Istio applies to its requests instead of this "
        "circuit breaker's (edit the DestinationRule's YAML to change it).",
        "Note: port 9080 has its own outlier detection, which Istio applies to its requests instead of this "
        "circuit breaker's (edit the DestinationRule's YAML to change it)."]
    assert not service_routing_plan(inv, REVIEWS, ServiceRouting()).notes  # no circuit breaker: nothing to say
    # said where the circuit breaker is set, not on every form of a service that has one
    dr.spec["trafficPolicy"]["connectionPool"] = {"tcp": {"maxConnections": 50}}
    plan = service_routing_plan(inv, REVIEWS, ServiceRouting(weights={"v1": 100}, circuit_breaker=CircuitBreaker(
        max_connections=50)))
    assert plan.changes and not plan.notes


def test_names_hosts_and_patterns_istio_or_envoy_would_refuse() -> None:
    with pytest.raises(RoutingError, match="at most 253"):
        build_service_entry("x" * 254, "shop", ["a.example.com"], [(443, "TLS")])
    with pytest.raises(RoutingError, match="^a name is needed$"):  # it said "'' is not a valid name (...)"
        build_service_entry("", "shop", ["a.example.com"], [(443, "TLS")])
    with pytest.raises(RoutingError, match="not a valid host name"):
        build_service_entry("x", "shop", [("a" * 64) + ".example.com"], [(443, "TLS")])
    assert build_service_entry("x" * 63, "shop", [("a" * 63) + ".example.com"], [(443, "TLS")]).name == "x" * 63
    for pattern, what in (("(?<=/api)/v1", "a lookaround"), ("(a)\\1", "a backreference"), ("(?>a+)b", "an atomic group")):
        with pytest.raises(RoutingError, match=f"uses {what}, which Envoy's regular expressions"):
            build_service_routing(REVIEWS, ServiceRouting(matches=[RouteMatch("v2", uri=True, kind="regex",
                                                                               value=pattern)]), WORKLOADS)
    vs, _ = build_service_routing(REVIEWS, ServiceRouting(matches=[RouteMatch("v2", uri=True, kind="regex",
                                                                              value="^/api/v[0-9]+/(?:a|b)")]), WORKLOADS)
    assert vs is not None


def test_unset_where_no_policy_sets_a_mode_writes_nothing() -> None:
    from meshdesk.mesh.changes import peer_authentication_plan

    plan = peer_authentication_plan(Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS), "shop", "UNSET")
    assert plan.empty and "UNSET already" in plan.notes[0]
    # for a workload no label tells apart, too: nothing would be written, so nothing is refused
    a, b = _wl("a", {"app": "x"}), _wl("b", {"app": "x", "version": "v2"})
    plan = peer_authentication_plan(Inventory(namespaces=[Namespace("shop")], workloads=[a, b]), "shop", "UNSET",
                                    workload=a)
    assert plan.empty and "UNSET already" in plan.notes[0]


def test_the_policy_istio_applies_is_the_one_changed_the_oldest() -> None:
    """Two PeerAuthentications select details-v1: Istio applies the older, so that is the mode shown
    and the policy the action changes (it used to be the narrower one, whatever its age)."""
    from meshdesk.mesh.changes import current_mtls_mode, peer_authentication_plan

    wl = _wl("details-v1", {"app": "details", "version": "v1"})
    old = IstioObject("PeerAuthentication", "details-old", "shop", "security.istio.io/v1", spec={
        "selector": {"matchLabels": {"app": "details"}}, "mtls": {"mode": "PERMISSIVE"}},
        created="2026-01-02T10:00:00Z")
    new = IstioObject("PeerAuthentication", "details-v1", "shop", "security.istio.io/v1", spec={
        "selector": {"matchLabels": {"app": "details", "version": "v1"}}, "mtls": {"mode": "DISABLE"}},
        created="2026-11-02T10:00:00Z")
    inv = Inventory(namespaces=[Namespace("shop")], workloads=[wl], istio=[new, old])
    assert current_mtls_mode(inv, "shop", wl) == "PERMISSIVE"
    changed = peer_authentication_plan(inv, "shop", "STRICT", workload=wl).changes[0].obj
    assert changed is not None and changed.name == "details-old"
    # ages not known (an older snapshot): its own policy, as before
    for o in (old, new):
        o.created = ""
    assert current_mtls_mode(inv, "shop", wl) == "DISABLE"


def test_the_mesh_routing_is_not_a_gateway_only_virtual_service() -> None:
    """A VirtualService bound to gateways only routes what enters through them: it is not the routing
    a service's actions show and change (a "mesh" gateway among them makes it one)."""
    from meshdesk.mesh.changes import CREATE, service_routing_plan

    host = "reviews.shop.svc.cluster.local"
    edge = IstioObject("VirtualService", "edge", "shop", spec={"hosts": [host], "gateways": ["shop/gw"], "http": [
        {"route": [{"destination": {"host": host, "subset": "v3"}}]}]})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[edge])
    routing, vs, _ = current_routing(inv, REVIEWS)
    assert vs is None and routing.weights == {}
    plan = service_routing_plan(inv, REVIEWS, ServiceRouting(weights={"v1": 100}))
    assert [(c.op, c.kind, c.name) for c in plan.changes] == [(CREATE, "DestinationRule", "reviews"),
                                                              (CREATE, "VirtualService", "reviews")]
    edge.spec["gateways"] = ["shop/gw", "mesh"]
    assert current_routing(inv, REVIEWS)[1] is edge
    # one named as meshdesk would name the service's own, for the gateway only: said, not overwritten
    edge.name, edge.spec["gateways"] = "reviews", ["shop/gw"]
    with pytest.raises(RoutingError, match="routes only what enters through gateways \\(shop/gw\\)"):
        service_routing_plan(inv, REVIEWS, ServiceRouting(weights={"v1": 100}))


def test_a_timeout_of_0s_is_read_and_written_as_it_is() -> None:
    """Istio reads timeout: 0s as no timeout; rewriting the route for another reason kept nothing of
    it (0 is falsy) or refused it ("must be above 0 seconds")."""
    host = "reviews.shop.svc.cluster.local"
    vs = IstioObject("VirtualService", "reviews", "shop", spec={"hosts": [host], "http": [
        {"route": [{"destination": {"host": host}}], "timeout": "0s",
         "retries": {"attempts": 2, "perTryTimeout": "0s"}}]})
    routing = read_service_routing(vs, None)
    assert routing.timeout_seconds == 0 and routing.retry_per_try_timeout_seconds == 0
    routing.fault = Fault(abort_percent=10)
    written, _ = build_service_routing(REVIEWS, routing, WORKLOADS)
    assert written is not None
    rule = written.spec["http"][-1]
    assert rule["timeout"] == "0s" and rule["retries"] == {"attempts": 2, "perTryTimeout": "0s"}


def test_regexes_are_judged_in_envoys_dialect_re2() -> None:
    """Envoy matches with RE2. Python's re refused \\p{Lu}, \\z, \\Q..\\E and \\x{..} (bad escape), which
    RE2 takes, and took \\Z, a*+ and a{1001}, which it refuses (the route then rejected by the proxies)."""
    def regex(pattern: str) -> ServiceRouting:
        return ServiceRouting(matches=[RouteMatch("v2", uri=True, kind="regex", value=pattern)])

    for pattern in (r"^/api/\p{Lu}+$", r"^jason\z", r"\Q1.0\E", r"^\x{263a}$", r"[[:alpha:]]+", r"(?P<v>v[0-9]+)"):
        vs, _ = build_service_routing(REVIEWS, regex(pattern), WORKLOADS)
        assert vs is not None and vs.spec["http"][0]["match"] == [{"uri": {"regex": pattern}}]
    for pattern, reason in ((r"^jason\Z", r"invalid escape sequence: \\Z"), (r"^a*+$", r"bad repetition operator: \*\+"),
                            (r"a{1001}", "invalid repetition size"), (r"(?<=/api)/v1", "uses a lookaround")):
        with pytest.raises(RoutingError, match=reason):
            build_service_routing(REVIEWS, regex(pattern), WORKLOADS)


def test_subset_names_are_ones_istio_takes_whatever_the_version(schemas: CRDSchemas) -> None:
    """Versions 1.0.0 and 1.1.0 became subsets named so, which Istio refuses (a subset name is a
    DNS-1123 label). They are named 1-0-0 and 1-1-0, and select the pods by their real version."""
    from meshdesk.mesh.routing import _dns_label

    ws = [_wl("api-1", {"app": "api", "version": "1.0.0"}), _wl("api-2", {"app": "api", "version": "1.1.0"}),
          _wl("api-3", {"app": "api", "version": "V2_Beta"})]
    api = Service("api", "shop", selector={"app": "api"})
    routing = ServiceRouting(weights={"1.0.0": 50, "1.1.0": 30, "V2_Beta": 20},
                             matches=[RouteMatch("1.1.0", header="end-user", value="jason")])
    vs, dr = build_service_routing(api, routing, ws)
    _accepted(schemas, dr)
    assert dr is not None and vs is not None
    assert dr.spec["subsets"] == [{"name": "1-0-0", "labels": {"version": "1.0.0"}},
                                  {"name": "1-1-0", "labels": {"version": "1.1.0"}},
                                  {"name": "v2-beta", "labels": {"version": "V2_Beta"}}]
    assert all(_dns_label(s["name"]) for s in dr.spec["subsets"])
    assert vs.spec["http"][0]["route"][0]["destination"]["subset"] == "1-1-0"
    assert [r["destination"]["subset"] for r in vs.spec["http"][-1]["route"]] == ["1-0-0", "1-1-0", "v2-beta"]
    # read back as versions, and meshdesk can rewrite what it wrote
    assert read_service_routing(vs, dr) == routing
    assert unmodelled(vs, api, dr) == []
    inv = Inventory(namespaces=[Namespace("shop")], workloads=ws, services=[api], istio=[vs, dr])
    assert all(v.valid and not v.checks for v in validate(inv).values())


def test_existing_subsets_keep_their_names() -> None:
    """A subset a DestinationRule has for a version under the version's own name (written before
    names were made valid) is routed to as it is, not doubled; two versions that would share a
    name get one each."""
    from meshdesk.mesh.changes import service_routing_plan

    ws = [_wl("api-1", {"app": "api", "version": "1.0"}), _wl("api-2", {"app": "api", "version": "1-0"})]
    api = Service("api", "shop", selector={"app": "api"})
    vs, dr = build_service_routing(api, ServiceRouting(weights={"1.0": 50, "1-0": 50}), ws)
    assert dr is not None and [s["name"] for s in dr.spec["subsets"]] == ["1-0", "1-0-2"]
    assert read_service_routing(vs, dr).weights == {"1.0": 50, "1-0": 50}
    host = "api.shop.svc.cluster.local"
    old = IstioObject("DestinationRule", "api", "shop", spec={"host": host, "subsets": [
        {"name": "1.0", "labels": {"version": "1.0"}}]})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=ws, services=[api], istio=[old])
    plan = service_routing_plan(inv, api, ServiceRouting(weights={"1.0": 100}))
    written = {c.kind: c.obj for c in plan.changes if c.obj is not None}
    assert list(written) == ["VirtualService"]  # the DestinationRule has the subset already
    assert written["VirtualService"].spec["http"][-1]["route"][0]["destination"]["subset"] == "1.0"


def test_a_service_is_tcp_only_by_its_ports_protocols_as_istio_reads_them() -> None:
    from meshdesk.mesh.inventory import ServicePort
    from meshdesk.mesh.routing import tcp_only

    def svc(*ports: ServicePort) -> Service:
        return Service("db", "shop", selector={"app": "db"}, ports=list(ports))

    assert tcp_only(svc(ServicePort("tcp", 9000), ServicePort("tcp-other", 9001)))
    assert tcp_only(svc(ServicePort("mongo", 27017), ServicePort("Redis-cache", 6379), ServicePort("tls-x", 443)))
    assert tcp_only(svc(ServicePort("db", 5432, app_protocol="tcp"), ServicePort("dns", 53, protocol="UDP")))
    assert tcp_only(svc(ServicePort("web", 443, app_protocol="kubernetes.io/wss")))
    # one HTTP port, a sniffed one (no known protocol), an appProtocol naming HTTP: HTTP routing stays
    assert not tcp_only(svc(ServicePort("tcp", 9000), ServicePort("http-web", 8080)))
    assert not tcp_only(svc(ServicePort("tcp", 9000), ServicePort("", 8080)))
    assert not tcp_only(svc(ServicePort("tcp", 9000, app_protocol="http")))
    assert not tcp_only(svc(ServicePort("grpc-web-api", 9000)))
    assert not tcp_only(svc())  # no port: nothing says TCP


def test_tcp_routing_is_built_read_and_kept_beside_http_routes(schemas: CRDSchemas) -> None:
    """A TCP-only service is routed by tcp routes; an http section someone wrote (which none of its
    traffic meets) is kept as it is; HTTP features are refused with the reason."""
    from meshdesk.mesh.changes import service_routing_plan
    from meshdesk.mesh.inventory import ServicePort

    ws = [_wl("echo-v1", {"app": "echo", "version": "v1"}), _wl("echo-v2", {"app": "echo", "version": "v2"})]
    echo = Service("echo", "shop", selector={"app": "echo"}, ports=[ServicePort("tcp", 9000)])
    vs, dr = build_service_routing(echo, ServiceRouting(weights={"v1": 70, "v2": 30}), ws)
    _accepted(schemas, vs)
    assert vs is not None and set(vs.spec) == {"hosts", "tcp"}
    assert [(r["destination"]["subset"], r["weight"]) for r in vs.spec["tcp"][0]["route"]] == [("v1", 70), ("v2", 30)]
    assert read_service_routing(vs, dr, tcp=True).weights == {"v1": 70, "v2": 30}
    assert unmodelled(vs, echo, dr) == []
    with pytest.raises(RoutingError, match="Fault injection acts on HTTP requests; service shop/echo carries TCP "
                                           "only \\(ports tcp\\)"):
        build_service_routing(echo, ServiceRouting(fault=Fault(abort_percent=5)), ws)
    host = "echo.shop.svc.cluster.local"
    http = [{"route": [{"destination": {"host": host}}], "timeout": "3s"}]
    theirs = IstioObject("VirtualService", "echo", "shop", spec={"hosts": [host], "http": http})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=ws, services=[echo], istio=[theirs])
    routing, found, _ = current_routing(inv, echo)
    assert found is theirs and routing == ServiceRouting()  # its http routes are not the service's routing
    routing.weights = {"v2": 100}
    written = {c.kind: c.obj for c in service_routing_plan(inv, echo, routing).changes if c.obj is not None}
    assert written["VirtualService"].spec == {"hosts": [host], "http": http, "tcp": [{"route": [
        {"destination": {"host": host, "subset": "v2"}, "weight": 100}]}]}
    # a TCP match is more than meshdesk writes: said, not lost
    matched = IstioObject("VirtualService", "echo", "shop", spec={"hosts": [host], "tcp": [
        {"match": [{"port": 9000}], "route": [{"destination": {"host": host, "subset": "v1"}}]},
        {"route": [{"destination": {"host": host, "subset": "v2"}}]}]})
    assert unmodelled(matched, echo, dr) == ["a TCP match (on a port, addresses or the source)"]


def test_why_a_workload_runs_no_sidecar_is_one_rule() -> None:
    """The lists and the panels ask ``sidecar_gap``: a workload that opts out (a label or an annotation
    on its pods) is "opted out" even where injection is on; one started before injection was enabled
    needs a restart; any other is missing. An app with both kinds says what needs doing first."""
    from meshdesk.mesh.routing import MISSING, OPTED_OUT, RESTART, opt_out_mark, sidecar_gap
    from tests.ui_helpers import workload

    late = workload("orders-v1", "late", "orders", sidecar=False)
    legacy = workload("legacy-v1", "late", "legacy", sidecar=False)
    legacy.pods[0].annotations["sidecar.istio.io/inject"] = "false"
    tagged = workload("batch-v1", "plain", "batch", sidecar=False)
    tagged.labels["sidecar.istio.io/inject"] = "False"
    plain = workload("web-v1", "plain", "web", sidecar=False)
    meshed = workload("cart-v1", "late", "cart")
    inv = Inventory(namespaces=[Namespace("late", {"istio-injection": "enabled"}), Namespace("plain")],
                    workloads=[late, legacy, tagged, plain, meshed])
    assert [sidecar_gap(inv, w) for w in (late, legacy, tagged, plain, meshed)] == \
        [RESTART, OPTED_OUT, OPTED_OUT, MISSING, ""]
    assert opt_out_mark(legacy) == 'annotation sidecar.istio.io/inject: "false"'
    assert opt_out_mark(tagged) == 'label sidecar.istio.io/inject: "false"' and opt_out_mark(plain) == ""
    assert sidecar_gap(inv, [legacy, late]) == RESTART and sidecar_gap(inv, [tagged, plain]) == MISSING
    assert sidecar_gap(inv, [legacy, meshed]) == OPTED_OUT


def test_tls_settings_are_checked_and_built_as_istio_takes_them() -> None:
    """MUTUAL needs its client certificate and key; files go with SIMPLE or MUTUAL only; SIMPLE sends no
    client certificate. The tls block holds only what is set, and reads back as it was."""
    from meshdesk.mesh.routing import ClientTls, _read_tls, tls_problem, tls_spec

    assert "needs the client certificate" in tls_problem(ClientTls("MUTUAL", private_key="/k.pem"))
    assert "SIMPLE or MUTUAL only" in tls_problem(ClientTls("ISTIO_MUTUAL", ca_certificates="/ca.pem"))
    assert "sends no client certificate" in tls_problem(ClientTls("SIMPLE", client_certificate="/c.pem"))
    assert tls_problem(ClientTls("SIMPLE", ca_certificates="/ca.pem")) == ""
    assert tls_spec(ClientTls()) == {}
    mutual = ClientTls("MUTUAL", "/c.pem", "/k.pem")
    assert tls_spec(mutual) == {"mode": "MUTUAL", "clientCertificate": "/c.pem", "privateKey": "/k.pem"}
    assert _read_tls({"tls": tls_spec(mutual)}) == mutual


def test_load_balancing_is_checked_built_and_told_as_istio_takes_it() -> None:
    """A hash needs its key's name (a header one a request can carry); the block holds one algorithm;
    it reads back as it was, and the details say what the hash is on."""
    from meshdesk.mesh.routing import (
        LoadBalancer,
        _read_load_balancer,
        load_balancer_problem,
        load_balancer_spec,
        traffic_policy_texts,
    )

    assert "needs the cookie's name" in load_balancer_problem(LoadBalancer(hash_by="cookie"))
    assert "no request can carry" in load_balancer_problem(LoadBalancer(hash_by="header", hash_key="a b"))
    assert load_balancer_problem(LoadBalancer(hash_by="source_ip")) == ""
    assert load_balancer_spec(LoadBalancer()) == {}
    assert load_balancer_spec(LoadBalancer(simple="RANDOM")) == {"simple": "RANDOM"}
    cookie = LoadBalancer(hash_by="cookie", hash_key="s", cookie_ttl_seconds=1.5)
    assert load_balancer_spec(cookie) == {"consistentHash": {"httpCookie": {"name": "s", "ttl": "1.5s"}}}
    assert _read_load_balancer({"loadBalancer": load_balancer_spec(cookie)}) == cookie
    assert traffic_policy_texts({"loadBalancer": load_balancer_spec(cookie)}) == [
        ("load balancing", "consistent hash on cookie s, lasting 1.5s")]
    assert traffic_policy_texts({"loadBalancer": {"consistentHash": {"httpQueryParameterName": "u"}}}) == [
        ("load balancing", "consistent hash on query parameter u")]


def test_the_plain_text_warning_weighs_the_mtls_mode_of_each_port() -> None:
    """A workload's PeerAuthentication may set a port apart (``portLevelMtls``, keyed by the workload's
    port): a PERMISSIVE port under a STRICT policy takes plain text, a STRICT port under a PERMISSIVE one
    refuses it. The warning about TLS mode DISABLE weighs the ports the service reaches and names them."""
    from meshdesk.mesh.changes import refused_plain_text
    from meshdesk.mesh.inventory import ServicePort

    sec = "security.istio.io/v1"

    def pa(name: str, labels: dict[str, str] | None, mode: str, ports: dict[str, str] | None = None) -> IstioObject:
        spec: dict[str, object] = {"mtls": {"mode": mode}}
        if labels:
            spec["selector"] = {"matchLabels": labels}
        if ports:
            spec["portLevelMtls"] = {p: {"mode": m} for p, m in ports.items()}
        return IstioObject("PeerAuthentication", name, "shop", sec, spec)

    svc = Service("reviews", "shop", selector={"app": "reviews"},
                  ports=[ServicePort("http", 9080, "TCP", "8080"), ServicePort("admin", 9443, "TCP")])
    strict_ns = pa("default", None, "STRICT")

    def warned(*policies: IstioObject) -> str:
        inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[svc], istio=list(policies))
        return "\n".join(refused_plain_text(inv, svc))

    assert "STRICT for workloads reviews-v1, reviews-v2 and reviews-v3, which will refuse every request" in \
        warned(strict_ns)
    # reviews-v1's policy lets plain text through on both of the service's workload ports: only v2 and v3 refuse
    open_v1 = pa("reviews-v1", {"app": "reviews", "version": "v1"}, "STRICT", {"8080": "PERMISSIVE", "9443": "DISABLE"})
    assert "STRICT for workloads reviews-v2 and reviews-v3, which" in warned(strict_ns, open_v1)
    # one port set apart: the warning says which port refuses (the service's, with the workload's behind it)
    half = pa("reviews-v1", {"app": "reviews", "version": "v1"}, "STRICT", {"8080": "PERMISSIVE"})
    text = warned(strict_ns, half)
    assert ("STRICT for workloads reviews-v2 and reviews-v3; workload reviews-v1 on port 9443 but not on port 9080, "
            "which will refuse the requests on those ports to service reviews") in text
    # a STRICT port under a PERMISSIVE policy: the workload port 8080 behind the service's 9080
    strict_port = pa("reviews-v2", {"app": "reviews", "version": "v2"}, "PERMISSIVE", {"8080": "STRICT"})
    assert "STRICT for workload reviews-v2 on port 9080 (its port 8080) but not on port 9443, which" in \
        warned(strict_port)
    # a port number the service does not reach, or a port-level mode on a policy without a selector (Istio
    # ignores it there), changes nothing
    assert warned(pa("reviews-v2", {"app": "reviews", "version": "v2"}, "PERMISSIVE", {"9080": "STRICT"})) == ""
    assert warned(pa("default", None, "PERMISSIVE", {"8080": "STRICT"})) == ""


def test_the_plain_text_warning_leaves_out_workloads_without_a_proxy() -> None:
    """STRICT is enforced by the workload's proxy (its sidecar, or ztunnel in ambient mode): a workload
    without either takes the plain text, so it is not named; an ambient one is."""
    from meshdesk.mesh.changes import refused_plain_text

    legacy = _wl("reviews-legacy", {"app": "reviews", "version": "legacy"}, sidecar=False)
    ambient = _wl("reviews-ambient", {"app": "reviews", "version": "ambient"}, sidecar=False)
    ambient.pods[0].annotations["ambient.istio.io/redirection"] = "enabled"
    strict = IstioObject("PeerAuthentication", "default", "shop", "security.istio.io/v1", {"mtls": {"mode": "STRICT"}})
    inv = Inventory(namespaces=[Namespace("shop")], workloads=[WORKLOADS[0], legacy, ambient], services=[REVIEWS],
                    istio=[strict])
    assert "STRICT for workloads reviews-ambient and reviews-v1, which" in "".join(refused_plain_text(inv, REVIEWS))


def test_the_hash_algorithm_and_cookie_read_back_and_are_checked() -> None:
    """Ring hash (also the deprecated top-level minimumRingSize, kept where it was written) and Maglev
    read back and write as they were; sizes outside Envoy's range, a table size that is not prime and a
    cookie without a time to live (Istio's webhook refuses one) are refused with the reason."""
    from meshdesk.mesh.routing import (
        LoadBalancer,
        _read_load_balancer,
        load_balancer_problem,
        load_balancer_spec,
    )

    for block in ({"consistentHash": {"httpHeaderName": "x", "minimumRingSize": 2048}},
                  {"consistentHash": {"httpHeaderName": "x", "ringHash": {"minimumRingSize": 2048}}},
                  {"consistentHash": {"useSourceIp": True, "maglev": {"tableSize": 131}}},
                  {"consistentHash": {"httpCookie": {"name": "s", "path": "/a", "ttl": "0s"}, "maglev": {}}}):
        lb = _read_load_balancer({"loadBalancer": block})
        assert load_balancer_spec(lb) == block and load_balancer_problem(lb) == ""
    assert _read_load_balancer({"loadBalancer": {"consistentHash": {"httpHeaderName": "x", "ringHash": {}}}}) \
        .hash_algorithm == "ring_hash"
    header = LoadBalancer(hash_by="header", hash_key="x")
    assert "between 1 and 8388608" in load_balancer_problem(
        LoadBalancer(**{**vars(header), "hash_algorithm": "ring_hash", "ring_size": 0}))
    assert "e.g. 101" in load_balancer_problem(LoadBalancer(**{**vars(header), "hash_algorithm": "maglev",
                                                                "table_size": 100}))
    assert "between 2 and 5000011" in load_balancer_problem(
        LoadBalancer(**{**vars(header), "hash_algorithm": "maglev", "table_size": 5000012}))
    assert "needs the cookie's time to live" in load_balancer_problem(LoadBalancer(hash_by="cookie", hash_key="s"))


def test_a_mirror_meshdesk_wrote_is_its_own_and_one_added_by_hand_is_kept(schemas: CRDSchemas) -> None:
    """Traffic shifting's mirror is on the default route, to a version with no weight, recorded in the
    VirtualService's annotation: Istio's schema takes it, it reads back, and Remove deletes the
    VirtualService. The same mirror added by hand to one meshdesk made is someone else's: kept."""
    from meshdesk.mesh.changes import removal_plan
    from meshdesk.mesh.routing import MIRROR_WRITTEN

    routing = ServiceRouting(weights={"v1": 100, "v2": 0}, mirror_version="v3", mirror_percent=12.5)
    vs, dr = build_service_routing(REVIEWS, routing, WORKLOADS)
    _accepted(schemas, vs)
    assert vs is not None and dr is not None
    assert vs.spec["http"] == [{"route": [{"destination": {"host": "reviews.shop.svc.cluster.local", "subset": "v1"},
                                           "weight": 100}],
                                "mirror": {"host": "reviews.shop.svc.cluster.local", "subset": "v3"},
                                "mirrorPercentage": {"value": 12.5}}]
    assert [s["name"] for s in dr.spec["subsets"]] == ["v1", "v2", "v3"]
    back = read_service_routing(vs, dr)
    assert (back.mirror_version, back.mirror_percent) == ("v3", 12.5) and unmodelled(vs, REVIEWS, dr) == []
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[vs, dr])
    assert [c.kind for c in removal_plan(inv, "shop").changes] == ["VirtualService", "DestinationRule"]
    del vs.annotations[MIRROR_WRITTEN]
    assert "a mirror" in removal_plan(inv, "shop").notes[0]
    with pytest.raises(RoutingError, match="version v1 is the mirror"):
        build_service_routing(REVIEWS, ServiceRouting(weights={"v1": 100}, mirror_version="v1"), WORKLOADS)
    with pytest.raises(RoutingError, match="above 0 and at most 100%, not 0"):
        build_service_routing(REVIEWS, ServiceRouting(weights={"v1": 100}, mirror_version="v2", mirror_percent=0),
                              WORKLOADS)


def test_locality_load_balancing_meshdesk_wrote_is_its_own(schemas: CRDSchemas) -> None:
    """A DestinationRule meshdesk made with locality failover: Istio's schema takes it, it reads back, and
    Remove deletes it; the same settings added by hand to one meshdesk made are someone else's: kept."""
    from meshdesk.mesh.changes import removal_plan
    from meshdesk.mesh.routing import LoadBalancer, LocalityLb

    lb = LoadBalancer(simple="ROUND_ROBIN", locality=LocalityLb(True, failover=[("us-east1", "us-west1")]))
    vs, dr = build_service_routing(REVIEWS, ServiceRouting(load_balancer=lb), WORKLOADS)
    assert vs is None and dr is not None
    _accepted(schemas, dr)
    assert dr.spec["trafficPolicy"] == {"loadBalancer": {"simple": "ROUND_ROBIN", "localityLbSetting": {
        "enabled": True, "failover": [{"from": "us-east1", "to": "us-west1"}]}}}
    assert read_service_routing(None, dr).load_balancer == lb
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[dr])
    assert [c.kind for c in removal_plan(inv, "shop").changes] == ["DestinationRule"]
    plain, = build_service_routing(REVIEWS, ServiceRouting(load_balancer=LoadBalancer(simple="ROUND_ROBIN")),
                                   WORKLOADS)[1:]
    assert plain is not None
    plain.spec["trafficPolicy"]["loadBalancer"]["localityLbSetting"] = {"enabled": False}
    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS], istio=[plain])
    assert removal_plan(inv, "shop").changes == [] and "loadBalancer" in removal_plan(inv, "shop").notes[0]


def test_which_gateway_hosts_take_a_virtual_service_host() -> None:
    """As Istio matches them: "*" any, "*.example.com" its subdomains, a "namespace/" part the
    VirtualService's namespace ("." the Gateway's own, "*" any); a short host is a service's full name."""
    from meshdesk.mesh.routing import GatewayBinding, NewGateway, gateway_accepts, gateway_binding_problem

    assert gateway_accepts(["*"], "istio-system", "reviews", "shop")
    assert gateway_accepts(["*.shop.svc.cluster.local"], "shop", "reviews", "shop")
    assert not gateway_accepts(["*.example.com"], "shop", "reviews", "shop")
    assert gateway_accepts(["shop/*.example.com"], "istio-system", "a.example.com", "shop")
    assert not gateway_accepts(["other/*"], "istio-system", "a.example.com", "shop")
    assert gateway_accepts(["./*"], "shop", "a.example.com", "shop")
    assert not gateway_accepts(["./*"], "istio-system", "a.example.com", "shop")
    assert gateway_accepts(["a.example.com"], "shop", "*.example.com", "shop")
    tcp = Service("db", "shop", selector={"app": "db"}, ports=[ServicePort(port=5432, name="tcp-pg")])
    assert "carries TCP only" in gateway_binding_problem(
        GatewayBinding(["db-gateway"], new_gateway=NewGateway("db-gateway")), tcp, [])
    assert "port must be a number from 1 to 65535, not 0" in gateway_binding_problem(
        GatewayBinding(["r-gateway"], new_gateway=NewGateway("r-gateway", 0)), REVIEWS, [])


def test_a_per_try_timeout_as_long_as_the_request_s_is_said_to_leave_no_room_for_retries() -> None:
    """Envoy stops at the route's timeout whatever the tries have left: tries of 5 s in a request of 3 s
    are never tried again; the review says so (the change is still the user's to make)."""
    from meshdesk.mesh.changes import service_routing_plan

    inv = Inventory(namespaces=[Namespace("shop")], workloads=WORKLOADS, services=[REVIEWS])
    plan = service_routing_plan(inv, REVIEWS, ServiceRouting(timeout_seconds=3, retry_attempts=2,
                                                             retry_per_try_timeout_seconds=5))
    assert any("each try may take 5 s, as long as the whole request may (3 s)" in n for n in plan.notes)
    fine = service_routing_plan(inv, REVIEWS, ServiceRouting(timeout_seconds=3, retry_attempts=2,
                                                             retry_per_try_timeout_seconds=1))
    assert not any("each try may take" in n for n in fine.notes)


def test_a_rules_own_fault_timeout_retries_and_mirror_are_built_read_and_checked(schemas: CRDSchemas) -> None:
    """A request routing rule's own fault, timeout, retries and mirror go in its route only (as Kiali's
    wizard writes them), the other rules keeping the service's; read back, each rule has them again, and a
    VirtualService holding them is one meshdesk can rewrite. Values Istio would refuse are refused."""
    own = RuleOptions(Fault(delay_percent=100, delay_seconds=5, abort_percent=10, abort_status=500), 2.0, 3, 2.0,
                      "gateway-error,connect-failure,refused-stream")
    jason = RouteMatch("v2", header="end-user", value="jason", own=own, mirror_version="v3", mirror_percent=50)
    api = RouteMatch("v1", uri=True, kind="prefix", value="/api")
    routing = ServiceRouting(matches=[jason, api], timeout_seconds=10.0)
    vs, dr = build_service_routing(REVIEWS, routing, WORKLOADS)
    assert vs is not None and dr is not None
    http = vs.spec["http"]
    host = "reviews.shop.svc.cluster.local"
    assert {k: v for k, v in http[0].items() if k not in ("match", "route")} == {
        "mirror": {"host": host, "subset": "v3"}, "mirrorPercentage": {"value": 50.0},
        "fault": {"delay": {"percentage": {"value": 100.0}, "fixedDelay": "5s"},
                  "abort": {"percentage": {"value": 10.0}, "httpStatus": 500}},
        "timeout": "2s", "retries": {"attempts": 3, "perTryTimeout": "2s",
                                     "retryOn": "gateway-error,connect-failure,refused-stream"}}
    assert http[1]["timeout"] == http[2]["timeout"] == "10s" and "fault" not in http[1]  # the service's
    assert [s["name"] for s in dr.spec["subsets"]] == ["v1", "v2", "v3"]
    assert schemas.validate(vs.to_manifest()) == [] and unmodelled(vs, REVIEWS, dr) == []
    back = read_service_routing(vs, dr)
    assert back.matches == [jason, api] and back.timeout_seconds == 10.0
    for bad, message in ((RuleOptions(Fault(abort_percent=150)), "the rule's own settings: abort percentage must "
                                                                  "be between 0 and 100, not 150"),
                         (RuleOptions(retry_attempts=-1), "the rule's own settings: retry attempts cannot be negative")):
        with pytest.raises(RoutingError, match=message):
            build_service_routing(REVIEWS, ServiceRouting(matches=[replace(api, own=bad)]), WORKLOADS)
    with pytest.raises(RoutingError, match="version v1 is the rule's mirror"):
        build_service_routing(REVIEWS, ServiceRouting(matches=[replace(api, mirror_version="v1")]), WORKLOADS)
