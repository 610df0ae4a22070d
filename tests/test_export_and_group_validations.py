"""Kiali's checks of ``exportTo`` (KIA0005: config exported to a namespace that does not exist), of
WorkloadGroups (KIA1701: a service account no workload of the namespace runs as; KIA1702: two groups
giving their workloads the same labels) and of a Sidecar's outbound policy without a mode (KIA1007).
Cases after Kiali's checker tests; what the inventory did not read is never judged."""

from __future__ import annotations

from typing import Any

from meshdesk.mesh.inventory import Container, Inventory, IstioObject, Namespace, Pod, Service, Workload
from meshdesk.mesh.validations import ERROR, INFO, WARNING, validate


def _wl(ns: str, name: str, account: str) -> Workload:
    labels = {"app": name}
    containers = [Container("app", "img:1", True), Container("istio-proxy", "proxyv2:1.24.2", True)]
    return Workload(name, ns, labels=labels, pods=[Pod(f"{name}-abc", ns, labels=labels, containers=containers,
                                                       service_account=account)])


def _inv(*objs: IstioObject, namespaces: tuple[str, ...] = ("bookinfo",), **kw: Any) -> Inventory:
    kw.setdefault("workloads", [_wl("bookinfo", "reviews", "bookinfo-reviews")])
    kw.setdefault("services", [Service("reviews", "bookinfo", selector={"app": "reviews"})])
    return Inventory(namespaces=[Namespace(n) for n in namespaces], istio=list(objs), **kw)


def _findings(inv: Inventory, kind: str, name: str, ns: str = "bookinfo") -> list[tuple[str, str, str]]:
    return [(c.code, c.severity, c.path) for c in validate(inv)[(kind, ns, name)].checks]


# -- KIA0005 ------------------------------------------------------------------------------------------

def _exported(kind: str, export_to: list[Any], ns: str = "bookinfo") -> IstioObject:
    spec: dict[str, Any] = {"exportTo": export_to}
    if kind == "VirtualService":
        spec.update(hosts=["reviews"], http=[{"route": [{"destination": {"host": "reviews"}}]}])
    elif kind == "DestinationRule":
        spec.update(host="reviews")
    else:
        spec.update(hosts=["api.example.com"], ports=[{"number": 443, "name": "https", "protocol": "TLS"}],
                    resolution="DNS", location="MESH_EXTERNAL")
    return IstioObject(kind, "exported", ns, spec=spec)


def test_config_exported_to_a_namespace_that_does_not_exist_is_an_error() -> None:
    for kind in ("VirtualService", "DestinationRule", "ServiceEntry"):
        obj = _exported(kind, [".", "istio-system", "bokinfo", "*", "~", "shop"])
        inv = _inv(obj, cluster_namespaces=["bookinfo", "istio-system", "shop"])
        assert _findings(inv, kind, "exported") == [("KIA0005", ERROR, "spec/exportTo[2]")], kind
        assert not validate(inv)[(kind, "bookinfo", "exported")].valid
        assert "'bokinfo'" in validate(inv)[(kind, "bookinfo", "exported")].checks[0].message


def test_export_to_is_judged_only_where_the_namespaces_are_known() -> None:
    obj = _exported("VirtualService", ["shop", "bookinfo"])
    # the cluster's namespaces could not be listed: only the chosen ones are known to exist
    assert _findings(_inv(obj), "VirtualService", "exported") == []
    # a namespace the user chose exists even when the cluster's list lacks it
    assert _findings(_inv(obj, namespaces=("bookinfo", "shop"), cluster_namespaces=["bookinfo"]),
                     "VirtualService", "exported") == []


def test_config_in_an_ambient_namespace_is_not_judged_for_export_to() -> None:
    obj = _exported("DestinationRule", ["nowhere"])
    inv = Inventory(namespaces=[Namespace("bookinfo", {"istio.io/dataplane-mode": "ambient"})], istio=[obj],
                    cluster_namespaces=["bookinfo"])
    assert [c.code for c in validate(inv)[("DestinationRule", "bookinfo", "exported")].checks
            if c.code == "KIA0005"] == []


# -- KIA1007 ------------------------------------------------------------------------------------------

def test_a_sidecars_outbound_policy_without_a_mode_is_noted_as_registry_only() -> None:
    def sidecar(name: str, policy: Any) -> IstioObject:
        return IstioObject("Sidecar", name, "bookinfo", spec={"egress": [{"hosts": ["./*"]}],
                                                              "outboundTrafficPolicy": policy})
    # one namespace-wide Sidecar per inventory (two would be KIA0002)
    for name, policy in (("empty", {}), ("blank", {"mode": ""})):
        inv = _inv(sidecar(name, policy))
        assert _findings(inv, "Sidecar", name) == [("KIA1007", INFO, "spec/outboundTrafficPolicy")]
        assert "REGISTRY_ONLY" in validate(inv)[("Sidecar", "bookinfo", name)].checks[0].message
        assert validate(inv)[("Sidecar", "bookinfo", name)].valid
    # said, or not set at all (the mesh config's policy applies)
    for obj in (sidecar("registry", {"mode": "REGISTRY_ONLY"}), sidecar("any", {"mode": "ALLOW_ANY"}),
                IstioObject("Sidecar", "none", "bookinfo", spec={"egress": [{"hosts": ["./*"]}]})):
        assert _findings(_inv(obj), "Sidecar", obj.name) == []


