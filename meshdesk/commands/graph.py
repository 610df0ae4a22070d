"""``meshdesk graph``: build the traffic graph headless and print it (Kiali JSON, JSON, DOT, table).

The data comes from a snapshot file (``--snapshot``), the demo mesh (``--demo``) or a live cluster
(``--context``/``--kubeconfig``/``--prometheus``; with none of them, the kubeconfig's current context). Options given on the command line override the
snapshot's request. Exit codes: 0 ok, 1 the source failed (its login too: ``commands.exit_code``) or the output (stdout, ``--save-snapshot``)
could not be written (one plain line on stderr), 2 bad usage or a bad file.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from meshdesk.commands import (
    CommandParser,
    add_all_namespaces_option,
    exit_code,
    naming_context,
    refuse_all_with_some,
    timeout_seconds,
)
from meshdesk.mesh.request import (
    AMBIENT_TRAFFIC,
    GRAPH_TYPES,
    MAX_SECONDS,
    RATE_GRPC,
    RATE_HTTP,
    RATE_TCP,
    GraphRequest,
    NodeFocus,
    scope_text,
    split_names,
)
from meshdesk.mesh.words import short_name, short_words
from meshdesk.sources.base import ConfigError, SnapshotWriteError, SourceError

FORMATS = ("table", "kiali", "json", "dot")
# the node-graph options that name something: an empty name is a mistake (an unset shell variable), not
# "no focus" (it drew the whole namespace without a word)
_NODE_NAMES = (("node_workload", "--node-workload"), ("node_app", "--node-app"), ("node_version", "--node-version"),
               ("node_service", "--node-service"), ("node_cluster", "--node-cluster"),
               ("node_operation", "--node-operation"))


def _seconds_option(text: str) -> int:
    """``--duration``: a positive whole number of seconds, or a time span with its units as Prometheus
    writes them (``10m``, ``2h``, ``1h30m``: as ``traces --since`` takes them), at most what a snapshot's
    reader takes (:data:`MAX_SECONDS`). A larger one was accepted and written into a snapshot the reader
    then refused, and printed as the Kiali JSON's duration."""
    from meshdesk.sources.prometheus import parse_duration

    try:
        value = int(text)
    except ValueError:
        seconds = parse_duration(text) if len(text) <= 30 else None
        if seconds is None or seconds != int(seconds):
            raise argparse.ArgumentTypeError(f"must be a whole number of seconds or a time span (10m, 2h, 1h30m), "
                                             f"not {text if len(text) <= 30 else text[:20] + '...'!r}") from None
        value = int(seconds)
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be a positive whole number of seconds up to {MAX_SECONDS:.0e}, "
                                         f"not {text if len(text) <= 30 else text[:20] + '...'}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = CommandParser(prog="meshdesk graph", description="Build the traffic graph and print it.")
    src = p.add_argument_group("where the data comes from (one of)")
    src.add_argument("--snapshot", metavar="FILE", help="a snapshot file (offline; - reads standard input)")
    src.add_argument("--demo", action="store_true", help="the built-in demo mesh")
    src.add_argument("--context", action="append",
                     help="kubeconfig context of a live cluster (default: the current one, as with kubectl, when "
                          "no other source is given); given again, another cluster of the same mesh, whose "
                          "workloads and config are read beside the first's (default: the contexts linked to it "
                          "in Settings)")
    src.add_argument("--kubeconfig", help="kubeconfig file(s), like kubectl's --kubeconfig")
    src.add_argument("--prometheus", metavar="URL", help="Prometheus URL (default: found in the cluster)")
    src.add_argument("--prometheus-ca", metavar="FILE",
                     help="CA bundle (PEM) to verify an https Prometheus URL's certificate (given or saved)")
    src.add_argument("--prometheus-insecure", action="store_true",
                     help="do not verify an https Prometheus URL's certificate (a self-signed one)")
    src.add_argument("--prometheus-scope", action="append", metavar="LABEL=VALUE",
                     help="keep every Prometheus query to the series with this label, as Kiali's query_scope does "
                          "for a Prometheus holding several meshes' or clusters' telemetry (repeatable; default: "
                          "the scope saved in Settings for the context's Prometheus; '' for none)")
    src.add_argument("--timeout", type=timeout_seconds, default=30.0, metavar="SECONDS",
                     help="per API call and Prometheus query, in seconds or with a unit (30s, 2m; default 30), as "
                          "inventory and validate take it")
    p.add_argument("--format", "-o", "--output", choices=FORMATS, default="table", metavar="FORMAT",
                   help="output format: table (the default), kiali (Kiali's graph JSON), json or dot")
    p.add_argument("--save-snapshot", metavar="FILE", help="also write the snapshot the graph came from")
    g = p.add_argument_group("graph request (overrides the snapshot's)")
    g.add_argument("--graph-type", choices=GRAPH_TYPES)
    g.add_argument("--namespace", "-n", action="append", help="namespace to graph (repeatable)")
    add_all_namespaces_option(g, "graph every namespace you may list, not only those in the mesh (the default)")
    g.add_argument("--inject-service-nodes", dest="inject", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--include-idle-edges", dest="idle_edges", action=argparse.BooleanOptionalAction,
                   default=None)
    g.add_argument("--include-idle-nodes", dest="idle_nodes", action=argparse.BooleanOptionalAction,
                   default=None)
    g.add_argument("--rate-http", choices=RATE_HTTP)
    g.add_argument("--rate-grpc", choices=RATE_GRPC)
    g.add_argument("--rate-tcp", choices=RATE_TCP)
    g.add_argument("--ambient-traffic", dest="ambient", choices=AMBIENT_TRAFFIC,
                   help="Istio ambient telemetry to graph: waypoint and ztunnel reports (total, the default), "
                        "one of them, or none")
    g.add_argument("--waypoints", dest="waypoints", action=argparse.BooleanOptionalAction, default=None,
                   help="show ambient waypoints as nodes (default) or leave them out")
    g.add_argument("--duration", type=_seconds_option, metavar="SPAN",
                   help="the time window of the traffic: seconds, or 10m, 2h, 1h30m (default 600 s)")
    g.add_argument("--box-by", action="append", choices=("app", "namespace", "cluster"))
    g.add_argument("--appenders", help="comma-separated passes to run (default: all)")
    g.add_argument("--response-time", dest="quantile", choices=("avg", "0.5", "0.95", "0.99"))
    g.add_argument("--throughput", dest="throughput", choices=("request", "response"))
    g.add_argument("--node-workload", metavar="NAME", help="node-detail graph of this workload")
    g.add_argument("--node-app", metavar="NAME", help="node-detail graph of this app")
    g.add_argument("--node-version", metavar="VERSION", help="with --node-app: of this version")
    g.add_argument("--node-service", metavar="NAME", help="node-detail graph of this service")
    g.add_argument("--node-cluster", metavar="NAME",
                   help="with --node-workload/-app/-service: keep the node graph to this cluster's traffic")
    g.add_argument("--node-operation", metavar="VALUE",
                   help="node-detail graph of this operation (request_operation value; with --node-service: "
                        "of that service's)")
    g.add_argument("--extensions", action="append", metavar="NAME[,NAME]",
                   help="graph the traffic of these Kiali extensions (e.g. skupper) from their kiali_ext_* "
                        "series, as a Kiali configured with them enabled does (repeatable; '' for none)")
    g.add_argument("--health-config", metavar="FILE",
                   help="judge health by the health_config.rate of this Kiali configuration (its CR, its "
                        "ConfigMap or config.yaml, e.g. <(kubectl get kiali -A -o yaml)); '' for Kiali's defaults")
    return p


