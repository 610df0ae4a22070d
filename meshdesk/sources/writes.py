"""Writing a ``ChangePlan``: read what the cluster has now, dry-run it on the server, apply it without
overwriting anything someone changed meanwhile, and ask RBAC what the user may do.

Two writers share one shape:

* ``ClusterWriter(api_client)`` talks to a live API server through the official client: strict creates
  (an object that appeared meanwhile is a ``Conflict``, never overwritten), replaces and deletes that
  carry the ``resourceVersion`` read when the plan was previewed, server-side dry runs (``dryRun=All``),
  the served networking.istio.io / security.istio.io version, the CRD schemas the cluster serves, and
  RBAC questions (one ``SelfSubjectRulesReview`` per namespace, a ``SelfSubjectAccessReview`` for what it
  does not grant).
* ``SourceWriter(source)`` wraps any other ``WritableSource`` (the demo cluster), whose ``apply`` checks
  resource versions itself.

``writer_for(source)`` picks one. Nothing here imports Qt.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from meshdesk.mesh.changes import (
    CREATE,
    DELETE,
    LABEL,
    REPLACE,
    RESOURCES,
    RESTART,
    RESTARTABLE,
    Change,
    ChangePlan,
)
from meshdesk.mesh.inventory import GATEWAY_API_KINDS, IstioObject
from meshdesk.mesh.schema import CRDSchemas
from meshdesk.sources.base import (
    Conflict,
    Forbidden,
    NotFound,
    SourceError,
    Timeout,
    Unauthorized,
    Unreachable,
    WritableSource,
)

log = logging.getLogger(__name__)

RBAC_ANSWER_SECONDS = 60.0  # how long an RBAC answer is trusted before it is asked again
PENDING_TEXT = "Checking your permissions…"  # what an action says while its RBAC answer is asked
CONFLICT_TEXT = "changed by someone else since you opened this - reload and try again"
_PREFERRED = ("v1", "v1beta1", "v1alpha3", "v1alpha2", "v1alpha1")
# the kinds meshdesk's own actions write: a CRD of theirs missing is said (the others may well be absent)
_ALWAYS_INSTALLED = ("VirtualService", "DestinationRule", "ServiceEntry", "PeerAuthentication")


def conflict(what: str) -> Conflict:
    return Conflict(f"{what} was {CONFLICT_TEXT}")


def deleted_meanwhile(what: str) -> Conflict:
    """A replace found its object gone: said so (it was said 'changed', and the user looked for a change)."""
    return Conflict(f"{what} was deleted by someone else since meshdesk read it - reload and try again")


class _AlreadyGone(NotFound):
    """A delete found its object gone: deleted by someone else meanwhile, which is what was asked."""


def _already_gone(what: str) -> _AlreadyGone:
    return _AlreadyGone(f"{what} was already gone (deleted by someone else meanwhile): nothing to delete")


# where the things a form is opened on (a service, a workload of each kind) are read, to tell one
# deleted since the form opened: kind -> (API path prefix, plural)
SUBJECT_PATHS: dict[str, tuple[str, str]] = {
    "Service": ("/api/v1", "services"), "Pod": ("/api/v1", "pods"),
    "ReplicationController": ("/api/v1", "replicationcontrollers"),
    "Deployment": ("/apis/apps/v1", "deployments"), "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"), "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "Job": ("/apis/batch/v1", "jobs"), "CronJob": ("/apis/batch/v1", "cronjobs"),
    "Rollout": ("/apis/argoproj.io/v1alpha1", "rollouts"),
}


class Writer(Protocol):
    def get(self, kind: str, namespace: str, name: str) -> IstioObject | None | bool: ...

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        """Whether the service or workload a form was opened on is still there (None: cannot tell)."""

    def namespace_state(self, namespace: str) -> tuple[dict[str, str], str] | None: ...

    def resolve_version(self, kind: str, api_version: str) -> str: ...

    def write(self, change: Change, *, dry_run: bool) -> None: ...

    def can_i(self, verb: str, group: str, resource: str, namespace: str | None,
              name: str = "") -> tuple[bool, str]: ...

    def schemas(self) -> tuple[CRDSchemas, list[str]]: ...


# -- RBAC -------------------------------------------------------------------------------------------

def can_i(api_client: Any, verb: str, group: str, resource: str, namespace: str | None,
          *, name: str = "", timeout: float = 15.0) -> tuple[bool, str]:
    """Ask the API server (SelfSubjectAccessReview) whether the user may ``verb`` ``resource``; (allowed,
    reason). When the question itself cannot be asked, the answer is "allowed" with the reason why we
    do not know (and the log says so): the write will still be refused by the server if RBAC says no."""
    from meshdesk.sources.inventory import RawApi

    attrs: dict[str, Any] = {"verb": verb, "group": group, "resource": resource}
    if namespace:
        attrs["namespace"] = namespace
    if name:
        attrs["name"] = name
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}}
    where = f" {name}" if name and (resource == "namespaces" or not namespace) else \
        f" in namespace {namespace}" if namespace else ""
    try:
        out = RawApi(api_client, timeout, None).request(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", (), body,
            what=f"ask whether you may {verb} {resource}")
    except SourceError as e:
        log.info("RBAC question not answered, taken as allowed (the server decides when you apply): %s", e.message)
        return True, f"could not ask the API server ({e.message}); the server decides when you apply"
    status = out.get("status") if isinstance(out, dict) else None
    status = status if isinstance(status, dict) else {}
    if status.get("allowed"):
        return True, ""
    why = str(status.get("reason") or status.get("evaluationError") or "").strip()
    text = f"Your RBAC role does not allow you to {verb} {resource}{where}"
    return False, f"{text}: {why}" if why else text


@dataclass(frozen=True)
class RulesReview:
    """What a SelfSubjectRulesReview said of one namespace: the resource rules it could list, and
    whether that is all of them (``incomplete``: an authorizer, a webhook say, could not list its own)."""

    rules: tuple[dict[str, Any], ...] = ()
    incomplete: bool = False

    def allows(self, verb: str, group: str, resource: str, name: str = "") -> bool:
        """Whether a listed rule grants it, matched as RBAC does: ``*`` for every verb, group or
        resource; a subresource rule (``deployments/scale``) does not grant its resource; a rule with
        ``resourceNames`` grants those objects only."""
        for rule in self.rules:
            verbs, groups = rule.get("verbs") or [], rule.get("apiGroups") or []
            resources, names = rule.get("resources") or [], rule.get("resourceNames") or []
            if "*" not in verbs and verb not in verbs:
                continue
            if "*" not in groups and group not in groups:
                continue
            if "*" not in resources and resource not in resources:
                continue
            if names and name not in names:
                continue
            return True
        return False


def rules_review(api_client: Any, namespace: str, *, timeout: float = 15.0) -> RulesReview:
    """Ask the API server (SelfSubjectRulesReview) what the user may do in ``namespace``, in one call.
    Failures raise ``SourceError``."""
    from meshdesk.sources.inventory import RawApi

    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace}}
    out = RawApi(api_client, timeout, None).request(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", (), body,
        what=f"ask what you may do in namespace {namespace}")
    status = out.get("status") if isinstance(out, dict) else None
    status = status if isinstance(status, dict) else {}
    rules = tuple(r for r in status.get("resourceRules") or [] if isinstance(r, dict))
    return RulesReview(rules, bool(status.get("incomplete")))


# -- the live cluster ----------------------------------------------------------------------------------

class ClusterWriter:
    """Writes through the official client's ``ApiClient`` (its credentials, TLS and proxy)."""

    def __init__(self, api_client: Any, *, timeout: float = 30.0, cluster: str = "") -> None:
        self.api = api_client
        self.timeout = timeout
        self.cluster = cluster
        self._versions: dict[str, list[str]] = {}
        self.schemas_incomplete = False  # the last ``schemas()`` could not read every CRD
        # (group, version) -> the resources it serves (None: its list could not be read)
        self._resources: dict[tuple[str, str], set[str] | None] = {}
        # RBAC answers, with when they were given: kept a minute (RBAC_ANSWER_SECONDS), so rights an admin
        # grants (or takes away) show in the menus without switching contexts
        self._rbac: dict[tuple[str, str, str, str, str], tuple[float, tuple[bool, str]]] = {}
        # namespace -> (when, its rules review): None when the review failed (each question is then asked
        # alone), a reason when no question can be asked (the server is unreachable: the server decides)
        self._rules: dict[str, tuple[float, RulesReview | str | None]] = {}
        self._rbac_lock = threading.Lock()  # the answers are asked and read from several threads
        self._rules_locks: dict[str, threading.Lock] = {}  # one rules review of a namespace at a time
        self.clock: Callable[[], float] = time.monotonic

    def _http(self) -> Any:
        from meshdesk.sources.inventory import RawApi

        return RawApi(self.api, self.timeout, None)

    # -- discovery ------------------------------------------------------------------------
    def _served_versions(self, group: str) -> list[str]:
        if group not in self._versions:
            try:
                doc = self._http().get(f"/apis/{group}", what=f"discover {group}")
            except NotFound:
                doc = {}
            self._versions[group] = [str(v.get("version")) for v in doc.get("versions") or [] if isinstance(v, dict)]
        return self._versions[group]

    def served_version(self, group: str) -> str:
        """The group's best served version (v1 before v1beta1 before the alphas)."""
        served = self._served_versions(group)
        pick = next((v for v in _PREFERRED if v in served), served[0] if served else "")
        if not pick:
            raise NotFound(f"the cluster serves no {group} API (is Istio installed?)")
        return pick

    def _kind_versions(self, kind: str) -> list[str]:
        """The versions of its group that serve ``kind`` (a group's versions are not all of its kinds':
        networking.istio.io/v1 has no EnvoyFilter, served as v1alpha3 only), in the group's order.
        When a version's resource list cannot be read, it is taken to serve the kind."""
        group, plural = RESOURCES[kind]
        out = []
        for version in self._served_versions(group):
            if (group, version) not in self._resources:
                try:
                    doc = self._http().get(f"/apis/{group}/{version}", what=f"discover {group}/{version}")
                    self._resources[(group, version)] = {
                        str(r.get("name")) for r in doc.get("resources") or [] if isinstance(r, dict)}
                except NotFound:
                    self._resources[(group, version)] = set()
                except SourceError:
                    self._resources[(group, version)] = None
            names = self._resources[(group, version)]
            if names is None or plural in names:
                out.append(version)
        return out

    def resolve_version(self, kind: str, api_version: str) -> str:
        """``api_version`` when the cluster serves the kind in it, else the kind's best served version."""
        group = RESOURCES[kind][0]
        wanted = api_version.split("/", 1)[1] if api_version.startswith(group + "/") else ""
        served = self._kind_versions(kind)
        if wanted and wanted in served:
            return api_version
        pick = next((v for v in _PREFERRED if v in served), served[0] if served else "")
        if not pick:
            shown = GATEWAY_API_KINDS.get(kind, kind)
            raise NotFound(f"the cluster serves no {shown} API ({RESOURCES[kind][1]}.{group}): is its CRD installed?")
        return f"{group}/{pick}"

    def _base(self, kind: str, namespace: str, api_version: str = "") -> tuple[str, str]:
        if kind not in RESOURCES:
            raise SourceError(f"meshdesk does not write {kind} objects")
        group, plural = RESOURCES[kind]
        version = self.resolve_version(kind, api_version).split("/", 1)[1]
        return f"/apis/{group}/{version}/namespaces/{quote(namespace)}/{plural}", f"{group}/{version}"

    def schemas(self) -> tuple[CRDSchemas, list[str]]:
        """The CRD schemas of the kinds meshdesk writes, as the cluster serves them; notes say what is
        missing (the objects are then checked by the server's dry run only)."""
        docs, notes = [], []
        failed: dict[str, list[str]] = {}  # why a CRD could not be read -> the kinds it kept from us

        def read(kind: str) -> Any:
            group, plural = RESOURCES[kind]
            return self._http().get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.{group}",
                                    what=f"read the {GATEWAY_API_KINDS.get(kind, kind)} CRD")

        # a score of CRDs: read side by side (one after the other they took seconds on a distant cluster)
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="crd-schemas") as pool:
            reads = {kind: pool.submit(read, kind) for kind in RESOURCES}
        for kind, future in reads.items():
            shown = GATEWAY_API_KINDS.get(kind, kind)
            try:
                docs.append(future.result())
            except NotFound:
                if kind not in _ALWAYS_INSTALLED:
                    continue  # not installed (the Gateway API, an older Istio): nothing of it to write
                notes.append(f"The {shown} CRD is not installed.")
            except SourceError as e:
                failed.setdefault(e.message.removeprefix(f"read the {shown} CRD: "), []).append(shown)
        for why, kinds in failed.items():
            # one note for the kinds one failure kept from us (a score of lines said the same thing)
            shown_kinds = list(dict.fromkeys(kinds))
            if not docs and len(failed) == 1:
                notes.append(f"The CRD schemas could not be read ({why}): the objects are checked by the "
                             "server's dry run only.")
                break
            notes.append(f"The {shown_kinds[0]} schema could not be read ({why})." if len(shown_kinds) == 1 else
                         f"The schemas of {', '.join(shown_kinds)} could not be read ({why}).")
        # a read that failed is tried again at the next review (a passing fault is not kept for the session)
        self.schemas_incomplete = bool(failed)
        schemas = CRDSchemas.from_crds(docs)
        # the schemas are keyed by the kind as the CRD names it ("HTTPRoute")
        have = {(k, api.split("/", 1)[0]) for k, api in schemas.schemas}
        missing = sorted(GATEWAY_API_KINDS.get(k, k) for k, (group, _p) in RESOURCES.items()
                         if (GATEWAY_API_KINDS.get(k, k), group) not in have
                         and any(d.get("spec", {}).get("group") == group and
                                 (d.get("spec", {}).get("names") or {}).get("kind") == GATEWAY_API_KINDS.get(k, k)
                                 for d in docs if isinstance(d, dict)))
        if missing and not notes:
            notes.append(f"The cluster's CRDs carry no schema for {', '.join(missing)}.")
        return schemas, notes

    def can_i(self, verb: str, group: str, resource: str, namespace: str | None,
              name: str = "") -> tuple[bool, str]:
        """(allowed, reason) for one RBAC question; may call the API server (never from the UI thread).
        A namespace's questions are answered from its SelfSubjectRulesReview, one call per namespace;
        what that does not grant, or every question when it is incomplete (a webhook authorizer cannot
        list its rules), is asked alone (SelfSubjectAccessReview): only that says no. Answers are kept
        a minute (RBAC_ANSWER_SECONDS), and another each time the namespace's complete rules review is
        asked again and found unchanged."""
        known = self.known_can_i(verb, group, resource, namespace, name)
        if known is not None:
            return known
        rules = self._rules_of(namespace) if namespace else None
        if isinstance(rules, str):
            answer = (True, rules)
        elif isinstance(rules, RulesReview) and not rules.incomplete and rules.allows(verb, group, resource, name):
            answer = (True, "")
        else:
            # the rules review asked again may have renewed the last access review's answer (the rules
            # did not change)
            known = self.known_can_i(verb, group, resource, namespace, name)
            if known is not None:
                return known
            answer = can_i(self.api, verb, group, resource, namespace, name=name, timeout=min(self.timeout, 15.0))
        with self._rbac_lock:
            self._rbac[(verb, group, resource, namespace or "", name)] = (self.clock(), answer)
        return answer

    def known_can_i(self, verb: str, group: str, resource: str, namespace: str | None,
                    name: str = "", *, stale: bool = False) -> tuple[bool, str] | None:
        """The answer ``can_i`` would give when it is known already (kept, or granted by the kept rules
        review), without calling the API server; None when it must be asked. ``stale``: an answer older
        than a minute is taken too (the last one known, while a fresh one is asked)."""
        now = self.clock()
        limit = float("inf") if stale else RBAC_ANSWER_SECONDS
        with self._rbac_lock:
            kept = self._rbac.get((verb, group, resource, namespace or "", name))
            if kept is not None and now - kept[0] <= limit:
                return kept[1]
            rules = self._rules.get(namespace or "") if namespace else None
        if rules is None or now - rules[0] > limit:
            return None
        if isinstance(rules[1], str):
            return True, rules[1]
        if isinstance(rules[1], RulesReview) and not rules[1].incomplete and \
                rules[1].allows(verb, group, resource, name):
            return True, ""
        return None

    def _rules_of(self, namespace: str) -> RulesReview | str | None:
        """The namespace's rules review, kept a minute; asked once however many threads want it."""
        with self._rbac_lock:
            lock = self._rules_locks.setdefault(namespace, threading.Lock())
        with lock:
            with self._rbac_lock:
                kept = self._rules.get(namespace)
            if kept is not None and self.clock() - kept[0] <= RBAC_ANSWER_SECONDS:
                return kept[1]
            found: RulesReview | str | None
            try:
                found = rules_review(self.api, namespace, timeout=min(self.timeout, 15.0))
            except (Unreachable, Timeout, Unauthorized) as e:
                # no question can be asked: each is taken as allowed, and the server decides when you apply
                log.info("RBAC questions in namespace %s not answered, taken as allowed (the server decides when "
                         "you apply): %s", namespace, e.message)
                found = f"could not ask the API server ({e.message}); the server decides when you apply"
            except SourceError as e:
                log.info("The rules review of namespace %s failed (%s): each question is asked alone",
                         namespace, e.message)
                found = None
            with self._rbac_lock:
                now = self.clock()
                if kept is not None and isinstance(found, RulesReview) and not found.incomplete and \
                        kept[1] == found:
                    # RBAC's rules in this namespace are what they were: the access reviews asked under
                    # them would answer as they did, so their answers are kept another minute rather
                    # than asked again (a user with no write rights asked 17 of them a minute)
                    for key, (_when, answer) in list(self._rbac.items()):
                        if key[3] == namespace:
                            self._rbac[key] = (now, answer)
                self._rules[namespace] = (now, found)
            return found

    # -- reads -------------------------------------------------------------------------------
    def get(self, kind: str, namespace: str, name: str) -> IstioObject | None:
        from meshdesk.sources.inventory import istio_from_json

        base, api_version = self._base(kind, namespace)
        try:
            doc = self._http().get(f"{base}/{quote(name)}", what=f"read {kind} {namespace}/{name}")
        except NotFound:
            return None
        return istio_from_json(doc, kind, api_version, self.cluster)

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        where = SUBJECT_PATHS.get(kind)
        if where is None:
            return None
        prefix, plural = where
        try:
            self._http().get(f"{prefix}/namespaces/{quote(namespace)}/{plural}/{quote(name)}",
                             what=f"read {kind} {namespace}/{name}")
        except NotFound:
            return False
        except SourceError as e:  # not allowed to read it, or no answer: the review goes on without knowing
            log.info("could not tell whether %s %s/%s is still there: %s", kind, namespace, name, e.message)
            return None
        return True

    def namespace_state(self, namespace: str) -> tuple[dict[str, str], str] | None:
        try:
            doc = self._http().get(f"/api/v1/namespaces/{quote(namespace)}", what=f"read namespace {namespace}")
        except NotFound:
            return None
        meta = doc.get("metadata") or {}
        return {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}, str(meta.get("resourceVersion") or "")

    # -- writes ------------------------------------------------------------------------------
    def _keep_metadata(self, manifest: dict[str, Any], path: str, what: str) -> None:
        """A replace sends the whole object: what meshdesk does not model of the object's metadata is
        taken from the cluster's copy so it stays (owner references that let Helm, Argo CD or an
        operator garbage-collect it, finalizers, and the annotations the inventory leaves out, such as
        kubectl's last-applied-configuration). A copy that changed meanwhile is the PUT's 409 to find."""
        from meshdesk.sources.inventory import _COPIES

        try:
            current = self._http().get(path, what=f"read {what}")
        except NotFound:
            return  # gone: the PUT says so
        meta = current.get("metadata") if isinstance(current, dict) else None
        if not isinstance(meta, dict):
            return
        ours = manifest["metadata"]
        for key in ("ownerReferences", "finalizers"):
            if meta.get(key):
                ours[key] = meta[key]
        theirs = meta.get("annotations")
        kept = {k: v for k, v in theirs.items() if k in _COPIES} if isinstance(theirs, dict) else {}
        if kept:
            ours["annotations"] = {**kept, **(ours.get("annotations") or {})}

    def write(self, change: Change, *, dry_run: bool) -> None:
        query = [("dryRun", "All")] if dry_run else []
        http = self._http()
        if change.op == LABEL:
            state = self.namespace_state(change.namespace)
            if state is None:
                raise NotFound(f"namespace {change.namespace} is gone")
            if change.before_version and state[1] != change.before_version:
                raise conflict(f"namespace {change.namespace}")
            patch: dict[str, Any] = {"metadata": {"labels": dict(change.labels)}}
            if change.before_version:
                patch["metadata"]["resourceVersion"] = change.before_version  # the server's optimistic lock
            http.request("PATCH", f"/api/v1/namespaces/{quote(change.namespace)}", query, patch,
                         content_type="application/merge-patch+json", what=f"label namespace {change.namespace}")
            return
        if change.op == RESTART:
            group, plural = RESTARTABLE[change.workload_kind]
            what = f"{change.workload_kind} {change.namespace}/{change.workload_name}"
            try:
                http.request("PATCH", f"/apis/{group}/v1/namespaces/{quote(change.namespace)}/{plural}/"
                             f"{quote(change.workload_name)}", query, change.restart_patch(),
                             content_type="application/merge-patch+json", what=f"restart {what}")
            except NotFound:
                raise NotFound(f"{what} is gone: there is nothing to restart") from None
            return
        obj = change.obj
        assert obj is not None
        what = f"{obj.kind} {obj.namespace}/{obj.name}"
        base, api_version = self._base(obj.kind, obj.namespace, obj.api_version)
        manifest = obj.to_manifest()
        manifest["apiVersion"] = api_version
        try:
            if change.op == CREATE:
                manifest["metadata"].pop("resourceVersion", None)
                http.request("POST", base, query, manifest, what=f"create {what}")
            elif change.op == REPLACE:
                rv = (change.before.resource_version if change.before else "") or obj.resource_version
                if not rv:
                    raise SourceError(f"{what}: no resourceVersion to replace it safely; reload and try again")
                manifest["metadata"]["resourceVersion"] = rv
                self._keep_metadata(manifest, f"{base}/{quote(obj.name)}", what)
                http.request("PUT", f"{base}/{quote(obj.name)}", query, manifest, what=f"replace {what}")
            elif change.op == DELETE:
                rv = change.before.resource_version if change.before else obj.resource_version
                # the server deletes only the version the user saw (DeleteOptions preconditions):
                # a change made meanwhile is a 409, never silently deleted
                options = {"apiVersion": "v1", "kind": "DeleteOptions",
                           **({"preconditions": {"resourceVersion": rv}} if rv else {})}
                http.request("DELETE", f"{base}/{quote(obj.name)}", query, options, what=f"delete {what}")
        except Conflict:
            raise conflict(what) from None
        except NotFound as e:
            if change.op == DELETE:
                raise _already_gone(what) from None  # as asked: ``_run`` counts it done
            if change.op == REPLACE:
                raise deleted_meanwhile(what) from None
            raise e


