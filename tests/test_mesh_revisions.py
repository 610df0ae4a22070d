"""Several istiod revisions (a canary upgrade): each runs with a mesh config of its own (ConfigMaps
``istio`` and ``istio-<revision>``), and each namespace is judged by its own revision's: outbound traffic
policy, automatic mTLS, trust domain, extension providers. Read from the emulator, carried in snapshots,
and shown in the side panel's summary (which revision a namespace is on, and its proxies left on
another)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from meshdesk.mesh.inventory import Inventory, MeshConfig, Namespace, namespace_revision
from meshdesk.mesh.security import provider_problem
from meshdesk.mesh.tls_status import namespace_tls
from meshdesk.mesh.validations import validate
from meshdesk.mesh.words import namespace_revision_rows, revision_config_rows
from meshdesk.sources.inventory import read_inventory
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture
from tests.test_mesh_settings import CRDS, _configmap, _deployment, _istiod

CANARY = """\
trustDomain: canary.example
enableAutoMtls: false
outboundTrafficPolicy: {mode: REGISTRY_ONLY}
extensionProviders:
- name: ext-authz
  envoyExtAuthzGrpc: {service: authz.auth.svc.cluster.local, port: 9000}
"""

OBJECTS = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: out, namespace: %(ns)s}
spec:
  hosts: [out]
  http: [{route: [{destination: {host: nowhere.example.com}}]}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: %(ns)s}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: custom, namespace: %(ns)s}
spec:
  action: CUSTOM
  provider: {name: ext-authz}
  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: callers, namespace: %(ns)s}
spec:
  rules: [{from: [{source: {principals: ["canary.example/ns/%(ns)s/sa/web"]}}]}]
"""


