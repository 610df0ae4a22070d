"""``meshdesk contexts``: list kubeconfig contexts exactly like ``kubectl config get-contexts``.

Same files (``--kubeconfig``, ``$KUBECONFIG``, ``~/.kube/config``), same merge rules, same sorting and
the same table (columns aligned like kubectl's tab writer) or ``-o name`` lines. Exit codes: 0 ok,
1 a kubeconfig file is broken or a named context does not exist (one plain line each on stderr; the
contexts that could be read are still printed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from meshdesk.commands import CommandParser
from meshdesk.sources.base import ConfigError
from meshdesk.sources.kubeconfig import KubeConfig, load_kubeconfig

HEADERS = ("CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE")

# kubectl's tab writer: minimum cell width 6, padding 3, padded with spaces; the last cell is not padded.
_MIN_WIDTH = 6
_PADDING = 3


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows aligned the way kubectl's tab writer aligns them (trailing padding included)."""
    if not rows:
        return ""
    ncols = max(len(r) for r in rows)
    widths = [_MIN_WIDTH] * ncols
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell) + _PADDING)
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        cells.append(row[-1])
        lines.append("".join(cells) + "\n")
    return "".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = CommandParser(prog="meshdesk contexts",
                                description="List kubeconfig contexts (like `kubectl config get-contexts`).")
    p.add_argument("names", nargs="*", metavar="CONTEXT", help="only these contexts")
    p.add_argument("-o", "--output", choices=("name",), help="`name`: one context name per line")
    p.add_argument("--no-headers", action="store_true", help="do not print the header line")
    p.add_argument("--kubeconfig", help="kubeconfig file(s) to read instead of $KUBECONFIG or ~/.kube/config")
    return p


def render(kc: KubeConfig, *, names: Sequence[str] = (), name_only: bool = False,
           headers: bool = True) -> tuple[str, list[str]]:
    """(what to print on stdout, errors for the names that were asked for but do not exist)."""
    known = {c.name: c for c in kc.contexts}
    errors: list[str] = []
    if names:
        chosen = []
        for n in names:
            if n in known:
                chosen.append(n)
            else:
                errors.append(f"context {n} not found")
    else:
        chosen = list(known)
    chosen.sort()
    if name_only:
        return "".join(f"{n}\n" for n in chosen), errors
    rows: list[Sequence[str]] = [HEADERS] if headers else []
    for n in chosen:
        c = known[n]
        rows.append(("*" if n == kc.current_context else " ", c.name, c.cluster, c.user, c.namespace))
    return format_table(rows), errors


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        kc = load_kubeconfig(args.kubeconfig, log_problems=False)  # printed below, once each
    except ConfigError as e:
        print(f"meshdesk contexts: {e}", file=err)
        return 1
    text, missing = render(kc, names=args.names, name_only=args.output == "name",
                           headers=not args.no_headers)
    out.write(text)
    out.flush()
    if not kc.files:
        looked = ", ".join(str(p) for p in kc.searched) or "nowhere"
        print(f"meshdesk contexts: no kubeconfig found (looked at {looked})", file=err)
    for problem in kc.problems:
        print(f"meshdesk contexts: {problem}", file=err)
    for message in missing:
        print(f"meshdesk contexts: {message}", file=err)
    return 1 if (kc.problems or missing) else 0
