"""Metric charts for the demo cluster: its own deterministic traffic sampled at every step.

The demo has no time series store; ``range_series`` asks the demo for a one-minute snapshot at each
point of the step grid (``DemoCluster.snapshot`` is a pure function of time, seed and config) and
evaluates the chart definitions of ``meshdesk.mesh.metrics`` on those samples, so demo charts follow
the same targets and splits as Prometheus charts. Duration quantiles of several series are combined
weighted by request rate (an approximation: the demo keeps no histograms); size quantiles are not
simulated, only the average size.
"""

from __future__ import annotations

import calendar
import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.metrics import (
    CHARTS_BY_KEY,
    KIND_DASHBOARD,
    KIND_PROXY,
    PROXY_CHARTS,
    STAT_AVG,
    STAT_RATE,
    Line,
    MetricsResult,
    MetricsSpec,
    MetricsTarget,
    is_error,
    split_value,
)
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.base import Cancelled

if TYPE_CHECKING:
    from meshdesk.sources.demo import DemoCluster

_DEMO_STATS = {STAT_AVG: "avg", "p50": "0.5", "p95": "0.95", "p99": "0.99"}
_WINDOW_S = 60


def _evaluate(samples: list[Sample], target: MetricsTarget, spec: MetricsSpec) -> dict[tuple[str, str, str], float]:
    """(chart, stat, split value) -> value at one instant."""
    mine = [s for s in samples if target.matches(s.labels)]
    out: dict[tuple[str, str, str], float] = {}

    def add(key: tuple[str, str, str], v: float) -> None:
        out[key] = out.get(key, 0.0) + v

    requests = [s for s in mine if s.metric == tm.REQUESTS]
    for key in spec.charts:
        chart = CHARTS_BY_KEY[key]
        split = target.split_label(spec.split, chart.tcp)

        def group(s: Sample, split: str = split) -> str:
            return split_value(s.labels, split)

        if chart.kind == "counter":
            for s in mine:
                if s.metric == chart.metric:
                    add((key, STAT_RATE, group(s)), s.value)
        elif chart.kind == "errors":
            for s in requests:
                if is_error(s.labels):
                    add((key, STAT_RATE, group(s)), s.value)
        elif chart.kind == "error_share":
            # split by response code: each code's share of all the requests (of each reporter's), not of
            # its own (every 503 an error, 100%; every 200 none)
            whole = ",".join(lbl for lbl in split.split(",") if lbl and lbl != "response_code")
            total: dict[str, float] = {}
            bad: dict[str, float] = {}
            seen: dict[str, str] = {}  # line -> the group its share is of
            for s in requests:
                g, of = group(s), split_value(s.labels, whole)
                seen[g] = of
                total[of] = total.get(of, 0.0) + s.value
                if is_error(s.labels):
                    bad[g] = bad.get(g, 0.0) + s.value
            for g, of in seen.items():
                if total[of] > 0:
                    out[(key, STAT_RATE, g)] = bad.get(g, 0.0) / total[of]
        elif chart.kind == "throughput":
            for s in mine:
                if s.metric == chart.metric:
                    add((key, STAT_RATE, group(s)), s.value)
        elif chart.kind == "histogram":
            _histogram(out, key, chart.metric, chart.stats, mine, requests, group)
    return out


def _weights(series: Iterable[Sample], requests: list[Sample]) -> dict[tuple[tuple[str, str], ...], float]:
    """Request rate behind each duration/bytes series (its labels are a subset of the request labels)."""
    cache: dict[tuple[str, ...], dict[tuple[str, ...], float]] = {}
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for s in series:
        labels = {k: v for k, v in s.labels.items() if k != tm.STAT_LABEL}
        keys = tuple(sorted(labels))
        index = cache.get(keys)
        if index is None:
            index = {}
            for r in requests:
                k = tuple(r.labels.get(x, "") for x in keys)
                index[k] = index.get(k, 0.0) + r.value
            cache[keys] = index
        out[tuple(sorted(labels.items()))] = index.get(tuple(labels[x] for x in keys), 0.0)
    return out


