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

import base64
import json
import logging
import math
import os
import re
import ssl
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
import urllib3
import yaml

from meshdesk.mesh.gcpause import paused_gc
from meshdesk.sources.base import Forbidden, PrometheusError, Timeout, Unauthorized, Unreachable

log = logging.getLogger(__name__)

_BODY_EXCERPT = 200
_AUTHORIZATION_HEADERS = {"authorization", "proxy-authorization"}
_CREDENTIAL_HEADERS = _AUTHORIZATION_HEADERS | {"cookie"}


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


def _to_unix(t: float | int | datetime) -> str:
    if isinstance(t, datetime):
        return repr(t.timestamp())
    return repr(float(t))


def check_url(url: str) -> None:
    """Raise ValueError unless ``url`` is an http(s) URL with a host (what Prometheus is reached by)."""
    if not url or urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).netloc:
        raise ValueError(f"Prometheus URL must look like http(s)://host[:port][/prefix], not {safe_url(url)!r}")


URL_SHAPE = "http(s)://host[:port][/prefix]"


def url_problem(url: str) -> str:
    """What makes ``url`` no address Prometheus can be reached at, in words ("" when it is one): checked
    as the Settings dialog checks what is typed, for an address that did not come through it (a settings
    file edited by hand, ``--prometheus``). ``check_url`` only looks at the scheme and that there is a
    host: a port out of range or a space in the host failed later, as a connection error or a traceback."""
    if url != url.strip() or any(c.isspace() or ord(c) < 32 for c in url):
        return "it has a space or a line break in it"
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number, or out of range, raises here
    except ValueError:
        return "its host or port cannot be read"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"it must look like {URL_SHAPE}"
    if port == 0:
        return "its port is not a port number (1 to 65535)"
    from requests.exceptions import InvalidURL
    from requests.models import PreparedRequest

    try:  # what the client refuses when it connects (a bad %-escape, a character no host name has)
        PreparedRequest().prepare_url(url, None)
    except (InvalidURL, ValueError):
        return "its host has a character no host name has"
    return ""


def safe_url(url: str) -> str:
    """The URL without any user:password@ part and with its query and fragment values hidden
    (``?token=***``, ``#access_token=***``: a proxy's token may ride there), for messages; also when it was
    typed without its scheme (``admin:secret@prometheus:9090``, which is no URL to urlsplit, and is said
    to be wrong)."""
    parts = urlsplit(url)
    if not parts.netloc:  # what is before the last "@" may be credentials: it is not shown
        shown = url.rsplit("@", 1)[1] if "@" in url else url
        shown, hash_sep, fragment = shown.partition("#")
        base, sep, query = shown.partition("?")
        return base + sep + _hidden_query(query) + hash_sep + _hidden_query(fragment, bare=True)
    query = _hidden_query(parts.query)
    fragment = _hidden_query(parts.fragment, bare=True)
    if parts.username is None and parts.password is None and query == parts.query and fragment == parts.fragment:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]  # as written: an IPv6 address keeps its brackets
    return urlunsplit((parts.scheme, host, parts.path, query, fragment))


def _hidden_query(query: str, *, bare: bool = False) -> str:
    """A query string with every value replaced by ``***`` (the names stay, to say what was given);
    ``bare``: an item without "=" is hidden too (a fragment may be a token alone)."""
    if not query:
        return query
    return "&".join(f"{name}=***" if sep else ("***" if bare and name else name)
                    for name, sep, _value in (item.partition("=") for item in query.split("&")))


_MIN_SUBSTRING_SECRET = 8  # shorter secrets are redacted only where they stand alone, not inside words
_MIN_QUERY_SECRET = 6  # a shorter query value ("tenant=a", "debug=1") is no credential


# header names that say they carry a credential, whatever its length
_SECRET_HEADER = re.compile(r"(?i)auth|token|secret|key|cookie|password|session")


