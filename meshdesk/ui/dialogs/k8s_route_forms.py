"""The form that writes a service's Kubernetes Gateway API HTTPRoute, as Kiali's "K8s Request Routing"
wizard does: where the route applies (the Service itself for the mesh's requests, and/or Gateways of the
Gateway API the cluster has), hostnames, and rules of matches, filters (request and response header
modifiers, a redirect, a mirror) and weighted backends (the Services of the service's versions, else the service). An HTTPRoute the service has already
opens in it to be edited; one with what the form cannot show is refused, saying what would be lost.

The same form, told so, writes a service's GRPCRoute as Kiali's "K8s GRPC Routing" wizard does: its matches
are on the gRPC method (a service and/or a method, exact or a regular expression) and headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from meshdesk.mesh.changes import ChangePlan
from meshdesk.mesh.inventory import Inventory, IstioObject, Service
from meshdesk.mesh.k8s_route_config import (
    GRPC_ROUTE,
    HEADER_OPS,
    HTTP_ROUTE,
    MAX_MATCHES,
    MAX_RULES,
    MAX_WEIGHT,
    METHODS,
    PATH_TYPES,
    REDIRECT_CODES,
    REDIRECT_SCHEMES,
    Backend,
    HeaderChange,
    Redirect,
    RouteMatch,
    RouteRule,
    ValueMatch,
    build_http_route,
    default_weights,
    grpc_ports,
    http_route_fields,
    http_route_misfit,
    http_route_plan,
    keep_route_spellings,
    service_port,
    version_services,
)
from meshdesk.mesh.routing import RoutingError, said
from meshdesk.mesh.security import split_list
from meshdesk.ui.dialogs.authn_gateway_forms import _labels, _scrolled
from meshdesk.ui.dialogs.forms import ActionForm
from meshdesk.ui.dialogs.security_forms import BoxList, _Editing, say_problem

ANY_PATH = "(any path)"
ANY_METHOD = "(any method)"
ANY_RPC = "(any gRPC method)"
SAME_SCHEME = "(its scheme)"
NO_MIRROR = "(no mirror)"


def _lines(edit: QPlainTextEdit) -> list[str]:
    return [line.strip() for line in edit.toPlainText().splitlines() if line.strip()]


def parse_value_matches(lines: list[str], what: str) -> list[ValueMatch]:
    """``name=value`` lines (Exact) and ``name~=regex`` lines (RegularExpression)."""
    out = []
    for line in lines:
        name, sep, value = line.partition("=")
        if not sep:
            raise RoutingError(f"{what} match {said(line)}: write name=value, or name~=regex for a regular expression")
        regex = name.endswith("~")
        out.append(ValueMatch(name[:-1].strip() if regex else name.strip(), value.strip(),
                              "RegularExpression" if regex else "Exact"))
    return out


def value_match_lines(matches: list[ValueMatch]) -> str:
    return "\n".join(f"{m.name}{'~' if m.type == 'RegularExpression' else ''}={m.value}" for m in matches)


def parse_header_changes(lines: list[str]) -> list[HeaderChange]:
    """``set Name: value``, ``add Name: value`` and ``remove Name`` lines."""
    out = []
    for line in lines:
        op, _sep, rest = line.partition(" ")
        if op not in HEADER_OPS:
            raise RoutingError(f"header change {said(line)}: start it with set, add or remove")
        if op == "remove":
            out.append(HeaderChange(op, rest.strip()))
            continue
        name, sep, value = rest.partition(":")
        if not sep:
            raise RoutingError(f"header change {said(line)}: write {op} Name: value")
        out.append(HeaderChange(op, name.strip(), value.strip()))
    return out


def header_change_lines(changes: list[HeaderChange]) -> str:
    return "\n".join(f"remove {c.name}" if c.op == "remove" else f"{c.op} {c.name}: {c.value}" for c in changes)


class MatchBox(QGroupBox):
    """One match of a rule: a path, a method, headers and query parameters (all must match); of a
    GRPCRoute's rule (``grpc``): the gRPC method (service and/or method) and headers."""

    def __init__(self, changed: Callable[[], None], parent: QWidget | None = None, *, grpc: bool = False) -> None:
        super().__init__("Match", parent)
        self.grpc = grpc
        form = QFormLayout(self)
        self.rpc_type = QComboBox()
        self.rpc_type.setObjectName("routeRpcType")
        self.rpc_type.addItems([ANY_RPC, "Exact", "RegularExpression"])
        self.rpc_service = QLineEdit()
        self.rpc_service.setObjectName("routeRpcService")
        self.rpc_service.setPlaceholderText("service, e.g. helloworld.Greeter (empty: any)")
        self.rpc_method = QLineEdit()
        self.rpc_method.setObjectName("routeRpcMethod")
        self.rpc_method.setPlaceholderText("method, e.g. SayHello (empty: any)")
        if grpc:
            # as tall as its two rows: the rule's free space is not handed to it
            self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
            row = QHBoxLayout()
            row.addWidget(self.rpc_type)
            row.addWidget(self.rpc_service, 2)
            row.addWidget(self.rpc_method, 1)
            form.addRow("gRPC method", row)
        for edit in (self.rpc_service, self.rpc_method):
            edit.setEnabled(False)
            edit.textChanged.connect(changed)
        self.rpc_type.currentTextChanged.connect(lambda _t: self._rpc_enabled())
        self.rpc_type.currentTextChanged.connect(changed)
        self.path_type = QComboBox()
        self.path_type.setObjectName("routePathType")
        self.path_type.addItems([ANY_PATH, *PATH_TYPES])
        self.path = QLineEdit()
        self.path.setObjectName("routePath")
        self.path.setPlaceholderText("e.g. /api (starts with '/')")
        self.method = QComboBox()
        self.method.setObjectName("routeMethod")
        self.method.addItems([ANY_METHOD, *METHODS])
        if not grpc:
            row = QHBoxLayout()
            row.addWidget(self.path_type)
            row.addWidget(self.path, 1)
            form.addRow("Path", row)
            form.addRow("Method", self.method)
        self.headers = QPlainTextEdit()
        self.headers.setObjectName("routeHeaders")
        self.headers.setPlaceholderText("one a line: name=value, or name~=regex")
        self.headers.setFixedHeight(48)
        form.addRow("Headers", self.headers)
        self.query = QPlainTextEdit()
        self.query.setObjectName("routeQueryParams")
        self.query.setPlaceholderText("one a line: name=value, or name~=regex")
        self.query.setFixedHeight(48)
        if not grpc:
            form.addRow("Query parameters", self.query)
        self.remove_button = QPushButton("Remove match")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        form.addRow(buttons)
        self.path_type.currentTextChanged.connect(lambda _t: self.path.setEnabled(self.path_type.currentIndex() > 0))
        self.path.setEnabled(False)
        for combo in (self.path_type, self.method):
            combo.currentTextChanged.connect(changed)
        self.path.textChanged.connect(changed)
        self.headers.textChanged.connect(changed)
        self.query.textChanged.connect(changed)

    def _rpc_enabled(self) -> None:
        for edit in (self.rpc_service, self.rpc_method):
            edit.setEnabled(self.rpc_type.currentIndex() > 0)

    def match(self) -> RouteMatch:
        headers = parse_value_matches(_lines(self.headers), "header")
        if self.grpc:
            rpc = self.rpc_type.currentIndex() > 0
            return RouteMatch(headers=headers, rpc_type=self.rpc_type.currentText() if rpc else "",
                              rpc_service=self.rpc_service.text().strip() if rpc else "",
                              rpc_method=self.rpc_method.text().strip() if rpc else "")
        typed = self.path_type.currentIndex() > 0
        return RouteMatch(self.path_type.currentText() if typed else "", self.path.text().strip() if typed else "",
                          self.method.currentText() if self.method.currentIndex() > 0 else "", headers,
                          parse_value_matches(_lines(self.query), "query parameter"))

    def fill(self, m: RouteMatch) -> None:
        self.rpc_type.setCurrentText(m.rpc_type or ANY_RPC)
        self.rpc_service.setText(m.rpc_service)
        self.rpc_method.setText(m.rpc_method)
        self.path_type.setCurrentText(m.path_type or ANY_PATH)
        self.path.setText(m.path)
        self.method.setCurrentText(m.method or ANY_METHOD)
        self.headers.setPlainText(value_match_lines(m.headers))
        self.query.setPlainText(value_match_lines(m.query))


