"""Command line: ``meshdesk`` opens the app; ``meshdesk graph|contexts|inventory`` work headless.

Each subcommand lives in its own module (``meshdesk.commands.*``) and is imported only when used,
so ``meshdesk graph`` never loads Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from meshdesk import __version__

SUBCOMMANDS = ("graph", "contexts", "inventory")


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="meshdesk",
        description="See and steer an Istio service mesh from your desktop. "
        f"Subcommands: {', '.join(SUBCOMMANDS)} (try 'meshdesk graph --help').",
    )
    p.add_argument("--version", action="version", version=f"meshdesk {__version__}")
    p.add_argument("--demo", action="store_true", help="open the built-in demo mesh")
    p.add_argument("--kubeconfig", help="kubeconfig file(s), like kubectl's --kubeconfig")
    p.add_argument("--context", help="kubeconfig context to open")
    p.add_argument("--namespace", "-n", action="append", help="namespace(s) to show")
    p.add_argument("--snapshot", help="open a snapshot file offline")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        cmd, rest = args[0], args[1:]
        if cmd == "graph":
            from meshdesk.commands import graph as mod
        elif cmd == "contexts":
            from meshdesk.commands import contexts as mod  # type: ignore[no-redef]
        else:
            from meshdesk.commands import inventory as mod  # type: ignore[no-redef]
        try:
            return int(mod.main(rest))
        except KeyboardInterrupt:  # Ctrl+C: stop quietly, as a Unix tool does (128 + SIGINT)
            print(file=sys.stderr)
            return 130
    opts = _gui_parser().parse_args(args)
    from meshdesk.ui.app import run

    return int(run(opts))
