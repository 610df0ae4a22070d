"""The forms behind the Istio config dock's Save and Delete: they hand ``ChangeDialog`` the plan (the
YAML was edited in the dock), so an edit or a delete gets the same review (YAML, diff against the cluster
now, schema and validation checks, the server's dry run), Confirm and conflict handling as the traffic
actions."""

from __future__ import annotations

import copy

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from meshdesk.mesh.changes import ChangePlan
from meshdesk.mesh.config_edit import delete_plan, edit_plan, manifest_kind
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.routing import RoutingError
from meshdesk.mesh.validation_badges import key_of
from meshdesk.ui.dialogs.forms import ActionForm


def find_object(inv: Inventory, key: tuple[str, str, str]) -> IstioObject | None:
    """The object ``key`` names in ``inv``: the selection's config, else the cluster's around it."""
    return next((o for o in (*inv.istio, *inv.outside_config) if key_of(o) == key), None)


class ConfigEditForm(ActionForm):
    """Save ``text`` over ``before`` (the object as read when the edit began); ``delete``: delete it.
    Against the inventory the dialog was opened with, the plan is made from ``before``; after "Reload
    and review again", from the object as the cluster has it now, and the plan says it changed."""

    def __init__(self, before: IstioObject, inventory: Inventory, text: str = "", *, delete: bool = False,
                 gone_hint: str = "Copy your text if you need it, then Cancel.", parent: QWidget | None = None) -> None:
        """``gone_hint``: what to do when the object was deleted since (the YAML editor's text can be copied)."""
        super().__init__(parent)
        self.gone_hint = gone_hint
        self.before = copy.deepcopy(before)
        self.opened = inventory
        self.text = text
        self.delete = delete
        self.key = key_of(before)
        what = f"{manifest_kind(before)} {before.namespace}/{before.name}"
        self.title = f"Delete {what}" if delete else f"Save {what}"
        self.subject = ""
        self.help_text = ("Deletes the object from the cluster, once you confirm on the next page."
                          if delete else "Replaces the object with the YAML you edited, once you confirm on the "
                          "next page.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if delete:
            layout.addWidget(QLabel(f"{what} will be deleted."))
            layout.addStretch(1)
        else:
            shown = QPlainTextEdit(text)
            shown.setReadOnly(True)
            shown.setObjectName("editedYaml")
            shown.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            shown.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            layout.addWidget(shown, 1)

    def plan(self, inv: Inventory) -> ChangePlan:
        current = self.before
        if inv is not self.opened:  # read again after a conflict: against what the cluster has now
            found = find_object(inv, self.key)
            what = f"{manifest_kind(self.before)} {self.before.namespace}/{self.before.name}"
            if found is None:
                raise RoutingError(f"{what} is no longer in the cluster: it was deleted since you began. "
                                   + ("Nothing to delete." if self.delete else self.gone_hint))
            current = found
        out = delete_plan(current) if self.delete else edit_plan(current, self.text)
        if current is not self.before and current.resource_version != self.before.resource_version:
            out.notes.append("The cluster's copy changed since you began: the Diff shows what this "
                             + ("deletes now." if self.delete else "saving changes in it now, undoing what was "
                                "changed meanwhile where your text says otherwise."))
        return out
