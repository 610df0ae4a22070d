"""Settings: per kubeconfig context the Prometheus address and the tracing backend's (Jaeger or Tempo),
how to authenticate to each, and the refresh defaults; the read-only switch; the theme.

Reads and writes through :mod:`meshdesk.store.settings`. Edits to several contexts are kept while the
user switches between them and written together on OK; Cancel writes nothing. Tokens and passwords are
typed into password fields and never logged or shown in messages.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.check_codes import IGNORED_BY_DEFAULT, checks_left_out
from meshdesk.mesh.dashboards import dashboards_summary, read_custom_dashboards
from meshdesk.mesh.health_rates import rate_scope, read_health_config
from meshdesk.mesh.request import read_scope_text, scope_text, split_names
from meshdesk.mesh.traces import TRACING_API_JAEGER, TRACING_API_TEMPO
from meshdesk.sources.mesh_clusters import GIVEN as GIVEN_NAME
from meshdesk.store import settings as store
from meshdesk.ui import theme
from meshdesk.ui.toolbar import DEMO, DURATIONS, GRAPH_TYPES, LEGACY_DEMO, MANUAL, PAUSE, REFRESH, ViewChoices

log = logging.getLogger(__name__)

AUTH_NONE = "none"
AUTH_BEARER = "bearer"
AUTH_BASIC = "basic"
AUTH_KINDS: tuple[tuple[str, str], ...] = (
    (AUTH_NONE, "None"),
    (AUTH_BEARER, "Bearer token"),
    (AUTH_BASIC, "Basic auth (user name and password)"),
)



def _general_or_own_page(name: str, hint_text: str, general: QRadioButton, own: QRadioButton, summary: QWidget,
                         button: QWidget) -> QWidget:
    """A context's tab of a setting each cluster's Kiali may have apart (health tolerances, runtime dashboards):
    what it is, "the general ones", or "this cluster's own" with its summary and edit button."""
    page = QWidget()
    page.setObjectName(name)
    lay = QVBoxLayout(page)
    hint = QLabel(hint_text)
    hint.setWordWrap(True)
    hint.setProperty("role", "hint")
    lay.addWidget(hint)
    lay.addWidget(general)
    own_row = QHBoxLayout()
    own_row.addWidget(own)
    own_row.addWidget(summary, 1)
    own_row.addWidget(button)
    lay.addLayout(own_row)
    lay.addStretch(1)
    return page

class SettingsInputError(ValueError):
    """What the user typed cannot be saved; the message says which field and why (never a secret).
    ``context`` names the context whose form it is (empty for the general settings)."""

    def __init__(self, message: str, context: str = "") -> None:
        super().__init__(message)
        self.context = context


def _sendable(value: str, field: str) -> None:
    """HTTP headers carry Latin-1 text on one line: a value that cannot go is refused here, naming its
    field (a token pasted with a line break, a tenant name in another script), rather than failing
    later as a raw encoding error."""
    if any(c in value for c in "\r\n\0"):
        raise SettingsInputError(f"{field} contains a line break")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise SettingsInputError(f"{field} has characters an HTTP header cannot carry (use ASCII)") from None


# --- auth dictionary <-> fields ------------------------------------------------------------------------

TEST_TIMEOUT_S = 5.0  # the Test button's patience


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value`` lines (blank lines ignored) to a dict; raises :class:`SettingsInputError`."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not name or any(c.isspace() for c in name):
            raise SettingsInputError(f"Extra headers, line {number}: write it as 'Name: value' (e.g. X-Scope-OrgID: tenant-1)")
        if name.lower() == "authorization":
            raise SettingsInputError("Extra headers: set Authorization with the bearer token or basic auth choice instead")
        _sendable(name, f"Extra headers, line {number}")
        _sendable(value.strip(), f"Extra headers, line {number}")
        headers[name] = value.strip()
    return headers


def format_headers(headers: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


def check_prometheus_url(url: str, server: str = "Prometheus") -> str:
    """Empty (discover the server in the cluster) or an http(s) address; raises :class:`SettingsInputError`.
    ``server``: how the field is named in the message ("Prometheus", "Tracing")."""
    url = url.strip()
    if not url:
        return ""
    shape = f"{server} URL must look like http(s)://host[:port][/prefix], or be empty to find it in the cluster"
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number, or out of range, raises here
    except ValueError:
        raise SettingsInputError(shape + " (its host or port cannot be read)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise SettingsInputError(shape)
    if parts.password:
        raise SettingsInputError(f"{server} URL: put the password in the basic auth fields, not in the address")
    from requests.exceptions import InvalidURL
    from requests.models import PreparedRequest

    try:  # what the client will refuse when it connects (a space in the host, a bad %-escape)
        PreparedRequest().prepare_url(url, None)
    except (InvalidURL, ValueError):
        raise SettingsInputError(shape + " (its host has a character no host name has)") from None
    return url.rstrip("/")


def _auth_from_dict(auth: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored auth dict, normalised for the form (unknown keys are kept and written back)."""
    out: dict[str, Any] = dict(auth or {})
    kind = str(out.get("type") or "")
    if kind not in (AUTH_NONE, AUTH_BEARER, AUTH_BASIC):
        kind = AUTH_BEARER if out.get("token") else AUTH_BASIC if out.get("username") else AUTH_NONE
    out["type"] = kind
    return out


# --- the dialog ----------------------------------------------------------------------------------------

