"""A RequestAuthentication made from what a person typed, as Kiali's "Create" form makes one: a workload
selector and JWT rules (issuer, audiences, where the keys are, where the token is read from, what is passed
on), checked before anything is sent, and turned into a ``ChangePlan``.

Istio's semantics, which the plan's notes spell out: a RequestAuthentication refuses a request whose token
is invalid (401), but lets a request WITHOUT a token through; to require a token, an AuthorizationPolicy
must allow only requests with a request principal. The plan can add such a policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from meshdesk.mesh.changes import CREATE, Change, ChangePlan
from meshdesk.mesh.inventory import Inventory, IstioObject
from meshdesk.mesh.routing import SECURITY, RoutingError, is_digits, said
from meshdesk.mesh.routing import _managed as managed_labels
from meshdesk.mesh.security import (
    ALLOW,
    _list_of_text,
    _note_selected,
    _selector_of,
    _taken,
    name_problem,
    policy_target,
)

# what an HTTP header name may hold (RFC 9110's token)
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_RULE_FIELDS = ("issuer", "audiences", "jwksUri", "jwks", "fromHeaders", "fromParams", "fromCookies",
                "forwardOriginalToken", "outputPayloadToHeader", "outputClaimToHeaders")


def header_problem(value: str, what: str = "header") -> str:
    """Why ``value`` cannot name an HTTP header ("" when it can)."""
    if not value:
        return f"a {what} needs a name"
    if not _TOKEN.fullmatch(value):
        return (f"{what} {said(value)} is not a name an HTTP request can carry (letters, digits and !#$%&'*+-.^_`|~; "
                "no spaces, ':' or '=')")
    return ""


def jwks_uri_problem(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:  # an IPv6 address without its closing bracket, or no IP address within brackets
        parts = urlsplit("")
    if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in value):
        return f"jwksUri {said(value)} is not a URL like https://example.com/.well-known/jwks.json"
    # Istio reads the port as written: the keys are then fetched from a port no server listens on
    port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    if port and (not is_digits(port) or not 1 <= int(port) <= 65535):
        return f"jwksUri {said(value)}: port {said(port)} is not a port number from 1 to 65535"
    return ""


def jwks_problem(value: str) -> str:
    try:
        doc = json.loads(value)
    except json.JSONDecodeError as e:
        return f"inline jwks is not JSON ({e.msg} at line {e.lineno}, column {e.colno})"
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        return 'inline jwks is not a JSON Web Key Set: it needs a "keys" list, like {"keys": [...]}'
    return ""


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``a=b, c=d`` (or ``a: b`` with no ``=``, as a header is written and Kiali's form takes it) as pairs;
    the second part keeps its inner spaces (a header prefix ``Bearer ``), trimmed at its left only."""
    out = []
    for part in text.split(","):
        if not part.strip():
            continue
        a, sep, b = part.partition("=") if "=" in part else part.partition(":")
        out.append((a.strip(), b.lstrip() if sep else ""))
    return out


@dataclass
class JwtRule:
    issuer: str = ""
    audiences: list[str] = field(default_factory=list)
    jwks_uri: str = ""
    jwks: str = ""
    from_headers: list[tuple[str, str]] = field(default_factory=list)  # name, prefix
    from_params: list[str] = field(default_factory=list)
    from_cookies: list[str] = field(default_factory=list)
    forward_original_token: bool = False
    output_payload_to_header: str = ""
    output_claim_to_headers: list[tuple[str, str]] = field(default_factory=list)  # header, claim

    def problems(self) -> list[str]:
        out = []
        if not self.issuer.strip():
            out.append("an issuer is needed (the iss claim of the tokens, e.g. https://accounts.example.com)")
        elif any(c.isspace() for c in self.issuer.strip()):
            out.append(f"issuer {said(self.issuer.strip())} has a space in it")
        if self.jwks_uri and self.jwks.strip():
            out.append("give the keys either by jwksUri or inline (jwks), not both")
        if self.jwks_uri and (p := jwks_uri_problem(self.jwks_uri)):
            out.append(p)
        if self.jwks.strip() and (p := jwks_problem(self.jwks)):
            out.append(p)
        names = [n for n, _p in self.from_headers]
        out += [p for n in names if (p := header_problem(n, "header"))]
        out += [f"header {n} is given twice in fromHeaders" for n in sorted(set(names)) if names.count(n) > 1]
        for v in self.from_params:
            if any(c.isspace() or c in "&=?#" for c in v):
                out.append(f"query parameter {said(v)} is not a parameter name")
        out += [p for v in self.from_cookies if (p := header_problem(v, "cookie"))]
        if self.output_payload_to_header and (p := header_problem(self.output_payload_to_header)):
            out.append(f"outputPayloadToHeader: {p}")
        for header, claim in self.output_claim_to_headers:
            if p := header_problem(header):
                out.append(f"outputClaimToHeaders: {p}")
            elif not claim.strip():
                out.append(f"outputClaimToHeaders: header {header} needs the claim it carries (header=claim)")
        return out

    def to_spec(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"issuer": self.issuer.strip()}
        if self.audiences:
            rule["audiences"] = list(self.audiences)
        if self.jwks_uri:
            rule["jwksUri"] = self.jwks_uri
        if self.jwks.strip():
            rule["jwks"] = self.jwks
        if self.from_headers:
            rule["fromHeaders"] = [{"name": n, **({"prefix": p} if p else {})} for n, p in self.from_headers]
        if self.from_params:
            rule["fromParams"] = list(self.from_params)
        if self.from_cookies:
            rule["fromCookies"] = list(self.from_cookies)
        if self.forward_original_token:
            rule["forwardOriginalToken"] = True
        if self.output_payload_to_header:
            rule["outputPayloadToHeader"] = self.output_payload_to_header
        if self.output_claim_to_headers:
            rule["outputClaimToHeaders"] = [{"header": h, "claim": c.strip()} for h, c in self.output_claim_to_headers]
        return rule


