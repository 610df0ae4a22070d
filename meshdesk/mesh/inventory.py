"""The mesh inventory: what exists in the cluster, as plain data.

Filled by ``sources`` (the Kubernetes API, a snapshot file or the demo cluster) and read by graph
passes (idle nodes, service entries, sidecar badges, health annotations), panels and validations.
Every entity round-trips through JSON (``to_json``/``from_json``) so snapshots can carry it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

# the lists the workloads of a namespace are made from (a workload missing where one of them could not
# be read may exist all the same)
WORKLOAD_LISTS = ("pods", "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod",
                  "DeploymentConfig", "Rollout", "WorkloadEntry")
# the version an idle graph node of a workload without a version label has (Kiali's graph.Unknown)
UNKNOWN_VERSION = "unknown"


_HINTS: dict[Any, dict[str, Any]] = {}


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the shape of a field's type (str, int, bool, dict[str, str] ...)."""
    if hint is Any:
        return True
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union or origin is UnionType:
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is dict:
        return isinstance(value, dict) and all(_fits(k, args[0]) and _fits(v, args[1]) for k, v in value.items())
    if origin is list:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    return True  # a nested dataclass: its own from_json checks it


def _misfit(value: Any, hint: Any, where: str) -> tuple[str, str]:
    """Where in a value that does not fit ``hint`` the wrong part is, and that part's type: the entry
    of a map or list whose value is wrong (``annotations['x']``, an int), not the map itself, whose
    type is the right one. (JSON's keys are always text.)"""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Union or origin is UnionType:
        # a map or list where one is allowed (``list[str] | None``): what is wrong inside it
        inner = [a for a in args if get_origin(a) is (dict if isinstance(value, dict) else list)]
        if isinstance(value, (dict, list)) and len(inner) == 1:
            return _misfit(value, inner[0], where)
    elif origin is dict and isinstance(value, dict):
        for k, v in value.items():
            if not _fits(v, args[1]):
                return _misfit(v, args[1], f"{where}[{k!r}]")
    elif origin is list and isinstance(value, list):
        for i, v in enumerate(value):
            if not _fits(v, args[0]):
                return _misfit(v, args[0], f"{where}[{i}]")
    return where, "null" if value is None else type(value).__name__


def _build(cls: Any, obj: Any, where: str, nested: tuple[str, ...] = ()) -> Any:
    """``cls`` from a JSON object, every field checked against its type: a value of the wrong shape
    (a snapshot edited by hand, or broken) is a ValueError naming where it is, not a crash later.
    ``nested`` fields (lists of dataclasses) are left to the caller."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"{where} must be an object")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    kw = {}
    for f in fields(cls):
        if f.name not in obj:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"{where} has no '{f.name}'")
            continue
        value = obj[f.name]
        if f.name in nested:
            if not isinstance(value, list):
                raise ValueError(f"{where}.{f.name} must be a list")
            continue
        if not _fits(value, hints[f.name]):
            path, found = _misfit(value, hints[f.name], f"{where}.{f.name}")
            raise ValueError(f"{path} has the wrong type ({found})")
        kw[f.name] = value
    return cls(**kw)


def _items(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}.{key} must be a list")
    return value


DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
REVISION_LABEL = "istio.io/rev"  # the istiod revision a namespace (or an injected pod) belongs to
REVISION_TAGS_UNREAD = "*/revision tags"  # the ``hidden`` key said when Istio's revision tags could not be listed
AMBIENT_ANNOTATION = "ambient.istio.io/redirection"  # what Istio's CNI marks the pods it captures with
# the labels naming an app and its version, in the order Istio (and Kiali) prefer them
APP_LABELS = ("service.istio.io/canonical-name", "app.kubernetes.io/name", "app")
VERSION_LABELS = ("service.istio.io/canonical-revision", "app.kubernetes.io/version", "version")
# the operator.istio.io/component values of Istio's gateways (istioctl and the gateways charts set them)
GATEWAY_COMPONENTS = ("IngressGateways", "EgressGateways")
# the label Istio puts on the pods it runs for a Kubernetes Gateway API Gateway (its value: the name)
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
# what the pods of Gateway API gateways (waypoints among them) are called in ``Inventory.hidden``
# ("*/" + it) when they could not be listed cluster-wide
GATEWAY_PODS_LISTED = "Gateway API gateway pods"
K8S_GATEWAY = "K8sGateway"
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
# the Kubernetes Gateway API's config kinds as Kiali names them (Istio's "Gateway" is another kind), and
# the kind each is in its manifest; they are kept with the Istio config (``Inventory.istio``) because
# Istio turns them into its own config, and Kiali lists and validates them with it
GATEWAY_API_KINDS: dict[str, str] = {
    K8S_GATEWAY: "Gateway",
    "K8sHTTPRoute": "HTTPRoute",
    "K8sGRPCRoute": "GRPCRoute",
    "K8sTCPRoute": "TCPRoute",
    "K8sTLSRoute": "TLSRoute",
    "K8sReferenceGrant": "ReferenceGrant",
}
ISTIO_NAMESPACE = "istio-system"  # where Istio runs its control plane and, usually, its gateways
# ``Inventory.hidden``'s key when istiod's pods could be listed in ISTIO_NAMESPACE only
ISTIOD_ELSEWHERE = "*/istiod pods outside istio-system"


def first_label(labels: Any, names: tuple[str, ...]) -> str | None:
    """The value of the first of ``names`` that ``labels`` (a label dict, or anything) has."""
    if not isinstance(labels, dict):
        return None
    return next((str(labels[k]) for k in names if k in labels), None)


SIDECAR_INJECT = "sidecar.istio.io/inject"
INJECT_YES = ("y", "yes", "true", "on")  # what Istio's injector reads as "inject" (YAML's booleans)


def namespace_injects(labels: Mapping[str, str]) -> bool:
    """Whether one of Istio's namespace webhooks takes the namespace's new pods: ``istio-injection=
    enabled`` (namespace.sidecar-injector), or ``istio.io/rev`` with no ``istio-injection`` label at
    all (rev.namespace.sidecar-injector selects ``istio-injection DoesNotExist``). Any other
    ``istio-injection`` value (``disabled``, but also ``yes``) turns every injector webhook off, the
    revision's included. The one rule for the summary's "Sidecar injection" and the ambient checks."""
    injection = labels.get("istio-injection")
    return injection == "enabled" or (injection is None and bool(labels.get("istio.io/rev")))


def namespace_revision(labels: Mapping[str, str]) -> str | None:
    """The istiod revision a namespace's labels give it ("" for the default one), as Istio's webhooks
    pick: ``istio-injection=enabled`` is the default revision's (its webhook wins over ``istio.io/rev``),
    else ``istio.io/rev`` ("default" is the default one), else an ambient namespace is the default
    revision's; None for a namespace no control plane takes (no injection, not ambient)."""
    injection = labels.get("istio-injection")
    rev = labels.get(REVISION_LABEL) or ""
    if injection == "enabled":
        return ""
    if injection is None and rev:
        return "" if rev == "default" else rev
    if injection is None and labels.get(DATAPLANE_MODE_LABEL) == "ambient":
        return ""
    return None


