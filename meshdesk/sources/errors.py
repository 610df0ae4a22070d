"""Turn whatever a library raised into one of our typed, one-line, secret-free errors.

Every source (Kubernetes API, Prometheus, exec plugins) funnels its failures through ``translate`` so the
UI can tell "offline" from "log in again" from "RBAC says no", and ``redact`` so no message or log line
ever carries a token, password, key or certificate.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
from typing import Any

from meshdesk.sources.base import (
    ConfigError,
    Conflict,
    CredentialPluginError,
    Forbidden,
    NotFound,
    SourceError,
    Timeout,
    Unauthorized,
    Unreachable,
)

# --------------------------------------------------------------------------------------------------
# Redaction

_REDACTED = "[redacted]"

# -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- (also keys); a block cut short is redacted to
# the end of the text.
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL)
# Authorization schemes followed by their credential.
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+")
# key=value / key: value / "key": "value" for keys that name a secret. ``token`` must not match
# ``tokenFile`` (a path is not a secret), hence the word boundary.
_SECRET_KEYS = (
    r"password|passwd|pwd|secret|client[-_]?secret|token|id[-_]token|refresh[-_]token|access[-_]token|"
    r"api[-_]?key|apikey|bearer[-_]?token|authorization|"
    r"client[-_]key[-_]data|client[-_]certificate[-_]data|certificate[-_]authority[-_]data|"
    r"idp[-_]certificate[-_]authority[-_]data|clientKeyData|clientCertificateData"
)
# Any other name ending in one of these words names a secret too: ``GITHUB_TOKEN``, ``session_token``,
# ``DB_PASSWORD``, ``AWS_SECRET_ACCESS_KEY``, ``--x-api-key``, ``private_key`` (with a prefix, so that a
# word like "monkey" or a lone "key" is not one), and camelCase ``accessToken``, ``idToken``, ``privateKey``.
# A name must end there (``tokenFile`` is a path), and none is the last part of a path: in
# ``open /x/my-token: no such file`` or ``Get "https://idp/token": dial tcp`` what follows is no secret.
_SECRET_SUFFIXES = r"token|password|passwd|pwd|secret|key|apikey|authorization"
_SECRET_NAMES = (
    r"(?<![/\\\w])(?<!\w-)(?i:(?:" + _SECRET_KEYS + r")\b)"
    r"|(?<![/\\\w-])(?i:-{0,2}(?:[a-z0-9]+[_-])+(?:" + _SECRET_SUFFIXES + r"))(?![\w-])"
    r"|(?<![/\\\w])(?:[a-z][a-z0-9]*|[A-Z][a-z0-9]+)(?:[A-Z][a-z0-9]*)*?"
    r"(?:Token|Password|Passwd|Secret|Key|ApiKey)(?![\w-])"
)
# name=value, name: value, "name": "value" (a quoted value up to its closing quote, spaces and all)
_KEY_VALUE = re.compile(
    r"(?P<key>[\"']?(?:" + _SECRET_NAMES + r")[\"']?)(?P<sep>\s*[=:]\s*)"
    r"(?:(?P<q>[\"'])(?P<quoted>(?:\\.|(?!(?P=q))[^\\\n])+)(?P<end>(?P=q)?)"
    r"|(?P<value>(?i:(?:bearer|basic)\s+)?[^\s\"',;&}\]]+))"
)
# A secret name as the last part of an annotation or label key (``vault.example.com/token: s.abc``):
# a domain before the slash, the separator right after the name (a URL's ``/oauth/token": dial`` is not)
_ANNOTATION_SECRET = re.compile(r"(?i)([a-z0-9]\.[a-z]{2,63}/(?:[a-z0-9]+[_-])*"
                                r"(?:token|password|passwd|secret|api[-_]?key))(\s*[:=]\s*)([^\s\"',;}\]]+)")
# A URL's user:password@ (``https://admin:secret@host``, ``https://TOKEN@host``): all of it, up to the
# last "@" before the host. (Bounded and unambiguous: no text makes it slow.)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,31}://)(?:[^/\s\"'<>?#@]*@)+")
# A Cookie or Set-Cookie header: every cookie on the line may be a session.
_COOKIE = re.compile(r"(?i)\b((?:set-)?cookie)(\s*:\s*)[^\r\n]+")
# "token <value>" in prose (a plugin's stderr): only values that do not look like an English word.
_KEYWORD_SPACE = re.compile(r"(?i)\b(token|password|passwd|secret)(\s+)(?P<value>[^\s\"',;]{6,})")
# A random-looking run of letters and digits (upper, lower and digits all present), e.g. a bare token.
_RANDOM_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{24,}(?![A-Za-z0-9])")
# A JSON Web Token (OIDC id-token, service account token).
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# Long base64 runs: certificate or key data pasted without a key name in front of it.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{60,}={0,2}")


def _looks_like_base64_secret(run: str) -> bool:
    if run.startswith("LS0t"):  # base64 of "-----", i.e. an encoded PEM block
        return True
    uppers = sum(c.isupper() for c in run)
    return (uppers >= len(run) // 10 and any(c.islower() for c in run) and any(c.isdigit() for c in run))


def _looks_like_a_secret(word: str) -> bool:
    """After "password"/"token" in prose: not an English word, and long or made of letters and digits."""
    if word.isalpha() or word.startswith("[redacted"):
        return False
    return len(word) >= 12 or (any(c.isalpha() for c in word) and any(c.isdigit() for c in word))


def redact(text: str) -> str:
    """``text`` with bearer/basic credentials, ``password=...``-style values, PEM blocks, JWTs and base64
    certificate or key data replaced by ``[redacted]``. Safe to call on any message before showing or
    logging it."""
    if not text:
        return text
    out = _PEM.sub("[redacted PEM block]", text)

    out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{_REDACTED}@", out)
    out = _COOKIE.sub(lambda m: f"{m.group(1)}{m.group(2)}{_REDACTED}", out)

    def _kv(m: re.Match[str]) -> str:
        value = m.group("value") if m.group("q") is None else m.group("quoted")
        if value.startswith("[redacted"):
            return m.group(0)
        if m.group("q") is not None:
            return f"{m.group('key')}{m.group('sep')}{m.group('q')}{_REDACTED}{m.group('end')}"
        # "(token: abc)": the bracket closes the words around it, not the value (one the line opened
        # before the key and left open; any other ")" may be part of a password)
        before = m.string[m.string.rfind("\n", 0, m.start()) + 1:m.start()]
        closing = ")" if value.endswith(")") and "(" not in value and before.count("(") > before.count(")") else ""
        return f"{m.group('key')}{m.group('sep')}{_REDACTED}{closing}"

    out = _KEY_VALUE.sub(_kv, out)
    out = _ANNOTATION_SECRET.sub(lambda m: m.group(0) if m.group(3).startswith("[redacted")
                                 else f"{m.group(1)}{m.group(2)}{_REDACTED}", out)

    def _scheme(m: re.Match[str]) -> str:
        cred = m.group(0)[len(m.group(1)) + len(m.group(2)):]
        if cred.isalpha() and cred.islower():  # an English word ("basic auth", "bearer token")
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{_REDACTED}"

    out = _AUTH_SCHEME.sub(_scheme, out)
    out = _KEYWORD_SPACE.sub(lambda m: f"{m.group(1)}{m.group(2)}{_REDACTED}"
                             if _looks_like_a_secret(m.group("value")) else m.group(0), out)
    out = _JWT.sub(_REDACTED, out)
    out = _RANDOM_RUN.sub(
        lambda m: _REDACTED if (any(c.isupper() for c in m.group(0)) and any(c.islower() for c in m.group(0))
                                and any(c.isdigit() for c in m.group(0))) else m.group(0), out)
    out = _BASE64_RUN.sub(lambda m: _REDACTED if _looks_like_base64_secret(m.group(0)) else m.group(0), out)
    return out


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace (messages are one line each) and cut very long text."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _clean(text: Any, limit: int = 400) -> str:
    return one_line(redact(str(text)), limit)


# --------------------------------------------------------------------------------------------------
# Translation

LOGIN_AGAIN = "credentials expired or rejected: run your login again, e.g. `kubectl get ns`"
PATH_HINT = ("if meshdesk was started from a desktop launcher, the plugin may be missing from PATH: "
             "start meshdesk from a terminal or add the plugin's folder to PATH")
PLUGIN_FAILED_HINT = ("log in again the way you do for kubectl, e.g. `aws sso login` or `gcloud auth login`; "
                      "`kubectl get ns` in a terminal shows the plugin's own message")
PLUGIN_OUTPUT_HINT = ("check the plugin's command, arguments and apiVersion in your kubeconfig, "
                      "or update the plugin")

# "User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"bookinfo\""
_FORBIDDEN_MSG = re.compile(
    r'cannot (?P<verb>[\w-]+) resource "(?P<resource>[^"]+)"'
    r'(?: in API group "(?P<group>[^"]*)")?'
    r'(?: in the namespace "(?P<namespace>[^"]+)"| at the cluster scope)?'
)


def _status_body(exc: Any) -> dict[str, Any]:
    """The Kubernetes ``Status`` object in an ApiException's body, or {}."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip().startswith("{"):
        return {}
    try:
        obj = json.loads(body)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def _forbidden_message(status: dict[str, Any], what: str) -> str:
    msg = str(status.get("message") or "")
    m = _FORBIDDEN_MSG.search(msg)
    details = status.get("details") if isinstance(status.get("details"), dict) else {}
    if m:
        resource = m.group("resource")
        if m.group("group"):
            resource = f"{resource}.{m.group('group')}"
        name = details.get("name") if details else None
        target = f'{resource} "{name}"' if name else resource
        where = f" in {m.group('namespace')}" if m.group("namespace") else (
            " at the cluster scope" if "cluster scope" in msg else "")
        return f"not allowed to {m.group('verb')} {target}{where}"
    if details and details.get("kind"):
        name = f' "{details["name"]}"' if details.get("name") else ""
        return f"not allowed to {what or 'access'} {details['kind']}{name}"
    return f"not allowed to {what}" if what else "not allowed by the cluster's access rules (RBAC)"


