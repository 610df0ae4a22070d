"""A small Kubernetes API server for tests: enough of the API for the official ``kubernetes`` client.

It runs on ``http.server.ThreadingHTTPServer`` at 127.0.0.1 on a free port (optionally TLS with a
self-signed certificate made by ``openssl``, and client certificates signed by its own client CA) and
keeps objects in memory. It serves discovery (``/api``, ``/apis``, group and resource lists,
``/version``), list (label and field selectors, ``limit``/``continue`` paging), get, create, replace
(resourceVersion conflicts answer 409), merge and JSON patch, delete, ``?dryRun=All``, for the core,
apps, batch and RBAC kinds, any CRD loaded from a manifest (under every version the CRD marks
``served``; ``load_crds`` drops the OpenAPI schemas, ``add_crd`` keeps them), self-subject access
and rules reviews (both from the rights ``forbid`` leaves), the service and pod proxies (forwarded to a registered upstream URL, e.g. a real Prometheus
or a stand-in for istiod's debug endpoint, or an Envoy admin's ``/config_dump``: ``serve_envoy_admin``), and a pod port-forward over WebSocket (``v4.channel.k8s.io``) to a registered local TCP port. No watches.

Faults are injected by tests: ``require_token``, ``require_client_cert``, ``forbid``, ``fail``,
``slow``, ``incomplete_rules`` (rules reviews as a webhook authorizer leaves them), ``hold_rbac_answers``
(RBAC answers wait for an Event), ``clear_faults``; ``clock`` is the time its answers' ``Date`` header says
(a test sets one far from this machine's); ``calls`` records every request as ``(method, path)``
so tests and benchmarks can count API calls, ``requests`` the full path and headers, ``rbac_calls`` the
access and rules reviews asked, by namespace.

Usage::

    emu = KubeEmulator(); emu.start()
    emu.load_crds(Path(".../crd-all.gen.yaml"))
    emu.add_namespace("bookinfo", {"istio-injection": "enabled"})
    emu.load_yaml(Path(".../bookinfo.yaml"), namespace="bookinfo")
    emu.run_workloads()                 # pods (and ReplicaSets) for every workload
    api = emu.api_client()              # kubernetes.client.ApiClient for emu.url
    emu.write_kubeconfig(path, context="emu", token=None)
    emu.stop()

or the function-scoped ``kube_emulator`` pytest fixture (import ``kube_emulator_fixture``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import http.server
import json
import re
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml

from meshdesk.fileio import write_atomic

JsonObj = dict[str, Any]
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for core
    versions: tuple[str, ...]  # served versions, preferred first
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version


_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", ("v1",), "namespaces", "Namespace", False, ("ns",), ("status",)),
    ResourceType("", ("v1",), "pods", "Pod", True, ("po",), ("status", "log", "portforward", "proxy")),
    ResourceType("", ("v1",), "services", "Service", True, ("svc",), ("status", "proxy")),
    ResourceType("", ("v1",), "endpoints", "Endpoints", True, ("ep",)),
    ResourceType("discovery.k8s.io", ("v1",), "endpointslices", "EndpointSlice", True),
    ResourceType("", ("v1",), "configmaps", "ConfigMap", True, ("cm",)),
    ResourceType("", ("v1",), "serviceaccounts", "ServiceAccount", True, ("sa",)),
    ResourceType("", ("v1",), "nodes", "Node", False, ("no",)),
    ResourceType("apps", ("v1",), "deployments", "Deployment", True, ("deploy",), ("status", "scale")),
    ResourceType("apps", ("v1",), "statefulsets", "StatefulSet", True, ("sts",), ("status", "scale")),
    ResourceType("apps", ("v1",), "daemonsets", "DaemonSet", True, ("ds",), ("status",)),
    ResourceType("apps", ("v1",), "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale")),
    ResourceType("batch", ("v1",), "jobs", "Job", True, (), ("status",)),
    ResourceType("batch", ("v1",), "cronjobs", "CronJob", True, ("cj",), ("status",)),
    ResourceType("apiextensions.k8s.io", ("v1",), "customresourcedefinitions", "CustomResourceDefinition",
                 False, ("crd",)),
    ResourceType("authorization.k8s.io", ("v1",), "selfsubjectaccessreviews", "SelfSubjectAccessReview",
                 False),
    ResourceType("authorization.k8s.io", ("v1",), "selfsubjectrulesreviews", "SelfSubjectRulesReview",
                 False),
    ResourceType("rbac.authorization.k8s.io", ("v1",), "clusterroles", "ClusterRole", False),
    ResourceType("rbac.authorization.k8s.io", ("v1",), "clusterrolebindings", "ClusterRoleBinding", False),
    ResourceType("rbac.authorization.k8s.io", ("v1",), "roles", "Role", True),
    ResourceType("rbac.authorization.k8s.io", ("v1",), "rolebindings", "RoleBinding", True),
    ResourceType("admissionregistration.k8s.io", ("v1",), "mutatingwebhookconfigurations",
                 "MutatingWebhookConfiguration", False),
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # the Service an EndpointSlice belongs to
DEFAULT_PROXY_IMAGE = "docker.io/istio/proxyv2:1.24.2"
ENVOY_LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")


# -- small helpers ------------------------------------------------------------------------------

def _version_priority(v: str) -> tuple[int, int, int]:
    """Kubernetes' version ordering: GA > beta > alpha, higher numbers first (as a sort key)."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", v)
    if not m:
        return (3, 0, 0)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor)


def _now(ago: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - ago))


# namespaces a test seeds (add, add_namespace, load_yaml) were created this long ago unless they say
# otherwise: a cluster's namespaces are mostly older than any graph window; one made through the API
# is new
SEEDED_NAMESPACE_AGE_S = 86400.0


def _suffix(seed: str, n: int = 5) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:n])


def _split_selector(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def label_selector_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """Equality- and set-based label selectors as ``kubectl -l`` takes them."""
    for term in _split_selector(selector):
        m = re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\((.*)\)", term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in" and labels.get(key) not in values:
                return False
            if op == "notin" and key in labels and labels[key] in values:
                return False
            continue
        if "!=" in term:
            key, value = (s.strip() for s in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (s.strip() for s in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def _field(obj: Mapping[str, Any], dotted: str) -> str:
    cur: Any = obj
    for part in dotted.split("."):
        cur = cur.get(part) if isinstance(cur, Mapping) else None
    return "" if cur is None else str(cur)


def field_selector_matches(selector: str, obj: Mapping[str, Any]) -> bool:
    for term in _split_selector(selector):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if _field(obj, key.strip()) == value.strip():
                return False
        else:
            key, value = term.replace("==", "=").split("=", 1)
            if _field(obj, key.strip()) != value.strip():
                return False
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge patches are treated the same way here)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def json_patch(target: Any, ops: list[Mapping[str, Any]]) -> Any:
    """RFC 6902 JSON patch: add, remove, replace, test, copy, move."""
    doc = copy.deepcopy(target)

    def parent(path: str) -> tuple[Any, str]:
        parts = _pointer(path)
        cur = doc
        for p in parts[:-1]:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur, parts[-1]

    def get(path: str) -> Any:
        cur = doc
        for p in _pointer(path):
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    def add(path: str, value: Any) -> None:
        nonlocal doc
        if path == "":
            doc = value
            return
        par, key = parent(path)
        if isinstance(par, list):
            par.insert(len(par) if key == "-" else int(key), value)
        else:
            par[key] = value

    def remove(path: str) -> Any:
        par, key = parent(path)
        return par.pop(int(key)) if isinstance(par, list) else par.pop(key)

    for op in ops:
        kind, path = op["op"], op.get("path", "")
        if kind == "add":
            add(path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            remove(path)
        elif kind == "replace":
            remove(path)
            add(path, copy.deepcopy(op["value"]))
        elif kind == "test":
            if get(path) != op["value"]:
                raise ValueError(f"test failed at {path}")
        elif kind == "copy":
            add(path, copy.deepcopy(get(op["from"])))
        elif kind == "move":
            add(path, remove(op["from"]))
        else:
            raise ValueError(f"unknown JSON patch op {kind!r}")
    return doc


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: JsonObj | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> JsonObj:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "details": self.details, "code": self.code}


@dataclass
class ForbidRule:
    namespace: str | None = None
    resource: str | None = None
    verb: str | None = None

    def matches(self, namespace: str | None, resource: str, verb: str) -> bool:
        if self.verb is not None and self.verb != verb:
            return False
        if self.resource is not None and self.resource != resource:
            return False
        if self.namespace == "":  # cluster-wide requests only: a user with rights in each namespace
            return namespace is None
        # a rule for one namespace also denies cluster-wide requests (RBAC needs cluster-wide rights)
        return self.namespace is None or namespace is None or self.namespace == namespace


@dataclass
class _Faults:
    token: str | None = None
    client_cert: bool = False
    client_cert_user: str | None = None  # with client_cert: only a certificate for this user (its CN) is taken
    forbid: list[ForbidRule] = field(default_factory=list)
    fail_status: int | None = None
    fail_path: str | None = None
    slow_seconds: float = 0.0
    rules_incomplete: bool = False  # rules reviews say incomplete and list no rule (a webhook authorizer's)
    rbac_gate: threading.Event | None = None  # access and rules reviews wait for it (hold_rbac_answers)
    port_forward_gate: threading.Event | None = None  # port-forward handshakes wait for it (hold_port_forwards)
    # requests whose path starts with the prefix wait for the gate (hold_requests); the Event is set once one waits
    path_hold: tuple[str, threading.Event, threading.Event, float] | None = None


# -- CRDs ---------------------------------------------------------------------------------------

_CRD_CACHE: dict[str, list[JsonObj]] = {}


def _slim(doc: JsonObj) -> JsonObj:
    if doc.get("kind") != "CustomResourceDefinition":
        return doc
    spec = dict(doc.get("spec") or {})
    spec["versions"] = [{k: v for k, v in ver.items() if k != "schema"} for ver in spec.get("versions") or []]
    return {**doc, "spec": spec}


def load_docs(source: str | Path, *, slim_crds: bool = False) -> list[JsonObj]:
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).is_file()):
        path = str(Path(source).resolve())
        if path not in _CRD_CACHE:  # the Istio CRD file is 16k lines: parse it once per process
            with open(path, encoding="utf-8") as fh:
                _CRD_CACHE[path] = [d for d in yaml.load_all(fh, Loader=_YAML_LOADER) if isinstance(d, dict)]
        docs = _CRD_CACHE[path]
        if slim_crds:
            slim_key = path + "#slim"
            if slim_key not in _CRD_CACHE:
                _CRD_CACHE[slim_key] = [_slim(d) for d in docs]
            docs = _CRD_CACHE[slim_key]
        return copy.deepcopy(docs)
    docs = [d for d in yaml.load_all(str(source), Loader=_YAML_LOADER) if isinstance(d, dict)]
    return [_slim(d) for d in docs] if slim_crds else docs


