"""Which of the demo's series a live cluster's Prometheus would return for a graph request.

The live path asks Prometheus the queries of ``meshdesk.sources.telemetry.build_queries``; the demo
answers with the series those queries' selectors match, read from the same ``build_queries`` (each
query carries its selectors' label matchers), so the two cannot drift apart: whatever extra series a
live query asks for (the securityPolicy appender's destination-reported traffic leaving the
namespaces, an ambient namespace's callers' reports, ...) the demo returns too.

The demo's samples are the proxies' raw series, every metric family and every response-time stat,
not the sums one request's queries make: a family the request does not ask for (gRPC messages with
``rateGrpc="requests"``, the other throughput direction, an appender left out) is selected as the
live path selects it when asked, and the TCP connection counters, which no graph query reads, as the
TCP bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

from meshdesk.mesh import telemetry as tm
from meshdesk.mesh.request import GraphRequest
from meshdesk.mesh.telemetry import Sample
from meshdesk.sources import telemetry as live

_MATCHER = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"$', re.DOTALL)
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_SAME_SERIES_AS = {tm.TCP_OPENED: tm.TCP_SENT, tm.TCP_CLOSED: tm.TCP_SENT}

Matcher = Callable[[Mapping[str, str]], bool]


def _unquote(text: str) -> str:
    """The value of a PromQL string literal's body, as ``promql.quote`` writes it."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
        elif text[i + 1] == "u":
            out.append(chr(int(text[i + 2:i + 6], 16)))
            i += 6
        else:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
    return "".join(out)


def matcher(text: str) -> Matcher:
    """A test for ``label="v"``, ``label!="v"``, ``label=~"re"`` or ``label!~"re"`` as Prometheus
    applies it: a missing label is the empty string, a regular expression must match the whole value."""
    m = _MATCHER.match(text)
    if m is None:
        raise ValueError(f"not a label matcher: {text!r}")
    label, op, value = m.group(1), m.group(2), _unquote(m.group(3))
    if op == "=":
        return lambda labels: labels.get(label, "") == value
    if op == "!=":
        return lambda labels: labels.get(label, "") != value
    pattern = re.compile(value)
    if op == "=~":
        return lambda labels: pattern.fullmatch(labels.get(label, "")) is not None
    return lambda labels: pattern.fullmatch(labels.get(label, "")) is None


def _selector(matchers: Iterable[str]) -> Matcher:
    tests = [matcher(m) for m in matchers]
    return lambda labels: all(t(labels) for t in tests)


def live_selection(request: GraphRequest, namespaces: Iterable[str]) -> Callable[[Sample], bool]:
    """Whether a sample is one of the series the live queries for ``request`` over ``namespaces``
    would return (see the module docstring for the families the request does not ask for)."""
    base = replace(request, namespaces=tuple(namespaces))
    appenders = base.appenders
    if appenders is not None:
        appenders = (*appenders, live.RESPONSE_TIME, live.THROUGHPUT)
    # every family asked for; the traffic families' selectors do not depend on which rates are asked
    every = replace(base, rateHttp="requests", rateGrpc="total", rateTcp="total", appenders=appenders)
    other = "request" if base.throughputType == "response" else "response"
    by_metric: dict[str, list[tuple[str, ...]]] = {}
    for req in (every, replace(every, throughputType=other)):
        for q in live.build_queries(req):
            chosen = by_metric.setdefault(q.metric, [])
            chosen += [s for s in q.selectors if s not in chosen]
    tests = {metric: [_selector(sel) for sel in selectors] for metric, selectors in by_metric.items()}
    for metric, same in _SAME_SERIES_AS.items():
        tests.setdefault(metric, tests.get(same, []))

    def selected(sample: Sample) -> bool:
        return any(t(sample.labels) for t in tests.get(sample.metric, ()))

    return selected