# what requests to the core API are called (``what=``): a Kubernetes API server always serves them, so a
# bare 404 means the address is some other server (a wrong port, a proxy, a web server)
CONTACT_API = "contact the API server"
LIST_NAMESPACES = "list namespaces"
_ALWAYS_SERVED = frozenset({CONTACT_API, LIST_NAMESPACES})


def _api_exception(exc: Any, what: str) -> SourceError:
    status_code = int(getattr(exc, "status", 0) or 0)
    reason = str(getattr(exc, "reason", "") or "")
    status = _status_body(exc)
    server_msg = _clean(status.get("message") or "", 300)
    details = status.get("details") if isinstance(status.get("details"), dict) else {}
    obj = ""  # the object the server named, e.g. virtualservices "reviews"
    if details and details.get("kind"):
        obj = f'{details["kind"]} "{details["name"]}"' if details.get("name") else str(details["kind"])

    def with_what(text: str) -> str:
        return f"{what}: {text}" if what else text

    if status_code == 401:
        return Unauthorized(LOGIN_AGAIN)
    if status_code == 403:
        return Forbidden(_clean(_forbidden_message(status, what)),
                         hint="ask a cluster admin for access, or pick other namespaces")
    if status_code == 404:
        if server_msg:
            return NotFound(with_what(server_msg))
        if not status and what in _ALWAYS_SERVED:
            return ConfigError(with_what("the server answered 404 Not Found: it does not look like a "
                                         "Kubernetes API server (is the server address in the kubeconfig right?)"))
        if not status:  # a bare "404 page not found": the whole API is absent
            return NotFound(with_what(f"{obj or 'the resource'} was not found "
                                      "(is the API for it installed on this cluster?)"))
        return NotFound(with_what(f"{obj or 'the resource'} was not found"))
    if status_code == 409:
        if status.get("reason") == "AlreadyExists":
            return Conflict(with_what(server_msg or f"{obj or 'the object'} already exists"))
        return Conflict(with_what(f"{obj or 'the object'} was changed by someone else meanwhile"),
                        hint="reload it and apply your change again")
    if status_code == 429:
        return Timeout(with_what("the API server is overloaded (429 Too Many Requests)"),
                       hint="try again in a moment")
    if status_code == 504 or status.get("reason") == "Timeout":
        return Timeout(with_what(f"the API server timed out ({status_code} {reason})".strip()),
                       hint="try fewer namespaces or a shorter duration")
    if 500 <= status_code <= 599:
        detail = f": {server_msg}" if server_msg else ""
        return Unreachable(with_what(f"the API server failed ({status_code} {reason}){detail}"))
    if status_code in (400, 422):
        return SourceError(with_what(f"rejected as invalid: {server_msg or reason or status_code}"))
    if status_code == 0:
        return SourceError(with_what(_clean(reason or "request failed")))
    detail = server_msg or reason
    return SourceError(with_what(f"the API server answered {status_code}{': ' + detail if detail else ''}"))


