"""A pod port-forward (the API server's ``pods/portforward`` over a WebSocket) opened the way kubectl
opens it, for the Envoy dock's admin port and a Prometheus only a port-forward reaches.

The official client's ``kubernetes.stream.portforward`` is not used to connect: it sends the WebSocket
to an HTTP proxy whatever the cluster's ``proxy-url`` is (a SOCKS one too), without the credentials the
URL holds, and it does not ask again after a 401. Here:

* the connection goes through the cluster's proxy as the API calls do (``Configuration.proxy``, which
  is the kubeconfig's ``proxy-url`` or the environment's, and ``no_proxy``): a SOCKS proxy is left to
  look the server's name up for ``socks5h`` (what a kubeconfig's ``socks5`` becomes, as kubectl leaves
  the name to the proxy); an HTTP proxy is asked to ``CONNECT``, with ``Proxy-Authorization`` made of
  the URL's user and password (never logged, never in a message);
* TLS is the client's: its CA (or none checked with ``insecure-skip-tls-verify``), client certificate,
  ``tls-server-name``;
* the credential is asked for as for any request (renewed before it expires), and after a 401 to an
  exec plugin's credential the plugin is run once more and the port-forward asked for once more.

The WebSocket is then handed to the official client's ``PortForward``, which relays the port.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from meshdesk.sources.base import ConfigError
from meshdesk.sources.errors import proxy_did_not_connect, proxy_down, proxy_login_refused, translate
from meshdesk.sources.inventory import api_auth_headers, sent_again_after_401

_SOCKS_SCHEMES = ("socks5", "socks5h", "socks4", "socks4a")


def open_port_forward(api_client: Any, namespace: str, pod: str, port: int, *, timeout: float | None) -> Any:
    """A ``kubernetes.stream.ws_client.PortForward`` to ``pod``:``port``. The API server's refusal of the
    WebSocket raises ``ApiException`` (status and body as the server answered them, "Handshake status
    403 Forbidden" as the reason, as the official client words it); a proxy that is down or refuses
    raises a typed ``Unreachable`` naming it; other failures a typed ``SourceError``."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.stream.ws_client import PortForward
    from websocket import WebSocketBadStatusException

    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/portforward?ports={int(port)}"
    what = f"port-forward to {namespace}/{pod}"
    try:
        # a 401 to an exec plugin's credential: the plugin run once more and the port-forward asked again
        ws = sent_again_after_401(api_client.configuration, lambda: _websocket(api_client, path, timeout, what),
                                  lambda e: getattr(e, "status_code", None) == 401)
    except WebSocketBadStatusException as e:
        refusal = ApiException(status=e.status_code, reason=f"Handshake status {e.status_code} "
                                                            f"{getattr(e, 'status_message', '') or ''}".strip())
        body = getattr(e, "resp_body", None)
        refusal.body = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
        raise refusal from None
    return PortForward(ws, [int(port)])  # type: ignore[no-untyped-call]


def _websocket(api_client: Any, path: str, timeout: float | None, what: str) -> Any:
    from kubernetes.stream.ws_client import V4_CHANNEL_PROTOCOL, V5_CHANNEL_PROTOCOL
    from websocket import WebSocket, WebSocketBadStatusException

    cfg = api_client.configuration
    server = urlsplit(str(cfg.host).rstrip("/"))
    secure = server.scheme == "https"
    host = server.hostname or ""
    port = server.port or (443 if secure else 80)
    url = f"{'wss' if secure else 'ws'}://{server.netloc}{server.path}{path}"
    headers = [f"{name}: {value}" for name, value in api_auth_headers(cfg).items()]
    headers.append(f"sec-websocket-protocol: {V5_CHANNEL_PROTOCOL},{V4_CHANNEL_PROTOCOL}")
    if getattr(api_client, "user_agent", None):
        headers.append(f"user-agent: {api_client.user_agent}")
    sock = _connect(cfg, host, port, timeout, f"{what}: ", f"{server.scheme}://{server.netloc}")
    try:
        if secure:
            sock = _tls(cfg).wrap_socket(sock, server_hostname=getattr(cfg, "tls_server_name", None) or host)
        ws = WebSocket(skip_utf8_validation=False)
        ws.connect(url, header=headers, socket=sock, timeout=timeout)  # type: ignore[no-untyped-call]
        ws.settimeout(None)  # the relay waits on it for as long as the port-forward is used
        return ws
    except WebSocketBadStatusException:
        with contextlib.suppress(OSError):
            sock.close()
        raise
    except Exception as e:  # noqa: BLE001 - every library failure becomes a typed, secret-free error
        with contextlib.suppress(OSError):
            sock.close()
        raise translate(e, what=what) from None


def _tls(cfg: Any) -> ssl.SSLContext:
    """The TLS the official client speaks to the API server: its CA, its verification, its client certificate."""
    if getattr(cfg, "verify_ssl", True) is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ca = getattr(cfg, "ssl_ca_cert", None)
        if not ca:
            import certifi

            ca = certifi.where()
        ctx = ssl.create_default_context(cafile=ca)
        if getattr(cfg, "assert_hostname", None) is False:
            ctx.check_hostname = False
    cert_file = getattr(cfg, "cert_file", None)
    if cert_file:
        ctx.load_cert_chain(cert_file, getattr(cfg, "key_file", None) or None)
    return ctx


def _connect(cfg: Any, host: str, port: int, timeout: float | None, prefix: str, target: str) -> socket.socket:
    """A TCP connection to the API server: through the client's proxy unless ``no_proxy`` names the server."""
    import requests

    proxy = str(getattr(cfg, "proxy", None) or "")
    no_proxy = getattr(cfg, "no_proxy", None)
    if proxy and not (no_proxy and requests.utils.should_bypass_proxies(str(cfg.host), no_proxy=no_proxy)):
        parts = urlsplit(proxy)
        scheme = parts.scheme.lower()
        if scheme in _SOCKS_SCHEMES:
            return _through_socks(parts, scheme, host, port, timeout, prefix, target)
        if scheme in ("http", "https"):
            return _through_http_proxy(parts, scheme, host, port, timeout, prefix, target)
        raise ConfigError(f"{prefix}the cluster's proxy-url is a {scheme or 'scheme-less'} address; kubectl takes "
                          "http, https, socks5 and socks5h proxies", hint="check proxy-url in your kubeconfig")
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        raise translate(e, what=prefix.removesuffix(": ")) from None


def _proxy_address(parts: Any, default_port: int) -> tuple[str, int]:
    try:
        return str(parts.hostname or ""), int(parts.port or default_port)
    except ValueError:  # a port that is not a number
        raise ConfigError("the cluster's proxy-url has a port that is not a port number",
                          hint="check proxy-url in your kubeconfig") from None


def _through_socks(parts: Any, scheme: str, host: str, port: int, timeout: float | None, prefix: str,
                   target: str) -> socket.socket:
    import socks

    proxy_host, proxy_port = _proxy_address(parts, 1080)
    shown = f"{proxy_host}:{proxy_port}"
    try:
        sock: socket.socket = socks.create_connection(
            (host, port), timeout=timeout, proxy_type=socks.SOCKS5 if scheme.startswith("socks5") else socks.SOCKS4,
            proxy_addr=proxy_host, proxy_port=proxy_port,
            # the name left to the proxy to look up (a name only the bastion's network knows)
            proxy_rdns=scheme in ("socks5h", "socks4a"),
            proxy_username=unquote(parts.username) if parts.username else None,
            proxy_password=unquote(parts.password) if parts.password else None)
    except socks.ProxyConnectionError as e:
        raise proxy_down(prefix, shown, e.socket_err or e.msg, socks=True) from None
    except socks.ProxyError as e:
        raise proxy_did_not_connect(prefix, shown, target, e.msg, socks=True) from None
    except OSError as e:
        raise proxy_down(prefix, shown, e, socks=True) from None
    return sock


def _through_http_proxy(parts: Any, scheme: str, host: str, port: int, timeout: float | None, prefix: str,
                        target: str) -> socket.socket:
    proxy_host, proxy_port = _proxy_address(parts, 443 if scheme == "https" else 80)
    shown = f"{proxy_host}:{proxy_port}"
    try:
        sock = socket.create_connection((proxy_host, proxy_port), timeout=timeout)
    except OSError as e:
        raise proxy_down(prefix, shown, e, socks=False) from None
    try:
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=proxy_host)
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        request = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        if parts.username is not None:
            login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            request += f"Proxy-Authorization: Basic {base64.b64encode(login.encode()).decode()}\r\n"
        sock.sendall((request + "\r\n").encode("latin-1"))
        answer = b""
        while b"\r\n\r\n" not in answer:  # the proxy says nothing more before the tunnel is used
            part = sock.recv(4096)
            if not part:
                break
            answer += part
            if len(answer) > 65536:
                break
    except OSError as e:
        sock.close()
        raise proxy_did_not_connect(prefix, shown, target, e, socks=False) from None
    status_line = answer.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    fields = status_line.split(" ", 2)
    status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
    if status == 200:
        return sock
    sock.close()
    if status == 407:
        raise proxy_login_refused(prefix, shown, parts.username is not None)
    reason = status_line.split(" ", 1)[1] if status else "it did not answer as an HTTP proxy"
    raise proxy_did_not_connect(prefix, shown, target, reason, socks=False)
