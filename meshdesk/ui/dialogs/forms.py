"""The forms of the traffic and security actions. Each is prefilled from the config in force (a reopened
action shows current values) and turns what the user set into a ``ChangePlan`` with ``plan(inventory)``;
bad input raises ``RoutingError`` (or ``ValueError``) with a plain message and nothing is lost.

A routing form edits only its own part of the service's ``ServiceRouting`` (weights, matches, fault,
timeouts and retries, circuit breaker, TLS, load balancer), so the other parts stay as they are.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.changes import (
    ChangePlan,
    current_mtls_mode,
    injection_plan,
    namespace_mode_change,
    namespace_mode_plan,
    peer_authentication_plan,
    refused_plain_text,
    removal_plan,
    removal_scope,
    restart_plan,
    service_entry_plan,
    service_routing_plan,
    taken_name_problem,
)
from meshdesk.mesh.inventory import Inventory, IstioObject, Service, Workload
from meshdesk.mesh.routing import (
    ENDPOINT_RESOLUTIONS,
    HASH_KINDS,
    HEADER_MATCH_KINDS,
    LB_SIMPLE,
    MAX_RING_SIZE,
    MESH_GATEWAY,
    MTLS_MODES,
    PRESENT,
    RESOLUTIONS,
    TLS_MODES,
    CircuitBreaker,
    ClientTls,
    Condition,
    Fault,
    GatewayBinding,
    LoadBalancer,
    LocalityLb,
    NewGateway,
    RouteMatch,
    RoutingError,
    RuleOptions,
    ServiceRouting,
    applies_to_mesh,
    build_service_entry,
    check_routing,
    cluster_gateways,
    condition_words,
    current_routing,
    duration_problem,
    duration_seconds,
    endpoint_address_problem,
    gateway_ref,
    gateway_ref_text,
    header_key,
    header_name_problem,
    injection_change,
    is_digits,
    is_managed,
    load_balancer_problem,
    match_value_problem,
    mesh_route_problem,
    new_gateway_name,
    percent_problem,
    retry_on_problem,
    rule_option_words,
    same_match,
    shadows,
    tcp_only,
    tls_problem,
    unmodelled,
    versions_of,
)
from meshdesk.mesh.tls_status import ENABLED, namespace_tls
from meshdesk.mesh.words import breakable, counted


class ActionForm(QWidget):
    """Base of the forms: a title, what it acts on (``subject``), a one-line explanation and ``plan``."""

    title = ""
    subject = ""  # e.g. "service shop/reviews": several dialogs may be open at once
    heading = ""  # the dialog's heading when "<title> for <subject>" does not read well
    help_text = ""
    # what the user should know before filling the form in (e.g. that the change will be refused)
    attention = ""
    # the changes the form's fields ask for (raises RoutingError on bad input); each form defines it
    plan: Callable[[Inventory], ChangePlan]
    # what the form was opened on, (kind, namespace, name): a service, or a workload by its own kind; the
    # review reads it again, and one deleted since the form opened is said and nothing is applied
    subject_ref: tuple[str, str, str] | None = None


# -- service routing ------------------------------------------------------------------------------------

class _RoutingForm(ActionForm):
    edits_routes = True  # whether the form changes the VirtualService (else only the DestinationRule)
    # the ServiceRouting fields this form sets; the rest are taken as the cluster has them when the plan
    # is made (after "Reload and review again", what another dialog or person changed meanwhile stays)
    aspects: tuple[str, ...] = ()
    # the objects the form writes, named after the service (created when the service has none)
    writes: tuple[str, ...] = ("VirtualService",)

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.svc = svc
        self.subject = f"service {svc.namespace}/{svc.name}"
        self.subject_ref = ("Service", svc.namespace, svc.name)
        self.routing, self.vs, self.dr = current_routing(inv, svc)
        self.versions = versions_of(svc, inv.workloads_for_service(svc))
        lost = unmodelled(self.vs, svc, self.dr) if self.vs is not None and self.edits_routes else []
        if lost and self.vs is not None:
            parts = lost[0] if len(lost) == 1 else f"{', '.join(lost[:-1])} and {lost[-1]}"
            self.attention = (f"Its VirtualService {self.vs.name} also has {parts}: meshdesk cannot "
                              f"rewrite its routes without losing that, so it will not. Edit its YAML instead.")
        else:
            # a name the object to create would take is another's (a gateway's VirtualService of that name, as
            # Istio's tcp-echo sample has): said now, not after the form is filled in, at Review
            creates = [kind for kind in self.writes if (self.vs if kind == "VirtualService" else self.dr) is None]
            taken = taken_name_problem(inv, svc, creates)
            if taken:
                self.attention = f"{taken[:1].upper()}{taken[1:]}, or this change will be refused."
            elif self.vs is not None and self.edits_routes and not applies_to_mesh(self.vs):
                # its only VirtualService was bound to gateways alone (Gateways, "mesh" unticked): what this
                # form sets reaches what enters through them, and the service's callers in the mesh never see it
                gateways = ", ".join(str(g) for g in self.vs.spec.get("gateways") or ())
                self.attention = (f"Its VirtualService {self.vs.name} routes only what enters through {gateways}: "
                                  "the requests of the service's callers in the mesh are not routed by it, and this "
                                  "change leaves them as they are. To route those too, tick \"Also route the mesh's "
                                  "own traffic\" in Gateways.")

    def _edit(self) -> None:
        """Copy the form's fields into ``self.routing`` (raises on bad input)."""

    def plan(self, inv: Inventory) -> ChangePlan:
        self._edit()
        if self.edits_routes and (problem := mesh_route_problem(inv, self.svc, self.title)):
            raise RoutingError(problem)  # a mesh route made since the form opened
        now, _vs, _dr = current_routing(inv, self.svc)
        for name in self.aspects:
            setattr(now, name, copy.deepcopy(getattr(self.routing, name)))
        return service_routing_plan(inv, self.svc, now,
                                    f"{self.title} for service {self.svc.namespace}/{self.svc.name}")