# -- any other writable source (the demo) -----------------------------------------------------------------

class SourceWriter:
    """Any other ``WritableSource`` (the demo cluster). Current objects are read from a fresh snapshot's
    inventory of the namespace when the source takes snapshots (else ``get`` answers ``False``:
    unknown, and the plan keeps what the inventory said); its ``apply`` checks resource versions."""

    def __init__(self, source: WritableSource) -> None:
        self.source = source

    def _inventory(self, namespace: str) -> Any:
        from meshdesk.mesh.request import GraphRequest

        if not callable(getattr(self.source, "snapshot", None)):
            return None
        snap = self.source.snapshot(GraphRequest(namespaces=(namespace,)), with_inventory=True)
        return snap.inventory

    def get(self, kind: str, namespace: str, name: str) -> IstioObject | None | bool:
        inv = self._inventory(namespace)
        if inv is None:
            return False
        return next((o for o in inv.istio_objects(kind, namespace) if o.name == name), None)

    def exists(self, kind: str, namespace: str, name: str) -> bool | None:
        inv = self._inventory(namespace)
        if inv is None:
            return None
        if kind == "Service":
            return any(s.namespace == namespace and s.name == name for s in inv.services)
        return any(w.namespace == namespace and w.name == name and w.kind == kind for w in inv.workloads)

    def namespace_state(self, namespace: str) -> tuple[dict[str, str], str] | None:
        inv = self._inventory(namespace)
        ns = inv.namespace(namespace) if inv is not None else None
        return (dict(ns.labels), "") if ns is not None else None

    def resolve_version(self, kind: str, api_version: str) -> str:
        return api_version

    def can_i(self, verb: str, group: str, resource: str, namespace: str | None,
              name: str = "") -> tuple[bool, str]:
        return True, ""

    def schemas(self) -> tuple[CRDSchemas, list[str]]:
        return CRDSchemas(), ["This source serves no CRD schemas: the objects are checked by its dry run."]

    def write(self, change: Change, *, dry_run: bool) -> None:
        if change.op == LABEL:
            self.source.label_namespace(change.namespace, dict(change.labels), dry_run=dry_run)
            return
        if change.op == RESTART:
            restart = getattr(self.source, "restart_workload", None)
            if restart is None:
                raise SourceError("this source cannot restart workloads")
            restart(change.namespace, change.workload_kind, change.workload_name, dry_run=dry_run)
            return
        obj = change.obj
        assert obj is not None
        what = f"{obj.kind} {obj.namespace}/{obj.name}"
        try:
            if change.op == DELETE:
                self.source.delete(obj.kind, obj.namespace, obj.name, dry_run=dry_run)
            else:
                out = copy.deepcopy(obj)
                out.resource_version = (change.before.resource_version if change.before else "") \
                    if change.op == REPLACE else ""
                self.source.apply(out, dry_run=dry_run)
        except Conflict:
            raise conflict(what) from None
        except NotFound:
            if change.op == DELETE:
                raise _already_gone(what) from None
            if change.op == REPLACE:
                raise deleted_meanwhile(what) from None
            raise


