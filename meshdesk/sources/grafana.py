"""Open Istio's Grafana dashboards for what is selected, as Kiali's "View in Grafana" links do.

Grafana is shown in the user's browser, which has none of the kubeconfig's credentials: it is reached

1. at the URL the user gave for the context (an ingress, a Grafana Cloud stack), or
2. as ``istioctl dashboard grafana`` reaches it, through a port-forward to a Grafana pod relayed by a
   local listener on 127.0.0.1 that stays open while the context is shown: Istio's addon
   (``istio-system/grafana``), else a service labelled ``app.kubernetes.io/name=grafana`` or
   ``app=grafana`` in any namespace (Helm's chart, kube-prometheus-stack).

A dashboard is found by its title through Grafana's search API (``/api/search``), as Kiali finds it,
since Istio's service and workload dashboards have no fixed uid. A Grafana that wants a login for its API
gets its dashboard search page for that title instead (the browser logs in; the page lists the dashboard).
The link carries the dashboard's variables as Kiali sets them (``var-namespace``, ``var-workload``;
``var-service`` with the service's ``<name>.<namespace>.svc.cluster.local``) and the time range shown.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests

from meshdesk.mesh.inventory import ISTIO_NAMESPACE
from meshdesk.sources.base import ConfigError, Forbidden, NotFound, SourceError
from meshdesk.sources.discovery import (
    PortForwardRelay,
    PrometheusService,
    _items,
    _service,
    find_prometheus_pod,
)
from meshdesk.sources.httpapi import HTTPAPIClient, is_web_page, safe_url, url_problem
from meshdesk.sources.inventory import RawApi

log = logging.getLogger(__name__)

GRAFANA_SELECTORS = ("app.kubernetes.io/name=grafana", "app=grafana")
LIKELY_NAMESPACES = (ISTIO_NAMESPACE, "monitoring", "grafana", "observability", "kube-prometheus")

# Istio's dashboards (manifests/addons/dashboards), by the kind of what is selected: the title Grafana
# knows them by and the variables the link sets, as Kiali's default configuration names them
MESH_DASHBOARD = "Istio Mesh Dashboard"
DASHBOARDS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "workload": ("Istio Workload Dashboard", ("var-workload", "var-namespace")),
    "service": ("Istio Service Dashboard", ("var-service", "var-namespace")),
    "mesh": (MESH_DASHBOARD, ()),
}

GIVE_GRAFANA_URL = "give Grafana's URL in Settings for this context"


class GrafanaError(SourceError):
    """Grafana could not be found or reached; said in the Metrics dock, the rest of the window goes on."""

    transient = False


class GrafanaNotFound(GrafanaError):
    pass


@dataclass(frozen=True)
class DashboardLink:
    title: str  # the dashboard's
    url: str  # what the browser opens
    searched: bool = False  # Grafana's search page for the title (its API wanted a login)


class GrafanaClient(HTTPAPIClient):
    """Grafana's HTTP API: its health and its dashboard search."""

    product = "Grafana"
    redirect_hint = "if that address is the right one, set it as Grafana's URL in Settings for this context"

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> tuple[int, Any, str]:
        """(status, JSON, what to quote of the answer): a web page is named by its title, not quoted (a
        login page carries form tokens in its first lines)."""
        resp = self._send(path, params)
        sent, excerpt, body, _deep = self._read_body(resp)
        if is_web_page(resp, excerpt):
            excerpt = f"a web page{self._page_named(resp, sent)}"
        return resp.status_code, body, excerpt

    def health(self) -> str:
        """Grafana's version, from ``/api/health`` (which answers without a login); raises GrafanaError
        when what answers is not Grafana."""
        status, body, excerpt = self._get("/api/health")
        if status >= 400 or not isinstance(body, dict) or "database" not in body:
            raise GrafanaError(f"{self._display_url} did not answer as Grafana does at /api/health "
                               f"(HTTP {status}{': ' + excerpt[:80] if excerpt else ''})",
                               hint=f"check the address, or {GIVE_GRAFANA_URL}")
        return str(body.get("version") or "")

    def find_dashboard(self, title: str) -> str | None:
        """The path (or URL) of the dashboard titled ``title`` (one titled exactly so first, else the first
        found, as Kiali takes it); None when Grafana has none; raises GrafanaError when the search
        needs a login (HTTP 401/403) or fails."""
        status, body, excerpt = self._get("/api/search", {"query": title, "type": "dash-db"})
        if status in (401, 403):
            raise GrafanaError(f"Grafana at {self._display_url} wants a login to search its dashboards "
                               f"(HTTP {status})")
        if status >= 400 or not isinstance(body, list):
            raise GrafanaError(f"Grafana at {self._display_url} could not search its dashboards (HTTP {status}"
                               f"{': ' + excerpt[:80] if excerpt else ''})")
        found = [d for d in body if isinstance(d, dict) and isinstance(d.get("url"), str) and d["url"]]
        exact = [d for d in found if str(d.get("title") or "") == title]
        chosen = (exact or found)[:1]
        return str(chosen[0]["url"]) if chosen else None


