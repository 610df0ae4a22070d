"""Read the mesh inventory (namespaces, workloads with their pods, services, Istio config) from a cluster.

One cluster-wide list call per resource kind, filtered here to the selected namespaces, so the number
of API calls does not grow with the number of namespaces. When RBAC forbids a cluster-wide list, the
kind is read namespace by namespace; what stays forbidden goes to ``Inventory.hidden`` and the rest
still loads. Objects are read as plain JSON (never the client's typed models), so an object with
missing fields or an unexpected shape is skipped with a warning instead of failing the whole read.

``Inventory.hidden`` keys say what is missing: ``"<namespace>/<resource>"`` (RBAC denied that list in
that namespace), ``"<namespace>/namespace"`` (the namespace object itself, so its labels are unknown),
``"*/<resource>"`` (the kind could not be read at all: forbidden, not served, or a server error),
``"~/<resource>"`` (Istio config read from the whole cluster, ``OUTSIDE_CONFIG_KINDS``, whose
cluster-wide list was forbidden: that of the selected namespaces was read, the rest is unknown),
``"<namespace>/mesh config"`` (the control plane's mesh config ConfigMap could not be read or
understood: Istio's defaults stand in, ``Inventory.mesh_settings.unread`` says why).
An Istio kind that API discovery finds the cluster does not serve (its API group not installed, as
``security.istio.io`` may be) is no refusal and is not in ``hidden``: ``Inventory.not_served`` names it.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import urllib3

from meshdesk.mesh.changes import RESTARTABLE
from meshdesk.mesh.inventory import (
    GATEWAY_API_GROUP,
    GATEWAY_API_KINDS,
    GATEWAY_COMPONENTS,
    GATEWAY_NAME_LABEL,
    GATEWAY_PODS_LISTED,
    ISTIO_NAMESPACE,
    ISTIOD_ELSEWHERE,
    K8S_GATEWAY,
    OUTSIDE,
    OUTSIDE_CONFIG_KINDS,
    REVISION_TAGS_UNREAD,
    SYNCED,
    Container,
    Endpoint,
    EndpointPort,
    Inventory,
    IstioObject,
    MeshConfig,
    Namespace,
    Pod,
    Service,
    ServicePort,
    Workload,
    namespace_revision,
)
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _l
from meshdesk.sources import gateway_api, mesh_settings
from meshdesk.sources.base import (
    Cancelled,
    Forbidden,
    NotFound,
    SourceError,
    TooLarge,
    Unauthorized,
    size_words,
)
from meshdesk.sources.errors import LIST_NAMESPACES, translate
from meshdesk.sources.httpapi import ServerClock

JsonObj = dict[str, Any]

# Istio kinds read by default: (kind, group, plural)
ISTIO_RESOURCES: tuple[tuple[str, str, str], ...] = (
    ("VirtualService", "networking.istio.io", "virtualservices"),
    ("DestinationRule", "networking.istio.io", "destinationrules"),
    ("ServiceEntry", "networking.istio.io", "serviceentries"),
    ("Gateway", "networking.istio.io", "gateways"),
    ("Sidecar", "networking.istio.io", "sidecars"),
    ("WorkloadEntry", "networking.istio.io", "workloadentries"),
    ("PeerAuthentication", "security.istio.io", "peerauthentications"),
    ("AuthorizationPolicy", "security.istio.io", "authorizationpolicies"),
)
OPTIONAL_ISTIO_RESOURCES: tuple[tuple[str, str, str], ...] = (
    ("RequestAuthentication", "security.istio.io", "requestauthentications"),
    ("EnvoyFilter", "networking.istio.io", "envoyfilters"),
    ("WorkloadGroup", "networking.istio.io", "workloadgroups"),
    ("Telemetry", "telemetry.istio.io", "telemetries"),
    ("WasmPlugin", "extensions.istio.io", "wasmplugins"),
    # networking.istio.io/v1beta1 only; not in Kiali's list, but meshdesk writes it (``changes.RESOURCES``),
    # so the Istio config dock lists it to be edited and deleted as the rest
    ("ProxyConfig", "networking.istio.io", "proxyconfigs"),
)
# the Kubernetes Gateway API's Gateway (Istio runs a gateway workload for each): read cluster-wide for
# the graph's gateway marks (those of the selection are listed with the Istio config too)
GATEWAY_API_RESOURCES: tuple[tuple[str, str, str], ...] = ((K8S_GATEWAY, "gateway.networking.k8s.io", "gateways"),)
# and the Gateway API's routes, ReferenceGrants and GatewayClasses, listed with the Istio config
# (``meshdesk.sources.gateway_api``)
GATEWAY_API_RESOURCES += gateway_api.GATEWAY_API_DISCOVERED
ISTIO_GROUP = "networking.istio.io"
# versions we understand, best first
KNOWN_ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3", "v1alpha1")

# (key, API path prefix, plural): the built-in kinds an inventory needs
_CORE_RESOURCES: tuple[tuple[str, str], ...] = (
    ("/api/v1", "pods"),
    ("/api/v1", "services"),
    ("/apis/apps/v1", "deployments"),
    ("/apis/apps/v1", "statefulsets"),
    ("/apis/apps/v1", "daemonsets"),
    ("/apis/apps/v1", "replicasets"),
    ("/apis/batch/v1", "jobs"),
    ("/apis/batch/v1", "cronjobs"),
    # the addresses behind each Service (Kiali's service page lists them); Endpoints objects are mirrored
    # into these by Kubernetes, so hand-made endpoints are among them
    ("/apis/discovery.k8s.io/v1", "endpointslices"),
)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # the Service an EndpointSlice belongs to
ZTUNNEL = "ztunnel"  # the app label of ambient mode's node proxies (Istio's DaemonSet, as Kiali finds it)
# a remote cluster's istio-system names the clusters whose istiods manage it (primary-remote)
CONTROL_PLANE_CLUSTERS = "topology.istio.io/controlPlaneClusters"
NETWORK_LABEL = "topology.istio.io/network"

NOT_ISTIO = "Istio was not found: this cluster serves no networking.istio.io API (are Istio's CRDs installed?)"


# -- raw API access ---------------------------------------------------------------------------------

_T = TypeVar("_T")

# connection failures are retried (a dropped keep-alive connection); a read timeout is final
_RETRIES = urllib3.Retry(total=2, connect=2, read=0, status=0, other=0, redirect=3, raise_on_status=False)


def _json_kind(value: Any) -> str:
    """A decoded JSON value's kind in words ("a list", "text")."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true or false"
    return "null" if value is None else "a number"


