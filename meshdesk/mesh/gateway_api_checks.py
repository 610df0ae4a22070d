"""Kiali's checks of the Kubernetes Gateway API config (``K8sGateway``, the routes, ``K8sReferenceGrant``).

Routes (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute):

* KIA1401 (error): a ``parentRefs`` entry names a Gateway API Gateway (its kind and group, or their
  defaults) that does not exist, or one in another namespace none of whose listeners admits routes
  from the route's namespace (``allowedRoutes.namespaces.from``: ``All``, or ``Selector`` matching
  the namespace's labels; the default, ``Same``, admits none from elsewhere).
* KIA1402 (error): a ``backendRefs`` entry, or a ``parentRefs`` entry of kind Service (a mesh route,
  GAMMA), names a Service that does not exist, or whose name has dots (a Service is named by its bare
  name, its namespace apart); or a backend in another namespace that no ReferenceGrant there lets
  routes of this kind from this namespace refer to. A mesh route's parent Service in another namespace
  (a consumer route) needs no ReferenceGrant, as the Gateway API says, so none is asked for.

Kiali runs these on HTTP and gRPC routes only; TCP and TLS routes carry the same ``parentRefs`` and
``backendRefs`` with the same meaning, and Istio rejects them for the same reasons, so meshdesk checks
them too.

Gateways:

* KIA1501 (warning): a listener with the same hostname, port and protocol as a listener of another
  Gateway (both with a hostname, as Kiali compares them).
* KIA1502 (warning): an address of the same type and value as an address of another Gateway (the type
  defaults to ``IPAddress``, as the API does).
* KIA1503 (error): two listeners of one Gateway with the same hostname, port and protocol. Kiali
  compares listeners that both have a hostname; the Gateway API requires the combination to be unique
  with an absent hostname counted as a value of its own (two listeners for any host on one port and
  protocol conflict), so meshdesk compares those too.
* KIA1504 (error): the ``gatewayClassName`` names no GatewayClass of the cluster, so no controller
  runs the Gateway. Kiali compares it with the classes set in its own configuration or, without
  those, with the cluster's GatewayClasses whose controller is Istio's (``istio.io/...``), so it
  calls every Gateway of another implementation an error. meshdesk compares with the cluster's
  GatewayClasses as read (``Inventory.gateway_classes``); when they could not be read, nothing is said.

* GWAPI (warning), Kiali's: a condition the Gateway's controller reports in its ``status`` that says
  it is not working: the Gateway's ``Accepted``, ``Programmed``, ``Ready`` or ``Scheduled`` False, a
  listener's ``Accepted``, ``Programmed``, ``Ready`` or ``ResolvedRefs`` False or ``Conflicted`` or
  ``Detached`` True. As in Kiali, a condition False for a passing reason is not one: ``Pending``, the
  Gateway-level ``ListenersNotValid`` and ``ListenerSetsNotValid`` (the listeners' own conditions say
  what is wrong) and ``AddressNotAssigned`` while Istio says the address is pending. The controller's
  message is quoted.

A Gateway whose class another controller runs (Envoy Gateway, GKE, NGINX... on a shared cluster) is
that implementation's to judge and report in its status: what that status says is shown (GWAPI), but
none of meshdesk's own checks is made on it (not KIA1501-KIA1504), and it is not compared with Istio's Gateways for KIA1501 and KIA1502 (each
implementation has its own proxies and addresses). Routes are checked whatever their parents are:
what KIA1401 and KIA1402 say holds for every implementation.

ReferenceGrants:

* KIA1601 (error): a ``from`` entry names a namespace that does not exist (or the user may not see),
  judged against the cluster's namespaces when they could be listed.

As everywhere in meshdesk's validations, what lies where the inventory did not look is not judged: a
gateway in a namespace whose Gateways could not be read, a Service in a namespace not read (or whose
Services were hidden), a ReferenceGrant in a namespace whose grants were hidden. Every check reads the
objects defensively and never raises on an unexpected shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from meshdesk.mesh.inventory import GATEWAY_API_GROUP, GATEWAY_API_KINDS, K8S_GATEWAY, Inventory, IstioObject
from meshdesk.mesh.readers import as_dict as _dict
from meshdesk.mesh.readers import as_list as _list
from meshdesk.mesh.readers import as_str as _str
from meshdesk.mesh.validations import ERROR, WARNING, Check, ObjectKey

ROUTE_KINDS = ("K8sHTTPRoute", "K8sGRPCRoute", "K8sTCPRoute", "K8sTLSRoute")
REFERENCE_GRANT = "K8sReferenceGrant"
ISTIO_CONTROLLERS = "istio.io/"  # the prefix of every controller name Istio's own GatewayClasses carry
# what the inventory's ``hidden`` names the lists by (``meshdesk.sources.gateway_api``), and the
# cluster-wide Gateway list read for the graph (``meshdesk.sources.inventory``)
_GATEWAYS_HIDDEN = f"gateways.{GATEWAY_API_GROUP}"
_GRANTS_HIDDEN = f"referencegrants.{GATEWAY_API_GROUP}"
_CLUSTER_GATEWAYS_HIDDEN = "*/Gateway API gateways"
_NAMED = 3  # other objects a finding names before "and N more"


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _few(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMED])
    return shown + (f" and {len(names) - _NAMED} more" if len(names) > _NAMED else "")


def gateway_api_checks(inv: Inventory) -> dict[ObjectKey, list[Check]]:
    """The findings on the inventory's Gateway API objects, by object key."""
    known = _Known(inv)
    out: dict[ObjectKey, list[Check]] = {}

    def add(obj: IstioObject, found: Iterable[Check]) -> None:
        found = list(found)
        if found:
            out.setdefault((obj.kind, obj.namespace, obj.name), []).extend(found)

    classes = inv.gateway_classes
    gateways = [gw for gw in inv.istio_objects(K8S_GATEWAY) if not other_controller(gw, classes)]
    for obj in inv.istio:
        try:
            if obj.kind in ROUTE_KINDS:
                add(obj, _route_checks(obj, known))
            elif obj.kind == K8S_GATEWAY:
                if not other_controller(obj, classes):
                    add(obj, _listener_uniqueness(obj))
                    add(obj, _class_check(obj, classes))
                add(obj, status_checks(obj))
            elif obj.kind == REFERENCE_GRANT:
                add(obj, _grant_checks(obj, known))
        except (AttributeError, TypeError, ValueError) as e:  # an object shaped like nothing we know
            add(obj, [Check("MDK0001", WARNING, f"could not be fully validated: {e}")])
    istio_gateways = [gw for gw in known.gateways.values() if not other_controller(gw, classes)]
    for key, found in _shared_listeners_and_addresses(gateways, istio_gateways).items():
        out.setdefault(key, []).extend(found)
    return out


