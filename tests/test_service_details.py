"""A Kubernetes Service's and an Istio ServiceEntry's details, as Kiali's service details show them:
Services and ServiceEntries of every unusual shape, read from the Kubernetes API emulator, in the
real side panel and the Services list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.mesh.graph import build
from meshdesk.mesh.graph.model import NODE_SERVICE
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.validations import validate
from meshdesk.sources.inventory import read_inventory
from meshdesk.ui.lists import COLUMNS, SERVICES, MeshLists
from meshdesk.ui.panels import SidePanel
from tests.graph_samples import http, snapshot
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture

pytestmark = pytest.mark.ui

NS = "shop"
CRDS = "fixtures/istio/crds/crd-all.gen.yaml"


def _deployment(emu: KubeEmulator, name: str, labels: dict[str, str]) -> None:
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
             "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [{"name": "main", "image": "img:1"}]}}}})


def _service(emu: KubeEmulator, name: str, spec: dict[str, Any], status: dict[str, Any] | None = None) -> None:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
                           "spec": spec}
    if status is not None:
        obj["status"] = status
    emu.add(obj)


def _read(emu: KubeEmulator) -> Inventory:
    emu.run_workloads(NS)
    return read_inventory(emu.api_client(), [NS], cluster="east")


def _service_panel(qtbot: QtBot, inv: Inventory, service: str) -> str:
    """The side panel of ``service``'s node, called by web-v1 (its callers' report: no pod of it may answer)."""
    graph = build(snapshot([http("web-v1", None, 1.0, service=service, reporter="source")], inv,
                           graphType="workload", injectServiceNodes=True, namespaces=(NS,)))
    node = graph.find_node(node_type=NODE_SERVICE, service=service, namespace=NS)
    assert node is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    assert panel.kind == "service"
    return panel.text()


def test_an_external_name_service_says_the_name_it_stands_for(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """An ExternalName Service read "Type ExternalName, Ports -, Selector none, Workloads none", never
    the name its calls go to; Kiali's Network card shows it. No pod serves it: the panel says why."""
    _service(kube_emulator, "billing", {"type": "ExternalName", "externalName": "billing.example.com"})
    text = _service_panel(qtbot, _read(kube_emulator), "billing")
    assert "Type\nExternalName\nExternal name\nbilling.example.com\n" in text
    assert "Workloads\nnone: the service is a DNS alias for billing.example.com, no pod serves it\n" in text
    assert "Selector" not in text


def test_a_service_without_pods_says_why(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """"Selector none, Workloads none" for a Service with hand-made endpoints, "Workloads none" for one
    whose selector matches nothing, and "Cluster IP None" for a headless one: each now says what it
    means, and the hand-made endpoints are listed under Endpoints."""
    _deployment(kube_emulator, "db-v1", {"app": "db", "version": "v1"})
    _service(kube_emulator, "legacy", {"clusterIP": "10.0.0.2", "ports": [{"name": "http", "port": 80}]})
    kube_emulator.add({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "legacy", "namespace": NS},
                       "subsets": [{"addresses": [{"ip": "192.168.1.5"}], "ports": [{"name": "http", "port": 80}]}]})
    _service(kube_emulator, "ghost", {"clusterIP": "10.0.0.3", "selector": {"app": "ghost"},
                                      "ports": [{"name": "http", "port": 80}]})
    _service(kube_emulator, "db", {"clusterIP": "None", "selector": {"app": "db"},
                                   "ports": [{"name": "tcp-db", "port": 5432}]})
    inv = _read(kube_emulator)
    legacy = _service_panel(qtbot, inv, "legacy")
    assert "Selector\nnone\nWorkloads\nnone selected: without a selector its endpoints are set by hand " \
        "(Endpoints or EndpointSlice objects; see Endpoints)\nEndpoints\nnone: nobody listed any" in legacy
    ghost = _service_panel(qtbot, inv, "ghost")
    assert "Selector\napp=ghost\nWorkloads\nnone: no workload in shop has these labels, so calls to it find no pod\n" \
        in ghost
    db = _service_panel(qtbot, inv, "db")
    assert "Cluster IP\nnone (headless: DNS answers with the addresses of the pods behind it)\n" in db
    assert "Workloads\ndb-v1 (v1)\n" in db


