"""What the demo cluster runs: namespaces, workloads, services, default Istio config, and who calls whom.

Everything here is written as plain Python data for meshdesk's own small demo. Three namespaces:

- ``hello``: two versions of a ``helloworld`` service, a ``sleep`` client that curls it, and an
  ``uptime-checker`` deployed without a sidecar (its server sees an unknown client).
- ``shop``: a small book shop. ``productpage`` renders pages from ``details``, ``reviews`` (three
  versions, two of which ask ``ratings``), checks stock over gRPC at ``inventory`` and charges cards at
  an external payments API (a ServiceEntry). ``ratings`` reads a ``mongodb`` database over plain TCP;
  the database runs without a sidecar. ``recommendations`` is deployed but nobody calls it.
- ``travel``: an Istio **ambient** namespace (``istio.io/dataplane-mode=ambient``): no sidecars. A
  ``traveller`` client searches at ``search``, which asks ``flights``; the namespace's ``waypoint``
  proxy carries every request, so the waypoint reports the requests (``reporter="waypoint"``) and
  ztunnel reports the TCP bytes of each hop (client -> waypoint -> server).
- ``istio-system``: the ingress gateway (where users come in), istiod and Prometheus.

The simulation (``traffic.py``) reads the ``CALLS`` and ``BEHAVIOURS`` tables; the inventory and the
Istio objects are built from ``WORKLOADS``/``SERVICES``/``default_istio_config``.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from meshdesk.mesh.inventory import (
    AMBIENT_ANNOTATION,
    SYNCED,
    XDS_KINDS,
    Container,
    IstioObject,
    MeshConfig,
    Namespace,
    Pod,
    Service,
    ServicePort,
    Workload,
)

CLUSTER = "demo"
# the demo cluster's network: its istio-system's topology.istio.io/network label (as Istio's multi-network
# install sets it), and so its mesh config's, as a live cluster's is read
NETWORK = "demo-net"
# the GatewayClasses an Istio install makes: name -> its controller
GATEWAY_CLASSES = {"istio": "istio.io/gateway-controller", "istio-remote": "istio.io/unmanaged-gateway",
                   "istio-waypoint": "istio.io/mesh-controller"}
# the demo's mesh config: Istio's defaults, as istiod's own ConfigMap holds them after a plain install, and
# one external authorizer a CUSTOM AuthorizationPolicy may name; the network its istio-system's label names
# (it said none, where the label said demo-net)
MESH_SETTINGS = MeshConfig(source="istio-system/istio", extension_providers={"ext-authz": "envoyExtAuthzGrpc"},
                           network=NETWORK)
DOMAIN = "svc.cluster.local"
PROXY_IMAGE = "docker.io/istio/proxyv2:1.24.2"
ISTIO_VERSION = "1.24.2"

HTTP = "http"
GRPC = "grpc"
TCP = "tcp"


# -- the static mesh -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadSpec:
    namespace: str
    name: str
    app: str
    version: str = ""  # "" = no version label (canonical revision "latest")
    kind: str = "Deployment"
    replicas: int = 1
    sidecar: bool = True
    image: str = ""
    restarts: tuple[int, ...] = ()  # per pod; missing = 0
    extra_labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    pod_annotations: tuple[tuple[str, str], ...] = ()  # its pods' own (kiali.io/dashboards, ...)
    ports: tuple[int, ...] = ()
    service_account: str = ""  # "" = the app name
    pod_age_days: float = 0.0  # pods recreated this long ago (0: as old as the workload)
    waypoint: bool = False  # an ambient waypoint proxy (an Envoy the mesh controller deploys)

    @property
    def principal(self) -> str:
        """The SPIFFE identity its sidecar presents (without the ``spiffe://`` scheme, as policies write it)."""
        return f"cluster.local/ns/{self.namespace}/sa/{self.service_account or self.app}"


@dataclass(frozen=True)
class ServiceSpec:
    namespace: str
    name: str
    ports: tuple[tuple[str, int, str], ...]  # (port name, number, appProtocol)
    selector: tuple[tuple[str, str], ...]
    type: str = "ClusterIP"


NAMESPACES: tuple[tuple[str, dict[str, str]], ...] = (
    ("hello", {"istio-injection": "enabled", "kubernetes.io/metadata.name": "hello"}),
    ("shop", {"istio-injection": "enabled", "kubernetes.io/metadata.name": "shop", "team": "storefront"}),
    ("travel", {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint",
                "kubernetes.io/metadata.name": "travel"}),
    ("istio-system", {"kubernetes.io/metadata.name": "istio-system", "topology.istio.io/network": NETWORK}),
)
# namespaces whose pods are in the mesh through ztunnel (and their waypoint), not through sidecars
AMBIENT_NAMESPACES = frozenset(name for name, labels in NAMESPACES if labels.get("istio.io/dataplane-mode") == "ambient")
# what marks a waypoint's pods (the label Kiali and meshdesk recognise waypoints by)
WAYPOINT_LABELS: tuple[tuple[str, str], ...] = (
    ("gateway.istio.io/managed", "istio.io-mesh-controller"),
    ("gateway.networking.k8s.io/gateway-name", "waypoint"),
    ("istio.io/dataplane-mode", "none"),
)
_TRAVEL_REGISTRY = "registry.example.com/travel"

_SHOP_REGISTRY = "registry.example.com/shop"

WORKLOADS: tuple[WorkloadSpec, ...] = (
    WorkloadSpec("hello", "helloworld-v1", "helloworld", "v1", image="registry.example.com/hello/greeter:1.0.3",
                 ports=(5000,)),
    WorkloadSpec("hello", "helloworld-v2", "helloworld", "v2", image="registry.example.com/hello/greeter:2.0.0",
                 ports=(5000,)),
    WorkloadSpec("hello", "sleep", "sleep", "", image="docker.io/curlimages/curl:8.10.1"),
    # an old uptime checker someone deployed with injection turned off: the server sees "unknown"
    WorkloadSpec("hello", "uptime-checker", "uptime-checker", "v1", sidecar=False,
                 image="registry.example.com/ops/uptime-checker:0.3.1",
                 extra_labels=(("sidecar.istio.io/inject", "false"),)),
    WorkloadSpec("shop", "productpage-v1", "productpage", "v1", image=f"{_SHOP_REGISTRY}/productpage:1.8.0",
                 ports=(9080,)),
    # details answers 404 for books it does not know; its owners tolerate more 4xx than the default
    WorkloadSpec("shop", "details-v1", "details", "v1", image=f"{_SHOP_REGISTRY}/details:1.4.2", ports=(9080,),
                 annotations=(("health.kiali.io/rate", "404,5,15,http,inbound"),)),
    WorkloadSpec("shop", "reviews-v1", "reviews", "v1", image=f"{_SHOP_REGISTRY}/reviews:1.0.7", ports=(9080,)),
    WorkloadSpec("shop", "reviews-v2", "reviews", "v2", image=f"{_SHOP_REGISTRY}/reviews:2.1.0", ports=(9080,)),
    WorkloadSpec("shop", "reviews-v3", "reviews", "v3", image=f"{_SHOP_REGISTRY}/reviews:3.0.1", ports=(9080,),
                 restarts=(2,)),
    WorkloadSpec("shop", "ratings-v1", "ratings", "v1", image=f"{_SHOP_REGISTRY}/ratings:1.2.0", ports=(9080,),
                 pod_age_days=2.5),
    # a Go service whose pods name their runtime dashboard (Kiali's kiali.io/dashboards annotation)
    WorkloadSpec("shop", "inventory-v1", "inventory", "v1", replicas=2, image=f"{_SHOP_REGISTRY}/inventory:0.9.4",
                 ports=(50051,), pod_annotations=(("kiali.io/dashboards", "go"),)),
    WorkloadSpec("shop", "mongodb-v1", "mongodb", "v1", kind="StatefulSet", sidecar=False,
                 image="docker.io/library/mongo:7.0.14", ports=(27017,),
                 extra_labels=(("sidecar.istio.io/inject", "false"),)),
    WorkloadSpec("shop", "recommendations-v1", "recommendations", "v1",
                 image=f"{_SHOP_REGISTRY}/recommendations:0.1.0", ports=(8080,)),
    # ambient: no sidecars; the waypoint is the namespace's L7 proxy
    WorkloadSpec("travel", "traveller", "traveller", "", sidecar=False, image="docker.io/curlimages/curl:8.10.1"),
    WorkloadSpec("travel", "search-v1", "search", "v1", sidecar=False, image=f"{_TRAVEL_REGISTRY}/search:2.3.0",
                 ports=(8080,)),
    WorkloadSpec("travel", "flights-v1", "flights", "v1", sidecar=False, image=f"{_TRAVEL_REGISTRY}/flights:1.1.4",
                 ports=(8080,)),
    WorkloadSpec("travel", "waypoint", "waypoint", "", sidecar=False, image=PROXY_IMAGE, waypoint=True,
                 extra_labels=WAYPOINT_LABELS, ports=(15008, 15021), service_account="waypoint"),
    WorkloadSpec("istio-system", "istio-ingressgateway", "istio-ingressgateway", "", image=PROXY_IMAGE,
                 extra_labels=(("istio", "ingressgateway"), ("operator.istio.io/component", "IngressGateways")),
                 ports=(8080, 8443),
                 service_account="istio-ingressgateway-service-account"),
    WorkloadSpec("istio-system", "istiod", "istiod", "", image=f"docker.io/istio/pilot:{ISTIO_VERSION}",
                 sidecar=False, extra_labels=(("istio", "pilot"), ("sidecar.istio.io/inject", "false")),
                 ports=(15010, 15012, 15017)),
    WorkloadSpec("istio-system", "prometheus", "prometheus", "", image="docker.io/prom/prometheus:v2.54.1",
                 sidecar=False, extra_labels=(("sidecar.istio.io/inject", "false"),), ports=(9090,)),
)

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("hello", "helloworld", (("http", 5000, "http"),), (("app", "helloworld"),)),
    ServiceSpec("hello", "sleep", (("http", 80, "http"),), (("app", "sleep"),)),
    ServiceSpec("shop", "productpage", (("http", 9080, "http"),), (("app", "productpage"),)),
    ServiceSpec("shop", "details", (("http", 9080, "http"),), (("app", "details"),)),
    ServiceSpec("shop", "reviews", (("http", 9080, "http"),), (("app", "reviews"),)),
    ServiceSpec("shop", "ratings", (("http", 9080, "http"),), (("app", "ratings"),)),
    ServiceSpec("shop", "inventory", (("grpc", 50051, "grpc"),), (("app", "inventory"),)),
    ServiceSpec("shop", "mongodb", (("tcp-mongo", 27017, "tcp"),), (("app", "mongodb"),)),
    ServiceSpec("shop", "recommendations", (("http", 8080, "http"),), (("app", "recommendations"),)),
    ServiceSpec("travel", "search", (("http", 8080, "http"),), (("app", "search"),)),
    ServiceSpec("travel", "flights", (("http", 8080, "http"),), (("app", "flights"),)),
    ServiceSpec("istio-system", "istio-ingressgateway",
                (("status-port", 15021, ""), ("http2", 80, "http"), ("https", 443, "")),
                (("app", "istio-ingressgateway"), ("istio", "ingressgateway")), type="LoadBalancer"),
    ServiceSpec("istio-system", "istiod",
                (("grpc-xds", 15010, "grpc"), ("https-dns", 15012, ""), ("https-webhook", 443, ""),
                 ("http-monitoring", 15014, "http")),
                (("app", "istiod"), ("istio", "pilot"))),
    ServiceSpec("istio-system", "prometheus", (("http", 9090, "http"),), (("app", "prometheus"),)),
)