def _override(req: GraphRequest, a: argparse.Namespace) -> GraphRequest:
    kw: dict[str, Any] = {}
    simple = {"graph_type": "graphType", "inject": "injectServiceNodes", "idle_edges": "includeIdleEdges",
              "idle_nodes": "includeIdleNodes", "rate_http": "rateHttp", "rate_grpc": "rateGrpc",
              "rate_tcp": "rateTcp", "duration": "duration", "quantile": "responseTimeQuantile",
              "throughput": "throughputType", "ambient": "ambientTraffic", "waypoints": "showWaypoints"}
    for attr, field in simple.items():
        value = getattr(a, attr)
        if value is not None:
            kw[field] = value
    if a.namespace:
        kw["namespaces"] = tuple(split_names(a.namespace))
    if a.box_by:
        kw["boxBy"] = tuple(a.box_by)
    if a.health_config is not None:
        kw["healthRates"] = _health_rates(a.health_config)
    if a.extensions is not None:
        kw["extensions"] = tuple(split_names(a.extensions))
    if a.appenders is not None:
        from meshdesk.mesh.graph.builder import known_appenders

        kw["appenders"] = tuple(x.strip() for x in a.appenders.split(",") if x.strip())
        unknown = [x for x in kw["appenders"] if x not in known_appenders()]
        if unknown:  # a typo ran no pass at all without a word
            raise ValueError(f"--appenders: unknown {', '.join(repr(x) for x in unknown)} "
                             f"(known: {', '.join(sorted(set(known_appenders())))})")
    if a.node_operation is not None and (not a.node_operation or a.node_workload or a.node_app or a.node_cluster):
        raise ValueError("--node-operation needs an operation's name, and goes with --node-service alone")
    if a.node_cluster and not (a.node_workload or a.node_app or a.node_service):
        raise ValueError("--node-cluster goes with --node-workload, --node-app or --node-service")
    if sum(bool(x) for x in (a.node_workload, a.node_app, a.node_service)) > 1:
        raise ValueError("a node-detail graph is of one node: give one of --node-workload, --node-app or "
                         "--node-service")
    if a.node_version is not None and not a.node_app:
        raise ValueError("--node-version goes with --node-app")
    if a.node_workload or a.node_app or a.node_service or a.node_operation:
        namespaces = kw.get("namespaces") or req.namespaces
        if len(namespaces) != 1:
            raise ValueError("a node-detail graph needs exactly one --namespace")
        aggregate = None
        if a.node_operation:
            aggregate = str(req.extra.get("aggregate") or "request_operation")
        kw["node"] = NodeFocus(namespace=namespaces[0], workload=a.node_workload, app=a.node_app,
                               version=a.node_version, service=a.node_service, aggregate=aggregate,
                               aggregateValue=a.node_operation or None, cluster=a.node_cluster or None)
    return dataclasses.replace(req, **kw) if kw else req


