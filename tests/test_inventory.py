"""The inventory as the official client reads it from the emulator over HTTP."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest

from meshdesk.mesh.inventory import Inventory
from meshdesk.sources import inventory as inventory_source
from meshdesk.sources.base import Cancelled, Forbidden, Timeout, Unauthorized, Unreachable
from meshdesk.sources.inventory import InventoryReader, read_inventory
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture, load_docs  # noqa: F401 - the fixture

CRDS = "fixtures/istio/crds/crd-all.gen.yaml"
BOOKINFO = "fixtures/istio/bookinfo/platform/kube/bookinfo.yaml"
NETWORKING = "fixtures/istio/bookinfo/networking"


def _bookinfo(emu: KubeEmulator, shared: Path, *, crds: bool = True) -> None:
    if crds:
        emu.load_crds(shared / CRDS)
        emu.load_yaml(shared / NETWORKING / "virtual-service-all-v1.yaml", namespace="bookinfo")
        emu.load_yaml(shared / NETWORKING / "destination-rule-all.yaml", namespace="bookinfo")
        emu.load_yaml(shared / NETWORKING / "bookinfo-gateway.yaml", namespace="bookinfo")
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(shared / BOOKINFO, namespace="bookinfo")
    emu.run_workloads()


def _deployment(name: str, ns: str, labels: dict[str, str], replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": name, "image": f"example/{name}:1"}]}}}}


def test_bookinfo_inventory(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    _bookinfo(kube_emulator, shared_dir)
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo"], cluster="east")
    assert inv.istio_found and inv.hidden == {} and inv.warnings == []
    assert [(n.name, n.injection_enabled, n.cluster) for n in inv.namespaces] == [("bookinfo", True, "east")]
    assert [(w.kind, w.name) for w in inv.workloads] == [
        ("Deployment", n) for n in ("details-v1", "productpage-v1", "ratings-v1", "reviews-v1", "reviews-v2",
                                    "reviews-v3")]
    reviews = inv.workload("bookinfo", "reviews-v2")
    assert reviews is not None
    assert (reviews.app, reviews.version, reviews.replicas, reviews.available, reviews.current) == \
        ("reviews", "v2", 1, 1, 1)
    assert reviews.has_sidecar is True and reviews.cluster == "east" and reviews.created
    pod = reviews.pods[0]
    assert pod.ready_count == (2, 2) and pod.restarts == 0 and pod.phase == "Running"
    assert pod.proxy_version == "1.24.2" and pod.owner_kind == "ReplicaSet" and pod.node_name == "node-1"
    svc = inv.service("bookinfo", "productpage")
    assert svc is not None and svc.selector == {"app": "productpage"}
    assert [(p.name, p.port, p.protocol) for p in svc.ports] == [("http", 9080, "TCP")]
    assert [w.name for w in inv.workloads_for_service(inv.service("bookinfo", "reviews"))] == [  # type: ignore[arg-type]
        "reviews-v1", "reviews-v2", "reviews-v3"]
    kinds = sorted({(o.kind, o.api_version) for o in inv.istio})
    assert kinds == [("DestinationRule", "networking.istio.io/v1"), ("Gateway", "networking.istio.io/v1"),
                     ("VirtualService", "networking.istio.io/v1")]
    vs = [o for o in inv.istio_objects("VirtualService") if o.name == "reviews"][0]
    assert vs.spec["http"][0]["route"][0]["destination"] == {"host": "reviews", "subset": "v1"}
    assert vs.resource_version
    assert Inventory.from_json(inv.to_json()).to_json() == inv.to_json()


def test_authorization_policy_principals_judged_from_the_pods_accounts(kube_emulator: KubeEmulator,
                                                                       shared_dir: Path) -> None:
    """Pods keep the service account they run as (bookinfo names one per app; a pod naming none runs
    as "default"), so a policy allowing an account no pod runs as is found (Kiali's KIA0106)."""
    from meshdesk.mesh.validations import validate

    _bookinfo(kube_emulator, shared_dir)
    kube_emulator.add(_deployment("plain", "bookinfo", {"app": "plain"}), "bookinfo")
    kube_emulator.run_workloads("bookinfo")
    # the gateway's VirtualService claims host "*", which makes every policy host exist (as in Kiali)
    kube_emulator.delete("virtualservices", "bookinfo", "bookinfo", group="networking.istio.io")
    kube_emulator.load_yaml("""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-callers, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/bookinfo/sa/bookinfo-productpage", "cluster.local/ns/bookinfo/sa/default",
                     "cluster.local/ns/bookinfo/sa/bookinfo-reviewz"]
    to:
    - operation: {methods: ["GET"], hosts: ["reviews", "reviewz.bookinfo"]}
""")
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo"], cluster="east")
    reviews, plain = inv.workload("bookinfo", "reviews-v1"), inv.workload("bookinfo", "plain")
    assert reviews is not None and plain is not None
    assert reviews.pods[0].service_account == "bookinfo-reviews" and plain.pods[0].service_account == "default"
    checks = validate(inv)[("AuthorizationPolicy", "bookinfo", "reviews-callers")].checks
    assert [(c.code, c.path) for c in checks] == [
        ("KIA0106", "spec/rules[0]/from[0]/source/principals[2]"),
        ("KIA0104", "spec/rules[0]/to[0]/operation/hosts[1]")]
    # and the accounts travel in a snapshot's inventory
    again = Inventory.from_json(inv.to_json())
    assert [c.code for c in validate(again)[("AuthorizationPolicy", "bookinfo", "reviews-callers")].checks] == \
        ["KIA0106", "KIA0104"]


def test_cluster_wide_lists_do_not_grow_with_namespaces(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    kube_emulator.load_crds(shared_dir / CRDS)
    counts = []
    for n in range(2, 7, 2):
        for i in range(n):
            kube_emulator.add(_deployment(f"app{i}", f"ns{i}", {"app": f"app{i}"}))
        kube_emulator.run_workloads()
        reader = InventoryReader(kube_emulator.api_client(), [f"ns{i}" for i in range(n)], cluster="c")
        inv = reader.read()
        assert len(inv.workloads) == n and all(len(w.pods) == 1 for w in inv.workloads)
        counts.append(reader.calls)
    assert counts[0] == counts[1] == counts[2]
    paths = [p for _, p in kube_emulator.calls]
    assert "/api/v1/pods" in paths and not any(p.startswith("/api/v1/namespaces/ns0/pods") for p in paths)


def test_every_workload_kind(kube_emulator: KubeEmulator) -> None:
    emu = kube_emulator
    emu.add_namespace("shop", {"istio.io/rev": "canary"})
    tmpl = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "main", "image": "img:2"}]}}
    emu.add({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"},
             "spec": {"replicas": 2, "template": {**tmpl, "metadata": {"labels": {"app": "db", "version": "v5"}}}}})
    emu.add({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "shop"},
             "spec": {"template": tmpl}})
    emu.add({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "shop"},
             "spec": {"template": tmpl}})
    emu.add({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
             "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": tmpl}}}})
    emu.run_workloads(native_sidecar=True, restarts=4, nodes=["n1", "n2"])
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "lonely", "namespace": "shop"},
          "spec": {"replicas": 1, "template": tmpl}, "status": {"replicas": 1, "availableReplicas": 0}}
    rs = emu.add(rs)
    emu.add({"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "lonely-abcde", "namespace": "shop", "labels": {"app": "x"},
                          "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "lonely",
                                               "uid": rs["metadata"]["uid"], "controller": True}]},
             "spec": {"containers": [{"name": "main", "image": "img:2"}]},
             "status": {"phase": "Running", "containerStatuses": [
                 {"name": "main", "ready": False, "restartCount": 7,
                  "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}})
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "debug", "namespace": "shop",
                                                            "labels": {"run": "debug"}},
             "spec": {"containers": [{"name": "sh", "image": "busybox"}]}, "status": {"phase": "Pending"}})
    inv = read_inventory(emu.api_client(), ["shop"], cluster="c")
    got = {(w.kind, w.name): w for w in inv.workloads}
    assert sorted(got) == [("CronJob", "nightly"), ("DaemonSet", "agent"), ("Job", "migrate"), ("Pod", "debug"),
                           ("ReplicaSet", "lonely"), ("StatefulSet", "db")]
    db = got[("StatefulSet", "db")]
    assert (db.app, db.version, db.replicas, len(db.pods)) == ("db", "v5", 2, 2)
    assert db.has_sidecar is True  # native sidecar: an init container with restartPolicy Always
    assert [c.name for c in db.pods[0].containers] == ["main"]
    assert db.pods[0].ready_count == (2, 2) and db.pods[0].restarts == 4
    assert db.pods[0].proxy_version == "1.24.2"
    assert len(got[("DaemonSet", "agent")].pods) == 2 and got[("DaemonSet", "agent")].replicas == 2
    assert len(got[("CronJob", "nightly")].pods) == 1  # the pod of the CronJob's Job
    lonely = got[("ReplicaSet", "lonely")]
    assert lonely.pods[0].ready_count == (0, 1) and lonely.pods[0].restarts == 7
    assert lonely.pods[0].containers[0].state == "waiting:CrashLoopBackOff"
    debug = got[("Pod", "debug")]
    assert debug.has_sidecar is False and debug.labels == {"run": "debug"} and debug.pods[0].phase == "Pending"