PAYMENTS_HOST = "api.payments.example.com"


def fqdn(service: str, namespace: str) -> str:
    return f"{service}.{namespace}.{DOMAIN}"


# -- who calls whom --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # a concrete example path, used for VirtualService uri matches
    share: float  # of the call's requests
    name: str = ""  # request_operation; default "METHOD /path-template"

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"


@dataclass(frozen=True)
class Call:
    """Traffic one workload sends. ``host`` is a service FQDN or an external host; ``host == "*"``
    marks the ingress gateway's own traffic, which its bound VirtualServices route by path."""

    client: tuple[str, str]  # (namespace, workload)
    host: str
    protocol: str
    # requests per second for a traffic source (gateway, curl loop); otherwise calls per request served
    base_rps: float = 0.0
    per_request: float = 0.0
    operations: tuple[Operation, ...] = ()
    request_bytes: float = 400.0
    response_bytes: float = 1500.0
    response_messages: float = 1.0  # gRPC: messages per response (streams send more)
    port: int = 0


def _ops(*items: tuple[str, str, float] | tuple[str, str, float, str]) -> tuple[Operation, ...]:
    return tuple(Operation(*item) for item in items)


GATEWAY = ("istio-system", "istio-ingressgateway")

CALLS: tuple[Call, ...] = (
    # users through the ingress gateway; where each path goes is the gateway VirtualServices' business
    Call(GATEWAY, "*", HTTP, base_rps=11.0, request_bytes=650, response_bytes=5200, port=80,
         operations=_ops(("GET", "/productpage", 0.62, "GET /productpage"),
                         ("GET", "/api/v1/products", 0.16, "GET /api/v1/products"),
                         ("GET", "/api/v1/products/4/reviews", 0.08, "GET /api/v1/products/{id}/reviews"),
                         ("POST", "/api/v1/orders", 0.04, "POST /api/v1/orders"),
                         ("GET", "/hello", 0.10, "GET /hello"))),
    # the curl loop in hello
    Call(("hello", "sleep"), fqdn("helloworld", "hello"), HTTP, base_rps=1.0, request_bytes=120,
         response_bytes=60, port=5000, operations=_ops(("GET", "/hello", 1.0))),
    # the sidecar-less uptime checker, every five seconds
    Call(("hello", "uptime-checker"), fqdn("helloworld", "hello"), HTTP, base_rps=0.2, request_bytes=110,
         response_bytes=60, port=5000, operations=_ops(("GET", "/hello", 1.0))),
    # productpage renders a page from its backends
    Call(("shop", "productpage-v1"), fqdn("details", "shop"), HTTP, per_request=0.9, request_bytes=300,
         response_bytes=700, port=9080, operations=_ops(("GET", "/details/4", 1.0, "GET /details/{id}"))),
    Call(("shop", "productpage-v1"), fqdn("reviews", "shop"), HTTP, per_request=0.95, request_bytes=300,
         response_bytes=1900, port=9080, operations=_ops(("GET", "/reviews/4", 1.0, "GET /reviews/{id}"))),
    Call(("shop", "productpage-v1"), fqdn("inventory", "shop"), GRPC, per_request=0.55, request_bytes=90,
         response_bytes=240, port=50051,
         operations=_ops(("POST", "/inventory.v1.Stock/Check", 0.9, "inventory.v1.Stock/Check"),
                         ("POST", "/inventory.v1.Stock/Reserve", 0.1, "inventory.v1.Stock/Reserve"))),
    Call(("shop", "productpage-v1"), PAYMENTS_HOST, HTTP, per_request=0.04, request_bytes=900,
         response_bytes=1300, port=80, operations=_ops(("POST", "/v1/charges", 1.0))),
    # reviews v2 and v3 show stars, so they ask ratings
    Call(("shop", "reviews-v2"), fqdn("ratings", "shop"), HTTP, per_request=1.0, request_bytes=250,
         response_bytes=180, port=9080, operations=_ops(("GET", "/ratings/4", 1.0, "GET /ratings/{id}"))),
    Call(("shop", "reviews-v3"), fqdn("ratings", "shop"), HTTP, per_request=1.0, request_bytes=250,
         response_bytes=180, port=9080, operations=_ops(("GET", "/ratings/4", 1.0, "GET /ratings/{id}"))),
    # ratings keeps its numbers in a database, over plain TCP (bytes are per request served)
    Call(("shop", "ratings-v1"), fqdn("mongodb", "shop"), TCP, per_request=1.0, request_bytes=280,
         response_bytes=1100, port=27017),
    # ambient (travel): every request goes client -> waypoint -> server
    Call(("travel", "traveller"), fqdn("search", "travel"), HTTP, base_rps=2.0, request_bytes=220,
         response_bytes=2600, port=8080, operations=_ops(("GET", "/search?to=LIS", 1.0, "GET /search"))),
    Call(("travel", "search-v1"), fqdn("flights", "travel"), HTTP, per_request=1.5, request_bytes=180,
         response_bytes=900, port=8080, operations=_ops(("GET", "/flights/LIS", 1.0, "GET /flights/{airport}"))),
)


