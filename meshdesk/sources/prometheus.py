"""A small Prometheus HTTP API client on ``requests``.

``url`` is where the Prometheus API lives, with any path prefix: a plain ``http://prometheus:9090``,
an API server service proxy (``https://host/api/v1/namespaces/istio-system/services/prometheus:9090/proxy``)
or a Thanos/Mimir prefix (``https://mimir/prometheus``). Queries go to ``<url>/api/v1/query`` and
``/api/v1/query_range`` (after the URL's path, before its query: a proxy's ``?access_token=`` is kept and
sent) as POST forms (long queries fit; this is what Grafana does), falling back to
GET once a server answers 405.

Failures become typed errors a user can act on (all subclass ``PrometheusError``); none of their
messages, no log line and no ``repr`` ever carries the token or the password.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import requests
import yaml

from meshdesk.mesh.gcpause import paused_gc
from meshdesk.sources.base import Forbidden, PrometheusError, Timeout, Unauthorized, Unreachable
from meshdesk.sources.httpapi import URL_SHAPE as URL_SHAPE
from meshdesk.sources.httpapi import HTTPAPIClient, has_http_shape, is_web_page
from meshdesk.sources.httpapi import safe_url as safe_url
from meshdesk.sources.httpapi import url_problem as url_problem
from meshdesk.sources.promql import Scope, scoped

log = logging.getLogger(__name__)

class PrometheusUnreachable(PrometheusError, Unreachable):
    """Connection refused, DNS failure, TLS failure: nothing answered as Prometheus."""

    kind = "prometheus"


class PrometheusTimeout(PrometheusError, Timeout):
    kind = "prometheus"


class PrometheusHTTPError(PrometheusError):
    """Prometheus (or something in front of it) answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int, body: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.body = body


class PrometheusUnauthorized(PrometheusHTTPError, Unauthorized):
    kind = "prometheus"


class PrometheusForbidden(PrometheusHTTPError, Forbidden):
    kind = "prometheus"


class PromQLError(PrometheusError):
    """Prometheus refused or failed the query itself (``errorType`` bad_data, execution, ...)."""

    def __init__(self, message: str, *, error_type: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.error_type = error_type


class MalformedResponse(PrometheusError):
    """The answer is not the Prometheus API's JSON (an HTML login page, a wrong URL, a cut body)."""


# --- results --------------------------------------------------------------------------------------

T = TypeVar("T")


class QueryResult(list[T], Generic[T]):
    """A list of series plus what the response said besides: ``warnings`` (e.g. Thanos partial
    responses) and ``result_type``."""

    def __init__(self, items: list[T] | None = None, *, warnings: list[str] | None = None,
                 result_type: str = "") -> None:
        super().__init__(items or [])
        self.warnings: list[str] = list(warnings or [])
        self.result_type = result_type


@dataclass(frozen=True)
class InstantSeries:
    labels: Mapping[str, str]
    value: float  # may be NaN or +/-Inf: callers skip those
    timestamp: float

    @property
    def metric(self) -> str:
        return self.labels.get("__name__", "")


@dataclass(frozen=True)
class RangeSeries:
    labels: Mapping[str, str]
    points: list[tuple[float, float]] = field(default_factory=list)  # (unix seconds, value)

    @property
    def metric(self) -> str:
        return self.labels.get("__name__", "")


_STR_ONLY = {str}


def series_labels(raw: Any) -> dict[str, str]:
    """A series' ``metric`` object as labels. Decoded JSON is used as it is when every value is a
    string (JSON object keys always are): copying 20k label sets of 20 labels each cost more than
    decoding them."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise TypeError("series labels are not an object")
    if type(raw) is dict and (not raw or set(map(type, raw.values())) == _STR_ONLY):
        return raw
    return {str(k): str(v) for k, v in raw.items()}


def vector_series(result: list[Any]) -> list[InstantSeries]:
    """The series of an instant vector (``data.result`` of a ``resultType: vector`` answer). Raises
    TypeError/ValueError/KeyError/IndexError on a malformed item."""
    out = []
    for item in result:
        ts, val = item["value"]
        value = float(val) if type(val) is str and val[:1].isdigit() else parse_value(val)
        out.append(InstantSeries(series_labels(item.get("metric")), value, float(ts)))
    return out


def parse_value(raw: Any) -> float:
    """A sample value as Prometheus writes it ("1.5", "NaN", "+Inf", "-Inf") to a float."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"not a sample value: {raw!r}")
    text = str(raw).strip()
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    return float(text)


# Prometheus' errorType values that say the server could not run a query, not that the query is wrong
_SERVER_TROUBLE = frozenset({"unavailable", "internal", "canceled"})
_QUERY_FAULTS = frozenset({"bad_data", "execution", "not_found", "not_acceptable"})


def _cut_short(resp: requests.Response) -> bool:
    """Whether an answer that is no JSON is JSON that ends early: it starts as the API's object does and
    the decoder ran out of text, not into a wrong character."""
    text = (resp.text or "").rstrip()
    if not text.startswith("{"):
        return False
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        return e.pos >= len(text) or e.msg.startswith("Unterminated string")  # (which runs to the end)
    except (ValueError, RecursionError):
        return False
    return False


def _warning_list(raw: Any) -> list[Any]:
    """The ``warnings`` of an answer as a list: Prometheus sends a list of texts; a proxy or another
    server in its place may send one text (kept whole, not split into its letters) or something else
    (a number, an object: said as it is), which must not make the answer fail."""
    if raw is None or raw == "" or raw == [] or raw == {}:
        return []
    if isinstance(raw, list):
        return raw
    return [raw]


def _to_unix(t: float | int | datetime) -> str:
    if isinstance(t, datetime):
        return repr(t.timestamp())
    return repr(float(t))


def check_url(url: str) -> None:
    """Raise ValueError unless ``url`` is an http(s) URL with a host (what Prometheus is reached by)."""
    if not has_http_shape(url):
        raise ValueError(f"Prometheus URL must look like http(s)://host[:port][/prefix], not {safe_url(url)!r}")


_PROM_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_PROM_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}


