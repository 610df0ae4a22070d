"""A synthetic Envoy ``/config_dump`` for a demo pod, made from the demo mesh itself, so the Envoy dock
shows on the demo what it shows on a cluster.

It follows what istiod sends each kind of proxy (in shape; the data is meshdesk's own):

- a **sidecar** sees every service of the mesh its Sidecar's egress imports (all without one): an
  ``outbound|port||host`` cluster per service port and ServiceEntry port, one per DestinationRule
  subset (with the rule in its metadata); an outbound listener per HTTP port (routes by name, the port
  number) and per TCP service (its address), the virtual outbound and inbound listeners, an inbound
  cluster per port its app serves; the routes of each HTTP port, from the VirtualServices that apply
  (weights, subsets, uri matches); unknown hosts go to PassthroughCluster, or with REGISTRY_ONLY to
  BlackHoleCluster (502 for HTTP);
- the **ingress gateway** (a router): the same clusters, no inbound side, a listener on its container
  port with the routes of the VirtualServices bound to its Gateway;
- a **waypoint** (ambient): an ``inbound-vip`` cluster and a route configuration per service of its
  namespace, its internal listeners and the HBONE listener on 15008.

Every proxy has a bootstrap (node id, metadata) and a secrets section whose private key Envoy itself
has blanked (``[redacted]``), as a real dump has.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
import time
import zlib
from collections.abc import Iterable
from typing import Any

from meshdesk.mesh.inventory import IstioObject, Pod, Service, Workload
from meshdesk.sources.demo.mesh import DOMAIN, ISTIO_VERSION, fqdn

ADMIN = "type.googleapis.com/envoy.admin.v3."
ENVOY_VERSION = (1, 32, 3)  # the Envoy Istio 1.24 ships
VERSION_INFO = "2026-01-01T00:00:00Z/42"
HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
PEER_EXCHANGE = ["istio-peer-exchange", "istio"]
STATIC_CLUSTERS = (("prometheus_stats", "STATIC"), ("agent", "STATIC"), ("sds-grpc", "STATIC"),
                   ("xds-grpc", "STATIC"), ("zipkin", "STRICT_DNS"))


def _host(host: str, namespace: str) -> str:
    """A rule's host as Istio resolves it: a short name is a service of the rule's namespace."""
    if "." not in host:
        return fqdn(host, namespace)
    parts = host.split(".")
    return f"{host}.{DOMAIN}" if len(parts) == 2 else host


def _config_path(obj: IstioObject) -> dict[str, Any]:
    kind = {"DestinationRule": "destination-rule", "VirtualService": "virtual-service"}.get(obj.kind, obj.kind.lower())
    return {"filter_metadata": {"istio": {
        "config": f"/apis/networking.istio.io/v1/namespaces/{obj.namespace}/{kind}/{obj.name}"}}}


def _cluster(name: str, kind: str | None, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": name,
                         "connect_timeout": "10s"}
    if kind is not None:  # STATIC is Envoy's default, left out of the JSON
        c["type"] = kind
    if kind == "EDS":
        c["eds_cluster_config"] = {"eds_config": {"ads": {}, "initial_fetch_timeout": "0s"}, "service_name": name}
    if metadata:
        c["metadata"] = metadata
    return {"version_info": VERSION_INFO, "cluster": c, "last_updated": "2026-01-01T00:00:00Z"}


def _hcm_rds(route: str, stat: str) -> dict[str, Any]:
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": HCM, "stat_prefix": stat, "rds": {"route_config_name": route, "config_source": {"ads": {}}}}}


def _hcm_inline(name: str, cluster: str) -> dict[str, Any]:
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": HCM, "stat_prefix": name, "route_config": {"name": name, "virtual_hosts": [
            {"name": name, "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": cluster}}]}]}}}


def _tcp(cluster: str) -> dict[str, Any]:
    return {"name": "envoy.filters.network.tcp_proxy",
            "typed_config": {"@type": TCP_PROXY, "stat_prefix": cluster, "cluster": cluster}}


def _listener(name: str, address: str, port: int, chains: list[dict[str, Any]],
              default: dict[str, Any] | None = None) -> dict[str, Any]:
    listener: dict[str, Any] = {"name": name, "address": {"socket_address": {"address": address, "port_value": port}},
                                "filter_chains": chains}
    if default is not None:
        listener["default_filter_chain"] = default
    return listener


def _http_ports(svc: Service) -> list[int]:
    return [p.port for p in svc.ports if (p.app_protocol or p.name.split("-")[0]) in ("http", "http2", "grpc")]


def _tcp_ports(svc: Service) -> list[int]:
    return [p.port for p in svc.ports if p.port not in _http_ports(svc)]


def _uri_match(match: dict[str, Any]) -> dict[str, Any]:
    raw = match.get("uri")
    uri: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if "exact" in uri:
        return {"path": str(uri["exact"])}
    if "prefix" in uri:
        return {"prefix": str(uri["prefix"])}
    if "regex" in uri:
        return {"safe_regex": {"regex": str(uri["regex"])}}
    return {"prefix": "/"}


def _route_action(route: list[Any], vs: IstioObject, port: int) -> dict[str, Any]:
    dests = [d for d in route if isinstance(d, dict) and isinstance(d.get("destination"), dict)]
    names = []
    for d in dests:
        dest = d["destination"]
        p = (dest.get("port") or {}).get("number") if isinstance(dest.get("port"), dict) else None
        names.append((f"outbound|{p or port}|{dest.get('subset') or ''}|{_host(str(dest.get('host', '')), vs.namespace)}",
                      int(d.get("weight") or 0)))
    if len(names) == 1:
        return {"cluster": names[0][0], "timeout": "0s"}
    return {"weighted_clusters": {"clusters": [{"name": n, "weight": w} for n, w in names]}, "timeout": "0s"}


def _vs_routes(vs: IstioObject, port: int) -> list[dict[str, Any]]:
    out = []
    for i, http in enumerate(vs.spec.get("http") or []):
        if not isinstance(http, dict) or not isinstance(http.get("route"), list):
            continue
        action = _route_action(http["route"], vs, port)
        for match in http.get("match") or [{}]:
            out.append({"name": str(http.get("name") or f"{vs.name}.{i}"), "match": _uri_match(match),
                        "route": action, "metadata": _config_path(vs)})
    return out


def _applies_to_mesh(vs: IstioObject) -> bool:
    gateways = vs.spec.get("gateways") or []
    return not gateways or "mesh" in gateways


def _sidecar_routes(services: list[Service], objects: list[IstioObject],
                    registry_only: bool = False) -> list[dict[str, Any]]:
    by_port: dict[int, list[Service]] = {}
    for svc in services:
        for port in _http_ports(svc):
            by_port.setdefault(port, []).append(svc)
    virtual_services = [o for o in objects if o.kind == "VirtualService" and _applies_to_mesh(o)]
    configs = []
    for port, svcs in sorted(by_port.items()):
        hosts = []
        for svc in sorted(svcs, key=lambda s: (s.namespace, s.name)):
            host = fqdn(svc.name, svc.namespace)
            routes: list[dict[str, Any]] = []
            for vs in virtual_services:
                if any(_host(str(h), vs.namespace) == host for h in vs.spec.get("hosts") or []):
                    routes += _vs_routes(vs, port)
            if not routes:
                routes = [{"name": "default", "match": {"prefix": "/"},
                           "route": {"cluster": f"outbound|{port}||{host}", "timeout": "0s"}}]
            domains = [f"{host}:{port}", host, f"{svc.name}.{svc.namespace}.svc", f"{svc.name}.{svc.namespace}"]
            if svc.cluster_ip:
                domains.append(f"{svc.cluster_ip}:{port}")
            hosts.append({"name": f"{host}:{port}", "domains": domains, "routes": routes, "include_request_attempt_count": True})
        if registry_only:  # outboundTrafficPolicy REGISTRY_ONLY: the proxy answers unknown hosts 502
            hosts.append({"name": "block_all", "domains": ["*"],
                          "routes": [{"name": "block_all", "match": {"prefix": "/"}, "direct_response": {"status": 502}}]})
        else:
            hosts.append({"name": "allow_any", "domains": ["*"],
                          "routes": [{"name": "allow_any", "match": {"prefix": "/"},
                                      "route": {"cluster": "PassthroughCluster", "timeout": "0s"}}]})
        configs.append({"version_info": VERSION_INFO, "route_config": {
            "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": str(port),
            "virtual_hosts": hosts, "validate_clusters": False}})
    return configs


def _outbound_clusters(services: list[Service], objects: list[IstioObject]) -> list[dict[str, Any]]:
    rules: dict[str, IstioObject] = {}
    for o in objects:
        if o.kind == "DestinationRule" and o.spec.get("host"):
            rules.setdefault(_host(str(o.spec["host"]), o.namespace), o)
    out = []
    for svc in sorted(services, key=lambda s: (s.namespace, s.name)):
        host = fqdn(svc.name, svc.namespace)
        rule = rules.get(host)
        meta = _config_path(rule) if rule else None
        for p in svc.ports:
            out.append(_cluster(f"outbound|{p.port}||{host}", "EDS", meta))
            for subset in (rule.spec.get("subsets") or []) if rule else []:
                if isinstance(subset, dict) and subset.get("name"):
                    out.append(_cluster(f"outbound|{p.port}|{subset['name']}|{host}", "EDS", meta))
    for se in sorted((o for o in objects if o.kind == "ServiceEntry"), key=lambda o: (o.namespace, o.name)):
        kind = "STRICT_DNS" if se.spec.get("resolution") == "DNS" else "EDS"
        for host in se.spec.get("hosts") or []:
            rule = rules.get(str(host))
            for p in se.spec.get("ports") or []:
                if isinstance(p, dict) and p.get("number"):
                    out.append(_cluster(f"outbound|{p['number']}||{host}", kind, _config_path(rule) if rule else None))
    return out


_ROOT: list[Any] = []  # the demo mesh's root CA (key, certificate, PEM), made once per process
_CERTS_LOCK = threading.Lock()  # dumps are made on worker threads: one root, one certificate per slot
_LEAVES: dict[tuple[str, str, int], bytes] = {}  # (namespace, pod, twelve-hour slot) -> its chain's PEM
_CERT_HOURS = 24  # an Istio workload certificate's lifetime; istiod's agent renews it half-way


def _root() -> Any:
    """The demo mesh's root CA, as istiod's self-signed one ("O=cluster.local"). (Under _CERTS_LOCK.)"""
    if not _ROOT:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import Encoding
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cluster.local")])
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(0x6d657368).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        _ROOT.extend([key, cert, cert.public_bytes(Encoding.PEM)])
    return _ROOT


def _root_pem() -> bytes:
    with _CERTS_LOCK:
        return bytes(_root()[2])


def _chain(pod: Pod) -> bytes:
    """The pod's workload certificate (its SPIFFE identity, 24 hours long, issued in the last twelve: as
    the agent renews it) and the root, as PEM."""
    now = time.time()
    offset = int.from_bytes(hashlib.blake2b(f"{pod.namespace}/{pod.name}".encode(), digest_size=4).digest(), "big") \
        % (_CERT_HOURS * 1800)
    slot = int((now - offset) // (_CERT_HOURS * 1800))  # renewed every twelve hours, at the pod's own moment
    key = (pod.namespace, pod.name, slot)
    with _CERTS_LOCK:
        if key not in _LEAVES:
            _LEAVES[key] = _new_chain(pod, slot * _CERT_HOURS * 1800 + offset)
        return _LEAVES[key]


def _new_chain(pod: Pod, issued_at: float) -> bytes:
    """A certificate of the pod's identity issued at ``issued_at`` by the root, and the root. (Under _CERTS_LOCK.)"""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding

    root_key, root, root_pem = _root()
    issued = datetime.datetime.fromtimestamp(issued_at, datetime.UTC)
    identity = f"spiffe://cluster.local/ns/{pod.namespace}/sa/{pod.service_account or 'default'}"
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(root.subject)
            .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(issued)
            .not_valid_after(issued + datetime.timedelta(hours=_CERT_HOURS))
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True)
            .sign(root_key, hashes.SHA256()))
    return bytes(leaf.public_bytes(Encoding.PEM) + root_pem)


