"""The built-in demo cluster: a small Istio mesh simulated in process, no cluster needed.

``DemoCluster`` is a ``MeshSource`` and a ``WritableSource`` like a live cluster: it lists namespaces,
answers snapshots (telemetry samples as Prometheus would return them for the selected namespaces, plus
the inventory) and takes Istio config writes, which change the traffic that follows (VirtualService
weights, fault injection, timeouts, retries; see ``traffic.py``). It is also a ``TraceSource``: the spans its
proxies would report for a sample of that traffic (``traces.py``). Everything is a deterministic function
of the injected clock and the seed, so tests drive it without sleeping.

Thread-safe: the UI polls from a worker thread while actions write from the UI thread.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from meshdesk.mesh.inventory import (
    GATEWAY_API_KINDS,
    ISTIO_KINDS,
    ISTIO_NAMESPACE,
    Inventory,
    Istiod,
    IstioObject,
    Namespace,
    Workload,
    endpoints_from_pods,
    image_tag,
)
from meshdesk.mesh.namespace_traffic import TrafficReading, traffic_from_samples, traffic_grid
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot
from meshdesk.mesh.traces import Trace, TraceQuery, TraceSet
from meshdesk.sources.base import Cancelled, Conflict, NotFound, SourceError, SourceInfo
from meshdesk.sources.demo import mesh
from meshdesk.sources.demo import traffic as sim
from meshdesk.sources.demo.selection import live_selection

__all__ = ["DemoCluster"]

_API_GROUPS = {
    "PeerAuthentication": "security.istio.io/v1",
    "AuthorizationPolicy": "security.istio.io/v1",
    "RequestAuthentication": "security.istio.io/v1",
    "Telemetry": "telemetry.istio.io/v1",
    "WasmPlugin": "extensions.istio.io/v1alpha1",
    "EnvoyFilter": "networking.istio.io/v1alpha3",
    "ProxyConfig": "networking.istio.io/v1beta1",
    **{kind: "gateway.networking.k8s.io/v1" for kind in GATEWAY_API_KINDS},
    "K8sTCPRoute": "gateway.networking.k8s.io/v1alpha2",
    "K8sTLSRoute": "gateway.networking.k8s.io/v1alpha2",
    "K8sReferenceGrant": "gateway.networking.k8s.io/v1beta1",
}


class DemoCluster:
    """A simulated cluster named "demo" with namespaces ``hello``, ``shop``, ``travel`` (ambient, with a
    waypoint) and ``istio-system``.

    ``traffic=False`` starts it silent (an inventory, no samples) until ``start_traffic()``.
    ``clock`` gives the current unix time (for snapshots with ``queryTime == 0``).
    """

    def __init__(self, *, traffic: bool = True, clock: Callable[[], float] = time.time, seed: int = 7) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._seed = seed
        self._traffic = traffic
        self._log_levels: dict[tuple[str, str], str] = {}  # (namespace, pod) -> the Envoy log level set
        self._namespaces = mesh.build_namespaces()
        self._workloads = mesh.build_workloads(seed, clock())
        self._services = mesh.build_services(seed)
        self._version = 1000 + seed % 1000
        self._restarts = 0  # rollout restarts done (each gives a Deployment's pods a new template hash)
        # workloads restarted into or out of a sidecar (their namespace's injection changed): the simulation
        # follows their pods, not the sidecar setup they were built with
        self._sidecars: dict[tuple[str, str], bool] = {}
        self._istio: dict[tuple[str, str, str], IstioObject] = {}
        for obj in mesh.default_istio_config():
            obj.resource_version = self._next_version()
            self._istio[(obj.kind, obj.namespace, obj.name)] = obj
        # the config and pods in force since each change, for the traces of each moment (``traces.py``)
        self._eras: list[Any] = []
        self._traces: Any = None
        self._simulated = sim.SimulationCache()
        self._new_era(-math.inf)

    # -- MeshSource --------------------------------------------------------------------------------
    def info(self) -> SourceInfo:
        return SourceInfo(context="demo", cluster=mesh.CLUSTER, prometheus="built-in simulation", live=True)

    def tracing_state(self) -> tuple[str, str]:
        """The demo's traces are synthesized (``meshdesk.sources.demo.traces``): always there."""
        return "reachable", "built-in simulation"

    def namespaces(self) -> list[Namespace]:
        with self._lock:
            return copy.deepcopy(self._namespaces)

    def snapshot(self, request: GraphRequest, *, with_inventory: bool = True,
                 cancelled: Callable[[], bool] | None = None, every_series: bool = False) -> Snapshot:
        """Samples for ``request.namespaces`` (all demo namespaces when it names none) at
        ``request.queryTime`` (0 = the clock's now) over ``request.duration``, and the inventory.
        The samples are those the live graph queries would return; ``every_series``: every series of
        the simulation (the metric charts ask Prometheus for series no graph query reads, such as
        request sizes as the servers report them)."""
        with self._lock:
            running = self._traffic
            era = self._eras[-1]  # the Istio config and sidecars in force now (its simulation's config)
            if with_inventory:
                objects = copy.deepcopy(list(self._istio.values()))
                namespaces = copy.deepcopy(self._namespaces)
                workloads = copy.deepcopy(self._workloads)
                services = copy.deepcopy(self._services)
            known = [n.name for n in self._namespaces]
        now = float(request.queryTime) if request.queryTime else float(self._clock())
        wanted = [n for n in request.namespaces if n in known] if request.namespaces else known
        if cancelled is not None and cancelled():
            raise Cancelled("the demo snapshot was cancelled")
        samples = []
        if running and wanted:
            # the past is simulated with the config of now; the same moment asked again (each chart point at
            # every poll and selection) is answered from what was kept
            every = self._simulated.samples(era.serial, era.config, self._seed, now, float(request.duration),
                                            cancelled)
            if every_series:
                samples = every
            else:  # what the live queries would return (their selectors worked out from the queries: not free)
                selected = live_selection(request, wanted)
                samples = [s for s in every if selected(s)]
        inventory = None
        if with_inventory:
            sim.update_pods(workloads, self._seed, now)
            # the addresses Kubernetes keeps for each Service (its EndpointSlices), from the pods as they are now
            pods = [p for w in workloads for p in w.pods]
            for svc in services:
                svc.endpoints = endpoints_from_pods(svc, pods)
            # the chosen namespaces, and as a cluster read the gateways elsewhere (so the shop graph marks
            # istio-system's)
            inventory = Inventory(cluster=mesh.CLUSTER, namespaces=namespaces, workloads=workloads,
                                  services=services, istio=list(objects),
                                  cluster_namespaces=sorted(n.name for n in namespaces),
                                  mesh_settings=mesh.MESH_SETTINGS,
                                  control_planes=_control_planes(workloads),
                                  # ambient's node proxies (travel is in ambient mode): one per node, ready
                                  ztunnels=[Workload("ztunnel", ISTIO_NAMESPACE, kind="DaemonSet",
                                                     labels={"app": "ztunnel", "istio.io/rev": "default"},
                                                     replicas=2, available=2, current=2)],
                                  gateway_api_kinds=sorted(GATEWAY_API_KINDS),
                                  # the GatewayClasses an Istio install makes (the waypoint's among them)
                                  gateway_classes=dict(mesh.GATEWAY_CLASSES)).within(wanted)
            missing = [n for n in request.namespaces if n not in known]
            if missing:
                inventory.warnings.append(f"{'namespace' if len(missing) == 1 else 'namespaces'} not in the demo cluster: "
                                           f"{', '.join(missing)}")
        meta: dict[str, Any] = {"context": "demo", "cluster": mesh.CLUSTER, "prometheus": "built-in simulation",
                                # as a live snapshot says it (a number here and a time there confused readers)
                                "takenAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(now))),
                                "traffic": running}
        if inventory is not None:  # (as a cluster's: read now, also when the traffic is of a replayed moment)
            meta["inventoryAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(self._clock())))
        return Snapshot(request=request, samples=samples, inventory=inventory, name="demo", meta=meta)

    def namespace_traffic(self, request: GraphRequest, cancelled: Callable[[], bool] | None = None) -> TrafficReading:
        """Every namespace's inbound requests over the graph's window, as a Prometheus would answer the
        Namespaces list's one query: the simulation's rates at each point of the sparklines' grid."""
        end = float(request.queryTime) if request.queryTime else float(self._clock())
        grid = traffic_grid(request.duration, end)
        columns = [self.snapshot(GraphRequest(queryTime=int(t), duration=grid.window_s), with_inventory=False,
                                 cancelled=cancelled, every_series=True).samples for t in grid.times]
        return dataclasses.replace(traffic_from_samples(grid, columns), replayed=bool(request.queryTime))

    def close(self) -> None:
        """Nothing to release; kept for the MeshSource interface."""

    # -- metrics and logs (in their own modules) -----------------------------------------------------
    def range_series(self, target: Any, spec: Any, cancelled: Callable[[], bool] | None = None) -> Any:
        """Chart data sampled from this simulation at each step (``meshdesk.sources.demo.metrics``)."""
        from meshdesk.sources.demo.metrics import range_series

        return range_series(self, target, spec, cancelled, now=self._clock())

    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None, since_time: str | None = None,
                 limit_bytes: int | None = None, previous: bool = False) -> Any:
        """Synthetic container logs (``meshdesk.sources.demo.logs``)."""
        from meshdesk.sources.demo.logs import pod_logs

        return pod_logs(self, namespace, pod, container, tail_lines, since_seconds, since_time, limit_bytes,
                        previous=previous)

    def config_dump(self, namespace: str, pod: str) -> dict[str, Any]:
        """A synthetic Envoy ``/config_dump`` of the pod's proxy, made from the demo mesh as it is now
        (``meshdesk.sources.demo.envoy``)."""
        from meshdesk.mesh.envoy import redact_secrets
        from meshdesk.sources.demo.envoy import config_dump

        with self._lock:
            workloads = copy.deepcopy(self._workloads)
            services = copy.deepcopy(self._services)
            objects = copy.deepcopy(list(self._istio.values()))
        dump, _ = redact_secrets(config_dump(workloads, services, objects, namespace, pod))
        out: dict[str, Any] = dump
        return out

    def stats(self, namespace: str, pod: str) -> str:
        """Synthetic Envoy ``/stats`` of the pod's proxy (``meshdesk.sources.demo.envoy.stats``)."""
        from meshdesk.sources.demo.envoy import stats

        with self._lock:
            workloads = copy.deepcopy(self._workloads)
            services = copy.deepcopy(self._services)
            objects = copy.deepcopy(list(self._istio.values()))
        return stats(workloads, services, objects, namespace, pod, float(self._clock()))

    def set_log_level(self, namespace: str, pod: str, level: str) -> dict[str, str]:
        """Set the demo proxy's log level (remembered per pod, as a proxy keeps it until it restarts)."""
        from meshdesk.sources.demo.envoy import log_levels
        from meshdesk.sources.envoy import LOG_LEVELS

        if level not in LOG_LEVELS:
            raise ValueError(f"{level!r} is no Envoy log level (one of {', '.join(LOG_LEVELS)})")
        with self._lock:
            workloads = copy.deepcopy(self._workloads)
            services = copy.deepcopy(self._services)
            objects = copy.deepcopy(list(self._istio.values()))
        levels = log_levels(workloads, services, objects, namespace, pod, level)
        with self._lock:
            self._log_levels[(namespace, pod)] = level
        return levels

    def log_levels(self, namespace: str, pod: str) -> dict[str, str]:
        """The demo proxy's loggers at the level it was last set to, as ``POST /logging`` lists them."""
        from meshdesk.sources.demo.envoy import log_levels

        with self._lock:
            workloads = copy.deepcopy(self._workloads)
            services = copy.deepcopy(self._services)
            objects = copy.deepcopy(list(self._istio.values()))
        return log_levels(workloads, services, objects, namespace, pod, self.log_level(namespace, pod))

    def log_level(self, namespace: str, pod: str) -> str:
        """The level the demo proxy was last set to ("warning", Istio's, until then)."""
        with self._lock:
            return self._log_levels.get((namespace, pod), "warning")

    def find_traces(self, query: TraceQuery, cancelled: Callable[[], bool] | None = None) -> TraceSet:
        """The traces of the demo's traffic a Jaeger query would find, narrowed to the query's target
        (``meshdesk.sources.demo.traces``: 2% of the requests sampled, from the config in force at each time)."""
        found: TraceSet = self._trace_source().find_traces(query, cancelled)
        return found

    def trace(self, trace_id: str) -> Trace | None:
        """One trace of the demo's traffic by its id, the same each time; None for an id it never made."""
        found: Trace | None = self._trace_source().trace(trace_id)
        return found

    def _trace_source(self) -> Any:
        from meshdesk.sources.demo.traces import DemoTraces

        with self._lock:
            if self._traces is None:
                self._traces = DemoTraces(self._seed, self._trace_eras, self._clock, lambda: self.traffic_running)
            return self._traces

    def _trace_eras(self) -> list[Any]:
        with self._lock:
            return list(self._eras)

    def _new_era(self, since: float | None = None) -> None:
        """Remember the Istio config and pods in force from now on (called under the lock after a change)."""
        from meshdesk.sources.demo.traces import MAX_HISTORY, Era, current_pods

        when = float(self._clock()) if since is None else since
        era = Era(when, copy.deepcopy(list(self._istio.values())), current_pods(self._workloads), dict(self._sidecars))
        if self._eras and self._eras[-1].since >= when:
            # changes within the same instant
            self._eras[-1] = Era(self._eras[-1].since, era.objects, era.pods, era.sidecars)
        else:
            self._eras.append(era)
        if len(self._eras) > MAX_HISTORY:
            oldest = self._eras.pop(1)
            self._eras[0] = Era(-math.inf, oldest.objects, oldest.pods, oldest.sidecars)

    # -- traffic switch ------------------------------------------------------------------------------
    def now(self) -> float:
        """The demo's clock (unix seconds): "now" for views that ask it for a time window."""
        return float(self._clock())

    def start_traffic(self) -> None:
        with self._lock:
            self._traffic = True

    def stop_traffic(self) -> None:
        with self._lock:
            self._traffic = False

    @property
    def traffic_running(self) -> bool:
        with self._lock:
            return self._traffic

    # -- WritableSource ----------------------------------------------------------------------------
    def apply(self, obj: IstioObject, *, dry_run: bool = False) -> IstioObject:
        """Create or replace an Istio object. With a ``resource_version`` it must match the stored one
        (else ``Conflict``; ``NotFound`` when the object is gone); without one it is a create, and an
        object that already exists gives ``Conflict`` (nothing is overwritten blindly, as in a cluster)."""
        _check(obj)
        with self._lock:
            if self._namespace(obj.namespace) is None:
                raise NotFound(f"namespace {obj.namespace!r} not found in the demo cluster")
            key = (obj.kind, obj.namespace, obj.name)
            current = self._istio.get(key)
            what = f"{obj.kind} {obj.namespace}/{obj.name}"
            if obj.resource_version:
                if current is None:
                    raise NotFound(f"{what} not found (deleted meanwhile?)",
                                   hint="apply it without a resource version to create it again")
                if current.resource_version != obj.resource_version:
                    raise Conflict(f"{what} was changed by someone else meanwhile",
                                   hint="reload it and apply your change again")
            elif current is not None:
                raise Conflict(f"{what} already exists", hint="reload it and apply your change again")
            stored = copy.deepcopy(obj)
            stored.cluster = mesh.CLUSTER
            if not stored.api_version:
                stored.api_version = _API_GROUPS.get(obj.kind, "networking.istio.io/v1")
            if dry_run:
                stored.resource_version = current.resource_version if current else ""
                return stored
            stored.resource_version = self._next_version()
            self._istio[key] = stored
            self._new_era()
            return copy.deepcopy(stored)

    def delete(self, kind: str, namespace: str, name: str, *, dry_run: bool = False) -> None:
        with self._lock:
            key = (kind, namespace, name)
            if key not in self._istio:
                raise NotFound(f"{kind} {namespace}/{name} not found in the demo cluster")
            if not dry_run:
                del self._istio[key]
                self._new_era()

    def label_namespace(self, namespace: str, labels: dict[str, str | None], *, dry_run: bool = False) -> None:
        """Set labels on a namespace; a ``None`` value removes the label. Running pods keep what they
        have (as in a real cluster, injection changes only new pods)."""
        for k, v in labels.items():
            if not isinstance(k, str) or not k or (v is not None and not isinstance(v, str)):
                raise SourceError(f"namespace {namespace} labels rejected as invalid: {k!r}={v!r}",
                                  hint="label keys and values are strings; None removes a label")
        with self._lock:
            ns = self._namespace(namespace)
            if ns is None:
                raise NotFound(f"namespace {namespace!r} not found in the demo cluster")
            if dry_run:
                return
            for k, v in labels.items():
                if v is None:
                    ns.labels.pop(k, None)
                else:
                    ns.labels[k] = v

    def restart_workload(self, namespace: str, kind: str, name: str, *, dry_run: bool = False) -> None:
        """A rollout restart: the workload's pods are replaced by new ones (new names, started now, no
        restarts counted), made as the namespace's injection says now: a sidecar added when injection was
        turned on since (``2/2``), taken away when it was turned off, none for a pod that opts out
        (``sidecar.istio.io/inject: "false"``), gateways, waypoints and ambient namespaces as they are.
        The simulated traffic follows: the workload's requests are reported, secured and refused as a
        workload's with or without a sidecar are."""
        with self._lock:
            w = next((w for w in self._workloads if (w.namespace, w.kind, w.name) == (namespace, kind, name)), None)
            if w is None:
                raise NotFound(f"{kind} {namespace}/{name} not found in the demo cluster")
            ns = self._namespace(namespace)
            opted_out = any((p.annotations.get("sidecar.istio.io/inject") or p.labels.get("sidecar.istio.io/inject")
                             or "").lower() == "false" for p in w.pods)
            injects = ns is not None and ns.injection_enabled and not ns.ambient and not opted_out
            spec = next((s for s in mesh.WORKLOADS if (s.namespace, s.name) == (namespace, name)), None)
            flips = (spec is not None and w.pods and w.has_sidecar is not None and not spec.waypoint
                     and not w.labels.get("gateway.istio.io/managed") and w.name != "istio-ingressgateway"
                     and bool(w.has_sidecar) != injects)
            if dry_run:
                return
            if flips and spec is not None:
                for p in w.pods:
                    mesh.set_sidecar(p, spec, injects)
                self._sidecars[(namespace, name)] = injects
            now = float(self._clock())
            self._restarts += 1
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(now)))
            # a Deployment's new pods are of a new ReplicaSet (a new template hash); a StatefulSet's keep
            # their ordinal names
            digest = hashlib.blake2b(f"{namespace}/{name}/{self._restarts}".encode(), digest_size=5).hexdigest()
            for i, p in enumerate(w.pods):
                if kind == "Deployment":
                    old = p.labels.get("pod-template-hash", "")
                    token = hashlib.blake2b(f"{digest}/{i}".encode(), digest_size=3).hexdigest()[:5]
                    p.name = f"{name}-{digest}-{token}"
                    if old:
                        p.labels["pod-template-hash"] = digest
                    p.owner_name = f"{name}-{digest}"
                elif kind == "DaemonSet":
                    p.name = f"{name}-{hashlib.blake2b(f'{digest}/{i}'.encode(), digest_size=3).hexdigest()[:5]}"
                p.created = stamp
                for c in p.containers + p.init_containers:
                    c.restarts = 0
            self._new_era()

    # -- helpers -------------------------------------------------------------------------------------
    def _namespace(self, name: str) -> Namespace | None:
        return next((n for n in self._namespaces if n.name == name), None)

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)



