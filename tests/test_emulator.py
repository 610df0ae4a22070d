"""The Kubernetes API emulator answers the official ``kubernetes`` client the way an API server does."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import kubernetes.client as k8s
import kubernetes.config
import pytest
from kubernetes.stream import portforward

from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = f"echo {self.path} auth={self.headers.get('Authorization')}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def echo_server() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_discovery_and_version(kube_emulator: KubeEmulator) -> None:
    api = kube_emulator.api_client()
    assert k8s.VersionApi(api).get_code().git_version == "v1.31.0"
    core = {r.name for r in k8s.CoreV1Api(api).get_api_resources().resources}
    assert {"namespaces", "pods", "services", "endpoints", "services/proxy", "pods/portforward"} <= core
    groups = {g.name for g in k8s.ApisApi(api).get_api_versions().groups}
    assert {"apps", "batch", "authorization.k8s.io"} <= groups
    assert "networking.istio.io" not in groups
    apps = {r.name for r in k8s.AppsV1Api(api).get_api_resources().resources}
    assert {"deployments", "statefulsets", "daemonsets", "replicasets"} <= apps


def test_istio_crds_served_under_every_served_version(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    kube_emulator.load_crds(shared_dir / CRDS)
    api = kube_emulator.api_client()
    net = next(g for g in k8s.ApisApi(api).get_api_versions().groups if g.name == "networking.istio.io")
    assert [v.version for v in net.versions] == ["v1", "v1beta1", "v1alpha3"]
    assert net.preferred_version.version == "v1"
    kube_emulator.load_yaml(shared_dir / "fixtures/istio/bookinfo/networking/virtual-service-all-v1.yaml",
                            namespace="bookinfo")
    co = k8s.CustomObjectsApi(api)
    for version in ("v1", "v1beta1", "v1alpha3"):
        items = co.list_namespaced_custom_object("networking.istio.io", version, "bookinfo", "virtualservices")["items"]
        assert sorted(i["metadata"]["name"] for i in items) == ["details", "productpage", "ratings", "reviews"]
        assert {i["apiVersion"] for i in items} == {f"networking.istio.io/{version}"}
    # EnvoyFilter is only served as v1alpha3
    with pytest.raises(k8s.ApiException) as err:
        co.list_cluster_custom_object("networking.istio.io", "v1", "envoyfilters")
    assert err.value.status == 404


def test_bookinfo_lists_with_selectors(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    kube_emulator.add_namespace("bookinfo", {"istio-injection": "enabled"})
    kube_emulator.load_yaml(shared_dir / BOOKINFO, namespace="bookinfo")
    pods = kube_emulator.run_workloads()
    assert len(pods) == 6
    core = k8s.CoreV1Api(kube_emulator.api_client())
    all_pods = core.list_pod_for_all_namespaces().items
    assert len(all_pods) == 6
    assert all("istio-proxy" in [c.name for c in p.spec.containers] for p in all_pods)
    reviews = core.list_namespaced_pod("bookinfo", label_selector="app=reviews,version in (v1,v3)").items
    assert sorted(p.metadata.labels["version"] for p in reviews) == ["v1", "v3"]
    assert core.list_namespaced_pod("bookinfo", label_selector="app!=reviews,!nothing").items.__len__() == 3
    assert [s.metadata.name for s in core.list_namespaced_service(
        "bookinfo", field_selector="metadata.name=ratings").items] == ["ratings"]
    assert core.list_namespaced_service("default").items == []
    deps = k8s.AppsV1Api(kube_emulator.api_client()).list_deployment_for_all_namespaces().items
    assert {d.status.ready_replicas for d in deps} == {1}
    rs = k8s.AppsV1Api(kube_emulator.api_client()).list_namespaced_replica_set("bookinfo").items
    assert {r.metadata.owner_references[0].kind for r in rs} == {"Deployment"}


def test_run_workloads_kinds_and_native_sidecar(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add_namespace("mesh", {"istio-injection": "enabled"})
    tmpl = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "main", "image": "img:1"}]}}
    kube_emulator.add({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "mesh"},
                       "spec": {"replicas": 2, "template": tmpl}})
    kube_emulator.add({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "mesh"},
                       "spec": {"template": tmpl}})
    kube_emulator.add({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "mesh"},
                       "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"template": tmpl}}}})
    pods = kube_emulator.run_workloads(native_sidecar=True, restarts=3, ready=False, nodes=["n1", "n2"])
    owners = sorted((p["metadata"]["ownerReferences"][0]["kind"], p["metadata"]["name"]) for p in pods)
    assert [o[0] for o in owners] == ["DaemonSet", "DaemonSet", "Job", "StatefulSet", "StatefulSet"]
    job = kube_emulator.objects("jobs", "batch", "mesh")[0]
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    pod = k8s.CoreV1Api(kube_emulator.api_client()).read_namespaced_pod("db-0", "mesh")
    assert [c.name for c in pod.spec.containers] == ["main"]
    assert [(c.name, c.restart_policy) for c in pod.spec.init_containers] == [("istio-init", None),
                                                                            ("istio-proxy", "Always")]
    assert [(s.name, s.ready, s.restart_count) for s in pod.status.container_statuses] == [("main", False, 3)]


def test_create_replace_conflict_patch_delete_dry_run(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    kube_emulator.load_crds(shared_dir / CRDS)
    kube_emulator.add_namespace("bookinfo")
    co = k8s.CustomObjectsApi(kube_emulator.api_client())
    gv = ("networking.istio.io", "v1", "bookinfo", "destinationrules")
    dr = {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
          "metadata": {"name": "reviews"}, "spec": {"host": "reviews"}}
    preview = co.create_namespaced_custom_object(*gv, dr, dry_run="All")
    assert preview["metadata"]["name"] == "reviews"
    assert co.list_namespaced_custom_object(*gv)["items"] == []
    created = co.create_namespaced_custom_object(*gv, dr)
    rv1 = int(created["metadata"]["resourceVersion"])
    with pytest.raises(k8s.ApiException) as err:
        co.create_namespaced_custom_object(*gv, dr)
    assert err.value.status == 409
    created["spec"]["trafficPolicy"] = {"tls": {"mode": "ISTIO_MUTUAL"}}
    replaced = co.replace_namespaced_custom_object(*gv, "reviews", created)
    assert int(replaced["metadata"]["resourceVersion"]) > rv1
    with pytest.raises(k8s.ApiException) as err:  # stale resourceVersion
        co.replace_namespaced_custom_object(*gv, "reviews", created)
    assert err.value.status == 409
    patched = co.patch_namespaced_custom_object(*gv, "reviews", {"spec": {"trafficPolicy": None}})
    assert "trafficPolicy" not in patched["spec"]
    patched = co.patch_namespaced_custom_object(*gv, "reviews", [{"op": "replace", "path": "/spec/host",
                                                                  "value": "reviews.bookinfo.svc"}])
    assert patched["spec"]["host"] == "reviews.bookinfo.svc"
    co.delete_namespaced_custom_object(*gv, "reviews", dry_run="All")
    assert co.get_namespaced_custom_object(*gv, "reviews")["spec"]["host"] == "reviews.bookinfo.svc"
    stale = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(resource_version=str(rv1)))
    with pytest.raises(k8s.ApiException) as err:  # a delete of a version someone changed since
        co.delete_namespaced_custom_object(*gv, "reviews", body=stale)
    assert err.value.status == 409 and "Precondition failed" in str(err.value.body)
    current = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(resource_version=patched["metadata"]["resourceVersion"]))
    co.delete_namespaced_custom_object(*gv, "reviews", body=current)
    with pytest.raises(k8s.ApiException) as err:
        co.get_namespaced_custom_object(*gv, "reviews")
    assert err.value.status == 404


def test_core_patch_and_namespace_labels(kube_emulator: KubeEmulator) -> None:
    core = k8s.CoreV1Api(kube_emulator.api_client())
    core.create_namespace({"metadata": {"name": "shop"}})
    core.patch_namespace("shop", {"metadata": {"labels": {"istio-injection": "enabled"}}})
    assert core.read_namespace("shop").metadata.labels["istio-injection"] == "enabled"
    core.patch_namespace("shop", {"metadata": {"labels": {"istio-injection": None}}}, dry_run="All")
    assert core.read_namespace("shop").metadata.labels["istio-injection"] == "enabled"
    names = [n.metadata.name for n in core.list_namespace().items]
    assert names == ["default", "kube-system", "shop"]


def test_faults_token_forbid_fail_and_access_review(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add_namespace("bookinfo")
    kube_emulator.require_token("good-token")
    core = k8s.CoreV1Api(kube_emulator.api_client(token="bad-token"))
    with pytest.raises(k8s.ApiException) as err:
        core.list_namespace()
    assert err.value.status == 401
    core = k8s.CoreV1Api(kube_emulator.api_client(token="good-token"))
    assert len(core.list_namespace().items) == 3
    kube_emulator.forbid(namespace="bookinfo", resource="pods")
    with pytest.raises(k8s.ApiException) as err:
        core.list_namespaced_pod("bookinfo")
    assert err.value.status == 403
    status = json.loads(err.value.body)
    assert (status["kind"], status["reason"], status["code"]) == ("Status", "Forbidden", 403)
    assert status["message"].endswith('cannot list resource "pods" in API group "" in the namespace "bookinfo"')
    with pytest.raises(k8s.ApiException) as err:  # a cluster-wide list needs cluster-wide rights
        core.list_pod_for_all_namespaces()
    assert err.value.status == 403
    assert core.list_namespaced_pod("default").items == []
    authz = k8s.AuthorizationV1Api(kube_emulator.api_client(token="good-token"))

    def allowed(ns: str) -> bool:
        review = k8s.V1SelfSubjectAccessReview(spec=k8s.V1SelfSubjectAccessReviewSpec(
            resource_attributes=k8s.V1ResourceAttributes(namespace=ns, verb="list", resource="pods")))
        return bool(authz.create_self_subject_access_review(review).status.allowed)

    assert (allowed("bookinfo"), allowed("default")) == (False, True)
    kube_emulator.fail(500)
    with pytest.raises(k8s.ApiException) as err:
        core.list_namespace()
    assert err.value.status == 500
    kube_emulator.clear_faults()
    assert len(k8s.CoreV1Api(kube_emulator.api_client()).list_namespace().items) == 3
    assert ("GET", "/api/v1/namespaces") in kube_emulator.calls


def test_tls_kubeconfig_with_token(tmp_path: Path) -> None:
    with KubeEmulator(tls=True) as emu:
        emu.require_token("tok-123")
        path = emu.write_kubeconfig(tmp_path / "config", context="emu", token="tok-123")
        api = kubernetes.config.new_client_from_config(config_file=str(path), context="emu")
        assert emu.url.startswith("https://")
        assert len(k8s.CoreV1Api(api).list_namespace().items) == 2
        other = emu.write_kubeconfig(tmp_path / "other", context="emu", token=None)
        with pytest.raises(k8s.ApiException) as err:
            k8s.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(other))).list_namespace()
        assert err.value.status == 401


def test_service_proxy_forwards_without_credentials(kube_emulator: KubeEmulator,
                                                    echo_server: http.server.ThreadingHTTPServer) -> None:
    kube_emulator.add_namespace("istio-system")
    kube_emulator.add({"apiVersion": "v1", "kind": "Service",
                       "metadata": {"name": "prometheus", "namespace": "istio-system"},
                       "spec": {"ports": [{"name": "http", "port": 9090}]}})
    kube_emulator.proxy_service("istio-system", "prometheus", 9090, f"http://127.0.0.1:{echo_server.server_address[1]}")
    kube_emulator.require_token("tok")
    req = urllib.request.Request(f"{kube_emulator.url}/api/v1/namespaces/istio-system/services/prometheus:http/proxy"
                                 "/api/v1/query?query=up", headers={"Authorization": "Bearer tok"})
    with urllib.request.urlopen(req) as resp:  # noqa: S310
        text = resp.read().decode()
    assert text == "echo /api/v1/query?query=up auth=None"  # the user's token stays at the API server
    kube_emulator.forbid(namespace="istio-system", resource="services/proxy")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)  # noqa: S310
    assert err.value.code == 403


def test_port_forward_relays_bytes(kube_emulator: KubeEmulator, echo_server: http.server.ThreadingHTTPServer) -> None:
    kube_emulator.add_namespace("istio-system")
    kube_emulator.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "prom-0", "namespace": "istio-system"},
                       "spec": {"containers": [{"name": "prometheus", "image": "prom"}]}})
    kube_emulator.port_forward_pod("istio-system", "prom-0", 9090, echo_server.server_address[1])
    core = k8s.CoreV1Api(kube_emulator.api_client())
    pf = portforward(core.connect_get_namespaced_pod_portforward, "prom-0", "istio-system", ports="9090")
    sock = pf.socket(9090)
    sock.setblocking(True)
    sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    pf.close()
    assert data.startswith(b"HTTP/1.0 200") and data.endswith(b"echo /ping auth=None")


def test_client_certificate_authentication(tmp_path: Path) -> None:
    with KubeEmulator(tls=True, client_certs=True) as emu:
        emu.require_client_cert()
        cert, key = emu.client_cert("jane", ["devs"])
        good = emu.write_kubeconfig(tmp_path / "good", client_cert=(cert, key))
        api = kubernetes.config.new_client_from_config(config_file=str(good))
        assert len(k8s.CoreV1Api(api).list_namespace().items) == 2
        bare = emu.write_kubeconfig(tmp_path / "bare")
        with pytest.raises(k8s.ApiException) as err:
            k8s.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(bare))).list_namespace()
        assert err.value.status == 401
        emu.require_token("tok")  # either authenticator is enough
        token_only = emu.write_kubeconfig(tmp_path / "token", token="tok")
        assert k8s.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(token_only))).list_namespace()


def test_every_pod_gets_an_address_of_its_own(kube_emulator: KubeEmulator) -> None:
    """Endpoints, EndpointSlices and the traces' node ids name pods by address: past 250 pods the
    emulator gave addresses again that other pods had."""
    kube_emulator.add_namespace("big")
    tmpl = {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "main", "image": "img:1"}]}}
    kube_emulator.add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "big"},
                       "spec": {"replicas": 600, "selector": {"matchLabels": {"app": "w"}}, "template": tmpl}})
    pods = kube_emulator.run_workloads()
    ips = [p["status"]["podIP"] for p in pods]
    assert len(ips) == 600 and len(set(ips)) == 600
    assert all(ip.startswith("10.244.") for ip in ips)