class RuleBox(QGroupBox):
    """One rule: its matches (any one of them), its filters as Kiali's wizard offers them (request and
    response header modifiers, a redirect for an HTTPRoute, a mirror) and the backends' weights (none while
    it redirects)."""

    def __init__(self, backends: list[tuple[str, int]], changed: Callable[[], None],
                 parent: QWidget | None = None, *, grpc: bool = False) -> None:
        super().__init__("Rule", parent)
        self.changed, self.grpc = changed, grpc
        if grpc:  # as tall as what it holds: a tall dialog's free space goes below the rules, not into them
            self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        form = QFormLayout(self)
        what = "call" if grpc else "request"
        hint = QLabel(f"A {what} matches the rule when it matches any one of its matches; a rule without matches "
                      f"takes every {what} the rules before it leave.")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.match_list = BoxList(form, "Match", changed, button="Add match", button_name="addRouteMatch",
                                  add=self.add_match)
        self.matches: list[MatchBox] = self.match_list.items
        self.header_changes = QPlainTextEdit()
        self.header_changes.setObjectName("routeHeaderChanges")
        self.header_changes.setPlaceholderText("optional, one a line: set Name: value, add Name: value, remove Name")
        self.header_changes.setFixedHeight(48)
        self.header_changes.textChanged.connect(changed)
        form.addRow("Request headers", self.header_changes)
        self.response_header_changes = QPlainTextEdit()
        self.response_header_changes.setObjectName("routeResponseHeaderChanges")
        self.response_header_changes.setPlaceholderText("optional, changes to the answer's headers, as above")
        self.response_header_changes.setFixedHeight(48)
        self.response_header_changes.textChanged.connect(changed)
        form.addRow("Response headers", self.response_header_changes)
        # a redirect (an HTTPRoute's only): the answer sends the client to the URL changed so, no backend
        self.redirect = QCheckBox("to")  # (its row says "Redirect": "Redirect [x] to https  host  port  301")
        self.redirect.setObjectName("routeRedirect")
        self.redirect.setToolTip("Answer the rule's requests with a redirect (the Location: the request's URL with "
                                 "what is set here changed), sending them to no backend")
        self.redirect_scheme = QComboBox()
        self.redirect_scheme.setObjectName("routeRedirectScheme")
        self.redirect_scheme.setToolTip("The scheme of the Location ((its scheme): the request's own)")
        self.redirect_scheme.addItem(SAME_SCHEME, "")
        for scheme in REDIRECT_SCHEMES:
            self.redirect_scheme.addItem(scheme, scheme)
        self.redirect_host = QLineEdit()
        self.redirect_host.setObjectName("routeRedirectHost")
        self.redirect_host.setPlaceholderText("host (empty: the request's)")
        self.redirect_port = QSpinBox()
        self.redirect_port.setObjectName("routeRedirectPort")
        self.redirect_port.setRange(0, 65535)
        self.redirect_port.setSpecialValueText("(port)")
        self.redirect_port.setToolTip("The port of the Location (empty: the scheme's own, 80 or 443)")
        self.redirect_status = QComboBox()
        self.redirect_status.setObjectName("routeRedirectStatus")
        for code in REDIRECT_CODES:  # 301 first, as Kiali's wizard offers it
            self.redirect_status.addItem(f"{code} {'moved permanently' if code == 301 else 'found'}", code)
        redirect_row = QHBoxLayout()
        redirect_row.addWidget(self.redirect)
        redirect_row.addWidget(self.redirect_scheme)
        redirect_row.addWidget(self.redirect_host, 1)
        redirect_row.addWidget(self.redirect_port)
        redirect_row.addWidget(self.redirect_status)
        self.redirect_parts = (self.redirect_scheme, self.redirect_host, self.redirect_port, self.redirect_status)
        if not grpc:
            form.addRow("Redirect", redirect_row)
        else:
            for w in (self.redirect, *self.redirect_parts):
                w.hide()
        self.mirror = QComboBox()
        self.mirror.setObjectName("routeMirror")
        self.mirror.addItem(NO_MIRROR, None)
        for name, port in backends:
            self.mirror.addItem(f"{name}:{port}", (name, port))
        self.mirror.setToolTip(f"A copy of each of the rule's {what}s goes to this Service too; its answers are "
                               "dropped")
        form.addRow("Mirror to", self.mirror)
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Backend</b>"), 0, 0)
        grid.addWidget(QLabel("<b>Port</b>"), 0, 1)
        grid.addWidget(QLabel("<b>Weight</b>"), 0, 2)
        self.weights: list[tuple[str, QSpinBox, QSpinBox]] = []
        self.kept_at_zero: set[str] = set()  # backends of weight 0 written all the same: an edited rule had them
        for row, ((name, port), weight) in enumerate(zip(backends, default_weights(len(backends)), strict=True), 1):
            port_box, weight_box = QSpinBox(), QSpinBox()
            port_box.setRange(1, 65535)
            port_box.setValue(port)
            port_box.setObjectName("routeBackendPort")
            weight_box.setRange(0, MAX_WEIGHT)
            weight_box.setValue(weight)
            weight_box.setObjectName("routeBackendWeight")
            weight_box.setToolTip("Its share of the rule's requests: its weight over the sum of the weights")
            grid.addWidget(QLabel(name), row, 0)
            grid.addWidget(port_box, row, 1)
            grid.addWidget(weight_box, row, 2)
            port_box.valueChanged.connect(changed)
            weight_box.valueChanged.connect(changed)
            self.weights.append((name, port_box, weight_box))
        self.backend_box = QWidget()
        self.backend_box.setLayout(grid)
        grid.setContentsMargins(0, 0, 0, 0)
        form.addRow("Backends", self.backend_box)
        self.redirect.toggled.connect(self._redirecting)
        self.redirect.toggled.connect(lambda _on: changed())
        for combo in (self.redirect_scheme, self.redirect_status, self.mirror):
            combo.currentIndexChanged.connect(lambda _i: changed())
        self.redirect_host.textChanged.connect(changed)
        self.redirect_port.valueChanged.connect(changed)
        self._redirecting(False)
        self.remove_button = QPushButton("Remove rule")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        form.addRow(buttons)

    def _redirecting(self, on: bool) -> None:
        """A redirect answers the request itself: its parts are on, the backends off (not written)."""
        for w in self.redirect_parts:
            w.setEnabled(on)
        self.backend_box.setEnabled(not on)
        self.backend_box.setToolTip("A rule that redirects sends its requests to no backend" if on else "")
        if not on and self.weights and not any(weight.value() for _n, _p, weight in self.weights):
            # a redirect read from the route had no backends: they start shared again, as a new rule's
            for (_n, _p, weight), share in zip(self.weights, default_weights(len(self.weights)), strict=True):
                weight.setValue(share)

    def add_match(self) -> MatchBox:
        box: MatchBox = self.match_list.add(MatchBox(self.changed, grpc=self.grpc))
        self.match_list.add_button.setEnabled(len(self.matches) < MAX_MATCHES)
        return box

    def rule(self) -> RouteRule:
        matches = [b.match() for b in self.matches]
        redirect = Redirect(str(self.redirect_scheme.currentData()), self.redirect_host.text().strip(),
                            self.redirect_port.value(), int(self.redirect_status.currentData())) \
            if self.redirect.isChecked() else None
        mirror = self.mirror.currentData()
        return RouteRule([m for m in matches if not m.empty()] if len(matches) == 1 else matches,
                         parse_header_changes(_lines(self.header_changes)),
                         [] if redirect is not None else
                         [Backend(name, port.value(), weight.value()) for name, port, weight in self.weights
                          if weight.value() or name in self.kept_at_zero],
                         parse_header_changes(_lines(self.response_header_changes)), redirect,
                         Backend(str(mirror[0]), int(mirror[1]), 0) if mirror else None)

    def fill(self, rule: RouteRule) -> None:
        for i, m in enumerate(rule.matches or [RouteMatch()]):
            (self.matches[0] if i == 0 else self.add_match()).fill(m)
        self.header_changes.setPlainText(header_change_lines(rule.header_changes))
        self.response_header_changes.setPlainText(header_change_lines(rule.response_header_changes))
        if rule.redirect is not None:
            r = rule.redirect
            self.redirect_scheme.setCurrentIndex(max(self.redirect_scheme.findData(r.scheme), 0))
            self.redirect_host.setText(r.hostname)
            self.redirect_port.setValue(r.port)
            self.redirect_status.setCurrentIndex(max(self.redirect_status.findData(r.status), 0))
            self.redirect.setChecked(True)
        if rule.mirror is not None:
            found = self.mirror.findData((rule.mirror.name, rule.mirror.port))
            if found < 0:  # a Service the form does not offer: kept, by its name and port
                self.mirror.addItem(f"{rule.mirror.name}:{rule.mirror.port}", (rule.mirror.name, rule.mirror.port))
                found = self.mirror.count() - 1
            self.mirror.setCurrentIndex(found)
        by_name = {b.name: b for b in rule.backends}
        self.kept_at_zero = {b.name for b in rule.backends if b.weight == 0}
        for name, port, weight in self.weights:
            b = by_name.get(name)
            port.setValue(b.port if b else port.value())
            weight.setValue(b.weight if b else 0)