def crd_resource_type(crd: Mapping[str, Any]) -> ResourceType | None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v["name"] for v in spec.get("versions") or [] if v.get("served", True) and v.get("name")]
    if not (spec.get("group") and names.get("plural") and names.get("kind") and versions):
        return None
    versions.sort(key=_version_priority)
    return ResourceType(spec["group"], tuple(versions), names["plural"], names["kind"],
                        spec.get("scope", "Namespaced") == "Namespaced", tuple(names.get("shortNames") or ()),
                        ("status",))


# -- the server -----------------------------------------------------------------------------------

class KubeEmulator:
    """An in-memory Kubernetes API server on 127.0.0.1 (see the module docstring)."""

    def __init__(self, *, tls: bool = False, client_certs: bool = False, git_version: str = "v1.31.0",
                 tls_names: str = "IP:127.0.0.1,DNS:localhost") -> None:
        """``tls``: serve HTTPS with a self-signed certificate (``ca_file``) for ``tls_names`` (its
        subjectAltName). ``client_certs`` (with TLS): also accept client certificates signed by the
        emulator's client CA (see ``client_cert``)."""
        self.tls = tls
        self.tls_names = tls_names
        self.client_certs = client_certs
        self.client_ca_file: str | None = None
        self.git_version = git_version
        self._lock = threading.RLock()
        self._pods_made = 0  # pods run so far: each gets the next address, however many were deleted since
        self._types: dict[tuple[str, str], ResourceType] = {}  # (group, plural) -> type
        self._objects: dict[tuple[str, str], dict[tuple[str, str], JsonObj]] = {}
        self._rv = 1
        self._faults = _Faults()
        self._proxies: dict[tuple[str, str, str], str] = {}
        self._pod_proxies: dict[tuple[str, str, str], str] = {}
        self._port_forwards: dict[tuple[str, str, int], int] = {}
        self._envoy_admins: list[http.server.ThreadingHTTPServer] = []  # see serve_envoy_admin
        # (namespace, pod) -> the log level last set on its Envoy admin stand-in ([] until one is set)
        self.envoy_log_levels: dict[tuple[str, str], list[str]] = {}
        self._pod_logs: dict[tuple[str, str, str], list[tuple[float, str]]] = {}  # see add_pod_log
        self._stop_event = threading.Event()
        # the server's clock, as its answers' Date header says it (a test sets one far from this machine's)
        self.clock: Callable[[], float] = time.time
        self.calls: list[tuple[str, str]] = []
        self._rbac_asked: list[tuple[str, str]] = []  # (review kind, namespace asked of), see rbac_calls
        self._port_forward_held = threading.Event()  # see hold_port_forwards
        # (method, path?query, headers with canonical names: "Authorization", "Content-Type")
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: str | None = None
        self.ca_file: str | None = None
        for t in BUILTIN_TYPES:
            self.register_type(t)
        for ns in ("default", "kube-system"):  # every cluster has these
            self.add_namespace(ns)

    # -- pod logs (GET .../pods/{name}/log) ---------------------------------------------------
    def add_pod_log(self, namespace: str, pod: str, container: str, lines: Iterable[str],
                    at: float | None = None, spacing: float = 0.001, *, previous: bool = False) -> None:
        """Append log lines of a container, stamped ``at`` (default: now) plus ``spacing`` each;
        ``previous``: of its run before its last restart (``?previous=true``; the pod's status must say
        it restarted, its ``lastState.terminated``, as for the kubelet)."""
        start = time.time() if at is None else at
        with self._lock:
            log = self._pod_logs.setdefault((namespace, pod, container + ("#previous" if previous else "")), [])
            log.extend((start + i * spacing, line) for i, line in enumerate(lines))

    def restart_container(self, namespace: str, pod: str, container: str) -> None:
        """The container ended and the kubelet started it again, as a crash does: its log so far becomes
        its previous run's (``?previous=true``), its current log starts empty, and the pod's status says
        it restarted (``restartCount`` one more, ``lastState.terminated``)."""
        with self._lock:
            key = (namespace, pod, container)
            self._pod_logs[(namespace, pod, container + "#previous")] = self._pod_logs.pop(key, [])
            self._pod_logs[key] = []
            obj = self._objects[("", "pods")][(namespace, pod)]
            statuses = obj.setdefault("status", {}).setdefault("containerStatuses", [])
            state = next((c for c in statuses if c.get("name") == container), None)
            if state is None:
                state = {"name": container, "ready": True, "restartCount": 0}
                statuses.append(state)
            state["restartCount"] = int(state.get("restartCount") or 0) + 1
            state["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error"}}
            state["state"] = {"running": {"startedAt": _now(0)}}

    def _pod_log_text(self, namespace: str, pod: JsonObj, query: Mapping[str, list[str]]) -> bytes:
        """What the API server answers for a pod's log: ``container`` (required with several),
        ``tailLines``, ``sinceSeconds``, ``sinceTime``, ``limitBytes``, ``timestamps`` (RFC 3339 with nanoseconds),
        ``previous``."""
        name = pod["metadata"]["name"]
        spec = pod.get("spec") or {}
        names = [c.get("name", "") for c in spec.get("containers") or []] + [
            c.get("name", "") for c in spec.get("initContainers") or []]
        container = (query.get("container") or [""])[-1]
        if not container:
            regular = [c.get("name", "") for c in spec.get("containers") or []]
            if len(regular) != 1:
                raise ApiError(400, "BadRequest", f"a container name must be specified for pod {name}, "
                               f"choose one of: [{' '.join(regular)}]")
            container = regular[0]
        if container not in names:
            raise ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
        status = pod.get("status") or {}
        state = next((c for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
                      if c.get("name") == container), {})
        waiting = (state.get("state") or {}).get("waiting")
        previous = (query.get("previous") or ["false"])[-1] == "true"
        if previous:
            if not (state.get("lastState") or {}).get("terminated"):
                raise ApiError(400, "BadRequest", f'previous terminated container "{container}" in pod "{name}" not found')
            container += "#previous"
        elif waiting is not None and not (state.get("lastState") or {}).get("terminated"):
            # as the kubelet: a container that never ran has no log (one restarting shows its last run's)
            raise ApiError(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: '
                           f'{waiting.get("reason") or "ContainerCreating"}')
        with self._lock:
            lines = list(self._pod_logs.get((namespace, name, container), []))
        if query.get("sinceSeconds"):
            lines = [(t, x) for t, x in lines if t >= time.time() - int(query["sinceSeconds"][-1])]
        elif query.get("sinceTime"):
            since = _parse_rfc3339(query["sinceTime"][-1])
            lines = [(t, x) for t, x in lines if t >= since]
        if query.get("tailLines"):
            n = int(query["tailLines"][-1])
            lines = lines[-n:] if n > 0 else []
        stamped = (query.get("timestamps") or ["false"])[-1] == "true"
        body = "".join(f"{_rfc3339_nano(t)} {x}\n" if stamped else f"{x}\n" for t, x in lines).encode()
        if query.get("limitBytes"):  # as the kubelet: the output stops there, maybe inside a line
            body = body[: int(query["limitBytes"][-1])]
        return body

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> KubeEmulator:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        if self.tls:
            self._tmp = tempfile.mkdtemp(prefix="kube-emu-")
            cert, key = _self_signed_cert(Path(self._tmp), self.tls_names)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            if self.client_certs:
                self.client_ca_file = str(_client_ca(Path(self._tmp))[0])
                ctx.load_verify_locations(self.client_ca_file)
                ctx.verify_mode = ssl.CERT_OPTIONAL
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
            self.ca_file = str(cert)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="kube-emulator",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop_event.set()
        for admin in self._envoy_admins:
            admin.shutdown()
            admin.server_close()
        self._envoy_admins.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the emulator first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def api_client(self, token: str | None = None) -> kubernetes.client.ApiClient:
        cfg = kubernetes.client.Configuration()
        cfg.host = self.url
        if self.tls:
            cfg.ssl_ca_cert = self.ca_file
            cfg.verify_ssl = True
        if token:
            cfg.api_key = {"authorization": f"Bearer {token}"}
        cfg.retries = False
        return kubernetes.client.ApiClient(cfg)

    def client_cert(self, user: str = "jane", groups: Iterable[str] = ()) -> tuple[str, str]:
        """A client certificate (CN=user, O=groups) and its key, signed by the client CA: (cert, key) paths."""
        if not (self.client_certs and self._tmp and self.client_ca_file):
            raise RuntimeError("start a KubeEmulator(tls=True, client_certs=True) first")
        return _signed_client_cert(Path(self._tmp), user, list(groups))

    def write_kubeconfig(self, path: str | Path, context: str = "emu", token: str | None = None,
                         *, namespace: str | None = None, cluster: str | None = None,
                         client_cert: tuple[str, str] | None = None) -> Path:
        """A kubeconfig with one context ``context`` pointing at this emulator (a bearer ``token`` and/or a
        ``client_cert`` (cert, key) pair for its user)."""
        cluster_entry: JsonObj = {"server": self.url}
        if self.tls and self.ca_file:
            cluster_entry["certificate-authority"] = self.ca_file
        user: JsonObj = {"token": token} if token else {}
        if client_cert:
            user["client-certificate"], user["client-key"] = client_cert
        ctx: JsonObj = {"cluster": cluster or context, "user": f"{context}-user"}
        if namespace:
            ctx["namespace"] = namespace
        doc = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": cluster or context, "cluster": cluster_entry}],
            "users": [{"name": f"{context}-user", "user": user}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
        }
        target = Path(path)
        write_atomic(target, yaml.safe_dump(doc, sort_keys=False))
        return target

    # -- faults --------------------------------------------------------------------------
    def require_token(self, token: str | None) -> None:
        """Answer 401 to any request without ``Authorization: Bearer <token>`` (None: no check)."""
        self._faults.token = token

    def require_client_cert(self, required: bool = True, user: str | None = None) -> None:
        """Answer 401 unless the client presented a certificate signed by the client CA (and, with
        ``user``, one for that user: an older one is no longer taken). With ``require_token`` too,
        either one authenticates (as a real API server's authenticators do)."""
        self._faults.client_cert = required
        self._faults.client_cert_user = user

    def forbid(self, namespace: str | None = None, resource: str | None = None, verb: str | None = None) -> None:
        """Answer 403 (a real Status body) to matching requests. A namespace rule also denies
        cluster-wide requests for that resource, as RBAC does for a user without cluster-wide rights;
        ``namespace=""`` denies cluster-wide requests alone (rights granted namespace by namespace).
        ``resource`` is a plural ("pods", "virtualservices") or "services/proxy", "pods/portforward"."""
        self._faults.forbid.append(ForbidRule(namespace, resource, verb))

    def fail(self, status: int = 500, path: str | None = None) -> None:
        """Answer ``status`` to every request (or those whose path starts with ``path``)."""
        self._faults.fail_status, self._faults.fail_path = status, path

    def slow(self, seconds: float) -> None:
        """Delay every answer by ``seconds``."""
        self._faults.slow_seconds = seconds

    def incomplete_rules(self, incomplete: bool = True) -> None:
        """Answer rules reviews as a cluster whose authorizer cannot list its rules (a webhook's): no rule
        listed and ``incomplete: true``; access reviews still answer each question."""
        self._faults.rules_incomplete = incomplete

    def hold_rbac_answers(self) -> threading.Event:
        """Hold every access and rules review's answer until the Event returned is set (or the emulator
        stops; 10 s at most): an API server slow to answer RBAC questions, released by the test."""
        gate = threading.Event()
        self._faults.rbac_gate = gate
        return gate

    def hold_port_forwards(self) -> tuple[threading.Event, threading.Event]:
        """Hold every port-forward's WebSocket handshake (before the upgrade is answered) until the first
        Event returned is set (or the emulator stops; 10 s at most); the second is set once one is held."""
        gate, held = threading.Event(), threading.Event()
        self._faults.port_forward_gate = gate
        self._port_forward_held = held
        return gate, held

    def hold_requests(self, path_prefix: str, at_most: float = 10.0) -> tuple[threading.Event, threading.Event]:
        """Hold every request whose path starts with ``path_prefix`` (before it is answered) until the first
        Event returned is set (or the emulator stops; ``at_most`` seconds at most); the second is set once
        one is held."""
        gate, held = threading.Event(), threading.Event()
        self._faults.path_hold = (path_prefix, gate, held, at_most)
        return gate, held

    def rbac_calls(self, namespace: str | None = None) -> list[tuple[str, str]]:
        """The access and rules reviews asked so far (those naming ``namespace`` in their body, when given)."""
        with self._lock:
            asked = list(self._rbac_asked)
        return [(kind, ns) for kind, ns in asked if namespace is None or ns == namespace]

    def clear_faults(self) -> None:
        self._faults = _Faults()

    def is_forbidden(self, namespace: str | None, resource: str, verb: str) -> bool:
        return any(r.matches(namespace, resource, verb) for r in self._faults.forbid)

    # -- upstreams -------------------------------------------------------------------------
    def proxy_service(self, namespace: str, name: str, port: int | str, url: str) -> None:
        """Forward ``/api/v1/namespaces/{ns}/services/{name}:{port}/proxy/...`` to ``url``."""
        self._proxies[(namespace, name, str(port))] = url.rstrip("/")

    def proxy_pod(self, namespace: str, pod: str, port: int | str, url: str) -> None:
        """Forward ``/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/...`` to ``url`` (istiod's debug
        endpoints, say)."""
        self._pod_proxies[(namespace, pod, str(port))] = url.rstrip("/")

    def port_forward_pod(self, namespace: str, pod: str, port: int, local_port: int) -> None:
        """Relay a port-forward to ``pod``:``port`` to the TCP port 127.0.0.1:``local_port``."""
        self._port_forwards[(namespace, pod, int(port))] = int(local_port)

    def serve_envoy_admin(self, namespace: str, pod: str, dump: Any, *, port: int = 15000,
                          stats: str | bytes | None = None) -> list[str]:
        """An Envoy admin stand-in for ``pod``: ``GET /config_dump`` answers ``dump`` as JSON (bytes as
        they are), ``GET /stats`` answers ``stats`` as text when given, ``POST /logging?level=`` sets
        every logger's level (the levels set are kept in ``envoy_log_levels``) and ``POST /logging``
        lists them; reachable both through the pod proxy (``pods/{pod}:{port}/proxy/config_dump``) and
        a port-forward to ``port``. Returns the paths it was asked for (a list that grows)."""
        body = dump if isinstance(dump, bytes) else json.dumps(dump).encode()
        pages = {"/config_dump": (body, "application/json")}
        if stats is not None:
            pages["/stats"] = (stats if isinstance(stats, bytes) else stats.encode(), "text/plain; charset=UTF-8")
        asked: list[str] = []

        class Admin(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                asked.append(self.path)
                page = pages.get(self.path.split("?")[0])
                if page is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", page[1])
                self.send_header("Content-Length", str(len(page[0])))
                self.end_headers()
                self.wfile.write(page[0])

            def do_POST(self) -> None:  # noqa: N802 - /logging?level=: every logger to that level
                asked.append(f"POST {self.path}")
                path, _, query = self.path.partition("?")
                level = urllib.parse.parse_qs(query, keep_blank_values=True).get("level", [""])[0]
                if path != "/logging" or (query and level not in ENVOY_LOG_LEVELS):
                    self.send_error(404 if path != "/logging" else 400)
                    return
                if query:
                    levels[:] = [level]
                else:  # no level: the loggers as they are (Istio starts its proxies at warning)
                    level = levels[-1] if levels else "warning"
                text = "active loggers:\n" + "".join(f"  {name}: {level}\n" for name in ("admin", "http", "router"))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=UTF-8")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        levels: list[str] = []
        self.envoy_log_levels[(namespace, pod)] = levels
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Admin)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), name="envoy-admin", daemon=True).start()
        self._envoy_admins.append(server)
        local = int(server.server_address[1])
        self.proxy_pod(namespace, pod, port, f"http://127.0.0.1:{local}")
        self.port_forward_pod(namespace, pod, port, local)
        return asked

    # -- types and objects -----------------------------------------------------------------
    def register_type(self, t: ResourceType) -> None:
        with self._lock:
            self._types[(t.group, t.plural)] = t
            self._objects.setdefault((t.group, t.plural), {})

    def unregister_group(self, group: str) -> None:
        with self._lock:
            for key in [k for k in self._types if k[0] == group]:
                del self._types[key]
                self._objects.pop(key, None)

    def add_crd(self, crd: Mapping[str, Any]) -> ResourceType | None:
        t = crd_resource_type(crd)
        if t is not None:
            self.register_type(t)
            self._store(self._types[("apiextensions.k8s.io", "customresourcedefinitions")], dict(crd), "")
        return t

    def load_crds(self, source: str | Path) -> list[ResourceType]:
        """Serve every CRD of a manifest (their OpenAPI schemas are dropped: the emulator does not validate)."""
        out = []
        for doc in load_docs(source, slim_crds=True):
            if doc.get("kind") == "CustomResourceDefinition":
                t = self.add_crd(doc)
                if t:
                    out.append(t)
        return out

    def type_for(self, api_version: str, kind: str) -> ResourceType | None:
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        for t in self._types.values():
            if t.group == group and t.kind == kind:
                return t
        return None

    def _next_rv(self) -> str:
        with self._lock:
            self._rv += 1
            return str(self._rv)

    def _store(self, t: ResourceType, obj: JsonObj, namespace: str) -> JsonObj:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + _suffix(uuid.uuid4().hex)
        if t.namespaced:
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        old = self._objects[(t.group, t.plural)].get((meta.get("namespace", ""), meta["name"]))
        if isinstance(old, dict):  # storing over an object updates it: same identity
            for keep in ("uid", "creationTimestamp"):
                if keep in _d_meta(old):
                    meta[keep] = _d_meta(old)[keep]
            meta.setdefault("generation", _d_meta(old).get("generation", 0))
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", _now())
        meta["generation"] = int(meta.get("generation") or 0) + 1
        meta["resourceVersion"] = self._next_rv()
        obj["kind"] = t.kind
        obj.setdefault("apiVersion", t.api_version(t.versions[0]))
        with self._lock:
            self._objects[(t.group, t.plural)][(meta.get("namespace", ""), meta["name"])] = obj
        return obj

    def add(self, obj: Mapping[str, Any], namespace: str | None = None) -> JsonObj:
        """Store one manifest (a List's items each). Namespaced kinds default to ``namespace`` or
        their own metadata.namespace or "default"; the namespace object is created when missing."""
        doc: JsonObj = copy.deepcopy(dict(obj))
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                self.add(item, namespace)
            return doc
        if doc.get("kind") == "CustomResourceDefinition":
            self.add_crd(doc)
            return doc
        t = self.type_for(str(doc.get("apiVersion", "")), str(doc.get("kind", "")))
        if t is None:
            raise ValueError(f"the emulator does not serve {doc.get('apiVersion')} {doc.get('kind')}")
        ns = (namespace or (doc.get("metadata") or {}).get("namespace") or "default") if t.namespaced else ""
        if ns and ("", ns) not in self._objects[("", "namespaces")]:
            self.add_namespace(ns)
        if t.plural == "namespaces" and not t.group:
            doc.setdefault("metadata", {}).setdefault("creationTimestamp", _now(SEEDED_NAMESPACE_AGE_S))
        return self._store(t, doc, ns)

    def add_raw(self, plural: str, namespace: str, obj: Any, group: str = "", key: str | None = None) -> None:
        """Store ``obj`` exactly as given (no defaults, no validation): for objects with missing or
        strange fields that a real cluster can still return (old versions, broken controllers)."""
        with self._lock:
            self._objects[(group, plural)][(namespace, key or uuid.uuid4().hex)] = obj

    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> JsonObj:
        existing = self._objects[("", "namespaces")].get(("", name))
        if existing is not None:
            if labels:
                existing["metadata"].setdefault("labels", {}).update(labels)
                existing["metadata"]["resourceVersion"] = self._next_rv()
            return existing
        obj = {"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
                            "creationTimestamp": _now(SEEDED_NAMESPACE_AGE_S)},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        return self._store(self._types[("", "namespaces")], obj, "")

    def load_yaml(self, source: str | Path, namespace: str | None = None) -> list[JsonObj]:
        """Store every document of a (multi-document) manifest file or text."""
        out = []
        for doc in load_docs(source):
            if doc.get("kind") == "CustomResourceDefinition":
                self.add_crd(doc)
            else:
                out.append(self.add(doc, namespace))
        return out

    def objects(self, plural: str, group: str = "", namespace: str | None = None) -> list[JsonObj]:
        with self._lock:
            items = list(self._objects.get((group, plural), {}).values())
        return [o for o in items if namespace is None or o["metadata"].get("namespace") == namespace]

    def get(self, plural: str, namespace: str, name: str, group: str = "") -> JsonObj | None:
        return self._objects.get((group, plural), {}).get((namespace, name))

    def delete(self, plural: str, namespace: str, name: str, group: str = "") -> None:
        with self._lock:
            self._objects.get((group, plural), {}).pop((namespace, name), None)

    # -- running workloads -------------------------------------------------------------------
    def run_workloads(self, namespace: str | None = None, *, ready: bool = True, restarts: int = 0,
                      native_sidecar: bool = False, proxy_image: str = DEFAULT_PROXY_IMAGE,
                      nodes: Iterable[str] = ("node-1",)) -> list[JsonObj]:
        """Create the Pods (and ReplicaSets, and a Job per CronJob) a controller would create for every
        Deployment, StatefulSet, DaemonSet, Job and CronJob (in ``namespace``, or everywhere). Pods get an
        ``istio-proxy`` container when their namespace has injection on (or as a native sidecar init
        container with ``native_sidecar``), report ``ready`` and ``restarts``, and workload statuses follow."""
        pods: list[JsonObj] = []
        node_list = list(nodes)
        opts: dict[str, Any] = dict(ready=ready, restarts=restarts, native_sidecar=native_sidecar,
                                    proxy_image=proxy_image)
        for dep in self.objects("deployments", "apps", namespace):
            m = dep["metadata"]
            template = (dep.get("spec") or {}).get("template") or {}
            replicas = int((dep.get("spec") or {}).get("replicas", 1))
            digest = _suffix(m['uid'], 10)
            rs_name = f"{m['name']}-{digest}"
            # as the Deployment controller: the ReplicaSet and its pods carry the template's hash
            template = copy.deepcopy(template)
            tmeta = template.setdefault("metadata", {})
            tmeta["labels"] = {**(tmeta.get("labels") or {}), "pod-template-hash": digest}
            rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": rs_name, "namespace": m["namespace"],
                               "labels": dict(tmeta["labels"]),
                               "ownerReferences": [_owner(dep)]},
                  "spec": {"replicas": replicas, "selector": (dep.get("spec") or {}).get("selector") or {},
                           "template": copy.deepcopy(template)}}
            if self.get("replicasets", m["namespace"], rs_name, "apps") is None:
                rs = self.add(rs)
            else:
                rs = self.get("replicasets", m["namespace"], rs_name, "apps") or rs
            # as the ReplicaSet controller names them: a random suffix each, never one twice (five letters of
            # 27 for 600 pods met one twice in about a run of a hundred, and that pod was counted twice)
            names: list[str] = []
            for i in range(replicas):
                salt = str(i)
                while (name := f"{rs_name}-{_suffix(rs_name + salt)}") in names:
                    salt += "+"
                names.append(name)
            made = [self._make_pod(rs, template, name, node_list[0], **opts) for name in names]
            pods += made
            _set_status(rs, replicas, ready)
            _set_status(dep, replicas, ready)
        for sts in self.objects("statefulsets", "apps", namespace):
            template = (sts.get("spec") or {}).get("template") or {}
            replicas = int((sts.get("spec") or {}).get("replicas", 1))
            pods += [self._make_pod(sts, template, f"{sts['metadata']['name']}-{i}", node_list[0], **opts)
                     for i in range(replicas)]
            _set_status(sts, replicas, ready)
        for ds in self.objects("daemonsets", "apps", namespace):
            template = (ds.get("spec") or {}).get("template") or {}
            pods += [self._make_pod(ds, template, f"{ds['metadata']['name']}-{_suffix(ds['metadata']['name'] + n)}",
                                    n, **opts) for n in node_list]
            ds["status"] = {"currentNumberScheduled": len(node_list), "desiredNumberScheduled": len(node_list),
                            "numberReady": len(node_list) if ready else 0, "numberMisscheduled": 0,
                            "numberAvailable": len(node_list) if ready else 0}
        for cj in self.objects("cronjobs", "batch", namespace):
            m = cj["metadata"]
            job_template = (cj.get("spec") or {}).get("jobTemplate") or {}
            job_name = f"{m['name']}-{int(time.time()) // 60}"
            if self.get("jobs", m["namespace"], job_name, "batch") is None:
                self.add({"apiVersion": "batch/v1", "kind": "Job",
                          "metadata": {"name": job_name, "namespace": m["namespace"],
                                       "ownerReferences": [_owner(cj)]},
                          "spec": copy.deepcopy(job_template.get("spec") or {})})
        for job in self.objects("jobs", "batch", namespace):
            template = (job.get("spec") or {}).get("template") or {}
            name = f"{job['metadata']['name']}-{_suffix(job['metadata']['name'])}"
            pods.append(self._make_pod(job, template, name, node_list[0], job=True, **opts))
            job["status"] = {"active": 1, "succeeded": 0, "failed": 0}  # a pod not ready yet is active
        self.sync_endpoint_slices(namespace)
        return pods

    def sync_endpoint_slices(self, namespace: str | None = None) -> list[JsonObj]:
        """What Kubernetes' EndpointSlice controller keeps, for every Service with a selector (in
        ``namespace``, or everywhere): slices of the pods it selects that have an IP, ready as their
        Ready condition says, each Service port on the pod's number (a named targetPort resolved by the
        pod's container ports, pods resolving them alike sharing a slice). ``run_workloads`` calls it;
        call it again after adding a Service or changing pods."""
        made: list[JsonObj] = []
        for svc in self.objects("services", "", namespace):
            meta, spec = _d_meta(svc), svc.get("spec") or {}
            ns, name = meta.get("namespace", ""), meta.get("name", "")
            for old in self.objects("endpointslices", "discovery.k8s.io", ns):
                if isinstance(old, dict) and (_d_meta(old).get("labels") or {}).get(SERVICE_NAME_LABEL) == name:
                    self.delete("endpointslices", ns, _d_meta(old)["name"], "discovery.k8s.io")
            selector = spec.get("selector") or {}
            if not selector or spec.get("type") == "ExternalName":
                continue
            groups: dict[str, tuple[list[JsonObj], list[JsonObj]]] = {}
            for pod in self.objects("pods", "", ns):
                pmeta, status = _d_meta(pod), pod.get("status") or {}
                labels = pmeta.get("labels") or {}
                if not status.get("podIP") or any(labels.get(k) != v for k, v in selector.items()):
                    continue
                named = {p.get("name"): p.get("containerPort") for c in (pod.get("spec") or {}).get("containers") or []
                         for p in c.get("ports") or [] if p.get("name")}
                ports = []
                for sp in spec.get("ports") or []:
                    target = sp.get("targetPort", sp.get("port"))
                    number = int(target) if str(target).isdigit() else named.get(target)
                    if number is not None:
                        ports.append({"name": sp.get("name", ""), "port": int(number),
                                      "protocol": sp.get("protocol", "TCP")})
                ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in status.get("conditions") or [])
                terminating = bool(pmeta.get("deletionTimestamp"))
                endpoint = {"addresses": [status["podIP"]],
                            "conditions": {"ready": ready and not terminating, "serving": ready,
                                           "terminating": terminating},
                            "nodeName": (pod.get("spec") or {}).get("nodeName", ""),
                            "targetRef": {"kind": "Pod", "name": pmeta["name"], "namespace": ns,
                                          "uid": pmeta.get("uid", "")}}
                groups.setdefault(json.dumps(ports, sort_keys=True), (ports, []))[1].append(endpoint)
            for i, (ports, endpoints) in enumerate(groups.values()):
                made.append(self.add({
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": f"{name}-{_suffix(name + str(i), 5)}", "namespace": ns,
                                 "labels": {SERVICE_NAME_LABEL: name,
                                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                                 "ownerReferences": [_owner(svc)]},
                    "addressType": "IPv4", "endpoints": endpoints, "ports": ports}))
        return made

    def _make_pod(self, owner: JsonObj, template: Mapping[str, Any], name: str, node: str, *, ready: bool,
                  restarts: int, native_sidecar: bool, proxy_image: str, job: bool = False) -> JsonObj:
        ns = owner["metadata"]["namespace"]
        existing = self.get("pods", ns, name)
        if existing is not None:
            return existing
        tmeta = template.get("metadata") or {}
        spec = copy.deepcopy(template.get("spec") or {})
        containers = spec.setdefault("containers", [])
        init = spec.setdefault("initContainers", []) if native_sidecar else spec.get("initContainers") or []
        labels = dict(tmeta.get("labels") or {})
        annotations = dict(tmeta.get("annotations") or {})
        ns_obj = self.get("namespaces", "", ns) or {}
        ns_labels = (ns_obj.get("metadata") or {}).get("labels") or {}
        inject = (ns_labels.get("istio-injection") == "enabled" or bool(ns_labels.get("istio.io/rev"))) and \
            ns_labels.get("istio-injection") != "disabled"
        if labels.get("sidecar.istio.io/inject") == "false" or annotations.get("sidecar.istio.io/inject") == "false":
            inject = False
        if labels.get("sidecar.istio.io/inject") == "true":
            inject = True
        if inject:
            proxy = {"name": "istio-proxy", "image": proxy_image, "args": ["proxy", "sidecar"],
                     "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]}
            if native_sidecar:
                proxy["restartPolicy"] = "Always"
                init.append(proxy)
            else:
                containers.append(proxy)
            init.insert(0, {"name": "istio-init", "image": proxy_image})
            spec["initContainers"] = init
            # the revision whose webhook injected it, as Istio's injector writes it (label and status)
            revision = "default" if ns_labels.get("istio-injection") == "enabled" \
                else ns_labels.get("istio.io/rev") or "default"
            # a revision tag's webhook (istioctl tag set) injects its revision's sidecar
            for hook in self._objects[("admissionregistration.k8s.io", "mutatingwebhookconfigurations")].values():
                hook_labels = hook["metadata"].get("labels") or {}
                if hook_labels.get("istio.io/tag") == revision and hook_labels.get("istio.io/rev"):
                    revision = hook_labels["istio.io/rev"]
            labels.setdefault("istio.io/rev", revision)
            annotations["sidecar.istio.io/status"] = json.dumps(
                {"initContainers": ["istio-init"], "containers": ["istio-proxy"], "revision": revision})
            labels.setdefault("security.istio.io/tlsMode", "istio")
            labels.setdefault("service.istio.io/canonical-name", labels.get("app", owner["metadata"]["name"]))
            labels.setdefault("service.istio.io/canonical-revision", labels.get("version", "latest"))
        spec["nodeName"] = node
        started = _now()

        def status(c: Mapping[str, Any], is_init: bool = False) -> JsonObj:
            done = is_init and c.get("restartPolicy") != "Always"
            st: JsonObj
            if done:
                st = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started,
                                     "finishedAt": started}}
            elif ready:
                st = {"running": {"startedAt": started}}
            else:
                st = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off restarting failed container"}}
            return {"name": c.get("name", ""), "image": c.get("image", ""), "imageID": "",
                    "containerID": f"containerd://{_suffix(name + c.get('name', ''), 16)}",
                    "ready": bool(ready and not done), "started": bool(ready and not done),
                    "restartCount": 0 if is_init else restarts, "state": st}

        third, fourth = divmod(self._pods_made, 250)  # an address of its own for every pod
        self._pods_made += 1
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": annotations,
                         "ownerReferences": [_owner(owner)]},
            "spec": spec,
            "status": {
                "phase": "Running" if ready or not job else "Pending",
                "podIP": f"10.244.{third}.{fourth + 2}", "hostIP": "172.18.0.2",
                "startTime": started,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                "lastTransitionTime": started},
                               {"type": "ContainersReady", "status": "True" if ready else "False",
                                "lastTransitionTime": started}],
                "containerStatuses": [status(c) for c in containers],
                "initContainerStatuses": [status(c, True) for c in init],
            },
        }
        return self.add(pod)