@pytest.mark.parametrize(("dropped", "networking"), [(("v1",), "v1beta1"), (("v1", "v1beta1"), "v1alpha3")])
def test_older_istio_versions(kube_emulator: KubeEmulator, shared_dir: Path, dropped: tuple[str, ...],
                              networking: str) -> None:
    """An Istio that serves no v1 (before 1.22; before 1.5 not even v1beta1 for networking): the inventory
    reads the best version the cluster serves, kind by kind."""
    for crd in _crds_without(shared_dir / CRDS, dropped):
        kube_emulator.add_crd(crd)
    kube_emulator.add({"apiVersion": f"networking.istio.io/{networking}", "kind": "VirtualService",
                       "metadata": {"name": "reviews", "namespace": "bookinfo"},
                       "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]}})
    if networking == "v1beta1":
        kube_emulator.add({"apiVersion": "security.istio.io/v1beta1", "kind": "PeerAuthentication",
                           "metadata": {"name": "default", "namespace": "bookinfo"},
                           "spec": {"mtls": {"mode": "STRICT"}}})
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo"], cluster="c")
    assert inv.istio_found and inv.hidden == {}
    expected = [("VirtualService", f"networking.istio.io/{networking}")]
    if networking == "v1beta1":
        expected.insert(0, ("PeerAuthentication", "security.istio.io/v1beta1"))
    assert sorted((o.kind, o.api_version) for o in inv.istio) == expected


def _crds_without(path: Path, dropped: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for doc in load_docs(path, slim_crds=True):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        versions = [v for v in doc["spec"]["versions"] if v["name"] not in dropped]
        if versions:
            doc["spec"]["versions"] = versions
            out.append(doc)
    return out


def test_without_istio_everything_else_loads(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    _bookinfo(kube_emulator, shared_dir, crds=False)
    inv = read_inventory(kube_emulator.api_client(), None, cluster="c")
    assert inv.istio_found is False and inv.istio == []
    assert any(w.startswith("Istio was not found") for w in inv.warnings)
    assert [n.name for n in inv.namespaces] == ["bookinfo", "default", "kube-system"]
    assert len(inv.workloads) == 6 and len(inv.services) == 4


def test_forbidden_namespace_is_hidden_and_the_rest_loads(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    _bookinfo(kube_emulator, shared_dir)
    kube_emulator.add(_deployment("web", "default", {"app": "web"}))
    kube_emulator.run_workloads("default")
    kube_emulator.forbid(namespace="bookinfo", resource="pods")
    kube_emulator.forbid(resource="destinationrules")
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo", "default"], cluster="c")
    assert set(inv.hidden) == {"bookinfo/pods", "bookinfo/destinationrules", "default/destinationrules",
                               "*/gateway pods",  # looked for in istio-system alone
                               "*/istiod pods outside istio-system",  # as istiod's
                               "~/destinationrules"}  # those of other namespaces are not applied to the graph
    assert inv.hidden["bookinfo/pods"].startswith("forbidden: not allowed to list pods in bookinfo")
    web = inv.workload("default", "web")
    assert web is not None and len(web.pods) == 1  # the other namespace still has its pods
    details = inv.workload("bookinfo", "details-v1")
    assert details is not None and details.pods == [] and details.replicas == 1  # the workload is still shown
    assert {o.kind for o in inv.istio} == {"VirtualService", "Gateway"}


def test_forbidden_namespace_object(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    _bookinfo(kube_emulator, shared_dir, crds=False)
    kube_emulator.forbid(namespace="bookinfo", resource="namespaces")
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo", "default"], cluster="c")
    assert [n.name for n in inv.namespaces] == ["bookinfo", "default"]
    assert inv.namespace("bookinfo").labels == {}  # type: ignore[union-attr]
    assert "bookinfo/namespace" in inv.hidden and len(inv.workloads) == 6
    with pytest.raises(Forbidden) as err:  # all namespaces, without the right to list them
        read_inventory(kube_emulator.api_client(), None, cluster="c")
    assert "pick the namespaces" in str(err.value)


def test_malformed_objects_never_crash(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add(_deployment("ok", "odd", {"app": "ok"}))
    emu.run_workloads("odd")
    emu.add_raw("pods", "odd", {"metadata": {"namespace": "odd"}})  # no name
    emu.add_raw("pods", "odd", {"metadata": {"name": "p1", "namespace": "odd", "ownerReferences": "x"},
                                "spec": {"containers": "not a list"}, "status": None})
    emu.add_raw("pods", "odd", {"metadata": {"name": "p2", "namespace": "odd",
                                             "ownerReferences": [{"kind": "Rollout", "name": "canary"}]},
                                "spec": {"containers": [{"name": "c", "image": None}, "junk"]},
                                "status": {"containerStatuses": [{"name": "c", "restartCount": "many"}]}})
    emu.add_raw("pods", "odd", "a string, not an object")
    emu.add_raw("services", "odd", {"metadata": {"name": "s", "namespace": "odd"},
                                    "spec": {"ports": {"port": 80}, "selector": ["x"]}})
    emu.add_raw("deployments", "odd", {"metadata": {"name": "d2", "namespace": "odd"}, "spec": None},
                group="apps")
    emu.add_raw("virtualservices", "odd", {"metadata": {"name": "vs", "namespace": "odd"}, "spec": "??"},
                group="networking.istio.io")
    emu.add_raw("virtualservices", "odd", {"spec": {}}, group="networking.istio.io")
    inv = read_inventory(emu.api_client(), ["odd"], cluster="c")
    got = {(w.kind, w.name): w for w in inv.workloads}
    assert ("Deployment", "ok") in got and len(got[("Deployment", "ok")].pods) == 1
    assert got[("Pod", "p1")].pods[0].containers == []
    assert got[("Rollout", "canary")].pods[0].restarts == 0
    assert ("Deployment", "d2") in got and got[("Deployment", "d2")].labels == {}
    assert inv.service("odd", "s").ports == [] and inv.service("odd", "s").selector == {}  # type: ignore[union-attr]
    assert [(o.name, o.spec) for o in inv.istio] == [("vs", {})]
    assert sum("malformed" in w for w in inv.warnings) == 2  # the nameless pod and the nameless VirtualService


def test_401_raises_unauthorized_without_the_token(kube_emulator: KubeEmulator) -> None:
    kube_emulator.require_token("right-token")
    with pytest.raises(Unauthorized) as err:
        read_inventory(kube_emulator.api_client(token="sekret-token-abc123"), ["default"], cluster="c")
    assert "credentials expired or rejected" in str(err.value)
    assert "sekret-token-abc123" not in str(err.value) and "right-token" not in str(err.value)


def test_server_errors(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    _bookinfo(kube_emulator, shared_dir)
    kube_emulator.fail(500, path="/apis/batch/v1/cronjobs")
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo", "default"], cluster="c")
    assert inv.hidden.keys() == {"*/cronjobs"} and "500" in inv.hidden["*/cronjobs"]
    assert len(inv.workloads) == 6 and any("cronjobs could not be read" in w for w in inv.warnings)
    kube_emulator.fail(500)
    with pytest.raises(Unreachable) as err:
        read_inventory(kube_emulator.api_client(), ["bookinfo"], cluster="c")
    assert "500" in str(err.value)


def test_slow_api_server_times_out(kube_emulator: KubeEmulator) -> None:
    kube_emulator.slow(5)
    with pytest.raises(Timeout):
        read_inventory(kube_emulator.api_client(), ["default"], cluster="c", timeout=0.3)


def test_unreachable_api_server() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = kubernetes.client.Configuration()
    cfg.host = f"http://127.0.0.1:{port}"
    cfg.retries = False
    with pytest.raises(Unreachable) as err:
        read_inventory(kubernetes.client.ApiClient(cfg), ["default"], cluster="c")
    assert "connection refused" in str(err.value)


def test_inventory_command_json_and_table(kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.cli import main

    _bookinfo(kube_emulator, shared_dir)
    kube_emulator.forbid(namespace="bookinfo", resource="gateways")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "bookinfo", "--json"]) == 0
    out, err = capsys.readouterr()
    inv = Inventory.from_json(json.loads(out))
    assert len(inv.workloads) == 6 and inv.cluster == "Kubernetes" and "bookinfo/gateways" in inv.hidden
    assert "hidden: bookinfo/gateways: forbidden" in err
    assert main(["inventory", "--kubeconfig", str(config), "--context", "lab", "-n", "bookinfo"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["NAMESPACE", "KIND", "NAME", "PODS", "READY", "SIDECAR", "PROXY", "SYNCED",
                                "RESTARTS", "APP", "VERSION"]
    # no istiod in this cluster: whether the proxies are in sync is not known
    assert lines[1].split() == ["bookinfo", "Deployment", "details-v1", "1", "2/2", "yes", "1.24.2", "-", "0",
                                "details", "v1"]
    assert any(line.split()[:3] == ["bookinfo", "VirtualService", "reviews"] for line in lines)


def test_inventory_command_errors(kube_emulator: KubeEmulator, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.cli import main

    kube_emulator.require_token("other")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", token="tok-zyx-987")
    assert main(["inventory", "--kubeconfig", str(config)]) == 1
    out, err = capsys.readouterr()
    # the context is named (the kubeconfig's current one, none given), as a failing credential plugin's is
    assert out == "" and err.startswith('meshdesk inventory: context "emu": credentials expired or rejected')
    assert "tok-zyx-987" not in err
    # a context that does not exist is the user's to mend: 2, as `meshdesk graph` says it (QA s13: 1)
    assert main(["inventory", "--kubeconfig", str(config), "--context", "nope"]) == 2
    assert 'context "nope" does not exist' in capsys.readouterr().err
    assert main(["inventory", "--bogus"]) == 2
    assert main(["inventory", "--timeout", "0"]) == 2
    for odd in ("nan", "inf"):  # not a cluster error later: a usage error now
        assert main(["inventory", "--timeout", odd]) == 2
        assert "--timeout must be a positive number of seconds" in capsys.readouterr().err


def test_inventory_command_on_the_demo_mesh(capsys: pytest.CaptureFixture[str]) -> None:
    """Like graph --demo: the inventory of the built-in mesh, no cluster needed. Ambient workloads
    read "ambient" (no sidecar needed) and the waypoint "waypoint", not "no" and "yes"."""
    from meshdesk.cli import main

    assert main(["inventory", "--demo", "-n", "travel"]) == 0
    rows = {line.split()[2]: line.split() for line in capsys.readouterr().out.splitlines()[1:] if line.strip()}
    assert rows["search-v1"][5] == "ambient" and rows["waypoint"][5] == "waypoint"
    assert main(["inventory", "--demo", "--json"]) == 0
    inv = Inventory.from_json(json.loads(capsys.readouterr().out))
    assert {"hello", "shop", "travel"} <= {w.namespace for w in inv.workloads}
    assert main(["inventory", "--demo", "--context", "prod"]) == 2
    assert "cannot be combined" in capsys.readouterr().err


def test_inventory_command_sorts_by_namespace_and_names_the_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    """QA s13: the table listed istio-system last (in the order read, not kubectl's), and said the
    ingress gateway's proxy was a sidecar ("yes")."""
    from meshdesk.cli import main

    assert main(["inventory", "--demo"]) == 0
    tables = capsys.readouterr().out.split("\n\n")
    for table in tables[:3]:  # workloads, services, Istio config
        keys = [tuple(line.split()[:3]) for line in table.splitlines()[1:] if line.strip()]
        namespaces = [k[0] for k in keys]
        assert namespaces == sorted(namespaces) and len(set(namespaces)) > 1, table
    rows = {line.split()[2]: line.split() for line in tables[0].splitlines()[1:]}
    assert rows["istio-ingressgateway"][5] == "gateway" and rows["productpage-v1"][5] == "yes"


def test_inventory_command_as_a_process(kube_emulator: KubeEmulator, tmp_path: Path) -> None:
    kube_emulator.add(_deployment("web", "shop", {"app": "web", "version": "v2"}, replicas=2))
    kube_emulator.run_workloads()
    config = kube_emulator.write_kubeconfig(tmp_path / "config")
    done = subprocess.run([sys.executable, "-m", "meshdesk", "inventory", "--kubeconfig", str(config),
                           "--namespace", "shop", "--json"], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    inv = Inventory.from_json(json.loads(done.stdout))
    assert [(w.name, w.version, len(w.pods)) for w in inv.workloads] == [("web", "v2", 2)]
    assert "Istio was not found" in done.stderr


def test_istio_samples_in_one_namespace(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    kube_emulator.load_crds(shared_dir / CRDS)
    kube_emulator.add_namespace("sample", {"istio-injection": "enabled"})
    for manifest in ("helloworld/helloworld.yaml", "httpbin/httpbin.yaml", "curl/curl.yaml",
                     "tcp-echo/tcp-echo-services.yaml"):
        kube_emulator.load_yaml(shared_dir / "fixtures/istio" / manifest, namespace="sample")
    kube_emulator.load_yaml(shared_dir / NETWORKING / "egress-rule-google-apis.yaml", namespace="sample")
    kube_emulator.run_workloads()
    inv = read_inventory(kube_emulator.api_client(), ["sample"], cluster="c")
    assert [(w.name, w.app, w.version) for w in inv.workloads] == [
        ("curl", "curl", ""), ("helloworld-v1", "helloworld", "v1"), ("helloworld-v2", "helloworld", "v2"),
        ("httpbin", "httpbin", "v1"), ("tcp-echo-v1", "tcp-echo", "v1"), ("tcp-echo-v2", "tcp-echo", "v2")]
    assert all(w.has_sidecar for w in inv.workloads)
    hello = inv.service("sample", "helloworld")
    assert hello is not None and [w.name for w in inv.workloads_for_service(hello)] == ["helloworld-v1",
                                                                                         "helloworld-v2"]
    tcp = inv.service("sample", "tcp-echo")
    assert tcp is not None and {p.name for p in tcp.ports} == {"tcp", "tcp-other"}
    assert sorted(o.kind for o in inv.istio) == ["DestinationRule", "ServiceEntry", "VirtualService"]


def test_pods_find_their_deployment_when_replicasets_are_hidden(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add(_deployment("api", "shop", {"app": "api", "version": "v3"}, replicas=3))
    kube_emulator.run_workloads()
    for pod in kube_emulator.objects("pods", namespace="shop"):  # as the ReplicaSet controller labels them
        rs = pod["metadata"]["ownerReferences"][0]["name"]
        pod["metadata"]["labels"]["pod-template-hash"] = rs.rsplit("-", 1)[1]
    kube_emulator.forbid(resource="replicasets")
    inv = read_inventory(kube_emulator.api_client(), ["shop"], cluster="c")
    assert "shop/replicasets" in inv.hidden
    assert [(w.kind, w.name, len(w.pods), w.replicas) for w in inv.workloads] == [("Deployment", "api", 3, 3)]


def test_cancelled_read_stops(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add(_deployment("api", "shop", {"app": "api"}))
    asked: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(Cancelled):
        read_inventory(kube_emulator.api_client(), ["shop", "default"], cluster="c", cancelled=cancelled)
    assert len(kube_emulator.calls) <= 3 + 4  # the calls already in flight finish, no new ones start


def test_hostile_namespace_names_stay_in_their_path_segment(kube_emulator: KubeEmulator) -> None:
    kube_emulator.add(_deployment("api", "shop", {"app": "api"}))
    kube_emulator.run_workloads()
    inv = read_inventory(kube_emulator.api_client(), ["../../apis/apps/v1/deployments?x=", "shop"], cluster="c")
    assert [w.name for w in inv.workloads] == ["api"]
    assert inv.warnings[0] == "namespace ../../apis/apps/v1/deployments?x= does not exist"
    inv = read_inventory(kube_emulator.api_client(), ["a/b"], cluster="c")
    assert inv.workloads == [] and inv.warnings[0] == "namespace a/b does not exist"
    assert ("GET", "/api/v1/namespaces/a%2Fb") in kube_emulator.calls


def test_paged_lists_are_read_to_the_end(kube_emulator: KubeEmulator) -> None:
    for i in range(7):
        kube_emulator.add(_deployment(f"app{i}", "shop" if i % 2 else "web", {"app": f"app{i}"}, replicas=2))
    kube_emulator.run_workloads()
    whole = read_inventory(kube_emulator.api_client(), ["shop", "web"], cluster="c")
    reader = InventoryReader(kube_emulator.api_client(), ["shop", "web"], cluster="c", page_size=3)
    paged = reader.read()
    assert paged.to_json() == whole.to_json() and len(paged.workloads) == 7
    assert sum(len(w.pods) for w in paged.workloads) == 14
    pod_pages = [p for m, p in kube_emulator.calls if p == "/api/v1/pods"]
    # per read: one call for the gateways outside the selection (none here), and the pods: one whole
    # list, then 14 pods in pages of 3
    assert len(pod_pages) == (1 + 1) + (1 + 5)


def test_inventory_command_without_the_right_to_list_namespaces(kube_emulator: KubeEmulator, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.cli import main

    kube_emulator.add(_deployment("api", "team-a", {"app": "api"}))
    kube_emulator.forbid(resource="namespaces", verb="list")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", namespace="team-a")
    assert main(["inventory", "--kubeconfig", str(config), "--json"]) == 0
    out, err = capsys.readouterr()
    assert [w["name"] for w in json.loads(out)["workloads"]] == ["api"]
    assert "you may not list namespaces; showing team-a" in err
    bare = kube_emulator.write_kubeconfig(tmp_path / "bare")  # no namespace: "default", as kubectl does
    assert main(["inventory", "--kubeconfig", str(bare)]) == 0
    assert "showing default" in capsys.readouterr().err


def _gateway_deployment(name: str, ns: str, component: str, istio_label: str) -> dict[str, Any]:
    labels = {"app": name, "istio": istio_label, "operator.istio.io/component": component}
    return _deployment(name, ns, labels)


def test_gateways_outside_the_selection_are_read_for_the_graph(kube_emulator: KubeEmulator,
                                                                 shared_dir: Path) -> None:
    """The usual ingress gateway runs in istio-system while the user looks at bookinfo: its workload
    and the Gateway objects outside bookinfo are read too (Kiali marks gateways cluster-wide), so the
    bookinfo graph shows the gateway node as an ingress gateway with bookinfo-gateway's hosts."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from tests.graph_samples import http

    emu = kube_emulator
    _bookinfo(emu, shared_dir)
    emu.add(_gateway_deployment("istio-ingressgateway", "istio-system", "IngressGateways", "ingressgateway"))
    emu.add(_gateway_deployment("istio-egressgateway", "istio-egress", "EgressGateways", "egressgateway"))
    emu.add(_deployment("istiod", "istio-system", {"app": "istiod"}))
    emu.add({"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
             "metadata": {"name": "egress", "namespace": "istio-egress"},
             "spec": {"selector": {"istio": "egressgateway"}, "servers": [{"hosts": ["api.example.com"]}]}})
    emu.run_workloads()
    inv = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert [(w.namespace, w.kind, w.name) for w in inv.outside_gateways] == [
        ("istio-egress", "Deployment", "istio-egressgateway"), ("istio-system", "Deployment", "istio-ingressgateway")]
    assert inv.outside_gateways[1].labels["istio"] == "ingressgateway"
    # with their pods: the gateway node's logs, Envoy config and proxy charts are of them (they were
    # read and dropped, so those docks said the gateway had no pod)
    ingress_pods = inv.outside_gateways[1].pods
    assert len(ingress_pods) == 1 and ingress_pods[0].name.startswith("istio-ingressgateway-")
    assert ingress_pods[0].namespace == "istio-system" and ingress_pods[0].ip
    assert [(o.namespace, o.name) for o in inv.outside_gateway_configs] == [("istio-egress", "egress")]
    assert [o.name for o in inv.istio_objects("Gateway")] == ["bookinfo-gateway"]  # bookinfo's own config
    assert {w.namespace for w in inv.workloads} == {"bookinfo"}  # nothing else joins the selection
    assert Inventory.from_json(json.loads(json.dumps(inv.to_json()))).to_json() == inv.to_json()

    samples = [http("istio-ingressgateway", "productpage-v1", 5, src_ns="istio-system", dst_ns="bookinfo"),
               http("productpage-v1", "istio-egressgateway", 1, ns="bookinfo", dst_ns="istio-egress",
                    service="istio-egressgateway", reporter="source")]
    g = build(Snapshot(GraphRequest(graphType="workload", namespaces=("bookinfo",)), samples, inventory=inv))
    ingress = g.find_node(workload="istio-ingressgateway")
    egress = g.find_node(workload="istio-egressgateway")
    assert ingress is not None and ingress.is_gateway and ingress.is_outside
    assert ingress.extra["gateway"] == {"ingressInfo": {"hostnames": ["*"]}}
    assert egress is not None and egress.is_gateway
    assert egress.extra["gateway"] == {"egressInfo": {"hostnames": ["api.example.com"]}}
    assert not any(n.is_gateway for n in g.nodes.values() if n.namespace == "bookinfo")

    # all namespaces read: nothing is outside
    assert read_inventory(emu.api_client(), None, cluster="east").outside_gateways == []
    # a user with rights namespace by namespace still gets the gateway in istio-system, and is told
    # that gateways elsewhere (istio-egress here) are not looked for
    emu.forbid(namespace="", resource="pods")
    emu.forbid(namespace="", resource="gateways")
    scoped = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert [(w.namespace, w.name) for w in scoped.outside_gateways] == [("istio-system", "istio-ingressgateway")]
    assert scoped.outside_gateway_configs == [] and len(scoped.workloads) == 6
    assert [o.name for o in scoped.istio_objects("Gateway")] == ["bookinfo-gateway"]
    assert scoped.hidden["*/gateway pods"].startswith("forbidden cluster-wide, read in istio-system only")
    assert "not marked" in scoped.hidden["*/Istio gateways"]
    # no right in istio-system either: no marks, said so, and the selection is still read whole
    emu.forbid(namespace="istio-system", resource="pods")
    hidden = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert hidden.outside_gateways == [] and len(hidden.workloads) == 6
    assert hidden.hidden["*/gateway pods"].startswith("forbidden cluster-wide: gateways elsewhere are not marked")


GATEWAY_API_CRD = {  # the Kubernetes Gateway API's Gateway kind, as a cluster with it installed serves it
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gateways.gateway.networking.k8s.io"},
    "spec": {"group": "gateway.networking.k8s.io", "scope": "Namespaced",
             "names": {"plural": "gateways", "kind": "Gateway", "singular": "gateway", "shortNames": ["gtw"]},
             "versions": [{"name": "v1", "served": True, "storage": True},
                          {"name": "v1beta1", "served": True, "storage": False}]},
}


def test_gateway_api_gateways_are_read_cluster_wide_apart_from_the_istio_config(kube_emulator: KubeEmulator,
                                                                                shared_dir: Path) -> None:
    """A shared Gateway API ingress in namespace "ingress" (Istio runs it as ingress-istio) fronts
    bookinfo: looking at bookinfo, its Gateway and its workload are read (for the graph's gateway
    marks), while bookinfo's Istio config list stays Istio's own."""
    emu = kube_emulator
    _bookinfo(emu, shared_dir)
    emu.add_crd(GATEWAY_API_CRD)
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": "ingress", "namespace": "ingress"},
             "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80,
                                                                  "hostname": "books.example.com"}]}})
    emu.add(_deployment("ingress-istio", "ingress", {"gateway.networking.k8s.io/gateway-name": "ingress",
                                                      "app": "ingress-istio"}))
    emu.run_workloads()
    inv = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert [(o.kind, o.namespace, o.name, o.api_version) for o in inv.k8s_gateways] == [
        ("K8sGateway", "ingress", "ingress", "gateway.networking.k8s.io/v1")]
    assert [(w.namespace, w.name) for w in inv.outside_gateways] == [("ingress", "ingress-istio")]
    assert "K8sGateway" not in {o.kind for o in inv.istio} and "ingress" not in {o.namespace for o in inv.istio}
    assert Inventory.from_json(json.loads(json.dumps(inv.to_json()))).to_json() == inv.to_json()
    everything = read_inventory(emu.api_client(), None, cluster="east")
    assert [o.name for o in everything.k8s_gateways] == ["ingress"] and everything.outside_gateways == []
    assert everything.workload("ingress", "ingress-istio") is not None
    # Gateway API gateways may be listed only in each namespace: those of the selection are still read
    emu.add({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": "books", "namespace": "bookinfo"},
             "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80}]}})
    emu.forbid(namespace="", resource="gateways")
    scoped = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert [(o.namespace, o.name) for o in scoped.k8s_gateways] == [("bookinfo", "books")]
    assert scoped.hidden["*/Gateway API gateways"].startswith("forbidden cluster-wide, read in bookinfo, istio-system")


class _Istiod(http.server.BaseHTTPRequestHandler):
    """A stand-in for istiod's monitoring port: ``/debug/syncz`` answers the server's ``syncz``."""

    def do_GET(self) -> None:  # noqa: N802 - the handler's protocol
        if self.path != "/debug/syncz":
            self.send_error(404)
            return
        body = json.dumps(self.server.syncz).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def istiod_debug() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Istiod)
    server.syncz = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _synced(pod: str, ns: str, **stale: str) -> dict[str, str]:
    """A syncz entry whose proxy acknowledged everything sent, but for the ``<kind>_acked`` given."""
    entry = {"cluster_id": "Kubernetes", "proxy": f"{pod}.{ns}", "istio_version": "1.24.2"}
    for kind in ("cluster", "listener", "route", "endpoint"):
        entry[f"{kind}_sent"] = entry[f"{kind}_acked"] = f"{kind}-nonce-7"
    entry.update(stale)
    return entry


def test_proxy_sync_state_is_read_from_istiod_and_degrades_health(
        kube_emulator: KubeEmulator, shared_dir: Path, istiod_debug: http.server.ThreadingHTTPServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """istiod says reviews-v1's proxy never acknowledged its routes: as in Kiali, that workload is
    Degraded ("1 proxy not in sync with istiod") while productpage, in sync, stays Healthy; a pod
    istiod does not list (details) is unknown. Read through the API server's pod proxy to istiod's
    monitoring port; without the right to use it, the state is unknown and the user is told why."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.graph import model as gm
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.mesh.snapshot import Snapshot
    from tests.graph_samples import http as sample

    emu = kube_emulator
    _bookinfo(emu, shared_dir)
    emu.add(_deployment("istiod", "istio-system", {"app": "istiod", "istio": "pilot"}))
    emu.run_workloads("istio-system")
    pods = {p["metadata"]["labels"]["app"]: p["metadata"]["name"]
            for p in emu.objects("pods") if p["metadata"]["labels"].get("version") in (None, "v1")}
    emu.proxy_pod("istio-system", pods["istiod"], 15014, f"http://127.0.0.1:{istiod_debug.server_address[1]}")
    istiod_debug.syncz = [  # type: ignore[attr-defined]
        _synced(pods["productpage"], "bookinfo"),
        _synced(pods["reviews"], "bookinfo", route_acked=""),
        _synced("gone-pod", "bookinfo"), {"proxy": "not a pod name"}, "junk"]
    inv = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert inv.hidden == {}
    by_name = {w.name: w for w in inv.workloads}
    assert by_name["productpage-v1"].pods[0].proxy_synced is True
    assert by_name["productpage-v1"].synced_proxies == 1
    reviews = by_name["reviews-v1"].pods[0]
    assert reviews.proxy_synced is False and reviews.proxy_sync["RDS"] == "Stale (Never Acknowledged)"
    assert by_name["details-v1"].pods[0].proxy_sync == {} and by_name["details-v1"].synced_proxies == -1
    assert Inventory.from_json(json.loads(json.dumps(inv.to_json()))).to_json() == inv.to_json()
    from meshdesk.commands.inventory import render_table

    synced_column = {line.split()[2]: line.split()[7] for line in render_table(inv).splitlines()[1:7]}
    assert synced_column == {"productpage-v1": "1/1", "reviews-v1": "0/1", "details-v1": "-",
                             "ratings-v1": "-", "reviews-v2": "-", "reviews-v3": "-"}

    samples = [sample("productpage-v1", "reviews-v1", 10, ns="bookinfo"),
               sample("productpage-v1", "details-v1", 10, ns="bookinfo")]
    g = build(Snapshot(GraphRequest(graphType="workload", namespaces=("bookinfo",)), samples, inventory=inv))
    health = {n.workload: n.health for n in g.nodes.values() if n.workload}
    assert health["reviews-v1"].status == gm.DEGRADED
    assert "1 proxy not in sync with istiod" in health["reviews-v1"].reasons
    assert health["productpage-v1"].status == gm.HEALTHY and health["details-v1"].status == gm.HEALTHY

    # the next refresh within 20 s uses istiod's answer again, as often as Kiali asks
    emu.calls.clear()
    soon = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert soon.workload("bookinfo", "reviews-v1").pods[0].proxy_synced is False  # type: ignore[union-attr]
    assert not any(path.endswith("/debug/syncz") for _, path in emu.calls)

    monkeypatch.setattr(inventory_source, "SYNCZ_REUSE_S", 0.0)  # later: asked again
    emu.forbid(resource="pods/proxy")
    denied = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert denied.hidden["*/proxy sync state"].startswith("forbidden")
    assert all(p.proxy_sync == {} for w in denied.workloads for p in w.pods)
    assert len(denied.workloads) == 6
    # an istiod the API server could not reach is not asked again at every refresh
    emu.clear_faults()
    emu.calls.clear()
    again = read_inventory(emu.api_client(), ["bookinfo"], cluster="east")
    assert again.hidden["*/proxy sync state"].startswith("forbidden")
    assert not any(path.endswith("/debug/syncz") for _, path in emu.calls)
    assert len(again.workloads) == 6


def _workload_pods(emu: KubeEmulator, ns: str, owner: dict[str, Any], name: str, phase: str, ready: bool,
                   labels: dict[str, str] | None = None) -> None:
    emu.add({"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": name, "namespace": ns, "labels": labels or {"app": "x"},
                          "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                               "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                               "controller": True}]},
             "spec": {"containers": [{"name": "main", "image": "img"}]},
             "status": {"phase": phase, "containerStatuses": [{"name": "main", "ready": ready, "restartCount": 0}]}})


def test_jobs_and_other_kinds_are_counted_as_kiali_counts_them(kube_emulator: KubeEmulator) -> None:
    """A finished Job is healthy (its pods succeeded: Kiali counts succeeded pods as available), so is
    a parallel one half done; a suspended Job and a DaemonSet for no node want no pod: Not Ready. They
    showed red (Failure) or green."""
    from meshdesk.mesh.graph.health import workload_status
    from meshdesk.mesh.graph.model import FAILURE, HEALTHY, NOT_READY

    emu = kube_emulator
    emu.add_namespace("batch")
    tmpl = {"spec": {"containers": [{"name": "main", "image": "img"}]}}
    done = emu.add({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "batch"},
                    "spec": {"template": tmpl}, "status": {"succeeded": 1}})
    _workload_pods(emu, "batch", done, "migrate-abcde", "Succeeded", False)
    half = emu.add({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "index", "namespace": "batch"},
                    "spec": {"parallelism": 2, "completions": 3, "template": tmpl},
                    "status": {"active": 2, "succeeded": 1}})
    for i, phase in enumerate(("Succeeded", "Running", "Running")):
        _workload_pods(emu, "batch", half, f"index-{i}", phase, phase == "Running")
    failed = emu.add({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "broken", "namespace": "batch"},
                      "spec": {"template": tmpl}, "status": {"failed": 1}})
    _workload_pods(emu, "batch", failed, "broken-abcde", "Failed", False)
    emu.add({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "paused", "namespace": "batch"},
             "spec": {"suspend": True, "template": tmpl}})
    emu.add({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "gpu-agent", "namespace": "batch"},
             "spec": {"template": tmpl}, "status": {"desiredNumberScheduled": 0, "numberAvailable": 0}})
    emu.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "oneoff", "namespace": "batch"},
             "spec": {"containers": [{"name": "main", "image": "img"}]}, "status": {"phase": "Failed"}})
    got = {w.name: w for w in read_inventory(emu.api_client(), ["batch"], cluster="c").workloads}
    assert (got["migrate"].replicas, got["migrate"].available) == (1, 1)
    assert (got["index"].replicas, got["index"].available) == (3, 3)
    assert {n: workload_status([w])[0] for n, w in got.items()} == {
        "migrate": HEALTHY, "index": HEALTHY, "broken": FAILURE, "paused": NOT_READY, "gpu-agent": NOT_READY,
        "oneoff": FAILURE}  # a bare pod that failed


def test_workloads_whose_controllers_are_hidden_are_counted_from_their_pods(kube_emulator: KubeEmulator) -> None:
    """May not list Deployments, or Jobs: the running, ready pods say the workload is fine (it was
    shown failing, one replica wanted and none available), and a CronJob's runs stay the CronJob's."""
    from meshdesk.mesh.graph.health import workload_status
    from meshdesk.mesh.graph.model import HEALTHY

    emu = kube_emulator
    emu.add_namespace("shop")
    emu.add(_deployment("web", "shop", {"app": "web"}, replicas=3))
    emu.add({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "shop"},
             "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {
                 "metadata": {"labels": {"app": "nightly"}}, "spec": {"containers": [{"name": "m", "image": "i"}]}}}}}})
    emu.run_workloads()
    emu.forbid(resource="deployments")
    emu.forbid(resource="jobs")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="c")
    got = {(w.kind, w.name): w for w in inv.workloads}
    assert sorted(got) == [("CronJob", "nightly"), ("Deployment", "web")]
    web = got[("Deployment", "web")]
    assert (web.replicas, web.available, len(web.pods)) == (3, 3, 3)
    assert workload_status([web]) == (HEALTHY, "")
    assert any("deployments" in k for k in inv.hidden) and any("jobs" in k for k in inv.hidden)