class _Known:
    """What the inventory can tell about namespaces, Services, Gateways and ReferenceGrants."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.selected = {n.name for n in inv.namespaces}
        # every Gateway API Gateway known: the selection's (listed with the config) and the cluster's
        # (read for the graph), once each
        self.gateways: dict[tuple[str, str], IstioObject] = {}
        for gw in (*inv.istio_objects(K8S_GATEWAY), *inv.k8s_gateways):
            self.gateways.setdefault((gw.namespace, gw.name), gw)
        self.grants = inv.istio_objects(REFERENCE_GRANT)

    def gateways_known(self, namespace: str) -> bool:
        """Whether the inventory knows every Gateway of ``namespace``: its own list there was read, or
        (outside the selection) the cluster-wide one was."""
        if namespace in self.selected:
            return not self.inv.unread(namespace, [_GATEWAYS_HIDDEN])
        return _CLUSTER_GATEWAYS_HIDDEN not in self.inv.hidden

    def services_known(self, namespace: str) -> bool:
        return namespace in self.selected and not self.inv.unread(namespace, ["services"])

    def grants_known(self, namespace: str) -> bool:
        return namespace in self.selected and not self.inv.unread(namespace, [_GRANTS_HIDDEN])

    def namespace_exists(self, namespace: str) -> bool | None:
        """True or False when that can be told (the namespace was read, or the cluster's names are
        known), None when not."""
        if namespace in self.selected:
            return True
        names = self.inv.cluster_namespaces
        return None if names is None else namespace in names

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        """A selected namespace's labels, None when not known (not read, or its object was hidden)."""
        ns = self.inv.namespace(namespace)
        if ns is None or self.inv.unread(namespace, ["namespace"]):
            return None
        return ns.labels


# -- routes -------------------------------------------------------------------------------------------