def _secrets(pod: Pod) -> dict[str, Any]:
    # the workload certificate and the root, as istiod hands them out; the key as Envoy writes it in every
    # dump: blanked
    chain = base64.b64encode(_chain(pod)).decode()
    blank = base64.b64encode(b"[redacted]").decode()
    return {"@type": ADMIN + "SecretsConfigDump", "dynamic_active_secrets": [
        {"name": "default", "version_info": VERSION_INFO, "last_updated": "2026-01-01T00:00:00Z", "secret": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "default",
            "tls_certificate": {"certificate_chain": {"inline_bytes": chain}, "private_key": {"inline_bytes": blank}}}},
        {"name": "ROOTCA", "version_info": VERSION_INFO, "secret": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "name": "ROOTCA",
            "validation_context": {"trusted_ca": {"inline_bytes": base64.b64encode(_root_pem()).decode()}}}},
    ]}


def _bootstrap(pod: Pod, workload: Workload, proxy_type: str) -> dict[str, Any]:
    major, minor, patch = ENVOY_VERSION
    return {"@type": ADMIN + "BootstrapConfigDump", "bootstrap": {
        "node": {
            "id": f"{proxy_type}~{pod.ip}~{pod.name}.{pod.namespace}~{pod.namespace}.{DOMAIN}",
            "cluster": f"{workload.app or workload.name}.{pod.namespace}",
            "metadata": {
                "ISTIO_VERSION": ISTIO_VERSION, "NAME": pod.name, "NAMESPACE": pod.namespace,
                "WORKLOAD_NAME": workload.name, "SERVICE_ACCOUNT": pod.service_account, "MESH_ID": "cluster.local",
                "CLUSTER_ID": "Kubernetes", "NETWORK": "demo-net", "INSTANCE_IPS": pod.ip,
                "INTERCEPTION_MODE": "REDIRECT", "LABELS": dict(pod.labels),
                "PROXY_CONFIG": {"discoveryAddress": "istiod.istio-system.svc:15012", "proxyAdminPort": 15000,
                                 "statusPort": 15020}},
            "user_agent_name": "envoy",
            "user_agent_build_version": {"version": {"major_number": major, "minor_number": minor, "patch": patch}},
        },
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 15000}}},
        "static_resources": {"clusters": [{"name": n} for n, _ in STATIC_CLUSTERS],
                             "listeners": [{"name": "prometheus"}, {"name": "health"}]},
        "dynamic_resources": {"lds_config": {"ads": {}}, "cds_config": {"ads": {}}},
    }}