class RawApi:
    """GETs JSON through the official client's ApiClient (its auth, TLS and proxy settings), counting calls."""

    def __init__(self, api: Any, timeout: float, cancelled: Callable[[], bool] | None) -> None:
        self.api = api
        self.timeout = timeout
        self.cancelled = cancelled
        self.calls = 0
        self.page_size = 0  # 0: whole lists in one answer
        self._count_lock = threading.Lock()

    def get(self, path: str, query: Sequence[tuple[str, str]] = (), *, what: str = "",
            timeout: float | None = None, any_json: bool = False) -> Any:
        """The JSON object at ``path``: every Kubernetes API answer is one. Another JSON value (a list, a
        number: a proxy or a server in the API server's place) raises SourceError saying so, where the
        callers' reading of it as an object failed with Python's AttributeError; ``any_json``: any JSON
        value is the answer (istiod's debug endpoints, read through the pod proxy, send lists)."""
        doc = self.request("GET", path, query, what=what, timeout=timeout)
        if not any_json and not isinstance(doc, dict):
            raise SourceError(f"{what or path}: the API server answered JSON that is not an object ({_json_kind(doc)}), "
                              "which no Kubernetes API answer is")
        return doc

    def list_items(self, path: str, query: Sequence[tuple[str, str]] = (), *, what: str = "") -> list[JsonObj]:
        """Every item of a list, following ``metadata.continue`` when the server pages (with
        ``page_size`` set, or a server or proxy that pages on its own)."""
        items: list[JsonObj] = []
        base = list(query) + ([("limit", str(self.page_size))] if self.page_size else [])
        token = ""
        given: set[str] = set()
        for _ in range(10_000):  # a server that never stops paging is a bug, not a reason to hang
            doc = _d(self.get(path, base + ([("continue", token)] if token else []), what=what))
            items += [i for i in _l(doc.get("items")) if isinstance(i, dict)]
            token = str(_d(doc.get("metadata")).get("continue") or "")
            if not token:
                break
            if token in given:
                # the same page again and again (a proxy that drops the query, a broken aggregated API):
                # it was asked for up to 10,000 times, the command or the window's refresh stuck for minutes
                raise SourceError(f"{what or path}: the API server answered the same page of the list again (its "
                                  "continue token repeats), so the list never ends; a proxy in front of it may "
                                  "drop the query")
            given.add(token)
        return items

    def request(self, method: str, path: str, query: Sequence[tuple[str, str]] = (), body: Any = None, *,
                content_type: str = "application/json", what: str = "", timeout: float | None = None) -> Any:
        """One API call; the decoded JSON answer. Failures raise typed, secret-free SourceErrors (those
        that are an HTTP answer carry ``http_status``)."""
        resp = self._send(method, path, query, body, content_type=content_type, what=what, timeout=timeout,
                          preload=True)
        status, data, reason = int(resp.status), resp.data, resp.reason
        if not 200 <= status <= 299:
            raise _answer_error(status, reason, data, what)
        try:
            return json.loads(data) if data else {}
        except ValueError:
            raise SourceError(f"{what}: the API server answered something that is not JSON") from None

    def post_bytes(self, path: str, query: Sequence[tuple[str, str]] = (), *, what: str = "",
                   timeout: float | None = None) -> bytes:
        """A POST without a body; its answer as it came (an Envoy admin's text, say)."""
        resp = self._send("POST", path, query, None, content_type="", what=what, timeout=timeout, preload=True)
        status, data, reason = int(resp.status), resp.data, resp.reason
        if not 200 <= status <= 299:
            raise _answer_error(status, reason, data, what)
        return bytes(data or b"")

    def get_bytes(self, path: str, *, max_bytes: int, what: str = "", timeout: float | None = None,
                  query: Sequence[tuple[str, str]] = ()) -> bytes:
        """A GET's body as it came (not decoded), read in pieces: an answer larger than ``max_bytes``
        raises ``TooLarge`` naming the limit, and is not read further (its connection is dropped)."""
        resp = self._send("GET", path, query, None, content_type="", what=what, timeout=timeout, preload=False)
        complete = False
        try:
            status, reason = int(resp.status), resp.reason
            if not 200 <= status <= 299:
                raise _answer_error(status, reason, resp.read(64 * 1024, decode_content=True), what)
            declared = str(resp.headers.get("Content-Length") or "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(f"{what}: the answer is larger than {size_words(max_bytes)}, the most meshdesk reads")
            parts, size = [], 0
            while True:
                try:
                    part = resp.read(1024 * 1024, decode_content=True)
                except Exception as e:  # noqa: BLE001 - every library failure becomes a typed, secret-free error
                    raise translate(e, what=what) from None
                if not part:
                    complete = True
                    break
                size += len(part)
                if size > max_bytes:
                    raise TooLarge(f"{what}: the answer is larger than {size_words(max_bytes)}, the most meshdesk reads")
                parts.append(part)
            return b"".join(parts)
        finally:
            with contextlib.suppress(Exception):
                if complete:
                    resp.release_conn()  # read to its end: the connection serves the next call
                else:
                    resp.close()  # the rest of a too large answer is not read: drop the connection

    def _send(self, method: str, path: str, query: Sequence[tuple[str, str]], body: Any, *, content_type: str,
              what: str, timeout: float | None, preload: bool) -> Any:
        if self.cancelled is not None and self.cancelled():
            raise Cancelled("reading the inventory was cancelled")
        with self._count_lock:
            self.calls += 1
        cfg = self.api.configuration
        # a kubeconfig exec plugin's credential: run for again after a 401 and the request sent once more,
        # as kubectl does for a credential the server no longer takes (a token without an expiry)
        plugin_credential = getattr(cfg, "meshdesk_exec", None)
        for attempt in (1, 2):
            generation = plugin_credential.generation if plugin_credential is not None else 0
            resp = self._send_once(method, path, query, body, content_type=content_type, what=what,
                                   timeout=timeout, preload=preload)
            if int(resp.status) != 401 or plugin_credential is None or attempt == 2:
                return resp
            try:
                again = plugin_credential.reauthenticate(cfg, generation)
            except SourceError:
                again = False  # (a login that did not finish in time): the 401 is the answer
            if not again:
                return resp
            with contextlib.suppress(Exception):
                resp.release_conn() if preload else resp.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method: str, path: str, query: Sequence[tuple[str, str]], body: Any, *,
                   content_type: str, what: str, timeout: float | None, preload: bool) -> Any:
        headers = dict(getattr(self.api, "default_headers", None) or {})
        headers["Accept"] = "application/json"
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            cfg = self.api.configuration
            headers.update(api_auth_headers(cfg))
            url = str(cfg.host).rstrip("/") + path + (f"?{urlencode(list(query))}" if query else "")
            raw = json.dumps(body).encode() if body is not None else None
            # straight to the client's connection pool (its TLS and proxy settings), the same way in every
            # client version, and so that a timeout is one timeout: urllib3's default retries would repeat a
            # slow GET four times
            resp = self.api.rest_client.pool_manager.request(method, url, body=raw, headers=headers,
                                                             timeout=timeout or self.timeout, retries=_RETRIES,
                                                             preload_content=preload)
            api_server_clock(self.api).note(resp.headers.get("Date") if resp.headers is not None else None)
            return resp
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - every library failure becomes a typed, secret-free error
            raise translate(e, what=what) from None


def api_server_clock(api: Any) -> ServerClock:
    """The API server's clock, as the answers to calls made through ``api`` (its ``ApiClient``) said it:
    kept with the client, which every reader of the same context shares."""
    clock = getattr(api, "meshdesk_server_clock", None)
    if not isinstance(clock, ServerClock):
        clock = ServerClock()
        with contextlib.suppress(AttributeError):  # (a client that takes no attribute: a clock per call)
            api.meshdesk_server_clock = clock
    return clock


def _answer_error(status: int, reason: Any, data: Any, what: str) -> SourceError:
    """The typed error of an HTTP answer that is not a success (it carries ``http_status``)."""
    from kubernetes.client.exceptions import ApiException

    answer = ApiException(status=status, reason=reason)
    answer.body = _text(data)  # set after: older clients take no body argument
    err = translate(answer, what=what)
    err.http_status = status  # type: ignore[attr-defined]  # an answer, not a network failure
    return err


def sent_again_after_401(configuration: Any, send: Callable[[], _T],
                         unauthorized: Callable[[BaseException], bool]) -> _T:
    """``send()`` (one of the official client's typed calls: a log read, a port-forward); when it fails
    with a 401 (``unauthorized``) to a kubeconfig exec plugin's credential, the plugin is run once more,
    as kubectl runs it for a credential the server no longer takes, and ``send()`` once more (as
    ``RawApi`` does for the other calls). Any other failure, or a plugin that gives nothing new, raises
    as it came."""
    plugin_credential = getattr(configuration, "meshdesk_exec", None)
    generation = plugin_credential.generation if plugin_credential is not None else 0
    try:
        return send()
    except Exception as e:  # noqa: BLE001 - only a 401 is looked at; the rest is raised as it came
        if plugin_credential is None or not unauthorized(e):
            raise
        try:
            again = bool(plugin_credential.reauthenticate(configuration, generation))
        except SourceError:
            again = False  # (a login that did not finish in time): the 401 is the answer
        if not again:
            raise
    return send()


def api_auth_headers(configuration: Any) -> dict[str, str]:
    """The headers the kubernetes client would authenticate with (asking its Configuration, so exec-plugin
    and OIDC tokens are refreshed when they expire). Client certificates live in the connection pool."""
    out: dict[str, str] = {}
    api_key = getattr(configuration, "api_key", None) or {}
    hook = getattr(configuration, "refresh_api_key_hook", None)
    if hook is not None and "BearerToken" not in api_key and "authorization" not in api_key:
        hook(configuration)  # not asked by the client without a token: a plugin's client certificate is renewed here
    settings = configuration.auth_settings() or {}
    for setting in settings.values():
        if isinstance(setting, dict) and setting.get("in") == "header" and setting.get("value"):
            out[str(setting.get("key") or "authorization")] = str(setting["value"])
    if not out and getattr(configuration, "username", None) and getattr(configuration, "password", None):
        token = base64.b64encode(f"{configuration.username}:{configuration.password}".encode()).decode()
        out["authorization"] = f"Basic {token}"
    return out


def _text(data: Any) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes | bytearray) else str(data or "")


def _strmap(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _d(value).items() if v is not None}


# annotations that hold a whole copy of an applied manifest: inline env values (passwords) included,
# and nothing meshdesk reads; they are never kept, so they never reach a snapshot file
_COPIES = ("kubectl.kubernetes.io/last-applied-configuration",)


def _annotations(value: Any) -> dict[str, str]:
    return {k: v for k, v in _strmap(value).items() if k not in _COPIES}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite number (1e999)
        return default


def _count(value: Any, default: int = 0) -> int:
    """A count a status gives (Kubernetes leaves out a zero): ``default`` when missing or not a
    number, never below zero."""
    n = _int(value, default)
    return n if n >= 0 else default


def _controller(meta: Mapping[str, Any]) -> tuple[str, str]:
    owners = [o for o in _l(meta.get("ownerReferences")) if isinstance(o, dict)]
    chosen = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    if not chosen:
        return "", ""
    return str(chosen.get("kind") or ""), str(chosen.get("name") or "")


# -- conversion ---------------------------------------------------------------------------------------

def _container_state(status: Mapping[str, Any]) -> str:
    state = _d(status.get("state"))
    if "running" in state:
        return "running"
    for key in ("waiting", "terminated"):
        if key in state:
            reason = _d(state[key]).get("reason")
            return f"{key}:{reason}" if reason else key
    return ""


def _containers(spec_list: Any, status_list: Any) -> list[Container]:
    statuses = {str(s.get("name")): s for s in _l(status_list) if isinstance(s, dict)}
    out = []
    for c in _l(spec_list):
        if not isinstance(c, dict) or not c.get("name"):
            continue
        st = _d(statuses.get(str(c["name"])))
        declared = [_d(port) for port in _l(c.get("ports"))]
        out.append(Container(name=str(c["name"]), image=str(c.get("image") or st.get("image") or ""),
                             ready=bool(st.get("ready", False)), restarts=_int(st.get("restartCount")),
                             state=_container_state(st), sidecar=c.get("restartPolicy") == "Always",
                             ports=[n for port in declared if (n := _int(port.get("containerPort"))) > 0],
                             port_names=[str(port["name"]) for port in declared if port.get("name")],
                             named_ports={str(port["name"]): n for port in declared
                                          if port.get("name") and (n := _int(port.get("containerPort"))) > 0}))
    return out