class TrafficShiftingForm(_RoutingForm):
    writes = ("VirtualService", "DestinationRule")
    """One slider per version; moving one shares the rest among the others so the total stays 100."""

    title = "Traffic shifting"
    help_text = "Share the service's requests between its versions (weights add up to 100%)."

    aspects = ("weights", "mirror_version", "mirror_percent")

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        self.mirrored = self.routing.mirror_version if self.routing.mirror_version in self.versions else ""
        layout = QVBoxLayout(self)
        if not self.versions:
            layout.addWidget(QLabel("No workload behind this service has a version label, so its traffic "
                                    "cannot be shifted between versions."))
        self.sliders: dict[str, QSlider] = {}
        self.spins: dict[str, QSpinBox] = {}
        grid = QFormLayout()
        start = {v: w for v, w in self.routing.weights.items() if v in self.versions}
        gone = sorted(v for v, w in self.routing.weights.items() if v not in self.versions and w)
        if gone:
            share = sum(self.routing.weights[v] for v in gone)
            self.attention = " ".join(filter(None, (
                self.attention, f"Its routes send {share:g}% of the requests to version "
                f"{', '.join(gone)}, which no workload runs any more (those requests fail): share all 100% "
                "among the running versions below.")))
        written = sum(start.values())
        if written and written != 100 and not gone:
            # Istio shares requests in proportion to the weights: said in shares of 100, as the form sets them
            shares = _shares(start)
            self.attention = " ".join(filter(None, (
                self.attention, f"Its routes give weights adding up to {written}, not 100: Istio shares the "
                "requests in proportion to them (" + ", ".join(f"{v} {shares[v]}%" for v in self.versions
                                                              if shares.get(v)) +
                "). They stay as written unless you change them here, which shares 100% anew.")))
        if not written:
            start = _even(self.versions)
        self._busy = False
        for v in self.versions:
            row = QHBoxLayout()
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, 100)
            slider.setObjectName(f"weight-{v}")
            spin = QSpinBox()
            spin.setRange(0, 100)
            spin.setSuffix(" %")
            slider.setValue(int(start.get(v, 0)))
            spin.setValue(int(start.get(v, 0)))
            slider.valueChanged.connect(lambda value, v=v: self.set_weight(v, value))
            spin.valueChanged.connect(lambda value, v=v: self.set_weight(v, value))
            row.addWidget(slider, 1)
            row.addWidget(spin)
            grid.addRow(f"{self.svc.name} {v}", row)
            self.sliders[v], self.spins[v] = slider, spin
        layout.addLayout(grid)
        buttons = QHBoxLayout()
        self.even_button = QPushButton("Evenly")
        self.even_button.clicked.connect(lambda: self.set_weights(_even([v for v in self.versions
                                                                           if v != self.mirrored])))
        buttons.addWidget(self.even_button)
        buttons.addStretch(1)
        self.total_label = QLabel()
        buttons.addWidget(self.total_label)
        layout.addLayout(buttons)
        # Kiali's mirroring: one version gets a copy of a share of the requests (its answers are dropped)
        # and no share of its own; HTTP only (a TCP connection is not copied)
        self.mirror_box = QGroupBox("Mirroring")
        mirror_form = QFormLayout(self.mirror_box)
        self.mirror = QComboBox()
        self.mirror.setObjectName("mirror_version")
        self.mirror.addItem(_NO_MIRROR, "")
        for v in self.versions:
            self.mirror.addItem(f"{self.svc.name} {v}", v)
        self.mirror_percent = _dspin(0.01, 100, self.routing.mirror_percent if self.mirrored else 100, " %")
        self.mirror_percent.setObjectName("mirror_percent")
        mirror_form.addRow("Mirror to", self.mirror)
        mirror_form.addRow("Share of requests copied", self.mirror_percent)
        layout.addWidget(self.mirror_box)
        self.mirrorable = not tcp_only(svc) and len(self.versions) > 1
        self.mirror_box.setVisible(self.mirrorable)
        if self.routing.mirror_version and not self.mirrored:
            self.attention = " ".join(filter(None, (
                self.attention, f"Its routes mirror requests to version {self.routing.mirror_version}, which no "
                "workload runs any more: choose another mirror, or none, below.")))
        layout.addStretch(1)
        self._update_total()
        self.mirror.setCurrentIndex(max(0, self.mirror.findData(self.mirrored)))
        self.mirror.currentIndexChanged.connect(self._mirror_changed)
        self._mirror_changed()
        if len(self.versions) == 1:
            # the one version takes every request (as in Kiali, its slider is locked): a share below 100%
            # could only be refused at Review
            self.set_weights({self.versions[0]: 100})
            for w in (self.sliders[self.versions[0]], self.spins[self.versions[0]]):
                w.setEnabled(False)
                w.setToolTip("The only version takes every request")

    def weights(self) -> dict[str, int]:
        return {v: s.value() for v, s in self.spins.items()}

    def set_weights(self, weights: dict[str, int]) -> None:
        self._busy = True
        try:
            for v in self.versions:
                self.sliders[v].setValue(int(weights.get(v, 0)))
                self.spins[v].setValue(int(weights.get(v, 0)))
        finally:
            self._busy = False
        self._update_total()

    def _mirror_changed(self) -> None:
        """The mirrored version's share goes to the others, and its weight stays 0 (locked) while it is the
        mirror."""
        self.mirrored = str(self.mirror.currentData() or "")
        self.mirror_percent.setEnabled(bool(self.mirrored))
        if self.mirrored and self.weights().get(self.mirrored):
            self.set_weight(self.mirrored, 0)
        if len(self.versions) > 1:
            sharing = [v for v in self.versions if v != self.mirrored]
            if len(sharing) == 1:  # the one version left takes every request, locked as a lone version is
                self.set_weights({sharing[0]: 100})
            for v in self.versions:
                for w in (self.sliders[v], self.spins[v]):
                    w.setEnabled(v != self.mirrored and len(sharing) > 1)
                    w.setToolTip("The mirror gets a copy of the requests, not a share" if v == self.mirrored else
                                 "The only version not mirrored takes every request" if len(sharing) == 1 else "")

    def set_weight(self, version: str, value: int) -> None:
        """Set one version's weight; the others share what is left in their current proportions (the
        mirror gets none)."""
        if self._busy:
            return
        others = [v for v in self.versions if v != version and v != self.mirrored]
        current = self.weights()
        current[version] = value
        rest = 100 - value
        if others:
            total = sum(current[v] for v in others)
            if total <= 0:
                shares = _even(others, rest)
            else:
                shares = {v: current[v] * rest // total for v in others}
                left = rest - sum(shares.values())
                for v in sorted(others, key=lambda v: -current[v])[:left]:
                    shares[v] += 1
            current.update(shares)
        self.set_weights(current)

    def _update_total(self) -> None:
        total = sum(self.weights().values())
        self.total_label.setText(f"Total: {total} %")

    def _edit(self) -> None:
        if not self.versions:
            raise RoutingError(f"no workload behind {self.svc.name} has a version label to shift traffic between")
        self.routing.weights = self.weights()
        self.routing.mirror_version = self.mirrored if self.mirrorable else ""
        self.routing.mirror_percent = self.mirror_percent.value() if self.mirrored else 100.0


_NO_MIRROR = "(no mirror)"


def _shares(weights: dict[str, int], total: int = 100) -> dict[str, int]:
    """Weights as whole shares of ``total`` in their proportions (60 and 30 -> 67 and 33), the largest
    remainders rounded up."""
    whole = sum(weights.values())
    exact = {v: w * total / whole for v, w in weights.items()}
    out = {v: int(x) for v, x in exact.items()}
    for v in sorted(exact, key=lambda v: out[v] - exact[v])[:total - sum(out.values())]:
        out[v] += 1
    return out


def _even(versions: list[str], total: int = 100) -> dict[str, int]:
    if not versions:
        return {}
    share, left = divmod(total, len(versions))
    return {v: share + (1 if i < left else 0) for i, v in enumerate(versions)}


class RequestRoutingForm(_RoutingForm):
    writes = ("VirtualService", "DestinationRule")
    """Rules that send requests meeting their conditions (on headers, the URI, scheme, method or authority, all
    of which must hold) to one version or share them between versions; the first rule that matches wins, so
    rules can be moved up and down. Other requests keep their routes."""

    title = "Request routing"
    help_text = ("Send requests that match a header, the URI, scheme, method or authority to one version, or share "
                 "them between versions; the first rule that matches a request wins; other requests keep their "
                 "routes.")

    aspects = ("matches",)
    FIELDS = {"Header": "header", "URI": "uri", "Scheme": "scheme", "Method": "method", "Authority": "authority"}

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        self.matches: list[RouteMatch] = list(self.routing.matches)
        self.pending: list[Condition] = []  # the new rule's conditions added so far
        layout = QVBoxLayout(self)
        self.rules = SayingList("No rules yet: requests keep their routes. Make one under New rule, then Add rule.")
        # a rule's summary with its own fault, timeout, retries and mirror is long: wrapped, not cut
        self.rules.setWordWrap(True)
        self.rules.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(QLabel("Rules, first match wins:"))
        layout.addWidget(self.rules)
        order = QHBoxLayout()
        self.up_button = QPushButton("Move up")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button = QPushButton("Move down")
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.remove_button = QPushButton("Remove selected rule")
        self.remove_button.clicked.connect(self.remove_selected)
        for button in (self.up_button, self.down_button, self.remove_button):
            order.addWidget(button)
        order.addStretch(1)
        layout.addLayout(order)
        box = QGroupBox("New rule")
        box_layout = QVBoxLayout(box)
        # as Kiali's wizard builds a rule: its matching, where it goes (and its mirror), its own fault injection,
        # and its own timeout and retries, one tab each (the form fits a 1024x700 screen)
        self.rule_tabs = QTabWidget()
        box_layout.addWidget(self.rule_tabs)
        matching = QWidget()
        form = QFormLayout(matching)
        self.rule_tabs.addTab(matching, "Request matching")
        self.on = QComboBox()
        self.on.addItems(list(self.FIELDS))
        self.header = QLineEdit()
        self.header.setPlaceholderText("e.g. end-user")
        self.kind = QComboBox()
        self.kind.addItems(list(HEADER_MATCH_KINDS))
        self.kind.setToolTip("present: requests that carry the header, whatever its value (a header only)")
        self.value = QLineEdit()
        self.on.currentTextChanged.connect(self._on_changed)
        # a presence match takes no value
        self.kind.currentTextChanged.connect(lambda t: self.value.setEnabled(t != PRESENT and bool(self.versions)))
        form.addRow("Match on", self.on)
        form.addRow("Header name", self.header)
        form.addRow("Match", self.kind)
        form.addRow("Value", self.value)
        self.conditions = SayingList("None added yet: Add condition keeps the one above and takes another")
        self.conditions.setMaximumHeight(self.conditions.fontMetrics().height() * 4 + 8)
        self.conditions.setToolTip("A request must meet every condition of a rule")
        condition_buttons = QHBoxLayout()
        self.add_condition_button = QPushButton("Add condition")
        self.add_condition_button.setToolTip("Keep this condition and type another one: the rule matches the "
                                             "requests that meet all of them")
        self.add_condition_button.clicked.connect(self.add_condition)
        self.remove_condition_button = QPushButton("Remove condition")
        self.remove_condition_button.clicked.connect(self.remove_condition)
        condition_buttons.addWidget(self.add_condition_button)
        condition_buttons.addWidget(self.remove_condition_button)
        condition_buttons.addStretch(1)
        form.addRow("Conditions (all must hold)", self.conditions)
        form.addRow(condition_buttons)
        route_to = QWidget()
        form = QFormLayout(route_to)
        self.rule_tabs.addTab(route_to, "Route to")
        self.version = QComboBox()
        self.version.addItems(self.versions)
        form.addRow("Route to version", self.version)
        self.split = QCheckBox("Share between versions")
        self.split.setToolTip("Send the rule's requests to several versions, by weights adding up to 100")
        shares = QWidget()
        share_row = QHBoxLayout(shares)
        share_row.setContentsMargins(0, 0, 0, 0)
        self.shares: dict[str, QSpinBox] = {}
        for v in self.versions:
            spin = QSpinBox()
            spin.setRange(0, 100)
            spin.setSuffix(" %")
            spin.setEnabled(False)
            share_row.addWidget(QLabel(v))
            share_row.addWidget(spin)
            self.shares[v] = spin
        share_row.addStretch(1)
        self.split.toggled.connect(self._split_changed)
        form.addRow(self.split)
        form.addRow("Weights", shares)
        self.mirror_on = QCheckBox("Mirror the rule's requests")
        self.mirror_on.setToolTip("A copy of a share of the rule's requests also goes to another version; its "
                                  "answers are dropped (a new version tried on real requests)")
        self.mirror_version = QComboBox()
        self.mirror_version.addItems(self.versions)
        if len(self.versions) > 1:
            self.mirror_version.setCurrentIndex(len(self.versions) - 1)
        form.addRow(self.mirror_on)
        form.addRow("Mirror to version", self.mirror_version)
        self.mirror_percent = _CheckedField("100", lambda t: _mirror_share_problem(t), "e.g. 50 (% of the rule's requests)")
        form.addRow("Mirrored share (%)", self.mirror_percent)
        _enable_with(self.mirror_on, self.mirror_version, self.mirror_percent)
        # the rule's own fault injection (Kiali's defaults: every request, delayed 5s or aborted with 503)
        faults = QWidget()
        form = QFormLayout(faults)
        self.rule_tabs.addTab(faults, "Fault injection")
        self.delay_on = QCheckBox("Delay the rule's requests")
        self.delay_percent = _CheckedField("100", lambda t: percent_problem(t, "the delay percentage"))
        self.fixed_delay = _CheckedField("5s", lambda t: duration_problem(t, "the delay"), "e.g. 5s, 500ms, 1m30s")
        form.addRow(self.delay_on)
        form.addRow("Delay percentage (%)", self.delay_percent)
        form.addRow("Fixed delay", self.fixed_delay)
        self.abort_on = QCheckBox("Abort the rule's requests")
        self.abort_percent = _CheckedField("100", lambda t: percent_problem(t, "the abort percentage"))
        self.abort_status = _CheckedField("503", _status_problem, "an HTTP status, 200 to 599")
        form.addRow(self.abort_on)
        form.addRow("Abort percentage (%)", self.abort_percent)
        form.addRow("HTTP status", self.abort_status)
        _enable_with(self.delay_on, self.delay_percent, self.fixed_delay)
        _enable_with(self.abort_on, self.abort_percent, self.abort_status)
        # its own timeout and retries (Kiali's defaults: 2s; 3 attempts of 2s on gateway errors, failed and
        # refused connections)
        timing = QWidget()
        form = QFormLayout(timing)
        self.rule_tabs.addTab(timing, "Timeouts and retries")
        self.timeout_on = QCheckBox("Request timeout")
        self.timeout = _CheckedField("2s", lambda t: duration_problem(t, "the timeout"), "e.g. 2s, 500ms")
        form.addRow(self.timeout_on)
        form.addRow("Timeout", self.timeout)
        self.retries_on = QCheckBox("Retries")
        self.attempts = _CheckedField("3", _attempts_problem, "tries after the first; 0: none")
        self.per_try = _CheckedField("2s", lambda t: duration_problem(t, "the per-try timeout") if t.strip() else "",
                                     "e.g. 2s; empty: none")
        self.retry_on = _CheckedField("gateway-error,connect-failure,refused-stream", retry_on_problem,
                                      "e.g. 5xx,connect-failure")
        form.addRow(self.retries_on)
        form.addRow("Attempts", self.attempts)
        form.addRow("Per-try timeout", self.per_try)
        form.addRow("Retry on", self.retry_on)
        _enable_with(self.timeout_on, self.timeout)
        _enable_with(self.retries_on, self.attempts, self.per_try, self.retry_on)
        self.rule_tabs.setToolTip("A rule with none of its own fault, timeout or retries has the service's (Fault "
                                  "injection, Timeouts and retries)")
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add rule")
        self.add_button.clicked.connect(self.add_rule)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        box_layout.addLayout(buttons)
        self.error = QLabel()
        self.error.setWordWrap(True)
        box_layout.addWidget(self.error)
        layout.addWidget(box)
        if not self.versions:
            # as traffic shifting says it: there is no version to route to, so no rule can be added
            self.attention = " ".join(filter(None, (
                self.attention, "No workload behind this service has a version label, so its requests cannot be "
                "routed to a version.")))
            for widget in (self.on, self.header, self.kind, self.value, self.version, self.add_button, self.split,
                           self.add_condition_button, self.mirror_on, self.delay_on, self.abort_on, self.timeout_on,
                           self.retries_on):
                widget.setEnabled(False)
        self._show()

    def _on_changed(self, text: str) -> None:
        self.header.setEnabled(text == "Header" and bool(self.versions))

    def _split_changed(self, on: bool) -> None:
        self.version.setEnabled(not on and bool(self.versions))
        for spin in self.shares.values():
            spin.setEnabled(on)
        if on and not any(spin.value() for spin in self.shares.values()) and self.shares:
            # start from the version chosen, all of the requests
            self.shares.get(self.version.currentText(), next(iter(self.shares.values()))).setValue(100)

    def _show(self) -> None:
        self.rules.clear()
        for m in self.matches:
            what = " and ".join(condition_words(c) for c in m.conditions)
            odd = any(c.on == "header" and header_name_problem(c.header) is not None for c in m.conditions)
            never = not odd and match_value_problem(m) is not None
            gone = any(v not in self.versions for v, w in m.destinations.items() if w)
            to = ", ".join(f"{v} {w}%" for v, w in m.weights.items()) if m.weights else m.version
            # what it does besides (its own delay, abort, timeout, retries, mirror), as Kiali's rule list says it
            to += "".join(f"; {note}" for note in rule_option_words(m))
            self.rules.addItem(f"{what} -> {to}" + (" (never matches: no request carries this header name)"
                                                    if odd else "")
                               + (" (never matches: no request carries this value)" if never else "")
                               + (" (no workload runs this version any more: these requests fail)" if gone else ""))
        self.conditions.clear()
        for c in self.pending:
            self.conditions.addItem(condition_words(c))

    def _typed(self) -> Condition | None:
        """The condition in the fields, None when nothing is typed (no value, and not a header's presence)."""
        kind = self.kind.currentText()
        if not self.value.text().strip() and kind != PRESENT:
            return None
        on = self.FIELDS[self.on.currentText()]
        return Condition(on, kind, "" if kind == PRESENT else self.value.text(),
                         header_key(self.header.text()) if on == "header" else "")

    def _condition_problem(self, c: Condition) -> str | None:
        if c.on == "header" and (problem := header_name_problem(c.header)):
            return problem
        return match_value_problem(c)

    def add_condition(self) -> bool:
        """Keep the typed condition for the new rule (its conditions must all hold), and clear the value."""
        typed = self._typed()
        try:
            if typed is None:
                raise RoutingError("type a value for the condition first (or choose present, for a header)")
            check_routing(ServiceRouting(matches=[RouteMatch.of([*self.pending, typed], self.versions[0]
                                                                 if self.versions else "")]), self.versions)
            if problem := self._condition_problem(typed):
                raise RoutingError(problem)
        except RoutingError as e:
            self.error.setText(str(e))
            return False
        self.error.setText("")
        self.pending.append(typed)
        self.value.clear()
        self._show()
        return True

    def remove_condition(self) -> None:
        row = self.conditions.currentRow()
        if 0 <= row < len(self.pending):
            del self.pending[row]
            self._show()

    def add_rule(self) -> bool:
        typed = self._typed()
        if typed is None and not self.pending:
            # nothing typed: the checks below say what is missing ("a match needs a value")
            on = self.FIELDS[self.on.currentText()]
            typed = Condition(on, self.kind.currentText(), "",
                              header_key(self.header.text()) if on == "header" else "")
        conditions = [*self.pending, *([typed] if typed is not None else [])]
        weights = {v: spin.value() for v, spin in self.shares.items() if spin.value()} if self.split.isChecked() else {}
        if len(weights) == 1 and sum(weights.values()) == 100:
            weights = {}  # all of them to one version
            version = next(v for v, spin in self.shares.items() if spin.value())
        else:
            version = "" if weights else self.version.currentText()
        try:
            if not self.versions:
                raise RoutingError(f"no workload behind {self.svc.name} has a version label to route requests to")
            if self.split.isChecked() and not weights:
                raise RoutingError("a rule's weights must add up to 100, not 0")
            own, mirror_version, mirror_percent = self._options()
            match = RouteMatch.of(conditions, version, weights, own=own, mirror_version=mirror_version,
                                  mirror_percent=mirror_percent)
            check_routing(ServiceRouting(matches=[match]), self.versions)
            self._refuse_shadowed(match, len(self.matches))
            for c in conditions:
                if problem := self._condition_problem(c):
                    raise RoutingError(problem)
        except RoutingError as e:
            self.error.setText(str(e))
            return False
        self.error.setText("")
        self.matches.append(match)
        self.pending = []
        self.value.clear()
        # the next rule starts from one version again, its weights not those of this one
        self.split.setChecked(False)
        for spin in self.shares.values():
            spin.setValue(0)
        # and with none of its own fault, timeout, retries or mirror (the fields keep their values)
        for check in (self.mirror_on, self.delay_on, self.abort_on, self.timeout_on, self.retries_on):
            check.setChecked(False)
        self.rule_tabs.setCurrentIndex(0)
        self._show()
        return True

    def _options(self) -> tuple[RuleOptions | None, str, float]:
        """The new rule's own fault, timeout and retries (None: none ticked, the service's), mirror version
        and share; a field Istio would refuse raises, its tab shown with the message under the field."""
        for tab, check, fields in ((1, self.mirror_on, (self.mirror_percent,)),
                                   (2, self.delay_on, (self.delay_percent, self.fixed_delay)),
                                   (2, self.abort_on, (self.abort_percent, self.abort_status)),
                                   (3, self.timeout_on, (self.timeout,)),
                                   (3, self.retries_on, (self.attempts, self.per_try, self.retry_on))):
            for f in fields:
                if check.isChecked() and (problem := f.check()):
                    self.rule_tabs.setCurrentIndex(tab)
                    f.edit.setFocus()
                    raise RoutingError(f"{self.rule_tabs.tabText(tab)}: {problem}")
        mirror = (self.mirror_version.currentText(), _percent(self.mirror_percent.text())) if self.mirror_on.isChecked() \
            else ("", 100.0)
        if not any(c.isChecked() for c in (self.delay_on, self.abort_on, self.timeout_on, self.retries_on)):
            return None, *mirror
        fault = Fault(delay_percent=_percent(self.delay_percent.text()) if self.delay_on.isChecked() else 0.0,
                      delay_seconds=duration_seconds(self.fixed_delay.text()) or 0.0 if self.delay_on.isChecked()
                      else 0.0,
                      abort_percent=_percent(self.abort_percent.text()) if self.abort_on.isChecked() else 0.0,
                      abort_status=int(self.abort_status.text().strip()) if self.abort_on.isChecked() else 503)
        own = RuleOptions(fault, duration_seconds(self.timeout.text()) if self.timeout_on.isChecked() else None)
        if self.retries_on.isChecked():
            own.retry_attempts = int(self.attempts.text().strip())
            if own.retry_attempts:  # 0: no retries, so no per-try timeout or retry-on (Istio refuses them then)
                own.retry_per_try_timeout_seconds = duration_seconds(self.per_try.text()) \
                    if self.per_try.text().strip() else None
                own.retry_on = self.retry_on.text().strip()
        return own, *mirror

    def _refuse_shadowed(self, match: RouteMatch, at: int, moved: bool = False) -> None:
        """Refuse ``match`` at position ``at`` when a rule before it takes every request it matches."""
        for i, m in enumerate(self.matches[:at], 1):
            if m is match:
                continue
            to = ", ".join(f"{v} {w}%" for v, w in match.weights.items()) if match.weights else match.version
            if same_match(m, match):
                # the first rule that matches a request wins: a second with the same match never applies
                raise RoutingError(f"rule {i} already matches the same requests "
                                   f"({' and '.join(condition_words(c) for c in match.conditions)}), so this rule "
                                   f"would never apply: remove rule {i} first to send them to {to} instead")
            if shadows(m, match):
                raise RoutingError(f"rule {i} ({' and '.join(condition_words(c) for c in m.conditions)}) takes every "
                                   f"request this rule matches first, so this rule would never apply: "
                                   + ("keep it above rule " if moved else "move it above rule ") + f"{i}"
                                   + ("" if moved else ", or remove rule " + str(i)))

    def move_selected(self, step: int) -> bool:
        """Move the selected rule up (-1) or down (1): the first rule that matches a request wins. A move that
        would put a rule after one taking all its requests is refused, saying so."""
        row = self.rules.currentRow()
        to = row + step
        if not (0 <= row < len(self.matches) and 0 <= to < len(self.matches)):
            return False
        order = list(self.matches)
        order[row], order[to] = order[to], order[row]
        later = order[max(row, to)]
        earlier = order[min(row, to)]
        if shadows(earlier, later):
            words = " and ".join(condition_words(c) for c in earlier.conditions)
            self.error.setText(f"rule {min(row, to) + 1} would then be {words}, which takes every request rule "
                               f"{max(row, to) + 1} matches first, so that rule would never apply: the move is not "
                               "made")
            return False
        self.error.setText("")
        self.matches = order
        self._show()
        self.rules.setCurrentRow(to)
        return True

    def remove_selected(self) -> None:
        row = self.rules.currentRow()
        if 0 <= row < len(self.matches):
            del self.matches[row]
            self._show()

    def _edit(self) -> None:
        # a rule typed but not added with "Add rule" is what the user meant: it is added (or refused
        # with the reason), not dropped without a word
        if (self.value.text().strip() and self.kind.currentText() != PRESENT or self.pending) and not self.add_rule():
            raise RoutingError(f"the new rule is not valid: {self.error.text()}")
        self.routing.matches = list(self.matches)


class FaultInjectionForm(_RoutingForm):
    title = "Fault injection"
    help_text = "Delay or fail a share of the requests to this service, to see how its callers cope."

    aspects = ("fault",)

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        f = self.routing.fault
        layout = QVBoxLayout(self)
        delay = QGroupBox("Delay")
        form = QFormLayout(delay)
        self.delay_on = QCheckBox("Delay requests")
        self.delay_on.setChecked(f.delay_percent > 0)
        self.delay_percent = _dspin(0, 100, f.delay_percent or 100, " %")
        self.delay_seconds = _dspin(0, MAX_SECONDS, f.delay_seconds or 5, " s")
        form.addRow(self.delay_on)
        form.addRow("Share of requests", self.delay_percent)
        form.addRow("Delay", self.delay_seconds)
        layout.addWidget(delay)
        abort = QGroupBox("Abort")
        form = QFormLayout(abort)
        self.abort_on = QCheckBox("Fail requests")
        self.abort_on.setChecked(f.abort_percent > 0)
        self.abort_percent = _dspin(0, 100, f.abort_percent or 100, " %")
        self.abort_status = QSpinBox()
        self.abort_status.setRange(200, 599)
        self.abort_status.setValue(f.abort_status or 503)
        form.addRow(self.abort_on)
        form.addRow("Share of requests", self.abort_percent)
        form.addRow("HTTP status", self.abort_status)
        layout.addWidget(abort)
        layout.addStretch(1)
        _enable_with(self.delay_on, self.delay_percent, self.delay_seconds)
        _enable_with(self.abort_on, self.abort_percent, self.abort_status)

    def _edit(self) -> None:
        for on, share, what in ((self.delay_on, self.delay_percent, "delay"), (self.abort_on, self.abort_percent, "abort")):
            if on.isChecked() and share.value() <= 0:
                raise RoutingError(f"a {what} needs a share of requests above 0 %")
        self.routing.fault = Fault(
            delay_percent=self.delay_percent.value() if self.delay_on.isChecked() else 0.0,
            delay_seconds=self.delay_seconds.value() if self.delay_on.isChecked() else 0.0,
            abort_percent=self.abort_percent.value() if self.abort_on.isChecked() else 0.0,
            abort_status=self.abort_status.value())


class TimeoutsForm(_RoutingForm):
    title = "Timeouts and retries"
    help_text = "How long callers wait for this service, and how often a failed request is tried again."

    aspects = ("timeout_seconds", "retry_attempts", "retry_per_try_timeout_seconds", "retry_on")

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        r = self.routing
        form = QFormLayout(self)
        # "0s" written by hand is Istio's "no timeout": shown as off, and written back as it is (as 0s)
        # unless the user sets a timeout; so is a per-try timeout of 0s (shown as none)
        self._kept_zero_timeout = r.timeout_seconds == 0
        self._kept_zero_per_try = r.retry_per_try_timeout_seconds == 0
        self.timeout_on = QCheckBox("Request timeout")
        self.timeout_on.setChecked(bool(r.timeout_seconds))
        self.timeout = _dspin(0.001, MAX_SECONDS, r.timeout_seconds or 10, " s")
        form.addRow(self.timeout_on, self.timeout)
        if self._kept_zero_timeout:
            self.timeout_on.setToolTip("Its VirtualService says timeout: 0s, which Istio reads as no timeout; "
                                       "it stays so unless you set one here.")
            form.addRow(QLabel("No timeout now (timeout: 0s in its VirtualService, kept as it is)."))
        self.retries_on = QCheckBox("Retries")
        self.retries_on.setChecked(r.retry_attempts is not None)
        self.attempts = QSpinBox()
        self.attempts.setRange(0, MAX_INT32)
        self.attempts.setValue(r.retry_attempts if r.retry_attempts is not None else 3)
        form.addRow(self.retries_on, self.attempts)
        self.per_try = _dspin(0, MAX_SECONDS, r.retry_per_try_timeout_seconds or 0, " s")
        self.per_try.setSpecialValueText("none")
        form.addRow("Per-try timeout", self.per_try)
        self.retry_on = QLineEdit(r.retry_on)
        self.retry_on.setPlaceholderText("e.g. 5xx,connect-failure")
        form.addRow("Retry on", self.retry_on)
        _enable_with(self.timeout_on, self.timeout)
        _enable_with(self.retries_on, self.attempts, self.per_try, self.retry_on)

    def _edit(self) -> None:
        r = self.routing
        r.timeout_seconds = self.timeout.value() if self.timeout_on.isChecked() else \
            (0.0 if self._kept_zero_timeout else None)
        if self.retries_on.isChecked():
            r.retry_attempts = self.attempts.value()
            r.retry_per_try_timeout_seconds = self.per_try.value() or (0.0 if self._kept_zero_per_try else None)
            r.retry_on = self.retry_on.text().strip()
        else:
            r.retry_attempts, r.retry_per_try_timeout_seconds, r.retry_on = None, None, ""


_BREAKER_FIELDS: tuple[tuple[str, str, bool, float], ...] = (
    # (attribute, label, seconds?, default)
    ("max_connections", "Max connections", False, 100),
    ("http1_max_pending_requests", "Max pending HTTP requests", False, 100),
    ("max_requests_per_connection", "Max requests per connection", False, 10),
    ("consecutive_5xx_errors", "Eject after consecutive 5xx errors", False, 5),
    ("interval_seconds", "Ejection sweep interval", True, 10),
    ("base_ejection_seconds", "Base ejection time", True, 30),
    ("max_ejection_percent", "Max ejected hosts", False, 10),
)


# the connection-pool limits Istio leaves unset when they are 0 (its defaults then apply: effectively none)
_UNSET_AT_ZERO = ("max_connections", "http1_max_pending_requests", "max_requests_per_connection")


class CircuitBreakingForm(_RoutingForm):
    writes = ("DestinationRule",)
    title = "Circuit breaking"
    edits_routes = False
    help_text = "Limit connections to this service and eject hosts that keep failing."

    aspects = ("circuit_breaker",)

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        cb = self.routing.circuit_breaker
        self._read = cb  # as the DestinationRule has it
        form = QFormLayout(self)
        self.fields: dict[str, tuple[QCheckBox, QSpinBox | QDoubleSpinBox]] = {}
        for attr, label, seconds, default in _BREAKER_FIELDS:
            value = getattr(cb, attr)
            check = QCheckBox(label)
            check.setChecked(value is not None)
            spin: QSpinBox | QDoubleSpinBox
            if seconds:
                spin = _dspin(0.001, MAX_SECONDS, value if value is not None else default, " s")
            elif attr == "max_ejection_percent":
                spin = QSpinBox()
                spin.setRange(0, 100)
                spin.setValue(int(value if value is not None else default))
                spin.setSuffix(" %")
            else:
                # whole numbers in a box that holds any Istio keeps (up to 2^32-1 for the 5xx count), so a
                # value read from the cluster shows as written; one Istio cannot read is refused at Review
                # with the reason (see check_routing), not lowered without a word
                spin = _dspin(0, MAX_COUNT, value if value is not None else default, "")
                spin.setDecimals(0)
            spin.setObjectName(attr)
            form.addRow(check, spin)
            _enable_with(check, spin)
            self.fields[attr] = (check, spin)

    def _edit(self) -> None:
        values: dict[str, Any] = {}
        for attr, (check, spin) in self.fields.items():
            seconds = attr.endswith("_seconds")
            values[attr] = (spin.value() if seconds else int(round(spin.value()))) if check.isChecked() else None
            if attr in _UNSET_AT_ZERO and values[attr] == 0 and getattr(self._read, attr) != 0:
                # Istio reads a pool limit of 0 as one not set: the default, no limit worth the name
                label = next(text for a, text, _s, _d in _BREAKER_FIELDS if a == attr)
                raise RoutingError(f"{label}: 0 is no limit to Istio (it takes the limit as not set); give 1 or "
                                   "more, or untick it")
        self.routing.circuit_breaker = CircuitBreaker(**values)


def _hosts(text: str) -> list[str]:
    """Host names typed as a list ("a.example.com, b.example.com"): trimmed, in lower case, each once."""
    return list(dict.fromkeys(h.strip().lower() for h in text.replace(" ", ",").split(",") if h.strip()))


class GatewaysForm(_RoutingForm):
    """Which gateways the service's VirtualService routes for (Kiali's wizard "Advanced Options ->
    Gateways"): an Istio Gateway the cluster has, or a new one made in the same change, with the mesh's
    own traffic kept on the same routes or not, and the hosts clients name at the gateway."""

    title = "Gateways"
    edits_routes = False  # only its hosts and gateways: the routes stay as written, whatever they hold
    help_text = ("Route requests entering through a gateway by this service's routes, besides (or instead of) "
                 "the mesh's own traffic.")
    aspects = ("gateway",)

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        self.gateways = sorted(cluster_gateways(inv), key=lambda g: (g.namespace != svc.namespace, g.namespace, g.name))
        binding = self.routing.gateway or GatewayBinding()
        own = {gateway_ref_text(g, svc.namespace) for g in self.gateways}
        form = QFormLayout(self)
        self.bind = QCheckBox("Route requests entering through a gateway")
        self.bind.setObjectName("gw_bind")
        self.bind.setChecked(binding.active)
        form.addRow(self.bind)
        self.mesh = QCheckBox("Also route the mesh's own traffic (the gateway \"mesh\")")
        self.mesh.setObjectName("gw_mesh")
        self.mesh.setChecked(binding.mesh or not binding.active)
        form.addRow(self.mesh)
        self.pick_existing = QRadioButton("A Gateway the cluster has")
        self.make_new = QRadioButton("A new Gateway")
        form.addRow(self.pick_existing)
        self.gateway = QComboBox()
        self.gateway.setObjectName("gw_existing")
        for g in self.gateways:
            self.gateway.addItem(f"{g.namespace}/{g.name}", gateway_ref_text(g, svc.namespace))
        # gateways the VirtualService names besides the first (Kiali's wizard sets one) stay as they are
        named = [g for g in binding.gateways if g != MESH_GATEWAY]
        self.kept_gateways = named[1:]
        if named:
            first = named[0]
            if first not in own:  # as written, marked, so Review says why it is refused
                ns, name = gateway_ref(first, svc.namespace)
                self.gateway.addItem(f"{ns}/{name} (not in the cluster)", first)
            self.gateway.setCurrentIndex(self.gateway.findData(first))
        form.addRow("Gateway", self.gateway)
        form.addRow(self.make_new)
        self.new_name = new_gateway_name(svc, self.gateways)
        self.port = QSpinBox()
        self.port.setObjectName("gw_port")
        self.port.setRange(1, 65535)
        self.port.setValue(80)
        form.addRow(f"Port of Gateway {self.new_name} (HTTP)", self.port)
        self.gateway_hosts = QLineEdit("*")
        self.gateway_hosts.setObjectName("gw_hosts")
        self.gateway_hosts.setPlaceholderText("* (any), or host names: shop.example.com, *.example.com")
        form.addRow(f"Hosts Gateway {self.new_name} takes", self.gateway_hosts)
        self.hosts = QLineEdit(", ".join(binding.hosts))
        self.hosts.setObjectName("gw_vs_hosts")
        self.hosts.setPlaceholderText("e.g. shop.example.com (the service's own name is always one)")
        self.hosts.setToolTip("The Host header requests carry at the gateway. The service's own name is kept for "
                              "the mesh's traffic, and a gateway taking * routes requests for it too.")
        form.addRow("More hosts for the routes", self.hosts)
        if self.kept_gateways:
            form.addRow(QLabel(f"Also bound to {', '.join(self.kept_gateways)}, which stays as it is."))
        self.pick_existing.setChecked(bool(self.gateways) or bool(named))
        self.make_new.setChecked(not self.pick_existing.isChecked())
        self.pick_existing.setEnabled(self.gateway.count() > 0)
        if not self.gateway.count():
            self.pick_existing.setToolTip("The cluster has no Istio Gateway meshdesk can see.")
        for w in (self.bind, self.pick_existing, self.make_new):
            w.toggled.connect(self._follow)
        self._follow()

    def _follow(self) -> None:
        on = self.bind.isChecked()
        self.mesh.setEnabled(on)
        self.pick_existing.setEnabled(on and self.gateway.count() > 0)
        self.make_new.setEnabled(on)
        self.gateway.setEnabled(on and self.pick_existing.isChecked())
        for w in (self.port, self.gateway_hosts):
            w.setEnabled(on and self.make_new.isChecked())
        self.hosts.setEnabled(on)

    def _edit(self) -> None:
        if not self.bind.isChecked():
            self.routing.gateway = GatewayBinding()
            return
        new = None
        if self.make_new.isChecked():
            new = NewGateway(self.new_name, self.port.value(), _hosts(self.gateway_hosts.text()))
            first = new.name
        else:
            first = str(self.gateway.currentData() or "")
            if not first:
                raise RoutingError("pick the Gateway to route for, or create one")
        self.routing.gateway = GatewayBinding([first, *(g for g in self.kept_gateways if g != first)],
                                              self.mesh.isChecked(), _hosts(self.hosts.text()), new)


_UNSET_TLS = "(not set)"
_TLS_HINTS = {
    _UNSET_TLS: "Clients follow the mesh: Istio's automatic mTLS, or a namespace- or mesh-wide DestinationRule.",
    "DISABLE": "Clients send plain text.",
    "ISTIO_MUTUAL": "Clients send mutual TLS with the certificates Istio issues.",
    "SIMPLE": "Clients open TLS to the service and check it with the CA certificates, if given.",
    "MUTUAL": "Clients send the client certificate below; the paths are files in their sidecar.",
}


class TlsForm(_RoutingForm):
    writes = ("DestinationRule",)
    """The TLS clients use to reach the service (the DestinationRule's ``trafficPolicy.tls``), as Kiali's
    wizards set it; what else the rule's TLS holds (a credentialName, SNI) stays as it is."""

    title = "TLS"
    edits_routes = False
    help_text = "How the service's clients secure their connections to it (DestinationRule TLS mode)."
    aspects = ("tls",)

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        self.inv = inv
        tls = self.routing.tls or ClientTls()
        form = QFormLayout(self)
        self.mode = QComboBox()
        self.mode.setObjectName("tls_mode")
        self.mode.addItems([_UNSET_TLS, *TLS_MODES])
        if tls.mode and tls.mode not in TLS_MODES:
            self.mode.addItem(tls.mode)  # as written, so Review names it rather than hiding it
        self.mode.setCurrentText(tls.mode or _UNSET_TLS)
        form.addRow("Mode", self.mode)
        # as Kiali's wizard: a rule without a TLS mode starts at ISTIO_MUTUAL where the namespace's mTLS
        # status is "enabled" (a STRICT namespace-wide policy with clients sending mTLS), so writing the
        # rule keeps its clients on mTLS; elsewhere it starts unset
        self.preselected = QLabel()
        self.preselected.setObjectName("tls_preselected")
        self.preselected.setWordWrap(True)
        form.addRow(self.preselected)
        self.preselected.setVisible(False)
        if not tls.mode and namespace_tls(inv, svc.namespace).status == ENABLED:
            self.mode.setCurrentText("ISTIO_MUTUAL")
            self.preselected.setText(f"ISTIO_MUTUAL is preselected: mTLS is enabled for namespace {svc.namespace} "
                                     "and no DestinationRule of the service sets a TLS mode yet (as Kiali's "
                                     "wizard does). Choose (not set) to leave the rule without one.")
            self.preselected.setVisible(True)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        form.addRow(self.hint)
        self.files: dict[str, QLineEdit] = {}
        for attr, label, placeholder in (
                ("client_certificate", "Client certificate", "/etc/certs/cert-chain.pem"),
                ("private_key", "Private key", "/etc/certs/key.pem"),
                ("ca_certificates", "CA certificates", "/etc/certs/root-cert.pem")):
            edit = QLineEdit(getattr(tls, attr))
            edit.setObjectName(attr)
            edit.setPlaceholderText(placeholder)
            form.addRow(label, edit)
            self.files[attr] = edit
        self.warning = QLabel()
        self.warning.setObjectName("tls_warning")
        self.warning.setWordWrap(True)
        form.addRow(self.warning)
        self.mode.currentTextChanged.connect(self._mode_changed)
        self._mode_changed(self.mode.currentText())

    def _mode_changed(self, mode: str) -> None:
        self.hint.setText(_TLS_HINTS.get(mode, ""))
        self.preselected.setVisible(bool(self.preselected.text()) and mode == "ISTIO_MUTUAL")
        # Kiali asks for the client certificate with MUTUAL only; the CA checks the server with SIMPLE too.
        # A field that does not apply keeps its text (greyed) and is not written
        for attr, edit in self.files.items():
            edit.setEnabled(mode == "MUTUAL" or (mode == "SIMPLE" and attr == "ca_certificates"))
        warnings = refused_plain_text(self.inv, self.svc) if mode == "DISABLE" else []
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))

    def _edit(self) -> None:
        mode = self.mode.currentText()
        values = {attr: edit.text().strip() if edit.isEnabled() else "" for attr, edit in self.files.items()}
        tls = ClientTls("" if mode == _UNSET_TLS else mode, **values)
        problem = tls_problem(tls)
        if problem:
            raise RoutingError(problem)
        self.routing.tls = tls