def _static_listeners() -> list[dict[str, Any]]:
    return [{"listener": _listener("prometheus", "0.0.0.0", 15090, [{"filters": [_hcm_inline("stats", "prometheus_stats")]}])},
            {"listener": _listener("health", "0.0.0.0", 15021, [{"filters": [_hcm_inline("agent", "agent")]}])}]


def _dump(pod: Pod, workload: Workload, proxy_type: str, clusters: list[dict[str, Any]],
          listeners: list[dict[str, Any]], routes: list[dict[str, Any]]) -> dict[str, Any]:
    static = [_cluster(n, None if k == "STATIC" else k) for n, k in STATIC_CLUSTERS]
    return {"configs": [
        _bootstrap(pod, workload, proxy_type),
        {"@type": ADMIN + "ClustersConfigDump", "version_info": VERSION_INFO, "static_clusters": static,
         "dynamic_active_clusters": clusters},
        {"@type": ADMIN + "ListenersConfigDump", "version_info": VERSION_INFO, "static_listeners": _static_listeners(),
         "dynamic_listeners": [{"name": x["name"], "active_state": {"version_info": VERSION_INFO, "listener": x}}
                               for x in listeners]},
        {"@type": ADMIN + "ScopedRoutesConfigDump"},
        {"@type": ADMIN + "RoutesConfigDump", "dynamic_route_configs": routes},
        _secrets(pod),
    ]}


