"""Kiali's checks of where config is exported to, and of WorkloadGroups.

* KIA0005 (error): an ``exportTo`` entry of a VirtualService, DestinationRule or ServiceEntry names a
  namespace that does not exist (or the user may not see). ``.`` (its own namespace) and ``*`` (every
  namespace) are Istio's words, and so is ``~`` (no namespace, which Istio accepts and Kiali calls a
  missing namespace). Judged against the cluster's namespaces when they could be listed, else only
  the chosen namespaces are known to exist and nothing is called missing. As in Kiali, config in an
  ambient namespace is not judged (ambient proxies do not read ``exportTo`` the same way).
* KIA1701 (warning, the group is not valid): a WorkloadGroup's ``template.serviceAccount`` is no
  service account of its namespace: none of its pods runs as it. A WorkloadEntry of the namespace
  naming it counts too (a VM registered from the group runs as it, with no pod to show it); Kiali
  counts pods only. Not judged when the namespace's pods, or their accounts, could not be read.
* KIA1702 (warning, not valid): two WorkloadGroups of one namespace give their workloads the same
  labels (``metadata.labels``, compared whole), so nothing tells their workloads apart. As in Kiali, a
  group without ``metadata`` is compared with none.

Every check reads the objects defensively and never raises on an unexpected shape.
"""

from __future__ import annotations

from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.readers import as_dict as _dict
from meshdesk.mesh.readers import as_list as _list
from meshdesk.mesh.readers import as_str as _str
from meshdesk.mesh.validations import ERROR, WARNING, Check, ObjectKey

EXPORTED_KINDS = ("VirtualService", "DestinationRule", "ServiceEntry")
_ISTIO_WORDS = frozenset({".", "*", "~"})
_NAMED = 3  # other groups a finding names before "and N more"


def export_and_group_checks(inv: Inventory, accounts: dict[str, set[str] | None]) -> dict[ObjectKey, list[Check]]:
    """The findings, by object key. ``accounts``: per namespace, the service accounts its pods run as
    (None: not known), as ``validations`` reads them for AuthorizationPolicies."""
    out: dict[ObjectKey, list[Check]] = {}
    selected = {n.name for n in inv.namespaces}
    cluster = None if inv.cluster_namespaces is None else set(inv.cluster_namespaces)
    ambient = {n.name for n in inv.namespaces if n.ambient}
    for obj in inv.istio:
        found: list[Check] = []
        if obj.kind in EXPORTED_KINDS and obj.namespace not in ambient:
            found = _export_to(obj, selected, cluster)
        elif obj.kind == "WorkloadGroup":
            found = _group_account(obj, inv, accounts)
        if found:
            out.setdefault((obj.kind, obj.namespace, obj.name), []).extend(found)
    for key, found in _same_labels(inv.istio_objects("WorkloadGroup")).items():
        out.setdefault(key, []).extend(found)
    return out


def _export_to(obj: IstioObject, selected: set[str], cluster: set[str] | None) -> list[Check]:
    found = []
    for i, entry in enumerate(_list(_dict(obj.spec).get("exportTo"))):
        if not isinstance(entry, str) or entry in _ISTIO_WORDS:
            continue
        exists = True if entry in selected else (None if cluster is None else entry in cluster)
        if exists is False:
            found.append(Check("KIA0005", ERROR, f"exported to namespace {entry!r}, which does not exist "
                               "(or you may not see it)", f"spec/exportTo[{i}]"))
    return found


def _group_account(group: IstioObject, inv: Inventory, accounts: dict[str, set[str] | None]) -> list[Check]:
    account = _str(_dict(_dict(group.spec).get("template")).get("serviceAccount"))
    if not account:
        return []
    ns = group.namespace
    if ns not in {n.name for n in inv.namespaces} or "*" in accounts or inv.unread(ns, ["pods"]):
        return []
    known = accounts.get(ns, set())
    if known is None:
        return []
    entries = {_str(_dict(e.spec).get("serviceAccount")) for e in inv.istio_objects("WorkloadEntry", ns)}
    if account in known or account in entries:
        return []
    return [Check("KIA1701", WARNING, f"no workload of namespace {ns} runs as service account {account!r}",
                  "spec/template/serviceAccount", invalidates=True)]


def _same_labels(groups: list[IstioObject]) -> dict[ObjectKey, list[Check]]:
    by_labels: dict[tuple[str, frozenset[tuple[str, str]]], list[IstioObject]] = {}
    for g in groups:
        meta = _dict(g.spec).get("metadata")
        if not isinstance(meta, dict):
            continue
        labels = frozenset((str(k), str(v)) for k, v in _dict(meta.get("labels")).items())
        by_labels.setdefault((g.namespace, labels), []).append(g)
    out: dict[ObjectKey, list[Check]] = {}
    for same in by_labels.values():
        if len(same) < 2:
            continue
        for g in same:
            others = sorted(o.name for o in same if o is not g)
            shown = ", ".join(others[:_NAMED]) + (f" and {len(others) - _NAMED} more" if len(others) > _NAMED else "")
            out.setdefault((g.kind, g.namespace, g.name), []).append(Check(
                "KIA1702", WARNING, f"WorkloadGroup {shown} of this namespace gives its workloads the same labels",
                "spec/metadata/labels", invalidates=True))
    return out