def dashboard_query(kind: str, namespace: str, name: str, range_s: int, end: float = 0.0) -> dict[str, str]:
    """The link's query for a dashboard of ``kind`` (see DASHBOARDS) on ``namespace``/``name``: its
    variables as Kiali sets them, and the time range shown (``from=now-1800s``; ending at ``end``, a replayed
    moment in unix seconds, in Grafana's milliseconds: the range charted, not the last minutes)."""
    _title, variables = DASHBOARDS[kind]
    values = {"var-workload": name, "var-namespace": namespace,
              "var-service": f"{name}.{namespace}.svc.cluster.local"}
    return {**{var: values[var] for var in variables}, **range_query(range_s, end)}


def range_query(range_s: int, end: float = 0.0) -> dict[str, str]:
    """A dashboard link's time range: the last ``range_s`` seconds (``from=now-1800s``), or those ending at
    ``end`` (a replayed moment, unix seconds) in Grafana's milliseconds; none without a range."""
    if range_s > 0 and end > 0:
        return {"from": str(int((end - range_s) * 1000)), "to": str(int(end * 1000))}
    if range_s > 0:
        return {"from": f"now-{int(range_s)}s", "to": "now"}
    return {}


def find_grafana_service(api: Any, *, timeout: float = 10.0, denied: list[str] | None = None) -> PrometheusService | None:
    """Istio's ``istio-system/grafana``, else a service with Grafana's usual labels (in istio-system first).
    What the user may not read on the way is added to ``denied``."""
    http = RawApi(api, timeout, None)
    refused: list[str] = denied if denied is not None else []
    try:
        doc = http.get(f"/api/v1/namespaces/{ISTIO_NAMESPACE}/services/grafana", what="read istio-system/grafana")
        found = _service(doc) if isinstance(doc, dict) else None
        if found:
            return found
    except Forbidden:
        refused.append(f"to read the service {ISTIO_NAMESPACE}/grafana")
    except NotFound:
        pass
    for selector in GRAFANA_SELECTORS:
        try:
            items = _items(http.get("/api/v1/services", [("labelSelector", selector)], what="find Grafana"))
        except Forbidden:
            items = []
            for ns in LIKELY_NAMESPACES:
                with contextlib.suppress(NotFound):
                    try:
                        items += _items(http.get(f"/api/v1/namespaces/{ns}/services", [("labelSelector", selector)],
                                                 what="find Grafana"))
                    except Forbidden:
                        refused.append(f"to list the services of {ns}")
        # a chart's other parts (its image renderer) carry Grafana's labels too
        candidates = [s for s in (_service(i) for i in items) if s and "renderer" not in s.name]
        if candidates:
            candidates.sort(key=lambda s: (s.namespace != ISTIO_NAMESPACE, s.name != "grafana", s.namespace, s.name))
            return candidates[0]
    return None


