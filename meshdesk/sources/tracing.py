"""A tracing backend's traces over Jaeger's HTTP query API (``JaegerClient``; Tempo serves it too, through
its Jaeger query frontend) or Grafana Tempo's own HTTP API (``TempoClient``: a TraceQL search for the list, a
trace in OTLP JSON when it is opened), asked the way Kiali asks them.

``url`` is where the query API lives, with any path prefix: ``http://jaeger-query:16686``, Istio's addon
under its base path (``http://tracing/jaeger``), ``http://tempo-query-frontend:3200`` or the API server's
service proxy to one. Jaeger's three endpoints are ``/api/traces`` (a service's traces in a time window,
start and end in microseconds, with ``limit``, ``minDuration`` and ``tags``), ``/api/traces/<id>`` (one
trace whole) and ``/api/services`` (which services the backend knows: to say "the tracing backend has no
traces of reviews.shop" instead of an empty list, to tell whether it names services with their
namespace, and to check it answers). Tempo's are ``/api/search``, ``/api/traces/<id>``, its
``service.name`` tag values and ``/api/echo``.

The transport (credentials, TLS, same-origin redirects, secrets kept out of messages) is the one the
Prometheus client uses (``httpapi``); failures are :class:`TracingError` subclasses.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time as _time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from meshdesk.mesh.otlp import parse_otlp, parse_tempo_search, traceql
from meshdesk.mesh.traces import (
    TRACING_API_JAEGER,
    TRACING_API_TEMPO,
    Trace,
    TraceQuery,
    TraceSet,
    for_target,
    parse_jaeger,
)
from meshdesk.sources.base import (
    Cancelled,
    TracingError,
    TracingForbidden,
    TracingHTTPError,
    TracingMalformed,
    TracingQueryError,
    TracingTimeout,
    TracingUnauthorized,
    TracingUnreachable,
)
from meshdesk.sources.httpapi import URL_SHAPE, HTTPAPIClient, is_web_page, safe_url, url_problem

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024 * 1024
# how long the list of services the backend knows is trusted before it is asked again
SERVICES_TTL_S = 60.0
_TRACE_ID = re.compile(r"^[0-9a-fA-F]{1,32}$")

# what Tempo's search is asked to answer of each span that matched: what the traces list, the narrowing to a
# workload or service and a span's failure read (the span's attribute, else its resource's: ``.key``)
SEARCH_SELECTS = (
    "status", "kind", "name", ".error", ".http.status_code", ".http.response.status_code", ".grpc.status_code",
    ".rpc.grpc.status_code", ".response_flags", ".http.method", ".http.request.method", ".upstream_cluster",
    ".node_id", ".component", ".istio.namespace", ".istio.canonical_service", ".istio.canonical_revision",
    ".istio.source_workload", ".istio.source_namespace", ".istio.source_canonical_service",
    ".istio.destination_workload", ".istio.destination_namespace", ".istio.destination_canonical_service",
    "resource.hostname",
)

# Tempo's default query_frontend.search.max_duration: a longer search window is refused (HTTP 400)
TEMPO_MAX_SEARCH_S = 168 * 3600
# Tempo's words when it refuses one: "range specified by start and end exceeds 168h0m0s. received ..."
_EXCEEDS = re.compile(r"exceeds\s+((?:[0-9]+(?:\.[0-9]+)?(?:h|ms|m|s|us|µs|ns))+)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


# the most spans per span set meshdesk asks for, whatever Tempo allows (its max_spans_per_span_set, 0 for no limit)
SPSS_CAP = 1000
# Tempo's words when it refuses more: "spans per span set exceeds 100. received 200"
_SPSS_EXCEEDS = re.compile(r"spans per span set exceeds\s+([0-9]+)")


def _exceeded_spss(said: str) -> int | None:
    """The most spans per span set Tempo's refusal names, or None."""
    m = _SPSS_EXCEEDS.search(said or "")
    return int(m.group(1)) if m else None