# -- how each server behaves -------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A share of requests that fail. ``source_only``: the request never reached the server (an
    upstream connect failure), so only the client's proxy reports it. ``retriable``: Envoy's default
    retry policy retries it (connect failures)."""

    code: str
    share: float
    flags: str = "-"
    grpc_status: str = ""
    source_only: bool = False
    retriable: bool = False


@dataclass(frozen=True)
class Behaviour:
    """A server's own latency (median ms and spread), its steady failures and what a burst adds."""

    median_ms: float
    sigma: float = 0.45
    failures: tuple[Failure, ...] = ()
    burst: tuple[Failure, ...] = ()
    burst_chance: float = 0.12  # chance that a given half hour has a burst
    burst_latency: float = 1.8  # latency multiplier at the peak of a burst


# Most servers answer cleanly (healthy in Kiali's terms) and fail only in bursts; reviews v3, the
# inventory's NOT_FOUND answers and the external payments API keep a steady trickle of errors.
BEHAVIOURS: dict[tuple[str, str], Behaviour] = {
    ("hello", "helloworld-v1"): Behaviour(4.0, 0.35, burst=(Failure("503", 0.06),)),
    ("hello", "helloworld-v2"): Behaviour(6.0, 0.4, burst=(Failure("503", 0.08),)),
    ("hello", "sleep"): Behaviour(2.0),
    ("hello", "uptime-checker"): Behaviour(2.0),
    ("shop", "productpage-v1"): Behaviour(18.0, 0.5, burst=(Failure("500", 0.03),)),
    ("shop", "details-v1"): Behaviour(6.0, 0.4, failures=(Failure("404", 0.008),)),
    ("shop", "reviews-v1"): Behaviour(14.0, 0.45),
    ("shop", "reviews-v2"): Behaviour(20.0, 0.5),
    # the newest reviews has a bug that fails a few requests all the time
    ("shop", "reviews-v3"): Behaviour(24.0, 0.55, failures=(Failure("500", 0.004),),
                                      burst=(Failure("503", 0.12),), burst_chance=0.2),
    # ratings is healthy until it falls over now and then (connection failures, sometimes a crash)
    ("shop", "ratings-v1"): Behaviour(5.0, 0.5, burst=(Failure("503", 0.3, "UF", source_only=True, retriable=True),
                                             Failure("500", 0.05))),
    ("shop", "inventory-v1"): Behaviour(8.0, 0.4, failures=(Failure("200", 0.02, grpc_status="5"),),
                                        burst=(Failure("200", 0.1, grpc_status="14"),)),
    ("shop", "mongodb-v1"): Behaviour(2.5, 0.6),
    ("shop", "recommendations-v1"): Behaviour(10.0),
    ("travel", "traveller"): Behaviour(2.0),
    ("travel", "search-v1"): Behaviour(12.0, 0.45, burst=(Failure("503", 0.05),)),
    ("travel", "flights-v1"): Behaviour(9.0, 0.4, failures=(Failure("404", 0.01),)),
    ("travel", "waypoint"): Behaviour(0.5),
    ("istio-system", "istio-ingressgateway"): Behaviour(1.0),
    ("istio-system", "istiod"): Behaviour(3.0),
    ("istio-system", "prometheus"): Behaviour(12.0),
    # the payments provider, outside the mesh
    ("", PAYMENTS_HOST): Behaviour(140.0, 0.5, failures=(Failure("502", 0.004),),
                                   burst=(Failure("503", 0.2),), burst_chance=0.1),
}


