"""Istio's own components at a glance, as Kiali's masthead shows them: the status bar's "Istio: healthy"
(or "1 component unhealthy"), red when a core component (istiod) is down or missing, orange when a
gateway or an addon is; its popup lists each component with its ready replicas and state. Read from
the Kubernetes API emulator over HTTP, shown by real widgets offscreen, and by ``meshdesk inventory``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.istio_status import DANGER, WARNING, istio_status
from meshdesk.sources.inventory import read_inventory
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
CONTEXT = "prod-east"


def _deployment(name: str, ns: str, labels: dict[str, str], image: str, replicas: int = 1,
                container: str = "app") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": container, "image": image}]}}}}


def _mesh(emu: KubeEmulator, shared_dir: Path, *, istiod_ready: bool, gateway_ready: bool = True) -> KubeEmulator:
    """istiod in istio-system (one replica), an ingress gateway in istio-ingress, no egress gateway, and
    shop's frontend in the mesh."""
    emu.load_crds(shared_dir / CRDS)
    for ns, labels in (("istio-system", {}), ("istio-ingress", {}), ("shop", {"istio-injection": "enabled"})):
        emu.add_namespace(ns, labels)
    emu.add(_deployment("istiod", "istio-system", {"app": "istiod", "istio.io/rev": "default"},
                        "docker.io/istio/pilot:1.24.2", container="discovery"))
    emu.add(_deployment("istio-ingressgateway", "istio-ingress",
                        {"app": "istio-ingressgateway", "istio": "ingressgateway",
                         "operator.istio.io/component": "IngressGateways"},
                        "docker.io/istio/proxyv2:1.24.2", container="istio-proxy"))
    emu.add(_deployment("frontend", "shop", {"app": "frontend"}, "example/frontend:1"))
    emu.run_workloads("istio-system", ready=istiod_ready)
    emu.run_workloads("istio-ingress", ready=gateway_ready)
    emu.run_workloads("shop", proxy_image="docker.io/istio/proxyv2:1.24.2")
    return emu


@pytest.mark.shared
def test_an_istiod_not_ready_is_red_and_a_missing_egress_gateway_is_only_said(
        kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    inv = read_inventory(_mesh(kube_emulator, shared_dir, istiod_ready=False).api_client(), ["shop"], cluster="east")
    status = istio_status(inv)
    assert status is not None
    rows = {c.title: (c.replicas, c.state, c.core) for c in status.components}
    assert rows == {"istio-system/istiod": ("0/1", "Unhealthy", True),
                    "istio-ingress/istio-ingressgateway": ("1/1", "Healthy", False),
                    "istio-egressgateway": ("", "Not found", False)}
    # istiod is core: red; the egress gateway Istio's default profile does not install is no trouble
    assert status.level == DANGER
    assert status.label == "1 component unhealthy"
    assert [c.name for c in status.trouble] == ["istiod"]


@pytest.mark.shared
def test_a_gateway_not_ready_is_orange(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    emu = _mesh(kube_emulator, shared_dir, istiod_ready=True, gateway_ready=False)
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    status = istio_status(inv)
    assert status is not None and status.level == WARNING and status.label == "1 component unhealthy"
    assert [(c.title, c.replicas, c.state) for c in status.trouble] == [
        ("istio-ingress/istio-ingressgateway", "0/1", "Unhealthy")]
    # and `meshdesk inventory` lists them too
    from meshdesk.cli import main

    config = str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))
    assert main(["inventory", "--kubeconfig", config, "--context", CONTEXT, "-n", "shop"]) == 0
    out = capsys.readouterr().out
    table = out.split("ISTIO COMPONENT", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert [line.split()[:3] for line in table] == [["istio-system/istiod", "1/1", "Healthy"],
                                                    ["istio-ingress/istio-ingressgateway", "0/1", "!"],
                                                    ["istio-egressgateway", "-", "Not"]]
    assert "! Unhealthy" in table[1]


def test_no_istiod_is_red_and_istiod_pods_not_listed_are_not_known() -> None:
    missing = istio_status(Inventory(control_planes=[]))
    assert missing is not None and missing.level == DANGER and missing.label == "1 component unhealthy"
    assert [(c.name, c.state, c.core) for c in missing.trouble] == [("istiod", "Not found", True)]
    unread = istio_status(Inventory(control_planes=None))
    assert unread is not None and unread.level == "unknown" and unread.label == "not known"
    assert unread.components[0].state == "Not known" and not unread.trouble
    # a cluster without Istio has no Istio status (the window says Istio is not installed)
    assert istio_status(Inventory(istio_found=False, control_planes=[])) is None
