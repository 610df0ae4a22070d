"""What every source of mesh data offers, and the typed errors users meet.

A source is the demo cluster, a live cluster (kubeconfig context + Prometheus) or a snapshot file.
The UI and the CLI only talk to this interface, so the demo behaves like a real cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from meshdesk.mesh.inventory import IstioObject, Namespace
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.snapshot import Snapshot

# Called by long work with (done, total, message); returns nothing. Work checks ``cancelled()``.
Progress = Callable[[int, int, str], None]


class SourceError(Exception):
    """Base of the errors a user can meet. ``kind`` selects the message style in the UI; the text never
    contains a token, password or certificate."""

    kind = "error"
    # whether the same call may succeed later by itself (an outage, a timeout, a login renewed by a
    # plugin): the poller then retries with backoff. False: only a change the user makes helps (a
    # file that is not a snapshot), so the error is said once and tried again only when asked.
    transient = True
    # what the user can do, where the kind's usual advice (``ui.messages``) does not fit this error;
    # None: the kind's
    advice: str | None = None
    # how the automatic retry is said, where "Retrying in N s" would promise more than it does
    # ("{seconds}" stands for the wait); "": that
    retry_words = ""
    # the short title the window gives this error (banner, empty view, status bar), where the kind's
    # (``ui.messages``) does not fit it; None: the kind's
    title: str | None = None
    # what could be read all the same: a snapshot of the cluster without its telemetry (its inventory), when
    # Prometheus alone failed; the window's lists, Istio config and docks show it meanwhile (set on the error)
    partial: Any = None

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class Unreachable(SourceError):
    kind = "unreachable"


class Unauthorized(SourceError):
    """401: credentials expired or rejected."""

    kind = "unauthorized"


class Forbidden(SourceError):
    """403: RBAC forbids a namespace or resource."""

    kind = "forbidden"


class Timeout(SourceError):
    kind = "timeout"


class NotFound(SourceError):
    kind = "not-found"


class IstioNotFound(NotFound):
    """The cluster serves no Istio API: nothing was deleted meanwhile (the not-found kind's advice);
    the message says what to do. Nothing changes by itself until Istio is installed: the retry is
    said as watching for that (each check is one discovery call)."""

    advice = ""
    retry_words = "Watching for Istio to be installed: checking again in {seconds} s."
    title = "No Istio in this cluster"  # the kind's "Not found" told a first-time user nothing


class Conflict(SourceError):
    """Someone changed the object meanwhile (409 / resourceVersion mismatch)."""

    kind = "conflict"


class ConfigError(SourceError):
    """A kubeconfig, settings or snapshot file that is missing, unreadable or wrong."""

    kind = "config"


class CredentialPluginError(ConfigError):
    """A kubeconfig credential plugin (aws, gke-gcloud-auth-plugin, kubelogin ...) that is missing,
    failed or gave no credentials. Not transient: running it again by itself helps nothing until the
    user logs in or installs it, and a plugin that logs in opens a browser on each run. Said once, run
    again when the user asks (Retry, Refresh)."""

    transient = False


class CredentialTimeout(Timeout):
    """A credential plugin (or login refresh) that did not finish in time: it may wait for a login in
    a browser or a terminal. Not transient, as :class:`CredentialPluginError`."""

    transient = False


class SnapshotFileError(ConfigError):
    """A snapshot file that cannot be read (missing, a folder, too large, not JSON, not a snapshot).
    ``path`` and ``reason`` apart, for a dialog that names the file and then says what is wrong
    ("not valid JSON: Expecting ',' delimiter (line 713, column 25)"); the message says both, as the
    command line prints it. Reading it again changes nothing until the file changes: not transient."""

    kind = "snapshot"
    transient = False

    def __init__(self, path: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class SnapshotWriteError(SnapshotFileError):
    """A snapshot that could not be written (a folder in the way, no permission, a full disk)."""

    kind = "write"


class PrometheusError(SourceError):
    kind = "prometheus"


class PrometheusNotFound(PrometheusError):
    """No Prometheus was found in the cluster (and none is given in Settings): nothing to reach, so the
    window does not say it "cannot be reached"."""


class PrometheusURLError(PrometheusError, ConfigError):
    """A Prometheus address that is no usable URL (``htp:/x``, ``http://``, a space in its host), saved in
    Settings (or a settings file edited by hand). A Prometheus problem to the window (its way out is the
    context's Prometheus settings), a configuration error to the command line (exit code 2); asking again
    changes nothing until the address is corrected: not transient."""

    kind = "prometheus"
    transient = False


class TracingError(SourceError):
    """A tracing backend (Jaeger's query API, or Tempo's Jaeger frontend) that could not be found or asked."""

    kind = "tracing"


class TracingUnreachable(TracingError, Unreachable):
    """Connection refused, DNS or TLS failure, a redirect elsewhere: nothing answered as the backend."""

    kind = "tracing"


class TracingTimeout(TracingError, Timeout):
    kind = "tracing"


class TracingHTTPError(TracingError):
    """The backend (or something in front of it) answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int, body: str = "", hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.body = body


class TracingUnauthorized(TracingHTTPError, Unauthorized):
    kind = "tracing"


class TracingForbidden(TracingHTTPError, Forbidden):
    kind = "tracing"


class TracingQueryError(TracingHTTPError):
    """The backend refused the query itself (Jaeger's ``{"errors": [{"code": 400, "msg": ...}]}``)."""


class TracingNotFound(TracingError):
    """No tracing backend in the cluster (or none the user may look for), and no URL given: looked for
    again only now and then, or when the user asks (``ClusterSource.look_for_tracing_again``)."""

    transient = False


class TracingMalformed(TracingError):
    """The answer is not the query API's JSON (an HTML page, a wrong path prefix, a cut body)."""


class TracingURLError(TracingError, ConfigError):
    """A tracing address that is no usable URL, saved in Settings or given on the command line: asking
    again changes nothing until it is corrected."""

    kind = "tracing"
    transient = False


class Cancelled(SourceError):
    kind = "cancelled"


class TooLarge(SourceError):
    """An answer larger than the most meshdesk reads (it stopped reading at that limit)."""

    kind = "too-large"


def size_words(n: int) -> str:
    """A byte count in words: "256 MB", "1.5 MB", "900 bytes"."""
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n} bytes"


@dataclass(frozen=True)
class SourceInfo:
    """What the status bar shows: which cluster, and how Prometheus is reached."""

    context: str  # kubeconfig context name, "demo" or the snapshot file name
    cluster: str  # cluster name used in the graph
    prometheus: str  # e.g. "API server service proxy to istio-system/prometheus:9090"
    live: bool = True  # False for a snapshot


@runtime_checkable
class MeshSource(Protocol):
    """The interface the UI and CLI use. Implementations must be safe to call from a worker thread."""

    def info(self) -> SourceInfo: ...

    def namespaces(self) -> list[Namespace]:
        """Namespaces the user may see (raises Unreachable/Unauthorized/Timeout)."""
        ...

    def snapshot(self, request: GraphRequest, *, with_inventory: bool = True,
                 cancelled: Callable[[], bool] | None = None) -> Snapshot:
        """Telemetry samples (and the inventory) for ``request``'s namespaces at ``request.queryTime``."""
        ...

    def close(self) -> None: ...


class WritableSource(MeshSource, Protocol):
    """A source that takes Istio config writes (a live cluster, the demo)."""

    def apply(self, obj: IstioObject, *, dry_run: bool = False) -> IstioObject: ...

    def delete(self, kind: str, namespace: str, name: str, *, dry_run: bool = False) -> None: ...

    def label_namespace(self, namespace: str, labels: dict[str, str | None], *, dry_run: bool = False) -> None: ...


def describe_namespaces(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "no namespace"
