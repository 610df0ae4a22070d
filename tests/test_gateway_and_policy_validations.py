"""Kiali's Gateway checks across Gateways (KIA0301) and the AuthorizationPolicy checks that need the
cluster's namespaces (KIA0101) or its mTLS settings (KIA0105): what a user sees on each object."""

from __future__ import annotations

from pathlib import Path

from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, Service, Workload
from meshdesk.mesh.validations import ERROR, WARNING, Validation, validate
from meshdesk.sources.inventory import read_inventory
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"

INGRESS = {"istio": "ingressgateway"}


def _gateway(name: str, ns: str, servers: list[tuple[int, list[str]]],
             selector: dict[str, str] | None = None) -> IstioObject:
    return IstioObject("Gateway", name, ns, spec={
        "selector": INGRESS if selector is None else selector,
        "servers": [{"port": {"number": port, "name": f"http-{port}", "protocol": "HTTP"}, "hosts": hosts}
                    for port, hosts in servers]})


def _mesh(*gateways: IstioObject, outside: tuple[IstioObject, ...] = ()) -> Inventory:
    names = sorted({g.namespace for g in gateways})
    return Inventory(namespaces=[Namespace(n) for n in names],
                     workloads=[Workload("istio-ingressgateway", names[0], labels=dict(INGRESS))],
                     istio=list(gateways), outside_gateway_configs=list(outside))


def _clashes(v: Validation) -> list[tuple[str, str, str]]:
    return [(c.code, c.severity, c.path) for c in v.checks if c.code == "KIA0301"]


def test_two_gateways_for_one_host_and_port_both_warn_naming_each_other() -> None:
    inv = _mesh(_gateway("shop-gw", "shop", [(80, ["Shop.example.com", "static.example.com"])]),
                _gateway("web-gw", "web", [(80, ["other.example.com", "shop.example.COM"])]))
    found = validate(inv)
    shop, web = found[("Gateway", "shop", "shop-gw")], found[("Gateway", "web", "web-gw")]
    assert _clashes(shop) == [("KIA0301", WARNING, "spec/servers[0]/hosts[0]")]
    assert _clashes(web) == [("KIA0301", WARNING, "spec/servers[0]/hosts[1]")]
    assert "web/web-gw" in shop.checks[0].message and "'Shop.example.com'" in shop.checks[0].message
    assert "shop/shop-gw" in web.checks[0].message and "port 80" in web.checks[0].message
    assert shop.valid and web.valid  # a warning, as in Kiali


def test_gateways_are_compared_only_on_one_port_under_one_selector() -> None:
    inv = _mesh(_gateway("a", "shop", [(80, ["shop.example.com"])]),
                _gateway("other-port", "shop", [(443, ["shop.example.com"])]),
                # written differently, though it may select the same pods: Kiali does not compare them
                _gateway("other-selector", "shop", [(80, ["shop.example.com"])], {"app": "private-ingress"}),
                _gateway("no-selector", "shop", [(80, ["shop.example.com"])], {}))
    assert all(_clashes(v) == [] for v in validate(inv).values())
    # one selector written in another order is the same selector
    inv = _mesh(_gateway("a", "shop", [(80, ["shop.example.com"])], {"istio": "ingressgateway", "tier": "edge"}),
                _gateway("b", "shop", [(80, ["shop.example.com"])], {"tier": "edge", "istio": "ingressgateway"}))
    assert [len(_clashes(v)) for v in validate(inv).values() if v.kind == "Gateway"] == [1, 1]


def test_wildcard_hosts_clash_as_kiali_matches_them() -> None:
    inv = _mesh(
        _gateway("everything", "shop", [(80, ["*"])]),
        _gateway("wild", "shop", [(8080, ["*.example.com"])]),
        _gateway("deeper", "shop", [(8080, ["a.b.example.com"])]),  # under *.example.com
        _gateway("bare", "shop", [(8080, ["example.com"])]),  # not under it
        _gateway("wilder", "shop", [(8080, ["*.b.example.com"])]),  # two wildcards never clash
        _gateway("dash", "shop", [(9090, ["api-dev.example.com", "api.dev.example.com"])]),  # a dot is a dot
        _gateway("named", "shop", [(80, ["reviews.example.com"])]),  # "*" on its port covers it
    )
    found = validate(inv)

    def clashing(name: str) -> list[str]:
        return [c.message.split(": also ")[1] for c in found[("Gateway", "shop", name)].checks if c.code == "KIA0301"]

    assert clashing("everything") == ["shop/named"]
    assert clashing("named") == ["shop/everything"]
    assert clashing("wild") == ["shop/deeper"]
    assert clashing("deeper") == ["shop/wild, shop/wilder"]
    assert clashing("wilder") == ["shop/deeper"]
    assert clashing("bare") == [] and clashing("dash") == []


