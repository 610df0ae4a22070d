"""The Istio config that applies to a workload, in its panel (Kiali's workload page lists it): the
policies that select it or its whole namespace, the mesh-wide ones of the root namespace, the Sidecar
in effect, the Gateways that select it; each with how it applies and its findings."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.validation_badges import (
    SELECTS_IT,
    WHOLE_MESH,
    WHOLE_NAMESPACE,
    config_for_workload,
    node_badges,
)
from meshdesk.mesh.validations import ERROR, Check, Validation, validate
from meshdesk.ui.panels import SidePanel
from tests.graph_samples import http, snapshot
from tests.ui_helpers import small_inventory, workload


def _obj(kind: str, name: str, ns: str, spec: dict[str, Any]) -> IstioObject:
    return IstioObject(kind, name, ns, spec=spec)


def _inventory() -> Inventory:
    inv = small_inventory("shop")
    inv.workloads += [workload("productpage-v1", "shop", "productpage"), workload("reviews-v2", "shop", "reviews", "v2"),
                      workload("ratings-v1", "shop", "ratings")]
    inv.istio += [
        _obj("AuthorizationPolicy", "deny-all", "shop", {}),
        _obj("AuthorizationPolicy", "reviews-only", "shop", {"selector": {"matchLabels": {"app": "reviews"}},
                                                             "action": "ALLOW", "rules": [{}]}),
        _obj("AuthorizationPolicy", "ratings-only", "shop", {"selector": {"matchLabels": {"app": "ratings"}}}),
        # attached to a Gateway API gateway: it selects no workload, whatever its (absent) selector says
        _obj("AuthorizationPolicy", "at-the-gateway", "shop", {
            "targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "shop-gw"}],
            "action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin"]}}]}]}),
        _obj("Sidecar", "default", "shop", {"egress": [{"hosts": ["./*"]}]}),
        _obj("Sidecar", "reviews", "shop", {"workloadSelector": {"labels": {"app": "reviews"}},
                                            "egress": [{"hosts": ["./*", "istio-system/*"]}]}),
        _obj("EnvoyFilter", "reviews-lua", "shop", {"workloadSelector": {"labels": {"app": "reviews", "version": "v2"}}}),
        _obj("EnvoyFilter", "reviews-v1-lua", "shop", {"workloadSelector": {"labels": {"app": "reviews", "version": "v1"}}}),
        _obj("Telemetry", "access-logs", "shop", {"accessLogging": [{"providers": [{"name": "envoy"}]}]}),
        _obj("PeerAuthentication", "other-namespace", "web", {}),
    ]
    inv.outside_config.append(_obj("PeerAuthentication", "default", "istio-system", {"mtls": {"mode": "STRICT"}}))
    return inv


def test_the_config_that_applies_to_a_workload_and_how() -> None:
    inv = _inventory()
    reviews = inv.workload("shop", "reviews-v2")
    assert reviews is not None
    got = [(o.kind, o.namespace, o.name, how) for o, how in config_for_workload(inv, reviews)]
    assert got == [
        ("Sidecar", "shop", "reviews", SELECTS_IT),  # the one in effect only: it overrides the namespace's
        ("PeerAuthentication", "istio-system", "default", WHOLE_MESH),
        ("AuthorizationPolicy", "shop", "deny-all", WHOLE_NAMESPACE),
        ("AuthorizationPolicy", "shop", "reviews-only", SELECTS_IT),
        ("EnvoyFilter", "shop", "reviews-lua", SELECTS_IT),
        ("Telemetry", "shop", "access-logs", WHOLE_NAMESPACE),
    ]
    ratings = inv.workload("shop", "ratings-v1")
    assert ratings is not None
    got = [(o.kind, o.name, how) for o, how in config_for_workload(inv, ratings)]
    assert ("Sidecar", "default", WHOLE_NAMESPACE) in got and ("AuthorizationPolicy", "ratings-only", SELECTS_IT) in got
    assert all(name not in {n for _k, n, _h in got} for name in ("reviews", "reviews-only", "reviews-lua"))


def test_the_root_namespace_sidecar_is_in_effect_only_where_a_namespace_has_none() -> None:
    inv = _inventory()
    inv.istio = [o for o in inv.istio if o.kind != "Sidecar"]
    inv.outside_config.append(_obj("Sidecar", "mesh-default", "istio-system", {"egress": [{"hosts": ["./*"]}]}))
    inv.istio.append(_obj("Sidecar", "mesh-default", "istio-system", {"egress": [{"hosts": ["./*"]}]}))
    ratings = inv.workload("shop", "ratings-v1")
    assert ratings is not None
    assert [(o.name, how) for o, how in config_for_workload(inv, ratings) if o.kind == "Sidecar"] == \
        [("mesh-default", WHOLE_MESH)]
    inv.istio.append(_obj("Sidecar", "default", "shop", {"egress": [{"hosts": ["./*"]}]}))
    assert [(o.name, how) for o, how in config_for_workload(inv, ratings) if o.kind == "Sidecar"] == \
        [("default", WHOLE_NAMESPACE)]


def test_a_policy_attached_by_target_refs_badges_no_workload() -> None:
    """A DENY policy attached to a Gateway API gateway with a finding marked every workload of its
    namespace (no selector was read as "the whole namespace")."""
    inv = _inventory()
    graph = build(snapshot([http("productpage-v1", "ratings-v1", 1.0)], inv))
    key = ("AuthorizationPolicy", "shop", "at-the-gateway")
    validations = {key: Validation(*key, checks=[Check("KIA0000", ERROR, "a finding")])}
    assert node_badges(graph, inv, validations) == {}


def test_the_workload_panel_lists_its_istio_config_with_findings(qtbot: QtBot) -> None:
    """Which policies apply to this workload was a question for the config list and a lot of reading
    of selectors; the panel says it, and which of them have findings."""
    inv = _inventory()
    # a finding on a policy of reviews: a source namespace that does not exist
    inv.cluster_namespaces = ["shop", "web", "istio-system"]
    inv.istio.append(_obj("AuthorizationPolicy", "from-nowhere", "shop", {
        "selector": {"matchLabels": {"app": "reviews"}}, "rules": [{"from": [{"source": {"namespaces": ["nosuch"]}}]}]}))
    graph = build(snapshot([http("productpage-v1", "reviews-v2", 1.0)], inv))
    graph.validations = validate(inv)  # as the window's refresh gives them
    node = graph.find_node(workload="reviews-v2")
    assert node is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    text = panel.text()
    section = text.split("Istio config\n", 1)[1].split("\nLabels\n", 1)[0]
    lines = section.splitlines()
    assert lines == ["Sidecar reviews: selects it", "PeerAuthentication istio-system/default: the whole mesh",
                     "AuthorizationPolicy deny-all: its whole namespace",
                     "AuthorizationPolicy from-nowhere: selects it (1 warning)",
                     "AuthorizationPolicy reviews-only: selects it", "EnvoyFilter reviews-lua: selects it",
                     "Telemetry access-logs: its whole namespace"]
    assert "at-the-gateway" not in section and "ratings-only" not in section


def test_a_versioned_app_panel_lists_the_config_of_its_workloads(qtbot: QtBot) -> None:
    """The versioned app graph (the default) draws reviews v2 as an app node: its panel lists the same."""
    inv = _inventory()
    graph = build(snapshot([http("productpage-v1", "reviews-v2", 1.0)], inv, graphType="versionedApp"))
    node = graph.find_node(app="reviews", version="v2")
    assert node is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    assert panel.kind == "app"
    section = panel.text().split("Istio config\n", 1)[1]
    assert section.startswith("Sidecar reviews: selects it\nPeerAuthentication istio-system/default: the whole mesh\n")
    assert "EnvoyFilter reviews-lua: selects it" in section and "ratings-only" not in section


def test_a_selector_of_another_shape_selects_nothing() -> None:
    """``selector: "app=reviews"`` or ``matchLabels: [...]`` (objects Istio refuses, written around its
    webhook) were read as no selector: the whole namespace."""
    inv = _inventory()
    inv.istio += [_obj("AuthorizationPolicy", "text-selector", "shop", {"selector": "app=reviews"}),
                  _obj("AuthorizationPolicy", "list-labels", "shop", {"selector": {"matchLabels": ["app=reviews"]}}),
                  _obj("Sidecar", "odd", "shop", {"workloadSelector": {"labels": "app=reviews"}})]
    reviews = inv.workload("shop", "reviews-v2")
    assert reviews is not None
    names = {o.name for o, _how in config_for_workload(inv, reviews)}
    assert not names & {"text-selector", "list-labels", "odd"} and "deny-all" in names


def test_a_policy_with_a_selector_of_another_shape_badges_no_workload() -> None:
    inv = _inventory()
    odd = _obj("AuthorizationPolicy", "text-selector", "shop", {"selector": "app=reviews"})
    inv.istio.append(odd)
    graph = build(snapshot([http("productpage-v1", "ratings-v1", 1.0)], inv))
    key = ("AuthorizationPolicy", "shop", "text-selector")
    assert node_badges(graph, inv, {key: Validation(*key, checks=[Check("KIA0000", ERROR, "a finding")])}) == {}


def test_the_panel_says_when_the_root_namespaces_config_could_not_be_read(qtbot: QtBot) -> None:
    """Mesh-wide policies live in the root namespace: when its Istio config could not be read (RBAC), the
    workload's list may lack them; the note looked at the workload's own namespace only."""
    inv = _inventory()
    inv.hidden["istio-system/authorizationpolicies"] = "forbidden"
    graph = build(snapshot([http("productpage-v1", "reviews-v2", 1.0)], inv))
    node = graph.find_node(workload="reviews-v2")
    assert node is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    assert "(not all of the Istio config of istio-system could be read: objects there may be missing" in panel.text()
