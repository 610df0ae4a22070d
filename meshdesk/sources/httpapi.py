"""What every HTTP API meshdesk reads (Prometheus, a tracing backend's query API) needs of its transport,
shared: credentials (a bearer token, basic auth, extra headers), TLS (a CA bundle, or verification off
when the user says so), a path prefix in the URL, redirects followed only within the same scheme, host
and port, and failures turned into typed errors whose messages never carry a token or a password.

A client subclasses ``HTTPAPIClient`` and says what it is (``product``, its error classes and hints);
reading its API's own JSON is its business.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import ssl
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
import urllib3

from meshdesk.sources.base import SourceError, Timeout, TooLarge, Unreachable, size_words

log = logging.getLogger(__name__)

_BODY_EXCERPT = 200
_AUTHORIZATION_HEADERS = {"authorization", "proxy-authorization"}
_CREDENTIAL_HEADERS = _AUTHORIZATION_HEADERS | {"cookie"}
_MAX_REDIRECTS = 10

URL_SHAPE = "http(s)://host[:port][/prefix]"


def url_problem(url: str) -> str:
    """What makes ``url`` no address an HTTP API (Prometheus, a tracing backend) can be reached at, in words ("" when it is one): checked
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


def has_http_shape(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host; False also for one that cannot be read at all
    (``http://[::1``: urlsplit's ValueError, "Invalid IPv6 URL", was the message, naming neither the
    option nor the address)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(url) and parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def safe_url(url: str) -> str:
    """The URL without any user:password@ part and with its query and fragment values hidden
    (``?token=***``, ``#access_token=***``: a proxy's token may ride there), for messages; also when it was
    typed without its scheme (``admin:secret@prometheus:9090``, which is no URL to urlsplit, and is said
    to be wrong); also one that cannot be read at all (``http://[::1``, an IPv6 address without its closing
    bracket: Python's ValueError "Invalid IPv6 URL" was the message, or the traceback, of the command
    that was saying what is wrong with it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = urlsplit("")  # shown as text without a host: what is before its last "@" left out
    if not parts.netloc:  # what is before the last "@" may be credentials: it is not shown
        shown = url.rsplit("@", 1)[1] if "@" in url else url
        shown, hash_sep, fragment = shown.partition("#")
        base, sep, query = shown.partition("?")
        return _hidden_path_params(base) + sep + _hidden_query(query) + hash_sep + _hidden_query(fragment, bare=True)
    query = _hidden_query(parts.query)
    fragment = _hidden_query(parts.fragment, bare=True)
    path = _hidden_path_params(parts.path)
    if (parts.username is None and parts.password is None and query == parts.query and fragment == parts.fragment
            and path == parts.path):
        return url
    host = parts.netloc.rsplit("@", 1)[-1]  # as written: an IPv6 address keeps its brackets
    return urlunsplit((parts.scheme, host, path, query, fragment))


# a path segment's parameters (``/prom;jsessionid=...``): a session's id rides there as in a query
_PATH_PARAM = re.compile(r";([^;/=]*)=[^;/]*")


def _hidden_path_params(path: str) -> str:
    """``path`` with the value of each ``;name=value`` parameter of its segments replaced by ``***``."""
    return _PATH_PARAM.sub(r";\1=***", path) if ";" in path else path


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




def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the port filled in for the scheme's default."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def _sentence(text: str) -> str:
    """``text`` with a capital first letter (a message that begins with the product: "the tracing backend")."""
    return text[:1].upper() + text[1:]


class ServerClock:
    """A server's present time, as the ``Date`` header of its last answer said it, moved on by the time
    passed since on this machine's monotonic clock: a machine whose own clock is off still learns the time
    the cluster is at. Safe to share between threads (one tuple is replaced at a time)."""

    def __init__(self) -> None:
        self._seen: tuple[float, float] | None = None  # (the server's unix time, our monotonic time then)

    def note(self, date: object) -> None:
        """Take the time of an answer's ``Date`` header (an HTTP date; anything else is passed over)."""
        if not date:
            return
        try:
            said = parsedate_to_datetime(str(date)).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        # a Date is whole seconds, cut down: the middle of its second is the nearest guess
        self._seen = (said + 0.5, time.monotonic())

    def now(self) -> float | None:
        """The server's present (unix seconds); None before an answer with a Date."""
        seen = self._seen
        return None if seen is None else seen[0] + (time.monotonic() - seen[1])


_TITLE_SEARCH = 4096  # how much of a web page is searched for its <title>
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def is_web_page(resp: requests.Response, excerpt: str) -> bool:
    """Whether an answer is a web page (HTML), by its Content-Type or its start."""
    kind = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml") or excerpt.lstrip().lower().startswith(("<!doctype", "<html"))


def page_title(text: str) -> str:
    """A web page's title, short and on one line ("" when it has none)."""
    import html

    found = _TITLE.search(text)
    title = " ".join(html.unescape(found.group(1)).split()) if found else ""
    return title if len(title) <= 80 else title[:79] + "…"


class HTTPAPIClient:
    """The transport of an HTTP API client: ``url`` with any path prefix (the API's paths go after it,
    before its query: a proxy's ``?access_token=`` is kept and sent; a fragment is never sent), the
    credentials and TLS options, and the secrets that must never show in a message.

    A subclass sets ``product`` (how messages name the server), ``tls_hint``/``timeout_hint`` and the
    error classes raised for no connection and no answer in time."""

    product = "the server"
    tls_hint = "set a CA bundle, or allow insecure TLS, for this address in Settings for this context"
    timeout_hint = ""
    # said when a redirect leads elsewhere; "": "if that address is the right <product>, set it as the
    # <product> URL"
    redirect_hint = ""
    settings_hint = "check them in Settings for this context"
    unreachable_error: type[SourceError] = Unreachable
    timeout_error: type[SourceError] = Timeout
    # the most of one answer that is read (None: all of it); more raises TooLarge, said with ``too_large_hint``
    max_body_bytes: int | None = None
    too_large_hint = ""

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
        self._check_url(url)
        self.url = url.rstrip("/")
        self._display_url = safe_url(self.url)
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
        self.server_clock = ServerClock()  # the server's time, from its answers
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

    def _check_url(self, url: str) -> None:
        """Raise ValueError unless ``url`` is an http(s) URL with a host."""
        if not has_http_shape(url):
            raise ValueError(f"{self.product} URL must look like {URL_SHAPE}, not {safe_url(url)!r}")

    # --- description ---------------------------------------------------------------------------

    def describe(self) -> str:
        auth = "bearer token" if self._token else "basic auth" if self._basic else "no credentials"
        tls = "" if not self.url.startswith("https") else (
            ", TLS verification off" if self._verify is False else
            ", custom CA" if isinstance(self._verify, str) else "")
        return f"{self._display_url} ({auth}{tls})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def _page_named(self, resp: requests.Response, sent: list[str]) -> str:
        """`` ("its title")`` of a web page that answered, or "": a page is named by its title, never quoted
        (a login page carries form tokens in its first lines)."""
        title = page_title(self._redact((resp.text or "")[:_TITLE_SEARCH], sent))
        return f' ("{title}")' if title else ""

    # --- secrets -------------------------------------------------------------------------------

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

    def _read_body(self, resp: requests.Response) -> tuple[list[str], str, Any, bool]:
        """(the secrets the request carried, a short redacted excerpt of the answer, its JSON or None,
        whether the JSON was nested too deeply to decode)."""
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
        except ValueError:
            body = None
        except RecursionError:  # arrays in arrays ... deeper than Python decodes: no API's answer
            body, too_deep = None, True
        if isinstance(body, dict) and body.get("kind") == "Status" and isinstance(body.get("message"), str):
            # the API server's own answer (service proxy): its message, not its JSON
            excerpt = " ".join(self._redact(body["message"], sent)[:_BODY_EXCERPT].split())
        return sent, excerpt, body, too_deep

    # --- transport -----------------------------------------------------------------------------

    def _endpoint(self, path: str) -> str:
        return urlunsplit(self._base._replace(path=self._base.path + path))

    def _send(self, path: str, params: Mapping[str, str] | None) -> requests.Response:
        return self._send_following(self._endpoint(path), "GET", params)

    def _send_one(self, url: str, method: str, params: Mapping[str, str] | None) -> requests.Response:
        auth = requests.auth.HTTPBasicAuth(*self._basic) if self._basic else None
        # Redirects are followed by hand (_send_following): requests would carry the extra headers
        # (X-Scope-OrgID, an API key) and a session's own credentials to any host a redirect names.
        common: dict[str, Any] = {"headers": self._headers, "auth": auth, "timeout": self.timeout,
                                  "allow_redirects": False, "stream": self.max_body_bytes is not None}
        # Always explicit: requests lets REQUESTS_CA_BUNDLE override a session's own CA otherwise.
        common["verify"] = self._verify if self._verify is not None else self.session.verify
        if method == "POST":
            return self.session.post(url, data=dict(params or {}), **common)
        return self.session.get(url, params=dict(params) if params is not None else None, **common)

    def _send_following(self, url: str, method: str, params: Mapping[str, str] | None) -> requests.Response:
        """Send, following redirects only within the same scheme, host and port: the credentials and
        headers set for this server never go to another address."""
        origin = _origin(url)
        for _hop in range(_MAX_REDIRECTS):
            resp = self._send_one(url, method, params)
            if not resp.is_redirect:
                return resp
            target = urljoin(resp.url or url, resp.headers.get("location", ""))
            resp.close()
            if _origin(target) != origin:
                raise self.unreachable_error(
                    _sentence(f"{self.product} at {self._display_url} redirected to another address "
                              f"({safe_url(target)}); it was not followed, so that credentials and headers set "
                              f"for {self.product} stay with it"),
                    hint=self.redirect_hint or f"if that address is the right {self.product}, set it as the "
                                               f"{self.product} URL")
            if method == "POST" and resp.status_code not in (307, 308):
                method = "GET"  # 301/302/303 turn a POST into a GET (as browsers and requests do); the query goes along
            url = target
        raise self.unreachable_error(_sentence(f"{self.product} at {self._display_url} redirected more than "
                                               f"{_MAX_REDIRECTS} times"))

    def _read_bounded(self, resp: requests.Response, limit: int) -> None:
        """Read ``resp``'s body (streamed) in pieces, no further than ``limit`` bytes: a runaway answer
        raises TooLarge before it fills the memory."""
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(1 << 20):
            size += len(chunk)
            if size > limit:
                resp.close()
                raise TooLarge(_sentence(f"{self.product}'s answer at {self._display_url} is larger than "
                                         f"{size_words(limit)}, the most meshdesk reads"), hint=self.too_large_hint)
            chunks.append(chunk)
        resp._content = b"".join(chunks)  # what .text and .json() read
        resp._content_consumed = True  # type: ignore[attr-defined]

    def _tls_error(self, exc: BaseException) -> SourceError:
        """A TLS failure at the server's address. With a CA bundle given for it (Settings, a command's
        ``--...-ca``) the advice was to set a CA bundle, the one given not named: a file that holds no
        certificate was "TLS handshake failed", one of another CA only "verification failed"."""
        where, name, unreachable = self._display_url, self.product, self.unreachable_error
        reason = _tls_reason(exc)
        bundle = self._verify if self._owns_session and isinstance(self._verify, str) else ""
        if bundle and re.search(r"NO_CERTIFICATE_OR_CRL_FOUND|no certificate or crl found", str(exc), re.IGNORECASE):
            return unreachable(f"Cannot reach {name} at {where}: its CA bundle {bundle} holds no certificate",
                               hint="give a PEM file with the certificate of the CA that signed the one of "
                                    f"{name}, in Settings for this context or the command's CA option")
        if bundle and reason.startswith("TLS certificate verification failed"):
            return unreachable(f"Cannot reach {name} at {where}: {reason}: its certificate is not signed by a CA of "
                               f"the CA bundle {bundle}",
                               hint=f"give the certificate of the CA that signed the one of {name} as the CA bundle, "
                                    "or allow insecure TLS for this address, in Settings for this context or the "
                                    "command's CA option")
        return unreachable(f"Cannot reach {name} at {where}: {reason}", hint=self.tls_hint)

    def _fetch(self, path: str, params: Mapping[str, str] | None) -> requests.Response:
        """The HTTP answer; raises the client's errors for a failure to get one."""
        where, name, unreachable = self._display_url, self.product, self.unreachable_error
        try:
            resp = self._send(path, params)
            if self.max_body_bytes is not None:
                self._read_bounded(resp, self.max_body_bytes)
        except requests.exceptions.Timeout:
            raise self.timeout_error(_sentence(f"{name} at {where} did not answer within {self.timeout:g} s"),
                                     hint=self.timeout_hint) from None
        except requests.exceptions.SSLError as e:
            raise self._tls_error(e) from None
        except requests.exceptions.ConnectionError as e:
            if _tls_failure(e):
                raise self._tls_error(e) from None
            raise unreachable(f"Cannot reach {name} at {where}: {_connection_reason(e)}") from None
        except requests.exceptions.InvalidURL:
            raise unreachable(_sentence(f"{name} address {where} is not a valid URL")) from None
        except requests.exceptions.InvalidHeader:  # a line break or control character (a hand-edited file)
            raise unreachable(f"Cannot ask {name} at {where}: a token, user name or header value has "
                              "characters an HTTP header cannot carry", hint=self.settings_hint) from None
        except requests.exceptions.ChunkedEncodingError:
            # reached, and its answer stopped before its end: said as "Cannot reach ...: ChunkedEncodingError"
            raise unreachable(_sentence(f"{name} at {where} stopped in the middle of its answer (the connection "
                                        "closed before the answer's end)"),
                              hint="try again; if it repeats, a proxy on the way may limit the size or the time "
                                   "of an answer") from None
        except requests.exceptions.ContentDecodingError:
            raise unreachable(_sentence(f"{name} at {where} sent a compressed answer that cannot be "
                                        "decompressed")) from None
        except requests.exceptions.RequestException as e:
            raise unreachable(f"Cannot reach {name} at {where}: {type(e).__name__}") from None
        except UnicodeEncodeError:  # a token or header value no HTTP header can carry
            raise unreachable(f"Cannot ask {name} at {where}: a token, user name or header value has "
                              "characters an HTTP header cannot carry", hint=self.settings_hint) from None
        except OSError as e:  # e.g. the CA bundle file named in the settings is gone
            if isinstance(self._verify, str) and not os.path.exists(self._verify):
                # requests says so in an OSError without strerror: the message was a bare "OSError"
                raise unreachable(f"Cannot reach {name} at {where}: its CA bundle {self._verify} does not exist",
                                  hint="check the CA bundle in Settings for this context") from None
            raise unreachable(f"Cannot reach {name} at {where}: {e.strerror or type(e).__name__}"
                              + (" (is the CA bundle file still there?)" if isinstance(self._verify, str) else ""),
                              hint="check the CA bundle in Settings for this context") from None
        self.server_clock.note(resp.headers.get("Date") if resp.headers is not None else None)
        return resp

    def server_now(self) -> float | None:
        """The server's present time (unix seconds), from the Date of its last answer (see ``ServerClock``);
        None before an answer with a Date."""
        return self.server_clock.now()
