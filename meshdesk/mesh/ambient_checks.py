"""Kiali's ambient-mode validations: L7 config a waypoint must carry, and workloads whose ambient
and sidecar settings disagree.

In an ambient namespace (``istio.io/dataplane-mode=ambient``) ztunnel carries L4 traffic only; HTTP
routing, HTTP load balancing, JWT rules, L7 authorization, Wasm and L7 telemetry happen only in a
waypoint, and only for traffic that is enrolled to use one (``istio.io/use-waypoint`` on the
resource, else on its namespace; ``none`` opts out). A waypoint also ignores policies that pick
workloads by selector: they must name a Service or Gateway in ``targetRefs``.

Config (``config_checks``), as Kiali's ambient policy checker judges it:

- AuthorizationPolicy with L7 fields (HTTP methods, paths or hosts, request principals, ``when`` keys
  on request headers or JWT claims), RequestAuthentication (always L7), WasmPlugin (always L7) and
  Telemetry with L7 settings (tracing, access logging, metric overrides), in an ambient namespace:
  no ``targetRefs`` (KIA0110, KIA1115, KIA1116, KIA1117), and what they attach to not enrolled
  (KIA0109, KIA1110, KIA1111, KIA1112). What they attach to: the Services their ``targetRefs`` name
  (any one not enrolled is enough); else the workloads their selector picks (not waypoints; those
  opted out of ambient with ``istio.io/dataplane-mode=none`` are left out); else the namespace.
- VirtualService with HTTP or TLS routes for mesh traffic (no ``gateways``, or ``mesh`` among them)
  and DestinationRule with L7 traffic policy (consistent hash on a header or cookie, HTTP connection
  pool, outlier detection; its own or a subset's): judged by the Services their hosts name in ambient
  namespaces. Such a Service not enrolled (KIA1113, KIA0211); the config not in the Service's
  namespace (KIA1114, KIA0212: a waypoint applies only its own namespace's). When no host names such
  a Service, the config's own namespace being ambient and not enrolled (KIA1109, KIA0210).

Workloads (``workload_checks``, keyed ``(WORKLOAD, namespace, name)``), as Kiali's workload checker
judges them: ambient and sidecar injection both asked for (KIA1311), a waypoint asked for by a
workload not in ambient (KIA1312), a waypoint asked for that does not exist or serves no one
(KIA1313), sidecar injection asked for while a pod is captured by ambient (KIA1314), ambient asked
for while a pod has a sidecar (KIA1315), a sidecar in an ambient namespace (KIA1316), and L7
AuthorizationPolicies over an ambient workload no waypoint serves (KIA1317). Kiali's KIA1301 (a
workload no AuthorizationPolicy covers) is off in Kiali by default: ``validations.uncovered_workloads``
makes it when asked.

All of these say the object is not valid though they are warnings (Kiali marks them so). What the
inventory cannot tell is not judged: a namespace not read (or whose labels could not be read), a
kind that could not be listed where the answer depends on it (pods, workloads, services), a
waypoint in a namespace not read unless the gateways outside the selection were listed (cluster-wide,
as Kiali finds waypoints: then one not among them does not exist), a host naming a namespace the
inventory may not know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from meshdesk.mesh.graph.ambient import is_waypoint
from meshdesk.mesh.graph.istio import is_gateway
from meshdesk.mesh.import_scope import parse_host
from meshdesk.mesh.inventory import (
    AMBIENT_ANNOTATION,
    DATAPLANE_MODE_LABEL,
    GATEWAY_API_GROUP,
    GATEWAY_PODS_LISTED,
    K8S_GATEWAY,
    SIDECAR_INJECT,
    WORKLOAD_LISTS,
    Inventory,
    IstioObject,
    Namespace,
    Pod,
    Service,
    Workload,
    injects_sidecar,
)
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.readers import as_list as _l
from meshdesk.mesh.readers import as_str as _s
from meshdesk.mesh.validations import ERROR, SIDECAR_STATUS, WARNING, WORKLOAD, Check, ObjectKey

USE_WAYPOINT = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE = "istio.io/use-waypoint-namespace"
WAYPOINT_FOR = "istio.io/waypoint-for"
NONE = "none"


def waypoint_for(inventory: Inventory | None, namespace: str, own: Iterable[Mapping[str, str]]) -> tuple[str, str]:
    """The waypoint (name, namespace or "") reporting the requests of something in an ambient namespace:
    the ``istio.io/use-waypoint`` label on it (the first of ``own`` that has one; ``none`` opts out),
    else its namespace's; ("", "") outside ambient mode or without a waypoint. Whose traces an ambient
    app, workload or service has are asked of that waypoint (the Traces dock and ``meshdesk traces``)."""
    ns = inventory.namespace(namespace) if inventory is not None else None
    if ns is None or not ns.ambient:
        return "", ""
    for labels in [*own, ns.labels]:
        if USE_WAYPOINT in labels:
            name = labels[USE_WAYPOINT]
            return ("", "") if name in ("", NONE) else (name, labels.get(USE_WAYPOINT_NAMESPACE, ""))
    return "", ""


def workload_waypoint(inventory: Inventory | None, w: Workload) -> tuple[str, str]:
    """The waypoint (name, namespace or "") reporting an ambient workload's requests, resolved as Kiali
    resolves a workload's waypoint: its own ``istio.io/use-waypoint`` label, else its pods', else that of
    the one Service selecting it, else its namespace's (``none`` at any level opts out), each with its
    ``istio.io/use-waypoint-namespace``. ("", "") for a waypoint itself, a workload opted out of ambient
    mode or outside it."""
    ns = inventory.namespace(w.namespace) if inventory is not None else None
    if inventory is None or ns is None or is_waypoint(w) or w.labels.get(DATAPLANE_MODE_LABEL) == NONE:
        return "", ""
    if not (ns.ambient or _asks_ambient(w, ns) or _in_ambient(w, ns)):
        return "", ""
    named = _Waypoints(_Known(inventory)).named(w, ns)
    if named is None:  # its Services could not be read: its own labels and its namespace's decide
        return waypoint_for(inventory, w.namespace, [w.labels])
    name, where = named
    return (name, "" if where == w.namespace else where) if name else ("", "")


def app_waypoint(inventory: Inventory | None, namespace: str, app: str) -> tuple[str, str]:
    """The waypoint of an ambient app: that of the first of its workloads (not waypoints) that has one,
    as Kiali takes it."""
    for w in inventory.workloads if inventory is not None else ():
        if w.namespace == namespace and w.app == app and not is_waypoint(w):
            way = workload_waypoint(inventory, w)
            if way[0]:
                return way
    return "", ""


def waypoint_not_running(inventory: Inventory | None, namespace: str, way: tuple[str, str]) -> str:
    """Why the waypoint ``way`` (name, namespace or "" for ``namespace``), as ``waypoint_for`` and the like
    name it for something of ``namespace``, serves nothing: it does not run (no waypoint workload of that
    name is there) or serves no one (``istio.io/waypoint-for=none``). "" when it does, or when the inventory
    cannot tell (a namespace, or the gateways outside the chosen ones, that could not be read). Kiali takes
    such a waypoint as none (an ambient target's traces are then its app's, which nothing reports)."""
    name, where = way[0], way[1] or namespace
    if inventory is None or not name:
        return ""
    wp, known = _Waypoints(_Known(inventory)).find(name, where)
    if wp is not None and wp.labels.get(WAYPOINT_FOR) == NONE:
        return f"its waypoint {where}/{name} ({USE_WAYPOINT}) serves no one ({WAYPOINT_FOR}=none)"
    if wp is None and known:
        return f"its waypoint {where}/{name} ({USE_WAYPOINT}) does not run in the cluster"
    return ""


def waypoint_serves(inventory: Inventory | None, wp: Workload) -> list[tuple[str, str, str]]:
    """What is enrolled in a waypoint, as far as the inventory tells (Kiali's waypoint workloads and
    services): ("namespace", name, ""), ("service", namespace, name) and ("workload", namespace, name), for
    the namespaces, Services and workloads whose ``istio.io/use-waypoint`` names it (in its namespace, or
    in the one their ``istio.io/use-waypoint-namespace`` names); none for a waypoint that serves no one
    (``istio.io/waypoint-for=none``)."""
    if inventory is None or wp.labels.get(WAYPOINT_FOR) == NONE:
        return []

    def names_it(labels: Mapping[str, str], own_namespace: str) -> bool:
        return labels.get(USE_WAYPOINT) == wp.name and \
            (labels.get(USE_WAYPOINT_NAMESPACE) or own_namespace) == wp.namespace

    out = [("namespace", n.name, "") for n in inventory.namespaces if names_it(n.labels, n.name)]
    out += [("service", s.namespace, s.name) for s in inventory.services if names_it(s.labels, s.namespace)]
    out += [("workload", w.namespace, w.name) for w in inventory.workloads
            if not is_waypoint(w) and w.labels.get(DATAPLANE_MODE_LABEL) != NONE and names_it(w.labels, w.namespace)]
    return sorted(set(out))


_ENROLL = f"label it {USE_WAYPOINT}=<waypoint>"

# ``when`` keys only a waypoint can evaluate (destination.port and the source keys ztunnel knows)
_L7_CONDITION_PREFIXES = ("request.headers", "request.auth.claims", "request.auth.principal",
                          "request.auth.audiences", "request.auth.presenter")


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _d(value).items()}


def enrolled(own: Mapping[str, str] | None, namespace: Mapping[str, str] | None) -> bool:
    """Whether traffic to a resource goes through a waypoint: its own ``istio.io/use-waypoint`` label
    decides when it has one (``none`` or empty opts out), else its namespace's."""
    for labels in (own, namespace):
        if labels is not None and USE_WAYPOINT in labels:
            return labels[USE_WAYPOINT] not in ("", NONE)
    return False