def test_argo_rollouts_are_made_from_their_replicasets(kube_emulator: KubeEmulator) -> None:
    """Rollouts are not listed: one scaled to zero still shows (Not Ready), and a healthy one beside an
    evicted pod is counted from its ReplicaSets (it was Degraded)."""
    from meshdesk.mesh.graph.health import workload_status
    from meshdesk.mesh.graph.model import HEALTHY, NOT_READY

    emu = kube_emulator
    emu.add_namespace("shop")
    owner = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "controller": True, "uid": "r1"}]
    def tmpl(version: str) -> dict[str, Any]:
        return {"metadata": {"labels": {"app": "cart", "version": version, "rollouts-pod-template-hash": version}},
                "spec": {"containers": [{"name": "m", "image": "i"}]}}

    for name, rollout, replicas, version in (("cart-aaa", "cart", 0, "v1"), ("cart-bbb", "cart", 2, "v2"),
                                             ("idle-ccc", "idle", 0, "v1")):
        rs = emu.add({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                      "metadata": {"name": name, "namespace": "shop",
                                   "ownerReferences": [{**owner[0], "name": rollout}]},
                      "spec": {"replicas": replicas, "template": tmpl(version)},
                      "status": {"replicas": replicas, "availableReplicas": replicas}})
        for i in range(replicas):
            _workload_pods(emu, "shop", rs, f"{name}-{i}", "Running", True, {"app": "cart"})
    _workload_pods(emu, "shop", emu.get("replicasets", "shop", "cart-bbb", "apps"), "cart-bbb-old", "Failed", False,
                   {"app": "cart"})
    got = {(w.kind, w.name): w for w in read_inventory(emu.api_client(), ["shop"], cluster="c").workloads}
    assert sorted(got) == [("Rollout", "cart"), ("Rollout", "idle")]
    assert (got[("Rollout", "cart")].replicas, got[("Rollout", "cart")].available) == (2, 2)
    # its labels are those of the revision that runs (an old one scaled to zero said another version)
    assert got[("Rollout", "cart")].version == "v2" and "rollouts-pod-template-hash" not in got[("Rollout", "cart")].labels
    assert workload_status([got[("Rollout", "cart")]])[0] == HEALTHY
    assert workload_status([got[("Rollout", "idle")]])[0] == NOT_READY
    assert got[("Rollout", "cart")].app == "cart"