class _AuthFields:
    """The fields of how one server (Prometheus, the tracing backend) is authenticated to: the kind, a
    bearer token or user name and password, extra headers, a CA bundle, the insecure switch. Object names
    get ``prefix`` (``tracingToken``); Prometheus's have none."""

    def __init__(self, owner: QWidget, stored: Mapping[str, Any] | None, *, prefix: str, server: str) -> None:
        self.owner = owner
        self.server = server

        def named(widget: Any, name: str) -> Any:
            widget.setObjectName(prefix + name[:1].upper() + name[1:] if prefix else name)
            return widget

        auth = _auth_from_dict(stored)
        self.extra = {k: v for k, v in auth.items()
                      if k not in ("type", "token", "username", "password", "headers", "ca_bundle", "insecure")}
        self.kind = named(QComboBox(), "authKind")
        for key, label in AUTH_KINDS:
            self.kind.addItem(label, key)
        self.kind.setCurrentIndex(max(0, self.kind.findData(auth["type"])))
        self.token = named(QLineEdit(str(auth.get("token") or "")), "token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("sent as Authorization: Bearer ...")
        self.username = named(QLineEdit(str(auth.get("username") or "")), "username")
        self.password = named(QLineEdit(str(auth.get("password") or "")), "password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.headers = named(QPlainTextEdit(format_headers(auth.get("headers") or {})), "headers")
        self.headers.setPlaceholderText("one per line, e.g.\nX-Scope-OrgID: tenant-1")
        self.headers.setTabChangesFocus(True)
        self.headers.setFixedHeight(self.headers.fontMetrics().lineSpacing() * 4 + 12)
        self.ca_bundle = named(QLineEdit(str(auth.get("ca_bundle") or "")), "caBundle")
        self.ca_bundle.setPlaceholderText(f"PEM file of the CA that signed {server}'s certificate")
        self._browse = QPushButton("Browse…")
        self._browse.clicked.connect(self._browse_ca)
        self.insecure = named(QCheckBox("Skip TLS certificate verification (insecure)"), "insecure")
        self.insecure.setChecked(bool(auth.get("insecure")))
        self._token_label = QLabel("Token:")
        self._user_label = QLabel("User name:")
        self._password_label = QLabel("Password:")
        self.kind.currentIndexChanged.connect(self.show_fields)

    def add_rows(self, form: QFormLayout) -> None:
        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(self._browse)
        form.addRow("Authentication:", self.kind)
        form.addRow(self._token_label, self.token)
        form.addRow(self._user_label, self.username)
        form.addRow(self._password_label, self.password)
        form.addRow("Extra headers:", self.headers)
        form.addRow("CA bundle:", ca_row)
        form.addRow("", self.insecure)
        self.show_fields()

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.owner, "CA bundle", self.ca_bundle.text(),
                                              "Certificates (*.pem *.crt *.cer);;All files (*)")
        if path:
            self.ca_bundle.setText(path)

    def show_fields(self) -> None:
        kind = self.kind.currentData()
        for widget in (self._token_label, self.token):
            widget.setVisible(kind == AUTH_BEARER)
        for widget in (self._user_label, self.username, self._password_label, self.password):
            widget.setVisible(kind == AUTH_BASIC)

    def auth(self) -> dict[str, Any]:
        """The auth dict to store; raises :class:`SettingsInputError` naming the field at fault."""
        kind = str(self.kind.currentData())
        out: dict[str, Any] = dict(self.extra)
        if kind != AUTH_NONE:
            out["type"] = kind
        if kind == AUTH_BEARER:
            token = self.token.text().strip()
            if not token:
                raise SettingsInputError("a bearer token is needed (or choose no authentication)")
            _sendable(token, "the bearer token")
            out["token"] = token
        elif kind == AUTH_BASIC:
            if not self.username.text().strip():
                raise SettingsInputError("basic auth needs a user name")
            _sendable(self.username.text().strip(), "the basic auth user name")
            _sendable(self.password.text(), "the basic auth password")
            out["username"] = self.username.text().strip()
            out["password"] = self.password.text()
        headers = parse_headers(self.headers.toPlainText())
        if headers:
            out["headers"] = headers
        ca = self.ca_bundle.text().strip()
        if ca:
            path = Path(ca).expanduser().resolve()  # kept absolute: meshdesk may start elsewhere
            try:
                text = path.read_bytes()[:1_000_000] if path.is_file() else None
            except OSError:
                text = None
            if text is None:
                raise SettingsInputError(f"CA bundle {ca} is not a readable file")
            if b"-----BEGIN CERTIFICATE-----" not in text:
                raise SettingsInputError(f"CA bundle {ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
            out["ca_bundle"] = str(path)
        if self.insecure.isChecked():
            out["insecure"] = True
        return out


class _HasRates:
    """A settings form with a health tolerances row (``rates``, a :class:`_RatesEditor`): its YAML as the
    form holds it, and its editor."""

    rates: _RatesEditor

    @property
    def health_rates_text(self) -> str:
        return self.rates.text

    @health_rates_text.setter
    def health_rates_text(self, text: str) -> None:
        self.rates.set_text(text)

    def edit_health_rates(self) -> HealthRatesDialog:
        """Open the YAML editor of the row's health tolerances (window-modal, not blocking)."""
        return self.rates.edit()


class _ContextForm(_HasRates, QWidget):
    """The fields of one context."""

    testDone = Signal(bool, str)  # (worked, what to say): the Test button's answer, from its thread
    tracingTestDone = Signal(bool, str)  # the tracing Test button's

    def __init__(self, context: str, values: Any, parent: QWidget | None = None, *, others: Sequence[str] = (),
                 found: Mapping[str, tuple[str, str]] | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._original = values
        self.prom_auth = _AuthFields(self, getattr(values, "prometheus_auth", None), prefix="",
                                     server="Prometheus")
        # the Prometheus fields by their names (as tests and older code reach them)
        self.auth_kind, self.token, self.username = self.prom_auth.kind, self.prom_auth.token, self.prom_auth.username
        self.password, self.headers = self.prom_auth.password, self.prom_auth.headers
        self.ca_bundle, self.insecure = self.prom_auth.ca_bundle, self.prom_auth.insecure

        self.url = QLineEdit(getattr(values, "prometheus_url", "") or "")
        self.url.setPlaceholderText("empty: find Prometheus in the cluster (istio-system, monitoring, ...)")
        self.url.setObjectName("prometheusUrl")
        # Kiali's query_scope: the labels of this mesh's or cluster's series in a Prometheus holding others' too
        self.scope = QLineEdit(scope_text(getattr(values, "prometheus_scope", ()) or ()))
        self.scope.setObjectName("prometheusScope")
        self.scope.setPlaceholderText("none: all its series; e.g. mesh_id=mesh-east, cluster=east")
        self.scope.setToolTip("Labels every query to this Prometheus is kept to, as your Kiali's "
                              "external_services.prometheus.query_scope: for a Prometheus, Thanos or Mimir holding "
                              "several meshes' or clusters' telemetry. label=value, comma-separated; a value with a "
                              'comma or a quote in double quotes ("a,b")')
        # the Kiali extensions this cluster's Kiali has enabled: their kiali_ext_* series in this Prometheus
        # Grafana, opened in the browser by the Metrics dock's "View in Grafana"
        self.grafana_url = QLineEdit(getattr(values, "grafana_url", "") or "")
        self.grafana_url.setObjectName("grafanaUrl")
        self.grafana_url.setPlaceholderText("empty: find Grafana in the cluster (istio-system/grafana, ...)")
        self.grafana_url.setToolTip("Where your browser reaches Grafana (e.g. https://grafana.example.com). Empty: "
                                    "meshdesk finds it in the cluster and forwards a local port to it, as "
                                    "istioctl dashboard grafana does")
        self.extensions = QLineEdit(", ".join(getattr(values, "extensions", ()) or ()))
        self.extensions.setObjectName("kialiExtensions")
        self.extensions.setPlaceholderText("none; e.g. skupper")
        self.extensions.setToolTip("Graph the traffic these Kiali extensions report in their kiali_ext_* series, "
                                   "comma-separated: the names enabled in your Kiali's extensions setting")

        self.tracing_auth = _AuthFields(self, getattr(values, "tracing_auth", None), prefix="tracing",
                                        server="the tracing backend")
        self.tracing_url = QLineEdit(getattr(values, "tracing_url", "") or "")
        self.tracing_url.setPlaceholderText("empty: find Jaeger or Tempo in the cluster (istio-system/tracing, ...)")
        self.tracing_url.setObjectName("tracingUrl")
        # which API it is asked through: Tempo's own (TraceQL) or Jaeger's query API (Tempo serves that too,
        # through its Jaeger query frontend); auto asks whether it answers as Tempo
        self.tracing_api = QComboBox()
        self.tracing_api.setObjectName("tracingApi")
        for key, label in (("", "Auto (Tempo's own API when it answers as Tempo, else Jaeger's)"),
                           (TRACING_API_JAEGER, "Jaeger query API (Jaeger, or Tempo's Jaeger query frontend)"),
                           (TRACING_API_TEMPO, "Tempo's own API (TraceQL, port 3200)")):
            self.tracing_api.addItem(label, key)
        self.tracing_api.setCurrentIndex(max(0, self.tracing_api.findData(getattr(values, "tracing_api", "") or "")))

        defaults = ViewChoices()
        self.refresh = _combo(REFRESH, getattr(values, "refresh_interval", None), "refreshInterval",
                              defaults.refresh)
        self.duration = _combo(DURATIONS, getattr(values, "duration", None), "duration", defaults.duration)
        self.graph_type = _combo(GRAPH_TYPES, getattr(values, "graph_type", None) or None, "graphType",
                                 defaults.graph_type)

        self.test_button, self.test_result = self._test_widgets("testPrometheus", "testResult", "Prometheus")
        self.test_button.clicked.connect(self.test_connection)
        self._test_thread: threading.Thread | None = None
        self.testDone.connect(lambda worked, text: self._show_test_result(worked, text))
        self.tracing_test_button, self.tracing_test_result = self._test_widgets(
            "testTracing", "tracingTestResult", "the tracing backend")
        self.tracing_test_button.clicked.connect(self.test_tracing)
        self._tracing_test_thread: threading.Thread | None = None
        self.tracingTestDone.connect(lambda worked, text: self._show_test_result(worked, text, tracing=True))

        def url_row(field: QLineEdit, button: QPushButton) -> QHBoxLayout:
            row = QHBoxLayout()
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(field, 1)
            row.addWidget(button)
            return row

        # Prometheus and the tracing backend on tabs of their own: one under the other, the dialog was too
        # tall for a laptop's screen
        prom = QWidget()
        prom.setObjectName("prometheusPage")
        pform = QFormLayout(prom)
        pform.addRow("URL:", url_row(self.url, self.test_button))
        pform.addRow("", self.test_result)
        self.prom_auth.add_rows(pform)
        pform.addRow("Query scope:", self.scope)
        pform.addRow("Kiali extensions:", self.extensions)
        pform.addRow("Grafana URL:", self.grafana_url)

        tracing = QWidget()
        tracing.setObjectName("tracingPage")
        tform = QFormLayout(tracing)
        tform.addRow("URL:", url_row(self.tracing_url, self.tracing_test_button))
        tform.addRow("", self.tracing_test_result)
        tform.addRow("API:", self.tracing_api)
        self.tracing_auth.add_rows(tform)

        # on a tab of its own too: under the tabs, the dialog was 723 pixels high, cut off on a 1024x700 screen
        opening = QWidget()
        opening.setObjectName("openingPage")
        dform = QFormLayout(opening)
        opening_hint = QLabel("When this context opens, the graph is shown with these:")
        opening_hint.setProperty("role", "hint")
        dform.addRow(opening_hint)
        dform.addRow("Graph type:", self.graph_type)
        dform.addRow("Time window:", self.duration)
        dform.addRow("Refresh:", self.refresh)

        # each cluster's Kiali has its own health_config.rate: a context may be judged by its own rates
        own_rates = getattr(values, "health_rates", None)
        self.rates = _RatesEditor(self, own_rates, title=f"Health tolerances of {context}",
                                  names=("contextHealthRatesSummary", "editContextHealthRates"),
                                  tip="This cluster's Kiali health_config.rate, as YAML: paste it from that "
                                      "Kiali's CR or ConfigMap")
        self.rates_summary, self.rates_button = self.rates.summary, self.rates.button
        self.rates_button.setAccessibleName("Edit this context's health tolerances")
        self.rates_general = QRadioButton("The general ones (above)")
        self.rates_general.setObjectName("ratesGeneral")
        self.rates_own = QRadioButton("This cluster's own:")
        self.rates_own.setObjectName("ratesOwn")
        self.rates_own.setToolTip("The health_config.rate of this cluster's Kiali, as YAML (empty: Kiali's "
                                  "defaults, whatever the general tolerances say)")
        (self.rates_own if own_rates is not None else self.rates_general).setChecked(True)
        self.rates_own.toggled.connect(self._show_health_rates)
        health = _general_or_own_page(
            "healthPage", "Nodes are judged by the first rate whose namespace, kind and name match them, as in "
            "Kiali. Each Kiali is configured apart: give this cluster its own Kiali's rates, or use the general ones.",
            self.rates_general, self.rates_own, self.rates_summary, self.rates_button)
        self._show_health_rates()

        dashboards = self._dashboards_tab(context, getattr(values, "custom_dashboards", None))

        mesh = self._mesh_tab(values, others, found or {})

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.server_tabs = QTabWidget()
        self.server_tabs.setObjectName("serverTabs")
        # every tab in sight (five: a scrolled bar hid the Prometheus tab behind its arrows)
        self.server_tabs.tabBar().setUsesScrollButtons(False)
        self.server_tabs.addTab(prom, "Prometheus")
        self.server_tabs.addTab(tracing, "Tracing")
        self.server_tabs.setTabToolTip(1, "Jaeger or Tempo: where the traces are read")
        self.server_tabs.addTab(health, "Health tolerances")
        self.server_tabs.addTab(dashboards, "Runtime dashboards")
        self.server_tabs.addTab(mesh, "Mesh clusters")
        self.server_tabs.addTab(opening, "When it opens")
        lay.addWidget(self.server_tabs)

    def _dashboards_tab(self, context: str, own: str | None) -> QWidget:
        """Each cluster's Kiali has its own custom dashboards configuration: this context's, or the general one."""
        self.dashboards = _DashboardsEditor(self, own or "", title=f"Runtime dashboards of {context}",
                                            names=("contextDashboardsSummary", "editContextDashboards"))
        self.dashboards.button.setAccessibleName("Edit this context's runtime dashboards")
        self.dashboards.also = self._scope_from_kiali
        self.dashboards_general = QRadioButton("The general ones (above)")
        self.dashboards_general.setObjectName("dashboardsGeneral")
        self.dashboards_own = QRadioButton("This cluster's own:")
        self.dashboards_own.setObjectName("dashboardsOwn")
        self.dashboards_own.setToolTip("The custom_dashboards and external_services.custom_dashboards of this "
                                       "cluster's Kiali, as YAML (empty: meshdesk's built-in dashboards, found as "
                                       "Kiali finds them by default, whatever the general setting says)")
        (self.dashboards_own if own is not None else self.dashboards_general).setChecked(True)
        self.dashboards_own.toggled.connect(self._show_dashboards)
        page = _general_or_own_page(
            "dashboardsPage", "The runtime dashboards (Go, JVM, Node.js...) of the Metrics dock, and how they are "
            "found, as this cluster's Kiali has them. Each Kiali is configured apart: give this cluster its own "
            "Kiali's, or use the general ones.",
            self.dashboards_general, self.dashboards_own, self.dashboards.summary, self.dashboards.button)
        self._show_dashboards()
        return page

    def _scope_from_kiali(self, text: str) -> None:
        """A Kiali configuration pasted for this context's runtime dashboards names its Prometheus' query_scope
        (``external_services.prometheus.query_scope``): taken as the query scope when none is typed yet."""
        config, problems = read_custom_dashboards(text)
        if not problems and config.main_query_scope and not self.scope.text().strip():
            self.scope.setText(scope_text(config.main_query_scope))

    def _show_dashboards(self) -> None:
        own = self.dashboards_own.isChecked()
        self.dashboards.button.setEnabled(own)
        self.dashboards.summary.setEnabled(own)

    def _mesh_tab(self, values: Any, others: Sequence[str], found: Mapping[str, tuple[str, str]]) -> QWidget:
        """A mesh over several clusters: which other contexts are clusters of this one's mesh (their
        workloads and config read beside this one's), and each cluster's Istio name, found or given."""
        tab = QWidget()
        lay = QVBoxLayout(tab)
        hint = QLabel("In a multi-cluster mesh, tick the contexts of its other clusters: their workloads, health "
                      "and Istio config are read with this one's, and each node of the graph is judged by its "
                      "own cluster's. A cluster's name is the one its telemetry carries (source_cluster, "
                      "destination_cluster): found from istiod's CLUSTER_ID, else the kubeconfig's cluster "
                      "name; type another where that is not it.")
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        lay.addWidget(hint)

        def name_field(context: str, given: str, object_name: str) -> QLineEdit:
            field = QLineEdit(given)
            field.setObjectName(object_name)
            name, how = found.get(context, ("", ""))
            field.setPlaceholderText(f"{name} (found: {how})" if name and how and how != GIVEN_NAME else
                                     "found in the cluster when it is read")
            field.setToolTip("This cluster's Istio name, as its proxies report it; empty: found in the cluster")
            return field

        form = QFormLayout()
        self.cluster_name = name_field(self.context, getattr(values, "cluster_name", "") or "", "clusterName")
        form.addRow("This cluster's name:", self.cluster_name)
        lay.addLayout(form)
        linked = dict(getattr(values, "mesh_contexts", ()) or ())
        # (context, its tick box, its cluster name field): every other context, and a linked one the kubeconfig
        # no longer has (kept until unticked: it is said as that cluster's failure)
        self.mesh_rows: list[tuple[str, QCheckBox, QLineEdit]] = []
        rows = QWidget()
        grid = QFormLayout(rows)
        for other in [*others, *(c for c in linked if c not in others)]:
            if other == self.context:
                continue
            box = QCheckBox(other)
            box.setObjectName(f"meshContext:{other}")
            box.setChecked(other in linked)
            field = name_field(other, linked.get(other, ""), f"meshClusterName:{other}")
            field.setEnabled(box.isChecked())
            box.toggled.connect(field.setEnabled)
            grid.addRow(box, field)
            self.mesh_rows.append((other, box, field))
        if not self.mesh_rows:
            none = QLabel("The kubeconfig has no other context.")
            none.setProperty("role", "hint")
            grid.addRow(none)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(rows)
        lay.addWidget(QLabel("Other clusters of this mesh:"))
        lay.addWidget(scroll, 1)
        return tab

    def mesh_contexts(self) -> tuple[tuple[str, str], ...]:
        """The linked contexts ticked, with their cluster names as given ("": found)."""
        return tuple((c, field.text().strip()) for c, box, field in self.mesh_rows if box.isChecked())

    def _show_health_rates(self) -> None:
        own = self.rates_own.isChecked()
        self.rates_button.setEnabled(own)
        self.rates_summary.setEnabled(own)

    def _test_widgets(self, button_name: str, result_name: str, server: str) -> tuple[QPushButton, QLabel]:
        button = QPushButton("Test")
        button.setObjectName(button_name)
        button.setToolTip(f"Ask {server} at this address, with these credentials, for an answer")
        result = QLabel()
        result.setObjectName(result_name)
        result.setWordWrap(True)
        result.hide()
        return button, result

    # -- the Test buttons -----------------------------------------------------------------------------
    def test_connection(self) -> None:
        """Ask Prometheus at the form's address with the form's credentials for an answer, in a worker
        thread; ``testDone`` brings the verdict (the client's errors carry no secret)."""
        def connect(url: str, auth: dict[str, Any]) -> None:
            from meshdesk.sources.discovery import connect_prometheus

            connect_prometheus(None, url=url, auth=auth, timeout=TEST_TIMEOUT_S).close()

        self._test_thread = self._start_test(
            lambda: check_prometheus_url(self.url.text()), self.auth, connect, "Prometheus",
            "No address: meshdesk finds Prometheus in the cluster when the context opens (through the API "
            "server, or a port-forward).", tracing=False)

    def test_tracing(self) -> None:
        """The tracing backend's Test button: ask it for its services; ``tracingTestDone`` brings the verdict."""
        api = self.tracing_api.currentData() or None

        def connect(url: str, auth: dict[str, Any]) -> str:
            from meshdesk.sources.tracing import TempoClient
            from meshdesk.sources.tracing_discovery import connect_tracing

            conn = connect_tracing(None, url=url, auth=auth, timeout=TEST_TIMEOUT_S, tracing_api=api)
            conn.close()
            return "Tempo's API" if isinstance(conn.client, TempoClient) else "Jaeger's query API"

        self._tracing_test_thread = self._start_test(
            lambda: check_prometheus_url(self.tracing_url.text(), "Tracing"), self.tracing_auth.auth, connect,
            "The tracing backend", "No address: meshdesk finds Jaeger or Tempo in the cluster when traces are "
            "first asked for (through the API server).", tracing=True)

    def _start_test(self, url_of: Any, auth_of: Any, connect: Any, server: str, no_url: str, *,
                    tracing: bool) -> threading.Thread | None:
        try:
            url = url_of()
            auth = auth_of()
        except SettingsInputError as e:
            self._show_test_result(False, str(e), tracing=tracing)
            return None
        if not url:
            self._show_test_result(True, no_url, tracing=tracing)
            return None
        button, label = ((self.tracing_test_button, self.tracing_test_result) if tracing
                         else (self.test_button, self.test_result))
        signal = self.tracingTestDone if tracing else self.testDone
        button.setEnabled(False)
        label.setStyleSheet("")
        label.setText(f"Asking {server[:1].lower() + server[1:] if server.startswith('The ') else server}…")
        label.show()

        def run() -> None:
            from meshdesk.sources.base import SourceError

            began = time.monotonic()
            try:
                how = connect(url, auth)
                worked, text = True, (f"{server} answered" + (f" ({how})" if isinstance(how, str) and how else "")
                                      + f" in {(time.monotonic() - began) * 1000:.0f} ms.")
            except SourceError as e:
                worked, text = False, str(e)
            except Exception as e:  # noqa: BLE001 - said in the dialog, never raised into Qt
                worked, text = False, f"the test failed: {type(e).__name__}"
            try:
                signal.emit(worked, text)
            except RuntimeError:
                pass  # the dialog was closed meanwhile

        thread = threading.Thread(target=run, name="meshdesk-connection-test", daemon=True)
        thread.start()
        return thread

    def _show_test_result(self, worked: bool, text: str, *, tracing: bool = False) -> None:
        button, label = ((self.tracing_test_button, self.tracing_test_result) if tracing
                         else (self.test_button, self.test_result))
        button.setEnabled(True)
        label.setStyleSheet(f"color: {'#3e8635' if worked else '#c9190b'}")
        label.setText(text)
        label.show()

    def finish_test(self) -> None:
        """Let go of the tests under way: they end on their own (their clients time out within
        TEST_TIMEOUT_S) and their verdicts are dropped, so closing the dialog never waits for them."""
        for thread, signal in ((self._test_thread, self.testDone), (self._tracing_test_thread, self.tracingTestDone)):
            if thread is not None and thread.is_alive():
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError):
                    pass
        self._test_thread = self._tracing_test_thread = None

    def auth(self) -> dict[str, Any]:
        """The Prometheus auth dict to store; raises :class:`SettingsInputError` naming the field at fault."""
        return self.prom_auth.auth()

    def values(self) -> Any:
        """A ContextSettings with this form's values; raises :class:`SettingsInputError`."""
        tab = 0  # the tab the field at fault is on, brought into view
        try:
            url = check_prometheus_url(self.url.text())
            auth = self.auth()
            if not url and auth.get("type") in (AUTH_BEARER, AUTH_BASIC):
                # a Prometheus found in the cluster is reached through the API server's proxy, whose
                # Authorization header carries the kubeconfig's login: the token or password would not be
                # sent, so saving it was a silent no-op
                raise SettingsInputError("a bearer token or basic auth is used only with a Prometheus URL; "
                                         "with none, Prometheus is found in the cluster and reached with the "
                                         "kubeconfig's login. Give the URL, or choose no authentication")
            try:
                scope = read_scope_text(self.scope.text())
            except ValueError as exc:
                self.scope.setFocus()
                raise SettingsInputError(f"query scope: {exc}") from None
            grafana_url = check_prometheus_url(self.grafana_url.text(), "Grafana")
            tab = 1
            tracing_url = check_prometheus_url(self.tracing_url.text(), "Tracing")
            try:
                tracing_auth = self.tracing_auth.auth()
            except SettingsInputError as exc:
                raise SettingsInputError(f"tracing: {exc}") from None
            if not tracing_url and tracing_auth.get("type") in (AUTH_BEARER, AUTH_BASIC):
                raise SettingsInputError("tracing: a bearer token or basic auth is used only with a tracing URL; "
                                         "with none, the tracing backend is found in the cluster and reached with "
                                         "the kubeconfig's login. Give the URL, or choose no authentication")
            tab = 2
            health_rates: tuple[dict[str, Any], ...] | None = None
            if self.rates_own.isChecked():
                rates, problems = read_health_config(self.health_rates_text)
                if problems:
                    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                    raise SettingsInputError(f"health tolerances: {problems[0]}{more}")
                health_rates = tuple(rates)
            tab = 3
            custom_dashboards: str | None = None
            if self.dashboards_own.isChecked():
                problems = read_custom_dashboards(self.dashboards.text)[1]
                if problems:
                    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                    raise SettingsInputError(f"runtime dashboards: {problems[0]}{more}")
                custom_dashboards = self.dashboards.text
        except SettingsInputError as exc:
            self.server_tabs.setCurrentIndex(tab)
            raise SettingsInputError(f"{self.context}: {exc}", self.context) from None
        changes = {
            "prometheus_url": url,
            "prometheus_auth": auth,
            "prometheus_scope": scope,
            "tracing_url": tracing_url,
            "tracing_auth": tracing_auth,
            "tracing_api": self.tracing_api.currentData() or "",
            "refresh_interval": self.refresh.currentData(),  # None: the app's default
            "duration": self.duration.currentData(),
            "graph_type": self.graph_type.currentData() or "",
            "health_rates": health_rates,  # None: the general ones
            "custom_dashboards": custom_dashboards,  # None: the general ones
            "extensions": tuple(split_names([self.extensions.text()])),
            "grafana_url": grafana_url,
            "mesh_contexts": self.mesh_contexts(),
            "cluster_name": self.cluster_name.text().strip(),
        }
        if dataclasses.is_dataclass(self._original) and not isinstance(self._original, type):
            return dataclasses.replace(self._original, **changes)
        return store.ContextSettings(**changes)

    def changed(self, values: Any) -> bool:
        """Whether ``values`` differ from what was stored (so an untouched context is not rewritten)."""
        before = self._original
        if before is None:
            return True
        for name in ("prometheus_url", "refresh_interval", "duration"):
            if getattr(before, name, None) != getattr(values, name, None):
                return True
        if tuple(getattr(before, "prometheus_scope", ()) or ()) != tuple(getattr(values, "prometheus_scope", ()) or ()):
            return True
        if (getattr(before, "graph_type", "") or "") != (values.graph_type or ""):
            return True
        if (getattr(before, "tracing_url", "") or "") != (getattr(values, "tracing_url", "") or ""):
            return True
        if (getattr(before, "grafana_url", "") or "") != (getattr(values, "grafana_url", "") or ""):
            return True
        if (getattr(before, "tracing_api", "") or "") != (getattr(values, "tracing_api", "") or ""):
            return True
        if getattr(before, "health_rates", None) != getattr(values, "health_rates", None):
            return True
        if getattr(before, "custom_dashboards", None) != getattr(values, "custom_dashboards", None):
            return True
        if tuple(getattr(before, "extensions", ()) or ()) != tuple(getattr(values, "extensions", ()) or ()):
            return True
        for name in ("mesh_contexts", "cluster_name"):
            if (getattr(before, name, None) or None) != (getattr(values, name, None) or None):
                return True
        if _normal_auth(getattr(before, "tracing_auth", None)) != _normal_auth(getattr(values, "tracing_auth", None)):
            return True
        return _normal_auth(getattr(before, "prometheus_auth", None)) != _normal_auth(values.prometheus_auth)


def _normal_auth(auth: Mapping[str, Any] | None) -> dict[str, Any]:
    out = _auth_from_dict(auth)
    if out["type"] == AUTH_NONE:
        out.pop("type")
    return {k: v for k, v in out.items() if v not in (None, "", {}, False)}


def _combo(choices: Sequence[tuple[Any, str]], current: Any, name: str, default: Any) -> QComboBox:
    """A choice list whose first entry, "Default (...)", stores nothing (``None``): the app's default
    applies, and follows it if that default ever changes."""
    combo = QComboBox()
    combo.setObjectName(name)
    default_label = next((label for key, label in choices if key == default), str(default))
    combo.addItem(f"Default ({default_label})", None)
    for key, label in choices:
        combo.addItem(label, key)
    index = 0 if current is None else combo.findData(current)
    if index < 0:
        # a stored value that is not one of the choices still shows as itself and is kept
        if name == "refreshInterval":
            label = "Pause" if current == PAUSE else "Manual refresh" if current == MANUAL else f"Every {current}s"
        elif name == "duration":
            label = f"Last {current}s"
        else:
            label = str(current)
        combo.addItem(label, current)
        index = combo.count() - 1
    combo.setCurrentIndex(max(index, 0))
    return combo


class SettingsDialog(_HasRates, QDialog):
    """Edit meshdesk's settings. ``contexts`` are the kubeconfig contexts to offer (contexts that already
    have stored settings are added); ``current_context`` is shown first. On OK the settings are saved and
    the theme applied; :attr:`saved` then holds the saved settings and :attr:`settingsSaved` has fired."""

    settingsSaved = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, contexts: Sequence[str] = (),
                 current_context: str | None = None, settings: Any = None,
                 clusters_found: Mapping[str, tuple[str, str]] | None = None) -> None:
        super().__init__(parent)
        # context -> (its cluster's Istio name, how it was found), as the context shown last found them
        self.clusters_found = dict(clusters_found or {})
        self.setWindowTitle("meshdesk settings")
        self.setObjectName("settingsDialog")
        self.settings = settings if settings is not None else store.load_settings()
        self.saved: Any = None
        self._forms: dict[str, _ContextForm] = {}

        names: list[str] = []
        # the built-in demo and snapshot files keep view choices too, but have no cluster to connect to
        # ("demo": the demo mesh as an earlier version kept it, unless a kubeconfig context is so named)
        stored = [n for n in _stored_contexts(self.settings) if n != DEMO and not n.startswith("snapshot: ")
                  and (n != LEGACY_DEMO or n in (contexts or ()))]
        for name in [*(contexts or ()), *stored]:
            if name and name not in names:
                names.append(name)
        if current_context and current_context not in names:
            names.insert(0, current_context)

        # general
        self.theme_combo = QComboBox()
        self.theme_combo.setObjectName("theme")
        for key, label in theme.CHOICES:
            self.theme_combo.addItem(label, key)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(getattr(self.settings, "theme", "system"))))
        self.read_only = QCheckBox("Read-only: never change anything in a cluster")
        self.read_only.setObjectName("readOnly")
        # meshdesk scales nothing: the tooltip promised it; it names what read-only mode does keep from a cluster
        self.read_only.setToolTip("Hides and refuses every action that changes a cluster: Istio config, sidecar "
                                  "injection, workload restarts, a proxy's log level")
        self._read_only_shown = bool(getattr(self.settings, "read_only", False))
        self.read_only.setChecked(self._read_only_shown)
        self.ignored_checks = QLineEdit(", ".join(getattr(self.settings, "ignored_checks", IGNORED_BY_DEFAULT)))
        self.ignored_checks.setObjectName("ignoredChecks")
        self.ignored_checks.setPlaceholderText("none: every check is made")
        self.ignored_checks.setToolTip("Validation codes whose findings are not shown anywhere, comma-separated "
                                       "(as Kiali's validations.ignore)")
        checks_hint = QLabel("As in Kiali, KIA1301 (a workload no AuthorizationPolicy covers) is left out until "
                             "you take it off this list.")
        checks_hint.setWordWrap(True)
        checks_hint.setProperty("role", "hint")
        # Kiali's health_config.rate: edited as YAML in a dialog of its own (the row says what is set)
        self.rates = _RatesEditor(self, getattr(self.settings, "health_rates", ()), title="Health tolerances",
                                  names=("healthRatesSummary", "editHealthRates"),
                                  tip="Kiali's health_config.rate, as YAML: paste it from Kiali's CR or ConfigMap. "
                                      "A context may have its own (its Health tolerances tab)")
        self.health_rates_summary, self.health_rates_button = self.rates.summary, self.rates.button
        rates_row = QWidget()
        rates_layout = QHBoxLayout(rates_row)
        rates_layout.setContentsMargins(0, 0, 0, 0)
        rates_layout.addWidget(self.health_rates_summary, 1)
        rates_layout.addWidget(self.health_rates_button)
        general = QGroupBox("General")
        gform = QFormLayout(general)
        gform.addRow("Theme:", self.theme_combo)
        gform.addRow("", self.read_only)
        gform.addRow("Validation codes left out:", self.ignored_checks)
        gform.addRow("", checks_hint)
        gform.addRow("Health tolerances:", rates_row)
        # Kiali's custom_dashboards: the runtime dashboards (Go, JVM...) beside a workload's traffic charts
        self.dashboards = _DashboardsEditor(self, str(getattr(self.settings, "custom_dashboards", "") or ""))
        dashboards_row = QWidget()
        dashboards_layout = QHBoxLayout(dashboards_row)
        dashboards_layout.setContentsMargins(0, 0, 0, 0)
        dashboards_layout.addWidget(self.dashboards.summary, 1)
        dashboards_layout.addWidget(self.dashboards.button)
        gform.addRow("Runtime dashboards:", dashboards_row)

        # per context
        self.context_combo = QComboBox()
        self.context_combo.setObjectName("context")
        self.context_combo.addItems(names)
        self._stack = QStackedWidget()
        self._placeholder = QLabel("No kubeconfig context yet: open a cluster to set its Prometheus and defaults.")
        self._placeholder.setWordWrap(True)
        self._placeholder.setProperty("role", "hint")
        self._stack.addWidget(self._placeholder)
        contexts_box = QGroupBox("Cluster context")
        cbox = QVBoxLayout(contexts_box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Context:"))
        row.addWidget(self.context_combo, 1)
        cbox.addLayout(row)
        cbox.addWidget(self._stack)
        self.context_combo.currentTextChanged.connect(self._show_context)
        self.context_combo.setEnabled(bool(names))

        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        outer = QVBoxLayout(self)
        outer.addWidget(general)
        outer.addWidget(contexts_box, 1)
        outer.addWidget(self.error)
        outer.addWidget(self.buttons)
        self.setMinimumWidth(560)

        if names:
            self.context_combo.setCurrentText(current_context or names[0])
            self._show_context(self.context_combo.currentText())

    # -- context forms --

    def _show_context(self, name: str) -> None:
        if not name:
            self._stack.setCurrentWidget(self._placeholder)
            return
        form = self._forms.get(name)
        if form is None:
            others = [self.context_combo.itemText(i) for i in range(self.context_combo.count())]
            form = _ContextForm(name, self.settings.context_settings(name), others=others, found=self.clusters_found)
            self._forms[name] = form
            self._stack.addWidget(form)
        self._stack.setCurrentWidget(form)

    def form(self, context: str | None = None) -> _ContextForm:
        """The form of ``context`` (default: the one showing), created on first use."""
        name = context or self.context_combo.currentText()
        if name not in self._forms:
            self._show_context(name)
        return self._forms[name]

    def select_context(self, context: str) -> _ContextForm:
        if self.context_combo.findText(context) < 0:
            self.context_combo.addItem(context)
            self.context_combo.setEnabled(True)
        self.context_combo.setCurrentText(context)
        return self.form(context)

    # -- saving --

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def apply(self) -> bool:
        """Validate and save; on a problem show it, keep the dialog open and write nothing."""
        try:
            per_context = {name: form.values() for name, form in self._forms.items()}
        except SettingsInputError as exc:
            self.show_error(str(exc))
            if exc.context in self._forms:  # bring the form at fault into view (names may hold ':')
                self.context_combo.setCurrentText(exc.context)
            return False
        try:
            ignored = checks_left_out(self.ignored_checks.text())
        except ValueError as exc:
            self.show_error(f"Validation codes left out: {exc}")
            self.ignored_checks.setFocus()
            return False
        rates, problems = read_health_config(self.health_rates_text)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.show_error(f"Health tolerances: {problems[0]}{more}")
            self.health_rates_button.setFocus()
            return False
        dashboards_problems = read_custom_dashboards(self.dashboards.text)[1]
        if dashboards_problems:
            more = f" (and {len(dashboards_problems) - 1} more)" if len(dashboards_problems) > 1 else ""
            self.show_error(f"Runtime dashboards: {dashboards_problems[0]}{more}")
            self.dashboards.button.setFocus()
            return False
        choice = str(self.theme_combo.currentData())
        before = self.settings.checkpoint() if hasattr(self.settings, "checkpoint") else None  # if saving fails
        for name, values in per_context.items():
            if self._forms[name].changed(values):
                self.settings.set_context_settings(name, values)
        # only what the user changed, so the store's merge keeps what another window saved meanwhile
        # (against what the box showed: the setting follows what another window saved meanwhile)
        if self.read_only.isChecked() != self._read_only_shown:
            self.settings.read_only = self.read_only.isChecked()
        if choice != getattr(self.settings, "theme", None):
            self.settings.theme = choice
        if ignored != tuple(getattr(self.settings, "ignored_checks", IGNORED_BY_DEFAULT)):
            self.settings.ignored_checks = ignored
        if tuple(rates) != tuple(getattr(self.settings, "health_rates", ())):
            self.settings.health_rates = rates
        if self.dashboards.text != getattr(self.settings, "custom_dashboards", ""):
            self.settings.custom_dashboards = self.dashboards.text
        try:
            self.settings.save()
        except OSError as exc:
            # nothing was written: nothing changes either (Cancel then leaves everything as it was)
            if before is not None:
                self.settings.restore(before)
            # the message names the file and the OS error, never a setting's value
            self.show_error(f"Could not save the settings: {store.save_problem(self.settings.path, exc)}")
            log.warning("saving settings failed: %s", exc.strerror or type(exc).__name__)
            return False
        self.show_error("")
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, choice)
        self.saved = self.settings
        self.settingsSaved.emit(self.settings)
        return True

    def accept(self) -> None:
        if self.apply():
            super().accept()

    def done(self, result: int) -> None:
        for form in self.findChildren(_ContextForm):
            form.finish_test()  # no thread outlives the dialog
        super().done(result)


