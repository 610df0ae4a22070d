"""meshdesk's mTLS-consistency and ambient checks set against what Kiali's checkers decide today.

Each case states, in our own objects, what Kiali's PeerAuthentication, DestinationRule, ambient policy
and ambient workload checkers pin down in their tests: which code comes, on which object and path,
and when they stay quiet. The differences kept on purpose are in docs/kiali-differences.md; where a
case here touches one, its docstring says so.
"""

from __future__ import annotations

import pytest

from meshdesk.mesh.inventory import (
    AMBIENT_ANNOTATION,
    Container,
    Inventory,
    IstioObject,
    MeshConfig,
    Namespace,
    Pod,
    Service,
    Workload,
)
from meshdesk.mesh.validations import ERROR, WARNING, WORKLOAD, validate

ROOT = "istio-system"
SHOP = "shop"  # an ordinary namespace with sidecars
MTLS_CODES = {"KIA0204", "KIA0205", "KIA0206", "KIA0207", "KIA0208", "KIA0401", "KIA0501", "KIA0505", "KIA0506"}


def _policy(name: str, ns: str, mode: str | None, selector: dict[str, str] | None = None) -> IstioObject:
    """A PeerAuthentication; ``mode`` "" writes ``mtls: {}``, None no ``mtls`` at all."""
    spec: dict = {}
    if mode is not None:
        spec["mtls"] = {"mode": mode} if mode else {}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    return IstioObject("PeerAuthentication", name, ns, api_version="security.istio.io/v1", spec=spec)


def _rule(name: str, ns: str, host: str, mode: str | None = None, policy: dict | None = None) -> IstioObject:
    spec: dict = {"host": host}
    if mode is not None:
        spec["trafficPolicy"] = {"tls": {"mode": mode}}
    if policy is not None:
        spec["trafficPolicy"] = policy
    return IstioObject("DestinationRule", name, ns, spec=spec)


def _cluster(*objects: IstioObject, trust_domain: str = "cluster.local", root: str = ROOT) -> Inventory:
    namespaces = [ROOT, SHOP, "payments"] + ([root] if root != ROOT else [])
    inv = Inventory(
        namespaces=[Namespace(ns, {"istio-injection": "enabled"}) for ns in namespaces],
        workloads=[Workload("web", ns, labels={"app": "web"}) for ns in namespaces],
        services=[Service("web", ns, selector={"app": "web"}) for ns in namespaces],
        cluster_namespaces=namespaces,
        mesh_settings=MeshConfig(source=f"{ROOT}/istio", trust_domain=trust_domain, root_namespace=root),
    )
    inv.istio = list(objects)
    return inv


def _mtls(inv: Inventory, *, auto: bool = True) -> set[tuple[str, str, str]]:
    """Every mTLS-consistency finding: (code, namespace/name, path)."""
    result = validate(inv, auto_mtls=auto)
    return {(c.code, f"{o.namespace}/{o.name}", c.path) for o in inv.istio
            for c in result[(o.kind, o.namespace, o.name)].checks if c.code in MTLS_CODES}


TLS_PATH = "spec/trafficPolicy/tls/mode"
NS_WIDE = f"*.{SHOP}.svc.cluster.local"


# -- a DestinationRule turning mTLS off where a policy asks for it (KIA0207, KIA0208) -----------------


@pytest.mark.parametrize(("policies", "expected"), [
    ([], set()),
    ([_policy("default", SHOP, "PERMISSIVE")], set()),
    ([_policy("default", SHOP, "DISABLE")], set()),
    ([_policy("default", SHOP, "STRICT")], {"KIA0207"}),
    ([_policy("default", SHOP, "PERMISSIVE"), _policy("default", ROOT, "STRICT")], set()),
    ([_policy("default", SHOP, "DISABLE"), _policy("default", ROOT, "STRICT")], set()),
    ([_policy("default", ROOT, "STRICT")], {"KIA0208"}),
    ([_policy("default", ROOT, "PERMISSIVE")], set()),
    ([_policy("default", SHOP, ""), _policy("default", ROOT, "STRICT")], {"KIA0208"}),
    ([_policy("web-only", SHOP, "STRICT", {"app": "web"})], set()),
], ids=["no-policy", "ns-permissive", "ns-disable", "ns-strict", "ns-permissive-mesh-strict",
        "ns-disable-mesh-strict", "mesh-strict", "mesh-permissive", "ns-without-mode-mesh-strict",
        "workload-policy-strict"])
def test_a_namespace_wide_rule_turning_mtls_off(policies: list[IstioObject], expected: set[str]) -> None:
    """Kiali: a rule for ``*.<ns>.svc.cluster.local`` with mode DISABLE is an error when the
    namespace's own policy is STRICT (KIA0207), or when none of its policies says otherwise and the
    mesh's is STRICT (KIA0208); a PERMISSIVE or DISABLE namespace policy takes the plain text, and a
    workload's policy (a selector) does not count. The finding sits at the rule's TLS mode, whatever
    automatic mTLS says."""
    for auto in (True, False):
        found = {f for f in _mtls(_cluster(_rule("plain", SHOP, NS_WIDE, "DISABLE"), *policies), auto=auto)
                 if f[1] == f"{SHOP}/plain"}
        assert found == {(code, f"{SHOP}/plain", TLS_PATH) for code in expected}


