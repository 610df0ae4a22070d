"""Which metrics, log and Envoy config source goes with a mesh source (Qt-free, so the UI never asks "what kind
of source is this?" itself).

- the demo cluster: ``DemoMetrics`` (its own simulation sampled at each step), its synthetic logs and
  Envoy config dumps;
- a live cluster (``ClusterSource``): Prometheus range queries over the connection the source finds
  (connected lazily, under the source's lock, on the worker thread), pod logs and Envoy config dumps
  over its API client;
- a snapshot file or anything else: None (charts, logs and the Envoy view say there is no source).

Traces (``tracing_source_for``): for a live cluster, its tracing backend (Jaeger's query API, found on
first use on the worker thread, see ``tracing_discovery``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from meshdesk.mesh.metrics import MetricsResult, MetricsSpec, MetricsTarget
from meshdesk.mesh.traces import CLUSTER_TAG, Trace, TraceQuery, TraceSet, TraceSource
from meshdesk.sources.base import Cancelled, SourceError, TooLarge, TracingQueryError
from meshdesk.sources.envoy import EnvoySource, KubeEnvoyAdmin
from meshdesk.sources.logs import KubePodLogs, LogSource
from meshdesk.sources.metrics import MetricsSource, PrometheusMetrics
from meshdesk.sources.tracing_discovery import TracingConnection


class ClusterMetrics:
    """Range queries through a ``ClusterSource``'s Prometheus connection (found on first use)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def fetch(self, target: MetricsTarget, spec: MetricsSpec,
              cancelled: Callable[[], bool] | None = None) -> MetricsResult:
        connection = self.source._connect()  # the ClusterSource's own lazy, locked connect
        # the namespaces' ages, for Kiali's bounds of a young namespace's charts
        births = getattr(self.source, "namespace_births", None)
        # live charts end at the cluster's present (Prometheus' clock as it answers), not this machine's: a
        # clock two hours ahead charted two hours with no data yet, "No data" on every chart
        clock = getattr(self.source, "now", None)
        return PrometheusMetrics(connection.client, births=births,
                                 **({"clock": clock} if callable(clock) else {})).fetch(target, spec, cancelled)

    def runtime_metrics(self, namespace_label: str, namespace: str,
                        selectors: Sequence[Sequence[tuple[str, str]]], metrics: Sequence[str]) -> dict[str, int]:
        """Which runtime dashboards' discovery metrics the cluster's Prometheus has for an app
        (``PrometheusMetrics.runtime_metrics``): without it a live cluster's workloads had only the
        dashboards their pods name, none discovered."""
        connection = self.source._connect()
        return PrometheusMetrics(connection.client).runtime_metrics(namespace_label, namespace, selectors, metrics)


def metrics_source_for(source: Any) -> MetricsSource | None:
    from meshdesk.sources.demo import DemoCluster

    if isinstance(source, DemoCluster):
        from meshdesk.sources.demo.metrics import DemoMetrics

        return DemoMetrics(source)
    if callable(getattr(source, "_connect", None)) and hasattr(source, "api"):
        return ClusterMetrics(source)
    return None


def log_source_for(source: Any) -> LogSource | None:
    from meshdesk.sources.demo import DemoCluster

    if isinstance(source, DemoCluster):
        return source
    api = getattr(source, "api", None)
    if api is not None:
        return KubePodLogs(api, timeout=float(getattr(source, "timeout", 30.0)))
    return None


def envoy_source_for(source: Any) -> EnvoySource | None:
    from meshdesk.sources.demo import DemoCluster

    if isinstance(source, DemoCluster):
        return source
    api = getattr(source, "api", None)
    if api is not None:
        return KubeEnvoyAdmin(api, timeout=float(getattr(source, "timeout", 30.0)))
    return None


def cluster_pod_sources(source: Any, cluster: str) -> tuple[LogSource, EnvoySource] | None:
    """The log and Envoy config sources of another cluster of a live context's mesh (a linked context's),
    over that context's own API client (its login, its proxy-url): its pods are not the shown context's to
    read. None when the source has no such cluster open (not linked, or not read yet)."""
    api_of = getattr(source, "api_of", None)
    api = api_of(cluster) if callable(api_of) else None
    if api is None:
        return None
    timeout = float(getattr(source, "timeout", 30.0))
    return KubePodLogs(api, timeout=timeout), KubeEnvoyAdmin(api, timeout=timeout)


class ClusterTraces:
    """Traces through a ``ClusterSource``'s tracing backend, found (or its saved URL probed) on first use,
    on the worker thread that asks, under the source's tracing lock. A way that stops working (the
    backend moved, the proxy is refused) is forgotten, so the next ask looks again."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def find_traces(self, query: TraceQuery, cancelled: Callable[[], bool] | None = None) -> TraceSet:
        connection: TracingConnection = self.source._connect_tracing()
        query = cluster_narrowed(query)
        try:
            return connection.client.find_traces(query, cancelled)
        except SourceError as e:
            self._maybe_forget(e, connection)
            raise

    def trace(self, trace_id: str) -> Trace | None:
        connection: TracingConnection = self.source._connect_tracing()
        try:
            return connection.client.trace(trace_id)
        except SourceError as e:
            self._maybe_forget(e, connection)
            raise

    def now(self) -> float:
        """The cluster's present (the source's clock: Prometheus' as it answers), where the dock's live
        window ends, as the graph's and the charts' do: this machine's clock two hours behind listed no
        trace of the last minutes."""
        return float(self.source.now())

    def describe(self) -> str:
        """How the backend is reached, in words."""
        return str(self.source.tracing_how())

    def look_again(self) -> None:
        """The user asked: look for the backend at the next search even if none was found a moment ago."""
        self.source.look_for_tracing_again()

    def _maybe_forget(self, error: SourceError, connection: TracingConnection) -> None:
        # the query itself refused (a bad time range), too big an answer, or given up by the user: the way
        # is still good. Only the way that failed is forgotten: the dock reads on two threads, and a way
        # found again by the other since then is kept
        if not isinstance(error, TracingQueryError | TooLarge | Cancelled):
            self.source._forget_tracing(error, connection)


def cluster_narrowed(query: TraceQuery) -> TraceQuery:
    """A target of one cluster of several (``TraceTarget.cluster``): its spans are those its cluster's
    proxies tagged with that cluster's Istio id (``istio.cluster_id``), as Kiali narrows them; the tracing
    backend is the mesh's one, shared. A tag the user gave for it is kept as given."""
    cluster = query.target.cluster
    if not cluster or any(k == CLUSTER_TAG for k, _v in query.tags):
        return query
    return dataclasses.replace(query, tags=(*query.tags, (CLUSTER_TAG, cluster)))


def tracing_source_for(source: Any) -> TraceSource | None:
    """Where the traces of a source's mesh are read: the demo synthesizes its own; a live cluster's come
    from its tracing backend; None when there are none (a snapshot file)."""
    from meshdesk.sources.demo import DemoCluster

    if isinstance(source, DemoCluster):
        return source
    if callable(getattr(source, "_connect_tracing", None)) and hasattr(source, "api"):
        return ClusterTraces(source)
    return None
