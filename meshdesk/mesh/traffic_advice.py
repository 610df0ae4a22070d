"""What to do when a namespace shows no traffic: the advice of the app's empty state and of ``meshdesk graph``.

Istio's telemetry comes from the proxies. A namespace whose pods run no sidecar (and are not in ambient
mode) reports nothing, whatever is sent to it: sending requests does not help until the namespace is
labelled for injection and its workloads restarted. A namespace labelled after its pods started has
the same gap for those pods (injection changes new pods only): they need a restart. Only then does a
request loop (Istio's curl sample against one of its HTTP services) make the graph come alive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from meshdesk.mesh.graph.ambient import ambient_namespaces, is_ambient
from meshdesk.mesh.graph.istio import control_plane_namespaces
from meshdesk.mesh.inventory import Inventory, Service, ServicePort, Workload
from meshdesk.mesh.routing import port_protocol, restarts_for_injection
from meshdesk.mesh.words import counted

CURL_SAMPLE = "https://raw.githubusercontent.com/istio/istio/master/samples/curl/curl.yaml"
TRAFFIC_COMMAND = ("kubectl exec deploy/curl -n {ns} -- sh -c 'while true; do "
                   "curl -s http://{svc}.{ns}.svc.cluster.local:{port}{path}; sleep 1; done'")
# the samples' services and the path that answers on them
KNOWN_PATHS = {"helloworld": "/hello", "productpage": "/productpage"}
# what ``kubectl rollout restart`` restarts, by the name it takes
ROLLOUT_KINDS = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}
# ports that carry TLS or a protocol other than HTTP when their name does not say (curl gets no answer)
_NOT_HTTP_PORTS = frozenset((22, 25, 53, 443, 2181, 3306, 4222, 5432, 5672, 6379, 8443, 9042, 9092, 11211,
                             27017, 50051))
_HTTP = frozenset(("http", "http2", "http_proxy"))
_SHOWN = 5  # names given in a sentence before "and N more"


@dataclass
class MeshGap:
    """Why a namespace reports no traffic whatever is sent to it."""

    namespace: str
    # no sidecar injection (label), not ambient, and none of its pods runs a sidecar
    not_in_mesh: bool = False
    # injection is explicitly off (istio-injection=disabled): labelling needs --overwrite
    disabled: bool = False
    # the workloads that must restart to get a sidecar (started before injection was enabled, or, in a
    # namespace not in the mesh, once it is labelled); those that opt out are not among them
    restart: list[Workload] = field(default_factory=list)
    # the namespace's workloads of each kind ``restart`` holds (to restart a kind whole when all need it)
    kind_counts: dict[str, int] = field(default_factory=dict)
    # the namespace's labels could not be read: whether injection is on is not known, so a restart is
    # offered as what may help, and nothing is said of its labels
    labels_unknown: bool = False

    def label_command(self) -> str:
        return f"kubectl label namespace {self.namespace} istio-injection=enabled" + \
            (" --overwrite" if self.disabled else "")

    def restart_commands(self) -> list[str]:
        return rollout_restart(self.namespace, self.restart, self.kind_counts)

    def commands(self) -> list[str]:
        return ([self.label_command()] if self.not_in_mesh else []) + self.restart_commands()

    def others(self) -> list[Workload]:
        """Workloads to restart that ``kubectl rollout restart`` cannot (Jobs, CronJobs, ReplicaSets...):
        their pods must be made again."""
        return [w for w in self.restart if w.kind not in ROLLOUT_KINDS]

    def sentence(self) -> str:
        ns = self.namespace
        names = _names([w.name for w in self.restart])
        if self.not_in_mesh:
            why = "its sidecar injection is disabled" if self.disabled else \
                "it has no istio-injection=enabled (or istio.io/rev) label"
            text = (f"{ns} is not in the mesh: {why} and its pods run no sidecar, so Istio records none of its "
                    f"traffic. Label it for injection" + (" and restart its workloads" if self.restart else "")
                    + " (new pods get the sidecar).")
        elif self.labels_unknown:
            one = len(self.restart) == 1
            text = (f"In {ns}, {names} {'runs' if one else 'run'} without a sidecar and so "
                    f"{'reports' if one else 'report'} no traffic. {ns}'s labels could not be read: if it is "
                    f"labelled for sidecar injection, restart {'it' if one else 'them'} to get one "
                    "(injection changes new pods only).")
        else:
            them = "it" if len(self.restart) == 1 else "them"
            text = (f"In {ns}, {names} started before sidecar injection was enabled and "
                    f"{'runs' if len(self.restart) == 1 else 'run'} without a sidecar: restart {them} to get "
                    f"one; until then {'it reports' if len(self.restart) == 1 else 'they report'} no traffic.")
        others = self.others()
        if others:
            text += (" " + _names([f"{w.name} ({w.kind})" for w in others])
                     + " cannot be rolled out: delete " + ("its pods" if len(others) == 1 else "their pods")
                     + " (a CronJob's next run gets the sidecar).")
        return text


def rollout_restart(namespace: str, workloads: Sequence[Workload], kind_counts: dict[str, int] | None = None) -> list[str]:
    """``kubectl rollout restart`` lines for ``workloads`` (those of a kind it can restart): a kind whole
    (``deployment -n ns``) when ``kind_counts`` says all of the namespace's workloads of that kind are
    there, else the workloads by name."""
    by_kind: dict[str, list[str]] = {}
    for w in workloads:
        if w.kind in ROLLOUT_KINDS:
            by_kind.setdefault(w.kind, []).append(w.name)
    out = []
    for kind, names in by_kind.items():
        if len(names) > 1 and kind_counts is not None and len(names) == kind_counts.get(kind):
            out.append(f"kubectl rollout restart {ROLLOUT_KINDS[kind]} -n {namespace}")
        else:
            out.append(f"kubectl rollout restart -n {namespace} "
                       + " ".join(f"{ROLLOUT_KINDS[kind]}/{n}" for n in sorted(names)))
    return out


def mesh_gap(inv: Inventory, namespace: str) -> MeshGap | None:
    """What keeps ``namespace`` from reporting traffic (None: nothing the inventory can tell). The
    workloads to restart are those ``routing.restarts_for_injection`` names, as the action that enables
    injection lists them."""
    ns = inv.namespace(namespace)
    if ns is None or namespace in control_plane_namespaces(inv) or inv.unread(namespace, ("pods",)):
        return None
    wls = [w for w in inv.workloads if w.namespace == namespace]
    ambient = ambient_namespaces(inv)
    if ns.ambient or any(is_ambient(w, ambient) for w in wls):
        return None  # ztunnel carries the traffic: no sidecar needed, and capture needs no restart
    restart = sorted((w for w in wls if restarts_for_injection(w, True)), key=lambda w: w.name)
    kinds: dict[str, int] = {}
    for w in wls:
        kinds[w.kind] = kinds.get(w.kind, 0) + 1
    if inv.unread(namespace, ("namespace",)):
        # its labels were not read (Namespace(name) stands in for it): injection may be on, by either label
        return MeshGap(namespace, restart=restart, kind_counts=kinds, labels_unknown=True) if restart else None
    if not ns.injection_enabled:
        if any(w.has_sidecar for w in wls):
            return None  # some pods are injected on their own (a pod label): the mesh sees them
        return MeshGap(namespace, True, ns.labels.get("istio-injection") == "disabled", restart, kinds)
    return MeshGap(namespace, restart=restart, kind_counts=kinds) if restart else None


def mesh_gaps(inv: Inventory | None, namespaces: Sequence[str]) -> list[MeshGap]:
    if inv is None:
        return []
    return [g for g in (mesh_gap(inv, ns) for ns in namespaces) if g is not None]


def _http_score(port: ServicePort) -> int:
    """2: HTTP by its name or appProtocol; 1: nothing said (Istio sniffs) on a port that is not a usual
    TLS or database one; 0: curl would get no HTTP answer (TCP, TLS, gRPC, UDP)."""
    if not 1 <= port.port <= 65535:  # a port the cluster served as no number ("http"): read as 0, and the
        return 0  # request loop offered called http://svc.ns.svc.cluster.local:0/
    proto = port_protocol(port)
    if proto in _HTTP:
        return 2
    if proto == "" and port.port not in _NOT_HTTP_PORTS:
        return 1
    return 0


def traffic_target(inv: Inventory | None, namespaces: Sequence[str]) -> tuple[Service, ServicePort] | None:
    """The service and port a request loop should call: a port that speaks HTTP (named or appProtocol
    ``http*`` first, then one Istio sniffs that is no TLS or database port) of a Service with workloads
    behind it (a Service without selector has no pods of its own), the samples' first; None when no
    service fits."""
    if inv is None:
        return None
    candidates = []
    for i, svc in enumerate(inv.services):
        if svc.namespace not in namespaces or not svc.selector or svc.type == "ExternalName":
            continue
        behind = inv.workloads_for_service(svc)
        if not behind or all(w.labels.get("app") == "curl" for w in behind):
            continue  # nothing answers; or the curl client itself
        ports = sorted(((_http_score(p), -j, p) for j, p in enumerate(svc.ports)), key=lambda t: t[:2])
        if not ports or ports[-1][0] == 0:
            continue
        score, _, port = ports[-1]
        running = any(p.phase in ("Running", "") for w in behind for p in w.pods)
        known = 0 if svc.name == "helloworld" else 1 if svc.name == "productpage" else 2
        candidates.append(((known, -score, not running, namespaces.index(svc.namespace), i), svc, port))
    if not candidates:
        return None
    _, svc, port = min(candidates, key=lambda c: c[0])
    return svc, port


def traffic_command(inv: Inventory | None, namespaces: Sequence[str]) -> str:
    """kubectl lines that send requests to a service of the namespaces (``traffic_target``), starting
    Istio's curl sample first when its namespace has no ``curl`` deployment; "" when no service fits."""
    target = traffic_target(inv, namespaces)
    if inv is None or target is None:
        return ""
    svc, port = target
    ns = svc.namespace
    command = TRAFFIC_COMMAND.format(ns=ns, svc=svc.name, port=port.port, path=KNOWN_PATHS.get(svc.name, "/"))
    if inv.workload(ns, "curl") is None:
        command = f"kubectl apply -n {ns} -f {CURL_SAMPLE}\n{command}"
    return command