# -- KIA1701 ------------------------------------------------------------------------------------------

def _group(name: str, account: str | None = None, labels: dict[str, str] | None = None, *,
           metadata: bool = True, ns: str = "bookinfo") -> IstioObject:
    spec: dict[str, Any] = {"template": {"ports": {"http": 8080}}}
    if account is not None:
        spec["template"]["serviceAccount"] = account
    if metadata:
        spec["metadata"] = {"labels": labels or {"app": name}}
    return IstioObject("WorkloadGroup", name, ns, spec=spec)


def test_a_workload_group_running_as_an_account_nobody_uses_warns() -> None:
    inv = _inv(_group("ratings-vm", "bookinfo-ratings"), _group("reviews-vm", "bookinfo-reviews"),
               _group("plain"))
    assert _findings(inv, "WorkloadGroup", "ratings-vm") == [("KIA1701", WARNING, "spec/template/serviceAccount")]
    assert not validate(inv)[("WorkloadGroup", "bookinfo", "ratings-vm")].valid
    assert "bookinfo-ratings" in validate(inv)[("WorkloadGroup", "bookinfo", "ratings-vm")].checks[0].message
    assert _findings(inv, "WorkloadGroup", "reviews-vm") == []  # a pod runs as it
    assert _findings(inv, "WorkloadGroup", "plain") == []  # no account named: Istio's default


def test_a_vm_registered_from_the_group_counts_as_running_as_its_account() -> None:
    entry = IstioObject("WorkloadEntry", "ratings-vm-10.0.0.7", "bookinfo",
                        spec={"address": "10.0.0.7", "serviceAccount": "bookinfo-ratings", "labels": {"app": "ratings"}})
    inv = _inv(_group("ratings-vm", "bookinfo-ratings"), entry)
    assert _findings(inv, "WorkloadGroup", "ratings-vm") == []


def test_accounts_are_not_judged_where_pods_could_not_be_read() -> None:
    group = _group("ratings-vm", "bookinfo-ratings")
    assert _findings(_inv(group, hidden={"bookinfo/pods": "forbidden"}), "WorkloadGroup", "ratings-vm") == []
    assert _findings(_inv(group, hidden={"*/pods": "forbidden"}), "WorkloadGroup", "ratings-vm") == []
    # pods read without their accounts (a snapshot older than them)
    old = _inv(group, workloads=[_wl("bookinfo", "reviews", "")])
    assert _findings(old, "WorkloadGroup", "ratings-vm") == []


# -- KIA1702 ------------------------------------------------------------------------------------------

def test_workload_groups_giving_the_same_labels_warn_naming_each_other() -> None:
    a = _group("vm-a", labels={"app": "ratings", "version": "v1"})
    b = _group("vm-b", labels={"version": "v1", "app": "ratings"})
    c = _group("vm-c", labels={"app": "ratings", "version": "v2"})
    elsewhere = _group("vm-a", labels={"app": "ratings", "version": "v1"}, ns="shop")
    bare = [_group(f"bare-{i}", metadata=False) for i in range(2)]
    inv = _inv(a, b, c, elsewhere, *bare, namespaces=("bookinfo", "shop"))
    assert _findings(inv, "WorkloadGroup", "vm-a") == [("KIA1702", WARNING, "spec/metadata/labels")]
    assert "vm-b" in validate(inv)[("WorkloadGroup", "bookinfo", "vm-a")].checks[0].message
    assert "vm-a" in validate(inv)[("WorkloadGroup", "bookinfo", "vm-b")].checks[0].message
    assert not validate(inv)[("WorkloadGroup", "bookinfo", "vm-b")].valid
    assert _findings(inv, "WorkloadGroup", "vm-c") == []
    assert _findings(inv, "WorkloadGroup", "vm-a", ns="shop") == []  # another namespace's group
    assert _findings(inv, "WorkloadGroup", "bare-0") == []  # no metadata: compared with none


def test_odd_shapes_are_read_defensively() -> None:
    odd = [IstioObject("VirtualService", "a", "bookinfo", spec={"exportTo": "bookinfo", "hosts": ["reviews"]}),
           IstioObject("DestinationRule", "b", "bookinfo", spec={"host": "reviews", "exportTo": [None, 3, {"x": 1}]}),
           IstioObject("WorkloadGroup", "c", "bookinfo", spec={"template": "x", "metadata": {"labels": 5}}),
           IstioObject("WorkloadGroup", "d", "bookinfo", spec={"template": {"serviceAccount": 7}, "metadata": []}),
           IstioObject("WorkloadGroup", "e", "bookinfo", spec=[])]  # type: ignore[arg-type]
    found = validate(_inv(*odd, cluster_namespaces=["bookinfo"]))
    codes = {k: [c.code for c in v.checks] for k, v in found.items() if k[0] != "WORKLOAD"}
    assert all(not {"KIA0005", "KIA1701", "KIA1702", "MDK0001"} & set(c) for c in codes.values()), codes
