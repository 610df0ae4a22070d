"""The forms that create security config in a namespace, as Kiali's "Create Istio config" does: an
AuthorizationPolicy (deny all, allow all, or rules of from / to / when, with an action) and a Sidecar
(egress hosts). Opened on a workload, the workload selector is prefilled with its labels. What is
wrong is said under the form as it is typed, and ``plan`` refuses it with the same words.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

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
from meshdesk.mesh.config_edit import editable_yaml, keep_order_deep
from meshdesk.mesh.inventory import Inventory, IstioObject, Workload
from meshdesk.mesh.routing import RoutingError
from meshdesk.mesh.security import (
    ALLOW,
    ALLOW_ALL,
    AUTHZ_ACTIONS,
    CUSTOM,
    DENY,
    DENY_ALL,
    EGRESS_PROTOCOLS,
    POLICY_KINDS,
    RULES,
    TARGET_KINDS,
    AuthzRule,
    EgressListener,
    IngressListener,
    allowing_policies,
    authorization_policy_fields,
    authorization_policy_plan,
    build_authorization_policy,
    build_sidecar,
    form_misfit,
    keep_sidecar_spellings,
    outbound_notes,
    parse_conditions,
    parse_selector,
    provider_problem,
    shown_kind_name,
    sidecar_fields,
    sidecar_plan,
    split_list,
    target_notes,
    workload_selector,
)
from meshdesk.mesh.sidecar_listeners import CAPTURE_MODES
from meshdesk.mesh.validation_badges import key_of
from meshdesk.ui.dialogs.config_edit import ConfigEditForm, find_object
from meshdesk.ui.dialogs.forms import ActionForm

_POLICY_HELP = {
    DENY_ALL: "Denies every request to the workloads it covers (an empty policy: nothing is allowed).",
    ALLOW_ALL: "Allows every request to the workloads it covers (one rule that matches everything).",
    RULES: "Allows or denies the requests its rules match: who sends them (from), what they ask for (to) "
           "and when.",
}


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

    def set(self, labels: dict[str, str]) -> None:
        self.labels.setText(_selector_text(labels))
        self.enabled.setChecked(bool(labels))
        self.labels.setEnabled(bool(labels))

    def value(self) -> dict[str, str]:
        if not self.enabled.isChecked():
            return {}
        labels = parse_selector(self.labels.text())
        if not labels:
            raise RoutingError("workload selector: give at least one label like app=reviews, or untick it")
        return labels


SCOPE_SELECTOR = "Workloads (by selector)"
SCOPE_TARGETS = "Targets (targetRefs)"


class TargetRow(QWidget):
    """One target of a policy (``targetRefs``): a kind and the name of an object of that kind in the
    policy's namespace, picked from those the inventory holds (or typed: one not made yet)."""

    def __init__(self, names: dict[str, list[str]], changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names = names
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.kind = QComboBox()
        self.kind.setObjectName("targetKind")
        self.kind.addItems(list(TARGET_KINDS))
        self.name = QComboBox()
        self.name.setObjectName("targetName")
        self.name.setEditable(True)
        self.name.setMinimumContentsLength(20)
        self.remove_button = QPushButton("Remove")
        row.addWidget(self.kind)
        row.addWidget(self.name, 1)
        row.addWidget(self.remove_button)
        # the first kind the namespace has objects of (a namespace without Gateways starts on its Services)
        self.kind.setCurrentText(next((k for k in TARGET_KINDS if names.get(k)), "Gateway"))
        self.kind.currentTextChanged.connect(self._offer)
        self._offer(self.kind.currentText())
        self.kind.currentTextChanged.connect(changed)
        self.name.currentTextChanged.connect(changed)

    def _offer(self, kind: str) -> None:
        typed = self.name.currentText()
        self.name.blockSignals(True)
        self.name.clear()
        self.name.addItems(self.names.get(kind, []))
        self.name.blockSignals(False)
        self.name.setCurrentText(typed if typed in self.names.get(kind, []) else
                                 (self.names.get(kind) or [""])[0])

    def set(self, kind: str, name: str) -> None:
        self.kind.setCurrentText(kind)
        self.name.setCurrentText(name)

    def value(self) -> tuple[str, str]:
        return self.kind.currentText(), self.name.currentText().strip()


class BoxList:
    """The repeatable group boxes of a form (JWT rules, servers, listeners), in rows of ``form`` with an
    "Add ..." button under them (``add`` makes one): each added at the end with its remove button wired, at least one kept, all titled "<title> <n>" in order;
    ``changed`` runs after each change. ``items`` holds the boxes, in order (the form shows it as its
    own list)."""

    def __init__(self, form: QFormLayout, title: str, changed: Callable[[], None], *, button: str, button_name: str,
                 add: Callable[[], Any]) -> None:
        self.layout, self.title, self.changed = QVBoxLayout(), title, changed
        self.items: list[Any] = []
        form.addRow(self.layout)
        # the button adding one more, under the boxes
        self.add_button = QPushButton(button)
        self.add_button.setObjectName(button_name)
        self.add_button.clicked.connect(lambda: add())
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addStretch(1)
        form.addRow(row)

    def add(self, box: Any) -> Any:
        box.remove_button.clicked.connect(lambda: self.remove(box))
        self.items.append(box)
        self.layout.addWidget(box)
        self.retitle()
        return box

    def remove(self, box: Any) -> None:
        if box in self.items and len(self.items) > 1:
            self.items.remove(box)
            self.layout.removeWidget(box)
            box.deleteLater()
        self.retitle()

    def retitle(self) -> None:
        for i, b in enumerate(self.items, 1):
            b.setTitle(f"{self.title} {i}")
            b.remove_button.setEnabled(len(self.items) > 1)
        self.changed()


def say_problem(form: Any, refused: Callable[[RoutingError], str] = str) -> None:
    """Say under ``form`` what stops its object being made: its builder's refusal (as ``refused`` words
    it), or what an object being edited holds that the form cannot show (that first); nothing when nothing
    does."""
    problem = ""
    try:
        form._build(form.name.text().strip() or "unnamed")
    except RoutingError as e:
        problem = refused(e)
    editor: _Editing | None = getattr(form, "editor", None)
    if editor is not None and editor.misfit:
        problem = editor.misfit
    form.error.setText(problem[:1].upper() + problem[1:])


class _Editing:
    """A form saving over an existing object: the change is the YAML editor's (``ConfigEditForm``: a
    replace of the object as read, refused as a conflict when the cluster's copy changed meanwhile;
    after "Reload and review again", against the copy read then), the notes the form's. Only the spec
    is the form's: labels, annotations and the server's metadata stay as the cluster has them. An
    object with fields the form does not know is refused, pointing at the YAML editor."""

    def __init__(self, form: ActionForm, before: IstioObject, inv: Inventory) -> None:
        self.before = copy.deepcopy(before)
        self.key = key_of(before)
        # never shown: its plan is reused
        self.saver = ConfigEditForm(before, inv, "", parent=form, gone_hint=(
            f"There is nothing to save the form over: Cancel, and add a new "
            f"{shown_kind_name(before.kind)} from the namespace's Actions if it is still wanted."))
        self.saver.hide()
        what = f"{shown_kind_name(before.kind)} {before.namespace}/{before.name}"
        form.title = f"Edit {what}"
        form.subject = ""
        form.help_text += " Saving replaces the object's spec with the form's, once you confirm on the next page."
        name = getattr(form, "name", None)
        if isinstance(name, QLineEdit):
            name.setText(before.name)
            name.setReadOnly(True)  # renaming is another object
        self.misfit = form_misfit(before.kind, before.spec)

    def plan(self, inv: Inventory, build: Callable[[], IstioObject],
             notes: Callable[[Inventory, IstioObject], ChangePlan]) -> ChangePlan:
        if self.misfit:
            raise RoutingError(self.misfit)
        current = find_object(inv, self.key)
        if current is not None and current is not self.before:
            misfit = form_misfit(current.kind, current.spec)
            if misfit and current.resource_version != self.before.resource_version:
                raise RoutingError("The cluster's copy changed since the form was opened. " + misfit)
        edited = copy.deepcopy(current if current is not None else self.before)
        # in the object's own field order: the diff shows what changed, not fields the form writes in its order
        edited.spec = keep_order_deep(build().spec, edited.spec)
        self.saver.text = editable_yaml(edited)
        out = self.saver.plan(inv)
        out.notes = notes(inv, edited).notes + out.notes
        return out


class _EntryBox(QGroupBox):
    """One ``from`` source or ``to`` operation of a rule: comma-separated values per field."""

    def __init__(self, title: str, fields: tuple[tuple[str, str, str], ...], remove_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        form = QFormLayout(self)
        self.edits: dict[str, QLineEdit] = {}
        for key, label, hint in fields:
            edit = QLineEdit()
            edit.setObjectName(f"rule-{key}")
            edit.setPlaceholderText(f"e.g. {hint}")
            form.addRow(label, edit)
            self.edits[key] = edit
        self.remove_button = QPushButton(remove_text)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        form.addRow(row)

    def entry(self) -> dict[str, list[str]]:
        return {k: values for k, e in self.edits.items() if (values := split_list(e.text()))}

    def fill(self, entry: dict[str, list[str]]) -> None:
        for k, values in entry.items():
            self.edits[k].setText(", ".join(values))


class _EntryList(QWidget):
    """The ``from`` sources (or ``to`` operations) of a rule, with Add and Remove: a request matches the
    rule when it matches any one of them."""

    def __init__(self, what: str, fields: tuple[tuple[str, str, str], ...], changed: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.what, self.fields, self.changed = what, fields, changed
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.rows = QVBoxLayout()
        layout.addLayout(self.rows)
        self.add_button = QPushButton(f"Add {what}")
        self.add_button.setObjectName(f"add-{what}")
        self.add_button.clicked.connect(lambda: self.add())
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.boxes: list[_EntryBox] = []

    def add(self, entry: dict[str, list[str]] | None = None, *, notify: bool = True) -> _EntryBox:
        box = _EntryBox(f"{self.what.capitalize()} {len(self.boxes) + 1}", self.fields, f"Remove {self.what}")
        if entry:
            box.fill(entry)
        for edit in box.edits.values():
            edit.textChanged.connect(self.changed)
        box.remove_button.clicked.connect(lambda: self.remove(box))
        self.boxes.append(box)
        self.rows.addWidget(box)
        self._titles()
        if notify:
            self.changed()
        return box

    def remove(self, box: _EntryBox) -> None:
        if box in self.boxes:
            self.boxes.remove(box)
            self.rows.removeWidget(box)
            box.deleteLater()
        self._titles()
        self.changed()

    def _titles(self) -> None:
        for i, b in enumerate(self.boxes, 1):
            b.setTitle(f"{self.what.capitalize()} {i}")
            b.remove_button.setEnabled(len(self.boxes) > 1)  # the last one is emptied, not removed

    def entries(self) -> list[dict[str, list[str]]]:
        return [b.entry() for b in self.boxes]


class RuleBox(QGroupBox):
    """One rule of an AuthorizationPolicy: its sources (from), operations (to), each a box of fields, and
    its conditions (when); all empty matches every request. ``edits`` are the first source's and first
    operation's fields and the conditions."""

    SOURCE_FIELDS = (("principals", "Principals", "cluster.local/ns/default/sa/sleep"),
                     ("notPrincipals", "Not principals", "cluster.local/ns/default/sa/legacy"),
                     ("requestPrincipals", "Request principals", "https://accounts.example.com/alice"),
                     ("notRequestPrincipals", "Not request principals", "https://accounts.example.com/*"),
                     ("namespaces", "Namespaces", "frontend, tools"),
                     ("notNamespaces", "Not namespaces", "legacy"),
                     ("ipBlocks", "IP blocks", "10.0.0.0/16, 192.168.1.7"),
                     ("notIpBlocks", "Not IP blocks", "10.0.5.0/24"))
    OPERATION_FIELDS = (("hosts", "Hosts", "reviews.bookinfo.svc.cluster.local"),
                        ("notHosts", "Not hosts", "admin.example.com"),
                        ("ports", "Ports", "9080"),
                        ("notPorts", "Not ports", "15000"),
                        ("methods", "Methods", "GET, POST"),
                        ("notMethods", "Not methods", "DELETE"),
                        ("paths", "Paths", "/api/*, /health"),
                        ("notPaths", "Not paths", "/admin*"))

    def __init__(self, index: int, changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(f"Rule {index}", parent)
        form = QFormLayout(self)
        self.sources = _EntryList("source", self.SOURCE_FIELDS, changed)
        self.operations = _EntryList("operation", self.OPERATION_FIELDS, changed)
        self.sources.add(notify=False)
        self.operations.add(notify=False)
        form.addRow("From", self.sources)
        form.addRow("To", self.operations)
        self.when = QLineEdit()
        self.when.setObjectName("rule-when")
        self.when.setPlaceholderText("e.g. request.headers[x-user]=alice, bob; source.ip!=10.0.0.0/8")
        self.when.setToolTip("Conditions separated by ';', each key=value, value (the attribute is one of them) "
                             "or key!=value, value (it is none of them)")
        self.when.textChanged.connect(changed)
        form.addRow("When", self.when)
        self.remove_button = QPushButton("Remove rule")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        form.addRow(row)

    def fill(self, rule: AuthzRule) -> None:
        for entries, boxes in ((rule.sources, self.sources), (rule.operations, self.operations)):
            for i, entry in enumerate(entries or [{}]):
                if i < len(boxes.boxes):
                    boxes.boxes[i].fill(entry)
                else:
                    boxes.add(entry)
        self.when.setText("; ".join("; ".join(([f"{k}={', '.join(v)}"] if v else [])
                                              + ([f"{k}!={', '.join(n)}"] if n else [])) for k, v, n in rule.when))

    @property
    def edits(self) -> dict[str, QLineEdit]:
        return {**self.sources.boxes[0].edits, **self.operations.boxes[0].edits, "when": self.when}

    def all_edits(self) -> list[QLineEdit]:
        return [e for b in (*self.sources.boxes, *self.operations.boxes) for e in b.edits.values()] + [self.when]

    def rule(self) -> AuthzRule:
        return AuthzRule(sources=self.sources.entries(), operations=self.operations.entries(),
                         when=parse_conditions(self.when.text()))


class AuthorizationPolicyForm(ActionForm):
    title = "Create an AuthorizationPolicy"
    help_text = ("Allow or deny requests to the workloads of a namespace (all of them, or those a selector "
                 "picks). DENY policies are evaluated first; once an ALLOW policy covers a workload, what no "
                 "ALLOW rule matches is denied.")

    def __init__(self, inv: Inventory, namespace: str, workload: Workload | None = None,
                 parent: QWidget | None = None, *, editing: IstioObject | None = None) -> None:
        super().__init__(parent)
        self.namespace, self.workload = namespace, workload
        self.root = namespace == inv.mesh_settings.root_namespace  # a policy there applies mesh-wide
        # beside a deny-all, what they allow still gets in
        self._inv, self._editing = inv, editing
        self.subject = f"workload {namespace}/{workload.name}" if workload is not None else f"namespace {namespace}"
        if workload is not None:
            self.subject_ref = (workload.kind, namespace, workload.name)
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
        # CUSTOM: the external authorizer the mesh config declares (extensionProviders)
        self.inv = inv
        self.provider = QComboBox()
        self.provider.setObjectName("policyProvider")
        self.provider.setEditable(True)
        self.provider.addItems(inv.settings_for(namespace).authz_providers or [])
        self.provider.setToolTip("The external authorizer the requests its rules match are sent to: one of the "
                                 "mesh config's extensionProviders")
        form.addRow("Provider", self.provider)
        self.scope = QComboBox()
        self.scope.setObjectName("policyScope")
        self.scope.addItems([SCOPE_SELECTOR, SCOPE_TARGETS])
        self.scope.setToolTip("Workloads by selector (their sidecars enforce it), or targets (Istio 1.22+): a "
                              "Gateway, or in ambient mode a Service or ServiceEntry whose waypoint enforces it")
        form.addRow("Applies to", self.scope)
        labels = workload_selector(workload, [w for w in inv.workloads if w.namespace == namespace]) \
            if workload is not None else {}
        self.selector = _SelectorField(form, labels)
        self.target_names = {
            "Gateway": sorted(g.name for g in inv.k8s_gateways if g.namespace == namespace),
            "Service": sorted(s.name for s in inv.services if s.namespace == namespace),
            "ServiceEntry": sorted(o.name for o in inv.mesh_config("ServiceEntry") if o.namespace == namespace)}
        self.targets_box = QGroupBox("Targets")
        targets_layout = QVBoxLayout(self.targets_box)
        self.target_rows_layout = QVBoxLayout()
        targets_layout.addLayout(self.target_rows_layout)
        self.add_target_button = QPushButton("Add target")
        self.add_target_button.setObjectName("addTarget")
        self.add_target_button.clicked.connect(lambda: self.add_target())
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_target_button)
        add_row.addStretch(1)
        targets_layout.addLayout(add_row)
        form.addRow(self.targets_box)
        self.targets: list[TargetRow] = []

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
        self.error.setProperty("role", "error")  # the theme's error colour (2.7:1 as a fixed red on dark)
        outer.addWidget(self.error)

        self.add_target()
        self.policy.currentTextChanged.connect(self._update)
        self.action.currentTextChanged.connect(self._update)
        self.provider.currentTextChanged.connect(self._update)
        self.scope.currentTextChanged.connect(self._update)
        self.selector.enabled.toggled.connect(self._update)
        self.selector.labels.textChanged.connect(self._update)
        self.name.textChanged.connect(self._update)
        self.editor = _Editing(self, editing, inv) if editing is not None else None
        if self.editor is not None:
            fields, _unknown = authorization_policy_fields(self.editor.before.spec)
            self.selector.set(fields.get("selector") or {})
            for i, (kind, target) in enumerate(fields.get("targets") or []):
                (self.targets[0] if i == 0 else self.add_target()).set(kind, target)
            self.scope.setCurrentText(SCOPE_TARGETS if fields.get("targets") else SCOPE_SELECTOR)
            if fields.get("kind") == RULES:
                for rule in fields["rules"]:
                    self.add_rule().fill(rule)
            self.policy.setCurrentText(fields.get("kind", DENY_ALL))
            self.action.setCurrentText(fields.get("action", ALLOW))
            self.provider.setCurrentText(fields.get("provider") or "")
        self._update()

    def add_target(self) -> TargetRow:
        row = TargetRow(self.target_names, self._update)
        row.remove_button.clicked.connect(lambda: self.remove_target(row))
        self.targets.append(row)
        self.target_rows_layout.addWidget(row)
        for r in self.targets:
            r.remove_button.setEnabled(len(self.targets) > 1)
        self._update()
        return row

    def remove_target(self, row: TargetRow) -> None:
        if row in self.targets and len(self.targets) > 1:
            self.targets.remove(row)
            self.target_rows_layout.removeWidget(row)
            row.deleteLater()
        for r in self.targets:
            r.remove_button.setEnabled(len(self.targets) > 1)
        self._update()

    def target_values(self) -> list[tuple[str, str]]:
        """The targets as filled in, when the policy applies to targets ([] when to workloads)."""
        return [r.value() for r in self.targets] if self.scope.currentText() == SCOPE_TARGETS else []

    def add_rule(self) -> RuleBox:
        box = RuleBox(len(self.rules) + 1, self._update)
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
        if not hasattr(self, "targets"):
            return  # still being built
        kind = self.policy.currentText()
        self.policy_help.setText(_POLICY_HELP[kind])
        self.action.setEnabled(kind == RULES)
        if kind != RULES:
            self.action.setCurrentText(ALLOW)
        self.provider.setEnabled(self.action.currentText() == CUSTOM)
        by_targets = self.scope.currentText() == SCOPE_TARGETS
        for w in (self.selector.enabled, self.selector.labels):
            w.setVisible(not by_targets)
        self.selector.labels.setEnabled(self.selector.enabled.isChecked())
        self.targets_box.setVisible(by_targets)
        self.rules_box.setVisible(kind == RULES)
        if kind == RULES and not self.rules:
            self.add_rule()  # the fields of the first rule are there to fill in
            return
        targets = self.target_values()
        target = " and ".join(f"{k} {n}" for k, n in targets) if by_targets else \
            "the selected workloads" if self.selector.enabled.isChecked() else \
            f"every workload in the mesh ({self.namespace} is its root namespace)" if self.root else \
            f"every workload in {self.namespace}"
        warning = ""
        editing = self._editing
        allowing = [a for a in allowing_policies(self._inv, self.namespace, targets if by_targets else ())
                    if editing is None or a != f"{editing.namespace}/{editing.name}"]
        if kind == DENY_ALL and allowing:
            them = ", ".join(allowing)
            warning = (f"<b>Warning:</b> this denies every request to {target} that no ALLOW policy allows: what "
                       f"{them} allow{'s' if len(allowing) == 1 else ''} still gets in, the rest is denied.")
        elif kind == DENY_ALL:
            warning = (f"<b>Warning:</b> this denies every request to {target}; they are cut off until an "
                       "ALLOW policy lets requests in.")
        elif kind == RULES and self.action.currentText() == CUSTOM:
            pass  # a rule with no field set sends every request to the authorizer: what such a rule is for
        elif kind == RULES and self.action.currentText() == DENY and any(self._matches_everything(b) for b in self.rules):
            warning = (f"<b>Warning:</b> a DENY rule with no field set matches every request: it cuts off "
                       f"{target}, whatever ALLOW policies say.")
        elif kind == RULES and any(self._matches_everything(b) for b in self.rules):
            n = next(i for i, b in enumerate(self.rules, 1) if self._matches_everything(b))
            warning = (f"<b>Warning:</b> rule {n} has no field set: it matches every request, so this allows "
                       f"every request to {target}, whatever the other rules say.")
        if targets and all(n for _k, n in targets):
            notes = [n.removeprefix("Warning: ") for n in target_notes(self.inv, self.namespace, targets)]
            warning = "<br>".join([warning, *(f"<b>Warning:</b> {n}" for n in notes)] if warning else
                                  [f"<b>Warning:</b> {n}" for n in notes])
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        self.error.setText(self.problem())

    @staticmethod
    def _matches_everything(box: RuleBox) -> bool:
        return not any(e.text().strip() for e in box.all_edits())

    def problem(self) -> str:
        """What is wrong with the form as filled in ("" when nothing is)."""
        editor: _Editing | None = getattr(self, "editor", None)
        if editor is not None and editor.misfit:
            return editor.misfit
        try:
            # an empty name is said on Review, not while the form is still being filled in
            self._build(self.name.text().strip() or "unnamed")
        except RoutingError as e:
            return str(e)[:1].upper() + str(e)[1:]
        if self.action.currentText() == CUSTOM and self.policy.currentText() == RULES:
            problem = provider_problem(self.inv, self.provider.currentText().strip(), self.namespace)
            return problem[:1].upper() + problem[1:]
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
        targets = self.target_values()
        return build_authorization_policy(name, self.namespace, kind,
                                          action=self.action.currentText(),
                                          selector={} if targets else self.selector.value(),
                                          rules=rules, targets=targets,
                                          provider=self.provider.currentText().strip()
                                          if self.action.currentText() == CUSTOM else "")

    def plan(self, inv: Inventory) -> ChangePlan:
        if self.editor is not None:
            return self.editor.plan(inv, lambda: self._build(self.name.text().strip()),
                                    lambda i, new: authorization_policy_plan(i, new, editing=True))
        return authorization_policy_plan(inv, self._build(self.name.text().strip()))


def _capture_combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.addItem("Default", "")
    for mode in CAPTURE_MODES:
        combo.addItem(mode, mode)
    combo.setToolTip("How traffic to the listener reaches the sidecar: DEFAULT (the mesh's way), IPTABLES "
                     "(redirected by iptables), NONE (not captured: the application calls the bind address "
                     "itself); Default writes none")
    return combo


def _port_row(form: QFormLayout, owner: QWidget, prefix: str, placeholder: str) -> None:
    """The port number, protocol and port name of a listener, in one row of ``form``, as attributes of ``owner``."""
    port, protocol, name = QLineEdit(), QComboBox(), QLineEdit()
    port.setObjectName(f"{prefix}Port")
    port.setPlaceholderText(placeholder)
    protocol.setObjectName(f"{prefix}Protocol")
    protocol.addItems(["", *EGRESS_PROTOCOLS])
    name.setObjectName(f"{prefix}PortName")
    name.setPlaceholderText("optional, e.g. http-9080")
    row = QHBoxLayout()
    row.addWidget(port, 1)
    row.addWidget(QLabel("Protocol"))
    row.addWidget(protocol)
    row.addWidget(QLabel("Name"))
    row.addWidget(name, 1)
    form.addRow("Port", row)
    owner.port, owner.protocol, owner.port_name = port, protocol, name  # type: ignore[attr-defined]


def _bind_row(form: QFormLayout, owner: QWidget, prefix: str, placeholder: str) -> None:
    bind, capture = QLineEdit(), _capture_combo(f"{prefix}CaptureMode")
    bind.setObjectName(f"{prefix}Bind")
    bind.setPlaceholderText(placeholder)
    row = QHBoxLayout()
    row.addWidget(bind, 1)
    row.addWidget(QLabel("Capture"))
    row.addWidget(capture)
    form.addRow("Bind", row)
    owner.bind, owner.capture_mode = bind, capture  # type: ignore[attr-defined]


class EgressBox(QGroupBox):
    """One egress listener of a Sidecar: its hosts, a port (none: every port the others do not name; 0, a
    Unix domain socket), the address it binds to and how its traffic is captured."""

    port: QLineEdit
    protocol: QComboBox
    port_name: QLineEdit
    bind: QLineEdit
    capture_mode: QComboBox

    def __init__(self, index: int, hosts: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Egress listener {index}", parent)
        form = QFormLayout(self)
        self.hosts = QLineEdit(hosts)
        self.hosts.setObjectName("egressHosts")
        self.hosts.setToolTip("namespace/host entries separated by commas: '.' is this namespace, '*' any; "
                              "the host '*', a name or *.suffix")
        form.addRow("Egress hosts", self.hosts)
        _port_row(form, self, "egress", "any other port (0: a unix:// socket)")
        _bind_row(form, self, "egress", "optional: an IP address, or with port 0 unix:///path or unix://@name")
        self.remove_button = QPushButton("Remove listener")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        form.addRow(buttons)

    def listener(self) -> EgressListener:
        return EgressListener(split_list(self.hosts.text()), self.port.text().strip(), self.protocol.currentText(),
                              self.port_name.text().strip(), self.bind.text().strip(),
                              str(self.capture_mode.currentData() or ""))

    def fill(self, listener: EgressListener) -> None:
        self.hosts.setText(", ".join(listener.hosts))
        self.port.setText(listener.number)
        self.protocol.setCurrentText(listener.protocol)
        self.port_name.setText(listener.port_name)
        self.bind.setText(listener.bind)
        self.capture_mode.setCurrentIndex(max(0, self.capture_mode.findData(listener.capture_mode)))


class IngressBox(QGroupBox):
    """One ingress listener of a Sidecar: the port its workloads take traffic on, where the sidecar passes
    it (the default endpoint), the address it binds to and how its traffic is captured."""

    port: QLineEdit
    protocol: QComboBox
    port_name: QLineEdit
    bind: QLineEdit
    capture_mode: QComboBox

    def __init__(self, index: int, changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(f"Ingress listener {index}", parent)
        form = QFormLayout(self)
        _port_row(form, self, "ingress", "the port the workloads take traffic on, e.g. 9080")
        self.default_endpoint = QLineEdit()
        self.default_endpoint.setObjectName("ingressDefaultEndpoint")
        self.default_endpoint.setPlaceholderText("optional: 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080 or "
                                                 "unix:///var/run/app.sock")
        self.default_endpoint.setToolTip("Where the sidecar passes the traffic on: the application's own "
                                         "address (empty: the workload's address on the same port)")
        form.addRow("Default endpoint", self.default_endpoint)
        _bind_row(form, self, "ingress", "optional: the IP address the listener binds to")
        self.remove_button = QPushButton("Remove listener")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        form.addRow(buttons)
        for edit in (self.port, self.port_name, self.default_endpoint, self.bind):
            edit.textChanged.connect(changed)
        self.protocol.currentTextChanged.connect(changed)
        self.capture_mode.currentIndexChanged.connect(changed)

    def listener(self) -> IngressListener:
        return IngressListener(self.port.text().strip(), self.protocol.currentText(), self.port_name.text().strip(),
                               self.default_endpoint.text().strip(), self.bind.text().strip(),
                               str(self.capture_mode.currentData() or ""))

    def fill(self, listener: IngressListener) -> None:
        self.port.setText(listener.number)
        self.protocol.setCurrentText(listener.protocol)
        self.port_name.setText(listener.port_name)
        self.default_endpoint.setText(listener.default_endpoint)
        self.bind.setText(listener.bind)
        self.capture_mode.setCurrentIndex(max(0, self.capture_mode.findData(listener.capture_mode)))


class SidecarForm(ActionForm):
    title = "Create a Sidecar"
    help_text = ("Limit what the sidecars of a namespace (or of the workloads a selector picks) know of the "
                 "mesh: only the egress hosts listed, as namespace/host (./* is the namespace's own, "
                 "istio-system/* the control plane's), on one port per listener or on any; and, with ingress "
                 "listeners, the ports they take traffic on and where the sidecar passes it.")

    def __init__(self, inv: Inventory, namespace: str, workload: Workload | None = None,
                 parent: QWidget | None = None, *, editing: IstioObject | None = None, graph: Any = None) -> None:
        super().__init__(parent)
        self.namespace, self.workload = namespace, workload
        self.inv, self.graph = inv, graph  # the graph shown: the calls through PassthroughCluster it holds
        self.subject = f"workload {namespace}/{workload.name}" if workload is not None else f"namespace {namespace}"
        if workload is not None:
            self.subject_ref = (workload.kind, namespace, workload.name)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroller = QScrollArea()
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroller)
        inner = QWidget()
        scroller.setWidget(inner)
        form = QFormLayout(inner)
        self.name = QLineEdit()
        self.name.setObjectName("sidecarName")
        self.name.setPlaceholderText("e.g. default")
        form.addRow("Name", self.name)
        # this namespace's services and the control plane's (wherever istiod runs), as a start
        control = next((c.namespace for c in inv.control_planes or () if c.namespace), "istio-system")
        self.first_hosts = f"./*, {control}/*"
        self.listeners: list[EgressBox] = []
        self.listener_rows = QVBoxLayout()
        form.addRow(self.listener_rows)
        self.add_listener_button = QPushButton("Add egress listener")
        self.add_listener_button.setObjectName("addEgressListener")
        self.add_listener_button.clicked.connect(lambda: self.add_listener())
        row = QHBoxLayout()
        row.addWidget(self.add_listener_button)
        row.addStretch(1)
        form.addRow(row)
        # ingress listeners: none by default (Istio then makes them from the workloads' Services)
        self.ingress: list[IngressBox] = []
        self.ingress_rows = QVBoxLayout()
        form.addRow(self.ingress_rows)
        self.add_ingress_button = QPushButton("Add ingress listener")
        self.add_ingress_button.setObjectName("addIngressListener")
        self.add_ingress_button.setToolTip("Optional: the ports the workloads take traffic on, in place of those "
                                           "of their Services, and where the sidecar passes it")
        self.add_ingress_button.clicked.connect(lambda: self.add_ingress())
        row = QHBoxLayout()
        row.addWidget(self.add_ingress_button)
        row.addStretch(1)
        form.addRow(row)
        labels = workload_selector(workload, [w for w in inv.workloads if w.namespace == namespace]) \
            if workload is not None else {}
        self.selector = _SelectorField(form, labels)
        self.outbound = QComboBox()
        self.outbound.setObjectName("outboundMode")
        own = inv.settings_for(namespace)  # the namespace's own istiod revision's mesh config
        default = own.outbound_policy
        self.outbound.addItem(f"Mesh default ({default})" if own.read else
                              f"Mesh default ({default}, assumed: the mesh config was not read)", "")
        self.outbound.addItem("ALLOW_ANY: hosts it does not know go out through PassthroughCluster", "ALLOW_ANY")
        self.outbound.addItem("REGISTRY_ONLY: hosts it does not know are blocked", "REGISTRY_ONLY")
        form.addRow("Outbound traffic", self.outbound)
        self.warning = QLabel()
        self.warning.setObjectName("sidecarWarning")
        self.warning.setWordWrap(True)
        outer.addWidget(self.warning)
        self.error = QLabel()
        self.error.setObjectName("sidecarError")
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")  # the theme's error colour (2.7:1 as a fixed red on dark)
        outer.addWidget(self.error)
        self.editor = _Editing(self, editing, inv) if editing is not None else None
        if self.editor is None:
            self.add_listener(self.first_hosts)
        else:
            fields, _unknown = sidecar_fields(self.editor.before.spec)
            for listener in fields.get("listeners") or [EgressListener()]:
                self.add_listener("").fill(listener)
            for inbound in fields.get("ingress") or []:
                self.add_ingress().fill(inbound)
            self.selector.set(fields.get("selector") or {})
            self.outbound.setCurrentIndex(max(0, self.outbound.findData(fields.get("outbound") or "")))
        self.outbound.currentIndexChanged.connect(self._update)
        self.name.textChanged.connect(self._update)
        self.selector.enabled.toggled.connect(self._update)
        self.selector.labels.textChanged.connect(self._update)
        self._update()

    @property
    def hosts(self) -> QLineEdit:
        """The first listener's hosts."""
        return self.listeners[0].hosts

    def add_listener(self, hosts: str = "") -> EgressBox:
        box = EgressBox(len(self.listeners) + 1, hosts)
        for edit in (box.hosts, box.port, box.port_name, box.bind):
            edit.textChanged.connect(self._update)
        box.protocol.currentTextChanged.connect(self._update)
        box.capture_mode.currentIndexChanged.connect(self._update)
        box.remove_button.clicked.connect(lambda: self.remove_listener(box))
        self.listeners.append(box)
        self.listener_rows.addWidget(box)
        self._titles()
        self._update()
        return box

    def remove_listener(self, box: EgressBox) -> None:
        if box in self.listeners and len(self.listeners) > 1:
            self.listeners.remove(box)
            self.listener_rows.removeWidget(box)
            box.deleteLater()
        self._titles()
        self._update()

    def add_ingress(self) -> IngressBox:
        box = IngressBox(len(self.ingress) + 1, self._update)
        box.remove_button.clicked.connect(lambda: self.remove_ingress(box))
        self.ingress.append(box)
        self.ingress_rows.addWidget(box)
        self._titles()
        self._update()
        return box

    def remove_ingress(self, box: IngressBox) -> None:
        if box in self.ingress:  # every one may go: Istio then makes them from the Services
            self.ingress.remove(box)
            self.ingress_rows.removeWidget(box)
            box.deleteLater()
        self._titles()
        self._update()

    def _titles(self) -> None:
        for i, b in enumerate(self.listeners, 1):
            b.setTitle(f"Egress listener {i}")
            b.remove_button.setEnabled(len(self.listeners) > 1)
        for i, ib in enumerate(getattr(self, "ingress", []), 1):
            ib.setTitle(f"Ingress listener {i}")

    def _update(self) -> None:
        if not hasattr(self, "error"):
            return
        name = self.name.text().strip()
        problem = ""
        warnings: list[str] = []
        try:
            warnings = outbound_notes(self.inv, self._build(name or "unnamed"), self.graph)
        except RoutingError as e:
            problem = str(e)
        self.warning.setText("<br>".join(f"<b>Warning:</b> {w.removeprefix('Warning: ')}" for w in warnings))
        self.warning.setVisible(bool(warnings))
        editor: _Editing | None = getattr(self, "editor", None)
        if editor is not None and editor.misfit:
            problem = editor.misfit
        self.error.setText(problem[:1].upper() + problem[1:])

    def _build(self, name: str) -> IstioObject:
        return build_sidecar(name, self.namespace, [b.listener() for b in self.listeners],
                             selector=self.selector.value(), outbound=str(self.outbound.currentData() or ""),
                             ingress=[b.listener() for b in self.ingress])

    def plan(self, inv: Inventory) -> ChangePlan:
        if self.editor is not None:
            editor = self.editor

            def build() -> IstioObject:
                sc = self._build(self.name.text().strip())
                sc.spec = keep_sidecar_spellings(sc.spec, editor.before.spec)
                return sc
            return editor.plan(inv, build, lambda i, new: sidecar_plan(i, new, editing=True, graph=self.graph))
        return sidecar_plan(inv, self._build(self.name.text().strip()), graph=self.graph)
