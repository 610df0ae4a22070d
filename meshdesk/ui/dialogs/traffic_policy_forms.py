"""The forms of Kiali's namespace actions "Create Traffic Policies" and "Delete Traffic Policies": what the
traffic graph asks for (``meshdesk.mesh.traffic_policies``), listed for the user before the review shows it as
YAML; the dry run and apply are the change dialog's, as for every action."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QLabel, QListWidget, QVBoxLayout, QWidget

from meshdesk.mesh.changes import ChangePlan
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.traffic_policies import (
    TrafficPolicies,
    compute,
    delete_traffic_policies_plan,
    made_objects,
    traffic_policies_plan,
)
from meshdesk.mesh.words import counted
from meshdesk.ui.dialogs.forms import ActionForm, FittingScrollArea, _wrapped


def _line(obj: IstioObject) -> str:
    """One object as the user reads it in the list: what it lets in or out."""
    spec = obj.spec if isinstance(obj.spec, dict) else {}
    if obj.kind == "AuthorizationPolicy" and not spec:
        return f"AuthorizationPolicy {obj.name}: denies every request no ALLOW policy allows"
    if obj.kind == "AuthorizationPolicy":
        principals = [p for r in spec.get("rules") or () for f in r.get("from") or ()
                      for p in (f.get("source") or {}).get("principals") or ()]
        return f"AuthorizationPolicy {obj.name}: allows {', '.join(principals)}"
    hosts = [h for e in spec.get("egress") or () for h in e.get("hosts") or ()]
    return f"Sidecar {obj.name}: reaches {', '.join(hosts)}"


class TrafficPoliciesForm(ActionForm):
    help_text = ("As Kiali's Create Traffic Policies: a deny-all for the namespace, an ALLOW policy for each of its "
                 "workloads that receives requests, naming the service accounts of the workloads the graph shows "
                 "calling it, and a Sidecar for each workload that limits where it may send requests to what it "
                 "calls. What the graph does not show (traffic older than its time range, a caller yet to come) "
                 "will be denied.")

    def __init__(self, inv: Inventory, namespace: str, graph: Any, parent: QWidget | None = None,
                 mesh: Inventory | None = None) -> None:
        """``mesh``: the inventory of every cluster of the mesh read, ``inv`` one cluster's part of it (a
        caller running in another cluster is read from its own cluster's part)."""
        super().__init__(parent)
        self.namespace, self.graph, self.mesh = namespace, graph, mesh
        made = bool(made_objects(inv, namespace))
        self.title = "Update traffic policies" if made else "Create traffic policies"
        self.subject = f"namespace {namespace}"
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.objects = QListWidget()
        self.objects.setObjectName("trafficPolicies")
        self.objects.setWordWrap(True)
        layout.addWidget(self.objects, 1)
        self.notes = _wrapped("")
        self.notes.setObjectName("trafficPolicyNotes")
        self.notes_area = FittingScrollArea(self.notes, lines=8)
        layout.addWidget(self.notes_area)
        self.deny_alone = QCheckBox("Create the deny-all alone (every request to the namespace will be denied)")
        layout.addWidget(self.deny_alone)
        self.policies = self._show(inv)

    def _show(self, inv: Inventory) -> TrafficPolicies:
        """Compute the policies from the graph and ``inv`` (read again on a reload) and list them."""
        clusters = {n.cluster for n in self.graph.nodes.values() if n.namespace == self.namespace} \
            if self.graph is not None else set()
        cluster = inv.cluster if inv.cluster in clusters else ""
        policies = compute(self.graph, inv, self.namespace, cluster, mesh=self.mesh)
        allows = sum(1 for o in policies.objects if o.kind == "AuthorizationPolicy" and o.spec)
        if policies.no_traffic:
            said = (f"No workload of {self.namespace} receives requests from the mesh in the graph: the deny-all alone "
                    f"would deny every request to it. Widen the graph's time range, or tick the box below to make "
                    f"it anyway.")
        else:
            said = (f"{counted(len(policies.objects), 'object')} will be written: "
                    f"{counted(allows, 'ALLOW policy', 'ALLOW policies')} for the workloads that receive requests"
                    + (f", {counted(len(policies.objects) - allows - 1, 'Sidecar')}" if not policies.ambient else "")
                    + " and the deny-all, last.")
        if policies.taken:
            said += f" Already there, not made by this action (not overwritten): {', '.join(policies.taken)}."
        self.summary.setText(said)
        self.objects.clear()
        self.objects.addItems([_line(o) for o in policies.objects])
        self.notes.setText("\n".join(policies.notes))
        self.notes_area.setVisible(bool(policies.notes))
        self.deny_alone.setVisible(policies.no_traffic)
        return policies

    def plan(self, inv: Inventory) -> ChangePlan:
        self.policies = self._show(inv)
        return traffic_policies_plan(inv, self.policies, deny_alone=self.deny_alone.isChecked())


class DeleteTrafficPoliciesForm(ActionForm):
    title = "Delete traffic policies"
    help_text = ("Delete what Create traffic policies made in the namespace (its deny-all, ALLOW policies and "
                 "Sidecars, marked meshdesk.io/traffic-policies); other AuthorizationPolicies and Sidecars are kept.")

    def __init__(self, inv: Inventory, namespace: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.namespace = namespace
        self.subject = f"namespace {namespace}"
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        layout.addWidget(self.summary)
        self.objects = QListWidget()
        self.objects.setObjectName("trafficPolicies")
        layout.addWidget(self.objects, 1)
        self._show(inv)

    def _show(self, inv: Inventory) -> None:
        made = made_objects(inv, self.namespace)
        self.summary.setText(f"{counted(len(made), 'object')} will be deleted:" if made else
                             f"Create traffic policies made nothing in {self.namespace}.")
        self.objects.clear()
        self.objects.addItems([f"{o.kind} {o.namespace}/{o.name}" for o in made])

    def plan(self, inv: Inventory) -> ChangePlan:
        self._show(inv)
        return delete_traffic_policies_plan(inv, self.namespace)
