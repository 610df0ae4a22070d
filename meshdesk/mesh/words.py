"""Small wording helpers for what users read."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshdesk.mesh.inventory import Inventory, MeshConfig


def text_width(text: str) -> int:
    """The columns a terminal gives ``text``: East Asian wide and full-width characters take two, combining
    marks none (``len`` counted 注文 as two columns of the four it takes, and a table's columns after it
    were pushed out of line)."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def padded(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` terminal columns (``str.ljust`` by :func:`text_width`)."""
    return text + " " * max(0, width - text_width(text))


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 change``, ``3 changes``, ``0 errors`` (``plural`` when adding an s will not do)."""
    return f"{n} {word if n == 1 else (plural or word + 's')}"


# A name read from a file (a context, a key, a node id) longer than this is quoted in messages by its start and
# end: a context name a megabyte long made each warning about it a megabyte long, and the banner showing it froze
# the window for most of a minute.
LONGEST_NAME = 100


def _cut(text: str) -> str:
    return f"{text[:60]}\u2026{text[-20:]}"


def short_name(name: object) -> str:
    """``name`` as text for a message, by its start and end around an ellipsis, with its length, when it is
    longer than ``LONGEST_NAME``."""
    text = str(name)
    return text if len(text) <= LONGEST_NAME else f"{_cut(text)} ({len(text):,} characters)"


def quoted_name(name: object) -> str:
    """``repr`` of ``name`` as text, cut as ``short_name`` cuts it (the length after the quotes)."""
    text = str(name)
    return repr(text) if len(text) <= LONGEST_NAME else f"{_cut(text)!r} ({len(text):,} characters)"


_LONG_WORD = re.compile(rf"\S{{{LONGEST_NAME + 1},}}")
_LONGEST_MESSAGE = 2_000


def short_words(text: str) -> str:
    """``text`` (a message quoting what a file holds) with each word longer than ``LONGEST_NAME`` cut as
    ``short_name`` cuts a name, and the whole cut likewise past ``_LONGEST_MESSAGE`` characters."""
    text = _LONG_WORD.sub(lambda m: short_name(m.group(0)), text)
    return text if len(text) <= _LONGEST_MESSAGE else f"{text[:_LONGEST_MESSAGE]}\u2026 ({len(text):,} characters)"


# where a word-wrapped label may break a line inside a name: a zero-width space (shown as nothing)
_BREAK = "\u200b"
_UNBROKEN_RUN = 40
_UNBROKEN = re.compile(rf"[^\s\-{_BREAK}]{{{_UNBROKEN_RUN + 1},}}")


def breakable(text: str) -> str:
    """``text`` for a word-wrapped label: a run of more than 40 characters a line cannot break in (a
    namespace and a 253-character workload name, "ns/name", with no space or '-') gets a zero-width space
    every 40 characters, so the label wraps it instead of growing as wide as the run (a dialog a few
    screens wide, its buttons out of reach)."""
    return _UNBROKEN.sub(lambda m: _BREAK.join(m.group(0)[i:i + _UNBROKEN_RUN]
                                               for i in range(0, len(m.group(0)), _UNBROKEN_RUN)), text)


def mesh_config_rows(settings: MeshConfig) -> list[tuple[str, str]]:
    """(label, text) rows of what meshdesk uses of Istio's mesh config, and where it came from; when it
    was not read, why, and that Istio's defaults stand in for it."""
    if settings.read:
        where = f"ConfigMap {settings.source}"
        if settings.revisions:
            others = [r for r in settings.revisions if r != (settings.revision or "default")]
            where += (f" (of revision {settings.revision or 'default'}; "
                      f"{'the other revision running' if len(others) == 1 else 'the other revisions running'}: "
                      f"{', '.join(others) or 'none'})")
    else:
        where = f"not read ({settings.unread}): " if settings.unread else "not read: "
        where += "Istio's defaults are assumed"
    aliases = [a for a in settings.trust_domain_aliases if a != settings.trust_domain]
    outbound = {"ALLOW_ANY": "ALLOW_ANY (any external host)",
                "REGISTRY_ONLY": "REGISTRY_ONLY (only hosts of the registry: Services, ServiceEntries)"}
    root = settings.root_namespace
    if settings.revisions:  # mesh-wide by nature: one config's, whichever revision a namespace is on
        root += " (the mesh's, from this config: the revision most selected namespaces are on)"
    rows = [("Source", where),
            ("Root namespace", root),
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


def revision_config_rows(inv: Inventory) -> list[tuple[str, str]]:
    """(label, text) rows of the mesh configs of the istiod revisions other than the one
    ``mesh_config_rows`` tells (``Inventory.revision_settings``): what of each differs from it, which
    judges the namespaces on that revision."""
    main = inv.mesh_settings
    rows = []
    for rev, cfg in sorted(inv.revision_settings.items()):
        if rev == main.revision:
            continue
        if not cfg.read:
            text = (f"not read ({cfg.unread}): " if cfg.unread else "not read: ") + "Istio's defaults are assumed"
        else:
            text = f"ConfigMap {cfg.source}"
        mine, theirs = dict(mesh_config_rows(cfg)[2:]), dict(mesh_config_rows(main)[2:])
        differs = [f"{_lead(label)} {mine.get(label, 'exported everywhere (Istio default)')}"
                   for label in dict.fromkeys([*mine, *theirs]) if mine.get(label) != theirs.get(label)]
        text += ": " + ("; ".join(differs) if differs else "the same settings") + \
            " (its namespaces are judged by it)"
        rows.append((f"Revision {rev or 'default'}", text))
    return rows


def _lead(label: str) -> str:
    """A row's label inside a sentence: "Trust domain" -> "trust domain", "ServiceEntries ..." kept."""
    first = label.split(" ", 1)[0]
    return label if any(c.isupper() for c in first[1:]) else label[:1].lower() + label[1:]


def namespace_revision_rows(inv: Inventory, namespace: str) -> list[tuple[str, str, bool]]:
    """(label, text, whether it is a problem) rows of the istiod revision a namespace is on, where that
    matters: several revisions run, or its label names one that none of those running is; and its
    proxies injected by another revision than the namespace asks for (left behind by a canary
    upgrade until their pods restart)."""
    from meshdesk.mesh.inventory import REVISION_LABEL, REVISION_TAGS_UNREAD, namespace_revision

    rev = inv.namespace_revision(namespace)
    if rev is None:
        return []
    ns = inv.namespace(namespace)
    labelled = namespace_revision(ns.labels) if ns is not None else rev
    rows: list[tuple[str, str, bool]] = []
    name = rev or "default"
    # the tag its label names (the tag "default" for istio-injection=enabled), when one points elsewhere
    via = f" (by tag {labelled or 'default'})" if labelled is not None and labelled != rev else ""
    # its own cluster's istiods take it; a remote cluster's, its primary's (primary-remote)
    where = ns.cluster if ns is not None and ns.cluster else inv.cluster
    planes = inv.planes_of(where)
    if planes == [] and inv.managing_clusters(where):
        planes = [p for c in inv.managing_clusters(where) for p in inv.planes_of(c) or ()]
    running = None if planes is None else {p.revision for p in planes}
    tags_unread = REVISION_TAGS_UNREAD in inv.hidden
    if tags_unread and rev == "" and running and "" not in running:
        # the default tag may point at a revision that runs: which one is not known
        return [("Control plane", "the revision the default tag points at (Istio's revision tags could not "
                 f"be listed); its checks use the mesh config {inv.mesh_settings.source or 'assumed'}", False)]
    if running is not None and running and rev not in running:
        rows.append(("Control plane", f"revision {name}{via}: no istiod of it runs "
                     f"({'a revision tag not known, or ' if tags_unread else ''}a revision "
                     f"removed?): its new pods get no sidecar, and its checks use the mesh config "
                     f"{inv.mesh_settings.source or 'assumed'}", True))
    elif inv.revision_settings and rev not in inv.revision_settings:
        # its istiod's pods are there but none runs (starting, failing): its config was not read
        rows.append(("Control plane", f"revision {name}{via}: no pod of its istiod is running, its mesh config "
                     f"was not read; its checks use the mesh config {inv.mesh_settings.source or 'assumed'}", True))
    elif inv.revision_settings or via:
        own = inv.settings_for(namespace)
        rows.append(("Control plane", f"revision {name}{via}, mesh config {own.source or 'not read'}", False))
    behind: dict[str, list[str]] = {}
    for w in inv.workloads:
        # a pod template that names its own revision (Istio's pod-level istio.io/rev) is not left behind
        if w.namespace != namespace or REVISION_LABEL in w.labels:
            continue
        for pod in w.pods:
            got = pod.proxy_revision
            if got is not None and got != rev:
                behind.setdefault(got or "default", []).append(pod.name)
    for other, pods in sorted(behind.items()):
        shown = ", ".join(pods[:SKEW_NAMED]) + (f" and {len(pods) - SKEW_NAMED} more" if len(pods) > SKEW_NAMED else "")
        one = len(pods) == 1
        rows.append((f"Proxies of {other}", f"{counted(len(pods), 'pod')} ({shown}) {'runs' if one else 'run'} a "
                     f"sidecar of revision {other}, not {name} the namespace is on: restart "
                     f"{'it' if one else 'them'} to move {'it' if one else 'them'}", True))
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
    planes = inv.planes_of(inv.cluster)  # (the shown context's cluster's; the Mesh view draws every cluster's)
    if planes is None:
        rows.append(("istiod", "not known (its pods could not be listed)", False))
    elif not planes and ISTIOD_ELSEWHERE in inv.hidden:
        rows.append(("istiod", f"none in {ISTIO_NAMESPACE}; other namespaces' pods could not be listed", True))
    elif not planes:
        rows.append(("istiod", "none running", True))
    # of several revisions, the selected namespaces each one takes (by their labels, through the tags)
    on: dict[str, list[str]] = {}
    if planes and len(planes) > 1:
        for n in inv.namespaces:
            rev = inv.namespace_revision(n.name)
            if rev is not None:
                on.setdefault(rev, []).append(n.name)
    for p in planes or ():
        name = f"istiod {p.revision}" if p.revision else "istiod"
        text = f"{p.version or 'version not told by its image'} in {p.namespace}, {p.ready}/{p.pods} ready"
        if len(planes or ()) > 1:
            mine = sorted(on.get(p.revision, ()))
            shown = ", ".join(mine[:SKEW_NAMED]) + (f" and {len(mine) - SKEW_NAMED} more" if len(mine) > SKEW_NAMED
                                                    else "")
            text += f"; namespaces: {shown}" if mine else "; no selected namespace is on it"
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


def control_plane_rows_by_cluster(inv: Inventory) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """``control_plane_rows`` of each cluster an inventory holds, named by cluster, when it holds several
    (a mesh read over linked contexts, or its snapshot), or a cluster of it could not be read; else one
    entry named "" with the inventory's own rows. Each cluster's rows are of its own istiods and its own
    proxies; a remote cluster managed by another's istiod (primary-remote) says so rather than that none
    runs, and a cluster not read says it is not known, and why."""
    from meshdesk.mesh.graph.context import inventory_part

    unread = inv.unread_clusters
    clusters = [*inv.clusters(), *(c for c in unread if c not in inv.clusters())]
    if len(clusters) < 2 and not unread:
        return [("", control_plane_rows(inv))]
    part_of = inventory_part(inv, ())
    out: list[tuple[str, list[tuple[str, str, bool]]]] = []
    for c in clusters:
        if c in unread:
            out.append((c, [("istiod", f"not known: the cluster could not be read ({unread[c]})", False)]))
            continue
        # (a cluster of which only its control planes are held: those, and no proxy of its)
        part = part_of(c) or replace(inv, cluster=c, namespaces=[], workloads=[], outside_gateways=[],
                                     hidden=dict(inv.hidden_of(c)), linked_hidden={})
        # (its own istiods alone: the shown cluster's do not name their cluster, and would be taken for its)
        own = None if inv.control_planes is None else [
            replace(p, cluster=p.cluster or inv.cluster) for p in inv.control_planes if (p.cluster or inv.cluster) == c]
        managers = inv.managing_clusters(c)
        rows = control_plane_rows(replace(part, control_planes=own))
        if managers:
            said = f"none of its own: the istiod of cluster{'s' if len(managers) > 1 else ''} " \
                   f"{', '.join(managers)} manages it (primary-remote)"
            rows = [("istiod", said, False), *(r for r in rows if r[0] != "istiod")]
        out.append((c, rows))
    return out