def injects_sidecar(namespace_labels: Mapping[str, str], labels: Mapping[str, str],
                    annotations: Mapping[str, str]) -> bool:
    """Whether Istio's injector gives a pod (its ``labels``, ``annotations``) a sidecar, by its
    webhooks' selectors and then ``injectRequired``. Every webhook's object selector leaves out the
    label ``sidecar.istio.io/inject: "false"``. In a namespace a namespace webhook takes
    (``namespace_injects``) the pod is sent to the injector; in a namespace with neither
    ``istio-injection`` nor ``istio.io/rev`` only the object webhooks can take it, and they select on
    *labels*: ``sidecar.istio.io/inject: "true"`` (exactly), or the pod's own ``istio.io/rev`` -- the
    annotation alone never sends a pod to the injector; in a namespace with another ``istio-injection``
    value nothing does. The injector then reads ``sidecar.istio.io/inject`` (the label, else the
    annotation): unset or y/yes/true/on injects, anything else (``false``, Kiali's ``enabled``) does not."""
    label = labels.get(SIDECAR_INJECT)
    if label == "false":
        return False
    if namespace_injects(namespace_labels):
        sent = True
    elif "istio-injection" in namespace_labels or namespace_labels.get("istio.io/rev"):
        sent = False
    else:
        sent = label == "true" or bool(labels.get("istio.io/rev"))
    if not sent:
        return False
    mark = label if label is not None else annotations.get(SIDECAR_INJECT)
    return not mark or mark.lower() in INJECT_YES


@dataclass
class Namespace:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    cluster: str = ""
    created: str = ""  # creationTimestamp, e.g. "2026-11-27T13:00:00Z" ("" when unknown)

    @property
    def injection_enabled(self) -> bool:
        """True when new pods get a sidecar unless they opt out (``namespace_injects``)."""
        return namespace_injects(self.labels)

    @property
    def ambient(self) -> bool:
        """Istio ambient mode (``istio.io/dataplane-mode=ambient``): its pods are in the mesh through
        ztunnel and need no sidecar."""
        return self.labels.get(DATAPLANE_MODE_LABEL) == "ambient"

    @property
    def in_mesh(self) -> bool:
        """Whether the namespace's pods join the mesh: sidecar injection or ambient mode."""
        return self.injection_enabled or self.ambient


XDS_KINDS = ("CDS", "EDS", "LDS", "RDS")  # the kinds of proxy config istiod's sync state is given for
SYNCED = "Synced"


@dataclass
class Container:
    name: str
    image: str = ""
    ready: bool = False
    restarts: int = 0
    state: str = ""  # running / waiting:<reason> / terminated:<reason>
    sidecar: bool = False  # an init container with restartPolicy Always (native sidecar)
    # the container ports its spec declares (containerPort numbers) and the names given them; None when
    # not known (an older snapshot), [] when it declares none
    ports: list[int] | None = None
    port_names: list[str] = field(default_factory=list)
    # the containerPort number of each port that has a name (a Service's named targetPort resolves
    # to it); empty when none is named or not known (an older snapshot)
    named_ports: dict[str, int] = field(default_factory=dict)


@dataclass
class Pod:
    name: str
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    phase: str = ""
    containers: list[Container] = field(default_factory=list)
    init_containers: list[Container] = field(default_factory=list)
    owner_kind: str = ""
    owner_name: str = ""
    node_name: str = ""
    # the service account the pod runs as (its workload identity); "" when not known (an older snapshot)
    service_account: str = ""
    ip: str = ""
    created: str = ""
    # why the pod is in its phase, when Kubernetes says (status.reason: "Evicted", "NodeLost", "Shutdown")
    reason: str = ""
    # when it was asked to stop (metadata.deletionTimestamp): it is terminating; "" while it is not
    deleted: str = ""
    # the proxy's xDS state as istiod reports it (/debug/syncz), per kind: {"CDS": "Synced", "EDS":
    # "Stale", "LDS": ..., "RDS": ...}; empty when not known (no sidecar, or istiod not reachable)
    proxy_sync: dict[str, str] = field(default_factory=dict)

    @property
    def proxy_synced(self) -> bool | None:
        """Whether istiod says every kind of config it sent this pod's proxy was acknowledged (Kiali's
        test); None when that is not known."""
        if not self.proxy_sync:
            return None
        return all(self.proxy_sync.get(k) == SYNCED for k in XDS_KINDS)

    @property
    def proxy_revision(self) -> str | None:
        """The istiod revision that injected this pod's sidecar ("" for the default one): its
        ``istio.io/rev`` label, else the revision of its ``sidecar.istio.io/status`` annotation, as the
        injector writes them; None when it has no sidecar or says none."""
        if not self.has_sidecar:
            return None
        rev = self.labels.get(REVISION_LABEL)
        if rev is None:
            try:
                status = json.loads(self.annotations.get("sidecar.istio.io/status") or "{}")
            except ValueError:
                status = None
            rev = status.get("revision") if isinstance(status, dict) else None
        if not isinstance(rev, str):
            return None
        return "" if rev == "default" else rev

    @property
    def proxy(self) -> Container | None:
        for c in self.containers + self.init_containers:
            if c.name == "istio-proxy":
                return c
        return None

    @property
    def has_sidecar(self) -> bool:
        """An ``istio-proxy`` container, or Istio's native sidecar (an init container that keeps running)."""
        if any(c.name == "istio-proxy" for c in self.containers):
            return True
        return any(c.name == "istio-proxy" and c.sidecar for c in self.init_containers)

    @property
    def proxy_version(self) -> str:
        proxy = self.proxy
        if proxy is None:
            return ""
        # the image's tag; the injection status (JSON) says nothing a person reads as a version
        return image_tag(proxy.image)

    @property
    def ready_count(self) -> tuple[int, int]:
        """(ready, total) as kubectl shows it: regular containers plus native sidecars."""
        shown = self.containers + [c for c in self.init_containers if c.sidecar]
        return sum(1 for c in shown if c.ready), len(shown)

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers + self.init_containers)

    @property
    def status_text(self) -> str:
        """The pod's state as kubectl's STATUS column words it from the pod: "Terminating" once it was
        asked to stop ("Unknown" when its node is lost), else the reason Kubernetes gave ("Evicted"),
        else its phase ("" when none is known)."""
        if self.deleted:
            return "Unknown" if self.reason == "NodeLost" else "Terminating"
        return self.reason or self.phase

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(obj: Mapping[str, Any], where: str = "pod") -> Pod:
        pod: Pod = _build(Pod, obj, where, ("containers", "init_containers"))
        pod.containers = [_build(Container, c, f"{where}.containers[{i}]")
                          for i, c in enumerate(_items(obj, "containers", where))]
        pod.init_containers = [_build(Container, c, f"{where}.init_containers[{i}]")
                               for i, c in enumerate(_items(obj, "init_containers", where))]
        return pod


# controllers whose dashboards.kiali.io/templates Kiali reads from their pod template when it has annotations
TEMPLATE_DASHBOARD_KINDS = frozenset({"Deployment", "ReplicaSet", "ReplicationController", "DeploymentConfig",
                                      "StatefulSet", "Rollout", "DaemonSet"})
# controllers whose health.kiali.io/rate Kiali reads from their pod template when it has annotations
TEMPLATE_HEALTH_KINDS = frozenset({"Deployment", "ReplicaSet", "ReplicationController", "DeploymentConfig",
                                   "StatefulSet", "Rollout"})