def _pool_address(pool: Any) -> str:
    if pool is None:
        return ""
    host = getattr(pool, "host", "") or ""
    port = getattr(pool, "port", None)
    scheme = getattr(pool, "scheme", "") or ""
    if not host:
        return ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    addr = f"{host}:{port}" if port else host
    return f"{scheme}://{addr}" if scheme else addr


def _conn_address(conn: Any) -> str:
    host = getattr(conn, "host", "") or ""
    port = getattr(conn, "port", None)
    if not host:
        return ""
    scheme = "https" if type(conn).__name__.startswith("HTTPS") else "http"
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def _reason_text(reason: Any) -> str:
    """Short words for the low-level cause (no Python class paths, no object reprs)."""
    text = str(reason)
    for pattern, words in (
        (r"Connection refused|Errno 111|ECONNREFUSED", "connection refused"),
        (r"Name or service not known|nodename nor servname|Temporary failure in name resolution|"
         r"Failed to resolve|getaddrinfo failed|NameResolutionError", "the host name does not resolve"),
        (r"No route to host", "no route to host"),
        (r"Network is unreachable", "network is unreachable"),
        (r"CERTIFICATE_VERIFY_FAILED|certificate verify failed",
         "the server's certificate is not trusted (check certificate-authority in your kubeconfig)"),
        (r"WRONG_VERSION_NUMBER|wrong version number", "the server does not speak TLS on this port"),
        # a certificate-authority(-data) that is no PEM certificate: OpenSSL's own words were shown
        (r"NO_CERTIFICATE_OR_CRL_FOUND|no certificate or crl found",
         "the certificate authority in your kubeconfig holds no certificate (check certificate-authority or "
         "certificate-authority-data)"),
        (r"hostname mismatch|doesn't match|IP address mismatch",
         "the server's certificate is for another host name"),
        (r"timed out|ConnectTimeout", "no answer within the timeout"),
        (r"RemoteDisconnected|Connection aborted|Connection reset|ECONNRESET|BrokenPipe",
         "the connection was dropped by the server"),
    ):
        if re.search(pattern, text, re.IGNORECASE):
            return words
    return _clean(text, 200)


