"""Kiali's own health unit tests, case by case, as meshdesk graphs.

Each case takes the inputs and the expected verdict of one of Kiali's tests of its server-side health
(``business/health_calculator_test.go``, ``models/health_status_test.go`` and the edge cases of
``graph/telemetry/istio/appender/health_test.go``) and builds the traffic a meshdesk graph would see
for it: the requests a node's edges carry are its inbound and outbound requests, as Kiali's health
appender tallies them. The test code is ours; only the numbers and verdicts come from Kiali.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshdesk.mesh.graph import build, health, model
from meshdesk.mesh.graph.health_data import health_data
from meshdesk.mesh.health_rates import read_health_config
from meshdesk.mesh.inventory import Inventory, Namespace, Pod, Service, Workload
from tests.graph_samples import grpc, http, snapshot, tcp
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_graph_traffic import edge, node


def _tolerance(code: str, degraded: float, failure: float, protocol: str = "http", direction: str = ".*") -> dict[str, Any]:
    return {"code": code, "degraded": degraded, "failure": failure, "protocol": protocol, "direction": direction}


# Kiali's test configuration: critical workloads in "production" are judged strictly (1% 5xx degrades,
# 5% fails); everything else by a catch-all rule lenient on 5xx (10% / 20%), 4xx and gRPC errors
KIALI_TEST_RATES: tuple[dict[str, Any], ...] = (
    {"namespace": "production", "kind": "workload", "name": "critical-.*",
     "tolerance": [_tolerance("5XX", 1, 5, direction="inbound")]},
    {"tolerance": [_tolerance("5XX", 10, 20), _tolerance("4XX", 10, 20),
                   _tolerance("^[1-9]$|^1[0-6]$", 10, 20, "grpc")]},
)


def _http_codes(src: str, dst: str, codes: dict[str, float], **kw: Any) -> list:
    return [http(src, dst, v, code, **kw) for code, v in codes.items()]


def _service_health(codes: dict[str, float], rates: tuple[dict[str, Any], ...] = KIALI_TEST_RATES,
                    inventory: Inventory | None = None, protocol: str = "http") -> model.Health | None:
    """The verdict on service ``my-service`` in namespace ``test`` whose requests answered with ``codes``."""
    if protocol == "grpc":
        samples = [grpc("web-v1", "my-service-v1", v, status=c, ns="test") for c, v in codes.items()]
    else:
        samples = _http_codes("web-v1", "my-service-v1", codes, ns="test")
    g = build(snapshot(samples, inventory, namespaces=("test",), injectServiceNodes=True, healthRates=rates))
    svc = g.find_node(node_type=model.NODE_SERVICE, service="my-service")
    assert svc is not None
    return svc.health


def _status(h: model.Health | None) -> str:
    return model.NO_HEALTH if h is None else h.status


# --- business/health_calculator_test.go: a service's requests ---------------------------------------


@pytest.mark.parametrize(("codes", "status"), [
    ({"200": 100, "500": 2}, model.HEALTHY),  # 2% 5xx: under the 10% of the catch-all rule
    ({"200": 100, "500": 15}, model.DEGRADED),  # ~13%
    ({"200": 100, "500": 30}, model.FAILURE),  # ~23%
    ({"200": 100, "404": 25}, model.FAILURE),  # 4xx at 20%: the failure threshold
    ({"200": 85, "500": 15}, model.DEGRADED),
])
def test_a_services_requests_against_the_configured_catch_all_rule(codes: dict[str, float], status: str) -> None:
    assert _status(_service_health(codes)) == status


def test_the_error_ratio_is_the_share_of_matching_codes() -> None:
    h = _service_health({"200": 85, "500": 15})
    assert h is not None and h.error_ratio * 100 == pytest.approx(15.0, abs=0.1)


def test_grpc_errors_against_the_configured_rule() -> None:
    """gRPC status 14 (UNAVAILABLE) in 15 of 115 requests: ~13%, Degraded under the 10%/20% rule."""
    assert _status(_service_health({"0": 100, "14": 15}, protocol="grpc")) == model.DEGRADED


def test_a_service_without_requests_has_no_health() -> None:
    """Kiali: no traffic is NA. The idle service shows no health colour."""
    inv = Inventory(cluster="east", namespaces=[Namespace("test")], services=[Service("quiet", "test")])
    g = build(snapshot([http("web-v1", "my-service-v1", 10, ns="test")], inv, namespaces=("test",),
                       injectServiceNodes=True, includeIdleNodes=True, healthRates=KIALI_TEST_RATES))
    quiet = g.find_node(node_type=model.NODE_SERVICE, service="quiet")
    assert quiet is not None and _status(quiet.health) == model.NO_HEALTH


def test_an_annotation_overrides_the_configured_rule() -> None:
    """3% 5xx: Healthy by the catch-all rule, Degraded by the service's stricter ``5xx,2,5,http,inbound``."""
    codes = {"200": 100, "500": 3}
    assert _status(_service_health(codes)) == model.HEALTHY
    inv = Inventory(cluster="east", namespaces=[Namespace("test")], services=[
        Service("my-service", "test", annotations={health.ANNOTATION: "5xx,2,5,http,inbound"})])
    assert _status(_service_health(codes, inventory=inv)) == model.DEGRADED


