"""What Istio takes in a Sidecar's listeners beyond hosts and ports: the address a listener binds to (an
IP address, or for an egress listener on port 0 a Unix domain socket), how its traffic is captured, and
where an ingress listener passes its traffic (``defaultEndpoint``). The form judges what is typed with
these, and the validations judge a Sidecar in the cluster (or edited as YAML) with them too, as Istio's
own validation refuses what they refuse.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from meshdesk.mesh.routing import is_digits, said

CAPTURE_MODES = ("DEFAULT", "IPTABLES", "NONE")  # a listener's captureMode, as Istio's CRD lists them
UNIX_PREFIX = "unix://"
# the hosts an ingress listener's defaultEndpoint may name (the workload's own loopback or any address)
_ENDPOINT_HOSTS = ("127.0.0.1", "0.0.0.0", "::1", "::", "")


CAPTURE_MODES = ("DEFAULT", "IPTABLES", "NONE")  # a listener's captureMode, as Istio's CRD lists them
UNIX_PREFIX = "unix://"
# the hosts an ingress listener's defaultEndpoint may name (the workload's own loopback or any address)
_ENDPOINT_HOSTS = ("127.0.0.1", "0.0.0.0", "::1", "::", "")


def unix_address_problem(value: str, what: str) -> str:
    """Why ``value`` (after ``unix://``) names no Unix domain socket, as Istio checks it: an absolute
    path to a file, or ``@name`` for an abstract socket ("" when it names one)."""
    if not value:
        return f"{what} {UNIX_PREFIX} names no socket: give an absolute path (unix:///var/run/app.sock) or @name"
    if value.startswith("@"):
        return ""
    if not value.startswith("/") or value.endswith("/") or "\\" in value:
        return (f"{what} {said(UNIX_PREFIX + value)} is not a socket: after {UNIX_PREFIX} comes an absolute path to "
                "a file (unix:///var/run/app.sock) or @name")
    return ""


def bind_problem(value: str, *, unix: bool = False) -> str:
    """Why ``value`` is no listener bind address ("" when it is one): an IP address (IPv4 or IPv6), or
    with ``unix`` a Unix domain socket (``unix:///path`` or ``unix://@name``)."""
    if unix and value.startswith(UNIX_PREFIX):
        return unix_address_problem(value[len(UNIX_PREFIX):], "bind")
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return (f"bind {said(value)} is not an IP address (e.g. 127.0.0.1 or ::1)" +
                (" or a unix:// socket" if unix else ""))
    return "" if "%" not in value else f"bind {said(value)}: an IPv6 address with a zone is not taken"


def default_endpoint_problem(value: str) -> str:
    """Why ``value`` is no ingress listener's defaultEndpoint as Istio takes it ("" when it is one):
    ``127.0.0.1:PORT``, ``0.0.0.0:PORT``, ``[::1]:PORT``, ``[::]:PORT``, ``:PORT``, or a Unix domain
    socket ``unix:///path`` / ``unix://@name``."""
    if value.startswith(UNIX_PREFIX):
        return unix_address_problem(value[len(UNIX_PREFIX):], "default endpoint")
    forms = "127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, [::]:PORT or unix:///path"
    host, sep, port = value.rpartition(":")
    if not sep:
        return f"default endpoint {said(value)} is not one of {forms}"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if ":" not in host:
            return f"default endpoint {said(value)} is not one of {forms}"
    elif ":" in host:  # an IPv6 address is written in brackets, as Go splits host and port
        return f"default endpoint {said(value)}: write an IPv6 address in brackets ([::1]:PORT)"
    if host not in _ENDPOINT_HOSTS:
        return (f"default endpoint {said(value)}: the host must be the workload's own (127.0.0.1, 0.0.0.0, ::1 or "
                f"::), not {said(host)}")
    if not is_digits(port) or not 1 <= int(port) <= 65535:
        return f"default endpoint {said(value)}: port {said(port)} is not a port number from 1 to 65535"
    return ""


def _port_number(port: Any) -> int | None:
    number = port.get("number") if isinstance(port, Mapping) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def listener_problems(spec: Any) -> list[tuple[str, str, str]]:
    """What Istio refuses in the listeners of a Sidecar ``spec``, beyond hosts and ports: (``ingress`` or
    ``egress``, the path, why)."""
    out: list[tuple[str, str, str]] = []
    if not isinstance(spec, Mapping):
        return out
    for i, e in enumerate(spec.get("ingress") or () if isinstance(spec.get("ingress"), list) else ()):
        if not isinstance(e, Mapping):
            continue
        at = f"spec/ingress[{i}]"
        endpoint, bind = e.get("defaultEndpoint"), e.get("bind")
        if isinstance(endpoint, str) and endpoint and (problem := default_endpoint_problem(endpoint)):
            out.append(("ingress", f"{at}/defaultEndpoint", problem))
        if isinstance(bind, str) and bind and (problem := bind_problem(bind)):
            out.append(("ingress", f"{at}/bind", problem))
    for i, e in enumerate(spec.get("egress") or () if isinstance(spec.get("egress"), list) else ()):
        if not isinstance(e, Mapping) or not isinstance(e.get("port"), Mapping):
            continue
        at = f"spec/egress[{i}]"
        number, bind = _port_number(e.get("port")), e.get("bind")
        bind = bind if isinstance(bind, str) else ""
        if number == 0:
            if not bind.startswith(UNIX_PREFIX):
                out.append(("egress", f"{at}/bind", "port 0 is for a Unix domain socket, and the bind is no unix:// "
                            "socket"))
            elif problem := bind_problem(bind, unix=True):
                out.append(("egress", f"{at}/bind", problem))
            if e.get("captureMode") == "IPTABLES":
                out.append(("egress", f"{at}/captureMode", "a Unix domain socket listener takes capture mode DEFAULT "
                            "or NONE, not IPTABLES"))
        elif bind and (problem := bind_problem(bind)):
            out.append(("egress", f"{at}/bind", problem))
    return out
