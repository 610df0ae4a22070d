"""The user's settings: one versioned JSON file at :func:`meshdesk.store.paths.settings_file`. No Qt.

Layout (schema 2)::

    {"schema_version": 2,
     "general": {"read_only": false, "theme": "system", "last_context": "kind-mesh", "kubeconfig": null,
                 "window_geometry": "<base64>", "window_state": "<base64>", "ignored_checks": ["KIA1301"],
                 "health_rates": [{"namespace": "shop", "kind": "service", "name": "reviews",
                                   "tolerance": [{"code": "5XX", "degraded": 5, "failure": 20}]}]},
     "contexts": {"kind-mesh": {
         "namespaces": ["bookinfo"],
         "prometheus_url": "http://localhost:9090",
         "prometheus_auth": {"type": "bearer", "token": "...", "headers": {...}, "ca_bundle": "...",
                             "insecure": false},
         "refresh_interval": 15, "duration": 600, "graph_type": "versionedApp",
         "tracing_url": "http://localhost:16686", "tracing_auth": {...as prometheus_auth...}}}}

``tracing_url``/``tracing_auth`` (a tracing backend's address and credentials) and ``tracing_api`` (the API
it is asked through: "jaeger" or "tempo"; absent, chosen automatically) are written only when set, as is
a context's own ``health_rates`` (its cluster's Kiali ``health_config.rate``; absent, the general ones
judge it; ``[]``, Kiali's defaults do), and ``extensions``, the Kiali extensions enabled in that cluster's
Kiali (``["skupper"]``: their ``kiali_ext_*`` traffic is graphed), and ``grafana_url`` (Grafana's address,
for "View in Grafana"; absent, Grafana is found in the cluster and reached by port-forward), and for a
mesh over several clusters ``mesh_contexts``, the other contexts of the same mesh whose workloads and config
are read beside this one's (``[{"context": "prod-west", "cluster": ""}]``; ``cluster``: that cluster's Istio
name as given, "" found in it) and ``cluster_name``, this context's cluster's name as given. The general
``custom_dashboards`` is the user's Kiali runtime dashboard configuration as pasted (YAML text; "" for
meshdesk's built-in dashboards, found as Kiali finds them by default); a context's own
``custom_dashboards`` (its cluster's Kiali's, when it differs) is written only when set.

Schema 1 (the first layout) kept everything flat: ``read_only``, ``theme``, ``last_context``,
``kubeconfig``, ``namespaces: {context: [...]}`` and ``prometheus: {context: {"url", "auth"}}`` (or
just the URL); it is migrated on load and written back as schema 2 on the next save.

Rules: loading never raises for a bad file - a file that is not JSON (or nested too deeply to parse),
not an object, written by a newer meshdesk, or not a regular file at all (a named pipe would block the
read forever) is moved aside (``fileio.move_aside``) and ``warnings`` says so; a folder in its place is
left alone and never overwritten. A single value that cannot be used (the wrong type, a number out of
range - numbers reach Qt's timers and combo boxes, see ``MAX_REFRESH_INTERVAL`` -, a window geometry
that is not base64) is dropped with a warning and the rest kept; as the next save writes the file
without it, the file as it was is first copied beside it (``fileio.keep_copy``:
``settings.json.<time>.bak``) and the warnings say where; when no copy can be made, the file is not
overwritten. Keys this meshdesk does not know (a newer one's, or added by hand) are kept and written
back as they were. Saving is atomic (``fileio.write_atomic``) with 0600 permissions because the file
may hold a Prometheus token or password; it re-reads the file first and applies only what this
process changed, so two windows do not undo each other. ``repr``/``str`` of settings never show a
secret, and nothing here logs one.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import errno
import functools
import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshdesk.fileio import (
    FileIdentity,
    NotRegularFileError,
    identity_of,
    keep_copy,
    locked,
    move_aside,
    read_regular_file,
    write_atomic,
)
from meshdesk.mesh.check_codes import IGNORED_BY_DEFAULT, checks_left_out, is_check_code
from meshdesk.mesh.dashboards import DashboardsConfig, masked_dashboards_text, read_custom_dashboards
from meshdesk.mesh.health_rates import normalize_rates
from meshdesk.mesh.request import GRAPH_TYPES, extension_names, query_scope
from meshdesk.mesh.traces import TRACING_API_AUTO, TRACING_APIS
from meshdesk.mesh.words import quoted_name, short_name, short_words
from meshdesk.store import paths

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
THEMES = ("system", "light", "dark")
SECRET_AUTH_KEYS = ("token", "password")
_MASK = "********"

# Known prometheus_auth keys and their types; unknown keys are kept as they are.
_AUTH_TYPES: dict[str, type | tuple[type, ...]] = {
    "type": str, "token": str, "username": str, "password": str, "headers": dict, "ca_bundle": str,
    "insecure": bool,
}

# Unknown values (from a newer meshdesk, or added by hand) are kept as they are and written back,
# unless nested deeper than this: such a value is no setting, and copying or writing it would exhaust
# Python's stack.
_MAX_UNKNOWN_DEPTH = 32

# Bounds of the numbers that reach Qt: its timers count milliseconds in a 32-bit int (24.8 days), and
# its combo boxes hold 64-bit ints at most. The longest refresh period is a day; the longest time
# window is Kiali's longest, 30 days.
PAUSE, MANUAL = -1, 0
MAX_REFRESH_INTERVAL = 86_400
MAX_DURATION = 30 * 86_400
# The longest Prometheus or tracing address taken (a proxy's token in its query included).
MAX_URL = 16_384
# Qt's saveGeometry()/saveState() in base64 take a few hundred characters; anything this long is not one.
_MAX_WINDOW_TEXT = 65_536

_CONTEXT_KEYS = ("namespaces", "prometheus_url", "prometheus_auth", "prometheus_scope", "refresh_interval", "duration", "graph_type",
                 "tracing_url", "tracing_auth", "tracing_api", "health_rates", "extensions", "grafana_url",
                 "custom_dashboards", "cluster_name", "mesh_contexts")


def _shown(value: Any) -> str:
    """``repr(value)`` short enough for a message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def _url_problem(value: Any) -> str:
    """Why a stored address cannot be used, in words that never show it (it may carry a token)."""
    if not isinstance(value, str):
        return "is not text"
    # one a megabyte long (a damaged file) was named whole in every failed refresh's message and log line
    return f"is {len(value):,} characters long, longer than any address ({MAX_URL:,} at most)"