def build_request_authentication(name: str, namespace: str, rules: Sequence[JwtRule], *,
                                 selector: Mapping[str, str] | None = None) -> IstioObject:
    problem = name_problem(name)
    if problem:
        raise RoutingError(problem)
    if not rules:
        raise RoutingError("add at least one JWT rule (the issuer whose tokens are checked)")
    several = len(rules) > 1
    for i, rule in enumerate(rules, 1):
        problems = rule.problems()
        if problems:
            raise RoutingError(f"JWT rule {i}: {problems[0]}" if several else problems[0])
    issuers = [r.issuer.strip() for r in rules]
    dup = next((i for i in issuers if issuers.count(i) > 1), None)
    if dup is not None:
        raise RoutingError(f"issuer {dup} is given to two JWT rules: Istio takes one rule per issuer")
    spec: dict[str, Any] = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    spec["jwtRules"] = [r.to_spec() for r in rules]
    return IstioObject("RequestAuthentication", name, namespace, SECURITY, spec, managed_labels())


def require_jwt_name(name: str) -> str:
    """The name of the AuthorizationPolicy that requires a token beside RequestAuthentication ``name``:
    ``<name>-require-jwt``, cut to Kubernetes's 253 characters without leaving a '-' or '.' at its end
    (which no name may end with)."""
    return f"{name}-require-jwt"[:253].rstrip("-.")


def require_jwt_policy(ra: IstioObject) -> IstioObject:
    """The AuthorizationPolicy that makes a token required where ``ra`` applies: ALLOW only requests with
    a request principal (a token the RequestAuthentication validated)."""
    spec: dict[str, Any] = {}
    selector = _selector_of(ra.spec.get("selector"), "matchLabels")
    if selector:
        spec["selector"] = {"matchLabels": selector}
    spec["action"] = ALLOW
    spec["rules"] = [{"from": [{"source": {"requestPrincipals": ["*"]}}]}]
    return IstioObject("AuthorizationPolicy", require_jwt_name(ra.name), ra.namespace, SECURITY, spec, managed_labels())


