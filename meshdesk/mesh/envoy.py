"""An Envoy proxy's configuration, as its admin ``/config_dump`` reports it, in rows people read.

The same facts Kiali's workload "Envoy" tab shows, for one pod's sidecar, gateway or waypoint:

- **clusters**: Istio names each ``direction|port|subset|host`` (``outbound|9080|v2|reviews.shop.svc.
  cluster.local``); a row gives the service host (and, for a Kubernetes service, its name and
  namespace), port, subset, direction, discovery type and the DestinationRule that made it (Istio
  writes the rule's path in the cluster's ``filter_metadata.istio.config``);
- **listeners**: one row per filter chain: address, port, what the chain matches (SNI, transport,
  application protocols, destination addresses and port) and where it sends (a route configuration,
  a cluster, an inline route);
- **routes**: one row per route of each virtual host: route configuration name, the host's shortest
  domain, the match (prefix, path, regex) and the VirtualService behind it (its metadata), with a
  virtual host that has no route shown as a "404";
- **bootstrap**: who the proxy is (node id, Istio and Envoy versions, mesh, cluster, pod,
  namespace, labels, admin and xDS addresses).

``parse_config_dump`` never raises: an entry of the wrong shape is skipped and counted in
``EnvoyConfig.skipped`` by section. ``redact_secrets`` removes private keys and other secret
material from a dump before it is kept or shown: secret fields in any spelling, credential containers
whole (a gRPC service's ``call_credentials``), ``proxyMetadata`` values, the values of headers,
header and query-parameter matchers, environment variables and node metadata named like a credential,
secrets inside configuration held as JSON text (or base64), URL passwords, JSON Web Keys' private members,
credential literals in Lua code, and all of a secret in the secrets section but its name and public
certificates. Linear in the size of the dump: thousands of clusters parse in milliseconds.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _l
from meshdesk.mesh.readers import as_str as _s
from meshdesk.mesh.words import counted

CLUSTERS_DUMP = "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"
LISTENERS_DUMP = "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"
ROUTES_DUMP = "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"
BOOTSTRAP_DUMP = "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"
SECRETS_DUMP = "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"

KUBERNETES_DOMAIN = "svc.cluster.local"  # Istio's default trust/identity domain for service hosts
HTTP_CONNECTION_MANAGER = "envoy.filters.network.http_connection_manager"
TCP_PROXY = "envoy.filters.network.tcp_proxy"
PASSTHROUGH = "PassthroughCluster"
REDACTED = "[redacted by meshdesk]"

# the field names that hold secret material wherever they appear in a dump, compared in any spelling
# (``private_key``, ``privateKey``, ``PRIVATE-KEY`` are one name): a TLS private key (Envoy blanks it
# itself, but a build or a static bootstrap may not), a key file's password, session ticket keys,
# HMAC and generic secrets (OAuth client secrets), PKCS#12 bundles (they carry the key), a Google
# service account's JSON key, OAuth access and refresh tokens, API keys, cloud secret keys
SECRET_FIELDS = frozenset({"private_key", "password", "session_ticket_keys", "hmac_secret", "generic_secret",
                           "pkcs12", "private_key_provider", "client_secret", "json_key", "access_token",
                           "refresh_token", "google_refresh_token", "authorization_token", "id_token",
                           "session_token", "api_key", "secret_access_key", "token_secret", "secret",
                           "passphrase", "users"})
# any name ending so (``sts_subject_token``, ``db_password``, ``x_api_key``, ``hmacSecret``) is one too
SECRET_SUFFIXES = ("password", "passphrase", "privatekey", "secret", "secretkey", "token", "apikey", "jsonkey")
# credential containers: everything under them goes, whatever its fields are called (a gRPC service's
# ``call_credentials`` hold tokens, JSON keys and STS settings; ``channel_credentials`` a key; an
# API-key filter's ``credentials`` the keys)
CREDENTIAL_SUFFIXES = ("credentials", "credential")
# maps whose keys are public and whose values may not be: Istio copies ``proxyMetadata`` (environment
# variables meant for the proxy: tokens, passwords) into every node's metadata
SECRET_VALUE_MAPS = frozenset({"proxy_metadata"})
# header-like pairs ({"key": "authorization", "value": "Bearer ..."}) and header or query-parameter
# matchers ({"name": "x-api-key", "string_match": {"exact": "..."}}, as Istio writes an AuthorizationPolicy's
# ``request.headers[x-api-key]``): the value and every match value go when the name says (these, or a
# secret field's name: ``x-auth-token``, ``access_token``)
SECRET_HEADERS = frozenset({"authorization", "proxy_authorization", "cookie", "set_cookie", "x_api_key",
                            "api_key", "token", "x_auth_token"})
# the fields of such a pair or matcher that hold the value, besides any ``*_match`` field (``exact_match``,
# ``string_match``, ``safe_regex_match``...): its name and flags (``invert_match``: a bool) stay
_MATCH_VALUE_FIELDS = frozenset({"value", "rawvalue", "values", "exact", "prefix", "suffix", "contains", "saferegex",
                                 "regex"})
# environment-variable names (``AWS_SECRET_ACCESS_KEY``, ``DB_PASS``, ``GH_TOKEN``: upper case, words joined
# by "_"), as a pair's name or a key of node metadata (Istio copies ``ISTIO_META_*`` variables there): the
# value goes when a word says it is a credential
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_ENV_SECRET_WORDS = frozenset({"SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASS", "TOKEN",
                               "TOKENS", "KEY", "KEYS", "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS",
                               "PASSPHRASE"})
# a string that may be configuration in JSON (a Wasm plugin's or a Lua filter's ``configuration``, a
# ``google.protobuf.StringValue``): its secrets go inside it; one that is not JSON goes whole when a
# credential-looking key is in it
_CREDENTIAL_KEY = re.compile(r"(?i)(?:secret|passw(?:or)?d|passphrase|token|api[_-]?key|credentials?|"
                             r"private[_-]?key)[\"']?\s*[:=]")
_STRING_VALUE = "type.googleapis.com/google.protobuf.StringValue"
_JSON_STARTS = frozenset("{[ \t\r\n")
# in the secrets section, a secret keeps only what is public: its name and certificates
_PUBLIC_SECRET_PARTS = frozenset({"@type", "name", "validation_context"})
_PUBLIC_CERTIFICATE_PARTS = frozenset({"certificatechain", "watcheddirectory"})
# strings that are key material whatever field holds them: PEM private keys, as text or base64 (its
# "-----BEGIN" is "LS0tLS1CRUdJTi"), and JSON documents with a private key inside (a JSON key file)
_KEY_MARKERS = ("PRIVATE KEY", "private_key", "privateKey")
_BASE64_PEM = "LS0tLS1CRUdJTi"
# a password in a URL's userinfo (``https://user:pa55@host``, ``redis://:pw@cache``): only the password goes,
# the scheme, user, host and the rest stay; the password runs to the authority's last "@" (one written with
# an "@" unescaped goes whole). A URL with a user and no password, and text with an "@" but no "scheme://"
# (an e-mail address, ``user@host``), are left as they are
_URL_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:\"'<>]*):([^\s/?#\"'<>]+)@")
# the private members of a JSON Web Key (RFC 7518: an RSA key's ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``
# and ``oth``, an EC or OKP key's ``d``, a symmetric "oct" key's ``k``), in any object with a ``kty``: a
# JWT filter's ``local_jwks``; the public members (``n``, ``e``, ``x``, ``y``, ``kid``, ``alg``...) stay
_JWK_PRIVATE = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# Lua source (a Lua filter's ``inline_code``, a ``source_codes`` or ``default_source_code`` entry's
# ``inline_string``): the code stays, and a string literal ("...", '...', [[...]]) goes when
# - it is assigned to, or compared with, a name that is a credential's (``token = "..."``,
#   ``local db_password = '...'``, ``api_key ~= "..."``, ``["authorization"] = "..."``);
# - it follows a credential header's name as the next argument (``headers:add("authorization", "...")``)
#   or is compared with that header's value (``headers:get("x-api-key") == "..."``);
# - it is a credential itself ("Bearer <token>", "Basic <base64>", nothing else in it);
# besides any URL password in it. Comments are skipped, not redacted
_LUA_TOKEN = re.compile(r"""--\[(=*)\[|--|"|'|\[(=*)\[""")  # where a comment or a literal starts
_LUA_QUOTED = {'"': re.compile(r'"((?:[^"\\\n]|\\.)*)"'), "'": re.compile(r"'((?:[^'\\\n]|\\.)*)'")}
_LUA_NAMED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|==|~=)\s*$")
_LUA_AFTER_NAME = re.compile(r"\s*(?:,|\]\s*(?:=|==|~=)|\)\s*(?:==|~=))\s*")
_LUA_CREDENTIAL = re.compile(r"(?i)(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}\s*")
_CODE_FIELDS = frozenset({"inlinecode", "inlinestring"})