def test_hosts_for_a_namespace_clash_only_with_hosts_for_it_or_for_all() -> None:
    inv = _mesh(
        _gateway("for-shop", "shop", [(80, ["./reviews.example.com"])]),  # "." is the Gateway's own namespace
        _gateway("for-web", "web", [(80, ["web/reviews.example.com"])]),
        _gateway("for-shop-too", "web", [(80, ["shop/reviews.example.com"])]),
        _gateway("for-all", "web", [(443, ["reviews.example.com"])]),
        _gateway("for-all-too", "web", [(443, ["*/reviews.example.com", "web/reviews.example.com"])]),
    )
    found = validate(inv)
    assert [c.message.split(": also ")[1] for c in found[("Gateway", "shop", "for-shop")].checks] == ["web/for-shop-too"]
    assert _clashes(found[("Gateway", "web", "for-web")]) == []
    assert _clashes(found[("Gateway", "web", "for-all")]) == [("KIA0301", WARNING, "spec/servers[0]/hosts[0]")]
    assert _clashes(found[("Gateway", "web", "for-all-too")]) == [("KIA0301", WARNING, "spec/servers[0]/hosts[0]"),
                                                                 ("KIA0301", WARNING, "spec/servers[0]/hosts[1]")]


def test_many_gateways_for_every_host_name_a_few_of_the_others() -> None:
    """One Gateway per team on the shared ingress, each for "*" on port 80: every one clashes with
    every other, and each warning names five of them (by namespace and name) and counts the rest
    (naming all made megabytes of text for 2,000 Gateways)."""
    gateways = [_gateway(f"gw{i:02d}", f"team{i % 3}", [(80, ["*"])]) for i in range(40)]
    found = validate(_mesh(*gateways))
    for gw in gateways:
        checks = [c for c in found[("Gateway", gw.namespace, gw.name)].checks if c.code == "KIA0301"]
        assert [(c.severity, c.path) for c in checks] == [(WARNING, "spec/servers[0]/hosts[0]")]
        first = sorted((g.namespace, g.name) for g in gateways if g is not gw)[:5]
        assert checks[0].message == ("more than one Gateway for host '*' on port 80: also "
                                     + ", ".join(f"{ns}/{name}" for ns, name in first) + " and 34 more")
    # hosts for one namespace clash only with those for it or for all
    inv = _mesh(*gateways[:7], _gateway("own", "team1", [(80, ["team1/*"])]))
    message = next(c.message for c in validate(inv)[("Gateway", "team1", "own")].checks if c.code == "KIA0301")
    assert message.endswith("also team0/gw00, team0/gw03, team0/gw06, team1/gw01, team1/gw04 and 2 more")


def test_one_gateway_declaring_a_host_twice_on_a_port() -> None:
    inv = _mesh(_gateway("gw", "shop", [(80, ["shop.example.com"]), (443, ["shop.example.com"]),
                                        (80, ["www.example.com", "SHOP.example.com"])]))
    checks = validate(inv)[("Gateway", "shop", "gw")].checks
    assert [(c.code, c.path) for c in checks] == [("KIA0301", "spec/servers[0]/hosts[0]")]
    assert "more than once on port 80 in this Gateway" in checks[0].message


