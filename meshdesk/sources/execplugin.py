"""Kubeconfig exec credential plugins (aws eks get-token, gke-gcloud-auth-plugin, kubelogin) run the way
kubectl (client-go) runs them, in place of the official Python loader's runner.

* The user's ``exec`` entry is checked before anything runs: a wrong shape (``exec: aws``, an ``args``
  entry that is a number, an ``env`` entry without a name) is refused with the field named.
* ``interactiveMode``: ``Never`` never gives the plugin the terminal; ``IfAvailable`` (the default of a
  ``v1beta1`` plugin; a ``v1`` one must name its mode, as kubectl requires) gives it standard input only
  when that is a terminal; ``Always`` is refused at once when there is none (an
  app started from a desktop launcher), instead of waiting for a login nobody can type.
* Its standard error is always read: when it fails, its last lines (redacted) are in the error; when it
  has the terminal, they are also passed on to it, so its prompts are seen.
* ``provideClusterInfo`` gives it the cluster in ``KUBERNETES_EXEC_INFO`` with the CA as
  ``certificate-authority-data`` (base64), as client-go does, never a file path.
* Its credential (a token, or a client certificate and key) is run for again before its
  ``expirationTimestamp``, and after the API server answered 401 to it (then the request is sent once more).
"""

from __future__ import annotations

import base64
import collections
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from meshdesk.sources.base import ConfigError, CredentialPluginError
from meshdesk.sources.errors import redact

log = logging.getLogger(__name__)

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
EXEC_EXTENSION = "client.authentication.k8s.io/exec"  # a cluster extension handed to the plugin as spec.cluster.config
RENEW_BEFORE_S = 300.0  # a credential is run for again this long before it expires (the official client's margin)
TAIL_LINES = 3  # the last lines of a failed plugin's standard error put in the error
TAIL_CHARS = 240


class PluginRunError(Exception):
    """One run of the plugin failed; its text is in the words ``KubeConfig._exec_failure`` reads."""


@dataclass(frozen=True)
class ExecCredential:
    """What one run gave: a token, or a client certificate and key (PEM), and when it expires."""

    # (out of its repr, where a debug line, a bug report or a test's failure would show them)
    token: str = field(default="", repr=False)
    cert: bytes = field(default=b"", repr=False)
    key: bytes = field(default=b"", repr=False)
    expires: float | None = None  # unix seconds; None: until the API server refuses it


def _what(value: Any) -> str:
    """The kind of a YAML value, in words (never the value: it may be a secret)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return "text"


def check_exec_config(exec_cfg: Any) -> str:
    """What is wrong with a kubeconfig user's ``exec`` entry ("" when nothing), naming the field."""
    if not isinstance(exec_cfg, dict):
        return (f"its exec field is {_what(exec_cfg)}, not a mapping: exec must hold at least command and "
                f"apiVersion (e.g. apiVersion: {API_VERSIONS[0]})")
    command = exec_cfg.get("command")
    if not isinstance(command, str) or not command:
        return "exec.command is missing" if command in (None, "") else f"exec.command is {_what(command)}, not text"
    api_version = exec_cfg.get("apiVersion")
    if api_version not in API_VERSIONS:
        said = "is missing" if api_version in (None, "") else (
            f"is {api_version}" if isinstance(api_version, str) else f"is {_what(api_version)}")
        return f"exec.apiVersion {said}; kubectl runs plugins of {' or '.join(API_VERSIONS)}"
    args = exec_cfg.get("args")
    if args is not None:
        if not isinstance(args, list):
            return f"exec.args is {_what(args)}, not a list of text"
        for i, arg in enumerate(args):
            if not isinstance(arg, str):
                return f"exec.args entry {i + 1} is {_what(arg)}, not text (quote it)"
    env = exec_cfg.get("env")
    if env is not None:
        if not isinstance(env, list):
            return f"exec.env is {_what(env)}, not a list of name and value pairs"
        for i, item in enumerate(env):
            if not isinstance(item, dict):
                return f"exec.env entry {i + 1} is {_what(item)}, not a mapping with name and value"
            for key in ("name", "value"):
                if not isinstance(item.get(key), str) or (key == "name" and not item.get(key)):
                    got = "missing" if item.get(key) is None else _what(item.get(key))
                    return f"exec.env entry {i + 1}: its {key} is {got}, not text (quote it)"
    mode = exec_cfg.get("interactiveMode")
    if mode in (None, "") and api_version == API_VERSIONS[0]:
        # kubectl refuses such a user: only v1beta1 takes IfAvailable when the mode is left out
        return (f"exec.interactiveMode is missing, and a plugin of {API_VERSIONS[0]} must say it: add "
                "interactiveMode: IfAvailable (the plugin may ask on a terminal when there is one), or "
                "Never (it never asks)")
    if mode is not None and mode not in INTERACTIVE_MODES:
        return f"exec.interactiveMode must be {', '.join(INTERACTIVE_MODES[:-1])} or {INTERACTIVE_MODES[-1]}"
    provide = exec_cfg.get("provideClusterInfo")
    if provide is not None and not isinstance(provide, bool):
        return f"exec.provideClusterInfo is {_what(provide)}, not true or false"
    return ""


