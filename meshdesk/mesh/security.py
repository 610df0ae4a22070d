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
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.ambient_checks import USE_WAYPOINT, USE_WAYPOINT_NAMESPACE, enrolled, l7_authorization
from meshdesk.mesh.changes import CREATE, Change, ChangePlan
from meshdesk.mesh.graph.ambient import is_waypoint
from meshdesk.mesh.graph.model import PASSTHROUGH, UNKNOWN
from meshdesk.mesh.inventory import (
    GATEWAY_API_GROUP,
    OUTBOUND_POLICIES,
    WORKLOAD_LISTS,
    Inventory,
    IstioObject,
    Workload,
)
from meshdesk.mesh.routing import (
    NETWORKING,
    SECURITY,
    RoutingError,
    char_name,
    dns_length_problem,
    is_digits,
    is_managed,
    non_ascii_host_problem,
    said,
)
from meshdesk.mesh.routing import _managed as managed_labels
from meshdesk.mesh.sidecar_listeners import (
    CAPTURE_MODES,
    UNIX_PREFIX,
    bind_problem,
    default_endpoint_problem,
)
from meshdesk.mesh.validations import HTTP_METHODS, _http_method

DENY_ALL, ALLOW_ALL, RULES = "DENY_ALL", "ALLOW_ALL", "RULES"
POLICY_KINDS = (DENY_ALL, ALLOW_ALL, RULES)
ALLOW, DENY, CUSTOM = "ALLOW", "DENY", "CUSTOM"
AUTHZ_ACTIONS = (ALLOW, DENY, CUSTOM)
# what a policy's targetRefs may name in the form (Istio 1.22+), with the API group written for each: a
# Gateway API Gateway (an ingress gateway, or a waypoint), and in ambient mode a Service or ServiceEntry,
# whose waypoint enforces the policy
TARGET_KINDS = {"Gateway": GATEWAY_API_GROUP, "Service": "", "ServiceEntry": "networking.istio.io"}
# what Istio refuses in a CUSTOM policy's rules (an external authorizer is given no peer identity or JWT)
_CUSTOM_SOURCE_FIELDS = ("principals", "notPrincipals", "namespaces", "notNamespaces", "requestPrincipals",
                         "notRequestPrincipals")
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
    if not _NAME.match(name):
        return (f"{said(name)} is not a valid name: use lower-case letters, digits, '-' and '.', starting and "
                "ending with a letter or digit")
    if len(name) > 253:  # as Kubernetes checks an object's name: the whole (its parts may be longer than 63)
        return f"{said(name)} is not a valid name: at most 253 characters ({len(name)} given)"
    return ""


def split_list(text: str) -> list[str]:
    """Comma-separated entries, trimmed, empty ones dropped."""
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_selector(text: str, what: str = "workload selector") -> dict[str, str]:
    """``app=reviews, version=v1`` as labels (raises on anything else, with the reason, which starts with
    ``what``: the field as the form names it)."""
    out: dict[str, str] = {}
    for part in split_list(text):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or "=" in value:
            raise RoutingError(f"{what}: {part!r} is not a label like app=reviews")
        prefix, slash, bare = key.rpartition("/")
        if (slash and name_problem(prefix)) or not _LABEL_NAME.match(bare) or len(bare) > 63:
            raise RoutingError(f"{what}: {key!r} is not a valid label name")
        if len(value) > 63 or not _LABEL_NAME.match(value) or "*" in value:
            raise RoutingError(f"{what}: {value!r} is not a valid label value (at most 63 letters, "
                               "digits, '-', '_' and '.'; no wildcard)")
        if key in out and out[key] != value:
            raise RoutingError(f"{what}: label {key} is given twice")
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


def _blank_problem(value: str, what: str) -> str:
    """A space, or another blank or control character (a pasted line feed, a tab, NUL), in a value no
    request carries it in, said by its name."""
    odd = next((c for c in value if c.isspace() or unicodedata.category(c) == "Cc"), None)
    if odd is None:
        return ""
    if odd == " ":
        return f"{what} {value!r} has a space in it"
    kind = "control character" if unicodedata.category(odd) == "Cc" else "space character"
    return f"{what} {value!r} holds the {kind} {char_name(odd)}"


def _wildcard_problem(value: str, what: str) -> str:
    """Istio matches a value exactly, by prefix (``abc*``), by suffix (``*abc``) or presence (``*``)."""
    if problem := _blank_problem(value, what):
        return problem
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
    if not is_digits(value) or not 1 <= int(value) <= 65535:
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
    if problem := _blank_problem(value, "path"):
        return problem
    if not (value.startswith("/") or value.startswith("*")):
        return f"path {value!r} must start with '/' (or '*' for a suffix match)"
    if not value.isascii():
        # a request's path carries such a letter percent-encoded, and the policy matches the path as sent:
        # the rule would never match (a DENY rule would deny nothing)
        odd = next(c for c in value if not c.isascii())
        encoded = "".join(f"%{b:02X}" for b in odd.encode())
        return (f"path {value!r} holds {odd!r}, which a request's path carries percent-encoded ({encoded}): write "
                "it so, or the rule never matches")
    return ""


def host_problem(value: str) -> str:
    # a client sends an internationalised host in its xn-- form: matched as typed, it never matches
    return _wildcard_problem(value, "host") or non_ascii_host_problem(value, "host")


def condition_key_problem(key: str) -> str:
    if key in CONDITION_KEYS or key.startswith("experimental.envoy.filters.") and len(key) > 27:
        return ""
    if key.startswith("request.headers"):
        return "" if _HEADER.match(key) else f"condition key {key!r} is not like request.headers[x-user]"
    if key.startswith("request.auth.claims"):
        return "" if _CLAIM.match(key) else f"condition key {key!r} is not like request.auth.claims[groups]"
    return (f"condition key {key!r} is not one Istio knows (e.g. source.ip, request.headers[x-user], "
            "request.auth.claims[groups])")


def request_principal_problem(value: str) -> str:
    """A request principal is the ``<issuer>/<subject>`` of a JWT the request carries (or ``*``, or a
    prefix or suffix of one)."""
    problem = _wildcard_problem(value, "request principal")
    if problem:
        return problem
    if "*" not in value and "/" not in value:
        return (f"request principal {value!r} is not like <issuer>/<subject> of a JWT, e.g. "
                "https://accounts.example.com/alice")
    return ""


# a rule's source and operation fields, as Istio names them, with what each is checked with
SOURCE_FIELDS: dict[str, Any] = {
    "principals": principal_problem, "notPrincipals": principal_problem,
    "requestPrincipals": request_principal_problem, "notRequestPrincipals": request_principal_problem,
    "namespaces": namespace_problem, "notNamespaces": namespace_problem,
    "ipBlocks": ip_problem, "notIpBlocks": ip_problem,
}
OPERATION_FIELDS: dict[str, Any] = {
    "hosts": host_problem, "notHosts": host_problem, "ports": port_problem, "notPorts": port_problem,
    "methods": method_problem, "notMethods": method_problem, "paths": path_problem, "notPaths": path_problem,
}
_IDENTITY_FIELDS = ("principals", "notPrincipals", "namespaces", "notNamespaces")


def _entry_problems(entry: Mapping[str, Sequence[str]], checks: Mapping[str, Any], what: str) -> list[str]:
    out = []
    for key, values in entry.items():
        check = checks.get(key)
        if check is None:
            out.append(f"{what}: {key} is not a field Istio knows here")
            continue
        for v in values:
            problem = check(v)
            if problem:
                out.append(f"{what}, {key}: {problem}" if key.startswith("not") else f"{what}: {problem}")
    return out


