"""The mesh-wide and per-namespace mTLS status, case by case as Kiali's ``business/tls_test.go`` checks
them (our own data), and what meshdesk adds: what was not read makes the status unknown, never a guess."""

from __future__ import annotations

from typing import Any

import pytest

from meshdesk.mesh.inventory import NOT_IN_SNAPSHOT, OUTSIDE, Inventory, IstioObject, MeshConfig, Namespace
from meshdesk.mesh.tls_status import (
    DISABLED,
    ENABLED,
    NOT_ENABLED,
    PARTIALLY_ENABLED,
    UNKNOWN,
    UNSET_INHERITED_DISABLED,
    UNSET_INHERITED_PERMISSIVE,
    UNSET_INHERITED_STRICT,
    VALIDATION_ERROR,
    mesh_tls,
    namespace_tls,
    namespace_tls_all,
)
from tests.kube_emulator import kube_emulator_fixture  # noqa: F401 - the fixture

INJECTED = {"istio-injection": "enabled"}
ROOT = "istio-system"


def _pa(ns: str, mode: str | None, name: str = "default", selector: dict[str, str] | None = None,
        created: str = "") -> IstioObject:
    spec: dict[str, Any] = {} if mode is None else {"mtls": {} if mode == "" else {"mode": mode}}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    return IstioObject("PeerAuthentication", name, ns, api_version="security.istio.io/v1", spec=spec,
                       created=created)


def _dr(ns: str, host: str, mode: str | None, name: str = "dr") -> IstioObject:
    spec: dict[str, Any] = {"host": host}
    if mode is not None:
        spec["trafficPolicy"] = {"tls": {"mode": mode}}
    return IstioObject("DestinationRule", name, ns, spec=spec)


def _inv(*objs: IstioObject, auto: bool = True, outside: tuple[IstioObject, ...] = (),
         namespaces: tuple[Namespace, ...] | None = None, trust_domain: str = "cluster.local") -> Inventory:
    nss = namespaces if namespaces is not None else (
        Namespace("bookinfo", dict(INJECTED)), Namespace("foo", dict(INJECTED)), Namespace("default", dict(INJECTED)),
        Namespace(ROOT))
    return Inventory(namespaces=list(nss), istio=list(objs), outside_config=list(outside),
                     cluster_namespaces=sorted({n.name for n in nss} | {o.namespace for o in outside}),
                     mesh_settings=MeshConfig(source=f"{ROOT}/istio", auto_mtls=auto, trust_domain=trust_domain))


# -- mesh-wide: Kiali's TestMeshStatus* ---------------------------------------------------------------

def test_mesh_strict_with_a_mutual_local_rule_is_enabled_without_auto_mtls() -> None:
    m = mesh_tls(_inv(_pa(ROOT, "STRICT"), _dr("default", "*.local", "ISTIO_MUTUAL", "test"), auto=False))
    assert m.status == ENABLED and m.label == "enabled" and m.icon == "full"
    assert m.policy is not None and m.policy.name == "default" and m.rule is not None and m.rule.name == "test"
    assert "PeerAuthentication istio-system/default: STRICT" in m.tooltip
    assert "DestinationRule default/test for *.local: tls mode ISTIO_MUTUAL" in m.tooltip
    assert "automatic mTLS off" in m.tooltip


def test_mesh_strict_needs_no_rule_with_auto_mtls() -> None:
    m = mesh_tls(_inv(_pa(ROOT, "STRICT"), auto=True))
    assert m.status == ENABLED and m.auto_mtls is True
    assert "automatic mTLS on" in m.tooltip and "no DestinationRule for *.local" in m.tooltip


def test_mesh_strict_without_a_local_rule_nor_auto_mtls_is_partial() -> None:
    # a rule for one host, and in a namespace the control plane does not inject: neither counts
    m = mesh_tls(_inv(_pa(ROOT, "STRICT"), _dr(ROOT, "sleep.foo.svc.cluster.local", "ISTIO_MUTUAL"), auto=False))
    assert m.status == PARTIALLY_ENABLED and m.label == "partially enabled" and m.icon == "hollow"


