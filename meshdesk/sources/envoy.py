"""An Envoy proxy's ``/config_dump`` and ``/stats`` (its admin port, 15000, inside the pod), read through
the API server, and its log level set (``POST /logging?level=``, ``set_log_level``) the same ways.

``KubeEnvoyAdmin(api_client).config_dump(namespace, pod)`` asks, in order:

1. the API server's pod proxy, ``/api/v1/namespaces/{ns}/pods/{pod}:15000/proxy/config_dump`` (``get``
   on ``pods/proxy``);
2. when that is refused (403), or cannot reach the port (502/503: Istio binds Envoy's admin to the
   pod's localhost, which the API server's proxy cannot reach), a port-forward to the pod's port 15000
   (``create`` on ``pods/portforward``), as Kiali reads it. Once the proxy was refused, later requests
   of the same ``KubeEnvoyAdmin`` go straight to the port-forward: every request when the proxy could
   not reach the port, requests of the same method when it was forbidden (``get`` on ``pods/proxy``
   does not imply ``create``, which a POST needs, nor the other way round).

Either way the answer is read in pieces and no further than ``MAX_DUMP_BYTES`` (``TooLarge`` names
the limit), then decoded and its secret material removed (``meshdesk.mesh.envoy.redact_secrets``)
before it is returned: no private key is kept, shown or logged. Failures are typed: ``PodGone`` (the
pod no longer exists), ``NoEnvoyAdmin`` (nothing answers on port 15000: no sidecar, or Envoy not
started), ``NotADump`` (the proxy answered something else: not JSON, nested without end, no
``configs``), ``TooLarge``, ``Forbidden`` naming both rights that would do, ``Timeout``, ``Unreachable``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import threading
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from meshdesk.mesh.envoy import redact_secrets
from meshdesk.sources.base import (
    Forbidden,
    NotFound,
    SourceError,
    Timeout,
    TooLarge,
    Unauthorized,
    Unreachable,
    size_words,
)
from meshdesk.sources.errors import one_line, redact, translate
from meshdesk.sources.inventory import RawApi
from meshdesk.sources.portforward import open_port_forward

ENVOY_ADMIN_PORT = 15000
CONFIG_DUMP_PATH = "/config_dump"
STATS_PATH = "/stats"
LOGGING_PATH = "/logging"
# Envoy's log levels, from the most it writes to nothing (Istio's proxies start at "warning")
LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")
MAX_LOGGING_BYTES = 1024 * 1024  # the loggers and their levels, as /logging lists them
MAX_DUMP_BYTES = 256 * 1024 * 1024  # a dump larger than this is not read, either way (~1.3M clusters)
MAX_STATS_BYTES = 64 * 1024 * 1024  # statistics: about 600k lines
RIGHTS = "`get` on `pods/proxy` or `create` on `pods/portforward`"
WRITE_RIGHTS = "`create` on `pods/proxy` or on `pods/portforward`"


class PodGone(NotFound):
    """The pod asked about no longer exists (a rollout replaced it)."""


class NoEnvoyAdmin(SourceError):
    """Nothing answers on the pod's Envoy admin port: the pod runs no sidecar, or Envoy is not up."""

    kind = "no-proxy"


class EnvoySource(Protocol):
    def config_dump(self, namespace: str, pod: str) -> dict[str, Any]: ...

    def stats(self, namespace: str, pod: str) -> str: ...

    def set_log_level(self, namespace: str, pod: str, level: str) -> dict[str, str]: ...

    def log_levels(self, namespace: str, pod: str) -> dict[str, str]: ...


class NotADump(SourceError):
    """The proxy answered, with something that is not an Envoy config dump."""

    kind = "not-a-dump"


def _finite_float(text: str) -> float | str:
    # JSON has no NaN or infinity: a number too large for a float (1e400) stays as its text, as NaN and
    # Infinity do (``parse_constant``), so the dump shown and saved is strict JSON
    value = float(text)
    return value if math.isfinite(value) else text


