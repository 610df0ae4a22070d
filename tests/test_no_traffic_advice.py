"""What a user whose namespaces show no traffic is told to do: put a namespace that runs no sidecar in the
mesh (label, restart) before sending it requests; restart the workloads whose pods predate injection
(not those that opt out); curl a service that answers HTTP. In the window (real widgets, offscreen,
against the Kubernetes API emulator and a real Prometheus) and from ``meshdesk graph``."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.graph.model import NODE_APP, NODE_WORKLOAD
from meshdesk.mesh.inventory import Container, Inventory, Namespace, Pod, Service, ServicePort, Workload
from meshdesk.mesh.traffic_advice import no_traffic_advice, traffic_command
from meshdesk.ui.mainwindow import MainWindow
from tests import prom_server
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.ui_helpers import open_windows, workload

prometheus_server = prom_server.prometheus_server  # the session's real Prometheus (skips without the binary)

ROOT = Path(__file__).resolve().parent.parent
CONTEXT = "prod-east"

pytestmark = [pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]


def deployment(name: str, ns: str, app: str, *, port: int = 8080, opt_out: bool = False) -> dict[str, Any]:
    labels = {"app": app, "version": "v1"}
    annotations = {"sidecar.istio.io/inject": "false"} if opt_out else {}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels, "annotations": annotations},
                                  "spec": {"containers": [{"name": app, "image": f"example/{app}:1",
                                                           "ports": [{"containerPort": port}]}]}}}}


def service(name: str, ns: str, selector: dict[str, str] | None, port: int, port_name: str = "http") -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"name": port_name, "port": port, "targetPort": port}]}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def cluster(emu: KubeEmulator, shared_dir: Path, tmp_path: Path, prometheus_url: str) -> str:
    """``plain``: no injection label, pods without sidecars. ``late``: labelled after its pods started
    (``orders-v1`` needs a restart; ``legacy-v1`` opts out). ``data``: injection on, and the services a
    request loop must not call (TCP, selector-less HTTPS) beside one it should (``web``)."""
    emu.load_crds(shared_dir / "fixtures/istio/crds/crd-all.gen.yaml")
    emu.add_namespace("plain")
    emu.add(deployment("web-v1", "plain", "web"))
    emu.add(service("web", "plain", {"app": "web"}, 8080))
    emu.add_namespace("late")
    emu.add(deployment("orders-v1", "late", "orders"))
    emu.add(deployment("legacy-v1", "late", "legacy", opt_out=True))
    emu.add(service("orders", "late", {"app": "orders"}, 8080))
    emu.add_namespace("data", {"istio-injection": "enabled"})
    emu.add(deployment("archive-db", "data", "archive-db", port=5432))
    emu.add(service("archive-db", "data", {"app": "archive-db"}, 5432, "tcp-postgres"))
    emu.add(service("aaa-external", "data", None, 443, "https"))
    emu.add(deployment("web-v1", "data", "web"))
    emu.add(service("web", "data", {"app": "web"}, 8080))
    emu.run_workloads()
    emu.add_namespace("late", {"istio-injection": "enabled"})  # after its pods: they run no sidecar
    from meshdesk.store.settings import load_settings

    settings = load_settings()
    cs = settings.context_settings(CONTEXT)
    cs.prometheus_url = prometheus_url
    settings.set_context_settings(CONTEXT, cs)
    settings.save()
    return str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))


@pytest.fixture
def app_window(qtbot: Any) -> Iterator[Callable[..., MainWindow]]:
    """The app's own window (actions installed, as ``meshdesk`` opens it) on a kubeconfig's context."""
    from meshdesk.ui.app import make_window

    def new_window(kubeconfig: str, namespaces: list[str]) -> MainWindow:
        return make_window(argparse.Namespace(demo=False, kubeconfig=kubeconfig, context=CONTEXT,
                                              namespace=namespaces, snapshot=None, ))

    yield from open_windows(qtbot, new_window)


def no_traffic(qtbot: Any, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.empty and w.empty.mode == "no-traffic"
                    and w.inventory is not None, timeout=20000)


@pytest.mark.ui
@pytest.mark.prometheus
@pytest.mark.shared
def test_a_namespace_outside_the_mesh_is_told_to_join_it_before_traffic_is_sent(
        kube_emulator, shared_dir, prometheus_server, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = app_window(cluster(kube_emulator, shared_dir, tmp_path, prometheus_server.url), ["plain"])
    no_traffic(qtbot, w)
    text = w.empty.text.text()
    assert "plain is not in the mesh" in text and "Istio records none of its traffic" in text
    commands = [c for c in w.empty.command.toPlainText().splitlines() if not c.startswith("#")]
    assert commands[:2] == ["kubectl label namespace plain istio-injection=enabled",
                            "kubectl rollout restart -n plain deployment/web-v1"], "label and restart come first"
    assert commands[2].startswith("kubectl apply -n plain -f ") and "web.plain.svc.cluster.local:8080/" in commands[3]
    assert text.index("not in the mesh") < text.index("Run, for example")
    # every command line is shown whole, not scrolled out of sight, in a window of the usual size (a first start
    # fits the window to the screen: the offscreen platform's is 800x600, where the lines wrap past ten and scroll)
    w.resize(1280, 800)
    box = w.empty.command
    qtbot.waitUntil(lambda: box.verticalScrollBar().maximum() == 0 and box.isVisibleTo(w), timeout=5000)
    # the way to do it from here: the action that labels the namespace, with its restart list
    button = w.empty.injection_button
    assert button.isVisibleTo(w) and button.text() == "Enable sidecar injection in plain…"
    button.click()
    qtbot.waitUntil(lambda: w.actions_controller.dialog is not None, timeout=5000)
    dialog = w.actions_controller.dialog
    assert dialog.form.title == "Enable sidecar injection" and "web-v1 (Deployment)" in dialog.form.restart_label.text()
    dialog.close()
    # the summary says the same: not in the mesh, and how to put it there
    w.panel.show_selection([])
    qtbot.waitUntil(lambda: "Sidecar injection" in w.panel.text(), timeout=5000)
    panel = w.panel.text()
    assert "not enabled: plain is not in the mesh" in panel
    assert "kubectl label namespace plain istio-injection=enabled" in panel


@pytest.mark.ui
@pytest.mark.prometheus
@pytest.mark.shared
def test_pods_started_before_injection_are_told_to_restart_and_opt_outs_are_kept_apart(
        kube_emulator, shared_dir, prometheus_server, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from meshdesk.ui.lists import WORKLOADS, MeshLists

    w = app_window(cluster(kube_emulator, shared_dir, tmp_path, prometheus_server.url), ["late"])
    no_traffic(qtbot, w)
    text = w.empty.text.text()
    assert "In late, orders-v1 started before sidecar injection was enabled" in text
    assert "until then it reports no traffic" in text and "legacy-v1 started" not in text
    assert "not in the mesh" not in text and not w.empty.injection_button.isVisibleTo(w)
    commands = w.empty.command.toPlainText().splitlines()
    assert "kubectl rollout restart -n late deployment/orders-v1" in commands
    assert commands.index("kubectl rollout restart -n late deployment/orders-v1") < \
        next(i for i, c in enumerate(commands) if c.startswith("kubectl exec deploy/curl"))
    # the summary names them apart: restart those, leave the one that opts out
    w.panel.show_selection([])
    qtbot.waitUntil(lambda: "Missing sidecars" in w.panel.text(), timeout=5000)
    panel = w.panel.text()
    assert "orders-v1: started before injection was enabled: restart it" in panel
    assert "kubectl rollout restart -n late deployment/orders-v1" in panel
    assert 'Opted out\nlegacy-v1 (sidecar.istio.io/inject: "false")' in panel
    assert "legacy-v1" not in panel[panel.index("Missing sidecars"):panel.index("Opted out")]
    assert "Sidecar injection\nenabled" in panel
    # the app's and the workload's own panels say what gets it its sidecar
    w.empty.idle_button.click()
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.view and w.graph is not None
                    and any(n.workload == "orders-v1" for n in w.graph.nodes.values()), timeout=15000)
    orders = next(n for n in w.graph.nodes.values() if n.workload == "orders-v1" and n.node_type == NODE_APP)
    w.view.select([orders.id])
    qtbot.waitUntil(lambda: w.panel.kind == "app", timeout=5000)
    assert "orders-v1 (v1): 1/1 pods ready, no sidecar: restart it to get one" in w.panel.text()
    w.toolbar.choose(graph_type="workload")
    qtbot.waitUntil(lambda: w.graph is not None and w.graph.request.graphType == "workload"
                    and any(n.node_type == NODE_WORKLOAD for n in w.graph.nodes.values()), timeout=15000)
    orders = next(n for n in w.graph.nodes.values() if n.workload == "orders-v1" and n.node_type == NODE_WORKLOAD)
    w.view.select([orders.id])
    qtbot.waitUntil(lambda: w.panel.kind == "workload", timeout=5000)
    assert "missing: started before injection was enabled; restart to get the sidecar (Actions: Restart " \
        "orders-v1…, or kubectl rollout restart -n late deployment/orders-v1)" in w.panel.text()
    legacy = next(n for n in w.graph.nodes.values() if n.workload == "legacy-v1" and n.node_type == NODE_WORKLOAD)
    w.view.select([legacy.id])
    qtbot.waitUntil(lambda: "legacy-v1" in w.panel.title.text(), timeout=5000)
    assert 'none: it opts out (sidecar.istio.io/inject: "false")' in w.panel.text()
    # and the workloads list
    lists = w.findChild(MeshLists)
    qtbot.waitUntil(lambda: lists is not None and len(lists.pages[WORKLOADS].model.rows) == 2, timeout=5000)
    sidecar = {r.name: r.sidecar for r in lists.pages[WORKLOADS].model.rows}
    assert sidecar == {"orders-v1": "missing: restart", "legacy-v1": "opted out"}  # as the panel says


@pytest.mark.ui
@pytest.mark.prometheus
@pytest.mark.shared
def test_the_request_loop_calls_an_http_service_with_workloads(
        kube_emulator, shared_dir, prometheus_server, qtbot, app_window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = app_window(cluster(kube_emulator, shared_dir, tmp_path, prometheus_server.url), ["data"])
    no_traffic(qtbot, w)
    command = w.empty.command.toPlainText()
    assert "curl -s http://web.data.svc.cluster.local:8080/;" in command
    assert "aaa-external" not in command and "archive-db" not in command
    assert "in the mesh" not in w.empty.text.text()  # injection on and every pod has its sidecar
    # both lines, each wrapped in two at the box's width, are shown whole: the request loop was cut to half a
    # line under a scroll bar (the box counted a line not yet painted as one, however long)
    box = w.empty.command
    assert box.isVisibleTo(w) and box.document().lineCount() > 2
    assert box.verticalScrollBar().maximum() == 0


def _inventory(*services: Service) -> Inventory:
    return Inventory(namespaces=[Namespace("data", {"istio-injection": "enabled"})],
                     workloads=[workload("db-v1", "data", "db"), workload("web-v1", "data", "web")],
                     services=list(services))


def test_the_request_loop_prefers_a_port_that_says_http_and_avoids_tls_ports() -> None:
    web = Service("web", "data", ports=[ServicePort("", 443), ServicePort("metrics", 9090),
                                         ServicePort("api", 8000, app_protocol="http")], selector={"app": "web"})
    assert "web.data.svc.cluster.local:8000/" in traffic_command(_inventory(web), ["data"])
    plain = Service("web", "data", ports=[ServicePort("", 443), ServicePort("", 8080)], selector={"app": "web"})
    assert "web.data.svc.cluster.local:8080/" in traffic_command(_inventory(plain), ["data"])


def test_a_port_the_cluster_gave_as_no_number_is_not_offered_to_call(kube_emulator: KubeEmulator) -> None:
    """A Service whose port the API server served as a word (``port: "http"``, a broken controller's): the
    no-traffic advice told the user to run ``curl http://web.data.svc.cluster.local:0/``."""
    from meshdesk.sources.cluster import ClusterSource

    kube_emulator.add_namespace("data", {"istio-injection": "enabled"})
    kube_emulator.add(deployment("web-v1", "data", "web"))
    kube_emulator.add_raw("services", "data", {"apiVersion": "v1", "kind": "Service",
                                               "metadata": {"name": "web", "namespace": "data", "uid": "web-uid"},
                                               "spec": {"selector": {"app": "web"},
                                                        "ports": [{"name": "http", "port": "http"}]}})
    kube_emulator.run_workloads("data")
    source = ClusterSource(kube_emulator.api_client(), context="emu")
    try:
        inv = source.read_mesh_inventory(["data"])
    finally:
        source.close()
    assert [s.name for s in inv.services if s.namespace == "data"] == ["web"]
    advice = no_traffic_advice(inv, ["data"])
    assert ":0/" not in "\n".join(advice.lines()) and advice.traffic == ""
    assert "No Service in data has an HTTP port with workloads behind it" in advice.traffic_sentence()


def test_with_no_http_service_to_call_the_advice_says_what_to_do_without_a_url() -> None:
    db = Service("db", "data", ports=[ServicePort("tcp-postgres", 5432)], selector={"app": "db"})
    tls = Service("web", "data", ports=[ServicePort("https", 443)], selector={"app": "web"})
    advice = no_traffic_advice(_inventory(db, tls), ["data"])
    assert advice.traffic == "" and advice.script() == []
    assert "No Service in data has an HTTP port with workloads behind it" in advice.traffic_sentence()
    assert "http://" not in "\n".join(advice.lines())
    unknown = no_traffic_advice(None, ["data"])  # no inventory: nothing to name, nothing claimed
    assert unknown.script() == [] and unknown.lines() == [
        "To generate traffic, send requests to one of the services of data from a client in the mesh."]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "meshdesk", "graph", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.mark.prometheus
@pytest.mark.shared
def test_the_cli_says_on_stderr_how_to_get_traffic_and_keeps_its_output_clean(
        kube_emulator, shared_dir, prometheus_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = cluster(kube_emulator, shared_dir, tmp_path, prometheus_server.url)
    table = _cli("--kubeconfig", config, "--context", CONTEXT, "-n", "plain")
    assert table.returncode == 0, table.stderr
    assert table.stdout == ""  # no rows, no header: `| wc -l` counts 0
    err = table.stderr.splitlines()
    assert err[0] == "meshdesk graph: no traffic in the requested window"
    assert err[1].startswith("meshdesk graph: plain is not in the mesh")
    assert err[2:4] == ["  kubectl label namespace plain istio-injection=enabled",
                        "  kubectl rollout restart -n plain deployment/web-v1"]
    assert any(line.startswith("  kubectl exec deploy/curl -n plain") for line in err)
    for fmt in ("kiali", "json"):
        out = _cli("--kubeconfig", config, "--context", CONTEXT, "-n", "late", "-o", fmt)
        assert out.returncode == 0, out.stderr
        json.loads(out.stdout)  # the machine format alone
        assert "In late, orders-v1 started before sidecar injection was enabled" in out.stderr
        assert "  kubectl rollout restart -n late deployment/orders-v1" in out.stderr.splitlines()
    # a namespace in the mesh: only how to send requests
    data = _cli("--kubeconfig", config, "--context", CONTEXT, "-n", "data")
    assert "in the mesh" not in data.stderr and "restart" not in data.stderr
    assert data.stderr.splitlines()[:2] == ["meshdesk graph: no traffic in the requested window",
                                            "meshdesk graph: To generate traffic, run for example:"]


def test_a_namespace_whose_labels_could_not_be_read_is_not_said_to_lack_them() -> None:
    """Reading the namespace object was forbidden (it stands as a bare Namespace): it may carry
    istio.io/rev or istio-injection, so no "not in the mesh", no label command (which would take
    injection from a revision); its workloads without a sidecar may need a restart, said as possible."""
    def bare(name: str) -> Workload:
        pod = Pod(f"{name}-1", "shop", phase="Running", containers=[Container(name)], owner_kind="Deployment",
                  owner_name=name)
        return Workload(name, "shop", kind="Deployment", pods=[pod])

    inv = Inventory(namespaces=[Namespace("shop")], workloads=[bare("web")],
                    hidden={"shop/namespace": "forbidden: namespaces \"shop\" is forbidden"})
    advice = no_traffic_advice(inv, ["shop"])
    text = "\n".join(advice.lines())
    assert "not in the mesh" not in text and "istio-injection=enabled" not in text and "kubectl label" not in text
    assert advice.lines()[:2] == [
        "In shop, web runs without a sidecar and so reports no traffic. shop's labels could not be read: if it "
        "is labelled for sidecar injection, restart it to get one (injection changes new pods only).",
        "  kubectl rollout restart -n shop deployment/web"]
    assert advice.script()[:2] == ["# restart shop's workloads that have no sidecar",
                                   "kubectl rollout restart -n shop deployment/web"]
    inv.workloads.append(bare("api"))
    assert "In shop, api and web run without a sidecar and so report no traffic." in no_traffic_advice(inv, ["shop"]).lines()[0]
    # the same namespace read, without a label: it is not in the mesh
    del inv.hidden["shop/namespace"]
    assert "shop is not in the mesh: it has no istio-injection=enabled" in no_traffic_advice(inv, ["shop"]).lines()[0]
    # nor does the namespace's summary say injection is off
    from meshdesk.ui.panels import _sidecar_rows

    inv.hidden["shop/namespace"] = "forbidden"
    rows = dict(_sidecar_rows(inv, "shop", inv.workloads))
    assert rows["Sidecar injection"] == "unknown (the namespace's labels could not be read)"
    assert rows["Missing sidecars"] == "web, api"  # without a sidecar, no restart asserted


def test_services_or_pods_hidden_by_rbac_are_not_said_to_be_missing() -> None:
    """QA: with the right to list services (or pods) of the namespace missing, ``meshdesk graph`` and the
    empty view said "No Service in shop has an HTTP port with workloads behind it": what could not be
    read is not known to be missing."""
    for plural in ("services", "pods"):
        inv = Inventory(namespaces=[Namespace("shop", labels={"istio-injection": "enabled"})],
                        hidden={f"shop/{plural}": "forbidden"})
        advice = no_traffic_advice(inv, ["shop"])
        assert advice.lines() == [
            "To generate traffic, send requests to one of the services of shop from a client in the mesh."], plural
    seen = no_traffic_advice(Inventory(namespaces=[Namespace("shop", labels={"istio-injection": "enabled"})]), ["shop"])
    assert seen.traffic_sentence().startswith("No Service in shop has an HTTP port")


def test_a_namespace_the_cluster_does_not_have_gets_no_advice() -> None:
    """QA: ``meshdesk graph -n typo`` warned "namespace typo does not exist", then advised "No Service in
    typo has an HTTP port with workloads behind it..." (and so did the empty view, under "There is no
    namespace typo"): a namespace that is not there has no Service to lack."""
    shop = Namespace("shop", labels={"istio-injection": "enabled"})
    inv = Inventory(namespaces=[shop], cluster_namespaces=["default", "shop"])
    gone = no_traffic_advice(inv, ["typo"])
    assert gone.lines() == [] and gone.script() == [] and gone.traffic_sentence() == ""
    mixed = no_traffic_advice(inv, ["typo", "shop"])
    assert mixed.namespaces == ["shop"] and "typo" not in "\n".join(mixed.lines())
    assert mixed.lines()[0].startswith("No Service in shop has an HTTP port")
    # where the cluster's namespaces could not be listed, nothing is assumed missing
    unknown = no_traffic_advice(Inventory(namespaces=[shop]), ["typo"])
    assert unknown.traffic_sentence().startswith("No Service in typo")
