"""Kiali extensions (``kiali_ext_*`` telemetry, e.g. Skupper's): their traffic in the graph, as Kiali's
extensions finalizer adds it. The cases of Kiali's extensions appender test, in our own data, and the
rules of its code: root matching, unrooted sources, series counted once, rate options, the UI address."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshdesk.mesh.export import to_kiali
from meshdesk.mesh.graph import build, model
from meshdesk.mesh.inventory import Inventory, Service
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.telemetry import build_queries
from tests.graph_samples import CLUSTER, http, snapshot
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

SKUPPER = "skupper"
UI = "https://skupper.console.example"


def ext(metric: str, value: float, *, src: str = "router", src_ns: str = "shop", src_cluster: str = CLUSTER,
        dst: str = "db", dst_ns: str = "remote", dst_cluster: str = "west", root: bool = True,
        extension: str = SKUPPER, **extra: str) -> Sample:
    labels = {"extension": extension, "source_cluster": src_cluster, "source_namespace": src_ns,
              "source_name": src, "source_is_root": "true" if root else "false", "dest_cluster": dst_cluster,
              "dest_namespace": dst_ns, "dest_name": dst, "flags": "", "secure": "false"}
    labels.update(extra)
    return Sample(metric, labels, value)


def ext_http(value: float, code: str = "200", protocol: str = "http", **kw: Any) -> Sample:
    return ext("kiali_ext_requests_total", value, protocol=protocol, status_code=code, **kw)


def ext_tcp(value: float, metric: str = "kiali_ext_tcp_sent_total", **kw: Any) -> Sample:
    return ext(metric, value, **kw)


def svc(g: model.TrafficGraph, name: str, namespace: str) -> model.Node:
    found = [n for n in g.nodes.values() if n.node_type == model.NODE_SERVICE and n.service == name
             and n.namespace == namespace]
    assert len(found) == 1, f"{len(found)} service nodes {namespace}/{name}"
    return found[0]


def edges_from(g: model.TrafficGraph, n: model.Node) -> dict[tuple[str, str], model.Edge]:
    """(target's service or workload, protocol) -> edge."""
    out = {}
    for e in g.out_edges(n.id):
        t = g.nodes[e.target]
        out[(t.service or t.workload, e.protocol)] = e
    return out


def annotated(name: str, namespace: str = "shop", url: str = UI) -> Service:
    return Service(name, namespace, annotations={"extension.kiali.io/ui-url": url})


# --- Kiali's TestExtension, in our words: a root service sends HTTP and TCP through the extension ----


def test_a_root_service_gains_the_extensions_http_and_tcp_edges_and_its_ui_address() -> None:
    # the graph already has the extension's root: the router service, called from the shop's web
    istio = [http("web-v1", "router-v1", 5.0)]
    inventory = Inventory(cluster=CLUSTER, services=[annotated(SKUPPER)])
    g = build(snapshot(istio + [ext_http(100.0, secure="true"), ext_tcp(10000.0, dst="db-tcp", secure="true"),
                                ext_http(7.0, protocol="grpc", code="0", dst="rpc")],
                       inventory, graphType="versionedApp", injectServiceNodes=True, rateGrpc="none",
                       rateTcp="sent", extensions=(SKUPPER,)))
    router = svc(g, "router", "shop")
    out = edges_from(g, router)
    # one HTTP edge and one TCP edge out of the root; gRPC is not graphed (rateGrpc none)
    assert sorted(p for (_t, p) in out if _t != "router-v1") == ["http", "tcp"]
    assert out[("db", "http")].rates["http"] == pytest.approx(100.0)
    assert out[("db-tcp", "tcp")].rates["tcp"] == pytest.approx(10000.0)
    assert out[("db", "http")].is_mtls == pytest.approx(100.0)
    assert ("rpc", "grpc") not in out
    assert router.extra["isExtension"] == {"name": SKUPPER, "url": UI}
    db = svc(g, "db", "remote")
    assert db.cluster == "west" and db.is_outside
    assert db.extra["isExtension"] == {"name": SKUPPER, "url": UI}
    exported = {n["data"]["id"]: n["data"] for n in to_kiali(g)["elements"]["nodes"]}
    assert exported[router.id]["isExtension"] == {"name": SKUPPER, "url": UI}
    assert exported[db.id]["isExtension"] == {"name": SKUPPER, "url": UI}
    # nodes the extension did not touch carry no such mark
    assert all("isExtension" not in d for d in exported.values() if d.get("workload") == "web-v1")


def test_the_ui_address_may_be_on_the_root_service_itself_and_is_left_out_when_nowhere() -> None:
    istio = [http("web-v1", "router-v1", 5.0)]
    on_root = Inventory(cluster=CLUSTER, services=[annotated("router", url="https://router.ui")])
    g = build(snapshot(istio + [ext_http(3.0)], on_root, injectServiceNodes=True, extensions=(SKUPPER,)))
    assert svc(g, "router", "shop").extra["isExtension"] == {"name": SKUPPER, "url": "https://router.ui"}
    # an annotated service of another namespace is not the root's
    elsewhere = Inventory(cluster=CLUSTER, services=[annotated(SKUPPER, namespace="other")])
    g = build(snapshot(istio + [ext_http(3.0)], elsewhere, injectServiceNodes=True, extensions=(SKUPPER,)))
    router = svc(g, "router", "shop")
    assert router.extra["isExtension"] == {"name": SKUPPER}
    exported = {n["data"]["id"]: n["data"] for n in to_kiali(g)["elements"]["nodes"]}
    assert exported[router.id]["isExtension"] == {"name": SKUPPER}


# --- which node is the root --------------------------------------------------------------------------


def test_a_root_named_as_an_app_joins_that_apps_node_rather_than_a_new_service_node() -> None:
    # versioned app graph without service nodes: the router is only a versioned app node
    g = build(snapshot([http("web-v1", "router-v1", 5.0), ext_http(20.0)], graphType="versionedApp",
                       extensions=(SKUPPER,)))
    routers = [n for n in g.nodes.values() if "router" in (n.app, n.service)]
    assert len(routers) == 1 and routers[0].node_type == model.NODE_APP
    assert edges_from(g, routers[0])[("db", "http")].rates["http"] == pytest.approx(20.0)
    assert routers[0].extra["isExtension"] == {"name": SKUPPER}


def test_a_root_in_another_cluster_is_matched_in_its_namespace_and_its_own_cluster_first() -> None:
    # the root's labels name cluster "ext-id" (the extension's own id for the cluster): no node there,
    # so the router of namespace shop in any cluster is the root
    g = build(snapshot([http("web-v1", "router-v1", 5.0), ext_http(2.0, src_cluster="ext-id")],
                       graphType="workload", extensions=(SKUPPER,)))
    router = [n for n in g.nodes.values() if n.workload == "router-v1"]
    assert len(router) == 1 and router[0].cluster == CLUSTER
    assert edges_from(g, router[0])[("db", "http")].rate == pytest.approx(2.0)


def test_a_root_the_graph_has_no_node_for_is_drawn_as_a_service_node_of_its_own() -> None:
    g = build(snapshot([http("web-v1", "cart-v1", 5.0), ext_http(4.0, src="gateway", src_ns="edge")],
                       extensions=(SKUPPER,)))
    gateway = svc(g, "gateway", "edge")
    assert gateway.is_root and gateway.is_outside
    assert edges_from(g, gateway)[("db", "http")].rate == pytest.approx(4.0)


def test_a_series_not_from_a_root_joins_only_the_node_its_labels_name() -> None:
    # not a root: the source is the service node its labels name, even though an app is called so
    g = build(snapshot([http("web-v1", "router-v1", 5.0), ext_http(6.0, root=False)], graphType="versionedApp",
                       extensions=(SKUPPER,)))
    service = svc(g, "router", "shop")
    assert edges_from(g, service)[("db", "http")].rate == pytest.approx(6.0)
    app = [n for n in g.nodes.values() if n.node_type == model.NODE_APP and n.app == "router"]
    assert len(app) == 1 and "isExtension" not in app[0].extra


# --- counting --------------------------------------------------------------------------------------


def test_the_same_series_reported_twice_is_counted_once() -> None:
    # the extension reported the router -> db requests from both ends: one says the source is the root,
    # the other does not; both land on the same edge, as the same time series
    g = build(snapshot([http("web-v1", "router-v1", 5.0), ext_http(30.0), ext_http(30.0, root=False),
                        ext_http(5.0, code="503")], injectServiceNodes=True, extensions=(SKUPPER,)))
    e = edges_from(g, svc(g, "router", "shop"))[("db", "http")]
    assert e.rate == pytest.approx(35.0)
    assert e.rates["http5xx"] == pytest.approx(5.0)
    assert e.responses["503"].hosts == {"db": pytest.approx(100.0 * 5 / 35)}


def test_http_codes_and_grpc_statuses_count_as_errors_as_istios_do() -> None:
    g = build(snapshot([ext_http(8.0), ext_http(2.0, code="500"),
                        ext_http(3.0, protocol="grpc", code="0", dst="rpc"),
                        ext_http(1.0, protocol="grpc", code="14", dst="rpc")], extensions=(SKUPPER,)))
    out = edges_from(g, svc(g, "router", "shop"))
    assert out[("db", "http")].rates["httpPercentErr"] == pytest.approx(20.0)
    assert out[("rpc", "grpc")].rates["grpcErr"] == pytest.approx(1.0)
    assert svc(g, "db", "remote").traffic["http"] == {"httpIn": pytest.approx(10.0), "httpIn5xx": pytest.approx(2.0)}


@pytest.mark.parametrize(("rate_tcp", "expected"), [("sent", 100.0), ("received", 40.0), ("total", 140.0),
                                                    ("none", None)])
def test_the_tcp_rate_option_reads_the_extensions_sent_or_received_bytes(rate_tcp: str,
                                                                          expected: float | None) -> None:
    samples = [ext_tcp(100.0), ext_tcp(40.0, metric="kiali_ext_tcp_received_total")]
    g = build(snapshot(samples, rateTcp=rate_tcp, extensions=(SKUPPER,)))
    if expected is None:
        assert not g.edges
        return
    assert edges_from(g, svc(g, "router", "shop"))[("db", "tcp")].rate == pytest.approx(expected)


def test_http_requests_left_out_leave_the_extensions_http_out_but_not_its_grpc() -> None:
    g = build(snapshot([ext_http(8.0), ext_http(3.0, protocol="grpc", code="0", dst="rpc")],
                       rateHttp="none", extensions=(SKUPPER,)))
    out = edges_from(g, svc(g, "router", "shop"))
    assert set(out) == {("rpc", "grpc")}


def test_only_the_enabled_extensions_traffic_is_graphed() -> None:
    samples = [http("web-v1", "cart-v1", 5.0), ext_http(8.0), ext_http(9.0, extension="other", dst="other-db")]
    plain = build(snapshot(samples))
    assert {n.workload or n.service for n in plain.nodes.values()} == {"web-v1", "cart-v1"}
    assert not plain.warnings
    g = build(snapshot(samples, extensions=(SKUPPER,)))
    assert {n.service for n in g.nodes.values() if n.node_type == model.NODE_SERVICE} == {"router", "db"}
    g = build(snapshot(samples, extensions=(SKUPPER, "other")))
    assert {n.service for n in g.nodes.values() if n.node_type == model.NODE_SERVICE} == {"router", "db", "other-db"}


def test_idle_extension_traffic_is_an_idle_edge_only_when_idle_edges_are_asked_for() -> None:
    samples = [http("web-v1", "cart-v1", 5.0), ext_http(0.0)]
    assert len(build(snapshot(samples, extensions=(SKUPPER,))).edges) == 1
    g = build(snapshot(samples, extensions=(SKUPPER,), includeIdleEdges=True))
    idle = edges_from(g, svc(g, "router", "shop"))[("db", "http")]
    assert idle.rate == 0


def test_series_without_the_labels_the_pass_needs_are_skipped_and_said() -> None:
    broken = ext_http(8.0)
    labels = dict(broken.labels)
    del labels["dest_namespace"]
    no_code = dict(ext_http(2.0).labels)
    del no_code["status_code"]
    g = build(snapshot([Sample(broken.metric, labels, 8.0), Sample(broken.metric, no_code, 2.0), ext_http(1.0)],
                       extensions=(SKUPPER,)))
    assert edges_from(g, svc(g, "router", "shop"))[("db", "http")].rate == pytest.approx(1.0)
    assert "skipped 1 sample: kiali_ext_requests_total: a series without a dest_namespace label" in g.warnings
    assert "skipped 1 sample: kiali_ext_requests_total: a series without a status_code label" in g.warnings


def test_a_service_graph_keeps_the_extensions_service_to_service_edges() -> None:
    g = build(snapshot([http("web-v1", "router-v1", 5.0), ext_http(12.0)], graphType="service",
                       extensions=(SKUPPER,)))
    assert edges_from(g, svc(g, "router", "shop"))[("db", "http")].rate == pytest.approx(12.0)


# --- the request and the queries -------------------------------------------------------------------


def test_the_enabled_extensions_are_named_as_in_kialis_config_and_kept_in_snapshots() -> None:
    kiali_config = [{"name": SKUPPER, "enabled": True}, {"name": "off", "enabled": False}, {"name": "unsaid"}]
    request = GraphRequest.from_json({"namespaces": ["shop"], "extensions": kiali_config})
    assert request.extensions == (SKUPPER,)
    assert GraphRequest.from_json({"extensions": "skupper, other"}).extensions == (SKUPPER, "other")
    snap = Snapshot(request, [ext_http(8.0)])
    again = Snapshot.from_json(json.loads(json.dumps(snap.to_json())))
    assert again.request.extensions == (SKUPPER,)
    assert len(build(again).edges) == 1
    # a snapshot without extensions reads and writes as before
    assert "extensions" not in GraphRequest(namespaces=("shop",)).to_json()
    with pytest.raises(ValueError, match="extensions"):
        GraphRequest.from_json({"extensions": [{"enabled": True}]})


def test_one_query_per_extension_metric_for_all_namespaces_and_extensions() -> None:
    request = GraphRequest(namespaces=("shop", "pay", "mail"), extensions=(SKUPPER, 'we"ird.x'), rateTcp="total",
                           duration=120)
    queries = [q for q in build_queries(request) if q.purpose == "extension"]
    assert [q.metric for q in queries] == ["kiali_ext_requests_total", "kiali_ext_tcp_received_total",
                                           "kiali_ext_tcp_sent_total"]
    assert queries[0].promql == (
        "sum by (dest_cluster,dest_namespace,dest_name,flags,protocol,secure,source_cluster,source_is_root,"
        "source_namespace,source_name,status_code,extension) "
        r'(rate(kiali_ext_requests_total{extension=~"skupper|we\"ird\\.x"}[120s])) > 0')
    assert queries[1].promql.startswith(
        "sum by (dest_cluster,dest_namespace,dest_name,flags,secure,source_cluster,source_is_root,"
        "source_namespace,source_name,extension) (rate(kiali_ext_tcp_received_total{")
    idle = [q for q in build_queries(GraphRequest(namespaces=("shop",), extensions=(SKUPPER,), rateTcp="none",
                                                  includeIdleEdges=True)) if q.purpose == "extension"]
    assert [q.promql for q in idle] == [
        "sum by (dest_cluster,dest_namespace,dest_name,flags,protocol,secure,source_cluster,source_is_root,"
        'source_namespace,source_name,status_code,extension) (rate(kiali_ext_requests_total{extension="skupper"}'
        "[600s]))"]
    assert not [q for q in build_queries(GraphRequest(namespaces=("shop",))) if q.purpose == "extension"]


# --- a real Prometheus answering the real queries ------------------------------------------------------


@pytest.fixture(scope="module", name="skupper_prometheus")
def skupper_prometheus_fixture(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A Prometheus holding a shop's Istio traffic and Skupper's series of the router linking it to a
    remote site, as the Skupper bridge writes them (also a reporter label, and the other end's report of
    the same requests), plus another extension's series."""
    from tests.prom_server import PrometheusServer, Series, Workload, binaries_missing, istio_edge

    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    web, router = Workload("shop", "web-v1", "web"), Workload("shop", "router-v1", "router")

    def skupper(metric: str, rate: float, **labels: str) -> Series:
        base = {"extension": SKUPPER, "source_cluster": "Kubernetes", "source_namespace": "shop",
                "source_name": "router", "source_is_root": "true", "dest_cluster": "west",
                "dest_namespace": "remote", "dest_name": "db", "flags": "", "secure": "true", "reporter": "source"}
        return Series(metric, {**base, **labels}, rate)

    series = [
        Series("istio_requests_total", istio_edge(web, router, "router", "shop"), 5.0),
        skupper("kiali_ext_requests_total", 9.0, protocol="http", status_code="200"),
        skupper("kiali_ext_requests_total", 1.0, protocol="http", status_code="503"),
        # the remote end's report of the same requests: not a root's, summed apart, counted once
        skupper("kiali_ext_requests_total", 9.0, protocol="http", status_code="200", source_is_root="false",
                reporter="destination"),
        skupper("kiali_ext_tcp_sent_total", 2048.0, dest_name="cache"),
        skupper("kiali_ext_tcp_received_total", 512.0, dest_name="cache"),
        skupper("kiali_ext_requests_total", 7.0, protocol="http", status_code="200", extension="other",
                dest_name="elsewhere"),
    ]
    srv = PrometheusServer(tmp_path_factory.mktemp("skupper-prometheus"), series)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_a_real_prometheus_answers_the_extension_queries_with_the_graphs_extension_edges(
        skupper_prometheus: Any) -> None:
    from meshdesk.sources.prometheus import PrometheusClient
    from meshdesk.sources.telemetry import fetch_samples

    srv = skupper_prometheus
    request = GraphRequest(namespaces=("shop",), graphType="versionedApp", injectServiceNodes=True,
                           queryTime=srv.query_time, duration=600, cluster="Kubernetes", rateTcp="total",
                           extensions=(SKUPPER,))
    samples, warnings = fetch_samples(PrometheusClient(srv.url), request)
    assert not warnings.counts
    g = build(Snapshot(request, samples, Inventory(cluster="Kubernetes", services=[annotated(SKUPPER)])))
    router = svc(g, "router", "shop")
    out = edges_from(g, router)
    assert out[("db", "http")].rate == pytest.approx(10.0)
    assert out[("db", "http")].rates["httpPercentErr"] == pytest.approx(10.0)
    assert out[("db", "http")].is_mtls == pytest.approx(100.0)
    assert out[("cache", "tcp")].rate == pytest.approx(2560.0)
    assert router.extra["isExtension"] == {"name": SKUPPER, "url": UI}
    assert not [n for n in g.nodes.values() if n.service == "elsewhere"]
    # the shop's own traffic is there as before
    assert any(e.rate == pytest.approx(5.0) for e in g.edges.values())
    # without the extension enabled, the same Prometheus gives the shop's graph alone
    plain = GraphRequest(namespaces=("shop",), graphType="versionedApp", injectServiceNodes=True,
                         queryTime=srv.query_time, cluster="Kubernetes")
    samples, _ = fetch_samples(PrometheusClient(srv.url), plain)
    assert not [n for n in build(Snapshot(plain, samples)).nodes.values() if n.service in ("db", "cache")]


# --- meshdesk graph --extensions ---------------------------------------------------------------------


def test_meshdesk_graph_extensions_on_a_live_cluster(kube_emulator: KubeEmulator, skupper_prometheus: Any,
                                                     tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """kubeconfig -> emulator (the shop, Skupper's annotated Service, Istio's Prometheus addon service) ->
    the real Prometheus: the extension's edges and its UI address are in the Kiali JSON, and a snapshot
    taken with them keeps them."""
    from meshdesk.cli import main
    from meshdesk.sources.snapshot import load_snapshot

    emu = kube_emulator
    emu.add_namespace("shop", {"istio-injection": "enabled"})
    emu.add({"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": SKUPPER, "namespace": "shop", "annotations": {"extension.kiali.io/ui-url": UI}},
             "spec": {"selector": {"application": "skupper-router"}, "ports": [{"name": "http", "port": 8080}]}})
    emu.add_namespace("istio-system")
    emu.add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "prometheus", "namespace": "istio-system",
                                                                "labels": {"app": "prometheus"}},
             "spec": {"selector": {"app": "prometheus"}, "ports": [{"name": "http", "port": 9090}]}})
    emu.proxy_service("istio-system", "prometheus", 9090, skupper_prometheus.url)
    config = emu.write_kubeconfig(tmp_path / "config", context="lab")
    saved = tmp_path / "skupper.json"
    base = ["graph", "--kubeconfig", str(config), "--context", "lab", "-n", "shop", "--format", "kiali",
            "--graph-type", "versionedApp", "--inject-service-nodes", "--rate-tcp", "total"]
    assert main([*base, "--extensions", SKUPPER, "--save-snapshot", str(saved)]) == 0
    data = json.loads(capsys.readouterr().out)
    marked = {n["data"].get("service"): n["data"]["isExtension"] for n in data["elements"]["nodes"]
              if "isExtension" in n["data"]}
    assert marked == {"router": {"name": SKUPPER, "url": UI}, "db": {"name": SKUPPER, "url": UI},
                      "cache": {"name": SKUPPER, "url": UI}}
    assert load_snapshot(saved).request.extensions == (SKUPPER,)
    assert main(base) == 0  # not enabled: the shop alone
    assert "isExtension" not in capsys.readouterr().out
    # enabled in the app's Settings for the context: graphed there as in the app, and said
    from meshdesk.store.settings import ContextSettings, load_settings

    settings = load_settings()
    settings.set_context_settings("lab", ContextSettings(extensions=(SKUPPER,)))
    settings.save()
    assert main(base) == 0
    out, err = capsys.readouterr()
    assert '"isExtension"' in out
    assert "the traffic of the Kiali extension skupper enabled in Settings for context lab is graphed" in err
    assert main([*base, "--extensions", ""]) == 0
    assert "isExtension" not in capsys.readouterr().out


def test_meshdesk_graph_extensions_over_a_snapshot(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from meshdesk.commands.graph import main
    from meshdesk.sources.snapshot import save_snapshot

    path = tmp_path / "skupper.json"
    save_snapshot(snapshot([http("web-v1", "router-v1", 5.0), ext_http(8.0)], extensions=(SKUPPER,)), path)
    assert main(["--snapshot", str(path)]) == 0
    table = capsys.readouterr().out
    assert any("shop/router" in ln and "remote/db" in ln and "8.00 rps" in ln for ln in table.splitlines())
    assert main(["--snapshot", str(path), "--extensions", ""]) == 0  # turned off: the mesh's own traffic
    assert "remote/db" not in capsys.readouterr().out
    # the snapshot holds no series of an extension it was taken without: said, not drawn empty
    assert main(["--snapshot", str(path), "--extensions", "skupper,other"]) == 2
    err = capsys.readouterr().err
    assert "--extensions other: the snapshot was taken without that extension" in err
