"""A graph request: what the user asked to see. Field names follow the snapshot format
(``../shared/conformance/kiali/README.md``), which follows Kiali's graph API parameters."""

from __future__ import annotations

import re
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
    """The node of a node-detail graph: one workload, app, app version or service, or one operation
    (Kiali's aggregate node: ``aggregate`` is the label, e.g. ``request_operation``, ``aggregateValue``
    its value), of one service when ``service`` is given too."""

    namespace: str
    workload: str | None = None
    app: str | None = None
    version: str | None = None
    service: str | None = None
    aggregate: str | None = None
    aggregateValue: str | None = None  # Kiali's name
    # the node's cluster: traffic into it is read where destination_cluster says so, traffic out where
    # source_cluster does (Kiali narrows a node graph so when the node's cluster is known)
    cluster: str | None = None

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
    # Kiali's health_config.rate: per app, service or workload (by namespace, kind and name patterns)
    # the tolerances that judge its health instead of the defaults (``health_rates``); () = the defaults
    healthRates: tuple[Mapping[str, Any], ...] = ()
    # the Kiali extensions (Skupper...) whose ``kiali_ext_*`` traffic is added to the graph, by the name
    # their series carry in their ``extension`` label: the enabled entries of Kiali's config
    # ``extensions: [{name, enabled}]``; () = none, as Kiali configures none by default
    extensions: tuple[str, ...] = ()
    # Kiali's Prometheus ``query_scope``, (label, value)...: the labels every query of the telemetry was kept to
    # (one mesh's or cluster's series of a Prometheus shared with others); () = none
    queryScope: tuple[tuple[str, str], ...] = ()

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
        quantile_stat(self.responseTimeQuantile)  # raises ValueError for a quantile that cannot be
        if self.throughputType not in ("request", "response"):
            raise ValueError(f"throughputType must be request or response, not {self.throughputType!r}")
        if self.appenders is not None and not all(isinstance(a, str) for a in self.appenders):
            raise ValueError("appenders must be names")
        for ns, seconds in self.namespaceDurations.items():
            if type(seconds) is not int or seconds <= 0:
                raise ValueError(f"namespaceDurations[{ns!r}] must be a positive whole number of seconds, "
                                 f"not {seconds!r}")
        if not all(isinstance(e, str) and e for e in self.extensions):
            raise ValueError("extensions must be names")
        if not all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) and p[0] and isinstance(p[1], str)
                   for p in self.queryScope):
            raise ValueError("queryScope must map label names to values")
        if self.healthRates:
            from meshdesk.mesh.health_rates import compile_rates

            compile_rates(self.healthRates)  # raises HealthConfigError (a ValueError) naming each problem

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
        if self.healthRates:
            out["healthRates"] = [dict(r) for r in self.healthRates]
        else:
            del out["healthRates"]  # (snapshots without them read as before)
        if self.extensions:
            out["extensions"] = list(self.extensions)
        else:
            del out["extensions"]  # (as healthRates)
        if self.queryScope:
            out["queryScope"] = dict(self.queryScope)  # as Kiali writes it: {label: value}
        else:
            del out["queryScope"]  # (as healthRates)
        return out

    @staticmethod
    def from_json(obj: Mapping[str, Any]) -> GraphRequest:
        """Build from a snapshot's ``request``. Unknown keys are ignored; bad values raise ValueError."""
        if not isinstance(obj, Mapping):
            raise ValueError("'request' must be an object")
        kw: dict[str, Any] = {}
        for key in ("graphType", "rateHttp", "rateGrpc", "rateTcp", "cluster", "throughputType", "ambientTraffic"):
            if obj.get(key) is not None:
                if not isinstance(obj[key], str):
                    raise ValueError(f"{key} must be a text, not {obj[key]!r}")
                kw[key] = obj[key]
        quantile = obj.get("responseTimeQuantile")
        if quantile is not None:
            if isinstance(quantile, bool) or not isinstance(quantile, (str, int, float)):
                raise ValueError(f"responseTimeQuantile must be avg, 0.5, 0.95 or 0.99, not {quantile!r}")
            kw["responseTimeQuantile"] = str(quantile)
        for key in ("injectServiceNodes", "includeIdleEdges", "includeIdleNodes"):
            if obj.get(key) is not None:
                kw[key] = _flag(obj[key], key)
        for key in ("queryTime", "duration"):
            if obj.get(key) is not None:
                kw[key] = _seconds(obj[key], key)
        kw["namespaces"] = _names(obj.get("namespaces"), "namespaces")
        if obj.get("node"):
            node = obj["node"]
            if not isinstance(node, Mapping) or not isinstance(node.get("namespace"), str) or not node["namespace"]:
                raise ValueError("'request.node' must be an object with a namespace")
            fields_ = {k: v for k, v in node.items() if k in NodeFocus.__dataclass_fields__ and v is not None}
            if not all(isinstance(v, str) for v in fields_.values()):
                raise ValueError("'request.node' must name its namespace, workload, app, version, service, "
                                 "aggregate or cluster in texts")
            if bool(fields_.get("aggregate")) != bool(fields_.get("aggregateValue")):
                raise ValueError("'request.node' must give both an aggregate and its aggregateValue, or neither")
            if not any(fields_.get(k) for k in ("workload", "app", "service", "aggregateValue")):
                raise ValueError("'request.node' must name a workload, an app, a service or an operation")
            kw["node"] = NodeFocus(**fields_)
        if obj.get("accessibleNamespaces") is not None:
            kw["accessibleNamespaces"] = _names(obj["accessibleNamespaces"], "accessibleNamespaces")
        if obj.get("boxBy"):
            kw["boxBy"] = _names(obj["boxBy"], "boxBy")
        if obj.get("appenders") is not None:
            kw["appenders"] = _names(obj["appenders"], "appenders")
        if obj.get("extra"):
            if not isinstance(obj["extra"], Mapping):
                raise ValueError("'request.extra' must be an object")
            kw["extra"] = dict(obj["extra"])
        if obj.get("namespaceDurations"):
            durations = obj["namespaceDurations"]
            if not isinstance(durations, Mapping):
                raise ValueError("'request.namespaceDurations' must be an object of namespace: seconds")
            kw["namespaceDurations"] = {str(ns): _seconds(v, f"namespaceDurations[{ns!r}]")
                                        for ns, v in durations.items()}
        if obj.get("healthRates") is not None:
            from meshdesk.mesh.health_rates import normalize_rates

            rates, problems = normalize_rates(obj["healthRates"])
            if problems:
                raise ValueError("'request.healthRates': " + "; ".join(problems))
            kw["healthRates"] = tuple(rates)
        if obj.get("extensions") is not None:
            kw["extensions"] = extension_names(obj["extensions"])
        if obj.get("queryScope") is not None:
            try:
                kw["queryScope"] = query_scope(obj["queryScope"])
            except ValueError as e:
                raise ValueError(f"'request.queryScope': {e}") from None
        # Kiali's graph API calls it "waypoints" ("true"/"false")
        for key in ("showWaypoints", "waypoints"):
            if obj.get(key) is not None:
                kw["showWaypoints"] = _flag(obj[key], key)
                break
        return GraphRequest(**kw)