def _histogram(out: dict[tuple[str, str, str], float], key: str, metric: str, stats: tuple[str, ...],
               mine: list[Sample], requests: list[Sample], group: Callable[[Sample], str]) -> None:
    series = [s for s in mine if s.metric == metric]
    weights = _weights(series, requests)
    if metric == tm.REQUEST_DURATION:
        for stat in stats:
            num: dict[str, float] = {}
            den: dict[str, float] = {}
            for s in series:
                if s.labels.get(tm.STAT_LABEL) != _DEMO_STATS[stat]:
                    continue
                w = weights.get(tuple(sorted((k, v) for k, v in s.labels.items() if k != tm.STAT_LABEL)), 0.0)
                g = group(s)
                num[g] = num.get(g, 0.0) + w * s.value
                den[g] = den.get(g, 0.0) + w
            for g, d in den.items():
                if d > 0:
                    out[(key, stat, g)] = num[g] / d
    elif STAT_AVG in stats:  # sizes: bytes per second over requests per second
        b: dict[str, float] = {}
        n: dict[str, float] = {}
        for s in series:
            g = group(s)
            b[g] = b.get(g, 0.0) + s.value
            n[g] = n.get(g, 0.0) + weights.get(
                tuple(sorted((k, v) for k, v in s.labels.items() if k != tm.STAT_LABEL)), 0.0)
        for g, d in n.items():
            if d > 0:
                out[(key, STAT_AVG, g)] = b[g] / d


def _created(demo: DemoCluster, namespace: str, at: float) -> dict[str, float]:
    """When each pod of ``namespace`` started (unix seconds), by the demo's inventory at ``at``."""
    inv = demo.snapshot(GraphRequest(queryTime=int(at), duration=_WINDOW_S, namespaces=(namespace,))).inventory
    out: dict[str, float] = {}
    for w in inv.workloads if inv is not None else ():
        for p in w.pods:
            try:
                out[p.name] = float(calendar.timegm(time.strptime(p.created, "%Y-%m-%dT%H:%M:%SZ")))
            except (TypeError, ValueError):
                continue
    return out


def _proxy_values(samples: list[Sample], target: MetricsTarget, t: float,
                  created: dict[str, float]) -> dict[tuple[str, str, str], float]:
    """The demo's proxy metrics of the target's pods at ``t`` (``PROXY_CHARTS``): requests as the
    simulation sends them (the workload's inbound and outbound requests shared among its pods), the
    rest made up, plausible and steady (memory breathing a little, connections following requests)."""
    ns, workload = target.namespace, target.name
    pods = next((vs for k, vs in target.any_of if k == "pod"), ())
    inbound = outbound = 0.0
    for s in samples:
        if s.metric != tm.REQUESTS:
            continue
        labels = s.labels
        if labels.get("reporter") == "destination" and labels.get("destination_workload") == workload \
                and labels.get("destination_workload_namespace") == ns:
            inbound += s.value
        elif labels.get("reporter") == "source" and labels.get("source_workload") == workload \
                and labels.get("source_workload_namespace") == ns:
            outbound += s.value
    out: dict[tuple[str, str, str], float] = {}
    share = 1.0 / max(1, len(pods))
    for i, pod in enumerate(pods):
        phase = (sum(map(ord, pod)) % 97) / 97 * 2 * math.pi
        memory = 24e6 + 3e6 * i + 1.5e6 * math.sin(t / 900 + phase)
        values = {
            "proxy_uptime": max(0.0, t - created[pod]) if pod in created else math.nan,
            "proxy_memory_allocated": memory,
            "proxy_heap_size": math.ceil(memory * 1.3 / 1048576) * 1048576.0,
            # the xds-grpc connection to istiod is always up; requests keep others open
            "proxy_upstream_cx_active": 1.0 + round(outbound * share * 0.8),
            "proxy_upstream_rq": outbound * share,
            "proxy_downstream_cx_active": float(round(inbound * share * 0.8)),
            "proxy_downstream_rq": inbound * share,
        }
        for key, value in values.items():
            out[(key, STAT_RATE, pod)] = value
    return out


# the demo's workloads that expose their runtime's own metrics, by (namespace, app): inventory runs on Go
# (client_golang's collectors; its pods name the "go" dashboard), ratings on Node.js (prom-client's defaults;
# its dashboard is discovered)
RUNTIMES: dict[tuple[str, str], str] = {("shop", "inventory"): "go", ("shop", "ratings"): "nodejs"}
_INFO = {"go": "go_info", "nodejs": "nodejs_version_info"}


