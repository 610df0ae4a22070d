"""``meshdesk validate``: the findings the app's Istio config view shows (Kiali's KIA checks and
meshdesk's MDK checks), printed for a cluster, the demo or a snapshot taken with its inventory - to
look at a mesh from a terminal, or to stop a pipeline on a broken config, as ``istioctl analyze`` does.

One line per finding, most severe first: ``Error [KIA1101] (VirtualService shop/reviews spec/http[0])
message``; ``--json`` prints them as a list of objects instead.

Exit codes: 0 no finding at or above ``--fail-on`` (default: error), 3 some (printed unless ``--level``
leaves them out), 4 none found but part of what the checked namespaces hold could not be read, or the
cluster has no Istio at all, or no namespace was checked (``-n`` naming only namespaces it lacks) (a CI
gate must not pass what was not checked; what is hidden cluster-wide
only, such as gateway pods elsewhere, does not count; ``--fail-on never`` exits 0), 1 the
cluster could not be read (one plain line on stderr), 2 bad usage, a bad kubeconfig or a snapshot that
cannot be read or holds no inventory.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from meshdesk.commands import (
    CommandParser,
    add_all_namespaces_option,
    add_output_option,
    exit_code,
    snapshot_name,
    timeout_seconds,
)
from meshdesk.mesh.check_codes import checks_left_out
from meshdesk.mesh.request import split_names
from meshdesk.mesh.words import counted
from meshdesk.sources.base import ConfigError

PROG = "meshdesk validate"
FOUND = 3  # the exit code when findings at or above --fail-on were printed
NOT_CHECKED = 4  # none found, but something could not be read (RBAC, a server error): not a pass
# meshdesk.mesh.validations' severities: the checks themselves are imported when they run (they took
# `meshdesk validate --help`, and a usage mistake, 0.7 s to load)
ERROR, WARNING, INFO = "error", "warning", "info"
_RANK = {ERROR: 0, WARNING: 1, INFO: 2}
_LEVELS = ("error", "warning", "info")
OPTIONAL = ("KIA1301",)  # checks made only when asked for (Kiali ignores KIA1301 by default)


def _parser() -> argparse.ArgumentParser:
    p = CommandParser(prog=PROG, description="Check the mesh's Istio config as the app's Istio config "
                                "view does (Kiali's checks and meshdesk's), and print what is wrong.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--demo", action="store_true", help="the built-in demo mesh instead of a cluster")
    src.add_argument("--snapshot", metavar="FILE", help="a snapshot file taken with its inventory (offline; - reads standard input)")
    p.add_argument("--kubeconfig", help="kubeconfig file(s), like kubectl's --kubeconfig")
    p.add_argument("--context", help="kubeconfig context (default: the current one)")
    p.add_argument("--namespace", "-n", action="append", metavar="NAMESPACE",
                   help="namespace to check (repeatable; default: every namespace you may list; with --snapshot, "
                        "those of the snapshot)")
    add_all_namespaces_option(p, "every namespace you may list (as without -n; with --snapshot, those of the snapshot)")
    p.add_argument("--cluster", default="", help="cluster name to record (default: Kubernetes)")
    p.add_argument("--level", choices=_LEVELS, default="info",
                   help="the least severe finding printed (default: info, all of them)")
    p.add_argument("--fail-on", choices=(*_LEVELS, "never"), default="error",
                   help=f"exit with {FOUND} when a finding this severe or more is found, printed or not "
                        f"(default: error); with none found, exit with {NOT_CHECKED} when something of a checked "
                        "namespace could not be read (so was not checked)")
    p.add_argument("--include", action="append", choices=OPTIONAL, default=[], metavar="CODE",
                   help="also make a check Kiali leaves out unless asked: KIA1301 (a workload no "
                        "AuthorizationPolicy covers)")
    p.add_argument("--ignore", action="append", default=[], metavar="CODES",
                   help="leave out findings of these codes (any case), comma-separated (as Kiali's validations.ignore)")
    add_output_option(p, "the findings")
    p.add_argument("--timeout", type=timeout_seconds, default=30.0, metavar="SECONDS",
                   help="per API call, in seconds or with a unit (30s, 2m; default 30)")
    return p


if TYPE_CHECKING:
    from meshdesk.mesh.inventory import Inventory
    from meshdesk.mesh.validations import Check

    Finding = tuple[str, str, str, Check, str]  # kind, namespace, name, the finding, cluster ("": the only one)


def findings(inv: Inventory, namespaces: Sequence[str] | None = None, level: str = INFO, *,
             include: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Finding]:
    """(kind, namespace, name, check, cluster) of every finding at least as severe as ``level``, in
    ``namespaces`` (all when None), most severe first, then by namespace, kind, name, cluster and code.
    ``include``: optional checks to make (``OPTIONAL``); ``ignore``: codes left out. The cluster is
    named when the inventory holds several clusters' (a snapshot of them): each cluster's object of a
    name has its own findings."""
    from meshdesk.mesh.validations import validate

    wanted = None if namespaces is None else set(namespaces)
    most = _RANK.get(level, _RANK[INFO])
    found = validate(inv, uncovered="KIA1301" in include, ignore=ignore)
    per = found.by_cluster or {"": found}
    rows = [(v.kind, v.namespace, v.name, c, cluster)
            for cluster, validations in per.items() for v in validations.values()
            for c in v.checks if _RANK.get(c.severity, _RANK[INFO]) <= most and (wanted is None or v.namespace in wanted)]
    rows.sort(key=lambda r: (_RANK.get(r[3].severity, 9), r[1], r[0], r[2], r[4], r[3].code, r[3].path, r[3].message))
    return rows


def render_lines(rows: Sequence[Finding]) -> str:
    out = []
    for kind, namespace, name, c, cluster in rows:
        where = f"{kind} {namespace}/{name}" + (f" in cluster {cluster}" if cluster else "") + \
            (f" {c.path}" if c.path else "")
        out.append(f"{c.severity.capitalize()} [{c.code}] ({where}) {' '.join(c.message.split())}\n")
    return "".join(out)


def render_json(rows: Sequence[Finding]) -> str:
    items: list[dict[str, Any]] = []
    for kind, namespace, name, c, cluster in rows:
        item: dict[str, Any] = {"severity": c.severity, "code": c.code, "kind": kind, "namespace": namespace,
                                "name": name, "message": c.message}
        if cluster:
            item["cluster"] = cluster
        if c.path:
            item["path"] = c.path
        if c.subjects:
            item["subjects"] = list(c.subjects)
        items.append(item)
    return json.dumps(items, indent=2) + "\n"


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    from meshdesk.commands.inventory import parsed

    args = parsed(_parser(), argv)
    if isinstance(args, int):
        return args
    if not 0 < args.timeout < 86400:
        print(f"{PROG}: --timeout must be a positive number of seconds (under a day)", file=err)
        return 2
    if (args.demo or args.snapshot is not None) and (args.kubeconfig or args.context):
        print(f"{PROG}: --demo and --snapshot read no cluster; they cannot be combined with --kubeconfig/--context",
              file=err)
        return 2
    if args.snapshot is not None and not args.snapshot.strip():
        print(f"{PROG}: --snapshot needs a file name", file=err)
        return 2
    try:
        # as the app's Settings read them: any case, commas or spaces between. A code in lower case, or
        # mistyped (KIAO701), was passed on as it was and left nothing out, without a word
        ignored = [code for value in args.ignore for code in checks_left_out(value)]
    except ValueError as e:
        print(f"{PROG}: --ignore: {e}", file=err)
        return 2
    from meshdesk.commands.inventory import _cluster_inventory, _demo_inventory, cluster_refused

    if cluster_refused(args, PROG, err):
        return 2

    if args.namespace is not None:  # -n a,b names two, as `meshdesk graph -n` reads it
        args.namespace = split_names(args.namespace) or None
    inv: Inventory | None
    try:
        if args.snapshot is not None:
            inv = _snapshot_inventory(args.snapshot)
        elif args.demo:
            inv = _demo_inventory(args.namespace)
        else:
            inv = _cluster_inventory(args, err, prog=PROG)
    except ConfigError as e:
        print(f"{PROG}: {e}", file=err)
        return exit_code(e)
    if inv is None:
        return 1
    if args.snapshot is not None and args.namespace:
        read = {n.name for n in inv.namespaces}
        missing = [n for n in args.namespace if n not in read]
        if missing:
            print(f"{PROG}: --namespace {', '.join(missing)}: the snapshot holds no inventory of "
                  f"{'that namespace' if len(missing) == 1 else 'those namespaces'} (it has "
                  f"{', '.join(sorted(read)) or 'none'})", file=err)
            return 2
    found = findings(inv, args.namespace if args.snapshot is not None else None, include=args.include,
                     ignore=ignored)
    shown = _RANK[args.level]
    rows = [r for r in found if _RANK.get(r[3].severity, 9) <= shown]
    if args.json:
        out.write(render_json(rows))
    elif rows:
        out.write(render_lines(rows))
    by_cluster = inv.hidden_by_cluster()  # (of a snapshot of several clusters: each one's, named)
    for cluster, hidden in by_cluster:
        for where, why in sorted(hidden.items()):  # not checked, so not said to be fine
            print(f"{PROG}: hidden: {where}{f' in cluster {cluster}' if len(by_cluster) > 1 else ''}: {why}",
                  file=err)
    from meshdesk.sources.inventory import NOT_ISTIO

    for warning in inv.warnings:  # a namespace the cluster does not have, and the like
        if warning != NOT_ISTIO:  # (said once, below, as why nothing was checked)
            print(f"{PROG}: warning: {warning}", file=err)
    from meshdesk.sources.inventory import ISTIO_RESOURCES

    names = sorted({n.name for n in inv.namespaces})
    # named with -n but not there (a typo beside a real name): not checked, and a gate must not pass it
    absent = [] if args.snapshot is not None or not args.namespace else \
        [n for n in dict.fromkeys(args.namespace) if n not in names]
    # per checked namespace, which kinds of its Istio config could not be read (RBAC, a server error)
    unread_kinds = {ns: [p for _, _, p in ISTIO_RESOURCES if inv.unread(ns, (p,))] for ns in names}
    if not inv.istio_found:
        # no Istio API at all (its CRDs are not installed, or this is the wrong context): nothing was
        # checked, which "no findings in N namespaces" and exit 0 said was a pass (a CI gate let it through)
        print(f"{PROG}: nothing checked: Istio was not found in this cluster (it serves no networking.istio.io "
              "API: is Istio installed, and is this the right context?)", file=err)  # (stderr: --json too)
        return 0 if args.fail_on == "never" else NOT_CHECKED
    if not names:
        # -n naming only namespaces the cluster (or the demo) lacks, a typo in a pipeline: "no findings in
        # 0 namespaces" and exit 0 passed a gate that checked nothing
        # said with --json too (on stderr: stdout stays the JSON list), or exit 4 came with no reason but
        # the warnings above it
        print(f"{PROG}: nothing checked: " + ("none of the namespaces named exists" if args.namespace else
                                               "no namespace could be listed"), file=err)
        return 0 if args.fail_on == "never" else NOT_CHECKED
    if not args.json:
        counts = {s: sum(1 for r in rows if r[3].severity == s) for s in (ERROR, WARNING, INFO)}
        said = [counted(n, s) for s, n in counts.items() if n]
        # a namespace none of whose Istio config could be read (RBAC) was not checked: it was counted
        # among those with "no findings"
        unread = [ns for ns in names if len(unread_kinds[ns]) == len(ISTIO_RESOURCES)]
        print(f"{PROG}: " + (", ".join(said) if said else "no findings") +
              f" in {counted(len(names) - len(unread), 'namespace')}"
              + (f"; not checked: {', '.join(unread)} ({'its' if len(unread) == 1 else 'their'} Istio config could not be "
                 "read)" if unread else "")
              + (f"; not checked: {', '.join(absent)} (no such namespace)" if absent else ""),
              file=err)
    if args.fail_on == "never":
        return 0
    threshold = _RANK[args.fail_on]
    if any(_RANK.get(r[3].severity, 9) <= threshold for r in found):
        return FOUND
    # a checked namespace something of which could not be read (its Istio config, or its workloads,
    # pods and services the checks look at) was not checked in full
    partial = any(unread_kinds[ns] or any(k.startswith(f"{ns}/") for _c, hidden in inv.hidden_by_cluster()
                                          for k in hidden) for ns in names)
    return NOT_CHECKED if partial or absent else 0


def _snapshot_inventory(path: str) -> Inventory:
    from meshdesk.sources.snapshot import load_snapshot

    snap = load_snapshot(path)
    if snap.inventory is None:
        raise ConfigError(f"{snapshot_name(path)} holds no inventory (it was taken without one), so there is "
                          "no config to check")
    return snap.inventory