@dataclass
class Workload:
    name: str
    namespace: str
    kind: str = "Deployment"
    labels: dict[str, str] = field(default_factory=dict)  # the pod template's labels
    annotations: dict[str, str] = field(default_factory=dict)  # the workload's (health.kiali.io/rate, ...)
    pods: list[Pod] = field(default_factory=list)
    replicas: int = 0
    available: int = 0
    cluster: str = ""
    created: str = ""
    current: int = -1  # the pods its controller runs now (status.replicas), -1 when unknown
    # what its controller says of itself, in the words kubectl, Lens and k9s use for its kind; -1, ""
    # or None when not known (the controller was not read, or a snapshot from before they were kept)
    ready: int = -1  # pods ready: readyReplicas (a DaemonSet's numberReady, a Job's status.ready)
    completions: int = -1  # a Job's wanted successful pods (spec.completions; -1 also when unset: one will do)
    parallelism: int = -1  # a Job's pods run at once (spec.parallelism), -1 when not known
    succeeded: int = -1  # a Job's pods that succeeded
    failed: int = -1  # a Job's pods that failed
    active: int = -1  # a Job's pods running now; a CronJob's Jobs running now
    job_state: str = ""  # a Job's, as kubectl says it: Complete, Failed, Suspended, Running...
    job_reason: str = ""  # why a Job failed (BackoffLimitExceeded, DeadlineExceeded...)
    schedule: str = ""  # a CronJob's cron schedule
    time_zone: str = ""  # a CronJob's spec.timeZone ("": the controller's local time)
    suspended: bool | None = None  # a CronJob's (or a Job's) spec.suspend
    last_schedule: str = ""  # a CronJob's last scheduled run (status.lastScheduleTime)
    last_success: str = ""  # a CronJob's last successful run (status.lastSuccessfulTime)
    # a rollout in progress, as `kubectl rollout status` tells it: the pods already running the newest
    # template (a Deployment's or StatefulSet's status.updatedReplicas, a DaemonSet's
    # updatedNumberScheduled; -1 when not known), and why the rollout stopped ("" when it did not: a
    # Deployment past its progressDeadlineSeconds says ProgressDeadlineExceeded) with its message
    updated: int = -1
    rollout_stalled: str = ""
    rollout_message: str = ""
    # the pod template's annotations; None when the template has none (or a snapshot from before they
    # were kept): see ``health_annotations``
    template_annotations: dict[str, str] | None = None

    @property
    def health_annotations(self) -> dict[str, str]:
        """The annotations Kiali reads a workload's ``health.kiali.io/rate`` from: a Deployment's,
        ReplicaSet's, StatefulSet's (and the like) pod template's when the template has annotations,
        else the controller's own; a DaemonSet's, CronJob's, Job's and bare pod's own. (Once a rollout
        restart stamps the template, an annotation on the Deployment's own metadata no longer counts.)"""
        if self.template_annotations is not None and self.kind in TEMPLATE_HEALTH_KINDS:
            return self.template_annotations
        return self.annotations

    @property
    def dashboard_annotations(self) -> dict[str, str]:
        """The annotations Kiali reads a workload's ``dashboards.kiali.io/templates`` from: a controller's
        pod template's when the template has annotations (a DaemonSet's too), else its own; a Job's,
        CronJob's and bare pod's own."""
        if self.template_annotations is not None and self.kind in TEMPLATE_DASHBOARD_KINDS:
            return self.template_annotations
        return self.annotations

    @property
    def app(self) -> str:
        """Its app as Istio names its canonical service (and Kiali its app): the first of APP_LABELS."""
        return first_label(self.labels, APP_LABELS) or ""

    @property
    def version(self) -> str:
        return first_label(self.labels, VERSION_LABELS) or ""

    @property
    def missing_labels(self) -> list[str]:
        """"app" and/or "version" when its pods carry none of the labels naming them (APP_LABELS,
        VERSION_LABELS; a label there, even empty, counts), as Kiali marks a workload "Missing App" or
        "Missing Version": without an app it is in no app, without a version its telemetry says
        "latest"."""
        return [what for what, names in (("app", APP_LABELS), ("version", VERSION_LABELS))
                if not any(k in self.labels for k in names)]

    def runs_version(self, version: str) -> bool:
        """Whether a graph node of ``version`` ("" for any) stands for this workload: a workload without a
        version label is "latest", as Istio's canonical revision names it in telemetry, and "unknown" on
        an idle node, as Kiali's idle-node appender names it (``graph.idle``)."""
        if not version:
            return True
        return self.version == version if self.version else version in ("latest", UNKNOWN_VERSION)

    @property
    def has_sidecar(self) -> bool | None:
        """True/False when pods exist and agree on having a sidecar; None with no pods."""
        if not self.pods:
            inject = self.annotations.get("sidecar.istio.io/inject") or self.labels.get("sidecar.istio.io/inject")
            return None if inject is None else inject == "true"
        return all(p.has_sidecar for p in self.pods)

    @property
    def sidecar_pods(self) -> int:
        """How many of its pods run a sidecar (what ``synced_proxies`` is out of)."""
        return sum(1 for p in self.pods if p.has_sidecar)

    @property
    def synced_proxies(self) -> int:
        """How many of its pods' proxies are in sync with istiod, -1 when that is not known or not asked
        (a Deployment whose first pod has no sidecar, another kind with a pod without one, or no sync
        state read), as Kiali counts them."""
        pods = self.pods
        if not pods or not any(p.proxy_sync for p in pods):
            return -1
        if not (pods[0].has_sidecar if self.kind == "Deployment" else all(p.has_sidecar for p in pods)):
            return -1
        return sum(1 for p in self.pods if p.proxy_synced)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["pods"] = [p.to_json() for p in self.pods]
        return out

    @staticmethod
    def from_json(obj: Mapping[str, Any], where: str = "workload") -> Workload:
        w: Workload = _build(Workload, obj, where, ("pods",))
        w.pods = [Pod.from_json(p, f"{where}.pods[{i}]") for i, p in enumerate(_items(obj, "pods", where))]
        return w


@dataclass
class ServicePort:
    name: str = ""
    port: int = 0
    protocol: str = "TCP"
    target_port: str = ""
    app_protocol: str = ""
    node_port: int = 0  # the port every node opens for it (a NodePort or LoadBalancer Service), 0: none


@dataclass
class EndpointPort:
    """A port an endpoint takes a Service's calls on (an EndpointSlice's port: the Service port's name,
    the number on the pod, after a named targetPort is resolved)."""

    name: str = ""
    port: int = 0
    protocol: str = "TCP"


@dataclass
class Endpoint:
    """One address behind a Service, from its EndpointSlices (discovery.k8s.io/v1), as Kubernetes
    keeps them: the pod (or other target) it stands for, whether it is ready to take calls."""

    addresses: list[str] = field(default_factory=list)
    ready: bool = True  # conditions.ready (unset reads as ready, as Kubernetes says to read it)
    terminating: bool = False
    target_kind: str = ""  # targetRef: "Pod" for a selector's; "" for an address set by hand
    target_name: str = ""
    node: str = ""
    zone: str = ""
    ports: list[EndpointPort] = field(default_factory=list)

    @property
    def address(self) -> str:
        return ", ".join(self.addresses)

    @staticmethod
    def from_json(obj: Mapping[str, Any], where: str = "endpoint") -> Endpoint:
        e: Endpoint = _build(Endpoint, obj, where, ("ports",))
        e.ports = [_build(EndpointPort, p, f"{where}.ports[{i}]") for i, p in enumerate(_items(obj, "ports", where))]
        return e


def endpoints_from_pods(svc: Service, pods: Iterable[Pod]) -> list[Endpoint]:
    """The endpoints Kubernetes' EndpointSlice controller keeps for ``svc`` from the pods its selector
    picks (in its namespace, with an IP, not finished): ready when every container is, each Service port
    on the pod's number (a named targetPort resolved by the pod's container ports; a port the pod does
    not name is left out). For a simulated cluster (the demo); a real one's are read."""
    if not svc.selector or svc.type == "ExternalName":
        return []
    out = []
    for pod in pods:
        if pod.namespace != svc.namespace or not svc.selects(pod.labels) or not pod.ip or \
                pod.phase in ("Succeeded", "Failed"):
            continue
        named = {n: v for c in pod.containers for n, v in c.named_ports.items()}
        ports = []
        for p in svc.ports:
            target = p.target_port or str(p.port)
            number = int(target) if target.isdigit() else named.get(target)
            if number is not None:
                ports.append(EndpointPort(p.name, number, p.protocol))
        ready = pod.phase == "Running" and bool(pod.containers) and all(c.ready for c in pod.containers)
        out.append(Endpoint([pod.ip], ready=ready, target_kind="Pod", target_name=pod.name, node=pod.node_name,
                            ports=ports))
    return sorted(out, key=lambda e: (e.target_name, e.addresses))


