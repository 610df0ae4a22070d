"""Kiali's Gateway checks across Gateways (KIA0301) and the AuthorizationPolicy checks that need the
cluster's namespaces (KIA0101) or its mTLS settings (KIA0105): what a user sees on each object."""

from __future__ import annotations

from meshdesk.mesh.inventory import Inventory, IstioObject, Namespace, Workload
from meshdesk.mesh.validations import WARNING, Validation, validate

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
    assert [len(_clashes(v)) for v in validate(inv).values()] == [1, 1]


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