_UNSET_LB = "(not set)"
_CONSISTENT_HASH = "Consistent hash"
_HASH_LABELS = {"header": "HTTP header", "cookie": "HTTP cookie", "source_ip": "Source IP", "query": "Query parameter"}


class LoadBalancingForm(_RoutingForm):
    writes = ("DestinationRule",)
    """How the service's clients spread requests over its endpoints (the DestinationRule's
    ``trafficPolicy.loadBalancer``), as Kiali's wizards set it: a simple algorithm or a consistent hash
    (session affinity) on a header, a cookie, the source IP or a query parameter. What else the load
    balancer holds that the form does not show (a failover priority, a cookie's attributes) stays as it
    is; locality load balancing (on or off, distribute or failover rules) is set here too."""

    title = "Load balancing"
    edits_routes = False
    help_text = "How the service's clients pick one of its endpoints for each request or connection."
    aspects = ("load_balancer",)

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None) -> None:
        super().__init__(inv, svc, parent)
        lb = self.routing.load_balancer or LoadBalancer()
        form = QFormLayout(self)
        self.algorithm = QComboBox()
        self.algorithm.setObjectName("lb_algorithm")
        self.algorithm.addItems([_UNSET_LB, *LB_SIMPLE, _CONSISTENT_HASH])
        if lb.simple and lb.simple not in LB_SIMPLE:
            self.algorithm.addItem(lb.simple)  # as written (e.g. the deprecated LEAST_CONN), kept unless changed
        self.algorithm.setCurrentText(_CONSISTENT_HASH if lb.hash_by else lb.simple or _UNSET_LB)
        form.addRow("Algorithm", self.algorithm)
        self.hash_by = QComboBox()
        self.hash_by.setObjectName("lb_hash_by")
        tcp = tcp_only(svc)
        for kind in HASH_KINDS:
            self.hash_by.addItem(_HASH_LABELS[kind], kind)
            if tcp and kind != "source_ip":
                # a TCP connection carries no header, cookie or query: the source IP is all there is
                item = self.hash_by.model().item(self.hash_by.count() - 1)  # type: ignore[attr-defined]
                item.setEnabled(False)
        self.hash_by.setCurrentIndex(max(0, self.hash_by.findData(lb.hash_by or ("source_ip" if tcp else "header"))))
        form.addRow("Hash on", self.hash_by)
        self.hash_key = QLineEdit(lb.hash_key)
        self.hash_key.setObjectName("lb_hash_key")
        form.addRow("Name", self.hash_key)
        self.cookie_path = QLineEdit(lb.cookie_path)
        self.cookie_path.setObjectName("lb_cookie_path")
        self.cookie_path.setPlaceholderText("e.g. /shop (none: the request's)")
        form.addRow("Cookie path", self.cookie_path)
        self.ttl = QLineEdit("" if lb.cookie_ttl_seconds is None else _duration(lb.cookie_ttl_seconds))
        self.ttl.setObjectName("lb_cookie_ttl")
        self.ttl.setPlaceholderText("a duration, e.g. 10s, 30m, 1h (0s: a session cookie)")
        form.addRow("Cookie time to live", self.ttl)
        self.hash_algorithm = QComboBox()
        self.hash_algorithm.setObjectName("lb_hash_algorithm")
        for label, data in _HASH_ALGORITHM_LABELS:
            self.hash_algorithm.addItem(label, data)
        self.hash_algorithm.setCurrentIndex(max(0, self.hash_algorithm.findData(lb.hash_algorithm)))
        form.addRow("Hash algorithm", self.hash_algorithm)
        self.legacy_ring_size = lb.legacy_ring_size
        self.ring_size = QLineEdit("" if lb.ring_size is None else str(lb.ring_size))
        self.ring_size.setObjectName("lb_ring_size")
        self.ring_size.setPlaceholderText(f"1 to {MAX_RING_SIZE} (none: 1024)")
        form.addRow("Minimum ring size", self.ring_size)
        self.table_size = QLineEdit("" if lb.table_size is None else str(lb.table_size))
        self.table_size.setObjectName("lb_table_size")
        self.table_size.setPlaceholderText("a prime number, e.g. 65537 (none: 65537)")
        form.addRow("Maglev table size", self.table_size)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        form.addRow(self.hint)
        # Istio's locality load balancing (the fields of localityLbSetting meshdesk sets; failoverPriority
        # stays as written)
        locality = QGroupBox("Locality load balancing")
        locality_form = QFormLayout(locality)
        self.locality_enabled = QComboBox()
        self.locality_enabled.setObjectName("lb_locality_enabled")
        choices: tuple[tuple[str, bool | None], ...] = ((_LOCALITY_AS_MESH, None), ("On", True), ("Off", False))
        for text, on in choices:
            self.locality_enabled.addItem(text, on)
        self.locality_enabled.setCurrentIndex(max(0, self.locality_enabled.findData(lb.locality.enabled)))
        locality_form.addRow("Locality", self.locality_enabled)
        self.locality_rules = QPlainTextEdit(_locality_lines(lb.locality))
        self.locality_rules.setObjectName("lb_locality_rules")
        self.locality_rules.setPlaceholderText("One rule a line; distribute (shares adding up to 100):\n"
                                               "  us-west1/us-west1-a/* -> us-west1/us-west1-a/*=80, us-west1/*=20\n"
                                               "or failover (region to region):\n  us-east1 -> us-west1")
        self.locality_rules.setMaximumHeight(90)
        locality_form.addRow("Rules", self.locality_rules)
        self.locality_hint = QLabel("Distribute rules share the requests from a locality among localities; "
                                    "failover rules name the region requests go to when the local endpoints "
                                    "fail, which takes outlier detection (Circuit breaking). Not both.")
        self.locality_hint.setWordWrap(True)
        locality_form.addRow(self.locality_hint)
        form.addRow(locality)
        self.algorithm.currentTextChanged.connect(self._follow)
        self.hash_by.currentIndexChanged.connect(self._follow)
        self.hash_algorithm.currentIndexChanged.connect(self._follow)
        self._follow()

    def _follow(self) -> None:
        hashed = self.algorithm.currentText() == _CONSISTENT_HASH
        kind = self.hash_by.currentData()
        self.hash_by.setEnabled(hashed)
        self.hash_key.setEnabled(hashed and kind in ("header", "cookie", "query"))
        self.hash_key.setPlaceholderText({"header": "x-user", "cookie": "session", "query": "user"}.get(kind, ""))
        for edit in (self.cookie_path, self.ttl):
            edit.setEnabled(hashed and kind == "cookie")
        self.hash_algorithm.setEnabled(hashed)
        self.ring_size.setEnabled(hashed and self.hash_algorithm.currentData() == "ring_hash")
        self.table_size.setEnabled(hashed and self.hash_algorithm.currentData() == "maglev")
        self.hint.setText("Requests with the same key go to the same endpoint while the endpoints stay the same. "
                          "The sidecar sets the cookie, with this time to live, when a request has none. "
                          "Maglev rebuilds faster than a ring when endpoints change; a larger ring or table "
                          "spreads keys more evenly and takes more memory."
                          if hashed else "")

    def _edit(self) -> None:
        choice = self.algorithm.currentText()
        if choice == _CONSISTENT_HASH:
            kind = str(self.hash_by.currentData())
            cookie = kind == "cookie"
            ttl_text = self.ttl.text().strip()
            ttl = duration_seconds(ttl_text) if cookie and ttl_text else None
            if cookie and ttl_text and ttl is None:
                raise RoutingError(f"the cookie's time to live {ttl_text!r} is not a duration: write it as 10s, 1.5s, "
                                   "30m, 1h or 1h30m")
            algorithm = str(self.hash_algorithm.currentData() or "")
            lb = LoadBalancer(hash_by=kind, hash_key=self.hash_key.text().strip() if self.hash_key.isEnabled() else "",
                              cookie_ttl_seconds=ttl, cookie_path=self.cookie_path.text().strip() if cookie else "",
                              hash_algorithm=algorithm,
                              ring_size=_whole(self.ring_size, "minimum ring size") if algorithm == "ring_hash" else None,
                              table_size=_whole(self.table_size, "Maglev table size") if algorithm == "maglev" else None,
                              legacy_ring_size=self.legacy_ring_size)
        else:
            lb = LoadBalancer(simple="" if choice == _UNSET_LB else choice)
        lb.locality = _parse_locality(self.locality_rules.toPlainText(), self.locality_enabled.currentData())
        problem = load_balancer_problem(lb, self.svc)
        if problem:
            raise RoutingError(problem)
        self.routing.load_balancer = lb