@pytest.fixture
def canary(kube_emulator: KubeEmulator, shared_dir: Path) -> KubeEmulator:
    """istiod default (Istio's defaults) and istiod canary (REGISTRY_ONLY, automatic mTLS off) in
    istio-system; ``shop`` on the default revision (istio-injection), ``legacy`` on canary (istio.io/rev),
    ``plain`` on none; the same objects in each."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add_namespace("legacy", {"istio.io/rev": "canary"})
    emu.add_namespace("plain")
    emu.add(_istiod())
    emu.add(_istiod(revision="canary"))
    emu.add(_configmap("trustDomain: cluster.local\n"))
    emu.add(_configmap(CANARY, name="istio-canary"))
    for ns in ("shop", "legacy", "plain"):
        emu.add(_deployment("web", ns, {"app": "web"}))
        emu.load_yaml(OBJECTS % {"ns": ns})
    emu.run_workloads()
    return emu


def _checks(inv: Inventory, kind: str, ns: str, name: str) -> list[tuple[str, str]]:
    return [(c.code, c.severity) for c in validate(inv)[(kind, ns, name)].checks if c.code.startswith("KIA")]


def test_each_namespace_is_judged_by_its_own_revisions_mesh_config(canary: KubeEmulator) -> None:
    inv = read_inventory(canary.api_client(), None, cluster="east")
    assert sorted(inv.revision_settings) == ["", "canary"]
    assert inv.revision_settings["canary"].source == "istio-system/istio-canary"
    assert inv.mesh_settings.source == "istio-system/istio"  # the tie goes to the default revision
    assert [inv.namespace_revision(n) for n in ("shop", "legacy", "plain")] == ["", "canary", None]
    for saved in (inv, Inventory.from_json(json.loads(json.dumps(inv.to_json())))):
        assert saved.settings_for("legacy").outbound_policy == "REGISTRY_ONLY"
        assert saved.settings_for("legacy").root_namespace == "istio-system"  # the mesh's, whichever revision
        assert saved.settings_for("shop").outbound_policy == "ALLOW_ANY"
        # an unregistered host: an error only where the namespace's sidecars send registered hosts alone
        assert _checks(saved, "VirtualService", "legacy", "out") == [("KIA1101", "error")]
        assert _checks(saved, "VirtualService", "shop", "out") == [("KIA1101", "warning")]
        assert _checks(saved, "VirtualService", "plain", "out") == [("KIA1101", "warning")]
        # STRICT without a rule that sends mTLS: refused only where automatic mTLS is off
        assert _checks(saved, "PeerAuthentication", "legacy", "default") == [("KIA0501", "error")]
        assert _checks(saved, "PeerAuthentication", "shop", "default") == []
        # the namespace's mTLS words (its policy's finding aside): STRICT is all of mTLS only where
        # clients send it on their own
        legacy, shop = (namespace_tls(saved, ns, validations={}) for ns in ("legacy", "shop"))
        assert (legacy.label, legacy.auto_mtls, shop.label, shop.auto_mtls) == ("Permissive", False, "Strict", True)
        assert "automatic mTLS off" in legacy.text and "automatic mTLS on" in shop.text
        # a principal of canary's trust domain is the mesh's own there, a foreign one elsewhere (KIA0108);
        # and it needs an mTLS that canary's namespaces do not send on their own (KIA0105)
        assert _checks(saved, "AuthorizationPolicy", "legacy", "callers") == [("KIA0105", "error")]
        assert _checks(saved, "AuthorizationPolicy", "shop", "callers") == [("KIA0108", "warning")]
        # only canary's mesh config declares the external authorizer
        assert provider_problem(saved, "ext-authz", "legacy") == ""
        assert "not among the extensionProviders of the mesh config istio-system/istio " in \
            provider_problem(saved, "ext-authz", "shop")
    # a caller that asks with one setting has it for every namespace
    assert [c.code for c in validate(inv, auto_mtls=True)[("PeerAuthentication", "legacy", "default")].checks
            if c.code.startswith("KIA")] == []


def test_the_summary_says_which_revision_and_the_proxies_left_behind(canary: KubeEmulator) -> None:
    """``shop`` moved to canary by its label: its pods still run the default revision's sidecar until
    restarted; a namespace labelled with a revision no istiod runs is said too."""
    # a workload whose pod template names its revision (Istio's pod-level istio.io/rev) stays on it by choice
    canary.add(_deployment("pinned", "shop", {"app": "pinned", "istio.io/rev": "default"}))
    canary.run_workloads()
    # as Istio's canary upgrade says: istio-injection- istio.io/rev=canary (the pods running stay as they are)
    canary.add_namespace("shop", {"istio.io/rev": "canary"})["metadata"]["labels"].pop("istio-injection")
    canary.add_namespace("typo", {"istio.io/rev": "canray"})
    inv = read_inventory(canary.api_client(), None, cluster="east")
    assert inv.mesh_settings.source == "istio-system/istio-canary"  # most namespaces are on canary now
    rows = {k: (v, problem) for k, v, problem in namespace_revision_rows(inv, "shop")}
    assert rows["Control plane"] == ("revision canary, mesh config istio-system/istio-canary", False)
    text, problem = rows["Proxies of default"]
    assert problem and text.startswith("1 pod (web-")
    assert text.endswith(") runs a sidecar of revision default, not canary the namespace is on: restart it to move it")
    assert namespace_revision_rows(inv, "legacy") == [
        ("Control plane", "revision canary, mesh config istio-system/istio-canary", False)]
    assert namespace_revision_rows(inv, "plain") == []
    assert namespace_revision_rows(inv, "typo")[0][2] is True
    assert "canray: no istiod of it runs" in namespace_revision_rows(inv, "typo")[0][1]
    assert revision_config_rows(inv) == [
        ("Revision default", "ConfigMap istio-system/istio: trust domain cluster.local; automatic mTLS on; "
         "outbound traffic ALLOW_ANY (any external host) (its namespaces are judged by it)")]
    assert _checks(inv, "VirtualService", "shop", "out") == [("KIA1101", "error")]


def test_forbidden_to_list_the_configmaps_only_the_chosen_one_is_read_and_said(canary: KubeEmulator) -> None:
    canary.forbid(namespace="istio-system", resource="configmaps", verb="list")
    inv = read_inventory(canary.api_client(), None, cluster="east")
    assert inv.revision_settings == {} and inv.mesh_settings.read
    assert "could not be listed: every namespace is judged by that of istio-system/istio" in \
        inv.hidden["*/mesh config of other revisions"]
    assert _checks(inv, "VirtualService", "legacy", "out") == [("KIA1101", "warning")]


def test_a_namespaces_revision_as_istios_webhooks_pick_it() -> None:
    assert namespace_revision({"istio-injection": "enabled", "istio.io/rev": "canary"}) == ""
    assert namespace_revision({"istio.io/rev": "canary"}) == "canary"
    assert namespace_revision({"istio.io/rev": "default"}) == ""
    assert namespace_revision({"istio-injection": "disabled", "istio.io/rev": "canary"}) is None
    assert namespace_revision({"istio.io/dataplane-mode": "ambient"}) == ""
    assert namespace_revision({}) is None


def test_old_snapshots_load_unchanged_and_a_bad_revision_config_is_refused() -> None:
    old = Inventory(namespaces=[Namespace("shop", {"istio.io/rev": "canary"})],
                    mesh_settings=MeshConfig(source="istio-system/istio", outbound_policy="REGISTRY_ONLY")).to_json()
    assert "revision_settings" not in old
    inv = Inventory.from_json(old)
    assert inv.revision_settings == {} and inv.settings_for("shop") == inv.mesh_settings
    bad: dict[str, Any] = old | {"revision_settings": {"canary": {"auto_mtls": "no"}}}
    with pytest.raises(ValueError, match=r"revision_settings\['canary'\].auto_mtls has the wrong type"):
        Inventory.from_json(bad)
    with pytest.raises(ValueError, match="revision_settings must map revisions to mesh configs"):
        Inventory.from_json(old | {"revision_settings": ["canary"]})
    with pytest.raises(ValueError, match="revision_tags must map tags to revisions"):
        Inventory.from_json(old | {"revision_tags": {"prod": 1}})
    assert "revision_tags" not in old and Inventory.from_json(old).revision_tags == {}


@pytest.mark.ui
def test_the_side_panel_summary_tells_each_namespaces_revision(canary: KubeEmulator, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Through a saved snapshot and ``build``: the summary says which revision (and mesh config) each
    namespace is on, its proxies of another revision, and what differs in the other revision's config;
    the graph's validations judge each namespace's objects by its own."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from meshdesk.sources.snapshot import load_snapshot, save_snapshot
    from meshdesk.ui.panels import SidePanel

    canary.add_namespace("shop", {"istio.io/rev": "canary"})["metadata"]["labels"].pop("istio-injection")
    inv = read_inventory(canary.api_client(), ["shop", "legacy"], cluster="east")
    path = tmp_path / "canary.json"
    save_snapshot(Snapshot(GraphRequest(namespaces=("shop", "legacy")), [], inventory=inv), path)
    snap = load_snapshot(path)
    assert snap.inventory is not None and sorted(snap.inventory.revision_settings) == ["", "canary"]
    g = build(snap)
    g.validations = validate(snap.inventory)  # as the poller attaches them
    assert [c.code for c in g.validations[("VirtualService", "shop", "out")].checks] == ["KIA1101"]
    assert g.validations[("VirtualService", "shop", "out")].checks[0].severity == "error"
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(g, snap.inventory)
    text = panel.text()
    assert "Control plane\nrevision canary, mesh config istio-system/istio-canary" in text
    assert "istiod\n1.24.2 in istio-system, 1/1 ready; no selected namespace is on it\nistiod canary\n1.24.2 in " \
        "istio-system, 1/1 ready; namespaces: legacy, shop" in text
    assert "Proxies of default\n1 pod (web-" in text
    assert "Root namespace\nistio-system (the mesh's, from this config: the revision most selected namespaces " \
        "are on)" in text
    assert "Revision default\nConfigMap istio-system/istio: trust domain cluster.local; automatic mTLS on; " in text


def test_the_mesh_wide_mtls_says_a_revision_whose_automatic_mtls_differs(canary: KubeEmulator) -> None:
    """The masthead lock weighs the main revision's enableAutoMtls; the other's, set the other way, is
    said among its reasons (its namespaces' clients do not send mTLS on their own)."""
    from meshdesk.mesh.tls_status import mesh_tls

    inv = read_inventory(canary.api_client(), None, cluster="east")
    mesh = mesh_tls(Inventory.from_json(inv.to_json()))
    assert mesh.auto_mtls is True and mesh.auto_elsewhere == ("canary",)
    assert "• but automatic mTLS is off in the mesh config of revision canary: the clients of its namespaces " \
        "send mTLS only where a DestinationRule says so" in mesh.tooltip
    canary.add(_configmap("enableAutoMtls: true\n", name="istio-canary"))
    assert mesh_tls(read_inventory(canary.api_client(), None, cluster="east")).auto_elsewhere == ()


def _tag(tag: str, revision: str) -> dict[str, Any]:
    """A revision tag's webhook, as ``istioctl tag set <tag> --revision <revision>`` makes it."""
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": f"istio-revision-tag-{tag}",
                         "labels": {"istio.io/tag": tag, "istio.io/rev": revision, "app": "sidecar-injector"}},
            "webhooks": []}


