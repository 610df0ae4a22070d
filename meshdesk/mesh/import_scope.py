"""Which Istio config a namespace's workloads see: the hosts a Sidecar's egress imports.

A namespace whose Sidecar (one without a workload selector, in the namespace or else in the root
namespace) lists egress hosts ("./*", "istio-system/*", "~/legacy.example.com") sees only the
VirtualServices, DestinationRules and ServiceEntries for those hosts. Kiali judges conflicts between
such objects (two DestinationRules for one subset, two VirtualServices for one host) and subset
references only among what the namespace imports; so does ``validations``. Ambient namespaces are
not limited (a Sidecar does not apply to them), and no egress host means everything is imported,
as in Istio.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from meshdesk.mesh.inventory import IstioObject

IDENTITY_DOMAIN = "svc.cluster.local"


@dataclass(frozen=True)
class Host:
    """A config host as Kiali reads it: ``complete`` when it names a service of a namespace (a short
    name, "svc.ns", "svc.ns.svc" or the FQDN), else (a ServiceEntry's host) ``service`` is all of it."""

    service: str
    namespace: str
    complete: bool

    @property
    def fqdn(self) -> str:
        return f"{self.service}.{self.namespace}.{IDENTITY_DOMAIN}" if self.complete else self.service


def parse_host(name: str, namespace: str, namespaces: Collection[str]) -> Host:
    parts = name.split(".")
    if len(parts) == 2 and (parts[1] == namespace or parts[1] in namespaces):
        return Host(parts[0], parts[1], True)
    if len(parts) == 3 and parts[2] == "svc":
        return Host(parts[0], parts[1], True)
    if len(parts) > 2 and ".".join(parts[2:]) == IDENTITY_DOMAIN:
        return Host(parts[0], parts[1], True)
    if len(parts) > 1:
        return Host(name, "", False)
    return Host(name, namespace, True)


def within_wildcard(host: str, wildcard: str) -> bool:
    """Whether ``host`` falls within ``wildcard`` ("*" or "*.suffix", on a label boundary)."""
    return wildcard == "*" or (wildcard.startswith("*.") and host.endswith(wildcard[1:]))


@dataclass(frozen=True)
class _Egress:
    namespace: str  # "*" for any
    dns: str
    exclude: bool


class ImportScope:
    """The hosts one namespace's Sidecar imports; ``imports(host, config namespace)``."""

    def __init__(self, namespace: str, egress: Sequence[_Egress], namespaces: Collection[str]) -> None:
        self.namespace = namespace
        self._egress = tuple(egress)
        self._namespaces = namespaces

    def imports(self, host_name: str, config_namespace: str) -> bool:
        if not host_name:
            return False
        host = parse_host(host_name, config_namespace, self._namespaces)
        matched = [e for e in self._egress if self._matches(e, host, host_name, config_namespace)]
        return any(not e.exclude for e in matched) and not any(e.exclude for e in matched)

    @staticmethod
    def _matches(e: _Egress, host: Host, raw: str, config_namespace: str) -> bool:
        if e.namespace != "*":
            # an external host (a ServiceEntry's) goes with the namespace of the object naming it
            if (host.namespace if host.complete else config_namespace) != e.namespace:
                return False
        if e.dns in ("*", raw):
            return True
        if host.complete:
            full = host.fqdn
            if e.dns in (full, host.service, f"{host.service}.{host.namespace}"):
                return True
            if within_wildcard(full, e.dns) or within_wildcard(raw, e.dns):
                return True
            # a wildcard rule applies to an imported host it covers
            return host.service.startswith("*") and within_wildcard(e.dns, full)
        return e.dns == host.service or within_wildcard(host.service, e.dns)

    def namespaces_seen(self) -> set[str] | None:
        """The namespaces of the hosts it may import (None: any namespace's)."""
        included = [e.namespace for e in self._egress if not e.exclude]
        return None if "*" in included else set(included)

    def imports_any(self, obj: IstioObject) -> bool:
        """A VirtualService or ServiceEntry is imported when one of its hosts is; a DestinationRule when
        its host is."""
        spec = obj.spec if isinstance(obj.spec, dict) else {}
        if obj.kind == "DestinationRule":
            host = spec.get("host")
            return isinstance(host, str) and self.imports(host, obj.namespace)
        hosts = spec.get("hosts")
        return isinstance(hosts, list) and any(isinstance(h, str) and self.imports(h, obj.namespace) for h in hosts)


def _selector_less(obj: IstioObject) -> bool:
    spec = obj.spec if isinstance(obj.spec, dict) else {}
    selector = spec.get("workloadSelector")
    labels = selector.get("labels") if isinstance(selector, dict) else None
    return not labels


def _egress_of(sidecar: IstioObject, namespace: str) -> list[_Egress]:
    spec = sidecar.spec if isinstance(sidecar.spec, dict) else {}
    out = []
    for listener in spec.get("egress") or ():
        hosts = listener.get("hosts") if isinstance(listener, dict) else None
        for h in hosts if isinstance(hosts, list) else ():
            if not isinstance(h, str) or "/" not in h:
                continue
            ns, dns = h.split("/", 1)
            exclude = ns.startswith("~")
            if exclude:
                ns = ns[1:] or "*"  # "~/host": excluded in every namespace
            out.append(_Egress(namespace if ns == "." else ns, dns, exclude))
    return out


def import_scope(namespace: str, root_namespace: str, sidecars: Sequence[IstioObject],
                 namespaces: Collection[str], ambient: bool = False) -> ImportScope | None:
    """The import scope of ``namespace``'s workloads, or None when nothing limits it."""
    if not namespace or ambient:
        return None
    effective: Any = next((s for s in sidecars if s.namespace == namespace and _selector_less(s)), None)
    if effective is None and root_namespace and root_namespace != namespace:
        effective = next((s for s in sidecars if s.namespace == root_namespace and _selector_less(s)), None)
    if effective is None:
        return None
    egress = _egress_of(effective, namespace)
    return ImportScope(namespace, egress, namespaces) if egress else None


def host_namespaces(obj: IstioObject, namespaces: Collection[str]) -> set[str]:
    """The namespaces an object's hosts are taken to be in, as ``ImportScope`` matches them: a
    service's namespace, or (an external host) the object's own."""
    spec = obj.spec if isinstance(obj.spec, dict) else {}
    hosts = [spec.get("host")] if obj.kind == "DestinationRule" else (spec.get("hosts") or [])
    out = set()
    for h in hosts if isinstance(hosts, list) else ():
        if isinstance(h, str) and h:
            host = parse_host(h, obj.namespace, namespaces)
            out.add(host.namespace if host.complete else obj.namespace)
    return out
