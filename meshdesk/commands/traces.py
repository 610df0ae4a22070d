"""``meshdesk traces``: the distributed traces of an app, a workload or a service, from the cluster's
tracing backend (Jaeger, or Tempo through its own API or its Jaeger query frontend, ``--tracing-api``:
found in the cluster, saved in Settings or given with ``--tracing URL``) or the demo mesh, printed as a table (start, name, duration, spans,
errors) or as JSON (``--json``).

Exit codes, as ``meshdesk graph``'s: 0 ok (an app the backend holds no traces of is said on stderr), 1
the traces could not be read (one plain line on stderr), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from meshdesk.commands import (
    CommandParser,
    add_output_option,
    exit_code,
    naming_context,
    timeout_seconds,
    wants_json,
)
from meshdesk.mesh.traces import (
    DEFAULT_LIMIT,
    TARGET_APP,
    TARGET_SERVICE,
    TARGET_WORKLOAD,
    TRACING_APIS,
    Trace,
    TraceQuery,
    TraceSet,
    TraceTarget,
    trace_duration_text,
)
from meshdesk.mesh.words import padded, text_width
from meshdesk.sources.base import ConfigError, SourceError

MAX_LIMIT = 1500
MAX_SINCE_S = 30 * 86_400  # the longest window asked for: Kiali's longest, 30 days
# the longest span asked for: one as long as the longest window (a bigger number was sent to the backend as
# whole microseconds, and past 1e305 ms overflowed to infinity: a traceback)
MAX_MIN_DURATION_MS = MAX_SINCE_S * 1000
PROG = "meshdesk traces"


def _parser() -> argparse.ArgumentParser:
    p = CommandParser(prog=PROG, description="List the traces of an app, a workload or a service.")
    src = p.add_argument_group("where the traces come from (one of)")
    src.add_argument("--demo", action="store_true", help="the built-in demo mesh")
    src.add_argument("--context", help="kubeconfig context of a live cluster (default: the current one)")
    src.add_argument("--kubeconfig", help="kubeconfig file(s), like kubectl's --kubeconfig")
    src.add_argument("--tracing", metavar="URL",
                     help="the tracing backend: Jaeger's query API or Tempo's own (default: saved in Settings, "
                          "else found in the cluster)")
    src.add_argument("--tracing-api", choices=TRACING_APIS,
                     help="ask the tracing backend through Jaeger's query API, Tempo's own (TraceQL), or auto: "
                          "Tempo's when it answers as Tempo (default: saved in Settings, else auto)")
    src.add_argument("--tracing-ca", metavar="FILE",
                     help="CA bundle (PEM) to verify the tracing URL's certificate")
    src.add_argument("--tracing-insecure", action="store_true",
                     help="do not verify the tracing URL's TLS certificate")
    src.add_argument("--timeout", type=timeout_seconds, default=30.0, metavar="SECONDS",
                     help="per request, in seconds or with a unit (30s, 2m; default 30)")
    who = p.add_argument_group("whose traces (one of)")
    who.add_argument("--app", metavar="NAME")
    who.add_argument("--workload", metavar="NAME")
    who.add_argument("--service", metavar="NAME")
    p.add_argument("--namespace", "-n", metavar="NAMESPACE",
                   help="the namespace of the app, workload or service (default: the context's own)")
    q = p.add_argument_group("which traces")
    q.add_argument("--since", default="15m", metavar="DURATION",
                   help="traces that started this long ago or later: 30s, 15m, 1h, 2d (default 15m)")
    q.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                   help=f"at most this many, newest first (default {DEFAULT_LIMIT})")
    q.add_argument("--errors", action="store_true", help="only traces with an error")
    q.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                   help="only traces with a span carrying this tag (http.method=POST); repeat for more")
    q.add_argument("--min-duration", type=float, default=0.0, metavar="MS",
                   help="only traces with a span of at least this many milliseconds")
    add_output_option(p, "the traces")
    return p


class _UsageError(Exception):
    pass


def _target(a: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, str]:
    given = [(kind, value) for kind, value in ((TARGET_APP, a.app), (TARGET_WORKLOAD, a.workload),
                                               (TARGET_SERVICE, a.service)) if value is not None]
    if len(given) != 1:
        parser.error("say whose traces: one of --app NAME, --workload NAME or --service NAME")
    kind, name = given[0]
    if not name.strip():
        parser.error(f"--{kind} needs a name (it was given an empty one)")
    return kind, name.strip()


def _since_seconds(text: str) -> float:
    from meshdesk.sources.prometheus import parse_duration

    seconds = parse_duration(text)
    if seconds is None or seconds <= 0:
        raise _UsageError(f"--since {text!r} is no time span: give a number and a unit, e.g. 30s, 15m, 1h or 2d")
    if seconds > MAX_SINCE_S:
        raise _UsageError(f"--since {text}: at most 30 days")
    return seconds


def _tags(given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for text in given:
        key, eq, value = text.partition("=")
        if not eq or not key.strip():
            raise _UsageError(f"--tag {text!r}: give it as KEY=VALUE, e.g. http.method=POST")
        out[key.strip()] = value
    return tuple(out.items())


def _open(a: argparse.Namespace, clock: Callable[[], float]) -> Any:
    """The mesh source the traces come from: the demo, or the context with its saved tracing settings.
    ``clock``: this machine's clock, given to a live cluster's source."""
    if a.demo:
        from meshdesk.sources.demo import DemoCluster

        return DemoCluster()
    from meshdesk.sources.cluster import open_source
    from meshdesk.sources.httpapi import safe_url, url_problem
    from meshdesk.sources.kubeconfig import load_kubeconfig
    from meshdesk.store.settings import load_settings

    url: str | None = a.tracing
    auth: dict[str, Any] | None = None
    if url:
        problem = url_problem(url)
        if problem:
            raise _UsageError(f"--tracing {safe_url(url)!r}: {problem}")
    if url and a.app and a.namespace and not (a.context or a.kubeconfig):
        # an app's traces at a given address need no cluster: none is opened (there may be no kubeconfig)
        from meshdesk.sources.cluster import ClusterSource

        given: dict[str, Any] = {}
        if a.tracing_ca:
            given["ca_bundle"] = a.tracing_ca
        if a.tracing_insecure:
            given["insecure"] = True
        return ClusterSource(None, context="", tracing_url=url, tracing_auth=given, timeout=a.timeout,
                             tracing_api=a.tracing_api, clock=clock)
    kubeconfig = load_kubeconfig(a.kubeconfig, log_problems=False)
    for broken in kubeconfig.problems:
        print(f"{PROG}: warning: {broken}", file=sys.stderr)
    context = a.context or kubeconfig.context(None).name
    a.shown_context = context  # a rejected login is said with it (``naming_context``)
    settings = load_settings(log_problems=False)
    for w in settings.warnings:
        print(f"{PROG}: warning: {w}", file=sys.stderr)
    saved = settings.context_settings(context)
    # the API saved goes with the address saved (or the search in the cluster), not with another one given
    saved_api = saved.tracing_api if not url or url.rstrip("/") == (saved.tracing_url or "").rstrip("/") else ""
    if not url:
        url, auth = saved.tracing_url or None, saved.tracing_auth or None
        problem = url_problem(url) if url else ""
        if problem:
            from meshdesk.store.paths import settings_file

            raise ConfigError(f"the tracing URL saved for context {context} ({safe_url(url or '')!r}, in "
                              f"{settings_file()}) cannot be used: {problem}",
                              hint="correct it in the app's Settings for this context, or give one with --tracing URL")
    elif saved.tracing_url and saved.tracing_url.rstrip("/") == url.rstrip("/"):
        auth = saved.tracing_auth or None  # the address saved: its credentials go with it, never elsewhere
    if a.tracing_ca or a.tracing_insecure:
        if not url:
            raise _UsageError("--tracing-ca and --tracing-insecure are for a tracing URL (--tracing URL, or one "
                              "saved in Settings); one found in the cluster is reached through the API server")
        extra: dict[str, Any] = dict(auth or {})
        if a.tracing_ca:
            extra["ca_bundle"] = a.tracing_ca
        if a.tracing_insecure:
            extra["insecure"] = True
        auth = extra
    # the cluster is asked only for what needs it (a workload's app label, the search for the backend): with
    # an app and a tracing URL, an unreachable cluster does not stop the traces
    # the Prometheus saved for the context is the one asked for the cluster's present
    source = open_source(kubeconfig=a.kubeconfig, context=a.context or None, timeout=a.timeout,
                         prometheus_url=saved.prometheus_url or None, prometheus_auth=saved.prometheus_auth or None,
                         prometheus_scope=saved.prometheus_scope,
                         log_problems=False, tracing_url=url, tracing_auth=auth, check=not (url and a.app),
                         tracing_api=a.tracing_api or saved_api or None, clock=clock)
    if not a.namespace and not source.default_namespace:
        source.close()
        raise _UsageError("name the namespace with --namespace (the context has none of its own)")
    return source


def _inventory(source: Any, namespace: str) -> Any:
    api = getattr(source, "api", None)
    if api is not None:
        from meshdesk.sources.inventory import read_inventory

        return read_inventory(api, [namespace], cluster=getattr(source, "cluster", ""),
                              timeout=float(getattr(source, "timeout", 30.0)), with_optional_istio=False)
    from meshdesk.mesh.request import GraphRequest

    return source.snapshot(GraphRequest(namespaces=(namespace,))).inventory


def _check_namespace(inv: Any, namespace: str) -> None:
    """A namespace the cluster does not have (a typo) is said as such: its search finds nothing, which was
    said as no traces sampled. Only when the cluster's namespaces could be listed."""
    listed = getattr(inv, "cluster_namespaces", None)
    if inv is not None and listed and namespace not in listed and inv.namespace(namespace) is None:
        raise _UsageError(f"there is no namespace {namespace} in the cluster")


