"""Change plans: what an action will write, shown before it is written.

A ``ChangePlan`` is a list of ``Change``s (create, replace or delete an Istio object, or patch a
namespace's labels), each carrying what the cluster had when the plan was made (``before``, with its
``resourceVersion``), so that ``preview()`` can show the YAML and a unified diff, ``check()`` can judge
the result against the CRD schemas and the config validations, and a write can refuse to overwrite
something that changed meanwhile.

The plan builders here (``service_routing_plan``, ``service_entry_plan``, ``peer_authentication_plan``,
``injection_plan``, ``removal_plan``) turn the intents of ``meshdesk.mesh.routing`` into plans against
an inventory. Writing is ``meshdesk.sources.writes``'s business.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from meshdesk.mesh.inventory import (
    AMBIENT_ANNOTATION,
    GATEWAY_API_GROUP,
    GATEWAY_API_KINDS,
    VERSION_LABELS,
    WORKLOAD_LISTS,
    Inventory,
    IstioObject,
    Service,
    ServicePort,
    Workload,
    first_label,
)
from meshdesk.mesh.readers import as_dict as _d
from meshdesk.mesh.routing import (
    GATEWAYS_WRITTEN,
    INGRESS_SELECTOR,
    MIRROR_WRITTEN,
    POLICY_WRITTEN,
    SERVICE_ENTRY_FIELDS,
    ClientTls,
    GatewayBinding,
    LoadBalancer,
    RoutingError,
    ServiceRouting,
    applies_to_mesh,
    build_gateway,
    build_peer_authentication,
    build_service_routing,
    cluster_gateways,
    condition_words,
    current_routing,
    duration_seconds,
    gateway_binding_problem,
    gateway_ref,
    gateways_spec,
    host_names,
    injection_change,
    is_managed,
    is_meshdesk_subset_name,
    managed_objects,
    merge_service_entry,
    mirror_written,
    opt_out_mark,
    options_spec,
    opts_out_of_injection,
    restarts_for_injection,
    routes_service,
    service_host,
    tcp_only,
    unmodelled,
    versions_of,
)
from meshdesk.mesh.schema import CRDSchemas
from meshdesk.mesh.validations import ERROR, fqdn, hosts_declared_elsewhere, route_destinations, validate
from meshdesk.mesh.words import counted

CREATE = "create"
REPLACE = "replace"
DELETE = "delete"
LABEL = "label"  # namespace label patch
RESTART = "restart"  # a workload's rollout restart (its pod template's restartedAt annotation patched)

# the controllers a restart patches, by kind: (group, plural); as ``kubectl rollout restart``
RESTARTABLE: dict[str, tuple[str, str]] = {"Deployment": ("apps", "deployments"),
                                           "StatefulSet": ("apps", "statefulsets"),
                                           "DaemonSet": ("apps", "daemonsets")}
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # the annotation kubectl writes (so kubectl reads it too)

# (group, plural) of the kinds meshdesk writes
RESOURCES: dict[str, tuple[str, str]] = {
    "VirtualService": ("networking.istio.io", "virtualservices"),
    "DestinationRule": ("networking.istio.io", "destinationrules"),
    "ServiceEntry": ("networking.istio.io", "serviceentries"),
    "PeerAuthentication": ("security.istio.io", "peerauthentications"),
    # the rest of the Istio config the Istio config dock lists, written by editing its YAML there
    "Gateway": ("networking.istio.io", "gateways"),
    "Sidecar": ("networking.istio.io", "sidecars"),
    "WorkloadEntry": ("networking.istio.io", "workloadentries"),
    "WorkloadGroup": ("networking.istio.io", "workloadgroups"),
    "EnvoyFilter": ("networking.istio.io", "envoyfilters"),
    "ProxyConfig": ("networking.istio.io", "proxyconfigs"),
    "AuthorizationPolicy": ("security.istio.io", "authorizationpolicies"),
    "RequestAuthentication": ("security.istio.io", "requestauthentications"),
    "Telemetry": ("telemetry.istio.io", "telemetries"),
    "WasmPlugin": ("extensions.istio.io", "wasmplugins"),
    # the Kubernetes Gateway API's, under Kiali's names for them (``GATEWAY_API_KINDS``)
    "K8sGateway": ("gateway.networking.k8s.io", "gateways"),
    "K8sHTTPRoute": ("gateway.networking.k8s.io", "httproutes"),
    "K8sGRPCRoute": ("gateway.networking.k8s.io", "grpcroutes"),
    "K8sTCPRoute": ("gateway.networking.k8s.io", "tcproutes"),
    "K8sTLSRoute": ("gateway.networking.k8s.io", "tlsroutes"),
    "K8sReferenceGrant": ("gateway.networking.k8s.io", "referencegrants"),
}


@dataclass
class Change:
    """One write. ``obj`` is the object to create or replace (for a delete: what is deleted); ``before``
    is the object as the cluster had it when the plan was made (None for a create). For a namespace
    label patch ``labels`` holds the patch (None removes a label) and ``before_labels`` the labels then."""

    op: str
    obj: IstioObject | None = None
    before: IstioObject | None = None
    namespace: str = ""
    labels: dict[str, str | None] = field(default_factory=dict)
    before_labels: dict[str, str] | None = None
    before_version: str = ""  # the namespace's resourceVersion when known
    # a restart's workload (its kind and name, in ``namespace``) and the time written into its template
    workload_kind: str = ""
    workload_name: str = ""
    restarted_at: str = ""

    @property
    def kind(self) -> str:
        if self.op == RESTART:
            return self.workload_kind
        return "Namespace" if self.op == LABEL else (self.obj.kind if self.obj else "")

    @property
    def api_kind(self) -> str:
        """The kind as its API names it, as a person reads it ("HTTPRoute", not Kiali's "K8sHTTPRoute")."""
        return GATEWAY_API_KINDS.get(self.kind, self.kind)

    @property
    def name(self) -> str:
        if self.op == RESTART:
            return self.workload_name
        return self.namespace if self.op == LABEL else (self.obj.name if self.obj else "")

    @property
    def ns(self) -> str:
        if self.op == RESTART:
            return self.namespace
        return "" if self.op == LABEL else (self.obj.namespace if self.obj else "")

    def restart_patch(self) -> dict[str, Any]:
        """A restart's merge patch: the pod template's restartedAt annotation, as ``kubectl rollout
        restart`` writes it (new pods replace the old ones as the controller's update strategy says)."""
        return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: self.restarted_at}}}}}

    def title(self) -> str:
        verb = {CREATE: "Create", REPLACE: "Replace", DELETE: "Delete", LABEL: "Label", RESTART: "Restart"}[self.op]
        if self.op == LABEL:
            return f"{verb} namespace {self.namespace}"
        # a Gateway API Gateway is not Istio's Gateway: said apart ("HTTPRoute" alone is unambiguous)
        kind = "Kubernetes Gateway" if self.kind == "K8sGateway" else self.api_kind
        return f"{verb} {kind} {self.ns}/{self.name}"

    def after_labels(self) -> dict[str, str]:
        out = dict(self.before_labels or {})
        for k, v in self.labels.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def yaml_after(self) -> str:
        """The object as it will be (empty for a delete)."""
        if self.op == DELETE:
            return ""
        if self.op == LABEL:
            return _yaml({"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": self.namespace, "labels": self.after_labels()}})
        if self.op == RESTART:  # the patch, on the controller it is sent to
            return _yaml({"apiVersion": "apps/v1", "kind": self.workload_kind,
                          "metadata": {"name": self.workload_name, "namespace": self.namespace},
                          **self.restart_patch()})
        assert self.obj is not None
        return _yaml(_shown(self.obj))

    def yaml_before(self) -> str:
        if self.op == RESTART:
            return ""
        if self.op == LABEL:
            if self.before_labels is None:
                return ""
            return _yaml({"apiVersion": "v1", "kind": "Namespace",
                          "metadata": {"name": self.namespace, "labels": dict(self.before_labels)}})
        return _yaml(_shown(self.before)) if self.before is not None else ""

    def diff(self) -> str:
        """A unified diff from what the cluster has now to what it will have."""
        what = f"{self.api_kind.lower()}/{self.ns + '/' if self.ns else ''}{self.name}"
        lines = difflib.unified_diff(self.yaml_before().splitlines(keepends=True),
                                     self.yaml_after().splitlines(keepends=True),
                                     fromfile=f"cluster: {what}" if self.op != CREATE else "/dev/null",
                                     tofile=f"after: {what}" if self.op != DELETE else "/dev/null")
        return "".join(lines)


def _shown(obj: IstioObject) -> dict[str, Any]:
    """The manifest as a person reads it (no resourceVersion: that is bookkeeping)."""
    m = obj.to_manifest()
    m["metadata"].pop("resourceVersion", None)
    return m


# characters a text value keeps only as escapes: YAML reads NEL and the Unicode line and paragraph
# separators written as themselves as line breaks (folded to a space), and Qt's editor gives the line
# separators and a no-break space back as a newline and a plain space; a value holding one ("10\u00a0ms")
# came back changed from an edit that did not touch it
_ESCAPED = frozenset("\x85\u2028\u2029\xa0")


