"""Find Istio's Prometheus and reach it without installing anything in the cluster.

In order:

1. an explicit URL with its own auth (``prometheus_url`` / ``prometheus_auth``), when the user gave one;
2. the API server's service proxy to the Prometheus service (``istio-system/prometheus:9090``, else a
   service labelled ``app.kubernetes.io/name=prometheus`` or ``app=prometheus`` in any namespace),
   with the user's own kubeconfig credentials (bearer token incl. exec/OIDC refreshes, client
   certificate, CA, proxy);
3. when the proxy is denied (403) or cannot route (404/503): a port-forward to a Prometheus pod
   through the API server, relayed by a local listener on 127.0.0.1.

``connect_prometheus`` returns the client and a sentence saying which way it went.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import select
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests

from meshdesk.mesh.inventory import ISTIO_NAMESPACE
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _list
from meshdesk.sources.base import (
    ConfigError,
    Forbidden,
    NotFound,
    PrometheusError,
    PrometheusNotFound,
    PrometheusURLError,
    SourceError,
    Unauthorized,
)
from meshdesk.sources.errors import LOGIN_AGAIN, translate
from meshdesk.sources.httpapi import HTTPAPIClient
from meshdesk.sources.inventory import RawApi, api_auth_headers
from meshdesk.sources.portforward import open_port_forward
from meshdesk.sources.prometheus import PrometheusClient, safe_url, url_problem
from meshdesk.sources.promql import Scope

log = logging.getLogger(__name__)

ClientT = TypeVar("ClientT", bound=HTTPAPIClient)

PROMETHEUS_PORT = 9090
# label selectors tried across namespaces when istio-system/prometheus does not exist
# (the last one is the Prometheus Operator's "prometheus-operated" service)
PROMETHEUS_SELECTORS = ("app.kubernetes.io/name=prometheus", "app=prometheus", "operated-prometheus=true")
# where to look namespace by namespace when cluster-wide service lists are forbidden
NOT_PROMETHEUS = re.compile(r"alertmanager|pushgateway|node-exporter|kube-state-metrics|blackbox|"
                            r"(?:^|-)operator$|grafana")
LIKELY_NAMESPACES = ("istio-system", "monitoring", "prometheus", "observability", "kube-prometheus")


@dataclass(frozen=True)
class PrometheusService:
    namespace: str
    name: str
    port: int
    port_name: str = ""
    target_port: str = ""  # as the service says: a number or a container port name
    selector: Mapping[str, str] = field(default_factory=dict)
    tls: bool = False  # the port serves HTTPS: the API server proxies to it as https:name:port

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}"


# how a user gives Prometheus's address, in the app and on the command line
GIVE_URL = "give its URL (in Settings for this context, or with meshdesk graph --prometheus URL)"

def _service(obj: Mapping[str, Any]) -> PrometheusService | None:
    meta, spec = _d(obj.get("metadata")), _d(obj.get("spec"))
    # a port that is no whole number (an odd object a broken controller wrote) is passed over: int() of it
    # was a ValueError that meshdesk graph took for a usage error, "invalid literal for int()"
    ports = [p for p in _list(spec.get("ports")) if isinstance(p, dict) and _port_number(p.get("port"))]
    if not meta or not meta.get("name") or not ports:
        return None
    port = next((p for p in ports if p.get("port") == PROMETHEUS_PORT), None) or \
        next((p for p in ports if str(p.get("name", "")).startswith("http")), None) or ports[0]
    target = port.get("targetPort")
    selector = _d(spec.get("selector"))
    return PrometheusService(str(meta.get("namespace") or ""), str(meta["name"]), _port_number(port["port"]),
                             str(port.get("name") or ""), "" if target is None else str(target),
                             {str(k): str(v) for k, v in selector.items()}, _tls_port(port))


def _tls_port(port: Mapping[str, Any]) -> bool:
    """Whether a service port serves HTTPS, as Kubernetes conventions say: appProtocol https (or tls),
    a name "https..." or "...-tls"/"...tls", or OpenShift's Prometheus web port 9091 (kube-rbac-proxy)."""
    proto = str(port.get("appProtocol") or "").lower()
    if proto:
        return proto in ("https", "tls") or proto.endswith("/https")
    name = str(port.get("name") or "").lower()
    if name.startswith("https") or name.endswith("tls"):
        return True
    return name == "web" and _port_number(port.get("port")) == 9091