def _sidecar(pod: Pod, workload: Workload, services: list[Service], objects: list[IstioObject]) -> dict[str, Any]:
    # what the workload's Sidecar lets its proxy see: the services and ServiceEntries its egress imports,
    # and where unknown hosts go (PassthroughCluster, or BlackHoleCluster with REGISTRY_ONLY)
    from meshdesk.sources.demo.traffic import Config

    config = Config(objects)
    spec = config.specs.get((workload.namespace, workload.name))
    scope, mode = config.egress_scope(spec) if spec is not None else (None, "ALLOW_ANY")
    if scope is not None:
        services = [s for s in services if scope.imports(fqdn(s.name, s.namespace), workload.namespace)]
        objects = [o for o in objects if o.kind != "ServiceEntry" or scope.imports_any(o)]
    registry_only = mode == "REGISTRY_ONLY"
    unknown = "BlackHoleCluster" if registry_only else "PassthroughCluster"
    own_ports = sorted({p for c in pod.containers if c.name != "istio-proxy" for p in c.ports or []})
    clusters = [_cluster("BlackHoleCluster", None), _cluster("InboundPassthroughCluster", "ORIGINAL_DST"),
                _cluster("PassthroughCluster", "ORIGINAL_DST")]
    clusters += [_cluster(f"inbound|{p}||", "ORIGINAL_DST") for p in own_ports]
    clusters += _outbound_clusters(services, objects)
    listeners = [_listener("virtualOutbound", "0.0.0.0", 15001, [], {"filters": [_tcp(unknown)]})]
    inbound_chains = []
    for p in own_ports:
        inbound_chains.append({"filter_chain_match": {"destination_port": p, "transport_protocol": "tls",
                                                      "application_protocols": PEER_EXCHANGE},
                               "filters": [_tcp(f"inbound|{p}||")]})
        inbound_chains.append({"filter_chain_match": {"destination_port": p, "transport_protocol": "raw_buffer"},
                               "filters": [_hcm_inline(f"inbound|{p}||", f"inbound|{p}||")]})
    listeners.append(_listener("virtualInbound", "0.0.0.0", 15006, inbound_chains,
                               {"filters": [_tcp("InboundPassthroughCluster")]}))
    http_ports = sorted({p for s in services for p in _http_ports(s)})
    for p in http_ports:
        listeners.append(_listener(f"0.0.0.0_{p}", "0.0.0.0", p, [{"filters": [_hcm_rds(str(p), f"outbound_0.0.0.0_{p}")]}],
                                   {"filters": [_tcp(unknown)]}))
    for svc in sorted(services, key=lambda s: (s.namespace, s.name)):
        for p in _tcp_ports(svc):
            if svc.cluster_ip:
                name = f"outbound|{p}||{fqdn(svc.name, svc.namespace)}"
                listeners.append(_listener(f"{svc.cluster_ip}_{p}", svc.cluster_ip, p, [{"filters": [_tcp(name)]}]))
    return _dump(pod, workload, "sidecar", clusters, listeners, _sidecar_routes(services, objects, registry_only))