def _slice(emu: KubeEmulator, service: str, name: str, endpoints: list[dict[str, Any]],
           ports: list[dict[str, Any]]) -> None:
    """An EndpointSlice of ``service`` as Kubernetes' controllers write them (the mirroring one copies
    a hand-made Endpoints object into one)."""
    emu.add({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": name, "namespace": NS, "labels": {"kubernetes.io/service-name": service}},
             "addressType": "IPv4", "endpoints": endpoints, "ports": ports})


def test_a_services_endpoints_are_listed_with_their_pods_ports_and_readiness(
        qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """The panel said meshdesk reads no Endpoints. Each Service's EndpointSlices are read now and its
    endpoints listed as Kiali's service page lists them: the address, the pod it stands for, the port
    (a named targetPort resolved on the pod), ready or not; the addresses set by hand for a Service
    without a selector too. A namespace whose slices may not be read says so and the rest loads; an
    older snapshot without endpoints still loads and says they are not known."""
    emu = kube_emulator
    emu.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-v1", "namespace": NS},
             "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "version": "v1"}},
                      "template": {"metadata": {"labels": {"app": "web", "version": "v1"}},
                                   "spec": {"containers": [{"name": "main", "image": "img:1", "ports": [
                                       {"name": "http-web", "containerPort": 8080}]}]}}}})
    _service(emu, "web", {"clusterIP": "10.0.0.1", "selector": {"app": "web"},
                          "ports": [{"name": "http", "port": 80, "targetPort": "http-web"}]})
    emu.run_workloads(NS)
    _deployment(emu, "web-v2", {"app": "web", "version": "v2"})
    emu.run_workloads(NS, ready=False)  # the new version's pod does not start
    _service(emu, "legacy", {"clusterIP": "10.0.0.2", "ports": [{"name": "tcp-db", "port": 5432}]})
    _slice(emu, "legacy", "legacy-abcde", [{"addresses": ["192.168.1.5"], "conditions": {"ready": True}},
                                           {"addresses": ["192.168.1.6"]}],
           [{"name": "tcp-db", "port": 5432, "protocol": "TCP"}])
    _slice(emu, "", "unowned", [{"addresses": ["192.168.1.9"]}], [])  # no Service's: passed over
    inv = read_inventory(emu.api_client(), [NS], cluster="east")
    assert not any("EndpointSlice" in w for w in inv.warnings) and inv.hidden == {}
    pods = {p.name: p for w in inv.workloads for p in w.pods}
    web = inv.service(NS, "web")
    assert web is not None and web.endpoints is not None
    assert sorted((e.target_name, e.ready, [(p.name, p.port) for p in e.ports]) for e in web.endpoints) == sorted(
        (name, name.startswith("web-v1"), [("http", 8080)] if name.startswith("web-v1") else [])
        for name in pods if name.startswith("web-"))
    text = _service_panel(qtbot, inv, "web")
    ready_pod = next(n for n in pods if n.startswith("web-v1"))
    failing = next(n for n in pods if n.startswith("web-v2"))
    assert "Endpoints\n2 of 3 ready\n" in text
    assert f"{pods[ready_pod].ip} pod {ready_pod} · http 8080/TCP · ready\n" in text
    # web-v2's container names no port http-web: Kubernetes keeps the pod, without the port
    assert f"{pods[failing].ip} pod {failing} · not ready: no calls are sent to it\n" in text
    legacy = _service_panel(qtbot, inv, "legacy")
    assert "Endpoints\n2 of 2 ready\n192.168.1.5 (set by hand) · tcp-db 5432/TCP · ready\n" \
        "192.168.1.6 (set by hand) · tcp-db 5432/TCP · ready\n" in legacy
    # the endpoints travel in a snapshot; one written before they were read says so
    again = Inventory.from_json(inv.to_json())
    assert again.service(NS, "web") == web
    old = inv.to_json()
    for svc in old["services"]:
        del svc["endpoints"]
    older = Inventory.from_json(old)
    assert all(s.endpoints is None for s in older.services)
    assert "Endpoints\nnot known: this snapshot was written before meshdesk read endpoints\n" in \
        _service_panel(qtbot, older, "web")
    # RBAC forbids the slices in the namespace: a note, the rest of the read stands
    emu.forbid(namespace=NS, resource="endpointslices")
    denied = read_inventory(emu.api_client(), [NS], cluster="east")
    assert set(denied.hidden) == {f"{NS}/endpointslices"} and denied.hidden[f"{NS}/endpointslices"].startswith("forbidden")
    assert len(denied.workloads) == 2 and all(s.endpoints is None for s in denied.services)
    text = _service_panel(qtbot, denied, "web")
    assert f"Endpoints\nnot known: the EndpointSlices of {NS} could not be read\n" in text
    assert "Workloads\nweb-v1 (v1)\nweb-v2 (v2)\n" in text