def health_rates_summary(rates: Sequence[Mapping[str, Any]]) -> str:
    """What a settings row says of the health rates: "Kiali's defaults", or how many and the first's scope."""
    if not rates:
        return "Kiali's defaults"
    first = rates[0]
    scope = rate_scope(first)
    more = ", \u2026" if len(rates) > 1 else ""
    return f"{len(rates)} rate{'s' if len(rates) != 1 else ''} ({scope}{more}), then Kiali's defaults"


class _RatesEditor:
    """Health tolerances edited in a settings row: the YAML kept until the dialog's OK, what the row says of
    it (``summary``) and its Edit\u2026 button, which opens :class:`HealthRatesDialog` (window-modal, not
    blocking; what it accepts is what OK saves). ``_DashboardsEditor`` is the same for runtime dashboards."""

    def __init__(self, owner: QWidget, rates: Sequence[Mapping[str, Any]] | None, *, title: str,
                 names: tuple[str, str], tip: str) -> None:
        self._row(owner, health_rates_text(tuple(rates or ())), title=title, names=names, tip=tip)

    def _row(self, owner: QWidget, text: str, *, title: str, names: tuple[str, str], tip: str) -> None:
        self.owner, self.title = owner, title
        self.text = text
        self.summary = QLabel()
        self.summary.setObjectName(names[0])
        self.summary.setWordWrap(True)
        self.button = QPushButton("Edit\u2026")
        self.button.setObjectName(names[1])
        self.button.setToolTip(tip)
        self.button.clicked.connect(self.edit)
        self.set_text(self.text)

    def set_text(self, text: str) -> None:
        self.text = text
        rates, problems = read_health_config(text)
        self.summary.setText(health_rates_summary(rates) if not problems else "not valid: edit them")

    # another field that reads what the editor's OK took too (None: none)
    also: Callable[[str], None] | None = None

    def edit(self) -> HealthRatesDialog:
        editor = self._dialog()
        editor.accepted.connect(lambda: self.pasted(editor.text.toPlainText()))
        editor.open()
        return editor

    def pasted(self, text: str) -> None:
        """What the editor's OK took: shown, then handed to ``also``."""
        self.set_text(text)
        if self.also is not None:
            self.also(text)

    def _dialog(self) -> HealthRatesDialog:
        return HealthRatesDialog(self.text, self.owner, title=self.title)