def _health_rates(path: str) -> tuple[dict[str, Any], ...]:
    """The rates of ``--health-config FILE`` (a file, or a pipe: ``<(kubectl get kiali -A -o yaml)``); ""
    is none (Kiali's defaults, over a snapshot's own rates). Raises ValueError naming the file and the
    problem."""
    if not path:
        return ()
    from meshdesk.fileio import read_piped_file
    from meshdesk.mesh.health_rates import read_health_config

    try:
        data = read_piped_file(path)
    except OSError as e:
        raise ValueError(f"--health-config {short_name(path)}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"--health-config {short_name(path)}: not text (a Kiali configuration is YAML)") from None
    rates, problems = read_health_config(text)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ValueError(f"--health-config {short_name(path)}: {short_words(problems[0])}{more}")
    if not rates:
        raise ValueError(f"--health-config {short_name(path)}: its health_config.rate is empty (give '' for "
                         "Kiali's defaults)")
    return tuple(rates)


# options that choose what is queried: a snapshot holds the samples of its own choice only
_QUERIED = {"rate_http": ("--rate-http", "rateHttp"), "rate_grpc": ("--rate-grpc", "rateGrpc"),
            "rate_tcp": ("--rate-tcp", "rateTcp"), "quantile": ("--response-time", "responseTimeQuantile"),
            "throughput": ("--throughput", "throughputType"), "duration": ("--duration", "duration")}


def _same_data(saved: GraphRequest, a: argparse.Namespace) -> None:
    """Refuse an option asking a snapshot for other data than it was queried for (another TCP rate,
    quantile, throughput kind or time window, or idle edges it was taken without): built anyway, its
    numbers would be wrong or its idle edges silently missing."""
    for attr, (option, field) in _QUERIED.items():
        value = getattr(a, attr)
        if value is not None and value != getattr(saved, field):
            raise ValueError(f"{option} {value}: the snapshot holds the data of {field} {getattr(saved, field)} "
                             "only (take a new one with that choice)")
    if a.extensions is not None:
        # an extension's series are queried only when it is enabled: a snapshot taken without it has none
        missing = [x for x in split_names(a.extensions) if x not in saved.extensions]
        if missing:
            raise ValueError(f"--extensions {','.join(missing)}: the snapshot was taken without "
                             f"{'that extension' if len(missing) == 1 else 'those extensions'}, so it holds none "
                             "of its traffic (take a new one with that --extensions)")
    if a.idle_edges and not saved.includeIdleEdges:
        # idle edges come from samples of no traffic, which a query without them leaves out
        raise ValueError("--include-idle-edges: the snapshot was taken without idle edges, so it holds none "
                         "(take a new one with --include-idle-edges)")


def _same_scope(saved: GraphRequest, asked: GraphRequest, samples: Sequence[Any] = ()) -> None:
    """Refuse namespaces, or a node graph, a snapshot was not taken for: it holds no samples of them, so
    the graph would say "no traffic" where there may be plenty (and ``--save-snapshot`` would write that
    request beside the other namespaces' samples). A snapshot whose request names no namespace holds the
    traffic of every namespace its telemetry has workloads in (``samples``): it was refused every -n,
    "the snapshot holds namespaces none only"."""
    held = tuple(saved.namespaces)
    if not held:
        from meshdesk.mesh.graph import traffic

        held = traffic.namespaces_in(traffic.index_samples(samples, saved))
    missing = [ns for ns in asked.namespaces if ns not in held]
    if missing:
        raise ValueError(f"--namespace {','.join(missing)}: the snapshot holds namespace"
                         f"{'s' if len(held) != 1 else ''} {', '.join(held) or 'none'} "
                         "only (take a new one with those namespaces)")
    if saved.node is not None and asked.node != saved.node:
        raise ValueError(f"the snapshot holds the node graph of {_focus_name(saved.node)} only (a node graph's "
                         "snapshot has that node's traffic alone; take one of the namespace for other graphs)")


def _focus_name(node: NodeFocus) -> str:
    if node.aggregateValue:
        what = f"operation {node.aggregateValue}" + (f" of service {node.service}" if node.service else "")
    elif node.workload:
        what = f"workload {node.workload}"
    elif node.service:
        what = f"service {node.service}"
    else:
        what = f"app {node.app}" + (f" version {node.version}" if node.version else "")
    return f"{what} in {node.namespace}"


def _scope_option(given: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``--prometheus-scope LABEL=VALUE...`` as (label, value) pairs; '' alone is none. Raises ValueError."""
    from meshdesk.mesh.request import query_scope

    items = [g for g in given if g]
    try:
        return query_scope(items)
    except ValueError as e:
        raise ValueError(f"--prometheus-scope: {short_words(str(e))}") from None


def _live_source(a: argparse.Namespace) -> tuple[Any, tuple[dict[str, Any], ...], str, tuple[str, ...]]:
    """The source to graph, with the health tolerances saved in Settings for its context (its own, else the
    general ones: as the app judges it; none for the demo), that context's name and the Kiali extensions
    enabled in its Settings (as the app graphs them)."""
    if a.demo:
        try:
            from meshdesk.sources.demo import DemoCluster
        except ImportError:
            raise _Unavailable("the demo mesh is not available in this build (meshdesk.sources.demo)") from None
        return DemoCluster(), (), "", ()
    try:
        from meshdesk.sources.cluster import open_source
        from meshdesk.sources.kubeconfig import load_kubeconfig
        from meshdesk.store.settings import load_settings
    except ImportError:
        raise _Unavailable("live clusters are not available in this build (meshdesk.sources.cluster)") from None
    url, auth, scope = a.prometheus, None, None
    from meshdesk.sources.prometheus import check_url, safe_url, url_problem

    if url:
        with _usage():
            check_url(url)  # before the cluster is contacted: a typo is the user's to mend (exit code 2)
        given_problem = url_problem(url)
        if given_problem:  # a port out of range was blamed on "Settings for this context"
            raise _UsageError(f"--prometheus {safe_url(url)!r}: {given_problem}")
    # as the app opens the context: the Prometheus address and credentials saved in its Settings
    kubeconfig = load_kubeconfig(a.kubeconfig, log_problems=False)
    for problem in kubeconfig.problems:  # a broken file passed over: said once, as the command's warnings
        print(f"meshdesk graph: warning: {problem}", file=sys.stderr)
    if not kubeconfig.files and not a.kubeconfig and a.context is None:
        # nothing named, and no kubeconfig to take the current context of: the other sources are offered
        looked = ", ".join(str(p) for p in kubeconfig.searched) or "nowhere"
        raise _UsageError(f"no kubeconfig found (looked at {looked}): set KUBECONFIG or pass --kubeconfig for a "
                          "cluster, or graph the built-in mesh with --demo or a snapshot with --snapshot FILE")
    context = a.context or kubeconfig.context(None).name
    a.shown_context = context  # a rejected login is said with it (``naming_context``)
    settings = load_settings(log_problems=False)
    for w in settings.warnings:  # a corrupt file moved aside: said as the command's other warnings
        print(f"meshdesk graph: warning: {w}", file=sys.stderr)
    saved = settings.context_settings(context)
    if not url:
        url, auth, scope = saved.prometheus_url or None, saved.prometheus_auth or None, saved.prometheus_scope
        saved_problem = url_problem(url) if url else ""
        if saved_problem:
            # a settings file edited by hand (the Settings dialog refuses such an address): said with
            # where it was set, as the user's to mend (it was exit 1, "the graph could not be built")
            from meshdesk.store.paths import settings_file

            raise ConfigError(f"the Prometheus URL saved for context {context} ({safe_url(url or '')!r}, in "
                              f"{settings_file()}) cannot be used: {saved_problem}",
                              hint="correct it in the app's Settings for this context, or give one with "
                                   "--prometheus URL")
    elif saved.prometheus_url and saved.prometheus_url.rstrip("/") == url.rstrip("/"):
        # --prometheus naming the address saved for this context: its saved token, password, tenant
        # header or CA go with it (they were left behind, and the query was refused with 401); another
        # address is never sent them
        auth, scope = saved.prometheus_auth or None, saved.prometheus_scope
    if a.prometheus_scope is not None:
        with _usage():
            scope = _scope_option(a.prometheus_scope)
    elif scope:
        # read as the app reads this context (another mesh's or cluster's series were summed in the terminal)
        print(f"meshdesk graph: Prometheus is asked for the series of the query scope saved in Settings for context "
              f"{context} only ({scope_text(scope)}; --prometheus-scope '' for all)", file=sys.stderr)
    if a.prometheus_ca or a.prometheus_insecure:
        if not url:
            raise _UsageError("--prometheus-ca and --prometheus-insecure are for a Prometheus URL (--prometheus URL, "
                              "or one saved in Settings); one found in the cluster is reached through the API server")
        auth = dict(auth or {})
        if a.prometheus_ca:
            auth["ca_bundle"] = a.prometheus_ca
        if a.prometheus_insecure:
            auth["insecure"] = True
    # the other clusters of its mesh: those given after it, else those linked to it in Settings (their names
    # as given there)
    names = dict(saved.mesh_contexts)
    linked = [(c, names.get(c, "")) for c in a.contexts[1:] if c] if len(a.contexts) > 1 else list(saved.mesh_contexts)
    source = open_source(kubeconfig=a.kubeconfig, context=a.context or None, prometheus_url=url,
                         prometheus_auth=auth, timeout=a.timeout, log_problems=False,
                         cluster=saved.cluster_name or None, linked=linked, prometheus_scope=scope or ())
    return source, settings.health_rates_for(context), context, tuple(saved.extensions)


class _Unavailable(Exception):
    pass


def _service_entry_focus(snap: Any) -> str:
    """Why a node graph of ``--node-service NAME`` is empty when NAME is a ServiceEntry of the namespace
    and no Service, with how to see its requests; "" otherwise."""
    from meshdesk.mesh.node_focus import service_entry_focus

    why = service_entry_focus(snap.request.node, snap.inventory)
    if not why:
        return ""
    ns = snap.request.node.namespace
    return f"{why}. Graph namespace {ns} (without --node-service) to see the requests to its hosts"


def _missing_focus(snap: Any) -> str:
    """Why a node graph is empty when its workload, app or service is not in the namespace's inventory
    (shared with the window's empty page)."""
    from meshdesk.mesh.node_focus import missing_focus

    return missing_focus(snap.request.node, snap.inventory)


def _render(graph: Any, fmt: str) -> str:
    from meshdesk.mesh import export

    if fmt == "kiali":
        return json.dumps(export.to_kiali(graph), indent=1) + "\n"
    if fmt == "json":
        return json.dumps(export.to_json(graph), indent=1) + "\n"
    if fmt == "dot":
        return export.to_dot(graph)
    return export.to_table(graph)


class _UsageError(Exception):
    """A mistake in what the user asked for: exit 2, like argparse's errors."""


@contextlib.contextmanager
def _usage() -> Iterator[None]:
    """A ValueError raised while reading the options is a usage error; elsewhere it is not."""
    try:
        yield
    except ValueError as e:
        raise _UsageError(str(e)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    a = parser.parse_args(list(argv) if argv is not None else None)
    # the first --context is the one graphed (its Prometheus, its writes); the others are its mesh's clusters
    a.contexts = list(a.context or ())
    a.context = a.contexts[0] if a.contexts else None
    refuse_all_with_some(parser, a)
    # nothing named is the kubeconfig's current context, as kubectl (and meshdesk inventory, validate and
    # traces) take it: `meshdesk graph -n shop` was refused with "say where the data comes from"; --context ""
    # (an unset shell variable) is the current context too
    named = a.demo or a.context is not None or a.kubeconfig or a.prometheus
    live = not a.snapshot
    if a.snapshot is not None and not a.snapshot.strip():
        parser.error("--snapshot needs a file name")
    if a.snapshot and named:
        parser.error("--snapshot reads a file; it cannot be combined with --demo/--context/--kubeconfig/--prometheus")
    if a.demo and (a.context or a.kubeconfig or a.prometheus):
        parser.error("--demo is the built-in mesh; it cannot be combined with --context/--kubeconfig/--prometheus")
    if a.demo and a.prometheus_scope is not None:
        parser.error("--prometheus-scope is for a live cluster's Prometheus; --demo asks no Prometheus")
    if (a.snapshot or a.demo) and (a.prometheus_ca or a.prometheus_insecure):
        # they were ignored without a word (exit 0), as if the certificate had been checked with them
        parser.error(f"--prometheus-ca and --prometheus-insecure are for a live cluster's Prometheus; "
                     f"{'--snapshot' if a.snapshot else '--demo'} asks no Prometheus")
    if not 0 < a.timeout < 86400:  # NaN and infinity too
        parser.error("--timeout must be a positive number of seconds (under a day)")
    if a.save_snapshot is not None and not a.save_snapshot.strip():
        parser.error("--save-snapshot needs a file name")
    if a.save_snapshot == "-":
        # "-" is standard output to most tools, and that is where the graph goes: a file named "-" in
        # the current folder is never what was meant
        parser.error("--save-snapshot needs a file name: '-' (standard output) is where the graph is printed")
    if a.save_snapshot is not None and a.save_snapshot.lower().endswith(".gz"):
        from meshdesk.sources.snapshot import GZIP_NAME_REFUSED

        parser.error(f"--save-snapshot {a.save_snapshot}: {GZIP_NAME_REFUSED}")
    for attr, option in _NODE_NAMES:
        value = getattr(a, attr)
        if value is not None and not value.strip():
            parser.error(f"{option} needs a name (it was given an empty one)")
    from meshdesk.mesh.graph import build
    from meshdesk.sources.snapshot import load_snapshot, save_snapshot

    try:
        if a.snapshot:
            snap = load_snapshot(a.snapshot)
            with _usage():
                _same_data(snap.request, a)
                if a.prometheus_scope is not None and _scope_option(a.prometheus_scope) != snap.request.queryScope:
                    # its samples are those its own scope selected: another cannot be read out of them
                    held = scope_text(snap.request.queryScope) or "none"
                    raise ValueError(f"--prometheus-scope: the snapshot was read with the query scope {held} "
                                     "(take a new one with that scope)")
                saved = snap.request
                snap.request = _override(snap.request, a)
                _same_scope(saved, snap.request, snap.samples)
        else:
            with _usage():
                base = GraphRequest(namespaces=tuple(a.namespace or ()))
                request = _override(base, a)
            source, saved_rates, context, saved_extensions = _live_source(a)
            if saved_extensions and a.extensions is None:
                # graphed as the app graphs this context (its extensions' traffic was missing in the terminal)
                request = dataclasses.replace(request, extensions=saved_extensions)
                print(f"meshdesk graph: the traffic of the Kiali extension{'s' if len(saved_extensions) != 1 else ''} "
                      f"{', '.join(saved_extensions)} enabled in Settings for context {context} is graphed "
                      "(--extensions '' for none)", file=sys.stderr)
            if saved_rates and a.health_config is None:
                # judged as the app judges this context (its health was another in the terminal)
                request = dataclasses.replace(request, healthRates=saved_rates)
                print(f"meshdesk graph: health judged by the {len(saved_rates)} health tolerance"
                      f"{'s' if len(saved_rates) != 1 else ''} saved in Settings for context {context} "
                      "(--health-config '' for Kiali's defaults)", file=sys.stderr)
            try:
                if not request.namespaces:
                    # as the app's first look: the namespaces in the mesh (injection, revision or ambient)
                    listed = source.namespaces()
                    if a.all_namespaces and getattr(source, "namespace_list_forbidden", False):
                        raise SourceError("-A: you may not list the cluster's namespaces (name those to graph "
                                          "with -n)")
                    if a.all_namespaces:
                        in_mesh = tuple(n.name for n in listed)
                    elif getattr(source, "namespace_list_forbidden", False):
                        # like kubectl: without the right to list namespaces, the context's own
                        in_mesh = tuple(n.name for n in listed)
                        print(f"meshdesk graph: you may not list namespaces; graphing {', '.join(in_mesh)} "
                              "(the context's namespace; pick others with -n)", file=sys.stderr)
                    else:
                        in_mesh = tuple(n.name for n in listed if n.in_mesh)
                    if not in_mesh:
                        raise _UsageError("no namespace is in the mesh (no istio-injection, istio.io/rev or "
                                         "ambient label): name one with --namespace")
                    request = dataclasses.replace(request, namespaces=in_mesh)
                snap = source.snapshot(request)
            finally:
                source.close()
            for name, why in sorted((snap.inventory.unread_clusters if snap.inventory else {}).items()):
                print(f"meshdesk graph: warning: cluster {name} of the mesh could not be read ({why}); its nodes "
                      "are graphed from the telemetry alone", file=sys.stderr)
        graph = build(snap)
        why = (_service_entry_focus(snap) or _missing_focus(snap)) if not graph.edges else ""
        if why:
            raise _UsageError(why)
        rendered = _render(graph, a.format)
        # saved only now that nothing else can fail: a run refused with exit 2 wrote the file anyway, over
        # whatever was there - over its own --snapshot input too, which then could never be graphed again.
        # Before the output is written, so a reader that goes early (| head) does not lose it.
        if a.save_snapshot is not None:
            save_snapshot(snap, a.save_snapshot)
    except SnapshotWriteError as e:  # an output not written, as stdout's (README: exit code 1)
        print(f"meshdesk graph: {e}", file=sys.stderr)
        return 1
    except ConfigError as e:
        print(f"meshdesk graph: {e}", file=sys.stderr)
        return exit_code(e)
    except (_Unavailable, _UsageError) as e:
        print(f"meshdesk graph: {e}", file=sys.stderr)
        return 2
    except SourceError as e:
        print(f"meshdesk graph: {naming_context(e, getattr(a, 'shown_context', ''))}", file=sys.stderr)
        return 1
    except ValueError as e:  # not the user's doing (a cluster object of an odd shape...): no "usage" exit
        print(f"meshdesk graph: the graph could not be built: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(rendered)
    if not rendered and a.format == "table":
        from meshdesk.mesh.export import NO_TRAFFIC

        # said, not printed: `| wc -l` counts 0 rows, as kubectl's "No resources found" on stderr
        print(f"meshdesk graph: {NO_TRAFFIC}", file=sys.stderr)
    if a.snapshot and snap.request.queryScope:
        # one mesh's or cluster's series of a shared Prometheus: said, as the reader may take it for all of them
        print(f"meshdesk graph: the snapshot's traffic was read with the Prometheus query scope "
              f"{scope_text(snap.request.queryScope)}", file=sys.stderr)
    if a.snapshot and snap.inventory is not None:
        from meshdesk.mesh.snapshot import inventory_read_apart

        apart = inventory_read_apart(snap.meta)
        if apart is not None:
            # saved while replaying: the traffic is of that moment, the workloads and config of another
            print(f"meshdesk graph: the snapshot's traffic is of {apart[0]}; its workloads and Istio config "
                  f"were read at {apart[1]}", file=sys.stderr)
    if snap.inventory is not None:
        # what RBAC kept from the inventory (a namespace's pods, VirtualServices...) is missing from the
        # graph's health, badges and idle nodes: said as meshdesk inventory and validate say it
        # (of a mesh of several clusters, each cluster's refusals named by it: west's are not east's)
        by_cluster = snap.inventory.hidden_by_cluster()
        for cluster, hidden in by_cluster:
            for where, why in sorted(hidden.items()):
                print(f"meshdesk graph: hidden: {where}{f' in cluster {cluster}' if len(by_cluster) > 1 else ''}: "
                      f"{why}", file=sys.stderr)
    for w in graph.warnings:  # skipped samples and the like: said on stderr, whatever the format
        print(f"meshdesk graph: warning: {w}", file=sys.stderr)
    if live and not a.demo and snap.inventory is not None \
            and not any(e.rate > 0 and not e.is_idle for e in graph.edges.values()):
        # as the app's empty state: what makes a live cluster's namespaces report traffic (not the output's
        # data, so on stderr, the commands indented to copy)
        from meshdesk.mesh.traffic_advice import no_traffic_advice

        for line in no_traffic_advice(snap.inventory, list(graph.request.namespaces)).lines():
            print(line if line.startswith("  ") else f"meshdesk graph: {line}", file=sys.stderr)
    return 0