def _port_number(value: Any) -> int:
    """A port as a number (1-65535), 0 when it is not one."""
    if isinstance(value, bool):
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 65536 else 0


def _items(doc: Any) -> list[dict[str, Any]]:
    items = doc.get("items") if isinstance(doc, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def find_prometheus_service(api: Any, *, timeout: float = 10.0,
                            denied: list[str] | None = None) -> PrometheusService | None:
    """Istio's ``istio-system/prometheus``, else a service with Prometheus' usual labels. What the user
    may not read on the way is added to ``denied`` (so "not found" is not said when it was not seen)."""
    http = RawApi(api, timeout, None)
    refused: list[str] = denied if denied is not None else []
    try:
        doc = http.get(f"/api/v1/namespaces/{ISTIO_NAMESPACE}/services/prometheus",
                       what="read istio-system/prometheus")
        found = _service(doc) if isinstance(doc, dict) else None
        if found:
            return found
    except Forbidden:
        refused.append(f"to read the service {ISTIO_NAMESPACE}/prometheus")
    except NotFound:
        pass
    for selector in PROMETHEUS_SELECTORS:
        try:
            items = _items(http.get("/api/v1/services", [("labelSelector", selector)], what="find Prometheus"))
        except Forbidden:
            items = []
            for ns in LIKELY_NAMESPACES:
                try:
                    items += _items(http.get(f"/api/v1/namespaces/{ns}/services", [("labelSelector", selector)],
                                             what="find Prometheus"))
                except Forbidden:
                    if f"to list the services of {ns}" not in refused:
                        refused.append(f"to list the services of {ns}")
                except NotFound:
                    pass
        # charts label their other parts as Prometheus too (stable/prometheus: app=prometheus on its
        # alertmanager, pushgateway, node exporter...): those never answer Prometheus' API
        candidates = [s for s in (_service(i) for i in items) if s and not NOT_PROMETHEUS.search(s.name)]
        if candidates:  # prefer one in istio-system, then one on 9090, then by name
            candidates.sort(key=lambda s: (s.namespace != ISTIO_NAMESPACE, s.port != PROMETHEUS_PORT,
                                           s.namespace, s.name))
            return candidates[0]
    return None


# -- the user's own credentials as a requests.Session -------------------------------------------------

class _KubeAuth(requests.auth.AuthBase):
    """Adds the kubeconfig's Authorization header on every request, asking the client's Configuration
    each time so exec-plugin and OIDC tokens refresh like they do for API calls. A 401 to an exec
    plugin's credential runs the plugin once more and sends the request once more, as for the API calls."""

    def __init__(self, configuration: Any) -> None:
        self.configuration = configuration

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.update(api_auth_headers(self.configuration))
        plugin_credential = getattr(self.configuration, "meshdesk_exec", None)
        if plugin_credential is not None:
            generation = plugin_credential.generation

            def after(resp: requests.Response, **kwargs: Any) -> requests.Response:
                return self._after_401(resp, plugin_credential, generation, **kwargs)

            r.register_hook("response", after)  # type: ignore[no-untyped-call]
        return r

    def _after_401(self, resp: requests.Response, plugin_credential: Any, generation: int,
                   **kwargs: Any) -> requests.Response:
        if resp.status_code != 401 or getattr(resp.request, "_meshdesk_sent_again", False):
            return resp
        try:
            again = bool(plugin_credential.reauthenticate(self.configuration, generation))
        except SourceError:
            again = False  # (a login that did not finish in time): the 401 is the answer
        if not again:
            return resp
        _ = resp.content  # read to its end: the connection serves the request sent again
        resp.close()
        retried = resp.request.copy()
        retried._meshdesk_sent_again = True  # type: ignore[attr-defined]  # once: a second 401 is the answer
        retried.headers.update(api_auth_headers(self.configuration))
        cert = _client_cert(self.configuration)
        if cert is not None:  # the plugin's new client certificate, when it logs in with one
            kwargs["cert"] = cert
        answer: requests.Response = resp.connection.send(retried, **kwargs)
        answer.history.append(resp)
        answer.request = retried
        return answer

    def __repr__(self) -> str:
        return "_KubeAuth(<kubeconfig credentials>)"


class _ServerNameAdapter(requests.adapters.HTTPAdapter):
    """HTTPS that checks the server's certificate for ``name`` (and asks for it by SNI) rather than for
    the host connected to: a kubeconfig's ``tls-server-name``."""

    def __init__(self, name: str) -> None:
        self._server_name = name
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self._server_name
        kwargs["assert_hostname"] = self._server_name
        super().init_poolmanager(*args, **kwargs)


def _client_cert(cfg: Any) -> str | tuple[str, str] | None:
    """The client certificate (and key) the Configuration logs in with now, as ``requests`` takes it."""
    cert_file = getattr(cfg, "cert_file", None)
    if not cert_file:
        return None
    key_file = getattr(cfg, "key_file", None)
    return (str(cert_file), str(key_file)) if key_file else str(cert_file)


class _KubeSession(requests.Session):
    """A session whose client certificate is the Configuration's at each request: an exec plugin's is
    renewed (before it expires, after a 401) and put there, and the session had the first one for good."""

    def __init__(self, configuration: Any) -> None:
        super().__init__()
        self.kube_configuration = configuration

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        cert = _client_cert(self.kube_configuration)
        if cert is not None:
            kwargs["cert"] = cert
        return super().send(request, **kwargs)


def session_for(api: Any) -> requests.Session:
    """A requests.Session that talks to the API server as the kubernetes client does: same credentials
    (refreshed), client certificate (renewed), CA and verification, server name, and proxy."""
    cfg = api.configuration
    s = _KubeSession(cfg)
    server_name = getattr(cfg, "tls_server_name", None)
    if server_name:
        s.mount("https://", _ServerNameAdapter(str(server_name)))
    s.auth = _KubeAuth(cfg)
    s.cert = _client_cert(cfg)  # the one of now; each request asks again (see _KubeSession)
    if getattr(cfg, "verify_ssl", True) is False:
        s.verify = False
    elif getattr(cfg, "ssl_ca_cert", None):
        s.verify = cfg.ssl_ca_cert
    if getattr(cfg, "proxy", None):
        s.trust_env = False
        # as the kubernetes client (and kubectl): not through the proxy for a host NO_PROXY names
        no_proxy = getattr(cfg, "no_proxy", None)
        if not (no_proxy and requests.utils.should_bypass_proxies(str(cfg.host), no_proxy=no_proxy)):
            s.proxies = {"http": cfg.proxy, "https": cfg.proxy}
    return s



def via_api_server(client_class: type[ClientT], api: Any, url: str, *, timeout: float,
                   headers: Mapping[str, str] | None) -> ClientT:
    """A client (Prometheus's, a tracing backend's) for ``url`` on the API server (its service proxy):
    the kubeconfig's credentials, CA and verification, as the kubernetes client uses them."""
    cfg = api.configuration
    return client_class(url, session=session_for(api), timeout=timeout, headers=headers or None,
                        ca_bundle=getattr(cfg, "ssl_ca_cert", None) or None,
                        insecure=getattr(cfg, "verify_ssl", True) is False)


def service_proxy_url(api: Any, svc: PrometheusService) -> str:
    host = str(api.configuration.host).rstrip("/")
    return f"{host}/api/v1/namespaces/{quote(svc.namespace, safe='')}/services/{'https:' if svc.tls else ''}{quote(svc.name, safe='')}:{svc.port}/proxy"


# -- port-forward ---------------------------------------------------------------------------------------

class PortForwardRelay:
    """A local listener on 127.0.0.1 whose connections are relayed to ``pod``:``port`` through the API
    server's port-forward (one WebSocket per accepted connection)."""

    def __init__(self, api: Any, namespace: str, pod: str, port: int) -> None:
        self.api, self.namespace, self.pod, self.port = api, namespace, pod, int(port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.local_port = int(self._listener.getsockname()[1])
        # why the API server refused the last port-forward asked for (None: none was refused): the client
        # on the local end only sees its connection closed ("connection reset")
        self.refused: SourceError | None = None
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="meshdesk-port-forward", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    @property
    def https_url(self) -> str:
        """The local end for a pod port that serves HTTPS: TLS goes through the relay end to end."""
        return f"https://127.0.0.1:{self.local_port}"

    def describe(self) -> str:
        return f"port-forward to pod {self.namespace}/{self.pod}:{self.port} (local {self.url})"

    def _open(self) -> Any:
        # through the cluster's proxy-url, as the API calls go (see sources.portforward)
        return open_port_forward(self.api, self.namespace, self.pod, self.port, timeout=30.0)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            if self._closed.is_set():  # closed while this connection came in: no new port-forward
                conn.close()
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn: socket.socket) -> None:
        pf = None
        try:
            try:
                pf = self._open()
            except Exception as e:  # noqa: BLE001 - said by the caller, in words
                self.refused = _port_forward_refusal(e, self.namespace, self.pod)
                raise
            self.refused = None
            remote = pf.socket(self.port)
            remote.setblocking(True)
            pairs = {conn: remote, remote: conn}
            while not self._closed.is_set():
                ready, _, _ = select.select(list(pairs), [], [], 0.5)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pairs[sock].sendall(data)
        except Exception as e:  # noqa: BLE001 - one broken connection must not stop the relay
            log.info("port-forward to %s/%s:%s ended: %s", self.namespace, self.pod, self.port, type(e).__name__)
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            if pf is not None:
                with contextlib.suppress(Exception):
                    pf.close()

    def close(self) -> None:
        self._closed.set()
        # shutdown wakes the accept() the relay's thread waits in (close alone does not, on Linux: the
        # thread lived on and the port still took connections)
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def _port_forward_refusal(e: BaseException, namespace: str, pod: str) -> SourceError:
    """The API server's refusal of a port-forward (its WebSocket handshake: the status is in the reason
    text, "Handshake status 403 Forbidden"), as a typed error in words."""
    status = int(getattr(e, "status", 0) or 0)
    reason = str(getattr(e, "reason", "") or "")
    if status == 403 or "status 403" in reason:
        return Forbidden(f"not allowed to create pods/portforward in {namespace}")
    if status == 401 or "status 401" in reason:
        return Unauthorized(LOGIN_AGAIN)
    if status == 404 or "status 404" in reason:
        return SourceError(f"the pod {namespace}/{pod} no longer exists")
    return translate(e, what=f"port-forward to {namespace}/{pod}")


def find_prometheus_pod(api: Any, svc: PrometheusService, *, timeout: float = 10.0) -> tuple[str, int] | None:
    """A running pod behind ``svc`` and the container port the service targets."""
    if not svc.selector:
        return None
    http = RawApi(api, timeout, None)
    selector = ",".join(f"{k}={v}" for k, v in sorted(svc.selector.items()))
    pods = _items(http.get(f"/api/v1/namespaces/{svc.namespace}/pods", [("labelSelector", selector)],
                           what=f"find the pods of {svc}"))
    running = [p for p in pods if isinstance(p, dict) and (p.get("status") or {}).get("phase") == "Running"]
    for pod in running or pods:
        port = svc.port
        if svc.target_port.isdigit():
            port = int(svc.target_port)
        elif svc.target_port:
            for c in (pod.get("spec") or {}).get("containers") or []:
                for p in c.get("ports") or [] if isinstance(c, dict) else []:
                    if isinstance(p, dict) and p.get("name") == svc.target_port and _port_number(p.get("containerPort")):
                        port = _port_number(p["containerPort"])
        name = (pod.get("metadata") or {}).get("name")
        if name:
            return str(name), port
    return None


def _selector_text(svc: PrometheusService) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(svc.selector.items()))