def writer_for(source: Any) -> Writer | None:
    """The writer for a source: a ``ClusterWriter`` for a live cluster (anything with an official
    ``api`` client), a ``SourceWriter`` for other writable sources, the writer itself when given one;
    None when the source takes no writes (a snapshot file). Keep the writer: it caches the served
    versions and RBAC answers."""
    if hasattr(source, "write") and hasattr(source, "namespace_state"):
        given: Writer = source
        return given
    api = getattr(source, "api", None)
    if api is not None and hasattr(api, "param_serialize"):
        return ClusterWriter(api, timeout=float(getattr(source, "timeout", 30.0)),
                             cluster=str(getattr(source, "cluster", "")))
    if all(callable(getattr(source, m, None)) for m in ("apply", "delete", "label_namespace")):
        return SourceWriter(source)
    return None


# -- plan operations ------------------------------------------------------------------------------------

def _changed(before: IstioObject, now: IstioObject) -> bool:
    if before.resource_version and now.resource_version:
        return before.resource_version != now.resource_version
    return (before.spec, before.labels, before.annotations) != (now.spec, now.labels, now.annotations)


def _gone_needs(writer: Any, plan: ChangePlan) -> str:
    """Why the plan cannot be written as it is: an object it relies on and does not write (a Gateway the
    VirtualService is bound to) that is not in the cluster any more; "" when all are there (or the
    writer cannot tell)."""
    for kind, namespace, name, why in plan.needs:
        try:
            now = writer.get(kind, namespace, name)
        except Forbidden:
            continue  # one the user may not read: the server's dry run and validation judge the binding
        if now is None:
            return (f"{kind} {namespace}/{name} is not in the cluster any more ({why}) - reload and pick "
                    "another")
    return ""


