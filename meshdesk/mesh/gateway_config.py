"""An Istio Gateway (``networking.istio.io``) made from what a person typed, as Kiali's "Create" form
makes one: the gateway workloads it configures (a selector) and its servers (a port, hosts and TLS),
checked before anything is sent as Istio checks them, and turned into a ``ChangePlan``. The review then
shows the validations (KIA03xx) the new Gateway would have.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshdesk.mesh.changes import CREATE, Change, ChangePlan
from meshdesk.mesh.config_edit import keep_order
from meshdesk.mesh.inventory import Inventory, IstioObject, Workload
from meshdesk.mesh.routing import (
    NETWORKING,
    RoutingError,
    dns_length_problem,
    is_digits,
    non_ascii_host_problem,
    said,
)
from meshdesk.mesh.routing import _managed as managed_labels
from meshdesk.mesh.security import _DNS_LABEL, _list_of_text, _selector_of, _taken, name_problem

GATEWAY_PROTOCOLS = ("HTTP", "HTTPS", "GRPC", "HTTP2", "MONGO", "TCP", "TLS")
TLS_MODES = ("SIMPLE", "MUTUAL", "PASSTHROUGH", "ISTIO_MUTUAL", "AUTO_PASSTHROUGH", "OPTIONAL_MUTUAL")
# the modes whose certificate the gateway must be given (here: by credentialName, a Secret's name)
_CERT_MODES = ("SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL")
_TLS_PROTOCOLS = ("HTTPS", "TLS")
DEFAULT_SELECTOR = {"istio": "ingressgateway"}
_DNS = re.compile(r"^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?)$")
_SERVER_FIELDS = ("port", "hosts", "tls")


def gateway_host_problem(value: str) -> str:
    """Why ``value`` is no Gateway host as Istio reads it ("" when it is one): ``[namespace/]dnsName``,
    the namespace ``*``, ``.`` or a name, the name ``*``, ``*.suffix`` or a full name."""
    ns, sep, host = value.rpartition("/")
    if sep and (not ns or "/" in ns):
        return f"host {said(value)} is not like example.com, *.example.com or namespace/example.com"
    if sep and ns not in ("*", ".") and (len(ns) > 63 or not _DNS_LABEL.match(ns)):
        return f"host {said(value)}: {said(ns)} is not a namespace ('*', '.' or a namespace name)"
    if problem := non_ascii_host_problem(host, f"host {said(value)}:" if sep else "host"):
        return problem
    if not host or not _DNS.match(host.lower()):
        return (f"host {said(value)}: {said(host)} is not a host name ('*', a name like example.com or a wildcard like "
                "*.example.com)")
    if host != "*" and "." not in host:
        return (f"host {said(value)}{f': {said(host)}' if sep else ''} is a short name, which Istio refuses in a "
                f"Gateway: give the full name (e.g. {host}.example.com)")
    try:
        ipaddress.ip_address(host)
        return ""  # a Gateway takes an IP address as a host (a Sidecar does not)
    except ValueError:
        pass
    # Istio checks the length of the name and of each of its labels, and refuses an all-digit last label
    return dns_length_problem(host, f"host {said(value)}: the name" if sep else "host", numeric_tld=True)


@dataclass
class GatewayServer:
    number: str = ""
    protocol: str = "HTTP"
    port_name: str = ""
    hosts: list[str] = field(default_factory=list)
    tls_mode: str = ""  # "": no TLS settings
    credential_name: str = ""
    https_redirect: bool = False

    def problems(self) -> list[str]:
        out = []
        n = self.number.strip()
        if not is_digits(n) or not 1 <= int(n) <= 65535:
            out.append(f"port {said(n)} is not a port number from 1 to 65535" if n else "a port number is needed")
        if self.protocol not in GATEWAY_PROTOCOLS:
            out.append(f"protocol {said(self.protocol)} is not one of {', '.join(GATEWAY_PROTOCOLS)}")
        if self.port_name and not _DNS_LABEL.match(self.port_name):
            out.append(f"port name {said(self.port_name)} is not a name (lower-case letters, digits and '-')")
        if not self.hosts:
            out.append("needs at least one host ('*' for any)")
        out += [p for h in self.hosts if (p := gateway_host_problem(h))]
        dup = next((h for h in self.hosts if self.hosts.count(h) > 1), None)
        if dup is not None:
            out.append(f"host {dup} is given twice")
        if self.tls_mode and self.tls_mode not in TLS_MODES:
            out.append(f"TLS mode {said(self.tls_mode)} is not one of {', '.join(TLS_MODES)}")
        if self.protocol in _TLS_PROTOCOLS and not self.tls_mode:
            out.append(f"a {self.protocol} server needs TLS settings: pick a TLS mode (SIMPLE with the Secret "
                       "holding the certificate, or PASSTHROUGH)")
        if self.tls_mode and self.protocol not in _TLS_PROTOCOLS:
            out.append(f"a {self.protocol} server takes no TLS mode (Istio refuses TLS settings on a plain-text "
                       "port): make it HTTPS or TLS, or leave the mode empty")
        if self.tls_mode in _CERT_MODES and not self.credential_name.strip():
            out.append(f"TLS mode {self.tls_mode} needs the certificate: give credentialName (the Secret in the "
                       "gateway's namespace holding it)")
        credential = self.credential_name.strip()
        if credential and "://" not in credential and (problem := name_problem(credential)):
            out.append(f"credentialName: {problem.replace('a name is', 'a Secret name is')}")
        if credential and self.tls_mode not in _CERT_MODES:
            out.append(f"credentialName is used by the TLS modes {', '.join(_CERT_MODES)} only")
        if self.https_redirect and self.protocol != "HTTP":
            out.append("httpsRedirect is for an HTTP server (it answers plain-text requests with a redirect)")
        if self.tls_mode == "AUTO_PASSTHROUGH" and self.protocol != "TLS":
            out.append("TLS mode AUTO_PASSTHROUGH needs protocol TLS")
        return out

    def to_spec(self) -> dict[str, Any]:
        port: dict[str, Any] = {"number": int(self.number.strip()), "name": self.port_name or
                                f"{self.protocol.lower()}-{self.number.strip()}", "protocol": self.protocol}
        server: dict[str, Any] = {"port": port, "hosts": list(self.hosts)}
        tls: dict[str, Any] = {}
        if self.https_redirect:
            tls["httpsRedirect"] = True
        if self.tls_mode:
            tls["mode"] = self.tls_mode
        if self.credential_name.strip():
            tls["credentialName"] = self.credential_name.strip()
        if tls:
            server["tls"] = tls
        return server


def build_gateway(name: str, namespace: str, servers: Sequence[GatewayServer], *,
                  selector: Mapping[str, str] | None = None) -> IstioObject:
    problem = name_problem(name)
    if problem:
        raise RoutingError(problem)
    if not selector:
        raise RoutingError("a Gateway needs a selector: the labels of the gateway workloads it configures, e.g. "
                           "istio=ingressgateway")
    if not servers:
        raise RoutingError("add at least one server (a port and its hosts)")
    several = len(servers) > 1
    for i, s in enumerate(servers, 1):
        problems = s.problems()
        if problems:
            raise RoutingError(f"server {i}: {problems[0]}" if several else problems[0])
    protocols: dict[int, str] = {}
    names: dict[str, int] = {}
    for s in servers:
        n = int(s.number.strip())
        if n in protocols and protocols[n] != s.protocol:
            raise RoutingError(f"port {n} is given protocols {protocols[n]} and {s.protocol}: one port carries one "
                               "protocol (Istio refuses the Gateway)")
        protocols.setdefault(n, s.protocol)
        port_name = s.to_spec()["port"]["name"]
        if port_name in names and names[port_name] != n:
            raise RoutingError(f"port name {port_name} is given to ports {names[port_name]} and {n}: port names "
                               "must be unique")
        names.setdefault(port_name, n)
    spec = {"selector": dict(selector), "servers": [s.to_spec() for s in servers]}
    return IstioObject("Gateway", name, namespace, NETWORKING, spec, managed_labels())


def keep_spellings(spec: dict[str, Any], before: Any) -> dict[str, Any]:
    """``spec`` (the form's) with what ``before`` (the Gateway as read) wrote differently but Istio reads
    alike kept as it was: a protocol in lower case, a port without a name, a ``tls`` without a mode (Istio's SIMPLE), the order of
    its fields, an ``httpsRedirect: false`` (the form's tick box off says nothing), so that an edit's diff
    shows only what the user changed. A server is matched with the one of the same port number at its
    place, else the first of that number not matched yet (a server removed before it moves it up)."""
    old_servers = before.get("servers") if isinstance(before, dict) else None
    if not isinstance(old_servers, list):
        return keep_order(spec, before)
    given = spec.get("servers")
    new_servers: list[Any] = given if isinstance(given, list) else []

    def number(server: Any) -> Any:
        port = server.get("port") if isinstance(server, dict) else None
        return port.get("number") if isinstance(port, dict) else None

    used: set[int] = set()
    pairs: list[tuple[Any, Any]] = []
    for i, new in enumerate(new_servers):
        candidates = ([i] if i < len(old_servers) else []) + list(range(len(old_servers)))
        match = next((j for j in candidates if j not in used and isinstance(old_servers[j], dict)
                      and number(old_servers[j]) == number(new)), None)
        if match is not None:
            used.add(match)
            pairs.append((new, old_servers[match]))
    for new, old in pairs:
        if not isinstance(old, dict) or not isinstance(new, dict):
            continue
        old_tls = old.get("tls")
        if isinstance(old_tls, dict) and old_tls.get("httpsRedirect") is False:
            tls = new.get("tls")
            if tls is None:
                new["tls"] = tls = {}
            if isinstance(tls, dict):
                tls.setdefault("httpsRedirect", False)
        for key in ("port", "tls"):
            if isinstance(new.get(key), dict):
                keep_order(new[key], old.get(key))
        keep_order(new, old)
        old_port, new_port = old.get("port"), new.get("port")
        if not isinstance(old_port, dict) or not isinstance(new_port, dict) or \
                old_port.get("number") != new_port.get("number"):
            continue
        protocol = old_port.get("protocol")
        if isinstance(protocol, str) and protocol.upper() == new_port.get("protocol"):
            new_port["protocol"] = protocol
        if "name" not in old_port and \
                new_port.get("name") == f"{str(new_port.get('protocol')).lower()}-{new_port.get('number')}":
            del new_port["name"]  # the name the form makes up for a port without one (Istio needs none)
        old_tls, new_tls = old.get("tls"), new.get("tls")
        if isinstance(old_tls, dict) and "mode" not in old_tls and isinstance(new_tls, dict) and \
                new_tls.get("mode") == "SIMPLE":
            del new_tls["mode"]
    return keep_order(spec, before)



def gateway_workloads(inv: Inventory) -> list[Workload]:
    """The Istio gateway workloads the inventory knows (the selected namespaces' and those outside)."""
    from meshdesk.mesh.graph.istio import is_gateway

    seen = [w for w in (*inv.workloads, *inv.outside_gateways) if is_gateway(w)]
    return sorted({(w.namespace, w.name): w for w in seen}.values(), key=lambda w: (w.namespace, w.name))


def gateway_fields(spec: Any) -> tuple[dict[str, Any], list[str]]:
    """What the Gateway form shows of ``spec`` (selector, servers) and what it cannot, by path."""
    out: list[str] = []
    if not isinstance(spec, dict):
        return {}, ["spec (not a mapping)"]
    out += [f"spec.{k}" for k in spec if k not in ("selector", "servers")]
    raw_selector = spec.get("selector")
    selector = _selector_of({"s": raw_selector}, "s")
    if raw_selector is not None and not isinstance(raw_selector, dict):
        out.append("spec.selector (not labels)")
    if any("," in f"{k}{v}" or "=" in f"{k}{v}" for k, v in selector.items()):
        out.append("spec.selector (a label the form cannot write back)")
    servers = []
    raw_servers = spec.get("servers")
    if not isinstance(raw_servers, list) or not raw_servers:
        out.append("spec.servers (the form needs at least one server)")
        raw_servers = []
    for i, raw in enumerate(raw_servers):
        at = f"spec.servers[{i}]"
        if not isinstance(raw, dict):
            out.append(f"{at} (not a mapping)")
            continue
        out += [f"{at}.{k}" for k in raw if k not in _SERVER_FIELDS]
        s = GatewayServer(hosts=_list_of_text(raw.get("hosts", []), f"{at}.hosts", out))
        port = raw.get("port")
        if not isinstance(port, dict):
            out.append(f"{at}.port (not a mapping)")
        else:
            out += [f"{at}.port.{k}" for k in port if k not in ("number", "name", "protocol")]
            number = port.get("number")
            if not isinstance(number, int) or isinstance(number, bool):
                out.append(f"{at}.port.number (not a port number)")
            else:
                s.number = str(number)
            protocol = str(port.get("protocol", "")).upper()
            if protocol not in GATEWAY_PROTOCOLS:
                out.append(f"{at}.port.protocol {said(port.get('protocol'))} (the form offers "
                           f"{', '.join(GATEWAY_PROTOCOLS)})")
            else:
                s.protocol = protocol
            s.port_name = str(port.get("name") or "")
        tls = raw.get("tls")
        if tls is not None:
            if not isinstance(tls, dict):
                out.append(f"{at}.tls (not a mapping)")
            else:
                out += [f"{at}.tls.{k}" for k in tls if k not in ("mode", "credentialName", "httpsRedirect")]
                mode = tls.get("mode", "")
                if mode and mode not in TLS_MODES:
                    out.append(f"{at}.tls.mode {said(mode)}")
                else:
                    # Istio reads a tls without a mode as SIMPLE
                    s.tls_mode = str(mode or ("SIMPLE" if set(tls) - {"httpsRedirect"} else ""))
                s.credential_name = str(tls.get("credentialName") or "")
                s.https_redirect = tls.get("httpsRedirect") is True
        servers.append(s)
    return {"selector": selector, "servers": servers}, out


def gateway_plan(inv: Inventory, gw: IstioObject, *, editing: bool = False) -> ChangePlan:
    """Create ``gw`` (a name already taken is refused); the notes say which gateway workloads it
    configures (none is a warning). ``editing``: the notes only."""
    if not editing:
        _taken(inv, "Gateway", gw.namespace, gw.name)
    spec = gw.spec if isinstance(gw.spec, dict) else {}
    selector = _selector_of({"s": spec.get("selector")}, "s")
    labels = ", ".join(f"{k}={v}" for k, v in selector.items())
    plan = ChangePlan(f"Gateway {gw.namespace}/{gw.name} for the gateway workloads with {labels}")
    picked = [w for w in gateway_workloads(inv) if all(w.labels.get(k) == v for k, v in selector.items())]
    if picked:
        plan.notes.append(f"It configures gateway {'workload' if len(picked) == 1 else 'workloads'} "
                          f"{', '.join(f'{w.namespace}/{w.name}' for w in picked)}.")
    plan.notes.append("A Gateway only opens ports on the gateway: traffic reaches a service once a VirtualService "
                      f"bound to it (gateways: [{gw.namespace}/{gw.name}]) routes its hosts.")
    for i, s in enumerate(spec.get("servers") or [], 1):
        tls: dict[str, Any] = s["tls"] if isinstance(s, dict) and isinstance(s.get("tls"), dict) else {}
        if tls.get("credentialName"):
            plan.notes.append(f"Server {i} reads its certificate from Secret {tls['credentialName']}, which must be in "
                              "the namespace of the gateway workload (not the Gateway's).")
    if not editing:
        plan.changes.append(Change(CREATE, obj=gw))
    return plan
