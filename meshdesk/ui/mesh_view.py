"""The Mesh view (View > Mesh), as Kiali 2's Mesh page: the mesh's infrastructure drawn as a small
layered graph of our own (``meshdesk.mesh.mesh_map``), not its traffic.

Each cluster is a box; in it the control planes (istiod per revision) on the left, then the data-plane
namespaces and gateways each one takes, with an edge from it; meshdesk itself stands outside, left, with
an edge to each addon it reads (Prometheus, the tracing backend, Grafana). Nodes are coloured by health
as Kiali's page colours them (green, orange, red; grey when not known), an edge by the node it goes to.
A click shows the node's details beside the drawing; a double-click on a namespace shows it in the
traffic graph (``namespaceRequested``).

The map is made from what the window already read (``MeshView.set_map``); this module asks nothing.
"""

from __future__ import annotations

import math
from html import escape

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QMainWindow,
    QSplitter,
    QStyleOptionGraphicsItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.mesh_map import (
    ADDON,
    CLUSTER,
    GATEWAY,
    GREEN,
    GREY,
    ISTIOD,
    MESHDESK,
    NAMESPACE,
    ORANGE,
    RED,
    WAYPOINT,
    ZTUNNEL,
    MeshMap,
    MeshNode,
    build_mesh_map,
)
from meshdesk.mesh.words import counted
from meshdesk.ui.canvas import shapes
from meshdesk.ui.istio_status import addon_states, grafana_links

NODE_W, NODE_H = 46.0, 34.0
COL_GAP = 190.0  # between the columns of a layer
ROW_GAP = 72.0  # between the rows of a column
ROWS_PER_COLUMN = 4  # a control plane's namespaces wrap into columns of this many (the dock is wide)
BOX_PAD = 34.0
MIN_FIT_SCALE = 0.8  # fitting the map in the dock shrinks it no further: its names stay readable

HEALTH_WORDS = {GREEN: "healthy", ORANGE: "degraded", RED: "failure", GREY: "not known"}


def health_colour(health: str) -> QColor:
    """Kiali's Mesh page colours: green, orange, red; meshdesk's grey for what is not known."""
    return {GREEN: shapes.C_HEALTHY, ORANGE: shapes.C_DEGRADED, RED: shapes.C_FAILURE}.get(health, shapes.C_NODE_BORDER)


def node_path(kind: str) -> QPainterPath:
    """Kiali's shapes on its Mesh page: a data-plane namespace a rectangle, a gateway or a waypoint a
    rhombus, the rest (control planes, ztunnel, addons, meshdesk) a hexagon."""
    p = QPainterPath()
    hw, hh = NODE_W / 2, NODE_H / 2
    if kind == NAMESPACE:
        p.addRoundedRect(QRectF(-hw, -hh, NODE_W, NODE_H), 4, 4)
    elif kind in (GATEWAY, WAYPOINT):
        p.addPolygon(QPolygonF([QPointF(0, -hh - 4), QPointF(hw + 4, 0), QPointF(0, hh + 4), QPointF(-hw - 4, 0)]))
        p.closeSubpath()
    else:
        p.addPolygon(QPolygonF([QPointF(hw * math.cos(math.radians(a)), hh * math.sin(math.radians(a)))
                                for a in range(0, 360, 60)]))
        p.closeSubpath()
    return p


_GLYPH = {ISTIOD: "cp", NAMESPACE: "ns", GATEWAY: "gw", ZTUNNEL: "zt", WAYPOINT: "wp", ADDON: "", MESHDESK: "md"}


