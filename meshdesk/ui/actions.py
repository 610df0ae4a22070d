"""Traffic and security actions on what is selected in the graph: on a service (traffic shifting,
request routing, fault injection, timeouts and retries, circuit breaking, TLS, load balancing, its Gateway API
HTTPRoute (Kiali's "K8s Request Routing"), deleting the routing meshdesk created for it), on a workload (mTLS mode, an AuthorizationPolicy, a Sidecar or a RequestAuthentication
selecting it), on a namespace (sidecar injection, mTLS mode, a ServiceEntry, an AuthorizationPolicy, Kiali's
Create and Delete Traffic Policies, a Sidecar, a RequestAuthentication, a Gateway, a Kubernetes Gateway or ReferenceGrant, removing what
meshdesk created).

``ActionsController(source, settings, parent)`` gives the main window ``menu_for(selection, graph,
inventory)`` (a context menu) and ``actions_for(...)`` (QActions for a panel or toolbar). In read-only
mode, or on a source that takes no writes (a snapshot file), there are no actions at all. An action the
user's RBAC forbids is shown disabled, with the reason as its tooltip (RBAC is asked on worker threads,
one rules review per namespace: an action whose answer has not come yet is shown disabled, "Checking
your permissions…", and updated in place when it comes, in a menu still open); so are the HTTP actions of a
service that carries TCP only, which gets TCP traffic shifting instead. Each action opens a
``ChangeDialog``; ``applied(summary)`` is emitted after a successful write.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, cast

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QProxyStyle, QStyle, QWidget

from meshdesk.mesh.ambient_checks import ztunnel_missing
from meshdesk.mesh.changes import (
    AMBIENT_OFF,
    AMBIENT_ON,
    AMBIENT_REMOVE,
    REMOVE_INJECTION,
    RESTARTABLE,
    REVISION_MODE,
    no_routing_to_delete,
    restart_problem,
    routing_objects_of,
    waiting_for_restart,
    workload_mtls_problem,
)
from meshdesk.mesh.graph.context import inventory_part, merged
from meshdesk.mesh.graph.model import BOX_NAMESPACE, NODE_APP, NODE_BOX, NODE_SERVICE, NODE_WORKLOAD, Node
from meshdesk.mesh.inventory import GATEWAY_API_KINDS, K8S_GATEWAY, Inventory, IstioObject, Service, Workload
from meshdesk.mesh.k8s_gateway_config import REFERENCE_GRANT, gateway_api_missing
from meshdesk.mesh.k8s_route_config import (
    GRPC_ROUTE,
    HTTP_ROUTE,
    ROUTE_KINDS,
    http_route_misfit,
    http_routes_of,
    shown_route_kind,
)
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.routing import (
    current_routing,
    http_only_reason,
    managed_objects,
    mesh_route_problem,
    routes_service,
    tcp_only,
)
from meshdesk.mesh.schema import CRDSchemas
from meshdesk.mesh.security import DENY_ALL, form_misfit, shown_kind_name
from meshdesk.mesh.traffic_policies import delete_problem, made_objects, partial_traffic_problem
from meshdesk.sources.base import SourceError
from meshdesk.sources.inventory import read_inventory
from meshdesk.sources.writes import (
    PENDING_TEXT,
    RBAC_ANSWER_SECONDS,
    ClusterWriter,
    known_permission_problem,
    permission_problem,
    writer_for,
)
from meshdesk.ui.dialogs.authn_gateway_forms import GatewayForm, RequestAuthenticationForm
from meshdesk.ui.dialogs.change_dialog import ChangeDialog
from meshdesk.ui.dialogs.forms import (
    ActionForm,
    CircuitBreakingForm,
    FaultInjectionForm,
    GatewaysForm,
    InjectionForm,
    LoadBalancingForm,
    MtlsForm,
    NamespaceModeForm,
    RemovalForm,
    RequestRoutingForm,
    RestartForm,
    ServiceEntryForm,
    TimeoutsForm,
    TlsForm,
    TrafficShiftingForm,
)
from meshdesk.ui.dialogs.k8s_gateway_forms import K8sGatewayForm, ReferenceGrantForm
from meshdesk.ui.dialogs.k8s_route_forms import route_form_class
from meshdesk.ui.dialogs.security_forms import AuthorizationPolicyForm, SidecarForm
from meshdesk.ui.dialogs.traffic_policy_forms import DeleteTrafficPoliciesForm, TrafficPoliciesForm

log = logging.getLogger(__name__)

ROUTING_NEEDS = [("create", "VirtualService"), ("update", "VirtualService"), ("delete", "VirtualService"),
                 ("create", "DestinationRule"), ("update", "DestinationRule")]
# circuit breaking, TLS and load balancing write the service's DestinationRule only (its VirtualService stays as it is)
CIRCUIT_NEEDS = [("create", "DestinationRule"), ("update", "DestinationRule")]
MTLS_NEEDS = [("create", "PeerAuthentication"), ("update", "PeerAuthentication")]
ENTRY_NEEDS = [("create", "ServiceEntry"), ("update", "ServiceEntry")]
INJECTION_NEEDS = [("patch", "Namespace")]
DELETE_ROUTING_NEEDS = [("delete", "VirtualService"), ("delete", "DestinationRule")]
AUTHZ_NEEDS = [("create", "AuthorizationPolicy")]
SIDECAR_NEEDS = [("create", "Sidecar")]
REQUEST_AUTH_NEEDS = [("create", "RequestAuthentication")]
GATEWAY_NEEDS = [("create", "Gateway")]
K8S_GATEWAY_NEEDS = [("create", "K8sGateway")]  # the Kubernetes Gateway API's (gateway.networking.k8s.io)
REFERENCE_GRANT_NEEDS = [("create", "K8sReferenceGrant")]
REMOVAL_NEEDS = [("delete", "VirtualService"), ("delete", "DestinationRule"), ("delete", "ServiceEntry"),
                 ("delete", "PeerAuthentication"), ("delete", "AuthorizationPolicy"), ("delete", "Sidecar"),
                 ("delete", "Gateway"), ("delete", "RequestAuthentication"), ("delete", "K8sGateway"),
                 ("delete", "K8sReferenceGrant"), ("delete", "K8sHTTPRoute"),
                 ("delete", "K8sGRPCRoute")]  # a Gateway meshdesk made for a service's routes (Gateways action)
# the namespace's own actions (listed after a separator, below those of the selected service or workload)
NAMESPACE_ACTIONS = ("injection", "deny-all", "traffic-policies", "delete-traffic-policies", "remove-injection", "ambient-on", "ambient-off", "ambient-remove", "switch-revision",
                     "restart-waiting", "namespace-mtls", "service-entry", "authorization-policy",
                     "sidecar", "request-authentication", "gateway", "k8s-gateway", "reference-grant",
                     "edit-authorization-policy", "edit-sidecar", "edit-request-authentication", "edit-gateway",
                     "edit-k8s-gateway", "edit-reference-grant",
                     "remove")
# the namespace's actions on how it joins the mesh (its labels alone): what a namespace the graph does not show
# is offered from its Namespaces list row (its labels are listed; its workloads and config are not read)
MEMBERSHIP_ACTIONS = frozenset({"injection", "remove-injection", "ambient-on", "ambient-off", "ambient-remove",
                                "switch-revision"})
# the service actions that act on HTTP requests (matches, faults, timeouts and retries): none for TCP
HTTP_ONLY_ACTIONS = {"request-routing": "Request routing", "fault-injection": "Fault injection",
                     "timeouts": "Timeouts and retries"}


# how many objects of a namespace to edit in a form are listed in the menu itself (more: a submenu of each kind)
EDITS_IN_MENU = 12


class _ScrollingMenuStyle(QProxyStyle):
    """The application's style, with menus that scroll when taller than the screen (Fusion lays them
    out in columns instead, hundreds of entries a menu wider than the screen)."""

    def styleHint(self, hint: QStyle.StyleHint, option: Any = None, widget: Any = None,  # noqa: N802 - Qt's
                  returned: Any = None) -> int:
        if hint == QStyle.StyleHint.SH_Menu_Scrollable:
            return 1
        return int(super().styleHint(hint, option, widget, returned))


_LONG_MENU_WORD = re.compile(r"\S{49,}")


def _menu_text(text: str) -> str:
    """An action's text with a word longer than 48 characters (a name at Kubernetes' limit of 253) cut to
    its start and end around an ellipsis; its tooltip says it whole."""
    return _LONG_MENU_WORD.sub(lambda m: f"{m.group(0)[:32]}\u2026{m.group(0)[-14:]}", text)


def _scrolling_menu(title: str, parent: QWidget) -> QMenu:
    menu = QMenu(title, parent)
    style = _ScrollingMenuStyle()  # of the application's style, which it does not take over
    style.setParent(menu)
    menu.setStyle(style)
    return menu


CONTEXT_LEFT_TEXT = ("The cluster connection changed since this menu was opened (another context, or its settings): "
                     "open the menu again")


@dataclass
class ActionSpec:
    """One action offered for a selection (what ``actions_for`` turns into a QAction)."""

    key: str  # e.g. "traffic-shifting"
    text: str
    namespace: str
    needs: list[tuple[str, str]]
    make_form: Callable[[Inventory], ActionForm]
    problem: str = ""  # why it is disabled ("" = enabled)
    pending: bool = False  # its RBAC answer is being asked (shown disabled, updated when it comes)
    # the submenu it goes in when its namespace has too many objects to edit for one menu, and its text there
    submenu: str = ""
    entry: str = ""
    # another cluster's of the mesh (a linked context's): where it writes and asks RBAC, and that cluster's
    # own objects its form is made of; None and "": the shown context's
    writer: Any = None
    cluster: str = ""
    inventory: Inventory | None = None


# every (verb, kind) an action may need in a namespace: asked together when a graph is shown (the Gateway
# API's are not: on a cluster without it their items are disabled without asking, so asking them there cost
# an access review each a namespace; where it is installed they are asked when a menu shows them)
ALL_NEEDS = sorted({need for group in (ROUTING_NEEDS, CIRCUIT_NEEDS, MTLS_NEEDS, ENTRY_NEEDS, INJECTION_NEEDS,
                                       REMOVAL_NEEDS, DELETE_ROUTING_NEEDS, AUTHZ_NEEDS, SIDECAR_NEEDS,
                                       REQUEST_AUTH_NEEDS, GATEWAY_NEEDS,
                                       [("patch", "Deployment"), ("update", "AuthorizationPolicy"),
                                        ("update", "Sidecar"), ("update", "RequestAuthentication"),
                                        ("update", "Gateway")])
                    for need in group if need[1] not in GATEWAY_API_KINDS})


class ActionsController(QObject):
    applied = Signal(str)  # the summary of a change that was applied
    wrote = Signal()  # a change was written, wholly or in part
    dialogOpened = Signal(object)  # the ChangeDialog, so tests and the window can follow it
    # the RBAC answers of a namespace came (from a worker thread; delivered on the GUI thread): the
    # actions shown pending are updated in place, and other views (the config view's buttons) follow
    permissionsKnown = Signal(str)
    _answered = Signal(str)  # from the worker thread

    def __init__(self, source: Any, settings: Any, parent: QWidget | None = None) -> None:
        """``settings``: anything with ``read_only`` (the settings store), or a function returning it
        (when the window may swap its settings object)."""
        super().__init__(parent)
        self.settings = settings
        self._parent = parent
        self.source: Any = None
        self.writer: Any = None
        self._cluster_writers: dict[str, Any] = {}  # another cluster's of the mesh: its own context's writer
        # the CRD schemas read, with the writer they were read through (a context left keeps its own)
        self._schemas: tuple[Any, tuple[CRDSchemas, list[str]]] | None = None
        self.dialog: ChangeDialog | None = None
        self.menu: QMenu | None = None  # the window's Actions menu, when installed there
        self.popup_menu: QMenu | None = None  # the canvas's context menu while it is open
        # RBAC questions are asked on worker threads, one per namespace at a time: (writer, namespace) ->
        # the needs still to ask; the thread takes them until none is left
        self._rbac_lock = threading.Lock()
        self._wanted: dict[tuple[Any, str], set[tuple[str, str]]] = {}
        self._workers: dict[tuple[Any, str], threading.Thread] = {}
        self._asking = threading.BoundedSemaphore(4)
        self._stopped = threading.Event()  # the window closed: the workers stop after the question under way
        # (writer, namespace) -> when asking failed: its actions are enabled (the server decides on apply)
        self._failed: dict[tuple[Any, str], float] = {}
        # actions shown "checking your permissions…": updated in place when their namespace's answers come
        self._pending: list[tuple[QAction, ActionSpec, Inventory]] = []
        # every action handed out for the current source: a context switch disables those still shown
        self._handed: list[QAction] = []
        self._answered.connect(self._on_answered, Qt.ConnectionType.QueuedConnection)
        self.set_source(source)

    def set_source(self, source: Any) -> None:
        """A new source (context switch): forget cached RBAC answers, versions and schemas. The actions of
        a menu still open belong to the context left (their forms hold its inventory): they are disabled
        with the reason, not enabled by the new context's answers nor opened against its cluster."""
        for action in getattr(self, "_handed", ()):
            if shiboken6.isValid(action):
                action.setProperty("pending", False)
                action.setEnabled(False)
                action.setToolTip(CONTEXT_LEFT_TEXT)
                action.setStatusTip(CONTEXT_LEFT_TEXT)
        self._handed, self._pending = [], []
        self.source = source
        self.writer = writer_for(source) if source is not None else None
        self._cluster_writers = {}
        self._schemas = None
        # the failures of the context left: its writers (and their clients) are not kept alive by them
        self._failed = {}

    def _cluster_target(self, selection: Node | None, graph: Any,
                        inventory: Inventory) -> tuple[Any, Inventory, str] | None:
        """For another cluster's node of the mesh (a linked context's, read beside the shown one): that
        cluster's writer (over its own context's client), its part of the inventory, and its name; None for
        the shown cluster's node, or one whose cluster is not open."""
        if selection is None or not selection.cluster or selection.cluster == getattr(self.source, "cluster", None):
            return None
        nodes = getattr(graph, "nodes", None)
        part = inventory_part(inventory, {n.cluster for n in nodes.values()} if isinstance(nodes, dict)
                              else {selection.cluster})(selection.cluster)
        writer = self.cluster_writer(selection.cluster)
        if part is None or writer is None:
            return None
        return writer, part, selection.cluster

    def _shown_part(self, selection: Node | None, graph: Any, inventory: Inventory) -> Inventory | None:
        """What a merged inventory holds of the shown context's own cluster (the cluster of ``selection``,
        which is the shown one's; no selection: the shown one's), as the forms of the actions written there
        must see it; None when it holds nothing of it (the shown context could not be read)."""
        nodes = getattr(graph, "nodes", None)
        clusters = {n.cluster for n in nodes.values()} if isinstance(nodes, dict) else set()
        home = (selection.cluster if selection is not None and selection.cluster else "") \
            or str(getattr(self.source, "cluster", "") or "") or inventory.cluster
        return inventory_part(inventory, clusters | {home})(home)

    def cluster_writer(self, cluster: str) -> Any:
        """The writer of another cluster of the shown context's mesh (a linked context's, over its own API
        client: its login, its proxy-url), kept for the source as the shown one's is (its served versions and
        RBAC answers); None when the source has no such cluster open, or writes nowhere."""
        api_of = getattr(self.source, "api_of", None)
        if self.writer is None or not cluster or not callable(api_of) \
                or cluster == getattr(self.source, "cluster", None):
            return None
        writer = self._cluster_writers.get(cluster)
        if writer is None:
            api = api_of(cluster)
            if api is None:
                return None
            writer = self._cluster_writers[cluster] = ClusterWriter(
                api, timeout=float(getattr(self.source, "timeout", 30.0)), cluster=cluster)
        return writer

    @property
    def read_only(self) -> bool:
        settings = self.settings() if callable(self.settings) else self.settings
        return bool(getattr(settings, "read_only", False))

    @property
    def enabled(self) -> bool:
        return not self.read_only and self.writer is not None

    def no_writes_text(self) -> str:
        """Why nothing can be changed, with no writer: no cluster is open, or a snapshot file is. "This
        source takes no writes" told a first-time user with no cluster neither why nor what to do."""
        if self.source is None:
            return "No cluster is open: open the demo mesh or a context to change a mesh"
        return "An offline snapshot is shown: open the context it was taken from to change the mesh"

    # -- what is offered -------------------------------------------------------------------------
    def specs_for(self, selection: Node | None, graph: Any, inventory: Inventory | None,
                  only: Collection[str] | None = None) -> list[ActionSpec]:
        """The actions offered for ``selection`` (``only``: those of these keys)."""
        if not self.enabled or inventory is None or other_cluster(selection, graph, inventory):
            return []
        other = self._cluster_target(selection, graph, inventory)
        writer, cluster = (other[0], other[2]) if other is not None else (None, "")
        whole = inventory  # (the mesh's, of every cluster read: a caller of another cluster is looked up in it)
        own: Inventory | None = None
        if other is not None:
            own = other[1]  # that cluster's objects, not the shown one's of the same names
        elif merged(inventory) or inventory.cluster in inventory.unread_clusters:
            # the shown cluster's node (or its namespaces) in a mesh read over several contexts: its own
            # cluster's objects alone, not another cluster's VirtualService or workload of the same name
            # (none when it was not read: what is held is then the other clusters' alone)
            own = self._shown_part(selection, graph, inventory)
            if own is None:
                return []  # (the shown cluster was not read: what is held is the other clusters')
        if own is not None:
            inventory = own
        specs: list[ActionSpec] = []
        for svc in _services_of(selection, inventory):
            specs += self._service_specs(svc, inventory)
        for w in _workloads_of(selection, inventory):
            mtls = ActionSpec("workload-mtls", f"mTLS mode for workload {w.name}…", w.namespace, MTLS_NEEDS,
                              _form(MtlsForm, w.namespace, w))
            # said in the menu, not after the form is filled in and reviewed
            mtls.problem = workload_mtls_problem(inventory, w)
            specs.append(mtls)
            specs.append(ActionSpec("workload-authorization-policy", f"Add an AuthorizationPolicy for {w.name}…",
                                    w.namespace, AUTHZ_NEEDS, _form(AuthorizationPolicyForm, w.namespace, w)))
            specs.append(ActionSpec("workload-sidecar", f"Add a Sidecar for {w.name}…", w.namespace,
                                    SIDECAR_NEEDS, _form(SidecarForm, w.namespace, w, graph=graph)))
            specs.append(ActionSpec("workload-request-authentication", f"Add a RequestAuthentication for {w.name}…",
                                    w.namespace, REQUEST_AUTH_NEEDS, _form(RequestAuthenticationForm, w.namespace, w)))
            restart = ActionSpec("restart", f"Restart {w.name}…", w.namespace,
                                 [("patch", w.kind)] if w.kind in RESTARTABLE else [], _form(RestartForm, w.namespace, w))
            restart.problem = restart_problem(w)
            specs.append(restart)
        for ns in _namespaces_of(selection, graph, inventory):
            specs += self._namespace_specs(ns, inventory, graph, whole if own is not None else None)
        if only is not None:
            specs = [s for s in specs if s.key in only]
        for spec in specs:
            spec.writer, spec.cluster, spec.inventory = writer, cluster, own
            if not spec.problem:
                problem = self.known_problem(spec.needs, spec.namespace, writer)
                spec.pending = problem is None
                spec.problem = problem or ""
        return specs

    def _service_specs(self, svc: Service, inventory: Inventory) -> list[ActionSpec]:
        """A TCP-only service (by its ports' protocols, as Istio reads them) gets TCP traffic shifting,
        as Kiali offers it, and the HTTP actions disabled with the reason."""
        tcp = tcp_only(svc)
        out = []
        for key, form in (("traffic-shifting", TrafficShiftingForm), ("request-routing", RequestRoutingForm),
                          ("fault-injection", FaultInjectionForm), ("timeouts", TimeoutsForm),
                          ("circuit-breaking", CircuitBreakingForm), ("tls", TlsForm),
                          ("load-balancing", LoadBalancingForm), ("gateways", GatewaysForm)):
            title = "TCP traffic shifting" if tcp and key == "traffic-shifting" else form.title
            needs = CIRCUIT_NEEDS if key in ("circuit-breaking", "tls", "load-balancing") else ROUTING_NEEDS
            spec = ActionSpec(key, f"{title}…", svc.namespace, needs, _routing_form(form, svc, title))
            if tcp and key in HTTP_ONLY_ACTIONS:
                spec.problem = http_only_reason(svc, HTTP_ONLY_ACTIONS[key])
            elif form.edits_routes:  # (Gateways and the DestinationRule's forms keep the routes as they are)
                spec.problem = mesh_route_problem(inventory, svc, title)
            out.append(spec)
        out += self._http_route_specs(svc, inventory, tcp)
        out += self._http_route_specs(svc, inventory, tcp, GRPC_ROUTE)
        made = routing_objects_of(inventory, svc)
        # the rights to delete what it deletes: a Gateway meshdesk made for the service's routes too
        needs = [*DELETE_ROUTING_NEEDS, *(("delete", k) for k in sorted({o.kind for o in made})
                                          if ("delete", k) not in DELETE_ROUTING_NEEDS)]
        delete = ActionSpec("delete-routing", "Delete traffic routing…", svc.namespace, needs,
                            _form(RemovalForm, svc.namespace, svc))
        if not made:
            delete.problem = no_routing_to_delete(inventory, svc)
        out.append(delete)
        return out

    @classmethod
    def _http_route_specs(cls, svc: Service, inv: Inventory, tcp: bool, kind: str = HTTP_ROUTE) -> list[ActionSpec]:
        """Kiali's "K8s Request Routing" (its "K8s GRPC Routing" for ``kind`` GRPC_ROUTE): the service's
        HTTPRoute (GRPCRoute), opened to be edited when it has one; one entry each when it has several (each
        named), so the one the user picks is edited (Kiali's wizard reads none of several, and writes its own
        beside them)."""
        routes: list[IstioObject | None] = [*http_routes_of(inv, svc, kind)]
        return [cls._http_route_spec(svc, inv, tcp, kind, route) for route in routes or [None]]

    @staticmethod
    def _http_route_spec(svc: Service, inv: Inventory, tcp: bool, kind: str, route: IstioObject | None) -> ActionSpec:
        """The entry editing ``route`` (None: writing the service's first). As in Kiali, a service routed by
        one of the two kinds (or by a VirtualService) has the other's form off."""
        shown = shown_route_kind(kind)
        title = route_form_class(kind).title
        text = f"{title} ({shown} {route.name})…" if route is not None else f"{title}…"
        key = "k8s-grpc-routing" if kind == GRPC_ROUTE else "k8s-request-routing"
        spec = ActionSpec(key, text, svc.namespace, [("update", kind)] if route is not None else [("create", kind)],
                          _route_form(svc, route, kind))
        _routing, vs, _dr = current_routing(inv, svc)
        other = next((r for k in ROUTE_KINDS if k != kind for r in http_routes_of(inv, svc, k)), None)
        if problem := gateway_api_missing(inv, kind):
            spec.problem = problem
        elif tcp:
            spec.problem = http_only_reason(svc, title)
        elif route is not None:
            spec.problem = http_route_misfit(route, svc)
        elif other is not None:
            spec.problem = (f"Service {svc.namespace}/{svc.name} is routed by {shown_route_kind(other.kind)} "
                            f"{other.namespace}/{other.name}: edit that one ({route_form_class(other.kind).title}), "
                            f"or delete its traffic routing first, to write a {shown} instead.")
        elif vs is not None and routes_service(vs, svc):
            spec.problem = (f"Service {svc.namespace}/{svc.name} is routed by VirtualService {vs.namespace}/{vs.name}. "
                            "Istio routes a service's requests by a VirtualService or by a Gateway API route, not "
                            "both: delete its traffic routing first, or change the VirtualService.")
        return spec

    def _namespace_specs(self, ns: str, inv: Inventory, graph: Any = None,
                         mesh: Inventory | None = None) -> list[ActionSpec]:
        """``mesh``: the inventory of every cluster read, when ``inv`` is one cluster's part of it."""
        namespace = inv.namespace(ns)
        enabled = namespace.injection_enabled if namespace is not None else False
        out = [
            ActionSpec("injection", f"{'Disable' if enabled else 'Enable'} sidecar injection in {ns}…", ns,
                       INJECTION_NEEDS, _form(InjectionForm, ns, not enabled)),
            ActionSpec("namespace-mtls", f"mTLS mode for namespace {ns}…", ns, MTLS_NEEDS,
                       _form(MtlsForm, ns)),
            *self._mode_specs(ns, inv),
            self._restart_waiting_spec(ns, inv),
            ActionSpec("service-entry", f"Add a ServiceEntry in {ns}…", ns, ENTRY_NEEDS,
                       _form(ServiceEntryForm, ns)),
            self._deny_all_spec(ns, inv),
            *self._traffic_policy_specs(ns, inv, graph, mesh),
            ActionSpec("authorization-policy", f"Add an AuthorizationPolicy in {ns}…", ns, AUTHZ_NEEDS,
                       _form(AuthorizationPolicyForm, ns)),
            ActionSpec("sidecar", f"Add a Sidecar in {ns}…", ns, SIDECAR_NEEDS, _form(SidecarForm, ns, graph=graph)),
            ActionSpec("request-authentication", f"Add a RequestAuthentication in {ns}…", ns, REQUEST_AUTH_NEEDS,
                       _form(RequestAuthenticationForm, ns)),
            ActionSpec("gateway", f"Add a Gateway in {ns}…", ns, GATEWAY_NEEDS, _form(GatewayForm, ns)),
            ActionSpec("k8s-gateway", f"Add a Kubernetes Gateway in {ns}…", ns, K8S_GATEWAY_NEEDS,
                       _form(K8sGatewayForm, ns), problem=gateway_api_missing(inv, K8S_GATEWAY)),
            ActionSpec("reference-grant", f"Add a ReferenceGrant in {ns}…", ns, REFERENCE_GRANT_NEEDS,
                       _form(ReferenceGrantForm, ns), problem=gateway_api_missing(inv, REFERENCE_GRANT)),
        ]
        # the namespace's AuthorizationPolicies and Sidecars open in their form, prefilled; one with fields
        # the form does not know is offered disabled, saying so (the YAML editor keeps them)
        for kind, key, form in (("AuthorizationPolicy", "edit-authorization-policy", AuthorizationPolicyForm),
                                ("Sidecar", "edit-sidecar", SidecarForm),
                                ("RequestAuthentication", "edit-request-authentication", RequestAuthenticationForm),
                                ("Gateway", "edit-gateway", GatewayForm),
                                (K8S_GATEWAY, "edit-k8s-gateway", K8sGatewayForm),
                                (REFERENCE_GRANT, "edit-reference-grant", ReferenceGrantForm)):
            for obj in sorted(inv.istio_objects(kind, ns), key=lambda o: o.name):
                shown = shown_kind_name(kind)
                spec = ActionSpec(key, f"Edit {shown} {obj.name} in a form…", ns, [("update", kind)],
                                  _edit_form(form, obj, graph=graph if form is SidecarForm else None),
                                  submenu=f"Edit {'an' if shown[0] in 'AEIOU' else 'a'} {shown} in a form",
                                  entry=f"{obj.name}…")
                spec.problem = form_misfit(kind, obj.spec)
                out.append(spec)
        # the rights to delete what there is to delete: one who may not delete Sidecars can still remove
        # the VirtualServices meshdesk made where it made no Sidecar
        made = {o.kind for o in managed_objects(inv, ns)}
        removal = ActionSpec("remove", f"Remove meshdesk config in {ns}…", ns,
                             [need for need in REMOVAL_NEEDS if need[1] in made], _form(RemovalForm, ns))
        if not made:
            removal.problem = f"meshdesk created nothing in {ns}."
        out.append(removal)
        return out

    @staticmethod
    def _deny_all_spec(ns: str, inv: Inventory) -> ActionSpec:
        """The AuthorizationPolicy form filled in as a deny-all of the namespace (reviewed as any); disabled,
        saying so, when one denies all there already. (Create traffic policies adds what lets its traffic in.)"""
        spec = ActionSpec("deny-all", f"Deny all requests in {ns}…", ns, AUTHZ_NEEDS, _deny_all_form(ns))
        present = next((o for o in sorted(inv.istio_objects("AuthorizationPolicy", ns), key=lambda o: o.name)
                        if not o.spec), None)  # (an empty spec: nothing is allowed)
        if present is not None:
            spec.problem = (f"AuthorizationPolicy {ns}/{present.name} denies every request to {ns}'s workloads "
                            "already.")
        return spec

    @staticmethod
    def _traffic_policy_specs(ns: str, inv: Inventory, graph: Any, mesh: Inventory | None = None) -> list[ActionSpec]:
        """Kiali's "Create Traffic Policies" ("Update" once made) and "Delete Traffic Policies" of a namespace:
        the rights to create AuthorizationPolicies, and Sidecars outside ambient mode (to update and delete them
        too once made: an update deletes what the graph no longer asks for); creating needs the graph (the
        callers of each workload are read from it)."""
        namespace = inv.namespace(ns)
        kinds = ["AuthorizationPolicy"] + ([] if namespace is not None and namespace.ambient else ["Sidecar"])
        made = made_objects(inv, ns)
        create = ActionSpec("traffic-policies", f"{'Update' if made else 'Create'} traffic policies in {ns}…", ns,
                            [(verb, kind) for kind in kinds
                             for verb in (("create", "update", "delete") if made else ("create",))],
                            _form(TrafficPoliciesForm, ns, graph, mesh=mesh))
        if graph is None:
            create.problem = f"The traffic graph of {ns} is not shown: the policies are made from its callers."
        elif getattr(getattr(graph, "request", None), "graphType", "") == "service":
            create.problem = ("A service graph shows no workloads: show a workload or app graph, the policies are made "
                              "from the workloads it shows calling each other.")
        else:
            # what the graph leaves out would be denied (an update deletes the ALLOW policies of what it does
            # not show): a node graph, or traffic toggled off, is not all of the namespace's traffic
            create.problem = partial_traffic_problem(getattr(graph, "request", None),
                                                     namespace is not None and namespace.ambient)
        delete = ActionSpec("delete-traffic-policies", f"Delete traffic policies in {ns}…", ns,
                            sorted({("delete", o.kind) for o in made}), _form(DeleteTrafficPoliciesForm, ns))
        delete.problem = delete_problem(inv, ns)
        return [create, delete]

    @staticmethod
    def _mode_specs(ns: str, inv: Inventory) -> list[ActionSpec]:
        """Kiali's other actions on how a namespace joins the mesh: remove its injection labels (it has some);
        add it to ambient mode, or disable or remove that (it asks for no sidecar); switch it to another
        control plane revision (several run, and its labels name one)."""
        namespace = inv.namespace(ns)
        labels = namespace.labels if namespace is not None else {}
        out = []

        def spec(key: str, text: str, mode: str, problem: str = "") -> None:
            out.append(ActionSpec(key, text, ns, INJECTION_NEEDS, _form(NamespaceModeForm, ns, mode), problem=problem))

        sidecar_labels = "istio-injection" in labels or "istio.io/rev" in labels
        if sidecar_labels:
            spec("remove-injection", f"Remove the sidecar injection labels of {ns}…", REMOVE_INJECTION)
        else:
            if labels.get("istio.io/dataplane-mode") == "ambient":
                spec("ambient-off", f"Disable ambient mode in {ns}…", AMBIENT_OFF)
                spec("ambient-remove", f"Remove ambient mode from {ns}…", AMBIENT_REMOVE)
            else:
                # (as Kiali: offered where ztunnel runs, which takes the namespace's pods)
                spec("ambient-on", f"Enable ambient mode in {ns}…", AMBIENT_ON, ztunnel_missing(inv))
        current = labels.get("istio.io/rev") or ("default" if labels.get("istio-injection") == "enabled" else "")
        revisions = sorted({c.revision or "default" for c in inv.control_planes or ()})
        if current and len(revisions) > 1:
            for revision in revisions:
                if revision != current:
                    spec("switch-revision", f"Switch to istiod revision {revision} in {ns}…", REVISION_MODE + revision)
        return out

    @staticmethod
    def _restart_waiting_spec(ns: str, inv: Inventory) -> ActionSpec:
        """Restart, at once, the workloads of ``ns`` whose sidecar waits for a restart (injection turned on
        or off since they started); disabled, saying so, when none does."""
        waiting = waiting_for_restart(inv, ns)
        spec = ActionSpec("restart-waiting", f"Restart the workloads waiting to get or lose their sidecar in {ns}…", ns,
                          sorted({("patch", w.kind) for w in waiting}), _form(RestartForm, ns, waiting))
        if not waiting:
            spec.problem = (f"No workload in {ns} waits for a restart to get or lose its sidecar (its injection is as "
                            "its pods were started with).")
        return spec

    # -- RBAC, off the UI thread ----------------------------------------------------------------------
    def prefetch_permissions(self, namespaces: Any) -> None:
        """Ask RBAC, on a worker thread, everything the actions need in ``namespaces`` (one rules review a
        namespace), so the context menus open with their answers (the writer keeps each a minute)."""
        writer = self.writer
        if self.read_only or not hasattr(writer, "known_can_i"):
            return  # (another writer answers at once)
        for ns in namespaces or ():
            unknown = [need for need in ALL_NEEDS if known_permission_problem(writer, [need], str(ns)) is None]
            self.ask_permissions(unknown, str(ns))

    def known_problem(self, needs: list[tuple[str, str]], namespace: str, writer: Any = None) -> str | None:
        """Why RBAC forbids ``needs`` in ``namespace`` ("" when it allows them), from the answers known
        now; None while they are asked (a worker thread is started; ``permissionsKnown`` says when they
        come). Never calls the API server: safe on the UI thread. ``writer``: another cluster's of the mesh,
        asked instead of the shown one's."""
        writer = writer or self.writer
        if writer is None:
            return self.no_writes_text()
        if not needs:
            return ""
        try:
            problem = known_permission_problem(writer, needs, namespace)
        except SourceError as e:  # a writer that asks as it answers (not a cluster's)
            log.info("RBAC question failed, the server decides on apply: %s", e)
            return ""
        if problem is None:
            failed = self._failed.get((writer, namespace))
            if failed is not None and time.monotonic() - failed <= RBAC_ANSWER_SECONDS:
                return ""  # asking failed a moment ago: the server decides when the change is applied
            self.ask_permissions(needs, namespace, writer)
            # asked again a minute after the last answer: that answer is shown meanwhile, not "checking" (a
            # menu opened after a minute without a refresh greyed out what the user did a minute ago)
            try:
                problem = known_permission_problem(writer, needs, namespace, stale=True)
            except SourceError:
                problem = None
        return problem

    def ask_permissions(self, needs: list[tuple[str, str]], namespace: str, writer: Any = None) -> None:
        """Ask ``needs`` in ``namespace`` on a worker thread (a rules review, and an access review for
        what it does not grant), of ``writer``'s cluster (default: the shown one's);
        ``permissionsKnown(namespace)`` when they are answered."""
        writer = writer or self.writer
        if writer is None or not needs or self._stopped.is_set():
            return
        key = (writer, namespace)
        with self._rbac_lock:
            self._wanted.setdefault(key, set()).update(needs)
            running = self._workers.get(key)
            if running is not None and running.is_alive():
                return  # it takes the new needs before it stops
            worker = threading.Thread(target=self._ask, args=(key,), name=f"rbac-{namespace}", daemon=True)
            self._workers[key] = worker
        worker.start()

    def _ask(self, key: tuple[Any, str]) -> None:
        writer, namespace = key
        while True:
            with self._rbac_lock:
                needs = [] if self._stopped.is_set() else sorted(self._wanted.get(key) or ())
                if not needs:
                    self._wanted.pop(key, None)
                    self._workers.pop(key, None)
                    break
                self._wanted[key] = set()
            try:
                with self._asking:  # a few namespaces at a time (a graph of twenty asks them in turn)
                    for need in needs:
                        if self._stopped.is_set():
                            return
                        permission_problem(writer, [need], namespace)
            except Exception as e:  # noqa: BLE001 - asking failed: the actions are enabled, the server decides
                log.info("RBAC questions in namespace %s failed, the server decides on apply: %s", namespace, e)
                now = time.monotonic()
                # only a recent failure is read (known_problem): older ones are dropped, so a long session
                # over many namespaces and contexts does not keep every writer that ever failed
                self._failed = {k: t for k, t in self._failed.items() if now - t <= RBAC_ANSWER_SECONDS}
                self._failed[key] = now
            try:
                self._answered.emit(namespace)
            except RuntimeError:  # the controller is gone
                return

    def stop_asking(self) -> None:
        """The window is closing: no question is asked any more, and the workers end after the one each
        is asking (a daemon thread, never waited for: a slow API server would freeze the closing window)."""
        self._stopped.set()
        with self._rbac_lock:
            self._wanted.clear()

    def wait_prefetch(self) -> None:
        """Wait for the RBAC questions being asked (tests; the window when it closes)."""
        while True:
            with self._rbac_lock:
                workers = [w for w in self._workers.values() if w.is_alive()]
            if not workers:
                return
            for w in workers:
                w.join()

    def _on_answered(self, namespace: str) -> None:
        """A namespace's answers came: the actions shown pending take them, in place (enabled, or
        disabled with the reason), in any menu still open."""
        keep = []
        for action, spec, inventory in self._pending:
            if not shiboken6.isValid(action):
                continue
            if spec.namespace != namespace:
                keep.append((action, spec, inventory))
                continue
            problem = self.known_problem(spec.needs, spec.namespace, spec.writer)
            if problem is None:
                keep.append((action, spec, inventory))
                continue
            spec.pending, spec.problem = False, problem
            self._show(action, spec, inventory)
        self._pending = keep
        self.permissionsKnown.emit(namespace)

    def _show(self, action: QAction, spec: ActionSpec, inventory: Inventory) -> None:
        action.setProperty("pending", spec.pending)
        if spec.pending:
            action.setEnabled(False)
            action.setToolTip(PENDING_TEXT)
            action.setStatusTip(PENDING_TEXT)
        elif spec.problem:
            action.setEnabled(False)
            action.setToolTip(spec.problem)
            action.setStatusTip(spec.problem)
        else:
            action.setEnabled(True)
            action.setToolTip(spec.text.rstrip("…"))
            action.setStatusTip("")
            action.triggered.connect(lambda _=False, spec=spec, inv=inventory: self.open(spec, inv))

    # -- Qt surface --------------------------------------------------------------------------------
    def actions_for(self, selection: Node | None, graph: Any, inventory: Inventory | None,
                    parent: QObject | None = None, only: Collection[str] | None = None) -> list[QAction]:
        out = []
        for spec in self.specs_for(selection, graph, inventory, only):
            # a name at Kubernetes' limit (a 253-character workload) is cut: the menu grew as wide as it
            action = QAction(_menu_text(spec.text), parent or self)
            action.setObjectName(spec.key)
            action.setData(spec.key)
            action.setProperty("namespace", spec.namespace)
            action.setProperty("submenu", spec.submenu)
            action.setProperty("entry", spec.entry)
            assert inventory is not None
            own = spec.inventory or inventory  # (another cluster's node: that cluster's objects)
            self._show(action, spec, own)
            self._handed = [a for a in self._handed if shiboken6.isValid(a)] + [action]
            if spec.pending:
                self._pending.append((action, spec, own))
            out.append(action)
        return out

    def menu_for(self, selection: Node | None, graph: Any, inventory: Inventory | None,
                 parent: QWidget | None = None) -> QMenu:
        menu = QMenu("Actions", parent or self._parent)
        self.populate(menu, selection, graph, inventory)
        return menu

    def populate(self, menu: QMenu, selection: Node | None, graph: Any, inventory: Inventory | None,
                 only: Collection[str] | None = None) -> None:
        """Fill ``menu`` (e.g. from its ``aboutToShow``): service and workload actions first, then each
        namespace's, separated (with several namespaces shown, their actions ran together in one block);
        a note when there is nothing to offer. ``only``: the actions of these keys alone."""
        menu.clear()
        # the submenus of the last time (the Actions menu is filled again each time it opens), with their entries
        for old in menu.findChildren(QMenu, "", Qt.FindChildOption.FindDirectChildrenOnly):
            if old.property("editsSubmenu"):
                old.setParent(None)
                old.deleteLater()
        menu.setToolTipsVisible(True)
        actions = self.actions_for(selection, graph, inventory, menu, only)
        # a namespace of hundreds of policies made a menu of hundreds of entries, wider than the screen in
        # columns: past EDITS_IN_MENU, a namespace's objects to edit are listed in a submenu of each kind
        edits: dict[str, int] = {}
        for a in actions:
            if a.property("submenu"):
                edits[str(a.property("namespace"))] = edits.get(str(a.property("namespace")), 0) + 1
        submenus: dict[tuple[str, str], QMenu] = {}
        last: tuple[bool, str] | None = None  # the previous action's (is a namespace action, namespace)
        for a in actions:
            namespace = str(a.property("namespace") or "")
            group = (a.objectName() in NAMESPACE_ACTIONS, namespace)
            if group[0] and last is not None and last != group:
                menu.addSeparator()
            last = group
            title = str(a.property("submenu") or "")
            if title and edits.get(namespace, 0) > EDITS_IN_MENU:
                sub = submenus.get((namespace, title))
                if sub is None:
                    sub = submenus[(namespace, title)] = _scrolling_menu(title, menu)
                    sub.setProperty("editsSubmenu", True)
                    sub.setToolTipsVisible(True)
                    menu.addMenu(sub)
                a.setText(_menu_text(str(a.property("entry"))))
                a.setParent(sub)  # deleted with it
                sub.addAction(a)
                continue
            menu.addAction(a)
        for sub in submenus.values():
            sub.setTitle(f"{sub.title()} ({len(sub.actions())})")
        if not actions:
            why = ("Read-only mode: actions are hidden" if self.read_only else
                   self.no_writes_text() if self.writer is None else
                   (inventory is not None and other_cluster(selection, graph, inventory)) or
                   "No action for this selection")
            note = menu.addAction(why)
            note.setEnabled(False)

    def open(self, spec: ActionSpec, inventory: Inventory) -> ChangeDialog:
        """Open the action's dialog (non-modal, so the graph stays usable)."""
        # the dialog writes there, and checks against its schemas, whatever is chosen later: the shown context's
        # cluster, or for another cluster's node of the mesh that cluster, through its own context
        writer = spec.writer or self.writer
        dialog = ChangeDialog(spec.make_form(inventory), inventory, writer, lambda: self.schemas(writer), self._parent,
                              reload=self._reloader(inventory, spec.writer), read_only=lambda: self.read_only,
                              cluster=spec.cluster)
        dialog.applied.connect(self.applied)
        dialog.wrote.connect(self.wrote)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        self.dialogOpened.emit(dialog)
        dialog.show()
        return dialog

    def _reloader(self, inventory: Inventory, writer: Any = None) -> Callable[[], Inventory] | None:
        """How a dialog reads again what ``inventory`` holds (the same namespaces): from a cluster (``writer``'s
        when given: another cluster's of the mesh), or from another writable source that takes snapshots (the
        demo)."""
        api = getattr(writer, "api", None) or getattr(self.source, "api", None)
        if api is None:
            # another writable source (the demo): its own snapshot of the same namespaces
            take = getattr(self.source, "snapshot", None)
            if self.writer is None or not callable(take):
                return None
            wanted = tuple(ns.name for ns in inventory.namespaces)

            def read_again() -> Inventory:
                again = take(GraphRequest(namespaces=wanted), with_inventory=True).inventory
                if again is None:
                    raise SourceError("the source gave no inventory")
                return cast(Inventory, again)
            return read_again
        names = [ns.name for ns in inventory.namespaces] or None
        cluster = getattr(writer, "cluster", "") or inventory.cluster
        timeout = float(getattr(self.source, "timeout", 30.0))
        return lambda: read_inventory(api, names, cluster=cluster, timeout=timeout)

    def open_action(self, key: str, selection: Node | None, graph: Any, inventory: Inventory) -> ChangeDialog:
        """Open the action ``key`` for a selection directly (keyboard shortcuts, tests)."""
        spec = next((s for s in self.specs_for(selection, graph, inventory) if s.key == key), None)
        if spec is None:
            raise KeyError(f"no action {key!r} for this selection")
        if spec.pending:
            raise PermissionError(f"{PENDING_TEXT} (the action opens once they are known)")
        if spec.problem:
            raise PermissionError(spec.problem)
        return self.open(spec, inventory)

    def cached_schemas(self) -> tuple[CRDSchemas, list[str]] | None:
        """The CRD schemas when ``schemas()`` has read them already for the current source (None: not yet)."""
        kept = self._schemas  # (one read: a worker may set it meanwhile)
        return kept[1] if kept is not None and kept[0] is self.writer else None

    def schemas(self, writer: Any = None) -> tuple[CRDSchemas, list[str]]:
        """The CRD schemas of ``writer``'s cluster (default: the current source's), read once per source; a
        read that failed (wholly or in part) is not kept, so the next review asks again rather than going
        without schema checks for the rest of the session. Called on worker threads: schemas read from a
        source left meanwhile (another context) are not kept for the new one."""
        writer = self.writer if writer is None else writer
        kept = self._schemas
        if kept is not None and kept[0] is writer:
            return kept[1]
        try:
            found: tuple[CRDSchemas, list[str]] = writer.schemas()
        except SourceError as e:
            return (CRDSchemas(), [f"The CRD schemas could not be read ({e.message}): the objects are checked by "
                                   "the server's dry run only."])
        if not getattr(writer, "schemas_incomplete", False) and writer is self.writer:
            self._schemas = (writer, found)  # kept with its writer: never taken for another source's
        return found


