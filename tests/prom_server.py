"""A real Prometheus for tests: Debian's ``/usr/bin/prometheus`` serving Istio-standard series that
``promtool tsdb create-blocks-from openmetrics`` backfilled.

Every counter grows linearly (``rate_per_s`` per second, one sample every ``STEP_S`` seconds), so
``rate(...[any window])`` at any time inside the data gives exactly ``rate_per_s``. The data spans
``PAST_S`` seconds before the moment the server was built to ``FUTURE_S`` seconds after it, so a
query at ``srv.query_time`` (a fixed instant) or at "now" (for the next ~hour) sees full windows.
Prometheus accepts blocks whose time range reaches into the future; nothing scrapes, so nothing
else lands in the head.

    srv = PrometheusServer(tmp_path, [Series("istio_requests_total", {...}, 10.0)])
    srv.start()          # backfills, starts, waits for /-/ready; raises PrometheusStartError
    srv.url              # http://127.0.0.1:<port> (https:// with tls=(certfile, keyfile): HTTPS only)
    srv.query_time       # unix seconds to pass as time= / GraphRequest.queryTime
    srv.stop()

``prometheus_server`` is a session-scoped pytest fixture with ``istio_dataset()`` loaded; it skips
when the binary is missing. ``istio_edge(...)`` builds the Istio label set of one edge.

``StubServer`` is the opposite: a tiny HTTP(S) server on 127.0.0.1 that answers whatever a test
tells it (HTML, errors, a hang) and records what clients sent (headers, paths, forms).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

PROMETHEUS = os.environ.get("MESHDESK_TEST_PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("MESHDESK_TEST_PROMTOOL", "/usr/bin/promtool")

STEP_S = 15
PAST_S = 75 * 60
FUTURE_S = 75 * 60
READY_TIMEOUT_S = 60.0

# Istio's default histogram buckets.
DURATION_BUCKETS: tuple[float, ...] = (
    0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
    1800000, 3600000,
)
BYTES_BUCKETS: tuple[float, ...] = (1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000)


def binaries_missing() -> str | None:
    """A reason to skip when Debian's prometheus/promtool are not installed, else None."""
    for path in (PROMETHEUS, PROMTOOL):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is not installed (apt-get install prometheus) - real-Prometheus tests skipped"
    return None


# one raw series: (metric, labels, value at ``now``, growth per second, seconds since birth or None)
Raw = tuple[str, dict[str, str], float, float, int | None]


@dataclass(frozen=True)
class Series:
    """A counter series growing ``rate_per_s`` per second."""

    metric: str
    labels: Mapping[str, str]
    rate_per_s: float
    start_value: float | None = None  # default: big enough that no rate() window clamps at zero
    born_s: int | None = None  # a series that appeared this many seconds before ``now``, counting from 0

    def expand(self) -> list[Raw]:
        """(metric, labels, value at t=now, growth per second, seconds since birth) for every raw series."""
        if self.born_s is not None:
            return [(self.metric, dict(self.labels), self.rate_per_s * self.born_s, self.rate_per_s, self.born_s)]
        start = self.start_value if self.start_value is not None else self.rate_per_s * (PAST_S + 3600)
        return [(self.metric, dict(self.labels), start, self.rate_per_s, None)]