_LOCALITY_AS_MESH = "(as the mesh has it: on by default)"


def _locality_lines(loc: LocalityLb) -> str:
    """The locality rules as the form shows them, one a line."""
    lines = [f"{origin} -> " + ", ".join(f"{to}={share}" for to, share in shares.items())
             for origin, shares in loc.distribute]
    lines += [f"{origin} -> {to}" for origin, to in loc.failover]
    return "\n".join(lines)


def _parse_locality(text: str, enabled: Any) -> LocalityLb:
    """The rules typed in the form ("from -> to=share, to=share" to distribute, "region -> region" to fail
    over), as ``LocalityLb``; a line neither is refused with its number."""
    out = LocalityLb(enabled if isinstance(enabled, bool) else None)
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        origin, arrow, rest = line.partition("->")
        origin, rest = origin.strip(), rest.strip()
        if not arrow or not origin or not rest:
            raise RoutingError(f"locality rule {n} ({line!r}) is not one: write from -> to=share, to=share "
                               "(distribute) or region -> region (failover)")
        if "=" not in rest:
            out.failover.append((origin, rest))
            continue
        shares: dict[str, int] = {}
        for part in rest.split(","):
            to, eq, share = part.strip().rpartition("=")
            if not eq or not to.strip() or not is_digits(share.strip()):
                raise RoutingError(f"locality rule {n}: {part.strip()!r} is not a locality and its share, like "
                                   "us-west1/*=20")
            if to.strip() in shares:
                raise RoutingError(f"locality rule {n} names {to.strip()} twice")
            shares[to.strip()] = int(share)
        out.distribute.append((origin, shares))
    return out


