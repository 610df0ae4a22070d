"""Kubeconfig files read the way kubectl reads them, and API clients built by the official loader.

* ``KUBECONFIG`` is a list of files (``os.pathsep``-separated); empty entries are ignored and missing
  files are skipped. Without it, ``~/.kube/config``. An explicit path (``--kubeconfig``) replaces both and
  must exist.
* Merging follows kubectl: for clusters, users and contexts (by name) the FIRST file that defines a
  name wins; ``current-context`` comes from the first file that sets it. Relative file references
  (``certificate-authority``, ``client-certificate``, ``client-key``, ``tokenFile`` and an exec
  ``command`` containing a path separator) are resolved against the file that holds them.
* Clients are built by ``kubernetes.config.new_client_from_config_dict`` from a private, merged copy,
  so token, client certificate (file or -data), OIDC and exec-credential users all work, switching
  context is just another call, and nothing is ever written back to a kubeconfig file. A ``tokenFile``
  is read again when it changes (at the latest each minute), as kubectl does. Exec credential plugins
  are run by ``sources.execplugin`` (as kubectl runs them), not by the loader, which is handed the
  credential they give.
* A broken file or entry does not hide the good ones: it is recorded in ``KubeConfig.problems`` and only
  using the broken part raises ``ConfigError``. Messages name files and contexts, never secrets.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from meshdesk.fileio import (
    FileIdentity,
    NotRegularFileError,
    identity_of,
    read_piped_file,
    read_regular_file_as_found,
    what_is_there,
)
from meshdesk.sources.base import ConfigError, CredentialPluginError, CredentialTimeout, SourceError, Timeout
from meshdesk.sources.errors import PLUGIN_OUTPUT_HINT, exec_plugin_error, redact, translate
from meshdesk.sources.execplugin import (
    ExecCredential,
    ExecCredentials,
    ExecPlugin,
    PluginRunError,
    check_exec_config,
)

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

log = logging.getLogger(__name__)

DEFAULT_KUBECONFIG = Path("~/.kube/config")
CREDENTIAL_TIMEOUT = 120.0  # seconds a credential plugin or OIDC refresh may take when building a client
_T = TypeVar("_T")

_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))


class _RedactKubernetesLogs(logging.Filter):
    """The official loader logs failures (an OIDC refresh's, with what the server said) on the root
    logger; redact those records so that no token reaches our logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if f"{os.sep}kubernetes{os.sep}" in (record.pathname or ""):
            record.msg = redact(record.getMessage())
            record.args = None
        return True


_LOG_FILTER = _RedactKubernetesLogs()


def _install_log_filter() -> None:
    root = logging.getLogger()
    if _LOG_FILTER not in root.filters:
        root.addFilter(_LOG_FILTER)


@dataclass(frozen=True)
class ContextInfo:
    """One kubeconfig context, as ``kubectl config get-contexts`` shows it."""

    name: str
    cluster: str
    user: str
    namespace: str = ""
    source: str = ""  # the file that defines it


@dataclass
class _Entry:
    name: str
    # a private copy with file references made absolute; a user's holds its token, password or key, so it
    # is left out of the repr
    body: dict[str, Any] = field(repr=False)
    source: Path


def _as_path_list(value: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        # one file, as kubectl's --kubeconfig takes it, when a file has that name ("a:b.yaml");
        # else a list written as KUBECONFIG writes one
        one = os.pathsep not in text or Path(text).expanduser().exists()
        parts = [text] if one else text.split(os.pathsep)
    else:
        parts = [os.fspath(p) for p in value]
    return [Path(p).expanduser() for p in parts if p]


def kubeconfig_paths(paths: str | Sequence[str] | None = None) -> tuple[list[Path], bool]:
    """The files to read and whether they were given explicitly (then each must exist)."""
    if paths is not None and (not isinstance(paths, str) or paths):
        return _as_path_list(paths), True
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p], False
    return [DEFAULT_KUBECONFIG.expanduser()], False


def _resolve(base: Path, value: Any) -> Any:
    """A relative file reference joined to the folder of the kubeconfig that holds it (as client-go does:
    no symlink resolution, no ``~`` expansion)."""
    if isinstance(value, str) and value and not os.path.isabs(value):
        return os.path.normpath(os.path.join(base, value))
    return value


def _resolve_references(section: str, body: dict[str, Any], base: Path) -> None:
    """Make the file references in one cluster or user entry absolute, like client-go does."""
    if section == "clusters":
        if body.get("certificate-authority"):
            body["certificate-authority"] = _resolve(base, body["certificate-authority"])
    elif section == "users":
        for key in ("client-certificate", "client-key", "tokenFile"):
            if body.get(key):
                body[key] = _resolve(base, body[key])
        exec_cfg = body.get("exec")
        if isinstance(exec_cfg, dict):
            command = exec_cfg.get("command")
            # A bare command name is looked up on PATH; only one with a path separator is a file.
            if isinstance(command, str) and os.sep in command:
                exec_cfg["command"] = _resolve(base, command)


# A quoted part of PyYAML's problem text ('!Hunter2pass', 'q', "it's"): it may be the file's own text
_YAML_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')
# ... except the names of YAML's own tokens ('<block end>'), single punctuation marks (',' or ']') and a tab
_YAML_OWN_WORDS = re.compile(r"""^['"](?:<[a-z ]+>|[^\w\s]|\\t)['"]$""")
_YAML_TAG = "tag:yaml.org,2002:"
_VALUE_KINDS = {"int": "an integer", "float": "a number", "bool": "true or false", "binary": "base64 data",
                "timestamp": "a date", "null": "null", "set": "a set", "omap": "an ordered map",
                "pairs": "a list of pairs", "map": "a mapping", "seq": "a list", "str": "text"}
_QUOTE_HINT = "quote the value, without a !! tag, to keep it as text"


class _KubeconfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose value conversions fail as YAML errors with a place in the file. Left to
    itself it raises ValueError (an unquoted ``password: 2024-02-30`` is an invalid date) or TypeError
    and AttributeError, with no place and often quoting the value."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - every conversion failure; its own text may quote the value
            raise yaml.constructor.ConstructorError(None, None, _unreadable_value(node.tag),
                                                    node.start_mark) from None


def _unreadable_value(tag: str) -> str:
    if tag == _YAML_TAG + "timestamp":
        return "a value read as a date is not a valid date"
    kind = _VALUE_KINDS.get(tag.removeprefix(_YAML_TAG)) if tag.startswith(_YAML_TAG) else None
    return f"a value cannot be read as {kind}" if kind else "a value cannot be read"


def _problem_words(problem: str) -> str:
    """PyYAML's problem without the file's text it quotes (a tag, an alias or anchor name, an escape)."""
    words = _YAML_QUOTED.sub(lambda m: m.group(0) if _YAML_OWN_WORDS.match(m.group(0)) else "", problem)
    return " ".join(words.replace(" ,", ",").split()).rstrip(" ,:") or "cannot be parsed"


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> ConfigError:
    """Where the YAML is broken and what kind of problem it is, without quoting the file's text (it may
    hold a token or a password)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow (a control character)
        problem = "a character YAML does not allow"
        where = f" at position {exc.position + 1}"
    else:
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    text = _problem_words(problem) if isinstance(problem, str) else "cannot be parsed"
    hint = _QUOTE_HINT if text.startswith("a value ") else ""
    return ConfigError(redact(f"kubeconfig {path} is not valid YAML{where}: {text}"), hint=hint)


def read_kubeconfig_file(path: Path) -> dict[str, Any]:
    """One kubeconfig file as a mapping (an empty file is an empty config, as for kubectl).

    Raises ConfigError naming the file when it cannot be read or is not a YAML mapping."""
    try:
        # a pipe (`--kubeconfig <(sops -d …)`) or /dev/null is read too, never waiting for good
        raw = read_piped_file(path)
    except NotRegularFileError as exc:
        raise ConfigError(f"kubeconfig {path} is {exc.strerror}") from None
    except FileNotFoundError as exc:
        raise ConfigError(f"kubeconfig {path} does not exist") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"kubeconfig {path} is a directory, not a file") from exc
    except PermissionError as exc:
        raise ConfigError(f"kubeconfig {path} cannot be read: permission denied",
                          hint="check the file's owner and permissions") from exc
    except OSError as exc:
        raise ConfigError(f"kubeconfig {path} cannot be read: {exc.strerror or 'input/output error'}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"kubeconfig {path} is not text (not UTF-8)") from exc
    try:
        data = yaml.load(text, Loader=_KubeconfigLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        raise _yaml_problem(path, exc) from None
    except RecursionError:
        raise ConfigError(f"kubeconfig {path} is not valid YAML: it is nested too deeply") from None
    except Exception:  # noqa: BLE001 - the loader's own failure: said without its text (it may quote the file)
        raise ConfigError(f"kubeconfig {path} is not valid YAML: it cannot be parsed") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        names: dict[type, str] = {list: "a list", str: "a single string"}
        kind = names.get(type(data), f"a {type(data).__name__}")
        raise ConfigError(f"kubeconfig {path} is {kind}, not a mapping with clusters, users and contexts")
    return data


@dataclass
class KubeConfig:
    """The merged view of one or more kubeconfig files. Read-only: nothing here writes a file."""

    files: list[Path] = field(default_factory=list)  # files that were read, in precedence order
    searched: list[Path] = field(default_factory=list)  # every file looked for
    problems: list[ConfigError] = field(default_factory=list)  # broken files and entries, skipped
    current_context: str | None = None
    _clusters: dict[str, _Entry] = field(default_factory=dict, repr=False)
    _users: dict[str, _Entry] = field(default_factory=dict, repr=False)
    _contexts: dict[str, _Entry] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- reading

    def _merge_file(self, path: Path, data: Mapping[str, Any]) -> None:
        base = Path(os.path.abspath(path)).parent
        for section, body_key in _SECTIONS:
            items = data.get(section)
            if items is None:
                continue
            if not isinstance(items, list):
                self.problems.append(ConfigError(f"kubeconfig {path}: '{section}' is not a list; ignored"))
                continue
            seen_here: dict[str, _Entry] = {}
            for i, item in enumerate(items):
                name = item.get("name") if isinstance(item, dict) else None
                if not isinstance(name, str) or not name:
                    self.problems.append(ConfigError(
                        f"kubeconfig {path}: entry {i + 1} of '{section}' has no name; ignored"))
                    continue
                body = item.get(body_key)
                if body is None:
                    body = {}
                if not isinstance(body, dict):
                    self.problems.append(ConfigError(
                        f"kubeconfig {path}: {body_key} '{name}' is not a mapping; ignored"))
                    continue
                if name in seen_here:
                    # kubectl refuses such a file ("duplicate name"); meshdesk keeps the first and says so
                    self.problems.append(ConfigError(
                        f"kubeconfig {path}: {body_key} '{name}' is defined twice; the second is ignored"))
                    continue
                body = copy.deepcopy(body)
                _resolve_references(section, body, base)
                seen_here[name] = _Entry(name, body, path)
            target: dict[str, _Entry] = getattr(self, f"_{section}")
            for name, entry in seen_here.items():
                target.setdefault(name, entry)  # across files the first one wins
        current = data.get("current-context")
        if self.current_context is None and isinstance(current, str) and current:
            self.current_context = current

    # ---------------------------------------------------------------- what kubectl shows

    @property
    def contexts(self) -> list[ContextInfo]:
        """All contexts sorted by name (as ``kubectl config get-contexts`` lists them)."""
        return [self._info(self._contexts[n]) for n in sorted(self._contexts)]

    @property
    def context_names(self) -> list[str]:
        return sorted(self._contexts)

    @staticmethod
    def _info(entry: _Entry) -> ContextInfo:
        b = entry.body

        def text(key: str) -> str:
            v = b.get(key)
            return v if isinstance(v, str) else ""

        return ContextInfo(entry.name, text("cluster"), text("user"), text("namespace"), str(entry.source))

    def _where(self) -> str:
        shown = self.files or self.searched
        return ", ".join(str(p) for p in shown) if shown else "no kubeconfig file"

    def context(self, name: str | None = None) -> ContextInfo:
        """The named context (default: the current one). Raises ConfigError when there is none."""
        return self._info(self._context_entry(name))

    def _context_entry(self, name: str | None) -> _Entry:
        if name is None:
            name = self.current_context
            if not name:
                if not self.files:
                    raise ConfigError(f"no kubeconfig found (looked at {self._where()})",
                                      hint="set KUBECONFIG or pass --kubeconfig")
                raise ConfigError(f"no current context is set in {self._where()}",
                                  hint="pick one with --context, or run `kubectl config use-context NAME`")
        entry = self._contexts.get(name)
        if entry is None:
            if not self.files:  # not "does not exist in ~/.kube/config", a file that is not there either
                raise ConfigError(f'context "{name}" does not exist: no kubeconfig found (looked at '
                                  f"{self._where()})", hint="set KUBECONFIG or pass --kubeconfig")
            raise ConfigError(f'context "{name}" does not exist in {self._where()}')
        return entry

    def cluster_name(self, context: str | None = None) -> str:
        return self.context(context).cluster

    def namespace(self, context: str | None = None) -> str:
        """The context's default namespace ("default" when it sets none, like kubectl)."""
        return self.context(context).namespace or "default"

    def _cluster_entry(self, ctx: ContextInfo) -> _Entry:
        if not ctx.cluster:
            raise ConfigError(f'context "{ctx.name}" in {ctx.source} names no cluster')
        entry = self._clusters.get(ctx.cluster)
        if entry is None:
            raise ConfigError(f'context "{ctx.name}" names cluster "{ctx.cluster}", '
                              f"which is not defined in {self._where()}")
        return entry

    def _user_entry(self, ctx: ContextInfo) -> _Entry | None:
        if not ctx.user:
            return None  # anonymous, allowed
        entry = self._users.get(ctx.user)
        if entry is None:
            raise ConfigError(f'context "{ctx.name}" names user "{ctx.user}", '
                              f"which is not defined in {self._where()}")
        return entry

    def server(self, context: str | None = None) -> str:
        """The API server URL of the context's cluster."""
        ctx = self.context(context)
        cluster = self._cluster_entry(ctx)
        server = cluster.body.get("server")
        if not isinstance(server, str) or not server:
            raise ConfigError(f'cluster "{ctx.cluster}" in {cluster.source} has no server address')
        from urllib.parse import urlsplit

        from meshdesk.sources.httpapi import safe_url

        try:
            urlsplit(server.strip())  # brackets that hold no IPv6 address, or are not closed, raise here
        except ValueError:
            # (said as 'context "lab": Invalid IPv6 URL', exit code 1 as if the cluster had been tried)
            raise ConfigError(f'cluster "{ctx.cluster}" in {cluster.source} has a server address whose host '
                              f"cannot be read: {safe_url(server)!r}",
                              hint="write it as https://HOST:PORT, an IPv6 address in brackets "
                                   "(https://[2001:db8::1]:6443)") from None
        return server

    def config_dict(self, context: str | None = None) -> dict[str, Any]:
        """A self-contained kubeconfig mapping for one context (a private copy: changing it changes no
        file and no other client). Raises ConfigError when the context is missing or incomplete."""
        ctx = self.context(context)
        cluster = self._cluster_entry(ctx)
        self.server(ctx.name)
        user = self._user_entry(ctx)
        ctx_body = copy.deepcopy(self._contexts[ctx.name].body)
        if user is None:
            ctx_body.pop("user", None)
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": ctx.name,
            "contexts": [{"name": ctx.name, "context": ctx_body}],
            "clusters": [{"name": cluster.name, "cluster": copy.deepcopy(cluster.body)}],
            "users": [{"name": user.name, "user": copy.deepcopy(user.body)}] if user else [],
        }

    # ---------------------------------------------------------------- clients

    def api_client(self, context: str | None = None, *,
                   credential_timeout: float | None = CREDENTIAL_TIMEOUT) -> ApiClient:
        """A ``kubernetes.client.ApiClient`` for ``context`` (default: the current context).

        Built by the official loader from a private copy of the merged config: no global default is
        set, no file is written (refreshed OIDC/exec credentials stay in memory). Raises ConfigError for
        a missing/incomplete context or a failing credential plugin, Timeout when a credential plugin or
        an OIDC refresh takes longer than ``credential_timeout`` seconds (e.g. a plugin waiting for a
        browser login), or another SourceError (e.g. Unreachable) when an OIDC issuer cannot be reached."""
        from kubernetes.client import Configuration
        from kubernetes.config import new_client_from_config_dict

        from meshdesk import __version__

        _install_log_filter()
        cfg_dict = self.config_dict(context)
        name = cfg_dict["current-context"]
        user: dict[str, Any] = cfg_dict["users"][0]["user"] if cfg_dict["users"] else {}
        cluster: dict[str, Any] = cfg_dict["clusters"][0]["cluster"]
        problem = _proxy_url_problem(cluster.get("proxy-url"))
        if problem:  # the client failed on it, said as the server not answering ("talking to the server
            # failed: Proxy URL had no scheme"), and the window retried it for ever
            raise ConfigError(f'context "{name}": its cluster "{cfg_dict["clusters"][0]["name"]}" has a proxy-url '
                              f"that {problem}", hint="write it as http://HOST:PORT, https://HOST:PORT or "
                                                      "socks5://HOST:PORT, as kubectl takes it; a login goes "
                                                      "before the host, USER:PASSWORD@HOST")
        proxy = _socks_proxy(name, cluster.get("proxy-url"))
        if proxy:
            cluster["proxy-url"] = proxy
        token_file = user.get("tokenFile")
        watched: _TokenFile | None = None
        if isinstance(token_file, str) and token_file:
            # read here, trimmed as kubectl trims it (the official loader sends the file's trailing
            # newline in the Authorization header, which no request survives); as in kubectl, the
            # file wins over a token written beside it (it is the one kept fresh)
            try:
                data, identity = read_regular_file_as_found(token_file)
                user["token"] = data.decode("utf-8").strip()
                del user["tokenFile"]
                watched = _TokenFile(token_file, user["token"], identity)
            except NotRegularFileError as e:  # a pipe would block the loader for good
                raise ConfigError(f'context "{name}": its token file {token_file} is {e.strerror}') from None
            except UnicodeDecodeError:  # the loader's words were Python's: "'utf-8' codec can't decode byte 0xb2..."
                raise ConfigError(f'context "{name}": its token file {token_file} is not text (a token is '
                                  "UTF-8 text)") from None
            except OSError:
                pass  # the loader says what is wrong with it
        user_name = str(cfg_dict["users"][0]["name"]) if cfg_dict["users"] else ""
        original_user = copy.deepcopy(user)  # as the kubeconfig says it, for the messages below
        plugin: ExecPlugin | None = None
        credential: ExecCredential | None = None
        exec_cfg: dict[str, Any] = {}
        if user.get("exec") is not None:
            problem = check_exec_config(user["exec"])
            if problem:  # kubectl refuses such a user; the official loader took it for no credentials
                raise ConfigError(f'context "{name}": user "{user_name}": {problem}',
                                  hint="see the exec section of the kubeconfig documentation, or write the user "
                                       "again with the command that made it (e.g. aws eks update-kubeconfig)")
            exec_cfg = user.pop("exec")
            # the official loader's order: an auth-provider, then a token, then the plugin
            if not isinstance(user.get("auth-provider"), dict) and not user.get("token"):
                plugin = ExecPlugin(name, exec_cfg, cluster)
                credential = self._first_run(plugin, name, exec_cfg, original_user, credential_timeout)
                if credential.token:
                    user["token"] = credential.token
                else:  # the plugin's certificate replaces one the user names, as in client-go
                    for key in ("client-certificate", "client-key"):
                        user.pop(key, None)
                    user["client-certificate-data"] = base64.b64encode(credential.cert).decode()
                    user["client-key-data"] = base64.b64encode(credential.key).decode()
        runs_something = isinstance(user.get("auth-provider"), dict)
        configuration = Configuration()
        if cluster.get("proxy-url"):
            # the cluster's own proxy is used for every address, as kubectl uses it: NO_PROXY is for the
            # environment's proxy (the client took it from there, and a cluster whose name or network it
            # lists, a private one behind a bastion, was asked directly)
            configuration.no_proxy = None

        def build() -> ApiClient:
            made: ApiClient = new_client_from_config_dict(config_dict=cfg_dict, context=name,
                                                          persist_config=False, client_configuration=configuration)
            return made

        try:
            if runs_something and credential_timeout is not None:
                client = _with_deadline(build, credential_timeout,
                                        lambda: self._credential_timeout(name, original_user, credential_timeout))
            else:
                client = build()
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - every loader failure becomes a typed, secret-free error
            raise self._loader_error(name, exc, original_user) from None
        proxy_login = _http_proxy_login(getattr(configuration, "proxy", None))
        if proxy_login and not getattr(configuration, "proxy_headers", None):
            # an HTTP proxy's user and password in its URL (the cluster's proxy-url, or HTTPS_PROXY when it
            # sets none): kubectl sends them; the official client's connection pool sends only the proxy
            # headers it is given, and every call was refused (407)
            from kubernetes.client import rest

            configuration.proxy_headers = {"proxy-authorization": proxy_login}
            client.rest_client = rest.RESTClientObject(configuration)
        if getattr(configuration, "cert_file", None):
            # read here: at the first request OpenSSL's own words came ("[X509: KEY_VALUES_MISMATCH] key values
            # mismatch"), said as the API server being unreachable and retried as if it were
            _check_client_certificate(name, str(configuration.cert_file), configuration.key_file, original_user)
        refresh = getattr(configuration, "refresh_api_key_hook", None)
        if runs_something and refresh is not None:
            configuration.refresh_api_key_hook = self._guarded_refresh(refresh, name, original_user, credential_timeout)  # type: ignore[assignment]
        if plugin is not None and credential is not None:
            # run again before it expires (a token, and a client certificate too: the loader renewed neither
            # the certificate nor a token without an expiry) and after a 401, one run at a time
            live = ExecCredentials(plugin, credential,
                                   on_failure=lambda text: self._exec_failure(name, exec_cfg, text))
            live.client = client
            live.serialise = self._serialised(name, original_user, credential_timeout)
            configuration.refresh_api_key_hook = live.guarded_refresh  # type: ignore[assignment]
            configuration.meshdesk_exec = live  # for RawApi's 401 retry
        elif watched is not None and not runs_something:
            # kubectl reads a token file again while it runs (a rotated token, a projected service
            # account's); the loader read it once, and the app was refused from the old token's expiry on
            configuration.refresh_api_key_hook = watched.refresh  # type: ignore[assignment]
        if getattr(configuration, "verify_ssl", True) is False:
            # the kubeconfig's insecure-skip-tls-verify is the user's choice for this cluster, which kubectl
            # honours in silence: urllib3 warned of it on stderr, with a Python warning's file and line
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        client.user_agent = f"meshdesk/{__version__}"
        return client

    def _guarded_refresh(self, refresh: Callable[[Any], None], name: str, user: Mapping[str, Any],
                         seconds: float | None) -> Callable[[Any], None]:
        """The loader's token refresh (it runs the credential plugin again when the token is about to
        expire, inside a request), one run at a time - parallel requests ran the plugin several times at
        once, one browser login each - and within the same deadline as the first login (it had none: a
        refresh waiting for a login nobody finishes held the request for ever)."""
        serialise = self._serialised(name, user, seconds)

        def guarded(configuration: Any) -> None:
            serialise(lambda: refresh(configuration))

        return guarded

    def _serialised(self, name: str, user: Mapping[str, Any],
                    seconds: float | None) -> Callable[[Callable[[], Any]], Any]:
        """A runner of credential work (a plugin run, a login refresh): one at a time - the others then
        find the refreshed credential - and within ``seconds`` (None: no limit)."""
        lock = threading.Lock()
        running: list[threading.Thread] = []  # the run still waiting after its deadline, if any

        def serialise(work: Callable[[], Any]) -> Any:
            with lock:
                if seconds is None:
                    return work()
                if running and running[-1].is_alive():  # the last login is still waiting: not another
                    raise self._credential_timeout(name, user, seconds)
                results: list[Any] = []
                errors: list[BaseException] = []

                def run() -> None:
                    try:
                        results.append(work())
                    except BaseException as exc:  # noqa: BLE001 - handed to the request below
                        errors.append(exc)

                worker = threading.Thread(target=run, name="meshdesk-credentials", daemon=True)
                running[:] = [worker]
                worker.start()
                worker.join(seconds)
                if worker.is_alive():
                    raise self._credential_timeout(name, user, seconds)
                if errors:
                    raise errors[0]
                return results[0] if results else None

        return serialise

    def _first_run(self, plugin: ExecPlugin, name: str, exec_cfg: Mapping[str, Any], user: Mapping[str, Any],
                   seconds: float | None) -> ExecCredential:
        """The plugin's first run, within ``seconds``; its failure as a plain, secret-free error."""
        try:
            if seconds is None:
                return plugin.run()
            return _with_deadline(plugin.run, seconds, lambda: self._credential_timeout(name, user, seconds))
        except SourceError:
            raise
        except (PluginRunError, OSError) as exc:
            raise self._exec_failure(name, exec_cfg, str(exc)) from None

    @staticmethod
    def _credential_timeout(context: str, user: Mapping[str, Any], seconds: float) -> Timeout:
        exec_cfg = user.get("exec")
        if isinstance(exec_cfg, dict):
            plugin = os.path.basename(str(exec_cfg.get("command") or "exec plugin"))
            return CredentialTimeout(f'context "{context}": the credential plugin \'{plugin}\' did not finish '
                                     f"within {seconds:g} s", hint="it may be waiting for a login in a browser "
                                     "or terminal; log in with kubectl first, then try again")
        return CredentialTimeout(f'context "{context}": refreshing the login did not finish within {seconds:g} s')

    @staticmethod
    def _exec_failure(context: str, exec_cfg: Mapping[str, Any], failure: str) -> SourceError:
        """What the plugin's one run said (``PluginRunError``'s or ``OSError``'s text), as a plain error."""
        command = str(exec_cfg.get("command") or "exec plugin")
        plugin = os.path.basename(command)
        exc: BaseException
        if failure.startswith("[Errno 2]"):  # the command was not found
            exc = FileNotFoundError(failure)
        elif failure.startswith("[Errno 13]"):
            exc = PermissionError(failure)
        elif not failure or failure.startswith("exec: missing"):
            exc = CredentialPluginError(f"the credential plugin '{plugin}' gave no token or client certificate",
                                        hint=PLUGIN_OUTPUT_HINT)
        else:
            exc = Exception(failure)
        err = exc if isinstance(exc, ConfigError) else exec_plugin_error(command, exc)
        err.message = f'context "{context}": {err.message}'
        install_hint = exec_cfg.get("installHint")
        if isinstance(exc, FileNotFoundError) and isinstance(install_hint, str) and install_hint.strip():
            # the kubeconfig says how to get it, as kubectl shows (one line: it may hold several)
            err.hint = " ".join(install_hint.split())
        return err

    def _loader_error(self, context: str, exc: BaseException, user: Mapping[str, Any]) -> Exception:
        from kubernetes.config.config_exception import ConfigException

        if isinstance(exc, ConfigException):
            text = str(exc)
            if text.startswith("File does not exist:"):
                named = text.removeprefix("File does not exist:").strip()
                # the loader takes whatever is not a regular file for a missing one: a named pipe or a folder
                # given as the certificate was said not to exist
                there = what_is_there(named)
                text = (f"a file it refers to, {named}, is {there}, not a regular file" if there
                        else f"a file it refers to does not exist: {named}")
            return ConfigError(redact(f'context "{context}": {text}'))
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            return ConfigError(f'context "{context}": cannot read {exc.filename}: {exc.strerror}')
        if type(exc).__name__ == "Error" and type(exc).__module__ == "binascii":
            return ConfigError(f'context "{context}": certificate or key data is not valid base64')
        provider = user.get("auth-provider")
        if isinstance(provider, dict) and provider.get("name") in REMOVED_AUTH_PROVIDERS:
            # removed from Kubernetes' clients (1.26): the official loader fails inside on them
            plugin = REMOVED_AUTH_PROVIDERS[provider["name"]]
            return ConfigError(f'context "{context}": its user logs in with the "{provider["name"]}" auth-provider, '
                               "which Kubernetes clients no longer support",
                               hint=f"install {plugin} and change the user to use it (as kubectl needs since 1.26)")
        if isinstance(provider, dict) and provider.get("name"):
            return translate(exc, what=f'context "{context}": refreshing the {provider["name"]} login')
        return translate(exc, what=f'context "{context}"')