# -- inventory ----------------------------------------------------------------------------------------

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def _token(seed: int, *parts: str, length: int) -> str:
    digest = hashlib.blake2b("\x1f".join((str(seed),) + parts).encode(), digest_size=16).digest()
    return "".join(_NAME_CHARS[b % len(_NAME_CHARS)] for b in digest[:length])


def _number(seed: int, *parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join((str(seed),) + parts).encode(), digest_size=4).digest(),
                          "big")


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def pod_labels(spec: WorkloadSpec) -> dict[str, str]:
    labels = {"app": spec.app} if not spec.waypoint else {}  # a waypoint is no app
    if spec.version:
        labels["version"] = spec.version
    labels.update(dict(spec.extra_labels))
    return labels


def pod_ip(seed: int, spec: WorkloadSpec, i: int) -> str:
    """The address of the workload's ``i``-th pod (the traffic's source address in policies too)."""
    n = _number(seed, spec.namespace, spec.name, str(i), "ip")
    return f"10.244.{n % 3}.{2 + (n >> 8) % 250}"


def build_workloads(seed: int, now: float) -> list[Workload]:
    out: list[Workload] = []
    for spec in WORKLOADS:
        template = pod_labels(spec)
        created = now - 86400 * (12 + _number(seed, spec.name, "age") % 20)
        template_hash = _token(seed, spec.namespace, spec.name, "template", length=10)
        pod_created = created + 120
        if spec.pod_age_days:
            pod_created = now - 86400 * spec.pod_age_days - _number(seed, spec.name, "pod-age") % 7200
        pods: list[Pod] = []
        for i in range(spec.replicas):
            if spec.kind == "StatefulSet":
                name = f"{spec.name}-{i}"
            else:
                name = f"{spec.name}-{template_hash}-{_token(seed, spec.name, str(i), length=5)}"
            labels = dict(template)
            annotations: dict[str, str] = dict(spec.pod_annotations)
            if spec.kind != "StatefulSet":
                labels["pod-template-hash"] = template_hash
            restarts = spec.restarts[i] if i < len(spec.restarts) else 0
            proxy_only = spec.name == "istio-ingressgateway" or spec.waypoint
            app = Container(name=spec.app if not proxy_only else "istio-proxy",
                            image=spec.image, ready=True, restarts=restarts, state="running", ports=list(spec.ports))
            containers = [app]
            init: list[Container] = []
            if spec.name == "istio-ingressgateway":
                labels["service.istio.io/canonical-name"] = spec.app
                labels["service.istio.io/canonical-revision"] = "latest"
                annotations["sidecar.istio.io/inject"] = "false"
            elif spec.waypoint:
                labels["service.istio.io/canonical-name"] = spec.app
                labels["service.istio.io/canonical-revision"] = "latest"
            elif spec.namespace in AMBIENT_NAMESPACES:
                annotations[AMBIENT_ANNOTATION] = "enabled"  # what the Istio CNI marks ambient pods with
            if spec.ports:
                annotations["prometheus.io/port"] = "15020" if spec.waypoint else str(spec.ports[0])
                annotations["prometheus.io/scrape"] = "true"
            n = _number(seed, spec.namespace, spec.name, str(i), "ip")
            pods.append(Pod(
                name=name, namespace=spec.namespace, labels=labels, annotations=annotations, phase="Running",
                containers=containers, init_containers=init,
                owner_kind="ReplicaSet" if spec.kind == "Deployment" else spec.kind,
                owner_name=f"{spec.name}-{template_hash}" if spec.kind == "Deployment" else spec.name,
                node_name=f"demo-worker-{1 + n % 3}", service_account=spec.service_account or spec.app, ip=pod_ip(seed, spec, i),
                created=_iso(pod_created + 60 * i),
            ))
            if spec.sidecar and spec.name != "istio-ingressgateway":
                set_sidecar(pods[-1], spec, True)
        annotations = {"deployment.kubernetes.io/revision": "1"} if spec.kind == "Deployment" else {}
        annotations.update(dict(spec.annotations))
        out.append(Workload(
            name=spec.name, namespace=spec.namespace, kind=spec.kind, labels=template, annotations=annotations,
            pods=pods, replicas=spec.replicas, available=spec.replicas, ready=spec.replicas, cluster=CLUSTER,
            created=_iso(created),
        ))
    return out


