"""What the mTLS checks of ``validations_mtls`` (KIA0204-0208, KIA0401, KIA0501, KIA0505, KIA0506) and
of ``policy_checks`` (KIA0105) share: where a DestinationRule applies (its ``exportTo``, as Kiali
filters the rules of the namespace it validates)."""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.inventory import Inventory, IstioObject


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class Exports:
    """Whether a DestinationRule applies in a namespace, from what the inventory read of namespaces."""

    def __init__(self, inv: Inventory) -> None:
        read = {n.name for n in inv.namespaces}
        self.existing = set(inv.cluster_namespaces or ()) | read
        self.all_known = inv.cluster_namespaces is not None
        # the namespaces whose labels were read (whether they are ambient is known)
        self.labelled = {n for n in read if f"{n}/namespace" not in inv.hidden}
        self.ambient = {n.name for n in inv.namespaces if n.ambient}

    def exported(self, dr: IstioObject, ns: str) -> bool | None:
        """Whether ``dr`` applies in ``ns``, as Kiali filters them (its ``exportTo``; a rule naming a
        namespace that does not exist counts; an ambient namespace's rules stay home); None when
        that cannot be told (whether its namespace is ambient, whether a namespace it names exists)."""
        if dr.namespace == ns:
            ambient: bool | None = ns in self.ambient
        else:
            ambient = (dr.namespace in self.ambient) if dr.namespace in self.labelled else None
        if ambient:
            return dr.namespace == ns
        export = [e for e in _list(_dict(dr.spec).get("exportTo")) if isinstance(e, str)]
        answers: set[bool | None] = {True} if not export else {
            True if e in ("*", ns) or (e == "." and dr.namespace == ns) else False if e in (".", "*")
            else False if e in self.existing else True if self.all_known else None for e in export}
        exported = True if True in answers else None if None in answers else False
        return exported if ambient is False or exported is False else None