def refresh(writer: Any, plan: ChangePlan) -> ChangePlan:
    """The plan against what the cluster has right now, or a ``Conflict`` when that is no longer what
    the plan was made from: an object it replaces or deletes that changed (or, for a replace, vanished)
    since, or one it creates that someone else created meanwhile. The plan merges its changes into
    what it read, so writing it over anything newer would silently undo someone's change. A delete of
    an object already gone is dropped; objects get the API version the cluster serves; a namespace
    label patch is made again when the namespace was relabelled since (a Conflict). Call it when the preview
    is made."""
    out = ChangePlan(plan.summary, notes=list(plan.notes), needs=list(plan.needs), nothing=plan.nothing)
    gone = _gone_needs(writer, plan)
    if gone:
        raise Conflict(gone)
    for c in plan.changes:
        c = copy.deepcopy(c)
        if c.op == RESTART:  # a patch of one annotation: nothing of anyone's is overwritten
            out.changes.append(c)
            continue
        if c.op == LABEL:
            state = writer.namespace_state(c.namespace)
            if state is not None and c.before_labels is not None and dict(state[0]) != dict(c.before_labels):
                # relabelled since the plan was made from its labels: the plan may no longer be what the
                # form means (a revision label added meanwhile stays beside istio-injection, the notes on
                # restarts are of the old labels), so it is made again from what the namespace has now
                raise conflict(f"namespace {c.namespace}")
            if state is not None:
                c.before_labels, c.before_version = state
                c.labels = {k: v for k, v in c.labels.items() if c.before_labels.get(k) != v}
                if not c.labels:
                    continue
            out.changes.append(c)
            continue
        assert c.obj is not None
        asked = c.obj.api_version
        c.obj.api_version = writer.resolve_version(c.obj.kind, asked)
        if asked and c.obj.api_version != asked and c.op != DELETE:
            # said, not done silently: an apiVersion typed in the YAML editor the cluster does not serve
            out.notes.append(f"{c.obj.kind} {c.obj.namespace}/{c.obj.name} is written as {c.obj.api_version}: "
                             f"the cluster does not serve {asked}.")
        now = writer.get(c.obj.kind, c.obj.namespace, c.obj.name)
        if now is False:  # the writer cannot read: keep what the inventory said
            out.changes.append(c)
            continue
        what = f"{c.obj.kind} {c.obj.namespace}/{c.obj.name}"
        if now is None:
            if c.op == DELETE:
                continue
            if c.op == REPLACE:
                raise deleted_meanwhile(what)
        elif c.op == CREATE:
            raise Conflict(f"{what} was created by someone else since meshdesk read it - reload and try again")
        elif c.before is None or _changed(c.before, now):
            raise conflict(what)
        else:
            c.before = now
            c.obj.resource_version = now.resource_version
        out.changes.append(c)
    return out


