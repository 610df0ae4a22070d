"""``meshdesk mesh``: the mesh's infrastructure as text, as the Mesh view draws it (Kiali's Mesh page): each
istiod revision with the namespaces it takes, read from the Kubernetes API emulator over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_mesh_revisions import CANARY
from tests.test_mesh_settings import CRDS, _configmap, _deployment, _istiod

CONTEXT = "prod-east"


def cluster(emu: KubeEmulator, shared_dir: Path, *, canary: bool = True, istiod_ready: bool = True) -> KubeEmulator:
    """istiod (default revision) and, with ``canary``, istiod-canary in istio-system; ``shop`` on the
    default revision (istio-injection), ``legacy`` on canary (istio.io/rev), ``plain`` in no mesh."""
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add_namespace("legacy", {"istio.io/rev": "canary"})
    emu.add_namespace("plain")
    emu.add(_istiod())
    emu.add(_configmap("trustDomain: cluster.local\n"))
    if canary:
        emu.add(_istiod(revision="canary"))
        emu.add(_configmap(CANARY, name="istio-canary"))
    for ns in ("shop", "legacy", "plain"):
        emu.add(_deployment("web", ns, {"app": "web"}))
    emu.run_workloads("istio-system", ready=istiod_ready)
    for ns in ("shop", "legacy", "plain"):
        emu.run_workloads(ns)
    return emu


@pytest.mark.shared
def test_meshdesk_mesh_prints_each_control_plane_with_its_namespaces(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.cli import main

    emu = cluster(kube_emulator, shared_dir)
    config = str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))
    assert main(["mesh", "--kubeconfig", config, "--context", CONTEXT]) == 0
    out = capsys.readouterr().out
    default, canary = out.split("istiod-canary", 1)
    assert "istiod  1.24.2 · revision default  Healthy" in default
    assert "-> namespace shop  revision default" in default and "legacy" not in default
    assert "-> namespace legacy  revision canary" in canary and "shop" not in canary
    assert "plain" not in out


@pytest.mark.shared
def test_namespaces_not_read_are_said_not_left_out_silently(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With -n shop, legacy's labels are not read: whether canary takes it is not known, and said so."""
    from meshdesk.cli import main

    emu = cluster(kube_emulator, shared_dir)
    config = str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))
    assert main(["mesh", "--kubeconfig", config, "--context", CONTEXT, "-n", "shop"]) == 0
    out = capsys.readouterr().out
    assert "-> namespace shop" in out and "-> namespace legacy" not in out
    assert "The labels of 5 other namespaces were not read (default, istio-system, kube-system, legacy, plain): " \
        "whether they are in the mesh, and on which revision, is not known." in out


def test_the_demo_clusters_mesh_config_names_the_network_its_istio_system_is_labelled_with(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``meshdesk mesh --demo`` said the demo cluster's trust domain and mesh ID but no network, though its
    istio-system carries ``topology.istio.io/network: demo-net``, from which a live cluster's network is read."""
    from meshdesk.cli import main

    assert main(["mesh", "--demo"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        "Cluster demo", "  mesh config: trust domain cluster.local · mesh ID cluster.local (its trust domain) · "
                        "network demo-net"]
    assert main(["mesh", "--demo", "-o", "json"]) == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    istiod = next(n for n in nodes if n["kind"] == "istiod")
    assert ["Network", "demo-net"] in istiod["rows"]
