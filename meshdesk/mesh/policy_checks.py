"""Kiali's AuthorizationPolicy checks that need more than the policy's own namespace.

- KIA0101 (warning): a ``from.source.namespaces`` entry that names no namespace of the cluster (an
  exact name, ``prefix*``, ``*suffix`` or ``*``, as Istio matches them). Judged only when the inventory
  knows the cluster's namespaces (``Inventory.cluster_namespaces``): without the right to list them,
  or from a snapshot made before they were kept, nothing is said.
- KIA0105 (error): fields that only mTLS can fill (source principals and namespaces, their ``not``
  forms, and ``when`` conditions on ``source.principal``, ``source.namespace`` or ``connection.sni``)
  in a policy for workloads whose mTLS is not on, as Kiali reckons it from PeerAuthentications (the
  policy's namespace's and the root namespace's) and DestinationRules (``*.local``,
  ``*.<namespace>.svc.cluster.local``, and those of the services a PERMISSIVE workload policy covers).
  One difference: a PeerAuthentication mode UNSET inherits the mode above it, as Istio defines it.

How KIA0105 stays honest: auto mTLS is the mesh config's (on, Istio's default, where it could not be
read; with it off Kiali finds more, never less: see ``mtls_enabled``). What could not be
read (the root namespace's PeerAuthentications when they could not be listed cluster-wide and it is
not chosen, DestinationRules where listing them was forbidden) may be anything, and a policy is only
accused when every value it could have leaves mTLS off. Without the policy's own namespace's PeerAuthentications nothing is said. Where
several objects could decide and Kiali takes the first it meets (an order meshdesk cannot know), every
one of them is taken as possibly first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import product
from typing import Any

from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.mtls_common import (
    Exports,
    is_wide,
    namespace_rule_hosts,
    peer_mode,
    peer_selector,
    tls_mode,
)
from meshdesk.mesh.readers import as_dict as _dict
from meshdesk.mesh.readers import as_list as _list
from meshdesk.mesh.tls_status import (
    DISABLED,
    ENABLED,
    NOT_ENABLED,
    PARTIALLY_ENABLED,
    final_status,
    overall_status,
)
from meshdesk.mesh.validations import CLUSTER_DOMAIN, ERROR, WARNING, Check, ObjectKey

# -- KIA0101 --------------------------------------------------------------------------------------


def namespace_pattern_matches(pattern: str, namespaces: Iterable[str]) -> bool:
    """Whether a source ``namespaces`` entry matches one of ``namespaces``: exactly, ``prefix*``,
    ``*suffix``, or ``*`` (any namespace at all)."""
    names = list(namespaces)
    if pattern == "*":
        return bool(names)
    if pattern in names:
        return True
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return bool(prefix) and any(n.startswith(prefix) for n in names)
    if pattern.startswith("*"):
        suffix = pattern[1:]
        return bool(suffix) and any(n.endswith(suffix) for n in names)
    return False


class ClusterNamespaces:
    """The cluster's namespace names, with each pattern's answer kept (policies repeat them)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        self._patterns: dict[str, bool] = {}

    def matched(self, pattern: str) -> bool:
        if pattern in self.names:
            return True
        found = self._patterns.get(pattern)
        if found is None:
            found = self._patterns[pattern] = "*" in pattern and namespace_pattern_matches(pattern, self.names)
        return found


def source_namespaces_not_found(ap: IstioObject, cluster: ClusterNamespaces) -> list[Check]:
    """KIA0101 for one policy, against the names of every namespace of the cluster."""
    checks: list[Check] = []
    for i, rule in enumerate(_list(_dict(ap.spec).get("rules"))):
        for j, src in enumerate(_list(_dict(rule).get("from"))):
            for k, pattern in enumerate(_list(_dict(_dict(src).get("source")).get("namespaces"))):
                if not isinstance(pattern, str) or cluster.matched(pattern):
                    continue
                what = f"namespace {pattern!r} does not exist" if "*" not in pattern else \
                    f"{pattern!r} matches no namespace"
                checks.append(Check("KIA0101", WARNING, f"{what} in the cluster: this source never matches",
                                    f"spec/rules[{i}]/from[{j}]/source/namespaces[{k}]"))
    return checks


