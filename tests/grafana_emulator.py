"""A small Grafana for tests: its health, its dashboard search and the dashboards' pages, as Grafana's
HTTP API answers them (``/api/health``, ``/api/search?query=&type=dash-db``, ``/d/<uid>/<slug>``), with
Istio's dashboards provisioned under generated uids; optionally wanting a login for its API, as a Grafana
without anonymous access does. What it was asked is kept in ``calls``."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ISTIO_TITLES = ("Istio Mesh Dashboard", "Istio Service Dashboard", "Istio Workload Dashboard",
                "Istio Control Plane Dashboard")


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class GrafanaEmulator:
    def __init__(self, titles: tuple[str, ...] = ISTIO_TITLES, *, login: bool = False, sub_path: str = "") -> None:
        self.dashboards = [{"uid": f"u{i:04d}x", "title": t, "type": "dash-db",
                            "url": f"{sub_path}/d/u{i:04d}x/{slug(t)}"} for i, t in enumerate(titles)]
        self.login = login  # the API wants a login (HTTP 401 without one)
        self.calls: list[str] = []
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
                data = (json.dumps(body) if ctype == "application/json" else str(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                emulator.calls.append(self.path)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path == "/api/health":
                    self._send(200, {"commit": "emu", "database": "ok", "version": "11.3.0"})
                elif parts.path == "/api/search":
                    if emulator.login:
                        self._send(401, {"message": "Unauthorized"})
                        return
                    words = (query.get("query") or [""])[0].lower()
                    self._send(200, [d for d in emulator.dashboards if words in d["title"].lower()])
                elif parts.path.startswith(f"{sub_path}/d/"):
                    uid = parts.path[len(sub_path) + 3:].split("/")[0]
                    found = [d for d in emulator.dashboards if d["uid"] == uid]
                    if found:
                        self._send(200, f"<html><title>{found[0]['title']} - Grafana</title></html>", "text/html")
                    else:
                        self._send(404, "<html><title>Not found - Grafana</title></html>", "text/html")
                elif parts.path == f"{sub_path}/dashboards":
                    self._send(200, "<html><title>Dashboards - Grafana</title></html>", "text/html")
                else:
                    self._send(404, {"message": "Not found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def uid(self, title: str) -> str:
        return next(d["uid"] for d in self.dashboards if d["title"] == title)

    def start(self) -> GrafanaEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