def test_labels_proxy_versions_and_ambient_pods_read_as_istio_reads_them(kube_emulator: KubeEmulator,
                                                                        capsys: pytest.CaptureFixture[str],
                                                                        tmp_path: Path) -> None:
    """app.kubernetes.io/name names the app before app (Istio's and Kiali's order); a proxy image
    pinned by digest has no version to show (it showed the digest); a pod that opted out of ambient in
    an ambient namespace has no sidecar, one enrolled by itself elsewhere is ambient."""
    from meshdesk.cli import main

    emu = kube_emulator
    emu.add_namespace("shop", {"istio.io/dataplane-mode": "ambient"})
    emu.add_namespace("plain")
    emu.add(_deployment("front", "shop", {"app": "frontend-web", "version": "stable",
                                          "app.kubernetes.io/name": "frontend", "app.kubernetes.io/version": "1.2.0"}))
    emu.add(_deployment("legacy", "shop", {"app": "legacy", "istio.io/dataplane-mode": "none"}))
    emu.add(_deployment("joined", "plain", {"app": "joined"}))
    emu.run_workloads()
    pods = {p["metadata"]["name"]: p for p in emu.objects("pods")}
    for name, p in pods.items():
        meta = p["metadata"]
        if name.startswith("front"):
            p["spec"]["containers"].append({"name": "istio-proxy", "image": "registry/proxyv2@sha256:" + "ab" * 32})
            p["status"]["containerStatuses"].append({"name": "istio-proxy", "ready": True, "restartCount": 0})
        if name.startswith("legacy"):
            meta["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}  # no ambient redirection
        if name.startswith("joined"):
            meta["annotations"] = {"ambient.istio.io/redirection": "enabled"}
        emu.add(p, meta["namespace"])
    inv = read_inventory(emu.api_client(), ["shop", "plain"], cluster="c")
    front = next(w for w in inv.workloads if w.name == "front")
    assert (front.app, front.version) == ("frontend", "1.2.0")
    assert front.pods[0].proxy_version == ""
    config = emu.write_kubeconfig(tmp_path / "config")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "shop", "-n", "plain"]) == 0
    rows = {line.split()[2]: line.split()[5] for line in capsys.readouterr().out.splitlines()[1:] if line.split()}
    assert rows["legacy"] == "no" and rows["joined"] == "ambient" and rows["front"] == "yes"