class HTTPRouteForm(ActionForm):
    title = "K8s request routing"
    help_text = ("A Kubernetes Gateway API HTTPRoute for the service, as Kiali's K8s Request Routing wizard writes: "
                 "its rules send the requests their matches take (a path, a method, headers, query parameters) to "
                 "the service's versions by weight, optionally changing request or response headers, mirroring "
                 "them to a Service, or answering them with a redirect instead. Its parent is the service "
                 "itself (the mesh's requests to it, as GAMMA has it) and/or a Gateway of the Gateway API.")

    kind = HTTP_ROUTE

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None, *,
                 editing: IstioObject | None = None) -> None:
        super().__init__(parent)
        self.inv, self.svc = inv, svc
        self.grpc = self.kind == GRPC_ROUTE
        self.subject = f"service {svc.namespace}/{svc.name}"
        self.subject_ref = ("Service", svc.namespace, svc.name)
        fields: dict[str, Any] = {}
        if editing is not None:
            fields, _unknown = http_route_fields(editing.spec, editing.namespace, self.kind)
        edited_rules = [r for r in fields.get("rules") or [] if isinstance(r, RouteRule)]
        # the backends offered: the versions' Services (else the service), and any other the route has
        candidates = [(s.name, service_port(s, self.kind)) for s in version_services(inv, svc)]
        for rule in edited_rules:
            for b in rule.backends:
                if b.name not in {n for n, _p in candidates}:
                    candidates.append((b.name, b.port))
        self.backends = candidates
        self.mesh_port: int | None = 0  # the Service parent's port: the service's first (an edited route's kept)
        outer, form = _scrolled(self)
        self.name = QLineEdit(svc.name)
        self.name.setObjectName("routeName")
        form.addRow("Name", self.name)
        self.mesh = QCheckBox(f"Service {svc.name} itself: the mesh's requests to it")
        self.mesh.setObjectName("routeMesh")
        self.mesh.setChecked(True)
        self.mesh.setToolTip("The route's parent is the Service (GAMMA): the callers' sidecars, or the service's "
                             "waypoint, route its requests by it")
        form.addRow("Applies to", self.mesh)
        self.gateways = QListWidget()
        self.gateways.setObjectName("routeGateways")
        for gw in sorted(inv.k8s_gateways, key=lambda g: (g.namespace, g.name)):
            item = QListWidgetItem(f"Gateway {gw.namespace}/{gw.name}")
            item.setData(Qt.ItemDataRole.UserRole, (gw.namespace, gw.name))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.gateways.addItem(item)
        if self.gateways.count():
            # as tall as its Gateways, up to five rows (then it scrolls)
            rows = min(self.gateways.count() + 1, 5)
            self.gateways.setMaximumHeight(rows * self.gateways.fontMetrics().height() + 12)
            form.addRow("", self.gateways)
        else:
            none = QLabel("The cluster has no Gateway of the Gateway API (add one from a namespace's Actions).")
            none.setObjectName("routeNoGateways")
            none.setWordWrap(True)
            form.addRow("", none)
        self.hostnames = QLineEdit()
        self.hostnames.setObjectName("routeHostnames")
        self.hostnames.setPlaceholderText("optional, comma-separated: the hosts a Gateway takes it for (empty: any)")
        form.addRow("Hostnames", self.hostnames)
        self.rule_list = BoxList(form, "Rule", self._update, button="Add rule", button_name="addRouteRule",
                                 add=self.add_rule)
        self.rules: list[RuleBox] = self.rule_list.items
        self.warning, self.error = _labels(outer, "route")
        self.editor = _Editing(self, editing, inv) if editing is not None else None
        if self.editor is not None and editing is not None:
            self.editor.misfit = http_route_misfit(editing, svc)
            mesh_parents = [p for p in fields.get("mesh") or [] if isinstance(p, tuple) and p[0] == svc.name]
            self.mesh.setChecked(bool(mesh_parents))
            if mesh_parents:
                self.mesh_port = mesh_parents[0][1]
            chosen = set(fields.get("gateways") or [])
            for i in range(self.gateways.count()):
                item = self.gateways.item(i)
                if tuple(item.data(Qt.ItemDataRole.UserRole)) in chosen:
                    item.setCheckState(Qt.CheckState.Checked)
            missing = chosen - {tuple(self.gateways.item(i).data(Qt.ItemDataRole.UserRole))
                                for i in range(self.gateways.count())}
            for ns, name in sorted(missing):  # a Gateway not read (gone, or not listed): kept, said so
                item = QListWidgetItem(f"Gateway {ns}/{name} (not found)")
                item.setData(Qt.ItemDataRole.UserRole, (ns, name))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
                self.gateways.addItem(item)
            self.hostnames.setText(", ".join(str(h) for h in fields.get("hostnames") or []))
            for rule in edited_rules or [RouteRule()]:
                self.add_rule().fill(rule)
        else:
            self.add_rule()
        self.name.textChanged.connect(self._update)
        self.mesh.toggled.connect(self._update)
        self.hostnames.textChanged.connect(self._update)
        self.gateways.itemChanged.connect(lambda _item: self._update())
        self._update()

    def add_rule(self) -> RuleBox:
        box: RuleBox = self.rule_list.add(RuleBox(self.backends, self._update, grpc=self.grpc))
        box.add_match()
        self.rule_list.add_button.setEnabled(len(self.rules) < MAX_RULES)
        return box

    def chosen_gateways(self) -> list[tuple[str, str]]:
        out = []
        for i in range(self.gateways.count()):
            item = self.gateways.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                ns, name = item.data(Qt.ItemDataRole.UserRole)
                out.append((str(ns), str(name)))
        return out

    def _build(self, name: str) -> IstioObject:
        return build_http_route(name, self.svc, mesh=self.mesh.isChecked(), gateways=self.chosen_gateways(),
                                hostnames=split_list(self.hostnames.text()), rules=[b.rule() for b in self.rules],
                                mesh_port=self.mesh_port, kind=self.kind)

    def _update(self) -> None:
        if not hasattr(self, "error") or not getattr(self, "rules", None):
            return
        say_problem(self)
        self.warning.setVisible(False)

    def plan(self, inv: Inventory) -> ChangePlan:
        if self.editor is not None:
            editor = self.editor

            def build() -> IstioObject:
                route = self._build(self.name.text().strip())
                route.spec = keep_route_spellings(route.spec, editor.before.spec, editor.before.namespace)
                return route
            return editor.plan(inv, build, lambda i, new: http_route_plan(i, new, editing=True))
        return http_route_plan(inv, self._build(self.name.text().strip()))