def test_a_critical_workload_in_production_is_judged_by_the_stricter_rule() -> None:
    """2% 5xx into a workload: Healthy anywhere else, Degraded for production's critical-* workloads."""
    def workload_health(ns: str, name: str) -> model.Health | None:
        w = Workload(name=name, namespace=ns, labels={"app": name}, replicas=2, available=2, current=2,
                     pods=[Pod(name=f"{name}-{i}", namespace=ns, phase="Running") for i in range(2)])
        inv = Inventory(cluster="east", namespaces=[Namespace(ns)], workloads=[w])
        g = build(snapshot(_http_codes("web-v1", name, {"200": 100, "500": 2}, ns=ns), inv, namespaces=(ns,),
                           healthRates=KIALI_TEST_RATES))
        return node(g, name).health

    assert _status(workload_health("test", "regular-workload")) == model.HEALTHY
    assert _status(workload_health("production", "critical-api")) == model.DEGRADED


def test_outbound_errors_count_even_when_inbound_is_healthy() -> None:
    """A workload answering all its requests but failing ~20% of its own calls is a Failure; with no
    inbound traffic at all, too; one only calling, successfully, is Healthy."""
    def caller(samples: list) -> str:
        g = build(snapshot(samples, namespaces=("test",), healthRates=KIALI_TEST_RATES))
        return _status(node(g, "mid-v1").health)

    assert caller([http("web-v1", "mid-v1", 100, ns="test"),
                   *_http_codes("mid-v1", "db-v1", {"200": 100, "500": 25}, ns="test")]) == model.FAILURE
    assert caller(_http_codes("mid-v1", "db-v1", {"200": 80, "500": 20}, ns="test")) == model.FAILURE
    assert caller([http("mid-v1", "db-v1", 100, ns="test")]) == model.HEALTHY


def test_mixed_protocols_take_the_worst() -> None:
    """5% HTTP 5xx (Healthy) and 15% gRPC errors (Degraded) into one workload: Degraded."""
    samples = [*_http_codes("web-v1", "cart-v1", {"200": 100, "500": 5}, ns="test"),
               grpc("web-v1", "cart-v1", 100, ns="test"), grpc("web-v1", "cart-v1", 15, status="14", ns="test")]
    g = build(snapshot(samples, namespaces=("test",), healthRates=KIALI_TEST_RATES))
    assert _status(node(g, "cart-v1").health) == model.DEGRADED


@pytest.mark.parametrize(("degraded", "failure", "codes", "status"), [
    (0, 10, {"200": 999, "500": 1}, model.DEGRADED),  # degraded 0: any error degrades
    (5, 0, {"200": 50, "500": 50}, model.FAILURE),  # failure 0: any error fails
    (0, 0, {"200": 99, "500": 1}, model.FAILURE),  # both 0: Failure first
    (0, 10, {"200": 100}, model.HEALTHY),  # no error is healthy whatever the thresholds
])
def test_zero_thresholds(degraded: float, failure: float, codes: dict[str, float], status: str) -> None:
    rates = ({"tolerance": [_tolerance("5XX", degraded, failure)]},)
    assert _status(_service_health(codes, rates)) == status