def query_scope(value: Any) -> tuple[tuple[str, str], ...]:
    """Kiali's Prometheus ``query_scope`` as (label, value) pairs: from its mapping ``{label: value}`` or from
    ``label=value`` texts (the command line's). Label names are made Prometheus' as Kiali makes them (``mesh-id``
    -> ``mesh_id``); a label given twice keeps its last value. Raises ValueError in words."""
    from meshdesk.mesh.dashboards import prometheus_label

    pairs: list[tuple[Any, Any]]
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = []
        for item in value:
            if not isinstance(item, str) or "=" not in item:
                raise ValueError(f"{str(item)[:60]!r} is not label=value")
            name, _, said = item.partition("=")
            pairs.append((name, said))
    else:
        raise ValueError("it is not a mapping of label names to values")
    out: dict[str, str] = {}
    for name, said in pairs:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a label of it has no name")
        if not isinstance(said, str):
            raise ValueError(f"the value of {name.strip()[:60]!r} is not text")
        out[prometheus_label(name.strip())] = said
    return tuple(out.items())


_SCOPE_ITEM = re.compile(r'\s*([^=,]*?)\s*=\s*("(?:[^"\\]|\\.)*"|[^,]*?)\s*(?:,|$)')


def scope_text(scope: Iterable[tuple[str, str]]) -> str:
    """A query scope as one line, ``mesh_id=mesh-east, cluster=east``: a value with a comma, a quote, a
    backslash or spaces at its ends in double quotes, JSON's escapes inside (read back by :func:`read_scope_text`)."""
    import json

    def shown(value: str) -> str:
        plain = value == value.strip() and value and not any(c in value for c in ',"\\') and value.isprintable()
        return value if plain else json.dumps(value, ensure_ascii=False)

    return ", ".join(f"{k}={shown(v)}" for k, v in scope)


