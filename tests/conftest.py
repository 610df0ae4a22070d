"""Shared test setup: offscreen Qt, a private config dir, and the ../shared location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _private_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test ever touches the real home: MESHDESK_CONFIG_DIR points at a fresh temp dir."""
    path = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("MESHDESK_CONFIG_DIR", str(path))
    return path


@pytest.fixture(scope="session", autouse=True)
def _collector_on_the_ui_thread(qapp):  # type: ignore[no-untyped-def]
    """As the app does (``meshdesk.ui.gcguard``): cyclic garbage is collected on the UI thread only, so
    a worker thread never destroys a Qt object a finished test left in a cycle (a segfault)."""
    from meshdesk.ui import gcguard

    return gcguard.install(qapp)


def _collector():  # type: ignore[no-untyped-def]
    from meshdesk.ui import gcguard

    return gcguard._installed[0] if gcguard._installed else None


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):  # type: ignore[no-untyped-def]
    """No collection from the moment a test returns until its teardown is over. Its windows are then
    garbage in Python (the test's frame is gone) but alive in Qt: pytest-qt closes them, with
    deleteLater(), only in the teardown, and a test that never ran an event loop leaves them waiting
    even then. Had the collector's timer reached that garbage first (pytest-qt runs events after the
    test and around closing), it would have cleared the Python side of a window's pyqtgraph labels
    before the window was destroyed, and the window's layout, asking them their size as it went,
    raised an AttributeError in Qt's event loop, failing whichever test ran then. The teardown's
    ``settle`` destroys the windows first, then collects."""
    try:
        return (yield)
    finally:
        collector = _collector()
        if collector is not None:
            collector.pause()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item):  # type: ignore[no-untyped-def]
    """The collector's timer runs again once the whole teardown is over (pytest-qt's included)."""
    try:
        return (yield)
    finally:
        collector = _collector()
        if collector is not None:
            collector.resume()


def settle() -> int:
    """What every test's teardown does after pytest-qt closed its widgets: the widgets waiting for
    deleteLater() destroyed (Qt's own side first, while their Python side is whole), then the
    collection that is due; the number of objects the collection found unreachable."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from meshdesk.ui import gcguard

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return gcguard.install().collect_due()


@pytest.fixture(autouse=True)
def _settle_between_tests(_collector_on_the_ui_thread):  # type: ignore[no-untyped-def]
    """A test that never runs Qt's event loop gives the timer no chance: collect what is due after it,
    once its closed widgets are destroyed (``settle``)."""
    yield
    settle()


@pytest.fixture(autouse=True)
def _fresh_istiod_memory() -> None:
    """What the inventory remembers of istiod between reads (answers and failures) starts empty in
    each test: emulators on reused ports must not see another test's istiod."""
    from meshdesk.sources import inventory

    inventory._SYNCZ_ANSWERS.clear()
    inventory._SYNCZ_FAILURES.clear()


@pytest.fixture(autouse=True)
def _no_theme_left_behind(_collector_on_the_ui_thread):  # type: ignore[no-untyped-def]
    """A test that saves Settings applies its theme to the whole application (a style sheet, a palette):
    the tests after it measured and hovered widgets in it (a combo box twice as wide, a crosshair's labels
    elsewhere) and failed in a full run only. Each test ends with the platform's own look again."""
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if isinstance(app, QApplication) and (app.property("meshdeskThemeChoice") is not None or app.styleSheet()):
        from meshdesk.ui import theme

        theme.reset_theme(app)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): conformance data and Istio fixtures live there")
    return SHARED


@pytest.fixture
def demo_window(qtbot):  # type: ignore[no-untyped-def]
    """``demo_window(namespaces, **kw)`` opens a main window on the demo mesh at a fixed clock
    (``tests.ui_helpers.DEMO_NOW``); at the end it is closed and no thread of it may be left running."""
    from tests.ui_helpers import DEMO_NOW, demo_windows

    yield from demo_windows(qtbot, DEMO_NOW)
