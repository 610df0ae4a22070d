"""``meshdesk mesh``: the mesh's infrastructure as text, as the Mesh view draws it (Kiali's Mesh page): each
istiod revision with the namespaces it takes, read from the Kubernetes API emulator over HTTP."""

from __future__ import annotations

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