def runtime_values(runtime: str, pod: str, t: float) -> dict[str, float]:
    """A demo pod's runtime metrics at ``t``: gauges as read, counters as their rate per second (what a
    dashboard chart reads of them); plausible and steady, breathing a little, each pod its own phase."""
    wave = math.sin(t / 600 + (sum(map(ord, pod)) % 97) / 97 * 2 * math.pi)
    if runtime == "go":
        heap = 14e6 + 3e6 * wave
        alloc = 2.4e6 + 0.6e6 * wave
        return {"go_info": 1.0, "go_goroutines": float(round(42 + 8 * wave)), "go_memstats_heap_inuse_bytes": heap,
                "process_resident_memory_bytes": 2.1 * heap + 9e6, "go_memstats_alloc_bytes_total": alloc,
                "go_gc_duration_seconds_count": alloc / heap, "go_memstats_next_gc_bytes": 2 * heap,
                "process_cpu_seconds_total": 0.035 + 0.01 * wave, "go_threads": 12.0}
    if runtime == "nodejs":
        heap = 21e6 + 4e6 * wave
        return {"nodejs_version_info": 1.0, "nodejs_active_handles_total": float(round(9 + 2 * wave)),
                "nodejs_active_requests_total": float(round(1.5 + 1.5 * wave)),
                "nodejs_eventloop_lag_seconds": 0.0021 + 0.0008 * wave, "nodejs_heap_size_used_bytes": heap,
                "nodejs_heap_size_total_bytes": 1.4 * heap, "process_resident_memory_bytes": 2.6 * heap + 12e6,
                "process_cpu_seconds_total": 0.02 + 0.006 * wave}
    return {}


def _runtime_of(target: MetricsTarget) -> str:
    labels = dict(target.labels)
    return RUNTIMES.get((target.namespace, labels.get("app", "")), "")


def dashboard_series(demo: DemoCluster, target: MetricsTarget, spec: MetricsSpec,
                     cancelled: Callable[[], bool] | None = None, *, now: float) -> MetricsResult:
    """A runtime dashboard's charts for a demo workload: its pods' runtime metrics (``runtime_values``),
    a line per pod when split by pod, else each chart's aggregate of them; a histogram is not simulated."""
    dashboard = target.dashboard
    assert dashboard is not None
    end = math.floor((spec.end or now) / spec.step_s) * spec.step_s
    grid = spec.grid(end)
    result = MetricsResult(target, spec, end)
    runtime = _runtime_of(target)
    inv = demo.snapshot(GraphRequest(queryTime=int(end), duration=_WINDOW_S, namespaces=(target.namespace,))).inventory
    # the pods the target's labels select: a workload's (its app and version), or an app's (its app)
    labels = dict(target.labels)
    chosen = [w for w in (inv.workloads if inv is not None and runtime else ())
              if w.namespace == target.namespace and w.app == labels.get("app")
              and labels.get("version", w.version) == w.version]
    pods = [p.name for w in chosen for p in w.pods]
    version = {p.name: w.version for w in chosen for p in w.pods}
    columns = [{pod: runtime_values(runtime, pod, t) for pod in pods} for t in grid]
    if cancelled is not None and cancelled():
        raise Cancelled("metrics refresh cancelled")
    for i, chart in enumerate(dashboard.charts):
        key = dashboard.chart_key(i)
        result.lines[key] = []
        split = spec.split if spec.split and spec.split in dict(chart.aggregations) else ""
        for metric, name in chart.metrics:
            if chart.data_type == "histogram" or not pods or metric not in columns[0][pods[0]]:
                continue
            line = name if len(chart.metrics) > 1 else ""
            groups: list[tuple[str, tuple[str, ...]]]
            if split == "pod":
                groups = [(pod, (pod,)) for pod in pods]
            elif split == "version":  # an app's, by version
                groups = [(v, tuple(p for p in pods if version[p] == v)) for v in sorted(set(version.values()))]
            else:
                groups = [("", tuple(pods))]
            for value, members in groups:
                values = []
                for col in columns:
                    got = [col[p][metric] for p in members]
                    agg = {"avg": sum(got) / len(got), "max": max(got), "min": min(got),
                           "count": float(len(got))}.get(chart.aggregator, sum(got))
                    values.append(agg * chart.scale)
                said = " \u00b7 ".join(v for v in (line, value if split else "") if v)
                result.lines[key].append(Line(key, STAT_RATE, said, list(grid), values, chart.title,
                                              ((split, value),) if split else ()))
    return result