def request_authentication_fields(spec: Any) -> tuple[dict[str, Any], list[str]]:
    """What the form shows of ``spec`` (selector labels, JWT rules) and what it cannot, by path."""
    out: list[str] = []
    if not isinstance(spec, dict):
        return {}, ["spec (not a mapping)"]
    out += [f"spec.{k}" for k in spec if k not in ("selector", "jwtRules")]
    raw_selector = spec.get("selector")
    if raw_selector is not None and (not isinstance(raw_selector, dict) or set(raw_selector) - {"matchLabels"}):
        out.append("spec.selector (only matchLabels is shown)")
    selector = _selector_of(raw_selector, "matchLabels")
    if any("," in f"{k}{v}" or "=" in f"{k}{v}" for k, v in selector.items()):
        out.append("spec.selector.matchLabels (a label the form cannot write back)")
    rules: list[JwtRule] = []
    raw_rules = spec.get("jwtRules")
    if not isinstance(raw_rules, list):
        if raw_rules is not None:
            out.append("spec.jwtRules (not a list)")
        raw_rules = []
    for i, raw in enumerate(raw_rules):
        at = f"spec.jwtRules[{i}]"
        if not isinstance(raw, dict):
            out.append(f"{at} (not a mapping)")
            continue
        out += [f"{at}.{k}" for k in raw if k not in _RULE_FIELDS]
        rule = JwtRule()
        for key in ("issuer", "jwksUri", "jwks", "outputPayloadToHeader"):
            value = raw.get(key, "")
            if not isinstance(value, str):
                out.append(f"{at}.{key} (not text)")
                continue
            if key != "jwks" and value != value.strip():
                out.append(f"{at}.{key} (spaces around it)")
            setattr(rule, {"issuer": "issuer", "jwksUri": "jwks_uri", "jwks": "jwks",
                           "outputPayloadToHeader": "output_payload_to_header"}[key], value)
        for key, attr in (("audiences", "audiences"), ("fromParams", "from_params"), ("fromCookies", "from_cookies")):
            if key in raw:
                setattr(rule, attr, _list_of_text(raw[key], f"{at}.{key}", out))
        forward = raw.get("forwardOriginalToken", False)
        if not isinstance(forward, bool):
            out.append(f"{at}.forwardOriginalToken (not true or false)")
        rule.forward_original_token = forward is True
        for key, first, second in (("fromHeaders", "name", "prefix"), ("outputClaimToHeaders", "header", "claim")):
            items = raw.get(key, [])
            if not isinstance(items, list):
                out.append(f"{at}.{key} (not a list)")
                continue
            pairs = []
            for j, item in enumerate(items):
                where = f"{at}.{key}[{j}]"
                if not isinstance(item, dict) or not isinstance(item.get(first), str) \
                        or not isinstance(item.get(second, ""), str):
                    out.append(f"{where} (not a {first} and a {second})")
                    continue
                out += [f"{where}.{k}" for k in item if k not in (first, second)]
                a, b = item[first], item.get(second, "")
                if any(c in a + b for c in ",=") or a != a.strip() or b != b.lstrip():
                    out.append(f"{where} (a value the form cannot write back: {a}={said(b)})")
                pairs.append((a, b))
            setattr(rule, "from_headers" if key == "fromHeaders" else "output_claim_to_headers", pairs)
        rules.append(rule)
    if not rules:
        out.append("spec.jwtRules (the form needs at least one JWT rule)")
    return {"selector": selector, "rules": rules}, out


def keep_request_auth_spellings(spec: dict[str, Any], before: Any) -> dict[str, Any]:
    """``spec`` (the form's) with what ``before`` (the RequestAuthentication as read) wrote out though it
    is the default kept as it was: ``forwardOriginalToken: false``, an empty list (``audiences: []`` ...), a
    header's ``prefix: ""``, a ``selector`` with no labels, so that an edit's diff shows only what the user
    changed. Rules are matched by issuer (one rule per issuer)."""
    if not isinstance(before, dict):
        return spec
    if "selector" not in spec and before.get("selector") == {"matchLabels": {}}:
        spec["selector"] = {"matchLabels": {}}
    old_rules = before.get("jwtRules")
    by_issuer = {r["issuer"].strip(): r for r in old_rules if isinstance(r, dict) and isinstance(r.get("issuer"), str)} \
        if isinstance(old_rules, list) else {}
    for rule in spec.get("jwtRules") or []:
        was = by_issuer.get(rule.get("issuer"))
        if was is None:
            continue
        if was.get("forwardOriginalToken") is False and "forwardOriginalToken" not in rule:
            rule["forwardOriginalToken"] = False
        for key in ("audiences", "fromHeaders", "fromParams", "fromCookies", "outputClaimToHeaders"):
            if was.get(key) == [] and key not in rule:
                rule[key] = []
        old_headers = was.get("fromHeaders")
        blank = {h.get("name") for h in old_headers if isinstance(h, dict) and h.get("prefix") == ""} \
            if isinstance(old_headers, list) else set()
        for header in rule.get("fromHeaders") or []:
            if header.get("name") in blank and "prefix" not in header:
                header["prefix"] = ""
    return spec