def _canonical(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-"))


def _rfc3339_nano(t: float) -> str:
    whole = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{min(int(round((t - whole) * 1e9)), 999_999_999):09d}Z"


def _parse_rfc3339(text: str) -> float:
    import calendar
    main, _, frac = text.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S")) + (float(f"0.{frac}") if frac else 0.0)


def _d_meta(obj: Mapping[str, Any]) -> JsonObj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _owner(obj: Mapping[str, Any]) -> JsonObj:
    return {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj.get("kind", ""),
            "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"], "controller": True,
            "blockOwnerDeletion": True}


def _set_status(obj: JsonObj, replicas: int, ready: bool) -> None:
    n = replicas if ready else 0
    obj["status"] = {"replicas": replicas, "readyReplicas": n, "availableReplicas": n,
                     "updatedReplicas": replicas, "observedGeneration": obj["metadata"].get("generation", 1)}
    if not ready:
        obj["status"]["unavailableReplicas"] = replicas


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _client_ca(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "client-ca.crt", folder / "client-ca.key"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kube-emulator-client-ca",
             "-keyout", str(key), "-out", str(cert))
    return cert, key


def _signed_client_cert(folder: Path, user: str, groups: list[str]) -> tuple[str, str]:
    stem = folder / f"client-{_suffix(user + ','.join(groups) + uuid.uuid4().hex, 8)}"
    key, csr, cert = stem.with_suffix(".key"), stem.with_suffix(".csr"), stem.with_suffix(".crt")
    subject = f"/CN={user}" + "".join(f"/O={g}" for g in groups)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", str(key), "-out", str(csr))
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(folder / "client-ca.crt"), "-CAkey",
             str(folder / "client-ca.key"), "-CAcreateserial", "-days", "2", "-out", str(cert))
    return str(cert), str(key)