def _header_secret_forms(name: str, value: str) -> list[str]:
    """What of a header's value a server may echo: all of it; for Authorization only the credential after
    its scheme ("Bearer X" -> X: the scheme says what was echoed) and, for Basic, the decoded
    ``user:password`` and the password."""
    value = value.strip()
    scheme, _, credential = value.partition(" ")
    credential = credential.strip()
    if name.lower() not in _AUTHORIZATION_HEADERS or not credential or not scheme.isalpha():
        return [value] if value else []
    forms = [credential]
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        if decoded.partition(":")[2]:
            forms.extend([decoded, decoded.partition(":")[2]])
    return forms


def _redact_secrets(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (longest first: a longer one may contain a shorter) replaced."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _MIN_SUBSTRING_SECRET:
            text = text.replace(secret, "[redacted]")
        elif secret:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "[redacted]", text)
    return text


def _basic_header_forms(user: str, password: str) -> list[str]:
    """The base64 of ``user:password`` as an ``Authorization: Basic`` header carries it: requests encodes
    it as Latin-1, other clients as UTF-8 (the same for ASCII)."""
    forms = []
    for encoding in ("latin-1", "utf-8"):
        try:
            raw = f"{user}:{password}".encode(encoding)
        except UnicodeEncodeError:
            continue
        forms.append(base64.b64encode(raw).decode())
    return forms


def _tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLError | requests.exceptions.SSLError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(type(e)) or "SSL" in type(e).__name__:
            return True
        for nxt in (e.__cause__, e.__context__, *[a for a in e.args if isinstance(a, BaseException)]):
            if nxt is not None:
                stack.append(nxt)
        reason = getattr(e, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return False


def _connection_reason(exc: BaseException) -> str:
    """A short, secret-free reason from a requests connection error."""
    text = str(exc)
    for needle, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Temporary failure in name resolution", "host name not found (DNS)"),
        ("No route to host", "no route to host"),
        ("Network is unreachable", "network unreachable"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "the server closed the connection"),
        ("Connection aborted", "the connection was aborted"),
    ):
        if needle in text:
            return reason
    return "could not connect"


def _tls_reason(exc: BaseException) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "self-signed" in text or "self signed" in text:
            return "TLS certificate verification failed (self-signed certificate)"
        if "Hostname mismatch" in text or "doesn't match" in text:
            return "TLS certificate verification failed (the certificate is for another host name)"
        return "TLS certificate verification failed"
    if "WRONG_VERSION_NUMBER" in text:
        return "TLS handshake failed (is this an http:// address?)"
    return "TLS handshake failed"


_PROM_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_PROM_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}


def parse_duration(text: str) -> float | None:
    """Seconds in a Prometheus duration ("15s", "1m", "1m30s", "500ms"); None when it is not one."""
    parts = list(_PROM_DURATION.finditer(text.strip()))
    if not parts or "".join(m.group(0) for m in parts) != text.strip():
        return None
    return sum(int(m.group(1)) * _PROM_UNIT_S[m.group(2)] for m in parts)


_MAX_REDIRECTS = 10
_TLS_HINT = ("set a CA bundle, or allow insecure TLS, for this address: in Settings for this context, or with "
             "meshdesk graph --prometheus-ca FILE or --prometheus-insecure")


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the port filled in for the scheme's default."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


