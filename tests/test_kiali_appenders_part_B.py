"""What Kiali's appender unit tests pin down (security policy, response time, throughput, health, Istio
details, mesh check, ambient, labeler), rebuilt as meshdesk scenarios through the public build path.

Each test names the Kiali test whose behaviour it checks; the data (names, namespaces, rates) is ours.
The mesh: a ``store`` namespace (``front-v1`` calls ``books``, served by ``books-v1`` and ``books-v2``,
which call ``stock-v1``), and ``entry-v1`` in ``gate`` (outside it) calling into it.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshdesk.mesh.export import to_kiali
from meshdesk.mesh.graph import build, health, model
from meshdesk.mesh.inventory import Container, Inventory, IstioObject, Namespace, Pod, Service, Workload
from meshdesk.mesh.telemetry import Sample
from tests import graph_samples
from tests.graph_samples import snapshot

NS = "store"


def http(src: str | None, dst: str | None, value: float, code: str = "200", **kw: Any) -> Sample:
    kw.setdefault("ns", NS)
    return graph_samples.http(src, dst, value, code, **kw)


def tcp(src: str | None, dst: str | None, value: float, **kw: Any) -> Sample:
    kw.setdefault("ns", NS)
    return graph_samples.tcp(src, dst, value, **kw)


def labels(src: str | None, dst: str | None, **kw: Any) -> dict[str, str]:
    kw.setdefault("ns", NS)
    return graph_samples.labels(src, dst, **kw)


MUTUAL = {"connection_security_policy": "mutual_tls"}
PLAIN = {"connection_security_policy": "none"}


def _graph(samples: list[Sample], inv: Inventory | None = None, **request: Any) -> model.TrafficGraph:
    request.setdefault("namespaces", (NS,))
    return build(snapshot(samples, inv, **request))


def _node(g: model.TrafficGraph, *, node_type: str | None = None, **identity: str) -> model.Node:
    found = [n for n in g.nodes.values() if n.node_type != model.NODE_BOX
             and (node_type is None or n.node_type == node_type)
             and all(getattr(n, k) == v for k, v in identity.items())]
    assert len(found) == 1, (identity, [(n.node_type, n.workload, n.app, n.version, n.service) for n in g.nodes.values()])
    return found[0]


def _svc(g: model.TrafficGraph, name: str) -> model.Node:
    return _node(g, node_type=model.NODE_SERVICE, service=name)


def _wl(g: model.TrafficGraph, name: str) -> model.Node:
    return _node(g, workload=name)


def _edge(g: model.TrafficGraph, src: model.Node, dst: model.Node, protocol: str = "http") -> model.Edge:
    found = [e for e in g.edges.values() if e.source == src.id and e.target == dst.id and e.protocol == protocol]
    assert len(found) == 1, (src.label, dst.label, protocol)
    return found[0]


def _kiali_edge(g: model.TrafficGraph, e: model.Edge) -> dict[str, Any]:
    return next(x["data"] for x in to_kiali(g)["elements"]["edges"] if x["data"]["id"] == e.id)


def _kiali_node(g: model.TrafficGraph, n: model.Node) -> dict[str, Any]:
    return next(x["data"] for x in to_kiali(g)["elements"]["nodes"] if x["data"]["id"] == n.id)


def _pod(name: str, ns: str, *, sidecar: bool = True, annotations: dict[str, str] | None = None,
         labels_: dict[str, str] | None = None) -> Pod:
    containers = [Container("main", ready=True)] + ([Container("istio-proxy", ready=True)] if sidecar else [])
    return Pod(name, ns, labels=dict(labels_ or {}), annotations=dict(annotations or {}), phase="Running",
               containers=containers)


def _workload(name: str, ns: str = NS, *, sidecar: bool = True, labels_: dict[str, str] | None = None,
              annotations: dict[str, str] | None = None, pod_annotations: dict[str, str] | None = None,
              pods: int = 1) -> Workload:
    app, _, ver = name.rpartition("-")
    wl_labels = dict(labels_) if labels_ is not None else {"app": app, "version": ver}
    return Workload(name=name, namespace=ns, labels=wl_labels, annotations=dict(annotations or {}),
                    pods=[_pod(f"{name}-{i}", ns, sidecar=sidecar, annotations=pod_annotations, labels_=wl_labels)
                          for i in range(pods)],
                    replicas=pods, available=pods, current=pods)


def _inventory(*workloads: Workload, services: tuple[Service, ...] = (), istio: tuple[IstioObject, ...] = (),
               namespaces: tuple[Namespace, ...] = (Namespace(NS), Namespace("gate"))) -> Inventory:
    return Inventory(cluster="east", namespaces=list(namespaces), workloads=list(workloads), services=list(services),
                     istio=list(istio))


# --- securityPolicy (security_policy_test.go) ------------------------------------------------------


def _from_gate(value: float, **extra: str) -> Sample:
    return http("entry-v1", "books-v1", value, src_ns="gate", dst_ns=NS, **extra)


def test_security_policy_half_of_the_requests_into_the_namespace_used_mutual_tls() -> None:
    """TestSecurityPolicyDefaultRates: a caller outside the namespace, the server reports 10 rps with mTLS
    and 10 rps plain: the edge is 50 % mTLS (written "50" in Kiali's JSON), on the versioned app node."""
    samples = [_from_gate(10, **MUTUAL), _from_gate(10, **PLAIN)]
    g = _graph(samples, graphType="versionedApp")
    entry, books = _node(g, app="entry", version="v1"), _node(g, app="books", version="v1")
    e = _edge(g, entry, books)
    assert e.is_mtls == pytest.approx(50.0)
    assert _kiali_edge(g, e)["isMTLS"] == "50"


def test_security_policy_an_all_plain_edge_has_no_mtls_in_kialis_json() -> None:
    """Kiali sets isMTLS only when some traffic used mutual TLS; an edge all of whose requests were plain
    text has none in its JSON (meshdesk keeps 0 % for its own views)."""
    g = _graph([_from_gate(10, **PLAIN)], graphType="versionedApp")
    e = next(iter(g.edges.values()))
    assert e.is_mtls == pytest.approx(0.0)
    assert "isMTLS" not in _kiali_edge(g, e)


def test_security_policy_ambient_ztunnel_source_reports_count_and_requests_stay_half() -> None:
    """TestSecurityPolicyAmbientDefaultRates: with ambient traffic shown, the requests' share is read as
    before (50 %), and TCP that only ztunnel reported, on the client's side, carries its mTLS too."""
    zt = {"app": "ztunnel", "reporter": "source"}
    samples = [_from_gate(10, **MUTUAL), _from_gate(10, **PLAIN),
               tcp("books-v1", "stock-v1", 4000, **zt, **MUTUAL)]
    inv = _inventory(_workload("books-v1", sidecar=False), _workload("stock-v1", sidecar=False),
                     namespaces=(Namespace(NS, labels={"istio.io/dataplane-mode": "ambient"}), Namespace("gate")))
    g = _graph(samples, inv, graphType="versionedApp", ambientTraffic="total")
    books, stock = _node(g, app="books", version="v1"), _node(g, app="stock", version="v1")
    assert _edge(g, _node(g, app="entry", version="v1"), books).is_mtls == pytest.approx(50.0)
    assert _edge(g, books, stock, "tcp").is_mtls == pytest.approx(100.0)


def test_security_policy_with_total_rates_reads_the_same_share() -> None:
    """TestSecurityPolicyTotalRates: asking for gRPC and TCP totals does not change an HTTP edge's share."""
    samples = [_from_gate(10, **MUTUAL), _from_gate(10, **PLAIN)]
    g = _graph(samples, graphType="versionedApp", rateGrpc="total", rateTcp="total")
    assert _edge(g, _node(g, app="entry", version="v1"), _node(g, app="books", version="v1")).is_mtls \
        == pytest.approx(50.0)


def test_security_policy_with_service_nodes_marks_both_halves() -> None:
    """TestSecurityPolicyWithServiceNodesAndNoZtunnel: with injected service nodes, the caller -> service
    and the service -> workload edges both get the server's mTLS share, and its principals."""
    principals = {"source_principal": "spiffe://cluster.local/ns/gate/sa/entry",
                  "destination_principal": "spiffe://cluster.local/ns/store/sa/books"}
    g = _graph([_from_gate(10, **MUTUAL, **principals)], graphType="versionedApp", injectServiceNodes=True)
    entry, svc, books = _node(g, app="entry", version="v1"), _svc(g, "books"), _node(g, app="books", version="v1")
    for e in (_edge(g, entry, svc), _edge(g, svc, books)):
        assert e.is_mtls == pytest.approx(100.0)
        assert e.source_principal.endswith("/sa/entry") and e.dest_principal.endswith("/sa/books")
        assert _kiali_edge(g, e)["isMTLS"] == "100"


# --- responseTime (response_time_test.go) -----------------------------------------------------------


def _took(src: str, dst: str, ms: float, *, stat: str = "0.95", src_ns: str = NS, reporter: str = "destination",
          service: str | None = None) -> Sample:
    return Sample("istio_request_duration_milliseconds",
                  labels(src, dst, src_ns=src_ns, dst_ns=NS, reporter=reporter, service=service,
                         request_protocol="http", stat=stat), ms)


def _bookstore(stat: str) -> list[Sample]:
    """entry -> books -> (books-v1, books-v2) -> stock: requests both proxies reported, and the times
    each measured (the server's are smaller)."""
    samples: list[Sample] = []
    calls = (("entry-v1", "front-v1", "gate", "front"), ("front-v1", "books-v1", NS, "books"),
             ("front-v1", "books-v2", NS, "books"), ("books-v1", "stock-v1", NS, "stock"),
             ("books-v2", "stock-v1", NS, "stock"))
    server_ms = {"front": 10.0, "books": 20.0, "stock": 30.0}
    for src, dst, src_ns, svc in calls:
        for reporter in ("destination", "source"):
            samples.append(http(src, dst, 5, src_ns=src_ns, dst_ns=NS, reporter=reporter, service=svc))
        samples.append(_took(src, dst, server_ms[svc], stat=stat, src_ns=src_ns, service=svc))
        if src_ns == NS:  # the caller's proxy measured more; the server's report is the one shown
            samples.append(_took(src, dst, server_ms[svc] + 10, stat=stat, src_ns=src_ns, reporter="source",
                                 service=svc))
    return samples


@pytest.mark.parametrize("stat", ["0.95", "avg"])
def test_response_time_goes_on_service_to_workload_edges_from_the_servers_report(stat: str) -> None:
    """TestResponseTimeP95 and TestResponseTimeAvg: with injected service nodes the time is on each
    service -> workload edge, the server's report preferred over the caller's; caller -> service edges
    and nodes have none; stock-v1's edge, reached from two versions, keeps the server's 30 ms."""
    g = _graph(_bookstore(stat), graphType="versionedApp", injectServiceNodes=True, responseTimeQuantile=stat)
    front, books_svc, stock_svc = _node(g, app="front", version="v1"), _svc(g, "books"), _svc(g, "stock")
    assert _edge(g, _svc(g, "front"), front).response_time == pytest.approx(10.0)
    assert _edge(g, books_svc, _node(g, app="books", version="v1")).response_time == pytest.approx(20.0)
    assert _edge(g, books_svc, _node(g, app="books", version="v2")).response_time == pytest.approx(20.0)
    assert _edge(g, stock_svc, _node(g, app="stock", version="v1")).response_time == pytest.approx(30.0)
    into_services = [e for e in g.edges.values() if g.nodes[e.target].node_type == model.NODE_SERVICE]
    assert len(into_services) == 4 and all(e.response_time is None for e in into_services)
    kiali = _kiali_edge(g, _edge(g, stock_svc, _node(g, app="stock", version="v1")))
    assert kiali["responseTime"] == "30" and "responseTime" not in _kiali_edge(g, into_services[0])


def test_response_time_in_an_ambient_namespace_is_read_as_in_a_sidecar_one() -> None:
    """TestResponseTimeP95 runs with the namespace in ambient mode and nothing reported by callers from
    outside: the times are the same."""
    inv = _inventory(*(_workload(w) for w in ("front-v1", "books-v1", "books-v2", "stock-v1")),
                     namespaces=(Namespace(NS, labels={"istio.io/dataplane-mode": "ambient"}), Namespace("gate")))
    g = _graph(_bookstore("0.95"), inv, graphType="versionedApp", injectServiceNodes=True)
    assert _edge(g, _svc(g, "stock"), _node(g, app="stock", version="v1")).response_time == pytest.approx(30.0)
    assert _edge(g, _svc(g, "front"), _node(g, app="front", version="v1")).response_time == pytest.approx(10.0)


def test_response_time_is_not_read_when_http_rates_are_off() -> None:
    """TestResponseTimeAvgSkipRates: with HTTP rates "none" (gRPC requests still asked for), HTTP edges
    get no response time."""
    g = _graph(_bookstore("avg"), graphType="versionedApp", injectServiceNodes=True, responseTimeQuantile="avg",
               rateHttp="none")
    assert all(e.response_time is None for e in g.edges.values())


# --- throughput (throughput_test.go) ----------------------------------------------------------------


def _bytes(metric: str, src: str, dst: str | None, value: float, *, reporter: str, src_ns: str = NS,
           service: str | None = None) -> Sample:
    return Sample(metric, labels(src, dst, src_ns=src_ns, dst_ns=NS, reporter=reporter, service=service,
                                 request_protocol="http", stat="rate"), value)


def test_response_throughput_on_service_to_workload_edges_adds_up_callers() -> None:
    """TestResponseThroughput: response bytes (the server's report) go on the service -> workload edge;
    stock-v1's edge adds up what it answered books v1 and v2 (1000 + 2000)."""
    samples = [s for s in _bookstore("0.95") if s.metric == "istio_requests_total"]
    resp = "istio_response_bytes"
    samples += [_bytes(resp, "entry-v1", "front-v1", 1000, reporter="destination", src_ns="gate", service="front"),
                _bytes(resp, "front-v1", "books-v1", 1000, reporter="destination", service="books"),
                _bytes(resp, "front-v1", "books-v2", 2000, reporter="destination", service="books"),
                _bytes(resp, "books-v1", "stock-v1", 1000, reporter="destination", service="stock"),
                _bytes(resp, "books-v2", "stock-v1", 2000, reporter="destination", service="stock")]
    g = _graph(samples, graphType="versionedApp", injectServiceNodes=True, throughputType="response")
    assert _edge(g, _svc(g, "front"), _node(g, app="front", version="v1")).throughput == pytest.approx(1000)
    assert _edge(g, _svc(g, "books"), _node(g, app="books", version="v1")).throughput == pytest.approx(1000)
    assert _edge(g, _svc(g, "books"), _node(g, app="books", version="v2")).throughput == pytest.approx(2000)
    stock = _edge(g, _svc(g, "stock"), _node(g, app="stock", version="v1"))
    assert stock.throughput == pytest.approx(3000) and _kiali_edge(g, stock)["throughput"] == "3000"
    into_services = [e for e in g.edges.values() if g.nodes[e.target].node_type == model.NODE_SERVICE]
    assert into_services and all(e.throughput is None for e in into_services)


def _unserved() -> list[Sample]:
    """entry -> front served; front -> books answered by no workload (only front's proxy reported)."""
    return [http("entry-v1", "front-v1", 5, src_ns="gate", service="front"),
            http("entry-v1", "front-v1", 5, src_ns="gate", service="front", reporter="source"),
            http("front-v1", None, 3, "503", service="books", reporter="source", response_flags="NR"),
            _bytes("istio_request_bytes", "entry-v1", "front-v1", 1000, reporter="source", src_ns="gate",
                   service="front"),
            _bytes("istio_request_bytes", "front-v1", None, 1000, reporter="source", service="books")]


def test_request_throughput_also_on_an_edge_into_a_service_no_workload_served() -> None:
    """TestRequestThroughput: request bytes (the caller's report) go on the service -> workload edge of
    a served request and on the caller -> service edge of one no workload served (books has no
    workload node behind it)."""
    g = _graph(_unserved(), graphType="versionedApp", injectServiceNodes=True, throughputType="request")
    front, books = _node(g, app="front", version="v1"), _svc(g, "books")
    assert _edge(g, _svc(g, "front"), front).throughput == pytest.approx(1000)
    assert _edge(g, front, books).throughput == pytest.approx(1000)
    assert _edge(g, _node(g, app="entry", version="v1"), _svc(g, "front")).throughput is None
    assert not [e for e in g.edges.values() if e.source == books.id]


def test_throughput_is_not_read_when_http_rates_are_off() -> None:
    """TestRequestThroughputSkipRates: with HTTP rates "none" no edge gets a throughput."""
    g = _graph(_unserved(), graphType="versionedApp", injectServiceNodes=True, throughputType="request",
               rateHttp="none", rateGrpc="requests")
    assert all(e.throughput is None for e in g.edges.values())


# --- health (health_test.go) ------------------------------------------------------------------------

SERVICE_RULE = "404,10,20,http,inbound"
WORKLOAD_RULE = "4xx,20,30,http,inbound"


def _health_inventory(service_rule: str = "", workload_rule: str = "") -> Inventory:
    books = _workload("books-v1", annotations={health.ANNOTATION: workload_rule} if workload_rule else None)
    svc = Service("books", NS, selector={"app": "books"},
                  annotations={health.ANNOTATION: service_rule} if service_rule else {})
    return _inventory(_workload("front-v1"), books, services=(svc,))


def _requests(g: model.TrafficGraph, n: model.Node) -> dict[str, Any]:
    data = _kiali_node(g, n)["healthData"]
    assert data is not None, n.label
    return data["requests"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("configured", [True, False])
def test_health_annotations_of_services_and_workloads(configured: bool) -> None:
    """TestServicesHealthConfigPasses / TestWorkloadHealthConfigPasses / their NoConfig twins: a service
    node carries its Service's health.kiali.io/rate, a workload node its workload's; none, nothing."""
    inv = _health_inventory(SERVICE_RULE if configured else "", WORKLOAD_RULE if configured else "")
    g = _graph([http("front-v1", "books-v1", 10)], inv, injectServiceNodes=True)
    svc, books = _svc(g, "books"), _wl(g, "books-v1")
    want_svc = {health.ANNOTATION: SERVICE_RULE} if configured else {}
    want_wl = {health.ANNOTATION: WORKLOAD_RULE} if configured else {}
    assert _requests(g, svc)["healthAnnotations"] == want_svc
    assert _requests(g, books)["healthAnnotations"] == want_wl
    assert (_kiali_node(g, svc).get("hasHealthConfig") or {}) == want_svc


def test_health_data_on_every_service_app_and_workload_node() -> None:
    """TestHealthDataPresent: each service, app and workload node has health data, of its own kind."""
    inv = _health_inventory()
    samples = [http("front-v1", "books-v1", 10)]
    for graph_type, kinds in (("workload", {"service", "workload"}), ("app", {"service", "app"}),
                              ("versionedApp", {"service", "app"})):
        g = _graph(samples, inv, injectServiceNodes=True, graphType=graph_type)
        nodes = [n for n in g.nodes.values() if n.node_type != model.NODE_BOX]
        assert {n.node_type for n in nodes} == kinds
        for n in nodes:
            data = _kiali_node(g, n)["healthData"]
            assert data is not None and set(data["requests"]) == {"healthAnnotations", "inbound", "outbound"}
            if n.node_type == model.NODE_WORKLOAD:
                assert "workloadStatus" in data
            elif n.node_type == model.NODE_APP:
                assert "workloadStatuses" in data


def test_health_requests_service_to_workload_and_workload_to_service() -> None:
    """TestHealthDataPresent200SvcWk and TestHealthDataPresent200500WkSvc: a service's outbound and its
    workload's inbound hold what the edge between them carried, per code; a workload's outbound and the
    service's inbound likewise, 200 and 500 apart."""
    samples = [http("front-v1", "books-v1", 100), http("front-v1", "books-v1", 10, "500")]
    g = _graph(samples, _health_inventory(), injectServiceNodes=True)
    svc, front, books = _svc(g, "books"), _wl(g, "front-v1"), _wl(g, "books-v1")
    assert _requests(g, svc)["outbound"] == {"http": {"200": pytest.approx(100), "500": pytest.approx(10)}}
    assert _requests(g, books)["inbound"] == {"http": {"200": pytest.approx(100), "500": pytest.approx(10)}}
    assert _requests(g, front)["outbound"] == {"http": {"200": pytest.approx(100), "500": pytest.approx(10)}}
    assert _requests(g, svc)["inbound"] == {"http": {"200": pytest.approx(100), "500": pytest.approx(10)}}


def test_health_requests_to_and_from_an_app_node() -> None:
    """TestHealthDataPresentToApp / FromApp: in an app graph the app node's inbound holds what its
    service sent it, and an app's outbound what it sent a service."""
    g = _graph([http("front-v1", "books-v1", 100)], _health_inventory(), injectServiceNodes=True, graphType="app")
    front, svc, books = _node(g, app="front", node_type="app"), _svc(g, "books"), _node(g, app="books", node_type="app")
    assert _requests(g, svc)["outbound"] == {"http": {"200": pytest.approx(100)}}
    assert _requests(g, books)["inbound"] == {"http": {"200": pytest.approx(100)}}
    assert _requests(g, front)["outbound"] == {"http": {"200": pytest.approx(100)}}
    assert _requests(g, svc)["inbound"] == {"http": {"200": pytest.approx(100)}}
    # a versioned app's box carries the app's health (Kiali's healthDataApp): here all its versions'
    inv = _health_inventory()
    inv.workloads.append(_workload("front-v2"))
    v = _graph([http("front-v1", "books-v1", 100), http("front-v2", "books-v1", 20)], inv,
               injectServiceNodes=True, graphType="versionedApp")
    box = next(n for n in v.nodes.values() if n.node_type == model.NODE_BOX and n.app == "front")
    assert _requests(v, box)["outbound"] == {"http": {"200": pytest.approx(120)}}
    assert _requests(v, _node(v, app="front", version="v2"))["outbound"] == {"http": {"200": pytest.approx(20)}}


def test_an_idle_node_has_health_data() -> None:
    """TestIdleNodesHaveHealthData: an idle service node still has health data (no requests)."""
    inv = _health_inventory()
    inv.services.append(Service("archive", NS, selector={"app": "archive"}))
    g = _graph([http("front-v1", "books-v1", 10)], inv, injectServiceNodes=True, includeIdleNodes=True)
    idle = _svc(g, "archive")
    assert idle.is_idle
    assert _requests(g, idle) == {"healthAnnotations": {}, "inbound": {}, "outbound": {}}


def test_health_of_another_clusters_app_lists_no_workloads() -> None:
    """TestMultiClusterHealthConfig: the app in the inventory's cluster lists its workloads' statuses,
    the same app in another cluster (not read) lists none."""
    samples = [http(None, "books-v1", 5), http(None, "books-v1", 5)]
    samples[1].labels.update(destination_cluster="west")
    g = _graph(samples, _health_inventory(), graphType="app")
    east = _node(g, app="books", cluster="east", node_type="app")
    west = _node(g, app="books", cluster="west", node_type="app")
    assert [s["name"] for s in _kiali_node(g, east)["healthData"]["workloadStatuses"]] == ["books-v1"]
    assert _kiali_node(g, west)["healthData"]["workloadStatuses"] == []


def test_the_error_ratio_is_minus_one_when_no_tolerance_spoke_of_the_traffic() -> None:
    """Kiali's calculator counts traffic only where a tolerance matches its direction and protocol: a
    workload whose own rule is for inbound HTTP, and that only sends, has request status NA and error
    ratio -1 (its pods make it Healthy). meshdesk wrote no ratio (0), as if the traffic were judged; with
    the default tolerances any HTTP traffic is judged, and the ratio of clean traffic is left out as 0."""
    samples = [http("front-v1", "books-v1", 5), http("front-v1", "books-v1", 5, "500")]
    inv = _inventory(_workload("front-v1", annotations={health.ANNOTATION: "5XX,10,20,http,inbound"}),
                     _workload("books-v1"))
    g = _graph(samples, inv)
    assert _kiali_node(g, _wl(g, "front-v1"))["healthData"]["status"] == {
        "errorRatio": -1, "status": model.HEALTHY, "totalRequestRate": 10.0}
    assert _kiali_node(g, _wl(g, "books-v1"))["healthData"]["status"]["errorRatio"] == pytest.approx(50.0)
    clean = _graph([http("front-v1", "books-v1", 5)], _inventory(_workload("front-v1"), _workload("books-v1")))
    assert "errorRatio" not in _kiali_node(clean, _wl(clean, "front-v1"))["healthData"]["status"]


def _both_ends(rule: str) -> Inventory:
    return _inventory(_workload("front-v1", annotations={health.ANNOTATION: rule}),
                      _workload("books-v1", annotations={health.ANNOTATION: rule}))


def _edge_status(codes: dict[str, float], rule: str | None) -> str | None:
    samples = [http("front-v1", "books-v1", v, code) for code, v in codes.items()]
    g = _graph(samples, _both_ends(rule) if rule else _inventory(_workload("front-v1"), _workload("books-v1")))
    h = _edge(g, _wl(g, "front-v1"), _wl(g, "books-v1")).health
    return h.status if h is not None else None


@pytest.mark.parametrize(("codes", "rule", "status"), [
    ({"200": 100}, None, model.HEALTHY),
    ({"200": 100}, "5XX,1,5,http,.*", model.HEALTHY),
    ({"200": 99, "500": 1}, "5XX,5,10,http,.*", model.HEALTHY),
    ({"200": 95, "500": 5}, "5XX,5,10,http,.*", model.DEGRADED),  # at the degraded threshold
    ({"200": 92, "500": 8}, "5XX,5,10,http,.*", model.DEGRADED),
    ({"200": 90, "500": 10}, "5XX,5,10,http,.*", model.FAILURE),  # at the failure threshold
    ({"200": 80, "500": 20}, "5XX,5,10,http,.*", model.FAILURE),
    ({"200": 85, "404": 15}, "4XX,10,20,http,.*", model.DEGRADED),
    ({"200": 50, "500": 50}, "5XX,5,10,grpc,.*", model.HEALTHY),  # no tolerance for the protocol
    ({"200": 80, "400": 8, "500": 12}, "4XX,5,20,http,.*;5XX,5,10,http,.*", model.FAILURE),  # the worst
    ({"200": 96, "500": 4}, "5XX,0,10,http,.*", model.DEGRADED),  # degraded 0: any error
    ({"200": 100}, "5XX,0,10,http,.*", model.HEALTHY),
])
def test_edge_status_with_tolerances(codes: dict[str, float], rule: str | None, status: str) -> None:
    """TestCalculateEdgeStatusWithTolerances / TestCalculateSingleEdgeHealth /
    TestCalculateEdgeHealthStatus: an edge judged by the tolerances of its ends (here the same rule on
    both, as Kiali's test gives one list)."""
    assert _edge_status(codes, rule) == status


def test_an_edge_without_requests_has_no_health() -> None:
    """TestCalculateSingleEdgeHealth ("no responses returns NA"): an idle edge and a TCP edge without
    responses get no request verdict; Kiali's JSON then has no healthStatus for the idle one."""
    inv = _inventory(_workload("front-v1"), _workload("books-v1"))
    g = _graph([http("front-v1", "books-v1", 0)], inv, includeIdleEdges=True)
    e = _edge(g, _wl(g, "front-v1"), _wl(g, "books-v1"))
    assert e.health is None or e.health.status == model.NO_HEALTH
    assert "healthStatus" not in _kiali_edge(g, e)


# --- istio (istio_details_test.go) ------------------------------------------------------------------


def _stock_inventory(*istio: IstioObject, services: tuple[Service, ...] = ()) -> Inventory:
    unversioned = _workload("stock-legacy", labels_={"app": "stock"})
    return _inventory(_workload("front-v1"), _workload("stock-v1"), _workload("stock-v2"), unversioned,
                      services=(Service("stock", NS, selector={"app": "stock"}), *services), istio=istio)


STOCK_SAMPLES = [http("front-v1", "stock-v1", 4, service="stock"), http("front-v1", "stock-v2", 4, service="stock"),
                 # no version label: Istio calls the revision "latest", which Kiali takes as a version
                 http("front-v1", "stock-legacy", 1, service="stock", destination_canonical_revision="latest")]


def _cb_marks(dr: IstioObject) -> dict[str, set[str]]:
    """Per graph type, the labels of the nodes marked with a circuit breaker."""
    inv = _stock_inventory(dr)
    out = {}
    for graph_type in ("versionedApp", "app", "workload"):
        g = _graph(STOCK_SAMPLES, inv, graphType=graph_type, injectServiceNodes=True)
        out[graph_type] = {f"{n.node_type}:{n.workload or n.app or n.service}:{n.version}"
                           for n in g.nodes.values() if n.extra.get("hasCB")}
        for n in g.nodes.values():
            assert bool(_kiali_node(g, n).get("hasCB")) == bool(n.extra.get("hasCB"))
            assert not n.has_virtual_service
    return out


def test_a_circuit_breaker_for_the_whole_service() -> None:
    """TestCBAll: a DestinationRule with a connection pool for the service marks the service node, the
    app node and every versioned node (a workload without a version label is "latest" in its telemetry,
    a version to Kiali too)."""
    dr = IstioObject("DestinationRule", "stock-limits", NS, spec={
        "host": "stock", "trafficPolicy": {"connectionPool": {"http": {"maxRequestsPerConnection": 25}}}})
    marks = _cb_marks(dr)
    assert marks["versionedApp"] == {"service:stock:", "app:stock-v1:v1", "app:stock-v2:v2", "app:stock-legacy:latest"}
    assert marks["app"] == {"service:stock:", "app:stock:"}
    assert marks["workload"] == {"service:stock:", "workload:stock-v1:v1", "workload:stock-v2:v2",
                                 "workload:stock-legacy:latest"}


def test_a_circuit_breaker_of_one_subset() -> None:
    """TestCBSubset: a circuit breaker in the v1 subset only marks the service, the app and v1."""
    dr = IstioObject("DestinationRule", "stock-limits", NS, spec={
        "host": "stock.store.svc.cluster.local", "subsets": [
            {"name": "one", "labels": {"version": "v1"},
             "trafficPolicy": {"connectionPool": {"http": {"maxRequestsPerConnection": 25}}}},
            {"name": "two", "labels": {"version": "v2"}}]})
    marks = _cb_marks(dr)
    assert marks["versionedApp"] == {"service:stock:", "app:stock-v1:v1"}
    assert marks["app"] == {"service:stock:", "app:stock:"}
    assert marks["workload"] == {"service:stock:", "workload:stock-v1:v1"}


def _routed(route: list[dict[str, Any]]) -> model.TrafficGraph:
    vs = IstioObject("VirtualService", "stock-routes", NS, spec={"hosts": ["stock"], "http": [{"route": route}]})
    inv = _stock_inventory(vs, services=(Service("depot", NS, selector={"app": "depot"}),
                                         Service("vault", NS, selector={"app": "vault"})))
    inv.workloads += [_workload("depot-v1"), _workload("vault-v1")]
    samples = [*STOCK_SAMPLES, http("front-v1", "depot-v1", 2, service="depot"),
               http("front-v1", "vault-v1", 2, service="vault")]
    return _graph(samples, inv, graphType="versionedApp", injectServiceNodes=True)


def test_a_virtual_service_marks_the_service_it_routes_to() -> None:
    """TestVS: Kiali marks the service a VirtualService's routes send to (depot), with the
    VirtualService's hosts, not the service the VirtualService is for (stock); no circuit breakers."""
    g = _routed([{"destination": {"host": "depot"}}])
    depot, stock = _svc(g, "depot"), _svc(g, "stock")
    assert depot.has_virtual_service and depot.extra["vsHosts"] == ["stock"]
    assert _kiali_node(g, depot)["hasVS"] == {"hostnames": ["stock"]}
    assert not stock.has_virtual_service and "hasVS" not in _kiali_node(g, stock)
    assert not any(n.extra.get("hasCB") for n in g.nodes.values())
    assert depot.extra.get("hasRequestRouting") and not depot.extra.get("hasTrafficShifting")


def test_a_weighted_virtual_service_shifts_traffic() -> None:
    """TestVSWithRoutingBadges: two weighted destinations are traffic shifting, on each service routed to."""
    g = _routed([{"destination": {"host": "depot"}, "weight": 20}, {"destination": {"host": "vault"}, "weight": 80}])
    for name in ("depot", "vault"):
        data = _kiali_node(g, _svc(g, name))
        assert data["hasTrafficShifting"] is True and data["hasVS"] == {"hostnames": ["stock"]}


def test_a_service_entry_node_joins_the_app_of_its_hosts_service() -> None:
    """TestSEInAppBox: a ServiceEntry node whose host's first label names a Service of the namespace with
    an app label takes that app."""
    se = IstioObject("ServiceEntry", "warehouse", NS, spec={"hosts": ["ledger.example.org"], "location": "MESH_INTERNAL"})
    inv = _inventory(_workload("front-v1"), services=(Service("ledger", NS, labels={"app": "accounts"}),), istio=(se,))
    external = labels("front-v1", None, reporter="source", request_protocol="http", response_code="200",
                      response_flags="-", grpc_response_status="0")
    external.update(destination_service="ledger.example.org", destination_service_name="ledger.example.org",
                    destination_service_namespace="unknown", destination_cluster="unknown")
    g = _graph([Sample("istio_requests_total", external, 3)], inv, graphType="versionedApp")
    entry = _svc(g, "warehouse")
    assert entry.is_service_entry is not None and entry.is_service_entry.hosts == ("ledger.example.org",)
    assert entry.is_service_entry.location == "MESH_INTERNAL" and entry.app == "accounts"
    assert _kiali_node(g, entry)["isServiceEntry"] == {"hosts": ["ledger.example.org"], "location": "MESH_INTERNAL",
                                                       "namespace": NS}


# --- meshCheck (mesh_check_test.go) -----------------------------------------------------------------


def _out_of_mesh(inv: Inventory, graph_type: str, **request: Any) -> dict[str, bool]:
    g = _graph([http("front-v1", "books-v1", 5)], inv, graphType=graph_type, injectServiceNodes=True, **request)
    return {n.label: bool(_kiali_node(g, n).get("isOutOfMesh")) for n in g.nodes.values()
            if n.node_type != model.NODE_BOX}


def test_workloads_with_sidecars_are_in_the_mesh() -> None:
    """TestWorkloadSidecarsPasses / TestAppSidecarsPasses / TestServicesAreAlwaysValid."""
    inv = _inventory(_workload("front-v1"), _workload("books-v1"))
    for graph_type in ("workload", "app", "versionedApp"):
        assert not any(_out_of_mesh(inv, graph_type).values()), graph_type


def test_workloads_without_sidecars_are_out_of_the_mesh() -> None:
    """TestWorkloadWithMissingSidecarsIsFlagged / TestAppWithMissingSidecarsIsFlagged: every workload and
    app node whose pods run no sidecar; never a service node."""
    inv = _inventory(_workload("front-v1", sidecar=False), _workload("books-v1", sidecar=False))
    for graph_type in ("workload", "app"):
        marks = _out_of_mesh(inv, graph_type)
        assert {k for k, v in marks.items() if v} == {k for k in marks if k != "books"}, graph_type


def test_a_workload_in_a_namespace_the_user_cannot_read_is_not_judged() -> None:
    """TestInaccessibleWorkload: the nodes of a namespace the user may not read get no mesh verdict."""
    inv = _inventory(_workload("front-v1", sidecar=False), _workload("books-v1", sidecar=False))
    marks = _out_of_mesh(inv, "workload", accessibleNamespaces=("gate",))
    assert not any(marks.values())


def test_an_app_without_workloads_is_not_out_of_the_mesh() -> None:
    """TestAppNoPodsPasses: an app the inventory has no workloads (or pods) for is not flagged."""
    inv = _inventory(_workload("front-v1"), _workload("books-v1", sidecar=False, pods=0))
    assert not any(_out_of_mesh(inv, "app").values())
    assert not any(_out_of_mesh(_inventory(_workload("front-v1")), "app").values())


def test_an_app_captured_by_ambient_is_ambient_not_out_of_the_mesh() -> None:
    """TestAppWithAmbientIsFlagged: pods without a sidecar that ztunnel captures are in the mesh."""
    captured = {"ambient.istio.io/redirection": "enabled"}
    inv = _inventory(_workload("front-v1"), _workload("books-v1", sidecar=False, pod_annotations=captured))
    g = _graph([http("front-v1", "books-v1", 5)], inv, graphType="app")
    books = _node(g, app="books", node_type="app")
    data = _kiali_node(g, books)
    assert data.get("isAmbient") is True and "isOutOfMesh" not in data


# --- ambient (ambient_test.go) ----------------------------------------------------------------------

WAYPOINT = {"gateway.istio.io/managed": "istio.io-mesh-controller",
            "gateway.networking.k8s.io/gateway-name": "store-waypoint"}


def _waypoint_mesh() -> tuple[list[Sample], Inventory]:
    """books is served by books-v1, books-v2 and a workload called "books-waypoint-v2" that is no
    waypoint; store-waypoint is the namespace's waypoint. kube-system's dns is called too."""
    zt = {"app": "ztunnel"}
    samples = [http("front-v1", "books-v1", 3, reporter="waypoint", service="books"),
               http("front-v1", "books-v2", 3, reporter="waypoint", service="books"),
               http("front-v1", "books-waypoint-v2", 1, service="books"),
               tcp("front-v1", "store-waypoint", 30, service="books", reporter="source", **zt),
               tcp("store-waypoint", "books-v1", 15, service="books", **zt),
               tcp("store-waypoint", "books-v2", 15, service="books", **zt),
               http("front-v1", "dns-v1", 2, dst_ns="kube-system", service="kube-dns", reporter="source")]
    inv = _inventory(_workload("front-v1", sidecar=False), _workload("books-v1", sidecar=False),
                     _workload("books-v2", sidecar=False),
                     _workload("books-waypoint-v2", labels_={"app": "books", "version": "v2"}),
                     _workload("store-waypoint", sidecar=False, labels_=WAYPOINT),
                     namespaces=(Namespace(NS, labels={"istio.io/dataplane-mode": "ambient"}),
                                 Namespace("kube-system")))
    return samples, inv


def test_hiding_waypoints_removes_the_waypoint_node_only() -> None:
    """TestRemoveWaypoint: without waypoints the waypoint's node goes; a workload whose name only looks
    like a waypoint's stays, and so do the service and the versions."""
    samples, inv = _waypoint_mesh()
    shown = _graph(samples, inv, graphType="versionedApp", injectServiceNodes=True)
    hidden = _graph(samples, inv, graphType="versionedApp", injectServiceNodes=True, showWaypoints=False)
    gone = {n.id for n in shown.nodes.values()} - {n.id for n in hidden.nodes.values()}
    assert [shown.nodes[i].workload for i in gone] == ["store-waypoint"]
    assert _wl(hidden, "books-waypoint-v2") and _svc(hidden, "books")
    assert not any(n.extra.get("isWaypoint") for n in hidden.nodes.values())


def test_only_a_real_waypoint_is_marked_as_one() -> None:
    """TestIsWaypointExcludedNs: with waypoints shown, the waypoint is marked, the look-alike and
    kube-system's nodes are not, and nothing is removed."""
    samples, inv = _waypoint_mesh()
    g = _graph(samples, inv, graphType="versionedApp", injectServiceNodes=True, showWaypoints=True)
    marked = {n.workload for n in g.nodes.values() if _kiali_node(g, n).get("isWaypoint")}
    assert marked == {"store-waypoint"}
    assert _node(g, workload="dns-v1").namespace == "kube-system"
    assert not _wl(g, "books-waypoint-v2").extra.get("isWaypoint")


# --- labeler (labeler_test.go) ----------------------------------------------------------------------


def test_nodes_carry_their_kubernetes_labels() -> None:
    """TestLabeler: a versioned node takes its workload's labels, the app node the labels of all the app's
    workloads and Services (differing values joined, "east,west"), a service node its Service's; the
    app and version labels are left out."""
    inv = _inventory(_workload("front-v1"),
                     _workload("stock-v1", labels_={"app": "stock", "version": "v1", "zone": "east"}),
                     _workload("stock-v2", labels_={"app": "stock", "version": "v2", "zone": "west"}),
                     services=(Service("stock", NS, selector={"app": "stock"}, labels={"app": "stock", "zone": "east"}),))
    samples = [http("front-v1", "stock-v1", 2, service="stock"), http("front-v1", "stock-v2", 2, service="stock")]
    v = _graph(samples, inv, graphType="versionedApp", injectServiceNodes=True)
    assert _kiali_node(v, _node(v, app="stock", version="v1"))["labels"] == {"zone": "east"}
    assert _kiali_node(v, _node(v, app="stock", version="v2"))["labels"] == {"zone": "west"}
    assert _kiali_node(v, _svc(v, "stock"))["labels"] == {"zone": "east"}
    a = _graph(samples, inv, graphType="app")
    assert _kiali_node(a, _node(a, app="stock", node_type="app"))["labels"] == {"zone": "east,west"}
    w = _graph(samples, inv, graphType="workload")
    assert _kiali_node(w, _wl(w, "stock-v1"))["labels"] == {"zone": "east"}
    assert "labels" not in _kiali_node(w, _wl(w, "front-v1"))


# --- what Kiali's appender queries never return ------------------------------------------------------


def test_zero_or_negative_times_and_byte_rates_are_not_shown() -> None:
    """Kiali's response time and throughput queries keep values above 0 only. A snapshot (hand-made or
    damaged) with a negative duration or byte rate showed it on the edge ("-3" ms); now such a sample is
    skipped and said, like a negative request rate, and a zero is no measurement."""
    def took(ms: float) -> Sample:
        return Sample("istio_request_duration_milliseconds",
                      labels("front-v1", "books-v1", request_protocol="http", stat="0.95"), ms)

    def sent(size: float) -> Sample:
        return Sample("istio_response_bytes", labels("front-v1", "books-v1", request_protocol="http", stat="rate"),
                      size)

    for bad in ([took(-3), sent(-40)], [took(0), sent(0)]):
        g = _graph([http("front-v1", "books-v1", 10), *bad])
        e = _edge(g, _wl(g, "front-v1"), _wl(g, "books-v1"))
        assert e.response_time is None and e.throughput is None
        assert "responseTime" not in _kiali_edge(g, e) and "throughput" not in _kiali_edge(g, e)
        assert ("skipped 2 samples: negative value" in g.warnings) == (bad[0].value < 0)
    g = _graph([http("front-v1", "books-v1", 10), took(0.4), sent(2)])
    e = _edge(g, _wl(g, "front-v1"), _wl(g, "books-v1"))
    assert (e.response_time, e.throughput) == (pytest.approx(0.4), pytest.approx(2))


def test_a_caller_from_a_namespace_not_chosen_is_judged_only_when_its_workload_was_read() -> None:
    """Kiali's mesh check badges any node whose workload it can read, outsiders too; meshdesk reads the
    chosen namespaces' workloads, so a sidecar-less caller from elsewhere is badged once the inventory
    has it (its namespace chosen), and otherwise left unjudged (docs/kiali-differences.md)."""
    samples = [http("client-v1", "books-v1", 5, src_ns="legacy")]
    partial = _inventory(_workload("books-v1"), namespaces=(Namespace(NS),))
    both = _inventory(_workload("books-v1"), _workload("client-v1", "legacy", sidecar=False),
                      namespaces=(Namespace(NS), Namespace("legacy")))
    for inv, badged in ((partial, False), (both, True)):
        g = _graph(samples, inv)
        client = _wl(g, "client-v1")
        assert client.is_outside and bool(_kiali_node(g, client).get("isOutOfMesh")) is badged
