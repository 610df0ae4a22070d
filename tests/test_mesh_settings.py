"""Istio's mesh config (the control plane's ``istio`` ConfigMap, key ``mesh``), read from the emulator
over HTTP, carried in snapshots, and used by the validations: its root namespace, automatic mTLS and
trust domain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.inventory import NOT_IN_SNAPSHOT, Inventory, MeshConfig
from meshdesk.mesh.validations import validate
from meshdesk.mesh.words import mesh_config_rows
from meshdesk.sources.inventory import read_inventory
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"


def _istiod(ns: str = "istio-system", revision: str = "") -> dict[str, Any]:
    labels = {"app": "istiod", "istio.io/rev": revision or "default"}
    name = f"istiod-{revision}" if revision else "istiod"
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "discovery", "image": "istio/pilot:1.24.2"}]}}}}


def _configmap(mesh: str | None, name: str = "istio", ns: str = "istio-system") -> dict[str, Any]:
    data = {"meshNetworks": "networks: {}"} if mesh is None else {"mesh": mesh, "meshNetworks": "networks: {}"}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def _deployment(name: str, ns: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"serviceAccountName": name,
                                           "containers": [{"name": name, "image": f"example/{name}:1"}]}}}}


@pytest.fixture
def cluster(kube_emulator: KubeEmulator, shared_dir: Path) -> KubeEmulator:
    """Istio's CRDs, istiod running in istio-system, and a namespace ``shop`` with a frontend."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add(_istiod())
    emu.add(_deployment("frontend", "shop", {"app": "frontend"}))
    emu.run_workloads()
    return emu


MESH = """\
rootNamespace: istio-config
trustDomain: example.org
trustDomainAliases: [old.example.org]
enableAutoMtls: false
outboundTrafficPolicy: {mode: REGISTRY_ONLY}
defaultServiceExportTo: ["."]
defaultDestinationRuleExportTo: [".", " istio-system "]
extensionProviders:
- name: otel
  envoyOtelAls: {service: otel.observability.svc.cluster.local, port: 4317}
defaultConfig:
  proxyMetadata: {API_TOKEN: s3cret-token}
"""


def _mesh_config_keys(inv: Inventory) -> list[str]:
    return [k for k in inv.hidden if k.endswith("/mesh config")]


def test_the_control_planes_mesh_config_is_read_and_kept(cluster: KubeEmulator) -> None:
    """What meshdesk uses of the mesh config is kept, and nothing else of it (the proxies' metadata may
    hold secrets): not in the inventory, not in a snapshot."""
    cluster.add(_configmap(MESH))
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert inv.mesh_settings == MeshConfig(root_namespace="istio-config", auto_mtls=False, trust_domain="example.org",
                                           trust_domain_aliases=("old.example.org",), outbound_policy="REGISTRY_ONLY",
                                           default_service_export_to=(".",),
                                           default_destination_rule_export_to=(".", "istio-system"),
                                           source="istio-system/istio", extension_providers={"otel": "envoyOtelAls"})
    assert inv.mesh_settings.read and _mesh_config_keys(inv) == []
    assert inv.mesh_settings.authz_providers == []  # an access log service is no external authorizer
    rows = dict(mesh_config_rows(inv.mesh_settings))
    assert rows["ServiceEntries without exportTo"] == "exported to their own namespace"
    assert rows["DestinationRules without exportTo"] == "exported to their own namespace, istio-system"
    assert "VirtualServices without exportTo" not in rows  # not narrowed: everywhere, as Istio
    saved = json.loads(json.dumps(inv.to_json()))
    assert Inventory.from_json(saved).mesh_settings == inv.mesh_settings
    # of the extension providers, their names and kinds only (not where they are, nor how they are reached)
    assert "s3cret" not in json.dumps(saved) and "observability" not in json.dumps(saved)


