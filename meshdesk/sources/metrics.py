"""Running metric charts against Prometheus: PromQL for each chart line and a range-query runner.

``line_queries(target, spec)`` builds the queries (every label value through ``promql.py``);
``PrometheusMetrics(client).fetch(target, spec)`` runs them side by side (rates over at least four
of the server's scrape intervals, which it asks for once) and returns a
``MetricsResult`` whose lines sit on the step grid with NaN for missing points. When Prometheus
cannot be reached at all, ``fetch`` raises the client's typed error (the caller keeps the data it
had); a query Prometheus refuses only empties its chart (``result.errors``), and partial answers
(``warnings``) are passed on, each with the charts whose queries had it (``chart_warnings``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from meshdesk.mesh.metrics import (
    CHARTS_BY_KEY,
    ERROR_CODES,
    GRPC_ERROR_STATUSES,
    KIND_CLUSTER,
    KIND_DASHBOARD,
    KIND_PROXY,
    PROXY_CHARTS,
    PROXY_DISCOVERY,
    PROXY_ISTIOD_CLUSTER,
    PROXY_OTHER_CLUSTERS,
    PROXY_SCRAPED,
    QUANTILE_STATS,
    STAT_AVG,
    STAT_RATE,
    Line,
    MetricsResult,
    MetricsSpec,
    MetricsTarget,
    align,
    split_value,
)
from meshdesk.mesh.namespace_traffic import TrafficReading, traffic_from_series, traffic_grid, traffic_promql
from meshdesk.mesh.span_stats import CHART as SPAN_CHART
from meshdesk.mesh.span_stats import STATS_INTERVALS, SpanComparison
from meshdesk.mesh.traces import Span
from meshdesk.sources import promql
from meshdesk.sources.base import Cancelled, PrometheusError, SourceError, Timeout, Unreachable
from meshdesk.sources.prometheus import PrometheusClient, QueryResult, RangeSeries


class MetricsSource(Protocol):
    def fetch(self, target: MetricsTarget, spec: MetricsSpec,
              cancelled: Callable[[], bool] | None = None) -> MetricsResult: ...


@dataclass(frozen=True)
class LineQuery:
    chart: str
    stat: str
    promql: str
    split_label: str
    line: str = ""  # the line's own name, for a chart of several metrics (a runtime dashboard's)
    title: str = ""  # a runtime dashboard chart's title
    # a runtime dashboard chart's sortLabel (its lines ordered by that label's value, as integers when
    # ``sort_int``), and the place of the line's metric among its chart's (their lines kept in that order)
    sort_label: str = ""
    sort_int: bool = False
    metric_index: int = 0


def matchers(target: MetricsTarget) -> list[str]:
    return [promql.one_of("reporter", target.reporters)] + [promql.eq(k, v) for k, v in target.labels] \
        + [promql.one_of(k, vs) for k, vs in target.any_of] + [promql.none_of(k, vs) for k, vs in target.none_of]


def selectors(target: MetricsTarget) -> list[list[str]]:
    """The target's series as one or more sets of matchers, whose series are disjoint: its reporters'
    own, then the callers' reports of each set of destinations without a proxy (``by_callers``). A set
    named in one namespace of several (a cluster box's) leaves the target's own reports out of that
    namespace only, so its own are read per such namespace."""
    base = matchers(target)
    ns_label = "destination_workload_namespace"
    anywhere = [promql.none_of(k, vs) for k, vs, ns in target.by_callers if not ns]
    named = sorted({ns for _, _, ns in target.by_callers if ns})
    if not named:
        own = [base + anywhere]
    else:
        own = [base + anywhere + [promql.none_of(ns_label, tuple(named))]]
        own += [base + anywhere + [promql.eq(ns_label, ns)]
                + [promql.none_of(k, vs) for k, vs, n in target.by_callers if n == ns] for ns in named]
    callers = [[promql.eq("reporter", "source"), *base[1:], *([promql.eq(ns_label, ns)] if ns else []),
                promql.one_of(k, vs)] for k, vs, ns in target.by_callers]
    return own + callers


def _sel(metric: str, ms: Sequence[str]) -> str:
    return promql.selector(metric, list(ms))


def _rate(metric: str, bases: Sequence[Sequence[str]], w: str) -> str:
    """``rate`` of the metric's series of every matcher set, as one vector."""
    parts = [f"rate({_sel(metric, base)}{w})" for base in bases]
    return parts[0] if len(parts) == 1 else f"({' or '.join(parts)})"


def _by(*labels: str) -> str:
    used = [lbl for lbl in labels if lbl]
    return f" by ({promql.by(used)})" if used else ""


def _errors(metric: str, bases: Sequence[Sequence[str]], w: str) -> str:
    """The rates of the error series (Kiali's): an error code, or else a gRPC error status. The two sets
    of series are disjoint, so their union is summed whole. A chart of HTTP requests alone (an HTTP
    edge's) counts error codes only, as Kiali's edge charts do: a gRPC status there is no HTTP error."""
    codes = promql.quote(ERROR_CODES)
    http = [f"rate({_sel(metric, [*base, f'response_code=~{codes}'])}{w})" for base in bases]
    if promql.eq("request_protocol", "http") in bases[0]:
        return http[0] if len(http) == 1 else f"({' or '.join(http)})"
    statuses = promql.quote(GRPC_ERROR_STATUSES)
    grpc = [f"rate({_sel(metric, [*base, f'response_code!~{codes}', f'grpc_response_status=~{statuses}'])}{w})"
            for base in bases]
    return f"({' or '.join(http + grpc)})"


def proxy_queries(target: MetricsTarget, spec: MetricsSpec) -> list[LineQuery]:
    """The queries of a proxy target's charts (``PROXY_CHARTS``, whatever ``spec.charts`` says): per pod,
    a gauge summed over its series (every upstream cluster's active connections), a counter's rate."""
    ms = [promql.eq(k, v) for k, v in target.labels] + [promql.one_of(k, vs) for k, vs in target.any_of]
    w = f"[{spec.window_s}s]"
    out = []
    for chart in PROXY_CHARTS:
        series = _sel(chart.metric, ms)
        inner = f"rate({series}{w})" if chart.kind == "counter" else series
        out.append(LineQuery(chart.key, STAT_RATE, f"sum({inner}) by (pod)", "pod"))
    # asked with the charts, in parallel: read only when they are all empty
    out.append(LineQuery(PROXY_SCRAPED, STAT_RATE, f"count({PROXY_DISCOVERY})", ""))
    clusters = _sel("envoy_cluster_upstream_cx_active", [*ms, promql.ne("cluster_name", PROXY_ISTIOD_CLUSTER)])
    out.append(LineQuery(PROXY_OTHER_CLUSTERS, STAT_RATE, f"count({clusters})", ""))
    return out


def dashboard_queries(target: MetricsTarget, spec: MetricsSpec) -> list[LineQuery]:
    """The queries of a runtime dashboard's charts (whatever ``spec.charts`` says), as Kiali reads them: a
    gauge through the chart's aggregator (sum by default), a counter's rate summed, a histogram's average
    and quantiles; each metric of a chart its own line, split by the chosen aggregation label where the
    chart offers it; the values scaled by the chart's ``unitScale``."""
    dashboard = target.dashboard
    assert dashboard is not None
    ms = [promql.eq(k, v) for k, v in target.labels]
    w = f"[{spec.window_s}s]"
    out: list[LineQuery] = []
    for i, chart in enumerate(dashboard.charts):
        key = dashboard.chart_key(i)
        chosen = spec.split if spec.split and spec.split in dict(chart.aggregations) else ""
        # a line per value of its group labels (always), and of the label chosen in Show by
        # (and, as Kiali, of its sortLabel, to order them by: a line per value, named by it too)
        split = ",".join(dict.fromkeys(x for x in (*chart.group_labels, chosen, chart.sort_label) if x))
        by = _by(*split.split(","))
        scale = "" if chart.scale == 1.0 else f" * {chart.scale!r}"
        for index, (metric, name) in enumerate(chart.metrics):
            line = name if len(chart.metrics) > 1 else ""
            queries: list[tuple[str, str]] = []
            if chart.data_type == "raw":
                queries.append((STAT_RATE, f"{chart.aggregator}({_sel(metric, ms)}){by}"))
            elif chart.data_type == "rate":
                queries.append((STAT_RATE, f"sum(rate({_sel(metric, ms)}{w})){by}"))
            else:
                queries.append((STAT_AVG, f"sum(rate({_sel(metric + '_sum', ms)}{w})){by} / "
                                          f"sum(rate({_sel(metric + '_count', ms)}{w})){by}"))
                queries += [(stat, f"histogram_quantile({q}, sum(rate({_sel(metric + '_bucket', ms)}{w}))"
                                   f"{_by('le', *split.split(','))})") for stat, q in QUANTILE_STATS.items()]
            out += [LineQuery(key, stat, f"({q}){scale}" if scale else q, split, line, chart.title,
                              chart.sort_label, chart.sort_as_int, index)
                    for stat, q in queries]
    return out


def discovery_query(namespace_label: str, namespace: str, selectors: Sequence[Sequence[tuple[str, str]]],
                    metrics: Sequence[str]) -> str:
    """One instant query telling which of the dashboards' discovery ``metrics`` Prometheus has for an app
    (and version) in a namespace under each of the label sets ``selectors`` (Istio's label schemes): every
    dashboard and every scheme at once, not a query each; counted by the schemes' labels when there are
    several, so the answer tells which scheme each was found under."""
    head = [promql.one_of("__name__", metrics), promql.eq(namespace_label, namespace)]
    parts = ["{" + ",".join([*head, *(promql.eq(k, v) for k, v in sel)]) + "}" for sel in selectors]
    labels = list(dict.fromkeys(k for sel in selectors for k, _ in sel)) if len(parts) > 1 else []
    inner = " or ".join(parts)
    return f"count({inner}) by ({promql.by(['__name__', *labels])})"


def line_queries(target: MetricsTarget, spec: MetricsSpec) -> list[LineQuery]:
    """One PromQL query per chart line (chart, stat); a split groups each by its label (TCP charts are
    not split by response code: TCP series have none)."""
    if target.kind == KIND_PROXY:
        return proxy_queries(target, spec)
    if target.kind == KIND_DASHBOARD:
        return dashboard_queries(target, spec)
    base = selectors(target)
    w = f"[{spec.window_s}s]"
    out: list[LineQuery] = []
    for key in spec.charts:
        chart = CHARTS_BY_KEY[key]
        split = target.split_label(spec.split, chart.tcp)
        by = _by(*split.split(","))
        if chart.kind == "counter":
            out.append(LineQuery(key, STAT_RATE, f"sum({_rate(chart.metric, base, w)}){by}", split))
        elif chart.kind == "errors":
            out.append(LineQuery(key, STAT_RATE, f"sum({_errors(chart.metric, base, w)}){by}", split))
        elif chart.kind == "error_share":
            total = f"sum({_rate(chart.metric, base, w)}){by}"
            # "or total * 0": a target without any error series has a share of 0, not a gap
            share = f"(sum({_errors(chart.metric, base, w)}){by} or {total} * 0) / "
            if "response_code" in split.split(","):
                # each code's share of all the requests (of each reporter's): of its own requests, every 503
                # is an error (100%) and every 200 none (0%), a chart that tells nothing
                rest = [lbl for lbl in split.split(",") if lbl and lbl != "response_code"]
                share += f"on({promql.by(rest)}) group_left sum({_rate(chart.metric, base, w)}){_by(*rest)}"
            else:
                share += total
            out.append(LineQuery(key, STAT_RATE, share, split))
        elif chart.kind == "throughput":
            out.append(LineQuery(key, STAT_RATE, f"sum({_rate(chart.metric + '_sum', base, w)}){by}", split))
        elif chart.kind == "histogram":
            for stat in chart.stats:
                if stat == STAT_AVG:
                    q = (f"sum({_rate(chart.metric + '_sum', base, w)}){by} / "
                         f"sum({_rate(chart.metric + '_count', base, w)}){by}")
                else:
                    q = (f"histogram_quantile({QUANTILE_STATS[stat]}, "
                         f"sum({_rate(chart.metric + '_bucket', base, w)}){_by('le', *split.split(','))})")
                out.append(LineQuery(key, stat, q, split))
    return out


def grid_end(spec: MetricsSpec, now: float) -> float:
    """The range's end on the step grid (so successive refreshes share points)."""
    end = spec.end or now
    return math.floor(end / spec.step_s) * spec.step_s


# Prometheus's own default scrape interval is a minute; Istio's sample Prometheus scrapes every 15 s.
# When the server does not say, assume the latter (the window stays a minute).
DEFAULT_SCRAPE_S = 15.0


class PrometheusMetrics:
    """Runs chart queries on a ``PrometheusClient`` (``workers`` queries at a time)."""

    def __init__(self, client: PrometheusClient, *, workers: int = 4,
                 clock: Callable[[], float] = time.time,
                 births: Callable[[Sequence[str]], Mapping[str, float]] | None = None) -> None:
        self.client = client
        self.workers = workers
        self.clock = clock
        # namespace -> creation time (unix seconds) of those known: a young namespace's charts keep to
        # its life, as Kiali's do (``since_born``)
        self.births = births
        self._scrape_s: float | None = None
        self._scrape_known = False

    def scrape_interval(self) -> float:
        """Prometheus's global scrape interval in seconds, asked once (``DEFAULT_SCRAPE_S`` when it
        does not say: Thanos, Mimir, a proxy in front)."""
        if not self._scrape_known:
            try:
                self._scrape_s = self.client.scrape_interval()
                self._scrape_known = True
            except (Unreachable, Timeout):
                return DEFAULT_SCRAPE_S  # ask again next time
            except PrometheusError:
                self._scrape_known = True  # not offered here
        return self._scrape_s if self._scrape_s and self._scrape_s > 0 else DEFAULT_SCRAPE_S

    def rate_window(self, spec: MetricsSpec) -> int:
        """The rate window of the queries: the spec's, and (unless the spec fixes one) at least four scrape
        intervals, as Grafana's ``$__rate_interval``: with a one-minute scrape a 60 s window holds one
        sample, and ``rate`` of one sample is nothing, so every chart read "No data"."""
        if spec.rate_window_s:
            return spec.rate_window_s
        return max(spec.window_s, math.ceil(4 * self.scrape_interval()))

    def runtime_metrics(self, namespace_label: str, namespace: str,
                        selectors: Sequence[Sequence[tuple[str, str]]], metrics: Sequence[str]) -> dict[str, int]:
        """Which of ``metrics`` Prometheus has now for the app (and version) in ``namespace``, each with the
        index of the first label set of ``selectors`` it has it under: one query (``discovery_query``).
        Raises the client's typed error."""
        if not metrics or not selectors:
            return {}
        answer = self.client.query(discovery_query(namespace_label, namespace, selectors, metrics))
        out: dict[str, int] = {}
        for series in answer:
            name = series.labels.get("__name__", "")
            if name not in metrics:
                continue
            index = next((i for i, sel in enumerate(selectors)
                          if all(series.labels.get(k) == v for k, v in sel)), 0) if len(selectors) > 1 else 0
            out[name] = min(index, out.get(name, index))
        return out

    def since_born(self, target: MetricsTarget, spec: MetricsSpec, end: float, window: int) -> tuple[int, float]:
        """The rate window and the range's start for ``target``, kept to its namespace's life as Kiali
        keeps them: a namespace younger than the window at ``end`` is read over its age, and no point is
        asked for before a whole window of its life has passed (the first grid point after that), so no
        rate reads the time before it existed, when its counters had not started: a new namespace's
        charts rose over their first minute to a rate its workloads never had. A namespace of unknown
        age, or created after ``end`` (a namespace deleted and created again, in a replay of its earlier
        life), is read over the whole range."""
        start = end - spec.range_s
        namespace = target.namespace
        if self.births is None or not namespace or target.kind in (KIND_CLUSTER, KIND_PROXY):
            return window, start
        try:
            born = self.births([namespace]).get(namespace)
        except SourceError:
            return window, start
        if born is None or born >= end:
            return window, start
        window = min(window, max(1, int(end - born)))
        first = born + window
        if start < first:
            start = end - math.floor((end - first) / spec.step_s) * spec.step_s
        return window, start

    def fetch(self, target: MetricsTarget, spec: MetricsSpec,
              cancelled: Callable[[], bool] | None = None) -> MetricsResult:
        rate_window = self.rate_window(spec)  # (may ask Prometheus first: an answer tells its time)
        end = grid_end(spec, self.clock())
        grid = spec.grid(end)
        window, start = self.since_born(target, spec, end, rate_window)
        queries = line_queries(target, replace(spec, rate_window_s=window))
        result = MetricsResult(target, spec, end)

        def run(q: LineQuery) -> QueryResult[RangeSeries] | SourceError:
            if cancelled is not None and cancelled():
                return Cancelled("metrics refresh cancelled")
            try:
                return self.client.query_range(q.promql, start, end, spec.step_s)
            except PrometheusError as e:
                return e

        with ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="metrics") as pool:
            answers = list(pool.map(run, queries))
        failures = [a for a in answers if isinstance(a, SourceError)]
        if any(isinstance(a, Cancelled) for a in failures):
            raise Cancelled("metrics refresh cancelled")
        if failures and len(failures) == len(answers):
            raise failures[0]
        order: dict[int, tuple[int, int, str]] = {}  # a sorted chart's line: its place (id(line) -> key)
        for q, answer in zip(queries, answers, strict=True):
            result.lines.setdefault(q.chart, [])
            if isinstance(answer, SourceError):
                result.errors[q.chart] = str(answer)
                continue
            for w in answer.warnings:
                if w not in result.warnings:
                    result.warnings.append(w)
                own = result.chart_warnings.setdefault(q.chart, [])
                if w not in own:
                    own.append(w)
            for series in answer:
                value = " \u00b7 ".join(v for v in (q.line, split_value(series.labels, q.split_label)) if v)
                line = Line(q.chart, q.stat, value, list(grid), align(grid, series.points), q.title,
                            tuple((label, series.labels.get(label, "")) for label in q.split_label.split(",") if label))
                result.lines[q.chart].append(line)
                if q.sort_label:
                    order[id(line)] = (q.metric_index, *_sort_key(series.labels.get(q.sort_label, ""), q.sort_int))
        for lines in result.lines.values():
            lines.sort(key=lambda ln: (order.get(id(ln), (0, 0, "")), ln.split_value, ln.stat))
        return result