def set_sidecar(pod: Pod, spec: WorkloadSpec, on: bool) -> None:
    """Give a pod what Istio's injection adds (the istio-proxy container, istio-init, its labels and
    annotations, istiod's word that it is in sync), or take it all away: a pod made again after the
    namespace's injection changed."""
    proxy = Container(name="istio-proxy", image=PROXY_IMAGE, ready=True, state="running", ports=[15090],
                      port_names=["http-envoy-prom"], named_ports={"http-envoy-prom": 15090})
    init = Container(name="istio-init", image=PROXY_IMAGE, ready=True, state="terminated:Completed", ports=[])
    labels = {"security.istio.io/tlsMode": "istio", "service.istio.io/canonical-name": spec.app,
              "service.istio.io/canonical-revision": spec.version or "latest"}
    annotations = {
        "sidecar.istio.io/status": (
            '{"initContainers":["istio-init"],"containers":["istio-proxy"],'
            '"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],'
            '"revision":"default"}'),
        "kubectl.kubernetes.io/default-container": spec.app,
    }
    pod.containers = [c for c in pod.containers if c.name != "istio-proxy"]
    pod.init_containers = [c for c in pod.init_containers if c.name != "istio-init"]
    for key in labels:
        pod.labels.pop(key, None)
    for key in annotations:
        pod.annotations.pop(key, None)
    pod.proxy_sync = {}
    if on:
        pod.labels.update(labels)
        pod.annotations.update(annotations)
        pod.containers.append(proxy)
        pod.init_containers.append(init)
        pod.proxy_sync = dict.fromkeys(XDS_KINDS, SYNCED)  # istiod's word: the demo's proxies are in sync
    if spec.ports and not spec.waypoint:
        # Istio merges the app's metrics into the agent's (port 15020) when the pod has a sidecar
        pod.annotations["prometheus.io/port"] = "15020" if on else str(spec.ports[0])