def stdin_is_terminal() -> bool:
    """Whether the app's standard input is a terminal (none at all from a desktop launcher)."""
    stream = sys.stdin
    if stream is None:
        return False
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):  # replaced by an object without a descriptor, or closed
        return False


def _read_file(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def cluster_info(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """The cluster as a plugin is given it (``spec.cluster`` of ``KUBERNETES_EXEC_INFO``), in client-go's
    field names: the CA always as base64 data."""
    info: dict[str, Any] = {"server": str(cluster.get("server") or "")}
    for key in ("tls-server-name", "proxy-url"):
        if isinstance(cluster.get(key), str) and cluster[key]:
            info[key] = cluster[key]
    for key in ("insecure-skip-tls-verify", "disable-compression"):
        if cluster.get(key) is True:
            info[key] = True
    data = cluster.get("certificate-authority-data")
    if isinstance(data, str) and data:
        info["certificate-authority-data"] = "".join(data.split())
    elif isinstance(cluster.get("certificate-authority"), str) and cluster["certificate-authority"]:
        try:
            info["certificate-authority-data"] = base64.b64encode(_read_file(cluster["certificate-authority"])).decode()
        except OSError:
            pass  # the client says what is wrong with it
    for item in cluster.get("extensions") or []:
        if isinstance(item, dict) and item.get("name") == EXEC_EXTENSION and "extension" in item:
            info["config"] = item["extension"]
            break
    return info


def _expiry(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise PluginRunError("exec: its expirationTimestamp is not an RFC 3339 time") from None


def _tail(lines: collections.deque[str]) -> str:
    """The last lines a plugin wrote on standard error, on one line, redacted."""
    kept = [line.strip() for line in lines if line.strip()][-TAIL_LINES:]
    text = redact(" / ".join(kept))
    return text if len(text) <= TAIL_CHARS else "…" + text[-TAIL_CHARS:]


class ExecPlugin:
    """One user's exec credential plugin (its entry already checked by ``check_exec_config``)."""

    def __init__(self, context: str, exec_cfg: Mapping[str, Any], cluster: Mapping[str, Any]) -> None:
        self.context = context
        self.config = exec_cfg
        self.command = str(exec_cfg["command"])
        self.api_version = str(exec_cfg["apiVersion"])
        self.args = [str(a) for a in exec_cfg.get("args") or []]
        self.env = {str(e["name"]): str(e["value"]) for e in exec_cfg.get("env") or []}
        self.mode = str(exec_cfg.get("interactiveMode") or "IfAvailable")
        self.cluster = cluster_info(cluster) if exec_cfg.get("provideClusterInfo") is True else None

    @property
    def name(self) -> str:
        return os.path.basename(self.command) or self.command

    def run(self) -> ExecCredential:
        """Run the plugin once. Raises CredentialPluginError when it needs a terminal there is none of,
        PluginRunError (or OSError) when it fails or gives no credential."""
        terminal = stdin_is_terminal()
        if self.mode == "Always" and not terminal:
            raise CredentialPluginError(
                f'context "{self.context}": the credential plugin \'{self.name}\' must be given a terminal '
                "(interactiveMode: Always) and meshdesk was not started from one",
                hint="log in with kubectl in a terminal first, or start meshdesk from a terminal")
        interactive = terminal and self.mode != "Never"
        spec: dict[str, Any] = {"interactive": interactive}
        if self.cluster is not None:
            spec["cluster"] = self.cluster
        env = dict(os.environ)
        env.update(self.env)
        env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": self.api_version, "kind": "ExecCredential",
                                                  "spec": spec})
        stdin: Any = sys.stdin.fileno() if interactive and sys.stdin is not None else subprocess.DEVNULL
        proc = subprocess.Popen([self.command, *self.args], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
        lines: collections.deque[str] = collections.deque(maxlen=50)

        def read_stderr() -> None:
            assert proc.stderr is not None
            for raw in iter(proc.stderr.readline, b""):
                line = raw.decode("utf-8", "replace")
                lines.append(line)
                if interactive:  # its prompts ("open this URL", "enter the code") are for the user to see
                    try:
                        sys.stderr.write(line)
                        sys.stderr.flush()
                    except (OSError, ValueError, AttributeError):
                        pass

        reader = threading.Thread(target=read_stderr, name="meshdesk-plugin-stderr", daemon=True)
        reader.start()
        assert proc.stdout is not None
        out = proc.stdout.read()
        code = proc.wait()
        reader.join()
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
        if code != 0:
            tail = _tail(lines)
            raise PluginRunError(f"exec: process returned {code}" + (f". {tail}" if tail else ""))
        return self._credential(out)

    def _credential(self, out: bytes) -> ExecCredential:
        try:
            data = json.loads(out)
        except ValueError:
            raise PluginRunError("exec: failed to decode process output: not JSON") from None
        if not isinstance(data, dict):
            raise PluginRunError("exec: failed to decode process output: not JSON")
        for key in ("apiVersion", "kind", "status"):
            if key not in data:
                raise PluginRunError(f"exec: malformed response. missing key '{key}'")
        if data["apiVersion"] != self.api_version:
            raise PluginRunError(f"exec: its output's apiVersion is not {self.api_version}, the one the "
                                 "kubeconfig asks for")
        status = data["status"] if isinstance(data["status"], dict) else {}
        expires = _expiry(status.get("expirationTimestamp"))
        token = status.get("token")
        if isinstance(token, str) and token:
            return ExecCredential(token=token, expires=expires)
        cert_data, key_data = status.get("clientCertificateData"), status.get("clientKeyData")
        if isinstance(cert_data, str) and cert_data and isinstance(key_data, str) and key_data:
            return ExecCredential(cert=cert_data.encode(), key=key_data.encode(), expires=expires)
        raise PluginRunError("")  # neither: said as "gave no token or client certificate"


class ExecCredentials:
    """A client's live exec credential: run for again before it expires and after a 401, and put in the
    client's Configuration (a token) or connection pool (a client certificate). One run at a time is the
    caller's care (``KubeConfig._guarded_refresh``)."""

    def __init__(self, plugin: ExecPlugin, first: ExecCredential, *,
                 on_failure: Any = None) -> None:
        self.plugin = plugin
        self.current = first
        self.generation = 1  # counts the runs: a request sent with an older one needs no new run on a 401
        self.client: Any = None  # the ApiClient whose connection pool holds a client certificate
        self.on_failure = on_failure  # (text) -> SourceError: a failed run in the app's words
        # runs credential work one at a time, within the credential deadline (set by the KubeConfig)
        self.serialise: Callable[[Callable[[], Any]], Any] = lambda work: work()
        self._folder: str | None = None

    def guarded_refresh(self, configuration: Any) -> None:
        """The client's ``refresh_api_key_hook``: asked before each request."""
        self.serialise(lambda: self.refresh(configuration))

    def reauthenticate(self, configuration: Any, generation: int) -> bool:
        """After a 401 to a request sent with credential ``generation``: whether to send it once more."""
        return bool(self.serialise(lambda: self.after_unauthorized(configuration, generation)))

    def due(self) -> bool:
        expires = self.current.expires
        return expires is not None and time.time() >= expires - RENEW_BEFORE_S

    def refresh(self, configuration: Any) -> None:
        """Before a request: run the plugin again when the credential is about to expire."""
        if self.due():
            self._run_again(configuration)

    def after_unauthorized(self, configuration: Any, generation: int) -> bool:
        """A request sent with credential ``generation`` was answered 401: run the plugin again (once: a
        request sent with an older credential finds the new one). Whether the request may be sent again."""
        if generation != self.generation:
            return True
        return self._run_again(configuration)

    def _run_again(self, configuration: Any) -> bool:
        try:
            self.current = self.plugin.run()
        except ConfigError as exc:
            log.error("%s", exc)
            return False
        except (PluginRunError, OSError) as exc:
            err = self.on_failure(str(exc)) if self.on_failure is not None else exc
            # nobody waits for a refresh's answer: said in the log, and the credential had is used on
            log.error("running the credential plugin again failed: %s", redact(str(err)))
            return False
        self.generation += 1
        self.apply(configuration)
        return True

    def apply(self, configuration: Any) -> None:
        """Put the current credential where the client takes it from."""
        if self.current.token:
            configuration.api_key["BearerToken"] = f"Bearer {self.current.token}"
            return
        from kubernetes.client import rest

        if self._folder is None:
            self._folder = tempfile.mkdtemp(prefix="meshdesk-exec-")
            import atexit
            import shutil

            atexit.register(shutil.rmtree, self._folder, True)
        cert = Path(self._folder) / f"client-{self.generation}.crt"
        key = Path(self._folder) / f"client-{self.generation}.key"
        for path, data in ((cert, self.current.cert), (key, self.current.key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        configuration.cert_file, configuration.key_file = str(cert), str(key)
        if self.client is not None:  # the pool was made with the old certificate: a new one for the new
            self.client.rest_client = rest.RESTClientObject(configuration)