def _form(cls: Callable[..., ActionForm], *args: Any, **kwargs: Any) -> Callable[[Inventory], ActionForm]:
    def make(inv: Inventory) -> ActionForm:
        return cls(inv, *args, **kwargs)
    return make


def _deny_all_form(namespace: str) -> Callable[[Inventory], ActionForm]:
    def make(inv: Inventory) -> ActionForm:
        form = AuthorizationPolicyForm(inv, namespace)
        form.name.setText("deny-all")
        form.policy.setCurrentText(DENY_ALL)
        return form
    return make


def _edit_form(cls: Callable[..., ActionForm], obj: IstioObject, graph: Any = None) -> Callable[[Inventory], ActionForm]:
    def make(inv: Inventory) -> ActionForm:
        return cls(inv, obj.namespace, editing=obj, **({"graph": graph} if graph is not None else {}))
    return make


def _route_form(svc: Service, route: IstioObject | None, kind: str = HTTP_ROUTE) -> Callable[[Inventory], ActionForm]:
    def make(inv: Inventory) -> ActionForm:
        fresh = route
        if route is not None:  # as the inventory the dialog opens with has it
            fresh = next((r for r in inv.istio_objects(kind, route.namespace) if r.name == route.name), route)
        return route_form_class(kind)(inv, _fresh(inv, svc), editing=fresh)
    return make