def build_services(seed: int) -> list[Service]:
    out: list[Service] = []
    for spec in SERVICES:
        n = _number(seed, spec.namespace, spec.name, "svc")
        ports = [ServicePort(name=p[0], port=p[1], protocol="TCP", target_port=str(p[1]), app_protocol=p[2])
                 for p in spec.ports]
        out.append(Service(
            name=spec.name, namespace=spec.namespace, type=spec.type, ports=ports, selector=dict(spec.selector),
            labels={"app": spec.name}, cluster_ip=f"10.96.{(n >> 8) % 250}.{1 + n % 250}", cluster=CLUSTER,
        ))
    return out


def build_namespaces() -> list[Namespace]:
    return [Namespace(name=name, labels=dict(labels), cluster=CLUSTER) for name, labels in NAMESPACES]


def _obj(kind: str, namespace: str, name: str, spec: dict[str, Any], api: str = "networking.istio.io/v1",
         labels: dict[str, str] | None = None) -> IstioObject:
    return IstioObject(kind=kind, name=name, namespace=namespace, api_version=api, spec=spec,
                       labels=dict(labels or {}), cluster=CLUSTER)


def default_istio_config() -> list[IstioObject]:
    """The config a fresh demo starts with (the user may change any of it through ``apply``)."""
    shop_ingress_routes: list[dict[str, Any]] = [
        {
            "name": "storefront",
            "match": [{"uri": {"exact": "/productpage"}}, {"uri": {"prefix": "/api/v1/products"}},
                      {"uri": {"prefix": "/api/v1/orders"}}, {"uri": {"prefix": "/static"}}],
            "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}],
        }
    ]
    return [
        _obj("Gateway", "istio-system", "public-gateway", {
            "selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}],
        }),
        _obj("VirtualService", "shop", "storefront", {
            "hosts": ["*"], "gateways": ["istio-system/public-gateway"], "http": shop_ingress_routes,
        }),
        _obj("VirtualService", "hello", "hello-ingress", {
            "hosts": ["*"], "gateways": ["istio-system/public-gateway"],
            "http": [{"match": [{"uri": {"prefix": "/hello"}}],
                      "route": [{"destination": {"host": "helloworld", "port": {"number": 5000}}}]}],
        }),
        _obj("DestinationRule", "hello", "helloworld", {
            "host": "helloworld",
            "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}],
        }),
        _obj("DestinationRule", "shop", "reviews", {
            "host": "reviews",
            "trafficPolicy": {"loadBalancer": {"simple": "LEAST_REQUEST"}},
            "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}},
                        {"name": "v3", "labels": {"version": "v3"}}],
        }),
        _obj("VirtualService", "shop", "reviews", {
            "hosts": ["reviews"],
            "http": [{"route": [
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": 30},
                {"destination": {"host": "reviews", "subset": "v3"}, "weight": 20},
            ]}],
        }),
        _obj("ServiceEntry", "shop", "payments-api", {
            "hosts": [PAYMENTS_HOST],
            "location": "MESH_EXTERNAL",
            "resolution": "DNS",
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP", "targetPort": 443}],
        }),
        _obj("DestinationRule", "shop", "payments-api-tls", {
            "host": PAYMENTS_HOST,
            "trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}, "tls": {"mode": "SIMPLE"}}]},
        }),
        _obj("PeerAuthentication", "shop", "default", {"mtls": {"mode": "STRICT"}},
             api="security.istio.io/v1"),
        # ambient's L7 routing is the Gateway API's: a mesh route (GAMMA) whose parent is the flights
        # Service; the travel namespace's waypoint applies it (a timeout for the slow fare search)
        _obj("K8sHTTPRoute", "travel", "flights", {
            "parentRefs": [{"group": "", "kind": "Service", "name": "flights", "port": 8080}],
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                       "backendRefs": [{"name": "flights", "port": 8080}],
                       "timeouts": {"request": "5s"}}],
        }, api="gateway.networking.k8s.io/v1"),
    ]