def _route_checks(route: IstioObject, known: _Known) -> list[Check]:
    spec = _dict(route.spec)
    found: list[Check] = []
    for i, ref in enumerate(_list(spec.get("parentRefs"))):
        ref = _dict(ref)
        # the API's defaults: a parent is a Gateway of the Gateway API's group
        group, kind = _str(ref.get("group", GATEWAY_API_GROUP)), _str(ref.get("kind", "Gateway"))
        name = _str(ref.get("name"))
        if not name:
            continue
        if group == GATEWAY_API_GROUP and kind == "Gateway":
            found += _parent_gateway(route, name, _str(ref.get("namespace")) or route.namespace, known,
                                     f"spec/parentRefs[{i}]/name")
        elif group in ("", "core") and kind == "Service":
            found += _service_ref(route, name, _str(ref.get("namespace")) or route.namespace, known,
                                  f"spec/parentRefs[{i}]/name", grant_needed=False)
    for k, rule in enumerate(_list(spec.get("rules"))):
        for i, ref in enumerate(_list(_dict(rule).get("backendRefs"))):
            ref = _dict(ref)
            # the API's defaults: a backend is a core Service
            group, kind = _str(ref.get("group", "")), _str(ref.get("kind", "Service"))
            name = _str(ref.get("name"))
            if name and group in ("", "core") and kind == "Service":
                found += _service_ref(route, name, _str(ref.get("namespace")) or route.namespace, known,
                                      f"spec/rules[{k}]/backendRefs[{i}]/name", grant_needed=True)
    return found


def _parent_gateway(route: IstioObject, name: str, namespace: str, known: _Known, path: str) -> list[Check]:
    """KIA1401 for one parent Gateway."""
    if not known.gateways_known(namespace):
        return []
    gw = known.gateways.get((namespace, name))
    if gw is None:
        return [Check("KIA1401", ERROR, f"there is no Gateway API Gateway {namespace}/{name}: "
                      "the route is attached to nothing", path)]
    if namespace == route.namespace:
        return []
    admits = _admits(gw, route.namespace, known)
    if admits is False:
        return [Check("KIA1401", ERROR, f"Gateway {namespace}/{name} admits no routes from namespace "
                      f"{route.namespace} (none of its listeners' allowedRoutes lets them in)", path)]
    return []


