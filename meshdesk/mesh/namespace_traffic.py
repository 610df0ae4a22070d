"""Each namespace's inbound requests over the graph's window, for the Namespaces list's sparklines (Kiali's
namespace overview draws one per namespace: its inbound request rate over the chosen duration, errors apart).

Every namespace is read at once: one range query grouped by the destination's namespace and by whether a
series is an error (``traffic_promql``), not a query per namespace. Its points sit on a grid of about
``SPARK_POINTS`` steps over the window (``traffic_grid``), each a rate over at least four scrape intervals.
The demo, which has no Prometheus, evaluates the same on its simulated samples (``traffic_from_samples``).

Inbound, as Kiali's namespace metrics read it: the requests whose destination workload is in the namespace,
reported by the destination's proxy or, in ambient mode, by the waypoint in front of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.metrics import ERROR_CODES, GRPC_ERROR_STATUSES, is_error
from meshdesk.mesh.telemetry import Sample

INBOUND_REPORTERS = ("destination", "waypoint")
NAMESPACE_LABEL = "destination_workload_namespace"
# the destination's cluster: a mesh over several clusters has a row per cluster of a namespace, each its own
CLUSTER_LABEL = "destination_cluster"
# the label the query gives an error series (a code or a gRPC status said so); "" on the others
ERROR_LABEL = "meshdesk_error"
SPARK_POINTS = 20


@dataclass(frozen=True)
class TrafficGrid:
    """The points of the sparklines: ``end`` and every ``step_s`` before it over ``range_s``, each a rate
    over the ``window_s`` before it."""

    end: float
    range_s: int
    step_s: int
    window_s: int

    @property
    def times(self) -> tuple[float, ...]:
        count = max(1, self.range_s // self.step_s)
        return tuple(self.end - (count - i) * self.step_s for i in range(1, count + 1))

    @property
    def start(self) -> float:
        return self.times[0]


def traffic_grid(duration: int, end: float, scrape_s: float = 15.0) -> TrafficGrid:
    """About ``SPARK_POINTS`` points over the graph's ``duration`` ending at ``end`` (on the step grid, so
    two refreshes share points): a step no shorter than two scrape intervals (as Kiali's), and rates over
    at least four (as Grafana's ``$__rate_interval``: a window of one sample has no rate)."""
    scrape = scrape_s if scrape_s > 0 else 15.0
    step = max(int(duration) // SPARK_POINTS, math.ceil(2 * scrape), 1)
    window = max(step, math.ceil(4 * scrape))
    return TrafficGrid(math.floor(end / step) * step, max(int(duration), step), step, window)


@dataclass(frozen=True)
class NamespaceTraffic:
    """One namespace's inbound requests per second at each point of the grid (NaN: no data), and those of
    them that were errors."""

    times: tuple[float, ...]
    requests: tuple[float, ...]
    errors: tuple[float, ...]

    @property
    def rate(self) -> float:
        """The mean of its points: the requests per second over the window."""
        known = [v for v in self.requests if math.isfinite(v)]
        return sum(known) / len(known) if known else 0.0

    @property
    def error_rate(self) -> float:
        known = [e for v, e in zip(self.requests, self.errors, strict=True) if math.isfinite(v)]
        return sum(e for e in known if math.isfinite(e)) / len(known) if known else 0.0

    @property
    def error_share(self) -> float:
        return self.error_rate / self.rate if self.rate > 0 else 0.0

    @property
    def text(self) -> str:
        """"4.20 rps", "4.20 rps, 12.5% errors", "no requests"."""
        if self.rate <= 0:
            return NO_REQUESTS
        said = f"{rate_text(self.rate)} rps"
        return f"{said}, {self.error_share * 100:.1f}% errors" if self.error_rate > 0 else said


NO_REQUESTS = "no requests"


def rate_text(value: float) -> str:
    """Two decimals, more for a small rate (until one significant digit shows), as the graph's edges say it."""
    decimals = 2
    v = value
    while decimals < 5 and 0 < v < 0.01:
        v *= 10
        decimals += 1
    return f"{value:.{decimals}f}"


@dataclass
class TrafficReading:
    """Every namespace's inbound traffic over one window (a namespace absent had no inbound request), or why
    it could not be read (``problem``)."""

    grid: TrafficGrid | None
    by_namespace: dict[str, NamespaceTraffic] = field(default_factory=dict)
    problem: str = ""
    replayed: bool = False  # its window ends at a replayed moment, not at the present
    # each (cluster, namespace)'s, by the destination's cluster (the series that carry none left out)
    by_cluster: dict[tuple[str, str], NamespaceTraffic] = field(default_factory=dict)

    def of(self, namespace: str, cluster: str = "") -> NamespaceTraffic | None:
        """Its traffic (``cluster``: of that cluster's namespace alone); an empty one (no requests) when the
        reading has none of it; None for a cluster no series names (its telemetry calls it otherwise, or
        carries no cluster): not known."""
        if self.problem or self.grid is None:
            return None
        if cluster and not any(c == cluster for c, _n in self.by_cluster):
            return None
        found = self.by_cluster.get((cluster, namespace)) if cluster else self.by_namespace.get(namespace)
        if found is not None:
            return found
        times = self.grid.times
        return NamespaceTraffic(times, (0.0,) * len(times), (0.0,) * len(times))


def traffic_promql(window_s: int) -> str:
    """One query for every namespace's inbound requests: their rate summed by the destination's namespace and
    by ``ERROR_LABEL``, set on the series whose code (or else gRPC status) is an error as Kiali counts them."""
    reporters = "|".join(INBOUND_REPORTERS)
    rates = f'rate({tm.REQUESTS}{{reporter=~"{reporters}"}}[{int(window_s)}s])'
    grpc = f'label_replace({rates}, "{ERROR_LABEL}", "grpc", "grpc_response_status", "{GRPC_ERROR_STATUSES}")'
    http = f'label_replace({grpc}, "{ERROR_LABEL}", "http", "response_code", "{ERROR_CODES}")'
    return f"sum by ({NAMESPACE_LABEL}, {CLUSTER_LABEL}, {ERROR_LABEL}) ({http})"


def _on_grid(times: Sequence[float], points: Iterable[tuple[float, float]], step: int) -> list[float]:
    at = {round(t / step): v for t, v in points}
    return [at.get(round(t / step), math.nan) for t in times]


def traffic_from_series(grid: TrafficGrid, series: Iterable[tuple[Mapping[str, str], Sequence[tuple[float, float]]]]
                        ) -> TrafficReading:
    """The reading of ``traffic_promql``'s answer: (labels, points) of each series."""
    times = grid.times
    # by namespace ("", namespace), all clusters together, and by (cluster, namespace)
    totals: dict[tuple[str, str], list[float]] = {}
    errors: dict[tuple[str, str], list[float]] = {}
    for labels, points in series:
        namespace = labels.get(NAMESPACE_LABEL, "")
        if not namespace or namespace == "unknown":
            continue
        values = _on_grid(times, points, grid.step_s)
        cluster = labels.get(CLUSTER_LABEL, "")
        for key in (("", namespace), (cluster, namespace)) if cluster and cluster != "unknown" else (("", namespace),):
            total = totals.setdefault(key, [math.nan] * len(times))
            bad = errors.setdefault(key, [0.0] * len(times))
            for i, v in enumerate(values):
                if math.isfinite(v):
                    total[i] = v if not math.isfinite(total[i]) else total[i] + v
                    if labels.get(ERROR_LABEL):
                        bad[i] += v
    made = {key: NamespaceTraffic(times, tuple(totals[key]), tuple(errors[key])) for key in totals}
    return TrafficReading(grid, {ns: t for (c, ns), t in made.items() if not c},
                          by_cluster={key: t for key, t in made.items() if key[0]})


def traffic_from_samples(grid: TrafficGrid, columns: Sequence[Iterable[Sample]]) -> TrafficReading:
    """The same of samples of each point of the grid (``columns``: each point's rates over the window before
    it, as the demo simulates them)."""
    times = grid.times
    series: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for t, samples in zip(times, columns, strict=True):
        at: dict[tuple[str, str], float] = {}
        for s in samples:
            if s.metric != tm.REQUESTS or s.labels.get("reporter") not in INBOUND_REPORTERS:
                continue
            key = (s.labels.get(NAMESPACE_LABEL, ""), "error" if is_error(s.labels) else "")
            at[key] = at.get(key, 0.0) + s.value
        for key, v in at.items():
            series.setdefault(key, []).append((t, v))
    return traffic_from_series(grid, (({NAMESPACE_LABEL: ns, ERROR_LABEL: err}, points)
                                      for (ns, err), points in series.items()))