# -- putting it together -----------------------------------------------------------------------------

@dataclass
class PrometheusConnection:
    client: PrometheusClient
    description: str  # "API server service proxy to istio-system/prometheus:9090", ...
    relay: PortForwardRelay | None = None
    tried: list[str] = field(default_factory=list)  # what failed before, in words

    def close(self) -> None:
        self.client.close()
        if self.relay is not None:
            self.relay.close()


def _explicit(url: str, auth: Mapping[str, Any] | None, timeout: float) -> PrometheusConnection:
    auth = dict(auth or {})
    kind = str(auth.get("type") or ("bearer" if auth.get("token") else "basic" if auth.get("username") else "none"))
    basic = None
    if kind == "basic" and auth.get("username"):
        basic = (str(auth["username"]), str(auth.get("password") or ""))
    token = str(auth["token"]) if kind == "bearer" and auth.get("token") else None
    client = PrometheusClient(url, token=token, basic_auth=basic,
                              headers=auth.get("headers") or None,
                              ca_bundle=auth.get("ca_file") or auth.get("ca_bundle") or None,
                              insecure=bool(auth.get("insecure", False)), timeout=timeout)
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        raise ConfigError(f"Prometheus URL {parts.scheme}://{parts.hostname}...: its port is not a port number",
                          hint="check it in Settings for this context") from None
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname  # IPv6
    shown = f"{parts.scheme}://{host}{':' + str(port) if port else ''}{parts.path}"
    return PrometheusConnection(client, f"URL {shown.rstrip('/')}")


