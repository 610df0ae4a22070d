"""What the mTLS checks of ``validations_mtls`` (KIA0204-0208, KIA0401, KIA0501, KIA0505, KIA0506), of
``policy_checks`` (KIA0105) and of ``validations`` (MDK0501) share: where a DestinationRule applies (its
``exportTo``, as Kiali filters the rules of the namespace it validates), and how the mTLS fields of
DestinationRules and PeerAuthentications read, so that no two checks read one object differently."""

from __future__ import annotations

from meshdesk.mesh.import_scope import IDENTITY_DOMAIN
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.readers import as_dict as _dict
from meshdesk.mesh.readers import as_list as _list


class Exports:
    """Whether a DestinationRule applies in a namespace, from what the inventory read of namespaces."""

    def __init__(self, inv: Inventory) -> None:
        read = {n.name for n in inv.namespaces}
        self.existing = set(inv.cluster_namespaces or ()) | read
        self.all_known = inv.cluster_namespaces is not None
        # the namespaces whose labels were read (whether they are ambient is known)
        self.labelled = {n for n in read if f"{n}/namespace" not in inv.hidden}
        self.ambient = {n.name for n in inv.namespaces if n.ambient}
        self.inv = inv

    def exported(self, dr: IstioObject, ns: str) -> bool | None:
        """Whether ``dr`` applies in ``ns``, as Kiali filters them (its ``exportTo``, or the mesh config's
        ``defaultDestinationRuleExportTo`` when it sets none; a rule naming a
        namespace that does not exist counts; an ambient namespace's rules stay home); None when
        that cannot be told (whether its namespace is ambient, whether a namespace it names exists)."""
        if dr.namespace == ns:
            ambient: bool | None = ns in self.ambient
        else:
            ambient = (dr.namespace in self.ambient) if dr.namespace in self.labelled else None
        if ambient:
            return dr.namespace == ns
        # its own, or defaultDestinationRuleExportTo of its namespace's control plane (Kiali: too)
        export = self.inv.settings_for(dr.namespace).export_to(dr)
        answers: set[bool | None] = {True} if not export else {
            True if e in ("*", ns) or (e == "." and dr.namespace == ns) else False if e in (".", "*")
            else False if e in self.existing else True if self.all_known else None for e in export}
        exported = True if True in answers else None if None in answers else False
        return exported if ambient is False or exported is False else None


def namespace_rule_suffixes(inv: Inventory) -> tuple[str, ...]:
    """What follows ``*.<namespace>`` in the host of a DestinationRule for a whole namespace: Istio's
    ``.svc.cluster.local``, and ``.svc.<trust domain>`` as Kiali names it (its identity domain, right
    where the cluster's DNS domain is the trust domain); one suffix unless the trust domain is changed."""
    domains = [inv.mesh_settings.trust_domain, *(s.trust_domain for s in inv.revision_settings.values())]
    return tuple(dict.fromkeys([f".{IDENTITY_DOMAIN}", *(f".svc.{d}" for d in domains if d)]))


def namespace_rule_hosts(inv: Inventory, namespace: str) -> tuple[str, ...]:
    """The hosts of a DestinationRule for every service of ``namespace`` (``namespace_rule_suffixes``)."""
    return tuple(f"*.{namespace}{suffix}" for suffix in namespace_rule_suffixes(inv))


# -- the mTLS fields, read alike by every check ----------------------------------------------------


def tls_mode(dr: IstioObject) -> str:
    """The TLS mode a DestinationRule's traffic policy sets for its clients, upper case: "" when it
    sets no TLS (``tls`` absent, null or not an object: Go reads a nil ``Tls``), DISABLE when its
    ``tls`` names no mode (the field's zero value)."""
    tls = _dict(_dict(dr.spec).get("trafficPolicy")).get("tls")
    if not isinstance(tls, dict):
        return ""
    mode = tls.get("mode")
    return mode.strip().upper() if isinstance(mode, str) and mode.strip() else "DISABLE"


def has_tls_settings(dr: IstioObject) -> bool:
    """TLS settings for the whole host or for one of its ports (Kiali: either keeps the mode)."""
    policy = _dict(_dict(dr.spec).get("trafficPolicy"))
    if isinstance(policy.get("tls"), dict):
        return True
    return any(isinstance(_dict(p).get("tls"), dict) for p in _list(policy.get("portLevelSettings")))


def peer_mode(pa: IstioObject) -> str:
    """A PeerAuthentication's mTLS mode, upper case: STRICT, PERMISSIVE, DISABLE, UNSET (inherits the
    level above; also a ``mtls`` without a mode), or "" when it says nothing of mTLS."""
    mtls = _dict(pa.spec).get("mtls")
    if not isinstance(mtls, dict):
        return ""
    mode = mtls.get("mode")
    return mode.strip().upper() if isinstance(mode, str) and mode.strip() else "UNSET"


def peer_selector(pa: IstioObject) -> dict[str, str]:
    """The workload labels a PeerAuthentication selects by; empty for one of its whole namespace."""
    return {str(k): str(v) for k, v in _dict(_dict(_dict(pa.spec).get("selector")).get("matchLabels")).items()}


def is_wide(pa: IstioObject) -> bool:
    """A PeerAuthentication for its whole namespace (the mesh, in the root namespace): no selector
    labels (``selector: {}`` selects nothing, as in Istio)."""
    return not peer_selector(pa)
