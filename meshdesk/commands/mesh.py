"""``meshdesk mesh``: the mesh's infrastructure as text, as the window's Mesh view draws it (Kiali's Mesh
page): each cluster, its control planes (istiod per revision, version, health), the data-plane namespaces
and gateways each one takes, and the namespaces no running istiod takes. Read through a kubeconfig
context (every namespace you may list, or those of ``-n``), the demo mesh, or a snapshot's inventory.

The addons (Prometheus, the tracing backend, Grafana) are those the window reaches; this command does
not ask them, and says so. Exit codes as ``meshdesk inventory``'s.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import TextIO

from meshdesk.commands import (
    CommandParser,
    add_all_namespaces_option,
    add_output_option,
    refuse_all_with_some,
    timeout_seconds,
    wants_json,
)
from meshdesk.commands.inventory import (
    _cluster_inventory,
    _demo_inventory,
    cluster_refused,
    snapshot_inventory,
)
from meshdesk.mesh.inventory import Inventory
from meshdesk.mesh.mesh_map import build_mesh_map
from meshdesk.sources.base import ConfigError


def _parser() -> argparse.ArgumentParser:
    # as the other commands take them (meshdesk inventory's): one-line usage mistakes, -o json, -A, --timeout 30s,
    # --snapshot - (standard input)
    p = CommandParser(prog="meshdesk mesh",
                      description="Show the mesh's control planes, the namespaces each one takes and its gateways, "
                                  "as the app's Mesh view (Kiali's Mesh page).")
    p.add_argument("--demo", action="store_true", help="the built-in demo mesh instead of a cluster")
    p.add_argument("--snapshot", metavar="FILE",
                   help="the inventory a snapshot file was taken with (offline; - reads standard input)")
    p.add_argument("--kubeconfig", help="kubeconfig file(s), like kubectl's --kubeconfig")
    p.add_argument("--context", help="kubeconfig context (default: the current one)")
    p.add_argument("--namespace", "-n", action="append", metavar="NAMESPACE",
                   help="namespace to read (repeatable, or a,b; default: every namespace you may list)")
    add_all_namespaces_option(p, "every namespace you may list (as without -n)")
    p.add_argument("--cluster", default="", help="cluster name to record (default: Kubernetes)")
    add_output_option(p, "the nodes and edges")
    p.add_argument("--timeout", type=timeout_seconds, default=30.0, metavar="SECONDS",
                   help="per API call: seconds, or a span such as 30s or 2m (default 30)")
    return p


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(list(argv or []))
        args.json = wants_json(parser, args)
        refuse_all_with_some(parser, args)
    except SystemExit as e:
        return int(e.code or 0)
    if not 0 < args.timeout < 86400:
        print("meshdesk mesh: --timeout must be a positive number of seconds (under a day)", file=err)
        return 2
    if (args.demo or args.snapshot is not None) and (args.kubeconfig or args.context) or \
            (args.demo and args.snapshot is not None):
        print("meshdesk mesh: read one of a cluster (--kubeconfig/--context), --demo or --snapshot", file=err)
        return 2
    if cluster_refused(args, "meshdesk mesh", err):
        return 2
    if args.snapshot is not None and not args.snapshot.strip():
        print("meshdesk mesh: --snapshot needs a file name", file=err)
        return 2
    if args.namespace is not None:  # -n a,b names two, as the other commands read it
        from meshdesk.mesh.request import split_names

        args.namespace = split_names(args.namespace) or None
    inv: Inventory | None
    try:
        if args.snapshot is not None:
            inv = snapshot_inventory(args.snapshot, args.namespace, wanted_for="no mesh to show")
        elif args.demo:
            inv = _demo_inventory(args.namespace)
        else:
            inv = _cluster_inventory(args, err, prog="meshdesk mesh")
    except ConfigError as e:
        print(f"meshdesk mesh: {e}", file=err)
        return 2
    if inv is None:
        return 1
    mesh = build_mesh_map(inv, recorded=args.snapshot is not None)
    if args.json:
        json.dump({"nodes": [asdict(n) for n in mesh.nodes.values()],
                   "edges": [asdict(e) for e in mesh.edges], "notes": mesh.notes}, out, indent=2, sort_keys=True)
        out.write("\n")
    else:
        out.write("".join(f"{line}\n" for line in mesh.lines()))
        out.write("(The addons are not asked here: the app's Mesh view shows them as it reaches them.)\n")
    for where, why in sorted(inv.hidden.items()):
        print(f"meshdesk mesh: hidden: {where}: {why}", file=err)
    return 0