_HASH_ALGORITHM_LABELS = (("(not set: ring hash, Envoy's defaults)", ""), ("Ring hash", "ring_hash"),
                          ("Maglev", "maglev"))


def _whole(edit: QLineEdit, what: str) -> int | None:
    """A whole number typed in ``edit`` (None: left empty, the default); raises with the reason otherwise."""
    text = edit.text().strip().replace("_", "")
    if not text:
        return None
    if not is_digits(text):
        raise RoutingError(f"the {what} must be a whole number, not {edit.text().strip()!r}")
    return int(text)


def _duration(seconds: float) -> str:
    """Seconds as a short duration to edit (3600 -> "1h", 90 -> "1m30s", 1.5 -> "1.5s")."""
    if seconds >= 60 and float(seconds).is_integer():
        h, rest = divmod(int(seconds), 3600)
        m, sec = divmod(rest, 60)
        return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (sec, "s")) if v) or "0s"
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


class _CheckedField(QWidget):
    """A text field with what Istio would make of it under it: a message in the theme's error colour, as
    typed, when it would refuse it (checked only while the field is enabled, its checkbox ticked)."""

    def __init__(self, text: str, problem: Callable[[str], str], placeholder: str = "") -> None:
        super().__init__()
        self._problem = problem
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(1)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText(placeholder)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setProperty("role", "error")  # the theme's error colour
        self.message.hide()
        box.addWidget(self.edit)
        box.addWidget(self.message)
        self.edit.textChanged.connect(lambda _t: self.check())

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 - as QLineEdit's
        self.edit.setText(text)

    def check(self) -> str:
        """What is wrong with the field's text ("" when nothing), shown under it."""
        problem = self._problem(self.edit.text()) if self.isEnabled() else ""
        self.message.setText(problem)
        self.message.setVisible(bool(problem))
        return problem

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:
            self.check()  # a field unticked says nothing; ticked again, what it holds is judged


