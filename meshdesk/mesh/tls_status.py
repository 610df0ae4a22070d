"""Kiali's mTLS status: the mesh-wide lock ("is my mesh STRICT?") and each namespace's TLS badge.

Computed as Kiali computes them (``business/tls.go``, ``util/mtls/status.go``), from what the inventory
read (the whole cluster's PeerAuthentications and DestinationRules, ``Inventory.mesh_config``) and the
mesh config (``Inventory.mesh_settings``: root namespace, ``enableAutoMtls``, trust domain):

- **Mesh-wide.** The mode of the first PeerAuthentication without a selector in the root namespace
  that names one (Istio weighs the oldest first; so do we), and the TLS mode of the first
  DestinationRule for ``*.local`` that sets one, among the rules of the namespaces the control plane
  injects (``istio-injection=enabled`` or ``istio.io/rev=<its revision>``, as Kiali filters them).
  With automatic mTLS a missing DestinationRule counts as sending mTLS, and as sending plain text to
  a workload that turns it off. Kiali's codes: ``MTLS_ENABLED``, ``MTLS_PARTIALLY_ENABLED``,
  ``MTLS_NOT_ENABLED`` (nothing set), ``MTLS_DISABLED``.
- **Per namespace.** A namespace without a PeerAuthentication of its own that sets a mode inherits
  the mesh's (``UNSET_INHERITED_STRICT`` / ``_DISABLED``; otherwise Istio's default, PERMISSIVE:
  ``UNSET_INHERITED_PERMISSIVE``, as Kiali's namespace list shows it). One with such a policy is
  judged from it and the rule for ``*.<namespace>.svc.<trust domain>`` (from any namespace); an error
  in the validation of its policy is ``MTLS_VALIDATION_ERROR``. The root namespace shows the mesh's.

What was not read (PeerAuthentications forbidden, DestinationRules hidden, the mesh config not read,
a namespace's labels unknown) is weighed as every value it could have: when they disagree, the status
is ``UNKNOWN`` and says why, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING

from meshdesk.mesh.inventory import NOT_IN_SNAPSHOT, Inventory, IstioObject, MeshConfig
from meshdesk.mesh.mtls_common import is_wide, peer_mode, tls_mode

if TYPE_CHECKING:
    from meshdesk.mesh.validations import ObjectKey, Validation

# Kiali's status codes (its API's words; the frontend maps them to labels)
ENABLED = "MTLS_ENABLED"
PARTIALLY_ENABLED = "MTLS_PARTIALLY_ENABLED"
NOT_ENABLED = "MTLS_NOT_ENABLED"
DISABLED = "MTLS_DISABLED"
UNSET = "UNSET"
UNSET_INHERITED_STRICT = "UNSET_INHERITED_STRICT"
UNSET_INHERITED_DISABLED = "UNSET_INHERITED_DISABLED"
UNSET_INHERITED_PERMISSIVE = "UNSET_INHERITED_PERMISSIVE"
VALIDATION_ERROR = "MTLS_VALIDATION_ERROR"
UNKNOWN = "UNKNOWN"  # meshdesk's: what was read does not decide it

MESH_HOST = "*.local"
# the API group of PeerAuthentication: a cluster may have Istio without it (its CRDs not installed)
SECURITY_GROUP = "security.istio.io"
DEFAULT_REVISION = "default"
_PA = "PeerAuthentication"
_DR = "DestinationRule"
# what an unread object could say: every mode a PeerAuthentication / DestinationRule can have
_ANY_PEER = ("", "STRICT", "PERMISSIVE", "DISABLE", "UNSET")
_ANY_TLS = ("", "ISTIO_MUTUAL", "MUTUAL", "SIMPLE", "DISABLE")
_MUTUAL = ("ISTIO_MUTUAL", "MUTUAL")


# -- Kiali's arithmetic (util/mtls/status.go), AllowPermissive off as Kiali calls it ------------------

def final_status(dr: str, pa: str, auto_mtls: bool, permissive: bool = False) -> str:
    """Kiali's ``finalStatus``: a PeerAuthentication mode and a DestinationRule TLS mode together
    (``permissive``: Kiali's AllowPermissive, a PERMISSIVE PeerAuthentication counting as mTLS on)."""
    mtls_on = dr in _MUTUAL or (dr == "" and auto_mtls)
    mtls_off = dr == "DISABLE" or (dr == "" and auto_mtls)
    if (pa == "STRICT" or (pa == "PERMISSIVE" and permissive)) and mtls_on:
        return ENABLED
    if pa == "DISABLE" and mtls_off:
        return DISABLED
    if pa == "" and dr == "":
        return NOT_ENABLED
    return PARTIALLY_ENABLED


def mesh_status(dr: str, pa: str, auto_mtls: bool) -> str:
    """Kiali's mesh-wide ``OverallStatus``: ``final_status`` where it is decided, then what half a
    configuration means (a mode on one side only)."""
    return overall_status(dr, pa, final_status(dr, pa, auto_mtls), auto_mtls)


def overall_status(dr: str, pa: str, status: str, auto_mtls: bool, permissive: bool = False) -> str:
    """Kiali's ``OverallStatus`` of a level whose ``final_status`` (or a verdict standing in for it) is
    ``status``: that when it is on or off, else what half a configuration means."""
    if status in (ENABLED, DISABLED):
        return status
    if pa == "" and dr == "":
        return NOT_ENABLED
    if (pa == "DISABLE" and dr == "") or (dr == "DISABLE" and pa == ""):
        return DISABLED
    if auto_mtls and ((pa == "STRICT" and dr == "") or (dr in _MUTUAL and pa == "")
                      or (permissive and pa == "PERMISSIVE" and dr == "")):
        return ENABLED
    return PARTIALLY_ENABLED


# -- what the inventory says, with what it cannot say ---------------------------------------------------

@dataclass(frozen=True)
class _Choice:
    """One possible value of a mode: the object it comes from (None: none, or one not read)."""

    mode: str
    source: IstioObject | None = None


def _oldest_first(objects: Iterable[IstioObject]) -> list[IstioObject]:
    return sorted(objects, key=lambda o: (o.created or "~", o.name))


def _host(dr: IstioObject) -> str:
    host = dr.spec.get("host") if isinstance(dr.spec, dict) else None
    return host if isinstance(host, str) else ""


class _Config:
    """The inventory's PeerAuthentications and DestinationRules indexed once (a summary of many
    namespaces asks after each)."""

    def __init__(self, inv: Inventory) -> None:
        self.wide: dict[str, list[IstioObject]] = {}  # namespace -> its selector-less policies, oldest first
        for pa in _oldest_first(inv.mesh_config(_PA)):
            if is_wide(pa):
                self.wide.setdefault(pa.namespace, []).append(pa)
        self.rules: dict[str, list[IstioObject]] = {}  # exact host -> the rules for it, oldest first
        for dr in _oldest_first(inv.mesh_config(_DR)):
            self.rules.setdefault(_host(dr), []).append(dr)


def _policy_choices(inv: Inventory, cfg: _Config, namespace: str, unread_why: list[str]) -> list[_Choice]:
    """Kiali's ``hasPeerAuthnNamespacemTLSDefinition``: the mode of the first selector-less policy of
    ``namespace`` that has ``mtls`` (UNSET counts, as in Kiali); every mode when they were not read."""
    if inv.unread(namespace, ("peerauthentications",)):
        unread_why.append(f"the PeerAuthentications of {namespace} could not be read")
        return [_Choice(m) for m in _ANY_PEER]
    for pa in cfg.wide.get(namespace, ()):
        mode = peer_mode(pa)
        if mode:
            return [_Choice(mode, pa)]
    return [_Choice("")]


def _rules_unread(inv: Inventory) -> bool:
    return any(k.endswith("/destinationrules") for k in inv.hidden)


def _rule_choices(inv: Inventory, cfg: _Config, host: str, counts: Callable[[IstioObject], bool | None],
                  unread_why: list[str], *, counts_unknown: str = "") -> list[_Choice]:
    """The TLS mode of the first rule for exactly ``host`` that sets one, among those ``counts``
    (None: that cannot be told, so either way); every mode when not all rules were read."""
    if _rules_unread(inv):
        unread_why.append("not all DestinationRules could be read")
        return [_Choice(m) for m in _ANY_TLS]
    found: list[_Choice] = []
    for dr in cfg.rules.get(host, ()):
        mode = tls_mode(dr)
        if not mode:
            continue
        applies = counts(dr)
        if applies is False:
            continue
        found.append(_Choice(mode, dr))
        if applies is True:
            return found
        if counts_unknown:
            unread_why.append(counts_unknown.format(name=f"{dr.namespace}/{dr.name}", namespace=dr.namespace))
    return [*found, _Choice("")]


def _auto_choices(inv: Inventory, unread_why: list[str], settings: MeshConfig | None = None) -> list[bool]:
    """Whether automatic mTLS is on, by ``settings`` (the mesh config, by default the inventory's):
    both when it could not be read."""
    settings = inv.mesh_settings if settings is None else settings
    if settings.read:
        return [settings.auto_mtls]
    if settings.unread == NOT_IN_SNAPSHOT or any("/mesh config" in k for k in inv.hidden):
        unread_why.append("the mesh config (whether automatic mTLS is on) could not be read")
        return [True, False]
    return [settings.auto_mtls]  # no ConfigMap, or one without a mesh key: Istio runs on its defaults


def _one(choices: list[_Choice]) -> _Choice | None:
    return choices[0] if len(choices) == 1 else None


# -- mesh-wide ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeshTls:
    """The mesh-wide mTLS status, and what decides it."""

    status: str
    auto_mtls: bool | None  # None: not known
    root_namespace: str
    policy: IstioObject | None = None  # the mesh-wide PeerAuthentication whose mode counts
    policy_mode: str = ""  # its mode ("": none; "?": not known)
    rule: IstioObject | None = None  # the *.local DestinationRule whose TLS mode counts
    rule_mode: str = ""
    unknown: tuple[str, ...] = ()  # what could not be read (why the status is UNKNOWN, or was not needed)
    # of several istiod revisions, those whose mesh config sets automatic mTLS the other way than the one
    # weighed here (``auto_mtls``): their namespaces' clients do otherwise
    auto_elsewhere: tuple[str, ...] = ()
    # the API group not served by the cluster that holds PeerAuthentication (``SECURITY_GROUP``), "" when
    # it is served or not known: no policy can then exist, which is not the same as none written
    policy_api_missing: str = ""

    @property
    def no_policy_api(self) -> str:
        """What to say when the cluster serves no PeerAuthentication API, "" otherwise."""
        return f"no mTLS policy API on this cluster ({self.policy_api_missing} is not served)" \
            if self.policy_api_missing else ""

    @property
    def label(self) -> str:
        """The status in a word or two, after "mTLS: "."""
        if self.policy_api_missing and self.status == NOT_ENABLED:
            return "no policy API" + (" (automatic)" if self.auto_mtls else "")
        if self.status == ENABLED:
            return "enabled"
        if self.status == PARTIALLY_ENABLED:
            return "partially enabled"
        if self.status == UNKNOWN:
            return "unknown"
        if self.status == DISABLED:
            return "disabled"
        return "automatic" if self.auto_mtls else "not enabled"

    @property
    def icon(self) -> str:
        """Which lock to draw: "full", "hollow", "open" or "unknown"."""
        return {ENABLED: "full", PARTIALLY_ENABLED: "hollow", UNKNOWN: "unknown"}.get(
            self.status, "hollow" if self.status == NOT_ENABLED and self.auto_mtls else "open")

    @property
    def headline(self) -> str:
        if self.status == UNKNOWN:
            return "The mesh-wide mTLS status cannot be told"
        if self.policy_api_missing and self.status == NOT_ENABLED:
            return self.no_policy_api[0].upper() + self.no_policy_api[1:] + (
                ": only automatic mTLS, nothing can enforce it" if self.auto_mtls else "")
        return {
            ENABLED: "Mesh-wide mTLS is enabled",
            PARTIALLY_ENABLED: "Mesh-wide mTLS is partially enabled: connections may be plain text or mTLS",
            DISABLED: "Mesh-wide mTLS is disabled",
        }.get(self.status, "Only automatic mTLS: nothing mesh-wide enforces mTLS" if self.auto_mtls
              else "Mesh-wide mTLS is not enabled")

    def reasons(self) -> list[str]:
        """Why, one line each: the policy, the rule, automatic mTLS, and what was not read."""
        lines = []
        if self.policy is not None:
            lines.append(f"PeerAuthentication {self.policy.namespace}/{self.policy.name}: {self.policy_mode}"
                         + (" (mTLS without a mode: Istio's default, PERMISSIVE)" if self.policy_mode == "UNSET"
                            else ""))
        elif self.policy_api_missing:  # (said once: by the headline when it names it)
            said = "" if self.status == NOT_ENABLED else f"{self.no_policy_api}: "
            lines.append(f"{said}no PeerAuthentication can exist, so workloads accept plain text and mTLS "
                         "(Istio's default, PERMISSIVE)")
        elif self.policy_mode != "?":
            lines.append(f"no mesh-wide PeerAuthentication (in {self.root_namespace}, without a selector): "
                         "workloads accept plain text and mTLS (Istio's default, PERMISSIVE)")
        if self.rule is not None:
            lines.append(f"DestinationRule {self.rule.namespace}/{self.rule.name} for {MESH_HOST}: "
                         f"tls mode {self.rule_mode}")
        elif self.rule_mode != "?":
            lines.append(f"no DestinationRule for {MESH_HOST} sets a TLS mode")
        if self.auto_mtls is not None:
            lines.append("automatic mTLS on (enableAutoMtls): sidecars send mTLS to workloads that have one"
                         if self.auto_mtls else "automatic mTLS off (enableAutoMtls: false): clients send "
                         "mTLS only where a DestinationRule says so")
        if self.auto_elsewhere and self.auto_mtls is not None:
            revs = ", ".join(self.auto_elsewhere)
            lines.append(f"but automatic mTLS is {'off' if self.auto_mtls else 'on'} in the mesh config of revision "
                         f"{revs}: the clients of {'its' if len(self.auto_elsewhere) == 1 else 'their'} namespaces "
                         + ("send mTLS only where a DestinationRule says so" if self.auto_mtls else
                            "send mTLS on their own to workloads with a sidecar"))
        lines += [f"unknown: {w}" for w in self.unknown]
        return lines

    @property
    def tooltip(self) -> str:
        return "\n".join([self.headline, *(f"• {r}" for r in self.reasons())])


def mesh_tls_by_cluster(inv: Inventory) -> list[tuple[str, MeshTls]]:
    """Of an inventory merged from several clusters (a context's linked contexts read beside it), each
    cluster's mesh-wide status, judged by that cluster's own PeerAuthentications and DestinationRules (each
    istiod applies its own cluster's); [] for an inventory of one cluster."""
    # (imported when asked: the graph package is heavy, this module is not)
    from meshdesk.mesh.graph.context import inventory_part, merged

    if not merged(inv) and inv.cluster not in inv.unread_clusters:
        return []  # (its own cluster not read: what it holds is the others', each judged as its own)
    home = inv.cluster
    clusters = sorted({o.cluster or home for o in (*inv.istio, *inv.outside_config)}
                      | {n.cluster or home for n in inv.namespaces} | {w.cluster or home for w in inv.workloads})
    part_of = inventory_part(inv, clusters)
    out = []
    for cluster in clusters:
        part = part_of(cluster)
        if part is not None:
            out.append((cluster, mesh_tls(part)))
    return out


def mesh_tls(inv: Inventory, *, _cfg: _Config | None = None) -> MeshTls:
    """The mesh-wide mTLS status of ``inv``'s cluster, as Kiali computes it (see the module)."""
    settings = inv.mesh_settings
    root = settings.root_namespace
    if not inv.istio_found:
        return MeshTls(UNKNOWN, None, root, policy_mode="?", rule_mode="?",
                       unknown=("Istio's resources are not served by this cluster",))
    why: list[str] = []
    revision = settings.revision or DEFAULT_REVISION
    labelled = {n.name: n for n in inv.namespaces if f"{n.name}/namespace" not in inv.hidden}

    def injected(dr: IstioObject) -> bool | None:  # Kiali weighs the rules of the revision's namespaces
        ns = labelled.get(dr.namespace)
        if ns is None:
            return None
        return ns.labels.get("istio.io/rev") == revision or ns.labels.get("istio-injection") == "enabled"

    cfg = _cfg or _Config(inv)
    policies = _policy_choices(inv, cfg, root, why)
    rules = _rule_choices(inv, cfg, MESH_HOST, injected, why, counts_unknown=(
        "whether DestinationRule {name} counts (its namespace's labels were not read: Kiali weighs the rules "
        "of injected namespaces only)"))
    autos = _auto_choices(inv, why)
    outcomes = {mesh_status(r.mode, p.mode, a) for p, r, a in product(policies, rules, autos)}
    policy, rule = _one(policies), _one(rules)
    auto = autos[0] if len(autos) == 1 else None
    status = outcomes.pop() if len(outcomes) == 1 else UNKNOWN
    elsewhere = tuple(sorted(rev or DEFAULT_REVISION for rev, c in inv.revision_settings.items()
                             if c.read and auto is not None and c.auto_mtls != auto))
    return MeshTls(status, auto, root,
                   policy=policy.source if policy else None, policy_mode=policy.mode if policy else "?",
                   rule=rule.source if rule else None, rule_mode=rule.mode if rule else "?",
                   unknown=tuple(dict.fromkeys(why)), auto_elsewhere=elsewhere,
                   policy_api_missing=SECURITY_GROUP if _PA in (inv.not_served or ()) else "")


# -- per namespace ------------------------------------------------------------------------------------

# what each namespace status is called (Kiali's namespace list), and its lock
_NAMESPACE_WORDS: dict[str, tuple[str, str, str]] = {
    ENABLED: ("Strict", "full", "mTLS is enabled for this namespace"),
    PARTIALLY_ENABLED: ("Permissive", "hollow", "mTLS is partially enabled for this namespace: connections may be "
                        "plain text or mTLS"),
    DISABLED: ("Disabled", "open", "mTLS is disabled for this namespace"),
    VALIDATION_ERROR: ("Validation error", "open", "a PeerAuthentication of this namespace has a validation error"),
    UNSET_INHERITED_STRICT: ("Strict (from the mesh)", "full", "no PeerAuthentication of its own sets a mode: "
                             "the namespace inherits the mesh-wide STRICT mode"),
    UNSET_INHERITED_DISABLED: ("Disabled (from the mesh)", "open", "no PeerAuthentication of its own sets a mode: "
                               "the namespace inherits the mesh-wide DISABLE mode"),
    UNSET_INHERITED_PERMISSIVE: ("Permissive (from the mesh)", "hollow", "no PeerAuthentication of its own sets a "
                                 "mode, nor does the mesh enforce one: Istio's default, PERMISSIVE"),
    UNKNOWN: ("unknown", "unknown", "the namespace's mTLS status cannot be told"),
}


@dataclass(frozen=True)
class NamespaceTls:
    """One namespace's mTLS status (as Kiali's namespace list shows it), and what decides it."""

    namespace: str
    status: str
    mesh: MeshTls
    policy: IstioObject | None = None  # the namespace's own PeerAuthentication whose mode counts
    policy_mode: str = ""
    rule: IstioObject | None = None  # the *.<namespace>.svc.<domain> DestinationRule whose mode counts
    rule_mode: str = ""
    rule_host: str = ""  # the host of a namespace-wide rule (when its policy was judged with one)
    invalid: tuple[IstioObject, ...] = ()  # its policies with a validation error
    root: bool = False  # the root namespace: it shows the mesh's status
    unknown: tuple[str, ...] = ()
    # enableAutoMtls of the namespace's own control plane (its istiod revision's mesh config), when it
    # was weighed; None: the mesh's (``mesh.auto_mtls``)
    auto_mtls: bool | None = None

    @property
    def _no_policy_api(self) -> bool:
        """Inheriting Istio's default because no PeerAuthentication API is served (not because none is written)."""
        return self.status == UNSET_INHERITED_PERMISSIVE and bool(self.mesh.policy_api_missing)

    @property
    def label(self) -> str:
        return "No policy API" if self._no_policy_api else _NAMESPACE_WORDS[self.status][0]

    @property
    def icon(self) -> str:
        return _NAMESPACE_WORDS[self.status][1]

    def reasons(self) -> list[str]:
        # what the status means, unless the namespace's own policy below says it
        lines = [_NAMESPACE_WORDS[self.status][2]] if self.policy is None else []
        if self._no_policy_api:
            lines = [f"{self.mesh.no_policy_api}: no PeerAuthentication can set a mode, so workloads accept "
                     "plain text and mTLS (Istio's default, PERMISSIVE)"]
        if self.root:
            lines.append(f"the root namespace: it shows the mesh-wide status (its PeerAuthentications are the "
                         f"mesh's): {self.mesh.label}")
        if self.invalid:
            lines.append("PeerAuthentication " + ", ".join(o.name for o in self.invalid) + " has an error "
                         "(see its findings)")
        if self.policy is not None:
            lines.append(f"PeerAuthentication {self.namespace}/{self.policy.name}: {self.policy_mode}")
        if self.rule is not None:
            lines.append(f"DestinationRule {self.rule.namespace}/{self.rule.name} for {_host(self.rule)}: "
                         f"tls mode {self.rule_mode}")
        elif self.rule_host and self.rule_mode == "":
            lines.append(f"no DestinationRule for {self.rule_host} sets a TLS mode")
        auto = self.mesh.auto_mtls if self.auto_mtls is None else self.auto_mtls
        if self.rule_host and auto is not None:
            lines.append(f"automatic mTLS {'on' if auto else 'off'}")
        if self.status in (UNSET_INHERITED_STRICT, UNSET_INHERITED_DISABLED) and self.mesh.policy is not None:
            lines.append(f"mesh-wide PeerAuthentication {self.mesh.policy.namespace}/{self.mesh.policy.name}: "
                         f"{self.mesh.policy_mode}")
        lines += [f"unknown: {w}" for w in self.unknown]
        return lines

    @property
    def text(self) -> str:
        """The label and the reasons after it, on one line (the CLI and the panel)."""
        return f"{self.label}: " + "; ".join(self.reasons())


def _invalid_policies(policies: list[IstioObject],
                      validations: Callable[[], Mapping[ObjectKey, Validation]]) -> tuple[IstioObject, ...]:
    if not policies:
        return ()
    found = validations()
    out = []
    for pa in policies:
        v = found.get((_PA, pa.namespace, pa.name))
        if v is not None and not v.valid:
            out.append(pa)
    return tuple(out)


def namespace_tls(inv: Inventory, namespace: str, *, mesh: MeshTls | None = None,
                  validations: Mapping[ObjectKey, Validation] | None = None) -> NamespaceTls:
    """``namespace``'s mTLS status, as Kiali's namespace list shows it (see the module). ``mesh``:
    ``mesh_tls(inv)``, computed here when not given; ``validations``: ``validate(inv)``, computed here
    only when the namespace has a policy to judge."""
    return namespace_tls_all(inv, [namespace], mesh=mesh, validations=validations)[0]


def namespace_tls_all(inv: Inventory, namespaces: Iterable[str] | None = None, *, mesh: MeshTls | None = None,
                      validations: Mapping[ObjectKey, Validation] | None = None) -> list[NamespaceTls]:
    """``namespace_tls`` of each of ``namespaces`` (default: the inventory's), the validations made
    at most once."""
    cfg = _Config(inv)
    mesh = mesh if mesh is not None else mesh_tls(inv, _cfg=cfg)
    cache: dict[str, Mapping[ObjectKey, Validation]] = {}

    def checked() -> Mapping[ObjectKey, Validation]:
        if validations is not None:
            return validations
        if "v" not in cache:
            from meshdesk.mesh.validations import validate  # heavy; only when a policy needs judging
            cache["v"] = validate(inv)
        return cache["v"]

    names = [n.name for n in inv.namespaces] if namespaces is None else list(namespaces)
    return [_namespace(inv, cfg, ns, mesh, checked) for ns in names]


def _namespace(inv: Inventory, cfg: _Config, ns: str, mesh: MeshTls,
               validations: Callable[[], Mapping[ObjectKey, Validation]]) -> NamespaceTls:
    if not inv.istio_found:
        return NamespaceTls(ns, UNKNOWN, mesh, unknown=mesh.unknown)
    root = ns == mesh.root_namespace
    why: list[str] = []
    # the root namespace's policies are the mesh's: the namespace itself has none (Kiali)
    wide = [] if root else cfg.wide.get(ns, [])
    unread = not root and inv.unread(ns, ("peerauthentications",))
    invalid = () if unread else _invalid_policies(wide, validations)
    if invalid:
        return NamespaceTls(ns, VALIDATION_ERROR, mesh, invalid=invalid)
    if unread:
        why.append(f"the PeerAuthentications of {ns} could not be read")
        return NamespaceTls(ns, UNKNOWN, mesh, unknown=tuple(why))
    if not any(peer_mode(p) not in ("", "UNSET") for p in wide):
        # no policy of its own that sets a mode: the mesh's, as Kiali's backend and namespace list resolve it
        if mesh.status == UNKNOWN:
            return NamespaceTls(ns, UNKNOWN, mesh, root=root, unknown=mesh.unknown)
        if root:
            status = mesh.status if mesh.status in (ENABLED, PARTIALLY_ENABLED, DISABLED) \
                else UNSET_INHERITED_PERMISSIVE
        else:
            status = {ENABLED: UNSET_INHERITED_STRICT, DISABLED: UNSET_INHERITED_DISABLED}.get(
                mesh.status, UNSET_INHERITED_PERMISSIVE)
        return NamespaceTls(ns, status, mesh, root=root)
    policies = _policy_choices(inv, cfg, ns, why)
    own = inv.settings_for(ns)  # its istiod revision's mesh config
    domain = f"svc.{own.trust_domain}"  # Kiali's identity domain: "svc." + the trust domain
    host = f"*.{ns}.{domain}"
    rules = _rule_choices(inv, cfg, host, lambda _dr: True, why)
    autos = _auto_choices(inv, why, own)
    outcomes = {final_status(r.mode, p.mode, a) for p, r, a in product(policies, rules, autos)}
    policy, rule = _one(policies), _one(rules)
    return NamespaceTls(ns, outcomes.pop() if len(outcomes) == 1 else UNKNOWN, mesh,
                        policy=policy.source if policy else None, policy_mode=policy.mode if policy else "?",
                        rule=rule.source if rule else None, rule_mode=rule.mode if rule else "?", rule_host=host,
                        unknown=tuple(dict.fromkeys(why)), auto_mtls=autos[0] if len(autos) == 1 else None)


__all__ = [
    "DISABLED", "ENABLED", "NOT_ENABLED", "PARTIALLY_ENABLED", "UNKNOWN", "UNSET", "UNSET_INHERITED_DISABLED",
    "UNSET_INHERITED_PERMISSIVE", "UNSET_INHERITED_STRICT", "VALIDATION_ERROR", "MeshTls", "NamespaceTls",
    "final_status", "mesh_status", "mesh_tls", "namespace_tls", "namespace_tls_all",
]