def test_the_demos_services_have_the_endpoints_of_their_pods(qtbot: QtBot) -> None:
    """The demo cluster keeps each Service's endpoints from its pods, as Kubernetes does: a pod that
    crash-loops is listed not ready."""
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster

    inv = DemoCluster(traffic=False).snapshot(GraphRequest(namespaces=("shop",))).inventory
    assert inv is not None
    reviews = inv.service("shop", "reviews")
    assert reviews is not None and reviews.endpoints is not None
    behind = [p for w in inv.workloads_for_service(reviews) for p in w.pods]
    assert sorted((e.target_name, e.address) for e in reviews.endpoints) == sorted((p.name, p.ip) for p in behind)
    assert all([(p.name, p.port) for p in e.ports] == [("http", 9080)] for e in reviews.endpoints)
    assert all(s.endpoints is not None for s in inv.services)
    assert all(e.ready == all(c.ready for c in pod.containers)
               for s in inv.services for e in s.endpoints or []
               for pod in [next(p for w in inv.workloads for p in w.pods if p.name == e.target_name)])
    graph = build(snapshot([http("productpage-v1", None, 1.0, service="reviews", reporter="source")], inv,
                           graphType="workload", injectServiceNodes=True, namespaces=("shop",)))
    node = graph.find_node(node_type=NODE_SERVICE, service="reviews", namespace="shop")
    assert node is not None
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    pod = behind[0]
    assert f"{pod.ip} pod {pod.name} · http 9080/TCP · ready" in panel.text()