def test_a_gateway_read_outside_the_selection_is_compared_but_not_judged() -> None:
    """istio-system's Gateway is read for the graph when only shop is chosen: shop's Gateway is warned
    about the clash; istio-system's is not validated (it is not in the list)."""
    outside = _gateway("main", "istio-system", [(80, ["*"])])
    inv = _mesh(_gateway("shop-gw", "shop", [(80, ["shop.example.com"])]), outside=(outside,))
    found = validate(inv)
    assert [c.message for c in found[("Gateway", "shop", "shop-gw")].checks] == [
        "more than one Gateway for host 'shop.example.com' on port 80: also istio-system/main"]
    assert ("Gateway", "istio-system", "main") not in found
    # the same cluster read with istio-system chosen too: both are judged
    both = validate(Inventory.from_json({**inv.to_json(), "istio": [o.to_json() for o in (*inv.istio, outside)],
                                         "outside_gateway_configs": []}))
    assert [len(_clashes(both[("Gateway", ns, n)])) for ns, n in (("shop", "shop-gw"), ("istio-system", "main"))] \
        == [1, 1]


def test_odd_gateways_never_crash_and_are_not_compared() -> None:
    odd = [IstioObject("Gateway", "a", "shop", spec={"servers": [None, {"port": "80", "hosts": ["x", 3, None]}]}),
           IstioObject("Gateway", "b", "shop", spec={"servers": "all"}),
           IstioObject("Gateway", "c", "shop", spec={"selector": ["x"], "servers": [{"hosts": "x"}]}),
           IstioObject("Gateway", "d", "shop", spec={"servers": [{"hosts": ["x"]}]})]
    found = validate(Inventory(namespaces=[Namespace("shop")], istio=odd))
    # "a" and "d" both serve "x" without a port number, under no selector: Kiali compares them too
    assert [len(_clashes(found[("Gateway", "shop", n)])) for n in "abcd"] == [1, 0, 0, 1]
    # Istio's Gateways made from Gateway API objects are left out, as Kiali leaves them out
    made = _gateway("web-istio-autogenerated-k8s-gateway", "shop", [(80, ["shop.example.com"])])
    assert _clashes(validate(_mesh(_gateway("gw", "shop", [(80, ["shop.example.com"])]), made))[
        ("Gateway", "shop", "gw")]) == []


# -- AuthorizationPolicy: source namespaces (KIA0101) ---------------------------------------------

def _policy(name: str, rules: list[dict], ns: str = "shop", selector: dict[str, str] | None = None) -> IstioObject:
    spec: dict = {"action": "ALLOW", "rules": rules}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    return IstioObject("AuthorizationPolicy", name, ns, spec=spec)


def _shop(*objects: IstioObject, cluster: list[str] | None = None, root: bool = True) -> Inventory:
    return Inventory(namespaces=[Namespace("shop")] + ([Namespace("istio-system")] if root else []),
                     workloads=[Workload("reviews-v1", "shop", labels={"app": "reviews", "version": "v1"}),
                                Workload("legacy", "shop", labels={"app": "legacy"})],
                     istio=list(objects), cluster_namespaces=cluster)


def _on(inv: Inventory, name: str, code: str) -> list[tuple[str, str, str]]:
    return [(c.code, c.severity, c.path) for c in validate(inv)[("AuthorizationPolicy", "shop", name)].checks
            if c.code == code]


CLUSTER = ["istio-system", "shop", "team-a", "team-b", "web"]


def test_source_namespaces_must_exist_in_the_cluster() -> None:
    sources = ["web", "gone", "team-*", "*-b", "nomatch-*", "*", "*zzz"]
    inv = _shop(_policy("p", [{"from": [{"source": {"namespaces": sources, "notNamespaces": ["gone-too"]}}]}]),
                cluster=CLUSTER)
    found = validate(inv)[("AuthorizationPolicy", "shop", "p")]
    assert [(c.code, c.severity, c.path) for c in found.checks] == [
        ("KIA0101", WARNING, "spec/rules[0]/from[0]/source/namespaces[1]"),
        ("KIA0101", WARNING, "spec/rules[0]/from[0]/source/namespaces[4]"),
        ("KIA0101", WARNING, "spec/rules[0]/from[0]/source/namespaces[6]")]
    assert "'gone'" in found.checks[0].message and "'nomatch-*'" in found.checks[1].message
    assert found.valid  # a warning, as in Kiali
    # a namespace of the cluster that was not chosen is no finding: the check asks the cluster, not the selection
    assert "team-a" not in {n.name for n in inv.namespaces}