def test_an_empty_mesh_config_is_istios_defaults_with_the_control_planes_namespace_as_root(
        kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    """Istio's root namespace defaults to the control plane's own namespace, wherever that is."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("mesh-control")
    emu.add(_istiod("mesh-control"))
    emu.add(_configmap("", ns="mesh-control"))
    emu.run_workloads()
    settings = read_inventory(emu.api_client(), None, cluster="east").mesh_settings
    assert settings == MeshConfig(root_namespace="mesh-control", source="mesh-control/istio", extension_providers={})
    assert settings.read


def test_an_absent_mesh_config_means_istios_defaults(cluster: KubeEmulator) -> None:
    """Without the ConfigMap (or its ``mesh`` key) istiod runs on its defaults: they are assumed, the
    user is told in the mesh config's own place, and nothing is said to be hidden."""
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert inv.mesh_settings == MeshConfig(unread="there is no ConfigMap istio-system/istio")
    assert not inv.mesh_settings.read and _mesh_config_keys(inv) == []
    cluster.add(_configmap(None))
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert inv.mesh_settings.unread == "ConfigMap istio-system/istio has no 'mesh' key"
    assert _mesh_config_keys(inv) == [] and len(inv.workloads) == 1


def test_a_forbidden_mesh_config_is_said_and_the_rest_loads(cluster: KubeEmulator) -> None:
    cluster.add(_configmap(MESH))
    cluster.forbid(namespace="istio-system", resource="configmaps")
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert inv.hidden["istio-system/mesh config"].startswith("forbidden: ")
    assert inv.hidden["istio-system/mesh config"].endswith("(Istio's defaults are assumed)")
    assert inv.mesh_settings.unread.startswith("forbidden: ") and not inv.mesh_settings.read
    assert (inv.mesh_settings.root_namespace, inv.mesh_settings.auto_mtls, inv.mesh_settings.trust_domain) == \
        ("istio-system", True, "cluster.local")
    assert [w.name for w in inv.workloads] == ["frontend"]


@pytest.mark.parametrize("mesh, why", [
    ("rootNamespace: [istio-config\ndefaultConfig: {proxyMetadata: {API_TOKEN: s3cret-token}}\n",
     "it is not YAML (line 2, column"),
    ("- just\n- a list\n", "it is not a YAML mapping"),
    ("enableAutoMtls: sometimes\n", "enableAutoMtls is not true or false"),
    ("trustDomainAliases: example.org\n", "trustDomainAliases is not a list of texts"),
    ("outboundTrafficPolicy: {mode: ALLOW_SOME}\n", "outboundTrafficPolicy.mode is none of ALLOW_ANY, REGISTRY_ONLY"),
    ("rootNamespace: 42\n", "rootNamespace is not a text"),
    ("defaultServiceExportTo: .\n", "defaultServiceExportTo is not a list of texts"),
    ("defaultDestinationRuleExportTo: [1]\n", "defaultDestinationRuleExportTo is not a list of texts"),
    # a field inside another is named by its whole path
    ("outboundTrafficPolicy: {mode: [ALLOW_ANY]}\n", "outboundTrafficPolicy.mode is not a text"),
    ("outboundTrafficPolicy: {mode: true}\n", "outboundTrafficPolicy.mode is not a text"),
    ("outboundTrafficPolicy: {mode: 2}\n", "outboundTrafficPolicy.mode is none of ALLOW_ANY, REGISTRY_ONLY "
     "(as numbers: 0 is REGISTRY_ONLY, 1 is ALLOW_ANY)"),
])
def test_a_mesh_config_that_is_not_understood_is_not_half_used(cluster: KubeEmulator, mesh: str, why: str) -> None:
    """Garbage in the ConfigMap: Istio's defaults for all of it, the reason said without quoting the
    config (it may hold secrets), and the inventory still loads."""
    cluster.add(_configmap(mesh))
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    said = inv.hidden["istio-system/mesh config"]
    assert said.startswith(f"not understood: in ConfigMap istio-system/istio, {why}")
    assert "s3cret" not in said and "s3cret" not in json.dumps(inv.to_json())
    assert inv.mesh_settings == MeshConfig(unread=f"not understood: {inv.mesh_settings.unread[16:]}")
    assert inv.mesh_settings.unread.startswith(f"not understood: {why}")
    assert [w.name for w in inv.workloads] == ["frontend"]


@pytest.mark.parametrize("mode, policy", [("1", "ALLOW_ANY"), ("0", "REGISTRY_ONLY")])
def test_the_outbound_mode_may_be_the_number_protobufs_json_writes(cluster: KubeEmulator, mode: str,
                                                                   policy: str) -> None:
    """``outboundTrafficPolicy.mode: 1`` is ALLOW_ANY to Istio (the MeshConfig proto's enum; 0 is
    REGISTRY_ONLY): the config is read, not thrown away for Istio's defaults."""
    cluster.add(_configmap(f"trustDomain: example.org\noutboundTrafficPolicy:\n  mode: {mode}\n"))
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert _mesh_config_keys(inv) == []
    rows = dict(mesh_config_rows(inv.mesh_settings))
    assert rows["Source"] == "ConfigMap istio-system/istio"
    assert rows["Trust domain"] == "example.org"
    assert rows["Outbound traffic"].startswith(f"{policy} (")


def test_of_several_revisions_the_one_the_namespaces_use_is_read(cluster: KubeEmulator) -> None:
    """Two istiod revisions run (a canary upgrade): the mesh config read is that of the revision the
    selected namespaces are labelled with (``istio-<revision>``), and the others are named."""
    cluster.add(_istiod(revision="1-24"))
    cluster.add(_configmap("trustDomain: default.example\n"))
    cluster.add(_configmap("trustDomain: canary.example\n", name="istio-1-24"))
    cluster.run_workloads()
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert (inv.mesh_settings.source, inv.mesh_settings.trust_domain, inv.mesh_settings.revisions) == \
        ("istio-system/istio", "default.example", ("default", "1-24"))
    # both labels: istio-injection=enabled wins (its webhook is the default revision's), as Istio says
    cluster.add_namespace("shop", {"istio.io/rev": "1-24"})
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert (inv.mesh_settings.source, inv.namespace_revision("shop")) == ("istio-system/istio", "")
    cluster.add_namespace("shop")["metadata"]["labels"].pop("istio-injection")
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert (inv.mesh_settings.source, inv.mesh_settings.trust_domain, inv.mesh_settings.revision) == \
        ("istio-system/istio-1-24", "canary.example", "1-24")


def test_an_old_snapshot_without_the_mesh_config_loads_with_istios_defaults(tmp_path: Path) -> None:
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.sources.snapshot import load_snapshot, save_snapshot

    path = tmp_path / "old.json"
    save_snapshot(Snapshot(GraphRequest(namespaces=("shop",)), [], inventory=Inventory(cluster="east")), path)
    doc = json.loads(path.read_text())
    del doc["inventory"]["mesh_settings"]  # as meshdesk wrote them before it read the mesh config
    path.write_text(json.dumps(doc))
    inv = load_snapshot(path).inventory
    assert inv is not None
    assert inv.mesh_settings == MeshConfig(unread=NOT_IN_SNAPSHOT) and not inv.mesh_settings.read
    with pytest.raises(ValueError, match="mesh_settings.auto_mtls has the wrong type"):
        Inventory.from_json({"mesh_settings": {"auto_mtls": "no"}})
    with pytest.raises(ValueError, match="mesh_settings.trust_domain_aliases must be a list of texts"):
        Inventory.from_json({"mesh_settings": {"trust_domain_aliases": "a.example"}})
    with pytest.raises(ValueError, match="mesh_settings.default_service_export_to must be a list of texts"):
        Inventory.from_json({"mesh_settings": {"default_service_export_to": "."}})
    # a snapshot of before the default exportTo were kept: Istio's, everywhere
    old = doc["inventory"] | {"mesh_settings": {"source": "istio-system/istio"}}
    assert Inventory.from_json(old).mesh_settings == MeshConfig(source="istio-system/istio")
    # nor the extension providers: which ones there are is not known (a CUSTOM policy's is not judged)
    assert Inventory.from_json(old).mesh_settings.authz_providers is None


def test_the_demo_mesh_has_a_mesh_config() -> None:
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster

    inv = DemoCluster().snapshot(GraphRequest(namespaces=("bookinfo",))).inventory
    assert inv is not None and inv.mesh_settings.read
    assert (inv.mesh_settings.source, inv.mesh_settings.root_namespace, inv.mesh_settings.trust_domain) == \
        ("istio-system/istio", "istio-system", "cluster.local")
    assert inv.mesh_settings.authz_providers == ["ext-authz"]


# -- the validations use it -------------------------------------------------------------------------

ROOT_OBJECTS = """
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: %(ns)s}
spec:
  workloadSelector: {labels: {app: frontend}}
  egress: [{hosts: ["./*"]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: %(ns)s}
spec: {mtls: {mode: STRICT}}
"""


def _codes(inv: Inventory, kind: str, ns: str, name: str, prefix: str = "") -> list[str]:
    return [c.code for c in validate(inv)[(kind, ns, name)].checks if c.code.startswith(prefix)]


def test_the_mesh_configs_root_namespace_decides_what_is_mesh_wide(cluster: KubeEmulator) -> None:
    """With rootNamespace istio-config, istio-config's selector-less STRICT PeerAuthentication is the
    mesh's (it covers the sidecar-less workloads of every namespace: MDK0501) and its Sidecar is the
    mesh's default (which should have no selector: KIA1006); istio-system's are only that namespace's."""
    emu = cluster
    emu.add_namespace("istio-config")
    emu.add_namespace("legacy")
    emu.add(_deployment("batch", "legacy", {"app": "batch"}))
    emu.run_workloads()
    for ns in ("istio-config", "istio-system"):
        emu.load_yaml(ROOT_OBJECTS % {"ns": ns})
    emu.add(_configmap("rootNamespace: istio-config\n"))
    inv = read_inventory(emu.api_client(), None, cluster="east")
    assert inv.mesh_settings.root_namespace == "istio-config"
    for saved in (inv, Inventory.from_json(inv.to_json())):
        assert _codes(saved, "Sidecar", "istio-config", "default") == ["KIA0004", "KIA1006"]
        assert _codes(saved, "Sidecar", "istio-system", "default") == ["KIA0004"]
        mesh_wide = validate(saved)[("PeerAuthentication", "istio-config", "default")].checks
        assert [(c.code, c.subjects) for c in mesh_wide] == [("MDK0501", ("istio-system/istiod", "legacy/batch"))]
        namespace_wide = validate(saved)[("PeerAuthentication", "istio-system", "default")].checks
        assert [(c.code, c.subjects) for c in namespace_wide] == [("MDK0501", ("istio-system/istiod",))]
    # an explicit root namespace still wins (a caller that knows better)
    assert [c.code for c in validate(inv, root_namespace="istio-system")[
        ("Sidecar", "istio-system", "default")].checks] == ["KIA0004", "KIA1006"]


MTLS_OBJECTS = """
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: shop-mtls, namespace: shop}
spec: {host: "*.shop.svc.cluster.local", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: legacy}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-frontend, namespace: legacy}
spec:
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/shop/sa/frontend"]}
"""


@pytest.mark.parametrize("auto", [True, False])
def test_without_automatic_mtls_the_missing_half_of_mtls_is_an_error(cluster: KubeEmulator, auto: bool) -> None:
    """enableAutoMtls false: clients send mTLS only where a DestinationRule says so, so a STRICT
    PeerAuthentication of the mesh, or of a namespace, without an ISTIO_MUTUAL rule for ``*.local``
    (or the namespace) refuses their plain text (KIA0401, KIA0501), and a policy naming principals
    there needs an mTLS that is not on (KIA0105), as in Kiali. With automatic mTLS (Istio's default)
    clients send mTLS on their own and none of it is said."""
    emu = cluster
    emu.add_namespace("legacy")
    emu.load_yaml(MTLS_OBJECTS)
    emu.add(_configmap(f"enableAutoMtls: {str(auto).lower()}\n"))
    inv = read_inventory(emu.api_client(), None, cluster="east")
    assert inv.mesh_settings.auto_mtls is auto
    for saved in (inv, Inventory.from_json(inv.to_json())):
        # (MDK0501 is said of istiod, which runs without a sidecar: not the point here)
        assert _codes(saved, "PeerAuthentication", "istio-system", "default", "KIA") == ([] if auto else ["KIA0401"])
        assert _codes(saved, "PeerAuthentication", "legacy", "default", "KIA") == ([] if auto else ["KIA0501"])
        assert _codes(saved, "PeerAuthentication", "shop", "default", "KIA") == []  # its rule sends mTLS
        assert _codes(saved, "AuthorizationPolicy", "legacy", "from-frontend") == ([] if auto else ["KIA0105"])
    # a caller may still ask with the other setting
    assert _codes_with(inv, auto_mtls=not auto) == ([] if not auto else ["KIA0401"])


def _codes_with(inv: Inventory, **kw: Any) -> list[str]:
    return [c.code for c in validate(inv, **kw)[("PeerAuthentication", "istio-system", "default")].checks
            if c.code.startswith("KIA")]


POLICY = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: callers, namespace: shop}
spec:
  rules:
  - from:
    - source:
        principals: ["example.org/ns/shop/sa/frontend", "old.example.org/ns/shop/sa/frontend",
                     "old.example.org/ns/shop/sa/ghost", "partner.example/ns/shop/sa/frontend",
                     "cluster.local/ns/shop/sa/frontend", "*/ns/shop/sa/anyone",
                     "cluster.local/ns/shop/sa/ghost"]
