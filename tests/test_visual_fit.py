"""What a user sees on a small or a dark screen: the window, the dialogs and the text fit and can be read."""

from __future__ import annotations

import argparse

from tests.ui_helpers import shown, window_test_marks

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
