"""Kiali's mTLS-consistency checks between DestinationRules and PeerAuthentications.

A PeerAuthentication says what a workload accepts (STRICT: mTLS only; PERMISSIVE: both; DISABLE:
plain text only); a DestinationRule's ``trafficPolicy.tls.mode`` says what its clients send. Istio's
way of turning mTLS on or off for a whole namespace or mesh pairs the two: a PeerAuthentication
without a selector (in the namespace, or in the root namespace for the mesh) and a DestinationRule for
``*.<namespace>.svc.cluster.local`` (or ``*.local`` for the mesh). When the two disagree, requests fail:

- KIA0207 / KIA0208: a namespace- or mesh-wide DestinationRule turns mTLS off (DISABLE) where a
  STRICT PeerAuthentication (of the namespace / of the mesh) refuses plain text;
- KIA0505 / KIA0506: a namespace- or mesh-wide PeerAuthentication turns mTLS off (DISABLE) while a
  DestinationRule makes clients send mTLS there (ISTIO_MUTUAL or MUTUAL);
- KIA0205 / KIA0206 and KIA0401 / KIA0501: one side turns mTLS on and the other side is missing.
  With Istio's automatic mTLS (``enableAutoMtls``, on unless the mesh config turns it off) the client
  side needs no DestinationRule and these never apply, as in Kiali;
- KIA0204: a DestinationRule without TLS settings for a host that a namespace- or mesh-wide rule
  (or another rule for the same host) puts under ISTIO_MUTUAL: Istio applies the most specific rule
  only, so for that host the rule's mode (none) replaces the wide one: its clients fall back to
  automatic mTLS (sent to workloads with a sidecar only), or without it send plain text.

As in Kiali, only the namespace- and mesh-wide objects count: a PeerAuthentication with a selector
(one workload's) and DestinationRules for other hosts do not. Where part of the picture could not be
read (cluster-wide lists forbidden), the "missing" checks are not made: absence would be a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from meshdesk.mesh.import_scope import ImportScope, parse_host
from meshdesk.mesh.inventory import OUTSIDE, Inventory, IstioObject
from meshdesk.mesh.mtls_common import (
    Exports,
    has_tls_settings,
    is_wide,
    namespace_rule_suffixes,
    peer_mode,
    tls_mode,
)
from meshdesk.mesh.readers import as_dict as _dict
from meshdesk.mesh.validations import CLUSTER_DOMAIN, ERROR, WARNING, Check, ObjectKey, fqdn, host_matches

MESH_HOST = "*.local"  # Istio's host for a mesh-wide DestinationRule
_DR = "DestinationRule"
_PA = "PeerAuthentication"
_TLS_PATH = "spec/trafficPolicy/tls/mode"
_MTLS_PATH = "spec/mtls"


def namespace_host(namespace: str) -> str:
    """The host of a DestinationRule for every service of ``namespace``."""
    return f"*.{namespace}.{CLUSTER_DOMAIN}"


def _host(dr: IstioObject) -> str:
    host = _dict(dr.spec).get("host")
    return host.strip().lower() if isinstance(host, str) else ""


def _accepts_mtls(pa: IstioObject) -> bool:
    return peer_mode(pa) in ("STRICT", "PERMISSIVE")


def _oldest_first(objects: Iterable[IstioObject]) -> list[IstioObject]:
    """The order Istio weighs rival policies in: the oldest first (by name when the age is unknown)."""
    return sorted(objects, key=lambda o: (o.created or "~", o.name))


def _names(objects: Iterable[IstioObject]) -> str:
    return ", ".join(sorted({f"{o.namespace}/{o.name}" for o in objects}))


class _MtlsConfig:
    """The namespace- and mesh-wide mTLS objects of the cluster, indexed once for all checks."""

    def __init__(self, inv: Inventory, root_namespace: str) -> None:
        self.root = root_namespace
        self.mesh_rules: list[IstioObject] = []  # host *.local
        self.namespace_rules: dict[str, list[IstioObject]] = {}  # namespace -> rules for *.<ns>.svc.cluster.local
        self.mutual_by_host: dict[str, list[IstioObject]] = {}  # FQDN -> ISTIO_MUTUAL rules for it
        # *.<ns>.svc.cluster.local, and *.<ns>.svc.<trust domain> as Kiali names a namespace's rule
        self.suffixes = namespace_rule_suffixes(inv)
        for dr in inv.mesh_config(_DR):  # those of the whole cluster, as far as they were read
            host = _host(dr)
            if host == MESH_HOST:
                self.mesh_rules.append(dr)
            elif host.startswith("*.") and (ns := self._namespace_of(host)):
                self.namespace_rules.setdefault(ns, []).append(dr)
            if tls_mode(dr) == "ISTIO_MUTUAL" and host:
                self.mutual_by_host.setdefault(fqdn(host, dr.namespace), []).append(dr)
        # the selector-less PeerAuthentications per namespace, oldest first; the root namespace's are the mesh's
        wide: dict[str, list[IstioObject]] = {}
        for pa in inv.mesh_config(_PA):
            if is_wide(pa):
                wide.setdefault(pa.namespace, []).append(pa)
        self.wide_policies = {ns: _oldest_first(pas) for ns, pas in wide.items()}
        self.mesh_policies = self.wide_policies.get(root_namespace, [])
        # absence can be judged only where the lists were read whole
        self.rules_known = "*/destinationrules" not in inv.hidden and f"{OUTSIDE}/destinationrules" not in inv.hidden
        self._inv = inv
        self._exports = Exports(inv)
        self._exported: dict[tuple[str, int], bool | None] = {}

    def _namespace_of(self, host: str) -> str:
        """The namespace a ``*.<ns>.<suffix>`` host is the wide rule of, or ""."""
        for suffix in self.suffixes:
            if host.endswith(suffix) and (ns := host[2:-len(suffix)]) and "." not in ns:
                return ns
        return ""

    def is_namespace_host(self, host: str, ns: str) -> bool:
        """Whether ``host`` names every service of ``ns``."""
        return host.startswith("*.") and self._namespace_of(host) == ns

    def exported(self, dr: IstioObject, ns: str) -> bool | None:
        """Whether ``dr`` applies in ``ns`` (its ``exportTo``): None when that cannot be told."""
        key = (ns, id(dr))
        if key not in self._exported:
            self._exported[key] = self._exports.exported(dr, ns)
        return self._exported[key]

    def surely(self, rules: Iterable[IstioObject], ns: str) -> list[IstioObject]:
        """Those of ``rules`` that surely apply in ``ns``."""
        return [r for r in rules if self.exported(r, ns) is True]

    def maybe(self, rules: Iterable[IstioObject], ns: str) -> list[IstioObject]:
        """Those of ``rules`` that may apply in ``ns``."""
        return [r for r in rules if self.exported(r, ns) is not False]

    def policies_known(self, *namespaces: str) -> bool:
        """Whether the PeerAuthentications of the root namespace and ``namespaces`` were all read."""
        return not any(self._inv.unread(ns, ("peerauthentications",)) for ns in (self.root, *namespaces))

    def mesh_strict(self) -> list[IstioObject]:
        """The mesh-wide policy that decides, when it is STRICT (the oldest decides, as in Istio)."""
        return self.mesh_policies[:1] if self.mesh_policies and peer_mode(self.mesh_policies[0]) == "STRICT" else []


def _check_rule(dr: IstioObject, cfg: _MtlsConfig, auto_mtls: bool) -> list[Check]:
    """KIA0205-KIA0208: a namespace- or mesh-wide DestinationRule against the PeerAuthentications."""
    host, mode, ns = _host(dr), tls_mode(dr), dr.namespace
    checks: list[Check] = []
    if host == MESH_HOST:
        if mode == "DISABLE" and (strict := cfg.mesh_strict()):
            checks.append(Check("KIA0208", ERROR, "turns mTLS off for the whole mesh, but the mesh-wide "
                                f"PeerAuthentication {_names(strict)} is STRICT: workloads refuse the plain "
                                "text its clients send (the PeerAuthentication must be PERMISSIVE)", _TLS_PATH))
        elif mode == "ISTIO_MUTUAL" and not auto_mtls and cfg.policies_known() \
                and not any(_accepts_mtls(pa) for pa in cfg.mesh_policies):
            checks.append(Check("KIA0205", ERROR, "turns mTLS on for the whole mesh, but no mesh-wide "
                                f"PeerAuthentication (in {cfg.root}, without a selector) accepts mTLS "
                                "(STRICT or PERMISSIVE)", _TLS_PATH))
    elif cfg.is_namespace_host(host, ns):
        local = cfg.wide_policies.get(ns, [])
        if mode == "DISABLE":
            # the namespace's oldest policy decides, as Istio applies the oldest (Kiali: any STRICT one):
            # STRICT refuses plain text, DISABLE and PERMISSIVE take it, UNSET (or none) leaves it to the mesh
            deciding = peer_mode(local[0]) if local else ""
            if deciding == "STRICT":
                checks.append(Check("KIA0207", ERROR, f"turns mTLS off for namespace {ns}, but its "
                                    f"PeerAuthentication {local[0].name} is STRICT: its workloads refuse "
                                    "plain text (the PeerAuthentication must be PERMISSIVE)", _TLS_PATH))
            elif deciding in ("", "UNSET") and (strict := cfg.mesh_strict()):
                checks.append(Check("KIA0208", ERROR, f"turns mTLS off for namespace {ns}, but the mesh-wide "
                                    f"PeerAuthentication {_names(strict)} is STRICT and no policy of the namespace "
                                    "says otherwise: its workloads refuse plain text (one must be PERMISSIVE)",
                                    _TLS_PATH))
        elif mode == "ISTIO_MUTUAL" and not auto_mtls and cfg.policies_known(ns) \
                and not any(_accepts_mtls(pa) for pa in (*local, *cfg.mesh_policies)):
            checks.append(Check("KIA0206", ERROR, f"turns mTLS on for namespace {ns}, but no PeerAuthentication "
                                "of the namespace or the mesh (without a selector) accepts mTLS (STRICT or "
                                "PERMISSIVE)", _TLS_PATH))
    return checks


def _covering_rules(dr: IstioObject, cfg: _MtlsConfig, namespaces: set[str]) -> list[IstioObject]:
    """The other DestinationRules that put ``dr``'s host under ISTIO_MUTUAL: the mesh-wide and its
    namespace's namespace-wide rules, and rules for the same host, of those surely exported to ``dr``'s
    namespace."""
    raw = _host(dr)
    if not raw:
        return []
    host = parse_host(raw, dr.namespace, namespaces)
    full = fqdn(raw, dr.namespace)
    found = [r for r in cfg.mesh_rules if host_matches(MESH_HOST, full)]
    if host.complete:
        found += cfg.namespace_rules.get(host.namespace, [])
    found += cfg.mutual_by_host.get(full, [])
    # only those Istio shows the rule's namespace (their exportTo; Kiali: those exported to the
    # namespace it validates), and only where that is sure
    unique = {id(r): r for r in cfg.surely(found, dr.namespace)
              if r is not dr and tls_mode(r) == "ISTIO_MUTUAL"}
    return list(unique.values())


def _check_override(dr: IstioObject, cfg: _MtlsConfig, namespaces: set[str],
                    scope: ImportScope | None, imported: dict[tuple[str, int], bool], auto_mtls: bool) -> list[Check]:
    """KIA0204, judged (as Kiali) among the rules the namespace's Sidecar imports (``imported``: what
    each namespace's scope was found to import of the wide rules, which every rule asks after)."""
    if has_tls_settings(dr):
        return []
    covering = _covering_rules(dr, cfg, namespaces)
    if not covering or (scope is not None and not scope.imports_any(dr)):
        return []
    if scope is not None:
        for r in covering:
            if (dr.namespace, id(r)) not in imported:
                imported[(dr.namespace, id(r))] = scope.imports_any(r)
        covering = [r for r in covering if imported[(dr.namespace, id(r))]]
    if not covering:
        return []
    then = "its clients fall back to automatic mTLS, which reaches workloads with a sidecar only" if auto_mtls \
        else "its clients send plain text"
    return [Check("KIA0204", WARNING, f"sets no TLS mode, and for {_dict(dr.spec).get('host')} its mode replaces "
                  f"the ISTIO_MUTUAL mode of {_names(covering)} (Istio applies the most specific DestinationRule "
                  f"alone): {then} (set trafficPolicy.tls.mode ISTIO_MUTUAL to keep the wide mode)",
                  "spec/trafficPolicy")]