def test_a_tolerance_for_another_protocol_leaves_the_traffic_unjudged() -> None:
    """Only a gRPC tolerance configured, 50% HTTP 5xx: Kiali's node verdict is NA (nothing judged it), and
    the edge, carrying traffic no tolerance covers, is Healthy."""
    rates = ({"tolerance": [_tolerance("5XX", 1, 5, "grpc")]},)
    g = build(snapshot(_http_codes("web-v1", "cart-v1", {"200": 50, "500": 50}, ns="test"), namespaces=("test",),
                       healthRates=rates))
    assert _status(node(g, "cart-v1").health) == model.NO_HEALTH
    assert _status(edge(g, "web-v1", "cart-v1").health) == model.HEALTHY
    assert health_data(g)[node(g, "cart-v1").id]["status"]["errorRatio"] == -1  # type: ignore[index]


def test_an_inbound_tolerance_does_not_judge_outbound_traffic() -> None:
    """Inbound answered, 50% of its own calls failing, only an inbound 5xx tolerance: Healthy."""
    rates = ({"tolerance": [_tolerance("5XX", 1, 5, direction="inbound")]},)
    g = build(snapshot([http("web-v1", "mid-v1", 100, ns="test"),
                        *_http_codes("mid-v1", "db-v1", {"200": 50, "500": 50}, ns="test")],
                       namespaces=("test",), healthRates=rates))
    assert _status(node(g, "mid-v1").health) == model.HEALTHY


# --- pods merged with requests (health_calculator_test.go, models/health_status_test.go) ----------------


def _inventory(*workloads: Workload, ns: str = "test") -> Inventory:
    return Inventory(cluster="east", namespaces=[Namespace(ns)], workloads=list(workloads))


def _workload(name: str, desired: int, current: int, available: int, ns: str = "test") -> Workload:
    app, _, version = name.rpartition("-")
    return Workload(name=name, namespace=ns, labels={"app": app, "version": version}, replicas=desired,
                    current=current, available=available,
                    pods=[Pod(name=f"{name}-{i}", namespace=ns, phase="Running") for i in range(max(current, 0))])


@pytest.mark.parametrize(("desired", "current", "available", "status"), [
    (0, 0, 0, model.NOT_READY),  # scaled down
    (3, 3, 3, model.HEALTHY),
    (3, 3, 0, model.FAILURE),  # none available
    (3, 3, 2, model.DEGRADED),  # fewer available than wanted
    (3, 2, 2, model.DEGRADED),  # fewer running than wanted
    (3, 4, 3, model.FAILURE),  # as many available as wanted, one more pending
    (1, 1, 1, model.HEALTHY),
    (1, 1, 0, model.FAILURE),
])
def test_a_workloads_pods_as_kiali_rates_them(desired: int, current: int, available: int, status: str) -> None:
    """Kiali's WorkloadStatusHealth cases, on an idle workload (its pods alone judge it)."""
    inv = _inventory(_workload("cart-v1", desired, current, available))
    g = build(snapshot([http("web-v1", "pay-v1", 10, ns="test")], inv, namespaces=("test",), includeIdleNodes=True))
    assert _status(node(g, "cart-v1").health) == status


@pytest.mark.parametrize(("available", "codes", "status"), [
    (1, {"200": 100}, model.DEGRADED),  # healthy requests, one of three pods available
    (0, {}, model.FAILURE),  # no pod available, no request
    (0, {"200": 90, "500": 10}, model.FAILURE),  # pods fail, requests only degrade: the pods win
    (2, {"200": 70, "500": 30}, model.FAILURE),  # pods degrade, requests fail: the requests win
])
def test_the_worse_of_requests_and_pods(available: int, codes: dict[str, float], status: str) -> None:
    inv = _inventory(_workload("cart-v1", 3, 3, available))
    samples = _http_codes("web-v1", "cart-v1", codes, ns="test") or [http("web-v1", "pay-v1", 10, ns="test")]
    g = build(snapshot(samples, inv, namespaces=("test",), includeIdleNodes=True, healthRates=KIALI_TEST_RATES))
    assert _status(node(g, "cart-v1").health) == status