class _DashboardsEditor(_RatesEditor):
    """The runtime dashboards (Kiali's custom_dashboards) edited in a settings row, as the tolerances are."""

    def __init__(self, owner: QWidget, text: str, *, title: str = "Runtime dashboards",
                 names: tuple[str, str] = ("dashboardsSummary", "editDashboards")) -> None:
        self._row(owner, text, title=title, names=names,
                  tip="Your Kiali's custom_dashboards and external_services.custom_dashboards, as YAML: paste "
                      "them from Kiali's CR or ConfigMap")

    def set_text(self, text: str) -> None:
        self.text = text
        config, problems = read_custom_dashboards(text)
        self.summary.setText(dashboards_summary(config) if not problems else "not valid: edit them")

    def _dialog(self) -> HealthRatesDialog:
        return CustomDashboardsDialog(self.text, self.owner, title=self.title)


class HealthRatesDialog(QDialog):
    """Kiali's health_config.rate as YAML: checked on OK (the dialog stays open, saying what is wrong)."""

    NAMES = ("healthRatesDialog", "healthRates")
    PLACEHOLDER = ("rate:\n  - namespace: shop\n    kind: service\n    name: reviews\n"
                   "    tolerance:\n      - {code: 5XX, degraded: 5, failure: 20, protocol: http}")
    HINT = ("Kiali's <code>health_config.rate</code>, as YAML: paste Kiali's CR, its ConfigMap or the "
            "list. As in Kiali, the first rate whose namespace, kind (app, service, workload) and name "
            "match an app, service or workload judges its health; what none matches keeps Kiali's "
            "defaults, and a <code>health.kiali.io/rate</code> annotation comes first. Empty: Kiali's "
            "defaults everywhere.")

    def __init__(self, text: str, parent: QWidget | None = None, *, title: str = "Health tolerances") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(self.NAMES[0])
        self.text = QPlainTextEdit(text)
        self.text.setObjectName(self.NAMES[1])
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText(self.PLACEHOLDER)
        hint = QLabel(self.HINT)
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")  # the theme's error colour (2.7:1 as a fixed red on dark)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def problems(self) -> list[str]:
        """What is wrong with the text ([]: it can be saved)."""
        return read_health_config(self.text.toPlainText())[1]

    def accept(self) -> None:
        problems = self.problems()
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.error.setText(f"{problems[0]}{more}")
            self.error.show()
            self.text.setFocus()
            return
        super().accept()