def _lua_literals(code: str) -> Iterator[tuple[int, int, str | None]]:
    """Where each string literal of Lua source starts and ends, and its text (``None`` for a comment, which
    breaks what a literal follows). In one pass: an unterminated long string or comment ends the scan, as
    it ends the code; an unterminated quote ends its line."""
    at = 0
    while (m := _LUA_TOKEN.search(code, at)) is not None:
        token = m.group(0)
        if token == "--":
            end = code.find("\n", m.end())
            at = len(code) if end < 0 else end
            yield m.start(), at, None
        elif token in _LUA_QUOTED:
            quoted = _LUA_QUOTED[token].match(code, m.start())
            if quoted is None:
                end = code.find("\n", m.end())
                at = len(code) if end < 0 else end
                continue
            at = quoted.end()
            yield m.start(), at, quoted.group(1)
        else:  # a long bracket, [[...]] or [==[...]==], as a comment's or a literal's
            level = m.group(1) if m.group(1) is not None else m.group(2)
            end = code.find(f"]{level}]", m.end())
            if end < 0:
                return
            at = end + len(level) + 2
            yield m.start(), at, None if token.startswith("--") else code[m.end():end]


def _norm(name: str) -> str:
    """A field name in one spelling: ``privateKey``, ``private_key`` and ``PRIVATE-KEY`` are ``privatekey``."""
    return name.replace("_", "").replace("-", "").lower()


_SECRET_NAMES = frozenset(_norm(n) for n in SECRET_FIELDS)
_VALUE_MAPS = frozenset(_norm(n) for n in SECRET_VALUE_MAPS)
_HEADER_NAMES = frozenset(_norm(n) for n in SECRET_HEADERS)


def _header_secret(name: Any) -> bool:
    """Whether a header or query parameter of that name carries a credential (its values go)."""
    if not isinstance(name, str) or "|" in name:
        return False  # "outbound|9080||reviews.shop.svc.cluster.local": Envoy names its clusters so, no header
    n = _norm(name)
    return n in _HEADER_NAMES or n.endswith(("authorization", "cookie")) or is_secret_field(name)


def _match_value_field(name: Any) -> bool:
    """Whether a field of a header pair or matcher holds the value (``value``, ``exact_match``, ``string_match``)."""
    if not isinstance(name, str):
        return False
    n = _norm(name)
    return n in _MATCH_VALUE_FIELDS or (n.endswith("match") and n != "match")