# -- what counts as L7 (Kiali's classification) ----------------------------------------------------

def l7_authorization(spec: Mapping[str, Any]) -> str:
    """Why an AuthorizationPolicy needs a waypoint (its first L7 field), or "" when ztunnel can
    enforce it all."""
    for rule in _l(spec.get("rules")):
        rule = _d(rule)
        for cond in _l(rule.get("when")):
            key = _s(_d(cond).get("key"))
            if key.startswith(_L7_CONDITION_PREFIXES):
                return f"its condition on {key}"
        for to in _l(rule.get("to")):
            op = _d(to).get("operation")
            if isinstance(op, dict):
                for fields, what in ((("methods", "notMethods"), "HTTP methods"), (("paths", "notPaths"), "HTTP paths"),
                                     (("hosts", "notHosts"), "HTTP hosts")):
                    if any(_l(op.get(f)) for f in fields):
                        return f"its {what}"
        for src in _l(rule.get("from")):
            source = _d(src).get("source")
            if isinstance(source, dict) and (_l(source.get("requestPrincipals"))
                                             or _l(source.get("notRequestPrincipals"))):
                return "its request principals (JWT)"
    return ""


def _traffic_policy_l7(tp: Mapping[str, Any]) -> str:
    hashing = _d(_d(tp.get("loadBalancer")).get("consistentHash"))
    if _s(hashing.get("httpHeaderName")) or isinstance(hashing.get("httpCookie"), dict):
        return "HTTP header or cookie load balancing"
    if isinstance(_d(tp.get("connectionPool")).get("http"), dict):
        return "HTTP connection pool settings"
    if isinstance(tp.get("outlierDetection"), dict):
        return "outlier detection"
    return ""


