"""Find a live cluster's tracing backend (Jaeger, or Tempo's Jaeger query frontend) and reach it without
installing anything, the way ``discovery`` finds Prometheus.

In order:

1. the tracing URL saved for the context (``tracing_url`` / ``tracing_auth``), or given on the command line;
2. the API server's service proxy, with the user's own kubeconfig credentials, to:
   - Istio's Jaeger addon, ``istio-system/tracing`` (port 80 ``http-query``, to Jaeger's query UI on
     16686, which the addon serves under the base path ``/jaeger``);
   - else a ``jaeger-query`` service, or one labelled ``app=jaeger`` / ``app.kubernetes.io/name=jaeger``
     with a query port (16686, or a port named for the query), in any namespace;
   - else Tempo's query frontend (``app.kubernetes.io/name=tempo``, component ``query-frontend``; or Tempo
     run as one binary, without a component): its own API on port 3200 (named ``http``, ``http-metrics``
     or ``tempo-prom-metrics`` by the Helm charts and the operator), else its Jaeger query port 16686.
   The base path is found by asking: ``/jaeger`` then none for Istio's addon, the other way round for
   the others.

The API asked (the context's "tracing API" setting, ``--tracing-api``): ``jaeger`` asks Jaeger's query API
only (a Tempo through its Jaeger frontend); ``tempo`` Tempo's own only; auto (the default) Tempo's own for a
Tempo found with its port 3200, or for a URL that answers Tempo's ``/api/echo``, else Jaeger's.

``connect_tracing`` returns the client and a sentence saying which way it went; when nothing is found it
says so, and how to give the URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from meshdesk.mesh.inventory import ISTIO_NAMESPACE
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _list
from meshdesk.mesh.traces import TRACING_API_AUTO, TRACING_API_JAEGER, TRACING_API_TEMPO
from meshdesk.sources.base import (
    Forbidden,
    NotFound,
    SourceError,
    TracingError,
    TracingHTTPError,
    TracingMalformed,
    TracingNotFound,
    TracingURLError,
)
from meshdesk.sources.discovery import _items, _port_number, _through_api_server, _tls_port, via_api_server
from meshdesk.sources.httpapi import safe_url, url_problem
from meshdesk.sources.inventory import RawApi
from meshdesk.sources.tracing import (
    GIVE_TRACING_URL,
    JaegerClient,
    TempoClient,
    answers_as_tempo,
    as_api,
    client_from_settings,
)

log = logging.getLogger(__name__)

JAEGER_QUERY_PORT = 16686
TEMPO_HTTP_PORT = 3200  # Tempo's own API (its query frontend, or Tempo run as one binary)
TEMPO_PORT_NAMES = ("http", "http-metrics", "tempo-prom-metrics")
ISTIO_TRACING_SERVICE = "tracing"  # Istio's Jaeger addon (samples/addons/jaeger.yaml)
ISTIO_BASE_PATH = "/jaeger"  # the addon's QUERY_BASE_PATH
JAEGER_SELECTORS = ("app.kubernetes.io/name=jaeger", "app=jaeger")
TEMPO_SELECTOR = "app.kubernetes.io/name=tempo"  # its query frontend (tempo-distributed), or Tempo itself (one binary)
# where to look namespace by namespace when cluster-wide service lists are forbidden
LIKELY_NAMESPACES = (ISTIO_NAMESPACE, "observability", "tracing", "jaeger", "tempo", "monitoring")


@dataclass(frozen=True)
class TracingService:
    namespace: str
    name: str
    port: int
    tls: bool = False
    what: str = "Jaeger"  # "Istio's Jaeger addon", "Jaeger", "Tempo's query frontend"
    base_paths: tuple[str, ...] = ("", ISTIO_BASE_PATH)
    api: str = TRACING_API_JAEGER  # the API it is asked through: Jaeger's query API or Tempo's own

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}"


@dataclass
class TracingConnection:
    client: JaegerClient
    description: str  # "API server service proxy to istio-system/tracing:80 (Istio's Jaeger addon), /jaeger"
    tried: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.client.close()


def _query_port(obj: Mapping[str, Any], *, istio_addon: bool = False, strict: bool = False) -> tuple[int, bool] | None:
    """The service port Jaeger's query API answers on (and whether it is TLS): 16686 (or a port whose
    target is 16686), unless ``strict`` a port named for the query, or for Istio's addon its port 80; None
    when the service has none (a collector, an agent, a Tempo part without the Jaeger frontend)."""
    ports = [p for p in _list(_d(obj.get("spec")).get("ports")) if isinstance(p, dict) and _port_number(p.get("port"))]

    def pick(p: Mapping[str, Any]) -> tuple[int, bool]:
        return _port_number(p["port"]), _tls_port(p)

    for p in ports:
        if _port_number(p.get("port")) == JAEGER_QUERY_PORT or str(p.get("targetPort")) == str(JAEGER_QUERY_PORT):
            return pick(p)
    if strict:
        return None
    for p in ports:
        name = str(p.get("name") or "").lower()
        if "query" in name and "grpc" not in name:
            return pick(p)
    if istio_addon and ports:
        return pick(next((p for p in ports if _port_number(p.get("port")) == 80), ports[0]))
    return None


def _tempo_port(obj: Mapping[str, Any]) -> tuple[int, bool] | None:
    """The service port Tempo's own API answers on: 3200 (or a port whose target is 3200), else one the
    Helm charts or the operator name for it; None without one."""
    ports = [p for p in _list(_d(obj.get("spec")).get("ports")) if isinstance(p, dict) and _port_number(p.get("port"))]
    by_number = [p for p in ports if _port_number(p.get("port")) == TEMPO_HTTP_PORT
                 or str(p.get("targetPort")) == str(TEMPO_HTTP_PORT)]
    by_name = [p for p in ports if str(p.get("name") or "").lower() in TEMPO_PORT_NAMES]
    for p in by_number + by_name:
        return _port_number(p["port"]), _tls_port(p)
    return None


def _service(obj: Mapping[str, Any], what: str, base_paths: tuple[str, ...],
             istio_addon: bool = False, strict: bool = False) -> TracingService | None:
    meta = _d(obj.get("metadata"))
    if not meta.get("name"):
        return None
    port = _query_port(obj, istio_addon=istio_addon, strict=strict)
    if port is None:
        return None
    return TracingService(str(meta.get("namespace") or ""), str(meta["name"]), port[0], port[1], what, base_paths)


def find_tracing_services(api: Any, *, timeout: float = 10.0, denied: list[str] | None = None,
                          tracing_api: str = TRACING_API_AUTO) -> list[TracingService]:
    """The tracing query services of the cluster, the likeliest first (Istio's addon, then Jaeger, then
    Tempo, those in istio-system first), those that serve ``tracing_api``: a Tempo with its own API and
    its Jaeger frontend twice, its own API first unless Jaeger's is asked for. What the user may not read
    on the way is added to ``denied``."""
    jaeger_too, tempo_too = tracing_api != TRACING_API_TEMPO, tracing_api != TRACING_API_JAEGER
    http = RawApi(api, timeout, None)
    refused: list[str] = denied if denied is not None else []
    out: list[TracingService] = []
    try:
        if not jaeger_too:
            raise NotFound("not asked")
        doc = http.get(f"/api/v1/namespaces/{ISTIO_NAMESPACE}/services/{ISTIO_TRACING_SERVICE}",
                       what=f"read {ISTIO_NAMESPACE}/{ISTIO_TRACING_SERVICE}")
        found = _service(doc, "Istio's Jaeger addon", (ISTIO_BASE_PATH, ""), istio_addon=True) \
            if isinstance(doc, dict) else None
        if found:
            out.append(found)
    except Forbidden:
        refused.append(f"to read the service {ISTIO_NAMESPACE}/{ISTIO_TRACING_SERVICE}")
    except NotFound:
        pass

    def listed(query: tuple[str, str], what: str) -> list[dict[str, Any]]:
        try:
            return _items(http.get("/api/v1/services", [query], what=what))
        except Forbidden:
            items: list[dict[str, Any]] = []
            for ns in LIKELY_NAMESPACES:
                try:
                    items += _items(http.get(f"/api/v1/namespaces/{ns}/services", [query], what=what))
                except Forbidden:
                    if f"to list the services of {ns}" not in refused:
                        refused.append(f"to list the services of {ns}")
                except NotFound:
                    pass
            return items

    jaeger_queries = [("fieldSelector", "metadata.name=jaeger-query")] + [("labelSelector", s) for s in JAEGER_SELECTORS]
    for query in jaeger_queries if jaeger_too else []:
        for item in listed(query, "find Jaeger"):
            svc = _service(item, "Jaeger", ("", ISTIO_BASE_PATH))
            if svc is not None:
                out.append(svc)
    tempo = []
    for item in listed(("labelSelector", TEMPO_SELECTOR), "find Tempo"):
        component = str(_d(_d(item.get("metadata")).get("labels")).get("app.kubernetes.io/component") or "")
        if component not in ("", "query-frontend"):
            continue  # a distributor, an ingester ... never answer queries
        what = "Tempo's query frontend" if component else "Tempo"
        # the query frontend's headless "-discovery" twin names the same pods: the plain one first
        twin = str(_d(item.get("metadata")).get("name") or "").endswith("-discovery")
        own = _tempo_port(item) if tempo_too else None
        meta = _d(item.get("metadata"))
        if own is not None and meta.get("name"):
            tempo.append((twin, 0, TracingService(str(meta.get("namespace") or ""), str(meta["name"]), own[0],
                                                  own[1], what, ("",), TRACING_API_TEMPO)))
        svc = _service(item, what, ("", ISTIO_BASE_PATH), strict=True) if jaeger_too else None  # 16686 only
        if svc is not None:
            tempo.append((twin, 1, svc))
    out.extend(svc for _twin, _api, svc in sorted(tempo, key=lambda entry: entry[:2]))
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for svc in out:
        if (svc.namespace, svc.name, svc.api) not in seen:
            seen.add((svc.namespace, svc.name, svc.api))
            unique.append(svc)
    kinds = {"Istio's Jaeger addon": 0, "Jaeger": 1, "Tempo's query frontend": 2, "Tempo": 3}
    # stable: within a kind, istio-system first, then as found (jaeger-query before labelled ones)
    unique.sort(key=lambda s: (kinds.get(s.what, 3), s.namespace != ISTIO_NAMESPACE))
    return unique


def service_proxy_url(api: Any, svc: TracingService, base_path: str = "") -> str:
    host = str(api.configuration.host).rstrip("/")
    return (f"{host}/api/v1/namespaces/{quote(svc.namespace, safe='')}/services/"
            f"{'https:' if svc.tls else ''}{quote(svc.name, safe='')}:{svc.port}/proxy{base_path}")


def connect_tracing(api: Any, *, url: str | None = None, auth: Mapping[str, Any] | None = None,
                    timeout: float = 30.0, probe: bool = True,
                    tracing_api: str | None = TRACING_API_AUTO) -> TracingConnection:
    """Reach the tracing backend: ``url`` when given (``auth`` as the settings store it), else through the
    API server's service proxy to the query service found, through ``tracing_api`` (auto: Tempo's own API
    when the URL answers Tempo's echo or a Tempo is found with it, else Jaeger's). ``probe`` asks it
    whether it answers first. Raises TracingError (or its unreachable/unauthorized/timeout kinds) with a
    plain message."""
    tracing_api = tracing_api or TRACING_API_AUTO
    if url:
        problem = url_problem(url)
        if problem:
            raise TracingURLError(f"The tracing URL {safe_url(url)!r} cannot be used: {problem}",
                                  hint="correct it in Settings for this context, or empty it to find the tracing "
                                       "backend in the cluster")
        auth_type = str((auth or {}).get("type") or "none")
        cls = TempoClient if tracing_api == TRACING_API_TEMPO else JaegerClient
        if api is not None and auth_type == "none" and _through_api_server(api, url):
            # the API server's own proxy: it wants the kubeconfig's credentials
            client = via_api_server(cls, api, url, timeout=timeout, headers=(auth or {}).get("headers"))
            conn = TracingConnection(client, "URL through the API server " + safe_url(url).rstrip("/"))
        else:
            conn = TracingConnection(client_from_settings(url, auth, timeout=timeout, api=tracing_api),
                                     "URL " + safe_url(url).rstrip("/"))
        if tracing_api == TRACING_API_AUTO:
            try:
                if answers_as_tempo(conn.client):
                    conn.client = as_api(conn.client, TempoClient)
            except BaseException:
                conn.close()
                raise
        conn.description += ", Tempo's API" if isinstance(conn.client, TempoClient) else ", Jaeger's query API"
        if probe:
            try:
                conn.client.ping()
            except BaseException:
                conn.close()
                raise
        return conn
    if api is None:
        raise TracingError("No tracing backend: no tracing URL was given and there is no cluster to look in",
                           hint=GIVE_TRACING_URL)
    denied: list[str] = []
    services = find_tracing_services(api, timeout=min(timeout, 10.0), denied=denied, tracing_api=tracing_api)
    if not services and denied:
        raise TracingNotFound("The tracing backend could not be looked for: your account is not allowed "
                           + ", ".join(denied[:3]) + (" and more" if len(denied) > 3 else ""),
                           hint=f"{GIVE_TRACING_URL}, or ask for the right to list services")
    if not services:
        if tracing_api == TRACING_API_TEMPO:
            raise TracingNotFound(f"No Tempo was found: no service labelled {TEMPO_SELECTOR} (its query frontend, "
                                  f"or Tempo itself) with its API port ({TEMPO_HTTP_PORT})",
                                  hint=f"{GIVE_TRACING_URL}, or choose the tracing API auto or Jaeger")
        tempo_ports = (f"its Jaeger query port ({JAEGER_QUERY_PORT})" if tracing_api == TRACING_API_JAEGER
                       else f"its API port ({TEMPO_HTTP_PORT}) or Jaeger query port ({JAEGER_QUERY_PORT})")
        raise TracingNotFound(f"No tracing backend was found: no service {ISTIO_NAMESPACE}/{ISTIO_TRACING_SERVICE} "
                              "(Istio's Jaeger addon), no jaeger-query service, none labelled "
                              + " or ".join(JAEGER_SELECTORS) + f" with a query port, and no Tempo with {tempo_ports}",
                              hint=f"install Istio's Jaeger addon, or {GIVE_TRACING_URL}")
    headers = (auth or {}).get("headers") or None
    tried: list[str] = []
    for svc in services:
        for base in svc.base_paths:
            cls = TempoClient if svc.api == TRACING_API_TEMPO else JaegerClient
            client = via_api_server(cls, api, service_proxy_url(api, svc, base), timeout=timeout, headers=headers)
            where = (f"API server service proxy to {svc} ({svc.what}" + (", its own API)" if cls is TempoClient
                                                                        else ")") + (f", under {base}" if base else ""))
            conn = TracingConnection(client, where, tried)
            if not probe:
                return conn
            try:
                client.ping()
                return conn
            except SourceError as e:
                client.session.close()
                if isinstance(e, (TracingHTTPError, TracingMalformed)) and getattr(e, "status", 404) == 404 \
                        and base != svc.base_paths[-1]:
                    continue  # not under this base path: the next one
                if not isinstance(e, TracingError) or isinstance(e, TracingURLError):
                    raise
                tried.append(f"{svc} ({svc.what}): {e.message}")
                break
    raise TracingError("The tracing backend cannot be reached: " + "; ".join(tried),
                       hint=f"{GIVE_TRACING_URL}, or ask for access to services/proxy")
