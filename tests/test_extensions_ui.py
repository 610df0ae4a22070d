"""A Kiali extension's traffic in the app: enabled in Settings for a cluster's context, its nodes and
edges are drawn with Kiali's "E" badge, and a node's details name the extension and link to its UI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from meshdesk.mesh.graph.model import NODE_SERVICE
from meshdesk.ui.mainwindow import MainWindow
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_graph_extensions import SKUPPER, UI, skupper_prometheus_fixture  # noqa: F401 - the fixture
from tests.ui_helpers import open_windows

pytestmark = [
    pytest.mark.ui,
    pytest.mark.prometheus,
    pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$"),
]


@pytest.fixture
def make_window(qtbot: Any) -> Iterator[Callable[..., MainWindow]]:
    def new_window(**kw: Any) -> MainWindow:
        kw.setdefault("backoff_base", 0.05)
        kw.setdefault("backoff_cap", 0.2)
        return MainWindow(**kw)

    yield from open_windows(qtbot, new_window, all_threads=True)


def _service(w: MainWindow, name: str) -> Any:
    assert w.graph is not None
    return next((n for n in w.graph.nodes.values() if n.node_type == NODE_SERVICE and n.service == name), None)


def test_an_extension_enabled_in_settings_is_drawn_badged_and_linked_to_its_ui(
        kube_emulator: KubeEmulator, skupper_prometheus: Any, qtbot: Any, make_window: Any, tmp_path: Any) -> None:
    from meshdesk.store.settings import load_settings
    from meshdesk.ui.settings_dialog import SettingsDialog

    emu = kube_emulator
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": SKUPPER, "namespace": "shop", "annotations": {"extension.kiali.io/ui-url": UI}},
             "spec": {"selector": {"application": "skupper-router"}, "ports": [{"name": "http", "port": 8080}]}})
    config = str(emu.write_kubeconfig(tmp_path / "kubeconfig", context="lab"))
    settings = load_settings()
    cs = settings.context_settings("lab")
    cs.prometheus_url = skupper_prometheus.url
    settings.set_context_settings("lab", cs)
    settings.save()
    w = make_window(contexts=["lab"], context="lab", kubeconfig=config, namespaces=["shop"])
    qtbot.waitUntil(lambda: w.graph is not None and _service(w, "router") is not None, timeout=15000)
    assert _service(w, "db") is None, "no extension is enabled yet: the shop's own traffic only"

    dialog = SettingsDialog(w, contexts=["lab"], current_context="lab", settings=w.settings)
    qtbot.addWidget(dialog)
    dialog.settingsSaved.connect(w._on_settings_saved)  # as the Settings menu entry connects it
    dialog.form().extensions.setText("skupper")
    with qtbot.waitSignal(dialog.settingsSaved):
        dialog.accept()
    qtbot.waitUntil(lambda: w.graph is not None and _service(w, "db") is not None, timeout=15000)
    assert load_settings().context_settings("lab").extensions == (SKUPPER,)

    router, db = _service(w, "router"), _service(w, "db")
    assert any(e.source == router.id and e.target == db.id and e.rate > 0 for e in w.graph.edges.values())
    qtbot.waitUntil(lambda: w.view.node_item(db.id) is not None, timeout=5000)
    for node in (router, db):
        item = w.view.node_item(node.id)
        assert item is not None and "extension" in item.badges
        assert "Extension: skupper" in item.tooltip()
    web = next(n for n in w.graph.nodes.values() if n.workload == "web-v1")
    assert "extension" not in w.view.node_item(web.id).badges

    with qtbot.waitSignal(w.view.selectionChanged, timeout=3000):
        w.view.select([router.id])
    assert "Kiali extension" in w.panel.text()
    assert ("View in skupper UI", UI) in w.panel.links()

    # a snapshot of it keeps the extension's traffic, opened anywhere (the opener's settings enable none)
    saved = tmp_path / "skupper.json"
    assert w.save_snapshot(str(saved))
    w.open_snapshot(str(saved))
    qtbot.waitUntil(lambda: w.context.startswith("snapshot: ") and w.graph is not None
                    and w.graph.request.extensions == (SKUPPER,) and _service(w, "db") is not None, timeout=15000)
    w.switch_context("lab")
    qtbot.waitUntil(lambda: w.context == "lab" and w.graph is not None and _service(w, "db") is not None,
                    timeout=15000)

    # turned off again: the extension's nodes go
    dialog = SettingsDialog(w, contexts=["lab"], current_context="lab", settings=w.settings)
    qtbot.addWidget(dialog)
    dialog.settingsSaved.connect(w._on_settings_saved)
    dialog.form().extensions.setText("")
    with qtbot.waitSignal(dialog.settingsSaved):
        dialog.accept()
    qtbot.waitUntil(lambda: w.graph is not None and _service(w, "db") is None, timeout=15000)
