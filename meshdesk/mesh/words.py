"""Small wording helpers for what users read."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshdesk.mesh.inventory import Inventory, MeshConfig


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 change``, ``3 changes``, ``0 errors`` (``plural`` when adding an s will not do)."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def mesh_config_rows(settings: MeshConfig) -> list[tuple[str, str]]:
    """(label, text) rows of what meshdesk uses of Istio's mesh config, and where it came from; when it
    was not read, why, and that Istio's defaults stand in for it."""
    if settings.read:
        where = f"ConfigMap {settings.source}"
        if settings.revisions:
            where += f" (revision {settings.revision or 'default'} of {', '.join(settings.revisions)})"
    else:
        where = f"not read ({settings.unread}): " if settings.unread else "not read: "
        where += "Istio's defaults are assumed"
    aliases = [a for a in settings.trust_domain_aliases if a != settings.trust_domain]
    outbound = {"ALLOW_ANY": "ALLOW_ANY (any external host)",
                "REGISTRY_ONLY": "REGISTRY_ONLY (only hosts of the registry: Services, ServiceEntries)"}
    rows = [("Source", where),
            ("Root namespace", settings.root_namespace),
            ("Trust domain", settings.trust_domain + (f" (aliases: {', '.join(aliases)})" if aliases else "")),
            ("Automatic mTLS", "on" if settings.auto_mtls else "off"),
            ("Outbound traffic", outbound.get(settings.outbound_policy, settings.outbound_policy))]
    # where objects that set no exportTo are seen, when the mesh narrows Istio's "everywhere"
    for kind, export in (("ServiceEntries", settings.default_service_export_to),
                         ("VirtualServices", settings.default_virtual_service_export_to),
                         ("DestinationRules", settings.default_destination_rule_export_to)):
        if export:
            rows.append((f"{kind} without exportTo", f"exported to {', '.join(_EXPORT_WORDS.get(e, e) for e in export)}"))
    return rows


# how the values of an exportTo read
_EXPORT_WORDS = {".": "their own namespace", "*": "every namespace", "~": "no namespace"}


SKEW_NAMED = 3  # workloads named before "and N more"


def control_plane_rows(inv: Inventory) -> list[tuple[str, str, bool]]:
    """(label, text, whether it is a problem) rows of the control planes (istiod revisions: version,
    ready pods) and the versions of the proxies read, with those no running istiod is of: proxies left
    at an old version after an upgrade (``istioctl proxy-status`` tells the same), to be restarted."""
    from meshdesk.mesh.inventory import ISTIO_NAMESPACE, ISTIOD_ELSEWHERE, release

    rows: list[tuple[str, str, bool]] = []
    planes = inv.control_planes
    if planes is None:
        rows.append(("istiod", "not known (its pods could not be listed)", False))
    elif not planes and ISTIOD_ELSEWHERE in inv.hidden:
        rows.append(("istiod", f"none in {ISTIO_NAMESPACE}; other namespaces' pods could not be listed", True))
    elif not planes:
        rows.append(("istiod", "none running", True))
    for p in planes or ():
        name = f"istiod {p.revision}" if p.revision else "istiod"
        text = f"{p.version or 'version not told by its image'} in {p.namespace}, {p.ready}/{p.pods} ready"
        rows.append((name, text, p.ready < p.pods or p.pods == 0))
    if planes and ISTIOD_ELSEWHERE in inv.hidden:
        # listed in istio-system alone: one elsewhere (a revision in its own namespace) is not known
        rows.append(("istiod elsewhere", f"not known (its pods could be listed in {ISTIO_NAMESPACE} only)", False))
    by_version: dict[str, list[str]] = {}
    for w in [*inv.workloads, *inv.outside_gateways]:
        for pod in w.pods:
            if pod.proxy is not None:
                by_version.setdefault(release(pod.proxy_version) or "version not told", []).append(
                    f"{w.namespace}/{w.name}")
    if not by_version:
        return rows
    counts = sorted(by_version.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    rows.append(("Proxies", ", ".join(f"{len(ws)} at {v}" for v, ws in counts), False))
    running = {release(v.strip()) for p in planes or () for v in p.version.split(",") if v.strip()}
    if planes and running:
        for version, names in counts:
            if version == "version not told" or version in running:
                continue
            wls = sorted(set(names))
            shown = ", ".join(wls[:SKEW_NAMED]) + (f" and {len(wls) - SKEW_NAMED} more" if len(wls) > SKEW_NAMED else "")
            rows.append((f"At {version}", f"{counted(len(names), 'proxy', 'proxies')} ({shown}) run a version no "
                         f"running istiod is of ({', '.join(sorted(running))}"
                         + (f", of those in {ISTIO_NAMESPACE}" if ISTIOD_ELSEWHERE in inv.hidden else "")
                         + "): restart their pods to upgrade them",
                         True))
    return rows
