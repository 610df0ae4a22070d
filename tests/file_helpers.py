"""Helpers for tests of files the app reads."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def returns_without_blocking(call: Callable[[], Any], fifo: Path) -> Any:
    """``call()``'s result; fails the test if it is still blocked on the named pipe ``fifo`` after 30
    seconds (the pipe is then opened for writing, so the blocked read ends and no thread is left)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)  # returns as soon as the call is done
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the reader sees end of file
        worker.join()
        pytest.fail(f"reading {fifo} blocked: a named pipe was opened like a file")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