def _no_answer_hint(address: str) -> str:
    """Advice for a server that took the connection but never answered: a VPN or firewall that lets
    the connection open and then drops the traffic looks just like an overloaded server."""
    who = address or "the server"
    return (f"check the network path to {who} (VPN, firewall or proxy), "
            "or the server may be overloaded; try again or query less")


PROXY_DOWN_HINT = "start the proxy, or check the cluster's proxy-url in your kubeconfig"
SOCKS_DOWN_HINT = ("start the SOCKS proxy (an ssh -D session to a bastion, say), or check the cluster's proxy-url "
                   "in your kubeconfig")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    at: BaseException | None = exc
    while at is not None and at not in seen and len(seen) < 10:
        seen.append(at)
        at = at.__cause__ or at.__context__
    return seen


def _said_of_the_proxy(err: SourceError) -> SourceError:
    # the window's banner gives a kind's usual advice for an unreachable cluster ("Check the VPN or
    # network, and that the API server is up"), which is not what helps here: the error's hint is
    err.advice = f"{err.hint[:1].upper()}{err.hint[1:]}, then Retry."
    return err


def proxy_down(prefix: str, proxy: str, reason: BaseException | str, *, socks: bool) -> SourceError:
    """The proxy a kubeconfig's ``proxy-url`` names could not be reached (``proxy``: its host:port,
    never its credentials)."""
    kind, hint = ("SOCKS proxy", SOCKS_DOWN_HINT) if socks else ("proxy", PROXY_DOWN_HINT)
    return _said_of_the_proxy(Unreachable(f"{prefix}cannot reach the {kind} {proxy} (proxy-url): "
                                          f"{_reason_text(reason)}", hint=hint))


