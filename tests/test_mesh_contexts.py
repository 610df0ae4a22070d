"""The Mesh view and ``meshdesk mesh`` over several live clusters, each cluster read through its own context
(two or three Kubernetes API emulators): every cluster's control planes, its own mesh config (trust domain,
mesh ID, network), its own revision tags, and which primary manages a remote cluster decided as Kiali decides
it. ``meshdesk mesh`` is run as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.inventory import Inventory
from tests.kube_emulator import KubeEmulator
from tests.test_mesh_clusters import CRDS, _app, _deployment, _kubeconfig

ROOT = Path(__file__).resolve().parent.parent


def _tag(tag: str, revision: str) -> dict[str, Any]:
    """A revision tag's webhook, as ``istioctl tag set <tag> --revision <revision>`` makes it."""
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": f"istio-revision-tag-{tag}",
                         "labels": {"istio.io/tag": tag, "istio.io/rev": revision or "default"}},
            "webhooks": []}


def _mesh_config(emu: KubeEmulator, text: str, name: str = "istio") -> None:
    emu.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "istio-system"},
             "data": {"mesh": text}}, "istio-system")


def _istiod(emu: KubeEmulator, revision: str, env: dict[str, str]) -> None:
    labels = {"app": "istiod", "istio.io/rev": revision or "default"}
    emu.add(_deployment(f"istiod-{revision}" if revision else "istiod", "istio-system", labels, env))


def _primary(emu: KubeEmulator, shared_dir: Path) -> None:
    """east: a primary (``EXTERNAL_ISTIOD=true``) running istiod and istiod-canary, its tag ``prod`` pointing at
    canary, its own mesh config and network; ``shop`` on the default revision."""
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("istio-system", {"topology.istio.io/network": "net-east"})
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    for rev in ("", "canary"):
        _istiod(emu, rev, {"CLUSTER_ID": "east", "EXTERNAL_ISTIOD": "true"})
        _mesh_config(emu, "trustDomain: east.example\ndefaultConfig:\n  meshId: mesh1\n",
                     "istio-canary" if rev else "istio")
    emu.add(_tag("prod", "canary"))
    emu.add(_app("web-v1"))
    emu.run_workloads("istio-system")
    emu.run_workloads("shop")


def _remote(emu: KubeEmulator, shared_dir: Path, managed_by: str | None) -> None:
    """remote-1: no istiod, its own ``istio`` ConfigMap and network (as Istio's remote profile installs them),
    its own tag ``prod`` pointing at the default revision, ``shop`` labelled ``istio.io/rev=prod``."""
    emu.load_crds(shared_dir / CRDS)
    ns = emu.add_namespace("istio-system", {"topology.istio.io/cluster": "remote-1",
                                            "topology.istio.io/network": "net-remote"})
    if managed_by is not None:
        ns["metadata"]["annotations"] = {"topology.istio.io/controlPlaneClusters": managed_by}
    emu.add_namespace("shop", {"istio.io/rev": "prod"})
    _mesh_config(emu, "trustDomain: remote.example\ndefaultConfig:\n  meshId: mesh1\n")
    emu.add(_tag("prod", ""))
    emu.add(_app("cart-v1"))
    emu.run_workloads("shop")


@pytest.fixture
def east(shared_dir: Path) -> Iterator[KubeEmulator]:
    with KubeEmulator() as emu:
        _primary(emu, shared_dir)
        yield emu


@pytest.fixture
def remote(shared_dir: Path) -> Iterator[KubeEmulator]:
    with KubeEmulator() as emu:
        _remote(emu, shared_dir, "*")
        yield emu