def _through_api_server(api: Any, url: str) -> bool:
    """Whether ``url`` is on the API server the kubeconfig context talks to (same scheme, host, port)."""
    try:
        server, given = urlsplit(str(api.configuration.host)), urlsplit(url)
        return (server.scheme, server.hostname, server.port) == (given.scheme, given.hostname, given.port)
    except (AttributeError, ValueError):
        return False


def _proxy_refused(e: SourceError) -> bool:
    status = getattr(e, "status", None)
    return isinstance(e, Forbidden) or status in (403, 404, 502, 503)


def connect_prometheus(api: Any, *, url: str | None = None, auth: Mapping[str, Any] | None = None,
                       timeout: float = 30.0, probe: bool = True,
                       service: PrometheusService | None = None, scope: Scope = ()) -> PrometheusConnection:
    """Prometheus reached as :func:`_reach_prometheus` says, its every query kept to ``scope`` (Kiali's
    ``query_scope``: the labels of this mesh's or cluster's series in a Prometheus shared with others)."""
    conn = _reach_prometheus(api, url=url, auth=auth, timeout=timeout, probe=probe, service=service)
    conn.client.scope = tuple(scope)
    return conn


def _reach_prometheus(api: Any, *, url: str | None = None, auth: Mapping[str, Any] | None = None,
                      timeout: float = 30.0, probe: bool = True,
                      service: PrometheusService | None = None) -> PrometheusConnection:
    """Reach Prometheus: ``url`` when given (``auth`` as the settings store it: type "bearer" with token,
    "basic" with username and password, or "none"; headers, ca_bundle, insecure), else through the API
    server (service proxy, then port-forward).
    ``probe`` checks the way works with a constant query before returning it.
    Raises PrometheusError (or Unauthorized/Unreachable/Timeout) with a plain message; a ``url`` that is
    no usable address, :class:`PrometheusURLError` (it was an unexplained ValueError or a bare "not a
    valid URL", with no word of where the address was set)."""
    if url:
        problem = url_problem(url)
        if problem:
            raise PrometheusURLError(f"The Prometheus URL {safe_url(url)!r} cannot be used: {problem}",
                                     hint="correct it in Settings for this context, or empty it to find "
                                          "Prometheus in the cluster")
        auth_type = str((auth or {}).get("type") or "none")
        if api is not None and auth_type == "none" and _through_api_server(api, url):
            # the API server's own proxy (e.g. a Prometheus served under /prometheus, which discovery
            # does not find): it wants the kubeconfig's credentials, as kubectl proxy would send them
            client = via_api_server(PrometheusClient, api, url, timeout=timeout, headers=(auth or {}).get("headers"))
            conn = PrometheusConnection(client, "URL through the API server " + safe_url(url).rstrip("/"))
        else:
            conn = _explicit(url, auth, timeout)
        if probe:
            try:
                conn.client.ping()
            except BaseException:
                conn.close()
                raise
        return conn
    denied: list[str] = []
    svc = service or find_prometheus_service(api, timeout=min(timeout, 10.0), denied=denied)
    if svc is None and denied:
        raise PrometheusError("Prometheus could not be looked for: your account is not allowed "
                              + ", ".join(denied[:3]) + (" and more" if len(denied) > 3 else ""),
                              hint=f"{GIVE_URL}, or ask for the right to list services")
    if svc is None:
        raise PrometheusNotFound("Prometheus was not found: no service istio-system/prometheus and none "
                                 "labelled " + " or ".join(PROMETHEUS_SELECTORS),
                                 hint=f"install Istio's Prometheus addon, or {GIVE_URL}")
    tried: list[str] = []
    # the extra headers saved for the context (a tenant's X-Scope-OrgID) go to the Prometheus found too:
    # they were dropped without a word when no URL was saved beside them
    headers = (auth or {}).get("headers") or None

    def proxy_client(to: PrometheusService) -> PrometheusClient:
        return via_api_server(PrometheusClient, api, service_proxy_url(api, to), timeout=timeout, headers=headers)

    client = proxy_client(svc)
    via_proxy = PrometheusConnection(client, f"API server service proxy to {svc}", tried=tried)
    if not probe:
        return via_proxy
    try:
        try:
            client.ping()
        except SourceError as e:
            if svc.tls or not _https_only(e):
                raise
            # a port not marked as TLS whose server speaks HTTPS only: the proxy is asked for https:
            client.session.close()
            svc = dataclasses.replace(svc, tls=True)
            client = proxy_client(svc)
            via_proxy = PrometheusConnection(client, f"API server service proxy to {svc} (HTTPS)", tried=tried)
            client.ping()
        return via_proxy
    except SourceError as e:
        client.session.close()
        if not _proxy_refused(e):
            raise
        tried.append(f"the service proxy to {svc} was refused ({e.message})")
        if getattr(e, "status", None) == 404:
            # Prometheus may answer under a path prefix (a --web.route-prefix such as /prometheus): its
            # address through the API server is then that, which an explicit URL may give
            prefix_hint = (f"; if it is served under a path such as /prometheus, give "
                           f"{service_proxy_url(api, svc)}/prometheus (the kubeconfig's login is used)")
        else:
            prefix_hint = ""
    try:
        target = find_prometheus_pod(api, svc, timeout=min(timeout, 10.0))
    except SourceError as e:
        target = None
        tried.append(f"its pods could not be listed ({e.message})")
    if target is None:
        if not any(t.startswith("its pods could not be listed") for t in tried):
            # said also after a refused proxy: the port-forward was not tried, for want of a pod
            tried.append(f"no pod of it was found to port-forward to (selector {_selector_text(svc)})"
                         if svc.selector else "it selects no pods to port-forward to (a service without a selector)")
        raise PrometheusError(f"Prometheus at {svc} cannot be reached: " + "; ".join(tried),
                              hint=f"{GIVE_URL}, or ask for access to services/proxy or pods/portforward"
                              + prefix_hint)
    relay = PortForwardRelay(api, svc.namespace, target[0], target[1])
    where = f"port-forward to pod {svc.namespace}/{target[0]}:{target[1]}"

    def over(tls: bool) -> PrometheusConnection:
        # HTTPS to the pod's port: its certificate is for the service's name (or self-signed), and is
        # not checked, as the API server's own service proxy does not check it for an https: port (the
        # way here is the API server's authenticated connection either way)
        url = relay.https_url if tls else relay.url
        client = PrometheusClient(url, headers=headers, timeout=timeout, insecure=tls)
        return PrometheusConnection(client, where + (" (HTTPS)" if tls else ""), relay, tried)

    # a port the service marks as TLS (https..., appProtocol https) is spoken to in HTTPS: plain HTTP
    # to it was answered "400 Client sent an HTTP request to an HTTPS server"
    conn = over(svc.tls)
    try:
        try:
            conn.client.ping()
        except SourceError as e:
            if svc.tls or not _https_only(e):
                raise
            conn.client.close()  # the relay stays: the same pod port, spoken to in HTTPS
            conn = over(True)  # a port not marked as TLS whose server speaks HTTPS only
            conn.client.ping()
    except SourceError as e:
        conn.close()
        said = relay.refused.message if relay.refused is not None else e.message  # not the local end's "reset"
        raise PrometheusError(f"Prometheus at {svc} cannot be reached: " + "; ".join(
            tried + [f"the port-forward to {target[0]} failed ({said})"]),
            hint=f"{GIVE_URL}, or ask for access to services/proxy or pods/portforward" + prefix_hint) from None
    return conn


def _https_only(error: SourceError) -> bool:
    """Whether an answer to plain HTTP says the server speaks HTTPS only (Go's net/http, so Prometheus's
    own TLS and kube-rbac-proxy: "Client sent an HTTP request to an HTTPS server"; nginx: "The plain
    HTTP request was sent to HTTPS port")."""
    said = str(getattr(error, "body", "") or "").lower()  # not the message: it names the URL asked, maybe https
    return getattr(error, "status", None) == 400 and ("https server" in said or "https port" in said)