"""


def test_principals_are_judged_against_the_mesh_configs_trust_domains(cluster: KubeEmulator) -> None:
    """A principal of the trust domain or one of its aliases names an account some pod runs as (else
    KIA0106, an error); one of any other trust domain cannot be verified (KIA0108, a warning) - said
    only when the mesh config was read, since a trust domain assumed proves nothing. ``cluster.local``
    is no foreign trust domain under a mesh with its own: Istio reads it in a policy as the local
    trust domain and its aliases (``ReplaceTrustDomainAliases``), so its principals are judged
    against the local service accounts, not called unverifiable."""
    emu = cluster
    emu.load_yaml(POLICY)
    emu.add(_configmap("trustDomain: example.org\ntrustDomainAliases: [old.example.org]\n"))
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    path = "spec/rules[0]/from[0]/source/principals[{}]"
    for saved in (inv, Inventory.from_json(inv.to_json())):
        checks = validate(saved)[("AuthorizationPolicy", "shop", "callers")].checks
        assert [(c.code, c.severity, c.path) for c in checks] == [
            ("KIA0106", "error", path.format(2)), ("KIA0108", "warning", path.format(3)),
            ("KIA0106", "error", path.format(5)), ("KIA0106", "error", path.format(6))]
        assert "'partner.example' is not this mesh's (example.org, old.example.org)" in checks[1].message
        # a wildcard trust domain is matched as a suffix over the local ones, as Kiali matches it
        assert checks[2].message == "no pod in shop runs as service account 'anyone'"
        assert checks[3].message == "no pod in shop runs as service account 'ghost'"
    # the mesh config not read: Istio's default trust domain is assumed, and no other is called foreign
    emu.forbid(namespace="istio-system", resource="configmaps")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    assert [(c.code, c.path) for c in validate(inv)[("AuthorizationPolicy", "shop", "callers")].checks] == [
        ("KIA0106", path.format(5)), ("KIA0106", path.format(6))]


# -- where the user sees it ---------------------------------------------------------------------------

@pytest.mark.ui
def test_the_namespace_summary_says_what_mesh_config_the_checks_use(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Nothing selected, the side panel's summary has a Mesh config section beside Istio's: where it
    was read, or why not and that Istio's defaults stand in."""
    from dataclasses import replace

    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster
    from meshdesk.ui.panels import SidePanel

    snap = DemoCluster(clock=lambda: 1_790_000_000.0).snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(build(snap), snap.inventory)
    text = panel.text()
    assert ("Mesh config\nSource\nConfigMap istio-system/istio\nRoot namespace\nistio-system\nTrust domain\n"
            "cluster.local\nAutomatic mTLS\non\nOutbound traffic\nALLOW_ANY (any external host)") in text
    unread = replace(snap.inventory, mesh_settings=MeshConfig(
        unread="forbidden: configmaps \"istio\" is forbidden", trust_domain_aliases=("old.example",),
        auto_mtls=True))
    panel.set_data(build(snap), unread)
    text = panel.text()
    assert "Source\nnot read (forbidden: configmaps \"istio\" is forbidden): Istio's defaults are assumed" in text
    assert "Trust domain\ncluster.local (aliases: old.example)" in text


