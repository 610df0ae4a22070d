"""Command line: ``meshdesk`` opens the app; ``meshdesk graph|contexts|inventory|mesh`` (and the rest) work headless.

Each subcommand lives in its own module (``meshdesk.commands.*``) and is imported only when used,
so ``meshdesk graph`` never loads Qt.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from meshdesk import __version__
from meshdesk.commands import CommandParser
from meshdesk.launch import quit_while_starting
from meshdesk.mesh.words import short_name

SUBCOMMANDS = ("graph", "contexts", "inventory", "validate", "traces", "mesh")
# what each does, for `meshdesk --help` (its own --help says the rest): the list of names alone told a
# first-time user nothing of which one to try
SUBCOMMAND_WORDS = {
    "graph": "build the traffic graph and print it (a table, Kiali's JSON, DOT), or save a snapshot",
    "inventory": "list the mesh's workloads, sidecars, services and Istio config",
    "validate": "check the Istio config as the app's Istio config view does; exit 3 on errors",
    "traces": "list the traces of an app, a workload or a service (Jaeger or Tempo)",
    "mesh": "show the control planes, the namespaces each one takes and the gateways (Kiali's Mesh page)",
    "contexts": "list the kubeconfig's contexts, as kubectl config get-contexts does",
}


def _gui_parser() -> argparse.ArgumentParser:
    width = max(len(name) for name in SUBCOMMANDS)
    p = CommandParser(
        prog="meshdesk",
        description="See and steer an Istio service mesh from your desktop. With no subcommand,\n"
        "meshdesk opens its window; the subcommands below work in a terminal.",
        epilog="subcommands (each takes --help; they open no window):\n" + "\n".join(
            f"  {name:<{width}}  {SUBCOMMAND_WORDS[name]}" for name in SUBCOMMAND_WORDS)
        + "\n\nexamples:\n  meshdesk --demo                      open the app on its built-in demo mesh"
        "\n  meshdesk graph --demo -n shop        print the demo's graph of the namespace shop",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"meshdesk {__version__}")
    p.add_argument("--demo", action="store_true", help="open the built-in demo mesh")
    p.add_argument("--kubeconfig", help="kubeconfig file(s), like kubectl's --kubeconfig")
    p.add_argument("--context", help="kubeconfig context to open")
    p.add_argument("--namespace", "-n", action="append", help="namespace(s) to show")
    p.add_argument("--snapshot", help="open a snapshot file offline")
    return p


class _OutputFailed(Exception):
    """Standard output could not be written (a closed pipe, a full disk); ``error`` says why."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Output:
    """Standard output whose write failures are told apart from every other OSError a command meets, and
    which writes what its encoding cannot hold escaped (``\\u672c``) rather than fail."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            try:
                return int(self._stream.write(text))
            except UnicodeEncodeError:
                # a name the console cannot show (a context named 本番 on a cp1252 or ASCII console) was a
                # traceback: escaped instead, as Python writes stderr, so that names stay told apart
                encoding = getattr(self._stream, "encoding", None) or "utf-8"
                self._stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
                return len(text)
        except OSError as e:
            raise _OutputFailed(e) from e

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as e:
            raise _OutputFailed(e) from e

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Closed:
    """Standard output when the process was started without one (`>&-`): what is printed on it fails, as a
    write to a closed descriptor does, where argparse wrote ``--help`` to standard error instead."""

    def write(self, text: str) -> int:
        raise _OutputFailed(OSError(errno.EBADF, "standard output is closed"))

    def flush(self) -> None:
        pass


def _not_written(prog: str, real: Any, failed: _OutputFailed) -> int:
    """The exit code of a run whose standard output could not be written, said in one line on stderr (not
    when the reader went, ``| head``: quiet, as Unix tools are)."""
    if real is not None:
        _quiet_stdout(real)
    e = failed.error
    if isinstance(e, BrokenPipeError):
        return 141  # 128 + SIGPIPE
    print(f"{prog}: cannot write the output: {e.strerror or e}", file=sys.stderr)
    return 1


# a word longer than any path or address a message needs whole (a Linux path is at most 4,096 bytes)
_LONGEST_WORD = 4096
_HUGE_WORD = re.compile(rf"\S{{{_LONGEST_WORD + 1},}}")


class _Errors:
    """Standard error whose words longer than any path are quoted by their start and end, with their
    length: a value given on the command line (a namespace, a node name, a tag) ten thousand characters
    long was echoed whole in the message that named it wrong."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if len(text) > _LONGEST_WORD:
            text = _HUGE_WORD.sub(lambda m: short_name(m.group(0)), text)
        try:
            return int(self._stream.write(text))
        except OSError:
            # standard error closed (`2>&-`) or gone: nowhere to say anything. The first warning's failed
            # write ended a run that had printed its output with exit code 1 (a usage error's too), and
            # skipped the rest of the run
            _quiet_stdout(self._stream)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            _quiet_stdout(self._stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _quiet_stdout(stream: Any) -> None:
    """Point standard output (or error) at nothing, so the interpreter's own flush at exit does not fail
    again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


# how long an interrupted command is given to clean up (a file being written) before it ends anyway
_INTERRUPT_GRACE_S = 1.0
_interrupt_said = threading.Event()  # the line after ^C is written


def _end_interrupted() -> None:
    if not _interrupt_said.is_set():
        with contextlib.suppress(OSError):
            os.write(2, b"\n")
    os._exit(130)  # 128 + SIGINT


def _on_interrupt(signum: int, frame: Any) -> None:
    """Ctrl+C in a subcommand: KeyboardInterrupt as Python raises it, so that what is being written is cleaned
    up on the way out, and the process ends a moment later whatever its threads still wait on. The
    inventory's parallel reads waiting on a slow API server (up to --timeout each) held the process for as
    long after Ctrl+C: Python waits for such threads as it leaves a pool and again at its exit."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl+C interrupts the cleanup
    timer = threading.Timer(_INTERRUPT_GRACE_S, _end_interrupted)
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # the process's own command line (not a caller's argv), with Ctrl+C delivered (a job started in the
    # background ignores it, and keeps ignoring it): set once the command is loaded, below; until then the
    # process ends at once (``launch.run``'s handler: nothing to clean up while modules are imported)
    interruptible = argv is None and threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, quit_while_starting)
    if args and args[0] in SUBCOMMANDS:
        cmd, rest = args[0], args[1:]
        if cmd == "graph":
            from meshdesk.commands import graph as mod
        elif cmd == "contexts":
            from meshdesk.commands import contexts as mod  # type: ignore[no-redef]
        elif cmd == "validate":
            from meshdesk.commands import validate as mod  # type: ignore[no-redef]
        elif cmd == "traces":
            from meshdesk.commands import traces as mod  # type: ignore[no-redef]
        elif cmd == "mesh":
            from meshdesk.commands import mesh as mod  # type: ignore[no-redef]
        else:
            from meshdesk.commands import inventory as mod  # type: ignore[no-redef]
        real = sys.stdout
        if real is None:  # started with standard output closed (`>&-`): nowhere to write the answer
            print(f"meshdesk {cmd}: cannot write the output: standard output is closed", file=sys.stderr)
            return 1
        sys.stdout = _Output(real)
        errors = sys.stderr
        # started with standard error closed (`2>&-`): Python has none, and print(..., file=None) writes to
        # standard output, so warnings and errors were mixed into the output (into its JSON); they go nowhere
        nowhere = open(os.devnull, "w") if errors is None else None  # noqa: SIM115 - closed below
        sys.stderr = _Errors(errors if errors is not None else nowhere)
        try:
            if interruptible:
                # inside the try: a Ctrl+C the moment it is set is this command's, and ends it quietly too (the
                # command module's import was outside it, and a Ctrl+C during it printed a traceback)
                signal.signal(signal.SIGINT, _on_interrupt)
            code = int(mod.main(rest))
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
            return code
        except KeyboardInterrupt:  # Ctrl+C: stop quietly, as a Unix tool does (128 + SIGINT)
            print(file=sys.stderr)
            _interrupt_said.set()
            return 130
        except _OutputFailed as failed:
            return _not_written(f"meshdesk {cmd}", real, failed)
        finally:
            sys.stdout = real
            sys.stderr = errors
            if nowhere is not None:
                nowhere.close()
            if interruptible and signal.getsignal(signal.SIGINT) is _on_interrupt:
                # done: a Ctrl+C while the process exits (its threads joined) ends it as quietly
                signal.signal(signal.SIGINT, quit_while_starting)
    real = sys.stdout
    # what `meshdesk --help`, `--version` and `help` print (the window itself prints nothing there): a full disk
    # or a closed descriptor exited 0 without a word, as if the usage had been printed
    sys.stdout = _Output(real) if real is not None else _Closed()
    try:
        opts = _window_options(args)
        sys.stdout.flush()
    except _OutputFailed as failed:
        return _not_written("meshdesk", real, failed)
    except SystemExit as e:  # --help and --version printed (0), or a usage mistake said on stderr (2)
        if e.code:
            raise
        try:
            sys.stdout.flush()
        except _OutputFailed as failed:
            return _not_written("meshdesk", real, failed)
        raise
    finally:
        sys.stdout = real
    if opts is None:
        return 0
    from meshdesk.ui.app import run

    return int(run(opts))


