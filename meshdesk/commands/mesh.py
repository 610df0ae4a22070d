"""``meshdesk mesh``: the mesh's infrastructure as text, as the window's Mesh view draws it (Kiali's Mesh
page): each cluster, its control planes (istiod per revision, version, health), the data-plane namespaces
and gateways each one takes, and the namespaces no running istiod takes. Read through a kubeconfig
context (every namespace you may list, or those of ``-n``), the demo mesh, or a snapshot's inventory.

The addons (Prometheus, the tracing backend, Grafana) are those the window reaches; this command does
not ask them, and says so. ``--context`` given again reads another cluster of the same mesh beside the first
(as ``meshdesk graph`` does; without it, the contexts linked in Settings): each cluster's control planes,
namespaces, revision tags and mesh config its own, a cluster that could not be read named (its box says
so) while the others are shown. Exit codes as ``meshdesk inventory``'s: 1 when no cluster could be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import TextIO

from meshdesk.commands import CommandParser
from meshdesk.commands.inventory import add_source_options, parsed, read_source, split_contexts
from meshdesk.mesh.mesh_map import build_mesh_map


def _parser() -> argparse.ArgumentParser:
    # as the other commands take them (meshdesk inventory's): one-line usage mistakes, -o json, -A,
    # --timeout 30s, --snapshot - (standard input), -n a,b
    p = CommandParser(prog="meshdesk mesh",
                      description="Show the mesh's control planes, the namespaces each one takes and its gateways, "
                                  "as the app's Mesh view (Kiali's Mesh page).")
    add_source_options(p, "the nodes and edges", several_contexts=True)
    return p


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = parsed(_parser(), argv)
    if isinstance(args, int):
        return args
    linked = split_contexts(args, "meshdesk mesh", err)
    if isinstance(linked, int):
        return linked
    inv = read_source(args, "meshdesk mesh", err, wanted_for="no mesh to show", linked=linked)
    if isinstance(inv, int):
        return inv
    mesh = build_mesh_map(inv, recorded=args.snapshot is not None)
    if args.json:
        json.dump({"nodes": [asdict(n) for n in mesh.nodes.values()],
                   "edges": [asdict(e) for e in mesh.edges], "notes": mesh.notes}, out, indent=2, sort_keys=True)
        out.write("\n")
    else:
        out.write("".join(f"{line}\n" for line in mesh.lines()))
        out.write("(The addons are not asked here: the app's Mesh view shows them as it reaches them.)\n")
    by_cluster = inv.hidden_by_cluster()
    for cluster, hidden in by_cluster:
        for where, why in sorted(hidden.items()):
            print(f"meshdesk mesh: hidden: {where}{f' in cluster {cluster}' if len(by_cluster) > 1 else ''}: {why}",
                  file=err)
    for name, why in sorted(inv.unread_clusters.items()):
        # (as `meshdesk graph` says it: the others are shown, and the run is no failure)
        print(f"meshdesk mesh: warning: cluster {name} of the mesh could not be read ({why}); its box says so",
              file=err)
    return 0