def test_the_inventory_command_prints_the_mesh_config(cluster: KubeEmulator, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.cli import main

    cluster.add(_istiod(revision="canary"))
    cluster.add(_configmap(MESH))
    cluster.run_workloads()
    config = cluster.write_kubeconfig(tmp_path / "config")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "shop"]) == 0
    out = capsys.readouterr().out
    table = out.split("MESH CONFIG", 1)[1].splitlines()[1:]
    assert [line.split(None, 2) if line.startswith(("Source", "Root", "Trust")) else line.split()
            for line in table[:5]] == [
        # it said "(revision default of default, canary)"
        ["Source", "ConfigMap", "istio-system/istio (of revision default; the other revision running: canary)"],
        ["Root", "namespace", "istio-config (the mesh's, from this config: the revision most selected namespaces "
         "are on)"],
        ["Trust", "domain", "example.org (aliases: old.example.org)"],
        ["Automatic", "mTLS", "off"],
        ["Outbound", "traffic", "REGISTRY_ONLY", "(only", "hosts", "of", "the", "registry:", "Services,",
         "ServiceEntries)"]]
    # the other revision's config (there is none: Istio's defaults), by which its namespaces are judged
    rows = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in out.splitlines() if "  " in line}
    assert rows["Revision canary"] == (
        "not read (there is no ConfigMap istio-system/istio-canary): Istio's defaults are assumed: trust domain "
        "cluster.local; automatic mTLS on; outbound traffic ALLOW_ANY (any external host); ServiceEntries without "
        "exportTo exported everywhere (Istio default); DestinationRules without exportTo exported everywhere "
        "(Istio default) (its namespaces are judged by it)")
    assert rows["shop: Control plane"] == "revision default, mesh config istio-system/istio"
    cluster.forbid(namespace="istio-system", resource="configmaps")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "shop"]) == 0
    out, err = capsys.readouterr()
    assert "Source             not read (forbidden: " in out and "Istio's defaults are assumed" in out
    assert "hidden: istio-system/mesh config: forbidden: " in err


