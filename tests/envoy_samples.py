"""Synthetic Envoy config dumps for the tests: the shapes an Istio sidecar's ``/config_dump`` has
(written here for these tests, with made-up names, addresses and key bytes)."""

from __future__ import annotations

import base64
from typing import Any

A = "type.googleapis.com/envoy.admin.v3."
# what a private key looks like when Envoy has not blanked it (made-up bytes, the shape that matters)
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nTUFERVVQS0VZZm9ydGVzdHNvbmx5\n-----END PRIVATE KEY-----\n"
PRIVATE_KEY_B64 = base64.b64encode(PRIVATE_KEY.encode()).decode()
CERT_B64 = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nTUFERVVQ\n-----END CERTIFICATE-----\n").decode()


def _dr(ns: str, name: str) -> dict[str, Any]:
    return {"filter_metadata": {"istio": {"config": f"/apis/networking.istio.io/v1/namespaces/{ns}/destination-rule/{name}"}}}


def _vs(ns: str, name: str) -> dict[str, Any]:
    return {"filter_metadata": {"istio": {"config": f"/apis/networking.istio.io/v1/namespaces/{ns}/virtual-service/{name}"}}}


def cluster(name: str, kind: str | None = "EDS", metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": name}
    if kind is not None:
        c["type"] = kind
    if metadata:
        c["metadata"] = metadata
    return {"version_info": "2026-11-27T10:00:00Z/7", "cluster": c}


def hcm_rds(route: str) -> dict[str, Any]:
    return {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "rds": {"route_config_name": route, "config_source": {"ads": {}}}}}


def tcp(cluster_name: str) -> dict[str, Any]:
    return {"name": "envoy.filters.network.tcp_proxy", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
        "cluster": cluster_name}}