def _self_signed_cert(folder: Path, names: str = "IP:127.0.0.1,DNS:localhost") -> tuple[Path, Path]:
    cert, key = folder / "emulator.crt", folder / "emulator.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kube-emulator",
         "-addext", f"subjectAltName={names}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


# -- request handling ---------------------------------------------------------------------------

def _make_handler(emu: KubeEmulator) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(_Handler):
        emulator = emu

    return Handler


class _Handler(http.server.BaseHTTPRequestHandler):
    emulator: KubeEmulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header: the emulator's clock (``KubeEmulator.clock``), not this machine's."""
        return super().date_time_string(self.emulator.clock() if timestamp is None else timestamp)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    # -- plumbing ----------------------------------------------------------------------------
    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _drain(self) -> None:
        """Read a request body nothing read (an answer given before it, e.g. 403): left unread, it
        would be taken for the next request on a kept-alive connection."""
        if not getattr(self, "_body_read", False):
            self._body_read = True
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)

    def _body(self) -> Any:
        self._body_read = True
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            try:
                return yaml.load(raw, Loader=_YAML_LOADER)
            except yaml.YAMLError as e:
                raise ApiError(400, "BadRequest", f"the body is not JSON: {e}") from e

    def _dispatch(self, method: str) -> None:
        self._body_read = False  # one handler serves every request of a kept-alive connection
        emu = self.emulator
        parsed = urllib.parse.urlsplit(self.path)
        path, query = parsed.path, urllib.parse.parse_qs(parsed.query)
        emu.calls.append((method, path))
        emu.requests.append((method, self.path, {_canonical(k): v for k, v in self.headers.items()}))
        try:
            faults = emu._faults
            if faults.slow_seconds:
                emu._stop_event.wait(faults.slow_seconds)
            if faults.path_hold is not None and path.startswith(faults.path_hold[0]):
                _prefix, gate, held, at_most = faults.path_hold
                held.set()
                deadline = time.monotonic() + at_most
                while not gate.wait(0.05) and not emu._stop_event.is_set() and time.monotonic() < deadline:
                    pass
            accepted = []
            if faults.token is not None:
                accepted.append(self.headers.get("Authorization", "") == f"Bearer {faults.token}")
            if faults.client_cert:
                peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
                names = [value for rdn in (peer or {}).get("subject", ()) for key, value in rdn if key == "commonName"]
                accepted.append(bool(peer) and (faults.client_cert_user is None or faults.client_cert_user in names))
            if accepted and not any(accepted):
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if faults.fail_status is not None and (faults.fail_path is None or path.startswith(faults.fail_path)):
                raise ApiError(faults.fail_status, "InternalError",
                               "Internal error occurred: the emulator was told to fail")
            if self.headers.get("Upgrade", "").lower() == "websocket":
                self._websocket(path, query)
                return
            self._route(method, path, query)
        except ApiError as e:
            self._drain()
            self._send(e.code, e.status())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # noqa: BLE001 - answer like an API server, never hang the client
            self._send(500, ApiError(500, "InternalError", f"emulator error: {type(e).__name__}: {e}").status())

    def _route(self, method: str, path: str, query: Mapping[str, list[str]]) -> None:
        emu = self.emulator
        parts = [p for p in path.split("/") if p]
        if parts == ["version"]:
            self._send(200, {"major": "1", "minor": emu.git_version.split(".")[1], "gitVersion": emu.git_version,
                             "platform": "linux/amd64", "goVersion": "go1.22.0", "compiler": "gc",
                             "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z"})
            return
        if parts and parts[0] in ("healthz", "readyz", "livez"):
            self._send(200, b"ok", "text/plain")
            return
        if parts == ["api"]:
            self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{emu.port}"}]})
            return
        if parts == ["apis"]:
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": self._groups()})
            return
        if len(parts) == 2 and parts[0] == "apis":
            found = next((g for g in self._groups() if g["name"] == parts[1]), None)
            if found is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self._send(200, {"kind": "APIGroup", "apiVersion": "v1", **found})
            return
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        types = [t for t in list(emu._types.values()) if t.group == group and version in t.versions]
        if not types:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            self._send(200, self._resource_list(group, version, types))
            return
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), rest[2:]
        t = next((t for t in types if t.plural == plural), None)
        if t is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if group == "" and plural == "services" and sub[:1] == ["proxy"] and name:
            self._service_proxy(method, namespace or "", name, "/".join(sub[1:]), path, query)
            return
        if group == "" and plural == "pods" and sub[:1] == ["proxy"] and name:
            self._pod_proxy(method, namespace or "", name, "/".join(sub[1:]))
            return
        if t.plural == "selfsubjectaccessreviews":
            self._access_review(method)
            return
        if t.plural == "selfsubjectrulesreviews":
            self._rules_review(method)
            return
        if group == "" and plural == "pods" and sub == ["log"] and name and method == "GET":
            self._check(namespace, "pods/log", "get", name, "")
            pod = emu.get("pods", namespace or "", name)
            if pod is None:
                raise ApiError(404, "NotFound", f'pods "{name}" not found', {"name": name, "kind": "pods"})
            self._send(200, emu._pod_log_text(namespace or "", pod, query), "text/plain")
            return
        self._crud(method, t, version, namespace, name, sub, query)

    def _groups(self) -> list[JsonObj]:
        groups: dict[str, set[str]] = {}
        for t in list(self.emulator._types.values()):
            if t.group:
                groups.setdefault(t.group, set()).update(t.versions)
        out = []
        for g, vs in sorted(groups.items()):
            ordered = sorted(vs, key=_version_priority)
            out.append({"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in ordered],
                        "preferredVersion": {"groupVersion": f"{g}/{ordered[0]}", "version": ordered[0]}})
        return out

    @staticmethod
    def _resource_list(group: str, version: str, types: list[ResourceType]) -> JsonObj:
        resources = []
        for t in types:
            verbs = ["create"] if t.plural.startswith("selfsubject") else _VERBS
            entry: JsonObj = {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                              "kind": t.kind, "verbs": verbs}
            if t.short_names:
                entry["shortNames"] = list(t.short_names)
            resources.append(entry)
            for sub in t.subresources:
                resources.append({"name": f"{t.plural}/{sub}", "singularName": "", "namespaced": t.namespaced,
                                  "kind": t.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version, "resources": resources}

    # -- CRUD --------------------------------------------------------------------------------
    def _check(self, namespace: str | None, resource: str, verb: str, name: str | None, group: str) -> None:
        emu = self.emulator
        if resource == "namespaces" and name:
            namespace = name
        if emu.is_forbidden(namespace, resource, verb):
            where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            raise ApiError(403, "Forbidden",
                           f'{resource} is forbidden: User "emulator-user" cannot {verb} resource "{resource}" '
                           f'in API group "{group}"{where}',
                           {"name": name or "", "group": group, "kind": resource})

    def _crud(self, method: str, t: ResourceType, version: str, namespace: str | None, name: str | None,
              sub: list[str], query: Mapping[str, list[str]]) -> None:
        emu = self.emulator
        if sub and sub[0] not in ("status", "scale"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not t.namespaced and namespace is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if t.namespaced and namespace is None and method != "GET":
            raise ApiError(405, "MethodNotAllowed", "namespaced resources need a namespace")
        dry_run = "All" in query.get("dryRun", [])
        verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection"}[method]
        if query.get("watch", ["false"])[0] in ("true", "1"):
            raise ApiError(405, "MethodNotAllowed", "the emulator does not serve watches")
        self._check(namespace, t.plural + (f"/{sub[0]}" if sub else ""), verb, name, t.group)
        store = emu._objects[(t.group, t.plural)]
        ns_key = namespace or ""
        gr = f"{t.plural}.{t.group}" if t.group else t.plural

        def not_found() -> ApiError:
            return ApiError(404, "NotFound", f'{gr} "{name}" not found',
                            {"name": name, "group": t.group, "kind": t.plural})

        def shown(obj: JsonObj) -> JsonObj:
            if not isinstance(obj, dict):
                return obj
            return {**obj, "apiVersion": t.api_version(version)}  # encoded at once: a shallow copy is enough

        if verb == "list":
            keyed = sorted(((k, o) for k, o in list(store.items()) if namespace is None or k[0] == namespace),
                           key=lambda ko: ko[0])
            items = [o for _, o in keyed]

            def meta_of(o: Any) -> JsonObj:
                m = o.get("metadata") if isinstance(o, dict) else None
                return m if isinstance(m, dict) else {}

            if "labelSelector" in query:
                sel = query["labelSelector"][0]
                items = [o for o in items if label_selector_matches(sel, meta_of(o).get("labels") or {})]
            if "fieldSelector" in query:
                sel = query["fieldSelector"][0]
                items = [o for o in items if isinstance(o, dict) and field_selector_matches(sel, o)]
            list_meta: JsonObj = {"resourceVersion": str(emu._rv)}
            start = 0
            if query.get("continue", [""])[0]:
                try:
                    start = int(base64.urlsafe_b64decode(query["continue"][0].encode()).decode())
                except ValueError as e:
                    raise ApiError(400, "BadRequest", "invalid continue token") from e
            limit = int(query.get("limit", ["0"])[0] or 0)
            if limit > 0 or start:
                end = start + limit if limit > 0 else len(items)
                if end < len(items):
                    list_meta["continue"] = base64.urlsafe_b64encode(str(end).encode()).decode()
                    list_meta["remainingItemCount"] = len(items) - end
                items = items[start:end]
            self._send(200, {"kind": f"{t.kind}List", "apiVersion": t.api_version(version),
                             "metadata": list_meta, "items": [shown(o) for o in items]})
            return
        if verb == "get":
            obj = store.get((ns_key, name or ""))
            if obj is None:
                raise not_found()
            self._send(200, shown(obj))
            return
        if verb == "create":
            body = self._body()
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body must be an object")
            meta = body.setdefault("metadata", {})
            if body.get("kind") not in (None, t.kind):
                raise ApiError(400, "BadRequest", f"kind {body.get('kind')} does not match {t.kind}")
            if not meta.get("name") and not meta.get("generateName"):
                raise ApiError(422, "Invalid", f"{t.kind} is invalid: metadata.name: Required value")
            if meta.get("name") and (ns_key, meta["name"]) in store:
                name = meta["name"]
                raise ApiError(409, "AlreadyExists", f'{gr} "{name}" already exists',
                               {"name": name, "group": t.group, "kind": t.plural})
            if namespace and ("", namespace) not in emu._objects[("", "namespaces")]:
                raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
            body["apiVersion"] = t.api_version(version)
            meta.pop("resourceVersion", None)
            if dry_run:
                preview = copy.deepcopy(body)
                preview["metadata"].setdefault("uid", str(uuid.uuid4()))
                preview["metadata"].setdefault("creationTimestamp", _now())
                preview["kind"] = t.kind
                self._send(201, preview)
                return
            if t.plural == "customresourcedefinitions":
                emu.add_crd(body)
                self._send(201, body)
                return
            self._send(201, shown(emu._store(t, body, ns_key)))
            return
        obj = store.get((ns_key, name or ""))
        if obj is None:
            raise not_found()
        if verb == "delete":
            options = self._body()  # DeleteOptions, if any (always read: the connection is reused)
            want = ((options or {}).get("preconditions") or {}).get("resourceVersion") \
                if isinstance(options, dict) else None
            if want and want != obj["metadata"].get("resourceVersion"):
                raise ApiError(409, "Conflict",
                               f'Operation cannot be fulfilled on {gr} "{name}": Precondition failed: '
                               f'ResourceVersion in precondition: {want}, '
                               f'ResourceVersion in object meta: {obj["metadata"].get("resourceVersion")}')
            if not dry_run:
                with emu._lock:
                    store.pop((ns_key, name or ""), None)
            self._send(200, shown(obj))  # like the real API: the object as it was deleted
            return
        if verb == "deletecollection":
            raise ApiError(405, "MethodNotAllowed", "deletecollection is not served by the emulator")
        body = self._body()
        if verb == "update":
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body must be an object")
            sent_rv = (body.get("metadata") or {}).get("resourceVersion")
            if sent_rv and sent_rv != obj["metadata"].get("resourceVersion"):
                raise ApiError(409, "Conflict",
                               f'Operation cannot be fulfilled on {gr} "{name}": the object has been modified; '
                               "please apply your changes to the latest version and try again",
                               {"name": name, "group": t.group, "kind": t.plural})
            new = copy.deepcopy(body)
        else:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            try:
                if ctype == "application/json-patch+json" or isinstance(body, list):
                    new = json_patch(obj, body or [])
                else:
                    new = merge_patch(obj, body or {})
            except (KeyError, IndexError, ValueError, TypeError) as e:
                raise ApiError(422, "Invalid", f"the patch cannot be applied: {e}") from e
        meta = new.setdefault("metadata", {})
        for keep in ("uid", "creationTimestamp", "generation", "name"):
            if keep in obj["metadata"]:
                meta[keep] = obj["metadata"][keep]
        if t.namespaced:
            meta["namespace"] = ns_key
        if dry_run:
            self._send(200, shown(new))
            return
        with emu._lock:
            new["apiVersion"] = obj.get("apiVersion")
            stored = emu._store(t, new, ns_key)
        self._send(200, shown(stored))

    def _hold_rbac(self) -> None:
        """Wait while a test holds RBAC answers (``hold_rbac_answers``)."""
        emu = self.emulator
        gate = emu._faults.rbac_gate
        # at most 10 s: code asking on the thread that would release it fails its test rather than hang it
        deadline = time.monotonic() + 10.0
        while gate is not None and not gate.wait(0.05) and emu._faults.rbac_gate is gate \
                and not emu._stop_event.is_set() and time.monotonic() < deadline:
            pass

    def _access_review(self, method: str) -> None:
        if method != "POST":
            raise ApiError(405, "MethodNotAllowed", "selfsubjectaccessreviews are created, not read")
        body = self._body() or {}
        attrs = ((body.get("spec") or {}).get("resourceAttributes")) or {}
        resource = str(attrs.get("resource") or "")
        if attrs.get("subresource"):
            resource += f"/{attrs['subresource']}"
        ns = attrs.get("namespace") or None
        if resource == "namespaces" and attrs.get("name"):
            ns = attrs["name"]
        with self.emulator._lock:
            self.emulator._rbac_asked.append(("SelfSubjectAccessReview", str(ns or "")))
        self._hold_rbac()
        allowed = not self.emulator.is_forbidden(ns, resource, str(attrs.get("verb") or "get"))
        status: JsonObj = {"allowed": allowed}
        if not allowed:
            status["reason"] = "forbidden by the emulator's fault rules"
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": body.get("spec") or {}, "status": status}
        self._send(201, out)

    def _rules_review(self, method: str) -> None:
        """What the user may do in a namespace, from the same rights the emulator's checks use: every verb
        on every resource (one ``*`` rule) unless ``forbid`` takes some away, then one rule per resource
        with the verbs left (a namespace's own object is a request in that namespace)."""
        emu = self.emulator
        if method != "POST":
            raise ApiError(405, "MethodNotAllowed", "selfsubjectrulesreviews are created, not read")
        body = self._body() or {}
        ns = str((body.get("spec") or {}).get("namespace") or "")
        with emu._lock:
            emu._rbac_asked.append(("SelfSubjectRulesReview", ns))
        self._hold_rbac()
        # what every authenticated user may do (system:basic-user), as a real API server lists it
        rules: list[JsonObj] = [{"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                                 "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}]
        status: JsonObj = {"resourceRules": rules, "nonResourceRules": [], "incomplete": False}
        if emu._faults.rules_incomplete:
            status["incomplete"] = True
            status["evaluationError"] = "the webhook authorizer cannot list its rules"
        elif not any(r.matches(ns or None, r.resource or "*", r.verb or "*") for r in emu._faults.forbid):
            rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
        else:
            for t in list(emu._types.values()):
                for resource in (t.plural, *(f"{t.plural}/{sub}" for sub in t.subresources),
                                 *((f"{t.plural}/{sub}" for sub in ("log", "portforward", "proxy"))
                                   if t.plural == "pods" else ()),
                                 *(("services/proxy",) if t.plural == "services" else ())):
                    verbs = [v for v in _VERBS if not emu.is_forbidden(ns or None, resource, v)]
                    if verbs:
                        rules.append({"verbs": verbs, "apiGroups": [t.group], "resources": [resource]})
        self._send(201, {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                         "metadata": {"creationTimestamp": None}, "spec": body.get("spec") or {}, "status": status})

    # -- service proxy -------------------------------------------------------------------------
    def _service_proxy(self, method: str, namespace: str, target: str, rest: str, path: str,
                       query: Mapping[str, list[str]]) -> None:
        emu = self.emulator
        bits = target.split(":")
        scheme = "http"
        if len(bits) == 3:
            scheme, bits = bits[0] or "http", bits[1:]  # scheme:name:port
        svc_name, port = bits[0], (bits[1] if len(bits) > 1 else "")
        self._check(namespace, "services/proxy", "get" if method == "GET" else "create", svc_name, "")
        svc = emu.get("services", namespace, svc_name)
        if svc is None:
            raise ApiError(404, "NotFound", f'services "{svc_name}" not found',
                           {"name": svc_name, "kind": "services"})
        upstream = emu._proxies.get((namespace, svc_name, port))
        if upstream is None:
            for p in (svc.get("spec") or {}).get("ports") or []:
                if port in ("", str(p.get("port")), str(p.get("name"))):
                    upstream = emu._proxies.get((namespace, svc_name, str(p.get("port")))) or \
                        emu._proxies.get((namespace, svc_name, str(p.get("name"))))
                    if upstream:
                        break
        if upstream is None:
            raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{svc_name}"')
        if upstream.startswith("https:") and scheme != "https":  # as a TLS server answers plain HTTP
            raise ApiError(400, "BadRequest", "Client sent an HTTP request to an HTTPS server.")
        self._forward(method, upstream, rest, "service")

    def _pod_proxy(self, method: str, namespace: str, target: str, rest: str) -> None:
        emu = self.emulator
        pod_name, _, port = target.partition(":")
        self._check(namespace, "pods/proxy", "get" if method == "GET" else "create", pod_name, "")
        if emu.get("pods", namespace, pod_name) is None:
            raise ApiError(404, "NotFound", f'pods "{pod_name}" not found', {"name": pod_name, "kind": "pods"})
        upstream = emu._pod_proxies.get((namespace, pod_name, port))
        if upstream is None:
            raise ApiError(503, "ServiceUnavailable", f"error trying to reach pod: dial tcp {pod_name}:{port}: "
                                                      "connect: connection refused")
        self._forward(method, upstream, rest, "pod")

    def _forward(self, method: str, upstream: str, rest: str, what: str) -> None:
        raw_query = urllib.parse.urlsplit(self.path).query
        url = f"{upstream}/{rest}" + (f"?{raw_query}" if raw_query else "")
        self._body_read = True
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("content-type", "accept")}
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            # an upstream's serving certificate is not checked, as the API server's proxy does not check it
            ctx = ssl._create_unverified_context() if url.startswith("https:") else None  # noqa: S323
            with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:  # noqa: S310 - test upstream
                self._send(resp.status, resp.read(), resp.headers.get("Content-Type", "application/octet-stream"))
        except urllib.error.HTTPError as e:
            self._send(e.code, e.read(), e.headers.get("Content-Type", "text/plain"))
        except OSError as e:
            raise ApiError(503, "ServiceUnavailable", f"error trying to reach {what}: {e}") from e

    # -- port-forward over WebSocket -------------------------------------------------------------
    def _websocket(self, path: str, query: Mapping[str, list[str]]) -> None:
        emu = self.emulator
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/portforward", path)
        if not m:
            raise ApiError(400, "BadRequest", "only pod port-forward is served over WebSocket")
        ns, pod = m.group(1), m.group(2)
        self._check(ns, "pods/portforward", "create", pod, "")
        if emu.get("pods", ns, pod) is None:
            raise ApiError(404, "NotFound", f'pods "{pod}" not found', {"name": pod, "kind": "pods"})
        ports = [int(p) for p in query.get("ports", [])]
        if len(ports) != 1:
            raise ApiError(400, "BadRequest", "the emulator forwards exactly one port")
        gate = emu._faults.port_forward_gate
        if gate is not None:
            emu._port_forward_held.set()
            deadline = time.monotonic() + 10.0
            while not gate.wait(0.05) and not emu._stop_event.is_set() and time.monotonic() < deadline:
                pass
        local = emu._port_forwards.get((ns, pod, ports[0]))
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        protos = [p.strip() for p in (self.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        proto = next((p for p in protos if p.startswith("v4.channel")), protos[0] if protos else "")
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        if proto:
            self.send_header("Sec-WebSocket-Protocol", proto)
        self.end_headers()
        self.close_connection = True
        port_bytes = struct.pack("<H", ports[0])
        _ws_send(self.wfile, b"\x00" + port_bytes)
        _ws_send(self.wfile, b"\x01" + port_bytes)
        if local is None:
            _ws_send(self.wfile, b"\x01" + f"no process listens on port {ports[0]} in pod {pod}".encode())
            _ws_close(self.wfile)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", local), timeout=10)
        except OSError as e:
            _ws_send(self.wfile, b"\x01" + f"error forwarding port {ports[0]}: {e}".encode())
            _ws_close(self.wfile)
            return
        upstream.settimeout(None)
        lock = threading.Lock()

        def pump_up() -> None:
            try:
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    with lock:
                        _ws_send(self.wfile, b"\x00" + data)
            except (OSError, ValueError):  # ValueError: the handler already closed its stream
                pass
            finally:
                with lock:
                    try:
                        _ws_close(self.wfile)
                    except (OSError, ValueError):
                        pass

        threading.Thread(target=pump_up, daemon=True).start()
        try:
            for opcode, payload in _ws_frames(self.rfile):
                if opcode == 8:
                    break
                if opcode in (1, 2) and payload[:1] == b"\x00" and len(payload) > 1:
                    upstream.sendall(payload[1:])
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            upstream.close()


def _ws_send(wfile: Any, payload: bytes, opcode: int = 2) -> None:
    header = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        header += bytes([n])
    elif n < 65536:
        header += bytes([126]) + struct.pack(">H", n)
    else:
        header += bytes([127]) + struct.pack(">Q", n)
    wfile.write(header + payload)
    wfile.flush()


def _ws_close(wfile: Any) -> None:
    _ws_send(wfile, struct.pack(">H", 1000), opcode=8)


def _ws_frames(rfile: Any) -> Iterator[tuple[int, bytes]]:
    while True:
        head = rfile.read(2)
        if len(head) < 2:
            return
        opcode, n = head[0] & 0x0F, head[1] & 0x7F
        masked = head[1] & 0x80
        if n == 126:
            n = struct.unpack(">H", rfile.read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", rfile.read(8))[0]
        mask = rfile.read(4) if masked else b""
        data = rfile.read(n)
        if masked:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        yield opcode, data


@pytest.fixture(name="kube_emulator")
def kube_emulator_fixture() -> Iterator[KubeEmulator]:
    """A started emulator over plain HTTP, stopped after the test. Import ``kube_emulator_fixture``
    (or ``kube_emulator``) into a test module to use the ``kube_emulator`` fixture."""
    emu = KubeEmulator().start()
    try:
        yield emu
    finally:
        emu.stop()


kube_emulator = kube_emulator_fixture