@pytest.mark.parametrize(("policies", "rule", "expected"), [
    ([_policy("default", ROOT, "STRICT")], _rule("plain", ROOT, "*.local", "DISABLE"), {"KIA0208"}),
    ([_policy("default", ROOT, "STRICT")], _rule("plain", ROOT, "*.local", policy={"tls": {}}), {"KIA0208"}),
    ([_policy("default", ROOT, "PERMISSIVE")], _rule("plain", ROOT, "*.local", "DISABLE"), set()),
    ([_policy("default", ROOT, "DISABLE")], _rule("plain", ROOT, "*.local", "DISABLE"), set()),
    ([], _rule("plain", ROOT, "*.local", "DISABLE"), set()),
    ([_policy("grafana", ROOT, "STRICT", {"app": "grafana"})], _rule("plain", ROOT, "*.local", "DISABLE"), set()),
    ([_policy("default", ROOT, "STRICT")], _rule("plain", SHOP, "*.local", "DISABLE"), {"KIA0208"}),
    ([_policy("default", ROOT, "STRICT")], _rule("plain", ROOT, "*.svc.cluster.local", "DISABLE"), set()),
    ([_policy("default", ROOT, "STRICT")], _rule("plain", ROOT, "*", "DISABLE"), set()),
    ([_policy("default", ROOT, "STRICT")], _rule("plain", ROOT, "*.local", policy={
        "portLevelSettings": [{"port": {"number": 9080}, "tls": {"mode": "DISABLE"}}]}), set()),
], ids=["mesh-strict", "tls-without-mode", "mesh-permissive", "mesh-disable", "no-policy",
        "root-workload-policy", "rule-outside-root", "other-wildcard", "any-host", "port-level-only"])
def test_a_mesh_wide_rule_turning_mtls_off(policies: list[IstioObject], rule: IstioObject,
                                            expected: set[str]) -> None:
    """Kiali: a ``*.local`` rule (in any namespace) whose TLS mode is DISABLE - also a ``tls`` that
    names no mode, whose zero value is DISABLE - is an error when the mesh-wide policy (the root
    namespace's, without a selector) is STRICT (KIA0208). Only ``*.local`` is the mesh's rule (not
    another wildcard), and only its host-wide TLS mode counts, not a port's."""
    found = _mtls(_cluster(rule, *policies))
    assert found == {(code, f"{rule.namespace}/plain", TLS_PATH) for code in expected}


# -- a DestinationRule turning mTLS on where no policy accepts it (KIA0205, KIA0206) -------------------


