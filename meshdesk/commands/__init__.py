"""Headless subcommands of the meshdesk CLI, one module each."""

from __future__ import annotations

import argparse
from typing import NoReturn


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage mistakes are one line on stderr (what is wrong, and where the options
    are listed), exit code 2: argparse printed its whole usage first, up to 24 lines for ``meshdesk graph``,
    with the line that named the mistake last, where a command's other errors are one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
