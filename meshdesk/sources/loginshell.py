"""The PATH a terminal would have, for apps started from a desktop launcher.

A launcher (GNOME, KDE, macOS Dock) starts meshdesk with a minimal PATH, so kubeconfig exec plugins
(``aws``, ``gke-gcloud-auth-plugin``, ``kubelogin``) that the user's shell profile puts on PATH are not
found. ``adopt_login_shell_path`` asks the user's login shell once for its PATH and merges it in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import select
import signal
import subprocess
import threading
import time

log = logging.getLogger(__name__)

MARKER = "__MESHDESK_PATH_7f3a__"
DEFAULT_TIMEOUT = 5.0

_cache: dict[str, str | None] = {}
_lock = threading.Lock()


def user_shell() -> str | None:
    """``$SHELL``, else the login shell from the password database."""
    shell = os.environ.get("SHELL")
    if shell:
        return shell
    try:
        return pwd.getpwuid(os.getuid()).pw_shell or None
    except (KeyError, OSError):
        return None


def _run_shell(shell: str, timeout: float) -> str | None:
    # printf with the marker on both sides: rc files may print banners before or after.
    script = f"printf '{MARKER}%s{MARKER}' \"$PATH\""
    try:
        proc = subprocess.Popen(
            [shell, "-l", "-i", "-c", script],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True,  # no controlling terminal to grab; lets us kill the whole group
            env={**os.environ, "MESHDESK_LOGIN_SHELL_PROBE": "1"},
        )
    except OSError as exc:
        log.info("login shell %s could not be started: %s", shell, exc.strerror)
        return None
    # read until the PATH has been printed, the output ends or the time is up; not until every process
    # holding the output has ended (a profile's "sleep 60 &" or setsid'd helper keeps it open)
    out = _read_answer(proc, timeout)
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.stdout is not None
    proc.stdout.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1)
    text = out.decode("utf-8", "replace")
    start = text.find(MARKER)
    end = text.find(MARKER, start + len(MARKER)) if start >= 0 else -1
    if start < 0 or end < 0:
        if proc.returncode is None:
            log.info("login shell %s did not answer within %.0f s; PATH unchanged", shell, timeout)
        else:
            log.info("login shell %s printed no PATH (exit %s); PATH unchanged", shell, proc.returncode)
        return None
    value = text[start + len(MARKER):end].strip()
    if not value or "\n" in value or "\0" in value:
        return None
    return value


def _read_answer(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """What the shell printed until both markers are in, its output ended, or ``timeout`` passed."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    out = b""
    marker = MARKER.encode()
    while out.count(marker) < 2:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    return out


def login_shell_path(shell: str | None = None, *, timeout: float = DEFAULT_TIMEOUT,
                     refresh: bool = False) -> str | None:
    """The PATH of the user's login shell (``$SHELL -l -i``), or None when it fails or times out.

    The shell runs once per shell path and process (``refresh`` asks again); stdin is closed."""
    if os.name == "nt":
        return None
    shell = shell or user_shell()
    if not shell:
        return None
    with _lock:
        if refresh or shell not in _cache:
            _cache[shell] = _run_shell(shell, timeout)
        return _cache[shell]


def merge_paths(current: str, login: str) -> str:
    """The login shell's entries first (their order is what the user's terminal uses), then every entry
    of ``current`` not already there; empty entries and duplicates dropped."""
    out: list[str] = []
    seen: set[str] = set()
    for entry in login.split(os.pathsep) + current.split(os.pathsep):
        if entry and entry not in seen:
            seen.add(entry)
            out.append(entry)
    return os.pathsep.join(out)


def adopt_login_shell_path(shell: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Merge the login shell's PATH into ``os.environ["PATH"]``. Returns True when PATH changed; a failing
    or silent shell leaves PATH as it was."""
    login = login_shell_path(shell, timeout=timeout)
    if not login:
        return False
    current = os.environ.get("PATH", "")
    merged = merge_paths(current, login)
    if merged == current:
        return False
    os.environ["PATH"] = merged
    added = [e for e in merged.split(os.pathsep) if e not in current.split(os.pathsep)]
    if added:
        log.info("added %d folder(s) from the login shell to PATH: %s", len(added), os.pathsep.join(added))
    return True
