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
     run as one binary, without a component) with its Jaeger query port 16686.
   The base path is found by asking: ``/jaeger`` then none for Istio's addon, the other way round for
   the others.

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
from meshdesk.sources.tracing import GIVE_TRACING_URL, JaegerClient, client_from_settings

log = logging.getLogger(__name__)

JAEGER_QUERY_PORT = 16686
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


def _service(obj: Mapping[str, Any], what: str, base_paths: tuple[str, ...],
             istio_addon: bool = False, strict: bool = False) -> TracingService | None:
    meta = _d(obj.get("metadata"))
    if not meta.get("name"):
        return None
    port = _query_port(obj, istio_addon=istio_addon, strict=strict)
    if port is None:
        return None
    return TracingService(str(meta.get("namespace") or ""), str(meta["name"]), port[0], port[1], what, base_paths)


def find_tracing_services(api: Any, *, timeout: float = 10.0,
                          denied: list[str] | None = None) -> list[TracingService]:
    """The tracing query services of the cluster, the likeliest first (Istio's addon, then Jaeger, then
    Tempo, those in istio-system first). What the user may not read on the way is added to ``denied``."""
    http = RawApi(api, timeout, None)
    refused: list[str] = denied if denied is not None else []
    out: list[TracingService] = []
    try:
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

    for query in [("fieldSelector", "metadata.name=jaeger-query")] + [("labelSelector", s) for s in JAEGER_SELECTORS]:
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
        svc = _service(item, what, ("", ISTIO_BASE_PATH), strict=True)  # the Jaeger frontend's 16686 only
        if svc is not None:
            # the query frontend's headless "-discovery" twin names the same pods: the plain one first
            tempo.append((svc.name.endswith("-discovery"), svc))
    out.extend(svc for _twin, svc in sorted(tempo, key=lambda pair: pair[0]))
    seen: set[tuple[str, str]] = set()
    unique = []
    for svc in out:
        if (svc.namespace, svc.name) not in seen:
            seen.add((svc.namespace, svc.name))
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
                    timeout: float = 30.0, probe: bool = True) -> TracingConnection:
    """Reach the tracing backend: ``url`` when given (``auth`` as the settings store it), else through the
    API server's service proxy to the query service found. ``probe`` asks it for its services first.
    Raises TracingError (or its unreachable/unauthorized/timeout kinds) with a plain message."""
    if url:
        problem = url_problem(url)
        if problem:
            raise TracingURLError(f"The tracing URL {safe_url(url)!r} cannot be used: {problem}",
                                  hint="correct it in Settings for this context, or empty it to find the tracing "
                                       "backend in the cluster")
        auth_type = str((auth or {}).get("type") or "none")
        if api is not None and auth_type == "none" and _through_api_server(api, url):
            # the API server's own proxy: it wants the kubeconfig's credentials
            client = via_api_server(JaegerClient, api, url, timeout=timeout, headers=(auth or {}).get("headers"))
            conn = TracingConnection(client, "URL through the API server " + safe_url(url).rstrip("/"))
        else:
            conn = TracingConnection(client_from_settings(url, auth, timeout=timeout),
                                     "URL " + safe_url(url).rstrip("/"))
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
    services = find_tracing_services(api, timeout=min(timeout, 10.0), denied=denied)
    if not services and denied:
        raise TracingNotFound("The tracing backend could not be looked for: your account is not allowed "
                           + ", ".join(denied[:3]) + (" and more" if len(denied) > 3 else ""),
                           hint=f"{GIVE_TRACING_URL}, or ask for the right to list services")
    if not services:
        raise TracingNotFound(f"No tracing backend was found: no service {ISTIO_NAMESPACE}/{ISTIO_TRACING_SERVICE} "
                           "(Istio's Jaeger addon), no jaeger-query service, none labelled "
                           + " or ".join(JAEGER_SELECTORS) + " with a query port, and no Tempo with its Jaeger "
                           "query port (16686)",
                           hint=f"install Istio's Jaeger addon, or {GIVE_TRACING_URL}")
    headers = (auth or {}).get("headers") or None
    tried: list[str] = []
    for svc in services:
        for base in svc.base_paths:
            client = via_api_server(JaegerClient, api, service_proxy_url(api, svc, base), timeout=timeout,
                                    headers=headers)
            where = f"API server service proxy to {svc} ({svc.what})" + (f", under {base}" if base else "")
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