class MeshNodeItem(QGraphicsItem):
    """A node: its shape outlined in its health's colour, its name and a second line under it."""

    def __init__(self, node: MeshNode) -> None:
        super().__init__()
        self.node = node
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"{node.title} ({HEALTH_WORDS.get(node.health, node.health)})"
                        + ("\nDouble-click: show it in the traffic graph" if node.kind == NAMESPACE else ""))
        self._path = node_path(node.kind)
        self._font = QFont()
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        fm, fb = QFontMetricsF(self._font), QFontMetricsF(self._bold)
        self._label_w = max(fb.horizontalAdvance(node.name), fm.horizontalAdvance(node.subtitle), NODE_W)
        self._line_h = fm.height()

    @property
    def health_colour(self) -> QColor:
        return health_colour(self.node.health)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        w = min(self._label_w, COL_GAP - 20) + 8
        return QRectF(-w / 2, -NODE_H / 2 - 8, w, NODE_H + 16 + 2 * self._line_h)

    def shape(self) -> QPainterPath:
        p = QPainterPath(self._path)
        p.addRect(QRectF(-self._label_w / 2, NODE_H / 2 + 4, self._label_w, 2 * self._line_h))
        return p

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = self.health_colour
        if self.isSelected():
            painter.setPen(QPen(shapes.C_SELECTED, 7))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._path)
        painter.setPen(QPen(colour, 3 if self.node.health != GREY else 2,
                            Qt.PenStyle.SolidLine if self.node.health != GREY else Qt.PenStyle.DashLine))
        painter.setBrush(QBrush(shapes.C_NODE_FILL))
        painter.drawPath(self._path)
        glyph = _GLYPH.get(self.node.kind) or self.node.name[:1]
        painter.setPen(shapes.C_TEXT_DIM)
        painter.setFont(self._font)
        painter.drawText(QRectF(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H), Qt.AlignmentFlag.AlignCenter, glyph)
        top = NODE_H / 2 + 6
        width = min(self._label_w, COL_GAP - 20)
        painter.setPen(shapes.C_TEXT)
        painter.setFont(self._bold)
        elide = QFontMetricsF(self._bold).elidedText(self.node.name, Qt.TextElideMode.ElideMiddle, width)
        painter.drawText(QRectF(-width / 2, top, width, self._line_h), Qt.AlignmentFlag.AlignHCenter, elide)
        if self.node.subtitle:
            painter.setPen(shapes.C_TEXT_DIM)
            painter.setFont(self._font)
            sub = QFontMetricsF(self._font).elidedText(self.node.subtitle, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRectF(-width / 2, top + self._line_h, width, self._line_h),
                             Qt.AlignmentFlag.AlignHCenter, sub)


def _edge_path(a: QPointF, b: QPointF, via: tuple[QPointF, ...] = ()) -> QPainterPath:
    """A line from the edge of one node to the edge of the other, through the points ``via`` (round a
    column of nodes), with an arrowhead."""

    def unit(p: QPointF, q: QPointF) -> tuple[float, float]:
        dx, dy = q.x() - p.x(), q.y() - p.y()
        length = math.hypot(dx, dy) or 1.0
        return dx / length, dy / length

    first = via[0] if via else b
    last = via[-1] if via else a
    sx, sy = unit(a, first)
    ux, uy = unit(last, b)
    start = QPointF(a.x() + sx * (NODE_W / 2 + 2), a.y() + sy * (NODE_H / 2 + 2))
    end = QPointF(b.x() - ux * (NODE_W / 2 + 6), b.y() - uy * (NODE_H / 2 + 4))
    p = QPainterPath(start)
    for point in via:
        p.lineTo(point)
    p.lineTo(end)
    left = QPointF(end.x() - ux * 9 - uy * 4.5, end.y() - uy * 9 + ux * 4.5)
    right = QPointF(end.x() - ux * 9 + uy * 4.5, end.y() - uy * 9 - ux * 4.5)
    p.moveTo(left)
    p.lineTo(end)
    p.lineTo(right)
    return p


