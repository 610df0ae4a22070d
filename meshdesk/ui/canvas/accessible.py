"""The traffic graph for assistive technology: each shown node is an accessible object of its own.

A screen reader sees the graph as a list of its shown nodes, in the order Tab walks them, each named
as the graph's accessible name says a selected one ("workload shop/reviews-v1, healthy, 3 edges in,
1 out"), selected and focused as the graph is; a node's shown edges are its children, in the order E
walks them. So a reader can go through the nodes with its own review keys, find one by its name, and
hear the node or edge the keyboard moved to, where before it could only hear the graph's name.

Qt keeps the interfaces an assistive technology has asked for in a cache of raw pointers, and Python
would free one as soon as nothing of ours refers to it: an interface is therefore made once per node
(and per node's edge) and kept, by a record of the view's that is not itself an interface (Qt deletes
the view's interface with the view), until the view is destroyed or the application quits, when they
are taken out of Qt's cache before Python lets them go. An interface whose node has gone answers that it
is no longer valid, and one whose view has gone answers nothing.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QPoint, QRect, QTimer
from PySide6.QtGui import QAccessible, QAccessibleEvent, QAccessibleInterface, QWindow
from PySide6.QtWidgets import QAccessibleWidget

if TYPE_CHECKING:
    from meshdesk.ui.canvas.view import GraphView

_installed = False
_quitting = False
_records: dict[int, _Record] = {}  # by the view's id, while it lives


def install() -> None:
    """Make Qt ask us for the graph view's accessible interface (once per process)."""
    global _installed
    if _installed:
        return
    QAccessible.installFactory(_factory)
    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(_on_quit)
    _installed = True


def _on_quit() -> None:
    """Qt's cache deletes what it holds after Python has gone: take ours out of it first."""
    global _quitting
    _quitting = True
    for record in list(_records.values()):
        record.release()


def _factory(_key: str, obj: QObject) -> QAccessibleInterface | None:
    from meshdesk.ui.canvas.view import GraphView

    if isinstance(obj, GraphView):
        return GraphAccessible(obj)
    return None


def record_of(view: GraphView) -> _Record:
    record = _records.get(id(view))
    if record is None or record.view is None or record.view() is not view:
        record = _records[id(view)] = _Record(view)
    return record


class _Record:
    """What the accessible graph of one view knows: the interfaces made for its nodes and edges (kept
    alive here, see the module's docstring) and what is shown, worked out once per turn of the event
    loop (a reader asks for every child in one go, and the Tab order of a big mesh costs milliseconds)."""

    def __init__(self, view: GraphView) -> None:
        self.view: weakref.ref[GraphView] | None = weakref.ref(view)  # (not kept alive by its reader)
        self.key = id(view)
        self.items: dict[tuple[str, str | None], _Item] = {}
        self.nodes: list[str] | None = None
        self.index: dict[str, int] = {}
        self.edges: dict[str, list[str]] = {}
        self.signature: tuple[int, ...] = ()
        self.told: frozenset[str] | None = None  # the nodes shown when a reader was last told the list changed
        view.destroyed.connect(lambda *_a, record=self: record.release())

    def release(self) -> None:
        """The view is gone (or the application quits): every interface out of Qt's cache, then let go."""
        self.view = None
        for item in self.items.values():
            QAccessible.deleteAccessibleInterface(QAccessible.uniqueId(item))
        self.items.clear()
        if _records.get(self.key) is self:
            del _records[self.key]

    def live_view(self) -> GraphView | None:
        view = self.view() if self.view is not None else None
        if view is None or _quitting or view.is_shut():
            return None
        return view

    def interface(self) -> QAccessibleInterface | None:
        view = self.live_view()
        return QAccessible.queryAccessibleInterface(view) if view is not None else None

    def _stale(self) -> None:
        self.nodes = None

    def shown_nodes(self) -> dict[str, int]:
        """The shown nodes' ids, each with its place in the Tab order."""
        view = self.live_view()
        if view is None:
            return {}
        signature = view.shown_signature()
        if self.nodes is None or signature != self.signature:
            self.signature = signature
            self.edges = {}
            self.nodes = view.tab_order()
            self.index = {nid: i for i, nid in enumerate(self.nodes)}
            QTimer.singleShot(0, self._stale)
        return self.index

    def shown_edges(self, node: str) -> list[str]:
        view = self.live_view()
        if view is None:
            return []
        self.shown_nodes()  # (drops the edges read before a change)
        edges = self.edges.get(node)
        if edges is None:
            edges = self.edges[node] = view.node_edges(node)
        return edges

    def node_at(self, index: int) -> _Item | None:
        self.shown_nodes()
        order = self.nodes or []
        return self.item(order[index]) if 0 <= index < len(order) else None

    def item(self, node: str, edge: str | None = None) -> _Item:
        key = (node, edge)
        found = self.items.get(key)
        if found is None:
            found = self.items[key] = _Item(self, node, edge)
        return found

    def focused(self) -> _Item | None:
        """The node or edge the keyboard is on: the one selected, when it is alone; an edge under the
        node E walked it from (else its source)."""
        view = self.live_view()
        if view is None:
            return None
        chosen = view.selected_ids()
        if len(chosen) != 1:
            return None
        sel = chosen[0]
        if sel in self.shown_nodes():
            return self.item(sel)
        ends = view.edge_walk_node(sel)
        if ends is not None and sel in self.shown_edges(ends):
            return self.item(ends, sel)
        return None


