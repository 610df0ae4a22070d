"""Security-config builders: an AuthorizationPolicy (Kiali's three kinds: deny all, allow all, rules) and
a Sidecar (egress hosts), made from what a person typed, checked before anything is sent, and turned
into a ``ChangePlan``.

Istio's semantics, which the plan's notes spell out: an AuthorizationPolicy with an empty spec denies
every request to the workloads it covers (it is an ALLOW policy that matches nothing); ``rules: [{}]``
with action ALLOW allows every request; once any ALLOW policy covers a workload, a request no ALLOW
rule matches is denied; a DENY policy is evaluated before the ALLOW ones and cannot be overridden by
them. Every builder raises ``RoutingError`` with a plain message on bad input.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.changes import CREATE, Change, ChangePlan
from meshdesk.mesh.inventory import Inventory, IstioObject, Workload
from meshdesk.mesh.routing import NETWORKING, SECURITY, RoutingError, is_managed
from meshdesk.mesh.routing import _managed as managed_labels
from meshdesk.mesh.validations import HTTP_METHODS, _http_method

DENY_ALL, ALLOW_ALL, RULES = "DENY_ALL", "ALLOW_ALL", "RULES"
POLICY_KINDS = (DENY_ALL, ALLOW_ALL, RULES)
ALLOW, DENY = "ALLOW", "DENY"
AUTHZ_ACTIONS = (ALLOW, DENY)
# the attributes a ``when`` condition may name as they are (Istio's list); request.headers[...],
# request.auth.claims[...] and experimental.envoy.filters.* are the open-ended ones
CONDITION_KEYS = ("source.ip", "remote.ip", "source.namespace", "source.principal", "request.auth.principal",
                  "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port",
                  "connection.sni")
_IP_KEYS = ("source.ip", "remote.ip", "destination.ip")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HOST = re.compile(r"^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$")
_HEADER = re.compile(r"^request\.headers\[([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\]$")
_CLAIM = re.compile(r"^request\.auth\.claims\[[^\[\]]+\](\[[^\[\]]+\])*$")


def name_problem(name: str) -> str:
    """Why ``name`` cannot name a Kubernetes object (a DNS-1123 subdomain), in words; "" when it can."""
    if not name:
        return "a name is needed"
    if len(name) > 253 or not _NAME.match(name) or any(len(p) > 63 for p in name.split(".")):
        return (f"{name!r} is not a valid name: use lower-case letters, digits, '-' and '.', starting and "
                "ending with a letter or digit")
    return ""


def split_list(text: str) -> list[str]:
    """Comma-separated entries, trimmed, empty ones dropped."""
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_selector(text: str) -> dict[str, str]:
    """``app=reviews, version=v1`` as labels (raises on anything else, with the reason)."""
    out: dict[str, str] = {}
    for part in split_list(text):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or "=" in value:
            raise RoutingError(f"workload selector: {part!r} is not a label like app=reviews")
        prefix, slash, bare = key.rpartition("/")
        if (slash and name_problem(prefix)) or not _LABEL_NAME.match(bare) or len(bare) > 63:
            raise RoutingError(f"workload selector: {key!r} is not a valid label name")
        if len(value) > 63 or not _LABEL_NAME.match(value) or "*" in value:
            raise RoutingError(f"workload selector: {value!r} is not a valid label value (at most 63 letters, "
                               "digits, '-', '_' and '.'; no wildcard)")
        if key in out and out[key] != value:
            raise RoutingError(f"workload selector: label {key} is given twice")
        out[key] = value
    return out


def workload_selector(w: Workload, others: Sequence[Workload] = ()) -> dict[str, str]:
    """Labels that select workload ``w`` and none of ``others`` where they can: its app and version,
    else all its labels."""
    def also(sel: Mapping[str, str]) -> bool:
        return any(o.name != w.name and o.namespace == w.namespace and all(o.labels.get(k) == v for k, v in sel.items())
                   for o in others)

    selector = {k: v for k, v in w.labels.items() if k in ("app", "version")}
    if not selector or also(selector):
        selector = dict(w.labels)
    return selector


def _wildcard_problem(value: str, what: str) -> str:
    """Istio matches a value exactly, by prefix (``abc*``), by suffix (``*abc``) or presence (``*``)."""
    if any(c.isspace() for c in value):
        return f"{what} {value!r} has a space in it"
    if "*" in value.strip("*") or value.count("*") > 1 and value != "*":
        return f"{what} {value!r}: a '*' may stand only at the start or at the end"
    return ""


def principal_problem(value: str) -> str:
    problem = _wildcard_problem(value, "principal")
    if problem:
        return problem
    if value.startswith("spiffe://"):
        return (f"principal {value!r}: leave out 'spiffe://' (Istio adds it), e.g. "
                "cluster.local/ns/default/sa/sleep")
    if value != "*" and not value.startswith("*") and not value.endswith("*") and "/ns/" not in value:
        return (f"principal {value!r} is not an identity like cluster.local/ns/<namespace>/sa/<service "
                "account>")
    return ""


def namespace_problem(value: str) -> str:
    problem = _wildcard_problem(value, "namespace")
    if problem:
        return problem
    bare = value.strip("*")
    if bare and (len(bare) > 63 or not re.match(r"^[a-z0-9-]*$", bare)
                 or (value == bare and not _DNS_LABEL.match(bare))):
        return f"{value!r} is not a namespace name (lower-case letters, digits and '-')"
    return ""


def ip_problem(value: str, what: str = "IP block") -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"{what} {value!r} is not an IP address or a CIDR range like 10.0.0.0/16"
    return ""


def port_problem(value: str) -> str:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        return f"port {value!r} is not a port number from 1 to 65535"
    return ""


def method_problem(value: str) -> str:
    """An HTTP method (written upper-case), ``*``, or a prefix (``GE*``) or suffix (``*ST``) of one, as
    Istio matches it."""
    if _http_method(value) and not _wildcard_problem(value, "method"):
        return ""
    return f"method {value!r} is not an HTTP method ({', '.join(HTTP_METHODS)})"


def path_problem(value: str) -> str:
    problem = _wildcard_problem(value, "path")
    if problem and "{" not in value:
        return problem
    if any(c.isspace() for c in value):
        return f"path {value!r} has a space in it"
    if not (value.startswith("/") or value.startswith("*")):
        return f"path {value!r} must start with '/' (or '*' for a suffix match)"
    return ""


def host_problem(value: str) -> str:
    return _wildcard_problem(value, "host")


def condition_key_problem(key: str) -> str:
    if key in CONDITION_KEYS or key.startswith("experimental.envoy.filters.") and len(key) > 27:
        return ""
    if key.startswith("request.headers"):
        return "" if _HEADER.match(key) else f"condition key {key!r} is not like request.headers[x-user]"
    if key.startswith("request.auth.claims"):
        return "" if _CLAIM.match(key) else f"condition key {key!r} is not like request.auth.claims[groups]"
    return (f"condition key {key!r} is not one Istio knows (e.g. source.ip, request.headers[x-user], "
            "request.auth.claims[groups])")


@dataclass
class AuthzRule:
    """One rule: who (``from``), what (``to``) and when; each field a list of values (all empty: a rule
    that matches every request)."""

    principals: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    ip_blocks: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    when: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def matches_everything(self) -> bool:
        return not (self.principals or self.namespaces or self.ip_blocks or self.hosts or self.ports
                    or self.methods or self.paths or self.when)

    def problems(self) -> list[str]:
        out = [p for v in self.principals if (p := principal_problem(v))]
        out += [p for v in self.namespaces if (p := namespace_problem(v))]
        out += [p for v in self.ip_blocks if (p := ip_problem(v))]
        out += [p for v in self.hosts if (p := host_problem(v))]
        out += [p for v in self.ports if (p := port_problem(v))]
        out += [p for v in self.methods if (p := method_problem(v))]
        out += [p for v in self.paths if (p := path_problem(v))]
        for key, values in self.when:
            problem = condition_key_problem(key)
            if problem:
                out.append(problem)
            elif not values:
                out.append(f"condition {key} needs at least one value")
            elif key in _IP_KEYS:
                out += [p for v in values if (p := ip_problem(v, f"{key} value"))]
            elif key == "destination.port":
                out += [p for v in values if (p := port_problem(v))]
        return out

    def to_spec(self) -> dict[str, Any]:
        rule: dict[str, Any] = {}
        source = {k: v for k, v in (("principals", self.principals), ("namespaces", self.namespaces),
                                    ("ipBlocks", self.ip_blocks)) if v}
        if source:
            rule["from"] = [{"source": source}]
        operation = {k: v for k, v in (("hosts", self.hosts), ("ports", self.ports),
                                       ("methods", [m.upper() for m in self.methods]), ("paths", self.paths)) if v}
        if operation:
            rule["to"] = [{"operation": operation}]
        if self.when:
            rule["when"] = [{"key": k, "values": list(v)} for k, v in self.when]
        return rule


def parse_conditions(text: str) -> list[tuple[str, list[str]]]:
    """``source.ip=10.0.0.0/8, 10.1.0.0/16; request.headers[x-user]=alice`` as (key, values) pairs."""
    out: list[tuple[str, list[str]]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, values = part.partition("=")
        if not sep or not key.strip():
            raise RoutingError(f"condition {part!r} is not like source.ip=10.0.0.0/8 (key=value, value)")
        out.append((key.strip(), split_list(values)))
    return out


def build_authorization_policy(name: str, namespace: str, policy: str, *, action: str = ALLOW,
                               selector: Mapping[str, str] | None = None,
                               rules: Sequence[AuthzRule] = ()) -> IstioObject:
    """An AuthorizationPolicy as Kiali's "Create" makes it: DENY_ALL is the empty spec, ALLOW_ALL
    ``action: ALLOW`` with ``rules: [{}]``, RULES the given rules with the action. A selector limits any
    of them to the workloads it selects."""
    problem = name_problem(name)
    if problem:
        raise RoutingError(problem)
    if policy not in POLICY_KINDS:
        raise RoutingError(f"policy must be one of {', '.join(POLICY_KINDS)}")
    spec: dict[str, Any] = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    if policy == ALLOW_ALL:
        spec["action"] = ALLOW
        spec["rules"] = [{}]
    elif policy == RULES:
        if action not in AUTHZ_ACTIONS:
            raise RoutingError(f"action must be {' or '.join(AUTHZ_ACTIONS)}")
        if not rules:
            raise RoutingError("add at least one rule (a policy of rules with none matches nothing)")
        for i, rule in enumerate(rules, 1):
            problems = rule.problems()
            if problems:
                raise RoutingError(f"rule {i}: {problems[0]}")
        spec["action"] = action
        spec["rules"] = [r.to_spec() for r in rules]
    return IstioObject("AuthorizationPolicy", name, namespace, SECURITY, spec, managed_labels())


def _taken(inv: Inventory, kind: str, namespace: str, name: str) -> None:
    existing = next((o for o in inv.istio_objects(kind, namespace) if o.name == name), None)
    if existing is not None:
        by = "added by meshdesk" if is_managed(existing) else "not added by meshdesk"
        raise RoutingError(f"a {kind} named {name} already exists in {namespace} ({by}): pick another name")


def policy_target(inv: Inventory, namespace: str, selector: Mapping[str, str]) -> str:
    """The workloads a policy (an AuthorizationPolicy, a Sidecar) in ``namespace`` with ``selector`` applies
    to, in words. In the mesh's root namespace one without a selector applies to the whole mesh, and one
    with a selector to the workloads of every namespace that have those labels."""
    labels = ", ".join(f"{k}={v}" for k, v in selector.items())
    if namespace == inv.mesh_settings.root_namespace:
        where = f"namespace {namespace} is the mesh's root namespace, so it applies to every namespace"
        return (f"the workloads of every namespace with the labels {labels} ({where})" if selector
                else f"every workload in the mesh ({where})")
    return (f"the workloads of namespace {namespace} its selector picks ({labels})" if selector
            else f"every workload in namespace {namespace}")


def _covered(inv: Inventory, namespace: str, selector: Mapping[str, str]) -> list[str]:
    return sorted(w.name for w in inv.workloads if w.namespace == namespace
                  and all(w.labels.get(k) == v for k, v in selector.items()))


def allowing_policies(inv: Inventory, namespace: str) -> list[str]:
    """The ALLOW policies with rules that apply in ``namespace`` (its own and the root namespace's), by
    namespace/name: beside a deny-all, what they allow still gets in."""
    return sorted(f"{o.namespace}/{o.name}" for o in inv.istio_objects("AuthorizationPolicy")
                  if o.namespace in (namespace, inv.mesh_settings.root_namespace) and isinstance(o.spec, dict)
                  and str(o.spec.get("action") or ALLOW).upper() == ALLOW and o.spec.get("rules"))


def authorization_policy_plan(inv: Inventory, ap: IstioObject) -> ChangePlan:
    """Create ``ap``; a name already taken is refused. The notes say in words what it will deny: a policy
    that denies everything, or makes every request its rules do not match be denied, is a warning."""
    _taken(inv, "AuthorizationPolicy", ap.namespace, ap.name)
    spec = ap.spec
    selector = _selector_of(spec.get("selector"), "matchLabels")
    target = policy_target(inv, ap.namespace, selector)
    kind = DENY_ALL if not spec.get("rules") and spec.get("action", ALLOW) == ALLOW else \
        ALLOW_ALL if spec.get("rules") == [{}] and spec.get("action") == ALLOW else RULES
    plan = ChangePlan(f"AuthorizationPolicy {ap.namespace}/{ap.name} ({kind.replace('_', ' ').lower()}"
                      f"{', ' + str(spec.get('action')) if kind == RULES else ''})")
    _note_selected(plan, inv, ap.namespace, selector, "policy")
    rules = spec.get("rules") or []
    everything = any(r == {} for r in rules)
    allowing = allowing_policies(inv, ap.namespace)
    if kind == DENY_ALL and allowing:
        plan.notes.append(f"Warning: this denies every request to {target} that no ALLOW policy allows: what "
                          f"{', '.join(allowing)} allow{'s' if len(allowing) == 1 else ''} still gets in, the "
                          "rest is denied. (An AuthorizationPolicy with an empty spec matches nothing.)")
    elif kind == DENY_ALL:
        plan.notes.append(f"Warning: this denies every request to {target}, from inside the mesh and from "
                          "outside, until an ALLOW policy lets some in: they are cut off. (An "
                          "AuthorizationPolicy with an empty spec matches nothing, so nothing is allowed.)")
    elif spec.get("action") == DENY and everything:
        plan.notes.append(f"Warning: a DENY rule that matches every request denies every request to {target}, "
                          "and no ALLOW policy can let any in (DENY is evaluated first): they are cut off.")
    elif kind == RULES and spec.get("action") == ALLOW:
        plan.notes.append(f"Once this ALLOW policy is in force, a request to {target} that none of its rules "
                          "(nor another ALLOW policy's) matches is denied.")
    elif kind == ALLOW_ALL:
        others = [o.name for o in inv.istio_objects("AuthorizationPolicy", ap.namespace)
                  if isinstance(o.spec, dict) and o.spec.get("action") == DENY]
        if others:
            plan.notes.append(f"DENY policies still deny what they match ({', '.join(sorted(others))}): they "
                              "are evaluated before any ALLOW policy.")
    if any(_uses_identity(r) for r in rules if isinstance(r, dict)):
        plan.notes.append("Principals and namespaces are read from the client's mutual-TLS certificate: a request "
                          "sent in plain text (from a workload without a sidecar, or where mTLS is disabled) "
                          "never matches them.")
    plan.changes.append(Change(CREATE, obj=ap))
    return plan


def removal_notes(inv: Inventory, deleted: Sequence[IstioObject]) -> list[str]:
    """What deleting these AuthorizationPolicies lets in or shuts out, as warnings (a removal review listed a
    deny-all among the objects to delete without a word on the traffic it had kept out)."""
    notes = []
    gone = {(o.namespace, o.name) for o in deleted if o.kind == "AuthorizationPolicy"}
    for o in deleted:
        if o.kind != "AuthorizationPolicy" or not isinstance(o.spec, dict):
            continue
        spec = o.spec
        action = str(spec.get("action") or ALLOW).upper()
        rules = spec.get("rules") or []
        target = policy_target(inv, o.namespace, _selector_of(spec.get("selector"), "matchLabels"))
        what = f"AuthorizationPolicy {o.namespace}/{o.name}"
        if action == ALLOW and not rules:
            notes.append(f"Warning: {what} denies every request to {target} (it allows nothing): once it is "
                         "deleted they take requests again, as far as the ALLOW policies left allow.")
        elif action == DENY:
            notes.append(f"Warning: {what} is a DENY policy: the requests to {target} its rules block get in "
                         "once it is deleted, unless another policy denies them.")
        elif action == ALLOW:
            left = [f"{p.namespace}/{p.name}" for p in inv.istio_objects("AuthorizationPolicy")
                    if (p.namespace, p.name) not in gone and isinstance(p.spec, dict)
                    and p.namespace in (o.namespace, inv.mesh_settings.root_namespace)
                    and str(p.spec.get("action") or ALLOW).upper() == ALLOW]
            notes.append(f"Warning: {what} is an ALLOW policy for {target}: once it is deleted, "
                         + (f"what only it allowed is denied ({', '.join(sorted(left))} still in force)." if left
                            else "no ALLOW policy is left there, so every request not denied gets in."))
    return notes


def _uses_identity(rule: Mapping[str, Any]) -> bool:
    sources = [f.get("source") for f in rule.get("from") or () if isinstance(f, dict)]
    keys = [c.get("key") for c in rule.get("when") or () if isinstance(c, dict)]
    return any(isinstance(src, dict) and (src.get("principals") or src.get("namespaces")) for src in sources) \
        or any(k in ("source.principal", "source.namespace") for k in keys)


def _note_selected(plan: ChangePlan, inv: Inventory, namespace: str, selector: Mapping[str, str], what: str) -> None:
    """Which workloads of its namespace a selector picks, so one prefilled from a workload's labels that
    picks others too is seen to; none is a warning."""
    if not selector or namespace == inv.mesh_settings.root_namespace:
        return
    covered = _covered(inv, namespace, selector)
    labels = ", ".join(f"{k}={v}" for k, v in selector.items())
    if not covered:
        plan.notes.append(f"Warning: no workload in {namespace} has the labels {labels}: the {what} applies to "
                          "nothing yet.")
    else:
        plan.notes.append(f"The selector ({labels}) picks {'workload' if len(covered) == 1 else 'workloads'} "
                          f"{', '.join(covered)}.")


def _selector_of(raw: Any, key: str) -> dict[str, str]:
    labels = raw.get(key) if isinstance(raw, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


# -- Sidecar ------------------------------------------------------------------------------------------------

def egress_host_problem(value: str) -> str:
    """Why ``value`` is no Sidecar egress host (``namespace/host``: namespace ``.``, ``*``, ``~`` or a
    name; host ``*``, a name or ``*.suffix``), in words; "" when it is one."""
    ns, sep, host = value.partition("/")
    if not sep or "/" in host:
        return (f"egress host {value!r} is not in namespace/host form, e.g. ./*, istio-system/* or "
                "*/api.example.com")
    if ns not in (".", "*", "~") and (len(ns) > 63 or not _DNS_LABEL.match(ns)):
        return f"egress host {value!r}: {ns!r} is not a namespace ('.', '*', '~' or a namespace name)"
    if not host or len(host) > 253 or not _HOST.match(host.lower()):
        return f"egress host {value!r}: {host!r} is not a host name ('*', a name, or *.a-suffix)"
    return ""


def build_sidecar(name: str, namespace: str, hosts: Sequence[str], *,
                  selector: Mapping[str, str] | None = None) -> IstioObject:
    problem = name_problem(name)
    if problem:
        raise RoutingError(problem)
    clean = [h.strip() for h in hosts if h.strip()]
    if not clean:
        raise RoutingError("a Sidecar needs at least one egress host, e.g. ./* and istio-system/*")
    for h in clean:
        problem = egress_host_problem(h)
        if problem:
            raise RoutingError(problem)
    if len(set(clean)) != len(clean):
        dup = next(h for h in clean if clean.count(h) > 1)
        raise RoutingError(f"egress host {dup} is given twice")
    spec: dict[str, Any] = {}
    if selector:
        spec["workloadSelector"] = {"labels": dict(selector)}
    spec["egress"] = [{"hosts": clean}]
    return IstioObject("Sidecar", name, namespace, NETWORKING, spec, managed_labels())


def sidecar_plan(inv: Inventory, sc: IstioObject) -> ChangePlan:
    """Create ``sc``; a name already taken is refused, and so is a second Sidecar without a selector in
    a namespace (Istio then picks one of them in no set order)."""
    _taken(inv, "Sidecar", sc.namespace, sc.name)
    selector = _selector_of(sc.spec.get("workloadSelector"), "labels")
    if not selector:
        wide = [o.name for o in inv.istio_objects("Sidecar", sc.namespace)
                if not _selector_of(o.spec.get("workloadSelector") if isinstance(o.spec, dict) else None, "labels")]
        if wide:
            raise RoutingError(f"namespace {sc.namespace} already has a Sidecar without a workload selector "
                               f"({', '.join(sorted(wide))}); Istio would pick one of the two in no set order. "
                               "Give this one a workload selector, or change that one.")
    hosts = sc.spec["egress"][0]["hosts"]
    target = policy_target(inv, sc.namespace, selector)
    if not selector and sc.namespace == inv.mesh_settings.root_namespace:
        # the mesh's default: a namespace with a Sidecar of its own keeps that one
        target = (f"every workload of a namespace without a Sidecar of its own (namespace {sc.namespace} is the "
                  "mesh's root namespace, so this is the mesh's default)")
    plan = ChangePlan(f"Sidecar {sc.namespace}/{sc.name} for {target}")
    plan.notes.append(f"The sidecars of {target} will know only the hosts of {', '.join(hosts)}: calls to any "
                      "other service of the mesh go to PassthroughCluster or fail, as the outbound traffic "
                      "policy says.")
    _note_selected(plan, inv, sc.namespace, selector, "Sidecar")
    ns = inv.namespace(sc.namespace)
    if ns is not None and ns.labels.get("istio.io/dataplane-mode") == "ambient" \
            and sc.namespace != inv.mesh_settings.root_namespace:
        plan.notes.append(f"Warning: namespace {sc.namespace} is in ambient mode: its pods run no sidecar (ztunnel "
                          "and waypoints carry their traffic), so a Sidecar changes nothing for them.")
    else:
        bare = sorted(w.name for w in inv.workloads if w.namespace == sc.namespace and w.has_sidecar is False
                      and all(w.labels.get(k) == v for k, v in selector.items()))
        if bare:
            one = len(bare) == 1
            plan.notes.append(f"{', '.join(bare)} run{'s' if one else ''} no sidecar: this changes nothing for "
                              f"{'it' if one else 'them'} until {'it gets' if one else 'they get'} one.")
    plan.changes.append(Change(CREATE, obj=sc))
    return plan
