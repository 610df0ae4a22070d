"""``meshdesk inventory``: what the mesh has in a cluster (workloads with their pods and sidecars, services,
Istio config), read through a kubeconfig context (or taken from a snapshot file's inventory, offline),
printed as a table or as JSON (``--json``).

Exit codes, as ``meshdesk graph``'s: 0 ok (parts hidden by RBAC are listed on stderr), 1 the cluster could
not be read (one plain line on stderr), 2 bad usage, a bad kubeconfig (no such context, a file that is no
kubeconfig) or a snapshot that cannot be read or holds no inventory.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from meshdesk.commands import (
    CommandParser,
    add_all_namespaces_option,
    add_output_option,
    exit_code,
    naming_context,
    refuse_all_with_some,
    snapshot_name,
    timeout_seconds,
    wants_json,
)
from meshdesk.mesh.words import padded, text_width
from meshdesk.sources.base import ConfigError, Forbidden, SourceError

if TYPE_CHECKING:
    from meshdesk.mesh.inventory import Inventory


def _parser() -> argparse.ArgumentParser:
    p = CommandParser(prog="meshdesk inventory",
                      description="List the mesh's workloads, services and Istio config in a cluster.")
    add_source_options(p, "the whole inventory")
    return p


def add_source_options(p: argparse.ArgumentParser, output_what: str, *, several_contexts: bool = False) -> None:
    """Where a command reading an inventory takes it from (a cluster, the demo or a snapshot), which
    namespaces, its output and timeout: ``meshdesk inventory``'s, and ``meshdesk mesh``'s alike.
    ``several_contexts``: ``--context`` may be given again, for the other clusters of the same mesh (as
    ``meshdesk graph`` takes it; ``args.context`` is then a list, see ``split_contexts``)."""
    p.add_argument("--demo", action="store_true", help="the built-in demo mesh instead of a cluster")
    p.add_argument("--snapshot", metavar="FILE",
                   help="the inventory a snapshot file was taken with (offline; - reads standard input), "
                        "instead of a cluster")
    p.add_argument("--kubeconfig", help="kubeconfig file(s), like kubectl's --kubeconfig")
    if several_contexts:
        p.add_argument("--context", action="append",
                       help="kubeconfig context (default: the current one); given again, another cluster of the "
                            "same mesh, read beside the first (default: the contexts linked to it in Settings)")
    else:
        p.add_argument("--context", help="kubeconfig context (default: the current one)")
    p.add_argument("--namespace", "-n", action="append", metavar="NAMESPACE",
                   help="namespace to read (repeatable; default: every namespace you may list)")
    add_all_namespaces_option(p, "every namespace you may list (as without -n)")
    p.add_argument("--cluster", default="", help="cluster name to record (default: Kubernetes)")
    add_output_option(p, output_what)
    p.add_argument("--timeout", type=timeout_seconds, default=30.0, metavar="SECONDS",
                   help="per API call, in seconds or with a unit (30s, 2m; default 30)")


def parsed(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The arguments of ``add_source_options``, ``args.json`` set by ``--json`` or ``-o json``; or the exit
    code of ``--help`` or of a usage mistake (said on one line)."""
    try:
        args = parser.parse_args(list(argv or []))
        args.json = wants_json(parser, args)
        refuse_all_with_some(parser, args)
    except SystemExit as e:
        return int(e.code or 0)
    return args