def _window_options(args: list[str]) -> argparse.Namespace | None:
    """The options the window is opened with; None when the usage was asked for (``meshdesk help``). Raises
    SystemExit as argparse does: 0 once ``--help`` or ``--version`` is printed, 2 after a usage mistake."""
    parser = _gui_parser()
    if args and args[0] == "help":  # `meshdesk help`, as git and kubectl take it: the usage, not an error
        parser.print_help()
        return None
    opts, extra = parser.parse_known_args(args)
    if extra and args and extra[0] == args[0] and not args[0].startswith("-"):
        # `meshdesk grpah --demo`: a misspelt subcommand was "unrecognized arguments: grpah"
        close = difflib.get_close_matches(args[0].lower(), SUBCOMMANDS, n=1, cutoff=0.6)
        parser.error(f"'{args[0]}' is not a subcommand" + (f": did you mean '{close[0]}'?" if close else "")
                     + f" (subcommands: {', '.join(SUBCOMMANDS)})")
    if extra:
        named = next((a for a in extra if a in SUBCOMMANDS), None)
        if named is not None:
            # `meshdesk --demo graph`: the options of a subcommand come after its name
            parser.error(f"'{named}' is a subcommand: put it first, then its options "
                         f"(meshdesk {named} {' '.join(a for a in args if a != named)})")
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if opts.snapshot is not None and (opts.demo or opts.context):
        # one thing to open: the snapshot won and --demo or --context was dropped without a word (as
        # `meshdesk graph` refuses it); a kubeconfig's contexts are still offered beside a snapshot
        parser.error("--snapshot opens a file; it cannot be combined with --demo or --context "
                     "(open one, then pick the other in the context box)")
    return opts
