"""The PATH (and the kubeconfig and cloud login settings) a terminal would have, for apps started from
a desktop launcher.

A launcher (GNOME, KDE, macOS Dock) starts meshdesk with a minimal environment, so kubeconfig exec
plugins (``aws``, ``gke-gcloud-auth-plugin``, ``kubelogin``) that the user's shell profile puts on PATH
are not found, and what the profile exports for kubectl is missing: ``KUBECONFIG`` (the files whose
contexts the terminal lists) and the cloud CLIs' settings the plugins read (``AWS_PROFILE``,
``CLOUDSDK_CONFIG`` ...). ``adopt_login_shell_path`` asks the user's login shell once and merges its
PATH in, and takes those variables that meshdesk was started without.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import re
import select
import signal
import subprocess
import threading
import time

log = logging.getLogger(__name__)

MARKER = "__MESHDESK_PATH_7f3a__"
ENV_MARKER = "__MESHDESK_ENV_7f3a__"
DEFAULT_TIMEOUT = 5.0
# what a terminal's kubectl reads from the profile besides PATH: the kubeconfig files, and the settings of
# the cloud CLIs its credential plugins run (which account, profile, region, config folder)
ADOPTED = frozenset({"KUBECONFIG", "GOOGLE_APPLICATION_CREDENTIALS", "USE_GKE_GCLOUD_AUTH_PLUGIN"})
ADOPTED_PREFIXES = ("AWS_", "CLOUDSDK_", "AZURE_", "AAD_", "OCI_CLI_")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_cache: dict[str, str | None] = {}
_env_cache: dict[str, dict[str, str]] = {}
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


def _adopted(name: str) -> bool:
    return name in ADOPTED or name.startswith(ADOPTED_PREFIXES)


def _environment(text: str) -> dict[str, str]:
    """The adopted variables of the listing (``NAME=value`` lines)."""
    out: dict[str, str] = {}
    for line in text.split("\n"):
        name, sep, value = line.partition("=")
        if sep and _NAME.fullmatch(name) and _adopted(name) and "\0" not in value:
            out[name] = value
    return out


def _run_shell(shell: str, timeout: float) -> str | None:
    # printf with the marker on both sides: rc files may print banners before or after.
    # then the exported variables, one a line, those whose value spans lines left out (awk's ENVIRON is
    # POSIX; written without backslashes, which fish's single quotes would change)
    listing = ("awk 'BEGIN { nl = sprintf(\"%c\", 10); for (k in ENVIRON) if (index(ENVIRON[k], nl) == 0) "
               "print k \"=\" ENVIRON[k] }'")
    script = f"printf '{MARKER}%s{MARKER}' \"$PATH\"; printf '{ENV_MARKER}'; {listing}; printf '{ENV_MARKER}'"
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
    env_start = text.find(ENV_MARKER, max(end, 0))
    env_end = text.find(ENV_MARKER, env_start + len(ENV_MARKER)) if env_start >= 0 and end >= 0 else -1
    _env_cache[shell] = _environment(text[env_start + len(ENV_MARKER):env_end]) if env_end >= 0 else {}
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
    marker = ENV_MARKER.encode()
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


def login_shell_environment(shell: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, str]:
    """The variables of :data:`ADOPTED` (and :data:`ADOPTED_PREFIXES`) the login shell exports, asked with
    its PATH (the shell runs once); empty when it fails or times out."""
    shell = shell or user_shell()
    if not shell or os.name == "nt":
        return {}
    login_shell_path(shell, timeout=timeout)
    return dict(_env_cache.get(shell) or {})


def adopt_login_shell_path(shell: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Merge the login shell's PATH into ``os.environ["PATH"]``, and take the kubeconfig and cloud login
    variables it exports (:data:`ADOPTED`) that meshdesk was started without (one set, even empty, is
    kept: the user chose it). Returns True when the environment changed; a failing or silent shell
    leaves it as it was."""
    login = login_shell_path(shell, timeout=timeout)
    exported = login_shell_environment(shell, timeout=timeout)
    taken = sorted(name for name, value in exported.items() if name not in os.environ and value)
    for name in taken:
        os.environ[name] = exported[name]
    if taken:  # names only: a value may be a secret (AWS_SECRET_ACCESS_KEY)
        log.info("took %s from the login shell", ", ".join(taken))
    if not login:
        return bool(taken)
    current = os.environ.get("PATH", "")
    merged = merge_paths(current, login)
    if merged == current:
        return bool(taken)
    os.environ["PATH"] = merged
    added = [e for e in merged.split(os.pathsep) if e not in current.split(os.pathsep)]
    if added:
        log.info("added %d folder(s) from the login shell to PATH: %s", len(added), os.pathsep.join(added))
    return True