def read_source(args: argparse.Namespace, prog: str, err: TextIO, *,
                wanted_for: str = "no inventory to list", linked: Sequence[tuple[str, str]] = ()) -> Inventory | int:
    """The inventory ``add_source_options``' arguments ask for, or the exit code when it cannot be had (said
    on ``err`` after ``prog``): 2 a usage mistake, a bad kubeconfig or snapshot, 1 the cluster not read.
    ``linked``: the other contexts of the cluster's mesh, (context, its cluster's name or "" to find it),
    read beside it and merged in (one that cannot be read named in ``unread_clusters``; 1 when none can)."""
    if not 0 < args.timeout < 86400:  # NaN and infinity too: they failed later as the cluster's fault
        print(f"{prog}: --timeout must be a positive number of seconds (under a day)", file=err)
        return 2
    if args.demo and (args.kubeconfig or args.context):
        print(f"{prog}: --demo reads no cluster; it cannot be combined with --kubeconfig/--context", file=err)
        return 2
    if cluster_refused(args, prog, err):
        return 2
    if args.snapshot is not None:
        # as `meshdesk graph --snapshot` and `validate --snapshot` take it: offline, from the file alone
        if args.demo or args.kubeconfig or args.context:
            print(f"{prog}: --snapshot reads no cluster; it cannot be combined with --demo/--kubeconfig/--context",
                  file=err)
            return 2
        if not args.snapshot.strip():
            print(f"{prog}: --snapshot needs a file name", file=err)
            return 2
    if args.namespace is not None:
        # -n a,b names two, as `meshdesk graph -n` and `validate -n` read it: it was read as a namespace
        # "a,b", which does not exist (and -n "" as a namespace "", each kind "hidden: not found")
        from meshdesk.mesh.request import split_names

        args.namespace = split_names(args.namespace) or None
    inv: Inventory | None
    try:
        if args.snapshot is not None:
            inv = snapshot_inventory(args.snapshot, args.namespace, wanted_for=wanted_for)
        elif args.demo:
            inv = _demo_inventory(args.namespace)
        else:
            inv = _cluster_inventory(args, err, prog=prog, linked=linked)
    except ConfigError as e:
        print(f"{prog}: {e}", file=err)
        return exit_code(e)
    return 1 if inv is None else inv


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(text_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(padded(c, widths[i]) for i, c in enumerate(r)).rstrip() + "\n" for r in rows)


