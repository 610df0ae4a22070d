"""A small HTTP proxy for tests that tunnels with ``CONNECT`` only (as a corporate proxy lets a laptop
reach an HTTPS API server), optionally asking for Basic credentials (``407`` without them).

It runs on 127.0.0.1 on a free port and relays each tunnel to its target, a host name looked up in
``hosts`` first (names only the proxy's network knows), then in the system's resolver. ``connects`` records every
target asked for, as ``(host as asked, port)``; ``authorizations`` every ``Proxy-Authorization``
header it was sent (None for a CONNECT without one); ``refused`` counts the tunnels refused for want
of the right credentials.

Usage::

    with ConnectProxy(user="jane", password="s3cret") as proxy:
        proxy.url  # http://jane:s3cret@127.0.0.1:PORT
"""

from __future__ import annotations

import base64
import socket
import socketserver
from collections.abc import Mapping

from tests.socks_proxy import ServedProxy, relay


class ConnectProxy(ServedProxy):
    def __init__(self, user: str = "", password: str = "", hosts: Mapping[str, str] | None = None) -> None:
        self.user, self.password = user, password
        self.hosts = dict(hosts or {})
        self.connects: list[tuple[str, int]] = []
        self.authorizations: list[str | None] = []
        self.refused = 0
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request, self.rfile)

        self._listen(Handler, "connect-proxy")
        credentials = f"{user}:{password}@" if user else ""
        self.url = f"http://{credentials}127.0.0.1:{self.port}"

    # -- one client ------------------------------------------------------------------------------
    def _serve(self, client: socket.socket, rfile: object) -> None:
        try:
            line = rfile.readline(65537).decode("latin-1")  # type: ignore[attr-defined]
            headers: dict[str, str] = {}
            while True:
                header = rfile.readline(65537).decode("latin-1")  # type: ignore[attr-defined]
                if header in ("\r\n", "\n", ""):
                    break
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
        except OSError:
            return
        method, _, rest = line.partition(" ")
        target = rest.split(" ")[0]
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        host, _, port_text = target.rpartition(":")
        self.connects.append((host.strip("[]"), int(port_text)))
        said = headers.get("proxy-authorization")
        self.authorizations.append(said)
        if self.user:
            wanted = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            if said != wanted:
                self.refused += 1
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                               b'Proxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n'
                               b"Connection: close\r\n\r\n")
                return
        try:
            upstream = socket.create_connection((self.hosts.get(host, host.strip("[]")), int(port_text)), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        upstream.settimeout(None)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        relay(client, upstream, "connect-relay")