def proxy_did_not_connect(prefix: str, proxy: str, target: str, reason: BaseException | str, *,
                          socks: bool) -> SourceError:
    """The proxy of ``proxy-url`` was reached but did not connect to ``target`` (the API server)."""
    if socks:
        return _said_of_the_proxy(Unreachable(
            f"{prefix}the SOCKS proxy {proxy} (proxy-url) could not connect to {target}: {_reason_text(reason)}",
            hint="check the server address, and that the proxy's network reaches it"))
    return _said_of_the_proxy(Unreachable(
        f"{prefix}the proxy (proxy-url) did not connect to {target}: {_reason_text(reason)}",
        hint="check the server address, and that the proxy lets you reach it"))


PROXY_LOGIN_HINT = ("give the proxy's user and password in its address, the cluster's proxy-url (or HTTPS_PROXY "
                    "when it sets none): http://USER:PASSWORD@host:port, as kubectl takes them")


def proxy_login_refused(prefix: str, proxy: str, gave_login: bool | None) -> SourceError:
    """The HTTP proxy of ``proxy-url`` answered 407: it wants a login it was not given, or did not take
    the one given (``gave_login`` None: not known). Never the login itself."""
    said = {True: "did not take the user and password in proxy-url",
            False: "asks for a user and password, and proxy-url gives none",
            None: "asks for a user and password it was not given"}[gave_login]
    return _said_of_the_proxy(Unreachable(f"{prefix}the proxy {proxy} (proxy-url) {said} "
                                          "(407 Proxy Authentication Required)", hint=PROXY_LOGIN_HINT))


def _proxy_failure(exc: BaseException, address: str, prefix: str, u3: Any) -> SourceError | None:
    """A failure of the proxy a kubeconfig's ``proxy-url`` names, said as the proxy's (it was said as
    the API server's: "cannot reach https://10.0.0.1:6443: connection refused" sent the user to check a
    server the laptop never talks to directly). The proxy's address is shown, never its credentials."""
    target = address or "the server"
    if isinstance(exc, u3.MaxRetryError) and isinstance(exc.reason, u3.ProxyError) and "407" in str(exc.reason):
        pool = exc.pool
        proxy_url: Any = getattr(pool, "proxy", None)
        host, port = getattr(proxy_url, "host", None), getattr(proxy_url, "port", None)
        proxy = f"{host}:{port}" if host and port else "the proxy"
        sent = {str(k).lower() for k in (getattr(pool, "proxy_headers", None) or {})}
        return proxy_login_refused(prefix, proxy, "proxy-authorization" in sent)
    socks_options = getattr(getattr(exc, "conn", None), "_socks_options", None)
    if isinstance(exc, u3.NewConnectionError) and isinstance(socks_options, dict):
        proxy = f"{socks_options.get('proxy_host')}:{socks_options.get('proxy_port')}"
        chain = _chain(exc)
        if any(type(e).__name__ == "ProxyConnectionError" for e in chain):
            return proxy_down(prefix, proxy, chain[-1], socks=True)
        return proxy_did_not_connect(prefix, proxy, target, chain[-1], socks=True)
    if isinstance(exc, u3.ProxyError):
        inner = getattr(exc, "original_error", None) or (exc.args[1] if len(exc.args) > 1 else None)
        conn = getattr(inner, "conn", None)
        host, port = getattr(conn, "host", ""), getattr(conn, "port", None)
        proxy = (f"{host}:{port}" if port else str(host)) if host else "the proxy"
        if isinstance(inner, u3.NewConnectionError | u3.ConnectTimeoutError):
            return proxy_down(prefix, proxy, inner, socks=False)
        return proxy_did_not_connect(prefix, proxy, target, inner if inner is not None else exc, socks=False)
    return None


