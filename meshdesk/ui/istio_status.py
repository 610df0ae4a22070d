"""The status bar's Istio status (Kiali's masthead indicator): a coloured dot and a few words ("Istio:
healthy", "Istio: 1 component unhealthy"), and in its tooltip - shown at once on a click - each
component with its replicas and state (``meshdesk.mesh.istio_status``).

Nothing here asks the cluster: the components come from the inventory the poller's worker read, and
the addons from what the window and its source already know (Prometheus answered the last refresh or
failed it; the tracing backend as the Traces dock last found it)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from PySide6.QtCore import QPoint, Qt, Slot
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPixmap
from PySide6.QtWidgets import QToolTip, QWidget

from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.istio_status import (
    DANGER,
    HEALTHY,
    INFO,
    NOT_CHECKED,
    NOT_FOUND,
    NOT_KNOWN,
    NOT_READY,
    OK,
    UNREACHABLE,
    WARNING,
    ComponentStatus,
    IstioStatus,
    addon,
    judge,
)
from meshdesk.sources.base import PrometheusError, PrometheusNotFound, SourceError, SourceInfo
from meshdesk.ui.tls_lock import StatusIndicator

ICON_PX = 12
# Kiali's (PatternFly's) colours for its status: danger, warning, info, success; grey for what is not known
COLOURS = {DANGER: "#c9190b", WARNING: "#f0ab00", INFO: "#2b9af3", OK: "#3e8635"}
GREY = "#8a8d90"
TRACING = "Tracing backend"


def level_colour(level: str) -> str:
    return COLOURS.get(level, GREY)


def component_colour(c: ComponentStatus) -> str:
    """A component's own colour, as Kiali's popover marks it: red for a core one in trouble, orange for
    another, blue when scaled to zero, grey when not found, not known or not checked, else green."""
    if c.trouble:
        return COLOURS[DANGER] if c.core else COLOURS[WARNING]
    if c.state == NOT_READY:
        return COLOURS[INFO]
    return COLOURS[OK] if c.state == HEALTHY else GREY


GRAFANA = "Grafana"
# a snapshot's meta key for the addons' states as the window knew them when it was saved
RECORDED_ADDONS = "addons"


def addon_states(source: Any, info: SourceInfo | None, last_error: SourceError | None,
                 grafana: Any = None) -> tuple[ComponentStatus, ...]:
    """Prometheus, the tracing backend and Grafana, by what the window knows now (no call is made):
    Prometheus answered the last refresh or failed it; the tracing backend as the source last found it;
    Grafana as "View in Grafana" (``grafana``, the window's GrafanaLinks) last found it. A snapshot
    shows those it recorded when it was saved (``recorded_addons``), and says the others not known."""
    if info is None:
        return ()
    if not info.live:
        told = getattr(source, "recorded_addons", None)
        kept = told() if callable(told) else None
        if kept:
            return tuple(kept)
        why = "a snapshot does not record it"
        return addon("Prometheus", NOT_KNOWN, why), addon(TRACING, NOT_KNOWN, why), addon(GRAFANA, NOT_KNOWN, why)
    if isinstance(last_error, PrometheusNotFound):
        prometheus = addon("Prometheus", NOT_FOUND, last_error.message)
    elif isinstance(last_error, PrometheusError):
        prometheus = addon("Prometheus", UNREACHABLE, last_error.message)
    elif last_error is not None:  # the cluster itself failed: whether Prometheus answers is not known
        prometheus = addon("Prometheus", NOT_KNOWN, "the cluster did not answer")
    elif info.prometheus.startswith("not reachable"):
        prometheus = addon("Prometheus", UNREACHABLE, info.prometheus.split(": ", 1)[-1])
    elif "not connected yet" in info.prometheus:
        prometheus = addon("Prometheus", NOT_CHECKED, "")
    else:
        prometheus = addon("Prometheus", HEALTHY, info.prometheus)
    state = getattr(source, "tracing_state", None)
    told = state() if callable(state) else ("", "")
    tracing = {"reachable": addon(TRACING, HEALTHY, told[1]),
               "unreachable": addon(TRACING, UNREACHABLE, told[1]),
               # none in the cluster: many meshes run none, and Kiali's tracing is off by default
               "not found": ComponentStatus(TRACING, NOT_FOUND, detail=told[1], addon=True, optional=True),
               }.get(told[0], addon(TRACING, NOT_CHECKED, "looked for when the Traces dock first searches"))
    return prometheus, tracing, grafana_state(info, grafana)


def grafana_state(info: Any, links: Any) -> ComponentStatus:
    """Grafana as the window last found it, asking nothing: reached when "View in Grafana" last opened a
    dashboard, unreachable when it failed, not checked before one; in a snapshot, not recorded. Not core,
    as Kiali lists it."""
    if not getattr(info, "live", True):
        return addon(GRAFANA, NOT_KNOWN, "a snapshot does not record it")
    if links is None:
        return addon(GRAFANA, NOT_CHECKED, "")
    if links.unavailable:
        return ComponentStatus(GRAFANA, NOT_FOUND, detail=links.unavailable, addon=True, optional=True)
    state, detail = links.outcome
    if state == "reachable":
        return addon(GRAFANA, HEALTHY, detail)
    if state == "unreachable":
        return addon(GRAFANA, UNREACHABLE, detail)
    return addon(GRAFANA, NOT_CHECKED, "looked for when \u201cView in Grafana\u201d (the Metrics dock) is first used")


def grafana_links(window: Any) -> Any:
    """The window's "View in Grafana" (an extension's GrafanaLinks), None when it has none."""
    for ext in getattr(window, "extensions", ()):
        links = getattr(ext, "grafana", None)
        if links is not None and hasattr(links, "outcome"):
            return links
    return None


def recorded(addons: Sequence[ComponentStatus]) -> list[dict[str, Any]]:
    """The addons' states as a snapshot keeps them (``RECORDED_ADDONS``): what was not known or not
    checked yet is left out, and stays "not recorded" when the snapshot is opened."""
    return [{"name": a.name, "state": a.state, "detail": a.detail, "optional": a.optional}
            for a in addons if a.state not in (NOT_KNOWN, NOT_CHECKED)]


def from_recorded(kept: Any) -> tuple[ComponentStatus, ...] | None:
    """The addons a snapshot recorded (None when it recorded none, as one saved by an older meshdesk):
    each as it was when saved, those it left out not known. A damaged entry is left out."""
    if not isinstance(kept, list):
        return None
    states = {HEALTHY, UNREACHABLE, NOT_FOUND}
    found: dict[str, ComponentStatus] = {}
    for item in kept:
        if not isinstance(item, dict) or item.get("name") not in ("Prometheus", TRACING, GRAFANA) \
                or item.get("state") not in states:
            continue
        detail = str(item.get("detail") or "")
        found[item["name"]] = ComponentStatus(item["name"], item["state"], addon=True,
                                              optional=bool(item.get("optional")),
                                              detail=f"when the snapshot was saved{': ' + detail if detail else ''}")
    why = "not recorded in this snapshot"
    return tuple(found.get(n) or addon(n, NOT_KNOWN, why) for n in ("Prometheus", TRACING, GRAFANA))


def dot_pixmap(colour: QColor, size: int = ICON_PX, ratio: float = 1.0) -> QPixmap:
    pm = QPixmap(round(size * ratio), round(size * ratio))
    pm.setDevicePixelRatio(ratio)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(colour))
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return pm


def _section(title: str, rows: Sequence[ComponentStatus], grey: str = GREY) -> str:
    """A section's rows of the popup's one table (one table: the columns line up across sections)."""
    if not rows:
        return ""
    cells = [f"<tr><td colspan='4' style='padding-top:6px'><b>{escape(title)}</b></td></tr>"]
    for c in rows:
        detail = f"<br><span style='color:{grey}'>{escape(c.detail)}</span>" if c.detail else ""
        cells.append(f"<tr><td width='10' style='color:{component_colour(c)}'>\u25cf</td>"
                     f"<td>{escape(c.title)}{detail}</td><td align='right'>{escape(c.replicas)}</td>"
                     f"<td>{escape(c.state)}</td></tr>")
    return "".join(cells)


def tooltip_html(status: IstioStatus, recorded: bool = False, theme: str = "") -> str:
    """The popup: the headline, then the control plane (core), the gateways and the addons; its notes and
    each component's detail in the grey of the ``theme``'s hints (the light or dark one; "": the one
    showing). The fixed grey read 3.2:1 on the light theme's tooltip."""
    from meshdesk.ui.theme import HINT, current_theme

    grey = HINT.get(theme or current_theme(), GREY)
    head = f"<b>Istio: {escape(status.label)}</b>"
    if recorded:
        head += f"<br><span style='color:{grey}'>as the snapshot recorded it</span>"
    core = [c for c in status.components if c.core]
    gateways = [c for c in status.components if not c.core and not c.addon]
    addons = [c for c in status.components if c.addon]
    rows = _section("Control plane (core)", core, grey) + _section("Gateways", gateways, grey) \
        + _section("Addons", addons, grey)
    notes = "".join(f"<p style='color:{grey}'>{escape(n)}</p>" for n in status.notes)
    return f"<qt>{head}<table cellspacing='3'>{rows}</table>{notes}</qt>"