def test_an_app_is_as_healthy_as_its_worst_workload() -> None:
    """Healthy requests; of the app's two workloads one has a pod missing: the app is Degraded."""
    inv = _inventory(_workload("cart-v1", 2, 2, 2), _workload("cart-v2", 2, 2, 1))
    g = build(snapshot([http("web-v1", "cart-v1", 100, ns="test")], inv, namespaces=("test",), graphType="app",
                       healthRates=KIALI_TEST_RATES))
    cart = g.find_node(node_type=model.NODE_APP, app="cart")
    assert cart is not None and _status(cart.health) == model.DEGRADED
    inv.workloads[1].available = 2
    g = build(snapshot([http("web-v1", "cart-v1", 100, ns="test")], inv, namespaces=("test",), graphType="app",
                       healthRates=KIALI_TEST_RATES))
    cart = g.find_node(node_type=model.NODE_APP, app="cart")
    assert cart is not None and _status(cart.health) == model.HEALTHY


# --- appender/health_test.go: edges ------------------------------------------------------------------


@pytest.mark.parametrize(("tolerances", "codes", "status"), [
    ([], {"200": 100}, model.HEALTHY),  # nothing covers the traffic: healthy
    ([_tolerance("5XX", 1, 5)], {"200": 100}, model.HEALTHY),
    ([_tolerance("5XX", 5, 10)], {"200": 99, "500": 1}, model.HEALTHY),
    ([_tolerance("5XX", 5, 10)], {"200": 95, "500": 5}, model.DEGRADED),  # at the degraded threshold
    ([_tolerance("5XX", 5, 10)], {"200": 92, "500": 8}, model.DEGRADED),
    ([_tolerance("5XX", 5, 10)], {"200": 90, "500": 10}, model.FAILURE),  # at the failure threshold
    ([_tolerance("5XX", 5, 10)], {"200": 80, "500": 20}, model.FAILURE),
    ([_tolerance("4XX", 10, 20)], {"200": 85, "404": 15}, model.DEGRADED),
    ([_tolerance("5XX", 5, 10, "grpc")], {"200": 50, "500": 50}, model.HEALTHY),  # another protocol's
    ([_tolerance("4XX", 5, 20), _tolerance("5XX", 5, 10)], {"200": 80, "400": 8, "500": 12}, model.FAILURE),
    ([_tolerance("5XX", 0, 10)], {"200": 96, "500": 4}, model.DEGRADED),
    ([_tolerance("5XX", 0, 10)], {"200": 100}, model.HEALTHY),
])
def test_an_edges_health_by_its_ends_tolerances(tolerances: list[dict[str, Any]], codes: dict[str, float],
                                                status: str) -> None:
    """Kiali's edge cases: the tolerances judge both ends of the edge (a rate for the caller's outbound
    and the callee's inbound)."""
    # no tolerance for HTTP at either end: only one for TCP configured
    rates = ({"namespace": "test", "tolerance": tolerances or [_tolerance("-", 1, 5, "tcp")]},)
    g = build(snapshot(_http_codes("web-v1", "cart-v1", codes, ns="test"), namespaces=("test",), healthRates=rates))
    assert _status(edge(g, "web-v1", "cart-v1").health) == status


@pytest.mark.parametrize(("codes", "status"), [
    ({"200": 100}, model.HEALTHY),
    ({"200": 93, "500": 7}, model.DEGRADED),
    ({"200": 85, "500": 15}, model.FAILURE),
])
def test_a_workload_to_service_edge(codes: dict[str, float], status: str) -> None:
    """Kiali's single-edge cases: a workload calling a service, one 5% / 10% rule for everything."""
    rates = ({"tolerance": [_tolerance("5XX", 5, 10)]},)
    g = build(snapshot(_http_codes("web-v1", "cart-v1", codes, ns="test"), namespaces=("test",),
                       injectServiceNodes=True, healthRates=rates))
    svc = g.find_node(node_type=model.NODE_SERVICE, service="cart")
    web = node(g, "web-v1")
    assert svc is not None
    into = next(e for e in g.edges.values() if e.source == web.id and e.target == svc.id)
    assert _status(into.health) == status