def _detour(mesh: MeshMap, at: dict[str, QPointF], source: str, target: str) -> tuple[QPointF, ...]:
    """The way an edge goes round the nodes it does not join: into its target from the left, along the
    gap before the target's column (clear of the names of the columns either side); to a column past the
    first of its source's, first up into the gap beside the source and along above the top row."""
    a, b = at[source], at[target]
    here, there = mesh.nodes[source].cluster, mesh.nodes[target].cluster
    if here and there and here != there:
        # across the clusters (a primary's istiod to a remote's namespace): round the right of every box,
        # clear of the nodes of the boxes between
        lane = max(p.x() for p in at.values()) + COL_GAP * 0.55
        mine = [at[t.id].y() for t in mesh.targets(source) if t.id in at and t.cluster == mesh.nodes[source].cluster]
        top = min([*mine, a.y()]) - ROW_GAP / 2
        return QPointF(a.x() + COL_GAP * 0.55, top), QPointF(lane, top), QPointF(lane, b.y())
    gap = b.x() - COL_GAP * 0.45
    if b.x() - a.x() < COL_GAP * 0.9:
        return ()
    if b.x() - a.x() < COL_GAP * 1.5:
        return (QPointF(gap, b.y()),)
    top = min(at[t.id].y() for t in mesh.targets(source) if t.id in at) - ROW_GAP / 2
    return QPointF(a.x() + COL_GAP * 0.55, top), QPointF(gap, top), QPointF(gap, b.y())


def layout(mesh: MeshMap) -> dict[str, QPointF]:
    """Where each node goes, left to right as a bottom dock is wide: meshdesk outside every box; in each
    cluster's box the addons in a first column, the control planes in the next, and each control
    plane's namespaces and gateways in the columns to its right (wrapped every ``ROWS_PER_COLUMN``),
    level with it; namespaces no running istiod takes under them."""
    at: dict[str, QPointF] = {}
    y0 = 0.0
    for box in mesh.of_kind(CLUSTER):
        addons = [n for n in mesh.nodes.values() if n.cluster == box.name and n.kind == ADDON]
        has_addons = bool(addons)
        cp_x = COL_GAP * (2 if has_addons else 1)
        y = y0
        for cp in (n for n in mesh.of_kind(ISTIOD) if n.cluster == box.name):
            mine = [t for t in mesh.targets(cp.id) if t.cluster == box.name]
            rows = min(len(mine), ROWS_PER_COLUMN) or 1
            for i, t in enumerate(mine):
                col, row = divmod(i, ROWS_PER_COLUMN)
                at[t.id] = QPointF(cp_x + COL_GAP * (1 + col), y + row * ROW_GAP)
            at[cp.id] = QPointF(cp_x, y + (rows - 1) * ROW_GAP / 2)
            y += rows * ROW_GAP + ROW_GAP / 3
        # another cluster's namespaces taken by this one's istiod: in their own box, level with nothing
        lone = [n for n in mesh.nodes.values() if n.cluster == box.name and n.id not in at
                and n.kind in (NAMESPACE, GATEWAY, ZTUNNEL, WAYPOINT)]
        for i, n in enumerate(lone):
            col, row = divmod(i, ROWS_PER_COLUMN)
            at[n.id] = QPointF(cp_x + COL_GAP * (1 + col), y + row * ROW_GAP)
        if lone:
            y += min(len(lone), ROWS_PER_COLUMN) * ROW_GAP
        top, bottom = y0, max(y - ROW_GAP, y0)
        start = (top + bottom) / 2 - (len(addons) - 1) * ROW_GAP / 2
        for i, n in enumerate(addons):
            at[n.id] = QPointF(COL_GAP, start + i * ROW_GAP)
        y0 = max(y, start + len(addons) * ROW_GAP) + BOX_PAD * 3
    me = mesh.nodes.get("meshdesk")
    if me is not None:
        ys = [at[n.id].y() for n in mesh.of_kind(ADDON) if n.id in at]
        at[me.id] = QPointF(0.0, sum(ys) / len(ys) if ys else 0.0)
    return at