class IstioStatusIndicator(StatusIndicator):
    """The status bar's Istio status: hidden until an inventory of a cluster with Istio is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, ICON_PX)
        self.status: IstioStatus | None = None
        self._inventory: Inventory | None = None  # the one ``_judged`` is of
        self._judged: IstioStatus | None = None
        self._recorded = False
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        from meshdesk.ui.theme import theme_signals

        theme_signals.changed.connect(self._theme_changed)

    def set_status(self, inventory: Inventory | None, addons: Sequence[ComponentStatus] = (), *,
                   recorded: bool = False) -> None:
        """Show the components of ``inventory`` and the ``addons`` (nothing without an inventory, or in a
        cluster without Istio: the window says that). ``recorded``: of a snapshot."""
        if inventory is not self._inventory:
            # judged once per inventory read (a refresh), not at each update of the status bar
            self._inventory = inventory
            self._judged = judge(inventory) if inventory is not None else None
        if self._judged is None:
            self.status = None
            self.hide()
            return
        status = self._judged.with_addons(addons)
        if status == self.status and recorded == self._recorded:
            return  # nothing changed: the tooltip a user reads stays as it is
        self.status, self._recorded = status, recorded
        self.label.setText(f"Istio: {status.label}")
        self.setToolTip(tooltip_html(status, recorded))
        self.setAccessibleDescription("\n".join(status.lines()))
        self._draw()
        self.show()

    @Slot(str)
    def _theme_changed(self, _name: str) -> None:
        if self.status is not None:  # the popup's greys in the theme now showing
            self.setToolTip(tooltip_html(self.status, self._recorded))

    def _draw(self) -> None:
        if self.status is not None:
            self.icon.setPixmap(dot_pixmap(QColor(level_colour(self.status.level)), ratio=self.devicePixelRatioF()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        # on release: a tooltip shown on the press would be hidden by the release that follows
        if event.button() == Qt.MouseButton.LeftButton and self.toolTip() and self.rect().contains(event.position().toPoint()):
            # a click shows the list at once, above the status bar, rather than waiting for the hover
            QToolTip.showText(self.mapToGlobal(QPoint(0, 0)), self.toolTip(), self)
            event.accept()
            return
        super().mouseReleaseEvent(event)