def l7_destination_rule(spec: Mapping[str, Any]) -> str:
    """What in a DestinationRule only a waypoint applies, or ""."""
    tp = spec.get("trafficPolicy")
    if isinstance(tp, dict) and (why := _traffic_policy_l7(tp)):
        return why
    for sub in _l(spec.get("subsets")):
        tp = _d(sub).get("trafficPolicy")
        if isinstance(tp, dict) and (why := _traffic_policy_l7(tp)):
            return f"{why} in a subset"
    return ""


def vs_needs_waypoint(spec: Mapping[str, Any]) -> bool:
    """HTTP or TLS routes for mesh (east-west) traffic: no gateways named, or ``mesh`` among them."""
    if not (_l(spec.get("http")) or _l(spec.get("tls"))):
        return False
    gateways = _l(spec.get("gateways"))
    return not gateways or "mesh" in gateways


def l7_telemetry(spec: Mapping[str, Any]) -> str:
    if _l(spec.get("tracing")):
        return "tracing"
    if _l(spec.get("accessLogging")):
        return "access logging"
    if any(isinstance(m, dict) and _l(m.get("overrides")) for m in _l(spec.get("metrics"))):
        return "metric overrides"
    return ""


def target_refs(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``targetRef`` and ``targetRefs`` together."""
    one = spec.get("targetRef")
    return ([one] if isinstance(one, dict) else []) + [r for r in _l(spec.get("targetRefs")) if isinstance(r, dict)]


def _has_target_refs(spec: Mapping[str, Any]) -> bool:
    return isinstance(spec.get("targetRef"), dict) or bool(_l(spec.get("targetRefs")))


def _service_refs(spec: Mapping[str, Any]) -> list[str]:
    """Names of the core Services the policy's target references name."""
    return [_s(r.get("name")) for r in target_refs(spec)
            if r.get("kind") == "Service" and _s(r.get("group")) in ("", "core")]


def _gateway_ref(ref: Mapping[str, Any]) -> bool:
    """A target reference to a Gateway API Gateway (or GatewayClass): the policy runs in its proxy."""
    return ref.get("kind") in ("Gateway", "GatewayClass") and _s(ref.get("group")) in ("", GATEWAY_API_GROUP)


# -- what the inventory can tell ---------------------------------------------------------------------

class _Known:
    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        # namespaces whose labels were read
        self.namespaces: dict[str, Namespace] = {n.name: n for n in inv.namespaces
                                                 if f"{n.name}/namespace" not in inv.hidden}
        self.read = {n.name for n in inv.namespaces}
        self.names = self.read | set(inv.cluster_namespaces or ())  # Kiali parses hosts against these
        self.services = {(s.namespace, s.name): s for s in inv.services}
        self.services_in: dict[str, list[Service]] = {}
        for s in inv.services:
            self.services_in.setdefault(s.namespace, []).append(s)
        self.workloads: dict[str, list[Workload]] = {}
        for w in inv.workloads:
            self.workloads.setdefault(w.namespace, []).append(w)

    def ambient(self, namespace: str) -> Namespace | None:
        ns = self.namespaces.get(namespace)
        return ns if ns is not None and ns.ambient else None

    def services_known(self, namespace: str) -> bool:
        return namespace in self.read and not self.inv.unread(namespace, ("services",))

    def workloads_known(self, namespace: str) -> bool:
        return namespace in self.read and not self.inv.unread(namespace, WORKLOAD_LISTS)

    def waypoints_outside_known(self, namespace: str) -> bool:
        """Whether every waypoint of ``namespace``, a namespace not read, is among the gateways read
        outside the selection (a waypoint's pods carry the Gateway API's gateway label, and those are
        listed cluster-wide as Kiali lists waypoints): the namespace does not exist, or the cluster
        serves the Gateway API's Gateways (their pods are listed then) and those pods could be listed
        cluster-wide. A hand-made inventory, or a snapshot that kept none of this, cannot tell."""
        inv = self.inv
        if inv.cluster_namespaces is not None and namespace not in inv.cluster_namespaces:
            return True
        return K8S_GATEWAY in (inv.gateway_api_kinds or ()) and f"*/{GATEWAY_PODS_LISTED}" not in inv.hidden


def _enrollment_missing(spec: Mapping[str, Any], ns: Namespace, known: _Known) -> bool | None:
    """Whether what a policy attaches to is not enrolled to use a waypoint (None: cannot tell). A policy
    attached only to Gateways is not: it applies in the Gateway's own proxy (a waypoint, or an ingress
    gateway's Envoy), which needs no waypoint, whoever uses the waypoint."""
    attached = target_refs(spec)
    if attached and all(_gateway_ref(r) for r in attached):
        return False
    refs = _service_refs(spec)
    if refs and not known.services_known(ns.name):
        return None
    found = [s for name in refs if (s := known.services.get((ns.name, name))) is not None]
    if found:
        return any(not enrolled(s.labels, ns.labels) for s in found)
    selector = _labels(_d(spec.get("selector")).get("matchLabels"))
    if not selector:
        return not enrolled(None, ns.labels)
    if not known.workloads_known(ns.name):
        return None
    matched = opted_out = False
    for w in known.workloads.get(ns.name, ()):
        if is_waypoint(w) or any(w.labels.get(k) != v for k, v in selector.items()):
            continue
        if w.labels.get(DATAPLANE_MODE_LABEL) == NONE:
            opted_out = True
            continue
        matched = True
        if not enrolled(w.labels, ns.labels):
            return True
    if matched or opted_out:
        return False
    return not enrolled(None, ns.labels)


_POLICY_CODES = {  # kind: (no targetRefs, not enrolled)
    "AuthorizationPolicy": ("KIA0110", "KIA0109"),
    "RequestAuthentication": ("KIA1115", "KIA1110"),
    "WasmPlugin": ("KIA1116", "KIA1111"),
    "Telemetry": ("KIA1117", "KIA1112"),
}


def _check_policy(obj: IstioObject, known: _Known) -> list[Check]:
    ns = known.ambient(obj.namespace)
    if ns is None:
        return []
    spec = _d(obj.spec)
    if obj.kind == "AuthorizationPolicy":
        why = l7_authorization(spec)
        what = f"AuthorizationPolicy with L7 rules ({why})"
    elif obj.kind == "Telemetry":
        why = l7_telemetry(spec)
        what = f"Telemetry with L7 settings ({why})"
    else:  # a RequestAuthentication's JWT rules and a WasmPlugin are L7 through and through
        why = what = obj.kind
    if not why:
        return []
    no_refs, not_enrolled = _POLICY_CODES[obj.kind]
    checks = []
    if not _has_target_refs(spec):
        checks.append(Check(no_refs, WARNING, f"{what} in ambient namespace {obj.namespace} has no targetRefs: a "
                            "waypoint ignores policies that pick workloads by selector, so only targetRefs to a "
                            "Service or Gateway make it take effect", invalidates=True))
    if _enrollment_missing(spec, ns, known):
        checks.append(Check(not_enrolled, WARNING, f"{what} in ambient namespace {obj.namespace} applies to traffic "
                            f"no waypoint carries, and ztunnel alone cannot apply it: {_ENROLL} on the namespace "
                            "or on what it targets", invalidates=True))
    return checks


_HOST_CODES = {  # kind: (Service not enrolled, not in the Service's namespace, namespace not enrolled)
    "VirtualService": ("KIA1113", "KIA1114", "KIA1109"),
    "DestinationRule": ("KIA0211", "KIA0212", "KIA0210"),
}


def _check_hosts(obj: IstioObject, known: _Known) -> list[Check]:
    spec = _d(obj.spec)
    if obj.kind == "VirtualService":
        if not vs_needs_waypoint(spec):
            return []
        hosts = list(_l(spec.get("hosts")))
        path = "spec/hosts[{}]"
        what = "VirtualService with HTTP/TLS routes for mesh traffic"
    else:
        why = l7_destination_rule(spec)
        if not why:
            return []
        hosts = [spec.get("host")]
        path = "spec/host"
        what = f"DestinationRule with {why}"
    not_captured, elsewhere, ns_not_enrolled = _HOST_CODES[obj.kind]
    checks: list[Check] = []
    resolved = uncertain = False
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(hosts):
        host = _s(raw).strip()
        if not host or host == "*":
            continue
        parsed = parse_host(host, obj.namespace, known.names)
        if not parsed.complete:
            # "name.namespace" of a namespace the inventory may not know of is a Service to Kiali
            uncertain |= host.count(".") == 1 and known.inv.cluster_namespaces is None
            continue
        svc_ns = known.namespaces.get(parsed.namespace)
        if svc_ns is None or not known.services_known(parsed.namespace):
            uncertain = True
            continue
        if not svc_ns.ambient:
            continue
        svc = known.services.get((parsed.namespace, parsed.service))
        if svc is None:
            continue
        resolved = True
        if (svc.namespace, svc.name) in seen:
            continue
        seen.add((svc.namespace, svc.name))
        where = path.format(i)
        if obj.namespace != svc.namespace:
            checks.append(Check(elsewhere, WARNING, f"{what} for {svc.name}.{svc.namespace}, an ambient Service, is in "
                                f"namespace {obj.namespace}: a waypoint applies only the config of its Service's "
                                f"namespace, so move it to {svc.namespace}", where, invalidates=True))
        if not enrolled(svc.labels, svc_ns.labels):
            checks.append(Check(not_captured, WARNING, f"{what} for {svc.name}.{svc.namespace}, which no waypoint "
                                f"carries (ztunnel alone cannot apply it): {_ENROLL} on the Service or its namespace",
                                where, invalidates=True))
    if not resolved and not uncertain:
        ns = known.ambient(obj.namespace)
        if ns is not None and not enrolled(None, ns.labels):
            checks.append(Check(ns_not_enrolled, WARNING, f"{what} in ambient namespace {obj.namespace}, which is not "
                                f"enrolled to use a waypoint (ztunnel alone cannot apply it): {_ENROLL} on the "
                                "namespace", path.format(0), invalidates=True))
    return checks


def config_checks(inv: Inventory, objects: Iterable[IstioObject] | None = None) -> dict[ObjectKey, list[Check]]:
    """Kiali's ambient checks of Istio config (see the module docstring), per object key."""
    known = _Known(inv)
    out: dict[ObjectKey, list[Check]] = {}
    for obj in inv.istio if objects is None else objects:
        try:
            if obj.kind in _POLICY_CODES:
                found = _check_policy(obj, known)
            elif obj.kind in _HOST_CODES:
                found = _check_hosts(obj, known)
            else:
                continue
        except (AttributeError, TypeError, ValueError) as e:
            found = [Check("MDK0001", WARNING, f"could not be fully validated for ambient mode: {e}")]
        if found:
            out.setdefault((obj.kind, obj.namespace, obj.name), []).extend(found)
    return out


# -- workloads ---------------------------------------------------------------------------------------

def _pod_ambient(pod: Pod) -> bool:
    return pod.annotations.get(AMBIENT_ANNOTATION) == "enabled"


def _pod_sidecar(pod: Pod, w: Workload) -> bool:
    """Istio's injector gave the pod its proxy (Kiali reads the injector's status annotation; a pod
    known without annotations, from a hand-made snapshot, by its istio-proxy container unless it is a
    proxy itself: a waypoint or a gateway)."""
    if SIDECAR_STATUS in pod.annotations:
        return pod.has_sidecar
    return not pod.annotations and pod.has_sidecar and not (is_waypoint(w) or is_gateway(w))


def _captured(w: Workload, ns: Namespace) -> bool:
    """Whether ztunnel captures the workload's pods, by their annotation (a Deployment's by its first
    pod's, as Kiali). Pods known without any annotation (a snapshot that kept none) are taken as
    captured in an ambient namespace they do not opt out of."""
    if not w.pods:
        return False
    if not any(p.annotations for p in w.pods):
        return ns.ambient and w.labels.get(DATAPLANE_MODE_LABEL) != NONE
    return _pod_ambient(w.pods[0]) if w.kind == "Deployment" else any(_pod_ambient(p) for p in w.pods)


def _in_ambient(w: Workload, ns: Namespace) -> bool:
    """Kiali's ``IsAmbient`` of a workload: a waypoint, ztunnel, or captured pods."""
    return is_waypoint(w) or any(p.labels.get("app") == "ztunnel" for p in w.pods) or _captured(w, ns)


def _has_sidecar(w: Workload) -> bool:
    """Kiali's ``IstioSidecar``: every pod injected (a Deployment: its first), or no pods."""
    if not w.pods:
        return True
    return _pod_sidecar(w.pods[0], w) if w.kind == "Deployment" else all(_pod_sidecar(p, w) for p in w.pods)


def _asks_ambient(w: Workload, ns: Namespace) -> bool:
    mode = w.labels.get(DATAPLANE_MODE_LABEL)
    return mode == "ambient" or (ns.labels.get(DATAPLANE_MODE_LABEL) == "ambient" and mode != NONE)


def _asks_sidecar(w: Workload, ns: Namespace) -> bool:
    """Whether Istio's injector would give the workload's pods a sidecar (``injects_sidecar``, the rule
    the namespace summary uses too): its pod template's labels, and the ``sidecar.istio.io/inject``
    annotation of the workload or, else, its first pod. Kiali reads ``enabled`` on the workload as
    asking, which Istio's injector does not (in an injected namespace it opts out)."""
    marks = next((m for m in (w.annotations, *(p.annotations for p in w.pods[:1])) if SIDECAR_INJECT in m), {})
    return injects_sidecar(ns.labels, w.labels, marks)


def _asks_waypoint(w: Workload, ns: Namespace) -> bool:
    if w.labels.get(DATAPLANE_MODE_LABEL) == NONE:
        return False
    return enrolled(w.labels, ns.labels)


class _Waypoints:
    """Which waypoint serves a workload (Kiali's resolution of ``WaypointWorkloads``)."""

    def __init__(self, known: _Known) -> None:
        self.known = known
        self.by_name = {(w.namespace, w.name): w for w in known.inv.workloads if is_waypoint(w)}
        # those of namespaces not read, as the gateways outside the selection are read (cluster-wide)
        for w in known.inv.outside_gateways:
            if is_waypoint(w) and w.namespace not in known.read:
                self.by_name.setdefault((w.namespace, w.name), w)

    def serving(self, w: Workload, ns: Namespace) -> list[Workload] | None:
        """The waypoints serving ``w`` ([] for none), None when the inventory cannot tell."""
        if not any(_pod_ambient(p) for p in w.pods) and not (w.pods and _captured(w, ns)):
            return []  # Kiali looks for a waypoint only for a workload with a pod in ambient
        if w.labels.get(USE_WAYPOINT) == NONE:
            return []
        named = self.named(w, ns)
        if named is None or not named[0]:
            return None if named is None else []
        wp, known = self.find(*named)
        if not known:
            return None
        if wp is None or wp.labels.get(WAYPOINT_FOR) == NONE:
            return []
        return [wp]

    def find(self, name: str, where: str) -> tuple[Workload | None, bool]:
        """The waypoint ``name`` of namespace ``where`` (None: it does not run), and whether the inventory
        can tell (False: it is not known whether it runs)."""
        wp = self.by_name.get((where, name))
        if wp is not None:
            return wp, True
        if where in self.known.read:
            return None, self.known.workloads_known(where)
        # another namespace's waypoint: Kiali finds waypoints in the whole cluster
        if not self.known.waypoints_outside_known(where):
            return None, False
        # its Gateway is there, its pods were not found: whether it runs is not known
        return None, not any(g.namespace == where and g.name == name for g in self.known.inv.k8s_gateways)

    def named(self, w: Workload, ns: Namespace) -> tuple[str, str] | None:
        """(waypoint name, its namespace) the workload is sent to, ("", "") for none; None: cannot tell.
        The workload's own label decides, then its pods', then its Service's, then its namespace's."""
        holders: list[dict[str, str]] = [w.labels] if USE_WAYPOINT in w.labels else \
            [p.labels for p in w.pods if USE_WAYPOINT in p.labels][:1]
        if not holders:
            if w.labels:  # a workload without labels has no Service
                if not self.known.services_known(w.namespace):
                    return None
                services = [s for s in self.known.services_in.get(w.namespace, ()) if s.selects(w.labels)]
                if len(services) == 1 and USE_WAYPOINT in services[0].labels:
                    holders = [services[0].labels]
            if not holders and USE_WAYPOINT in ns.labels:
                holders = [ns.labels]
        if not holders:
            return "", ""
        labels = holders[0]
        if labels[USE_WAYPOINT] == NONE:
            return "", ""
        return labels[USE_WAYPOINT], labels.get(USE_WAYPOINT_NAMESPACE) or w.namespace


def _policy_applies(ap: IstioObject, w: Workload, known: _Known) -> bool | None:
    """Whether an L7 AuthorizationPolicy of the workload's namespace is meant for it (None: cannot tell):
    Services its targetRefs name that select it (a Gateway target attaches to a waypoint), else its
    selector, else the whole namespace."""
    spec = _d(ap.spec)
    if _has_target_refs(spec):
        names = _service_refs(spec)
        if names and not known.services_known(w.namespace):
            return None
        return any((s := known.services.get((w.namespace, n))) is not None and s.selects(w.labels) for n in names)
    selector = _labels(_d(spec.get("selector")).get("matchLabels"))
    return all(w.labels.get(k) == v for k, v in selector.items())


def _needs_waypoint_for_policies(w: Workload, ns: Namespace, served: list[Workload] | None, known: _Known,
                                 policies: list[IstioObject]) -> bool:
    if is_waypoint(w) or is_gateway(w) or w.labels.get(DATAPLANE_MODE_LABEL) == NONE:
        return False
    if not (_in_ambient(w, ns) or _asks_ambient(w, ns)) or served is None or served:
        return False
    # one policy read that applies is enough (those that could not be listed can only add to it)
    return any(l7_authorization(_d(ap.spec)) and _policy_applies(ap, w, known) for ap in policies)


def _check_workload(w: Workload, ns: Namespace, known: _Known, waypoints: _Waypoints,
                    policies: list[IstioObject]) -> list[Check]:
    checks: list[Check] = []
    asks_ambient, asks_sidecar = _asks_ambient(w, ns), _asks_sidecar(w, ns)
    if asks_ambient and asks_sidecar:
        checks.append(Check("KIA1311", ERROR, "both ambient mode and sidecar injection are asked for (by its own or "
                            f"its namespace's labels: {DATAPLANE_MODE_LABEL}, istio-injection, istio.io/rev or "
                            f"{SIDECAR_INJECT}): "
                            "choose one"))
    if known.inv.unread(w.namespace, ("pods",)):
        return checks  # what its pods are is not known
    asks_waypoint = _asks_waypoint(w, ns)
    if w.pods and asks_waypoint and not _in_ambient(w, ns):
        checks.append(Check("KIA1312", WARNING, f"it asks for a waypoint ({USE_WAYPOINT}, its own or its namespace's) "
                            "but is not in ambient mode: no waypoint carries its traffic", invalidates=True))
    served = waypoints.serving(w, ns)
    if w.pods and asks_waypoint and served == []:
        named = waypoints.named(w, ns)
        which = f"waypoint {named[1]}/{named[0]}" if named and named[0] else "waypoint"
        checks.append(Check("KIA1313", ERROR, f"the {which} it asks for ({USE_WAYPOINT}) does not exist, or does "
                            f"not serve workloads ({WAYPOINT_FOR}=none)" + (
                                "" if _in_ambient(w, ns) else ", or it is not in ambient mode to be served")))
    if asks_sidecar and any(_pod_ambient(p) for p in w.pods):
        checks.append(Check("KIA1314", ERROR, "sidecar injection is asked for, but ztunnel captures its pods "
                            f"({AMBIENT_ANNOTATION}=enabled): choose one"))
    if asks_ambient and any(_pod_sidecar(p, w) for p in w.pods):
        checks.append(Check("KIA1315", ERROR, "ambient mode is asked for, but a pod runs an injected sidecar: "
                            "choose one (restart it without injection, or opt it out of ambient)"))
    if w.pods and _has_sidecar(w) and ns.ambient:
        checks.append(Check("KIA1316", WARNING, f"it runs a sidecar in ambient namespace {w.namespace}",
                            invalidates=True))
    if _needs_waypoint_for_policies(w, ns, served, known, policies):
        checks.append(Check("KIA1317", WARNING, "L7 AuthorizationPolicies apply to it, but no waypoint carries its "
                            "traffic: ztunnel cannot enforce their L7 rules (enroll it with "
                            f"{USE_WAYPOINT}=<waypoint>)", invalidates=True))
    return checks


def workload_checks(inv: Inventory) -> dict[ObjectKey, list[Check]]:
    """Kiali's ambient checks of each workload (see the module docstring), keyed ``(WORKLOAD, namespace,
    name)``: every workload has its list, empty where its namespace's labels are not known."""
    known = _Known(inv)
    waypoints = _Waypoints(known)
    policies: dict[str, list[IstioObject]] = {}
    for ap in inv.istio_objects("AuthorizationPolicy"):
        policies.setdefault(ap.namespace, []).append(ap)
    out: dict[ObjectKey, list[Check]] = {}
    for w in inv.workloads:
        found = out.setdefault((WORKLOAD, w.namespace, w.name), [])
        ns = known.namespaces.get(w.namespace)
        if ns is None:
            continue  # its namespace's labels are not known
        try:
            found += _check_workload(w, ns, known, waypoints, policies.get(w.namespace, []))
        except (AttributeError, TypeError, ValueError) as e:
            found.append(Check("MDK0001", WARNING, f"could not be fully validated for ambient mode: {e}"))
    return out


def ztunnel_missing(inv: Inventory) -> str:
    """Why a namespace cannot be added to ambient mode in ``inv``'s cluster: no ztunnel runs there (no pod
    labelled ``app=ztunnel``, ambient mode's node proxy, among its workloads or those found outside the
    selection), as Kiali offers ambient only in a cluster with a ztunnel DaemonSet; "" when one runs, or when
    that is not known (ztunnel's pods could not be listed, a snapshot that did not keep them)."""
    if inv.ztunnels is None:
        return ""
    if any(w.labels.get("app") == "ztunnel" or any(p.labels.get("app") == "ztunnel" for p in w.pods)
           for w in (*inv.ztunnels, *inv.workloads)):
        return ""
    return ("No ztunnel runs in this cluster (no pod labelled app=ztunnel): Istio is not installed with ambient "
            "mode here, so nothing would take the namespace's pods. Install Istio's ambient profile first.")
