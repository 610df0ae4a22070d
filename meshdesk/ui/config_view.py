"""Istio config: each object's YAML with its validation findings beside it, edited or deleted in place.

    view = ConfigView()
    view.set_data(inventory)                 # validations computed here unless given
    view.show_object(("DestinationRule", "shop", "reviews"))
    lists.configSelected.connect(view.show_object)
    view.filter.setText("reviews")           # the list keeps the objects whose name, namespace, kind
                                             # or findings contain it

The object shown and the list's scroll position stay across refreshes, and across the filter: an
object the filter hides stays shown on the right.

The YAML is ``IstioObject.to_manifest()`` through ``dump_yaml`` (fields we do not know are shown
as the cluster served them, a text of several lines as a block of its lines), with a Gateway API
object's ``status`` under it; findings list code,
severity, message and path.

Edit and Delete (as Kiali's YAML editor and its Delete action), given the window's
``ActionsController`` (``view.set_actions(controller)``): Edit makes the YAML editable (a problem in the
text, with its line and column, and the findings the edited object would have, and those it newly gives
others, are shown as you type; the validations run on a thread, a newer text dropping an older result);
Save and Delete open the actions' ``ChangeDialog`` (review, dry run, Confirm; a copy changed meanwhile
is a conflict, never overwritten); Cancel puts back the text as read. Read-only mode, RBAC and a
source that takes no writes disable both, saying why in the tooltip. While editing, refreshes update
the list but leave the text alone, and the object shown stays.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Mapping
from typing import Any

import yaml
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QFontDatabase, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from meshdesk.mesh.changes import RESOURCES, dump_yaml, inventory_after
from meshdesk.mesh.config_edit import EditError, edit_plan, editable_yaml, manifest_kind
from meshdesk.mesh.gcpause import paused_gc
from meshdesk.mesh.graph.context import inventory_part, merged
from meshdesk.mesh.inventory import OUTSIDE, Inventory, IstioObject
from meshdesk.mesh.references import references
from meshdesk.mesh.validation_badges import badge_text, counts, key_of
from meshdesk.mesh.validations import ERROR, WARNING, Check, ObjectKey, Validation, validate, validation_of
from meshdesk.sources.gateway_api import GATEWAY_API_CONFIG
from meshdesk.sources.inventory import ISTIO_RESOURCES, OPTIONAL_ISTIO_RESOURCES
from meshdesk.sources.writes import PENDING_TEXT
from meshdesk.ui.theme import readable

_KEY_ROLE = Qt.ItemDataRole.UserRole + 1
_REFERENCES_SHOWN = 50  # per kind of reference: a namespace-wide policy of a big namespace applies to hundreds
_FILTER_ROLE = Qt.ItemDataRole.UserRole + 2  # what the filter field matches an object by, lower case
# what the inventory's ``hidden`` names each kind's list by (``sources.inventory``, ``sources.gateway_api``)
_LISTED_AS = {kind: (plural,) for kind, _group, plural in (*ISTIO_RESOURCES, *OPTIONAL_ISTIO_RESOURCES)} | {
    kind: (f"{plural}.{group}",) for kind, group, plural in GATEWAY_API_CONFIG}
_SEVERITY_COLOUR = {ERROR: "#c9190b", WARNING: "#b35900"}
_KIND_OF_LIST = {plural: manifest_kind(IstioObject(kind, "", "")) for kind, (plural,) in _LISTED_AS.items()}


def manifest_yaml(obj: IstioObject) -> str:
    shown = obj.to_manifest()
    if obj.status:
        shown["status"] = obj.status  # what its controller reports (Gateway API objects), as kubectl shows it
    try:
        return dump_yaml(shown)  # (a value with a no-break space, copied from here, keeps it)
    except yaml.YAMLError as e:  # a value YAML cannot represent: show what we can, say why
        return f"# cannot show this object as YAML: {e}\n{shown!r}\n"


_NOTHING_SHOWN = "Pick an object on the left to see its YAML and validation findings"


class ConfigView(QWidget):
    objectShown = Signal(object)  # ObjectKey
    _schemasRead = Signal()  # from a thread: the CRD schemas are known now
    editChecked = Signal()  # the edited text was judged (its problem, or its findings, are shown)
    _editValidated = Signal(int, object)  # from the live check's thread: (generation, what it found)
    dialogOpened = Signal(object)  # the ChangeDialog of a Save or a Delete
    # a reference of the object shown was clicked: select that (namespace, name) in the graph
    workloadRequested = Signal(object)
    serviceRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.objects = QListWidget()
        self.objects.setAccessibleName("Istio config objects")
        self.objects.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # with thousands of objects the list is long: as the Lists dock's pages, a filter field over it
        self.filter = QLineEdit()
        self.filter.setAccessibleName("Filter Istio config")
        self.filter.setPlaceholderText("Filter Istio config by name, namespace, kind or findings (KIA1107)…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda _text: self._apply_filter(scroll=True))
        self.filter_note = QLabel()  # when the filter hides every object: why the list is empty
        self.filter_note.setWordWrap(True)
        self.filter_note.setTextFormat(Qt.TextFormat.PlainText)
        self.filter_note.hide()
        # the kinds the cluster would not let meshdesk list, and where: their objects are not in the list
        self.unread_note = QLabel()
        self.unread_note.setObjectName("unreadNote")
        self.unread_note.setWordWrap(True)
        self.unread_note.setTextFormat(Qt.TextFormat.PlainText)
        self.unread_note.setProperty("role", "warning")  # the theme's: the fixed orange read 3.6:1 on the dark one
        self.unread_note.hide()
        self.title = QLabel(_NOTHING_SHOWN)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # a name of 253 characters wraps (rich text breaks a long word anywhere) instead of widening
        # the window
        self.title.setWordWrap(True)
        policy = self.title.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.title.setSizePolicy(policy)
        self.yaml = QPlainTextEdit()
        self.yaml.setAccessibleName("YAML")
        self.yaml.setReadOnly(True)
        self.yaml.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.yaml.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.findings = QTableWidget(0, 4)
        self.findings.setAccessibleName("Validation findings")
        self.findings.setHorizontalHeaderLabels(["Code", "Severity", "Message", "Path"])
        self.findings.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.findings.setTabKeyNavigation(False)  # Tab leaves the table (the arrows walk its cells)
        self.findings.verticalHeader().hide()
        header = self.findings.horizontalHeader()
        for column in (0, 1):  # code and severity are short: the message gets the rest
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # a path ("spec/http[0]/route[0]/destination/host") has no space to wrap at: sized to it up to a
        # share of the table, cut in its middle beyond (whole in its tooltip), so the message keeps room
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.findings.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.findings.setWordWrap(True)
        # a message wraps to the width it is given: its row grows or shrinks with it (the rows were sized
        # once, at a width the dock no longer had, and a long message was cut off with "…"), once the
        # table has its new width
        self._fit_rows = QTimer(self)
        self._fit_rows.setSingleShot(True)
        self._fit_rows.setInterval(0)
        self._fit_rows.timeout.connect(self.findings.resizeRowsToContents)
        header.sectionResized.connect(lambda *_: self._fit_rows.start())
        self.findings.viewport().installEventFilter(self)
        self.edit_button = QPushButton("Edit")
        self.delete_button = QPushButton("Delete…")
        self.save_button = QPushButton("Save…")
        self.cancel_button = QPushButton("Cancel")
        self.edit_button.clicked.connect(self.edit)
        self.delete_button.clicked.connect(self.delete)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.cancel_edit)
        # what is wrong with the edited text (or what saving it leaves out); the edit's state otherwise
        self.edit_note = QLabel()
        self.edit_note.setObjectName("editNote")
        self.edit_note.setWordWrap(True)
        self.edit_note.setTextFormat(Qt.TextFormat.PlainText)
        self.edit_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.edit_note.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.title, 1)
        for b in (self.edit_button, self.delete_button, self.save_button, self.cancel_button):
            bar.addWidget(b)
            b.hide()
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(bar)
        rl.addWidget(self.edit_note)
        # what the object applies to and the objects tied to it (Kiali's references): links select
        # the workload or service in the graph, or show the other object here
        self.references = QLabel()
        self.references.setObjectName("references")
        self.references.setWordWrap(True)
        self.references.setTextFormat(Qt.TextFormat.RichText)
        self.references.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.references.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.references.linkActivated.connect(self._reference_clicked)
        self.references.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # until an object's references are shown
        self._reference_targets: list[tuple[str, Any]] = []  # by link number: ("workload"|"service"|"object", key)
        ref_area = QScrollArea()
        ref_area.setWidgetResizable(True)
        ref_area.setWidget(self.references)
        ref_area.setAccessibleName("References")
        ref_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # one Tab stop, the links: not the pane around them too
        ref_area.setFrameShape(QFrame.Shape.NoFrame)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.findings)
        side.addWidget(ref_area)
        side.setSizes([300, 200])
        inner = QSplitter(Qt.Orientation.Horizontal)
        inner.addWidget(self.yaml)
        inner.addWidget(side)
        inner.setStretchFactor(0, 1)  # YAML and findings alike: a finding's message needs the width
        inner.setStretchFactor(1, 1)
        inner.setSizes([400, 400])
        rl.addWidget(inner, 1)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.filter)
        ll.addWidget(self.filter_note)
        ll.addWidget(self.unread_note)
        ll.addWidget(self.objects, 1)
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(left)
        outer.addWidget(right)
        # a third for the list: "DestinationRule namespace/name  [1 error]" reads whole in a docked view
        outer.setStretchFactor(0, 1)
        outer.setStretchFactor(1, 2)
        outer.setSizes([340, 680])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)
        self.inventory: Inventory | None = None
        self.validations: Mapping[ObjectKey, Validation] = {}
        # the object shown: its key, with its cluster when the inventory holds several clusters'
        self.current: Any = None
        self._several = False  # the inventory is merged from several clusters
        self._missing: ObjectKey | None = None  # the object shown that a refresh no longer had
        self.objects.currentItemChanged.connect(self._picked)
        self.actions: Any = None  # the window's ActionsController: Edit and Delete go through it
        self.editing: IstioObject | None = None  # the object as read when Edit began
        self._edit_writer: Any = None  # the writer of the source the edit began on
        self._held = False  # the edited text is under review in its Save dialog
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(300)
        self._check_timer.timeout.connect(self.check_edit)
        # the live check validates the inventory as the edit would leave it on a thread (3,000 objects
        # took 140-230 ms, a stall at each pause in typing); only the latest text's result is shown
        self._check_generation = 0  # bumped by each check (and by leaving the edit): older results are stale
        self._check_shown: tuple[int, list[Check], list[str]] = (0, [], [])  # (generation, schema checks, notes)
        self._check_lock = threading.Lock()
        self._check_next: tuple[int, Inventory, Any, ObjectKey] | None = None  # waiting for the thread
        self._check_busy = False  # a thread is checking (it takes the next job when done)
        self._check_before: tuple[Inventory, Mapping[ObjectKey, Validation]] | None = None  # (the thread's)
        self._editValidated.connect(self._edit_validated, Qt.ConnectionType.QueuedConnection)
        self.yaml.textChanged.connect(self._text_changed)
        self.yaml.installEventFilter(self)
        self._schemasRead.connect(lambda: self.check_edit() if self.editing is not None else None,
                                  Qt.ConnectionType.QueuedConnection)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """While editing, Tab indents with two spaces: a tab character is no YAML indentation (the
        text would not parse, for a key the user cannot see)."""
        if watched is self.findings.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_rows.start()
        if watched is self.yaml and self.editing is not None and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Tab \
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.yaml.insertPlainText("  ")
            return True
        return super().eventFilter(watched, event)

    def set_data(self, inventory: Inventory | None,
                 validations: Mapping[ObjectKey, Validation] | None = None) -> None:
        self.inventory = inventory
        self._several = inventory is not None and merged(inventory)
        self.validations = validations if validations is not None else (validate(inventory) if inventory else {})
        keep = self.current if self.current is not None else self._missing
        if self.editing is not None:
            keep = self._key(self.editing)  # the object being edited stays, whatever was clicked meanwhile
        scrolled = self.objects.verticalScrollBar().value()  # where the user scrolled the list stays
        self.objects.blockSignals(True)
        self.objects.clear()
        for obj in sorted(inventory.istio if inventory else [], key=lambda o: (o.namespace, o.kind, o.name, o.cluster)):
            cluster = self._cluster(obj)
            e, w = counts(self.validations, [key_of(obj)], cluster=cluster)
            # of several clusters, each one's object of a name is an entry of its own, its cluster said
            said = f" ({cluster})" if cluster else ""
            item = QListWidgetItem(f"{obj.kind} {obj.namespace}/{obj.name}{said}  [{badge_text(e, w)}]")
            item.setToolTip(item.text())  # the whole line when the list is narrower
            item.setData(_KEY_ROLE, self._key(obj))
            # its findings' codes too: filtering by KIA1107 finds the objects with that finding
            found = validation_of(self.validations, key_of(obj), cluster)
            codes = " ".join(dict.fromkeys(c.code for c in found.checks)) if found is not None else ""
            item.setData(_FILTER_ROLE, "\n".join((obj.name, obj.namespace, obj.kind, f"{obj.namespace}/{obj.name}",
                                                  badge_text(e, w), cluster, codes)).lower())
            if e or w:
                item.setForeground(QBrush(readable(_SEVERITY_COLOUR[ERROR if e else WARNING])))
            self.objects.addItem(item)
        self.objects.blockSignals(False)
        self._say_unread(inventory)
        self._apply_filter(scroll=False)
        if self.editing is not None:
            self._select_item(self._key(self.editing))
            self._edit_refreshed()
        elif keep is not None and self._find(keep) is not None:
            self._note("", error=False)  # "Saved ...": the refresh shows it
            self.show_object(keep)
        else:
            self._note("", error=False)
            self._show(None)
            if keep is not None and inventory is not None:
                self.title.setText(self._absent(keep, inventory, shown_before=True))
                self._missing = keep  # said again at the next refresh, and shown if it comes back
        self.objects.doItemsLayout()  # the scroll range of the new items, now rather than later
        self.objects.verticalScrollBar().setValue(scrolled)

    def _say_unread(self, inventory: Inventory | None) -> None:
        """Say which kinds of Istio config the cluster would not let meshdesk list, and where: the list
        lacks their objects (rather than an empty list that reads as "there are none")."""
        where: dict[str, list[str]] = {}
        by_cluster = inventory.hidden_by_cluster() if inventory is not None else []
        for cluster, hidden in by_cluster:  # (of several clusters, each one's named: west's are not east's)
            of = f" of cluster {cluster}" if len(by_cluster) > 1 else ""
            for key in sorted(hidden):
                ns, _, listed_as = key.partition("/")
                kind = _KIND_OF_LIST.get(listed_as)
                if kind is None or ns == OUTSIDE:  # (the list is of the chosen namespaces' objects only)
                    continue
                where.setdefault(kind, []).append(("any namespace" if ns == "*" else ns) + of)
        if not where:
            self.unread_note.hide()
            return
        def plural(kind: str) -> str:  # "AuthorizationPolicies", "Gateways"
            return kind[:-1] + "ies" if kind.endswith("y") and kind[-2:-1] not in "aeiou" else kind + "s"

        listed = "; ".join(f"{plural(kind)} ({', '.join(places)})" for kind, places in sorted(where.items()))
        self.unread_note.setText(f"Not listed: the cluster would not let meshdesk list {listed}. What is there is "
                                 "not shown, and findings about it are not counted.")
        self.unread_note.show()

    def show_object(self, key: Any) -> None:
        """Show the object of ``key`` (kind, namespace, name), or of (kind, namespace, name, cluster) when
        the inventory holds several clusters' (without a cluster: the first of that name)."""
        key = tuple(key)
        if self.editing is not None:
            if not self._is(key, self.editing):  # the edit is not dropped by a click elsewhere
                self._note(f"Save or cancel the edit of {self._what(self.editing)} to see another object.",
                           error=False)
                self._select_item(self._key(self.editing))  # the list marks what the text is of
            return
        obj = self._find(key)
        self._show(obj)
        if obj is None and len(key) >= 3 and self.inventory is not None:
            self.title.setText(self._absent(key, self.inventory, shown_before=False))
        self._select_item(self._key(obj) if obj is not None else key)

    def _select_item(self, key: Any) -> None:
        for i in range(self.objects.count()):
            item = self.objects.item(i)
            if item.data(_KEY_ROLE) == key:
                self.objects.blockSignals(True)
                self.objects.setCurrentItem(item)
                self.objects.blockSignals(False)
                break

    def visible_keys(self) -> list[ObjectKey]:
        """The objects the list shows (those the filter keeps), in its order."""
        return [self.objects.item(i).data(_KEY_ROLE) for i in range(self.objects.count())
                if not self.objects.item(i).isHidden()]

    def _apply_filter(self, scroll: bool) -> None:
        """Hide the objects whose name, namespace, kind and findings do not contain the filter's text
        (any case); say so when that is all of them. ``scroll``: bring the object shown into view (the
        user typed; not at a refresh, which keeps where they scrolled)."""
        wanted = self.filter.text().strip().lower()
        shown = 0
        for i in range(self.objects.count()):
            item = self.objects.item(i)
            hide = bool(wanted) and wanted not in item.data(_FILTER_ROLE)
            if item.isHidden() != hide:
                item.setHidden(hide)
            shown += not hide
        total = self.objects.count()
        if wanted and total and not shown:
            self.filter_note.setText(f"No Istio config matches \u201c{self.filter.text().strip()}\u201d: the filter "
                                     f"hides all {total} object{'s' if total != 1 else ''}. Clear it to see them.")
            self.filter_note.show()
        else:
            self.filter_note.hide()
        current = self.objects.currentItem()
        if scroll and current is not None and not current.isHidden():
            self.objects.scrollToItem(current)

    @staticmethod
    def _absent(key: Any, inventory: Inventory, shown_before: bool) -> str:
        """Why an object asked for is not in the inventory: the one shown when the next refresh no
        longer has it (``shown_before``; rather than the page going blank as if nothing had been
        picked), or one asked for by name (the Envoy dock's DestinationRule of a cluster)."""
        kind, ns, name = key[:3]
        what = f"<b>{html.escape(kind)}</b> {html.escape(f'{ns}/{name}')}"
        if inventory.namespace(ns) is None:
            return f"{what} is not shown: its namespace is no longer chosen" if shown_before else \
                f"{what} was not read: choose its namespace to see it"
        if inventory.unread(ns, _LISTED_AS.get(kind, ())):
            return f"{what} could not be read{' this time' if shown_before else ''}: the cluster did not let " \
                f"its kind be listed in {html.escape(ns)}"
        if shown_before:
            return f"{what} is no longer in the cluster: it was deleted or renamed"
        return f"{what} is not in the cluster as last read: deleted since, or made after the last refresh"

    @property
    def yaml_text(self) -> str:
        return self.yaml.toPlainText()

    def finding_rows(self) -> list[tuple[str, str, str, str]]:
        def cell(r: int, c: int) -> str:
            item = self.findings.item(r, c)
            return item.text() if item is not None else ""

        return [(cell(r, 0), cell(r, 1), cell(r, 2), cell(r, 3)) for r in range(self.findings.rowCount())]

    # -- internals ------------------------------------------------------------------------------
    def _cluster(self, obj: IstioObject) -> str:
        """The object's cluster, when the inventory holds several clusters' ("" otherwise)."""
        return (obj.cluster or self.inventory.cluster) if self._several and self.inventory is not None else ""

    def _key(self, obj: IstioObject) -> Any:
        """What the list knows an object by: its kind, namespace and name, and its cluster when the
        inventory holds several clusters' (the same VirtualService applied to two clusters is two
        objects, each with its own YAML and findings)."""
        cluster = self._cluster(obj)
        return (*key_of(obj), cluster) if cluster else key_of(obj)

    def _is(self, key: Any, obj: IstioObject) -> bool:
        """Whether ``key`` (with or without a cluster) is of ``obj``."""
        key = tuple(key)
        return key[:3] == key_of(obj) and (len(key) < 4 or not self._several or key[3] == self._cluster(obj))

    def _find(self, key: Any) -> IstioObject | None:
        if self.inventory is None:
            return None
        # the selection's config, else the cluster's that shapes its graph (a DestinationRule in istio-system,
        # the Gateway of an ingress gateway outside the selection, which its routes bind)
        inv = self.inventory
        key = tuple(key)
        candidates = (*inv.istio, *inv.outside_config, *inv.outside_gateway_configs)
        if self._several and len(key) == 3:  # no cluster named: the connected (first) cluster's, else any
            home = next((o for o in candidates if self._is((*key, inv.cluster), o)), None)
            if home is not None:
                return home
        return next((o for o in candidates if self._is(key, o)), None)

    def _picked(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if item is not None:
            self.show_object(item.data(_KEY_ROLE))

    def _show(self, obj: IstioObject | None) -> None:
        self.findings.setRowCount(0)
        self._missing = None
        if obj is None:
            self.current = None
            self.title.setText(_NOTHING_SHOWN)
            self.yaml.setPlainText("")
            self._fill_references(None)
            self._update_buttons()
            return
        self.current = self._key(obj)
        cluster = self._cluster(obj)
        validation = validation_of(self.validations, key_of(obj), cluster)
        checks = validation.checks if validation else []
        e, w = counts(self.validations, [key_of(obj)], cluster=cluster)
        # config of a namespace not chosen (read because it shapes the graph) is not validated: "ok"
        # would say it was checked and found sound
        checked = validation is not None or self.inventory is None or \
            any(self._key(o) == self.current for o in self.inventory.istio)
        verdict = badge_text(e, w) if checked else "not checked: its namespace is not among those chosen"
        # (no break marks: copied, they would stay)
        where = html.escape(f"{obj.namespace}/{obj.name}" + (f" in cluster {cluster}" if cluster else ""))
        self.title.setText(f"<b>{html.escape(obj.kind)}</b> {where} \u2014 {verdict}")
        self.yaml.setPlainText(manifest_yaml(obj))
        self._fill_findings(checks)
        self._fill_references(obj)
        self._update_buttons()
        self.objectShown.emit(self.current)

    def _fill_references(self, obj: IstioObject | None) -> None:
        """The object's references as links: the workloads it applies to and how, the services it is
        about or sends to, the objects tied to it (those of namespaces not read are named, not linked),
        and hosts that name nothing known."""
        self._reference_targets = []
        if obj is None or self.inventory is None:
            self.references.setText("")
            # nothing to read nor follow: no Tab stop (the keyboard landed on an empty pane)
            self.references.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            return
        self.references.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # its links, with Tab and Enter
        refs = references(self.inventory, obj)

        def link(kind: str, key: Any, text: str) -> str:
            self._reference_targets.append((kind, key))
            return f"<a href='ref:{len(self._reference_targets) - 1}'>{html.escape(text)}</a>"

        def block(title: str, rows: list[str]) -> str:
            shown = rows[:_REFERENCES_SHOWN]
            more = f"<br><i>and {len(rows) - len(shown)} more</i>" if len(rows) > len(shown) else ""
            return f"<p><b>{html.escape(title)}</b><br>" + "<br>".join(shown) + more + "</p>"

        def where(ns: str, name: str) -> str:
            return name if ns == obj.namespace else f"{ns}/{name}"

        home = self.inventory.cluster
        parts = []
        # each link names its cluster too: of a snapshot of several clusters, the graph's node of that
        # cluster is selected, not both clusters' nodes of the name
        if refs.workloads:
            parts.append(block("Workloads", [
                f"{link('workload', (w.namespace, w.name, w.cluster or home), where(w.namespace, w.name))}: "
                f"{html.escape(how)}" for w, how in refs.workloads]))
        if refs.services:
            parts.append(block("Services", [
                f"{link('service', (s.namespace, s.name, s.cluster or home), where(s.namespace, s.name))}: "
                f"{html.escape(why)}" for s, why in refs.services]))
        if refs.objects:
            rows = []
            for o, why in refs.objects:
                name = f"{o.kind} {where(o.namespace, o.name)}"
                text = link("object", self._key(o), name) if self._find(self._key(o)) is not None \
                    else html.escape(name)
                rows.append(f"{text}: {html.escape(why)}")
            parts.append(block("Related Istio config", rows))
        if refs.hosts:
            parts.append(block("Hosts no Service or ServiceEntry of the read namespaces has",
                               [html.escape(h) for h in refs.hosts]))
        self.references.setText("".join(parts) or "<i>References: none found in the namespaces read</i>")

    def _reference_clicked(self, href: str) -> None:
        try:
            kind, key = self._reference_targets[int(href.partition(":")[2])]
        except (ValueError, IndexError):
            return
        if kind == "object":
            self.show_object(key)
        elif kind == "workload":
            self.workloadRequested.emit(key)
        else:
            self.serviceRequested.emit(key)

    def reference_texts(self) -> list[str]:
        """What the references' links say, in order."""
        return [html.unescape(t) for t in re.findall(r"<a href='ref:\d+'>(.*?)</a>", self.references.text())]

    def click_reference(self, text: str) -> bool:
        """Follow the reference link shown as ``text``, as a click does; False when there is none."""
        for i, t in enumerate(self.reference_texts()):
            if t == text:
                self._reference_clicked(f"ref:{i}")
                return True
        return False

    def _fill_findings(self, checks: list[Any]) -> None:
        self.findings.setRowCount(len(checks))
        for r, check in enumerate(checks):
            for c, text in enumerate((check.code, check.severity, check.message, check.path)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text if c >= 2 else "")
                if c == 1 and check.severity in _SEVERITY_COLOUR:
                    cell.setForeground(QBrush(readable(_SEVERITY_COLOUR[check.severity])))
                self.findings.setItem(r, c, cell)
        header = self.findings.horizontalHeader()
        wanted = max(self.findings.sizeHintForColumn(3), header.sectionSizeFromContents(3).width())
        header.resizeSection(3, min(wanted, max(90, self.findings.viewport().width() * 3 // 10)))
        self.findings.resizeRowsToContents()

    # -- edit and delete ------------------------------------------------------------------------
    def set_actions(self, actions: Any) -> None:
        """The window's ``ActionsController``: its writer, read-only setting, RBAC and dialog. Its RBAC
        answers are asked on its worker threads; the buttons follow them as they come."""
        if self.actions is not None and hasattr(self.actions, "permissionsKnown"):
            try:
                self.actions.permissionsKnown.disconnect(self._on_rights)
            except (RuntimeError, TypeError):
                pass
        self.actions = actions
        if actions is not None and hasattr(actions, "permissionsKnown"):
            actions.permissionsKnown.connect(self._on_rights)
        self._update_buttons()

    def settings_changed(self) -> None:
        """Read-only mode may have changed: Edit and Delete say so now, not at the next refresh."""
        self._update_buttons()

    @staticmethod
    def _what(obj: IstioObject) -> str:
        return f"{manifest_kind(obj)} {obj.namespace}/{obj.name}"

    def write_problem(self, verb: str) -> str | None:
        """Why the object shown cannot be changed with ``verb`` ("update", "delete"); "" when it can.
        Never waits for the cluster (it may be slow or gone: picking an object must not freeze the
        window): an RBAC answer not known yet is asked on a worker thread and None said meanwhile; the
        buttons follow when the answer comes."""
        ctl = self.actions
        obj = self.editing if self.editing is not None else \
            self._find(self.current) if self.current is not None else None
        if ctl is None or obj is None:
            return "Pick an object first" if ctl is not None else "Editing is not available here"
        if ctl.read_only:
            return "Read-only mode is on: nothing is changed in the cluster. Turn it off in Settings to edit " \
                "or delete Istio config."
        if ctl.writer is None:
            return "This source takes no writes (an offline snapshot): its Istio config is shown as it was taken."
        if obj.kind not in RESOURCES:
            return f"meshdesk does not write {manifest_kind(obj)} objects"
        writer = self._writer_for(obj)
        if writer is None:
            # read from a linked context of the mesh that is not open for writes (a snapshot of several clusters)
            return f"This {manifest_kind(obj)} is cluster {obj.cluster}'s, read beside this context's: open that " \
                "cluster's own context to change it"
        problem: str | None = ctl.known_problem([(verb, obj.kind)], obj.namespace, writer)
        return problem

    def _other_cluster(self, obj: IstioObject) -> str:
        """The object's cluster when it is another than the shown context's (read from a linked context)."""
        inv = self.inventory
        several = self._several or (inv is not None and inv.cluster in inv.unread_clusters)  # (its own down)
        return obj.cluster if several and inv is not None and obj.cluster and obj.cluster != inv.cluster else ""

    def _writer_for(self, obj: IstioObject) -> Any:
        """Where ``obj`` is written: the shown context's cluster, or for another cluster's object of the mesh
        that cluster, through its own context (None when it is not open)."""
        if self.actions is None:
            return None
        other = self._other_cluster(obj)
        return self.actions.cluster_writer(other) if other else self.actions.writer

    def _on_rights(self, _namespace: str) -> None:
        if self.edit_note.text().startswith(PENDING_TEXT) and self.editing is None \
                and self.write_problem("update") is not None and self.write_problem("delete") is not None:
            self._note("", error=False)  # the answers came: the buttons say them now
        self._update_buttons()

    def _update_buttons(self) -> None:
        editing = self.editing is not None
        for b in (self.edit_button, self.delete_button):
            b.setVisible(self.actions is not None and not editing)
        for b in (self.save_button, self.cancel_button):
            b.setVisible(editing)
        if self.actions is None or editing:
            return
        for button, verb, text in ((self.edit_button, "update", "Edit this object's YAML, then save it"),
                                   (self.delete_button, "delete", "Delete this object from the cluster")):
            problem = self.write_problem(verb)
            button.setEnabled(problem == "")
            button.setToolTip(f"{PENDING_TEXT} (asking the cluster whether your RBAC role allows it)"
                              if problem is None else problem or text)

    def tell(self, text: str) -> None:
        """Say something beside the object shown (a reference followed that the graph has no node for)."""
        self._note(text, error=False)

    def _note(self, text: str, *, error: bool) -> None:
        self.edit_note.setText(text)
        self.edit_note.setStyleSheet("color: #c9190b" if error else "")
        self.edit_note.setVisible(bool(text))

    def edit(self) -> bool:
        """Make the YAML of the object shown editable (False, and nothing changes, when it may not be)."""
        problem = self.write_problem("update")
        obj = self._find(self.current) if self.current is not None else None
        if problem is None and obj is not None and self.editing is None:
            self._note(f"{PENDING_TEXT} Edit is enabled once the cluster has answered.", error=False)
        if problem is None or problem or obj is None or self.editing is not None:
            self._update_buttons()
            return False
        self.editing = obj
        self._edit_writer = self._writer_for(obj)
        self.yaml.blockSignals(True)
        self.yaml.setPlainText(editable_yaml(obj))
        self.yaml.blockSignals(False)
        self.yaml.setReadOnly(False)
        # the list and its filter stay usable (scrolled, searched); picking another object is refused
        # with a note (show_object), so the edit is not lost
        if self.actions.cached_schemas() is None:  # read on a thread: checked as you type once there
            ctl = self.actions

            def read() -> None:
                try:
                    ctl.schemas()
                except Exception:  # noqa: BLE001 - the review reads them again and says what failed
                    return
                try:
                    self._schemasRead.emit()
                except RuntimeError:  # the view is gone
                    pass

            threading.Thread(target=read, name="config-schemas", daemon=True).start()
        self.title.setText(f"Editing <b>{html.escape(manifest_kind(obj))}</b> "
                           f"{html.escape(f'{obj.namespace}/{obj.name}')}")
        self._note("", error=False)
        self._update_buttons()
        self.yaml.setFocus()
        return True

    def cancel_edit(self) -> None:
        """Leave the edit: the text as read comes back (the object as the last refresh read it)."""
        if self.editing is None:
            return
        key = key_of(self.editing)
        self._check_timer.stop()
        self._check_generation += 1  # a check under way is of an edit no longer there
        self.editing = None
        self._edit_writer = None
        self._held = False
        self.yaml.setReadOnly(True)
        self.save_button.setEnabled(True)
        self.cancel_button.setEnabled(True)
        self._note("", error=False)
        obj = self._find(key)
        self._show(obj)
        if obj is None and self.inventory is not None:
            self.title.setText(self._absent(key, self.inventory, shown_before=True))
        self._update_buttons()

    def _text_changed(self) -> None:
        if self.editing is not None:
            self._check_timer.start()

    def check_edit(self) -> bool:
        """Judge the edited text: its problem under the title at once (False); else (True) the findings
        the edited object would have, and those the edit newly gives other objects (a VirtualService
        routing to a subset the edited DestinationRule no longer has), in the findings table once a
        thread has validated the inventory as the edit would leave it (``editChecked`` then). A check
        started before is dropped when its result comes: only the latest text's findings are shown."""
        self._check_timer.stop()
        if self.editing is None or self._held:  # (held: the text is under review, as judged then)
            return False
        self._check_generation += 1
        try:
            plan = edit_plan(self.editing, self.yaml.toPlainText())
        except EditError as e:
            self._note(str(e), error=True)
            self.editChecked.emit()
            return False
        checks: list[Check] = []
        # what the CRD schema refuses first (once the schemas are read: Edit starts reading them)
        known = self.actions.cached_schemas() if self.actions is not None else None
        if known is not None and plan.objects():
            schemas = known[0]
            manifest = plan.objects()[0].to_manifest()
            if any(kind == manifest["kind"] for kind, _api in schemas.schemas):
                for problem in schemas.validate(manifest):
                    path, _, message = problem.partition(": ")
                    checks.append(Check("schema", ERROR, message or problem, path if message else ""))
        notes = list(plan.notes)
        if plan.empty:
            notes.insert(0, "No change yet.")
        self._check_shown = (self._check_generation, checks, notes)
        if self.inventory is None:
            self._edit_validated(self._check_generation, ([], []))
            return True
        job = (self._check_generation, self.inventory, plan, key_of(self.editing))
        with self._check_lock:
            self._check_next = job  # a job still waiting is stale: replaced
            if self._check_busy:
                return True
            self._check_busy = True
        threading.Thread(target=self._check_thread, name="config-live-check", daemon=True).start()
        return True

    def _check_thread(self) -> None:
        """The live check's thread: validate each job's inventory-after (the latest waiting), emit it."""
        while True:
            with self._check_lock:
                job = self._check_next
                self._check_next = None
                if job is None:
                    self._check_busy = False
                    return
            generation, inventory, plan, key = job
            try:
                # the collector paused (when the app's gcguard has not turned it off already): its
                # passes over a big inventory's objects, holding the interpreter lock, made the UI
                # thread wait up to 100 ms at 3,000 objects, and must not free Qt objects here
                with paused_gc():
                    if self._check_before is None or self._check_before[0] is not inventory:
                        self._check_before = (inventory, validate(inventory))
                    before = self._check_before[1]
                    after = validate(inventory_after(inventory, plan))
                own = list(after[key].checks) if key in after else []
                others: list[tuple[ObjectKey, Check]] = []
                for other, v in sorted(after.items()):
                    if other == key:
                        continue
                    old = {(c.code, c.message, c.path) for c in before[other].checks} if other in before else set()
                    others += [(other, c) for c in v.checks if (c.code, c.message, c.path) not in old]
                result: Any = (own, others)
            except Exception as e:  # noqa: BLE001 - said in the note; the review checks again
                result = e
            try:
                self._editValidated.emit(generation, result)
            except RuntimeError:  # the view is gone
                with self._check_lock:
                    self._check_busy = False
                return

    def _edit_validated(self, generation: int, result: Any) -> None:
        if generation != self._check_generation or self.editing is None or self._check_shown[0] != generation:
            return  # a later text is being checked, or the edit was left: this result is stale
        _gen, checks, notes = self._check_shown
        checks = list(checks)
        if isinstance(result, Exception):
            notes = [*notes, f"The validations could not be run on this text ({result}); the review checks it."]
        else:
            own, others = result
            checks += own
            # findings the edit gives other objects: the message says which
            checks += [Check(c.code, c.severity, f"{kind} {ns}/{name}: {c.message}", c.path)
                       for (kind, ns, name), c in others]
        self._fill_findings(checks)
        if not self._held:  # (held: the note says the text is under review in its Save dialog)
            self._note(" ".join(notes), error=False)
        self.editChecked.emit()

    def _edit_refreshed(self) -> None:
        """A refresh came while editing: the text stays; say so when the cluster's copy changed."""
        assert self.editing is not None
        obj = self.editing
        now = self._find(key_of(obj))
        if self.actions is not None and self._writer_for(obj) is not self._edit_writer:
            self._note(f"The source changed since you began editing (another context?): {self._what(obj)} is not "
                       "of it, and will not be saved. Copy your text if you need it, then Cancel.", error=True)
        elif now is None and self.inventory is not None and self.inventory.namespace(obj.namespace) is None:
            self._note(f"Namespace {obj.namespace} is no longer among those chosen, so the list does not show "
                       f"{self._what(obj)}; you can still save it.", error=False)
        elif now is None and self.inventory is not None and \
                self.inventory.unread(obj.namespace, _LISTED_AS.get(obj.kind, ())):
            self._note(f"{self._what(obj)} could not be read this time: Save reads it again.", error=False)
        elif now is None:
            self._note(f"{self._what(obj)} is no longer in the cluster as last read (deleted since you "
                       "began editing?): saving it will be refused. Copy your text if you need it.", error=True)
        elif now.resource_version and now.resource_version != self.editing.resource_version:
            self._note(f"{self._what(self.editing)} was changed in the cluster since you began editing: saving "
                       "will be refused as a conflict. Cancel to see the new version, or Save and reload "
                       "there to review your text against it.", error=True)

    def save(self) -> Any:
        """Review the edited text in the change dialog (it opens at its review); None, with the reason
        under the title, when the text cannot be saved (nothing is sent)."""
        if self.editing is None or self.actions is None:
            return None
        if self._writer_for(self.editing) is not self._edit_writer:
            self._note("The source changed since you began editing (another context?): this object is not of "
                       "it. Copy your text if you need it, then Cancel.", error=True)
            return None
        # not known (the answer of when editing began has expired, and is asked again): the review's
        # server-side dry run is RBAC's own answer, so the text goes to it rather than waiting here
        problem = self.write_problem("update")
        if problem:
            self._note(problem, error=True)
            return None
        text = self.yaml.toPlainText()
        try:
            plan = edit_plan(self.editing, text)
        except EditError as e:
            self._note(str(e), error=True)
            return None
        if plan.empty:
            self._note("Nothing to save: the text says what the object had when you began editing.", error=False)
            return None
        return self._open(self.editing, text, delete=False)

    def delete(self) -> Any:
        """Review deleting the object shown in the change dialog; None when it may not be."""
        problem = self.write_problem("delete")
        obj = self._find(self.current) if self.current is not None else None
        if problem is None and obj is not None and self.editing is None:
            self._note(f"{PENDING_TEXT} Delete is enabled once the cluster has answered.", error=False)
        if problem is None or problem or obj is None or self.editing is not None:
            self._update_buttons()
            return None
        return self._open(obj, "", delete=True)

    def _open(self, obj: IstioObject, text: str, *, delete: bool) -> Any:
        from meshdesk.ui.actions import ActionSpec
        from meshdesk.ui.dialogs.config_edit import ConfigEditForm

        assert self.inventory is not None
        inv = self.inventory
        spec = ActionSpec("delete-config" if delete else "edit-config", "", obj.namespace,
                          [("delete" if delete else "update", obj.kind)],
                          lambda opened: ConfigEditForm(obj, opened, text, delete=delete))
        other = self._other_cluster(obj)
        if other:  # another cluster's of the mesh: reviewed against, and written to, that cluster
            spec.writer, spec.cluster = self._writer_for(obj), other
            inv = inventory_part(inv, {other})(other) or inv
        dialog = self.actions.open(spec, inv)
        if not delete:
            key = key_of(obj)
            dialog.applied.connect(lambda _summary: self._saved(key, dialog.plan))
            # the text under review is what Confirm writes: typing on meanwhile would be lost by it
            self._hold(True)
            dialog.finished.connect(lambda _result: self._hold(False))
        self.dialogOpened.emit(dialog)
        dialog.review()
        return dialog

    def _hold(self, held: bool) -> None:
        """While its Save dialog is open the edited text is locked (and so are Save and Cancel)."""
        self._held = held and self.editing is not None
        if self.editing is None:
            return
        self.yaml.setReadOnly(held)
        self.save_button.setEnabled(not held)
        self.cancel_button.setEnabled(not held)
        self._note("The text is under review in the Save dialog: close it to edit on." if held else "",
                   error=False)

    def _saved(self, key: ObjectKey, plan: Any) -> None:
        """The edit was applied: leave editing, showing what was saved (not the copy read before it,
        which would look as if the save was lost) until the refresh that follows shows the cluster's."""
        if self.editing is None or key_of(self.editing) != key:
            return
        self.cancel_edit()
        saved = next((o for o in plan.objects() if key_of(o) == key), None) if plan is not None else None
        if saved is not None and self.current == key:
            self.yaml.setPlainText(manifest_yaml(saved))
        self._note("Saved. The object as the cluster now has it shows at the next refresh.", error=False)
