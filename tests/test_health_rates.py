"""Kiali's configured health tolerances (``health_config.rate``): read from Kiali's own configuration,
checked, and used by the health pass as Kiali uses them (first matching rate by namespace, kind and
name; the defaults for what none matches; a workload's or service's annotation before either)."""

from __future__ import annotations

import json

import pytest

from meshdesk.mesh.graph import build, health, model
from meshdesk.mesh.graph.health_data import health_data
from meshdesk.mesh.health_rates import read_health_config
from meshdesk.mesh.inventory import Inventory, Namespace, Pod, Service, Workload
from meshdesk.mesh.request import GraphRequest
from tests.graph_samples import http, snapshot
from tests.test_graph_traffic import edge, node

# reviews' service in shop may fail up to 20% of its requests with a 5xx before it is a Failure (5%:
# Degraded); everything else in shop is judged by the defaults, then anything in "lab" by a lenient rule
CR = """
apiVersion: kiali.io/v1alpha1
kind: Kiali
metadata:
  name: kiali
spec:
  health_config:
    rate:
      - namespace: "shop"
        kind: "service"
        name: "reviews"
        tolerance:
          - code: "5XX"
            degraded: 5
            failure: 20
            protocol: "http"
            direction: ".*"
      - namespace: "lab"
        tolerance:
          - code: "5XX"
            degraded: 50
            failure: 90
"""


def _rates(text: str = CR) -> tuple[dict, ...]:
    rates, problems = read_health_config(text)
    assert problems == []
    return tuple(rates)


def _fifteen_percent_5xx(dst: str = "reviews-v1", namespace: str = "shop") -> list:
    return [http("web-v1", dst, 85, ns=namespace), http("web-v1", dst, 15, "503", ns=namespace)]


def test_kialis_cr_configmap_and_config_are_read_alike() -> None:
    """The same rates from Kiali's CR, the ConfigMap its operator writes, its config.yaml, a bare list."""
    rates = _rates()
    assert [r.get("name") for r in rates] == ["reviews", None]
    assert rates[0]["tolerance"] == [{"code": "5XX", "protocol": "http", "direction": ".*", "degraded": 5.0,
                                      "failure": 20.0}]
    assert rates[1]["tolerance"] == [{"code": "5XX", "degraded": 50.0, "failure": 90.0}]
    config = "health_config:\n  rate:\n" + "\n".join("  " + line for line in CR.split("    rate:\n")[1].splitlines())
    configmap = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": {"config.yaml": config}})
    assert _rates(config) == rates
    assert _rates(configmap) == rates
    assert _rates(json.dumps(list(rates))) == rates
    assert read_health_config("   \n") == ([], [])


@pytest.mark.parametrize(("text", "said"), [
    ("rate:\n  - name: 'rev(iews'\n    tolerance: [{code: 5XX, failure: 20}]",
     "rate[0].name 'rev(iews' is not a regular expression"),
    ("rate:\n  - tolerance: [{code: 5XX, failure: ten}]", "rate[0].tolerance[0].failure must be a number"),
    ("rate:\n  - tolerance: [{code: 5XX, failure: -1}]", "(0 or more)"),
    ("rate:\n  - tolerances: [{code: 5XX, failure: 20}]", "'tolerances' is not a field of a rate"),
    ("rate:\n  - namespace: shop", "rate[0] has no tolerance list"),
    ("rate:\n  - tolerance: [{code: 5XX, failur: 20}]", "'failur' is not a field of a tolerance"),
    ("rate: {namespace: shop}", "must be a list of rates"),
    ("health_config:\n  rate:\n    - [", "not YAML (line 3"),
    ("kind: Kiali\nspec:\n  auth: {}", "no health_config.rate list"),
])
def test_a_bad_configuration_is_refused_saying_what_is_wrong(text: str, said: str) -> None:
    rates, problems = read_health_config(text)
    assert rates == [] and problems and said in problems[0], problems