@dataclass
class RunResult:
    """What a dry run or an apply did: one line per change, and the error that stopped it."""

    dry_run: bool
    done: list[str] = field(default_factory=list)
    error: SourceError | None = None
    failed: str = ""  # the change that failed

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def conflict(self) -> bool:
        return isinstance(self.error, Conflict)

    def failure(self) -> str:
        """The change that failed and why, naming the change once (the API's errors often start with
        what was asked: "create VirtualService shop/cart: the API server failed ...")."""
        why = str(self.error or "")
        if not self.failed:
            return why
        if why.lower().startswith(f"{self.failed.lower()}:"):
            return self.failed + why[len(self.failed):]
        return f"{self.failed}: {why}"

    def text(self) -> str:
        passed = "Dry run passed" if self.dry_run else "Done"
        lines = [f"{passed}: {d}" for d in self.done]
        if self.error is not None:
            lines.append(f"Failed: {self.failure()}")
            if self.done and not self.dry_run:
                lines.append("The changes above were applied; the rest were not.")
        elif not self.done:
            lines.append("Nothing to do.")
        return "\n".join(lines)


def _run(writer: Any, plan: ChangePlan, dry_run: bool, progress: Callable[[int, int, str], None] | None) -> RunResult:
    result = RunResult(dry_run)
    try:
        gone = _gone_needs(writer, plan)
    except SourceError as e:
        gone, result.error = "", e
    if gone:
        result.error = Conflict(gone)
    if result.error is not None:
        result.failed = plan.summary
        return result
    for i, c in enumerate(plan.changes):
        if progress is not None:
            progress(i, len(plan.changes), c.title())
        try:
            writer.write(c, dry_run=dry_run)
        except _AlreadyGone as e:  # what the delete asked for holds: said, not called a conflict
            result.done.append(f"{c.title()}: {e.message}")
            continue
        except SourceError as e:
            result.error, result.failed = e, c.title()
            break
        except Exception as e:  # noqa: BLE001 - an unexpected failure is reported, never lost
            log.exception("write failed: %s", c.title())
            result.error, result.failed = SourceError(f"unexpected error: {e}"), c.title()
            break
        result.done.append(c.title())
    return result