def _routing_form(cls: Callable[..., ActionForm], svc: Service, title: str) -> Callable[[Inventory], ActionForm]:
    def make(inv: Inventory) -> ActionForm:
        form = cls(inv, _fresh(inv, svc))
        if title != form.title:  # TCP traffic shifting: the dialog and the change say which
            form.title = title
            form.help_text = "Share the service's TCP connections between its versions (weights add up to 100%)."
        return form
    return make


# -- selection -> targets ---------------------------------------------------------------------------

def other_cluster(node: Node | None, graph: Any, inv: Inventory) -> str:
    """Why ``node`` takes no action: it is in a cluster the inventory was not read from (a Prometheus
    shared by several clusters shows their nodes too), whose objects of its name are another cluster's
    and whose changes would go to the cluster meshdesk is connected to; "" when it is in its own."""
    nodes = getattr(graph, "nodes", None)
    if node is None or not isinstance(nodes, dict):
        return ""
    if inventory_part(inv, {n.cluster for n in nodes.values()})(node.cluster) is not None:
        return ""
    return (f"{node.label or node.namespace} is in cluster {node.cluster}: meshdesk is connected to "
            f"{inv.cluster or 'another cluster'}, and acts on its objects only")


def _fresh(inv: Inventory, svc: Service) -> Service:
    return inv.service(svc.namespace, svc.name) or svc