def test_revision_tags_take_a_namespace_to_the_revision_they_point_at(canary: KubeEmulator) -> None:
    """``istio.io/rev=prod`` with tag prod pointing at canary is canary's namespace; and once the tag
    ``default`` points at canary (the last step of a canary upgrade), istio-injection=enabled is too."""
    canary.add(_tag("prod", "canary"))
    canary.add_namespace("legacy", {"istio.io/rev": "prod"})
    inv = read_inventory(canary.api_client(), None, cluster="east")
    assert inv.revision_tags == {"prod": "canary"}
    assert inv.namespace_revision("legacy") == "canary"
    assert _checks(inv, "VirtualService", "legacy", "out") == [("KIA1101", "error")]
    assert namespace_revision_rows(inv, "legacy") == [
        ("Control plane", "revision canary (by tag prod), mesh config istio-system/istio-canary", False)]
    assert _checks(inv, "VirtualService", "shop", "out") == [("KIA1101", "warning")]
    canary.add(_tag("default", "canary"))
    inv = Inventory.from_json(read_inventory(canary.api_client(), None, cluster="east").to_json())
    assert inv.namespace_revision("shop") == "canary"
    assert _checks(inv, "VirtualService", "shop", "out") == [("KIA1101", "error")]
    rows = namespace_revision_rows(inv, "shop")
    assert rows[0] == ("Control plane", "revision canary (by tag default), mesh config istio-system/istio-canary",
                       False)
    assert rows[1][0] == "Proxies of default"  # injected before the tag moved: restart to move them
    # tags that cannot be listed (a cluster-wide kind): said, since a tagged namespace is then misjudged
    canary.forbid(resource="mutatingwebhookconfigurations")
    inv = read_inventory(canary.api_client(), None, cluster="east")
    assert inv.revision_tags == {} and "a namespace labelled with a revision tag" in inv.hidden["*/revision tags"]
    assert "prod: no istiod of it runs (a revision tag not known, or a revision removed?)" in \
        namespace_revision_rows(inv, "legacy")[0][1]