def pod_from_json(obj: Mapping[str, Any]) -> Pod:
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    if not meta.get("name"):
        raise ValueError("a pod without a name")
    owner_kind, owner_name = _controller(meta)
    return Pod(
        name=str(meta["name"]), namespace=str(meta.get("namespace") or ""),
        labels=_strmap(meta.get("labels")), annotations=_annotations(meta.get("annotations")),
        phase=str(status.get("phase") or ""),
        containers=_containers(spec.get("containers"), status.get("containerStatuses")),
        init_containers=_containers(spec.get("initContainers"), status.get("initContainerStatuses")),
        owner_kind=owner_kind, owner_name=owner_name, node_name=str(spec.get("nodeName") or ""),
        # Kubernetes' admission gives a pod named no account the namespace's "default"
        service_account=str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"),
        ip=str(status.get("podIP") or ""), created=str(meta.get("creationTimestamp") or ""),
        reason=str(status.get("reason") or ""), deleted=str(meta.get("deletionTimestamp") or ""),
    )


ISTIOD_MONITORING_PORT = 15014  # where istiod serves its debug endpoints
SYNCZ_TIMEOUT_S = 5.0  # the most a refresh waits for istiod's sync state
SYNCZ_RETRY_S = 300.0  # an istiod that could not be reached is asked again after this
SYNCZ_REUSE_S = 20.0  # an answer younger than this is used again (Kiali polls istiod every 20 s)
# (API server, istiod path) -> (when to ask again, what went wrong), shared by every read
_SYNCZ_FAILURES: dict[tuple[str, str], tuple[float, str]] = {}
# (API server, istiod path) -> (when it was asked, its answer), shared by every read
_SYNCZ_ANSWERS: dict[tuple[str, str], tuple[float, Any]] = {}


def _proxy_pod(proxy: Any) -> tuple[str, str] | None:
    """(pod, namespace) of a syncz entry's ``proxy`` ("<pod>.<namespace>"), None for anything else."""
    if not isinstance(proxy, str):
        return None
    parts = proxy.split(".")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def _sync_state(entry: Mapping[str, Any]) -> dict[str, str]:
    """Per xDS kind, Kiali's reading of what istiod sent and what the proxy acknowledged: "Synced" when
    they match, "Stale" when they do not (or "Stale (Never Acknowledged)"), "NOT_SENT" when nothing
    was sent."""
    out = {}
    for kind, field_ in (("CDS", "cluster"), ("EDS", "endpoint"), ("LDS", "listener"), ("RDS", "route")):
        sent, acked = str(entry.get(f"{field_}_sent") or ""), str(entry.get(f"{field_}_acked") or "")
        if not sent:
            out[kind] = "NOT_SENT"
        elif sent == acked:
            out[kind] = SYNCED
        else:
            out[kind] = "Stale" if acked else "Stale (Never Acknowledged)"
    return out