def _check(obj: IstioObject) -> None:
    """What Istio's validating webhook would refuse, worded for a person."""
    what = f"{GATEWAY_API_KINDS.get(obj.kind, obj.kind or '?')} {obj.namespace or '?'}/{obj.name or '?'}"
    # the Gateway API's kinds too: the demo lists an HTTPRoute, and the Istio config dock edits what it lists
    if obj.kind not in ISTIO_KINDS and obj.kind not in GATEWAY_API_KINDS:
        raise SourceError(f"{what} rejected as invalid: unknown kind {obj.kind!r}",
                          hint=f"the demo takes {', '.join((*ISTIO_KINDS, *GATEWAY_API_KINDS.values()))}")
    if not obj.name or not obj.namespace:
        raise SourceError(f"{what} rejected as invalid: it needs a name and a namespace")
    if not isinstance(obj.spec, dict):
        raise SourceError(f"{what} rejected as invalid: spec must be a mapping")
    if obj.kind == "VirtualService":
        for i, route in enumerate(obj.spec.get("http") or []):
            if not isinstance(route, dict):
                raise SourceError(f"{what} rejected as invalid: http[{i}] must be a mapping")
            dests = route.get("route") or []
            if not isinstance(dests, list):
                raise SourceError(f"{what} rejected as invalid: http[{i}].route must be a list")
            weights = []
            for d in dests:
                if not isinstance(d, dict) or not isinstance(d.get("destination"), dict) \
                        or not d["destination"].get("host"):
                    raise SourceError(f"{what} rejected as invalid: http[{i}].route entries need a destination host")
                w = d.get("weight", 0)
                if isinstance(w, bool) or not isinstance(w, int) or w < 0:
                    raise SourceError(f"{what} rejected as invalid: http[{i}] weight {w!r} is not a whole number >= 0")
                weights.append(w)
            # Istio shares requests in proportion to the weights and refuses only a total of 0 (istio/istio
            # #39544, Istio 1.15: weights no longer need to add up to 100)
            if len(dests) > 1 and sum(weights) == 0:
                raise SourceError(f"{what} rejected as invalid: http[{i}] route weights add up to 0: give one "
                                  "destination a weight above 0")
            fault = route.get("fault") or {}
            for part in ("abort", "delay"):
                pct = ((fault.get(part) or {}).get("percentage") or {}).get("value") if isinstance(fault, dict) else None
                if pct is not None and (not isinstance(pct, int | float) or isinstance(pct, bool)
                                        or not 0 <= pct <= 100):
                    raise SourceError(f"{what} rejected as invalid: http[{i}].fault.{part} percentage must be "
                                      f"between 0 and 100, not {pct!r}")
            if route.get("timeout") is not None and sim.parse_duration_ms(route["timeout"]) is None:
                raise SourceError(f"{what} rejected as invalid: http[{i}].timeout {route['timeout']!r} is not "
                                  "a duration like 3s or 500ms")


def _control_planes(workloads: list[Workload]) -> list[Istiod]:
    """The demo's istiod as a cluster read sees it (``sources.mesh_settings.istiods``)."""
    out = []
    for w in workloads:
        if w.labels.get("app") == "istiod":
            tags = sorted({image_tag(p.containers[0].image) for p in w.pods if p.containers} - {""})
            ready = sum(1 for p in w.pods if p.phase == "Running" and all(c.ready for c in p.containers))
            out.append(Istiod(w.namespace, w.labels.get("istio.io/rev", ""), ", ".join(tags), len(w.pods), ready))
    return out