def _sort_key(value: str, as_int: bool) -> tuple[int, str]:
    """A line's place by its sortLabel's value: as an integer (one that is none counts as 0, as in Kiali)
    or as text."""
    if not as_int:
        return 0, value
    try:
        return int(value), ""
    except ValueError:
        return 0, ""


def compare_span(metrics: MetricsSource, target: MetricsTarget, span: Span, end: float = 0.0,
                 cancelled: Callable[[], bool] | None = None) -> SpanComparison:
    """The statistics ``span`` is compared with (``meshdesk.mesh.span_stats``): the request duration
    chart's average and quantiles of ``target``, each over one of the intervals ending at ``end`` (0:
    now), read as one point of a chart whose rate window is the interval. An interval whose queries
    failed is said in ``errors`` (the others are kept); when all fail the error is raised."""
    values: dict[tuple[str, str], float] = {}
    errors: list[str] = []
    failures: list[SourceError] = []
    for label, seconds in STATS_INTERVALS:
        if cancelled is not None and cancelled():
            raise Cancelled("comparing the span cancelled")
        spec = MetricsSpec(range_s=0, step_s=60, charts=(SPAN_CHART,), rate_window_s=seconds, end=end)
        try:
            result = metrics.fetch(target, spec, cancelled)
        except Cancelled:
            raise
        except SourceError as e:
            failures.append(e)
            errors.append(f"last {label}: {e}")
            continue
        if SPAN_CHART in result.errors:
            errors.append(f"last {label}: {result.errors[SPAN_CHART]}")
        for line in result.lines.get(SPAN_CHART, []):
            value = line.values[-1] if line.values else math.nan
            if not line.split_value and math.isfinite(value):
                values[(label, line.stat)] = value
    if failures and len(failures) == len(STATS_INTERVALS):
        raise failures[0]
    return SpanComparison(target, span.duration_us / 1000, values, tuple(errors))


def read_namespace_traffic(client: PrometheusClient, duration: int, end: float,
                           scrape_s: float = DEFAULT_SCRAPE_S) -> TrafficReading:
    """Every namespace's inbound requests over ``duration`` ending at ``end``, for the Namespaces list's
    sparklines: one range query for all of them (``traffic_promql``). Raises the client's typed errors."""
    grid = traffic_grid(duration, end, scrape_s)
    answer = client.query_range(traffic_promql(grid.window_s), grid.start, grid.end, grid.step_s)
    return traffic_from_series(grid, ((s.labels, s.points) for s in answer))
