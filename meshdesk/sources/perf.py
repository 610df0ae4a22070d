"""Which metrics, log and Envoy config source goes with a mesh source (Qt-free, so the UI never asks "what kind
of source is this?" itself).

- the demo cluster: ``DemoMetrics`` (its own simulation sampled at each step), its synthetic logs and
  Envoy config dumps;
- a live cluster (``ClusterSource``): Prometheus range queries over the connection the source finds
  (connected lazily, under the source's lock, on the worker thread), pod logs and Envoy config dumps
  over its API client;
- a snapshot file or anything else: None (charts, logs and the Envoy view say there is no source).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshdesk.mesh.metrics import MetricsResult, MetricsSpec, MetricsTarget
from meshdesk.mesh.traces import TraceSource
from meshdesk.sources.envoy import EnvoySource, KubeEnvoyAdmin
from meshdesk.sources.logs import KubePodLogs, LogSource
from meshdesk.sources.metrics import MetricsSource, PrometheusMetrics


class ClusterMetrics:
    """Range queries through a ``ClusterSource``'s Prometheus connection (found on first use)."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def fetch(self, target: MetricsTarget, spec: MetricsSpec,
              cancelled: Callable[[], bool] | None = None) -> MetricsResult:
        connection = self.source._connect()  # the ClusterSource's own lazy, locked connect
        return PrometheusMetrics(connection.client).fetch(target, spec, cancelled)


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


def tracing_source_for(source: Any) -> TraceSource | None:
    """Where the traces of a source's mesh are read: the demo synthesizes its own; None when there are none."""
    from meshdesk.sources.demo import DemoCluster

    if isinstance(source, DemoCluster):
        return source
    return None