class MeshCanvas(QGraphicsView):
    """The drawing: a scene of our own (cluster boxes, nodes, edges), zoom with the wheel."""

    nodeSelected = Signal(str)  # a node's id ("" when none is selected)
    nodeActivated = Signal(str)  # a node double-clicked (or Enter on it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setAccessibleName("Mesh graph")
        self.items_by_id: dict[str, MeshNodeItem] = {}
        self.edge_items: list[tuple[str, str, QGraphicsPathItem]] = []
        self.box_items: dict[str, QGraphicsRectItem] = {}
        self.box_configs: dict[str, QGraphicsSimpleTextItem] = {}  # each cluster box's mesh config, beside its name
        self.scene().selectionChanged.connect(self._on_selection)
        self._auto_fit = True  # fitted to the view as it is resized, until the user zooms

    def show_map(self, mesh: MeshMap) -> None:
        scene = self.scene()
        keep = self.selected_id()
        scene.blockSignals(True)
        scene.clear()
        self.items_by_id, self.edge_items, self.box_items, self.box_configs = {}, [], {}, {}
        scene.setBackgroundBrush(QBrush(shapes.C_CANVAS))
        at = layout(mesh)
        for box in mesh.of_kind(CLUSTER):
            inside = [at[n.id] for n in mesh.nodes.values() if n.cluster == box.name and n.id in at and n.kind != CLUSTER]
            if not inside:
                inside = [QPointF(COL_GAP, 0.0)]
            left = min(p.x() for p in inside) - COL_GAP / 2 + 10
            right = max(p.x() for p in inside) + COL_GAP / 2 - 10
            top = min(p.y() for p in inside) - NODE_H / 2 - BOX_PAD - 14
            bottom = max(p.y() for p in inside) + NODE_H / 2 + 2 * 18 + BOX_PAD / 2
            said = ""
            if box.subtitle:
                # its own mesh config (trust domain, mesh ID, network) on a line under its name: the box made
                # wide enough for it, leftwards (edges between the boxes go round on their right)
                metrics = QFontMetricsF(QFont())
                said = metrics.elidedText(box.subtitle, Qt.TextElideMode.ElideRight, 4 * COL_GAP)
                left = min(left, right - metrics.horizontalAdvance(said) - 24)
                top -= 16
            rect = QGraphicsRectItem(QRectF(left, top, right - left, bottom - top))
            rect.setPen(QPen(shapes.C_BOX_BORDER, 1.5, Qt.PenStyle.DashLine))
            rect.setBrush(QBrush(shapes.C_BOX_FILL))
            rect.setZValue(-2)
            rect.setToolTip(f"Cluster {box.name}" + (f"\nMesh config: {box.subtitle}" if box.subtitle else ""))
            scene.addItem(rect)
            title = QGraphicsSimpleTextItem(f"Cluster {box.name}", rect)
            font = QFont()
            font.setBold(True)
            title.setFont(font)
            title.setBrush(QBrush(shapes.C_TEXT))
            title.setPos(left + 10, top + 6)
            if said:
                config = QGraphicsSimpleTextItem(said, rect)
                config.setBrush(QBrush(shapes.C_TEXT_DIM))
                config.setPos(left + 10, top + 24)
                self.box_configs[box.name] = config
            self.box_items[box.name] = rect
        for edge in mesh.edges:
            if edge.source not in at or edge.target not in at:
                continue
            health = mesh.edge_health(edge)
            colour = shapes.C_FAILURE if health == RED else shapes.C_DEGRADED if health == ORANGE else shapes.C_NODE_BORDER
            item = QGraphicsPathItem(_edge_path(at[edge.source], at[edge.target],
                                                _detour(mesh, at, edge.source, edge.target)))
            item.setPen(QPen(colour, 2 if health in (RED, ORANGE) else 1.3))
            item.setZValue(-1)
            scene.addItem(item)
            self.edge_items.append((edge.source, edge.target, item))
        for node in mesh.nodes.values():
            if node.kind == CLUSTER or node.id not in at:
                continue
            node_item = MeshNodeItem(node)
            node_item.setPos(at[node.id])
            scene.addItem(node_item)
            self.items_by_id[node.id] = node_item
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-30, -30, 30, 30))
        if keep in self.items_by_id:
            self.items_by_id[keep].setSelected(True)
        scene.blockSignals(False)
        self._on_selection()
        if self._auto_fit and self.items_by_id:
            self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._auto_fit and self.items_by_id:
            self.fit()

    def fit(self) -> None:
        rect = self.scene().sceneRect()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        scale = self.transform().m11()
        if scale > 1.0 or scale < MIN_FIT_SCALE:
            # a small mesh stays at its own size; a big one no smaller than its names can be read (it
            # scrolls, from its top left: meshdesk and the control planes)
            self.resetTransform()
            if scale < MIN_FIT_SCALE:
                self.scale(MIN_FIT_SCALE, MIN_FIT_SCALE)
                view = self.viewport().rect()
                self.centerOn(QPointF(min(rect.left() + view.width() / MIN_FIT_SCALE / 2, rect.center().x()),
                                      min(rect.top() + view.height() / MIN_FIT_SCALE / 2, rect.center().y())))
            else:
                self.centerOn(rect.center())

    def selected_id(self) -> str:
        chosen = [i for i in self.scene().selectedItems() if isinstance(i, MeshNodeItem)]
        return chosen[0].node.id if chosen else ""

    def select(self, node_id: str) -> None:
        self.scene().clearSelection()
        item = self.items_by_id.get(node_id)
        if item is not None:
            item.setSelected(True)
            self.ensureVisible(item)

    def _on_selection(self) -> None:
        self.nodeSelected.emit(self.selected_id())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        item = self.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, MeshNodeItem):
            item = item.parentItem()
        if isinstance(item, MeshNodeItem):
            self.nodeActivated.emit(item.node.id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected_id():
            self.nodeActivated.emit(self.selected_id())
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        self._auto_fit = False
        self.scale(factor, factor)
        event.accept()


def details_html(mesh: MeshMap, node: MeshNode | None) -> str:
    """A node's details beside the drawing: its rows, what it takes (a control plane's namespaces and
    gateways) or what takes it; with none selected, the map in a few words."""
    if node is None:
        cps = mesh.of_kind(ISTIOD)
        nss = mesh.of_kind(NAMESPACE)
        boxes = mesh.of_kind(CLUSTER)
        ambient = [counted(len(found), what) for what, found in (("ztunnel", mesh.of_kind(ZTUNNEL)),
                                                                 ("waypoint", mesh.of_kind(WAYPOINT))) if found]
        body = (f"<p>{counted(len(boxes), 'cluster') + ': ' if len(boxes) > 1 else ''}"
                f"{len(cps)} control plane{'s' if len(cps) != 1 else ''}, {len(nss)} data-plane "
                f"namespace{'s' if len(nss) != 1 else ''}, {len(mesh.of_kind(GATEWAY))} gateway"
                f"{'s' if len(mesh.of_kind(GATEWAY)) != 1 else ''}"
                f"{'; ambient: ' + ', '.join(ambient) if ambient else ''}.</p>"
                "<p>Click a node for its details; double-click a namespace to show it in the traffic graph.</p>")
        from meshdesk.ui.theme import HINT, current_theme

        grey = HINT[current_theme()]  # (a fixed grey read 3:1 on the dark theme)
        notes = "".join(f"<p style='color:{grey}'>{escape(n)}</p>" for n in mesh.notes)
        return f"<h3>Mesh</h3>{body}{notes}" if mesh.nodes else f"<h3>Mesh</h3><p>Nothing read yet.</p>{notes}"
    colour = health_colour(node.health).name()
    head = (f"<h3>{escape(node.title)}</h3><p><span style='color:{colour}'>\u25cf</span> "
            f"{escape(HEALTH_WORDS.get(node.health, node.health))}</p>")
    rows = "".join(f"<tr><td valign='top'><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in node.rows)
    out = f"{head}<table cellspacing='3'>{rows}</table>"
    takes = mesh.targets(node.id)
    if takes:
        items = "".join(f"<li><span style='color:{health_colour(t.health).name()}'>\u25cf</span> "
                        f"{escape(t.kind_text.lower())} {escape(t.name)}</li>" for t in takes)
        what = "Manages" if node.kind == ISTIOD else "Reads"
        out += f"<p><b>{what}</b></p><ul>{items}</ul>"
    return out


class MeshView(QWidget):
    """The Mesh view: the drawing, and the selected node's details beside it."""

    namespaceRequested = Signal(str)  # a data-plane namespace double-clicked: show it in the traffic graph

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mesh = MeshMap()
        self.canvas = MeshCanvas()
        self.details = QTextBrowser()
        self.details.setAccessibleName("Mesh node details")
        self.details.setOpenLinks(False)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.canvas)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 280])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split, 1)
        self.canvas.nodeSelected.connect(self._show_details)
        self.canvas.nodeActivated.connect(self._activated)
        self._said: object = None
        self._show_details("")

    def set_map(self, mesh: MeshMap) -> None:
        """Draw ``mesh`` (again only when it says something else: the selection and zoom stay)."""
        said = (mesh.lines(), [(n.id, n.health, tuple(n.rows)) for n in mesh.nodes.values()])
        self.mesh = mesh
        if said == self._said:
            return
        self._said = said
        self.canvas.show_map(mesh)
        self._show_details(self.canvas.selected_id())

    def _show_details(self, node_id: str) -> None:
        self.details.setHtml(details_html(self.mesh, self.mesh.nodes.get(node_id)))

    def _activated(self, node_id: str) -> None:
        node = self.mesh.nodes.get(node_id)
        if node is not None and node.kind == NAMESPACE:
            self.namespaceRequested.emit(node.name)