def test_kubectls_copy_of_an_applied_manifest_is_never_kept(kube_emulator: KubeEmulator) -> None:
    """kubectl apply keeps the whole manifest in an annotation, inline env values included: a snapshot
    handed to a colleague carried the database password. It is dropped when read; others stay."""
    import json

    emu = kube_emulator
    emu.add_namespace("shop")
    secret = "hunter2-LEAK"
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "db", "namespace": "shop"},
                "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
                    {"name": "pg", "image": "postgres", "env": [{"name": "POSTGRES_PASSWORD", "value": secret}]}]}}}}
    emu.add({**manifest, "metadata": {**manifest["metadata"], "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(manifest),
        "health.kiali.io/rate": "5XX,5,10,http,inbound"}}})
    emu.run_workloads()
    inv = read_inventory(emu.api_client(), ["shop"], cluster="c")
    assert secret not in json.dumps(inv.to_json())
    db = inv.workload("shop", "db")
    assert db is not None and db.annotations == {"health.kiali.io/rate": "5XX,5,10,http,inbound"}


def test_service_port_findings_from_the_pods_the_cluster_runs(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    """Container ports are read from the pods, so a Service sending to a port no Deployment behind it
    declares is found (Kiali's KIA0701), and a meshed Service's port that names no protocol (KIA0601);
    Istio's own bookinfo is clean."""
    from meshdesk.mesh.validations import validate

    _bookinfo(kube_emulator, shared_dir)
    kube_emulator.load_yaml("""
apiVersion: v1
kind: Service
metadata: {name: reviews-admin, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports:
  - {name: admin, port: 8081, targetPort: 9081}
  - {name: http, port: 80, targetPort: 9080}
""")
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo"], cluster="east")
    reviews = inv.workload("bookinfo", "reviews-v1")
    assert reviews is not None
    app = next(c for c in reviews.pods[0].containers if c.name == "reviews")
    assert app.ports == [9080]
    result = validate(inv)
    assert [k for k, v in result.items() if k[0] == "Service" and v.checks] == [("Service", "bookinfo", "reviews-admin")]
    checks = result[("Service", "bookinfo", "reviews-admin")].checks
    assert [(c.code, c.path) for c in checks] == [("KIA0601", "spec/ports[0]"), ("KIA0701", "spec/ports[0]")]
    # the ports travel in a snapshot's inventory; an older snapshot without them judges no ports
    again = Inventory.from_json(inv.to_json())
    assert [c.code for c in validate(again)[("Service", "bookinfo", "reviews-admin")].checks] == ["KIA0601", "KIA0701"]
    old = inv.to_json()
    for w in old["workloads"]:
        for pod in w["pods"]:
            for c in pod["containers"]:
                del c["ports"], c["port_names"]
    assert [c.code for c in validate(Inventory.from_json(old))[("Service", "bookinfo", "reviews-admin")].checks] == \
        ["KIA0601"]


def test_istio_config_outside_the_selection_shapes_the_graph(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    """As Kiali reads it from the whole cluster: a ServiceEntry kept in its own namespace names the
    external host a selected workload calls, and a DestinationRule and VirtualService written in
    istio-system badge the selected service. They are not listed or validated as the selection's own,
    travel in snapshots, and a user who may not list them cluster-wide is told they are not applied."""
    from meshdesk.mesh.graph import build
    from meshdesk.mesh.telemetry import Sample
    from meshdesk.mesh.validations import validate
    from tests.graph_samples import http, labels, snapshot

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    for ns in ("shop", "egress", "istio-system"):
        emu.add_namespace(ns, {"istio-injection": "enabled"} if ns == "shop" else {})
    emu.add(_deployment("web-v1", "shop", {"app": "web", "version": "v1"}))
    emu.add(_deployment("cart-v1", "shop", {"app": "cart", "version": "v1"}))
    emu.load_yaml("""
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments-api, namespace: egress}
spec:
  hosts: [api.pay.example.com]
  location: MESH_EXTERNAL
  ports: [{number: 443, name: https, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart-cb, namespace: istio-system}
spec: {host: cart.shop.svc.cluster.local, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 5}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart-timeout, namespace: istio-system}
spec:
  hosts: [cart.shop.svc.cluster.local]
  http: [{route: [{destination: {host: cart.shop.svc.cluster.local}}], timeout: 5s}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web-to-payments, namespace: shop}
spec:
  hosts: [api.pay.example.com]
  tls: [{match: [{sniHosts: [api.pay.example.com]}], route: [{destination: {host: api.pay.example.com}}]}]
""")
    emu.run_workloads()
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    assert [(o.kind, o.namespace, o.name) for o in inv.istio] == [("VirtualService", "shop", "web-to-payments")]
    assert sorted((o.kind, o.namespace, o.name) for o in inv.outside_config) == [
        ("DestinationRule", "istio-system", "cart-cb"), ("ServiceEntry", "egress", "payments-api"),
        ("VirtualService", "istio-system", "cart-timeout")]
    # the route to the ServiceEntry's host is no route to nowhere
    assert validate(inv)[("VirtualService", "shop", "web-to-payments")].checks == []
    assert all(k[1] == "shop" for k in validate(inv))

    ext = labels("web-v1", None, reporter="source", request_protocol="http", response_code="200",
                 response_flags="-", grpc_response_status="0")
    ext.update(destination_service="api.pay.example.com", destination_service_name="api.pay.example.com",
               destination_service_namespace="unknown", destination_cluster="unknown")
    samples = [http("web-v1", "cart-v1", 5), Sample("istio_requests_total", ext, 3.0)]
    for saved in (inv, Inventory.from_json(inv.to_json())):
        g = build(snapshot(samples, inventory=saved, injectServiceNodes=True))
        entry = next(n for n in g.nodes.values() if n.is_service_entry is not None)
        assert (entry.service, entry.is_service_entry.namespace) == ("payments-api", "egress")
        cart = next(n for n in g.nodes.values() if n.service == "cart")
        assert cart.has_virtual_service and cart.extra.get("hasCB") and cart.extra.get("hasRequestTimeout")

    # no cluster-wide right to list DestinationRules: the selection's are read, and the user is told
    emu.forbid(namespace="", resource="destinationrules")
    emu.load_yaml("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec: {host: cart}
""")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    assert [o.name for o in inv.istio if o.kind == "DestinationRule"] == ["cart"]
    assert not any(o.kind == "DestinationRule" for o in inv.outside_config)
    assert "outside the selected namespaces are not applied" in inv.hidden["~/destinationrules"]


def test_mesh_wide_peer_authentications_are_read_outside_the_selection(kube_emulator: KubeEmulator,
                                                                      shared_dir: Path) -> None:
    """The root namespace's PeerAuthentications turn mTLS on or off for the whole mesh, so they are read
    when istio-system is not chosen: with the same calls (the one list is made cluster-wide), kept apart
    from the selection's (not listed or validated as its own), carried in snapshots; a user who may not
    list them cluster-wide gets the selection's and is told what is missed."""
    from meshdesk.mesh.validations import validate

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    for ns in ("shop", "istio-system"):
        emu.add_namespace(ns, {"istio-injection": "enabled"} if ns == "shop" else {})
    emu.load_yaml("""
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: PERMISSIVE}}
""")
    reader = InventoryReader(emu.api_client(), ["shop"], cluster="east")
    inv = reader.read()
    assert [(o.kind, o.namespace) for o in inv.istio] == [("PeerAuthentication", "shop")]
    assert [(o.kind, o.namespace, o.spec) for o in inv.outside_config] == [
        ("PeerAuthentication", "istio-system", {"mtls": {"mode": "STRICT"}})]
    listed = [p for _, p in emu.calls if p.endswith("/peerauthentications")]
    assert listed == ["/apis/security.istio.io/v1/peerauthentications"]  # one call, as before (namespaced)
    assert [o.namespace for o in Inventory.from_json(inv.to_json()).mesh_config("PeerAuthentication")] == [
        "shop", "istio-system"]
    # a rule turning mTLS off for shop meets the mesh's STRICT policy (shop's own takes mTLS too)
    emu.load_yaml("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: plain, namespace: shop}
spec: {host: "*.shop.svc.cluster.local", trafficPolicy: {tls: {mode: DISABLE}}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: UNSET}}
""")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    for saved in (inv, Inventory.from_json(inv.to_json())):
        assert [c.code for c in validate(saved)[("DestinationRule", "shop", "plain")].checks] == ["KIA0208"]

    emu.forbid(namespace="", resource="peerauthentications")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    assert [o.namespace for o in inv.mesh_config("PeerAuthentication")] == ["shop"]
    assert "are not weighed by the mTLS checks" in inv.hidden["~/peerauthentications"]
    assert validate(inv)[("DestinationRule", "shop", "plain")].checks == []


def test_a_namespace_user_still_has_policies_judged_by_their_namespaces_mtls(kube_emulator: KubeEmulator,
                                                                             shared_dir: Path) -> None:
    """A user who may list PeerAuthentications only namespace by namespace: the selection's are read,
    and an AuthorizationPolicy naming principals where the namespace turns mTLS off is still an error
    (KIA0105). The forbidden cluster-wide list used to count as "the selection's are unknown" too, so
    the check went silent; the banner says what is missed: those outside the selected namespaces."""
    from meshdesk.mesh.validations import validate

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add_namespace("istio-system")
    emu.load_yaml("""
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: from-frontend, namespace: shop}
spec:
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/shop/sa/frontend"]}
""")
    emu.forbid(namespace="", resource="peerauthentications")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="east")
    assert set(inv.hidden) >= {"~/peerauthentications"} and "*/peerauthentications" not in inv.hidden
    assert not inv.unread("shop", ["peerauthentications"]) and inv.unread("istio-system", ["peerauthentications"])
    for saved in (inv, Inventory.from_json(inv.to_json())):
        found = validate(saved)[("AuthorizationPolicy", "shop", "from-frontend")].checks
        assert ("KIA0105", "spec/rules[0]/from[0]/source/principals") in [(c.code, c.path) for c in found]


def test_ambient_findings_from_a_cluster_survive_a_snapshot(kube_emulator: KubeEmulator, shared_dir: Path) -> None:
    """A WasmPlugin is read with the other optional Istio kinds, and what the ambient checks read (the
    namespace's, Service's and pods' labels and annotations) travels in a snapshot's inventory."""
    from meshdesk.mesh.validations import WORKLOAD, validate

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("travel", {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"})
    search = _deployment("search", "travel", {"app": "search"})
    search["spec"]["template"]["metadata"]["annotations"] = {"ambient.istio.io/redirection": "enabled"}
    emu.add(search)
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "search", "namespace": "travel"},
             "spec": {"selector": {"app": "search"}, "ports": [{"name": "http", "port": 8080}]}})
    emu.add({"apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin",
             "metadata": {"name": "filter", "namespace": "travel"},
             "spec": {"selector": {"matchLabels": {"app": "search"}}, "url": "oci://example.com/filter:1"}})
    emu.run_workloads("travel")
    inv = read_inventory(emu.api_client(), ["travel"], cluster="c")
    assert [(o.kind, o.api_version) for o in inv.istio] == [("WasmPlugin", "extensions.istio.io/v1alpha1")]
    for read in (inv, Inventory.from_json(json.loads(json.dumps(inv.to_json())))):
        result = validate(read)
        # waypoints ignore a selector; and the waypoint the namespace sends its workloads to is not there
        assert [c.code for c in result[("WasmPlugin", "travel", "filter")].checks] == ["KIA1116"]
        assert [c.code for c in result[(WORKLOAD, "travel", "search")].checks] == ["KIA1313"]


def test_a_waypoint_of_a_namespace_not_chosen_is_judged_from_the_cluster(kube_emulator: KubeEmulator,
                                                                         shared_dir: Path) -> None:
    """bank's workloads ask for waypoints of infra, a namespace not chosen (``istio.io/use-waypoint`` with
    ``istio.io/use-waypoint-namespace``). Kiali finds waypoints in the whole cluster, and so does the read (for
    the graph): audit-v1's, which does not run there, is KIA1313, as in Kiali; ledger-v1's, which does, is
    fine; a snapshot of the read says the same. Were gateways not listable cluster-wide, neither is judged."""
    from meshdesk.mesh.validations import WORKLOAD, validate
    from tests import gateway_api_crds

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    gateway_api_crds.install(emu)
    emu.add_namespace("bank", {"istio.io/dataplane-mode": "ambient"})
    emu.add_namespace("infra", {"istio.io/dataplane-mode": "ambient"})
    for name, waypoint in (("ledger", "shared-wp"), ("audit", "missing-wp")):
        d = _deployment(f"{name}-v1", "bank", {"app": name, "version": "v1", "istio.io/use-waypoint": waypoint,
                                               "istio.io/use-waypoint-namespace": "infra"})
        d["spec"]["template"]["metadata"]["annotations"] = {"ambient.istio.io/redirection": "enabled"}
        emu.add(d)
    emu.add(_deployment("shared-wp", "infra", {"gateway.istio.io/managed": "istio.io-mesh-controller",
                                              "gateway.networking.k8s.io/gateway-name": "shared-wp",
                                              "istio.io/dataplane-mode": "none"}))
    emu.run_workloads()

    def findings() -> list[dict[str, list[str]]]:
        inv = read_inventory(emu.api_client(), ["bank"], cluster="east")
        return [{w: [c.code for c in validate(read)[(WORKLOAD, "bank", w)].checks] for w in ("ledger-v1", "audit-v1")}
                for read in (inv, Inventory.from_json(json.loads(json.dumps(inv.to_json()))))]

    assert findings() == [{"ledger-v1": [], "audit-v1": ["KIA1313"]}] * 2
    emu.forbid(namespace="", resource="pods")
    assert findings() == [{"ledger-v1": [], "audit-v1": []}] * 2


def test_a_live_read_lists_the_istio_kinds_kiali_lists_beside_routing(kube_emulator: KubeEmulator,
                                                                      shared_dir: Path) -> None:
    """The app's live reads left RequestAuthentications, Telemetry, EnvoyFilters, WorkloadGroups and
    WasmPlugins out (only snapshots and the demo had them): Kiali's Istio config list shows them, and
    their checks (a selector that selects nothing, ambient waypoints) need them. One the user may not
    list is said, as any kind is; the rest loads."""
    from meshdesk.mesh.validations import validate

    emu = kube_emulator
    emu.load_crds(shared_dir / CRDS)
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add({"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication",
             "metadata": {"name": "jwt", "namespace": "shop"},
             "spec": {"selector": {"matchLabels": {"app": "nothing-here"}},
                      "jwtRules": [{"issuer": "https://issuer.example"}]}})
    emu.add({"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry",
             "metadata": {"name": "logs", "namespace": "shop"},
             "spec": {"accessLogging": [{"providers": [{"name": "envoy"}]}]}})
    inv = read_inventory(emu.api_client(), ["shop"], cluster="c")
    assert {(o.kind, o.name) for o in inv.istio} == {("RequestAuthentication", "jwt"), ("Telemetry", "logs")}
    assert [c.code for c in validate(inv)[("RequestAuthentication", "shop", "jwt")].checks] == ["KIA0004"]
    emu.forbid(resource="telemetries")
    inv = read_inventory(emu.api_client(), ["shop"], cluster="c")
    assert [o.kind for o in inv.istio] == ["RequestAuthentication"]
    assert any("telemetries" in where for where in inv.hidden)


def test_inventory_warnings_name_the_command_as_graphs_do(kube_emulator: KubeEmulator, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """QA finding 13: `inventory` said "warning: ..." where `graph` says "meshdesk graph: warning: ...";
    in a pipeline of several commands the line did not say which one spoke."""
    from meshdesk.cli import main

    kube_emulator.add(_deployment("web", "shop", {"app": "web"}))
    kube_emulator.run_workloads()
    kube_emulator.forbid(namespace="shop", resource="services")
    config = kube_emulator.write_kubeconfig(tmp_path / "config")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "shop"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "meshdesk inventory: hidden: shop/services: forbidden" in [line[:len("meshdesk inventory: hidden: "
                                                                                "shop/services: forbidden")]
                                                                       for line in err]
    assert any(line.startswith("meshdesk inventory: warning: Istio was not found") for line in err), err
    assert all(line.startswith("meshdesk inventory: ") for line in err), err
    assert main(["inventory", "--demo", "-n", "nosuch"]) == 0
    said = capsys.readouterr()
    # no workloads: said on stderr, as kubectl's "No resources found", not printed as a line of the tables
    assert said.err == ("meshdesk inventory: no workloads\n"
                        "meshdesk inventory: warning: namespace not in the demo cluster: nosuch\n")
    assert "No workloads" not in said.out and not said.out.startswith("\n")


def test_inventory_command_reads_comma_separated_namespaces(kube_emulator: KubeEmulator, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """QA: ``inventory -n shop,data`` (as ``graph -n`` and ``validate -n`` take it) read one namespace
    "shop,data" that does not exist and printed "No workloads."; ``-n ""`` listed every kind as hidden
    ("not found: list pods in : ...")."""
    from meshdesk.cli import main

    kube_emulator.add(_deployment("web", "shop", {"app": "web"}))
    kube_emulator.add(_deployment("db", "data", {"app": "db"}))
    kube_emulator.run_workloads()
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "shop,data", "--json"]) == 0
    out, err = capsys.readouterr()
    inv = Inventory.from_json(json.loads(out))
    assert sorted(w.name for w in inv.workloads) == ["db", "web"] and "does not exist" not in err
    assert main(["inventory", "--kubeconfig", str(config), "-n", "", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "hidden" not in err and {"shop", "data"} <= {n.name for n in Inventory.from_json(json.loads(out)).namespaces}


def test_the_table_shows_unread_pods_as_unknown_not_none(kube_emulator: KubeEmulator, shared_dir: Path,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA: with pods forbidden, every workload showed PODS 0 READY 0/0, as if it ran nothing."""
    from meshdesk.cli import main

    _bookinfo(kube_emulator, shared_dir)
    kube_emulator.forbid(namespace="bookinfo", resource="pods")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "bookinfo"]) == 0
    out, err = capsys.readouterr()
    row = next(line.split() for line in out.splitlines() if " details-v1 " in line)
    assert row[3:5] == ["-", "-"], out
    assert "0/0" not in out.split("\n\n")[0]
    assert "hidden: bookinfo/pods: forbidden" in err