def test_ports_say_the_protocol_istio_reads_off_them(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """Every port read "name port/TCP": a port named "web" (Istio sniffs it) looked like one named
    "http-web", and an appProtocol was a bare word. Each port now says what Istio makes of it, from its
    appProtocol, else its name's prefix, and where it sends (the targetPort)."""
    _deployment(kube_emulator, "web-v1", {"app": "web", "version": "v1"})
    _service(kube_emulator, "web", {"clusterIP": "10.0.0.1", "selector": {"app": "web"}, "ports": [
        {"name": "http-web", "port": 80, "targetPort": 8080}, {"name": "web", "port": 81, "targetPort": 81},
        {"name": "x", "port": 82, "appProtocol": "http2"}, {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "grpc-web-api", "port": 83}, {"name": "h", "port": 84, "appProtocol": "kubernetes.io/h2c"},
        {"name": "http-z", "port": 85, "appProtocol": "foo"}, {"port": 86, "targetPort": "metrics"}]})
    text = _service_panel(qtbot, _read(kube_emulator), "web")
    assert "Ports\n" + "\n".join([
        "http-web 80/TCP \u2192 8080: HTTP",
        "web 81/TCP: no protocol named: Istio sniffs the traffic (HTTP or TCP)",
        "x 82/TCP: HTTP2 (appProtocol http2)",
        "dns 53/UDP: UDP, which Istio does not proxy",
        "grpc-web-api 83/TCP: GRPC-WEB",
        "h 84/TCP: HTTP2 (appProtocol kubernetes.io/h2c)",
        "http-z 85/TCP: appProtocol foo names no protocol Istio knows: it sniffs the traffic",
        "86/TCP \u2192 metrics: no protocol named: Istio sniffs the traffic (HTTP or TCP)",
    ]) + "\n" in text


def test_a_server_first_port_that_names_no_protocol_is_tcp(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """Istio cannot sniff a port where the server speaks first, so a port among its well-known ones
    (25 SMTP, 53 DNS, 3306 MySQL, 27017 MongoDB) that names no protocol is TCP; the panel said Istio
    sniffed it (HTTP or TCP), the port check said Istio could not tell how to route it, and traffic
    shifting wrote HTTP routes that no connection to it meets. Other ports (22) are still sniffed."""
    from meshdesk.mesh.routing import RoutingError, ServiceRouting, build_service_routing
    from meshdesk.mesh.validations import ERROR

    kube_emulator.add_namespace(NS, {"istio-injection": "enabled"})
    _deployment(kube_emulator, "db-v1", {"app": "db", "version": "v1"})
    _deployment(kube_emulator, "db-v2", {"app": "db", "version": "v2"})
    _service(kube_emulator, "db", {"clusterIP": "10.0.0.9", "selector": {"app": "db"}, "ports": [
        {"port": 3306}, {"name": "mongo-db", "port": 27017}, {"name": "store", "port": 27017},
        {"name": "mail", "port": 25, "appProtocol": "smtp"}, {"name": "dns", "port": 53},
        {"name": "dns-udp", "port": 53, "protocol": "UDP"}, {"port": 22}, {"name": "http-admin", "port": 3306}]})
    inv = _read(kube_emulator)
    for w in inv.workloads:
        for pod in w.pods:
            pod.annotations["sidecar.istio.io/status"] = "{}"  # injected, so the ports are judged
    text = _service_panel(qtbot, inv, "db")
    said = "so Istio does not sniff it and takes it as TCP)"
    assert "Ports\n" + "\n".join([
        f"3306/TCP: TCP (no protocol named; 3306 is MySQL's port, where the server speaks first, {said}",
        "mongo-db 27017/TCP: MONGO",
        f"store 27017/TCP: TCP (no protocol named; 27017 is MongoDB's port, where the server speaks first, {said}",
        "mail 25/TCP: TCP (appProtocol smtp names no protocol Istio knows; 25 is SMTP's port, where the server "
        f"speaks first, {said}",
        f"dns 53/TCP: TCP (no protocol named; 53 is DNS's port, where the server speaks first, {said}",
        "dns-udp 53/UDP: UDP, which Istio does not proxy",
        "22/TCP: no protocol named: Istio sniffs the traffic (HTTP or TCP)",
        "http-admin 3306/TCP: HTTP",
    ]) + "\n" in text
    checks = validate(inv)[("Service", NS, "db")].checks
    by_path = {c.path: c for c in checks if c.code == "KIA0601"}
    assert sorted(by_path) == ["spec/ports[0]", "spec/ports[2]", "spec/ports[4]", "spec/ports[6]"]
    assert by_path["spec/ports[0]"].severity == ERROR  # Kiali's severity, whatever the port
    assert "Istio takes it as TCP, 3306 being MySQL's port" in by_path["spec/ports[0]"].message
    assert by_path["spec/ports[6]"].severity == ERROR and "cannot tell" in by_path["spec/ports[6]"].message
    # with only server-first ports, traffic shifting writes TCP routes, and refuses what acts on HTTP
    svc = inv.service(NS, "db")
    assert svc is not None
    svc.ports = [p for p in svc.ports if p.port in (3306, 27017) and not p.name.startswith("http")]
    vs, _dr = build_service_routing(svc, ServiceRouting(weights={"v1": 90, "v2": 10}), inv.workloads)
    assert vs is not None and "tcp" in vs.spec and "http" not in vs.spec
    with pytest.raises(RoutingError, match="carries TCP only"):
        build_service_routing(svc, ServiceRouting(weights={"v1": 100}, retry_attempts=3), inv.workloads)


def _entry(emu: KubeEmulator, name: str, spec: dict[str, Any], namespace: str = NS) -> None:
    emu.add({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
             "metadata": {"name": name, "namespace": namespace}, "spec": spec})


@pytest.fixture
def istio(kube_emulator: KubeEmulator, shared_dir: Path) -> KubeEmulator:
    """The emulator serving Istio's CRDs, with their schemas, as a real cluster does."""
    for doc in load_docs(shared_dir / CRDS):
        kube_emulator.add_crd(doc)
    kube_emulator.add_namespace(NS, {"istio-injection": "enabled"})
    return kube_emulator


def _entry_panel(qtbot: QtBot, inv: Inventory, host: str) -> str:
    """The side panel of the ServiceEntry node web-v1's calls to ``host`` make."""
    sample = http("web-v1", None, 1.0, service=host, reporter="source")
    sample.labels.update(destination_service=host, destination_service_name=host,
                         destination_service_namespace="unknown")
    graph = build(snapshot([sample], inv, graphType="workload", injectServiceNodes=True, namespaces=(NS,)))
    node = next(n for n in graph.nodes.values() if n.is_service_entry is not None and host in n.is_service_entry.hosts)
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    assert panel.kind == "serviceentry"
    return panel.text()


def test_an_entry_defined_outside_the_chosen_namespaces_shows_its_spec(qtbot: QtBot, istio: KubeEmulator) -> None:
    """A ServiceEntry of another namespace (read because Istio applies it from anywhere) made the graph's
    node, but its panel found no object: "Resolution -, Ports -" and no name of the entry."""
    _entry(istio, "partners", {"hosts": ["partners.example.com"], "location": "MESH_EXTERNAL", "resolution": "DNS",
                               "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}]}, namespace="infra")
    text = _entry_panel(qtbot, _read(istio), "partners.example.com")
    assert text.startswith("ServiceEntry partners\n")
    assert "ServiceEntry\ninfra/partners\n" in text and "Resolution\nDNS\n" in text and "443/HTTPS" in text


def test_an_entry_shows_what_its_spec_sets(qtbot: QtBot, istio: KubeEmulator) -> None:
    """The panel showed an entry's hosts, location, resolution, ports and its endpoints' addresses only:
    not its addresses (CIDRs), where it is exported, the ports its endpoints listen on, their weights,
    networks and labels, nor its workloadSelector, whose pods are its endpoints ("Endpoints none" then
    said it had none). An entry with no endpoints now says where calls go, by its resolution."""
    _deployment(istio, "web-v1", {"app": "web", "version": "v1"})
    _entry(istio, "vm", {
        "hosts": ["vm.shop.internal"], "addresses": ["10.10.0.0/16"], "location": "MESH_INTERNAL",
        "resolution": "STATIC", "exportTo": ["."],
        "ports": [{"number": 8080, "name": "http", "protocol": "HTTP", "targetPort": 9090}],
        "endpoints": [{"address": "10.10.0.5", "labels": {"app": "vm"}, "ports": {"http": 9091}, "weight": 3,
                       "network": "n1", "locality": "eu/z1"}, {"address": "10.10.0.6"}]})
    _entry(istio, "mine", {"hosts": ["mine.example.com"], "location": "MESH_INTERNAL", "resolution": "STATIC",
                           "workloadSelector": {"labels": {"app": "web"}},
                           "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]})
    _entry(istio, "api", {"hosts": ["api.example.com"], "resolution": "DNS_ROUND_ROBIN"})
    _entry(istio, "any", {"hosts": ["any.example.com"]})
    inv = _read(istio)
    vm = _entry_panel(qtbot, inv, "vm.shop.internal")
    assert "Addresses\n10.10.0.0/16\nLocation\nMESH_INTERNAL\nResolution\nSTATIC\nPorts\nhttp 8080/HTTP \u2192 9090\n" \
        "Exported to\nits own namespace\n" in vm
    assert "Endpoints\n10.10.0.5 (ports http \u2192 9091; weight 3; network n1; locality eu/z1; labels app=vm)\n" \
        "10.10.0.6\n" in vm
    assert "Workload selector\napp=web\nEndpoints\nweb-v1 (Deployment)\n" in _entry_panel(qtbot, inv, "mine.example.com")
    api = _entry_panel(qtbot, inv, "api.example.com")
    assert "Location\nMESH_EXTERNAL\nResolution\nDNS_ROUND_ROBIN\nPorts\n-\n" in api
    assert "Endpoints\nnone listed: Istio resolves the hosts by DNS\n" in api
    anything = _entry_panel(qtbot, inv, "any.example.com")
    assert "Resolution\nNONE\n" in anything
    assert "Endpoints\nnone listed: calls go to the address the caller asked for\n" in anything


def test_an_entry_with_fields_of_the_wrong_type(qtbot: QtBot, istio: KubeEmulator) -> None:
    """A hand-made entry (no schema checked it) with a string where a list or a map belongs: each such
    field reads as empty, the rest of the panel is there."""
    istio.add_raw("serviceentries", NS, {
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "odd", "namespace": NS, "resourceVersion": "1"},
        "spec": {"hosts": ["odd.example.com"], "ports": "80", "endpoints": "10.0.0.1", "addresses": "10.0.0.0/8",
                 "exportTo": ".", "workloadSelector": "app=web", "location": 5, "resolution": ["DNS"]}},
        group="networking.istio.io")
    text = _entry_panel(qtbot, _read(istio), "odd.example.com")
    assert "ServiceEntry\nshop/odd\nHosts\nodd.example.com\nLocation\nMESH_EXTERNAL\nResolution\nNONE\nPorts\n-\n" \
        "\nEndpoints\nnone listed: calls go to the address the caller asked for\n" in text


def test_node_ports_and_load_balancer_addresses(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """A NodePort or LoadBalancer Service showed neither its node ports nor its outside addresses, and a
    LoadBalancer still waiting for one (kubectl's "<pending>") looked like any other. Dual-stack cluster
    IPs are all listed, as Kiali lists them."""
    _deployment(kube_emulator, "web-v1", {"app": "web", "version": "v1"})
    ports = [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}]
    _service(kube_emulator, "waiting", {"type": "LoadBalancer", "clusterIP": "10.0.0.3", "selector": {"app": "web"},
                                        "ports": ports}, {"loadBalancer": {}})
    _service(kube_emulator, "public", {"type": "LoadBalancer", "clusterIP": "10.0.0.5",
                                       "clusterIPs": ["10.0.0.5", "fd00::5"], "externalIPs": ["192.0.2.7"],
                                       "selector": {"app": "web"}, "ports": ports},
             {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}, {"hostname": "lb.example.com"}]}})
    inv = _read(kube_emulator)
    waiting = _service_panel(qtbot, inv, "waiting")
    assert "Ports\nhttp 80/TCP \u2192 8080 (node port 30080): HTTP\nCluster IP\n10.0.0.3\nLoad balancer\npending: no " \
        "address yet (the cloud's load balancer is not ready, or none serves this cluster); its node ports answer " \
        "meanwhile\n" in waiting
    public = _service_panel(qtbot, inv, "public")
    assert "Cluster IPs\n10.0.0.5, fd00::5\nExternal IPs\n192.0.2.7\nLoad balancer\n203.0.113.9, lb.example.com\n" \
        in public


def test_the_services_list_has_the_hosts_of_service_entries(qtbot: QtBot, istio: KubeEmulator) -> None:
    """Kiali's service list names every ServiceEntry host beside the Kubernetes Services (its
    "External" registry); meshdesk's Services list had only the Kubernetes Services, so an external
    host the graph drew had no row. A host naming a Service of the list is that Service's row."""
    _deployment(istio, "web-v1", {"app": "web", "version": "v1"})
    _service(istio, "web", {"clusterIP": "10.0.0.1", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]})
    _entry(istio, "partners", {"hosts": ["api.example.com", "web.shop.svc.cluster.local"], "resolution": "DNS",
                               "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]})
    _entry(istio, "elsewhere", {"hosts": ["other.example.com"], "resolution": "DNS"}, namespace="infra")
    inv = _read(istio)
    sample = http("web-v1", None, 1.0, service="api.example.com", reporter="source")
    sample.labels.update(destination_service="api.example.com", destination_service_name="api.example.com",
                         destination_service_namespace="unknown")
    graph = build(snapshot([sample], inv, graphType="workload", injectServiceNodes=True, namespaces=(NS,)))
    entry = next(n for n in graph.nodes.values() if n.is_service_entry is not None)
    lists = MeshLists()
    qtbot.addWidget(lists)
    lists.set_data(graph, inv)
    page = lists.pages[SERVICES]
    assert sorted((r.namespace, r.name) for r in page.model.rows) == [(NS, "api.example.com"), (NS, "web")]
    # the Type column tells an entry's host from a Kubernetes Service (as k9s's TYPE column does)
    types = {page.model.data(page.model.index(r, COLUMNS[SERVICES].index("Type"))):
             page.model.data(page.model.index(r, 0)) for r in range(page.model.rowCount())}
    assert types == {"ServiceEntry": "api.example.com", "ClusterIP": "web"}
    with qtbot.waitSignal(lists.nodesSelected, timeout=5000) as picked:
        page.table.selectRow(next(i for i, r in enumerate(page.visible_rows()) if r.name == "api.example.com"))
    assert picked.args == [[entry.id]]


def test_an_entry_panel_gives_the_entry_s_findings(qtbot: QtBot, istio: KubeEmulator) -> None:
    """A Service's panel lists its config findings; a ServiceEntry's listed none, so an entry with
    resolution STATIC and nothing to send to (MDK1204) looked fine beside its red badge in the lists."""
    _entry(istio, "static", {"hosts": ["static.example.com"], "location": "MESH_EXTERNAL", "resolution": "STATIC",
                             "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]})
    inv = _read(istio)
    sample = http("web-v1", None, 1.0, service="static.example.com", reporter="source")
    sample.labels.update(destination_service="static.example.com", destination_service_name="static.example.com",
                         destination_service_namespace="unknown")
    graph = build(snapshot([sample], inv, graphType="workload", injectServiceNodes=True, namespaces=(NS,)))
    graph.validations = validate(inv)  # as the poller sets them
    node = next(n for n in graph.nodes.values() if n.is_service_entry is not None)
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    panel.show_selection([node.id])
    finding = next(c for c in graph.validations[("ServiceEntry", NS, "static")].checks if c.code == "MDK1204")
    assert f"Config findings\nerror MDK1204 {finding.message}" in panel.text()


def test_a_service_not_in_the_inventory_says_why(qtbot: QtBot, kube_emulator: KubeEmulator) -> None:
    """A service node without its Service said "not found in the inventory" whatever the reason: its
    namespace not chosen, a host nothing defines, or a Service deleted since its traffic."""
    kube_emulator.add_namespace(NS)
    kube_emulator.add_namespace("other")
    inv = _read(kube_emulator)
    samples = [http("web-v1", None, 1.0, service="reviews", dst_ns="other", reporter="source"),
               http("web-v1", None, 1.0, service="gone", reporter="source"),
               http("web-v1", None, 1.0, service="api.example.com", reporter="source")]
    samples[2].labels.update(destination_service="api.example.com", destination_service_name="api.example.com",
                             destination_service_namespace="unknown")
    graph = build(snapshot(samples, inv, graphType="workload", injectServiceNodes=True, namespaces=(NS,)))
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.set_data(graph, inv)
    said = {}
    for ns, name in (("other", "reviews"), (NS, "gone"), ("unknown", "api.example.com")):
        node = graph.find_node(node_type=NODE_SERVICE, service=name, namespace=ns)
        assert node is not None
        panel.show_selection([node.id])
        said[name] = panel.text().split("Inventory\n", 1)[1].split("\n", 1)[0]
    assert said == {"reviews": "not read: other is not among the chosen namespaces",
                    "gone": "not found: shop has no Service of this name (deleted since its traffic was recorded?)",
                    "api.example.com": "not found: no Service or ServiceEntry that was read defines this host"}


def test_rules_that_could_not_be_read_are_not_said_to_be_none(qtbot: QtBot, istio: KubeEmulator) -> None:
    """RBAC let the user list the Services of shop but not its DestinationRules: the service's panel said
    "DestinationRules none", as if no TLS mode, subsets or circuit breaker applied, when the rule was
    there and only unread (the ServiceEntry's and the app's panels too). It says that is not known."""
    _deployment(istio, "web-v1", {"app": "web", "version": "v1"})
    _service(istio, "web", {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]})
    _entry(istio, "api", {"hosts": ["api.example.com"], "resolution": "DNS",
                          "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}]})
    for name, host in (("web", "web"), ("api", "api.example.com")):
        istio.add({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                   "metadata": {"name": name, "namespace": NS},
                   "spec": {"host": host, "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}})
    istio.add({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "web", "namespace": NS},
               "spec": {"hosts": ["web"], "http": [{"route": [{"destination": {"host": "web"}}], "timeout": "3s"}]}})
    read = _read(istio)
    assert "shop/web" in _service_panel(qtbot, read, "web")  # read, the rule is listed
    istio.forbid(namespace=NS, resource="destinationrules")
    denied = read_inventory(istio.api_client(), [NS], cluster="east")
    assert f"{NS}/destinationrules" in denied.hidden
    text = _service_panel(qtbot, denied, "web")
    assert f"DestinationRules\nnot known: the DestinationRules of {NS} could not be read\n" in text
    assert "VirtualServices\nshop/web\nevery request \u2192 web; timeout 3s\n" in text  # those read stay
    entry = _entry_panel(qtbot, denied, "api.example.com")
    assert f"DestinationRules\nnot known: the DestinationRules of {NS} could not be read\n" in entry
