"""The login shell's PATH is found and merged (fake shells: one that answers, one that fails, one that hangs)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

from meshdesk.sources import loginshell


def fake_shell(folder: Path, body: str) -> str:
    """A stand-in for ``$SHELL``: a sh script that ignores -l/-i and runs the -c script with its own rules."""
    path = folder / "fakeshell"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


ANSWERING = """\
echo "Welcome banner from .bashrc"
# the last argument is the -c script; run it with a known PATH, like a profile would set
script=""
for a in "$@"; do script="$a"; done
PATH="/opt/login/bin:/home/u/.local/bin:/usr/bin:/bin" /bin/sh -c "$script"
echo "goodbye from .bash_logout"
"""


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    loginshell._cache.clear()


def test_login_shell_path_reads_between_markers(tmp_path: Path) -> None:
    shell = fake_shell(tmp_path, ANSWERING)
    assert loginshell.login_shell_path(shell) == "/opt/login/bin:/home/u/.local/bin:/usr/bin:/bin"


def test_adopt_merges_keeps_existing_and_dedups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin:/snap/bin::/usr/bin")
    shell = fake_shell(tmp_path, ANSWERING)
    assert loginshell.adopt_login_shell_path(shell) is True
    assert os.environ["PATH"].split(os.pathsep) == [
        "/opt/login/bin", "/home/u/.local/bin", "/usr/bin", "/bin", "/snap/bin"]
    assert loginshell.adopt_login_shell_path(shell) is False  # already merged


def test_shell_from_environment_runs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = tmp_path / "runs"
    shell = fake_shell(tmp_path, f"echo x >> {counter}\n" + ANSWERING)
    monkeypatch.setenv("SHELL", shell)
    assert loginshell.login_shell_path() == loginshell.login_shell_path()
    assert counter.read_text().count("x") == 1


@pytest.mark.parametrize("body", [
    "echo 'no marker here'; exit 1",
    "exit 0",
    "read line; echo \"stdin was not closed: $line\"",
])
def test_failing_shell_leaves_path_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert loginshell.adopt_login_shell_path(fake_shell(tmp_path, body)) is False
    assert os.environ["PATH"] == "/usr/bin:/bin"


def test_missing_shell_leaves_path_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert loginshell.adopt_login_shell_path(str(tmp_path / "no-such-shell")) is False
    assert os.environ["PATH"] == "/usr/bin:/bin"


def test_hanging_shell_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    pidfile = tmp_path / "child.pid"
    # a profile that starts a background job and waits forever
    shell = fake_shell(tmp_path, f"sleep 300 & echo $! > {pidfile}; wait")
    assert loginshell.adopt_login_shell_path(shell, timeout=0.5) is False
    assert os.environ["PATH"] == "/usr/bin:/bin"
    child = int(pidfile.read_text())

    def gone() -> bool:
        try:
            return Path(f"/proc/{child}/stat").read_text().split()[2] in ("Z", "X")
        except OSError:
            return True

    # the whole process group was killed, not only the shell
    deadline = time.monotonic() + 10
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gone()


@pytest.mark.parametrize("spawn", ["sleep 30 &", "setsid sleep 30 &"])
def test_a_profile_leaving_a_process_behind_does_not_lose_or_hold_the_answer(tmp_path: Path, spawn: str) -> None:
    """A profile that starts something in the background (an agent, a "sleep &", a setsid'd helper)
    keeps the shell's output open: the PATH printed before was thrown away, and with setsid the call
    waited as long as the helper lived (it runs at start-up, so the window waited too)."""
    pids = tmp_path / "pids"
    body = f"{spawn}\necho $! >> {pids}\n" + ANSWERING
    shell = fake_shell(tmp_path, body)
    try:
        # the timeout is far beyond what an answering shell needs: the answer must come, not the timeout
        assert loginshell.login_shell_path(shell, timeout=20) == "/opt/login/bin:/home/u/.local/bin:/usr/bin:/bin"
    finally:
        for pid in pids.read_text().split() if pids.exists() else []:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