class MeshDock(QDockWidget):
    """The Mesh view in a dock of the window (View > Mesh, Ctrl+M), drawn from what the window has read:
    its inventory (control planes, revisions, mesh configs, gateways), the namespace list with its labels
    (the data-plane namespaces outside the graph's too) and the addons' last answers. Drawn while in
    view; a refresh while hidden is drawn when it shows."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__("Mesh", window)
        self.setObjectName("meshDock")
        self.window_ = window
        self.view = MeshView()
        self.setWidget(self.view)
        self._stale = True
        self._sized = False
        self.visibilityChanged.connect(self._on_visibility)
        poller = getattr(window, "poller", None)
        if poller is not None:
            poller.namespacesListed.connect(lambda *_a: self.refresh())
        self.view.namespaceRequested.connect(self._show_namespace)

    def _on_visibility(self, shown: bool) -> None:
        if not shown:
            return
        if not self._sized and not self.isFloating():
            # tall enough the first time to read a control plane with its namespaces
            self._sized = True
            self.window_.resizeDocks([self], [320], Qt.Orientation.Vertical)
        self.refresh()

    def refresh(self) -> None:
        """Draw the mesh as the window knows it now (nothing is asked of the cluster)."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self.view.set_map(self.current_map())

    def current_map(self) -> MeshMap:
        w = self.window_
        info = getattr(w, "info", None)
        inventory = getattr(w, "inventory", None) or getattr(w, "_partial_inventory", None)
        poller = getattr(w, "poller", None)
        if info is None or poller is None:
            return MeshMap()
        live = bool(getattr(info, "live", True))
        if inventory is None:
            if not live and getattr(w, "graph", None) is not None:
                # its traffic alone: nothing to draw the mesh from, said rather than "nothing read yet"
                return MeshMap(notes=["This snapshot was taken without an inventory: its control planes, "
                                      "namespaces and gateways are not recorded."])
            return MeshMap()
        listed, labelled = getattr(poller, "listed_namespaces", ((), frozenset()))
        addons = list(addon_states(poller.source, info, getattr(w, "last_error", None), grafana_links(w)))
        graph = getattr(w, "graph", None)
        shown = list(graph.request.namespaces) if graph is not None else [n.name for n in inventory.namespaces]
        # a snapshot's namespace list holds the names alone: only those its inventory has are labelled
        return build_mesh_map(inventory, cluster=str(getattr(info, "cluster", "") or ""), listed=listed,
                              labelled=labelled, addons=addons, recorded=not live, shown=shown)

    def _show_namespace(self, name: str) -> None:
        show = getattr(self.window_, "show_namespace", None)
        if callable(show):
            show(name)
