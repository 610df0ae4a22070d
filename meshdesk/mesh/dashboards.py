"""Custom dashboards: charts of an application's own runtime metrics (Go, JVM, Node.js...) beside its
Istio metrics, as Kiali's "custom dashboards" of an app or workload. No Qt.

A ``Dashboard`` is a titled list of ``DashboardChart``s, each drawing one or more metrics of the
application's pods as Prometheus scrapes them (labelled with the pod's namespace and its app and version
labels): a gauge as read (``raw``, summed unless the chart says how to aggregate), a counter as its rate
(``rate``), a histogram as its average and quantiles (``histogram``). A chart may be split by one of its
``aggregations`` (a label: the pod, a JVM memory area...). As in Kiali, a chart ``spans`` twelfths of a
row, a dashboard shows ``rows`` rows of them at once, a chart's ``sortLabel`` orders its lines, and a
dashboard's ``externalLinks`` name Grafana dashboards (``ExternalLink``, ``grafana_query``).

Which dashboards a workload has is found as Kiali finds them (``dashboards_for``):

* its pods name them in the ``kiali.io/dashboards`` annotation (or the older ``kiali.io/runtimes``),
  comma-separated: those, and no discovery;
* otherwise, when discovery is on (``discovery_enabled: true``, or ``auto`` for a workload of at most
  ``discovery_auto_threshold`` pods), each dashboard whose ``discoverOn`` metric Prometheus has for the
  workload's app (and version) under any of Istio's label schemes (``discovery_selectors``) - asked in
  one query for every dashboard at once (``discovery_metrics``, read by ``discovered``).

meshdesk has its own built-in definitions (``BUILT_IN``: Go's client_golang, a JVM's Micrometer, Node.js'
prom-client), named as Kiali names its own; the user's Kiali ``custom_dashboards`` (pasted into Settings,
``read_custom_dashboards``) add to them, and one of the same name takes its place; then those a namespace's
and a workload's ``dashboards.kiali.io/templates`` annotations define (``scoped``). A dashboard may include
another's charts (``include: name`` or ``name$Chart title``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from meshdesk.mesh.inventory import APP_LABELS, VERSION_LABELS, Namespace, Pod, Workload

RATE = "rate"
RAW = "raw"
HISTOGRAM = "histogram"
DATA_TYPES = (RATE, RAW, HISTOGRAM)

DISCOVERY_ON = "true"
DISCOVERY_AUTO = "auto"
DISCOVERY_OFF = "false"
DISCOVERY_CHOICES = (DISCOVERY_ON, DISCOVERY_AUTO, DISCOVERY_OFF)

ANNOTATIONS = ("kiali.io/runtimes", "kiali.io/dashboards")  # Kiali reads both, the older first
# a namespace's or a workload's own dashboards (a YAML list of them, as custom_dashboards), added to the
# configured ones, one of the same name in its place
TEMPLATES_ANNOTATION = "dashboards.kiali.io/templates"
KEY_PREFIX = "dashboard:"  # a dashboard chart's key: "dashboard:<dashboard name>:<index>"

# how a view with no dashboard says where they come from
HOW_FOUND = ("Runtime dashboards (Go, JVM, Node.js...) are shown, as in Kiali, for the dashboards a workload's pods "
             "name in their kiali.io/dashboards annotation, or else, with discovery on, for those whose "
             "discovery metric (go_info, jvm_threads_live_threads...) Prometheus has for the workload's app and "
             "version. Settings, Runtime dashboards: your Kiali's custom_dashboards; a namespace's or workload's "
             "dashboards.kiali.io/templates annotation adds its own.")


@dataclass(frozen=True)
class DashboardChart:
    """One chart: its title, unit (meshdesk's: "B", "B/s", "s", or the dashboard's own word), the
    metrics drawn (metric name, the name of its line when there are several), how the data is read,
    the labels it may be split by ((label, what to call it)) and a scale applied to the values."""

    title: str
    metrics: tuple[tuple[str, str], ...]
    data_type: str = RAW
    unit: str = ""
    aggregator: str = "sum"
    aggregations: tuple[tuple[str, str], ...] = ()
    scale: float = 1.0
    group_labels: tuple[str, ...] = ()  # labels its lines are always split by (Kiali's groupLabels)
    # its width in twelfths of the dock's (Kiali's ``spans``: 6 two to a row, 12 alone on its row)
    spans: int = 6
    # the label its lines are ordered by (Kiali's ``sortLabel``), compared as integers when ``sort_as_int``
    sort_label: str = ""
    sort_as_int: bool = False
    # how it is drawn (Kiali's ``chartType``: line, area, bar or scatter; "": Kiali's default, lines over
    # time, a bar per line over ``series``)
    chart_type: str = ""
    # the y axis' ends (Kiali's ``min`` and ``max``, in the chart's unit); None: from 0 up to the data
    y_min: int | None = None
    y_max: int | None = None
    # what its x axis is (Kiali's ``xAxis``): time, or ``series``: a bar per line, its latest value
    x_axis: str = "time"
    # folded when first shown, opened by a click (Kiali's ``startCollapsed``)
    start_collapsed: bool = False
    # the aggregation labels whose lines are shown one value at a time (Kiali's ``singleSelection``)
    single_selection: tuple[str, ...] = ()


CHART_TYPES = ("line", "area", "bar", "scatter")
X_AXES = ("time", "series")


# the Grafana variables a dashboard's external link may set (Kiali's externalLinks variables), each to what
GRAFANA_VARIABLES = ("app", "datasource", "namespace", "service", "version", "workload")


@dataclass(frozen=True)
class ExternalLink:
    """A Grafana dashboard a runtime dashboard links to (Kiali's ``externalLinks`` of type grafana): its
    title, found by Grafana's search, and the names of the Grafana variables its link sets, by what they
    take ((what, variable): ("workload", "var-workload"), ("namespace", "var-namespace")...)."""

    title: str
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    runtime: str = ""
    discover_on: str = ""
    charts: tuple[DashboardChart, ...] = ()
    includes: tuple[str, ...] = ()  # the charts of others (resolved by ``resolved``): "name" or "name$Chart"
    # item order: ("chart", index) or ("include", index), so included charts keep their place
    order: tuple[tuple[str, int], ...] = ()
    # the Prometheus labels (app, version) its discovery metric was found under, which its charts read;
    # () when it was not discovered (named by the pods: the workload's own app labels)
    found_by: tuple[tuple[str, str], ...] = ()
    # the Grafana dashboards it links to (Kiali's externalLinks): "View in Grafana" opens the one that applies,
    # or offers them all in a menu when several do
    external_links: tuple[ExternalLink, ...] = ()
    # how many rows of its charts the dock shows at once (Kiali's ``rows``: each chart that high); 0: meshdesk's
    # own height
    rows: int = 0

    def chart_key(self, index: int) -> str:
        return f"{KEY_PREFIX}{self.name}:{index}"

    @property
    def aggregations(self) -> tuple[tuple[str, str], ...]:
        """Every label some chart of it may be split by, once, in the order met."""
        seen: dict[str, str] = {}
        for c in self.charts:
            for label, name in c.aggregations:
                seen.setdefault(label, name)
        return tuple(seen.items())

    @property
    def single_selection(self) -> frozenset[str]:
        """The labels some chart of it shows one value at a time when split by them (Kiali's
        ``singleSelection``)."""
        return frozenset(label for c in self.charts for label in c.single_selection)


AUTH_NONE, AUTH_BASIC, AUTH_BEARER = "none", "basic", "bearer"
_SECRET_SHOWN = "********"


@dataclass(frozen=True)
class PrometheusAuth:
    """How the runtime dashboards' own Prometheus is logged in to, as Kiali's config spells it
    (``external_services.custom_dashboards.prometheus.auth``: ``type`` none, basic or bearer, ``username``
    and ``password``, ``token``, ``insecure_skip_verify``). Its repr never shows the secrets."""

    type: str = AUTH_NONE
    username: str = ""
    password: str = ""
    token: str = ""
    insecure: bool = False

    def __repr__(self) -> str:
        return (f"PrometheusAuth(type={self.type!r}, username={self.username!r}, "
                f"password={_SECRET_SHOWN if self.password else ''!r}, token={_SECRET_SHOWN if self.token else ''!r}, "
                f"insecure={self.insecure!r})")

    __str__ = __repr__


def _prometheus_auth(auth: Any, problems: _Problems) -> PrometheusAuth:
    """``prometheus.auth`` of ``external_services.custom_dashboards`` read as Kiali reads it; what meshdesk
    cannot use is said (never the secret itself)."""
    if auth is None:
        return PrometheusAuth()
    if not isinstance(auth, Mapping):
        problems.add("prometheus.auth is not a mapping")
        return PrometheusAuth()
    kind = str(auth.get("type") or AUTH_NONE).lower()
    if kind not in (AUTH_NONE, AUTH_BASIC, AUTH_BEARER):
        problems.add(f"prometheus.auth.type {kind!r} is none of none, basic, bearer")
        return PrometheusAuth()
    fields = {}
    for key in ("username", "password", "token"):
        value = auth.get(key)
        if value is not None and not isinstance(value, str):
            problems.add(f"prometheus.auth.{key} is not text")
            value = ""
        if isinstance(value, str) and value.startswith("secret:"):
            # (Kiali reads it from a Secret mounted in its pod; meshdesk has no such file)
            problems.add(f"prometheus.auth.{key} names a Secret of Kiali's ({value.split(':')[1]}): give its value "
                         "itself")
            value = ""
        fields[key] = (value or "").strip()
    if kind == AUTH_BEARER and not fields["token"]:
        problems.add("prometheus.auth.type is bearer but no token is given" + (
            " (use_kiali_token: meshdesk has no Kiali token, give the token itself)"
            if auth.get("use_kiali_token") is True else ""))
    if kind == AUTH_BASIC and not fields["username"]:
        problems.add("prometheus.auth.type is basic but no username is given")
    insecure = auth.get("insecure_skip_verify", False)
    return PrometheusAuth(kind, username=fields["username"] if kind == AUTH_BASIC else "",
                          password=fields["password"] if kind == AUTH_BASIC else "",
                          token=fields["token"] if kind == AUTH_BEARER else "", insecure=insecure is True)


def masked_dashboards_text(text: str) -> str:
    """The pasted dashboard configuration for a log or a repr: a token's, password's or username's value
    replaced by a mask (YAML or JSON)."""
    return re.sub(r"""(["']?\b(?:token|password|username)["']?\s*:\s*)("[^"\n]*"|'[^'\n]*'|[^\s,}\n]+)""",
                  lambda m: m.group(1) + _SECRET_SHOWN, text)


@dataclass(frozen=True)
class DashboardsConfig:
    """What of Kiali's configuration decides the dashboards: ``external_services.custom_dashboards``
    (enabled, discovery, its pod threshold, the namespace label), the app and version label names
    (``istio_labels``; "" as Kiali: the one of ``APP_LABELS`` the workload has) and the user's own
    ``custom_dashboards``."""

    enabled: bool = True
    discovery: str = DISCOVERY_AUTO
    auto_threshold: int = 10
    namespace_label: str = "namespace"
    # the Prometheus their metrics are read from when Kiali's config gives one of their own
    # (``external_services.custom_dashboards.prometheus.url``); "": the context's
    prometheus_url: str = ""
    # and how it is logged in to (``...prometheus.auth``)
    prometheus_auth: PrometheusAuth = PrometheusAuth()
    # the labels every query of theirs is kept to, (label, value)...: the ``query_scope`` of the Prometheus they
    # are read from (their own's, else Kiali's main one's), as Kiali adds it to each
    query_scope: tuple[tuple[str, str], ...] = ()
    # the main Prometheus' (``external_services.prometheus.query_scope``), as pasted: what the context's own
    # Prometheus settings may take from it
    main_query_scope: tuple[tuple[str, str], ...] = ()
    # the uid of Grafana's Prometheus datasource (Kiali's ``external_services.grafana.datasource_uid``), which an
    # external link's ``datasource`` variable is set to; "": not set
    grafana_datasource: str = ""
    app_label: str = ""
    version_label: str = ""
    dashboards: tuple[Dashboard, ...] = ()

    # those a namespace's and then a workload's dashboards.kiali.io/templates annotation adds (``scoped``)
    templates: tuple[Dashboard, ...] = ()

    def known(self) -> dict[str, Dashboard]:
        """The dashboards by name: the built-in ones, the user's in their place or beside them, then the
        namespace's and the workload's annotated templates likewise; those with neither a discovery
        metric nor a chart left out (a user's way of turning one off)."""
        if not self.enabled:
            return {}
        out = {d.name: d for d in BUILT_IN}
        for d in (*self.dashboards, *self.templates):
            out[d.name] = d
        return {n: d for n, d in out.items() if d.discover_on.strip() or d.charts or d.includes}


DEFAULT_CONFIG = DashboardsConfig()

_POD = (("pod", "Pod"),)


def _c(title: str, metric: str, data_type: str = RAW, unit: str = "",
       aggregations: tuple[tuple[str, str], ...] = _POD, lines: tuple[tuple[str, str], ...] = ()) -> DashboardChart:
    return DashboardChart(title, lines or ((metric, title),), data_type, unit, "sum", aggregations)


# meshdesk's own, from the metric names the runtimes' Prometheus clients expose. Go: client_golang's
# Go and process collectors.
GO = Dashboard("go", "Go Metrics", "Go", "go_info", (
    _c("Goroutines", "go_goroutines"),
    _c("Heap in use", "go_memstats_heap_inuse_bytes", unit="B"),
    _c("Resident memory", "process_resident_memory_bytes", unit="B"),
    _c("Allocation rate", "go_memstats_alloc_bytes_total", RATE, "B/s"),
    _c("Garbage collections", "go_gc_duration_seconds_count", RATE, "/s"),
    _c("Next GC at heap size", "go_memstats_next_gc_bytes", unit="B"),
    _c("CPU", "process_cpu_seconds_total", RATE, "cores"),
    _c("OS threads", "go_threads"),
))
# A JVM's, as Micrometer 1.1 and later names them (its JvmMemoryMetrics, JvmThreadMetrics,
# ClassLoaderMetrics, JvmGcMetrics).
_JVM_SPACE = (("area", "Area"), ("id", "Space"), ("pod", "Pod"))
JVM = Dashboard("micrometer-1.1-jvm", "JVM Metrics", "JVM", "jvm_threads_live_threads", (
    _c("Memory used", "jvm_memory_used_bytes", unit="B", aggregations=_JVM_SPACE),
    _c("Memory committed", "jvm_memory_committed_bytes", unit="B", aggregations=_JVM_SPACE),
    _c("Memory max", "jvm_memory_max_bytes", unit="B", aggregations=_JVM_SPACE),
    _c("Live threads", "jvm_threads_live_threads"),
    _c("Daemon threads", "jvm_threads_daemon_threads"),
    _c("Loaded classes", "jvm_classes_loaded_classes"),
    _c("GC pauses", "jvm_gc_pause_seconds_count", RATE, "/s",
       aggregations=(("action", "Action"), ("cause", "Cause"), ("pod", "Pod"))),
))
# Node.js: prom-client's default metrics.
NODEJS = Dashboard("nodejs", "Node.js Metrics", "Node.js", "nodejs_active_handles_total", (
    _c("Active handles", "nodejs_active_handles_total"),
    _c("Active requests", "nodejs_active_requests_total"),
    DashboardChart("Event loop lag", (("nodejs_eventloop_lag_seconds", "Event loop lag"),), RAW, "ms", "sum", _POD,
                   1000.0),
    _c("Heap used", "nodejs_heap_size_used_bytes", unit="B"),
    _c("Heap total", "nodejs_heap_size_total_bytes", unit="B"),
    _c("Resident memory", "process_resident_memory_bytes", unit="B"),
    _c("CPU", "process_cpu_seconds_total", RATE, "cores"),
))
BUILT_IN: tuple[Dashboard, ...] = (GO, JVM, NODEJS)


# -- which dashboards ------------------------------------------------------------------------------

def annotated(pods: Iterable[Pod]) -> list[str]:
    """The dashboard names the pods' annotations give, each once, in the order met (Kiali's)."""
    out: dict[str, None] = {}
    for pod in pods:
        for key in ANNOTATIONS:
            for name in pod.annotations.get(key, "").split(","):
                if name.strip():
                    out.setdefault(name.strip(), None)
    return list(out)


def discovery_allowed(config: DashboardsConfig, pods: int) -> bool:
    """Whether dashboards are discovered for a workload of ``pods`` pods: always, never, or (``auto``) for
    at most ``auto_threshold`` pods, as Kiali's ``discovery_enabled``."""
    if config.discovery == DISCOVERY_ON:
        return True
    return config.discovery == DISCOVERY_AUTO and pods <= config.auto_threshold


def prometheus_label(name: str) -> str:
    """A Kubernetes label's name as Prometheus' ``labelmap`` of pod labels makes it (``app.kubernetes.io/name``
    -> ``app_kubernetes_io_name``)."""
    out = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    return out if out and not out[0].isdigit() else f"_{out}"


@dataclass(frozen=True)
class AppPods:
    """An app's workloads seen as one, as Kiali's app page shows its custom dashboards: every pod of its
    workloads, selected by the app label alone (``labels``: that label, as its workloads carry it), their
    charts split by version when asked (``version_label``: the version label's name in Prometheus)."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    pods: tuple[Pod, ...]
    version_label: str = ""


def app_pods(config: DashboardsConfig, namespace: str, app: str, workloads: Sequence[Workload]) -> AppPods | None:
    """The app's pods (None when none of its workloads carries the app label the configuration reads)."""
    for w in workloads:
        if config.app_label:
            names = (config.app_label, config.version_label)
        else:
            i = next((i for i, k in enumerate(APP_LABELS) if w.labels.get(k) == app), -1)
            if i < 0:
                continue
            names = (APP_LABELS[i], VERSION_LABELS[i])
        if w.labels.get(names[0]) == app:
            return AppPods(namespace, app, {names[0]: app}, tuple(p for x in workloads for p in x.pods),
                           prometheus_label(names[1]) if names[1] else "")
    return None


def for_app(dashboard: Dashboard, app: AppPods) -> Dashboard:
    """The dashboard as an app's: each chart may also be split by version (Kiali's app dashboards add it)."""
    if not app.version_label:
        return dashboard
    extra = (app.version_label, "Version")
    return replace(dashboard, charts=tuple(
        c if extra[0] in dict(c.aggregations) else replace(c, aggregations=(*c.aggregations, extra))
        for c in dashboard.charts))


def app_labels(config: DashboardsConfig, workload: Workload | AppPods) -> tuple[tuple[str, str], ...]:
    """The (Prometheus label, value) pairs that select a workload's runtime metrics besides the namespace:
    its app and version by the label names the configuration gives, else by the first of Istio's app labels
    the workload has and the version label of the same scheme (Kiali's). () when it has no app label (Kiali
    shows no dashboards then)."""
    if config.app_label:
        app = workload.labels.get(config.app_label, "")
        version = workload.labels.get(config.version_label, "") if config.version_label else ""
        names = (config.app_label, config.version_label)
    else:
        i = next((i for i, k in enumerate(APP_LABELS) if workload.labels.get(k)), -1)
        if i < 0:
            return ()
        names = (APP_LABELS[i], VERSION_LABELS[i])
        app, version = workload.labels[APP_LABELS[i]], workload.labels.get(VERSION_LABELS[i], "")
    if not app:
        return ()
    out = [(prometheus_label(names[0]), app)]
    if version and names[1]:
        out.append((prometheus_label(names[1]), version))
    return tuple(out)


def discovery_metrics(known: Mapping[str, Dashboard]) -> list[str]:
    """The discovery metrics of every known dashboard, each once (asked in one query)."""
    return sorted({d.discover_on.strip() for d in known.values() if d.discover_on.strip()})


def discovered(found: Iterable[str], known: Mapping[str, Dashboard]) -> list[Dashboard]:
    """The dashboards whose discovery metric is among ``found``, by name; one another found dashboard
    includes whole is left out (it is shown inside that one), as Kiali's matcher does."""
    have = set(found)
    hits = {n: d for n, d in known.items() if d.discover_on.strip() and d.discover_on.strip() in have}
    inside = {ref for d in hits.values() for ref in d.includes if "$" not in ref}  # (one chart of it: not)
    return [hits[n] for n in sorted(hits) if n not in inside]


def resolved(dashboard: Dashboard, known: Mapping[str, Dashboard]) -> Dashboard:
    """The dashboard with its includes replaced by the charts they name, in place (a whole dashboard's, or
    ``name$Chart title``'s one chart); an include of an unknown dashboard, or a loop, is left out."""

    def charts_of(d: Dashboard, seen: frozenset[str]) -> list[DashboardChart]:
        out: list[DashboardChart] = []
        order = d.order or tuple(("chart", i) for i in range(len(d.charts)))
        for kind, i in order:
            if kind == "chart":
                out.append(d.charts[i])
                continue
            name, _, chart = d.includes[i].partition("$")
            other = known.get(name.strip())
            if other is None or other.name in seen:
                continue
            theirs = charts_of(other, seen | {other.name})
            out += [c for c in theirs if not chart or c.title == chart.strip()][: 1 if chart else None]
        return out

    if not dashboard.includes:
        return dashboard
    return replace(dashboard, charts=tuple(charts_of(dashboard, frozenset({dashboard.name}))), includes=(), order=())


def by_names(names: Sequence[str], known: Mapping[str, Dashboard]) -> list[Dashboard]:
    """The named dashboards that are known, in the order named (an unknown name is passed over, as Kiali
    logs and skips it)."""
    return [known[n] for n in names if n in known]


def discovery_selectors(config: DashboardsConfig, workload: Workload | AppPods) -> list[tuple[tuple[str, str], ...]]:
    """The (Prometheus label, value) sets discovery tries, as Kiali tries them: the workload's app and
    version (each the first of Istio's app, version labels it has) under each of Istio's label schemes in
    turn (its canonical names, ``app.kubernetes.io/name`` and ``/version``, ``app`` and ``version``), as
    the runtime's series may carry its pod's labels under another scheme than the one Istio reads; under
    the configured names alone when ``istio_labels`` names them. [] when it has no app label."""
    own = app_labels(config, workload)
    if not own or config.app_label:
        return [scoped_labels(config, own)] if own else []
    app = next((workload.labels[k] for k in APP_LABELS if workload.labels.get(k)), "")
    version = next((workload.labels[k] for k in VERSION_LABELS if workload.labels.get(k)), "")
    return [scoped_labels(config, ((prometheus_label(a), app),) + (((prometheus_label(v), version),) if version else ()))
            for a, v in zip(APP_LABELS, VERSION_LABELS, strict=True)]


def scoped_labels(config: DashboardsConfig, labels: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """``labels`` with the configuration's ``query_scope`` added (a label already given kept as given)."""
    have = {k for k, _ in labels}
    return labels + tuple((k, v) for k, v in config.query_scope if k not in have)


# which of the metrics Prometheus has under which of the label sets: metric -> index of the first set
Ask = Callable[[Sequence[tuple[tuple[str, str], ...]], Sequence[str]], Mapping[str, int]]


def dashboards_for(config: DashboardsConfig, workload: Workload | AppPods, ask: Ask | None) -> list[Dashboard]:
    """A workload's (or an app's) runtime dashboards, resolved, as Kiali finds them: those its pods'
    annotations name (the known ones), else, when discovery is allowed for its number of pods, those whose
    discovery metric ``ask`` (given every label set of ``discovery_selectors`` and every discovery metric at
    once) says Prometheus has for its app and version, each with the labels it was found under. None for a
    workload without an app label, or with dashboards turned off."""
    known = config.known()
    if not known or not app_labels(config, workload):
        return []
    named = by_names(annotated(workload.pods), known)
    if named:
        return [resolved(d, known) for d in named]
    if ask is None or not discovery_allowed(config, len(workload.pods)):
        return []
    metrics = discovery_metrics(known)
    selectors = discovery_selectors(config, workload)
    found = ask(selectors, metrics) if metrics else {}
    return [replace(resolved(d, known), found_by=selectors[found[d.discover_on.strip()]])
            for d in discovered(found, known)]


# -- the user's configuration ------------------------------------------------------------------------

@dataclass
class _Problems:
    said: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.said.append(text)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# the fields Kiali reads (a misspelt one would be passed over without a word: a chart with no metric, a
# dashboard with no items, which Kiali takes for one turned off)
_DASHBOARD_FIELDS = frozenset({"name", "title", "runtime", "discoverOn", "items", "externalLinks", "rows"})
_ITEM_FIELDS = frozenset({"include", "chart"})
_CHART_FIELDS = frozenset({"name", "unit", "unitScale", "spans", "startCollapsed", "chartType", "min", "max",
                           "metricName", "metrics", "dataType", "aggregator", "aggregations", "xAxis", "groupLabels",
                           "sortLabel", "sortLabelParseAs"})


def _unknown(item: Mapping[str, Any], known: frozenset[str]) -> str:
    return next((str(k) for k in item if k not in known), "")


def _chart(item: Mapping[str, Any], where: str, problems: _Problems) -> DashboardChart | None:
    title = item.get("name")
    if not isinstance(title, str) or not title.strip():
        problems.add(f"{where}: a chart needs a name")
        return None
    where = f"{where}, chart {title!r}"
    odd = _unknown(item, _CHART_FIELDS)
    if odd:
        problems.add(f"{where}: {odd!r} is not a field of a chart")
        return None
    data_type = item.get("dataType", RAW) or RAW
    if data_type not in DATA_TYPES:
        problems.add(f"{where}: dataType {data_type!r} is none of {', '.join(DATA_TYPES)}")
        return None
    lines: list[tuple[str, str]] = []
    raw_metrics = item.get("metrics")
    if raw_metrics:
        if not isinstance(raw_metrics, list):
            problems.add(f"{where}: metrics is not a list")
            return None
        for m in raw_metrics:
            name = m.get("metricName") if isinstance(m, Mapping) else None
            if not isinstance(name, str) or not _metric_name(name):
                problems.add(f"{where}: {name!r} is not a metric name")
                return None
            lines.append((name, _text(m.get("displayName")) or name))
    else:
        name = item.get("metricName")
        if not isinstance(name, str) or not _metric_name(name):
            problems.add(f"{where}: metricName {name!r} is not a metric name")
            return None
        lines.append((name, title))
    aggregations: list[tuple[str, str]] = []
    singles: list[str] = []
    for a in item.get("aggregations") or ():
        label = a.get("label") if isinstance(a, Mapping) else None
        if not isinstance(label, str) or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", label):
            problems.add(f"{where}: aggregation label {label!r} is not a label name")
            return None
        aggregations.append((label, _text(a.get("displayName")) or label))
        single = a.get("singleSelection", False)
        if not isinstance(single, bool):
            problems.add(f"{where}: aggregation {label!r}: singleSelection {single!r} is neither true nor false")
            return None
        if single:
            singles.append(label)
    aggregator = _text(item.get("aggregator")) or "sum"
    if aggregator not in ("sum", "avg", "min", "max", "count", "stddev", "stdvar"):
        problems.add(f"{where}: aggregator {aggregator!r} is not one meshdesk can use (sum, avg, min, max, ...)")
        return None
    groups = item.get("groupLabels") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) and re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", g)
                                               for g in groups):
        problems.add(f"{where}: groupLabels is not a list of label names")
        return None
    scale = item.get("unitScale") or 1.0
    if not isinstance(scale, int | float) or isinstance(scale, bool):
        problems.add(f"{where}: unitScale {scale!r} is not a number")
        return None
    spans = item.get("spans") or 12  # (Kiali's grid: a chart without spans fills its row)
    if not isinstance(spans, int) or isinstance(spans, bool) or not 1 <= spans <= 12:
        problems.add(f"{where}: spans {spans!r} is not a width from 1 to 12 (twelfths of a row)")
        return None
    sort_label = item.get("sortLabel") or ""
    if not isinstance(sort_label, str) or (sort_label and not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", sort_label)):
        problems.add(f"{where}: sortLabel {sort_label!r} is not a label name")
        return None
    drawn = _drawing(item, where, problems)
    if drawn is None:
        return None
    return DashboardChart(title.strip(), tuple(lines), data_type, UNITS.get(_text(item.get("unit")), _text(item.get("unit"))),
                          aggregator, tuple(aggregations), float(scale), tuple(groups), spans, sort_label,
                          _text(item.get("sortLabelParseAs")) == "int", single_selection=tuple(singles), **drawn)


def _drawing(item: Mapping[str, Any], where: str, problems: _Problems) -> dict[str, Any] | None:
    """How a chart is drawn, as Kiali's chart fields say: ``chartType``, ``min`` and ``max`` (whole numbers, as
    Kiali reads them), ``xAxis``, ``startCollapsed``; None (and said) when one of them is wrong."""
    chart_type = item.get("chartType") or ""
    if chart_type and chart_type not in CHART_TYPES:
        problems.add(f"{where}: chartType {chart_type!r} is none of {', '.join(CHART_TYPES)}")
        return None
    ends: dict[str, int | None] = {}
    for key in ("min", "max"):
        value = item.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            problems.add(f"{where}: {key} {value!r} is not a whole number (Kiali reads the y axis' ends as such)")
            return None
        ends[key] = value
    if ends["min"] is not None and ends["max"] is not None and ends["min"] >= ends["max"]:
        problems.add(f"{where}: min {ends['min']} is not below max {ends['max']}")
        return None
    x_axis = item.get("xAxis") or "time"
    if x_axis not in X_AXES:
        problems.add(f"{where}: xAxis {x_axis!r} is none of {', '.join(X_AXES)}")
        return None
    collapsed = item.get("startCollapsed", False)
    if not isinstance(collapsed, bool):
        problems.add(f"{where}: startCollapsed {collapsed!r} is neither true nor false")
        return None
    return {"chart_type": chart_type, "y_min": ends["min"], "y_max": ends["max"], "x_axis": x_axis,
            "start_collapsed": collapsed}


def _metric_name(name: str) -> bool:
    return bool(re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name))


# Kiali's unit words as meshdesk's charts write them
UNITS = {"bytes": "B", "bytes/s": "B/s", "bitrate": "bit/s", "seconds": "s", "ops": "ops/s", "rps": "ops/s"}


def _dashboard(item: Any, i: int, problems: _Problems) -> Dashboard | None:
    if not isinstance(item, Mapping):
        problems.add(f"dashboard {i + 1} is not a mapping (name, title, items...)")
        return None
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(f"dashboard {i + 1} has no name")
        return None
    where = f"dashboard {name!r}"
    odd = _unknown(item, _DASHBOARD_FIELDS)
    if odd:
        problems.add(f"{where}: {odd!r} is not a field of a dashboard")
        return None
    discover_on = item.get("discoverOn") or ""
    if not isinstance(discover_on, str) or (discover_on.strip() and not _metric_name(discover_on.strip())):
        problems.add(f"{where}: discoverOn {discover_on!r} is not a metric name")
        return None
    items = item.get("items") or []
    if not isinstance(items, list):
        problems.add(f"{where}: items is not a list")
        return None
    charts: list[DashboardChart] = []
    includes: list[str] = []
    order: list[tuple[str, int]] = []
    before = len(problems.said)
    for entry in items:
        if isinstance(entry, Mapping) and _unknown(entry, _ITEM_FIELDS):
            problems.add(f"{where}: {_unknown(entry, _ITEM_FIELDS)!r} is not a field of an item (chart or include)")
        elif isinstance(entry, Mapping) and _text(entry.get("include")).strip():
            order.append(("include", len(includes)))
            includes.append(_text(entry.get("include")).strip())
        elif isinstance(entry, Mapping) and isinstance(entry.get("chart"), Mapping):
            chart = _chart(entry["chart"], where, problems)
            if chart is not None:
                order.append(("chart", len(charts)))
                charts.append(chart)
        else:
            problems.add(f"{where}: an item is neither a chart nor an include")
    rows = item.get("rows") or 0
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        problems.add(f"{where}: rows {rows!r} is not a number of rows")
    links = _external_links(item.get("externalLinks"), where, problems)
    if len(problems.said) > before:
        return None
    return Dashboard(name.strip(), _text(item.get("title")) or name.strip(), _text(item.get("runtime")),
                     discover_on.strip(), tuple(charts), tuple(includes), tuple(order), rows=rows or 2,
                     external_links=tuple(links))


def _external_links(value: Any, where: str, problems: _Problems) -> list[ExternalLink]:
    """A dashboard's ``externalLinks``: Grafana dashboards by title, with the variables each sets (a link of
    another type is passed over, as Kiali passes it over)."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(f"{where}: externalLinks is not a list")
        return []
    out: list[ExternalLink] = []
    for link in value:
        odd = _unknown(link, frozenset({"type", "name", "variables"})) if isinstance(link, Mapping) else "?"
        if not isinstance(link, Mapping) or odd:
            problems.add(f"{where}: an external link is not a mapping of type, name and variables"
                         + (f" ({odd!r} is not one)" if odd and odd != "?" else ""))
            continue
        if _text(link.get("type")) != "grafana":
            continue
        title = _text(link.get("name")).strip()
        variables = link.get("variables") or {}
        wrong = isinstance(variables, Mapping) and next(
            (str(k) for k, v in variables.items() if k not in GRAFANA_VARIABLES or not isinstance(v, str)), "")
        if not title or not isinstance(variables, Mapping) or wrong:
            problems.add(f"{where}: external link {title!r} needs a Grafana dashboard's name and variables "
                         f"({', '.join(GRAFANA_VARIABLES)}) naming Grafana's variables"
                         + (f" ({wrong!r} is not one)" if wrong else ""))
            continue
        out.append(ExternalLink(title, tuple((str(k), str(v)) for k, v in variables.items() if v)))
    return out


def grafana_query(link: ExternalLink, of: str, namespace: str, name: str, version: str = "",
                  datasource: str = "") -> dict[str, str] | None:
    """The variables of the link's Grafana dashboard for a workload's (``of`` "workload") or an app's
    runtime dashboard, as Kiali sets them: the workload's or app's name, its namespace and version, and the
    uid of Grafana's datasource (``datasource``, when known), where the link names a variable for them; None
    when the link has no variable for a workload (or an app), which Kiali does not show for it."""
    variables = dict(link.variables)
    if of not in variables:
        return None
    query = {variables[of]: name}
    if "namespace" in variables:
        query[variables["namespace"]] = namespace
    if "version" in variables and version:
        query[variables["version"]] = version
    if "datasource" in variables and datasource:
        query[variables["datasource"]] = datasource
    return query


def _find_config(doc: Any) -> tuple[Any, Any, Any, Any]:
    """(custom_dashboards list, external_services.custom_dashboards mapping, istio_labels mapping,
    external_services mapping) in a Kiali CR, its ConfigMap, its config.yaml, a List of them, or the
    dashboards list itself."""
    if isinstance(doc, list):
        return doc, None, None, None
    if not isinstance(doc, Mapping):
        return None, None, None, None
    items = doc.get("items")
    if isinstance(items, list):
        for item in items:
            found = _find_config(item)
            if any(x is not None for x in found[:2]):
                return found
        return None, None, None, None
    data = doc.get("data")
    if isinstance(data, Mapping) and isinstance(data.get("config.yaml"), str):
        try:
            return _find_config(yaml.safe_load(data["config.yaml"]))
        except yaml.YAMLError:
            return None, None, None, None
    spec = doc.get("spec")
    if isinstance(spec, Mapping):
        doc = spec
    external = doc.get("external_services")
    settings = external.get("custom_dashboards") if isinstance(external, Mapping) else None
    return doc.get("custom_dashboards"), settings, doc.get("istio_labels"), external


def _query_scope(value: Any, where: str, problems: _Problems) -> tuple[tuple[str, str], ...]:
    """A Prometheus' ``query_scope`` (label: value, added to every query, as Kiali adds it), its label names
    made Prometheus' as Kiali makes them."""
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        problems.add(f"{where}.query_scope is not a mapping of label names to values")
        return ()
    return tuple((prometheus_label(str(k)), v) for k, v in value.items())


def read_custom_dashboards(text: str) -> tuple[DashboardsConfig, list[str]]:
    """Kiali's dashboard configuration given as YAML or JSON (its CR, its ConfigMap, its config.yaml with
    ``custom_dashboards`` and ``external_services.custom_dashboards``, or the ``custom_dashboards`` list
    alone), checked; (the defaults, why not) when it cannot be used. An empty text: the defaults."""
    if not text.strip():
        return DEFAULT_CONFIG, []
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return DEFAULT_CONFIG, [f"not YAML{where}: {getattr(e, 'problem', None) or 'it cannot be read'}"]
    if doc is None:
        return DEFAULT_CONFIG, []
    listed, settings, labels, external = _find_config(doc)
    if listed is None and settings is None:
        return DEFAULT_CONFIG, ["it holds neither custom_dashboards nor external_services.custom_dashboards"]
    problems = _Problems()
    if listed is not None and not isinstance(listed, list):
        return DEFAULT_CONFIG, ["custom_dashboards is not a list of dashboards"]
    dashboards = [d for d in (_dashboard(item, i, problems) for i, item in enumerate(listed or [])) if d is not None]
    config = replace(DEFAULT_CONFIG, dashboards=tuple(dashboards))
    if settings is not None:
        if not isinstance(settings, Mapping):
            return DEFAULT_CONFIG, ["external_services.custom_dashboards is not a mapping"]
        discovery = settings.get("discovery_enabled", DISCOVERY_AUTO)
        discovery = {True: DISCOVERY_ON, False: DISCOVERY_OFF}.get(discovery, discovery) \
            if isinstance(discovery, bool) else str(discovery).lower()
        if discovery not in DISCOVERY_CHOICES:
            problems.add(f"discovery_enabled {discovery!r} is none of {', '.join(DISCOVERY_CHOICES)}")
        threshold = settings.get("discovery_auto_threshold", 10)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
            problems.add(f"discovery_auto_threshold {threshold!r} is not a number of pods")
            threshold = 10
        namespace_label = settings.get("namespace_label") or "namespace"
        if not isinstance(namespace_label, str) or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", namespace_label):
            problems.add(f"namespace_label {namespace_label!r} is not a Prometheus label name")
            namespace_label = "namespace"
        prometheus = settings.get("prometheus") or {}
        url = prometheus.get("url") if isinstance(prometheus, Mapping) else None
        if not isinstance(prometheus, Mapping) or not isinstance(url, str | None) \
                or (url and not re.match(r"https?://[^/\s]+", url.strip())):
            problems.add(f"prometheus.url {url!r} is not an http(s) address")
            url = ""
        auth = _prometheus_auth(prometheus.get("auth") if isinstance(prometheus, Mapping) else None, problems)
        enabled = settings.get("enabled", True)
        config = replace(config, enabled=enabled is not False, discovery=discovery, auto_threshold=threshold,
                         namespace_label=namespace_label, prometheus_url=(url or "").strip(), prometheus_auth=auth)
    # the query scope of the Prometheus they are read from, as Kiali's: their own's when it is given, else
    # the main one's (external_services.prometheus.query_scope)
    own = settings.get("prometheus") if isinstance(settings, Mapping) else None
    main = external.get("prometheus") if isinstance(external, Mapping) else None
    main_scope = _query_scope(main.get("query_scope") if isinstance(main, Mapping) else None,
                              "external_services.prometheus", problems)
    if config.prometheus_url and isinstance(own, Mapping):
        scope = _query_scope(own.get("query_scope"), "external_services.custom_dashboards.prometheus", problems)
    else:
        scope = main_scope
    config = replace(config, query_scope=scope, main_query_scope=main_scope)
    grafana = external.get("grafana") if isinstance(external, Mapping) else None
    uid = grafana.get("datasource_uid") if isinstance(grafana, Mapping) else None
    if uid is not None and not isinstance(uid, str):
        problems.add("external_services.grafana.datasource_uid is not text")
    elif uid:
        config = replace(config, grafana_datasource=uid.strip())
    if isinstance(labels, Mapping):
        config = replace(config, app_label=_text(labels.get("app_label_name")),
                         version_label=_text(labels.get("version_label_name")))
    if problems.said:
        return DEFAULT_CONFIG, problems.said
    return config, []


def dashboards_summary(config: DashboardsConfig) -> str:
    """What a settings row says of the configuration."""
    if not config.enabled:
        return "Off (custom_dashboards.enabled: false)"
    own = f"{len(config.dashboards)} of your own and " if config.dashboards else ""
    discovery = {DISCOVERY_ON: "discovery on", DISCOVERY_OFF: "discovery off",
                 DISCOVERY_AUTO: f"discovery up to {config.auto_threshold} pods"}[config.discovery]
    shown = re.sub(r"//[^/@]*@", "//", config.prometheus_url).split("?")[0]  # (no login, no query shown)
    login = {AUTH_BASIC: " (basic auth)", AUTH_BEARER: " (a bearer token)"}.get(config.prometheus_auth.type, "")
    prometheus = f"; from the Prometheus at {shown}{login}" if config.prometheus_url else ""
    return f"{own}meshdesk's built-in (Go, JVM, Node.js); {discovery}{prometheus}"


# -- dashboards a namespace or a workload defines ----------------------------------------------------

def annotated_templates(annotations: Mapping[str, str], where: str) -> tuple[list[Dashboard], list[str]]:
    """The dashboards a ``dashboards.kiali.io/templates`` annotation defines (a YAML list of dashboards,
    as ``custom_dashboards`` holds them), and what is wrong with it, said for ``where`` ("namespace shop").
    Unreadable YAML, or anything but a list, defines none (as Kiali logs and skips it); a malformed
    dashboard of the list is left out, the others kept."""
    text = annotations.get(TEMPLATES_ANNOTATION)
    if text is None or not text.strip():
        return [], []
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return [], [f"{where}'s {TEMPLATES_ANNOTATION} is not YAML"]
    if not isinstance(doc, list):
        return [], [f"{where}'s {TEMPLATES_ANNOTATION} is not a list of dashboards"]
    problems = _Problems()
    found = [d for d in (_dashboard(item, i, problems) for i, item in enumerate(doc)) if d is not None]
    return found, [f"{where}'s {TEMPLATES_ANNOTATION}: {p}" for p in problems.said]


def workload_templates_annotations(workload: Workload | AppPods) -> Mapping[str, str]:
    """The annotations Kiali reads a workload's dashboard templates from (its ``dashboard_annotations``);
    none for an app (Kiali's app page reads the namespace's alone)."""
    return workload.dashboard_annotations if isinstance(workload, Workload) else {}


def scoped(config: DashboardsConfig, namespace: Namespace | None,
           workload: Workload | AppPods | None) -> tuple[DashboardsConfig, list[str]]:
    """The configuration as Kiali applies it to one workload (or app): the dashboards its namespace's
    ``dashboards.kiali.io/templates`` annotation defines added to the configured ones, then the workload's
    (its pod template's), each taking the place of one of the same name; and what was wrong with them."""
    if not config.enabled:
        return config, []
    added: list[Dashboard] = []
    problems: list[str] = []
    if namespace is not None:
        found, said = annotated_templates(namespace.annotations, f"namespace {namespace.name}")
        added += found
        problems += said
    if workload is not None:
        found, said = annotated_templates(workload_templates_annotations(workload),
                                          f"workload {workload.namespace}/{workload.name}")
        added += found
        problems += said
    if not added:
        return config, problems
    return replace(config, templates=tuple(added)), problems
