"""The canvas zoomed far out (below the zoom at which edges lose their arrowheads): the edges are drawn
in one pass, and must look, answer the mouse and export as they do when each edge draws itself."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from PySide6.QtCore import QLineF, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QTransform
from PySide6.QtTest import QTest

from meshdesk.ui.canvas import DisplayOptions, GraphView, shapes
from meshdesk.ui.canvas.items import ARROW_LOD, EdgeItem
from meshdesk.ui.canvas.view import running_layout_threads
from tests.test_canvas import _mouse_drag, bookinfo, nid_wl, shown

pytestmark = pytest.mark.ui

FAR = ARROW_LOD * 0.95  # just past the zoom at which arrowheads go: halos still a pixel wide


@pytest.fixture
def view(qtbot):  # type: ignore[no-untyped-def]
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    theme = shapes.theme()
    v.set_theme("light")  # the colours below are on the light canvas, whatever a test before chose
    yield v
    v.shutdown()
    shapes.set_theme(theme)
    assert running_layout_threads() == []


def _far(qtbot, view: GraphView, zoom: float = FAR) -> None:  # type: ignore[no-untyped-def]
    view.set_display(DisplayOptions(show_boxes=False))  # the edges over the plain canvas
    shown(qtbot, view, bookinfo(), key=None)
    view.setTransform(QTransform.fromScale(zoom, zoom))
    view.centerOn(view._visible_items_rect().center())
    view.viewport().repaint()


def _edge(view: GraphView, source: str, target_service: str) -> EdgeItem:
    for eid, edge in view.graph.edges.items():  # type: ignore[union-attr]
        if edge.source == nid_wl(source) and view.graph.nodes[edge.target].service == target_service:  # type: ignore[union-attr]
            item = view.edge_item(eid)
            assert item is not None
            return item
    raise AssertionError(f"no edge {source} -> {target_service}")


def _along(view: GraphView, item: EdgeItem) -> list[QColor]:
    """The colours on screen along the middle of the edge (and a pixel either side)."""
    image = view.viewport().grab().toImage()
    line = QLineF(item.p1, item.p2)
    out = []
    for i in range(25, 76, 5):
        p = view.mapFromScene(line.pointAt(i / 100))
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                x, y = p.x() + dx, p.y() + dy
                if 0 <= x < image.width() and 0 <= y < image.height():
                    out.append(QColor(image.pixel(x, y)))
    assert out
    return out


def _bluest(colours: list[QColor]) -> int:
    return max(c.blue() - c.green() for c in colours)


def _darkest(colours: list[QColor]) -> int:
    return min(c.red() + c.green() + c.blue() for c in colours)


def test_far_out_a_repaint_asks_no_edge_item_yet_every_edge_is_drawn(qtbot, view: GraphView) -> None:  # type: ignore[no-untyped-def]
    _far(qtbot, view, zoom=ARROW_LOD / 2)
    view.viewport().repaint()  # the first paint at this zoom hands the edges over
    edge_code = {EdgeItem.paint.__code__, EdgeItem.boundingRect.__code__}
    calls = [0]

    def count(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in edge_code:
            calls[0] += 1

    sys.setprofile(count)
    try:
        view.viewport().repaint()
    finally:
        sys.setprofile(None)
    assert calls[0] == 0
    for item in view._edges.values():  # each edge still shows: darker than the white canvas
        assert _darkest(_along(view, item)) < 3 * 250, item.edge_id
    view.setTransform(QTransform())  # zoomed in, each edge draws itself again (labels, arrowheads)
    view.centerOn(view._visible_items_rect().center())
    sys.setprofile(count)
    try:
        view.viewport().repaint()
    finally:
        sys.setprofile(None)
    assert calls[0] > 0


def test_far_out_the_edges_move_with_the_picture_when_panned(qtbot, view: GraphView) -> None:  # type: ignore[no-untyped-def]
    _far(qtbot, view, zoom=ARROW_LOD / 2)
    view.resize(260, 200)  # smaller than the scene at this zoom: it pans
    item = _edge(view, "productpage-v1", "details")
    view.centerOn(item.midpoint())
    assert _darkest(_along(view, item)) < 3 * 250
    bar = view.horizontalScrollBar()
    before = bar.value()
    bar.setValue(before + 40)
    assert bar.value() != before
    assert _darkest(_along(view, item)) < 3 * 250


def test_far_out_a_refresh_that_turns_an_edge_red_shows_it(qtbot, view: GraphView) -> None:  # type: ignore[no-untyped-def]
    _far(qtbot, view)
    item = _edge(view, "productpage-v1", "details")
    assert max(c.red() - c.green() for c in _along(view, item)) <= 5  # green on white
    graph = bookinfo()
    graph.edges[item.edge_id].rates["http5xx"] = 5.0  # half its requests fail
    view.set_graph(graph)
    assert max(c.red() - c.green() for c in _along(view, item)) > 30
    view.set_graph(bookinfo(rate=12.0))  # new rates alone: nothing to draw again, and back to green
    assert max(c.red() - c.green() for c in _along(view, item)) <= 5


def test_far_out_the_edges_follow_a_dragged_node(qtbot, view: GraphView) -> None:  # type: ignore[no-untyped-def]
    _far(qtbot, view, zoom=ARROW_LOD / 2)
    item = _edge(view, "productpage-v1", "details")
    assert _darkest(_along(view, item)) < 3 * 250
    before = item.midpoint()
    _mouse_drag(qtbot, view, nid_wl("details-v1"), QPoint(0, 60))  # its service stays: the edge keeps its place
    _mouse_drag(qtbot, view, nid_wl("productpage-v1"), QPoint(-50, 70))
    qtbot.waitUntil(lambda: (item.midpoint() - before).manhattanLength() > 100, timeout=3000)
    qtbot.waitUntil(lambda: _darkest(_along(view, item)) < 3 * 250, timeout=3000)  # drawn where it is now
    item.source.setPos(item.source.pos() + QPointF(-300, 200))  # moved by the program, not the mouse
    assert _darkest(_along(view, item)) < 3 * 250


def test_far_out_selection_find_dimming_and_hide_show_on_the_edges(qtbot, view: GraphView) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("meshdesk.mesh.find")
    _far(qtbot, view)
    item = _edge(view, "productpage-v1", "details")
    other = _edge(view, "reviews-v1", "ratings")
    plain = _along(view, item)
    assert _bluest(plain) <= 5  # a green line on white
    other_before = _darkest(_along(view, other))
    # selected: the selection's blue under the line
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([item.edge_id])
    assert _bluest(_along(view, item)) > 30
    assert _bluest(_along(view, other)) <= 5
    # the others are dimmed: their lines fainter than before
    assert _darkest(_along(view, other)) > other_before + 40
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([])
    assert _bluest(_along(view, item)) <= 5
    assert abs(_darkest(_along(view, other)) - other_before) < 25
    # a Find expression: its violet halo around the edges it matches, gone when cleared
    assert view.set_find("rt > 20") is None
    assert _bluest(_along(view, item)) > 20
    assert view.set_find("") is None
    assert _bluest(_along(view, item)) <= 5
    # hidden: nothing left of it on the canvas
    assert view.set_hide("rt > 20") is None and not item.isVisible()
    assert _darkest(_along(view, item)) >= 3 * 250
    assert view.set_hide("") is None
    assert _darkest(_along(view, item)) < 3 * 250
    # the dark canvas's lighter selection blue (the light one is lost on it)
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([item.edge_id])
    assert _bluest(_along(view, item)) > 30  # drawn selected on the light canvas
    view.set_theme("dark")
    assert max(c.red() for c in _along(view, item)) > 60


def test_far_out_an_edge_is_still_found_under_the_mouse_and_by_a_selection_band(qtbot, view: GraphView) -> None:  # type: ignore[no-untyped-def]
    _far(qtbot, view, zoom=ARROW_LOD / 2)
    assert view.edges_drawn_as_one()
    item = _edge(view, "productpage-v1", "details")
    at = view.mapFromScene(item.midpoint())
    assert view.itemAt(at) is item  # hover, tooltips and the context menu look it up so
    with qtbot.waitSignal(view.selectionChanged, timeout=3000, check_params_cb=lambda ids: ids == [item.edge_id]):
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    vp = view.viewport()
    with qtbot.waitSignal(view.selectionChanged, timeout=3000,
                          check_params_cb=lambda ids: set(view.graph.edges) <= set(ids)):  # type: ignore[union-attr]
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(2, 2))
        for i in range(1, 6):
            QTest.mouseMove(vp, QPoint(2 + (vp.width() - 4) * i // 5, 2 + (vp.height() - 4) * i // 5))
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           QPoint(vp.width() - 2, vp.height() - 2))


def test_an_export_is_the_same_whatever_the_zoom_on_screen(qtbot, view: GraphView, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view.set_display(DisplayOptions(show_boxes=False, edge_labels="requestRate"))
    shown(qtbot, view, bookinfo(), key=None)
    view.viewport().repaint()
    near_png, near_svg = tmp_path / "near.png", tmp_path / "near.svg"
    view.export_png(near_png)
    view.export_svg(near_svg)
    view.setTransform(QTransform.fromScale(ARROW_LOD / 2, ARROW_LOD / 2))
    view.viewport().repaint()
    assert view.edges_drawn_as_one()
    far_png, far_svg = tmp_path / "far.png", tmp_path / "far.svg"
    view.export_png(far_png)
    view.export_svg(far_svg)
    assert far_svg.read_text() == near_svg.read_text()  # arrowheads, labels: the full detail
    assert QImage(str(far_png)) == QImage(str(near_png))
    assert view.edges_drawn_as_one()  # and the screen goes on drawing the edges in one pass
    item = _edge(view, "productpage-v1", "details")
    assert _darkest(_along(view, item)) < 3 * 250


def _looks(view: GraphView) -> dict[str, tuple[float, bool, bool, bool, bool]]:
    """What a user sees of each node and edge: its opacity, dimmed, found, selected, shown."""
    out: dict[str, tuple[float, bool, bool, bool, bool]] = {}
    for nid in view.node_ids():
        node = view.node_item(nid)
        assert node is not None
        out[nid] = (round(node.opacity(), 3), False, node.highlighted, node.isSelected(), node.isVisible())
    for eid in view.graph.edges:  # type: ignore[union-attr]
        edge = view.edge_item(eid)
        assert edge is not None
        out[eid] = (round(edge.opacity(), 3), edge.dimmed, edge.highlighted, edge.isSelected(), edge.isVisible())
    return out


@pytest.mark.parametrize("zoom", [FAR, 1.0])
def test_moving_the_selection_to_another_node_dims_as_selecting_it_alone(qtbot, view: GraphView, zoom: float) -> None:  # type: ignore[no-untyped-def]
    _far(qtbot, view, zoom)
    details, ratings = nid_wl("details-v1"), nid_wl("ratings-v1")
    plain = _looks(view)
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([ratings])
    alone = _looks(view)
    assert view.dimmed_ids() and details in view.dimmed_ids() and ratings not in view.dimmed_ids()
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([details])
    # the paths of details-v1 lit, the reviews and ratings dimmed: what the first selection dimmed and
    # this one keeps comes back, what both keep (productpage, the gateway) never dims
    assert ratings in view.dimmed_ids() and details not in view.dimmed_ids()
    assert nid_wl("productpage-v1") not in view.dimmed_ids()
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([ratings])
    assert _looks(view) == alone  # as when ratings-v1 was selected from nothing
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([])
    assert _looks(view) == plain and not view.dimmed_ids()


@pytest.mark.parametrize("zoom", [FAR, 1.0])
def test_a_find_cleared_leaves_every_item_as_before_even_over_a_selection(qtbot, view: GraphView, zoom: float) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("meshdesk.mesh.find")
    _far(qtbot, view, zoom)
    plain = _looks(view)
    assert view.set_find("rt > 20") is None
    found = view.highlighted_ids()
    assert found and all(_looks(view)[i][2] for i in found)
    assert view.set_find("") is None
    assert _looks(view) == plain
    # found, then a selection dims part of it, then the Find cleared and the selection taken away
    assert view.set_find("rt > 20") is None
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([nid_wl("details-v1")])
    assert view.set_find("") is None
    with qtbot.waitSignal(view.selectionChanged, timeout=3000):
        view.select([])
    assert _looks(view) == plain
    # far out or near, the found edges look found again when zoomed the other way
    assert view.set_find("rt > 20") is None
    item = _edge(view, "productpage-v1", "details")
    assert item.edge_id in view.highlighted_ids()
    view.setTransform(QTransform.fromScale(1.0 if zoom == FAR else FAR, 1.0 if zoom == FAR else FAR))
    view.centerOn(item)
    view.viewport().repaint()
    assert _bluest(_along(view, item)) > 20