def test_mesh_with_nothing_set_is_not_enabled() -> None:
    m = mesh_tls(_inv(_dr(ROOT, "sleep.foo.svc.cluster.local", "ISTIO_MUTUAL"), auto=False))
    assert m.status == NOT_ENABLED and m.label == "not enabled" and m.icon == "open"
    assert "no mesh-wide PeerAuthentication (in istio-system" in m.tooltip


def test_mesh_disabled_by_its_policy_and_rule() -> None:
    m = mesh_tls(_inv(_pa(ROOT, "DISABLE"), _dr(ROOT, "*.local", "DISABLE"), auto=False))
    assert m.status == DISABLED and m.label == "disabled" and m.icon == "open"


def test_mesh_with_nothing_set_but_auto_mtls_says_only_automatic() -> None:
    m = mesh_tls(_inv(auto=True))
    assert m.status == NOT_ENABLED and m.label == "automatic"
    assert m.headline.startswith("Only automatic mTLS")


# -- mesh-wide: the rest of Kiali's arithmetic ----------------------------------------------------------

def test_a_mutual_local_rule_alone_enables_the_mesh_with_auto_mtls_only() -> None:
    assert mesh_tls(_inv(_dr("default", "*.local", "ISTIO_MUTUAL"), auto=True)).status == ENABLED
    assert mesh_tls(_inv(_dr("default", "*.local", "ISTIO_MUTUAL"), auto=False)).status == PARTIALLY_ENABLED


def test_half_disabled_mesh_is_disabled() -> None:
    assert mesh_tls(_inv(_pa(ROOT, "DISABLE"), auto=False)).status == DISABLED
    assert mesh_tls(_inv(_dr("default", "*.local", "DISABLE"), auto=False)).status == DISABLED


def test_contradicting_policy_and_rule_are_partial() -> None:
    assert mesh_tls(_inv(_pa(ROOT, "STRICT"), _dr("default", "*.local", "DISABLE"))).status == PARTIALLY_ENABLED
    assert mesh_tls(_inv(_pa(ROOT, "PERMISSIVE"))).status == PARTIALLY_ENABLED
    assert mesh_tls(_inv(_pa(ROOT, ""))).status == PARTIALLY_ENABLED  # mtls without a mode, as Kiali


def test_mesh_policy_must_be_selector_less_and_in_the_root_namespace() -> None:
    assert mesh_tls(_inv(_pa(ROOT, "STRICT", selector={"app": "x"}))).status == NOT_ENABLED
    assert mesh_tls(_inv(_pa("bookinfo", "STRICT"))).status == NOT_ENABLED
    custom = _inv(_pa("mesh-root", "STRICT"), namespaces=(Namespace("mesh-root"),))
    custom.mesh_settings = MeshConfig(source="mesh-root/istio", root_namespace="mesh-root")
    assert mesh_tls(custom).status == ENABLED


def test_the_oldest_mesh_policy_decides() -> None:
    inv = _inv(_pa(ROOT, "DISABLE", "b", created="2024-01-01T00:00:00Z"),
               _pa(ROOT, "STRICT", "a", created="2025-01-01T00:00:00Z"))
    m = mesh_tls(inv)
    assert m.status == DISABLED and m.policy is not None and m.policy.name == "b"


def test_local_rules_of_namespaces_not_injected_do_not_count() -> None:
    # Kiali weighs the rules of the control plane's namespaces only (injection or its revision label)
    assert mesh_tls(_inv(_pa(ROOT, "STRICT"), _dr(ROOT, "*.local", "DISABLE"))).status == ENABLED
    rev = _inv(_pa(ROOT, "STRICT"), _dr("canary", "*.local", "DISABLE"),
               namespaces=(Namespace("canary", {"istio.io/rev": "default"}), Namespace(ROOT)))
    assert mesh_tls(rev).status == PARTIALLY_ENABLED


# -- per namespace: Kiali's TestNamespaceHas* (its tests run with no validation findings) ------------------

BOOKINFO = "*.bookinfo.svc.cluster.local"
NONE: dict[Any, Any] = {}


def _ns(*objs: IstioObject, auto: bool) -> str:
    return namespace_tls(_inv(*objs, auto=auto), "bookinfo", validations=NONE).status