# -- KIA0105 --------------------------------------------------------------------------------------

PEER_MODES = ("", "DISABLE", "PERMISSIVE", "STRICT")  # "": none set (or UNSET: inherited)
TLS_MODES = ("", "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL")  # "": no tls field
_MTLS_FIELDS = ("principals", "notPrincipals", "namespaces", "notNamespaces")
_MTLS_KEYS = ("source.namespace", "source.principal", "connection.sni")


def needs_mtls(ap: IstioObject) -> list[str]:
    """The paths of the policy's fields that only a peer's mTLS identity can match."""
    paths: list[str] = []
    for i, rule in enumerate(_list(_dict(ap.spec).get("rules"))):
        rule = _dict(rule)
        for j, src in enumerate(_list(rule.get("from"))):
            source = _dict(_dict(src).get("source"))
            paths += [f"spec/rules[{i}]/from[{j}]/source/{f}" for f in _MTLS_FIELDS if _list(source.get(f))]
        for k, cond in enumerate(_list(rule.get("when"))):
            if _dict(cond).get("key") in _MTLS_KEYS:
                paths.append(f"spec/rules[{i}]/when[{k}]")
    return paths


def mtls_enabled(ns_dr: str, ns_pa: str, mesh_dr: str, mesh_pa: str, auto: bool = True) -> bool:
    """Whether Kiali takes mTLS as on for a namespace's policies, from the namespace-wide and mesh-wide
    DestinationRule TLS modes and PeerAuthentication modes ("" where none sets one). ``auto``: the mesh
    config's enableAutoMtls."""
    # Kiali's arithmetic, shared with the mTLS status (``tls_status``)
    ns = final_status(ns_dr, ns_pa, auto, permissive=True)
    if ns in (ENABLED, DISABLED):
        status = ns
    elif ns == PARTIALLY_ENABLED:  # what the namespace leaves open, taken from the mesh
        dr, pa = ns_dr or mesh_dr, ns_pa or mesh_pa
        status = overall_status(dr, pa, final_status(dr, pa, auto), auto)
    else:
        mesh = overall_status(mesh_dr, mesh_pa, final_status(mesh_dr, mesh_pa, auto, permissive=True), auto,
                              permissive=True)
        status = overall_status(mesh_dr, mesh_pa, mesh, auto)
    return status == ENABLED or (status == NOT_ENABLED and auto)


def _peer_mode(pa: IstioObject) -> str:
    """Its mTLS mode; "" for none, and for UNSET, which inherits the mode of the level above (Istio's
    meaning: Kiali takes UNSET as a mode of its own, and then finds mTLS off in a namespace whose
    PeerAuthentication leaves the mode to a STRICT mesh)."""
    mode = peer_mode(pa)
    return "" if mode == "UNSET" else mode


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _dict(value).items()}


