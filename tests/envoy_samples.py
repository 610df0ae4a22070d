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


def secrets_everywhere_dump() -> tuple[dict[str, Any], list[str]]:
    """A sidecar's dump with secret material in every place Envoy and Istio can put it, spelled every
    way (snake and camel case), and the secret values (each one a distinct made-up string). None of
    them may reach what meshdesk keeps, shows or logs."""
    pem = "-----BEGIN RSA PRIVATE KEY-----\nU0VDUkVULXBlbS10ZXh0\n-----END RSA PRIVATE KEY-----\n"
    pem_b64 = base64.b64encode(pem.replace("U0VDUkVULXBlbS10ZXh0", "U0VDUkVULXBlbS1iNjQ=").encode()).decode()
    json_key = ('{"type": "service_account", "private_key_id": "sek-json-key-id", "private_key": "'
                + pem.replace("\n", "\\n") + '", "client_email": "sa@example.iam"}')
    secrets = ["sek-proxy-metadata-token", "postgres://app:sek-db-password@db", "sek-inline-private-key",
               "sek-key-password", "sek-camel-private-key", "sek-upper-private-key", "ya29.sek-access-token",
               "sek-refresh-token", "sek-json-key-id", "sek-iam-authorization-token", "sek-iam-selector",
               "sek-plugin-config", "sek-sts-audience", "sek-channel-private-key", "sek-camel-json-key",
               "sek-camel-access-token", "sek-oauth-client-secret", "sek-oauth-hmac", "sek-api-key-value",
               "user1:{SHA}sek-basic-auth-hash", "Bearer sek-header-token", "sek-x-api-key-header",
               "sek-aws-secret-access-key", "sek-aws-session-token", "sek-secret-private-key",
               "sek-secret-password", "sek-generic-secret", "sek-session-ticket-key", "sek-static-secret-key",
               "sek-warming-secret-key", "sek-future-secret-field", "U0VDUkVULXBlbS10ZXh0", pem_b64, "sek-pkcs12",
               "sek-db-password-field"]
    dump = sidecar_dump()
    boot = dump["configs"][0]["bootstrap"]
    boot["node"]["metadata"]["PROXY_CONFIG"]["proxyMetadata"] = {
        "API_TOKEN": "sek-proxy-metadata-token", "DATABASE_URL": "postgres://app:sek-db-password@db",
        "ISTIO_META_DNS_CAPTURE": "true"}
    tls = {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
           "common_tls_context": {"tls_certificates": [
               {"certificate_chain": {"inline_bytes": CERT_B64},
                "private_key": {"inline_string": "sek-inline-private-key"},
                "password": {"inline_string": "sek-key-password"}},
               {"certificateChain": {"inlineBytes": CERT_B64}, "privateKey": {"inlineString": "sek-camel-private-key"}},
               {"PRIVATE-KEY": "sek-upper-private-key", "pkcs12": {"inline_bytes": "sek-pkcs12"}}]}}
    grpc = {"envoy_grpc": None, "google_grpc": {
        "target_uri": "meshca.googleapis.com:443", "stat_prefix": "meshca",
        "channel_credentials": {"ssl_credentials": {"root_certs": {"inline_bytes": CERT_B64},
                                                    "private_key": {"inline_string": "sek-channel-private-key"}}},
        "call_credentials": [
            {"access_token": "ya29.sek-access-token"},
            {"google_refresh_token": '{"client_id": "c", "refresh_token": "sek-refresh-token"}'},
            {"service_account_jwt_access": {"json_key": json_key, "token_lifetime_seconds": 3600}},
            {"google_iam": {"authorization_token": "sek-iam-authorization-token",
                            "authority_selector": "sek-iam-selector"}},
            {"from_plugin": {"name": "vault", "typed_config": {"@type": "x", "value": "sek-plugin-config"}}},
            {"sts_service": {"token_exchange_service_uri": "https://sts.example/v1/token",
                             "audience": "sek-sts-audience", "subject_token_path": "/var/run/token"}}]}}
    camel_grpc = {"googleGrpc": {"targetUri": "x:443", "callCredentials": [
        {"serviceAccountJwtAccess": {"jsonKey": "sek-camel-json-key"}}, {"accessToken": "sek-camel-access-token"}]}}
    filters = [
        {"name": "envoy.filters.http.oauth2", "typed_config": {"config": {"credentials": {
            "client_id": "shop", "token_secret": {"name": "token", "sds_config": {"path": "/etc/sds"}},
            "hmac_secret": {"name": "hmac"}}, "client_secret": "sek-oauth-client-secret",
            "hmacSecret": "sek-oauth-hmac", "use_refresh_token": True}}},
        {"name": "envoy.filters.http.api_key_auth", "typed_config": {"credentials": [
            {"key": "sek-api-key-value", "client": "shop"}]}},
        {"name": "envoy.filters.http.basic_auth", "typed_config": {"users": {
            "inline_string": "user1:{SHA}sek-basic-auth-hash"}}},
        {"name": "envoy.filters.http.header_mutation", "typed_config": {"request_headers_to_add": [
            {"header": {"key": "Authorization", "value": "Bearer sek-header-token"}},
            {"header": {"key": "x-api-key", "value": "sek-x-api-key-header"}},
            {"header": {"key": "x-shop", "value": "public-header-value"}}]}},
        {"name": "envoy.filters.http.aws_request_signing", "typed_config": {"credential_provider": {
            "inline_credential": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "sek-aws-secret-access-key",
                                  "session_token": "sek-aws-session-token"}}}},
        {"name": "envoy.filters.http.lua", "typed_config": {"note": pem, "blob": pem_b64,
                                                            "db_password": "sek-db-password-field"}},
    ]
    boot["static_resources"]["clusters"].append(
        {"name": "meshca", "transport_socket": {"name": "tls", "typed_config": tls},
         "typed_extension_protocol_options": {"grpc": grpc, "grpcCamel": camel_grpc}})
    boot["static_resources"]["listeners"].append({"name": "filters", "filter_chains": [{"filters": [
        {"name": "envoy.filters.network.http_connection_manager", "typed_config": {"http_filters": filters}}]}]})

    def secret(name: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "version_info": "1", "secret": {"name": name, **body}}

    section = dump["configs"][-1]
    section["dynamic_active_secrets"] += [
        secret("key-with-password", {"tls_certificate": {"certificate_chain": {"inline_bytes": CERT_B64},
                                                         "private_key": {"inline_string": "sek-secret-private-key"},
                                                         "password": {"inline_string": "sek-secret-password"}}}),
        secret("generic", {"generic_secret": {"secret": {"inline_string": "sek-generic-secret"}}}),
        secret("tickets", {"session_ticket_keys": {"keys": [{"inline_string": "sek-session-ticket-key"}]}}),
        secret("future", {"some_future_field": {"inline_string": "sek-future-secret-field"}}),
    ]
    section["static_secrets"] = [secret("static", {"tls_certificate": {
        "privateKey": {"inlineString": "sek-static-secret-key"}}})]
    section["dynamic_warming_secrets"] = [secret("warming", {"tls_certificate": {
        "private_key": {"inline_string": "sek-warming-secret-key"}}})]
    return dump, secrets