def dry_run(source: Any, plan: ChangePlan) -> RunResult:
    """Send every change with ``dryRun=All``: the server validates (schemas, webhooks, RBAC) and keeps
    nothing."""
    writer = writer_for(source)
    if writer is None:
        return RunResult(True, error=SourceError("this source takes no writes"), failed=plan.summary)
    return _run(writer, plan, True, None)


def apply(source: Any, plan: ChangePlan, progress: Callable[[int, int, str], None] | None = None) -> RunResult:
    """Write the plan in order. A replace or delete carries the ``resourceVersion`` read at preview time,
    so an object changed meanwhile stops the apply with a ``Conflict`` and is left as it is."""
    writer = writer_for(source)
    if writer is None:
        return RunResult(False, error=SourceError("this source takes no writes"), failed=plan.summary)
    return _run(writer, plan, False, progress)


def _question(verb: str, kind: str, namespace: str) -> tuple[str, str, str, str | None, str]:
    """The RBAC question of a (verb, kind) need in ``namespace``: (verb, group, resource, namespace, name).
    A namespace's own object is asked in that namespace, by its name: the API server takes a namespace's
    name as its request's namespace, so a RoleBinding there grants it."""
    if kind == "Namespace":
        return verb, "", "namespaces", namespace, namespace
    group, plural = RESTARTABLE[kind] if kind in RESTARTABLE else RESOURCES[kind]
    return verb, group, plural, namespace, ""