def _percent(text: str) -> float:
    return float(text.strip().rstrip("%").strip())


def _status_problem(text: str) -> str:
    if not is_digits(text.strip()) or not 200 <= int(text.strip()) <= 599:
        return f"the HTTP status is a whole number from 200 to 599, not {text.strip() or 'nothing'}"
    return ""


def _attempts_problem(text: str) -> str:
    if not is_digits(text.strip()):
        return f"the attempts are a whole number, 0 or more, not {text.strip() or 'nothing'}"
    if int(text.strip()) > MAX_INT32:
        return f"the attempts can be at most {MAX_INT32} (Istio keeps them as a 32-bit number)"
    return ""


def _mirror_share_problem(text: str) -> str:
    problem = percent_problem(text, "the mirrored share")
    if not problem and _percent(text) == 0:
        return "the mirrored share must be above 0 % (untick the mirror for none)"
    return problem


def _enable_with(check: QCheckBox, *widgets: QWidget) -> None:
    """Fields that only count when ``check`` is on are editable only then (their values are kept)."""
    def follow(on: bool) -> None:
        for w in widgets:
            w.setEnabled(on)
    check.toggled.connect(follow)
    follow(check.isChecked())


class TrimmedSpinBox(QDoubleSpinBox):
    """A number box that shows ``10 s`` and ``0.05 %``, not ``10.000 s`` and ``0.050 %``: the
    decimals are there to be typed, not to be read on every value."""

    def textFromValue(self, value: float) -> str:
        text = self.locale().toString(value, "f", self.decimals())
        point = self.locale().decimalPoint()
        if point in text:
            text = text.rstrip("0").rstrip(point)
        return text


# the most the forms take: a duration of ten years, a count as Envoy's thresholds (uint32), a retry count
# as Istio's (int32). Larger values than a box takes would be written back lowered when another field
# of the form is changed; none that Istio or Envoy accept is larger
MAX_SECONDS = 10 * 365 * 86400
MAX_COUNT = 2**32 - 1
MAX_INT32 = 2**31 - 1


def _dspin(low: float, high: float, value: float, suffix: str) -> QDoubleSpinBox:
    spin = TrimmedSpinBox()
    spin.setDecimals(3)  # seconds to the millisecond; shares as small as Istio's users write them (0.05 %)
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin


# -- namespace and workload -----------------------------------------------------------------------------

class SayingList(QListWidget):
    """A list that, while it holds nothing, says so and what to do (an empty white box read as broken)."""

    def __init__(self, empty_text: str) -> None:
        super().__init__()
        self.empty_text = empty_text

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's
        super().paintEvent(event)
        if self.count():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(self.viewport().rect().adjusted(6, 4, -6, -4),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
                         self.empty_text)
        painter.end()