def _exceeded_limit(said: str) -> int | None:
    """The longest search window, in whole seconds, that Tempo's refusal names (Go's duration), or None."""
    m = _EXCEEDS.search(said or "")
    if not m:
        return None
    seconds = sum(float(n) * _GO_UNITS[u] for n, u in re.findall(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)", m.group(1)))
    return int(seconds) if seconds >= 1 else None


def _span_words(seconds: float) -> str:
    """A time span in words: 7 days, 6 hours, 1 hour, 90 minutes, 45 seconds."""
    whole = round(seconds)
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if whole >= size and whole % size == 0:
            n = whole // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    if whole >= 3600:
        return f"{whole / 3600:.1f} hours"
    if whole >= 60:
        return f"{round(whole / 60)} minutes"
    return f"{whole} second{'s' if whole != 1 else ''}"


# how a user gives the tracing backend's address, in the app and on the command line
GIVE_TRACING_URL = "give its URL (in Settings for this context, or with meshdesk traces --tracing URL)"


class JaegerClient(HTTPAPIClient):
    """A :class:`~meshdesk.mesh.traces.TraceSource` over Jaeger's query API."""

    product = "the tracing backend"
    tls_hint = ("set a CA bundle, or allow insecure TLS, for the tracing address: in Settings for this context, "
                "or with meshdesk traces --tracing-ca FILE or --tracing-insecure")
    timeout_hint = "it may be overloaded; try a shorter time range or a lower limit"
    redirect_hint = "if that address is the right one, set it as the tracing URL"
    unreachable_error = TracingUnreachable
    timeout_error = TracingTimeout
    # past MAX_SPANS spans (the core's bound) an answer is not read further anyway; this keeps a runaway
    # one (a trace of millions of spans) from filling the memory before it is parsed
    max_body_bytes = MAX_BODY_BYTES
    too_large_hint = "ask for fewer traces: a lower limit or a shorter time window"

    def __init__(self, url: str, *, session: requests.Session | None = None, token: str | None = None,
                 basic_auth: tuple[str, str] | None = None, headers: Mapping[str, str] | None = None,
                 ca_bundle: str | None = None, insecure: bool = False, timeout: float = 30.0,
                 clock: Callable[[], float] = _time.monotonic, max_body_bytes: int | None = None) -> None:
        if max_body_bytes is not None:
            self.max_body_bytes = max_body_bytes
        super().__init__(url, session=session, token=token, basic_auth=basic_auth, headers=headers,
                         ca_bundle=ca_bundle, insecure=insecure, timeout=timeout)
        self._clock = clock
        self._services: tuple[float, frozenset[str]] | None = None

    def _check_url(self, url: str) -> None:
        problem = url_problem(url) if url else f"it must look like {URL_SHAPE}"
        if problem:
            raise ValueError(f"The tracing URL {safe_url(url)!r} cannot be used: {problem}")

    def __enter__(self) -> JaegerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- API -----------------------------------------------------------------------------------

    def services(self) -> list[str]:
        """The service names the backend holds traces of (``reviews.shop`` ...), sorted."""
        doc = self._api("/api/services", None)
        data = doc.get("data")
        names = sorted({str(n) for n in data if isinstance(n, str)}) if isinstance(data, list) else []
        self._services = (self._clock(), frozenset(names))
        return names

    def ping(self) -> float:
        """Ask for the services: proves the query API answers. The round trip in seconds."""
        began = _time.monotonic()
        self.services()
        return _time.monotonic() - began

    def _known(self, fresh: bool = False) -> frozenset[str]:
        if fresh or self._services is None or self._clock() - self._services[0] > SERVICES_TTL_S:
            self.services()
        assert self._services is not None
        return self._services[1]

    def service_for(self, query: TraceQuery) -> tuple[str, bool | None]:
        """The backend's name for the query's app (``<app>.<namespace>``, or the bare app when the backend
        knows it so: a tracer set up without namespaces), and whether the backend lists it (None: its list
        could not be read, as some proxies and older Tempo versions do not serve it). The list is asked
        again once before the app is said unlisted (its first trace may be new)."""
        with_ns, bare = query.target.jaeger_service(True), query.target.jaeger_service(False)
        try:
            for fresh in (False, True):
                known = self._known(fresh)
                if with_ns in known:
                    return with_ns, True
                if bare in known:
                    return bare, True
                if self._services is not None and self._clock() - self._services[0] < 1.0:
                    break  # just asked: asking again tells nothing new
        except (TracingHTTPError, TracingMalformed) as e:
            if isinstance(e, TracingUnauthorized | TracingForbidden):
                raise
            log.info("the tracing backend at %s did not list its services (%s); asking for %s's traces anyway",
                     self._display_url, e.message, with_ns)
            return with_ns, None
        return with_ns, False

    def find_traces(self, query: TraceQuery, cancelled: Callable[[], bool] | None = None) -> TraceSet:
        """The target's traces in the query's window, newest first: the traces of its app the backend
        returns (at most ``limit``), narrowed to the workload's or service's own as Kiali does. When none
        came back for an app the backend does not list, ``errors`` says the backend has none of it."""
        if cancelled is not None and cancelled():
            raise Cancelled("Cancelled")
        service, known = self.service_for(query)
        if cancelled is not None and cancelled():
            raise Cancelled("Cancelled")
        params = {"service": service, "start": str(int(query.start * 1_000_000)),
                  "end": str(int(query.end * 1_000_000)), "limit": str(max(1, int(query.limit)))}
        if query.min_duration_ms > 0:
            params["minDuration"] = f"{int(query.min_duration_ms * 1000)}us"
        tags = dict(query.tags)
        if query.errors_only:
            tags["error"] = "true"
        if tags:
            params["tags"] = json.dumps(tags)
        doc = self._api("/api/traces", params)
        if cancelled is not None and cancelled():
            raise Cancelled("Cancelled")
        found = parse_jaeger(doc)
        found.service = service
        found.limit = query.limit
        found.errors = [self._redact(e) for e in found.errors]
        if not found.traces and known is False:
            found.notes.append(f"The tracing backend has no traces of {service} at all: is tracing enabled in "
                                "the mesh (a sampling rate above 0), and has the app been sent requests?")
        if found.skipped:
            log.info("the tracing backend at %s: %d spans or traces could not be read", self._display_url,
                     found.skipped)
        return for_target(found, query.target)

    def trace(self, trace_id: str) -> Trace | None:
        """One trace whole; None when the backend has no trace of that id (or it is no trace id)."""
        trace_id = trace_id.strip()
        if not _TRACE_ID.match(trace_id):
            return None
        try:
            doc = self._api(f"/api/traces/{quote(trace_id, safe='')}", None)
        except TracingHTTPError as e:
            if e.status == 404:
                return None
            raise
        found = parse_jaeger(doc)
        for t in found.traces:
            if t.trace_id.lstrip("0").lower() == trace_id.lstrip("0").lower():
                return t
        return found.traces[0] if found.traces else None

    # --- answers ---------------------------------------------------------------------------------

    def _not_json(self, resp: requests.Response, excerpt: str, sent: list[str]) -> str:
        """What answered instead of the API's JSON, in words: a web page by its title (its HTML was quoted,
        and a login page carries form tokens in its first lines), else the start of what it sent."""
        if is_web_page(resp, excerpt):
            return f"a web page{self._page_named(resp, sent)}"
        return "something else" + (f": {excerpt[:80]}" if excerpt else "")

    def _api(self, path: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
        return self._decode(self._fetch(path, params))

    def _decode(self, resp: requests.Response) -> Mapping[str, Any]:
        where = self._display_url
        status = resp.status_code
        sent, excerpt, body, too_deep = self._read_body(resp)
        if status == 401:
            raise TracingUnauthorized(f"The tracing backend at {where} rejected the credentials (HTTP 401)",
                                      status=status, body=excerpt,
                                      hint="check the tracing token or user name and password in Settings for "
                                           "this context, or log in to the cluster again")
        if status == 403:
            raise TracingForbidden(f"The tracing backend at {where} answered forbidden (HTTP 403)",
                                   status=status, body=excerpt,
                                   hint="your account may not use the service proxy to it, or these "
                                        "credentials may not read traces")
        backend_errors = _jaeger_errors(body)
        if status >= 400 and backend_errors:
            said = self._redact("; ".join(backend_errors), sent)[:300]
            if status == 404:
                raise TracingHTTPError(f"The tracing backend at {where} has no such thing: {said}",
                                       status=status, body=excerpt)
            if status >= 500:  # its storage (Elasticsearch, Cassandra, Tempo's backend) failed, not the query
                raise TracingHTTPError(f"The tracing backend at {where} failed (HTTP {status}): {said}",
                                       status=status, body=excerpt, hint="it may be overloaded, or its storage "
                                                                         "unavailable; try again later")
            raise TracingQueryError(f"The tracing backend refused the query (HTTP {status}): {said}",
                                    status=status, body=excerpt,
                                    hint="check the time range, minimum duration and limit")
        if status >= 400:
            hint = ("check the tracing address and its path prefix (Istio's Jaeger answers under /jaeger)"
                    if status == 404 else "")
            raise TracingHTTPError(f"The tracing backend at {where} answered HTTP {status}"
                                   + (f": {excerpt}" if excerpt else ""), status=status, body=excerpt, hint=hint)
        if too_deep:
            raise TracingMalformed(f"{where} sent JSON nested too deeply to be Jaeger's query API answer",
                                   hint="check the tracing address and its path prefix")
        if not isinstance(body, dict):
            raise TracingMalformed(
                f"{where} answered with {self._not_json(resp, excerpt, sent)} instead of Jaeger's query API JSON",
                hint="check the tracing address and its path prefix: it is the Jaeger query service (port "
                     "16686), or Tempo's query frontend, with /jaeger after it for Istio's addon")
        if "data" not in body:
            raise TracingMalformed(f"{where} sent JSON that is not Jaeger's query API answer: {excerpt[:80]}",
                                   hint="check the tracing address and its path prefix")
        return body


class TempoClient(JaegerClient):
    """A :class:`~meshdesk.mesh.traces.TraceSource` over Grafana Tempo's own API (its query frontend, port
    3200), as Kiali's ``tempo`` provider asks it: a search in TraceQL (``/api/search``, start and end in
    unix seconds) whose answer, the spans that matched with the attributes selected, is the list; a trace is
    read whole (``/api/traces/<id>``, OTLP JSON, into the same model as Jaeger's) when it is opened. Tempo's service list is the values of the ``service.name`` resource attribute."""

    product = "Tempo"
    timeout_hint = "it may be overloaded; try a shorter time range or a lower limit"
    redirect_hint = "if that address is the right one, set it as the tracing URL"
    # spans per span set a search returns: the target's spans that matched, which say whether a trace is a
    # workload's or a service's and whether it failed. An app's proxies report a few spans per request
    # (Kiali asks 10); a search whose span sets come back full is asked again for more (see _search)
    spans_per_span_set = 20
    # the most asked for then: our own bound, or Tempo's max_spans_per_span_set (100 by default, 0 there for
    # no limit) once its refusal named it
    max_spans_per_span_set = SPSS_CAP
    # whether Tempo's TraceQL has select() (2.2 and later); a Tempo 2.0 or 2.1 refuses it as a parse error,
    # and is asked without it from then on
    selects = True
    # the longest window one search may span: Tempo's query_frontend.search.max_duration, 168 h unless its
    # operator set another (then learnt from its refusal)
    max_search_s = TEMPO_MAX_SEARCH_S

    def services(self) -> list[str]:
        names: set[str] = set()
        try:
            doc = self._api("/api/v2/search/tag/resource.service.name/values", None, what="tagValues")
        except TracingHTTPError as e:
            if e.status != 404 or isinstance(e, TracingQueryError):
                raise
            # Tempo before 2.0 has no v2 tag API
            doc = self._api("/api/search/tag/service.name/values", None, what="tagValues")
        for item in doc.get("tagValues") or []:
            value = item.get("value") if isinstance(item, dict) else item
            if isinstance(value, str) and value:
                names.add(value)
        listed = sorted(names)
        self._services = (self._clock(), frozenset(listed))
        return listed

    def ping(self) -> float:
        """Tempo's ``/api/echo`` (it answers "echo"), then its service list: the API answers and reads."""
        began = _time.monotonic()
        self.echo()
        return _time.monotonic() - began

    def echo(self) -> None:
        resp = self._fetch("/api/echo", None)
        sent, excerpt, _body, _deep = self._read_body(resp)
        if resp.status_code >= 400:
            self._decode_tempo(resp, "echo")  # its words for the failure
        if (resp.text or "").strip() != "echo":
            said = (f": it answered with a web page{self._page_named(resp, sent)}" if is_web_page(resp, excerpt)
                    else f": {excerpt[:80]}" if excerpt else "")
            raise TracingMalformed(f"{self._display_url} did not answer as Tempo's API does at /api/echo{said}",
                                   hint="check the tracing address: Tempo's query frontend (port 3200), "
                                        "without a path, or choose the Jaeger API for this context")

    def search_params(self, service: str, query: TraceQuery) -> dict[str, str]:
        """What ``/api/search`` is sent for the query: the TraceQL with the attributes the list needs
        selected, the window in whole seconds (widened to cover it, and cut to the longest Tempo
        searches, its end kept), the limit and the spans per span set."""
        end = math.ceil(query.end)
        start = max(math.floor(query.start), end - self.max_search_s)
        selected = f" | select({', '.join(SEARCH_SELECTS)})" if self.selects else ""
        return {"q": f"{traceql(service, query)}{selected}",
                "start": str(start), "end": str(max(end, start + 1)),
                "limit": str(max(1, int(query.limit))), "spss": str(self.spans_per_span_set)}

    def _ask(self, service: str, query: TraceQuery) -> tuple[Mapping[str, Any], dict[str, str]]:
        """One search answered, and what it was sent: a refusal naming a limit of Tempo's (the longest
        window, the most spans per span set) is kept for the next searches and the search asked again
        within it."""
        attempt = 0
        while True:
            params = self.search_params(service, query)
            try:
                return self._api("/api/search", params, what="traces"), params
            except TracingQueryError as e:
                said = e.body or e.message
                window, spss = _exceeded_limit(said), _exceeded_spss(said)
                attempt += 1
                if self.selects and "parse error" in said.lower():
                    # a Tempo before 2.2: its TraceQL has no select(); the same search without it tells
                    # whether that was what it could not parse
                    self.selects = False
                    try:
                        return self._ask(service, query)
                    except TracingQueryError:
                        self.selects = True
                        raise e from None
                if attempt < 3 and window is not None and 0 < window < self.max_search_s:
                    self.max_search_s = window
                elif attempt < 3 and spss is not None and 0 < spss < self.spans_per_span_set:
                    self.max_spans_per_span_set = spss
                    self.spans_per_span_set = spss
                else:
                    raise

    def _search(self, service: str, query: TraceQuery) -> tuple[TraceSet, str]:
        """Tempo's search answer, and what to say when it covers less than the window asked: Tempo refuses
        a window longer than its ``max_duration`` (168 h unless configured otherwise), so the most recent
        part it searches is asked; when it refuses a shorter one, the limit its answer names is kept for
        the next searches and the search asked again once.

        A span set holds at most ``spss`` of the spans that matched: when one came back full, the traces
        of this app have more, and a workload's or a service's spans, or a failed one, may be among those
        left out. The search is asked again once for as many as the fullest had (up to Tempo's
        ``max_spans_per_span_set``, learnt from its refusal), and later searches ask that many at once."""
        doc, params = self._ask(service, query)
        found = parse_tempo_search(doc, service)
        fullest = max((t.outline.matched for t in found.traces if t.outline is not None
                       and t.outline.matched > len(t.spans)), default=0)
        wanted = min(fullest, self.max_spans_per_span_set)
        if wanted > self.spans_per_span_set and self.selects:
            self.spans_per_span_set = wanted
            doc, params = self._ask(service, query)
            found = parse_tempo_search(doc, service)
        asked = query.end - query.start
        searched = int(params["end"]) - int(params["start"])
        if asked <= searched + 1:  # (the window is widened to whole seconds)
            return found, ""
        return found, (f"Tempo searches at most {_span_words(self.max_search_s)} at once: showing the last "
                       f"{_span_words(searched)} of the {_span_words(asked)} asked")

    def find_traces(self, query: TraceQuery, cancelled: Callable[[], bool] | None = None) -> TraceSet:
        """As :meth:`JaegerClient.find_traces`, from Tempo's search answer alone (one request; two when a
        span set came back full): each trace outlined (start, duration, root) with the target's spans that
        matched, up to ``spans_per_span_set`` of them; :meth:`trace` reads one whole when it is opened. A
        Tempo without select() (before 2.2) has each trace read whole at once (see :meth:`_read_whole`)."""
        def stop() -> None:
            if cancelled is not None and cancelled():
                raise Cancelled("Cancelled")

        stop()
        service, known = self.service_for(query)
        stop()
        found, shortened = self._search(service, query)
        stop()
        if not self.selects:
            self._read_whole(found, stop)
        cut = sum(1 for t in found.traces if t.outline is not None and t.outline.matched > len(t.spans))
        if cut:
            found.notes.append(
                f"Tempo answers at most {self.spans_per_span_set} of a trace's spans per search: "
                f"{cut} trace{'s' if cut != 1 else ''} here had more of {service}'s, so {'their' if cut != 1 else 'its'} "
                "errors are counted from those, and a workload's or service's trace among the rest may be missing; "
                "a trace opened is read whole")
        if shortened:
            found.notes.append(shortened + ".")
        found.service = service
        found.limit = query.limit
        if not found.traces and known is False:
            # Tempo lists the service names of its recent traces only (those its ingesters hold): "none at
            # all" may not be so for older ones
            found.notes.append(f"Tempo has no recent traces of {service}: is tracing enabled in the mesh (a "
                               "sampling rate above 0), and has the app been sent requests lately?")
        if found.skipped:
            log.info("Tempo at %s: %d traces or spans of its search answer could not be read", self._display_url,
                     found.skipped)
        return for_target(found, query.target)

    def _read_whole(self, found: TraceSet, stop: Callable[[], None]) -> None:
        """A Tempo without select() answers a search with the spans that matched but none of their
        attributes but those compared: not whose pod a span is of, nor whether it failed. Each trace listed
        is read whole then (one request each, as Kiali did before Tempo 2.2), so the list says what it
        says of Jaeger's; one gone meanwhile is kept as the search outlined it."""
        whole: list[Trace] = []
        for t in found.traces:
            stop()
            doc = self._trace_document(t.trace_id.lower().rjust(32, "0"))
            trace = parse_otlp(doc)[0] if doc is not None else None
            whole.append(trace if trace is not None else t)
        found.traces = whole
        if whole:
            found.notes.append(f"This Tempo's TraceQL has no select() (it is older than 2.2): each of the "
                               f"{len(whole)} traces listed was read whole, one request each")

    def _trace_document(self, trace_id: str, cancelled: Callable[[], bool] | None = None) -> Mapping[str, Any] | None:
        if cancelled is not None and cancelled():
            raise Cancelled("Cancelled")
        try:
            return self._api(f"/api/traces/{quote(trace_id, safe='')}", None, what="trace")
        except TracingHTTPError as e:
            if e.status == 404 and not isinstance(e, TracingQueryError):
                return None
            raise

    def trace(self, trace_id: str) -> Trace | None:
        """One trace whole; None when Tempo has no trace of that id (or it is no trace id)."""
        trace_id = trace_id.strip()
        if not _TRACE_ID.match(trace_id):
            return None
        doc = self._trace_document(trace_id.lower().rjust(32, "0"))
        if doc is None:
            return None
        trace, _skipped = parse_otlp(doc)
        return trace

    # --- answers ---------------------------------------------------------------------------------

    def _api(self, path: str, params: Mapping[str, str] | None, what: str = "") -> Mapping[str, Any]:
        return self._decode_tempo(self._fetch(path, params), what)

    def _decode_tempo(self, resp: requests.Response, what: str) -> Mapping[str, Any]:
        where = self._display_url
        status = resp.status_code
        sent, excerpt, body, too_deep = self._read_body(resp)
        if status == 401 and "org id" in (resp.text or "").lower():
            # multi-tenant Tempo: it wants the tenant named, which is no credential
            raise TracingUnauthorized(f"Tempo at {where} wants a tenant (HTTP 401: no org id)", status=status,
                                      body=excerpt, hint="add the header X-Scope-OrgID: <tenant> to the tracing "
                                                         "extra headers in Settings for this context")
        if status in (401, 403):
            return self._decode(resp)  # Jaeger's words for the credentials
        if status >= 400:
            said = self._redact(" ".join((resp.text or "").split()), sent)[:300] or f"HTTP {status}"
            if status == 400:  # a TraceQL parse error, a bad time range ...: Tempo says which in plain text
                raise TracingQueryError(f"Tempo refused the query (HTTP 400): {said}", status=status, body=excerpt,
                                        hint="check the time range, minimum duration and limit")
            if status == 404:
                raise TracingHTTPError(f"Tempo at {where} has no such thing (HTTP 404): {said}", status=status,
                                       body=excerpt, hint="check the tracing address: Tempo's query frontend "
                                                          "(port 3200), without a path prefix")
            if status >= 500:
                raise TracingHTTPError(f"Tempo at {where} failed (HTTP {status}): {said}", status=status,
                                       body=excerpt, hint="it may be overloaded, or its storage unavailable; "
                                                          "try again later")
            raise TracingHTTPError(f"Tempo at {where} answered HTTP {status}: {said}", status=status, body=excerpt)
        if what == "echo":
            return {}
        # protobuf's JSON leaves an empty list out: no trace found is {"metrics": {...}} without "traces"
        listed = what in ("traces", "tagValues")
        if too_deep or not isinstance(body, dict) or (listed and what not in body and set(body) - {"metrics"}) \
                or (listed and not isinstance(body.get(what) or [], list)):
            raise TracingMalformed(
                f"{where} answered with {self._not_json(resp, excerpt, sent)} instead of Tempo's API JSON",
                hint="check the tracing address: Tempo's query frontend (port 3200), or choose the Jaeger API "
                     "for this context")
        return body


def _jaeger_errors(body: Any) -> list[str]:
    """The messages of Jaeger's ``{"errors": [{"code": 400, "msg": "..."}]}``."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    out = []
    for err in body["errors"]:
        if isinstance(err, dict):
            msg = err.get("msg") or err.get("message")
            out.append(str(msg) if msg else json.dumps(err)[:200])
        elif err:
            out.append(str(err)[:200])
    return out


def client_from_settings(url: str, auth: Mapping[str, Any] | None, *, timeout: float = 30.0,
                         session: requests.Session | None = None, api: str = TRACING_API_JAEGER) -> JaegerClient:
    """A client for ``url`` with ``auth`` as the settings store it (type "bearer" with token, "basic"
    with username and password, or "none"; headers, ca_bundle, insecure): Tempo's (``api`` "tempo") or
    Jaeger's."""
    auth = dict(auth or {})
    kind = str(auth.get("type") or ("bearer" if auth.get("token") else "basic" if auth.get("username") else "none"))
    basic = (str(auth["username"]), str(auth.get("password") or "")) if kind == "basic" and auth.get("username") else None
    token = str(auth["token"]) if kind == "bearer" and auth.get("token") else None
    cls = TempoClient if api == TRACING_API_TEMPO else JaegerClient
    return cls(url, session=session, token=token, basic_auth=basic, headers=auth.get("headers") or None,
               ca_bundle=auth.get("ca_file") or auth.get("ca_bundle") or None,
               insecure=bool(auth.get("insecure", False)), timeout=timeout)


def as_api(client: JaegerClient, cls: type[JaegerClient]) -> JaegerClient:
    """A client of ``cls`` for the same address, on the same session, credentials and timeout: ``client``
    is to be dropped (not closed) once this one is used."""
    if type(client) is cls:
        return client
    other = cls.__new__(cls)
    other.__dict__.update(client.__dict__)
    other._services = None
    return other


def answers_as_tempo(client: JaegerClient) -> bool:
    """Whether the address of ``client`` answers Tempo's ``/api/echo``: auto chooses Tempo's own API then.
    Its credentials are refused, it is unreachable...: raised, as asking Jaeger's API would fail alike."""
    probe = as_api(client, TempoClient)
    # what this address is, is still being asked: its failures name it as the tracing backend, not as the Tempo
    # it may not be ("Cannot reach Tempo at http://jaeger-query:16686")
    probe.product = client.product
    try:
        probe.echo()  # type: ignore[attr-defined]
    except (TracingHTTPError, TracingMalformed) as e:
        if isinstance(e, TracingUnauthorized | TracingForbidden):
            raise
        return False
    return True


__all__ = ["GIVE_TRACING_URL", "JaegerClient", "TempoClient", "TracingError", "answers_as_tempo", "as_api", "client_from_settings"]
