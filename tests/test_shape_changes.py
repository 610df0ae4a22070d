"""When the user changes what the graph shows (operation nodes, service nodes, another graph type), the
answer is laid out again around the nodes they placed and fitted, as Kiali lays its graph out again;
placing many new nodes one by one beside their neighbours left boxes overlapping and nodes out of
sight. Refreshes never move anything (tests/test_canvas.py). Real window, demo cluster, graph builder
and layout worker."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsItem

from meshdesk.mesh.graph.model import NODE_AGGREGATE, NODE_APP, NODE_BOX
from meshdesk.store import paths
from meshdesk.store.layouts import LayoutStore
from meshdesk.ui import layout as layout_engine
from meshdesk.ui.mainwindow import MainWindow
from meshdesk.ui.toolbar import MANUAL
from tests.ui_helpers import ScriptedSource, open_windows, sample, shown, window_test_marks

pytestmark = window_test_marks()


def _settled(qtbot, w: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Wait until the canvas holds the window's graph and no layout is running."""
    assert w.graph is not None
    qtbot.waitUntil(lambda: not w.view.layout_running and w.view.node_ids()
                    == {nid for nid, n in w.graph.nodes.items() if n.node_type != NODE_BOX}, timeout=10000)


def _overlapping_boxes(w: MainWindow) -> list[tuple[str, str]]:
    """Pairs of boxes of one kind (two namespace boxes, two app boxes) that overlap."""
    boxes = [b for b in w.view.boxes() if b.isVisible()]
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a.kind == b.kind and a.sceneBoundingRect().intersects(b.sceneBoundingRect()):
                out.append((a.title, b.title))
    return out


def _covered_by_others_boxes(w: MainWindow) -> list[tuple[str, str]]:
    """(box, node) for each node drawn inside a box it is not in."""
    out = []
    for box in w.view.boxes():
        if not box.isVisible():
            continue
        members = set(w.view._members(box))
        area = box.sceneBoundingRect()
        for nid in w.view.node_ids():
            item = w.view.node_item(nid)
            if nid not in members and item is not None and item.isVisible() \
                    and area.intersects(item.sceneBoundingRect()):
                out.append((box.title, nid))
    return out


def _out_of_sight(w: MainWindow) -> list[str]:
    seen = w.view.mapToScene(w.view.viewport().rect()).boundingRect()
    return [nid for nid in w.view.node_ids()
            if not seen.contains(w.view.node_item(nid).sceneBoundingRect())]  # type: ignore[union-attr]


def test_turning_operation_nodes_on_lays_the_graph_out_again(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["hello", "shop", "travel"])
    w.resize(1280, 800)
    shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    assert _overlapping_boxes(w) == []
    w.toolbar.choose(operation_nodes=True)
    graph = shown(qtbot, w, lambda g: any(n.node_type == NODE_AGGREGATE for n in g.nodes.values()))
    _settled(qtbot, w)
    # a dozen operation nodes joined, between callers and services, some in new app boxes
    assert sum(n.node_type == NODE_AGGREGATE for n in graph.nodes.values()) >= 10
    assert _overlapping_boxes(w) == []
    assert _out_of_sight(w) == []


def _place_ratings(qtbot, w: MainWindow, by: QPointF) -> tuple[str, QGraphicsItem]:  # type: ignore[no-untyped-def]
    """Wait for shop's graph, then drag the ratings node by ``by`` as the mouse would; its id and item."""
    graph = shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    ratings = next(nid for nid, n in graph.nodes.items() if n.node_type == NODE_APP and n.app == "ratings")
    item = w.view.node_item(ratings)
    assert item is not None
    w.view.begin_drag()
    item.setPos(item.pos() + by)
    w.view.end_drag()
    return ratings, item