@pytest.mark.parametrize("auto", [False, True])
def test_namespace_strict_with_a_mutual_rule_is_strict(auto: bool) -> None:
    assert _ns(_pa("bookinfo", "STRICT"), _dr("bookinfo", BOOKINFO, "ISTIO_MUTUAL"), auto=auto) == ENABLED


def test_namespace_strict_alone_is_strict_with_auto_mtls() -> None:
    t = namespace_tls(_inv(_pa("bookinfo", "STRICT")), "bookinfo", validations=NONE)
    assert t.status == ENABLED and t.label == "Strict" and t.icon == "full"
    assert "PeerAuthentication bookinfo/default: STRICT" in t.text
    assert f"no DestinationRule for {BOOKINFO} sets a TLS mode" in t.text and "automatic mTLS on" in t.text


@pytest.mark.parametrize("auto", [False, True])
def test_namespace_disabled_while_a_rule_sends_mtls_is_permissive(auto: bool) -> None:
    assert _ns(_pa("bookinfo", "DISABLE"), _dr("bookinfo", BOOKINFO, "ISTIO_MUTUAL"), auto=auto) == PARTIALLY_ENABLED


def test_namespace_disabled_alone_is_disabled_with_auto_mtls() -> None:
    assert _ns(_pa("bookinfo", "DISABLE"), auto=True) == DISABLED
    assert _ns(_pa("bookinfo", "DISABLE"), auto=False) == PARTIALLY_ENABLED


def test_namespace_strict_with_a_rule_setting_no_tls() -> None:
    assert _ns(_pa("bookinfo", "STRICT"), _dr("bookinfo", BOOKINFO, None), auto=False) == PARTIALLY_ENABLED
    assert _ns(_pa("bookinfo", "STRICT"), _dr("bookinfo", BOOKINFO, None), auto=True) == ENABLED


@pytest.mark.parametrize("auto", [False, True])
def test_namespace_without_a_policy_inherits_the_mesh(auto: bool) -> None:
    assert _ns(auto=auto) == UNSET_INHERITED_PERMISSIVE
    # a policy with a selector is no namespace policy; nor is one saying nothing of mTLS
    assert _ns(_pa("bookinfo", "STRICT", selector={"app": "productpage"}), _dr("bookinfo", BOOKINFO, None),
               auto=auto) == UNSET_INHERITED_PERMISSIVE
    assert _ns(_pa("bookinfo", None), auto=auto) == UNSET_INHERITED_PERMISSIVE
    t = namespace_tls(_inv(auto=auto), "bookinfo")
    assert t.label == "Permissive (from the mesh)" and t.icon == "hollow"


@pytest.mark.parametrize("auto", [False, True])
@pytest.mark.parametrize("mode", ["DISABLE", "ISTIO_MUTUAL", None])
def test_namespace_permissive_is_partial_whatever_the_rule(auto: bool, mode: str | None) -> None:
    rules = (_dr("bookinfo", BOOKINFO, mode),) if mode else ()
    assert _ns(_pa("bookinfo", "PERMISSIVE"), *rules, auto=auto) == PARTIALLY_ENABLED


@pytest.mark.parametrize("auto", [False, True])
def test_namespace_disabled_by_policy_and_rule_is_disabled(auto: bool) -> None:
    assert _ns(_pa("bookinfo", "DISABLE"), _dr("bookinfo", BOOKINFO, "DISABLE"), auto=auto) == DISABLED


def test_namespace_rule_host_follows_the_trust_domain() -> None:
    inv = _inv(_pa("bookinfo", "STRICT"), _dr("bookinfo", "*.bookinfo.svc.example.org", "ISTIO_MUTUAL"),
               auto=False, trust_domain="example.org")
    assert namespace_tls(inv, "bookinfo", validations=NONE).status == ENABLED


def test_namespace_rule_may_live_in_another_namespace() -> None:
    inv = _inv(_pa("bookinfo", "STRICT"), _dr("foo", BOOKINFO, "ISTIO_MUTUAL", "allow-mtls"), auto=False)
    t = namespace_tls(inv, "bookinfo", validations=NONE)
    assert t.status == ENABLED and "DestinationRule foo/allow-mtls" in t.text