def test_source_namespaces_are_not_judged_without_the_clusters_namespaces() -> None:
    """Listing namespaces forbidden, or a snapshot made before they were kept: nothing is said."""
    policy = _policy("p", [{"from": [{"source": {"namespaces": ["gone"]}}]}])
    assert _on(_shop(policy, cluster=None), "p", "KIA0101") == []
    kept = Inventory.from_json(_shop(policy, cluster=CLUSTER).to_json())
    assert kept.cluster_namespaces == CLUSTER and len(_on(kept, "p", "KIA0101")) == 1
    old = _shop(policy, cluster=CLUSTER).to_json()
    del old["cluster_namespaces"]
    assert _on(Inventory.from_json(old), "p", "KIA0101") == []
    # choosing fewer namespaces of a snapshot keeps the cluster's names
    assert _on(kept.within(["shop"]), "p", "KIA0101") == _on(kept, "p", "KIA0101")


# -- AuthorizationPolicy: fields that need mTLS (KIA0105) ------------------------------------------

IDENTITIES = [{"from": [{"source": {"principals": ["cluster.local/ns/web/sa/frontend"]}}],
               "when": [{"key": "request.headers[x-user]", "values": ["a"]},
                        {"key": "source.namespace", "values": ["web"]}]}]
PLAIN = [{"to": [{"operation": {"methods": ["GET"]}}]}]  # nothing only mTLS can match


def _peer(name: str, mode: str, ns: str = "shop", selector: dict[str, str] | None = None) -> IstioObject:
    spec: dict = {"mtls": {"mode": mode}}
    if selector is not None:
        spec["selector"] = {"matchLabels": selector}
    return IstioObject("PeerAuthentication", name, ns, api_version="security.istio.io/v1", spec=spec)


def _rule(name: str, host: str, mode: str, ns: str = "shop") -> IstioObject:
    return IstioObject("DestinationRule", name, ns, spec={"host": host, "trafficPolicy": {"tls": {"mode": mode}}})


def test_identity_fields_where_the_namespace_turns_mtls_off() -> None:
    inv = _shop(_peer("default", "DISABLE"), _policy("p", IDENTITIES), _policy("plain", PLAIN))
    found = validate(inv)[("AuthorizationPolicy", "shop", "p")]
    assert [(c.code, c.severity, c.path) for c in found.checks] == [
        ("KIA0105", ERROR, "spec/rules[0]/from[0]/source/principals"),
        ("KIA0105", ERROR, "spec/rules[0]/when[1]")]
    assert "mTLS" in found.checks[0].message and not found.valid
    assert _on(inv, "plain", "KIA0105") == []


def test_identity_fields_are_fine_with_istios_defaults_or_mtls_on() -> None:
    policy = _policy("p", IDENTITIES)
    assert _on(_shop(policy), "p", "KIA0105") == []  # nothing configured: auto mTLS
    for mode in ("STRICT", "PERMISSIVE"):
        assert _on(_shop(policy, _peer("default", mode)), "p", "KIA0105") == []
        assert _on(_shop(policy, _peer("default", mode, "istio-system")), "p", "KIA0105") == []
    # a namespace PeerAuthentication leaving the mode UNSET inherits the mesh's, as Istio says (Kiali
    # takes UNSET as a mode of its own and reports this namespace under a STRICT mesh)
    unset = _peer("default", "UNSET")
    assert _on(_shop(policy, unset, _peer("default", "STRICT", "istio-system")), "p", "KIA0105") == []
    assert len(_on(_shop(policy, unset, _peer("default", "DISABLE", "istio-system")), "p", "KIA0105")) == 2


def test_mesh_wide_settings_in_the_root_namespace_decide_too() -> None:
    policy = _policy("p", IDENTITIES)
    assert len(_on(_shop(policy, _peer("default", "DISABLE", "istio-system")), "p", "KIA0105")) == 2
    assert len(_on(_shop(policy, _rule("mesh", "*.local", "DISABLE", "istio-system")), "p", "KIA0105")) == 2
    # the namespace's own rule overrides the mesh's
    assert _on(_shop(policy, _peer("default", "DISABLE", "istio-system"), _peer("default", "STRICT")),
               "p", "KIA0105") == []
    # a namespace-wide DestinationRule turning TLS off
    assert len(_on(_shop(policy, _rule("ns", "*.shop.svc.cluster.local", "DISABLE")), "p", "KIA0105")) == 2