def _gateway(pod: Pod, workload: Workload, services: list[Service], objects: list[IstioObject]) -> dict[str, Any]:
    clusters = [_cluster("BlackHoleCluster", None)] + _outbound_clusters(services, objects)
    gateways = {f"{o.namespace}/{o.name}" for o in objects
                if o.kind == "Gateway" and all(pod.labels.get(k) == v for k, v in (o.spec.get("selector") or {}).items())}
    routes: list[dict[str, Any]] = []
    for vs in sorted((o for o in objects if o.kind == "VirtualService"), key=lambda o: (o.namespace, o.name)):
        bound = {g if "/" in str(g) else f"{vs.namespace}/{g}" for g in vs.spec.get("gateways") or []}
        if bound & gateways:
            routes += _vs_routes(vs, 80)
    container_port = 8080  # the gateway's service port 80 goes to its container's 8080
    listeners = [_listener(f"0.0.0.0_{container_port}", "0.0.0.0", container_port,
                           [{"filters": [_hcm_rds(f"http.{container_port}", f"outbound_0.0.0.0_{container_port}")]}])]
    route_configs = [{"version_info": VERSION_INFO, "route_config": {
        "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": f"http.{container_port}",
        "virtual_hosts": [{"name": "*:80", "domains": ["*"], "routes": routes}]}}]
    return _dump(pod, workload, "router", clusters, listeners, route_configs)