def test_service_entries_sharing_a_host_are_judged_by_their_own_revisions_default_export() -> None:
    """MDK1209 (a host two ServiceEntries declare where a namespace sees both): entries without exportTo
    in namespaces of a revision whose defaultServiceExportTo is their own namespace are never seen
    together, though the main revision's config exports everywhere."""
    from meshdesk.mesh.inventory import IstioObject

    def entry(ns: str) -> IstioObject:
        return IstioObject("ServiceEntry", "api", ns, spec={"hosts": ["api.example.com"], "location": "MESH_EXTERNAL",
                                                            "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                                                            "resolution": "DNS"})

    main = MeshConfig(source="istio-system/istio")
    inv = Inventory(namespaces=[Namespace("a", {"istio.io/rev": "canary"}), Namespace("b", {"istio.io/rev": "canary"})],
                    istio=[entry("a"), entry("b")], mesh_settings=main,
                    revision_settings={"": main, "canary": MeshConfig(source="istio-system/istio-canary",
                                                                      revision="canary", default_service_export_to=(".",))})
    for saved in (inv, Inventory.from_json(inv.to_json())):
        assert "MDK1209" not in [c.code for c in validate(saved)[("ServiceEntry", "a", "api")].checks]
    inv.revision_settings = {}  # one control plane: its default (everywhere) counts for both
    assert "MDK1209" in [c.code for c in validate(inv)[("ServiceEntry", "a", "api")].checks]


def test_one_named_revision_behind_the_default_tag(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    """``istioctl install --revision 1-24`` and ``istioctl tag set default --revision 1-24``: the
    istio-injection=enabled namespace is 1-24's, its proxies are no proxies left behind; the tags not
    listable, that is not called a namespace on no running revision either."""
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("istio-system")
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add(_istiod(revision="1-24"))
    emu.add(_configmap("outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n", name="istio-1-24"))
    emu.add(_tag("default", "1-24"))
    emu.add(_deployment("web", "shop", {"app": "web"}))
    emu.run_workloads()
    inv = read_inventory(emu.api_client(), None, cluster="east")
    assert (inv.namespace_revision("shop"), inv.settings_for("shop").source) == ("1-24", "istio-system/istio-1-24")
    assert namespace_revision_rows(inv, "shop") == [
        ("Control plane", "revision 1-24 (by tag default), mesh config istio-system/istio-1-24", False)]
    emu.forbid(resource="mutatingwebhookconfigurations")
    inv = read_inventory(emu.api_client(), None, cluster="east")
    assert inv.mesh_settings.source == "istio-system/istio-1-24"
    assert namespace_revision_rows(inv, "shop") == [
        ("Control plane", "the revision the default tag points at (Istio's revision tags could not be listed); "
         "its checks use the mesh config istio-system/istio-1-24", False)]


@pytest.mark.ui
def test_the_forms_offer_the_namespaces_own_revisions_defaults(canary: KubeEmulator, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The Sidecar form's 'Mesh default' outbound policy and the AuthorizationPolicy form's external
    authorizers are those of the namespace's own revision."""
    from meshdesk.ui.dialogs.security_forms import AuthorizationPolicyForm, SidecarForm

    inv = read_inventory(canary.api_client(), None, cluster="east")
    texts = {}
    for ns in ("legacy", "shop"):
        sidecar = SidecarForm(inv, ns)
        qtbot.addWidget(sidecar)
        policy = AuthorizationPolicyForm(inv, ns)
        qtbot.addWidget(policy)
        texts[ns] = (sidecar.outbound.itemText(0), [policy.provider.itemText(i) for i in range(policy.provider.count())])
    assert texts == {"legacy": ("Mesh default (REGISTRY_ONLY)", ["ext-authz"]), "shop": ("Mesh default (ALLOW_ANY)", [])}


def test_the_revisions_configmaps_are_listed_once_by_istios_label(canary: KubeEmulator) -> None:
    """Labelled as Istio's charts label them (``istio.io/rev``), every revision's ConfigMap comes in one
    list, without the namespace's other ConfigMaps (dashboards may be large); one not labelled (a
    hand-made install) is read by name."""
    labelled = _configmap(CANARY, name="istio-canary")
    labelled["metadata"]["labels"] = {"istio.io/rev": "canary"}
    canary.add(labelled)
    canary.calls.clear()
    canary.requests.clear()
    inv = read_inventory(canary.api_client(), None, cluster="east")
    assert inv.revision_settings["canary"].outbound_policy == "REGISTRY_ONLY"
    assert inv.revision_settings[""].read
    paths = [p for _m, p in canary.calls if "/configmaps" in p]
    assert paths == ["/api/v1/namespaces/istio-system/configmaps", "/api/v1/namespaces/istio-system/configmaps/istio"]
    assert [p for _m, p, _h in canary.requests if p.startswith("/api/v1/namespaces/istio-system/configmaps?")] == [
        "/api/v1/namespaces/istio-system/configmaps?labelSelector=istio.io%2Frev"]


def test_a_namespace_on_a_revision_whose_istiod_is_not_running_yet(canary: KubeEmulator) -> None:
    """A third revision being installed, its istiod's pod still pending: its mesh config is not read,
    and its namespace is not said to be judged by it."""
    canary.add(_istiod(revision="next"))
    canary.add_namespace("new", {"istio.io/rev": "next"})
    started = canary.run_workloads("istio-system")
    pod = next(p for p in started if p.get("kind") == "Pod" and p["metadata"]["name"].startswith("istiod-next"))
    pod["status"]["phase"] = "Pending"
    inv = read_inventory(canary.api_client(), None, cluster="east")
    assert "next" not in inv.revision_settings and inv.settings_for("new") == inv.mesh_settings
    [(label, text, problem)] = namespace_revision_rows(inv, "new")
    assert (label, problem) == ("Control plane", True)
    assert text == ("revision next: no pod of its istiod is running, its mesh config was not read; its checks use "
                    "the mesh config istio-system/istio")