class PrometheusClient:
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
    ) -> None:
        check_url(url)
        self.url = url.rstrip("/")
        self._display_url = safe_url(self.url)
        # the API's paths go after the URL's path; its query (a proxy's token) is kept and sent; a
        # fragment is never sent
        base = urlsplit(url)
        self._base = base._replace(path=base.path.rstrip("/"), fragment="")
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._token = token
        self._basic = basic_auth
        self._headers = dict(headers or {})
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        # An explicit choice wins; otherwise a given session's own ``verify`` (e.g. the API server's CA)
        # stays in force, and a fresh session verifies against the system CAs.
        self._verify: bool | str | None = False if insecure else ca_bundle or (None if session is not None else True)
        self.timeout = float(timeout)
        self._use_get = False
        self.last_warnings: list[str] = []
        self._secrets = [s for s in (token, basic_auth[1] if basic_auth else None) if s]
        if basic_auth:  # the header form, in case a proxy echoes it back
            self._secrets.extend(_basic_header_forms(*basic_auth))
        parts = urlsplit(url)
        if parts.password:  # requests sends user:password@ in the URL as basic auth: redact it the same ways
            user, password = unquote(parts.username or ""), unquote(parts.password)
            self._secrets.extend([parts.password, password, *_basic_header_forms(user, password)])
        for name, value in self._headers.items():  # a server echoing a header (X-Scope-OrgID, Authorization ...)
            # a short value of another header (a tenant id "1") is no secret, and redacting it everywhere
            # garbled messages ("position [redacted]"); credentials are always redacted
            forms = _header_secret_forms(str(name), str(value))
            if str(name).lower() in _AUTHORIZATION_HEADERS or _SECRET_HEADER.search(str(name)):
                self._secrets.extend(forms)
            else:
                self._secrets.extend(f for f in forms if len(f) >= _MIN_QUERY_SECRET)
        for _name, _sep, raw in (item.partition("=") for item in parts.query.split("&")):
            if len(raw) >= _MIN_QUERY_SECRET:  # ?access_token=... is sent, and may be echoed
                self._secrets.extend([raw, unquote(raw.replace("+", " "))])
        self._secrets = sorted(set(self._secrets), key=len, reverse=True)  # a longer one may contain a shorter
        if insecure:
            # the user chose this for this address; do not repeat urllib3's warning on every refresh
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    # --- description ---------------------------------------------------------------------------

    def describe(self) -> str:
        auth = "bearer token" if self._token else "basic auth" if self._basic else "no credentials"
        tls = "" if not self.url.startswith("https") else (
            ", TLS verification off" if self._verify is False else
            ", custom CA" if isinstance(self._verify, str) else "")
        return f"{self._display_url} ({auth}{tls})"

    def __repr__(self) -> str:
        return f"PrometheusClient({self.describe()})"

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- API -----------------------------------------------------------------------------------

    def query(self, promql: str, time: float | int | datetime | None = None) -> QueryResult[InstantSeries]:
        """An instant query; ``time`` in unix seconds (None: the server's now)."""
        params = {"query": promql}
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
        params = {"query": promql, "start": _to_unix(start), "end": _to_unix(end), "step": repr(float(step))}
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

    def _redact(self, text: str, sent: list[str] | None = None) -> str:
        return _redact_secrets(text, self._secrets + (sent or []))

    def _sent_secrets(self, resp: requests.Response) -> list[str]:
        """The credentials the request that got ``resp`` carried, whatever set them (a session's own
        authentication, e.g. the kubeconfig's token for the API server's proxy, included)."""
        request = getattr(resp, "request", None)
        headers = getattr(request, "headers", None) or {}
        names = {n.lower() for n in self._headers} | _CREDENTIAL_HEADERS
        out: list[str] = []
        for name, value in headers.items():
            if str(name).lower() in names and value:
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                forms = _header_secret_forms(str(name), text)
                if str(name).lower() in _CREDENTIAL_HEADERS or _SECRET_HEADER.search(str(name)):
                    out.extend(forms)
                else:  # a short tenant id is no secret (see __init__)
                    out.extend(f for f in forms if len(f) >= _MIN_QUERY_SECRET)
        return out

    def _endpoint(self, path: str) -> str:
        return urlunsplit(self._base._replace(path=self._base.path + path))

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

    def _send_one(self, url: str, method: str, params: Mapping[str, str] | None) -> requests.Response:
        auth = requests.auth.HTTPBasicAuth(*self._basic) if self._basic else None
        # Redirects are followed by hand (_send_following): requests would carry the extra headers
        # (X-Scope-OrgID, an API key) and a session's own credentials to any host a redirect names.
        common: dict[str, Any] = {"headers": self._headers, "auth": auth, "timeout": self.timeout,
                                  "allow_redirects": False}
        # Always explicit: requests lets REQUESTS_CA_BUNDLE override a session's own CA otherwise.
        common["verify"] = self._verify if self._verify is not None else self.session.verify
        if method == "POST":
            return self.session.post(url, data=dict(params or {}), **common)
        return self.session.get(url, params=dict(params) if params is not None else None, **common)

    def _send_following(self, url: str, method: str, params: Mapping[str, str] | None) -> requests.Response:
        """Send, following redirects only within the same scheme, host and port: the credentials and
        headers set for Prometheus never go to another address."""
        origin = _origin(url)
        for _hop in range(_MAX_REDIRECTS):
            resp = self._send_one(url, method, params)
            if not resp.is_redirect:
                return resp
            target = urljoin(resp.url or url, resp.headers.get("location", ""))
            resp.close()
            if _origin(target) != origin:
                raise PrometheusUnreachable(
                    f"Prometheus at {self._display_url} redirected to another address ({safe_url(target)}); "
                    "it was not followed, so that credentials and headers set for Prometheus stay with it",
                    hint="if that address is the right Prometheus, set it as the Prometheus URL")
            if method == "POST" and resp.status_code not in (307, 308):
                method = "GET"  # 301/302/303 turn a POST into a GET (as browsers and requests do); the query goes along
            url = target
        raise PrometheusUnreachable(f"Prometheus at {self._display_url} redirected more than "
                                    f"{_MAX_REDIRECTS} times")

    def _api(self, path: str, params: Mapping[str, str] | None) -> tuple[Mapping[str, Any], list[str]]:
        return self._decode(self._fetch(path, params))

    def _fetch(self, path: str, params: Mapping[str, str] | None) -> requests.Response:
        """The HTTP answer; raises the client's errors for a failure to get one."""
        where = self._display_url
        try:
            resp = self._send(path, params)
        except requests.exceptions.Timeout:
            raise PrometheusTimeout(f"Prometheus at {where} did not answer within {self.timeout:g} s",
                                    hint="it may be overloaded; try a shorter duration or fewer namespaces") from None
        except requests.exceptions.SSLError as e:
            raise PrometheusUnreachable(f"Cannot reach Prometheus at {where}: {_tls_reason(e)}",
                                        hint=_TLS_HINT) from None
        except requests.exceptions.ConnectionError as e:
            if _tls_failure(e):
                raise PrometheusUnreachable(f"Cannot reach Prometheus at {where}: {_tls_reason(e)}",
                                            hint=_TLS_HINT) from None
            raise PrometheusUnreachable(f"Cannot reach Prometheus at {where}: {_connection_reason(e)}") from None
        except requests.exceptions.InvalidURL:
            raise PrometheusUnreachable(f"Prometheus address {where} is not a valid URL") from None
        except requests.exceptions.InvalidHeader:  # a line break or control character (a hand-edited file)
            raise PrometheusUnreachable(f"Cannot ask Prometheus at {where}: a token, user name or header value has "
                                        "characters an HTTP header cannot carry",
                                        hint="check them in Settings for this context") from None
        except requests.exceptions.RequestException as e:
            raise PrometheusUnreachable(f"Cannot reach Prometheus at {where}: {type(e).__name__}") from None
        except UnicodeEncodeError:  # a token or header value no HTTP header can carry
            raise PrometheusUnreachable(f"Cannot ask Prometheus at {where}: a token, user name or header value has "
                                        "characters an HTTP header cannot carry",
                                        hint="check them in Settings for this context") from None
        except OSError as e:  # e.g. the CA bundle file named in the settings is gone
            if isinstance(self._verify, str) and not os.path.exists(self._verify):
                # requests says so in an OSError without strerror: the message was a bare "OSError"
                raise PrometheusUnreachable(f"Cannot reach Prometheus at {where}: its CA bundle {self._verify} "
                                            "does not exist",
                                            hint="check the CA bundle in Settings for this context") from None
            raise PrometheusUnreachable(f"Cannot reach Prometheus at {where}: {e.strerror or type(e).__name__}"
                                        + (" (is the CA bundle file still there?)" if isinstance(self._verify, str) else ""),
                                        hint="check the CA bundle in Settings for this context") from None
        return resp

    def _decode(self, resp: requests.Response) -> tuple[Mapping[str, Any], list[str]]:
        where = self._display_url
        status = resp.status_code
        sent = self._sent_secrets(resp)
        # only the start is shown: redacting all of a big answer cost more than decoding it
        longest = max(map(len, self._secrets + sent), default=0)
        text = resp.text or ""
        cut = _BODY_EXCERPT + longest
        body_text = self._redact(text[:cut], sent)
        if len(text) > cut and longest > 1:
            # a secret the cut splits is not recognised: its piece is in the last longest-1 characters,
            # which redacting earlier copies (shorter once redacted) would bring into what is shown
            body_text = body_text[: max(0, len(body_text) - (longest - 1))]
        excerpt = " ".join(body_text[:_BODY_EXCERPT].split())
        too_deep = False
        try:
            body = resp.json()
        except (ValueError, json.JSONDecodeError):
            body = None
        except RecursionError:  # arrays in arrays ... deeper than Python decodes: no Prometheus answer
            body, too_deep = None, True
        if isinstance(body, dict) and body.get("kind") == "Status" and isinstance(body.get("message"), str):
            # the API server's own answer (service proxy): its message, not its JSON
            excerpt = " ".join(self._redact(body["message"], sent)[:_BODY_EXCERPT].split())

        if status == 401:
            raise PrometheusUnauthorized(
                f"Prometheus at {where} rejected credentials (HTTP 401)", status=status, body=excerpt,
                hint="log in again or check the token / user name and password")
        if status == 403:
            raise PrometheusForbidden(
                f"Prometheus at {where} answered forbidden (HTTP 403)", status=status, body=excerpt,
                hint="your account may not use the service proxy to Prometheus")
        if isinstance(body, dict) and body.get("status") == "error":
            error_type = str(body.get("errorType") or "")
            message = self._redact(str(body.get("error") or "unknown error"), sent)
            if error_type == "timeout":
                raise PrometheusTimeout(f"Prometheus gave up on the query: {message}",
                                        hint="try a shorter duration or fewer namespaces")
            raise PromQLError(f"Prometheus refused the query ({error_type or f'HTTP {status}'}): {message}",
                              error_type=error_type)
        if status >= 400:
            raise PrometheusHTTPError(
                f"Prometheus at {where} answered HTTP {status}" + (f": {excerpt}" if excerpt else ""),
                status=status, body=excerpt)
        if too_deep:
            raise MalformedResponse(f"{where} sent JSON nested too deeply to be a Prometheus API answer",
                                    hint="check the Prometheus address and its path prefix")
        if not isinstance(body, dict):
            kind = "an HTML page" if excerpt.lstrip().lower().startswith(("<!doctype", "<html")) else "something"
            raise MalformedResponse(
                f"{where} answered with {kind} instead of the Prometheus API's JSON"
                + (f": {excerpt[:80]}" if excerpt else ""),
                hint="check the Prometheus address and its path prefix")
        if body.get("status") != "success" or not isinstance(body.get("data"), dict):
            raise MalformedResponse(f"{where} sent JSON that is not a Prometheus API answer: {excerpt[:80]}",
                                    hint="check the Prometheus address and its path prefix")
        warnings = [self._redact(str(w), sent) for w in body.get("warnings") or []]
        self.last_warnings = warnings
        for w in warnings:  # returned to the caller, who says it (logged as a warning, it was printed bare
            # on meshdesk graph's stderr, once per query, beside the command's own line)
            log.info("Prometheus at %s warns: %s", where, w)
        return body["data"], warnings
