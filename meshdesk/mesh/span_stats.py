"""One span against the metrics: how much slower or faster this request was than the requests of its
workload over the last 10 minutes, hour and 3 hours (Kiali's comparison map of a span).

A span reported by a proxy belongs to one side of a hop: a server span (an ``inbound|`` upstream
cluster) is a request into its workload, a client span (``outbound|``) one the workload sent. Its
duration is set against the average, median, 95th and 99th percentile of ``istio_request_duration``
for that workload and direction, each over the window ending at the traces' window end (now, or the
replayed moment). Kiali compares with the 90th percentile where meshdesk takes the 95th, the quantile
its charts and graph already show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from meshdesk.mesh.metrics import INBOUND, OUTBOUND, MetricsTarget
from meshdesk.mesh.traces import KIND_CLIENT, KIND_SERVER, Span, duration_text

# the windows a span is compared over (label, seconds) and the statistics it is compared with
STATS_INTERVALS: tuple[tuple[str, int], ...] = (("10m", 600), ("60m", 3600), ("3h", 10800))
STATS: tuple[str, ...] = ("avg", "p50", "p95", "p99")
STAT_WORDS = {"avg": "average", "p50": "median", "p95": "95th percentile", "p99": "99th percentile"}
CHART = "request_duration"  # the metrics chart whose lines are these statistics
# a difference this large (ms) or more is coloured fully (as Kiali's map spans -10 to +10 ms)
FULL_SCALE_MS = 10.0


def waypoint_destination(span: Span) -> tuple[str, str] | None:
    """The (namespace, workload) an ambient waypoint's span carried the request to, when it says."""
    namespace = span.tags.get("istio.destination_namespace", "") or span.node.namespace
    workload = span.tags.get("istio.destination_workload", "")
    return (namespace, workload) if workload and namespace else None


def span_direction(span: Span) -> str:
    """Which side of a hop a proxy's span is: INBOUND (a request into the proxy's workload, or, for an
    ambient waypoint's span, into the workload it carried the request to), OUTBOUND (one it sent), or ""
    when it says neither (an application's own span; a waypoint's that names no destination)."""
    if not span.tags.get("node_id"):
        return ""
    if span.node.proxy == "waypoint":
        return INBOUND if waypoint_destination(span) else ""
    upstream = span.tags.get("upstream_cluster", "")
    if upstream.startswith("inbound|"):
        return INBOUND
    if upstream.startswith("outbound|"):
        return OUTBOUND
    kind = span.kind
    return INBOUND if kind == KIND_SERVER else OUTBOUND if kind == KIND_CLIENT else ""


def why_not_compared(span: Span) -> str:
    """Why a span has no comparison (""when it may have one)."""
    if not span.tags.get("node_id"):
        return "This span was not reported by a proxy: Istio's metrics say nothing of it to compare with."
    if span.node.proxy == "waypoint" and waypoint_destination(span) is None:
        return ("This waypoint's span does not name the workload it carried the request to "
                "(istio.destination_workload): nothing to compare with.")
    if not span_direction(span):
        return "This span says neither a request in nor one out (no kind, no upstream cluster): nothing to compare."
    return ""


@dataclass(frozen=True)
class SpanComparison:
    """A span's duration and the statistics of its workload's requests (``values``: (interval label,
    stat) -> ms; missing where the window had no requests)."""

    target: MetricsTarget
    duration_ms: float
    values: Mapping[tuple[str, str], float] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # queries that failed, in words

    def diff(self, interval: str, stat: str) -> float | None:
        """How many ms slower (positive) or faster (negative) this request was; None without requests."""
        value = self.values.get((interval, stat))
        if value is None or not math.isfinite(value):
            return None
        return self.duration_ms - value

    def subject(self) -> str:
        """Whose requests the span was compared with, in words."""
        t = self.target
        kind = "app" if t.kind == "app" else "workload"
        version = next((v for k, v in t.labels if k.endswith("_canonical_revision")), "")
        return (f"{'requests into' if t.direction == INBOUND else 'requests sent by'} {kind} "
                f"{t.namespace}/{t.name}{' ' + version if version else ''}")

    def sentence(self, interval: str, stat: str) -> str:
        """One cell of the map in words (its tooltip)."""
        value = self.values.get((interval, stat))
        diff = self.diff(interval, stat)
        words = STAT_WORDS.get(stat, stat)
        if value is None or diff is None:
            return f"No {self.subject()} in the last {interval}: no {words} to compare with."
        how = "slower" if diff > 0 else "faster"
        if abs(diff) < 0.05:
            return (f"This request took as long as the {words} of all {self.subject()} in the last {interval} "
                    f"({value:.1f} ms).")
        return (f"This request was {duration_text(abs(diff) * 1000)} {how} than the {words} of all "
                f"{self.subject()} in the last {interval} ({value:.1f} ms; it took "
                f"{duration_text(self.duration_ms * 1000)}).")


def diff_text(diff: float | None) -> str:
    """A cell's text: ``+12.3`` (ms slower), ``-4.0`` (faster), ``-`` (no requests)."""
    if diff is None:
        return "-"
    return f"{diff:+.1f}" if abs(diff) < 1000 else f"{diff:+.0f}"
