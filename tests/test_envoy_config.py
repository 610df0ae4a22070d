"""The Envoy config dump parser (``meshdesk.mesh.envoy``) on synthetic dumps: clusters, listeners,
routes and bootstrap as Kiali's Envoy tab reads them, odd and broken input, secrets, and size."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from meshdesk.mesh.envoy import (
    EnvoyCluster,
    EnvoyListener,
    EnvoyRoute,
    filter_rows,
    parse_config_dump,
    redact_secrets,
    split_host,
)
from tests.envoy_samples import CERT_B64, PRIVATE_KEY_B64, cluster, secrets_everywhere_dump, sidecar_dump


def test_clusters_are_split_into_service_port_subset_direction_type_and_rule() -> None:
    cfg = parse_config_dump(sidecar_dump())
    by_name = {c.name: c for c in cfg.clusters}
    assert by_name["outbound|9080|v2|reviews.shop.svc.cluster.local"] == EnvoyCluster(
        "outbound|9080|v2|reviews.shop.svc.cluster.local", "reviews.shop.svc.cluster.local", "reviews", "shop",
        9080, "v2", "outbound", "EDS", "shop/reviews")
    external = by_name["outbound|443||api.payments.example.com"]
    assert (external.service, external.namespace, external.type, external.destination_rule) == \
        ("api.payments.example.com", "", "STRICT_DNS", "")
    inbound = by_name["inbound|9080||"]
    assert (inbound.direction, inbound.port, inbound.host, inbound.type) == ("inbound", 9080, "", "ORIGINAL_DST")
    # Istio's own clusters keep their name; no type in the JSON is Envoy's default, STATIC
    assert (by_name["BlackHoleCluster"].direction, by_name["BlackHoleCluster"].type) == ("", "STATIC")
    assert by_name["agent"].static and not by_name["BlackHoleCluster"].static
    # dynamic first, then the bootstrap's, in the dump's order
    assert [c.name for c in cfg.clusters][-2:] == ["agent", "prometheus_stats"]
    assert len(cfg.clusters) == 10


def test_listeners_one_row_per_filter_chain_with_match_and_destination() -> None:
    cfg = parse_config_dump(sidecar_dump())
    rows = [(r.name, r.address, r.port, r.match, r.destination) for r in cfg.listeners]
    assert rows == [
        ("0.0.0.0_9080", "0.0.0.0", 9080, "ALL", "Route: 9080"),
        ("0.0.0.0_9080", "0.0.0.0", 9080, "ALL", "PassthroughCluster"),  # the default chain
        ("10.96.4.7_27017", "10.96.4.7", 27017, "ALL", "Cluster: outbound|27017||mongodb.shop.svc.cluster.local"),
        ("virtualInbound", "0.0.0.0", 15006, "Trans: tls; App: TCP TLS; Addr: *:9080", "Cluster: inbound|9080||"),
        ("virtualInbound", "0.0.0.0", 15006,
         "SNI: outbound_.9080_._.productpage; Addr: 10.244.1.5/32:9080", "Cluster: inbound|9080||"),
    ]
    assert cfg.skipped == {"listeners": 1}  # the listener with neither state nor listener


def test_routes_with_their_virtual_service_and_the_404_of_an_empty_host() -> None:
    cfg = parse_config_dump(sidecar_dump())
    rows = [(r.name, r.domains, r.match, r.virtual_service) for r in cfg.routes]
    assert rows == [
        ("9080", "reviews", "/api*", "shop/reviews"),
        ("9080", "reviews", "/health", "shop/reviews"),
        # the redirect and the passthrough route are not routes to a service (Kiali leaves them out)
        ("9080", "empty.example.com", "/*", "404"),
        ("static-health", "*", "regex /healthz/.*", ""),
    ]
    weighted = cfg.routes[0]
    assert weighted.destination == ("outbound|9080|v1|reviews.shop.svc.cluster.local (80), "
                                    "outbound|9080|v2|reviews.shop.svc.cluster.local (20)")
    assert "10.96.1.9" in weighted.all_domains


def test_bootstrap_says_who_the_proxy_is() -> None:
    facts = {f.name: f.value for f in parse_config_dump(sidecar_dump()).bootstrap}
    assert facts["Proxy type"] == "sidecar"
    assert facts["Istio version"] == "1.24.2" and facts["Envoy version"] == "1.32.3"
    assert facts["Pod"] == "productpage-v1-7d9f-abcde" and facts["Namespace"] == "shop"
    assert facts["Labels"] == "app=productpage, version=v1"
    assert facts["Admin address"] == "127.0.0.1:15000"
    assert facts["Discovery address"] == "istiod.istio-system.svc:15012"
    assert facts["Static clusters"] == "2"
    assert "Network" not in facts  # not in the dump: not shown empty


def test_secrets_lose_their_private_keys_and_keep_the_rest() -> None:
    dump = sidecar_dump()
    original = json.dumps(dump)
    clean, count = redact_secrets(dump)
    text = json.dumps(clean)
    assert PRIVATE_KEY_B64 not in text and "PRIVATE KEY" not in text
    assert count == 1
    assert CERT_B64 in text  # the certificate chain and root CA are public and stay
    assert json.dumps(dump) == original, "the dump handed in is left as it was"
    # parts without secrets are shared, not copied (a dump may be tens of megabytes)
    assert clean["configs"][1] is dump["configs"][1]
    # anywhere else in the dump: a static cluster's inline TLS key, a password
    inline = {"configs": [{"@type": "x", "static_clusters": [{"transport_socket": {"typed_config": {
        "common_tls_context": {"tls_certificates": [{"private_key": {"inline_string": "KEY"},
                                                    "password": {"inline_string": "pw"}}]}}}}]}]}
    clean, count = redact_secrets(inline)
    assert count == 2 and "KEY" not in json.dumps(clean) and '"pw"' not in json.dumps(clean)


@pytest.mark.parametrize("junk", [None, 3, "text", [], {}, {"configs": None}, {"configs": "x"},
                                  {"configs": [None, 1, "x", {"@type": 5}]}])
def test_anything_that_is_not_a_dump_gives_empty_tables(junk: Any) -> None:
    cfg = parse_config_dump(junk)
    assert (cfg.clusters, cfg.listeners, cfg.routes, cfg.bootstrap) == ([], [], [], [])
    assert cfg.missing == ["clusters", "listeners", "routes", "bootstrap"]
    assert redact_secrets(junk) == (junk, 0)


def test_odd_entries_are_skipped_and_counted_the_rest_shown() -> None:
    dump = sidecar_dump()
    clusters = dump["configs"][1]
    clusters["dynamic_active_clusters"] += [None, {"cluster": "x"}, {"cluster": {"name": 7}},
                                            cluster("outbound|notaport|v1|a.b.svc.cluster.local")]
    clusters["static_clusters"] = "not a list"
    routes = dump["configs"][4]["dynamic_route_configs"]
    routes += [None, {"route_config": {"name": "r", "virtual_hosts": [None, {"domains": "*", "routes": [5]}]}}]
    listeners = dump["configs"][2]["dynamic_listeners"]
    listeners.append({"name": "l", "active_state": {"listener": {"address": {"socket_address": {"port_value": "x"}},
                                                                 "filter_chains": [None, {"filters": "x"}]}}})
    listeners.append({"name": "warming", "warming_state": {"listener": {}}})  # not serving yet: not a fault
    dump["configs"][0]["bootstrap"] = []
    dump["configs"].append({"no type": True})
    cfg = parse_config_dump(dump)
    assert cfg.skipped == {"clusters": 4, "routes": 3, "listeners": 2, "bootstrap": 1, "configs": 1}
    odd = next(c for c in cfg.clusters if c.host == "a.b.svc.cluster.local")
    assert odd.port == 0 and odd.subset == "v1"
    assert ("l", "", 0, "ALL", "") in [(r.name, r.address, r.port, r.match, r.destination) for r in cfg.listeners]
    assert len([c for c in cfg.clusters if c.host.startswith("reviews")]) == 3
    assert "skipped as unreadable: 1 bootstrap, 4 clusters, 1 configs, 2 listeners, 3 routes" in cfg.summary()


def test_a_dump_with_sections_missing_says_which() -> None:
    dump = sidecar_dump()
    dump["configs"] = [c for c in dump["configs"] if not c["@type"].endswith(("RoutesConfigDump", "ListenersConfigDump"))]
    cfg = parse_config_dump(dump)
    assert cfg.missing == ["listeners", "routes"] and cfg.clusters
    assert cfg.summary().endswith("not in the dump: listeners, routes")


def test_thousands_of_clusters_are_read_in_one_pass() -> None:
    """A big mesh's sidecar (every service of every namespace): every cluster becomes a row, and
    redaction does not copy what it need not."""
    dump = sidecar_dump(extra_clusters=20_000)
    cfg = parse_config_dump(dump)
    assert len(cfg.clusters) == 20_010
    assert cfg.clusters[-3] == EnvoyCluster("outbound|80||svc19999.load.svc.cluster.local",
                                            "svc19999.load.svc.cluster.local", "svc19999", "load", 80, "", "outbound",
                                            "EDS", "")
    clean, _ = redact_secrets(dump)
    assert clean["configs"][1] is dump["configs"][1]


def test_filter_matches_any_column_case_insensitively() -> None:
    cfg = parse_config_dump(sidecar_dump())
    cols = ("host", "port", "subset", "direction", "type", "destination_rule")
    assert {c.subset for c in filter_rows(cfg.clusters, "V2", cols)} == {"v2"}
    assert len(filter_rows(cfg.clusters, "27017", cols)) == 1
    assert filter_rows(cfg.clusters, "  ", cols) == cfg.clusters
    assert [r.match for r in filter_rows(cfg.routes, "404", ("virtual_service",))] == ["/*"]
    assert all(isinstance(r, EnvoyListener) for r in filter_rows(cfg.listeners, "inbound", ("destination",)))
    assert all(isinstance(r, EnvoyRoute) for r in cfg.routes)


def test_hosts_split_only_in_the_kubernetes_domain() -> None:
    assert split_host("reviews.shop.svc.cluster.local") == ("reviews", "shop")
    assert split_host("reviews.shop") == ("reviews.shop", "")
    assert split_host("api.example.com") == ("api.example.com", "")
    assert split_host("") == ("", "")


def test_parsing_does_not_change_the_dump() -> None:
    dump = sidecar_dump()
    before = copy.deepcopy(dump)
    parse_config_dump(dump)
    assert dump == before


def test_every_kind_of_secret_is_redacted_in_any_spelling() -> None:
    """A dump seeded with secrets wherever Envoy or Istio put them (proxyMetadata, a gRPC service's
    call credentials, camelCase names, header values, the secrets section, PEM keys under any name):
    none is left anywhere in what ``redact_secrets`` gives, and what is public stays."""
    dump, secrets = secrets_everywhere_dump()
    original = json.dumps(dump)
    assert all(s in original for s in secrets)
    clean, count = redact_secrets(dump)
    text = json.dumps(clean)
    leaked = [s for s in secrets if s in text]
    assert leaked == []
    assert "PRIVATE KEY" not in text and "sek-" not in text
    assert count >= 20  # some are in one container (call_credentials, a secret) together
    # what is public stays: certificates, names, the variables' names, plain header values, flags
    assert CERT_B64 in text and '"API_TOKEN"' in text and "public-header-value" in text
    assert "istiod.istio-system.svc:15012" in text and '"use_refresh_token": true' in text
    assert '"name": "key-with-password"' in text and "AKIAEXAMPLE" not in text
    # the facts read from the bootstrap do not change
    assert parse_config_dump(clean).bootstrap == parse_config_dump(dump).bootstrap
    assert json.dumps(dump) == original, "the dump handed in is left as it was"


@pytest.mark.parametrize("name", ["private_key", "privateKey", "PrivateKey", "PRIVATE_KEY", "private-key",
                                  "jsonKey", "json_key", "accessToken", "clientSecret", "callCredentials",
                                  "call_credentials", "sts_subject_token", "dbPassword"])
def test_secret_field_names_in_any_spelling(name: str) -> None:
    clean, count = redact_secrets({"a": {name: "sek-value"}})
    assert clean == {"a": {name: "[redacted by meshdesk]"}} and count == 1


SEK = "sek-match-value"


@pytest.mark.parametrize("header", ["authorization", "Authorization", "proxy-authorization", "cookie", "set-cookie",
                                    "x-api-key", "api-key", "token", "x-auth-token", "x-goog-authorization",
                                    "access_token"])
@pytest.mark.parametrize("matcher", [
    {"exact_match": SEK}, {"exactMatch": SEK}, {"prefix_match": SEK}, {"suffix_match": SEK}, {"contains_match": SEK},
    {"safe_regex_match": {"google_re2": {}, "regex": f"session={SEK}.*"}}, {"string_match": {"exact": SEK}},
    {"string_match": {"prefix": SEK, "ignore_case": True}}, {"string_match": {"safe_regex": {"regex": SEK}}},
    {"stringMatch": {"contains": SEK}}, {"present_match": True, "invert_match": False, "future_match": SEK}])
def test_a_credential_header_matcher_loses_its_match_values(header: str, matcher: dict[str, Any]) -> None:
    """A route's header matcher, an RBAC principal's (Istio writes ``request.headers[x-api-key]`` of an
    AuthorizationPolicy so) or a query-parameter matcher on a credential name: whatever the match field
    is called, its value goes; the name and the flags stay."""
    dump = {"configs": [{"@type": "x", "routes": [{"name": "r", "match": {"prefix": "/", "headers": [
        {"name": header, **matcher}]}}]},
        {"@type": "y", "principals": [{"and_ids": {"ids": [{"header": {"name": header, **matcher}}]}}]},
        {"@type": "z", "match": {"query_parameters": [{"name": header, **matcher}]}}]}
    clean, count = redact_secrets(dump)
    text = json.dumps(clean)
    assert SEK not in text and count >= 3
    assert text.count(f'"name": "{header}"') == 3 and '"name": "r"' in text and '"prefix": "/"' in text
    if "present_match" in matcher:
        assert '"present_match": true' in text and '"invert_match": false' in text


def test_query_parameter_matchers_on_a_token_lose_their_values() -> None:
    dump = {"match": {"query_parameters": [{"name": "token", "string_match": {"exact": "sek-query-token"}},
                                           {"name": "access_token", "present_match": True},
                                           {"name": "page", "string_match": {"exact": "2"}}]}}
    clean, count = redact_secrets(dump)
    assert count == 1 and "sek-query-token" not in json.dumps(clean)
    assert clean["match"]["query_parameters"][1:] == dump["match"]["query_parameters"][1:]


def test_plain_header_matchers_route_and_cluster_names_stay() -> None:
    """Little is redacted that is no secret: plain headers' values, route and cluster names, a route
    named like a credential keeps its match."""
    dump = {"virtual_hosts": [{"name": "reviews.shop.svc.cluster.local:9080", "domains": ["reviews"], "routes": [
        {"name": "refresh-token", "match": {"prefix": "/token", "headers": [
            {"name": "x-request-id", "string_match": {"exact": "abc-123"}},
            {"name": ":authority", "exact_match": "reviews.shop"},
            {"name": "end-user", "safe_regex_match": {"regex": "jason"}}]},
         "route": {"cluster": "outbound|9080|v2|reviews.shop.svc.cluster.local"}}],
        "request_headers_to_add": [{"header": {"key": "x-envoy-peer", "value": "productpage"}}]}],
        "env": [{"name": "PILOT_CERT_PROVIDER", "value": "istiod"}, {"name": "KEYCLOAK_URL", "value": "http://kc"}],
        "metadata": {"ISTIO_META_CLUSTER_ID": "Kubernetes", "MESH_ID": "cluster.local", "LABELS": {"app": "x"}},
        "configuration": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                          "value": '{"header": "x-request-id", "token_endpoint": "https://idp/token"}'}}
    assert redact_secrets(dump) == (dump, 0)


@pytest.mark.parametrize("name", ["AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "DB_PASS", "GH_TOKEN", "API_KEY",
                                  "GOOGLE_APPLICATION_CREDENTIALS", "MY_CREDS", "SMTP_PASSWD", "SIGNING_KEY",
                                  "dbPassword"])
def test_environment_variable_pairs_with_a_credential_name_lose_their_value(name: str) -> None:
    dump = {"env": [{"name": name, "value": "sek-env-value"}, {"name": "LOG_LEVEL", "value": "debug"}]}
    clean, count = redact_secrets(dump)
    assert count == 1 and clean["env"][0] == {"name": name, "value": "[redacted by meshdesk]"}
    assert clean["env"][1] == {"name": "LOG_LEVEL", "value": "debug"}


def test_istio_meta_node_metadata_with_a_credential_name_is_redacted() -> None:
    """Istio puts a pod's ``ISTIO_META_*`` variables into its node's metadata (with and without the prefix)."""
    dump = {"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump", "bootstrap": {"node": {
        "id": "sidecar~10.0.0.1~p.shop~shop.svc.cluster.local", "metadata": {
            "ISTIO_META_DB_PASS": "sek-db-pass", "MY_CREDS": "sek-my-creds", "ISTIO_META_API_TOKEN": "sek-api-token",
            "ISTIO_META_CLUSTER_ID": "Kubernetes", "NAMESPACE": "shop", "ISTIO_VERSION": "1.26.0"}}}}]}
    clean, count = redact_secrets(dump)
    meta = clean["configs"][0]["bootstrap"]["node"]["metadata"]
    assert count == 3 and "sek-" not in json.dumps(clean)
    assert meta["ISTIO_META_CLUSTER_ID"] == "Kubernetes" and meta["NAMESPACE"] == "shop"
    assert parse_config_dump(clean).bootstrap == parse_config_dump(dump).bootstrap


def test_configuration_as_a_json_string_is_redacted_inside() -> None:
    """A Wasm plugin's configuration arrives as a StringValue holding JSON: it is read, redacted inside
    and written again; one that is not JSON goes whole when a credential-looking key is in it."""
    wasm = {"@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": '{"api_key": "sek-wasm-key", "upstream": "auth.shop", "nested": {"clientSecret": "sek-2"}}'}
    yaml = {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "upstream: a\naccess_token: sek-3\n"}
    bad = {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": '{"password": "sek-4", '}
    loose = {"config": '  {"headers": [{"name": "x-api-key", "exact_match": "sek-5"}]}'}
    dump = {"ecds_filters": [{"typed_config": {"config": {"configuration": wasm}}},
                             {"typed_config": {"config": {"configuration": yaml}}},
                             {"typed_config": {"config": {"configuration": bad}}}, loose]}
    clean, count = redact_secrets(dump)
    text = json.dumps(clean)
    assert "sek-" not in text and count == 5
    inner = json.loads(clean["ecds_filters"][0]["typed_config"]["config"]["configuration"]["value"])
    assert inner == {"api_key": "[redacted by meshdesk]", "upstream": "auth.shop",
                     "nested": {"clientSecret": "[redacted by meshdesk]"}}
    assert clean["ecds_filters"][1]["typed_config"]["config"]["configuration"]["value"] == "[redacted by meshdesk]"
    assert json.loads(clean["ecds_filters"][3]["config"]) == {"headers": [{"name": "x-api-key",
                                                                           "exact_match": "[redacted by meshdesk]"}]}


def test_strict_numbers_writes_nan_and_infinity_as_strings() -> None:
    from meshdesk.mesh.envoy import strict_numbers

    dump = {"a": [1.5, float("inf"), {"b": float("-inf"), "c": float("nan")}], "d": {"e": 1}}
    out = strict_numbers(dump)
    assert out == {"a": [1.5, "Infinity", {"b": "-Infinity", "c": "NaN"}], "d": {"e": 1}}
    assert out["d"] is dump["d"] and strict_numbers(dump["d"]) is dump["d"]
    json.dumps(out, allow_nan=False)


def test_statistics_lines_that_are_no_name_and_value_are_skipped_and_counted() -> None:
    from meshdesk.mesh.envoy import parse_stats

    text = ("server.live: 1\n\n"
            "cluster.outbound|9080||reviews.shop.svc.cluster.local.upstream_rq_total: 12\n"
            "  listener.0.0.0.0_15006.downstream_cx_total:  3  \n"
            "<html>not stats</html>\n"
            "no value here\n"
            "name with spaces: 4\n"
            "histogram.h: P0(nan,1) P50(2,3)\n")
    parsed = parse_stats(text)
    assert [(s.name, s.value) for s in parsed.stats] == [
        ("server.live", "1"), ("cluster.outbound|9080||reviews.shop.svc.cluster.local.upstream_rq_total", "12"),
        ("listener.0.0.0.0_15006.downstream_cx_total", "3"), ("histogram.h", "P0(nan,1) P50(2,3)")]
    assert parsed.skipped == 3
    assert parse_stats("").stats == [] and parse_stats("\x00\xff garbage").skipped == 1


REDACTED = "[redacted by meshdesk]"
ROUTES_TYPE = "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"


def test_a_header_map_keyed_by_a_credential_name_loses_its_values() -> None:
    """Headers written as a map ({"Authorization": "Bearer ..."}, as a Wasm plugin's JSON configuration
    holds them) lose their values like header pairs do (a route's ``request_headers_to_add``, a gRPC
    service's ``initial_metadata``); other headers, and a hash policy's ``cookie`` settings, stay."""
    wasm = {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": json.dumps(
        {"upstream": "auth.shop", "headers": {"Authorization": "Bearer sek-map-bearer", "Cookie": "session=sek-map-c",
                                              "Set-Cookie": ["a=sek-map-s1", "b=sek-map-s2"],
                                              "x-request-id": "keep-request-id"}})}
    route = {"name": "r", "route": {"cluster": "outbound|9080||reviews.shop.svc.cluster.local",
                                    "hash_policy": [{"cookie": {"name": "session-affinity", "ttl": "0s"}}]},
             "request_headers_to_add": [
                 {"header": {"key": "Authorization", "value": "Bearer sek-pair-bearer"}, "append": False},
                 {"header": {"key": "proxy-authorization", "raw_value": "c2VrLXJhdy12YWx1ZQ=="}},
                 {"header": {"key": "x-envoy-peer", "value": "keep-peer"}}],
             "typed_per_filter_config": {"proxy-wasm": {"config": {"configuration": wasm}}},
             "extra": {"headers": {"proxy-authorization": "Basic sek-map-proxy"}}}
    clean, count = redact_secrets({"configs": [{"@type": ROUTES_TYPE, "routes": [route]}]})
    text = json.dumps(clean)
    assert "sek-" not in text and "c2VrLXJhdy12YWx1ZQ" not in text and count == 7
    assert "keep-peer" in text and "keep-request-id" in text and "auth.shop" in text
    out = clean["configs"][0]["routes"][0]
    assert out["route"] == route["route"]  # the hash policy's cookie is settings, not a cookie
    inner = json.loads(out["typed_per_filter_config"]["proxy-wasm"]["config"]["configuration"]["value"])
    assert inner["headers"] == {"Authorization": REDACTED, "Cookie": REDACTED, "Set-Cookie": [REDACTED, REDACTED],
                                "x-request-id": "keep-request-id"}


URLS_KEPT = ["a@b.com", "spiffe://cluster.local/ns/shop/sa/reviews", "user@host", "https://user@host/path",
             "http://host:8080/users/@me", "git@github.com:org/repo.git", f"https://u:{REDACTED}@host"]


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pa55-sek@host/path?q=1", f"https://user:{REDACTED}@host/path?q=1"),
    ("mongodb://admin:sek-mongo@db:27017", f"mongodb://admin:{REDACTED}@db:27017"),
    ("redis://:sek-redis@cache", f"redis://:{REDACTED}@cache"),
    ("postgres://app:p@ss-sek@db/x?a=b@c", f"postgres://app:{REDACTED}@db/x?a=b@c"),
    ("upstream http://host:8080/a@b, then amqp://u:sek-amqp@mq:5672/vh",
     f"upstream http://host:8080/a@b, then amqp://u:{REDACTED}@mq:5672/vh")])
def test_a_password_in_a_url_goes_and_the_rest_of_the_url_stays(url: str, shown: str) -> None:
    """A password in a URL's userinfo, in any string of the dump (a plain field, a list, JSON configuration):
    the scheme, user, host, port and path stay readable. Strings with an "@" and no password in a URL stay."""
    wasm = {"@type": "type.googleapis.com/google.protobuf.StringValue", "value": json.dumps({"backend": url})}
    dump = {"configs": [{"@type": "x", "http_uri": {"uri": url, "cluster": "c"}, "endpoints": [url],
                         "configuration": wasm, "kept": URLS_KEPT, "named": {f"f{i}": v for i, v in enumerate(URLS_KEPT)}}]}
    clean, count = redact_secrets(dump)
    section = clean["configs"][0]
    assert "sek" not in json.dumps(clean) and count == 3
    assert section["kept"] is URLS_KEPT and section["named"] == dump["configs"][0]["named"]
    assert section["http_uri"] == {"uri": shown, "cluster": "c"} and section["endpoints"] == [shown]
    assert json.loads(section["configuration"]["value"]) == {"backend": shown}



RSA_JWK = {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", "n": "pub-modulus-n", "e": "AQAB",
           "d": "sek-rsa-d", "p": "sek-rsa-p", "q": "sek-rsa-q", "dp": "sek-rsa-dp", "dq": "sek-rsa-dq",
           "qi": "sek-rsa-qi", "oth": [{"r": "sek-oth-r", "d": "sek-oth-d", "t": "sek-oth-t"}]}
EC_JWK = {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": "pub-ec-x", "y": "pub-ec-y", "d": "sek-ec-d"}
OCT_JWK = {"kty": "oct", "kid": "hmac-1", "alg": "HS256", "k": "sek-oct-k"}
JWKS_PUBLIC = {"keys": [{k: v for k, v in jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "oth", "k")}
                        for jwk in (RSA_JWK, EC_JWK, OCT_JWK)]}


def _jwt_filter(local_jwks: dict[str, Any]) -> dict[str, Any]:
    return {"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": [
        {"name": "0.0.0.0_8080", "active_state": {"listener": {"filter_chains": [{"filters": [
            {"name": "envoy.filters.network.http_connection_manager", "typed_config": {"http_filters": [
                {"name": "envoy.filters.http.jwt_authn", "typed_config": {"providers": {"origins-0": {
                    "issuer": "https://idp.example", "local_jwks": local_jwks, "forward": True}}}}]}}]}]}}}]}]}


def _local_jwks(clean: Any) -> dict[str, Any]:
    listener = clean["configs"][0]["dynamic_listeners"][0]["active_state"]["listener"]
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    provider: dict[str, Any] = hcm["http_filters"][0]["typed_config"]["providers"]["origins-0"]
    assert provider["issuer"] == "https://idp.example" and provider["forward"] is True
    local_jwks: dict[str, Any] = provider["local_jwks"]
    return local_jwks


def test_a_jwks_held_inline_loses_its_private_key_members_and_keeps_the_public_key() -> None:
    """A RequestAuthentication's ``jwks`` reaches Envoy as the JWT filter's ``local_jwks.inline_string``: a JWKS
    that by mistake holds private keys (RSA's d, p, q..., EC's d, an HMAC key's k) shows only its public keys."""
    jwks = {"keys": [RSA_JWK, EC_JWK, OCT_JWK]}
    dump = _jwt_filter({"inline_string": json.dumps(jwks)})
    clean, count = redact_secrets(dump)
    assert "sek-" not in json.dumps(clean) and count == 9  # RSA: 7 members, EC: d, oct: k
    shown = json.loads(_local_jwks(clean)["inline_string"])
    assert [{k: v for k, v in jwk.items() if v != REDACTED} for jwk in shown["keys"]] == JWKS_PUBLIC["keys"]
    assert shown["keys"][0]["d"] == REDACTED and shown["keys"][2]["k"] == REDACTED
    # a JWKS with public keys only is shown as it is
    public = _jwt_filter({"inline_string": json.dumps(JWKS_PUBLIC)})
    assert redact_secrets(public) == (public, 0)


def test_a_jwks_held_as_base64_is_redacted_inside_and_written_again_as_base64() -> None:
    jwks = {"keys": [RSA_JWK, OCT_JWK]}
    dump = _jwt_filter({"inline_bytes": base64.b64encode(json.dumps(jwks).encode()).decode()})
    clean, count = redact_secrets(dump)
    shown = base64.b64decode(_local_jwks(clean)["inline_bytes"]).decode()
    assert "sek-" not in shown and count == 8
    assert json.loads(shown)["keys"][0]["n"] == "pub-modulus-n" and json.loads(shown)["keys"][1]["kid"] == "hmac-1"
    # bytes that are not text, and base64 of text without secrets, stay as they were
    other = {"inline_bytes": base64.b64encode(bytes(range(256))).decode(), "filename": "/etc/jwks.json"}
    assert redact_secrets({"a": other, "b": {"inline_bytes": CERT_B64}}) == ({"a": other, "b": {"inline_bytes": CERT_B64}}, 0)


LUA = '''-- the token comes from vault
local token = "sek-lua-token"
local API_KEY = 'sek-lua-api-key'
local cfg = {["x-api-key"] = "sek-lua-bracket", path = "/healthz", ["x-request-id"] = "keep-request-id"}
function envoy_on_request(handle)
  handle:headers():add("authorization", "Bearer sek-lua-bearer")
  handle:headers():replace("Cookie", "session=sek-lua-cookie")
  handle:headers():add("x-envoy-peer", "keep-peer")
  if handle:headers():get("x-api-key") ~= "sek-lua-compare" then
    handle:logWarn("Basic auth is needed")
  end
  local db_password = [[sek-lua-long-string]]
  -- don't log the "token" here, nor a ]] or a [[
  local client_secret = [==[sek-lua-level-2]==]
  local header = "Basic c2VrLWx1YS1iYXNpYw=="
  local db = "postgres://app:sek-lua-url@db/orders"
end
'''


def test_lua_code_loses_credential_literals_and_keeps_the_rest() -> None:
    """A Lua filter's code (``inline_code``, ``source_codes``, ``default_source_code``, as text or base64)
    is shown with the string literals that hold a credential replaced: one given to a credential's name,
    the value after a credential header's name, a "Bearer"/"Basic" credential, a URL's password. Other
    literals, the comments and the code stay."""
    lua_filter = {"name": "envoy.filters.http.lua", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua", "inline_code": LUA,
        "source_codes": {"hello.lua": {"inline_string": LUA}},
        "default_source_code": {"inline_bytes": base64.b64encode(LUA.encode()).decode()}}}
    clean, count = redact_secrets({"http_filters": [lua_filter]})
    config = clean["http_filters"][0]["typed_config"]
    code = config["inline_code"]
    assert "sek-" not in json.dumps(clean) and count == 3 * 10
    assert config["source_codes"]["hello.lua"]["inline_string"] == code
    assert base64.b64decode(config["default_source_code"]["inline_bytes"]).decode() == code
    assert f'local token = "{REDACTED}"' in code and f'handle:headers():add("authorization", "{REDACTED}")' in code
    assert f'local db = "postgres://app:{REDACTED}@db/orders"' in code
    for kept in ("-- the token comes from vault", """-- don't log the "token" here, nor a ]] or a [[""", 'path = "/healthz"', '["x-request-id"] = "keep-request-id"',
                 '"x-envoy-peer", "keep-peer"', 'logWarn("Basic auth is needed")', "function envoy_on_request"):
        assert kept in code
    assert code.count("\n") == LUA.count("\n")


def test_summary_counts_in_words() -> None:
    """One of each read "1 clusters, 1 listeners, 1 routes"."""
    cfg = parse_config_dump(sidecar_dump())
    cfg.clusters, cfg.listeners, cfg.routes = cfg.clusters[:1], cfg.listeners[:1], cfg.routes[:2]
    assert cfg.summary().startswith("1 cluster, 1 listener, 2 routes")