class FittingScrollArea(QScrollArea):
    """A frameless scroll area as tall as its word-wrapped label at the width it has, up to ``lines`` lines."""

    def __init__(self, label: QLabel, lines: int) -> None:
        super().__init__()
        self._label = label
        self.setWidget(label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMaximumHeight(label.fontMetrics().lineSpacing() * lines)

    def sizeHint(self) -> QSize:
        label = self._label
        width = max(self.viewport().width(), 1)
        height = label.heightForWidth(width) if label.hasHeightForWidth() else label.sizeHint().height()
        return QSize(super().sizeHint().width(), min(max(height, 0), self.maximumHeight()))

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's
        super().resizeEvent(event)
        self.updateGeometry()  # the label's height at the new width


def _wrapped(text: str) -> QLabel:
    """A word-wrapped label of plain ``text`` naming objects: a name at Kubernetes' limits (253 characters)
    wraps too, where it made the dialog as wide as itself."""
    label = QLabel(breakable(text))
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class InjectionForm(ActionForm):
    help_text = "Istio adds its sidecar to pods when they start: running pods keep what they have until restarted."

    def __init__(self, inv: Inventory, namespace: str, enable: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace, self.enable = namespace, enable
        self.title = f"{'Enable' if enable else 'Disable'} sidecar injection"
        self.subject = f"namespace {namespace}"
        layout = QVBoxLayout(self)
        self.restart_label = _wrapped(injection_change(inv, namespace, enable).describe())
        layout.addWidget(_wrapped(f"Namespace {namespace}: new pods will {'get' if enable else 'no longer get'} "
                                  "an Istio sidecar."))
        # the workloads to restart, 200 of them in a big namespace, scroll: they overflowed the form, clipped
        layout.addWidget(FittingScrollArea(self.restart_label, lines=16))
        layout.addStretch(1)

    def plan(self, inv: Inventory) -> ChangePlan:
        return injection_plan(inv, self.namespace, self.enable)


class NamespaceModeForm(ActionForm):
    """Kiali's other namespace actions on its mesh labels (``namespace_mode_change``): remove its injection
    labels, add it to ambient mode or take it out, switch it to another control plane revision."""

    def __init__(self, inv: Inventory, namespace: str, mode: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace, self.mode = namespace, mode
        change = namespace_mode_change(inv, namespace, mode)
        self.title = change.title
        self.subject = f"namespace {namespace}"
        self.help_text = "A label on the namespace decides how its pods join the mesh."
        layout = QVBoxLayout(self)
        said = ", ".join(f"{k}={v}" if v is not None else f"{k} removed" for k, v in change.labels.items())
        layout.addWidget(_wrapped(f"Namespace {namespace}: {said or 'its labels stay as they are'}."))
        self.effect_label = _wrapped(change.effect)
        layout.addWidget(FittingScrollArea(self.effect_label, lines=16))
        layout.addStretch(1)

    def plan(self, inv: Inventory) -> ChangePlan:
        return namespace_mode_plan(inv, self.namespace, self.mode)


class RestartForm(ActionForm):
    help_text = ("The pods are replaced by new ones (kubectl rollout restart): what a change of sidecar injection "
                 "waits for, since injection only changes pods when they start.")

    def __init__(self, inv: Inventory, namespace: str, workloads: Workload | list[Workload],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace = namespace
        self.workloads = [workloads] if isinstance(workloads, Workload) else list(workloads)
        one = self.workloads[0] if len(self.workloads) == 1 else None
        self.title = f"Restart {one.kind.lower()}" if one is not None else "Restart workloads"
        self.subject = f"{one.kind} {namespace}/{one.name}" if one is not None else \
            f"{len(self.workloads)} workloads in {namespace}"
        # not "Restart deployment for Deployment shop/cart", "Restart workloads for 3 workloads in shop"
        self.heading = f"Restart {self.subject}"
        layout = QVBoxLayout(self)
        lines = []
        for w in self.workloads:
            ready = sum(1 for p in w.pods if p.ready_count[0] == p.ready_count[1])
            sidecar = "" if one is not None else ", with a sidecar" if w.has_sidecar else ", without a sidecar"
            lines.append(f"{w.kind} {w.name}: {ready}/{len(w.pods)} pods ready now{sidecar}.")
        if one is not None:
            layout.addWidget(_wrapped(lines[0]))
            layout.addStretch(1)
        else:
            # a list that scrolls: a label each made the dialog as tall as the namespace's workloads (200 of them
            # after turning injection on in a big namespace: 4,000 pixels, Review and Cancel out of reach)
            self.workload_list = QListWidget()
            self.workload_list.setObjectName("restartWorkloads")
            self.workload_list.addItems(lines)
            layout.addWidget(self.workload_list, 1)

    def plan(self, inv: Inventory) -> ChangePlan:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return restart_plan(inv, self.workloads, now)


class MtlsForm(ActionForm):
    title = "mTLS mode"
    help_text = ("STRICT accepts only mutual TLS, PERMISSIVE also plain text, DISABLE turns it off, "
                 "UNSET inherits from the namespace or the mesh.")

    def __init__(self, inv: Inventory, namespace: str, workload: Workload | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace, self.workload = namespace, workload
        form = QFormLayout(self)
        target = f"workload {workload.name}" if workload is not None else f"namespace {namespace}"
        self.subject = f"workload {namespace}/{workload.name}" if workload is not None else target
        if workload is not None:
            self.subject_ref = (workload.kind, namespace, workload.name)
        form.addRow(_wrapped(f"Mutual TLS for {target} (PeerAuthentication)"))
        self.mode = QComboBox()
        self.mode.addItems(list(MTLS_MODES))
        self.mode.setCurrentText(current_mtls_mode(inv, namespace, workload))
        form.addRow("Mode", self.mode)

    def plan(self, inv: Inventory) -> ChangePlan:
        return peer_authentication_plan(inv, self.namespace, self.mode.currentText(), workload=self.workload)


_ENDPOINT_HINTS = {
    "STATIC": "Where calls to the hosts go: an IP address, or a unix:// socket path, per endpoint.",
    "DNS": "Optional: host names or IP addresses to resolve instead of the hosts themselves.",
    "DNS_ROUND_ROBIN": "Optional: one host name or IP address to resolve instead of the hosts themselves.",
}


class EndpointRow(QWidget):
    """One endpoint of a ServiceEntry: its address and the ports it listens on where they differ from
    the entry's. ``kept`` holds the endpoint as it was written (labels, network, locality, weight ...):
    the form does not show those, and they are written back as they were."""

    def __init__(self, address: str = "", ports: str = "", kept: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kept = copy.deepcopy(kept or {})
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.address = QLineEdit(address)
        self.address.setObjectName("endpointAddress")
        self.address.setPlaceholderText("e.g. 10.0.0.12")
        self.ports = QLineEdit(ports)
        self.ports.setObjectName("endpointPorts")
        self.ports.setPlaceholderText("port overrides, e.g. 443:8443")
        self.ports.setToolTip("The endpoint's own port for a port of the entry, as entry-port:endpoint-port; "
                              "empty: the entry's ports")
        self.remove_button = QPushButton("Remove")
        row.addWidget(self.address, 2)
        row.addWidget(self.ports, 1)
        row.addWidget(self.remove_button)
        others = [k for k in self.kept if k not in ("address", "ports")]
        if others:
            self.setToolTip(f"Also has {', '.join(others)}: kept as written")

    @property
    def blank(self) -> bool:
        return not self.address.text().strip() and not self.ports.text().strip() and not self.kept

    def endpoint(self, index: int) -> dict[str, Any]:
        """The endpoint as ``build_service_entry`` takes it (raises RoutingError on a bad port override)."""
        ports: dict[int | str, int] = {}
        for part in self.ports.text().split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.rpartition(":")
            key = key.strip()
            if not sep or not key or not is_digits(value.strip()):
                raise RoutingError(f"endpoint {index}: {part!r} is not a port override like 443:8443")
            ports[int(key) if is_digits(key) else key] = int(value)
        ep = {k: copy.deepcopy(v) for k, v in self.kept.items() if k not in ("address", "ports")}
        return {"address": self.address.text().strip(), **ep, **({"ports": ports} if ports else {})}


ENDPOINT_ROWS_SHOWN = 8  # endpoints the ServiceEntry form shows at once; more scroll


class ServiceEntryForm(ActionForm):
    title = "Add a ServiceEntry"
    help_text = "Make an external host known to the mesh, so calls to it are seen and can be routed."

    def __init__(self, inv: Inventory, namespace: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace = namespace
        self.subject = f"namespace {namespace}"
        # the entry this form started from (its workloadSelector, if any, gives its endpoints)
        self.loaded: IstioObject | None = None
        self.entries = sorted((o for o in inv.istio_objects("ServiceEntry", namespace) if is_managed(o)),
                              key=lambda o: o.name)
        form = QFormLayout(self)
        self.start_from = QComboBox(self)
        self.start_from.addItem("A new ServiceEntry")
        self.start_from.addItems([o.name for o in self.entries])
        self.start_from.setToolTip("Change a ServiceEntry meshdesk added: what this form does not show is kept")
        self.start_from.currentIndexChanged.connect(self._start_from)
        if self.entries:
            form.addRow("Start from", self.start_from)
            self.help_text += " To change one meshdesk added, start from it."
        else:
            self.start_from.hide()
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. payments-api")
        self.hosts = QLineEdit()
        self.hosts.setPlaceholderText("api.example.com, other.example.com")
        self.ports = QLineEdit("443/TLS")
        self.ports.setToolTip("port/protocol pairs separated by commas, e.g. 443/TLS, 80/HTTP")
        self.location = QComboBox()
        self.location.addItems(["MESH_EXTERNAL", "MESH_INTERNAL"])
        self.resolution = QComboBox()
        self.resolution.addItems(list(RESOLUTIONS))
        form.addRow("Name", self.name)
        form.addRow("Hosts", self.hosts)
        form.addRow("Ports", self.ports)
        form.addRow("Location", self.location)
        form.addRow("Resolution", self.resolution)

        self.endpoints_box = QGroupBox("Endpoints")
        box = QVBoxLayout(self.endpoints_box)
        self.endpoint_hint = QLabel()
        self.endpoint_hint.setWordWrap(True)
        box.addWidget(self.endpoint_hint)
        self.selector_note = QLabel()
        self.selector_note.setWordWrap(True)
        self.selector_note.hide()
        box.addWidget(self.selector_note)
        # the rows scroll past a few (an entry of hundreds of endpoints made the dialog taller than any screen)
        rows_widget = QWidget()
        self.endpoint_rows = QVBoxLayout(rows_widget)
        self.endpoint_rows.setContentsMargins(0, 0, 0, 0)
        self.endpoint_scroll = QScrollArea()
        self.endpoint_scroll.setObjectName("endpointScroll")
        self.endpoint_scroll.setWidgetResizable(True)
        self.endpoint_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.endpoint_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.endpoint_scroll.setWidget(rows_widget)
        box.addWidget(self.endpoint_scroll)
        buttons = QHBoxLayout()
        self.add_endpoint_button = QPushButton("Add endpoint")
        self.add_endpoint_button.clicked.connect(self._add_typed_endpoint)
        buttons.addWidget(self.add_endpoint_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.endpoint_error = QLabel()
        self.endpoint_error.setObjectName("endpointError")
        self.endpoint_error.setWordWrap(True)
        self.endpoint_error.setProperty("role", "error")  # the theme's error colour (2.7:1 as a fixed red on dark)
        box.addWidget(self.endpoint_error)
        form.addRow(self.endpoints_box)
        self.none_note = QLabel("Resolution NONE takes no endpoints: those listed for another resolution are "
                                "not written.")
        self.none_note.setWordWrap(True)
        form.addRow(self.none_note)
        self.rows: list[EndpointRow] = []
        self.resolution.currentTextChanged.connect(self._resolution_changed)
        self.ports.textChanged.connect(self._check_endpoints)
        self.name.textChanged.connect(self._update_endpoints)
        self._resolution_changed(self.resolution.currentText())

    @property
    def selector(self) -> dict[str, Any]:
        """The workloadSelector of the entry the form started from, while it is that entry's form (its
        name unchanged): the workloads it selects are its endpoints, and it lists none."""
        if self.loaded is None or self.name.text().strip() != self.loaded.name:
            return {}
        spec = self.loaded.spec if isinstance(self.loaded.spec, dict) else {}
        selector = spec.get("workloadSelector")
        return dict(selector) if isinstance(selector, dict) else {}

    # -- endpoints -------------------------------------------------------------------------------
    def add_endpoint(self, address: str = "", ports: str = "", kept: dict[str, Any] | None = None) -> EndpointRow:
        row = EndpointRow(address, ports, kept)
        row.address.textChanged.connect(self._check_endpoints)
        row.ports.textChanged.connect(self._check_endpoints)
        row.remove_button.clicked.connect(lambda: self.remove_endpoint(row))
        self.rows.append(row)
        self.endpoint_rows.addWidget(row)
        row.show()  # now, not when the layout gets round to it: a form already shown shows it at once
        self._update_endpoints()
        return row

    def _add_typed_endpoint(self) -> None:
        row = self.add_endpoint()
        row.address.setFocus()
        # the new row, at the end of a list that scrolls: once the list is laid out with it
        QTimer.singleShot(0, lambda: self.endpoint_scroll.ensureWidgetVisible(row) if row in self.rows else None)

    def _fit_endpoints(self) -> None:
        """The endpoints' place as tall as its rows, up to ``ENDPOINT_ROWS_SHOWN`` of them (then it scrolls)."""
        shown = min(len(self.rows), ENDPOINT_ROWS_SHOWN)
        height = self.rows[0].sizeHint().height() if self.rows else 0
        self.endpoint_scroll.setFixedHeight(shown * height + max(0, shown - 1) * self.endpoint_rows.spacing())

    def remove_endpoint(self, row: EndpointRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self.endpoint_rows.removeWidget(row)
            row.deleteLater()
        self._update_endpoints()

    def _resolution_changed(self, resolution: str) -> None:
        if resolution == "STATIC" and not self.rows and not self.selector:
            self.add_endpoint()  # STATIC needs one: its field is there to fill in
        self._update_endpoints()

    def _update_endpoints(self) -> None:
        resolution = self.resolution.currentText()
        used = resolution in ENDPOINT_RESOLUTIONS
        self.endpoints_box.setVisible(used)
        self.none_note.setVisible(not used and any(not r.blank for r in self.rows))
        self.endpoint_hint.setText(_ENDPOINT_HINTS.get(resolution, ""))
        labels: dict[Any, Any] = self.selector["labels"] if isinstance(self.selector.get("labels"), dict) else {}
        shown = ", ".join(f"{k}={v}" for k, v in labels.items())
        self.selector_note.setText(f"Its endpoints are the workloads its workloadSelector selects ({shown}), "
                                   "kept as written." if self.selector else "")
        self.selector_note.setVisible(bool(self.selector))
        self.add_endpoint_button.setEnabled(not self.selector and not (resolution == "DNS_ROUND_ROBIN" and self.rows))
        self._fit_endpoints()
        self._check_endpoints()

    def _check_endpoints(self) -> None:
        """Say under the endpoints what is wrong with them as they are typed (Review refuses them too)."""
        resolution = self.resolution.currentText()
        problems = []
        for i, row in enumerate(self.rows, 1):
            address = row.address.text().strip()
            problem = endpoint_address_problem(address, resolution) if address else ""
            if not problem:
                try:
                    row.endpoint(i)
                except RoutingError as e:
                    problem = str(e).removeprefix(f"endpoint {i}: ")
            row.address.setToolTip(problem)
            if problem:
                problems.append(f"Endpoint {i}: {problem}")
        if resolution == "DNS_ROUND_ROBIN" and len(self.rows) > 1:
            problems.append("Resolution DNS_ROUND_ROBIN takes at most one endpoint.")
        if self.selector and self.rows:
            problems.append("This ServiceEntry takes its endpoints from its workloadSelector: it cannot list "
                            "endpoints too.")
        self.endpoint_error.setText("\n".join(problems) if resolution in ENDPOINT_RESOLUTIONS else "")

    def endpoints(self) -> list[dict[str, Any]]:
        """The endpoints to write (none with resolution NONE); a blank row is no endpoint, except with
        STATIC, where it is an endpoint whose address is missing."""
        resolution = self.resolution.currentText()
        if resolution not in ENDPOINT_RESOLUTIONS:
            return []
        rows = [r for r in self.rows if resolution == "STATIC" or not r.blank]
        return [r.endpoint(i) for i, r in enumerate(rows, 1)]

    # -- starting from an entry meshdesk added -------------------------------------------------------
    def _start_from(self, index: int) -> None:
        if 1 <= index <= len(self.entries):
            self.load(self.entries[index - 1])
        else:  # a new entry: what is typed stays, as a start
            self.loaded = None
            self._update_endpoints()

    def load(self, entry: IstioObject) -> None:
        """Fill the form in from ``entry``, as written."""
        spec = entry.spec if isinstance(entry.spec, dict) else {}
        ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
        self.name.setText(entry.name)
        self.hosts.setText(", ".join(str(h) for h in spec.get("hosts") or ()))
        self.ports.setText(", ".join(f"{p.get('number')}/{p.get('protocol') or 'TCP'}" for p in ports))
        self.location.setCurrentText(str(spec.get("location") or "MESH_EXTERNAL"))
        self.loaded = entry
        for row in list(self.rows):
            self.remove_endpoint(row)
        numbers = {str(p.get("name")): p.get("number") for p in ports}
        for ep in spec.get("endpoints") or ():
            if not isinstance(ep, dict):
                continue
            overrides: dict[Any, Any] = ep["ports"] if isinstance(ep.get("ports"), dict) else {}
            text = ", ".join(f"{numbers.get(str(k), k)}:{v}" for k, v in overrides.items())
            self.add_endpoint(str(ep.get("address") or ""), text, ep)
        resolution = str(spec.get("resolution") or "NONE")
        if self.resolution.findText(resolution) < 0:
            self.resolution.addItem(resolution)
        self.resolution.setCurrentText(resolution)
        self._update_endpoints()

    def plan(self, inv: Inventory) -> ChangePlan:
        ports: list[tuple[int, str]] = []
        for part in self.ports.text().split(","):
            part = part.strip()
            if not part:
                continue
            number, _, proto = part.partition("/")
            if not is_digits(number.strip()):  # int() would also take "4_43", "+443" and "４４３"
                raise RoutingError(f"{part!r} is not a port like 443/TLS")
            ports.append((int(number), proto.strip() or "TCP"))
        resolution = self.resolution.currentText()
        try:
            endpoints = self.endpoints()
            if self.selector and endpoints:
                raise RoutingError("this ServiceEntry takes its endpoints from its workloadSelector: it cannot list "
                                   "endpoints too; remove them")
            if resolution == "STATIC" and not endpoints and not self.selector:
                raise RoutingError("resolution STATIC needs at least one endpoint: add the IP address calls to "
                                   "the hosts go to")
            entry = build_service_entry(self.name.text().strip(), self.namespace, self.hosts.text().split(","),
                                        ports, location=self.location.currentText(), resolution=resolution,
                                        endpoints=endpoints)
        except RoutingError as e:
            if "endpoint" in str(e):
                self.endpoint_error.setText(str(e)[:1].upper() + str(e)[1:])
            raise
        return service_entry_plan(inv, entry)


class RemovalForm(ActionForm):
    title = "Remove meshdesk config"
    help_text = ("Delete the Istio objects meshdesk created (those labelled managed-by meshdesk). A "
                 "DestinationRule whose subsets other routes still use is kept, and so is an object someone "
                 "added settings to that meshdesk does not write (a TLS mode, a gateway...).")

    def __init__(self, inv: Inventory, namespace: str | None, service: Service | None = None,
                 parent: QWidget | None = None) -> None:
        """``service``: remove only the traffic routing meshdesk created for it (Kiali's "Delete Traffic
        Routing"): its VirtualService and DestinationRule."""
        super().__init__(parent)
        self.namespace, self.service = namespace, service
        self.subject = f"namespace {namespace}" if namespace else "every namespace"
        if service is not None:
            self.title = "Delete traffic routing"
            self.subject = f"service {service.namespace}/{service.name}"
            self.help_text = ("Delete the VirtualService, DestinationRule and HTTPRoute meshdesk created for this "
                              "service (those labelled managed-by meshdesk); others' objects and what others added "
                              "to meshdesk's are kept.")
        layout = QVBoxLayout(self)
        self.deleted_label = QLabel()
        self.objects = QListWidget()
        self.kept_label = QLabel()
        self.kept = QListWidget()
        self.kept.setWordWrap(True)
        for w in (self.deleted_label, self.objects, self.kept_label, self.kept):
            layout.addWidget(w)
        self._show(inv)

    def _show(self, inv: Inventory) -> None:
        """List what the removal deletes and what it keeps, and why: the split the plan makes, so what
        is listed as deleted is what is deleted."""
        scope = removal_scope(inv, self.namespace, self.service)
        if scope.deleted:
            said = f"{counted(len(scope.deleted), 'object')} will be deleted:"
        else:
            said = "Nothing will be deleted." if scope.kept else "meshdesk created nothing here."
        self.deleted_label.setText(said)
        self.objects.clear()
        self.objects.addItems([f"{o.kind} {o.namespace}/{o.name}" for o in scope.deleted])
        self.objects.setVisible(bool(scope.deleted))
        n = len(scope.kept)
        self.kept_label.setText(f"{counted(n, 'object')} meshdesk created {'is' if n == 1 else 'are'} kept:")
        self.kept.clear()
        self.kept.addItems([f"{o.kind} {o.namespace}/{o.name}: {why}" for o, why in scope.kept])
        for w in (self.kept_label, self.kept):
            w.setVisible(bool(scope.kept))

    def plan(self, inv: Inventory) -> ChangePlan:
        self._show(inv)  # the cluster read again (Reload and review again): the lists follow it
        return removal_plan(inv, self.namespace, self.service)