def _resolve(source: Any, kind: str, name: str, namespace: str) -> tuple[TraceTarget, bool]:
    """The target with the app its traces are kept under (a workload's app label; for a service, the app
    of the workloads it selects, else its own name) and, in an ambient namespace, the waypoint that
    reports its requests (its traces are that waypoint's, as the Traces dock asks them); and whether the
    cluster answered (an app's namespace that could not be read: its Prometheus is not looked for after)."""
    from meshdesk.mesh.ambient_checks import (
        app_waypoint,
        waypoint_for,
        waypoint_not_running,
        workload_waypoint,
    )

    def target(lookup: str, way: tuple[str, str]) -> TraceTarget:
        """An ambient target's waypoint that does not run (or serves no one) is taken as none, as Kiali
        takes it: its app's traces are asked for, and why they cannot be there is said."""
        missing = waypoint_not_running(inv, namespace, way)
        if missing:
            print(f"{PROG}: warning: {kind} {namespace}/{name} is in ambient mode, but {missing}: its pods have no "
                  f"proxy of their own and no waypoint reports its requests, so nothing makes its spans; asking "
                  f"for the traces of the app {lookup}", file=sys.stderr)
            return TraceTarget(kind, namespace, name, lookup)
        return TraceTarget(kind, namespace, name, lookup, *way)

    inv: Any = None
    if kind == TARGET_APP:
        if getattr(source, "api", True) is None:  # no cluster: nothing to tell an ambient app by
            return TraceTarget(kind, namespace, name, name), True
        try:
            inv = _inventory(source, namespace)
        except SourceError as e:  # the app's traces do not need the cluster: said, and asked for anyway
            print(f"{PROG}: warning: the namespace {namespace} could not be read ({e.message}); if it is in ambient "
                  "mode its waypoint's traces are not asked for", file=sys.stderr)
            return TraceTarget(kind, namespace, name, name), False
        _check_namespace(inv, namespace)
        return target(name, app_waypoint(inv, namespace, name)), True
    inv = _inventory(source, namespace)
    if inv is None:
        return TraceTarget(kind, namespace, name, name), True
    _check_namespace(inv, namespace)
    # what RBAC hid of the kinds the target is found among (not, say, EndpointSlices)
    kinds = ("services",) if kind == TARGET_SERVICE else (
        "deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "pods")
    hidden = "; ".join(f"{where}: {why}" for where, why in sorted(inv.hidden.items())
                       if where.rsplit("/", 1)[-1] in kinds)
    if kind == TARGET_WORKLOAD:
        w = next((w for w in inv.workloads if w.namespace == namespace and w.name == name), None)
        if w is None:
            if hidden:  # you may not read it: its app is taken to be its name
                print(f"{PROG}: warning: the workload {name} could not be read ({hidden}); asking for the traces "
                      f"of the app {name}", file=sys.stderr)
                return target(name, waypoint_for(inv, namespace, [])), True
            raise _UsageError(f"there is no workload {name} in namespace {namespace}")
        return target(w.app or name, workload_waypoint(inv, w)), True
    svc = next((s for s in inv.services if s.namespace == namespace and s.name == name), None)
    if svc is None:
        if hidden:
            print(f"{PROG}: warning: the service {name} could not be read ({hidden}); asking for the traces "
                  f"of the app {name}", file=sys.stderr)
            return target(name, waypoint_for(inv, namespace, [])), True
        raise _UsageError(f"there is no service {name} in namespace {namespace}")
    apps = sorted({w.app for w in inv.workloads if w.namespace == namespace and w.app and w.pods
                   and svc.selector and all(w.labels.get(k) == v for k, v in svc.selector.items())})
    return target(apps[0] if apps else name, waypoint_for(inv, namespace, [svc.labels])), True


def _start_text(us: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(us / 1e6)) + f".{(us // 1000) % 1000:03d}Z"


def render_table(found: TraceSet) -> str:
    if not found.traces:
        return ""  # no header over nothing: main says there are none, on stderr
    rows = [("START (UTC)", "NAME", "DURATION", "SPANS", "ERRORS", "TRACE ID")]
    for t in found.traces:
        rows.append((_start_text(t.start_us), t.name, trace_duration_text(t),
                     f"{t.span_count} matched" if t.partial else str(t.span_count), str(t.errors), t.trace_id))
    widths = [max(text_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(padded(c, widths[i]) for i, c in enumerate(r)).rstrip() + "\n" for r in rows)


def _trace_json(t: Trace) -> dict[str, Any]:
    # an outlined trace (Tempo's search): its duration to the millisecond, its spans and errors those that
    # matched the search
    return {"traceID": t.trace_id, "start": _start_text(t.start_us), "startUs": t.start_us, "name": t.name,
            "durationUs": t.duration_us, "spans": t.span_count, "errors": t.errors, "services": list(t.services),
            "partial": t.partial}


def render_json(found: TraceSet, target: TraceTarget) -> str:
    doc = {"target": {"kind": target.kind, "namespace": target.namespace, "name": target.name,
                      "app": target.lookup, **({"waypoint": target.waypoint} if target.waypoint else {})},
           "service": found.service, "limited": found.limited, "traces": [_trace_json(t) for t in found.traces]}
    return json.dumps(doc, indent=2) + "\n"


def main(argv: Sequence[str] | None = None, clock: Callable[[], float] = time.time) -> int:
    """``clock``: this machine's clock (unix seconds), where the search window ends for a cluster none of whose
    servers told its time (a test gives one that is off)."""
    parser = _parser()
    a = parser.parse_args(list(argv) if argv is not None else None)
    a.json = wants_json(parser, a)
    kind, name = _target(a, parser)
    if a.demo and (a.context or a.kubeconfig or a.tracing or a.tracing_ca or a.tracing_insecure or a.tracing_api):
        parser.error("--demo is the built-in mesh; it cannot be combined with "
                     "--context/--kubeconfig/--tracing/--tracing-api")
    if not 0 < a.timeout < 86400:
        parser.error("--timeout must be a positive number of seconds (under a day)")
    if not 1 <= a.limit <= MAX_LIMIT:
        parser.error(f"--limit must be 1 to {MAX_LIMIT}")
    if not 0 <= a.min_duration <= MAX_MIN_DURATION_MS:  # NaN and infinity too
        parser.error(f"--min-duration must be a number of milliseconds from 0 to {MAX_MIN_DURATION_MS} (30 days)")
    if a.namespace is not None and not a.namespace.strip():
        parser.error("--namespace needs a name (it was given an empty one)")
    if a.demo and not a.namespace:
        parser.error("name the namespace with --namespace")
    from meshdesk.sources.perf import tracing_source_for

    try:
        since = _since_seconds(a.since)
        tags = _tags(a.tag)
        if a.errors and any(k == "error" and v != "true" for k, v in tags):
            # Jaeger's tags took error=true over it without a word; through Tempo nothing matched both
            raise _UsageError("--errors asks for error=true: it cannot go with --tag error=" +
                              next(v for k, v in tags if k == "error"))
        source = _open(a, clock)
        try:
            traces = tracing_source_for(source)
            if traces is None:
                raise _UsageError("the demo mesh has no traces in this build" if a.demo else "no tracing source")
            namespace = (a.namespace or getattr(source, "default_namespace", "")).strip()
            target, answered = _resolve(source, kind, name, namespace)
            # a live cluster's window ends at its present (Prometheus' clock, else the API server's or the
            # tracing backend's), as the app's Traces dock's does: this machine's clock hours behind listed none
            # of the traces of the last minutes (Prometheus is not looked for when the cluster did not answer)
            ask_now = getattr(source, "ask_now", None)
            end = float(ask_now(cluster=answered)) if callable(ask_now) else clock()
            query = TraceQuery(target, end - since, end, limit=a.limit, min_duration_ms=a.min_duration,
                               errors_only=a.errors, tags=tags)
            found = traces.find_traces(query)
            how = getattr(source, "tracing_how", None)
            if callable(how):
                print(f"{PROG}: tracing backend: {how()}", file=sys.stderr)
        finally:
            source.close()
    except ConfigError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return exit_code(e)
    except _UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except SourceError as e:
        print(f"{PROG}: {naming_context(e, getattr(a, 'shown_context', ''))}", file=sys.stderr)
        return 1
    sys.stdout.write(render_json(found, target) if a.json else render_table(found))
    sys.stdout.flush()  # the table before what is said on stderr, when both go to one terminal or file
    if not found.traces:
        what = "failed " if a.errors else ""
        longer = f" with a span of {a.min_duration:g} ms or more" if a.min_duration else ""
        if tags:
            longer += " tagged " + ", ".join(f"{k}={v}" for k, v in tags)
        print(f"{PROG}: no {what}traces of {target.kind} {target.namespace}/{target.name}{longer} in the last "
              f"{a.since} (traces are sampled: Istio keeps 1 request in 100 by default)", file=sys.stderr)
    for message in found.errors:
        print(f"{PROG}: the tracing backend said: {message}", file=sys.stderr)
    for message in found.notes:
        print(f"{PROG}: {message}", file=sys.stderr)
    if found.skipped:
        print(f"{PROG}: warning: {found.skipped} span(s) or trace(s) could not be read and are left out",
              file=sys.stderr)
    if any(t.partial for t in found.traces):
        print(f"{PROG}: as Tempo's search outlines the traces: DURATION to the millisecond, SPANS and ERRORS "
              f"counting the spans of {found.service} that matched", file=sys.stderr)
    if found.limited:
        print(f"{PROG}: the newest {a.limit} of {target.jaeger_service()}'s traces were asked for; there may be "
              "more (--limit, --since)", file=sys.stderr)
    return 0
