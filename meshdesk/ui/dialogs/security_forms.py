"""The forms that create security config in a namespace, as Kiali's "Create Istio config" does: an
AuthorizationPolicy (deny all, allow all, or rules of from / to / when, with an action) and a Sidecar
(egress hosts). Opened on a workload, the workload selector is prefilled with its labels. What is
wrong is said under the form as it is typed, and ``plan`` refuses it with the same words.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.changes import ChangePlan
from meshdesk.mesh.inventory import Inventory, IstioObject, Workload
from meshdesk.mesh.routing import RoutingError
from meshdesk.mesh.security import (
    ALLOW,
    ALLOW_ALL,
    AUTHZ_ACTIONS,
    DENY,
    DENY_ALL,
    POLICY_KINDS,
    RULES,
    AuthzRule,
    allowing_policies,
    authorization_policy_plan,
    build_authorization_policy,
    build_sidecar,
    egress_host_problem,
    name_problem,
    parse_conditions,
    parse_selector,
    sidecar_plan,
    split_list,
    workload_selector,
)
from meshdesk.ui.dialogs.forms import ActionForm

_POLICY_HELP = {
    DENY_ALL: "Denies every request to the workloads it covers (an empty policy: nothing is allowed).",
    ALLOW_ALL: "Allows every request to the workloads it covers (one rule that matches everything).",
    RULES: "Allows or denies the requests its rules match: who sends them (from), what they ask for (to) "
           "and when.",
}
_ERROR_STYLE = "color: #c9190b"


def _selector_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


class _SelectorField:
    """A check box "Workload selector" and its labels (``app=reviews, version=v1``)."""

    def __init__(self, form: QFormLayout, labels: dict[str, str]) -> None:
        self.enabled = QCheckBox("Only the workloads with these labels")
        self.enabled.setObjectName("selectorEnabled")
        self.labels = QLineEdit(_selector_text(labels))
        self.labels.setObjectName("selectorLabels")
        self.labels.setPlaceholderText("e.g. app=reviews, version=v1")
        self.enabled.setChecked(bool(labels))
        self.labels.setEnabled(bool(labels))
        self.enabled.toggled.connect(self.labels.setEnabled)
        form.addRow("Workload selector", self.enabled)
        form.addRow("", self.labels)

    def value(self) -> dict[str, str]:
        if not self.enabled.isChecked():
            return {}
        labels = parse_selector(self.labels.text())
        if not labels:
            raise RoutingError("workload selector: give at least one label like app=reviews, or untick it")
        return labels


class RuleBox(QGroupBox):
    """One rule of an AuthorizationPolicy: comma-separated values per field; all empty matches every request."""

    FIELDS = (("principals", "From principals", "cluster.local/ns/default/sa/sleep"),
              ("namespaces", "From namespaces", "frontend, tools"),
              ("ip_blocks", "From IP blocks", "10.0.0.0/16, 192.168.1.7"),
              ("hosts", "To hosts", "reviews.bookinfo.svc.cluster.local"),
              ("ports", "To ports", "9080"),
              ("methods", "To methods", "GET, POST"),
              ("paths", "To paths", "/api/*, /health"),
              ("when", "When", "request.headers[x-user]=alice, bob; source.ip=10.0.0.0/8"))

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(f"Rule {index}", parent)
        form = QFormLayout(self)
        self.edits: dict[str, QLineEdit] = {}
        for key, label, hint in self.FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"rule-{key}")
            edit.setPlaceholderText(f"e.g. {hint}")
            form.addRow(label, edit)
            self.edits[key] = edit
        self.edits["when"].setToolTip("Conditions separated by ';', each key=value, value")
        self.remove_button = QPushButton("Remove rule")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        form.addRow(row)

    def rule(self) -> AuthzRule:
        text = {k: e.text() for k, e in self.edits.items()}
        return AuthzRule(principals=split_list(text["principals"]), namespaces=split_list(text["namespaces"]),
                         ip_blocks=split_list(text["ip_blocks"]), hosts=split_list(text["hosts"]),
                         ports=split_list(text["ports"]), methods=split_list(text["methods"]),
                         paths=split_list(text["paths"]), when=parse_conditions(text["when"]))


class AuthorizationPolicyForm(ActionForm):
    title = "Create an AuthorizationPolicy"
    help_text = ("Allow or deny requests to the workloads of a namespace (all of them, or those a selector "
                 "picks). DENY policies are evaluated first; once an ALLOW policy covers a workload, what no "
                 "ALLOW rule matches is denied.")

    def __init__(self, inv: Inventory, namespace: str, workload: Workload | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace, self.workload = namespace, workload
        self.root = namespace == inv.mesh_settings.root_namespace  # a policy there applies mesh-wide
        self.allowing = allowing_policies(inv, namespace)  # beside a deny-all, what they allow still gets in
        self.subject = f"workload {namespace}/{workload.name}" if workload is not None else f"namespace {namespace}"
        # the rules make the form long: it scrolls inside the dialog rather than growing past the screen
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroller)
        inner = QWidget()
        self.scroller.setWidget(inner)
        form = QFormLayout(inner)
        self.name = QLineEdit()
        self.name.setObjectName("policyName")
        self.name.setPlaceholderText("e.g. deny-all")
        form.addRow("Name", self.name)
        self.policy = QComboBox()
        self.policy.setObjectName("policyKind")
        self.policy.addItems(list(POLICY_KINDS))
        form.addRow("Policy", self.policy)
        self.policy_help = QLabel()
        self.policy_help.setWordWrap(True)
        form.addRow("", self.policy_help)
        self.action = QComboBox()
        self.action.setObjectName("policyAction")
        self.action.addItems(list(AUTHZ_ACTIONS))
        form.addRow("Action", self.action)
        labels = workload_selector(workload, [w for w in inv.workloads if w.namespace == namespace]) \
            if workload is not None else {}
        self.selector = _SelectorField(form, labels)

        self.rules_box = QGroupBox("Rules")
        box = QVBoxLayout(self.rules_box)
        self.rule_rows = QVBoxLayout()
        box.addLayout(self.rule_rows)
        buttons = QHBoxLayout()
        self.add_rule_button = QPushButton("Add rule")
        self.add_rule_button.clicked.connect(lambda: self.add_rule())
        buttons.addWidget(self.add_rule_button)
        buttons.addStretch(1)
        box.addLayout(buttons)
        form.addRow(self.rules_box)
        self.rules: list[RuleBox] = []

        # below the scrolled fields, so they are seen whichever rule is in view
        self.warning = QLabel()
        self.warning.setObjectName("policyWarning")
        self.warning.setWordWrap(True)
        outer.addWidget(self.warning)
        self.error = QLabel()
        self.error.setObjectName("policyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(_ERROR_STYLE)
        outer.addWidget(self.error)

        self.policy.currentTextChanged.connect(self._update)
        self.action.currentTextChanged.connect(self._update)
        self.selector.enabled.toggled.connect(self._update)
        self.selector.labels.textChanged.connect(self._update)
        self.name.textChanged.connect(self._update)
        self._update()

    def add_rule(self) -> RuleBox:
        box = RuleBox(len(self.rules) + 1)
        for edit in box.edits.values():
            edit.textChanged.connect(self._update)
        box.remove_button.clicked.connect(lambda: self.remove_rule(box))
        self.rules.append(box)
        self.rule_rows.addWidget(box)
        box.show()
        self._update()
        return box

    def remove_rule(self, box: RuleBox) -> None:
        if box in self.rules:
            self.rules.remove(box)
            self.rule_rows.removeWidget(box)
            box.deleteLater()
        for i, b in enumerate(self.rules, 1):
            b.setTitle(f"Rule {i}")
        self._update()

    def _update(self) -> None:
        """Show what the chosen kind takes, warn before a policy that cuts workloads off, and say what is
        wrong with what is typed."""
        kind = self.policy.currentText()
        self.policy_help.setText(_POLICY_HELP[kind])
        self.action.setEnabled(kind == RULES)
        if kind != RULES:
            self.action.setCurrentText(ALLOW)
        self.rules_box.setVisible(kind == RULES)
        if kind == RULES and not self.rules:
            self.add_rule()  # the fields of the first rule are there to fill in
            return
        target = "the selected workloads" if self.selector.enabled.isChecked() else \
            f"every workload in the mesh ({self.namespace} is its root namespace)" if self.root else \
            f"every workload in {self.namespace}"
        warning = ""
        if kind == DENY_ALL and self.allowing:
            them = ", ".join(self.allowing)
            warning = (f"<b>Warning:</b> this denies every request to {target} that no ALLOW policy allows: what "
                       f"{them} allow{'s' if len(self.allowing) == 1 else ''} still gets in, the rest is denied.")
        elif kind == DENY_ALL:
            warning = (f"<b>Warning:</b> this denies every request to {target}; they are cut off until an "
                       "ALLOW policy lets requests in.")
        elif kind == RULES and self.action.currentText() == DENY and any(self._matches_everything(b) for b in self.rules):
            warning = (f"<b>Warning:</b> a DENY rule with no field set matches every request: it cuts off "
                       f"{target}, whatever ALLOW policies say.")
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        self.error.setText(self.problem())

    @staticmethod
    def _matches_everything(box: RuleBox) -> bool:
        return not any(e.text().strip() for e in box.edits.values())

    def problem(self) -> str:
        """What is wrong with the form as filled in ("" when nothing is)."""
        try:
            # an empty name is said on Review, not while the form is still being filled in
            self._build(self.name.text().strip() or "unnamed")
        except RoutingError as e:
            return str(e)[:1].upper() + str(e)[1:]
        return ""

    def _build(self, name: str) -> IstioObject:
        kind = self.policy.currentText()
        rules = []
        if kind == RULES:
            for i, box in enumerate(self.rules, 1):
                try:
                    rules.append(box.rule())
                except RoutingError as e:
                    raise RoutingError(f"rule {i}: {e}") from None
        return build_authorization_policy(name, self.namespace, kind,
                                          action=self.action.currentText(), selector=self.selector.value(),
                                          rules=rules)

    def plan(self, inv: Inventory) -> ChangePlan:
        return authorization_policy_plan(inv, self._build(self.name.text().strip()))


class SidecarForm(ActionForm):
    title = "Create a Sidecar"
    help_text = ("Limit what the sidecars of a namespace (or of the workloads a selector picks) know of the "
                 "mesh: only the egress hosts listed, as namespace/host (./* is the namespace's own, "
                 "istio-system/* the control plane's).")

    def __init__(self, inv: Inventory, namespace: str, workload: Workload | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace, self.workload = namespace, workload
        self.subject = f"workload {namespace}/{workload.name}" if workload is not None else f"namespace {namespace}"
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setObjectName("sidecarName")
        self.name.setPlaceholderText("e.g. default")
        form.addRow("Name", self.name)
        # this namespace's services and the control plane's (wherever istiod runs), as a start
        control = next((c.namespace for c in inv.control_planes or () if c.namespace), "istio-system")
        self.hosts = QLineEdit(f"./*, {control}/*")
        self.hosts.setObjectName("egressHosts")
        self.hosts.setToolTip("namespace/host entries separated by commas: '.' is this namespace, '*' any; "
                              "the host '*', a name or *.suffix")
        form.addRow("Egress hosts", self.hosts)
        labels = workload_selector(workload, [w for w in inv.workloads if w.namespace == namespace]) \
            if workload is not None else {}
        self.selector = _SelectorField(form, labels)
        self.error = QLabel()
        self.error.setObjectName("sidecarError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(_ERROR_STYLE)
        form.addRow(self.error)
        self.hosts.textChanged.connect(self._update)
        self.name.textChanged.connect(self._update)
        self.selector.labels.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        problems = [p for h in split_list(self.hosts.text()) if (p := egress_host_problem(h))]
        name = self.name.text().strip()
        if name and name_problem(name):
            problems.insert(0, name_problem(name))
        self.error.setText("\n".join(p[:1].upper() + p[1:] for p in problems))

    def plan(self, inv: Inventory) -> ChangePlan:
        sc = build_sidecar(self.name.text().strip(), self.namespace, split_list(self.hosts.text()),
                           selector=self.selector.value())
        return sidecar_plan(inv, sc)