def _whole_number(value: Any) -> int | None:
    """``value`` as an int when it is a whole JSON number (600 or 600.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


def refresh_interval_problem(value: int) -> str:
    """Why ``value`` cannot be a refresh interval ("" when it can)."""
    if value in (PAUSE, MANUAL) or 1 <= value <= MAX_REFRESH_INTERVAL:
        return ""
    return f"is not -1 (pause), 0 (manual) or 1 to {MAX_REFRESH_INTERVAL} seconds"


def duration_problem(value: int) -> str:
    """Why ``value`` cannot be a time window ("" when it can)."""
    return "" if 1 <= value <= MAX_DURATION else f"is not 1 to {MAX_DURATION} seconds"


def is_window_text(value: Any) -> bool:
    """Whether ``value`` is what the window's geometry and state are kept as: Qt's bytes in base64."""
    if not isinstance(value, str) or len(value) > _MAX_WINDOW_TEXT:
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):  # ValueError: not ASCII
        return False
    return True


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` levels (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _masked_auth(auth: Mapping[str, Any]) -> dict[str, Any]:
    """``auth`` for showing: secrets and header values replaced by a mask."""
    out: dict[str, Any] = {}
    for key, value in auth.items():
        if key in SECRET_AUTH_KEYS and value:
            out[key] = _MASK
        elif key == "headers" and isinstance(value, Mapping):
            out[key] = {k: _MASK for k in value}
        else:
            out[key] = value
    return out


@dataclass
class ContextSettings:
    """What the user chose for one kubeconfig context. ``None``/empty means "not set: use the default"."""

    prometheus_url: str = ""
    prometheus_auth: dict[str, Any] = field(default_factory=dict)  # type/token/username/password/headers/...
    refresh_interval: int | None = None  # seconds; -1 pause, 0 manual
    duration: int | None = None  # seconds
    graph_type: str = ""
    # the tracing backend (Jaeger's query API), as prometheus_url/prometheus_auth; "": found in the cluster
    tracing_url: str = ""
    tracing_auth: dict[str, Any] = field(default_factory=dict)
    # which API the tracing backend is asked through: "" (auto: Tempo's own when it answers as Tempo, else
    # Jaeger's query API), "jaeger" or "tempo"
    tracing_api: str = ""
    # Kiali's health_config.rate of this cluster (each cluster's Kiali has its own): None = the general
    # setting's (``Settings.health_rates``), () = Kiali's defaults whatever the general setting says
    health_rates: tuple[dict[str, Any], ...] | None = None
    # the Kiali extensions (e.g. skupper) enabled in this cluster's Kiali, whose kiali_ext_* traffic is
    # graphed (Kiali's ``extensions: [{name, enabled}]``); () = none
    extensions: tuple[str, ...] = ()
    # Grafana, for "View in Grafana" (opened in the browser); "": found in the cluster and port-forwarded
    grafana_url: str = ""
    # a mesh over several clusters: the other contexts of the same mesh (context, its cluster's Istio name as
    # given, "" to find it), whose workloads and Istio config are read beside this one's; () = this one alone
    mesh_contexts: tuple[tuple[str, str], ...] = ()
    # this context's cluster's Istio name as given ("": found in the cluster, with mesh_contexts)
    cluster_name: str = ""
    # this cluster's Kiali's runtime dashboard configuration as pasted (YAML: its custom_dashboards and
    # external_services.custom_dashboards), when it differs from the general one; None = the general setting's
    custom_dashboards: str | None = None
    # the labels every query to its Prometheus is kept to, (label, value)...: Kiali's
    # external_services.prometheus.query_scope, for a Prometheus holding several meshes' or clusters' series
    prometheus_scope: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        from meshdesk.sources.prometheus import safe_url  # no credentials or query values shown

        shown = safe_url(self.prometheus_url) if self.prometheus_url else self.prometheus_url
        tracing = safe_url(self.tracing_url) if self.tracing_url else self.tracing_url
        grafana = safe_url(self.grafana_url) if self.grafana_url else self.grafana_url
        # (its Prometheus' login, when it gives one, masked)
        shown_dashboards = masked_dashboards_text(self.custom_dashboards) if self.custom_dashboards else \
            self.custom_dashboards
        return (f"ContextSettings(prometheus_url={shown!r}, "
                f"prometheus_auth={_masked_auth(self.prometheus_auth)!r}, "
                f"prometheus_scope={self.prometheus_scope!r}, "
                f"refresh_interval={self.refresh_interval!r}, duration={self.duration!r}, "
                f"graph_type={self.graph_type!r}, tracing_url={tracing!r}, "
                f"tracing_auth={_masked_auth(self.tracing_auth)!r}, tracing_api={self.tracing_api!r}, "
                f"health_rates={self.health_rates!r}, extensions={self.extensions!r}, grafana_url={grafana!r}, "
                f"mesh_contexts={self.mesh_contexts!r}, cluster_name={self.cluster_name!r}, "
                f"custom_dashboards={shown_dashboards!r})")

    __str__ = __repr__

    @property
    def is_default(self) -> bool:
        return self == ContextSettings()

    def to_json(self) -> dict[str, Any]:
        return {"prometheus_url": self.prometheus_url, "prometheus_auth": copy.deepcopy(self.prometheus_auth),
                **({"prometheus_scope": dict(self.prometheus_scope)} if self.prometheus_scope else {}),
                "refresh_interval": self.refresh_interval, "duration": self.duration,
                "graph_type": self.graph_type,
                **({"tracing_url": self.tracing_url} if self.tracing_url else {}),
                **({"tracing_auth": copy.deepcopy(self.tracing_auth)} if self.tracing_auth else {}),
                **({"tracing_api": self.tracing_api} if self.tracing_api else {}),
                **({"health_rates": [dict(r) for r in self.health_rates]} if self.health_rates is not None else {}),
                **({"extensions": list(self.extensions)} if self.extensions else {}),
                **({"grafana_url": self.grafana_url} if self.grafana_url else {}),
                **({"mesh_contexts": [{"context": c, "cluster": n} for c, n in self.mesh_contexts]}
                   if self.mesh_contexts else {}),
                **({"cluster_name": self.cluster_name} if self.cluster_name else {}),
                **({"custom_dashboards": self.custom_dashboards} if self.custom_dashboards is not None else {})}

    @staticmethod
    def from_json(obj: Mapping[str, Any], warn: Callable[[str], None], where: str) -> ContextSettings:
        cs = ContextSettings()
        url = obj.get("prometheus_url")
        if isinstance(url, str) and len(url) <= MAX_URL:
            cs.prometheus_url = url
        elif url is not None:
            warn(f"{where}: prometheus_url {_url_problem(url)}; dropped")
        cs.prometheus_auth = _clean_auth(obj, "prometheus_auth", warn, where)
        scope = obj.get("prometheus_scope")
        if scope is not None:
            try:
                cs.prometheus_scope = query_scope(scope) if isinstance(scope, Mapping) else query_scope(None)
            except ValueError as exc:
                warn(f"{where}: prometheus_scope {short_words(str(exc))}; dropped (Prometheus is asked for every "
                     "series it holds)")
        tracing_url = obj.get("tracing_url")
        if isinstance(tracing_url, str) and len(tracing_url) <= MAX_URL:
            cs.tracing_url = tracing_url
        elif tracing_url is not None:
            warn(f"{where}: tracing_url {_url_problem(tracing_url)}; dropped")
        cs.tracing_auth = _clean_auth(obj, "tracing_auth", warn, where)
        grafana_url = obj.get("grafana_url")
        if isinstance(grafana_url, str) and len(grafana_url) <= MAX_URL:
            cs.grafana_url = grafana_url
        elif grafana_url is not None:
            warn(f"{where}: grafana_url {_url_problem(grafana_url)}; dropped")
        cluster_name = obj.get("cluster_name")
        if isinstance(cluster_name, str) and len(cluster_name) <= MAX_NAME:
            cs.cluster_name = cluster_name.strip()
        elif cluster_name is not None:
            warn(f"{where}: cluster_name is not a name; dropped (the cluster's name is found in it)")
        linked = obj.get("mesh_contexts")
        if linked is not None:
            wrong = mesh_contexts_problem(linked)
            if wrong:
                warn(f"{where}: mesh_contexts {wrong}; dropped (this context's cluster is read alone)")
            else:
                cs.mesh_contexts = tuple((str(e["context"]), str(e.get("cluster") or "").strip()) for e in linked)
        tracing_api = obj.get("tracing_api")
        if tracing_api in TRACING_APIS:
            cs.tracing_api = "" if tracing_api == TRACING_API_AUTO else str(tracing_api)
        elif tracing_api is not None:
            warn(f"{where}: tracing_api {_shown(tracing_api)} is none of {', '.join(TRACING_APIS)}; the API is "
                 "chosen automatically")
        for name, problem in (("refresh_interval", refresh_interval_problem), ("duration", duration_problem)):
            value = obj.get(name)
            if value is None:
                continue
            number = _whole_number(value)
            why = "is not a whole number of seconds" if number is None else problem(number)
            if why:
                warn(f"{where}: {name} {_shown(value)} {why}; dropped")
            else:
                setattr(cs, name, number)
        rates = obj.get("health_rates")
        if rates is not None:
            normal, problems = normalize_rates(rates)
            if problems:
                warn(f"{where}: health_rates {short_words(problems[0])}"
                     f"{f' (and {len(problems) - 1} more problems)' if len(problems) > 1 else ''}; dropped (the "
                     "general health tolerances judge this context's nodes)")
            else:
                cs.health_rates = tuple(normal)
        dashboards = obj.get("custom_dashboards")
        if dashboards is not None:
            problems = _dashboards_problems(dashboards)
            if problems:
                warn(f"{where}: custom_dashboards {short_words(problems[0])}; dropped (the general runtime "
                     "dashboards are used for this context)")
            else:
                cs.custom_dashboards = dashboards
        extensions = obj.get("extensions")
        if extensions is not None:
            try:
                cs.extensions = extension_names(extensions)
            except ValueError as exc:
                warn(f"{where}: extensions {short_words(str(exc))}; dropped (no extension's traffic is graphed)")
        graph_type = obj.get("graph_type")
        if isinstance(graph_type, str) and (graph_type in GRAPH_TYPES or not graph_type):
            cs.graph_type = graph_type
        elif isinstance(graph_type, str):
            # it was kept, and the window passed it over without a word, opening the versioned app graph
            warn(f"{where}: graph_type {_shown(graph_type)} is none of {', '.join(GRAPH_TYPES)}; dropped")
        elif graph_type is not None:
            warn(f"{where}: graph_type is not text; dropped")
        return cs


# fields of a context written together when one of them changes: a server's address, its login (and the
# tracing API it was tested with), so that merging two windows' saves never pairs one's token with
# another's address
_WRITTEN_TOGETHER: tuple[frozenset[str], ...] = (
    frozenset({"prometheus_url", "prometheus_auth", "prometheus_scope"}),
    frozenset({"tracing_url", "tracing_auth", "tracing_api"}),
)


MAX_NAME = 253  # a context's or cluster's name (a DNS name's longest)


def mesh_contexts_problem(value: Any) -> str:
    """What is wrong with a settings file's ``mesh_contexts`` ("" when nothing): a list of
    ``{"context": name, "cluster": name or ""}``."""
    if not isinstance(value, list):
        return "is not a list of contexts"
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("context"), str) or not entry["context"]:
            return f"entry {i + 1} names no context"
        if not isinstance(entry.get("cluster", ""), str):
            return f"entry {i + 1}'s cluster is not a name"
        if len(entry["context"]) > MAX_NAME or len(entry.get("cluster") or "") > MAX_NAME:
            return f"entry {i + 1} holds a name longer than {MAX_NAME} characters"
    return ""


def _clean_auth(obj: Mapping[str, Any], name: str, warn: Callable[[str], None], where: str) -> dict[str, Any]:
    """``obj[name]`` (prometheus_auth, tracing_auth) with what has the wrong type dropped with a warning that
    never shows a value; unknown keys kept unless nested too deeply."""
    auth = obj.get(name)
    if auth is None:
        return {}
    if not isinstance(auth, Mapping):
        warn(f"{where}: {name} is not an object; dropped")
        return {}
    clean: dict[str, Any] = {}
    for key, value in auth.items():
        expected = _AUTH_TYPES.get(str(key))
        if expected is not None and not isinstance(value, expected):
            warn(f"{where}: {name}.{key} has the wrong type; dropped")  # value not shown
            continue
        if expected is None and _nested_deeper_than(value, _MAX_UNKNOWN_DEPTH):
            # kept as it is otherwise: copying or writing it would exhaust the stack
            warn(f"{where}: {name}.{short_name(key)} is nested too deeply; dropped")
            continue
        if key == "headers":
            headers = {str(k): str(v) for k, v in value.items()
                       if isinstance(v, str | int | float) and not isinstance(v, bool)}
            for header in value:
                if str(header) not in headers:  # value not shown: a header may carry a token
                    warn(f"{where}: {name}.headers.{short_name(header)} is not text; dropped")
            value = headers
        clean[str(key)] = value
    return clean


# ------------------------------------------------------------------------------------------ migrations

_V1_KEYS = ("schema_version", "read_only", "theme", "last_context", "kubeconfig", "namespaces", "prometheus")


def _migrate_1_to_2(doc: dict[str, Any], warn: Callable[[str], None]) -> dict[str, Any]:
    """Schema 1 was flat; its other top-level keys are general ones (kept, as unknown keys are). What
    has no place in schema 2 is said through ``warn`` (it is dropped)."""
    where = "settings (schema 1)"
    contexts: dict[str, dict[str, Any]] = {}
    namespaces = doc.get("namespaces")
    if isinstance(namespaces, Mapping):
        for ctx, names in namespaces.items():
            contexts.setdefault(str(ctx), {})["namespaces"] = names
    elif namespaces is not None:
        warn(f"{where}: namespaces is not an object of context: [names]; dropped")
    prometheus = doc.get("prometheus")
    if isinstance(prometheus, Mapping):
        for ctx, prom in prometheus.items():
            if isinstance(prom, str):  # just the URL
                contexts.setdefault(str(ctx), {})["prometheus_url"] = prom
            elif isinstance(prom, Mapping):
                entry = contexts.setdefault(str(ctx), {})
                for key, value in prom.items():
                    if key == "url":
                        entry["prometheus_url"] = value
                    elif key == "auth":
                        entry["prometheus_auth"] = value
                    elif key in _CONTEXT_KEYS:
                        warn(f"{where}: prometheus.{short_name(ctx)}.{key} has no place in schema 2; dropped")
                    else:
                        entry[str(key)] = value  # kept as the context's unknown key
            elif prom is not None:
                warn(f"{where}: prometheus.{short_name(ctx)} is not a URL or an object with url and auth; dropped")
    elif prometheus is not None:
        warn(f"{where}: prometheus is not an object of context: {{url, auth}}; dropped")
    general = {k: v for k, v in doc.items() if k not in ("schema_version", "namespaces", "prometheus")}
    return {"schema_version": 2, "general": general, "contexts": contexts}


# version n -> n + 1; each says through its second argument what it had to drop
MIGRATIONS: dict[int, Callable[[dict[str, Any], Callable[[str], None]], dict[str, Any]]] = {1: _migrate_1_to_2}


def migrate(doc: dict[str, Any], warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Bring a settings document of any older schema to ``SCHEMA_VERSION``; ``warn`` is told what could
    not be carried over. Raises ValueError for a version this meshdesk does not know (newer, or not a
    positive number)."""
    if "schema_version" in doc:
        version = doc["schema_version"]
    else:  # files from before versioning had no number: schema 1, unless laid out as schema 2
        version = 2 if ("general" in doc or "contexts" in doc) and not any(k in doc for k in _V1_KEYS) else 1
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"has an invalid schema_version {_shown(version)}")
    if version > SCHEMA_VERSION:
        raise ValueError(f"was written by a newer meshdesk (schema {version}; this one reads up to "
                         f"{SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc, warn or (lambda _message: None))
        version += 1
        doc["schema_version"] = version
    return doc


@functools.lru_cache(maxsize=4)
def _dashboards_of(text: str) -> DashboardsConfig:
    return read_custom_dashboards(text)[0]


# ------------------------------------------------------------------------------------------ the store

_GENERAL_DEFAULTS: dict[str, Any] = {"read_only": False, "theme": "system", "last_context": "", "kubeconfig": None,
                                     "window_geometry": "", "window_state": "",
                                     "ignored_checks": list(IGNORED_BY_DEFAULT), "health_rates": [],
                                     "custom_dashboards": "",
                                     "snapshot_folder": "", "display": {}}


MAX_NAMESPACE_NAME = 63
_NAMESPACE_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def is_namespace_name(name: str) -> bool:
    """Whether ``name`` can be a Kubernetes namespace's name (a DNS label: RFC 1123, at most 63 characters)."""
    return len(name) <= MAX_NAMESPACE_NAME and _NAMESPACE_NAME.fullmatch(name) is not None


def _dashboards_problems(value: object) -> list[str]:
    """What is wrong with a ``custom_dashboards`` value read from the file, worded to follow its key in a warning
    (``custom_dashboards is not a list of dashboards``, not the key said twice)."""
    if not isinstance(value, str):
        return ["is not YAML text"]
    return [p.removeprefix("custom_dashboards ") for p in read_custom_dashboards(value)[1]]


def _codes_problem(value: Any) -> str:
    """What is wrong with a stored list of check codes ("" when nothing is)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "is not a list of check codes"
    odd = [v for v in value if not is_check_code(v)]
    return f"holds {_shown(odd[0])}, which is no check code (three letters and four digits, such as KIA1301)" \
        if odd else ""


class Settings:
    """All settings. Change them through the methods/properties, then ``save()``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.settings_file()
        self.warnings: list[str] = []
        self._general: dict[str, Any] = dict(_GENERAL_DEFAULTS)
        self._namespaces: dict[str, list[str]] = {}
        self._contexts: dict[str, ContextSettings] = {}
        # keys this meshdesk does not know (a newer one's, or added by hand): written back as they were
        self._unknown: dict[str, Any] = {}
        self._unknown_general: dict[str, Any] = {}
        self._unknown_in_context: dict[str, dict[str, Any]] = {}
        # what this process changed, applied on top of the file at save time
        self._dirty_general: set[str] = set()
        self._dirty_namespaces: set[str] = set()
        # per context, the fields this process changed: another window's changes to the others are kept
        self._dirty_contexts: dict[str, set[str]] = {}
        self._blocked = False  # an unusable file that could not be moved aside is in the way
        self._blocked_why = ""  # what is wrong with it, in words naming it ("settings file ... cannot be read (...)")
        self._seen_file: FileIdentity | None = None  # the version of the file last read or written here

    # -- undo --------------------------------------------------------------------------------------
    _STATE = ("_general", "_namespaces", "_contexts", "_unknown", "_unknown_general", "_unknown_in_context",
              "_dirty_general", "_dirty_namespaces", "_dirty_contexts")

    def checkpoint(self) -> dict[str, Any]:
        """Everything this object holds now, for :meth:`restore` (e.g. when a save that should have
        made changes stick failed, and the user cancels them)."""
        return {name: copy.deepcopy(getattr(self, name)) for name in self._STATE}

    def restore(self, state: dict[str, Any]) -> None:
        for name in self._STATE:
            setattr(self, name, copy.deepcopy(state[name]))

    # -- general -----------------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        """Read-only mode, as saved last by any window: turned on in another meshdesk window (or process)
        since this one read the file, it holds here too, before a dialog open here writes to a cluster."""
        self._follow_read_only()
        return bool(self._general["read_only"])

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._set_general("read_only", bool(value))

    def _follow_read_only(self) -> None:
        if "read_only" in self._dirty_general:
            return  # changed here and not saved yet: this window's choice
        now = identity_of(self.path)
        if now is None or now == self._seen_file:
            return  # (one stat: the file has not changed since it was read or written here)
        self._seen_file = now
        try:  # quietly: a damaged file is said (and set aside) by the next load or save, not here
            doc = json.loads(read_regular_file(self.path).decode("utf-8-sig"))
            general = migrate(doc, lambda _said: None).get("general") if isinstance(doc, dict) else None
        except Exception:  # noqa: BLE001 - what was known stays
            return
        value = general.get("read_only") if isinstance(general, dict) else None
        if isinstance(value, bool):
            self._general["read_only"] = value

    @property
    def theme(self) -> str:
        return str(self._general["theme"])

    @theme.setter
    def theme(self, value: str) -> None:
        if value not in THEMES:
            raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {value!r}")
        self._set_general("theme", value)

    @property
    def ignored_checks(self) -> tuple[str, ...]:
        """Validation codes whose findings are not shown (Kiali's ``validations.ignore``; by default
        KIA1301, a workload no AuthorizationPolicy covers, as in Kiali)."""
        return checks_left_out(" ".join(self._general["ignored_checks"]))

    @ignored_checks.setter
    def ignored_checks(self, value: Sequence[str]) -> None:
        odd = [v for v in value if not is_check_code(v)]
        if odd:
            raise ValueError(f"{odd[0]!r} is not a check code (three letters and four digits, such as KIA1301)")
        self._set_general("ignored_checks", list(checks_left_out(" ".join(value))))

    @property
    def health_rates(self) -> tuple[dict[str, Any], ...]:
        """Kiali's ``health_config.rate``: per app, service or workload (matched by namespace, kind and
        name patterns) the tolerances that judge its health instead of Kiali's defaults; () = the defaults."""
        return tuple(dict(r) for r in self._general["health_rates"])

    @health_rates.setter
    def health_rates(self, value: Sequence[Mapping[str, Any]]) -> None:
        rates, problems = normalize_rates(list(value))
        if problems:
            raise ValueError("; ".join(problems))
        self._set_general("health_rates", rates)

    @property
    def custom_dashboards(self) -> str:
        """Kiali's runtime dashboard configuration as the user pasted it (YAML: its ``custom_dashboards``,
        ``external_services.custom_dashboards``); "" = meshdesk's built-in dashboards, Kiali's defaults."""
        return str(self._general["custom_dashboards"])

    @custom_dashboards.setter
    def custom_dashboards(self, value: str) -> None:
        problems = read_custom_dashboards(value)[1]
        if problems:
            raise ValueError("; ".join(problems))
        self._set_general("custom_dashboards", value)

    def dashboards_config(self) -> DashboardsConfig:
        """The runtime dashboards and how they are found, read from ``custom_dashboards`` (once per text: the
        Metrics dock asks with every selection)."""
        return _dashboards_of(self.custom_dashboards)

    def dashboards_config_for(self, context: str) -> DashboardsConfig:
        """The runtime dashboards of ``context``'s cluster: its own Kiali's configuration when given (each
        cluster's Kiali is configured apart: other dashboards, discovery, label names), else the general one."""
        own = self._contexts.get(context, ContextSettings()).custom_dashboards if context else None
        return _dashboards_of(own) if own is not None else self.dashboards_config()

    def health_rates_for(self, context: str) -> tuple[dict[str, Any], ...]:
        """The health tolerances that judge ``context``'s nodes: its own when it has them (each cluster's
        Kiali is configured apart), else the general ones."""
        own = self._contexts.get(context, ContextSettings()).health_rates if context else None
        return tuple(dict(r) for r in (own if own is not None else self._general["health_rates"]))

    @property
    def window_geometry(self) -> str:
        """The main window's size and place, as Qt's saveGeometry() in base64 ("" : Qt's default)."""
        return str(self._general["window_geometry"] or "")

    @window_geometry.setter
    def window_geometry(self, value: str) -> None:
        self._set_general("window_geometry", _window_text("window_geometry", value))

    @property
    def window_state(self) -> str:
        """The docks' arrangement, as Qt's saveState() in base64 ("" : the app's default)."""
        return str(self._general["window_state"] or "")

    @window_state.setter
    def window_state(self, value: str) -> None:
        self._set_general("window_state", _window_text("window_state", value))

    @property
    def last_context(self) -> str:
        return str(self._general["last_context"] or "")

    @last_context.setter
    def last_context(self, value: str | None) -> None:
        self._set_general("last_context", value or "")

    @property
    def kubeconfig(self) -> str | None:
        value = self._general["kubeconfig"]
        return str(value) if value else None

    @kubeconfig.setter
    def kubeconfig(self, value: str | os.PathLike[str] | None) -> None:
        self._set_general("kubeconfig", os.fspath(value) if value else None)

    @property
    def snapshot_folder(self) -> str:
        """The folder a snapshot was last saved to or opened from ("" when none was): where File > Save
        snapshot and Open snapshot start."""
        return str(self._general["snapshot_folder"] or "")

    @snapshot_folder.setter
    def snapshot_folder(self, value: str | os.PathLike[str] | None) -> None:
        self._set_general("snapshot_folder", os.fspath(value) if value else "")

    @property
    def display(self) -> dict[str, Any]:
        """The graph's display choices kept from one session to the next (edge labels, badges, boxes, idle
        nodes, traffic rates...: the toolbar's, not a context's own), as saved; the window takes those it
        offers."""
        return dict(self._general["display"] or {})

    @display.setter
    def display(self, value: Mapping[str, Any]) -> None:
        self._set_general("display", dict(value))

    def _set_general(self, key: str, value: Any) -> None:
        self._general[key] = value
        self._dirty_general.add(key)

    # -- per context -------------------------------------------------------------------------------
    def namespaces_for(self, context: str) -> list[str]:
        """The namespaces last shown for ``context`` (empty when none were remembered)."""
        return list(self._namespaces.get(context, []))

    def set_namespaces(self, context: str, namespaces: list[str] | tuple[str, ...]) -> None:
        if not context:  # no context (no kubeconfig found): nothing to keep them for
            return
        seen: list[str] = []
        for name in namespaces:
            # a name no namespace can have (`meshdesk -n "Bad NS"`) is not kept: read back, it would be said
            # to be dropped at the next start
            if isinstance(name, str) and is_namespace_name(name) and name not in seen:
                seen.append(name)
        self._namespaces[context] = seen
        self._dirty_namespaces.add(context)

    def context_settings(self, context: str) -> ContextSettings:
        """A copy of the settings for ``context`` (defaults when none are stored)."""
        return copy.deepcopy(self._contexts.get(context, ContextSettings()))

    def set_context_settings(self, context: str, settings: ContextSettings) -> None:
        if not isinstance(settings, ContextSettings):
            raise TypeError("set_context_settings needs a ContextSettings")
        if not context:  # no context (no kubeconfig found): nothing to keep them for
            return
        for name, problem in (("refresh_interval", refresh_interval_problem), ("duration", duration_problem)):
            value = getattr(settings, name)
            if value is None:
                continue
            why = "is not a whole number of seconds" if type(value) is not int else problem(value)
            if why:
                raise ValueError(f"{name} {_shown(value)} {why}")
        settings = dataclasses.replace(settings, extensions=extension_names(list(settings.extensions)),
                                       prometheus_scope=query_scope(dict(settings.prometheus_scope)))
        if settings.custom_dashboards is not None:
            problems = read_custom_dashboards(settings.custom_dashboards)[1]
            if problems:
                raise ValueError("custom_dashboards: " + "; ".join(problems))
        if settings.health_rates is not None:
            rates, problems = normalize_rates(list(settings.health_rates))
            if problems:
                raise ValueError("health_rates: " + "; ".join(problems))
            settings = dataclasses.replace(settings, health_rates=tuple(rates))
        before = self._contexts.get(context, ContextSettings())
        changed = {f.name for f in dataclasses.fields(ContextSettings)
                   if getattr(before, f.name) != getattr(settings, f.name)}
        for group in _WRITTEN_TOGETHER:  # an address and its login go together, never one with another's
            if changed & group:
                changed |= group
        self._contexts[context] = copy.deepcopy(settings)
        self._dirty_contexts.setdefault(context, set()).update(changed)

    def context_names(self) -> list[str]:
        """Contexts that have anything stored (namespaces or settings), sorted."""
        named = set(self._namespaces) | {c for c, s in self._contexts.items() if not s.is_default}
        return sorted(named)

    # -- show ----------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"Settings(path={str(self.path)!r}, read_only={self.read_only}, theme={self.theme!r}, "
                f"last_context={self.last_context!r}, kubeconfig={self.kubeconfig!r}, "
                f"contexts={ {c: self._contexts.get(c, ContextSettings()) for c in self.context_names()} !r})")

    __str__ = __repr__

    # -- JSON ----------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        contexts: dict[str, dict[str, Any]] = {}
        for name in sorted(set(self.context_names()) | set(self._unknown_in_context)):
            entry: dict[str, Any] = {}
            if name in self._namespaces:
                entry["namespaces"] = list(self._namespaces[name])
            cs = self._contexts.get(name)
            if cs is not None and not cs.is_default:
                entry.update(cs.to_json())
            entry.update(self._unknown_in_context.get(name, {}))
            contexts[name] = entry
        return {"schema_version": SCHEMA_VERSION, "general": {**self._general, **self._unknown_general},
                "contexts": contexts, **self._unknown}

    def _apply(self, doc: Mapping[str, Any]) -> None:
        """Take the values of a schema-``SCHEMA_VERSION`` document; a value that cannot be used is dropped
        with a warning, and keys this meshdesk does not know are kept to be written back."""
        warn = self.warnings.append
        self._unknown = _keep_unknown(doc, ("schema_version", "general", "contexts"), "settings", warn)
        general = doc.get("general", {})
        if not isinstance(general, Mapping):
            warn("settings: 'general' is not an object; dropped, defaults used")
            general = {}
        for key, default in _GENERAL_DEFAULTS.items():
            if key not in general:
                continue
            value = general[key]
            if key == "read_only" and not isinstance(value, bool):
                warn(f"settings: read_only {_shown(value)} is not true/false; dropped")
            elif key == "theme" and value not in THEMES:
                warn(f"settings: theme {_shown(value)} is not one of {', '.join(THEMES)}; dropped")
            elif key in ("last_context", "kubeconfig", "window_geometry", "window_state", "snapshot_folder") \
                    and value is not None and not isinstance(value, str):
                warn(f"settings: {key} is not text; dropped")
            elif key in ("kubeconfig", "snapshot_folder") and value and "\0" in value:
                warn(f"settings: {key} is not a file name (it holds a NUL character); dropped")
            elif key == "health_rates" and normalize_rates(value)[1]:
                problems = normalize_rates(value)[1]
                warn(f"settings: health_rates {short_words(problems[0])}"
                     f"{f' (and {len(problems) - 1} more problems)' if len(problems) > 1 else ''}; dropped (nodes "
                     "are judged by Kiali's default tolerances)")
            elif key == "custom_dashboards" and _dashboards_problems(value):
                problems = _dashboards_problems(value)
                warn(f"settings: custom_dashboards {short_words(problems[0])}; dropped (meshdesk's built-in runtime "
                     "dashboards are used, found as Kiali finds them by default)")
            elif key == "ignored_checks" and _codes_problem(value):
                warn(f"settings: ignored_checks {_codes_problem(value)}; dropped (KIA1301 is left out, as in "
                     "Kiali)")
            elif key == "display" and not (isinstance(value, Mapping) and len(value) <= 64 and all(
                    isinstance(k, str) and isinstance(v, (bool, str)) and len(str(v)) <= 64 for k, v in value.items())):
                warn("settings: display is not a table of display choices; dropped (the graph's defaults are used)")
            elif key in ("window_geometry", "window_state") and value and not is_window_text(value):
                warn(f"settings: {key} is not the base64 text meshdesk saves; dropped (the window opens at "
                     f"its default {'size' if key == 'window_geometry' else 'arrangement'})")
            else:
                self._general[key] = value if value is not None else default
        self._unknown_general = _keep_unknown(general, tuple(_GENERAL_DEFAULTS), "settings: general", warn)
        contexts = doc.get("contexts", {})
        if not isinstance(contexts, Mapping):
            warn("settings: 'contexts' is not an object; dropped")
            contexts = {}
        for name, entry in contexts.items():
            if name == "":  # kept by earlier versions for "no context" (no kubeconfig found): no one's
                continue
            where = f"settings for context {quoted_name(name)}"
            if not isinstance(entry, Mapping):
                warn(f"{where}: not an object; dropped")
                continue
            names = entry.get("namespaces")
            if names is not None:
                if isinstance(names, list) and all(isinstance(n, str) for n in names):
                    # a Kubernetes namespace's name is a DNS label: one a megabyte long, kept, froze the window
                    # for minutes, laid out in the details panel's title
                    odd = [n for n in names if n and not is_namespace_name(n)]
                    if odd:
                        warn(f"{where}: namespaces holds {quoted_name(odd[0])}"
                             f"{f' and {len(odd) - 1} more' if len(odd) > 1 else ''}, which is no namespace name "
                             f"(up to {MAX_NAMESPACE_NAME} lower-case letters, digits and '-'); dropped, the others kept")
                    self._namespaces[str(name)] = [n for n in names if n and n not in odd]
                else:
                    warn(f"{where}: namespaces is not a list of names; dropped")
            self._contexts[str(name)] = ContextSettings.from_json(entry, warn, where)
            unknown = _keep_unknown(entry, _CONTEXT_KEYS, where, warn)
            if unknown:
                self._unknown_in_context[str(name)] = unknown

    # -- disk ----------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write atomically (0600). Re-reads the file first and applies only this process's changes, so
        settings saved meanwhile by another window are kept. Raises OSError when the file cannot be
        written (nothing is lost on disk then)."""
        if self._blocked:
            # what is wrong with it, as the warning at load said it: "is unusable and could not be moved aside"
            # said neither (a file that cannot be read is left alone: it is not even tried)
            why = self._blocked_why or f"the settings file {self.path} is unusable"
            raise PermissionError(13, f"{why}, so it is not overwritten", str(self.path))
        # under a lock: two processes saving at once each re-read before the other wrote, and lost it
        with locked(self.path):
            found: list[str] = []  # what the file on disk now has that cannot be used (a copy is kept)
            try:
                on_disk = _read(self.path, found)
            except _Blocked as exc:
                raise PermissionError(13, f"{exc}, so it is not overwritten", str(self.path)) from None
            self.warnings.extend(w for w in found if w not in self.warnings)
            if on_disk is not None and on_disk._blocked:
                raise PermissionError(13, f"the settings file {self.path} has values that cannot be used and "
                                      "no copy of it could be kept, so it is not overwritten", str(self.path))
            merged = on_disk if on_disk is not None else Settings(self.path)
            for key in self._dirty_general:
                merged._general[key] = self._general[key]
            for name in self._dirty_namespaces:
                merged._namespaces[name] = list(self._namespaces.get(name, []))
            for name, fields in self._dirty_contexts.items():
                # only the fields changed here: a window that changed the graph type wrote back its whole
                # copy of the context, erasing the Prometheus address and token another window had saved
                ours = self._contexts[name]
                merged._contexts[name] = dataclasses.replace(
                    merged._contexts.get(name, ContextSettings()),
                    **{f: copy.deepcopy(getattr(ours, f)) for f in fields})
            text = json.dumps(merged.to_json(), indent=2, sort_keys=False) + "\n"
            write_atomic(self.path, text, mode=0o600)
        self._seen_file = identity_of(self.path)
        # take in what others saved meanwhile; our changes are now on disk
        self._general, self._namespaces, self._contexts = merged._general, merged._namespaces, merged._contexts
        self._unknown, self._unknown_general = merged._unknown, merged._unknown_general
        self._unknown_in_context = merged._unknown_in_context
        self._dirty_general.clear()
        self._dirty_namespaces.clear()
        self._dirty_contexts.clear()


def _keep_unknown(obj: Mapping[str, Any], known: tuple[str, ...], where: str,
                  warn: Callable[[str], None]) -> dict[str, Any]:
    """The keys of ``obj`` that are not ``known``, to be written back as they are; one nested too
    deeply to copy or write is dropped with a warning."""
    kept: dict[str, Any] = {}
    for key, value in obj.items():
        if key in known:
            continue
        if _nested_deeper_than(value, _MAX_UNKNOWN_DEPTH):
            warn(f"{where}: {short_name(key)} is nested too deeply; dropped")
        else:
            kept[str(key)] = value
    return kept


def _window_text(name: str, value: str) -> str:
    if value and not is_window_text(value):
        raise ValueError(f"{name} must be Qt's bytes in base64")
    return value


def save_problem(path: str | os.PathLike[str], exc: OSError) -> str:
    """What :meth:`Settings.save` found wrong, in words naming the path (not "[Errno 17] File exists:
    '/x'"): a settings folder that is a file, a settings file that is a folder, no permission, ..."""
    target = Path(path)
    folder = target.parent
    blocking = next((f for f in (folder, *folder.parents) if os.path.lexists(f)), None)
    if blocking is not None and not blocking.is_dir():
        if blocking == folder:
            return f"the settings folder {folder} is a file, not a folder"
        return f"{blocking} is a file, not a folder, so the settings folder {folder} cannot be made"
    if target.is_dir():
        return f"the settings file {target} is a folder, not a file"
    lock = target.with_name(target.name + ".lock")
    if exc.filename is not None and os.fspath(exc.filename) == os.fspath(lock) and os.path.lexists(lock):
        # the lock file beside it (settings.json.lock) was said as the settings file: "the settings file
        # .../settings.json could not be written (Is a directory)", and that file is no folder
        if lock.is_dir():
            return f"the settings lock file {lock} is a folder, not a file (meshdesk makes it; remove the folder)"
        return f"the settings lock file {lock} cannot be opened ({exc.strerror or type(exc).__name__})"
    # (a lock file that is not there could not be made: what is wrong is the folder, said below; a read-only
    # settings folder was said as "the settings lock file ... cannot be opened (Permission denied)", a file the
    # user never made nor heard of)
    if exc.errno is not None and exc.strerror and exc.strerror != os.strerror(exc.errno):
        return exc.strerror  # the store's own words (a file it will not overwrite)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"you may not write in the settings folder {folder}"
    if exc.errno == errno.EROFS:
        return f"the settings folder {folder} is on a read-only file system"
    if exc.errno == errno.ENOSPC:
        return f"no space left on the disk of the settings folder {folder}"
    return f"the settings file {target} could not be written ({exc.strerror or type(exc).__name__})"


class _Blocked(Exception):
    """An unusable settings file that could not be moved aside: it must not be overwritten."""


def _read(path: Path, warnings: list[str]) -> Settings | None:
    """Settings from ``path``; None when there is no usable file (an unusable one is moved aside and
    a warning added). Raises _Blocked when an unusable file cannot be moved aside."""
    reason = ""
    try:
        raw = read_regular_file(path)  # checked before reading: a named pipe would block forever
    except (FileNotFoundError, NotADirectoryError):
        return None
    except NotRegularFileError as exc:
        reason, raw = f"is {exc.strerror}", b""  # unusable: moved aside below
    except OSError as exc:  # a folder, no permission, ...: left alone, and never overwritten
        raise _Blocked(f"settings file {path} cannot be read ({exc.strerror or 'I/O error'})") from None
    doc: Any = None
    if not reason:
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except RecursionError:
            reason = "is not valid JSON (nested too deeply)"
        except (UnicodeDecodeError, ValueError) as exc:  # also a number too long to convert
            where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
            reason = f"is not valid JSON{where}"
    if not reason and not isinstance(doc, dict):
        reason = "is not a JSON object"
    dropped: list[str] = []  # values the file holds that cannot be used
    if not reason:
        try:
            doc = migrate(doc, dropped.append)
        except ValueError as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - a migration choking on odd content: keep the file aside
            reason = f"could not be migrated ({type(exc).__name__})"
    if reason:
        kind = "newer" if "newer meshdesk" in reason else "unreadable"
        try:
            aside = move_aside(path, kind)
        except OSError as exc:
            raise _Blocked(f"settings file {path} {reason} and could not be moved aside "
                           f"({exc.strerror or 'I/O error'})") from None
        warnings.append(f"settings file {path} {reason}; it was kept as {aside.name} and defaults are used")
        return None
    s = Settings(path)
    s.warnings = dropped
    s._apply(doc)
    if s.warnings:
        # the next save writes the file without them: the user's file is kept first, as it was
        try:
            kept = keep_copy(path, raw)
        except OSError as exc:
            s._blocked = True
            s._blocked_why = (f"settings file {path} has values that cannot be used and no copy of it could be kept "
                              f"({exc.strerror or 'I/O error'})")
            s.warnings.append(f"settings file {path}: no copy of it could be kept ({exc.strerror or 'I/O error'}), "
                              "so it will not be overwritten and changed settings are not saved")
        else:
            s.warnings.append(f"settings file {path} as it was is kept as {kept}")
    warnings.extend(s.warnings)
    s.warnings = warnings
    return s


def load_settings(path: str | os.PathLike[str] | None = None, *, log_problems: bool = True) -> Settings:
    """The settings from ``path`` (default :func:`meshdesk.store.paths.settings_file`). Never raises for
    a bad file: defaults are used and ``warnings`` says what happened (and the log, unless
    ``log_problems`` is false: a command says them in its own words). A file that can be neither read
    nor moved aside is left alone, and ``save()`` then refuses to overwrite it."""
    target = Path(path) if path is not None else paths.settings_file()
    warnings: list[str] = []
    try:
        s = _read(target, warnings)
    except _Blocked as exc:
        warnings.append(f"{exc}; defaults are used and the file will not be overwritten")
        s = Settings(target)
        s._blocked = True
        s._blocked_why = str(exc)
    if s is None:
        s = Settings(target)
    s._seen_file = identity_of(target)
    s.warnings = warnings
    for w in warnings if log_problems else ():
        log.warning("%s", w)
    return s


__all__ = ["SCHEMA_VERSION", "THEMES", "ContextSettings", "Settings", "load_settings", "migrate", "save_problem"]