class GrafanaOpener:
    """The way to one context's Grafana, found on first use and kept (its port-forward stays open for the
    browser) until :meth:`close`. Safe to use from a worker thread."""

    def __init__(self, api: Any, *, url: str = "", auth: Mapping[str, Any] | None = None,
                 timeout: float = 15.0) -> None:
        self.api = api
        self.url = url.strip()
        self.auth = dict(auth or {})
        self.timeout = timeout
        self._lock = threading.Lock()
        self._connect_lock = threading.Lock()
        self._closed = False
        self._base = ""  # Grafana's address, for the browser and its API
        self._client: GrafanaClient | None = None
        self._relay: PortForwardRelay | None = None
        self.description = ""  # how Grafana is reached, in words

    def _connect(self) -> GrafanaClient:
        # one search at a time (it may take up to the timeout); the state's lock is held for moments only,
        # so that closing (another context chosen) never waits for a search under way
        with self._connect_lock:
            with self._lock:
                if self._closed:
                    raise GrafanaError("Cancelled: the cluster was closed")
                if self._client is not None:
                    return self._client
            relay: PortForwardRelay | None = None
            if self.url:
                client, description, base = self._explicit(), f"URL {safe_url(self.url)}", self.url
            else:
                client, relay, description = self._port_forward()
                base = relay.url
            try:
                client.health()
            except BaseException:
                client.close()
                if relay is not None:
                    relay.close()
                raise
            with self._lock:
                if not self._closed:
                    self._client, self._relay, self._base, self.description = client, relay, base.rstrip("/"), description
                    return client
            client.close()
            if relay is not None:
                relay.close()
            raise GrafanaError("Cancelled: the cluster was closed")

    def _explicit(self) -> GrafanaClient:
        problem = url_problem(self.url)
        if problem:
            raise ConfigError(f"Grafana's URL {safe_url(self.url)!r} cannot be used: {problem}",
                              hint="correct it in Settings for this context, or empty it to find Grafana in the cluster")
        auth = self.auth
        basic = (str(auth["username"]), str(auth.get("password") or "")) if auth.get("username") else None
        return GrafanaClient(self.url, token=str(auth["token"]) if auth.get("token") else None, basic_auth=basic,
                             ca_bundle=auth.get("ca_file") or None, insecure=bool(auth.get("insecure", False)),
                             timeout=self.timeout)

    def _port_forward(self) -> tuple[GrafanaClient, PortForwardRelay, str]:
        if self.api is None:
            raise GrafanaNotFound("No Grafana for this mesh", hint=GIVE_GRAFANA_URL)
        denied: list[str] = []
        svc = find_grafana_service(self.api, timeout=self.timeout, denied=denied)
        if svc is None:
            looked = ("Grafana could not be looked for: your account is not allowed " + ", ".join(denied[:3])
                      if denied else "Grafana was not found: no service istio-system/grafana and none labelled "
                      + " or ".join(GRAFANA_SELECTORS))
            raise GrafanaNotFound(looked, hint=f"install Istio's Grafana addon, or {GIVE_GRAFANA_URL}")
        pod = find_prometheus_pod(self.api, svc, timeout=self.timeout)
        if pod is None:
            raise GrafanaNotFound(f"Grafana's service {svc} has no pod to forward a port to",
                                  hint=f"check that Grafana runs, or {GIVE_GRAFANA_URL}")
        relay = PortForwardRelay(self.api, svc.namespace, pod[0], pod[1])
        return (GrafanaClient(relay.url, timeout=self.timeout), relay,
                f"port-forward to pod {svc.namespace}/{pod[0]}:{pod[1]} (local {relay.url})")

    def link(self, kind: str, namespace: str = "", name: str = "", range_s: int = 0,
             end: float = 0.0) -> DashboardLink:
        """The browser's link to the dashboard of ``kind`` ("workload", "service" or "mesh") for
        ``namespace``/``name`` over ``range_s`` up to now, or to ``end`` (replay); raises GrafanaError (not found, not reachable, no such dashboard)."""
        return self.link_to(DASHBOARDS[kind][0], dashboard_query(kind, namespace, name, range_s, end),
                            "import Istio's dashboards (istio/manifests/addons/dashboards) into Grafana")

    def link_to(self, title: str, query: Mapping[str, str],
                missing: str = "import it into Grafana, or correct the name your dashboard's externalLinks give"
                ) -> DashboardLink:
        """The browser's link to the Grafana dashboard titled ``title`` with ``query`` (its variables, its time
        range); raises GrafanaError (not found, not reachable, no such dashboard: ``missing`` says what to do)."""
        try:
            client = self._connect()
        except GrafanaError:
            raise
        except SourceError as e:
            raise GrafanaError(f"Grafana could not be reached: {e.message}", hint=e.hint or GIVE_GRAFANA_URL) from None
        except (OSError, requests.RequestException) as e:
            raise GrafanaError(f"Grafana could not be reached: {type(e).__name__}", hint=GIVE_GRAFANA_URL) from None
        try:
            path = client.find_dashboard(title)
        except GrafanaError as e:
            if "login" not in e.message:
                raise
            # its API wants a login: the browser logs in, and Grafana's search page lists the dashboard
            return DashboardLink(title, f"{self._base}/dashboards?{urlencode({'query': title})}", searched=True)
        except SourceError as e:
            raise GrafanaError(f"Grafana could not be searched: {e.message}", hint=e.hint) from None
        if path is None:
            raise GrafanaError(f"Grafana has no dashboard titled {title!r}", hint=missing)
        url = path if urlsplit(path).scheme in ("http", "https") else f"{self._base}/{path.lstrip('/')}"
        return DashboardLink(title, url + ("&" if "?" in url else "?") + urlencode(query, quote_via=quote))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            client, relay = self._client, self._relay
            self._client = self._relay = None
        if client is not None:
            client.close()
        if relay is not None:
            relay.close()


__all__ = ["DASHBOARDS", "DashboardLink", "GrafanaClient", "GrafanaError", "GrafanaNotFound", "GrafanaOpener",
           "dashboard_query", "find_grafana_service", "range_query"]