def _injector(values: Any, revision: str = "") -> dict[str, Any]:
    """The sidecar injector's ConfigMap as Istio's charts make it: labelled with its revision, the proxies' Helm
    values as JSON."""
    name = f"istio-sidecar-injector-{revision}" if revision else "istio-sidecar-injector"
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "istio-system", "labels": {"istio.io/rev": revision or "default"}},
            "data": {"config": "policy: enabled\n", "values": values if isinstance(values, str) else json.dumps(values)}}


def test_the_clusters_network_is_the_one_its_proxies_are_injected_with_as_kiali_reads_it(
        cluster: KubeEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cluster's network was read from the ``topology.istio.io/network`` label of istiod's namespace alone: an
    install that sets it in the values (``--set values.global.network=...``, Istio's multi-network guide) without
    labelling the namespace showed no network, and a label left from before showed the wrong one. As Kiali, the
    sidecar injector's ``global.network`` is read first (what the proxies are given), the label after."""
    from meshdesk.cli import main

    cluster.add(_configmap("trustDomain: east.example\n"))
    cluster.add_namespace("istio-system", {"topology.istio.io/network": "net-label"})
    assert read_inventory(cluster.api_client(), ["shop"], cluster="east").mesh_settings.network == "net-label"
    cluster.add(_injector({"global": {"network": "net-injected", "meshID": "mesh1"}, "revision": ""}))
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert inv.mesh_settings.network == "net-injected" and _mesh_config_keys(inv) == []
    config = cluster.write_kubeconfig(tmp_path / "config")
    assert main(["mesh", "--kubeconfig", str(config), "-n", "shop"]) == 0
    out = capsys.readouterr().out
    assert "mesh config: trust domain east.example · mesh ID east.example (its trust domain) · network net-injected" \
        in out and "net-label" not in out

    # values that name no network, or are no JSON: the namespace's label
    for values in ({"global": {"network": ""}}, {"global": {}}, "{not json"):
        cluster.add(_injector(values))
        assert read_inventory(cluster.api_client(), ["shop"], cluster="east").mesh_settings.network == "net-label"
    # a canary istiod is injected by its own revision's ConfigMap
    cluster.add(_injector({"global": {"network": "net-default"}}))
    cluster.add(_injector({"global": {"network": "net-canary"}}, revision="canary"))
    cluster.add(_istiod(revision="canary"))
    cluster.run_workloads()
    cluster.add_namespace("shop")["metadata"]["labels"].pop("istio-injection")
    cluster.add_namespace("shop", {"istio.io/rev": "canary"})
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert (inv.mesh_settings.revision, inv.mesh_settings.network) == ("canary", "net-canary")
    assert inv.revision_settings is not None and inv.revision_settings[""].network == "net-default"
    # ConfigMaps it may not read (a remote cluster's account often may not): the label, and no failure
    cluster.forbid(namespace="istio-system", resource="configmaps")
    inv = read_inventory(cluster.api_client(), ["shop"], cluster="east")
    assert inv.mesh_settings.network == "net-label" and len(inv.workloads) == 1