class _TokenFile:
    """A user's ``tokenFile``, read again whenever it has changed (another file put in its place, new
    text written into it), at the latest a minute after the last read (as kubectl does), when a
    request asks for its token. A file that cannot be read, or is empty, for a moment (a rotation half
    done) leaves the token last read in use, as kubectl keeps it."""

    REREAD_S = 60.0

    def __init__(self, path: str, token: str, identity: FileIdentity) -> None:
        self.path = path
        self.token = token
        self._identity: FileIdentity | None = identity
        self._read_at = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> str:
        with self._lock:
            identity = identity_of(self.path)
            if identity is None or (identity == self._identity
                                    and time.monotonic() - self._read_at < self.REREAD_S):
                return self.token
            self._identity, self._read_at = identity, time.monotonic()  # said once per version of it
            try:
                data, _ = read_regular_file_as_found(self.path)
                token = data.decode("utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("the token file %s could not be read again (%s); the token read before is sent",
                            self.path, getattr(exc, "strerror", None) or "it is not text")
                return self.token
            if token:
                self.token = token
            return self.token

    def refresh(self, configuration: Any) -> None:
        """A ``refresh_api_key_hook`` (in place of the loader's, which put back the token it read once):
        the file's current token in the configuration."""
        configuration.api_key["BearerToken"] = f"Bearer {self.current()}"