class MtlsView:
    """What decides mTLS for the policies of each namespace, as far as the inventory tells it."""

    def __init__(self, inv: Inventory, root_namespace: str, *, auto: bool | None = True) -> None:
        self.inv = inv
        # the mesh config's enableAutoMtls; None: each namespace's own istiod revision's (``auto_for``)
        self.auto = auto
        self.root = root_namespace
        hidden = inv.hidden
        self.istio_unread = "*/istio" in hidden
        self.peers: dict[str, list[IstioObject]] = {}
        for pa in inv.mesh_config("PeerAuthentication"):  # the root namespace's too, read cluster-wide
            self.peers.setdefault(pa.namespace, []).append(pa)
        self.rules_known = not self.istio_unread and not any(k.endswith("/destinationrules") for k in hidden)
        self.rules = inv.mesh_config("DestinationRule")
        self.rules_by_host: dict[str, list[IstioObject]] = {}
        for dr in self.rules:
            host = _dict(dr.spec).get("host")
            if isinstance(host, str):
                self.rules_by_host.setdefault(host, []).append(dr)
        # Services by each label of their selector, and workload PeerAuthentications by one label of
        # theirs, per namespace: a policy looks only at those that can match it (scanning the whole
        # namespace for each made one namespace of per-workload policies quadratic)
        self.services: dict[tuple[str, str, str], list[Any]] = {}
        for svc in inv.services:
            for k, v in (svc.selector or {}).items():
                self.services.setdefault((svc.namespace, k, v), []).append(svc)
        self.workload_peers: dict[tuple[str, str, str], list[tuple[IstioObject, dict[str, str]]]] = {}
        for ns, pas in self.peers.items():
            for pa in pas:
                selector = peer_selector(pa)
                if selector:
                    k, v = min(selector.items())
                    self.workload_peers.setdefault((ns, k, v), []).append((pa, selector))
        self._any_rule: dict[str, bool | None] = {}
        self._outcomes: dict[tuple[str, frozenset[tuple[str, str]]], set[str]] = {}
        self.exports = Exports(inv)
        self._verdicts: dict[str, set[bool]] = {}

    def auto_for(self, ns: str) -> bool:
        """Whether automatic mTLS is on for ``ns``'s proxies: by its own control plane's mesh config."""
        return self.auto if self.auto is not None else self.inv.settings_for(ns).auto_mtls

    def peers_known(self, ns: str) -> bool:
        # those outside the selection are read from the whole cluster (Inventory.outside_config) unless
        # that was forbidden; an inventory saved before they were read lacks them, which can only hide
        # a finding (no PeerAuthentication leaves mTLS to the level above, on by default)
        return not self.istio_unread and not self.inv.unread(ns, ["peerauthentications"])

    def _rule_modes(self, ns: str, *hosts: str) -> tuple[str, ...]:
        """The TLS modes the first rule for one of ``hosts`` that applies in ``ns`` may set ("": none
        sets one)."""
        if not self.rules_known:
            return TLS_MODES
        surely: set[str] = set()
        maybe: set[str] = set()
        for dr in (r for host in hosts for r in self.rules_by_host.get(host, ())):
            exported = self.exports.exported(dr, ns)
            if exported is not False:
                (surely if exported else maybe).add(tls_mode(dr))
        surely.discard("")
        found = surely | maybe - {""}
        return tuple(sorted(found | ({""} if not surely else set())))

    def _peer_modes(self, ns: str) -> tuple[str, ...]:
        if not self.peers_known(ns):
            return PEER_MODES
        found = {_peer_mode(pa) for pa in self.peers.get(ns, ()) if is_wide(pa)} - {""}
        return tuple(found) or ("",)

    def namespace_verdicts(self, ns: str) -> set[bool]:
        """Whether mTLS is on for a namespace's policies without a workload of their own to decide:
        every answer the unread objects allow."""
        found = self._verdicts.get(ns)
        if found is None:
            found = self._verdicts[ns] = {
                mtls_enabled(ns_dr, ns_pa, mesh_dr, mesh_pa, self.auto_for(ns)) for ns_dr, ns_pa, mesh_dr, mesh_pa in product(
                    self._rule_modes(ns, *namespace_rule_hosts(self.inv, ns)), self._peer_modes(ns),
                    self._rule_modes(ns, "*.local"), self._peer_modes(self.root))}
        return found

    def _service_rule_outcomes(self, ns: str, selector: Mapping[str, str]) -> set[str]:
        """A PERMISSIVE workload PeerAuthentication's outcome from the DestinationRules of the
        services its selector covers (Kiali's): on, off, or undecided."""
        if not self.rules_known:
            return {ENABLED, DISABLED, NOT_ENABLED}
        applies = self._any_rule.get(ns)
        if applies is None:
            answers = set()
            for dr in self.rules:
                answers.add(self.exports.exported(dr, ns))
                if True in answers:
                    break
            applies = self._any_rule[ns] = True if True in answers else None if None in answers else False
        if applies is False:
            return {NOT_ENABLED}
        key = (ns, frozenset(selector.items()))
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = self._rule_outcomes(ns, selector, applies)
        return found

    def _rule_outcomes(self, ns: str, selector: Mapping[str, str], applies: bool | None) -> set[str]:
        outcomes: set[str] = set() if applies else {NOT_ENABLED}  # maybe no rule applies at all
        # the services whose selectors hold every label of the policy's: among those with its rarest
        rarest = min((self.services.get((ns, k, v), []) for k, v in selector.items()), key=len)
        for svc in rarest:
            if any(svc.selector.get(k) != v for k, v in selector.items()):
                continue
            for host in (svc.name, f"{svc.name}.{ns}", f"{svc.name}.{ns}.svc", f"{svc.name}.{ns}.{CLUSTER_DOMAIN}"):
                for dr in self.rules_by_host.get(host, ()):
                    exported = False if host == svc.name and dr.namespace != ns else self.exports.exported(dr, ns)
                    if exported is False:
                        continue
                    mode = tls_mode(dr)
                    if exported is None:
                        outcomes.add(NOT_ENABLED)  # it may not apply
                    if mode in ("ISTIO_MUTUAL", "MUTUAL"):
                        outcomes.add(ENABLED)
                    elif mode == "DISABLE":
                        outcomes.add(DISABLED)
        return outcomes or {NOT_ENABLED}

    def policy_verdicts(self, ap: IstioObject) -> set[bool]:
        """Every answer to "is mTLS on for this policy's workloads" that what was read allows; empty
        when its namespace's PeerAuthentications are not known."""
        ns = ap.namespace
        if not self.peers_known(ns):
            return set()
        labels = _labels(_dict(_dict(ap.spec).get("selector")).get("matchLabels"))
        outcomes: set[str] = set()
        candidates = (p for k, v in labels.items() for p in self.workload_peers.get((ns, k, v), ()))
        for pa, selector in candidates:
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            mode = _peer_mode(pa)
            if mode == "STRICT":
                outcomes.add(ENABLED)
            elif mode == "DISABLE":
                outcomes.add(DISABLED)
            elif mode == "PERMISSIVE":
                outcomes |= self._service_rule_outcomes(ns, selector)
        verdicts: set[bool] = set()
        for outcome in outcomes or {NOT_ENABLED}:
            verdicts |= {True} if outcome == ENABLED else {False} if outcome == DISABLED else \
                self.namespace_verdicts(ns)
        return verdicts