class _EditableDumper(yaml.SafeDumper):
    """``yaml.SafeDumper`` writing a string that holds one of ``_ESCAPED`` double-quoted, with those
    characters (and the string's other non-ASCII ones) escaped, a string of several lines as a literal
    block where it can be; the rest as ``safe_dump`` does."""

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        if _ESCAPED.isdisjoint(text):
            super().write_double_quoted(text, split)
            return
        keep = self.allow_unicode
        self.allow_unicode = False  # the emitter writes a no-break space as itself otherwise
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = keep


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if not _ESCAPED.isdisjoint(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        # a text of several lines (an EnvoyFilter's Lua, a WasmPlugin's config) as a literal block, its
        # lines as they are, as kubectl and Kiali show it; the emitter keeps the quoted form where a
        # block would not read back the same (trailing spaces, tabs, a carriage return)
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_EditableDumper.add_representer(str, _represent_str)


def dump_yaml(doc: Any) -> str:
    """``doc`` as the dock shows and edits it: keys in their order, block style, Unicode as itself
    except where it would not come back as it was (``_ESCAPED``)."""
    return yaml.dump(doc, Dumper=_EditableDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


class _PlainDumper(_EditableDumper):
    """``_EditableDumper`` (the review's YAML reads as the Istio config view's) writing a value met twice
    in full each time: the review is read by people, to whom an anchor and its aliases ("fault: *id001")
    hide what a rule gets."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


@dataclass
class ChangePlan:
    """What one action will write, in order, and a one-line summary of why."""

    summary: str
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. which workloads need a restart
    # objects the changes rely on and do not write, as (kind, namespace, name, why): a Gateway the
    # VirtualService is bound to. The review and the apply check they are still there
    needs: list[tuple[str, str, str, str]] = field(default_factory=list)
    # what the review says when the plan changes nothing ("": the cluster has this configuration already)
    nothing: str = ""

    @property
    def empty(self) -> bool:
        return not self.changes

    def preview(self) -> str:
        """YAML of each object as it will be, then the unified diff against the cluster now."""
        if not self.changes:
            return "Nothing to change: the cluster already has this configuration.\n"
        parts = []
        for c in self.changes:
            parts.append(f"# {c.title()}\n")
            parts.append(c.yaml_after() if c.op != DELETE else "# (deleted)\n")
            parts.append("---\n")
        return "".join(parts)

    def diff(self) -> str:
        return "".join(c.diff() for c in self.changes)

    def objects(self) -> list[IstioObject]:
        return [c.obj for c in self.changes if c.obj is not None and c.op in (CREATE, REPLACE)]


# -- the inventory as it would be ----------------------------------------------------------------

def inventory_after(inv: Inventory, plan: ChangePlan) -> Inventory:
    """The inventory as it would be once ``plan`` is written, for validating it. Only what the plan
    changes is copied (the Istio list, a relabelled namespace): ``inv`` is left as it was, and the rest is
    shared, as the checks only read it (a deep copy of a big mesh took longer than the checks, each
    pause in typing in the YAML editor)."""
    out = replace(inv, istio=list(inv.istio), namespaces=list(inv.namespaces))
    for c in plan.changes:
        if c.op == RESTART:
            continue  # new pods, the same config
        if c.op == LABEL:
            out.namespaces = [replace(ns, labels=c.after_labels()) if ns.name == c.namespace else ns
                              for ns in out.namespaces]
            continue
        assert c.obj is not None
        key = (c.obj.kind, c.obj.namespace, c.obj.name)
        out.istio = [o for o in out.istio if (o.kind, o.namespace, o.name) != key]
        if c.op != DELETE:
            out.istio.append(copy.deepcopy(c.obj))
    return out


@dataclass
class Findings:
    """What ``check`` found: schema problems per object, and new validation findings."""

    schema: list[str] = field(default_factory=list)
    validation: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "no CRD schemas: checked by the dry run only"
    errors: int = 0  # how many are errors (schema problems and error-severity validations)

    @property
    def clean(self) -> bool:
        return not self.schema and not self.validation


def check(plan: ChangePlan, schemas: CRDSchemas | None, inventory: Inventory | None,
          schema_notes: Sequence[str] = ()) -> Findings:
    """Schema problems of every object the plan writes, and the validation findings the inventory would
    have after the change that it does not have now. ``schema_notes`` say why schemas are missing (from
    whoever read them); without schemas and notes a generic note says the dry run is the only check."""
    out = Findings(notes=list(schema_notes))
    if schemas is None or not schemas.schemas:
        if not out.notes:
            out.notes.append("No CRD schemas are available here: the objects are checked by the server's dry "
                             "run only.")
    else:
        # by kind and group: the Gateway API's Gateway is not Istio's, whose schema says nothing of it
        with_schema = {(kind, api.split("/", 1)[0]) for kind, api in schemas.schemas}
        for obj in plan.objects():
            manifest = obj.to_manifest()
            if (manifest["kind"], str(manifest.get("apiVersion", "")).split("/", 1)[0]) not in with_schema:
                continue  # its CRD carries no schema (the notes say so): the server's dry run judges it
            for problem in schemas.validate(manifest):
                out.schema.append(f"{manifest['kind']} {obj.namespace}/{obj.name}: {problem}")
                out.errors += 1
    if inventory is not None:
        before = validate(inventory)
        after = validate(inventory_after(inventory, plan))
        for key, v in sorted(after.items()):
            old = {(c.code, c.message, c.path) for c in before[key].checks} if key in before else set()
            for c in v.checks:
                if (c.code, c.message, c.path) not in old:
                    out.validation.append(f"{c.severity}: {key[0]} {key[1]}/{key[2]}: {c}")
                    if c.severity == ERROR:
                        out.errors += 1
    return out


# -- plan builders ---------------------------------------------------------------------------------

def _put(plan: ChangePlan, new: IstioObject, existing: IstioObject | None) -> None:
    """Create ``new``, or replace ``existing`` with it, keeping its name, labels and annotations: an object
    someone else wrote stays theirs (it does not get ``MANAGED_LABEL``, so removing what meshdesk
    created never deletes it)."""
    if existing is None:
        plan.changes.append(Change(CREATE, obj=new))
        return
    obj = copy.deepcopy(new)
    obj.name = existing.name
    obj.labels = {**existing.labels, **new.labels} if is_managed(existing) else dict(existing.labels)
    obj.annotations = {**existing.annotations, **new.annotations}
    if obj.kind == "DestinationRule" and (POLICY_WRITTEN not in new.annotations or not is_managed(existing)):
        # the TLS and load balancer meshdesk wrote are recorded in what it created only, and only while
        # they are written there
        obj.annotations.pop(POLICY_WRITTEN, None)
    obj.resource_version = existing.resource_version
    if obj.api_version.split("/")[0] == existing.api_version.split("/")[0]:
        obj.api_version = existing.api_version  # keep the version the cluster served it as
    if obj.spec == existing.spec:
        return  # nothing changes
    plan.changes.append(Change(REPLACE, obj=obj, before=copy.deepcopy(existing)))


# the circuit-breaker, TLS and load-balancer fields meshdesk sets in a DestinationRule's trafficPolicy;
# every other field there (a connect timeout, gateway errors, a TLS credentialName or SNI, locality
# load balancing, a ring size) is someone else's and is kept
_TLS_FIELDS = ("mode", "clientCertificate", "privateKey", "caCertificates")
_HASH_FIELDS = ("httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName")
# how the hash maps keys (the schema's second oneOf; minimumRingSize is the deprecated ring size)
_HASH_ALGORITHM_FIELDS = ("ringHash", "maglev", "minimumRingSize")
# the cookie's fields meshdesk sets (its attributes are someone else's, kept)
_COOKIE_FIELDS = ("name", "path", "ttl")
# the settings of which a load balancer takes one (the schema's oneOf)
_LB_CHOICES = ("simple", "consistentHash", "backendUtilization")
# the locality settings meshdesk sets (failoverPriority, which it does not show, is kept)
_LOCALITY_FIELDS = ("enabled", "distribute", "failover")
_POOL_FIELDS = {"tcp": ("maxConnections",), "http": ("http1MaxPendingRequests", "maxRequestsPerConnection")}
_OUTLIER_FIELDS = ("consecutive5xxErrors", "interval", "baseEjectionTime", "maxEjectionPercent")


def _ours(policy: dict[str, Any], key: str) -> dict[str, Any]:
    """The part of ``policy[key]`` (``tls`` or ``loadBalancer``) meshdesk sets, as it is written there."""
    block = policy.get(key)
    if not isinstance(block, dict):
        return {}
    if key == "tls":
        return {k: v for k, v in block.items() if k in _TLS_FIELDS}
    out = {k: v for k, v in block.items() if k == "simple"}
    hashed = block.get("consistentHash")
    if isinstance(hashed, dict) and any(k in hashed for k in _HASH_FIELDS):
        out["consistentHash"] = {k: v for k, v in hashed.items() if k in _HASH_FIELDS + _HASH_ALGORITHM_FIELDS}
        cookie = out["consistentHash"].get("httpCookie")
        if isinstance(cookie, dict):
            out["consistentHash"]["httpCookie"] = {k: v for k, v in cookie.items() if k in _COOKIE_FIELDS}
    locality = block.get("localityLbSetting")
    if isinstance(locality, dict) and any(k in locality for k in _LOCALITY_FIELDS):
        out["localityLbSetting"] = {k: v for k, v in locality.items() if k in _LOCALITY_FIELDS}
    return out


def _without_ours(policy: dict[str, Any], mine: Sequence[str] = ("tls", "loadBalancer")) -> dict[str, Any]:
    """``policy`` without the circuit-breaker fields meshdesk sets (empty sections dropped), and without
    its TLS and load-balancer fields where ``mine`` says they are meshdesk's (see ``_written_by_us``)."""
    out = copy.deepcopy(policy)
    if "tls" in mine and isinstance(out.get("tls"), dict):
        for f in _TLS_FIELDS:
            out["tls"].pop(f, None)
        if not out["tls"]:
            del out["tls"]
    lb = out.get("loadBalancer")
    if "loadBalancer" in mine and isinstance(lb, dict):
        lb.pop("simple", None)
        hashed = lb.get("consistentHash")
        if isinstance(hashed, dict):
            if any(k in hashed for k in _HASH_FIELDS):  # a hash meshdesk reads (so writes back whole)
                for f in _HASH_ALGORITHM_FIELDS:
                    hashed.pop(f, None)
            cookie = hashed.get("httpCookie")
            for f in _HASH_FIELDS:
                hashed.pop(f, None)
            if isinstance(cookie, dict) and {k: v for k, v in cookie.items() if k not in _COOKIE_FIELDS}:
                hashed["httpCookie"] = {k: v for k, v in cookie.items() if k not in _COOKIE_FIELDS}
            if not lb["consistentHash"]:
                del lb["consistentHash"]
        locality = lb.get("localityLbSetting")
        if isinstance(locality, dict):
            for f in _LOCALITY_FIELDS:
                locality.pop(f, None)
            if not locality:
                del lb["localityLbSetting"]
        if not lb:
            del out["loadBalancer"]
    pool = out.get("connectionPool")
    if isinstance(pool, dict):
        for section, fields in _POOL_FIELDS.items():
            if isinstance(pool.get(section), dict):
                for f in fields:
                    pool[section].pop(f, None)
                if not pool[section]:
                    del pool[section]
        if not pool:
            del out["connectionPool"]
    outlier = out.get("outlierDetection")
    if isinstance(outlier, dict):
        for f in _OUTLIER_FIELDS:
            outlier.pop(f, None)
        if not outlier:
            del out["outlierDetection"]
    return out


def _merged(old: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """``ours`` laid over ``old``, section by section (dicts merge, other values replace)."""
    out = copy.deepcopy(old)
    for k, v in ours.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _merge_destination_rule(new: IstioObject, existing: IstioObject | None) -> IstioObject:
    """``new`` laid into an existing DestinationRule, keeping everything meshdesk does not set: TLS
    settings, load balancer, connection-pool fields other than meshdesk's circuit breaker, other subsets,
    and a subset meshdesk needs that is there already, as it is (losing a ``tls`` block or a subset's
    extra label would change who gets what). Raises ``RoutingError`` when a subset meshdesk needs is
    there under its name for another version."""
    if existing is None:
        return new
    out = copy.deepcopy(new)
    raw = existing.spec.get("trafficPolicy")
    policy = _merged(_without_ours(raw if isinstance(raw, dict) else {}), out.spec.get("trafficPolicy") or {})
    ours_lb = _d(_d(out.spec.get("trafficPolicy")).get("loadBalancer"))
    if any(c in ours_lb for c in _LB_CHOICES) and isinstance(policy.get("loadBalancer"), dict):
        # a load balancer takes one algorithm: the one meshdesk sets replaces another kept there (a ring
        # size of a consistent hash goes with it when the algorithm is a simple one)
        for choice in _LB_CHOICES:
            if choice not in ours_lb:
                policy["loadBalancer"].pop(choice, None)
        # a cookie's kept attributes go with the cookie when the hash is on something else now
        kept = _d(policy["loadBalancer"].get("consistentHash"))
        if "httpCookie" in kept and "httpCookie" not in _d(ours_lb.get("consistentHash")):
            del kept["httpCookie"]
    if policy:
        out.spec["trafficPolicy"] = _in_order_of(policy, raw if isinstance(raw, dict) else {})
    else:
        out.spec.pop("trafficPolicy", None)
    ours = {s["name"]: s for s in out.spec.get("subsets") or []}
    theirs = [s for s in existing.spec.get("subsets") or [] if isinstance(s, dict)]
    for s in theirs:
        name = s.get("name")
        version = first_label(s.get("labels"), VERSION_LABELS)
        wanted = first_label(ours[name].get("labels"), VERSION_LABELS) if name in ours else None
        if wanted is not None and version is not None and version != wanted:
            raise RoutingError(f"DestinationRule {existing.namespace}/{existing.name} has a subset {name} for "
                               f"version {version}, the name meshdesk gives the subset of version {wanted}: "
                               f"rename that subset first")
    have = {s.get("name") for s in theirs}
    added = [s for name, s in ours.items() if name not in have]
    if theirs or added:
        out.spec["subsets"] = [*copy.deepcopy(theirs), *sorted(added, key=lambda s: str(s.get("name")))]
    for key, value in existing.spec.items():
        if key not in ("trafficPolicy", "subsets") and key not in out.spec:
            out.spec[key] = copy.deepcopy(value)
    out.spec["host"] = existing.spec.get("host") or out.spec["host"]  # it names this service already
    out.spec = _as_written(_in_order_of(out.spec, existing.spec), existing.spec, existing.namespace)
    return out


def _in_order_of(spec: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with its keys in the order ``old`` had them (new keys last), so a diff shows what
    changed rather than what moved; the same within the sections both have (a TLS change once showed a
    connection pool's kept ``maxConnections`` moved, as removed and added)."""
    ordered = {k: _ordered_like(spec[k], v) for k, v in old.items() if k in spec}
    ordered.update({k: v for k, v in spec.items() if k not in ordered})
    return ordered


def _ordered_like(new: Any, old: Any) -> Any:
    """``new`` with the key order of ``old``: in mappings, and in lists of as many items (a VirtualService's
    rules rewritten one for one: a rule written retries first, route second, stays so)."""
    if isinstance(new, dict) and isinstance(old, dict):
        return _in_order_of(new, old)
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [_ordered_like(n, o) for n, o in zip(new, old, strict=True)]
    return new


# the fields meshdesk writes as durations, and those naming a host: Istio reads "1.0s" as "1s", and a
# short host name as the service's full one
_DURATION_FIELDS = frozenset(("timeout", "perTryTimeout", "fixedDelay", "interval", "baseEjectionTime", "ttl"))
_HOST_FIELDS = frozenset(("host",))


def _same_meaning(key: str, new: Any, old: Any, namespace: str) -> bool:
    """Whether ``old``, as written in the object, means what meshdesk would write as ``new`` there."""
    if new == old and type(new) is type(old):
        return True
    if key in _HOST_FIELDS and isinstance(new, str) and isinstance(old, str):
        return bool(old.strip()) and fqdn(new, namespace) == fqdn(old, namespace)
    if key in _DURATION_FIELDS:
        a, b = duration_seconds(new), duration_seconds(old)
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(new, int | float) and not isinstance(new, bool) and not isinstance(old, bool):
        try:
            return math.isclose(float(old), float(new), rel_tol=1e-12, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    return False


def _counterparts(new: list[Any], old: list[Any], key: str, namespace: str) -> list[Any]:
    """For each element of ``new``, the element of ``old`` it stands for (None: none): an HTTP/TCP rule
    with the same match, a route to the same subset of the same host; else the one at the same place,
    when nothing took it (a route to another subset still names the host as that one did); else, for
    a new rule or route, the last one, so it is written as the others are."""
    def same(a: Any, b: Any) -> bool:
        if not isinstance(a, dict) or not isinstance(b, dict):
            return False
        if key in ("http", "tcp", "tls"):
            return a.get("match") == b.get("match")
        if key == "route":
            da, db = a.get("destination"), b.get("destination")
            return isinstance(da, dict) and isinstance(db, dict) and da.get("subset") == db.get("subset") \
                and fqdn(str(da.get("host") or ""), namespace) == fqdn(str(db.get("host") or ""), namespace)
        return False

    out: list[Any] = [None] * len(new)
    taken: set[int] = set()
    placed: set[int] = set()
    for i, item in enumerate(new):
        j = next((j for j, o in enumerate(old) if j not in taken and same(item, o)), None)
        if j is not None:
            out[i] = old[j]
            taken.add(j)
            placed.add(i)
    for i in range(len(new)):
        if i not in placed and i < len(old) and i not in taken:
            out[i] = old[i]
            taken.add(i)
            placed.add(i)
    for i, item in enumerate(new):
        if i not in placed and isinstance(item, dict) and old and isinstance(old[-1], dict):
            # a rule or route that is new: written as the last one there is (its host, its durations)
            out[i] = old[-1]
    return out


def _as_written(new: Any, old: Any, namespace: str, key: str = "") -> Any:
    """``new`` with every value that means what ``old`` has at the same place written as ``old`` has it
    (a short host, "1.0s", 100 for 100.0), so a replace changes only what the user changed and the
    diff shows only that. What differs in meaning stays as meshdesk writes it."""
    if isinstance(new, dict) and isinstance(old, dict):
        return {k: _as_written(v, old[k], namespace, k) if k in old else v for k, v in new.items()}
    if isinstance(new, list) and isinstance(old, list):
        out = [_as_written(v, o, namespace, key) for v, o in zip(new, _counterparts(new, old, key, namespace),
                                                                   strict=True)]
        if key == "route" and len(out) == 1 and len(old) == 1 and isinstance(out[0], dict) \
                and isinstance(old[0], dict) and "weight" not in old[0] and out[0].get("weight") == 100 \
                and out[0].get("destination") == old[0].get("destination"):
            # the same one destination takes every request with or without "weight: 100"
            out[0] = {k: v for k, v in out[0].items() if k != "weight"}
        elif key == "route" and len(out) == 1 and len(old) == 1 and isinstance(out[0], dict) \
                and isinstance(old[0], dict) and "weight" not in out[0] and old[0].get("weight") == 100 \
                and out[0].get("destination") == old[0].get("destination"):
            out[0] = {**out[0], "weight": old[0]["weight"]}  # and it stays written, as Kiali writes it
        return out
    if old is None or isinstance(new, dict | list):
        return new
    return old if _same_meaning(key, new, old, namespace) else new


def _written_by_us(dr: IstioObject) -> list[str]:
    """Which of the DestinationRule's ``tls`` and ``loadBalancer`` settings are the ones meshdesk wrote
    there (as its ``POLICY_WRITTEN`` annotation records them), not ones someone set or changed by hand:
    a removal keeps theirs. One the rule does not have counts as meshdesk's (there is nothing to keep)."""
    policy = dr.spec.get("trafficPolicy")
    policy = policy if isinstance(policy, dict) else {}
    try:
        written = json.loads(dr.annotations.get(POLICY_WRITTEN) or "{}")
    except ValueError:
        written = {}
    written = written if isinstance(written, dict) else {}
    return [key for key in ("tls", "loadBalancer") if not _ours(policy, key) or _ours(policy, key) == written.get(key)]


def _only_meshdesks(dr: IstioObject) -> bool:
    """Whether a DestinationRule holds nothing but what meshdesk writes (its host, subsets named after
    their version label, the circuit breaker, the TLS it wrote), so deleting it loses nothing else."""
    spec = dr.spec
    if set(spec) - {"host", "subsets", "trafficPolicy"}:
        return False
    policy = spec.get("trafficPolicy")
    if policy is not None and (not isinstance(policy, dict) or _without_ours(policy, _written_by_us(dr))):
        return False
    return all(isinstance(s, dict) and set(s) <= {"name", "labels"} and isinstance(s.get("labels"), dict)
               and len(s["labels"]) == 1 and first_label(s["labels"], VERSION_LABELS) is not None
               and is_meshdesk_subset_name(str(s.get("name")), str(first_label(s["labels"], VERSION_LABELS)))
               for s in spec.get("subsets") or [])


def _vs_part(r: ServiceRouting) -> tuple[Any, ...]:
    """What of an intent a VirtualService holds, in a form that compares equal when its meaning is."""
    f = r.fault
    return ((r.gateway or GatewayBinding()).key(), (r.mirror_version, r.mirror_version and r.mirror_percent),
            {v: w for v, w in r.weights.items() if w > 0},
            [({v: w for v, w in m.destinations.items() if w > 0}, sorted(c.key() for c in m.conditions),
              repr(options_spec(m.own)) if m.own is not None else None,
              (m.mirror_version, m.mirror_version and m.mirror_percent)) for m in r.matches],
            (f.delay_percent, f.delay_percent and f.delay_seconds, f.abort_percent, f.abort_percent and f.abort_status),
            r.timeout_seconds or None,
            (r.retry_attempts, r.retry_per_try_timeout_seconds or None, r.retry_on) if r.retry_attempts is not None
            else None)


def service_routing_plan(inv: Inventory, svc: Service, routing: ServiceRouting, what: str = "") -> ChangePlan:
    """The writes that make ``routing`` the routing of ``svc``: its VirtualService and DestinationRule
    created, replaced or (when nothing needs them any more) deleted, touching only the object whose part
    of the routing changed. Someone else's objects keep what meshdesk does not set; a VirtualService
    whose routes meshdesk cannot rewrite without losing some (a rewrite, a mirror...) is refused with a
    ``RoutingError``, as is any other bad input."""
    now, vs_now, dr_now = current_routing(inv, svc)
    # TLS and the load balancer not asked about stay as they are (read back, so the plan compares them)
    routing = replace(routing, tls=now.tls if routing.tls is None else routing.tls,
                      load_balancer=now.load_balancer if routing.load_balancer is None else routing.load_balancer,
                      gateway=now.gateway if routing.gateway is None else routing.gateway)
    routing = _refuse_gone_versions(svc, routing, versions_of(svc, inv.workloads_for_service(svc)))
    binding, binding_now = routing.gateway or GatewayBinding(), now.gateway or GatewayBinding()
    rebinds = binding.key() != binding_now.key()
    plan = ChangePlan(what or f"Routing of service {svc.namespace}/{svc.name}")
    if rebinds:
        own_hosts = [h for h in (vs_now.spec.get("hosts") or ()) if isinstance(h, str) and h in host_names(svc)] \
            if vs_now is not None else []
        problem = gateway_binding_problem(binding, svc, cluster_gateways(inv), own_hosts, binding_now.gateways)
        if problem:
            raise RoutingError(problem)
        if binding.new_gateway is not None and binding.new_gateway.name in binding.gateways:
            _put(plan, build_gateway(svc.namespace, binding.new_gateway), None)
            root = inv.mesh_settings.root_namespace
            seen = [*inv.workloads, *inv.outside_gateways]
            if any(w.namespace == root for w in seen) and \
                    not any(all(w.labels.get(k) == v for k, v in INGRESS_SELECTOR.items()) for w in seen):
                plan.notes.append(f"Note: no workload meshdesk read (namespace {root} included) has the label "
                                  f"{', '.join(f'{k}={v}' for k, v in INGRESS_SELECTOR.items())}: the new Gateway "
                                  "takes effect on an ingress gateway deployment with that label (Istio's default "
                                  "one has it).")
    # a Gateway bound already is not this change's (Istio ignores one that is gone)
    for ref in gateways_spec(binding) if rebinds else ():
        ns, name = gateway_ref(ref, svc.namespace)
        if ref != "mesh" and ref not in binding_now.gateways and not (
                binding.new_gateway is not None and (ns, name) == (svc.namespace, binding.new_gateway.name)):
            plan.needs.append(("Gateway", ns, name, f"the VirtualService of service {svc.name} is bound to it"))
    vs, dr = build_service_routing(svc, routing, inv.workloads_for_service(svc), always_vs=vs_now is not None and (
        not is_managed(vs_now) or (bool(vs_now.spec.get("gateways")) and not rebinds)), dr=dr_now,
        weights_as_read=now.weights)
    tcp = tcp_only(svc)
    keeps_vs = vs_now is not None and _vs_part(routing) == _vs_part(now)
    _refuse_taken_names(inv, svc, creates=[kind for kind, new, now_ in (("VirtualService", vs, vs_now),
                                                                        ("DestinationRule", dr, dr_now))
                                           if new is not None and now_ is None])
    if dr is not None and POLICY_WRITTEN in dr.annotations:
        # TLS or a load balancer someone else set stays theirs (a removal keeps it) when the change is to
        # something else: only what meshdesk wrote before, or writes now, is recorded as its own
        recorded = _written_by_us(dr_now) if dr_now is not None and POLICY_WRITTEN in dr_now.annotations else []
        written = json.loads(dr.annotations[POLICY_WRITTEN])
        for key, attr, unset in (("tls", "tls", ClientTls()), ("loadBalancer", "load_balancer", LoadBalancer())):
            if dr_now is not None and (getattr(routing, attr) or unset) == (getattr(now, attr) or unset) \
                    and key not in recorded:
                written.pop(key, None)
        if written:
            dr.annotations[POLICY_WRITTEN] = json.dumps(written, sort_keys=True)
        else:
            del dr.annotations[POLICY_WRITTEN]
    tls, tls_now = routing.tls or ClientTls(), now.tls or ClientTls()
    if tls.mode == "DISABLE" and tls.mode != tls_now.mode:
        plan.notes += refused_plain_text(inv, svc)
    if dr is not None:
        merged = _merge_destination_rule(dr, dr_now)
        if POLICY_WRITTEN in merged.annotations:
            # recorded as the rule holds them: a value kept as it was written ("1h" for meshdesk's "3600s")
            # is still the one meshdesk wrote, so a removal knows it for its own
            policy = _d(merged.spec.get("trafficPolicy"))
            merged.annotations[POLICY_WRITTEN] = json.dumps(
                {key: _ours(policy, key) for key in json.loads(merged.annotations[POLICY_WRITTEN])}, sort_keys=True)
        _put(plan, merged, dr_now)
        if routing.circuit_breaker.active and routing.circuit_breaker != now.circuit_breaker:
            plan.notes += _overridden_breaker(merged)  # said where the breaker is set, not on every form
        if tls.active and tls != tls_now:
            plan.notes += _overridden_tls(merged)
        lb, lb_now = routing.load_balancer or LoadBalancer(), now.load_balancer or LoadBalancer()
        if lb.locality.failover and lb.locality != lb_now.locality \
                and not _d(_d(merged.spec.get("trafficPolicy")).get("outlierDetection")):
            plan.notes.append("Note: failover takes effect only with outlier detection (set it in Circuit breaking): "
                              "without it, the sidecars never find the local endpoints failing, so requests stay "
                              "where they are.")
    elif dr_now is not None:
        # subsets a VirtualService left as it is (or the http section of a TCP-only service's) still
        # routes to must stay
        routed = vs_now is not None and any(dest.get("subset") for path, dest in route_destinations(vs_now.spec)
                                            if keeps_vs or (tcp and path.startswith("spec/http")))
        if is_managed(dr_now) and _only_meshdesks(dr_now) and not routed:
            plan.changes.append(Change(DELETE, obj=copy.deepcopy(dr_now), before=copy.deepcopy(dr_now)))
        else:  # someone else's, or someone added to it: only the circuit breaker goes
            bare = IstioObject("DestinationRule", dr_now.name, dr_now.namespace, dr_now.api_version,
                               {"host": dr_now.spec.get("host")}, dict(dr_now.labels))
            _put(plan, _merge_destination_rule(bare, dr_now), dr_now)
    if keeps_vs:
        pass  # the routes are as they were: the VirtualService is left alone, whatever else it holds
    elif vs_now is not None and vs is not None and rebinds and \
            _vs_part(replace(routing, gateway=None)) == _vs_part(replace(now, gateway=None)):
        # only what it is bound to changes: its routes stay as written, whatever they hold (a rewrite...)
        _put(plan, _rebound(vs_now, svc, binding), vs_now)
        for c in plan.changes:
            if c.obj is not None and c.kind == "VirtualService" and c.op == REPLACE and not binding.active:
                c.obj.annotations.pop(GATEWAYS_WRITTEN, None)
    elif vs_now is not None and (lost := unmodelled(vs_now, svc, dr_now)):
        raise RoutingError(f"VirtualService {vs_now.namespace}/{vs_now.name} has {_and(lost)}, which meshdesk "
                           f"cannot keep if it rewrites its routes. Edit its YAML instead, or delete it to let "
                           f"meshdesk manage this service's routing.")
    elif vs is not None:
        if vs_now is not None:
            # what it is bound to stays as it was; so do the HTTP routes of a TCP-only service, which
            # none of its traffic meets (meshdesk writes its tcp routes)
            for key in ("hosts", "gateways", "exportTo", *(("http",) if tcp else ())):
                if key in ("hosts", "gateways") and rebinds:
                    continue
                if vs_now.spec.get(key):
                    vs.spec[key] = copy.deepcopy(vs_now.spec[key])
                elif key == "gateways":
                    vs.spec.pop(key, None)
            if rebinds:
                # the service's own host as the VirtualService names it stays; the others are the binding's
                own = [h for h in vs_now.spec.get("hosts") or () if isinstance(h, str) and h in host_names(svc)]
                if own:
                    vs.spec["hosts"] = [*own, *(h for h in binding.hosts if h not in host_names(svc))] \
                        if binding.active else own
            vs.spec = _as_written(_in_order_of(vs.spec, vs_now.spec), vs_now.spec, vs_now.namespace)
            if "gateways" in vs.spec and "gateways" not in vs_now.spec:  # read where Istio's docs put it
                vs.spec = {k: v for k, v in vs.spec.items() if k != "gateways"}
                at = list(vs.spec).index("hosts") + 1 if "hosts" in vs.spec else 0
                items = list(vs.spec.items())
                vs.spec = dict([*items[:at], ("gateways", gateways_spec(binding)), *items[at:]])
        theirs = vs_now is not None and not is_managed(vs_now)
        if not rebinds:
            vs.annotations.pop(GATEWAYS_WRITTEN, None)  # what the cluster's says stays, whoever bound it
        remirrors = (routing.mirror_version, routing.mirror_percent) != (now.mirror_version, now.mirror_percent) \
            if routing.mirror_version or now.mirror_version else False
        if not remirrors or theirs:
            # what the cluster's says stays; someone else's object (never removed) needs no record
            vs.annotations.pop(MIRROR_WRITTEN, None)
        elif MIRROR_WRITTEN in vs.annotations:
            vs.annotations[MIRROR_WRITTEN] = mirror_written(_d((vs.spec.get("http") or [{}])[-1]))  # as written
        _put(plan, vs, vs_now)
        for c in plan.changes:  # what meshdesk wrote and is gone now: so is its record
            if c.obj is not None and c.kind == "VirtualService" and c.op == REPLACE:
                if rebinds and not binding.active:
                    c.obj.annotations.pop(GATEWAYS_WRITTEN, None)
                if remirrors and not routing.mirror_version:
                    c.obj.annotations.pop(MIRROR_WRITTEN, None)
    elif vs_now is not None:
        plan.changes.append(Change(DELETE, obj=copy.deepcopy(vs_now), before=copy.deepcopy(vs_now)))
    # a VirtualService goes after the DestinationRule defining its subsets, a delete the other way round
    plan.changes.sort(key=lambda c: (c.op == DELETE and c.kind == "DestinationRule",
                                     c.op != DELETE and c.kind == "VirtualService"))
    if not binding.active:
        plan.needs.clear()
    timeout, per_try = routing.timeout_seconds, routing.retry_per_try_timeout_seconds
    if timeout and per_try and routing.retry_attempts and per_try >= timeout \
            and (timeout, per_try) != (now.timeout_seconds, now.retry_per_try_timeout_seconds):
        # Envoy stops at the route's timeout, whatever the tries have left
        plan.notes.append(f"Note: each try may take {per_try:g} s, as long as the whole request may ({timeout:g} s): "
                          "a try that runs that long times the request out, so it is never tried again. A per-try "
                          "timeout shorter than the request's leaves room for the retries.")
    return plan


def _rebound(vs_now: IstioObject, svc: Service, binding: GatewayBinding) -> IstioObject:
    """``vs_now`` bound as ``binding`` says (its hosts and gateways), everything else as written: the
    service's own host as it names it, then the binding's hosts; its gateways where Istio's docs put them
    (after the hosts) when it had none. The binding is recorded (``GATEWAYS_WRITTEN``) while it has one."""
    out = copy.deepcopy(vs_now)
    names = host_names(svc)
    own = [h for h in vs_now.spec.get("hosts") or () if isinstance(h, str) and h in names] or [service_host(svc)]
    hosts = [*own, *(h for h in binding.hosts if h not in names)] if binding.active else own
    items = [(k, v) for k, v in out.spec.items() if k != "gateways"]
    if "hosts" not in out.spec:
        items.insert(0, ("hosts", hosts))
    spec = {}
    for key, value in items:
        spec[key] = hosts if key == "hosts" else value
        if key == "hosts" and binding.active:
            spec["gateways"] = gateways_spec(binding)
    if "gateways" in vs_now.spec and binding.active:  # where it was
        spec = _in_order_of(spec, vs_now.spec)
    out.spec = spec
    out.annotations = {k: v for k, v in out.annotations.items() if k != GATEWAYS_WRITTEN}
    if binding.active:
        out.annotations[GATEWAYS_WRITTEN] = json.dumps({"gateways": gateways_spec(binding),
                                                        "hosts": sorted(set(binding.hosts) - names)}, sort_keys=True)
    return out


def _workload_port(port: ServicePort, w: Workload) -> int | None:
    """The port of ``w`` a service port sends to: its targetPort when that is a number, the port itself
    when there is none, the number of the container port a named targetPort names (as Kubernetes
    resolves it in each pod); None when that is not known (no pod names it, or its pods disagree)."""
    target = port.target_port.strip()
    if not target:
        return port.port
    if target.isdigit():
        return int(target)
    numbers = {c.named_ports[target] for pod in w.pods for c in pod.containers if target in c.named_ports}
    return numbers.pop() if len(numbers) == 1 else None


def _port_mtls_mode(pa: IstioObject, port: int) -> str:
    """The mode a workload's PeerAuthentication sets for one of its ports (``portLevelMtls``, keyed by the
    workload's port number); "" when it sets none there (or UNSET: the port follows the policy's mode)."""
    levels = pa.spec.get("portLevelMtls") if isinstance(pa.spec, dict) else None
    if not isinstance(levels, dict):
        return ""
    entry = levels.get(str(port), levels.get(port))
    mode = _d(entry).get("mode")
    return str(mode).upper() if isinstance(mode, str) and mode.upper() != "UNSET" else ""


def _mtls_mode_at(inv: Inventory, w: Workload, port: int | None) -> str:
    """The mTLS mode in force for ``w`` on its port ``port`` (None: not known, the port-level settings
    are not weighed): the workload's policy for that port, else the workload's, the namespace's, the
    mesh's ("UNSET" when none sets one). Istio reads ``portLevelMtls`` of a policy with a selector only."""
    pa = _peer_authentication_for(inv, w.namespace, w)
    mode = _port_mtls_mode(pa, port) if pa is not None and port is not None else ""
    if not mode:
        mode = current_mtls_mode(inv, w.namespace, w)
    if mode == "UNSET":
        mode = current_mtls_mode(inv, w.namespace)
    if mode == "UNSET":
        mode = current_mtls_mode(inv, inv.mesh_settings.root_namespace)
    return mode


def refused_plain_text(inv: Inventory, svc: Service) -> list[str]:
    """A warning when TLS mode DISABLE (clients send plain text) would go to workloads of ``svc`` whose
    PeerAuthentication in force (the workload's, for the port the service reaches, else the workload's
    own mode, the namespace's, the mesh's) is STRICT: they refuse every such request. When the policy
    makes some ports STRICT and not others, the warning names the ports that refuse."""
    ports = [p for p in svc.ports if p.protocol.upper() != "UDP"] or [ServicePort(port=0)]
    strict: list[str] = []  # workloads that refuse on every port of the service
    partly: list[str] = []  # "workload x on port 9080", those that refuse on some only
    for w in inv.workloads_for_service(svc):
        if w.has_sidecar is False and not any(p.annotations.get(AMBIENT_ANNOTATION) == "enabled" for p in w.pods):
            continue  # no proxy of Istio's before it (no sidecar, no ztunnel): it takes plain text, whatever the policy
        refusing = [p for p in ports if _mtls_mode_at(inv, w, _workload_port(p, w) if p.port else None) == "STRICT"]
        if len(refusing) == len(ports):
            strict.append(w.name)
        elif refusing:
            named = [f"{p.port}" + (f" (its port {n})" if (n := _workload_port(p, w)) not in (None, p.port) else "")
                     for p in refusing]
            others = [str(p.port) for p in ports if p not in refusing]
            partly.append(f"workload {w.name} on {'port' if len(named) == 1 else 'ports'} {_and(named)} but not "
                          f"on {'port' if len(others) == 1 else 'ports'} {_and(others)}")
    if not strict and not partly:
        return []
    whom = [f"{'workload' if len(strict) == 1 else 'workloads'} {_and(sorted(strict))}"] if strict else []
    whom += sorted(partly)
    refused = "every request to" if not partly else "the requests on those ports to"
    return [f"Warning: with TLS mode DISABLE clients send plain text, but mTLS is STRICT for "
            f"{_and(whom) if not partly else '; '.join(whom)}, which will refuse {refused} service {svc.name}. "
            f"Make their PeerAuthentication PERMISSIVE first, or choose ISTIO_MUTUAL."]


def _overridden_tls(dr: IstioObject) -> list[str]:
    """Where the DestinationRule's TLS mode does not reach: a subset's (or a port's) own ``tls``, which
    Istio applies to its requests instead."""
    places = [f"subset {s.get('name')}" for s in dr.spec.get("subsets") or ()
              if isinstance(s, dict) and _d(s.get("trafficPolicy")).get("tls")]
    policy = _d(dr.spec.get("trafficPolicy"))
    places += [f"port {_d(p.get('port')).get('number')}" for p in policy.get("portLevelSettings") or ()
               if isinstance(p, dict) and p.get("tls")]
    return [f"Note: {where} has its own TLS settings, which Istio applies to its requests instead of these "
            f"(edit the DestinationRule's YAML to change them)." for where in places]


def _overridden_breaker(dr: IstioObject) -> list[str]:
    """Where the DestinationRule's own circuit breaker does not reach: Istio takes a subset's (or a
    port's) connection pool or outlier detection, when it has one, instead of the rule's whole."""
    out = []
    places = [(f"subset {s.get('name')}", s.get("trafficPolicy")) for s in dr.spec.get("subsets") or ()
              if isinstance(s, dict)]
    policy = dr.spec.get("trafficPolicy")
    places += [(f"port {_d(p.get('port')).get('number')}", p) for p in
               (policy.get("portLevelSettings") or () if isinstance(policy, dict) else ()) if isinstance(p, dict)]
    for where, own in places:
        parts = [k for k in ("connectionPool", "outlierDetection") if isinstance(own, dict) and own.get(k)]
        if parts:
            words = " and ".join("connection pool" if k == "connectionPool" else "outlier detection" for k in parts)
            out.append(f"Note: {where} has its own {words}, which Istio applies to its requests instead of "
                       f"this circuit breaker's (edit the DestinationRule's YAML to change it).")
    return out


def _refuse_gone_versions(svc: Service, routing: ServiceRouting, versions: Sequence[str]) -> ServiceRouting:
    """``routing`` without the versions no workload runs any more that get no request (a weight of 0);
    a share of requests, or a rule, still sent to one is refused with what to change and where (as the
    cluster has it, it fails those requests, and every other form of the service would be refused for
    it with no word of why)."""
    routing = copy.deepcopy(routing)
    routing.weights = {v: w for v, w in routing.weights.items() if v in versions or w != 0}
    gone = sorted(v for v in routing.weights if v not in versions)
    if gone:
        share = sum(w for v, w in routing.weights.items() if v in gone)
        raise RoutingError(f"the traffic shifting of service {svc.namespace}/{svc.name} sends {share:g}% of its "
                           f"requests to version {_and(gone)}, which no workload runs any more (those requests "
                           f"fail): share them among the running versions in Traffic shifting first")
    if routing.mirror_version and routing.mirror_version not in versions:
        raise RoutingError(f"the traffic shifting of service {svc.namespace}/{svc.name} mirrors requests to version "
                           f"{routing.mirror_version}, which no workload runs any more: choose another mirror, or "
                           "none, in Traffic shifting first")
    for m in routing.matches:
        gone = sorted(v for v, w in m.destinations.items() if v not in versions and w > 0)
        if gone:
            what = " and ".join(condition_words(c) for c in m.conditions)
            raise RoutingError(f"a request routing rule of service {svc.namespace}/{svc.name} sends requests with "
                               f"{what} to version {_and(gone)}, which no workload runs any more (those requests "
                               f"fail): remove or change that rule in Request routing first")
    return routing


def taken_name_problem(inv: Inventory, svc: Service, creates: Sequence[str]) -> str:
    """meshdesk names a service's VirtualService and DestinationRule after the service: when it would
    create one (``creates``: their kinds) but that name is taken by an object for other hosts, why not
    (the create could never go through, and overwriting it would break those hosts), or routes the
    service's traffic from gateways only (overwriting it would change what enters through them); "" when
    the names are free."""
    for kind in creates:
        taken = next((o for o in inv.istio_objects(kind, svc.namespace) if o.name == svc.name), None)
        if taken is not None and kind == "VirtualService" and not applies_to_mesh(taken):
            gateways = ", ".join(str(g) for g in taken.spec.get("gateways") or ())
            return (f"VirtualService {svc.namespace}/{svc.name} routes only what enters through "
                    f"gateways ({gateways}): meshdesk names the VirtualService for the mesh's "
                    f"traffic to service {svc.name} so; rename that one first")
        if taken is not None:
            return (f"a {kind} named {svc.name} already exists in {svc.namespace} for other hosts: "
                    f"meshdesk names the {kind} of service {svc.name} so; rename that one first")
    return ""


def _refuse_taken_names(inv: Inventory, svc: Service, creates: Sequence[str]) -> None:
    problem = taken_name_problem(inv, svc, creates)
    if problem:
        raise RoutingError(problem)


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def service_entry_plan(inv: Inventory, entry: IstioObject) -> ChangePlan:
    """Add a ServiceEntry (or change one meshdesk added, keeping what ``entry`` does not set: see
    ``merge_service_entry``). One of that name someone else wrote is not replaced: ``RoutingError``.
    A host another ServiceEntry declares too, where a namespace sees both, is noted as a warning."""
    existing = next((o for o in inv.istio_objects("ServiceEntry", entry.namespace) if o.name == entry.name), None)
    if existing is not None and not is_managed(existing):
        raise RoutingError(f"a ServiceEntry {entry.name} already exists in {entry.namespace} (not added by "
                           "meshdesk): pick another name")
    if existing is not None:
        # what the form does not set (exportTo, a workloadSelector, an endpoint's labels, network,
        # locality, weight ...) stays as written
        entry = copy.deepcopy(entry)
        entry.spec = merge_service_entry(existing.spec if isinstance(existing.spec, dict) else {}, entry.spec)
        if entry.spec.get("workloadSelector") and entry.spec.get("endpoints"):
            raise RoutingError(f"ServiceEntry {entry.name} takes its endpoints from its workloadSelector: it cannot "
                               "list endpoints too (Istio refuses both); remove the endpoints")
    plan = ChangePlan(f"ServiceEntry {entry.namespace}/{entry.name} for {', '.join(entry.spec.get('hosts') or [])}")
    by_host: dict[str, list[str]] = {}
    for host, other in hosts_declared_elsewhere(entry, inv.mesh_config("ServiceEntry"), inv.settings_for):
        by_host.setdefault(host, []).append(f"{other.namespace}/{other.name}")
    for host, others in by_host.items():
        plan.notes.append(f"Warning: host {host} is already declared by ServiceEntry {_and(sorted(set(others)))}, "
                          "seen where this one is. Istio accepts both, but merges them or picks one in no set "
                          "order: clients of the host may not get what this entry says.")
    _put(plan, entry, existing)
    return plan


def peer_authentication_plan(inv: Inventory, namespace: str, mode: str, *,
                             workload: Workload | None = None) -> ChangePlan:
    """mTLS mode for a namespace or a workload. An existing PeerAuthentication only gets its mode changed
    (its selector and per-port modes stay); ``UNSET`` removes one meshdesk created that holds nothing
    else."""
    existing = _peer_authentication_for(inv, namespace, workload)
    if existing is None and mode.upper() == "UNSET":
        # a policy saying UNSET only inherits, as having none does: nothing to write
        target = f"workload {namespace}/{workload.name}" if workload is not None else f"namespace {namespace}"
        plan = ChangePlan(f"mTLS mode UNSET for {target}")
        plan.notes.append(f"No PeerAuthentication sets the mode of {target}: it is UNSET already (it inherits "
                          "the mode from above).")
        return plan
    # a new policy must select the workload alone (an existing one is changed, its selector kept)
    pa = build_peer_authentication(namespace, mode, workload=workload,
                                   others=[w for w in inv.workloads if w.namespace == namespace]
                                   if existing is None else ())
    if existing is not None and workload is not None:
        shared = workload_mtls_problem(inv, workload)
        if shared:
            raise RoutingError(shared)
    if existing is not None:
        pa.name = existing.name  # the policy in force is changed, not joined by a second one
    elif any(o.name == pa.name for o in inv.istio_objects("PeerAuthentication", namespace)):
        raise RoutingError(f"a PeerAuthentication named {pa.name} already exists in {namespace} for other "
                           "workloads: rename it first")
    target = f"workload {namespace}/{workload.name}" if workload is not None else f"namespace {namespace}"
    plan = ChangePlan(f"mTLS mode {pa.spec['mtls']['mode']} for {target}")
    if existing is not None:
        mtls = existing.spec.get("mtls")
        only_mode = set(existing.spec) <= {"mtls", "selector"} and isinstance(mtls, dict) and set(mtls) <= {"mode"} \
            and existing.spec.get("selector") == pa.spec.get("selector")
        if pa.spec["mtls"]["mode"] == "UNSET" and is_managed(existing) and only_mode:
            plan.changes.append(Change(DELETE, obj=copy.deepcopy(existing), before=copy.deepcopy(existing)))
            return plan
        pa.spec = {**copy.deepcopy(existing.spec), "mtls": {**(mtls if isinstance(mtls, dict) else {}),
                                                            "mode": pa.spec["mtls"]["mode"]}}
    _put(plan, pa, existing)
    return plan


def workload_mtls_problem(inv: Inventory, workload: Workload) -> str:
    """Why the mTLS mode of ``workload`` alone cannot be set: the PeerAuthentication in force for it also
    sets other workloads' (changing its mode would change theirs). Empty when it can."""
    existing = _peer_authentication_for(inv, workload.namespace, workload)
    if existing is None:
        return ""
    others = sorted(w.name for w in inv.workloads if w.namespace == workload.namespace
                    and w.name != workload.name and _selects(existing, w))
    if not others:
        return ""
    return (f"PeerAuthentication {existing.name} sets the mode of {workload.name} and of {', '.join(others)}: "
            f"change it for all of them (edit it), or give {workload.name} a policy of its own first")


def _selector(o: IstioObject) -> dict[str, Any]:
    sel = o.spec.get("selector") if isinstance(o.spec, dict) else None
    labels = sel.get("matchLabels") if isinstance(sel, dict) else None
    return labels if isinstance(labels, dict) else {}


def _selects(pa: IstioObject, w: Workload) -> bool:
    """Whether a PeerAuthentication with a selector applies to workload ``w``."""
    sel = _selector(pa)
    return bool(sel) and all(w.labels.get(k) == v for k, v in sel.items())


def _peer_authentication_for(inv: Inventory, namespace: str, workload: Workload | None) -> IstioObject | None:
    """The PeerAuthentication that sets a namespace's mode (one without a selector; "default" first), or
    a workload's (one whose selector matches its labels; the one named after it first), whatever it is
    called: Istio applies one, so that is the one to show and change."""
    own = "default" if workload is None else workload.name
    found = [o for o in inv.istio_objects("PeerAuthentication", namespace)
             if (not _selector(o) if workload is None else _selects(o, workload))]
    # Istio applies the oldest; where the age is not known, its own first, then the one that selects it
    # most narrowly
    found.sort(key=lambda o: (not o.created, o.created, o.name != own, -len(_selector(o)), o.name))
    return found[0] if found else None


def current_mtls_mode(inv: Inventory, namespace: str, workload: Workload | None = None) -> str:
    """The mode of the PeerAuthentication in force that meshdesk would edit (``UNSET`` when there is none)."""
    pa = _peer_authentication_for(inv, namespace, workload)
    mtls = pa.spec.get("mtls") if pa is not None else None
    mode = mtls.get("mode") if isinstance(mtls, dict) else None
    return str(mode or "UNSET")


def injection_plan(inv: Inventory, namespace: str, enable: bool) -> ChangePlan:
    change = injection_change(inv, namespace, enable)
    ns = inv.namespace(namespace)
    plan = ChangePlan(f"{'Enable' if enable else 'Disable'} sidecar injection in namespace {namespace}",
                      notes=[change.describe()])
    before = dict(ns.labels) if ns is not None else None
    patch = {k: v for k, v in change.labels.items() if (before or {}).get(k) != v}
    if patch:
        plan.changes.append(Change(LABEL, namespace=namespace, labels=patch, before_labels=before))
    return plan


# the other changes of a namespace's mesh labels Kiali's namespace actions make, besides turning sidecar injection
# on or off (``injection_plan``): take its injection labels away, put it in ambient mode or out of it, move it
# to another control plane revision (``REVISION_MODE`` + the revision, "default" for istiod's own)
REMOVE_INJECTION, AMBIENT_ON, AMBIENT_OFF, AMBIENT_REMOVE = "remove-injection", "ambient-on", "ambient-off", "ambient-remove"
REVISION_MODE = "revision:"
_INJECTION = "istio-injection"
_REV = "istio.io/rev"
_DATAPLANE = "istio.io/dataplane-mode"


@dataclass(frozen=True)
class NamespaceModeChange:
    """One of those changes: its title, the label patch (None removes a label) and what it does to pods."""

    namespace: str
    title: str
    labels: dict[str, str | None]
    effect: str


def namespace_mode_change(inv: Inventory, namespace: str, mode: str) -> NamespaceModeChange:
    """What ``mode`` (``REMOVE_INJECTION``, ``AMBIENT_ON``...) changes in ``namespace``'s labels, and for its
    running pods: injection acts when a pod starts (a restart takes it), ztunnel on pods as they run."""
    ns = inv.namespace(namespace)
    labels = dict(ns.labels) if ns is not None else {}
    sidecars = sorted(f"{w.name} ({w.kind})" for w in inv.workloads
                      if w.namespace == namespace and w.has_sidecar and w.kind in RESTARTABLE)
    restart = (f"{counted(len(sidecars), 'workload')} keep their sidecar until restarted: {', '.join(sidecars)}."
               if sidecars else f"No running workload in {namespace} has a sidecar.")
    if inv.unread(namespace, WORKLOAD_LISTS):  # (changed from its list row, the graph not showing it)
        restart = ("Its running workloads were not read: those with a sidecar keep it until restarted (add the "
                   "namespace to the graph to see which).")
    if mode == REMOVE_INJECTION:
        patch: dict[str, str | None] = {k: None for k in (_INJECTION, _REV) if k in labels}
        return NamespaceModeChange(namespace, "Remove sidecar injection labels", patch,
                                   f"Its labels no longer ask for a sidecar: new pods get none unless the mesh injects "
                                   f"every namespace by default. {restart}")
    if mode == AMBIENT_ON:
        return NamespaceModeChange(namespace, "Add to ambient mode", {_DATAPLANE: "ambient"},
                                   "ztunnel carries its pods' traffic at once, without a restart, where Istio runs in "
                                   "ambient mode (ztunnel on the cluster's nodes); a pod with a sidecar keeps it.")
    if mode == AMBIENT_OFF:
        return NamespaceModeChange(namespace, "Disable ambient mode", {_DATAPLANE: "none"},
                                   "ztunnel stops carrying its pods' traffic: they leave the mesh at once, without a "
                                   "restart (the label stays, set to none).")
    if mode == AMBIENT_REMOVE:
        return NamespaceModeChange(namespace, "Remove ambient mode", {_DATAPLANE: None},
                                   "The label is taken away: ztunnel stops carrying its pods' traffic, which leave the "
                                   "mesh at once, without a restart.")
    if mode.startswith(REVISION_MODE):
        revision = mode[len(REVISION_MODE):] or "default"
        patch = {_REV: revision}
        if _INJECTION in labels:  # it would win over the revision label
            patch[_INJECTION] = None
        return NamespaceModeChange(namespace, f"Switch to revision {revision}", patch,
                                   f"New pods get the sidecar of control plane revision {revision}. {restart}")
    raise RoutingError(f"meshdesk knows no such change of a namespace: {mode!r}.")


def namespace_mode_plan(inv: Inventory, namespace: str, mode: str) -> ChangePlan:
    change = namespace_mode_change(inv, namespace, mode)
    ns = inv.namespace(namespace)
    before = dict(ns.labels) if ns is not None else None
    plan = ChangePlan(f"{change.title} in namespace {namespace}", notes=[change.effect])
    patch = {k: v for k, v in change.labels.items() if (before or {}).get(k) != v}
    if patch:
        plan.changes.append(Change(LABEL, namespace=namespace, labels=patch, before_labels=before))
    return plan


def restart_problem(w: Workload) -> str:
    """Why a workload cannot be restarted (it has no rollout: a bare pod, a Job or CronJob, one scaled to
    zero), in words; "" when it can."""
    what = f"{w.kind} {w.namespace}/{w.name}"
    if w.kind not in RESTARTABLE:
        why = {"Pod": "a bare pod has no controller to replace it: delete it and create it again",
               "Job": "a Job's pods run to completion: delete and rerun the Job",
               "CronJob": "a CronJob's next run starts new pods"}.get(
            w.kind, f"meshdesk restarts Deployments, StatefulSets and DaemonSets, not a {w.kind}")
        return f"{what} cannot be restarted: {why}."
    if w.replicas == 0 and w.kind != "DaemonSet":
        return f"{what} is scaled to zero: it runs no pod to restart."
    return ""


def restart_plan(inv: Inventory, workloads: Workload | Sequence[Workload], restarted_at: str) -> ChangePlan:
    """Restart workloads' pods, as ``kubectl rollout restart`` does (Lens's and k9s's Restart): what a
    namespace's sidecar injection, turned on or off, waits for. Refused in words for what has no
    rollout (``restart_problem``). The notes say what the new pods get: the sidecar injection gives
    them, or the opt-out that keeps them without one."""
    ws = [workloads] if isinstance(workloads, Workload) else list(workloads)
    if not ws:
        raise RoutingError("There is no workload to restart.")
    for w in ws:
        problem = restart_problem(w)
        if problem:
            raise RoutingError(problem)
    if len(ws) == 1:
        w = ws[0]
        replaced = "Its pod is replaced by a new one" if len(w.pods) == 1 else \
            f"Its {len(w.pods)} pods are replaced by new ones" if w.pods else "Its pods are replaced by new ones"
        summary = f"Restart {w.kind} {w.namespace}/{w.name}"
    else:
        replaced = "Their pods are replaced by new ones"
        summary = f"Restart {counted(len(ws), 'workload')} in {', '.join(sorted({w.namespace for w in ws}))}"
    plan = ChangePlan(summary, notes=[f"{replaced} as each one's update strategy says (a Deployment's one by one, "
                                      "as kubectl rollout restart does): an old pod stops once its replacement "
                                      "is ready."])
    for w in ws:
        note = _restart_note(inv, w)
        if note:
            plan.notes.append(note if len(ws) == 1 else f"{w.name}: {note[:1].lower()}{note[1:]}")
        plan.changes.append(Change(RESTART, namespace=w.namespace, workload_kind=w.kind, workload_name=w.name,
                                   restarted_at=restarted_at))
    return plan


def _restart_note(inv: Inventory, w: Workload) -> str:
    """What a workload's new pods get that its old ones did not (or lose), in words; "" for nothing."""
    ns = inv.namespace(w.namespace)
    if w.has_sidecar is False:
        if opts_out_of_injection(w):
            return f"It opts out of the sidecar ({opt_out_mark(w)}): the new pods get none either."
        if ns is not None and ns.injection_enabled:
            return (f"Sidecar injection is on in namespace {w.namespace}: the new pods get the istio-proxy sidecar "
                    "(2/2 ready), and the graph shows their traffic as the mesh's.")
        return (f"Sidecar injection is not on in namespace {w.namespace}: the new pods get no sidecar either "
                "(enable injection first for that).")
    if w.has_sidecar and ns is not None and ns.labels.get("istio-injection") == "disabled":
        return (f"Sidecar injection is off in namespace {w.namespace}: the new pods lose the sidecar the old ones "
                "have, and leave the mesh.")
    return ""


def waiting_for_restart(inv: Inventory, namespace: str) -> list[Workload]:
    """The workloads of ``namespace`` whose sidecar a restart changes, as its injection now stands: with
    injection on, those started before it without a sidecar (not opting out); with it turned off
    (``istio-injection=disabled``), those still running one. Only what can be restarted."""
    ns = inv.namespace(namespace)
    if ns is None or ns.ambient:
        return []
    enable = ns.injection_enabled
    if not enable and ns.labels.get("istio-injection") != "disabled":
        return []
    return [w for w in inv.workloads if w.namespace == namespace and restarts_for_injection(w, enable)
            and not restart_problem(w)]


@dataclass
class RemovalScope:
    """What removing meshdesk's config deletes (in order) and what it keeps, each kept object with why."""

    deleted: list[IstioObject] = field(default_factory=list)
    kept: list[tuple[IstioObject, str]] = field(default_factory=list)


def _added_by_others(inv: Inventory, o: IstioObject) -> list[str]:
    """What an object meshdesk created holds that meshdesk never writes (someone added it since: a TLS
    mode, a load balancer, a gateway, a mirror...), in words; empty when deleting it loses nothing else."""
    spec = o.spec if isinstance(o.spec, dict) else {}
    if o.kind == "DestinationRule":
        if _only_meshdesks(o):
            return []
        found = [f"{k}" for k in spec if k not in ("host", "subsets", "trafficPolicy")]
        policy = spec.get("trafficPolicy")
        if isinstance(policy, dict):
            found += [f"trafficPolicy {k}" for k in _without_ours(policy, _written_by_us(o))]  # loadBalancer, ...
        elif policy is not None:
            found.append("trafficPolicy")
        odd = [str(s.get("name")) for s in spec.get("subsets") or () if not isinstance(s, dict) or set(s) - {"name", "labels"}
               or not isinstance(s.get("labels"), dict) or len(s["labels"]) != 1]
        found += [f"subset {name}'s own settings" for name in odd]
        return found or ["subsets meshdesk did not name"]
    if o.kind == "VirtualService":
        # the gateways and hosts meshdesk bound it to (as its annotation records them) are its own
        try:
            bound = json.loads(o.annotations.get(GATEWAYS_WRITTEN) or "{}")
        except ValueError:
            bound = {}
        bound = bound if isinstance(bound, dict) else {}
        gateways = spec.get("gateways")
        found = [f"gateways ({', '.join(str(g) for g in gateways or ())})"] \
            if gateways and gateways != bound.get("gateways") else []
        hosts = [h for h in spec.get("hosts") or () if isinstance(h, str)]
        svc = next((s for s in inv.services if s.namespace == o.namespace and set(hosts) & host_names(s)), None)
        if svc is None:
            return found
        others = [h for h in hosts if h not in host_names(svc)]
        if others and sorted(set(others)) != bound.get("hosts"):
            found.append(f"hosts {', '.join(others)}")
        dr = current_routing(inv, svc)[2]
        found += unmodelled(o, svc, dr)
        default = next((r for r in reversed(spec.get("http") or []) if isinstance(r, dict) and "match" not in r), {})
        if mirror_written(default) and mirror_written(default) != o.annotations.get(MIRROR_WRITTEN) \
                and "a mirror" not in found:
            found.append("a mirror")
        return found
    if o.kind == "PeerAuthentication":
        mtls = spec.get("mtls")
        return [k for k in spec if k not in ("mtls", "selector")] + \
            [f"mtls {k}" for k in (mtls if isinstance(mtls, dict) else {}) if k != "mode"]
    if o.kind == "ServiceEntry":
        return [k for k in spec if k not in (*SERVICE_ENTRY_FIELDS, "addresses")]  # exportTo, workloadSelector...
    if o.kind in ("K8sHTTPRoute", "K8sGRPCRoute"):
        from meshdesk.mesh.k8s_route_config import http_route_fields  # (it builds on this module)

        return http_route_fields(spec, o.namespace, o.kind)[1]  # what its form does not write (a redirect, a timeout ...)
    if o.kind == "K8sGateway":
        from meshdesk.mesh.k8s_gateway_config import k8s_gateway_fields  # (it builds on this module)

        return k8s_gateway_fields(spec)[1]  # what its form does not write (infrastructure, route kinds ...)
    if o.kind == "Gateway":
        found = [k for k in spec if k not in ("selector", "servers")]
        if spec.get("selector") != INGRESS_SELECTOR:
            found.append("another selector")
        raw = spec.get("servers")
        servers: list[Any] = raw if isinstance(raw, list) else []
        if len(servers) != 1 or not all(isinstance(x, dict) and set(x) <= {"port", "hosts"} for x in servers):
            found.append("servers meshdesk did not write (TLS, more ports)")
        return found
    return []


def routing_objects_of(inv: Inventory, svc: Service) -> list[IstioObject]:
    """The VirtualServices (those routing the mesh's traffic) and DestinationRules meshdesk created for
    ``svc``: what its "Delete traffic routing" removes."""
    names = host_names(svc)
    out = []
    for o in managed_objects(inv, svc.namespace):
        spec = o.spec if isinstance(o.spec, dict) else {}
        if o.kind == "VirtualService" and routes_service(o, svc):
            out.append(o)
        elif o.kind == "DestinationRule" and isinstance(spec.get("host"), str) and spec["host"] in names:
            out.append(o)
    # the Gateways meshdesk created that its VirtualService for the service is bound to (kept while
    # another VirtualService routes through them: see ``removal_scope``)
    bound = {gateway_ref(str(g), vs.namespace) for vs in out if vs.kind == "VirtualService"
             for g in vs.spec.get("gateways") or () if g != "mesh"}
    out += [g for g in managed_objects(inv) if g.kind == "Gateway" and (g.namespace, g.name) in bound]
    # the HTTPRoutes and GRPCRoutes its "K8s request routing" and "K8s gRPC routing" forms wrote (Kiali's
    # wizards delete their routes too)
    from meshdesk.mesh.k8s_route_config import ROUTE_KINDS, http_routes_of  # (it builds on this module)

    out += [r for kind in ROUTE_KINDS for r in http_routes_of(inv, svc, kind) if is_managed(r)]
    return out


KIALI_WIZARD_LABEL = "kiali_wizard"  # what Kiali's wizards label the objects they make with (their wizard)


def no_routing_to_delete(inv: Inventory, svc: Service) -> str:
    """Why "Delete traffic routing" has nothing to delete for ``svc`` (meshdesk made none of its routing),
    naming the VirtualService and DestinationRule it has all the same (someone else's, such as those
    Kiali's wizards made) and where they are deleted."""
    from meshdesk.mesh.k8s_route_config import ROUTE_KINDS, http_routes_of  # (it builds on this module)

    _routing, vs, dr = current_routing(inv, svc)
    routes = [r for kind in ROUTE_KINDS for r in http_routes_of(inv, svc, kind)]
    theirs = [o for o in (vs, dr, *routes) if o is not None and not is_managed(o)]
    text = f"meshdesk created no traffic routing for service {svc.name}."
    if not theirs:
        return text
    named = " and ".join(f"{GATEWAY_API_KINDS.get(o.kind, o.kind)} {o.name}" for o in theirs)
    wizards = sorted({o.labels[KIALI_WIZARD_LABEL] for o in theirs if o.labels.get(KIALI_WIZARD_LABEL)})
    by = f", made by Kiali's {' and '.join(w.replace('_', ' ') for w in wizards)} wizard," if wizards else ""
    several = len(theirs) > 1
    return (f"{text[:-1]}: its {named}{by} {'are' if several else 'is'} not meshdesk's, and only what meshdesk "
            f"made is deleted here. Delete {'them' if several else 'it'} in the Istio config view (its Delete… button).")


def removal_scope(inv: Inventory, namespace: str | None = None, service: Service | None = None) -> RemovalScope:
    """What meshdesk created (objects carrying ``MANAGED_LABEL``) split into what a removal deletes,
    VirtualServices first so no route points at a subset that is gone, a namespace's deny-all before its
    ALLOW policies, and what it keeps. One that
    someone added to since (a TLS mode, a gateway, a mirror: what meshdesk never writes) is kept, as
    deleting it would lose their part. A DestinationRule whose subsets a VirtualService that stays
    (someone else's, which meshdesk may have pointed at them) still routes to is kept: deleting it
    would fail every request those routes carry. The form lists both from this, so what it says will
    go is what goes."""
    objs = sorted(managed_objects(inv, namespace) if service is None else routing_objects_of(inv, service),
                  # and of the AuthorizationPolicies, a deny-all (an empty spec) first: deleted after an ALLOW
                  # policy, it denied that workload's requests meanwhile (and for good, had the removal stopped)
                  key=lambda o: (o.kind != "VirtualService", o.kind, o.namespace,
                                 not (o.kind == "AuthorizationPolicy" and not o.spec), o.name))
    scope = RemovalScope()
    added = {(o.kind, o.namespace, o.name): _added_by_others(inv, o) for o in objs}
    going = {key for key, extra in added.items() if not extra}
    # those of the namespaces not selected too (read cluster-wide): one there may route through a Gateway
    # or to a DestinationRule's subsets here
    staying = [vs for vs in inv.mesh_config("VirtualService") if ("VirtualService", vs.namespace, vs.name) not in going]
    for o in objs:
        extra = added[(o.kind, o.namespace, o.name)]
        if extra:
            scope.kept.append((o, f"it also holds {_and(extra)}, which meshdesk did not write: deleting it would "
                                  "lose that. Delete it by hand if you mean to."))
            continue
        users: dict[str, set[str]] = {}
        if o.kind == "K8sGateway":
            attached = [f"{GATEWAY_API_KINDS[r.kind]} {r.namespace}/{r.name}" for r in inv.istio
                        if r.kind in GATEWAY_API_KINDS and r.kind.endswith("Route") and _attaches(r, o)]
            if attached:
                scope.kept.append((o, f"{_and(sorted(attached))} {'is' if len(attached) == 1 else 'are'} attached "
                                      "to it (parentRefs); deleting it would stop those requests. Detach "
                                      f"{'it' if len(attached) == 1 else 'them'} first, then remove it."))
                continue
        if o.kind == "K8sReferenceGrant":
            using = _grant_users(inv, o)
            if using:
                scope.kept.append((o, f"{_and(using)} {'refers' if len(using) == 1 else 'refer'} through it to "
                                      f"{o.namespace}; deleting it would stop those references (the Gateway API "
                                      "refuses them without a grant). Change them first, then remove it."))
                continue
        if o.kind == "Gateway":
            through = [f"VirtualService {vs.namespace}/{vs.name}" for vs in staying
                       if (o.namespace, o.name) in {gateway_ref(str(g), vs.namespace) for g in vs.spec.get("gateways") or ()}]
            if through:
                scope.kept.append((o, f"{_and(sorted(through))} {'routes' if len(through) == 1 else 'route'} what "
                                      "enters through it; deleting it would stop those requests. Unbind "
                                      f"{'it' if len(through) == 1 else 'them'} first (Gateways), then remove it."))
                continue
        if o.kind == "DestinationRule":
            host = fqdn(str(o.spec.get("host") or ""), o.namespace)
            subsets = {s.get("name") for s in o.spec.get("subsets") or () if isinstance(s, dict)}
            for vs in staying:
                for _path, dest in route_destinations(vs.spec):
                    if dest.get("subset") in subsets and fqdn(str(dest.get("host") or ""), vs.namespace) == host:
                        users.setdefault(f"{vs.namespace}/{vs.name}", set()).add(str(dest["subset"]))
        if not users:
            scope.deleted.append(o)
            continue
        named = "; ".join(f"VirtualService {name} routes to {', '.join(sorted(used))}"
                          for name, used in sorted(users.items()))
        scope.kept.append((o, f"{named}, which it defines; deleting it would fail those requests. Route that "
                              "VirtualService to the whole service first, then remove it."))
    return scope


def _grant_users(inv: Inventory, grant: IstioObject) -> list[str]:
    """The routes and Gateways read (Gateway API objects of a namespace a ReferenceGrant names in its
    ``from``) that refer through it to its namespace: a route's backendRefs to its Services, a Gateway's
    certificateRefs to its Secrets (``to``, a name when it gives one), sorted."""
    spec = grant.spec if isinstance(grant.spec, dict) else {}

    def entries(key: str) -> list[dict[str, Any]]:
        value = spec.get(key)
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    def allowed(kind: str, name: Any) -> bool:
        return any(t.get("group", "") == "" and t.get("kind") == kind and t.get("name") in (None, "", name)
                   for t in entries("to"))

    out = set()
    objs = [*inv.istio, *(g for g in inv.k8s_gateways if all(g is not o for o in inv.istio))]
    for obj in objs:
        kind = GATEWAY_API_KINDS.get(obj.kind)
        if kind is None or not any(f.get("group") == GATEWAY_API_GROUP and f.get("kind") == kind
                                   and f.get("namespace") == obj.namespace for f in entries("from")):
            continue
        ospec = obj.spec if isinstance(obj.spec, dict) else {}
        refs: list[tuple[str, Any]] = []
        if kind == "Gateway":
            for li in ospec.get("listeners") or ():
                tls = li.get("tls") if isinstance(li, dict) else None
                for ref in (tls.get("certificateRefs") or ()) if isinstance(tls, dict) else ():
                    if isinstance(ref, dict) and ref.get("namespace") == grant.namespace and \
                            ref.get("group", "") == "" and ref.get("kind", "Secret") == "Secret":
                        refs.append(("Secret", ref.get("name")))
        else:
            for rule in ospec.get("rules") or ():
                for ref in (rule.get("backendRefs") or ()) if isinstance(rule, dict) else ():
                    if isinstance(ref, dict) and ref.get("namespace") == grant.namespace and \
                            ref.get("group", "") == "" and ref.get("kind", "Service") == "Service":
                        refs.append(("Service", ref.get("name")))
        if any(allowed(k, n) for k, n in refs):
            out.add(f"{kind} {obj.namespace}/{obj.name}")
    return sorted(out)


def _attaches(route: IstioObject, gw: IstioObject) -> bool:
    """Whether a Gateway API route names the Gateway API Gateway ``gw`` among its parents (the API's
    defaults: a parent is a Gateway of its group, in the route's namespace)."""
    spec = route.spec if isinstance(route.spec, dict) else {}
    refs = spec.get("parentRefs")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("group", GATEWAY_API_GROUP) == GATEWAY_API_GROUP and \
                ref.get("kind", "Gateway") == "Gateway" and ref.get("name") == gw.name and \
                (ref.get("namespace") or route.namespace) == gw.namespace:
            return True
    return False


def _other_namespaces_routes_notes(inv: Inventory, deleted: Sequence[IstioObject]) -> list[str]:
    """A Kubernetes Gateway deleted whose listeners take routes of other namespaces (from All or a
    Selector), or a ReferenceGrant deleted whose ``from`` names a namespace not selected: the Gateway
    API's routes are read in the selected namespaces only, so one there was not seen (``removal_scope``
    keeps a Gateway or grant that one it read uses)."""
    selected = {n.name for n in inv.namespaces}
    if inv.cluster_namespaces is not None and set(inv.cluster_namespaces) <= selected:
        return []
    notes = []
    for o in deleted:
        sources = o.spec.get("from") if o.kind == "K8sReferenceGrant" and isinstance(o.spec, dict) else None
        unseen = sorted({str(f.get("namespace")) for f in sources if isinstance(f, dict) and f.get("namespace")
                         and f.get("namespace") not in selected} if isinstance(sources, list) else set())
        if unseen:
            notes.append(f"Warning: ReferenceGrant {o.namespace}/{o.name} lets objects of {_and(unseen)} refer to "
                         f"{o.namespace}; {'that namespace is' if len(unseen) == 1 else 'those namespaces are'} not "
                         "selected, so a route or Gateway there that needs it was not looked for. Select "
                         f"{'it' if len(unseen) == 1 else 'them'} to check first.")
        listeners = o.spec.get("listeners") if o.kind == "K8sGateway" and isinstance(o.spec, dict) else None
        froms = set()
        for li in listeners if isinstance(listeners, list) else ():
            allowed = li.get("allowedRoutes") if isinstance(li, dict) else None
            namespaces = allowed.get("namespaces") if isinstance(allowed, dict) else None
            froms.add(str(namespaces.get("from") or "Same") if isinstance(namespaces, dict) else "Same")
        if froms - {"Same"}:
            notes.append(f"Warning: Kubernetes Gateway {o.namespace}/{o.name} takes routes of other namespaces "
                         f"(from {_and(sorted(froms - {'Same'}))}); the routes of the namespaces not selected were "
                         "not read, so one attached to it from there would stop carrying requests. Select them to "
                         "check first.")
    return notes


def removal_plan(inv: Inventory, namespace: str | None = None, service: Service | None = None) -> ChangePlan:
    """Delete everything meshdesk created (for ``service``: its traffic routing) but what ``removal_scope``
    keeps; the plan says what it keeps and why."""
    scope = removal_scope(inv, namespace, service)
    notes = [f"Kept {o.kind} {o.namespace}/{o.name}: {why}" for o, why in scope.kept]
    where = f" in namespace {namespace}" if namespace else ""
    summary = (f"Delete the traffic routing meshdesk created for service {service.namespace}/{service.name}"
               if service is not None else f"Remove the config meshdesk created{where}")
    from meshdesk.mesh.security import removal_notes  # (it builds on this module)

    notes += removal_notes(inv, scope.deleted)
    notes += _other_namespaces_routes_notes(inv, scope.deleted)
    plan = ChangePlan(f"{summary} ({counted(len(scope.deleted), 'object')})", notes=notes)
    if scope.kept:  # not "the cluster already has this configuration": what there is stays, for a reason
        plan.nothing = (f"Nothing to delete: {'the object' if len(scope.kept) == 1 else 'every object'} meshdesk "
                        f"created here is kept, for the reason{'s' if len(scope.kept) > 1 else ''} given above.")
    for o in scope.deleted:
        plan.changes.append(Change(DELETE, obj=copy.deepcopy(o), before=copy.deepcopy(o)))
    return plan


def plan_kinds(plan: ChangePlan) -> Sequence[str]:
    return sorted({c.kind for c in plan.changes})
