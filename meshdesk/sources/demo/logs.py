"""Synthetic container logs for the demo cluster: Envoy access-log lines for ``istio-proxy`` and
short application lines for the other containers, a deterministic function of pod, container and
time (one line every few seconds), so tailing and following behave like a real cluster's logs."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources.base import NotFound, SourceError
from meshdesk.sources.demo.mesh import CALLS
from meshdesk.sources.logs import LogLine, parse_timestamp

if TYPE_CHECKING:
    from meshdesk.sources.demo import DemoCluster

PROXY_EVERY_S = 2.0
APP_EVERY_S = 5.0
DEFAULT_WINDOW_S = 600

HEALTH_CHECK = ("GET", "/healthz")
_BY_OPERATION = {op.label: (op.method, op.path) for call in CALLS for op in call.operations}


def _taken_at(taken: object) -> float:
    """When a demo snapshot was taken (an RFC 3339 time; a number in older ones), else now."""
    when = parse_timestamp(taken) if isinstance(taken, str) else \
        float(taken) if isinstance(taken, int | float) and not isinstance(taken, bool) else math.nan
    return when if math.isfinite(when) and when > 0 else time.time()


def served_requests(samples: Iterable[Sample], namespace: str, app: str) -> tuple[tuple[str, str], ...]:
    """The (method, path) requests a demo app's log names: the operations its telemetry shows it
    serving (so they follow routing changes), then the kubelet's health checks. A database or a pure
    client logs only health checks."""
    served = {_BY_OPERATION[op] for s in samples
              if s.labels.get("destination_canonical_service") == app
              and s.labels.get("destination_workload_namespace") == namespace
              and (op := s.labels.get("request_operation")) in _BY_OPERATION}
    return (*sorted(served), HEALTH_CHECK)


def _unit(*parts: object) -> float:
    key = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2.0**64


def _stamp(t: float) -> str:
    whole = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((t - whole) * 1e6):06d}000Z"


def _line(pod: str, container: str, t: float, requests: tuple[tuple[str, str], ...], ip: str = "",
          app: str = "") -> str:
    """One line of the container's log at ``t``; the proxy's is an access log entry in Istio's text format
    of a request into the pod (to its own address ``ip``, for its app's service)."""
    u = _unit(pod, container, t)
    method, path = requests[int(u * len(requests))]
    ms = 3 + int(_unit(pod, container, t, "ms") * 120)
    if container == "istio-proxy":
        code = 503 if u > 0.97 else 404 if u > 0.95 else 200
        flags = "UF" if code == 503 else "-"
        req = hashlib.blake2b(f"{pod}{t}".encode(), digest_size=8).hexdigest()
        return (f'[{_stamp(t)[:23]}Z] "{method} {path} HTTP/1.1" {code} {flags} via_upstream - "-" 0 '
                f'{int(200 + u * 4000)} {ms} {max(1, ms - 2)} "-" "Go-http-client/1.1" "{req}" '
                f'"{app or pod.rsplit("-", 2)[0]}:9080" "{ip or "127.0.0.1"}:9080" inbound|9080||')
    level = "WARN" if u > 0.96 else "INFO"
    return f"{level} [{container}] handled {method} {path} in {ms} ms"


def pod_logs(demo: DemoCluster, namespace: str, pod: str, container: str, tail_lines: int | None = None,
             since_seconds: int | None = None, since_time: str | None = None, limit_bytes: int | None = None,
             *, now: float | None = None, previous: bool = False) -> list[LogLine]:
    """The demo's log of ``container`` in ``pod``: lines of the last ``since_seconds`` or from
    ``since_time`` on (default: ten minutes), the last ``tail_lines`` of them when given. Unknown pods
    and containers are NotFound. (``limit_bytes`` is accepted: the demo's lines are few.)"""
    snap = demo.snapshot(GraphRequest(namespaces=(namespace,)), with_inventory=True)
    inventory = snap.inventory
    found = None
    for w in inventory.workloads if inventory else []:
        for p in w.pods:
            if p.name == pod and p.namespace == namespace:
                found = p
    if found is None:
        raise NotFound(f'pod "{pod}" not found in namespace {namespace} of the demo cluster')
    names = [c.name for c in found.containers + found.init_containers]
    if container not in names:
        raise NotFound(f"container {container} is not valid for pod {pod}", hint=f"choose one of: {', '.join(names)}")
    if previous:  # the demo keeps no run before a restart
        restarted = any(c.name == container and c.restarts for c in found.containers + found.init_containers)
        raise SourceError(f"{container} in {namespace}/{pod} "
                          + ("restarted, but the demo cluster keeps no previous run's log" if restarted else
                             "has not restarted: there is no previous run's log"))
    current = now if now is not None else _taken_at(snap.meta.get("takenAt"))
    every = PROXY_EVERY_S if container == "istio-proxy" else APP_EVERY_S
    window: float = since_seconds if since_seconds is not None else DEFAULT_WINDOW_S
    if since_time is not None:
        window = max(0.0, current - parse_timestamp(since_time))
    first = math.ceil((current - window) / every)
    last = math.floor(current / every)
    count = last - first + 1
    if tail_lines is not None:
        first = max(first, last - int(tail_lines) + 1) if tail_lines > 0 else last + 1
    requests = served_requests(snap.samples, namespace, found.labels.get("app", ""))
    app = found.labels.get("app", "")
    return [LogLine(_stamp(k * every), _line(pod, container, k * every, requests, found.ip, app))
            for k in range(first, last + 1)] \
        if count > 0 else []


class DemoPodLogs:
    """A ``LogSource`` over a ``DemoCluster``."""

    def __init__(self, demo: DemoCluster) -> None:
        self.demo = demo

    def pod_logs(self, namespace: str, pod: str, container: str, tail_lines: int | None = None,
                 since_seconds: int | None = None, since_time: str | None = None,
                 limit_bytes: int | None = None, previous: bool = False) -> list[LogLine]:
        return pod_logs(self.demo, namespace, pod, container, tail_lines, since_seconds, since_time, limit_bytes,
                        previous=previous)