@pytest.mark.parametrize(("rule", "policies", "expected"), [
    (_rule("mtls", ROOT, "*.local", "ISTIO_MUTUAL"), [], "KIA0205"),
    (_rule("mtls", ROOT, "*.local", "ISTIO_MUTUAL"), [_policy("default", ROOT, "PERMISSIVE")], ""),
    (_rule("mtls", ROOT, "*.local", "ISTIO_MUTUAL"), [_policy("default", ROOT, "STRICT")], ""),
    (_rule("mtls", ROOT, "*.local", "ISTIO_MUTUAL"), [_policy("default", ROOT, "DISABLE")], "KIA0205"),
    (_rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL"), [], "KIA0206"),
    (_rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL"), [_policy("default", SHOP, "PERMISSIVE")], ""),
    (_rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL"), [_policy("default", SHOP, "STRICT")], ""),
    (_rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL"), [_policy("default", ROOT, "STRICT")], ""),
    (_rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL"), [_policy("web", SHOP, "STRICT", {"app": "web"})], "KIA0206"),
    (_rule("mtls", ROOT, f"*.{ROOT}.svc.cluster.local"), [_policy("default", ROOT, "STRICT")], ""),
], ids=["mesh-no-policy", "mesh-permissive", "mesh-strict", "mesh-disable", "ns-no-policy", "ns-permissive",
        "ns-strict", "ns-mesh-strict", "ns-workload-policy", "ns-rule-without-tls"])
def test_a_wide_rule_sending_mtls_needs_a_policy_accepting_it(rule: IstioObject, policies: list[IstioObject],
                                                              expected: str) -> None:
    """Kiali, with automatic mTLS off: a mesh-wide (KIA0205) or namespace-wide (KIA0206) rule sending
    ISTIO_MUTUAL is an error when no policy without a selector of the mesh (or, for the namespace's
    rule, of the namespace) is STRICT or PERMISSIVE. With automatic mTLS on, never."""
    rule_findings = {f for f in _mtls(_cluster(rule, *policies), auto=False) if f[1] == f"{rule.namespace}/mtls"}
    assert rule_findings == ({(expected, f"{rule.namespace}/mtls", TLS_PATH)} if expected else set())
    assert not any(f[1] == f"{rule.namespace}/mtls" for f in _mtls(_cluster(rule, *policies), auto=True))


# -- a PeerAuthentication turning mTLS off where a rule sends it (KIA0505, KIA0506) ----------------------


@pytest.mark.parametrize(("rules", "expected"), [
    ([_rule("plain", SHOP, NS_WIDE, "DISABLE"), _rule("web", SHOP, "web", "ISTIO_MUTUAL")], False),
    ([_rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL"), _rule("web", SHOP, "web", "ISTIO_MUTUAL")], True),
    ([_rule("mesh-plain", ROOT, "*.local", "DISABLE"), _rule("web", SHOP, "web", "ISTIO_MUTUAL")], False),
    ([_rule("mesh-mtls", ROOT, "*.local", "ISTIO_MUTUAL"), _rule("web", SHOP, "web", "ISTIO_MUTUAL")], True),
    ([_rule("mesh-mtls", ROOT, "*.local", "MUTUAL")], True),
    ([], False),
    ([_rule("mesh-mtls", ROOT, "*.local", "ISTIO_MUTUAL"), _rule("plain", SHOP, NS_WIDE, "DISABLE")], False),
], ids=["ns-rule-disable", "ns-rule-mutual", "mesh-rule-disable", "mesh-rule-mutual", "mesh-rule-mutual-tls",
        "no-rule", "ns-rule-disable-beside-mesh-mutual"])
def test_a_namespace_policy_turning_mtls_off(rules: list[IstioObject], expected: bool) -> None:
    """Kiali: a namespace's policy without a selector in mode DISABLE is an error (KIA0505, at
    ``spec/mtls``) when the namespace's wide rule sends mTLS, or, with no rule of the namespace
    turning it off, the mesh's rule does; a rule for one service does not count."""
    inv = _cluster(_policy("plain", SHOP, "DISABLE"), _policy("default", ROOT, "STRICT"), *rules)
    found = {f for f in _mtls(inv) if f[1] == f"{SHOP}/plain"}
    assert found == ({("KIA0505", f"{SHOP}/plain", "spec/mtls")} if expected else set())


@pytest.mark.parametrize(("rules", "expected"), [
    ([_rule("mesh-plain", ROOT, "*.local", "DISABLE"), _rule("grafana", ROOT, "grafana", "ISTIO_MUTUAL")], False),
    ([_rule("mesh-mtls", SHOP, "*.local", "ISTIO_MUTUAL"), _rule("grafana", ROOT, "grafana", "ISTIO_MUTUAL")], True),
    ([_rule("grafana", ROOT, "grafana", "DISABLE")], False),
], ids=["mesh-rule-disable", "mesh-rule-mutual-elsewhere", "service-rule-only"])
def test_the_mesh_policy_turning_mtls_off(rules: list[IstioObject], expected: bool) -> None:
    """Kiali: the root namespace's policy without a selector in mode DISABLE is an error (KIA0506)
    when a ``*.local`` rule, of whatever namespace, sends mTLS; a workload's policy beside it says
    nothing."""
    inv = _cluster(_policy("plain", ROOT, "DISABLE"), _policy("grafana", ROOT, "DISABLE", {"app": "grafana"}), *rules)
    assert _mtls(inv) == ({("KIA0506", f"{ROOT}/plain", "spec/mtls")} if expected else set())


# -- a STRICT policy without a rule sending mTLS (KIA0401, KIA0501) --------------------------------------


@pytest.mark.parametrize(("policy", "rules", "expected"), [
    (_policy("default", ROOT, "STRICT"), [_rule("m", ROOT, "*.local", "ISTIO_MUTUAL")], ""),
    (_policy("default", ROOT, "STRICT"), [_rule("n", SHOP, NS_WIDE, "ISTIO_MUTUAL")], "KIA0401"),
    (_policy("default", ROOT, "STRICT"), [_rule("n", SHOP, NS_WIDE)], "KIA0401"),
    (_policy("default", ROOT, "STRICT"), [], "KIA0401"),
    (_policy("default", ROOT, "PERMISSIVE"), [], ""),
    (_policy("default", SHOP, "STRICT"), [_rule("n", SHOP, NS_WIDE)], "KIA0501"),
    (_policy("default", SHOP, "STRICT"), [_rule("n", SHOP, NS_WIDE, "ISTIO_MUTUAL")], ""),
    (_policy("default", SHOP, "STRICT"), [_rule("m", SHOP, "*.local", "ISTIO_MUTUAL")], ""),
    (_policy("default", SHOP, "PERMISSIVE"), [_rule("n", SHOP, NS_WIDE)], ""),
    (_policy("web", SHOP, "STRICT", {"app": "web"}), [], ""),
], ids=["mesh-rule", "mesh-policy-ns-rule", "mesh-policy-ns-rule-without-tls", "mesh-no-rule", "mesh-permissive",
        "ns-rule-without-tls", "ns-rule", "ns-policy-mesh-rule", "ns-permissive", "workload-policy"])
def test_a_strict_policy_needs_a_rule_sending_mtls(policy: IstioObject, rules: list[IstioObject],
                                                   expected: str) -> None:
    """Kiali, with automatic mTLS off: a STRICT mesh-wide policy needs a ``*.local`` rule sending
    ISTIO_MUTUAL (KIA0401; a namespace's rule is not enough), a STRICT namespace policy a rule for
    its namespace or the mesh (KIA0501). With automatic mTLS on, never."""
    key = f"{policy.namespace}/{policy.name}"
    found = {f for f in _mtls(_cluster(policy, *rules), auto=False) if f[1] == key}
    assert found == ({(expected, key, "spec/mtls")} if expected else set())
    assert not any(f[1] == key for f in _mtls(_cluster(policy, *rules), auto=True))


def test_the_mesh_config_root_namespace_holds_the_mesh_policies() -> None:
    """Kiali takes the policies of the control plane's root namespace as the mesh's: with
    ``rootNamespace: mesh-root`` a STRICT policy there is judged as the mesh's (KIA0401), and one in
    istio-system as a namespace's (KIA0501)."""
    inv = _cluster(_policy("default", "mesh-root", "STRICT"), _policy("default", ROOT, "STRICT"), root="mesh-root")
    found = _mtls(inv, auto=False)
    assert ("KIA0401", "mesh-root/default", "spec/mtls") in found
    assert ("KIA0501", f"{ROOT}/default", "spec/mtls") in found


# -- a rule that drops the wide ISTIO_MUTUAL for its host (KIA0204) --------------------------------------


@pytest.mark.parametrize(("wide", "subject", "expected"), [
    (_rule("mesh", ROOT, "*.local", "ISTIO_MUTUAL"), _rule("web", SHOP, "web"), True),
    (_rule("mesh", ROOT, "*.local", "ISTIO_MUTUAL"), _rule("web", SHOP, "web", policy={"loadBalancer": {"simple": "ROUND_ROBIN"}}), True),
    (_rule("mesh", ROOT, "*.local", "ISTIO_MUTUAL"), _rule("web", SHOP, "web", policy={"portLevelSettings": [{"port": {"number": 80}, "loadBalancer": {"simple": "RANDOM"}}]}), True),
    (_rule("mesh", ROOT, "*.local", "ISTIO_MUTUAL"), _rule("web", SHOP, "web", "ISTIO_MUTUAL"), False),
    (_rule("mesh", ROOT, "*.local", "ISTIO_MUTUAL"), _rule("web", SHOP, "web", policy={"portLevelSettings": [{"port": {"number": 80}, "tls": {"mode": "ISTIO_MUTUAL"}}]}), False),
    (_rule("ns", SHOP, NS_WIDE, "ISTIO_MUTUAL"), _rule("web", SHOP, "web"), True),
    (_rule("ns", SHOP, NS_WIDE, "ISTIO_MUTUAL"), _rule("web", SHOP, "web", "ISTIO_MUTUAL"), False),
    (_rule("ns", SHOP, NS_WIDE, "ISTIO_MUTUAL"), _rule("web", "payments", "web.payments.svc.cluster.local"), False),
    (_rule("ns", SHOP, NS_WIDE, "ISTIO_MUTUAL"), _rule("web", SHOP, "wikipedia.org"), False),
    (_rule("ns", SHOP, NS_WIDE, "DISABLE"), _rule("web", SHOP, "web"), False),
    (_rule("mesh", ROOT, "*.local", "ISTIO_MUTUAL"),
     _rule("web", SHOP, NS_WIDE, policy={"loadBalancer": {"simple": "RANDOM"}}), True),
], ids=["mesh-no-policy", "mesh-load-balancer-only", "mesh-port-without-tls", "mesh-own-tls", "mesh-port-tls",
        "ns-no-policy", "ns-own-tls", "ns-other-namespace-host", "ns-external-host", "ns-rule-disable",
        "mesh-over-ns-wide-without-tls"])
def test_a_rule_without_tls_under_a_wide_istio_mutual(wide: IstioObject, subject: IstioObject, expected: bool) -> None:
    """Kiali warns (KIA0204, at ``spec/trafficPolicy``) of a rule with no TLS settings, for the whole
    host or any port, for a host the mesh-wide or its namespace's wide rule puts under ISTIO_MUTUAL:
    Istio applies that rule alone, so its mode replaces the wide one. A host of another namespace,
    or outside the cluster, is not under a namespace's rule."""
    found = {f for f in _mtls(_cluster(wide, subject)) if f[1] == f"{subject.namespace}/web"}
    assert found == ({("KIA0204", f"{subject.namespace}/web", "spec/trafficPolicy")} if expected else set())


def test_namespace_wide_rules_are_named_by_the_trust_domain_as_kiali_reads_them() -> None:
    """Kiali names a namespace's wide rule ``*.<ns>.svc.<trust domain>`` (its identity domain), as
    meshdesk's mTLS status does: with trust domain ``corp.example`` (a cluster whose DNS domain is the
    same) such a rule turning mTLS off under a STRICT namespace policy is KIA0207, and one sending mTLS
    under a DISABLE policy is KIA0505. Istio's own ``*.<ns>.svc.cluster.local`` stays a wide rule too."""
    corp = f"*.{SHOP}.svc.corp.example"
    inv = _cluster(_rule("plain", SHOP, corp, "DISABLE"), _policy("default", SHOP, "STRICT"), trust_domain="corp.example")
    assert _mtls(inv) == {("KIA0207", f"{SHOP}/plain", TLS_PATH)}
    inv = _cluster(_rule("mtls", SHOP, corp, "ISTIO_MUTUAL"), _policy("plain", SHOP, "DISABLE"), trust_domain="corp.example")
    assert _mtls(inv) == {("KIA0505", f"{SHOP}/plain", "spec/mtls")}
    inv = _cluster(_rule("plain", SHOP, NS_WIDE, "DISABLE"), _policy("default", SHOP, "STRICT"), trust_domain="corp.example")
    assert _mtls(inv) == {("KIA0207", f"{SHOP}/plain", TLS_PATH)}


def test_a_namespace_rule_named_by_the_trust_domain_stands_beside_the_others() -> None:
    """Kiali leaves the rules turning mTLS on for a whole namespace out of KIA0201 (they are meant to
    stand beside more specific ones), naming them by the trust domain: with trust domain
    ``corp.example`` an ISTIO_MUTUAL rule for ``*.shop.svc.corp.example`` does not clash with another
    rule for that host, as Istio's ``*.shop.svc.cluster.local`` one does not either."""
    for host in (f"*.{SHOP}.svc.corp.example", NS_WIDE):
        inv = _cluster(_rule("mtls", SHOP, host, "ISTIO_MUTUAL"), _rule("all", SHOP, host), trust_domain="corp.example")
        result = validate(inv)
        assert not [c for name in ("mtls", "all") for c in result[("DestinationRule", SHOP, name)].checks
                    if c.code == "KIA0201"]


def test_a_policy_needing_mtls_sees_the_namespace_rule_named_by_the_trust_domain() -> None:
    """KIA0105 reckons a namespace's mTLS as Kiali does: with automatic mTLS off, a PERMISSIVE
    namespace whose ``*.<ns>.svc.<trust domain>`` rule sends ISTIO_MUTUAL has mTLS on, so an
    AuthorizationPolicy matching principals there is fine; without that rule it needs mTLS."""
    principals = IstioObject("AuthorizationPolicy", "from-web", SHOP, api_version="security.istio.io/v1", spec={
        "rules": [{"from": [{"source": {"principals": [f"corp.example/ns/{SHOP}/sa/default"]}}]}]})
    permissive = _policy("default", SHOP, "PERMISSIVE")
    mutual = _rule("mtls", SHOP, f"*.{SHOP}.svc.corp.example", "ISTIO_MUTUAL")

    def needs_mtls(*objects: IstioObject) -> bool:
        inv = _cluster(principals, *objects, trust_domain="corp.example")
        return any(c.code == "KIA0105" for c in validate(inv, auto_mtls=False)[
            ("AuthorizationPolicy", SHOP, "from-web")].checks)

    assert needs_mtls(permissive)
    assert not needs_mtls(permissive, mutual)


# -- fields of an AuthorizationPolicy that need mTLS (KIA0105) -------------------------------------------


def _needs_mtls(*objects: IstioObject, auto: bool, source: str = "principals",
                selector: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """KIA0105 on an ALLOW policy of ``shop`` whose one rule matches callers by ``source``."""
    values = [f"cluster.local/ns/{SHOP}/sa/web"] if source == "principals" else ["payments"]
    spec: dict = {"rules": [{"from": [{"source": {source: values}}]}]}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    policy = IstioObject("AuthorizationPolicy", "callers", SHOP, api_version="security.istio.io/v1", spec=spec)
    inv = _cluster(policy, *objects)
    return [(c.code, c.path) for c in validate(inv, auto_mtls=auto)[("AuthorizationPolicy", SHOP, "callers")].checks
            if c.code == "KIA0105"]


AT_PRINCIPALS = [("KIA0105", "spec/rules[0]/from[0]/source/principals")]


@pytest.mark.parametrize(("objects", "on_auto", "on_manual"), [
    ([], False, True),
    ([_policy("default", SHOP, "STRICT")], False, True),
    ([_policy("default", SHOP, "STRICT"), _rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL")], False, False),
    ([_policy("default", SHOP, "PERMISSIVE")], False, True),
    ([_policy("default", SHOP, "PERMISSIVE"), _rule("mtls", SHOP, NS_WIDE, "ISTIO_MUTUAL")], False, False),
    ([_policy("default", SHOP, "DISABLE")], True, True),
    ([_rule("plain", SHOP, NS_WIDE, "DISABLE")], True, True),
    ([_policy("default", ROOT, "DISABLE")], True, True),
    ([_rule("plain", ROOT, "*.local", "DISABLE")], True, True),
    ([_policy("default", ROOT, "STRICT")], False, True),
    ([_policy("default", ROOT, "STRICT"), _rule("mtls", ROOT, "*.local", "ISTIO_MUTUAL")], False, False),
    ([_policy("default", ROOT, "STRICT"), _rule("mtls", ROOT, "*.local", "ISTIO_MUTUAL"),
      _rule("plain", SHOP, NS_WIDE, "DISABLE")], True, True),
], ids=["nothing", "ns-strict", "ns-strict-rule-mutual", "ns-permissive", "ns-permissive-rule-mutual", "ns-disable", "ns-rule-disable",
        "mesh-disable", "mesh-rule-disable", "mesh-strict", "mesh-strict-rule-mutual", "ns-rule-disable-under-mesh"])
def test_principals_need_mtls_as_kiali_reckons_a_namespace(objects: list[IstioObject], on_auto: bool,
                                                          on_manual: bool) -> None:
    """Kiali: principals (and source namespaces) are known only over mTLS, so a policy matching them
    where the namespace's mTLS is off is an error (KIA0105, at the field). With automatic mTLS the
    sidecars send mTLS unless a policy or rule of the namespace or mesh turns it off; without it a
    rule of the namespace or mesh must send ISTIO_MUTUAL (a STRICT policy alone leaves its clients
    sending plain text)."""
    assert _needs_mtls(*objects, auto=True) == (AT_PRINCIPALS if on_auto else [])
    assert _needs_mtls(*objects, auto=False) == (AT_PRINCIPALS if on_manual else [])


def test_source_namespaces_and_workload_policies_need_mtls_too() -> None:
    """Kiali: source namespaces need mTLS as principals do (a PERMISSIVE mesh without a rule, automatic
    mTLS off); a policy for one workload is judged by that workload's own PeerAuthentication, which
    turning mTLS off (DISABLE) is KIA0105 even in a STRICT namespace, and PERMISSIVE with its
    service's rule sending mTLS is fine."""
    permissive_mesh = _policy("default", ROOT, "PERMISSIVE")
    assert _needs_mtls(permissive_mesh, auto=False, source="namespaces") == [
        ("KIA0105", "spec/rules[0]/from[0]/source/namespaces")]
    assert _needs_mtls(permissive_mesh, auto=True, source="namespaces") == []
    strict_ns = _policy("default", SHOP, "STRICT")
    web_off = _policy("web", SHOP, "DISABLE", {"app": "web"})
    for auto in (True, False):
        assert _needs_mtls(strict_ns, web_off, auto=auto, selector={"app": "web"}) == AT_PRINCIPALS
        assert _needs_mtls(strict_ns, _policy("web", SHOP, "PERMISSIVE", {"app": "web"}),
                           _rule("web", SHOP, "web", "ISTIO_MUTUAL"), auto=auto, selector={"app": "web"}) == []


# -- ambient mode: L7 config (KIA0109-KIA0212, KIA1109-KIA1117) ---------------------------------------------

AMBIENT = {"istio.io/dataplane-mode": "ambient"}
ENROLLED = {**AMBIENT, "istio.io/use-waypoint": "waypoint"}
WAYPOINT = {"gateway.istio.io/managed": "istio.io-mesh-controller", "istio.io/dataplane-mode": "none"}
AMBIENT_CODES = {"KIA0109", "KIA0110", "KIA0210", "KIA0211", "KIA0212", "KIA1109", "KIA1110", "KIA1111", "KIA1112",
                 "KIA1113", "KIA1114", "KIA1115", "KIA1116", "KIA1117"}
GET_ONLY = [{"to": [{"operation": {"methods": ["GET"]}}]}]


def _pod_workload(ns: str, name: str, labels: dict[str, str], *, ambient: bool = True, sidecar: bool = False,
                  pods: int = 1) -> Workload:
    annotations = {AMBIENT_ANNOTATION: "enabled"} if ambient else {"prometheus.io/scrape": "true"}
    containers = [Container("app", "img:1", True)]
    if sidecar:
        annotations["sidecar.istio.io/status"] = '{"containers":["istio-proxy"]}'
        containers.append(Container("istio-proxy", "proxyv2:1.26.0", True))
    return Workload(name, ns, labels=dict(labels), pods=[
        Pod(f"{name}-{i}", ns, labels=dict(labels), annotations=dict(annotations), containers=list(containers))
        for i in range(pods)])


def _ambient(ns_labels: dict[str, str], *workloads: Workload, services: tuple[Service, ...] = ()) -> Inventory:
    """Namespace ``travel`` with ``ns_labels`` (``reviews``: a workload and its Service), beside the
    sidecar namespace ``shop``."""
    return Inventory(
        namespaces=[Namespace("travel", dict(ns_labels)), Namespace(SHOP, {"istio-injection": "enabled"}),
                    Namespace(ROOT, {})],
        workloads=list(workloads) or [_pod_workload("travel", "reviews-v1", {"app": "reviews"})],
        services=list(services) or [Service("reviews", "travel", selector={"app": "reviews"})],
        cluster_namespaces=["travel", SHOP, ROOT],
    )


def _ambient_found(inv: Inventory, obj: IstioObject) -> list[tuple[str, str]]:
    inv.istio = [*inv.istio, obj]
    return [(c.code, c.path) for c in validate(inv)[(obj.kind, obj.namespace, obj.name)].checks
            if c.code in AMBIENT_CODES]


def _ap(spec: dict, ns: str = "travel") -> IstioObject:
    return IstioObject("AuthorizationPolicy", "deny-get", ns, api_version="security.istio.io/v1",
                       spec={"action": "DENY", "rules": GET_ONLY, **spec})


def test_an_l7_policy_by_selector_in_ambient() -> None:
    """Kiali: an L7 AuthorizationPolicy picking workloads by selector in an ambient namespace lacks
    targetRefs (KIA0110) and, the namespace not enrolled, no waypoint carries what it picks (KIA0109);
    with the namespace enrolled only the targetRefs warning stays (a waypoint ignores selectors);
    with targetRefs to an enrolled Service, nothing. An L4 policy says nothing."""
    by_selector = _ap({"selector": {"matchLabels": {"app": "reviews"}}})
    assert sorted(_ambient_found(_ambient(AMBIENT), by_selector)) == [("KIA0109", ""), ("KIA0110", "")]
    assert _ambient_found(_ambient(ENROLLED), by_selector) == [("KIA0110", "")]
    to_service = _ap({"targetRefs": [{"kind": "Service", "group": "", "name": "reviews"}]})
    assert _ambient_found(_ambient(ENROLLED), to_service) == []
    l4 = IstioObject("AuthorizationPolicy", "from-shop", "travel", api_version="security.istio.io/v1",
                     spec={"rules": [{"from": [{"source": {"namespaces": [SHOP]}}]}]})
    assert _ambient_found(_ambient(AMBIENT), l4) == []


def test_a_waypoint_deployed_does_not_enroll_its_namespace() -> None:
    """Kiali: a waypoint running in the namespace is not enough; without ``istio.io/use-waypoint``
    an L7 policy there still reaches no waypoint (KIA0109)."""
    waypoint = Workload("waypoint", "travel", labels=dict(WAYPOINT),
                        pods=[Pod("waypoint-0", "travel", labels=dict(WAYPOINT),
                                  containers=[Container("istio-proxy", "proxyv2:1.26.0", True)])])
    inv = _ambient(AMBIENT, _pod_workload("travel", "reviews-v1", {"app": "reviews"}), waypoint)
    codes = [code for code, _ in _ambient_found(inv, _ap({"selector": {"matchLabels": {"app": "reviews"}}}))]
    assert "KIA0109" in codes


def test_a_selector_matching_only_workloads_opted_out_of_ambient() -> None:
    """Kiali: when every workload the selector picks opted out of ambient (``dataplane-mode: none``)
    there is nothing a waypoint should carry (no KIA0109), though targetRefs are still missing."""
    inv = _ambient(AMBIENT, _pod_workload("travel", "reviews-v1", {"app": "reviews", "istio.io/dataplane-mode": "none"},
                                          ambient=False))
    assert _ambient_found(inv, _ap({"selector": {"matchLabels": {"app": "reviews"}}})) == [("KIA0110", "")]


def test_a_target_service_opted_out_of_the_namespace_waypoint() -> None:
    """Kiali: a Service labelled ``istio.io/use-waypoint: none`` in an enrolled namespace is not
    carried by the waypoint, so an L7 policy targeting it is KIA0109."""
    inv = _ambient(ENROLLED, services=(Service("reviews", "travel", selector={"app": "reviews"},
                                               labels={"istio.io/use-waypoint": "none"}),))
    to_service = _ap({"targetRefs": [{"kind": "Service", "group": "", "name": "reviews"}]})
    assert _ambient_found(inv, to_service) == [("KIA0109", "")]


def test_request_authentication_wasm_and_telemetry() -> None:
    """Kiali: a RequestAuthentication or WasmPlugin in an ambient namespace is L7 whatever it says
    (KIA1115/KIA1110, KIA1116/KIA1111), Telemetry when it traces, logs access or overrides metrics
    (KIA1117/KIA1112); targetRefs to an enrolled Service silence them; in a namespace not ambient,
    and in the control plane's namespace without the ambient label, nothing."""
    jwt = IstioObject("RequestAuthentication", "jwt", "travel", api_version="security.istio.io/v1",
                      spec={"jwtRules": [{"issuer": "https://issuer.example"}]})
    wasm = IstioObject("WasmPlugin", "filter", "travel", api_version="extensions.istio.io/v1alpha1",
                       spec={"url": "oci://example/filter:1"})
    tracing = IstioObject("Telemetry", "tracing", "travel", api_version="telemetry.istio.io/v1",
                          spec={"tracing": [{"randomSamplingPercentage": 10}]})
    l4_metrics = IstioObject("Telemetry", "metrics", "travel", api_version="telemetry.istio.io/v1",
                             spec={"metrics": [{"providers": [{"name": "prometheus"}]}]})
    assert sorted(_ambient_found(_ambient(AMBIENT), jwt)) == [("KIA1110", ""), ("KIA1115", "")]
    assert sorted(_ambient_found(_ambient(AMBIENT), wasm)) == [("KIA1111", ""), ("KIA1116", "")]
    assert sorted(_ambient_found(_ambient(AMBIENT), tracing)) == [("KIA1112", ""), ("KIA1117", "")]
    assert _ambient_found(_ambient(AMBIENT), l4_metrics) == []
    refs = {"targetRefs": [{"kind": "Service", "group": "", "name": "reviews"}]}
    for obj in (jwt, wasm, tracing):
        targeted = IstioObject(obj.kind, obj.name, obj.namespace, api_version=obj.api_version, spec={**obj.spec, **refs})
        assert _ambient_found(_ambient(ENROLLED), targeted) == []
        elsewhere = IstioObject(obj.kind, obj.name, SHOP, api_version=obj.api_version, spec=obj.spec)
        assert _ambient_found(_ambient(AMBIENT), elsewhere) == []
    mesh_tracing = IstioObject("Telemetry", "tracing", ROOT, api_version="telemetry.istio.io/v1", spec=tracing.spec)
    assert _ambient_found(_ambient(AMBIENT), mesh_tracing) == []


def _route(ns: str, host: str, **extra: object) -> IstioObject:
    return IstioObject("VirtualService", "reviews-route", ns, spec={
        "hosts": [host], "http": [{"route": [{"destination": {"host": host}}]}], **extra})


def test_l7_routes_and_rules_for_an_ambient_service() -> None:
    """Kiali: HTTP routes for mesh traffic to an ambient Service no waypoint carries are KIA1113 at
    the host; carried, nothing; routes bound to an ingress Gateway only need no waypoint. Written in
    another namespace they are KIA1114 (KIA0212 for a DestinationRule with L7 policy, at
    ``spec/host``), a waypoint reading its Service's namespace only; routes to a Service of a
    namespace not ambient say nothing, wherever they are."""
    host = "reviews.travel.svc.cluster.local"
    assert _ambient_found(_ambient(AMBIENT), _route("travel", "reviews")) == [("KIA1113", "spec/hosts[0]")]
    assert _ambient_found(_ambient(ENROLLED), _route("travel", "reviews")) == []
    assert _ambient_found(_ambient(AMBIENT), _route("travel", "reviews", gateways=[f"{ROOT}/public"])) == []
    assert _ambient_found(_ambient(ENROLLED), _route(SHOP, host)) == [("KIA1114", "spec/hosts[0]")]
    pool = IstioObject("DestinationRule", "reviews-pool", SHOP, spec={
        "host": host, "trafficPolicy": {"connectionPool": {"http": {"http1MaxPendingRequests": 1024}}}})
    assert _ambient_found(_ambient(ENROLLED), pool) == [("KIA0212", "spec/host")]
    sidecars = _ambient({"istio-injection": "enabled"})
    assert _ambient_found(sidecars, _route(SHOP, host)) == []


def test_l7_config_naming_no_ambient_service_falls_back_to_its_namespace() -> None:
    """Kiali: L7 routes or an L7 DestinationRule whose hosts name no Service of an ambient namespace
    (an external host) are judged by their own namespace: ambient and not enrolled, KIA1109 at the
    first host (KIA0210 at ``spec/host``); enrolled, nothing."""
    breaker = IstioObject("DestinationRule", "api-breaker", "travel", spec={
        "host": "api.example.com", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 5}}})
    assert _ambient_found(_ambient(AMBIENT), _route("travel", "api.example.com")) == [("KIA1109", "spec/hosts[0]")]
    assert _ambient_found(_ambient(AMBIENT), breaker) == [("KIA0210", "spec/host")]
    assert _ambient_found(_ambient(ENROLLED), _route("travel", "api.example.com")) == []
    assert _ambient_found(_ambient(ENROLLED), breaker) == []


# -- ambient mode: workloads (KIA1311-KIA1317) -----------------------------------------------------------

WORKLOAD_CODES = {"KIA1311", "KIA1312", "KIA1313", "KIA1314", "KIA1315", "KIA1316", "KIA1317"}


def _workload_found(inv: Inventory, name: str = "reviews-v1") -> list[tuple[str, str]]:
    return [(c.code, c.severity) for c in validate(inv)[(WORKLOAD, "travel", name)].checks if c.code in WORKLOAD_CODES]


def test_workload_cases_kiali_pins() -> None:
    """Kiali's workload checker: an ambient workload with nothing odd says nothing; ambient and
    sidecar injection asked for together is KIA1311 (error); a waypoint asked for by a workload not
    in ambient is KIA1312 (warning); a sidecar in an ambient namespace is KIA1316 (warning), but a
    workload scaled to zero has no pod to judge."""
    assert _workload_found(_ambient(AMBIENT)) == []
    both = _ambient({**AMBIENT, "istio-injection": "enabled"},
                    _pod_workload("travel", "reviews-v1", {"app": "reviews"}, ambient=False, sidecar=True))
    assert ("KIA1311", ERROR) in _workload_found(both)
    asks = _ambient({"istio.io/use-waypoint": "waypoint"},
                    _pod_workload("travel", "reviews-v1", {"app": "reviews"}, ambient=False))
    assert ("KIA1312", WARNING) in _workload_found(asks)
    sidecar = _ambient(AMBIENT, _pod_workload("travel", "reviews-v1", {"app": "reviews", "istio.io/dataplane-mode": "none"},
                                              ambient=False, sidecar=True))
    assert _workload_found(sidecar) == [("KIA1316", WARNING)]
    scaled_to_zero = _ambient(AMBIENT, Workload("reviews-v1", "travel", labels={"app": "reviews"}))
    assert _workload_found(scaled_to_zero) == []


def test_waypoints_asked_for_and_pods_at_odds_with_what_is_asked() -> None:
    """Kiali: a captured workload asking for a waypoint that does not exist is KIA1313 (error), also
    one its namespace names in another namespace (``istio.io/use-waypoint-namespace``); a
    pod ztunnel captures while sidecar injection is asked for is KIA1314, and a pod with a sidecar
    while ambient is asked for KIA1315 (errors both)."""
    missing = _ambient({**AMBIENT, "istio.io/use-waypoint": "waypoint"})
    assert _workload_found(missing) == [("KIA1313", ERROR)]
    elsewhere = {**AMBIENT, "istio.io/use-waypoint": "shared", "istio.io/use-waypoint-namespace": "infra"}
    shared = Workload("shared", "infra", labels=dict(WAYPOINT), pods=[
        Pod("shared-0", "infra", labels=dict(WAYPOINT), containers=[Container("istio-proxy", "proxyv2:1.26.0", True)])])
    served = _ambient(elsewhere, _pod_workload("travel", "reviews-v1", {"app": "reviews"}), shared)
    served.namespaces.append(Namespace("infra", {}))
    assert _workload_found(served) == []
    served.workloads.remove(shared)
    assert _workload_found(served) == [("KIA1313", ERROR)]
    captured = _ambient({"istio-injection": "enabled"}, _pod_workload("travel", "reviews-v1", {"app": "reviews"}))
    assert ("KIA1314", ERROR) in _workload_found(captured)
    injected = _ambient({}, _pod_workload("travel", "reviews-v1", {"app": "reviews", "istio.io/dataplane-mode": "ambient"},
                                          ambient=False, sidecar=True))
    assert ("KIA1315", ERROR) in _workload_found(injected)


def test_an_l7_policy_over_an_ambient_workload_without_a_waypoint() -> None:
    """Kiali: an L7 AuthorizationPolicy of the namespace over an ambient workload no waypoint serves
    is KIA1317 (by its selector, or by targetRefs to a Service selecting the workload); not for a
    workload the policy does not pick, one opted out of ambient, a waypoint or an L4 policy."""
    by_selector = _ap({"selector": {"matchLabels": {"app": "reviews"}}})
    to_service = _ap({"targetRefs": [{"kind": "Service", "group": "", "name": "reviews"}]})
    other = _pod_workload("travel", "ratings-v1", {"app": "ratings"})
    for policy in (by_selector, to_service):
        inv = _ambient(AMBIENT, _pod_workload("travel", "reviews-v1", {"app": "reviews"}), other)
        inv.istio = [policy]
        assert ("KIA1317", WARNING) in _workload_found(inv)
        assert _workload_found(inv, "ratings-v1") == []
    opted_out = _ambient(AMBIENT, _pod_workload("travel", "reviews-v1", {"app": "reviews", "istio.io/dataplane-mode": "none"},
                                                ambient=False))
    opted_out.istio = [by_selector]
    assert _workload_found(opted_out) == []
    # a waypoint told by its managed label alone (not opted out of ambient itself): still no KIA1317
    managed = {"gateway.istio.io/managed": WAYPOINT["gateway.istio.io/managed"]}
    waypoint = Workload("waypoint", "travel", labels=dict(managed),
                        pods=[Pod("waypoint-0", "travel", labels=dict(managed), annotations={AMBIENT_ANNOTATION: "enabled"},
                                  containers=[Container("istio-proxy", "proxyv2:1.26.0", True)])])
    with_waypoint = _ambient(AMBIENT, _pod_workload("travel", "reviews-v1", {"app": "reviews"}), waypoint)
    with_waypoint.istio = [_ap({})]
    assert _workload_found(with_waypoint, "waypoint") == []
    l4 = _ambient(AMBIENT)
    l4.istio = [IstioObject("AuthorizationPolicy", "from-shop", "travel", api_version="security.istio.io/v1",
                            spec={"rules": [{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/web"]}}]}]})]
    assert _workload_found(l4) == []