def _socks_proxy(context: str, proxy_url: Any) -> str:
    """A cluster's SOCKS ``proxy-url`` as the clients below must be given it ("" for none or another kind).

    kubectl leaves the server's name to the SOCKS proxy to look up (a name only the bastion's network
    knows works); Python's clients look a ``socks5://`` name up themselves and only a ``socks5h://`` one
    on the proxy. Raises ConfigError when the SOCKS support (PySocks) is not installed: the client failed
    with "No module named 'socks'"."""
    if not isinstance(proxy_url, str):
        return ""
    scheme, sep, rest = proxy_url.partition("://")
    if not sep or scheme.lower() not in ("socks5", "socks5h", "socks4", "socks4a"):
        return ""
    if importlib.util.find_spec("socks") is None:  # PySocks: urllib3 and requests speak SOCKS with it
        from meshdesk.sources.httpapi import safe_url

        raise ConfigError(f'context "{context}": its cluster is reached through the SOCKS proxy '
                          f"{safe_url(proxy_url)} (proxy-url), and the SOCKS support meshdesk needs for it "
                          "(the PySocks package) is not installed",
                          hint="install PySocks (pip install PySocks) where meshdesk is installed") from None
    return f"socks5h://{rest}" if scheme.lower() == "socks5" else proxy_url