def test_workload_policies_follow_the_peer_authentication_of_their_workloads() -> None:
    reviews = _policy("p", IDENTITIES, selector={"app": "reviews", "version": "v1"})
    legacy = _policy("other", IDENTITIES, selector={"app": "legacy"})
    off = _peer("reviews-off", "DISABLE", selector={"app": "reviews"})
    inv = _shop(reviews, legacy, off)
    assert len(_on(inv, "p", "KIA0105")) == 2 and _on(inv, "other", "KIA0105") == []
    # STRICT for the workload wins over a namespace that turns it off
    assert _on(_shop(reviews, _peer("default", "DISABLE"), _peer("reviews-on", "STRICT", selector={"app": "reviews"})),
               "p", "KIA0105") == []
    # PERMISSIVE for the workload: the DestinationRule of its service decides
    permissive = _peer("reviews-permissive", "PERMISSIVE", selector={"app": "reviews"})
    inv = _shop(reviews, permissive, _rule("reviews", "reviews", "DISABLE"))
    inv.services = [Service("reviews", "shop", selector={"app": "reviews"})]
    assert len(_on(inv, "p", "KIA0105")) == 2
    inv.istio[-1] = _rule("reviews", "reviews.shop.svc.cluster.local", "ISTIO_MUTUAL")
    assert _on(inv, "p", "KIA0105") == []


def test_many_workload_policies_in_one_namespace_are_judged_each_by_its_own() -> None:
    """Per-workload PeerAuthentications and AuthorizationPolicies by the thousand in one namespace (a
    common layout): each policy is judged by the PeerAuthentications selecting its workloads and, when
    PERMISSIVE, its services' rules. (It scanned the namespace per policy: 3,000 took over ten seconds;
    the cost is measured by benchmarks/validate.py's one-namespace column, not timed here.)"""
    n = 300
    istio: list[IstioObject] = []
    for i in range(n):
        selector = {"app": f"s{i}", "tier": "back"}
        istio.append(_peer(f"pa{i}", "PERMISSIVE", selector={"app": f"s{i}"}))
        istio.append(_policy(f"ap{i}", IDENTITIES, selector=selector))
    istio.append(_rule("s7", "s7", "DISABLE"))  # s7's service turns mTLS off: its policy is accused
    istio.append(_peer("pa-other", "DISABLE", selector={"app": "s9", "tier": "front"}))  # not s9's workloads
    inv = _shop(*istio)
    inv.services = [Service(f"s{i}", "shop", selector={"app": f"s{i}", "tier": "back"}) for i in range(n)]
    found = validate(inv)
    accused = sorted(k[2] for k, v in found.items()
                     if k[0] == "AuthorizationPolicy" and any(c.code == "KIA0105" for c in v.checks))
    assert accused == ["ap7"]
    assert [c.path for c in found[("AuthorizationPolicy", "shop", "ap7")].checks if c.code == "KIA0105"] == [
        "spec/rules[0]/from[0]/source/principals", "spec/rules[0]/when[1]"]


def test_identity_fields_are_not_judged_from_what_could_not_be_read() -> None:
    policy = _policy("p", IDENTITIES)
    # the namespace's PeerAuthentications were not readable: nothing can be told
    hidden = _shop(policy, _peer("default", "DISABLE"))
    hidden.hidden = {"shop/peerauthentications": "forbidden: no"}
    assert _on(hidden, "p", "KIA0105") == []
    # the root namespace was not chosen: its mesh-wide PeerAuthentication is read from the whole cluster...
    mesh_off = _shop(policy, _peer("default", "DISABLE", "istio-system"))
    assert len(_on(mesh_off, "p", "KIA0105")) == 2
    narrowed = mesh_off.within(["shop"])
    assert len(_on(narrowed, "p", "KIA0105")) == 2
    # ...and when that was forbidden it is not known, and could say anything...
    narrowed.outside_config = []
    narrowed.hidden = {"~/peerauthentications": "forbidden cluster-wide"}
    assert _on(narrowed, "p", "KIA0105") == []
    # ...but not undo the namespace's own DISABLE
    assert len(_on(_shop(policy, _peer("default", "DISABLE"), root=False), "p", "KIA0105")) == 2
    # DestinationRules that could not be listed everywhere could be any
    rules_hidden = _shop(policy, _rule("ns", "*.shop.svc.cluster.local", "DISABLE"))
    rules_hidden.hidden = {"*/destinationrules": "forbidden cluster-wide"}
    assert _on(rules_hidden, "p", "KIA0105") == []


