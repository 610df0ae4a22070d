"""A cluster running Istio without its security API (the ``security.istio.io`` CRDs not installed): no
PeerAuthentication can exist there, so the mTLS summary says the API is missing rather than speaking of a
mesh that merely has none; nothing was refused, so the banner says nothing of it. Over the Kubernetes API
emulator, read through a kubeconfig; real widgets offscreen."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from meshdesk.cli import main
from meshdesk.mesh.inventory import Inventory
from meshdesk.ui.lists import COLUMNS, NAMESPACES, MeshLists
from meshdesk.ui.mainwindow import MainWindow
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture
from tests.prom_server import PrometheusServer, Series, binaries_missing, istio_edge
from tests.prom_server import Workload as Pw
from tests.ui_helpers import open_windows

CONTEXT = "no-security"
CRDS = Path("fixtures") / "istio" / "crds" / "crd-all.gen.yaml"
SAID = "no mTLS policy API on this cluster (security.istio.io is not served)"


def _deployment(ns: str, name: str, app: str) -> dict[str, Any]:
    labels = {"app": app, "version": "v1"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": f"example/{name}:1"}]}}}}


@pytest.fixture
def lab(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path) -> str:
    """Istio's CRDs but security.istio.io's, a namespace in the mesh with a workload; a kubeconfig to it."""
    emu = kube_emulator
    for doc in load_docs(shared_dir / CRDS, slim_crds=True):
        if doc.get("kind") == "CustomResourceDefinition" and doc["spec"]["group"] != "security.istio.io":
            emu.add_crd(doc)
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add(_deployment("shop", "cart-v1", "cart"))
    emu.run_workloads()
    return str(emu.write_kubeconfig(tmp_path / "kubeconfig", context=CONTEXT))


def test_the_inventory_command_says_the_policy_api_is_missing(lab: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "--kubeconfig", lab, "-n", "shop"]) == 0
    out = capsys.readouterr().out
    assert "Mesh-wide mTLS     No mTLS policy API on this cluster (security.istio.io is not served)" in out
    assert "Permissive (from the mesh)" not in out
    shop = [line for line in out.splitlines() if line.startswith("shop ")][-1]  # the mTLS table's row
    assert "No policy API" in shop and SAID in shop, shop
    # a snapshot keeps it; one written before it was kept knows nothing of it (the old wording)
    assert main(["inventory", "--kubeconfig", lab, "-n", "shop", "--json"]) == 0
    inv = Inventory.from_json(json.loads(capsys.readouterr().out))
    assert inv.not_served is not None and "PeerAuthentication" in inv.not_served
    assert "VirtualService" not in inv.not_served
    assert not inv.hidden  # nothing refused: nothing to warn of
    old = inv.to_json()
    del old["not_served"]
    assert Inventory.from_json(old).not_served is None


@pytest.fixture
def app_window(qtbot: QtBot) -> Iterator[Callable[..., MainWindow]]:
    from meshdesk.ui.app import make_window

    def new_window(kubeconfig: str, namespaces: list[str]) -> MainWindow:
        return make_window(argparse.Namespace(demo=False, kubeconfig=kubeconfig, context=CONTEXT,
                                              namespace=namespaces, snapshot=None))

    yield from open_windows(qtbot, new_window)


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[str]:
    """A Prometheus holding requests into shop's cart, given to the context's settings (the graph and its
    namespace box come from its traffic)."""
    if (reason := binaries_missing()) is not None:
        pytest.skip(reason)
    from meshdesk.store.settings import load_settings

    srv = PrometheusServer(tmp_path / "prometheus", [Series("istio_requests_total", istio_edge(
        None, Pw("shop", "cart-v1", "cart"), "cart", "shop"), 5.0)])
    srv.start()
    try:
        settings = load_settings()
        cs = settings.context_settings(CONTEXT)
        cs.prometheus_url = srv.url
        cs.refresh_interval = 0
        settings.set_context_settings(CONTEXT, cs)
        settings.save()
        yield srv.url
    finally:
        srv.stop()


def _mtls_cell(lists: MeshLists, namespace: str) -> str:
    page = lists.pages[NAMESPACES]
    col = COLUMNS[NAMESPACES].index("mTLS")
    for r in range(page.proxy.rowCount()):
        if page.proxy.index(r, 0).data() == namespace:
            return str(page.proxy.index(r, col).data())
    return ""


def _window_test(test: Callable[..., None]) -> Callable[..., None]:
    """A main-window test on the lab and its Prometheus (Qt's offscreen note on size hints is not ours)."""
    for mark in (pytest.mark.ui, pytest.mark.prometheus, pytest.mark.usefixtures("prometheus"),
                 pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")):
        test = mark(test)
    return test


def _shop_read(qtbot: QtBot, w: MainWindow) -> MeshLists:
    perf = next(e for e in w.extensions if hasattr(e, "docks"))
    lists: MeshLists = perf.lists
    qtbot.waitUntil(lambda: _mtls_cell(lists, "shop") not in ("", "not shown"), timeout=15000)
    return lists


@_window_test
def test_the_namespaces_page_and_the_status_bar_say_it(
        qtbot: QtBot, lab: str, app_window: Callable[..., MainWindow]) -> None:
    w = app_window(lab, ["shop"])
    lists = _shop_read(qtbot, w)
    assert _mtls_cell(lists, "shop") == "No policy API"
    page = lists.pages[NAMESPACES]
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == "shop")
    tip = str(page.proxy.index(row, COLUMNS[NAMESPACES].index("mTLS")).data(Qt.ItemDataRole.ToolTipRole))
    assert SAID in tip, tip
    # the status bar's lock says it too
    assert w.status_mtls.text() == "mTLS: no policy API (automatic)"
    assert w.status_mtls.toolTip().startswith("No mTLS policy API on this cluster (security.istio.io is not served)")


@_window_test
def test_the_namespace_summary_says_it_and_the_banner_does_not_cry_wolf(
        qtbot: QtBot, lab: str, app_window: Callable[..., MainWindow]) -> None:
    w = app_window(lab, ["shop"])
    _shop_read(qtbot, w)
    qtbot.waitUntil(lambda: "Namespace shop" in w.panel.text(), timeout=15000)
    summary = w.panel.text()
    assert "mTLS\nNo policy API" in summary and SAID in summary, summary
    assert "Permissive (from the mesh)" not in summary
    # no kind was refused: the banner does not say something could not be read
    assert "could not be read" not in w.banner.text() and "security" not in w.banner.text().lower()


def test_of_a_mesh_of_two_clusters_only_the_one_without_the_api_says_so() -> None:
    """Merged with a linked cluster's inventory, what the shown cluster does not serve is its own: the
    other cluster's mTLS is judged as before (what it serves is not kept, so not known)."""
    from meshdesk.mesh.inventory import Namespace
    from meshdesk.mesh.tls_status import mesh_tls_by_cluster

    east = Inventory(cluster="east", namespaces=[Namespace("shop", cluster="east")],
                     not_served=["PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication"])
    west = Inventory(cluster="west", namespaces=[Namespace("shop", cluster="west")], not_served=[])
    merged = east.merged([west])
    assert [(c, t.label) for c, t in mesh_tls_by_cluster(merged)] == [
        ("east", "no policy API (automatic)"), ("west", "automatic")]