_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h", "socks4", "socks4a")


def _proxy_url_problem(proxy_url: Any) -> str:
    """What is wrong with a cluster's ``proxy-url`` ("" when nothing, or when there is none), in words
    that never quote it (it may hold a password)."""
    if proxy_url is None or proxy_url == "":
        return ""
    if not isinstance(proxy_url, str):
        return "is not text"
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(proxy_url.strip())
        port = parts.port
    except ValueError:
        return "has a port that is not a port number (1 to 65535)"
    if "://" not in proxy_url:
        return "has no scheme"
    if parts.scheme.lower() not in _PROXY_SCHEMES:
        return f"uses the scheme {parts.scheme or '(none)'}, which is no proxy's (http, https or socks5)"
    if not parts.hostname:
        return "names no host"
    if port == 0:
        return "has a port that is not a port number (1 to 65535)"
    return ""


def _http_proxy_login(proxy_url: Any) -> str:
    """The ``Proxy-Authorization`` value (Basic) made of the user and password an HTTP(S) ``proxy-url``
    holds ("" when it is another kind or holds none)."""
    if not isinstance(proxy_url, str):
        return ""
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(proxy_url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or parts.username is None:
        return ""
    login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + base64.b64encode(login.encode()).decode()


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)


def _pem_block(data: bytes, label: str) -> bytes:
    """The first PEM block of ``data`` whose label ends with ``label`` (a file may hold the key and the
    certificate together, as OpenSSL reads them); ``data`` itself when there is none (then it fails to load)."""
    for found in _PEM_BLOCK.finditer(data):
        if found.group(1).decode().endswith(label):
            return found.group(0)
    return data