def test_an_app_to_app_edge_in_an_app_graph() -> None:
    """Kiali's traffic-map case: 15% 5xx between two apps under a 5% / 10% rule is a Failure."""
    rates = ({"tolerance": [_tolerance("5XX", 5, 10)]},)
    g = build(snapshot(_http_codes("source-v1", "dest-v1", {"200": 85, "500": 15}, ns="test"), namespaces=("test",),
                       graphType="app", healthRates=rates))
    src = g.find_node(node_type=model.NODE_APP, app="source")
    dst = g.find_node(node_type=model.NODE_APP, app="dest")
    assert src is not None and dst is not None
    e = next(e for e in g.edges.values() if e.source == src.id and e.target == dst.id)
    assert _status(e.health) == model.FAILURE


# --- where meshdesk disagreed with Kiali ---------------------------------------------------------------


def test_tcp_traffic_is_judged_by_a_tolerance_whose_protocol_matches_it() -> None:
    """Kiali tallies a TCP edge's bytes under code "-" and judges them with every tolerance whose protocol
    pattern matches "tcp"; one that names no protocol matches any. A workload with only TCP traffic in a
    namespace whose configured rule names no protocol is then Healthy in Kiali (meshdesk said NA, no
    colour), and a rule counting "-" against TCP fails the edge."""
    lenient = ({"namespace": "shop", "tolerance": [{"code": "5XX", "failure": 10}]},)
    g = build(snapshot([tcp("web-v1", "db-v1", 500, reporter="source")], healthRates=lenient))
    assert _status(node(g, "db-v1").health) == model.HEALTHY
    assert _status(node(g, "web-v1").health) == model.HEALTHY
    assert _status(edge(g, "web-v1", "db-v1", "tcp").health) == model.HEALTHY
    status = health_data(g)[node(g, "db-v1").id]["status"]  # type: ignore[index]
    assert status == {"status": "Healthy", "totalRequestRate": 500.0}
    strict = ({"namespace": "shop", "kind": "workload", "name": "db-v1",
               "tolerance": [_tolerance("-", 0, 10, "tcp", "inbound")]},)
    g = build(snapshot([tcp("web-v1", "db-v1", 500, reporter="source")], healthRates=strict))
    assert _status(edge(g, "web-v1", "db-v1", "tcp").health) == model.FAILURE
    db = node(g, "db-v1").health
    assert db is not None and db.status == model.FAILURE and db.reasons == ["inbound tcp -: 100.0%"]
    # the caller is judged by the defaults, which say nothing of TCP
    assert _status(node(g, "web-v1").health) == model.NO_HEALTH
    # without any configuration, TCP stays unjudged on nodes and healthy on edges, as in Kiali
    g = build(snapshot([tcp("web-v1", "db-v1", 500, reporter="source")]))
    assert _status(node(g, "db-v1").health) == model.NO_HEALTH
    assert _status(edge(g, "web-v1", "db-v1", "tcp").health) == model.HEALTHY