def _waypoint(pod: Pod, workload: Workload, services: list[Service], objects: list[IstioObject]) -> dict[str, Any]:
    mine = [s for s in services if s.namespace == pod.namespace]
    clusters = [_cluster("BlackHoleCluster", None), _cluster("connect_originate", "ORIGINAL_DST"),
                _cluster("main_internal", None), _cluster("encap", None)]
    route_configs = []
    for svc in sorted(mine, key=lambda s: s.name):
        host = fqdn(svc.name, svc.namespace)
        for p in svc.ports:
            name = f"inbound-vip|{p.port}|http|{host}"
            clusters.append(_cluster(name, "EDS"))
            route_configs.append({"version_info": VERSION_INFO, "route_config": {
                "name": name, "virtual_hosts": [{"name": f"{host}:{p.port}", "domains": ["*"], "routes": [
                    {"name": "default", "match": {"prefix": "/"}, "route": {"cluster": name, "timeout": "0s"}}]}]}})
    listeners = [
        {"name": "main_internal", "internal_listener": {}, "filter_chains": [
            {"filter_chain_match": {"destination_port": p.port, "prefix_ranges": [
                {"address_prefix": s.cluster_ip, "prefix_len": 32}]},
             "filters": [_hcm_rds(f"inbound-vip|{p.port}|http|{fqdn(s.name, s.namespace)}", "inbound-vip")]}
            for s in sorted(mine, key=lambda s: s.name) for p in s.ports if s.cluster_ip]},
        _listener("connect_terminate", "0.0.0.0", 15008, [{"filters": [_tcp("main_internal")]}]),
    ]
    return _dump(pod, workload, "waypoint", clusters, listeners, route_configs)


def config_dump(workloads: Iterable[Workload], services: list[Service], objects: list[IstioObject],
                namespace: str, pod_name: str) -> dict[str, Any]:
    """The demo's ``/config_dump`` of ``pod_name``'s proxy. An unknown pod is ``PodGone``; a pod without
    an Envoy is ``NoEnvoyAdmin``, as a cluster answers them."""
    from meshdesk.sources.envoy import NoEnvoyAdmin, PodGone

    for w in workloads:
        for pod in w.pods:
            if pod.name != pod_name or pod.namespace != namespace:
                continue
            if pod.proxy is None:
                raise NoEnvoyAdmin(f"read the Envoy config of {namespace}/{pod_name}: nothing answers on port 15000 "
                                   "of the pod", hint="the pod runs no Istio sidecar")
            if w.labels.get("gateway.istio.io/managed") or w.labels.get("gateway.networking.k8s.io/gateway-name"):
                return _waypoint(pod, w, services, objects)
            if pod.labels.get("istio") == "ingressgateway":
                return _gateway(pod, w, services, objects)
            return _sidecar(pod, w, services, objects)
    raise PodGone(f"read the Envoy config of {namespace}/{pod_name}: the pod no longer exists",
                  hint="pick one of its pods now")