class CustomDashboardsDialog(HealthRatesDialog):
    """Kiali's runtime dashboard configuration as YAML: checked on OK, as the tolerances are."""

    NAMES = ("customDashboardsDialog", "customDashboards")
    PLACEHOLDER = ("external_services:\n  custom_dashboards:\n    discovery_enabled: auto\n"
                   "    discovery_auto_threshold: 10\ncustom_dashboards:\n  - name: vertx-custom\n"
                   "    title: Vert.x Metrics\n    discoverOn: vertx_http_server_connections\n    items:\n"
                   "      - chart: {name: Server connections, metricName: vertx_http_server_connections, "
                   "dataType: raw}")
    HINT = ("Your Kiali's <code>custom_dashboards</code> and <code>external_services.custom_dashboards</code> "
            "(discovery_enabled, discovery_auto_threshold, namespace_label, prometheus.url), as YAML: paste Kiali's CR, its "
            "ConfigMap or the list. Your dashboards join meshdesk's built-in Go, JVM and Node.js ones (one of the "
            "same name takes its place). As in Kiali, a workload has the dashboards its pods name in their "
            "<code>kiali.io/dashboards</code> annotation, else those whose <code>discoverOn</code> metric "
            "Prometheus has for its app and version; a namespace's and a workload's "
            "<code>dashboards.kiali.io/templates</code> annotation add their own. Empty: the built-in ones, found "
            "as Kiali finds them.")

    def __init__(self, text: str, parent: QWidget | None = None, *, title: str = "Runtime dashboards") -> None:
        super().__init__(text, parent, title=title)

    def problems(self) -> list[str]:
        return read_custom_dashboards(self.text.toPlainText())[1]


def health_rates_text(rates: Sequence[Mapping[str, Any]]) -> str:
    """The settings' health rates as the YAML the dialog shows (and reads back as the same rates)."""
    if not rates:
        return ""
    return str(yaml.safe_dump({"rate": [dict(r) for r in rates]}, sort_keys=False, default_flow_style=False))


def _stored_contexts(settings: Any) -> list[str]:
    for attr in ("context_names", "contexts"):
        value = getattr(settings, attr, None)
        if callable(value):
            value = value()
        if isinstance(value, Mapping):
            return [str(k) for k in value]
        if isinstance(value, list | tuple | set | frozenset):
            return [str(k) for k in value]
    return []