def test_an_arrangement_stays_put_when_the_graph_changes_shape(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """Once the user arranged a view (here: moved one node), every node on screen is part of the
    arrangement: service nodes going leave the others where they were. (They used to be laid out
    again, unsaved, and jumped back to their saved places later: QA s9c.)"""
    w = demo_window(["shop"])
    ratings, item = _place_ratings(qtbot, w, QPointF(-150, 120))
    placed = (item.x(), item.y())
    others = {nid: (it.x(), it.y()) for nid in w.view.node_ids() if nid != ratings
              and (it := w.view.node_item(nid)) is not None}
    w.toolbar.choose(service_nodes=False)
    shown(qtbot, w, lambda g: not g.request.injectServiceNodes)
    _settled(qtbot, w)
    assert (item.x(), item.y()) == placed
    kept = {nid: p for nid, p in others.items() if nid in w.view.node_ids()}
    assert len(kept) >= 5
    assert {nid: w.view.positions()[nid] for nid in kept} == kept


def test_a_refresh_after_a_change_that_added_no_node_moves_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Idle edges on, with no idle traffic: the nodes are the same, nothing is laid out again; a node
    that a later refresh brings is placed beside its neighbours, and the others stay where they were."""
    src = ScriptedSource("s", {"shop": [sample("frontend-v1", "cart-v1", "shop", 5.0)]})
    windows = open_windows(qtbot, lambda: MainWindow(context="s", namespaces=["shop"], factories={"s": lambda: src}),
                           all_threads=True)
    w = next(windows)()
    shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    w.toolbar.choose(idle_edges=True)
    shown(qtbot, w, lambda g: g.request.includeIdleEdges)
    _settled(qtbot, w)
    before = w.view.positions()
    src.samples["shop"].append(sample("frontend-v1", "payments-v1", "shop", 1.0))
    w.refresh_now()
    shown(qtbot, w, lambda g: any(n.app == "payments" for n in g.nodes.values()))
    _settled(qtbot, w)
    after = w.view.positions()
    assert {nid: after[nid] for nid in before} == before
    next(windows, None)  # closes the window; no thread may be left running


def _centred(w: MainWindow) -> bool:
    """Whether what is drawn sits in the middle of the canvas (as fitting leaves it)."""
    rect = None
    for nid in w.view.node_ids():
        r = w.view.node_item(nid).sceneBoundingRect()  # type: ignore[union-attr]
        rect = r if rect is None else rect.united(r)
    assert rect is not None
    centre = w.view.mapFromScene(rect.center())
    port = w.view.viewport().rect()
    return (abs(centre.x() - port.center().x()) < port.width() * 0.1
            and abs(centre.y() - port.center().y()) < port.height() * 0.1)


def test_fewer_or_more_namespaces_are_laid_out_again_and_fitted(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["hello", "shop", "travel"])
    w.resize(1280, 800)
    shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    w.toolbar.select_namespaces(["hello", "travel"])  # shop's nodes go, and leave a hole
    shown(qtbot, w, lambda g: g.request.namespaces == ("hello", "travel"))
    _settled(qtbot, w)
    qtbot.waitUntil(lambda: _centred(w), timeout=5000)
    w.toolbar.select_namespaces(["hello", "shop", "travel"])  # and come back
    shown(qtbot, w, lambda g: len(g.request.namespaces) == 3)
    _settled(qtbot, w)
    qtbot.waitUntil(lambda: _centred(w), timeout=5000)
    assert _overlapping_boxes(w) == []
    assert _out_of_sight(w) == []


def test_a_node_placed_in_one_view_stays_put_when_a_namespace_joins(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["shop"])
    _ratings, item = _place_ratings(qtbot, w, QPointF(80, -200))
    placed = (item.x(), item.y())
    w.toolbar.select_namespaces(["shop", "hello"])
    shown(qtbot, w, lambda g: set(g.request.namespaces) == {"shop", "hello"})
    _settled(qtbot, w)
    assert (item.x(), item.y()) == placed


def test_an_arrangement_the_user_made_stays_and_is_fitted_when_a_namespace_goes(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    w = demo_window(["hello", "shop", "travel"])
    w.resize(1280, 800)
    shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    w.view.begin_drag()  # the user arranges every node (here: nudges each)
    for nid in w.view.node_ids():
        item = w.view.node_item(nid)
        assert item is not None
        item.setPos(item.pos() + QPointF(5, 5))
    w.view.end_drag()
    arranged = w.view.positions()
    w.toolbar.select_namespaces(["hello", "travel"])
    shown(qtbot, w, lambda g: g.request.namespaces == ("hello", "travel"))
    _settled(qtbot, w)
    assert w.view.positions() == {nid: arranged[nid] for nid in w.view.node_ids()}
    qtbot.waitUntil(lambda: _centred(w), timeout=5000)


# ------------------------------------------------------------------------------------------------
# what the user sees is what comes back (QA s9b, s9c, s9, s3b)

Positions = dict[str, tuple[float, float]]


def _mouse_drag(qtbot, w: MainWindow, nid: str, delta: QPoint) -> None:  # type: ignore[no-untyped-def]
    """Drag node ``nid`` by ``delta`` (pixels) with the mouse, as the user would."""
    view = w.view
    item = view.node_item(nid)
    assert item is not None
    view.centerOn(item)
    start = view.mapFromScene(item.pos())
    vp = view.viewport()
    with qtbot.waitSignal(view.nodesMoved, timeout=3000):
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for i in range(1, 6):
            QTest.mouseMove(vp, start + QPoint(delta.x() * i // 5, delta.y() * i // 5))
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + delta)


def _moved(before: Positions, after: Positions, tol: float = 0.5) -> list[str]:
    """The nodes of ``before`` that are elsewhere (or gone) in ``after``."""
    return sorted(nid for nid, (x, y) in before.items()
                  if nid not in after or abs(after[nid][0] - x) > tol or abs(after[nid][1] - y) > tol)


def _saved(w: MainWindow) -> Positions:
    key = w.view.layout_key
    assert key is not None
    return LayoutStore().load(key)


def _arranged_shop(qtbot, demo_window) -> tuple[MainWindow, Positions]:  # type: ignore[no-untyped-def]
    """A window on shop whose ratings app the user dragged well below the rest, saved."""
    w = demo_window(["shop"])
    w.resize(1280, 800)
    graph = shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    ratings = next(nid for nid, n in graph.nodes.items() if n.node_type == NODE_APP and n.app == "ratings")
    _mouse_drag(qtbot, w, ratings, QPoint(-150, 200))
    arranged = w.view.positions()
    qtbot.waitUntil(lambda: _moved(arranged, _saved(w)) == [], timeout=5000)
    return w, arranged


def test_what_the_user_arranged_stays_across_toggles_and_comes_back_after_a_restart(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """QA s9c and s9b: after a drag, idle nodes on and off laid the other nodes out again around the
    dragged one (unsaved); graph type Workload and back then made them jump to their old saved places,
    and a restart showed another picture than the one at close. Now the nodes on screen keep their
    places, only new ones are placed (around them, covering no one), what is shown is saved, and it
    all comes back after the trip and after a restart."""
    w, arranged = _arranged_shop(qtbot, demo_window)
    w.toolbar.choose(idle_nodes=True)
    shown(qtbot, w, lambda g: g.request.includeIdleNodes)
    _settled(qtbot, w)
    with_idle = w.view.positions()
    assert _moved(arranged, with_idle) == []
    assert len(set(with_idle) - set(arranged)) == 3  # the idle nodes came
    sizes = {nid: w.view.node_item(nid).layout_size() for nid in with_idle}  # type: ignore[union-attr]
    assert layout_engine.overlaps(with_idle, sizes) == []
    qtbot.waitUntil(lambda: _moved(with_idle, _saved(w)) == [], timeout=5000)  # what is shown is saved

    w.toolbar.choose(idle_nodes=False)
    shown(qtbot, w, lambda g: not g.request.includeIdleNodes)
    _settled(qtbot, w)
    assert _moved(arranged, w.view.positions()) == [] and set(w.view.positions()) == set(arranged)

    w.toolbar.choose(graph_type="workload")
    shown(qtbot, w, lambda g: g.request.graphType == "workload")
    _settled(qtbot, w)
    w.toolbar.choose(graph_type="versionedApp")
    shown(qtbot, w, lambda g: g.request.graphType == "versionedApp")
    _settled(qtbot, w)
    assert _moved(arranged, w.view.positions()) == []
    w.close()

    again = demo_window(["shop"])  # a restart: a new window on the same config dir
    shown(qtbot, again, lambda g: bool(g.edges) and g.request.graphType == "versionedApp")
    _settled(qtbot, again)
    assert _moved(arranged, again.view.positions()) == []
    again.toolbar.choose(idle_nodes=True)  # the idle nodes come back where they were shown
    shown(qtbot, again, lambda g: g.request.includeIdleNodes)
    _settled(qtbot, again)
    assert _moved(with_idle, again.view.positions()) == []


def test_a_layout_that_cannot_be_saved_is_said_at_the_drag(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """QA s3b: with the layouts folder unusable, the drag's failed save was said only at the next graph
    (never with refresh paused or manual), and named the lock file rather than the layouts folder."""
    w = demo_window(["shop"])
    graph = shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    w.toolbar.choose(refresh=MANUAL)  # no graph comes after the drag to carry the news
    folder = paths.layouts_dir()  # taken away meanwhile (a synced or removable folder), a file in its place
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("a file where the layouts folder should be")
    assert not w.banner.isVisible()
    ratings = next(nid for nid, n in graph.nodes.items() if n.node_type == NODE_APP and n.app == "ratings")
    _mouse_drag(qtbot, w, ratings, QPoint(60, 80))
    qtbot.waitUntil(w.banner.isVisible, timeout=3000)
    assert "Could not save the layout" in w.banner.text()
    assert f"the layouts folder {folder}" in w.banner.text()
    assert ".lock" not in w.banner.text()


def test_a_reset_layout_can_be_undone_from_the_canvas_and_with_ctrl_z(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """QA s9: Reset layout threw the arrangement away at once, with no way back. The canvas offers to
    undo it for a while, Ctrl+Z (Layout > Undo reset layout) as long as the view is shown; the
    arrangement comes back on screen and saved, so also after a restart."""
    w, arranged = _arranged_shop(qtbot, demo_window)
    assert not w.toolbar.undo_reset_action.isEnabled()
    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        w.toolbar.reset_layout_action.trigger()
    assert _moved(arranged, w.view.positions())  # laid out afresh
    assert _saved(w) == {}
    qtbot.waitUntil(lambda: w.view.undo_reset_button.isVisible(), timeout=3000)
    assert w.toolbar.undo_reset_action.isEnabled()
    qtbot.mouseClick(w.view.undo_reset_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _moved(arranged, w.view.positions()) == [], timeout=5000)
    assert _moved(arranged, _saved(w)) == []
    assert not w.view.undo_reset_button.isVisible() and not w.toolbar.undo_reset_action.isEnabled()

    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        w.toolbar.reset_layout_action.trigger()
    assert _moved(arranged, w.view.positions())
    w.view.setFocus()
    QTest.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _moved(arranged, w.view.positions()) == [], timeout=5000)
    w.close()
    again = demo_window(["shop"])
    shown(qtbot, again, lambda g: bool(g.edges))
    _settled(qtbot, again)
    assert _moved(arranged, again.view.positions()) == []


@pytest.mark.qt_log_ignore(r"^This plugin does not support (raise\(\)|grabbing the keyboard|propagateSizeHints\(\))$")  # a popup, offscreen
def test_ctrl_z_undoes_a_reset_only_on_the_canvas(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """Undo reset layout's Ctrl+Z was the window's: in the Details panel (read-only text) it put the
    layout back. It acts with the canvas focused; in the Find box Ctrl+Z undoes the typing; the menu
    item (which still shows Ctrl+Z) works by click."""
    w, arranged = _arranged_shop(qtbot, demo_window)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        w.toolbar.reset_layout_action.trigger()
    reset = w.view.positions()
    assert _moved(arranged, reset) and w.view.can_undo_reset

    find = w.toolbar.find_edit
    find.setFocus()
    qtbot.waitUntil(find.hasFocus, timeout=3000)
    QTest.keyClicks(find, "name=x")
    QTest.keyClick(find, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert find.text() != "name=x", "the Find box's own undo"
    assert w.view.can_undo_reset and _moved(reset, w.view.positions()) == []

    details = w.panel.body
    details.setFocus()
    qtbot.waitUntil(details.hasFocus, timeout=3000)
    QTest.keyClick(details, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    assert w.view.can_undo_reset and _moved(reset, w.view.positions()) == []

    assert w.toolbar.undo_reset_action.shortcut().toString() == "Ctrl+Z"  # the menu names the key
    w.view.setFocus()
    qtbot.waitUntil(w.view.hasFocus, timeout=3000)
    QTest.keyClick(w.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _moved(arranged, w.view.positions()) == [], timeout=5000)
    assert not w.view.can_undo_reset

    # and Layout > Undo reset layout, clicked
    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        w.toolbar.reset_layout_action.trigger()
    find.setFocus()
    menu = w.toolbar.layout_menu
    menu.popup(w.toolbar.layout_button.mapToGlobal(QPoint(0, w.toolbar.layout_button.height())))
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton,
                     pos=menu.actionGeometry(w.toolbar.undo_reset_action).center())
    qtbot.waitUntil(lambda: _moved(arranged, w.view.positions()) == [], timeout=5000)


def test_a_chosen_layout_can_be_undone_and_the_arrangement_comes_back_saved(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """Layout > Force-directed (Ctrl+2) saved its positions over the user's arrangement with no way back,
    unlike Reset layout. The canvas offers to undo it; the arrangement comes back on screen and saved."""
    w, arranged = _arranged_shop(qtbot, demo_window)
    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        w.view.setFocus()
        QTest.keyClick(w.view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert _moved(arranged, w.view.positions())
    assert _moved(arranged, _saved(w))  # the chosen layout is what is saved now
    qtbot.waitUntil(lambda: w.view.undo_reset_button.isVisible(), timeout=3000)
    assert w.view._undo_label.text() == "Layout replaced."
    assert w.toolbar.undo_reset_action.isEnabled()
    QTest.keyClick(w.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _moved(arranged, w.view.positions()) == [], timeout=5000)
    assert _moved(arranged, _saved(w)) == [] and set(_saved(w)) == set(arranged)
    assert not w.view.undo_reset_button.isVisible() and not w.toolbar.undo_reset_action.isEnabled()


def test_undoing_a_layout_chosen_for_an_unarranged_view_leaves_it_unarranged(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """A view nobody arranged, given a grid layout by mistake and undone: nothing stays saved for it
    (it is laid out again as before when it changes shape), and the nodes are where they were."""
    w = demo_window(["shop"])
    shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    before = w.view.positions()
    assert _saved(w) == {}
    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        w.toolbar.layoutRequested.emit("grid")
    assert _moved(before, w.view.positions()) and _saved(w)
    assert w.view.undo_reset()
    qtbot.waitUntil(lambda: _moved(before, w.view.positions()) == [], timeout=5000)
    assert _saved(w) == {}


def test_two_layouts_tried_one_after_the_other_are_undone_one_by_one(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """QA s13b: the undo was one level deep: force-directed then grid, and Ctrl+Z gave back the
    force-directed layout - saved - with no way further back to the user's arrangement."""
    w, arranged = _arranged_shop(qtbot, demo_window)
    w.view.setFocus()
    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        QTest.keyClick(w.view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    forced = w.view.positions()
    with qtbot.waitSignal(w.view.layoutFinished, timeout=10000):
        QTest.keyClick(w.view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert _moved(forced, w.view.positions()) and _moved(arranged, w.view.positions())
    QTest.keyClick(w.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _moved(forced, w.view.positions()) == [], timeout=5000)
    assert _moved(forced, _saved(w)) == []
    assert w.toolbar.undo_reset_action.isEnabled()  # the arrangement before it is still there
    QTest.keyClick(w.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _moved(arranged, w.view.positions()) == [], timeout=5000)
    assert _moved(arranged, _saved(w)) == [] and set(_saved(w)) == set(arranged)
    assert not w.toolbar.undo_reset_action.isEnabled() and not w.view.can_undo_reset


@pytest.mark.parametrize("namespaces", [["shop"], ["hello", "shop", "travel"]])
def test_operation_nodes_turned_on_in_an_arranged_view_do_not_draw_a_box_over_another(  # type: ignore[no-untyped-def]
        qtbot, demo_window, namespaces: list[str]) -> None:
    """QA: with shop arranged (one node moved), turning operation nodes on placed each operation beside
    its neighbours, out of the other boxes, but its own box grew from where its members were to it and
    was drawn over its neighbours (details' box over reviews', productpage's over inventory's); with
    three namespaces, two boxes that both grew met (inventory's and ratings'). The boxes grow without
    covering one another, and the nodes on screen stay where they were."""
    w = demo_window(namespaces)
    w.resize(1280, 800)
    graph = shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    nid = next(nid for nid, n in graph.nodes.items() if n.node_type == NODE_APP and n.app == "ratings")
    w.view.begin_drag()  # arranged: one node moved a little
    w.view.node_item(nid).setPos(w.view.node_item(nid).pos() + QPointF(0, 5))  # type: ignore[union-attr]
    w.view.end_drag()
    assert _overlapping_boxes(w) == []
    arranged = w.view.positions()
    w.toolbar.choose(operation_nodes=True)
    graph = shown(qtbot, w, lambda g: any(n.node_type == NODE_AGGREGATE for n in g.nodes.values()))
    _settled(qtbot, w)
    assert sum(n.node_type == NODE_AGGREGATE for n in graph.nodes.values()) >= 5
    assert _moved(arranged, w.view.positions()) == []
    assert _overlapping_boxes(w) == []
    assert _covered_by_others_boxes(w) == []
    positions = w.view.positions()
    sizes = {nid: w.view.node_item(nid).layout_size() for nid in positions}  # type: ignore[union-attr]
    assert layout_engine.overlaps(positions, sizes) == []


def test_ctrl_plus_and_minus_zoom_the_graph_with_the_keyboard_in_the_find_box(qtbot, demo_window) -> None:  # type: ignore[no-untyped-def]
    """QA: Ctrl++ and Ctrl+- (README's keyboard shortcuts, beside Ctrl+0 and Ctrl+E) zoomed only with the
    keyboard on the graph: after typing in Find, Ctrl+0 fitted the graph but Ctrl++ did nothing. They
    zoom wherever the keyboard is in the window, and the View menu names them."""
    w = demo_window(["shop"])
    w.resize(1280, 800)
    shown(qtbot, w, lambda g: bool(g.edges))
    _settled(qtbot, w)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    find = w.toolbar.find_edit
    find.setFocus()
    qtbot.waitUntil(find.hasFocus, timeout=3000)
    QTest.keyClicks(find, "app = reviews")
    start = w.view.zoom()
    QTest.keyClick(find, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.view.zoom() > start * 1.1, timeout=3000)
    zoomed = w.view.zoom()
    QTest.keyClick(find, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.view.zoom() < zoomed * 0.9, timeout=3000)
    assert find.text() == "app = reviews" and find.hasFocus()  # the typing is left alone
    w.view.setFocus()  # on the graph as before, once per press
    qtbot.waitUntil(w.view.hasFocus, timeout=3000)
    before = w.view.zoom()
    QTest.keyClick(w.view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert w.view.zoom() == pytest.approx(before * 1.25)