def _check_client_certificate(context: str, cert_file: str, key_file: str | None, user: Mapping[str, Any]) -> None:
    """Raise ConfigError, naming the kubeconfig's fields, when the client certificate or its key cannot
    be used: not PEM, a key encrypted with a passphrase (kubectl refuses it too; OpenSSL would have asked
    for it on the terminal the app was started from), or a key that is not the certificate's."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def named(field: str) -> str:
        if isinstance(user.get(field), str) and user.get(field):
            return f"{field} {user[field]}"
        if user.get(f"{field}-data"):
            return f"{field}-data"
        return f"the {field.replace('client-', '')} its credential plugin gave"

    cert_name, key_name = named("client-certificate"), named("client-key")
    where = f'context "{context}": '
    try:
        cert = x509.load_pem_x509_certificate(_pem_block(read_regular_file_as_found(cert_file)[0], "CERTIFICATE"))
    except (OSError, ValueError):
        raise ConfigError(f"{where}its client certificate ({cert_name}) is not a PEM certificate",
                          hint="check client-certificate or client-certificate-data in your kubeconfig") from None
    try:
        key = serialization.load_pem_private_key(_pem_block(read_regular_file_as_found(key_file or cert_file)[0],
                                                            "PRIVATE KEY"), password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        raise ConfigError(f"{where}its client key ({key_name}) is encrypted with a passphrase, which Kubernetes "
                          "clients cannot use (kubectl cannot either)",
                          hint="write it out without the passphrase (openssl pkey -in KEY -out NEW-KEY) and point "
                               "client-key at the new file") from None
    except (OSError, ValueError):
        raise ConfigError(f"{where}its client key ({key_name}) is not a PEM private key",
                          hint="check client-key or client-key-data in your kubeconfig") from None
    raw = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, raw) != \
            cert.public_key().public_bytes(serialization.Encoding.DER, raw):
        raise ConfigError(f"{where}its client key ({key_name}) does not belong to its client certificate "
                          f"({cert_name})", hint="check client-certificate and client-key in your kubeconfig: "
                                                 "they must be the two halves of one login")


# auth-providers Kubernetes 1.26 removed from its clients, and the exec plugin that replaced each
REMOVED_AUTH_PROVIDERS = {"gcp": "gke-gcloud-auth-plugin", "azure": "kubelogin"}


def _with_deadline(fn: Callable[[], _T], seconds: float, on_timeout: Callable[[], SourceError]) -> _T:
    """``fn()`` in a helper thread; raises ``on_timeout()`` when it has not finished after ``seconds``.

    The official loader runs credential plugins without a time limit; a plugin that waits for a browser
    login must not freeze the caller. A late result is dropped (the plugin is left to finish)."""
    value: list[_T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            value.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            error.append(exc)

    worker = threading.Thread(target=run, name="meshdesk-credentials", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise on_timeout()
    if error:
        raise error[0]
    return value[0]


def _exists(path: Path) -> bool:
    """Like ``Path.exists`` but a file we may not even stat counts as present (reading it then says why)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True


