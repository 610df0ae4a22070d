"""Where the process starts: ``meshdesk``, ``meshdesk-cli`` and ``python -m meshdesk`` all enter through ``run``.

It imports nothing of meshdesk's before Ctrl+C is taken care of, so that it is in place a moment after Python
itself has started.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def quit_while_starting(signum: int, frame: FrameType | None) -> None:
    """Ctrl+C while the command or the window is still being loaded (its modules imported): there is nothing
    to clean up yet, so the process ends at once, quietly, with 130 (128 + SIGINT), as a command ends later.
    Python's own handler raised KeyboardInterrupt inside whichever import was running, and its traceback
    was printed."""
    try:
        os.write(2, b"\n")  # the line after ^C, as later
    except OSError:
        pass
    os._exit(130)


def run() -> int:
    """The command line's ``meshdesk.cli.main``, with Ctrl+C ending the process quietly until the command
    (or the window) sets its own handling up. Not when Ctrl+C is ignored (a job started in the background
    keeps ignoring it)."""
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, quit_while_starting)
    except ValueError:  # not the main thread (an embedding host's): its handlers are its own
        pass
    from meshdesk.cli import main

    code = main()
    if code == 130:
        # a command Ctrl+C stopped, what it was writing cleaned up on the way out: ended here. Python's own
        # exit killed some such runs with SIGINT instead of 130: a KeyboardInterrupt raised in code it ran
        # from text (the methods a dataclass makes, exec'd while a module imports) is taken for one nobody
        # caught, however it was caught after. And it waited again for the reads in flight
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    return code