def test_a_configured_rate_judges_the_apps_services_or_workloads_it_matches() -> None:
    """15% of reviews' requests fail: by Kiali's defaults its service is a Failure; configured to fail at
    20%, Degraded. Its workload, which no rate names, keeps the defaults, and so does the edge into the
    service (the worse of its ends: web's outbound is judged by the defaults)."""
    samples = _fifteen_percent_5xx()
    plain = build(snapshot(samples, injectServiceNodes=True))
    assert node(plain, "reviews").health.status == model.FAILURE  # type: ignore[union-attr]
    g = build(snapshot(samples, injectServiceNodes=True, healthRates=_rates()))
    assert node(g, "reviews").health.status == model.DEGRADED  # type: ignore[union-attr]
    assert node(g, "reviews-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    assert edge(g, "web-v1", "reviews").health.status == model.FAILURE  # type: ignore[union-attr]


def test_the_first_matching_rate_wins_and_edges_take_both_ends_tolerances() -> None:
    """In lab, where the second rate lets 50% fail before it is Degraded, everything is Healthy at 15% 5xx: nodes and edges
    alike (both ends of each edge are judged by that rate). A rate listed before it wins where both match."""
    samples = _fifteen_percent_5xx(namespace="lab")
    g = build(snapshot(samples, namespaces=("lab",), injectServiceNodes=True, healthRates=_rates()))
    for label in ("web-v1", "reviews", "reviews-v1"):
        assert node(g, label).health.status == model.HEALTHY, label  # type: ignore[union-attr]
    for src, dst in (("web-v1", "reviews"), ("reviews", "reviews-v1")):
        assert edge(g, src, dst).health.status == model.HEALTHY  # type: ignore[union-attr]
    strict_first = ({"namespace": "lab", "kind": "workload", "name": "reviews-v1",
                     "tolerance": [{"code": "5XX", "failure": 1}]}, *_rates())
    g = build(snapshot(samples, namespaces=("lab",), injectServiceNodes=True, healthRates=strict_first))
    assert node(g, "reviews-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    assert node(g, "reviews").health.status == model.HEALTHY  # type: ignore[union-attr]


def test_an_app_node_is_matched_by_kind_app_and_its_apps_name() -> None:
    rates = ({"kind": "app", "name": "reviews", "tolerance": [{"code": "5XX", "degraded": 50, "failure": 60}]},)
    g = build(snapshot(_fifteen_percent_5xx(), graphType="app", healthRates=rates))
    assert node(g, "reviews").health.status == model.HEALTHY  # type: ignore[union-attr]
    assert node(g, "web").health.status == model.FAILURE  # type: ignore[union-attr]  (its outbound: the defaults)


def test_a_workloads_annotation_comes_before_the_configuration() -> None:
    """As in Kiali: health.kiali.io/rate on the workload replaces whatever the configuration says of it."""
    rates = ({"namespace": "shop", "tolerance": [{"code": "5XX", "degraded": 50, "failure": 90}]},)
    reviews = Workload(name="reviews-v1", namespace="shop", labels={"app": "reviews", "version": "v1"},
                       annotations={health.ANNOTATION: "5XX,1,2,http,inbound"},
                       pods=[Pod("reviews-v1-0", "shop", phase="Running")], replicas=1, available=1)
    inv = Inventory(cluster="east", namespaces=[Namespace("shop")], workloads=[reviews],
                    services=[Service("reviews", "shop")])
    g = build(snapshot(_fifteen_percent_5xx(), inventory=inv, injectServiceNodes=True, healthRates=rates))
    assert node(g, "reviews-v1").health.status == model.FAILURE  # type: ignore[union-attr]
    assert node(g, "reviews").health.status == model.HEALTHY  # type: ignore[union-attr]


def test_kialis_health_data_is_judged_by_the_same_tolerances() -> None:
    """The exported healthData's error ratio is -1 where no tolerance speaks of the traffic: a rate
    for gRPC only leaves reviews' HTTP unjudged (no health, -1), as Kiali judges and writes it."""
    rates = ({"kind": "service", "name": "reviews", "tolerance": [{"code": "14", "protocol": "grpc", "failure": 1}]},)
    g = build(snapshot(_fifteen_percent_5xx(), injectServiceNodes=True, healthRates=rates))
    reviews = node(g, "reviews")
    assert reviews.health.status == model.NO_HEALTH  # type: ignore[union-attr]
    data = health_data(g)
    assert data is not None
    assert data[reviews.id]["status"]["errorRatio"] == -1
    assert data[node(g, "reviews-v1").id]["status"]["errorRatio"] == pytest.approx(15.0)


def test_a_snapshot_keeps_its_rates_and_refuses_bad_ones() -> None:
    request = GraphRequest(namespaces=("shop",), healthRates=_rates())
    again = GraphRequest.from_json(json.loads(json.dumps(request.to_json())))
    assert again.healthRates == request.healthRates
    assert "healthRates" not in GraphRequest(namespaces=("shop",)).to_json()  # files without rates unchanged
    with pytest.raises(ValueError, match=r"rate\[0\].namespace '\(' is not a regular expression"):
        GraphRequest.from_json({"namespaces": ["shop"], "healthRates": [{"namespace": "(", "tolerance": [{}]}]})
    with pytest.raises(ValueError, match="no tolerance list"):
        GraphRequest(namespaces=("shop",), healthRates=({"namespace": "shop"},))


def test_the_details_panel_says_what_judged_a_nodes_health(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A node judged by a configured rate looked judged by Kiali's defaults (its panel said "Degraded"
    at 15% errors, where the defaults say Failure, and no word why); the panel names the rate, or the
    node's own annotation, and says nothing for a node the defaults judge."""
    from meshdesk.ui.panels import SidePanel

    reviews = Workload(name="reviews-v1", namespace="shop", labels={"app": "reviews", "version": "v1"},
                       annotations={health.ANNOTATION: "5XX,1,2,http,inbound"},
                       pods=[Pod("reviews-v1-0", "shop", phase="Running")], replicas=1, available=1)
    inv = Inventory(cluster="east", namespaces=[Namespace("shop")], workloads=[reviews],
                    services=[Service("reviews", "shop")])
    g = build(snapshot(_fifteen_percent_5xx(), inventory=inv, injectServiceNodes=True, healthRates=_rates()))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(g, inv)
    panel.show_selection([node(g, "reviews").id])
    assert "Judged by\nconfigured health rate 1 of 2 (shop \u00b7 service \u00b7 reviews)" in panel.text()
    panel.show_selection([node(g, "reviews-v1").id])
    assert "Judged by\nits health.kiali.io/rate annotation: 5XX,1,2,http,inbound" in panel.text()
    panel.show_selection([node(g, "web-v1").id])
    assert "Judged by" not in panel.text()