def load_kubeconfig(paths: str | Sequence[str] | None = None, *, log_problems: bool = True) -> KubeConfig:
    """Read and merge kubeconfig files like kubectl.

    ``paths`` None: ``$KUBECONFIG`` (missing files skipped) or ``~/.kube/config``; otherwise the given
    file(s), each of which must exist. Broken files are skipped and recorded in ``problems`` as long as
    another file could be read; when every file that exists is broken, or an explicit file is missing,
    raises ConfigError. Each problem is also logged as a warning, unless ``log_problems`` is False (for
    a caller that shows ``problems`` itself, so that each is said once)."""
    files, explicit = kubeconfig_paths(paths)
    kc = KubeConfig(searched=list(files))
    missing = [p for p in files if not _exists(p)]
    if explicit and missing:
        raise ConfigError(f"kubeconfig {', '.join(str(p) for p in missing)} does not exist")
    failures: list[ConfigError] = []
    for path in files:
        if path in missing or path in kc.files:
            continue
        try:
            data = read_kubeconfig_file(path)
        except ConfigError as err:
            failures.append(err)
            continue
        kc.files.append(path)
        kc._merge_file(path, data)
    kc.problems[:0] = failures
    if failures and not kc.files:
        if len(failures) == 1:
            raise failures[0]
        raise ConfigError("; ".join(e.message for e in failures))
    if log_problems:
        for problem in kc.problems:
            log.warning("%s", problem)
    return kc