# -- per namespace: inheriting, the root namespace, validation errors --------------------------------------

def test_namespace_without_a_policy_inherits_a_strict_or_disabled_mesh() -> None:
    strict = namespace_tls(_inv(_pa(ROOT, "STRICT")), "bookinfo")
    assert strict.status == UNSET_INHERITED_STRICT and strict.label == "Strict (from the mesh)"
    assert "mesh-wide PeerAuthentication istio-system/default: STRICT" in strict.text
    assert namespace_tls(_inv(_pa(ROOT, "DISABLE")), "bookinfo").status == UNSET_INHERITED_DISABLED
    # its own policy wins over the mesh's
    assert namespace_tls(_inv(_pa(ROOT, "STRICT"), _pa("bookinfo", "DISABLE")), "bookinfo").status == DISABLED


def test_root_namespace_shows_the_mesh_status() -> None:
    assert namespace_tls(_inv(_pa(ROOT, "STRICT")), ROOT).status == ENABLED
    assert namespace_tls(_inv(_pa(ROOT, "PERMISSIVE")), ROOT).status == PARTIALLY_ENABLED
    root = namespace_tls(_inv(), ROOT)
    assert root.status == UNSET_INHERITED_PERMISSIVE and "the root namespace" in root.text


def test_a_policy_with_an_error_is_a_validation_error() -> None:
    # STRICT without automatic mTLS nor a rule sending mTLS: KIA0501, an error
    t = namespace_tls(_inv(_pa("bookinfo", "STRICT"), auto=False), "bookinfo")
    assert t.status == VALIDATION_ERROR and t.label == "Validation error"
    assert "PeerAuthentication default has an error" in t.text


def test_all_namespaces_at_once() -> None:
    found = namespace_tls_all(_inv(_pa(ROOT, "STRICT"), _pa("foo", "PERMISSIVE")))
    assert [(t.namespace, t.status) for t in found] == [
        ("bookinfo", UNSET_INHERITED_STRICT), ("foo", PARTIALLY_ENABLED), ("default", UNSET_INHERITED_STRICT),
        (ROOT, ENABLED)]


# -- what was not read: unknown, never a wrong lock --------------------------------------------------------

def _selected_without_root(*outside: IstioObject, **kw: Any) -> Inventory:
    return _inv(outside=outside, namespaces=(Namespace("bookinfo", dict(INJECTED)),), **kw)


def test_mesh_policies_not_readable_make_the_mesh_unknown() -> None:
    inv = _selected_without_root(_pa(ROOT, "STRICT"))
    assert mesh_tls(inv).status == ENABLED  # read around the selection
    inv = _selected_without_root()
    inv.hidden[f"{OUTSIDE}/peerauthentications"] = "forbidden cluster-wide"
    m = mesh_tls(inv)
    assert m.status == UNKNOWN and m.icon == "unknown" and m.label == "unknown"
    assert "unknown: the PeerAuthentications of istio-system could not be read" in m.tooltip
    # a namespace that follows the mesh is unknown too; one with its own policy is not
    assert namespace_tls(inv, "bookinfo").status == UNKNOWN
    inv.istio.append(_pa("bookinfo", "STRICT"))
    assert namespace_tls(inv, "bookinfo").status == ENABLED


def test_policies_forbidden_everywhere_leave_every_status_unknown() -> None:
    inv = _inv(_pa(ROOT, "STRICT"))
    inv.istio = []
    inv.hidden["*/peerauthentications"] = "Forbidden: no"
    assert mesh_tls(inv).status == UNKNOWN
    assert {t.status for t in namespace_tls_all(inv)} == {UNKNOWN}


def test_unread_rules_matter_only_where_they_could_change_the_status() -> None:
    inv = _inv(_pa(ROOT, "STRICT"))
    inv.hidden["*/destinationrules"] = "Forbidden: no"
    assert mesh_tls(inv).status == UNKNOWN  # a *.local rule turning mTLS off would make it partial
    inv = _inv(_pa(ROOT, "PERMISSIVE"))
    inv.hidden["*/destinationrules"] = "Forbidden: no"
    assert mesh_tls(inv).status == PARTIALLY_ENABLED  # whatever the rules say