def _network_error(exc: BaseException, address: str, what: str) -> SourceError | None:
    """urllib3/requests/socket/ssl failures; None when ``exc`` is none of those."""
    try:
        import urllib3.exceptions as u3
    except ImportError:  # pragma: no cover - urllib3 comes with kubernetes and requests
        u3 = None  # type: ignore[assignment]
    where = f" {address}" if address else " the server"
    prefix = f"{what}: " if what else ""

    if u3 is not None:
        through_proxy = _proxy_failure(exc, address, prefix, u3)
        if through_proxy is not None:
            return through_proxy
        if isinstance(exc, u3.MaxRetryError):
            address = address or _pool_address(getattr(exc, "pool", None))
            inner = exc.reason
            if inner is not None:
                sub = _network_error(inner, address, what)
                if sub is not None:
                    return sub
            return Unreachable(f"{prefix}cannot reach{' ' + address if address else ' the server'}: "
                               f"{_reason_text(inner or exc)}")
        if isinstance(exc, u3.ReadTimeoutError):
            address = address or _pool_address(getattr(exc, "pool", None))
            return Timeout(f"{prefix}{address or 'the server'} did not answer in time",
                           hint=_no_answer_hint(address))
        if isinstance(exc, u3.NewConnectionError):
            address = address or _conn_address(getattr(exc, "conn", None))
            return Unreachable(f"{prefix}cannot reach{' ' + address if address else ' the server'}: "
                               f"{_reason_text(exc)}", hint="check the network, VPN or proxy")
        if isinstance(exc, u3.ConnectTimeoutError):
            return Unreachable(f"{prefix}cannot reach{where}: no answer within the timeout",
                               hint="check the network, VPN or proxy")
        if isinstance(exc, u3.SSLError):
            return Unreachable(f"{prefix}TLS with{where} failed: {_reason_text(exc)}")
        if isinstance(exc, u3.ProtocolError):
            cause: BaseException = exc
            if len(exc.args) > 1 and isinstance(exc.args[1], BaseException):
                cause = exc.args[1]
            import http.client

            if isinstance(cause, http.client.IncompleteRead):
                # said "connection to ... failed: IncompleteRead(39 bytes read, 961 more expected)"
                came, expected = len(cause.partial), cause.expected
                of = f" ({came:,} of {came + expected:,} bytes came)" if expected is not None else ""
                return Unreachable(f"{prefix}{address or 'the server'} stopped in the middle of its answer{of}",
                                   hint="try again; if it repeats, a proxy on the way may limit the size or the "
                                        "time of an answer")
            return Unreachable(f"{prefix}connection to{where} failed: {_reason_text(cause)}")
        if isinstance(exc, u3.DecodeError):  # a tuple's repr: "('Received response with content-encoding: ..."
            return Unreachable(f"{prefix}{address or 'the server'} sent a compressed answer that cannot be "
                               "decompressed")
        if isinstance(exc, u3.HTTPError):
            return Unreachable(f"{prefix}talking to{where} failed: {_reason_text(exc)}")

    try:
        import requests
    except ImportError:  # pragma: no cover
        requests = None  # type: ignore[assignment]
    if requests is not None and isinstance(exc, requests.RequestException):
        req = getattr(exc, "request", None)
        url = getattr(req, "url", "") or ""
        if url and not address:
            m = re.match(r"^(\w+://[^/?#]+)", url)
            address = m.group(1) if m else ""
            address = redact(re.sub(r"//[^@/]*@", "//", address))  # drop user:password@
        where = f" {address}" if address else " the server"
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return Timeout(f"{prefix}{address or 'the server'} did not answer in time",
                           hint=_no_answer_hint(address))
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return Unreachable(f"{prefix}cannot reach{where}: no answer within the timeout",
                               hint="check the network, VPN or proxy")
        if isinstance(exc, requests.exceptions.SSLError):
            return Unreachable(f"{prefix}TLS with{where} failed: {_reason_text(exc)}")
        if isinstance(exc, requests.exceptions.ConnectionError):
            wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
            if wrapped is not None:
                sub = _network_error(wrapped, address, what)
                if sub is not None:
                    return sub
            return Unreachable(f"{prefix}cannot reach{where}: {_reason_text(exc)}",
                               hint="check the network, VPN or proxy")
        return None

    if isinstance(exc, socket.timeout | TimeoutError):
        return Timeout(f"{prefix}{address or 'the server'} did not answer in time",
                       hint=_no_answer_hint(address))
    if isinstance(exc, ssl.SSLError):
        return Unreachable(f"{prefix}TLS with{where} failed: {_reason_text(exc)}")
    if isinstance(exc, ConnectionError | socket.gaierror):
        return Unreachable(f"{prefix}cannot reach{where}: {_reason_text(exc)}",
                           hint="check the network, VPN or proxy")
    return None