def sidecar_dump(extra_clusters: int = 0) -> dict[str, Any]:
    """A productpage sidecar in ``shop``: clusters to reviews (with subsets from a DestinationRule),
    listeners for outbound HTTP and TCP and the inbound side, routes from a VirtualService, a
    bootstrap, and the secrets section with key material."""
    clusters = [
        cluster("outbound|9080||reviews.shop.svc.cluster.local", metadata=_dr("shop", "reviews")),
        cluster("outbound|9080|v1|reviews.shop.svc.cluster.local", metadata=_dr("shop", "reviews")),
        cluster("outbound|9080|v2|reviews.shop.svc.cluster.local", metadata=_dr("shop", "reviews")),
        cluster("outbound|27017||mongodb.shop.svc.cluster.local"),
        cluster("outbound|443||api.payments.example.com", "STRICT_DNS"),
        cluster("inbound|9080||", "ORIGINAL_DST"),
        cluster("BlackHoleCluster", None),
        cluster("PassthroughCluster", "ORIGINAL_DST"),
    ] + [cluster(f"outbound|80||svc{i}.load.svc.cluster.local") for i in range(extra_clusters)]
    listeners = {
        "@type": A + "ListenersConfigDump",
        "dynamic_listeners": [
            {"name": "0.0.0.0_9080", "active_state": {"version_info": "7", "listener": {
                "name": "0.0.0.0_9080",
                "address": {"socket_address": {"address": "0.0.0.0", "port_value": 9080}},
                "filter_chains": [{"filters": [hcm_rds("9080")]}],
                "default_filter_chain": {"filters": [tcp("PassthroughCluster")]}}}},
            {"name": "10.96.4.7_27017", "active_state": {"listener": {
                "name": "10.96.4.7_27017",
                "address": {"socket_address": {"address": "10.96.4.7", "port_value": 27017}},
                "filter_chains": [{"filters": [tcp("outbound|27017||mongodb.shop.svc.cluster.local")]}]}}},
            {"name": "virtualInbound", "active_state": {"listener": {
                "name": "virtualInbound",
                "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15006}},
                "filter_chains": [
                    {"filter_chain_match": {"destination_port": 9080, "transport_protocol": "tls",
                                            "application_protocols": ["istio-peer-exchange", "istio"]},
                     "filters": [tcp("inbound|9080||")]},
                    {"filter_chain_match": {"prefix_ranges": [{"address_prefix": "10.244.1.5", "prefix_len": 32}],
                                            "destination_port": 9080, "server_names": ["outbound_.9080_._.productpage"]},
                     "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
                         "@type": "type.googleapis.com/envoy.extensions.filters.network."
                                  "http_connection_manager.v3.HttpConnectionManager",
                         "route_config": {"name": "inbound|9080||", "virtual_hosts": [
                             {"name": "inbound|http|9080", "domains": ["*"],
                              "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "inbound|9080||"}}]}]}}}]},
                ]}}},
            {"name": "broken"},  # no active state, nothing else: unreadable
        ],
    }
    routes = {
        "@type": A + "RoutesConfigDump",
        "dynamic_route_configs": [{"version_info": "7", "route_config": {
            "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
            "name": "9080",
            "virtual_hosts": [
                {"name": "reviews.shop.svc.cluster.local:9080",
                 "domains": ["reviews.shop.svc.cluster.local", "reviews", "reviews.shop", "10.96.1.9"],
                 "routes": [
                     {"match": {"prefix": "/api"}, "metadata": _vs("shop", "reviews"),
                      "route": {"weighted_clusters": {"clusters": [
                          {"name": "outbound|9080|v1|reviews.shop.svc.cluster.local", "weight": 80},
                          {"name": "outbound|9080|v2|reviews.shop.svc.cluster.local", "weight": 20}]}}},
                     {"match": {"path": "/health"}, "metadata": _vs("shop", "reviews"),
                      "route": {"cluster": "outbound|9080|v1|reviews.shop.svc.cluster.local"}},
                     {"match": {"prefix": "/old"}, "redirect": {"path_redirect": "/new"}},
                 ]},
                {"name": "allow_any", "domains": ["*"],
                 "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "PassthroughCluster"}}]},
                {"name": "empty.example.com:9080", "domains": ["empty.example.com"]},
            ]}}],
        "static_route_configs": [{"route_config": {"name": "static-health", "virtual_hosts": [
            {"name": "health", "domains": ["*"],
             "routes": [{"match": {"safe_regex": {"regex": "/healthz/.*"}}, "route": {"cluster": "agent"}}]}]}}],
    }
    bootstrap = {
        "@type": A + "BootstrapConfigDump",
        "bootstrap": {
            "node": {"id": "sidecar~10.244.1.5~productpage-v1-7d9f-abcde.shop~shop.svc.cluster.local",
                     "cluster": "productpage.shop",
                     "metadata": {"ISTIO_VERSION": "1.24.2", "NAME": "productpage-v1-7d9f-abcde", "NAMESPACE": "shop",
                                  "MESH_ID": "cluster.local", "CLUSTER_ID": "Kubernetes",
                                  "LABELS": {"app": "productpage", "version": "v1"},
                                  "PROXY_CONFIG": {"discoveryAddress": "istiod.istio-system.svc:15012"}},
                     "user_agent_build_version": {"version": {"major_number": 1, "minor_number": 32, "patch": 3}}},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 15000}}},
            "static_resources": {"clusters": [{"name": "agent"}, {"name": "sds-grpc"}], "listeners": [{}]},
        },
    }
    secrets = {
        "@type": A + "SecretsConfigDump",
        "dynamic_active_secrets": [
            {"name": "default", "version_info": "2026-11-27 10:00:00", "secret": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
                "name": "default",
                "tls_certificate": {"certificate_chain": {"inline_bytes": CERT_B64},
                                    "private_key": {"inline_bytes": PRIVATE_KEY_B64}}}},
            {"name": "ROOTCA", "secret": {"name": "ROOTCA", "validation_context": {
                "trusted_ca": {"inline_bytes": CERT_B64}}}},
        ],
    }
    return {"configs": [bootstrap, {"@type": A + "ClustersConfigDump", "version_info": "7",
                                    "static_clusters": [cluster("agent", None), cluster("prometheus_stats", "STATIC")],
                                    "dynamic_active_clusters": clusters},
                        listeners, {"@type": A + "ScopedRoutesConfigDump"}, routes, secrets]}
