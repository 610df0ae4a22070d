"""Pod logs: the official client against the API emulator's log endpoint, following without
duplicates, the logs view (pods, containers with the sidecar, tail, follow, search) and demo logs."""

from __future__ import annotations

import time

import pytest
from pytestqt.qtbot import QtBot

from meshdesk.mesh.inventory import Container, Pod, Workload
from meshdesk.mesh.request import GraphRequest
from meshdesk.sources.base import NotFound, SourceError
from meshdesk.sources.demo import DemoCluster
from meshdesk.sources.logs import KubePodLogs, LogFollower
from meshdesk.ui.logs_view import LogsView
from tests.kube_emulator import KubeEmulator, kube_emulator_fixture  # noqa: F401 - the fixture

NS, POD = "shop", "reviews-v2-7d9f8-abcde"


def _pod_manifest() -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD, "namespace": NS, "labels": {"app": "reviews"}},
            "spec": {"containers": [{"name": "reviews", "image": "example/reviews:2"},
                                    {"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}]},
            "status": {"phase": "Running"}}


def _workload() -> Workload:
    pod = Pod(POD, NS, labels={"app": "reviews"}, phase="Running",
              containers=[Container("reviews", ready=True), Container("istio-proxy", ready=True)])
    return Workload("reviews-v2", NS, labels={"app": "reviews", "version": "v2"}, pods=[pod], replicas=1)


@pytest.fixture
def emu(kube_emulator: KubeEmulator) -> KubeEmulator:
    kube_emulator.add(_pod_manifest())
    now = time.time()
    kube_emulator.add_pod_log(NS, POD, "reviews", [f"INFO served review {i}" for i in range(50)], at=now - 30)
    kube_emulator.add_pod_log(NS, POD, "istio-proxy", [
        '"GET /reviews/0 HTTP/1.1" 200 - via_upstream', '"GET /reviews/1 HTTP/1.1" 503 UF via_upstream',
        '"GET /reviews/2 HTTP/1.1" 200 - via_upstream', '"GET /reviews/3 HTTP/1.1" 503 UF via_upstream'], at=now - 20)
    return kube_emulator


def test_reads_tail_and_errors_over_the_official_client(emu: KubeEmulator) -> None:
    logs = KubePodLogs(emu.api_client())
    lines = logs.pod_logs(NS, POD, "reviews", tail_lines=5)
    assert [ln.text for ln in lines] == [f"INFO served review {i}" for i in range(45, 50)]
    assert all(ln.timestamp.endswith("Z") and ln.unix > time.time() - 120 for ln in lines)
    proxy = logs.pod_logs(NS, POD, "istio-proxy", tail_lines=100)
    assert len(proxy) == 4 and "503 UF" in proxy[1].text
    with pytest.raises(SourceError) as err:
        logs.pod_logs(NS, POD, "", tail_lines=5)  # two containers: the API wants a name
    assert "container name must be specified" in str(err.value)
    with pytest.raises(NotFound):
        logs.pod_logs(NS, "gone-pod", "reviews")
    assert any(path.endswith(f"/pods/{POD}/log") for _, path in emu.calls)


def test_following_gets_only_new_lines(emu: KubeEmulator) -> None:
    follower = LogFollower(KubePodLogs(emu.api_client()), NS, POD, "reviews", tail_lines=3)
    assert [ln.text for ln in follower.start()] == ["INFO served review 47", "INFO served review 48",
                                                   "INFO served review 49"]
    assert follower.poll() == []
    emu.add_pod_log(NS, POD, "reviews", ["INFO new one", "WARN new two"])
    assert [ln.text for ln in follower.poll()] == ["INFO new one", "WARN new two"]
    assert follower.poll() == []


def test_following_survives_a_clock_behind_the_node(emu: KubeEmulator) -> None:
    # our clock says it is 8 s earlier than the node does: asking for "since the last line by our
    # clock" alone would miss what the node wrote meanwhile
    follower = LogFollower(KubePodLogs(emu.api_client()), NS, POD, "reviews", tail_lines=1,
                           clock=lambda: time.time() - 8)
    assert [ln.text for ln in follower.start()] == ["INFO served review 49"]  # written 30 s ago
    emu.add_pod_log(NS, POD, "reviews", ["INFO between"], at=time.time() - 26)  # 4 s after it, by the node
    emu.add_pod_log(NS, POD, "reviews", ["INFO now"])
    assert [ln.text for ln in follower.poll()] == ["INFO between", "INFO now"]
    assert follower.poll() == []


def _view(qtbot: QtBot, source: object) -> LogsView:
    view = LogsView(source, follow_ms=50)
    qtbot.addWidget(view)
    return view


def test_logs_view_tails_switches_container_follows_and_searches(qtbot: QtBot, emu: KubeEmulator) -> None:
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        view.tail.setValue(10)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        assert view.container.currentText() == "reviews"  # the app container first
        assert [view.container.itemText(i) for i in range(view.container.count())] == ["reviews", "istio-proxy"]
        assert len(view.lines) == 10 and "INFO served review 49" in view.text.toPlainText()
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(1)  # the sidecar
        assert "INFO served" not in view.text.toPlainText() and len(view.lines) == 4
        qtbot.keyClicks(view.search, "503 UF")
        assert view.matches.text() == "2 matches" and view.highlighted() == ["503 UF", "503 UF"]
        assert view.find_next()
        view.follow.setChecked(True)
        emu.add_pod_log(NS, POD, "istio-proxy", ['"GET /reviews/9 HTTP/1.1" 503 UF via_upstream'])
        qtbot.waitUntil(lambda: len(view.lines) == 5, timeout=10000)
        assert view.matches.text() == "3 matches"
        assert view.text.toPlainText().count("/reviews/9") == 1
    finally:
        view.shutdown()


def test_logs_view_keeps_text_when_the_pod_goes(qtbot: QtBot, emu: KubeEmulator) -> None:
    view = _view(qtbot, KubePodLogs(emu.api_client()))
    try:
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(_workload())
        before = view.text.toPlainText()
        emu.delete("pods", NS, POD)
        with qtbot.waitSignal(view.failed, timeout=10000):
            view.follow.setChecked(True)
        view.follow.setChecked(False)
        assert view.text.toPlainText() == before
        assert view.status.text().startswith("Could not read the log:")
    finally:
        view.shutdown()


def test_demo_logs_in_the_view(qtbot: QtBot) -> None:
    demo = DemoCluster(clock=lambda: 1_750_000_000.0)
    snap = demo.snapshot(GraphRequest(namespaces=("shop",)))
    assert snap.inventory is not None
    workload = snap.inventory.workload("shop", "reviews-v3")
    assert workload is not None and workload.pods
    view = _view(qtbot, demo)
    try:
        view.tail.setValue(20)
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.set_workload(workload)
        assert len(view.lines) == 20
        # reviews logs the requests it serves (its callers' operations) and health checks, nothing else
        served = {ln.text.split(" handled ")[1].split(" in ")[0] for ln in view.lines}
        assert served == {"GET /reviews/4", "GET /healthz"}, served
        with qtbot.waitSignal(view.linesLoaded, timeout=10000):
            view.container.setCurrentIndex(view.container.findText("istio-proxy"))
        assert {ln.text.split('"')[1] for ln in view.lines} <= {"GET /reviews/4 HTTP/1.1", "GET /healthz HTTP/1.1"}
        with pytest.raises(NotFound):
            demo.pod_logs("shop", "no-such-pod", "istio-proxy")
    finally:
        view.shutdown()
