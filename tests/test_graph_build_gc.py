"""build() pauses the cyclic garbage collector while it works; the app must get it back as it was,
whatever happens. And the indexing fast path (common series) agrees with the general path."""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections.abc import Iterator

import pytest

from meshdesk.mesh.graph import build
from meshdesk.mesh.telemetry import Sample
from tests.graph_samples import http, snapshot


@pytest.fixture
def restore_gc() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def _shop() -> list[Sample]:
    return [http("productpage-v1", "reviews-v1", 10.0), http("productpage-v1", "reviews-v2", 5.0, "500"),
            http("reviews-v2", "ratings-v1", 5.0), http("productpage-v1", "reviews-v1", 10.0, reporter="source")]


def test_build_gives_the_collector_back_as_it_was(restore_gc: None) -> None:
    gc.enable()
    assert build(snapshot(_shop())).edges
    assert gc.isenabled()
    gc.disable()
    assert build(snapshot(_shop())).edges
    assert not gc.isenabled(), "a build must not turn on a collector the app had turned off"


def test_a_failing_build_gives_the_collector_back(restore_gc: None) -> None:
    gc.enable()
    bad = [*_shop(), Sample("istio_requests_total", dict(_shop()[0].labels), "ten")]  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build(snapshot(bad))
    assert gc.isenabled()


def test_builds_in_several_threads_at_once_leave_the_collector_on(restore_gc: None) -> None:
    gc.enable()
    samples = [http(f"app{i}-v1", f"app{i + 1}-v1", 1.0 + i, code) for i in range(300) for code in ("200", "503")]
    alone = build(snapshot(samples))
    start = threading.Barrier(4)
    results: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(3):
                results.append(build(snapshot(samples)))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(results) == 12
    assert gc.isenabled()
    for g in results:
        assert g.nodes.keys() == alone.nodes.keys()  # type: ignore[attr-defined]
        assert g.edges == alone.edges  # type: ignore[attr-defined]


def test_a_matcher_in_the_reporter_label_gives_the_same_graph() -> None:
    """Recorded query results may say "waypoint|destination": those series take the general path,
    plain "destination" ones the fast path; both must make the same graph."""
    plain = _shop()
    recorded = [dataclasses.replace(s, labels={**s.labels, "reporter": f"waypoint|{s.labels['reporter']}"})
                for s in plain]
    a, b = build(snapshot(plain)), build(snapshot(recorded))
    assert a.edges and a.nodes == b.nodes and a.edges == b.edges
    assert a.warnings == b.warnings == []