def parse_duration(text: str) -> float | None:
    """Seconds in a Prometheus duration ("15s", "1m", "1m30s", "500ms"); None when it is not one."""
    parts = list(_PROM_DURATION.finditer(text.strip()))
    if not parts or "".join(m.group(0) for m in parts) != text.strip():
        return None
    return sum(int(m.group(1)) * _PROM_UNIT_S[m.group(2)] for m in parts)


class PrometheusClient(HTTPAPIClient):
    product = "Prometheus"
    tls_hint = ("set a CA bundle, or allow insecure TLS, for this address: in Settings for this context, or with "
                "meshdesk graph --prometheus-ca FILE or --prometheus-insecure")
    timeout_hint = "it may be overloaded; try a shorter duration or fewer namespaces"
    unreachable_error = PrometheusUnreachable
    timeout_error = PrometheusTimeout

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        ca_bundle: str | None = None,
        insecure: bool = False,
        timeout: float = 30.0,
        scope: Scope = (),
    ) -> None:
        super().__init__(url, session=session, token=token, basic_auth=basic_auth, headers=headers,
                         ca_bundle=ca_bundle, insecure=insecure, timeout=timeout)
        # the labels every query is kept to (Kiali's query_scope): added to each selector of each query as it is
        # sent, here alone, so that no query of the graph, the charts, the lists or a discovery forgets them
        self.scope: Scope = tuple(scope)
        self._use_get = False
        self.last_warnings: list[str] = []
        if session is None:
            # an auth proxy in front of Prometheus (oauth2-proxy) sends a request without its login to a
            # login page, most often on another address (the company's SSO): not the Prometheus to set
            self.redirect_hint = ("if that address is the right Prometheus, set it as the Prometheus URL; if it is a "
                                  "login page, give Prometheus a bearer token, a user name and password or the "
                                  "headers its auth proxy takes in Settings for this context")

    def _check_url(self, url: str) -> None:
        check_url(url)

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- API -----------------------------------------------------------------------------------

    def query(self, promql: str, time: float | int | datetime | None = None) -> QueryResult[InstantSeries]:
        """An instant query; ``time`` in unix seconds (None: the server's now); kept to ``scope``."""
        params = {"query": scoped(promql, self.scope)}
        if time is not None:
            params["time"] = _to_unix(time)
        resp = self._fetch("/api/v1/query", params)
        with paused_gc():  # a big answer decodes into many objects that all survive (see gcpause)
            data, warnings = self._decode(resp)
            rtype = data.get("resultType")
            result = data.get("result")
            out: QueryResult[InstantSeries] = QueryResult(warnings=warnings, result_type=str(rtype))
            try:
                if rtype == "vector":
                    if not isinstance(result, list):
                        raise TypeError("result is not a list")
                    out.extend(vector_series(result))
                elif rtype in ("scalar", "string"):
                    ts, val = result  # type: ignore[misc]
                    out.append(InstantSeries({}, parse_value(val) if rtype == "scalar" else math.nan, float(ts)))
                elif rtype == "matrix":
                    raise PromQLError("the query returns a range vector; an instant query needs an instant vector",
                                      error_type="bad_data")
                else:
                    raise TypeError(f"unknown resultType {rtype!r}")
            except PromQLError:
                raise
            except (TypeError, ValueError, KeyError, IndexError) as e:
                raise MalformedResponse(f"Prometheus at {self._display_url} sent a result of the wrong shape ({e})") from None
        return out

    def query_range(self, promql: str, start: float | int | datetime, end: float | int | datetime,
                    step: float) -> QueryResult[RangeSeries]:
        """A range query, kept to ``scope``."""
        params = {"query": scoped(promql, self.scope), "start": _to_unix(start), "end": _to_unix(end),
                  "step": repr(float(step))}
        resp = self._fetch("/api/v1/query_range", params)
        with paused_gc():
            data, warnings = self._decode(resp)
            rtype = data.get("resultType")
            out: QueryResult[RangeSeries] = QueryResult(warnings=warnings, result_type=str(rtype))
            try:
                if rtype != "matrix" or not isinstance(data.get("result"), list):
                    raise TypeError(f"expected a matrix, got {rtype!r}")
                for item in data["result"]:
                    points = [(float(ts), parse_value(v)) for ts, v in item["values"]]
                    out.append(RangeSeries(self._labels(item.get("metric")), points))
            except (TypeError, ValueError, KeyError, IndexError) as e:
                raise MalformedResponse(f"Prometheus at {self._display_url} sent a result of the wrong shape ({e})") from None
        return out

    def buildinfo(self) -> dict[str, Any]:
        """``/api/v1/status/buildinfo`` (version, revision...). Thanos/Mimir may not offer it."""
        data, _ = self._api("/api/v1/status/buildinfo", None)
        return dict(data)

    def scrape_interval(self) -> float | None:
        """The global ``scrape_interval`` of Prometheus's configuration (``/api/v1/status/config``) in
        seconds; None when it is not offered (Thanos, Mimir, a proxy) or not readable."""
        data, _ = self._api("/api/v1/status/config", None)
        text = data.get("yaml") if isinstance(data, Mapping) else None
        if not isinstance(text, str):
            return None
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
        glob = config.get("global") if isinstance(config, dict) else None
        raw = glob.get("scrape_interval") if isinstance(glob, dict) else None
        return parse_duration(raw) if isinstance(raw, str) else None

    def storage_retention(self) -> float | None:
        """How long Prometheus keeps its data, in seconds, as it says it in ``/api/v1/status/runtimeinfo``
        (``storageRetention``: "15d", "6h", "1d or 10GiB"; Kiali reads the same). None when it does not say
        (Thanos, Mimir and VictoriaMetrics may not offer the endpoint), or keeps by size alone."""
        data, _ = self._api("/api/v1/status/runtimeinfo", None)
        said = data.get("storageRetention") if isinstance(data, Mapping) else None
        if not isinstance(said, str) or not said.strip():
            return None
        # time and size both ("1d or 10GiB"): the time is the first; a size alone ("10GiB") tells no time
        seconds = parse_duration(said.split()[0])
        return seconds if seconds else None

    def ping(self) -> float:
        """Evaluate a constant query: proves the API answers (works through proxies and Thanos/Mimir
        prefixes, unlike ``/-/ready``). Returns the round trip in seconds; raises like ``query``."""
        began = _time.monotonic()
        self.query("1")
        return _time.monotonic() - began

    # --- transport -----------------------------------------------------------------------------

    @staticmethod
    def _labels(raw: Any) -> dict[str, str]:
        return series_labels(raw)

    def _send(self, path: str, params: Mapping[str, str] | None) -> requests.Response:
        url = self._endpoint(path)
        if params is None:
            return self._send_following(url, "GET", None)
        if not self._use_get:
            resp = self._send_following(url, "POST", params)
            if resp.status_code != 405:
                return resp
            log.info("Prometheus at %s does not take POST queries; using GET", self._display_url)
            self._use_get = True
        return self._send_following(url, "GET", params)

    @property
    def through_api_server(self) -> bool:
        """Whether Prometheus is asked through the API server's service proxy (with the kubeconfig's
        credentials), not at an address of its own."""
        return not self._owns_session

    def _web_page(self, where: str, resp: requests.Response, sent: list[str]) -> MalformedResponse:
        """A web page where the API's JSON was expected, named by its title (its HTML is never quoted:
        a login page carries form tokens). Asked at an address of its own, that is most often the login
        page of an auth proxy in front of Prometheus (oauth2-proxy, a company's SSO), reached directly or
        through a redirect, which wants credentials the app did not send."""
        named = self._page_named(resp, sent)
        moved = f" after a redirect to {safe_url(resp.url)}" if resp.url and not resp.url.startswith(self.url) else ""
        if self.through_api_server:
            return MalformedResponse(f"{where} answered with a web page{named}{moved} instead of the Prometheus "
                                     "API's JSON", hint="check the Prometheus address and its path prefix")
        return MalformedResponse(
            f"{where} answered with a web page{named}{moved} instead of the Prometheus API's JSON: a login page "
            "of an auth proxy in front of Prometheus, or an address that is not Prometheus' API",
            hint="if it wants a login, give Prometheus a bearer token, a user name and password or the headers "
                 "the proxy takes in Settings for this context (Test checks them); else check the address and "
                 "its path prefix")

    def _api(self, path: str, params: Mapping[str, str] | None) -> tuple[Mapping[str, Any], list[str]]:
        return self._decode(self._fetch(path, params))

    def _decode(self, resp: requests.Response) -> tuple[Mapping[str, Any], list[str]]:
        where = self._display_url
        status = resp.status_code
        sent, excerpt, body, too_deep = self._read_body(resp)

        if status == 401:
            raise PrometheusUnauthorized(
                f"Prometheus at {where} rejected credentials (HTTP 401)", status=status, body=excerpt,
                hint="log in again or check the token / user name and password")
        if status == 403:
            # through the API server it is the kubeconfig's account that was refused; at an address of its
            # own (Settings, --prometheus, a port-forward), what sits in front of Prometheus refused what was sent
            raise PrometheusForbidden(
                f"Prometheus at {where} answered forbidden (HTTP 403)", status=status, body=excerpt,
                hint="your account may not use the service proxy to Prometheus" if self.through_api_server
                else "what is in front of it (an auth proxy) did not accept the credentials or headers sent: "
                     + self.settings_hint)
        if isinstance(body, dict) and body.get("status") == "error":
            error_type = str(body.get("errorType") or "")
            message = self._redact(str(body.get("error") or "unknown error"), sent)
            if error_type == "timeout":
                raise PrometheusTimeout(f"Prometheus gave up on the query: {message}",
                                        hint="try a shorter duration or fewer namespaces")
            if error_type in _SERVER_TROUBLE or (status >= 500 and error_type not in _QUERY_FAULTS):
                # Prometheus (or a Thanos, a Mimir) could not run it: nothing is wrong with the query, which
                # "refused the query" sent the user looking for
                raise PromQLError(f"Prometheus could not run the query ({error_type or f'HTTP {status}'}): {message}",
                                  error_type=error_type,
                                  hint="Prometheus may be starting, overloaded or missing a store; it is asked "
                                       "again at the next refresh")
            raise PromQLError(f"Prometheus refused the query ({error_type or f'HTTP {status}'}): {message}",
                              error_type=error_type)
        if status >= 400:
            if is_web_page(resp, excerpt):  # a proxy's error page: by its title ("502 Bad Gateway"), not its HTML
                excerpt = f"a web page{self._page_named(resp, sent)}"
            raise PrometheusHTTPError(
                f"Prometheus at {where} answered HTTP {status}" + (f": {excerpt}" if excerpt else ""),
                status=status, body=excerpt)
        if too_deep:
            raise MalformedResponse(f"{where} sent JSON nested too deeply to be a Prometheus API answer",
                                    hint="check the Prometheus address and its path prefix")
        if not isinstance(body, dict):
            if is_web_page(resp, excerpt):
                raise self._web_page(where, resp, sent)
            if body is None and _cut_short(resp):
                # the right address, its answer cut (a proxy's time or size limit, a dropped connection): "check
                # the Prometheus address and its path prefix" sent the user to mend what was not wrong
                raise MalformedResponse(
                    f"{where} sent an answer that ends before its JSON does ({len(resp.content):,} bytes came)",
                    hint="it was cut short on the way: try again; if it repeats, a proxy between meshdesk and "
                         "Prometheus may limit the size or the time of an answer (try a shorter duration or "
                         "fewer namespaces)")
            raise MalformedResponse(
                f"{where} answered with something else than the Prometheus API's JSON"
                + (f": {excerpt[:80]}" if excerpt else ""),
                hint="check the Prometheus address and its path prefix")
        if body.get("status") != "success" or not isinstance(body.get("data"), dict):
            raise MalformedResponse(f"{where} sent JSON that is not a Prometheus API answer: {excerpt[:80]}",
                                    hint="check the Prometheus address and its path prefix")
        warnings = [self._redact(str(w), sent) for w in _warning_list(body.get("warnings"))]
        self.last_warnings = warnings
        for w in warnings:  # returned to the caller, who says it (logged as a warning, it was printed bare
            # on meshdesk graph's stderr, once per query, beside the command's own line)
            log.info("Prometheus at %s warns: %s", where, w)
        return body["data"], warnings