def token_requiring_policies(inv: Inventory, namespace: str, selector: Mapping[str, str]) -> list[str]:
    """The ALLOW policies (of ``namespace`` and the root namespace) every rule of which asks for a request
    principal, and that cover the workloads ``selector`` picks (all of them when it has no selector), by
    namespace/name: where one applies, a request without a token is denied."""
    out = []
    for o in inv.istio_objects("AuthorizationPolicy"):
        spec = o.spec if isinstance(o.spec, dict) else {}
        if o.namespace not in (namespace, inv.mesh_settings.root_namespace) or spec.get("targetRefs") \
                or spec.get("targetRef") or str(spec.get("action") or ALLOW) != ALLOW:
            continue
        rules = spec.get("rules")
        if not isinstance(rules, list) or not rules or not all(
                isinstance(r, dict) and isinstance(r.get("from"), list) and r["from"] and all(
                    isinstance(f, dict) and isinstance(f.get("source"), dict) and f["source"].get("requestPrincipals")
                    for f in r["from"]) for r in rules):
            continue
        theirs = _selector_of(spec.get("selector"), "matchLabels")
        if all(selector.get(k) == v for k, v in theirs.items()):
            out.append(f"{o.namespace}/{o.name}")
    return sorted(out)


def request_authentication_plan(inv: Inventory, ra: IstioObject, *, editing: bool = False,
                                require: bool = False) -> ChangePlan:
    """Create ``ra`` (a name already taken is refused); ``require``: with the AuthorizationPolicy that
    refuses requests without a token. ``editing``: the notes only."""
    if not editing:
        _taken(inv, "RequestAuthentication", ra.namespace, ra.name)
    spec = ra.spec if isinstance(ra.spec, dict) else {}
    selector = _selector_of(spec.get("selector"), "matchLabels")
    target = policy_target(inv, ra.namespace, selector)
    plan = ChangePlan(f"RequestAuthentication {ra.namespace}/{ra.name} for {target}")
    _note_selected(plan, inv, ra.namespace, selector, "RequestAuthentication")
    policy = require_jwt_policy(ra) if require else None
    if policy is not None:
        _taken(inv, "AuthorizationPolicy", policy.namespace, policy.name)
        plan.notes.append(f"Warning: AuthorizationPolicy {policy.namespace}/{policy.name} is added: it allows only requests "
                          f"with a valid token, so a request to {target} without one is denied (403), calls from other "
                          "workloads of the mesh that carry no token too. Once it is in force, a request no ALLOW "
                          "policy allows is denied.")
    elif requiring := token_requiring_policies(inv, ra.namespace, selector):
        plan.notes.append(f"Requests without a token are denied by {', '.join(requiring)} (an ALLOW policy for "
                          "request principals only); without it they would get through.")
    else:
        plan.notes.append(f"Warning: a RequestAuthentication alone lets requests WITHOUT a token through: it "
                          f"refuses (401) only a request to {target} whose token is invalid. To require a token, "
                          "add an AuthorizationPolicy that allows requests with a request principal only (tick "
                          "\"Require a token\").")
    companion = next((o for o in inv.istio_objects("AuthorizationPolicy", ra.namespace)
                      if o.name == require_jwt_name(ra.name)), None)
    if editing and companion is not None and isinstance(companion.spec, dict) \
            and _selector_of(companion.spec.get("selector"), "matchLabels") != dict(selector):
        theirs = _selector_of(companion.spec.get("selector"), "matchLabels")
        plan.notes.append(f"Warning: AuthorizationPolicy {companion.namespace}/{companion.name}, which requires a token "
                          f"beside this RequestAuthentication, picks {policy_target(inv, ra.namespace, theirs)}, not "
                          f"{target} as this one will: edit its selector too, or tokens are required where none is "
                          "checked (every request there is denied) and not required where they are.")
    ns = inv.namespace(ra.namespace)
    if ns is not None and ns.ambient and ra.namespace != inv.mesh_settings.root_namespace:
        plan.notes.append(f"Warning: namespace {ra.namespace} is in ambient mode: ztunnel does not check tokens, and a "
                          "waypoint ignores a RequestAuthentication that picks workloads by selector, so this one "
                          "checks nothing there. Attach it to the waypoint's Service or Gateway (targetRefs, in "
                          "the YAML editor) instead.")
    for i, r in enumerate(spec.get("jwtRules") or [], 1):
        if not isinstance(r, dict):
            continue
        uri = str(r.get("jwksUri") or "")
        if uri.startswith("http://"):
            plan.notes.append(f"Warning: JWT rule {i} fetches its keys over plain HTTP ({uri}): Istio allows it, but "
                              "anyone on the path can swap the keys and forge tokens. Use https.")
        if not uri and not r.get("jwks"):
            plan.notes.append(f"JWT rule {i} gives no keys: istiod looks them up from the issuer's OpenID "
                              f"discovery document ({str(r.get('issuer') or '').rstrip('/')}"
                              "/.well-known/openid-configuration); it must be reachable from istiod.")
    if not editing:
        plan.changes.append(Change(CREATE, obj=ra))
    if policy is not None:
        plan.changes.append(Change(CREATE, obj=policy))
    return plan