@dataclass
class AuthzRule:
    """One rule: who (``sources``, each a ``from`` entry), what (``operations``, each a ``to`` entry)
    and when. An entry maps Istio's field names (``principals``, ``notPaths`` ...) to lists of values;
    a request matches the rule when it matches one source, one operation and every condition. No
    entry and no condition: a rule that matches every request."""

    sources: list[dict[str, list[str]]] = field(default_factory=list)
    operations: list[dict[str, list[str]]] = field(default_factory=list)
    when: list[tuple[str, list[str], list[str]]] = field(default_factory=list)  # key, values, notValues

    @staticmethod
    def _set(entry: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        return {k: list(v) for k, v in entry.items() if v}

    @property
    def matches_everything(self) -> bool:
        return not (any(self._set(e) for e in self.sources) or any(self._set(e) for e in self.operations)
                    or self.when)

    def problems(self) -> list[str]:
        out = []
        for label, entries, checks in (("from", self.sources, SOURCE_FIELDS), ("to", self.operations, OPERATION_FIELDS)):
            several = len(entries) > 1
            for i, entry in enumerate(entries, 1):
                what = f"{label} {i}" if several else label
                if not self._set(entry) and several:
                    out.append(f"{what} is empty: fill in a field or remove it (Istio refuses an empty "
                               f"{'source' if label == 'from' else 'operation'})")
                out += _entry_problems(self._set(entry), checks, what)
        for key, values, not_values in self.when:
            problem = condition_key_problem(key)
            if problem:
                out.append(problem)
            elif not values and not not_values:
                out.append(f"condition {key} needs at least one value")
            elif key in _IP_KEYS:
                out += [p for v in (*values, *not_values) if (p := ip_problem(v, f"{key} value"))]
            elif key == "destination.port":
                out += [p for v in (*values, *not_values) if (p := port_problem(v))]
        return out

    def to_spec(self) -> dict[str, Any]:
        rule: dict[str, Any] = {}
        sources = [{"source": s} for e in self.sources if (s := self._set(e))]
        if sources:
            rule["from"] = sources
        operations = []
        for e in self.operations:
            op = {k: ([m.upper() for m in v] if k in ("methods", "notMethods") else v) for k, v in self._set(e).items()}
            if op:
                operations.append({"operation": op})
        if operations:
            rule["to"] = operations
        if self.when:
            rule["when"] = [{"key": k, **({"values": list(v)} if v else {}), **({"notValues": list(n)} if n else {})}
                            for k, v, n in self.when]
        return rule


def parse_conditions(text: str) -> list[tuple[str, list[str], list[str]]]:
    """``source.ip=10.0.0.0/8, 10.1.0.0/16; request.headers[x-user]!=bot`` as (key, values, notValues):
    ``key=`` gives values the attribute must have one of, ``key!=`` values it must have none of; both
    for one key make one condition."""
    out: list[tuple[str, list[str], list[str]]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, values = part.partition("=")
        negated = key.endswith("!")
        key = key.removesuffix("!").strip()
        if not sep or not key:
            raise RoutingError(f"condition {part!r} is not like source.ip=10.0.0.0/8 (key=value, value; "
                               "key!=value for values it must not have)")
        at = next((i for i, c in enumerate(out) if c[0] == key), None)
        if at is None:
            out.append((key, [], []))
            at = len(out) - 1
        taken = out[at][2] if negated else out[at][1]
        if taken:
            raise RoutingError(f"condition {key}{'!=' if negated else '='} is given twice: list its values once, "
                               "separated by commas")
        taken += split_list(values)
        if not taken:
            raise RoutingError(f"condition {key} needs at least one value after {'!=' if negated else '='}")
    return out


def custom_rule_problem(rule: AuthzRule) -> str:
    """What of a rule Istio refuses in a CUSTOM policy ("" when nothing): the peer's identity
    (principals, namespaces), a JWT's request principals, and conditions on them."""
    fields = sorted({k for e in (*rule.sources,) for k, v in e.items() if v and k in _CUSTOM_SOURCE_FIELDS})
    keys = [k for k, _v, _n in rule.when if k in ("source.principal", "source.namespace")
            or k.startswith("request.auth.")]
    if not fields and not keys:
        return ""
    named = ", ".join([*fields, *(f"the condition on {k}" for k in keys)])
    return (f"a CUSTOM policy cannot match on {named}: Istio refuses principals, namespaces, request principals "
            "and conditions on source.principal, source.namespace or request.auth.* with CUSTOM (the external "
            "authorizer decides on who calls); match on hosts, paths, methods, ports, IP blocks or headers, or "
            "put the identity in an ALLOW or DENY policy")


def target_refs_spec(targets: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """``targetRefs`` for (kind, name) pairs, each with the API group Istio expects for its kind."""
    return [{"kind": kind, "group": TARGET_KINDS[kind], "name": name} for kind, name in targets]


def build_authorization_policy(name: str, namespace: str, policy: str, *, action: str = ALLOW,
                               selector: Mapping[str, str] | None = None,
                               rules: Sequence[AuthzRule] = (),
                               targets: Sequence[tuple[str, str]] = (),
                               provider: str = "") -> IstioObject:
    """An AuthorizationPolicy as Kiali's "Create" makes it: DENY_ALL is the empty spec, ALLOW_ALL
    ``action: ALLOW`` with ``rules: [{}]``, RULES the given rules with the action (CUSTOM: sent to the
    external authorizer ``provider``). A selector limits any of them to the workloads it selects; or
    ``targets`` (kind, name) attach it to a Gateway, Service or ServiceEntry (``targetRefs``) instead."""
    problem = name_problem(name)
    if problem:
        raise RoutingError(problem)
    if policy not in POLICY_KINDS:
        raise RoutingError(f"policy must be one of {', '.join(POLICY_KINDS)}")
    if selector and targets:
        raise RoutingError("a policy applies either to workloads by selector or to targets (targetRefs), not both: "
                           "Istio rejects one with both")
    seen: set[tuple[str, str]] = set()
    for kind, target in targets:
        if kind not in TARGET_KINDS:
            raise RoutingError(f"a target is a {', a '.join(TARGET_KINDS)}, not a {kind}")
        if not target:
            raise RoutingError(f"pick the {kind} the policy applies to (a target needs a name)")
        problem = name_problem(target)
        if problem:
            raise RoutingError(f"target {kind}: {problem}")
        if (kind, target) in seen:
            raise RoutingError(f"target {kind} {target} is given twice")
        seen.add((kind, target))
    spec: dict[str, Any] = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    if targets:
        spec["targetRefs"] = target_refs_spec(targets)
    if policy == ALLOW_ALL:
        spec["action"] = ALLOW
        spec["rules"] = [{}]
    elif policy == RULES:
        if action not in AUTHZ_ACTIONS:
            raise RoutingError(f"action must be {', '.join(AUTHZ_ACTIONS[:-1])} or {AUTHZ_ACTIONS[-1]}")
        if action == CUSTOM and not provider.strip():
            raise RoutingError("a CUSTOM policy needs the external authorizer to send requests to: pick a provider "
                               "(one of the mesh config's extensionProviders)")
        if not rules:
            raise RoutingError("add at least one rule (a policy of rules with none matches nothing)")
        for i, rule in enumerate(rules, 1):
            problems = rule.problems()
            if action == CUSTOM and (custom := custom_rule_problem(rule)):
                problems.append(custom)
            if problems:
                raise RoutingError(f"rule {i}: {problems[0]}")
        spec["action"] = action
        if action == CUSTOM:
            spec["provider"] = {"name": provider.strip()}
        spec["rules"] = [r.to_spec() for r in rules]
    return IstioObject("AuthorizationPolicy", name, namespace, SECURITY, spec, managed_labels())


def provider_problem(inv: Inventory, name: str, namespace: str | None = None) -> str:
    """Why a CUSTOM policy's provider will not do, by the mesh config ("" when it will, or when the mesh
    config's providers are not known): that of ``namespace``'s own istiod revision, whose proxies
    enforce the policy. Istio fails such a policy closed: every request it matches is denied."""
    settings = inv.mesh_settings if namespace is None else inv.settings_for(namespace)
    known = settings.authz_providers
    if known is None or not name or name in known:
        return ""
    kinds = settings.extension_providers or {}
    where = f"the mesh config {settings.source}".rstrip()
    if name in kinds:
        return (f"provider {name} of {where} is {'an ' + kinds[name] if kinds[name] else 'no'} provider, not an "
                "external authorizer (envoyExtAuthzHttp or envoyExtAuthzGrpc): Istio would deny every request the "
                "policy matches")
    offered = f"it declares {', '.join(known)}" if known else "it declares no external authorizer"
    return (f"provider {name} is not among the extensionProviders of {where} ({offered}): Istio would deny every "
            "request the policy matches")


# -- what the forms can show of an existing object (edit by form) ----------------------------------------

def _list_of_text(value: Any, where: str, out: list[str], *, allow: str = "") -> list[str]:
    """``value`` as a list of text the form's comma-separated fields can hold; what they cannot, in ``out``."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        out.append(f"{where} (not a list of text)")
        return []
    bad = [v for v in value if v != v.strip() or not v or any(c in v for c in "," + allow)]
    if bad:
        out.append(f"{where} (a value with a comma, spaces around it or nothing in it: {bad[0]!r})")
    return list(value)


def _entries(raw: Any, wrapper: str, fields: Mapping[str, Any], where: str, out: list[str]) -> list[dict[str, list[str]]]:
    entries = []
    if not isinstance(raw, list):
        out.append(f"{where} (not a list)")
        return []
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, dict) or set(item) != {wrapper} or not isinstance(item[wrapper], dict):
            out.append(f"{at} (only {wrapper} is shown)" if isinstance(item, dict) else f"{at} (not a mapping)")
            continue
        entry = {}
        for key, value in item[wrapper].items():
            if key not in fields:
                out.append(f"{at}.{wrapper}.{key}")
            else:
                entry[key] = _list_of_text(value, f"{at}.{wrapper}.{key}", out)
        entries.append(entry)
    return entries


def authorization_policy_fields(spec: Any) -> tuple[dict[str, Any], list[str]]:
    """What the AuthorizationPolicy form shows of ``spec``: its kind (DENY_ALL, ALLOW_ALL, RULES), action,
    selector labels or targets, rules and a CUSTOM action's provider; and the fields it cannot show (an
    AUDIT action, a target of another kind ...), by path: editing by form must not drop them, so any
    there means the YAML editor."""
    out: list[str] = []
    if not isinstance(spec, dict):
        return {}, ["spec (not a mapping)"]
    out += [f"spec.{k}" for k in spec if k not in ("selector", "action", "rules", "targetRefs", "targetRef",
                                                      "provider")]
    targets = _targets_of(spec, out)
    if targets and spec.get("selector") is not None:
        out.append("spec.selector and spec.targetRefs together (Istio rejects a policy with both)")
    raw_selector = spec.get("selector")
    if raw_selector is not None and (not isinstance(raw_selector, dict) or set(raw_selector) - {"matchLabels"}):
        out.append("spec.selector (only matchLabels is shown)")
    selector = _selector_of(raw_selector, "matchLabels")
    if any("," in f"{k}{v}" or "=" in f"{k}{v}" for k, v in selector.items()):
        out.append("spec.selector.matchLabels (a label the form cannot write back)")
    action = spec.get("action", ALLOW)
    if action not in AUTHZ_ACTIONS:
        out.append(f"spec.action {action!r} (the form writes ALLOW, DENY or CUSTOM)")
    raw_provider = spec.get("provider")
    provider = ""
    if raw_provider is not None:
        if action != CUSTOM:
            out.append(f"spec.provider with action {action} (Istio takes a provider with CUSTOM only)")
        elif not isinstance(raw_provider, dict) or set(raw_provider) - {"name"} \
                or not isinstance(raw_provider.get("name"), str):
            out.append("spec.provider (only its name is shown)")
        else:
            provider = raw_provider["name"]
    raw_rules = spec.get("rules")
    rules: list[AuthzRule] = []
    if raw_rules is not None and not isinstance(raw_rules, list):
        out.append("spec.rules (not a list)")
        raw_rules = []
    for i, raw in enumerate(raw_rules or ()):
        at = f"spec.rules[{i}]"
        if not isinstance(raw, dict):
            out.append(f"{at} (not a mapping)")
            continue
        out += [f"{at}.{k}" for k in raw if k not in ("from", "to", "when")]
        rule = AuthzRule(sources=_entries(raw.get("from", []), "source", SOURCE_FIELDS, f"{at}.from", out),
                         operations=_entries(raw.get("to", []), "operation", OPERATION_FIELDS, f"{at}.to", out))
        conditions = raw.get("when", [])
        for j, c in enumerate(conditions if isinstance(conditions, list) else [None]):
            where = f"{at}.when[{j}]"
            if not isinstance(c, dict) or not isinstance(c.get("key"), str):
                out.append(f"{where} (not a key and values)")
                continue
            out += [f"{where}.{k}" for k in c if k not in ("key", "values", "notValues")]
            key = c["key"]
            if any(ch in key for ch in "=;") or key != key.strip() or key.endswith("!") \
                    or any(k == key for k, _v, _n in rule.when):
                out.append(f"{where}.key (a key the form cannot write back: {key!r})")
            rule.when.append((key, _list_of_text(c.get("values", []), f"{where}.values", out, allow=";"),
                              _list_of_text(c.get("notValues", []), f"{where}.notValues", out, allow=";")))
        rules.append(rule)
    if not raw_rules and action == DENY:
        out.append("spec.action DENY without rules (it denies nothing; the form's deny-all is an empty spec)")
    if not raw_rules and action == CUSTOM:
        out.append("spec.action CUSTOM without rules (Istio rejects it: it would never be triggered)")
    if not raw_rules:
        kind = DENY_ALL
    elif action == ALLOW and raw_rules == [{}]:
        kind = ALLOW_ALL
    else:
        kind = RULES
    return {"kind": kind, "action": action if action in AUTHZ_ACTIONS else ALLOW, "selector": selector,
            "rules": rules, "targets": targets, "provider": provider}, out


def _targets_of(spec: Mapping[str, Any], out: list[str]) -> list[tuple[str, str]]:
    """The (kind, name) of a policy's ``targetRefs`` (or the older single ``targetRef``, which the form
    writes back as ``targetRefs``); what the form cannot show, in ``out``."""
    raw: list[Any] = []
    for key in ("targetRef", "targetRefs"):
        value = spec.get(key)
        if value is None:
            continue
        if key == "targetRef":
            raw.append((f"spec.{key}", value))
        elif not isinstance(value, list):
            out.append(f"spec.{key} (not a list)")
        else:
            raw += [(f"spec.{key}[{i}]", v) for i, v in enumerate(value)]
    targets = []
    for where, ref in raw:
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not ref.get("name"):
            out.append(f"{where} (not a kind and a name)")
            continue
        kind, group = ref.get("kind"), ref.get("group", "")
        if set(ref) - {"kind", "group", "name"}:
            out += [f"{where}.{k}" for k in ref if k not in ("kind", "group", "name")]
        elif kind not in TARGET_KINDS or group not in (TARGET_KINDS[kind], *(("core",) if kind == "Service" else ())):
            out.append(f"{where} (a {group + '/' if group else ''}{kind}: the form offers a Gateway, Service or "
                       "ServiceEntry)")
        else:
            targets.append((str(kind), str(ref["name"])))
    return targets


def _sidecar_port(port: Any, at: str, out: list[str]) -> tuple[str, str, str] | None:
    """A listener's port as the form shows it (number, protocol, name), the parts it cannot added to ``out``."""
    if not isinstance(port, dict):
        out.append(f"{at}.port (not a mapping)")
        return None
    out += [f"{at}.port.{k}" for k in port if k not in ("number", "protocol", "name")]
    number, protocol, name = port.get("number"), port.get("protocol", ""), port.get("name", "")
    shown = ["", "", ""]
    if not isinstance(number, int) or isinstance(number, bool):
        out.append(f"{at}.port.number (not a port number)")
    else:
        shown[0] = str(number)
    if not isinstance(protocol, str) or protocol and protocol.upper() not in EGRESS_PROTOCOLS:
        out.append(f"{at}.port.protocol {protocol!r} (the form offers {', '.join(EGRESS_PROTOCOLS)})")
    else:  # Istio reads a protocol in any case: shown upper case, kept as written (keep_sidecar_spellings)
        shown[1] = protocol.upper()
    if not isinstance(name, str):
        out.append(f"{at}.port.name (not text)")
    else:
        shown[2] = name
    return shown[0], shown[1], shown[2]


def _bind_and_capture(listener: dict[str, Any], at: str, out: list[str]) -> tuple[str, str]:
    bind, mode = listener.get("bind", ""), listener.get("captureMode", "")
    if not isinstance(bind, str):
        out.append(f"{at}.bind (not text)")
        bind = ""
    if not isinstance(mode, str) or mode and mode not in CAPTURE_MODES:
        out.append(f"{at}.captureMode {mode!r} (the form offers {', '.join(CAPTURE_MODES)})")
        mode = ""
    return bind, mode


def sidecar_fields(spec: Any) -> tuple[dict[str, Any], list[str]]:
    """What the Sidecar form shows of ``spec`` (selector labels, ingress and egress listeners, the
    outbound traffic policy) and the fields it cannot show (an ingress listener's TLS or connection
    pool, inboundConnectionPool, an egress proxy ...), by path."""
    out: list[str] = []
    if not isinstance(spec, dict):
        return {}, ["spec (not a mapping)"]
    out += [f"spec.{k}" for k in spec if k not in ("workloadSelector", "ingress", "egress", "outboundTrafficPolicy")]
    outbound = ""
    raw_outbound = spec.get("outboundTrafficPolicy")
    if raw_outbound is not None:
        if not isinstance(raw_outbound, dict):
            out.append("spec.outboundTrafficPolicy (not a mapping)")
        else:
            out += [f"spec.outboundTrafficPolicy.{k}" for k in raw_outbound if k != "mode"]
            mode = raw_outbound.get("mode")
            if mode not in OUTBOUND_POLICIES:
                out.append(f"spec.outboundTrafficPolicy.mode {mode!r} (the form writes ALLOW_ANY or REGISTRY_ONLY; "
                           "Istio reads none as REGISTRY_ONLY)" if mode else
                           "spec.outboundTrafficPolicy without a mode (Istio reads it as REGISTRY_ONLY)")
            else:
                outbound = str(mode)
    raw_selector = spec.get("workloadSelector")
    if raw_selector is not None and (not isinstance(raw_selector, dict) or set(raw_selector) - {"labels"}):
        out.append("spec.workloadSelector (only labels is shown)")
    selector = _selector_of(raw_selector, "labels")
    ingress: list[IngressListener] = []
    raw_ingress = spec.get("ingress")
    if raw_ingress is not None and not isinstance(raw_ingress, list):
        out.append("spec.ingress (not a list)")
        raw_ingress = []
    for i, e in enumerate(raw_ingress or []):
        at = f"spec.ingress[{i}]"
        if not isinstance(e, dict):
            out.append(f"{at} (not a mapping)")
            continue
        out += [f"{at}.{k}" for k in e if k not in ("port", "bind", "captureMode", "defaultEndpoint")]
        inbound = IngressListener()
        port = _sidecar_port(e.get("port"), at, out) if "port" in e else None
        if "port" not in e:
            out.append(f"{at} without a port")
        if port is not None:
            inbound.number, inbound.protocol, inbound.port_name = port
        inbound.bind, inbound.capture_mode = _bind_and_capture(e, at, out)
        endpoint = e.get("defaultEndpoint", "")
        if not isinstance(endpoint, str):
            out.append(f"{at}.defaultEndpoint (not text)")
        else:
            inbound.default_endpoint = endpoint
        ingress.append(inbound)
    listeners = []
    egress = spec.get("egress")
    if egress is None and ingress:
        egress = []
    elif not isinstance(egress, list) or not egress:
        out.append("spec.egress (the form needs at least one egress listener, or an ingress listener)")
        egress = []
    for i, e in enumerate(egress):
        at = f"spec.egress[{i}]"
        if not isinstance(e, dict):
            out.append(f"{at} (not a mapping)")
            continue
        out += [f"{at}.{k}" for k in e if k not in ("hosts", "port", "bind", "captureMode")]
        listener = EgressListener(_list_of_text(e.get("hosts", []), f"{at}.hosts", out))
        port = _sidecar_port(e["port"], at, out) if e.get("port") is not None else None
        if port is not None:
            listener.number, listener.protocol, listener.port_name = port
        listener.bind, listener.capture_mode = _bind_and_capture(e, at, out)
        listeners.append(listener)
    return {"selector": selector, "listeners": listeners, "ingress": ingress, "outbound": outbound}, out


def keep_sidecar_spellings(spec: dict[str, Any], before: Any) -> dict[str, Any]:
    """``spec`` (a Sidecar the form wrote) with each listener's port protocol spelled as ``before`` had it
    at the same place ("http" stays "http": Istio reads it as HTTP, and the form writes it upper case),
    so a save changes only what was changed."""
    if not isinstance(before, dict):
        return spec
    for side in ("ingress", "egress"):
        old_value = before.get(side)
        old: list[Any] = old_value if isinstance(old_value, list) else []
        for new_listener, old_listener in zip(spec.get(side) or [], old, strict=False):
            new_port = new_listener.get("port") if isinstance(new_listener, dict) else None
            old_port = old_listener.get("port") if isinstance(old_listener, dict) else None
            if not isinstance(new_port, dict) or not isinstance(old_port, dict):
                continue
            written = old_port.get("protocol")
            if isinstance(written, str) and written.upper() == new_port.get("protocol"):
                new_port["protocol"] = written
    return spec


def shown_kind_name(kind: str) -> str:
    """``kind`` as a person reads it: a Kubernetes Gateway API kind by the API's name ("Kubernetes Gateway"
    for its Gateway, not to be taken for Istio's), Istio's as they are."""
    if kind == "K8sGateway":
        return "Kubernetes Gateway"
    return kind[3:] if kind.startswith("K8s") else kind


def form_misfit(kind: str, spec: Any) -> str:
    """Why the form of ``kind`` cannot edit an object with ``spec``, in words ("" when it can)."""
    from meshdesk.mesh.gateway_config import gateway_fields
    from meshdesk.mesh.k8s_gateway_config import k8s_gateway_fields, reference_grant_fields
    from meshdesk.mesh.k8s_route_config import http_route_fields
    from meshdesk.mesh.request_auth import request_authentication_fields

    reader: Callable[[Any], tuple[Any, list[str]]] = {
        "AuthorizationPolicy": authorization_policy_fields, "RequestAuthentication": request_authentication_fields,
        "Gateway": gateway_fields, "K8sGateway": k8s_gateway_fields,
        "K8sReferenceGrant": reference_grant_fields, "K8sHTTPRoute": http_route_fields,
        "K8sGRPCRoute": lambda s: http_route_fields(s, "", "K8sGRPCRoute")}.get(kind, sidecar_fields)
    _, unknown = reader(spec)
    if not unknown:
        return ""
    shown = ", ".join(unknown[:4]) + (f" and {len(unknown) - 4} more" if len(unknown) > 4 else "")
    shown_kind = shown_kind_name(kind)
    return (f"The form cannot show all of this {shown_kind}: it has {shown}, which the form does not know, and "
            "saving from the form would drop it. Edit it as YAML instead (Istio config dock, Edit).")


def _taken(inv: Inventory, kind: str, namespace: str, name: str) -> None:
    existing = next((o for o in inv.istio_objects(kind, namespace) if o.name == name), None)
    if existing is not None:
        by = "added by meshdesk" if is_managed(existing) else "not added by meshdesk"
        article = "an" if kind[:1] in "AEIOU" else "a"
        raise RoutingError(f"{article} {kind} named {name} already exists in {namespace} ({by}): pick another name")


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


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def authz_target(inv: Inventory, namespace: str, spec: Mapping[str, Any]) -> str:
    """What an AuthorizationPolicy applies to, in words: its targets (targetRefs) when it has some, else the
    workloads its selector picks."""
    targets = _targets_of(spec, [])
    if not targets:
        return policy_target(inv, namespace, _selector_of(spec.get("selector"), "matchLabels"))
    words = [f"{kind} {namespace}/{name}" + (" (through its waypoint)" if kind != "Gateway" else "")
             for kind, name in targets]
    return " and ".join(words)


def target_notes(inv: Inventory, namespace: str, targets: Sequence[tuple[str, str]]) -> list[str]:
    """Warnings on a policy's targets: one that does not exist, and a Service or ServiceEntry no waypoint
    serves (a policy attached to one is enforced by its waypoint only: sidecars and ztunnel ignore it).
    What the inventory could not read is not judged."""
    notes = []
    ns = inv.namespace(namespace)
    for kind, name in targets:
        if kind == "Gateway":
            found: Any = next((g for g in inv.k8s_gateways if g.namespace == namespace and g.name == name), None)
            known = not any(k.endswith("/Gateway API gateways") for k in inv.hidden)
        elif kind == "Service":
            found = inv.service(namespace, name)
            known = ns is not None and not inv.unread(namespace, ("services",))
        else:
            found = next((o for o in inv.mesh_config("ServiceEntry") if o.namespace == namespace and o.name == name),
                         None)
            known = ns is not None and not inv.unread(namespace, ("ServiceEntry", "serviceentries"))
        if found is None:
            if known:
                notes.append(f"Warning: there is no {kind} {name} in {namespace}: the policy applies to nothing "
                             f"until one is made (a target names an object of the policy's own namespace).")
            continue
        if kind == "Gateway" or ns is None or f"{namespace}/namespace" in inv.hidden:
            continue
        labels = found.labels or {}
        if not enrolled(labels, ns.labels):
            notes.append(f"Warning: no waypoint serves {kind} {namespace}/{name} (neither it nor namespace {namespace} "
                         f"has the label {USE_WAYPOINT}): a policy attached to a {kind} is enforced by its waypoint "
                         "only (sidecars and ztunnel ignore it), so this one enforces nothing. Label the "
                         f"{kind} or the namespace {USE_WAYPOINT}=<waypoint>, or pick workloads by selector.")
            continue
        holder = labels if USE_WAYPOINT in labels else ns.labels
        waypoint, where = holder[USE_WAYPOINT], holder.get(USE_WAYPOINT_NAMESPACE) or namespace
        if inv.namespace(where) is None or inv.unread(where, WORKLOAD_LISTS):
            continue
        runs = any(w.namespace == where and w.name == waypoint and is_waypoint(w) for w in inv.workloads) \
            or any(g.namespace == where and g.name == waypoint for g in inv.k8s_gateways)
        if not runs:
            notes.append(f"Warning: {kind} {namespace}/{name} asks for waypoint {where}/{waypoint} ({USE_WAYPOINT}), "
                         "which does not exist: nothing enforces this policy until that waypoint runs.")
    return notes


def _covered(inv: Inventory, namespace: str, selector: Mapping[str, str]) -> list[str]:
    return sorted(w.name for w in inv.workloads if w.namespace == namespace
                  and all(w.labels.get(k) == v for k, v in selector.items()))


def allowing_policies(inv: Inventory, namespace: str, targets: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The ALLOW policies with rules that apply in ``namespace`` (its own and the root namespace's), by
    namespace/name: beside a deny-all, what they allow still gets in. Beside a deny-all for workloads by
    selector, not those attached by ``targetRefs`` (a waypoint or gateway enforces them, not the
    workloads' proxies); beside one with ``targets``, those attached to one of the same targets only."""
    out = []
    for o in inv.istio_objects("AuthorizationPolicy"):
        if o.namespace not in (namespace, inv.mesh_settings.root_namespace) or not isinstance(o.spec, dict) \
                or str(o.spec.get("action") or ALLOW).upper() != ALLOW or not o.spec.get("rules"):
            continue
        theirs = _targets_of(o.spec, [])
        if (set(theirs) & set(targets)) if targets else not (theirs or o.spec.get("targetRef") or o.spec.get("targetRefs")):
            out.append(f"{o.namespace}/{o.name}")
    return sorted(out)


def authorization_policy_plan(inv: Inventory, ap: IstioObject, *, editing: bool = False) -> ChangePlan:
    """Create ``ap``; a name already taken is refused. The notes say in words what it will deny: a policy
    that denies everything, or makes every request its rules do not match be denied, is a warning.
    ``editing``: the notes only (the change is the edit's, a REPLACE of the object as read)."""
    if not editing:
        _taken(inv, "AuthorizationPolicy", ap.namespace, ap.name)
    spec = ap.spec
    selector = _selector_of(spec.get("selector"), "matchLabels")
    targets = _targets_of(spec, [])
    target = authz_target(inv, ap.namespace, spec)
    kind = DENY_ALL if not spec.get("rules") and spec.get("action", ALLOW) == ALLOW else \
        ALLOW_ALL if spec.get("rules") == [{}] and spec.get("action") == ALLOW else RULES
    provider = str(_d(spec.get("provider")).get("name") or "")
    if spec.get("action") == CUSTOM:
        problem = provider_problem(inv, provider, ap.namespace)
        if problem:
            raise RoutingError(problem[:1].upper() + problem[1:] + ". Pick one of its external authorizers, or "
                               "declare this one in the mesh config (extensionProviders) first.")
    plan = ChangePlan(f"AuthorizationPolicy {ap.namespace}/{ap.name} ({kind.replace('_', ' ').lower()}"
                      f"{', ' + str(spec.get('action')) if kind == RULES else ''})")
    _note_selected(plan, inv, ap.namespace, selector, "policy")
    plan.notes += target_notes(inv, ap.namespace, targets)
    ns = inv.namespace(ap.namespace)
    l7 = l7_authorization(spec)
    if not targets and l7 and ns is not None and ns.ambient:
        plan.notes.append(f"Warning: namespace {ap.namespace} is in ambient mode and this policy has L7 rules ({l7}): "
                          "ztunnel cannot check L7 rules and fails safe by enforcing such a policy as a DENY "
                          "policy (traffic is refused, not filtered), and a waypoint ignores policies that pick "
                          "workloads by selector. Attach it to the Service or the waypoint Gateway instead "
                          "(Applies to: Targets).")
    if spec.get("action") == CUSTOM:
        plan.notes.append(f"The requests to {target} its rules match are sent to the external authorizer {provider} "
                          "first, which allows or denies each; what it allows is then judged by the DENY and ALLOW "
                          "policies as before.")
        own = inv.settings_for(ap.namespace)
        if own.authz_providers is None:
            why = own.unread or "this snapshot does not hold them"
            plan.notes.append(f"Warning: the mesh config's extension providers are not known ({why}): if {provider} "
                              "is not one of them, Istio denies every request the policy matches.")
    rules = spec.get("rules") or []
    everything = any(r == {} for r in rules)
    allowing = [a for a in allowing_policies(inv, ap.namespace, targets) if a != f"{ap.namespace}/{ap.name}"]
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
    elif kind == RULES and spec.get("action") == ALLOW and everything:
        n = next(i for i, r in enumerate(rules, 1) if r == {})
        plan.notes.append(f"Warning: rule {n} has no field set, so it matches every request: this allows every "
                          f"request to {target}, as an allow-all does, whatever its other rules say.")
    elif kind == RULES and spec.get("action") == ALLOW:
        plan.notes.append(f"Once this ALLOW policy is in force, a request to {target} that none of its rules "
                          "(nor another ALLOW policy's) matches is denied.")
    elif kind == ALLOW_ALL:
        others = [o.name for o in inv.istio_objects("AuthorizationPolicy", ap.namespace)
                  if isinstance(o.spec, dict) and o.spec.get("action") == DENY and o.name != ap.name]
        if others:
            plan.notes.append(f"DENY policies still deny what they match ({', '.join(sorted(others))}): they "
                              "are evaluated before any ALLOW policy.")
    if any(_uses_identity(r) for r in rules if isinstance(r, dict)):
        plan.notes.append("Principals and namespaces are read from the client's mutual-TLS certificate: a request "
                          "sent in plain text (from a workload without a sidecar, or where mTLS is disabled) "
                          "never matches them.")
    if any(_uses_jwt(r) for r in rules if isinstance(r, dict)):
        root = inv.mesh_settings.root_namespace
        validators = [o for o in inv.istio_objects("RequestAuthentication") if o.namespace in (ap.namespace, root)]
        if not validators:
            read_root = root == ap.namespace or inv.namespace(root) is not None
            plan.notes.append(f"Warning: request principals and request.auth conditions match only requests whose JWT a "
                              f"RequestAuthentication validated, and there is none in {ap.namespace}"
                              + (f" nor in the root namespace {root}: no request matches them." if read_root else
                                 f" (the root namespace {root} was not read; one there would do): without one, no "
                                 "request matches them."))
        elif not targets:
            # there are some: those whose selector picks none of the policy's workloads validate nothing for them
            covered = [w for w in inv.workloads if w.namespace == ap.namespace
                       and all(w.labels.get(k) == v for k, v in selector.items())]

            def validated(w: Any) -> bool:
                return any(all(w.labels.get(k) == v for k, v in
                               _selector_of(o.spec.get("selector") if isinstance(o.spec, dict) else None,
                                            "matchLabels").items()) for o in validators)

            bare = sorted(w.name for w in covered if not validated(w))
            if bare:
                ras = ", ".join(sorted(f"{o.namespace}/{o.name}" for o in validators))
                plan.notes.append(
                    "Warning: request principals and request.auth conditions match only requests whose JWT a "
                    f"RequestAuthentication validated, and no RequestAuthentication ({ras}) selects "
                    f"{', '.join(bare)}: for {'their' if len(bare) > 1 else 'its'} requests they match nothing"
                    + (" (nor for any workload this policy applies to)." if len(bare) == len(covered) else "."))
    if editing:
        # the form writes methods upper case: say so when the copy read had them otherwise
        old = next((o for o in inv.istio_objects("AuthorizationPolicy", ap.namespace) if o.name == ap.name), None)
        if old is not None and isinstance(old.spec, dict) and isinstance(old.spec.get("targetRef"), dict) and targets:
            plan.notes.append("Its targetRef (the older single field, deprecated) will be written as targetRefs, "
                              "which Istio 1.22 and later read.")
        lower = sorted({m for m in _methods(old.spec if old is not None else None) if m != m.upper()})
        if lower:
            plan.notes.append(f"Method{'s' if len(lower) > 1 else ''} {', '.join(lower)} will be written upper case: "
                              "Istio compares a request's method as the client sends it (upper case), so as "
                              "written they matched no request; this changes what the policy matches.")
    if not editing:
        plan.changes.append(Change(CREATE, obj=ap))
    return plan


def _methods(spec: Any) -> list[str]:
    """The ``methods`` and ``notMethods`` texts of a policy's operations."""
    out: list[str] = []
    for rule in (spec.get("rules") if isinstance(spec, dict) else None) or ():
        for to in (rule.get("to") if isinstance(rule, dict) else None) or ():
            op = to.get("operation") if isinstance(to, dict) else None
            for key in ("methods", "notMethods"):
                values = op.get(key) if isinstance(op, dict) else None
                out += [m for m in values or () if isinstance(m, str)] if isinstance(values, list) else []
    return out


def _uses_jwt(rule: Mapping[str, Any]) -> bool:
    sources = [f.get("source") for f in rule.get("from") or () if isinstance(f, dict)]
    keys = [str(c.get("key")) for c in rule.get("when") or () if isinstance(c, dict) and c.get("values")]
    return any(isinstance(src, dict) and src.get("requestPrincipals") for src in sources) \
        or any(k.startswith("request.auth.") for k in keys)


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
        target = authz_target(inv, o.namespace, spec)
        what = f"AuthorizationPolicy {o.namespace}/{o.name}"
        if action == CUSTOM:
            provider = str(_d(spec.get("provider")).get("name") or "")
            notes.append(f"Warning: {what} sends the requests to {target} its rules match to the external authorizer "
                         f"{provider}: once it is deleted they are no longer checked there, only by the ALLOW and DENY "
                         "policies.")
            continue
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
    notes += _request_authentication_removal_notes(inv, deleted, gone)
    return notes


def _request_authentication_removal_notes(inv: Inventory, deleted: Sequence[IstioObject],
                                          gone: set[tuple[str, str]]) -> list[str]:
    """Deleting a RequestAuthentication: the tokens it checked are no longer validated, so the rules of the
    AuthorizationPolicies left that ask for request principals (or request.auth claims) of its workloads
    match no request any more (an ALLOW policy's then deny what they allowed; a DENY policy's deny nothing)."""
    notes = []
    root = inv.mesh_settings.root_namespace
    removed = [o for o in deleted if o.kind == "RequestAuthentication"]
    left = [o for o in inv.istio_objects("RequestAuthentication") if (o.namespace, o.name)
            not in {(r.namespace, r.name) for r in removed}]
    for ra in removed:
        spec = ra.spec if isinstance(ra.spec, dict) else {}
        selector = _selector_of(spec.get("selector"), "matchLabels")
        what = f"RequestAuthentication {ra.namespace}/{ra.name}"
        target = policy_target(inv, ra.namespace, selector)
        covered = [w for w in inv.workloads if (ra.namespace == root or w.namespace == ra.namespace)
                   and all(w.labels.get(k) == v for k, v in selector.items())]
        still = [w for w in covered if any(
            o.namespace in (w.namespace, root) and all(
                w.labels.get(k) == v for k, v in
                _selector_of(o.spec.get("selector") if isinstance(o.spec, dict) else None, "matchLabels").items())
            for o in left)]
        bare = {(w.namespace, w.name) for w in covered if w not in still}
        users = []
        for p in inv.istio_objects("AuthorizationPolicy"):
            if (p.namespace, p.name) in gone or not isinstance(p.spec, dict) or _targets_of(p.spec, []):
                continue
            if not any(isinstance(r, dict) and _uses_jwt(r) for r in p.spec.get("rules") or ()):
                continue
            sel = _selector_of(p.spec.get("selector"), "matchLabels")
            if any((w_ns, w_name) in bare for w_ns, w_name in
                   ((w.namespace, w.name) for w in inv.workloads
                    if (p.namespace == root or w.namespace == p.namespace)
                    and all(w.labels.get(k) == v for k, v in sel.items()))):
                action = str(p.spec.get("action") or ALLOW).upper()
                users.append(f"{p.namespace}/{p.name} ({action})")
        if users:
            notes.append(f"Warning: once {what} is deleted, no token sent to {target} is validated, so the rules of "
                         f"AuthorizationPolicy {', '.join(sorted(users))} that ask for request principals or "
                         "request.auth claims match no request: an ALLOW policy's then deny the requests they "
                         "allowed, a DENY policy's deny nothing.")
        elif bare or not covered:
            notes.append(f"Once {what} is deleted, the tokens sent to {target} are no longer checked: a request "
                         "with an invalid token gets through.")
    return notes


def _uses_identity(rule: Mapping[str, Any]) -> bool:
    sources = [f.get("source") for f in rule.get("from") or () if isinstance(f, dict)]
    keys = [c.get("key") for c in rule.get("when") or () if isinstance(c, dict)]
    return any(isinstance(src, dict) and any(src.get(k) for k in _IDENTITY_FIELDS) for src in sources) \
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
    if problem := non_ascii_host_problem(host, f"egress host {said(value)}: host"):
        return problem
    if not host or not _HOST.match(host.lower()):
        return f"egress host {value!r}: {host!r} is not a host name ('*', a name, or *.a-suffix)"
    if host != "*" and "." not in host:
        return (f"egress host {said(value)}: {said(host)} is a short name, which Istio refuses in a Sidecar: give the "
                f"full name (e.g. {host}.{ns if ns not in ('.', '*', '~') else 'default'}.svc.cluster.local)")
    # as Istio checks a host name: its length, each part a DNS label (its pattern here takes any length)
    return dns_length_problem(host, f"egress host {said(value)}: the name", numeric_tld=True)


# the protocols an egress listener's port may name (Istio's, upper case as it writes them)
EGRESS_PROTOCOLS = ("HTTP", "HTTPS", "HTTP2", "GRPC", "TCP", "TLS", "MONGO", "REDIS", "MYSQL")


def _port_name_problem(name: str) -> str:
    if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
        return f"port name {said(name)} is not a name (at most 63 lower-case letters, digits and '-')"
    return ""


@dataclass
class EgressListener:
    """One egress listener of a Sidecar: the hosts its workloads may reach, on one port (``number`` "",
    the listener for every other port; "0", a Unix domain socket, named by ``bind``), with the address
    it binds to and how traffic to it is captured (``capture_mode``, "" for Istio's default)."""

    hosts: list[str] = field(default_factory=list)
    number: str = ""
    protocol: str = ""
    port_name: str = ""
    bind: str = ""
    capture_mode: str = ""

    def problems(self) -> list[str]:
        clean = [h.strip() for h in self.hosts if h.strip()]
        if not clean:
            return ["needs at least one egress host, e.g. ./* and istio-system/*"]
        out = [p for h in clean if (p := egress_host_problem(h))]
        dup = next((h for h in clean if clean.count(h) > 1), None)
        if dup is not None:
            out.append(f"egress host {dup} is given twice")
        number, bind = self.number.strip(), self.bind.strip()
        if self.capture_mode and self.capture_mode not in CAPTURE_MODES:
            out.append(f"capture mode {said(self.capture_mode)} is not one of {', '.join(CAPTURE_MODES)}")
        if number:
            if number == "0":  # a Unix domain socket: Istio takes port 0 with a unix:// bind only
                if not bind.startswith(UNIX_PREFIX):
                    out.append("port 0 is for a Unix domain socket: give its bind as unix:///path or unix://@name "
                               "(or a port number from 1 to 65535)")
                elif problem := bind_problem(bind, unix=True):
                    out.append(problem)
                if self.capture_mode == "IPTABLES":
                    out.append("a Unix domain socket listener takes capture mode DEFAULT or NONE, not IPTABLES")
            else:
                if problem := port_problem(number):
                    out.append(problem)
                if bind.startswith(UNIX_PREFIX):
                    out.append(f"bind {said(bind)} is a Unix domain socket, which takes port 0; or bind an IP "
                               "address")
                elif bind and (problem := bind_problem(bind)):
                    out.append(problem)
            if self.protocol and self.protocol.upper() not in EGRESS_PROTOCOLS:
                out.append(f"protocol {self.protocol!r} is not one of {', '.join(EGRESS_PROTOCOLS)}")
            if self.port_name and (problem := _port_name_problem(self.port_name)):
                out.append(problem)
        elif self.protocol or self.port_name or bind:
            out.append("a protocol, port name or bind address needs a port number")
        return out

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.number.strip():
            port: dict[str, Any] = {"number": int(self.number.strip())}
            if self.protocol:
                port["protocol"] = self.protocol.upper()
            if self.port_name:
                port["name"] = self.port_name
            out["port"] = port
        if self.bind.strip():
            out["bind"] = self.bind.strip()
        if self.capture_mode:
            out["captureMode"] = self.capture_mode
        out["hosts"] = [h.strip() for h in self.hosts if h.strip()]
        return out

    def empty(self) -> bool:
        return not any(h.strip() for h in self.hosts) and not any(
            (self.number.strip(), self.protocol, self.port_name, self.bind.strip(), self.capture_mode))


@dataclass
class IngressListener:
    """One ingress listener of a Sidecar: the port its workloads take traffic on (a number, optionally a
    protocol and a name), where the sidecar passes that traffic (``default_endpoint``: ``127.0.0.1:8080``,
    ``unix:///path``; "" the workload's own address on that port), the address it binds to and how
    traffic to it is captured."""

    number: str = ""
    protocol: str = ""
    port_name: str = ""
    default_endpoint: str = ""
    bind: str = ""
    capture_mode: str = ""

    def problems(self) -> list[str]:
        number = self.number.strip()
        if not number:
            return ["needs a port number (the port its workloads take traffic on)"]
        out = []
        if problem := port_problem(number):
            out.append(problem)
        if self.protocol and self.protocol.upper() not in EGRESS_PROTOCOLS:
            out.append(f"protocol {self.protocol!r} is not one of {', '.join(EGRESS_PROTOCOLS)}")
        if self.port_name and (problem := _port_name_problem(self.port_name)):
            out.append(problem)
        if self.default_endpoint.strip() and (problem := default_endpoint_problem(self.default_endpoint.strip())):
            out.append(problem)
        if self.bind.strip() and (problem := bind_problem(self.bind.strip())):
            out.append(problem)
        if self.capture_mode and self.capture_mode not in CAPTURE_MODES:
            out.append(f"capture mode {said(self.capture_mode)} is not one of {', '.join(CAPTURE_MODES)}")
        return out

    def to_spec(self) -> dict[str, Any]:
        port: dict[str, Any] = {"number": int(self.number.strip())}
        if self.protocol:
            port["protocol"] = self.protocol.upper()
        if self.port_name:
            port["name"] = self.port_name
        out: dict[str, Any] = {"port": port}
        if self.bind.strip():
            out["bind"] = self.bind.strip()
        if self.capture_mode:
            out["captureMode"] = self.capture_mode
        if self.default_endpoint.strip():
            out["defaultEndpoint"] = self.default_endpoint.strip()
        return out


def build_sidecar(name: str, namespace: str, egress: Sequence[EgressListener | str], *,
                  selector: Mapping[str, str] | None = None, outbound: str = "",
                  ingress: Sequence[IngressListener] = ()) -> IstioObject:
    """A Sidecar with ``egress``: listeners, or the hosts of one listener for every port. Istio takes at
    most one listener without a port, last, and no port twice. ``outbound``: its
    ``outboundTrafficPolicy.mode`` (ALLOW_ANY, REGISTRY_ONLY; "" for the mesh config's). ``ingress``:
    its ingress listeners, one per port; with some, an egress listener left empty is left out (the
    sidecars then know every host, as Istio reads a Sidecar without egress)."""
    if outbound and outbound not in OUTBOUND_POLICIES:
        raise RoutingError(f"outbound traffic policy must be {' or '.join(OUTBOUND_POLICIES)}")
    problem = name_problem(name)
    if problem:
        raise RoutingError(problem)
    listeners = [e for e in egress if isinstance(e, EgressListener)]
    hosts = [e for e in egress if isinstance(e, str)]
    if hosts:
        listeners.append(EgressListener(hosts))
    if ingress:
        listeners = [e for e in listeners if not e.empty()]
    if not listeners and not ingress:
        raise RoutingError("a Sidecar needs at least one egress host, e.g. ./* and istio-system/*")
    several_in = len(ingress) > 1
    for i, inbound in enumerate(ingress, 1):
        if problems := inbound.problems():
            raise RoutingError(f"ingress listener {i if several_in else ''}".rstrip() + f": {problems[0]}")
    in_ports = [int(e.number) for e in ingress]
    dup_in = next((n for n in in_ports if in_ports.count(n) > 1), None)
    if dup_in is not None:
        raise RoutingError(f"port {dup_in} is given to two ingress listeners: one listener per port")
    several = len(listeners) > 1
    for i, listener in enumerate(listeners, 1):
        problems = listener.problems()
        if problems:
            if not several and not ingress and problems[0].startswith("needs "):
                raise RoutingError(f"a Sidecar {problems[0]}")
            if not several and ingress:  # said apart from the ingress listeners
                raise RoutingError(f"egress listener: {problems[0]}" + (
                    " (or leave it empty: the sidecars then know every host)" if problems[0].startswith("needs ")
                    else ""))
            raise RoutingError(f"egress listener {i}: {problems[0]}" if several else problems[0])
    portless = [i for i, e in enumerate(listeners, 1) if not e.number.strip()]
    if len(portless) > 1:
        raise RoutingError(f"egress listeners {' and '.join(map(str, portless))} both have no port: only one "
                           "listener may go without a port (it takes every port the others do not name); give "
                           "the others a port, or join their hosts")
    if portless and portless[0] != len(listeners):
        raise RoutingError(f"egress listener {portless[0]} has no port: the listener without a port must be the "
                           "last one (Istio refuses it elsewhere); move it down, or give it a port")
    numbers = [int(e.number) for e in listeners if e.number.strip() and int(e.number) != 0]
    dup_port = next((n for n in numbers if numbers.count(n) > 1), None)
    if dup_port is not None:
        raise RoutingError(f"port {dup_port} is given to two egress listeners: one listener per port")
    sockets = [e.bind.strip() for e in listeners if e.number.strip() == "0"]
    dup_socket = next((b for b in sockets if sockets.count(b) > 1), None)
    if dup_socket is not None:
        raise RoutingError(f"socket {dup_socket} is bound by two egress listeners: one listener per socket")
    spec: dict[str, Any] = {}
    if selector:
        spec["workloadSelector"] = {"labels": dict(selector)}
    if ingress:
        spec["ingress"] = [e.to_spec() for e in ingress]
    if listeners:
        spec["egress"] = [e.to_spec() for e in listeners]
    if outbound:
        spec["outboundTrafficPolicy"] = {"mode": outbound}
    return IstioObject("Sidecar", name, namespace, NETWORKING, spec, managed_labels())


def egress_words(spec: Mapping[str, Any]) -> str:
    """The egress hosts of a Sidecar spec in words, by port where a listener has one."""
    parts = []
    for e in spec.get("egress") or ():
        hosts = ", ".join(str(h) for h in e.get("hosts") or ())
        port = e.get("port") if isinstance(e.get("port"), dict) else None
        if port and port.get("number") == 0 and isinstance(e.get("bind"), str):
            parts.append(f"{hosts} on port 0 (socket {e['bind']})")
        else:
            parts.append(f"{hosts} on port {port.get('number')}" if port else hosts)
    if len(parts) > 1 and any(" on port " not in p for p in parts):
        parts[-1] += " on other ports" if " on port " not in parts[-1] else ""
    return "; ".join(parts)


def ingress_words(spec: Mapping[str, Any]) -> str:
    """The ingress listeners of a Sidecar spec in words: each port and where its traffic goes."""
    parts = []
    for e in spec.get("ingress") or ():
        if not isinstance(e, dict):
            continue
        port: dict[str, Any] = e["port"] if isinstance(e.get("port"), dict) else {}
        where = f" to {e['defaultEndpoint']}" if e.get("defaultEndpoint") else ""
        how = f" ({port['protocol']})" if port.get("protocol") else ""
        parts.append(f"port {port.get('number')}{how}{where}")
    return "; ".join(parts)


def passthrough_calls(graph: Any, namespace: str, workloads: Sequence[Workload]) -> tuple[list[str], list[str]]:
    """What the graph shows ``workloads`` of ``namespace`` calling through PassthroughCluster (hosts no
    ServiceEntry registers): (the hosts the telemetry names, the workloads or apps seen calling), sorted.
    In an app graph a node is an app: one of the workloads' apps."""
    nodes = getattr(graph, "nodes", None) or {}
    edges = getattr(graph, "edges", None) or {}
    wanted = {w.name for w in workloads}
    apps = {w.app for w in workloads if w.app}
    hosts: set[str] = set()
    callers: set[str] = set()
    for e in edges.values():
        src, dst = nodes.get(e.source), nodes.get(e.target)
        if src is None or dst is None or dst.service != PASSTHROUGH or src.namespace != namespace:
            continue
        if src.workload and src.workload not in wanted:
            continue
        if not src.workload and src.app not in apps:
            continue
        callers.add(src.workload or src.app)
        for detail in e.responses.values():
            hosts.update(h for h in detail.hosts if h and h not in (PASSTHROUGH, UNKNOWN))
    return sorted(hosts), sorted(callers)


def outbound_notes(inv: Inventory, sc: IstioObject, graph: Any = None) -> list[str]:
    """What a Sidecar's outbound traffic policy (its own, else the mesh config's) does to calls to hosts no
    ServiceEntry registers: with REGISTRY_ONLY they are blocked, and the hosts the graph shows its
    workloads calling through PassthroughCluster are named."""
    spec = sc.spec if isinstance(sc.spec, dict) else {}
    own = str(_d(spec.get("outboundTrafficPolicy")).get("mode") or "")
    settings = inv.settings_for(sc.namespace)  # its namespace's own istiod revision's mesh config
    mode = own or settings.outbound_policy
    if mode != "REGISTRY_ONLY":
        return []
    selector = _selector_of(spec.get("workloadSelector"), "labels")
    namespaces = {w.namespace for w in inv.workloads} if not selector and sc.namespace == \
        inv.mesh_settings.root_namespace else {sc.namespace}
    whose = "its own" if own else (f"the mesh config's ({settings.source})" if settings.read
                                   else "Istio's default as assumed, the mesh config not read")
    notes = [f"Warning: the outbound traffic policy is REGISTRY_ONLY ({whose}): calls to hosts outside the mesh "
             "that no ServiceEntry registers (and to any host not among its egress hosts) are blocked: they go "
             "to BlackHoleCluster and fail with 502."]
    hosts: list[str] = []
    callers: list[str] = []
    for ns in sorted(namespaces):
        covered = [w for w in inv.workloads if w.namespace == ns
                   and all(w.labels.get(k) == v for k, v in selector.items())]
        h, c = passthrough_calls(graph, ns, covered)
        hosts += h
        callers += c
    if hosts:
        notes.append(f"Warning: the graph shows {', '.join(sorted(set(callers)))} calling {', '.join(sorted(set(hosts)))} "
                     "through PassthroughCluster (no ServiceEntry registers "
                     f"{'them' if len(set(hosts)) > 1 else 'it'}): those calls would be blocked. Add a ServiceEntry "
                     "first, or keep ALLOW_ANY.")
    elif callers:
        notes.append(f"Warning: the graph shows {', '.join(sorted(set(callers)))} calling hosts outside the mesh "
                     "through PassthroughCluster (the telemetry does not name them): those calls would be blocked. "
                     "Add ServiceEntries for them first, or keep ALLOW_ANY.")
    return notes


def sidecar_plan(inv: Inventory, sc: IstioObject, *, editing: bool = False, graph: Any = None) -> ChangePlan:
    """Create ``sc``; a name already taken is refused, and so is a second Sidecar without a selector in
    a namespace (Istio then picks one of them in no set order). ``editing``: the notes only. ``graph``:
    the traffic graph shown, whose calls through PassthroughCluster REGISTRY_ONLY would block."""
    if not editing:
        _taken(inv, "Sidecar", sc.namespace, sc.name)
    selector = _selector_of(sc.spec.get("workloadSelector"), "labels")
    if not selector:
        wide = [o.name for o in inv.istio_objects("Sidecar", sc.namespace) if o.name != sc.name
                and not _selector_of(o.spec.get("workloadSelector") if isinstance(o.spec, dict) else None, "labels")]
        before = next((o for o in inv.istio_objects("Sidecar", sc.namespace) if o.name == sc.name), None)
        was_wide = editing and before is not None and not _selector_of(
            before.spec.get("workloadSelector") if isinstance(before.spec, dict) else None, "labels")
        if wide and not was_wide:
            raise RoutingError(f"namespace {sc.namespace} already has a Sidecar without a workload selector "
                               f"({', '.join(sorted(wide))}); Istio would pick one of the two in no set order. "
                               "Give this one a workload selector, or change that one.")
    target = policy_target(inv, sc.namespace, selector)
    if not selector and sc.namespace == inv.mesh_settings.root_namespace:
        # the mesh's default: a namespace with a Sidecar of its own keeps that one
        target = (f"every workload of a namespace without a Sidecar of its own (namespace {sc.namespace} is the "
                  "mesh's root namespace, so this is the mesh's default)")
    plan = ChangePlan(f"Sidecar {sc.namespace}/{sc.name} for {target}")
    own = str(_d(sc.spec.get("outboundTrafficPolicy")).get("mode") or "")
    mode = own or inv.settings_for(sc.namespace).outbound_policy
    fate = "fail (REGISTRY_ONLY)" if mode == "REGISTRY_ONLY" else "go out through PassthroughCluster (ALLOW_ANY)"
    if sc.spec.get("egress"):
        plan.notes.append(f"The sidecars of {target} will know only the hosts of {egress_words(sc.spec)}: calls to "
                          f"any other service of the mesh {fate}, as the outbound traffic policy "
                          f"({'its own' if own else 'the mesh config' + chr(39) + 's'}) says.")
    else:
        plan.notes.append(f"The Sidecar has no egress listener: the sidecars of {target} know every host of the "
                          "mesh, as without a Sidecar.")
    if ingress := ingress_words(sc.spec):
        plan.notes.append(f"The sidecars of {target} will take inbound traffic on {ingress}: Istio makes their inbound "
                          "listeners from these, no longer from the ports of their Services.")
    plan.notes += outbound_notes(inv, sc, graph)
    _note_selected(plan, inv, sc.namespace, selector, "Sidecar")
    if not selector and wide:  # editing one of two already there: the edit is let through, the clash said
        plan.notes.append(f"Warning: namespace {sc.namespace} also has {', '.join(sorted(wide))} without a workload "
                          "selector; Istio picks one of them in no set order, so this one may not be the one in "
                          "force. Give one a workload selector, or remove one.")
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
    if not editing:
        plan.changes.append(Change(CREATE, obj=sc))
    return plan