def _services_of(node: Node | None, inv: Inventory) -> list[Service]:
    if node is None or node.is_service_entry is not None:
        return []
    if node.node_type == NODE_SERVICE:
        svc = inv.service(node.namespace, node.service)
        return [svc] if svc is not None else []
    if node.node_type in (NODE_APP, NODE_WORKLOAD):
        found: dict[tuple[str, str], Service] = {}
        for w in _workloads_of(node, inv) or _app_workloads(node, inv):
            for s in inv.services_for_workload(w):
                found[(s.namespace, s.name)] = s
        return list(found.values()) if len(found) == 1 else []
    return []


def _app_workloads(node: Node, inv: Inventory) -> list[Workload]:
    return [w for w in inv.workloads if w.namespace == node.namespace and w.app == node.app and node.app]


def _workloads_of(node: Node | None, inv: Inventory) -> list[Workload]:
    if node is None:
        return []
    if node.node_type == NODE_WORKLOAD:
        w = inv.workload(node.namespace, node.workload)
        return [w] if w is not None else []
    if node.node_type == NODE_APP and node.version:
        ws = [w for w in _app_workloads(node, inv) if w.runs_version(node.version)]
        return ws if len(ws) == 1 else []
    return []


def _namespaces_of(node: Node | None, graph: Any, inv: Inventory) -> list[str]:
    if node is not None:
        if node.node_type == NODE_BOX and node.box != BOX_NAMESPACE:
            return []
        return [node.namespace] if node.namespace and inv.namespace(node.namespace) is not None else []
    request = getattr(graph, "request", None)
    wanted = list(getattr(request, "namespaces", ()) or [])
    return [ns for ns in wanted if inv.namespace(ns) is not None]


