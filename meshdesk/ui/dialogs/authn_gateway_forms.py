"""The forms that create a RequestAuthentication (JWT rules) and an Istio Gateway (servers) in a
namespace, as Kiali's "Create Istio config" does; each also edits an existing object whose fields it
knows. What is wrong is said under the form as it is typed, and ``plan`` refuses it with the same words.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.changes import CREATE, Change, ChangePlan
from meshdesk.mesh.gateway_config import (
    DEFAULT_SELECTOR,
    GATEWAY_PROTOCOLS,
    TLS_MODES,
    GatewayServer,
    build_gateway,
    gateway_fields,
    gateway_plan,
    gateway_workloads,
    keep_spellings,
)
from meshdesk.mesh.inventory import Inventory, IstioObject, Workload
from meshdesk.mesh.request_auth import (
    JwtRule,
    build_request_authentication,
    keep_request_auth_spellings,
    parse_pairs,
    request_authentication_fields,
    request_authentication_plan,
    require_jwt_policy,
    token_requiring_policies,
)
from meshdesk.mesh.routing import RoutingError
from meshdesk.mesh.security import parse_selector, split_list, workload_selector
from meshdesk.ui.dialogs.forms import ActionForm
from meshdesk.ui.dialogs.security_forms import BoxList, _Editing, _selector_text, _SelectorField, say_problem


def _pairs_text(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{a}={b}" if b else a for a, b in pairs)


def _scrolled(form_widget: QWidget) -> tuple[QVBoxLayout, QFormLayout]:
    outer = QVBoxLayout(form_widget)
    outer.setContentsMargins(0, 0, 0, 0)
    scroller = QScrollArea()
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.Shape.NoFrame)
    outer.addWidget(scroller)
    inner = QWidget()
    scroller.setWidget(inner)
    return outer, QFormLayout(inner)


def _labels(outer: QVBoxLayout, prefix: str) -> tuple[QLabel, QLabel]:
    warning = QLabel()
    warning.setObjectName(f"{prefix}Warning")
    warning.setWordWrap(True)
    outer.addWidget(warning)
    error = QLabel()
    error.setObjectName(f"{prefix}Error")
    error.setWordWrap(True)
    error.setProperty("role", "error")  # the theme's error colour (2.7:1 as a fixed red on dark)
    outer.addWidget(error)
    return warning, error


class JwtRuleBox(QGroupBox):
    """One JWT rule: the issuer, its keys, where the token is read from and what is passed on."""

    def __init__(self, index: int, changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(f"JWT rule {index}", parent)
        form = QFormLayout(self)

        def line(name: str, label: str, hint: str) -> QLineEdit:
            edit = QLineEdit()
            edit.setObjectName(name)
            edit.setPlaceholderText(hint)
            edit.textChanged.connect(changed)
            form.addRow(label, edit)
            return edit

        self.issuer = line("jwtIssuer", "Issuer", "required: the tokens' iss, e.g. https://accounts.example.com")
        self.audiences = line("jwtAudiences", "Audiences", "optional, comma-separated (none: any audience)")
        self.jwks_uri = line("jwtJwksUri", "JWKS URI", "e.g. https://accounts.example.com/.well-known/jwks.json")
        self.jwks = QPlainTextEdit()
        self.jwks.setObjectName("jwtJwks")
        self.jwks.setPlaceholderText('or the keys inline, as JSON: {"keys": [...]}')
        self.jwks.setFixedHeight(60)
        self.jwks.textChanged.connect(changed)
        form.addRow("JWKS (inline)", self.jwks)
        self.from_headers = line("jwtFromHeaders", "From headers",
                                 "name=prefix, comma-separated, e.g. x-jwt-assertion, Authorization=Bearer ")
        self.from_params = line("jwtFromParams", "From query parameters", "e.g. access_token")
        self.from_cookies = line("jwtFromCookies", "From cookies", "e.g. session")
        self.forward = QCheckBox("Forward the original token to the workload")
        self.forward.setObjectName("jwtForward")
        self.forward.toggled.connect(changed)
        form.addRow("", self.forward)
        self.payload_header = line("jwtPayloadHeader", "Payload to header", "optional, e.g. x-jwt-payload")
        self.claim_headers = line("jwtClaimHeaders", "Claims to headers", "header=claim, e.g. x-user=sub")
        self.remove_button = QPushButton("Remove rule")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        form.addRow(row)

    def rule(self) -> JwtRule:
        return JwtRule(issuer=self.issuer.text().strip(), audiences=split_list(self.audiences.text()),
                       jwks_uri=self.jwks_uri.text().strip(), jwks=self.jwks.toPlainText(),
                       from_headers=parse_pairs(self.from_headers.text()),
                       from_params=split_list(self.from_params.text()),
                       from_cookies=split_list(self.from_cookies.text()),
                       forward_original_token=self.forward.isChecked(),
                       output_payload_to_header=self.payload_header.text().strip(),
                       output_claim_to_headers=parse_pairs(self.claim_headers.text()))

    def fill(self, rule: JwtRule) -> None:
        self.issuer.setText(rule.issuer)
        self.audiences.setText(", ".join(rule.audiences))
        self.jwks_uri.setText(rule.jwks_uri)
        self.jwks.setPlainText(rule.jwks)
        self.from_headers.setText(_pairs_text(rule.from_headers))
        self.from_params.setText(", ".join(rule.from_params))
        self.from_cookies.setText(", ".join(rule.from_cookies))
        self.forward.setChecked(rule.forward_original_token)
        self.payload_header.setText(rule.output_payload_to_header)
        self.claim_headers.setText(_pairs_text(rule.output_claim_to_headers))


class RequestAuthenticationForm(ActionForm):
    title = "Create a RequestAuthentication"
    help_text = ("Check the JSON Web Tokens requests carry to the workloads of a namespace (all of them, or those "
                 "a selector picks): a request with an invalid token is refused. A request without one is let "
                 "through unless an AuthorizationPolicy requires it (\"Require a token\").")

    def __init__(self, inv: Inventory, namespace: str, workload: Workload | None = None,
                 parent: QWidget | None = None, *, editing: IstioObject | None = None) -> None:
        super().__init__(parent)
        self.inv, self.namespace, self.workload = inv, namespace, workload
        self.subject = f"workload {namespace}/{workload.name}" if workload is not None else f"namespace {namespace}"
        if workload is not None:
            self.subject_ref = (workload.kind, namespace, workload.name)
        outer, form = _scrolled(self)
        self.name = QLineEdit()
        self.name.setObjectName("raName")
        self.name.setPlaceholderText("e.g. jwt-example")
        form.addRow("Name", self.name)
        labels = workload_selector(workload, [w for w in inv.workloads if w.namespace == namespace]) \
            if workload is not None else {}
        self.selector = _SelectorField(form, labels)
        self._rules_boxes = BoxList(form, "JWT rule", self._update, button="Add JWT rule", button_name="addJwtRule",
                                    add=self.add_rule)
        self.rules: list[JwtRuleBox] = self._rules_boxes.items
        self.add_rule_button = self._rules_boxes.add_button
        self.require = QCheckBox("Require a token: also add an AuthorizationPolicy that denies requests without one")
        self.require.setObjectName("raRequire")
        self.require.setToolTip("An ALLOW policy with requestPrincipals: ['*'] and the same selector, as Istio's "
                                "documentation advises: a RequestAuthentication alone lets requests without a "
                                "token through.")
        form.addRow("", self.require)
        self.warning, self.error = _labels(outer, "ra")
        self.editor = _Editing(self, editing, inv) if editing is not None else None
        if self.editor is None:
            self.add_rule()
        else:
            fields, _unknown = request_authentication_fields(self.editor.before.spec)
            for rule in fields.get("rules") or [JwtRule()]:
                self.add_rule().fill(rule)
            self.selector.set(fields.get("selector") or {})
        self.name.textChanged.connect(self._update)
        self.selector.enabled.toggled.connect(self._update)
        self.selector.labels.textChanged.connect(self._update)
        self.require.toggled.connect(self._update)
        self._update()

    def add_rule(self) -> JwtRuleBox:
        box: JwtRuleBox = self._rules_boxes.add(JwtRuleBox(len(self.rules) + 1, self._update))
        return box

    def remove_rule(self, box: JwtRuleBox) -> None:
        self._rules_boxes.remove(box)

    def _update(self) -> None:
        if not hasattr(self, "error"):
            return
        # a rule not begun yet is said on Review, not while the form is still being filled in
        say_problem(self, lambda e: "" if "an issuer is needed" in str(e) and not any(
            b.issuer.text().strip() for b in self.rules) else str(e))
        try:
            selector = self.selector.value()
        except RoutingError:
            selector = {}
        warning = "" if self.require.isChecked() or token_requiring_policies(self.inv, self.namespace, selector) \
            else "<b>Warning:</b> requests without a token still get through: tick \"Require a token\" to deny them."
        uris = [b.jwks_uri.text().strip() for b in self.rules]
        if any(u.startswith("http://") for u in uris):
            warning += ("<br>" if warning else "") + ("<b>Warning:</b> keys fetched over plain HTTP can be swapped "
                                                      "on the way: use https.")
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))

    def _build(self, name: str) -> IstioObject:
        return build_request_authentication(name, self.namespace, [b.rule() for b in self.rules],
                                            selector=self.selector.value())

    def plan(self, inv: Inventory) -> ChangePlan:
        require = self.require.isChecked()
        if self.editor is None:
            return request_authentication_plan(inv, self._build(self.name.text().strip()), require=require)
        before = self.editor.before

        def build() -> IstioObject:
            ra = self._build(self.name.text().strip())
            ra.spec = keep_request_auth_spellings(ra.spec, before.spec)
            return ra
        out = self.editor.plan(inv, build,
                               lambda i, new: request_authentication_plan(i, new, editing=True, require=require))
        if require:
            edited = self._build(self.name.text().strip())
            out.changes.append(Change(CREATE, obj=require_jwt_policy(edited)))
        return out


class ServerBox(QGroupBox):
    """One server of a Gateway: its port, hosts and TLS settings."""

    def __init__(self, index: int, changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(f"Server {index}", parent)
        form = QFormLayout(self)
        self.number = QLineEdit("80")
        self.number.setObjectName("serverPort")
        self.protocol = QComboBox()
        self.protocol.setObjectName("serverProtocol")
        self.protocol.addItems(list(GATEWAY_PROTOCOLS))
        self.port_name = QLineEdit()
        self.port_name.setObjectName("serverPortName")
        self.port_name.setPlaceholderText("optional: <protocol>-<port>")
        row = QHBoxLayout()
        row.addWidget(self.number, 1)
        row.addWidget(QLabel("Protocol"))
        row.addWidget(self.protocol)
        row.addWidget(QLabel("Name"))
        row.addWidget(self.port_name, 1)
        form.addRow("Port", row)
        self.hosts = QLineEdit("*")
        self.hosts.setObjectName("serverHosts")
        self.hosts.setToolTip("comma-separated: '*', example.com, *.example.com, or namespace/host (the namespace "
                              "whose VirtualServices may bind: '*', '.' or a name)")
        form.addRow("Hosts", self.hosts)
        self.tls_mode = QComboBox()
        self.tls_mode.setObjectName("serverTlsMode")
        self.tls_mode.addItems(["", *TLS_MODES])
        form.addRow("TLS mode", self.tls_mode)
        self.credential = QLineEdit()
        self.credential.setObjectName("serverCredential")
        self.credential.setPlaceholderText("the Secret with the certificate (SIMPLE, MUTUAL, OPTIONAL_MUTUAL)")
        form.addRow("Credential name", self.credential)
        self.redirect = QCheckBox("Redirect HTTP requests to HTTPS")
        self.redirect.setObjectName("serverHttpsRedirect")
        form.addRow("", self.redirect)
        self.remove_button = QPushButton("Remove server")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        form.addRow(buttons)
        for edit in (self.number, self.port_name, self.hosts, self.credential):
            edit.textChanged.connect(changed)
        self.protocol.currentTextChanged.connect(changed)
        self.tls_mode.currentTextChanged.connect(changed)
        self.redirect.toggled.connect(changed)

    def server(self) -> GatewayServer:
        return GatewayServer(self.number.text().strip(), self.protocol.currentText(), self.port_name.text().strip(),
                             split_list(self.hosts.text()), self.tls_mode.currentText(), self.credential.text().strip(),
                             self.redirect.isChecked())

    def fill(self, s: GatewayServer) -> None:
        self.number.setText(s.number)
        self.protocol.setCurrentText(s.protocol)
        self.port_name.setText(s.port_name)
        self.hosts.setText(", ".join(s.hosts))
        self.tls_mode.setCurrentText(s.tls_mode)
        self.credential.setText(s.credential_name)
        self.redirect.setChecked(s.https_redirect)


class GatewayForm(ActionForm):
    title = "Create a Gateway"
    help_text = ("Open ports on Istio gateway workloads (those the selector picks) for the hosts listed: each "
                 "server is a port with its protocol, hosts and TLS settings. A VirtualService bound to the "
                 "Gateway then routes the traffic.")

    def __init__(self, inv: Inventory, namespace: str, parent: QWidget | None = None, *,
                 editing: IstioObject | None = None) -> None:
        super().__init__(parent)
        self.inv, self.namespace = inv, namespace
        self.subject = f"namespace {namespace}"
        outer, form = _scrolled(self)
        self.name = QLineEdit()
        self.name.setObjectName("gatewayName")
        self.name.setPlaceholderText("e.g. bookinfo-gateway")
        form.addRow("Name", self.name)
        self.selector = QComboBox()
        self.selector.setObjectName("gatewaySelector")
        self.selector.setEditable(True)
        offered = [_selector_text(DEFAULT_SELECTOR)]
        self.gateways = gateway_workloads(inv)
        for w in self.gateways:
            labels = {"istio": w.labels["istio"]} if "istio" in w.labels else workload_selector(w, self.gateways)
            text = _selector_text(labels)
            if text not in offered:
                offered.append(text)
        self.selector.addItems(offered)
        self.selector.setToolTip("The labels of the gateway workloads this Gateway configures")
        form.addRow("Selector", self.selector)
        self.picks = QLabel()
        self.picks.setObjectName("gatewayPicks")
        self.picks.setWordWrap(True)
        form.addRow("", self.picks)
        self._servers_boxes = BoxList(form, "Server", self._update, button="Add server", button_name="addServer",
                                      add=self.add_server)
        self.servers: list[ServerBox] = self._servers_boxes.items
        self.add_server_button = self._servers_boxes.add_button
        self.warning, self.error = _labels(outer, "gateway")
        self.editor = _Editing(self, editing, inv) if editing is not None else None
        if self.editor is None:
            self.add_server()
        else:
            fields, _unknown = gateway_fields(self.editor.before.spec)
            for s in fields.get("servers") or [GatewayServer()]:
                self.add_server().fill(s)
            self.selector.setCurrentText(_selector_text(fields.get("selector") or {}))
        self.name.textChanged.connect(self._update)
        self.selector.currentTextChanged.connect(self._update)
        self._update()

    def add_server(self) -> ServerBox:
        box: ServerBox = self._servers_boxes.add(ServerBox(len(self.servers) + 1, self._update))
        return box

    def remove_server(self, box: ServerBox) -> None:
        self._servers_boxes.remove(box)

    def _selector_value(self) -> dict[str, str]:
        return parse_selector(self.selector.currentText(), "selector")

    def _update(self) -> None:
        if not hasattr(self, "error"):
            return
        say_problem(self)
        try:
            labels = self._selector_value()
        except RoutingError:
            labels = {}
        picked = [f"{w.namespace}/{w.name}" for w in self.gateways
                  if labels and all(w.labels.get(k) == v for k, v in labels.items())]
        self.picks.setText(f"Configures {', '.join(picked)}" if picked else
                           "No gateway workload known here has these labels." if labels else "")
        self.warning.setVisible(False)

    def _build(self, name: str) -> IstioObject:
        return build_gateway(name, self.namespace, [b.server() for b in self.servers], selector=self._selector_value())

    def plan(self, inv: Inventory) -> ChangePlan:
        if self.editor is not None:
            editor = self.editor
            return editor.plan(inv, lambda: self._kept(self._build(self.name.text().strip()), editor.before),
                               lambda i, new: gateway_plan(i, new, editing=True))
        return gateway_plan(inv, self._build(self.name.text().strip()))

    @staticmethod
    def _kept(gw: IstioObject, before: IstioObject) -> IstioObject:
        gw.spec = keep_spellings(gw.spec, before.spec)
        return gw