def _check_policy(pa: IstioObject, cfg: _MtlsConfig, auto_mtls: bool) -> list[Check]:
    """KIA0401, KIA0501, KIA0505, KIA0506: a namespace- or mesh-wide PeerAuthentication against the
    DestinationRules its clients follow."""
    if not is_wide(pa):
        return []
    mode = peer_mode(pa)
    mutual = ("ISTIO_MUTUAL", "MUTUAL")
    # the rules the policy's namespace's clients follow: those exported there (Kiali: those exported to
    # the namespace it validates); accused only with rules that surely are, absolved by any that may be
    ns = pa.namespace
    mesh_sending = [r for r in cfg.surely(cfg.mesh_rules, ns) if tls_mode(r) in mutual]
    mesh_maybe = cfg.maybe(cfg.mesh_rules, ns)
    if pa.namespace == cfg.root:
        if mode == "DISABLE" and mesh_sending:
            return [Check("KIA0506", ERROR, "turns mTLS off for the whole mesh, but DestinationRule "
                          f"{_names(mesh_sending)} for *.local makes clients send mTLS: workloads refuse it "
                          "(turn it off there too: tls mode DISABLE)", _MTLS_PATH)]
        if mode == "STRICT" and not auto_mtls and cfg.rules_known \
                and not any(tls_mode(r) == "ISTIO_MUTUAL" for r in mesh_maybe):
            return [Check("KIA0401", ERROR, "STRICT mTLS for the whole mesh, but no DestinationRule for *.local "
                          "sets tls mode ISTIO_MUTUAL: without automatic mTLS clients send plain text, which "
                          "is refused", _MTLS_PATH)]
        return []
    local = cfg.maybe(cfg.namespace_rules.get(ns, []), ns)
    if mode == "DISABLE":
        sending = [r for r in cfg.surely(local, ns) if tls_mode(r) in mutual]
        if not sending and not any(tls_mode(r) == "DISABLE" for r in local):
            sending = mesh_sending  # no rule of the namespace's own: the mesh's applies
        if sending:
            return [Check("KIA0505", ERROR, f"turns mTLS off for namespace {pa.namespace}, but DestinationRule "
                          f"{_names(sending)} makes clients send mTLS there: its workloads refuse it (add a "
                          f"DestinationRule for {namespace_host(pa.namespace)} with tls mode DISABLE)",
                          _MTLS_PATH)]
    elif mode == "STRICT" and not auto_mtls and cfg.rules_known \
            and not any(tls_mode(r) == "ISTIO_MUTUAL" for r in (*local, *mesh_maybe)):
        return [Check("KIA0501", ERROR, f"STRICT mTLS for namespace {pa.namespace}, but no DestinationRule for "
                      f"{namespace_host(pa.namespace)} or *.local sets tls mode ISTIO_MUTUAL: without automatic "
                      "mTLS clients send plain text, which is refused", _MTLS_PATH)]
    return []


