"""Small wording helpers for what users read."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshdesk.mesh.inventory import MeshConfig


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
    return [("Source", where),
            ("Root namespace", settings.root_namespace),
            ("Trust domain", settings.trust_domain + (f" (aliases: {', '.join(aliases)})" if aliases else "")),
            ("Automatic mTLS", "on" if settings.auto_mtls else "off"),
            ("Outbound traffic", outbound.get(settings.outbound_policy, settings.outbound_policy))]
