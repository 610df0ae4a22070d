"""PromQL escaping: a hostile namespace name selects only itself, on a real Prometheus too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from meshdesk.mesh.request import GraphRequest
from meshdesk.sources import promql
from meshdesk.sources.prometheus import PrometheusClient
from meshdesk.sources.telemetry import fetch_samples
from tests.prom_server import PrometheusServer, Series, binaries_missing, istio_edge
from tests.prom_server import Workload as W

HOSTILE = [
    'x"} or vector(1) or {a="',
    "back\\slash",
    'quote"inside',
    "new\nline",
    "carriage\rreturn\ttab",
    "ünïcødé-名前",
    "a|b",
    ".*",
    "(group)[class]{2}^$+?",
    "ctl\x01char",
]
# Decoys a broken escape would match instead of (or as well as) the hostile value.
DECOYS = ["x", "a", "b", "back", "slash", "backslash", "newline", "new", "group", "anything", "quote"]


def test_quote_escapes_backslash_quote_and_controls() -> None:
    assert promql.quote("plain") == '"plain"'
    assert promql.quote('a"b') == '"a\\"b"'
    assert promql.quote("a\\b") == '"a\\\\b"'
    assert promql.quote("a\nb") == '"a\\nb"'
    assert promql.quote("a\x01b") == '"a\\u0001b"'
    assert promql.quote("ünï") == '"ünï"'
    assert "\n" not in promql.quote("x\ny\rz")


def test_regex_escape_and_alternation() -> None:
    assert promql.regex_escape("a.b|c") == "a\\.b\\|c"
    assert promql.regex_escape("plain-name") == "plain-name"
    assert promql.regex_union(["b", "a", "b"]) == "b|a"
    # the regex backslash is doubled once more by the string quoting
    assert promql.regex_alternation(["a.b", "c"]) == '"a\\\\.b|c"'
    with pytest.raises(ValueError):
        promql.regex_union([])


def test_matcher_builders() -> None:
    assert promql.one_of("ns", ["a"]) == 'ns="a"'
    assert promql.one_of("ns", ["a", "b", "a"]) == 'ns=~"a|b"'
    assert promql.ne("app", "ztunnel") == 'app!="ztunnel"'
    assert promql.selector("m", [promql.eq("a", "1")]) == 'm{a="1"}'
    with pytest.raises(ValueError):
        promql.eq('bad"} or {x', "v")
    with pytest.raises(ValueError):
        promql.selector("rate(m)", [])
    with pytest.raises(ValueError):
        promql.one_of("ns", [])


@pytest.fixture(scope="module")
def hostile_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    reason = binaries_missing()
    if reason:
        pytest.skip(reason)
    series: list[Series] = []
    for i, ns in enumerate(HOSTILE + DECOYS):
        series.append(Series("m", {"ns": ns}, float(i + 1)))
        src = W(ns, f"caller-{i}", "caller")
        dst = W(ns, f"callee-{i}", "callee")
        for reporter in ("source", "destination"):
            series.append(Series("istio_requests_total", istio_edge(src, dst, "callee", ns, reporter=reporter), float(i + 1)))
    srv = PrometheusServer(Path(tmp_path_factory.mktemp("hostile")), series)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.prometheus
@pytest.mark.parametrize("value", HOSTILE + DECOYS[:3])
def test_quoted_value_matches_only_itself(hostile_prometheus: PrometheusServer, value: str) -> None:
    client = PrometheusClient(hostile_prometheus.url)
    exact = client.query(promql.selector("m", [promql.eq("ns", value)]))
    assert [s.labels["ns"] for s in exact] == [value]
    via_regex = client.query(f"m{{ns=~{promql.regex_alternation([value])}}}")
    assert [s.labels["ns"] for s in via_regex] == [value]
    negated = client.query(promql.selector("m", [promql.ne("ns", value)]))
    assert len(negated) == len(HOSTILE + DECOYS) - 1


@pytest.mark.prometheus
def test_alternation_of_hostile_values_matches_exactly_those(hostile_prometheus: PrometheusServer) -> None:
    client = PrometheusClient(hostile_prometheus.url)
    result = client.query(promql.selector("m", [promql.one_of("ns", HOSTILE)]))
    assert sorted(s.labels["ns"] for s in result) == sorted(HOSTILE)


@pytest.mark.prometheus
def test_graph_queries_for_hostile_namespaces_return_only_their_traffic(hostile_prometheus: PrometheusServer) -> None:
    client = PrometheusClient(hostile_prometheus.url)
    wanted = (HOSTILE[0], HOSTILE[1], HOSTILE[3], HOSTILE[6])
    request = GraphRequest(namespaces=wanted, queryTime=hostile_prometheus.query_time, rateTcp="none")
    samples, warnings = fetch_samples(client, request)
    assert warnings.total == 0
    seen = {s.labels["source_workload_namespace"] for s in samples if s.metric == "istio_requests_total"}
    assert seen == set(wanted)
    by_ns = {(s.labels["source_workload_namespace"], s.labels["reporter"]): s.value for s in samples}
    everyone = HOSTILE + DECOYS
    for ns in wanted:
        for reporter in ("source", "destination"):
            assert by_ns[(ns, reporter)] == pytest.approx(everyone.index(ns) + 1.0, abs=1e-6)