class _Item(QAccessibleInterface):
    """A shown node (``edge`` None) or one of a node's shown edges, as a list item."""

    def __init__(self, record: _Record, node: str, edge: str | None = None) -> None:
        super().__init__()
        self._record = record
        self.node = node
        self.edge = edge

    @property
    def item_id(self) -> str:
        return self.edge if self.edge is not None else self.node

    def isValid(self) -> bool:
        if self._record.live_view() is None:
            return False
        if self.edge is None:
            return self.node in self._record.shown_nodes()
        return self.edge in self._record.shown_edges(self.node)

    def object(self) -> QObject | None:  # type: ignore[override]  # noqa: A003 - Qt's name, may be null
        return None

    def window(self) -> QWindow | None:  # type: ignore[override]  # (Qt's may be null)
        view = self._record.live_view()
        return view.window().windowHandle() if view is not None else None

    def relations(self, _match: Any = None) -> list[Any]:
        return []

    def focusChild(self) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt's may be null)
        return None

    def parent(self) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt's may be null)
        if self.edge is None:
            return self._record.interface()
        return self._record.item(self.node) if self._record.live_view() is not None else None

    def childCount(self) -> int:
        if self.edge is not None or not self.isValid():
            return 0
        return len(self._record.shown_edges(self.node))

    def child(self, index: int) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt's may be null)
        if self.edge is not None:
            return None
        edges = self._record.shown_edges(self.node)
        if not 0 <= index < len(edges):
            return None
        return self._record.item(self.node, edges[index])

    def indexOfChild(self, child: QAccessibleInterface) -> int:
        if self.edge is not None or not isinstance(child, _Item) or child.edge is None or child.node != self.node:
            return -1
        edges = self._record.shown_edges(self.node)
        return edges.index(child.edge) if child.edge in edges else -1

    def childAt(self, x: int, y: int) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt's may be null)
        return None

    def text(self, t: QAccessible.Text) -> str:
        view = self._record.live_view()
        if view is None or t != QAccessible.Text.Name or not self.isValid():
            return ""
        return view.item_spoken(self.item_id, from_node=self.node if self.edge is not None else None)

    def setText(self, t: QAccessible.Text, text: str) -> None:
        pass

    def rect(self) -> QRect:
        view = self._record.live_view()
        rect = view.item_screen_rect(self.item_id) if view is not None else None
        return rect if rect is not None else QRect()

    def role(self) -> QAccessible.Role:
        return QAccessible.Role.ListItem

    def state(self) -> QAccessible.State:
        state = QAccessible.State()
        view = self._record.live_view()
        if view is None or not self.isValid():
            state.invalid = True
            return state
        state.selectable = True
        state.focusable = True
        state.selected = self.item_id in view.selected_ids()
        state.focused = view.hasFocus() and self._record.focused() is self
        shown = view.item_screen_rect(self.item_id)
        port = view.viewport()
        state.offscreen = shown is None or not port.rect().translated(port.mapToGlobal(QPoint(0, 0))).intersects(shown)
        return state


class GraphAccessible(QAccessibleWidget):
    """The graph view as a list of its shown nodes (see the module's docstring)."""

    def __init__(self, view: GraphView) -> None:
        super().__init__(view, QAccessible.Role.List)
        self._record = record_of(view)

    def childCount(self) -> int:
        return len(self._record.shown_nodes())

    def child(self, index: int) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt's may be null)
        return self._record.node_at(index)

    def indexOfChild(self, child: QAccessibleInterface) -> int:
        if not isinstance(child, _Item) or child.edge is not None:
            return -1
        return self._record.shown_nodes().get(child.node, -1)

    def focusChild(self) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt's may be null)
        return self._record.focused()

    def childAt(self, x: int, y: int) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt's may be null)
        view = self._record.live_view()
        if view is None:
            return None
        nid = view.node_at_global(QPoint(x, y))
        return self._record.item(nid) if nid is not None and nid in self._record.shown_nodes() else None


def reordered(view: GraphView) -> bool:
    """Tell a reader the list of nodes changed (a refresh added or dropped nodes, Hide hid some): it reads
    the list again rather than a copy it kept. Only when a reader is on and the nodes shown did change;
    returns whether it was told."""
    if not QAccessible.isActive() or view.is_shut():
        return False
    record = record_of(view)
    shown = view.shown_node_ids()  # (a refresh of the same nodes, every few seconds, is no change)
    if shown == record.told:
        return False
    record.told = shown
    QAccessible.updateAccessibility(QAccessibleEvent(view, QAccessible.Event.ObjectReorder))
    return True


def announce(view: GraphView) -> bool:
    """A focus event for the node or edge the keyboard moved to, which a reader reads out; False when
    the keyboard is on no one node or edge."""
    item = record_of(view).focused()
    if item is None:
        return False
    QAccessible.updateAccessibility(QAccessibleEvent(item, QAccessible.Event.Focus))
    return True


__all__ = ["GraphAccessible", "announce", "install", "reordered"]