@dataclass(frozen=True)
class Histogram:
    """An Istio histogram (``<metric>_bucket`` / ``_sum`` / ``_count``): ``rate_per_s`` observations per
    second, distributed as ``observations`` (value -> share of observations; shares sum to 1)."""

    metric: str  # base name, e.g. "istio_request_duration_milliseconds"
    labels: Mapping[str, str]
    rate_per_s: float
    observations: Mapping[float, float]
    buckets: Sequence[float] = DURATION_BUCKETS

    @property
    def mean(self) -> float:
        return sum(v * share for v, share in self.observations.items())

    def bucket_share(self, le: float) -> float:
        return sum(share for v, share in self.observations.items() if v <= le)

    def quantile(self, q: float) -> float:
        """What Prometheus's histogram_quantile gives for these buckets (linear inside a bucket)."""
        rank = q
        lower = 0.0
        prev_share = 0.0
        for le in self.buckets:
            share = self.bucket_share(le)
            if share >= rank - 1e-12 and share > prev_share:
                return lower + (le - lower) * (rank - prev_share) / (share - prev_share)
            lower, prev_share = le, share
        return self.buckets[-1]  # in +Inf: Prometheus answers the highest finite bound

    def expand(self) -> list[Raw]:
        out: list[Raw] = []
        base_count = self.rate_per_s * (PAST_S + 3600)
        for le in [*self.buckets, math.inf]:
            share = 1.0 if math.isinf(le) else self.bucket_share(le)
            labels = {**self.labels, "le": _format_le(le)}
            out.append((f"{self.metric}_bucket", labels, base_count * share, self.rate_per_s * share, None))
        out.append((f"{self.metric}_sum", dict(self.labels), base_count * self.mean, self.rate_per_s * self.mean,
                    None))
        out.append((f"{self.metric}_count", dict(self.labels), base_count, self.rate_per_s, None))
        return out


def _format_le(le: float) -> str:
    if math.isinf(le):
        return "+Inf"
    return str(int(le)) if float(le).is_integer() else repr(float(le))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrometheusStartError(RuntimeError):
    pass


@dataclass
class PrometheusServer:
    workdir: Path
    series: Sequence[Series | Histogram]
    now: int = field(default_factory=lambda: int(time.time()) // STEP_S * STEP_S)
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 0.0
    scrape_s: int = STEP_S  # seconds between samples, and the configured global scrape_interval
    phase_s: int = 0  # samples this many seconds after the query grid (real scrapes are not aligned)
    # (certfile, keyfile): serve HTTPS only (a web config file's tls_server_config, as a Prometheus
    # behind kube-rbac-proxy or with --web.config.file serves); ``url`` is then https://
    tls: tuple[str, str] | None = None
    # how long it keeps data (--storage.tsdb.retention.time), as /api/v1/status/runtimeinfo then tells it
    retention: str = "30d"
    # (username, password, bcrypt hash of it): a login wanted (a web config file's basic_auth_users)
    basic_auth: tuple[str, str, str] | None = None

    @property
    def query_time(self) -> int:
        """A fixed instant inside the data, on the sample grid: use it as ``time=`` / ``queryTime``."""
        return self.now

    def write_openmetrics(self, path: Path) -> int:
        """Write every sample as OpenMetrics text; returns the number of raw series."""
        raw: list[Raw] = []
        for s in self.series:
            raw.extend(s.expand())
        raw.sort(key=lambda r: r[0])  # a metric family's samples must be contiguous
        every = self.scrape_s
        t0 = self.now - PAST_S + self.phase_s
        steps = (PAST_S + FUTURE_S) // every
        with path.open("w", encoding="utf-8") as fh:
            for metric, labels, start, per_s, born in raw:
                lbl = ",".join(f'{k}="{_escape_label(v)}"' for k, v in sorted(labels.items()))
                prefix = f"{metric}{{{lbl}}} "
                first = 0 if born is None else (PAST_S - born) // every  # no sample before its birth
                # value at t=self.now is `start`; earlier samples are smaller
                fh.writelines(
                    f"{prefix}{start + per_s * (i * every - PAST_S + self.phase_s)!r} {t0 + i * every}\n"
                    for i in range(first, steps + 1)
                )
            fh.write("# EOF\n")
        return len(raw)

    def start(self) -> None:
        reason = binaries_missing()
        if reason:
            raise PrometheusStartError(reason)
        began = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        data = self.workdir / "data"
        if data.exists():
            shutil.rmtree(data)
        om = self.workdir / "series.om"
        self.write_openmetrics(om)
        backfill = subprocess.run(
            [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)],
            capture_output=True, text=True, timeout=300,
        )
        if backfill.returncode != 0:
            raise PrometheusStartError(f"promtool backfill failed: {backfill.stderr[-2000:]}")
        om.unlink()
        config = self.workdir / "prometheus.yml"
        config.write_text(f"global:\n  scrape_interval: {self.scrape_s}s\nscrape_configs: []\n", encoding="utf-8")
        web = []
        web_text = ""
        if self.tls is not None:
            web_text += f"tls_server_config:\n  cert_file: {self.tls[0]}\n  key_file: {self.tls[1]}\n"
        if self.basic_auth is not None:
            web_text += f"basic_auth_users:\n  {self.basic_auth[0]}: '{self.basic_auth[2]}'\n"
        if web_text:
            web_config = self.workdir / "web.yml"
            web_config.write_text(web_text, encoding="utf-8")
            web = [f"--web.config.file={web_config}"]
        log = (self.workdir / "prometheus.log").open("wb")
        for _attempt in range(3):
            port = free_port()
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={data}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    f"--storage.tsdb.retention.time={self.retention}",
                    "--log.level=warn",
                    *web,
                ],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
            )
            self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
            if self._wait_ready():
                self.startup_seconds = time.monotonic() - began
                return
            self.stop()  # port taken by someone else meanwhile, or a crash: try a fresh port
        tail = (self.workdir / "prometheus.log").read_text(errors="replace")[-2000:]
        raise PrometheusStartError(f"prometheus did not become ready: {tail}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(requests.RequestException):
                login = self.basic_auth[:2] if self.basic_auth is not None else None
                if requests.get(f"{self.url}/-/ready", timeout=2, verify=self.tls[0] if self.tls else True,
                                auth=login).status_code == 200:
                    return True
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=0.1)  # bounded pause between polls that ends early on exit
        return False

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> PrometheusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the standard Istio dataset -------------------------------------------------------------------