@dataclass
class Service:
    name: str
    namespace: str
    type: str = "ClusterIP"
    ports: list[ServicePort] = field(default_factory=list)
    selector: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    cluster_ip: str = ""
    external_name: str = ""
    cluster: str = ""
    cluster_ips: list[str] = field(default_factory=list)  # every IP family's (dual stack), the first is cluster_ip
    external_ips: list[str] = field(default_factory=list)  # spec.externalIPs
    # a LoadBalancer's addresses (its status' ingress IPs or host names): [] while the cloud gives none
    # yet, None when not read (an older snapshot)
    load_balancer: list[str] | None = None
    # the addresses behind it, from its EndpointSlices; None when not known (not readable, or an older
    # snapshot)
    endpoints: list[Endpoint] | None = None

    def selects(self, labels: Mapping[str, str]) -> bool:
        return bool(self.selector) and all(labels.get(k) == v for k, v in self.selector.items())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(obj: Mapping[str, Any], where: str = "service") -> Service:
        endpoints = obj.get("endpoints") if isinstance(obj, Mapping) else None
        s: Service = _build(Service, obj, where, ("ports", "endpoints") if endpoints is not None else ("ports",))
        s.ports = [_build(ServicePort, p, f"{where}.ports[{i}]") for i, p in enumerate(_items(obj, "ports", where))]
        if endpoints is not None:
            s.endpoints = [Endpoint.from_json(e, f"{where}.endpoints[{i}]")
                           for i, e in enumerate(_items(obj, "endpoints", where))]
        return s


# the Istio config read from the whole cluster (``Inventory.outside_config``): Kiali applies ServiceEntries,
# DestinationRules and VirtualServices to the graph from anywhere, and judges the mTLS of DestinationRules
# and PeerAuthentications against the mesh-wide PeerAuthentications of the root namespace
OUTSIDE_CONFIG_KINDS = ("ServiceEntry", "DestinationRule", "VirtualService", "PeerAuthentication")
# ``Inventory.hidden``'s key prefix for such a kind whose cluster-wide list was forbidden: the selected
# namespaces' were read, the rest of the cluster's are unknown
OUTSIDE = "~"

ISTIO_KINDS = ("VirtualService", "DestinationRule", "ServiceEntry", "Gateway", "Sidecar",
               "PeerAuthentication", "AuthorizationPolicy", "WorkloadEntry", "RequestAuthentication",
               "EnvoyFilter", "WorkloadGroup", "Telemetry", "WasmPlugin", "ProxyConfig")