class GRPCRouteForm(HTTPRouteForm):
    """Kiali's "K8s GRPC Routing": the service's GRPCRoute, its rules matching on the gRPC method and headers."""

    title = "K8s gRPC routing"
    help_text = ("A Kubernetes Gateway API GRPCRoute for the service, as Kiali's K8s GRPC Routing wizard writes: its "
                 "rules send the gRPC calls their matches take (a gRPC service and/or method, exactly or by a "
                 "regular expression, and headers) to the service's versions by weight, optionally changing request "
                 "or response headers or mirroring them to a Service. Its parent is the service itself (the mesh's calls to it, as GAMMA has it) and/or a "
                 "Gateway of the Gateway API.")
    kind = GRPC_ROUTE

    def __init__(self, inv: Inventory, svc: Service, parent: QWidget | None = None, *,
                 editing: IstioObject | None = None) -> None:
        super().__init__(inv, svc, parent, editing=editing)
        if not grpc_ports(svc):
            self.warning.setText(f"Service {svc.namespace}/{svc.name} names no gRPC port (appProtocol grpc, or a "
                                 "name grpc or grpc-*): Istio may not read its calls as gRPC.")
        self._update()

    def _update(self) -> None:
        super()._update()
        if hasattr(self, "warning") and getattr(self, "svc", None) is not None and not grpc_ports(self.svc):
            self.warning.setVisible(True)


def route_form_class(kind: str) -> type[HTTPRouteForm]:
    return GRPCRouteForm if kind == GRPC_ROUTE else HTTPRouteForm