CLUSTER = "Kubernetes"


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str  # Deployment name, e.g. "reviews-v2"
    app: str
    version: str = "v1"


def istio_edge(
    src: Workload | None,
    dst: Workload | None,
    service: str,
    service_namespace: str,
    *,
    reporter: str = "destination",
    protocol: str = "http",
    code: str = "200",
    grpc_status: str = "",
    flags: str = "-",
    mtls: bool = True,
    cluster: str = CLUSTER,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The Istio standard labels of one series from ``src`` to ``dst`` via ``service`` (a short name in
    ``service_namespace``; a host with dots is used as is). ``src``/``dst`` None give "unknown"."""
    host = service if "." in service else f"{service}.{service_namespace}.svc.cluster.local"
    def side(prefix: str, w: Workload | None) -> dict[str, str]:
        if w is None:
            return {
                f"{prefix}_workload": "unknown", f"{prefix}_workload_namespace": "unknown",
                f"{prefix}_canonical_service": "unknown", f"{prefix}_canonical_revision": "unknown",
                f"{prefix}_app": "unknown", f"{prefix}_version": "unknown",
                f"{prefix}_cluster": "unknown" if prefix == "source" else cluster,
                f"{prefix}_principal": "unknown",
            }
        return {
            f"{prefix}_workload": w.name, f"{prefix}_workload_namespace": w.namespace,
            f"{prefix}_canonical_service": w.app, f"{prefix}_canonical_revision": w.version,
            f"{prefix}_app": w.app, f"{prefix}_version": w.version, f"{prefix}_cluster": cluster,
            f"{prefix}_principal": f"spiffe://cluster.local/ns/{w.namespace}/sa/{w.app}" if mtls else "unknown",
        }
    labels = {
        "reporter": reporter,
        **side("source", src),
        **side("destination", dst),
        "destination_service": host,
        "destination_service_name": service.split(".")[0],
        "destination_service_namespace": service_namespace,
        "request_protocol": protocol,
        "response_code": code,
        "grpc_response_status": grpc_status,
        "response_flags": flags,
        "connection_security_policy": ("mutual_tls" if mtls else "none") if reporter == "destination" else "unknown",
        # the pod labels Prometheus' kubernetes-pods job adds (Kiali filters app!="ztunnel")
        "app": (dst.app if reporter == "destination" and dst else src.app if src else "unknown"),
        "namespace": (dst.namespace if reporter == "destination" and dst else src.namespace if src else "unknown"),
    }
    if protocol == "tcp":
        for k in ("request_protocol", "response_code", "grpc_response_status"):
            labels.pop(k)
        labels["request_protocol"] = "tcp"
    if extra:
        labels.update(extra)
    return labels


INGRESS = Workload("istio-system", "istio-ingressgateway", "istio-ingressgateway", "latest")
PRODUCTPAGE = Workload("bookinfo", "productpage-v1", "productpage", "v1")
DETAILS = Workload("bookinfo", "details-v1", "details", "v1")
REVIEWS_V1 = Workload("bookinfo", "reviews-v1", "reviews", "v1")
REVIEWS_V2 = Workload("bookinfo", "reviews-v2", "reviews", "v2")
RATINGS = Workload("bookinfo", "ratings-v1", "ratings", "v1")
MONGODB = Workload("bookinfo", "mongodb-v1", "mongodb", "v1")
CUSTOMER = Workload("tutorial", "customer-v1", "customer", "v1")
PREFERENCE = Workload("tutorial", "preference-v1", "preference", "v1")
RECOMMENDATION = Workload("tutorial", "recommendation-v1", "recommendation", "v1")
# an Istio ambient namespace: no sidecars; a waypoint reports the requests, ztunnel the TCP bytes
WEB = Workload("mall", "web-v1", "web", "v1")
ORDERS = Workload("mall", "orders-v1", "orders", "v1")
MALL_WAYPOINT = Workload("mall", "waypoint", "waypoint", "latest")
# a namespace created three minutes before ``now``
FRESH_AGE_S = 180
STOREFRONT = Workload("fresh", "storefront-v1", "storefront", "v1")
API = Workload("fresh", "api-v1", "api", "v1")


def _both(src: Workload | None, dst: Workload, service: str, rate: float, *, source_too: bool = True,
          metric: str = "istio_requests_total", **kw: object) -> list[Series]:
    """The destination-reported series and (when the source has a proxy) the source-reported twin."""
    out = [Series(metric, istio_edge(src, dst, service, dst.namespace, reporter="destination", **kw), rate)]  # type: ignore[arg-type]
    if source_too and src is not None:
        out.append(Series(metric, istio_edge(src, dst, service, dst.namespace, reporter="source", **kw), rate))  # type: ignore[arg-type]
    return out


def istio_dataset() -> list[Series | Histogram]:
    """A small bookinfo-like mesh across ``bookinfo`` and ``tutorial`` (plus the ingress gateway in
    istio-system and an unknown caller). Rates per second, every edge reported by both proxies:

    - ingress -> productpage (http): 10.0 x 200 (mTLS)
    - productpage -> details (http): 8.0 x 200 + 2.0 x 503 with flags "UF" (mTLS), i.e. 20% 5xx
    - productpage -> reviews v1 / v2 (http): 3.0 / 5.0 x 200; the v2 edge is plaintext (policy none),
      and carries request_operation "GetReviews" for the operation-node tests
    - reviews-v2 -> ratings (grpc): 4.0 OK ("0") + 1.0 status 14 (Unavailable), request/response
      messages 6.0 / 12.0
    - ratings -> mongodb (tcp): 1000.0 bytes/s sent, 250.0 received
    - tutorial customer -> bookinfo productpage (http, cross-namespace): 2.0 x 200
    - customer -> preference -> recommendation (http): 4.0 and 4.0 x 200, 0.5 x 500 on the second
    - unknown -> productpage (destination reporter only): 1.0 x 200, not mTLS
    - ingress -> ratings that no workload served (source reporter only, destination workload
      "unknown"): 0.25 x 503 "UH"
    - productpage -> ratings (http): idle, rate 0.0 (only seen with includeIdleEdges)
    - durations (ms) on ingress->productpage: all 10 < v <= 25 (p50 17.5, p95 24.25, avg 20.0);
      on productpage->details: 90% at 5 ms, 10% at 200 ms (avg 24.5)
    - request/response bytes on ingress->productpage: 512 B / 2048 B per request
    - ambient namespace ``mall``: web -> orders (http) through the namespace's waypoint, reported by
      the waypoint only (reporter "waypoint"): 6.0 x 200 + 1.0 x 503; ztunnel's TCP bytes
      (app="ztunnel", istio_tcp_received_bytes_total): web -> waypoint 300.0 (source-reported,
      addressed to orders) and waypoint -> orders 300.0 (destination-reported)
    - namespace ``fresh``, created ``FRESH_AGE_S`` (180) seconds before ``now``: storefront -> api
      (http) 3.0 x 200, its series counting from 0 since then
    """
    data: list[Series | Histogram] = []
    data += _both(INGRESS, PRODUCTPAGE, "productpage", 10.0)
    data += _both(PRODUCTPAGE, DETAILS, "details", 8.0)
    data += _both(PRODUCTPAGE, DETAILS, "details", 2.0, code="503", flags="UF")
    data += _both(PRODUCTPAGE, REVIEWS_V1, "reviews", 3.0)
    data += _both(PRODUCTPAGE, REVIEWS_V2, "reviews", 5.0, mtls=False, extra={"request_operation": "GetReviews"})
    data += _both(REVIEWS_V2, RATINGS, "ratings", 4.0, protocol="grpc", grpc_status="0")
    data += _both(REVIEWS_V2, RATINGS, "ratings", 1.0, protocol="grpc", grpc_status="14")
    data += _both(REVIEWS_V2, RATINGS, "ratings", 6.0, protocol="grpc", metric="istio_request_messages_total")
    data += _both(REVIEWS_V2, RATINGS, "ratings", 12.0, protocol="grpc", metric="istio_response_messages_total")
    data += _both(RATINGS, MONGODB, "mongodb", 1000.0, protocol="tcp", metric="istio_tcp_sent_bytes_total")
    data += _both(RATINGS, MONGODB, "mongodb", 250.0, protocol="tcp", metric="istio_tcp_received_bytes_total")
    data += _both(CUSTOMER, PRODUCTPAGE, "productpage", 2.0)
    data += _both(CUSTOMER, PREFERENCE, "preference", 4.0)
    data += _both(PREFERENCE, RECOMMENDATION, "recommendation", 4.0)
    data += _both(PREFERENCE, RECOMMENDATION, "recommendation", 0.5, code="500")
    data += _both(None, PRODUCTPAGE, "productpage", 1.0, mtls=False)
    data.append(Series("istio_requests_total", istio_edge(INGRESS, None, "ratings", "bookinfo", reporter="source",
                                                          code="503", flags="UH"), 0.25))
    data += _both(PRODUCTPAGE, RATINGS, "ratings", 0.0)
    data.append(Series("istio_requests_total", istio_edge(WEB, ORDERS, "orders", "mall", reporter="waypoint"), 6.0))
    data.append(Series("istio_requests_total", istio_edge(WEB, ORDERS, "orders", "mall", reporter="waypoint",
                                                          code="503"), 1.0))
    ztunnel = {"app": "ztunnel", "namespace": "istio-system"}
    tcp_in = "istio_tcp_received_bytes_total"
    data.append(Series(tcp_in, istio_edge(WEB, MALL_WAYPOINT, "orders", "mall", reporter="source", protocol="tcp",
                                          extra=ztunnel), 300.0))
    data.append(Series(tcp_in, istio_edge(MALL_WAYPOINT, ORDERS, "orders", "mall", reporter="destination",
                                          protocol="tcp", extra=ztunnel), 300.0))
    data += [Series("istio_requests_total", istio_edge(STOREFRONT, API, "api", "fresh", reporter=reporter), 3.0,
                    born_s=FRESH_AGE_S) for reporter in ("destination", "source")]
    for reporter in ("destination", "source"):
        ip = istio_edge(INGRESS, PRODUCTPAGE, "productpage", "bookinfo", reporter=reporter)
        data.append(Histogram("istio_request_duration_milliseconds", ip, 10.0, {20.0: 1.0}))
        data.append(Histogram("istio_request_bytes", ip, 10.0, {512.0: 1.0}, BYTES_BUCKETS))
        data.append(Histogram("istio_response_bytes", ip, 10.0, {2048.0: 1.0}, BYTES_BUCKETS))
        pd = istio_edge(PRODUCTPAGE, DETAILS, "details", "bookinfo", reporter=reporter)
        data.append(Histogram("istio_request_duration_milliseconds", pd, 10.0, {5.0: 0.9, 200.0: 0.1}))
    return data


_shared: PrometheusServer | None = None
_shared_lock = threading.Lock()


def shared_istio_server(tmp_path_factory: pytest.TempPathFactory) -> PrometheusServer:
    """The one Prometheus with ``istio_dataset()`` of this test process, started on first use.

    A session fixture imported into several test modules gets one instance per module in pytest,
    so the instance lives here and every copy of ``prometheus_server`` hands out the same one."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.process is None or _shared.process.poll() is not None:
            srv = PrometheusServer(tmp_path_factory.mktemp("prometheus"), istio_dataset())
            srv.start()
            atexit.register(srv.stop)
            _shared = srv
        return _shared


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """One real Prometheus with ``istio_dataset()`` for the whole test session (skips when the
    binary is missing). Import it into a test module, or into conftest.py."""
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    srv = shared_istio_server(tmp_path_factory)
    try:
        yield srv
    finally:
        srv.stop()  # the session is over; stopping twice is harmless


# --- a stub HTTP server for client tests ------------------------------------------------------------


@dataclass
class StubRequest:
    method: str
    path: str  # without the query string
    headers: dict[str, str]
    params: dict[str, str]  # query string and form body together


HANG = object()  # a response that never comes (until the server stops): for timeout tests


@dataclass
class StubResponse:
    status: int = 200
    body: str | bytes | Mapping[str, object] | list[object] = ""
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


Responder = Callable[[StubRequest], "StubResponse | object"]


def prometheus_vector(result: Sequence[tuple[Mapping[str, str], str]], warnings: Sequence[str] = ()) -> dict[str, object]:
    """A Prometheus ``/api/v1/query`` success body with ``(labels, value string)`` series."""
    body: dict[str, object] = {
        "status": "success",
        "data": {"resultType": "vector",
                 "result": [{"metric": dict(m), "value": [1700000000.0, v]} for m, v in result]},
    }
    if warnings:
        body["warnings"] = list(warnings)
    return body


class StubServer:
    """``StubServer(responder)`` answers each request with ``responder(request)``: a ``StubResponse``
    or ``HANG``. ``tls=(certfile, keyfile)`` serves HTTPS. Use as a context manager."""

    def __init__(self, responder: Responder, *, tls: tuple[str, str] | None = None) -> None:
        self.responder = responder
        self.requests: list[StubRequest] = []
        self._release = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
                pass

            def _handle(self) -> None:
                split = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    raw = self.rfile.read(length).decode("utf-8", "replace")
                    params.update({k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})
                req = StubRequest(self.command, split.path, dict(self.headers.items()), params)
                stub.requests.append(req)
                answer = stub.responder(req)
                if answer is HANG:
                    stub._release.wait(60)
                    return
                assert isinstance(answer, StubResponse)
                body = answer.body
                ctype = answer.content_type
                if isinstance(body, Mapping | list):
                    data = json.dumps(body).encode()
                    ctype = ctype or "application/json"
                else:
                    data = body.encode() if isinstance(body, str) else body
                    ctype = ctype or "text/plain; charset=utf-8"
                self.send_response(answer.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.port = int(self._server.server_address[1])
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="stub-http", daemon=True)

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def self_signed_cert(directory: Path, host: str = "127.0.0.1") -> tuple[str, str] | None:
    """(certfile, keyfile) of a fresh self-signed certificate for ``host`` made by openssl, or None
    when openssl is missing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=meshdesk-test",
         "-addext", f"subjectAltName=IP:{host},DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return str(cert), str(key)