@dataclass
class IstioObject:
    """An Istio config object as the cluster serves it: ``spec`` kept whole, whatever fields it has."""

    kind: str
    name: str
    namespace: str
    api_version: str = "networking.istio.io/v1"
    spec: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    resource_version: str = ""
    cluster: str = ""
    created: str = ""  # its creationTimestamp ("" when not known): Istio applies the oldest of rival policies
    # what its controller reports (kept for Gateway API objects only: their conditions say whether the
    # controller accepted and programmed them); never part of the manifest meshdesk writes
    status: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.status:
            del out["status"]  # snapshots of objects without one stay as they were
        return out

    @staticmethod
    def from_json(obj: Mapping[str, Any], where: str = "Istio object") -> IstioObject:
        o: IstioObject = _build(IstioObject, obj, where)
        return o

    @property
    def gateway_api(self) -> bool:
        """Whether it is a Kubernetes Gateway API object (``GATEWAY_API_KINDS``), not Istio's own."""
        return self.kind in GATEWAY_API_KINDS

    def to_manifest(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if self.labels:
            meta["labels"] = dict(self.labels)
        if self.annotations:
            meta["annotations"] = dict(self.annotations)
        if self.resource_version:
            meta["resourceVersion"] = self.resource_version
        # a Gateway API object under the kind its API gives it ("HTTPRoute", not Kiali's "K8sHTTPRoute")
        kind = GATEWAY_API_KINDS.get(self.kind, self.kind)
        return {"apiVersion": self.api_version, "kind": kind, "metadata": meta, "spec": self.spec}


@dataclass(frozen=True)
class Istiod:
    """One control plane, an istiod revision, as its pods show it."""

    namespace: str
    revision: str = ""  # "" for the default revision
    version: str = ""  # the tag of its discovery image ("1.24.2"); "" when the image says none
    pods: int = 0
    ready: int = 0  # pods running with every container ready
    # the cluster it runs in, of a mesh of several read together (a context's linked contexts): "" for
    # the inventory's own cluster (and in a snapshot written before clusters were kept apart)
    cluster: str = ""
    # its ``CLUSTER_ID`` (the cluster it configures: its own, or, as an external control plane, another's);
    # "" when its pods do not say. (Neither this nor the next is compared: facts of its env, not which one it is.)
    cluster_id: str = field(default="", compare=False)
    # whether it may manage remote clusters (``EXTERNAL_ISTIOD=true``, set on a primary of a primary-remote
    # mesh); None when not known (a snapshot written before it was kept)
    manages_external: bool | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("cluster", "cluster_id"):
            if not out[key]:
                del out[key]  # (one cluster's snapshot reads as before)
        if self.manages_external is None:
            del out["manages_external"]
        return out


def image_tag(image: str) -> str:
    """An image's tag, the version a person reads ("docker.io/istio/proxyv2:1.24.2" -> "1.24.2"); "" for
    an image pinned by digest alone or without a tag (a registry's port is no tag)."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[-1] if ":" in name else ""


def release(tag: str) -> str:
    """An Istio image tag as the release it is (``1.24.2-distroless`` and ``1.24.2-debug`` are 1.24.2),
    to compare the versions of proxies and control planes."""
    for variant in ("-distroless", "-debug"):
        if tag.endswith(variant):
            return tag[: -len(variant)]
    return tag


DEFAULT_TRUST_DOMAIN = "cluster.local"  # Istio's trust domain when the mesh config names none


def exported_to(export: Sequence[str], own: str, namespace: str) -> bool:
    """Whether an object of namespace ``own`` exported to ``export`` is seen in ``namespace`` (empty:
    everywhere; ``*`` everywhere, ``.`` its own, ``~`` nowhere, else a namespace's name)."""
    return not export or any(e == "*" or e == namespace or (e == "." and own == namespace) for e in export)


# the kinds the mesh config gives a default exportTo, and MeshConfig's fields for them
_EXPORT_FIELDS = {"ServiceEntry": "default_service_export_to",
                  "VirtualService": "default_virtual_service_export_to",
                  "DestinationRule": "default_destination_rule_export_to"}
OUTBOUND_POLICIES = ("ALLOW_ANY", "REGISTRY_ONLY")  # the mesh config's outboundTrafficPolicy modes
# the kinds of extension provider that make an external authorizer (a CUSTOM AuthorizationPolicy's provider)
EXT_AUTHZ_KINDS = ("envoyExtAuthzHttp", "envoyExtAuthzGrpc")


@dataclass(frozen=True)
class MeshConfig:
    """What meshdesk uses of Istio's mesh config (the ``mesh`` key of the control plane's ``istio``
    ConfigMap, ``istio-<revision>`` for a revision), Istio's defaults where it says nothing. Not the
    same thing as ``Inventory.mesh_config(kind)``, the Istio objects of the whole cluster.

    ``source`` names the ConfigMap read ("istio-system/istio"); "" when none was. ``unread`` says why
    not (forbidden, absent, not YAML...), and then every value is Istio's default: checks that need
    the real value (a principal's foreign trust domain) are not made."""

    root_namespace: str = ISTIO_NAMESPACE  # where mesh-wide PeerAuthentications and Sidecars live
    auto_mtls: bool = True  # enableAutoMtls
    trust_domain: str = DEFAULT_TRUST_DOMAIN
    trust_domain_aliases: tuple[str, ...] = ()
    outbound_policy: str = "ALLOW_ANY"  # outboundTrafficPolicy.mode
    # defaultServiceExportTo, defaultVirtualServiceExportTo, defaultDestinationRuleExportTo: where an
    # object of the kind that sets no exportTo is visible (empty: everywhere, Istio's default)
    default_service_export_to: tuple[str, ...] = ()
    default_virtual_service_export_to: tuple[str, ...] = ()
    default_destination_rule_export_to: tuple[str, ...] = ()
    source: str = ""
    revision: str = ""  # the istiod revision whose config this is ("" for the default one)
    revisions: tuple[str, ...] = ()  # every revision found running, when more than one
    unread: str = ""
    # the mesh's ID (``defaultConfig.meshId``; "" when it sets none: Istio then takes the trust domain) and
    # the cluster's network (the ``topology.istio.io/network`` label of the control plane's namespace, as
    # Istio's multi-network install sets it and Kiali reads it; "" when none)
    mesh_id: str = ""
    network: str = ""
    # extensionProviders: name -> its kind (the key of its settings: envoyExtAuthzHttp, envoyExtAuthzGrpc,
    # zipkin ...); only names and kinds are kept, never the settings (they may hold secrets). None when
    # not known (the config unread, or a snapshot written before they were kept)
    extension_providers: dict[str, str] | None = None

    @property
    def authz_providers(self) -> list[str] | None:
        """The extension providers an AuthorizationPolicy's CUSTOM action may name (external
        authorizers), sorted; None when not known."""
        if self.extension_providers is None or not self.read:
            return None
        return sorted(n for n, k in self.extension_providers.items() if k in EXT_AUTHZ_KINDS)

    @property
    def read(self) -> bool:
        """Whether the values are the cluster's own, not defaults assumed in its place."""
        return bool(self.source) and not self.unread

    @property
    def trust_domains(self) -> tuple[str, ...]:
        """The trust domain and its aliases: the identities Istio takes as this mesh's."""
        return (self.trust_domain, *(a for a in self.trust_domain_aliases if a != self.trust_domain))

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["trust_domain_aliases"] = list(self.trust_domain_aliases)
        out["revisions"] = list(self.revisions)
        for k in _EXPORT_FIELDS.values():
            out[k] = list(getattr(self, k))
        return out

    @staticmethod
    def from_json(obj: Any, where: str = "mesh_settings") -> MeshConfig:
        if not isinstance(obj, Mapping):
            raise ValueError(f"{where} must be an object")
        lists = ("trust_domain_aliases", "revisions", *_EXPORT_FIELDS.values())
        for k in lists:
            if not _fits(obj.get(k, []), list[str]):
                raise ValueError(f"{where}.{k} must be a list of texts")
        built: MeshConfig = _build(MeshConfig, {k: v for k, v in obj.items() if k not in lists}, where)
        values: dict[str, Any] = {k: tuple(obj.get(k, ())) for k in lists}
        return replace(built, **values)

    def export_to(self, obj: IstioObject) -> list[str]:
        """Where ``obj`` is exported, as Istio reads it: its own ``exportTo`` (the texts of it, trimmed),
        or when that is absent or empty the mesh's default for its kind (``defaultServiceExportTo`` and
        the like); empty for everywhere."""
        spec = obj.spec if isinstance(obj.spec, dict) else {}
        raw = spec.get("exportTo")
        own = [e.strip() for e in raw if isinstance(e, str)] if isinstance(raw, list) else []
        field_name = _EXPORT_FIELDS.get(obj.kind)
        return own or (list(getattr(self, field_name)) if field_name else [])


# what an inventory from a snapshot written before meshdesk read the mesh config says of it
NOT_IN_SNAPSHOT = "this snapshot was written before meshdesk kept the mesh config"


@dataclass
class ClusterMeshConfig:
    """Another cluster's own Istio mesh config (of a mesh read over several contexts): each cluster's istiod
    configures its own proxies, so its automatic mTLS and the rest are that cluster's; what an ``Inventory``
    keeps of it in ``mesh_settings``, ``revision_settings`` and ``revision_tags`` for its own cluster."""

    mesh_settings: MeshConfig = field(default_factory=MeshConfig)
    revision_settings: dict[str, MeshConfig] = field(default_factory=dict)
    revision_tags: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mesh_settings": self.mesh_settings.to_json()}
        if self.revision_settings:
            out["revision_settings"] = {rev: c.to_json() for rev, c in self.revision_settings.items()}
        if self.revision_tags:
            out["revision_tags"] = dict(self.revision_tags)
        return out

    @staticmethod
    def from_json(obj: Any, where: str) -> ClusterMeshConfig:
        if not isinstance(obj, Mapping):
            raise ValueError(f"{where} must be an object")
        per_revision = obj.get("revision_settings") or {}
        if not isinstance(per_revision, Mapping) or not all(isinstance(k, str) for k in per_revision):
            raise ValueError(f"{where}.revision_settings must map revisions to mesh configs")
        tags = obj.get("revision_tags") or {}
        if not _fits(tags, dict[str, str]):
            raise ValueError(f"{where}.revision_tags must map tags to revisions")
        return ClusterMeshConfig(
            MeshConfig.from_json(obj.get("mesh_settings"), f"{where}.mesh_settings"),
            {rev: MeshConfig.from_json(c, f"{where}.revision_settings[{rev!r}]") for rev, c in per_revision.items()},
            dict(tags))


@dataclass
class App:
    """Workloads sharing an app label (derived, never stored)."""

    name: str
    namespace: str
    workloads: list[Workload]

    @property
    def versions(self) -> list[str]:
        return sorted({w.version for w in self.workloads if w.version})


@dataclass
class Inventory:
    """Everything found in the selected namespaces of one cluster."""

    cluster: str = ""
    namespaces: list[Namespace] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    istio: list[IstioObject] = field(default_factory=list)
    istio_found: bool = True  # False when Istio's CRDs are not served
    # what could not be read, e.g. {"bookinfo/pods": "forbidden"}: shown, never fatal
    hidden: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Istio ingress/egress gateway workloads and Gateway objects in namespaces outside the selection:
    # Kiali marks gateway nodes from the whole cluster, and the usual gateway lives in istio-system
    outside_gateways: list[Workload] = field(default_factory=list)
    outside_gateway_configs: list[IstioObject] = field(default_factory=list)
    # the Kubernetes Gateway API's Gateways in the whole cluster (kind "K8sGateway", as Kiali names it):
    # the workloads Istio runs for them are gateway nodes too (ambient waypoints are such Gateways)
    k8s_gateways: list[IstioObject] = field(default_factory=list)
    # ServiceEntries, DestinationRules and VirtualServices in namespaces outside the selection: Kiali
    # applies them to the graph from the whole cluster (ServiceEntries often live in a namespace of
    # their own, and a rule may be written beside the client rather than the service); and the
    # PeerAuthentications there, the mesh-wide ones of the root namespace among them (mTLS checks)
    outside_config: list[IstioObject] = field(default_factory=list)
    # the names of every namespace of the cluster (the selection is a part of them), as far as the user
    # may list them; None when that is not known (listing namespaces forbidden, or a snapshot written
    # before they were kept): what names no namespace can then not be told
    cluster_namespaces: list[str] | None = None
    # Istio's mesh config, as far as it was read (``MeshConfig.unread`` says why not)
    mesh_settings: MeshConfig = field(default_factory=MeshConfig)
    # of several istiod revisions, each one's mesh config by revision ("" for the default one), the
    # one of ``mesh_settings`` among them; empty with one control plane (or a snapshot written before
    # they were kept): ``mesh_settings`` is then every namespace's
    revision_settings: dict[str, MeshConfig] = field(default_factory=dict)
    # Istio's revision tags (``istioctl tag set``: MutatingWebhookConfigurations labelled ``istio.io/tag``):
    # tag -> the revision it points at ("" for the default one); the tag "default" takes the namespaces
    # of ``istio-injection=enabled``. Empty when there are none, or they could not be listed
    revision_tags: dict[str, str] = field(default_factory=dict)
    # the Gateway API's GatewayClasses of the cluster (they are cluster-wide): name -> its controller
    # (``spec.controllerName``); None when not known (not served, not readable, or an older snapshot):
    # Gateways' classes are then not judged
    gateway_classes: dict[str, str] | None = None
    # the Gateway API kinds the cluster serves (Kiali's names, ``GATEWAY_API_KINDS``); None when not known
    # (API discovery failed, or a snapshot): the forms that create them are then offered, the server decides
    gateway_api_kinds: list[str] | None = None
    # the Istio kinds (Kiali's names) that API discovery found the cluster does not serve, e.g. the
    # security.istio.io ones where that API group is not installed: none of them can exist (not a refusal,
    # nothing is missing from the view). None when not known (discovery failed, or an older snapshot)
    not_served: list[str] | None = None
    # the control planes (istiod revisions) running in the cluster, as far as their pods could be
    # listed (cluster-wide, else in istio-system); None when not known (not readable, or a snapshot
    # written before they were kept)
    control_planes: list[Istiod] | None = None
    # ambient mode's node proxies (the ztunnel DaemonSet, pods labelled app=ztunnel) outside the selection,
    # with their pods; None when they could not be listed (or a snapshot written before they were kept).
    # One of the selection is among ``workloads``
    ztunnels: list[Workload] | None = None
    # primary-remote: a cluster running no istiod of its own -> the clusters whose istiods manage it, as
    # Istio's ``topology.istio.io/controlPlaneClusters`` annotation of its istio-system says ("*": any
    # primary of the mesh); empty when none is said
    control_plane_clusters: dict[str, list[str]] = field(default_factory=dict)
    # of a mesh of several: the other clusters whose istiod pods could not be listed (their control
    # planes not known, while ``control_planes`` holds the rest)
    planes_not_known: list[str] = field(default_factory=list)
    # the clusters of a mesh of several (a context's linked contexts) that could not be read this time:
    # cluster name -> why, in words; what the others hold is kept, and their nodes keep their judgement
    unread_clusters: dict[str, str] = field(default_factory=dict)
    # the mesh configs of the mesh's other clusters read beside this one (a context's linked contexts):
    # cluster name -> its own; ``mesh_settings`` and the like stay this cluster's
    linked_mesh_configs: dict[str, ClusterMeshConfig] = field(default_factory=dict)
    # what the mesh's other clusters read beside this one would not let be read: cluster name -> its own
    # ``hidden`` (keyed as ``hidden`` is); ``hidden`` stays this cluster's, so west's 403 on pods in shop
    # is not taken for east's shop
    linked_hidden: dict[str, dict[str, str]] = field(default_factory=dict)

    # -- derived views -----------------------------------------------------------------
    def mesh_config(self, kind: str) -> list[IstioObject]:
        """The ``kind`` objects of the whole cluster as far as they were read: the selection's, then
        those outside it (``OUTSIDE_CONFIG_KINDS`` only)."""
        return self.istio_objects(kind) + [o for o in self.outside_config if o.kind == kind]

    def within(self, names: Iterable[str]) -> Inventory:
        """This inventory as if only the namespaces ``names`` had been read: their namespaces,
        workloads, services and Istio config; the Istio gateways of the others kept as gateways
        elsewhere (ingress and egress gateways, and the Gateway API's: ambient waypoints among them), as
        a cluster read keeps them."""
        chosen = set(names)
        return replace(
            self,
            namespaces=[n for n in self.namespaces if n.name in chosen],
            workloads=[w for w in self.workloads if w.namespace in chosen],
            services=[s for s in self.services if s.namespace in chosen],
            istio=[o for o in self.istio if o.namespace in chosen],
            outside_gateways=[*self.outside_gateways, *(
                w for w in self.workloads if w.namespace not in chosen
                and (w.labels.get("operator.istio.io/component") in GATEWAY_COMPONENTS
                     or GATEWAY_NAME_LABEL in w.labels))],
            outside_gateway_configs=[*self.outside_gateway_configs, *(
                o for o in self.istio if o.namespace not in chosen and o.kind == "Gateway")],
            hidden=dict(self.hidden), warnings=list(self.warnings), k8s_gateways=list(self.k8s_gateways),
            cluster_namespaces=None if self.cluster_namespaces is None else list(self.cluster_namespaces),
            gateway_classes=None if self.gateway_classes is None else dict(self.gateway_classes),
            control_planes=None if self.control_planes is None else list(self.control_planes),
            gateway_api_kinds=None if self.gateway_api_kinds is None else list(self.gateway_api_kinds),
            not_served=None if self.not_served is None else list(self.not_served),
            revision_settings=dict(self.revision_settings), revision_tags=dict(self.revision_tags),
            unread_clusters=dict(self.unread_clusters),
            control_plane_clusters={k: list(v) for k, v in self.control_plane_clusters.items()},
            planes_not_known=list(self.planes_not_known),
            ztunnels=None if self.ztunnels is None else list(self.ztunnels),
            linked_mesh_configs=dict(self.linked_mesh_configs),
            linked_hidden={k: dict(v) for k, v in self.linked_hidden.items()},
            outside_config=[*self.outside_config, *(
                o for o in self.istio if o.namespace not in chosen and o.kind in OUTSIDE_CONFIG_KINDS)],
        )

    def namespace(self, name: str) -> Namespace | None:
        return next((n for n in self.namespaces if n.name == name), None)

    def namespace_revision(self, name: str) -> str | None:
        """The istiod revision namespace ``name`` belongs to by its labels ("" for the default one,
        ``namespace_revision``), through a revision tag its label names (the tag "default" for the
        default revision's labels, as its webhook takes them); None when it is not read or no control
        plane takes it."""
        ns = self.namespace(name)
        return None if ns is None else self.resolve_revision(namespace_revision(ns.labels))

    def resolve_revision(self, rev: str | None) -> str | None:
        """A revision as labels name it, through the revision tags to the istiod revision it is."""
        if rev is None:
            return None
        return self.revision_tags.get(rev or "default", rev)

    def settings_for(self, namespace: str) -> MeshConfig:
        """The mesh config that judges ``namespace``'s objects: that of the istiod revision the
        namespace belongs to (each istiod configures its own proxies by its own config, as Kiali judges
        each namespace by its control plane's); ``mesh_settings`` when only one runs, or the
        namespace names none of those read. The root namespace is the mesh's (``mesh_settings``')
        whichever config it is: policies there are read as mesh-wide once, not once per revision."""
        if not self.revision_settings:
            return self.mesh_settings
        rev = self.namespace_revision(namespace)
        own = None if rev is None else self.revision_settings.get(rev)
        if own is None or own is self.mesh_settings:
            return self.mesh_settings
        return replace(own, root_namespace=self.mesh_settings.root_namespace)

    def unread(self, namespace: str, plurals: Iterable[str]) -> bool:
        """Whether any of these kinds (``pods``, ``deployments``...) could not be read in ``namespace``
        (``hidden`` names it there, or everywhere, or - for a namespace not selected - everywhere
        outside the selection): what the inventory lacks of them says nothing. Of a mesh of several clusters, in
        any of them (a namespace of that name in another cluster whose kinds could not be read is not known either:
        a caller asking of one cluster asks that cluster's part, ``graph.context.inventory_part``)."""
        for hidden in (self.hidden, *self.linked_hidden.values()):
            if any(f"{namespace}/{p}" in hidden or f"*/{p}" in hidden for p in plurals):
                return True
            outside = [p for p in plurals if f"{OUTSIDE}/{p}" in hidden]
            if outside and all(n.name != namespace for n in self.namespaces):
                return True
        return False

    def workload(self, namespace: str, name: str) -> Workload | None:
        return next((w for w in self.workloads if w.namespace == namespace and w.name == name), None)

    def outside_gateway(self, namespace: str, name: str) -> Workload | None:
        """A gateway workload read outside the selected namespaces (the usual ingress gateway in
        istio-system), None when there is none of that name."""
        return next((w for w in self.outside_gateways if w.namespace == namespace and w.name == name), None)

    def service(self, namespace: str, name: str) -> Service | None:
        return next((s for s in self.services if s.namespace == namespace and s.name == name), None)

    def apps(self, namespace: str | None = None) -> list[App]:
        groups: dict[tuple[str, str], list[Workload]] = {}
        for w in self.workloads:
            if w.app and (namespace is None or w.namespace == namespace):
                groups.setdefault((w.namespace, w.app), []).append(w)
        return [App(name, ns, ws) for (ns, name), ws in sorted(groups.items())]

    def istio_objects(self, kind: str, namespace: str | None = None) -> list[IstioObject]:
        return [o for o in self.istio if o.kind == kind and (namespace is None or o.namespace == namespace)]

    def workloads_for_service(self, svc: Service) -> list[Workload]:
        return [w for w in self.workloads if w.namespace == svc.namespace and svc.selects(w.labels)]

    def services_for_workload(self, w: Workload) -> list[Service]:
        return [s for s in self.services if s.namespace == w.namespace and s.selects(w.labels)]

    # -- JSON ----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cluster": self.cluster,
            "namespaces": [asdict(n) for n in self.namespaces],
            "workloads": [w.to_json() for w in self.workloads],
            "services": [s.to_json() for s in self.services],
            "istio": [o.to_json() for o in self.istio],
            "istio_found": self.istio_found,
            "hidden": dict(self.hidden),
            "warnings": list(self.warnings),
        }
        if self.outside_gateways or self.outside_gateway_configs:
            out["outside_gateways"] = [w.to_json() for w in self.outside_gateways]
            out["outside_gateway_configs"] = [o.to_json() for o in self.outside_gateway_configs]
        if self.k8s_gateways:
            out["k8s_gateways"] = [o.to_json() for o in self.k8s_gateways]
        if self.outside_config:
            out["outside_config"] = [o.to_json() for o in self.outside_config]
        if self.cluster_namespaces is not None:
            out["cluster_namespaces"] = list(self.cluster_namespaces)
        out["mesh_settings"] = self.mesh_settings.to_json()
        if self.revision_settings:
            out["revision_settings"] = {rev: c.to_json() for rev, c in self.revision_settings.items()}
        if self.revision_tags:
            out["revision_tags"] = dict(self.revision_tags)
        if self.gateway_classes is not None:
            out["gateway_classes"] = dict(self.gateway_classes)
        if self.control_planes is not None:
            out["control_planes"] = [c.to_json() for c in self.control_planes]
        if self.gateway_api_kinds is not None:
            out["gateway_api_kinds"] = list(self.gateway_api_kinds)
        if self.not_served is not None:
            out["not_served"] = list(self.not_served)
        if self.unread_clusters:
            out["unread_clusters"] = dict(self.unread_clusters)
        if self.ztunnels is not None:
            out["ztunnels"] = [w.to_json() for w in self.ztunnels]
        if self.control_plane_clusters:
            out["control_plane_clusters"] = {k: list(v) for k, v in self.control_plane_clusters.items()}
        if self.planes_not_known:
            out["planes_not_known"] = list(self.planes_not_known)
        if self.linked_mesh_configs:
            out["linked_mesh_configs"] = {k: v.to_json() for k, v in self.linked_mesh_configs.items()}
        if self.linked_hidden:
            out["linked_hidden"] = {k: dict(v) for k, v in self.linked_hidden.items()}
        return out

    @staticmethod
    def from_json(obj: Mapping[str, Any]) -> Inventory:
        """An inventory from a snapshot. A field of the wrong shape is a ValueError that says where
        (``workloads[2].replicas has the wrong type (list)``)."""
        if not isinstance(obj, Mapping):
            raise ValueError("'inventory' must be an object")

        def each(key: str, make: Any) -> list[Any]:
            return [make(item, f"{key}[{i}]") for i, item in enumerate(_items(obj, key, "inventory"))]

        hidden, warnings = obj.get("hidden") or {}, obj.get("warnings") or []
        if not _fits(hidden, dict[str, str]):
            raise ValueError("hidden must map names to texts")
        if not _fits(warnings, list[str]):
            raise ValueError("warnings must be a list of texts")
        cluster_namespaces = obj.get("cluster_namespaces")
        if not _fits(cluster_namespaces, list[str] | None):
            raise ValueError("cluster_namespaces must be a list of names")
        settings = obj.get("mesh_settings")
        gateway_classes = obj.get("gateway_classes")
        if not _fits(gateway_classes, dict[str, str] | None):
            raise ValueError("gateway_classes must map class names to controller names")
        api_kinds = obj.get("gateway_api_kinds")
        if not _fits(api_kinds, list[str] | None):
            raise ValueError("gateway_api_kinds must be a list of kinds")
        not_served = obj.get("not_served")
        if not _fits(not_served, list[str] | None):
            raise ValueError("not_served must be a list of kinds")
        planes = obj.get("control_planes")
        if planes is not None and not isinstance(planes, list):
            raise ValueError("control_planes must be a list")
        tags = obj.get("revision_tags") or {}
        if not _fits(tags, dict[str, str]):
            raise ValueError("revision_tags must map tags to revisions")
        per_revision = obj.get("revision_settings") or {}
        unread_clusters = obj.get("unread_clusters") or {}
        if not _fits(unread_clusters, dict[str, str]):
            raise ValueError("unread_clusters must map cluster names to texts")
        managed = obj.get("control_plane_clusters") or {}
        if not _fits(managed, dict[str, list[str]]):
            raise ValueError("control_plane_clusters must map cluster names to lists of cluster names")
        # (a snapshot of a meshdesk that kept the other clusters' control planes apart, cluster name -> its
        # istiods: read as each Istiod naming its cluster, a cluster's not known there not known)
        linked_planes = obj.get("linked_control_planes") or {}
        if not isinstance(linked_planes, Mapping) or not all(
                isinstance(k, str) and (v is None or isinstance(v, list)) for k, v in linked_planes.items()):
            raise ValueError("linked_control_planes must map cluster names to lists of control planes")
        not_known = obj.get("planes_not_known") or []
        if not _fits(not_known, list[str]):
            raise ValueError("planes_not_known must be a list of cluster names")
        not_known = [*not_known, *(name for name, theirs in linked_planes.items() if theirs is None)]
        if not isinstance(per_revision, Mapping) or not all(isinstance(k, str) for k in per_revision):
            raise ValueError("revision_settings must map revisions to mesh configs")
        linked_configs = obj.get("linked_mesh_configs") or {}
        if not isinstance(linked_configs, Mapping) or not all(isinstance(k, str) for k in linked_configs):
            raise ValueError("linked_mesh_configs must map cluster names to mesh configs")
        linked_hidden = obj.get("linked_hidden") or {}
        if not _fits(linked_hidden, dict[str, dict[str, str]]):
            raise ValueError("linked_hidden must map cluster names to what each could not read")
        return Inventory(
            cluster=str(obj.get("cluster") or ""),
            namespaces=each("namespaces", lambda n, where: _build(Namespace, n, where)),
            workloads=each("workloads", Workload.from_json),
            services=each("services", Service.from_json),
            istio=each("istio", IstioObject.from_json),
            istio_found=bool(obj.get("istio_found", True)),
            hidden=dict(hidden),
            warnings=list(warnings),
            outside_gateways=each("outside_gateways", Workload.from_json),
            outside_gateway_configs=each("outside_gateway_configs", IstioObject.from_json),
            k8s_gateways=each("k8s_gateways", IstioObject.from_json),
            outside_config=each("outside_config", IstioObject.from_json),
            cluster_namespaces=None if cluster_namespaces is None else list(cluster_namespaces),
            mesh_settings=MeshConfig(unread=NOT_IN_SNAPSHOT) if settings is None
            else MeshConfig.from_json(settings),
            gateway_classes=None if gateway_classes is None else dict(gateway_classes),
            control_planes=None if planes is None else [
                *(_build(Istiod, c, f"control_planes[{i}]") for i, c in enumerate(planes)),
                *(replace(_build(Istiod, c, f"linked_control_planes[{name!r}][{i}]"), cluster=name)
                  for name, theirs in linked_planes.items() for i, c in enumerate(theirs or ()))],
            gateway_api_kinds=None if api_kinds is None else list(api_kinds),
            not_served=None if not_served is None else list(not_served),
            revision_settings={rev: MeshConfig.from_json(c, f"revision_settings[{rev!r}]")
                               for rev, c in per_revision.items()},
            revision_tags=dict(tags),
            unread_clusters=dict(unread_clusters),
            control_plane_clusters={k: list(v) for k, v in managed.items()},
            planes_not_known=list(dict.fromkeys(not_known)),
            ztunnels=each("ztunnels", Workload.from_json) if obj.get("ztunnels") is not None else None,
            linked_mesh_configs={name: ClusterMeshConfig.from_json(c, f"linked_mesh_configs[{name!r}]")
                                 for name, c in linked_configs.items()},
            linked_hidden={k: dict(v) for k, v in linked_hidden.items()},
        )

    def merged(self, others: Iterable[Inventory]) -> Inventory:
        out = Inventory.from_json(self.to_json())
        for o in others:
            out.namespaces += o.namespaces
            out.workloads += o.workloads
            out.services += o.services
            out.istio += o.istio
            if o.cluster and o.cluster != out.cluster:
                if o.hidden:  # another cluster's refusals are its own (``hidden`` is this cluster's)
                    out.linked_hidden[o.cluster] = {**out.linked_hidden.get(o.cluster, {}), **o.hidden}
            else:
                out.hidden.update(o.hidden)
            for c, refused in o.linked_hidden.items():
                if c == out.cluster:
                    out.hidden.update(refused)
                else:
                    out.linked_hidden[c] = {**out.linked_hidden.get(c, {}), **refused}
            out.unread_clusters.update(o.unread_clusters)
            out.warnings += o.warnings
            out.outside_gateways += o.outside_gateways
            out.outside_gateway_configs += o.outside_gateway_configs
            out.k8s_gateways += o.k8s_gateways
            out.outside_config += o.outside_config
            out.cluster_namespaces = None if out.cluster_namespaces is None or o.cluster_namespaces is None \
                else sorted({*out.cluster_namespaces, *o.cluster_namespaces})
            # known only when every part knows them (as the cluster's namespaces)
            out.gateway_classes = None if out.gateway_classes is None or o.gateway_classes is None \
                else {**out.gateway_classes, **o.gateway_classes}
            out.gateway_api_kinds = None if out.gateway_api_kinds is None or o.gateway_api_kinds is None \
                else sorted({*out.gateway_api_kinds, *o.gateway_api_kinds})
            out.ztunnels = None if out.ztunnels is None or o.ztunnels is None else [*out.ztunnels, *o.ztunnels]
            for c, by in o.control_plane_clusters.items():
                out.control_plane_clusters[c] = list(dict.fromkeys([*out.control_plane_clusters.get(c, []), *by]))
            home = out.cluster
            out.planes_not_known = list(dict.fromkeys([*out.planes_not_known, *o.planes_not_known]))
            if o.control_planes is None:
                if o.cluster and o.cluster != home:
                    # another cluster's not known (its istiod pods not listed): said so, not taken for none
                    out.planes_not_known = list(dict.fromkeys([*out.planes_not_known, o.cluster]))
                continue
            if not o.cluster or o.cluster == home:
                # the same cluster's, read again: the later reading of its control planes stands
                out.control_planes = [*(p for p in out.control_planes or () if p.cluster and p.cluster != home),
                                      *o.control_planes]
            elif out.control_planes is not None or home in out.unread_clusters:
                # another cluster's: kept beside this one's, each naming its cluster (a merged inventory
                # whose own control planes are not known stays not known, unless its own cluster could not
                # be read at all: ``unread_clusters`` says that one's, and the others' stand)
                theirs = [replace(p, cluster=p.cluster or o.cluster) for p in o.control_planes]
                out.control_planes = [*(p for p in out.control_planes or () if (p.cluster or home) != o.cluster),
                                      *theirs]
        return out

    # -- clusters ------------------------------------------------------------------------
    def hidden_by_cluster(self) -> list[tuple[str, dict[str, str]]]:
        """What could not be read, by cluster: this cluster's ("" when it is the only one holding
        something hidden), then each other cluster's of the mesh, by name."""
        return [(self.cluster if self.linked_hidden else "", self.hidden),
                *((c, h) for c, h in sorted(self.linked_hidden.items()) if h)]

    def hidden_of(self, cluster: str) -> dict[str, str]:
        """What ``cluster`` would not let be read ("": this inventory's own cluster)."""
        return self.hidden if not cluster or cluster == self.cluster else self.linked_hidden.get(cluster, {})

    def clusters(self) -> list[str]:
        """The clusters this inventory holds something of, its own first ("" when it has no name)."""
        found = [self.cluster]
        found += [n.cluster for n in self.namespaces] + [w.cluster for w in (*self.workloads, *self.outside_gateways)]
        found += [p.cluster for p in self.control_planes or ()]
        return list(dict.fromkeys(c or self.cluster for c in found))

    def planes_of(self, cluster: str) -> list[Istiod] | None:
        """The control planes running in ``cluster`` (None: not known, as for a cluster not read)."""
        where = cluster or self.cluster
        if self.control_planes is None or where in self.unread_clusters or where in self.planes_not_known:
            return None
        return [p for p in self.control_planes if (p.cluster or self.cluster) == where]

    def managing_clusters(self, cluster: str) -> list[str]:
        """Primary-remote: the clusters whose istiods manage ``cluster``, which runs none of its own, decided
        as Kiali's mesh discovery decides it: an istiod elsewhere whose ``CLUSTER_ID`` is this cluster's
        name (an external control plane) manages it, annotation or none; else the clusters the
        ``topology.istio.io/controlPlaneClusters`` annotation of one of its namespaces names ("*": every
        other cluster running one), of those only the istiods that may manage a remote
        (``EXTERNAL_ISTIOD=true``; not known, of an older snapshot: taken as may). Empty for a cluster
        running its own, or when nothing says."""
        if self.planes_of(cluster):
            return []
        me = cluster or self.cluster
        running = [c for c in self.clusters() if c != me and self.planes_of(c)]
        external = [c for c in running if any(p.cluster_id == me for p in self.planes_of(c) or ())]
        if external:
            return external
        said = self.control_plane_clusters.get(me, [])
        named = running if "*" in said else [c for c in said if c in running]
        return [c for c in named if any(p.manages_external is not False for p in self.planes_of(c) or ())]