def test_unread_mesh_config_leaves_automatic_mtls_open() -> None:
    inv = _inv(_pa(ROOT, "STRICT"))
    inv.mesh_settings = MeshConfig(unread=NOT_IN_SNAPSHOT)
    assert mesh_tls(inv).status == UNKNOWN  # with automatic mTLS enabled, without it partial
    inv.istio.append(_dr("default", "*.local", "ISTIO_MUTUAL"))
    m = mesh_tls(inv)
    assert m.status == ENABLED and m.auto_mtls is None
    assert "mesh config (whether automatic mTLS is on) could not be read" in m.tooltip
    # no ConfigMap at all: Istio runs on its defaults, automatic mTLS on
    inv = _inv(_pa(ROOT, "STRICT"))
    inv.mesh_settings = MeshConfig(unread="there is no ConfigMap istio-system/istio")
    assert mesh_tls(inv).status == ENABLED


def test_a_local_rule_in_a_namespace_whose_labels_are_unknown() -> None:
    # outside the selection: whether Kiali would weigh it is not known
    assert mesh_tls(_selected_without_root(_pa(ROOT, "STRICT"), _dr("other", "*.local", "DISABLE"))).status == UNKNOWN
    m = mesh_tls(_selected_without_root(_pa(ROOT, "STRICT"), _dr("other", "*.local", "ISTIO_MUTUAL")))
    assert m.status == ENABLED  # either way
    assert any("whether DestinationRule other/dr counts" in u for u in m.unknown)


def test_no_istio_no_status() -> None:
    inv = _inv()
    inv.istio_found = False
    assert mesh_tls(inv).status == UNKNOWN
    assert namespace_tls(inv, "bookinfo").status == UNKNOWN


# -- meshdesk inventory ----------------------------------------------------------------------------------

def test_the_inventory_command_prints_the_mesh_and_namespace_status(capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.cli import main

    assert main(["inventory", "--demo"]) == 0
    out = capsys.readouterr().out
    mesh = out.split("MESH CONFIG", 1)[1]
    assert "Mesh-wide mTLS     Only automatic mTLS: nothing mesh-wide enforces mTLS\n" in mesh
    assert "  no mesh-wide PeerAuthentication (in istio-system, without a selector)" in mesh
    rows = {line.split("   ")[0].strip(): line for line in mesh.split("NAMESPACE", 1)[1].splitlines()[1:]}
    assert set(rows) == {"hello", "istio-system", "shop", "travel"}
    assert rows["shop"].split(None, 2)[1] == "Strict" and "PeerAuthentication shop/default: STRICT" in rows["shop"]
    assert "Permissive (from the mesh)" in rows["hello"] and "Permissive (from the mesh)" in rows["travel"]


def test_the_inventory_command_says_unknown_where_policies_are_forbidden(
        kube_emulator: Any, shared_dir: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.cli import main
    from tests.test_mesh_settings import CRDS, _configmap, _deployment, _istiod

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add(_istiod())
    emu.add(_configmap("enableAutoMtls: true\n"))
    emu.add(_deployment("frontend", "shop", {"app": "frontend"}))
    emu.add({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
             "metadata": {"name": "default", "namespace": "istio-system"}, "spec": {"mtls": {"mode": "STRICT"}}})
    emu.run_workloads()
    config = emu.write_kubeconfig(tmp_path / "config")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "shop"]) == 0
    out = capsys.readouterr().out
    assert "Mesh-wide mTLS     Mesh-wide mTLS is enabled\n" in out
    assert "  PeerAuthentication istio-system/default: STRICT\n" in out
    assert "\nshop        Strict (from the mesh)   " in out
    emu.forbid(namespace="", resource="peerauthentications")  # the selection's may be read, not the mesh's
    assert main(["inventory", "--kubeconfig", str(config), "-n", "shop"]) == 0
    out = capsys.readouterr().out
    assert "Mesh-wide mTLS     The mesh-wide mTLS status cannot be told\n" in out
    assert "  unknown: the PeerAuthentications of istio-system could not be read\n" in out
    assert "\nshop        unknown   " in out
