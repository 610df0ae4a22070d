"""What a user sees on a small or a dark screen: the window, the dialogs and the text fit and can be read."""

from __future__ import annotations

import argparse

from tests.ui_helpers import DEMO_NOW, shown, window_test_marks

pytestmark = window_test_marks()


def test_the_window_first_opened_fits_a_screen_smaller_than_its_usual_size(qtbot) -> None:  # type: ignore[no-untyped-def]
    # the offscreen platform's screen is 800x800: the window opened at 1280x800 had its details and the
    # right of its toolbars past the screen's right edge, and its status bar under the bottom one
    from meshdesk.ui.app import make_window as app_window

    w = app_window(argparse.Namespace(demo=True, kubeconfig=None, context=None, namespace=None, snapshot=None))
    qtbot.addWidget(w)
    w.show()
    try:
        shown(qtbot, w, lambda g: len(g.nodes) > 0)
        available = w.screen().availableGeometry()
        assert w.frameGeometry().width() <= available.width()
        assert w.frameGeometry().height() <= available.height()
        bar = w.statusBar()
        assert bar.isVisible() and available.contains(bar.mapToGlobal(bar.rect().bottomRight()))
    finally:
        w.close()


def _request_routing_dialog(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QWidget

    from meshdesk.mesh.graph.builder import build
    from meshdesk.mesh.graph.model import NODE_SERVICE
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.store.settings import Settings
    from meshdesk.ui.actions import ActionsController

    window = QWidget()
    qtbot.addWidget(window)
    demo = DemoCluster(clock=lambda: DEMO_NOW)
    ctl = ActionsController(demo, Settings(tmp_path / "settings.json"), window)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    graph = build(snap)
    reviews = graph.find_node(node_type=NODE_SERVICE, namespace="shop", service="reviews")
    dialog = ctl.open_action("request-routing", reviews, graph, snap.inventory)
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    return dialog


def test_the_request_routing_dialog_fits_a_laptop_screen_at_150_percent(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a 1280x800 screen at 150% is 853x533 to Qt: the form asked for 613 pixels, and Review and Cancel
    # stayed under the screen's bottom edge, with no way to reach them
    dialog = _request_routing_dialog(qtbot, tmp_path)
    small = 533 * 9 // 10
    assert dialog.minimumSizeHint().height() <= small
    dialog.resize(dialog.width(), small)
    qtbot.waitUntil(lambda: dialog.height() == small)
    for button in (dialog.review_button, dialog.close_button):
        assert button.isVisible()
        assert dialog.rect().contains(button.mapTo(dialog, button.rect().bottomRight()))
    # what is below is reached by scrolling: the "Add rule" button too
    bar = dialog.form_area.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    add = dialog.form.add_button
    assert add.text() == "Add rule"
    assert dialog.form_area.viewport().rect().contains(add.mapTo(dialog.form_area.viewport(), add.rect().center()))


def test_the_request_routing_dialog_on_a_roomy_screen_shows_its_whole_form_unscrolled(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dialog = _request_routing_dialog(qtbot, tmp_path)  # (the offscreen screen: 800x800)
    assert dialog.form_area.verticalScrollBar().maximum() == 0
    assert dialog.height() <= dialog.screen().availableGeometry().height()
