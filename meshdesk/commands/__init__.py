"""Headless subcommands of the meshdesk CLI, one module each."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from meshdesk.sources.base import SourceError


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage mistakes are one line on stderr (what is wrong, and where the options
    are listed), exit code 2: argparse printed its whole usage first, up to 24 lines for ``meshdesk graph``,
    with the line that named the mistake last, where a command's other errors are one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def exit_code(error: SourceError) -> int:
    """The exit code of a command that ``error`` ended, by one rule for every command: 2 when something the
    user gave must be mended first (a kubeconfig without that context or with a malformed user, a snapshot
    that is none, an address that is no URL), 1 when the cluster, Prometheus or the tracing backend could
    not be read with it. A login that could not be had is the second kind, whatever failed: a token the
    API server rejected, or a credential plugin that failed, printed no credential or is not installed
    (kubectl exits 1 for each). The plugin's failures exited 2, as a bad kubeconfig, and a token's 1."""
    from meshdesk.sources.base import ConfigError, CredentialPluginError

    if isinstance(error, CredentialPluginError):
        return 1
    return 2 if isinstance(error, ConfigError) else 1


def naming_context(error: SourceError, context: str | None) -> SourceError:
    """``error`` said for the kubeconfig context whose login the API server rejected (401): a command's one line
    named the context when its credential plugin failed (``context "lab": the credential plugin ...``) but not
    when its token was refused, so with several contexts in one kubeconfig (or a script going through them)
    the user could not tell whose login to renew. Other errors, and one that names its context already, are
    left as they are. The token is never part of it."""
    from meshdesk.sources.base import Unauthorized

    if context and isinstance(error, Unauthorized) and not error.message.startswith('context "'):
        error.message = f'context "{context}": {error.message}'
    return error


def add_output_option(p: argparse.ArgumentParser, what: str) -> None:
    """``-o json`` / ``--output json`` beside ``--json``, as kubectl users write it (``-o table``, the default,
    prints the table)."""
    p.add_argument("--json", action="store_true", help=f"print {what} as JSON (as -o json)")
    p.add_argument("-o", "--output", choices=("table", "json"), help="output format: table (the default) or json")


def wants_json(p: argparse.ArgumentParser, a: argparse.Namespace) -> bool:
    """Whether ``--json`` or ``-o json`` was given; ``--json`` with ``-o table`` is a usage error."""
    if a.json and a.output == "table":
        p.error("--json and -o table ask for two outputs: give one")
    return bool(a.json or a.output == "json")


def snapshot_name(path: str) -> str:
    """How a ``--snapshot`` argument is named in a message: ``-`` is standard input."""
    return "the snapshot on standard input (-)" if path == "-" else f"snapshot file {path}"


def add_all_namespaces_option(p: argparse._ActionsContainer, what: str) -> None:
    """kubectl's ``-A``/``--all-namespaces``: it was refused as an unknown option."""
    p.add_argument("-A", "--all-namespaces", action="store_true", help=f"{what} (not with -n)")


def refuse_all_with_some(p: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """``-A`` with ``-n``: kubectl drops the -n without a word; which one was meant is asked instead."""
    if a.all_namespaces and a.namespace:
        p.error("-A (every namespace) and -n NAMESPACE ask for different namespaces: give one")


def timeout_seconds(text: str) -> float:
    """``--timeout``: a number of seconds (2.5), or a span with its unit as kubectl's ``--request-timeout``
    and this command's ``--since`` or ``--duration`` take one (30s, 1m, 500ms): ``--timeout 30s`` was refused
    as no number."""
    try:
        return float(text)
    except ValueError:
        pass
    from meshdesk.sources.prometheus import parse_duration

    seconds = parse_duration(text) if len(text) <= 30 else None
    if seconds is None:
        shown = text if len(text) <= 30 else text[:20] + "..."
        raise argparse.ArgumentTypeError(f"must be a number of seconds or a span with its unit (30s, 1m, 500ms), "
                                         f"not {shown!r}")
    return seconds