def permission_problem(source: Any, plan_kinds: list[tuple[str, str]], namespace: str) -> str:
    """The first thing RBAC forbids among (verb, kind) pairs in ``namespace``; empty when all is allowed.
    ``kind`` is an Istio kind or "Namespace". May call the API server: never from the UI thread (see
    ``known_permission_problem``)."""
    writer = writer_for(source)
    if writer is None:
        return "This source is read only (a snapshot file)."
    for verb, kind in plan_kinds:
        allowed, reason = writer.can_i(*_question(verb, kind, namespace))
        if not allowed:
            return reason
    return ""


def known_permission_problem(source: Any, plan_kinds: list[tuple[str, str]], namespace: str, *,
                             stale: bool = False) -> str | None:
    """``permission_problem`` from what the writer knows already, without calling the API server: None
    when an answer must still be asked (and none known forbids). ``stale``: answers older than a minute
    count too."""
    writer = writer_for(source)
    if writer is None:
        return "This source is read only (a snapshot file)."
    known = getattr(writer, "known_can_i", None)
    unknown = False
    for verb, kind in plan_kinds:
        question = _question(verb, kind, namespace)
        answer = (known(*question, stale=True) if stale else known(*question)) if callable(known) \
            else writer.can_i(*question)
        if answer is None:
            unknown = True
        elif not answer[0]:
            return answer[1]
    return None if unknown else ""


def forbidden_error(e: SourceError) -> bool:
    return isinstance(e, Forbidden)
