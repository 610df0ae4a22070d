"""Telemetry samples: one Prometheus series reduced to a value (a per-second rate over the window).

A sample is what a graph is built from. It is deliberately small and plain: the metric name,
the series labels (including ``reporter``) and one float. Graph passes never see PromQL.

Conventions shared by every producer (Prometheus queries, the demo cluster, snapshot files) and
every consumer (graph passes):

- Counters (``istio_requests_total``, ``istio_request_messages_total``,
  ``istio_response_messages_total``, ``istio_tcp_sent_bytes_total``,
  ``istio_tcp_received_bytes_total``, ``istio_tcp_connections_opened_total`` / ``_closed_total``):
  ``value`` is the per-second rate over the request's duration (Kiali's ``rate(...[duration])``),
  labels are the grouping labels Kiali uses (source_*/destination_* workload, canonical service and
  revision, service, cluster, ``request_protocol``, ``response_code``, ``grpc_response_status``,
  ``response_flags``, ``reporter``). ``istio_requests_total`` samples may also carry
  ``connection_security_policy`` (``mutual_tls`` / ``none``) and ``request_operation``; passes
  that do not care sum over them.
- ``istio_request_duration_milliseconds``: response time in ms for the edge the labels name, with a
  ``stat`` label: ``avg``, ``0.5``, ``0.95`` or ``0.99``.
- ``istio_request_bytes`` / ``istio_response_bytes``: throughput in bytes per second (the rate of
  ``_sum``) for the edge the labels name, with ``stat="rate"``.
- A Kiali extension's counters (``kiali_ext_requests_total``, ``kiali_ext_tcp_sent_total``,
  ``kiali_ext_tcp_received_total``): the per-second rate, with the labels Kiali's extensions appender
  groups by (``source_cluster``, ``source_namespace``, ``source_name``, ``source_is_root``,
  ``dest_cluster``, ``dest_namespace``, ``dest_name``, ``flags``, ``secure``; for requests
  ``protocol`` and ``status_code``) and ``extension``, the extension's name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from meshdesk.mesh.words import counted

# Istio's metric families the graph understands (and the extensions', EXTENSION_METRICS, below).
# Samples of any other name are skipped and counted.
REQUESTS = "istio_requests_total"
REQUEST_MESSAGES = "istio_request_messages_total"
RESPONSE_MESSAGES = "istio_response_messages_total"
TCP_SENT = "istio_tcp_sent_bytes_total"
TCP_RECEIVED = "istio_tcp_received_bytes_total"
TCP_OPENED = "istio_tcp_connections_opened_total"
TCP_CLOSED = "istio_tcp_connections_closed_total"
REQUEST_DURATION = "istio_request_duration_milliseconds"
REQUEST_BYTES = "istio_request_bytes"
RESPONSE_BYTES = "istio_response_bytes"

STAT_LABEL = "stat"

# A Kiali extension's traffic (Kiali's extensions appender): its own families, not Istio's labels.
EXT_REQUESTS = "kiali_ext_requests_total"
EXT_TCP_SENT = "kiali_ext_tcp_sent_total"
EXT_TCP_RECEIVED = "kiali_ext_tcp_received_total"
EXTENSION_METRICS = frozenset({EXT_REQUESTS, EXT_TCP_SENT, EXT_TCP_RECEIVED})
EXTENSION_LABEL = "extension"
# the TCP counters of an extension say what they count (Kiali reads "sent" from kiali_ext_tcp_sent_total,
# unlike Istio's, which are read the other way round)
EXT_TCP_METRICS: dict[str, tuple[str, ...]] = {
    "sent": (EXT_TCP_SENT,),
    "received": (EXT_TCP_RECEIVED,),
    "total": (EXT_TCP_RECEIVED, EXT_TCP_SENT),
    "none": (),
}


def extension_metrics(rate_http: str, rate_grpc: str, rate_tcp: str) -> list[str]:
    """The extension counters a graph with these rate options reads, in the order Kiali reads them:
    requests when HTTP or gRPC requests are graphed, then the TCP bytes the TCP rate names."""
    out = [EXT_REQUESTS] if rate_http == "requests" or rate_grpc == "requests" else []
    return out + list(EXT_TCP_METRICS.get(rate_tcp, ()))

KNOWN_METRICS = frozenset(
    {
        REQUESTS,
        REQUEST_MESSAGES,
        RESPONSE_MESSAGES,
        TCP_SENT,
        TCP_RECEIVED,
        TCP_OPENED,
        TCP_CLOSED,
        REQUEST_DURATION,
        REQUEST_BYTES,
        RESPONSE_BYTES,
    }
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One series: ``metric`` name, its ``labels`` and ``value`` (per-second rate, or ms/bytes for
    response-time/throughput samples, in which case ``labels`` carries a ``quantile`` or ``stat``)."""

    metric: str
    labels: Mapping[str, str]
    value: float

    def to_json(self) -> dict[str, object]:
        return {"metric": self.metric, "labels": dict(self.labels), "value": self.value}

    @staticmethod
    def from_json(obj: Mapping[str, object]) -> Sample:
        """Raises ValueError/TypeError/KeyError on malformed input (callers count and skip)."""
        metric = obj["metric"]
        labels = obj.get("labels") or {}
        if not isinstance(metric, str) or not isinstance(labels, Mapping):
            raise TypeError("sample needs a string 'metric' and an object 'labels'")
        raw = obj["value"]
        if isinstance(raw, bool):  # JSON true is no rate (float() would take it for 1.0)
            raise TypeError("sample value must be a number")
        try:
            value = float(raw)  # type: ignore[arg-type]
        except OverflowError:  # a whole number too large for a float
            raise ValueError("sample value out of range") from None
        # label values are texts (a whole number, e.g. a response code written by hand, reads as one);
        # null, a list or an object is a malformed series, not a workload named "['a']"
        if not all(type(v) is str or type(v) is int for v in labels.values()):
            raise TypeError("label values must be texts")
        return Sample(metric, {str(k): str(v) for k, v in labels.items()}, value)


@dataclass
class SampleWarnings:
    """Counts of samples skipped for a reason, reported once rather than crashing."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, n: int = 1) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + n

    def merge(self, other: SampleWarnings) -> None:
        for k, v in other.counts.items():
            self.add(k, v)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def messages(self) -> list[str]:
        # a warning Prometheus sent with its answer (a Thanos partial response) skipped no sample: it
        # was said as "skipped 4 samples: ..." (4 being the queries that carried it)
        return [reason if reason.startswith(PROMETHEUS_WARNED) else f"skipped {counted(n, 'sample')}: {reason}"
                for reason, n in sorted(self.counts.items())]


# the reason under which a warning Prometheus sent with its answer is kept in SampleWarnings
PROMETHEUS_WARNED = "results may be incomplete, Prometheus warned: "

_SKIPPED_SAMPLES = re.compile(r"skipped \d+ samples?: ")


def is_telemetry_warning(warning: str) -> bool:
    """Whether one of a graph's warnings is about its telemetry (samples skipped, or a warning Prometheus
    sent), not about its inventory (whose own start with "skipped a malformed VirtualService ..."): only
    those may be said to be what Prometheus, or a snapshot's samples, held."""
    return warning.startswith(PROMETHEUS_WARNED) or _SKIPPED_SAMPLES.match(warning) is not None


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