def mtls_needed_but_off(ap: IstioObject, view: MtlsView) -> list[Check]:
    """KIA0105 for one policy."""
    paths = needs_mtls(ap)
    if not paths:
        return []
    verdicts = view.policy_verdicts(ap)
    if not verdicts or True in verdicts:
        return []
    return [Check("KIA0105", ERROR, "only a peer's mTLS identity can match this field, and mTLS is not on for "
                  "the workloads this policy applies to (a PeerAuthentication or DestinationRule turns it off)",
                  path) for path in paths]


def authorization_checks(inv: Inventory, root_namespace: str,
                         auto_mtls: bool | None = True) -> dict[ObjectKey, list[Check]]:
    """KIA0101 and KIA0105 on every AuthorizationPolicy of the inventory (``auto_mtls`` None: each
    policy's namespace's own control plane's ``enableAutoMtls``)."""
    out: dict[ObjectKey, list[Check]] = {}
    policies = inv.istio_objects("AuthorizationPolicy")
    if not policies:
        return out
    view = MtlsView(inv, root_namespace, auto=auto_mtls)
    cluster = None if inv.cluster_namespaces is None else ClusterNamespaces(inv.cluster_namespaces)
    for ap in policies:
        checks = [] if cluster is None else source_namespaces_not_found(ap, cluster)
        checks += mtls_needed_but_off(ap, view)
        if checks:
            out[("AuthorizationPolicy", ap.namespace, ap.name)] = checks
    return out
