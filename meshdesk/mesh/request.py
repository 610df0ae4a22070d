"""A graph request: what the user asked to see. Field names follow the snapshot format
(``../shared/conformance/kiali/README.md``), which follows Kiali's graph API parameters."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

GraphType = Literal["app", "versionedApp", "workload", "service"]
GRAPH_TYPES: tuple[str, ...] = ("app", "versionedApp", "workload", "service")
RATE_HTTP = ("requests", "none")
RATE_GRPC = ("requests", "sent", "received", "total", "none")
RATE_TCP = ("sent", "received", "total", "none")
# Kiali's ambient traffic option: which ambient telemetry is graphed. "total": waypoint-reported L7
# series and ztunnel's L4 series; "waypoint": only the waypoints'; "ztunnel": only ztunnel's; "none":
# sidecar telemetry only.
AMBIENT_TRAFFIC = ("total", "waypoint", "ztunnel", "none")


@dataclass(frozen=True)
class NodeFocus:
    """The node of a node-detail graph: one workload, app, app version or service."""

    namespace: str
    workload: str | None = None
    app: str | None = None
    version: str | None = None
    service: str | None = None

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class GraphRequest:
    graphType: str = "versionedApp"
    namespaces: tuple[str, ...] = ()
    node: NodeFocus | None = None
    injectServiceNodes: bool = True
    includeIdleEdges: bool = False
    includeIdleNodes: bool = False
    rateHttp: str = "requests"
    rateGrpc: str = "requests"
    rateTcp: str = "sent"
    queryTime: int = 0  # unix seconds; 0 = now
    duration: int = 600  # seconds
    cluster: str = "Kubernetes"  # cluster name when a sample carries none
    accessibleNamespaces: tuple[str, ...] | None = None  # None = all accessible
    boxBy: tuple[str, ...] = ()  # any of "cluster", "namespace", "app"
    # extra passes, e.g. "responseTime", "throughput", "securityPolicy", "health",
    # "serviceEntry", "deadNode", "idleNode", "operationNodes"
    appenders: tuple[str, ...] | None = None  # None = the defaults
    responseTimeQuantile: str = "0.95"  # "avg", "0.5", "0.95", "0.99"
    throughputType: str = "response"  # "request" or "response"
    ambientTraffic: str = "total"  # one of AMBIENT_TRAFFIC
    showWaypoints: bool = True  # draw ambient waypoints as nodes (Kiali's ``waypoints``), else hide them
    extra: Mapping[str, Any] = field(default_factory=dict)
    # the rate window (seconds) of a namespace younger than ``duration``: its age at the query time, as
    # Kiali shortens it (see ``namespace_durations``); every other namespace is read over ``duration``
    namespaceDurations: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.graphType not in GRAPH_TYPES:
            raise ValueError(f"unknown graph type {self.graphType!r}; expected one of {', '.join(GRAPH_TYPES)}")
        for name, value, allowed in (
            ("rateHttp", self.rateHttp, RATE_HTTP),
            ("rateGrpc", self.rateGrpc, RATE_GRPC),
            ("rateTcp", self.rateTcp, RATE_TCP),
            ("ambientTraffic", self.ambientTraffic, AMBIENT_TRAFFIC),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if self.duration <= 0:
            raise ValueError("duration must be a positive number of seconds")
        for ns, seconds in self.namespaceDurations.items():
            if type(seconds) is not int or seconds <= 0:
                raise ValueError(f"namespaceDurations[{ns!r}] must be a positive whole number of seconds, "
                                 f"not {seconds!r}")

    def duration_of(self, namespace: str) -> int:
        """The rate window of ``namespace``'s telemetry: ``duration``, or less for a young namespace."""
        return min(self.duration, self.namespaceDurations.get(namespace, self.duration))

    def is_accessible(self, cluster: str, namespace: str) -> bool:
        """Whether the user may read ``namespace`` in ``cluster``: ``accessibleNamespaces`` entries are
        plain names (in any cluster) or ``cluster:namespace``, as Kiali keys them; None means all."""
        allowed = self.accessibleNamespaces
        return allowed is None or namespace in allowed or f"{cluster}:{namespace}" in allowed

    @property
    def waypoint_reports(self) -> bool:
        """Whether requests an ambient waypoint reported (reporter "waypoint") are graphed."""
        return self.ambientTraffic in ("total", "waypoint")

    @property
    def ztunnel_reports(self) -> bool:
        """Whether ztunnel's own L4 series (app "ztunnel") are graphed."""
        return self.ambientTraffic in ("total", "ztunnel")

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["namespaces"] = list(self.namespaces)
        out["node"] = self.node.to_json() if self.node else None
        out["accessibleNamespaces"] = (
            list(self.accessibleNamespaces) if self.accessibleNamespaces is not None else None
        )
        out["boxBy"] = list(self.boxBy)
        out["appenders"] = list(self.appenders) if self.appenders is not None else None
        out["extra"] = dict(self.extra)
        out["namespaceDurations"] = dict(self.namespaceDurations)
        return out

    @staticmethod
    def from_json(obj: Mapping[str, Any]) -> GraphRequest:
        """Build from a snapshot's ``request``. Unknown keys are ignored; bad values raise ValueError."""
        if not isinstance(obj, Mapping):
            raise ValueError("'request' must be an object")
        kw: dict[str, Any] = {}
        simple = (
            "graphType", "injectServiceNodes", "includeIdleEdges", "includeIdleNodes", "rateHttp",
            "rateGrpc", "rateTcp", "queryTime", "duration", "cluster", "responseTimeQuantile",
            "throughputType", "ambientTraffic",
        )
        for key in simple:
            if obj.get(key) is not None:
                kw[key] = obj[key]
        ns = obj.get("namespaces") or []
        if isinstance(ns, str):
            ns = [n for n in ns.split(",") if n]
        kw["namespaces"] = tuple(str(n) for n in ns)
        if obj.get("node"):
            node = obj["node"]
            if not isinstance(node, Mapping) or not node.get("namespace"):
                raise ValueError("'request.node' must be an object with a namespace")
            kw["node"] = NodeFocus(**{k: str(v) for k, v in node.items() if k in NodeFocus.__dataclass_fields__})
        if obj.get("accessibleNamespaces") is not None:
            kw["accessibleNamespaces"] = tuple(str(n) for n in obj["accessibleNamespaces"])
        if obj.get("boxBy"):
            box = obj["boxBy"]
            kw["boxBy"] = tuple(box.split(",")) if isinstance(box, str) else tuple(box)
        if obj.get("appenders") is not None:
            app = obj["appenders"]
            kw["appenders"] = tuple(app.split(",")) if isinstance(app, str) else tuple(app)
        if obj.get("extra"):
            kw["extra"] = dict(obj["extra"])
        if obj.get("namespaceDurations"):
            durations = obj["namespaceDurations"]
            if not isinstance(durations, Mapping):
                raise ValueError("'request.namespaceDurations' must be an object of namespace: seconds")
            kw["namespaceDurations"] = {str(ns): _seconds(v, f"namespaceDurations[{ns!r}]")
                                        for ns, v in durations.items()}
        # Kiali's graph API calls it "waypoints" ("true"/"false")
        for key in ("showWaypoints", "waypoints"):
            if obj.get(key) is not None:
                kw["showWaypoints"] = _flag(obj[key], key)
                break
        for key in ("queryTime", "duration"):
            if key in kw:
                kw[key] = int(kw[key])
        return GraphRequest(**kw)


def _seconds(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value):
        raise ValueError(f"{key} must be a whole number of seconds, not {value!r}")
    return int(value)


def namespace_durations(namespaces: Iterable[str], created: Mapping[str, float], duration: int,
                        end: float) -> dict[str, int]:
    """Kiali's safe namespace durations: a namespace created (``created``: unix seconds) less than
    ``duration`` seconds before ``end`` (the query time) is read over its age, so a new namespace's
    rates are not diluted by the minutes before it existed. Only the shortened ones are returned.
    A namespace of unknown age, or created after ``end`` (Kiali refuses such a request; the telemetry
    may be a deleted namespace's of the same name), is read over ``duration``."""
    out: dict[str, int] = {}
    for ns in namespaces:
        born = created.get(ns)
        if born is None:
            continue
        age = int(end - born)
        if 0 < age < duration:
            out[ns] = age
    return out


def _flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"{key} must be true or false, not {value!r}")