def test_assuming_auto_mtls_never_accuses_where_kiali_would_not() -> None:
    """meshdesk does not read the mesh config and takes Istio's default (auto mTLS on): wherever Kiali
    with auto mTLS off finds mTLS on, it is on with auto mTLS too, so the assumption only hides
    findings, never makes one up."""
    from itertools import product

    from meshdesk.mesh.policy_checks import PEER_MODES, TLS_MODES, mtls_enabled

    for modes in product(TLS_MODES, PEER_MODES, TLS_MODES, PEER_MODES):
        assert mtls_enabled(*modes, auto=True) or not mtls_enabled(*modes, auto=False), modes


# -- the cluster's namespaces, as the inventory reads them -----------------------------------------

POLICY_FROM_NAMESPACES = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-teams, namespace: shop}
spec:
  action: ALLOW
  rules:
  - from:
    - source: {namespaces: ["team-a", "team-gone", "kube-*"]}
"""


def test_the_clusters_namespaces_are_read_with_the_selection(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    """One namespace list call, as before, gives the chosen namespace and every name of the cluster
    (a policy's source namespaces are judged against those, chosen or not); they travel in snapshots."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    for ns in ("shop", "team-a", "web"):
        emu.add_namespace(ns, {"istio-injection": "enabled"} if ns == "shop" else None)
    emu.load_yaml(POLICY_FROM_NAMESPACES)
    inv = read_inventory(emu.api_client(), ["shop"], cluster="c")
    assert inv.cluster_namespaces == ["default", "kube-system", "shop", "team-a", "web"]
    assert [(n.name, n.injection_enabled) for n in inv.namespaces] == [("shop", True)]
    assert inv.hidden == {} and inv.warnings == []
    assert ("GET", "/api/v1/namespaces") in emu.calls and ("GET", "/api/v1/namespaces/shop") not in emu.calls
    checks = validate(inv)[("AuthorizationPolicy", "shop", "from-teams")].checks
    assert [(c.code, c.path) for c in checks] == [("KIA0101", "spec/rules[0]/from[0]/source/namespaces[1]")]
    again = Inventory.from_json(inv.to_json())
    assert again.cluster_namespaces == inv.cluster_namespaces
    assert read_inventory(emu.api_client(), ["shop", "web"], cluster="c").cluster_namespaces == inv.cluster_namespaces
    # a chosen namespace the list does not hold is asked for by name, and said not to exist
    missing = read_inventory(emu.api_client(), ["nowhere"], cluster="c")
    assert missing.namespaces == [] and missing.warnings == ["namespace nowhere does not exist"]


def test_without_the_right_to_list_namespaces_nothing_is_said_of_them(kube_emulator: KubeEmulator,
                                                                      shared_dir: Path) -> None:
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.load_yaml(POLICY_FROM_NAMESPACES)
    emu.forbid(resource="namespaces", verb="list")
    for chosen in (["shop"], ["shop", "default"]):
        inv = read_inventory(emu.api_client(), chosen, cluster="c")
        assert inv.cluster_namespaces is None and inv.hidden == {} and inv.warnings == []  # quietly
        shop = inv.namespace("shop")
        assert shop is not None and shop.injection_enabled  # read by name instead
        assert [c.code for c in validate(inv)[("AuthorizationPolicy", "shop", "from-teams")].checks] == []
        assert "cluster_namespaces" not in inv.to_json() and Inventory.from_json(inv.to_json()).cluster_namespaces is None