# -- the main window -----------------------------------------------------------------------------------

def selected_node(window: Any) -> Node | None:
    """The first selected node of the window's graph (None: nothing, or an edge, is selected)."""
    graph = getattr(window, "graph", None)
    view = getattr(window, "view", None)
    if graph is None or view is None or not hasattr(view, "selected_ids"):
        return None
    for nid in view.selected_ids():
        node = graph.nodes.get(nid)
        if node is not None:
            return node
    return None


def selected_edge_id(window: Any) -> str | None:
    """The first selected edge of the window's graph (None: no edge is selected)."""
    graph = getattr(window, "graph", None)
    view = getattr(window, "view", None)
    if graph is None or view is None or not hasattr(view, "selected_ids"):
        return None
    return next((eid for eid in view.selected_ids() if eid in graph.edges), None)


def node_at(window: Any, pos: Any) -> Node | None:
    """The graph node (or namespace box) drawn at ``pos`` (viewport coordinates) on the window's canvas."""
    view, graph = getattr(window, "view", None), getattr(window, "graph", None)
    if view is None or graph is None or not hasattr(view, "itemAt"):
        return None
    item = view.itemAt(pos)
    while item is not None:
        nid = getattr(item, "node_id", None) or getattr(item, "box_id", None)
        if nid is not None:
            node: Node | None = graph.nodes.get(nid)
            return node
        item = item.parentItem()
    return None