def mtls_checks(inv: Inventory, *, root_namespace: str, namespaces: set[str], auto_mtls: bool | None = True,
                scopes: Mapping[str, ImportScope] | None = None) -> dict[ObjectKey, list[Check]]:
    """The mTLS-consistency findings on the inventory's own DestinationRules and PeerAuthentications
    (``namespaces``: those known, to read hosts with; ``scopes``: per namespace, the hosts its Sidecar
    imports). ``auto_mtls``: Istio's automatic mTLS is on (the mesh config's ``enableAutoMtls``); None:
    as each object's namespace's own istiod revision's mesh config says. Linear in the objects."""
    cfg = _MtlsConfig(inv, root_namespace)
    imported: dict[tuple[str, int], bool] = {}
    out: dict[ObjectKey, list[Check]] = {}
    for obj in inv.istio:
        auto = auto_mtls if auto_mtls is not None else inv.settings_for(obj.namespace).auto_mtls
        try:
            if obj.kind == _DR:
                found = _check_rule(obj, cfg, auto) + \
                    _check_override(obj, cfg, namespaces, (scopes or {}).get(obj.namespace), imported, auto)
            elif obj.kind == _PA:
                found = _check_policy(obj, cfg, auto)
            else:
                continue
        except (AttributeError, TypeError, ValueError) as e:  # an object shaped like nothing we know
            found = [Check("MDK0001", WARNING, f"its mTLS could not be fully validated: {e}")]
        if found:
            out[(obj.kind, obj.namespace, obj.name)] = found
    return out
