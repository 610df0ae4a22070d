"""The ingress gateway in istio-system while the user looks at their own namespace: almost every graph
has it, outside the chosen namespaces. Its pods and replicas are read (from the Kubernetes API
emulator) so its node's health weighs them, as Kiali weighs an outside node's pods, and its panel says
what it runs instead of "not found in the inventory"."""

from __future__ import annotations

import json
from typing import Any

from pytestqt.qtbot import QtBot

from meshdesk.mesh.export import to_kiali
from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import DEGRADED, FAILURE, HEALTHY, TrafficGraph
from meshdesk.mesh.inventory import Inventory, Workload
from meshdesk.sources.inventory import read_inventory
from meshdesk.ui.panels import SidePanel
from tests.graph_samples import http, snapshot
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

GATEWAY_LABELS = {"app": "istio-ingressgateway", "istio": "ingressgateway",
                  "operator.istio.io/component": "IngressGateways"}


def _deployment(name: str, ns: str, labels: dict[str, str], replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": f"example/{name}:1"}]}}}}


def _cluster(emu: KubeEmulator, gateway_replicas: int = 2) -> None:
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add(_deployment("web-v1", "shop", {"app": "web", "version": "v1"}))
    emu.add(_deployment("istio-ingressgateway", "istio-system", GATEWAY_LABELS, replicas=gateway_replicas))
    emu.run_workloads()


def _gateway(inv: Inventory) -> Workload:
    gw = inv.outside_gateway("istio-system", "istio-ingressgateway")
    assert gw is not None
    return gw


def _graph(inv: Inventory) -> TrafficGraph:
    return build(snapshot([http("istio-ingressgateway", "web-v1", 5, src_ns="istio-system", dst_ns="shop")],
                          inv, namespaces=("shop",), appenders=("health",)))


def _panel(qtbot: QtBot, graph: TrafficGraph, inv: Inventory) -> str:
    node = graph.find_node(workload="istio-ingressgateway")
    assert node is not None and node.is_outside
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    assert panel.kind == "workload"
    return panel.text()


def _set_status(emu: KubeEmulator, **status: int) -> None:
    dep = emu.get("deployments", "istio-system", "istio-ingressgateway", "apps")
    assert dep is not None
    dep["status"] = status


def _pods_not_ready(emu: KubeEmulator) -> None:
    for pod in emu.objects("pods", "", "istio-system"):
        for cs in pod["status"]["containerStatuses"]:
            cs["ready"] = False


def test_an_outside_gateways_replicas_are_read_and_shown(kube_emulator: KubeEmulator, qtbot: QtBot) -> None:
    """Its panel said "not found in the inventory (outside the selected namespaces, or not readable)"
    beside a graph full of its traffic; now its kind, replicas, pods and proxy are there."""
    _cluster(kube_emulator)
    inv = read_inventory(kube_emulator.api_client(), ["shop"], cluster="east")
    gw = _gateway(inv)
    assert (gw.kind, gw.replicas, gw.available, gw.ready, gw.current) == ("Deployment", 2, 2, 2, 2)
    assert gw.created and len(gw.pods) == 2
    assert {w.namespace for w in inv.workloads} == {"shop"}  # nothing else joins the selection
    assert Inventory.from_json(json.loads(json.dumps(inv.to_json()))).to_json() == inv.to_json()
    graph = _graph(inv)
    text = _panel(qtbot, graph, inv)
    assert "not found in the inventory" not in text
    assert "outside the chosen namespaces" in text
    assert "Kind\nDeployment\n" in text and "Replicas\n2/2 ready\n" in text
    assert text.count("istio-ingressgateway-") == 2  # its two pods listed
    assert "Sidecar\nnone needed (it is a proxy itself)" in text
    assert "Services\nnot read: istio-system is not among the chosen namespaces" in text
    node = graph.find_node(workload="istio-ingressgateway")
    assert node is not None and node.health is not None and node.health.status == HEALTHY
    # Kiali's health data carries its WorkloadStatus (it was null)
    data = next(n["data"] for n in to_kiali(graph)["elements"]["nodes"] if n["data"].get("workload") == node.workload)
    assert data["healthData"]["workloadStatus"] == {"availableReplicas": 2, "currentReplicas": 2,
                                                    "desiredReplicas": 2, "name": "istio-ingressgateway",
                                                    "syncedProxies": -1}


def test_a_gateway_without_available_pods_is_a_failing_node(kube_emulator: KubeEmulator, qtbot: QtBot) -> None:
    """Its requests looked fine (the last minute's), so the node was green while none of its pods was
    available: the node that lets the users in fails, and says why."""
    _cluster(kube_emulator)
    _set_status(kube_emulator, replicas=2, readyReplicas=0, availableReplicas=0)
    _pods_not_ready(kube_emulator)
    inv = read_inventory(kube_emulator.api_client(), ["shop"], cluster="east")
    graph = _graph(inv)
    node = graph.find_node(workload="istio-ingressgateway")
    assert node is not None and node.health is not None
    assert node.health.status == FAILURE
    assert "workload has fewer available pods than wanted" in node.health.reasons
    text = _panel(qtbot, graph, inv)
    assert "Replicas\n0/2 ready\n" in text and "Health\nFailure" in text

    _set_status(kube_emulator, replicas=2, readyReplicas=1, availableReplicas=1)
    degraded = _graph(read_inventory(kube_emulator.api_client(), ["shop"], cluster="east"))
    node = degraded.find_node(workload="istio-ingressgateway")
    assert node is not None and node.health is not None and node.health.status == DEGRADED


def test_a_hidden_gateway_controller_is_counted_from_its_pods(kube_emulator: KubeEmulator) -> None:
    """A user who may list gateway pods in istio-system but not read its Deployments: the counts come
    from the pods, as for a workload of the selection whose controller is hidden."""
    _cluster(kube_emulator)
    for pod in kube_emulator.objects("pods", "", "istio-system"):
        for cs in pod["status"]["containerStatuses"]:
            cs["ready"] = False
        break  # one of the two pods is not ready
    kube_emulator.forbid(namespace="istio-system", resource="deployments")
    inv = read_inventory(kube_emulator.api_client(), ["shop"], cluster="east")
    gw = _gateway(inv)
    assert (gw.replicas, gw.available, gw.current, gw.ready) == (2, 1, -1, -1)
    node = _graph(inv).find_node(workload="istio-ingressgateway")
    assert node is not None and node.health is not None and node.health.status == DEGRADED


def test_a_snapshot_from_before_keeps_its_gateway_as_it_was(kube_emulator: KubeEmulator, qtbot: QtBot) -> None:
    """A snapshot saved before the counts were read has the gateway's pods but no counts (0 wanted,
    running not known): that is not "scaled to zero", so its health is its requests' and its panel says
    no replica count."""
    _cluster(kube_emulator)
    inv = read_inventory(kube_emulator.api_client(), ["shop"], cluster="east")
    old = inv.to_json()
    for w in old["outside_gateways"]:
        w.update(replicas=0, available=0, current=-1, ready=-1)
    before = Inventory.from_json(old)
    assert _gateway(before).pods
    graph = _graph(before)
    node = graph.find_node(workload="istio-ingressgateway")
    assert node is not None and node.health is not None and node.health.status == HEALTHY
    text = _panel(qtbot, graph, before)
    assert "Replicas" not in text and "scaled to zero" not in text
    data = next(n["data"] for n in to_kiali(graph)["elements"]["nodes"] if n["data"].get("workload") == node.workload)
    assert data["healthData"]["workloadStatus"] is None


def test_the_selection_read_whole_has_no_outside_gateway(kube_emulator: KubeEmulator) -> None:
    """Every namespace chosen: the gateway is a workload of the selection, its controller listed with
    the others, not read again one by one."""
    _cluster(kube_emulator)
    inv = read_inventory(kube_emulator.api_client(), None, cluster="east")
    assert inv.outside_gateways == [] and inv.workload("istio-system", "istio-ingressgateway") is not None
    assert [p for _m, p in kube_emulator.calls if "/deployments/" in p] == []


def test_in_app_graphs_the_gateways_app_node_weighs_and_lists_its_pods(kube_emulator: KubeEmulator,
                                                                         qtbot: QtBot) -> None:
    """An app graph draws the gateway as its app: that node's health and panel are of its pods too."""
    _cluster(kube_emulator)
    _set_status(kube_emulator, replicas=2, readyReplicas=0, availableReplicas=0)
    _pods_not_ready(kube_emulator)
    inv = read_inventory(kube_emulator.api_client(), ["shop"], cluster="east")
    sample = http("istio-ingressgateway", "web-v1", 5, src_ns="istio-system", dst_ns="shop")
    sample.labels.update(source_canonical_service="istio-ingressgateway", source_canonical_revision="latest")
    samples = [sample]
    app_graph = build(snapshot(samples, inv, namespaces=("shop",), graphType="app", appenders=("health",)))
    node = app_graph.find_node(app="istio-ingressgateway")
    assert node is not None and node.health is not None and node.health.status == FAILURE
    data = next(n["data"] for n in to_kiali(app_graph)["elements"]["nodes"] if n["data"].get("id") == node.id)
    assert [s["name"] for s in data["healthData"]["workloadStatuses"]] == ["istio-ingressgateway"]

    versioned = build(snapshot(samples, inv, namespaces=("shop",), graphType="versionedApp", appenders=("health",)))
    node = versioned.find_node(app="istio-ingressgateway")
    assert node is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(versioned, inv)
    panel.show_selection([node.id])
    assert panel.kind == "app"
    text = panel.text()
    assert "istio-system · outside the chosen namespaces" in text
    assert "Workloads\nistio-ingressgateway (Deployment): 0/2 pods ready" in text