def test_thresholds_are_compared_as_kiali_holds_them() -> None:
    """Kiali keeps a threshold as a 32-bit float: 0.3 is then 0.30000001, and 3 errors in 1,000 requests
    (0.3%) stay under an annotation's "degraded at 0.3". meshdesk said Degraded where Kiali says Healthy."""
    cart = _workload("cart-v1", 1, 1, 1, ns="shop")
    cart.annotations = {health.ANNOTATION: "5XX,0.3,10,http,inbound"}
    g = build(snapshot(_http_codes("web-v1", "cart-v1", {"200": 997, "500": 3}), _inventory(cart, ns="shop")))
    assert _status(node(g, "cart-v1").health) == model.HEALTHY
    # the same from Kiali's configuration
    rates = ({"namespace": "shop", "kind": "workload", "name": "cart-v1",
              "tolerance": [_tolerance("5XX", 0.3, 10, direction="inbound")]},)
    g = build(snapshot(_http_codes("web-v1", "cart-v1", {"200": 997, "500": 3}), healthRates=rates))
    assert _status(node(g, "cart-v1").health) == model.HEALTHY
    # a threshold a 32-bit float cannot hold is refused, as Kiali refuses it
    assert health.parse_annotation("5XX,1e39,1e40,http,inbound")[0] == []
    rates_read, problems = read_health_config("rate:\n- tolerance:\n  - {code: 5XX, degraded: 1e39, failure: 1e40}\n")
    assert rates_read == [] and len(problems) == 2


def test_a_workloads_annotation_is_read_where_kiali_reads_it(kube_emulator: KubeEmulator) -> None:
    """Kiali reads a Deployment's (ReplicaSet's, StatefulSet's...) ``health.kiali.io/rate`` from its pod
    template when the template has annotations, else from the Deployment itself; a DaemonSet's from the
    DaemonSet. A rollout restart stamps the template, so from then on an annotation on the Deployment's
    own metadata no longer counts in Kiali; meshdesk kept judging by it."""
    emu = kube_emulator
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    lenient = {health.ANNOTATION: "5XX,50,90,http,.*"}

    def controller(kind: str, name: str, own: dict[str, str], template: dict[str, str] | None) -> dict[str, Any]:
        app, _, version = name.rpartition("-")
        labels = {"app": app, "version": version}
        meta: dict[str, Any] = {"labels": labels}
        if template is not None:
            meta["annotations"] = template
        spec: dict[str, Any] = {"selector": {"matchLabels": labels},
                                "template": {"metadata": meta, "spec": {"containers": [{"name": app, "image": "i:1"}]}}}
        if kind != "DaemonSet":
            spec["replicas"] = 1
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "shop", "annotations": own},
                "spec": spec}

    restarted = {"kubectl.kubernetes.io/restartedAt": "2026-11-29T10:00:00Z"}
    emu.add(controller("Deployment", "restarted-v1", lenient, restarted))  # the template's annotations count
    emu.add(controller("Deployment", "plain-v1", lenient, None))  # no template annotations: its own count
    emu.add(controller("Deployment", "templated-v1", {}, {**restarted, **lenient}))
    emu.add(controller("DaemonSet", "agent-v1", {}, lenient))  # a DaemonSet's own annotations count
    emu.run_workloads()
    from meshdesk.sources.inventory import read_inventory

    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    samples = [s for dst in ("restarted-v1", "plain-v1", "templated-v1", "agent-v1")
               for s in (http("web-v1", dst, 85), http("web-v1", dst, 15, "503"))]
    g = build(snapshot(samples, inv))
    assert _status(node(g, "restarted-v1").health) == model.FAILURE  # the defaults: 15% 5xx fails
    assert _status(node(g, "plain-v1").health) == model.HEALTHY
    assert _status(node(g, "templated-v1").health) == model.HEALTHY
    assert _status(node(g, "agent-v1").health) == model.FAILURE
    data = health_data(g)
    assert data is not None
    assert data[node(g, "restarted-v1").id]["requests"]["healthAnnotations"] == {}
    assert data[node(g, "templated-v1").id]["requests"]["healthAnnotations"] == lenient
    # a snapshot keeps the template's annotations
    from meshdesk.mesh.inventory import Workload

    again = {w.name: w for w in (Workload.from_json(w.to_json()) for w in inv.workloads)}
    assert again["restarted-v1"].health_annotations == restarted