def read_scope_text(text: str) -> tuple[tuple[str, str], ...]:
    """The query scope of a line written as :func:`scope_text` writes it ("" is none). Raises ValueError."""
    import json

    items: list[str] = []
    at, text = 0, text.strip()
    while at < len(text):
        found = _SCOPE_ITEM.match(text, at)
        if found is None or found.end() == at:
            raise ValueError(f"{text[at:at + 40]!r} is not label=value")
        name, value = found.group(1), found.group(2)
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError(f"{value[:40]} is not a quoted value") from None
        items.append(f"{name}={value}")
        at = found.end()
    return query_scope(items)


def extension_names(value: Any) -> tuple[str, ...]:
    """The enabled extensions' names, from a list of names, one comma-separated text, or Kiali's own
    config entries ``[{"name": ..., "enabled": true}]`` (an entry not enabled is left out, as Kiali
    skips it; Kiali's ``enabled`` is false unless said). Each name once, in order; raises ValueError."""
    if isinstance(value, str):
        return tuple(dict.fromkeys(n.strip() for n in value.split(",") if n.strip()))
    if not isinstance(value, list):
        raise ValueError(f"extensions must be a list of names or of {{name, enabled}} objects, not {value!r}")
    names: list[str] = []
    for i, entry in enumerate(value):
        if isinstance(entry, str) and entry.strip():
            names.append(entry.strip())
        elif isinstance(entry, Mapping) and isinstance(entry.get("name"), str) and entry["name"].strip():
            if _flag(entry.get("enabled", False), f"extensions[{i}].enabled"):
                names.append(entry["name"].strip())
        else:
            raise ValueError(f"extensions[{i}] must be a name or a {{name, enabled}} object, not {entry!r}")
    return tuple(dict.fromkeys(names))


def split_names(values: Iterable[str]) -> list[str]:
    """Names given as repeated options, each possibly comma-separated (``-n hello,shop -n travel``), in
    order, each once; empty names dropped."""
    return list(dict.fromkeys(n.strip() for value in values for n in str(value).split(",") if n.strip()))


def _names(value: Any, key: str) -> tuple[str, ...]:
    """Names as a list of texts, or one comma-separated text (as Kiali's URL parameters carry them)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(n.strip() for n in value.split(",") if n.strip())
    if isinstance(value, list) and all(isinstance(n, str) for n in value):
        return tuple(value)
    raise ValueError(f"{key} must be a list of names, not {value!r}")


def _seconds(value: Any, key: str) -> int:
    """Whole seconds: a number, or a text of digits with an optional "s" (Kiali's "600s")."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,13}s?\s*", value):
        value = int(value.strip().rstrip("s"))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -_MAX_SECONDS <= value <= _MAX_SECONDS \
            or value != int(value):
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:20]}... ({len(repr(value))} characters)"
        raise ValueError(f"{key} must be a whole number of seconds (up to {_MAX_SECONDS:.0e}), not {shown}")
    return int(value)


_MAX_SECONDS = 1e12  # past the year 30000 as a unix time; a huge whole number must not overflow a float
MAX_SECONDS = int(_MAX_SECONDS)  # the most a snapshot's time (queryTime, duration) may say, for other checks


_QUANTILE_ALIASES = {"50": "0.5", "95": "0.95", "99": "0.99", "0.50": "0.5"}


def quantile_stat(quantile: Any) -> str:
    """The response-time statistic a quantile option names: "avg", or a quantile between 0 and 1
    written as Prometheus takes it ("0.95"; "95" and 0.95 say the same)."""
    q = str(quantile).strip()
    q = _QUANTILE_ALIASES.get(q, q)
    if q == "avg":
        return q
    try:
        value = float(q)
    except ValueError:
        raise ValueError(f"responseTimeQuantile must be avg, 0.5, 0.95 or 0.99, not {quantile!r}") from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"responseTimeQuantile must be between 0 and 1, not {quantile!r}")
    return repr(value)


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