def service_from_json(obj: Mapping[str, Any], cluster: str) -> Service:
    meta, spec = _d(obj.get("metadata")), _d(obj.get("spec"))
    if not meta.get("name"):
        raise ValueError("a service without a name")
    ports = []
    for p in _l(spec.get("ports")):
        if isinstance(p, dict):
            target = p.get("targetPort")
            ports.append(ServicePort(name=str(p.get("name") or ""), port=_int(p.get("port")),
                                     protocol=str(p.get("protocol") or "TCP"),
                                     target_port="" if target is None else str(target),
                                     app_protocol=str(p.get("appProtocol") or ""), node_port=_count(p.get("nodePort"))))
    ingress = [_d(i) for i in _l(_d(_d(obj.get("status")).get("loadBalancer")).get("ingress"))]
    return Service(name=str(meta["name"]), namespace=str(meta.get("namespace") or ""),
                   type=str(spec.get("type") or "ClusterIP"), ports=ports, selector=_strmap(spec.get("selector")),
                   labels=_strmap(meta.get("labels")), annotations=_annotations(meta.get("annotations")),
                   cluster_ip=str(spec.get("clusterIP") or ""), external_name=str(spec.get("externalName") or ""),
                   cluster=cluster, cluster_ips=[str(a) for a in _l(spec.get("clusterIPs")) if a],
                   external_ips=[str(a) for a in _l(spec.get("externalIPs")) if a],
                   load_balancer=[str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")])


def endpoints_from_slice(obj: Mapping[str, Any]) -> tuple[str, str, list[Endpoint]]:
    """(namespace, service name, endpoints) of an EndpointSlice (discovery.k8s.io/v1), the name "" for a
    slice no Service owns; its ports go to each of its endpoints; a condition left unset reads as Kubernetes says (ready unless known not)."""
    meta = _d(obj.get("metadata"))
    service = _strmap(meta.get("labels")).get(SERVICE_NAME_LABEL, "")
    if not service:
        return str(meta.get("namespace") or ""), "", []  # a slice of no Service (managed by someone else)
    ports = []
    for p in _l(obj.get("ports")):
        if isinstance(p, dict):
            ports.append(EndpointPort(name=str(p.get("name") or ""), port=_int(p.get("port")),
                                      protocol=str(p.get("protocol") or "TCP")))
    out = []
    for e in _l(obj.get("endpoints")):
        if not isinstance(e, dict):
            continue
        conditions, target = _d(e.get("conditions")), _d(e.get("targetRef"))
        out.append(Endpoint(addresses=[str(a) for a in _l(e.get("addresses")) if a],
                            ready=conditions.get("ready") is not False,
                            terminating=conditions.get("terminating") is True,
                            target_kind=str(target.get("kind") or ""), target_name=str(target.get("name") or ""),
                            node=str(e.get("nodeName") or ""), zone=str(e.get("zone") or ""),
                            ports=list(ports)))
    return str(meta.get("namespace") or ""), service, out


def _merge_endpoints(found: Sequence[Endpoint]) -> list[Endpoint]:
    """One endpoint per address and target: Kubernetes puts a pod in several slices when its ports
    differ from its neighbours' (a named targetPort), each with some of the Service's ports."""
    merged: dict[tuple[tuple[str, ...], str, str], Endpoint] = {}
    for e in found:
        key = (tuple(e.addresses), e.target_kind, e.target_name)
        if key not in merged:
            merged[key] = dataclasses.replace(e, ports=list(e.ports))
            continue
        have = merged[key]
        have.ports += [p for p in e.ports if p not in have.ports]
        have.ready = have.ready and e.ready
        have.terminating = have.terminating or e.terminating
    return sorted(merged.values(), key=lambda e: (e.target_name, e.addresses))


def istio_from_json(obj: Mapping[str, Any], kind: str, api_version: str, cluster: str) -> IstioObject:
    meta = _d(obj.get("metadata"))
    if not meta.get("name"):
        raise ValueError(f"a {kind} without a name")
    # a Gateway API object keeps Kiali's name for its kind ("K8sHTTPRoute"), not its manifest's
    kind = kind if kind in GATEWAY_API_KINDS else str(obj.get("kind") or kind)
    return IstioObject(kind=kind, name=str(meta["name"]),
                       namespace=str(meta.get("namespace") or ""),
                       api_version=str(obj.get("apiVersion") or api_version), spec=_d(obj.get("spec")),
                       labels=_strmap(meta.get("labels")), annotations=_annotations(meta.get("annotations")),
                       resource_version=str(meta.get("resourceVersion") or ""), cluster=cluster,
                       created=str(meta.get("creationTimestamp") or ""),
                       status=_d(obj.get("status")) if kind in GATEWAY_API_KINDS else {})


_POD_ONLY_LABELS = ("pod-template-hash", "controller-revision-hash", "statefulset.kubernetes.io/pod-name",
                    "pod-template-generation", "batch.kubernetes.io/controller-uid", "controller-uid",
                    "batch.kubernetes.io/job-name", "job-name", "apps.kubernetes.io/pod-index",
                    "rollouts-pod-template-hash")


def _template_labels(kind: str, spec: Mapping[str, Any]) -> dict[str, str]:
    if kind == "CronJob":
        spec = _d(_d(spec.get("jobTemplate")).get("spec"))
    return _strmap(_d(_d(spec.get("template")).get("metadata")).get("labels"))


def _template_annotations(spec: Mapping[str, Any]) -> dict[str, str] | None:
    """A controller's pod template's annotations, None when the template has none."""
    found = _d(_d(spec.get("template")).get("metadata")).get("annotations")
    return _annotations(found) if isinstance(found, dict) and found else None


def _current(kind: str, obj: Mapping[str, Any]) -> int:
    """The pods a controller runs now (its status says), -1 when it does not say."""
    if kind == "Job" and obj:  # Kiali: as many as it wants
        return _replicas(kind, obj, [])[0]
    status = _d(obj.get("status"))
    key = {"Deployment": "replicas", "ReplicaSet": "replicas", "StatefulSet": "replicas",
           "DaemonSet": "currentNumberScheduled"}.get(kind)
    return _int(status.get(key), -1) if key is not None and key in status else -1


def _replicas(kind: str, obj: Mapping[str, Any], pods: Sequence[Pod]) -> tuple[int, int]:
    """(wanted, available) pods, as Kiali counts them: from the controller's spec and status where it
    was read; a Job's are its active, succeeded and failed pods (available: active and succeeded); a
    CronJob's, and a workload whose controller was not read (RBAC, or a kind not listed), from its
    pods: those not finished, and those running with every container ready."""
    spec, status = _d(obj.get("spec")), _d(obj.get("status"))
    if not obj or kind == "CronJob":
        running = sum(1 for p in pods if p.phase in ("Running", "") and p.containers
                      and all(c.ready for c in p.containers))
        # a failed run of a CronJob, or a failed bare pod, is a failure to see; a controller's failed
        # (evicted) pod has been replaced
        finished = ("Succeeded",) if kind in ("CronJob", "Pod") else ("Succeeded", "Failed")
        return sum(1 for p in pods if p.phase not in finished), running
    if kind in ("Deployment", "ReplicaSet"):
        return _int(spec.get("replicas"), 1), _int(status.get("availableReplicas"))
    if kind == "StatefulSet":
        return _int(spec.get("replicas"), 1), _int(status.get("availableReplicas", status.get("readyReplicas")))
    if kind == "DaemonSet":
        return _int(status.get("desiredNumberScheduled")), _int(status.get("numberAvailable"))
    if kind == "Job":
        active, succeeded = _int(status.get("active")), _int(status.get("succeeded"))
        return active + succeeded + _int(status.get("failed")), active + succeeded
    running = sum(1 for p in pods if p.containers and all(c.ready for c in p.containers))
    return len(pods), running


def _true(conditions: Any, kind: str) -> JsonObj | None:
    """The condition of type ``kind`` whose status is "True", None when there is none."""
    return next((c for c in _l(conditions) if isinstance(c, dict) and c.get("type") == kind
                 and str(c.get("status")) == "True"), None)


def _job_state(meta: Mapping[str, Any], spec: Mapping[str, Any], status: Mapping[str, Any]) -> tuple[str, str]:
    """(state, reason) of a Job, as kubectl's STATUS column words it: Complete, Failed, Terminating,
    Suspended, Failing (its failure is decided, its pods still stop), Completing (the same for
    success), else Running."""
    conditions = status.get("conditions")
    for kind, state in (("Complete", "Complete"), ("Failed", "Failed")):
        cond = _true(conditions, kind)
        if cond is not None:
            return state, str(cond.get("reason") or "") if state == "Failed" else ""
    if meta.get("deletionTimestamp"):
        return "Terminating", ""
    if _true(conditions, "Suspended") is not None or spec.get("suspend") is True:
        return "Suspended", ""
    cond = _true(conditions, "FailureTarget")
    if cond is not None:
        return "Failing", str(cond.get("reason") or "")
    if _true(conditions, "SuccessCriteriaMet") is not None:
        return "Completing", ""
    return "Running", ""


def _text_field(obj: Mapping[str, Any], key: str) -> str:
    """``obj[key]`` when it is text, else "" (missing, or of another shape)."""
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _controller_status(w: Workload, obj: Mapping[str, Any]) -> None:
    """What ``w``'s controller says of itself, for its panel, in its kind's words: ready replicas;
    a Job's completions and state; a CronJob's schedule, suspension, last runs and active Jobs. Fields
    of the wrong shape read as not known (or, for counts Kubernetes leaves out at zero, as zero)."""
    if not obj:
        return  # not read: nothing known
    meta, spec, status = _d(obj.get("metadata")), _d(obj.get("spec")), _d(obj.get("status"))
    kind = w.kind
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        w.ready = _count(status.get("readyReplicas"))
    elif kind == "DaemonSet":
        w.ready = _count(status.get("numberReady"))
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        _rollout_status(w, kind, meta, status)
    elif kind == "Job":
        completions = spec.get("completions")
        w.completions = completions if isinstance(completions, int) and not isinstance(completions, bool) \
            and completions >= 0 else -1
        parallelism = spec.get("parallelism")
        w.parallelism = parallelism if isinstance(parallelism, int) and not isinstance(parallelism, bool) \
            and parallelism >= 0 else -1
        w.succeeded, w.failed = _count(status.get("succeeded")), _count(status.get("failed"))
        w.active, w.ready = _count(status.get("active")), _count(status.get("ready"), -1)
        w.job_state, w.job_reason = _job_state(meta, spec, status)
        w.suspended = spec.get("suspend") is True
    elif kind == "CronJob":
        w.schedule, w.time_zone = _text_field(spec, "schedule"), _text_field(spec, "timeZone")
        w.suspended = spec.get("suspend") is True
        w.active = len(_l(status.get("active")))
        w.last_schedule = _text_field(status, "lastScheduleTime")
        w.last_success = _text_field(status, "lastSuccessfulTime")


def _rollout_status(w: Workload, kind: str, meta: Mapping[str, Any], status: Mapping[str, Any]) -> None:
    """The pods already at the newest template, and why a rollout stopped, as ``kubectl rollout status``
    reads them: counts only from a status about the current spec (``observedGeneration`` not behind
    ``metadata.generation``: the controller has not yet seen a newer one), a Deployment's
    Progressing condition False (its progress deadline passed)."""
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        return  # the controller has not caught up with the spec: its counts are of the one before
    key = "updatedNumberScheduled" if kind == "DaemonSet" else "updatedReplicas"
    if key in status:  # (left out at zero: then not known, rather than a rollout said not begun)
        w.updated = _count(status.get(key), -1)
    if kind == "Deployment":
        cond = next((c for c in _l(status.get("conditions")) if isinstance(c, dict)
                     and c.get("type") == "Progressing" and str(c.get("status")) == "False"), None)
        if cond is not None:
            w.rollout_stalled = _text_field(cond, "reason") or "not progressing"
            w.rollout_message = _text_field(cond, "message")


def _by_convention(kind: str, name: str, pod_labels: Mapping[str, str]) -> tuple[str, str]:
    """The workload a pod's owner belongs to when the owner itself is not at hand: a ReplicaSet named
    ``<deployment>-<pod-template-hash>`` is that Deployment's."""
    digest = pod_labels.get("pod-template-hash")
    if kind == "ReplicaSet" and digest and name.endswith("-" + digest):
        return "Deployment", name[: -len(digest) - 1]
    return kind, name


# what is missed when a kind cannot be listed beyond the selection (the graph's kinds: their effect on it)
_OUTSIDE_UNSEEN = {"peerauthentications": "(the mesh-wide ones among them) are not weighed by the mTLS checks"}


# -- the reader ----------------------------------------------------------------------------------------

@dataclass
class _Listing:
    items: list[JsonObj]
    complete: bool = True  # False when part of it was hidden
    outside: list[JsonObj] = field(default_factory=list)  # items outside the selected namespaces


class InventoryReader:
    """One inventory read. ``read_inventory`` is the usual entry point."""

    def __init__(self, api: Any, namespaces: Sequence[str] | None, *, cluster: str, timeout: float = 30.0,
                 cancelled: Callable[[], bool] | None = None, with_optional_istio: bool = True,
                 parallel: int = 4, page_size: int = 0) -> None:
        self.stop = False

        def give_up() -> bool:
            return self.stop or (cancelled is not None and cancelled())

        self.http = RawApi(api, timeout, give_up)
        self.http.page_size = max(0, page_size)
        self.parallel = max(1, parallel)
        self.selected = list(dict.fromkeys(namespaces)) if namespaces is not None else None
        self.cluster = cluster
        self.with_optional_istio = with_optional_istio
        self.inv = Inventory(cluster=cluster)
        # each namespace's ``topology.istio.io/network`` label, as listed (the control plane's names its network)
        self.networks: dict[str, str] = {}

    @property
    def calls(self) -> int:
        return self.http.calls

    # -- lists --------------------------------------------------------------------------------
    def _list(self, prefix: str, plural: str, namespaces: Sequence[str], label: str = "") -> _Listing:
        """Items of ``plural`` in ``namespaces``: one cluster-wide call (or a namespaced call for a single
        namespace); namespace by namespace when the cluster-wide list is forbidden."""
        label = label or plural
        wanted = set(namespaces)
        if not namespaces:
            return _Listing([])
        if len(namespaces) > 1:
            try:
                items = [i for i in self.http.list_items(f"{prefix}/{plural}", what=f"list {label}")
                         if _d(i.get("metadata")).get("namespace") in wanted]
                return _Listing(items)
            except Forbidden:
                pass  # no cluster-wide right: try each namespace
        out = _Listing([])

        def one(ns: str) -> list[JsonObj] | None:
            try:
                return self.http.list_items(f"{prefix}/namespaces/{quote(ns, safe='')}/{plural}",
                                            what=f"list {label} in {ns}")
            except Forbidden as e:
                self.inv.hidden[f"{ns}/{label}"] = f"forbidden: {e.message}"
                return None
            except NotFound as e:
                self.inv.hidden[f"{ns}/{label}"] = f"not found: {e.message}"
                return None
            except (Unauthorized, Cancelled):
                raise
            except SourceError as e:
                if getattr(e, "http_status", 0) < 500:
                    raise  # network failures and timeouts concern every kind
                # a server error on one namespace's list: said once, under that namespace
                self.inv.hidden[f"{ns}/{label}"] = f"unavailable: {e.message}"
                return None

        if len(namespaces) == 1:
            results = [one(namespaces[0])]
        else:
            with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="meshdesk-namespace") as pool:
                results = list(pool.map(one, namespaces))
        for found in results:
            if found is None:
                out.complete = False
            else:
                out.items += found
        return out

    def _safe_list_around(self, prefix: str, plural: str, namespaces: Sequence[str]) -> _Listing:
        """``_safe_list`` of Istio config read from the whole cluster (``OUTSIDE_CONFIG_KINDS``): one
        cluster-wide call whose items outside ``namespaces`` are kept apart (``_Listing.outside``), the
        same number of calls as the selection's alone. A user who may not list it cluster-wide gets the
        selection's, and is told what the rest is missed for."""
        wanted = set(namespaces)
        try:
            items = self.http.list_items(f"{prefix}/{plural}", what=f"list {plural}")
        except (Unauthorized, Cancelled):
            raise
        except Forbidden:
            self.inv.hidden[f"{OUTSIDE}/{plural}"] = f"forbidden cluster-wide: {plural} outside the selected namespaces " \
                                             + _OUTSIDE_UNSEEN.get(plural, "are not applied to the graph")
            return self._safe_list(prefix, plural, namespaces)
        except SourceError:
            return self._safe_list(prefix, plural, namespaces)  # says what failed, as for any kind
        inside: list[JsonObj] = []
        outside: list[JsonObj] = []
        for i in items:  # one naming no namespace is malformed: kept with the selection's, to be said so
            ns = _d(i.get("metadata")).get("namespace") if isinstance(i, dict) else None
            (outside if ns and ns not in wanted else inside).append(i)
        return _Listing(inside, outside=outside)

    def _safe_list(self, prefix: str, plural: str, namespaces: Sequence[str], label: str = "") -> _Listing:
        """``_list`` where a server failure on this one kind is recorded, not fatal (401 and network
        failures still raise: they concern everything)."""
        try:
            return self._list(prefix, plural, namespaces, label)
        except (Unauthorized, Cancelled):
            raise
        except (NotFound, Forbidden) as e:
            self.inv.hidden[f"*/{label or plural}"] = f"{e.kind}: {e.message}"
        except SourceError as e:
            if getattr(e, "http_status", 0) < 500:
                raise  # network failures and timeouts concern every kind
            self.inv.hidden[f"*/{label or plural}"] = f"unavailable: {e.message}"
            self.inv.warnings.append(f"{label or plural} could not be read: {e.message}")
        return _Listing([], complete=False)

    # -- steps -----------------------------------------------------------------------------------
    def read_namespaces(self) -> list[str]:
        """The selected namespaces (all when none are selected), and the names of every namespace of the
        cluster (``Inventory.cluster_namespaces``, what policies naming a namespace are judged against)
        when the user may list them; one call either way. Without that right, each selected namespace is
        read by itself, and the cluster's names stay unknown, quietly."""
        inv = self.inv
        if self.selected is None or self.selected:
            try:
                items = self.http.list_items("/api/v1/namespaces", what=LIST_NAMESPACES)
                inv.cluster_namespaces = sorted({str(n) for i in items if (n := _d(i.get("metadata")).get("name"))})
                for i in items:
                    meta = _d(i.get("metadata"))
                    # primary-remote: a remote cluster's istio-system names the clusters whose istiods
                    # manage it (as Istio's install guide annotates it, and Kiali reads it)
                    managers = _d(meta.get("annotations")).get(CONTROL_PLANE_CLUSTERS)
                    network = _d(meta.get("labels")).get(NETWORK_LABEL)
                    if isinstance(network, str) and network and isinstance(meta.get("name"), str):
                        self.networks[meta["name"]] = network
                    if isinstance(managers, str) and managers.strip():
                        inv.control_plane_clusters[self.cluster] = [c.strip() for c in managers.split(",")
                                                                    if c.strip()]
                    if meta.get("name") and (self.selected is None or meta["name"] in self.selected):
                        inv.namespaces.append(Namespace(str(meta["name"]), _strmap(meta.get("labels")),
                                                        _strmap(meta.get("annotations")), self.cluster,
                                                        str(meta.get("creationTimestamp") or "")))
                lone = self.selected is not None and len(self.selected) == 1
                if not (lone and not inv.namespaces):  # one not listed is asked for by name below
                    if self.selected is not None:
                        found = {n.name for n in inv.namespaces}
                        for ns in self.selected:
                            if ns not in found:
                                inv.warnings.append(f"namespace {ns} does not exist")
                        inv.namespaces.sort(key=lambda n: self.selected.index(n.name) if self.selected else 0)
                    return [n.name for n in inv.namespaces]
            except Forbidden as e:
                if self.selected is None:
                    raise Forbidden(f"cannot list namespaces ({e.message})",
                                    hint="pick the namespaces you may see explicitly") from None
        names = []
        for ns in self.selected or []:
            try:
                doc = _d(self.http.get(f"/api/v1/namespaces/{quote(ns, safe='')}", what=f"read namespace {ns}"))
                meta = _d(doc.get("metadata"))
                inv.namespaces.append(Namespace(ns, _strmap(meta.get("labels")), _strmap(meta.get("annotations")),
                                                self.cluster, str(meta.get("creationTimestamp") or "")))
                names.append(ns)
            except Forbidden as e:
                # the namespace object is hidden; its content may still be readable
                inv.hidden[f"{ns}/namespace"] = f"forbidden: {e.message}"
                inv.namespaces.append(Namespace(ns, cluster=self.cluster))
                names.append(ns)
            except NotFound:
                inv.warnings.append(f"namespace {ns} does not exist")
        return names

    def istio_versions(self) -> dict[str, tuple[str, str]]:
        """kind -> (group, version) for the Istio kinds the cluster serves, preferring v1."""
        inv = self.inv
        wanted = ISTIO_RESOURCES + (OPTIONAL_ISTIO_RESOURCES if self.with_optional_istio else ()) + \
            GATEWAY_API_RESOURCES
        try:
            groups = {str(g.get("name")): g for g in _l(_d(self.http.get("/apis", what="discover APIs")).get("groups"))
                      if isinstance(g, dict)}
        except (Forbidden, NotFound) as e:
            inv.warnings.append(f"API discovery failed, Istio config is not shown: {e.message}")
            inv.hidden["*/istio"] = f"{e.kind}: {e.message}"
            return {}
        if ISTIO_GROUP not in groups:
            inv.istio_found = False
            inv.warnings.append(NOT_ISTIO)
            return {}
        out: dict[str, tuple[str, str]] = {}
        refused: set[str] = set()  # groups a version of which could not be asked: what it serves is not known
        for group in dict.fromkeys(g for _, g, _ in wanted):
            served = [str(v.get("version")) for v in _l(_d(groups.get(group)).get("versions")) if isinstance(v, dict)]
            versions = [v for v in KNOWN_ISTIO_VERSIONS if v in served] + \
                [v for v in served if v not in KNOWN_ISTIO_VERSIONS]
            needed = {plural: kind for kind, g, plural in wanted if g == group}
            for version in versions:
                if not needed:
                    break
                try:
                    doc = _d(self.http.get(f"/apis/{group}/{version}", what=f"discover {group}/{version}"))
                except (Forbidden, NotFound):
                    refused.add(group)
                    continue
                for r in _l(doc.get("resources")):
                    plural = _d(r).get("name")
                    if plural in needed:
                        out[needed.pop(plural)] = (group, version)
        # the Istio kinds the cluster does not serve (a group not installed, as security.istio.io may be):
        # none of them can exist, which is no refusal (``hidden`` stays quiet), but what they decide is
        # then said so (the mTLS summary: no PeerAuthentication API, not "none")
        inv.not_served = sorted(k for k, g, _p in ISTIO_RESOURCES + OPTIONAL_ISTIO_RESOURCES
                                if k not in out and g not in refused
                                and (self.with_optional_istio or (k, g, _p) in ISTIO_RESOURCES))
        # what the forms that create Gateway API objects are offered by (none served: disabled, saying so)
        inv.gateway_api_kinds = sorted(k for k, (g, _v) in out.items()
                                       if g == GATEWAY_API_GROUP and k in GATEWAY_API_KINDS)
        return out

    def read(self) -> Inventory:
        inv = self.inv
        names = self.read_namespaces()
        # the lists are independent: a few at a time overlap the server's work with our decoding
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="meshdesk-inventory") as pool:
            istio_versions = pool.submit(self.istio_versions)
            core = {plural: pool.submit(self._safe_list, prefix, plural, names) for prefix, plural in _CORE_RESOURCES}
            try:
                listed = {k: p for k, _, p in ISTIO_RESOURCES + OPTIONAL_ISTIO_RESOURCES}
                istio_lists = [
                    (kind, group, version, pool.submit(
                        self._safe_list_around if kind in OUTSIDE_CONFIG_KINDS and self.selected is not None
                        else self._safe_list, f"/apis/{group}/{version}", listed[kind], names))
                    for kind, (group, version) in istio_versions.result().items() if kind in listed]
                istio_lists += gateway_api.submit_lists(self, pool, names, istio_versions.result())
                classes = pool.submit(gateway_api.read_gateway_classes, self, istio_versions.result())
                gateways = pool.submit(self._read_gateways, names, istio_versions.result())
                syncz = pool.submit(self._read_control_plane) if inv.istio_found else None
                ztunnels = pool.submit(self._read_ztunnels, names) if inv.istio_found else None
                lists = {plural: f.result() for plural, f in core.items()}
                istio = [(kind, group, version, f.result()) for kind, group, version, f in istio_lists]
                gateways.result()
                if ztunnels is not None:
                    ztunnels.result()
                classes.result()
                sync_states = syncz.result() if syncz is not None else {}
            except BaseException:
                self.stop = True  # the other calls give up at their next step
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if not inv.istio_found:  # no Istio, no mesh config to speak of
            inv.hidden = {k: v for k, v in inv.hidden.items() if not k.endswith("/mesh config")}
            inv.mesh_settings = MeshConfig(unread="Istio was not found")
        self._build_workloads(lists)
        for w in inv.workloads:
            for pod in w.pods:
                state = sync_states.get((pod.name, pod.namespace))
                if state is not None and pod.has_sidecar:
                    pod.proxy_sync = state
        for obj in lists["services"].items:
            try:
                inv.services.append(service_from_json(obj, self.cluster))
            except (TypeError, ValueError, AttributeError, KeyError) as e:
                self._malformed("service", obj, e)
        self._attach_endpoints(lists["endpointslices"])
        for kind, group, version, listing in istio:
            for obj in listing.items:
                try:
                    inv.istio.append(istio_from_json(obj, kind, f"{group}/{version}", self.cluster))
                except (TypeError, ValueError, AttributeError, KeyError) as e:
                    self._malformed(kind, obj, e)
            for obj in listing.outside:
                try:
                    inv.outside_config.append(istio_from_json(obj, kind, f"{group}/{version}", self.cluster))
                except (TypeError, ValueError, AttributeError, KeyError):
                    continue  # not ours to judge: it only shapes the graph
        inv.workloads.sort(key=lambda w: (w.namespace, w.name, w.kind))
        inv.services.sort(key=lambda s: (s.namespace, s.name))
        inv.istio.sort(key=lambda o: (o.kind, o.namespace, o.name))
        inv.outside_config.sort(key=lambda o: (o.kind, o.namespace, o.name))
        return inv

    def _read_gateways(self, names: Sequence[str], versions: Mapping[str, tuple[str, str]]) -> None:
        """What marks gateway nodes, as Kiali reads it from the whole cluster: the Kubernetes Gateway
        API's Gateways, and outside the selection Istio's ingress and egress gateway workloads, the
        workloads Istio runs for Gateway API Gateways, and Istio's Gateway objects (the usual gateway
        runs in istio-system while its traffic goes to the selected namespaces). At most four
        cluster-wide calls whatever the selection. A user who may not list one of them cluster-wide
        gets it namespace by namespace where it matters most - Gateway API Gateways in the selection,
        and everything in Istio's own namespace - and is told, in ``hidden``, that gateways elsewhere
        stay unmarked."""
        inv = self.inv
        inside = set(names) if self.selected is not None else None
        control_plane = [] if inside is not None and ISTIO_NAMESPACE in inside else [ISTIO_NAMESPACE]

        def listed(prefix: str, plural: str, query: Sequence[tuple[str, str]], what: str,
                   fallback: Sequence[str]) -> list[JsonObj]:
            try:
                return self.http.list_items(f"{prefix}/{plural}", query, what=f"list {what}")
            except (Unauthorized, Cancelled):
                raise
            except Forbidden:
                pass
            except SourceError:
                return []  # not served: those gateways stay unmarked
            items: list[JsonObj] = []
            read: list[str] = []
            for ns in dict.fromkeys(fallback):
                try:
                    items += self.http.list_items(f"{prefix}/namespaces/{quote(ns, safe='')}/{plural}", query,
                                                  what=f"list {what} in {ns}")
                    read.append(ns)
                except (Unauthorized, Cancelled):
                    raise
                except SourceError:
                    continue
            where = f", read in {', '.join(read)} only" if read else ""
            inv.hidden[f"*/{what}"] = (f"forbidden cluster-wide{where}: gateways elsewhere are not marked as "
                                       f"gateways in the graph")
            return items

        api = versions.get(K8S_GATEWAY)
        if api is not None:
            for obj in listed(f"/apis/{api[0]}/{api[1]}", "gateways", (), "Gateway API gateways",
                              [*names, *control_plane]):
                try:
                    gw = istio_from_json(obj, K8S_GATEWAY, "/".join(api), self.cluster)
                except (TypeError, ValueError, AttributeError, KeyError):
                    continue
                inv.k8s_gateways.append(dataclasses.replace(gw, kind=K8S_GATEWAY))
            inv.k8s_gateways.sort(key=lambda o: (o.namespace, o.name))
        if inside is None:
            return  # every namespace is read: no gateway is outside
        components = "operator.istio.io/component in (" + ",".join(GATEWAY_COMPONENTS) + ")"
        pods = listed("/api/v1", "pods", [("labelSelector", components)], "gateway pods", control_plane)
        if api is not None:
            pods += listed("/api/v1", "pods", [("labelSelector", GATEWAY_NAME_LABEL)], GATEWAY_PODS_LISTED,
                           control_plane)
        inv.outside_gateways = self._outside_workloads(pods, inside)
        istio_gw = versions.get("Gateway")
        configs = [] if istio_gw is None else listed(f"/apis/{istio_gw[0]}/{istio_gw[1]}", "gateways", (),
                                                     "Istio gateways", control_plane)
        for obj in configs:
            if _d(obj.get("metadata")).get("namespace") in inside:
                continue
            try:
                inv.outside_gateway_configs.append(istio_from_json(obj, "Gateway", "/".join(istio_gw or ()),
                                                                   self.cluster))
            except (TypeError, ValueError, AttributeError, KeyError):
                continue
        inv.outside_gateway_configs.sort(key=lambda o: (o.namespace, o.name))

    def _read_ztunnels(self, names: Sequence[str]) -> None:
        """Ambient mode's node proxies outside the selection: the workloads of the pods labelled
        ``app=ztunnel`` (its DaemonSet, in istio-system as Istio installs it), listed cluster-wide, else
        in istio-system, with their ready pods (``Inventory.ztunnels``; None when they could not be
        listed). One of the selection is among its workloads already."""
        inv = self.inv
        inside = set(names) if self.selected is not None else None
        if inside is None:
            inv.ztunnels = []  # every namespace is read: it is among the workloads
            return
        query = [("labelSelector", f"app={ZTUNNEL}")]
        try:
            try:
                items = self.http.list_items("/api/v1/pods", query, what="list ztunnel pods")
            except Forbidden:
                items = self.http.list_items(f"/api/v1/namespaces/{ISTIO_NAMESPACE}/pods", query,
                                             what=f"list ztunnel pods in {ISTIO_NAMESPACE}")
        except (Unauthorized, Cancelled):
            raise
        except SourceError as e:
            inv.hidden["*/ztunnel pods"] = f"{e.kind}: {e.message}"
            return
        inv.ztunnels = self._outside_workloads(items, inside)

    def _outside_workloads(self, items: Sequence[Any], inside: set[str]) -> list[Workload]:
        """The workloads of listed pods outside the selected namespaces ``inside`` (gateways', ztunnel's),
        named by Kiali's conventions, each with its pods (once, however many listings had them: the Logs
        and Envoy docks and the proxy charts of their nodes read them) and its controller read."""
        found: dict[tuple[str, str], Workload] = {}
        for obj in items:
            try:
                pod = pod_from_json(obj)
            except (TypeError, ValueError, AttributeError, KeyError):
                continue
            if pod.namespace in inside:
                continue  # (among the selection's workloads)
            kind, name = _by_convention(pod.owner_kind or "Pod", pod.owner_name or pod.name, pod.labels)
            if (pod.namespace, name) not in found:
                labels = {k: v for k, v in pod.labels.items() if k not in _POD_ONLY_LABELS}
                found[(pod.namespace, name)] = Workload(name=name, namespace=pod.namespace, kind=kind,
                                                        labels=labels, cluster=self.cluster)
            if all(p.name != pod.name for p in found[(pod.namespace, name)].pods):
                found[(pod.namespace, name)].pods.append(pod)
        for w in found.values():
            w.pods.sort(key=lambda p: p.name)
            self._read_gateway_controller(w)
        return sorted(found.values(), key=lambda w: (w.namespace, w.name))

    def _read_gateway_controller(self, w: Workload) -> None:
        """The replica counts of a gateway outside the selection, from its controller (one GET: there
        are one or two such gateways), as Kiali judges an outside node's health by its pods too; when
        the controller cannot be read (RBAC, a kind not served) they are counted from the pods found,
        as for a workload of the selection whose controller is hidden."""
        obj: JsonObj = {}
        api = RESTARTABLE.get(w.kind)  # the controller kinds (apps/v1) a gateway runs as
        if api is not None:
            try:
                got = self.http.get(f"/apis/{api[0]}/v1/namespaces/{quote(w.namespace, safe='')}/{api[1]}/"
                                    f"{quote(w.name, safe='')}", what=f"read gateway {w.namespace}/{w.name}")
            except (Unauthorized, Cancelled):
                raise
            except SourceError:
                got = None
            obj = got if isinstance(got, dict) and _d(got.get("metadata")).get("name") == w.name else {}
        w.replicas, w.available = _replicas(w.kind, obj, w.pods)
        w.current = _current(w.kind, obj)
        _controller_status(w, obj)
        if obj:
            meta = _d(obj.get("metadata"))
            w.annotations = _annotations(meta.get("annotations"))
            w.template_annotations = _template_annotations(_d(obj.get("spec")))
            w.created = str(meta.get("creationTimestamp") or "")
        elif not w.created and w.pods:
            w.created = min(p.created for p in w.pods)

    def _read_control_plane(self) -> dict[tuple[str, str], dict[str, str]]:
        """istiod's pods, listed once (cluster-wide, else in istio-system): the mesh config of the
        control plane they show (``_read_mesh_settings``), and each sidecar's sync state
        (``_read_proxy_sync``, returned)."""
        selector = [("labelSelector", "app=istiod")]
        found: list[JsonObj] | None
        try:
            try:
                found = self.http.list_items("/api/v1/pods", selector, what="list istiod pods")
            except Forbidden:
                found = self.http.list_items(f"/api/v1/namespaces/{ISTIO_NAMESPACE}/pods", selector,
                                             what=f"list istiod pods in {ISTIO_NAMESPACE}")
                self.inv.hidden[ISTIOD_ELSEWHERE] = (f"forbidden cluster-wide: istiod pods were listed in "
                                                     f"{ISTIO_NAMESPACE} only; a control plane in another "
                                                     "namespace is not shown")
        except (Unauthorized, Cancelled):
            raise
        except SourceError as e:
            self.inv.hidden["*/proxy sync state"] = f"{e.kind}: {e.message}"
            found = None
        self._read_mesh_settings(found or [])
        self.inv.control_planes = None if found is None else mesh_settings.istiods(found)
        return self._read_proxy_sync(found)

    def _read_mesh_settings(self, istiod_pods: Sequence[JsonObj]) -> None:
        """``Inventory.mesh_settings`` from the ConfigMap of the control plane ``istiod_pods`` show (of
        several revisions, the one most selected namespaces use: ``mesh_settings.choose``; none
        found: istio-system's ``istio``). Absent, or without its ``mesh`` key: Istio's defaults, as
        Istio itself then runs. Forbidden, failing, or no YAML: Istio's defaults too, and ``hidden``
        says what was not read. Never fatal but for an expired login or a cancel.

        Of several revisions, every one's config is kept too (``Inventory.revision_settings``), read
        with one list of ConfigMaps per namespace istiod runs in: each namespace is judged by its own
        revision's. That list refused, only the chosen one is read, and ``hidden`` says so."""
        inv = self.inv
        planes = mesh_settings.control_planes(istiod_pods)
        if planes:  # where the tags matter: several revisions, or one with a name (a default tag may name it)
            self._read_revision_tags(len(planes) > 1 or any(p.revision for p in planes))
        elif any(namespace_revision(n.labels) is not None for n in inv.namespaces):
            # a remote cluster (no istiod of its own): its own webhooks, pointing at its primary's istiod,
            # say which revision its tagged namespaces are on, not the primary's
            self._read_revision_tags(False)
        # each namespace's revision as Istio's webhooks pick it (istio-injection=enabled wins over
        # istio.io/rev; a tag is the revision it points at)
        used = [r for n in inv.namespaces if (r := inv.namespace_revision(n.name)) is not None]
        plane = mesh_settings.choose(planes, used)
        revisions = tuple(p.revision or "default" for p in planes) if len(planes) > 1 else ()
        if len(planes) > 1:
            listed = self._list_mesh_configmaps(sorted({p.namespace for p in planes}))
            if listed is not None:
                per_revision: dict[str, MeshConfig] = {}
                for p in planes:
                    key = (p.namespace, mesh_settings.configmap_name(p.revision))
                    # one not labelled as Istio's charts label it (a hand-made install) is read by name
                    item = listed[key] if key in listed else self._get_mesh_configmap(p)
                    per_revision[p.revision] = dataclasses.replace(self._mesh_config_of(p, item, listed),
                                                                    revisions=revisions)
                inv.mesh_settings = per_revision[plane.revision]
                inv.revision_settings = per_revision
                return
            others = ", ".join(p.revision or "default" for p in planes if p != plane)
            inv.hidden["*/mesh config of other revisions"] = (
                f"the mesh configs of the other istiod revisions ({others}) could not be listed: "
                f"every namespace is judged by that of {plane.namespace}/"
                f"{mesh_settings.configmap_name(plane.revision)}")
        inv.mesh_settings = dataclasses.replace(self._mesh_config_of(plane, self._get_mesh_configmap(plane)),
                                                revisions=revisions)

    def _get_mesh_configmap(self, plane: mesh_settings.ControlPlane) -> JsonObj | SourceError | None:
        """The mesh config's ConfigMap of ``plane``, read by name: None when there is none, the error
        when it could not be read."""
        name = mesh_settings.configmap_name(plane.revision)
        try:
            return _d(self.http.get(
                f"/api/v1/namespaces/{quote(plane.namespace, safe='')}/configmaps/{quote(name, safe='')}",
                what=f"read the mesh config {plane.namespace}/{name}"))
        except (Unauthorized, Cancelled):
            raise
        except NotFound:
            return None
        except SourceError as e:
            return e

    def _read_revision_tags(self, matter: bool) -> None:
        """``Inventory.revision_tags`` from the MutatingWebhookConfigurations Istio's revision tags are
        (labelled ``istio.io/tag``, their ``istio.io/rev`` the revision). Not listable (a cluster-wide
        kind): none are known, said in ``hidden`` when ``matter`` (several revisions, or one with a
        name: a namespace labelled with a tag, or ``istio-injection`` under a default tag, may then be
        judged by another revision's config than its own)."""
        try:
            items = self.http.list_items("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                                         [("labelSelector", mesh_settings.TAG_LABEL)],
                                         what="list Istio's revision tags")
        except (Unauthorized, Cancelled):
            raise
        except SourceError as e:
            if matter:
                self.inv.hidden[REVISION_TAGS_UNREAD] = (
                    f"{e.kind}: {e.message} (a namespace labelled with a revision tag is taken as on no "
                    "running revision, and istio-injection=enabled as on the default one)")
            return
        self.inv.revision_tags = mesh_settings.revision_tags(items)

    def _list_mesh_configmaps(self, namespaces: Sequence[str]) -> dict[tuple[str, str], JsonObj] | None:
        """The ConfigMaps of ``namespaces`` (those istiod runs in) by (namespace, name); None when one
        could not be listed (the chosen revision's is then read alone)."""
        out: dict[tuple[str, str], JsonObj] = {}
        for ns in namespaces:
            try:
                # those Istio's charts label with their revision (not the namespace's dashboards and
                # certificates, which may be large)
                items = self.http.list_items(f"/api/v1/namespaces/{quote(ns, safe='')}/configmaps",
                                             [("labelSelector", mesh_settings.REVISION_LABEL)],
                                             what=f"list the mesh configs in {ns}")
            except (Unauthorized, Cancelled):
                raise
            except SourceError:
                return None
            for item in items:
                name = _d(item.get("metadata")).get("name")
                if isinstance(name, str):
                    out[(ns, name)] = item
        return out

    def _mesh_config_of(self, plane: mesh_settings.ControlPlane, got: JsonObj | SourceError | None,
                        listed: Mapping[tuple[str, str], JsonObj] | None = None) -> MeshConfig:
        """The mesh config of ``plane`` from its ConfigMap as read (None: there is none; an error: it
        could not be read, said in ``hidden``); Istio's defaults where it says nothing or cannot be
        used. ``listed``: the revisions' ConfigMaps listed by Istio's label, its sidecar injector's among them."""
        inv = self.inv
        name = mesh_settings.configmap_name(plane.revision)
        source = f"{plane.namespace}/{name}"
        network = self._network_of(plane, listed)
        defaults = MeshConfig(root_namespace=plane.namespace, revision=plane.revision, network=network)
        key = f"{plane.namespace}/mesh config" + (f" {name}" if plane.revision else "")
        if got is None:
            return dataclasses.replace(defaults, unread=f"there is no ConfigMap {source}")
        if isinstance(got, SourceError):
            inv.hidden[key] = f"{got.kind}: {got.message} (Istio's defaults are assumed)"
            return dataclasses.replace(defaults, unread=f"{got.kind}: {got.message}")
        text = _d(got.get("data")).get(mesh_settings.MESH_KEY)
        if not isinstance(text, str):
            return dataclasses.replace(defaults, unread=f"ConfigMap {source} has no '{mesh_settings.MESH_KEY}' key")
        try:
            return dataclasses.replace(
                mesh_settings.parse(text, namespace=plane.namespace, source=source, revision=plane.revision),
                network=network)
        except mesh_settings.Unparseable as e:
            inv.hidden[key] = f"not understood: in ConfigMap {source}, {e} (Istio's defaults are assumed)"
            return dataclasses.replace(defaults, unread=f"not understood: {e}")

    def _network_of(self, plane: mesh_settings.ControlPlane,
                    listed: Mapping[tuple[str, str], JsonObj] | None = None) -> str:
        """The network of ``plane``'s cluster as Kiali finds it: ``global.network`` of the values its sidecar
        injector's ConfigMap gives the proxies (what they are injected with), else the
        ``topology.istio.io/network`` label of its namespace; "" when neither says one. The ConfigMap not
        there, or not readable (a remote cluster's account often may not read ConfigMaps), is no failure: the
        label is asked, and nothing is said hidden. With ``listed`` (Istio's charts label the injector's
        ConfigMap with its revision, as the mesh config's) it is taken from there, not asked for again."""
        name = mesh_settings.injector_configmap_name(plane.revision)
        if listed is not None:
            return (mesh_settings.injector_network(listed.get((plane.namespace, name), {}))
                    or self.networks.get(plane.namespace, ""))
        try:
            got = _d(self.http.get(
                f"/api/v1/namespaces/{quote(plane.namespace, safe='')}/configmaps/{quote(name, safe='')}",
                what=f"read the sidecar injector's config {plane.namespace}/{name}"))
        except (Unauthorized, Cancelled):
            raise
        except SourceError:
            got = {}  # not there or not readable: the namespace's label says it
        return mesh_settings.injector_network(got) or self.networks.get(plane.namespace, "")

    def _read_proxy_sync(self, found: Sequence[JsonObj] | None) -> dict[tuple[str, str], dict[str, str]]:
        """Each sidecar's config sync state by (pod, namespace), from every running istiod's
        ``/debug/syncz`` on its monitoring port through the API server's pod proxy (Kiali reads the same
        endpoint), while the lists are read. Pods istiod does not know, an istiod that cannot be
        reached, or none found (a control plane run outside the cluster) leave the state unknown, never
        fatal; the user is told in ``hidden`` when istiod could not be asked. An istiod that could not
        be asked (not allowed, or a firewall between it and the API server) is not asked again for five
        minutes, and each ask waits a few seconds at most, so refreshes do not wait on it; an answer is
        used again for 20 s, as often as Kiali asks."""
        inv = self.inv
        if found is None:
            return {}
        istiods = []
        for obj in found:
            meta = _d(obj.get("metadata"))
            if _d(obj.get("status")).get("phase") == "Running" and meta.get("name") and meta.get("namespace"):
                istiods.append((str(meta["namespace"]), str(meta["name"])))
        states: dict[tuple[str, str], dict[str, str]] = {}
        failures: list[str] = []
        host = str(getattr(self.http.api.configuration, "host", ""))
        for ns, name in sorted(istiods):
            path = (f"/api/v1/namespaces/{quote(ns, safe='')}/pods/{quote(name, safe='')}:{ISTIOD_MONITORING_PORT}"
                    f"/proxy/debug/syncz")
            key, now = (host, path), time.monotonic()
            recent = _SYNCZ_FAILURES.get(key)
            if recent is not None and now < recent[0]:
                failures.append(recent[1])
                continue
            known = _SYNCZ_ANSWERS.get(key)
            if known is not None and now - known[0] < SYNCZ_REUSE_S:
                answer = known[1]
            else:
                try:
                    answer = self.http.get(path, what=f"read proxy sync state from {ns}/{name}",
                                           timeout=SYNCZ_TIMEOUT_S, any_json=True)
                except (Unauthorized, Cancelled):
                    raise
                except SourceError as e:
                    failures.append(f"{e.kind}: {e.message}")
                    _SYNCZ_FAILURES[key] = (now + SYNCZ_RETRY_S, failures[-1])
                    _SYNCZ_ANSWERS.pop(key, None)
                    continue
                _SYNCZ_FAILURES.pop(key, None)
                _SYNCZ_ANSWERS[key] = (now, answer)
            for entry in _l(answer):
                pod_ns = _proxy_pod(_d(entry).get("proxy"))
                if pod_ns is not None:
                    states[pod_ns] = _sync_state(_d(entry))
        if failures and len(failures) == len(istiods):  # no istiod could be asked (none found: nothing said)
            inv.hidden["*/proxy sync state"] = failures[0]
        return states

    def _attach_endpoints(self, listing: _Listing) -> None:
        """Each Service's endpoints from its EndpointSlices; left unknown (None) in a namespace whose
        slices could not be read (``hidden`` says why: a note, the rest of the read stands)."""
        found: dict[tuple[str, str], list[Endpoint]] = {}
        for obj in listing.items:
            try:
                ns, name, endpoints = endpoints_from_slice(obj)
            except (TypeError, ValueError, AttributeError, KeyError) as e:
                self._malformed("EndpointSlice", obj, e)
                continue
            found.setdefault((ns, name), []).extend(endpoints)
        for svc in self.inv.services:
            if not self.inv.unread(svc.namespace, ("endpointslices",)):
                svc.endpoints = _merge_endpoints(found.get((svc.namespace, svc.name), []))

    def _malformed(self, what: str, obj: Mapping[str, Any], e: Exception) -> None:
        meta = _d(obj.get("metadata"))
        self.inv.warnings.append(f"skipped a malformed {what} ({meta.get('namespace', '?')}/{meta.get('name', '?')}): {e}")

    def _build_workloads(self, lists: Mapping[str, _Listing]) -> None:
        inv = self.inv
        # controllers by (namespace, kind, name) -> raw object
        controllers: dict[tuple[str, str, str], JsonObj] = {}
        for plural, kind in (("deployments", "Deployment"), ("statefulsets", "StatefulSet"),
                             ("daemonsets", "DaemonSet"), ("replicasets", "ReplicaSet"), ("jobs", "Job"),
                             ("cronjobs", "CronJob")):
            for obj in lists[plural].items:
                meta = _d(obj.get("metadata"))
                if meta.get("name") and meta.get("namespace"):
                    controllers[(str(meta["namespace"]), kind, str(meta["name"]))] = obj

        def top(ns: str, kind: str, name: str, pod_labels: Mapping[str, str] | None = None) -> tuple[str, str]:
            """The workload a controller belongs to: a ReplicaSet's Deployment, a Job's CronJob."""
            obj = controllers.get((ns, kind, name))
            if obj is not None:
                parent_kind, parent_name = _controller(_d(obj.get("metadata")))
                if (kind, parent_kind) in (("ReplicaSet", "Deployment"), ("Job", "CronJob"),
                                           ("ReplicaSet", "Rollout"), ("ReplicationController", "DeploymentConfig")):
                    return parent_kind, parent_name
                return kind, name
            # the owner was not listed (hidden by RBAC): Kubernetes' naming conventions tell
            if kind == "Job":  # a CronJob names its Jobs <cronjob>-<scheduled minute>
                cron = re.fullmatch(r"(.+)-\d{8,}", name)
                if cron and (ns, "CronJob", cron.group(1)) in controllers:
                    return "CronJob", cron.group(1)
            return _by_convention(kind, name, pod_labels or {})

        workloads: dict[tuple[str, str, str], Workload] = {}
        rollouts: dict[tuple[str, str, str], list[JsonObj]] = {}  # an Argo Rollout's ReplicaSets
        for (ns, kind, name), obj in controllers.items():
            parent = top(ns, kind, name)
            if parent[0] == "Rollout":
                # Rollouts are not listed: the workload is made from its ReplicaSets (so one scaled
                # to zero is there too), counting theirs, as Kiali does; its labels are those of the
                # set that runs the most pods (the revision in force, not an old one scaled to zero)
                sets = rollouts.setdefault((ns, *parent), [])
                sets.append(obj)
                meta = _d(obj.get("metadata"))
                if max(_replicas("ReplicaSet", rs, [])[0] for rs in sets) == _replicas("ReplicaSet", obj, [])[0]:
                    labels = {k: v for k, v in _template_labels(kind, _d(obj.get("spec"))).items()
                              if k not in _POD_ONLY_LABELS}
                    workloads[(ns, *parent)] = Workload(name=parent[1], namespace=ns, kind="Rollout", labels=labels,
                                                        cluster=self.cluster,
                                                        created=str(meta.get("creationTimestamp") or ""),
                                                        template_annotations=_template_annotations(
                                                            _d(obj.get("spec"))))
                continue
            if parent != (kind, name):
                continue  # a Deployment's ReplicaSet or a CronJob's Job: the parent is the workload
            meta = _d(obj.get("metadata"))
            try:
                workloads[(ns, kind, name)] = Workload(
                    name=name, namespace=ns, kind=kind, labels=_template_labels(kind, _d(obj.get("spec"))),
                    annotations=_annotations(meta.get("annotations")), cluster=self.cluster,
                    created=str(meta.get("creationTimestamp") or ""),
                    template_annotations=_template_annotations(_d(obj.get("spec"))))
            except (TypeError, ValueError) as e:
                inv.warnings.append(f"skipped a malformed {kind} ({ns}/{name}): {e}")

        for obj in lists["pods"].items:
            try:
                pod = pod_from_json(obj)
            except (TypeError, ValueError, AttributeError, KeyError) as e:
                self._malformed("pod", obj, e)
                continue
            if pod.owner_kind:
                kind, name = top(pod.namespace, pod.owner_kind, pod.owner_name, pod.labels)
            else:
                kind, name = "Pod", pod.name
            key = (pod.namespace, kind, name)
            w = workloads.get(key)
            if w is None:  # a bare pod, or its controller is hidden or of a kind we do not list
                labels = {k: v for k, v in pod.labels.items() if k not in _POD_ONLY_LABELS}
                w = workloads[key] = Workload(name=name, namespace=pod.namespace, kind=kind, labels=labels,
                                              annotations=dict(pod.annotations) if kind == "Pod" else {},
                                              cluster=self.cluster, created=pod.created)
            w.pods.append(pod)

        for (ns, kind, name), w in workloads.items():
            w.pods.sort(key=lambda p: p.name)
            owned = rollouts.get((ns, kind, name))
            if owned is not None:
                w.replicas = sum(_replicas("ReplicaSet", rs, [])[0] for rs in owned)
                w.available = sum(_replicas("ReplicaSet", rs, [])[1] for rs in owned)
                w.current = sum(max(0, _current("ReplicaSet", rs)) for rs in owned)
                w.ready = sum(_count(_d(rs.get("status")).get("readyReplicas")) for rs in owned)
                continue
            controller = controllers.get((ns, kind, name)) or {}
            w.replicas, w.available = _replicas(kind, controller, w.pods)
            w.current = _current(kind, controller)
            _controller_status(w, controller)
        inv.workloads.extend(workloads.values())


def read_inventory(api: Any, namespaces: Sequence[str] | None, *, cluster: str, timeout: float = 30.0,
                   cancelled: Callable[[], bool] | None = None, with_optional_istio: bool = True) -> Inventory:
    """The inventory of ``namespaces`` (None: every namespace) read through ``api`` (a
    ``kubernetes.client.ApiClient``). Raises Unauthorized, Unreachable, Timeout or Cancelled for
    failures that concern everything; anything RBAC hides is listed in ``Inventory.hidden``."""
    return InventoryReader(api, namespaces, cluster=cluster, timeout=timeout, cancelled=cancelled,
                           with_optional_istio=with_optional_istio).read()