def _admits(gw: IstioObject, namespace: str, known: _Known) -> bool | None:
    """Whether a listener of ``gw`` admits routes from ``namespace`` (another one); None when that
    depends on the namespace's labels and they are not known."""
    unsure = False
    for listener in _list(_dict(gw.spec).get("listeners")):
        allowed = _dict(_dict(_dict(listener).get("allowedRoutes")).get("namespaces"))
        source = _str(allowed.get("from")) or "Same"
        if source == "All":
            return True
        if source == "Selector" and isinstance(allowed.get("selector"), dict):
            labels = known.namespace_labels(namespace)
            if labels is None:
                unsure = True
            elif selector_matches(allowed["selector"], labels):
                return True
    return None if unsure else False


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (``matchLabels`` and ``matchExpressions``) against labels; an
    expression with an operator Kubernetes does not know matches nothing."""
    for k, v in _dict(selector.get("matchLabels")).items():
        if labels.get(str(k)) != str(v):
            return False
    for expr in _list(selector.get("matchExpressions")):
        expr = _dict(expr)
        key, op = _str(expr.get("key")), _str(expr.get("operator"))
        values = [str(v) for v in _list(expr.get("values"))]
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


def _service_ref(route: IstioObject, name: str, namespace: str, known: _Known, path: str, *,
                 grant_needed: bool) -> list[Check]:
    """KIA1402 for one reference to a Service."""
    if "." in name:
        return [Check("KIA1402", ERROR, f"{name!r} is no Service name: a Service is named without dots "
                      "(its namespace goes in the namespace field)", path)]
    if not known.services_known(namespace):
        return []
    if known.inv.service(namespace, name) is None:
        return [Check("KIA1402", ERROR, f"there is no Service {name} in namespace {namespace}", path)]
    if grant_needed and namespace != route.namespace and known.grants_known(namespace) and \
            not _granted(route, name, namespace, known.grants):
        kind = GATEWAY_API_KINDS.get(route.kind, route.kind)
        return [Check("KIA1402", ERROR, f"Service {namespace}/{name} is in another namespace, and no "
                      f"ReferenceGrant there lets {kind}s from {route.namespace} refer to it", path)]
    return []


def _granted(route: IstioObject, service: str, namespace: str, grants: Iterable[IstioObject]) -> bool:
    """Whether a ReferenceGrant in ``namespace`` lets ``route`` refer to the Service ``service`` there."""
    kind = GATEWAY_API_KINDS.get(route.kind, route.kind)
    for grant in grants:
        if grant.namespace != namespace:
            continue
        spec = _dict(grant.spec)
        sources = [_dict(f) for f in _list(spec.get("from"))]
        if not any(_str(f.get("group")) == GATEWAY_API_GROUP and _str(f.get("kind")) == kind
                   and _str(f.get("namespace")) == route.namespace for f in sources):
            continue
        for to in (_dict(t) for t in _list(spec.get("to"))):
            if _str(to.get("group")) in ("", "core") and _str(to.get("kind")) == "Service" and \
                    _str(to.get("name")) in ("", service):
                return True
    return False


# -- gateways -----------------------------------------------------------------------------------------

def _listener_key(listener: Any) -> tuple[str, int | None, str]:
    listener = _dict(listener)
    return _str(listener.get("hostname")).lower(), _port(listener.get("port")), _str(listener.get("protocol")).upper()


def _listener_uniqueness(gw: IstioObject) -> list[Check]:
    """KIA1503: listeners of one Gateway that share hostname, port and protocol."""
    listeners = _list(_dict(gw.spec).get("listeners"))
    keys = [_listener_key(listener) for listener in listeners]
    found = []
    for i, key in enumerate(keys):
        twins = [j for j, other in enumerate(keys) if j != i and other == key and key[1] is not None]
        if not twins:
            continue
        names = [_str(_dict(listeners[j]).get("name")) or f"#{j}" for j in twins]
        host = key[0] or "any host"
        found.append(Check("KIA1503", ERROR, f"listener {_str(_dict(listeners[i]).get('name')) or f'#{i}'} has the "
                           f"same hostname ({host}), port ({key[1]}) and protocol ({key[2] or '?'}) as "
                           f"{_few(names)}: each listener needs its own combination", f"spec/listeners[{i}]/name"))
    return found


def other_controller(gw: IstioObject, classes: Mapping[str, str] | None) -> str:
    """The controller of another implementation than Istio that runs ``gw`` by its class ("" when
    Istio's, when its class does not exist, or when the cluster's classes are not known)."""
    if classes is None:
        return ""
    controller = classes.get(_str(_dict(gw.spec).get("gatewayClassName")), "")
    return "" if controller.startswith(ISTIO_CONTROLLERS) else controller


def _class_check(gw: IstioObject, classes: Mapping[str, str] | None) -> list[Check]:
    """KIA1504: a class the cluster does not have (judged only when the cluster's classes are known).
    A class another controller runs is no finding (that Gateway is not judged at all)."""
    if classes is None:
        return []
    name = _str(_dict(gw.spec).get("gatewayClassName"))
    if name not in classes:
        what = f"GatewayClass {name}" if name else "a GatewayClass"
        return [Check("KIA1504", ERROR, f"the cluster has no {what}: no controller runs this Gateway",
                      "spec/gatewayClassName")]
    return []


def _shared_listeners_and_addresses(mine: Iterable[IstioObject],
                                    every: Iterable[IstioObject]) -> dict[ObjectKey, list[Check]]:
    """KIA1501 and KIA1502 on ``mine`` (the inventory's Gateways) against ``every`` Gateway known."""
    listeners: dict[tuple[str, int | None, str], set[tuple[str, str]]] = {}
    addresses: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for gw in every:
        spec = _dict(gw.spec)
        for listener in _list(spec.get("listeners")):
            key = _listener_key(listener)
            if key[0] and key[1] is not None:
                listeners.setdefault(key, set()).add((gw.namespace, gw.name))
        for address in _list(spec.get("addresses")):
            address = _dict(address)
            value = _str(address.get("value"))
            if value:
                addresses.setdefault((_str(address.get("type")) or "IPAddress", value), set()).add(
                    (gw.namespace, gw.name))
    out: dict[ObjectKey, list[Check]] = {}
    for gw in mine:
        me = (gw.namespace, gw.name)
        spec = _dict(gw.spec)
        for i, listener in enumerate(_list(spec.get("listeners"))):
            key = _listener_key(listener)
            others = sorted(f"{ns}/{n}" for ns, n in listeners.get(key, ()) if (ns, n) != me)
            if key[0] and key[1] is not None and others:
                out.setdefault((gw.kind, gw.namespace, gw.name), []).append(Check(
                    "KIA1501", WARNING, f"{key[0]}:{key[1]} ({key[2] or '?'}) is also a listener of "
                    f"{_few(others)}", f"spec/listeners[{i}]/hostname"))
        for i, address in enumerate(_list(spec.get("addresses"))):
            address = _dict(address)
            kind, value = _str(address.get("type")) or "IPAddress", _str(address.get("value"))
            others = sorted(f"{ns}/{n}" for ns, n in addresses.get((kind, value), ()) if (ns, n) != me)
            if value and others:
                out.setdefault((gw.kind, gw.namespace, gw.name), []).append(Check(
                    "KIA1502", WARNING, f"address {value} ({kind}) is also asked for by {_few(others)}",
                    f"spec/addresses[{i}]/value"))
    return out


# -- reference grants ---------------------------------------------------------------------------------

def _grant_checks(grant: IstioObject, known: _Known) -> list[Check]:
    """KIA1601: ``from`` namespaces that do not exist."""
    found = []
    for i, source in enumerate(_list(_dict(grant.spec).get("from"))):
        namespace = _str(_dict(source).get("namespace"))
        if namespace and known.namespace_exists(namespace) is False:
            found.append(Check("KIA1601", ERROR, f"namespace {namespace} does not exist (or you may not see it)",
                               f"spec/from[{i}]/namespace"))
    return found


# -- what the controller reports (GWAPI) --------------------------------------------------------------

STATUS_CODE = "GWAPI"
# condition type -> the status that says something is wrong
_GATEWAY_BAD = {"Accepted": "False", "Programmed": "False", "Ready": "False", "Scheduled": "False"}
_LISTENER_BAD = {"Accepted": "False", "Programmed": "False", "Ready": "False", "ResolvedRefs": "False",
                 "Conflicted": "True", "Detached": "True"}
_POSITIVE = frozenset({"Accepted", "Programmed", "Ready", "ResolvedRefs", "Scheduled"})
_PASSING = frozenset({"Pending", "ListenersNotValid", "ListenerSetsNotValid"})
_MAX_MESSAGE = 500  # a controller's message is quoted up to this many characters


def _bad_condition(condition: Mapping[str, Any], bad: Mapping[str, str]) -> bool:
    kind, status = _str(condition.get("type")), _str(condition.get("status"))
    if bad.get(kind) != status:
        return False
    if status == "False" and kind in _POSITIVE:
        reason = _str(condition.get("reason"))
        if reason in _PASSING:
            return False  # a state the controller passes through, not a mistake in the spec
        if reason == "AddressNotAssigned" and "address pending" in _str(condition.get("message")).lower():
            return False  # Istio assigns the address after the listeners are programmed
    return True


def _condition_text(condition: Mapping[str, Any]) -> str:
    reason, message = _str(condition.get("reason")), " ".join(_str(condition.get("message")).split())
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE - 1] + "\u2026"
    text = f"the controller reports {_str(condition.get('type'))}={_str(condition.get('status'))}"
    text += f" ({reason})" if reason else ""
    return text + (f": {message}" if message else "")


def status_checks(gw: IstioObject) -> list[Check]:
    """GWAPI: the conditions of a Gateway's status (its own and its listeners') that say it does not work."""
    status = _dict(gw.status)
    found: list[Check] = []
    for i, condition in enumerate(_list(status.get("conditions"))):
        condition = _dict(condition)
        if _bad_condition(condition, _GATEWAY_BAD):
            found.append(Check(STATUS_CODE, WARNING, _condition_text(condition), f"status/conditions[{i}]"))
    for j, listener in enumerate(_list(status.get("listeners"))):
        listener = _dict(listener)
        name = _str(listener.get("name")) or f"#{j}"
        for k, condition in enumerate(_list(listener.get("conditions"))):
            condition = _dict(condition)
            if _bad_condition(condition, _LISTENER_BAD):
                found.append(Check(STATUS_CODE, WARNING, f"listener {name}: {_condition_text(condition)}",
                                   f"status/listeners[{j}]/conditions[{k}]"))
    return found
