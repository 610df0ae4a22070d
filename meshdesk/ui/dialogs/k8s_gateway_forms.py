"""The forms that create a Kubernetes Gateway API Gateway (listeners, addresses) and a ReferenceGrant in
a namespace, as Kiali's "Create Istio config" offers K8sGateway and K8sReferenceGrant; both forms also
edit an existing object whose fields they know. What is wrong is said under the form as it is
typed, and ``plan`` refuses it with the same words.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.changes import ChangePlan
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.k8s_gateway_config import (
    ADDRESS_TYPES,
    DEFAULT_CLASS,
    GRANT_FROM_KINDS,
    GRANT_TO_KINDS,
    LISTENER_PROTOCOLS,
    MAX_GRANT_ENTRIES,
    ROUTES_FROM,
    TLS_MODES,
    GrantSide,
    Listener,
    build_k8s_gateway,
    build_reference_grant,
    class_note,
    grant_warnings,
    k8s_gateway_fields,
    k8s_gateway_plan,
    keep_k8s_spellings,
    reference_grant_fields,
    reference_grant_plan,
)
from meshdesk.mesh.security import parse_selector, split_list
from meshdesk.ui.dialogs.authn_gateway_forms import _labels, _scrolled
from meshdesk.ui.dialogs.forms import ActionForm
from meshdesk.ui.dialogs.security_forms import BoxList, _Editing, _selector_text, say_problem


class ListenerBox(QGroupBox):
    """One listener of a Gateway: its name, port, protocol, hostname, the routes it admits and its TLS."""

    def __init__(self, index: int, changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(f"Listener {index}", parent)
        form = QFormLayout(self)
        self.name = QLineEdit("http" if index == 1 else f"listener-{index}")
        self.name.setObjectName("listenerName")
        form.addRow("Name", self.name)
        self.port = QLineEdit("80")
        self.port.setObjectName("listenerPort")
        self.protocol = QComboBox()
        self.protocol.setObjectName("listenerProtocol")
        self.protocol.addItems(list(LISTENER_PROTOCOLS))
        row = QHBoxLayout()
        row.addWidget(self.port, 1)
        row.addWidget(QLabel("Protocol"))
        row.addWidget(self.protocol)
        form.addRow("Port", row)
        self.hostname = QLineEdit()
        self.hostname.setObjectName("listenerHostname")
        self.hostname.setPlaceholderText("optional: example.com or *.example.com (empty: any host)")
        form.addRow("Hostname", self.hostname)
        self.routes_from = QComboBox()
        self.routes_from.setObjectName("listenerRoutesFrom")
        self.routes_from.addItems(list(ROUTES_FROM))
        self.routes_from.setToolTip("The namespaces whose routes may attach to this listener: the Gateway's own "
                                    "(Same), any (All), or those with the labels below (Selector)")
        self.routes_selector = QLineEdit()
        self.routes_selector.setObjectName("listenerRoutesSelector")
        self.routes_selector.setPlaceholderText("with Selector: the namespaces' labels, e.g. shared-gateway=true")
        row = QHBoxLayout()
        row.addWidget(self.routes_from)
        row.addWidget(self.routes_selector, 1)
        form.addRow("Routes from", row)
        self.tls_mode = QComboBox()
        self.tls_mode.setObjectName("listenerTlsMode")
        self.tls_mode.addItems(list(TLS_MODES))
        form.addRow("TLS mode", self.tls_mode)
        self.certificates = QLineEdit()
        self.certificates.setObjectName("listenerCertificates")
        self.certificates.setPlaceholderText("Terminate: the Secrets with the certificate, comma-separated "
                                             "(name, or namespace/name)")
        form.addRow("Certificates", self.certificates)
        self.remove_button = QPushButton("Remove listener")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        form.addRow(buttons)
        for edit in (self.name, self.port, self.hostname, self.routes_selector, self.certificates):
            edit.textChanged.connect(changed)
        for combo in (self.protocol, self.routes_from, self.tls_mode):
            combo.currentTextChanged.connect(changed)
        self.protocol.currentTextChanged.connect(self._enable)
        self.routes_from.currentTextChanged.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        tls = self.protocol.currentText() in ("HTTPS", "TLS")
        self.tls_mode.setEnabled(tls)
        self.certificates.setEnabled(tls)
        self.routes_selector.setEnabled(self.routes_from.currentText() == "Selector")

    def listener(self) -> Listener:
        tls = self.protocol.currentText() in ("HTTPS", "TLS")
        selector = self.routes_selector.text().strip()
        return Listener(
            self.name.text().strip(), self.port.text().strip(), self.protocol.currentText(),
            self.hostname.text().strip(), self.routes_from.currentText(),
            parse_selector(selector, "namespace selector") if self.routes_from.currentText() == "Selector" and selector
            else {},
            self.tls_mode.currentText(), split_list(self.certificates.text()) if tls else [])

    def fill(self, li: Listener) -> None:
        self.name.setText(li.name)
        self.port.setText(li.port)
        self.protocol.setCurrentText(li.protocol)
        self.hostname.setText(li.hostname)
        self.routes_from.setCurrentText(li.routes_from)
        self.routes_selector.setText(_selector_text(li.routes_selector))
        self.tls_mode.setCurrentText(li.tls_mode)
        self.certificates.setText(", ".join(li.certificate_refs))


class AddressRow(QWidget):
    def __init__(self, changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.type = QComboBox()
        self.type.setObjectName("addressType")
        self.type.addItems(list(ADDRESS_TYPES))
        self.value = QLineEdit()
        self.value.setObjectName("addressValue")
        self.value.setPlaceholderText("e.g. 192.0.2.10, or a host name")
        self.remove_button = QPushButton("Remove")
        row.addWidget(self.type)
        row.addWidget(self.value, 1)
        row.addWidget(self.remove_button)
        self.type.currentTextChanged.connect(changed)
        self.value.textChanged.connect(changed)


class K8sGatewayForm(ActionForm):
    title = "Create a Kubernetes Gateway"
    help_text = ("A Gateway of the Kubernetes Gateway API: the controller of its class (Istio's is istio) runs a "
                 "gateway with these listeners, each a port with its protocol, hostname, the namespaces whose "
                 "routes may attach and its TLS. Routes (HTTPRoute, TCPRoute ...) naming it then carry the traffic.")

    def __init__(self, inv: Inventory, namespace: str, parent: QWidget | None = None, *,
                 editing: IstioObject | None = None) -> None:
        super().__init__(parent)
        self.inv, self.namespace = inv, namespace
        self.subject = f"namespace {namespace}"
        outer, form = _scrolled(self)
        self.name = QLineEdit()
        self.name.setObjectName("k8sGatewayName")
        self.name.setPlaceholderText("e.g. bookinfo-gateway")
        form.addRow("Name", self.name)
        self.class_name = QComboBox()
        self.class_name.setObjectName("k8sGatewayClass")
        self.class_name.setEditable(True)
        classes = sorted(inv.gateway_classes or {})
        self.class_name.addItems(classes if DEFAULT_CLASS not in classes and classes else
                                 [DEFAULT_CLASS, *(c for c in classes if c != DEFAULT_CLASS)])
        self.class_name.setToolTip("The GatewayClass: which controller runs this Gateway")
        form.addRow("Gateway class", self.class_name)
        self.class_label = QLabel()
        self.class_label.setObjectName("k8sGatewayClassNote")
        self.class_label.setWordWrap(True)
        form.addRow("", self.class_label)
        self._listeners_boxes = BoxList(form, "Listener", self._update, button="Add listener", button_name="addListener",
                                        add=self.add_listener)
        self.listeners: list[ListenerBox] = self._listeners_boxes.items
        self.add_listener_button = self._listeners_boxes.add_button
        self.address_rows = QVBoxLayout()
        form.addRow("Addresses", self.address_rows)
        self.addresses: list[AddressRow] = []
        self.add_address_button = QPushButton("Add address")
        self.add_address_button.setObjectName("addAddress")
        self.add_address_button.setToolTip("Optional: the addresses asked for the gateway (else its controller "
                                           "picks them)")
        self.add_address_button.clicked.connect(lambda: self.add_address())
        row = QHBoxLayout()
        row.addWidget(self.add_address_button)
        row.addStretch(1)
        form.addRow(row)
        self.warning, self.error = _labels(outer, "k8sGateway")
        self.editor = _Editing(self, editing, inv) if editing is not None else None
        if self.editor is None:
            self.add_listener()
        else:
            fields, _unknown = k8s_gateway_fields(self.editor.before.spec)
            for li in fields.get("listeners") or [Listener()]:
                self.add_listener().fill(li)
            for kind, value in fields.get("addresses") or []:
                address = self.add_address()
                address.type.setCurrentText(kind)
                address.value.setText(value)
            self.class_name.setCurrentText(fields.get("class_name") or "")
        self.name.textChanged.connect(self._update)
        self.class_name.currentTextChanged.connect(self._update)
        self._update()

    def add_listener(self) -> ListenerBox:
        box: ListenerBox = self._listeners_boxes.add(ListenerBox(len(self.listeners) + 1, self._update))
        return box

    def remove_listener(self, box: ListenerBox) -> None:
        self._listeners_boxes.remove(box)

    def add_address(self) -> AddressRow:
        row = AddressRow(self._update)
        row.remove_button.clicked.connect(lambda: self.remove_address(row))
        self.addresses.append(row)
        self.address_rows.addWidget(row)
        self._update()
        return row

    def remove_address(self, row: AddressRow) -> None:
        if row in self.addresses:
            self.addresses.remove(row)
            self.address_rows.removeWidget(row)
            row.deleteLater()
        self._update()

    def _update(self) -> None:
        if not hasattr(self, "error"):
            return
        say_problem(self)
        self.class_label.setText(class_note(self.inv, self.class_name.currentText().strip()))
        self.warning.setVisible(False)

    def _build(self, name: str) -> IstioObject:
        return build_k8s_gateway(name, self.namespace, self.class_name.currentText().strip(),
                                 [b.listener() for b in self.listeners],
                                 [(a.type.currentText(), a.value.text().strip()) for a in self.addresses])

    def plan(self, inv: Inventory) -> ChangePlan:
        if self.editor is not None:
            editor = self.editor

            def build() -> IstioObject:
                gw = self._build(self.name.text().strip())
                gw.spec = keep_k8s_spellings(gw.spec, editor.before.spec)
                return gw
            return editor.plan(inv, build, lambda i, new: k8s_gateway_plan(i, new, editing=True))
        return k8s_gateway_plan(inv, self._build(self.name.text().strip()))


class GrantRow(QWidget):
    """One entry of a ReferenceGrant: for ``from`` a kind and the namespace of its objects, for ``to`` a
    kind of this namespace and optionally one object's name; the kind's API group beside it."""

    def __init__(self, side: str, namespace: str, namespaces: list[str], changed: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        kinds = GRANT_FROM_KINDS if side == "from" else GRANT_TO_KINDS
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.index = QLabel()
        self.kind = QComboBox()
        self.kind.setObjectName(f"grant{side.title()}Kind")
        self.kind.addItems(list(kinds))
        self.group = QLabel()
        self.group.setObjectName(f"grant{side.title()}Group")
        self.value: QComboBox | QLineEdit
        if side == "from":
            self.value = QComboBox()
            self.value.setEditable(True)
            self.value.addItems(namespaces)
            self.value.setToolTip("The namespace of the routes or Gateways that may refer here")
            self.value.setObjectName("grantFromNamespace")
            self.value.currentTextChanged.connect(changed)
        else:
            self.value = QLineEdit()
            self.value.setObjectName("grantToName")
            self.value.setPlaceholderText(f"optional: one object's name (empty: every one of {namespace})")
            self.value.textChanged.connect(changed)
        self.remove_button = QPushButton("Remove")
        row.addWidget(self.index)
        row.addWidget(self.kind)
        row.addWidget(QLabel("in" if side == "from" else "named"))
        row.addWidget(self.value, 1)
        row.addWidget(self.group)
        row.addWidget(self.remove_button)
        self.kind.currentTextChanged.connect(self._group)
        self.kind.currentTextChanged.connect(changed)
        self._group()

    def _group(self) -> None:
        kinds = GRANT_FROM_KINDS if self.side == "from" else GRANT_TO_KINDS
        group = kinds.get(self.kind.currentText(), "")
        self.group.setText(f"group {group or 'core'}")
        self.group.setToolTip("The kind's API group" + ("" if group else " (core: a Kubernetes object of its own, "
                                                        "written as an empty group)"))

    def fill(self, entry: GrantSide) -> None:
        self.kind.setCurrentText(entry.kind)
        if isinstance(self.value, QComboBox):
            self.value.setCurrentText(entry.namespace)
        else:
            self.value.setText(entry.name)

    def entry(self) -> GrantSide:
        text = self.value.currentText() if isinstance(self.value, QComboBox) else self.value.text()
        if self.side == "from":
            return GrantSide(self.kind.currentText(), namespace=text.strip())
        return GrantSide(self.kind.currentText(), name=text.strip())


class ReferenceGrantForm(ActionForm):
    title = "Create a ReferenceGrant"
    help_text = ("Let objects of other namespaces refer to objects of this one, as the Kubernetes Gateway API "
                 "requires across namespaces: routes there to this namespace's Services, Gateways there to its "
                 "Secrets (their certificates). Each 'from' entry may refer to each 'to' entry; up to "
                 f"{MAX_GRANT_ENTRIES} of each.")

    def __init__(self, inv: Inventory, namespace: str, parent: QWidget | None = None, *,
                 editing: IstioObject | None = None) -> None:
        super().__init__(parent)
        self.inv, self.namespace = inv, namespace
        self.subject = f"namespace {namespace}"
        self.others = [n for n in (inv.cluster_namespaces or [n.name for n in inv.namespaces]) if n != namespace]
        outer, form = _scrolled(self)
        self.name = QLineEdit()
        self.name.setObjectName("grantName")
        self.name.setPlaceholderText("e.g. allow-routes-from-shop")
        form.addRow("Name", self.name)
        self.sources: list[GrantRow] = []
        self.targets: list[GrantRow] = []
        self.rows: dict[str, QVBoxLayout] = {}
        self.add_buttons: dict[str, QPushButton] = {}
        for side, label, hint in (
                ("from", "From", "the kinds and namespaces whose objects may refer here"),
                ("to", "To", f"the kinds of {namespace} they may refer to")):
            box = QGroupBox(f"{label}: {hint}")
            box.setObjectName(f"grant{label}Box")
            layout = QVBoxLayout(box)
            rows = QVBoxLayout()
            layout.addLayout(rows)
            button = QPushButton(f"Add a '{side}' entry")
            button.setObjectName(f"addGrant{label}")
            button.clicked.connect(lambda _=False, s=side: self.add_entry(s))
            line = QHBoxLayout()
            line.addWidget(button)
            line.addStretch(1)
            layout.addLayout(line)
            form.addRow(box)
            self.rows[side], self.add_buttons[side] = rows, button
        self.warning, self.error = _labels(outer, "grant")
        self.name.textChanged.connect(self._update)
        self.editor = _Editing(self, editing, inv) if editing is not None else None
        if self.editor is None:
            self.add_entry("from")
            self.add_entry("to")
            return
        fields, _unknown = reference_grant_fields(self.editor.before.spec)
        for side in ("from", "to"):
            for entry in fields.get(side) or [GrantSide(next(iter(GRANT_FROM_KINDS if side == "from"
                                                                   else GRANT_TO_KINDS)))]:
                self.add_entry(side).fill(entry)
        self._update()

    # the first entry of each side, by the names the one-entry form gave them
    @property
    def from_kind(self) -> QComboBox:
        return self.sources[0].kind

    @property
    def from_namespace(self) -> QComboBox:
        value = self.sources[0].value
        assert isinstance(value, QComboBox)
        return value

    @property
    def to_kind(self) -> QComboBox:
        return self.targets[0].kind

    @property
    def to_name(self) -> QLineEdit:
        value = self.targets[0].value
        assert isinstance(value, QLineEdit)
        return value

    def add_entry(self, side: str) -> GrantRow:
        entries = self.sources if side == "from" else self.targets
        row = GrantRow(side, self.namespace, self.others, self._update)
        if side == "from" and entries:  # a new entry starts as the previous one's kind, in the next namespace
            row.kind.setCurrentText(entries[-1].kind.currentText())
            taken = {e.entry().namespace for e in entries}
            row.value.setCurrentText(next((n for n in self.others if n not in taken), ""))  # type: ignore[union-attr]
        row.remove_button.clicked.connect(lambda: self.remove_entry(row))
        entries.append(row)
        self.rows[side].addWidget(row)
        self._renumber()
        return row

    def remove_entry(self, row: GrantRow) -> None:
        entries = self.sources if row.side == "from" else self.targets
        if row in entries and len(entries) > 1:
            entries.remove(row)
            self.rows[row.side].removeWidget(row)
            row.deleteLater()
        self._renumber()

    def _renumber(self) -> None:
        for side, entries in (("from", self.sources), ("to", self.targets)):
            for i, row in enumerate(entries, 1):
                row.index.setText(f"{i}.")
                row.remove_button.setEnabled(len(entries) > 1)
            full = len(entries) >= MAX_GRANT_ENTRIES
            self.add_buttons[side].setEnabled(not full)
            self.add_buttons[side].setToolTip(f"The Gateway API takes at most {MAX_GRANT_ENTRIES} {side} entries"
                                              if full else "")
        self._update()

    def _update(self) -> None:
        if not hasattr(self, "error") or not self.sources or not self.targets:
            return
        say_problem(self)
        warnings = grant_warnings([r.kind.currentText() for r in self.sources],
                                  [r.kind.currentText() for r in self.targets])
        self.warning.setText("<br>".join(f"<b>Warning:</b> {w[:1].upper() + w[1:]}." for w in warnings))
        self.warning.setVisible(bool(warnings))

    def _build(self, name: str) -> IstioObject:
        return build_reference_grant(name, self.namespace, [r.entry() for r in self.sources],
                                     [r.entry() for r in self.targets])

    def plan(self, inv: Inventory) -> ChangePlan:
        if self.editor is not None:
            return self.editor.plan(inv, lambda: self._build(self.name.text().strip()),
                                    lambda i, new: reference_grant_plan(i, new, editing=True))
        return reference_grant_plan(inv, self._build(self.name.text().strip()))