@dataclass
class NoTrafficAdvice:
    """What to tell someone whose namespaces show no traffic: ``gaps`` first (nothing is recorded until
    they are closed), then how to send requests."""

    gaps: list[MeshGap]
    traffic: str  # the request loop's commands, "" when no service fits
    namespaces: list[str]
    inventory_read: bool = True  # False: what the namespaces hold is not known (no service to suggest)
    none_exist: bool = False  # none of the namespaces chosen is in the cluster: no advice at all

    def traffic_sentence(self) -> str:
        if self.none_exist:  # nothing to send requests to
            return ""
        then = "Then, to generate traffic" if self.gaps else "To generate traffic"
        if self.traffic:
            return f"{then}, run for example:"
        where = ", ".join(self.namespaces) or "these namespaces"
        if not self.inventory_read:
            return f"{then}, send requests to one of the services of {where} from a client in the mesh."
        return (f"No Service in {where} has an HTTP port with workloads behind it, so no request loop is "
                f"suggested: {then[0].lower() + then[1:]}, send requests to one of its workloads, in the "
                "protocol it speaks, from a client in the mesh.")

    def script(self) -> list[str]:
        """The commands to copy, in order; with a gap to close first, each step headed by a shell comment."""
        if not self.gaps:
            return self.traffic.splitlines()
        out: list[str] = []
        for g in self.gaps:
            steps = g.commands()
            if steps:
                out.append(f"# put {g.namespace} in the mesh" if g.not_in_mesh else
                           f"# restart {g.namespace}'s workloads that have no sidecar")
                out += steps
        if self.traffic:
            out.append("# then send requests")
            out += self.traffic.splitlines()
        return out

    def lines(self) -> list[str]:
        """The advice as plain text, sentences followed by their commands (indented), for a terminal."""
        out: list[str] = []
        for g in self.gaps:
            out.append(g.sentence())
            out += [f"  {c}" for c in g.commands()]
        if self.traffic_sentence():
            out.append(self.traffic_sentence())
        out += [f"  {c}" for c in self.traffic.splitlines()]
        return out


def no_traffic_advice(inv: Inventory | None, namespaces: Sequence[str]) -> NoTrafficAdvice:
    chosen = list(namespaces)
    if inv is not None and inv.cluster_namespaces is not None and chosen:
        # a namespace the cluster does not have is said to be missing (meshdesk graph's warning, the empty
        # view's sentence): no advice of a Service it lacks or a request loop is given for it
        chosen = [ns for ns in chosen if ns in inv.cluster_namespaces]
        if not chosen:
            return NoTrafficAdvice([], "", [], True, none_exist=True)
    # services or pods RBAC hid: that none was found to call says nothing of what the namespace has
    read = inv is not None and not any(inv.unread(ns, ("services", "pods")) for ns in chosen)
    return NoTrafficAdvice(mesh_gaps(inv, chosen), traffic_command(inv, chosen), chosen, read)


def _names(names: Sequence[str]) -> str:
    shown = list(names[:_SHOWN])
    more = len(names) - len(shown)
    if more:
        return ", ".join(shown) + f" and {counted(more, 'other')}"
    if len(shown) < 2:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]