def range_series(demo: DemoCluster, target: MetricsTarget, spec: MetricsSpec,
                 cancelled: Callable[[], bool] | None = None, *, now: float | None = None) -> MetricsResult:
    """The demo's metrics for ``target`` on the step grid ending at ``spec.end`` (or ``now``)."""
    current = now if now is not None else time.time()
    end = math.floor((spec.end or current) / spec.step_s) * spec.step_s
    grid = spec.grid(end)
    proxy = target.kind == KIND_PROXY
    created = _created(demo, target.namespace, end) if proxy else {}
    columns: list[dict[tuple[str, str, str], float]] = []
    for t in grid:
        if cancelled is not None and cancelled():
            raise Cancelled("metrics refresh cancelled")
        # each point's rates over the minute before it, or the longer window the spec asks for (a span's
        # comparison with the last hour's requests)
        window = max(_WINDOW_S, spec.rate_window_s)
        snap = demo.snapshot(GraphRequest(queryTime=int(t), duration=window), with_inventory=False,
                             cancelled=cancelled, every_series=True)
        columns.append(_proxy_values(list(snap.samples), target, t, created) if proxy
                       else _evaluate(snap.samples, target, spec))
    keys = sorted({k for col in columns for k in col}, key=lambda k: (k[0], k[2], k[1]))
    result = MetricsResult(target, spec, end)
    for key in (tuple(c.key for c in PROXY_CHARTS) if proxy else spec.charts):
        result.lines[key] = []
    for chart, stat, value in keys:
        values = [col.get((chart, stat, value), math.nan) for col in columns]
        result.lines[chart].append(Line(chart, stat, value, list(grid), values))
    return result


class DemoMetrics:
    """A ``MetricsSource`` over a ``DemoCluster`` (the demo's clock decides "now")."""

    # what the charts say when a refresh is still running at the next poll: nothing, as the demo
    # computes its series here (a 6 hour range at 15 s steps takes longer than a poll) and is no
    # Prometheus to call slow; the next poll simply waits for it
    slow_text = ""

    def __init__(self, demo: DemoCluster, clock: Callable[[], float] | None = None) -> None:
        self.demo = demo
        demo_clock: Callable[[], float] = getattr(demo, "_clock", time.time)
        self.clock: Callable[[], float] = clock if clock is not None else demo_clock

    def fetch(self, target: MetricsTarget, spec: MetricsSpec,
              cancelled: Callable[[], bool] | None = None) -> MetricsResult:
        if target.kind == KIND_DASHBOARD:
            return dashboard_series(self.demo, target, spec, cancelled, now=self.clock())
        return range_series(self.demo, target, spec, cancelled, now=self.clock())

    def runtime_metrics(self, namespace_label: str, namespace: str,
                        selectors: Sequence[Sequence[tuple[str, str]]], metrics: Sequence[str]) -> dict[str, int]:
        """Which of ``metrics`` the demo's app (of the ``app`` label of one of ``selectors``) in ``namespace``
        exposes, with that label set's index (as Prometheus would answer ``PrometheusMetrics.runtime_metrics``:
        the demo's series carry the ``app`` and ``version`` labels)."""
        for i, sel in enumerate(selectors):
            runtime = RUNTIMES.get((namespace, dict(sel).get("app", "")), "")
            if runtime:
                return {m: i for m in set(runtime_values(runtime, "", 0.0)) & set(metrics)}
        return {}


def samples_at(demo: DemoCluster, t: float) -> list[Sample]:
    """The demo's samples for the minute before ``t`` (for tests comparing a point to the snapshot)."""
    return list(demo.snapshot(GraphRequest(queryTime=int(t), duration=_WINDOW_S), with_inventory=False,
                              every_series=True).samples)