def render_table(inv: Inventory) -> str:
    # what the table needs is imported here: `meshdesk inventory --help` (or a usage mistake) took 0.6 s to
    # load the graph builder it never used
    from meshdesk.mesh.graph.ambient import ambient_namespaces, is_ambient, is_waypoint
    from meshdesk.mesh.graph.istio import is_gateway
    from meshdesk.mesh.istio_status import istio_status
    from meshdesk.mesh.tls_status import mesh_tls, namespace_tls_all
    from meshdesk.mesh.words import (
        control_plane_rows,
        mesh_config_rows,
        namespace_revision_rows,
        revision_config_rows,
    )

    out = []
    rows = [("NAMESPACE", "KIND", "NAME", "PODS", "READY", "SIDECAR", "PROXY", "SYNCED", "RESTARTS", "APP",
             "VERSION")]
    ambient = ambient_namespaces(inv)
    for w in sorted(inv.workloads, key=lambda w: (w.namespace, w.name)):  # as kubectl get -A
        ready = sum(p.ready_count[0] for p in w.pods)
        total = sum(p.ready_count[1] for p in w.pods)
        sidecar = {True: "yes", False: "no", None: "-"}[w.has_sidecar]
        if is_waypoint(w):
            sidecar = "waypoint"  # an ambient namespace's L7 proxy, not a sidecar
        elif w.has_sidecar and is_gateway(w):
            sidecar = "gateway"  # its istio-proxy is the gateway itself
        elif not w.has_sidecar and is_ambient(w, ambient):
            sidecar = "ambient"  # in the mesh through ztunnel: none needed
        proxies = sorted({p.proxy_version for p in w.pods if p.proxy_version})
        # proxies istiod says are in sync, of those with a sidecar ("-": not known)
        synced = w.synced_proxies
        sync = f"{synced}/{w.sidecar_pods}" if synced >= 0 else "-"
        if not w.pods and inv.unread(w.namespace, ("pods",)):
            # its pods could not be read (RBAC, a server error): not known, not none
            rows.append((w.namespace, w.kind, w.name, "-", "-", sidecar, "-", sync, "-", w.app or "-",
                         w.version or "-"))
            continue
        rows.append((w.namespace, w.kind, w.name, str(len(w.pods)), f"{ready}/{total}", sidecar,
                     ",".join(proxies) or "-", sync, str(sum(p.restarts for p in w.pods)), w.app or "-",
                     w.version or "-"))
    if len(rows) > 1:  # none: said on stderr (main), as kubectl's "No resources found", not as a row
        out.append(_table(rows))
    if inv.services:
        srows = [("NAMESPACE", "SERVICE", "TYPE", "PORTS", "SELECTOR")]
        for s in sorted(inv.services, key=lambda s: (s.namespace, s.name)):
            ports = ",".join(f"{p.port}/{p.protocol}" + (f"({p.name})" if p.name else "") for p in s.ports)
            selector = ",".join(f"{k}={v}" for k, v in sorted(s.selector.items()))
            srows.append((s.namespace, s.name, s.type, ports or "-", selector or "-"))
        out.append("\n" + _table(srows))
    if inv.istio:
        irows = [("NAMESPACE", "KIND", "NAME", "API VERSION")]
        irows += [(o.namespace, o.kind, o.name, o.api_version)
                  for o in sorted(inv.istio, key=lambda o: (o.namespace, o.kind, o.name))]
        out.append("\n" + _table(irows))
    if inv.istio_found:
        out.append("\n" + _table([("CONTROL PLANE", "STATE"),
                                   *((k, ("! " if problem else "") + v) for k, v, problem in control_plane_rows(inv)),
                                   *((f"{n.name}: {k}", ("! " if problem else "") + v) for n in inv.namespaces
                                     for k, v, problem in namespace_revision_rows(inv, n.name))]))
        components = istio_status(inv)
        if components is not None:  # as the window's Istio status lists them (the addons are not asked here)
            out.append("\n" + _table([("ISTIO COMPONENT", "READY", "STATE"), *(
                (c.title, c.replicas or "-", ("! " if c.trouble else "") + c.state + (" (core)" if c.core else "")
                 + (f": {c.detail}" if c.detail and c.state != "Healthy" else ""))
                for c in components.components)]))
        mesh = mesh_tls(inv)
        out.append("\n" + _table([("MESH CONFIG", "VALUE"), *mesh_config_rows(inv.mesh_settings),
                                   *revision_config_rows(inv), ("Mesh-wide mTLS", mesh.headline)]))
        out.append("".join(f"  {line}\n" for line in mesh.reasons()))
        nrows = [("NAMESPACE", "MTLS", "WHY")]
        nrows += [(t.namespace, t.label, "; ".join(t.reasons()))
                  for t in sorted(namespace_tls_all(inv, mesh=mesh), key=lambda t: t.namespace)]
        if len(nrows) > 1:
            out.append("\n" + _table(nrows))
    return "".join(out).removeprefix("\n")  # (the tables after the workloads' are set off by a blank line)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = parsed(_parser(), argv)
    if isinstance(args, int):
        return args
    inv = read_source(args, "meshdesk inventory", err)
    if isinstance(inv, int):
        return inv
    if args.json:
        json.dump(inv.to_json(), out, indent=2, sort_keys=True)
        out.write("\n")
    else:
        out.write(render_table(inv))
        if not inv.workloads:
            out.flush()  # the tables before what is said on stderr, when both go to one terminal or file
            print("meshdesk inventory: no workloads", file=err)
    # said as `meshdesk graph` says its own: which command speaks, then what
    by_cluster = inv.hidden_by_cluster()  # (of a snapshot of several clusters: each one's, named)
    for cluster, hidden in by_cluster:
        for where, why in sorted(hidden.items()):
            print(f"meshdesk inventory: hidden: {where}{f' in cluster {cluster}' if len(by_cluster) > 1 else ''}: "
                  f"{why}", file=err)
    for warning in inv.warnings:
        print(f"meshdesk inventory: warning: {warning}", file=err)
    return 0


def snapshot_inventory(path: str, namespaces: Sequence[str] | None = None, *,
                       wanted_for: str = "no inventory to list") -> Inventory:
    """The inventory a snapshot file holds, of ``namespaces`` when given (all it holds otherwise).
    Raises ``ConfigError`` (a ``SnapshotFileError`` for a file that cannot be read) when the file holds
    none, or none of a namespace asked for: said, not printed as an empty mesh."""
    from meshdesk.sources.snapshot import load_snapshot

    snap = load_snapshot(path)
    inv = snap.inventory
    if inv is None:
        raise ConfigError(f"{snapshot_name(path)} holds no inventory (it was taken without one), so there is "
                          f"{wanted_for}; take one with the app's File > Save snapshot or "
                          "`meshdesk graph --save-snapshot` from a cluster")
    if namespaces:
        read = {n.name for n in inv.namespaces}
        missing = [n for n in namespaces if n not in read]
        if missing:
            raise ConfigError(f"--namespace {', '.join(missing)}: the snapshot holds no inventory of "
                              f"{'that namespace' if len(missing) == 1 else 'those namespaces'} (it has "
                              f"{', '.join(sorted(read)) or 'none'})")
        inv = inv.within(namespaces)
        # what could not be read of the namespaces left out is not this listing's business
        left_out = read - set(namespaces)
        inv.hidden = {k: v for k, v in inv.hidden.items() if k.split("/", 1)[0] not in left_out}
        inv.linked_hidden = {c: {k: v for k, v in h.items() if k.split("/", 1)[0] not in left_out}
                             for c, h in inv.linked_hidden.items()}
    return inv


