"""A small SOCKS5 proxy for tests (RFC 1928, no authentication, CONNECT only), like ``ssh -D`` gives a
laptop that reaches a private cluster through a bastion.

It runs on 127.0.0.1 on a free port and relays each connection to its target. Host names it is asked
for are looked up in ``hosts`` first (names only the bastion's network knows), then in the system's
resolver. ``connects`` records every target asked for, as ``(host as asked, port)``: a name when the
client left the lookup to the proxy (``socks5h``, and kubectl's ``socks5``), an address when it looked
the name up itself.

Usage::

    with SocksProxy(hosts={"kube.bastion.internal": "127.0.0.1"}) as proxy:
        proxy.url  # socks5://127.0.0.1:PORT
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import socketserver
import struct
import threading
from collections.abc import Mapping
from typing import Self


def relay(client: socket.socket, upstream: socket.socket, name: str) -> None:
    """Pass bytes both ways between a proxy's client and the server it asked for, until either side is done."""
    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    back = threading.Thread(target=pump, args=(upstream, client), name=name, daemon=True)
    back.start()
    pump(client, upstream)
    back.join(timeout=30)
    upstream.close()


class ServedProxy:
    """A proxy listening on a free 127.0.0.1 port, its clients served on threads, while in a ``with``."""

    port: int

    def _listen(self, handler: type[socketserver.BaseRequestHandler], name: str) -> None:
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=name, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class SocksProxy(ServedProxy):
    def __init__(self, hosts: Mapping[str, str] | None = None) -> None:
        self.hosts = dict(hosts or {})
        self.connects: list[tuple[str, int]] = []
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        self._listen(Handler, "socks-proxy")
        self.url = f"socks5://127.0.0.1:{self.port}"

    # -- one client ------------------------------------------------------------------------------
    def _serve(self, client: socket.socket) -> None:
        def read(n: int) -> bytes:
            data = b""
            while len(data) < n:
                part = client.recv(n - len(data))
                if not part:
                    raise ConnectionError("client went away")
                data += part
            return data

        try:
            version, count = read(2)
            if version != 5:
                return
            methods = read(count)
            if 0 not in methods:  # no "no authentication" offered
                client.sendall(b"\x05\xff")
                return
            client.sendall(b"\x05\x00")
            _version, command, _reserved, kind = read(4)
            if kind == 1:
                host = str(ipaddress.IPv4Address(read(4)))
            elif kind == 3:
                host = read(read(1)[0]).decode("idna")
            elif kind == 4:
                host = str(ipaddress.IPv6Address(read(16)))
            else:
                client.sendall(b"\x05\x08\x00\x01" + bytes(6))  # address type not supported
                return
            (port,) = struct.unpack("!H", read(2))
            self.connects.append((host, port))
            if command != 1:
                client.sendall(b"\x05\x07\x00\x01" + bytes(6))  # command not supported
                return
            try:
                upstream = socket.create_connection((self.hosts.get(host, host), port), timeout=10)
            except OSError:
                client.sendall(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
                return
            upstream.settimeout(None)
            client.sendall(b"\x05\x00\x00\x01" + bytes(6))
        except (ConnectionError, OSError, ValueError):
            return
        relay(client, upstream, "socks-relay")

