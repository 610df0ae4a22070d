"""The Metrics dock's "View in Grafana": Istio's dashboard of what is charted (or the Grafana dashboard a
charted runtime dashboard links to), opened in the browser.

Finding Grafana (and forwarding a port to it) and its dashboard takes API calls: they run on a worker
thread, and the browser is opened when the link is known. What happened is said beside the button.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from meshdesk.mesh.dashboards import grafana_query, prometheus_label
from meshdesk.mesh.inventory import VERSION_LABELS
from meshdesk.mesh.metrics import KIND_SERVICE, KIND_WORKLOAD, MetricsTarget
from meshdesk.sources.base import SourceError
from meshdesk.sources.grafana import DASHBOARDS, DashboardLink, GrafanaOpener


def dashboard_for(target: MetricsTarget | None) -> tuple[str, str, str]:
    """(dashboard kind, namespace, name) for what is charted: a workload's or a service's own dashboard,
    the mesh's for anything else (as Kiali links only those two, and the mesh's from its overview)."""
    if target is not None and target.kind in (KIND_WORKLOAD, KIND_SERVICE) and target.namespace and target.name:
        return ("workload" if target.kind == KIND_WORKLOAD else "service"), target.namespace, target.name
    return "mesh", "", ""


# the version labels' names as Prometheus has them (a runtime dashboard's target is selected by one)
_VERSION_LABELS = frozenset(prometheus_label(v) for v in VERSION_LABELS)


def runtime_grafana_links(target: MetricsTarget | None, datasource: str = "") -> list[tuple[str, dict[str, str], str]]:
    """(Grafana dashboard title, its variables, what to call it) of each of a charted runtime dashboard's
    external links that applies to what it charts (a workload's or an app's, as Kiali shows them), in their
    order; none when no runtime dashboard is charted or it links to none that applies. ``datasource``: the
    uid of Grafana's datasource, for a link's datasource variable."""
    dashboard = target.dashboard if target is not None else None
    if target is None or dashboard is None or not dashboard.external_links:
        return []
    of = "app" if target.title.startswith(f"{dashboard.title} of app ") else "workload"
    version = next((v for k, v in target.labels if k in _VERSION_LABELS), "")
    out = []
    for link in dashboard.external_links:
        query = grafana_query(link, of, target.namespace, target.name, version, datasource)
        if query is not None:
            out.append((link.title, query, f"{link.title} of {of} {target.namespace}/{target.name}"))
    return out


def runtime_grafana_link(target: MetricsTarget | None) -> tuple[str, dict[str, str], str] | None:
    """The first of ``runtime_grafana_links``; None when there is none."""
    links = runtime_grafana_links(target)
    return links[0] if links else None


def describe(kind: str, namespace: str, name: str) -> str:
    title = DASHBOARDS[kind][0]
    return f"{title} of {namespace}/{name}" if name else title


class GrafanaLinks(QObject):
    """Asks a :class:`GrafanaOpener` for a dashboard's link off the UI thread and opens it in the browser."""

    said = Signal(str, bool)  # what happened, in words; whether it failed
    opened = Signal(str)  # the URL given to the browser
    _done = Signal(int, object, object)  # request number, DashboardLink or None, error or None

    def __init__(self, parent: QObject | None = None,
                 open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl) -> None:
        super().__init__(parent)
        self._opener: GrafanaOpener | None = None
        self.unavailable = "No cluster is open"  # why there is no Grafana to open ("": there is one)
        # what the last look for a dashboard found of Grafana (the Mesh view's reachability): ("reachable",
        # how it was reached), ("unreachable", why), or ("", "") before one
        self.outcome: tuple[str, str] = ("", "")
        self._open_url = open_url
        self._asked = 0  # the number of the last request; an older one's answer is dropped
        self._busy = False
        self._done.connect(self._on_done)

    @property
    def busy(self) -> bool:
        return self._busy

    def set_opener(self, opener: GrafanaOpener | None, unavailable: str = "") -> None:
        """The way to the shown context's Grafana (the one before is closed, its port-forward with it);
        None with the reason there is none (the demo mesh, a snapshot)."""
        old, self._opener = self._opener, opener
        if old is not opener:
            self.outcome = ("", "")
        self.unavailable = "" if opener is not None else (unavailable or "No Grafana for this mesh")
        self._asked += 1  # what an old opener finds is not opened
        self._busy = False
        if old is not None and old is not opener:
            threading.Thread(target=old.close, name="meshdesk-grafana-close", daemon=True).start()

    def request(self, kind: str, namespace: str = "", name: str = "", range_s: int = 0, end: float = 0.0) -> bool:
        """Look for the dashboard and open it (over ``range_s`` up to now, or to ``end``: a replayed moment); False (and said) when there is no Grafana to ask."""
        return self._request(describe(kind, namespace, name),
                             lambda opener: opener.link(kind, namespace, name, range_s, end))

    def request_titled(self, title: str, query: Mapping[str, str], what: str) -> bool:
        """Look for the Grafana dashboard titled ``title`` (a runtime dashboard's external link) and open it
        with ``query`` (its variables and range); ``what`` names it while it is looked for."""
        return self._request(what, lambda opener: opener.link_to(title, query))

    def _request(self, what: str, find: Callable[[GrafanaOpener], DashboardLink]) -> bool:
        opener = self._opener
        if opener is None:
            self.said.emit(self.unavailable, True)
            return False
        self._asked += 1
        number = self._asked
        self._busy = True
        self.said.emit(f"Opening {what}\u2026", False)

        def run() -> None:
            try:
                link = find(opener)
            except SourceError as e:
                self._done.emit(number, None, e)
            except Exception as e:  # noqa: BLE001 - said in the dock, never a crash
                self._done.emit(number, None, SourceError(f"Grafana could not be asked: {type(e).__name__}"))
            else:
                self._done.emit(number, link, None)

        threading.Thread(target=run, name="meshdesk-grafana", daemon=True).start()
        return True

    def _on_done(self, number: int, link: DashboardLink | None, error: SourceError | None) -> None:
        if number != self._asked:
            return
        self._busy = False
        if error is not None or link is None:
            message = error.message if error is not None else "Grafana gave no link"
            hint = error.hint if error is not None else ""
            self.outcome = ("unreachable", message)
            self.said.emit(f"{message}{': ' + hint if hint else ''}", True)
            return
        if not self._open_url(QUrl(link.url)):
            self.said.emit(f"No browser could be started for {link.url}", True)
            return
        self.opened.emit(link.url)
        how = self._opener.description if self._opener is not None else ""
        self.outcome = ("reachable", how or "answered")
        if link.searched:
            self.said.emit(f"Grafana wants a login: its search for {link.title} is open in your browser"
                           + (f" ({how})" if how else ""), False)
        else:
            self.said.emit(f"{link.title} is open in your browser" + (f" ({how})" if how else ""), False)

    def shutdown(self) -> None:
        opener, self._opener = self._opener, None
        self._asked += 1
        if opener is not None:
            opener.close()


__all__ = ["GrafanaLinks", "dashboard_for", "describe", "runtime_grafana_link", "runtime_grafana_links"]