def _demo_inventory(namespaces: Sequence[str] | None) -> Inventory:
    from meshdesk.mesh.request import GraphRequest
    from meshdesk.sources.demo import DemoCluster

    demo = DemoCluster()
    names = tuple(namespaces or (n.name for n in demo.namespaces()))
    inv = demo.snapshot(GraphRequest(namespaces=names), with_inventory=True).inventory
    assert inv is not None
    return inv


def split_contexts(args: argparse.Namespace, prog: str, err: TextIO) -> list[tuple[str, str]] | int:
    """``--context`` given several times (``add_source_options(several_contexts=True)``): ``args.context``
    set to the first, and the others returned as the linked contexts of its mesh (context, "" for its
    cluster's name to be found); with one or none, the contexts linked to it in Settings, as ``meshdesk
    graph`` and the app read them. An exit code for a mistake said on ``err``."""
    contexts = [c for c in args.context or () if c] if args.context else []
    args.context = (args.context or [None])[0]
    if len(contexts) > 1:
        return [(c, "") for c in contexts[1:]]
    if args.demo or args.snapshot is not None:
        return []
    from meshdesk.sources.kubeconfig import load_kubeconfig
    from meshdesk.store.settings import load_settings

    try:
        context = args.context or load_kubeconfig(args.kubeconfig, log_problems=False).context(None).name
    except ConfigError:
        return []  # (said as the command reads the context)
    settings = load_settings(log_problems=False)
    for w in settings.warnings:  # a corrupt file moved aside: said as the command's other warnings
        print(f"{prog}: warning: {w}", file=err)
    return list(settings.context_settings(context).mesh_contexts)


def cluster_refused(args: argparse.Namespace, prog: str, err: TextIO) -> bool:
    """``--cluster`` names a cluster read through a kubeconfig; the demo and a snapshot have their own
    name, and it was dropped without a word (said here, as a usage mistake)."""
    if not args.cluster or not (args.demo or args.snapshot is not None):
        return False
    print(f"{prog}: --cluster names the cluster read from a kubeconfig; {'the demo' if args.demo else 'a snapshot'} "
          "keeps its own cluster name", file=err)
    return True


def _cluster_inventory(args: argparse.Namespace, err: TextIO, *, prog: str = "meshdesk inventory",
                       linked: Sequence[tuple[str, str]] = ()) -> Inventory | None:
    """The inventory a kubeconfig context shows (with ``linked``, its mesh's other contexts' beside it), or
    None (said on ``err``, after ``prog``) when it cannot be read."""
    from meshdesk.sources.cluster import DEFAULT_CLUSTER, open_source
    from meshdesk.sources.inventory import read_inventory

    source = None
    try:
        # --context "" (an unset shell variable) is the current context, as kubectl takes it
        # with linked contexts, each cluster's Istio name is found (istiod's CLUSTER_ID), as the app finds it
        source = open_source(args.kubeconfig, args.context or None,
                             cluster=args.cluster or (None if linked else DEFAULT_CLUSTER),
                             timeout=args.timeout, check=False, log_problems=False, linked=linked)
        for problem in source.kubeconfig_problems:  # a broken file passed over (it was logged bare)
            print(f"{prog}: warning: {problem}", file=err)
        if source.linked:
            return source.read_mesh_inventory(args.namespace)
        try:
            inv = read_inventory(source.api, args.namespace, cluster=source.cluster, timeout=args.timeout)
        except Forbidden:
            if args.namespace or not source.default_namespace:
                raise
            # like kubectl: without the right to list namespaces, the context's own namespace
            print(f"{prog}: you may not list namespaces; showing {source.default_namespace} "
                  "(the context's namespace; pick others with -n)", file=err)
            inv = read_inventory(source.api, [source.default_namespace], cluster=source.cluster,
                                 timeout=args.timeout)
    except ConfigError:
        raise  # said by the caller, with its exit code (``exit_code``)
    except SourceError as e:
        print(f"{prog}: {naming_context(e, source.context if source is not None else args.context)}", file=err)
        return None
    finally:
        if source is not None:
            source.close()
    return inv