def _mesh(*args: str, config_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MESHDESK_CONFIG_DIR": str(config_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "meshdesk", "mesh", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=env)


def _section(text: str, cluster: str) -> str:
    """The lines of ``meshdesk mesh``'s text about one cluster."""
    part = text.split(f"Cluster {cluster}\n", 1)[1]
    return part.split("\nCluster ", 1)[0]


@pytest.mark.shared
def test_meshdesk_mesh_reads_every_context_given_each_with_its_own_config_and_tags(
        east: KubeEmulator, remote: KubeEmulator, tmp_path: Path) -> None:
    """``meshdesk mesh --context east --context remote`` read east alone (its second --context refused); the
    remote's shop is on its own tag prod (the default revision), not east's (canary); each cluster's trust
    domain, mesh ID and network are its own."""
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, remote=remote)
    done = _mesh("--kubeconfig", kubeconfig, "--context", "east", "--context", "remote", config_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "could not be read" not in done.stderr
    east_part, remote_part = _section(done.stdout, "east"), _section(done.stdout, "remote-1")
    assert east_part.startswith("  mesh config: trust domain east.example · mesh ID mesh1 · network net-east\n")
    assert remote_part.startswith("  mesh config: trust domain remote.example · mesh ID mesh1 · network net-remote\n")
    assert "  istiod (cluster east) -> namespace shop  revision default" in remote_part
    assert "istiod-canary (cluster east) ->" not in remote_part
    assert "istiod" in east_part and "-> namespace shop  revision default" in east_part

    # -o json: the same nodes, each cluster box with its own mesh config, the remote's shop under east's istiod
    done = _mesh("--kubeconfig", kubeconfig, "--context", "east", "--context", "remote", "-o", "json",
                 config_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    nodes = {n["id"]: n for n in printed["nodes"]}
    assert dict(map(tuple, nodes["cluster:remote-1"]["rows"]))["Trust domain"] == "remote.example"
    assert dict(map(tuple, nodes["cluster:east"]["rows"]))["Network"] == "net-east"
    assert {"source": "istiod:east:", "target": "namespace:remote-1:shop"} in printed["edges"]
    assert "istiod:remote-1:?" not in nodes  # (managed: not a red "not found")

    # the remote stops answering: named, east shown, the run no failure (as `meshdesk graph` says it)
    remote.fail(503)
    done = _mesh("--kubeconfig", kubeconfig, "--context", "east", "--context", "remote", config_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "meshdesk mesh: warning: cluster kind-remote of the mesh could not be read (context remote: " \
        in done.stderr
    assert "Cluster east\n" in done.stdout and "Cluster kind-remote\n  ? istiod  cluster not read" in done.stdout
    # neither answers: exit 1, one line
    east.fail(503)
    done = _mesh("--kubeconfig", kubeconfig, "--context", "east", "--context", "remote", config_dir=tmp_path)
    assert done.returncode == 1 and not done.stdout
    assert done.stderr.startswith("meshdesk mesh: ") and "Traceback" not in done.stderr


@pytest.mark.shared
def test_meshdesk_mesh_reads_the_contexts_linked_in_settings(
        east: KubeEmulator, remote: KubeEmulator, tmp_path: Path) -> None:
    """Without a second --context, the contexts linked to the first in Settings are read, as `meshdesk graph`
    and the app read them."""
    from meshdesk.store.settings import load_settings

    kubeconfig = _kubeconfig(tmp_path / "config", east=east, remote=remote)
    config_dir = tmp_path / "settings"
    os.environ["MESHDESK_CONFIG_DIR"] = str(config_dir)  # (this process's Settings, as the command's)
    try:
        settings = load_settings()
        saved = settings.context_settings("east")
        saved.mesh_contexts = (("remote", ""),)
        settings.set_context_settings("east", saved)
        settings.save()
    finally:
        del os.environ["MESHDESK_CONFIG_DIR"]
    done = _mesh("--kubeconfig", kubeconfig, "--context", "east", config_dir=config_dir)
    assert done.returncode == 0, done.stderr
    assert "  istiod (cluster east) -> namespace shop  revision default" in _section(done.stdout, "remote-1")


@pytest.mark.shared
def test_a_primarys_several_control_planes_are_said_when_a_remote_is_read_first(
        east: KubeEmulator, remote: KubeEmulator, tmp_path: Path) -> None:
    """``meshdesk mesh --context remote --context east``: east runs istiod and istiod-canary, which
    ``--context east --context remote`` said under the mesh, and this order said nothing of (only the first
    context's cluster was looked at)."""
    kubeconfig = _kubeconfig(tmp_path / "config", east=east, remote=remote)
    done = _mesh("--kubeconfig", kubeconfig, "--context", "remote", "--context", "east", config_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 control planes run in cluster east (a canary upgrade?): each namespace is judged by its own " \
        "revision's mesh config.\n" in done.stdout
    assert "in cluster remote-1 (a canary" not in done.stdout


def _read(first: tuple[str, KubeEmulator], *linked: tuple[str, KubeEmulator]) -> Inventory:
    """The first cluster's inventory with the linked ones' merged in, each read through its own API server and
    named as given, as the app reads a context's linked contexts."""
    from meshdesk.sources.inventory import read_inventory
    from meshdesk.sources.mesh_clusters import LinkedCluster, merge_linked

    own = read_inventory(first[1].api_client(), None, cluster=first[0])
    return merge_linked(own, [(LinkedCluster(name, emu.api_client, given_name=name),
                               read_inventory(emu.api_client(), None, cluster=name)) for name, emu in linked])


@pytest.mark.shared
def test_a_star_is_narrowed_to_the_primaries_that_manage_remotes(
        east: KubeEmulator, remote: KubeEmulator, tmp_path: Path, shared_dir: Path) -> None:
    """The remote's istio-system says ``*``: west, a primary of its own whose istiod does not manage remote
    clusters (no EXTERNAL_ISTIOD), was taken as managing it too, and drew an edge to its shop."""
    from meshdesk.mesh.mesh_map import ISTIOD, build_mesh_map

    with KubeEmulator() as west:
        west.load_crds(shared_dir / CRDS)
        west.add_namespace("istio-system")
        _istiod(west, "", {"CLUSTER_ID": "west"})
        west.run_workloads("istio-system")
        inv = _read(("east", east), ("west", west), ("remote-1", remote))
    assert inv.managing_clusters("remote-1") == ["east"]
    mesh = build_mesh_map(inv)
    west_istiod = next(n for n in mesh.of_kind(ISTIOD) if n.cluster == "west")
    assert [t.id for t in mesh.targets(west_istiod.id)] == []
    assert "remote-1" not in dict(west_istiod.rows).get("Manages", "")


@pytest.mark.shared
def test_a_remote_without_the_annotation_is_managed_by_the_external_istiod_naming_it(
        tmp_path: Path, shared_dir: Path) -> None:
    """An external control plane: istiod runs in cluster ext with ``CLUSTER_ID=remote-1``, and remote-1's
    istio-system has no controlPlaneClusters annotation (Istio's external control plane install sets none).
    The remote was drawn with a red "istiod not found" and its shop orange, and the Istio status was red."""
    from meshdesk.mesh.istio_status import istio_status
    from meshdesk.mesh.mesh_map import GREEN, build_mesh_map

    with KubeEmulator() as ext, KubeEmulator() as remote:
        _remote(remote, shared_dir, None)
        ext.load_crds(shared_dir / CRDS)
        ext.add_namespace("external-istiod")
        ext.add(_deployment("istiod", "external-istiod", {"app": "istiod", "istio.io/rev": "default"},
                            {"CLUSTER_ID": "remote-1", "EXTERNAL_ISTIOD": "true"}))
        ext.run_workloads("external-istiod")
        inv = _read(("ext", ext), ("remote-1", remote))
    assert inv.control_plane_clusters.get("remote-1") is None
    assert inv.managing_clusters("remote-1") == ["ext"]
    mesh = build_mesh_map(inv)
    assert "istiod:remote-1:?" not in mesh.nodes
    shop = mesh.nodes["namespace:remote-1:shop"]
    assert shop.health == GREEN
    assert [s.id for s in mesh.sources(shop.id)] == ["istiod:ext:"]
    assert dict(mesh.nodes["istiod:ext:"].rows)["Manages"] == (
        "the remote remote-1 (an external control plane: its CLUSTER_ID), not its own cluster")
    status = istio_status(inv)
    assert status is not None and status.level == "ok"


@pytest.mark.ui
@pytest.mark.shared
def test_the_mesh_view_shows_each_clusters_own_mesh_config_and_resolves_its_own_tags(
        east: KubeEmulator, remote: KubeEmulator, qtbot: Any) -> None:
    """The Mesh view said of another cluster's istiod "mesh config read for the shown context's cluster only",
    and placed the remote's shop (``istio.io/rev=prod``, its tag prod pointing at the default revision) under
    east's istiod-canary, by east's tag of the same name."""
    from meshdesk.mesh.mesh_map import build_mesh_map
    from meshdesk.ui.mesh_view import MeshView

    # east shown, remote-1 linked
    inv = _read(("east", east), ("remote-1", remote))
    view = MeshView()
    qtbot.addWidget(view)
    view.resize(1400, 700)
    view.show()
    view.set_map(build_mesh_map(inv))
    canvas = view.canvas
    assert set(canvas.box_items) == {"east", "remote-1"}
    assert canvas.box_items["remote-1"].toolTip() == (
        "Cluster remote-1\nMesh config: trust domain remote.example · mesh ID mesh1 · network net-remote")
    assert "network net-east" in canvas.box_items["east"].toolTip()

    # the remote's shop: under east's default istiod, by the remote's own tag
    shop = canvas.items_by_id["namespace:remote-1:shop"]
    shop.setSelected(True)
    details = view.details.toPlainText()
    assert "prod -> revision default" in details and "istio-system/istiod in cluster east" in details
    assert [s.id for s in view.mesh.sources("namespace:remote-1:shop")] == ["istiod:east:"]

    # remote-1 shown, east linked: east's istiod-canary has its own tag prod and its own mesh config, not
    # "read for the shown context's cluster only"
    view.set_map(build_mesh_map(_read(("remote-1", remote), ("east", east))))
    canvas.scene().clearSelection()
    canvas.items_by_id["istiod:east:canary"].setSelected(True)
    details = view.details.toPlainText()
    assert "Revision tags\nprod\n" in details and "Trust domain\neast.example" in details
    assert "shown context's cluster only" not in details
    rows = dict(view.mesh.nodes["istiod:east:canary"].rows)
    assert rows["Mesh config: Source"] == "ConfigMap istio-system/istio-canary (of revision canary; the other " \
        "revision running: default)"