def exec_plugin_error(command: str, exc: BaseException) -> CredentialPluginError:
    """A failed kubeconfig exec credential plugin (aws, gke-gcloud-auth-plugin, kubelogin ...)."""
    plugin = command.rsplit("/", 1)[-1] or command
    if isinstance(exc, FileNotFoundError):
        return CredentialPluginError(f"the credential plugin '{plugin}' was not found", hint=PATH_HINT)
    if isinstance(exc, PermissionError):
        return CredentialPluginError(f"the credential plugin '{plugin}' cannot be run (permission denied)",
                                     hint="make it executable")
    text = re.sub(r"^exec:\s*", "", str(exc))
    exit_code = re.match(r"process returned (-?\d+)", text)
    if exit_code is None:  # it ran and exited 0 but printed no usable ExecCredential, or cannot be started
        text = re.sub(r"^failed to decode process output:.*", "its output is not an ExecCredential (not JSON)",
                      text, flags=re.DOTALL)
        hint = PLUGIN_OUTPUT_HINT
    elif exit_code.group(1) == "127":  # the shell's "command not found": a command the plugin runs is missing
        hint = PATH_HINT
    else:  # it was found and said no: usually an expired login
        hint = PLUGIN_FAILED_HINT
    return CredentialPluginError(f"the credential plugin '{plugin}' failed: {_clean(text, 300)}", hint=hint)


def translate(exc: BaseException, *, what: str = "") -> SourceError:
    """Map a library exception to a typed ``SourceError`` with a plain, one-line, redacted message.

    ``what`` says what was being done ("list pods in bookinfo", "exec plugin aws") and is used where
    the exception itself does not say it."""
    if isinstance(exc, SourceError):
        return exc

    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException

    if isinstance(exc, ApiException):
        return _api_exception(exc, what)
    if isinstance(exc, ConfigException):
        text = str(exc)
        if text.startswith("exec:") or what.startswith("exec plugin"):
            plugin = what.removeprefix("exec plugin").strip() or "exec"
            return exec_plugin_error(plugin, exc)
        return ConfigError(_clean(f"{what}: {text}" if what else text))

    net = _network_error(exc, "", what)
    if net is not None:
        return net
    if isinstance(exc, FileNotFoundError):
        return ConfigError(_clean(f"{what + ': ' if what else ''}file not found: {exc.filename or exc}"))
    if isinstance(exc, PermissionError):
        return ConfigError(_clean(f"{what + ': ' if what else ''}permission denied: {exc.filename or exc}"))
    text = str(exc) or type(exc).__name__
    return SourceError(_clean(f"{what}: {text}" if what else text))
