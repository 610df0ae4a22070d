"""The mesh-wide mTLS lock of the status bar (Kiali's lock in its masthead): a padlock and a word or
two ("mTLS: enabled"), and in its tooltip what decides it (``meshdesk.mesh.tls_status``)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.tls_status import MeshTls, mesh_tls, mesh_tls_by_cluster

ICON_PX = 14
_LOCKS = ("open", "unknown", "hollow", "full")  # the least protected first


def lock_pixmap(kind: str, colour: QColor, size: int = ICON_PX, ratio: float = 1.0) -> QPixmap:
    """A padlock: "full" (closed, filled), "hollow" (closed, outlined), "open" (shackle lifted) or
    "unknown" (outlined, with a question mark)."""
    pm = QPixmap(round(size * ratio), round(size * ratio))
    pm.setDevicePixelRatio(ratio)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 14.0
    p.scale(s, s)
    pen = QPen(colour, 1.5)
    body = QRectF(2.5, 6.5, 9, 6.5)
    shackle = QPainterPath()
    lift = 1.8 if kind == "open" else 0.0
    shackle.moveTo(4.5, 6.5 - lift)
    shackle.lineTo(4.5, 5.5 - lift)
    shackle.arcTo(QRectF(4.5, 2.8 - lift, 5, 5.4), 180, -180)
    if kind != "open":
        shackle.lineTo(9.5, 6.5)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(shackle)
    p.setBrush(QBrush(colour) if kind == "full" else Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(body, 1.2, 1.2)
    if kind == "unknown":
        font = p.font()
        font.setPixelSize(7)
        font.setBold(True)
        p.setFont(font)
        p.drawText(body, Qt.AlignmentFlag.AlignCenter, "?")
    elif kind != "full":
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(colour))
        p.drawEllipse(QPointF(7, 9.6), 1.1, 1.1)  # the keyhole
    p.end()
    return pm


class StatusIndicator(QWidget):
    """A status bar's small icon and words (the mTLS lock, the Istio status), hidden until it has
    something to say."""

    def __init__(self, parent: QWidget | None = None, icon_px: int = ICON_PX) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.setSpacing(4)
        self.icon = QLabel()
        self.icon.setFixedSize(icon_px, icon_px)
        self.label = QLabel()
        lay.addWidget(self.icon)
        lay.addWidget(self.label)
        self.hide()

    def text(self) -> str:
        return self.label.text()


class MeshTlsIndicator(StatusIndicator):
    """The status bar's mesh-wide mTLS: hidden until an inventory says something of it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: MeshTls | None = None
        self._inventory: Inventory | None = None  # the one ``status`` is of
        self.by_cluster: list[tuple[str, MeshTls]] = []  # each cluster's, of a mesh over several
        self._icon = "unknown"  # the lock drawn

    def set_inventory(self, inventory: Inventory | None) -> None:
        """Show the mesh-wide status of ``inventory`` (nothing when there is none)."""
        if inventory is None:
            self._inventory, self.status = None, None
            self.hide()
            return
        if inventory is self._inventory and self.status is not None:
            return  # the same inventory shown again (a panel refresh): nothing to weigh again
        self._inventory = inventory
        self.status = mesh_tls(inventory)
        # of a mesh over several clusters, each cluster's own, said apart where they differ
        self.by_cluster = mesh_tls_by_cluster(inventory)
        # (the shown context not read: its cluster's status is not known, the others' are each said)
        home_unread = inventory.unread_clusters.get(inventory.cluster) if self.by_cluster else None
        if len({(t.label, t.icon) for _c, t in self.by_cluster}) > 1 or home_unread:
            self.label.setText("mTLS: " + ", ".join(f"{t.label} in {c}" for c, t in self.by_cluster))
            self.setToolTip("\n\n".join([*(f"Cluster {c}: {t.tooltip}" for c, t in self.by_cluster),
                                          *([f"Cluster {inventory.cluster}: not read ({home_unread})"]
                                            if home_unread else [])]))
            # the lock of the least protected cluster
            self._icon = min((t.icon for _c, t in self.by_cluster), key=_LOCKS.index)
        else:
            self.label.setText(f"mTLS: {self.status.label}")
            self.setToolTip(self.status.tooltip)
            self._icon = self.status.icon
        self._draw()
        self.show()

    def _draw(self) -> None:
        if self.status is None:
            return
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        self.icon.setPixmap(lock_pixmap(self._icon, colour, ratio=self.devicePixelRatioF()))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.PaletteChange:
            self._draw()  # the theme changed: the lock takes the text's colour
        super().changeEvent(event)