def _decode(body: bytes, what: str) -> dict[str, Any]:
    """The config dump in the proxy's answer, without its secret material (before anything keeps it)."""
    if not body.strip():
        raise NotADump(f"{what}: the proxy answered, but not with a config dump (the answer is empty)")
    try:
        doc = json.loads(body, parse_constant=str, parse_float=_finite_float)
    except RecursionError:  # before ValueError: it is not one, and it must not reach a log as a traceback
        raise NotADump(f"{what}: the proxy answered, but not with a config dump (JSON nested deeper than "
                       "any config dump)") from None
    except ValueError:
        raise NotADump(f"{what}: the proxy answered, but not with a config dump (not JSON)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("configs"), list):
        raise NotADump(f"{what}: the proxy answered, but not with a config dump (no \"configs\" list)")
    try:
        clean, _ = redact_secrets(doc)
    except RecursionError:
        raise NotADump(f"{what}: the proxy answered, but not with a config dump (JSON nested deeper than "
                       "any config dump)") from None
    out: dict[str, Any] = clean
    return out


PORT_FORWARD_THREAD = "Kubernetes port forward proxy"  # how the kubernetes client names its relay threads


def quiet_port_forward_resets(default: Callable[[Any], object]) -> Callable[[Any], object]:
    """A ``threading.excepthook`` that drops what the kubernetes client's port-forward relay thread
    raises when meshdesk closes a forward it stopped reading (an answer over the size limit: the
    unread bytes make the socket reset, and the relay's ``recv`` fails), and hands everything else to
    ``default``. That thread is the library's; its failure is expected and says nothing to a user."""

    def hook(args: Any) -> object:
        thread = getattr(args, "thread", None)
        name = str(getattr(thread, "name", "") or "")
        if name.startswith(PORT_FORWARD_THREAD) and isinstance(getattr(args, "exc_value", None),
                                                               ConnectionResetError | BrokenPipeError):
            return None
        return default(args)

    return hook


def parse_log_levels(text: str) -> dict[str, str]:
    """The loggers and their levels in Envoy's answer to ``/logging`` ("active loggers:" then
    ``  name: level`` lines); lines of other shapes are left out."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, level = line.strip().partition(": ")
        if sep and name and " " not in name and level.strip() in LOG_LEVELS:
            out[name] = level.strip()
    return out


def summarize_log_levels(loggers: dict[str, str]) -> str:
    """The level most of the proxy's loggers are at, then the others' ("warning", "warning (some
    loggers at debug)"); "" when none is listed. Levels are those of ``parse_log_levels``."""
    counts = {level: list(loggers.values()).count(level) for level in LOG_LEVELS if level in loggers.values()}
    if not counts:
        return ""
    main = max(counts, key=counts.__getitem__)  # on a tie, the more verbose (LOG_LEVELS' order)
    others = [level for level in counts if level != main]
    return main + (f" (some loggers at {', '.join(others)})" if others else "")


def _too_large(what: str, limit: int, namespace: str, pod: str) -> TooLarge:
    return TooLarge(f"{what}: the config dump is larger than {size_words(limit)}, the most meshdesk reads",
                    hint=f"istioctl proxy-config all {pod} -n {namespace} -o json writes it whole")


def _pod_gone(e: SourceError, namespace: str, pod: str) -> bool:
    return isinstance(e, NotFound) and f'pods "{pod}" not found' in e.message


class KubeEnvoyAdmin:
    """Reads Envoy admin pages of pods over the official client's connection (its credentials, TLS and
    proxy settings). The Envoy dock asks from three worker threads at once (config dump, statistics,
    log level): ``last_way`` is each thread's own."""

    def __init__(self, api_client: Any, *, timeout: float = 30.0, max_bytes: int = MAX_DUMP_BYTES) -> None:
        self.api_client = api_client
        self.timeout = timeout
        self.max_bytes = max_bytes  # a bigger answer is not read further, whichever way it comes
        # the methods ("GET", "POST") the pod proxy refused once, with its words: they go straight to
        # the port-forward (and a refused port-forward then names both rights missing)
        self.port_forward_methods: dict[str, str] = {}
        self._local = threading.local()

    @property
    def last_way(self) -> str:
        """How this thread's last request reached the proxy, in words (for the status line)."""
        return str(getattr(self._local, "way", ""))

    @last_way.setter
    def last_way(self, way: str) -> None:
        self._local.way = way

    def config_dump(self, namespace: str, pod: str) -> dict[str, Any]:
        what = f"read the Envoy config of {namespace}/{pod}"
        return _decode(self._admin_get(namespace, pod, CONFIG_DUMP_PATH, (), what, self.max_bytes,
                                       lambda: _too_large(what, self.max_bytes, namespace, pod)), what)

    def stats(self, namespace: str, pod: str) -> str:
        """The proxy's statistics that have been updated (``/stats?usedonly``), as Envoy writes them:
        ``name: value`` lines. At most ``MAX_STATS_BYTES`` of them are read."""
        what = f"read the Envoy statistics of {namespace}/{pod}"
        limit = min(self.max_bytes, MAX_STATS_BYTES)
        body = self._admin_get(namespace, pod, STATS_PATH, (("usedonly", ""),), what, limit, lambda: TooLarge(
            f"{what}: the statistics are larger than {size_words(limit)}, the most meshdesk reads",
            hint=f"kubectl exec {pod} -n {namespace} -c istio-proxy -- pilot-agent request GET stats "
                 "writes them whole"))
        return body.decode("utf-8", errors="replace")

    def set_log_level(self, namespace: str, pod: str, level: str) -> dict[str, str]:
        """Set every logger of the pod's proxy to ``level`` (``POST /logging?level=``, until the proxy
        restarts); the loggers and their levels as the proxy then lists them."""
        if level not in LOG_LEVELS:
            raise ValueError(f"{level!r} is no Envoy log level (one of {', '.join(LOG_LEVELS)})")
        what = f"set the Envoy log level of {namespace}/{pod}"
        body = self._admin_get(namespace, pod, LOGGING_PATH, (("level", level),), what, MAX_LOGGING_BYTES,
                               lambda: TooLarge(f"{what}: the proxy's answer is larger than "
                                                f"{size_words(MAX_LOGGING_BYTES)}"), method="POST",
                               rights=WRITE_RIGHTS)
        return parse_log_levels(body.decode("utf-8", errors="replace"))

    def log_levels(self, namespace: str, pod: str) -> dict[str, str]:
        """The proxy's loggers and their levels now: ``POST /logging`` without a level changes nothing
        and lists them (Envoy's admin answers ``GET /logging`` with 405: it takes only POSTs there)."""
        what = f"read the Envoy log level of {namespace}/{pod}"
        body = self._admin_get(namespace, pod, LOGGING_PATH, (), what, MAX_LOGGING_BYTES,
                               lambda: TooLarge(f"{what}: the proxy's answer is larger than "
                                                f"{size_words(MAX_LOGGING_BYTES)}"), method="POST",
                               rights=WRITE_RIGHTS)
        return parse_log_levels(body.decode("utf-8", errors="replace"))

    def _admin_get(self, namespace: str, pod: str, path: str, query: tuple[tuple[str, str], ...], what: str,
                   limit: int, too_large: Callable[[], TooLarge], *, method: str = "GET",
                   rights: str = RIGHTS) -> bytes:
        """A request to the pod's Envoy admin ``path`` (a GET, or a POST for what changes the proxy):
        through the pod proxy, or the port-forward when that is refused or cannot reach the port (see
        the module's words)."""
        refused = self.port_forward_methods.get(method, "")
        if method not in self.port_forward_methods:
            try:
                body = self._through_proxy(namespace, pod, what, path, query, limit, method)
            except TooLarge:
                raise too_large() from None
            except SourceError as e:
                if _pod_gone(e, namespace, pod):
                    raise PodGone(f"{what}: the pod no longer exists", hint="pick one of its pods now") from None
                status = getattr(e, "http_status", None)
                if not (isinstance(e, Forbidden) or status in (502, 503)):
                    raise
                refused = e.message
                # forbidden: this verb on pods/proxy; unreachable: the port, whatever the method
                self.port_forward_methods.update(dict.fromkeys((method,) if isinstance(e, Forbidden)
                                                               else ("GET", "POST"), refused))
            else:
                self.last_way = "API server pod proxy"
                return body
        try:
            body = self._through_port_forward(namespace, pod, what, path, query, limit, too_large, method)
        except Forbidden:
            proxy_verb = "get" if method == "GET" else "create"
            if refused and "not allowed" in refused:
                raise Forbidden(f"{what}: not allowed to {proxy_verb} pods/proxy nor to create pods/portforward "
                                f"in {namespace}", hint=f"ask a cluster admin for {rights} in {namespace}") from None
            raise Forbidden(f"{what}: not allowed to create pods/portforward in {namespace}",
                            hint=f"ask a cluster admin for {rights} in {namespace}") from None
        self.last_way = "port-forward"
        return body

    # -- the two ways ---------------------------------------------------------------------------------
    def _through_proxy(self, namespace: str, pod: str, what: str, admin_path: str,
                       query: tuple[tuple[str, str], ...], limit: int, method: str = "GET") -> bytes:
        path = (f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}:{ENVOY_ADMIN_PORT}"
                f"/proxy{admin_path}")
        api = RawApi(self.api_client, self.timeout, None)
        if method == "POST":
            body = api.post_bytes(path, query, what=what)
            if len(body) > limit:
                raise TooLarge(f"{what}: the answer is larger than {size_words(limit)}")
            return body
        return api.get_bytes(path, max_bytes=limit, what=what, query=query)

    def _through_port_forward(self, namespace: str, pod: str, what: str, admin_path: str,
                              query: tuple[tuple[str, str], ...], limit: int,
                              too_large: Callable[[], TooLarge], method: str = "GET") -> bytes:
        from kubernetes.client.exceptions import ApiException

        try:
            # through the cluster's proxy-url, as the API calls go (see sources.portforward)
            pf = open_port_forward(self.api_client, namespace, pod, ENVOY_ADMIN_PORT, timeout=self.timeout)
        except ApiException as e:
            raise self._handshake_error(e, namespace, pod, what) from None
        except Exception as e:  # noqa: BLE001 - every library failure becomes a typed, secret-free error
            raise translate(e, what=what) from None
        try:
            conn = http.client.HTTPConnection("localhost", ENVOY_ADMIN_PORT, timeout=self.timeout)
            sock = pf.socket(ENVOY_ADMIN_PORT)
            sock.settimeout(self.timeout)
            conn.sock = sock
            try:
                target = admin_path + ("?" + urlencode(query).replace("=&", "&").rstrip("=") if query else "")
                conn.request(method, target, headers={"Accept": "application/json"})
                resp = conn.getresponse()
                declared = str(resp.getheader("Content-Length") or "")
                if resp.status == 200 and declared.isdigit() and int(declared) > limit:
                    raise too_large()
                body = resp.read(limit + 1)  # never more than one byte past the limit
            except TimeoutError:
                raise Timeout(f"{what}: the proxy did not answer within {self.timeout:g} s") from None
            except (http.client.HTTPException, OSError):
                said = one_line(redact(str(pf.error(ENVOY_ADMIN_PORT) or "")), 300)
                raise NoEnvoyAdmin(f"{what}: nothing answers on port {ENVOY_ADMIN_PORT} of the pod"
                                   + (f" ({said})" if said else ""),
                                   hint="the pod runs no Istio sidecar, or its proxy has not started") from None
            if len(body) > limit:
                raise too_large()
            if resp.status != 200:
                raise SourceError(f"{what}: the proxy answered {resp.status} {resp.reason}")
            return body
        finally:
            with contextlib.suppress(Exception):
                pf.close()

    @staticmethod
    def _handshake_error(e: Any, namespace: str, pod: str, what: str) -> SourceError:
        """The port-forward's WebSocket refused: the status is in the reason text ("Handshake status
        403 Forbidden") with the API's Status object as the body, when the client kept it."""
        status = int(getattr(e, "status", 0) or 0)
        reason = str(getattr(e, "reason", "") or "")
        body = str(getattr(e, "body", "") or "")
        if status == 403 or "403" in reason:
            return Forbidden(f"{what}: not allowed to create pods/portforward in {namespace}")
        if status == 401 or "401" in reason:
            return Unauthorized("credentials expired or rejected: run your login again, e.g. `kubectl get ns`")
        if status == 404 or "404" in reason:
            if f'pods "{pod}" not found' in body or "404" in reason:
                return PodGone(f"{what}: the pod no longer exists", hint="pick one of its pods now")
        translated = translate(e, what=what)
        return translated if isinstance(translated, SourceError) else Unreachable(str(translated))


__all__ = ["CONFIG_DUMP_PATH", "ENVOY_ADMIN_PORT", "LOG_LEVELS", "MAX_DUMP_BYTES", "MAX_STATS_BYTES", "STATS_PATH",
           "parse_log_levels", "summarize_log_levels", "EnvoySource", "KubeEnvoyAdmin", "NoEnvoyAdmin",
           "NotADump", "PodGone"]