def _add_node_graph_entries(window: Any, popup: QMenu, node: Node | None) -> None:
    """On top of a node's context menu: its node graph (as a double-click opens it), and the way back
    from one."""
    if not hasattr(window, "set_focus"):
        return
    from meshdesk.ui.nodegraph import focus_for, no_node_graph

    first = popup.actions()[0] if popup.actions() else None
    entries: list[QAction] = []
    focus = focus_for(node, window.toolbar.choices.graph_type, getattr(window, "graph", None)) \
        if node is not None and no_node_graph(node) is None else None
    if focus is not None and focus != getattr(window, "_node_focus", None):
        show = QAction("Show node graph", popup)
        show.setToolTip("What calls it and what it calls, in every namespace (or double-click the node)")
        show.triggered.connect(lambda: window.set_focus(focus))
        entries.append(show)
    back = getattr(window, "back_action", None)
    if back is not None and back.isEnabled():
        entries.append(back)
    for action in entries:
        if first is None:
            popup.addAction(action)
        else:
            popup.insertAction(first, action)
    if entries and first is not None:
        popup.insertSeparator(first)


def install_actions(window: Any) -> ActionsController:
    """Wire the actions into a ``MainWindow``: an Actions menu (before Help) and the canvas's context
    menu, both for the current selection (no selection: the graph's namespaces); the source follows
    the poller's; an applied change refreshes the graph at once and says so in the status bar."""
    ctl = ActionsController(getattr(window.poller, "source", None), lambda: window.settings, window)
    window.poller.sourceOpened.connect(lambda source, _info: ctl.set_source(source))
    menu = QMenu("&Actions", window)
    bar = window.menuBar()
    help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
    if help_action is not None:
        bar.insertMenu(help_action, menu)
    else:
        bar.addMenu(menu)
    menu.aboutToShow.connect(lambda: ctl.populate(menu, selected_node(window), window.graph, window.inventory))
    ctl.menu = menu

    view = window.view

    def show_menu(node: Node | None, pos: Any) -> None:
        """The context menu for ``node`` (None: the graph's namespaces) at ``pos`` (viewport coordinates)."""
        if ctl.popup_menu is not None:
            ctl.popup_menu.close()
        popup = ctl.menu_for(node, window.graph, window.inventory, view)
        _add_node_graph_entries(window, popup, node)
        popup.aboutToHide.connect(popup.deleteLater)
        ctl.popup_menu = popup
        popup.destroyed.connect(lambda *_: setattr(ctl, "popup_menu", None))
        target = view.viewport() if hasattr(view, "viewport") else view
        popup.popup(target.mapToGlobal(pos))

    def context_menu(pos: Any) -> None:
        # a right click acts on what is under the pointer (selecting it), the background on the namespaces
        node = node_at(window, pos)
        if node is not None and hasattr(view, "select") and node.id not in view.selected_ids():
            view.select([node.id])
        show_menu(node, pos)

    def selection_menu() -> None:
        # the keyboard's menu (Menu key, Shift+F10) acts on the selection, whatever lies at the viewport's
        # centre where Qt puts it, and opens at the selected node (else edge); nothing selected: the namespaces
        node = selected_node(window)
        anchor = node.id if node is not None else selected_edge_id(window)
        pos = view.viewport_point_of(anchor) if anchor is not None else None
        show_menu(node, pos if pos is not None else view.viewport().rect().center())

    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    view.customContextMenuRequested.connect(context_menu)
    if hasattr(view, "selectionMenuRequested"):
        view.selectionMenuRequested.connect(selection_menu)
    if hasattr(window, "graphShown"):
        window.graphShown.connect(lambda graph: ctl.prefetch_permissions(graph.request.namespaces))
    window.destroyed.connect(lambda *_: ctl.stop_asking())
    ctl.applied.connect(lambda summary: window.statusBar().showMessage(f"Applied: {summary}", 10000))
    ctl.wrote.connect(window.refresh_now)  # after a partial apply too: the inventory must show what was done
    return ctl