def stats(workloads: Iterable[Workload], services: list[Service], objects: list[IstioObject],
          namespace: str, pod_name: str, now: float) -> str:
    """The demo's ``/stats?usedonly`` of ``pod_name``'s proxy: the server's own statistics, and per
    cluster and listener of its config dump the usual counters and gauges (numbers made up from their
    names and the clock, growing with it), plus a histogram as Envoy writes one."""
    dump = config_dump(workloads, services, objects, namespace, pod_name)
    uptime = int(now) % 86400 + 3600

    def made_up(name: str, scale: int, counter: bool = True) -> int:
        # a counter grows with the clock; a gauge (connections open now) does not
        return zlib.crc32(name.encode()) % scale + (uptime // 60 if counter else 0)

    lines = ["server.concurrency: 2", "server.live: 1", "server.state: 0", f"server.uptime: {uptime}",
             f"server.memory_allocated: {18_000_000 + made_up('memory', 4_000_000, counter=False)}",
             f"server.total_connections: {made_up('connections', 40, counter=False)}",
             "cluster_manager.warming_clusters: 0"]
    for config in dump["configs"]:
        for entry in config.get("dynamic_active_clusters") or []:
            name = entry["cluster"]["name"]
            if name == "BlackHoleCluster":  # no endpoints: what it gets is refused, nothing goes upstream
                lines += [f"cluster.{name}.membership_healthy: 0", f"cluster.{name}.upstream_cx_none_healthy: "
                          f"{made_up(name, 30, counter=False)}"]
                continue
            total = made_up(name, 5000)
            errors = made_up(name + "5xx", 20, counter=False) if "outbound" in name else 0
            lines += [f"cluster.{name}.membership_healthy: 1", f"cluster.{name}.upstream_cx_active: {made_up(name, 8, counter=False)}",
                      f"cluster.{name}.upstream_cx_total: {made_up(name, 300)}",
                      f"cluster.{name}.upstream_rq_total: {total}", f"cluster.{name}.upstream_rq_2xx: {total - errors}",
                      f"cluster.{name}.upstream_rq_5xx: {errors}"]
        for entry in config.get("dynamic_listeners") or []:
            lines.append(f"listener.{entry['name']}.downstream_cx_total: {made_up(entry['name'], 900)}")
    lines.append("cluster.xds-grpc.upstream_cx_length_ms: P0(nan,1) P25(nan,1.025) P50(nan,1.05) P75(nan,1.075) "
                 "P90(nan,1.09) P95(nan,1.095) P99(nan,1.099) P99.5(nan,1.0995) P99.9(nan,1.0999) P100(nan,1.1)")
    return "\n".join(sorted(lines)) + "\n"


# some of Envoy's loggers, as its /logging lists them
LOGGERS = ("admin", "client", "config", "connection", "conn_handler", "dns", "filter", "grpc", "health_checker",
           "http", "http2", "init", "jwt", "lua", "main", "misc", "pool", "rbac", "router", "runtime", "secret",
           "stats", "tracing", "upstream", "wasm")


def log_levels(workloads: Iterable[Workload], services: list[Service], objects: list[IstioObject],
               namespace: str, pod_name: str, level: str) -> dict[str, str]:
    """Every logger of ``pod_name``'s proxy at ``level``, as a proxy answers ``/logging?level=``; an unknown
    pod or one without an Envoy fails as ``config_dump`` does."""
    config_dump(workloads, services, objects, namespace, pod_name)
    return dict.fromkeys(LOGGERS, level)