def test_annotation_thresholds_are_read_as_kiali_reads_numbers() -> None:
    """Kiali reads an annotation's thresholds with Go's number reader, which takes "Inf" (a workload that
    may degrade but never fail) and hexadecimal numbers; meshdesk refused such an entry and judged by
    the defaults instead (a Failure at 50% 5xx where Kiali says Degraded)."""
    def cart_status(annotation: str) -> str:
        cart = _workload("cart-v1", 1, 1, 1, ns="shop")
        cart.annotations = {health.ANNOTATION: annotation}
        g = build(snapshot(_http_codes("web-v1", "cart-v1", {"200": 50, "500": 50}), _inventory(cart, ns="shop")))
        return _status(node(g, "cart-v1").health)

    assert cart_status("5XX,0,Inf,http,inbound") == model.DEGRADED
    assert cart_status("5XX,0x1p2,+infinity,http,inbound") == model.DEGRADED  # degraded from 4%
    assert cart_status("5XX,0x1p7,0x1.ap7,http,inbound") == model.HEALTHY  # 128% / 208%: never reached
    # what Go refuses stays refused: the entry is skipped and the defaults judge (50% 5xx: a Failure)
    for refused in ("5XX,1_0,20,http,inbound", "5XX,0x10,20,http,inbound", "5XX,+nan,20,http,inbound"):
        assert health.parse_annotation(refused)[0] == [], refused
        assert cart_status(refused) == model.FAILURE


def test_a_statefulsets_ready_pods_are_its_available_ones_as_kiali_counts_them() -> None:
    """Kiali takes a StatefulSet's readyReplicas for its available pods. Two pods wanted and ready, one of
    them still inside minReadySeconds (so not yet "available" to Kubernetes): Kiali says Healthy and
    writes 2 available; meshdesk said Degraded. A Deployment keeps its availableReplicas."""
    db = _workload("db-v1", 2, 2, 1, ns="shop")
    db.kind, db.ready = "StatefulSet", 2
    g = build(snapshot([http("web-v1", "db-v1", 10)], _inventory(db, ns="shop")))
    assert _status(node(g, "db-v1").health) == model.HEALTHY
    data = health_data(g)
    assert data is not None and data[node(g, "db-v1").id]["workloadStatus"]["availableReplicas"] == 2
    db.kind = "Deployment"
    g = build(snapshot([http("web-v1", "db-v1", 10)], _inventory(db, ns="shop")))
    assert _status(node(g, "db-v1").health) == model.DEGRADED


def test_a_configured_infinite_threshold_is_never_reached_as_in_kiali() -> None:
    """``failure: .inf`` in Kiali's configuration (YAML's infinity) is a tolerance that may degrade but
    never fail; meshdesk refused the whole configuration for it."""
    rates, problems = read_health_config("rate:\n- namespace: shop\n  tolerance:\n"
                                         "  - {code: 5XX, protocol: http, degraded: 1, failure: .inf}\n")
    assert problems == []
    g = build(snapshot(_http_codes("web-v1", "cart-v1", {"200": 50, "500": 50}), healthRates=tuple(rates)))
    assert _status(node(g, "cart-v1").health) == model.DEGRADED
    # NaN and negative shares stay refused, with what is wrong
    for bad in (".nan", "-5"):
        rates, problems = read_health_config(f"rate:\n- tolerance:\n  - {{code: 5XX, failure: {bad}}}\n")
        assert rates == [] and problems and "share of requests" in problems[0]


def test_patterns_with_alternatives_match_as_kialis_matcher_does() -> None:
    """Kiali adds "^" and "$" to a pattern and then looks for a match anywhere in the name. In "web|db-v1"
    the "^" binds to "web" and the "$" to "db-v1", so Kiali's rule covers "mydb-v1" too (anything ending
    in db-v1); meshdesk matched from the start only and judged mydb-v1 by the defaults."""
    lenient = ({"namespace": "shop", "kind": "workload", "name": "web|db-v1",
                "tolerance": [_tolerance("5XX", 50, 90)]},)
    g = build(snapshot(_http_codes("api-v1", "mydb-v1", {"200": 95, "500": 5}), healthRates=lenient))
    assert _status(node(g, "mydb-v1").health) == model.HEALTHY  # Kiali's rule applies
    assert _status(node(g, "api-v1").health) == model.DEGRADED  # the defaults: any 5xx degrades
    assert _status(edge(g, "api-v1", "mydb-v1").health) == model.DEGRADED  # the caller's defaults too