def strict_numbers(value: Any) -> Any:
    """``value`` with every NaN or infinite float as a string ("NaN", "Infinity", "-Infinity"): strict JSON has
    neither, and a file with them is one ``jq`` and ``JSON.parse`` refuse. Parts without one are shared."""
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else ("NaN" if value != value else "Infinity" if value > 0 else "-Infinity")
    if kind is dict:
        out = {k: strict_numbers(v) for k, v in value.items()}
        return value if all(out[k] is v for k, v in value.items()) else out
    if kind is list:
        items = [strict_numbers(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _env_secret(name: str) -> bool:
    """Whether an environment-variable-like name (``AWS_SECRET_ACCESS_KEY``, ``DB_PASS``) names a credential."""
    return _ENV_NAME.fullmatch(name) is not None and any(w in _ENV_SECRET_WORDS for w in name.split("_"))


# what a field name is, for redaction: "" (nothing), "secret" (its value goes), "tree" (a credential
# container: the whole subtree goes), "values" (a map whose values go), "header" (a credential header's
# name as a map key: its text goes, an object under it, as a hash policy's ``cookie``, is walked)
_FIELD_KINDS: dict[str, str] = {}


def _field_kind(name: str) -> str:
    kind = _FIELD_KINDS.get(name)
    if kind is None:
        n = _norm(name)
        if n in _VALUE_MAPS:
            kind = "values"
        elif n in _CODE_FIELDS:
            kind = "code"  # inline text: Lua source, a JWKS, a file's content
        elif n == "inlinebytes":
            kind = "bytes"  # the same, as base64
        elif n.endswith(CREDENTIAL_SUFFIXES):
            kind = "tree"
        elif n in _SECRET_NAMES or n.endswith(SECRET_SUFFIXES) or _env_secret(name):
            kind = "secret"
        elif n in _HEADER_NAMES or n.endswith(("authorization", "cookie")):
            kind = "header"  # a header map's key ({"Authorization": "Bearer ..."}): its text goes
        else:
            kind = ""
        if len(_FIELD_KINDS) < 100_000:  # field names repeat; a dump of random names must not grow it
            _FIELD_KINDS[name] = kind
    return kind


def is_secret_field(name: str) -> bool:
    """Whether a field of that name (any spelling) holds secret material, or credentials under it."""
    return _field_kind(name) in ("secret", "tree")


_CONTAINERS = (dict, list, str)
_SHORTEST_KEY = 52  # "-----BEGIN PRIVATE KEY-----" and "-----END PRIVATE KEY-----": no key is shorter


def _looks_like_key(text: str) -> bool:
    if any(m in text for m in _KEY_MARKERS):
        return True
    at = text.find(_BASE64_PEM)
    if at < 0:
        return False
    try:  # "-----BEGIN ENCRYPTED PRIVATE KEY-----" is 37 bytes: 64 base64 characters hold it
        head = base64.b64decode(text[at:at + 64] + "===", validate=False)
    except ValueError:
        return False
    return b"PRIVATE KEY" in head


# application protocols a filter chain matches, as Istio writes them, in words (Kiali's labels)
_APP_PROTOCOLS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"), "App: HTTP TLS"),
    (("istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"), "App: Istio HTTP Plain"),
    (("istio-peer-exchange", "istio"), "App: TCP TLS"),
    (("http/1.0", "http/1.1", "h2c"), "App: HTTP"),
)

# /apis/networking.istio.io/<version>/namespaces/<ns>/<kind>/<name>
_CONFIG_PATH = re.compile(r"^/apis/networking\.istio\.io/[^/]+/namespaces/([^/]+)/([^/]+)/([^/]+)$")


@dataclass(frozen=True)
class EnvoyCluster:
    name: str  # as Envoy names it ("outbound|9080|v1|reviews.shop.svc.cluster.local", "BlackHoleCluster")
    host: str  # the service host ("reviews.shop.svc.cluster.local"); the name itself when not Istio's form
    service: str  # "reviews" for a Kubernetes service host, else the host
    namespace: str  # "shop" for a Kubernetes service host, else ""
    port: int  # 0 when the name carries none
    subset: str
    direction: str  # "outbound", "inbound", "inbound-vip", ... ("" for a cluster not named by Istio)
    type: str  # discovery type: EDS, STATIC, STRICT_DNS, ORIGINAL_DST, ... or a custom cluster type's name
    destination_rule: str  # "namespace/name" of the DestinationRule that shaped it, "" when none
    static: bool = False  # from the bootstrap (static_clusters) rather than from istiod


@dataclass(frozen=True)
class EnvoyListener:
    name: str
    address: str
    port: int
    match: str  # "ALL" when the chain matches everything
    destination: str


@dataclass(frozen=True)
class EnvoyRoute:
    name: str  # the route configuration's name ("9080", "http.8080", "inbound|9080||")
    domains: str  # the virtual host's shortest name-like domain
    all_domains: tuple[str, ...]
    match: str
    virtual_service: str  # "namespace/name", "404" for a virtual host without routes, "" when none
    destination: str = ""  # the cluster, or the weighted clusters, the route sends to


@dataclass(frozen=True)
class BootstrapFact:
    name: str
    value: str


@dataclass(frozen=True)
class EnvoyCertificate:
    """One certificate of a secret the proxy holds (``istioctl proxy-config secret``): the workload's
    own chain ("default") and the mesh's root ("ROOTCA")."""

    secret: str  # the secret's name ("default", "ROOTCA", a gateway's credentialName)
    kind: str  # "certificate" (of a chain: the workload's, then its issuers) or "trusted CA"
    identity: str  # the SPIFFE ID (its URI SAN), else its DNS names, else its subject
    issuer: str
    serial: str  # hexadecimal, as openssl prints it
    not_before: str  # UTC, "2026-11-29 00:00:00"
    not_after: str
    state: str  # "valid, 17h left", "EXPIRED 2h ago", "not valid yet", or why it could not be read


@dataclass
class EnvoyConfig:
    clusters: list[EnvoyCluster] = field(default_factory=list)
    listeners: list[EnvoyListener] = field(default_factory=list)
    routes: list[EnvoyRoute] = field(default_factory=list)
    bootstrap: list[BootstrapFact] = field(default_factory=list)
    secrets: list[EnvoyCertificate] = field(default_factory=list)
    # entries of the wrong shape left out, by section ("clusters", "listeners", "routes", "bootstrap",
    # "configs"): a dump from another Envoy version must show what it can, and say what it could not
    skipped: dict[str, int] = field(default_factory=dict)
    # sections the dump does not have at all (an Envoy asked with ?resource=, or not an Envoy)
    missing: list[str] = field(default_factory=list)

    def skip(self, section: str, n: int = 1) -> None:
        self.skipped[section] = self.skipped.get(section, 0) + n

    def summary(self) -> str:
        """"412 clusters, 38 listeners, 96 routes" and what was skipped or missing, in words."""
        text = (f"{counted(len(self.clusters), 'cluster')}, {counted(len(self.listeners), 'listener')}, "
                f"{counted(len(self.routes), 'route')}")
        if self.skipped:
            text += "; skipped as unreadable: " + ", ".join(f"{n} {what}" for what, n in sorted(self.skipped.items()))
        if self.missing:
            text += "; not in the dump: " + ", ".join(self.missing)
        return text


# -- small helpers --------------------------------------------------------------------------------

def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def split_host(host: str, domain: str = KUBERNETES_DOMAIN) -> tuple[str, str]:
    """(service, namespace) of a Kubernetes service host ``name.namespace.svc.cluster.local``; (host, "")
    for any other host (a ServiceEntry's, an IP, a wildcard), as Kiali tells them apart."""
    parts = host.split(".")
    if len(parts) > 2 and ".".join(parts[2:]) == domain:
        return parts[0], parts[1]
    return host, ""


def config_reference(metadata: Any) -> str:
    """"namespace/name" of the Istio object whose path Istio wrote in ``filter_metadata.istio.config``."""
    path = _s(_d(_d(_d(metadata).get("filter_metadata")).get("istio")).get("config"))
    m = _CONFIG_PATH.match(path)
    return f"{m.group(1)}/{m.group(3)}" if m else ""


def configs_by_type(dump: Any) -> dict[str, dict[str, Any]]:
    """The dump's ``configs`` sections by their ``@type``."""
    out: dict[str, dict[str, Any]] = {}
    for conf in _l(_d(dump).get("configs")):
        kind = _s(_d(conf).get("@type"))
        if kind and kind not in out:
            out[kind] = conf
    return out


# -- clusters -----------------------------------------------------------------------------------------

def cluster_service(name: str) -> tuple[str, str] | None:
    """(namespace, service) of the host an Istio cluster name carries
    ("outbound|9080|v1|reviews.shop.svc.cluster.local" -> ("shop", "reviews"); a ServiceEntry's host:
    ("", host)); None for a name of another form or without a host (Envoy's own, "inbound|9080||")."""
    parts = name.split("|")
    if len(parts) <= 3 or not parts[3]:
        return None
    service, namespace = split_host(parts[3])
    return namespace, service


def _cluster_row(cluster: dict[str, Any], static: bool) -> EnvoyCluster | None:
    name = _s(cluster.get("name"))
    if not name:
        return None
    kind = _s(cluster.get("type"))
    if not kind:
        custom = _d(cluster.get("cluster_type"))
        # proto3 JSON leaves the default out: no type means STATIC (a custom type names itself)
        kind = _s(custom.get("name")) or ("" if custom else "STATIC")
    parts = name.split("|")
    if len(parts) > 3:
        host = parts[3]
        service, namespace = split_host(host)
        return EnvoyCluster(name, host, service, namespace, _int(parts[1].rstrip("_")), parts[2],
                            parts[0].rstrip("_"), kind, config_reference(cluster.get("metadata")), static)
    return EnvoyCluster(name, name, name, "", 0, "", "", kind, "", static)


def parse_clusters(section: dict[str, Any], out: EnvoyConfig) -> None:
    for key, static in (("dynamic_active_clusters", False), ("static_clusters", True)):
        entries = section.get(key)
        if entries is not None and not isinstance(entries, list):
            out.skip("clusters")
            continue
        for entry in _l(entries):
            row = _cluster_row(_d(_d(entry).get("cluster")), static)
            if row is None:
                out.skip("clusters")
            else:
                out.clusters.append(row)


# -- routes -------------------------------------------------------------------------------------------

def match_summary(match: Any) -> str:
    """A route's match in a few characters: ``/api*`` (prefix), ``/productpage`` (path), ``regex …``.
    Headers and query parameters are left out, as Kiali leaves them out."""
    m = _d(match)
    conds = []
    if _s(m.get("prefix")):
        conds.append(f"{m['prefix']}*")
    if _s(m.get("path_separated_prefix")):
        conds.append(f"{m['path_separated_prefix']}/*")
    if _s(m.get("path")):
        conds.append(str(m["path"]))
    regex = m.get("safe_regex")
    if regex is not None:
        conds.append(f"regex {_s(_d(regex).get('regex')) or regex}")
    return " ".join(conds)


def _best_domain(domains: list[str]) -> str:
    """The shortest domain that is a name (not an IP address), as Kiali picks it; the only one when one."""
    if not domains:
        return ""
    best = domains[0]
    for d in domains:
        if d and not ("1" <= d[0] <= "9") and len(d) < len(best):
            best = d
    return best


def _route_destination(action: dict[str, Any]) -> str:
    cluster = _s(action.get("cluster"))
    if cluster:
        return cluster
    weighted = _l(_d(action.get("weighted_clusters")).get("clusters"))
    parts = []
    for w in weighted:
        wd = _d(w)
        if _s(wd.get("name")):
            weight = wd.get("weight")
            parts.append(f"{wd['name']} ({weight})" if weight is not None else str(wd["name"]))
    if parts:
        return ", ".join(parts)
    header = _s(action.get("cluster_header"))
    return f"cluster named by header {header}" if header else ""


def parse_route_config(config: dict[str, Any], out: EnvoyConfig) -> None:
    name = _s(config.get("name"))
    for vh in _l(config.get("virtual_hosts")):
        vhd = _d(vh)
        if not vhd:
            out.skip("routes")
            continue
        all_domains = tuple(d for d in _l(vhd.get("domains")) if isinstance(d, str))
        best = _best_domain(list(all_domains))
        routes = _l(vhd.get("routes"))
        for r in routes:
            rd = _d(r)
            if not rd:
                out.skip("routes")
                continue
            action = rd.get("route")
            if not isinstance(action, dict):
                continue  # a redirect or a direct answer: nothing routed (Kiali leaves them out too)
            if action.get("cluster") == PASSTHROUGH:
                continue
            out.routes.append(EnvoyRoute(name, best, all_domains, match_summary(rd.get("match")),
                                         config_reference(rd.get("metadata")), _route_destination(action)))
        if not routes:
            out.routes.append(EnvoyRoute(name, best, all_domains, "/*", "404"))


def parse_routes(section: dict[str, Any], out: EnvoyConfig) -> None:
    for key in ("dynamic_route_configs", "static_route_configs"):
        for entry in _l(section.get(key)):
            config = _d(_d(entry).get("route_config"))
            if not config:
                out.skip("routes")
                continue
            parse_route_config(config, out)


# -- listeners ----------------------------------------------------------------------------------------

def _cluster_words(cluster: str) -> str:
    # Istio's own clusters (PassthroughCluster, BlackHoleCluster, InboundPassthroughCluster...) say
    # what they are; a service's cluster is named as one
    return cluster if "Cluster" in cluster else f"Cluster: {cluster}"


def _match_all_cluster(route_config: dict[str, Any]) -> str:
    vhs = _l(route_config.get("virtual_hosts"))
    if len(vhs) != 1:
        return ""
    vh = _d(vhs[0])
    if _l(vh.get("domains")) != ["*"] or len(_l(vh.get("routes"))) != 1:
        return ""
    route = _d(_l(vh.get("routes"))[0])
    prefix = _d(route.get("match")).get("prefix")
    if prefix is not None and prefix != "/":
        return ""
    cluster = _s(_d(route.get("route")).get("cluster"))
    return _cluster_words(cluster) if cluster else ""


def _listener_destination(filters: list[Any]) -> str:
    if not filters:
        return ""
    for f in filters:
        fd = _d(f)
        typed = _d(fd.get("typed_config"))
        name = _s(fd.get("name"))
        kind = _s(typed.get("@type"))
        if name == HTTP_CONNECTION_MANAGER or kind.endswith(".HttpConnectionManager"):
            inline = typed.get("route_config")
            if isinstance(inline, dict):
                cluster = _match_all_cluster(inline)
                if cluster:
                    return cluster
                hosts = []
                for vh in _l(inline.get("virtual_hosts")):
                    vhd = _d(vh)
                    domains = [d for d in _l(vhd.get("domains")) if isinstance(d, str)]
                    described = "" if domains == ["*"] else "/".join(domains)
                    routes = ", ".join(match_summary(_d(r).get("match")) for r in _l(vhd.get("routes")))
                    hosts.append(f"{described} {routes}".strip())
                return "Inline Route: " + "; ".join(hosts)
            rds = _s(_d(typed.get("rds")).get("route_config_name"))
            return f"Route: {rds}" if rds else "HTTP"
        if name == TCP_PROXY or kind.endswith(".TcpProxy"):
            cluster = _s(typed.get("cluster"))
            if not cluster:
                weighted = [_s(_d(c).get("name")) for c in _l(_d(typed.get("weighted_clusters")).get("clusters"))]
                cluster = ", ".join(w for w in weighted if w)
            return _cluster_words(cluster)
    return "Non-HTTP/Non-TCP"


def _chain_match(match: dict[str, Any]) -> str:
    words = []
    names = [n for n in _l(match.get("server_names")) if isinstance(n, str)]
    if names:
        words.append("SNI: " + ", ".join(names))
    if _s(match.get("transport_protocol")):
        words.append(f"Trans: {match['transport_protocol']}")
    protocols = tuple(p for p in _l(match.get("application_protocols")) if isinstance(p, str))
    for known, label in _APP_PROTOCOLS:
        if protocols == known:
            words.append(label)
            break
    port = match.get("destination_port")
    port_text = f":{_int(port)}" if port is not None else ""
    ranges = []
    for p in _l(match.get("prefix_ranges")):
        pd = _d(p)
        if _s(pd.get("address_prefix")):
            ranges.append(f"{pd['address_prefix']}/{_int(pd.get('prefix_len'))}")
    if ranges:
        words.append(f"Addr: {', '.join(ranges)}{port_text}")
    elif port_text:
        words.append(f"Addr: *{port_text}")
    return "; ".join(words) or "ALL"


def _listener_rows(listener: dict[str, Any], out: EnvoyConfig, name: str = "") -> None:
    name = _s(listener.get("name")) or name
    socket = _d(_d(listener.get("address")).get("socket_address"))
    address = _s(socket.get("address"))
    if not socket:  # an internal listener (waypoints, ambient): named, not bound to an address
        internal = _d(_d(listener.get("address")).get("envoy_internal_address"))
        address = _s(internal.get("server_listener_name")) or ("internal" if "internal_listener" in listener else "")
    port = _int(socket.get("port_value"))
    chains = list(_l(listener.get("filter_chains")))
    default = listener.get("default_filter_chain")
    if isinstance(default, dict):
        chains.append(default)
    if not chains:
        out.listeners.append(EnvoyListener(name, address, port, "ALL", ""))
        return
    for chain in chains:
        cd = _d(chain)
        if not cd:
            out.skip("listeners")
            continue
        out.listeners.append(EnvoyListener(name, address, port, _chain_match(_d(cd.get("filter_chain_match"))),
                                           _listener_destination(_l(cd.get("filters")))))


def parse_listeners(section: dict[str, Any], out: EnvoyConfig) -> None:
    for entry in _l(section.get("dynamic_listeners")):
        listener = _d(_d(_d(entry).get("active_state")).get("listener"))
        if not listener:
            if _d(entry).get("error_state") or _d(entry).get("warming_state") or _d(entry).get("draining_state"):
                continue  # not serving: no active state to show
            out.skip("listeners")
            continue
        _listener_rows(listener, out, _s(_d(entry).get("name")))
    for entry in _l(section.get("static_listeners")):
        listener = _d(_d(entry).get("listener"))
        if not listener:
            out.skip("listeners")
            continue
        _listener_rows(listener, out)


# -- bootstrap ----------------------------------------------------------------------------------------

def _envoy_version(node: dict[str, Any]) -> str:
    build = _d(node.get("user_agent_build_version"))
    v = _d(build.get("version"))
    if v:
        return f"{_int(v.get('major_number'))}.{_int(v.get('minor_number'))}.{_int(v.get('patch'))}"
    return _s(node.get("build_version"))


def parse_bootstrap(section: dict[str, Any], out: EnvoyConfig) -> None:
    boot = _d(section.get("bootstrap"))
    if not boot:
        out.skip("bootstrap")
        return
    node = _d(boot.get("node"))
    meta = _d(node.get("metadata"))
    node_id = _s(node.get("id"))
    facts: list[tuple[str, Any]] = [
        ("Node ID", node_id),
        # Istio's node ids are "<type>~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local"
        ("Proxy type", node_id.split("~", 1)[0] if "~" in node_id else ""),
        ("Istio version", meta.get("ISTIO_VERSION")),
        ("Envoy version", _envoy_version(node)),
        ("Pod", meta.get("NAME")),
        ("Namespace", meta.get("NAMESPACE")),
        ("Workload", meta.get("WORKLOAD_NAME")),
        ("Service cluster", node.get("cluster")),
        ("Mesh ID", meta.get("MESH_ID")),
        ("Cluster ID", meta.get("CLUSTER_ID")),
        ("Network", meta.get("NETWORK")),
        ("Revision", _d(meta.get("LABELS")).get("istio.io/rev") or meta.get("ISTIO_REVISION")),
        ("Service account", meta.get("SERVICE_ACCOUNT")),
        ("Labels", ", ".join(f"{k}={v}" for k, v in sorted(_d(meta.get("LABELS")).items()))),
        ("Instance IPs", meta.get("INSTANCE_IPS")),
        ("Interception mode", meta.get("INTERCEPTION_MODE")),
        ("Discovery address", _d(meta.get("PROXY_CONFIG")).get("discoveryAddress")),
    ]
    admin = _d(_d(_d(boot.get("admin")).get("address")).get("socket_address"))
    if admin:
        facts.append(("Admin address", f"{_s(admin.get('address'))}:{_int(admin.get('port_value'))}"))
    static = _d(boot.get("static_resources"))
    facts.append(("Static clusters", len(_l(static.get("clusters")))))
    facts.append(("Static listeners", len(_l(static.get("listeners")))))
    for name, value in facts:
        if isinstance(value, bool | int | float) or (isinstance(value, str) and value):
            out.bootstrap.append(BootstrapFact(name, str(value)))


def _duration(seconds: float) -> str:
    """A time span as a person says it: "17h", "3d", "12 min"."""
    seconds = abs(seconds)
    if seconds >= 2 * 86400:
        return f"{int(seconds // 86400)}d"
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h"
    return f"{max(1, int(seconds // 60))} min"


def certificate_rows(secret: str, kind: str, pem: bytes, now: float) -> list[EnvoyCertificate]:
    """The certificates in a PEM bundle, each with how long it is valid at ``now``; one row saying why
    when it holds none that can be read."""
    try:
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        certs = x509.load_pem_x509_certificates(pem)
    except (ValueError, TypeError) as e:
        why = "not a certificate" if b"BEGIN CERTIFICATE" not in pem else f"unreadable certificate ({e})"
        return [EnvoyCertificate(secret, kind, "", "", "", "", "", why)]
    rows: list[EnvoyCertificate] = []
    for cert in certs:
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = [*san.get_values_for_type(x509.UniformResourceIdentifier), *san.get_values_for_type(x509.DNSName)]
        except (x509.ExtensionNotFound, ValueError):
            names = []
        cn = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        identity = ", ".join(names) or ", ".join(cn) or cert.subject.rfc4514_string()
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < start.timestamp():
            state = f"not valid yet (for {_duration(start.timestamp() - now)})"
        elif now > end.timestamp():
            state = f"EXPIRED {_duration(now - end.timestamp())} ago"
        else:
            state = f"valid, {_duration(end.timestamp() - now)} left"
        rows.append(EnvoyCertificate(secret, kind if not rows or kind != "certificate" else "issuer certificate",
                                     identity, cert.issuer.rfc4514_string(), f"{cert.serial_number:x}",
                                     start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"), state))
    return rows


def _inline_pem(source: Any) -> bytes | None:
    """The bytes of a DataSource given inline (``inline_bytes`` base64, or ``inline_string``); None for a
    file or an SDS reference, which the dump does not hold."""
    source = _d(source)
    if isinstance(source.get("inline_bytes"), str):
        try:
            return base64.b64decode(source["inline_bytes"], validate=True)
        except ValueError:
            return b""
    text = source.get("inline_string")
    return text.encode() if isinstance(text, str) else None


def parse_secrets(section: dict[str, Any], out: EnvoyConfig, now: float | None = None) -> None:
    """The certificates of the proxy's secrets (active and warming): the workload's chain and the trusted
    roots, with their identities and validity. Private keys are never read (the dump's are redacted)."""
    import time

    at = time.time() if now is None else now
    for key in ("dynamic_active_secrets", "dynamic_warming_secrets", "static_secrets"):
        for entry in _l(section.get(key)):
            entry = _d(entry)
            secret = _d(entry.get("secret"))
            name = _s(entry.get("name")) or _s(secret.get("name"))
            if not secret:
                out.skip("secrets")
                continue
            if key == "dynamic_warming_secrets":
                name += " (warming)"
            chain = _inline_pem(_d(secret.get("tls_certificate")).get("certificate_chain"))
            roots = _inline_pem(_d(_d(secret.get("validation_context")).get("trusted_ca")))
            for kind, pem in (("certificate", chain), ("trusted CA", roots)):
                if pem is not None:
                    out.secrets.extend(certificate_rows(name, kind, pem, at))


# -- the whole dump -----------------------------------------------------------------------------------

_SECTIONS = ((CLUSTERS_DUMP, "clusters", parse_clusters), (LISTENERS_DUMP, "listeners", parse_listeners),
             (ROUTES_DUMP, "routes", parse_routes), (BOOTSTRAP_DUMP, "bootstrap", parse_bootstrap),
             (SECRETS_DUMP, "secrets", parse_secrets))


def parse_config_dump(dump: Any) -> EnvoyConfig:
    """Rows for every section of an Envoy ``/config_dump``. Never raises: a dump that is not one gives
    empty tables with every section in ``missing``."""
    out = EnvoyConfig()
    if not isinstance(_d(dump).get("configs"), list):
        out.missing = [label for _, label, _ in _SECTIONS if label != "secrets"]
        return out
    unreadable = sum(1 for c in dump["configs"] if not _s(_d(c).get("@type")))
    if unreadable:
        out.skip("configs", unreadable)
    sections = configs_by_type(dump)
    for kind, label, parse in _SECTIONS:
        section = sections.get(kind)
        if section is None:
            if label != "secrets":  # (a proxy with no certificate yet, or an Envoy outside Istio, has none)
                out.missing.append(label)
            continue
        try:
            parse(section, out)
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError):  # a shape not foreseen
            out.skip(label)
    return out


def redact_secrets(dump: Any) -> tuple[Any, int]:
    """A copy of ``dump`` with secret material replaced by a marker, and how many values were replaced.

    Field names are compared in any spelling (snake or camel case, any letter case). Replaced whole:

    - a field named in ``SECRET_FIELDS`` or ending as ``SECRET_SUFFIXES`` say (``private_key``,
      ``privateKey``, ``json_key``, ``access_token``, ``db_password``...), wherever it is;
    - everything under a credential container (``call_credentials``, ``channel_credentials``,
      ``credentials``): tokens, JSON keys, STS settings, plugin configs;
    - every value of ``proxyMetadata`` (its keys, the variables' names, stay);
    - the value of a header-like pair, and every match value of a header or query-parameter matcher
      (``exact_match``, ``string_match``, any ``*_match``), whose name is a credential (``authorization``,
      ``cookie``, ``x-api-key``, a secret field's name), or of an environment variable or node metadata
      key named like one (``AWS_SECRET_ACCESS_KEY``, ``ISTIO_META_DB_PASS``); the text under a map key
      that is a credential header's name (``{"Authorization": "Bearer ..."}``);
    - the private members of a JSON Web Key (``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``oth``, ``k``) in
      any object with a ``kty`` (a JWT filter's ``local_jwks``);
    - inside a string that holds JSON (a Wasm plugin's ``configuration``), the same, written again as
      JSON; a StringValue's text that is not JSON whole, when a credential-looking key is in it;
    - any string that holds a PEM private key (as text or base64) or a JSON document with one;
    - the password of a URL in any string (``https://user:REDACTED@host/path``);
    - in inline text (``inline_string``, ``inline_code``; ``inline_bytes`` decoded, redacted and encoded
      again), Lua string literals that hold a credential (the rules are above ``_LUA_TOKEN``);
    - in the secrets section, every part of a secret but its name, certificate chain and validation
      context (the public certificates).

    Parts of the dump without secrets are shared with the original, not copied."""
    count = 0
    kinds = _FIELD_KINDS

    def secret(value: Any) -> Any:
        nonlocal count
        if value is None or isinstance(value, bool) or value == REDACTED:
            return value  # a flag ("use_refresh_token": true) or nothing is no secret
        count += 1
        return REDACTED

    def walk(value: Any, depth: int) -> Any:
        nonlocal count
        if depth > 200:  # a dump is never this deep; stop rather than recurse without end
            count += 1
            return REDACTED
        kind = type(value)
        if kind is dict:
            return walk_dict(value, depth)
        if kind is list:
            items = [v if type(v) not in _CONTAINERS else walk(v, depth + 1) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        if kind is str:
            return string(value, depth)
        return value

    def string(value: str, depth: int, config: bool = False) -> Any:
        # a key as text, or configuration as JSON text (``config``: a StringValue's, whatever it looks like)
        if len(value) >= _SHORTEST_KEY and _looks_like_key(value):
            return secret(value)
        first = value[:1]
        if first.isspace():
            first = value.lstrip()[:1]
        if first in ("{", "["):
            try:
                doc = json.loads(value)
            except (ValueError, RecursionError):
                config = True
            else:
                if isinstance(doc, dict | list):
                    new = walk(doc, depth + 1)
                    return value if new is doc else json.dumps(strict_numbers(new), allow_nan=False)
        if config and _CREDENTIAL_KEY.search(value):
            return secret(value)
        if "@" in value and "://" in value:
            return url_passwords(value)
        return value

    def url_passwords(value: str) -> str:
        def one(m: re.Match[str]) -> str:
            nonlocal count
            count += 1
            return f"{m.group(1)}:{REDACTED}@"

        return _URL_PASSWORD.sub(one, value)

    def code(value: str, depth: int) -> Any:
        # inline text: a key or JSON (a JWKS) as any string is, then Lua's string literals
        nonlocal count
        out = string(value, depth)
        if type(out) is not str or out == REDACTED or not ('"' in out or "'" in out or "[[" in out or "[=" in out):
            return out
        spans: list[tuple[int, int]] = []
        at = 0  # where the last token ended: the text between it and the next is code
        last = None  # the last literal's text, None after a comment
        for begin, end, text in _lua_literals(out):
            between, at = out[at:begin], end
            if text is None:  # a comment
                last = None
                continue
            named = _LUA_NAMED.search(between[-200:])
            if text and ((named is not None and _header_secret(named.group(1))) or _LUA_CREDENTIAL.fullmatch(text) or
                         (last is not None and _LUA_AFTER_NAME.fullmatch(between) and _header_secret(last))):
                spans.append((begin, end))
            last = text
        if not spans:
            return out
        count += len(spans)
        parts, start = [], 0
        for a, b in spans:
            parts += [out[start:a], json.dumps(REDACTED)]
            start = b
        return "".join(parts) + out[start:]

    def inline_bytes(value: str, depth: int) -> Any:
        # a DataSource's base64 (a JWKS, Lua source): its text is redacted as ``code`` and written again as base64
        try:
            text = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError:  # not base64 or not text (binascii.Error and UnicodeDecodeError are ValueErrors)
            return string(value, depth)
        out = code(text, depth)
        if out is text:
            return value
        return out if out == REDACTED else base64.b64encode(out.encode("utf-8")).decode("ascii")

    def walk_dict(value: dict[str, Any], depth: int) -> dict[str, Any]:
        if value.get("@type") == SECRETS_DUMP:
            return {k: ([secret_entry(e, depth + 2) for e in v] if isinstance(v, list) else walk(v, depth + 1))
                    for k, v in value.items()}
        changed: dict[str, Any] | None = None
        header_secret = _header_secret(value.get("key", value.get("name")))
        string_value = value.get("@type") == _STRING_VALUE
        jwk = "kty" in value
        for k, v in value.items():
            t = type(v)
            if header_secret or string_value or jwk or kinds.get(k) != "" or t not in _CONTAINERS:
                new = field(k, v, depth, header_secret, string_value, jwk)  # the few fields that may change
            elif t is str:  # the commonest case: a short string under a plain name
                new = v if (len(v) < _SHORTEST_KEY or not _looks_like_key(v)) and v[:1] not in _JSON_STARTS \
                    and ("@" not in v or "://" not in v) else string(v, depth)
            else:
                new = walk(v, depth + 1)  # a dict or list under a plain name
            if new is not v:
                if changed is None:
                    changed = dict(value)
                changed[k] = new
        return value if changed is None else changed

    def field(k: Any, v: Any, depth: int, header_secret: bool = False, string_value: bool = False,
              jwk: bool = False) -> Any:
        kind = _field_kind(k) if isinstance(k, str) else ""
        if kind in ("secret", "tree") or (header_secret and _match_value_field(k)) or (jwk and k in _JWK_PRIVATE):
            return secret(v)
        if kind == "header":
            if isinstance(v, str):
                return secret(v)
            if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                return [secret(x) for x in v]
        if kind == "values":
            return {vk: secret(vv) for vk, vv in v.items()} if isinstance(v, dict) else secret(v)
        if kind == "code" and isinstance(v, str):
            return code(v, depth + 1)
        if kind == "bytes" and isinstance(v, str):
            return inline_bytes(v, depth + 1)
        if string_value and k == "value" and isinstance(v, str):
            return string(v, depth + 1, config=True)
        if isinstance(v, dict | list | str):
            return walk(v, depth + 1)
        return v

    def secret_entry(entry: Any, depth: int) -> Any:
        # an entry of dynamic_active_secrets, dynamic_warming_secrets, static_secrets: {name, version_info,
        # last_updated, secret}: the secret keeps its public parts only
        if not (isinstance(entry, dict) and isinstance(entry.get("secret"), dict)):
            return walk(entry, depth)
        return {k: (public_secret(v, depth + 1) if k == "secret" else field(k, v, depth)) for k, v in entry.items()}

    def public_secret(body: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in body.items():
            if k in _PUBLIC_SECRET_PARTS:
                out[k] = walk(v, depth + 3)
            elif k in ("tls_certificate", "tlsCertificate") and isinstance(v, dict):
                out[k] = {ck: (walk(cv, depth + 4) if _norm(ck) in _PUBLIC_CERTIFICATE_PARTS else secret(cv))
                          for ck, cv in v.items()}
            else:
                out[k] = secret(v)
        return out

    return walk(dump, 0), count


@dataclass
class EnvoyStat:
    """One of a proxy's statistics as its admin's ``/stats`` writes it: a counter's or gauge's number, a
    histogram's quantiles and sums as text."""

    name: str
    value: str


@dataclass
class EnvoyStats:
    stats: list[EnvoyStat]
    skipped: int = 0  # lines that are no "name: value"


def parse_stats(text: str) -> EnvoyStats:
    """The ``name: value`` lines of Envoy's ``/stats`` text, in its order; other lines are skipped and
    counted, never an error."""
    out: list[EnvoyStat] = []
    skipped = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition(": ")
        if not sep or not name or " " in name:
            skipped += 1
            continue
        out.append(EnvoyStat(name, value.strip()))
    return EnvoyStats(out, skipped)


def filter_rows(rows: Iterable[Any], text: str, columns: Iterable[str]) -> list[Any]:
    """The rows with ``text`` (case-insensitive) in any of ``columns``; all rows for an empty text."""
    needle = text.strip().lower()
    cols = tuple(columns)
    if not needle:
        return list(rows)
    return [r for r in rows if any(needle in str(getattr(r, c)).lower() for c in cols)]
