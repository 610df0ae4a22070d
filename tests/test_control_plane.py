"""The control plane as a mesh operator checks it before and after an upgrade: each istiod revision
with its version and ready pods, the versions the proxies run, and the proxies no running istiod is
of (left behind by an upgrade until their pods restart). Read from the emulator over HTTP, carried
by snapshots, shown in the namespace summary and by ``meshdesk inventory``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.inventory import Inventory, Istiod
from meshdesk.mesh.words import control_plane_rows
from meshdesk.sources.inventory import read_inventory
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"


def _deployment(name: str, ns: str, labels: dict[str, str], image: str, replicas: int = 1,
                container: str = "app") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": container, "image": image}]}}}}


@pytest.fixture
def upgrading(kube_emulator: KubeEmulator, shared_dir: Path) -> KubeEmulator:
    """A canary upgrade half done: istiod 1.24.2 (two pods) beside the 1.25.0 revision; shop's proxies
    at 1.24.2, legacy's still at 1.23.1 (never restarted since the last upgrade). istiod's pods are
    left to each test to start."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    for ns, labels in (("istio-system", {}), ("shop", {"istio-injection": "enabled"}),
                       ("legacy", {"istio-injection": "enabled"})):
        emu.add_namespace(ns, labels)
    emu.add(_deployment("istiod", "istio-system", {"app": "istiod", "istio.io/rev": "default"},
                        "docker.io/istio/pilot:1.24.2", replicas=2, container="discovery"))
    emu.add(_deployment("istiod-1-25", "istio-system", {"app": "istiod", "istio.io/rev": "1-25"},
                        "docker.io/istio/pilot:1.25.0-distroless", container="discovery"))
    emu.add(_deployment("frontend", "shop", {"app": "frontend"}, "example/frontend:1"))
    emu.add(_deployment("batch", "legacy", {"app": "batch"}, "example/batch:1"))
    emu.run_workloads("shop", proxy_image="docker.io/istio/proxyv2:1.24.2")
    emu.run_workloads("legacy", proxy_image="docker.io/istio/proxyv2:1.23.1-distroless")
    return emu


def test_each_istiod_revision_and_the_proxies_left_behind_are_told(upgrading: KubeEmulator) -> None:
    upgrading.run_workloads("istio-system")
    inv = read_inventory(upgrading.api_client(), ["shop", "legacy"], cluster="east")
    assert inv.control_planes == [Istiod("istio-system", "", "1.24.2", 2, 2),
                                  Istiod("istio-system", "1-25", "1.25.0-distroless", 1, 1)]
    rows = control_plane_rows(inv)
    # of two revisions, each says which of the selected namespaces it takes
    assert rows[:3] == [("istiod", "1.24.2 in istio-system, 2/2 ready; namespaces: legacy, shop", False),
                        ("istiod 1-25", "1.25.0-distroless in istio-system, 1/1 ready; no selected namespace is on "
                         "it", False),
                        ("Proxies", "1 at 1.23.1, 1 at 1.24.2", False)]
    [(label, text, problem)] = rows[3:]
    assert problem and label == "At 1.23.1"
    assert text.startswith("1 proxy (legacy/batch) run a version no running istiod is of (1.24.2, 1.25.0)")

    # a snapshot keeps them; one written before they were kept says they are not known
    again = Inventory.from_json(json.loads(json.dumps(inv.to_json())))
    assert again.control_planes == inv.control_planes
    older = inv.to_json()
    del older["control_planes"]
    assert control_plane_rows(Inventory.from_json(older))[0] == (
        "istiod", "not known (its pods could not be listed)", False)


def test_an_istiod_with_pods_not_ready_is_a_problem(upgrading: KubeEmulator) -> None:
    upgrading.run_workloads("istio-system", ready=False)
    inv = read_inventory(upgrading.api_client(), ["shop"], cluster="east")
    assert ("istiod", "1.24.2 in istio-system, 0/2 ready; namespaces: shop", True) in control_plane_rows(inv)
    # shop's proxies are of the running 1.24.2: nothing left behind
    assert not any(label.startswith("At ") for label, _t, _p in control_plane_rows(inv))


def test_istiod_pods_that_cannot_be_listed_are_not_known(upgrading: KubeEmulator) -> None:
    upgrading.run_workloads("istio-system")
    upgrading.forbid(resource="pods", namespace="istio-system")
    inv = read_inventory(upgrading.api_client(), ["shop"], cluster="east")
    assert inv.control_planes is None
    rows = control_plane_rows(inv)
    assert rows[0] == ("istiod", "not known (its pods could not be listed)", False)
    assert not any(label.startswith("At ") for label, _t, _p in rows)  # nothing to compare with


def test_the_summary_and_the_inventory_command_show_the_control_plane(
        qtbot, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from meshdesk.cli import main
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.panels import SidePanel

    snap = DemoCluster(clock=lambda: 1_790_000_000.0).snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(build(snap), snap.inventory)
    text = panel.text()
    assert "Control plane\nistiod\n1.24.2 in istio-system, 1/1 ready\nProxies\n" in text
    # Istio being there is what the control plane says: no section of its own that says only "found"
    assert "\nIstio\n" not in text and "\nfound\n" not in text
    # a cluster without Istio's resources is said, in red, and no control plane is listed
    snap.inventory.istio_found = False
    panel.set_data(build(snap), snap.inventory)
    text = panel.text()
    assert "Istio\nnot found: Istio's resources are not served by this cluster" in text
    assert "Control plane" not in text
    assert main(["inventory", "--demo", "-n", "shop"]) == 0
    out = capsys.readouterr().out
    table = out.split("CONTROL PLANE", 1)[1].splitlines()
    assert table[1].split() == ["istiod", "1.24.2", "in", "istio-system,", "1/1", "ready"]
    assert table[2].split()[0] == "Proxies"


def test_istiod_listed_in_istio_system_only_says_the_rest_is_not_known(upgrading: KubeEmulator) -> None:
    """A user who may list pods in istio-system but not cluster-wide: its istiods are shown, and the
    summary says an istiod in another namespace would not be (it said nothing: a control plane in its
    own namespace looked absent, and proxies of it looked left behind)."""
    upgrading.run_workloads("istio-system")
    upgrading.forbid(namespace="", resource="pods")
    inv = read_inventory(upgrading.api_client(), ["shop", "legacy"], cluster="east")
    assert inv.control_planes is not None and len(inv.control_planes) == 2
    rows = control_plane_rows(inv)
    assert ("istiod elsewhere", "not known (its pods could be listed in istio-system only)", False) in rows
    skew = next(text for label, text, _p in rows if label == "At 1.23.1")
    assert "(1.24.2, 1.25.0, of those in istio-system)" in skew
    assert "istiod pods" in " ".join(inv.hidden)


def test_no_istiod_in_istio_system_is_not_none_running_when_the_rest_was_not_listed(
        upgrading: KubeEmulator) -> None:
    upgrading.forbid(namespace="", resource="pods")  # (istio-system's pods are not started)
    inv = read_inventory(upgrading.api_client(), ["shop"], cluster="east")
    assert control_plane_rows(inv)[0] == ("istiod", "none in istio-system; other namespaces' pods could not be listed",
                                          True)
    upgrading.clear_faults()
    assert control_plane_rows(read_inventory(upgrading.api_client(), ["shop"], cluster="east"))[0] == (
        "istiod", "none running", True)