def test_a_server_error_on_one_namespaces_pods_is_said_once_under_that_namespace(
        kube_emulator: KubeEmulator, shared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """QA: a 500 on bookinfo's pods was said twice, "hidden: */pods: unavailable" (as if every namespace
    failed) and "warning: pods could not be read"."""
    from meshdesk.cli import main

    _bookinfo(kube_emulator, shared_dir)
    kube_emulator.fail(500, path="/api/v1/namespaces/bookinfo/pods")
    inv = read_inventory(kube_emulator.api_client(), ["bookinfo"], cluster="c")
    assert set(inv.hidden) >= {"bookinfo/pods"} and "*/pods" not in inv.hidden
    assert inv.hidden["bookinfo/pods"].startswith("unavailable:")
    config = kube_emulator.write_kubeconfig(tmp_path / "config", context="lab")
    assert main(["inventory", "--kubeconfig", str(config), "-n", "bookinfo"]) == 0
    err = capsys.readouterr().err
    assert "meshdesk inventory: hidden: bookinfo/pods: unavailable" in err
    assert [line for line in err.splitlines() if "pods" in line and "gateway" not in line and "istiod" not in line] \
        == [line for line in err.splitlines() if line.startswith("meshdesk inventory: hidden: bookinfo/pods: unavailable")], err


def test_inventory_command_reads_a_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """s18: `inventory` had no --snapshot although a snapshot may hold the inventory (graph and validate
    take one). Its errors are graph --snapshot's (exit 2, one line naming the file), and a snapshot taken
    without an inventory says so rather than list an empty mesh."""
    from meshdesk.cli import main

    saved = tmp_path / "shop.json"
    assert main(["graph", "--demo", "-n", "shop,hello", "--save-snapshot", str(saved)]) == 0
    capsys.readouterr()
    assert main(["inventory", "--snapshot", str(saved), "--json"]) == 0
    inv = Inventory.from_json(json.loads(capsys.readouterr().out))
    assert {"hello", "shop"} <= {w.namespace for w in inv.workloads}
    assert main(["inventory", "--snapshot", str(saved), "-n", "shop"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.split("\n\n")[0].splitlines()[1:]]
    assert rows and {r[0] for r in rows} == {"shop"}
    assert main(["inventory", "--snapshot", str(saved), "-n", "travel"]) == 2
    assert "the snapshot holds no inventory of that namespace (it has hello, shop)" in capsys.readouterr().err
    bare = json.loads(saved.read_text())
    del bare["inventory"]
    without = tmp_path / "bare.json"
    without.write_text(json.dumps(bare))
    cut = tmp_path / "cut.json"
    cut.write_text('{"request": ')
    for path, says in ((without, "holds no inventory (it was taken without one)"), (cut, "is not valid JSON"),
                       (tmp_path / "missing.json", "does not exist")):
        assert main(["inventory", "--snapshot", str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and f"snapshot file {path} {says}" in err, err
        # the same words as graph --snapshot's for a file it cannot read
        if path != without:
            assert main(["graph", "--snapshot", str(path)]) == 2
            assert capsys.readouterr().err.replace("graph", "inventory") == err
    assert main(["inventory", "--snapshot", str(saved), "--demo"]) == 2
    assert "cannot be combined" in capsys.readouterr().err
